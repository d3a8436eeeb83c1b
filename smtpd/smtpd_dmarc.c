/*
 * smtpd_dmarc - DMARC at the end of data; see smtpd_dmarc.h.
 *
 * A DNS failure or a broken record is temperror or permerror: logged,
 * and the message goes on (RFC 7489 leaves both to local policy; a lost
 * or bounced message would be worse than an unchecked one).
 */
#include <string.h>

#include "conf.h"
#include "dmarc.h"
#include "dmarc_from.h"
#include "dns.h"
#include "msg.h"
#include "smtpd.h"
#include "smtpd_dmarc.h"
#include "smtpd_spf.h"
#include "spf_dns.h"
#include "xalloc.h"

enum action { ACT_REJECT, ACT_HOLD, ACT_HEADER, ACT_REPORT };

static int enabled;
static enum action reject_action, quarantine_action;
static struct psl *psl;

struct smtpd_dmarc {
	struct dmarc_from from;
	int evaluated;
	char comment[64];   /* "p=P dis=D" of a failure, for the header */
	int worst;	    /* the strictest disposition, -1: none yet */
	char *worst_domain; /* its author domain */
	struct buf worst_text;
	int ar_result; /* for Authentication-Results: -1 none */
	char *ar_from; /* its header.from */
};

static enum action
action(const char *name, const char *value, int may_reject)
{
	if (may_reject && strcmp(value, "reject") == 0)
		return ACT_REJECT;
	if (strcmp(value, "hold") == 0)
		return ACT_HOLD;
	if (strcmp(value, "report") == 0)
		return ACT_REPORT;
	if (!may_reject && strcmp(value, "header") == 0)
		return ACT_HEADER;
	msg_fatal("%s = %s: expected %s", name, value,
		  may_reject ? "reject, hold or report"
			     : "hold, header or report");
	return ACT_REPORT;
}

void
smtpd_dmarc_init(void)
{
	struct buf err = BUF_INIT;
	const char *path;

	enabled = conf_bool("smtpd_dmarc_enable");
	reject_action = action("smtpd_dmarc_reject_action",
			       conf_str("smtpd_dmarc_reject_action"), 1);
	quarantine_action =
	    action("smtpd_dmarc_quarantine_action",
		   conf_str("smtpd_dmarc_quarantine_action"), 0);
	if (!enabled || psl != NULL)
		return;
	path = conf_str("smtpd_dmarc_public_suffix_list");
	/* Without the list every name is its own organisational domain:
	 * relaxed alignment is then strict, and no subdomain finds its
	 * parent's policy; worth a warning, not a stop. */
	if (*path && (psl = psl_load(path, &err)) == NULL)
		msg_warn("DMARC: public suffix list: %s; organisational "
			 "domains are unknown",
			 buf_cstr(&err));
	buf_free(&err);
}

struct smtpd_dmarc *
smtpd_dmarc_begin(struct smtpd_session *ss)
{
	struct smtpd_dmarc *dm;

	/* Our own users' mail is not an outside domain's claim: local
	 * submission, SASL clients and mynetworks (the ones DKIM signing
	 * serves) are not checked, as OpenDMARC's IgnoreHosts is set. */
	if (!enabled || ss->local_uid >= 0 || ss->auth_user != NULL ||
	    smtpd_client_listed("mynetworks", smtpd_cfg.mynetworks,
				ss->client_name, ss->client_addr))
		return NULL;
	dm = xcalloc(1, sizeof(*dm));
	dmarc_from_init(&dm->from);
	dm->worst = -1;
	dm->ar_result = -1;
	buf_init(&dm->worst_text);
	return dm;
}

void
smtpd_dmarc_feed(struct smtpd_dmarc *dm, const void *data, size_t len)
{
	if (dm)
		dmarc_from_feed(&dm->from, data, len);
}

void
smtpd_dmarc_free(struct smtpd_dmarc *dm)
{
	if (dm == NULL)
		return;
	dmarc_from_free(&dm->from);
	xfree(dm->worst_domain);
	xfree(dm->ar_from);
	buf_free(&dm->worst_text);
	xfree(dm);
}

/* The domain SPF checked: MAIL FROM's, or the HELO name's for the null
 * sender (RFC 7208 2.4, as smtpd_spf.c asks). */
static const char *
spf_domain(struct smtpd_session *ss)
{
	const char *s = ss->env.sender, *at;

	if (s && *s && (at = strrchr(s, '@')) != NULL)
		return at + 1;
	return ss->helo ? ss->helo : "";
}

/* The verdict for one author domain, logged; its disposition (policy
 * none when it does not fail), and the text for a reply. */
static int
evaluate(struct smtpd_session *ss, const char *id, const char *domain,
	 const struct dmarc_dkim *dkim, size_t ndkim, int *result,
	 struct buf *text)
{
	struct dmarc_ctx ctx = {spf_dns_lookup, NULL, psl};
	struct dmarc_input in;
	struct dmarc_outcome o;
	struct buf spf = BUF_INIT;
	int disposition;

