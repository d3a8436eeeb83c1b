/*
 * test_dmarc - unit tests of lib/mail/dmarc (RFC 7489): the record
 * parser on a table (defaults, bad values, unknown tags, p=none for a
 * bad p= with rua=), organisational domains from a Public Suffix List
 * text (wildcards, exceptions, the default rule) and from the installed
 * list, the RFC5322.From domain (one field, one mailbox), and the
 * evaluator on a table of DNS answers (discovery at the From and the
 * organisational domain, multiple records, alignment, sp=, pct=,
 * temperror).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc.h"
#include "dmarc_from.h"
#include "psl.h"

static void
test_record_table(void **state)
{
	static const struct {
		const char *text;
		int ret, p, sp, pct, adkim, aspf;
		const char *rua;
	} t[] = {
	    {"v=DMARC1; p=reject", DMARC_REC_OK, 2, -1, 100, 0, 0, ""},
	    {"v=DMARC1;p=quarantine;sp=none;pct=20;adkim=s;aspf=s",
	     DMARC_REC_OK, 1, 0, 20, 1, 1, ""},
	    {" v = DMARC1 ; P=Reject ; ", DMARC_REC_OK, 2, -1, 100, 0, 0, ""},
	    {"v=DMARC1; p=none; rua=mailto:d@example.org; foo=bar",
	     DMARC_REC_OK, 0, -1, 100, 0, 0, "mailto:d@example.org"},
	    /* Bad optional values take their defaults. */
	    {"v=DMARC1; p=reject; pct=101; adkim=x; aspf=; ri=x; fo=9",
	     DMARC_REC_OK, 2, -1, 100, 0, 0, ""},
	    {"v=DMARC1; p=reject; pct=0", DMARC_REC_OK, 2, -1, 0, 0, 0, ""},
	    /* The first occurrence counts. */
	    {"v=DMARC1; p=reject; p=none", DMARC_REC_OK, 2, -1, 100, 0, 0, ""},
	    /* A bad p= with a report URI is p=none (6.6.3 step 6). */
	    {"v=DMARC1; p=bogus; rua=mailto:x@example.org", DMARC_REC_OK, 0, -1,
	     100, 0, 0, "mailto:x@example.org"},
	    {"v=DMARC1; rua=mailto:x@example.org", DMARC_REC_OK, 0, -1, 100, 0,
	     0, "mailto:x@example.org"},
	    {"v=DMARC1; p=reject; sp=bad; rua=mailto:x@example.org",
	     DMARC_REC_OK, 0, -1, 100, 0, 0, "mailto:x@example.org"},
	    /* ...and unusable without one. */
	    {"v=DMARC1; p=bogus", DMARC_REC_UNUSABLE, 0, -1, 100, 0, 0, ""},
	    {"v=DMARC1", DMARC_REC_UNUSABLE, 0, -1, 100, 0, 0, ""},
	    {"v=DMARC1; p=reject; sp=x", DMARC_REC_UNUSABLE, 0, 0, 0, 0, 0, ""},
	    {"v=DMARC1; rua=nouri", DMARC_REC_UNUSABLE, 0, 0, 0, 0, 0, ""},
	    /* Not DMARC records at all. */
	    {"v=spf1 -all", DMARC_REC_NOT_DMARC, 0, 0, 0, 0, 0, ""},
	    {"v=dmarc1; p=reject", DMARC_REC_NOT_DMARC, 0, 0, 0, 0, 0, ""},
	    {"p=reject; v=DMARC1", DMARC_REC_NOT_DMARC, 0, 0, 0, 0, 0, ""},
	    {"v=DMARC10; p=reject", DMARC_REC_NOT_DMARC, 0, 0, 0, 0, 0, ""},
	    {"", DMARC_REC_NOT_DMARC, 0, 0, 0, 0, 0, ""},
	    {"hello", DMARC_REC_NOT_DMARC, 0, 0, 0, 0, 0, ""},
	};
	struct buf err = BUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct dmarc_record r;
		int ret =
		    dmarc_record_parse(t[i].text, strlen(t[i].text), &r, &err);

		if (ret != t[i].ret)
			fail_msg("%s: %d, expected %d", t[i].text, ret,
				 t[i].ret);
		if (ret != DMARC_REC_OK)
			continue;
		if (r.p != t[i].p || r.sp != t[i].sp || r.pct != t[i].pct ||
		    r.adkim_strict != t[i].adkim ||
		    r.aspf_strict != t[i].aspf || strcmp(r.rua, t[i].rua) != 0)
			fail_msg("%s: p=%d sp=%d pct=%d adkim=%d aspf=%d "
				 "rua=%s",
				 t[i].text, r.p, r.sp, r.pct, r.adkim_strict,
				 r.aspf_strict, r.rua);
	}
	buf_free(&err);
}

