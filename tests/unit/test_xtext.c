/*
 * test_xtext - lib/xtext: RFC 3461 encoding tables, strict syntax checks,
 * and an encode/decode round trip of every octet value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "buf.h"
#include "xtext.h"

static void
test_encode_table(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} t[] = {
	    {"", ""},
	    {"user@example.org", "user@example.org"},
	    {"a+b", "a+2Bb"},
	    {"a=b", "a+3Db"},
	    {"a b", "a+20b"},
	    {"tab\there", "tab+09here"},
	    {"~!", "~!"},
	    {"\x7f", "+7F"},
	    {"\xc3\xa9", "+C3+A9"},
	    {"rfc822;x", "rfc822;x"},
	};
	struct buf b = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		buf_reset(&b);
		xtext_encode(&b, t[i].in, strlen(t[i].in));
		assert_string_equal(buf_cstr(&b), t[i].out);
		assert_true(xtext_valid(b.data ? b.data : "", b.len));
	}
	buf_free(&b);
}

static void
test_decode_table(void **state)
{
	static const struct {
		const char *in;
		const char *out; /* NULL: invalid */
	} t[] = {
	    {"", ""},		{"abc", "abc"},
	    {"a+2Bb", "a+b"},	{"a+2bb", "a+b"}, /* lower-case hex tolerated */
	    {"+3D", "="},	{"+", NULL},
	    {"+2", NULL},	{"+G0", NULL},
	    {"+0G", NULL},	{"a=b", NULL}, /* '=' must be encoded */
	    {"a b", NULL},		       /* SP must be encoded */
	    {"a\tb", NULL},		       /* controls too */
	    {"\xc3\xa9", NULL}, {"ab+", NULL},
	    {"++41", NULL},
	};
	struct buf b = BUF_INIT;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		buf_reset(&b);
		r = xtext_decode(&b, t[i].in, strlen(t[i].in));
		if (t[i].out == NULL) {
			assert_int_equal(r, -1);
			assert_false(xtext_valid(t[i].in, strlen(t[i].in)));
		} else {
			assert_int_equal(r, 0);
			assert_true(xtext_valid(t[i].in, strlen(t[i].in)));
			assert_string_equal(buf_cstr(&b), t[i].out);
		}
	}
	buf_free(&b);
}

static void
test_decode_nul(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(xtext_decode(&b, "a+00b", 5), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "a\0b", 3);
	buf_free(&b);
}

static void
test_decode_bounded(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	/* A "+" at the end of the given length must not read past it. */
	assert_int_equal(xtext_decode(&b, "ab+41", 3), -1);
	buf_reset(&b);
	assert_int_equal(xtext_decode(&b, "ab+41", 4), -1);
	buf_reset(&b);
	assert_int_equal(xtext_decode(&b, "ab+41", 5), 0);
	assert_string_equal(buf_cstr(&b), "abA");
	buf_free(&b);
}

static void
test_roundtrip_all_octets(void **state)
{
	unsigned char all[256];
	struct buf enc = BUF_INIT, dec = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	xtext_encode(&enc, all, sizeof(all));
	for (i = 0; i < enc.len; i++) {
		assert_true((unsigned char)enc.data[i] >= 33);
		assert_true((unsigned char)enc.data[i] <= 126);
		assert_true(enc.data[i] != '=');
	}
	assert_true(xtext_valid(enc.data, enc.len));
	assert_int_equal(xtext_decode(&dec, enc.data, enc.len), 0);
	assert_int_equal(dec.len, 256);
	assert_memory_equal(dec.data, all, 256);
	buf_free(&enc);
	buf_free(&dec);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_encode_table),
	    cmocka_unit_test(test_decode_table),
	    cmocka_unit_test(test_decode_nul),
	    cmocka_unit_test(test_decode_bounded),
	    cmocka_unit_test(test_roundtrip_all_octets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
