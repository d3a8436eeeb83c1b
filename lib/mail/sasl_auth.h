/*
 * sasl_auth - SASL authentication with libsasl2 (Cyrus SASL), server side
 * (smtpd AUTH, pop3d AUTH/USER+PASS) and client side (smtp AUTH to relay
 * hosts).
 *
 * Wire encoding is the caller's job: challenges and responses here are
 * raw bytes; base64.h converts them for SMTP (RFC 4954) and POP3
 * (RFC 5034).  The caller also bounds the length of the lines it reads.
 *
 * Server side:
 *  - sasl_auth_server_init() once per process, before chroot: it loads the
 *    plugins and makes libsasl2 check passwords with the auxprop method
 *    against the sasldb at sasldb_path (app name "panacea"; the options
 *    given here win over any /etc/sasl2/panacea.conf).  libsasl2 opens the
 *    sasldb at each password check, so after chroot the path must name
 *    the database as seen from inside the jail:
 *    sasl_auth_server_set_dbpath() changes it;
 *    Passwords are checked in one process only, the auth service
 *    (auth/); the mode that copied the whole sasldb into a chrooted
 *    smtpd is gone (cfg->preload must be 0: init fails otherwise; the
 *    field goes once pop3d no longer sets it).  Calling init again
 *    changes the path and mechanism list;
 *  - one struct sasl_auth_server per client connection;
 *    sasl_auth_server_mechs() lists what may be offered; anonymous
 *    mechanisms never are, and plaintext ones (PLAIN, LOGIN) only when
 *    params.allow_plaintext is set (TLS active, or loopback; note that
 *    libsasl2 also allows them whenever external_ssf > 1);
 *  - sasl_auth_server_start() and sasl_auth_server_step() run one exchange:
 *    SASL_AUTH_CONTINUE (send the challenge, call step with the answer),
 *    SASL_AUTH_OK (sasl_auth_server_username() is the authenticated name),
 *    or a failure (reason set for the log, never for the client);
 *  - CVE-2011-1720: after any failure, and on sasl_auth_server_reset()
 *    (the client's "*" cancel, RSET, a new exchange), the libsasl2
 *    connection is disposed of; the next exchange gets a new one.  No
 *    state of a failed or aborted exchange is ever reused;
 *  - libsasl2 has no security layer here (max_ssf 0): after AUTH the
 *    stream stays as it was (TLS or plain);
 *  - the authenticated name is given without the default realm (user_realm,
 *    or server_fqdn when that is NULL: the realm of "saslpasswd2 -u
 *    $myhostname"), so that "alice" and "alice@$myhostname" both log in
 *    as "alice"; a user of another realm is "name@realm";
 *  - an authenticated name is at most SASL_AUTH_NAME_MAX bytes with no
 *    control characters, or the exchange fails;
 *  - proxy authorization (PLAIN with an authzid other than the authcid)
 *    is refused (libsasl2's default policy).
 *
 * Client side: sasl_auth_client_new() with the user name and password
 * (copied; the password is wiped on free), sasl_auth_client_start() with
 * the server's mechanism list picks a mechanism and may give an initial
 * response, sasl_auth_client_step() answers each challenge.  Plaintext
 * mechanisms are used only when allow_plaintext is set (TLS active).
 *
 * Log lines from libsasl2 go through msg.h.
 */
#ifndef PANACEA_SASL_AUTH_H
#define PANACEA_SASL_AUTH_H

#include <stddef.h>

#include "buf.h"

#define SASL_AUTH_NAME_MAX 255

enum sasl_auth_result {
	SASL_AUTH_CONTINUE = 1,	 /* challenge to send, exchange goes on */
	SASL_AUTH_OK = 0,	 /* authenticated */
	SASL_AUTH_FAIL = -1,	 /* bad credentials or a protocol error */
	SASL_AUTH_NOMECH = -2,	 /* mechanism unknown or not allowed now */
	SASL_AUTH_TEMPFAIL = -3, /* try later: database, memory, ... */
};

struct sasl_auth_server_config {
	const char *sasldb_path; /* required */
	const char *mech_list;	 /* "PLAIN LOGIN ..."; NULL/"": all plugins */
	int preload;		 /* must be 0 (see above) */
};

