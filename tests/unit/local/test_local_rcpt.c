/*
 * test_local_rcpt - local's recipient resolution, the parts before any
 * delivery: the recipient_delimiter extension (local_base_name), a name
 * to its account and mailbox (local_user_find: spool or home_mailbox,
 * Maildir, root's account, unsafe names), alias_maps through local's
 * callbacks (local_alias_expand: the table, mydestination, :include:
 * files and their owners, a table that cannot be read), and the status
 * an error gives (local_status_why).
 *
 * Links local's library (tests/unit/local/); local.c, which holds main,
 * is not linked: this test provides its configuration (local_cfg) and
 * local_become_root(), which does nothing unless local runs as root
 * (local_cfg.as_root, 0 here as in the development instance).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alias.h"
#include "buf.h"
#include "local.h"
#include "maps.h"
#include "match_list.h"
#include "unit_helpers.h"
#include "xalloc.h"

struct local_config local_cfg;

void
local_become_root(void)
{
	assert_int_equal(local_cfg.as_root, 0);
}

static char dir[UNIT_DIR_MAX];

static int
setup(void **state)
{
	struct buf err = BUF_INIT;

	(void)state;
	if (unit_tmpdir(dir, "test_local_rcpt") < 0)
		return -1;
	local_cfg.mydestination =
	    match_list_open("mydestination", "example.com, localhost", &err);
	buf_free(&err);
	if (local_cfg.mydestination == NULL)
		return -1;
	local_cfg.spool_dir = "/var/mail";
	local_cfg.home_mailbox = "";
	local_cfg.delimiter = "+";
	local_cfg.sasldb_path = "/nonexistent/sasldb2"; /* no mail-only users */
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	if (local_cfg.aliases)
		maps_close(local_cfg.aliases);
	match_list_free(local_cfg.mydestination);
	return unit_rmtree(dir);
}

/* DIR/name with text; its path in a static buffer. */
static const char *
write_file(const char *name, const char *text)
{
	return unit_write_file(dir, name, text);
}

static void
expect_base(const char *delimiter, const char *local_part, const char *want)
{
	char *got;

	local_cfg.delimiter = (char *)delimiter;
	got = local_base_name(local_part);
	assert_string_equal(got, want);
	xfree(got);
}

static void
test_base_name(void **state)
{
	(void)state;
	expect_base("+", "Alice+News", "alice");
	expect_base("+", "alice", "alice");
	expect_base("+", "alice+", "alice");
	/* "+ext" alone is a name, not an extension of nothing. */
	expect_base("+", "+alice", "+alice");
	/* Any of several delimiters; the first one splits. */
	expect_base("-+", "bob-list+x", "bob");
	expect_base("-+", "bob+x-y", "bob");
	/* No delimiter: the whole part, lower case. */
	expect_base("", "Bob+X", "bob+x");
	local_cfg.delimiter = "+";
}

/* local_user_find(name): 1 with the mailbox path and Maildir flag, or
 * 0 (want NULL) with the status left alone. */
static void
expect_user(const char *name, const char *mailbox, int maildir)
{
	struct local_status st;
	struct mailbox_user u;
	int r;

	local_status_init(&st);
	r = local_user_find(name, &u, &st);
	if (mailbox == NULL) {
		assert_int_equal(r, 0);
		assert_null(u.name);
	} else {
		assert_int_equal(r, 1);
		assert_string_equal(u.mailbox, mailbox);
		assert_int_equal(u.maildir, maildir);
		/* Not as root: every mailbox is the invoking user's. */
		assert_int_equal(u.uid, geteuid());
	}
	assert_int_equal(st.cls, 4); /* untouched: local_status_init's */
	mailbox_user_free(&u);
	local_status_free(&st);
}

static void
test_user_find(void **state)
{
	struct local_status st;
	struct mailbox_user u;
	struct passwd *pw = getpwnam("root");
	char home[256];

	(void)state;
	assert_non_null(pw);
	/* The spool by default, Maildir when it ends in '/'. */
	expect_user("root", "/var/mail/root", 0);
	local_cfg.spool_dir = "/var/spool/maildirs";
	local_cfg.spool_maildir = 1;
	expect_user("root", "/var/spool/maildirs/root", 1);
	local_cfg.spool_dir = "/var/mail";
	local_cfg.spool_maildir = 0;

	/* home_mailbox: under the account's home, Maildir when it ends in
	 * '/' (the path given never does). */
	local_cfg.home_mailbox = "Maildir/";
	local_cfg.home_maildir = 1;
	snprintf(home, sizeof(home), "%s/Maildir", pw->pw_dir);
	expect_user("root", home, 1);
	local_cfg.home_mailbox = "";
	local_cfg.home_maildir = 0;

	/* uid 0 is marked: local_rcpt.c defers its mail (4.3.5). */
	local_status_init(&st);
	assert_int_equal(local_user_find("root", &u, &st), 1);
	assert_int_equal(u.root_account, 1);
	assert_string_equal(u.name, "root");
	assert_int_equal(u.in_spool, 1);
	mailbox_user_free(&u);
	local_status_free(&st);

	/* Unknown, and names that are no single path component. */
	expect_user("no-such-user-test-local", NULL, 0);
	expect_user("", NULL, 0);
	expect_user(".", NULL, 0);
	expect_user("..", NULL, 0);
	expect_user("../root", NULL, 0);
	expect_user("root/x", NULL, 0);
}

