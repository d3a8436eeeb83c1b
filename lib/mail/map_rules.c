/*
 * map_rules - ordered pattern rules with if/endif; see map_rules.h.
 *
 * Loaded, a table is a flat array: an "if" rule records the index of its
 * "endif", so a failed guard jumps past the block and a lookup is one
 * pass with no recursion however deep the nesting.
 */
#include <string.h>

#include "map_rules.h"
#include "map_text.h"
#include "strutil.h"
#include "xalloc.h"

enum rule_kind { RULE_MATCH, RULE_IF, RULE_ENDIF };

struct rule {
	enum rule_kind kind;
	int negate;
	int groups;
	void *pat;
	char *result;
	size_t endif; /* RULE_IF: index of its endif */
};

struct map_rules {
	const struct map_pattern_ops *ops;
	struct rule *rules;
	size_t count;
};

struct load {
	struct map_rules *r;
	size_t *open_ifs; /* indexes of the ifs without endif yet */
	long *open_lines;
	size_t depth;
};

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
is_alnum(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

/* Is p the keyword kw (any case) followed by no letter or digit? */
static int
keyword(const char *p, const char *kw)
{
	size_t n = strlen(kw);

	return str_ncasecmp(p, kw, n) == 0 && !is_alnum((unsigned char)p[n]);
}

/* Expands $N in result into out; with key NULL only checks the syntax
 * and the indexes against groups. */
static int
expand(const char *result, const char *key, const long *ovec, int groups,
       struct buf *out, struct buf *err)
{
	const char *p = result;

	while (*p) {
		const char *dollar = strchr(p, '$');
		long n = 0;
		int digits = 0;
		char close = 0;

		if (dollar == NULL) {
			if (out)
				buf_puts(out, p);
			break;
		}
		if (out)
			buf_append(out, p, (size_t)(dollar - p));
		p = dollar + 1;
		if (*p == '$') {
			if (out)
				buf_putc(out, '$');
			p++;
			continue;
		}
		if (*p == '{' || *p == '(') {
			close = *p == '{' ? '}' : ')';
			p++;
		}
		while (*p >= '0' && *p <= '9' && digits < 3) {
			n = n * 10 + (*p++ - '0');
			digits++;
		}
		if (digits == 0 || (close && *p++ != close)) {
			buf_set(err, "bad $ in the result: $N, ${N} or $(N) "
				     "for a group, $$ for a dollar sign");
			return -1;
		}
		if (n < 1 || n > groups) {
			buf_set(err, "");
			buf_printf(err,
				   "out-of-range replacement index $%ld (the "
				   "pattern has %d group%s)",
				   n, groups, groups == 1 ? "" : "s");
			return -1;
		}
		if (out && key && ovec[2 * n] >= 0)
			buf_append(out, key + ovec[2 * n],
				   (size_t)(ovec[2 * n + 1] - ovec[2 * n]));
	}
	return 0;
}

/* Results name at most MAP_RULES_GROUPS_MAX groups. */
static int
clamp(int groups)
{
	return groups > MAP_RULES_GROUPS_MAX ? MAP_RULES_GROUPS_MAX : groups;
}

static struct rule *
rule_add(struct map_rules *r)
{
	r->rules = xreallocarray(r->rules, r->count + 1, sizeof(*r->rules));
	memset(&r->rules[r->count], 0, sizeof(*r->rules));
	return &r->rules[r->count++];
}

static int
rule_line(char *line, long lineno, void *ctx, struct buf *err)
{
	struct load *ld = ctx;
	struct map_rules *r = ld->r;
	const struct map_pattern_ops *ops = r->ops;
	enum rule_kind kind = RULE_MATCH;
	struct rule *rule;
	char *p = line, *result;
	int negate = 0, groups = 0;
	void *pat;

	if (keyword(p, "endif")) {
		p += 5;
		if (*str_trim(p) != '\0') {
			buf_set(err, "text after \"endif\"");
			return -1;
		}
		if (ld->depth == 0) {
			buf_set(err, "\"endif\" without \"if\"");
			return -1;
		}
		ld->depth--;
		r->rules[ld->open_ifs[ld->depth]].endif = r->count;
		rule_add(r)->kind = RULE_ENDIF;
		return 0;
	}
	if (keyword(p, "if")) {
		kind = RULE_IF;
		p += 2;
		p += strspn(p, " \t");
	}
	if (*p == '!') {
		negate = 1;
		p++;
		p += strspn(p, " \t");
	}
	if ((pat = ops->compile(&p, &groups, err)) == NULL)
		return -1;
	result = str_trim(p);
	if (kind == RULE_IF && *result != '\0') {
		buf_set(err, "");
		buf_printf(err, "text after the \"if\" pattern: \"%s\"",
			   result);
		ops->free(pat);
		return -1;
	}
	if (kind == RULE_MATCH && *result == '\0') {
		buf_set(err, "missing result after the pattern");
		ops->free(pat);
		return -1;
	}
	/* A negated pattern matched nothing: no group to substitute. */
	if (kind == RULE_MATCH && ops->substitute &&
	    expand(result, NULL, NULL, negate ? 0 : clamp(groups), NULL, err) <
		0) {
		if (negate && strstr(buf_cstr(err), "out-of-range"))
			buf_set(err, "$N in the result of a negated pattern");
		ops->free(pat);
		return -1;
	}
	rule = rule_add(r);
	rule->kind = kind;
	rule->negate = negate;
	rule->groups = clamp(groups);
	rule->pat = pat;
	rule->result = kind == RULE_MATCH ? xstrdup(result) : NULL;
	if (kind == RULE_IF) {
		ld->open_ifs = xreallocarray(ld->open_ifs, ld->depth + 1,
					     sizeof(*ld->open_ifs));
		ld->open_lines = xreallocarray(ld->open_lines, ld->depth + 1,
					       sizeof(*ld->open_lines));
		ld->open_ifs[ld->depth] = r->count - 1;
		ld->open_lines[ld->depth] = lineno;
		ld->depth++;
	}
	return 0;
}

struct map_rules *
map_rules_load(const char *name, const struct map_pattern_ops *ops,
	       struct map_watch *w, struct buf *err)
{
	struct map_rules *r = xcalloc(1, sizeof(*r));
	struct load ld;
	int rc;

	memset(&ld, 0, sizeof(ld));
	r->ops = ops;
	ld.r = r;
	rc = map_text_read(name, rule_line, &ld, w, err);
	if (rc == 0 && ld.depth > 0) {
		buf_set(err, "");
		buf_printf(err, "%s:%ld: \"if\" without \"endif\"",
			   name[0] == '{' ? "{...}" : name,
			   ld.open_lines[ld.depth - 1]);
		rc = -1;
	}
	xfree(ld.open_ifs);
	xfree(ld.open_lines);
	if (rc < 0) {
		map_rules_free(r);
		return NULL;
	}
	return r;
}

int
map_rules_lookup(struct map_rules *r, const char *key, struct buf *value,
		 struct buf *err)
{
	long ovec[2 * (MAP_RULES_GROUPS_MAX + 1)];

	for (size_t i = 0; i < r->count; i++) {
		struct rule *rule = &r->rules[i];
		int m;

		if (rule->kind == RULE_ENDIF)
			continue;
		m = r->ops->match(rule->pat, key, ovec, rule->groups, err);
		if (m < 0)
			return -1;
		if (rule->kind == RULE_IF) {
			if (m == MAP_RULES_NA || m == rule->negate)
				i = rule->endif;
			continue;
		}
		if (m == MAP_RULES_NA || m == rule->negate)
			continue;
		buf_reset(value);
		if (!r->ops->substitute)
			buf_puts(value, rule->result);
		else if (expand(rule->result, key, ovec, rule->groups, value,
				err) < 0)
			return -1;
		return 1;
	}
	return 0;
}

void
map_rules_free(struct map_rules *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->count; i++) {
		if (r->rules[i].pat)
			r->ops->free(r->rules[i].pat);
		xfree(r->rules[i].result);
	}
	xfree(r->rules);
	xfree(r);
}

