/*
 * test_dsn - RFC 3464 notifications (qmgr/dsn): the structure, the report
 * fields, what part of the original is returned, sanitising of values
 * that come from outside, and error propagation from the reader and the
 * writer.  (The integration tests parse real bounces with Python's email
 * package.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dsn.h"
#include "queue.h"

static const char ORIGINAL[] =
    "Received: from client (localhost [127.0.0.1])\r\n"
    "\tby panacea.test (Panacea) with ESMTP id X\r\n"
    "Subject: hello\r\n"
    "\r\n"
    "body line 1\r\n"
    "body line 2\r\n";

/* The original, handed out in chunks of `step` bytes. */
struct reader {
	const char *data;
	size_t len, pos, step;
	int fail_at; /* fail on this call (1-based), 0 never */
	int calls;
};

static int
rd(void *ctx, struct buf *chunk)
{
	struct reader *r = ctx;
	size_t n;

	if (++r->calls == r->fail_at)
		return -1;
	if (r->pos >= r->len)
		return 0;
	n = r->len - r->pos < r->step ? r->len - r->pos : r->step;
	buf_reset(chunk);
	buf_append(chunk, r->data + r->pos, n);
	r->pos += n;
	return 1;
}

struct writer {
	struct buf out;
	int fail;
};

static int
wr(void *ctx, const void *data, size_t len)
{
	struct writer *w = ctx;

	if (w->fail)
		return -1;
	buf_append(&w->out, data, len);
	return 0;
}

static struct dsn_msg
msg(enum dsn_kind kind)
{
	struct dsn_msg m = {
	    .kind = kind,
	    .myhostname = "panacea.test",
	    .queue_id = "0ABCDEFGHJK12345",
	    .sender = "alice@example.org",
	    .to = "alice@example.org",
	    .new_id = "0ABCDEFGHJK99999",
	    .envid = "",
	    .ret = QUEUE_RET_NONE,
	    .arrival = 1700000000,
	    .now = 1700003600,
	    .lifetime = 5 * 86400,
	    .size = sizeof(ORIGINAL) - 1,
	    .return_limit = 50000,
	};
	return m;
}

static char *
compose(const struct dsn_msg *m, const struct dsn_rcpt *r, size_t n,
	size_t step)
{
	struct reader rr = {ORIGINAL, sizeof(ORIGINAL) - 1, 0, step, 0, 0};
	struct writer w = {BUF_INIT, 0};

	assert_int_equal(dsn_compose(m, r, n, rd, &rr, wr, &w), 0);
	return buf_steal(&w.out);
}

/* The part of text between the nth boundary line and the next. */
static char *
part(const char *text, const char *boundary, int nth)
{
	char delim[256];
	const char *p = text, *q;

	snprintf(delim, sizeof(delim), "\r\n--%s", boundary);
	for (int i = 0; i < nth; i++) {
		p = strstr(p, delim);
		assert_non_null(p);
		p += strlen(delim);
	}
	q = strstr(p, delim);
	assert_non_null(q);
	return strndup(p, (size_t)(q - p));
}

static const struct dsn_rcpt two_failed[] = {
    {"bob@panacea.test", "rfc822;bob+2Bx@panacea.test", DSN_ACTION_FAILED,
     "5.1.1", "unknown user: \"bob\"", ""},
    {"carol@remote.example", "", DSN_ACTION_FAILED, "5.7.1",
     "host mx.remote.example[192.0.2.7] said: 550 5.7.1 go away (in "
     "reply to RCPT TO command)",
     "mx.remote.example[192.0.2.7]:25"},
};

#define BOUNDARY "0ABCDEFGHJK99999.1700003600/panacea.test"

