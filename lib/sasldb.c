/*
 * sasldb - read the users of a libsasl2 sasldb; see sasldb.h.
 *
 * Values are read with DB_DBT_USERMEM | DB_DBT_PARTIAL into one bounded
 * buffer of ours, so that an over-long value cannot make us allocate and
 * a password can be wiped after use (Berkeley DB's own page cache is
 * freed unwiped when the handle closes: that much is out of our hands).
 */
#include <db.h>
#include <errno.h>
#include <string.h>

#include "msg.h"
#include "sasldb.h"

/* Splits key into its three NUL-separated parts; 0 or -1. */
static int
sasldb_split(const char *key, size_t len, char *user, char *realm,
	     const char **prop, size_t *prop_len)
{
	const char *p = key, *end = key + len;
	const char *nul1 = memchr(p, '\0', len);
	const char *nul2;

	if (nul1 == NULL)
		return -1;
	nul2 = memchr(nul1 + 1, '\0', (size_t)(end - nul1 - 1));
	if (nul2 == NULL)
		return -1;
	if (nul1 == p || (size_t)(nul1 - p) > SASLDB_NAME_MAX ||
	    (size_t)(nul2 - nul1 - 1) > SASLDB_NAME_MAX)
		return -1;
	for (const char *c = p; c < nul2; c++)
		if (c != nul1 && (unsigned char)*c < 0x20)
			return -1;
	memcpy(user, p, (size_t)(nul1 - p));
	user[nul1 - p] = '\0';
	memcpy(realm, nul1 + 1, (size_t)(nul2 - nul1 - 1));
	realm[nul2 - nul1 - 1] = '\0';
	*prop = nul2 + 1;
	*prop_len = (size_t)(end - nul2 - 1);
	return 0;
}

typedef void walk_fn(const char *user, const char *realm, const char *value,
		     size_t len, void *ctx);

/* Calls fn for each user with a userPassword; the value is given only
 * when want_value is set (else fn gets "" and 0: libsasl2's values are
 * never even copied out of the database). */
static int
sasldb_walk(const char *path, int want_value, walk_fn *fn, void *ctx)
{
	static const char want[] = "userPassword";
	char user[SASLDB_NAME_MAX + 1], realm[SASLDB_NAME_MAX + 1];
	char value[SASLDB_VALUE_MAX + 2]; /* one byte over: too long */
	DB *db = NULL;
	DBC *cur = NULL;
	DBT key, data;
	int ret, count = 0;
	const char *prop;
	size_t prop_len;

	if (db_create(&db, NULL, 0) != 0)
		return -1;
	ret = db->open(db, NULL, path, NULL, DB_UNKNOWN, DB_RDONLY, 0);
	if (ret != 0) {
		db->close(db, 0);
		return ret == ENOENT ? 0 : -1;
	}
	if (db->cursor(db, NULL, &cur, 0) != 0) {
		db->close(db, 0);
		return -1;
	}
	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	/* Values land in our buffer, bounded, so that they can be wiped. */
	data.data = value;
	data.ulen = data.dlen = want_value ? SASLDB_VALUE_MAX + 1 : 0;
	data.flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;
	while ((ret = cur->get(cur, &key, &data, DB_NEXT)) == 0) {
		if (sasldb_split(key.data, key.size, user, realm, &prop,
				 &prop_len) < 0)
			continue;
		if (prop_len != sizeof(want) - 1 ||
		    memcmp(prop, want, prop_len) != 0)
			continue;
		if (want_value && (data.size > SASLDB_VALUE_MAX ||
				   memchr(value, '\0', data.size) != NULL)) {
			msg_warn("%s: password of %s@%s: too long or has a "
				 "NUL byte; user skipped",
				 path, user, realm);
			explicit_bzero(value, sizeof(value));
			continue;
		}
		value[want_value ? data.size : 0] = '\0';
		fn(user, realm, value, want_value ? data.size : 0, ctx);
		explicit_bzero(value, sizeof(value));
		count++;
	}
	if (ret != DB_NOTFOUND)
		msg_warn("%s: read error: %s", path, db_strerror(ret));
	cur->close(cur);
	db->close(db, 0);
	return count;
}

struct users_ctx {
	void (*fn)(const char *user, const char *realm, void *ctx);
	void *ctx;
};

static void
users_fn(const char *user, const char *realm, const char *value, size_t len,
	 void *ctx)
{
	struct users_ctx *uc = ctx;

	(void)value;
	(void)len;
	uc->fn(user, realm, uc->ctx);
}

int
sasldb_users(const char *path,
	     void (*fn)(const char *user, const char *realm, void *ctx),
	     void *ctx)
{
	struct users_ctx uc = {fn, ctx};

	return sasldb_walk(path, 0, users_fn, &uc);
}

int
sasldb_passwords(const char *path,
		 void (*fn)(const char *user, const char *realm,
			    const char *password, size_t len, void *ctx),
		 void *ctx)
{
	return sasldb_walk(path, 1, fn, ctx);
}
