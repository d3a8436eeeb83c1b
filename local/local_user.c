/*
 * local_user - from a local name to an account and its mailbox.
 *
 * The rule itself (DESIGN.md: unix accounts, mail-only users of the
 * sasldb, spool or home_mailbox, Maildir when the name ends in '/', root
 * delivered as default_privs) is lib/mailbox.h's, shared with pop3d so
 * that both agree on every mailbox.  Names are looked up in lower case;
 * the recipient_delimiter extension is the caller's business
 * (local_base_name).
 */
#include <string.h>

#include "local.h"
#include "mailbox.h"
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

int
local_user_find(const char *name, struct local_user *u, struct local_status *st)
{
	const struct mailbox_config cfg = {
	    .spool_dir = local_cfg.spool_dir,
	    .spool_maildir = local_cfg.spool_maildir,
	    .home_mailbox = local_cfg.home_mailbox,
	    .home_maildir = local_cfg.home_maildir,
	    .sasldb_path = local_cfg.sasldb_path,
	    .owner_uid = local_cfg.owner_uid,
	    .owner_gid = local_cfg.owner_gid,
	    .privs_uid = local_cfg.privs_uid,
	    .privs_gid = local_cfg.privs_gid,
	    .as_root = local_cfg.as_root,
	};
	struct mailbox_user mu;
	struct buf why = BUF_INIT;
	int r;

	memset(u, 0, sizeof(*u));
	r = mailbox_find(&cfg, name, &mu, &why);
	if (r < 0)
		local_status_set(st, 4, "4.3.0", "%s", buf_cstr(&why));
	if (r == 1) {
		/* The same fields: ownership of the strings moves to u. */
		u->name = mu.name;
		u->uid = mu.uid;
		u->gid = mu.gid;
		u->home = mu.home;
		u->mailbox = mu.mailbox;
		u->maildir = mu.maildir;
		u->in_spool = mu.in_spool;
		u->root_account = mu.root_account;
	}
	buf_free(&why);
	return r;
}
