/*
 * auth_client - the client side of the auth service (private/auth,
 * auth/, lib/mail/auth_proto.h), for smtpd AUTH and the pop3d front, and
 * auth_redeem() for the root pop3d session service.
 *
 * Passwords are checked only inside the auth service: a client forwards
 * the SASL exchange (raw bytes; base64 is the caller's job, as with
 * sasl_auth.h) and learns only the outcome and the authenticated name.
 *
 * Contract:
 *  - auth_client_connect() connects to the service's socket; every
 *    request waits at most timeout_ms for its reply.  NULL with err set
 *    when the service cannot be reached;
 *  - auth_client_mechs() must come first: it sets the session's
 *    parameters (service "smtp" or "pop", addresses, whether plaintext
 *    mechanisms and USER/PASS are allowed, the TLS cipher bits) and gives
 *    the mechanisms the client may offer, maybe none ("": APOP still
 *    works): 0, or -1 with err set when the service cannot be reached or
 *    refuses the session;
 *  - start/step run one exchange as sasl_auth_server_start/step do
 *    (resp NULL: no initial response; challenge replaced; reason appended
 *    to on failure, for the log only); checkpass and apop are one-step
 *    exchanges.  With want_ticket, an SASL_AUTH_OK also carries a ticket
 *    (auth_client_ticket()) that the root session service redeems;
 *  - a dead or unreachable service, a malformed reply or a timeout is
 *    SASL_AUTH_TEMPFAIL (reason says why).  Before an exchange starts
 *    (start, checkpass, apop) a broken connection is made again once,
 *    with the same parameters, so that a service restart or its idle
 *    timeout between two exchanges costs nothing; in the middle of an
 *    exchange it is a TEMPFAIL and the exchange is over;
 *  - auth_client_cancel() throws away the exchange in progress (client
 *    "*", RSET, a failure the client saw first); the service disposes of
 *    libsasl2's state (CVE-2011-1720);
 *  - auth_client_username() is the authenticated name after SASL_AUTH_OK
 *    (else NULL); auth_client_attempted_user() the name the client gave
 *    in its last exchange, whatever the outcome (PLAIN's authentication
 *    identity, LOGIN's first answer, CRAM-MD5's name, checkpass and
 *    apop's user; non-printable bytes as '?'; NULL when unknown), for
 *    the failure logs; auth_client_ticket() its ticket when one was asked for;
 *  - two back ends behind this one interface: auth_client_connect() is
 *    Panacea's auth service (attribute lists, auth_proto.h: every
 *    request above); auth_client_open(AUTH_CLIENT_DOVECOT, ...) is
 *    Dovecot's auth server (smtpd_sasl_type = dovecot, auth_dovecot.h):
 *    SASL exchanges, and checkpass as PLAIN; no apop (NOMECH) and no
 *    tickets (TEMPFAIL when one is asked for);
 *  - the mechanisms either back end gives are filtered the same way:
 *    no plaintext one unless allow_plaintext, none with a property
 *    sec_forbid names or without one sec_require names (Postfix's
 *    smtpd_sasl_security_options, dovecot_security_parse(); Dovecot
 *    says each mechanism's properties, the names of Panacea's are
 *    known);
 *  - auth_redeem() (root side: the pop3d session service) trades a
 *    ticket for the user and the client and server addresses it was
 *    issued for (the server's "" when the front did not give it): 0,
 *    or -1 with err set (unknown, used or expired ticket, a ticket of a
 *    login whose service was not "pop", or the service unreachable).
 *    The ticket is used up either way.
 */
#ifndef PANACEA_AUTH_CLIENT_H
#define PANACEA_AUTH_CLIENT_H

#include <stddef.h>

#include "buf.h"
#include "sasl_auth.h"

struct auth_client_params {
	const char *service; /* "smtp" or "pop" */
	const char *client_address, *client_port;
	const char *server_address, *server_port; /* NULL: unknown */
	int allow_plaintext;
	unsigned external_ssf;
	int secured;			  /* TLS: Dovecot's "secured" */
	unsigned sec_forbid, sec_require; /* DOVECOT_MECH_* bits */
};

enum auth_client_type {
	AUTH_CLIENT_PANACEA, /* auth(8), private/auth */
	AUTH_CLIENT_DOVECOT, /* Dovecot's auth-client socket */
};

struct auth_client;

struct auth_client *auth_client_connect(const char *path, int timeout_ms,
					struct buf *err);
/* path: a UNIX-domain socket, or (Dovecot) "inet:host:port". */
struct auth_client *auth_client_open(enum auth_client_type type,
				     const char *path, int timeout_ms,
				     struct buf *err);
void auth_client_free(struct auth_client *c);
int auth_client_mechs(struct auth_client *c, const struct auth_client_params *p,
		      struct buf *mechs, struct buf *err);
/* 1 when mech (any case) is in the list auth_client_mechs() gave. */
int auth_client_has_mech(struct auth_client *c, const char *mech);
enum sasl_auth_result auth_client_start(struct auth_client *c, const char *mech,
					const void *resp, size_t resp_len,
					int want_ticket, struct buf *challenge,
					struct buf *reason);
enum sasl_auth_result auth_client_step(struct auth_client *c, const void *resp,
				       size_t resp_len, struct buf *challenge,
				       struct buf *reason);
enum sasl_auth_result auth_client_checkpass(struct auth_client *c,
					    const char *user,
					    const char *password,
					    int want_ticket,
					    struct buf *reason);
enum sasl_auth_result auth_client_apop(struct auth_client *c, const char *user,
				       const char *timestamp,
				       const char *digest, int want_ticket,
				       struct buf *reason);
void auth_client_cancel(struct auth_client *c);
const char *auth_client_username(const struct auth_client *c);
const char *auth_client_attempted_user(const struct auth_client *c);
const char *auth_client_ticket(const struct auth_client *c);

int auth_redeem(const char *path, const char *ticket, int timeout_ms,
		struct buf *user, struct buf *client_address,
		struct buf *server_address, struct buf *err);

#endif
