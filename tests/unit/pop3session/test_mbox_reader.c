/*
 * test_mbox_reader - pop3session/mbox_reader: From_ lines and separators,
 * ">From " unquoting in sizes, malformed mboxes, the last message without its
 * empty line or LF, CRLF mboxes, split invariance, and UIDLs that survive
 * the removal of other messages.  Mailboxes are written with lib/mbox's
 * own formatting (mbox_from_line, mbox_convert: what local writes), and
 * each message read back through pop3_wire must be the message queued.
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
#include "mbox.h"
#include "mbox_reader.h"
#include "pop3_cmd.h"

static int
scan_all(const char *data, size_t len, struct mbox_scan *sc)
{
	mbox_scan_init(sc);
	mbox_scan_feed(sc, data, len);
	return mbox_scan_finish(sc);
}

/* The message as POP3 sends it (unstuffed). */
static void
retr(const char *mbox, const struct mbox_msg *m, struct buf *out)
{
	struct pop3_wire w;
	struct buf wire = BUF_INIT;

	pop3_wire_init(&w, POP3_WIRE_UNQUOTE, -1);
	pop3_wire_feed(&w, mbox + m->body, (size_t)(m->end - m->body), &wire);
	pop3_wire_finish(&w, &wire);
	assert_int_equal(w.octets, m->octets);
	/* Undo the stuffing to compare with the queued message. */
	for (size_t i = 0; i < wire.len; i++) {
		if (wire.data[i] == '.' && (i == 0 || wire.data[i - 1] == '\n'))
			continue;
		buf_putc(out, wire.data[i]);
	}
	assert_int_equal(out->len, m->octets);
	buf_free(&wire);
}

/* Appends a message as local does: From_ line, content in Unix lines
 * with >From quoting, an empty line. */
static void
local_append(struct buf *mbox, const char *sender, time_t when,
	     const char *crlf_content)
{
	mbox_from_line(mbox, sender, when);
	mbox_convert(crlf_content, strlen(crlf_content), MBOX_QUOTE_FROM, mbox);
	buf_putc(mbox, '\n');
}

static const char *const contents[] = {
    "Subject: one\r\n\r\nbody\r\n",
    "Subject: two\r\n\r\nFrom the start of a line\r\n.dot\r\n\r\n\r\n",
    "Subject: three\r\n\r\n",
    "Subject: four\r\nX: y\r\n\r\nno final newline",
    "Subject: five\r\n\r\n\r\nFrom again\r\n\r\nFrom: x\r\n",
};
#define NCONTENTS (sizeof(contents) / sizeof(contents[0]))

static void
test_round_trip(void **state)
{
	struct buf mbox = BUF_INIT, got = BUF_INIT, want = BUF_INIT;
	struct mbox_scan sc;

	(void)state;
	for (size_t i = 0; i < NCONTENTS; i++)
		local_append(&mbox, i % 2 ? "" : "a@example.org",
			     1700000000 + (time_t)i, contents[i]);
	assert_int_equal(scan_all(mbox.data, mbox.len, &sc), MBOX_SCAN_OK);
	assert_int_equal(sc.count, NCONTENTS);
	for (size_t i = 0; i < NCONTENTS; i++) {
		buf_reset(&got);
		retr(mbox.data, &sc.msgs[i], &got);
		buf_set(&want, contents[i]);
		/* mbox_convert ends a last line without LF. */
		if (want.len >= 2 && strcmp(want.data + want.len - 2, "\r\n"))
			buf_puts(&want, "\r\n");
		if (strcmp(buf_cstr(&got), buf_cstr(&want)) != 0)
			fail_msg("message %zu: got \"%s\" want \"%s\"", i,
				 buf_cstr(&got), buf_cstr(&want));
		assert_memory_equal(mbox.data + sc.msgs[i].start, "From ", 5);
		assert_int_equal(strlen(sc.msgs[i].uidl), MBOX_UIDL_LEN);
	}
	/* The offsets tile the file: each message ends right before the
	 * empty line that precedes the next From_ line. */
	for (size_t i = 0; i + 1 < NCONTENTS; i++)
		assert_int_equal(sc.msgs[i].end + 1, sc.msgs[i + 1].start);
	assert_int_equal(sc.msgs[NCONTENTS - 1].end + 1, mbox.len);
	assert_int_equal(sc.offset, mbox.len);
	mbox_scan_free(&sc);
	buf_free(&mbox);
	buf_free(&got);
	buf_free(&want);
}

