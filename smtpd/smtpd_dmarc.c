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

enum action { ACT_REJECT, ACT_HOLD, ACT_REPORT };

static int enabled;
static enum action reject_action, quarantine_action;
static struct psl *psl;

struct smtpd_dmarc {
	struct dmarc_from from;
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
	msg_fatal("%s = %s: expected %s", name, value,
		  may_reject ? "reject, hold or report" : "hold or report");
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
	/* DKIM: the verifier's (result, d=) pairs go here, one struct
	 * dmarc_dkim per signature, in.dkim and in.ndkim.  Until then only
	 * an aligned SPF pass can pass DMARC. */
	in.dkim = NULL;
	in.ndkim = 0;
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
	buf_reset(text);
	buf_printf(text, "DMARC policy of %s is %s: %s", o.policy_domain,
		   dmarc_policy_name(disposition), buf_cstr(&o.reason));
	buf_free(&spf);
	dmarc_outcome_free(&o);
	return disposition;
}

int
smtpd_dmarc_finish(struct smtpd_session *ss, struct smtpd_dmarc *dm,
		   const char *id, const char *cmd, struct queue_envelope *env,
		   struct buf *reply)
{
	struct dmarc_author au;
	const char *why, *worst_domain = NULL;
	struct buf text = BUF_INIT, worst_text = BUF_INIT;
	enum action act = ACT_REPORT;
	int r, worst = -1, refused = 0;

	if (dm == NULL)
		return 0;
	r = dmarc_from_result(&dm->from, &au, &why);
	if (r == DMARC_FROM_NONE || r == DMARC_FROM_BAD) {
		msg_info("%s: dmarc: %s (%s)", id,
			 r == DMARC_FROM_NONE ? "none" : "permerror", why);
		return 0;
	}
	if (*why)
		msg_info("%s: dmarc: %s: checking %zu domain%s", id, why, au.n,
			 au.n == 1 ? "" : "s");
	/* RFC 7489 6.6.1: every author domain is checked, the strictest
	 * policy applies. */
	for (size_t i = 0; i < au.n; i++) {
		int d = evaluate(ss, id, au.domain[i], &text);

		if (d > worst) {
			worst = d;
			worst_domain = au.domain[i];
			buf_set(&worst_text, buf_cstr(&text));
		}
	}
	if (worst == DMARC_POLICY_REJECT)
		act = reject_action;
	else if (worst == DMARC_POLICY_QUARANTINE)
		act = quarantine_action;
	if (act == ACT_REJECT) {
		buf_reset(reply);
		buf_printf(reply, "550 5.7.1 <%s>: Message rejected: %s",
			   worst_domain, buf_cstr(&worst_text));
		/* Domains may be UTF-8 (SMTPUTF8 mail): a reply to a client
		 * that did not ask for it stays ASCII. */
		for (size_t i = 0; !ss->smtputf8 && i < reply->len; i++)
			if ((unsigned char)reply->data[i] >= 0x80)
				reply->data[i] = '?';
		smtpd_log_reject(ss, id, cmd, buf_cstr(reply), NULL);
		refused = 1;
	} else if (act == ACT_HOLD) {
		/* The queue's hold state, as header_checks' HOLD: an
		 * administrator releases it with pansuper -H or deletes it. */
		env->hold = 1;
		smtpd_log_action(ss, id, "hold", cmd, buf_cstr(&worst_text),
				 NULL);
	}
	buf_free(&text);
	buf_free(&worst_text);
	return refused;
}
