/*
 * services - the master.cf-like service table; see services.h.
 *
 * Lines are read as in panacea.conf: '#' comment lines and blank lines are
 * skipped, a line starting with white space continues the previous one.
 * Each logical line is split into columns on white space and every column
 * is checked; the first error is reported as "file:line: message" and the
 * table is left empty, so master never runs half of a broken table.
 *
 * Bounds: a file over SERVICES_FILE_MAX bytes is refused; wakeup and
 * maxproc have upper limits; names are short.  An inet name is checked for
 * shape only ("port", "host:port", "*:port", "[ipv6]:port", the port a
 * number 1..65535 or a service name as in /etc/services); resolving it is
 * sock.c's job when master opens the listener.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "iostuff.h"
#include "services.h"
#include "strutil.h"
#include "xalloc.h"

#define SERVICES_FILE_MAX (1024 * 1024)
#define SERVICES_COLUMNS 8
#define SERVICE_WAKEUP_MAX (366 * 86400)
#define SERVICE_MAXPROC_MAX 100000
#define SERVICE_NAME_MAX 100
#define SERVICE_PORT_NAME_MAX 32
#define BLANKS " \t\r\f\v"

static int is_blank(int c);

/* Where an error is reported. */
struct where {
	const char *path;
	int lineno;
	struct buf *err;
};

static int where_error(const struct where *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
where_error(const struct where *w, const char *fmt, ...)
{
	va_list ap;

	buf_reset(w->err);
	buf_printf(w->err, "%s:%d: ", w->path, w->lineno);
	va_start(ap, fmt);
	buf_vprintf(w->err, fmt, ap);
	va_end(ap);
	return -1;
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* All of s is made of digits and the bytes of extra (and s non-empty). */
static int
all_of(const char *s, size_t len, const char *extra)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!is_digit((unsigned char)s[i]) &&
		    !is_alpha((unsigned char)s[i]) &&
		    strchr(extra, s[i]) == NULL)
			return 0;
	return 1;
}

