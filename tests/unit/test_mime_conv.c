/*
 * test_mime_conv - the two passes: an 8-bit multipart to 7 bits (parts
 * re-encoded, relabelled, added a Content-Transfer-Encoding, base64 and
 * 7-bit parts untouched), what cannot be converted reported, long lines
 * (a MIME part re-encoded, a header folded, a non-MIME body broken),
 * nothing to do means a copy, and any split of the input gives the same
 * output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mime_conv.h"

/* Both passes over text, fed in pieces of step octets (0: whole);
 * returns what mime_conv_plan() said. */
static int
conv(const char *text, size_t line_limit, int downgrade, size_t step,
     unsigned *flags, struct buf *out)
{
	struct mime_conv_opts o = {{0, 0}, line_limit};
	struct mime_conv *c = mime_conv_new(&o);
	size_t len = strlen(text), i, n;
	int changes;

	if (step == 0)
		step = len ? len : 1;
	for (i = 0; i < len; i += n) {
		n = len - i < step ? len - i : step;
		mime_conv_scan(c, text + i, n);
	}
	mime_conv_scan_end(c);
	*flags = mime_conv_flags(c);
	changes = mime_conv_plan(c, downgrade);
	for (i = 0; i < len; i += n) {
		n = len - i < step ? len - i : step;
		mime_conv_feed(c, text + i, n, out);
	}
	mime_conv_finish(c, out);
	mime_conv_free(c);
	return changes;
}

static const char multipart[] =
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=b\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "--b\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding:\r\n"
    " 8bit\r\n"
    "\r\n"
    "caf\xc3\xa9 \r\n"
    "--b\r\n"
    "Content-Type: text/plain; charset=iso-8859-1\r\n"
    "\r\n"
    "no label \xe9\r\n"
    "--b\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "ascii only\r\n"
    "--b\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "AAEC\r\n"
    "--b--\r\n";

static const char multipart_7bit[] =
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=b\r\n"
    "Content-Transfer-Encoding: 7bit\r\n"
    "\r\n"
    "--b\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "caf=C3=A9=20\r\n"
    "--b\r\n"
    "Content-Type: text/plain; charset=iso-8859-1\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "no label =E9\r\n"
    "--b\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Transfer-Encoding: 7bit\r\n"
    "\r\n"
    "ascii only\r\n"
    "--b\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "AAEC\r\n"
    "--b--\r\n";

static void
test_downgrade(void **state)
{
	struct buf out = BUF_INIT;
	unsigned flags;
	size_t step;

	(void)state;
	for (step = 0; step < 40; step++) {
		buf_reset(&out);
		assert_int_equal(conv(multipart, 998, 1, step, &flags, &out),
				 1);
		assert_int_equal(flags, MIME_CONV_8BIT | MIME_CONV_MIME);
		assert_string_equal(buf_cstr(&out), multipart_7bit);
	}
	/* To an 8BITMIME hop with no long line: nothing changes. */
	buf_reset(&out);
	assert_int_equal(conv(multipart, 998, 0, 0, &flags, &out), 0);
	assert_string_equal(buf_cstr(&out), multipart);
	buf_free(&out);
}

static void
test_unconvertible(void **state)
{
	struct buf out = BUF_INIT;
	unsigned flags;

	(void)state;
	/* No MIME-Version: not MIME, sent as is. */
	conv("Subject: x\r\n\r\nbody \xe9\r\n", 998, 1, 0, &flags, &out);
	assert_true(flags & MIME_CONV_8BIT_BODY);
	assert_string_equal(buf_cstr(&out), "Subject: x\r\n\r\nbody \xe9\r\n");
	buf_reset(&out);
	conv("Subject: \xe9\r\nMIME-Version: 1.0\r\n\r\nx\r\n", 998, 1, 0,
	     &flags, &out);
	assert_true(flags & MIME_CONV_8BIT_HEADER);
	assert_false(flags & MIME_CONV_8BIT_BODY);
	buf_reset(&out);
	/* Raw 8-bit in a base64 part. */
	conv("MIME-Version: 1.0\r\nContent-Transfer-Encoding: base64\r\n\r\n"
	     "\xe9\r\n",
	     998, 1, 0, &flags, &out);
	assert_true(flags & MIME_CONV_8BIT_BODY);
	buf_free(&out);
}

static void
test_long_lines(void **state)
{
	char text[400], want[600];
	struct buf out = BUF_INIT;
	unsigned flags;

	(void)state;
	/* A MIME part: re-encoded, even without 8-bit octets. */
	snprintf(text, sizeof(text), "MIME-Version: 1.0\r\n\r\n%0100d\r\n", 7);
	assert_int_equal(conv(text, 60, 0, 0, &flags, &out), 1);
	assert_true(flags & MIME_CONV_LONG);
	snprintf(want, sizeof(want),
		 "MIME-Version: 1.0\r\n"
		 "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
		 "%075d=\r\n%025d\r\n",
		 0, 7);
	assert_string_equal(buf_cstr(&out), want);
	/* A header folded at white space; a non-MIME body line broken. */
	buf_reset(&out);
	conv("Subject: aaaa bbbb cccc dddd\r\n\r\n0123456789\r\n", 16, 0, 0,
	     &flags, &out);
	assert_string_equal(buf_cstr(&out),
			    "Subject: aaaa\r\n bbbb cccc dddd\r\n\r\n"
			    "0123456789\r\n");
	buf_reset(&out);
	conv("Subject: x\r\n\r\n0123456789abcdefghij\r\n", 16, 0, 0, &flags,
	     &out);
	assert_string_equal(buf_cstr(&out), "Subject: x\r\n\r\n0123456789abcdef"
					    "\r\n ghij\r\n");
	buf_reset(&out);
	/* A header with no white space to fold at. */
	conv("X-Long: 0123456789abcdefghij\r\n\r\n", 16, 0, 0, &flags, &out);
	assert_string_equal(buf_cstr(&out),
			    "X-Long:\r\n 0123456789abcde\r\n fghij\r\n\r\n");
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_downgrade),
	    cmocka_unit_test(test_unconvertible),
	    cmocka_unit_test(test_long_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
