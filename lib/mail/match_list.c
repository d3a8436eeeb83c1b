/*
 * match_list - Postfix's list parameters; see match_list.h.
 *
 * The list is expanded once, at open: files are read and tables opened
 * then (before chroot), so a matching never touches the file system
 * except through the tables' own handles.
 */
#include <errno.h>
#include <string.h>

#include "cidr.h"
#include "iostuff.h"
#include "maps.h"
#include "match_list.h"
#include "strutil.h"
#include "xalloc.h"

#define SEPARATORS ", \t\r\n"

struct match_entry {
	char *word;	  /* a word, or the table's type:name */
	struct maps *map; /* NULL for a word */
	int negate;
	int is_net;	      /* the word is an address or network */
	struct cidr_list net; /* ... parsed */
};

struct match_list {
	struct match_entry *items;
	size_t count;
};

static int add_text(struct match_list *l, const char *param, const char *text,
		    int depth, struct buf *err);

/* A table entry: "type:name" with a type of letters and digits that is
 * not the start of an IPv6 address ("fe80::/10" is a network). */
static int
is_table(const char *s)
{
	const char *colon = strchr(s, ':');
	struct cidr_list net = {NULL, 0};
	struct buf err = BUF_INIT;
	const char *p;
	int is_net;

	if (colon == NULL || colon == s)
		return 0;
	for (p = s; p < colon; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
			return 0;
	is_net = cidr_list_parse(s, &net, &err) == 0;
	cidr_list_free(&net);
	buf_free(&err);
	return !is_net;
}

/* A word that can only be meant as an address or a network: a '/', a
 * ':' or a '[' in it, or digits and dots only. */
static int
looks_like_net(const char *w)
{
	if (strpbrk(w, "/:[") != NULL)
		return 1;
	return strspn(w, "0123456789.") == strlen(w);
}

static int
add_entry(struct match_list *l, const char *param, const char *word,
	  struct maps *map, int negate, struct buf *err)
{
	struct match_entry *e;
	struct buf nerr = BUF_INIT;

	l->items = xreallocarray(l->items, l->count + 1, sizeof(*l->items));
	e = &l->items[l->count];
	memset(e, 0, sizeof(*e));
	e->word = xstrdup(word);
	e->map = map;
	e->negate = negate;
	l->count++;
	if (map == NULL && looks_like_net(word)) {
		e->is_net = 1;
		if (cidr_list_parse(word, &e->net, &nerr) < 0) {
			buf_printf(err, "%s: %s", param, buf_cstr(&nerr));
			buf_free(&nerr);
			return -1;
		}
	}
	buf_free(&nerr);
	return 0;
}

/* The entries of a /file/name: its text without '#' comments. */
static int
add_file(struct match_list *l, const char *param, const char *path, int depth,
	 struct buf *err)
{
	struct buf text = BUF_INIT;
	struct buf ioerr = BUF_INIT;
	char *p;
	int rc;

	if (depth >= MATCH_LIST_DEPTH_MAX) {
		buf_printf(err, "%s: %s: files nested more than %d deep", param,
			   path, MATCH_LIST_DEPTH_MAX);
		return -1;
	}
	if (io_read_text_file(path, &text, MATCH_LIST_FILE_MAX, &ioerr) < 0) {
		buf_printf(err, "%s: %s", param, buf_cstr(&ioerr));
		buf_free(&text);
		buf_free(&ioerr);
		return -1;
	}
	/* Comments end at the line end; the rest is separators. */
	for (p = text.data; p != NULL && *p != '\0'; p++) {
		if (*p == '#')
			while (*p != '\0' && *p != '\n')
				*p++ = ' ';
		if (*p == '\0')
			break;
	}
	rc = add_text(l, param, buf_cstr(&text), depth + 1, err);
	buf_free(&text);
	buf_free(&ioerr);
	return rc;
}

static int
add_text(struct match_list *l, const char *param, const char *text, int depth,
	 struct buf *err)
{
	char **words = str_split(text, SEPARATORS, NULL);
	struct buf merr = BUF_INIT;
	struct maps *map;
	const char *w;
	int negate;
	int rc = 0;

	for (char **wp = words; *wp != NULL && rc == 0; wp++) {
		w = *wp;
		negate = *w == '!';
		if (negate)
			w++;
		if (*w == '\0') {
			buf_printf(err, "%s: \"!\" without an entry", param);
			rc = -1;
		} else if (*w == '/' && !negate) {
			rc = add_file(l, param, w, depth, err);
		} else if (is_table(w)) {
			if ((map = maps_open(w, &merr)) == NULL) {
				buf_printf(err, "%s: %s", param,
					   buf_cstr(&merr));
				rc = -1;
			} else {
				rc = add_entry(l, param, w, map, negate, err);
			}
		} else {
			rc = add_entry(l, param, w, NULL, negate, err);
		}
	}
	str_list_free(words);
	buf_free(&merr);
	return rc;
}

struct match_list *
match_list_open(const char *param, const char *value, struct buf *err)
{
	struct match_list *l = xcalloc(1, sizeof(*l));

	buf_reset(err);
	if (add_text(l, param, value, 0, err) < 0) {
		match_list_free(l);
		return NULL;
	}
	return l;
}

void
match_list_free(struct match_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->count; i++) {
		xfree(l->items[i].word);
		maps_close(l->items[i].map);
		cidr_list_free(&l->items[i].net);
	}
	xfree(l->items);
	xfree(l);
}

