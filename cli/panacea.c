/*
 * panacea - starts, stops and checks the mail system, as postfix(1).
 *
 * panacea [-c config_dir] start | start-fg | stop | abort | reload |
 *         status | check | flush
 * panacea [-c config_dir] spf check DOMAIN IP [SENDER [HELO]]
 * panacea [-c config_dir] trace [-H HOSTNAME] [FILE]
 * panacea [-c config_dir] dkim genkey [--type rsa|ed25519] [--bits N]
 *         [--output FILE] DOMAIN SELECTOR
 * panacea [-c config_dir] dkim verify < MESSAGE
 *
 *   start     checks the configuration, then runs master, which becomes a
 *             daemon once every listener is open (its exit status is ours);
 *   start-fg  runs master in the foreground (systemd Type=simple, docker);
 *   stop      SIGTERM to master, then waits until it is gone;
 *   abort     SIGKILL to master (its children notice and exit);
 *   reload    SIGHUP: master rereads panacea.conf and services;
 *   status    says whether master runs (exit 0) or not (exit 1);
 *   check     panacea.conf, services, mail_owner (and auth_owner when
 *             the services table runs auth), the queue folders and
 *             the programs of every service; warnings on stderr;
 *   flush     asks qmgr to try every deferred message now;
 *   spf check evaluates DOMAIN's SPF record for a client IP as smtpd
 *             would (cli/panacea/spf.c);
 *   trace     prints a delivered message's Received: hops and
 *             Authentication-Results:, marking what this host wrote
 *             (cli/panacea/trace.c);
 *   dkim      makes a DKIM key and prints its DNS record, or verifies
 *             a message's signatures as smtpd would (cli/panacea/dkim.c).
 * master is $daemon_directory/master; whether it runs is read from the
 * lock on $queue_directory/pid/master.pid.
 * Exit status: 0; 1 failure; 64 (EX_USAGE) bad arguments; 77
 * (EX_NOPERM) not root (or mail_owner) for start/stop/abort/reload.
 */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "panacea/panacea.h"
#include "conf.h"
#include "priv.h"
#include "services.h"

#define USAGE                                                                  \
	"panacea [-c config_dir] start|start-fg|stop|abort|reload|status|"     \
	"check|flush\n"                                                        \
	"       panacea [-c config_dir] spf check DOMAIN IP [SENDER [HELO]]\n" \
	"       panacea [-c config_dir] trace [-H HOSTNAME] [FILE]\n"          \
	"       panacea [-c config_dir] dkim genkey [--type rsa|ed25519] "     \
	"[--bits N] [--output FILE] DOMAIN SELECTOR\n"                         \
	"       panacea [-c config_dir] dkim verify < MESSAGE"
#define STOP_WAIT_SECONDS 60

static const char *config_dir;

/* The commands with arguments of their own (cli/panacea/). */
static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} subcommands[] = {
    {"spf", panacea_spf},
    {"trace", panacea_trace},
    {"dkim", panacea_dkim},
};

static int
may_control(void)
{
	struct passwd *pw = getpwnam(conf_str("mail_owner"));

	if (priv_is_root() || (pw && pw->pw_uid == getuid()))
		return 1;
	fprintf(stderr,
		"panacea: fatal: to %s the mail system you must be "
		"root\n",
		"control");
	return 0;
}

static void
master_path(struct buf *out)
{
	buf_printf(out, "%s/master", conf_str("daemon_directory"));
}

/* Warnings about what would stop the mail system; the number of errors. */
static int
check(void)
{
	static const char *const dirs[] = {"db", "private", "public",
					   "maildrop", "pid"};
	struct service_table t = {NULL, 0};
	struct buf path = BUF_INIT, err = BUF_INIT;
	const char *qdir = conf_str("queue_directory");
	struct passwd *pw = getpwnam(conf_str("mail_owner"));
	struct stat st;
	int errors = 0, has_auth = 0;
	uid_t owner_uid = pw ? pw->pw_uid : 0;

	if (priv_is_root() && (pw == NULL || pw->pw_uid == 0)) {
		fprintf(stderr, "panacea: error: mail_owner %s %s\n",
			conf_str("mail_owner"),
			pw ? "must not be root" : "does not exist");
		errors++;
	}
	buf_printf(&path, "%s/services", conf_str("config_directory"));
	if (services_read(buf_cstr(&path),
			  (int)conf_int("default_process_limit"), 0, &t,
			  &err) < 0) {
		fprintf(stderr, "panacea: error: %s\n", buf_cstr(&err));
		errors++;
	}
	for (size_t i = 0; i < t.count; i++) {
		const char *cmd = t.items[i].argv[0];
		const char *slash = strrchr(cmd, '/');
		if (strcmp(slash ? slash + 1 : cmd, "auth") == 0)
			has_auth = 1;
		buf_reset(&path);
		if (cmd[0] == '/')
			buf_puts(&path, cmd);
		else
			buf_printf(&path, "%s/%s", conf_str("daemon_directory"),
				   cmd);
		if (access(buf_cstr(&path), X_OK) < 0) {
			fprintf(stderr, "panacea: error: service %s: %s: %s\n",
				t.items[i].name, buf_cstr(&path),
				strerror(errno));
			errors++;
		}
	}
	services_free(&t);
	/* The auth service drops to auth_owner (man auth). */
	if (has_auth && priv_is_root()) {
		struct passwd *apw = getpwnam(conf_str("auth_owner"));
		if (apw == NULL || apw->pw_uid == 0 ||
		    (pw != NULL && apw->pw_uid == owner_uid)) {
			fprintf(stderr, "panacea: error: auth_owner %s %s\n",
				conf_str("auth_owner"),
				apw == NULL ? "does not exist"
					    : "must be neither root nor "
					      "mail_owner");
			errors++;
		}
	}
	buf_reset(&path);
	master_path(&path);
	if (access(buf_cstr(&path), X_OK) < 0) {
		fprintf(stderr, "panacea: error: %s: %s\n", buf_cstr(&path),
			strerror(errno));
		errors++;
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		buf_reset(&path);
		buf_printf(&path, "%s/%s", qdir, dirs[i]);
		if (stat(buf_cstr(&path), &st) < 0)
			continue; /* master creates what is missing */
		if (strcmp(dirs[i], "maildrop") == 0 &&
		    (st.st_mode & 07777) != 03733)
			fprintf(stderr,
				"panacea: warning: %s: mode %04o, not 3733: "
				"local users cannot drop mail while the "
				"system is down\n",
				buf_cstr(&path), st.st_mode & 07777);
		if (pw && priv_is_root() && strcmp(dirs[i], "pid") != 0 &&
		    st.st_uid != pw->pw_uid)
			fprintf(stderr,
				"panacea: warning: %s is not owned by %s\n",
				buf_cstr(&path), pw->pw_name);
	}
	buf_free(&path);
	buf_free(&err);
	return errors;
}

