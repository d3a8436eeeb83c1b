/*
 * alias - aliases(5) value parsing and expansion; see alias.h.
 *
 * Pure: the lookups and :include: reads are the caller's callbacks, so
 * the unit tests drive every rule (loops, owners, includes) with tables
 * in memory.
 */
#include <string.h>

#include "alias.h"
#include "strutil.h"
#include "xalloc.h"

void
alias_list_free(struct alias_list *list)
{
	for (size_t i = 0; i < list->count; i++) {
		xfree(list->items[i].value);
		xfree(list->items[i].owner);
		xfree(list->items[i].include);
	}
	xfree(list->items);
	list->items = NULL;
	list->count = list->cap = 0;
}

static struct alias_item *
list_add(struct alias_list *list, enum alias_kind kind, const char *value)
{
	struct alias_item *it;

	if (list->count == list->cap) {
		list->cap = list->cap ? list->cap * 2 : 8;
		list->items =
		    xreallocarray(list->items, list->cap, sizeof(*list->items));
	}
	it = &list->items[list->count++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->value = xstrdup(value);
	return it;
}

static void
list_truncate(struct alias_list *list, size_t count)
{
	while (list->count > count) {
		struct alias_item *it = &list->items[--list->count];
		xfree(it->value);
		xfree(it->owner);
		xfree(it->include);
	}
	/* An empty list owns no memory, even after an error. */
	if (list->count == 0) {
		xfree(list->items);
		list->items = NULL;
		list->cap = 0;
	}
}

static int
has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			return 1;
	return 0;
}

/* An address: no control characters, blanks only inside quotes. */
static int
address_ok(const char *s)
{
	int quoted = 0;

	if (*s == '\0' || has_ctl(s))
		return 0;
	for (; *s; s++) {
		if (*s == '"')
			quoted = !quoted;
		else if (*s == '\\' && quoted && s[1])
			s++;
		else if (!quoted && (*s == ' ' || *s == '\t' || *s == ',' ||
				     *s == '<' || *s == '>'))
			return 0;
	}
	return !quoted;
}

/* Unquotes an item that is one quoted string; 0 when it is not one. */
static int
unquote_whole(const char *s, size_t len, struct buf *out)
{
	size_t i;

	if (len < 2 || s[0] != '"' || s[len - 1] != '"')
		return 0;
	buf_reset(out);
	for (i = 1; i < len - 1; i++) {
		if (s[i] == '\\' && i + 1 < len - 1) {
			buf_putc(out, s[++i]);
			continue;
		}
		if (s[i] == '"')
			return 0; /* "a"@"b": quotes inside, not one string */
		buf_putc(out, s[i]);
	}
	return 1;
}

static int
item_error(struct buf *err, const char *text, const char *item)
{
	buf_set(err, "");
	buf_printf(err, "%s: \"%.64s%s\"", text, item,
		   strlen(item) > 64 ? "..." : "");
	return -1;
}

/* Classifies one trimmed item (len bytes at s) and appends it. */
static int
parse_item(const char *s, size_t len, struct alias_list *list, struct buf *err)
{
	struct buf text = BUF_INIT;
	const char *v, *lt, *gt;
	int quoted, ret = 0;

	if (len > ALIAS_ITEM_MAX) {
		buf_set(err, "alias item too long");
		return -1;
	}
	quoted = unquote_whole(s, len, &text);
	if (!quoted) {
		buf_reset(&text);
		buf_append(&text, s, len);
	}
	v = buf_cstr(&text);
	if (*v == '|') {
		if (has_ctl(v) || v[1] == '\0')
			ret = item_error(err, "bad command", v);
		else
			list_add(list, ALIAS_COMMAND, v + 1);
	} else if (*v == '/') {
		if (has_ctl(v))
			ret = item_error(err, "bad file name", v);
		else
			list_add(list, ALIAS_FILE, v);
	} else if (str_ncasecmp(v, ":include:", 9) == 0) {
		v += 9;
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v != '/' || has_ctl(v))
			ret = item_error(err, "bad :include: file name", v);
		else
			list_add(list, ALIAS_INCLUDE, v);
	} else if (*v == '\\' && !quoted) {
		if (!address_ok(v + 1))
			ret = item_error(err, "bad address", v);
		else
			list_add(list, ALIAS_ADDR, v + 1)->noexpand = 1;
	} else {
		/* "Name <addr>": the address is what is in angle brackets. */
		if (!quoted && (gt = strrchr(v, '>')) != NULL &&
		    gt[1] == '\0' && (lt = strrchr(v, '<')) != NULL &&
		    lt < gt) {
			buf_set(&text, "");
			buf_append(&text, lt + 1, (size_t)(gt - lt - 1));
			v = buf_cstr(&text);
		} else if (quoted) {
			/* A quoted address keeps its quotes. */
			buf_reset(&text);
			buf_append(&text, s, len);
			v = buf_cstr(&text);
		}
		if (!address_ok(v))
			ret = item_error(err, "bad address", v);
		else
			list_add(list, ALIAS_ADDR, v);
	}
	buf_free(&text);
	return ret;
}

