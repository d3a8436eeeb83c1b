/*
 * qmgr_deliver - one delivery request over private/TRANSPORT
 * (lib/deliver_proto.h), without ever blocking the event loop.
 *
 * connect (non-blocking; a full backlog pauses the transport briefly, a
 * missing or refusing socket makes it dead), write the request as the
 * socket accepts it, read the reply as it comes, decode it once complete,
 * all under one ipc_timeout.  The reply is checked, not trusted: unknown
 * or repeated recipient indexes are ignored, a class other than 2/4/5 is
 * a protocol error, a status code that disagrees with its class is
 * replaced by the class's generic one, and texts are bounded and made
 * printable before they reach the queue or the log.  Whatever the agent
 * did not report (it died, timed out, failed or forgot) is deferred.
 *
 * A transport whose service runs as root gets the content with the
 * request, as a sealed memory file sent after the request's attribute
 * list (qmgr_forward.c); forward groups in a reply become new messages
 * before the recipient that asked for them is recorded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "attr.h"
#include "deliver_request.h"
#include "sock.h"
#include "dsn.h"
#include "events.h"
#include "msg.h"
#include "qmgr.h"
#include "xalloc.h"

#define QMGR_READ_CHUNK 65536
#define QMGR_TEXT_MAX 900

static void
job_close(struct qmgr_job *job)
{
	if (job->fd >= 0) {
		event_fd_remove(job->fd);
		close(job->fd);
		job->fd = -1;
	}
	if (job->timer != 0) {
		event_timer_cancel(job->timer);
		job->timer = 0;
	}
	if (job->content_fd >= 0) {
		close(job->content_fd);
		job->content_fd = -1;
	}
}

/* The agent failed as a whole: defer the job, the site is dead. */
static void
job_fail(struct qmgr_job *job, const char *text)
{
	job_close(job);
	msg_warn("%s: %s transport to %s: %s", job->msg->id,
		 job->dest->tr->name,
		 *job->dest->nexthop ? job->dest->nexthop : "local", text);
	qmgr_job_defer(job, "4.3.0", text, 1);
}

static void
encode_request(struct qmgr_job *job)
{
	const struct queue_envelope *env = &job->msg->env;
	struct deliver_request req;
	struct attr_list l = ATTR_LIST_INIT;

	memset(&req, 0, sizeof(req));
	req.queue_id = job->msg->id;
	req.transport = job->dest->tr->name;
	req.nexthop = job->dest->nexthop;
	req.sender = env->sender;
	req.arrival = (long long)env->arrival_sec;
	req.arrival_usec = (long long)env->arrival_usec;
	req.active_ms = (long long)job->msg->active_tv.tv_sec * 1000 +
			job->msg->active_tv.tv_usec / 1000;
	req.size = (long long)env->size;
	req.flags = (long long)env->flags;
	req.envid = env->envid;
	req.ret = (long long)env->ret;
	req.client_addr = env->client_addr;
	req.content =
	    job->content_fd >= 0 ? (char *)DELIVER_CONTENT_DESCRIPTOR : NULL;
	req.rcpts = xcalloc(job->nrcpt, sizeof(*req.rcpts));
	req.nrcpt = job->nrcpt;
	for (size_t i = 0; i < job->nrcpt; i++) {
		const struct queue_rcpt *r = &env->rcpts[job->rcpts[i]];

		req.rcpts[i].index = (long long)job->rcpts[i];
		req.rcpts[i].address = r->address;
		req.rcpts[i].orcpt = r->orcpt;
		req.rcpts[i].notify = (long long)r->notify;
	}
	deliver_request_encode(&req, &l);
	xfree(req.rcpts);
	attr_encode(&l, &job->out);
	attr_list_free(&l);
}

/* Reply handling: the agent's statuses (deliver_request.h), by position
 * in the job. */

struct reply {
	size_t n;
	int *cls; /* 0: not reported */
	char **dsn, **text, **mta;
	const struct deliver_status **st; /* the agent's, or NULL */
};

static void
reply_init(struct reply *r, size_t n)
{
	r->n = n;
	r->cls = xcalloc(n, sizeof(int));
	r->dsn = xcalloc(n, sizeof(char *));
	r->text = xcalloc(n, sizeof(char *));
	r->mta = xcalloc(n, sizeof(char *));
	r->st = xcalloc(n, sizeof(*r->st));
}

static void
reply_free(struct reply *r)
{
	for (size_t i = 0; i < r->n; i++) {
		xfree(r->dsn[i]);
		xfree(r->text[i]);
		xfree(r->mta[i]);
	}
	xfree(r->st);
	xfree(r->cls);
	xfree(r->dsn);
	xfree(r->text);
	xfree(r->mta);
}

