/*
 * local_alias - alias_maps for local: opening, lookups, :include: files
 * and the local domain test, as the callbacks of alias_expand().
 *
 * alias_maps is opened once before serving.  A hash: table whose text
 * file and .db are both absent is skipped with a warning (a system with
 * no aliases file has no aliases); any other failure to open the tables
 * makes every alias lookup fail temporarily (4.3.0), as in Postfix, so
 * mail waits until the administrator runs newaliases.  Files and commands
 * of aliases run as the owner of the (first) alias database, or as
 * default_privs when root owns it; those of an :include: file as the
 * owner of that file, with the same rule.  :include: files are read with
 * those privileges too, never as root.  The owner of an :include: file
 * is the one fstat() gave for the very descriptor that was read, kept
 * for the expansion it was read in: never a second look up of the path,
 * which its owner could meanwhile turn into a link to someone else's
 * file (a path read twice in one expansion with two owners is refused).
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deliver_request.h"
#include "local.h"
#include "msg.h"
#include "strutil.h"
#include "xalloc.h"

/* The codec (lib/mail/deliver_request.h) bounds a reply's forwards for
 * the widest expansion alias.h allows. */
static_assert(DELIVER_FORWARD_MAX == 2 * ALIAS_TARGETS_MAX,
	      "a reply holds each alias target in a group of its own");

static int aliases_broken;

/* The :include: files read by the current expansion and their owners. */
struct include_owner {
	char *path;
	uid_t uid;
	gid_t gid;
	int conflict; /* read twice with two different owners */
};
static struct include_owner *includes;
static size_t nincludes;

static void
includes_reset(void)
{
	for (size_t i = 0; i < nincludes; i++)
		xfree(includes[i].path);
	xfree(includes);
	includes = NULL;
	nincludes = 0;
}

static void
includes_record(const char *path, const struct stat *st)
{
	for (size_t i = 0; i < nincludes; i++) {
		if (strcmp(includes[i].path, path) != 0)
			continue;
		if (includes[i].uid != st->st_uid ||
		    includes[i].gid != st->st_gid)
			includes[i].conflict = 1;
		return;
	}
	includes = xreallocarray(includes, nincludes + 1, sizeof(*includes));
	includes[nincludes].path = xstrdup(path);
	includes[nincludes].uid = st->st_uid;
	includes[nincludes].gid = st->st_gid;
	includes[nincludes].conflict = 0;
	nincludes++;
}

/* Who runs the files and commands of something owned by uid. */
static void
runner_ids(uid_t uid, gid_t gid, uid_t *ruid, gid_t *rgid)
{
	if (!local_cfg.as_root) {
		*ruid = geteuid();
		*rgid = getegid();
	} else if (uid == 0) {
		*ruid = local_cfg.privs_uid;
		*rgid = local_cfg.privs_gid;
	} else {
		*ruid = uid;
		*rgid = gid;
	}
}

/* Keeps the tables that exist in some form. */
static char *
existing_tables(const char *list, struct buf *first_db)
{
	struct buf kept = BUF_INIT, db = BUF_INIT;
	char **specs = maps_split(list, NULL, &db);
	const char *path;

	for (char **s = specs; *s; s++) {
		path = strncmp(*s, "hash:", 5) == 0    ? *s + 5
		       : strncmp(*s, "btree:", 6) == 0 ? *s + 6
						       : NULL;
		buf_reset(&db);
		if (path)
			buf_printf(&db, "%s.db", path);
		if (path && access(path, F_OK) < 0 &&
		    access(buf_cstr(&db), F_OK) < 0) {
			msg_warn("alias_maps: %s: neither %s nor %s exists; "
				 "no aliases from it",
				 *s, path, buf_cstr(&db));
			continue;
		}
		if (first_db->len == 0 && path)
			buf_set(first_db, buf_cstr(&db));
		buf_printf(&kept, "%s%s", kept.len ? ", " : "", *s);
	}
	str_list_free(specs);
	buf_free(&db);
	return buf_steal(&kept);
}

