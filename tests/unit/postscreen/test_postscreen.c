/*
 * test_postscreen - postscreen's pure parts: the DNSBL site list and the
 * lookup child's result line, the access list (inline: and cidr-like
 * words, mynetworks), the cache value and the pregreet's log text.  The
 * wire, the hand-off and the log lines are
 * tests/integration/test_postscreen.py's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "buf.h"
#include "match_list.h"
#include "postscreen.h"
#include "xalloc.h"

static void
test_actions(void **state)
{
	(void)state;
	assert_int_equal(ps_action_parse("ignore"), PS_ACT_IGNORE);
	assert_int_equal(ps_action_parse("ENFORCE"), PS_ACT_ENFORCE);
	assert_int_equal(ps_action_parse("drop"), PS_ACT_DROP);
	assert_int_equal(ps_action_parse("reject"), -1);
	assert_int_equal(ps_action_parse(""), -1);
}

static void
test_sites(void **state)
{
	struct ps_dnsbl_sites s;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(ps_dnsbl_sites_parse("zen.example*2, "
					      "bl.example=127.0.0.[2..4] "
					      "wl.example=127.0.1.1*-3",
					      &s, &err),
			 0);
	assert_int_equal(s.count, 3);
	assert_string_equal(s.items[0].zone, "zen.example");
	assert_int_equal(s.items[0].weight, 2);
	assert_null(s.items[0].filter);
	assert_string_equal(s.items[1].zone, "bl.example");
	assert_int_equal(s.items[1].weight, 1);
	assert_non_null(s.items[1].filter);
	assert_string_equal(s.items[2].zone, "wl.example");
	assert_int_equal(s.items[2].weight, -3);
	ps_dnsbl_sites_free(&s);
	assert_int_equal(ps_dnsbl_sites_parse("", &s, &err), 0);
	assert_int_equal(s.count, 0);

	assert_int_equal(ps_dnsbl_sites_parse("a.example*x", &s, &err), -1);
	assert_string_equal(buf_cstr(&err),
			    "\"a.example*x\": bad weight \"x\"");
	buf_reset(&err);
	assert_int_equal(
	    ps_dnsbl_sites_parse("ok.example, bad..name", &s, &err), -1);
	assert_string_equal(buf_cstr(&err),
			    "\"bad..name\" is not a DNS domain");
	assert_int_equal(s.count, 0);
	buf_reset(&err);
	assert_int_equal(ps_dnsbl_sites_parse("a.example=127.0.0", &s, &err),
			 -1);
	buf_free(&err);
}

static void
test_result(void **state)
{
	char zone[300];
	int score;

	(void)state;
	assert_int_equal(ps_dnsbl_result_parse("3 zen.example\n", &score, zone,
					       sizeof(zone)),
			 0);
	assert_int_equal(score, 3);
	assert_string_equal(zone, "zen.example");
	assert_int_equal(
	    ps_dnsbl_result_parse("-2 -\n", &score, zone, sizeof(zone)), 0);
	assert_int_equal(score, -2);
	assert_int_equal(
	    ps_dnsbl_result_parse("3 zen.example", &score, zone, sizeof(zone)),
	    -1);
	assert_int_equal(
	    ps_dnsbl_result_parse("x zen\n", &score, zone, sizeof(zone)), -1);
	assert_int_equal(
	    ps_dnsbl_result_parse("1 a;b\n", &score, zone, sizeof(zone)), -1);
	assert_int_equal(ps_dnsbl_result_parse("", &score, zone, sizeof(zone)),
			 -1);
}

static void
test_access(void **state)
{
	struct buf err = BUF_INIT;
	struct match_list *mynet =
	    match_list_open("mynetworks", "192.0.2.0/24", &err);
	struct ps_access_list *l;

	(void)state;
	assert_non_null(mynet);
	l = ps_access_open("permit_mynetworks, "
			   "inline:{ 198.51.100.1=reject, 198.51.100.2=dunno, "
			   "198.51.100.3=permit, 198.51.100.4=bogus }, "
			   "inline:{ 198.51.100.2=reject }",
			   mynet, &err);
	assert_non_null(l);
	assert_int_equal(ps_access_eval(l, "192.0.2.7"), PS_ACCESS_PERMIT);
	assert_int_equal(ps_access_eval(l, "198.51.100.1"), PS_ACCESS_REJECT);
	/* dunno in a table: the next entry decides. */
	assert_int_equal(ps_access_eval(l, "198.51.100.2"), PS_ACCESS_REJECT);
	assert_int_equal(ps_access_eval(l, "198.51.100.3"), PS_ACCESS_PERMIT);
	assert_int_equal(ps_access_eval(l, "198.51.100.4"), PS_ACCESS_DUNNO);
	assert_int_equal(ps_access_eval(l, "203.0.113.9"), PS_ACCESS_DUNNO);
	/* dunno as an entry ends the search. */
	ps_access_free(l);
	l = ps_access_open("dunno, reject", mynet, &err);
	assert_int_equal(ps_access_eval(l, "203.0.113.9"), PS_ACCESS_DUNNO);
	ps_access_free(l);
	l = ps_access_open("", mynet, &err);
	assert_int_equal(ps_access_eval(l, "192.0.2.7"), PS_ACCESS_DUNNO);
	ps_access_free(l);
	assert_null(ps_access_open("permit_mynetworks, allow", mynet, &err));
	assert_string_equal(buf_cstr(&err),
			    "unknown entry \"allow\" (permit_mynetworks, "
			    "permit, reject, dunno or type:table)");
	match_list_free(mynet);
	buf_free(&err);
}

static void
test_cache_value(void **state)
{
	long long g, d;

	(void)state;
	assert_int_equal(ps_cache_value_parse("100;200", 7, &g, &d), 0);
	assert_true(g == 100 && d == 200);
	assert_int_equal(ps_cache_value_parse("100;0", 5, &g, &d), 0);
	assert_int_equal(ps_cache_value_parse("100", 3, &g, &d), -1);
	assert_int_equal(ps_cache_value_parse("a;1", 3, &g, &d), -1);
	assert_int_equal(ps_cache_value_parse("1;-1", 4, &g, &d), -1);
	assert_int_equal(ps_cache_value_parse("", 0, &g, &d), -1);
}

static void
test_escape(void **state)
{
	struct buf b = BUF_INIT;
	char big[300];

	(void)state;
	ps_escape(&b, "EHLO x\r\n\x01\\", 10, 100);
	assert_string_equal(buf_cstr(&b), "EHLO x\\r\\n\\001\\\\");
	buf_reset(&b);
	memset(big, 'a', sizeof(big));
	ps_escape(&b, big, sizeof(big), 100);
	assert_int_equal(b.len, 100);
	buf_free(&b);
}

/* ps_path_arg(command) is want. */
static void
expect_path_arg(const char *command, const char *want)
{
	char *p = ps_path_arg(command);

	assert_string_equal(p, want);
	xfree(p);
}

static void
test_path_arg(void **state)
{
	(void)state;
	expect_path_arg("MAIL FROM:<a@example.org> SIZE=10", "a@example.org");
	expect_path_arg("RCPT TO: b@example.org NOTIFY=NEVER", "b@example.org");
	expect_path_arg("RCPT TO:<x\ty", "x\\ty");
	expect_path_arg("RCPT", "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_actions),	cmocka_unit_test(test_sites),
	    cmocka_unit_test(test_result),	cmocka_unit_test(test_access),
	    cmocka_unit_test(test_cache_value), cmocka_unit_test(test_escape),
	    cmocka_unit_test(test_path_arg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