static void
test_record_tags(void **state)
{
	const char *text = "v=DMARC1; p=reject; ruf=mailto:f@example.org; "
			   "fo=1:d; rf=afrf; ri=3600";
	struct dmarc_record r;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(dmarc_record_parse(text, strlen(text), &r, &err),
			 DMARC_REC_OK);
	assert_string_equal(r.ruf, "mailto:f@example.org");
	assert_string_equal(r.fo, "1:d");
	assert_string_equal(r.rf, "afrf");
	assert_int_equal(r.ri, 3600);
	text = "v=DMARC1; p=reject; fo=x; rf=:; ri=99999999999";
	assert_int_equal(dmarc_record_parse(text, strlen(text), &r, &err),
			 DMARC_REC_OK);
	assert_string_equal(r.fo, "0");
	assert_string_equal(r.rf, "afrf");
	assert_int_equal(r.ri, 86400);
	assert_non_null(strstr(buf_cstr(&err), "bad fo="));
	buf_free(&err);
}

static const char psl_text[] = "// comment\n"
			       "com\n"
			       "uk\n"
			       "co.uk\n"
			       "*.ck\n"
			       "!www.ck\n"
			       "jp\n"
			       "kawasaki.jp\n"
			       "*.kawasaki.jp\n"
			       "!city.kawasaki.jp\n"
			       "\n"
			       "github.io  trailing words\n"
			       "// ===END ICANN DOMAINS===\n";

static void
test_psl_table(void **state)
{
	static const struct {
		const char *name, *org;
	} t[] = {
	    {"example.com", "example.com"},
	    {"a.b.Example.COM", "example.com"},
	    {"example.com.", "example.com"},
	    {"com", "com"},
	    {"example.co.uk", "example.co.uk"},
	    {"mail.example.co.uk", "example.co.uk"},
	    {"co.uk", "co.uk"},
	    {"x.y.ck", "x.y.ck"},
	    {"y.ck", "y.ck"},
	    {"www.ck", "www.ck"},
	    {"a.www.ck", "www.ck"},
	    {"a.b.kawasaki.jp", "a.b.kawasaki.jp"},
	    {"www.city.kawasaki.jp", "city.kawasaki.jp"},
	    {"city.kawasaki.jp", "city.kawasaki.jp"},
	    {"me.github.io", "me.github.io"},
	    /* No rule: the last label is the suffix ("*"). */
	    {"a.b.example", "b.example"},
	    {"localhost", "localhost"},
	};
	struct psl *p = psl_parse(psl_text, sizeof(psl_text) - 1);
	char out[PSL_NAME_MAX + 1];

	(void)state;
	assert_int_equal(psl_count(p), 10);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(psl_org_domain(p, t[i].name, out, sizeof(out)),
				 0);
		if (strcmp(out, t[i].org) != 0)
			fail_msg("%s: %s, expected %s", t[i].name, out,
				 t[i].org);
	}
	assert_int_equal(psl_org_domain(p, "", out, sizeof(out)), -1);
	assert_int_equal(psl_org_domain(p, "a..com", out, sizeof(out)), -1);
	assert_int_equal(psl_org_domain(p, ".com", out, sizeof(out)), -1);
	psl_free(p);
}

