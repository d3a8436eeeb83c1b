/*
 * attr_scan - typed scan specifications for attribute lists; see
 * attr_scan.h.
 *
 * One pass over the list: each level (the message, or one group) takes
 * the attributes that belong to it and hands a group's run to a nested
 * call, which returns at the first name that is not one of its members.
 * Every count is bounded by the table before anything grows, and an
 * attribute is copied only after its value passed its checks.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "attr_scan.h"
#include "xalloc.h"

#define FIELD(obj, off) ((char *)(obj) + (off))

int
attr_scan_int(const char *s, size_t len, long long min, long long max,
	      long long *out)
{
	size_t i = 0;
	int neg = 0;
	unsigned long long v = 0, lim;

	if (len > 0 && s[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (i == len || (s[i] == '0' && len - i > 1) || (neg && s[i] == '0'))
		return -1;
	lim = neg ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX;
	for (; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (lim - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (neg) {
		/* -(LLONG_MAX + 1) is LLONG_MIN, reached without overflow. */
		long long sv = v == 0 ? 0 : -(long long)(v - 1) - 1;

		if (sv < min || sv > max)
			return -1;
		*out = sv;
		return 0;
	}
	if ((long long)v < min || (long long)v > max)
		return -1;
	*out = (long long)v;
	return 0;
}

/* "SEC" or "SEC.d", "SEC.dd", "SEC.ddd", as milliseconds. */
static int
scan_msec(const char *s, size_t len, long long min, long long max,
	  long long *out)
{
	const char *dot = memchr(s, '.', len);
	size_t ilen = dot ? (size_t)(dot - s) : len, flen, i;
	long long sec, ms = 0;

	if (attr_scan_int(s, ilen, 0, LLONG_MAX / 1000 - 1, &sec) < 0)
		return -1;
	if (dot) {
		flen = len - ilen - 1;
		if (flen < 1 || flen > 3)
			return -1;
		for (i = 0; i < 3; i++) {
			char c = i < flen ? dot[1 + i] : '0';

			if (c < '0' || c > '9')
				return -1;
			ms = ms * 10 + (c - '0');
		}
	}
	ms += sec * 1000;
	if (ms < min || ms > max)
		return -1;
	*out = ms;
	return 0;
}

static int
str_ok(const struct attr_scan_spec *s, const struct attr *a)
{
	if (memchr(a->value, '\0', a->len) != NULL ||
	    (long long)a->len < s->min || (long long)a->len > s->max)
		return 0;
	if (s->flags & ATTR_SCAN_LINE)
		for (size_t i = 0; i < a->len; i++) {
			unsigned char c = (unsigned char)a->value[i];

			if (c < ' ' || c == 0x7f)
				return 0;
		}
	return 1;
}

static const struct attr_scan_spec *
find_row(const struct attr_scan_spec *spec, const char *name, size_t *row)
{
	for (size_t i = 0; spec[i].name != NULL; i++)
		if (strcmp(spec[i].name, name) == 0) {
			*row = i;
			return &spec[i];
		}
	return NULL;
}

static int scan_level(const struct attr_list *list, size_t *pos,
		      const struct attr_scan_spec *spec, void *obj, int group,
		      int depth, struct buf *why);

static int
refuse(struct buf *why, const char *what, const char *name)
{
	buf_printf(why, "%s attribute \"%s\"", what, name);
	return -1;
}

/* The run of a group that starts at *pos. */
static int
scan_group(const struct attr_list *list, size_t *pos,
	   const struct attr_scan_spec *s, void *obj, int depth,
	   struct buf *why)
{
	char **arr = (char **)FIELD(obj, s->off);
	size_t *n = (size_t *)FIELD(obj, s->count_off);
	void *elem;

	if (strcmp(s->members[0].name, s->name) != 0)
		return refuse(why, "a table error: group key", s->name);
	while (*pos < list->count &&
	       strcmp(list->items[*pos].name, s->name) == 0) {
		if (*n == s->count_max)
			return refuse(why, "too many groups of", s->name);
		*arr = xreallocarray(*arr, *n + 1, s->elem_size);
		elem = *arr + *n * s->elem_size;
		memset(elem, 0, s->elem_size);
		(*n)++;
		if (scan_level(list, pos, s->members, elem, 1, depth + 1, why) <
		    0)
			return -1;
	}
	return 0;
}

static int
scan_one(const struct attr_scan_spec *s, const struct attr *a, void *obj,
	 struct buf *why)
{
	long long *num = (long long *)FIELD(obj, s->off);
	char ***strs;
	size_t *n;

	switch (s->type) {
	case ATTR_SCAN_STR:
		if (!str_ok(s, a))
			return refuse(why, "bad", a->name);
		*(char **)FIELD(obj, s->off) = xstrdup(a->value);
		return 0;
	case ATTR_SCAN_INT:
		if (attr_scan_int(a->value, a->len, s->min, s->max, num) < 0)
			return refuse(why, "bad or out-of-range", a->name);
		return 0;
	case ATTR_SCAN_MSEC:
		if (scan_msec(a->value, a->len, s->min, s->max, num) < 0)
			return refuse(why, "bad or out-of-range", a->name);
		return 0;
	case ATTR_SCAN_STRS:
		strs = (char ***)FIELD(obj, s->off);
		n = (size_t *)FIELD(obj, s->count_off);
		if (*n == s->count_max)
			return refuse(why, "too many", a->name);
		if (!str_ok(s, a))
			return refuse(why, "bad", a->name);
		*strs = xreallocarray(*strs, *n + 1, sizeof(char *));
		(*strs)[(*n)++] = xstrdup(a->value);
		return 0;
	case ATTR_SCAN_GROUP:
		break;
	}
	return refuse(why, "unexpected", a->name);
}

