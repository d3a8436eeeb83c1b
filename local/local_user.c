/*
 * local_user - from a local name to an account and its mailbox.
 *
 * DESIGN.md: a unix account (getpwnam) has $mail_spool_directory/USER,
 * or ~/$home_mailbox when home_mailbox is set; a mail-only user (a user of
 * sasldb_path that is no unix account) has $mail_spool_directory/USER,
 * owned by mail_owner.  A name ending in '/' means Maildir.  Names are
 * looked up in lower case; the recipient_delimiter extension is the
 * caller's business (local_base_name).  Mail for root is delivered with
 * default_privs, never as root.
 */
#include <errno.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "local.h"
#include "msg.h"
#include "sasldb.h"
#include "strutil.h"
#include "xalloc.h"

char *
local_base_name(const char *local_part)
{
	char *name = xstrdup(local_part);
	size_t n;

	str_lower(name);
	if (*local_cfg.delimiter) {
		n = strcspn(name, local_cfg.delimiter);
		/* "+ext" alone is a name, not an extension of nothing. */
		if (n > 0)
			name[n] = '\0';
	}
	return name;
}

void
local_user_free(struct local_user *u)
{
	xfree(u->name);
	xfree(u->home);
	xfree(u->mailbox);
	memset(u, 0, sizeof(*u));
}

static void
spool_mailbox(struct local_user *u)
{
	struct buf path = BUF_INIT;

	buf_printf(&path, "%s/%s", local_cfg.spool_dir, u->name);
	u->mailbox = buf_steal(&path);
	u->maildir = local_cfg.spool_maildir;
	u->in_spool = 1;
}

struct sasl_find {
	const char *want;
	char *found;
};

static void
sasl_match(const char *user, const char *realm, void *ctx)
{
	struct sasl_find *f = ctx;

	(void)realm;
	if (f->found == NULL && str_casecmp(user, f->want) == 0)
		f->found = xstrdup(user);
}

/* A name that is safe as one path component. */
static int
name_ok(const char *name)
{
	return *name && strchr(name, '/') == NULL && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0;
}

static int
unix_user(const struct passwd *pw, struct local_user *u)
{
	struct buf path = BUF_INIT;
	size_t n;

	u->name = xstrdup(pw->pw_name);
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	u->home = xstrdup(pw->pw_dir);
	if (u->uid == 0) {
		u->uid = local_cfg.privs_uid;
		u->gid = local_cfg.privs_gid;
	}
	if (!local_cfg.as_root) {
		u->uid = geteuid();
		u->gid = getegid();
	}
	if (*local_cfg.home_mailbox == '\0') {
		spool_mailbox(u);
		return 1;
	}
	buf_printf(&path, "%s/%s", u->home, local_cfg.home_mailbox);
	n = path.len;
	while (n > 1 && path.data[n - 1] == '/')
		n--;
	buf_truncate(&path, n);
	u->mailbox = buf_steal(&path);
	u->maildir = local_cfg.home_maildir;
	u->in_spool = 0;
	return 1;
}

int
local_user_find(const char *name, struct local_user *u, struct local_status *st)
{
	struct sasl_find f = {name, NULL};
	struct passwd *pw;

	memset(u, 0, sizeof(*u));
	if (!name_ok(name))
		return 0;
	errno = 0;
	if ((pw = getpwnam(name)) != NULL)
		return unix_user(pw, u);
	if (errno != 0 && errno != ENOENT && errno != ESRCH && errno != EBADF &&
	    errno != EPERM) {
		local_status_set(st, 4, "4.3.0",
				 "cannot look up user \"%s\": %s", name,
				 strerror(errno));
		return -1;
	}
	if (sasldb_users(local_cfg.sasldb_path, sasl_match, &f) < 0) {
		local_status_set(st, 4, "4.3.0",
				 "cannot read the mail users of %s",
				 local_cfg.sasldb_path);
		return -1;
	}
	if (f.found == NULL || !name_ok(f.found)) {
		xfree(f.found);
		return 0;
	}
	u->name = f.found;
	u->uid = local_cfg.owner_uid;
	u->gid = local_cfg.owner_gid;
	spool_mailbox(u);
	return 1;
}
