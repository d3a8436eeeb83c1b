/*
 * test_spf - unit tests of lib/mail/spf: the record syntax (terms,
 * dual CIDR lengths, domain-spec ends, duplicate modifiers), the macro
 * expander on RFC 7208 7.4's examples, the evaluator on a table of
 * records (include, redirect, exp, the lookup and void limits,
 * temperror), and the reading of ldns replies (CNAMEs, NXDOMAIN).
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
#include <time.h>

#include "spf.h"
#include "spf_dns.h"

static int
parse(const char *text)
{
	struct spf_record *rec = malloc(sizeof(*rec));
	struct buf err = BUF_INIT;
	int r;

	assert_non_null(rec);
	r = spf_record_parse(text, strlen(text), rec, &err);
	free(rec);
	buf_free(&err);
	return r;
}

static void
test_record_syntax(void **state)
{
	static const char *const good[] = {
	    "v=spf1",
	    "V=SPF1 -ALL",
	    "v=spf1  ip4:192.0.2.0/24   ip6:2001:db8::/32 ~all ",
	    "v=spf1 a mx/24 a:example.com/24//64 mx:example.com//128 -all",
	    "v=spf1 include:_spf.example.com ?exists:%{ir}.%{l1r+-}.x.org",
	    "v=spf1 ptr ptr:example.org redirect=_spf.example.com",
	    "v=spf1 exp=explain.%{d} -all foo=bar%%x "
	    "moo.cow-far_out=man:dog/cat",
	    "v=spf1 a:foo:bar/baz.example.com",
	    "v=spf1 a:example.com.",
	    "v=spf1 a:%{d}",
	    NULL,
	};
	static const char *const bad[] = {
	    "v=spf10",
	    "spf1 -all",
	    "v=spf1 -all\t",
	    "v=spf1 a:museum",
	    "v=spf1 a:111.222.33.44",
	    "v=spf1 a:example.-com",
	    "v=spf1 a:",
	    "v=spf1 a/33",
	    "v=spf1 a//129",
	    "v=spf1 a/024",
	    "v=spf1 ip4:1.2.3.4/33",
	    "v=spf1 ip4:1.2.3",
	    "v=spf1 ip6:1.2.3.4",
	    "v=spf1 ip4",
	    "v=spf1 all:x",
	    "v=spf1 include",
	    "v=spf1 exists:%{x}.example.com",
	    "v=spf1 exists:%{l0}.example.com",
	    "v=spf1 exists:%{c}.example.com",
	    "v=spf1 exists:%example.com",
	    "v=spf1 redirect=a.example.com redirect=b.example.com",
	    "v=spf1 exp=a.example.com exp=b.example.com",
	    "v=spf1 -redirect=a.example.com",
	    "v=spf1 foo=%{",
	    "v=spf1 1foo=bar",
	    "v=spf1 mx:example.com/24/",
	    "v=spf1 frob",
	    "v=spf1 ip4:1.2.3.4 \xc3\xa9",
	    NULL,
	};
	size_t i;

	(void)state;
	for (i = 0; good[i]; i++)
		if (parse(good[i]) != 0)
			fail_msg("refused: %s", good[i]);
	for (i = 0; bad[i]; i++)
		if (parse(bad[i]) != -1)
			fail_msg("accepted: %s", bad[i]);
}

static void
test_record_terms(void **state)
{
	static const char text[] = "v=spf1 ~mx:e.example/24//64 ip6:2001:db8::/"
				   "48 redirect=r.example";
	struct spf_record *rec = malloc(sizeof(*rec));

	(void)state;
	assert_int_equal(spf_record_parse(text, strlen(text), rec, NULL), 0);
	assert_int_equal(rec->count, 3);
	assert_int_equal(rec->term[0].kind, SPF_M_MX);
	assert_int_equal(rec->term[0].qualifier, '~');
	assert_int_equal(rec->term[0].arg_len, 9);
	assert_int_equal(rec->term[0].cidr4, 24);
	assert_int_equal(rec->term[0].cidr6, 64);
	assert_int_equal(rec->term[1].kind, SPF_M_IP6);
	assert_int_equal(rec->term[1].cidr6, 48);
	assert_int_equal(rec->redirect, 2);
	assert_int_equal(rec->exp, -1);
	assert_false(rec->has_all);
	free(rec);
}

static void
expect_macro(const struct spf_macro_ctx *m, const char *in, int flags,
	     const char *want)
{
	struct buf out = BUF_INIT, err = BUF_INIT;

	assert_int_equal(spf_macro_expand(m, in, strlen(in), flags, &out, &err),
			 0);
	if (strcmp(buf_cstr(&out), want) != 0)
		fail_msg("%s: got %s, want %s", in, buf_cstr(&out), want);
	buf_free(&out);
	buf_free(&err);
}

static void
test_macro_rfc_examples(void **state)
{
	struct spf_ip ip4, ip6;
	struct spf_macro_ctx m = {"strong-bad@email.example.com",
				  "email.example.com",
				  &ip4,
				  "mx.example.org",
				  NULL,
				  "rcpt.example.net",
				  1234567890};
	struct buf out = BUF_INIT;
	char longname[600];

	(void)state;
	assert_int_equal(spf_ip_parse("192.0.2.3", &ip4), 0);
	assert_int_equal(spf_ip_parse("2001:db8::cb01", &ip6), 0);
	expect_macro(&m, "%{s}", 0, "strong-bad@email.example.com");
	expect_macro(&m, "%{o}", 0, "email.example.com");
	expect_macro(&m, "%{d4}", 0, "email.example.com");
	expect_macro(&m, "%{d2}", 0, "example.com");
	expect_macro(&m, "%{d1}", 0, "com");
	expect_macro(&m, "%{dr}", 0, "com.example.email");
	expect_macro(&m, "%{d2r}", 0, "example.email");
	expect_macro(&m, "%{l}", 0, "strong-bad");
	expect_macro(&m, "%{l-}", 0, "strong.bad");
	expect_macro(&m, "%{lr-}", 0, "bad.strong");
	expect_macro(&m, "%{l1r-}", 0, "strong");
	expect_macro(&m, "%{ir}.%{v}._spf.%{d2}", 0,
		     "3.2.0.192.in-addr._spf.example.com");
	expect_macro(&m, "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", 0,
		     "bad.strong.lp.3.2.0.192.in-addr._spf.example.com");
	expect_macro(&m, "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", 0,
		     "3.2.0.192.in-addr.strong.lp._spf.example.com");
	expect_macro(&m, "%{d2}.trusted-domains.example.net", 0,
		     "example.com.trusted-domains.example.net");
	expect_macro(&m, "%{S} %%%_%-%{h}", SPF_MACRO_EXP,
		     "strong-bad%40email.example.com % %20mx.example.org");
	expect_macro(&m, "%{c} %{r} %{t} %{p}", SPF_MACRO_EXP,
		     "192.0.2.3 rcpt.example.net 1234567890 unknown");
	m.ip = &ip6;
	expect_macro(&m, "%{ir}.%{v}._spf.%{d2}", 0,
		     "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0."
		     "1.0.0.2.ip6._spf.example.com");
	expect_macro(&m, "%{c}", SPF_MACRO_EXP, "2001:db8::cb01");
	/* c, r and t only in explanations; 0 is no count. */
	assert_int_equal(spf_macro_expand(&m, "%{c}", 4, 0, &out, NULL), -1);
	assert_int_equal(spf_macro_expand(&m, "%{d0}", 5, 0, &out, NULL), -1);
	assert_int_equal(spf_macro_expand(&m, "a b", 3, 0, &out, NULL), -1);
	/* Section 7.3: a long name loses labels on the left. */
	memset(longname, 'a', 300);
	longname[100] = longname[200] = '.';
	strcpy(longname + 300, ".example.com");
	m.domain = longname;
	assert_int_equal(
	    spf_macro_expand(&m, "%{d}", 4, SPF_MACRO_DOMAIN, &out, NULL), 0);
	assert_true(out.len <= 253);
	assert_string_equal(buf_cstr(&out) + out.len - 12, ".example.com");
	assert_int_equal(buf_cstr(&out)[0], 'a');
	buf_free(&out);
}

