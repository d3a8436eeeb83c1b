/*
 * auth - the authentication service (private/auth): the one process that
 * reads the sasldb and checks passwords (DESIGN.md "Privileges and
 * chroot", rules 3 and 5; notes in man/auth.8).
 *
 * auth.c          main: set-up as root, the drop to auth_owner, the peer
 *                 check, connections in the event loop (bounded in
 *                 number, bytes and idle time)
 * auth_session.c  one connection's requests: mechs, the SASL exchange,
 *                 checkpass, apop, cancel, redeem
 * auth_ticket.c   tickets: what a successful login leaves for the root
 *                 session service to redeem, once, within a lifetime
 * auth_dovecot_server.c  the same requests in Dovecot's authentication
 *                 protocol (a connection that does not start with a
 *                 digit), for smtpd_sasl_type = dovecot and other
 *                 Dovecot clients
 *
 * Bounds (compiled in; each with its reason):
 *  AUTH_CONN_MAX       connections at once.  Each is one smtpd or pop3d
 *                      front session with AUTH on; master's
 *                      default_process_limit (100) per service, and a
 *                      handful of such services, stay far below it, and
 *                      it keeps the process well inside 1024 descriptors.
 *  AUTH_IDLE_MS        a connection with no request for this long is
 *                      closed: longer than smtpd_timeout and pop3d_timeout
 *                      (a client is waiting for its user's next line
 *                      in the middle of an exchange), and the client
 *                      library reconnects by itself between exchanges.
 *  AUTH_TICKET_MAX     tickets alive at once: each lives
 *                      auth_ticket_lifetime (60 s) at most and is made only
 *                      after a successful login.
 *  AUTH_PROTO_LIST_MAX the largest request (auth_proto.h).
 */
#ifndef PANACEA_AUTH_AUTH_H
#define PANACEA_AUTH_AUTH_H

#include "attr.h"
#include "auth_proto.h"
#include "buf.h"

#define AUTH_CONN_MAX 512
#define AUTH_IDLE_MS (900 * 1000)
#define AUTH_TICKET_MAX 1024

/* What a peer may ask for, from its uid (auth.c). */
enum auth_role {
	AUTH_ROLE_EXCHANGE = 1, /* mail_owner: smtpd, pop3d front */
	AUTH_ROLE_REDEEM = 2,	/* root: pop3d session service */
	AUTH_ROLE_ALL = 3,	/* one uid for everything (unprivileged) */
};

/* Set once before the loop. */
struct auth_config {
	const char *myhostname; /* server FQDN, the sasldb's default realm */
	const char *sasldb_path;
};
extern struct auth_config auth_cfg;

/* auth_session.c */
struct auth_session;
struct auth_session *auth_session_new(enum auth_role role, long peer_pid,
				      long peer_uid);
void auth_session_free(struct auth_session *s);
/* Answers one request; out gets the reply list. */
void auth_session_request(struct auth_session *s, const struct attr_list *in,
			  struct attr_list *out);

/* auth_dovecot_server.c: a connection that speaks Dovecot's protocol. */
struct auth_dovecot_conn {
	int versioned;	  /* the client's VERSION came */
	unsigned long id; /* the exchange in progress, 0: none */
};
/* event_conn's request callback for such a connection (event_conn.h):
 * answers whole lines of in until one has a reply in out; -1: close. */
int auth_dovecot_request(struct auth_session *s, struct auth_dovecot_conn *d,
			 struct buf *in, struct buf *out);

/* auth_ticket.c */
void auth_ticket_init(long long lifetime_ms);
/* 0 and the ticket in out, or -1 (table full, no randomness). */
int auth_ticket_issue(const char *user, const char *service,
		      const char *client_address, const char *server_address,
		      char out[AUTH_PROTO_TICKET_LEN + 1]);
/* 0 and the ticket's fields (the ticket is gone), or -1: unknown, used
 * or expired. */
int auth_ticket_redeem(const char *ticket, struct buf *user,
		       struct buf *service, struct buf *client_address,
		       struct buf *server_address);

#endif
