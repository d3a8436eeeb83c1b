/*
 * test_mime - the MIME structure parser: what each line of a message
 * with nested multiparts, an attached message and a digest is; header
 * sections ended by a line that is no header; boundaries compared on
 * their first boundary_limit octets; the nesting limit; a line fed in
 * pieces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mime.h"

struct expect {
	const char *line;
	enum mime_kind kind;
	unsigned part;
};

static void
run(const struct mime_limits *lim, const struct expect *e, size_t n,
    struct mime_line *ended, size_t nended)
{
	struct mime *m = mime_new(lim);
	struct mime_line ml;
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		mime_feed(m, e[i].line, strlen(e[i].line), 0, &ml);
		if (ml.kind != e[i].kind || ml.part != e[i].part)
			fail_msg("line %zu \"%s\": kind %d part %u, want %d %u",
				 i, e[i].line, ml.kind, ml.part, e[i].kind,
				 e[i].part);
		if (ml.ended && k < nended)
			ended[k++] = ml;
	}
	mime_free(m);
}

static void
test_structure(void **state)
{
	static const struct expect e[] = {
	    {"MIME-Version: 1.0", MIME_HEADER, 0},
	    {"Content-Type: multipart/mixed;", MIME_HEADER, 0},
	    {"\tboundary=\"outer\"", MIME_HEADER, 0},
	    {"", MIME_SEPARATOR, 0},
	    {"preamble", MIME_TEXT, 0},
	    {"--outer", MIME_BOUNDARY, 0},
	    {"Content-Type: text/plain", MIME_HEADER, 1},
	    {"Content-Transfer-Encoding: 8bit", MIME_HEADER, 1},
	    {"", MIME_SEPARATOR, 1},
	    {"text \xc3\xa9", MIME_BODY, 1},
	    {"--outer  ", MIME_BOUNDARY, 0}, /* padding after it */
	    {"Content-Type: message/rfc822", MIME_HEADER, 2},
	    {"", MIME_SEPARATOR, 2},
	    {"Subject: inner", MIME_HEADER, 3},
	    {"Content-Type: multipart/alternative; boundary=in", MIME_HEADER,
	     3},
	    {"", MIME_SEPARATOR, 3},
	    {"--in", MIME_BOUNDARY, 3},
	    {"", MIME_SEPARATOR, 4},
	    {"inner text", MIME_BODY, 4},
	    {"--in--", MIME_BOUNDARY, 3},
	    {"inner epilogue", MIME_TEXT, 3},
	    {"--outer", MIME_BOUNDARY, 0},
	    {"Content-Type: application/octet-stream", MIME_HEADER, 5},
	    {"Content-Transfer-Encoding: base64", MIME_HEADER, 5},
	    {"AAAA", MIME_BODY, 5},
	    {"--outer--", MIME_BOUNDARY, 0},
	    {"epilogue", MIME_TEXT, 0},
	    {"--outer", MIME_TEXT, 0},
	};
	struct mime_limits lim = {0, 0};
	struct mime_line ended[8];

	(void)state;
	memset(ended, 0, sizeof(ended));
	run(&lim, e, sizeof(e) / sizeof(e[0]), ended, 8);
	assert_int_equal(ended[0].sect.type, MIME_TYPE_MULTIPART);
	assert_true(ended[0].sect.mime_version);
	assert_int_equal(ended[1].sect.enc, MIME_ENC_8BIT);
	assert_true(ended[1].sect.has_cte);
	assert_int_equal(ended[2].sect.type, MIME_TYPE_MESSAGE);
	assert_true(ended[3].sect.nested);
	assert_int_equal(ended[3].sect.type, MIME_TYPE_MULTIPART);
	assert_int_equal(ended[4].sect.type, MIME_TYPE_LEAF);
	assert_int_equal(ended[4].sect.enc, MIME_ENC_7BIT);
	/* The base64 part's headers end at "AAAA", which is no header. */
	assert_int_equal(ended[5].kind, MIME_BODY);
	assert_int_equal(ended[5].sect.enc, MIME_ENC_BASE64);
}

static void
test_digest_and_encoded_message(void **state)
{
	static const struct expect e[] = {
	    {"Content-Type: multipart/digest; boundary=d", MIME_HEADER, 0},
	    {"", MIME_SEPARATOR, 0},
	    {"--d", MIME_BOUNDARY, 0},
	    {"", MIME_SEPARATOR, 1},
	    {"Subject: digest part is a message", MIME_HEADER, 2},
	    {"", MIME_SEPARATOR, 2},
	    {"body", MIME_BODY, 2},
	    {"--d", MIME_BOUNDARY, 0},
	    {"Content-Type: message/rfc822", MIME_HEADER, 3},
	    {"Content-Transfer-Encoding: base64", MIME_HEADER, 3},
	    {"", MIME_SEPARATOR, 3},
	    {"U3ViamVjdDogeA==", MIME_BODY, 3},
	    {"--d--", MIME_BOUNDARY, 0},
	};
	struct mime_limits lim = {0, 0};

	(void)state;
	run(&lim, e, sizeof(e) / sizeof(e[0]), NULL, 0);
}

static void
test_boundary_limit(void **state)
{
	/* Compared on 4 octets: "abcdX" closes "abcdY". */
	static const struct expect e[] = {
	    {"Content-Type: multipart/mixed; boundary=abcdY", MIME_HEADER, 0},
	    {"", MIME_SEPARATOR, 0},
	    {"--abcdX", MIME_BOUNDARY, 0},
	    {"", MIME_SEPARATOR, 1},
	    {"--abc", MIME_BODY, 1},
	};
	struct mime_limits lim = {4, 0};

	(void)state;
	run(&lim, e, sizeof(e) / sizeof(e[0]), NULL, 0);
}

static void
test_nesting_limit(void **state)
{
	static const char *lines[] = {
	    "Content-Type: multipart/mixed; boundary=a",
	    "",
	    "--a",
	    "Content-Type: multipart/mixed; boundary=b",
	    "",
	    "--b",
	    "",
	    "deep",
	};
	struct mime_limits lim = {0, 1};
	struct mime *m = mime_new(&lim);
	struct mime_line ml;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		mime_feed(m, lines[i], strlen(lines[i]), 0, &ml);
	/* The second multipart is past the limit: its body is text. */
	assert_int_equal(ml.kind, MIME_TEXT);
	assert_int_equal(ml.part, 1);
	assert_true(mime_errors(m) & MIME_ERR_NESTING);
	mime_free(m);
}

static void
test_pieces(void **state)
{
	struct mime_limits lim = {0, 0};
	struct mime *m = mime_new(&lim);
	struct mime_line ml;

	(void)state;
	mime_feed(m, "Content-Transfer-Enc", 20, 0, &ml);
	/* Not a field name yet: the first piece decides, so this line is
	 * taken as no header. */
	assert_int_equal(ml.kind, MIME_BODY);
	mime_free(m);
	m = mime_new(&lim);
	mime_feed(m, "Content-Transfer-Encoding: ", 27, 0, &ml);
	assert_true(ml.cte && ml.field_start);
	mime_feed(m, "quoted-printable", 16, 1, &ml);
	assert_int_equal(ml.kind, MIME_HEADER);
	assert_true(ml.cte && !ml.field_start);
	mime_feed(m, "", 0, 0, &ml);
	assert_int_equal(ml.sect.enc, MIME_ENC_QP);
	mime_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_structure),
	    cmocka_unit_test(test_digest_and_encoded_message),
	    cmocka_unit_test(test_boundary_limit),
	    cmocka_unit_test(test_nesting_limit),
	    cmocka_unit_test(test_pieces),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
