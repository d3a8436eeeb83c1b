/*
 * fuzz_spf - libFuzzer target for SPF records and macro strings
 * (lib/mail/spf_parse.c) and the evaluator that runs them (spf.c).
 *
 * The input is the text of a TXT record as a domain's owner (or an
 * attacker) publishes it.  It is parsed as a record, expanded as a
 * domain-spec and as an explanation, and then evaluated by check_host()
 * against a world where every name has that record as its TXT record,
 * one address, one MX and one PTR name: include and redirect recurse
 * into the same text, so the lookup and void limits, the recursion bound
 * and exp= are reached.  Expansions must respect their bounds and the
 * evaluation must end with a valid result within the lookup budget.
 * The same bytes are also read as a DNS reply in wire format by
 * spf_dns_extract, for every type SPF asks.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ldns_known_bugs.h"
#include "spf.h"
#include "spf_dns.h"

struct world {
	const char *text;
	size_t len;
	int asked;
};

static int
lookup(void *ctx, const char *name, int type, struct spf_answer *out)
{
	static const unsigned char a4[4] = {192, 0, 2, 1};
	static const unsigned char a6[16] = {0x20, 0x01, 0x0d, 0xb8};
	struct world *w = ctx;

	spf_answer_reset(out);
	w->asked++;
	if (strlen(name) > SPF_DOMAIN_MAX)
		abort();
	if (name[0] == 'x')
		return SPF_DNS_NXDOMAIN;
	if (name[0] == 't')
		return SPF_DNS_ERROR;
	switch (type) {
	case SPF_T_TXT:
		spf_answer_add(out, w->text, w->len);
		break;
	case SPF_T_A:
		spf_answer_add(out, a4, 4);
		break;
	case SPF_T_AAAA:
		spf_answer_add(out, a6, 16);
		break;
	case SPF_T_MX:
		spf_answer_add(out, "mx.example.org", 14);
		break;
	case SPF_T_PTR:
		spf_answer_add(out, "ptr.example.org", 15);
		break;
	}
	return SPF_DNS_FOUND;
}

/* The input as a reply: records kept must have the shape of their type. */
static void
as_reply(const uint8_t *data, size_t size)
{
	static const int types[] = {SPF_T_A, SPF_T_AAAA, SPF_T_MX, SPF_T_PTR,
				    SPF_T_TXT};
	ldns_pkt *pkt = NULL;
	struct spf_answer ans;
	char canon[SPF_DOMAIN_MAX + 2];
	size_t i, j;
	int cname;

	if (ldns_known_leak(data, size) ||
	    ldns_wire2pkt(&pkt, data, size) != LDNS_STATUS_OK)
		return;
	spf_answer_init(&ans);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		spf_dns_extract(pkt, "example.org", types[i], &ans, canon,
				sizeof(canon), &cname);
		if (ans.count > SPF_ANSWER_MAX || ans.count > ans.total)
			abort();
		if (cname && strlen(canon) > SPF_DOMAIN_MAX)
			abort();
		for (j = 0; j < ans.count; j++)
			if ((types[i] == SPF_T_A && ans.rr[j].len != 4) ||
			    (types[i] == SPF_T_AAAA && ans.rr[j].len != 16) ||
			    ((types[i] == SPF_T_MX || types[i] == SPF_T_PTR) &&
			     ans.rr[j].len > SPF_DOMAIN_MAX))
				abort();
	}
	spf_answer_free(&ans);
	ldns_pkt_free(pkt);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spf_record *rec = malloc(sizeof(*rec));
	struct buf out = BUF_INIT, err = BUF_INIT;
	struct world w = {(const char *)data, size, 0};
	struct spf_query q;
	struct spf_outcome o;
	struct spf_ip ip;
	struct spf_macro_ctx m = {"user@example.org",
				  "example.org",
				  &ip,
				  "helo.example.org",
				  NULL,
				  NULL,
				  1};
	const char *identity;
	size_t i;

	if (rec == NULL)
		return 0;
	as_reply(data, size);
	spf_ip_parse(size > 0 && (data[0] & 1) ? "2001:db8::1" : "192.0.2.1",
		     &ip);
	if (spf_record_parse((const char *)data, size, rec, &err) == 0) {
		if (rec->count > SPF_TERMS_MAX)
			abort();
		for (i = 0; i < rec->count; i++) {
			const struct spf_term *t = &rec->term[i];

			if (t->arg_len > size || t->cidr4 > 32 ||
			    t->cidr6 > 128)
				abort();
			if (t->arg_len > 0 &&
			    spf_macro_expand(&m, t->arg, t->arg_len,
					     SPF_MACRO_DOMAIN, &out,
					     &err) == 0 &&
			    out.len > SPF_DOMAIN_MAX)
				abort();
		}
	}
	spf_macro_expand(&m, (const char *)data, size, SPF_MACRO_EXP, &out,
			 &err);
	memset(&q, 0, sizeof(q));
	q.lookup = lookup;
	q.ctx = &w;
	q.ip = ip;
	q.helo = "helo.example.org";
	q.now = 1;
	spf_outcome_init(&o);
	spf_check_mailfrom(&q, "user@example.org", &o, &identity);
	if (o.result < SPF_NONE || o.result > SPF_PERMERROR)
		abort();
	/* 10 mechanisms, each at most 1 + 10 names x 1 lookups, plus the
	 * records, exp and %{p}: far below this. */
	if (w.asked > 1000)
		abort();
	spf_outcome_free(&o);
	buf_free(&out);
	buf_free(&err);
	free(rec);
	return 0;
}
