/*
 * mailbox - user name -> account -> mailbox (contract in mailbox.h).
 * Moved here from local/local_user.c so that pop3d serves exactly the
 * mailbox local delivers to.
 */
#include <errno.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "mailbox.h"
#include "priv.h"
#include "sasldb.h"
#include "strutil.h"
#include "xalloc.h"

char *
mailbox_strip_slash(const char *s, int *maildir)
{
	size_t n = strlen(s);

	*maildir = n > 1 && s[n - 1] == '/';
	while (n > 1 && s[n - 1] == '/')
		n--;
	return xstrndup(s, n);
}

void
mailbox_user_free(struct mailbox_user *u)
{
	xfree(u->name);
	xfree(u->home);
	xfree(u->mailbox);
	memset(u, 0, sizeof(*u));
}

int
mailbox_mail_only_ids(uid_t *uid, gid_t *gid, struct buf *err)
{
	static int known;
	static uid_t known_uid;
	static gid_t known_gid;
	const char *name = conf_str("mail_only_owner");
	uid_t ouid;
	gid_t ogid;

	if (known) {
		*uid = known_uid;
		*gid = known_gid;
		return 0;
	}
	buf_set(err, "");
	if (priv_lookup_user(name, uid, gid, err) < 0) {
		buf_set(err, "");
		buf_printf(err,
			   "mail_only_owner: no account \"%s\" (the owner of "
			   "the mailboxes of mail-only users: create it, e.g. "
			   "useradd --system %s)",
			   name, name);
		return -1;
	}
	if (*uid == 0) {
		buf_printf(err, "mail_only_owner %s must not be root", name);
		return -1;
	}
	if (priv_lookup_user(conf_str("mail_owner"), &ouid, &ogid, err) == 0 &&
	    ouid == *uid) {
		buf_set(err, "");
		buf_printf(
		    err,
		    "mail_only_owner %s must not be mail_owner (uid %ld): "
		    "a user's mail must not be handled by the owner of "
		    "the queue",
		    name, (long)*uid);
		return -1;
	}
	buf_set(err, "");
	known = 1;
	known_uid = *uid;
	known_gid = *gid;
	return 0;
}

static void
spool_mailbox(const struct mailbox_config *cfg, struct mailbox_user *u)
{
	struct buf path = BUF_INIT;

	buf_printf(&path, "%s/%s", cfg->spool_dir, u->name);
	u->mailbox = buf_steal(&path);
	u->maildir = cfg->spool_maildir;
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
unix_user(const struct mailbox_config *cfg, const struct passwd *pw,
	  struct mailbox_user *u)
{
	struct buf path = BUF_INIT;
	size_t n;

	u->name = xstrdup(pw->pw_name);
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	u->home = xstrdup(pw->pw_dir);
	u->root_account = u->uid == 0;
	if (u->uid == 0) {
		u->uid = cfg->privs_uid;
		u->gid = cfg->privs_gid;
	}
	if (!cfg->as_root) {
		u->uid = geteuid();
		u->gid = getegid();
	}
	if (*cfg->home_mailbox == '\0') {
		spool_mailbox(cfg, u);
		return 1;
	}
	buf_printf(&path, "%s/%s", u->home, cfg->home_mailbox);
	n = path.len;
	while (n > 1 && path.data[n - 1] == '/')
		n--;
	buf_truncate(&path, n);
	u->mailbox = buf_steal(&path);
	u->maildir = cfg->home_maildir;
	u->in_spool = 0;
	return 1;
}

int
mailbox_find(const struct mailbox_config *cfg, const char *name,
	     struct mailbox_user *u, struct buf *why)
{
	struct sasl_find f = {name, NULL};
	struct passwd *pw;

	memset(u, 0, sizeof(*u));
	if (cfg->virt != NULL && strchr(name, '@') != NULL) {
		int r = mailbox_virtual_find(cfg->virt, name, u, why);

		return r == MAILBOX_VIRTUAL_CONFIG ? -1 : r;
	}
	if (!name_ok(name))
		return 0;
	errno = 0;
	if ((pw = getpwnam(name)) != NULL)
		return unix_user(cfg, pw, u);
	if (errno != 0 && errno != ENOENT && errno != ESRCH && errno != EBADF &&
	    errno != EPERM) {
		buf_set(why, "");
		buf_printf(why, "cannot look up user \"%s\": %s", name,
			   strerror(errno));
		return -1;
	}
	if (sasldb_users(cfg->sasldb_path, sasl_match, &f) < 0) {
		buf_set(why, "");
		buf_printf(why, "cannot read the mail users of %s",
			   cfg->sasldb_path);
		return -1;
	}
	if (f.found == NULL || !name_ok(f.found)) {
		xfree(f.found);
		return 0;
	}
	if (!cfg->as_root) {
		u->uid = geteuid();
		u->gid = getegid();
	} else if (mailbox_mail_only_ids(&u->uid, &u->gid, why) < 0) {
		xfree(f.found);
		return -1;
	}
	u->name = f.found;
	spool_mailbox(cfg, u);
	return 1;
}
