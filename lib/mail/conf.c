/*
 * conf - panacea.conf: parameters, defaults, expansion and typed access;
 * see conf.h for the file format and the lifecycle.
 *
 * The configuration is one store: an array of entries sorted by name, one
 * per known parameter (from conf_params[]) plus one per unknown name that
 * the file or an override set.  An entry keeps its raw value, where that
 * value came from ("file:line", "-o name=value" or the default) and, once
 * asked for, its expanded value, which stays valid until the store
 * changes.  conf_read() builds a new store and swaps it in only when the
 * whole file parsed, so a reload with a broken file keeps the old values.
 *
 * Bounds: a file larger than CONF_FILE_MAX is refused, an expanded value
 * longer than CONF_EXPAND_MAX is an error (a chain of "$a$a$a..." cannot
 * blow up memory), and expansion depth is bounded by loop detection and
 * CONF_DEPTH_MAX.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "iostuff.h"
#include "msg.h"
#include "services.h"
#include "strutil.h"
#include "xalloc.h"

#define CONF_DEFAULT_DIR "/etc/panacea"
#define CONF_FILE_NAME "panacea.conf"
#define CONF_FILE_MAX (1024 * 1024)
#define CONF_EXPAND_MAX (64 * 1024)
#define CONF_DEPTH_MAX 100
#define CONF_ORIGIN_DEFAULT "default"

struct conf_entry {
	char *name;
	char *raw; /* NULL: an unknown name nobody set */
	char *origin;
	const struct conf_param *param; /* NULL for unknown names */
	int set;			/* from the file or an override */
	unsigned long seq;		/* order of the last definition */
	char *expanded;			/* cache, NULL until asked for */
	int busy;			/* being expanded (loop detection) */
};

struct conf_store {
	struct conf_entry *items;
	size_t count;
	size_t cap;
	unsigned long seq;
};

/* What an expansion reports its errors against. */
struct expand_ctx {
	struct conf_entry *top; /* the entry whose value is asked for */
	char *top_ref;		/* the reference of top's value being done */
	int depth;
	struct buf *err;
};

static struct conf_store conf;
static int conf_ready;
static char *conf_dir; /* conf_load()'s directory: config_directory */

static int expand_entry(struct expand_ctx *ctx, struct conf_entry *e,
			const char **out);

/*
 * The store.
 */

static int
is_name_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

/* A '-' may be part of a name (Postfix's "policyd-spf_time_limit"), not
 * its first character; a bare "$name" reference stops at a '-' ("$a-b" is
 * $a then "-b"), "${name}" takes it. */
static int
is_long_name_char(int c)
{
	return is_name_char(c) || c == '-';
}

static int
valid_name(const char *s)
{
	if (*s == '\0' || *s == '-')
		return 0;
	for (; *s != '\0'; s++)
		if (!is_long_name_char((unsigned char)*s))
			return 0;
	return 1;
}

/* Index of name, or of where it would be inserted (*found = 0). */
static size_t
store_index(const struct conf_store *st, const char *name, int *found)
{
	size_t lo = 0;
	size_t hi = st->count;
	size_t mid;
	int cmp;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		cmp = strcmp(name, st->items[mid].name);
		if (cmp == 0) {
			*found = 1;
			return mid;
		}
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*found = 0;
	return lo;
}

static struct conf_entry *
store_find(const struct conf_store *st, const char *name)
{
	int found;
	size_t i = store_index(st, name, &found);

	return found ? &st->items[i] : NULL;
}

static struct conf_entry *
store_get(struct conf_store *st, const char *name)
{
	int found;
	size_t i = store_index(st, name, &found);
	struct conf_entry *e;

	if (found)
		return &st->items[i];
	if (st->count == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 128;
		st->items = xreallocarray(st->items, st->cap, sizeof(*e));
	}
	memmove(&st->items[i + 1], &st->items[i], (st->count - i) * sizeof(*e));
	st->count++;
	e = &st->items[i];
	memset(e, 0, sizeof(*e));
	e->name = xstrdup(name);
	e->param = conf_param_find(name);
	return e;
}

static void
store_invalidate(struct conf_store *st)
{
	size_t i;

	for (i = 0; i < st->count; i++) {
		xfree(st->items[i].expanded);
		st->items[i].expanded = NULL;
		st->items[i].busy = 0;
	}
}

static void
store_free(struct conf_store *st)
{
	size_t i;

	for (i = 0; i < st->count; i++) {
		xfree(st->items[i].name);
		xfree(st->items[i].raw);
		xfree(st->items[i].origin);
		xfree(st->items[i].expanded);
	}
	xfree(st->items);
	memset(st, 0, sizeof(*st));
}

