/*
 * fuzz_dns - libFuzzer target for the reading of DNS replies (lib/dns).
 *
 * The input is a reply in wire format, as a server (or an attacker
 * racing it) would send it.  It goes through ldns_wire2pkt, then through
 * every extraction of dns_parse.c: MX (with null MX, CNAME chains, the
 * MX bound and the sort), A, AAAA and PTR, each asked both for a fixed
 * name and for the name of the reply's own question, so that owner
 * matching and CNAME following are reached; and TLSA (DANE), whose
 * records must respect the bounds and digest lengths of dns.h.  Every name
 * produced must be a valid host name of bounded length; anything else is a bug.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dns.h"
#include "ldns_known_bugs.h"

static void
check_name(const char *name)
{
	if (name[0] != '\0' && !dns_name_valid(name))
		abort();
}

static void
run(const ldns_pkt *pkt, const char *qname)
{
	struct dns_mx_result res;
	struct dns_addr_list addrs = {0};
	struct dns_tlsa_result tlsa;
	struct buf why = BUF_INIT;
	char canon[DNS_NAME_MAX + 1], name[DNS_NAME_MAX + 1];
	size_t i;
	int found;

	if (dns_extract_mx(pkt, qname, &res, &why) == DNS_OK) {
		if (res.count == 0 || res.count > DNS_MX_MAX)
			abort();
		for (i = 0; i < res.count; i++) {
			check_name(res.mx[i].host);
			if (i > 0 && res.mx[i].pref < res.mx[i - 1].pref)
				abort();
		}
		res.count = dns_mx_filter_names(res.mx, res.count,
						res.mx[0].host, &found);
		if (!found || res.count != 0)
			abort();
	}
	check_name(res.name);
	dns_extract_addr(pkt, qname, LDNS_RR_TYPE_A, &addrs, canon,
			 sizeof(canon), &why);
	check_name(canon);
	dns_extract_addr(pkt, qname, LDNS_RR_TYPE_AAAA, &addrs, canon,
			 sizeof(canon), &why);
	if (addrs.count > DNS_ADDR_MAX)
		abort();
	if (dns_extract_ptr(pkt, qname, name, sizeof(name), canon,
			    sizeof(canon), &why) == DNS_OK)
		check_name(name);
	memset(&tlsa, 0, sizeof(tlsa));
	dns_extract_tlsa(pkt, qname, &tlsa, canon, sizeof(canon), &why);
	if (tlsa.count > DNS_TLSA_MAX)
		abort();
	for (i = 0; i < tlsa.count; i++)
		if (tlsa.rr[i].len == 0 || tlsa.rr[i].len > DNS_TLSA_DATA_MAX ||
		    (tlsa.rr[i].mtype == 1 && tlsa.rr[i].len != 32) ||
		    (tlsa.rr[i].mtype == 2 && tlsa.rr[i].len != 64))
			abort();
	dns_tlsa_free(&tlsa);
	buf_free(&why);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char qname[DNS_NAME_MAX + 1];
	const ldns_rr_list *q;
	ldns_pkt *pkt = NULL;

	if (ldns_known_leak(data, size) ||
	    ldns_wire2pkt(&pkt, data, size) != LDNS_STATUS_OK)
		return 0;
	run(pkt, "example.com");
	q = ldns_pkt_question(pkt);
	if (ldns_rr_list_rr_count(q) > 0 &&
	    dns_name_from_rdf(ldns_rr_owner(ldns_rr_list_rr(q, 0)), qname,
			      sizeof(qname)) == 0 &&
	    qname[0] != '\0')
		run(pkt, qname);
	ldns_pkt_free(pkt);
	return 0;
}
