/*
 * mbox_reader - splits an mbox into messages, for pop3d (pure: bytes in,
 * offsets, sizes and unique ids out; no file access).
 *
 * The format is the one local writes (mbox.h): each message starts with a
 * "From " line, its header and body follow with "From " lines of the
 * content quoted as ">From ", and an empty line ends it.  A line is a
 * separator ("From_ line") when it starts with "From " and is the first
 * line of the input or follows an empty line ("\n" or "\r\n"); the empty
 * line before a separator, and one at the very end of the input, belong
 * to no message.  Input that does not start with a From_ line (and is not
 * empty) is not an mbox: the scan stops with MBOX_SCAN_NOT_MBOX, as
 * Dovecot and mutt refuse such files, rather than guess where messages
 * start.  A last message without its empty line, or whose last line has
 * no LF (a mailbox written by something else), ends at the end of input.
 *
 * Input comes in pieces of any size (the file is read in chunks: memory
 * does not grow with the size of a message), and the result is the same
 * for any split.  For each message the scan gives:
 *  - start: offset of its From_ line; body: offset of the byte after that
 *    line; end: offset where its content ends (its separating empty line
 *    excluded); the bytes [body, end) are the message as stored;
 *  - octets: its size as POP3 sends it: [body, end) through pop3_wire
 *    with POP3_WIRE_UNQUOTE (pop3_cmd.h), i.e. CRLF lines, ">From "
 *    unquoted, without stuffing dots;
 *  - uidl: a persistent unique id (RFC 1939 UIDL): the first
 *    MBOX_UIDL_LEN hex digits of the SHA-256 of [start, end), the From_
 *    line (sender and delivery second) included.  It depends only on the
 *    message's own bytes, so it survives server restarts and the removal
 *    of other messages, needs no index file and no header added at
 *    delivery; a program that rewrites a message (a mail reader adding
 *    Status:) gives it a new id, and the client fetches it again.  Two
 *    byte-identical messages have the same hash: the caller numbers the
 *    later ones (pop3d appends "-2", "-3"...).
 * The message array is owned by the struct until mbox_scan_free().
 */
#ifndef PANACEA_MBOX_READER_H
#define PANACEA_MBOX_READER_H

#include <stddef.h>

#include "pop3_cmd.h"

#define MBOX_UIDL_LEN 32

enum mbox_scan_status { MBOX_SCAN_OK = 0, MBOX_SCAN_NOT_MBOX = -1 };

struct mbox_msg {
	unsigned long long start;
	unsigned long long body;
	unsigned long long end;
	unsigned long long octets;
	char uidl[MBOX_UIDL_LEN + 1];
};

struct mbox_scan {
	struct mbox_msg *msgs;
	size_t count;
	int status;		   /* enum mbox_scan_status */
	unsigned long long offset; /* bytes consumed so far */
	/* private */
	size_t cap;
	int kind;	/* the current line: undecided, From_, ... */
	int prev_blank; /* the previous line was empty */
	char head[8];	/* start of the current line, undecided */
	size_t nhead;
	unsigned long long line_start;
	char blank[2]; /* a held empty line: separator or content */
	size_t nblank;
	unsigned long long blank_start;
	int have_msg;
	struct pop3_wire wire;
	void *md; /* EVP_MD_CTX */
	int finished;
};

void mbox_scan_init(struct mbox_scan *sc);
/* MBOX_SCAN_OK, or MBOX_SCAN_NOT_MBOX (then later input is ignored). */
int mbox_scan_feed(struct mbox_scan *sc, const char *data, size_t len);
/* The end of input: completes the last message. */
int mbox_scan_finish(struct mbox_scan *sc);
void mbox_scan_free(struct mbox_scan *sc);

#endif
