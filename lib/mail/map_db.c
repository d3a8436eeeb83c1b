/*
 * map_db - hash: and btree: tables, Berkeley DB files PATH.db built from
 * the text file PATH (map_build(), panmap), as Postfix's.
 *
 * Storage: keys and values are stored without a terminating NUL; keys
 * are lower case.  A table is opened read-only without an environment
 * (no locking: writers never modify a live file, they rename a new one
 * over it).
 *
 * Building: map_build() parses the whole text file first (so a syntax
 * error leaves the old table in place), writes PATH.db.tmp, syncs it,
 * gives it the owner and permissions of the source file (local runs an
 * alias's commands as the owner of the alias database, as Postfix does),
 * and renames it over PATH.db.  Duplicate keys: the first one wins, with
 * a warning, as in postmap.
 */
#include <db.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "map_int.h"
#include "map_text.h"
#include "maps.h"
#include "msg.h"
#include "strutil.h"
#include "xalloc.h"

static int
db_open_table(struct map *m, const char *name, DBTYPE type, struct buf *err)
{
	struct buf path = BUF_INIT;
	DB *db;
	int r, fd;

	buf_printf(&path, "%s.db", name);
	if ((r = db_create(&db, NULL, 0)) != 0) {
		buf_set(err, "");
		buf_printf(err, "%s: db_create: %s", m->spec, db_strerror(r));
		buf_free(&path);
		return -1;
	}
	m->data = db;
	r = db->open(db, NULL, buf_cstr(&path), NULL, type, DB_RDONLY, 0);
	if (r != 0) {
		buf_set(err, "");
		buf_printf(err, "cannot open table %s: %s", buf_cstr(&path),
			   db_strerror(r));
		buf_free(&path);
		return -1;
	}
	/* What maps_changed() compares with: the file that was opened. */
	if (db->fd(db, &fd) != 0) {
		buf_set(err, "");
		buf_printf(err, "cannot stat table %s", buf_cstr(&path));
		buf_free(&path);
		return -1;
	}
	r = map_watch_init(&m->watch, buf_cstr(&path), fd, err);
	buf_free(&path);
	return r;
}

static int
hash_open(struct map *m, const char *name, struct buf *err)
{
	return db_open_table(m, name, DB_HASH, err);
}

static int
btree_open(struct map *m, const char *name, struct buf *err)
{
	return db_open_table(m, name, DB_BTREE, err);
}

static int
db_lookup(struct map *m, const char *key, struct buf *value, struct buf *err)
{
	DB *db = m->data;
	DBT k, v;
	int r;

	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = (void *)key;
	k.size = (u_int32_t)strlen(key);
	r = db->get(db, NULL, &k, &v, 0);
	if (r == DB_NOTFOUND)
		return 0;
	if (r != 0) {
		buf_set(err, db_strerror(r));
		return -1;
	}
	buf_reset(value);
	buf_append(value, v.data, v.size);
	return 1;
}

static void
db_close(struct map *m)
{
	DB *db = m->data;

	if (db)
		db->close(db, 0);
}

const struct map_type map_type_hash = {"hash", MAP_T_FOLD, hash_open, db_lookup,
				       db_close};
const struct map_type map_type_btree = {"btree", MAP_T_FOLD, btree_open,
					db_lookup, db_close};

/* Building. */

struct build {
	const char *path; /* the text file */
	int flags;
	DB *db;
};

