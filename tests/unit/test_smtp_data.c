/*
 * test_smtp_data - lib/smtp_data: every SMTP smuggling vector of the
 * CVE-2023-51764 family, dot-unstuffing, split-point invariance, header
 * bookkeeping (Received: count, Message-ID), limits, BDAT modes, and a
 * differential test against a naive reference of the end-of-data rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "smtp_data.h"

#define F_DONE SMTP_DATA_F_DONE
#define F_LF SMTP_DATA_F_BARE_LF
#define F_CR SMTP_DATA_F_BARE_CR
#define F_LOOK SMTP_DATA_F_DOT_LOOKALIKE

struct result {
	struct buf out;
	size_t consumed;
	struct smtp_data d;
};

/*
 * Feeds in[0..len) cut at the given offsets (ascending, ncuts of them);
 * like smtpd, stops feeding once the end is seen.
 */
static void
run_cuts(const char *in, size_t len, enum smtp_data_mode mode,
	 const struct smtp_data_limits *lim, const size_t *cuts, size_t ncuts,
	 struct result *r)
{
	size_t start = 0, i, end, used;

	buf_init(&r->out);
	r->consumed = 0;
	smtp_data_init(&r->d, mode, lim);
	for (i = 0; i <= ncuts && !smtp_data_done(&r->d); i++) {
		end = i < ncuts ? cuts[i] : len;
		used = smtp_data_feed(&r->d, in + start, end - start, &r->out);
		assert_true(used <= end - start);
		if (used < end - start)
			assert_true(smtp_data_done(&r->d));
		r->consumed += used;
		start = end;
	}
}

static void
run_once(const char *in, size_t len, enum smtp_data_mode mode,
	 const struct smtp_data_limits *lim, struct result *r)
{
	run_cuts(in, len, mode, lim, NULL, 0, r);
}

static void
run_bytes(const char *in, size_t len, enum smtp_data_mode mode,
	  const struct smtp_data_limits *lim, struct result *r)
{
	size_t cuts[512], i;

	assert_true(len <= 512);
	for (i = 1; i < len; i++)
		cuts[i - 1] = i;
	run_cuts(in, len, mode, lim, cuts, len ? len - 1 : 0, r);
}

static void
assert_same(const struct result *a, const struct result *b, const char *what)
{
	if (a->consumed != b->consumed || a->out.len != b->out.len ||
	    (a->out.len && memcmp(a->out.data, b->out.data, a->out.len)) ||
	    !smtp_data_same_results(&a->d, &b->d))
		fail_msg("split changed the result (%s): consumed %zu/%zu, "
			 "out %zu/%zu, flags %#x/%#x",
			 what, a->consumed, b->consumed, a->out.len, b->out.len,
			 a->d.flags, b->d.flags);
}

/* One-shot, byte by byte and every two-way split agree. */
static void
check_splits(const char *in, size_t len, enum smtp_data_mode mode,
	     const struct smtp_data_limits *lim)
{
	struct result one, other;
	size_t cut[2], i, j;

	run_once(in, len, mode, lim, &one);
	run_bytes(in, len, mode, lim, &other);
	assert_same(&one, &other, "byte by byte");
	buf_free(&other.out);
	for (i = 0; i <= len; i++) {
		cut[0] = i;
		run_cuts(in, len, mode, lim, cut, 1, &other);
		assert_same(&one, &other, "two parts");
		buf_free(&other.out);
		if (len > 40)
			continue;
		for (j = i; j <= len; j++) {
			cut[1] = j;
			run_cuts(in, len, mode, lim, cut, 2, &other);
			assert_same(&one, &other, "three parts");
			buf_free(&other.out);
		}
	}
	buf_free(&one.out);
}

struct vec {
	const char *name;
	const char *in;
	int done;
	size_t consumed; /* when done */
	const char *out;
	unsigned set;	/* flags that must be set */
	unsigned clear; /* flags that must be clear */
};

