/*
 * maps - "type:name" lookup tables: the list, the dispatch to a type
 * (lib/map_TYPE.c, through map_int.h), key folding and bounds, and the
 * watch on table files.  See maps.h for the contract.
 *
 * A list is split at commas and white space outside braces, so that
 * "inline:{ a=b, c=d }" stays one table.  maps_changed() compares the
 * device, inode and mtime of a table's file with those seen at open
 * time, looking the name up relative to a descriptor of its folder taken
 * at open time, because the daemons that ask (qmgr, local) may have
 * chrooted since: the absolute path no longer reaches the file there,
 * and every table looked changed for ever (a chrooted qmgr with
 * transport_maps exited at every scan).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "map_int.h"
#include "msg.h"
#include "maps.h"
#include "strutil.h"
#include "xalloc.h"

#define MAPS_TABLES_MAX 64

struct maps {
	struct map *tables;
	size_t count;
};

static const struct map_type *const map_types[] = {
    &map_type_hash,  &map_type_btree,	  &map_type_cidr,   &map_type_regexp,
    &map_type_pcre,  &map_type_static,	  &map_type_inline, &map_type_texthash,
    &map_type_unix,  &map_type_socketmap, &map_type_tcp,    &map_type_proxy,
    &map_type_pgsql, &map_type_mysql,	  &map_type_ldap,
};

const char *
maps_types(void)
{
	static char names[128];

	if (names[0] == '\0') {
		for (size_t i = 0; i < sizeof(map_types) / sizeof(*map_types);
		     i++) {
			if (i)
				strcat(names, " ");
			strcat(names, map_types[i]->name);
		}
	}
	return names;
}

/* The type of spec and, in *name, what follows its colon; NULL with err
 * for no type, an unknown one or an empty name. */
static const struct map_type *
spec_type(const char *spec, const char **name, struct buf *err)
{
	const char *colon = strchr(spec, ':');
	size_t len;

	if (colon == NULL || colon == spec || spec[0] == '/') {
		buf_set(err, "");
		buf_printf(err, "%s: table name without a type (use hash:%s)",
			   spec, spec);
		return NULL;
	}
	len = (size_t)(colon - spec);
	for (size_t i = 0; i < sizeof(map_types) / sizeof(*map_types); i++) {
		if (strlen(map_types[i]->name) == len &&
		    strncmp(spec, map_types[i]->name, len) == 0) {
			if (colon[1] == '\0') {
				buf_set(err, "");
				buf_printf(err, "%s: empty table name", spec);
				return NULL;
			}
			*name = colon + 1;
			return map_types[i];
		}
	}
	buf_set(err, "");
	buf_printf(err, "%s: unsupported table type \"%.*s\" (supported: %s)",
		   spec, (int)len, spec, maps_types());
	return NULL;
}

char **
maps_split(const char *list, int *count, struct buf *err)
{
	char **out = xcalloc(1, sizeof(*out));
	const char *s = list, *start;
	int n = 0, depth;

	for (;;) {
		s += strspn(s, ", \t\r\n");
		if (*s == '\0')
			break;
		start = s;
		for (depth = 0; *s; s++) {
			if (*s == '{')
				depth++;
			else if (*s == '}' && depth > 0)
				depth--;
			else if (depth == 0 && strchr(", \t\r\n", *s))
				break;
		}
		if (depth != 0) {
			buf_set(err, "");
			buf_printf(err, "%s: unbalanced braces", start);
			str_list_free(out);
			return NULL;
		}
		out = xreallocarray(out, (size_t)n + 2, sizeof(*out));
		out[n++] = xstrndup(start, (size_t)(s - start));
		out[n] = NULL;
	}
	if (count)
		*count = n;
	return out;
}

int
maps_check(const char *list, struct buf *err)
{
	const char *name;
	char **specs;
	int n, r = 0;

	if ((specs = maps_split(list, &n, err)) == NULL)
		return -1;
	for (int i = 0; r == 0 && i < n; i++)
		if (spec_type(specs[i], &name, err) == NULL)
			r = -1;
	str_list_free(specs);
	return r;
}

static void
map_close(struct map *t)
{
	if (t->type && t->type->close)
		t->type->close(t);
	map_watch_free(&t->watch);
	xfree(t->spec);
}

void
maps_close(struct maps *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->count; i++)
		map_close(&m->tables[i]);
	xfree(m->tables);
	xfree(m);
}

static int
map_open(struct map *t, const char *spec, struct buf *err)
{
	const struct map_type *type;
	const char *name;

	memset(t, 0, sizeof(*t));
	t->watch.dir_fd = -1;
	t->spec = xstrdup(spec);
	if ((type = spec_type(spec, &name, err)) == NULL)
		return -1;
	/* close() copes with what a failed open() left. */
	t->type = type;
	return type->open(t, name, err);
}

struct maps *
maps_open(const char *list, struct buf *err)
{
	struct maps *m;
	char **specs;
	int n;

	if ((specs = maps_split(list, &n, err)) == NULL)
		return NULL;
	if (n > MAPS_TABLES_MAX) {
		buf_set(err, "too many lookup tables in one list");
		str_list_free(specs);
		return NULL;
	}
	m = xcalloc(1, sizeof(*m));
	m->tables = xcalloc((size_t)n + 1, sizeof(*m->tables));
	for (int i = 0; i < n; i++) {
		m->count++;
		if (map_open(&m->tables[i], specs[i], err) < 0) {
			str_list_free(specs);
			maps_close(m);
			return NULL;
		}
	}
	str_list_free(specs);
	return m;
}

