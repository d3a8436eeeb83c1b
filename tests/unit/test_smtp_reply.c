/*
 * test_smtp_reply - lib/smtp_reply: single and multi-line replies, the
 * Postfix-shaped text, enhanced status codes, malformed and oversized
 * replies, and EHLO capability lists.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "smtp_reply.h"

/* Feeds NULL-terminated lines; returns the status of the last feed. */
static int
feed_all(struct smtp_reply *r, const char *const *lines)
{
	int st = SMTP_REPLY_BAD;

	smtp_reply_reset(r);
	for (; *lines != NULL; lines++) {
		st = smtp_reply_feed(r, *lines, strlen(*lines));
		if (st != SMTP_REPLY_MORE)
			break;
	}
	return st;
}

static void
test_single_line(void **state)
{
	struct smtp_reply r;
	char dsn[SMTP_REPLY_DSN_MAX];
	static const char *const l[] = {"250 2.0.0 Ok: queued as X", NULL};

	(void)state;
	smtp_reply_init(&r);
	assert_int_equal(feed_all(&r, l), SMTP_REPLY_DONE);
	assert_int_equal(r.code, 250);
	assert_int_equal(smtp_reply_class(&r), 2);
	assert_string_equal(r.dsn, "2.0.0");
	assert_string_equal(buf_cstr(&r.text), "250 2.0.0 Ok: queued as X");
	assert_string_equal(smtp_reply_dsn(&r, dsn, sizeof(dsn)), "2.0.0");
	smtp_reply_free(&r);
}

static void
test_multi_line_text_as_postfix(void **state)
{
	struct smtp_reply r;
	static const char *const l[] = {"550-5.1.1 No such user", "550-",
					"550 5.1.1 here", NULL};

	(void)state;
	smtp_reply_init(&r);
	smtp_reply_reset(&r);
	assert_int_equal(smtp_reply_feed(&r, l[0], strlen(l[0])),
			 SMTP_REPLY_MORE);
	assert_int_equal(smtp_reply_feed(&r, l[1], strlen(l[1])),
			 SMTP_REPLY_MORE);
	assert_int_equal(smtp_reply_feed(&r, l[2], strlen(l[2])),
			 SMTP_REPLY_DONE);
	assert_string_equal(buf_cstr(&r.text),
			    "550-5.1.1 No such user 550- 550 5.1.1 here");
	assert_string_equal(buf_cstr(&r.lines), "5.1.1 No such user\n\n"
						"5.1.1 here\n");
	assert_int_equal(r.nlines, 3);
	assert_string_equal(r.dsn, "5.1.1");
	/* Feeding after the end changes nothing. */
	assert_int_equal(smtp_reply_feed(&r, "250 ok", 6), SMTP_REPLY_DONE);
	assert_int_equal(r.code, 550);
	smtp_reply_free(&r);
}

static void
test_code_only_and_no_dsn(void **state)
{
	struct smtp_reply r;
	char dsn[SMTP_REPLY_DSN_MAX];
	static const char *const a[] = {"354", NULL};
	static const char *const b[] = {"451 local error", NULL};

	(void)state;
	smtp_reply_init(&r);
	assert_int_equal(feed_all(&r, a), SMTP_REPLY_DONE);
	assert_int_equal(r.code, 354);
	assert_string_equal(r.dsn, "");
	assert_int_equal(feed_all(&r, b), SMTP_REPLY_DONE);
	assert_string_equal(smtp_reply_dsn(&r, dsn, sizeof(dsn)), "4.0.0");
	smtp_reply_free(&r);
}

