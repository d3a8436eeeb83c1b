/*
 * maps - "type:name" lookup tables; only hash: (Berkeley DB DB_HASH).
 * See maps.h for the contract.
 *
 * Storage: keys and values are stored without a terminating NUL; keys
 * are lower case.  A table is opened read-only without an environment
 * (no locking: writers never modify a live file, they rename a new one
 * over it), and maps_changed() compares the device, inode and mtime of
 * PATH.db with those seen at open time.  It looks the name up relative to
 * a descriptor of PATH.db's folder taken at open time, because the
 * daemons that ask (qmgr, local) may have chrooted since: the absolute
 * path no longer reaches the file there, and every table looked changed
 * for ever (a chrooted qmgr with transport_maps exited at every scan).
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

#include "maps.h"
#include "msg.h"
#include "strutil.h"
#include "xalloc.h"

#define MAPS_TABLES_MAX 64
#define MAPS_SOURCE_MAX (256 * 1024 * 1024) /* bytes of a text file */

struct map_table {
	char *spec; /* "hash:PATH" */
	char *db_path;
	DB *db;
	struct stat st; /* of db_path when opened */
	int dir_fd;	/* O_PATH descriptor of db_path's folder, or -1 */
	char *db_base;	/* db_path's last component */
};

struct maps {
	struct map_table *tables;
	size_t count;
};

static void
table_close(struct map_table *t)
{
	if (t->db)
		t->db->close(t->db, 0);
	if (t->dir_fd >= 0)
		close(t->dir_fd);
	xfree(t->spec);
	xfree(t->db_path);
	xfree(t->db_base);
}

void
maps_close(struct maps *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->count; i++)
		table_close(&m->tables[i]);
	xfree(m->tables);
	xfree(m);
}

/* "hash:PATH" -> PATH, or NULL with err for another or no type. */
static const char *
spec_path(const char *spec, struct buf *err)
{
	const char *colon = strchr(spec, ':');

	if (colon == NULL || colon == spec) {
		buf_set(err, "");
		buf_printf(err, "%s: table name without a type (use hash:%s)",
			   spec, spec);
		return NULL;
	}
	if ((size_t)(colon - spec) != 4 || strncmp(spec, "hash", 4) != 0) {
		buf_set(err, "");
		buf_printf(err, "%s: unsupported lookup table type \"%.*s\"",
			   spec, (int)(colon - spec), spec);
		return NULL;
	}
	if (colon[1] == '\0') {
		buf_set(err, "");
		buf_printf(err, "%s: empty table name", spec);
		return NULL;
	}
	return colon + 1;
}

/* The folder of db_path, kept open so that maps_changed() still finds
 * the file after a chroot. */
static int
table_dir_open(struct map_table *t, struct buf *err)
{
	const char *slash = strrchr(t->db_path, '/');
	char *dir;

	if (slash == NULL) {
		dir = xstrdup(".");
		t->db_base = xstrdup(t->db_path);
	} else {
		dir = slash == t->db_path
			  ? xstrdup("/")
			  : xstrndup(t->db_path, (size_t)(slash - t->db_path));
		t->db_base = xstrdup(slash + 1);
	}
	t->dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (t->dir_fd < 0) {
		buf_set(err, "");
		buf_printf(err, "cannot open table %s: %s: %s", t->db_path, dir,
			   strerror(errno));
		xfree(dir);
		return -1;
	}
	xfree(dir);
	return 0;
}

