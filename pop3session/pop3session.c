/*
 * pop3session - the root side of the Panacea POP3 server: serves a
 * logged-in user's maildrop (RFC 1939 TRANSACTION and UPDATE) on the
 * client's own socket, which the front (pop3d) passes to the session
 * process, or, when the front talks TLS to the client, over a socketpair
 * the front relays.
 * Who does what, privileges and locks: pop3session.h.
 *
 * Runs under master on the daemon skeleton, one request at a time
 * (DAEMON_SINGLE), as a unix service, root and not chrooted:
 *	pop3session unix - n n - - pop3session
 * A request is one connection from a front on private/pop3session:
 *  1. the peer must be root or mail_owner (SO_PEERCRED; any uid on an
 *     unprivileged instance, where every process has the same one);
 *  2. it passes one descriptor (SCM_RIGHTS), which must be a connected
 *     AF_UNIX stream socket whose other end the same uid holds: anything
 *     else (a TCP socket, a file) is closed unread;
 *  3. then an attribute list (lib/pop3_handoff.h, at most
 *     POP3_HANDOFF_LIST_MAX bytes): ticket, method and tls (for the log
 *     only), socket (where the session is served) and, for the client's
 *     socket, the input the front had read after the login command;
 *  4. the ticket is redeemed with the auth service (lib/auth_client.h,
 *     auth_redeem): single use, 60 s; the user it names is the only one
 *     this request can open, so a front that knows no password cannot
 *     open any maildrop;
 *  5. the mailbox (lib/mailbox.h), LOGIN-DELAY (RFC 2449; stamps in
 *     $queue_directory/pop3d, root's), then the fork of pop3session.h.
 * A refusal in 4 or 5 is one "-ERR [CODE] text" line written to the
 * socketpair (the front relays it and hangs up); the service reads
 * nothing from it, ever.
 *
 * With socket=client the child, once it runs as the mailbox owner,
 * writes one NUL byte to the socketpair and receives the client's TCP
 * socket over it (SCM_RIGHTS) from the front; it must be a connected
 * TCP socket (not a listener) whose peer is the address the ticket was
 * issued for, or the child logs it and exits without a byte to it.  It
 * then closes the socketpair and serves the client directly, the
 * input the front had read first.  So the client's socket goes from the
 * front to the mailbox owner's process: no root process holds it.
 *
 * The child answers the login command ("+OK Logged in, N messages (M
 * octets)" or "-ERR [IN-USE] ..."), then reads commands; replies are
 * written in order and flushed only when no pipelined command is waiting
 * (RFC 2449 PIPELINING).  A read waits at most pop3d_timeout (RFC 1939's
 * ten-minute autologout): then the session ends without UPDATE.
 *
 * Log lines (Postfix's prefix, Dovecot-like fields; the client address
 * and the local one are those the auth service recorded with the ticket;
 * for a passed client socket the kernel's peer address is that one too):
 *	Login: user=<NAME>, method=M, rip=IP, lip=IP, mpid=PID[, TLS]
 *	       (Dovecot's; USER/PASS is method=PLAIN; lip= is the address
 *	       the client connected to, left out when the front gave none)
 *	login failed: user=<NAME>, method=M, rip=IP[, tls]: REASON
 *	login refused: user=<NAME>, rip=IP: too soon
 *	logout: retr=N/BYTES, del=N, size=N, user=<NAME>
 *	disconnect: ... (timeouts, lost connections, no UPDATE)
 *	ticket refused: REASON (a front that tried to log in without one)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attr.h"
#include "auth_client.h"
#include "conf.h"
#include "daemon.h"
#include "lock_helper.h"
#include "master_proto.h"
#include "mbox.h"
#include "msg.h"
#include "parent_death.h"
#include "pop3_handoff.h"
#include "pop3_io.h"
#include "pop3session.h"
#include "priv.h"
#include "sock.h"
#include "strutil.h"
#include "xalloc.h"

#define SESSION_REQ_TIMEOUT_MS 10000  /* the front's request */
#define SESSION_AUTH_TIMEOUT_MS 10000 /* redeeming the ticket */
#define SESSION_AUTH_SERVICE "auth"   /* private/, the auth service */

struct session_config session_cfg;

static int is_child;
static int request_fd = -1; /* the front's connection (closed in the child) */

/* Replies. */

void
session_reply(struct pop3_session *ss, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	stream_line_vprintf(&ss->s, fmt, ap);
	va_end(ap);
}

