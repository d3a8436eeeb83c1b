/*
 * auth - the authentication service (private/auth).  Contract and
 * protocol: lib/auth_proto.h, lib/auth_client.h; bounds and files: auth.h;
 * the administrator's view: man/auth.8.
 *
 * Why a service: smtpd and the pop3d front face the Internet and run as
 * mail_owner; with the passwords in their memory (or the sasldb readable
 * by them) one hole in either gives away every mail user's password.
 * Here the sasldb is read by one small process, under its own account
 * (auth_owner), that parses nothing but attribute lists from local peers
 * it knows by uid (SO_PEERCRED): mail_owner may run exchanges, root may
 * only redeem tickets, anyone else is refused (DESIGN.md rule 5).
 *
 * Start-up: master starts it as root, unjailed, one process
 * (services: auth unix - n n - 1 auth).  As root it loads libsasl2's
 * plugins, looks up mail_owner and auth_owner, then drops for good to
 * auth_owner with auth_owner's supplementary groups (initgroups: membership
 * of the group that owns the sasldb, e.g. Debian's "sasl", is how it reads
 * a 0640 sasldb) and checks that the sasldb is readable.  Run as an
 * ordinary user (the development instance), nothing is dropped and every
 * peer of that same uid may do everything.
 *
 * Serving: one process, every connection in lib/events.c's loop, never
 * blocking on a peer: each connection has an input buffer bounded by
 * AUTH_PROTO_LIST_MAX, is answered one request at a time (the next
 * request is read only once the reply is written), and is closed after
 * AUTH_IDLE_MS without a request, on a malformed list, or at end of file.
 * It is long-lived (tickets live in its memory): no idle or max_use exit.
 * It tells master it is busy while it has connections, so that master
 * counts it as used: a process that served and then died (a crash, a
 * kill) is started again at the next connection, not throttled as a
 * program that cannot start.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "conf.h"
#include "daemon.h"
#include "event_conn.h"
#include "events.h"
#include "msg.h"
#include "priv.h"
#include "sasl_auth.h"
#include "sock.h"
#include "xalloc.h"

struct conn {
	struct event_conn *ec;
	unsigned long idle_timer;
	struct auth_session *session;
	int dovecot; /* -1 not known yet, 0 attribute lists, 1 Dovecot's */
	struct auth_dovecot_conn dv;
};

static int started_as_root;
static const char *auth_owner;
static const char *mail_owner;
static long long ticket_lifetime;
static uid_t mail_owner_uid;
static uid_t own_uid; /* unprivileged: the one uid of the instance */
static int nconns;

/* --- set-up ---------------------------------------------------------- */

/* Every parameter auth reads (conf.h, conf_bind). */
static const struct conf_bind auth_params[] = {
    CONF_BIND_STR("myhostname", &auth_cfg.myhostname),
    CONF_BIND_STR("sasldb_path", &auth_cfg.sasldb_path),
    CONF_BIND_STR("auth_owner", &auth_owner),
    CONF_BIND_STR("mail_owner", &mail_owner),
    CONF_BIND_TIME("auth_ticket_lifetime", &ticket_lifetime),
    CONF_BIND_END,
};

static void
auth_pre_jail(void)
{
	struct sasl_auth_server_config cfg = {
	    .mech_list = NULL, /* every plugin's; libsasl2 reads the sasldb
				* at each check */
	};
	struct buf err = BUF_INIT;
	const char *owner;
	uid_t auth_uid;
	gid_t gid;

	owner = auth_owner;
	cfg.sasldb_path = auth_cfg.sasldb_path;
	auth_ticket_init(ticket_lifetime * 1000);
	started_as_root = priv_is_root();
	if (started_as_root) {
		if (priv_lookup_user(mail_owner, &mail_owner_uid, &gid, &err) <
		    0)
			msg_fatal("mail_owner: %s", buf_cstr(&err));
		if (priv_lookup_user(owner, &auth_uid, &gid, &err) < 0)
			msg_fatal("auth_owner: %s (make install and make run "
				  "create it)",
				  buf_cstr(&err));
		if (auth_uid == 0 || auth_uid == mail_owner_uid)
			msg_fatal(
			    "auth_owner %s must be an account of its own, "
			    "neither root nor mail_owner",
			    owner);
	}
	if (sasl_auth_server_init(&cfg, &err) < 0)
		msg_fatal("%s", buf_cstr(&err));
	buf_free(&err);
}

static void
auth_post_jail(void)
{
	const char *path = auth_cfg.sasldb_path;

	if (*daemon_queue_dir() == '\0')
		msg_fatal("the auth service must not be chrooted (services: "
			  "chroot n): it reads %s",
			  path);
	/* Once and for all, with auth_owner's groups. */
	priv_drop_user_groups(auth_owner);
	own_uid = getuid();
	if (access(path, R_OK) == 0)
		return;
	if (errno == ENOENT)
		msg_warn("sasldb_path %s does not exist: no mail user can log "
			 "in until saslpasswd2 makes it",
			 path);
	else
		msg_warn("sasldb_path %s is not readable by %s: %m (make it "
			 "root:GROUP mode 0640, GROUP a group of %s)",
			 path, auth_owner, auth_owner);
}

