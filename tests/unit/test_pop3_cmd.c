/*
 * test_pop3_cmd - lib/pop3_cmd: command parsing (keywords, arguments,
 * bounds, control characters), the state table of RFC 1939, taking a
 * line (answers, junk count), the CAPA list before and after login, and the
 * multi-line converter (CRLF, byte-stuffing, ">From " unquoting, TOP,
 * sizes) against a line-by-line reference and under every input split.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pop3_cmd.h"

struct row {
	const char *line;
	int result;
	enum pop3_cmd_id id;
	int nargs;
	const char *arg1;
	const char *arg2;
	long num1;
	long num2;
};

static const struct row rows[] = {
    {"USER pea", POP3_PARSE_OK, POP3_CMD_USER, 1, "pea", NULL, 0, 0},
    {"user pea", POP3_PARSE_OK, POP3_CMD_USER, 1, "pea", NULL, 0, 0},
    {"USER", POP3_PARSE_SYNTAX, POP3_CMD_USER, 0, NULL, NULL, 0, 0},
    {"USER a b", POP3_PARSE_SYNTAX, POP3_CMD_USER, 2, NULL, NULL, 0, 0},
    {"PASS my secret  pw ", POP3_PARSE_OK, POP3_CMD_PASS, 1, "my secret  pw ",
     NULL, 0, 0},
    {"PASS", POP3_PARSE_SYNTAX, POP3_CMD_PASS, 0, NULL, NULL, 0, 0},
    {"PASS ", POP3_PARSE_SYNTAX, POP3_CMD_PASS, 0, NULL, NULL, 0, 0},
    {"APOP mrose C4C9334BAC560ECC979E58001B3E22FB", POP3_PARSE_OK,
     POP3_CMD_APOP, 2, "mrose", "c4c9334bac560ecc979e58001b3e22fb", 0, 0},
    {"APOP mrose c4c9", POP3_PARSE_SYNTAX, POP3_CMD_APOP, 2, NULL, NULL, 0, 0},
    {"APOP mrose c4c9334bac560ecc979e58001b3e22fg", POP3_PARSE_SYNTAX,
     POP3_CMD_APOP, 2, NULL, NULL, 0, 0},
    {"AUTH", POP3_PARSE_OK, POP3_CMD_AUTH, 0, NULL, NULL, 0, 0},
    {"AUTH PLAIN", POP3_PARSE_OK, POP3_CMD_AUTH, 1, "PLAIN", NULL, 0, 0},
    {"AUTH PLAIN AGFsaWNlAHNlY3JldA==", POP3_PARSE_OK, POP3_CMD_AUTH, 2,
     "PLAIN", "AGFsaWNlAHNlY3JldA==", 0, 0},
    {"AUTH PLAIN =", POP3_PARSE_OK, POP3_CMD_AUTH, 2, "PLAIN", "=", 0, 0},
    {"AUTH PL/AIN", POP3_PARSE_SYNTAX, POP3_CMD_AUTH, 1, NULL, NULL, 0, 0},
    {"AUTH A B C", POP3_PARSE_SYNTAX, POP3_CMD_AUTH, 3, NULL, NULL, 0, 0},
    {"STLS", POP3_PARSE_OK, POP3_CMD_STLS, 0, NULL, NULL, 0, 0},
    {"STLS now", POP3_PARSE_SYNTAX, POP3_CMD_STLS, 1, NULL, NULL, 0, 0},
    {"CAPA", POP3_PARSE_OK, POP3_CMD_CAPA, 0, NULL, NULL, 0, 0},
    {"QUIT", POP3_PARSE_OK, POP3_CMD_QUIT, 0, NULL, NULL, 0, 0},
    {"quit ", POP3_PARSE_OK, POP3_CMD_QUIT, 0, NULL, NULL, 0, 0},
    {"STAT", POP3_PARSE_OK, POP3_CMD_STAT, 0, NULL, NULL, 0, 0},
    {"LIST", POP3_PARSE_OK, POP3_CMD_LIST, 0, NULL, NULL, 0, 0},
    {"LIST 4", POP3_PARSE_OK, POP3_CMD_LIST, 1, NULL, NULL, 4, 0},
    {"LIST  12", POP3_PARSE_OK, POP3_CMD_LIST, 1, NULL, NULL, 12, 0},
    {"LIST 0", POP3_PARSE_OK, POP3_CMD_LIST, 1, NULL, NULL, 0, 0},
    {"LIST -1", POP3_PARSE_SYNTAX, POP3_CMD_LIST, 1, NULL, NULL, 0, 0},
    {"LIST 1 2", POP3_PARSE_SYNTAX, POP3_CMD_LIST, 2, NULL, NULL, 0, 0},
    {"LIST 1x", POP3_PARSE_SYNTAX, POP3_CMD_LIST, 1, NULL, NULL, 0, 0},
    {"LIST 999999999", POP3_PARSE_OK, POP3_CMD_LIST, 1, NULL, NULL, 999999999,
     0},
    {"LIST 1000000000", POP3_PARSE_SYNTAX, POP3_CMD_LIST, 1, NULL, NULL, 0, 0},
    {"RETR 4", POP3_PARSE_OK, POP3_CMD_RETR, 1, NULL, NULL, 4, 0},
    {"RETR", POP3_PARSE_SYNTAX, POP3_CMD_RETR, 0, NULL, NULL, 0, 0},
    {"DELE 4", POP3_PARSE_OK, POP3_CMD_DELE, 1, NULL, NULL, 4, 0},
    {"DELE +4", POP3_PARSE_SYNTAX, POP3_CMD_DELE, 1, NULL, NULL, 0, 0},
    {"NOOP", POP3_PARSE_OK, POP3_CMD_NOOP, 0, NULL, NULL, 0, 0},
    {"RSET", POP3_PARSE_OK, POP3_CMD_RSET, 0, NULL, NULL, 0, 0},
    {"TOP 1 10", POP3_PARSE_OK, POP3_CMD_TOP, 2, NULL, NULL, 1, 10},
    {"TOP 1 0", POP3_PARSE_OK, POP3_CMD_TOP, 2, NULL, NULL, 1, 0},
    {"TOP 1", POP3_PARSE_SYNTAX, POP3_CMD_TOP, 1, NULL, NULL, 0, 0},
    {"UIDL", POP3_PARSE_OK, POP3_CMD_UIDL, 0, NULL, NULL, 0, 0},
    {"UIDL 2", POP3_PARSE_OK, POP3_CMD_UIDL, 1, NULL, NULL, 2, 0},
    {"XTND XMIT", POP3_PARSE_UNKNOWN, POP3_CMD_NONE, 0, NULL, NULL, 0, 0},
    {"", POP3_PARSE_UNKNOWN, POP3_CMD_NONE, 0, NULL, NULL, 0, 0},
    {"RETRX 1", POP3_PARSE_UNKNOWN, POP3_CMD_NONE, 0, NULL, NULL, 0, 0},
    {" RETR 1", POP3_PARSE_UNKNOWN, POP3_CMD_NONE, 0, NULL, NULL, 0, 0},
    {"RET", POP3_PARSE_UNKNOWN, POP3_CMD_NONE, 0, NULL, NULL, 0, 0},
    {"USER pe\ta", POP3_PARSE_SYNTAX, POP3_CMD_USER, 0, NULL, NULL, 0, 0},
    {"PASS a\x7f", POP3_PARSE_SYNTAX, POP3_CMD_PASS, 0, NULL, NULL, 0, 0},
};

static void
test_table(void **state)
{
	struct pop3_cmd c;

	(void)state;
	pop3_cmd_init(&c);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		int got = pop3_cmd_parse(r->line, strlen(r->line), &c);

		if (got != r->result || c.id != r->id)
			fail_msg("\"%s\": result %d id %d, want %d %d", r->line,
				 got, c.id, r->result, r->id);
		if (got == POP3_PARSE_SYNTAX) {
			assert_non_null(c.why);
			continue;
		}
		if (got != POP3_PARSE_OK)
			continue;
		assert_int_equal(c.nargs, r->nargs);
		if (r->arg1)
			assert_string_equal(c.arg1, r->arg1);
		if (r->arg2)
			assert_string_equal(c.arg2, r->arg2);
		assert_int_equal(c.num1, r->num1);
		assert_int_equal(c.num2, r->num2);
	}
	pop3_cmd_free(&c);
}

static void
test_nul_and_lengths(void **state)
{
	struct pop3_cmd c;
	char line[POP3_AUTH_LINE_MAX + 16];

	(void)state;
	pop3_cmd_init(&c);
	/* A NUL inside the line is a control character, not its end. */
	assert_int_equal(pop3_cmd_parse("USER a\0b", 8, &c), POP3_PARSE_SYNTAX);
	/* 253 octets (255 with CRLF) is the most an ordinary command has. */
	memset(line, 'a', sizeof(line));
	memcpy(line, "USER ", 5);
	assert_int_equal(pop3_cmd_parse(line, POP3_NAME_MAX + 5, &c),
			 POP3_PARSE_TOO_LONG);
	memcpy(line, "LIST ", 5);
	assert_int_equal(pop3_cmd_parse(line, POP3_CMD_LINE_MAX, &c),
			 POP3_PARSE_SYNTAX);
	assert_int_equal(pop3_cmd_parse(line, POP3_CMD_LINE_MAX + 1, &c),
			 POP3_PARSE_TOO_LONG);
	/* PASS and AUTH may be longer (secrets, RFC 5034 responses). */
	memcpy(line, "PASS ", 5);
	assert_int_equal(pop3_cmd_parse(line, 1000, &c), POP3_PARSE_OK);
	assert_int_equal(strlen(c.arg1), 995);
	assert_int_equal(pop3_cmd_parse(line, POP3_AUTH_LINE_MAX + 1, &c),
			 POP3_PARSE_TOO_LONG);
	memcpy(line, "AUTH PLAIN ", 11);
	assert_int_equal(pop3_cmd_parse(line, POP3_AUTH_LINE_MAX, &c),
			 POP3_PARSE_OK);
	assert_int_equal(strlen(c.arg2), POP3_AUTH_LINE_MAX - 11);
	/* Unknown and long: still too long. */
	memcpy(line, "XXXX ", 5);
	assert_int_equal(pop3_cmd_parse(line, POP3_AUTH_LINE_MAX + 1, &c),
			 POP3_PARSE_TOO_LONG);
	/* The argument strings survive the caller's line. */
	strcpy(line, "USER someone");
	assert_int_equal(pop3_cmd_parse(line, strlen(line), &c), POP3_PARSE_OK);
	memset(line, 'x', 12);
	assert_string_equal(c.arg1, "someone");
	pop3_cmd_free(&c);
}

