/*
 * test_auth_results - the Authentication-Results: writer and the
 * removal of fields claiming our authserv-id (lib/mail/auth_results.c,
 * RFC 8601).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth_results.h"
#include "buf.h"

static void
test_build(void **state)
{
	struct dkim_verdict v[2] = {
	    {.result = DKIM_PASS,
	     .d = "example.com",
	     .s = "sel",
	     .b = "abcd+/12",
	     .reason = ""},
	    {.result = DKIM_FAIL,
	     .d = "example.org",
	     .s = "s2",
	     .b = "zzzzzzzz",
	     .reason = "body hash mismatch"},
	};
	struct auth_results_in in = {
	    .authserv_id = "mx.example.net",
	    .auth_user = "joe user",
	    .spf = "pass",
	    .spf_identity = "mailfrom",
	    .spf_value = "joe@example.com",
	    .dkim_checked = 1,
	    .dkim = v,
	    .ndkim = 2,
	};
	struct buf out = BUF_INIT;

	(void)state;
	auth_results_build(&in, &out);
	assert_string_equal(
	    buf_cstr(&out),
	    "Authentication-Results: mx.example.net; auth=pass "
	    "smtp.auth=\"joe user\";\r\n"
	    "\tspf=pass smtp.mailfrom=joe@example.com;\r\n"
	    "\tdkim=pass header.d=example.com header.s=sel "
	    "header.b=abcd+/12;\r\n"
	    "\tdkim=fail (body hash mismatch) header.d=example.org "
	    "header.s=s2\r\n\theader.b=zzzzzzzz\r\n");
	/* Nothing evaluated: "none" (RFC 8601 2.2); verification that found
	 * no signature: dkim=none; the DMARC slot. */
	buf_reset(&out);
	memset(&in, 0, sizeof(in));
	in.authserv_id = "mx";
	auth_results_build(&in, &out);
	assert_string_equal(buf_cstr(&out),
			    "Authentication-Results: mx; none\r\n");
	buf_reset(&out);
	in.dkim_checked = 1;
	in.dmarc = "pass";
	in.dmarc_from = "example.com";
	auth_results_build(&in, &out);
	assert_string_equal(buf_cstr(&out),
			    "Authentication-Results: mx; dkim=none;\r\n"
			    "\tdmarc=pass header.from=example.com\r\n");
	buf_free(&out);
}

static void
test_id(void **state)
{
	char id[64];

	(void)state;
	assert_int_equal(auth_results_id(" (c (nested)) MX.Example; spf=pass",
					 34, id, sizeof(id)),
			 0);
	assert_string_equal(id, "mx.example");
	assert_int_equal(auth_results_id(" mx 1; none", 11, id, sizeof(id)), 0);
	assert_string_equal(id, "mx");
	assert_int_equal(
	    auth_results_id(" (only a comment)", 17, id, sizeof(id)), -1);
	assert_int_equal(auth_results_id(" x", 2, id, 2), 0);
	assert_int_equal(auth_results_id(" xy", 3, id, 2), -1);
}

static void
test_strip(void **state)
{
	const char msg[] =
	    "Received: x\r\n"
	    "Authentication-Results: MX.example.net; dkim=pass\r\n"
	    "Authentication-Results: other.example; spf=pass\r\n"
	    "authentication-results: (forged)\r\n"
	    "  mx.example.net;\r\n\tspf=pass\r\n"
	    "Subject: hi\r\n\r\n"
	    "Authentication-Results: mx.example.net; body\r\n";
	struct buf out = BUF_INIT;

	(void)state;
	assert_int_equal(
	    auth_results_strip(msg, strlen(msg), "mx.example.net", &out), 2);
	assert_string_equal(
	    buf_cstr(&out),
	    "Received: x\r\n"
	    "Authentication-Results: other.example; spf=pass\r\n"
	    "Subject: hi\r\n\r\n"
	    "Authentication-Results: mx.example.net; body\r\n");
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_build),
	    cmocka_unit_test(test_id),
	    cmocka_unit_test(test_strip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
