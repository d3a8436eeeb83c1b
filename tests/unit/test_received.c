/*
 * test_received - lib/received: the Postfix-shaped Received: header,
 * protocol names, the TLS comment, "for" only when asked, the date with
 * a numeric zone, and sanitising of client-supplied names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "received.h"

/* 2026-11-28 19:01:01 UTC, a Saturday. */
#define WHEN ((time_t)1795892461)

static void
set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static struct received_info
base(void)
{
	struct received_info ri;

	memset(&ri, 0, sizeof(ri));
	ri.helo = "client.example";
	ri.client_name = "host.example";
	ri.client_addr = "192.0.2.1";
	ri.myhostname = "mx.example.org";
	ri.queue_id = "4ABCDEF";
	ri.esmtp = 1;
	ri.when = WHEN;
	return ri;
}

static void
check(const struct received_info *ri, const char *want)
{
	struct buf b = BUF_INIT;

	received_build(&b, ri);
	if (strcmp(buf_cstr(&b), want) != 0)
		fail_msg("got:\n%s\nwant:\n%s", buf_cstr(&b), want);
	buf_free(&b);
}

static void
test_single_rcpt(void **state)
{
	struct received_info ri = base();

	(void)state;
	set_tz("UTC0");
	ri.rcpt = "user@example.org";
	check(&ri,
	      "Received: from client.example (host.example [192.0.2.1])\r\n"
	      "\tby mx.example.org (Panacea) with ESMTP id 4ABCDEF\r\n"
	      "\tfor <user@example.org>; Sat, 28 Nov 2026 19:01:01 "
	      "+0000\r\n");
}

static void
test_many_rcpts(void **state)
{
	struct received_info ri = base();

	(void)state;
	set_tz("UTC0");
	check(&ri,
	      "Received: from client.example (host.example [192.0.2.1])\r\n"
	      "\tby mx.example.org (Panacea) with ESMTP id 4ABCDEF;\r\n"
	      "\tSat, 28 Nov 2026 19:01:01 +0000\r\n");
}

/* smtpd_tls_received_header = no: ESMTPS without the TLS line; yes:
 * the line with the key exchange words folded under it. */
static void
test_tls_line_optional(void **state)
{
	struct received_info ri = base();

	(void)state;
	set_tz("UTC0");
	ri.tls = 1;
	ri.tls_kex = "key-exchange X25519";
	check(&ri,
	      "Received: from client.example (host.example [192.0.2.1])\r\n"
	      "\tby mx.example.org (Panacea) with ESMTPS id 4ABCDEF;\r\n"
	      "\tSat, 28 Nov 2026 19:01:01 +0000\r\n");
	ri.tls_protocol = "TLSv1.3";
	ri.tls_cipher = "TLS_AES_128_GCM_SHA256";
	ri.tls_bits = ri.tls_alg_bits = 128;
	check(&ri,
	      "Received: from client.example (host.example [192.0.2.1])\r\n"
	      "\t(using TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 "
	      "(128/128 bits)\r\n"
	      "\t key-exchange X25519)\r\n"
	      "\tby mx.example.org (Panacea) with ESMTPS id 4ABCDEF;\r\n"
	      "\tSat, 28 Nov 2026 19:01:01 +0000\r\n");
}

static void
test_tls_auth(void **state)
{
	struct received_info ri = base();

	(void)state;
	set_tz("UTC0");
	ri.tls_protocol = "TLSv1.3";
	ri.tls_cipher = "TLS_AES_256_GCM_SHA384";
	ri.tls_bits = 256;
	ri.tls_alg_bits = 256;
	ri.authenticated = 1;
	ri.rcpt = "a@b.example";
	check(&ri,
	      "Received: from client.example (host.example [192.0.2.1])\r\n"
	      "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 "
	      "(256/256 bits))\r\n"
	      "\tby mx.example.org (Panacea) with ESMTPSA id 4ABCDEF\r\n"
	      "\tfor <a@b.example>; Sat, 28 Nov 2026 19:01:01 +0000\r\n");
	ri.auth_sender = "alice";
	check(&ri,
	      "Received: from client.example (host.example [192.0.2.1])\r\n"
	      "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 "
	      "(256/256 bits))\r\n"
	      "\t(Authenticated sender: alice)\r\n"
	      "\tby mx.example.org (Panacea) with ESMTPSA id 4ABCDEF\r\n"
	      "\tfor <a@b.example>; Sat, 28 Nov 2026 19:01:01 +0000\r\n");
	/* The name is shown only for an authenticated client. */
	ri.authenticated = 0;
	check(&ri,
	      "Received: from client.example (host.example [192.0.2.1])\r\n"
	      "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 "
	      "(256/256 bits))\r\n"
	      "\tby mx.example.org (Panacea) with ESMTPS id 4ABCDEF\r\n"
	      "\tfor <a@b.example>; Sat, 28 Nov 2026 19:01:01 +0000\r\n");
}

