/*
 * spf_dns - the DNS of the SPF evaluator through libldns: how a reply
 * is read for SPF (spf_dns_extract, pure, shared with the RFC 7208 suite
 * driver and the fuzz target) and the spf_lookup_fn that asks the
 * servers of lib/mail/dns (spf_dns_lookup; dns_init() first).
 */
#ifndef PANACEA_SPF_DNS_H
#define PANACEA_SPF_DNS_H

#include <ldns/ldns.h>

#include "spf.h"

/* The records of type for qname in reply (owner compared without case,
 * CNAMEs of the answer section followed, at most 8).  SPF_DNS_NXDOMAIN
 * for an NXDOMAIN rcode, SPF_DNS_NODATA when the name reached has no
 * such records: when the name reached differs from qname (a CNAME
 * whose target is not in the reply) *cname is set and canon holds the
 * target to ask next (canonlen > 253).  MX and PTR names with bytes
 * outside printable ASCII are counted in total but not kept. */
int spf_dns_extract(const ldns_pkt *reply, const char *qname, int type,
		    struct spf_answer *out, char *canon, size_t canonlen,
		    int *cname);
/* spf_lookup_fn on lib/mail/dns (ctx is unused). */
int spf_dns_lookup(void *ctx, const char *name, int type,
		   struct spf_answer *out);

#endif
