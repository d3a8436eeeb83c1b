/*
 * proxymap - looks tables up for daemons that cannot open them (proxy:
 * tables, lib/map_proxy.c), as Postfix's proxymap(8).
 *
 * Service: "proxymap unix - - n - - proxymap": private, unprivileged
 * (mail_owner), not chrooted, because it opens the tables, wherever they
 * are; its clients are the chrooted daemons (smtpd, qmgr, smtp), which
 * reach private/proxymap inside their jail.  One connection is one lookup
 * (lib/proxymap_proto.h), one client at a time a process (DAEMON_SINGLE;
 * master runs more as needed).
 *
 * It answers only for tables that proxy_read_maps names as
 * proxy:TYPE:NAME: a request for any other is refused, so that a client
 * taken over cannot use proxymap to read other files mail_owner can.
 * Tables are opened at their first request and kept while their files
 * are unchanged; a table whose file changed is opened again before it is
 * looked up (proxymap is not chrooted, so it can), so that an answer is
 * never older than the file: a chrooted smtpd that asks through proxy:
 * sees a new user at once.  A table that cannot be opened again keeps
 * answering from what it had, with a warning, and the process exits
 * after the request so that a fresh one tries.
 */
#include <string.h>

#include "attr.h"
#include "conf.h"
#include "daemon.h"
#include "maps.h"
#include "msg.h"
#include "proxymap_proto.h"
#include "strutil.h"
#include "xalloc.h"

static const char *read_maps;

struct open_table {
	char *spec;
	struct maps *maps;
};

static struct open_table *tables;
static size_t ntables;

static const struct conf_bind proxymap_params[] = {
    CONF_BIND_STR("proxy_read_maps", &read_maps),
    CONF_BIND_END,
};

/* Is "proxy:SPEC" in proxy_read_maps? */
static int
allowed(const char *spec)
{
	struct buf err = BUF_INIT;
	char **list = maps_split(read_maps, NULL, &err);
	int ok = 0;

	for (char **s = list; s && *s && !ok; s++)
		ok = strncmp(*s, "proxy:", 6) == 0 && strcmp(*s + 6, spec) == 0;
	str_list_free(list);
	buf_free(&err);
	return ok;
}

/* The open table of spec, opened now when it is the first request. */
static struct maps *
table_get(const char *spec, struct buf *err)
{
	struct maps *m;

	for (size_t i = 0; i < ntables; i++) {
		if (strcmp(tables[i].spec, spec) != 0)
			continue;
		if (maps_changed(tables[i].maps)) {
			if ((m = maps_open(spec, err)) != NULL) {
				maps_close(tables[i].maps);
				tables[i].maps = m;
			} else {
				msg_warn("table %s changed and cannot be "
					 "opened again: %s",
					 spec, buf_cstr(err));
				buf_set(err, "");
			}
		}
		return tables[i].maps;
	}
	if ((m = maps_open(spec, err)) == NULL)
		return NULL;
	tables = xreallocarray(tables, ntables + 1, sizeof(*tables));
	tables[ntables].spec = xstrdup(spec);
	tables[ntables].maps = m;
	ntables++;
	return m;
}

static void
proxymap_serve(int fd)
{
	struct attr_list req, reply;
	struct buf value = BUF_INIT, err = BUF_INIT;
	const char *spec, *key;
	struct maps *m = NULL;
	int r = -1;

	attr_list_init(&req);
	attr_list_init(&reply);
	if (attr_recv(fd, &req, PROXYMAP_MSG_MAX, PROXYMAP_TIMEOUT_MS) < 0)
		goto out;
	spec = attr_get_str(&req, "table");
	key = attr_get_str(&req, "key");
	if (spec == NULL || key == NULL) {
		buf_set(&err, "malformed request");
	} else if (!allowed(spec)) {
		buf_printf(&err,
			   "table %s is not in proxy_read_maps as "
			   "proxy:%s",
			   spec, spec);
		msg_warn("request for %s refused: not in proxy_read_maps",
			 spec);
	} else if ((m = table_get(spec, &err)) != NULL) {
		r = maps_lookup(m, key, &value, &err);
	} else {
		msg_warn("%s", buf_cstr(&err));
	}
	attr_add_int(&reply, "status", r);
	if (r > 0)
		attr_add_str(&reply, "value", buf_cstr(&value));
	else if (r < 0)
		attr_add_str(&reply, "reason", buf_cstr(&err));
	(void)attr_send(fd, &reply, PROXYMAP_TIMEOUT_MS);
	if (m && maps_changed(m))
		daemon_request_exit();
out:
	attr_list_free(&req);
	attr_list_free(&reply);
	buf_free(&value);
	buf_free(&err);
}

static void
proxymap_pre_exit(void)
{
	for (size_t i = 0; i < ntables; i++) {
		maps_close(tables[i].maps);
		xfree(tables[i].spec);
	}
	xfree(tables);
	tables = NULL;
	ntables = 0;
}

int
main(int argc, char **argv)
{
	static const struct daemon_ops ops = {
	    .mode = DAEMON_SINGLE,
	    .params = proxymap_params,
	    .serve = proxymap_serve,
	    .pre_exit = proxymap_pre_exit,
	};

	daemon_main(argc, argv, &ops);
}