/* Runs master (never returns when foreground). */
static int
start(int foreground)
{
	struct buf path = BUF_INIT;
	char *args[5];
	int n = 0, status;
	pid_t pid;

	if (cli_master_running(NULL)) {
		fprintf(stderr, "panacea: fatal: the Panacea mail system is "
				"already running\n");
		return 1;
	}
	if (check() > 0)
		return 1;
	master_path(&path);
	args[n++] = "master";
	if (foreground)
		args[n++] = "-f";
	args[n++] = "-c";
	args[n++] = (char *)conf_str("config_directory");
	args[n] = NULL;
	if (foreground) {
		execv(buf_cstr(&path), args);
		fprintf(stderr, "panacea: exec %s: %s\n", buf_cstr(&path),
			strerror(errno));
		return 1;
	}
	fprintf(stderr, "panacea: starting the Panacea mail system\n");
	if ((pid = fork()) == 0) {
		execv(buf_cstr(&path), args);
		fprintf(stderr, "panacea: exec %s: %s\n", buf_cstr(&path),
			strerror(errno));
		_exit(1);
	}
	buf_free(&path);
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static int
signal_master(int sig, const char *what)
{
	long pid = 0;

	if (!cli_master_running(&pid) || pid <= 0) {
		fprintf(stderr, "panacea: fatal: the Panacea mail system is "
				"not running\n");
		return 1;
	}
	fprintf(stderr, "panacea: %s the Panacea mail system\n", what);
	if (kill((pid_t)pid, sig) < 0) {
		fprintf(stderr, "panacea: kill %ld: %s\n", pid,
			strerror(errno));
		return 1;
	}
	if (sig == SIGHUP)
		return 0;
	for (int i = 0; i < STOP_WAIT_SECONDS * 10; i++) {
		if (!cli_master_running(NULL))
			return 0;
		usleep(100 * 1000);
	}
	fprintf(stderr, "panacea: master %ld did not stop\n", pid);
	return 1;
}

int
main(int argc, char **argv)
{
	const char *cmd;
	int c;
	long pid = 0;

	cli_help(argc, argv, USAGE);
	while ((c = getopt(argc, argv, "+c:v")) != -1) {
		if (c == 'c')
			config_dir = optarg;
		else if (c != 'v')
			cli_usage(USAGE);
	}
	for (size_t i = 0;
	     optind < argc && i < sizeof(subcommands) / sizeof(subcommands[0]);
	     i++) {
		if (strcmp(argv[optind], subcommands[i].name) != 0)
			continue;
		cli_init(argv[0], config_dir);
		c = subcommands[i].run(argc - optind - 1, argv + optind + 1);
		if (c == EX_USAGE)
			cli_usage(USAGE);
		return c;
	}
	if (optind != argc - 1)
		cli_usage(USAGE);
	cmd = argv[optind];
	if (strcmp(cmd, "start") && strcmp(cmd, "start-fg") &&
	    strcmp(cmd, "stop") && strcmp(cmd, "abort") &&
	    strcmp(cmd, "reload") && strcmp(cmd, "status") &&
	    strcmp(cmd, "check") && strcmp(cmd, "flush"))
		cli_usage(USAGE);
	cli_init(argv[0], config_dir);
	if (strcmp(cmd, "status") == 0) {
		if (cli_master_running(&pid)) {
			printf("panacea: the Panacea mail system is running: "
			       "PID: %ld\n",
			       pid);
			return 0;
		}
		printf("panacea: the Panacea mail system is not running\n");
		return 1;
	}
	if (strcmp(cmd, "check") == 0)
		return check() ? 1 : 0;
	if (strcmp(cmd, "flush") == 0) {
		if (cli_qmgr_request("F") == 0)
			return 0;
		fprintf(stderr, "panacea: fatal: Cannot flush mail queue - "
				"mail system is down\n");
		return EX_UNAVAILABLE;
	}
	if (!may_control())
		return EX_NOPERM;
	if (strcmp(cmd, "start") == 0)
		return start(0);
	if (strcmp(cmd, "start-fg") == 0)
		return start(1);
	if (strcmp(cmd, "stop") == 0)
		return signal_master(SIGTERM, "stopping");
	if (strcmp(cmd, "abort") == 0)
		return signal_master(SIGKILL, "aborting");
	return signal_master(SIGHUP, "refreshing");
}
