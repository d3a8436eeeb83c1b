/*
 * master.h - what the files of master(8) share.
 *
 * master is split by idea:
 *   master.c          main: options, configuration, start-up, signals,
 *                     reload and termination;
 *   master_files.c    the queue directory tree and the locked pid file;
 *   master_services.c one struct master_service per line of the services
 *                     table: listeners, start, stop, reload differences;
 *   master_spawn.c    the child table: fork/exec, status pipes, reaping,
 *                     on-demand start and throttling;
 *   master_wakeup.c   periodic triggers of wakeup services;
 *   master_queue.c    master's side of the queue keeper: start, failchk
 *                     requests, full recovery;
 *   master_keeper.c   the queue keeper, a child of master running as
 *                     mail_owner: recovery, failchk, checkpoints.
 *
 * Everything runs from the event loop (events.h); no callback runs in a
 * signal handler.  master reads no network data: it only watches its
 * listeners for readability to know that a client is waiting.
 */
#ifndef PANACEA_MASTER_H
#define PANACEA_MASTER_H

#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "services.h"

/* Reported in "daemon started -- version X" when the configuration has no
 * mail_version parameter. */
#define MASTER_VERSION "0.1"

/* How long SIGTERM'd children get before SIGKILL when master stops. */
#define MASTER_STOP_GRACE_MS 5000
/* listen(2) backlog of every listener. */
#define MASTER_BACKLOG 128
/* Listeners of one inet service (wildcard: IPv4 + IPv6 per interface). */
#define MASTER_INET_MAX 64

/*
 * The parameters master itself uses, copied out of the configuration so
 * that a failed reload (which may leave conf.c half-replaced) cannot
 * change the running master.
 */
struct master_params {
	char *config_dir; /* absolute */
	char *queue_dir;  /* absolute */
	char *daemon_dir; /* where relative commands live */
	char *mail_owner; /* account of the daemons */
	char *inet_interfaces;
	char *inet_protocols;
	char *maillog_file;
	char *import_environment; /* what daemons get of the environment */
	int default_maxproc;	  /* default_process_limit */
	long long throttle_s;	  /* service_throttle_time */
	int as_root;	 /* master runs as root: chown, refuse root owner */
	int foreground;	 /* -f: standard descriptors stay as given */
	uid_t owner_uid; /* mail_owner's ids, (uid_t)-1 when not root */
	gid_t owner_gid;
};

extern struct master_params master_params;

/* master_tables.c: every table parameter (panacea.conf and the services'
 * -o overrides) names implemented table types; 0, or -1 with
 * "file:line: parameter: table: unsupported table type ..." in err. */
int master_check_tables(const struct service_table *tab, const char *path,
			struct buf *err);

/*
 * One service of the table.  def points into master_table (replaced on
 * reload); the counters describe the children started for this
 * definition only: children of an earlier definition are orphans.
 */
struct master_service {
	const struct service_def *def;
	char *path;	 /* the program to exec */
	char *sock_path; /* unix: the socket file; NULL for inet */
	int *fds;	 /* listeners */
	int nfds;
	int total_proc; /* children alive */
	int avail_proc; /* of which idle */
	int listening;	/* listeners registered with the event loop */
	int throttled;	/* bad start-up: no new child until the timer */
	int used;	/* a child was ever started ("300?" wakeups) */
	long long limit_warn_ms; /* no process limit warning before this */
	unsigned long throttle_timer;
	unsigned long wakeup_timer;
	struct master_service *next;
};

extern struct master_service *master_services;
extern struct service_table master_table;

/* master_files.c */
void master_make_dirs(void);
/* Effective uid, gid and groups of mail_owner, and back to root; no-ops
 * when master does not run as root.  Every bind, unlink and connect that
 * master does inside private/ or public/ runs between the two (Rule 1). */
void master_as_owner(void);
void master_as_root(void);
/* Takes the pid file lock (fatal when another master holds it) and writes
 * our pid; the lock is held until exit. */
void master_pidfile_lock(void);
void master_pidfile_remove(void);
/* 0 when no master runs on this queue, 1 when one does, 2 on error. */
int master_pidfile_test(void);

