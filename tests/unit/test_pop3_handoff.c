/*
 * test_pop3_handoff - lib/pop3_handoff: the front's list round-trips;
 * a missing, repeated, unknown or malformed attribute is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "attr.h"
#include "buf.h"
#include "pop3_handoff.h"

#define TICKET "0123456789abcdef0123456789abcdef"

static int
decode(const struct attr_list *l, struct pop3_handoff *h)
{
	struct buf why = BUF_INIT;
	int rc;

	memset(h, 0, sizeof(*h));
	rc = pop3_handoff_decode(l, h, &why);
	if (rc < 0)
		assert_true(why.len > 0);
	buf_free(&why);
	return rc;
}

static void
test_round_trip(void **state)
{
	struct pop3_handoff h = {(char *)TICKET, (char *)"USER", (char *)""};
	struct pop3_handoff d;
	struct attr_list l = ATTR_LIST_INIT;

	(void)state;
	pop3_handoff_encode(&h, &l);
	assert_int_equal(l.count, 3);
	assert_int_equal(decode(&l, &d), 0);
	assert_string_equal(d.ticket, TICKET);
	assert_string_equal(d.method, "USER");
	assert_string_equal(d.tls, "");
	pop3_handoff_free(&d);
	assert_null(d.ticket);
	attr_list_free(&l);
}

/* A valid list with one change. */
static int
with(const char *name, const char *value)
{
	static const char *const pairs[][2] = {
	    {"ticket", TICKET}, {"method", "APOP"}, {"tls", "TLSv1.3"}};
	struct attr_list l = ATTR_LIST_INIT;
	struct pop3_handoff d;
	int found = 0, rc;

	for (size_t i = 0; i < 3; i++) {
		if (strcmp(pairs[i][0], name) == 0) {
			found = 1;
			if (value)
				attr_add_str(&l, name, value);
			continue;
		}
		attr_add_str(&l, pairs[i][0], pairs[i][1]);
	}
	if (!found)
		attr_add_str(&l, name, value);
	rc = decode(&l, &d);
	pop3_handoff_free(&d);
	attr_list_free(&l);
	return rc;
}

static void
test_refused(void **state)
{
	(void)state;
	assert_int_equal(with("method", "USER"), 0);
	assert_int_equal(with("ticket", NULL), -1);
	assert_int_equal(with("ticket", "0123456789ABCDEF0123456789ABCDEF"),
			 -1);
	assert_int_equal(with("ticket", "0123"), -1);
	assert_int_equal(with("method", NULL), -1);
	assert_int_equal(with("method", ""), -1);
	assert_int_equal(with("method", "USER\r\n+OK"), -1);
	assert_int_equal(with("tls", NULL), -1);
	assert_int_equal(with("user", "root"), -1);
}

static void
test_repeated(void **state)
{
	struct attr_list l = ATTR_LIST_INIT;
	struct pop3_handoff d;

	(void)state;
	attr_add_str(&l, "ticket", TICKET);
	attr_add_str(&l, "method", "USER");
	attr_add_str(&l, "tls", "");
	attr_add_str(&l, "ticket", TICKET);
	assert_int_equal(decode(&l, &d), -1);
	pop3_handoff_free(&d);
	attr_list_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_repeated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