static void
test_states(void **state)
{
	static const enum pop3_cmd_id auth_only[] = {
	    POP3_CMD_USER, POP3_CMD_PASS, POP3_CMD_APOP, POP3_CMD_AUTH,
	    POP3_CMD_STLS};
	static const enum pop3_cmd_id trans_only[] = {
	    POP3_CMD_STAT, POP3_CMD_LIST, POP3_CMD_RETR, POP3_CMD_DELE,
	    POP3_CMD_NOOP, POP3_CMD_RSET, POP3_CMD_TOP,	 POP3_CMD_UIDL};

	(void)state;
	for (size_t i = 0; i < sizeof(auth_only) / sizeof(auth_only[0]); i++) {
		assert_true(pop3_cmd_allowed(POP3_AUTHORIZATION, auth_only[i]));
		assert_false(pop3_cmd_allowed(POP3_TRANSACTION, auth_only[i]));
	}
	for (size_t i = 0; i < sizeof(trans_only) / sizeof(trans_only[0]);
	     i++) {
		assert_false(
		    pop3_cmd_allowed(POP3_AUTHORIZATION, trans_only[i]));
		assert_true(pop3_cmd_allowed(POP3_TRANSACTION, trans_only[i]));
	}
	assert_true(pop3_cmd_allowed(POP3_AUTHORIZATION, POP3_CMD_QUIT));
	assert_true(pop3_cmd_allowed(POP3_TRANSACTION, POP3_CMD_QUIT));
	assert_true(pop3_cmd_allowed(POP3_AUTHORIZATION, POP3_CMD_CAPA));
	assert_true(pop3_cmd_allowed(POP3_TRANSACTION, POP3_CMD_CAPA));
	assert_false(pop3_cmd_allowed(POP3_TRANSACTION, POP3_CMD_NONE));
}

