/*
 * master - the Panacea supervisor, as Postfix's master(8).
 *
 * Usage: master [-f] [-c CONFIG_DIR] [-t] [-v]
 *   -f  stay in the foreground (default: become a daemon);
 *   -c  the configuration directory (else $MAIL_CONFIG, else the default);
 *   -t  test mode: exit 0 when no master runs on this configuration's
 *       queue, 1 when one does;
 *   -v  more logging.
 *
 * Start-up, in this order, so that every mistake is reported to the user
 * before master lets go of the terminal: load panacea.conf (a bad line is
 * "file:line: message" on stderr, exit 1), read the services table (same
 * discipline), open the log (maillog_file or syslog), check mail_owner
 * (as root: it must exist and must not be root), create the queue tree,
 * become a daemon (unless -f; the parent exits 0 only once the daemon is
 * ready, 1 when it failed), take the pid file lock (a second master says
 * "the Panacea mail system is already running (master pid N)" and exits
 * 1), start the queue keeper and wait until it has recovered the queue
 * (master_queue.c; master never opens the queue itself), open every
 * listener.  Then the event loop runs:
 * children start on demand (master_spawn.c), SIGCHLD reaps them, SIGHUP
 * reloads, SIGTERM or SIGINT stops everything and removes the unix
 * sockets and the pid file.
 *
 * Until the daemon is ready, every log line is also copied to stderr (a
 * person is watching); afterwards only the log receives them.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "events.h"
#include "master.h"
#include "msg.h"
#include "priv.h"
#include "services.h"
#include "xalloc.h"

struct master_params master_params;

static int master_pid_locked;

static _Noreturn void
usage(void)
{
	msg_fatal("usage: master [-f] [-c config_dir] [-t] [-v]");
}

/* The version logged at start and reload. */
static const char *
master_version(void)
{
	const char *v = conf_lookup("mail_version");

	return v && *v ? v : MASTER_VERSION;
}

static void
master_params_free(struct master_params *p)
{
	xfree(p->config_dir);
	xfree(p->queue_dir);
	xfree(p->daemon_dir);
	xfree(p->mail_owner);
	xfree(p->inet_interfaces);
	xfree(p->inet_protocols);
	xfree(p->maillog_file);
	xfree(p->import_environment);
	memset(p, 0, sizeof(*p));
}

/* Parameters as read, at start and at each reload. */
static struct {
	const char *queue_dir, *daemon_dir, *mail_owner, *inet_interfaces;
	const char *inet_protocols, *maillog_file, *import_environment;
	const char *syslog_name;
	long long maxproc, throttle_s;
} raw;

/* Every parameter master reads (conf.h, conf_bind); mail_version, a
 * name an administrator may define, is looked up as it is. */
static const struct conf_bind master_conf_params[] = {
    CONF_BIND_INT("default_process_limit", &raw.maxproc),
    CONF_BIND_STR("queue_directory", &raw.queue_dir),
    CONF_BIND_STR("daemon_directory", &raw.daemon_dir),
    CONF_BIND_STR("mail_owner", &raw.mail_owner),
    CONF_BIND_STR("inet_interfaces", &raw.inet_interfaces),
    CONF_BIND_STR("inet_protocols", &raw.inet_protocols),
    CONF_BIND_STR("maillog_file", &raw.maillog_file),
    CONF_BIND_STR("import_environment", &raw.import_environment),
    CONF_BIND_TIME("service_throttle_time", &raw.throttle_s),
    CONF_BIND_STR("syslog_name", &raw.syslog_name),
    CONF_BIND_END,
};

/*
 * Copies what master uses out of the loaded configuration; -1 with a
 * message when a value cannot work (relative directories would break as
 * soon as a child changes directory or chroots).
 */
static int
master_params_get(struct master_params *p, const char *config_dir,
		  struct buf *err)
{
	conf_bind(master_conf_params);
	memset(p, 0, sizeof(*p));
	p->config_dir = xstrdup(config_dir);
	p->queue_dir = xstrdup(raw.queue_dir);
	p->daemon_dir = xstrdup(raw.daemon_dir);
	p->mail_owner = xstrdup(raw.mail_owner);
	p->inet_interfaces = xstrdup(raw.inet_interfaces);
	p->inet_protocols = xstrdup(raw.inet_protocols);
	p->maillog_file = xstrdup(raw.maillog_file);
	p->import_environment = xstrdup(raw.import_environment);
	p->default_maxproc = raw.maxproc > INT_MAX ? INT_MAX : (int)raw.maxproc;
	p->throttle_s = raw.throttle_s;
	msg_set_syslog_name(raw.syslog_name);
	conf_unbind(master_conf_params);
	p->owner_uid = (uid_t)-1;
	p->owner_gid = (gid_t)-1;
	if (p->queue_dir[0] != '/') {
		buf_printf(err, "queue_directory: %s: not an absolute path",
			   p->queue_dir);
		return -1;
	}
	if (p->daemon_dir[0] != '/') {
		buf_printf(err, "daemon_directory: %s: not an absolute path",
			   p->daemon_dir);
		return -1;
	}
	return 0;
}

