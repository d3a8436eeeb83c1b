/*
 * test_anvil_proto - lib/anvil_proto: requests and replies round-trip;
 * an unknown request word, a missing, repeated or unknown attribute, a
 * control character or an out-of-range number is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "anvil_proto.h"
#include "attr.h"
#include "buf.h"

static int
decode_request(const struct attr_list *l, struct anvil_request *r)
{
	struct buf why = BUF_INIT;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = anvil_request_decode(l, r, &why);
	if (rc < 0)
		assert_true(why.len > 0);
	buf_free(&why);
	return rc;
}

static int
decode_reply(const struct attr_list *l, struct anvil_reply *r)
{
	struct buf why = BUF_INIT;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = anvil_reply_decode(l, r, &why);
	if (rc < 0)
		assert_true(why.len > 0);
	buf_free(&why);
	return rc;
}

static void
test_requests_round_trip(void **state)
{
	(void)state;
	for (int t = 0; t < ANVIL_REQ_COUNT; t++) {
		struct anvil_request r = {(enum anvil_request_type)t,
					  (char *)"smtp:192.0.2.1"};
		struct anvil_request d;
		struct attr_list l = ATTR_LIST_INIT;

		anvil_request_encode(&r, &l);
		assert_int_equal(l.count, 2);
		assert_string_equal(attr_get_str(&l, "request"),
				    anvil_request_name(r.type));
		assert_int_equal(decode_request(&l, &d), 0);
		assert_int_equal(d.type, t);
		assert_string_equal(d.ident, "smtp:192.0.2.1");
		anvil_request_free(&d);
		assert_null(d.ident);
		attr_list_free(&l);
	}
	assert_string_equal(anvil_request_name(ANVIL_REQ_NEWTLS_REPORT),
			    "newtls_report");
}

/* A request list of (name, value) pairs, NULL-terminated. */
static int
request_of(const char *const *pairs)
{
	struct attr_list l = ATTR_LIST_INIT;
	struct anvil_request d;
	int rc;

	for (; pairs[0]; pairs += 2)
		attr_add_str(&l, pairs[0], pairs[1]);
	rc = decode_request(&l, &d);
	anvil_request_free(&d);
	attr_list_free(&l);
	return rc;
}

static void
test_requests_refused(void **state)
{
	char long_ident[ANVIL_IDENT_MAX + 2];

	(void)state;
	memset(long_ident, 'a', sizeof(long_ident) - 1);
	long_ident[sizeof(long_ident) - 1] = '\0';
	{
		const char *ok[] = {"request", "auth", "ident", "x:1", NULL};
		assert_int_equal(request_of(ok), 0);
	}
	{
		const char *unknown[] = {"request", "lookup", "ident", "x:1",
					 NULL};
		assert_int_equal(request_of(unknown), -1);
	}
	{
		const char *upper[] = {"request", "CONNECT", "ident", "x:1",
				       NULL};
		assert_int_equal(request_of(upper), -1);
	}
	{
		const char *no_ident[] = {"request", "connect", NULL};
		assert_int_equal(request_of(no_ident), -1);
	}
	{
		const char *empty[] = {"request", "connect", "ident", "", NULL};
		assert_int_equal(request_of(empty), -1);
	}
	{
		const char *ctl[] = {"request", "connect", "ident", "x:1\n2",
				     NULL};
		assert_int_equal(request_of(ctl), -1);
	}
	{
		const char *twice[] = {"request", "connect", "ident", "x:1",
				       "ident",	  "x:2",     NULL};
		assert_int_equal(request_of(twice), -1);
	}
	{
		const char *extra[] = {"request", "connect", "ident", "x:1",
				       "count",	  "1",	     NULL};
		assert_int_equal(request_of(extra), -1);
	}
	{
		const char *huge[] = {"request", "connect", "ident", long_ident,
				      NULL};
		assert_int_equal(request_of(huge), -1);
		long_ident[ANVIL_IDENT_MAX] = '\0';
		assert_int_equal(request_of(huge), 0);
	}
}

static void
test_replies(void **state)
{
	struct anvil_reply r = {0, 51, 7}, d;
	struct attr_list l = ATTR_LIST_INIT;

	(void)state;
	anvil_reply_encode(&r, &l);
	assert_int_equal(l.count, 3);
	assert_int_equal(decode_reply(&l, &d), 0);
	assert_int_equal(d.status, 0);
	assert_int_equal(d.count, 51);
	assert_int_equal(d.rate, 7);
	attr_list_free(&l);

	attr_add_str(&l, "status", "-1");
	attr_add_str(&l, "count", "0");
	attr_add_str(&l, "rate", "0");
	assert_int_equal(decode_reply(&l, &d), 0);
	assert_int_equal(d.status, -1);
	attr_list_free(&l);

	/* Out of range, malformed, missing. */
	attr_add_str(&l, "status", "1");
	attr_add_str(&l, "count", "0");
	attr_add_str(&l, "rate", "0");
	assert_int_equal(decode_reply(&l, &d), -1);
	attr_list_free(&l);
	attr_add_str(&l, "status", "0");
	attr_add_str(&l, "count", "-1");
	attr_add_str(&l, "rate", "0");
	assert_int_equal(decode_reply(&l, &d), -1);
	attr_list_free(&l);
	attr_add_str(&l, "status", "0");
	attr_add_str(&l, "count", "0");
	attr_add_str(&l, "rate", "2147483648");
	assert_int_equal(decode_reply(&l, &d), -1);
	attr_list_free(&l);
	attr_add_str(&l, "status", "0");
	attr_add_str(&l, "count", "01");
	attr_add_str(&l, "rate", "0");
	assert_int_equal(decode_reply(&l, &d), -1);
	attr_list_free(&l);
	attr_add_str(&l, "status", "0");
	attr_add_str(&l, "rate", "0");
	assert_int_equal(decode_reply(&l, &d), -1);
	attr_list_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_requests_round_trip),
	    cmocka_unit_test(test_requests_refused),
	    cmocka_unit_test(test_replies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