static void
test_failure_structure(void **state)
{
	struct dsn_msg m = msg(DSN_KIND_FAILURE);
	char *out, *p1, *p2, *p3;

	(void)state;
	m.envid = "env+2Bid";
	out = compose(&m, two_failed, 2, 7);
	assert_true(strncmp(out,
			    "From: MAILER-DAEMON@panacea.test (Mail Delivery "
			    "System)\r\nSubject: Undelivered Mail Returned to "
			    "Sender\r\nTo: alice@example.org\r\n",
			    120) == 0);
	assert_non_null(strstr(out, "\r\nAuto-Submitted: auto-replied\r\n"));
	assert_non_null(strstr(out, "Content-Type: multipart/report; "
				    "report-type=delivery-status;\r\n"
				    "\tboundary=\"" BOUNDARY "\"\r\n"));
	assert_null(strstr(out, "Content-Transfer-Encoding"));
	/* Closing delimiter at the very end. */
	assert_true(strlen(out) > 50);
	assert_string_equal(out + strlen(out) - strlen("--" BOUNDARY "--\r\n"),
			    "--" BOUNDARY "--\r\n");

	p1 = part(out, BOUNDARY, 1);
	assert_non_null(strstr(p1, "Content-Type: text/plain"));
	assert_non_null(
	    strstr(p1, "This is the mail system at host panacea.test."));
	assert_non_null(
	    strstr(p1, "<bob@panacea.test>: unknown user: \"bob\""));
	/* Long reasons are wrapped, continuation lines indented. */
	assert_non_null(strstr(p1, "<carol@remote.example>: host "));
	assert_non_null(strstr(p1, "\r\n    "));

	p2 = part(out, BOUNDARY, 2);
	assert_non_null(strstr(p2, "Content-Type: message/delivery-status\r\n"
				   "\r\nReporting-MTA: dns; panacea.test\r\n"
				   "X-Panacea-Queue-ID: 0ABCDEFGHJK12345\r\n"));
	assert_non_null(strstr(p2, "Arrival-Date: "));
	/* ENVID and ORCPT are xtext-decoded. */
	assert_non_null(strstr(p2, "Original-Envelope-Id: env+id\r\n"));
	assert_non_null(strstr(p2, "\r\n\r\nFinal-Recipient: rfc822; "
				   "bob@panacea.test\r\nOriginal-Recipient: "
				   "rfc822; bob+x@panacea.test\r\nAction: "
				   "failed\r\nStatus: 5.1.1\r\n"));
	assert_non_null(strstr(
	    p2, "Diagnostic-Code: X-Panacea; unknown user: \"bob\"\r\n"));
	assert_non_null(strstr(p2,
			       "Final-Recipient: rfc822; "
			       "carol@remote.example\r\nAction: failed\r\n"
			       "Status: 5.7.1\r\nRemote-MTA: dns; "
			       "mx.remote.example\r\nDiagnostic-Code: smtp; "
			       "550 5.7.1 go away\r\n"));

	/* The whole original, byte for byte, by default. */
	p3 = part(out, BOUNDARY, 3);
	assert_non_null(strstr(p3, "Content-Type: message/rfc822\r\n\r\n"));
	assert_string_equal(strstr(p3, "\r\n\r\n") + 4, ORIGINAL);
	free(p1);
	free(p2);
	free(p3);
	free(out);
}