/* Loads panacea.conf and the services table; any error is fatal. */
static void
master_load_config(const char *opt_dir)
{
	const char *dir = conf_choose_dir(opt_dir);
	char *abs = realpath(dir, NULL);
	struct buf err = BUF_INIT;
	struct buf path = BUF_INIT;

	if (abs == NULL)
		msg_fatal("configuration directory %s: %s", dir,
			  strerror(errno));
	conf_load(abs, NULL, 0);
	if (master_params_get(&master_params, abs, &err) < 0)
		msg_fatal("%s/panacea.conf: %s", abs, buf_cstr(&err));
	free(abs);
	buf_printf(&path, "%s/services", master_params.config_dir);
	if (services_read(buf_cstr(&path), master_params.default_maxproc, 0,
			  &master_table, &err) < 0)
		msg_fatal("%s", buf_cstr(&err));
	if (master_check_tables(&master_table, buf_cstr(&path), &err) < 0)
		msg_fatal("%s", buf_cstr(&err));
	buf_free(&path);
	buf_free(&err);
}

/* As root the daemons run as mail_owner, which must be a real account
 * that is not root (else privilege separation would be a lie). */
static void
master_check_owner(void)
{
	struct buf err = BUF_INIT;
	uid_t uid;
	gid_t gid;

	master_params.as_root = priv_is_root();
	if (!master_params.as_root)
		return;
	if (priv_lookup_user(master_params.mail_owner, &uid, &gid, &err) < 0)
		msg_fatal("mail_owner: %s", buf_cstr(&err));
	if (uid == 0)
		msg_fatal("mail_owner: user %s has privileged user ID",
			  master_params.mail_owner);
	if (gid == 0)
		msg_fatal("mail_owner: user %s has privileged group ID",
			  master_params.mail_owner);
	master_params.owner_uid = uid;
	master_params.owner_gid = gid;
}

static void
master_open_log(void)
{
	const char *file = master_params.maillog_file;

	if (msg_log_to(file) < 0)
		msg_fatal("open maillog_file %s: %s", file, strerror(errno));
	/* Copy to stderr while a person waits for the start-up result,
	 * unless the log already is stderr. */
	if (strcmp(file, "-") != 0)
		msg_also_stderr(1);
}

/* Descriptors 0-2 must be open so that no file master opens lands there
 * (children keep 0-2 as they are). */
static void
master_sane_stdio(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
}

/*
 * Forks; the parent waits until the daemon reports ready (one byte on a
 * pipe) and exits 0, or exits 1 when the daemon died first (it has said
 * why on stderr).  Returns the pipe's write end in the daemon.
 */
static int
master_daemonize(void)
{
	int ready[2];
	pid_t pid;
	ssize_t n;
	char c;

	if (pipe2(ready, O_CLOEXEC) < 0)
		msg_fatal("pipe: %s", strerror(errno));
	if ((pid = fork()) < 0)
		msg_fatal("fork: %s", strerror(errno));
	if (pid > 0) {
		close(ready[1]);
		do
			n = read(ready[0], &c, 1);
		while (n < 0 && errno == EINTR);
		_exit(n == 1 ? 0 : 1);
	}
	close(ready[0]);
	if (setsid() < 0)
		msg_fatal("setsid: %s", strerror(errno));
	return ready[1];
}

/* The daemon is ready: let go of the terminal and release the parent. */
static void
master_detach(int ready_fd)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd < 0)
		msg_fatal("open /dev/null: %s", strerror(errno));
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
	if (write(ready_fd, "1", 1) != 1)
		msg_warn("cannot notify the starting process: %s",
			 strerror(errno));
	close(ready_fd);
}

/* msg_fatal() hook: leave no socket or pid file of ours behind; the
 * children see end of file on the alive pipe and exit by themselves. */
static void
master_cleanup(void)
{
	if (!master_pid_locked)
		return;
	master_services_unlink();
	master_pidfile_remove();
}

static void
master_terminate_event(int signo, void *ctx)
{
	(void)ctx;
	msg_info("terminating on signal %d", signo);
	master_queue_stopping();
	master_services_stop();
	master_queue_close();
	master_pidfile_remove();
	master_pid_locked = 0;
	exit(0);
}

