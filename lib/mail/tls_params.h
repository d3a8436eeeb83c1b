/*
 * tls_params - Postfix's protocol and cipher parameters of one TLS role
 * (smtpd_tls_* or smtp_tls_*) applied to a struct tls_ctx.
 *
 * The daemon binds the parameters in its own table (so that its man page
 * check sees them) into a struct tls_params and calls tls_params_apply()
 * before the jail.  A value Panacea cannot honour stops the daemon with
 * the parameter's name; a protocol list that would allow versions below
 * TLS 1.2 is accepted, the floor wins, and one warning says so.
 */
#ifndef PANACEA_TLS_PARAMS_H
#define PANACEA_TLS_PARAMS_H

#include "tls.h"

struct tls_params {
	const char *prefix; /* "smtpd" or "smtp": for messages */
	const char *protocols, *mandatory_protocols;
	const char *ciphers, *mandatory_ciphers;
	const char *exclude_ciphers, *mandatory_exclude_ciphers;
	const char *high, *medium, *null; /* tls_*_cipherlist */
};

/*
 * Server (client 0): the mandatory set when mandatory is 1 (level
 * encrypt), the opportunistic one otherwise.  Client (client 1): both,
 * the mandatory set for sessions at encrypt and above.  Fatal on error.
 */
void tls_params_apply(struct tls_ctx *ctx, const struct tls_params *p,
		      int client, int mandatory);

#endif