/* Expands name; returns local_alias_expand's result with the targets
 * as "kind:value" joined by ", " in got. */
static int
expand(const char *name, struct buf *got, struct local_status *st)
{
	static const char *kinds[] = {"addr",	 "file",    "command",
				      "include", "mailbox", "remote"};
	struct alias_list out = ALIAS_LIST_INIT;
	int r = local_alias_expand(name, &out, st);

	buf_reset(got);
	for (size_t i = 0; i < out.count; i++)
		buf_printf(got, "%s%s:%s", i ? ", " : "",
			   kinds[out.items[i].kind], out.items[i].value);
	alias_list_free(&out);
	return r;
}

static void
expect_expand(const char *name, int want_r, const char *want)
{
	struct local_status st;
	struct buf got = BUF_INIT;

	local_status_init(&st);
	assert_int_equal(expand(name, &got, &st), want_r);
	assert_string_equal(buf_cstr(&got), want);
	buf_free(&got);
	local_status_free(&st);
}

static void
test_aliases(void **state)
{
	struct buf text = BUF_INIT, err = BUF_INIT, spec = BUF_INIT;
	struct local_status st;
	char inc[128];
	uid_t uid;
	gid_t gid;

	(void)state;
	snprintf(inc, sizeof(inc), "%s",
		 write_file("members", "carol, dave@elsewhere.example\n"));
	buf_printf(&text,
		   "postmaster: root\n"
		   "alice: alice@example.com, alice@remote.example\n"
		   "team: bob, bob@LOCALHOST, :include:%s\n"
		   "loop: loop2\n"
		   "loop2: loop\n"
		   "missing: :include:%s/absent\n",
		   inc, dir);
	buf_printf(&spec, "hash:%s", write_file("aliases", buf_cstr(&text)));
	assert_int_equal(map_build(buf_cstr(&spec), MAP_BUILD_ALIASES, &err),
			 0);
	/* A table with neither file is skipped (with a warning). */
	buf_printf(&spec, ", hash:%s/no-aliases", dir);
	local_alias_open(buf_cstr(&spec));
	assert_non_null(local_cfg.aliases);

	expect_expand("nobody", 0, "");
	expect_expand("postmaster", 1, "mailbox:root");
	/* A name listing itself in one of our domains: its own mailbox. */
	expect_expand("alice", 1, "mailbox:alice, remote:alice@remote.example");
	/* mydestination in any case; an :include: file's members. */
	expect_expand("team", 1,
		      "mailbox:bob, mailbox:carol, "
		      "remote:dave@elsewhere.example");
	/* Whose the :include: file was: who runs its files and commands
	 * (not root here: the invoking user). */
	assert_int_equal(local_include_owner(inc, &uid, &gid), 0);
	assert_int_equal(uid, geteuid());
	assert_int_equal(local_include_owner("/etc/passwd", &uid, &gid), -1);

	/* Errors become the recipient's status. */
	local_status_init(&st);
	assert_int_equal(expand("loop", &text, &st), -1);
	assert_int_equal(st.cls, 5);
	assert_string_equal(st.dsn, "5.4.6");
	local_status_free(&st);
	local_status_init(&st);
	assert_int_equal(expand("missing", &text, &st), -1);
	assert_int_equal(st.cls, 5);
	assert_string_equal(st.dsn, "5.3.5");
	local_status_free(&st);

	/* A table that cannot be read: every lookup waits (4.3.0). */
	maps_close(local_cfg.aliases);
	buf_reset(&spec);
	buf_printf(&spec, "hash:%s", write_file("unbuilt", "x: y\n"));
	local_alias_open(buf_cstr(&spec));
	assert_null(local_cfg.aliases);
	local_status_init(&st);
	assert_int_equal(expand("alice", &text, &st), -1);
	assert_int_equal(st.cls, 4);
	assert_string_equal(st.dsn, "4.3.0");
	local_status_free(&st);
	buf_free(&text);
	buf_free(&err);
	buf_free(&spec);
}

static void
test_status_why(void **state)
{
	struct local_status st;

	(void)state;
	local_status_init(&st);
	local_status_why(&st, "5.1.1 no such user");
	assert_int_equal(st.cls, 5);
	assert_string_equal(st.dsn, "5.1.1");
	assert_string_equal(buf_cstr(&st.text), "no such user");
	/* No code at the front: a temporary failure with the text. */
	local_status_why(&st, "disk full");
	assert_int_equal(st.cls, 4);
	assert_string_equal(st.dsn, "4.3.0");
	assert_string_equal(buf_cstr(&st.text), "disk full");
	local_status_why(&st, "2.0.0 ok");
	assert_int_equal(st.cls, 4);
	assert_string_equal(buf_cstr(&st.text), "2.0.0 ok");
	local_status_free(&st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base_name),
	    cmocka_unit_test(test_user_find),
	    cmocka_unit_test(test_aliases),
	    cmocka_unit_test(test_status_why),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
