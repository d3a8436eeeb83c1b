/*
 * map_texthash - texthash: tables: a postmap-format text file read into
 * memory when the table is opened (no .db file to build), as Postfix's.
 * Keys are folded; a duplicate key keeps the first value with a warning.
 */
#include <string.h>

#include "map_int.h"
#include "map_text.h"
#include "maps.h"
#include "msg.h"

struct load {
	struct map *m;
	const char *name;
};

static int
texthash_line(char *line, long lineno, void *ctx, struct buf *err)
{
	struct load *ld = ctx;
	char *key, *value;

	if (map_text_entry(line, 0, &key, &value, err) < 0)
		return -1;
	if (strlen(key) > MAPS_KEY_MAX || strlen(value) > MAPS_VALUE_MAX) {
		buf_set(err, strlen(key) > MAPS_KEY_MAX ? "key too long"
							: "value too long");
		return -1;
	}
	if (map_kv_add(ld->m->data, key, value) > 0)
		msg_warn("%s:%ld: duplicate entry \"%s\": the first one "
			 "is kept",
			 ld->name, lineno, key);
	return 0;
}

static int
texthash_open(struct map *m, const char *name, struct buf *err)
{
	struct load ld = {m, name};

	m->data = map_kv_new();
	return map_text_read(name, texthash_line, &ld, &m->watch, err);
}

const struct map_type map_type_texthash = {
    "texthash", MAP_T_FOLD, texthash_open, map_kv_lookup, map_kv_close};
