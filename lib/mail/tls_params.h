/*
 * tls_params - Postfix's TLS parameters of one role (smtpd_tls_* or
 * smtp_tls_*, and the tls_* ones both share) applied to a struct tls_ctx.
 *
 * The daemon binds the parameters into a struct tls_params with one
 * TLS_PARAMS_BIND row in its own table, makes its context with
 * tls_params_server_ctx() or tls_params_client_ctx() and calls
 * tls_params_apply() before the jail.  A value Panacea cannot honour
 * stops the daemon with the parameter's name; a protocol list that would
 * allow versions below TLS 1.2 is accepted, the floor wins, and one
 * warning says so.
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
