/*
 * map_pcre - pcre: tables (pcre_table(5)) with Debian's libpcre2-8, in
 * lib/map_rules' engine.
 *
 * Flags toggle: i (caseless, on by default), s (dot matches newline,
 * on), m (multi-line), x (extended), A (anchored), E (dollar at the end
 * only), U (ungreedy); X (PCRE's "extra") is accepted and does nothing,
 * as PCRE2 always refuses unknown escapes.  A match is bounded
 * (MAP_PCRE_MATCH_LIMIT backtracking steps, MAP_PCRE_DEPTH_LIMIT): a
 * pattern that explodes on some key is a lookup error, not a stuck
 * daemon.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <string.h>

#include "map_int.h"
#include "map_rules.h"
#include "xalloc.h"

#define MAP_PCRE_MATCH_LIMIT 1000000
#define MAP_PCRE_DEPTH_LIMIT 10000

struct pcre_pat {
	pcre2_code *code;
	pcre2_match_data *md;
	pcre2_match_context *mc;
};

static void
pcre_free_pat(void *p)
{
	struct pcre_pat *pp = p;

	pcre2_match_context_free(pp->mc);
	pcre2_match_data_free(pp->md);
	pcre2_code_free(pp->code);
	xfree(pp);
}

static void *
pcre_compile(char **p, int *groups, struct buf *err)
{
	struct buf pat = BUF_INIT, flags = BUF_INIT;
	uint32_t opts = PCRE2_CASELESS | PCRE2_DOTALL, count = 0;
	struct pcre_pat *pp = NULL;
	PCRE2_SIZE off;
	int code;

	if (map_rules_delimited(p, &pat, &flags, err) < 0)
		goto out;
	for (const char *f = buf_cstr(&flags); *f; f++) {
		switch (*f) {
		case 'i':
			opts ^= PCRE2_CASELESS;
			break;
		case 's':
			opts ^= PCRE2_DOTALL;
			break;
		case 'm':
			opts ^= PCRE2_MULTILINE;
			break;
		case 'x':
			opts ^= PCRE2_EXTENDED;
			break;
		case 'A':
			opts ^= PCRE2_ANCHORED;
			break;
		case 'E':
			opts ^= PCRE2_DOLLAR_ENDONLY;
			break;
		case 'U':
			opts ^= PCRE2_UNGREEDY;
			break;
		case 'X':
			break;
		default:
			buf_set(err, "");
			buf_printf(err, "unknown pcre flag '%c'", *f);
			goto out;
		}
	}
	pp = xcalloc(1, sizeof(*pp));
	pp->code = pcre2_compile((PCRE2_SPTR)buf_cstr(&pat), pat.len, opts,
				 &code, &off, NULL);
	if (pp->code == NULL) {
		PCRE2_UCHAR why[256];

		pcre2_get_error_message(code, why, sizeof(why));
		buf_set(err, "");
		buf_printf(err,
			   "bad regular expression \"%s\": %s at offset %zu",
			   buf_cstr(&pat), (const char *)why, (size_t)off);
		pcre_free_pat(pp);
		pp = NULL;
		goto out;
	}
	pcre2_pattern_info(pp->code, PCRE2_INFO_CAPTURECOUNT, &count);
	*groups = (int)count;
	pp->md = pcre2_match_data_create_from_pattern(pp->code, NULL);
	pp->mc = pcre2_match_context_create(NULL);
	if (pp->md == NULL || pp->mc == NULL) {
		buf_set(err, "out of memory");
		pcre_free_pat(pp);
		pp = NULL;
		goto out;
	}
	pcre2_set_match_limit(pp->mc, MAP_PCRE_MATCH_LIMIT);
	pcre2_set_depth_limit(pp->mc, MAP_PCRE_DEPTH_LIMIT);
out:
	buf_free(&pat);
	buf_free(&flags);
	return pp;
}

static int
pcre_match(void *p, const char *key, long *ovec, int groups, struct buf *err)
{
	struct pcre_pat *pp = p;
	PCRE2_SIZE *v;
	uint32_t n;
	int r;

	r = pcre2_match(pp->code, (PCRE2_SPTR)key, strlen(key), 0, 0, pp->md,
			pp->mc);
	if (r == PCRE2_ERROR_NOMATCH)
		return 0;
	if (r < 0) {
		PCRE2_UCHAR why[256];

		pcre2_get_error_message(r, why, sizeof(why));
		buf_set(err, "");
		buf_printf(err, "pcre2_match: %s", (const char *)why);
		return -1;
	}
	v = pcre2_get_ovector_pointer(pp->md);
	n = pcre2_get_ovector_count(pp->md);
	for (int i = 0; i <= groups; i++) {
		int set = (uint32_t)i < n && (uint32_t)i < (uint32_t)r &&
			  v[2 * i] != PCRE2_UNSET;
		ovec[2 * i] = set ? (long)v[2 * i] : -1;
		ovec[2 * i + 1] = set ? (long)v[2 * i + 1] : -1;
	}
	return 1;
}

static const struct map_pattern_ops pcre_ops = {pcre_compile, pcre_match,
						pcre_free_pat, 1};

static int
pcre_open(struct map *m, const char *name, struct buf *err)
{
	return map_rules_open(m, name, &pcre_ops, err);
}

const struct map_type map_type_pcre = {"pcre", 0, pcre_open,
				       map_rules_map_lookup, map_rules_close};