/* 1 when a table has key (any value), 0 when not, -1 on error. */
static int
table_has(const struct match_entry *e, const char *key, struct buf *err)
{
	struct buf value = BUF_INIT;
	int rc = maps_lookup(e->map, key, &value, err);

	buf_free(&value);
	return rc;
}

/* Does word (not a table) match domain? */
static int
word_matches_domain(const char *word, const char *domain, int parent)
{
	size_t dlen = strlen(domain);
	size_t wlen = strlen(word);

	if (str_casecmp(word, domain) == 0)
		return 1;
	if (word[0] == '.')
		return dlen > wlen &&
		       str_casecmp(domain + dlen - wlen, word) == 0;
	return parent && dlen > wlen + 1 && domain[dlen - wlen - 1] == '.' &&
	       str_casecmp(domain + dlen - wlen, word) == 0;
}

/* A table asked for domain, then its parents (".parent" without the
 * parent flag). */
static int
table_matches_domain(const struct match_entry *e, const char *domain,
		     int parent, struct buf *err)
{
	const char *p;
	int rc = table_has(e, domain, err);

	for (p = strchr(domain, '.'); rc == 0 && p != NULL && p[1] != '\0';
	     p = strchr(p + 1, '.'))
		rc = table_has(e, parent ? p + 1 : p, err);
	return rc;
}

/* What a list is asked about; a matcher reads the fields it needs. */
struct subject {
	const char *name; /* a domain or client name, "" unknown */
	const char *addr; /* a client address, "" unknown */
	int parent;	  /* parent_domain_matches_subdomains */
};

typedef int (*entry_match_fn)(const struct match_entry *e,
			      const struct subject *s, struct buf *err);

/* Entries in order; the first that matches decides (a "!" one: no). */
static int
first_match(const struct match_list *l, entry_match_fn match,
	    const struct subject *s, struct buf *err)
{
	int rc;

	for (size_t i = 0; l != NULL && i < l->count; i++) {
		if ((rc = match(&l->items[i], s, err)) < 0)
			return -1;
		if (rc > 0)
			return !l->items[i].negate;
	}
	return 0;
}

static int
domain_entry(const struct match_entry *e, const struct subject *s,
	     struct buf *err)
{
	return e->map ? table_matches_domain(e, s->name, s->parent, err)
		      : word_matches_domain(e->word, s->name, s->parent);
}

int
match_list_domain(const struct match_list *l, const char *domain, int parent,
		  struct buf *err)
{
	struct subject s = {domain, "", parent};

	return *domain ? first_match(l, domain_entry, &s, err) : 0;
}

static int
client_entry(const struct match_entry *e, const struct subject *s,
	     struct buf *err)
{
	int rc = 0;

	if (e->map != NULL) {
		if (*s->name)
			rc = table_matches_domain(e, s->name, s->parent, err);
		if (rc == 0 && *s->addr)
			rc = table_has(e, s->addr, err);
		return rc;
	}
	if (e->is_net)
		return *s->addr && cidr_list_match_text(&e->net, s->addr);
	return *s->name && word_matches_domain(e->word, s->name, s->parent);
}

int
match_list_client(const struct match_list *l, const char *name,
		  const char *addr, int parent, struct buf *err)
{
	struct subject s = {name, addr, parent};

	return first_match(l, client_entry, &s, err);
}

static int
string_entry(const struct match_entry *e, const struct subject *s,
	     struct buf *err)
{
	return e->map ? table_has(e, s->name, err)
		      : str_casecmp(e->word, s->name) == 0;
}

int
match_list_string(const struct match_list *l, const char *str, struct buf *err)
{
	struct subject s = {str, "", 0};

	return first_match(l, string_entry, &s, err);
}

char *
match_list_words(const struct match_list *l)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "");
	for (size_t i = 0; l != NULL && i < l->count; i++) {
		if (l->items[i].map != NULL || l->items[i].negate)
			continue;
		if (b.len > 0)
			buf_putc(&b, ' ');
		buf_puts(&b, l->items[i].word);
	}
	return buf_steal(&b);
}

int
match_list_tables(const struct match_list *l, const char *key, struct buf *err)
{
	int rc;

	for (size_t i = 0; l != NULL && i < l->count; i++) {
		if (l->items[i].map == NULL || l->items[i].negate)
			continue;
		if ((rc = table_has(&l->items[i], key, err)) != 0)
			return rc;
	}
	return 0;
}

int
match_list_has_tables(const struct match_list *l)
{
	for (size_t i = 0; l != NULL && i < l->count; i++)
		if (l->items[i].map != NULL)
			return 1;
	return 0;
}

void
match_list_each_word(const struct match_list *l,
		     void (*fn)(const char *word, void *ctx), void *ctx)
{
	for (size_t i = 0; l != NULL && i < l->count; i++)
		if (l->items[i].map == NULL)
			fn(l->items[i].word, ctx);
}