/* A table of records: "name type value" with type TXT, A, MX. */
struct table {
	const char *const *rows;
	int asked;
};

static int
table_lookup(void *ctx, const char *name, int type, struct spf_answer *out)
{
	struct table *t = ctx;
	const char *const *r;
	int known = 0;
	unsigned char a[16];

	t->asked++;
	spf_answer_reset(out);
	for (r = t->rows; *r; r++) {
		char n[256], ty[8];
		const char *v;

		if (sscanf(*r, "%255s %7s", n, ty) != 2 ||
		    strcasecmp(n, name) != 0)
			continue;
		known = 1;
		v = *r + strlen(n) + strlen(ty) + 2;
		if (strcmp(ty, "FAIL") == 0)
			return SPF_DNS_ERROR;
		if (type == SPF_T_TXT && strcmp(ty, "TXT") == 0)
			spf_answer_add(out, v, strlen(v));
		else if (type == SPF_T_MX && strcmp(ty, "MX") == 0)
			spf_answer_add(out, v, strlen(v));
		else if (type == SPF_T_A && strcmp(ty, "A") == 0 &&
			 inet_pton(AF_INET, v, a) == 1)
			spf_answer_add(out, a, 4);
	}
	return out->count ? SPF_DNS_FOUND
	       : known	  ? SPF_DNS_NODATA
			  : SPF_DNS_NXDOMAIN;
}