static void
test_psl_installed(void **state)
{
	struct buf err = BUF_INIT;
	struct psl *p =
	    psl_load("/usr/share/publicsuffix/public_suffix_list.dat", &err);
	char out[PSL_NAME_MAX + 1];

	(void)state;
	if (p == NULL)
		fail_msg("%s", buf_cstr(&err));
	assert_true(psl_count(p) > 5000);
	assert_int_equal(psl_org_domain(p, "mail.bbc.co.uk", out, sizeof(out)),
			 0);
	assert_string_equal(out, "bbc.co.uk");
	assert_int_equal(psl_org_domain(p, "a.b.example.com", out, sizeof(out)),
			 0);
	assert_string_equal(out, "example.com");
	psl_free(p);
	assert_null(psl_load("/nonexistent/psl.dat", &err));
	buf_free(&err);
}

static void
test_from_value(void **state)
{
	static const struct {
		const char *value;
		int ret;
		const char *domain;
	} t[] = {
	    {" joe@Example.COM", DMARC_FROM_OK, "example.com"},
	    {" Joe Q. Public <joe@example.org>", DMARC_FROM_OK, "example.org"},
	    {" \"Joe, the <Q>\" <joe@a.example.org> (comment, here)",
	     DMARC_FROM_OK, "a.example.org"},
	    {" joe(comment)@example.org", DMARC_FROM_OK, "example.org"},
	    {"\r\n\tJoe\r\n <joe@example.org>\r\n", DMARC_FROM_OK,
	     "example.org"},
	    {" <@relay.example,@other.example:joe@example.net>", DMARC_FROM_OK,
	     "example.net"},
	    {" joe@example.org, ", DMARC_FROM_OK, "example.org"},
	    {" \"a b\"@example.org", DMARC_FROM_OK, "example.org"},
	    {" joe@example.org.", DMARC_FROM_BAD, ""},
	    {" a@example.org, b@example.net", DMARC_FROM_BAD, ""},
	    {" A <a@example.org>, B <b@example.org>", DMARC_FROM_BAD, ""},
	    {" group: a@example.org;", DMARC_FROM_BAD, ""},
	    {" joe", DMARC_FROM_BAD, ""},
	    {" joe@[192.0.2.1]", DMARC_FROM_BAD, ""},
	    {" <joe@example.org", DMARC_FROM_BAD, ""},
	    {" joe smith@example.org", DMARC_FROM_BAD, ""},
	    {" <>", DMARC_FROM_BAD, ""},
	    {"", DMARC_FROM_BAD, ""},
	    {" (only a comment)", DMARC_FROM_BAD, ""},
	};
	char domain[DMARC_FROM_DOMAIN_MAX + 1];
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int r = dmarc_from_value(t[i].value, strlen(t[i].value), domain,
					 &why);

		if (r != t[i].ret || strcmp(domain, t[i].domain) != 0)
			fail_msg("[%s]: %d %s, expected %d %s", t[i].value, r,
				 domain, t[i].ret, t[i].domain);
	}
}

/* Feeds msg in pieces of step octets; the collector's verdict, its
 * domains joined with ' '. */
static int
collect(const char *msg, size_t step, char *domains)
{
	struct dmarc_from f;
	struct dmarc_author au;
	const char *why;
	size_t len = strlen(msg);
	int r;

	dmarc_from_init(&f);
	for (size_t i = 0; i < len; i += step)
		dmarc_from_feed(&f, msg + i, len - i < step ? len - i : step);
	r = dmarc_from_result(&f, &au, &why);
	domains[0] = '\0';
	for (size_t i = 0; i < au.n; i++) {
		if (i > 0)
			strcat(domains, " ");
		strcat(domains, au.domain[i]);
	}
	dmarc_from_free(&f);
	return r;
}

