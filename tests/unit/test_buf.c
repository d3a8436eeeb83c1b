/*
 * test_buf - lib/buf: appends, printf growth, consume, truncate, steal,
 * and the NUL terminator after every operation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "xalloc.h"

/* The content is len bytes followed by a NUL. */
static void
assert_terminated(const struct buf *b)
{
	assert_non_null(b->data);
	assert_true(b->cap > b->len);
	assert_int_equal(b->data[b->len], '\0');
}

static void
test_init_empty(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_string_equal(buf_cstr(&b), "");
	assert_int_equal(b.len, 0);
	buf_reset(&b); /* on a never-used buffer */
	buf_consume(&b, 3);
	buf_truncate(&b, 0);
	assert_int_equal(b.len, 0);
	buf_free(&b);
	assert_null(b.data);
}

static void
test_append_binary(void **state)
{
	struct buf b = BUF_INIT;
	const char bin[] = {'a', '\0', 'b', '\0'};

	(void)state;
	buf_append(&b, bin, sizeof(bin));
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, bin, 4);
	assert_terminated(&b);
	buf_puts(&b, "xy");
	buf_putc(&b, 'z');
	buf_putc(&b, 0);
	assert_int_equal(b.len, 8);
	assert_memory_equal(b.data + 4, "xyz\0", 4);
	assert_terminated(&b);
	buf_append(&b, NULL, 0);
	assert_int_equal(b.len, 8);
	buf_free(&b);
}

static void
test_printf_growth(void **state)
{
	struct buf b = BUF_INIT;
	char big[1000];
	size_t i;

	(void)state;
	buf_printf(&b, "%d-%s", 42, "x");
	assert_string_equal(buf_cstr(&b), "42-x");
	/* Longer than the first reservation, so the second pass runs. */
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_printf(&b, "[%s]", big);
	assert_int_equal(b.len, 4 + 2 + 999);
	assert_int_equal(b.data[4], '[');
	for (i = 5; i < 5 + 999; i++)
		assert_int_equal(b.data[i], 'q');
	assert_int_equal(b.data[b.len - 1], ']');
	assert_terminated(&b);
	buf_set(&b, "fresh");
	assert_string_equal(buf_cstr(&b), "fresh");
	assert_int_equal(b.len, 5);
	buf_free(&b);
}

static void
test_consume(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_puts(&b, "hello world");
	buf_consume(&b, 6);
	assert_string_equal(buf_cstr(&b), "world");
	assert_int_equal(b.len, 5);
	buf_consume(&b, 0);
	assert_string_equal(buf_cstr(&b), "world");
	buf_consume(&b, 5);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_cstr(&b), "");
	buf_puts(&b, "abc");
	buf_consume(&b, 100);
	assert_int_equal(b.len, 0);
	assert_terminated(&b);
	buf_free(&b);
}

static void
test_truncate_reset(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_puts(&b, "abcdef");
	buf_truncate(&b, 10); /* longer: no-op */
	assert_string_equal(buf_cstr(&b), "abcdef");
	buf_truncate(&b, 3);
	assert_string_equal(buf_cstr(&b), "abc");
	assert_int_equal(b.len, 3);
	assert_terminated(&b);
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_cstr(&b), "");
	assert_non_null(b.data); /* storage kept */
	buf_free(&b);
}

static void
test_steal(void **state)
{
	struct buf b = BUF_INIT;
	char *s;

	(void)state;
	s = buf_steal(&b); /* unused buffer: an empty string */
	assert_string_equal(s, "");
	xfree(s);
	buf_puts(&b, "mine");
	s = buf_steal(&b);
	assert_string_equal(s, "mine");
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	xfree(s);
	buf_puts(&b, "again"); /* b stays usable */
	assert_string_equal(buf_cstr(&b), "again");
	buf_free(&b);
}

static void
test_large_growth(void **state)
{
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t i, total = 0;

	(void)state;
	for (i = 0; i < 1024; i++) {
		memset(chunk, (int)(i & 0xff), sizeof(chunk));
		buf_append(&b, chunk, sizeof(chunk));
		total += sizeof(chunk);
		assert_int_equal(b.len, total);
	}
	assert_terminated(&b);
	/* Every chunk landed where it should. */
	for (i = 0; i < 1024; i++)
		assert_int_equal((unsigned char)b.data[i * 4096 + 17],
				 (unsigned char)(i & 0xff));
	buf_reserve(&b, 1 << 20);
	assert_true(b.cap >= b.len + (1 << 20) + 1);
	buf_free(&b);
}

/* Appending a piece of the buffer to itself, across a growth. */
static void
test_self_append(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_puts(&b, "abcdefgh");
	while (b.len < 5000)
		buf_append(&b, b.data + 2, 6); /* "cdefgh" */
	assert_memory_equal(b.data, "abcdefghcdefghcdefgh", 20);
	assert_int_equal(b.data[b.len], '\0');
	buf_append(&b, b.data, b.len);	/* doubles */
	assert_int_equal(b.len % 6, 4); /* 2 * (8 + 6k) */
	assert_memory_equal(b.data + b.len / 2, "abcdefgh", 8);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init_empty),
	    cmocka_unit_test(test_append_binary),
	    cmocka_unit_test(test_printf_growth),
	    cmocka_unit_test(test_consume),
	    cmocka_unit_test(test_truncate_reset),
	    cmocka_unit_test(test_steal),
	    cmocka_unit_test(test_large_growth),
	    cmocka_unit_test(test_self_append),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