/* A refusal before the fork: one line to the front, which relays it. */
static void
refuse(int pair, const char *line)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s\r\n", line);
	if (write(pair, b.data, b.len) < 0)
		msg_info("cannot answer the front: %s", strerror(errno));
	buf_free(&b);
}

/* Configuration. */

static void
lookup_ids(const char *user, uid_t *uid, gid_t *gid, const char *what)
{
	struct buf err = BUF_INIT;

	if (priv_lookup_user(user, uid, gid, &err) < 0)
		msg_fatal("%s: %s", what, buf_cstr(&err));
	if (*uid == 0)
		msg_fatal("%s: %s must not be root", what, user);
	buf_free(&err);
}

/* Parameters as read; session_cfg holds what is derived from them. */
static struct {
	const char *home_mailbox, *spool_dir, *sasldb_path;
	const char *mail_owner, *default_privs;
	long long lock_attempts, lock_delay, stale_lock_time;
	long long timeout, login_delay;
} raw;

/* Every parameter pop3session reads (conf.h, conf_bind). */
static const struct conf_bind session_params[] = {
    CONF_BIND_STR("home_mailbox", &raw.home_mailbox),
    CONF_BIND_STR("mail_spool_directory", &raw.spool_dir),
    CONF_BIND_STR("sasldb_path", &raw.sasldb_path),
    CONF_BIND_STR("mail_owner", &raw.mail_owner),
    CONF_BIND_STR("default_privs", &raw.default_privs),
    CONF_BIND_INT("deliver_lock_attempts", &raw.lock_attempts),
    CONF_BIND_TIME("deliver_lock_delay", &raw.lock_delay),
    CONF_BIND_TIME("stale_lock_time", &raw.stale_lock_time),
    CONF_BIND_TIME("pop3d_timeout", &raw.timeout),
    CONF_BIND_TIME("pop3d_login_delay", &raw.login_delay),
    CONF_BIND_END,
};

static int virt_enabled; /* virtual_mailbox_maps is set */

static void
mailbox_setup(void)
{
	struct mailbox_config *mc = &session_cfg.mbox;
	struct mailbox_virtual *virt;
	struct buf err = BUF_INIT;
	const char *hm = raw.home_mailbox;
	size_t n = strlen(hm);

	/* As local reads them (lib/mailbox.h). */
	mc->spool_dir = mailbox_strip_slash(raw.spool_dir, &mc->spool_maildir);
	mc->home_mailbox = xstrdup(hm);
	mc->home_maildir = n > 0 && hm[n - 1] == '/';
	mc->sasldb_path = xstrdup(raw.sasldb_path);
	mc->as_root = priv_is_root();
	if (mc->as_root) {
		lookup_ids(raw.mail_owner, &mc->owner_uid, &mc->owner_gid,
			   "mail_owner");
		lookup_ids(raw.default_privs, &mc->privs_uid, &mc->privs_gid,
			   "default_privs");
	} else {
		mc->owner_uid = mc->privs_uid = geteuid();
		mc->owner_gid = mc->privs_gid = getegid();
	}
	/* user@domain logins: virtual mailboxes, found as virtual(8) finds
	 * them.  Opened here only to refuse a bad table at start: a login
	 * opens them again and closes them before the fork (virt_open). */
	if ((virt = mailbox_virtual_open(mc->as_root, 1, &err)) == NULL)
		msg_fatal("%s", buf_cstr(&err));
	virt_enabled = mailbox_virtual_enabled(virt);
	mailbox_virtual_close(virt);
	buf_free(&err);
	session_cfg.lock.attempts = (int)raw.lock_attempts;
	session_cfg.lock.delay = (int)raw.lock_delay;
	session_cfg.lock.stale = (int)raw.stale_lock_time;
}

static void
session_pre_jail(void)
{
	const char *type = daemon_service_type();

	if (type != NULL && strcmp(type, "unix") != 0)
		msg_fatal("pop3session serves the pop3d fronts on a unix "
			  "socket: its services line is \"pop3session unix - "
			  "n n - - pop3session\"");
	session_cfg.timeout_ms = (int)raw.timeout * 1000;
	session_cfg.login_delay = (int)raw.login_delay;
	mailbox_setup();
}

