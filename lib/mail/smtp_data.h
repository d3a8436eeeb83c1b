/*
 * smtp_data - the DATA (and BDAT) content state machine.
 *
 * smtpd feeds whatever bytes it read from the client; the machine writes
 * the message content to an output buffer and says when DATA has ended.
 * It keeps a constant amount of state (no line buffering), so it works
 * with any split of the input: feeding byte by byte or all at once gives
 * the same output, flags and counters.
 *
 * End of data (the SMTP smuggling rules, CVE-2023-51764 family):
 *  - ONLY <CR><LF>.<CR><LF> ends DATA; the content is then everything up
 *    to and including the first <CR><LF>.  The start of data counts as a
 *    line start, so ".\r\n" right after the 354 is an empty message.
 *  - bare <LF>, bare <CR>, <LF>.<LF>, <LF>.<CR><LF>, <CR>.<CR>,
 *    <CR><LF>.<LF> never end it.  Such end-of-data look-alikes set
 *    SMTP_DATA_F_DOT_LOOKALIKE so that smtpd can log the attempt.
 *  - A bare <LF> sets SMTP_DATA_F_BARE_LF (smtpd rejects the message with
 *    5.5.2 by default, like Postfix's smtpd_forbid_bare_newline) and is
 *    written as <CR><LF>, so the stored content never has a line ending
 *    the downstream SMTP client would have to guess about.
 *  - A bare <CR> is kept as is and sets SMTP_DATA_F_BARE_CR.
 *  - Dot-unstuffing (RFC 5321 section 4.5.2): at the start of a line (after
 *    <CR><LF> only) a leading "." is removed: "..x" -> ".x", ".x" -> "x".
 *
 * Bookkeeping, all with saturating 64-bit counters:
 *  - size: octets written to the output (the message as stored);
 *  - size_limit (0: none): once size would exceed it, SMTP_DATA_F_TOO_BIG
 *    is set and further content is discarded, but the machine still
 *    looks for the end so that smtpd stays in sync with the client;
 *  - header section: from the start to the first empty line, or to the
 *    first line that is neither a header field ("name:") nor a
 *    continuation; received counts "Received:" fields (hopcount_limit);
 *    the first "Message-ID:" value (unfolded, trimmed, control and 8-bit
 *    octets replaced by '?', at most SMTP_DATA_MSGID_MAX octets) is kept
 *    in message_id for the log;
 *  - line_limit (0: none): a line longer than this (CRLF excluded) sets
 *    SMTP_DATA_F_LONG_LINE, and also SMTP_DATA_F_LONG_HEADER when it is in
 *    the header section.  header_limit (0: none) bounds one header field
 *    with its continuation lines, counting the <CR><LF> between them
 *    (SMTP_DATA_F_LONG_HEADER): as Postfix does with header_size_limit,
 *    the octets past the limit are discarded (SMTP_DATA_F_HEADER_CUT):
 *    the line the limit falls in keeps its first octets and its line end,
 *    later continuation lines of the field are dropped whole, and the
 *    next field starts afresh.  Long lines are otherwise kept whole;
 *    smtpd decides what to do with the flags;
 *  - NUL octets set SMTP_DATA_F_NUL, octets >= 0x80 SMTP_DATA_F_8BIT.
 *
 * Modes: SMTP_DATA_MODE_DATA does all of the above.  SMTP_DATA_MODE_BDAT
 * (RFC 3030 chunks) does no dot handling and never ends by itself: the
 * caller feeds chunk contents and calls smtp_data_finish() after the LAST
 * chunk, which completes an unterminated last line with <CR><LF>.
 * SMTP_DATA_MODE_BINARY is BDAT for BODY=BINARYMIME: bytes are copied
 * unchanged (no <LF> normalisation, no final <CR><LF>); flags are still
 * computed.
 */
#ifndef PANACEA_SMTP_DATA_H
#define PANACEA_SMTP_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define SMTP_DATA_MSGID_MAX 250

enum smtp_data_mode {
	SMTP_DATA_MODE_DATA = 0,
	SMTP_DATA_MODE_BDAT,
	SMTP_DATA_MODE_BINARY,
};

/* Result flags. */
#define SMTP_DATA_F_DONE 0x0001		 /* end of data seen (or finished) */
#define SMTP_DATA_F_BARE_LF 0x0002	 /* a <LF> not preceded by <CR> */
#define SMTP_DATA_F_BARE_CR 0x0004	 /* a <CR> not followed by <LF> */
#define SMTP_DATA_F_DOT_LOOKALIKE 0x0008 /* e.g. <LF>.<LF>: smuggling? */
#define SMTP_DATA_F_TOO_BIG 0x0010	 /* size_limit exceeded */
#define SMTP_DATA_F_LONG_LINE 0x0020	 /* a line longer than line_limit */
#define SMTP_DATA_F_LONG_HEADER 0x0040	 /* a header over line/header limit */
#define SMTP_DATA_F_NUL 0x0080		 /* a NUL octet */
#define SMTP_DATA_F_8BIT 0x0100		 /* an octet >= 0x80 */
#define SMTP_DATA_F_HEADER_CUT 0x0200	 /* a field cut at header_limit */

struct smtp_data_limits {
	uint64_t size_limit;   /* message_size_limit; 0 = none */
	uint64_t line_limit;   /* e.g. 998 or line_length_limit; 0 = none */
	uint64_t header_limit; /* header_size_limit; 0 = none */
};

struct smtp_data {
	/* Configuration. */
	enum smtp_data_mode mode;
	struct smtp_data_limits lim;
	/* Results. */
	unsigned flags;
	uint64_t size;	   /* octets of content written (or discarded) */
	uint64_t raw_size; /* octets consumed from the client */
	unsigned received; /* Received: header fields */
	uint64_t lines;	   /* content lines completed */
	int in_header;	   /* still in the header section */
	char message_id[SMTP_DATA_MSGID_MAX + 1];
	/* Private state. */
	int state;
	int hstate;
	unsigned char prev[2]; /* the last two raw octets */
	uint64_t line_len;     /* octets of the current content line */
	uint64_t line_kept;    /* of which written (not cut) */
	uint64_t field_len;    /* octets of the current header field */
	char name[16];	       /* start of the header name, lower case */
	size_t name_len;
	int field_kind;	 /* which header the current field is */
	int msgid_state; /* 0: not seen, 1: capturing, 2: done */
	size_t msgid_len;
};

void smtp_data_init(struct smtp_data *d, enum smtp_data_mode mode,
		    const struct smtp_data_limits *lim);

/*
 * Consumes bytes from p[0..len) and appends content to out.  Returns the
 * number of bytes consumed: len, or less when the end of DATA was reached
 * (the bytes after <CR><LF>.<CR><LF> belong to the next command).  After
 * the end, further calls consume nothing.
 */
size_t smtp_data_feed(struct smtp_data *d, const void *p, size_t len,
		      struct buf *out);

/*
 * BDAT modes: ends the message after the LAST chunk (sets
 * SMTP_DATA_F_DONE).  In DATA mode it does nothing.
 */
void smtp_data_finish(struct smtp_data *d, struct buf *out);

/*
 * 1 when a and b hold the same results (flags, counters, in_header,
 * message_id), 0 otherwise: the split-point invariance above, as the unit
 * test and the fuzz target check it after feeding one stream in
 * different pieces.
 */
int smtp_data_same_results(const struct smtp_data *a,
			   const struct smtp_data *b);

static inline int
smtp_data_done(const struct smtp_data *d)
{
	return (d->flags & SMTP_DATA_F_DONE) != 0;
}

#endif