/* A non-negative decimal number no larger than max; -1 otherwise. */
static long
parse_number(const char *s, size_t len, long max)
{
	long v = 0;
	size_t i;

	if (len == 0 || len > 9)
		return -1;
	for (i = 0; i < len; i++) {
		if (!is_digit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

static int
valid_port(const char *s)
{
	size_t len = strlen(s);
	size_t i;

	if (len > 0 && is_digit((unsigned char)s[0]))
		return parse_number(s, len, 65535) > 0;
	if (len == 0 || len > SERVICE_PORT_NAME_MAX ||
	    !is_alpha((unsigned char)s[0]))
		return 0;
	for (i = 0; i < len; i++)
		if (!is_alpha((unsigned char)s[i]) &&
		    !is_digit((unsigned char)s[i]) && s[i] != '-')
			return 0;
	return 1;
}

/* The shape of an IPv6 address: hex digits, ':' (at least one) and '.'. */
static int
valid_ipv6(const char *s, size_t len)
{
	size_t i;
	int colons = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == ':')
			colons++;
		else if (!is_digit((unsigned char)s[i]) && s[i] != '.' &&
			 strchr("abcdefABCDEF", s[i]) == NULL)
			return 0;
	}
	return len > 0 && colons > 0;
}

static int
valid_inet_name(const char *name)
{
	const char *colon;
	const char *close;

	if (name[0] == '[') {
		close = strchr(name, ']');
		if (close == NULL || close[1] != ':')
			return 0;
		if (!valid_ipv6(name + 1, (size_t)(close - name - 1)))
			return 0;
		return valid_port(close + 2);
	}
	colon = strrchr(name, ':');
	if (colon == NULL)
		return valid_port(name);
	if (strchr(name, ':') != colon)
		return 0;
	if (!(colon - name == 1 && name[0] == '*') &&
	    !all_of(name, (size_t)(colon - name), ".-_"))
		return 0;
	return valid_port(colon + 1);
}

static int
valid_unix_name(const char *name)
{
	return all_of(name, strlen(name), "._-") && name[0] != '.';
}

static int
parse_name(const struct where *w, const char *name, enum service_type type)
{
	if (strlen(name) > SERVICE_NAME_MAX)
		return where_error(w, "service name too long: \"%s\"", name);
	if (type == SERVICE_INET && !valid_inet_name(name))
		return where_error(w, "bad inet service name \"%s\"", name);
	if (type != SERVICE_INET && !valid_unix_name(name))
		return where_error(w, "bad %s service name \"%s\"",
				   service_type_name(type), name);
	return 0;
}

/* Postfix's other service types, and why no Panacea daemon takes them. */
static const struct {
	const char *type;
	const char *why;
} unsupported_types[] = {
    {"unix-dgram", "no Panacea daemon reads datagrams (Postfix's "
		   "postlog service)"},
    {"fifo", "no Panacea daemon is woken through a FIFO (Panacea's "
	     "pickup and qmgr listen on unix sockets)"},
};

static int
parse_type(const struct where *w, const char *s, enum service_type *type)
{
	size_t i;

	if (strcmp(s, "inet") == 0) {
		*type = SERVICE_INET;
		return 0;
	}
	if (strcmp(s, "unix") == 0) {
		*type = SERVICE_UNIX;
		return 0;
	}
	if (strcmp(s, "pass") == 0) {
		*type = SERVICE_PASS;
		return 0;
	}
	for (i = 0;
	     i < sizeof(unsupported_types) / sizeof(unsupported_types[0]); i++)
		if (strcmp(s, unsupported_types[i].type) == 0)
			return where_error(
			    w,
			    "service type \"%s\" is not "
			    "supported: %s; use inet, unix or pass",
			    s, unsupported_types[i].why);
	return where_error(
	    w, "bad service type \"%s\" (expected inet, unix or pass)", s);
}

/* y, n or '-' (the default, y); column names the column. */
static int
parse_flag(const struct where *w, const char *s, const char *column, int *flag)
{
	if (strcmp(s, "y") == 0 || strcmp(s, "-") == 0)
		*flag = 1;
	else if (strcmp(s, "n") == 0)
		*flag = 0;
	else
		return where_error(
		    w, "bad %s field \"%s\" (expected y, n or -)", column, s);
	return 0;
}

static int
parse_wakeup(const struct where *w, const char *s, struct service_def *def)
{
	size_t len = strlen(s);
	long v;

	def->wakeup = 0;
	def->wakeup_if_used = 0;
	if (strcmp(s, "-") == 0 || strcmp(s, "0") == 0)
		return 0;
	if (len > 1 && s[len - 1] == '?') {
		def->wakeup_if_used = 1;
		len--;
	}
	v = parse_number(s, len, SERVICE_WAKEUP_MAX);
	if (v <= 0)
		return where_error(w, "bad wakeup time \"%s\"", s);
	if (def->type != SERVICE_UNIX)
		return where_error(w, "wakeup time \"%s\" for %s %s service", s,
				   def->type == SERVICE_INET ? "an" : "a",
				   service_type_name(def->type));
	def->wakeup = (int)v;
	return 0;
}

static int
parse_maxproc(const struct where *w, const char *s, int default_maxproc,
	      int *maxproc)
{
	long v;

	if (strcmp(s, "-") == 0) {
		*maxproc = default_maxproc;
		return 0;
	}
	v = parse_number(s, strlen(s), SERVICE_MAXPROC_MAX);
	if (v < 0)
		return where_error(w, "bad process limit \"%s\"", s);
	*maxproc = (int)v;
	return 0;
}

static int
parse_command(const struct where *w, const char *s)
{
	if (s[0] != '/' && strchr(s, '/') != NULL)
		return where_error(
		    w, "bad command \"%s\" (a name or an absolute path)", s);
	return 0;
}

static void
def_free(struct service_def *def)
{
	int i;

	xfree(def->name);
	for (i = 0; def->argv != NULL && i < def->argc; i++)
		xfree(def->argv[i]);
	xfree(def->argv);
	xfree(def->text);
	memset(def, 0, sizeof(*def));
}

/* Columns joined by single spaces: what change detection compares. */
static char *
join_columns(char **cols)
{
	struct buf b = BUF_INIT;
	int i;

	for (i = 0; cols[i] != NULL; i++) {
		if (i > 0)
			buf_putc(&b, ' ');
		buf_puts(&b, cols[i]);
	}
	return buf_steal(&b);
}

static int
parse_columns(const struct where *w, char **cols, int n, int default_maxproc,
	      struct service_def *def)
{
	int i;

	if (n < SERVICES_COLUMNS)
		return where_error(w, "missing command");
	if (parse_type(w, cols[1], &def->type) < 0 ||
	    parse_name(w, cols[0], def->type) < 0 ||
	    parse_flag(w, cols[2], "private", &def->is_private) < 0 ||
	    parse_flag(w, cols[3], "unpriv", &def->unpriv) < 0 ||
	    parse_flag(w, cols[4], "chroot", &def->chroot) < 0 ||
	    parse_wakeup(w, cols[5], def) < 0 ||
	    parse_maxproc(w, cols[6], default_maxproc, &def->maxproc) < 0 ||
	    parse_command(w, cols[7]) < 0)
		return -1;
	def->name = xstrdup(cols[0]);
	def->argc = n - (SERVICES_COLUMNS - 1);
	def->argv = xreallocarray(NULL, (size_t)def->argc + 1, sizeof(char *));
	for (i = 0; i < def->argc; i++)
		def->argv[i] = xstrdup(cols[SERVICES_COLUMNS - 1 + i]);
	def->argv[def->argc] = NULL;
	def->lineno = w->lineno;
	def->text = join_columns(cols);
	return 0;
}

/*
 * Splits a logical line into its columns.  From the command's arguments
 * on, "{ text }" is one argument, the text without the braces and the
 * blanks next to them (Postfix's master.cf grouping: "-o { name = value
 * with spaces }"); braces nest.  NULL with an error for an unclosed '{'
 * or a '}' followed by more than blanks.
 */
static char **
split_columns(const struct where *w, const char *line, int *n)
{
	char **cols = xreallocarray(NULL, 1, sizeof(char *));
	const char *p = line;
	const char *start;
	char *text;
	int depth;

	*n = 0;
	for (;;) {
		while (is_blank((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		if (*p == '{' && *n >= SERVICES_COLUMNS) {
			for (start = ++p, depth = 1; *p != '\0'; p++) {
				if (*p == '{')
					depth++;
				else if (*p == '}' && --depth == 0)
					break;
			}
			if (*p == '\0') {
				where_error(w, "missing '}' after \"{%s\"",
					    start);
				goto bad;
			}
			if (p[1] != '\0' && !is_blank((unsigned char)p[1])) {
				where_error(w, "text after '}' in \"{%.*s\"",
					    (int)(p - start + 1), start);
				goto bad;
			}
			text = xstrndup(start, (size_t)(p - start));
			cols[*n] = xstrdup(str_trim(text));
			xfree(text);
			p++;
		} else {
			for (start = p;
			     *p != '\0' && !is_blank((unsigned char)*p); p++)
				;
			cols[*n] = xstrndup(start, (size_t)(p - start));
		}
		cols = xreallocarray(cols, (size_t)++ * n + 1, sizeof(char *));
	}
	cols[*n] = NULL;
	return cols;
bad:
	cols[*n] = NULL;
	str_list_free(cols);
	return NULL;
}

/* Parses one logical line and appends it to table. */
static int
parse_line(const struct where *w, const char *line, int default_maxproc,
	   struct service_table *table)
{
	struct service_def def;
	const struct service_def *old;
	int n;
	char **cols = split_columns(w, line, &n);
	int rc;

	if (cols == NULL)
		return -1;
	memset(&def, 0, sizeof(def));
	rc = parse_columns(w, cols, n, default_maxproc, &def);
	str_list_free(cols);
	if (rc < 0)
		return -1;
	old = services_find(table, def.name, def.type);
	/* A unix and a pass service of one name would bind one socket. */
	if (old == NULL && def.type != SERVICE_INET)
		old = services_find(table, def.name,
				    def.type == SERVICE_UNIX ? SERVICE_PASS
							     : SERVICE_UNIX);
	if (old != NULL && old->type != def.type &&
	    old->is_private != def.is_private)
		old = NULL;
	if (old != NULL && old->type != def.type) {
		where_error(w,
			    "%s service \"%s\" would use the socket of the %s "
			    "service defined at line %d",
			    service_type_name(def.type), def.name,
			    service_type_name(old->type), old->lineno);
		def_free(&def);
		return -1;
	}
	if (old != NULL) {
		where_error(w,
			    "duplicate service \"%s\" of type %s (first "
			    "defined at line %d)",
			    def.name, service_type_name(def.type), old->lineno);
		def_free(&def);
		return -1;
	}
	table->items = xreallocarray(table->items, table->count + 1,
				     sizeof(*table->items));
	table->items[table->count++] = def;
	return 0;
}

static int
is_blank(int c)
{
	return c != '\0' && strchr(BLANKS, c) != NULL;
}

int
services_parse(const char *path, const char *text, int default_maxproc,
	       struct service_table *table, struct buf *err)
{
	struct buf logical = BUF_INIT;
	struct where w = {path, 0, err};
	const char *p;
	const char *s;
	size_t len;
	int start = 0;
	int rc = 0;

	table->items = NULL;
	table->count = 0;
	buf_reset(err);
	if (strlen(text) > SERVICES_FILE_MAX) {
		buf_printf(err, "%s: file larger than %d bytes", path,
			   SERVICES_FILE_MAX);
		return -1;
	}
	for (p = text; *p != '\0' && rc == 0; p += len + (p[len] == '\n')) {
		len = strcspn(p, "\n");
		w.lineno++;
		for (s = p; s < p + len && is_blank((unsigned char)*s); s++)
			;
		if (s == p + len || *s == '#')
			continue;
		if (s > p) {
			if (start == 0) {
				rc = where_error(
				    &w, "continuation line before any service");
				break;
			}
			buf_putc(&logical, ' ');
			buf_append(&logical, s, (size_t)(p + len - s));
			continue;
		}
		if (start != 0) {
			struct where at = {path, start, err};

			rc = parse_line(&at, logical.data, default_maxproc,
					table);
		}
		buf_set(&logical, "");
		buf_append(&logical, p, len);
		start = w.lineno;
	}
	if (rc == 0 && start != 0) {
		struct where at = {path, start, err};

		rc = parse_line(&at, logical.data, default_maxproc, table);
	}
	buf_free(&logical);
	if (rc < 0)
		services_free(table);
	return rc;
}

int
services_read(const char *path, int default_maxproc, int missing_ok,
	      struct service_table *table, struct buf *err)
{
	struct buf text = BUF_INIT;
	int rc;

	table->items = NULL;
	table->count = 0;
	buf_reset(err);
	if (io_read_text_file(path, &text, SERVICES_FILE_MAX, err) < 0) {
		rc = errno == ENOENT && missing_ok ? 0 : -1;
		if (rc == 0)
			buf_reset(err);
	} else {
		rc = services_parse(path, buf_cstr(&text), default_maxproc,
				    table, err);
	}
	buf_free(&text);
	return rc;
}

void
services_free(struct service_table *table)
{
	size_t i;

	for (i = 0; i < table->count; i++)
		def_free(&table->items[i]);
	xfree(table->items);
	table->items = NULL;
	table->count = 0;
}

const struct service_def *
services_find(const struct service_table *table, const char *name,
	      enum service_type type)
{
	size_t i;

	for (i = 0; i < table->count; i++)
		if (table->items[i].type == type &&
		    strcmp(table->items[i].name, name) == 0)
			return &table->items[i];
	return NULL;
}

int
service_same(const struct service_def *a, const struct service_def *b)
{
	int i;

	if (strcmp(a->name, b->name) != 0 || a->type != b->type ||
	    a->is_private != b->is_private || a->unpriv != b->unpriv ||
	    a->chroot != b->chroot || a->wakeup != b->wakeup ||
	    a->wakeup_if_used != b->wakeup_if_used ||
	    a->maxproc != b->maxproc || a->argc != b->argc)
		return 0;
	for (i = 0; i < a->argc; i++)
		if (strcmp(a->argv[i], b->argv[i]) != 0)
			return 0;
	return 1;
}

const char *
service_type_name(enum service_type type)
{
	switch (type) {
	case SERVICE_INET:
		return "inet";
	case SERVICE_PASS:
		return "pass";
	default:
		return "unix";
	}
}