/* A lookup with keys of at most max bytes for the types that fold them
 * (and so copy them); the others get the key as it is. */
static int
maps_lookup_max(struct maps *m, const char *key, size_t max, struct buf *value,
		struct buf *err)
{
	char folded[MAPS_KEY_MAX + 1];
	int have_folded = 0;
	struct buf why = BUF_INIT;
	size_t klen = strlen(key);
	int r = 0;

	if (klen == 0)
		return 0;
	if (klen > max) {
		buf_set(err, "");
		buf_printf(err, "lookup key too long (%zu bytes, limit %zu)",
			   klen, max);
		return -1;
	}
	for (size_t i = 0; i < m->count && r == 0; i++) {
		struct map *t = &m->tables[i];
		const char *k = key;

		if (t->type->flags & MAP_T_FOLD) {
			if (klen > MAPS_KEY_MAX) {
				buf_set(err, "");
				buf_printf(err,
					   "%s: lookup key too long (%zu "
					   "bytes, limit %d)",
					   t->spec, klen, MAPS_KEY_MAX);
				r = -1;
				break;
			}
			if (!have_folded) {
				memcpy(folded, key, klen + 1);
				str_lower(folded);
				have_folded = 1;
			}
			k = folded;
		}
		buf_reset(&why);
		r = t->type->lookup(t, k, value, &why);
		if (r < 0) {
			buf_set(err, "");
			buf_printf(err, "%s: lookup of \"%.200s\": %s", t->spec,
				   k, buf_cstr(&why));
		} else if (r > 0 && value->len > MAPS_VALUE_MAX) {
			buf_set(err, "");
			buf_printf(err, "%s: value of \"%.200s\" too long",
				   t->spec, k);
			r = -1;
		}
	}
	buf_free(&why);
	return r;
}

int
maps_lookup(struct maps *m, const char *key, struct buf *value, struct buf *err)
{
	return maps_lookup_max(m, key, MAPS_KEY_MAX, value, err);
}

int
maps_lookup_text(struct maps *m, const char *key, struct buf *value,
		 struct buf *err)
{
	return maps_lookup_max(m, key, MAPS_TEXT_KEY_MAX, value, err);
}

int
maps_changed(const struct maps *m)
{
	for (size_t i = 0; i < m->count; i++)
		if (map_watch_changed(&m->tables[i].watch))
			return 1;
	return 0;
}

/* Watching table files. */

/* The folder part of path into a new string, the rest to w->base. */
static char *
watch_split(struct map_watch *w, const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL) {
		w->base = xstrdup(path);
		return xstrdup(".");
	}
	w->base = xstrdup(slash + 1);
	return slash == path ? xstrdup("/")
			     : xstrndup(path, (size_t)(slash - path));
}

int
map_watch_init(struct map_watch *w, const char *path, int fd, struct buf *err)
{
	char *dir;

	dir = watch_split(w, path);
	w->missing = 0;
	w->dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (w->dir_fd < 0 || fstat(fd, &w->st) < 0) {
		buf_set(err, "");
		buf_printf(err, "cannot open table %s: %s: %s", path, dir,
			   strerror(errno));
		xfree(dir);
		return -1;
	}
	xfree(dir);
	return 0;
}

int
map_watch_changed(const struct map_watch *w)
{
	struct stat st;

	if (w->dir_fd < 0)
		return 0;
	if (fstatat(w->dir_fd, w->base, &st, 0) < 0)
		return !w->missing;
	return w->missing || st.st_dev != w->st.st_dev ||
	       st.st_ino != w->st.st_ino || st.st_size != w->st.st_size ||
	       st.st_mtim.tv_sec != w->st.st_mtim.tv_sec ||
	       st.st_mtim.tv_nsec != w->st.st_mtim.tv_nsec;
}

/* Files read without a table (maps.h). */

struct maps_watch {
	struct map_watch w;
};

struct maps_watch *
maps_watch_file(const char *path)
{
	struct maps_watch *mw = xcalloc(1, sizeof(*mw));
	char *dir = watch_split(&mw->w, path);

	mw->w.dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (mw->w.dir_fd < 0)
		msg_warn("cannot watch %s for changes: %s: %s", path, dir,
			 strerror(errno));
	else if (fstatat(mw->w.dir_fd, mw->w.base, &mw->w.st, 0) < 0)
		mw->w.missing = 1;
	xfree(dir);
	return mw;
}

int
maps_watch_changed(const struct maps_watch *mw)
{
	return mw != NULL && map_watch_changed(&mw->w);
}

void
maps_watch_free(struct maps_watch *mw)
{
	if (mw == NULL)
		return;
	map_watch_free(&mw->w);
	xfree(mw);
}

void
map_watch_free(struct map_watch *w)
{
	if (w->dir_fd >= 0)
		close(w->dir_fd);
	w->dir_fd = -1;
	xfree(w->base);
	w->base = NULL;
}
