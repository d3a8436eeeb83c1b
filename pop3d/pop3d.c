/*
 * pop3d - the Panacea POP3 server (RFC 1939, RFC 2449 CAPA, RFC 2595
 * STLS, RFC 8314 POP3S, RFC 5034 AUTH).  Module map, privileges and locks:
 * pop3d.h.
 *
 * Runs under master on the daemon skeleton, one client at a time
 * (DAEMON_SINGLE), as two services of this one program, so that no root
 * process but master holds a TCP listener:
 *	pop3        inet n - y - - pop3d -o pop3d_front=yes
 *	pop3s       inet n - y - - pop3d -o pop3d_front=yes
 *	    -o pop3d_tls_wrappermode=yes
 *	pop3session unix - n n - - pop3d
 * The front (pop3d_front=yes) runs as mail_owner, may be jailed, and
 * never reads client data: for each accepted connection it connects to
 * private/pop3session, passes the client socket (SCM_RIGHTS) and an
 * attribute list (client and server address and port, its own
 * pop3d_tls_wrappermode), closes its copy and accepts the next one.
 * The session service (a unix service without pop3d_front) runs as root
 * and unjailed: it receives the socket, checks it and the attributes
 * (the sender must be root or mail_owner, the socket a TCP one whose
 * kernel addresses match the attributes), and serves the session on it.
 * An inet service without pop3d_front is the old single process: it
 * serves directly, as root with its listener (or -S on standard input).
 * Before serving the session side loads the TLS certificate and key
 * (pop3d_tls_cert_file/key_file, by default smtpd's) and sets up libsasl2
 * against sasldb_path.  A session: greeting (with an APOP timestamp when
 * pop3d_apop_enable is set), AUTHORIZATION (pop3d_auth.c), then at login
 * the fork of pop3d.h, TRANSACTION and UPDATE in the child
 * (pop3d_trans.c).  Replies are written in order and flushed only when
 * no pipelined command is waiting (RFC 2449 PIPELINING).  A read waits
 * at most pop3d_timeout (RFC 1939's ten-minute autologout): then the
 * session ends without UPDATE.
 *
 * Log lines (Postfix's prefix, Dovecot-like fields, one line per event,
 * the client address in each, for fail2ban):
 *	connect from unknown[IP]
 *	auth failed: user=<NAME>, method=USER, rip=IP[, tls] (REASON)
 *	too many authentication failures: rip=IP
 *	login: user=<NAME>, method=PLAIN, rip=IP[, tls]
 *	logout: retr=N/BYTES, del=N, size=N, user=<NAME>
 *	disconnect: ... (timeouts, lost connections, no UPDATE)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attr.h"
#include "conf.h"
#include "daemon.h"
#include "master_proto.h"
#include "mbox.h"
#include "msg.h"
#include "pop3d.h"
#include "priv.h"
#include "sock.h"
#include "strutil.h"
#include "xalloc.h"

#define POP3D_JUNK_LIMIT 20 /* bad commands in a row before we hang up */
#define POP3D_SESSION_SERVICE "pop3session" /* private/, the root side */
#define POP3D_PASS_TIMEOUT_MS 10000	    /* front <-> session service */
#define POP3D_PASS_ATTR_MAX 1024	    /* the front's attribute list */

struct pop3d_config pop3d_cfg;

static int is_child;
static int front;	 /* pop3d_front: pass connections on */
static int conn_fd = -1; /* the session service: the front's connection */

/* Replies. */

void
pop3d_reply(struct pop3d_session *ss, const char *fmt, ...)
{
	va_list ap;
	struct buf b = BUF_INIT;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	buf_puts(&b, "\r\n");
	stream_write(&ss->s, b.data, b.len);
	buf_free(&b);
}

void
pop3d_printable(char *dst, size_t size, const char *src)
{
	tls_copy_printable(dst, size, src ? src : "");
}

