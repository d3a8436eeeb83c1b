/*
 * map_cidr - cidr: tables (cidr_table(5)): "network/prefix result"
 * rules on lib/cidr's address parsing, in lib/map_rules' engine.
 *
 * A pattern is one word: "a.b.c.d", "a.b.c.d/len", an IPv6 address with
 * or without brackets and "/len"; host bits set below the prefix are an
 * error, as in Postfix.  A key that is no numeric address is not found,
 * whatever the rules ("!pattern" included), and a rule applies only to
 * keys of its address family, as in Postfix.
 */
#include <arpa/inet.h>
#include <string.h>

#include "cidr.h"
#include "map_int.h"
#include "map_rules.h"
#include "xalloc.h"

static void *
cidr_compile(char **p, int *groups, struct buf *err)
{
	size_t n = strcspn(*p, " \t");
	struct cidr_list *list = xcalloc(1, sizeof(*list));
	char *word = xstrndup(*p, n);

	*groups = 0;
	if (n == 0 || strchr(word, ',') != NULL ||
	    cidr_list_parse(word, list, err) < 0 || list->count != 1) {
		if (err->len == 0)
			buf_printf(err, "bad network \"%s\"", word);
		cidr_list_free(list);
		xfree(list);
		xfree(word);
		return NULL;
	}
	xfree(word);
	*p += n;
	return list;
}

/* Postfix compares within one address family: an IPv4 rule does not
 * apply to an IPv6 key (IPv4-mapped included), negated or not. */
static int
cidr_match(void *pat, const char *key, long *ovec, int groups, struct buf *err)
{
	const struct cidr_list *list = pat;
	unsigned char addr[16];
	int family = AF_INET;

	(void)ovec;
	(void)groups;
	(void)err;
	if (inet_pton(AF_INET, key, addr) != 1) {
		family = AF_INET6;
		if (inet_pton(AF_INET6, key, addr) != 1)
			return MAP_RULES_NA;
	}
	if (list->items[0].family != family)
		return MAP_RULES_NA;
	return cidr_entry_match(&list->items[0], family, addr);
}

static void
cidr_free(void *pat)
{
	cidr_list_free(pat);
	xfree(pat);
}

static const struct map_pattern_ops cidr_ops = {cidr_compile, cidr_match,
						cidr_free, 0};

static int
cidr_open(struct map *m, const char *name, struct buf *err)
{
	return map_rules_open(m, name, &cidr_ops, err);
}

static int
cidr_lookup(struct map *m, const char *key, struct buf *value, struct buf *err)
{
	unsigned char addr[16];

	if (inet_pton(AF_INET, key, addr) != 1 &&
	    inet_pton(AF_INET6, key, addr) != 1)
		return 0;
	return map_rules_map_lookup(m, key, value, err);
}

const struct map_type map_type_cidr = {"cidr", 0, cidr_open, cidr_lookup,
				       map_rules_close};