struct sasl_auth_server_params {
	const char *service;	 /* "smtp" or "pop" */
	const char *server_fqdn; /* $myhostname */
	const char *user_realm;	 /* default realm; NULL: server_fqdn */
	const char *local_addr;	 /* "IP;PORT" or NULL */
	const char *remote_addr; /* "IP;PORT" or NULL */
	int allow_plaintext;	 /* offer PLAIN/LOGIN */
	unsigned external_ssf;	 /* TLS cipher bits, 0 without TLS */
};

struct sasl_auth_server;
struct sasl_auth_client;

/* 0, or -1 with err set. */
int sasl_auth_server_init(const struct sasl_auth_server_config *cfg,
			  struct buf *err);
void sasl_auth_server_set_dbpath(const char *path);
/* Releases libsasl2's plugins, server and client side (at exit; every
 * session must be freed first). */
void sasl_auth_done(void);

/* NULL with err set when libsasl2 refuses the parameters. */
struct sasl_auth_server *
sasl_auth_server_new(const struct sasl_auth_server_params *params,
		     struct buf *err);
void sasl_auth_server_free(struct sasl_auth_server *srv);
/* Sets out to the space-separated mechanism list; -1 when empty or on
 * error (err set). */
int sasl_auth_server_mechs(struct sasl_auth_server *srv, struct buf *out,
			   struct buf *err);
/* 1 when mech is in the list sasl_auth_server_mechs() gives. */
int sasl_auth_server_has_mech(struct sasl_auth_server *srv, const char *mech);
/* resp NULL: no initial response; an empty initial response is resp with
 * resp_len 0.  challenge is replaced (resp may point into it); reason is
 * appended to on failure. */
enum sasl_auth_result sasl_auth_server_start(struct sasl_auth_server *srv,
					     const char *mech, const void *resp,
					     size_t resp_len,
					     struct buf *challenge,
					     struct buf *reason);
enum sasl_auth_result sasl_auth_server_step(struct sasl_auth_server *srv,
					    const void *resp, size_t resp_len,
					    struct buf *challenge,
					    struct buf *reason);
/* A plain user name + password check outside any mechanism (POP3
 * USER/PASS, RFC 1939), with the same password check and sasldb as the
 * mechanisms; SASL_AUTH_OK or a failure, as a one-step exchange.  The
 * caller allows it only where plaintext passwords are allowed. */
enum sasl_auth_result sasl_auth_server_checkpass(struct sasl_auth_server *srv,
						 const char *user,
						 const char *password,
						 struct buf *reason);
/* Aborts an exchange in progress (or forgets a finished one). */
void sasl_auth_server_reset(struct sasl_auth_server *srv);
/* The authenticated name after SASL_AUTH_OK, else NULL. */
const char *sasl_auth_server_username(const struct sasl_auth_server *srv);
/* The mechanism of the exchange in progress or done, else NULL. */
const char *sasl_auth_server_mech(const struct sasl_auth_server *srv);

/* Client side.  server_host is the name of the server (some mechanisms
 * use it).  NULL with err set on failure. */
struct sasl_auth_client *
sasl_auth_client_new(const char *service, const char *server_host,
		     const char *username, const char *password,
		     int allow_plaintext, struct buf *err);
void sasl_auth_client_free(struct sasl_auth_client *cli);
/* mechs: the server's list ("PLAIN LOGIN ..."); on SASL_AUTH_CONTINUE or
 * SASL_AUTH_OK, *mech is the chosen mechanism and *has_initial says
 * whether initial (possibly empty) is to be sent with it. */
enum sasl_auth_result
sasl_auth_client_start(struct sasl_auth_client *cli, const char *mechs,
		       const char **mech, struct buf *initial, int *has_initial,
		       struct buf *reason);
/* response is replaced with the answer to challenge, to be sent on
 * SASL_AUTH_CONTINUE and also on SASL_AUTH_OK (the client is satisfied,
 * e.g. it checked the server's proof; the server still waits for this
 * last, often empty, response before it answers). */
enum sasl_auth_result sasl_auth_client_step(struct sasl_auth_client *cli,
					    const void *challenge,
					    size_t challenge_len,
					    struct buf *response,
					    struct buf *reason);

#endif
