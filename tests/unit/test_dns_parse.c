/*
 * test_dns_parse - unit tests of the pure half of lib/dns: the
 * dns_nameservers syntax, host name validation, wire names, reverse
 * names, MX sorting and shuffling, self-MX filtering, and the reading of
 * replies (MX, null MX, CNAME chains, rcodes, A/AAAA, PTR).  Replies are
 * real ldns packets built from presentation-format records.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"

/* A reply to (qname, type) holding the given answer records. */
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
test_nameservers_ok(void **state)
{
	struct dns_server s[DNS_NS_MAX];
	struct buf err = BUF_INIT;
	size_t n = 99;

	(void)state;
	assert_int_equal(dns_parse_nameservers(" 127.0.0.53:5353, 10.0.0.1\t"
					       "[::1]:54 2001:db8::1 [::2]",
					       s, DNS_NS_MAX, &n, &err),
			 0);
	assert_int_equal(n, 5);
	assert_int_equal(s[0].family, AF_INET);
	assert_string_equal(s[0].ip, "127.0.0.53");
	assert_int_equal(s[0].port, 5353);
	assert_string_equal(s[1].ip, "10.0.0.1");
	assert_int_equal(s[1].port, 53);
	assert_int_equal(s[2].family, AF_INET6);
	assert_string_equal(s[2].ip, "::1");
	assert_int_equal(s[2].port, 54);
	assert_string_equal(s[3].ip, "2001:db8::1");
	assert_int_equal(s[3].port, 53);
	assert_string_equal(s[4].ip, "::2");
	assert_int_equal(s[4].port, 53);

	assert_int_equal(dns_parse_nameservers("  ", s, DNS_NS_MAX, &n, &err),
			 0);
	assert_int_equal(n, 0);
	assert_int_equal(err.len, 0);
	buf_free(&err);
}

static void
test_nameservers_errors(void **state)
{
	static const char *const bad[] = {
	    "1.2.3.4:99999",  "1.2.3.4:65536", "1.2.3.4:0",
	    "1.2.3.4:",	      "1.2.3.4:53x",   "1.2.3.4:-1",
	    "1.2.3.4:000053", "1.2.3.256",     "ns.example.com",
	    "[::1",	      "[::1]x",	       "[::1]:",
	    "[::1]:70000",    "[]:53",	       "1.2.3.4 ::1%eth0",
	    "1.2.3.4:5353:1",
	};
	struct dns_server s[DNS_NS_MAX];
	struct buf err = BUF_INIT;
	char longtok[200];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&err);
		n = 77;
		if (dns_parse_nameservers(bad[i], s, DNS_NS_MAX, &n, &err) !=
		    -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_true(err.len > 0);
		assert_int_equal(n, 0);
	}
	buf_reset(&err);
	assert_int_equal(
	    dns_parse_nameservers("1.2.3.4:99999", s, DNS_NS_MAX, &n, &err),
	    -1);
	assert_non_null(strstr(buf_cstr(&err), "port"));

	/* Bounded: more entries than room, and an over-long token. */
	assert_int_equal(
	    dns_parse_nameservers("1.1.1.1 1.1.1.2 1.1.1.3", s, 2, &n, &err),
	    -1);
	memset(longtok, '1', sizeof(longtok) - 1);
	longtok[sizeof(longtok) - 1] = '\0';
	assert_int_equal(
	    dns_parse_nameservers(longtok, s, DNS_NS_MAX, &n, &err), -1);
	buf_free(&err);
}