static const struct vec vectors[] = {
    /* The one and only end of data. */
    {"plain", "Subject: a\r\n\r\nbody\r\n.\r\n", 1, 23,
     "Subject: a\r\n\r\nbody\r\n", F_DONE, F_LF | F_CR | F_LOOK},
    {"empty message", ".\r\n", 1, 3, "", F_DONE, F_LOOK},
    {"empty line only", "\r\n.\r\n", 1, 5, "\r\n", F_DONE, 0},
    {"pipelined after end", "a\r\n.\r\nQUIT\r\n", 1, 6, "a\r\n", F_DONE, 0},
    {"end after bare LF line", "a\n\r\n.\r\n", 1, 7, "a\r\n\r\n", F_DONE | F_LF,
     F_LOOK},

    /* Smuggling vectors: none of these ends DATA. */
    {"<LF>.<LF>", "a\n.\nMAIL FROM:<x@y>\r\n", 0, 0,
     "a\r\n.\r\nMAIL FROM:<x@y>\r\n", F_LF | F_LOOK, F_DONE},
    {"<LF>.<CR><LF>", "a\n.\r\nMAIL FROM:<x@y>\r\n", 0, 0,
     "a\r\n.\r\nMAIL FROM:<x@y>\r\n", F_LF | F_LOOK, F_DONE},
    {"<CR>.<CR>", "a\r.\rMAIL FROM:<x@y>\r\n", 0, 0,
     "a\r.\rMAIL FROM:<x@y>\r\n", F_CR | F_LOOK, F_DONE | F_LF},
    {"<CR><LF>.<LF>", "a\r\n.\nMAIL FROM:<x@y>\r\n", 0, 0,
     "a\r\n\r\nMAIL FROM:<x@y>\r\n", F_LF | F_LOOK, F_DONE},
    {"<CR><LF>.<CR>", "a\r\n.\rMAIL FROM:<x@y>\r\n", 0, 0,
     "a\r\n\rMAIL FROM:<x@y>\r\n", F_CR | F_LOOK, F_DONE},
    {"<CR>.<CR><LF>", "a\r.\r\nMAIL FROM:<x@y>\r\n", 0, 0,
     "a\r.\r\nMAIL FROM:<x@y>\r\n", F_CR | F_LOOK, F_DONE},
    {"<CR>.<LF>", "a\r.\nMAIL FROM:<x@y>\r\n", 0, 0,
     "a\r.\r\nMAIL FROM:<x@y>\r\n", F_CR | F_LF | F_LOOK, F_DONE},
    {"<LF>.<CR>", "a\n.\rMAIL FROM:<x@y>\r\n", 0, 0,
     "a\r\n.\rMAIL FROM:<x@y>\r\n", F_CR | F_LF | F_LOOK, F_DONE},
    {".<LF> at start", ".\nMAIL FROM:<x@y>\r\n", 0, 0,
     "\r\nMAIL FROM:<x@y>\r\n", F_LF | F_LOOK, F_DONE},
    {".<CR> at start", ".\rMAIL FROM:<x@y>\r\n", 0, 0, "\rMAIL FROM:<x@y>\r\n",
     F_CR | F_LOOK, F_DONE},
    {"<CR><LF>.<CR><CR><LF>", "a\r\n.\r\r\nb\r\n", 0, 0, "a\r\n\r\r\nb\r\n",
     F_CR | F_LOOK, F_DONE},
    {"<CR><CR><LF>.<CR><LF> ends", "a\r\r\n.\r\n", 1, 7, "a\r\r\n",
     F_DONE | F_CR, F_LF},
    {"bare LF alone", "a\nb\n", 0, 0, "a\r\nb\r\n", F_LF,
     F_DONE | F_LOOK | F_CR},
    {"bare CR alone", "a\rb\r", 0, 0, "a\rb", F_CR, F_DONE | F_LF},
    {"<LF><LF>.<LF><LF>", "\n\n.\n\n", 0, 0, "\r\n\r\n.\r\n\r\n", F_LF | F_LOOK,
     F_DONE},
    {"<CR><LF>.<SP><CR><LF>", "a\r\n. \r\nb", 0, 0, "a\r\n \r\nb", 0,
     F_DONE | F_LOOK},
    {"incomplete terminator", "a\r\n.\r", 0, 0, "a\r\n", 0, F_DONE},
    {"incomplete dot", "a\r\n.", 0, 0, "a\r\n", 0, F_DONE},

    /* Dot-unstuffing. */
    {"stuffed", "..\r\n.\r\n", 1, 7, ".\r\n", F_DONE, 0},
    {"stuffed text", "..x\r\n.\r\n", 1, 8, ".x\r\n", F_DONE, 0},
    {"unstuffed text", ".x\r\n.\r\n", 1, 7, "x\r\n", F_DONE, 0},
    {"three dots", "...\r\n.\r\n", 1, 8, "..\r\n", F_DONE, 0},
    {"stuffed mid", "a\r\n..\r\nb\r\n.\r\n", 1, 13, "a\r\n.\r\nb\r\n", F_DONE,
     0},
    {"dot mid line", "a.b\r\n.\r\n", 1, 8, "a.b\r\n", F_DONE, 0},
    {"dot after bare LF kept", "a\n.x\r\n.\r\n", 1, 9, "a\r\n.x\r\n",
     F_DONE | F_LF, F_LOOK},

    /* Octets. */
    {"NUL", "a\0b\r\n.\r\n", 1, 8, "a\0b\r\n", F_DONE | SMTP_DATA_F_NUL,
     SMTP_DATA_F_8BIT},
    {"8-bit", "\xc3\xa9\r\n.\r\n", 1, 7, "\xc3\xa9\r\n",
     F_DONE | SMTP_DATA_F_8BIT, SMTP_DATA_F_NUL},
};