static void
session_post_jail(void)
{
	struct buf dir = BUF_INIT;

	/* Logins switch to the user and read mailboxes by their real paths:
	 * a service that lost root or is jailed could not. */
	if (session_cfg.mbox.as_root &&
	    (!priv_is_root() || *daemon_queue_dir() == '\0'))
		msg_fatal("pop3session must run as root and not chrooted "
			  "(services: unpriv n and chroot n)");
	if (session_cfg.login_delay <= 0)
		return;
	buf_printf(&dir, "%s/pop3d", daemon_queue_dir());
	if (mkdir(buf_cstr(&dir), 0700) < 0 && errno != EEXIST) {
		msg_warn("cannot create %s: %s; pop3d_login_delay is not "
			 "enforced",
			 buf_cstr(&dir), strerror(errno));
		session_cfg.login_delay = 0;
		buf_free(&dir);
		return;
	}
	session_cfg.stamp_dir = buf_steal(&dir);
}

/* Reading commands (the child). */

/* One line from the front, at most max bytes: 1, or 0 when the session
 * must end (end of file, timeout, error: logged and answered). */
static int
session_getline(struct pop3_session *ss, size_t max)
{
	switch (pop3_read_line(&ss->s, &ss->line, max)) {
	case POP3_READ_LINE:
		return 1;
	case POP3_READ_TIMEOUT:
		msg_info("disconnect: timeout, rip=%s, user=<%s>",
			 ss->client_addr, ss->user);
		return 0;
	case POP3_READ_LOST:
		msg_info("disconnect: connection lost in TRANSACTION state, "
			 "nothing deleted, rip=%s, user=<%s>",
			 ss->client_addr, ss->user);
		return 0;
	default:
		return 0;
	}
}

/* The dotlock. */

int
session_dotlock(struct pop3_session *ss, struct buf *why)
{
	const struct lock_helper_config *cfg = &session_cfg.lock;

	if (ss->broker_fd < 0 || !ss->box.in_spool)
		return mbox_dotlock_wait(ss->box.path, cfg->stale,
					 cfg->attempts, cfg->delay, why);
	return lock_helper_lock(ss->broker_fd, why);
}

void
session_dotunlock(struct pop3_session *ss)
{
	if (ss->broker_fd < 0 || !ss->box.in_spool) {
		if (mbox_dotunlock(ss->box.path) < 0)
			msg_warn("cannot remove lock file %s.lock: %s",
				 ss->box.path, strerror(errno));
	} else if (lock_helper_unlock(ss->broker_fd) < 0) {
		msg_warn("the lock helper did not remove %s.lock",
			 ss->box.path);
	}
}

/* The child keeps only what the session needs: no listener, no pipe to
 * master (it must not report for the parent), no request connection. */
static void
child_close_fds(int keep1, int keep2)
{
	struct stat st;
	int on;
	socklen_t len;

	if (request_fd >= 0 && request_fd != keep1 && request_fd != keep2)
		close(request_fd);
	for (int fd = MASTER_STATUS_FD; fd < 1024; fd++) {
		if (fd == keep1 || fd == keep2 || fstat(fd, &st) < 0)
			continue;
		if (fd <= MASTER_ALIVE_FD && S_ISFIFO(st.st_mode)) {
			close(fd);
			continue;
		}
		len = sizeof(on);
		if (S_ISSOCK(st.st_mode) &&
		    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 &&
		    on)
			close(fd);
	}
}

/* LOGIN-DELAY (RFC 2449): 1 when this user logged in too recently; the
 * stamp of this login is written otherwise. */
static int
login_too_soon(const char *name)
{
	struct buf path = BUF_INIT;
	struct stat st;
	time_t now = time(NULL);
	int fd, soon = 0;

	if (session_cfg.login_delay <= 0 || session_cfg.stamp_dir == NULL)
		return 0;
	buf_printf(&path, "%s/%s", session_cfg.stamp_dir, name);
	if (lstat(buf_cstr(&path), &st) == 0 && S_ISREG(st.st_mode) &&
	    now >= st.st_mtime && now - st.st_mtime < session_cfg.login_delay)
		soon = 1;
	if (!soon) {
		fd = open(buf_cstr(&path),
			  O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0) {
			(void)futimens(fd, NULL);
			close(fd);
		}
	}
	buf_free(&path);
	return soon;
}

/* The session in the child. */

static void
command(struct pop3_session *ss, int *junk)
{
	struct buf reply = BUF_INIT;
	int r = pop3_cmd_take(ss->line.data, ss->line.len, ss->state, junk,
			      &ss->cmd, &reply);

	if (r == POP3_TAKE_RUN) {
		session_trans_command(ss);
	} else {
		session_reply(ss, "%s", buf_cstr(&reply));
		if (r == POP3_TAKE_HANG_UP) {
			session_reply(ss, POP3_JUNK_REPLY);
			msg_info("disconnect: too many bad commands, rip=%s",
				 ss->client_addr);
			ss->quit = 1;
		}
	}
	buf_free(&reply);
}

