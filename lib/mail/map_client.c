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

int
map_endpoint_ask(const struct map_endpoint *ep, const struct buf *req,
		 int (*read_reply)(int fd, struct buf *reply, struct buf *err),
		 struct buf *reply, struct buf *err)
{
	int fd, r = -1;

	if ((fd = map_endpoint_connect(ep, err)) < 0)
		return -1;
	if (io_write_full(fd, req->data, req->len, MAP_CLIENT_TIMEOUT_MS) < 0)
		buf_set(err, "cannot send the request");
	else
		r = read_reply(fd, reply, err);
	close(fd);
	return r;
}

void
map_endpoint_free(struct map_endpoint *ep)
{
	xfree(ep->path);
	xfree(ep->host);
	xfree(ep->port);
	memset(ep, 0, sizeof(*ep));
}

void
map_endpoint_failed(struct buf *err, int told, const char *reply)
{
	buf_set(err, "");
	buf_printf(err, "%s \"%.200s\"",
		   told ? "server replied" : "protocol error: unexpected reply",
		   reply);
}