void
local_alias_open(const char *list)
{
	struct buf err = BUF_INIT, first_db = BUF_INIT;
	char *kept;
	struct stat st;

	/* A type Panacea lacks is a configuration error, not a table that
	 * is missing for now: stop at start (master checks it first). */
	if (maps_check(list, &err) < 0)
		msg_fatal("alias_maps: %s", buf_cstr(&err));
	kept = existing_tables(list, &first_db);

	local_cfg.aliases = maps_open(kept, &err);
	if (local_cfg.aliases == NULL) {
		msg_warn("alias_maps: %s; alias lookups will be deferred",
			 buf_cstr(&err));
		aliases_broken = 1;
	}
	if (first_db.len && stat(buf_cstr(&first_db), &st) == 0)
		runner_ids(st.st_uid, st.st_gid, &local_cfg.alias_uid,
			   &local_cfg.alias_gid);
	else
		runner_ids(0, 0, &local_cfg.alias_uid, &local_cfg.alias_gid);
	xfree(kept);
	buf_free(&err);
	buf_free(&first_db);
}

static int
alias_lookup(const char *name, struct buf *value, void *ctx)
{
	struct buf err = BUF_INIT;
	int r;

	(void)ctx;
	if (aliases_broken)
		return -1;
	r = maps_lookup(local_cfg.aliases, name, value, &err);
	if (r < 0)
		msg_warn("alias_maps: %s", buf_cstr(&err));
	buf_free(&err);
	return r;
}

int
local_include_owner(const char *path, uid_t *uid, gid_t *gid)
{
	for (size_t i = 0; i < nincludes; i++) {
		if (strcmp(includes[i].path, path) != 0)
			continue;
		if (includes[i].conflict)
			return -1;
		runner_ids(includes[i].uid, includes[i].gid, uid, gid);
		return 0;
	}
	return -1;
}

/* Reads an :include: file with the alias owner's effective ids. */
static int
alias_include(const char *path, struct buf *text, struct buf *why, void *ctx)
{
	struct stat st;
	ssize_t n;
	int fd, saved = 0;

	(void)ctx;
	if (local_cfg.as_root && (setegid(local_cfg.alias_gid) < 0 ||
				  seteuid(local_cfg.alias_uid) < 0))
		msg_fatal("cannot switch to uid %ld: %s",
			  (long)local_cfg.alias_uid, strerror(errno));
	buf_reset(text);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > ALIAS_INCLUDE_MAX) {
		saved = fd < 0 ? errno : EINVAL;
	} else {
		buf_reserve(text, (size_t)st.st_size);
		while (text->len <= ALIAS_INCLUDE_MAX) {
			char data[8192];
			if ((n = read(fd, data, sizeof(data))) < 0 &&
			    errno == EINTR)
				continue;
			if (n < 0)
				saved = errno;
			if (n <= 0)
				break;
			buf_append(text, data, (size_t)n);
		}
	}
	if (fd >= 0)
		close(fd);
	local_become_root();
	if (saved == 0 && text->len <= ALIAS_INCLUDE_MAX) {
		includes_record(path, &st);
		return 0;
	}
	buf_set(why, "");
	if (saved == ENOENT || saved == EINVAL || saved == ELOOP)
		buf_printf(why, "5.3.5 cannot use :include: file %s: %s", path,
			   saved == EINVAL ? "not a regular file or too large"
					   : strerror(saved));
	else
		buf_printf(why, "4.3.0 cannot read :include: file %s: %s", path,
			   strerror(saved ? saved : EFBIG));
	return -1;
}

int
local_domain_is_local(const char *domain)
{
	struct buf err = BUF_INIT;
	int rc = match_list_domain(local_cfg.mydestination, domain, 0, &err);

	/* A failed table: not ours, so the address is forwarded, never
	 * taken for a local user's. */
	if (rc < 0)
		msg_warn("mydestination: lookup of %s: %s", domain,
			 buf_cstr(&err));
	buf_free(&err);
	return rc > 0;
}

static int
alias_is_local(const char *domain, void *ctx)
{
	(void)ctx;
	return local_domain_is_local(domain);
}

int
local_alias_expand(const char *name, struct alias_list *out,
		   struct local_status *st)
{
	static const struct alias_ops ops = {alias_lookup, alias_include,
					     alias_is_local, NULL};
	struct buf why = BUF_INIT;
	int r;

	if (local_cfg.aliases == NULL && !aliases_broken)
		return 0;
	includes_reset();
	r = alias_expand(name, &ops, out, &why);
	if (r < 0)
		local_status_why(st, buf_cstr(&why));
	buf_free(&why);
	return r;
}
