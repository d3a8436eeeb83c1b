/*
 * ps_cache - postscreen's temporary allowlist (postscreen_cache_map).
 *
 * A Berkeley DB btree file ("btree:PATH", Postfix's default type), keyed
 * by the client address; the value is "GREET;DNSBL", the times (seconds
 * since the epoch) until which the client's pregreet and DNSBL tests
 * stay passed.  lib/maps tables are read-only, so postscreen writes this
 * one itself.  The file is opened before the jail, with mail_owner's
 * effective ids when postscreen starts as root (the file is then born
 * mail_owner's, and root follows no path in a folder mail_owner may
 * write, DESIGN.md rule 1), and used through that handle afterwards.
 * A missing folder (data_directory) is made for mail_owner first.
 * There is one postscreen process (maxproc 1), so no locking; an entry
 * is replaced when the client passes again.  Postfix's periodic cleanup
 * (postscreen_cache_cleanup_interval, _retention_time) is not done: the
 * file holds at most one small entry per client address ever seen to
 * pass.
 */
#include <db.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "msg.h"
#include "postscreen.h"
#include "priv.h"
#include "xalloc.h"

static DB *ps_db;

int
ps_cache_value_parse(const char *v, size_t len, long long *greet,
		     long long *dnsbl)
{
	char text[64], *end, *semi;

	if (len == 0 || len >= sizeof(text))
		return -1;
	memcpy(text, v, len);
	text[len] = '\0';
	if ((semi = strchr(text, ';')) == NULL)
		return -1;
	*semi = '\0';
	errno = 0;
	*greet = strtoll(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || *greet < 0)
		return -1;
	*dnsbl = strtoll(semi + 1, &end, 10);
	if (errno != 0 || end == semi + 1 || *end != '\0' || *dnsbl < 0)
		return -1;
	return 0;
}

/* A missing folder of the cache (data_directory at its first use) is
 * made by root for mail_owner, as Postfix's installation makes it: mode
 * 0700, given away through a descriptor.  An existing one is left as it
 * is. */
static void
make_folder(const char *path, uid_t uid, gid_t gid)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	int fd;

	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) == 0) {
			fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
			if (fd < 0 || fchown(fd, uid, gid) != 0)
				msg_warn("postscreen_cache_map: give %s to "
					 "mail_owner: %m",
					 dir);
			else
				msg_info("postscreen_cache_map: made %s for "
					 "mail_owner",
					 dir);
			if (fd >= 0)
				close(fd);
		}
	}
	xfree(dir);
}

/* Opens path with the effective ids of mail_owner when we are root. */
static int
open_as_owner(const char *path, struct buf *err)
{
	uid_t uid = geteuid(), owner_uid;
	gid_t gid = getegid(), owner_gid;
	int rc, as_owner = priv_is_root();

	if (as_owner) {
		if (priv_lookup_user(conf_str("mail_owner"), &owner_uid,
				     &owner_gid, err) < 0)
			return -1;
		make_folder(path, owner_uid, owner_gid);
		if (setegid(owner_gid) != 0 || seteuid(owner_uid) != 0)
			msg_fatal("postscreen_cache_map: switch to mail_owner: "
				  "%m");
	}
	rc = ps_db->open(ps_db, NULL, path, NULL, DB_BTREE, DB_CREATE, 0600);
	if (as_owner && (seteuid(uid) != 0 || setegid(gid) != 0))
		msg_fatal("postscreen_cache_map: switch back to root: %m");
	if (rc != 0) {
		buf_printf(err,
			   "cannot open %s: %s (its folder must exist and "
			   "be writable by mail_owner)",
			   path, db_strerror(rc));
		return -1;
	}
	return 0;
}

int
ps_cache_open(const char *spec, struct buf *err)
{
	int rc;

	if (*spec == '\0')
		return 0;
	if (strncmp(spec, "btree:", 6) != 0 || spec[6] != '/') {
		buf_printf(err,
			   "\"%s\": only btree:/absolute/path is supported "
			   "(postscreen writes the table)",
			   spec);
		return -1;
	}
	if ((rc = db_create(&ps_db, NULL, 0)) != 0) {
		buf_printf(err, "db_create: %s", db_strerror(rc));
		return -1;
	}
	if (open_as_owner(spec + 6, err) < 0) {
		ps_db->close(ps_db, 0);
		ps_db = NULL;
		return -1;
	}
	return 1;
}

int
ps_cache_get(const char *addr, long long *greet, long long *dnsbl)
{
	DBT key, val;
	int rc;

	if (ps_db == NULL)
		return 0;
	memset(&key, 0, sizeof(key));
	memset(&val, 0, sizeof(val));
	key.data = (void *)addr;
	key.size = (u_int32_t)strlen(addr);
	rc = ps_db->get(ps_db, NULL, &key, &val, 0);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != 0) {
		msg_warn("postscreen_cache_map: lookup of %s: %s", addr,
			 db_strerror(rc));
		return -1;
	}
	if (ps_cache_value_parse(val.data, val.size, greet, dnsbl) < 0) {
		msg_warn("postscreen_cache_map: malformed entry for %s: "
			 "ignored",
			 addr);
		return 0;
	}
	return 1;
}

void
ps_cache_put(const char *addr, long long greet, long long dnsbl)
{
	char text[64];
	DBT key, val;
	int rc;

	if (ps_db == NULL)
		return;
	memset(&key, 0, sizeof(key));
	memset(&val, 0, sizeof(val));
	key.data = (void *)addr;
	key.size = (u_int32_t)strlen(addr);
	val.size =
	    (u_int32_t)snprintf(text, sizeof(text), "%lld;%lld", greet, dnsbl);
	val.data = text;
	if ((rc = ps_db->put(ps_db, NULL, &key, &val, 0)) != 0 ||
	    (rc = ps_db->sync(ps_db, 0)) != 0)
		msg_warn("postscreen_cache_map: update of %s: %s", addr,
			 db_strerror(rc));
}

void
ps_cache_close(void)
{
	if (ps_db != NULL)
		ps_db->close(ps_db, 0);
	ps_db = NULL;
}