static void
test_headers_only(void **state)
{
	struct dsn_msg m = msg(DSN_KIND_FAILURE);
	const char *hdr_end = strstr(ORIGINAL, "\r\n\r\n") + 4;
	size_t hlen = (size_t)(hdr_end - ORIGINAL);
	char *out, *p3;

	(void)state;
	/* RET=HDRS, with chunk boundaries inside the empty line. */
	for (size_t step = 1; step < 12; step++) {
		m.ret = QUEUE_RET_HDRS;
		out = compose(&m, two_failed, 1, step);
		p3 = part(out, BOUNDARY, 3);
		assert_non_null(
		    strstr(p3, "Content-Type: text/rfc822-headers"));
		assert_true(strlen(strstr(p3, "\r\n\r\n") + 4) == hlen);
		assert_memory_equal(strstr(p3, "\r\n\r\n") + 4, ORIGINAL, hlen);
		free(p3);
		free(out);
	}
	/* Larger than the return limit: headers only too. */
	m.ret = QUEUE_RET_FULL;
	m.return_limit = 10;
	out = compose(&m, two_failed, 1, 4096);
	assert_non_null(strstr(out, "text/rfc822-headers"));
	assert_null(strstr(out, "body line 1"));
	free(out);
	/* Delay and success notices never return the body. */
	m = msg(DSN_KIND_DELAY);
	m.ret = QUEUE_RET_FULL;
	out = compose(&m, two_failed, 1, 4096);
	assert_null(strstr(out, "body line 1"));
	free(out);
}

static void
test_delay_and_success(void **state)
{
	struct dsn_msg m = msg(DSN_KIND_DELAY);
	struct dsn_rcpt d = {"bob@x.example",
			     "",
			     DSN_ACTION_DELAYED,
			     "4.4.1",
			     "connect to x.example: Connection refused",
			     ""};
	struct dsn_rcpt s = {"bob@x.example",	     "",
			     DSN_ACTION_DELIVERED,   "2.0.0",
			     "delivered to mailbox", ""};
	char *out;

	(void)state;
	out = compose(&m, &d, 1, 4096);
	assert_non_null(strstr(out, "Subject: Delayed Mail (still being "
				    "retried)\r\n"));
	assert_non_null(strstr(out, "THIS IS A WARNING ONLY"));
	assert_non_null(strstr(out, "more than 1 hour(s)"));
	assert_non_null(strstr(out, "until it is 5 day(s) old"));
	assert_non_null(strstr(out, "Action: delayed\r\nStatus: 4.4.1\r\n"));
	assert_non_null(strstr(out, "Will-Retry-Until: "));
	free(out);

	m = msg(DSN_KIND_SUCCESS);
	out = compose(&m, &s, 1, 4096);
	assert_non_null(strstr(out, "Subject: Successful Mail Delivery "
				    "Report\r\n"));
	assert_non_null(strstr(out, "Action: delivered\r\nStatus: 2.0.0\r\n"));
	assert_null(strstr(out, "Last-Attempt-Date"));
	free(out);

	m = msg(DSN_KIND_POSTMASTER);
	out = compose(&m, two_failed, 1, 4096);
	assert_non_null(strstr(out, "Subject: Postmaster Copy: Undelivered "
				    "Mail\r\n"));
	free(out);
}

static void
test_sanitising(void **state)
{
	struct dsn_msg m = msg(DSN_KIND_FAILURE);
	struct dsn_rcpt r = {"evil@x.example",
			     "rfc822;a+0D+0AInjected:+20x",
			     DSN_ACTION_FAILED,
			     "5.1.1\r\nX-Evil: 1",
			     "bad\r\nX-Injected: yes \x80\x01",
			     ""};
	char *out;

	(void)state;
	m.to = "alice@example.org\r\nBcc: victim@example.org";
	m.eightbit = 1;
	out = compose(&m, &r, 1, 4096);
	assert_null(strstr(out, "\r\nBcc:"));
	assert_null(strstr(out, "\r\nX-Injected"));
	assert_null(strstr(out, "\r\nX-Evil"));
	assert_null(strstr(out, "\r\nInjected:"));
	assert_non_null(strstr(out, "To: alice@example.org??Bcc: "));
	/* A broken status becomes the action's generic code. */
	assert_non_null(strstr(out, "Status: 5.0.0\r\n"));
	assert_non_null(strstr(out, "Original-Recipient: rfc822; a??Injected: "
				    "x\r\n"));
	assert_non_null(strstr(out, "bad??X-Injected: yes ??"));
	/* The 8-bit original is announced as such. */
	assert_non_null(strstr(out, "Content-Transfer-Encoding: 8bit\r\n"));
	free(out);
}

