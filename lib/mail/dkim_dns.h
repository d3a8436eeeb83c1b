/*
 * dkim_dns - the dkim_lookup_fn of DKIM key records on lib/mail/dns
 * (dns_init() first): a TXT lookup of SELECTOR._domainkey.DOMAIN read
 * the way SPF reads TXT replies (spf_dns.c: owners compared as wire
 * names, CNAMEs followed, strings bounded and joined).  A name with
 * several TXT records takes the first that parses as a key record's
 * tag list, as RFC 6376 3.6.2.2 lets a verifier choose.
 */
#ifndef PANACEA_DKIM_DNS_H
#define PANACEA_DKIM_DNS_H

#include "buf.h"

/* ctx is unused. */
int dkim_dns_lookup(void *ctx, const char *name, struct buf *txt);

#endif
