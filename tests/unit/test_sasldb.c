/*
 * test_sasldb - list the users of a real sasldb made by saslpasswd2.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "sasldb.h"

static void
collect(const char *user, const char *realm, void *ctx)
{
	struct buf *b = ctx;

	buf_printf(b, "%s@%s;", user, realm);
}

static void
test_users_of_saslpasswd2_db(void **state)
{
	char dir[] = "/tmp/test_sasldb.XXXXXX";
	char cmd[1024], path[64];
	struct buf got = BUF_INIT;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sasldb2", dir);
	snprintf(cmd, sizeof(cmd),
		 "echo secret1 | saslpasswd2 -c -p -f %s -u example.org "
		 "alice && echo secret2 | saslpasswd2 -c -p -f %s -u "
		 "example.org bob",
		 path, path);
	if (system(cmd) != 0)
		fail_msg("saslpasswd2 failed (is sasl2-bin installed?)");
	assert_int_equal(sasldb_users(path, collect, &got), 2);
	assert_non_null(strstr(buf_cstr(&got), "alice@example.org;"));
	assert_non_null(strstr(buf_cstr(&got), "bob@example.org;"));
	assert_null(strstr(buf_cstr(&got), "secret"));
	unlink(path);
	rmdir(dir);
	buf_free(&got);
}

static void
test_missing_file_is_empty(void **state)
{
	struct buf got = BUF_INIT;

	(void)state;
	assert_int_equal(
	    sasldb_users("/nonexistent/panacea/sasldb2", collect, &got), 0);
	assert_int_equal(got.len, 0);
}

static void
test_not_a_database(void **state)
{
	char path[] = "/tmp/test_sasldb_bad.XXXXXX";
	int fd = mkstemp(path);
	struct buf got = BUF_INIT;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not a db\n", 9), 9);
	close(fd);
	assert_int_equal(sasldb_users(path, collect, &got), -1);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_users_of_saslpasswd2_db),
	    cmocka_unit_test(test_missing_file_is_empty),
	    cmocka_unit_test(test_not_a_database),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
