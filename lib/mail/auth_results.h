/*
 * auth_results - the Authentication-Results: header field (RFC 8601)
 * that smtpd writes, and the removal of the ones that claim to be ours.
 *
 * auth_results_build() writes ONE field, folded, for the results this
 * host found: "Authentication-Results: AUTHSERV-ID;" then, each only
 * when it was evaluated, "auth=pass smtp.auth=USER" (authenticated
 * submission), "spf=RESULT smtp.mailfrom=ADDRESS" (or smtp.helo),
 * "dkim=RESULT header.d=D header.s=S header.b=B" per signature (with
 * the reason as a comment for anything but pass), "dkim=none" when
 * verification ran and found no signature, and dmarc= (the place the
 * DMARC evaluator fills: struct auth_results_in.dmarc); "none" alone
 * when nothing was evaluated (8601 2.2).  Property values that are not
 * RFC 5322 dot-atoms (or user@domain) are written as quoted strings.
 *
 * auth_results_strip(): RFC 8601 5: an MTA at the border removes the
 * Authentication-Results fields that arrived with a message and carry
 * its own authserv-id (compared without case, after comments), since
 * only it may write them; the others stay.  Only the header section
 * is looked at.
 */
#ifndef PANACEA_AUTH_RESULTS_H
#define PANACEA_AUTH_RESULTS_H

#include <stddef.h>

#include "buf.h"
#include "dkim.h"

struct auth_results_in {
	const char *authserv_id;
	const char *auth_user;	  /* SASL login, or NULL */
	const char *spf;	  /* "pass", ... or NULL: not checked */
	const char *spf_identity; /* "mailfrom" or "helo" */
	const char *spf_value;	  /* the address or HELO name */
	int dkim_checked;	  /* verification ran */
	const struct dkim_verdict *dkim;
	size_t ndkim;
	/* DMARC (RFC 7489 11.2): "dmarc=RESULT header.from=DOMAIN", for
	 * the DMARC evaluator to fill; NULL: not evaluated. */
	const char *dmarc;
	const char *dmarc_from;
	const char *dmarc_comment; /* "p=quarantine dis=quarantine", or NULL */
};

/* Appends the field, with its final CRLF, to out. */
void auth_results_build(const struct auth_results_in *in, struct buf *out);

/* Copies the message data to out without the Authentication-Results
 * fields that name authserv_id; returns how many were removed. */
size_t auth_results_strip(const char *data, size_t len, const char *authserv_id,
			  struct buf *out);

/* The authserv-id of an Authentication-Results value (after the
 * colon) in out (lower case); 0, or -1 when there is none. */
int auth_results_id(const char *value, size_t len, char *out, size_t outlen);

#endif
