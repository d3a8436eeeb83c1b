/*
 * dmarc - policy discovery, alignment and the verdict of RFC 7489; see
 * dmarc.h.
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "dmarc.h"
#include "strutil.h"

const char *
dmarc_result_name(int result)
{
	static const char *const names[] = {"none", "pass", "fail", "temperror",
					    "permerror"};

	return result >= 0 && result <= DMARC_RESULT_PERMERROR ? names[result]
							       : "unknown";
}

const char *
dmarc_policy_name(int policy)
{
	static const char *const names[] = {"none", "quarantine", "reject"};

	return policy >= 0 && policy <= DMARC_POLICY_REJECT ? names[policy]
							    : "unknown";
}

void
dmarc_outcome_init(struct dmarc_outcome *o)
{
	memset(o, 0, sizeof(*o));
	buf_init(&o->reason);
}

void
dmarc_outcome_free(struct dmarc_outcome *o)
{
	buf_free(&o->reason);
}

/* The organisational domain of name, or name itself (lower case) when
 * it has none. */
static void
org_of(const struct psl *psl, const char *name, char *out)
{
	if (psl_org_domain(psl, name, out, PSL_NAME_MAX + 1) < 0) {
		size_t n = strlen(name);

		if (n > PSL_NAME_MAX)
			n = PSL_NAME_MAX;
		memcpy(out, name, n);
		out[n] = '\0';
		str_lower(out);
	}
}

/* name without a final dot equals other, without case. */
static int
same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && str_ncasecmp(a, b, la) == 0;
}

int
dmarc_aligned(const struct psl *psl, const char *from, const char *a,
	      int strict)
{
	char fo[PSL_NAME_MAX + 1], ao[PSL_NAME_MAX + 1];

	if (from == NULL || a == NULL || *from == '\0' || *a == '\0')
		return 0;
	if (strict)
		return same_name(from, a);
	org_of(psl, from, fo);
	org_of(psl, a, ao);
	return strcmp(fo, ao) == 0;
}

enum discovery { FOUND, EMPTY, MULTIPLE, UNUSABLE, TEMPFAIL };

/* The DMARC record at _dmarc.name (6.6.3 steps 1-3, 5). */
static enum discovery
discover(const struct dmarc_ctx *ctx, const char *name,
	 struct dmarc_record *rec, struct buf *why)
{
	struct spf_answer ans;
	struct dmarc_record cand;
	struct buf err = BUF_INIT;
	char qname[SPF_DOMAIN_MAX + 1];
	size_t found = 0, i;
	int r, parsed = DMARC_REC_NOT_DMARC;
	enum discovery d;

	if (strlen(name) + 7 > SPF_DOMAIN_MAX)
		return EMPTY;
	snprintf(qname, sizeof(qname), "_dmarc.%s", name);
	spf_answer_init(&ans);
	r = ctx->lookup(ctx->lookup_ctx, qname, SPF_T_TXT, &ans);
	if (r == SPF_DNS_ERROR) {
		buf_printf(why, "DNS failure for %s", qname);
		spf_answer_free(&ans);
		return TEMPFAIL;
	}
	for (i = 0; r == SPF_DNS_FOUND && i < ans.count; i++) {
		int pr =
		    dmarc_record_parse(ans.rr[i].data ? ans.rr[i].data : "",
				       ans.rr[i].len, &cand, &err);

		if (pr == DMARC_REC_NOT_DMARC)
			continue;
		if (found++ == 0) {
			*rec = cand;
			parsed = pr;
			if (pr == DMARC_REC_UNUSABLE)
				buf_printf(why, "%s: %s", qname,
					   buf_cstr(&err));
		}
	}
	/* Records not kept (SPF_ANSWER_MAX) may be DMARC records too:
	 * more than one is no policy anyway. */
	if (r == SPF_DNS_FOUND && ans.total > ans.count && found > 0)
		found++;
	if (found == 0)
		d = EMPTY;
	else if (found > 1) {
		buf_reset(why);
		buf_printf(why, "%s: more than one DMARC record", qname);
		d = MULTIPLE;
	} else
		d = parsed == DMARC_REC_OK ? FOUND : UNUSABLE;
	buf_free(&err);
	spf_answer_free(&ans);
	return d;
}