static size_t
vec_len(const struct vec *v)
{
	/* The NUL vector has one embedded NUL: count up to the real end. */
	size_t n = strlen(v->in);

	if (strcmp(v->name, "NUL") == 0)
		n = 1 + 1 + strlen(v->in + 2);
	return n;
}

static size_t
out_len(const struct vec *v)
{
	size_t n = strlen(v->out);

	if (strcmp(v->name, "NUL") == 0)
		n = 1 + 1 + strlen(v->out + 2);
	return n;
}

static void
test_vectors(void **state)
{
	struct result r;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vec *v = &vectors[i];

		len = vec_len(v);
		run_once(v->in, len, SMTP_DATA_MODE_DATA, NULL, &r);
		if (smtp_data_done(&r.d) != v->done)
			fail_msg("%s: done %d", v->name, smtp_data_done(&r.d));
		if (r.consumed != (v->done ? v->consumed : len))
			fail_msg("%s: consumed %zu", v->name, r.consumed);
		if (r.out.len != out_len(v) ||
		    memcmp(buf_cstr(&r.out), v->out, r.out.len) != 0)
			fail_msg("%s: output \"%s\"", v->name,
				 buf_cstr(&r.out));
		if ((r.d.flags & v->set) != v->set || (r.d.flags & v->clear))
			fail_msg("%s: flags %#x", v->name, r.d.flags);
		assert_true(r.d.size == r.out.len);
		assert_true(r.d.raw_size == r.consumed);
		buf_free(&r.out);
		check_splits(v->in, len, SMTP_DATA_MODE_DATA, NULL);
	}
}

static void
test_after_end(void **state)
{
	struct smtp_data d;
	struct buf out = BUF_INIT;

	(void)state;
	smtp_data_init(&d, SMTP_DATA_MODE_DATA, NULL);
	assert_int_equal(smtp_data_feed(&d, "x\r\n.\r\nRSET\r\n", 12, &out), 6);
	assert_int_equal(smtp_data_feed(&d, "RSET\r\n", 6, &out), 0);
	assert_int_equal(out.len, 3);
	/* DATA mode: finish does nothing. */
	smtp_data_finish(&d, &out);
	assert_int_equal(out.len, 3);
	buf_free(&out);
}

static void
test_headers(void **state)
{
	const char *msg = "Received: from a\r\n"
			  "\tby b; date\r\n"
			  "received : obsolete form\r\n"
			  "RECEIVED:x\r\n"
			  "Message-ID:\r\n"
			  " <first@example.org>  \r\n"
			  "Message-ID: <second@example.org>\r\n"
			  "Received-SPF: pass\r\n"
			  "X-Received: no\r\n"
			  "\r\n"
			  "Received: in the body\r\n"
			  ".\r\n";
	struct result r;

	(void)state;
	run_once(msg, strlen(msg), SMTP_DATA_MODE_DATA, NULL, &r);
	assert_true(smtp_data_done(&r.d));
	assert_int_equal(r.d.received, 3);
	assert_string_equal(r.d.message_id, "<first@example.org>");
	assert_int_equal(r.d.in_header, 0);
	assert_true(r.d.lines == 11);
	buf_free(&r.out);
	check_splits(msg, strlen(msg), SMTP_DATA_MODE_DATA, NULL);
}

