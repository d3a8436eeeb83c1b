/*
 * sasl_memdb - a sasldb's passwords in memory, served by an in-process
 * libsasl2 auxprop plugin; see sasl_memdb.h.
 *
 * The table is sorted by (user, realm) once at load time and searched
 * with bsearch: a lookup costs no allocation and no file access, which is
 * the point (the process may be chrooted by then).
 */
#include <stdlib.h>
#include <string.h>

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

#include "msg.h"
#include "sasl_memdb.h"
#include "sasldb.h"
#include "xalloc.h"

/* libsasl2 0x10, SASL_AUXPROP_VERIFY_AGAINST_HASH: the value in
 * userPassword is the one to check, ours replaces it. */
#ifndef SASL_AUXPROP_VERIFY_AGAINST_HASH
#define SASL_AUXPROP_VERIFY_AGAINST_HASH 0x10
#endif

/* "user@realm" as libsasl2 gives it: both parts bounded as in sasldb. */
#define FULL_NAME_MAX (2 * SASLDB_NAME_MAX + 1)

struct memdb_user {
	char *user;
	char *realm;
	char *password; /* NUL-terminated, len bytes before the NUL */
	size_t len;
};

struct memdb_table {
	struct memdb_user *v;
	size_t n;
	size_t cap;
};

static struct memdb_table table;

/* --- the table ---------------------------------------------------------- */

static int
user_cmp(const void *a, const void *b)
{
	const struct memdb_user *x = a, *y = b;
	int c = strcmp(x->user, y->user);

	return c != 0 ? c : strcmp(x->realm, y->realm);
}

static void
table_add(const char *user, const char *realm, const char *password, size_t len,
	  void *ctx)
{
	struct memdb_table *t = ctx;
	struct memdb_user *u;

	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		t->v = xreallocarray(t->v, t->cap, sizeof(*t->v));
	}
	u = &t->v[t->n++];
	u->user = xstrdup(user);
	u->realm = xstrdup(realm);
	u->password = xmemdup(password, len + 1);
	u->len = len;
}

static void
table_free(struct memdb_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		explicit_bzero(t->v[i].password, t->v[i].len);
		xfree(t->v[i].password);
		xfree(t->v[i].user);
		xfree(t->v[i].realm);
	}
	xfree(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

int
sasl_memdb_load(const char *path, struct buf *err)
{
	struct memdb_table fresh = {NULL, 0, 0};
	int count;

	count = sasldb_passwords(path, table_add, &fresh);
	if (count < 0) {
		table_free(&fresh);
		buf_printf(err, "cannot read SASL database %s", path);
		return -1;
	}
	if (count == 0)
		msg_warn("SASL database %s: no users (missing or empty)", path);
	if (fresh.n > 1)
		qsort(fresh.v, fresh.n, sizeof(*fresh.v), user_cmp);
	table_free(&table);
	table = fresh;
	return count;
}

void
sasl_memdb_clear(void)
{
	table_free(&table);
}

size_t
sasl_memdb_users(void)
{
	return table.n;
}

/* The entry of name as libsasl2 gives it ("user" or "user@realm"), else
 * NULL; realm names the default realm. */
static const struct memdb_user *
table_find(const char *name, unsigned nlen, const char *realm)
{
	char buf[FULL_NAME_MAX + 1];
	struct memdb_user key;
	char *at;

	if (nlen == 0 || nlen > FULL_NAME_MAX || table.n == 0 ||
	    memchr(name, '\0', nlen) != NULL)
		return NULL;
	memcpy(buf, name, nlen);
	buf[nlen] = '\0';
	key.user = buf;
	if ((at = strchr(buf, '@')) != NULL) {
		*at = '\0';
		key.realm = at + 1;
	} else if (realm != NULL) {
		key.realm = (char *)realm;
	} else {
		return NULL;
	}
	return bsearch(&key, table.v, table.n, sizeof(*table.v), user_cmp);
}

/* --- the auxprop plugin -------------------------------------------------- */

static int
memdb_lookup(void *glob_context, sasl_server_params_t *sparams, unsigned flags,
	     const char *name, unsigned nlen)
{
	const sasl_utils_t *utils;
	const struct memdb_user *u;
	const struct propval *cur;
	const char *realm;
	int authzid = (flags & SASL_AUXPROP_AUTHZID) != 0;
	int looked_up = 0;

	(void)glob_context;
	if (sparams == NULL || name == NULL)
		return SASL_BADPARAM;
	utils = sparams->utils;
	realm = sparams->user_realm != NULL && *sparams->user_realm != '\0'
		    ? sparams->user_realm
		    : sparams->serverFQDN;
	u = table_find(name, nlen, realm);
	if ((cur = utils->prop_get(sparams->propctx)) == NULL)
		return SASL_NOMEM;
	for (; cur->name != NULL; cur++) {
		const char *prop = cur->name;
		int is_password;

		/* '*' marks the properties of the authentication id. */
		if ((prop[0] == '*') == authzid)
			continue;
		if (!authzid)
			prop++;
		is_password = strcmp(prop, SASL_AUX_PASSWORD_PROP) == 0;
		if (cur->values != NULL) {
			if (!(flags & SASL_AUXPROP_OVERRIDE) &&
			    !(is_password &&
			      (flags & SASL_AUXPROP_VERIFY_AGAINST_HASH)))
				continue;
			utils->prop_erase(sparams->propctx, cur->name);
		}
		looked_up = 1;
		if (u == NULL || !is_password)
			continue;
		/* A length of 0 means strlen() to prop_set: the same
		 * here (sasldb.h: no NUL byte in a password). */
		if (utils->prop_set(sparams->propctx, cur->name, u->password,
				    (int)u->len) != SASL_OK)
			return SASL_NOMEM;
	}
	/* libsasl2 cannot take SASL_NOUSER for an authorization id. */
	if (authzid || u != NULL || !looked_up)
		return SASL_OK;
	return SASL_NOUSER;
}

static char plugin_name[] = SASL_MEMDB_PLUGIN;

static sasl_auxprop_plug_t memdb_plugin = {
    .features = 0,
    .spare_int1 = 0,
    .glob_context = NULL,
    .auxprop_free = NULL, /* the table is ours: sasl_memdb_clear() */
    .auxprop_lookup = memdb_lookup,
    .name = plugin_name,
    .auxprop_store = NULL,
};

static int
memdb_init(const sasl_utils_t *utils, int max_version, int *out_version,
	   sasl_auxprop_plug_t **plug, const char *plugname)
{
	(void)utils;
	(void)plugname;
	if (out_version == NULL || plug == NULL)
		return SASL_BADPARAM;
	if (max_version < SASL_AUXPROP_PLUG_VERSION)
		return SASL_BADVERS;
	*out_version = SASL_AUXPROP_PLUG_VERSION;
	*plug = &memdb_plugin;
	return SASL_OK;
}

int
sasl_memdb_register(void)
{
	return sasl_auxprop_add_plugin(SASL_MEMDB_PLUGIN, memdb_init);
}