static void
test_from_collector(void **state)
{
	static const struct {
		const char *msg;
		int ret;
		const char *domain;
	} t[] = {
	    {"Received: from x\r\n\tby y\r\nFROM : Joe\r\n <joe@Ex.org>\r\n"
	     "Subject: s\r\n\r\nFrom: body@evil.example\r\n",
	     DMARC_FROM_OK, "ex.org"},
	    {"Subject: s\r\n\r\nFrom: a@b.example\r\n", DMARC_FROM_NONE, ""},
	    /* Several From: fields or addresses: every domain (6.6.1). */
	    {"From: a@b.example\r\nFrom: c@d.example\r\n\r\n", DMARC_FROM_MULTI,
	     "b.example d.example"},
	    {"From: a@b.example, x <c@D.example>, e@b.example\r\n\r\n",
	     DMARC_FROM_MULTI, "b.example d.example"},
	    {"From: a@b.example\r\nFrom: c@B.example\r\n\r\n", DMARC_FROM_OK,
	     "b.example"},
	    {"From: a@b.example\r\nFrom: broken\r\n\r\n", DMARC_FROM_BAD, ""},
	    {"From: a@b.example\r\nFrom: a@b.example\r\nFrom: a@b.example\r\n"
	     "From: a@b.example\r\nFrom: a@b.example\r\n\r\n",
	     DMARC_FROM_BAD, ""},
	    {"Fromage: cheese\r\nFrom: a@b.example\r\n\r\n", DMARC_FROM_OK,
	     "b.example"},
	    {"X-From: a@x.example\r\nFrom: a@b.example\r\n", DMARC_FROM_OK,
	     "b.example"},
	};
	char domain[1024];
	static const size_t steps[] = {1, 3, 7, 100000};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		for (size_t s = 0; s < 4; s++) {
			int r = collect(t[i].msg, steps[s], domain);

			if (r != t[i].ret || strcmp(domain, t[i].domain) != 0)
				fail_msg("#%zu step %zu: %d %s", i, steps[s], r,
					 domain);
		}
}

static void
test_from_long(void **state)
{
	struct buf m = BUF_INIT;
	char domain[1024];

	(void)state;
	buf_puts(&m, "From: Joe <joe@example.org>");
	for (int i = 0; i < 2000; i++)
		buf_puts(&m, "\r\n (padding)");
	buf_puts(&m, "\r\n\r\n");
	assert_int_equal(collect(buf_cstr(&m), 4096, domain), DMARC_FROM_BAD);
	/* Many other fields before it do not hide it. */
	buf_reset(&m);
	for (int i = 0; i < 5000; i++)
		buf_puts(&m, "X-Pad: 0123456789012345678901234567890123\r\n");
	buf_puts(&m, "From: joe@example.org\r\n\r\n");
	assert_int_equal(collect(buf_cstr(&m), 4096, domain), DMARC_FROM_OK);
	assert_string_equal(domain, "example.org");
	buf_free(&m);
}

/* A DNS world: TXT records by owner name; "tempfail." prefixes fail. */
struct zone {
	const char *name;
	const char *txt[3];
};

static const struct zone zone[] = {
    {"_dmarc.example.org", {"v=DMARC1; p=reject", NULL}},
    {"_dmarc.quar.example", {"v=DMARC1; p=quarantine; sp=reject", NULL}},
    {"_dmarc.pct.example", {"v=DMARC1; p=reject; pct=30", NULL}},
    {"_dmarc.pct0.example", {"v=DMARC1; p=quarantine; pct=0", NULL}},
    {"_dmarc.two.example", {"v=DMARC1; p=reject", "v=DMARC1; p=none", NULL}},
    {"_dmarc.mixed.example", {"v=spf1 -all", "v=DMARC1; p=reject", NULL}},
    {"_dmarc.strict.example", {"v=DMARC1; p=reject; aspf=s; adkim=s", NULL}},
    {"_dmarc.sub.strict.example", {"v=spf1", NULL}},
    {"_dmarc.broken.example", {"v=DMARC1; p=nope", NULL}},
    {"_dmarc.none.example", {"v=DMARC1; p=none", NULL}},
    {NULL, {NULL}},
};

