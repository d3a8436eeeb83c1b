/*
 * pop3d - the POP3 front: what its modules share.
 *
 *   pop3d.c        main, configuration, the session before login:
 *                  greeting, command loop, logs
 *   pop3d_auth.c   AUTHORIZATION state: CAPA, STLS, USER/PASS, APOP,
 *                  AUTH (SASL) through the auth service, failures and
 *                  their delay and limit
 *   pop3d_relay.c  after login: the hand-off to private/pop3session and
 *                  the relay of bytes between the client and the session
 *
 * Privileges.  pop3d is the only program of the POP3 server that reads a
 * client's bytes: it runs as mail_owner, chrooted when its services line
 * says so (it refuses to run as root), one connection a process.  It
 * loads the TLS certificate and key before the drop and terminates TLS
 * for the whole session.  It holds no password and checks none: the auth
 * service (private/auth, lib/auth_client.h) does, and hands it a ticket
 * for each login.  With the ticket, pop3session (root, pop3session/)
 * opens the user's maildrop in a process of the mailbox owner and serves
 * it: on the client's own socket, which pop3d passes and forgets, when
 * no TLS is on; over a socketpair that pop3d relays when TLS is (its
 * state stays here).  A pop3d taken over by a client can therefore log
 * in only as a user whose credentials it was given.
 */
#ifndef PANACEA_POP3D_H
#define PANACEA_POP3D_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "auth_client.h"
#include "buf.h"
#include "cidr.h"
#include "pop3_cmd.h"
#include "stream.h"
#include "tls.h"

struct pop3d_config {
	char *myhostname;
	struct tls_ctx *tls; /* NULL: no STLS, no POP3S */
	int wrappermode;
	int apop;
	int timeout_ms;
	int fail_delay; /* seconds */
	int fail_limit;
	int login_delay; /* seconds; 0: not set (CAPA only) */
	int peername_lookup;
	struct cidr_list plain_nets;
};

extern struct pop3d_config pop3d_cfg;

struct pop3d_session {
	int fd;
	struct stream s;
	char client_addr[64];
	char client_name[256]; /* peer_name.h; "unknown" without one */
	char client_port[8];
	char server_addr[64];
	char server_port[8];
	struct sockaddr_storage peer;
	int tls_on;
	struct tls_info tls_info;
	struct auth_client *auth; /* NULL: not connected (yet) */
	int auth_tls;		  /* tls_on when the mechanisms were asked */
	struct buf mechs;	  /* what the auth service offers now */
	char apop_stamp[128];	  /* "" when APOP is off */
	char *user_arg;		  /* name given by USER */
	int failures;
	/* For the Dovecot-shaped line at the end (pop3d.c, pop3d_end_log). */
	char tried_user[256]; /* the last name a client tried, printable */
	char tried_method[32];
	long long started_ms;	/* monotonic */
	const char *end_reason; /* "Aborted login", "Disconnected: ..." */
	int logged_in;
	int handed_off; /* pop3session has the client's socket itself */
	struct pop3_cmd cmd;
	struct buf line;
	enum pop3_state state;
	int quit; /* end the session */
};

/* pop3d.c */
void pop3d_reply(struct pop3d_session *ss, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* One line from the client, at most max bytes: 1, or 0 when the session
 * must end (end of file, timeout, error: logged and answered). */
int pop3d_getline(struct pop3d_session *ss, size_t max);
/* Printable ASCII copy of a client-given string for the log. */
void pop3d_printable(char *dst, size_t size, const char *src);
int pop3d_plain_allowed(const struct pop3d_session *ss);
/* Dovecot's name of a login method: USER/PASS is PLAIN. */
const char *pop3d_method_name(const char *method);

/* pop3d_auth.c */
void pop3d_auth_session_end(struct pop3d_session *ss);
void pop3d_auth_command(struct pop3d_session *ss);

/* pop3d_relay.c: called once the auth service accepted a login with a
 * ticket (method for the log).  Hands the session to pop3session: the
 * client's socket itself without TLS (ss->handed_off set: the front
 * must not use ss->fd again), else a socketpair that it relays to the
 * session's end; ss->quit is set on return. */
void pop3d_login(struct pop3d_session *ss, const char *ticket,
		 const char *method);

#endif
