/*
 * priv - chroot and privilege drop.
 *
 * priv_drop(user, jail) is the last step of a daemon's start-up, after it
 * has opened everything it needs: when running as root it chroots to jail
 * (when non-NULL) and chdirs to "/", then setgroups(1, {gid}), setgid,
 * setuid to user, and verifies that neither setuid(0) nor seteuid(0)
 * succeeds afterwards; any failure is fatal.  When not running as root
 * (the development instance) nothing can be dropped: it logs once
 * "running as unprivileged user NAME: not changing user or root directory"
 * and returns.  Dropping to uid 0 is refused (fatal).
 */
#ifndef PANACEA_PRIV_H
#define PANACEA_PRIV_H

#include <sys/types.h>

#include "buf.h"

/* 0 and uid/gid of user, or -1 with a message in err. */
int priv_lookup_user(const char *user, uid_t *uid, gid_t *gid, struct buf *err);
void priv_drop(const char *user, const char *jail);
/* Drops to user with all of user's groups (initgroups(3)), unjailed:
 * for the auth service, whose account reads the sasldb through a
 * supplementary group (Debian's "sasl").  Same checks as priv_drop. */
void priv_drop_user_groups(const char *user);
/* Same with a known uid/gid (local and pop3d switch to a mailbox owner). */
void priv_drop_ids(uid_t uid, gid_t gid, const char *jail);
int priv_is_root(void);
/* Only the chroot part (a jailed service that keeps its user): as root,
 * chroot to jail and chdir to "/"; otherwise the same one log line. */
void priv_chroot(const char *jail);

#endif