static int
check(const char *const *rows, const char *ip, const char *from,
      struct spf_outcome *o)
{
	struct table t = {rows, 0};
	struct spf_query q = {table_lookup, &t, {0, {0}}, "helo.example",
			      NULL,	    1,	0};
	const char *identity;

	assert_int_equal(spf_ip_parse(ip, &q.ip), 0);
	return spf_check_mailfrom(&q, from, o, &identity);
}

static void
test_eval(void **state)
{
	static const char *const rows[] = {
	    "a.example TXT v=spf1 ip4:192.0.2.0/24 include:b.example -all",
	    "a.example TXT unrelated",
	    "b.example TXT v=spf1 a:h.b.example mx ~all",
	    "h.b.example A 198.51.100.7",
	    "b.example MX mx.b.example",
	    "mx.b.example A 203.0.113.9",
	    "r.example TXT v=spf1 redirect=a.example",
	    "x.example TXT v=spf1 -all exp=why.x.example",
	    "why.x.example TXT %{i} is not one of %{d}'s",
	    "two.example TXT v=spf1 -all",
	    "two.example TXT v=spf1 +all",
	    "t.example TXT v=spf1 a:down.example -all",
	    "down.example FAIL",
	    "helo.example TXT v=spf1 ?all",
	    "ra.example TXT v=spf1 redirect=a.example -all",
	    "rn.example TXT v=spf1 redirect=none.example",
	    NULL,
	};
	struct spf_outcome o;

	(void)state;
	spf_outcome_init(&o);
	assert_int_equal(check(rows, "192.0.2.9", "u@a.example", &o), SPF_PASS);
	assert_int_equal(check(rows, "198.51.100.7", "u@a.example", &o),
			 SPF_PASS);
	assert_int_equal(check(rows, "203.0.113.9", "u@a.example", &o),
			 SPF_PASS);
	assert_int_equal(check(rows, "203.0.113.10", "u@a.example", &o),
			 SPF_FAIL);
	assert_string_equal(o.mechanism, "-all");
	assert_int_equal(check(rows, "203.0.113.10", "u@r.example", &o),
			 SPF_FAIL);
	assert_int_equal(check(rows, "203.0.113.10", "u@x.example", &o),
			 SPF_FAIL);
	assert_string_equal(buf_cstr(&o.exp),
			    "203.0.113.10 is not one of x.example's");
	assert_int_equal(check(rows, "192.0.2.1", "u@two.example", &o),
			 SPF_PERMERROR);
	assert_int_equal(check(rows, "192.0.2.1", "u@t.example", &o),
			 SPF_TEMPERROR);
	assert_int_equal(check(rows, "192.0.2.1", "u@down.example", &o),
			 SPF_TEMPERROR);
	assert_int_equal(check(rows, "192.0.2.1", "u@none.example", &o),
			 SPF_NONE);
	assert_int_equal(check(rows, "192.0.2.1", "u@[192.0.2.1]", &o),
			 SPF_NONE);
	/* The null sender: the HELO identity. */
	assert_int_equal(check(rows, "192.0.2.1", "", &o), SPF_NEUTRAL);
	/* redirect= is ignored next to "all"; a redirect to nothing is a
	 * permerror. */
	assert_int_equal(check(rows, "192.0.2.9", "u@ra.example", &o),
			 SPF_FAIL);
	assert_int_equal(check(rows, "192.0.2.9", "u@rn.example", &o),
			 SPF_PERMERROR);
	spf_outcome_free(&o);
}