static int
table_open(struct map_table *t, const char *spec, struct buf *err)
{
	struct buf path = BUF_INIT;
	const char *name = spec_path(spec, err);
	int r, fd;

	memset(t, 0, sizeof(*t));
	t->dir_fd = -1;
	if (name == NULL)
		return -1;
	buf_printf(&path, "%s.db", name);
	t->spec = xstrdup(spec);
	t->db_path = buf_steal(&path);
	if (table_dir_open(t, err) < 0)
		return -1;
	if ((r = db_create(&t->db, NULL, 0)) != 0) {
		t->db = NULL;
		buf_set(err, "");
		buf_printf(err, "%s: db_create: %s", spec, db_strerror(r));
		return -1;
	}
	r = t->db->open(t->db, NULL, t->db_path, NULL, DB_HASH, DB_RDONLY, 0);
	if (r != 0) {
		buf_set(err, "");
		buf_printf(err, "cannot open table %s: %s", t->db_path,
			   db_strerror(r));
		return -1;
	}
	/* What maps_changed() compares with: the file that was opened. */
	if (t->db->fd(t->db, &fd) != 0 || fstat(fd, &t->st) < 0) {
		buf_set(err, "");
		buf_printf(err, "cannot stat table %s", t->db_path);
		return -1;
	}
	return 0;
}

struct maps *
maps_open(const char *list, struct buf *err)
{
	struct maps *m = xcalloc(1, sizeof(*m));
	char **specs;
	int n;

	specs = str_split(list, ", \t\r\n", &n);
	if (n > MAPS_TABLES_MAX) {
		buf_set(err, "too many lookup tables in one list");
		str_list_free(specs);
		xfree(m);
		return NULL;
	}
	m->tables = xcalloc((size_t)n + 1, sizeof(*m->tables));
	for (int i = 0; i < n; i++) {
		m->count++;
		if (table_open(&m->tables[i], specs[i], err) < 0) {
			str_list_free(specs);
			maps_close(m);
			return NULL;
		}
	}
	str_list_free(specs);
	return m;
}

int
maps_lookup(struct maps *m, const char *key, struct buf *value, struct buf *err)
{
	char folded[MAPS_KEY_MAX + 1];
	size_t klen = strlen(key);
	DBT k, v;
	int r;

	if (klen == 0 || klen > MAPS_KEY_MAX)
		return 0;
	memcpy(folded, key, klen + 1);
	str_lower(folded);
	for (size_t i = 0; i < m->count; i++) {
		struct map_table *t = &m->tables[i];

		memset(&k, 0, sizeof(k));
		memset(&v, 0, sizeof(v));
		k.data = folded;
		k.size = (u_int32_t)klen;
		r = t->db->get(t->db, NULL, &k, &v, 0);
		if (r == DB_NOTFOUND)
			continue;
		if (r != 0) {
			buf_set(err, "");
			buf_printf(err, "%s: lookup of \"%s\": %s", t->spec,
				   folded, db_strerror(r));
			return -1;
		}
		if (v.size > MAPS_VALUE_MAX) {
			buf_set(err, "");
			buf_printf(err, "%s: value of \"%s\" too long", t->spec,
				   folded);
			return -1;
		}
		buf_reset(value);
		buf_append(value, v.data, v.size);
		return 1;
	}
	return 0;
}

int
maps_changed(const struct maps *m)
{
	struct stat st;

	for (size_t i = 0; i < m->count; i++) {
		const struct map_table *t = &m->tables[i];

		if (fstatat(t->dir_fd, t->db_base, &st, 0) < 0 ||
		    st.st_dev != t->st.st_dev || st.st_ino != t->st.st_ino ||
		    st.st_mtim.tv_sec != t->st.st_mtim.tv_sec ||
		    st.st_mtim.tv_nsec != t->st.st_mtim.tv_nsec)
			return 1;
	}
	return 0;
}

/* Building. */

struct build {
	const char *path; /* the text file */
	int flags;
	DB *db;
	struct buf *err;
	long line; /* where the current entry starts */
	long entries;
};

static int
build_error(struct build *b, const char *text)
{
	buf_set(b->err, "");
	buf_printf(b->err, "%s:%ld: %s", b->path, b->line, text);
	return -1;
}

