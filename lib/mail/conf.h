/*
 * conf - panacea.conf: parameters, defaults, expansion and typed access.
 *
 * File format (DESIGN.md "Configuration"): "name = value" lines; a line
 * whose first non-blank character is '#' is a comment; a line that starts
 * with white space continues the previous one (joined with one space);
 * blank lines are ignored.  Values are expanded on access: "$name" and
 * "${name}" are replaced by that parameter's (expanded) value, "$$" is a
 * literal '$', "${name?text}" gives text when name is non-empty and
 * "${name:text}" gives text when name is empty.  An undefined name expands
 * to the empty string.  A recursive expansion is an error.
 *
 * A name is letters, digits, '_' and '-' (not first: Postfix's
 * "policyd-spf_time_limit"); a bare "$name" reference stops at a '-',
 * "${name}" takes it.
 *
 * Every parameter Panacea uses is listed with its type and compiled-in
 * default in conf_params.c, so an empty file is a valid configuration.  A
 * name that is not in that table is accepted with a warning
 * 'file:line: unknown parameter "NAME"' from conf_check(), unless it is
 * used: a value of the file, of an override or of the services table of
 * config_directory refers to it ($name: a user-defined macro, as in
 * Postfix), smtpd_restriction_classes names it (in the file or a
 * services -o), or it is TRANSPORT_SUFFIX for a service of that table and
 * one of Postfix's per-transport suffixes (destination_concurrency_limit,
 * destination_recipient_limit, ..., time_limit; any transport when the
 * table cannot be read).  A per-transport name whose default_SUFFIX is in
 * the table is checked as that parameter.
 * A later definition of a name replaces an earlier one, as in Postfix.
 * Values of known parameters are checked after loading (expanded, then
 * parsed by type and compared with the table's minimum), what the file
 * and -o set first, in their order; the first bad one is reported as
 * "file:line: NAME: message" (or "-o NAME=VALUE: NAME: message" for a
 * command-line override); an expansion error as 'file:line: parameter
 * "NAME": message'.  Syntax errors name the line a logical line starts
 * on.  Two defaults are computed: myhostname (gethostname(), with
 * ".localdomain" appended when it has no dot) and mydomain (myhostname
 * without its first label); conf_load() makes config_directory's default
 * the directory it reads.
 *
 * Lifecycle: conf_load() for programs (fatal on any error); conf_read()
 * plus conf_override() plus conf_check() for callers that want the error
 * text instead (tests, master's SIGHUP reload).  conf_reset() forgets
 * everything.  The accessors return expanded values; asking for a name
 * that is not in the parameter table is a programming error (panic).
 * Returned strings stay valid until the next conf_read/override/reset.
 */
#ifndef PANACEA_CONF_H
#define PANACEA_CONF_H

#include "buf.h"

enum conf_type { CONF_STR, CONF_INT, CONF_BOOL, CONF_TIME, CONF_SIZE };

struct conf_param {
	const char *name;
	enum conf_type type;
	const char *def; /* compiled-in default, before expansion */
	char time_unit;	 /* CONF_TIME: unit of a bare number (s m h d w) */
	long long min;	 /* CONF_INT/TIME/SIZE: smallest valid value */
	/* What the parameter means, for panacea.conf(5) (conf_doc.h): plain
	 * sentences, no markup; "As in Postfix." or "Panacea's own:" says
	 * whose meaning it is. */
	const char *doc;
};

/* The table of every parameter, terminated by an entry with name NULL. */
extern const struct conf_param conf_params[];
/* The names of the table that Panacea accepts and ignores (Postfix's
 * housekeeping parameters; each doc string starts "No-op in Panacea"),
 * NULL-terminated. */
extern const char *const conf_noop_params[];
const struct conf_param *conf_param_find(const char *name);

/* The configuration directory: -c DIR, else $MAIL_CONFIG, else the
 * compiled-in default (/etc/panacea).  Returns the chosen directory. */
const char *conf_choose_dir(const char *opt_dir);

/* Reads DIR/panacea.conf (a missing file is an empty configuration),
 * applies each "name=value" of overrides (count n), checks every known
 * value; exits through msg_fatal with file:line on the first error. */
void conf_load(const char *config_dir, char **overrides, int n);

