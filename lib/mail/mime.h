/*
 * mime - the structure of a MIME message (RFC 2045, 2046), line by line.
 *
 * A pure, bounded parser: the caller splits the content into lines (line
 * ends removed) and feeds each line, in one piece or several; the parser
 * says what each line is (a header line of which part, the empty line
 * that ends a header section, a line of a leaf part's body, a boundary,
 * preamble or epilogue text) and, when a header section ends, what the
 * part is (leaf, multipart, message/rfc822) and its declared
 * Content-Transfer-Encoding.  It is what the smtp client's 8-bit to 7-bit
 * conversion and its line length limit stand on (mime_conv.h); it knows
 * nothing of SMTP.
 *
 * Rules, as Postfix's MIME processor:
 *  - parts are numbered in the order their header sections start: 0 is
 *    the message, then every multipart part and every message/rfc822 (or
 *    message/global) body, depth first;
 *  - a header section ends at an empty line or at the first line that
 *    is neither a header field ("name:" with printable ASCII name) nor
 *    a continuation line (white space first, after a field): that line is
 *    then the first line of the body;
 *  - multipart boundaries are compared on their first boundary_limit
 *    octets; a line "--B" or "--B--" for any open multipart B (innermost
 *    first) is a boundary and closes everything opened inside B;
 *    multipart/digest parts default to message/rfc822;
 *  - a multipart without a boundary parameter, and a message/rfc822 part
 *    with an encoding other than 7bit, 8bit or binary, are leaves;
 *  - nesting (multiparts and attached messages) deeper than
 *    nesting_limit sets MIME_ERR_NESTING, and the part's body is then
 *    text, not parsed further.
 * Memory: one stack entry per open multipart or attached message (at most
 * nesting_limit, each with a boundary of at most boundary_limit octets)
 * and the value of the Content-Type or Content-Transfer-Encoding field
 * being read (at most boundary_limit + 256 octets; the rest of a longer
 * field is not looked at).  A line fed in pieces is classified by its
 * first piece: a piece with cont set is another piece of the same line.
 */
#ifndef PANACEA_MIME_H
#define PANACEA_MIME_H

#include <stddef.h>

enum mime_enc {
	MIME_ENC_7BIT = 0, /* also when none is declared */
	MIME_ENC_8BIT,
	MIME_ENC_BINARY,
	MIME_ENC_QP,
	MIME_ENC_BASE64,
	MIME_ENC_OTHER,
};

enum mime_type {
	MIME_TYPE_LEAF = 0,
	MIME_TYPE_MULTIPART,
	MIME_TYPE_MESSAGE,
};

enum mime_kind {
	MIME_HEADER, /* a header line: a field's first line or continuation */
	MIME_SEPARATOR, /* the empty line that ends a header section */
	MIME_BODY,	/* a line of a leaf part's body */
	MIME_BOUNDARY,	/* a delimiter or close-delimiter line */
	MIME_TEXT,	/* preamble, epilogue, a body nested too deep */
};

/* A header section and the part it starts. */
struct mime_section {
	unsigned part;
	enum mime_type type;
	enum mime_enc enc;
	int has_cte;	  /* a Content-Transfer-Encoding field was seen */
	int mime_version; /* a MIME-Version field was seen */
	int nested;	  /* the headers of an attached message */
};

struct mime_line {
	enum mime_kind kind;
	unsigned part;	 /* the part the line belongs to */
	int field_start; /* MIME_HEADER: the first line of a field */
	int cte;	 /* MIME_HEADER: of a Content-Transfer-Encoding field */
	/* A header section ended at this line: always for MIME_SEPARATOR;
	 * for another kind, the line is no header and is the body's first. */
	int ended;
	struct mime_section sect; /* when ended: the section that ended */
};

struct mime_limits {
	size_t boundary_limit;	/* mime_boundary_length_limit; 0: 2048 */
	unsigned nesting_limit; /* mime_nesting_limit; 0: 100 */
};

#define MIME_ERR_NESTING 0x01

struct mime;

struct mime *mime_new(const struct mime_limits *lim);
void mime_free(struct mime *m);
/* Classifies p[0..len) (no line end): a whole line, or with cont a
 * further piece of the line fed last. */
void mime_feed(struct mime *m, const char *p, size_t len, int cont,
	       struct mime_line *out);
unsigned mime_errors(const struct mime *m);
/* Parts whose header section has started so far. */
unsigned mime_parts(const struct mime *m);

#endif