/* --- connections ----------------------------------------------------- */

/* Before lib/event_conn closes the connection (it wipes the input). */
static void
conn_closed(struct event_conn *ec)
{
	struct conn *c = event_conn_ctx(ec);

	if (c->idle_timer != 0)
		event_timer_cancel(c->idle_timer);
	auth_session_free(c->session);
	xfree(c);
	if (--nconns == 0)
		daemon_report_idle();
}

static void
conn_idle(void *ctx)
{
	struct conn *c = ctx;

	c->idle_timer = 0;
	if (msg_verbose)
		msg_info("connection idle for %d s: closed",
			 AUTH_IDLE_MS / 1000);
	event_conn_close(c->ec);
}

static void
conn_active(struct event_conn *ec)
{
	struct conn *c = event_conn_ctx(ec);

	if (c->idle_timer != 0)
		event_timer_cancel(c->idle_timer);
	c->idle_timer = event_timer_add(AUTH_IDLE_MS, conn_idle, c);
}

static void
wipe_list(struct attr_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		explicit_bzero(l->items[i].value, l->items[i].len);
	attr_list_free(l);
}

/* Answers the request at the start of the input, if it is whole;
 * -1 when the connection must close. */
static int
conn_request(struct event_conn *ec, struct buf *inbuf, struct buf *outbuf)
{
	struct conn *c = event_conn_ctx(ec);
	struct attr_list in = ATTR_LIST_INIT, out = ATTR_LIST_INIT;
	size_t used = 0;
	int rc;

	/* An attribute list starts with its length; Dovecot's protocol
	 * with its VERSION line. */
	if (c->dovecot < 0 && inbuf->len > 0)
		c->dovecot = !(inbuf->data[0] >= '0' && inbuf->data[0] <= '9');
	if (c->dovecot > 0)
		return auth_dovecot_request(c->session, &c->dv, inbuf, outbuf);
	rc = event_conn_attr_request(inbuf, AUTH_PROTO_LIST_MAX, &in, &used);
	if (rc <= 0) {
		wipe_list(&in);
		return rc;
	}
	auth_session_request(c->session, &in, &out);
	attr_encode(&out, outbuf);
	wipe_list(&in);
	attr_list_free(&out);
	buf_consume(inbuf, used); /* lib/event_conn wipes what is left */
	return 0;
}

static const struct event_conn_ops conn_ops = {
    .request = conn_request,
    .active = conn_active,
    .closed = conn_closed,
};

/* The peer's role from its uid, or 0: refused. */
static enum auth_role
peer_role(uid_t uid)
{
	if (uid == 0)
		return AUTH_ROLE_REDEEM;
	if (started_as_root)
		return uid == mail_owner_uid ? AUTH_ROLE_EXCHANGE : 0;
	return uid == own_uid ? AUTH_ROLE_ALL : 0;
}

static void
auth_serve(int fd)
{
	struct conn *c;
	pid_t pid = 0;
	uid_t uid;
	gid_t gid;
	enum auth_role role;

	if (sock_peer_cred(fd, &pid, &uid, &gid) < 0) {
		msg_warn("cannot get the peer's credentials: %m");
		close(fd);
		return;
	}
	role = peer_role(uid);
	if (role == 0) {
		msg_warn("connection from pid %ld uid %ld refused: only root "
			 "and mail_owner may use this service",
			 (long)pid, (long)uid);
		close(fd);
		return;
	}
	if (nconns >= AUTH_CONN_MAX) {
		msg_warn("%d connections already: connection from pid %ld "
			 "closed",
			 AUTH_CONN_MAX, (long)pid);
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->dovecot = -1;
	c->session = auth_session_new(role, (long)pid, (long)uid);
	if (nconns++ == 0)
		daemon_report_busy();
	/* What a peer sends may hold a password: wiped once used. */
	c->ec = event_conn_new(fd, &conn_ops, c, 1);
}

static void
auth_pre_exit(void)
{
	sasl_auth_done();
}

int
main(int argc, char **argv)
{
	static const struct daemon_ops ops = {
	    .mode = DAEMON_EVENT,
	    .flags = DAEMON_FLAG_NO_IDLE_EXIT | DAEMON_FLAG_KEEP_ROOT,
	    .params = auth_params,
	    .pre_jail = auth_pre_jail,
	    .post_jail = auth_post_jail,
	    .serve = auth_serve,
	    .pre_exit = auth_pre_exit,
	};

	daemon_main(argc, argv, &ops);
}