static void
test_name_valid(void **state)
{
	char name[300];

	(void)state;
	assert_true(dns_name_valid("example.com"));
	assert_true(dns_name_valid("MX-1.Example.COM"));
	assert_true(dns_name_valid("localhost"));
	assert_true(dns_name_valid("1.2.3.example"));
	assert_true(dns_name_valid("_dmarc.example.com"));
	assert_true(dns_name_valid("11.0.0.127.in-addr.arpa"));
	assert_false(dns_name_valid(""));
	assert_false(dns_name_valid("."));
	assert_false(dns_name_valid("example.com."));
	assert_false(dns_name_valid("a..b"));
	assert_false(dns_name_valid("-a.example"));
	assert_false(dns_name_valid("a-.example"));
	assert_false(dns_name_valid("a b.example"));
	assert_false(dns_name_valid("a/b.example"));
	assert_false(dns_name_valid("1.2.3.4"));
	assert_false(dns_name_valid("host.123"));
	/* 64-byte label; 253 is the longest name. */
	memset(name, 'a', 64);
	strcpy(name + 64, ".com");
	assert_false(dns_name_valid(name));
	memset(name, 'a', sizeof(name));
	name[63] = name[127] = name[191] = '.';
	name[253] = '\0';
	assert_true(dns_name_valid(name));
	name[253] = 'a';
	name[254] = '\0';
	assert_false(dns_name_valid(name));
}

static void
assert_rdf_name(const char *text, int ret, const char *want)
{
	ldns_rdf *rdf = ldns_dname_new_frm_str(text);
	char out[DNS_NAME_MAX + 1];

	assert_non_null(rdf);
	assert_int_equal(dns_name_from_rdf(rdf, out, sizeof(out)), ret);
	if (want != NULL)
		assert_string_equal(out, want);
	ldns_rdf_deep_free(rdf);
}

/* A name of raw wire bytes (len of them) that dns_name_from_rdf()
 * refuses. */
static void
assert_raw_name_refused(const uint8_t *wire, size_t len)
{
	ldns_rdf *rdf = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, len, wire);
	char out[DNS_NAME_MAX + 1];

	assert_non_null(rdf);
	assert_int_equal(dns_name_from_rdf(rdf, out, sizeof(out)), -1);
	ldns_rdf_deep_free(rdf);
}

static void
test_name_from_rdf(void **state)
{
	static const uint8_t overrun[] = {3, 'a', 'b'};
	static const uint8_t unterminated[] = {1, 'a'};
	static const uint8_t nul_in_label[] = {3,   'a', 0,   'b', 3,
					       'c', 'o', 'm', 0};
	ldns_rdf *rdf;
	char out[DNS_NAME_MAX + 1], small[8];

	(void)state;
	assert_rdf_name("MX1.Example.TEST.", 0, "mx1.example.test");
	assert_rdf_name(".", 0, "");
	/* A '.' inside a label must not become a label boundary. */
	assert_rdf_name("mx1\\.evil.example.", -1, NULL);
	assert_rdf_name("-bad.example.", -1, NULL);
	assert_rdf_name("1.2.3.4.", -1, NULL);
	assert_rdf_name("a\\032b.example.", -1, NULL);

	rdf = ldns_dname_new_frm_str("mx1.example.test.");
	assert_int_equal(dns_name_from_rdf(rdf, small, sizeof(small)), -1);
	ldns_rdf_deep_free(rdf);

	assert_raw_name_refused(overrun, sizeof(overrun));
	assert_raw_name_refused(unterminated, sizeof(unterminated));
	assert_raw_name_refused(nul_in_label, sizeof(nul_in_label));
	/* Not a name at all. */
	rdf = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, "127.0.0.1");
	assert_int_equal(dns_name_from_rdf(rdf, out, sizeof(out)), -1);
	ldns_rdf_deep_free(rdf);
	assert_int_equal(dns_name_from_rdf(NULL, out, sizeof(out)), -1);
}

