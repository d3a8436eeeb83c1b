/*
 * test_qmgr_proto - lib/qmgr_proto: every request form of public/qmgr,
 * and what is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "qmgr_proto.h"

static int
parse(const char *s, struct qmgr_request *r)
{
	return qmgr_request_parse(s, strlen(s), r);
}

static void
test_forms(void **state)
{
	struct qmgr_request r;

	(void)state;
	assert_int_equal(parse("", &r), 0);
	assert_int_equal(r.type, QMGR_REQUEST_NONE);
	assert_int_equal(parse("W", &r), 0);
	assert_int_equal(r.type, QMGR_REQUEST_WAKEUP);
	assert_int_equal(parse("WWW", &r), 0);
	assert_int_equal(r.type, QMGR_REQUEST_WAKEUP);
	assert_int_equal(parse("WFW", &r), 0);
	assert_int_equal(r.type, QMGR_REQUEST_FLUSH);
	assert_int_equal(parse("Sexample.org", &r), 0);
	assert_int_equal(r.type, QMGR_REQUEST_FLUSH_SITE);
	assert_string_equal(r.arg, "example.org");
	assert_int_equal(parse("S[192.0.2.1]:25", &r), 0);
	assert_string_equal(r.arg, "[192.0.2.1]:25");
	assert_int_equal(parse("S", &r), 0);
	assert_int_equal(r.type, QMGR_REQUEST_WAKEUP);
	assert_int_equal(parse("I0123456789ABCDEF", &r), 0);
	assert_int_equal(r.type, QMGR_REQUEST_DELIVER_ONE);
	assert_string_equal(r.arg, "0123456789ABCDEF");
}

static void
test_refused(void **state)
{
	static const char *const bad[] = {
	    "X",
	    "w",
	    "WX",
	    "I",
	    "Inot-an-id",
	    "I0123456789ABCDEF0",
	    "Sexample.org evil",
	    "Sa\tb",
	    "Sa\x7f",
	    "S\xc3\xa9.example",
	};
	struct qmgr_request r;
	char big[QMGR_SITE_MAX + 3];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], &r) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
	assert_int_equal(qmgr_request_parse("Sa\0b", 4, &r), -1);
	big[0] = 'S';
	memset(big + 1, 'a', QMGR_SITE_MAX + 1);
	big[QMGR_SITE_MAX + 2] = '\0';
	assert_int_equal(parse(big, &r), -1);
	big[QMGR_SITE_MAX + 1] = '\0';
	assert_int_equal(parse(big, &r), 0);
	assert_int_equal(strlen(r.arg), QMGR_SITE_MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_forms),
	    cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
