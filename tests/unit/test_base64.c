/*
 * test_base64 - RFC 4648 vectors, strict rejection of every non-canonical
 * form, the output bound, and round trips of all byte values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base64.h"
#include "buf.h"

static const struct {
	const char *plain;
	const char *coded;
} vectors[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

static void
test_rfc4648_vectors(void **state)
{
	struct buf out = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		buf_reset(&out);
		base64_encode(&out, vectors[i].plain, strlen(vectors[i].plain));
		assert_string_equal(buf_cstr(&out), vectors[i].coded);
		assert_int_equal(out.len,
				 base64_encoded_len(strlen(vectors[i].plain)));
		buf_reset(&out);
		assert_int_equal(base64_decode(&out, vectors[i].coded,
					       strlen(vectors[i].coded), 100),
				 0);
		assert_int_equal(out.len, strlen(vectors[i].plain));
		assert_memory_equal(buf_cstr(&out), vectors[i].plain, out.len);
	}
	buf_free(&out);
}

static void
test_sasl_plain_response(void **state)
{
	static const char raw[] = "\0alice\0secret";
	struct buf out = BUF_INIT;

	(void)state;
	base64_encode(&out, raw, sizeof(raw) - 1);
	assert_string_equal(buf_cstr(&out), "AGFsaWNlAHNlY3JldA==");
	buf_reset(&out);
	assert_int_equal(base64_decode(&out, "AGFsaWNlAHNlY3JldA==", 20, 64),
			 0);
	assert_int_equal(out.len, sizeof(raw) - 1);
	assert_memory_equal(out.data, raw, sizeof(raw) - 1);
	buf_free(&out);
}

static void
test_rejects_non_canonical(void **state)
{
	static const char *const bad[] = {
	    "Zg",	   /* missing padding */
	    "Zg=",	   /* short padding */
	    "Zg===",	   /* too much padding */
	    "====",	   /* padding only */
	    "Z===",	   /* three pad characters */
	    "Zh==",	   /* non-zero trailing bits */
	    "Zm9=",	   /* non-zero trailing bits */
	    "Zg==Zg==",	   /* padding in the middle */
	    "Zm=v",	   /* '=' inside a group */
	    "Zm9v\r\n",	   /* line break */
	    " Zm9v",	   /* white space */
	    "Zm9 v",	   /* white space inside */
	    "Zm-v",	   /* URL-safe alphabet */
	    "Zm_v",	   /* URL-safe alphabet */
	    "Zm9",	   /* length not a multiple of 4 */
	    "*",	   /* SMTP cancel is not base64 */
	    "Zm9\x80YmFy", /* 8-bit byte */
	};
	struct buf out = BUF_INIT;
	size_t i;

	(void)state;
	buf_puts(&out, "keep");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
		    base64_decode(&out, bad[i], strlen(bad[i]), 1000), -1);
		/* A rejected input leaves the output untouched. */
		assert_string_equal(buf_cstr(&out), "keep");
	}
	/* An embedded NUL is not a base64 character either. */
	assert_int_equal(base64_decode(&out, "Zm\0v", 4, 1000), -1);
	buf_free(&out);
}

static void
test_output_bound(void **state)
{
	struct buf out = BUF_INIT;

	(void)state;
	assert_int_equal(base64_decode(&out, "Zm9vYmFy", 8, 6), 0);
	assert_int_equal(out.len, 6);
	buf_reset(&out);
	assert_int_equal(base64_decode(&out, "Zm9vYmFy", 8, 5), -1);
	assert_int_equal(out.len, 0);
	assert_int_equal(base64_decode(&out, "Zm9vYg==", 8, 4), 0);
	assert_int_equal(out.len, 4);
	buf_reset(&out);
	assert_int_equal(base64_decode(&out, "Zm9vYg==", 8, 3), -1);
	assert_int_equal(base64_decoded_max(8), 6);
	assert_int_equal(base64_encoded_len(SIZE_MAX), SIZE_MAX);
	buf_free(&out);
}

static void
test_decode_appends(void **state)
{
	struct buf out = BUF_INIT;

	(void)state;
	buf_puts(&out, "x:");
	assert_int_equal(base64_decode(&out, "Zm9v", 4, 3), 0);
	assert_string_equal(buf_cstr(&out), "x:foo");
	base64_encode(&out, "f", 1);
	assert_string_equal(buf_cstr(&out), "x:fooZg==");
	buf_free(&out);
}

static void
test_round_trip(void **state)
{
	unsigned char data[300];
	struct buf enc = BUF_INIT, dec = BUF_INIT;
	size_t len, i;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7 + 3);
	for (len = 0; len <= sizeof(data); len++) {
		buf_reset(&enc);
		buf_reset(&dec);
		base64_encode(&enc, data, len);
		assert_int_equal(enc.len % 4, 0);
		assert_int_equal(base64_decode(&dec, enc.data, enc.len, len),
				 0);
		assert_int_equal(dec.len, len);
		if (len > 0)
			assert_memory_equal(dec.data, data, len);
	}
	buf_free(&enc);
	buf_free(&dec);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc4648_vectors),
	    cmocka_unit_test(test_sasl_plain_response),
	    cmocka_unit_test(test_rejects_non_canonical),
	    cmocka_unit_test(test_output_bound),
	    cmocka_unit_test(test_decode_appends),
	    cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