/* A bounded, printable copy of a text the agent sent. */
static char *
clean_value(const char *v)
{
	size_t len = strnlen(v, QMGR_TEXT_MAX);
	char *s = xmalloc(len + 1);

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		s[i] = c < ' ' || c == 0x7f ? '?' : (char)c;
	}
	s[len] = '\0';
	return s;
}

/* The position of a reported rcpt_index within the job, or -1. */
static long
job_position(const struct qmgr_job *job, long long index)
{
	for (size_t i = 0; i < job->nrcpt; i++)
		if ((long long)job->rcpts[i] == index)
			return (long)i;
	return -1;
}

/* Takes the statuses of the job's recipients: an unknown index, or one
 * reported before, is ignored (the first report counts). */
static void
reply_collect(const struct qmgr_job *job, const struct deliver_reply *d,
	      struct reply *r)
{
	for (size_t k = 0; k < d->nrcpt; k++) {
		const struct deliver_status *st = &d->rcpts[k];
		long pos = job_position(job, st->index);

		if (pos < 0 || r->st[pos] != NULL)
			continue;
		r->st[pos] = st;
		r->cls[pos] = (int)st->cls;
		r->dsn[pos] = clean_value(st->dsn);
		r->text[pos] = clean_value(st->text);
		r->mta[pos] = clean_value(st->remote_mta);
	}
}

/* The status code must be valid and of the reported class. */
static void
reply_fix_dsn(struct reply *r, size_t i)
{
	if (r->dsn[i] && dsn_status_valid(r->dsn[i]) &&
	    r->dsn[i][0] == '0' + r->cls[i])
		return;
	xfree(r->dsn[i]);
	r->dsn[i] = xstrdup(r->cls[i] == 2   ? "2.0.0"
			    : r->cls[i] == 4 ? "4.0.0"
					     : "5.0.0");
}

/* Every recipient deferred for a network or routing reason (4.4.x): the
 * destination itself is unreachable. */
static int
site_unreachable(const struct reply *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->cls[i] != 4 || strncmp(r->dsn[i], "4.4.", 4) != 0)
			return 0;
	return r->n > 0;
}

/* A delivered recipient whose forwards cannot be queued is deferred: it
 * is tried again, forwards and all.  Forwards of a recipient that was
 * not delivered are dropped for the same reason. */
static void
forward_or_defer(struct qmgr_job *job, struct reply *r, size_t i)
{
	struct buf why = BUF_INIT;

	if (qmgr_forward(job->msg, job->rcpts[i], r->st[i]->forwards,
			 r->st[i]->nforward, &why) < 0) {
		r->cls[i] = 4;
		xfree(r->dsn[i]);
		r->dsn[i] = xstrdup("4.3.0");
		xfree(r->text[i]);
		r->text[i] = buf_steal(&why);
		qmgr_log_rcpt(job->msg, job->rcpts[i], "local", "4.3.0",
			      "deferred", r->text[i]);
	}
	buf_free(&why);
}

static void
reply_apply(struct qmgr_job *job, struct reply *r, int failed,
	    const char *reason)
{
	const char *why = failed && reason && *reason
			      ? reason
			      : "delivery agent did not report a status";
	const char *dead_dsn = NULL, *dead_why = NULL;

	for (size_t i = 0; i < r->n; i++) {
		if (r->cls[i] == 0) {
			/* Not reported: deferred, and logged here. */
			r->cls[i] = 4;
			r->dsn[i] = xstrdup("4.3.0");
			r->text[i] = xstrdup(why);
			qmgr_log_rcpt(job->msg, job->rcpts[i], "none", "4.3.0",
				      "deferred", why);
			continue;
		}
		reply_fix_dsn(r, i);
		if (r->text[i] == NULL)
			r->text[i] = xstrdup("");
		if (r->cls[i] == 2 && r->st[i]->nforward > 0)
			forward_or_defer(job, r, i);
	}
	qmgr_message_record(
	    job->msg, job->rcpts, r->cls, (const char *const *)r->dsn,
	    (const char *const *)r->text, (const char *const *)r->mta, r->n);
	if (failed) {
		dead_dsn = "4.3.0";
		dead_why = why;
	} else if (site_unreachable(r)) {
		dead_dsn = r->dsn[0];
		dead_why = r->text[0];
	}
	qmgr_job_finished(job, dead_dsn, dead_why);
}