/* Adds one logical line ("key value" or "name: value"). */
static int
build_entry(struct build *b, char *line)
{
	char *key = str_trim(line), *value, *end;
	DBT k, v;
	int r;

	if (b->flags & MAP_BUILD_ALIASES) {
		/* A quoted name may contain the colon. */
		end = key;
		if (*key == '"' && (end = strchr(key + 1, '"')) == NULL)
			return build_error(b,
					   "unbalanced quotes in alias name");
		if ((value = strchr(end, ':')) == NULL)
			return build_error(b, "missing colon after alias name");
		*value++ = '\0';
		str_trim(key);
		if (*key == '"' && key[strlen(key) - 1] == '"' &&
		    strlen(key) >= 2) {
			key[strlen(key) - 1] = '\0';
			key++;
		}
	} else {
		value = key + strcspn(key, " \t");
		if (*value)
			*value++ = '\0';
	}
	value = str_trim(value);
	if (*key == '\0')
		return build_error(b, "empty key");
	if (*value == '\0')
		return build_error(b, "missing value");
	if (strlen(key) > MAPS_KEY_MAX)
		return build_error(b, "key too long");
	if (strlen(value) > MAPS_VALUE_MAX)
		return build_error(b, "value too long");
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
			 b->path, b->line, key);
		return 0;
	}
	if (r != 0)
		return build_error(b, db_strerror(r));
	b->entries++;
	return 0;
}

/* Reads the text file, joining continuation lines. */
static int
build_read(struct build *b, FILE *fp)
{
	struct buf entry = BUF_INIT;
	char *line = NULL;
	size_t cap = 0, total = 0;
	ssize_t n;
	long lineno = 0;
	int r = 0;

	while (r == 0 && (n = getline(&line, &cap, fp)) >= 0) {
		lineno++;
		total += (size_t)n;
		if (total > MAPS_SOURCE_MAX) {
			b->line = lineno;
			r = build_error(b, "file too large");
			break;
		}
		if (memchr(line, '\0', (size_t)n) != NULL) {
			b->line = lineno;
			r = build_error(b, "NUL byte in line");
			break;
		}
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		char *s = line + strspn(line, " \t");
		if (*s == '#' || *s == '\0')
			continue;
		if (s != line) {
			/* A continuation line. */
			if (entry.len == 0) {
				b->line = lineno;
				r = build_error(b, "continuation line without "
						   "a preceding entry");
				break;
			}
			if (entry.len + (size_t)n >
			    MAPS_KEY_MAX + MAPS_VALUE_MAX + 2) {
				r = build_error(b, "entry too long");
				break;
			}
			buf_putc(&entry, ' ');
			buf_puts(&entry, s);
			continue;
		}
		if (entry.len > 0)
			r = build_entry(b, entry.data);
		buf_set(&entry, line);
		b->line = lineno;
	}
	if (r == 0 && ferror(fp)) {
		buf_set(b->err, "");
		buf_printf(b->err, "%s: read error: %s", b->path,
			   strerror(errno));
		r = -1;
	}
	if (r == 0 && entry.len > 0)
		r = build_entry(b, entry.data);
	free(line);
	buf_free(&entry);
	return r;
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
	const char *path = spec_path(spec, err);
	FILE *fp;
	int r;

	if (path == NULL)
		return -1;
	if ((fp = fopen(path, "re")) == NULL || fstat(fileno(fp), &st) < 0) {
		buf_set(err, "");
		buf_printf(err, "%s: %s", path, strerror(errno));
		if (fp)
			fclose(fp);
		return -1;
	}
	buf_printf(&dst, "%s.db", path);
	buf_printf(&tmp, "%s.db.tmp", path);
	memset(&b, 0, sizeof(b));
	b.path = path;
	b.flags = flags;
	b.err = err;
	(void)unlink(buf_cstr(&tmp));
	if ((r = db_create(&b.db, NULL, 0)) == 0)
		r = b.db->open(b.db, NULL, buf_cstr(&tmp), NULL, DB_HASH,
			       DB_CREATE | DB_EXCL, 0600);
	if (r != 0) {
		buf_set(err, "");
		buf_printf(err, "%s: %s", buf_cstr(&tmp), db_strerror(r));
		if (b.db)
			b.db->close(b.db, 0);
		r = -1;
		goto out;
	}
	r = build_read(&b, fp);
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
	fclose(fp);
	buf_free(&tmp);
	buf_free(&dst);
	return r;
}
