/*
 * queue_env - the Berkeley DB environment of the queue: open, recovery,
 * failure checking, checkpoints, and the transaction retry loop; see
 * queue.h for the contract.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "msg.h"
#include "queue_int.h"
#include "xalloc.h"

#define CACHE_BYTES (4 * 1024 * 1024)
#define LOG_BUFFER_BYTES (256 * 1024)
#define LOCK_TIMEOUT_USEC (5 * 1000000)
#define TXN_TIMEOUT_USEC (30 * 1000000)
#define LOCK_TABLE_SIZE 20000
#define LOCKERS_MAX 5000
#define TXN_MAX 1000

#define ENV_FLAGS                                                              \
	(DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK | DB_INIT_LOG |                \
	 DB_INIT_MPOOL | DB_REGISTER)

static void
errcall(const DB_ENV *env, const char *prefix, const char *text)
{
	(void)env;
	(void)prefix;
	msg_warn("queue: %s", text);
}

/* Berkeley DB's informational messages: failchk's inner steps after any
 * child dies ("BDB2053 Freeing read locks for locker ...", "BDB1502
 * Freeing log information ...") are noise for an administrator, since the
 * keeper logs failchk's outcome itself; verbose logging keeps them.  The
 * others (an aborted transaction of a dead process) are worth a line. */
static void
msgcall(const DB_ENV *env, const char *text)
{
	(void)env;
	if (strncmp(text, "BDB2053 ", 8) == 0 ||
	    strncmp(text, "BDB1502 ", 8) == 0)
		msg_debug("queue: %s", text);
	else
		msg_info("queue: %s", text);
}

static int
default_isalive(pid_t pid)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

/* Berkeley DB's is-alive hook: processes only, so the thread id is moot. */
static int
isalive_hook(DB_ENV *env, pid_t pid, db_threadid_t tid, u_int32_t flags)
{
	struct queue *q = env->app_private;

	(void)tid;
	(void)flags;
	if (pid == getpid())
		return 1;
	if (q != NULL && q->isalive != NULL)
		return q->isalive(pid);
	return default_isalive(pid);
}

int
queue_db_retryable(int err)
{
	return err == DB_LOCK_DEADLOCK || err == DB_LOCK_NOTGRANTED;
}

int
queue_db_error(const char *what, int err)
{
	if (err == 0)
		return QUEUE_OK;
	if (err == DB_NOTFOUND)
		return QUEUE_NOTFOUND;
	if (err == EINVAL)
		return QUEUE_ERROR; /* logged where it was found */
	msg_warn("queue: %s: %s", what, db_strerror(err));
	if (err == DB_RUNRECOVERY)
		return QUEUE_RECOVER;
	return QUEUE_ERROR;
}

void
queue_backoff(int attempt)
{
	static unsigned seed;
	static pid_t seeded;
	useconds_t base;

	/* Exponential, from 1 ms up to 256 ms, with jitter so that the
	 * processes that collided do not collide again (seeded per process:
	 * a forked child must not replay its parent's sequence). */
	if (seeded != getpid()) {
		seeded = getpid();
		seed = (unsigned)seeded ^ (unsigned)time(NULL);
	}
	base = (useconds_t)1000 << (attempt < 8 ? attempt : 8);
	usleep(base / 2 + (useconds_t)rand_r(&seed) % base);
}

int
queue_txn_run(struct queue *q, const char *what,
	      int (*fn)(struct queue *q, DB_TXN *txn, void *ctx), void *ctx,
	      u_int32_t commit_flags)
{
	DB_TXN *txn;
	int attempt, err;

	for (attempt = 0;; attempt++) {
		err = q->env->txn_begin(q->env, NULL, &txn, 0);
		if (err != 0)
			return queue_db_error(what, err);
		err = fn(q, txn, ctx);
		if (err == 0)
			return queue_db_error(what,
					      txn->commit(txn, commit_flags));
		(void)txn->abort(txn);
		if (!queue_db_retryable(err) ||
		    attempt + 1 >= QUEUE_TXN_RETRIES)
			return queue_db_error(what, err);
		if (msg_verbose)
			msg_debug("queue: %s: %s, retrying", what,
				  db_strerror(err));
		queue_backoff(attempt);
	}
}

