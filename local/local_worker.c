/*
 * local_worker - mailbox deliveries in long-lived children of local, one
 * per recipient identity; see local.h.
 *
 * Why: a fork per delivery was most of local's cost (on a virtual machine
 * whose page tables are managed in software, a fork, its copy-on-write
 * faults and its exit cost milliseconds of CPU, several times a whole
 * Postfix delivery).  A worker is forked once for a (uid, gid), switches
 * to it for good (every uid: it can never become root again), and then
 * delivers every mailbox job local gives it for that identity until
 * local exits (max_use, max_idle), evicts it (the least recently used
 * one, when LOCAL_WORKERS_MAX are running), or it fails.  So a worker
 * only ever holds one identity's mail, exactly as the process per
 * delivery did.
 *
 * The exchange is local_job.h's: the job, the content descriptor, the
 * reply, all with local_job's codec.  A worker that does not answer
 * within the job's time limit is killed; one that dies or answers
 * nonsense is a temporary failure of that delivery (the mail is tried
 * again) and is replaced on the next job.  A job that could not even be
 * handed over (the idle worker had died) is given to a fresh worker once:
 * nothing of it was done.
 *
 * The spool's dotlocks need root (the spool directory is root's) and
 * must not outlive local: they are taken and removed by one more
 * long-lived child that stays root, the lock keeper, which also makes a
 * recipient's new spool mailbox.  When local goes away, even killed, the
 * keeper sees end of file, removes the locks it holds and exits; a
 * worker still writing keeps its fcntl lock on the mailbox until it is
 * done.  The keeper writes nothing of any mailbox and reads no content.
 *
 * A worker keeps none of local's descriptors but its socket, the log and
 * what master's protocol needs to notice a dead master: not the
 * request's connection (qmgr must see end of file when local dies), not
 * the other workers' sockets (each would keep the others alive), not
 * the listening socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "local.h"
#include "local_job.h"
#include "msg.h"
#include "sock.h"
#include "xalloc.h"

/* Distinct identities kept per local process: a mailbox host delivers
 * to many users, but a local process lives for max_use requests. */
#define LOCAL_WORKERS_MAX 8
/* Handing a job over and reading a reply once the work is done. */
#define LOCAL_WORKER_IO_MS (10 * 1000)

struct worker {
	pid_t pid; /* 0: the slot is free */
	int fd;
	int keeper; /* the spool lock keeper (root), not a recipient's */
	uid_t uid;
	gid_t gid;
	unsigned long long used; /* for least-recently-used eviction */
};

static struct worker pool[LOCAL_WORKERS_MAX];
static unsigned long long use_clock;

/* The worker. */

/* A reply text is one printable line (local_job.h). */
static void
reply_text(struct buf *out, const struct buf *text)
{
	size_t n =
	    text->len < LOCAL_JOB_TEXT_MAX ? text->len : LOCAL_JOB_TEXT_MAX;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text->data[i];

		buf_putc(out, c < ' ' || c == 0x7f ? '?' : (char)c);
	}
}