int
alias_parse(const char *value, struct alias_list *list, struct buf *err)
{
	size_t start_count = list->count;
	const char *p = value, *start, *end;
	int quoted;

	while (*p) {
		quoted = 0;
		start = p;
		for (; *p && (quoted || *p != ','); p++) {
			if (*p == '"')
				quoted = !quoted;
			else if (*p == '\\' && quoted && p[1])
				p++;
		}
		if (quoted) {
			list_truncate(list, start_count);
			return item_error(err, "unbalanced quotes", start);
		}
		end = p;
		if (*p == ',')
			p++;
		while (start < end && (*start == ' ' || *start == '\t' ||
				       *start == '\n' || *start == '\r'))
			start++;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t' ||
				       end[-1] == '\n' || end[-1] == '\r'))
			end--;
		if (start == end)
			continue;
		if (list->count - start_count >= ALIAS_ITEMS_MAX) {
			list_truncate(list, start_count);
			buf_set(err, "too many items in one alias");
			return -1;
		}
		if (parse_item(start, (size_t)(end - start), list, err) < 0) {
			list_truncate(list, start_count);
			return -1;
		}
	}
	return 0;
}

int
alias_parse_include(const char *text, size_t len, struct alias_list *list,
		    struct buf *err)
{
	struct buf line = BUF_INIT;
	size_t start_count = list->count;
	const char *p = text, *end = text + len, *nl, *s;
	int ret = 0;

	if (len > ALIAS_INCLUDE_MAX || memchr(text, '\0', len) != NULL) {
		buf_set(err, len > ALIAS_INCLUDE_MAX ? "file too large"
						     : "file contains NUL");
		return -1;
	}
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		buf_reset(&line);
		buf_append(&line, p, nl ? (size_t)(nl - p) : (size_t)(end - p));
		p = nl ? nl + 1 : end;
		for (s = buf_cstr(&line); *s == ' ' || *s == '\t'; s++)
			;
		if (*s == '#' || *s == '\0')
			continue;
		if ((ret = alias_parse(s, list, err)) < 0)
			break;
		if (list->count - start_count > ALIAS_ITEMS_MAX) {
			buf_set(err, "too many items in one file");
			ret = -1;
			break;
		}
	}
	if (ret < 0)
		list_truncate(list, start_count);
	buf_free(&line);
	return ret;
}

/* Expansion. */

struct expand_state {
	const struct alias_ops *ops;
	struct alias_list *out;
	struct buf *why;
	const char *chain[ALIAS_DEPTH_MAX + 1]; /* aliases being expanded */
	int depth; /* nesting of aliases and includes */
};

static int expand_name(struct expand_state *st, const char *name,
		       const char *owner);

static int
expand_fail(struct expand_state *st, const char *dsn, const char *fmt,
	    const char *arg)
{
	buf_set(st->why, dsn);
	buf_putc(st->why, ' ');
	buf_printf(st->why, fmt, arg);
	return -1;
}

static int
add_target(struct expand_state *st, enum alias_kind kind, const char *value,
	   const char *owner, const char *include)
{
	struct alias_item *it;

	for (size_t i = 0; i < st->out->count; i++) {
		it = &st->out->items[i];
		if (it->kind == kind && strcmp(it->value, value) == 0)
			return 0;
	}
	if (st->out->count >= ALIAS_TARGETS_MAX)
		return expand_fail(st, "5.4.6",
				   "alias expansion of %s has too many "
				   "recipients",
				   st->chain[0]);
	it = list_add(st->out, kind, value);
	it->owner = owner ? xstrdup(owner) : NULL;
	it->include = include ? xstrdup(include) : NULL;
	return 0;
}

static int
in_chain(const struct expand_state *st, const char *name)
{
	for (int i = 0; i < st->depth; i++)
		if (st->chain[i] && strcmp(st->chain[i], name) == 0)
			return 1;
	return 0;
}

