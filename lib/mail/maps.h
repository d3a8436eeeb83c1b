/*
 * maps - lookup tables named "type:name", as Postfix's (DATABASE_README).
 * One interface for every type; each type lives in lib/map_TYPE.c behind
 * lib/map_int.h.
 *
 * Types (Postfix's syntax and semantics; the text format of the file
 * types is read by lib/map_text):
 *   hash:PATH     a Berkeley DB hash file PATH.db built from the text
 *                 file PATH by panmap (or map_build below): "key value"
 *                 lines in postmap's format, '#' comments, lines starting
 *                 with white space continue the previous one; keys are
 *                 folded to lower case.  With the aliases format
 *                 (aliases(5): "name: value, value"), newaliases style.
 *   btree:PATH    the same as a Berkeley DB btree.
 *   texthash:PATH the text file PATH read into memory at open (postmap's
 *                 format; no .db file).
 *   cidr:PATH     cidr_table(5): "network/prefix result" rules, first
 *                 match wins; "!pattern", "if pattern" ... "endif".
 *   regexp:PATH   regexp_table(5): "/pattern/flags result" with POSIX
 *                 extended expressions; flags i (case-insensitive, on by
 *                 default), x (extended, on), m (multi-line, off) toggle;
 *                 "!/pattern/", if/endif; $1, ${1}, $(1), $$ in results.
 *   pcre:PATH     pcre_table(5), the same with PCRE2 (libpcre2-8); flags
 *                 i (on), s (on), m, x, A, E, U, X (accepted, no-op in
 *                 PCRE2).
 *   static:VALUE  every key gives VALUE ("static:{text with spaces}").
 *   inline:{ key=value, { key = value with spaces } }   keys folded.
 *   unix:passwd.byname, unix:group.byname   getpwnam/getgrnam; the
 *                 result is the passwd (group) file line.
 *   socketmap:inet:HOST:PORT:NAME, socketmap:unix:PATH:NAME
 *                 socketmap_table(5): netstring "NAME key" request, "OK
 *                 data", "NOTFOUND ", "TEMP/TIMEOUT/PERM reason" reply.
 *   tcp:HOST:PORT tcp_table(5): "get key" line, "200 data", "500 text"
 *                 (not found), "400 text" (try again); %XX encoding.
 *   pgsql:/PATH.cf   pgsql_table(5): a PostgreSQL query, configured by
 *                 the file PATH.cf (lib/map_pgsql.c; lib/map_cf,
 *                 lib/map_query).
 *   mysql:/PATH.cf   mysql_table(5): a MySQL/MariaDB query
 *                 (lib/map_mysql.c).
 *   ldap:/PATH.cf    ldap_table(5): an LDAP search (lib/map_ldap.c).
 *                 All three load their client library at the first open
 *                 (lib/map_dl.h) and keep a connection; keys folded.
 *   proxy:TYPE:NAME  asked of the proxymap service (lib/proxymap_proto.h)
 *                 instead of opened here: for chrooted daemons.
 * The file types (cidr, regexp, pcre, texthash) also take their rules in
 * the name, as Postfix 3.7: "cidr:{ { 10.0.0.0/8 OK }, { ... } }".
 * A list ("hash:/a, cidr:/b") is searched in order; the first table with
 * the key wins.  Keys and values are bounded (MAPS_KEY_MAX,
 * MAPS_VALUE_MAX): a longer key is an error, not a miss, so that an access
 * table cannot be skipped with a huge key.  Keys are folded to lower case
 * for the fixed-string types (hash, btree, texthash, inline, unix), as
 * Postfix does; cidr, regexp, pcre, socketmap and tcp get the key as it is.
 *
 * Errors in a table's text stop maps_open() with "FILE:LINE: message".
 * Tables are opened read-only before chroot and stay open (the client
 * types connect at each lookup).  maps_changed() says whether a table
 * file was replaced or rewritten (device, inode, size, mtime) since it
 * was opened (a daemon then finishes its work
 * and exits so that master starts a fresh one, DESIGN.md).  map_build()
 * writes PATH.db.tmp and renames it over PATH.db, so a reader never sees
 * a half-built table.
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
/* 1 found (value replaced), 0 not found, -1 error (err set: a table that
 * cannot answer now, a key over MAPS_KEY_MAX). */
int maps_lookup(struct maps *m, const char *key, struct buf *value,
		struct buf *err);
/* The same for message content (header_checks, body_checks): keys up to
 * MAPS_TEXT_KEY_MAX bytes (a header field up to header_size_limit) for
 * the types that take the key as it is (regexp, pcre, ...); a type that
 * folds keys still refuses one over MAPS_KEY_MAX. */
#define MAPS_TEXT_KEY_MAX (1024 * 1024)
int maps_lookup_text(struct maps *m, const char *key, struct buf *value,
		     struct buf *err);
int maps_changed(const struct maps *m);
void maps_close(struct maps *m);

/* A file a daemon reads before its jail without a table of its own (the
 * password database, the sasldb), watched as table files are: its
 * folder is held open, and maps_watch_changed() says whether the file
 * was replaced, rewritten, removed, or made when there was none at
 * maps_watch_file() time.  Never NULL; a folder that cannot be opened is
 * not watched (a warning).  Take the watch before reading the file, so
 * that a change made during the read is seen. */
struct maps_watch;
struct maps_watch *maps_watch_file(const char *path);
int maps_watch_changed(const struct maps_watch *mw);
void maps_watch_free(struct maps_watch *mw);

/* Checks that every table of the list has a type Panacea implements,
 * without opening anything (daemons call it at start for each table
 * parameter); 0, or -1 with "SPEC: unsupported table type ..." in err. */
int maps_check(const char *list, struct buf *err);
/* The tables of a list: split at commas and white space outside braces
 * ("inline:{ a=b, c=d }" is one); a NULL-terminated list for
 * str_list_free(), or NULL with err (unbalanced braces). */
char **maps_split(const char *list, int *count, struct buf *err);
/* The implemented types, space separated ("hash btree ..."). */
const char *maps_types(void);

#define MAP_BUILD_ALIASES 0x1 /* aliases(5) syntax instead of postmap's */

/* Builds the table of "hash:PATH" or "btree:PATH" from the text file
 * PATH; 0, or -1 with "PATH:LINE: message" in err. */
int map_build(const char *spec, int flags, struct buf *err);

#endif
