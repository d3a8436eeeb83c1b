/*
 * test_trace - unit tests of lib/mail/trace: the parts of Received:
 * fields (comments kept with their clause, the date after the last ';'),
 * and the trust marks of a message's fields: our hops on top, a content
 * filter's reinjection, a forged hop and a forged Authentication-Results:
 * that name this host below the first outside hop.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "trace.h"

static void
test_received_parts(void **state)
{
	static const struct {
		const char *value, *from, *by, *with, *id, *date;
	} t[] = {
	    {" from mail.example.org (mail.example.org [192.0.2.1])\r\n"
	     "\tby mx.example.net (Panacea) with ESMTPS id 4ABC\r\n"
	     "\tfor <a@example.net>; Sun, 6 Dec 2026 04:00:00 +0000",
	     "mail.example.org (mail.example.org [192.0.2.1])",
	     "mx.example.net (Panacea)", "ESMTPS", "4ABC",
	     "Sun, 6 Dec 2026 04:00:00 +0000"},
	    {" by host.example (Panacea, from userid 1000) id X1; Mon, 7 Dec "
	     "2026 01:02:03 +0100",
	     "-", "host.example (Panacea, from userid 1000)", "-", "X1",
	     "Mon, 7 Dec 2026 01:02:03 +0100"},
	    {" from a (comment; with a semicolon) by b",
	     "a (comment; with a "
	     "semicolon)",
	     "b", "-", "-", "-"},
	    {"", "-", "-", "-", "-", "-"},
	    {" FROM x\x01y BY z", "x?y", "z", "-", "-", "-"},
	};
	struct trace_hop hop;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		trace_received(t[i].value, strlen(t[i].value), &hop);
		assert_string_equal(hop.from, t[i].from);
		assert_string_equal(hop.by, t[i].by);
		assert_string_equal(hop.with, t[i].with);
		assert_string_equal(hop.id, t[i].id);
		assert_string_equal(hop.date, t[i].date);
	}
}

static void
test_trust(void **state)
{
	const char *msg =
	    "From sender@example.org Sun Dec  6 04:00:00 2026\n"
	    "Authentication-Results: mx.example.net; spf=pass "
	    "smtp.mailfrom=example.org (comment);\n dmarc=pass\n"
	    "Received: from localhost (localhost [127.0.0.1])\n"
	    "\tby mx.example.net (Panacea) with ESMTP id B; d1\n"
	    "Received: from mail.example.org (mail.example.org [192.0.2.1])\n"
	    "\tby mx.example.net (Panacea) with ESMTP id A; d2\n"
	    "Authentication-Results: mx.example.net; dkim=pass\n"
	    "Authentication-Results: other.example 1; none\n"
	    "Received: from evil by mx.example.net with SMTP id F; d3\n"
	    "Subject: hi\n"
	    "\n"
	    "Received: from body by mx.example.net; d4\n";
	const char *want =
	    "  auth ours: mx.example.net: spf=pass smtp.mailfrom=example.org; "
	    "dmarc=pass\n"
	    "1 ours: from localhost (localhost [127.0.0.1]); by mx.example.net "
	    "(Panacea); with ESMTP; id B; date d1\n"
	    "2 ours: from mail.example.org (mail.example.org [192.0.2.1]); by "
	    "mx.example.net (Panacea); with ESMTP; id A; date d2\n"
	    "  auth outside, claims this host: mx.example.net: dkim=pass\n"
	    "  auth outside: other.example: none\n"
	    "3 outside, claims this host: from evil; by mx.example.net; with "
	    "SMTP; id F; date d3\n";
	struct buf out = BUF_INIT;

	(void)state;
	assert_int_equal(
	    trace_message(msg, strlen(msg), "mx.example.net", &out), 3);
	assert_string_equal(buf_cstr(&out), want);
	/* Seen from another host, nothing is ours. */
	buf_reset(&out);
	trace_message(msg, strlen(msg), "elsewhere.example", &out);
	assert_null(strstr(buf_cstr(&out), "ours"));
	/* A top hop that is not ours makes every hop outside. */
	buf_reset(&out);
	msg = "Received: from a by relay.example; d\r\n"
	      "Received: from b by mx.example.net; d\r\n\r\n";
	trace_message(msg, strlen(msg), "mx.example.net", &out);
	assert_string_equal(buf_cstr(&out),
			    "1 outside: from a; by relay.example; with -; id "
			    "-; date d\n"
			    "2 outside, claims this host: from b; by "
			    "mx.example.net; with -; id -; date d\n");
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_received_parts),
	    cmocka_unit_test(test_trust),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