/* Adds one logical line ("key value" or "name: value"). */
static int
build_entry(char *line, long lineno, void *ctx, struct buf *err)
{
	struct build *b = ctx;
	char *key, *value;
	DBT k, v;
	int r;

	if (map_text_entry(line, b->flags & MAP_BUILD_ALIASES, &key, &value,
			   err) < 0)
		return -1;
	if (strlen(key) > MAPS_KEY_MAX) {
		buf_set(err, "key too long");
		return -1;
	}
	if (strlen(value) > MAPS_VALUE_MAX) {
		buf_set(err, "value too long");
		return -1;
	}
	str_lower(key);
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = key;
	k.size = (u_int32_t)strlen(key);
	v.data = value;
	v.size = (u_int32_t)strlen(value);
	r = b->db->put(b->db, NULL, &k, &v, DB_NOOVERWRITE);
	if (r == DB_KEYEXIST) {
		msg_warn("%s:%ld: duplicate entry \"%s\": the first one "
			 "is kept",
			 b->path, lineno, key);
		return 0;
	}
	if (r != 0) {
		buf_set(err, db_strerror(r));
		return -1;
	}
	return 0;
}

/* Makes the finished file durable and gives it the source's owner. */
static int
build_finish(const char *tmp, const struct stat *src, struct buf *err)
{
	int fd = open(tmp, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	int r = 0;

	if (fd < 0 || fchmod(fd, src->st_mode & 0644) < 0 ||
	    (geteuid() == 0 && fchown(fd, src->st_uid, src->st_gid) < 0) ||
	    fsync(fd) < 0) {
		buf_set(err, "");
		buf_printf(err, "%s: %s", tmp, strerror(errno));
		r = -1;
	}
	if (fd >= 0)
		close(fd);
	return r;
}

/* The rename is durable once the directory is synced. */
static void
sync_dir(const char *file)
{
	char *copy = xstrdup(file);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	xfree(copy);
}

int
map_build(const char *spec, int flags, struct buf *err)
{
	struct buf tmp = BUF_INIT, dst = BUF_INIT;
	struct build b;
	struct stat st;
	const char *path;
	DBTYPE type;
	int r;

	if (strncmp(spec, "hash:", 5) == 0) {
		type = DB_HASH;
		path = spec + 5;
	} else if (strncmp(spec, "btree:", 6) == 0) {
		type = DB_BTREE;
		path = spec + 6;
	} else {
		buf_set(err, "");
		buf_printf(err,
			   "%s: unsupported table type for building: only "
			   "hash: and btree: tables are built (the other "
			   "types are read as they are)",
			   spec);
		return -1;
	}
	if (*path == '\0' || stat(path, &st) < 0) {
		buf_set(err, "");
		buf_printf(err, "%s: %s", *path ? path : spec,
			   *path ? strerror(errno) : "empty table name");
		return -1;
	}
	buf_printf(&dst, "%s.db", path);
	buf_printf(&tmp, "%s.db.tmp", path);
	memset(&b, 0, sizeof(b));
	b.path = path;
	b.flags = flags;
	(void)unlink(buf_cstr(&tmp));
	if ((r = db_create(&b.db, NULL, 0)) == 0)
		r = b.db->open(b.db, NULL, buf_cstr(&tmp), NULL, type,
			       DB_CREATE | DB_EXCL, 0600);
	if (r != 0) {
		buf_set(err, "");
		buf_printf(err, "%s: %s", buf_cstr(&tmp), db_strerror(r));
		if (b.db)
			b.db->close(b.db, 0);
		r = -1;
		goto out;
	}
	r = map_text_read(path, build_entry, &b, NULL, err);
	if (b.db->close(b.db, 0) != 0 && r == 0) {
		buf_set(err, "");
		buf_printf(err, "%s: cannot write the table", buf_cstr(&tmp));
		r = -1;
	}
	if (r == 0)
		r = build_finish(buf_cstr(&tmp), &st, err);
	if (r == 0 && rename(buf_cstr(&tmp), buf_cstr(&dst)) < 0) {
		buf_set(err, "");
		buf_printf(err, "rename %s to %s: %s", buf_cstr(&tmp),
			   buf_cstr(&dst), strerror(errno));
		r = -1;
	}
	if (r == 0)
		sync_dir(buf_cstr(&dst));
	if (r < 0)
		(void)unlink(buf_cstr(&tmp));
out:
	buf_free(&tmp);
	buf_free(&dst);
	return r;
}
