/*
 * cidr - network address lists; see cidr.h.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "strutil.h"
#include "xalloc.h"

/* A prefix length: decimal digits (and "-0", as the configuration's
 * integers allow it), at most 128.  Returns it or -1.  Parsed here, not
 * with conf_parse_int(): this layer knows no configuration. */
static int
cidr_prefix(const char *s)
{
	int neg = (*s == '-');
	int len = 0;

	s += neg;
	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++)
		if ((len = len * 10 + (*s - '0')) > 128)
			return -1;
	if (*s != '\0' || (neg && len != 0))
		return -1;
	return len;
}

/* Splits "[addr]/len", "addr/len" or "addr" into address text and prefix
 * (-1 when absent).  Returns 0 or -1. */
static int
cidr_split(char *word, char **addr, int *prefix)
{
	char *slash = strrchr(word, '/');

	*prefix = -1;
	if (slash) {
		*slash = '\0';
		if ((*prefix = cidr_prefix(slash + 1)) < 0)
			return -1;
	}
	if (word[0] == '[') {
		size_t n = strlen(word);
		if (n < 2 || word[n - 1] != ']')
			return -1;
		word[n - 1] = '\0';
		word++;
	}
	*addr = word;
	return 0;
}

static int
cidr_host_bits_clear(const struct cidr_entry *e)
{
	int bytes = e->family == AF_INET ? 4 : 16;

	for (int bit = e->prefix; bit < bytes * 8; bit++)
		if (e->addr[bit / 8] & (0x80 >> (bit % 8)))
			return 0;
	return 1;
}

static int
cidr_parse_word(const char *text, struct cidr_entry *e, struct buf *err)
{
	char *copy = xstrdup(text);
	char *addr;
	int prefix, max;
	const char *why = NULL;

	memset(e, 0, sizeof(*e));
	if (cidr_split(copy, &addr, &prefix) < 0) {
		why = "bad syntax";
	} else if (inet_pton(AF_INET, addr, e->addr) == 1) {
		e->family = AF_INET;
	} else if (inet_pton(AF_INET6, addr, e->addr) == 1) {
		e->family = AF_INET6;
	} else {
		why = "not a numeric address";
	}
	if (why == NULL) {
		max = e->family == AF_INET ? 32 : 128;
		e->prefix = prefix < 0 ? max : prefix;
		if (e->prefix > max)
			why = "prefix length too large";
		else if (!cidr_host_bits_clear(e))
			why = "non-null host address bits";
	}
	xfree(copy);
	if (why) {
		buf_printf(err, "bad network \"%s\": %s", text, why);
		return -1;
	}
	return 0;
}

int
cidr_list_parse(const char *text, struct cidr_list *list, struct buf *err)
{
	int n = 0;
	char **words = str_split(text, ", \t\r\n", &n);

	list->items = xcalloc((size_t)n, sizeof(*list->items));
	list->count = 0;
	for (int i = 0; i < n; i++) {
		if (cidr_parse_word(words[i], &list->items[i], err) < 0) {
			str_list_free(words);
			cidr_list_free(list);
			return -1;
		}
		list->count++;
	}
	str_list_free(words);
	return 0;
}

void
cidr_list_free(struct cidr_list *list)
{
	xfree(list->items);
	list->items = NULL;
	list->count = 0;
}

int
cidr_entry_match(const struct cidr_entry *e, int family,
		 const unsigned char *addr)
{
	int full = e->prefix / 8, rest = e->prefix % 8;

	if (e->family != family)
		return 0;
	if (memcmp(e->addr, addr, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((e->addr[full] ^ addr[full]) & (0xff00 >> rest)) == 0;
}

static int
cidr_match_raw(const struct cidr_list *list, int family,
	       const unsigned char *addr)
{
	static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0,    0,
						   0, 0, 0, 0, 0xff, 0xff};

	if (family == AF_INET6 && memcmp(addr, v4mapped, 12) == 0 &&
	    cidr_match_raw(list, AF_INET, addr + 12))
		return 1;
	for (size_t i = 0; i < list->count; i++)
		if (cidr_entry_match(&list->items[i], family, addr))
			return 1;
	return 0;
}

int
cidr_list_match(const struct cidr_list *list, const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		return cidr_match_raw(list, AF_INET,
				      (const unsigned char *)&in->sin_addr);
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		return cidr_match_raw(list, AF_INET6,
				      (const unsigned char *)&in6->sin6_addr);
	}
	return 0;
}

int
cidr_list_match_text(const struct cidr_list *list, const char *ip)
{
	unsigned char addr[16];

	if (inet_pton(AF_INET, ip, addr) == 1)
		return cidr_match_raw(list, AF_INET, addr);
	if (inet_pton(AF_INET6, ip, addr) == 1)
		return cidr_match_raw(list, AF_INET6, addr);
	return 0;
}