static int
check(const char *what, int err)
{
	if (err != 0)
		msg_warn("queue: %s: %s", what, db_strerror(err));
	return err;
}

/* Everything set before DB_ENV->open; the same in every process. */
static int
env_configure(DB_ENV *env)
{
	if (check("set_flags DB_REGION_INIT",
		  env->set_flags(env, DB_REGION_INIT, 1)) ||
	    check("set_cachesize",
		  env->set_cachesize(env, 0, CACHE_BYTES, 1)) ||
	    check("set_lg_bsize", env->set_lg_bsize(env, LOG_BUFFER_BYTES)) ||
	    check("set_lg_filemode", env->set_lg_filemode(env, 0600)) ||
	    check("log_set_config",
		  env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1)) ||
	    check("set_lk_detect", env->set_lk_detect(env, DB_LOCK_DEFAULT)) ||
	    check("set_lk_max_locks",
		  env->set_lk_max_locks(env, LOCK_TABLE_SIZE)) ||
	    check("set_lk_max_objects",
		  env->set_lk_max_objects(env, LOCK_TABLE_SIZE)) ||
	    check("set_lk_max_lockers",
		  env->set_lk_max_lockers(env, LOCKERS_MAX)) ||
	    check("set_tx_max", env->set_tx_max(env, TXN_MAX)) ||
	    check("lock timeout", env->set_timeout(env, LOCK_TIMEOUT_USEC,
						   DB_SET_LOCK_TIMEOUT)) ||
	    check("txn timeout", env->set_timeout(env, TXN_TIMEOUT_USEC,
						  DB_SET_TXN_TIMEOUT)) ||
	    check("set_thread_count",
		  env->set_thread_count(env, QUEUE_THREAD_COUNT)) ||
	    check("set_isalive", env->set_isalive(env, isalive_hook)))
		return -1;
	env->set_errcall(env, errcall);
	env->set_msgcall(env, msgcall);
	return 0;
}

/* The databases of the environment (queue.h, "Layout"), in the order
 * open_common() opens them. */
static const char *const db_files[] = {"envelope.db", "content.db",
				       "schedule.db"};

static int
db_open(struct queue *q, DB **dbp, const char *file)
{
	DB *db;
	int attempt, err;

	for (attempt = 0;; attempt++) {
		if ((err = db_create(&db, q->env, 0)) != 0)
			return queue_db_error(file, err);
		err = db->open(db, NULL, file, NULL, DB_BTREE,
			       DB_CREATE | DB_AUTO_COMMIT, 0600);
		if (err == 0) {
			*dbp = db;
			return QUEUE_OK;
		}
		(void)db->close(db, 0);
		if (!queue_db_retryable(err) ||
		    attempt + 1 >= QUEUE_TXN_RETRIES)
			return queue_db_error(file, err);
		queue_backoff(attempt);
	}
}

static void
db_close(DB **dbp, u_int32_t flags, int *result)
{
	int err;

	if (*dbp == NULL)
		return;
	if ((err = (*dbp)->close(*dbp, flags)) != 0 && *result == QUEUE_OK)
		*result = queue_db_error("close", err);
	*dbp = NULL;
}

/* Closes what is open; QUEUE_OK or the first error.  close_flags is
 * DB_NOSYNC for a panicked environment, whose cache must never be written
 * over the files that recovery has already repaired. */
static int
queue_free(struct queue *q, u_int32_t close_flags)
{
	int result = QUEUE_OK, err;

	db_close(&q->envelope, close_flags, &result);
	db_close(&q->content, close_flags, &result);
	db_close(&q->schedule, close_flags, &result);
	if (q->env != NULL) {
		err = q->env->close(q->env, 0);
		if (err != 0 && result == QUEUE_OK)
			result = queue_db_error("close environment", err);
	}
	xfree(q);
	return result;
}

static int
make_db_dir(const char *dir)
{
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		msg_warn("queue: mkdir %s: %m", dir);
		return -1;
	}
	return 0;
}