static void
test_header_end(void **state)
{
	static const struct {
		const char *in;
		unsigned received;
		const char *msgid;
	} t[] = {
	    /* A line that is no header ends the header section. */
	    {"From nobody\r\nReceived: x\r\n.\r\n", 0, ""},
	    {"Subject: x\r\nno colon here\r\nReceived: x\r\n.\r\n", 0, ""},
	    {" continuation first\r\nReceived: x\r\n.\r\n", 0, ""},
	    {":bad\r\nReceived: x\r\n.\r\n", 0, ""},
	    {"Na\xc3\xa9me: x\r\nReceived: x\r\n.\r\n", 0, ""},
	    {"Subject: x\r\n\r\nMessage-ID: <b@x>\r\n.\r\n", 0, ""},
	    /* A bare LF ends a content line too. */
	    {"Received: a\nReceived: b\n\nReceived: c\r\n.\r\n", 2, ""},
	    /* Only headers, no body. */
	    {"Message-ID: <only@x>\r\n.\r\n", 0, "<only@x>"},
	    /* Control characters do not reach the log. */
	    {"Message-ID: <a\tb\x01\xff@x>\r\n\r\n.\r\n", 0, "<a b??@x>"},
	    {"message-id:<c@x>\r\nReceived: y\r\n\r\n.\r\n", 1, "<c@x>"},
	    {"Message-ID : <d@x>\r\n\r\n.\r\n", 0, "<d@x>"},
	    {"Message-IDs: <e@x>\r\n\r\n.\r\n", 0, ""},
	};
	struct result r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		run_once(t[i].in, strlen(t[i].in), SMTP_DATA_MODE_DATA, NULL,
			 &r);
		assert_true(smtp_data_done(&r.d));
		if (r.d.received != t[i].received ||
		    strcmp(r.d.message_id, t[i].msgid) != 0)
			fail_msg("row %zu: received %u msgid \"%s\"", i,
				 r.d.received, r.d.message_id);
		buf_free(&r.out);
		check_splits(t[i].in, strlen(t[i].in), SMTP_DATA_MODE_DATA,
			     NULL);
	}
}

static void
test_message_id_bounded(void **state)
{
	struct buf in = BUF_INIT;
	struct result r;
	int i;

	(void)state;
	buf_puts(&in, "Message-ID: <");
	for (i = 0; i < 1000; i++)
		buf_putc(&in, 'a' + i % 26);
	buf_puts(&in, "@x>\r\n\r\n.\r\n");
	run_once(in.data, in.len, SMTP_DATA_MODE_DATA, NULL, &r);
	assert_int_equal(strlen(r.d.message_id), SMTP_DATA_MSGID_MAX);
	assert_true(strncmp(r.d.message_id, "<abc", 4) == 0);
	buf_free(&r.out);
	buf_free(&in);
}

static void
test_received_many(void **state)
{
	struct buf in = BUF_INIT;
	struct result r;
	int i;

	(void)state;
	for (i = 0; i < 60; i++)
		buf_printf(&in, "Received: from hop%d\r\n\tby x; date\r\n", i);
	buf_puts(&in, "\r\n.\r\n");
	run_once(in.data, in.len, SMTP_DATA_MODE_DATA, NULL, &r);
	assert_int_equal(r.d.received, 60);
	buf_free(&r.out);
	buf_free(&in);
}