/* The login's reply, then commands until QUIT or the end. */
static void
child_serve(struct pop3_session *ss, const struct mailbox_user *u)
{
	struct buf why = BUF_INIT;
	unsigned long long total = 0;
	int r, junk = 0;

	ss->box.path = xstrdup(u->mailbox);
	ss->box.maildir = u->maildir;
	ss->box.in_spool = u->in_spool;
	ss->box.fd = -1;
	r = u->maildir ? session_maildir_open(ss, &why)
		       : session_mbox_open(ss, &why);
	if (r < 0) {
		session_reply(ss, "-ERR %s", buf_cstr(&why));
		msg_info("login failed: user=<%s>, method=%s, rip=%s%s: %s",
			 ss->user, ss->method, ss->client_addr,
			 ss->tls ? ", tls" : "", buf_cstr(&why));
		buf_free(&why);
		return;
	}
	session_uidl_unique(&ss->box);
	for (size_t i = 0; i < ss->box.count; i++)
		total += ss->box.msgs[i].octets;
	ss->state = POP3_TRANSACTION;
	session_reply(ss, "+OK Logged in, %zu messages (%llu octets)",
		      ss->box.count, total);
	/* Dovecot's Login line (USER/PASS is its PLAIN; mpid: the process
	 * that serves the mailbox, this one). */
	msg_info("Login: user=<%s>, method=%s, rip=%s%s%s, mpid=%ld%s",
		 ss->user,
		 strcmp(ss->method, "USER") == 0 ? "PLAIN" : ss->method,
		 ss->client_addr, *ss->server_addr ? ", lip=" : "",
		 ss->server_addr, (long)getpid(), ss->tls ? ", TLS" : "");
	while (!ss->quit && session_getline(ss, POP3_AUTH_LINE_MAX))
		command(ss, &junk);
	buf_free(&why);
}

/* 1 when pass is a connected TCP socket (a client's: not a listener),
 * with the kernel's text of its peer address in addr (as the front
 * made the address it gave the auth service). */
static int
client_ok(int pass, char *addr, size_t addr_size)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	int domain = 0, type = 0, listening = 1;
	socklen_t olen = sizeof(domain);

	if (getsockopt(pass, SOL_SOCKET, SO_DOMAIN, &domain, &olen) == 0 &&
	    (domain == AF_INET || domain == AF_INET6) &&
	    (olen = sizeof(type),
	     getsockopt(pass, SOL_SOCKET, SO_TYPE, &type, &olen) == 0) &&
	    type == SOCK_STREAM &&
	    (olen = sizeof(listening),
	     getsockopt(pass, SOL_SOCKET, SO_ACCEPTCONN, &listening, &olen) ==
		 0) &&
	    !listening &&
	    getpeername(pass, (struct sockaddr *)&peer, &len) == 0) {
		sock_addr_text((struct sockaddr *)&peer, addr, addr_size);
		return 1;
	}
	msg_warn("%s: the passed descriptor is not a client's TCP connection",
		 daemon_service_name());
	return 0;
}

/* socket=client, in the child as the mailbox owner: asks the front for
 * the client's socket over the socketpair and checks it.  The socket, or
 * -1 logged. */
static int
take_client(int pair, const char *client_addr)
{
	char peer[64];
	int client;

	/* MSG_NOSIGNAL: a front gone meanwhile is an error, not a
	 * signal. */
	if (send(pair, "", 1, MSG_NOSIGNAL) != 1 ||
	    (client = sock_recv_fd(pair, SESSION_REQ_TIMEOUT_MS)) < 0) {
		msg_warn("no client socket from the front: %s",
			 strerror(errno));
		return -1;
	}
	if (!client_ok(client, peer, sizeof(peer))) {
		close(client);
		return -1;
	}
	/* The ticket was issued for a login from one address: the socket
	 * served must be that client's. */
	if (strcmp(peer, client_addr) != 0) {
		msg_warn("%s: the passed connection is from %s, the ticket "
			 "was issued for %s",
			 daemon_service_name(), peer, client_addr);
		close(client);
		return -1;
	}
	return client;
}

