/*
 * event_conn - a request/reply connection in the event loop; see
 * event_conn.h.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "event_conn.h"
#include "events.h"
#include "msg.h"
#include "xalloc.h"

struct event_conn {
	int fd;
	int wipe;
	struct buf in;
	struct buf out;
	const struct event_conn_ops *ops;
	void *ctx;
};

static void conn_io(int fd, int events, void *ctx);

void
event_conn_close(struct event_conn *c)
{
	if (c->ops->closed)
		c->ops->closed(c);
	event_fd_remove(c->fd);
	close(c->fd);
	if (c->wipe && c->in.data != NULL)
		explicit_bzero(c->in.data, c->in.cap);
	buf_free(&c->in);
	buf_free(&c->out);
	xfree(c);
}

static void
conn_arm(struct event_conn *c)
{
	if (c->ops->active)
		c->ops->active(c);
	/* Reads only while no reply waits: one request at a time. */
	event_fd_set(c->fd, c->out.len > 0 ? EVENT_WRITE : EVENT_READ, conn_io,
		     c);
}

/* The request at the start of the input, if whole; -1: close. */
static int
conn_request(struct event_conn *c)
{
	size_t before = c->in.len;
	int r = c->ops->request(c, &c->in, &c->out);

	/* What the request used is gone from the front of in; wipe the
	 * bytes the buffer left behind its end. */
	if (c->wipe && c->in.data != NULL && c->in.len < before)
		explicit_bzero(c->in.data + c->in.len, before - c->in.len);
	return r;
}

static void
conn_io(int fd, int events, void *ctx)
{
	struct event_conn *c = ctx;
	char chunk[4096];
	ssize_t n;

	if (c->out.len > 0 && (events & (EVENT_WRITE | EVENT_ERROR))) {
		n = write(fd, c->out.data, c->out.len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			event_conn_close(c);
			return;
		}
		buf_consume(&c->out, (size_t)n);
		/* A request may already wait in the input. */
		if (c->out.len == 0 && c->in.len > 0 && conn_request(c) < 0) {
			event_conn_close(c);
			return;
		}
		conn_arm(c);
		return;
	}
	if (!(events & (EVENT_READ | EVENT_ERROR)))
		return;
	n = read(fd, chunk, sizeof(chunk));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		event_conn_close(c);
		return;
	}
	buf_append(&c->in, chunk, (size_t)n);
	if (c->wipe)
		explicit_bzero(chunk, (size_t)n);
	if (conn_request(c) < 0) {
		event_conn_close(c);
		return;
	}
	conn_arm(c);
}

struct event_conn *
event_conn_new(int fd, const struct event_conn_ops *ops, void *ctx, int wipe)
{
	struct event_conn *c = xcalloc(1, sizeof(*c));

	c->fd = fd;
	c->wipe = wipe;
	c->ops = ops;
	c->ctx = ctx;
	buf_init(&c->in);
	buf_init(&c->out);
	conn_arm(c);
	return c;
}

void *
event_conn_ctx(const struct event_conn *c)
{
	return c->ctx;
}

int
event_conn_attr_request(const struct buf *in, size_t max_len,
			struct attr_list *list, size_t *used)
{
	enum attr_status st =
	    attr_decode(in->data, in->len, max_len, list, used);

	if (st == ATTR_INCOMPLETE)
		return 0;
	if (st != ATTR_OK) {
		msg_warn("%s request: connection closed",
			 st == ATTR_TOO_BIG ? "oversized" : "malformed");
		return -1;
	}
	return 1;
}
