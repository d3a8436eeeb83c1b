/*
 * master_tables - the lookup tables of the configuration are checked at
 * start-up: a table type Panacea does not implement stops master with the
 * parameter and the table named, instead of a daemon that dies (or
 * defers mail) on its first lookup later.
 *
 * Table parameters are the names ending in "_maps" or "_checks"
 * (header_checks, smtp_body_checks, ...), alias_database and
 * postscreen_dnsbl_reply_map, in
 * panacea.conf and in the services table's "-o name=value" overrides.  An
 * override that refers to other parameters ($name) is checked when the
 * daemon expands it, not here.  Only the types are checked: the tables
 * themselves are opened by the daemons that use them, as their owner.
 */
#include <string.h>

#include "conf.h"
#include "master.h"
#include "maps.h"

static int
is_table_param(const char *name)
{
	size_t n = strlen(name);

	/* proxy_read_maps only gathers the others' values (proxymap uses
	 * its proxy: entries): the parameter that names a table reports it. */
	return ((n > 5 && strcmp(name + n - 5, "_maps") == 0) ||
		(n > 7 && strcmp(name + n - 7, "_checks") == 0) ||
		strcmp(name, "alias_database") == 0 ||
		strcmp(name, "postscreen_dnsbl_reply_map") == 0) &&
	       strcmp(name, "proxy_read_maps") != 0;
}

struct walk {
	struct buf *err;
	int failed;
};

static void
check_param(const char *name, const char *raw, void *ctx)
{
	struct walk *w = ctx;
	struct buf why = BUF_INIT;
	const char *value;

	(void)raw;
	if (w->failed || !is_table_param(name) ||
	    (value = conf_lookup(name)) == NULL)
		return;
	if (maps_check(value, &why) < 0) {
		buf_set(w->err, "");
		buf_printf(w->err, "%s: %s: %s", conf_origin(name), name,
			   buf_cstr(&why));
		w->failed = 1;
	}
	buf_free(&why);
}

int
master_check_tables(const struct service_table *tab, const char *path,
		    struct buf *err)
{
	struct walk w = {err, 0};
	struct buf why = BUF_INIT, name = BUF_INIT;

	conf_walk(0, check_param, &w);
	for (size_t i = 0; !w.failed && i < tab->count; i++) {
		const struct service_def *def = &tab->items[i];

		for (int a = 1; !w.failed && a + 1 < def->argc; a++) {
			const char *opt = def->argv[a + 1], *eq;

			if (strcmp(def->argv[a], "-o") != 0 ||
			    (eq = strchr(opt, '=')) == NULL)
				continue;
			buf_reset(&name);
			buf_append(&name, opt, (size_t)(eq - opt));
			if (!is_table_param(buf_cstr(&name)) ||
			    strchr(eq + 1, '$') != NULL ||
			    maps_check(eq + 1, &why) == 0)
				continue;
			buf_set(err, "");
			buf_printf(err, "%s:%d: -o %s: %s", path, def->lineno,
				   buf_cstr(&name), buf_cstr(&why));
			w.failed = 1;
		}
	}
	buf_free(&why);
	buf_free(&name);
	return w.failed ? -1 : 0;
}