/* How long recovery waits for the last users of the old environment
 * (daemons of a master that was killed end within 2 s of its death). */
#define QUEUE_ENV_USERS_WAIT_MS 5000
/* How long queue_env_end_stuck_users() waits for the ones it killed. */
#define QUEUE_ENV_KILLED_WAIT_MS 2000

/*
 * 1 when no live process has the environment in home open: each one
 * holds a fcntl lock on its line of __db.register for as long as it
 * does, and such locks end with their process.  Waits up to wait_ms
 * for the last one to go; with kill_stuck, then kills the ones still
 * there (queue.h, queue_env_end_stuck_users) and waits a little more.
 */
static int
env_unused(const char *home, int wait_ms, int kill_stuck)
{
	struct buf reg = BUF_INIT;
	int fd, unused = 0;
	int limit = wait_ms + (kill_stuck ? QUEUE_ENV_KILLED_WAIT_MS : 0);
	pid_t killed = 0;

	buf_printf(&reg, "%s/__db.register", home);
	fd = open(buf_cstr(&reg), O_RDONLY | O_CLOEXEC);
	buf_free(&reg);
	if (fd < 0)
		return errno == ENOENT;
	for (int waited = 0;; waited += 50) {
		struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

		if (fcntl(fd, F_GETLK, &fl) < 0)
			break;
		if (fl.l_type == F_UNLCK) {
			unused = 1;
			break;
		}
		if (waited >= limit)
			break;
		if (kill_stuck && waited >= wait_ms && fl.l_pid > 0 &&
		    fl.l_pid != killed) {
			msg_warn("queue: process %ld still uses the old "
				 "environment after %d s: killing it",
				 (long)fl.l_pid, wait_ms / 1000);
			if (kill(fl.l_pid, SIGKILL) < 0) {
				msg_warn("queue: kill %ld: %m", (long)fl.l_pid);
				break;
			}
			killed = fl.l_pid;
		}
		(void)poll(NULL, 0, 50);
	}
	close(fd);
	return unused;
}

void
queue_env_end_stuck_users(const char *queue_dir)
{
	struct buf home = BUF_INIT;

	buf_printf(&home, "%s/db", queue_dir);
	(void)env_unused(buf_cstr(&home), QUEUE_ENV_USERS_WAIT_MS, 1);
	buf_free(&home);
}

/* 1 for the name of a region file ("__db." and digits; not
 * "__db.register"). */
static int
is_region_file(const char *n)
{
	size_t i = strlen("__db.");

	if (strncmp(n, "__db.", i) != 0 || n[i] == 0)
		return 0;
	while (isdigit((unsigned char)n[i]))
		i++;
	return n[i] == 0;
}

/*
 * Removes the shared regions (__db.001 ...) of an environment nobody
 * uses any more, so that recovery builds new ones from the log and the
 * databases.  Why: a process killed while it held one of their mutexes
 * leaves it locked for ever (Berkeley DB 5.3's mutexes are not robust),
 * and recovery that reattached to the old regions waited on it without
 * end (seen in the kill soak: master never served again).
 */
static void
remove_stale_regions(const char *home)
{
	struct buf path = BUF_INIT;
	struct dirent *d;
	DIR *dir;

	if ((dir = opendir(home)) == NULL)
		return;
	while ((d = readdir(dir)) != NULL) {
		const char *n = d->d_name;

		if (!is_region_file(n))
			continue; /* __db.register goes below */
		buf_reset(&path);
		buf_printf(&path, "%s/%s", home, n);
		if (unlink(buf_cstr(&path)) < 0 && errno != ENOENT)
			msg_warn("queue: unlink %s: %m", buf_cstr(&path));
	}
	closedir(dir);
	buf_free(&path);
}