/* The converter. */

static void
convert(const char *in, size_t len, int flags, long lines, struct buf *out,
	unsigned long long *octets)
{
	struct pop3_wire w;

	pop3_wire_init(&w, flags, lines);
	pop3_wire_feed(&w, in, len, out);
	pop3_wire_finish(&w, out);
	*octets = w.octets;
}

static void
check_conv(const char *in, int flags, long lines, const char *want)
{
	struct buf out = BUF_INIT;
	unsigned long long octets;
	size_t dots = 0;

	convert(in, strlen(in), flags, lines, &out, &octets);
	if (strcmp(buf_cstr(&out), want) != 0)
		fail_msg("converting \"%s\": got \"%s\", want \"%s\"", in,
			 buf_cstr(&out), want);
	/* The size is what is sent without the stuffing dots. */
	for (size_t i = 0; i < out.len; i++)
		if (out.data[i] == '.' && (i == 0 || out.data[i - 1] == '\n'))
			dots++;
	assert_int_equal(octets, out.len - dots);
	buf_free(&out);
}

static void
test_wire_basics(void **state)
{
	(void)state;
	check_conv("", 0, -1, "");
	check_conv("a\nb\n", 0, -1, "a\r\nb\r\n");
	check_conv("a\r\nb\r\n", 0, -1, "a\r\nb\r\n");
	check_conv("no newline", 0, -1, "no newline\r\n");
	check_conv("bare\rcr\n", 0, -1, "bare\rcr\r\n");
	check_conv("cr at end\r", 0, -1, "cr at end\r\r\n");
	check_conv("two\r\r\n", 0, -1, "two\r\r\n");
	check_conv("\r\n\n", 0, -1, "\r\n\r\n");
	/* Byte-stuffing: only a dot at the start of a line. */
	check_conv(".\n..\na.b\n.x", 0, -1, "..\r\n...\r\na.b\r\n..x\r\n");
	/* A '.' after a held CR is not at the start of the line. */
	check_conv("\r.x\n", 0, -1, "\r.x\r\n");
	/* >From unquoting, for mbox only. */
	check_conv(">From me\n>From\n>>From x\n> From\n", POP3_WIRE_UNQUOTE, -1,
		   "From me\r\n>From\r\n>>From x\r\n> From\r\n");
	check_conv(">From me\n", 0, -1, ">From me\r\n");
	check_conv(">Fro", POP3_WIRE_UNQUOTE, -1, ">Fro\r\n");
	check_conv(">From ", POP3_WIRE_UNQUOTE, -1, "From \r\n");
	check_conv(">Fr\r\n", POP3_WIRE_UNQUOTE, -1, ">Fr\r\n");
}