static void
test_errors_propagate(void **state)
{
	struct dsn_msg m = msg(DSN_KIND_FAILURE);
	struct reader rr = {ORIGINAL, sizeof(ORIGINAL) - 1, 0, 5, 3, 0};
	struct writer w = {BUF_INIT, 0};

	(void)state;
	assert_int_equal(dsn_compose(&m, two_failed, 2, rd, &rr, wr, &w), -1);
	buf_free(&w.out);
	rr.pos = 0;
	rr.calls = 0;
	rr.fail_at = 0;
	w.fail = 1;
	assert_int_equal(dsn_compose(&m, two_failed, 2, rd, &rr, wr, &w), -1);
	buf_free(&w.out);
}

static void
test_empty_original_and_no_final_newline(void **state)
{
	struct dsn_msg m = msg(DSN_KIND_FAILURE);
	struct reader rr = {"Subject: x", 10, 0, 4096, 0, 0};
	struct writer w = {BUF_INIT, 0};

	(void)state;
	assert_int_equal(dsn_compose(&m, two_failed, 1, rd, &rr, wr, &w), 0);
	assert_non_null(strstr(buf_cstr(&w.out),
			       "\r\n\r\nSubject: x\r\n\r\n--" BOUNDARY "--"));
	buf_free(&w.out);
}

/* Every line stays within RFC 5322's 998 octets, and long report fields
 * are folded at spaces. */
static void
test_line_lengths(void **state)
{
	struct dsn_msg m = msg(DSN_KIND_FAILURE);
	char text[3000];
	struct dsn_rcpt r = {"bob@x.example", "",   DSN_ACTION_FAILED,
			     "5.0.0",	      text, ""};
	char *out, *line, *save = NULL;
	int folded = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(text) - 1; i++)
		text[i] = i % 10 == 9 ? ' ' : 'w';
	text[sizeof(text) - 1] = '\0';
	out = compose(&m, &r, 1, 4096);
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		assert_true(strlen(line) <= 998);
		if (strncmp(line, "Diagnostic-Code: ", 17) == 0) {
			assert_true(strlen(line) <= 77);
			folded = 1;
		}
	}
	assert_true(folded);
	free(out);
}

static void
test_helpers(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_true(dsn_status_valid("5.1.1"));
	assert_true(dsn_status_valid("4.4.7"));
	assert_true(dsn_status_valid("2.0.0"));
	assert_true(dsn_status_valid("5.123.456"));
	assert_false(dsn_status_valid("3.1.1"));
	assert_false(dsn_status_valid("5.1"));
	assert_false(dsn_status_valid("5.1.1 "));
	assert_false(dsn_status_valid("5.1234.1"));
	assert_false(dsn_status_valid(""));
	assert_false(dsn_status_valid(NULL));

	dsn_diagnostic("host h[1.2.3.4] said: 452 4.2.2 full (in reply to "
		       "end of DATA command)",
		       &b);
	assert_string_equal(buf_cstr(&b), "smtp; 452 4.2.2 full");
	buf_reset(&b);
	dsn_diagnostic("mailbox is full", &b);
	assert_string_equal(buf_cstr(&b), "X-Panacea; mailbox is full");
	buf_reset(&b);

	setenv("TZ", "UTC", 1);
	tzset();
	dsn_date(1700000000, &b);
	assert_string_equal(buf_cstr(&b), "Tue, 14 Nov 2023 22:13:20 +0000");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_failure_structure),
	    cmocka_unit_test(test_headers_only),
	    cmocka_unit_test(test_delay_and_success),
	    cmocka_unit_test(test_sanitising),
	    cmocka_unit_test(test_errors_propagate),
	    cmocka_unit_test(test_empty_original_and_no_final_newline),
	    cmocka_unit_test(test_line_lengths),
	    cmocka_unit_test(test_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
