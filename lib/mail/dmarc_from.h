/*
 * dmarc_from - the author domain of a message for DMARC (RFC 7489 3.1,
 * 6.6.1): the domain of the one mailbox in the one RFC5322.From field.
 *
 * A message without a From: field has no author domain (DMARC_FROM_NONE:
 * no DMARC result can be had).  A From: that does not parse (a group, an
 * address literal, bad syntax) is DMARC_FROM_BAD (permerror).  Several
 * From: fields, or several mailboxes in one, are not what RFC 5322 allows
 * but are what a forger sends to slip past a check that looks at one of
 * them: RFC 7489 6.6.1 has each domain checked and the strictest policy
 * applied, so the collector lists every distinct domain (at most
 * DMARC_FROM_DOMAINS_MAX; DMARC_FROM_MULTI when more than one) and the
 * caller evaluates each.  The addr-spec (inside <...>, or bare; comments
 * and folding outside quoted strings dropped, a route "@a,@b:" skipped)
 * is parsed by lib/mail/addr.h's addr_parse, as MAIL FROM is.
 *
 * The collector is fed the message content as it is stored (CRLF lines)
 * and keeps only From: fields (at most DMARC_FROM_FIELDS_MAX, each at most
 * DMARC_FROM_FIELD_MAX octets; more is DMARC_FROM_BAD): memory does not
 * grow with the message, and other fields cannot push From: out.
 */
#ifndef PANACEA_DMARC_FROM_H
#define PANACEA_DMARC_FROM_H

#include <stddef.h>

#include "buf.h"

#define DMARC_FROM_OK 0
#define DMARC_FROM_NONE 1
#define DMARC_FROM_BAD 2
#define DMARC_FROM_MULTI 3 /* several domains: check each */

#define DMARC_FROM_FIELD_MAX 8192
#define DMARC_FROM_DOMAIN_MAX 255
#define DMARC_FROM_FIELDS_MAX 4
#define DMARC_FROM_DOMAINS_MAX 8

/* The distinct author domains of a message. */
struct dmarc_author {
	size_t n;
	char domain[DMARC_FROM_DOMAINS_MAX][DMARC_FROM_DOMAIN_MAX + 1];
};

/* The domain of a From: field value with exactly one mailbox (the text
 * after "From:", folding included), lower case without a final dot, into
 * domain (at least DMARC_FROM_DOMAIN_MAX + 1 bytes); DMARC_FROM_OK or
 * DMARC_FROM_BAD with *why. */
int dmarc_from_value(const char *value, size_t len, char *domain,
		     const char **why);

struct dmarc_from {
	int body;	 /* past the header section */
	int at_bol;	 /* the next octet starts a line */
	size_t line_len; /* octets of the current line */
	char name[8];	 /* start of the field name, lower case */
	size_t name_len; /* octets of the name so far (may exceed name) */
	int in_name;	 /* before the field's ':' */
	int capturing;	 /* inside a From: field's value */
	unsigned count;	 /* From: fields seen */
	int too_long;	 /* a From: field was cut */
	struct buf value[DMARC_FROM_FIELDS_MAX]; /* their values */
};

void dmarc_from_init(struct dmarc_from *f);
void dmarc_from_feed(struct dmarc_from *f, const void *data, size_t len);
/* The verdict on what was fed: DMARC_FROM_OK (one domain in au, *why
 * "" or a note on repeated fields), DMARC_FROM_MULTI (several in au),
 * DMARC_FROM_NONE or DMARC_FROM_BAD (au empty) with *why. */
int dmarc_from_result(const struct dmarc_from *f, struct dmarc_author *au,
		      const char **why);
void dmarc_from_free(struct dmarc_from *f);

#endif