static void
entry_set(struct conf_store *st, const char *name, const char *value,
	  const char *origin)
{
	struct conf_entry *e = store_get(st, name);

	xfree(e->raw);
	xfree(e->origin);
	e->raw = xstrdup(value);
	e->origin = xstrdup(origin);
	e->set = 1;
	e->seq = ++st->seq;
}

/* gethostname(), made fully qualified the way Postfix does. */
static char *
default_hostname(void)
{
	char host[256];
	struct buf b = BUF_INIT;

	if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	buf_puts(&b, host);
	if (strchr(host, '.') == NULL)
		buf_puts(&b, ".localdomain");
	return buf_steal(&b);
}

/* A store holding every known parameter with its default. */
static void
store_init(struct conf_store *st)
{
	const struct conf_param *p;
	struct conf_entry *e;

	memset(st, 0, sizeof(*st));
	for (p = conf_params; p->name != NULL; p++) {
		e = store_get(st, p->name);
		if (strcmp(p->name, "myhostname") == 0)
			e->raw = default_hostname();
		else if (strcmp(p->name, "config_directory") == 0 && conf_dir)
			e->raw = xstrdup(conf_dir);
		else
			e->raw = xstrdup(p->def);
		e->origin = xstrdup(CONF_ORIGIN_DEFAULT);
	}
}

static void
conf_init(void)
{
	if (!conf_ready) {
		store_init(&conf);
		conf_ready = 1;
	}
}

/*
 * Expansion.
 */

static void
expand_error(struct expand_ctx *ctx, const struct conf_entry *where,
	     const char *what, const char *text)
{
	buf_reset(ctx->err);
	buf_printf(ctx->err, "%s: parameter \"%s\": %s \"%s\"", where->origin,
		   where->name, what, text);
}

/* mydomain's default: myhostname without its first label. */
static int
default_domain(struct expand_ctx *ctx, struct buf *out)
{
	struct conf_entry *host = store_find(&conf, "myhostname");
	const char *value;
	const char *dot;

	if (ctx->depth == 1 && ctx->top_ref == NULL)
		ctx->top_ref = xstrdup("$myhostname");
	if (expand_entry(ctx, host, &value) < 0)
		return -1;
	dot = strchr(value, '.');
	buf_puts(out, dot && dot[1] ? dot + 1 : "localdomain");
	return 0;
}

/* The value of the parameter named by a reference; "" when undefined. */
static int
expand_name(struct expand_ctx *ctx, const char *name, const char **value)
{
	struct conf_entry *e = store_find(&conf, name);

	if (e == NULL || e->raw == NULL) {
		*value = "";
		return 0;
	}
	return expand_entry(ctx, e, value);
}

/*
 * Parses the reference at text (which starts with '$') into its name, its
 * operator ('\0', '?' or ':') and its conditional text; returns its length
 * or 0 for bad syntax, (size_t)-1 for a missing '}'.
 */
static size_t
parse_ref(const char *text, char **name, int *op, char **cond)
{
	const char *p = text + 1;
	const char *start;
	int depth;

	*op = '\0';
	*cond = NULL;
	if (*p != '{') {
		for (start = p; is_name_char((unsigned char)*p); p++)
			;
		if (p == start)
			return 0;
		*name = xstrndup(start, (size_t)(p - start));
		return (size_t)(p - text);
	}
	for (start = ++p; is_long_name_char((unsigned char)*p); p++)
		;
	if (p == start || *start == '-')
		return *p == '\0' ? (size_t)-1 : 0;
	if (*p == '\0')
		return (size_t)-1;
	if (*p != '}' && *p != '?' && *p != ':')
		return 0;
	*name = xstrndup(start, (size_t)(p - start));
	if (*p == '}')
		return (size_t)(p + 1 - text);
	*op = *p++;
	for (start = p, depth = 1; *p != '\0'; p++) {
		if (*p == '{')
			depth++;
		else if (*p == '}' && --depth == 0)
			break;
	}
	if (*p == '\0') {
		xfree(*name);
		return (size_t)-1;
	}
	*cond = xstrndup(start, (size_t)(p - start));
	return (size_t)(p + 1 - text);
}

static int expand_text(struct expand_ctx *ctx, struct conf_entry *owner,
		       const char *text, struct buf *out);

/* Appends the expansion of one parsed reference. */
static int
expand_ref(struct expand_ctx *ctx, struct conf_entry *owner, const char *name,
	   int op, const char *cond, struct buf *out)
{
	const char *value;

	if (expand_name(ctx, name, &value) < 0)
		return -1;
	if (op == '\0')
		buf_puts(out, value);
	else if ((op == '?') == (*value != '\0'))
		return expand_text(ctx, owner, cond, out);
	return 0;
}

