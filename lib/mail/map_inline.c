/*
 * map_inline - inline: tables, written in the table's name (Postfix
 * 3.0): "inline:{ key=value, { key = value with spaces } }".  Keys are
 * folded, as in the other fixed-string tables.  An element without '='
 * or with an empty key or value is an error.
 */
#include <string.h>

#include "map_int.h"
#include "map_text.h"
#include "maps.h"
#include "strutil.h"

static int
inline_open(struct map *m, const char *name, struct buf *err)
{
	char **items = map_text_braces(name, err);
	int r = 0;

	m->data = map_kv_new();
	if (items == NULL)
		return -1;
	for (char **it = items; r == 0 && *it; it++) {
		char *eq = strchr(*it, '='), *key, *value;

		if (eq == NULL) {
			buf_set(err, "");
			buf_printf(err, "inline:%s: \"%s\": missing '='", name,
				   *it);
			r = -1;
			break;
		}
		*eq = '\0';
		key = str_trim(*it);
		value = str_trim(eq + 1);
		if (*key == '\0' || *value == '\0' ||
		    strlen(key) > MAPS_KEY_MAX ||
		    strlen(value) > MAPS_VALUE_MAX) {
			buf_set(err, "");
			buf_printf(err,
				   "inline:%s: an element needs a key and a "
				   "value, within the size limits",
				   name);
			r = -1;
		} else if (map_kv_add(m->data, key, value) > 0) {
			buf_set(err, "");
			buf_printf(err, "inline:%s: duplicate key \"%s\"", name,
				   key);
			r = -1;
		}
	}
	str_list_free(items);
	return r;
}

const struct map_type map_type_inline = {"inline", MAP_T_FOLD, inline_open,
					 map_kv_lookup, map_kv_close};