/* Required singles present, repeated ones often enough. */
static int
level_complete(const struct attr_scan_spec *spec, const size_t *seen,
	       const void *obj, struct buf *why)
{
	for (size_t i = 0; spec[i].name != NULL; i++) {
		const struct attr_scan_spec *s = &spec[i];

		if (s->type == ATTR_SCAN_STRS || s->type == ATTR_SCAN_GROUP) {
			if (*(const size_t *)((const char *)obj +
					      s->count_off) < s->count_min)
				return refuse(why, "too few", s->name);
		} else if ((s->flags & ATTR_SCAN_REQUIRED) && seen[i] == 0) {
			return refuse(why, "missing", s->name);
		}
	}
	return 0;
}

/*
 * One level: the message (group 0) or one group (group 1: *pos is at its
 * first member, and it ends at a name it does not have or at its first
 * member again).
 */
static int
scan_level(const struct attr_list *list, size_t *pos,
	   const struct attr_scan_spec *spec, void *obj, int group, int depth,
	   struct buf *why)
{
	size_t seen[ATTR_SCAN_ROWS_MAX] = {0}, row, last = SIZE_MAX;
	const struct attr_scan_spec *s;
	const struct attr *a;

	if (depth > ATTR_SCAN_DEPTH_MAX)
		return refuse(why, "too deeply nested", spec[0].name);
	while (*pos < list->count) {
		a = &list->items[*pos];
		s = find_row(spec, a->name, &row);
		if (s == NULL && group)
			break;
		if (s == NULL)
			return refuse(why, "unknown", a->name);
		if (row >= ATTR_SCAN_ROWS_MAX)
			return refuse(why, "unexpected", a->name);
		if (group && row == 0 && seen[0] > 0)
			break; /* the next group */
		if (s->type == ATTR_SCAN_GROUP) {
			if (seen[row] > 0)
				return refuse(why, "interrupted group of",
					      a->name);
			if (scan_group(list, pos, s, obj, depth, why) < 0)
				return -1;
			seen[row]++;
			last = row;
			continue;
		}
		if (s->type != ATTR_SCAN_STRS && seen[row] > 0)
			return refuse(why, "repeated", a->name);
		if (s->type == ATTR_SCAN_STRS && seen[row] > 0 && last != row)
			return refuse(why, "interrupted run of", a->name);
		if (scan_one(s, a, obj, why) < 0)
			return -1;
		seen[row]++;
		last = row;
		(*pos)++;
	}
	return level_complete(spec, seen, obj, why);
}

int
attr_scan(const struct attr_list *list, const struct attr_scan_spec *spec,
	  void *obj, struct buf *why)
{
	size_t pos = 0;

	return scan_level(list, &pos, spec, obj, 0, 0, why);
}

static void
print_msec(struct attr_list *list, const char *name, long long ms)
{
	char tmp[32];

	snprintf(tmp, sizeof(tmp), "%lld.%03lld", ms / 1000, ms % 1000);
	attr_add_str(list, name, tmp);
}

void
attr_print(struct attr_list *list, const struct attr_scan_spec *spec,
	   const void *obj)
{
	for (size_t i = 0; spec[i].name != NULL; i++) {
		const struct attr_scan_spec *s = &spec[i];
		const char *f = (const char *)obj + s->off;
		size_t n =
		    s->type == ATTR_SCAN_STRS || s->type == ATTR_SCAN_GROUP
			? *(const size_t *)((const char *)obj + s->count_off)
			: 0;

		switch (s->type) {
		case ATTR_SCAN_STR:
			if (*(char *const *)f != NULL)
				attr_add_str(list, s->name, *(char *const *)f);
			break;
		case ATTR_SCAN_INT:
			attr_add_int(list, s->name, *(const long long *)f);
			break;
		case ATTR_SCAN_MSEC:
			print_msec(list, s->name, *(const long long *)f);
			break;
		case ATTR_SCAN_STRS:
			for (size_t k = 0; k < n; k++)
				attr_add_str(list, s->name,
					     (*(char **const *)f)[k]);
			break;
		case ATTR_SCAN_GROUP:
			for (size_t k = 0; k < n; k++)
				attr_print(list, s->members,
					   *(char *const *)f +
					       k * s->elem_size);
			break;
		}
	}
}

void
attr_scan_free(const struct attr_scan_spec *spec, void *obj)
{
	for (size_t i = 0; spec[i].name != NULL; i++) {
		const struct attr_scan_spec *s = &spec[i];
		char *f = FIELD(obj, s->off);
		size_t *n = (size_t *)FIELD(obj, s->count_off);

		switch (s->type) {
		case ATTR_SCAN_STR:
			xfree(*(char **)f);
			*(char **)f = NULL;
			break;
		case ATTR_SCAN_INT:
		case ATTR_SCAN_MSEC:
			break;
		case ATTR_SCAN_STRS:
			for (size_t k = 0; k < *n; k++)
				xfree((*(char ***)f)[k]);
			xfree(*(char ***)f);
			*(char ***)f = NULL;
			*n = 0;
			break;
		case ATTR_SCAN_GROUP:
			for (size_t k = 0; k < *n; k++)
				attr_scan_free(s->members,
					       *(char **)f + k * s->elem_size);
			xfree(*(char **)f);
			*(char **)f = NULL;
			*n = 0;
			break;
		}
	}
}
