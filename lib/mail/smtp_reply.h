/*
 * smtp_reply - the SMTP client's parser of server replies (RFC 5321
 * section 4.2) and of EHLO capability lists.
 *
 * A reply is one or more lines "NNN-text" ended by a line "NNN text" (or
 * "NNN" alone), all with the same three-digit code.  The client reads
 * lines with stream_getline() and feeds each, without its line ending, to
 * smtp_reply_feed() until it returns SMTP_REPLY_DONE.
 *
 * Contract:
 *  - pure: no I/O, no global state; every input is bounded.  A reply of
 *    more than SMTP_REPLY_LINES_MAX lines, or whose text passes
 *    SMTP_REPLY_TEXT_MAX bytes, is malformed (a server cannot grow the
 *    client's memory); a single line longer than SMTP_REPLY_LINE_MAX is
 *    cut there (the caller reads lines with that bound, and a truncated
 *    line still ends or continues the reply as its separator says);
 *  - malformed: a code that is not three digits with a first digit 2..5
 *    and second digit 0..5, a separator other than '-', ' ' or the end of
 *    the line, or a continuation line with another code;
 *  - text is the reply as Postfix prints it in logs and bounces: every
 *    line with its code, lines joined by one space ("550-5.1.1 No such
 *    user 550 5.1.1 here"); bytes outside printable ASCII become '?', so
 *    text is safe to log and to put in a DSN;
 *  - dsn is the enhanced status code (RFC 3463) at the start of the first
 *    line's text, when it is well formed ("C.S.D", C the reply's class,
 *    S and D of 1..3 digits) and agrees with the reply's class; else "";
 *  - lines holds the text of each line after "NNN-", sanitised the same
 *    way, each followed by '\n' (for the EHLO keyword list).
 *
 * EHLO: smtp_ehlo_parse() reads the keywords of a 2xx EHLO reply (every
 * line after the first, case-insensitive): STARTTLS, PIPELINING, SIZE
 * [limit], 8BITMIME, DSN, SMTPUTF8, ENHANCEDSTATUSCODES, CHUNKING, AUTH
 * mechanisms (also the old "AUTH=" form).  Unknown keywords are ignored.
 * A SIZE argument that is not a decimal number is ignored (no limit
 * known); SIZE 0 means no limit (RFC 1870).
 */
#ifndef PANACEA_SMTP_REPLY_H
#define PANACEA_SMTP_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define SMTP_REPLY_LINE_MAX 2048
#define SMTP_REPLY_LINES_MAX 100
#define SMTP_REPLY_TEXT_MAX 16384
#define SMTP_REPLY_DSN_MAX 16 /* "5.123.123" and a NUL fit easily */
#define SMTP_AUTH_MECHS_MAX 512

enum smtp_reply_status {
	SMTP_REPLY_DONE = 0, /* the last line was fed */
	SMTP_REPLY_MORE = 1, /* a continuation line: feed the next */
	SMTP_REPLY_BAD = -1, /* malformed; the reply is unusable */
};

struct smtp_reply {
	int code; /* 200..559, 0 until the first line */
	char dsn[SMTP_REPLY_DSN_MAX];
	struct buf text;
	struct buf lines;
	size_t nlines;
	int done;
};

/* Capability flags of an EHLO reply. */
#define SMTP_EXT_STARTTLS 0x001
#define SMTP_EXT_PIPELINING 0x002
#define SMTP_EXT_SIZE 0x004
#define SMTP_EXT_8BITMIME 0x008
#define SMTP_EXT_DSN 0x010
#define SMTP_EXT_SMTPUTF8 0x020
#define SMTP_EXT_ENHANCEDSTATUSCODES 0x040
#define SMTP_EXT_CHUNKING 0x080
#define SMTP_EXT_AUTH 0x100
#define SMTP_EXT_BINARYMIME 0x200

struct smtp_caps {
	unsigned ext;
	uint64_t size_limit; /* SIZE argument; 0: none given or no limit */
	/* AUTH mechanisms, upper case, space-separated, bounded. */
	char auth_mechs[SMTP_AUTH_MECHS_MAX];
};

void smtp_reply_init(struct smtp_reply *r);
/* Forgets the reply for the next one, keeping storage. */
void smtp_reply_reset(struct smtp_reply *r);
void smtp_reply_free(struct smtp_reply *r);
/* Feeds one line (no CR LF); see above.  Feeding after DONE or BAD
 * starts nothing new: call smtp_reply_reset() first. */
int smtp_reply_feed(struct smtp_reply *r, const char *line, size_t len);
/* The class of a complete reply: 2, 3, 4 or 5. */
int smtp_reply_class(const struct smtp_reply *r);
/* r->dsn when present, else "C.0.0" for the reply's class. */
const char *smtp_reply_dsn(const struct smtp_reply *r, char *out,
			   size_t outlen);
/* Checks an enhanced status code at the start of s (len bytes): returns
 * its length (followed in s by a space or the end) or 0. */
size_t smtp_dsn_prefix(const char *s, size_t len);

/* Fills caps from a complete 2xx EHLO reply. */
void smtp_ehlo_parse(const struct smtp_reply *r, struct smtp_caps *caps);

#endif