static int
sample(int given)
{
	unsigned int v;

	if (given >= 0)
		return given % 100;
	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
		v = 0; /* no randomness: the policy applies */
	return (int)(v % 100);
}

int
dmarc_evaluate(const struct dmarc_ctx *ctx, const struct dmarc_input *in,
	       struct dmarc_outcome *out)
{
	const char *from = in->from_domain;
	struct dmarc_record *rec = &out->rec;
	enum discovery d;
	int at_org = 0;

	buf_reset(&out->reason);
	out->result = DMARC_RESULT_NONE;
	out->policy = out->disposition = DMARC_POLICY_NONE;
	out->sampled_out = out->have_record = 0;
	out->spf_aligned = out->dkim_aligned = 0;
	out->dkim_domain = NULL;
	out->org_domain[0] = out->policy_domain[0] = '\0';
	if (from == NULL || *from == '\0' || strlen(from) > PSL_NAME_MAX) {
		buf_puts(&out->reason, "no author domain");
		return out->result = DMARC_RESULT_PERMERROR;
	}
	org_of(ctx->psl, from, out->org_domain);
	d = discover(ctx, from, rec, &out->reason);
	snprintf(out->policy_domain, sizeof(out->policy_domain), "%s", from);
	if (d == EMPTY && !same_name(from, out->org_domain)) {
		/* Step 4: the organisational domain's record. */
		d = discover(ctx, out->org_domain, rec, &out->reason);
		snprintf(out->policy_domain, sizeof(out->policy_domain), "%s",
			 out->org_domain);
		at_org = 1;
	}
	switch (d) {
	case EMPTY:
		out->policy_domain[0] = '\0';
		buf_printf(&out->reason, "no DMARC record for %s", from);
		return out->result = DMARC_RESULT_NONE;
	case MULTIPLE:
		return out->result = DMARC_RESULT_NONE;
	case TEMPFAIL:
		return out->result = DMARC_RESULT_TEMPERROR;
	case UNUSABLE:
		return out->result = DMARC_RESULT_PERMERROR;
	case FOUND:
		break;
	}
	out->have_record = 1;
	out->policy = at_org && rec->sp >= 0 ? rec->sp : rec->p;
	out->spf_aligned =
	    in->spf_result == SPF_PASS &&
	    dmarc_aligned(ctx->psl, from, in->spf_domain, rec->aspf_strict);
	for (size_t i = 0; i < in->ndkim && !out->dkim_aligned; i++) {
		if (in->dkim[i].result == DMARC_DKIM_PASS &&
		    dmarc_aligned(ctx->psl, from, in->dkim[i].domain,
				  rec->adkim_strict)) {
			out->dkim_aligned = 1;
			out->dkim_domain = in->dkim[i].domain;
		}
	}
	buf_printf(&out->reason, "SPF %s", spf_result_name(in->spf_result));
	if (in->spf_domain && *in->spf_domain)
		buf_printf(&out->reason, " for %s%s", in->spf_domain,
			   in->spf_result != SPF_PASS ? ""
			   : out->spf_aligned	      ? " (aligned)"
						      : " (not aligned)");
	if (out->dkim_aligned)
		buf_printf(&out->reason, ", DKIM pass for %s (aligned)",
			   out->dkim_domain);
	else
		buf_printf(&out->reason,
			   ", no aligned DKIM pass (%zu "
			   "signature%s)",
			   in->ndkim, in->ndkim == 1 ? "" : "s");
	if (out->spf_aligned || out->dkim_aligned)
		return out->result = DMARC_RESULT_PASS;
	out->disposition = out->policy;
	/* 6.6.4: pct= applies the policy to that share of the failing
	 * messages; the rest get the next weaker one. */
	if (out->policy != DMARC_POLICY_NONE && rec->pct < 100 &&
	    sample(in->sample) >= rec->pct) {
		out->sampled_out = 1;
		out->disposition = out->policy - 1;
	}
	return out->result = DMARC_RESULT_FAIL;
}