static void
test_eval_limits(void **state)
{
	static const char *const rows[] = {
	    /* 11 DNS mechanisms before the match. */
	    "l.example TXT v=spf1 a a a a a a a a a a a ip4:192.0.2.1 -all",
	    "l.example A 198.51.100.1",
	    /* 10 are fine. */
	    "k.example TXT v=spf1 a a a a a a a a a a ip4:192.0.2.1 -all",
	    "k.example A 198.51.100.1",
	    /* A third void lookup. */
	    "v.example TXT v=spf1 a:n1.example a:n2.example a:n3.example "
	    "+all",
	    "w.example TXT v=spf1 a:n1.example a:n2.example +all",
	    /* An include loop ends at the lookup limit. */
	    "loop.example TXT v=spf1 include:loop.example -all",
	    /* More than 10 MX names. */
	    "m.example TXT v=spf1 mx -all",
	    "m.example MX a1",
	    "m.example MX a2",
	    "m.example MX a3",
	    "m.example MX a4",
	    "m.example MX a5",
	    "m.example MX a6",
	    "m.example MX a7",
	    "m.example MX a8",
	    "m.example MX a9",
	    "m.example MX a10",
	    "m.example MX a11",
	    NULL,
	};
	struct spf_outcome o;

	(void)state;
	spf_outcome_init(&o);
	assert_int_equal(check(rows, "192.0.2.1", "u@l.example", &o),
			 SPF_PERMERROR);
	assert_non_null(strstr(buf_cstr(&o.reason), "more than 10"));
	assert_int_equal(check(rows, "192.0.2.1", "u@k.example", &o), SPF_PASS);
	assert_int_equal(check(rows, "192.0.2.1", "u@v.example", &o),
			 SPF_PERMERROR);
	assert_non_null(strstr(buf_cstr(&o.reason), "void"));
	assert_int_equal(check(rows, "192.0.2.1", "u@w.example", &o), SPF_PASS);
	assert_int_equal(check(rows, "192.0.2.1", "u@loop.example", &o),
			 SPF_PERMERROR);
	assert_int_equal(check(rows, "192.0.2.1", "u@m.example", &o),
			 SPF_PERMERROR);
	spf_outcome_free(&o);
}

static int
slow_lookup(void *ctx, const char *name, int type, struct spf_answer *out)
{
	struct timespec ts = {0, 15 * 1000000};

	nanosleep(&ts, NULL);
	return table_lookup(ctx, name, type, out);
}

/* Section 4.6.4's time limit: a lookup that would start after it makes
 * a temperror. */
static void
test_eval_time_limit(void **state)
{
	static const char *const rows[] = {
	    "s.example TXT v=spf1 a:n1.example a:n2.example a:n3.example "
	    "-all",
	    "n1.example A 198.51.100.1",
	    "n2.example A 198.51.100.2",
	    "n3.example A 198.51.100.3",
	    NULL,
	};
	struct table t = {rows, 0};
	struct spf_query q = {slow_lookup, &t, {0, {0}}, "helo.example",
			      NULL,	   1,  40};
	struct spf_outcome o;

	(void)state;
	spf_outcome_init(&o);
	assert_int_equal(spf_ip_parse("192.0.2.1", &q.ip), 0);
	assert_int_equal(spf_check_host(&q, "s.example", "u@s.example", &o),
			 SPF_TEMPERROR);
	assert_non_null(strstr(buf_cstr(&o.reason), "longer than 40 ms"));
	assert_true(t.asked < 4);
	q.time_limit_ms = 0;
	t.asked = 0;
	assert_int_equal(spf_check_host(&q, "s.example", "u@s.example", &o),
			 SPF_FAIL);
	assert_int_equal(t.asked, 4);
	spf_outcome_free(&o);
}

