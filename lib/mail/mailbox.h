/*
 * mailbox - from a user name to an account and its mailbox (DESIGN.md),
 * the one rule that local (where to deliver) and pop3d (what to serve and
 * as whom) must share.
 *
 * A unix account (getpwnam) has $mail_spool_directory/USER, or
 * HOME/$home_mailbox when home_mailbox is set; a mail-only user (a user of
 * sasldb_path that is no unix account, matched without regard to case,
 * named as the sasldb spells it) has $mail_spool_directory/USER, owned by
 * mail_only_owner (DESIGN.md, rule 4: an account of its own, never
 * mail_owner, which owns the queue).  A configured name ending in '/'
 * means Maildir; the path given never ends in '/'.  Names must be one
 * path component (no '/', not "." or "..", not empty): anything else is
 * "no such user", so no name can point outside the spool.  An account
 * with uid 0 (root) is marked root_account and its mailbox belongs to
 * default_privs: nothing is ever read or written as root (local refuses
 * to deliver to it at all).  Not running as root (the development
 * instance), every mailbox belongs to the invoking user.
 *
 * mailbox_find() returns 1 with u filled (mailbox_user_free() later), 0
 * for an unknown user, -1 for a temporary error with a reason in why.
 */
#ifndef PANACEA_MAILBOX_H
#define PANACEA_MAILBOX_H

#include <sys/types.h>

#include "buf.h"

struct mailbox_config {
	const char *spool_dir; /* mail_spool_directory without trailing '/' */
	int spool_maildir;     /* it ended in '/' */
	const char *home_mailbox; /* "" or relative to the home directory */
	int home_maildir;
	const char *sasldb_path;
	uid_t owner_uid; /* mail_owner (not the owner of any mailbox) */
	gid_t owner_gid;
	uid_t privs_uid; /* default_privs */
	gid_t privs_gid;
	int as_root;
	/* user@domain names: virtual mailboxes (NULL: none) */
	const struct mailbox_virtual *virt;
};

struct mailbox_user {
	char *name; /* the account name */
	uid_t uid;  /* who owns and reads the mailbox */
	gid_t gid;
	char *home;	  /* NULL for mail-only users */
	char *mailbox;	  /* path; ends without '/' */
	int maildir;	  /* mailbox is a Maildir */
	int in_spool;	  /* mailbox is under mail_spool_directory */
	int root_account; /* a unix account with uid 0 */
};

int mailbox_find(const struct mailbox_config *cfg, const char *name,
		 struct mailbox_user *u, struct buf *why);
void mailbox_user_free(struct mailbox_user *u);
/* The ids of mail_only_owner (panacea.conf), looked up once per process:
 * 0, or -1 with a message in err when the account is missing, is root
 * or is mail_owner.  mailbox_find() uses it as root for mail-only users,
 * so a program that serves them (local, pop3d) calls it at start to
 * refuse to run rather than fail each delivery or login. */
int mailbox_mail_only_ids(uid_t *uid, gid_t *gid, struct buf *err);
/*
 * Virtual mailboxes (virtual(8) as Postfix's; lib/mailbox_virtual.c):
 * the path $virtual_mailbox_base/$virtual_mailbox_maps(address) (Maildir
 * when the result ends in '/'), owned by the numeric virtual_uid_maps and
 * virtual_gid_maps results of the address, each table searched with
 * "user+ext@domain", "user@domain", then "@domain", keys in lower case.
 * mailbox_find() takes a name with '@' there when cfg->virt is set.
 * mailbox_virtual_open() opens the tables (before any jail) and reads
 * the parameters itself: virtual_mailbox_base, virtual_mailbox_maps,
 * virtual_uid_maps, virtual_gid_maps, virtual_minimum_uid,
 * recipient_delimiter, mail_owner (owners 0: only virtual_mailbox_maps,
 * for mailbox_virtual_known(), smtpd's recipient check: 1, 0, or -1
 * with why).  mailbox_virtual_find() returns 1
 * (u filled; u->name is the address), 0 for an address no table has,
 * -1 for a table that cannot answer, MAILBOX_VIRTUAL_CONFIG for an entry
 * that must not be used (no uid or gid, a uid below
 * virtual_minimum_uid, root's or mail_owner's uid, a path with "..");
 * why says which.  Not running as root, u->uid and gid are the
 * process's own.
 */
#define MAILBOX_VIRTUAL_CONFIG (-2)
struct mailbox_virtual;
struct mailbox_virtual *mailbox_virtual_open(int as_root, int owners,
					     struct buf *err);
int mailbox_virtual_known(const struct mailbox_virtual *v, const char *address,
			  struct buf *why);
int mailbox_virtual_enabled(const struct mailbox_virtual *v);
int mailbox_virtual_changed(const struct mailbox_virtual *v);
void mailbox_virtual_close(struct mailbox_virtual *v);
int mailbox_virtual_find(const struct mailbox_virtual *v, const char *address,
			 struct mailbox_user *u, struct buf *why);

/* "DIR/" -> "DIR" with *maildir 1; "DIR" -> "DIR" with *maildir 0. */
char *mailbox_strip_slash(const char *value, int *maildir);

#endif
