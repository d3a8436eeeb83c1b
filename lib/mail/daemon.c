/*
 * daemon - the skeleton every service program runs on; see daemon.h and
 * master_proto.h.
 *
 * Several children of one service share each listener and race to accept:
 * EAGAIN from accept4() only means another child was faster.  A child
 * tells master TAKEN when it is busy and AVAIL when it is free again; a
 * new child counts as available from the start (as in Postfix), so it
 * writes nothing until it takes its first connection.
 *
 * SIGTERM ends an idle child through the event loop (pre_exit, exit 0),
 * and one still starting once it is ready.
 * While a SINGLE child is inside serve() it has the default disposition
 * instead, so that a client in mid-session cannot hold up master's
 * shutdown: the process dies at once, as a Postfix child does.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf.h"
#include "daemon.h"
#include "events.h"
#include "iostuff.h"
#include "master_proto.h"
#include "msg.h"
#include "parent_death.h"
#include "priv.h"
#include "queue.h"
#include "sock.h"
#include "xalloc.h"

#define DAEMON_LISTEN_MAX 256
#define DAEMON_TRIGGER_TIMEOUT_MS 5000
#define DAEMON_TRIGGER_WARN_MS 10000 /* one drop warning per 10 s */
#define DAEMON_ACCEPT_PAUSE_MS 1000
/* How long a pass service waits for the descriptor after the front
 * connected (the front sends it at once). */
#define DAEMON_PASS_TIMEOUT_MS 5000
/* A child whose master died has this long to end by itself (it does at
 * once in its event loop), then it is killed wherever it is
 * (parent_death.h): a new master must be able to start within seconds. */
#define DAEMON_ORPHAN_GRACE_S 2

/* The command line, as master_proto.h defines it. */
struct daemon_opts {
	const char *config_dir;
	const char *service;
	const char *type;
	int nlisten; /* -1: no -s, not started by master */
	int unpriv;
	int jail;
	int standalone;
	int verbose;
	char **overrides;
	int noverrides;
};

static const struct daemon_ops *d_ops;
static const char *d_service = "";
static const char *d_type = "";
static int d_argc;
static char **d_argv;

static int d_status_fd = -1;
static int d_nlisten;
static long long d_max_use;
static long long d_max_idle_ms;
static long long d_use_count;
static unsigned long d_idle_timer;
static int d_busy;
static int d_exit_pending;
static int d_exiting;
static int d_standalone;

/* Pending trigger connections, oldest first (see serve_trigger). */
struct trigger_conn {
	int fd;
	unsigned long timer;
	struct buf data;
	struct trigger_conn *prev, *next;
};

static struct trigger_conn *d_trig_head, *d_trig_tail;
static int d_trig_count;
static unsigned long d_trig_dropped; /* since the last warning */
static long long d_trig_warned_ms;

static int d_jailed; /* chrooted to queue_directory */
static void idle_arm(void);

const char *
daemon_service_name(void)
{
	return d_service;
}

const char *
daemon_service_type(void)
{
	return d_type;
}

int
daemon_argc(void)
{
	return d_argc;
}

char **
daemon_argv(void)
{
	return d_argv;
}

/* Normal end of the process: max_use, idle, SIGTERM, master gone. */
static _Noreturn void
daemon_exit(void)
{
	/* pre_exit may end up here again (e.g. through a callback). */
	if (!d_exiting) {
		d_exiting = 1;
		if (d_ops->pre_exit != NULL)
			d_ops->pre_exit();
	}
	exit(0);
}

/* One status record; master may be gone (EPIPE), which the alive pipe
 * reports separately. */
static void
report(int avail)
{
	struct master_status st;

	if (d_status_fd < 0)
		return;
	memset(&st, 0, sizeof(st));
	st.pid = getpid();
	st.avail = avail;
	while (write(d_status_fd, &st, sizeof(st)) < 0 && errno == EINTR)
		continue;
}

void
daemon_report_busy(void)
{
	d_busy = 1;
	if (d_idle_timer != 0) {
		event_timer_cancel(d_idle_timer);
		d_idle_timer = 0;
	}
	report(MASTER_STAT_TAKEN);
}

void
daemon_report_idle(void)
{
	d_busy = 0;
	if (d_exit_pending || d_standalone)
		daemon_exit();
	report(MASTER_STAT_AVAIL);
	idle_arm();
}

/* Idle exit. */