static ldns_pkt *
reply(int rcode, const char *const *rrs)
{
	ldns_pkt *pkt = ldns_pkt_new();
	ldns_rr *rr;

	ldns_pkt_set_qr(pkt, true);
	ldns_pkt_set_rcode(pkt, (uint8_t)rcode);
	for (; rrs != NULL && *rrs != NULL; rrs++) {
		rr = NULL;
		assert_int_equal(
		    ldns_rr_new_frm_str(&rr, *rrs, 300, NULL, NULL),
		    LDNS_STATUS_OK);
		ldns_pkt_push_rr(pkt, LDNS_SECTION_ANSWER, rr);
	}
	return pkt;
}

static void
test_dns_extract(void **state)
{
	static const char *const rrs[] = {
	    "Spf.Example. IN CNAME real.example.",
	    "real.example. IN TXT \"v=spf1 \" \"-all\"",
	    "real.example. IN TXT \"other\"",
	    "other.example. IN TXT \"v=spf1 +all\"",
	    "real.example. IN MX 10 Mail.Example.",
	    "real.example. IN MX 0 .",
	    "real.example. IN A 192.0.2.1",
	    NULL,
	};
	static const char *const away[] = {
	    "a.example. IN CNAME elsewhere.example.",
	    NULL,
	};
	struct spf_answer ans;
	char canon[300];
	int cname;
	ldns_pkt *p = reply(LDNS_RCODE_NOERROR, rrs);

	(void)state;
	spf_answer_init(&ans);
	assert_int_equal(spf_dns_extract(p, "spf.example", SPF_T_TXT, &ans,
					 canon, sizeof(canon), &cname),
			 SPF_DNS_FOUND);
	assert_int_equal(ans.count, 2);
	assert_string_equal(buf_cstr(&ans.rr[0]), "v=spf1 -all");
	assert_int_equal(spf_dns_extract(p, "SPF.example", SPF_T_MX, &ans,
					 canon, sizeof(canon), &cname),
			 SPF_DNS_FOUND);
	assert_int_equal(ans.count, 2);
	assert_string_equal(buf_cstr(&ans.rr[0]), "mail.example");
	assert_string_equal(buf_cstr(&ans.rr[1]), "");
	assert_int_equal(spf_dns_extract(p, "real.example", SPF_T_AAAA, &ans,
					 canon, sizeof(canon), &cname),
			 SPF_DNS_NODATA);
	assert_int_equal(cname, 0);
	ldns_pkt_free(p);
	p = reply(LDNS_RCODE_NOERROR, away);
	assert_int_equal(spf_dns_extract(p, "a.example", SPF_T_A, &ans, canon,
					 sizeof(canon), &cname),
			 SPF_DNS_NODATA);
	assert_int_equal(cname, 1);
	assert_string_equal(canon, "elsewhere.example");
	ldns_pkt_free(p);
	p = reply(LDNS_RCODE_NXDOMAIN, NULL);
	assert_int_equal(spf_dns_extract(p, "a.example", SPF_T_A, &ans, canon,
					 sizeof(canon), &cname),
			 SPF_DNS_NXDOMAIN);
	ldns_pkt_free(p);
	spf_answer_free(&ans);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_record_syntax),
	    cmocka_unit_test(test_record_terms),
	    cmocka_unit_test(test_macro_rfc_examples),
	    cmocka_unit_test(test_eval),
	    cmocka_unit_test(test_eval_limits),
	    cmocka_unit_test(test_eval_time_limit),
	    cmocka_unit_test(test_dns_extract),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
