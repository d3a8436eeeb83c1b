/*
 * mailq_users - who may list the queue (authorized_mailq_users), one
 * rule for the commands (mailq, sendmail -bp, panqueue -p and -j, which
 * check their caller) and for showq (which checks its peer's uid, because
 * public/showq is open to every local user and a refused user could
 * otherwise talk to it directly).
 *
 * The rule is Postfix's (postconf(5)): root and mail_owner always may; a
 * value that starts with a "static:" table lets everyone (the table
 * answers every name: "static:anyone", the default); for any other uid
 * the account's name, as getpwuid(3) gives it, or "unknown" for a uid
 * without an account, is matched against the list (match_list_string:
 * words without regard to case, type:table entries asked for the name,
 * "!" excludes, the first entry that matches decides; no match, or an
 * empty value: not allowed).
 *
 * Where the name comes from (how):
 *   MAILQ_USERS_LIVE      getpwuid() at each check: a command, run in the
 *                         system's root by the user it checks.
 *   MAILQ_USERS_SNAPSHOT  a table of uid -> name made at open, before
 *                         chroot, because the jail has no password
 *                         database: every account getpwent(3) lists and
 *                         each word of the list (negated ones too) looked
 *                         up with getpwnam(3), so that an account the
 *                         database does not enumerate (LDAP, sssd) is
 *                         still known when the list names it.  Not made
 *                         when the value starts with "static:".  An
 *                         account made later is "unknown" to this process
 *                         (showq: until it ends, after max_use requests
 *                         or max_idle).
 * mail_owner is looked up at open in both cases.  The list's files are
 * read and its tables opened at open (match_list.h).
 */
#ifndef PANACEA_MAILQ_USERS_H
#define PANACEA_MAILQ_USERS_H

#include <sys/types.h>

#include "buf.h"

enum mailq_users_names { MAILQ_USERS_LIVE, MAILQ_USERS_SNAPSHOT };

struct mailq_users;

/* value is authorized_mailq_users; NULL with "authorized_mailq_users:
 * ..." in err when the list cannot be opened. */
struct mailq_users *mailq_users_open(const char *value, const char *mail_owner,
				     enum mailq_users_names how,
				     struct buf *err);
/* 1 when uid may list the queue, 0 when not, -1 when a table of the list
 * failed (err).  name, when not NULL, gets the name the list was asked
 * about (the account's, or "unknown"): always set when the answer is 0
 * or -1, empty when the list was not asked (root, mail_owner, static:). */
int mailq_users_allow(const struct mailq_users *m, uid_t uid, struct buf *name,
		      struct buf *err);
void mailq_users_free(struct mailq_users *m);

#endif