static void
test_protocols(void **state)
{
	static const struct {
		int esmtp, utf8, tls, auth;
		const char *want;
	} t[] = {
	    {0, 0, 0, 0, " with SMTP id"},
	    {1, 0, 0, 0, " with ESMTP id"},
	    {1, 0, 1, 0, " with ESMTPS id"},
	    {1, 0, 0, 1, " with ESMTPA id"},
	    {1, 0, 1, 1, " with ESMTPSA id"},
	    {1, 1, 0, 0, " with UTF8SMTP id"},
	    {1, 1, 1, 0, " with UTF8SMTPS id"},
	    {1, 1, 0, 1, " with UTF8SMTPA id"},
	    {1, 1, 1, 1, " with UTF8SMTPSA id"},
	};
	struct received_info ri;
	struct buf b = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ri = base();
		ri.esmtp = t[i].esmtp;
		ri.smtputf8 = t[i].utf8;
		ri.tls_protocol = t[i].tls ? "TLSv1.2" : NULL;
		ri.authenticated = t[i].auth;
		buf_reset(&b);
		received_build(&b, &ri);
		if (strstr(buf_cstr(&b), t[i].want) == NULL)
			fail_msg("row %zu: %s", i, buf_cstr(&b));
	}
	buf_free(&b);
}

static void
test_missing_and_ipv6(void **state)
{
	struct received_info ri = base();

	(void)state;
	set_tz("UTC0");
	ri.helo = NULL;
	ri.client_name = NULL;
	ri.client_addr = "2001:db8::1";
	check(&ri, "Received: from unknown (unknown [IPv6:2001:db8::1])\r\n"
		   "\tby mx.example.org (Panacea) with ESMTP id 4ABCDEF;\r\n"
		   "\tSat, 28 Nov 2026 19:01:01 +0000\r\n");
	/* No HELO: the client name stands in, as in Postfix. */
	ri.client_name = "host.example";
	ri.helo = "";
	check(&ri, "Received: from host.example (host.example "
		   "[IPv6:2001:db8::1])\r\n"
		   "\tby mx.example.org (Panacea) with ESMTP id 4ABCDEF;\r\n"
		   "\tSat, 28 Nov 2026 19:01:01 +0000\r\n");
}

static void
test_sanitise(void **state)
{
	struct received_info ri = base();
	struct buf b = BUF_INIT;
	char longname[600];
	const char *p;
	size_t i, n;

	(void)state;
	set_tz("UTC0");
	ri.helo = "evil\r\nX-Injected: yes";
	ri.client_name = "fake) (by trusted.example";
	ri.tls_protocol = "TLSv1.3)\r\n";
	ri.tls_cipher = "A;B C";
	ri.rcpt = "\"a\r\nb\"@x.y";
	received_build(&b, &ri);
	assert_null(strstr(buf_cstr(&b), "\r\nX-Injected"));
	assert_non_null(strstr(buf_cstr(&b), "from evil__X-Injected:_yes "));
	assert_non_null(strstr(buf_cstr(&b), "(fake___by_trusted.example ["));
	assert_non_null(strstr(buf_cstr(&b), "using TLSv1.3___ with cipher "
					     "A_B_C ("));
	assert_non_null(strstr(buf_cstr(&b), "for <\"a??b\"@x.y>"));
	/* Every CR is followed by LF and every LF by a TAB or the end. */
	for (p = buf_cstr(&b); *p; p++) {
		if (*p == '\r')
			assert_int_equal(p[1], '\n');
		if (*p == '\n')
			assert_true(p[1] == '\t' || p[1] == 0);
	}
	buf_free(&b);

	/* Long names are truncated. */
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	ri = base();
	ri.helo = longname;
	received_build(&b, &ri);
	p = strstr(buf_cstr(&b), "from ") + 5;
	for (n = 0, i = 0; p[i] == 'a'; i++)
		n++;
	assert_int_equal(n, 255);
	buf_free(&b);
}

static void
test_date_zones(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	set_tz("EST5");
	received_date(&b, WHEN);
	assert_string_equal(buf_cstr(&b), "Sat, 28 Nov 2026 14:01:01 -0500");
	buf_reset(&b);
	set_tz("IST-5:30");
	received_date(&b, WHEN);
	assert_string_equal(buf_cstr(&b), "Sun, 29 Nov 2026 00:31:01 +0530");
	buf_reset(&b);
	set_tz("UTC0");
	received_date(&b, 0);
	assert_string_equal(buf_cstr(&b), "Thu, 1 Jan 1970 00:00:00 +0000");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_single_rcpt),
	    cmocka_unit_test(test_many_rcpts),
	    cmocka_unit_test(test_tls_auth),
	    cmocka_unit_test(test_tls_line_optional),
	    cmocka_unit_test(test_protocols),
	    cmocka_unit_test(test_missing_and_ipv6),
	    cmocka_unit_test(test_sanitise),
	    cmocka_unit_test(test_date_zones),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
