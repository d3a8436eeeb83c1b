/*
 * map_socketmap - socketmap: tables (socketmap_table(5)), a client of
 * the Sendmail socket map protocol: "socketmap:inet:HOST:PORT:NAME" or
 * "socketmap:unix:PATH:NAME".
 *
 * One request and one reply per lookup, each a netstring ("LEN:TEXT,"):
 * the request is "NAME key"; the reply "OK data" (found), "NOTFOUND "
 * (not found), or "TEMP reason", "TIMEOUT reason", "PERM reason" (a lookup
 * error carrying the reason).  A reply is at most 100000 bytes; anything
 * else is a protocol error.  The key goes as it is (not folded).
 */
#include <string.h>

#include "iostuff.h"
#include "map_int.h"
#include "xalloc.h"

#define SOCKETMAP_REPLY_MAX 100000

struct socketmap {
	struct map_endpoint ep;
	char *name;
};

static int
socketmap_open(struct map *m, const char *name, struct buf *err)
{
	struct socketmap *sm = xcalloc(1, sizeof(*sm));
	const char *colon = strrchr(name, ':');
	char *endpoint;

	m->data = sm;
	sm->ep.fd = -1;
	if (colon == NULL || colon[1] == '\0') {
		buf_set(err, "");
		buf_printf(err, "%s: missing the map name after the endpoint",
			   m->spec);
		return -1;
	}
	sm->name = xstrdup(colon + 1);
	endpoint = xstrndup(name, (size_t)(colon - name));
	if (map_endpoint_parse(endpoint, &sm->ep, err) < 0) {
		buf_printf(err, " in %s", m->spec);
		xfree(endpoint);
		return -1;
	}
	xfree(endpoint);
	return 0;
}

/* Reads one netstring into out; 0 or -1 with err. */
static int
netstring_read(int fd, struct buf *out, struct buf *err)
{
	size_t len = 0;
	int digits = 0;
	char c;

	for (;;) {
		if (io_read_full(fd, &c, 1, MAP_CLIENT_TIMEOUT_MS) < 0) {
			buf_set(err, "no reply (connection closed or timed "
				     "out)");
			return -1;
		}
		if (c == ':' && digits > 0)
			break;
		if (c < '0' || c > '9' || ++digits > 6 ||
		    (len = len * 10 + (size_t)(c - '0')) >
			SOCKETMAP_REPLY_MAX) {
			buf_set(err, "protocol error: bad netstring length");
			return -1;
		}
	}
	buf_reset(out);
	buf_reserve(out, len + 1);
	if (io_read_full(fd, out->data, len, MAP_CLIENT_TIMEOUT_MS) < 0 ||
	    io_read_full(fd, &c, 1, MAP_CLIENT_TIMEOUT_MS) < 0) {
		buf_set(err, "truncated reply");
		return -1;
	}
	out->len = len;
	out->data[len] = '\0';
	if (c != ',') {
		buf_set(err, "protocol error: netstring without its ','");
		return -1;
	}
	if (memchr(out->data, '\0', len) != NULL) {
		buf_set(err, "protocol error: NUL byte in the reply");
		return -1;
	}
	return 0;
}

static int
socketmap_lookup(struct map *m, const char *key, struct buf *value,
		 struct buf *err)
{
	struct socketmap *sm = m->data;
	struct buf req = BUF_INIT, reply = BUF_INIT;
	const char *text = buf_cstr(&reply);
	int r = -1;

	buf_printf(&req, "%zu:%s %s,", strlen(sm->name) + 1 + strlen(key),
		   sm->name, key);
	if (map_endpoint_ask(&sm->ep, &req, netstring_read, &reply, err) < 0)
		goto out;
	text = buf_cstr(&reply);
	if (strncmp(text, "OK ", 3) == 0) {
		buf_set(value, text + 3);
		r = 1;
	} else if (strncmp(text, "NOTFOUND", 8) == 0 &&
		   (text[8] == '\0' || text[8] == ' ')) {
		r = 0;
	} else {
		map_endpoint_failed(err,
				    strncmp(text, "TEMP", 4) == 0 ||
					strncmp(text, "TIMEOUT", 7) == 0 ||
					strncmp(text, "PERM", 4) == 0,
				    text);
	}
out:
	buf_free(&req);
	buf_free(&reply);
	return r;
}

static void
socketmap_close(struct map *m)
{
	struct socketmap *sm = m->data;

	if (sm == NULL)
		return;
	map_endpoint_free(&sm->ep);
	xfree(sm->name);
	xfree(sm);
}

const struct map_type map_type_socketmap = {"socketmap", 0, socketmap_open,
					    socketmap_lookup, socketmap_close};
