/*
 * dkim_canon - what DKIM hashes (RFC 6376 3.4, 3.7): a message split
 * into header fields and body, the simple and relaxed
 * canonicalisations, and the header hash input of a signature's h=
 * list (with over-signing: a name listed more often than the field
 * occurs adds nothing, 5.4.2).
 *
 * Pure: the message is given whole, with CRLF or LF line ends (a bare
 * LF is read as CRLF, as the queue and a file on disk differ there);
 * outputs go to bufs.  At most DKIM_FIELDS_MAX header fields are
 * indexed: a message with more is refused (dkim_msg_split returns -1),
 * which verification reports as a permerror.
 */
#ifndef PANACEA_DKIM_CANON_H
#define PANACEA_DKIM_CANON_H

#include <stddef.h>

#include "buf.h"

#define DKIM_FIELDS_MAX 1000

struct dkim_field {
	const char *p;	/* name, colon, value, continuation lines */
	size_t len;	/* without the final line end */
	size_t namelen; /* the name without trailing white space */
	size_t colon;	/* offset of the colon */
};

struct dkim_msg {
	size_t nfields;
	struct dkim_field *f; /* top to bottom */
	const char *body;     /* after the empty line; may be at the end */
	size_t body_len;
};

/* Indexes the header of data (which must outlive m).  The header ends
 * at the empty line or, as smtp_data.h reads it, at the first line
 * that is neither a field nor a continuation (the body starts there).
 * 0, or -1 for more than DKIM_FIELDS_MAX fields. */
int dkim_msg_split(const char *data, size_t len, struct dkim_msg *m);
void dkim_msg_free(struct dkim_msg *m);

/* 1 when the field's name is name (case-insensitive). */
int dkim_field_is(const struct dkim_field *f, const char *name);

/* Appends the canonical body (3.4.3, 3.4.4) to out. */
void dkim_canon_body(int relaxed, const char *body, size_t len,
		     struct buf *out);
/* Appends one canonical header field (3.4.1, 3.4.2), with its CRLF
 * when crlf is set. */
void dkim_canon_header(int relaxed, const char *field, size_t len, int crlf,
		       struct buf *out);
/* The header hash input of a signature (3.7): the fields named by h
 * (nh names, lower case), each the last one not yet used counting from
 * the bottom, then the signature field sig (whose b= value the caller
 * has emptied) without its CRLF. */
void dkim_header_input(const struct dkim_msg *m, int relaxed,
		       const char (*h)[65], size_t nh, const char *sig,
		       size_t siglen, struct buf *out);

#endif