	memset(&in, 0, sizeof(in));
	in.from_domain = domain;
	in.spf_result = smtpd_spf_result(ss, ss->env.sender, &spf);
	in.spf_domain = spf_domain(ss);
	/* DKIM: the verifier's (result, d=) pairs (smtpd_dkim.c), none
	 * when it did not run: then only an aligned SPF pass passes. */
	in.dkim = dkim;
	in.ndkim = ndkim;
	in.sample = -1;
	dmarc_outcome_init(&o);
	if (!dns_is_ready()) {
		o.result = DMARC_RESULT_TEMPERROR;
		buf_set(&o.reason, "no DNS resolver");
	} else
		dmarc_evaluate(&ctx, &in, &o);
	msg_info("%s: dmarc: %s header.from=%s%s%s%s%s%s%s: %s", id,
		 dmarc_result_name(o.result), domain,
		 o.have_record ? " policy.domain=" : "",
		 o.have_record ? o.policy_domain : "",
		 o.have_record ? " p=" : "",
		 o.have_record ? dmarc_policy_name(o.policy) : "",
		 o.result == DMARC_RESULT_FAIL ? " disposition=" : "",
		 o.result == DMARC_RESULT_FAIL
		     ? (o.sampled_out ? (o.disposition == DMARC_POLICY_NONE
					     ? "none (pct)"
					     : "quarantine (pct)")
				      : dmarc_policy_name(o.disposition))
		     : "",
		 buf_cstr(&o.reason));
	disposition =
	    o.result == DMARC_RESULT_FAIL ? o.disposition : DMARC_POLICY_NONE;
	*result = o.result;
	buf_reset(text);
	buf_printf(text, "DMARC policy of %s is %s: %s", o.policy_domain,
		   dmarc_policy_name(disposition), buf_cstr(&o.reason));
	buf_free(&spf);
	dmarc_outcome_free(&o);
	return disposition;
}

void
smtpd_dmarc_evaluate(struct smtpd_session *ss, struct smtpd_dmarc *dm,
		     const char *id, const struct dmarc_dkim *dkim,
		     size_t ndkim)
{
	struct dmarc_author au;
	const char *why;
	struct buf text = BUF_INIT;
	int r, d, result;

	if (dm == NULL || dm->evaluated)
		return;
	dm->evaluated = 1;
	r = dmarc_from_result(&dm->from, &au, &why);
	if (r == DMARC_FROM_NONE || r == DMARC_FROM_BAD) {
		msg_info("%s: dmarc: %s (%s)", id,
			 r == DMARC_FROM_NONE ? "none" : "permerror", why);
		return;
	}
	if (*why)
		msg_info("%s: dmarc: %s: checking %zu domain%s", id, why, au.n,
			 au.n == 1 ? "" : "s");
	/* RFC 7489 6.6.1: every author domain is checked, the strictest
	 * policy applies; Authentication-Results reports that domain (the
	 * first when none fails). */
	for (size_t i = 0; i < au.n; i++) {
		d = evaluate(ss, id, au.domain[i], dkim, ndkim, &result, &text);
		if (d > dm->worst ||
		    (result == DMARC_RESULT_FAIL &&
		     dm->ar_result != DMARC_RESULT_FAIL && d == dm->worst)) {
			dm->worst = d;
			xfree(dm->worst_domain);
			dm->worst_domain = xstrdup(au.domain[i]);
			buf_set(&dm->worst_text, buf_cstr(&text));
			dm->ar_result = result;
			xfree(dm->ar_from);
			dm->ar_from = xstrdup(au.domain[i]);
			/* OpenDMARC's comment, which filters (sieve) read. */
			if (result == DMARC_RESULT_FAIL)
				snprintf(dm->comment, sizeof(dm->comment),
					 "p=%s dis=%s", dmarc_policy_name(d),
					 dmarc_policy_name(d));
		}
	}
	buf_free(&text);
}

const char *
smtpd_dmarc_result(const struct smtpd_dmarc *dm, const char **from,
		   const char **comment)
{
	if (dm == NULL || dm->ar_result < 0)
		return NULL;
	*from = dm->ar_from;
	*comment = dm->comment;
	return dmarc_result_name(dm->ar_result);
}

int
smtpd_dmarc_marks(const struct smtpd_dmarc *dm)
{
	return dm != NULL && quarantine_action == ACT_HEADER;
}

int
smtpd_dmarc_finish(struct smtpd_session *ss, struct smtpd_dmarc *dm,
		   const char *id, const char *cmd, struct queue_envelope *env,
		   struct buf *reply)
{
	enum action act = ACT_REPORT;

	if (dm == NULL)
		return 0;
	smtpd_dmarc_evaluate(ss, dm, id, NULL, 0);
	if (dm->worst == DMARC_POLICY_REJECT)
		act = reject_action;
	else if (dm->worst == DMARC_POLICY_QUARANTINE)
		act = quarantine_action;
	if (act == ACT_REJECT) {
		buf_reset(reply);
		buf_printf(reply, "550 5.7.1 <%s>: Message rejected: %s",
			   dm->worst_domain, buf_cstr(&dm->worst_text));
		/* Domains may be UTF-8 (SMTPUTF8 mail): a reply to a client
		 * that did not ask for it stays ASCII. */
		for (size_t i = 0; !ss->smtputf8 && i < reply->len; i++)
			if ((unsigned char)reply->data[i] >= 0x80)
				reply->data[i] = '?';
		smtpd_log_reject(ss, id, cmd, buf_cstr(reply), NULL);
		return 1;
	}
	if (act == ACT_HEADER) {
		/* Accepted; Authentication-Results says dmarc=fail with
		 * "(p=quarantine dis=quarantine)" for the mailbox's filters. */
		msg_info("%s: dmarc: quarantine: marked in "
			 "Authentication-Results",
			 id);
	} else if (act == ACT_HOLD) {
		/* The queue's hold state, as header_checks' HOLD: an
		 * administrator releases it with pansuper -H or deletes it. */
		env->hold = 1;
		smtpd_log_action(ss, id, "hold", cmd, buf_cstr(&dm->worst_text),
				 NULL);
	}
	return 0;
}
