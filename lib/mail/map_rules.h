/*
 * map_rules - the rule tables that cidr:, regexp: and pcre: share: an
 * ordered list of "pattern result" rules, the first match wins,
 * "!pattern result" matches when the pattern does not, and
 * "if pattern" ... "endif" (also "if !pattern", nesting) guards the
 * rules between them (cidr_table(5), regexp_table(5), pcre_table(5)).
 *
 * A type gives how to read and compile one pattern and how to match it;
 * this file does the lines, the nesting and the results.  With
 * substitution ($1..$N, ${N}, $(N), $$ in results, regexp and pcre),
 * an index beyond the pattern's groups, or a $N after a negated pattern,
 * is an error at load time.  Every error is "FILE:LINE: message".
 */
#ifndef PANACEA_MAP_RULES_H
#define PANACEA_MAP_RULES_H

#include <stddef.h>

#include "buf.h"
#include "map_int.h"

#define MAP_RULES_GROUPS_MAX 99 /* $1..$99 */
#define MAP_RULES_NA 2

struct map_pattern_ops {
	/* Reads the pattern at *p (with its flags), advances *p past it,
	 * and compiles it; *groups is its number of capture groups.  NULL
	 * with the reason in err. */
	void *(*compile)(char **p, int *groups, struct buf *err);
	/* 1 match, 0 no match, MAP_RULES_NA when the pattern does not
	 * apply to such a key at all (cidr: another address family; the
	 * rule is skipped, negated or not, an "if" is false), -1 error
	 * (err).  With ovec (2 * (groups + 1)
	 * offsets), fills the groups' start and end (-1 when unset). */
	int (*match)(void *pat, const char *key, long *ovec, int groups,
		     struct buf *err);
	void (*free)(void *pat);
	int substitute; /* results take $N */
};

struct map_rules;

/* NULL with err. */
struct map_rules *map_rules_load(const char *name,
				 const struct map_pattern_ops *ops,
				 struct map_watch *w, struct buf *err);
int map_rules_lookup(struct map_rules *r, const char *key, struct buf *value,
		     struct buf *err);
void map_rules_free(struct map_rules *r);

/* The map_type functions of a rule table: open() loads name into m->data
 * and watches its file. */
int map_rules_open(struct map *m, const char *name,
		   const struct map_pattern_ops *ops, struct buf *err);
int map_rules_map_lookup(struct map *m, const char *key, struct buf *value,
			 struct buf *err);
void map_rules_close(struct map *m);

/* Reads "/pattern/flags" (any delimiter that is not alphanumeric, white
 * space or a backslash; a backslash escapes the next character, kept in
 * the pattern): the pattern into pat, the flag letters into flags.  0, or
 * -1 with err. */
int map_rules_delimited(char **p, struct buf *pat, struct buf *flags,
			struct buf *err);

#endif
