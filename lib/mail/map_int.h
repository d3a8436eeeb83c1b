/*
 * map_int - the interface between lib/maps.c and one file per table type
 * (lib/map_TYPE.c).  Callers use maps.h only.
 *
 * maps.c splits a list, finds the type of each "type:name", folds the key
 * for types that ask (MAP_T_FOLD), checks its length, and calls the
 * type's functions.  A type's open() gets the name (what follows the
 * first ':') and sets m->data; its error messages are complete (they name
 * the table or "file:line").  lookup() returns 1 found (value replaced),
 * 0 not found, -1 a temporary error (err set, without the table's name:
 * maps.c adds it).  A type whose table is a file sets m->watch so that
 * maps_changed() notices a new file.
 */
#ifndef PANACEA_MAP_INT_H
#define PANACEA_MAP_INT_H

#include <sys/stat.h>

#include <sys/types.h>

#include "buf.h"

#define MAP_T_FOLD 0x1 /* keys are looked up folded to lower case */

struct map;

struct map_type {
	const char *name;
	unsigned flags;
	int (*open)(struct map *m, const char *name, struct buf *err);
	int (*lookup)(struct map *m, const char *key, struct buf *value,
		      struct buf *err);
	void (*close)(struct map *m);
};

/* A file whose replacement or rewrite maps_changed() notices, even after
 * a chroot: the folder is held open (O_PATH) and the name looked up
 * relative to it; device, inode, size and mtime are compared. */
struct map_watch {
	int dir_fd; /* -1: nothing watched */
	char *base;
	struct stat st;
	int missing; /* there was no file: its appearance is the change */
};

struct map {
	const struct map_type *type;
	char *spec; /* "type:name" as written */
	void *data;
	struct map_watch watch;
};

/* Watches path, whose open descriptor is fd (fstat gives what was
 * opened, not what the name reaches by now).  0 or -1 with err. */
int map_watch_init(struct map_watch *w, const char *path, int fd,
		   struct buf *err);
int map_watch_changed(const struct map_watch *w);
void map_watch_free(struct map_watch *w);

/* An in-memory table of keys folded to lower case (lib/map_kv.c), for
 * texthash: and inline:.  map_kv_add() returns 0, or 1 for a key already
 * there (the first value is kept, as postmap does).  m->data is the
 * table for map_kv_lookup and map_kv_close. */
struct map_kv;
struct map_kv *map_kv_new(void);
int map_kv_add(struct map_kv *kv, const char *key, const char *value);
int map_kv_lookup(struct map *m, const char *key, struct buf *value,
		  struct buf *err);
void map_kv_close(struct map *m);

/* Where a client table connects (lib/map_client.c): "inet:host:port"
 * or "unix:/path", checked at open, connected at the first lookup with
 * MAP_CLIENT_TIMEOUT_MS (Postfix's 100 s) for the connect and for each
 * exchange.  The session stays open for the next lookups of the same
 * process, as Postfix's clients keep theirs, until it has been idle for
 * MAP_CLIENT_IDLE_MS, the server closes it, or an exchange fails. */
#define MAP_CLIENT_TIMEOUT_MS 100000
#define MAP_CLIENT_IDLE_MS 10000
struct map_endpoint {
	char *path;	   /* unix: */
	char *host, *port; /* inet: */
	int fd;		   /* the open session, or -1 */
	pid_t pid;	   /* the process that opened it */
	long long used_ms; /* the end of its last exchange (io_now_ms) */
};
int map_endpoint_parse(const char *text, struct map_endpoint *ep,
		       struct buf *err);
/* A connected socket, or -1 with err. */
int map_endpoint_connect(const struct map_endpoint *ep, struct buf *err);
/* One exchange: sends req on the open session (or a new one), reads the
 * reply with read_reply (0, or -1 with err, reading no byte past the
 * reply); 0 or -1 with err (the session is then closed). */
int map_endpoint_ask(struct map_endpoint *ep, const struct buf *req,
		     int (*read_reply)(int fd, struct buf *reply,
				       struct buf *err),
		     struct buf *reply, struct buf *err);
void map_endpoint_free(struct map_endpoint *ep);
/* Sets err for a reply that is no answer: a failure the server reports
 * (told), or else a protocol error. */
void map_endpoint_failed(struct buf *err, int told, const char *reply);

/* The types (lib/map_TYPE.c). */
extern const struct map_type map_type_hash, map_type_btree, map_type_cidr,
    map_type_regexp, map_type_pcre, map_type_static, map_type_inline,
    map_type_texthash, map_type_unix, map_type_socketmap, map_type_tcp,
    map_type_proxy, map_type_pgsql, map_type_mysql, map_type_ldap;

#endif
