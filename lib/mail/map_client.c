/*
 * map_client - the endpoints of socketmap: and tcp: tables; see
 * map_int.h.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "iostuff.h"
#include "map_int.h"
#include "sock.h"
#include "xalloc.h"

int
map_endpoint_parse(const char *text, struct map_endpoint *ep, struct buf *err)
{
	memset(ep, 0, sizeof(*ep));
	ep->fd = -1;
	if (strncmp(text, "unix:", 5) == 0 && text[5] != '\0') {
		ep->path = xstrdup(text + 5);
		return 0;
	}
	if (strncmp(text, "inet:", 5) == 0 &&
	    sock_parse_endpoint(text + 5, &ep->host, &ep->port) == 0 &&
	    ep->host != NULL)
		return 0;
	map_endpoint_free(ep);
	buf_set(err, "");
	buf_printf(err, "bad endpoint \"%s\" (inet:host:port or unix:/path)",
		   text);
	return -1;
}

int
map_endpoint_connect(const struct map_endpoint *ep, struct buf *err)
{
	int fd;

	if (ep->host)
		return sock_connect_inet(ep->host, ep->port,
					 MAP_CLIENT_TIMEOUT_MS, err);
	if ((fd = sock_connect_unix(ep->path, MAP_CLIENT_TIMEOUT_MS)) < 0) {
		buf_set(err, "");
		buf_printf(err, "connect to %s: %s", ep->path, strerror(errno));
	}
	return fd;
}

/* Whether the session left open by an earlier lookup may carry the next
 * one: made by this process (a child forked since shares the socket with
 * its parent, and their requests would interleave), used within
 * MAP_CLIENT_IDLE_MS, and with nothing to read (a server that closed it
 * while idle leaves an end of file there; a byte nobody asked for means
 * the stream is out of step). */
static int
session_usable(const struct map_endpoint *ep)
{
	return ep->fd >= 0 && ep->pid == getpid() &&
	       io_now_ms() - ep->used_ms < MAP_CLIENT_IDLE_MS &&
	       io_wait_readable(ep->fd, 0) == 0;
}

/* Closes the session (in a child, its copy of the parent's socket). */
static void
session_drop(struct map_endpoint *ep)
{
	if (ep->fd >= 0 && ep->pid != 0)
		(void)close(ep->fd);
	ep->fd = -1;
	ep->pid = 0;
}

int
map_endpoint_ask(struct map_endpoint *ep, const struct buf *req,
		 int (*read_reply)(int fd, struct buf *reply, struct buf *err),
		 struct buf *reply, struct buf *err)
{
	long long start;
	int reused;

	for (int attempt = 0;; attempt++) {
		reused = session_usable(ep);
		if (!reused) {
			session_drop(ep);
			if ((ep->fd = map_endpoint_connect(ep, err)) < 0)
				return -1;
			ep->pid = getpid();
		}
		start = io_now_ms();
		if (io_write_full(ep->fd, req->data, req->len,
				  MAP_CLIENT_TIMEOUT_MS) == 0 &&
		    read_reply(ep->fd, reply, err) == 0) {
			ep->used_ms = io_now_ms();
			return 0;
		}
		if (err->len == 0)
			buf_set(err, "cannot send the request");
		/* After a failed exchange the stream's position is unknown:
		 * the session goes.  One that an earlier lookup left open
		 * may have been closed by the server as the request went (it
		 * checked as open just before): a lookup asks nothing twice
		 * that changes anything, so it is asked once more on a new
		 * session, unless the failure was the full timeout. */
		session_drop(ep);
		if (!reused || attempt > 0 ||
		    io_now_ms() - start >= MAP_CLIENT_TIMEOUT_MS)
			return -1;
		buf_reset(err);
	}
}

void
map_endpoint_free(struct map_endpoint *ep)
{
	session_drop(ep);
	xfree(ep->path);
	xfree(ep->host);
	xfree(ep->port);
	memset(ep, 0, sizeof(*ep));
	ep->fd = -1;
}

void
map_endpoint_failed(struct buf *err, int told, const char *reply)
{
	buf_set(err, "");
	buf_printf(err, "%s \"%.200s\"",
		   told ? "server replied" : "protocol error: unexpected reply",
		   reply);
}
