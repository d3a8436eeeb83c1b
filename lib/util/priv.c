/*
 * priv - chroot and privilege drop; see priv.h.
 *
 * The user is looked up before chroot, because the jail has no passwd
 * file.  The order setgroups, setgid, setuid matters: once the uid is gone
 * the group list can no longer be changed.  Afterwards the process proves
 * it cannot become root again; a half-dropped daemon is worse than a dead
 * one, so every failure is fatal.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "priv.h"

#if defined(__SANITIZE_ADDRESS__)
#define PRIV_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PRIV_ASAN 1
#endif
#endif
#ifdef PRIV_ASAN
#include <sanitizer/lsan_interface.h>

/*
 * The leak check runs before chroot (priv_chroot), while lookup tables
 * (hash: maps, Berkeley DB files) are open.  Berkeley DB's private
 * environment refers to its region memory by offsets, which LeakSanitizer
 * cannot follow: those blocks look leaked while in use.  libdb has no
 * frame pointers, so the report's stack ends at its allocator: that is
 * what is suppressed, for every daemon.
 */
const char *
__lsan_default_suppressions(void)
{
	return "leak:__os_malloc\n";
}
#endif

int
priv_is_root(void)
{
	return geteuid() == 0;
}

int
priv_lookup_user(const char *user, uid_t *uid, gid_t *gid, struct buf *err)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(user);
	if (pw == NULL) {
		if (err == NULL)
			return -1;
		buf_reset(err);
		if (errno != 0)
			buf_printf(err, "look up user %s: %s", user,
				   strerror(errno));
		else
			buf_printf(err, "unknown user %s", user);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

/* The development instance: say once why nothing happens. */
static void
priv_not_root(void)
{
	static int logged;
	struct passwd *pw;

	if (logged)
		return;
	logged = 1;
	pw = getpwuid(getuid());
	msg_info("running as unprivileged user %s: not changing user or root "
		 "directory",
		 pw ? pw->pw_name : "(unknown)");
}

void
priv_chroot(const char *jail)
{
	if (!priv_is_root()) {
		priv_not_root();
		return;
	}
#ifdef PRIV_ASAN
	/*
	 * LeakSanitizer needs /proc at exit, which the jail lacks; its
	 * failure would turn every exit status into 1.  Check now, once:
	 * this also turns off the check at exit.
	 */
	__lsan_do_leak_check();
#endif
	if (chroot(jail) != 0)
		msg_fatal("chroot %s: %m", jail);
	if (chdir("/") != 0)
		msg_fatal("chdir / in %s: %m", jail);
}

/* The part of a drop after the group list is set. */
static void
priv_set_ids(uid_t uid, gid_t gid)
{
	if (setgid(gid) != 0)
		msg_fatal("setgid %ld: %m", (long)gid);
	if (setuid(uid) != 0)
		msg_fatal("setuid %ld: %m", (long)uid);
	/* Prove it: none of these may succeed or differ any more. */
	if (setuid(0) == 0 || seteuid(0) == 0)
		msg_fatal("privilege drop failed: root can be regained");
	if (getuid() != uid || geteuid() != uid || getgid() != gid ||
	    getegid() != gid)
		msg_fatal("privilege drop failed: ids are %ld/%ld %ld/%ld",
			  (long)getuid(), (long)geteuid(), (long)getgid(),
			  (long)getegid());
}

void
priv_drop_ids(uid_t uid, gid_t gid, const char *jail)
{
	if (!priv_is_root()) {
		priv_not_root();
		return;
	}
	if (uid == 0)
		msg_fatal("refusing to drop privileges to uid 0");
	if (jail != NULL)
		priv_chroot(jail);
	if (setgroups(1, &gid) != 0)
		msg_fatal("setgroups %ld: %m", (long)gid);
	priv_set_ids(uid, gid);
}

/* The ids of user, an account to drop to: 1, or 0 when this process is
 * not root (there is nothing to drop; said once).  Fatal when there is
 * no such account or it is root. */
static int
drop_target(const char *user, uid_t *uid, gid_t *gid)
{
	struct buf err = BUF_INIT;

	if (!priv_is_root()) {
		priv_not_root();
		return 0;
	}
	if (priv_lookup_user(user, uid, gid, &err) != 0)
		msg_fatal("%s", buf_cstr(&err));
	if (*uid == 0)
		msg_fatal("user %s has uid 0: refusing to run as root", user);
	buf_free(&err);
	return 1;
}

void
priv_drop_user_groups(const char *user)
{
	uid_t uid;
	gid_t gid;

	if (!drop_target(user, &uid, &gid))
		return;
	if (initgroups(user, gid) != 0)
		msg_fatal("initgroups %s: %m", user);
	priv_set_ids(uid, gid);
}

void
priv_drop(const char *user, const char *jail)
{
	uid_t uid;
	gid_t gid;

	if (!drop_target(user, &uid, &gid))
		return;
	priv_drop_ids(uid, gid, jail);
}