static int
check_length(struct expand_ctx *ctx, const struct buf *out)
{
	if (out->len <= CONF_EXPAND_MAX)
		return 0;
	buf_reset(ctx->err);
	buf_printf(ctx->err,
		   "%s: parameter \"%s\": value longer than %d bytes after "
		   "expansion",
		   ctx->top->origin, ctx->top->name, CONF_EXPAND_MAX);
	return -1;
}

/* Appends the expansion of text, a piece of owner's raw value. */
static int
expand_text(struct expand_ctx *ctx, struct conf_entry *owner, const char *text,
	    struct buf *out)
{
	const char *p = text;
	char *name;
	char *cond;
	size_t len;
	int op;
	int rc;

	while (*p != '\0') {
		len = strcspn(p, "$");
		buf_append(out, p, len);
		p += len;
		if (*p == '\0')
			break;
		if (p[1] == '$') {
			buf_putc(out, '$');
			p += 2;
			continue;
		}
		len = parse_ref(p, &name, &op, &cond);
		if (len == 0 || len == (size_t)-1) {
			expand_error(ctx, owner,
				     len ? "missing '}' in"
					 : "bad '$' expansion syntax in",
				     owner->raw);
			return -1;
		}
		if (ctx->depth == 1) {
			xfree(ctx->top_ref);
			ctx->top_ref = xstrndup(p, len);
		}
		rc = expand_ref(ctx, owner, name, op, cond, out);
		xfree(name);
		xfree(cond);
		if (rc < 0 || check_length(ctx, out) < 0)
			return -1;
		p += len;
	}
	return check_length(ctx, out);
}

/* The expanded value of e, computed once and cached in the entry. */
static int
expand_entry(struct expand_ctx *ctx, struct conf_entry *e, const char **out)
{
	struct buf b = BUF_INIT;
	int rc;

	if (e->expanded != NULL) {
		*out = e->expanded;
		return 0;
	}
	if (e->busy || ctx->depth >= CONF_DEPTH_MAX) {
		buf_reset(ctx->err);
		buf_printf(ctx->err,
			   "%s: parameter \"%s\": recursive expansion of "
			   "\"%s\"",
			   ctx->top->origin, ctx->top->name,
			   ctx->top_ref ? ctx->top_ref : e->name);
		return -1;
	}
	e->busy = 1;
	ctx->depth++;
	if (!e->set && e->param && strcmp(e->name, "mydomain") == 0)
		rc = default_domain(ctx, &b);
	else
		rc = expand_text(ctx, e, e->raw, &b);
	ctx->depth--;
	e->busy = 0;
	if (rc < 0) {
		buf_free(&b);
		return -1;
	}
	e->expanded = buf_steal(&b);
	*out = e->expanded;
	return 0;
}

/* Expands e, reporting errors in err (a scratch buffer when NULL). */
static int
entry_value(struct conf_entry *e, const char **out, struct buf *err)
{
	struct buf scratch = BUF_INIT;
	struct expand_ctx ctx = {e, NULL, 0, err ? err : &scratch};
	int rc;

	rc = expand_entry(&ctx, e, out);
	xfree(ctx.top_ref);
	buf_free(&scratch);
	return rc;
}

/*
 * Typed values.
 */

/* Digits only, overflow-checked; returns the end or NULL. */
static const char *
parse_digits(const char *s, long long *out)
{
	long long v = 0;
	int d;

	if (*s < '0' || *s > '9')
		return NULL;
	for (; *s >= '0' && *s <= '9'; s++) {
		d = *s - '0';
		if (v > (LLONG_MAX - d) / 10)
			return NULL;
		v = v * 10 + d;
	}
	*out = v;
	return s;
}

int
conf_parse_int(const char *s, long long *out)
{
	int neg = (*s == '-');
	long long v;
	const char *end = parse_digits(s + neg, &v);

	if (end == NULL || *end != '\0')
		return -1;
	*out = neg ? -v : v;
	return 0;
}

