/*
 * test_cidr - mynetworks-style address lists.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "cidr.h"

static void
test_match_v4_and_v6(void **state)
{
	struct cidr_list l;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(cidr_list_parse("127.0.0.0/8, [::1]/128 10.1.2.3 "
					 "192.168.0.0/23 2001:db8::/32",
					 &l, &err),
			 0);
	assert_int_equal(l.count, 5);
	assert_true(cidr_list_match_text(&l, "127.1.2.3"));
	assert_true(cidr_list_match_text(&l, "::1"));
	assert_true(cidr_list_match_text(&l, "10.1.2.3"));
	assert_false(cidr_list_match_text(&l, "10.1.2.4"));
	assert_true(cidr_list_match_text(&l, "192.168.1.255"));
	assert_false(cidr_list_match_text(&l, "192.168.2.0"));
	assert_true(cidr_list_match_text(&l, "2001:db8:ffff::1"));
	assert_false(cidr_list_match_text(&l, "2001:db9::1"));
	assert_false(cidr_list_match_text(&l, "::2"));
	/* IPv4-mapped IPv6 clients match IPv4 entries. */
	assert_true(cidr_list_match_text(&l, "::ffff:127.0.0.1"));
	assert_false(cidr_list_match_text(&l, "::ffff:8.8.8.8"));
	assert_false(cidr_list_match_text(&l, "not-an-address"));
	cidr_list_free(&l);
	buf_free(&err);
}

static void
test_empty_list_matches_nothing(void **state)
{
	struct cidr_list l;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(cidr_list_parse("", &l, &err), 0);
	assert_false(cidr_list_match_text(&l, "127.0.0.1"));
	cidr_list_free(&l);
	buf_free(&err);
}

static void
test_zero_prefix_matches_all(void **state)
{
	struct cidr_list l;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(cidr_list_parse("0.0.0.0/0", &l, &err), 0);
	assert_true(cidr_list_match_text(&l, "203.0.113.9"));
	assert_false(cidr_list_match_text(&l, "2001:db8::1"));
	cidr_list_free(&l);
	buf_free(&err);
}

static void
test_errors(void **state)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
	    {"10.1.2.3/8", "bad network \"10.1.2.3/8\": non-null host "
			   "address bits"},
	    {"10.0.0.0/33", "bad network \"10.0.0.0/33\": prefix length "
			    "too large"},
	    {"10.0.0.0/x", "bad network \"10.0.0.0/x\": bad syntax"},
	    {"[::1", "bad network \"[::1\": bad syntax"},
	    {"example.com", "bad network \"example.com\": not a numeric "
			    "address"},
	    {"1.2.3.4/-1", "bad network \"1.2.3.4/-1\": bad syntax"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cidr_list l;
		struct buf err = BUF_INIT;
		assert_int_equal(cidr_list_parse(bad[i].text, &l, &err), -1);
		assert_string_equal(buf_cstr(&err), bad[i].msg);
		assert_int_equal(l.count, 0);
		buf_free(&err);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_match_v4_and_v6),
	    cmocka_unit_test(test_empty_list_matches_nothing),
	    cmocka_unit_test(test_zero_prefix_matches_all),
	    cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
