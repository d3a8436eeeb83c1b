/*
 * smtpd_spf - the SPF result of a transaction, for reject_spf_fail and
 * Received-SPF:; see smtpd_spf.h.
 *
 * The check runs at most once per transaction, at the first restriction
 * or header that wants it, and is kept until the transaction ends: a
 * message with many recipients costs one evaluation, and the header
 * tells what the restriction saw.  The identity is the MAIL FROM address
 * or, for the null sender, postmaster@HELO (RFC 7208 2.4).  The
 * lookups are synchronous through lib/mail/dns (dns_nameservers), so a
 * slow DNS slows this session only, as reject_rbl_client does, and
 * smtpd_spf_time_limit bounds the whole evaluation (RFC 7208 4.6.4);
 * timeouts and server failures are temperror, never a lost message.
 */
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "dns.h"
#include "msg.h"
#include "smtpd.h"
#include "smtpd_spf.h"
#include "spf.h"
#include "spf_dns.h"
#include "xalloc.h"

struct smtpd_spf {
	int done;
	int result;
	const char *identity; /* "mailfrom" or "helo" */
	char *sender;	      /* the identity's address, for the header */
	struct buf key;	      /* MAIL FROM and HELO it was asked for */
	struct spf_outcome o;
};

static int received_header;
static long long time_limit_ms;

void
smtpd_spf_init(void)
{
	received_header = conf_bool("smtpd_spf_received_header");
	time_limit_ms = conf_time("smtpd_spf_time_limit") * 1000;
}

static const char *
domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at ? at + 1 : addr;
}

/* The comment of Received-SPF and the default explanation of a fail
 * (RFC 7208 9.1 and 6.2). */
static void
describe(const struct smtpd_spf *st, const char *ip, struct buf *out)
{
	const char *who = st->sender;

	switch (st->result) {
	case SPF_PASS:
		buf_printf(out,
			   "domain of %s designates %s as permitted sender",
			   who, ip);
		break;
	case SPF_FAIL:
		buf_printf(out,
			   "domain of %s does not designate %s as permitted "
			   "sender",
			   who, ip);
		break;
	case SPF_SOFTFAIL:
		buf_printf(out,
			   "domain of transitioning %s does not designate %s "
			   "as permitted sender",
			   who, ip);
		break;
	case SPF_NEUTRAL:
		buf_printf(out,
			   "%s is neither permitted nor denied by domain "
			   "of %s",
			   ip, who);
		break;
	case SPF_NONE:
		buf_printf(out, "domain of %s does not provide an SPF record",
			   who);
		break;
	case SPF_TEMPERROR:
		buf_printf(out, "error in processing during lookup of %s: %s",
			   domain_of(who), buf_cstr(&st->o.reason));
		break;
	default:
		buf_printf(out,
			   "permanent error in processing domain of %s: %s",
			   domain_of(who), buf_cstr(&st->o.reason));
		break;
	}
}

static struct smtpd_spf *
evaluate(struct smtpd_session *ss, const char *sender)
{
	struct smtpd_spf *st = ss->spf;
	struct spf_query q;
	const char *from = sender ? sender : "";
	struct buf pm = BUF_INIT, key = BUF_INIT;

	if (st == NULL) {
		st = ss->spf = xcalloc(1, sizeof(*st));
		spf_outcome_init(&st->o);
		buf_init(&st->key);
	}
	/* The result belongs to one (sender, HELO): a refused MAIL or a
	 * new HELO without a reset must not reuse it. */
	buf_printf(&key, "%s\n%s", from, ss->helo ? ss->helo : "");
	if (st->done && strcmp(buf_cstr(&key), buf_cstr(&st->key)) == 0) {
		buf_free(&key);
		return st;
	}
	buf_set(&st->key, buf_cstr(&key));
	buf_free(&key);
	memset(&q, 0, sizeof(q));
	q.lookup = spf_dns_lookup;
	q.helo = ss->helo ? ss->helo : "";
	q.rcpt_domain = smtpd_cfg.myhostname;
	q.time_limit_ms = time_limit_ms;
	if (spf_ip_parse(ss->client_addr, &q.ip) < 0) {
		/* No address (a local client): nothing to check. */
		st->result = SPF_NONE;
		st->identity = "mailfrom";
		buf_set(&st->o.reason, "no client address");
	} else if (!dns_is_ready()) {
		st->result = SPF_TEMPERROR;
		st->identity = "mailfrom";
		buf_set(&st->o.reason, "no DNS resolver");
	} else {
		st->result =
		    spf_check_mailfrom(&q, from, &st->o, &st->identity);
	}
	xfree(st->sender);
	if (from[0])
		st->sender = xstrdup(from);
	else {
		buf_printf(&pm, "postmaster@%s", q.helo);
		st->sender = buf_steal(&pm);
	}
	st->done = 1;
	msg_debug("spf: %s identity=%s sender=%s client=%s: %s (%s)",
		  spf_result_name(st->result), st->identity, st->sender,
		  ss->client_addr, buf_cstr(&st->o.reason), st->o.mechanism);
	return st;
}