static void
idle_expired(void *ctx)
{
	(void)ctx;
	d_idle_timer = 0;
	if (msg_verbose)
		msg_info("idle timeout -- exiting");
	daemon_exit();
}

/* (Re)starts the idle clock; a pending exit uses it even in long-lived
 * programs, as a bound on waiting for daemon_report_idle(). */
static void
idle_arm(void)
{
	if (d_idle_timer != 0) {
		event_timer_cancel(d_idle_timer);
		d_idle_timer = 0;
	}
	if (d_busy || d_max_idle_ms <= 0)
		return;
	if ((d_ops->flags & DAEMON_FLAG_NO_IDLE_EXIT) && !d_exit_pending)
		return;
	d_idle_timer = event_timer_add(d_max_idle_ms, idle_expired, NULL);
}

/* Listeners. */

static void accept_ready(int fd, int events, void *ctx);

static void
listeners_enable(int on)
{
	for (int i = 0; i < d_nlisten; i++) {
		if (on)
			event_fd_set(MASTER_LISTEN_FD + i, EVENT_READ,
				     accept_ready, NULL);
		else
			event_fd_remove(MASTER_LISTEN_FD + i);
	}
}

static void
accept_resume(void *ctx)
{
	(void)ctx;
	if (!d_exit_pending)
		listeners_enable(1);
}

/*
 * Stops taking connections before the process goes away.  SINGLE and
 * TRIGGER programs exit at once when not busy (otherwise after the current
 * request); EVENT programs exit at their next daemon_report_idle(), or when
 * the idle timer fires.  Master is told TAKEN, so that it starts another
 * child rather than count on this one.
 */
static void
exit_soon(void)
{
	if (d_ops->mode != DAEMON_EVENT && !d_busy)
		daemon_exit();
	if (d_exit_pending)
		return;
	d_exit_pending = 1;
	listeners_enable(0);
	if (d_ops->mode == DAEMON_EVENT) {
		if (!d_busy)
			report(MASTER_STAT_TAKEN);
		idle_arm();
	}
}

void
daemon_request_exit(void)
{
	/* Code shared with tests that run no skeleton. */
	if (d_ops == NULL)
		return;
	exit_soon();
}

int
daemon_invoked_as(int argc, char **argv, const char *name)
{
	const char *slash;

	if (argc < 1 || argv[0] == NULL)
		return 0;
	slash = strrchr(argv[0], '/');
	return strcmp(slash != NULL ? slash + 1 : argv[0], name) == 0;
}

void
daemon_close_listeners(void)
{
	for (int i = 0; i < d_nlisten; i++)
		close(MASTER_LISTEN_FD + i);
	if (d_status_fd >= 0)
		close(d_status_fd);
	d_nlisten = 0;
	d_status_fd = -1;
}

/* Counts one served connection against max_use. */
static void
count_use(void)
{
	d_use_count++;
	if (d_ops->flags & DAEMON_FLAG_NO_IDLE_EXIT)
		return;
	if (d_max_use > 0 && d_use_count >= d_max_use) {
		if (msg_verbose)
			msg_info("served %lld connections -- exiting",
				 d_use_count);
		exit_soon();
	}
}

/* SIGHUP from master's reload (daemon.h). */
static void
reload_received(int signo, void *ctx)
{
	(void)signo;
	(void)ctx;
	if (msg_verbose)
		msg_info("configuration reloaded -- exiting after this "
			 "request");
	if (d_ops->reload != NULL) {
		d_ops->reload();
		return;
	}
	if (d_ops->mode == DAEMON_EVENT)
		daemon_exit();
	exit_soon();
}

static void
term_received(int signo, void *ctx)
{
	(void)ctx;
	if (msg_verbose)
		msg_info("signal %d -- exiting", signo);
	daemon_exit();
}

/* SIGTERM's default action while a SINGLE program is in serve(). */
static void
term_default(int on)
{
	event_signal(SIGTERM, on ? NULL : term_received, NULL);
}

/* After a request: one use counted, the exit a signal asked for while
 * busy taken now, otherwise master told this process is free again. */
static void
request_done(void)
{
	d_busy = 0;
	count_use();
	if (d_exit_pending)
		daemon_exit();
	report(MASTER_STAT_AVAIL);
	idle_arm();
}

static void
serve_single(int fd)
{
	daemon_report_busy();
	term_default(1);
	d_ops->serve(fd);
	term_default(0);
	close(fd);
	request_done();
}

static void
serve_event(int fd)
{
	idle_arm();
	d_ops->serve(fd);
	count_use();
}