static void
test_dsn_must_agree_with_class(void **state)
{
	static const struct {
		const char *line;
		const char *dsn;
	} t[] = {
	    {"550 5.7.1 denied", "5.7.1"},
	    {"550 4.7.1 denied", ""}, /* wrong class */
	    {"450 4.2.0", "4.2.0"},   /* code at the end */
	    {"250 2.1.5Ok", ""},      /* no space after it */
	    {"550 5.1234.1 x", ""},   /* subject too long */
	    {"550 5..1 x", ""},
	    {"550 5.1. x", ""},
	    {"250 2.123.456 fine", "2.123.456"},
	    {"354 3.0.0 go", ""}, /* class 3 has no enhanced code */
	};
	struct smtp_reply r;
	size_t i;

	(void)state;
	smtp_reply_init(&r);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		smtp_reply_reset(&r);
		assert_int_equal(
		    smtp_reply_feed(&r, t[i].line, strlen(t[i].line)),
		    SMTP_REPLY_DONE);
		assert_string_equal(r.dsn, t[i].dsn);
	}
	smtp_reply_free(&r);
}

static void
test_malformed(void **state)
{
	static const char *const bad[] = {
	    "",	       "25",	   "2500 x", "250x",	 "abc def",
	    "199 low", "600 high", "260 no", "250\tTab", "-250 x",
	};
	struct smtp_reply r;
	size_t i;

	(void)state;
	smtp_reply_init(&r);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		smtp_reply_reset(&r);
		assert_int_equal(smtp_reply_feed(&r, bad[i], strlen(bad[i])),
				 SMTP_REPLY_BAD);
		/* Sticky. */
		assert_int_equal(smtp_reply_feed(&r, "250 ok", 6),
				 SMTP_REPLY_BAD);
	}
	/* A continuation with another code. */
	smtp_reply_reset(&r);
	assert_int_equal(smtp_reply_feed(&r, "250-a", 5), SMTP_REPLY_MORE);
	assert_int_equal(smtp_reply_feed(&r, "251 b", 5), SMTP_REPLY_BAD);
	smtp_reply_free(&r);
}

static void
test_bounded(void **state)
{
	struct smtp_reply r;
	char line[SMTP_REPLY_LINE_MAX + 100];
	size_t i;
	int st = SMTP_REPLY_MORE;

	(void)state;
	smtp_reply_init(&r);
	/* Endless continuation lines end as malformed, not in memory. */
	for (i = 0; i < 10 * SMTP_REPLY_LINES_MAX && st == SMTP_REPLY_MORE; i++)
		st = smtp_reply_feed(&r, "250-x", 5);
	assert_int_equal(st, SMTP_REPLY_BAD);
	assert_int_equal(r.nlines, SMTP_REPLY_LINES_MAX);
	/* Long lines: each is cut, and the total stays bounded. */
	smtp_reply_reset(&r);
	memset(line, 'a', sizeof(line));
	memcpy(line, "250-", 4);
	st = SMTP_REPLY_MORE;
	for (i = 0; i < 100 && st == SMTP_REPLY_MORE; i++)
		st = smtp_reply_feed(&r, line, sizeof(line));
	assert_int_equal(st, SMTP_REPLY_BAD);
	assert_true(r.text.len <= SMTP_REPLY_TEXT_MAX);
	/* One over-long last line is a reply, cut. */
	smtp_reply_reset(&r);
	line[3] = ' ';
	assert_int_equal(smtp_reply_feed(&r, line, sizeof(line)),
			 SMTP_REPLY_DONE);
	assert_int_equal(r.text.len, SMTP_REPLY_LINE_MAX);
	smtp_reply_free(&r);
}

static void
test_text_is_printable(void **state)
{
	struct smtp_reply r;
	static const char line[] = "550 5.1.1 bad\x01\x1b[31m\xc3\xa9\x7f end";

	(void)state;
	smtp_reply_init(&r);
	assert_int_equal(smtp_reply_feed(&r, line, sizeof(line) - 1),
			 SMTP_REPLY_DONE);
	assert_string_equal(buf_cstr(&r.text), "550 5.1.1 bad??[31m??? end");
	smtp_reply_free(&r);
}