static void
test_wire_top(void **state)
{
	const char *msg = "A: 1\nB: 2\n\nl1\n.l2\nl3\n";

	(void)state;
	check_conv(msg, 0, 0, "A: 1\r\nB: 2\r\n\r\n");
	check_conv(msg, 0, 1, "A: 1\r\nB: 2\r\n\r\nl1\r\n");
	check_conv(msg, 0, 2, "A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\n");
	check_conv(msg, 0, 99, "A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\nl3\r\n");
	/* No body at all: everything. */
	check_conv("A: 1\nB: 2", 0, 0, "A: 1\r\nB: 2\r\n");
	/* CRLF storage: the empty line is "\r\n". */
	check_conv("A: 1\r\n\r\nbody\r\n", 0, 0, "A: 1\r\n\r\n");
	{
		struct pop3_wire w;
		struct buf out = BUF_INIT;

		pop3_wire_init(&w, 0, 0);
		assert_int_equal(pop3_wire_feed(&w, "H: x\n\nrest\n", 11, &out),
				 1);
		assert_int_equal(pop3_wire_feed(&w, "more\n", 5, &out), 1);
		pop3_wire_finish(&w, &out);
		assert_string_equal(buf_cstr(&out), "H: x\r\n\r\n");
		buf_free(&out);
	}
}

/* A line-by-line reference of the same rules. */
static void
reference(const char *in, size_t len, int flags, struct buf *out)
{
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(in + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (in + i)) : len - i;
		const char *p = in + i;
		size_t m = n;

		if (nl && m > 0 && p[m - 1] == '\r')
			m--;
		if ((flags & POP3_WIRE_UNQUOTE) && m >= 6 &&
		    memcmp(p, ">From ", 6) == 0) {
			p++;
			m--;
		}
		if (m > 0 && p[0] == '.')
			buf_putc(out, '.');
		buf_append(out, p, m);
		buf_puts(out, "\r\n");
		i += n + (nl ? 1 : 0);
	}
}