/*
 * TRIGGER mode: collect each request, bounded in size (DAEMON_TRIGGER_MAX
 * bytes), time (DAEMON_TRIGGER_TIMEOUT_MS) and number: at most
 * DAEMON_TRIGGER_CONN_MAX connections are pending at once.  The socket is
 * often public (public/qmgr), so a local user may open connections and
 * write nothing; without the cap they would use up the process's
 * descriptors and the daemon could open nothing else (qmgr: no connection
 * to a delivery agent).  A new connection over the cap closes the oldest
 * pending one: an honest client writes its few bytes and closes at once,
 * so the oldest is the likeliest idler, and a wakeup lost that way is
 * only advisory (the daemon also works on a timer).  Drops are logged at
 * most once per DAEMON_TRIGGER_WARN_MS, so a flood cannot fill the log.
 */

static void
trigger_close(struct trigger_conn *t)
{
	event_fd_remove(t->fd);
	if (t->timer != 0)
		event_timer_cancel(t->timer);
	close(t->fd);
	buf_free(&t->data);
	if (t->prev)
		t->prev->next = t->next;
	else
		d_trig_head = t->next;
	if (t->next)
		t->next->prev = t->prev;
	else
		d_trig_tail = t->prev;
	d_trig_count--;
	xfree(t);
}

/* Closes a connection without serving it; says so now and then. */
static void
trigger_drop(struct trigger_conn *t, const char *why)
{
	long long now = io_now_ms();

	trigger_close(t);
	d_trig_dropped++;
	if (d_trig_warned_ms != 0 &&
	    now - d_trig_warned_ms < DAEMON_TRIGGER_WARN_MS)
		return;
	msg_warn("trigger request %s (limits: %d bytes, %d ms, %d pending): "
		 "dropped; %lu dropped since the last warning",
		 why, DAEMON_TRIGGER_MAX, DAEMON_TRIGGER_TIMEOUT_MS,
		 DAEMON_TRIGGER_CONN_MAX, d_trig_dropped);
	d_trig_dropped = 0;
	d_trig_warned_ms = now;
}

static void
trigger_timeout(void *ctx)
{
	struct trigger_conn *t = ctx;

	t->timer = 0;
	trigger_drop(t, "not complete in time");
}

static void
trigger_readable(int fd, int events, void *ctx)
{
	struct trigger_conn *t = ctx;
	char chunk[DAEMON_TRIGGER_MAX + 1];
	ssize_t n;

	(void)events;
	n = read(fd, chunk, sizeof(chunk));
	if (n < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n < 0) {
		trigger_drop(t, "read error");
		return;
	}
	if (n > 0) {
		buf_append(&t->data, chunk, (size_t)n);
		if (t->data.len > DAEMON_TRIGGER_MAX)
			trigger_drop(t, "too long");
		return;
	}
	/* End of file: the request is complete. */
	daemon_report_busy();
	d_ops->trigger(t->data.data ? t->data.data : "", t->data.len);
	trigger_close(t);
	request_done();
}

static void
serve_trigger(int fd)
{
	struct trigger_conn *t;

	if (d_trig_count >= DAEMON_TRIGGER_CONN_MAX)
		trigger_drop(d_trig_head, "oldest of too many");
	t = xcalloc(1, sizeof(*t));
	t->fd = fd;
	t->prev = d_trig_tail;
	if (d_trig_tail)
		d_trig_tail->next = t;
	else
		d_trig_head = t;
	d_trig_tail = t;
	d_trig_count++;
	event_fd_set(fd, EVENT_READ, trigger_readable, t);
	t->timer =
	    event_timer_add(DAEMON_TRIGGER_TIMEOUT_MS, trigger_timeout, t);
	idle_arm();
}

static int
accept_transient(int err)
{
	switch (err) {
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
	case EINTR:
	case ECONNABORTED:
	case EPROTO:
	case ENETDOWN:
	case ENOPROTOOPT:
	case EHOSTDOWN:
	case ENONET:
	case EHOSTUNREACH:
	case EOPNOTSUPP:
	case ENETUNREACH:
	case EPERM: /* firewall */
		return 1;
	}
	return 0;
}

/*
 * A pass service (master_proto.h): the accepted connection comes from a
 * front (postscreen) that reaches the service's socket, and carries one
 * descriptor, the client's connection, which is what the program serves.
 * The hand-over connection is closed at once.  Only a connected stream
 * socket of the Internet families is taken: a front cannot make smtpd
 * serve a pipe, a file or a unix socket as if it were a network client.
 * Returns the client descriptor, or -1 (logged).
 */
