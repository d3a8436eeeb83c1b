/*
 * fuzz_dmarc - libFuzzer target for the DMARC record parser
 * (lib/mail/dmarc_parse.c) and the RFC5322.From reader
 * (lib/mail/dmarc_from.c).
 *
 * The input is read as a TXT record, as a From: field value, and as a
 * message header fed to the From: collector in two pieces (whose split
 * must not change the verdict or the list of author domains).  It is then the
 * record of every _dmarc name of an evaluation, so discovery and alignment run
 * on it. Results must stay in their ranges and strings in their bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc.h"
#include "dmarc_from.h"

struct world {
	const uint8_t *data;
	size_t len;
};

static int
lookup(void *ctx, const char *name, int type, struct spf_answer *out)
{
	struct world *w = ctx;

	spf_answer_reset(out);
	if (type != SPF_T_TXT || strlen(name) > SPF_DOMAIN_MAX)
		abort();
	spf_answer_add(out, w->data, w->len);
	return SPF_DNS_FOUND;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const char list[] = "com\norg\nco.uk\n*.ck\n!www.ck\n";
	struct dmarc_record rec;
	struct buf err = BUF_INIT;
	char d1[DMARC_FROM_DOMAIN_MAX + 1];
	const char *why;
	struct dmarc_from f1, f2;
	struct dmarc_author a1, a2;
	int r, r2;

	r = dmarc_record_parse((const char *)data, len, &rec, &err);
	if (r != DMARC_REC_OK && r != DMARC_REC_NOT_DMARC &&
	    r != DMARC_REC_UNUSABLE)
		abort();
	if (r == DMARC_REC_OK && (rec.p < 0 || rec.p > 2 || rec.sp < -1 ||
				  rec.sp > 2 || rec.pct < 0 || rec.pct > 100 ||
				  strlen(rec.rua) >= sizeof(rec.rua)))
		abort();
	buf_free(&err);

	r = dmarc_from_value((const char *)data, len, d1, &why);
	if (r != DMARC_FROM_OK && r != DMARC_FROM_BAD)
		abort();
	if (r == DMARC_FROM_OK && (d1[0] == '\0' || strlen(d1) > 255))
		abort();

	dmarc_from_init(&f1);
	dmarc_from_init(&f2);
	dmarc_from_feed(&f1, data, len);
	dmarc_from_feed(&f2, data, len / 2);
	dmarc_from_feed(&f2, data + len / 2, len - len / 2);
	r = dmarc_from_result(&f1, &a1, &why);
	r2 = dmarc_from_result(&f2, &a2, &why);
	if (r != r2 || a1.n != a2.n || a1.n > DMARC_FROM_DOMAINS_MAX ||
	    (r == DMARC_FROM_OK && a1.n != 1) ||
	    (r == DMARC_FROM_MULTI && a1.n < 2) ||
	    ((r == DMARC_FROM_NONE || r == DMARC_FROM_BAD) && a1.n != 0))
		abort();
	for (size_t i = 0; i < a1.n; i++)
		if (strcmp(a1.domain[i], a2.domain[i]) != 0 ||
		    a1.domain[i][0] == '\0')
			abort();
	dmarc_from_free(&f1);
	dmarc_from_free(&f2);

	{
		struct psl *psl = psl_parse(list, sizeof(list) - 1);
		struct world w = {data, len};
		struct dmarc_ctx ctx = {lookup, &w, psl};
		struct dmarc_dkim sig = {DMARC_DKIM_PASS, "b.example.org"};
		struct dmarc_input in = {
		    "a.b.example.org", SPF_PASS, "x.example.com", &sig, 1, 50};
		struct dmarc_outcome o;

		dmarc_outcome_init(&o);
		r = dmarc_evaluate(&ctx, &in, &o);
		if (r < DMARC_RESULT_NONE || r > DMARC_RESULT_PERMERROR ||
		    o.disposition < 0 || o.disposition > 2)
			abort();
		dmarc_outcome_free(&o);
		psl_free(psl);
	}
	return 0;
}
