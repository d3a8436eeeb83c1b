/*
 * map_regexp - regexp: tables (regexp_table(5)): POSIX extended regular
 * expressions (regcomp) in lib/map_rules' engine.
 *
 * Flags toggle: i (case-insensitive, on by default), x (extended syntax,
 * on), m (newline-sensitive ^ and $, off).  Any other letter is an error.
 */
#include <regex.h>
#include <string.h>

#include "map_int.h"
#include "map_rules.h"
#include "xalloc.h"

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