static int
pass_receive(int conn)
{
	int fd, type = 0, family = 0;
	socklen_t len = sizeof(type);

	fd = sock_recv_fd(conn, DAEMON_PASS_TIMEOUT_MS);
	close(conn);
	if (fd < 0) {
		msg_warn("pass service %s: no client descriptor received: %m",
			 d_service);
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
	    type != SOCK_STREAM ||
	    (len = sizeof(family),
	     getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &len) != 0) ||
	    (family != AF_INET && family != AF_INET6)) {
		msg_warn("pass service %s: the descriptor received is no TCP "
			 "connection: refused",
			 d_service);
		close(fd);
		return -1;
	}
	/* The front may have left it non-blocking (the flag belongs to the
	 * open file, which the front shared). */
	if (io_set_nonblock(fd, d_ops->mode != DAEMON_SINGLE) != 0) {
		msg_warn("pass service %s: set blocking mode: %m", d_service);
		close(fd);
		return -1;
	}
	return fd;
}

static void
accept_ready(int lfd, int events, void *ctx)
{
	int flags = SOCK_CLOEXEC, fd;

	(void)events;
	(void)ctx;
	if (d_ops->pre_accept != NULL && d_ops->pre_accept()) {
		/* The client stays in the listen queue for a fresh process. */
		exit_soon();
		return;
	}
	/* SINGLE programs do blocking I/O; the others share the loop. */
	if (d_ops->mode != DAEMON_SINGLE)
		flags |= SOCK_NONBLOCK;
	fd = accept4(lfd, NULL, NULL, flags);
	if (fd < 0) {
		if (accept_transient(errno))
			return;
		/* Out of descriptors or memory: back off instead of
		 * spinning on a listener that stays readable. */
		msg_warn("accept: %m");
		listeners_enable(0);
		event_timer_add(DAEMON_ACCEPT_PAUSE_MS, accept_resume, NULL);
		return;
	}
	if (strcmp(d_type, "pass") == 0 && (fd = pass_receive(fd)) < 0)
		return;
	switch (d_ops->mode) {
	case DAEMON_SINGLE:
		serve_single(fd);
		break;
	case DAEMON_EVENT:
		serve_event(fd);
		break;
	case DAEMON_TRIGGER:
		serve_trigger(fd);
		break;
	}
}

/* Master closes its end of the alive pipe only by going away. */
static void
alive_ready(int fd, int events, void *ctx)
{
	char c;
	ssize_t n;

	(void)events;
	(void)ctx;
	n = read(fd, &c, 1);
	if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
				errno == EINTR)))
		return;
	if (msg_verbose)
		msg_info("master is gone -- exiting");
	daemon_exit();
}

/* Command line. */

static int
opt_takes_arg(int c)
{
	return strchr("cnsto", c) != NULL;
}

static int
opt_is_flag(int c)
{
	return strchr("ujvS", c) != NULL;
}

/* 1 when word is made only of skeleton options (e.g. "-u", "-uj",
 * "-cDIR", "-vo", "-o"). */
static int
opt_word_is_ours(const char *word)
{
	if (word[0] != '-' || word[1] == '\0')
		return 0;
	for (const char *p = word + 1; *p; p++) {
		if (opt_takes_arg(*p))
			return 1;
		if (!opt_is_flag(*p))
			return 0;
	}
	return 1;
}

static int
parse_nlisten(const char *s)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n < 1 ||
	    n > DAEMON_LISTEN_MAX)
		msg_fatal("-s %s: need a listener count from 1 to %d", s,
			  DAEMON_LISTEN_MAX);
	return (int)n;
}

static void
opt_apply(struct daemon_opts *o, int c, const char *arg)
{
	switch (c) {
	case 'c':
		o->config_dir = arg;
		break;
	case 'n':
		o->service = arg;
		break;
	case 't':
		if (strcmp(arg, "inet") != 0 && strcmp(arg, "unix") != 0 &&
		    strcmp(arg, "pass") != 0)
			msg_fatal("-t %s: service type must be inet, unix or "
				  "pass",
				  arg);
		o->type = arg;
		break;
	case 's':
		o->nlisten = parse_nlisten(arg);
		break;
	case 'o':
		o->overrides =
		    xreallocarray(o->overrides, (size_t)o->noverrides + 1,
				  sizeof(*o->overrides));
		o->overrides[o->noverrides++] = (char *)arg;
		break;
	case 'u':
		o->unpriv = 1;
		break;
	case 'j':
		o->jail = 1;
		break;
	case 'v':
		o->verbose++;
		break;
	case 'S':
		o->standalone = 1;
		break;
	}
}

