/*
 * event_conn - one connection of a request/reply server that runs in the
 * event loop (events.h): the auth and anvil services.
 *
 * The connection reads only while no reply waits, so a peer gets one
 * answer at a time and cannot make the server queue replies; it never
 * blocks on the peer.  Whenever bytes arrive (or a reply has been
 * written and input is left), ops->request() is given what was read and
 * not yet used, and an empty output buffer: it takes one whole request
 * from the front of in (buf_consume) and appends its reply to out, or
 * leaves both alone while the request is incomplete; it returns -1 to
 * close the connection (a malformed request).  The server bounds what a
 * request may be (a longer one is its -1).  End of file, a read or write
 * error and event_conn_close() close it: ops->closed() runs, then the
 * descriptor is closed and the connection freed.
 *
 * With wipe, every byte read is wiped from memory once used (it may hold
 * a password).
 */
#ifndef PANACEA_EVENT_CONN_H
#define PANACEA_EVENT_CONN_H

#include "attr.h"
#include "buf.h"

struct event_conn;

struct event_conn_ops {
	int (*request)(struct event_conn *c, struct buf *in, struct buf *out);
	/* Optional: after each step that leaves the connection open (auth
	 * restarts its idle timer). */
	void (*active)(struct event_conn *c);
	/* Optional: before the connection goes. */
	void (*closed)(struct event_conn *c);
};

/* Takes fd (non-blocking) and starts reading. */
struct event_conn *event_conn_new(int fd, const struct event_conn_ops *ops,
				  void *ctx, int wipe);
void *event_conn_ctx(const struct event_conn *c);
void event_conn_close(struct event_conn *c);

/* For a request callback whose requests are attr lists (attr.h) of at
 * most max_len bytes: 1 when the list at the front of in is whole (list
 * holds it; the caller consumes *used bytes of in once it has answered),
 * 0 while it is incomplete, -1 when it is malformed or oversized (logged;
 * the callback returns -1 to close the connection).  The caller frees
 * list in every case. */
int event_conn_attr_request(const struct buf *in, size_t max_len,
			    struct attr_list *list, size_t *used);

#endif