static void
test_wire_random_splits(void **state)
{
	static const char alphabet[] = "ab.>From \r\n";
	char in[200];
	struct buf want = BUF_INIT, got = BUF_INIT;
	unsigned seed = 12345;

	(void)state;
	for (int round = 0; round < 3000; round++) {
		size_t len = (size_t)(rand_r(&seed) % sizeof(in));
		int flags = rand_r(&seed) % 2 ? POP3_WIRE_UNQUOTE : 0;
		struct pop3_wire w;
		unsigned long long one;

		for (size_t i = 0; i < len; i++)
			in[i] =
			    alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
		buf_reset(&want);
		reference(in, len, flags, &want);
		buf_reset(&got);
		convert(in, len, flags, -1, &got, &one);
		if (got.len != want.len || memcmp(got.data, want.data, got.len))
			fail_msg("round %d: one-shot differs from reference",
				 round);
		/* Any split gives the same bytes and the same size. */
		buf_reset(&got);
		pop3_wire_init(&w, flags, -1);
		for (size_t i = 0; i < len;) {
			size_t n = 1 + (size_t)(rand_r(&seed) % 7);

			if (n > len - i)
				n = len - i;
			pop3_wire_feed(&w, in + i, n, &got);
			i += n;
		}
		pop3_wire_finish(&w, &got);
		assert_int_equal(got.len, want.len);
		assert_memory_equal(got.data, want.data, got.len);
		assert_int_equal(w.octets, one);
	}
	buf_free(&want);
	buf_free(&got);
}

/* pop3_cmd_take: the answers, and the count of junk lines in a row. */
static void
test_take(void **state)
{
	struct pop3_cmd cmd;
	struct buf reply = BUF_INIT;
	int junk = 0;

	(void)state;
	pop3_cmd_init(&cmd);
	assert_int_equal(
	    pop3_cmd_take("STAT", 4, POP3_TRANSACTION, &junk, &cmd, &reply),
	    POP3_TAKE_RUN);
	assert_int_equal(
	    pop3_cmd_take("BOGUS", 5, POP3_TRANSACTION, &junk, &cmd, &reply),
	    POP3_TAKE_REFUSE);
	assert_string_equal(buf_cstr(&reply), "-ERR Unknown command");
	assert_int_equal(junk, 1);
	assert_int_equal(
	    pop3_cmd_take("RETR x", 6, POP3_TRANSACTION, &junk, &cmd, &reply),
	    POP3_TAKE_REFUSE);
	assert_true(strncmp(buf_cstr(&reply), "-ERR Syntax error: ", 19) == 0);
	assert_int_equal(junk, 2);
	/* Valid POP3 in the wrong state: answered, and no junk. */
	assert_int_equal(
	    pop3_cmd_take("USER bob", 8, POP3_TRANSACTION, &junk, &cmd, &reply),
	    POP3_TAKE_REFUSE);
	assert_string_equal(buf_cstr(&reply),
			    "-ERR USER is not valid in this state");
	assert_int_equal(junk, 0);
	for (int i = 1; i < POP3_JUNK_LIMIT; i++)
		assert_int_equal(pop3_cmd_take("X", 1, POP3_AUTHORIZATION,
					       &junk, &cmd, &reply),
				 POP3_TAKE_REFUSE);
	assert_int_equal(
	    pop3_cmd_take("X", 1, POP3_AUTHORIZATION, &junk, &cmd, &reply),
	    POP3_TAKE_HANG_UP);
	assert_string_equal(buf_cstr(&reply), "-ERR Unknown command");
	pop3_cmd_free(&cmd);
	buf_free(&reply);
}

static void
capa_collect(void *arg, const char *text)
{
	buf_printf(arg, "%s|", text);
}

/* pop3_capa: the one list, after login and before it. */
static void
test_capa(void **state)
{
	struct pop3_capa after = {.login_delay = 0};
	struct pop3_capa before = {
	    .login_delay = 30, .user = 1, .sasl = "PLAIN LOGIN", .stls = 1};
	struct buf b = BUF_INIT;

	(void)state;
	pop3_capa(&after, capa_collect, &b);
	assert_string_equal(buf_cstr(&b),
			    "+OK Capability list follows|TOP|UIDL|RESP-CODES|"
			    "AUTH-RESP-CODE|PIPELINING|EXPIRE NEVER|"
			    "IMPLEMENTATION Panacea|.|");
	buf_reset(&b);
	pop3_capa(&before, capa_collect, &b);
	assert_string_equal(buf_cstr(&b),
			    "+OK Capability list follows|TOP|UIDL|RESP-CODES|"
			    "AUTH-RESP-CODE|PIPELINING|EXPIRE NEVER|"
			    "LOGIN-DELAY 30|USER|SASL PLAIN LOGIN|STLS|"
			    "IMPLEMENTATION Panacea|.|");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_nul_and_lengths),
	    cmocka_unit_test(test_states),
	    cmocka_unit_test(test_take),
	    cmocka_unit_test(test_capa),
	    cmocka_unit_test(test_wire_basics),
	    cmocka_unit_test(test_wire_top),
	    cmocka_unit_test(test_wire_random_splits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