/*
 * Berkeley DB grows a region (the buffer cache's above all) by lengthening
 * its file and touching the new pages through the mapping.  On a full
 * file system that touch is SIGBUS: the process dies inside the library,
 * the environment panics, and recovery itself then fails for want of
 * space (seen with the queue on a full tmpfs: master gave up).  So the
 * space regions can grow into is taken when the environment is made:
 * DB_REGION_INIT writes each region's first size, and this reserves
 * REGION_RESERVE_BYTES more behind every region file (FALLOC_FL_KEEP_SIZE:
 * the length stays, the blocks are there when Berkeley DB lengthens it).
 * A full disk then fails writes with ENOSPC, which Berkeley DB returns
 * and the caller answers (451), never a signal.  The bound: the largest
 * region's growth is the buffer cache's, CACHE_BYTES.
 */
#define REGION_RESERVE_BYTES (CACHE_BYTES + 1024 * 1024)

static void
reserve_region_space(const char *home)
{
	struct dirent *d;
	struct stat st;
	DIR *dir;
	int fd;

	if ((dir = opendir(home)) == NULL)
		return;
	while ((d = readdir(dir)) != NULL) {
		if (!is_region_file(d->d_name))
			continue;
		fd = openat(dirfd(dir), d->d_name,
			    O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    fallocate(fd, FALLOC_FL_KEEP_SIZE, 0,
			      st.st_size + REGION_RESERVE_BYTES) < 0)
			msg_warn("queue: cannot reserve space behind %s/%s: "
				 "%m (with the disk full, the queue may stop)",
				 home, d->d_name);
		(void)close(fd);
	}
	closedir(dir);
}

static int
open_common(const char *queue_dir, queue_isalive_fn isalive, u_int32_t flags,
	    int force_recovery, struct queue **qp)
{
	struct buf home = BUF_INIT, reg = BUF_INIT;
	struct queue *q;
	mode_t old_umask;
	int err, result;

	*qp = NULL;
	buf_printf(&home, "%s/db", queue_dir);
	if (make_db_dir(buf_cstr(&home)) < 0) {
		buf_free(&home);
		return QUEUE_ERROR;
	}
	q = xcalloc(1, sizeof(*q));
	q->isalive = isalive;
	if ((err = db_env_create(&q->env, 0)) != 0) {
		q->env = NULL;
		buf_free(&home);
		queue_free(q, 0);
		return queue_db_error("db_env_create", err);
	}
	q->env->app_private = q;
	if (env_configure(q->env) < 0) {
		buf_free(&home);
		queue_free(q, 0);
		return QUEUE_ERROR;
	}
	if (force_recovery) {
		/* Nobody left in the old environment: new regions.  Someone
		 * still there (a process that outlived its grace): keep
		 * them, and let DB_REGISTER panic that process's view. */
		if (env_unused(buf_cstr(&home), QUEUE_ENV_USERS_WAIT_MS, 0))
			remove_stale_regions(buf_cstr(&home));
		else
			msg_warn("queue: processes still use the old "
				 "environment; recovering beside them");
		/* A fresh registry makes DB_REGISTER run recovery and panic
		 * the environment of any process still using the old one. */
		buf_printf(&reg, "%s/__db.register", buf_cstr(&home));
		if (unlink(buf_cstr(&reg)) < 0 && errno != ENOENT)
			msg_warn("queue: unlink %s: %m", buf_cstr(&reg));
		buf_free(&reg);
	}
	/* Berkeley DB creates its registry file 0660 whatever we ask. */
	old_umask = umask(077);
	err = q->env->open(q->env, buf_cstr(&home), ENV_FLAGS | flags, 0600);
	umask(old_umask);
	if (err != 0) {
		msg_warn("queue: open environment %s: %s", buf_cstr(&home),
			 db_strerror(err));
		buf_free(&home);
		result = err == DB_RUNRECOVERY ? QUEUE_RECOVER : QUEUE_ERROR;
		queue_free(q, 0);
		return result;
	}
	if (force_recovery)
		reserve_region_space(buf_cstr(&home));
	buf_free(&home);
	if ((result = db_open(q, &q->envelope, db_files[0])) != QUEUE_OK ||
	    (result = db_open(q, &q->content, db_files[1])) != QUEUE_OK ||
	    (result = db_open(q, &q->schedule, db_files[2])) != QUEUE_OK) {
		queue_free(q, 0);
		return result;
	}
	*qp = q;
	return QUEUE_OK;
}

