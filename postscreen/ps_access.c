/*
 * ps_access - postscreen_access_list, Postfix's permanent allow/denylist.
 *
 * The list holds permit_mynetworks, permit, reject, dunno and type:table
 * entries, tried in order; the first that fires decides.  "dunno" as an
 * entry ends the search with no decision; a table is asked for the client
 * address and its value is itself a list of these commands (no tables),
 * where "dunno" only returns from the table to the next entry.  An
 * unknown entry stops postscreen at start-up; an unknown command in a
 * table's value is logged and ignored.
 */
#include <string.h>

#include "maps.h"
#include "match_list.h"
#include "msg.h"
#include "postscreen.h"
#include "strutil.h"
#include "xalloc.h"

enum entry_kind { E_PERMIT, E_REJECT, E_DUNNO, E_MYNETWORKS, E_TABLE };

struct entry {
	enum entry_kind kind;
	char *spec;	   /* the table, for the log */
	struct maps *maps; /* E_TABLE */
};

struct ps_access_list {
	struct entry *items;
	size_t count;
	const struct match_list *mynetworks;
};

int
ps_access_word(const char *word)
{
	if (str_casecmp(word, "permit") == 0)
		return E_PERMIT;
	if (str_casecmp(word, "reject") == 0)
		return E_REJECT;
	if (str_casecmp(word, "dunno") == 0)
		return E_DUNNO;
	if (str_casecmp(word, "permit_mynetworks") == 0)
		return E_MYNETWORKS;
	return -1;
}

struct ps_access_list *
ps_access_open(const char *value, const struct match_list *mynetworks,
	       struct buf *err)
{
	struct ps_access_list *l;
	/* Split as table lists are: "inline:{ a=b, c=d }" is one entry. */
	char **words = maps_split(value, NULL, err);
	int kind;

	if (words == NULL)
		return NULL;
	l = xcalloc(1, sizeof(*l));
	l->mynetworks = mynetworks;
	for (size_t i = 0; words[i] != NULL; i++) {
		struct entry e = {0};

		if ((kind = ps_access_word(words[i])) >= 0) {
			e.kind = (enum entry_kind)kind;
		} else if (strchr(words[i], ':') != NULL) {
			e.kind = E_TABLE;
			e.spec = xstrdup(words[i]);
			if ((e.maps = maps_open(words[i], err)) == NULL) {
				xfree(e.spec);
				goto fail;
			}
		} else {
			buf_printf(err,
				   "unknown entry \"%s\" (permit_mynetworks, "
				   "permit, reject, dunno or type:table)",
				   words[i]);
			goto fail;
		}
		l->items =
		    xreallocarray(l->items, l->count + 1, sizeof(*l->items));
		l->items[l->count++] = e;
	}
	str_list_free(words);
	return l;
fail:
	str_list_free(words);
	ps_access_free(l);
	return NULL;
}

void
ps_access_free(struct ps_access_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->count; i++) {
		if (l->items[i].maps)
			maps_close(l->items[i].maps);
		xfree(l->items[i].spec);
	}
	xfree(l->items);
	xfree(l);
}

static int
in_mynetworks(const struct ps_access_list *l, const char *addr)
{
	struct buf err = BUF_INIT;
	int rc = 0;

	if (l->mynetworks != NULL &&
	    (rc = match_list_client(l->mynetworks, "", addr, 1, &err)) < 0)
		msg_warn("mynetworks: lookup of [%s]: %s", addr,
			 buf_cstr(&err));
	buf_free(&err);
	return rc > 0;
}

/* A table's value: the commands of an access list without tables;
 * PS_ACCESS_DUNNO when none fires. */
static enum ps_access
eval_value(const struct ps_access_list *l, const struct entry *e,
	   const char *value, const char *addr)
{
	char **words = str_split(value, ", \t\r\n", NULL);
	enum ps_access res = PS_ACCESS_DUNNO;
	int done = 0;

	for (size_t i = 0; words[i] != NULL && !done; i++) {
		switch (ps_access_word(words[i])) {
		case E_PERMIT:
			res = PS_ACCESS_PERMIT;
			done = 1;
			break;
		case E_REJECT:
			res = PS_ACCESS_REJECT;
			done = 1;
			break;
		case E_DUNNO:
			done = 1;
			break;
		case E_MYNETWORKS:
			if (in_mynetworks(l, addr)) {
				res = PS_ACCESS_PERMIT;
				done = 1;
			}
			break;
		default:
			msg_warn("postscreen_access_list: %s: [%s]: unknown "
				 "command \"%s\" in the table's value: ignored",
				 e->spec, addr, words[i]);
		}
	}
	str_list_free(words);
	return res;
}

enum ps_access
ps_access_eval(const struct ps_access_list *l, const char *addr)
{
	struct buf value = BUF_INIT, err = BUF_INIT;
	enum ps_access res = PS_ACCESS_DUNNO;
	int rc;

	for (size_t i = 0; i < l->count; i++) {
		const struct entry *e = &l->items[i];

		switch (e->kind) {
		case E_PERMIT:
			res = PS_ACCESS_PERMIT;
			goto done;
		case E_REJECT:
			res = PS_ACCESS_REJECT;
			goto done;
		case E_DUNNO:
			goto done;
		case E_MYNETWORKS:
			if (in_mynetworks(l, addr)) {
				res = PS_ACCESS_PERMIT;
				goto done;
			}
			break;
		case E_TABLE:
			rc = maps_lookup(e->maps, addr, &value, &err);
			if (rc < 0) {
				msg_warn("postscreen_access_list: %s: lookup "
					 "of [%s]: %s",
					 e->spec, addr, buf_cstr(&err));
				buf_reset(&err);
			} else if (rc > 0) {
				res = eval_value(l, e, buf_cstr(&value), addr);
				if (res != PS_ACCESS_DUNNO)
					goto done;
			}
			break;
		}
	}
done:
	buf_free(&value);
	buf_free(&err);
	return res;
}
