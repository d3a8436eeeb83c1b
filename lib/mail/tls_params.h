/*
 * tls_params - Postfix's TLS parameters of one role (smtpd_tls_* or
 * smtp_tls_*, and the tls_* ones both share) applied to a struct tls_ctx.
 *
 * The daemon binds the parameters in its own table (so that its man page
 * check sees them) into a struct tls_params, makes its context with
 * tls_params_server_ctx() or tls_params_client_ctx() and calls
 * tls_params_apply() before the jail.  A value Panacea cannot honour
 * stops the daemon with the parameter's name; a protocol list that would
 * allow versions below TLS 1.2 is accepted, the floor wins, and one
 * warning says so.
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
	const char *ssl_options;	  /* tls_ssl_options */
	const char *auto_curves;	  /* tls_eecdh_auto_curves */
	const char *eecdh_grade;	  /* smtpd_tls_eecdh_grade (server) */
	const char *dh_file;		  /* smtpd_tls_dh1024_param_file */
	const char *chain_files;	  /* *_tls_chain_files */
	const char *cert_file, *key_file; /* *_tls_cert_file, *_tls_key_file */
	const char *eccert_file, *eckey_file; /* *_tls_eccert_file, ... */
	const char *ca_file, *ca_path;	      /* *_tls_CAfile, *_tls_CApath */
	/* Server session tickets: smtpd_tls_session_cache_timeout (seconds),
	 * tls_session_ticket_cipher, and data_directory for the secret. */
	long long cache_timeout;
	const char *ticket_cipher, *data_directory;
	const char *sni_maps; /* tls_server_sni_maps (server) */
};

/* 1 when the parameters name a server certificate (chain files, the RSA
 * or the ECDSA certificate). */
int tls_params_have_cert(const struct tls_params *p);
/* The server's context with its certificates: *_tls_chain_files when set
 * (the single-file parameters are then ignored, with a warning when they
 * are set too), else cert_file/key_file and eccert_file/eckey_file.
 * Fatal on error. */
struct tls_ctx *tls_params_server_ctx(const struct tls_params *p);
/* The client's context: trust anchors (ca_file, ca_path, else the
 * system's) and the client certificate, if any, as for a server.  Fatal
 * on error. */
struct tls_ctx *tls_params_client_ctx(const struct tls_params *p);

/*
 * Server (client 0): the mandatory set when mandatory is 1 (level
 * encrypt), the opportunistic one otherwise.  Client (client 1): both,
 * the mandatory set for sessions at encrypt and above.  Also
 * tls_ssl_options and the curves (and, server side, the EECDH grade, the
 * DH parameters, the session tickets and the SNI tables).  Fatal on
 * error.
 */
void tls_params_apply(struct tls_ctx *ctx, const struct tls_params *p,
		      int client, int mandatory);

/* tls_sni.c: tls_server_sni_maps on a server context (the tables opened
 * and the chain files they name loaded now); fatal on error. */
void tls_sni_init(struct tls_ctx *ctx, const char *spec);

#endif