static void
test_ehlo_caps(void **state)
{
	static const char *const l[] = {
	    "250-mx.example.org Hello",
	    "250-PIPELINING",
	    "250-SIZE 10240000",
	    "250-starttls",
	    "250-AUTH PLAIN login CRAM-MD5",
	    "250-AUTH=LOGIN XOAUTH2",
	    "250-ENHANCEDSTATUSCODES",
	    "250-8BITMIME",
	    "250-DSN",
	    "250-SMTPUTF8",
	    "250-DSNX",
	    "250-SIZEX 12",
	    "250 CHUNKING",
	    NULL,
	};
	struct smtp_reply r;
	struct smtp_caps c;

	(void)state;
	smtp_reply_init(&r);
	assert_int_equal(feed_all(&r, l), SMTP_REPLY_DONE);
	smtp_ehlo_parse(&r, &c);
	assert_int_equal(c.ext, SMTP_EXT_STARTTLS | SMTP_EXT_PIPELINING |
				    SMTP_EXT_SIZE | SMTP_EXT_8BITMIME |
				    SMTP_EXT_DSN | SMTP_EXT_SMTPUTF8 |
				    SMTP_EXT_ENHANCEDSTATUSCODES |
				    SMTP_EXT_CHUNKING | SMTP_EXT_AUTH);
	assert_int_equal(c.size_limit, 10240000);
	assert_string_equal(c.auth_mechs, "PLAIN LOGIN CRAM-MD5 XOAUTH2");
	smtp_reply_free(&r);
}

static void
test_ehlo_greeting_line_is_no_keyword(void **state)
{
	static const char *const l[] = {"250 STARTTLS", NULL};
	static const char *const s[] = {"250-x", "250-SIZE", "250 SIZE", NULL};
	static const char *const bad[] = {
	    "250-x", "250 SIZE 99999999999999999999", NULL};
	static const char *const fail[] = {"502-x", "502 STARTTLS", NULL};
	struct smtp_reply r;
	struct smtp_caps c;

	(void)state;
	smtp_reply_init(&r);
	feed_all(&r, l);
	smtp_ehlo_parse(&r, &c);
	assert_int_equal(c.ext, 0);
	feed_all(&r, s);
	smtp_ehlo_parse(&r, &c);
	assert_int_equal(c.ext, SMTP_EXT_SIZE);
	assert_int_equal(c.size_limit, 0);
	feed_all(&r, bad);
	smtp_ehlo_parse(&r, &c);
	assert_int_equal(c.ext, SMTP_EXT_SIZE);
	assert_int_equal(c.size_limit, 0);
	feed_all(&r, fail);
	smtp_ehlo_parse(&r, &c);
	assert_int_equal(c.ext, 0);
	smtp_reply_free(&r);
}

static void
test_auth_mechs_bounded(void **state)
{
	struct smtp_reply r;
	struct smtp_caps c;
	char line[SMTP_REPLY_LINE_MAX];
	size_t i, n;

	(void)state;
	smtp_reply_init(&r);
	smtp_reply_feed(&r, "250-x", 5);
	n = (size_t)snprintf(line, sizeof(line), "250 AUTH");
	for (i = 0; n + 12 < sizeof(line); i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, " MECH%05zu",
				      i);
	assert_int_equal(smtp_reply_feed(&r, line, n), SMTP_REPLY_DONE);
	smtp_ehlo_parse(&r, &c);
	assert_true(strlen(c.auth_mechs) < sizeof(c.auth_mechs));
	assert_true(strncmp(c.auth_mechs, "MECH00000 MECH00001", 19) == 0);
	smtp_reply_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_single_line),
	    cmocka_unit_test(test_multi_line_text_as_postfix),
	    cmocka_unit_test(test_code_only_and_no_dsn),
	    cmocka_unit_test(test_dsn_must_agree_with_class),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_bounded),
	    cmocka_unit_test(test_text_is_printable),
	    cmocka_unit_test(test_ehlo_caps),
	    cmocka_unit_test(test_ehlo_greeting_line_is_no_keyword),
	    cmocka_unit_test(test_auth_mechs_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