int
smtpd_spf_result(struct smtpd_session *ss, const char *sender, struct buf *text)
{
	struct smtpd_spf *st = evaluate(ss, sender);

	buf_reset(text);
	if (st->result == SPF_FAIL && st->o.exp.len > 0)
		buf_puts(text, buf_cstr(&st->o.exp));
	else
		describe(st, ss->client_addr, text);
	return st->result;
}

/* A quoted-string of RFC 5322 (values of the key-value list). */
static void
quoted(struct buf *out, const char *s)
{
	buf_putc(out, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			buf_putc(out, '\\');
		buf_putc(out, c >= ' ' && c < 127 ? c : '?');
	}
	buf_putc(out, '"');
}

void
smtpd_spf_header(struct smtpd_session *ss, const char *sender, struct buf *out)
{
	struct smtpd_spf *st;
	struct buf comment = BUF_INIT;

	if (!received_header || ss->local_uid >= 0 || ss->auth_user != NULL)
		return;
	st = evaluate(ss, sender);
	describe(st, ss->client_addr, &comment);
	buf_printf(out, "Received-SPF: %s (%s: ", spf_result_name(st->result),
		   smtpd_cfg.myhostname);
	/* A comment may not hold unbalanced parentheses. */
	for (const char *p = buf_cstr(&comment); *p; p++)
		buf_putc(out, *p == '(' || *p == ')'		     ? ' '
			      : (unsigned char)*p < ' ' || *p == 127 ? '?'
								     : *p);
	buf_printf(out, ")\r\n\tclient-ip=%s; envelope-from=", ss->client_addr);
	quoted(out, sender ? sender : "");
	buf_puts(out, "; helo=");
	quoted(out, ss->helo ? ss->helo : "");
	buf_printf(out, ";\r\n\treceiver=%s; identity=%s;",
		   smtpd_cfg.myhostname, st->identity);
	if (st->o.mechanism[0]) {
		buf_puts(out, " mechanism=");
		quoted(out, st->o.mechanism);
		buf_putc(out, ';');
	}
	if (st->result == SPF_TEMPERROR || st->result == SPF_PERMERROR) {
		buf_puts(out, "\r\n\tproblem=");
		quoted(out, buf_cstr(&st->o.reason));
		buf_putc(out, ';');
	}
	buf_puts(out, "\r\n");
	buf_free(&comment);
}

int
smtpd_spf_peek(struct smtpd_session *ss, const char **identity,
	       const char **sender)
{
	if (ss->spf == NULL || !ss->spf->done)
		return -1;
	*identity = ss->spf->identity;
	*sender = ss->spf->sender;
	return ss->spf->result;
}

void
smtpd_spf_reset(struct smtpd_session *ss)
{
	if (ss->spf)
		ss->spf->done = 0;
}

void
smtpd_spf_end(struct smtpd_session *ss)
{
	if (ss->spf == NULL)
		return;
	spf_outcome_free(&ss->spf->o);
	buf_free(&ss->spf->key);
	xfree(ss->spf->sender);
	xfree(ss->spf);
	ss->spf = NULL;
}
