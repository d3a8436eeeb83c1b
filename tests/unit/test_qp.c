/*
 * test_qp - the quoted-printable encoder: RFC 2045 6.7's rules (what is
 * escaped, trailing white space, 76-octet lines, soft breaks never inside
 * an escape), pieces give the same output as one call, and round trips
 * through qp_decode() of every octet value and line shape.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "qp.h"

/* Encodes text whose lines end in "\n" (each an original line end). */
static void
enc(struct buf *out, const char *text, size_t len)
{
	struct qp_enc q;
	size_t i, start = 0;

	qp_init(&q);
	for (i = 0; i < len; i++) {
		if (text[i] != '\n')
			continue;
		qp_encode(&q, out, text + start, i - start);
		qp_line_end(&q, out);
		start = i + 1;
	}
	qp_encode(&q, out, text + start, len - start);
	qp_finish(&q, out);
}

static void
check_lines(const struct buf *b)
{
	size_t i, col = 0;

	for (i = 0; i < b->len; i++) {
		unsigned char c = (unsigned char)b->data[i];

		assert_true(c < 128);
		if (c == '\r') {
			assert_true(i + 1 < b->len && b->data[i + 1] == '\n');
			/* No white space before a line end. */
			assert_true(col == 0 || (b->data[i - 1] != ' ' &&
						 b->data[i - 1] != '\t'));
			col = 0;
			i++;
			continue;
		}
		col++;
		assert_true(col <= QP_LINE_MAX);
	}
}

static void
test_vectors(void **state)
{
	static const struct {
		const char *in, *out;
	} v[] = {
	    {"plain text", "plain text"},
	    {"a=b", "a=3Db"},
	    {"caf\xc3\xa9", "caf=C3=A9"},
	    {"trailing \n", "trailing=20\r\n"},
	    {"tab\t\nx", "tab=09\r\nx"},
	    {"two  spaces inside", "two  spaces inside"},
	    {"end ", "end=20"},
	    {"\r", "=0D"},
	    {"", ""},
	};
	struct buf out = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		buf_reset(&out);
		enc(&out, v[i].in, strlen(v[i].in));
		assert_string_equal(buf_cstr(&out), v[i].out);
	}
	buf_free(&out);
}

static void
test_soft_breaks(void **state)
{
	char line[300];
	struct buf out = BUF_INIT, dec = BUF_INIT;

	(void)state;
	memset(line, 'a', sizeof(line));
	enc(&out, line, sizeof(line));
	check_lines(&out);
	assert_non_null(strstr(buf_cstr(&out), "=\r\n"));
	qp_decode(&dec, out.data, out.len);
	assert_int_equal(dec.len, sizeof(line));
	assert_memory_equal(dec.data, line, sizeof(line));
	/* Escapes are never split by a soft break. */
	buf_reset(&out);
	memset(line, 0xe9, sizeof(line));
	enc(&out, line, sizeof(line));
	check_lines(&out);
	for (size_t i = 0; i + 2 < out.len; i++)
		if (out.data[i] == '=' && out.data[i + 1] != '\r')
			assert_true(out.data[i + 1] == 'E' &&
				    out.data[i + 2] == '9');
	buf_free(&out);
	buf_free(&dec);
}

static void
test_pieces_same_as_whole(void **state)
{
	const char *text = "x \t y  \xff= abc def ghi jkl mno pqr stu vwx yz "
			   "0123456789 0123456789 0123456789 end  ";
	size_t len = strlen(text), cut;
	struct buf whole = BUF_INIT, parts = BUF_INIT;
	struct qp_enc q;

	(void)state;
	enc(&whole, text, len);
	for (cut = 0; cut <= len; cut++) {
		buf_reset(&parts);
		qp_init(&q);
		qp_encode(&q, &parts, text, cut);
		qp_encode(&q, &parts, text + cut, len - cut);
		qp_finish(&q, &parts);
		assert_int_equal(parts.len, whole.len);
		assert_memory_equal(parts.data, whole.data, whole.len);
	}
	buf_free(&whole);
	buf_free(&parts);
}

static void
test_round_trip(void **state)
{
	unsigned char data[700];
	struct buf out = BUF_INIT, dec = BUF_INIT, want = BUF_INIT;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 37 + 11);
	for (len = 0; len <= sizeof(data); len += 7) {
		buf_reset(&out);
		buf_reset(&dec);
		buf_reset(&want);
		enc(&out, (const char *)data, len);
		check_lines(&out);
		qp_decode(&dec, out.data, out.len);
		/* Line ends come back as CR LF. */
		for (i = 0; i < len; i++) {
			if (data[i] == '\n')
				buf_append(&want, "\r\n", 2);
			else
				buf_putc(&want, data[i]);
		}
		assert_int_equal(dec.len, want.len);
		if (want.len > 0)
			assert_memory_equal(dec.data, want.data, want.len);
	}
	buf_free(&out);
	buf_free(&dec);
	buf_free(&want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors),
	    cmocka_unit_test(test_soft_breaks),
	    cmocka_unit_test(test_pieces_same_as_whole),
	    cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