static void
test_shapes(void **state)
{
	struct mbox_scan sc;
	const char *s;

	(void)state;
	/* Empty: no message. */
	assert_int_equal(scan_all("", 0, &sc), MBOX_SCAN_OK);
	assert_int_equal(sc.count, 0);
	mbox_scan_free(&sc);
	/* Not an mbox. */
	s = "Subject: x\n\nbody\n";
	assert_int_equal(scan_all(s, strlen(s), &sc), MBOX_SCAN_NOT_MBOX);
	mbox_scan_free(&sc);
	s = "\nFrom a b\n";
	assert_int_equal(scan_all(s, strlen(s), &sc), MBOX_SCAN_NOT_MBOX);
	mbox_scan_free(&sc);
	s = "Fro";
	assert_int_equal(scan_all(s, strlen(s), &sc), MBOX_SCAN_NOT_MBOX);
	mbox_scan_free(&sc);
	/* "From " not after an empty line is content. */
	s = "From a\nX: 1\n\nbody\nFrom b\n\nFrom c\nY: 2\n\n";
	assert_int_equal(scan_all(s, strlen(s), &sc), MBOX_SCAN_OK);
	assert_int_equal(sc.count, 2);
	assert_int_equal(sc.msgs[0].octets, strlen("X: 1\r\n\r\nbody\r\n"
						   "From b\r\n"));
	assert_int_equal(sc.msgs[1].start, strlen("From a\nX: 1\n\nbody\n"
						  "From b\n\n"));
	assert_int_equal(sc.msgs[1].octets, strlen("Y: 2\r\n"));
	mbox_scan_free(&sc);
	/* No empty line at the end, no LF at the end. */
	s = "From a\nX: 1\n\nlast";
	assert_int_equal(scan_all(s, strlen(s), &sc), MBOX_SCAN_OK);
	assert_int_equal(sc.count, 1);
	assert_int_equal(sc.msgs[0].end, strlen(s));
	assert_int_equal(sc.msgs[0].octets, strlen("X: 1\r\n\r\nlast\r\n"));
	mbox_scan_free(&sc);
	/* A From_ line alone, without LF. */
	s = "From a";
	assert_int_equal(scan_all(s, strlen(s), &sc), MBOX_SCAN_OK);
	assert_int_equal(sc.count, 1);
	assert_int_equal(sc.msgs[0].body, 6);
	assert_int_equal(sc.msgs[0].octets, 0);
	mbox_scan_free(&sc);
	/* A CRLF mbox: "\r\n" lines are empty lines too. */
	s = "From a\r\nX: 1\r\n\r\nb\r\n\r\nFrom b\r\nY: 2\r\n\r\n";
	assert_int_equal(scan_all(s, strlen(s), &sc), MBOX_SCAN_OK);
	assert_int_equal(sc.count, 2);
	assert_int_equal(sc.msgs[0].octets, strlen("X: 1\r\n\r\nb\r\n"));
	assert_int_equal(sc.msgs[1].octets, strlen("Y: 2\r\n"));
	mbox_scan_free(&sc);
	/* Quoted From lines count one byte less. */
	s = "From a\n>From x\n>>From y\n";
	assert_int_equal(scan_all(s, strlen(s), &sc), MBOX_SCAN_OK);
	assert_int_equal(sc.msgs[0].octets, strlen("From x\r\n>>From y\r\n"));
	mbox_scan_free(&sc);
	/* A line of only "\r" is content, not an empty line. */
	s = "From a\nX: 1\n\r\nFrom b\n";
	assert_int_equal(scan_all(s, strlen(s), &sc), MBOX_SCAN_OK);
	assert_int_equal(sc.count, 2);
	mbox_scan_free(&sc);
	s = "From a\nX: 1\n\rx\nFrom b\n";
	assert_int_equal(scan_all(s, strlen(s), &sc), MBOX_SCAN_OK);
	assert_int_equal(sc.count, 1);
	mbox_scan_free(&sc);
}

