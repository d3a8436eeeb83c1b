/*
 * dmarc_from - the author domain of a message for DMARC (RFC 7489 3.1,
 * 6.6.1): the domain of the one mailbox in the one RFC5322.From field.
 *
 * A message without a From: field has no author domain (DMARC_FROM_NONE:
 * no DMARC result can be had); more than one From: field, or a field with
 * more than one mailbox, a group, or an address that does not parse is
 * DMARC_FROM_BAD (permerror: RFC 7489 6.6.1 leaves such messages to
 * local policy and expects most to be refused).  The addr-spec (inside
 * <...>, or bare; comments and folding outside quoted strings dropped,
 * a route "@a,@b:" skipped) is parsed by lib/mail/addr.h's addr_parse,
 * as MAIL FROM is; an address literal is no domain.
 *
 * The collector is fed the message content as it is stored (CRLF lines)
 * and keeps only From: fields, at most DMARC_FROM_FIELD_MAX octets of the
 * first (longer is DMARC_FROM_BAD): memory does not grow with the
 * message, and headers above or below cannot push the From: field out.
 */
#ifndef PANACEA_DMARC_FROM_H
#define PANACEA_DMARC_FROM_H

#include <stddef.h>

#include "buf.h"

#define DMARC_FROM_OK 0
#define DMARC_FROM_NONE 1
#define DMARC_FROM_BAD 2

#define DMARC_FROM_FIELD_MAX 8192
#define DMARC_FROM_DOMAIN_MAX 255

/* The domain of a From: field value (the text after "From:", folding
 * included), lower case without a final dot, into domain (at least
 * DMARC_FROM_DOMAIN_MAX + 1 bytes); DMARC_FROM_OK or DMARC_FROM_BAD with
 * *why. */
int dmarc_from_value(const char *value, size_t len, char *domain,
		     const char **why);

struct dmarc_from {
	int body;	  /* past the header section */
	int at_bol;	  /* the next octet starts a line */
	size_t line_len;  /* octets of the current line */
	char name[8];	  /* start of the field name, lower case */
	size_t name_len;  /* octets of the name so far (may exceed name) */
	int in_name;	  /* before the field's ':' */
	int capturing;	  /* inside a From: field's value */
	unsigned count;	  /* From: fields seen */
	int too_long;	  /* the first From: field was cut */
	struct buf value; /* the first From: field's value */
};

void dmarc_from_init(struct dmarc_from *f);
void dmarc_from_feed(struct dmarc_from *f, const void *data, size_t len);
/* The verdict on what was fed: DMARC_FROM_*, domain as above. */
int dmarc_from_result(const struct dmarc_from *f, char *domain,
		      const char **why);
void dmarc_from_free(struct dmarc_from *f);

#endif