static void
test_line_limits(void **state)
{
	struct smtp_data_limits lim = {0, 10, 0};
	struct result r;
	const char *in;

	(void)state;
	in = "Subject: 0123456789\r\n\r\nshort\r\n.\r\n";
	run_once(in, strlen(in), SMTP_DATA_MODE_DATA, &lim, &r);
	assert_true(r.d.flags & SMTP_DATA_F_LONG_LINE);
	assert_true(r.d.flags & SMTP_DATA_F_LONG_HEADER);
	/* Long lines are kept whole. */
	assert_string_equal(buf_cstr(&r.out),
			    "Subject: 0123456789\r\n\r\nshort\r\n");
	buf_free(&r.out);
	check_splits(in, strlen(in), SMTP_DATA_MODE_DATA, &lim);

	in = "Subject: x\r\n\r\n0123456789A\r\n.\r\n";
	run_once(in, strlen(in), SMTP_DATA_MODE_DATA, &lim, &r);
	assert_true(r.d.flags & SMTP_DATA_F_LONG_LINE);
	assert_false(r.d.flags & SMTP_DATA_F_LONG_HEADER);
	buf_free(&r.out);
	check_splits(in, strlen(in), SMTP_DATA_MODE_DATA, &lim);

	/* Exactly at the limit is fine; CRLF and a stuffed dot do not count. */
	in = "Subject:x\r\n\r\n..23456789\r\n.\r\n";
	run_once(in, strlen(in), SMTP_DATA_MODE_DATA, &lim, &r);
	assert_false(r.d.flags &
		     (SMTP_DATA_F_LONG_LINE | SMTP_DATA_F_LONG_HEADER));
	buf_free(&r.out);

	/* header_limit bounds a folded field. */
	lim.line_limit = 0;
	lim.header_limit = 30;
	in = "Subject: a\r\n b\r\n c\r\n d\r\n e\r\n f\r\n\r\n.\r\n";
	run_once(in, strlen(in), SMTP_DATA_MODE_DATA, &lim, &r);
	assert_true(r.d.flags & SMTP_DATA_F_LONG_HEADER);
	assert_false(r.d.flags & SMTP_DATA_F_LONG_LINE);
	buf_free(&r.out);
	check_splits(in, strlen(in), SMTP_DATA_MODE_DATA, &lim);
	in = "Subject: a\r\n b\r\nTo: x\r\n\r\n.\r\n";
	run_once(in, strlen(in), SMTP_DATA_MODE_DATA, &lim, &r);
	assert_false(r.d.flags & SMTP_DATA_F_LONG_HEADER);
	assert_false(r.d.flags & SMTP_DATA_F_HEADER_CUT);
	buf_free(&r.out);

	/* The excess of a field is discarded (header_size_limit): the line
	 * the limit falls in is cut there and keeps its line end, the
	 * field's later lines go; the next field and the body are whole. */
	lim.header_limit = 20;
	in = "Subject: 0123456789ABCDEF\r\n more\r\n and more\r\nTo: x\r\n"
	     "\r\nbody line longer than twenty octets\r\n.\r\n";
	run_once(in, strlen(in), SMTP_DATA_MODE_DATA, &lim, &r);
	assert_true(r.d.flags & SMTP_DATA_F_HEADER_CUT);
	assert_true(r.d.flags & SMTP_DATA_F_LONG_HEADER);
	assert_string_equal(buf_cstr(&r.out),
			    "Subject: 0123456789A\r\nTo: x\r\n\r\n"
			    "body line longer than twenty octets\r\n");
	assert_int_equal(r.d.size, r.out.len);
	buf_free(&r.out);
	check_splits(in, strlen(in), SMTP_DATA_MODE_DATA, &lim);
	/* A field that fits to the octet is untouched. */
	in = "Subject: 0123456789A\r\n\r\nx\r\n.\r\n";
	run_once(in, strlen(in), SMTP_DATA_MODE_DATA, &lim, &r);
	assert_false(r.d.flags & SMTP_DATA_F_HEADER_CUT);
	assert_int_equal(r.out.len, strlen(in) - 3);
	buf_free(&r.out);
	/* A cut continuation line keeps its start. */
	in = "Subject: 0123456\r\n abcdef\r\n\r\n.\r\n";
	run_once(in, strlen(in), SMTP_DATA_MODE_DATA, &lim, &r);
	assert_true(r.d.flags & SMTP_DATA_F_HEADER_CUT);
	assert_string_equal(buf_cstr(&r.out), "Subject: 0123456\r\n a\r\n\r\n");
	buf_free(&r.out);
	check_splits(in, strlen(in), SMTP_DATA_MODE_DATA, &lim);
}