static _Noreturn void
child_run(int pair, int broker, const struct mailbox_user *u,
	  const char *client_addr, const char *server_addr,
	  const struct pop3_handoff *h, pid_t parent)
{
	struct pop3_session ss;

	is_child = 1;
	child_close_fds(pair, broker);
	if (priv_is_root())
		priv_drop_ids(u->uid, u->gid, NULL);
	/* After the drop, which clears it: die with the parent. */
	if (parent_death_signal(parent, SIGTERM) != 0)
		exit(0);
	if (h->client) {
		int client = take_client(pair, client_addr);

		close(pair);
		if (client < 0) {
			close(broker);
			exit(0);
		}
		pair = client;
	}
	memset(&ss, 0, sizeof(ss));
	ss.fd = pair;
	ss.broker_fd = broker;
	ss.box.fd = -1;
	ss.state = POP3_AUTHORIZATION;
	ss.tls = *h->tls != '\0';
	ss.user = xstrdup(u->name);
	ss.method = xstrdup(h->method);
	snprintf(ss.client_addr, sizeof(ss.client_addr), "%s", client_addr);
	snprintf(ss.server_addr, sizeof(ss.server_addr), "%s", server_addr);
	stream_init(&ss.s, pair, session_cfg.timeout_ms);
	/* What the client pipelined after the login command, read by the
	 * front before it passed the socket: parsed here, as the mailbox
	 * owner, never by root. */
	if (h->input.len > 0)
		stream_preload(&ss.s, h->input.data, h->input.len);
	child_serve(&ss, u);
	(void)stream_flush(&ss.s);
	stream_free(&ss.s);
	pop3_cmd_free(&ss.cmd);
	buf_free(&ss.line);
	xfree(ss.user);
	xfree(ss.method);
	session_box_free(&ss.box);
	close(ss.broker_fd);
	close(pair);
	exit(0);
}

/* mailbox_find() with the virtual tables open for a user@domain name:
 * opened for this login and closed before the fork, so that no session
 * process, which runs as the user and parses the client's commands,
 * inherits a table's descriptor (a SQL or LDAP connection above all),
 * and a changed table is read at the next login. */
static int
virt_find(const char *name, struct mailbox_user *u, struct buf *why)
{
	struct mailbox_config *mc = &session_cfg.mbox;
	struct mailbox_virtual *v = NULL;
	int r;

	if (virt_enabled && strchr(name, '@') != NULL &&
	    (v = mailbox_virtual_open(mc->as_root, 1, why)) == NULL) {
		memset(u, 0, sizeof(*u));
		return -1;
	}
	mc->virt = v;
	r = mailbox_find(mc, name, u, why);
	mc->virt = NULL;
	mailbox_virtual_close(v);
	return r;
}

/* Mailbox, LOGIN-DELAY, fork; takes pair (closed in every case).  The
 * parent returns when the child is gone. */
static void
login(int pair, const char *name, const char *client_addr,
      const char *server_addr, const struct pop3_handoff *h)
{
	struct mailbox_user u;
	struct buf why = BUF_INIT;
	char *lname = xstrdup(name);
	int sv[2], r;
	pid_t pid, parent = getpid();

	str_lower(lname);
	r = virt_find(lname, &u, &why);
	xfree(lname);
	if (r <= 0) {
		if (r < 0)
			msg_warn("%s", buf_cstr(&why));
		else
			msg_warn("user <%s> has no mailbox", name);
		refuse(pair, r < 0
				 ? "-ERR [SYS/TEMP] Cannot find the mailbox "
				   "now, try again later"
				 : "-ERR [SYS/PERM] No mailbox for this user");
		close(pair);
		buf_free(&why);
		return;
	}
	if (login_too_soon(u.name)) {
		buf_printf(&why,
			   "-ERR [LOGIN-DELAY] Minimum time between logins "
			   "is %d seconds",
			   session_cfg.login_delay);
		refuse(pair, buf_cstr(&why));
		msg_info("login refused: user=<%s>, rip=%s: too soon", u.name,
			 client_addr);
		close(pair);
		mailbox_user_free(&u);
		buf_free(&why);
		return;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    (pid = fork()) < 0) {
		msg_warn("cannot start the session process: %s",
			 strerror(errno));
		refuse(pair, "-ERR [SYS/TEMP] Cannot open the maildrop now");
		close(pair);
	} else if (pid == 0) {
		close(sv[0]);
		child_run(pair, sv[1], &u, client_addr, server_addr, h, parent);
	} else {
		/* The parent never reads a byte of the session, and holds
		 * no client's socket from here. */
		close(pair);
		close(sv[1]);
		lock_helper_serve(&session_cfg.lock, u.mailbox,
				  u.in_spool && !u.maildir, sv[0], pid);
	}
	mailbox_user_free(&u);
	buf_free(&why);
}

