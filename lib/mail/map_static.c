/*
 * map_static - static: tables: every key gives the value written in the
 * name ("static:relay.example", "static:{text with spaces}").
 */
#include <string.h>

#include "map_int.h"
#include "strutil.h"
#include "xalloc.h"

static int
static_open(struct map *m, const char *name, struct buf *err)
{
	size_t n = strlen(name);
	char *value;

	if (name[0] == '{') {
		if (n < 2 || name[n - 1] != '}') {
			buf_set(err, "");
			buf_printf(err, "static:%s: unbalanced braces", name);
			return -1;
		}
		value = xstrndup(name + 1, n - 2);
		char *t = str_trim(value);
		memmove(value, t, strlen(t) + 1);
	} else {
		value = xstrdup(name);
	}
	m->data = value;
	return 0;
}

static int
static_lookup(struct map *m, const char *key, struct buf *value,
	      struct buf *err)
{
	(void)key;
	(void)err;
	buf_set(value, m->data);
	return 1;
}

static void
static_close(struct map *m)
{
	xfree(m->data);
}

const struct map_type map_type_static = {"static", 0, static_open,
					 static_lookup, static_close};
