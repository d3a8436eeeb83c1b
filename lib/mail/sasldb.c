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
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "iostuff.h"

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

/* The child's end of the pipe: one "user NUL realm NUL" per user. */
static void
users_send(const char *user, const char *realm, void *ctx)
{
	struct buf *out = ctx;

	buf_append(out, user, strlen(user) + 1);
	buf_append(out, realm, strlen(realm) + 1);
}

/*
 * The walk runs in a child that sends only the names: Berkeley DB reads
 * whole pages, passwords included, into a cache that it frees unwiped,
 * and a caller such as smtpd must not keep them in its heap.  The child's
 * memory goes back to the kernel with it.
 */
int
sasldb_users(const char *path,
	     void (*fn)(const char *user, const char *realm, void *ctx),
	     void *ctx)
{
	struct buf names = BUF_INIT;
	char chunk[4096], tail[32];
	int p[2], status, count = -1;
	ssize_t n;
	pid_t pid;

	/* No sasldb, no users (as sasldb_walk says), and no fork: a fork
	 * costs milliseconds at every smtpd start on some virtual machines. */
	if (*path == '\0' || (access(path, F_OK) < 0 && errno == ENOENT))
		return 0;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		struct users_ctx uc = {users_send, &names};
		int got;

		close(p[0]);
		got = sasldb_walk(path, 0, users_fn, &uc);
		/* The count last, after a \1 that no name has (control
		 * characters are skipped): a child that died early shows. */
		snprintf(tail, sizeof(tail), "\1%d", got);
		buf_append(&names, tail, strlen(tail) + 1);
		_exit(io_write_full(p[1], names.data, names.len, -1) == 0 ? 0
									  : 1);
	}
	close(p[1]);
	while ((n = read(p[0], chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		buf_append(&names, chunk, (size_t)n);
	}
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	/* Pairs of NUL-terminated strings, then "\1N". */
	for (size_t at = 0; at < names.len;) {
		const char *user = names.data + at;
		size_t ulen = strnlen(user, names.len - at);
		if (at + ulen == names.len)
			break; /* unterminated: cut short */
		if (user[0] == '\1') {
			count = atoi(user + 1);
			break;
		}
		const char *realm = user + ulen + 1;
		size_t rest = names.len - at - ulen - 1;
		size_t rlen = strnlen(realm, rest);
		if (rlen == rest)
			break;
		fn(user, realm, ctx);
		at += ulen + 1 + rlen + 1;
	}
	buf_free(&names);
	return count;
}

int
sasldb_passwords(const char *path,
		 void (*fn)(const char *user, const char *realm,
			    const char *password, size_t len, void *ctx),
		 void *ctx)
{
	return sasldb_walk(path, 1, fn, ctx);
}
