/*
 * mailbox_virtual - a virtual mailbox's path and owner from its address
 * (contract in mailbox.h), for the virtual delivery agent and for
 * pop3session's user@domain logins, so that a user reads exactly the
 * mailbox mail to the address lands in.
 *
 * Each table is searched alone in Postfix's virtual(8) order:
 * "user+ext@domain" (when the local part has a recipient_delimiter
 * extension), "user@domain", "@domain".  The path must stay below
 * virtual_mailbox_base: a result with a ".." component (a row a web
 * front end wrote into a SQL table, say) is a configuration error, as is
 * a missing or non-numeric uid or gid, a uid below virtual_minimum_uid,
 * and mail_owner's uid (DESIGN.md, rule 4: a user's mail is never
 * handled by the owner of the queue).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "mailbox.h"
#include "maps.h"
#include "priv.h"
#include "strutil.h"
#include "xalloc.h"

struct mailbox_virtual {
	char *base; /* without trailing '/' */
	struct maps *mailbox_maps, *uid_maps, *gid_maps;
	int enabled; /* virtual_mailbox_maps is not empty */
	long long minimum_uid;
	char *delimiter;
	int as_root;
	uid_t owner_uid; /* mail_owner, when as_root */
};

struct mailbox_virtual *
mailbox_virtual_open(int as_root, int owners, struct buf *err)
{
	struct mailbox_virtual *v = xcalloc(1, sizeof(*v));
	const char *maps = conf_str("virtual_mailbox_maps");
	gid_t gid;
	int dummy;

	v->base = mailbox_strip_slash(conf_str("virtual_mailbox_base"), &dummy);
	v->enabled = strspn(maps, " \t,") != strlen(maps);
	v->minimum_uid = conf_int("virtual_minimum_uid");
	v->delimiter = xstrdup(conf_str("recipient_delimiter"));
	v->as_root = as_root;
	if ((v->mailbox_maps = maps_open(maps, err)) == NULL ||
	    (v->uid_maps = maps_open(owners ? conf_str("virtual_uid_maps") : "",
				     err)) == NULL ||
	    (v->gid_maps = maps_open(owners ? conf_str("virtual_gid_maps") : "",
				     err)) == NULL ||
	    (owners && as_root &&
	     priv_lookup_user(conf_str("mail_owner"), &v->owner_uid, &gid,
			      err) < 0)) {
		mailbox_virtual_close(v);
		return NULL;
	}
	return v;
}

int
mailbox_virtual_enabled(const struct mailbox_virtual *v)
{
	return v != NULL && v->enabled;
}

int
mailbox_virtual_changed(const struct mailbox_virtual *v)
{
	return v != NULL &&
	       (maps_changed(v->mailbox_maps) || maps_changed(v->uid_maps) ||
		maps_changed(v->gid_maps));
}

void
mailbox_virtual_close(struct mailbox_virtual *v)
{
	if (v == NULL)
		return;
	if (v->mailbox_maps)
		maps_close(v->mailbox_maps);
	if (v->uid_maps)
		maps_close(v->uid_maps);
	if (v->gid_maps)
		maps_close(v->gid_maps);
	xfree(v->base);
	xfree(v->delimiter);
	xfree(v);
}

/* The keys of addr (lower case) in search order; NULL-terminated, for
 * str_list_free(). */
static char **
search_keys(const struct mailbox_virtual *v, const char *addr)
{
	char **keys = xcalloc(4, sizeof(*keys));
	const char *at = strrchr(addr, '@');
	size_t local_len = (size_t)(at - addr), n = 0, base_len;
	struct buf key = BUF_INIT;

	keys[n++] = xstrdup(addr);
	base_len = *v->delimiter ? strcspn(addr, v->delimiter) : local_len;
	/* "+ext" alone is a name, not an extension of nothing. */
	if (base_len > 0 && base_len < local_len) {
		buf_append(&key, addr, base_len);
		buf_puts(&key, at);
		keys[n++] = buf_steal(&key);
	}
	keys[n++] = xstrdup(at);
	return keys;
}

/* 1 found, 0 not, -1 a table that cannot answer (why set). */
static int
find(struct maps *m, char **keys, struct buf *value, struct buf *why)
{
	struct buf err = BUF_INIT;
	int r = 0;

	for (size_t i = 0; keys[i] != NULL && r == 0; i++)
		r = maps_lookup(m, keys[i], value, &err);
	if (r < 0)
		buf_printf(why, "%s", buf_cstr(&err));
	buf_free(&err);
	return r;
}

