/*
 * test_mailbox_virtual - unit tests of lib/mailbox_virtual.c: virtual(8)'s
 * search order (user+ext@domain, user@domain, @domain, each table
 * alone, keys folded), Maildir by the trailing '/', and the entries that
 * must not be used (no uid, a uid below virtual_minimum_uid, a path that
 * leaves virtual_mailbox_base).  Tables are inline: ones, so no file is
 * needed; run as any user (ids are checked as mapped, before the
 * process's own replace them when not root).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "mailbox.h"

static struct mailbox_virtual *v;
static struct buf why;

static void
set(const char *nv)
{
	assert_int_equal(conf_override(nv, &why), 0);
}

static int
setup(void **state)
{
	(void)state;
	conf_reset();
	set("virtual_mailbox_base=/var/mail/vhosts/");
	set("recipient_delimiter=+");
	set("virtual_mailbox_maps=inline:{ alice@one.test=one.test/alice, "
	    "alice+box@one.test=one.test/box/, @two.test=two.test/all/, "
	    "up@one.test=../etc/x, noid@one.test=one.test/noid, "
	    "low@one.test=one.test/low }");
	set("virtual_uid_maps=inline:{ @one.test=5000, "
	    "alice+box@one.test=5001, "
	    "@two.test=6000, low@one.test=99 }");
	set("virtual_gid_maps=inline:{ @one.test=5000, @two.test=6000, "
	    "noid@one.test=x }");
	v = mailbox_virtual_open(0, 1, &why);
	assert_non_null(v);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	mailbox_virtual_close(v);
	buf_free(&why);
	conf_reset();
	return 0;
}

static void
test_user_extension_catch_all(void **state)
{
	struct mailbox_user u;

	(void)state;
	assert_int_equal(mailbox_virtual_find(v, "Alice@ONE.test", &u, &why),
			 1);
	assert_string_equal(u.mailbox, "/var/mail/vhosts/one.test/alice");
	assert_string_equal(u.name, "alice@one.test");
	assert_int_equal(u.maildir, 0);
	mailbox_user_free(&u);
	/* The extension's own entry first: its path and uid. */
	assert_int_equal(
	    mailbox_virtual_find(v, "alice+box@one.test", &u, &why), 1);
	assert_string_equal(u.mailbox, "/var/mail/vhosts/one.test/box");
	assert_int_equal(u.maildir, 1);
	mailbox_user_free(&u);
	/* An extension without an entry: the user's. */
	assert_int_equal(mailbox_virtual_find(v, "alice+x@one.test", &u, &why),
			 1);
	assert_string_equal(u.mailbox, "/var/mail/vhosts/one.test/alice");
	mailbox_user_free(&u);
	assert_int_equal(mailbox_virtual_find(v, "any@two.test", &u, &why), 1);
	assert_string_equal(u.mailbox, "/var/mail/vhosts/two.test/all");
	assert_int_equal(u.maildir, 1);
	mailbox_user_free(&u);
	assert_int_equal(mailbox_virtual_find(v, "bob@one.test", &u, &why), 0);
	assert_int_equal(mailbox_virtual_find(v, "alice", &u, &why), 0);
	assert_int_equal(mailbox_virtual_known(v, "ALICE+z@one.test", &why), 1);
	assert_int_equal(mailbox_virtual_known(v, "x@two.test", &why), 1);
	assert_int_equal(mailbox_virtual_known(v, "bob@one.test", &why), 0);
}

static void
test_refusals(void **state)
{
	struct mailbox_user u;

	(void)state;
	assert_int_equal(mailbox_virtual_find(v, "up@one.test", &u, &why),
			 MAILBOX_VIRTUAL_CONFIG);
	assert_non_null(strstr(why.data, "leaves virtual_mailbox_base"));
	assert_int_equal(mailbox_virtual_find(v, "noid@one.test", &u, &why),
			 MAILBOX_VIRTUAL_CONFIG);
	assert_non_null(strstr(why.data, "bad virtual_gid_maps result"));
	assert_int_equal(mailbox_virtual_find(v, "low@one.test", &u, &why),
			 MAILBOX_VIRTUAL_CONFIG);
	assert_non_null(strstr(why.data, "below virtual_minimum_uid"));
}

static void
test_no_maps(void **state)
{
	struct mailbox_virtual *none;
	struct mailbox_user u;

	(void)state;
	set("virtual_mailbox_maps=");
	none = mailbox_virtual_open(0, 0, &why);
	assert_non_null(none);
	assert_int_equal(mailbox_virtual_enabled(none), 0);
	assert_int_equal(mailbox_virtual_find(none, "alice@one.test", &u, &why),
			 0);
	mailbox_virtual_close(none);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_user_extension_catch_all,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_maps, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
