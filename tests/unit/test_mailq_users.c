/*
 * test_mailq_users - lib/mailq_users.c, the rule of authorized_mailq_users
 * that mailq and showq share: root and mail_owner always, a "static:"
 * value everyone, otherwise the account's name (or "unknown") matched
 * against the list, first match decides.  Every case is asked of both
 * ways of naming a uid (getpwuid at each check, the snapshot made at
 * open); as root, a child that chroots into an empty folder after open
 * shows that the snapshot needs no password database while getpwuid
 * there knows nobody.  The accounts are the base system's: root (0),
 * daemon, bin, sys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "mailq_users.h"

static uid_t daemon_uid, bin_uid, sys_uid, nobody_uid;
static char dir[] = "/tmp/test_mailq_users_XXXXXX";

static uid_t
uid_of(const char *name)
{
	struct passwd *pw = getpwnam(name);

	if (pw == NULL)
		fail_msg("the base system has no account %s", name);
	return pw->pw_uid;
}

static int
setup(void **state)
{
	(void)state;
	daemon_uid = uid_of("daemon");
	bin_uid = uid_of("bin");
	sys_uid = uid_of("sys");
	/* A uid without an account. */
	for (nobody_uid = 3999999; getpwuid(nobody_uid) != NULL; nobody_uid++)
		;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	struct buf path = BUF_INIT;

	(void)state;
	buf_printf(&path, "%s/users", dir);
	unlink(buf_cstr(&path));
	buf_free(&path);
	rmdir(dir);
	return 0;
}

/* The answer for uid under value (mail_owner "sys"), the same both ways;
 * name gets the name the list was asked about. */
static int
allow(const char *value, uid_t uid, struct buf *name)
{
	static const enum mailq_users_names ways[] = {MAILQ_USERS_LIVE,
						      MAILQ_USERS_SNAPSHOT};
	struct buf err = BUF_INIT;
	int rc = -2;

	for (size_t i = 0; i < 2; i++) {
		struct mailq_users *m =
		    mailq_users_open(value, "sys", ways[i], &err);
		int r;
		if (m == NULL)
			fail_msg("%s: %s", value, buf_cstr(&err));
		r = mailq_users_allow(m, uid, name, &err);
		if (mailq_users_allow(m, uid, NULL, &err) != r)
			fail_msg("%s, uid %ld: not the same without a name",
				 value, (long)uid);
		if (rc != -2 && r != rc)
			fail_msg("%s, uid %ld: %d getpwuid, %d snapshot", value,
				 (long)uid, rc, r);
		rc = r;
		mailq_users_free(m);
	}
	buf_free(&err);
	return rc;
}

static void
test_anyone(void **state)
{
	struct buf name = BUF_INIT;

	(void)state;
	assert_int_equal(allow("static:anyone", bin_uid, &name), 1);
	assert_string_equal(buf_cstr(&name), ""); /* the list not asked */
	assert_int_equal(allow("static:anyone", nobody_uid, &name), 1);
	/* Any static: table answers every name (Postfix: static:root is
	 * not a list of root). */
	assert_int_equal(allow(" static:root, daemon", bin_uid, &name), 1);
	buf_free(&name);
}

static void
test_names(void **state)
{
	struct buf name = BUF_INIT;

	(void)state;
	assert_int_equal(allow("daemon", daemon_uid, &name), 1);
	assert_string_equal(buf_cstr(&name), "daemon");
	assert_int_equal(allow("DAEMON", daemon_uid, &name), 1);
	assert_int_equal(allow("daemon", bin_uid, &name), 0);
	assert_string_equal(buf_cstr(&name), "bin");
	assert_int_equal(allow("daemon", nobody_uid, &name), 0);
	assert_string_equal(buf_cstr(&name), "unknown");
	/* Root and mail_owner (sys here) whatever the list says. */
	assert_int_equal(allow("daemon", 0, &name), 1);
	assert_int_equal(allow("daemon", sys_uid, &name), 1);
	assert_int_equal(allow("!sys, !root", sys_uid, &name), 1);
	assert_int_equal(allow("", 0, &name), 1);
	/* An empty list lets nobody else. */
	assert_int_equal(allow("", daemon_uid, &name), 0);
	/* A uid without an account is "unknown" (postconf(5)). */
	assert_int_equal(allow("unknown", nobody_uid, &name), 1);
	assert_int_equal(allow("unknown", bin_uid, &name), 0);
	buf_free(&name);
}

static void
test_order_and_tables(void **state)
{
	struct buf name = BUF_INIT, path = BUF_INIT, err = BUF_INIT;
	int fd;

	(void)state;
	/* First match decides; a static: table later in the list is asked
	 * for the name like any table. */
	assert_int_equal(allow("!bin, static:anyone", bin_uid, &name), 0);
	assert_string_equal(buf_cstr(&name), "bin");
	assert_int_equal(allow("!bin, static:anyone", daemon_uid, &name), 1);
	assert_int_equal(allow("!bin, static:anyone", nobody_uid, &name), 1);
	assert_int_equal(allow("inline:{bin=yes}", bin_uid, &name), 1);
	assert_int_equal(allow("inline:{bin=yes}", daemon_uid, &name), 0);
	assert_int_equal(allow("!inline:{bin=yes}, bin", bin_uid, &name), 0);
	/* A /file/name entry stands for its words. */
	buf_printf(&path, "%s/users", dir);
	fd = open(buf_cstr(&path), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "# who\nbin\n", 10), 10);
	close(fd);
	assert_int_equal(allow(buf_cstr(&path), bin_uid, &name), 1);
	assert_int_equal(allow(buf_cstr(&path), daemon_uid, &name), 0);
	/* A list that cannot be opened is the parameter's error. */
	assert_null(mailq_users_open("/nonexistent/users", "sys",
				     MAILQ_USERS_SNAPSHOT, &err));
	assert_memory_equal(buf_cstr(&err), "authorized_mailq_users:", 23);
	buf_free(&err);
	buf_free(&path);
	buf_free(&name);
}

/* In a chroot without /etc/passwd: the snapshot still names bin and
 * daemon, getpwuid names nobody. */
static void
test_snapshot_in_jail(void **state)
{
	struct mailq_users *snap, *live;
	struct buf err = BUF_INIT;
	int status;
	pid_t pid;

	(void)state;
	if (geteuid() != 0)
		skip();
	snap = mailq_users_open("daemon", "sys", MAILQ_USERS_SNAPSHOT, &err);
	live = mailq_users_open("daemon", "sys", MAILQ_USERS_LIVE, &err);
	assert_non_null(snap);
	assert_non_null(live);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct buf name = BUF_INIT;
		if (chroot(dir) != 0 || chdir("/") != 0)
			_exit(10);
		if (getpwuid(bin_uid) != NULL)
			_exit(11); /* not a jail without accounts */
		if (mailq_users_allow(snap, daemon_uid, &name, &err) != 1)
			_exit(12);
		if (mailq_users_allow(snap, bin_uid, &name, &err) != 0 ||
		    strcmp(buf_cstr(&name), "bin") != 0)
			_exit(13);
		if (mailq_users_allow(live, daemon_uid, &name, &err) != 0 ||
		    strcmp(buf_cstr(&name), "unknown") != 0)
			_exit(14);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	mailq_users_free(snap);
	mailq_users_free(live);
	buf_free(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_anyone),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_order_and_tables),
	    cmocka_unit_test(test_snapshot_in_jail),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
