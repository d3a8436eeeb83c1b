/*
 * maps - lookup tables named "type:name", as Postfix's.
 *
 * Types:
 *   hash:PATH   a Berkeley DB hash file PATH.db built from the text file
 *               PATH by panmap (or map_build below).  Text format as
 *               Postfix's postmap: "key value" lines, '#' comments, lines
 *               starting with white space continue the previous one; keys
 *               are folded to lower case.  With the aliases format
 *               (aliases(5): "name: value, value"), newaliases style.
 * A list ("hash:/a, hash:/b") is searched in order; the first table with
 * the key wins.  Keys and values are bounded (MAPS_KEY_MAX,
 * MAPS_VALUE_MAX); lookups fold the key to lower case.
 *
 * Tables are opened read-only before chroot and stay open.  maps_changed()
 * says whether a table file was replaced since it was opened (a daemon
 * then finishes its work and exits so that master starts a fresh one,
 * DESIGN.md).  map_build() writes PATH.db.tmp and renames it over
 * PATH.db, so a reader never sees a half-built table.
 */
#ifndef PANACEA_MAPS_H
#define PANACEA_MAPS_H

#include "buf.h"

#define MAPS_KEY_MAX 1024
#define MAPS_VALUE_MAX 65536

struct maps;

/* NULL with err set when a table is malformed or unreadable; a list with
 * an unknown type is an error.  An empty list is a valid, empty maps. */
struct maps *maps_open(const char *list, struct buf *err);
/* 1 found (value replaced), 0 not found, -1 error (err set). */
int maps_lookup(struct maps *m, const char *key, struct buf *value,
		struct buf *err);
int maps_changed(const struct maps *m);
void maps_close(struct maps *m);

#define MAP_BUILD_ALIASES 0x1 /* aliases(5) syntax instead of postmap's */

/* Builds the table of "hash:PATH" from the text file PATH; 0, or -1 with
 * "PATH:LINE: message" in err. */
int map_build(const char *spec, int flags, struct buf *err);

#endif
