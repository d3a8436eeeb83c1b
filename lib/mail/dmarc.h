/*
 * dmarc - Domain-based Message Authentication, Reporting and Conformance
 * (RFC 7489): the policy record, its discovery in DNS, identifier
 * alignment and the verdict for one message.
 *
 * The evaluator does no I/O of its own: DNS goes through an
 * spf_lookup_fn (spf_dns_lookup in smtpd and the CLI, a table in the
 * tests) and organisational domains through lib/mail/psl.  Its input is
 * what the other checks found: the RFC5322.From domain
 * (dmarc_from.c), the SPF result with the domain SPF checked, and the
 * DKIM signatures as (result, d=) pairs, which the DKIM verifier fills.
 *
 *   dmarc_record_parse(): section 6.3/6.4.  A record must start with
 *     "v=DMARC1" (anything else is not a DMARC record and is discarded,
 *     6.6.3); unknown tags are ignored; a bad value of an optional tag
 *     gives the tag's default (6.3 "syntax errors in the remainder of the
 *     record SHOULD be discarded in favor of default values"); a missing
 *     or bad p= (or a bad sp=) makes the record p=none when rua= has a
 *     URI, and unusable otherwise (6.6.3 step 6).  rua, ruf and rf are
 *     kept as text for reports, which Panacea does not send.
 *   dmarc_evaluate(): policy discovery (6.6.3: _dmarc.FROM, then
 *     _dmarc.ORG when FROM is not its own organisational domain; more
 *     than one record, or none, is no policy), alignment (3.1: relaxed
 *     compares organisational domains, strict the names), the result
 *     (pass when SPF or DKIM passes aligned) and the disposition: p= for
 *     the From domain, sp= (else p=) for a subdomain whose record is its
 *     organisational domain's; pct= samples the failing messages the
 *     policy applies to, the others get the next weaker one (6.6.4).
 */
#ifndef PANACEA_DMARC_H
#define PANACEA_DMARC_H

#include <stddef.h>

#include "buf.h"
#include "psl.h"
#include "spf.h"

#define DMARC_RECORD_MAX 4096 /* bytes of one TXT record */
#define DMARC_URI_MAX 1024    /* rua/ruf kept */

enum dmarc_result {
	DMARC_RESULT_NONE,
	DMARC_RESULT_PASS,
	DMARC_RESULT_FAIL,
	DMARC_RESULT_TEMPERROR,
	DMARC_RESULT_PERMERROR,
};

enum dmarc_policy {
	DMARC_POLICY_NONE,
	DMARC_POLICY_QUARANTINE,
	DMARC_POLICY_REJECT,
};

/* "none", "pass", ... as in Authentication-Results (RFC 7489 11.2). */
const char *dmarc_result_name(int result);
/* "none", "quarantine", "reject". */
const char *dmarc_policy_name(int policy);

/* dmarc_record_parse results. */
#define DMARC_REC_OK 0
#define DMARC_REC_NOT_DMARC 1 /* not "v=DMARC1": discarded */
#define DMARC_REC_UNUSABLE 2  /* no valid p= and no rua URI */

struct dmarc_record {
	int p;		  /* enum dmarc_policy */
	int sp;		  /* -1: not given (p applies) */
	int pct;	  /* 0..100, 100 when not given */
	int adkim_strict; /* adkim=s */
	int aspf_strict;  /* aspf=s */
	unsigned long ri; /* report interval, 86400 */
	char fo[16];	  /* failure report options, "0" */
	char rf[64];	  /* report format, "afrf" */
	char rua[DMARC_URI_MAX];
	char ruf[DMARC_URI_MAX];
	int p_defaulted; /* p=none taken for a bad p= (6.6.3 step 6) */
};

/* Parses text (len bytes); DMARC_REC_*; err gets the reason of
 * DMARC_REC_UNUSABLE and notes on values replaced by defaults. */
int dmarc_record_parse(const char *text, size_t len, struct dmarc_record *rec,
		       struct buf *err);

/* One DKIM signature as the verifier saw it.  Only pass counts for
 * DMARC; the others are kept for the log. */
enum dmarc_dkim_result {
	DMARC_DKIM_NONE,
	DMARC_DKIM_PASS,
	DMARC_DKIM_FAIL,
	DMARC_DKIM_NEUTRAL,
	DMARC_DKIM_POLICY,
	DMARC_DKIM_TEMPERROR,
	DMARC_DKIM_PERMERROR,
};

struct dmarc_dkim {
	int result;	    /* enum dmarc_dkim_result */
	const char *domain; /* the signature's d= */
};

struct dmarc_input {
	const char *from_domain; /* the RFC5322.From domain */
	int spf_result;		 /* enum spf_result */
	const char *spf_domain;	 /* the domain SPF checked (MAIL FROM, or
				  * HELO for the null sender); NULL: none */
	const struct dmarc_dkim *dkim;
	size_t ndkim;
	int sample; /* 0..99 for pct=; -1: random */
};

struct dmarc_ctx {
	spf_lookup_fn lookup; /* TXT questions only */
	void *lookup_ctx;
	const struct psl *psl; /* NULL: every name is its own org domain */
};

struct dmarc_outcome {
	int result;	 /* enum dmarc_result */
	int policy;	 /* the policy that applies (p or sp) */
	int disposition; /* what to do, after pct= */
	int sampled_out; /* pct= spared this message a stronger one */
	int have_record;
	int spf_aligned;
	int dkim_aligned;
	char org_domain[PSL_NAME_MAX + 1];
	char policy_domain[PSL_NAME_MAX + 1]; /* where the record was */
	const char *dkim_domain;	      /* the aligned d=, or NULL */
	struct dmarc_record rec;
	struct buf reason; /* for the log and the reply */
};

void dmarc_outcome_init(struct dmarc_outcome *o);
void dmarc_outcome_free(struct dmarc_outcome *o);

/* Identifier alignment of a with the From domain (3.1). */
int dmarc_aligned(const struct psl *psl, const char *from, const char *a,
		  int strict);

/* The verdict; returns out->result. */
int dmarc_evaluate(const struct dmarc_ctx *ctx, const struct dmarc_input *in,
		   struct dmarc_outcome *out);

#endif
