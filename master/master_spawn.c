/*
 * master_spawn - the child table: start, watch, reap and throttle.
 *
 * Children start on demand, as in Postfix: while a service has no idle
 * child, is below its process limit (maxproc, 0 = none) and is not
 * throttled, master watches its listeners for readability (it never
 * accepts) and starts one child when a client is waiting.  A new child
 * counts as idle until it says otherwise.
 *
 * Each child gets its own status pipe (master_proto.h): the child writes
 * struct master_status records (TAKEN when it took a client, AVAIL when
 * it is idle again).  Because the pipe is the child's alone, master knows
 * who wrote a record; a record whose pid is not the writer's is ignored.
 * The alive pipe is shared: master never writes it and keeps the write
 * end open for its whole life, so end of file tells a child master died.
 *
 * SIGCHLD (through the event loop) reaps children.  An exit other than
 * status 0, or a signal master did not send, is logged as Postfix does
 * ("process PATH pid N exit status S" / "killed by signal S").  When such
 * a child never took a client (use count 0) the program cannot start, so
 * the service is throttled: no new child for service_throttle_time
 * ("PATH: bad command startup -- throttling"), instead of a fork loop;
 * for a child killed by SIGKILL, which is never the program's own failure,
 * the pause is MASTER_KILLED_THROTTLE_MS.
 *
 * A child of a definition that was removed or changed on reload is an
 * orphan: it has been sent SIGTERM, is still reaped and waited for at
 * shutdown, but no longer counts for any service.
 *
 * Every reload starts a new generation (Postfix's generation check): the
 * children of the earlier ones that are left, those of unchanged
 * services, get SIGHUP, which the daemon skeleton takes as "the
 * configuration changed": finish the current session or request and
 * exit (lib/mail/daemon.h), so that a long-lived process (an smtpd with
 * max_use sessions to go, qmgr, local) never keeps serving with what it
 * read before the reload.  They still count for their service until
 * they exit, so that a service of one process (qmgr) never runs two.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"
#include "events.h"
#include "iostuff.h"
#include "master.h"
#include "master_proto.h"
#include "msg.h"
#include "strutil.h"
#include "xalloc.h"

/* The pause after a child was killed by SIGKILL before it served. */
#define MASTER_KILLED_THROTTLE_MS 1000

struct master_child {
	pid_t pid;
	struct master_service *serv; /* NULL: orphan */
	char *path;		     /* for log lines, also of orphans */
	int status_fd;		     /* read end of its status pipe, or -1 */
	int avail;
	int use_count;
	int killed;	   /* master sent it a signal */
	unsigned long gen; /* master_generation when it was started */
	struct master_child *next;
};

static struct master_child *master_children;
static int master_alive_fds[2] = {-1, -1};
static int master_stopping;
static unsigned long master_generation;

void
master_spawn_init(void)
{
	if (pipe2(master_alive_fds, O_CLOEXEC) < 0)
		msg_fatal("pipe: %s", strerror(errno));
	event_signal(SIGCHLD, master_reap_event, NULL);
}

void
master_spawn_close_alive(void)
{
	if (master_alive_fds[1] >= 0)
		close(master_alive_fds[1]);
	master_alive_fds[1] = -1;
}

