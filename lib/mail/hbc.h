/*
 * hbc - header and body checks: Postfix's header_checks(5) on a message's
 * content, for smtpd (header_checks, mime_header_checks,
 * nested_header_checks, body_checks, where the content enters the queue)
 * and the smtp client (smtp_*_checks, on the way out).
 *
 * The caller feeds the content as it is stored (lines ending in <CR><LF>,
 * any split of the input gives the same result) and gets back the content
 * to store or send: hbc_feed() writes to out what it has finished.  What
 * it holds is bounded: one header field (with its continuation lines, at
 * most header_limit bytes, else 1 MiB; the rest of a longer field passes
 * unchecked) or one piece of a body line (line_limit bytes).
 *
 * What is looked up, as Postfix does:
 *  - a header field is one logical line: its physical lines joined with
 *    "\n" (the <CR> dropped, the folding white space kept), without the
 *    last line end; a body line without its line end, in pieces of at
 *    most line_limit bytes; empty lines are never looked up;
 *  - with MIME processing (disable_mime 0): the primary header section
 *    goes to header_checks, except MIME headers (MIME-Version,
 *    Content-Type, -Transfer-Encoding, -Disposition, -Description, -ID),
 *    which go to mime_header_checks like every header of a multipart
 *    part; the headers of an attached message/rfc822 (or message/global)
 *    go to nested_header_checks, its MIME headers to mime_header_checks;
 *    everything else (preambles, part bodies, boundary lines) to
 *    body_checks, while the segment (the body after one header section)
 *    has had fewer than body_size_limit bytes.  multipart/digest parts
 *    default to message/rfc822.  Boundaries are told apart by their first
 *    boundary_limit bytes; multiparts nested deeper than nesting_limit are
 *    treated as plain bodies.
 *  - with disable_mime: the primary header section to header_checks, the
 *    rest, line by line, to body_checks.
 *
 * Actions (value of the first table with a match; names case-insensitive;
 * the text after the name is "text"):
 *   REJECT [text]     the message is refused: reason "5.7.1 text" (text
 *                     may start with its own X.Y.Z code; default "5.7.1
 *                     message content rejected"); nothing more is output
 *   DISCARD [text]    the message is claimed delivered and dropped;
 *                     nothing more is output
 *   HOLD [text]       the message goes to the hold queue
 *   WARN/INFO [text]  logged as "warning:" / "info:"
 *   IGNORE            the line is dropped; STRIP [text] also logs it
 *   PREPEND text      a line is output before this one (a header line
 *                     before a header: text must be "name: value")
 *   REPLACE text      the line is replaced (the same rule)
 *   REDIRECT addr     every recipient is replaced by addr (the last wins)
 *   BCC addr          addr is added as a recipient (NOTIFY=NEVER)
 *   PASS [text]       no more checks for this message
 *   DUNNO, OK         as if nothing matched
 *   FILTER t:dest     the message goes to content filter t:dest
 *                     (content_filter.h; the last wins); a malformed
 *                     value is a warning and nothing else
 * An action the caller does not allow (cfg.actions: the smtp client's
 * HBC_SMTP_ACTIONS) is a warning and the line is kept.  A table that
 * fails (a lookup error, a pcre match over its bound) stops the checks
 * with HBC_R_DEFER: the message must not be accepted now.
 *
 * Logs, as Postfix's cleanup: "QUEUEID: ACTION: header|body LINE WHERE:
 * TEXT" with ACTION reject, discard, hold, warning, info, strip, prepend,
 * replace, redirect, filter, pass; LINE at most log_line_max bytes (200),
 * control octets shown as spaces; WHERE is the caller's (smtpd: "from
 * host[addr]; from=<s> to=<r> proto=ESMTP helo=<h>"; smtp: none, with
 * 60-byte lines, as Postfix's smtp logs); ": TEXT" only when there is one
 * (REJECT: the reason).
 */
#ifndef PANACEA_HBC_H
#define PANACEA_HBC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "maps.h"

enum hbc_class {
	HBC_HEADER = 0, /* header_checks */
	HBC_MIME,	/* mime_header_checks */
	HBC_NESTED,	/* nested_header_checks */
	HBC_BODY,	/* body_checks */
	HBC_CLASSES
};