int
queue_open(const char *queue_dir, queue_isalive_fn isalive, struct queue **qp)
{
	return open_common(queue_dir, isalive, DB_FAILCHK, 0, qp);
}

int
queue_verify_files(const char *queue_dir,
		   void (*bad)(const char *path, const char *why, void *ctx),
		   void *ctx)
{
	struct buf path = BUF_INIT;
	struct stat st;
	int failed = 0, err;
	DB *db;

	for (size_t i = 0; i < sizeof(db_files) / sizeof(db_files[0]); i++) {
		buf_reset(&path);
		buf_printf(&path, "%s/db/%s", queue_dir, db_files[i]);
		if (stat(buf_cstr(&path), &st) < 0)
			continue;
		if ((err = db_create(&db, NULL, 0)) == 0)
			/* verify destroys the handle in every case. */
			err = db->verify(db, buf_cstr(&path), NULL, NULL, 0);
		if (err != 0) {
			bad(buf_cstr(&path), db_strerror(err), ctx);
			failed++;
		}
	}
	buf_free(&path);
	return failed;
}

int
queue_env_recover(const char *queue_dir, queue_isalive_fn isalive,
		  struct queue **qp)
{
	int result, purged;

	result = open_common(queue_dir, isalive, DB_RECOVER, 1, qp);
	if (result != QUEUE_OK)
		return result;
	purged = queue_purge_orphans(*qp, time(NULL) + 1);
	if (purged < 0) {
		/* The purge reads every content key and looks up its
		 * envelope: a page that fails here is damage recovery cannot
		 * mend, and every daemon would meet it again. */
		msg_warn("queue: the database files cannot be read after "
			 "recovery: with the mail system stopped, \"pansuper "
			 "-s\" salvages what is readable (INSTALL: \"When the "
			 "queue database is damaged\")");
		/* Panicked: let go without a checkpoint. */
		(*qp)->needs_recovery = 1;
		(void)queue_close(*qp);
		*qp = NULL;
		return QUEUE_ERROR;
	}
	if (purged > 0)
		msg_info("queue: removed the partial content of %d message%s",
			 purged, purged == 1 ? "" : "s");
	return QUEUE_OK;
}

int
queue_env_failchk(struct queue *q)
{
	int err = q->env->failchk(q->env, 0);

	if (err == DB_RUNRECOVERY) {
		msg_warn("queue: failchk: the environment needs recovery");
		q->needs_recovery = 1;
		return QUEUE_RECOVER;
	}
	return queue_db_error("failchk", err);
}

int
queue_checkpoint(struct queue *q)
{
	return queue_db_error("checkpoint",
			      q->env->txn_checkpoint(q->env, 0, 0, 0));
}

int
queue_lock_expire(struct queue *q)
{
	int rejected = 0;

	return queue_db_error(
	    "lock_detect",
	    q->env->lock_detect(q->env, 0, DB_LOCK_EXPIRE, &rejected));
}

int
queue_close(struct queue *q)
{
	int result;

	if (q == NULL)
		return QUEUE_OK;
	if (q->needs_recovery) {
		/* A dead process may hold a region mutex (the log's, when it
		 * died flushing): a checkpoint would wait for it for ever.
		 * Panic the environment (every call returns at once), let go
		 * of the handles without writing anything, and leave the rest
		 * to recovery. */
		(void)q->env->set_flags(q->env, DB_PANIC_ENVIRONMENT, 1);
		(void)queue_free(q, DB_NOSYNC);
		return QUEUE_RECOVER;
	}
	result = queue_checkpoint(q);
	if (result == QUEUE_RECOVER) {
		/* Let go of a panicked environment without leaking its file
		 * handles: the close calls would stop at the panic. */
		(void)q->env->set_flags(q->env, DB_NOPANIC, 1);
		(void)queue_free(q, DB_NOSYNC);
		return result;
	}
	if (result != QUEUE_OK) {
		(void)queue_free(q, 0);
		return result;
	}
	return queue_free(q, 0);
}
