/*
 * test_smtpd_policy_proto - the policy protocol codec
 * (smtpd/smtpd_policy_proto.c): requests carry no control character a
 * client could smuggle an attribute with, and replies are taken only
 * when well formed (action=, name=value lines, an empty line at the end,
 * bounded).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "buf.h"
#include "smtpd_policy_proto.h"

static void
test_request(void **state)
{
	struct buf b = BUF_INIT;
	char big[POLICY_VALUE_MAX + 100];

	(void)state;
	policy_request_add(&b, "request", "smtpd_access_policy");
	policy_request_add(&b, "helo_name", "evil\nrecipient=x@y\r");
	policy_request_add(&b, "sender", NULL);
	policy_request_end(&b);
	assert_string_equal(buf_cstr(&b), "request=smtpd_access_policy\n"
					  "helo_name=evil?recipient=x@y?\n"
					  "sender=\n"
					  "\n");
	buf_reset(&b);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	policy_request_add(&b, "x", big);
	assert_int_equal(b.len, 2 + POLICY_VALUE_MAX + 1);
	buf_free(&b);
}

/* Feeds text line by line; the last status. */
static int
feed(struct policy_reply *r, const char *text, struct buf *err)
{
	int rc = 0;

	while (*text && rc == 0) {
		const char *nl = strchr(text, '\n');
		size_t n = nl ? (size_t)(nl - text) : strlen(text);
		rc = policy_reply_line(r, text, n, err);
		text += n + (nl != NULL);
	}
	return rc;
}

static void
expect_reply(const char *text, int want, const char *action, const char *why)
{
	struct policy_reply r;
	struct buf err = BUF_INIT;
	int rc;

	policy_reply_init(&r);
	rc = feed(&r, text, &err);
	if (rc != want)
		fail_msg("%s: %d, want %d (%s)", text, rc, want,
			 buf_cstr(&err));
	if (action)
		assert_string_equal(buf_cstr(&r.action), action);
	if (why)
		assert_string_equal(buf_cstr(&err), why);
	policy_reply_free(&r);
	buf_free(&err);
}

static void
test_reply(void **state)
{
	struct buf many = BUF_INIT;

	(void)state;
	expect_reply("action=DUNNO\n\n", 1, "DUNNO", NULL);
	expect_reply("action=DEFER_IF_PERMIT 4.2.0 Greylisted\r\n\r\n", 1,
		     "DEFER_IF_PERMIT 4.2.0 Greylisted", NULL);
	/* Other attributes are ignored; the last action counts. */
	expect_reply("foo=bar\naction=OK\nx=y=z\n\n", 1, "OK", NULL);
	expect_reply("action=  REJECT spaced\n\n", 1, "REJECT spaced", NULL);
	/* Not complete yet. */
	expect_reply("action=OK\n", 0, NULL, NULL);
	expect_reply("\n", -1, NULL, "reply without action=");
	expect_reply("foo=bar\n\n", -1, NULL, "reply without action=");
	expect_reply("garbage\n\n", -1, NULL, "malformed reply line");
	expect_reply("=x\n\n", -1, NULL, "malformed reply line");
	for (int i = 0; i <= POLICY_REPLY_LINES; i++)
		buf_puts(&many, "a=b\n");
	expect_reply(buf_cstr(&many), -1, NULL, "reply too long");
	buf_free(&many);
}

static void
test_after_end(void **state)
{
	struct policy_reply r;
	struct buf err = BUF_INIT;

	(void)state;
	policy_reply_init(&r);
	assert_int_equal(feed(&r, "action=OK\n\n", &err), 1);
	assert_int_equal(policy_reply_line(&r, "action=REJECT", 13, &err), -1);
	assert_string_equal(buf_cstr(&r.action), "OK");
	policy_reply_free(&r);
	buf_free(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request),
	    cmocka_unit_test(test_reply),
	    cmocka_unit_test(test_after_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
