/*
 * test_milter_proto - the milter codec (lib/mail/milter_proto.h) and the
 * end-of-message edits (milter_apply): packets the MTA sends, byte for
 * byte as libmilter reads them; every reply a filter may send decoded,
 * and truncated, oversized or malformed ones refused; header edits by
 * index as libmilter counts them, body replacement with CRLF lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "milter.h"
#include "milter_proto.h"

static void
test_framing(void **state)
{
	unsigned char ok[4] = {0, 0, 1, 0}, zero[4] = {0},
		      big[4] = {0, 0x20, 0, 0x41};
	(void)state;
	assert_int_equal(milter_frame_len(ok, MILTER_PACKET_MAX), 256);
	assert_int_equal(milter_frame_len(zero, MILTER_PACKET_MAX), -1);
	assert_int_equal(milter_frame_len(big, MILTER_PACKET_MAX), -1);
	unsigned char ff[4] = {0xff, 0xff, 0xff, 0xff};
	assert_int_equal(milter_frame_len(ff, MILTER_PACKET_MAX), -1);
}

static void
test_encoders(void **state)
{
	struct buf b = BUF_INIT;
	const char *names[] = {"j", "{daemon_name}", "v"};
	const char *values[] = {"mx.test", NULL, "Panacea"};
	const char *args[] = {"SIZE=10", "BODY=8BITMIME"};

	(void)state;
	milter_put_optneg(&b, 6, 0x1ff, 0x1fffff);
	assert_int_equal(b.len, 17);
	assert_memory_equal(
	    b.data, "\0\0\0\x0dO\0\0\0\x06\0\0\x01\xff\0\x1f\xff\xff", 17);
	buf_reset(&b);
	milter_put_macros(&b, 'C', names, values, 3);
	assert_int_equal(b.len, 4 + 2 + 10 + 10);
	assert_memory_equal(b.data,
			    "\0\0\0\x16"
			    "DCj\0mx.test\0v\0Panacea\0",
			    26);
	buf_reset(&b);
	milter_put_connect(&b, "client.test", '4', 2525, "192.0.2.1");
	assert_memory_equal(b.data,
			    "\0\0\0\x1a"
			    "Cclient.test\0"
			    "4\x09\xdd"
			    "192.0.2.1\0",
			    30);
	buf_reset(&b);
	milter_put_connect(&b, "x", 'U', 0, NULL);
	assert_memory_equal(b.data,
			    "\0\0\0\x04"
			    "Cx\0U",
			    8);
	buf_reset(&b);
	milter_put_envelope(&b, 'M', "a@b", args, 2);
	assert_memory_equal(b.data,
			    "\0\0\0\x1d"
			    "M<a@b>\0SIZE=10\0BODY=8BITMIME\0",
			    33);
	buf_reset(&b);
	milter_put_header(&b, "Subject", 7, "hi\n there", 9);
	assert_memory_equal(b.data,
			    "\0\0\0\x13"
			    "LSubject\0hi\n there\0",
			    23);
	buf_reset(&b);
	milter_put_body(&b, "x\r\n", 3);
	assert_memory_equal(b.data,
			    "\0\0\0\x04"
			    "Bx\r\n",
			    8);
	buf_reset(&b);
	milter_put_simple(&b, 'E');
	assert_memory_equal(b.data,
			    "\0\0\0\x01"
			    "E",
			    5);
	buf_reset(&b);
	milter_put_helo(&b, "h");
	milter_put_unknown(&b, "XYZ");
	assert_memory_equal(b.data, "\0\0\0\x03Hh\0\0\0\0\x05UXYZ\0", 16);
	buf_free(&b);
}

#define P(s) (const unsigned char *)(s), sizeof(s) - 1

static void
test_replies(void **state)
{
	struct milter_reply r;
	const char *why;

	(void)state;
	for (const char *c = "acdrtps4f"; *c; c++) {
		unsigned char one = (unsigned char)*c;
		assert_int_equal(milter_parse(&one, 1, &r, &why), 0);
		assert_int_equal(r.cmd, *c);
	}
	assert_int_equal(milter_parse(P("y550 5.7.1 go away\0"), &r, &why), 0);
	assert_string_equal(r.text, "550 5.7.1 go away");
	assert_int_equal(milter_parse(P("y250 ok\0"), &r, &why), -1);
	assert_int_equal(milter_parse(P("y550 no"), &r, &why), -1);
	assert_int_equal(
	    milter_parse(P("y550-5.7.1 a\r\n550 5.7.1 b\0"), &r, &why), 0);
	assert_int_equal(
	    milter_parse(P("y550-5.7.1 a\r\n450 5.7.1 b\0"), &r, &why), -1);
	assert_int_equal(milter_parse(P("hX-Test\0value\0"), &r, &why), 0);
	assert_string_equal(r.name, "X-Test");
	assert_string_equal(r.value, "value");
	assert_int_equal(milter_parse(P("hX-Test\0value"), &r, &why), -1);
	assert_int_equal(milter_parse(P("hBad Name\0v\0"), &r, &why), -1);
	assert_int_equal(milter_parse(P("hBad:\0v\0"), &r, &why), -1);
	assert_int_equal(milter_parse(P("h\0v\0"), &r, &why), -1);
	assert_int_equal(milter_parse(P("m\0\0\0\x02Subject\0\0"), &r, &why),
			 0);
	assert_int_equal(r.index, 2);
	assert_string_equal(r.value, "");
	assert_int_equal(milter_parse(P("i\0\0\0"), &r, &why), -1);
	assert_int_equal(milter_parse(P("i\0\0\0\0A\0b\0"), &r, &why), 0);
	assert_int_equal(milter_parse(P("+<x@y>\0"), &r, &why), 0);
	assert_string_equal(r.name, "<x@y>");
	assert_int_equal(milter_parse(P("-<x@y>\0"), &r, &why), 0);
	assert_int_equal(milter_parse(P("2<x@y>\0NOTIFY=NEVER\0"), &r, &why),
			 0);
	assert_string_equal(r.value, "NOTIFY=NEVER");
	assert_int_equal(milter_parse(P("e<s@y>\0"), &r, &why), 0);
	assert_null(r.value);
	assert_int_equal(milter_parse(P("qspam\0"), &r, &why), 0);
	assert_string_equal(r.text, "spam");
	assert_int_equal(milter_parse(P("bnew body\r\n"), &r, &why), 0);
	assert_int_equal(r.len, 10);
	assert_int_equal(milter_parse(P("Z"), &r, &why), -1);
	assert_int_equal(milter_parse(NULL, 0, &r, &why), -1);
	/* OPTNEG with version 6 macro lists; an unknown stage is ignored. */
	assert_int_equal(milter_parse(P("O\0\0\0\x06\0\0\0\x01\0\0\0\x80"
					"\0\0\0\x02{mail_addr}\0\0\0\0\x09x\0"),
				      &r, &why),
			 0);
	assert_int_equal(r.version, 6);
	assert_int_equal(r.actions, 1);
	assert_int_equal(r.protocol, 0x80);
	assert_string_equal(r.macros[MILTER_M_MAIL], "{mail_addr}");
	assert_int_equal(milter_parse(P("O\0\0\0\x06\0\0"), &r, &why), -1);
	assert_int_equal(
	    milter_parse(P("O\0\0\0\x06\0\0\0\x01\0\0\0\x80\0\0\0\x02x"), &r,
			 &why),
	    -1);
}

