/*
 * map_proxy - proxy:TYPE:NAME tables, looked up through the proxymap
 * service (lib/proxymap_proto.h) instead of opened here: a chrooted
 * daemon reaches tables outside its jail, and holds none of their files
 * or credentials.
 *
 * The socket is $queue_directory/private/proxymap, or /private/proxymap
 * once the process is chrooted into queue_directory.  The inner table's
 * type is checked at open; the table itself is proxymap's business.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "attr.h"
#include "conf.h"
#include "map_int.h"
#include "proxymap_proto.h"
#include "sock.h"
#include "xalloc.h"

static int
proxy_open(struct map *m, const char *name, struct buf *err)
{
	if (strncmp(name, "proxy:", 6) == 0 || maps_check(name, err) < 0) {
		if (strncmp(name, "proxy:", 6) == 0) {
			buf_set(err, "");
			buf_printf(err, "%s: proxy: of proxy:", m->spec);
		}
		return -1;
	}
	m->data = xstrdup(name);
	return 0;
}

static int
proxy_connect(struct buf *err)
{
	struct buf path = BUF_INIT;
	int fd;

	buf_printf(&path, "%s/%s", conf_str("queue_directory"),
		   PROXYMAP_SERVICE);
	fd = sock_connect_unix(buf_cstr(&path), PROXYMAP_TIMEOUT_MS);
	if (fd < 0 && errno == ENOENT)
		fd = sock_connect_unix("/" PROXYMAP_SERVICE,
				       PROXYMAP_TIMEOUT_MS);
	if (fd < 0) {
		buf_set(err, "");
		buf_printf(err, "cannot reach the proxymap service at %s: %s",
			   buf_cstr(&path), strerror(errno));
	}
	buf_free(&path);
	return fd;
}

static int
proxy_lookup(struct map *m, const char *key, struct buf *value, struct buf *err)
{
	struct attr_list req, reply;
	const char *v;
	long long status;
	int fd, r = -1;

	if ((fd = proxy_connect(err)) < 0)
		return -1;
	attr_list_init(&req);
	attr_list_init(&reply);
	attr_add_str(&req, "table", m->data);
	attr_add_str(&req, "key", key);
	if (attr_send(fd, &req, PROXYMAP_TIMEOUT_MS) < 0 ||
	    attr_recv(fd, &reply, PROXYMAP_MSG_MAX, PROXYMAP_TIMEOUT_MS) < 0 ||
	    attr_get_int(&reply, "status", &status) < 0) {
		buf_set(err, "no reply from the proxymap service");
	} else if (status == 1 && (v = attr_get_str(&reply, "value"))) {
		buf_set(value, v);
		r = 1;
	} else if (status == 0) {
		r = 0;
	} else {
		v = attr_get_str(&reply, "reason");
		buf_set(err, "");
		buf_printf(err, "proxymap: %s", v ? v : "lookup failed");
	}
	close(fd);
	attr_list_free(&req);
	attr_list_free(&reply);
	return r;
}

static void
proxy_close(struct map *m)
{
	xfree(m->data);
}

const struct map_type map_type_proxy = {"proxy", 0, proxy_open, proxy_lookup,
					proxy_close};