enum hbc_verb {
	HBC_DUNNO = 0, /* DUNNO, OK */
	HBC_REJECT,
	HBC_DISCARD,
	HBC_HOLD,
	HBC_WARN,
	HBC_INFO,
	HBC_IGNORE,
	HBC_STRIP,
	HBC_PREPEND,
	HBC_REPLACE,
	HBC_REDIRECT,
	HBC_BCC,
	HBC_PASS,
	HBC_FILTER,
	HBC_UNKNOWN
};

#define HBC_ACT(v) (1u << (v))
/* What the smtp client may do on the way out (Postfix's smtp_*_checks). */
#define HBC_SMTP_ACTIONS                                                       \
	(HBC_ACT(HBC_DUNNO) | HBC_ACT(HBC_WARN) | HBC_ACT(HBC_INFO) |          \
	 HBC_ACT(HBC_IGNORE) | HBC_ACT(HBC_STRIP) | HBC_ACT(HBC_PREPEND) |     \
	 HBC_ACT(HBC_REPLACE))
#define HBC_ALL_ACTIONS (~0u)

struct hbc_action {
	enum hbc_verb verb;
	const char *text; /* into the value: after the name and white space */
};

/* Parses a table's value (pure). */
void hbc_action_parse(const char *value, struct hbc_action *a);

struct hbc_config {
	struct maps *maps[HBC_CLASSES]; /* NULL: no checks of that class */
	const char *names[HBC_CLASSES]; /* the parameters, for warnings */
	uint64_t body_size_limit;	/* body_checks_size_limit */
	size_t line_limit;		/* line_length_limit; 0: 2048 */
	size_t header_limit;		/* header_size_limit; 0: 1 MiB */
	size_t boundary_limit;		/* mime_boundary_length_limit */
	unsigned nesting_limit;		/* mime_nesting_limit */
	int disable_mime;		/* disable_mime_input_processing */
	unsigned actions;		/* HBC_ACT() bits allowed */
	/* A program that cannot answer the sender (pickup): REJECT holds
	 * the message whole instead, logged as a hold with the reason. */
	int reject_holds;
	size_t log_line_max; /* bytes of the line logged; 0: 200 */
};

#define HBC_R_REJECT 0x01
#define HBC_R_DISCARD 0x02
#define HBC_R_HOLD 0x04
#define HBC_R_DEFER 0x08 /* a table failed: try again later */
#define HBC_R_PASS 0x10

struct hbc_result {
	unsigned flags;
	struct buf reason; /* REJECT: "5.7.1 text"; DEFER: the error */
	char *redirect;	   /* REDIRECT's address, or NULL */
	char *filter;	   /* FILTER's "transport:destination", or NULL */
	char **bcc;	   /* BCC addresses */
	size_t nbcc;
};

struct hbc;

/* Opens the tables of lists[c] (the value of parameter names[c]) into
 * cfg->maps and sets cfg->names; "" opens nothing, and a list given twice
 * (the $header_checks defaults) shares one opened table.  0, or -1 with
 * "NAME: message" in err (a type Panacea lacks, a bad pattern). */
int hbc_open(struct hbc_config *cfg, const char *const names[HBC_CLASSES],
	     const char *const lists[HBC_CLASSES], struct buf *err);
/* The parameter whose table file was replaced since it was opened, or
 * NULL. */
const char *hbc_changed(const struct hbc_config *cfg);
/* Non-zero when cfg has a table to consult at all. */
int hbc_wanted(const struct hbc_config *cfg);
/* cfg and its maps must outlive the checker; queue_id and where are
 * copied. */
struct hbc *hbc_new(const struct hbc_config *cfg, const char *queue_id,
		    const char *where);
/* Consumes p[0..len) and appends the checked content to out.  After a
 * REJECT, DISCARD or DEFER nothing more is output. */
void hbc_feed(struct hbc *h, const void *p, size_t len, struct buf *out);
/* The end of the content: checks and outputs what is held. */
void hbc_finish(struct hbc *h, struct buf *out);
const struct hbc_result *hbc_result(const struct hbc *h);
void hbc_free(struct hbc *h);

/* Where a message enters the queue (smtpd, pickup): the four classes'
 * parameters and their limits read from the configuration (conf.h) and
 * the tables opened with every action allowed; 0, or -1 with "NAME:
 * message" in err. */
int hbc_conf_open(struct hbc_config *cfg, struct buf *err);
/* What a result changes in the envelope, as Postfix's cleanup applies
 * it: HOLD, FILTER, REDIRECT (every recipient goes to the one address)
 * and BCC (added once, with no DSN for the sender). */
struct queue_envelope;
void hbc_envelope(const struct hbc_result *r, struct queue_envelope *env);

#endif
