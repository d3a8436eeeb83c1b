/*
 * test_strutil - unit tests of lib/strutil.c: splitting, trimming,
 * ASCII-only case folding and list matching.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "strutil.h"
#include "xalloc.h"

static void
test_split_default_seps(void **state)
{
	int n = -1;
	char **l = str_split("  a, b\tc,,d  ,", NULL, &n);

	(void)state;
	assert_int_equal(n, 4);
	assert_string_equal(l[0], "a");
	assert_string_equal(l[1], "b");
	assert_string_equal(l[2], "c");
	assert_string_equal(l[3], "d");
	assert_null(l[4]);
	str_list_free(l);
}

static void
test_split_own_seps(void **state)
{
	int n = -1;
	char **l = str_split("a,b c::d", ":", &n);

	(void)state;
	assert_int_equal(n, 2);
	assert_string_equal(l[0], "a,b c");
	assert_string_equal(l[1], "d");
	assert_null(l[2]);
	str_list_free(l);
}

static void
test_split_empty(void **state)
{
	int n = -1;
	char **l = str_split(" ,\t, ", NULL, &n);

	(void)state;
	assert_int_equal(n, 0);
	assert_non_null(l);
	assert_null(l[0]);
	str_list_free(l);
	l = str_split("", NULL, NULL);
	assert_null(l[0]);
	str_list_free(l);
	str_list_free(NULL);
}

static void
test_trim(void **state)
{
	char a[] = "  \t hello world \r\n";
	char b[] = "   ";
	char c[] = "x";
	char d[] = "";

	(void)state;
	assert_string_equal(str_trim(a), "hello world");
	assert_ptr_equal(str_trim(b), b);
	assert_string_equal(b, "");
	assert_string_equal(str_trim(c), "x");
	assert_string_equal(str_trim(d), "");
}

static void
test_casecmp(void **state)
{
	(void)state;
	assert_int_equal(str_casecmp("Hello", "hELLO"), 0);
	assert_true(str_casecmp("a", "B") < 0);
	assert_true(str_casecmp("b", "A") > 0);
	assert_true(str_casecmp("ab", "a") > 0);
	assert_true(str_casecmp("a", "ab") < 0);
	assert_int_equal(str_casecmp("", ""), 0);
	/* Bytes above 127 are compared as they are, never folded. */
	assert_true(str_casecmp("\xc9", "\xe9") != 0);
	assert_int_equal(str_ncasecmp("HELO x", "helo y", 4), 0);
	assert_true(str_ncasecmp("HELO x", "helo y", 6) != 0);
	assert_int_equal(str_ncasecmp("abc", "xyz", 0), 0);
	assert_int_equal(str_ncasecmp("ab", "AB", 10), 0);
}

static void
test_lower(void **state)
{
	char s[] = "MiXeD 123 \xc9Z";

	(void)state;
	str_lower(s);
	assert_string_equal(s, "mixed 123 \xc9z");
}

static void
test_prefix(void **state)
{
	(void)state;
	assert_true(str_has_prefix("hash:/etc/aliases", "hash:"));
	assert_true(str_has_prefix("abc", ""));
	assert_false(str_has_prefix("ha", "hash:"));
	assert_false(str_has_prefix("Hash:x", "hash:"));
}

static void
test_list_match(void **state)
{
	(void)state;
	assert_true(str_list_match("alias, forward", "forward"));
	assert_true(str_list_match("alias, forward", "ALIAS"));
	assert_true(str_list_match("a\tb  c", "c"));
	assert_false(str_list_match("alias, forward", "alia"));
	assert_false(str_list_match("alias, forward", "aliases"));
	assert_false(str_list_match("", "alias"));
	assert_false(str_list_match("alias", ""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_split_default_seps),
	    cmocka_unit_test(test_split_own_seps),
	    cmocka_unit_test(test_split_empty),
	    cmocka_unit_test(test_trim),
	    cmocka_unit_test(test_casecmp),
	    cmocka_unit_test(test_lower),
	    cmocka_unit_test(test_prefix),
	    cmocka_unit_test(test_list_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