static void
test_reverse_name(void **state)
{
	char out[80];

	(void)state;
	assert_int_equal(dns_reverse_name("127.0.0.11", out, sizeof(out)), 0);
	assert_string_equal(out, "11.0.0.127.in-addr.arpa");
	assert_int_equal(dns_reverse_name("2001:db8::1", out, sizeof(out)), 0);
	assert_string_equal(out, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
				 "0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
	assert_int_equal(dns_reverse_name("localhost", out, sizeof(out)), -1);
	assert_int_equal(dns_reverse_name("1.2.3", out, sizeof(out)), -1);
	assert_int_equal(dns_reverse_name("127.0.0.11", out, 23), -1);
	assert_int_equal(dns_reverse_name("127.0.0.11", out, 24), 0);
}

static void
set_mx(struct dns_mx *mx, unsigned pref, const char *host)
{
	mx->pref = pref;
	snprintf(mx->host, sizeof(mx->host), "%s", host);
}

static void
test_mx_sort_order_and_membership(void **state)
{
	struct dns_mx mx[5];
	int first[3] = {0, 0, 0};
	int round, i;
	size_t n;

	(void)state;
	for (round = 0; round < 200; round++) {
		set_mx(&mx[0], 20, "c");
		set_mx(&mx[1], 10, "a");
		set_mx(&mx[2], 30, "e");
		set_mx(&mx[3], 10, "b");
		set_mx(&mx[4], 10, "d");
		n = dns_mx_sort(mx, 5, NULL);
		assert_int_equal(n, 5);
		/* The three preference-10 hosts come first, each once. */
		for (i = 0; i < 3; i++)
			assert_int_equal(mx[i].pref, 10);
		assert_true(strcmp(mx[0].host, mx[1].host) != 0 &&
			    strcmp(mx[0].host, mx[2].host) != 0 &&
			    strcmp(mx[1].host, mx[2].host) != 0);
		for (i = 0; i < 3; i++)
			assert_non_null(strchr("abd", mx[i].host[0]));
		assert_string_equal(mx[3].host, "c");
		assert_string_equal(mx[4].host, "e");
		first[strchr("abd", mx[0].host[0]) - "abd"]++;
	}
	/* Shuffled: each equal host leads sometimes (a chance of failure
	 * of about 3 * (2/3)^200). */
	for (i = 0; i < 3; i++)
		assert_true(first[i] > 0);
}

static uint32_t calls[16];
static size_t ncalls;

static uint32_t
record_rnd(uint32_t bound)
{
	if (ncalls < 16)
		calls[ncalls++] = bound;
	return bound - 1; /* no swap at all: i == j */
}

static void
test_mx_sort_shuffle_bounds_and_dedup(void **state)
{
	struct dns_mx mx[6];
	size_t n;

	(void)state;
	set_mx(&mx[0], 10, "a");
	set_mx(&mx[1], 5, "x");
	set_mx(&mx[2], 10, "b");
	set_mx(&mx[3], 10, "c");
	set_mx(&mx[4], 20, "A"); /* duplicate of a: the better pref stays */
	set_mx(&mx[5], 1, "X");	 /* duplicate of x, better */
	ncalls = 0;
	n = dns_mx_sort(mx, 6, record_rnd);
	assert_int_equal(n, 4);
	assert_string_equal(mx[0].host, "x");
	assert_int_equal(mx[0].pref, 1);
	/* One run of three equal preferences: Fisher-Yates asks for 3 and
	 * 2; the single-host run asks nothing. */
	assert_int_equal(ncalls, 2);
	assert_int_equal(calls[0], 3);
	assert_int_equal(calls[1], 2);
	assert_int_equal(mx[1].pref, 10);
	assert_int_equal(mx[3].pref, 10);
	assert_int_equal(dns_mx_sort(mx, 0, NULL), 0);
}

static void
test_mx_filter_self(void **state)
{
	struct dns_mx_result res;
	struct buf why = BUF_INIT;
	int found;
	size_t n;

	(void)state;
	memset(&res, 0, sizeof(res));
	strcpy(res.domain, "example.test");
	set_mx(&res.mx[0], 5, "a.example.test");
	set_mx(&res.mx[1], 10, "me.example.test");
	set_mx(&res.mx[2], 10, "b.example.test");
	set_mx(&res.mx[3], 20, "c.example.test");
	res.count = 4;

	n = dns_mx_filter_names(res.mx, 4, "other.example, else", &found);
	assert_int_equal(n, 4);
	assert_false(found);

	/* Ours at 10: only strictly better MX hosts remain. */
	assert_int_equal(
	    dns_mx_filter_self(&res, "x.test ME.Example.Test.", &why), DNS_OK);
	assert_int_equal(res.count, 1);
	assert_string_equal(res.mx[0].host, "a.example.test");

	/* Ours is the best: a mail loop. */
	set_mx(&res.mx[0], 10, "me.example.test");
	set_mx(&res.mx[1], 20, "c.example.test");
	res.count = 2;
	assert_int_equal(dns_mx_filter_self(&res, "me.example.test", &why),
			 DNS_LOOP);
	assert_int_equal(res.count, 0);
	assert_string_equal(buf_cstr(&why),
			    "mail for example.test loops back to myself");
	assert_string_equal(dns_status_dsn(DNS_LOOP), "5.4.6");

	/* An implicit MX that is ourselves is a loop too. */
	set_mx(&res.mx[0], 0, "me.example.test");
	res.count = 1;
	res.implicit = 1;
	assert_int_equal(dns_mx_filter_self(&res, "me.example.test", NULL),
			 DNS_LOOP);
	buf_free(&why);
}

/* dns_extract_mx() of qname from a reply of rcode and rrs (reply()):
 * its status. */
static int
extract_mx(ldns_pkt_rcode rcode, const char *const *rrs, const char *qname,
	   struct dns_mx_result *res, struct buf *why)
{
	ldns_pkt *pkt = reply(rcode, rrs);
	int status = dns_extract_mx(pkt, qname, res, why);

	ldns_pkt_free(pkt);
	return status;
}

static void
test_extract_mx_sorted(void **state)
{
	static const char *const rrs[] = {
	    "Example.Test. IN MX 20 mx2.example.test.",
	    "example.test. IN MX 10 MX1.example.test.",
	    "example.test. IN MX 30 mx3.example.test.",
	    "other.test. IN MX 1 wrong.example.test.",
	    "example.test. IN A 127.0.0.1",
	    NULL,
	};
	ldns_pkt *pkt = reply(LDNS_RCODE_NOERROR, rrs);
	struct dns_mx_result res;

	(void)state;
	assert_int_equal(dns_extract_mx(pkt, "EXAMPLE.test", &res, NULL),
			 DNS_OK);
	assert_string_equal(res.name, "example.test");
	assert_int_equal(res.count, 3);
	assert_int_equal(res.mx[0].pref, 10);
	assert_string_equal(res.mx[0].host, "mx1.example.test");
	assert_string_equal(res.mx[1].host, "mx2.example.test");
	assert_string_equal(res.mx[2].host, "mx3.example.test");
	ldns_pkt_free(pkt);
}

static void
test_extract_null_mx(void **state)
{
	static const char *const nullmx[] = {"n.test. IN MX 0 .", NULL};
	static const char *const mixed[] = {
	    "n.test. IN MX 0 .", "n.test. IN MX 10 mx.n.test.", NULL};
	struct buf why = BUF_INIT;
	struct dns_mx_result res;

	(void)state;
	assert_int_equal(
	    extract_mx(LDNS_RCODE_NOERROR, nullmx, "n.test", &res, &why),
	    DNS_NULLMX);
	assert_int_equal(res.count, 0);
	assert_string_equal(buf_cstr(&why),
			    "Domain n.test does not accept mail (nullMX)");
	assert_string_equal(dns_status_dsn(DNS_NULLMX), "5.1.10");

	assert_int_equal(
	    extract_mx(LDNS_RCODE_NOERROR, mixed, "n.test", &res, &why),
	    DNS_OK);
	assert_int_equal(res.count, 1);
	assert_string_equal(res.mx[0].host, "mx.n.test");
	buf_free(&why);
}

static void
test_extract_mx_invalid_hosts(void **state)
{
	static const char *const some[] = {
	    "d.test. IN MX 5 -bad.d.test.",
	    "d.test. IN MX 6 1.2.3.4.",
	    "d.test. IN MX 7 evil\\.name.d.test.",
	    "d.test. IN MX 20 good.d.test.",
	    NULL,
	};
	static const char *const only_bad[] = {"d.test. IN MX 5 -bad.d.test.",
					       NULL};
	struct buf why = BUF_INIT;
	struct dns_mx_result res;

	(void)state;
	assert_int_equal(
	    extract_mx(LDNS_RCODE_NOERROR, some, "d.test", &res, &why), DNS_OK);
	assert_int_equal(res.count, 1);
	assert_string_equal(res.mx[0].host, "good.d.test");

	assert_int_equal(
	    extract_mx(LDNS_RCODE_NOERROR, only_bad, "d.test", &res, &why),
	    DNS_TEMPFAIL);
	assert_true(why.len > 0);
	buf_free(&why);
}

static void
test_extract_rcodes(void **state)
{
	static const char *const mx[] = {"r.test. IN MX 10 mx.r.test.", NULL};
	struct buf why = BUF_INIT;
	struct dns_mx_result res;
	ldns_pkt *pkt;

	(void)state;
	assert_int_equal(
	    extract_mx(LDNS_RCODE_NXDOMAIN, NULL, "r.test", &res, &why),
	    DNS_NOTFOUND);
	assert_string_equal(buf_cstr(&why),
			    "Host or domain name not found. Name service error "
			    "for name=r.test type=MX: Host not found");
	assert_string_equal(dns_status_dsn(DNS_NOTFOUND), "5.1.2");

	assert_int_equal(
	    extract_mx(LDNS_RCODE_SERVFAIL, mx, "r.test", &res, &why),
	    DNS_TEMPFAIL);
	assert_non_null(strstr(buf_cstr(&why), "try again"));
	assert_string_equal(dns_status_dsn(DNS_TEMPFAIL), "4.4.3");

	assert_int_equal(
	    extract_mx(LDNS_RCODE_REFUSED, NULL, "r.test", &res, NULL),
	    DNS_TEMPFAIL);

	/* A truncated reply is never taken as the whole answer. */
	pkt = reply(LDNS_RCODE_NOERROR, mx);
	ldns_pkt_set_tc(pkt, true);
	assert_int_equal(dns_extract_mx(pkt, "r.test", &res, NULL),
			 DNS_TEMPFAIL);
	ldns_pkt_free(pkt);

	assert_int_equal(
	    extract_mx(LDNS_RCODE_NOERROR, NULL, "r.test", &res, &why),
	    DNS_NODATA);
	assert_string_equal(res.name, "r.test");

	assert_int_equal(
	    extract_mx(LDNS_RCODE_NOERROR, mx, "bad..name", &res, &why),
	    DNS_NOTFOUND);
	buf_free(&why);
}

static void
test_extract_cname(void **state)
{
	static const char *const chain[] = {
	    "c.test. IN MX 10 wrong.test.", /* not the canonical owner */
	    "real.test. IN MX 10 mx.real.test.",
	    "alias.test. IN CNAME alias2.test.",
	    "alias2.test. IN CNAME real.test.",
	    NULL,
	};
	static const char *const dangling[] = {
	    "alias.test. IN CNAME elsewhere.test.", NULL};
	static const char *const loop[] = {"a.test. IN CNAME b.test.",
					   "b.test. IN CNAME a.test.", NULL};
	static const char *const nx[] = {"alias.test. IN CNAME gone.test.",
					 NULL};
	struct dns_mx_result res;

	(void)state;
	assert_int_equal(
	    extract_mx(LDNS_RCODE_NOERROR, chain, "alias.test", &res, NULL),
	    DNS_OK);
	assert_string_equal(res.name, "real.test");
	assert_int_equal(res.count, 1);
	assert_string_equal(res.mx[0].host, "mx.real.test");

	/* The server did not follow: the caller asks for the target. */
	assert_int_equal(
	    extract_mx(LDNS_RCODE_NOERROR, dangling, "alias.test", &res, NULL),
	    DNS_NODATA);
	assert_string_equal(res.name, "elsewhere.test");

	assert_int_equal(
	    extract_mx(LDNS_RCODE_NOERROR, loop, "a.test", &res, NULL),
	    DNS_TEMPFAIL);

	/* NXDOMAIN speaks of the end of the chain. */
	assert_int_equal(
	    extract_mx(LDNS_RCODE_NXDOMAIN, nx, "alias.test", &res, NULL),
	    DNS_NOTFOUND);
	assert_string_equal(res.name, "gone.test");
}

static void
test_extract_mx_bounded(void **state)
{
	char text[40][80];
	const char *rrs[41];
	struct dns_mx_result res;
	size_t i;

	(void)state;
	/* 40 records, worst first: the 32 best are kept. */
	for (i = 0; i < 40; i++) {
		snprintf(text[i], sizeof(text[i]),
			 "big.test. IN MX %zu mx%zu.big.test.", 100 - i, i);
		rrs[i] = text[i];
	}
	rrs[40] = NULL;
	assert_int_equal(
	    extract_mx(LDNS_RCODE_NOERROR, rrs, "big.test", &res, NULL),
	    DNS_OK);
	assert_int_equal(res.count, DNS_MX_MAX);
	assert_int_equal(res.mx[0].pref, 61);
	assert_string_equal(res.mx[0].host, "mx39.big.test");
	assert_int_equal(res.mx[DNS_MX_MAX - 1].pref, 92);
}

/* Address i of out is of family and reads as want. */
static void
expect_addr(const struct dns_addr_list *out, size_t i, int family,
	    const char *want)
{
	const struct sockaddr_in *sin = (const void *)&out->addr[i];
	const struct sockaddr_in6 *sin6 = (const void *)&out->addr[i];
	const void *a = family == AF_INET ? (const void *)&sin->sin_addr
					  : (const void *)&sin6->sin6_addr;
	char text[64];

	assert_int_equal(out->addr[i].ss_family, family);
	assert_string_equal(inet_ntop(family, a, text, sizeof(text)), want);
}

static void
test_extract_addr(void **state)
{
	static const char *const rrs[] = {
	    "www.test. IN CNAME host.test.",
	    "host.test. IN A 127.0.0.11",
	    "host.test. IN A 127.0.0.12",
	    "host.test. IN AAAA 2001:db8::1",
	    "www.test. IN A 10.9.9.9", /* not the canonical owner */
	    NULL,
	};
	struct dns_addr_list out;
	char canon[DNS_NAME_MAX + 1];
	ldns_pkt *pkt = reply(LDNS_RCODE_NOERROR, rrs);

	(void)state;
	out.count = 0;
	assert_int_equal(dns_extract_addr(pkt, "www.test", LDNS_RR_TYPE_A, &out,
					  canon, sizeof(canon), NULL),
			 DNS_OK);
	assert_string_equal(canon, "host.test");
	assert_int_equal(out.count, 2);
	expect_addr(&out, 0, AF_INET, "127.0.0.11");
	assert_int_equal(dns_extract_addr(pkt, "www.test", LDNS_RR_TYPE_AAAA,
					  &out, canon, sizeof(canon), NULL),
			 DNS_OK);
	assert_int_equal(out.count, 3);
	expect_addr(&out, 2, AF_INET6, "2001:db8::1");
	assert_int_equal(dns_extract_addr(pkt, "other.test", LDNS_RR_TYPE_A,
					  &out, canon, sizeof(canon), NULL),
			 DNS_NODATA);
	assert_int_equal(out.count, 3);
	ldns_pkt_free(pkt);
}

static void
test_extract_addr_bounded(void **state)
{
	char text[40][64];
	const char *rrs[41];
	char canon[DNS_NAME_MAX + 1];
	struct dns_addr_list out;
	ldns_pkt *pkt;
	size_t i;

	(void)state;
	for (i = 0; i < 40; i++) {
		snprintf(text[i], sizeof(text[i]), "h.test. IN A 10.0.0.%zu",
			 i + 1);
		rrs[i] = text[i];
	}
	rrs[40] = NULL;
	pkt = reply(LDNS_RCODE_NOERROR, rrs);
	out.count = 0;
	assert_int_equal(dns_extract_addr(pkt, "h.test", LDNS_RR_TYPE_A, &out,
					  canon, sizeof(canon), NULL),
			 DNS_OK);
	assert_int_equal(out.count, DNS_ADDR_MAX);
	ldns_pkt_free(pkt);
}

static void
test_extract_ptr(void **state)
{
	static const char *const good[] = {
	    "11.0.0.127.in-addr.arpa. IN PTR -bad.test.",
	    "11.0.0.127.in-addr.arpa. IN PTR Mx1.Example.Test.",
	    NULL,
	};
	static const char *const bad[] = {
	    "11.0.0.127.in-addr.arpa. IN PTR a\\.b.test.", NULL};
	const char *q = "11.0.0.127.in-addr.arpa";
	char name[DNS_NAME_MAX + 1], canon[DNS_NAME_MAX + 1], small[5];
	ldns_pkt *pkt;

	(void)state;
	pkt = reply(LDNS_RCODE_NOERROR, good);
	assert_int_equal(dns_extract_ptr(pkt, q, name, sizeof(name), canon,
					 sizeof(canon), NULL),
			 DNS_OK);
	assert_string_equal(name, "mx1.example.test");
	/* A name that does not fit is not truncated. */
	assert_int_equal(dns_extract_ptr(pkt, q, small, sizeof(small), canon,
					 sizeof(canon), NULL),
			 DNS_NOTFOUND);
	ldns_pkt_free(pkt);

	pkt = reply(LDNS_RCODE_NOERROR, bad);
	assert_int_equal(dns_extract_ptr(pkt, q, name, sizeof(name), canon,
					 sizeof(canon), NULL),
			 DNS_NOTFOUND);
	ldns_pkt_free(pkt);

	pkt = reply(LDNS_RCODE_NOERROR, NULL);
	assert_int_equal(dns_extract_ptr(pkt, q, name, sizeof(name), canon,
					 sizeof(canon), NULL),
			 DNS_NODATA);
	ldns_pkt_free(pkt);
}

static void
test_wire_roundtrip(void **state)
{
	static const char *const rrs[] = {"w.test. IN MX 10 mx.w.test.",
					  "w.test. IN MX 5 mx0.w.test.", NULL};
	ldns_pkt *pkt = reply(LDNS_RCODE_NOERROR, rrs), *back = NULL;
	struct dns_mx_result res;
	uint8_t *wire = NULL;
	size_t size = 0;

	(void)state;
	/* The path of the fuzz target: wire bytes -> ldns_wire2pkt. */
	assert_int_equal(ldns_pkt2wire(&wire, pkt, &size), LDNS_STATUS_OK);
	assert_int_equal(ldns_wire2pkt(&back, wire, size), LDNS_STATUS_OK);
	assert_int_equal(dns_extract_mx(back, "w.test", &res, NULL), DNS_OK);
	assert_int_equal(res.count, 2);
	assert_string_equal(res.mx[0].host, "mx0.w.test");
	free(wire);
	ldns_pkt_free(pkt);
	ldns_pkt_free(back);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nameservers_ok),
	    cmocka_unit_test(test_nameservers_errors),
	    cmocka_unit_test(test_name_valid),
	    cmocka_unit_test(test_name_from_rdf),
	    cmocka_unit_test(test_reverse_name),
	    cmocka_unit_test(test_mx_sort_order_and_membership),
	    cmocka_unit_test(test_mx_sort_shuffle_bounds_and_dedup),
	    cmocka_unit_test(test_mx_filter_self),
	    cmocka_unit_test(test_extract_mx_sorted),
	    cmocka_unit_test(test_extract_null_mx),
	    cmocka_unit_test(test_extract_mx_invalid_hosts),
	    cmocka_unit_test(test_extract_rcodes),
	    cmocka_unit_test(test_extract_cname),
	    cmocka_unit_test(test_extract_mx_bounded),
	    cmocka_unit_test(test_extract_addr),
	    cmocka_unit_test(test_extract_addr_bounded),
	    cmocka_unit_test(test_extract_ptr),
	    cmocka_unit_test(test_wire_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