static void
test_splits(void **state)
{
	static const char alphabet[] = "From\n\r >ab";
	char in[300];
	unsigned seed = 777;
	struct mbox_scan one, many;

	(void)state;
	for (int round = 0; round < 3000; round++) {
		size_t len = (size_t)(rand_r(&seed) % sizeof(in));
		int st1, st2;

		memcpy(in, "From x\n", 7);
		for (size_t i = 7; i < len; i++)
			in[i] =
			    alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
		if (len < 7)
			len = 7;
		st1 = scan_all(in, len, &one);
		mbox_scan_init(&many);
		for (size_t i = 0; i < len;) {
			size_t n = 1 + (size_t)(rand_r(&seed) % 9);

			if (n > len - i)
				n = len - i;
			mbox_scan_feed(&many, in + i, n);
			i += n;
		}
		st2 = mbox_scan_finish(&many);
		assert_int_equal(st1, st2);
		assert_int_equal(one.count, many.count);
		for (size_t i = 0; i < one.count; i++) {
			struct buf got = BUF_INIT;

			assert_memory_equal(&one.msgs[i], &many.msgs[i],
					    sizeof(one.msgs[i]));
			/* Sizes are those of what RETR sends. */
			retr(in, &one.msgs[i], &got);
			buf_free(&got);
		}
		mbox_scan_free(&one);
		mbox_scan_free(&many);
	}
}

static void
test_uidl_persistence(void **state)
{
	struct buf full = BUF_INIT, fewer = BUF_INIT;
	struct mbox_scan a, b;

	(void)state;
	for (size_t i = 0; i < NCONTENTS; i++)
		local_append(&full, "a@example.org", 1700000000, contents[i]);
	/* The same mailbox after messages 1 and 3 were deleted. */
	for (size_t i = 0; i < NCONTENTS; i++)
		if (i != 1 && i != 3)
			local_append(&fewer, "a@example.org", 1700000000,
				     contents[i]);
	assert_int_equal(scan_all(full.data, full.len, &a), MBOX_SCAN_OK);
	assert_int_equal(scan_all(fewer.data, fewer.len, &b), MBOX_SCAN_OK);
	assert_int_equal(b.count, NCONTENTS - 2);
	assert_string_equal(b.msgs[0].uidl, a.msgs[0].uidl);
	assert_string_equal(b.msgs[1].uidl, a.msgs[2].uidl);
	assert_string_equal(b.msgs[2].uidl, a.msgs[4].uidl);
	/* Distinct messages, distinct ids. */
	for (size_t i = 0; i < a.count; i++)
		for (size_t j = i + 1; j < a.count; j++)
			assert_string_not_equal(a.msgs[i].uidl, a.msgs[j].uidl);
	mbox_scan_free(&a);
	mbox_scan_free(&b);
	/* The same content delivered another second is another message. */
	buf_reset(&full);
	local_append(&full, "a@example.org", 1700000000, contents[0]);
	local_append(&full, "a@example.org", 1700000001, contents[0]);
	assert_int_equal(scan_all(full.data, full.len, &a), MBOX_SCAN_OK);
	assert_string_not_equal(a.msgs[0].uidl, a.msgs[1].uidl);
	/* Known value: the id is the SHA-256 of From_ line and content. */
	mbox_scan_free(&a);
	assert_int_equal(scan_all("From a\nX\n\n", 10, &a), MBOX_SCAN_OK);
	/* printf 'From a\nX\n' | sha256sum */
	assert_string_equal(a.msgs[0].uidl, "43daaf752148bcf0e6e5944762205c59");
	mbox_scan_free(&a);
	buf_free(&full);
	buf_free(&fewer);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_shapes),
	    cmocka_unit_test(test_splits),
	    cmocka_unit_test(test_uidl_persistence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
