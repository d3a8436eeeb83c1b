/*
 * map_regexp - regexp: tables (regexp_table(5)): POSIX extended regular
 * expressions (regcomp) in lib/map_rules' engine.
 *
 * Flags toggle: i (case-insensitive, on by default), x (extended syntax,
 * on), m (newline-sensitive ^ and $, off).  Any other letter is an error.
 *
 * glibc's regcomp() copies a repeated subexpression once per repetition
 * ("a{1000}", and "a+" as "aa*"), so stacked or nested repetitions
 * ("(a{1000}){1000}") grow its tree exponentially, and repetitions in
 * a row ("a+++++++", undefined in POSIX) its epsilon closures: a typo in
 * a table would exhaust the daemon's memory or time.  Before compiling,
 * regexp_cost() refuses repetitions in a row and bounds the size the
 * copies can reach (an over-estimate: alternatives are added, not
 * maxed); a pattern over REGEXP_COST_MAX is refused as too complex.
 *
 * That bounds the time of a match too, but for back-references ("\1" in
 * a pattern, a glibc extension to POSIX extended expressions): glibc
 * matches them by backtracking, exponential in the key's length, and a
 * key comes from the network.  They are refused; pcre: tables have them
 * with a bounded match.
 */
#include <regex.h>
#include <string.h>

#include "map_int.h"
#include "map_rules.h"
#include "xalloc.h"

#define REGEXP_COST_MAX 20000
#define REGEXP_DEPTH_MAX 64

/* Skips a bracket expression starting at p ('['); returns its ']', or
 * the NUL when it is not closed (regcomp then refuses it). */
