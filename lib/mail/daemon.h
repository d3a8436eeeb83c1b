/*
 * daemon - the skeleton every service program runs on.
 *
 * daemon_main() parses the command line master gives (master_proto.h:
 * -c, -n, -t, -s, -u, -j, -o; -v more logging), loads the configuration
 * with the -o overrides, opens the log (maillog_file or syslog), binds
 * ops->params (the program's table of parameters, conf.h conf_bind: a
 * misspelt or mistyped row stops the program here, logged), calls
 * ops->pre_jail() to open what the program needs (tables, keys, queue),
 * chroots and drops privileges as -j/-u say (priv_drop to mail_owner,
 * queue_directory; -j alone, or with DAEMON_FLAG_KEEP_ROOT, only chroots),
 * calls ops->post_jail(), and then serves:
 *
 *  DAEMON_SINGLE   one client at a time: accept on the shared listeners,
 *                  report TAKEN to master, call ops->serve(fd) (blocking,
 *                  on a blocking fd; the skeleton closes fd afterwards),
 *                  report AVAIL.  While serve() runs, SIGTERM has its
 *                  default action (the process dies at once, pre_exit is
 *                  not called), so a client cannot hold up a shutdown.
 *  DAEMON_EVENT    ops->serve(fd) is called from the event loop for each
 *                  accepted connection (fd non-blocking) and owns fd
 *                  (closes it itself); the program registers its own fds
 *                  and timers (qmgr).
 *  DAEMON_TRIGGER  each connection is read to end of file (at most
 *                  DAEMON_TRIGGER_MAX bytes, else dropped with a warning;
 *                  a 5 s deadline) and passed to ops->trigger(); then
 *                  closed.  Runs in the event loop.  At most
 *                  DAEMON_TRIGGER_CONN_MAX connections are pending: one
 *                  more closes the oldest (idle clients cannot use up
 *                  the descriptors of a daemon on a public socket).
 *
 * Reload: master's reload sends SIGHUP to the processes that read the old
 * configuration (Postfix's generation check).  The skeleton calls
 * ops->reload() when the program has one (qmgr drains its deliveries),
 * else ends the process as Postfix's servers end when master disconnects:
 * a SINGLE or TRIGGER process at once when idle, after the current
 * request otherwise; an EVENT process at once (its clients reconnect to
 * the new one).  Before each accept, ops->pre_accept() (optional) may
 * answer nonzero: the process then exits without taking the client, which
 * a fresh process serves (a table it read before the jail has changed),
 * as Postfix's smtpd does before accept.
 *
 * Command line: the skeleton's options come first (bundled flags and
 * "-cDIR" forms work); the first word that is not one of them ("--" is
 * dropped) starts the service's own arguments.  -S serves standard input
 * without master (below).
 *
 * The process exits after max_use served connections or after max_idle
 * seconds without one (neither with DAEMON_FLAG_NO_IDLE_EXIT, as Postfix's
 * "unlimited" servers), when master goes away (end of file on
 * MASTER_ALIVE_FD), or on SIGTERM.  A SINGLE or TRIGGER process that must
 * exit while busy does so when the current request ends.  An EVENT process
 * cannot know when its connections are done: at max_use or
 * daemon_request_exit() it stops accepting, tells master TAKEN, and exits
 * at its next daemon_report_idle() (or after max_idle).  EVENT programs
 * with work in progress therefore report busy/idle.  Run without master
 * (no -s), a program may call daemon_main with -S: it serves one
 * connection on standard input/output (fd 0) and exits, as Postfix's
 * "smtpd -S" does (EVENT mode: runs the loop until daemon_report_idle() or
 * daemon_request_exit()); without -s or -S it stops with "not started by
 * master".
 */
#ifndef PANACEA_DAEMON_H
#define PANACEA_DAEMON_H

#include <stddef.h>

#define DAEMON_TRIGGER_MAX 1024
#define DAEMON_TRIGGER_CONN_MAX 32

enum daemon_mode { DAEMON_SINGLE, DAEMON_EVENT, DAEMON_TRIGGER };

#define DAEMON_FLAG_NO_IDLE_EXIT 0x1 /* long-lived (qmgr) */
#define DAEMON_FLAG_KEEP_ROOT 0x2    /* never drop (local, pop3d drop later) */

struct conf_bind;

struct daemon_ops {
	enum daemon_mode mode;
	int flags;
	/* The parameters the program reads, bound before pre_jail (optional
	 * while programs move to tables; DESIGN.md "Configuration"). */
	const struct conf_bind *params;
	/* All optional except serve (SINGLE/EVENT) or trigger (TRIGGER). */
	void (*pre_jail)(void);
	void (*post_jail)(void);
	void (*serve)(int fd);
	void (*trigger)(const char *data, size_t len);
	/* Called before the process exits normally (max_use, idle, SIGTERM,
	 * master gone). */
	void (*pre_exit)(void);
	/* Before each accept: nonzero ends the process instead (above). */
	int (*pre_accept)(void);
	/* master reloaded the configuration: instead of the default end
	 * (above); the program calls daemon_request_exit() when done. */
	void (*reload)(void);
};

_Noreturn void daemon_main(int argc, char **argv, const struct daemon_ops *ops);

/* The service name (-n) and type ("inet", "unix", "pass") master gave.
 * For "pass" the skeleton receives each client's descriptor on the
 * accepted connection (master_proto.h) and serves that instead. */
const char *daemon_service_name(void);
const char *daemon_service_type(void);
/* The service's own arguments after the skeleton's options, with argv[0]
 * (the program) in front, NULL-terminated: getopt(3) works on them. */
int daemon_argc(void);
char **daemon_argv(void);
/* EVENT mode: report busy/idle to master around long work. */
void daemon_report_busy(void);
void daemon_report_idle(void);
/* queue_directory as this process sees it: "" once chrooted into it
 * (so that "$dir/db" and "$dir/public/qmgr" work in and out of the
 * jail); valid in post_jail and later. */
const char *daemon_queue_dir(void);
/* The queue environment of daemon_queue_dir(), opened as a daemon opens
 * it (queue_open without an isalive check), for a post_jail hook: exits
 * through msg_fatal when it cannot.  queue_close() is the caller's. */
struct queue *daemon_queue_open(void);
/* Asks the skeleton to exit at the next opportunity (a table changed). */
void daemon_request_exit(void);
/* In a long-lived child that serves the process, not master (local's
 * mailbox workers): closes the listening sockets and the status pipe,
 * which belong to the process master started. */
void daemon_close_listeners(void);
/* 1 when the program was run under name (argv[0]'s last component): one
 * program, two daemons, as Postfix's smtp and lmtp (smtp/) and local
 * and virtual (local/). */
int daemon_invoked_as(int argc, char **argv, const char *name);

#endif