static void
test_size_limit(void **state)
{
	struct smtp_data_limits lim = {10, 0, 0};
	struct result r;
	const char *in;

	(void)state;
	in = "12345678\r\n.\r\n"; /* exactly 10 octets of content */
	run_once(in, strlen(in), SMTP_DATA_MODE_DATA, &lim, &r);
	assert_false(r.d.flags & SMTP_DATA_F_TOO_BIG);
	assert_int_equal(r.out.len, 10);
	buf_free(&r.out);

	in = "123456789\r\nmore text that is discarded\r\n.\r\nQUIT\r\n";
	run_once(in, strlen(in), SMTP_DATA_MODE_DATA, &lim, &r);
	assert_true(r.d.flags & SMTP_DATA_F_TOO_BIG);
	/* Still in sync with the client: the end is found. */
	assert_true(smtp_data_done(&r.d));
	assert_int_equal(r.consumed, strlen(in) - 6);
	/* What is kept is the first size_limit octets, whatever the split. */
	assert_int_equal(r.out.len, 10);
	assert_memory_equal(r.out.data, "123456789\r", 10);
	assert_true(r.d.size == 11 + 29);
	buf_free(&r.out);
	check_splits(in, strlen(in), SMTP_DATA_MODE_DATA, &lim);
	lim.size_limit = 15;
	check_splits(in, strlen(in), SMTP_DATA_MODE_DATA, &lim);
	run_once(in, strlen(in), SMTP_DATA_MODE_DATA, &lim, &r);
	assert_int_equal(r.out.len, 15);
	buf_free(&r.out);
}

static void
test_bdat(void **state)
{
	struct smtp_data d;
	struct buf out = BUF_INIT;
	const char *in;

	(void)state;
	/* No dot handling, no end by itself. */
	in = "a\r\n.\r\n..b\r\nc";
	smtp_data_init(&d, SMTP_DATA_MODE_BDAT, NULL);
	assert_int_equal(smtp_data_feed(&d, in, strlen(in), &out), strlen(in));
	assert_false(smtp_data_done(&d));
	smtp_data_finish(&d, &out);
	assert_true(smtp_data_done(&d));
	assert_string_equal(buf_cstr(&out), "a\r\n.\r\n..b\r\nc\r\n");
	assert_false(d.flags & (F_LF | F_CR));
	check_splits(in, strlen(in), SMTP_DATA_MODE_BDAT, NULL);

	/* A CR held at the end of a chunk is resolved by the next one. */
	buf_reset(&out);
	smtp_data_init(&d, SMTP_DATA_MODE_BDAT, NULL);
	smtp_data_feed(&d, "a\r", 2, &out);
	smtp_data_feed(&d, "\nb\n", 3, &out);
	smtp_data_finish(&d, &out);
	assert_string_equal(buf_cstr(&out), "a\r\nb\r\n");
	assert_true(d.flags & F_LF);
	assert_false(d.flags & F_CR);

	/* A CR at the very end is bare. */
	buf_reset(&out);
	smtp_data_init(&d, SMTP_DATA_MODE_BDAT, NULL);
	smtp_data_feed(&d, "a\r", 2, &out);
	smtp_data_finish(&d, &out);
	assert_string_equal(buf_cstr(&out), "a\r\r\n");
	assert_true(d.flags & F_CR);

	/* Binary: bytes unchanged, nothing appended. */
	buf_reset(&out);
	smtp_data_init(&d, SMTP_DATA_MODE_BINARY, NULL);
	in = "X: y\r\n\r\n\x00\n.\n\r";
	assert_int_equal(smtp_data_feed(&d, in, 13, &out), 13);
	smtp_data_finish(&d, &out);
	assert_int_equal(out.len, 13);
	assert_memory_equal(out.data, in, 13);
	assert_true(d.flags & SMTP_DATA_F_NUL);
	assert_true(smtp_data_done(&d));
	buf_free(&out);
}

/*
 * The reference: DATA ends at the first "\r\n.\r\n" of "\r\n" + input;
 * the content is every CRLF line before it with a leading dot removed
 * and bare LFs written as CRLF.
 */