int
conf_parse_bool(const char *s, int *out)
{
	if (str_casecmp(s, "yes") == 0 || str_casecmp(s, "true") == 0)
		*out = 1;
	else if (str_casecmp(s, "no") == 0 || str_casecmp(s, "false") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

/* Multiplies with an overflow check. */
static int
scale(long long v, long long factor, long long *out)
{
	if (v > LLONG_MAX / factor)
		return -1;
	*out = v * factor;
	return 0;
}

static long long
time_factor(char unit)
{
	switch (unit) {
	case 's':
		return 1;
	case 'm':
		return 60;
	case 'h':
		return 3600;
	case 'd':
		return 86400;
	case 'w':
		return 7 * 86400;
	default:
		return 0;
	}
}

/* What a size's unit letter multiplies by: none ('\0') 1, k 1024, m
 * 1024^2, g 1024^3 (either case); 0 for any other letter. */
static long long
size_factor(char unit)
{
	switch (unit) {
	case '\0':
		return 1;
	case 'k':
	case 'K':
		return 1024;
	case 'm':
	case 'M':
		return 1024 * 1024;
	case 'g':
	case 'G':
		return 1024 * 1024 * 1024;
	default:
		return 0;
	}
}

/* Digits and at most one unit letter, which factor_of (time_factor,
 * size_factor) turns into a multiplier, 0 for a bad letter; no letter
 * is default_unit.  0 with the scaled value in *out, or -1. */
static int
parse_with_unit(const char *s, long long (*factor_of)(char), char default_unit,
		long long *out)
{
	long long v;
	long long factor;
	const char *end = parse_digits(s, &v);

	if (end == NULL)
		return -1;
	if (*end == '\0')
		factor = factor_of(default_unit);
	else if (end[1] == '\0')
		factor = factor_of(*end);
	else
		return -1;
	if (factor == 0)
		return -1;
	return scale(v, factor, out);
}

int
conf_parse_time(const char *s, char default_unit, long long *out)
{
	return parse_with_unit(s, time_factor, default_unit, out);
}

int
conf_parse_size(const char *s, long long *out)
{
	return parse_with_unit(s, size_factor, '\0', out);
}

static const char *
type_word(enum conf_type type)
{
	switch (type) {
	case CONF_INT:
		return "integer";
	case CONF_BOOL:
		return "boolean";
	case CONF_TIME:
		return "time";
	case CONF_SIZE:
		return "size";
	default:
		return "string";
	}
}

/* The few parameters with an upper bound (the table carries minima only):
 * delay_logging_resolution_limit counts decimals of microseconds. */
static const struct {
	const char *name;
	long long max;
} conf_maxima[] = {
    {"delay_logging_resolution_limit", 6},
};

/* Parses e's expanded value by the type and range of parameter p (e's
 * own, or the global one of a per-transport name). */
static int
typed_value_as(struct conf_entry *e, const struct conf_param *p, long long *out,
	       struct buf *err)
{
	const char *value;
	int b = 0;
	int rc;

	if (entry_value(e, &value, err) < 0)
		return -1;
	switch (p->type) {
	case CONF_STR:
		*out = 0;
		return 0;
	case CONF_BOOL:
		rc = conf_parse_bool(value, &b);
		*out = b;
		break;
	case CONF_INT:
		rc = conf_parse_int(value, out);
		break;
	case CONF_TIME:
		rc = conf_parse_time(value, p->time_unit, out);
		break;
	default:
		rc = conf_parse_size(value, out);
		break;
	}
	if (rc < 0) {
		buf_reset(err);
		buf_printf(err, "%s: %s: bad %s value: \"%s\"", e->origin,
			   e->name, type_word(p->type), value);
		return -1;
	}
	if (p->type != CONF_BOOL && *out < p->min) {
		buf_reset(err);
		buf_printf(err,
			   "%s: %s: value \"%s\" is below the minimum %lld",
			   e->origin, e->name, value, p->min);
		return -1;
	}
	for (size_t i = 0; i < sizeof(conf_maxima) / sizeof(conf_maxima[0]);
	     i++) {
		if (strcmp(p->name, conf_maxima[i].name) == 0 &&
		    *out > conf_maxima[i].max) {
			buf_reset(err);
			buf_printf(err,
				   "%s: %s: value \"%s\" is above the "
				   "maximum %lld",
				   e->origin, e->name, value,
				   conf_maxima[i].max);
			return -1;
		}
	}
	return 0;
}

/* Parses a known parameter's expanded value by its type and range. */
static int
typed_value(struct conf_entry *e, long long *out, struct buf *err)
{
	return typed_value_as(e, e->param, out, err);
}

/* The entry of a known parameter of the given type, for an accessor. */
static struct conf_entry *
known_entry(const char *name, int type, const char *caller)
{
	struct conf_entry *e;

	conf_init();
	e = store_find(&conf, name);
	if (e == NULL || e->param == NULL)
		msg_panic("%s: unknown parameter \"%s\"", caller, name);
	if (type >= 0 && e->param->type != (enum conf_type)type)
		msg_panic("%s: parameter \"%s\" is of type %s", caller, name,
			  type_word(e->param->type));
	return e;
}

static long long
typed_get(const char *name, enum conf_type type, const char *caller)
{
	struct conf_entry *e = known_entry(name, (int)type, caller);
	struct buf err = BUF_INIT;
	long long v;

	if (typed_value(e, &v, &err) < 0)
		msg_fatal("%s", buf_cstr(&err));
	buf_free(&err);
	return v;
}

void
conf_bind(const struct conf_bind *table)
{
	const struct conf_bind *b;
	const struct conf_param *p;

	for (b = table; b->name != NULL; b++) {
		p = conf_param_find(b->name);
		if (p == NULL)
			msg_fatal("parameter table: unknown parameter \"%s\"",
				  b->name);
		if (p->type != b->type)
			msg_fatal("parameter table: %s is of type %s, bound as "
				  "%s",
				  b->name, type_word(p->type),
				  type_word(b->type));
	}
	for (b = table; b->name != NULL; b++) {
		if (b->type == CONF_STR)
			*(const char **)b->var = xstrdup(conf_str(b->name));
		else if (b->type == CONF_BOOL)
			*(int *)b->var = conf_bool(b->name);
		else
			*(long long *)b->var =
			    typed_get(b->name, b->type, "conf_bind");
	}
}

void
conf_unbind(const struct conf_bind *table)
{
	const struct conf_bind *b;

	for (b = table; b->name != NULL; b++) {
		if (b->type != CONF_STR)
			continue;
		xfree((void *)*(const char **)b->var);
		*(const char **)b->var = NULL;
	}
}

/*
 * Reading.
 */

/* Stores one logical line "name = value" that started at lineno. */
static int
parse_assignment(struct conf_store *st, const char *path, int lineno,
		 char *line, struct buf *err)
{
	char *eq = strchr(line, '=');
	char *name;
	struct buf origin = BUF_INIT;

	if (eq == NULL) {
		buf_printf(err, "%s:%d: missing '=' after parameter name", path,
			   lineno);
		return -1;
	}
	*eq = '\0';
	name = str_trim(line);
	if (*name == '\0') {
		buf_printf(err, "%s:%d: missing parameter name before '='",
			   path, lineno);
		return -1;
	}
	if (!valid_name(name)) {
		buf_printf(err, "%s:%d: bad parameter name \"%s\"", path,
			   lineno, name);
		return -1;
	}
	buf_printf(&origin, "%s:%d", path, lineno);
	entry_set(st, name, str_trim(eq + 1), buf_cstr(&origin));
	buf_free(&origin);
	return 0;
}

static int
is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Parses text into st; joins continuation lines with one space. */
static int
parse_text(struct conf_store *st, const char *path, const char *text,
	   struct buf *err)
{
	struct buf logical = BUF_INIT;
	const char *p = text;
	const char *s;
	size_t len;
	int lineno = 0;
	int start = 0;
	int rc = 0;

	for (; *p != '\0' && rc == 0; p += len + (p[len] == '\n')) {
		len = strcspn(p, "\n");
		lineno++;
		for (s = p; s < p + len && is_blank((unsigned char)*s); s++)
			;
		if (s == p + len || *s == '#')
			continue;
		if (s > p) {
			if (start == 0) {
				buf_printf(err,
					   "%s:%d: continuation line before "
					   "any parameter",
					   path, lineno);
				rc = -1;
				break;
			}
			buf_putc(&logical, ' ');
			buf_append(&logical, s, (size_t)(p + len - s));
			continue;
		}
		if (start != 0)
			rc = parse_assignment(st, path, start, logical.data,
					      err);
		buf_set(&logical, "");
		buf_append(&logical, p, len);
		start = lineno;
	}
	if (rc == 0 && start != 0)
		rc = parse_assignment(st, path, start, logical.data, err);
	buf_free(&logical);
	return rc;
}

int
conf_read_string(const char *path, const char *text, struct buf *err)
{
	struct conf_store st;
	struct buf scratch = BUF_INIT;

	if (err == NULL)
		err = &scratch;
	buf_reset(err);
	if (strlen(text) > CONF_FILE_MAX) {
		buf_printf(err, "%s: file larger than %d bytes", path,
			   CONF_FILE_MAX);
		buf_free(&scratch);
		return -1;
	}
	store_init(&st);
	if (parse_text(&st, path, text, err) < 0) {
		store_free(&st);
		buf_free(&scratch);
		return -1;
	}
	if (conf_ready)
		store_free(&conf);
	conf = st;
	conf_ready = 1;
	buf_free(&scratch);
	return 0;
}

int
conf_read(const char *path, int missing_ok, struct buf *err)
{
	struct buf text = BUF_INIT;
	struct buf scratch = BUF_INIT;
	int rc;

	if (err == NULL)
		err = &scratch;
	buf_reset(err);
	if (io_read_text_file(path, &text, CONF_FILE_MAX, err) < 0) {
		if (errno == ENOENT && missing_ok) {
			buf_reset(err);
			rc = conf_read_string(path, "", err);
		} else {
			rc = -1;
		}
	} else {
		rc = conf_read_string(path, buf_cstr(&text), err);
	}
	buf_free(&text);
	buf_free(&scratch);
	return rc;
}

int
conf_override(const char *name_eq_value, struct buf *err)
{
	char *copy = xstrdup(name_eq_value);
	char *eq = strchr(copy, '=');
	char *name;
	struct buf origin = BUF_INIT;
	int rc = -1;

	conf_init();
	buf_reset(err);
	if (eq == NULL) {
		buf_printf(err, "-o %s: missing '=' after parameter name",
			   name_eq_value);
		goto out;
	}
	*eq = '\0';
	name = str_trim(copy);
	if (*name == '\0') {
		buf_printf(err, "-o %s: missing parameter name before '='",
			   name_eq_value);
		goto out;
	}
	if (!valid_name(name)) {
		buf_printf(err, "-o %s: bad parameter name \"%s\"",
			   name_eq_value, name);
		goto out;
	}
	buf_printf(&origin, "-o %s", name_eq_value);
	store_invalidate(&conf);
	entry_set(&conf, name, str_trim(eq + 1), buf_cstr(&origin));
	rc = 0;
out:
	buf_free(&origin);
	xfree(copy);
	return rc;
}

/* Check order: what the file and -o set, in that order, then defaults. */
static int
check_order(const void *a, const void *b)
{
	const struct conf_entry *x = *(const struct conf_entry *const *)a;
	const struct conf_entry *y = *(const struct conf_entry *const *)b;

	if (x->set != y->set)
		return x->set ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * Names that are not in the table but are not mistakes either: what the
 * configuration refers to ("$name" in a value of panacea.conf, of an -o
 * or of the services table: Postfix's user-defined macros), and the
 * per-transport names TRANSPORT_SUFFIX (postconf(5)) of the services of
 * the table.
 */
struct used_names {
	char **names; /* referenced by some value */
	size_t count;
	char **policy; /* named by a check_policy_service target */
	size_t npolicy;
	struct service_table services;
	int have_services; /* the table could be read */
};

/* Postfix's per-transport suffixes.  One whose default_SUFFIX is in the
 * table is checked as that parameter is and honoured (qmgr reads it);
 * the others name controls Panacea's qmgr does not have: accepted, no
 * effect (panacea.conf(5) says which). */
static const char *const transport_suffixes[] = {
    "destination_concurrency_limit",
    "destination_recipient_limit",
    "destination_concurrency_failed_cohort_limit",
    "destination_concurrency_negative_feedback",
    "destination_concurrency_positive_feedback",
    "destination_rate_delay",
    "initial_destination_concurrency",
    "extra_recipient_limit",
    "recipient_limit",
    "recipient_refill_limit",
    "recipient_refill_delay",
    "minimum_delivery_slots",
    "delivery_slot_cost",
    "delivery_slot_discount",
    "delivery_slot_loan",
    "time_limit",
    "transport_rate_delay",
    NULL,
};

static int
list_has(char *const *v, size_t n, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(v[i]) == len && memcmp(v[i], name, len) == 0)
			return 1;
	return 0;
}

static void
list_add(char ***v, size_t *n, const char *name, size_t len)
{
	if (list_has(*v, *n, name, len))
		return;
	*v = xreallocarray(*v, *n + 1, sizeof(char *));
	(*v)[(*n)++] = xstrndup(name, len);
}

static void
used_add(struct used_names *u, const char *name, size_t len)
{
	list_add(&u->names, &u->count, name, len);
}

/*
 * Postfix runs a policy server such as policyd-spf as a spawn(8) service
 * of master.cf, named by check_policy_service (unix:private/policyd-spf),
 * and NAME_time_limit is spawn's time limit for it.  Panacea has no
 * spawn: the server runs on its own and its services line goes, but the
 * administrator's policyd-spf_time_limit is no mistake.  Collects the
 * last path component of each check_policy_service target of text.
 */
static void
used_policy(struct used_names *u, const char *text)
{
	static const char kw[] = "check_policy_service";
	const char *p = text;
	const char *w, *e, *s;

	while ((p = strstr(p, kw)) != NULL) {
		p += sizeof(kw) - 1;
		w = p + strspn(p, " \t\r\n,{");
		e = w + strcspn(w, " \t\r\n,}");
		for (s = e; s > w && s[-1] != '/' && s[-1] != ':'; s--)
			;
		if (e > s)
			list_add(&u->policy, &u->npolicy, s, (size_t)(e - s));
		p = e;
	}
}

/* Every "$name" and "${name...}" of text (nested ones included). */
static void
used_scan(struct used_names *u, const char *text)
{
	const char *p = text;
	const char *start;

	while ((p = strchr(p, '$')) != NULL) {
		p++;
		if (*p == '$') {
			p++;
			continue;
		}
		if (*p == '{') {
			for (start = ++p; is_long_name_char((unsigned char)*p);
			     p++)
				;
		} else {
			for (start = p; is_name_char((unsigned char)*p); p++)
				;
		}
		if (p > start)
			used_add(u, start, (size_t)(p - start));
	}
}

/* The words of a smtpd_restriction_classes value: each names a
 * user-defined parameter that holds a restriction list (Postfix's
 * restriction classes), used as surely as a $name. */
static void
used_classes(struct used_names *u, const char *value)
{
	const char *p = value;
	size_t n;

	for (;;) {
		p += strspn(p, ", \t\r\n");
		if ((n = strcspn(p, ", \t\r\n")) == 0)
			return;
		used_add(u, p, n);
		p += n;
	}
}

/* The services table of config_directory, when it can be read. */
static void
used_services(struct used_names *u)
{
	struct conf_entry *dir = store_find(&conf, "config_directory");
	struct buf path = BUF_INIT;
	struct buf err = BUF_INIT;
	const char *value;
	size_t i;
	int j;

	if (dir == NULL || entry_value(dir, &value, &err) < 0)
		goto out;
	buf_printf(&path, "%s/services", value);
	if (services_read(buf_cstr(&path), 1, 0, &u->services, &err) < 0)
		goto out;
	u->have_services = 1;
	for (i = 0; i < u->services.count; i++)
		for (j = 0; j < u->services.items[i].argc; j++) {
			const char *a = u->services.items[i].argv[j];
			used_scan(u, a);
			used_policy(u, a);
			if (strncmp(a, "smtpd_restriction_classes=", 26) == 0)
				used_classes(u, a + 26);
		}
out:
	buf_free(&path);
	buf_free(&err);
}

static void
used_free(struct used_names *u)
{
	size_t i;

	for (i = 0; i < u->count; i++)
		xfree(u->names[i]);
	xfree(u->names);
	for (i = 0; i < u->npolicy; i++)
		xfree(u->policy[i]);
	xfree(u->policy);
	services_free(&u->services);
}

/* The suffix of a per-transport name, or NULL.  Without a services table
 * any transport name is taken: the table is not ours to check here.
 * NAME_time_limit is also taken for a policy server that Postfix would
 * spawn (used_policy). */
static const char *
transport_suffix(const struct used_names *u, const char *name)
{
	size_t n = strlen(name);
	size_t k;
	size_t i;
	int s;

	for (s = 0; transport_suffixes[s] != NULL; s++) {
		k = strlen(transport_suffixes[s]);
		if (n < k + 2 || name[n - k - 1] != '_' ||
		    strcmp(name + n - k, transport_suffixes[s]) != 0)
			continue;
		if (!u->have_services ||
		    (strcmp(transport_suffixes[s], "time_limit") == 0 &&
		     list_has(u->policy, u->npolicy, name, n - k - 1)))
			return transport_suffixes[s];
		for (i = 0; i < u->services.count; i++)
			if (strlen(u->services.items[i].name) == n - k - 1 &&
			    strncmp(u->services.items[i].name, name,
				    n - k - 1) == 0)
				return transport_suffixes[s];
	}
	return NULL;
}

static int
used_has(const struct used_names *u, const char *name)
{
	return list_has(u->names, u->count, name, strlen(name));
}

/* An unknown name that was set and is not used (see struct used_names):
 * a warning. */
static void
warn_unknown(const struct used_names *u, const struct conf_entry *e)
{
	if (e->set && e->param == NULL &&
	    transport_suffix(u, e->name) == NULL && !used_has(u, e->name))
		msg_warn("%s: unknown parameter \"%s\"", e->origin, e->name);
}

/* A known parameter's value, or a per-transport name's whose global
 * default_SUFFIX is in the table, checked by that parameter's type;
 * TRANSPORT_time_limit as command_time_limit, its global default in
 * Postfix. */
static int
check_value(const struct used_names *u, struct conf_entry *e, struct buf *err)
{
	const char *suffix;
	char name[128];
	long long v;

	if (e->param != NULL)
		return typed_value(e, &v, err);
	if (!e->set || (suffix = transport_suffix(u, e->name)) == NULL)
		return 0;
	if (strcmp(suffix, "time_limit") == 0)
		snprintf(name, sizeof(name), "command_time_limit");
	else
		snprintf(name, sizeof(name), "default_%s", suffix);
	return conf_param_find(name) != NULL
		   ? typed_value_as(e, conf_param_find(name), &v, err)
		   : 0;
}

int
conf_check(struct buf *err)
{
	struct conf_entry **order;
	struct used_names used;
	size_t i;
	int rc = 0;
	int unknown = 0;

	conf_init();
	buf_reset(err);
	memset(&used, 0, sizeof(used));
	order = xreallocarray(NULL, conf.count + 1, sizeof(*order));
	for (i = 0; i < conf.count; i++) {
		order[i] = &conf.items[i];
		if (conf.items[i].raw != NULL) {
			used_scan(&used, conf.items[i].raw);
			used_policy(&used, conf.items[i].raw);
		}
		if (conf.items[i].raw != NULL &&
		    strcmp(conf.items[i].name, "smtpd_restriction_classes") ==
			0)
			used_classes(&used, conf.items[i].raw);
		if (conf.items[i].set && conf.items[i].param == NULL)
			unknown = 1;
	}
	if (unknown)
		used_services(&used);
	qsort(order, conf.count, sizeof(*order), check_order);
	for (i = 0; i < conf.count; i++)
		warn_unknown(&used, order[i]);
	for (i = 0; i < conf.count && rc == 0; i++)
		rc = check_value(&used, order[i], err);
	used_free(&used);
	xfree(order);
	return rc;
}

void
conf_reset(void)
{
	if (conf_ready)
		store_free(&conf);
	conf_ready = 0;
	xfree(conf_dir);
	conf_dir = NULL;
}

const char *
conf_choose_dir(const char *opt_dir)
{
	const char *env;

	if (opt_dir != NULL && *opt_dir != '\0')
		return opt_dir;
	env = getenv("MAIL_CONFIG");
	if (env != NULL && *env != '\0')
		return env;
	return CONF_DEFAULT_DIR;
}

void
conf_load(const char *config_dir, char **overrides, int n)
{
	struct buf path = BUF_INIT;
	struct buf err = BUF_INIT;
	int i;

	/* config_directory follows -c / MAIL_CONFIG, so that
	 * "$config_directory" names the directory actually read. */
	xfree(conf_dir);
	conf_dir = xstrdup(config_dir);
	buf_printf(&path, "%s/%s", config_dir, CONF_FILE_NAME);
	if (conf_read(buf_cstr(&path), 1, &err) < 0)
		msg_fatal("%s", buf_cstr(&err));
	for (i = 0; i < n; i++)
		if (conf_override(overrides[i], &err) < 0)
			msg_fatal("%s", buf_cstr(&err));
	if (conf_check(&err) < 0)
		msg_fatal("%s", buf_cstr(&err));
	buf_free(&path);
	buf_free(&err);
}

/*
 * Access.
 */

const char *
conf_str(const char *name)
{
	struct conf_entry *e = known_entry(name, -1, "conf_str");
	struct buf err = BUF_INIT;
	const char *value;

	if (entry_value(e, &value, &err) < 0)
		msg_fatal("%s", buf_cstr(&err));
	buf_free(&err);
	return value;
}

long long
conf_int(const char *name)
{
	return typed_get(name, CONF_INT, "conf_int");
}

int
conf_bool(const char *name)
{
	return (int)typed_get(name, CONF_BOOL, "conf_bool");
}

long long
conf_time(const char *name)
{
	return typed_get(name, CONF_TIME, "conf_time");
}

long long
conf_size(const char *name)
{
	return typed_get(name, CONF_SIZE, "conf_size");
}

const char *
conf_lookup(const char *name)
{
	struct conf_entry *e;
	struct buf err = BUF_INIT;
	const char *value;

	conf_init();
	e = store_find(&conf, name);
	if (e == NULL || e->raw == NULL)
		return NULL;
	if (entry_value(e, &value, &err) < 0)
		msg_fatal("%s", buf_cstr(&err));
	buf_free(&err);
	return value;
}

int
conf_is_set(const char *name)
{
	struct conf_entry *e;

	conf_init();
	e = store_find(&conf, name);
	return e != NULL && e->set;
}

/* mydomain's default is computed, so its raw value is its expansion. */
static const char *
entry_raw(struct conf_entry *e)
{
	const char *value;

	if (!e->set && e->param && strcmp(e->name, "mydomain") == 0) {
		struct buf err = BUF_INIT;

		if (entry_value(e, &value, &err) < 0)
			msg_fatal("%s", buf_cstr(&err));
		buf_free(&err);
		return value;
	}
	return e->raw;
}

const char *
conf_raw(const char *name)
{
	struct conf_entry *e;

	conf_init();
	e = store_find(&conf, name);
	return e != NULL && e->raw != NULL ? entry_raw(e) : NULL;
}

const char *
conf_origin(const char *name)
{
	struct conf_entry *e;

	conf_init();
	e = store_find(&conf, name);
	return e != NULL && e->raw != NULL ? e->origin : NULL;
}

void
conf_walk(int set_only,
	  void (*fn)(const char *name, const char *raw, void *ctx), void *ctx)
{
	size_t i;

	conf_init();
	for (i = 0; i < conf.count; i++) {
		struct conf_entry *e = &conf.items[i];

		if (e->raw == NULL || (set_only && !e->set))
			continue;
		fn(e->name, entry_raw(e), ctx);
	}
}