/* Replaces the configuration with the content of path; 0 or -1 with a
 * "file:line: message" in err (the previous configuration is then kept).
 * missing_ok: a missing file is empty.  Files over 1 MiB are refused. */
int conf_read(const char *path, int missing_ok, struct buf *err);
/* Parses text as if it were the file named path (tests use this). */
int conf_read_string(const char *path, const char *text, struct buf *err);
/* Applies one "name=value"; 0 or -1 with a message in err. */
int conf_override(const char *name_eq_value, struct buf *err);
/* Checks every defined known parameter; 0 or -1 with the first error. */
int conf_check(struct buf *err);
void conf_reset(void);

/* Typed access to expanded values (see the table for types). */
const char *conf_str(const char *name);
long long conf_int(const char *name);
int conf_bool(const char *name);
long long conf_time(const char *name); /* seconds */
long long conf_size(const char *name); /* bytes */
/* Expanded value of any name, known or not; NULL when undefined and not a
 * known parameter. */
const char *conf_lookup(const char *name);
/* 1 when the name was set in the file or by an override. */
int conf_is_set(const char *name);
/* The raw (unexpanded) value, NULL when undefined (like conf_lookup). */
const char *conf_raw(const char *name);
/* Where the value comes from: "file:line", "-o name=value" or "default";
 * NULL when undefined. */
const char *conf_origin(const char *name);

/*
 * A program's parameters, bound to its variables.  A program lists what
 * it reads in one table and calls conf_bind() once the configuration is
 * loaded (a daemon in its pre_jail hook).  conf_bind() checks every row
 * first -- the name must be in conf_params[] with the row's type -- and
 * exits through msg_fatal naming the first bad row, so that a misspelt
 * or mistyped name stops the program at start-up, whatever rare branch
 * would have read it; then it stores each expanded, parsed value (a bad
 * value is the "file:line: NAME: message" fatal error of conf_load).
 * Strings are copies the variable keeps.  The macros give each type its
 * variable type, so a variable of another type is a compile error:
 *   CONF_BIND_STR: const char *; CONF_BIND_BOOL: int;
 *   CONF_BIND_INT, CONF_BIND_TIME (seconds), CONF_BIND_SIZE (bytes):
 *   long long.
 * A table ends with CONF_BIND_END.  scripts/check_params.py also checks
 * the rows against the table when the program is built.
 */
struct conf_bind {
	const char *name;
	enum conf_type type;
	void *var;
};
#define CONF_BIND_AS(name, type, ctype, var)                                   \
	{                                                                      \
		(name), (type), (void *)(1 ? (var) : (ctype *)0)               \
	}
#define CONF_BIND_STR(name, var) CONF_BIND_AS(name, CONF_STR, const char *, var)
#define CONF_BIND_BOOL(name, var) CONF_BIND_AS(name, CONF_BOOL, int, var)
#define CONF_BIND_INT(name, var) CONF_BIND_AS(name, CONF_INT, long long, var)
#define CONF_BIND_TIME(name, var) CONF_BIND_AS(name, CONF_TIME, long long, var)
#define CONF_BIND_SIZE(name, var) CONF_BIND_AS(name, CONF_SIZE, long long, var)
#define CONF_BIND_END                                                          \
	{                                                                      \
		NULL, CONF_STR, NULL                                           \
	}
void conf_bind(const struct conf_bind *table);
/* Frees the strings conf_bind() stored and sets their variables to NULL
 * (a program that binds again, as master does at each reload, first
 * copies what it keeps). */
void conf_unbind(const struct conf_bind *table);

/* Visits every name that has a value (known parameters with defaults
 * included, sorted by name); used by panconf.  set_only: only names set in
 * the file or by -o. */
void conf_walk(int set_only,
	       void (*fn)(const char *name, const char *raw, void *ctx),
	       void *ctx);

/* Pure parsers, exposed for reuse and unit tests.  Each returns 0 and
 * stores the value, or -1 for a bad or out-of-range text. */
int conf_parse_int(const char *s, long long *out);
int conf_parse_bool(const char *s, int *out);
/* Units s, m, h, d, w; a bare number uses default_unit. */
int conf_parse_time(const char *s, char default_unit, long long *out);
/* Bytes; suffixes k, m, g (powers of 1024, either case). */
int conf_parse_size(const char *s, long long *out);

#endif