static void
reply_received(struct qmgr_job *job, const struct attr_list *l)
{
	struct deliver_reply d;
	struct reply r;
	struct buf why = BUF_INIT;
	char *reason = NULL;
	int failed;

	memset(&d, 0, sizeof(d));
	job_close(job);
	if (deliver_reply_decode(l, &d, &why) < 0) {
		msg_warn("%s: malformed reply from the %s delivery agent: %s",
			 job->msg->id, job->dest->tr->name, buf_cstr(&why));
		deliver_reply_free(&d);
		buf_free(&why);
		qmgr_job_defer(job, "4.3.0", "delivery agent protocol error",
			       1);
		return;
	}
	buf_free(&why);
	reply_init(&r, job->nrcpt);
	reply_collect(job, &d, &r);
	failed = strcmp(d.status, "fail") == 0;
	if (d.reason != NULL)
		reason = clean_value(d.reason);
	/* job is freed here, after r is used. */
	reply_apply(job, &r, failed, reason);
	reply_free(&r);
	deliver_reply_free(&d);
	xfree(reason);
}

/* Events. */

static void
job_readable(int fd, int events, void *ctx)
{
	struct qmgr_job *job = ctx;
	struct attr_list l = ATTR_LIST_INIT;
	enum attr_status st;
	size_t used;
	ssize_t n;

	(void)events;
	buf_reserve(&job->in, QMGR_READ_CHUNK);
	n = read(fd, job->in.data + job->in.len, QMGR_READ_CHUNK);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		job_fail(job, n == 0 ? "delivery agent died"
				     : "lost connection with the delivery "
				       "agent");
		return;
	}
	job->in.len += (size_t)n;
	job->in.data[job->in.len] = '\0';
	st =
	    attr_decode(job->in.data, job->in.len, DELIVER_LIST_MAX, &l, &used);
	if (st == ATTR_INCOMPLETE)
		return;
	if (st != ATTR_OK) {
		attr_list_free(&l);
		job_fail(job, "delivery agent protocol error");
		return;
	}
	reply_received(job, &l);
	attr_list_free(&l);
}

/* The request's list, as the socket takes it, then the content
 * descriptor when there is one, then the reply. */
static void
job_writable(int fd, int events, void *ctx)
{
	struct qmgr_job *job = ctx;
	ssize_t n;

	(void)events;
	if (job->out_off < job->out.len) {
		n = send(fd, job->out.data + job->out_off,
			 job->out.len - job->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0) {
			job_fail(job,
				 "lost connection with the delivery agent");
			return;
		}
		job->out_off += (size_t)n;
		if (job->out_off < job->out.len)
			return;
	}
	if (job->content_fd >= 0) {
		if (sock_send_fd(fd, job->content_fd) < 0) {
			if (errno != EAGAIN)
				job_fail(job, "cannot pass the message "
					      "content to the delivery agent");
			return;
		}
		close(job->content_fd);
		job->content_fd = -1;
	}
	event_fd_set(fd, EVENT_READ, job_readable, job);
}

static void
job_timeout(void *ctx)
{
	struct qmgr_job *job = ctx;

	job->timer = 0;
	job_fail(job, "timeout waiting for the delivery agent");
}

/* A non-blocking connect to the transport's socket: the fd, -1 with
 * errno. */
static int
connect_agent(const char *transport)
{
	struct sockaddr_un sun;
	int fd, len;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	len = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/private/%s",
		       qmgr_cfg.qdir, transport);
	if (len < 0 || (size_t)len >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

void
qmgr_deliver_start(struct qmgr_job *job)
{
	struct qmgr_transport *tr = job->dest->tr;
	struct buf why = BUF_INIT;

	job->fd = connect_agent(tr->name);
	if (job->fd < 0 && (errno == EAGAIN || errno == EINTR)) {
		qmgr_job_retry_later(job);
		return;
	}
	if (job->fd < 0) {
		buf_printf(&why, "connect to private/%s: %s", tr->name,
			   strerror(errno));
		qmgr_transport_dead(tr, buf_cstr(&why));
		buf_free(&why);
		qmgr_job_defer(job, "4.3.0", "mail transport unavailable", 0);
		return;
	}
	if (tr->pass_content &&
	    (job->content_fd = qmgr_content_memfd(job->msg)) < 0) {
		job_close(job);
		qmgr_job_defer(job, "4.3.0",
			       "cannot read the message content from the queue",
			       0);
		return;
	}
	encode_request(job);
	event_fd_set(job->fd, EVENT_WRITE, job_writable, job);
	job->timer = event_timer_add(qmgr_cfg.ipc_timeout_ms, job_timeout, job);
}
