/*
 * test_smtp_dane - smtp/smtp_dane: the DANE decision table of RFC 7672
 * for dane and dane-only, which records are usable, and smtp_tls.c's
 * reading of levels and smtp_tls_policy_maps attributes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "smtp.h"
#include "smtp_dane.h"

struct smtp_config smtp_cfg;

static void
test_table(void **state)
{
	enum {
		M = SMTP_DANE_MAY,
		E = SMTP_DANE_ENCRYPT,
		V = SMTP_DANE_VERIFY,
		D = SMTP_DANE_DEFER
	};
	static const struct {
		int mx, addr, st, sec;
		size_t records, usable;
		int dane, only; /* expected actions */
	} t[] = {
	    /* insecure MX or addresses: no TLSA lookup at all */
	    {0, 1, -1, 0, 0, 0, M, D},
	    {1, 0, -1, 0, 0, 0, M, D},
	    /* lookup failures defer, whatever the mode */
	    {1, 1, DNS_TEMPFAIL, 0, 0, 0, D, D},
	    {1, 1, -1, 0, 0, 0, D, D},
	    /* no records */
	    {1, 1, DNS_NODATA, 1, 0, 0, M, D},
	    {1, 1, DNS_NOTFOUND, 1, 0, 0, M, D},
	    /* records that were not validated count for nothing */
	    {1, 1, DNS_OK, 0, 2, 2, M, D},
	    /* validated, none usable (PKIX usages, malformed) */
	    {1, 1, DNS_OK, 1, 2, 0, E, D},
	    /* validated and usable */
	    {1, 1, DNS_OK, 1, 3, 1, V, V},
	};
	struct smtp_dane_facts f;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&f, 0, sizeof(f));
		f.mx_secure = t[i].mx;
		f.addr_secure = t[i].addr;
		f.tlsa_status = t[i].st;
		f.tlsa_secure = t[i].sec;
		f.tlsa_records = t[i].records;
		f.tlsa_usable = t[i].usable;
		f.mode = SMTP_DANE_ON;
		assert_int_equal(smtp_dane_decide(&f, &why), t[i].dane);
		assert_true(t[i].dane == V || *why != '\0');
		f.mode = SMTP_DANE_ONLY;
		assert_int_equal(smtp_dane_decide(&f, &why), t[i].only);
		assert_int_equal(smtp_dane_wants_tlsa(&f),
				 t[i].mx && t[i].addr);
	}
	memset(&f, 0, sizeof(f));
	assert_int_equal(smtp_dane_decide(&f, NULL), SMTP_DANE_MAY);
	assert_false(smtp_dane_wants_tlsa(&f));
}

static void
test_usable(void **state)
{
	struct dns_tlsa_result res;
	unsigned char d[1] = {0};
	static const uint8_t f[][3] = {
	    {3, 1, 1}, {2, 0, 2}, {3, 0, 0}, /* usable */
	    {0, 0, 1}, {1, 1, 1},	     /* PKIX: not for SMTP */
	    {3, 2, 1}, {2, 1, 3}, {4, 1, 1}, /* unknown */
	};
	size_t i;

	(void)state;
	memset(&res, 0, sizeof(res));
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		res.rr[i].usage = f[i][0];
		res.rr[i].selector = f[i][1];
		res.rr[i].mtype = f[i][2];
		res.rr[i].data = d;
		res.rr[i].len = 1;
	}
	res.count = i;
	assert_int_equal(smtp_dane_usable(&res), 3);
}

static void
test_policy_parse(void **state)
{
	struct smtp_tls_policy pol;
	struct buf why = BUF_INIT;
	enum tls_level level;
	enum smtp_dane_mode dane;

	(void)state;
	assert_int_equal(smtp_tls_level_parse("DANE", &level, &dane), 0);
	assert_int_equal(level, TLS_LEVEL_MAY);
	assert_int_equal(dane, SMTP_DANE_ON);
	assert_int_equal(smtp_tls_level_parse("dane-only", &level, &dane), 0);
	assert_int_equal(level, TLS_LEVEL_ENCRYPT);
	assert_int_equal(dane, SMTP_DANE_ONLY);
	assert_int_equal(smtp_tls_level_parse("secure", &level, &dane), 0);
	assert_int_equal(level, TLS_LEVEL_SECURE);
	assert_int_equal(dane, SMTP_DANE_OFF);
	assert_int_equal(smtp_tls_level_parse("danger", &level, &dane), -1);

	memset(&pol, 0, sizeof(pol));
	assert_int_equal(
	    smtp_tls_policy_parse("secure match=Nexthop:dot-nexthop "
				  "servername=hostname protocols=>=TLSv1.3 "
				  "ciphers=high exclude=CHACHA20:AES128 "
				  "tafile=/etc/ta.pem connection_reuse=yes",
				  &pol, &why),
	    0);
	assert_int_equal(pol.level, TLS_LEVEL_SECURE);
	assert_string_equal(pol.match, "nexthop:dot-nexthop");
	assert_string_equal(pol.servername, "hostname");
	assert_string_equal(pol.protocols, ">=TLSv1.3");
	assert_string_equal(pol.ciphers, "high");
	assert_string_equal(pol.exclude, "CHACHA20:AES128");
	assert_string_equal(pol.tafile, "/etc/ta.pem");

	memset(&pol, 0, sizeof(pol));
	assert_int_equal(
	    smtp_tls_policy_parse("dane-only, ciphers=medium", &pol, &why), 0);
	assert_int_equal(pol.dane, SMTP_DANE_ONLY);
	assert_string_equal(pol.ciphers, "medium");

	assert_int_equal(smtp_tls_policy_parse("", &pol, &why), -1);
	buf_reset(&why);
	assert_int_equal(smtp_tls_policy_parse("maybe", &pol, &why), -1);
	assert_non_null(strstr(buf_cstr(&why), "unknown TLS level"));
	buf_reset(&why);
	/* Too long to hold: refused, not cut. */
	assert_int_equal(smtp_tls_policy_parse("may ciphers=highhighhighhigh"
					       "highhighhighhigh",
					       &pol, &why),
			 -1);
	buf_free(&why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_usable),
	    cmocka_unit_test(test_policy_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
