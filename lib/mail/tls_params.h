/*
 * tls_params - Postfix's protocol and cipher parameters of one TLS role
 * (smtpd_tls_* or smtp_tls_*) applied to a struct tls_ctx.
 *
 * The daemon binds the parameters into a struct tls_params with one
 * TLS_PARAMS_BIND row in its own table and calls tls_params_apply()
 * before the jail.  A value Panacea cannot honour stops the daemon with
 * the parameter's name; a protocol list that would allow versions below
 * TLS 1.2 is accepted, the floor wins, and one warning says so.
 */
#ifndef PANACEA_TLS_PARAMS_H
#define PANACEA_TLS_PARAMS_H

#include "conf.h"
#include "tls.h"

struct tls_params {
	const char *prefix; /* "smtpd" or "smtp": for messages */
	const char *protocols, *mandatory_protocols;
	const char *ciphers, *mandatory_ciphers;
	const char *exclude_ciphers, *mandatory_exclude_ciphers;
	const char *high, *medium, *null; /* tls_*_cipherlist */
};

/*
 * The conf_bind rows of one role's parameters (ROLE_tls_protocols, ...,
 * and the shared tls_*_cipherlist) bound into the struct tls_params at
 * tp; role is a string literal, "smtpd" or "smtp".  One list for every
 * role, so a parameter added here is read by each daemon that speaks
 * TLS.  scripts/conf_macros.py expands a call the same way for
 * check_params.py and check_man.py: keep each row of the form
 * CONF_BIND_X(role "_suffix", ...) or CONF_BIND_X("name", ...).
 */
#define TLS_PARAMS_BIND(role, tp)                                              \
	CONF_BIND_STR(role "_tls_protocols", &(tp)->protocols),                \
	    CONF_BIND_STR(role "_tls_mandatory_protocols",                     \
			  &(tp)->mandatory_protocols),                         \
	    CONF_BIND_STR(role "_tls_ciphers", &(tp)->ciphers),                \
	    CONF_BIND_STR(role "_tls_mandatory_ciphers",                       \
			  &(tp)->mandatory_ciphers),                           \
	    CONF_BIND_STR(role "_tls_exclude_ciphers",                         \
			  &(tp)->exclude_ciphers),                             \
	    CONF_BIND_STR(role "_tls_mandatory_exclude_ciphers",               \
			  &(tp)->mandatory_exclude_ciphers),                   \
	    CONF_BIND_STR("tls_high_cipherlist", &(tp)->high),                 \
	    CONF_BIND_STR("tls_medium_cipherlist", &(tp)->medium),             \
	    CONF_BIND_STR("tls_null_cipherlist", &(tp)->null)

/*
 * Server (client 0): the mandatory set when mandatory is 1 (level
 * encrypt), the opportunistic one otherwise.  Client (client 1): both,
 * the mandatory set for sessions at encrypt and above.  Fatal on error.
 */
void tls_params_apply(struct tls_ctx *ctx, const struct tls_params *p,
		      int client, int mandatory);

#endif