/* A decimal id of a table's result: 0, or -1. */
static int
parse_id(const char *s, long long *id)
{
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		return -1;
	*id = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || *id > 0x7fffffffLL)
		return -1;
	return 0;
}

/* No ".." component: the path stays below virtual_mailbox_base. */
static int
path_ok(const char *p)
{
	size_t n;

	if (*p == '\0')
		return 0;
	for (;;) {
		p += strspn(p, "/");
		n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return 0;
		if (p[n] == '\0')
			return 1;
		p += n;
	}
}

/* One id of user (table named by param), checked: 1, 0 not found, -1
 * table error, MAILBOX_VIRTUAL_CONFIG. */
static int
find_id(struct maps *m, const char *param, char **keys, const char *addr,
	long long *id, struct buf *why)
{
	struct buf value = BUF_INIT;
	int r = find(m, keys, &value, why);

	if (r == 0) {
		buf_printf(why, "recipient %s: no entry in %s", addr, param);
		r = MAILBOX_VIRTUAL_CONFIG;
	} else if (r > 0 && parse_id(buf_cstr(&value), id) < 0) {
		buf_printf(why, "recipient %s: bad %s result \"%s\"", addr,
			   param, buf_cstr(&value));
		r = MAILBOX_VIRTUAL_CONFIG;
	}
	buf_free(&value);
	return r;
}

int
mailbox_virtual_known(const struct mailbox_virtual *v, const char *address,
		      struct buf *why)
{
	struct buf value = BUF_INIT;
	char *addr = xstrdup(address);
	char **keys;
	int r = 0;

	buf_set(why, "");
	str_lower(addr);
	if (v->enabled && strrchr(addr, '@') != NULL && *addr != '@') {
		keys = search_keys(v, addr);
		r = find(v->mailbox_maps, keys, &value, why);
		str_list_free(keys);
	}
	xfree(addr);
	buf_free(&value);
	return r;
}

int
mailbox_virtual_find(const struct mailbox_virtual *v, const char *address,
		     struct mailbox_user *u, struct buf *why)
{
	struct buf value = BUF_INIT, path = BUF_INIT;
	char *addr = xstrdup(address);
	char **keys = NULL;
	long long uid = 0, gid = 0;
	size_t n;
	int r;

	memset(u, 0, sizeof(*u));
	buf_set(why, "");
	str_lower(addr);
	if (!v->enabled || strrchr(addr, '@') == NULL || *addr == '@') {
		r = 0;
		goto done;
	}
	keys = search_keys(v, addr);
	if ((r = find(v->mailbox_maps, keys, &value, why)) <= 0)
		goto done;
	if (!path_ok(buf_cstr(&value))) {
		buf_printf(why,
			   "recipient %s: virtual_mailbox_maps result \"%s\" "
			   "leaves virtual_mailbox_base",
			   addr, buf_cstr(&value));
		r = MAILBOX_VIRTUAL_CONFIG;
		goto done;
	}
	if ((r = find_id(v->uid_maps, "virtual_uid_maps", keys, addr, &uid,
			 why)) <= 0 ||
	    (r = find_id(v->gid_maps, "virtual_gid_maps", keys, addr, &gid,
			 why)) <= 0)
		goto done;
	if (uid < v->minimum_uid || uid == 0 ||
	    (v->as_root && (uid_t)uid == v->owner_uid)) {
		buf_printf(why, "recipient %s: uid %lld %s", addr, uid,
			   uid < v->minimum_uid
			       ? "is below virtual_minimum_uid"
			       : "is mail_owner's or root's: refused");
		r = MAILBOX_VIRTUAL_CONFIG;
		goto done;
	}
	buf_printf(&path, "%s/%s", v->base,
		   buf_cstr(&value) + strspn(buf_cstr(&value), "/"));
	n = path.len;
	u->maildir = path.data[n - 1] == '/';
	while (n > 1 && path.data[n - 1] == '/')
		n--;
	buf_truncate(&path, n);
	u->name = xstrdup(addr);
	u->mailbox = buf_steal(&path);
	u->uid = v->as_root ? (uid_t)uid : geteuid();
	u->gid = v->as_root ? (gid_t)gid : getegid();
	r = 1;
done:
	if (keys)
		str_list_free(keys);
	xfree(addr);
	buf_free(&value);
	buf_free(&path);
	return r;
}