/* The content: a descriptor of exactly job->size bytes, read whole. */
static int
content_read(int cfd, const struct local_job *job, struct buf *content)
{
	struct stat sb;
	ssize_t n;

	if (fstat(cfd, &sb) < 0 || (long long)sb.st_size != job->size)
		return -1;
	buf_reserve(content, (size_t)job->size);
	while (content->len < (size_t)job->size) {
		n = pread(cfd, content->data + content->len,
			  (size_t)job->size - content->len,
			  (off_t)content->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		content->len += (size_t)n;
	}
	content->data[content->len] = '\0';
	return 0;
}

/* The keeper's locks, removed when local goes away (end of file) so that
 * a killed local leaves no lock behind. */
#define KEEPER_HELD_MAX 16
static char *held[KEEPER_HELD_MAX];

static void
keeper_run(const struct local_job *job, struct local_status *st)
{
	size_t i;

	if (local_job_kind(job) == LOCAL_JOB_UNLOCK) {
		local_spool_lock_drop(job->path);
		for (i = 0; i < KEEPER_HELD_MAX; i++)
			if (held[i] != NULL &&
			    strcmp(held[i], job->path) == 0) {
				xfree(held[i]);
				held[i] = NULL;
			}
		local_status_set(st, 2, "2.0.0", "unlocked");
		return;
	}
	for (i = 0; i < KEEPER_HELD_MAX && held[i] != NULL; i++)
		;
	if (i == KEEPER_HELD_MAX) {
		local_status_set(st, 4, "4.3.0", "too many spool locks held");
		return;
	}
	local_spool_lock_take(job->path, (uid_t)job->uid, (gid_t)job->gid, st);
	if (st->cls == 2)
		held[i] = xstrdup(job->path);
}

static void
keeper_exit(void)
{
	for (size_t i = 0; i < KEEPER_HELD_MAX; i++)
		if (held[i] != NULL)
			local_spool_lock_drop(held[i]);
	_exit(0);
}

/* virtual: the folders above a mailbox that are missing, made by the
 * recipient (0700), as Postfix's virtual makes a Maildir's; local's
 * mailboxes are in the spool or a home, which exist. */
static void
make_parents(const char *path)
{
	char *dir = xstrdup(path), *last = strrchr(dir, '/');
	struct stat sb;

	/* The usual case, one stat: the folder is there. */
	if (last != NULL && last != dir) {
		*last = '\0';
		if (stat(dir, &sb) == 0) {
			xfree(dir);
			return;
		}
		*last = '/';
	}
	for (char *p = strchr(dir + 1, '/'); p != NULL;
	     p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			break;
		*p = '/';
	}
	xfree(dir);
}

static void
job_run(const struct local_job *job, int cfd, struct local_status *st)
{
	struct local_msg msg;

	if (strcmp(local_cfg.relay, "virtual") == 0)
		make_parents(job->path);
	memset(&msg, 0, sizeof(msg));
	msg.sender = job->sender;
	msg.size = job->size;
	if (content_read(cfd, job, &msg.content) < 0)
		local_status_set(st, 4, "4.3.0",
				 "cannot read the message content: %s",
				 strerror(errno));
	else if (strcmp(job->kind, "maildir") == 0)
		local_maildir_deliver(&msg, job->to, job->path, st);
	else
		local_mbox_append(&msg, job->to, job->path, (uid_t)job->uid,
				  (gid_t)job->gid, (int)job->locks, st);
	buf_free(&msg.content);
}

static _Noreturn void
worker_main(int fd, int keeper, uid_t uid, gid_t gid)
{
	if (!keeper)
		local_child_privileges(uid, gid);
	for (;;) {
		struct attr_list l = ATTR_LIST_INIT;
		struct local_job job;
		struct local_job_reply reply;
		struct local_status st;
		struct buf why = BUF_INIT, text = BUF_INIT;
		int cfd;

		memset(&job, 0, sizeof(job));
		/* End of file: local is done with us. */
		if (attr_recv(fd, &l, LOCAL_JOB_LIST_MAX, -1) < 0) {
			if (keeper)
				keeper_exit();
			_exit(0);
		}
		if (local_job_decode(&l, &job, &why) < 0 ||
		    (local_job_kind(&job) >= LOCAL_JOB_LOCK) != keeper) {
			msg_warn("mailbox worker: malformed job: %s",
				 why.len ? buf_cstr(&why) : "not for us");
			if (keeper)
				keeper_exit();
			_exit(1);
		}
		local_status_init(&st);
		if (keeper) {
			keeper_run(&job, &st);
		} else if ((cfd = sock_recv_fd(fd, LOCAL_WORKER_IO_MS)) < 0) {
			msg_warn("mailbox worker: no message content: %s",
				 strerror(errno));
			_exit(1);
		} else {
			job_run(&job, cfd, &st);
			close(cfd);
		}
		reply_text(&text, &st.text);
		reply.cls = st.cls;
		reply.dsn = st.dsn;
		reply.text = (char *)buf_cstr(&text);
		attr_list_reset(&l);
		local_job_reply_encode(&reply, &l);
		if (attr_send(fd, &l, LOCAL_WORKER_IO_MS) < 0) {
			if (keeper)
				keeper_exit();
			_exit(0);
		}
		attr_list_free(&l);
		local_job_free(&job);
		local_status_free(&st);
		buf_free(&why);
		buf_free(&text);
	}
}

/* The pool, in local. */

/* Closes the worker's socket and reaps it: 0, or its wait status.  An
 * idle worker exits at end of file; a busy one is killed first. */
static int
worker_stop(struct worker *w, int kill_it)
{
	int status = 0;

	if (kill_it)
		kill(w->pid, SIGKILL);
	close(w->fd);
	while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
		;
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	return status;
}

static struct worker *
worker_start(int keeper, uid_t uid, gid_t gid, struct local_status *st)
{
	struct worker *w = NULL;
	int sv[2];
	pid_t pid;

	for (size_t i = 0; i < LOCAL_WORKERS_MAX; i++)
		if (pool[i].pid == 0) {
			w = &pool[i];
			break;
		}
	if (w == NULL) {
		/* The keeper is never evicted: it may hold a lock. */
		for (size_t i = 0; i < LOCAL_WORKERS_MAX; i++)
			if (!pool[i].keeper &&
			    (w == NULL || pool[i].used < w->used))
				w = &pool[i];
		(void)worker_stop(w, 0);
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		local_status_set(st, 4, "4.3.0",
				 "cannot create a socket pair: %s",
				 strerror(errno));
		return NULL;
	}
	if ((pid = fork()) < 0) {
		local_status_set(st, 4, "4.3.0", "cannot fork: %s",
				 strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return NULL;
	}
	if (pid == 0) {
		close(sv[0]);
		for (size_t i = 0; i < LOCAL_WORKERS_MAX; i++)
			if (pool[i].pid != 0)
				close(pool[i].fd);
		if (local_cfg.client_fd >= 0)
			close(local_cfg.client_fd);
		daemon_close_listeners();
		worker_main(sv[1], keeper, uid, gid);
	}
	close(sv[1]);
	w->pid = pid;
	w->fd = sv[0];
	w->keeper = keeper;
	w->uid = uid;
	w->gid = gid;
	return w;
}

static struct worker *
worker_find(int keeper, uid_t uid, gid_t gid)
{
	for (size_t i = 0; i < LOCAL_WORKERS_MAX; i++)
		if (pool[i].pid != 0 && pool[i].keeper == keeper &&
		    (keeper || (pool[i].uid == uid && pool[i].gid == gid)))
			return &pool[i];
	return NULL;
}

/* The job and the content descriptor, if any: 0, or -1 with errno. */
static int
job_send(struct worker *w, const struct attr_list *l, int content_fd)
{
	if (attr_send(w->fd, l, LOCAL_WORKER_IO_MS) < 0)
		return -1;
	return content_fd < 0 ? 0 : sock_send_fd(w->fd, content_fd);
}

static void
died(struct local_status *st, int status)
{
	local_status_set(st, 4, "4.3.0", "delivery process died (%s %d)",
			 WIFSIGNALED(status) ? "signal" : "status",
			 WIFSIGNALED(status) ? WTERMSIG(status)
					     : WEXITSTATUS(status));
}

/* One job for the keeper or (uid, gid)'s worker, and its reply in st. */
static void
worker_call(int keeper, const struct local_job *job, int content_fd,
	    int timeout, struct local_status *st)
{
	uid_t uid = (uid_t)job->uid;
	gid_t gid = (gid_t)job->gid;
	struct local_job_reply reply;
	struct attr_list l = ATTR_LIST_INIT;
	struct buf why = BUF_INIT;
	struct worker *w = NULL;
	int sent = -1;

	memset(&reply, 0, sizeof(reply));
	local_job_encode(job, &l);
	/* A worker that died idle has done nothing of this job: once more,
	 * with a fresh one. */
	for (int attempt = 0; attempt < 2 && sent < 0; attempt++) {
		if ((w = worker_find(keeper, uid, gid)) == NULL &&
		    (w = worker_start(keeper, uid, gid, st)) == NULL)
			goto done;
		if ((sent = job_send(w, &l, content_fd)) < 0)
			(void)worker_stop(w, 1);
	}
	if (sent < 0) {
		local_status_set(st, 4, "4.3.0",
				 "cannot pass the delivery to its process: %s",
				 strerror(errno));
		goto done;
	}
	w->used = ++use_clock;
	attr_list_reset(&l);
	if (attr_recv(w->fd, &l, LOCAL_JOB_LIST_MAX, timeout * 1000) < 0) {
		if (errno == ETIMEDOUT) {
			(void)worker_stop(w, 1);
			local_status_set(st, 4, "4.3.0",
					 "delivery timed out after %d s",
					 timeout);
		} else {
			died(st, worker_stop(w, 1));
		}
		goto done;
	}
	if (local_job_reply_decode(&l, &reply, &why) < 0) {
		msg_warn("mailbox worker %ld: malformed reply: %s",
			 (long)w->pid, buf_cstr(&why));
		(void)worker_stop(w, 1);
		local_status_set(st, 4, "4.3.0",
				 "delivery process protocol error");
		goto done;
	}
	local_status_set(st, (int)reply.cls, reply.dsn, "%s", reply.text);
done:
	local_job_reply_free(&reply);
	attr_list_free(&l);
	buf_free(&why);
}

void
local_worker_deliver(const struct local_msg *msg, const char *kind,
		     const char *path, const char *to, uid_t uid, gid_t gid,
		     int locks, int timeout, struct local_status *st)
{
	struct local_job job = {
	    .kind = (char *)kind,
	    .path = (char *)path,
	    .sender = msg->sender,
	    .to = (char *)to,
	    .uid = (long long)uid,
	    .gid = (long long)gid,
	    .locks = locks != 0,
	    .size = msg->size,
	};

	worker_call(0, &job, msg->content_fd, timeout, st);
}

static void
keeper_call(const char *kind, const char *path, uid_t uid, gid_t gid,
	    int timeout, struct local_status *st)
{
	struct local_job job = {
	    .kind = (char *)kind,
	    .path = (char *)path,
	    .sender = "",
	    .to = "",
	    .uid = (long long)uid,
	    .gid = (long long)gid,
	};

	worker_call(1, &job, -1, timeout, st);
}

void
local_keeper_lock(const char *path, uid_t uid, gid_t gid, int timeout,
		  struct local_status *st)
{
	keeper_call("lock", path, uid, gid, timeout, st);
}

void
local_keeper_unlock(const char *path)
{
	struct local_status st;

	local_status_init(&st);
	keeper_call("unlock", path, 0, 0, LOCAL_WORKER_IO_MS / 1000, &st);
	if (st.cls != 2)
		msg_warn("cannot remove lock file %s.lock: %s", path,
			 buf_cstr(&st.text));
	local_status_free(&st);
}

void
local_workers_close(void)
{
	for (size_t i = 0; i < LOCAL_WORKERS_MAX; i++)
		if (pool[i].pid != 0)
			(void)worker_stop(&pool[i], 0);
}