/* The request. */

/* 1 when the connection comes from a front: root or mail_owner. */
static int
peer_ok(int fd, uid_t *uid)
{
	if (sock_peer_cred(fd, NULL, uid, NULL) < 0) {
		msg_warn("%s: cannot get the peer's credentials: %s",
			 daemon_service_name(), strerror(errno));
		return 0;
	}
	if (session_cfg.mbox.as_root && *uid != 0 &&
	    *uid != session_cfg.mbox.owner_uid) {
		msg_warn("%s: connection from a process that is not a pop3d "
			 "front (uid %ld)",
			 daemon_service_name(), (long)*uid);
		return 0;
	}
	return 1;
}

/* 1 when pair is a connected AF_UNIX stream socket whose other end a
 * process of uid holds (the front made it with socketpair()).  A client's
 * TCP socket is refused: this root process must never hold one (the
 * session process gets it from the front, take_client()). */
static int
pair_ok(int pair, uid_t uid)
{
	int domain = 0, type = 0;
	socklen_t len = sizeof(domain);
	uid_t other;

	if (getsockopt(pair, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
	    domain != AF_UNIX ||
	    (len = sizeof(type),
	     getsockopt(pair, SOL_SOCKET, SO_TYPE, &type, &len) < 0) ||
	    type != SOCK_STREAM ||
	    sock_peer_cred(pair, NULL, &other, NULL) < 0 || other != uid) {
		msg_warn("%s: the passed descriptor is not the front's end of "
			 "a socketpair",
			 daemon_service_name());
		return 0;
	}
	return 1;
}

static void
session_serve(int fd)
{
	struct attr_list l = ATTR_LIST_INIT;
	struct buf path = BUF_INIT, user = BUF_INIT, addr = BUF_INIT,
		   local = BUF_INIT, err = BUF_INIT;
	struct pop3_handoff h;
	uid_t uid;
	int pair;

	memset(&h, 0, sizeof(h));
	if (!peer_ok(fd, &uid))
		return;
	pair = sock_recv_fd(fd, SESSION_REQ_TIMEOUT_MS);
	if (pair < 0) {
		msg_warn("%s: no session socket received: %s",
			 daemon_service_name(), strerror(errno));
		return;
	}
	if (attr_recv(fd, &l, POP3_HANDOFF_LIST_MAX, SESSION_REQ_TIMEOUT_MS) <
	    0) {
		msg_warn("%s: no attributes with the session socket: %s",
			 daemon_service_name(), strerror(errno));
		goto done;
	}
	if (pop3_handoff_decode(&l, &h, &err) < 0) {
		msg_warn("%s: a malformed request: %s", daemon_service_name(),
			 buf_cstr(&err));
		if (pair_ok(pair, uid))
			refuse(pair,
			       "-ERR [SYS/TEMP] Login failed, try again later");
		goto done;
	}
	if (!pair_ok(pair, uid))
		goto done;
	buf_reset(&err);
	buf_printf(&path, "%s/private/%s", daemon_queue_dir(),
		   SESSION_AUTH_SERVICE);
	if (auth_redeem(buf_cstr(&path), h.ticket, SESSION_AUTH_TIMEOUT_MS,
			&user, &addr, &local, &err) < 0) {
		msg_warn("ticket refused: %s", buf_cstr(&err));
		refuse(pair, "-ERR [SYS/TEMP] Login failed, try again later");
		goto done;
	}
	request_fd = fd;
	login(pair, buf_cstr(&user), buf_cstr(&addr), buf_cstr(&local), &h);
	request_fd = -1;
	pair = -1; /* login() closed it */
done:
	if (pair >= 0)
		close(pair);
	attr_list_free(&l);
	pop3_handoff_free(&h);
	buf_free(&path);
	buf_free(&user);
	buf_free(&addr);
	buf_free(&local);
	buf_free(&err);
}

int
main(int argc, char **argv)
{
	static const struct daemon_ops ops = {
	    .mode = DAEMON_SINGLE,
	    /* Stays root (services line unpriv n, checked in post_jail):
	     * each session drops in its own child. */
	    .params = session_params,
	    .pre_jail = session_pre_jail,
	    .post_jail = session_post_jail,
	    .serve = session_serve,
	};

	daemon_main(argc, argv, &ops);
}
