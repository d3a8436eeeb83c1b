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
#include "deliver_proto.h"
#include "sock.h"
#include "alias.h"
#include "dsn.h"
#include "events.h"
#include "msg.h"
#include "qmgr.h"
#include "xalloc.h"

#define QMGR_READ_CHUNK 65536
#define QMGR_TEXT_MAX 900
/* Forward groups plus forwarded addresses one reply may hold (twice
 * alias.h's bound on a list's targets: each address in a group of its
 * own at worst). */
#define QMGR_FORWARD_MAX (2 * ALIAS_TARGETS_MAX)

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
add_active_time(struct attr_list *l, const struct timeval *tv)
{
	char tmp[64];

	snprintf(tmp, sizeof(tmp), "%lld.%03ld", (long long)tv->tv_sec,
		 (long)(tv->tv_usec / 1000));
	attr_add_str(l, "active", tmp);
}

static void
encode_request(struct qmgr_job *job)
{
	const struct queue_envelope *env = &job->msg->env;
	struct attr_list l = ATTR_LIST_INIT;

	attr_add_str(&l, "request", "deliver");
	attr_add_str(&l, "queue_id", job->msg->id);
	attr_add_str(&l, "transport", job->dest->tr->name);
	attr_add_str(&l, "nexthop", job->dest->nexthop);
	attr_add_str(&l, "sender", env->sender);
	attr_add_int(&l, "arrival", (long long)env->arrival_sec);
	attr_add_int(&l, "arrival_usec", (long long)env->arrival_usec);
	add_active_time(&l, &job->msg->active_tv);
	attr_add_int(&l, "size", (long long)env->size);
	attr_add_int(&l, "flags", (long long)env->flags);
	attr_add_str(&l, "envid", env->envid);
	attr_add_int(&l, "ret", (long long)env->ret);
	attr_add_str(&l, "client_addr", env->client_addr);
	if (job->content_fd >= 0)
		attr_add_str(&l, "content", "descriptor");
	for (size_t i = 0; i < job->nrcpt; i++) {
		const struct queue_rcpt *r = &env->rcpts[job->rcpts[i]];

		attr_add_int(&l, "rcpt_index", (long long)job->rcpts[i]);
		attr_add_str(&l, "rcpt", r->address);
		attr_add_str(&l, "orcpt", r->orcpt);
		attr_add_int(&l, "notify", (long long)r->notify);
	}
	attr_encode(&l, &job->out);
	attr_list_free(&l);
}

/* Reply handling. */

struct reply {
	size_t n;
	int *cls; /* 0: not reported */
	char **dsn, **text, **relay, **mta;
	struct qmgr_forward **fwd; /* per recipient, nfwd[i] groups */
	size_t *nfwd;
	size_t fwd_total; /* groups + addresses, at most QMGR_FORWARD_MAX */
};

static void
reply_init(struct reply *r, size_t n)
{
	r->n = n;
	r->cls = xcalloc(n, sizeof(int));
	r->dsn = xcalloc(n, sizeof(char *));
	r->text = xcalloc(n, sizeof(char *));
	r->relay = xcalloc(n, sizeof(char *));
	r->mta = xcalloc(n, sizeof(char *));
	r->fwd = xcalloc(n, sizeof(*r->fwd));
	r->nfwd = xcalloc(n, sizeof(size_t));
	r->fwd_total = 0;
}

static void
reply_free(struct reply *r)
{
	for (size_t i = 0; i < r->n; i++) {
		xfree(r->dsn[i]);
		xfree(r->text[i]);
		xfree(r->relay[i]);
		xfree(r->mta[i]);
		for (size_t g = 0; g < r->nfwd[i]; g++) {
			for (size_t k = 0; k < r->fwd[i][g].n; k++)
				xfree(r->fwd[i][g].rcpts[k]);
			xfree(r->fwd[i][g].rcpts);
			xfree(r->fwd[i][g].sender);
		}
		xfree(r->fwd[i]);
	}
	xfree(r->fwd);
	xfree(r->nfwd);
	xfree(r->cls);
	xfree(r->dsn);
	xfree(r->text);
	xfree(r->relay);
	xfree(r->mta);
}

/* A bounded, printable copy of an attribute value. */
static char *
clean_value(const struct attr *a)
{
	size_t len = a->len > QMGR_TEXT_MAX ? QMGR_TEXT_MAX : a->len;
	char *s = xmalloc(len + 1);

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)a->value[i];

		s[i] = c < ' ' || c == 0x7f ? '?' : (char)c;
	}
	s[len] = '\0';
	return s;
}

/* A forward's sender or address: queued as is, so it must be what smtpd
 * would queue: bounded, one line, no control characters (a sender may be
 * empty, an address may not). */
static char *
forward_value(const struct attr *a, int empty_ok)
{
	if ((a->len == 0 && !empty_ok) || a->len > QUEUE_FIELD_MAX)
		return NULL;
	for (size_t i = 0; i < a->len; i++) {
		unsigned char c = (unsigned char)a->value[i];

		if (c < ' ' || c == 0x7f)
			return NULL;
	}
	return xstrdup(a->value);
}