int
pop3d_plain_allowed(const struct pop3d_session *ss)
{
	return ss->tls_on ||
	       cidr_list_match(&pop3d_cfg.plain_nets,
			       (const struct sockaddr *)&ss->peer);
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

static void
mailbox_setup(void)
{
	struct mailbox_config *mc = &pop3d_cfg.mbox;
	const char *hm = conf_str("home_mailbox");
	size_t n = strlen(hm);

	/* As local reads them (lib/mailbox.h). */
	mc->spool_dir = mailbox_strip_slash(conf_str("mail_spool_directory"),
					    &mc->spool_maildir);
	mc->home_mailbox = xstrdup(hm);
	mc->home_maildir = n > 0 && hm[n - 1] == '/';
	pop3d_cfg.sasldb_path = xstrdup(conf_str("sasldb_path"));
	mc->sasldb_path = pop3d_cfg.sasldb_path;
	mc->as_root = priv_is_root();
	if (mc->as_root) {
		lookup_ids(conf_str("mail_owner"), &mc->owner_uid,
			   &mc->owner_gid, "mail_owner");
		lookup_ids(conf_str("default_privs"), &mc->privs_uid,
			   &mc->privs_gid, "default_privs");
	} else {
		mc->owner_uid = mc->privs_uid = geteuid();
		mc->owner_gid = mc->privs_gid = getegid();
	}
	pop3d_cfg.lock_attempts = (int)conf_int("deliver_lock_attempts");
	pop3d_cfg.lock_delay = (int)conf_time("deliver_lock_delay");
	pop3d_cfg.stale_lock_time = (int)conf_time("stale_lock_time");
}

/* A unix service that is not a front receives connections from one. */
static int
is_session_service(void)
{
	const char *type = daemon_service_type();

	return !front && type != NULL && strcmp(type, "unix") == 0;
}

static void
tls_setup(void)
{
	const char *cert = conf_str("pop3d_tls_cert_file");
	const char *key = conf_str("pop3d_tls_key_file");
	struct buf err = BUF_INIT;

	if (*cert == '\0') {
		if (pop3d_cfg.wrappermode && !is_session_service())
			msg_fatal("pop3d_tls_wrappermode is set but "
				  "pop3d_tls_cert_file is not");
		return;
	}
	pop3d_cfg.tls = tls_server_ctx_new(cert, *key ? key : cert, &err);
	if (pop3d_cfg.tls == NULL)
		msg_fatal("cannot load TLS certificate and key: %s",
			  buf_cstr(&err));
	buf_free(&err);
}

static void
pop3d_pre_jail(void)
{
	struct buf err = BUF_INIT;

	front = conf_bool("pop3d_front");
	pop3d_cfg.wrappermode = conf_bool("pop3d_tls_wrappermode");
	if (front)
		return; /* nothing of the session's: no keys, no sasldb */
	pop3d_cfg.myhostname = xstrdup(conf_str("myhostname"));
	pop3d_cfg.apop = conf_bool("pop3d_apop_enable");
	pop3d_cfg.timeout_ms = (int)conf_time("pop3d_timeout") * 1000;
	pop3d_cfg.fail_delay = (int)conf_time("pop3d_auth_failure_delay");
	pop3d_cfg.fail_limit = (int)conf_int("pop3d_auth_failure_limit");
	pop3d_cfg.login_delay = (int)conf_time("pop3d_login_delay");
	if (cidr_list_parse(conf_str("pop3d_plaintext_auth_networks"),
			    &pop3d_cfg.plain_nets, &err) < 0)
		msg_fatal("pop3d_plaintext_auth_networks: %s", buf_cstr(&err));
	mailbox_setup();
	tls_setup();
	pop3d_auth_init();
	buf_free(&err);
}

static void
pop3d_post_jail(void)
{
	struct buf dir = BUF_INIT;

	if (front)
		return;
	/* Logins switch to the user and read mailboxes by their real paths:
	 * a session side that lost root or is jailed could not. */
	if (pop3d_cfg.mbox.as_root &&
	    (!priv_is_root() || *daemon_queue_dir() == '\0'))
		msg_fatal("pop3d must run as root and not chrooted unless "
			  "pop3d_front is set (services: unpriv and chroot n)");
	if (pop3d_cfg.login_delay <= 0)
		return;
	buf_printf(&dir, "%s/pop3d", daemon_queue_dir());
	if (mkdir(buf_cstr(&dir), 0700) < 0 && errno != EEXIST) {
		msg_warn("cannot create %s: %s; pop3d_login_delay is not "
			 "enforced",
			 buf_cstr(&dir), strerror(errno));
		pop3d_cfg.login_delay = 0;
		buf_free(&dir);
		return;
	}
	pop3d_cfg.stamp_dir = buf_steal(&dir);
}

static void
pop3d_pre_exit(void)
{
	if (pop3d_cfg.sasl_ready)
		sasl_auth_done();
	if (pop3d_cfg.tls)
		tls_ctx_free(pop3d_cfg.tls);
	pop3d_cfg.tls = NULL;
}

/* Reading commands. */

int
pop3d_getline(struct pop3d_session *ss, size_t max)
{
	int st;

	if (stream_pending(&ss->s) == 0)
		(void)stream_flush(&ss->s);
	for (;;) {
		if (stream_error(&ss->s))
			return 0;
		st = stream_getline(&ss->s, &ss->line, max);
		if (st == STREAM_LINE || st == STREAM_LINE_BARE_LF)
			return 1;
		if (st == STREAM_TOO_LONG) {
			pop3d_reply(ss, "-ERR Line too long");
			if (stream_pending(&ss->s) == 0)
				(void)stream_flush(&ss->s);
			continue;
		}
		if (st == STREAM_TIMEOUT) {
			pop3d_reply(ss, "-ERR Autologout; idle for too long");
			(void)stream_flush(&ss->s);
			msg_info("disconnect: timeout, rip=%s%s%s%s",
				 ss->client_addr, ss->user ? ", user=<" : "",
				 ss->user ? ss->user : "", ss->user ? ">" : "");
		} else if (st == STREAM_EOF || st == STREAM_IOERR) {
			if (ss->state == POP3_TRANSACTION)
				msg_info("disconnect: connection lost in "
					 "TRANSACTION state, nothing deleted, "
					 "rip=%s, user=<%s>",
					 ss->client_addr, ss->user);
			else
				msg_info("disconnect from unknown[%s]",
					 ss->client_addr);
		}
		return 0;
	}
}

/* The dotlock. */

static int
dotlock_wait(const char *path, struct buf *why)
{
	int r = MBOX_LOCK_BUSY;

	for (int i = 0; i < pop3d_cfg.lock_attempts; i++) {
		r = mbox_dotlock(path, pop3d_cfg.stale_lock_time, why);
		if (r != MBOX_LOCK_BUSY)
			break;
		if (i + 1 < pop3d_cfg.lock_attempts)
			sleep((unsigned)pop3d_cfg.lock_delay);
	}
	return r;
}

int
pop3d_dotlock(struct pop3d_session *ss, struct buf *why)
{
	char c = 'L', r;

	if (ss->broker_fd < 0 || !ss->box.in_spool)
		return dotlock_wait(ss->box.path, why);
	if (write(ss->broker_fd, &c, 1) != 1 ||
	    read(ss->broker_fd, &r, 1) != 1) {
		buf_set(why, "the lock helper is gone");
		return MBOX_LOCK_ERROR;
	}
	if (r == '0')
		return MBOX_LOCK_OK;
	buf_set(why, r == '1' ? "lock file exists" : "cannot create lock file");
	return r == '1' ? MBOX_LOCK_BUSY : MBOX_LOCK_ERROR;
}

void
pop3d_dotunlock(struct pop3d_session *ss)
{
	char c = 'U', r;

	if (ss->broker_fd < 0 || !ss->box.in_spool) {
		if (mbox_dotunlock(ss->box.path) < 0)
			msg_warn("cannot remove lock file %s.lock: %s",
				 ss->box.path, strerror(errno));
		return;
	}
	if (write(ss->broker_fd, &c, 1) != 1 || read(ss->broker_fd, &r, 1) != 1)
		msg_warn("the lock helper is gone");
}

/* The root parent after the fork: makes and removes the dotlock of the
 * spool mailbox when the child asks, until the child is gone. */
static void
lock_helper(const struct mailbox_user *u, int sock, pid_t pid)
{
	struct buf why = BUF_INIT;
	int held = 0, status = 0;
	ssize_t n;
	char c, r;

	for (;;) {
		n = read(sock, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		r = '2';
		if (c == 'L' && !held && u->in_spool && !u->maildir) {
			switch (dotlock_wait(u->mailbox, &why)) {
			case MBOX_LOCK_OK:
				held = 1;
				r = '0';
				break;
			case MBOX_LOCK_BUSY:
				r = '1';
				break;
			default:
				msg_warn("%s", buf_cstr(&why));
				break;
			}
		} else if (c == 'U' && held) {
			if (mbox_dotunlock(u->mailbox) < 0)
				msg_warn("cannot remove lock file %s.lock: %s",
					 u->mailbox, strerror(errno));
			held = 0;
			r = '0';
		}
		if (write(sock, &r, 1) != 1)
			break;
	}
	if (held && mbox_dotunlock(u->mailbox) < 0)
		msg_warn("cannot remove lock file %s.lock: %s", u->mailbox,
			 strerror(errno));
	close(sock);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		continue;
	if (WIFSIGNALED(status))
		msg_warn("session process %ld killed by signal %d", (long)pid,
			 WTERMSIG(status));
	buf_free(&why);
}

/* The child keeps only what the session needs: no listener, no pipe to
 * master (it must not report for the parent). */
static void
child_close_fds(int keep1, int keep2)
{
	struct stat st;
	int on;
	socklen_t len;

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

	if (pop3d_cfg.login_delay <= 0 || pop3d_cfg.stamp_dir == NULL)
		return 0;
	buf_printf(&path, "%s/%s", pop3d_cfg.stamp_dir, name);
	if (lstat(buf_cstr(&path), &st) == 0 && S_ISREG(st.st_mode) &&
	    now >= st.st_mtime && now - st.st_mtime < pop3d_cfg.login_delay)
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

static void
child_start(struct pop3d_session *ss, struct mailbox_user *u, int sock,
	    pid_t parent)
{
	struct buf why = BUF_INIT;
	unsigned long long total = 0;
	int r;

	is_child = 1;
	child_close_fds(ss->fd, sock);
	if (conn_fd >= 0)
		close(conn_fd);
	if (priv_is_root())
		priv_drop_ids(u->uid, u->gid, NULL);
	/* After the drop, which clears it: die with the parent. */
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		exit(0);
	ss->broker_fd = sock;
	ss->box.path = xstrdup(u->mailbox);
	ss->box.maildir = u->maildir;
	ss->box.in_spool = u->in_spool;
	ss->box.fd = -1;
	r = u->maildir ? pop3d_maildir_open(ss, &why)
		       : pop3d_mbox_open(ss, &why);
	if (r < 0) {
		pop3d_reply(ss, "-ERR %s", buf_cstr(&why));
		msg_info("login failed: user=<%s>, method=%s, rip=%s%s: %s",
			 ss->user, ss->method, ss->client_addr,
			 ss->tls_on ? ", tls" : "", buf_cstr(&why));
		ss->quit = 1;
		buf_free(&why);
		return;
	}
	pop3d_uidl_unique(&ss->box);
	for (size_t i = 0; i < ss->box.count; i++)
		total += ss->box.msgs[i].octets;
	ss->state = POP3_TRANSACTION;
	pop3d_reply(ss, "+OK Logged in, %zu messages (%llu octets)",
		    ss->box.count, total);
	msg_info("login: user=<%s>, method=%s, rip=%s%s", ss->user, ss->method,
		 ss->client_addr, ss->tls_on ? ", tls" : "");
	buf_free(&why);
}

void
pop3d_login(struct pop3d_session *ss, const char *name, const char *method)
{
	struct mailbox_user u;
	struct buf why = BUF_INIT;
	char *lname = xstrdup(name);
	int sv[2], r;
	pid_t pid, parent = getpid();

	str_lower(lname);
	r = mailbox_find(&pop3d_cfg.mbox, lname, &u, &why);
	xfree(lname);
	if (r <= 0) {
		if (r < 0)
			msg_warn("%s", buf_cstr(&why));
		else
			msg_warn("user <%s> has no mailbox", name);
		pop3d_reply(ss, r < 0 ? "-ERR [SYS/TEMP] Cannot find the "
					"mailbox now, try again later"
				      : "-ERR [SYS/PERM] No mailbox for this "
					"user");
		buf_free(&why);
		return;
	}
	if (login_too_soon(u.name)) {
		pop3d_reply(ss,
			    "-ERR [LOGIN-DELAY] Minimum time between "
			    "logins is %d seconds",
			    pop3d_cfg.login_delay);
		msg_info("login refused: user=<%s>, rip=%s: too soon", u.name,
			 ss->client_addr);
		mailbox_user_free(&u);
		return;
	}
	ss->user = xstrdup(u.name);
	ss->method = xstrdup(method);
	/* Nothing may stay buffered for both processes to send. */
	(void)stream_flush(&ss->s);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    (pid = fork()) < 0) {
		msg_warn("cannot start the session process: %s",
			 strerror(errno));
		pop3d_reply(ss, "-ERR [SYS/TEMP] Cannot open the maildrop now");
		ss->quit = 1;
	} else if (pid == 0) {
		close(sv[0]);
		child_start(ss, &u, sv[1], parent);
	} else {
		close(sv[1]);
		lock_helper(&u, sv[0], pid);
		ss->quit = 1;
	}
	mailbox_user_free(&u);
	buf_free(&why);
}

/* The session. */

static void
identify(struct pop3d_session *ss)
{
	struct sockaddr_storage me;
	socklen_t len = sizeof(ss->peer);

	snprintf(ss->client_addr, sizeof(ss->client_addr), "unknown");
	if (getpeername(ss->fd, (struct sockaddr *)&ss->peer, &len) == 0 &&
	    (ss->peer.ss_family == AF_INET || ss->peer.ss_family == AF_INET6)) {
		sock_addr_text((struct sockaddr *)&ss->peer, ss->client_addr,
			       sizeof(ss->client_addr));
		snprintf(ss->client_port, sizeof(ss->client_port), "%d",
			 sock_addr_port((struct sockaddr *)&ss->peer));
	}
	len = sizeof(me);
	if (getsockname(ss->fd, (struct sockaddr *)&me, &len) == 0 &&
	    (me.ss_family == AF_INET || me.ss_family == AF_INET6)) {
		sock_addr_text((struct sockaddr *)&me, ss->server_addr,
			       sizeof(ss->server_addr));
		snprintf(ss->server_port, sizeof(ss->server_port), "%d",
			 sock_addr_port((struct sockaddr *)&me));
	}
}

static void
greeting(struct pop3d_session *ss)
{
	if (pop3d_cfg.apop) {
		unsigned rnd = 0;
		int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

		if (fd >= 0) {
			if (read(fd, &rnd, sizeof(rnd)) != sizeof(rnd))
				rnd = (unsigned)clock();
			close(fd);
		}
		snprintf(ss->apop_stamp, sizeof(ss->apop_stamp),
			 "<%ld.%lld.%08x@%s>", (long)getpid(),
			 (long long)time(NULL), rnd, pop3d_cfg.myhostname);
		pop3d_reply(ss, "+OK Panacea POP3 server ready %s",
			    ss->apop_stamp);
	} else {
		pop3d_reply(ss, "+OK Panacea POP3 server ready");
	}
}

static void
command(struct pop3d_session *ss, int *junk)
{
	int r = pop3_cmd_parse(ss->line.data, ss->line.len, &ss->cmd);

	if (r != POP3_PARSE_OK) {
		if (r == POP3_PARSE_UNKNOWN)
			pop3d_reply(ss, "-ERR Unknown command");
		else if (r == POP3_PARSE_TOO_LONG)
			pop3d_reply(ss, "-ERR Command line too long");
		else
			pop3d_reply(ss, "-ERR Syntax error: %s", ss->cmd.why);
		if (++*junk >= POP3D_JUNK_LIMIT) {
			pop3d_reply(ss, "-ERR Too many bad commands");
			msg_info("disconnect: too many bad commands, rip=%s",
				 ss->client_addr);
			ss->quit = 1;
		}
		return;
	}
	*junk = 0;
	if (!pop3_cmd_allowed(ss->state, ss->cmd.id)) {
		pop3d_reply(ss, "-ERR %s is not valid in this state",
			    ss->cmd.name);
		return;
	}
	if (ss->state == POP3_AUTHORIZATION)
		pop3d_auth_command(ss);
	else
		pop3d_trans_command(ss);
}

static void
session_end(struct pop3d_session *ss)
{
	(void)stream_flush(&ss->s);
	/* The parent never sends anything once the child has the
	 * connection: no close_notify from it. */
	tls_stop(&ss->s, is_child && !stream_error(&ss->s));
	stream_free(&ss->s);
	pop3d_auth_session_end(ss);
	pop3_cmd_free(&ss->cmd);
	buf_free(&ss->line);
	xfree(ss->user_arg);
	xfree(ss->user);
	xfree(ss->method);
	pop3d_box_free(&ss->box);
	if (ss->broker_fd >= 0)
		close(ss->broker_fd);
}

static void
session_run(int fd, int wrappermode)
{
	struct pop3d_session ss;
	struct buf err = BUF_INIT;
	int junk = 0;

	memset(&ss, 0, sizeof(ss));
	ss.fd = fd;
	ss.broker_fd = -1;
	ss.box.fd = -1;
	ss.state = POP3_AUTHORIZATION;
	identify(&ss);
	msg_info("connect from unknown[%s]", ss.client_addr);
	stream_init(&ss.s, fd, pop3d_cfg.timeout_ms);
	if (wrappermode && pop3d_cfg.tls == NULL) {
		msg_warn("pop3d_tls_wrappermode is set for the front but "
			 "pop3d_tls_cert_file is not: rip=%s",
			 ss.client_addr);
		ss.quit = 1;
	} else if (wrappermode) {
		if (tls_server_start(pop3d_cfg.tls, &ss.s, &ss.tls_info, &err) <
		    0) {
			msg_info("TLS handshake failed: rip=%s: %s",
				 ss.client_addr, buf_cstr(&err));
			ss.quit = 1;
		} else {
			ss.tls_on = 1;
		}
	}
	if (!ss.quit) {
		pop3d_auth_session_init(&ss);
		greeting(&ss);
	}
	while (!ss.quit && pop3d_getline(&ss, POP3_AUTH_LINE_MAX))
		command(&ss, &junk);
	session_end(&ss);
	buf_free(&err);
	if (is_child)
		exit(0);
}

/* The front. */

static void
add_address(struct attr_list *l, const char *addr_name, const char *port_name,
	    const struct sockaddr_storage *sa)
{
	char text[64];

	sock_addr_text((const struct sockaddr *)sa, text, sizeof(text));
	attr_add_str(l, addr_name, text);
	attr_add_int(l, port_name, sock_addr_port((const struct sockaddr *)sa));
}

static void
front_serve(int fd)
{
	static const char unavailable[] =
	    "-ERR [SYS/TEMP] Service unavailable, try again later\r\n";
	struct attr_list l = ATTR_LIST_INIT;
	struct buf path = BUF_INIT;
	struct sockaddr_storage peer, me;
	socklen_t plen = sizeof(peer), mlen = sizeof(me);
	int s;

	if (getpeername(fd, (struct sockaddr *)&peer, &plen) < 0 ||
	    getsockname(fd, (struct sockaddr *)&me, &mlen) < 0)
		return; /* already gone */
	add_address(&l, "client_address", "client_port", &peer);
	add_address(&l, "server_address", "server_port", &me);
	attr_add_str(&l, "tls_wrappermode",
		     pop3d_cfg.wrappermode ? "yes" : "no");
	buf_printf(&path, "%s/private/%s", daemon_queue_dir(),
		   POP3D_SESSION_SERVICE);
	s = sock_connect_unix(buf_cstr(&path), POP3D_PASS_TIMEOUT_MS);
	if (s < 0 || sock_send_fd(s, fd) < 0 ||
	    attr_send(s, &l, POP3D_PASS_TIMEOUT_MS) < 0) {
		msg_warn("cannot pass a connection to %s: %s", buf_cstr(&path),
			 strerror(errno));
		/* Plain text only where the client expects it. */
		if (!pop3d_cfg.wrappermode &&
		    write(fd, unavailable, sizeof(unavailable) - 1) < 0)
			msg_info("cannot tell the client: %s", strerror(errno));
	}
	if (s >= 0)
		close(s);
	attr_list_free(&l);
	buf_free(&path);
}

/* The session service. */

/* The kernel's address of one end of client, as the front wrote it. */
static int
address_matches(const struct attr_list *l, const char *addr_name,
		const char *port_name, const struct sockaddr_storage *sa)
{
	char text[64];
	const char *v = attr_get_str(l, addr_name);
	long long port;

	if (sa->ss_family != AF_INET && sa->ss_family != AF_INET6)
		return 0;
	sock_addr_text((const struct sockaddr *)sa, text, sizeof(text));
	return v != NULL && strcmp(v, text) == 0 &&
	       attr_get_int(l, port_name, &port) == 0 &&
	       port == sock_addr_port((const struct sockaddr *)sa);
}

/* 1 when the front is one of ours and client is the TCP connection it
 * describes; *wrap is then its pop3d_tls_wrappermode. */
static int
passed_ok(int conn, int client, const struct attr_list *l, int *wrap)
{
	struct sockaddr_storage peer, me;
	socklen_t plen = sizeof(peer), mlen = sizeof(me), tlen;
	const char *w = attr_get_str(l, "tls_wrappermode");
	uid_t uid;
	int type;

	if (sock_peer_cred(conn, NULL, &uid, NULL) < 0 ||
	    (pop3d_cfg.mbox.as_root && uid != 0 &&
	     uid != pop3d_cfg.mbox.owner_uid)) {
		msg_warn("%s: connection from a process that is not a pop3d "
			 "front (uid %ld)",
			 daemon_service_name(), (long)uid);
		return 0;
	}
	tlen = sizeof(type);
	if (getsockopt(client, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 ||
	    type != SOCK_STREAM ||
	    getpeername(client, (struct sockaddr *)&peer, &plen) < 0 ||
	    getsockname(client, (struct sockaddr *)&me, &mlen) < 0) {
		if (errno != ENOTCONN)
			msg_warn("%s: the passed descriptor is not a "
				 "connected stream socket",
				 daemon_service_name());
		return 0; /* ENOTCONN: the client left meanwhile */
	}
	if (!address_matches(l, "client_address", "client_port", &peer) ||
	    !address_matches(l, "server_address", "server_port", &me) ||
	    w == NULL || (strcmp(w, "yes") != 0 && strcmp(w, "no") != 0)) {
		msg_warn("%s: the front's attributes do not describe the "
			 "connection it passed",
			 daemon_service_name());
		return 0;
	}
	*wrap = strcmp(w, "yes") == 0;
	return 1;
}

static void
session_serve_passed(int fd)
{
	struct attr_list l = ATTR_LIST_INIT;
	int client, wrap = 0;

	client = sock_recv_fd(fd, POP3D_PASS_TIMEOUT_MS);
	if (client < 0) {
		msg_warn("%s: no client connection received: %s",
			 daemon_service_name(), strerror(errno));
		return;
	}
	if (attr_recv(fd, &l, POP3D_PASS_ATTR_MAX, POP3D_PASS_TIMEOUT_MS) < 0)
		msg_warn("%s: no attributes with the client connection: %s",
			 daemon_service_name(), strerror(errno));
	else if (passed_ok(fd, client, &l, &wrap)) {
		conn_fd = fd;
		attr_list_free(&l);
		session_run(client, wrap);
		conn_fd = -1;
	}
	attr_list_free(&l);
	close(client);
}

static void
pop3d_serve(int fd)
{
	if (front)
		front_serve(fd);
	else if (is_session_service())
		session_serve_passed(fd);
	else
		session_run(fd, pop3d_cfg.wrappermode);
}

int
main(int argc, char **argv)
{
	static const struct daemon_ops ops = {
	    .mode = DAEMON_SINGLE,
	    /* The session side stays root by its services line (unpriv n,
	     * checked in post_jail); the front drops to mail_owner. */
	    .pre_jail = pop3d_pre_jail,
	    .post_jail = pop3d_post_jail,
	    .serve = pop3d_serve,
	    .pre_exit = pop3d_pre_exit,
	};

	daemon_main(argc, argv, &ops);
}