static int
lookup(void *ctx, const char *name, int type, struct spf_answer *out)
{
	(void)ctx;
	spf_answer_reset(out);
	assert_int_equal(type, SPF_T_TXT);
	if (strstr(name, "tempfail") != NULL)
		return SPF_DNS_ERROR;
	for (const struct zone *z = zone; z->name; z++) {
		if (strcmp(z->name, name) != 0)
			continue;
		for (int i = 0; z->txt[i]; i++)
			spf_answer_add(out, z->txt[i], strlen(z->txt[i]));
		return SPF_DNS_FOUND;
	}
	return SPF_DNS_NXDOMAIN;
}

static void
test_evaluate_table(void **state)
{
	static const struct dmarc_dkim sig_pass[] = {
	    {DMARC_DKIM_FAIL, "example.org"},
	    {DMARC_DKIM_PASS, "mail.example.org"},
	};
	static const struct dmarc_dkim sig_other[] = {
	    {DMARC_DKIM_PASS, "other.example"},
	};
	static const struct {
		const char *from;
		int spf;
		const char *spf_domain;
		const struct dmarc_dkim *dkim;
		size_t ndkim;
		int sample;
		int result, policy, disposition;
		const char *policy_domain;
	} t[] = {
	    /* SPF aligned (relaxed: same organisational domain). */
	    {"example.org", SPF_PASS, "bounce.example.org", NULL, 0, 0,
	     DMARC_RESULT_PASS, 2, 0, "example.org"},
	    {"example.org", SPF_PASS, "evil.example", NULL, 0, 0,
	     DMARC_RESULT_FAIL, 2, 2, "example.org"},
	    {"example.org", SPF_FAIL, "example.org", NULL, 0, 0,
	     DMARC_RESULT_FAIL, 2, 2, "example.org"},
	    {"example.org", SPF_SOFTFAIL, "example.org", sig_pass, 2, 0,
	     DMARC_RESULT_PASS, 2, 0, "example.org"},
	    {"example.org", SPF_NONE, NULL, sig_other, 1, 0, DMARC_RESULT_FAIL,
	     2, 2, "example.org"},
	    /* A subdomain without a record: the org's, with sp=. */
	    {"a.b.example.org", SPF_FAIL, "x.example", NULL, 0, 0,
	     DMARC_RESULT_FAIL, 2, 2, "example.org"},
	    {"sub.quar.example", SPF_FAIL, "x.example", NULL, 0, 0,
	     DMARC_RESULT_FAIL, 2, 2, "quar.example"},
	    {"quar.example", SPF_FAIL, "x.example", NULL, 0, 0,
	     DMARC_RESULT_FAIL, 1, 1, "quar.example"},
	    /* pct=: sampled in, sampled out (one step weaker). */
	    {"pct.example", SPF_FAIL, "x.example", NULL, 0, 29,
	     DMARC_RESULT_FAIL, 2, 2, "pct.example"},
	    {"pct.example", SPF_FAIL, "x.example", NULL, 0, 30,
	     DMARC_RESULT_FAIL, 2, 1, "pct.example"},
	    {"pct0.example", SPF_FAIL, "x.example", NULL, 0, 0,
	     DMARC_RESULT_FAIL, 1, 0, "pct0.example"},
	    /* Strict alignment. */
	    {"strict.example", SPF_PASS, "a.strict.example", NULL, 0, 0,
	     DMARC_RESULT_FAIL, 2, 2, "strict.example"},
	    {"strict.example", SPF_PASS, "STRICT.example.", NULL, 0, 0,
	     DMARC_RESULT_PASS, 2, 0, "strict.example"},
	    /* sub.strict.example has TXT but no DMARC: the org's. */
	    {"sub.strict.example", SPF_PASS, "sub.strict.example", NULL, 0, 0,
	     DMARC_RESULT_PASS, 2, 0, "strict.example"},
	    {"sub.strict.example", SPF_PASS, "strict.example", NULL, 0, 0,
	     DMARC_RESULT_FAIL, 2, 2, "strict.example"},
	    /* No policy. */
	    {"nothing.example", SPF_FAIL, "x.example", NULL, 0, 0,
	     DMARC_RESULT_NONE, 0, 0, ""},
	    {"two.example", SPF_FAIL, "x.example", NULL, 0, 0,
	     DMARC_RESULT_NONE, 0, 0, "two.example"},
	    {"mixed.example", SPF_FAIL, "x.example", NULL, 0, 0,
	     DMARC_RESULT_FAIL, 2, 2, "mixed.example"},
	    {"broken.example", SPF_FAIL, "x.example", NULL, 0, 0,
	     DMARC_RESULT_PERMERROR, 0, 0, "broken.example"},
	    {"none.example", SPF_FAIL, "x.example", NULL, 0, 0,
	     DMARC_RESULT_FAIL, 0, 0, "none.example"},
	    {"tempfail.example", SPF_PASS, "tempfail.example", NULL, 0, 0,
	     DMARC_RESULT_TEMPERROR, 0, 0, "tempfail.example"},
	    {"", SPF_PASS, "x.example", NULL, 0, 0, DMARC_RESULT_PERMERROR, 0,
	     0, ""},
	};
	static const char list[] = "org\nexample\n";
	struct psl *psl = psl_parse(list, sizeof(list) - 1);
	struct dmarc_ctx ctx = {lookup, NULL, psl};
	struct dmarc_outcome o;

	(void)state;
	dmarc_outcome_init(&o);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct dmarc_input in = {t[i].from, t[i].spf,	t[i].spf_domain,
					 t[i].dkim, t[i].ndkim, t[i].sample};
		int r = dmarc_evaluate(&ctx, &in, &o);

		if (r != t[i].result || o.policy != t[i].policy ||
		    o.disposition != t[i].disposition ||
		    strcmp(o.policy_domain, t[i].policy_domain) != 0)
			fail_msg("#%zu %s: %s policy=%d disposition=%d at %s "
				 "(%s)",
				 i, t[i].from, dmarc_result_name(r), o.policy,
				 o.disposition, o.policy_domain,
				 buf_cstr(&o.reason));
	}
	dmarc_outcome_free(&o);
	psl_free(psl);
}

static void
test_aligned(void **state)
{
	static const char list[] = "uk\nco.uk\n";
	struct psl *psl = psl_parse(list, sizeof(list) - 1);

	(void)state;
	assert_true(
	    dmarc_aligned(psl, "a.example.co.uk", "b.example.co.uk", 0));
	assert_false(dmarc_aligned(psl, "example.co.uk", "other.co.uk", 0));
	assert_false(dmarc_aligned(psl, "a.example.co.uk", "example.co.uk", 1));
	assert_false(dmarc_aligned(psl, "example.co.uk", "", 0));
	assert_false(dmarc_aligned(psl, "example.co.uk", NULL, 0));
	psl_free(psl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_record_table),
	    cmocka_unit_test(test_record_tags),
	    cmocka_unit_test(test_psl_table),
	    cmocka_unit_test(test_psl_installed),
	    cmocka_unit_test(test_from_value),
	    cmocka_unit_test(test_from_collector),
	    cmocka_unit_test(test_from_long),
	    cmocka_unit_test(test_evaluate_table),
	    cmocka_unit_test(test_aligned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
