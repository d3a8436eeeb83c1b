/*
 * test_dns_tlsa - the reading of TLSA replies (dns_extract_tlsa): fields
 * and data kept, digests of the wrong length and empty data counted as
 * published but skipped, records of other owners ignored, CNAMEs
 * followed, NODATA, rcodes, and the DNS_TLSA_MAX bound.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "dns.h"

#define SHA256                                                                 \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static ldns_pkt *
reply(int rcode, const char *const *rrs)
{
	ldns_pkt *pkt = ldns_pkt_new();
	ldns_rr *rr;

	assert_non_null(pkt);
	ldns_pkt_set_qr(pkt, true);
	ldns_pkt_set_rcode(pkt, (uint8_t)rcode);
	for (; rrs != NULL && *rrs != NULL; rrs++) {
		rr = NULL;
		assert_int_equal(
		    ldns_rr_new_frm_str(&rr, *rrs, 300, NULL, NULL),
		    LDNS_STATUS_OK);
		assert_true(ldns_pkt_push_rr(pkt, LDNS_SECTION_ANSWER, rr));
	}
	return pkt;
}

static void
test_fields(void **state)
{
	static const char *const rrs[] = {
	    "_25._tcp.mx.example. IN TLSA 3 1 1 " SHA256,
	    "_25._tcp.mx.example. IN TLSA 2 0 2 " SHA256 SHA256,
	    "_25._tcp.mx.example. IN TLSA 3 0 0 3082aabb",
	    "_25._tcp.other.example. IN TLSA 3 1 1 " SHA256, NULL};
	struct dns_tlsa_result res;
	struct buf why = BUF_INIT;
	char canon[DNS_NAME_MAX + 1];
	ldns_pkt *pkt = reply(LDNS_RCODE_NOERROR, rrs);

	(void)state;
	memset(&res, 0, sizeof(res));
	assert_int_equal(dns_extract_tlsa(pkt, "_25._tcp.MX.example", &res,
					  canon, sizeof(canon), &why),
			 DNS_OK);
	assert_string_equal(canon, "_25._tcp.mx.example");
	assert_int_equal(res.count, 3);
	assert_int_equal(res.skipped, 0);
	assert_int_equal(res.rr[0].usage, 3);
	assert_int_equal(res.rr[0].selector, 1);
	assert_int_equal(res.rr[0].mtype, 1);
	assert_int_equal(res.rr[0].len, 32);
	assert_int_equal(res.rr[0].data[0], 0x01);
	assert_int_equal(res.rr[0].data[31], 0xef);
	assert_int_equal(res.rr[1].usage, 2);
	assert_int_equal(res.rr[1].mtype, 2);
	assert_int_equal(res.rr[1].len, 64);
	assert_int_equal(res.rr[2].mtype, 0);
	assert_int_equal(res.rr[2].len, 4);
	assert_int_equal(res.rr[2].data[3], 0xbb);
	dns_tlsa_free(&res);
	assert_int_equal(res.count, 0);
	ldns_pkt_free(pkt);
	buf_free(&why);
}

static void
test_malformed_counted(void **state)
{
	/* A SHA2-256 digest of 31 octets, a SHA2-512 one of 32: they can
	 * never match, but they were published (unusable, RFC 7672 2.2). */
	static const char *const rrs[] = {
	    "_25._tcp.mx.example. IN TLSA 3 1 1 " SHA256 "00",
	    "_25._tcp.mx.example. IN TLSA 3 1 2 " SHA256, NULL};
	struct dns_tlsa_result res;
	char canon[DNS_NAME_MAX + 1];
	ldns_pkt *pkt = reply(LDNS_RCODE_NOERROR, rrs);

	(void)state;
	memset(&res, 0, sizeof(res));
	assert_int_equal(dns_extract_tlsa(pkt, "_25._tcp.mx.example", &res,
					  canon, sizeof(canon), NULL),
			 DNS_OK);
	assert_int_equal(res.count, 0);
	assert_int_equal(res.skipped, 2);
	dns_tlsa_free(&res);
	ldns_pkt_free(pkt);
}

static void
test_cname_nodata_rcodes(void **state)
{
	static const char *const cname[] = {
	    "_25._tcp.mx.example. IN CNAME _25._tcp.real.example.",
	    "_25._tcp.real.example. IN TLSA 3 1 1 " SHA256, NULL};
	static const char *const other[] = {
	    "_25._tcp.mx.example. IN A 192.0.2.1", NULL};
	struct dns_tlsa_result res;
	struct buf why = BUF_INIT;
	char canon[DNS_NAME_MAX + 1];
	ldns_pkt *pkt;

	(void)state;
	memset(&res, 0, sizeof(res));
	pkt = reply(LDNS_RCODE_NOERROR, cname);
	assert_int_equal(dns_extract_tlsa(pkt, "_25._tcp.mx.example", &res,
					  canon, sizeof(canon), &why),
			 DNS_OK);
	assert_string_equal(canon, "_25._tcp.real.example");
	assert_int_equal(res.count, 1);
	ldns_pkt_free(pkt);

	pkt = reply(LDNS_RCODE_NOERROR, other);
	assert_int_equal(dns_extract_tlsa(pkt, "_25._tcp.mx.example", &res,
					  canon, sizeof(canon), &why),
			 DNS_NODATA);
	assert_int_equal(res.count, 0);
	assert_non_null(strstr(buf_cstr(&why), "type=TLSA"));
	ldns_pkt_free(pkt);

	pkt = reply(LDNS_RCODE_NXDOMAIN, NULL);
	assert_int_equal(dns_extract_tlsa(pkt, "_25._tcp.mx.example", &res,
					  canon, sizeof(canon), &why),
			 DNS_NOTFOUND);
	ldns_pkt_free(pkt);

	pkt = reply(LDNS_RCODE_SERVFAIL, NULL);
	assert_int_equal(dns_extract_tlsa(pkt, "_25._tcp.mx.example", &res,
					  canon, sizeof(canon), &why),
			 DNS_TEMPFAIL);
	ldns_pkt_free(pkt);
	dns_tlsa_free(&res);
	buf_free(&why);
}

static void
test_bounded(void **state)
{
	char text[DNS_TLSA_MAX + 4][128];
	const char *rrs[DNS_TLSA_MAX + 5];
	struct dns_tlsa_result res;
	char canon[DNS_NAME_MAX + 1];
	ldns_pkt *pkt;
	size_t i;

	(void)state;
	for (i = 0; i < DNS_TLSA_MAX + 4; i++) {
		snprintf(text[i], sizeof(text[i]),
			 "_25._tcp.mx.example. IN TLSA 3 1 0 %04zx", i + 1);
		rrs[i] = text[i];
	}
	rrs[i] = NULL;
	pkt = reply(LDNS_RCODE_NOERROR, rrs);
	memset(&res, 0, sizeof(res));
	assert_int_equal(dns_extract_tlsa(pkt, "_25._tcp.mx.example", &res,
					  canon, sizeof(canon), NULL),
			 DNS_OK);
	assert_int_equal(res.count, DNS_TLSA_MAX);
	dns_tlsa_free(&res);
	ldns_pkt_free(pkt);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fields),
	    cmocka_unit_test(test_malformed_counted),
	    cmocka_unit_test(test_cname_nodata_rcodes),
	    cmocka_unit_test(test_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
