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

int
local_user_find(const char *name, struct mailbox_user *u,
		struct local_status *st)
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
	struct buf why = BUF_INIT;
	int r;

	r = mailbox_find(&cfg, name, u, &why);
	if (r < 0)
		local_status_set(st, 4, "4.3.0", "%s", buf_cstr(&why));
	buf_free(&why);
	return r;
}