int
map_rules_delimited(char **p, struct buf *pat, struct buf *flags,
		    struct buf *err)
{
	char *s = *p, delim = *s;

	if (delim == '\0' || is_alnum((unsigned char)delim) ||
	    is_space(delim) || delim == '\\') {
		buf_set(err, "");
		buf_printf(err,
			   "pattern must start with a delimiter such as '/' "
			   "(found \"%.20s\")",
			   s);
		return -1;
	}
	buf_reset(pat);
	buf_reset(flags);
	for (s++; *s && *s != delim; s++) {
		if (*s == '\\' && s[1] != '\0')
			buf_putc(pat, *s++);
		buf_putc(pat, *s);
	}
	if (*s != delim) {
		buf_set(err, "");
		buf_printf(err, "missing closing delimiter '%c' of the pattern",
			   delim);
		return -1;
	}
	for (s++; *s && !is_space((unsigned char)*s); s++)
		buf_putc(flags, *s);
	*p = s;
	return 0;
}

int
map_rules_open(struct map *m, const char *name,
	       const struct map_pattern_ops *ops, struct buf *err)
{
	m->data = map_rules_load(name, ops, &m->watch, err);
	return m->data ? 0 : -1;
}

int
map_rules_map_lookup(struct map *m, const char *key, struct buf *value,
		     struct buf *err)
{
	return map_rules_lookup(m->data, key, value, err);
}

void
map_rules_close(struct map *m)
{
	map_rules_free(m->data);
}