/*
 * Skeleton options come first; the first word that is not one of them
 * ("--" is dropped) starts the service's own arguments, which keep
 * argv[0] in front so that the program can run getopt(3) on them.
 */
static void
parse_args(int argc, char **argv, struct daemon_opts *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->nlisten = -1;
	for (i = 1; i < argc; i++) {
		const char *w = argv[i];

		if (strcmp(w, "--") == 0) {
			i++;
			break;
		}
		if (!opt_word_is_ours(w))
			break;
		for (const char *p = w + 1; *p; p++) {
			if (!opt_takes_arg(*p)) {
				opt_apply(o, *p, NULL);
				continue;
			}
			if (p[1] != '\0') {
				opt_apply(o, *p, p + 1);
			} else if (i + 1 < argc) {
				opt_apply(o, *p, argv[++i]);
			} else {
				msg_fatal("option -%c requires an argument",
					  *p);
			}
			break;
		}
	}
	d_argc = argc - i + 1;
	d_argv = xreallocarray(NULL, (size_t)d_argc + 1, sizeof(*d_argv));
	d_argv[0] = argv[0];
	for (int j = 1; j < d_argc; j++)
		d_argv[j] = argv[i + j - 1];
	d_argv[d_argc] = NULL;
}

/* Descriptors from master: present, close-on-exec (nothing a service
 * runs may inherit them), listeners non-blocking (several children race
 * to accept). */
static void
take_master_fds(int nlisten)
{
	int fds[2] = {MASTER_STATUS_FD, MASTER_ALIVE_FD};

	for (int i = 0; i < 2; i++)
		if (fcntl(fds[i], F_GETFD) < 0)
			msg_fatal("descriptor %d from master is not open: %m",
				  fds[i]);
	for (int i = 0; i < nlisten; i++) {
		int fd = MASTER_LISTEN_FD + i;

		if (fcntl(fd, F_GETFD) < 0)
			msg_fatal("listener %d from master is not open: %m",
				  fd);
		if (io_set_nonblock(fd, 1) != 0)
			msg_fatal("listener %d: set non-blocking: %m", fd);
		io_set_cloexec(fd, 1);
	}
	io_set_cloexec(MASTER_STATUS_FD, 1);
	io_set_cloexec(MASTER_ALIVE_FD, 1);
	io_set_nonblock(MASTER_ALIVE_FD, 1);
	d_status_fd = MASTER_STATUS_FD;
	d_nlisten = nlisten;
}

/* -S: one client on standard input/output, no master. */
static _Noreturn void
serve_standalone(void)
{
	switch (d_ops->mode) {
	case DAEMON_SINGLE:
		term_default(1);
		d_ops->serve(STDIN_FILENO);
		break;
	case DAEMON_EVENT:
		/* The program runs its own fds; it ends the run with
		 * daemon_request_exit() or daemon_report_idle(). */
		d_max_idle_ms = 0;
		d_ops->serve(STDIN_FILENO);
		while (!d_exit_pending)
			event_loop(-1);
		break;
	case DAEMON_TRIGGER: {
		struct buf data = BUF_INIT;
		char chunk[DAEMON_TRIGGER_MAX + 1];
		ssize_t n;

		while ((n = io_read_timeout(STDIN_FILENO, chunk, sizeof(chunk),
					    DAEMON_TRIGGER_TIMEOUT_MS)) > 0) {
			buf_append(&data, chunk, (size_t)n);
			if (data.len > DAEMON_TRIGGER_MAX)
				msg_fatal("trigger request longer than %d "
					  "bytes",
					  DAEMON_TRIGGER_MAX);
		}
		if (n < 0)
			msg_fatal("trigger request: read: %m");
		d_ops->trigger(buf_cstr(&data), data.len);
		buf_free(&data);
		break;
	}
	}
	daemon_exit();
}

static void
check_ops(const struct daemon_ops *ops)
{
	if (ops->mode == DAEMON_TRIGGER ? ops->trigger == NULL
					: ops->serve == NULL)
		msg_panic("daemon_main: no handler for the service mode");
}

const char *
daemon_queue_dir(void)
{
	return d_jailed ? "" : conf_str("queue_directory");
}

