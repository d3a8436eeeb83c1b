/*
 * map_text - reading the text of tables; see map_text.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "map_text.h"
#include "strutil.h"
#include "xalloc.h"

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Gives one logical line to fn; a failure gets "where:line: " first. */
static int
text_deliver(struct buf *entry, const char *where, long line, map_text_fn fn,
	     void *ctx, struct buf *err)
{
	struct buf why = BUF_INIT;
	int r;

	if (entry->len == 0)
		return 0;
	r = fn(entry->data, line, ctx, &why);
	if (r < 0) {
		buf_set(err, "");
		buf_printf(err, "%s:%ld: %s", where, line, buf_cstr(&why));
	}
	buf_reset(entry);
	buf_free(&why);
	return r;
}

static int
text_error(struct buf *err, const char *where, long line, const char *text)
{
	buf_set(err, "");
	buf_printf(err, "%s:%ld: %s", where, line, text);
	return -1;
}

static int
text_read_file(const char *path, map_text_fn fn, void *ctx, struct map_watch *w,
	       struct buf *err)
{
	struct buf entry = BUF_INIT;
	FILE *fp = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0, total = 0;
	ssize_t n;
	long lineno = 0, start = 0;
	int r = 0;

	if (fp == NULL) {
		buf_set(err, "");
		buf_printf(err, "cannot open table %s: %s", path,
			   strerror(errno));
		return -1;
	}
	if (w && map_watch_init(w, path, fileno(fp), err) < 0) {
		fclose(fp);
		return -1;
	}
	while (r == 0 && (n = getline(&line, &cap, fp)) >= 0) {
		lineno++;
		total += (size_t)n;
		if (total > MAP_TEXT_MAX) {
			r = text_error(err, path, lineno, "file too large");
			break;
		}
		if (memchr(line, '\0', (size_t)n) != NULL) {
			r = text_error(err, path, lineno, "NUL byte in line");
			break;
		}
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		char *s = line + strspn(line, " \t");
		if (*s == '#' || *s == '\0')
			continue;
		if (s != line) {
			if (entry.len == 0) {
				r = text_error(err, path, lineno,
					       "continuation line without "
					       "a preceding entry");
				break;
			}
			if (entry.len + (size_t)n > MAP_TEXT_LINE_MAX) {
				r = text_error(err, path, start,
					       "entry too long");
				break;
			}
			/* As Postfix: the line joins with its leading
			 * white space, only the newline goes. */
			buf_puts(&entry, line);
			continue;
		}
		r = text_deliver(&entry, path, start, fn, ctx, err);
		if (r == 0 && (size_t)n > MAP_TEXT_LINE_MAX)
			r = text_error(err, path, lineno, "entry too long");
		buf_set(&entry, line);
		start = lineno;
	}
	if (r == 0 && ferror(fp)) {
		buf_set(err, "");
		buf_printf(err, "%s: read error: %s", path, strerror(errno));
		r = -1;
	}
	if (r == 0)
		r = text_deliver(&entry, path, start, fn, ctx, err);
	free(line);
	buf_free(&entry);
	fclose(fp);
	return r;
}

int
map_text_read(const char *name, map_text_fn fn, void *ctx, struct map_watch *w,
	      struct buf *err)
{
	struct buf entry = BUF_INIT;
	char **rules;
	int r = 0;

	if (name[0] != '{')
		return text_read_file(name, fn, ctx, w, err);
	if ((rules = map_text_braces(name, err)) == NULL)
		return -1;
	for (long i = 0; r == 0 && rules[i]; i++) {
		if (strlen(rules[i]) > MAP_TEXT_LINE_MAX) {
			r = text_error(err, "{...}", i + 1, "entry too long");
			break;
		}
		buf_set(&entry, rules[i]);
		r = text_deliver(&entry, "{...}", i + 1, fn, ctx, err);
	}
	str_list_free(rules);
	buf_free(&entry);
	return r;
}

/* The end of the group that starts at the '{' at s, or NULL. */
static const char *
group_end(const char *s)
{
	int depth = 0;

	for (; *s; s++) {
		if (*s == '{')
			depth++;
		else if (*s == '}' && --depth == 0)
			return s;
	}
	return NULL;
}

char **
map_text_braces(const char *text, struct buf *err)
{
	const char *s = text + strspn(text, " \t\r\n"), *end, *p;
	char **list = xcalloc(1, sizeof(*list));
	size_t n = 0;

	if (*s != '{' || (end = group_end(s)) == NULL ||
	    end[1 + strspn(end + 1, " \t\r\n")] != '\0') {
		buf_set(err, "");
		buf_printf(err,
			   "%s: syntax error: unbalanced braces or text "
			   "after the closing one",
			   text);
		xfree(list);
		return NULL;
	}
	for (p = s + 1; p < end;) {
		const char *e;
		char *item;

		if (is_space(*p) || *p == ',') {
			p++;
			continue;
		}
		if (*p == '{') {
			if ((e = group_end(p)) == NULL || e > end) {
				buf_set(err, "");
				buf_printf(err, "%s: unbalanced braces", text);
				str_list_free(list);
				return NULL;
			}
			item = xstrndup(p + 1, (size_t)(e - p - 1));
			p = e + 1;
		} else {
			for (e = p;
			     e < end && !is_space(*e) && *e != ',' && *e != '{';
			     e++)
				;
			item = xstrndup(p, (size_t)(e - p));
			p = e;
		}
		/* Trimmed in place, then copied to the start. */
		char *t = str_trim(item);
		memmove(item, t, strlen(t) + 1);
		list = xreallocarray(list, n + 2, sizeof(*list));
		list[n++] = item;
		list[n] = NULL;
	}
	return list;
}

int
map_text_entry(char *line, int aliases, char **key, char **value,
	       struct buf *err)
{
	char *k = str_trim(line), *v, *end;

	if (aliases) {
		/* A quoted name may contain the colon. */
		end = k;
		if (*k == '"' && (end = strchr(k + 1, '"')) == NULL) {
			buf_set(err, "unbalanced quotes in alias name");
			return -1;
		}
		if ((v = strchr(end, ':')) == NULL) {
			buf_set(err, "missing colon after alias name");
			return -1;
		}
		*v++ = '\0';
		str_trim(k);
		if (*k == '"' && strlen(k) >= 2 && k[strlen(k) - 1] == '"') {
			k[strlen(k) - 1] = '\0';
			k++;
		}
	} else {
		v = k + strcspn(k, " \t");
		if (*v)
			*v++ = '\0';
	}
	v = str_trim(v);
	if (*k == '\0') {
		buf_set(err, "empty key");
		return -1;
	}
	if (*v == '\0') {
		buf_set(err, "missing value");
		return -1;
	}
	*key = k;
	*value = v;
	return 0;
}