static const char *
bracket_end(const char *p)
{
	p++;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	for (; *p && *p != ']'; p++) {
		if (p[0] == '[' &&
		    (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
			const char *e = strchr(p + 2, p[1]);
			while (e && e[1] != ']')
				e = strchr(e + 1, p[1]);
			if (e == NULL)
				return p + strlen(p);
			p = e + 1;
			if (*p == '\0')
				return p;
		}
	}
	return p;
}

/* Reads "{m}", "{m,}" or "{m,n}" (after the '{' or "\{"); the factor
 * the repetition multiplies by, or 0 when it is no valid bound. */
static long
bound_factor(const char **pp, int extended)
{
	const char *p = *pp;
	long m = 0, n = -1;

	while (*p >= '0' && *p <= '9' && m <= 100000)
		m = m * 10 + (*p++ - '0');
	if (*p == ',') {
		p++;
		if (*p >= '0' && *p <= '9') {
			n = 0;
			while (*p >= '0' && *p <= '9' && n <= 100000)
				n = n * 10 + (*p++ - '0');
		}
	}
	if (!extended && *p == '\\')
		p++;
	if (*p != '}')
		return 0;
	*pp = p + 1;
	return (n > m ? n : m) + 1;
}

/* An upper bound of the copies regcomp() makes of the pattern's atoms;
 * -1 once it passes REGEXP_COST_MAX or nests too deep, -2 at a
 * back-reference. */
static long
regexp_cost(const char *pat, int extended)
{
	long total[REGEXP_DEPTH_MAX + 1] = {0};
	int depth = 0;
	const char *p = pat;

	while (*p) {
		long atom = 1, f;

		if ((extended && *p == '(') ||
		    (!extended && p[0] == '\\' && p[1] == '(')) {
			p += extended ? 1 : 2;
			if (++depth > REGEXP_DEPTH_MAX)
				return -1;
			total[depth] = 0;
			continue;
		}
		if ((extended && *p == ')' && depth > 0) ||
		    (!extended && p[0] == '\\' && p[1] == ')' && depth > 0)) {
			p += extended ? 1 : 2;
			atom = total[depth--] + 1;
		} else if (*p == '[') {
			p = bracket_end(p);
			if (*p)
				p++;
		} else if (*p == '\\' && p[1] >= '1' && p[1] <= '9') {
			return -2;
		} else if (*p == '\\' && p[1]) {
			p += 2;
		} else {
			p++;
		}
		/* The repetitions that follow the atom multiply it.  A
		 * second one in a row is undefined in POSIX, and glibc's
		 * epsilon closures grow exponentially with them: refused. */
		for (int reps = 0;; reps++) {
			const char *q = p;

			if (*p == '*' || (extended && *p == '?'))
				f = 1, q = p + 1;
			else if (extended && *p == '+')
				f = 2, q = p + 1;
			else if (extended && *p == '{')
				q = p + 1, f = bound_factor(&q, 1);
			else if (!extended && p[0] == '\\' && p[1] == '{')
				q = p + 2, f = bound_factor(&q, 0);
			else
				f = 0;
			if (f == 0)
				break;
			if (reps > 0)
				return -1;
			p = q;
			atom *= f;
			if (atom > REGEXP_COST_MAX)
				return -1;
		}
		total[depth] += atom;
		if (total[depth] > REGEXP_COST_MAX)
			return -1;
	}
	return total[0];
}

static void *
regexp_compile(char **p, int *groups, struct buf *err)
{
	struct buf pat = BUF_INIT, flags = BUF_INIT;
	int cflags = REG_EXTENDED | REG_ICASE, r;
	regex_t *re = NULL;

	if (map_rules_delimited(p, &pat, &flags, err) < 0)
		goto out;
	for (const char *f = buf_cstr(&flags); *f; f++) {
		switch (*f) {
		case 'i':
			cflags ^= REG_ICASE;
			break;
		case 'x':
			cflags ^= REG_EXTENDED;
			break;
		case 'm':
			cflags ^= REG_NEWLINE;
			break;
		default:
			buf_set(err, "");
			buf_printf(err, "unknown regexp flag '%c'", *f);
			goto out;
		}
	}
	if ((r = (int)regexp_cost(buf_cstr(&pat), cflags & REG_EXTENDED)) ==
	    -2) {
		buf_set(err, "");
		buf_printf(err,
			   "back-references are not supported in regexp: "
			   "tables (their matching time has no bound; use "
			   "pcre:): \"%.60s\"",
			   buf_cstr(&pat));
		goto out;
	}
	if (r < 0) {
		buf_set(err, "");
		buf_printf(err,
			   "regular expression too complex (repetitions in a "
			   "row, or expanding past %d copies): \"%.60s\"",
			   REGEXP_COST_MAX, buf_cstr(&pat));
		goto out;
	}
	re = xcalloc(1, sizeof(*re));
	if ((r = regcomp(re, buf_cstr(&pat), cflags)) != 0) {
		char why[256];

		regerror(r, re, why, sizeof(why));
		buf_set(err, "");
		buf_printf(err, "bad regular expression \"%s\": %s",
			   buf_cstr(&pat), why);
		xfree(re);
		re = NULL;
		goto out;
	}
	*groups = (int)re->re_nsub;
out:
	buf_free(&pat);
	buf_free(&flags);
	return re;
}

static int
regexp_match(void *pat, const char *key, long *ovec, int groups,
	     struct buf *err)
{
	regmatch_t m[MAP_RULES_GROUPS_MAX + 1];
	int r;

	r = regexec(pat, key, (size_t)groups + 1, m, 0);
	if (r == REG_NOMATCH)
		return 0;
	if (r != 0) {
		char why[256];

		regerror(r, pat, why, sizeof(why));
		buf_set(err, why);
		return -1;
	}
	for (int i = 0; i <= groups; i++) {
		ovec[2 * i] = m[i].rm_so;
		ovec[2 * i + 1] = m[i].rm_eo;
	}
	return 1;
}

static void
regexp_free(void *pat)
{
	regfree(pat);
	xfree(pat);
}

static const struct map_pattern_ops regexp_ops = {regexp_compile, regexp_match,
						  regexp_free, 1};

static int
regexp_open(struct map *m, const char *name, struct buf *err)
{
	return map_rules_open(m, name, &regexp_ops, err);
}

const struct map_type map_type_regexp = {"regexp", 0, regexp_open,
					 map_rules_map_lookup, map_rules_close};