/* Parameters that only a stop and start can change: the listeners, the
 * pid file and the accounts are set up once. */
static void
master_params_apply(struct master_params *np)
{
	struct master_params *p = &master_params;
	static const struct {
		const char *name;
		size_t off;
	} fixed[] = {
	    {"queue_directory", offsetof(struct master_params, queue_dir)},
	    {"mail_owner", offsetof(struct master_params, mail_owner)},
	    {"inet_interfaces",
	     offsetof(struct master_params, inet_interfaces)},
	    {"inet_protocols", offsetof(struct master_params, inet_protocols)},
	    {"maillog_file", offsetof(struct master_params, maillog_file)},
	};
	size_t i;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		char **oldv = (char **)((char *)p + fixed[i].off);
		char **newv = (char **)((char *)np + fixed[i].off);

		if (strcmp(*oldv, *newv) != 0)
			msg_warn("%s changed: stop and start the mail system "
				 "to use the new value",
				 fixed[i].name);
		xfree(*newv);
		*newv = xstrdup(*oldv);
	}
	np->as_root = p->as_root;
	np->foreground = p->foreground;
	np->owner_uid = p->owner_uid;
	np->owner_gid = p->owner_gid;
	master_params_free(p);
	*p = *np;
}

/*
 * SIGHUP: re-reads panacea.conf and the services table.  A mistake in
 * either is logged and the running configuration stays as it is.
 */
static void
master_reload_event(int signo, void *ctx)
{
	struct master_params np;
	struct service_table tab = {NULL, 0};
	struct buf err = BUF_INIT;
	struct buf path = BUF_INIT;

	(void)signo;
	(void)ctx;
	memset(&np, 0, sizeof(np));
	msg_info("reload -- version %s, configuration %s", master_version(),
		 master_params.config_dir);
	buf_printf(&path, "%s/panacea.conf", master_params.config_dir);
	if (conf_read(buf_cstr(&path), 1, &err) < 0 || conf_check(&err) < 0 ||
	    master_params_get(&np, master_params.config_dir, &err) < 0) {
		msg_warn("%s; keeping the running configuration",
			 buf_cstr(&err));
		if (np.config_dir)
			master_params_free(&np);
		goto out;
	}
	buf_reset(&path);
	buf_printf(&path, "%s/services", master_params.config_dir);
	if (services_read(buf_cstr(&path), np.default_maxproc, 0, &tab, &err) <
	    0) {
		msg_warn("%s; keeping the running configuration",
			 buf_cstr(&err));
		master_params_free(&np);
		goto out;
	}
	if (master_check_tables(&tab, buf_cstr(&path), &err) < 0) {
		msg_warn("%s; keeping the running configuration",
			 buf_cstr(&err));
		services_free(&tab);
		master_params_free(&np);
		goto out;
	}
	master_params_apply(&np);
	master_services_reload(&tab);
	/* The processes that read the old configuration end after their
	 * current work (master_spawn.c). */
	master_reload_children();
out:
	buf_free(&path);
	buf_free(&err);
}

int
main(int argc, char **argv)
{
	const char *opt_dir = NULL;
	int foreground = 0;
	int test_only = 0;
	int ready_fd = -1;
	int ch;

	msg_init("master");
	umask(022);
	master_sane_stdio();
	while ((ch = getopt(argc, argv, "c:ftv")) != -1) {
		switch (ch) {
		case 'c':
			opt_dir = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 't':
			test_only = 1;
			break;
		case 'v':
			msg_verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	master_load_config(opt_dir);
	if (test_only)
		exit(master_pidfile_test());
	master_params.foreground = foreground;
	master_open_log();
	master_check_owner();
	master_make_dirs();
	if (chdir(master_params.queue_dir) < 0)
		msg_fatal("chdir %s: %s", master_params.queue_dir,
			  strerror(errno));
	if (!foreground)
		ready_fd = master_daemonize();
	master_pidfile_lock();
	master_pid_locked = 1;
	msg_set_cleanup(master_cleanup);

	master_spawn_init();
	master_queue_recover();
	master_services_start();
	event_signal(SIGHUP, master_reload_event, NULL);
	event_signal(SIGTERM, master_terminate_event, NULL);
	event_signal(SIGINT, master_terminate_event, NULL);

	if (!foreground)
		master_detach(ready_fd);
	msg_also_stderr(0);
	msg_info("daemon started -- version %s, configuration %s",
		 master_version(), master_params.config_dir);
	event_run();
	return 0;
}