/* One address item of alias name. */
static int
expand_addr(struct expand_state *st, const struct alias_item *it,
	    const char *name, const char *owner, const char *include)
{
	char *local, *at;
	int r;

	local = xstrdup(it->value);
	at = strrchr(local, '@');
	if (at != NULL) {
		if (!st->ops->is_local(at + 1, st->ops->ctx)) {
			xfree(local);
			return add_target(st, ALIAS_REMOTE, it->value, owner,
					  include);
		}
		*at = '\0';
	}
	str_lower(local);
	if (*local == '\0') {
		r = expand_fail(st, "5.3.5", "alias %s: empty local part",
				name);
	} else if (it->noexpand || strcmp(local, name) == 0) {
		r = add_target(st, ALIAS_MAILBOX, local, owner, include);
	} else if (in_chain(st, local)) {
		r = expand_fail(st, "5.4.6", "mail forwarding loop for %s",
				local);
	} else {
		r = expand_name(st, local, owner);
		if (r == 0)
			r = add_target(st, ALIAS_MAILBOX, local, owner,
				       include);
		else if (r > 0)
			r = 0;
	}
	xfree(local);
	return r;
}

static int
expand_items(struct expand_state *st, const struct alias_list *items,
	     const char *name, const char *owner, const char *include)
{
	struct alias_list sub = ALIAS_LIST_INIT;
	struct buf text = BUF_INIT, err = BUF_INIT;
	const struct alias_item *it;
	int r = 0;

	for (size_t i = 0; r == 0 && i < items->count; i++) {
		it = &items->items[i];
		switch (it->kind) {
		case ALIAS_ADDR:
			r = expand_addr(st, it, name, owner, include);
			break;
		case ALIAS_FILE:
		case ALIAS_COMMAND:
			r = add_target(st, it->kind, it->value, owner, include);
			break;
		case ALIAS_INCLUDE:
			if (st->depth >= ALIAS_DEPTH_MAX) {
				r = expand_fail(st, "5.4.6",
						"alias expansion of %s is "
						"nested too deeply",
						st->chain[0]);
				break;
			}
			if (st->ops->include(it->value, &text, st->why,
					     st->ops->ctx) < 0) {
				r = -1;
				break;
			}
			if (alias_parse_include(text.data ? text.data : "",
						text.len, &sub, &err) < 0) {
				buf_set(st->why, "");
				buf_printf(st->why, "5.3.5 %s: %s", it->value,
					   buf_cstr(&err));
				r = -1;
				break;
			}
			st->chain[st->depth++] = NULL;
			r = expand_items(st, &sub, name, owner, it->value);
			st->depth--;
			alias_list_free(&sub);
			break;
		default:
			break;
		}
	}
	alias_list_free(&sub);
	buf_free(&text);
	buf_free(&err);
	return r;
}

static int
lookup(struct expand_state *st, const char *name, struct buf *value)
{
	int r = st->ops->lookup(name, value, st->ops->ctx);

	if (r < 0)
		return expand_fail(st, "4.3.0",
				   "alias database unavailable (looking up "
				   "%s)",
				   name);
	return r;
}

/* The members of an alias come from the database, even when the alias
 * was named in an :include: file: they get no include path. */
static int
expand_name(struct expand_state *st, const char *name, const char *owner)
{
	struct alias_list items = ALIAS_LIST_INIT;
	struct buf value = BUF_INIT, err = BUF_INIT, oname = BUF_INIT;
	int r;

	if ((r = lookup(st, name, &value)) <= 0)
		goto done;
	if (st->depth >= ALIAS_DEPTH_MAX) {
		r = expand_fail(st, "5.4.6",
				"alias expansion of %s is nested too deeply",
				st->chain[0] ? st->chain[0] : name);
		goto done;
	}
	if (alias_parse(buf_cstr(&value), &items, &err) < 0) {
		buf_set(st->why, "");
		buf_printf(st->why, "5.3.5 alias %s: %s", name, buf_cstr(&err));
		r = -1;
		goto done;
	}
	/* owner-NAME receives the errors of list NAME. */
	buf_printf(&oname, "owner-%s", name);
	if (!str_has_prefix(name, "owner-")) {
		if ((r = lookup(st, buf_cstr(&oname), &value)) < 0)
			goto done;
		if (r > 0)
			owner = buf_cstr(&oname);
	}
	st->chain[st->depth++] = name;
	r = expand_items(st, &items, name, owner, NULL);
	st->depth--;
	if (r == 0)
		r = 1;
done:
	alias_list_free(&items);
	buf_free(&value);
	buf_free(&err);
	buf_free(&oname);
	return r;
}

int
alias_expand(const char *name, const struct alias_ops *ops,
	     struct alias_list *out, struct buf *why)
{
	struct expand_state st;
	size_t start_count = out->count;
	int r;

	memset(&st, 0, sizeof(st));
	st.ops = ops;
	st.out = out;
	st.why = why;
	r = expand_name(&st, name, NULL);
	if (r < 0)
		list_truncate(out, start_count);
	return r;
}