/* Marks every descriptor from lowfd up close-on-exec. */
static void
master_cloexec_from(int lowfd)
{
	DIR *dir;
	struct dirent *ent;
	int fd;

	if (close_range((unsigned)lowfd, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	/* Older kernels: walk the descriptors that exist. */
	if ((dir = opendir("/proc/self/fd")) == NULL)
		return;
	while ((ent = readdir(dir)) != NULL) {
		fd = atoi(ent->d_name);
		if (fd >= lowfd)
			(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	closedir(dir);
}

/* In the child, after a failure: the log descriptor may have been
 * replaced by the descriptor shuffle, so open the log again first. */
static _Noreturn void
master_child_fatal(const char *what, const char *path)
{
	int saved = errno;

	(void)msg_log_to(master_params.maillog_file);
	msg_fatal("%s %s: %s", what, path, strerror(saved));
}

static char **
master_child_argv(const struct master_service *serv)
{
	const struct service_def *def = serv->def;
	static char nlisten[16];
	char **argv = xcalloc((size_t)def->argc + 16, sizeof(char *));
	int n = 0;
	int i;

	snprintf(nlisten, sizeof(nlisten), "%d", serv->nfds);
	argv[n++] = def->argv[0];
	argv[n++] = "-c";
	argv[n++] = master_params.config_dir;
	argv[n++] = "-n";
	argv[n++] = def->name;
	argv[n++] = "-t";
	argv[n++] = (char *)service_type_name(def->type);
	argv[n++] = "-s";
	argv[n++] = nlisten;
	if (def->unpriv)
		argv[n++] = "-u";
	if (def->chroot)
		argv[n++] = "-j";
	for (i = 1; i < def->argc; i++)
		argv[n++] = def->argv[i];
	argv[n] = NULL;
	return argv;
}

/*
 * The child side of fork: status pipe, alive pipe and listeners at the
 * descriptors of master_proto.h, nothing else open across exec.
 */
/*
 * The daemons' environment, as Postfix builds it: only what
 * import_environment names, each NAME from master's own environment when
 * it is set there, or NAME=VALUE as written.  Nothing else that was in
 * the environment of whoever started master reaches a daemon.
 */
static char **
master_child_env(void)
{
	int n = 0, k = 0;
	char **words = str_split(master_params.import_environment, NULL, &n);
	char **env = xcalloc((size_t)n + 1, sizeof(char *));
	const char *value;

	for (int i = 0; i < n; i++) {
		if (strchr(words[i], '=') != NULL) {
			env[k++] = xstrdup(words[i]);
		} else if ((value = getenv(words[i])) != NULL) {
			struct buf b = BUF_INIT;
			buf_printf(&b, "%s=%s", words[i], value);
			env[k++] = buf_steal(&b);
		}
	}
	env[k] = NULL;
	str_list_free(words);
	return env;
}

static _Noreturn void
master_child_exec(struct master_service *serv, int status_fd)
{
	int nfd = 2 + serv->nfds;
	int top = MASTER_STATUS_FD + nfd;
	int *tmp = xcalloc((size_t)nfd, sizeof(int));
	char **argv = master_child_argv(serv);
	sigset_t none;
	int i;

	msg_set_cleanup(NULL);
	event_reset();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Lift every source above the target range first, so that no dup2()
	 * below can overwrite a source that is still to be moved. */
	tmp[0] = fcntl(status_fd, F_DUPFD, top);
	tmp[1] = fcntl(master_alive_fds[0], F_DUPFD, top);
	for (i = 0; i < serv->nfds; i++)
		tmp[2 + i] = fcntl(serv->fds[i], F_DUPFD, top);
	for (i = 0; i < nfd; i++) {
		if (tmp[i] < 0 || dup2(tmp[i], MASTER_STATUS_FD + i) < 0)
			master_child_fatal("set up descriptors for",
					   serv->path);
		close(tmp[i]);
	}
	master_cloexec_from(top);
	execve(serv->path, argv, master_child_env());
	master_child_fatal("exec", serv->path);
}

static struct master_child *
master_child_find(pid_t pid)
{
	struct master_child *child;

	for (child = master_children; child; child = child->next)
		if (child->pid == pid)
			return child;
	return NULL;
}

static void
master_child_avail(struct master_child *child)
{
	if (child->avail)
		return;
	child->avail = 1;
	if (child->serv) {
		child->serv->avail_proc++;
		master_avail_listen(child->serv);
	}
}

static void
master_child_taken(struct master_child *child)
{
	child->use_count++;
	if (!child->avail)
		return;
	child->avail = 0;
	if (child->serv) {
		child->serv->avail_proc--;
		master_avail_listen(child->serv);
	}
}

static void
master_child_close_status(struct master_child *child)
{
	if (child->status_fd < 0)
		return;
	event_fd_remove(child->status_fd);
	close(child->status_fd);
	child->status_fd = -1;
}

/* Reads one status record; 0 when nothing (more) is to be read. */
static int
master_child_read_status(struct master_child *child)
{
	struct master_status st;
	ssize_t n;

	n = read(child->status_fd, &st, sizeof(st));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		master_child_close_status(child);
		return 0;
	}
	if ((size_t)n != sizeof(st) || st.pid != child->pid) {
		msg_warn("process %s pid %ld: bad status record", child->path,
			 (long)child->pid);
		return 1;
	}
	if (st.avail == MASTER_STAT_AVAIL)
		master_child_avail(child);
	else if (st.avail == MASTER_STAT_TAKEN)
		master_child_taken(child);
	else
		msg_warn("process %s pid %ld: bad status %d", child->path,
			 (long)child->pid, st.avail);
	return 1;
}

static void
master_status_event(int fd, int events, void *ctx)
{
	(void)fd;
	(void)events;
	master_child_read_status(ctx);
}

static void
master_spawn(struct master_service *serv)
{
	struct master_child *child;
	int sp[2];
	pid_t pid;

	if (pipe2(sp, O_CLOEXEC) < 0) {
		msg_warn("pipe: %s", strerror(errno));
		master_throttle(serv);
		return;
	}
	if ((pid = fork()) < 0) {
		msg_warn("fork: %s", strerror(errno));
		close(sp[0]);
		close(sp[1]);
		master_throttle(serv);
		return;
	}
	if (pid == 0)
		master_child_exec(serv, sp[1]);
	close(sp[1]);
	io_set_nonblock(sp[0], 1);
	child = xcalloc(1, sizeof(*child));
	child->pid = pid;
	child->serv = serv;
	child->path = xstrdup(serv->path);
	child->status_fd = sp[0];
	child->avail = 1;
	child->gen = master_generation;
	child->next = master_children;
	master_children = child;
	event_fd_set(sp[0], EVENT_READ, master_status_event, child);
	serv->total_proc++;
	serv->avail_proc++;
	serv->used = 1;
	msg_debug("spawn %s pid %ld", serv->path, (long)pid);
	master_avail_listen(serv);
}

/* A listener is readable: a client waits and no child is idle. */
static void
master_avail_event(int fd, int events, void *ctx)
{
	struct master_service *serv = ctx;
	int maxproc = serv->def->maxproc;

	(void)fd;
	(void)events;
	if (maxproc == 0 || serv->total_proc < maxproc) {
		master_spawn(serv);
		return;
	}
	/* Only a network service gets here at its limit (master_avail_listen)
	 * and warns, as in Postfix (there, services with stress adaptation):
	 * a unix service at its limit serves its clients in turn (qmgr,
	 * pickup and showq take every pending trigger or request), and the
	 * warning was noise at every burst of mail. */
	msg_warn("service \"%s\" (%s) has reached its process limit \"%d\": "
		 "new clients may experience noticeable delays",
		 serv->def->name, service_type_name(serv->def->type), maxproc);
	serv->limit_warn_ms = io_now_ms() + MASTER_LIMIT_WARN_MS;
	master_avail_listen(serv);
}

void
master_avail_listen(struct master_service *serv)
{
	int maxproc = serv->def->maxproc;
	int below = maxproc == 0 || serv->total_proc < maxproc;
	int want;
	int i;

	/* At the limit a network service is still watched, only to warn once
	 * in a while that clients wait (master_avail_event). */
	want = !master_stopping && !serv->throttled && serv->avail_proc < 1 &&
	       (below || (serv->def->type == SERVICE_INET &&
			  io_now_ms() >= serv->limit_warn_ms));
	if (want == serv->listening)
		return;
	for (i = 0; i < serv->nfds; i++)
		event_fd_set(serv->fds[i], want ? EVENT_READ : 0,
			     master_avail_event, serv);
	serv->listening = want;
}

static void
master_unthrottle_event(void *ctx)
{
	struct master_service *serv = ctx;

	serv->throttle_timer = 0;
	master_unthrottle(serv);
}

/* A pause of ms before the service gets a new child. */
static void
master_throttle_ms(struct master_service *serv, long long ms)
{
	if (serv->throttled || master_stopping)
		return;
	serv->throttled = 1;
	serv->throttle_timer =
	    event_timer_add(ms, master_unthrottle_event, serv);
	master_avail_listen(serv);
}

void
master_throttle(struct master_service *serv)
{
	master_throttle_ms(serv, master_params.throttle_s * 1000LL);
}

void
master_unthrottle(struct master_service *serv)
{
	if (serv->throttle_timer)
		event_timer_cancel(serv->throttle_timer);
	serv->throttle_timer = 0;
	serv->throttled = 0;
	master_avail_listen(serv);
}

void
master_detach_children(struct master_service *serv, int sig)
{
	struct master_child *child;

	for (child = master_children; child; child = child->next) {
		if (child->serv != serv)
			continue;
		child->serv = NULL;
		child->killed = 1;
		if (kill(child->pid, sig) < 0 && errno != ESRCH)
			msg_warn("kill %ld: %s", (long)child->pid,
				 strerror(errno));
	}
	serv->total_proc = 0;
	serv->avail_proc = 0;
}

void
master_reload_children(void)
{
	struct master_child *child;
	int n = 0;

	master_generation++;
	for (child = master_children; child; child = child->next) {
		if (child->serv == NULL || child->gen >= master_generation)
			continue;
		child->killed = 1;
		if (kill(child->pid, SIGHUP) < 0 && errno != ESRCH)
			msg_warn("kill %ld: %s", (long)child->pid,
				 strerror(errno));
		n++;
	}
	msg_debug("reload: %d processes of the earlier configuration told", n);
}

static void
master_child_forget(struct master_child *child)
{
	struct master_child **pp;
	struct master_service *serv = child->serv;

	for (pp = &master_children; *pp; pp = &(*pp)->next) {
		if (*pp == child) {
			*pp = child->next;
			break;
		}
	}
	master_child_close_status(child);
	if (serv) {
		serv->total_proc--;
		if (child->avail)
			serv->avail_proc--;
	}
	xfree(child->path);
	xfree(child);
}

static void
master_reap(pid_t pid, int status)
{
	struct master_child *child = master_child_find(pid);
	struct master_service *serv;
	int normal = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	int expected;
	int bad_start;

	if (master_queue_reaped(pid, status))
		return;
	if (child == NULL) {
		msg_debug("reaped unknown pid %ld", (long)pid);
		return;
	}
	/* Records written just before the exit still count (TAKEN). */
	while (child->status_fd >= 0 && master_child_read_status(child))
		;
	serv = child->serv;
	/* SIGHUP kills a reloaded child that had not set up its handler. */
	expected = child->killed && WIFSIGNALED(status) &&
		   (WTERMSIG(status) == SIGTERM ||
		    WTERMSIG(status) == SIGKILL || WTERMSIG(status) == SIGHUP);
	if (!normal && !expected) {
		if (WIFEXITED(status))
			msg_warn("process %s pid %ld exit status %d",
				 child->path, (long)pid, WEXITSTATUS(status));
		else if (WIFSIGNALED(status))
			msg_warn("process %s pid %ld killed by signal %d",
				 child->path, (long)pid, WTERMSIG(status));
	}
	bad_start = !normal && !expected && child->use_count == 0;
	master_child_forget(child);
	/* After forget: failchk must see the dead child as dead. */
	if (!normal)
		master_child_abnormal(pid, status);
	if (serv == NULL)
		return;
	if (bad_start && !serv->throttled && !master_stopping) {
		msg_warn("%s: bad command startup -- throttling", serv->path);
		/* SIGKILL comes from outside (an administrator, the OOM
		 * killer), never from the program failing to start: a short
		 * pause prevents a fork loop without leaving the service
		 * unserved for service_throttle_time. */
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			master_throttle_ms(serv, MASTER_KILLED_THROTTLE_MS);
		else
			master_throttle(serv);
	}
	master_avail_listen(serv);
}

void
master_reap_event(int signo, void *ctx)
{
	pid_t pid;
	int status;

	(void)signo;
	(void)ctx;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		master_reap(pid, status);
}

void
master_restart_children(void)
{
	struct master_service *serv;

	master_kill_all(SIGTERM, MASTER_RESTART_GRACE_MS);
	master_stopping = 0;
	for (serv = master_services; serv; serv = serv->next)
		master_avail_listen(serv);
}

void
master_kill_all(int sig, long long grace_ms)
{
	struct master_child *child;
	long long deadline = io_now_ms() + grace_ms;
	pid_t pid;
	int status;

	master_stopping = 1;
	for (child = master_children; child; child = child->next) {
		child->killed = 1;
		(void)kill(child->pid, sig);
	}
	while (master_children && io_now_ms() < deadline) {
		master_reap_event(0, NULL);
		if (master_children)
			(void)poll(NULL, 0, 20);
	}
	for (child = master_children; child; child = child->next) {
		msg_warn("process %s pid %ld did not stop: killing it",
			 child->path, (long)child->pid);
		(void)kill(child->pid, SIGKILL);
	}
	while (master_children) {
		pid = waitpid(-1, &status, 0);
		if (pid > 0) {
			master_reap(pid, status);
		} else if (errno != EINTR) {
			/* ECHILD: nothing left to wait for. */
			while (master_children)
				master_child_forget(master_children);
		}
	}
}