struct queue *
daemon_queue_open(void)
{
	const char *qdir = daemon_queue_dir();
	struct queue *q;

	if (queue_open(qdir, NULL, &q) != QUEUE_OK)
		msg_fatal("cannot open the queue in %s/db", qdir);
	return q;
}

/*
 * When master dies, the listeners stop listening at once (the port is
 * free for a new master while this process ends its session) and the
 * process ends within DAEMON_ORPHAN_GRACE_S (parent_death.h).
 */
/*
 * 1 when master has closed its end of the alive pipe, that is, is gone.
 * Why not only getppid(): a master killed between its fork() and this
 * process's first getppid() leaves this process with a new parent (init
 * or a subreaper) that it would take for master, and it would serve,
 * holding the port and the queue, for ever.  Master's end is
 * close-on-exec and the queue keeper closes its copy, so no other
 * process keeps the pipe open.
 */
static int
master_gone(void)
{
	struct pollfd p = {.fd = MASTER_ALIVE_FD, .events = POLLIN};

	return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP)) != 0;
}

static void
daemon_watch_master(pid_t master_pid)
{
	parent_death_release(MASTER_LISTEN_FD, d_nlisten);
	/* The signal is armed first, then the pipe looked at: a master that
	 * dies in between is seen by one or the other. */
	if (parent_death_grace(master_pid, DAEMON_ORPHAN_GRACE_S) != 0 ||
	    master_gone()) {
		daemon_close_listeners();
		msg_fatal("master is gone");
	}
}

_Noreturn void
daemon_main(int argc, char **argv, const struct daemon_ops *ops)
{
	struct daemon_opts o;
	const char *logfile;
	pid_t master_pid = getppid();

	msg_init(argc > 0 ? argv[0] : "daemon");
	d_ops = ops;
	check_ops(ops);
	parse_args(argc, argv, &o);
	d_service = o.service ? o.service : msg_progname();
	d_type = o.type ? o.type : "unix";
	if (o.nlisten < 0 && !o.standalone)
		msg_fatal("not started by master (use -S to serve one client "
			  "on standard input)");
	/* Before anything opens a file that could take their numbers. */
	if (o.nlisten >= 0) {
		take_master_fds(o.nlisten);
		/* From the start, not only once the ids are final: a master
		 * killed while this process loads its tables would otherwise
		 * find its port still listening here when it restarts. */
		daemon_watch_master(master_pid);
	}
	d_standalone = o.nlisten < 0;
	/* A client that disconnects must not kill the process. */
	signal(SIGPIPE, SIG_IGN);

	conf_load(conf_choose_dir(o.config_dir), o.overrides, o.noverrides);
	msg_set_syslog_name(conf_str("syslog_name"));
	logfile = conf_str("maillog_file");
	if (msg_log_to(logfile) != 0)
		msg_fatal("cannot open maillog_file %s: %m", logfile);
	msg_verbose += o.verbose;
	d_max_use = conf_int("max_use");
	d_max_idle_ms = conf_time("max_idle") * 1000;

	if (ops->params != NULL)
		conf_bind(ops->params);
	/* From here on SIGTERM waits for the event loop: pre_jail and
	 * post_jail open the queue, and a process killed inside Berkeley DB
	 * leaves the environment needing recovery (master's stop would then
	 * leave a queue that panqueue cannot read until the next start). */
	event_signal(SIGTERM, term_received, NULL);
	event_signal(SIGHUP, reload_received, NULL);
	if (ops->pre_jail != NULL)
		ops->pre_jail();
	d_jailed = o.jail && priv_is_root();
	if (o.unpriv && !(ops->flags & DAEMON_FLAG_KEEP_ROOT))
		priv_drop(conf_str("mail_owner"),
			  o.jail ? conf_str("queue_directory") : NULL);
	else if (o.jail)
		priv_chroot(conf_str("queue_directory"));
	if (ops->post_jail != NULL)
		ops->post_jail();
	/* Again after the last change of ids, which clears the setting. */
	if (o.nlisten >= 0)
		daemon_watch_master(master_pid);

	if (o.nlisten < 0)
		serve_standalone();

	if (msg_verbose)
		msg_info("daemon started -- service %s type %s listeners %d",
			 d_service, d_type, d_nlisten);
	event_fd_set(MASTER_ALIVE_FD, EVENT_READ, alive_ready, NULL);
	listeners_enable(1);
	idle_arm();
	for (;;)
		event_loop(-1);
}