static int
reference(const char *in, size_t len, struct buf *out, size_t *consumed)
{
	struct buf pre = BUF_INIT;
	size_t i, end = 0, ls;
	int done = 0;

	buf_append(&pre, "\r\n", 2);
	buf_append(&pre, in, len);
	for (i = 0; i + 5 <= pre.len; i++) {
		if (memcmp(pre.data + i, "\r\n.\r\n", 5) == 0) {
			done = 1;
			end = i + 2; /* just after the CRLF */
			break;
		}
	}
	if (!done) {
		buf_free(&pre);
		return 0;
	}
	*consumed = i + 5 - 2;
	for (ls = 2; ls < end;) {
		const char *line = pre.data + ls;
		size_t n =
		    (size_t)((char *)memmem(line, end - ls, "\r\n", 2) - line);
		size_t k = 0;

		if (n > 0 && line[0] == '.')
			k = 1;
		for (; k < n; k++) {
			if (line[k] == '\n')
				buf_append(out, "\r\n", 2);
			else
				buf_putc(out, line[k]);
		}
		buf_append(out, "\r\n", 2);
		ls += n + 2;
	}
	buf_free(&pre);
	return 1;
}

static uint32_t
lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 16;
}

static void
test_differential(void **state)
{
	static const char alphabet[] = "\r\n.a:";
	char in[64];
	struct buf ref = BUF_INIT;
	struct result r, o;
	size_t len, i, consumed, cuts[4];
	uint32_t seed = 12345;
	int iter;

	(void)state;
	for (iter = 0; iter < 30000; iter++) {
		len = lcg(&seed) % 40;
		for (i = 0; i < len; i++)
			in[i] = alphabet[lcg(&seed) % 5];
		/* Always end, so that the content can be compared. */
		memcpy(in + len, "\r\n.\r\n", 5);
		len += 5;
		buf_reset(&ref);
		assert_true(reference(in, len, &ref, &consumed));
		run_once(in, len, SMTP_DATA_MODE_DATA, NULL, &r);
		if (!smtp_data_done(&r.d) || r.consumed != consumed ||
		    r.out.len != ref.len ||
		    memcmp(buf_cstr(&r.out), buf_cstr(&ref), ref.len) != 0)
			fail_msg("iteration %d: consumed %zu/%zu out %zu/%zu",
				 iter, r.consumed, consumed, r.out.len,
				 ref.len);
		for (i = 0; i < 4; i++)
			cuts[i] = lcg(&seed) % (len + 1);
		/* Sort the cuts. */
		for (i = 1; i < 4; i++) {
			size_t j = i, t;

			while (j > 0 && cuts[j - 1] > cuts[j]) {
				t = cuts[j];
				cuts[j] = cuts[j - 1];
				cuts[j - 1] = t;
				j--;
			}
		}
		run_cuts(in, len, SMTP_DATA_MODE_DATA, NULL, cuts, 4, &o);
		assert_same(&r, &o, "random");
		buf_free(&o.out);
		run_bytes(in, len, SMTP_DATA_MODE_DATA, NULL, &o);
		assert_same(&r, &o, "random bytes");
		buf_free(&o.out);
		buf_free(&r.out);
	}
	buf_free(&ref);
}

static void
test_large_counts(void **state)
{
	struct smtp_data d;
	struct buf out = BUF_INIT;
	char block[4096];
	int i;

	(void)state;
	/* 4 MB of body in 4 KB chunks: counters and output stay exact. */
	memset(block, 'x', sizeof(block));
	for (i = 63; i < (int)sizeof(block); i += 64) {
		block[i - 1] = '\r';
		block[i] = '\n';
	}
	smtp_data_init(&d, SMTP_DATA_MODE_DATA, NULL);
	smtp_data_feed(&d, "Subject: x\r\n\r\n", 14, &out);
	for (i = 0; i < 1024; i++) {
		assert_int_equal(smtp_data_feed(&d, block, sizeof(block), &out),
				 sizeof(block));
		buf_reset(&out);
	}
	assert_int_equal(smtp_data_feed(&d, ".\r\n", 3, &out), 3);
	assert_true(smtp_data_done(&d));
	assert_true(d.size == 14 + 4096ull * 1024);
	assert_true(d.raw_size == 14 + 4096ull * 1024 + 3);
	assert_true(d.lines == 2 + 64ull * 1024);
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors),
	    cmocka_unit_test(test_after_end),
	    cmocka_unit_test(test_headers),
	    cmocka_unit_test(test_header_end),
	    cmocka_unit_test(test_message_id_bounded),
	    cmocka_unit_test(test_received_many),
	    cmocka_unit_test(test_line_limits),
	    cmocka_unit_test(test_size_limit),
	    cmocka_unit_test(test_bdat),
	    cmocka_unit_test(test_differential),
	    cmocka_unit_test(test_large_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