/* "forward" starts a group of recipient cur, "forward_rcpt" adds to it;
 * 0, or -1 for a protocol error. */
static int
forward_attr(struct reply *r, long cur, const struct attr *a)
{
	struct qmgr_forward *g;
	char *v;

	if (strcmp(a->name, "forward") == 0) {
		if (r->fwd_total == QMGR_FORWARD_MAX ||
		    (v = forward_value(a, 1)) == NULL)
			return -1;
		r->fwd[cur] = xreallocarray(r->fwd[cur], r->nfwd[cur] + 1,
					    sizeof(*r->fwd[cur]));
		g = &r->fwd[cur][r->nfwd[cur]++];
		memset(g, 0, sizeof(*g));
		g->sender = v;
		r->fwd_total++;
		return 0;
	}
	if (r->nfwd[cur] == 0 || r->fwd_total == QMGR_FORWARD_MAX ||
	    (v = forward_value(a, 0)) == NULL)
		return -1;
	g = &r->fwd[cur][r->nfwd[cur] - 1];
	g->rcpts = xreallocarray(g->rcpts, g->n + 1, sizeof(char *));
	g->rcpts[g->n++] = v;
	r->fwd_total++;
	return 0;
}

static void
set_field(char **field, const struct attr *a)
{
	xfree(*field);
	*field = clean_value(a);
}

/* The position of a reported rcpt_index within the job, or -1. */
static long
job_position(const struct qmgr_job *job, const struct attr *a)
{
	char *end;
	unsigned long long v;

	if (a->len == 0 || a->len > 20 || memchr(a->value, '\0', a->len))
		return -1;
	errno = 0;
	v = strtoull(a->value, &end, 10);
	if (errno || *end || a->value[0] == '-')
		return -1;
	for (size_t i = 0; i < job->nrcpt; i++)
		if (job->rcpts[i] == v)
			return (long)i;
	return -1;
}

/* Parses the groups; 0, or -1 for a protocol error.  *failed and reason
 * report status=fail. */
static int
reply_parse(const struct qmgr_job *job, const struct attr_list *l,
	    struct reply *r, int *failed, char **reason)
{
	long cur = -1;
	int seen_status = 0;

	for (size_t k = 0; k < l->count; k++) {
		const struct attr *a = &l->items[k];

		if (strcmp(a->name, "rcpt_index") == 0) {
			cur = job_position(job, a);
			if (cur >= 0 && r->cls[cur] != 0)
				cur = -1; /* a repeat: the first one counts */
			if (cur >= 0)
				r->cls[cur] = -1; /* reported, class pending */
		} else if (strcmp(a->name, "status") == 0) {
			seen_status = 1;
			*failed =
			    a->len == 4 && memcmp(a->value, "fail", 4) == 0;
			cur = -1;
		} else if (strcmp(a->name, "reason") == 0) {
			set_field(reason, a);
		} else if (cur < 0) {
			continue;
		} else if (strcmp(a->name, "class") == 0) {
			if (a->len != 1 ||
			    (a->value[0] != '2' && a->value[0] != '4' &&
			     a->value[0] != '5'))
				return -1;
			r->cls[cur] = a->value[0] - '0';
		} else if (strcmp(a->name, "dsn") == 0) {
			set_field(&r->dsn[cur], a);
		} else if (strcmp(a->name, "text") == 0) {
			set_field(&r->text[cur], a);
		} else if (strcmp(a->name, "relay") == 0) {
			set_field(&r->relay[cur], a);
		} else if (strcmp(a->name, "remote_mta") == 0) {
			set_field(&r->mta[cur], a);
		} else if (strcmp(a->name, "forward") == 0 ||
			   strcmp(a->name, "forward_rcpt") == 0) {
			if (forward_attr(r, cur, a) < 0)
				return -1;
		}
	}
	for (size_t i = 0; i < r->n; i++) {
		if (r->cls[i] < 0)
			return -1; /* a group without a class */
		for (size_t g = 0; g < r->nfwd[i]; g++)
			if (r->fwd[i][g].n == 0)
				return -1; /* a copy for nobody */
	}
	return seen_status ? 0 : -1;
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

	if (qmgr_forward(job->msg, job->rcpts[i], r->fwd[i], r->nfwd[i], &why) <
	    0) {
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
		if (r->cls[i] == 2 && r->nfwd[i] > 0)
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
	struct reply r;
	char *reason = NULL;
	int failed = 0;

	reply_init(&r, job->nrcpt);
	job_close(job);
	if (reply_parse(job, l, &r, &failed, &reason) < 0) {
		reply_free(&r);
		xfree(reason);
		msg_warn("%s: malformed reply from the %s delivery agent",
			 job->msg->id, job->dest->tr->name);
		qmgr_job_defer(job, "4.3.0", "delivery agent protocol error",
			       1);
		return;
	}
	/* job is freed here, after r is used. */
	reply_apply(job, &r, failed, reason);
	reply_free(&r);
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