/* master_services.c */
/* The program path of a definition under the given daemon directory. */
char *master_service_path(const struct service_def *def);
/* Opens every service of master_table; fatal on any failure (start-up). */
void master_services_start(void);
/* Replaces master_table by newtab (taken over) and applies the
 * differences: added services start, removed ones stop, changed ones
 * restart, unchanged ones are not touched. */
void master_services_reload(struct service_table *newtab);
/* Stops every service: children ended (bounded wait), listeners closed,
 * unix sockets removed. */
void master_services_stop(void);
/* Removes the unix sockets only (the fatal-error cleanup path). */
void master_services_unlink(void);

/* master_spawn.c */
void master_spawn_init(void);
/* Registers or unregisters the listeners of serv so that a waiting client
 * starts a child exactly when the service has no idle child, is below its
 * process limit and is not throttled. */
void master_avail_listen(struct master_service *serv);
/* How often a service at its process limit may be warned about. */
#define MASTER_LIMIT_WARN_MS (10 * 60 * 1000)
/* Reload: a new generation; every child of an earlier one that still
 * belongs to a service gets SIGHUP (finish, then exit), and keeps
 * counting for its service until it exits. */
void master_reload_children(void);
/* Makes the service's children orphans and sends them sig. */
void master_detach_children(struct master_service *serv, int sig);
void master_throttle(struct master_service *serv);
void master_unthrottle(struct master_service *serv);
/* SIGCHLD: reaps every exited child. */
void master_reap_event(int signo, void *ctx);
/* Sends sig to every child; waits up to grace_ms for all of them to exit
 * (reaping them), then SIGKILLs and reaps the rest. */
void master_kill_all(int sig, long long grace_ms);
/* Closes master's end of the alive pipe (children see end of file). */
void master_spawn_close_alive(void);

/* master_wakeup.c */
void master_wakeup_init(struct master_service *serv);
void master_wakeup_cancel(struct master_service *serv);

/* master_queue.c: master's side of the queue keeper (master_keeper.c).
 * master never opens the queue environment itself (Rule 2). */
/* Start-up: forks the keeper and waits until it has recovered the queue;
 * fatal when it cannot. */
void master_queue_recover(void);
/* After an abnormal exit of child pid (already reaped): the keeper runs
 * failchk; when that asks for full recovery, every child is ended and a
 * new keeper recovers. */
void master_child_abnormal(pid_t pid, int status);
/* 1 when pid was the keeper (reaped by master_reap): a keeper that died
 * unasked is replaced, with recovery, from the event loop. */
int master_queue_reaped(pid_t pid, int status);
/* SIGTERM is being handled: no recovery any more (the next start runs
 * one). */
void master_queue_stopping(void);
/* Ends the keeper: it checkpoints and closes the environment. */
void master_queue_close(void);
/* Ends every child (SIGTERM, SIGKILL after MASTER_RESTART_GRACE_MS) and
 * reaps it; services start fresh children on demand afterwards.  Full
 * queue recovery needs every process out of the old environment. */
void master_restart_children(void);
#define MASTER_RESTART_GRACE_MS 2000

/* master_keeper.c: the keeper process.  master and the keeper exchange
 * fixed-size records on a socketpair; master reads nothing else from it
 * and trusts nothing in a record but its type. */
struct master_keeper_msg {
	int32_t type;
	int32_t pid;
};
#define MASTER_KEEPER_READY 1	/* keeper: recovery done */
#define MASTER_KEEPER_FAILCHK 2 /* master: pid died abnormally */
#define MASTER_KEEPER_OK 3	/* keeper: failchk resolved it */
#define MASTER_KEEPER_RECOVER 4 /* keeper: full recovery needed */
/* The forked child's whole life (see master_keeper.c); sock is its end of
 * the socketpair; foreground: master keeps its standard descriptors;
 * master_pid: master's pid, taken before the fork (a master killed right
 * after it would leave getppid() naming init). */
_Noreturn void master_keeper_main(int sock, int foreground, pid_t master_pid);

#endif
