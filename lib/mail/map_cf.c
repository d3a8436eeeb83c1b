/*
 * map_cf - the configuration files of directory tables; see map_cf.h.
 * The logical lines come from map_text, so comments and continuation
 * lines are read exactly as in the other table files.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "map_cf.h"
#include "map_text.h"
#include "msg.h"
#include "strutil.h"
#include "xalloc.h"

struct map_cf {
	char *path;
	char **names, **values;
	size_t count;
};

struct cf_ctx {
	struct map_cf *cf;
	const char *const *known;
};

static int
cf_known(const char *const *known, const char *name)
{
	for (; *known; known++)
		if (strcmp(*known, name) == 0)
			return 1;
	return 0;
}

static int
cf_line(char *line, long lineno, void *vctx, struct buf *err)
{
	struct cf_ctx *ctx = vctx;
	struct map_cf *cf = ctx->cf;
	char *eq = strchr(line, '='), *name, *value;

	if (eq == NULL) {
		buf_set(err, "missing '=' after the parameter name");
		return -1;
	}
	*eq = '\0';
	name = str_trim(line);
	value = str_trim(eq + 1);
	if (*name == '\0' || strcspn(name, " \t") != strlen(name)) {
		buf_set(err, "bad parameter name");
		return -1;
	}
	if (!cf_known(ctx->known, name))
		msg_warn("%s:%ld: unknown parameter \"%s\" ignored", cf->path,
			 lineno, name);
	for (size_t i = 0; i < cf->count; i++) {
		if (strcmp(cf->names[i], name) == 0) {
			xfree(cf->values[i]);
			cf->values[i] = xstrdup(value);
			return 0;
		}
	}
	cf->names = xreallocarray(cf->names, cf->count + 1, sizeof(char *));
	cf->values = xreallocarray(cf->values, cf->count + 1, sizeof(char *));
	cf->names[cf->count] = xstrdup(name);
	cf->values[cf->count] = xstrdup(value);
	cf->count++;
	return 0;
}

struct map_cf *
map_cf_read(const char *type, const char *path, const char *const *known,
	    struct map_watch *w, struct buf *err)
{
	struct map_cf *cf;
	struct cf_ctx ctx;

	if (path[0] != '/') {
		buf_set(err, "");
		buf_printf(err,
			   "%s:%s: the name must be the absolute path of a "
			   "configuration file (%s_table(5)); the main.cf "
			   "form is not supported",
			   type, path, type);
		return NULL;
	}
	cf = xcalloc(1, sizeof(*cf));
	cf->path = xstrdup(path);
	ctx.cf = cf;
	ctx.known = known;
	if (map_text_read(path, cf_line, &ctx, w, err) < 0) {
		map_cf_free(cf);
		return NULL;
	}
	return cf;
}

const char *
map_cf_str(const struct map_cf *cf, const char *name, const char *dflt)
{
	for (size_t i = 0; i < cf->count; i++)
		if (strcmp(cf->names[i], name) == 0)
			return cf->values[i];
	return dflt;
}

int
map_cf_int(const struct map_cf *cf, const char *name, long dflt, long min,
	   long max, long *out, struct buf *err)
{
	const char *s = map_cf_str(cf, name, NULL);
	char *end;
	long v;

	if (s == NULL) {
		*out = dflt;
		return 0;
	}
	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max) {
		buf_set(err, "");
		buf_printf(err,
			   "%s: %s: \"%s\" is not a number from %ld to %ld",
			   cf->path, name, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

void
map_cf_free(struct map_cf *cf)
{
	if (cf == NULL)
		return;
	for (size_t i = 0; i < cf->count; i++) {
		xfree(cf->names[i]);
		xfree(cf->values[i]);
	}
	xfree(cf->names);
	xfree(cf->values);
	xfree(cf->path);
	xfree(cf);
}