static void
apply(const char *in, const struct milter_reply *mods, size_t n,
      const char *body, const char *want)
{
	struct buf c = BUF_INIT, nb = BUF_INIT;

	buf_puts(&c, in);
	if (body)
		buf_puts(&nb, body);
	milter_apply(&c, mods, n, body ? &nb : NULL, 0);
	assert_string_equal(buf_cstr(&c), want);
	buf_free(&c);
	buf_free(&nb);
}

static void
test_apply(void **state)
{
	const char *msg = "Received: x\r\nX-A: 1\r\nX-A: 2\r\n\tcont\r\n"
			  "Subject: s\r\n\r\nbody\r\n";
	struct milter_reply add = {.cmd = 'h', .name = "X-New", .value = "v"};
	struct milter_reply ins0 = {
	    .cmd = 'i', .index = 0, .name = "X-Top", .value = "t\nu"};
	struct milter_reply ins9 = {
	    .cmd = 'i', .index = 9, .name = "X-End", .value = "e"};
	struct milter_reply chg2 = {
	    .cmd = 'm', .index = 2, .name = "x-a", .value = "two"};
	struct milter_reply del1 = {
	    .cmd = 'm', .index = 1, .name = "X-A", .value = ""};
	struct milter_reply chgnew = {
	    .cmd = 'm', .index = 1, .name = "X-None", .value = "n"};
	struct milter_reply delnone = {
	    .cmd = 'm', .index = 3, .name = "X-A", .value = ""};

	(void)state;
	apply(msg, &add, 1, NULL,
	      "Received: x\r\nX-A: 1\r\nX-A: 2\r\n\tcont\r\nSubject: s\r\n"
	      "X-New: v\r\n\r\nbody\r\n");
	apply(msg, &ins0, 1, NULL,
	      "X-Top: t\r\nu\r\nReceived: x\r\nX-A: 1\r\nX-A: 2\r\n\tcont\r\n"
	      "Subject: s\r\n\r\nbody\r\n");
	apply(msg, &ins9, 1, NULL,
	      "Received: x\r\nX-A: 1\r\nX-A: 2\r\n\tcont\r\nSubject: s\r\n"
	      "X-End: e\r\n\r\nbody\r\n");
	apply(msg, &chg2, 1, NULL,
	      "Received: x\r\nX-A: 1\r\nx-a: two\r\nSubject: s\r\n\r\n"
	      "body\r\n");
	apply(msg, &del1, 1, NULL,
	      "Received: x\r\nX-A: 2\r\n\tcont\r\nSubject: s\r\n\r\nbody\r\n");
	apply(msg, &chgnew, 1, NULL,
	      "Received: x\r\nX-A: 1\r\nX-A: 2\r\n\tcont\r\nSubject: s\r\n"
	      "X-None: n\r\n\r\nbody\r\n");
	apply(msg, &delnone, 1, NULL, msg);
	/* Replaced body: LF lines become CRLF, a last line gets its end. */
	apply(msg, NULL, 0, "new\nbody",
	      "Received: x\r\nX-A: 1\r\nX-A: 2\r\n\tcont\r\nSubject: s\r\n"
	      "\r\nnew\r\nbody\r\n");
	/* No body at all. */
	apply("A: b\r\n", &add, 1, NULL, "A: b\r\nX-New: v\r\n\r\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_framing),
	    cmocka_unit_test(test_encoders),
	    cmocka_unit_test(test_replies),
	    cmocka_unit_test(test_apply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
