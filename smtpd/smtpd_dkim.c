/*
 * smtpd_dkim - DKIM signing and verification, and
 * Authentication-Results:, at the end of DATA; see smtpd_dkim.h.
 *
 * Both need the whole message: a signature goes on top but covers the
 * body, and a verdict goes in a header written above a body that must
 * be hashed first.  The queue takes content as it arrives, so a
 * message that gets either is held in memory (bounded by
 * message_size_limit) and written at the end, after the header and
 * body checks and the address rewriting: what is signed is what is
 * queued.
 *
 * Whom we sign for: SASL-authenticated clients, mynetworks and local
 * submission (sendmail through the submit service); everyone else's
 * mail is verified instead (when smtpd_dkim_verify is on).  A message
 * is signed once: not when it goes to a content filter (the smtpd the
 * filter gives it back to signs it), and not when it already carries a
 * signature of the same domain and selector (reinjection).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth_results.h"
#include "conf.h"
#include "dkim.h"
#include "dkim_dns.h"
#include "dkim_keys.h"
#include "msg.h"
#include "smtpd.h"
#include "smtpd_dkim.h"
#include "smtpd_dmarc.h"
#include "smtpd_spf.h"
#include "spf.h"
#include "xalloc.h"

static struct dkim_keys *keys;
static int verify, ar_header;
static long long sig_limit, time_limit_ms;
static const char *authserv_id;

void
smtpd_dkim_init(void)
{
	const char *kt = conf_str("dkim_key_table");
	const char *st = conf_str("dkim_signing_table");
	struct buf err = BUF_INIT;

	verify = conf_bool("smtpd_dkim_verify");
	ar_header = conf_bool("smtpd_authentication_results") || verify;
	sig_limit = conf_int("dkim_signature_limit");
	time_limit_ms = conf_time("smtpd_dkim_time_limit") * 1000;
	authserv_id = conf_str("authserv_id");
	if (*kt == '\0' || *st == '\0')
		return;
	keys = dkim_keys_load(kt, st, &err);
	if (keys == NULL)
		msg_fatal("dkim_signing_table: %s", buf_cstr(&err));
	buf_free(&err);
}

static int
signs_for(const struct smtpd_session *ss)
{
	return ss->auth_user != NULL || ss->trusted || ss->local_uid >= 0;
}

static long long
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The key lookup, within smtpd_dkim_time_limit for the whole message:
 * a lookup that would start later is a temperror, so that a message
 * with several signatures of slow domains cannot hold the session for
 * the sum of their timeouts. */
static int
bounded_lookup(void *ctx, const char *name, struct buf *txt)
{
	const long long *deadline = ctx;

	if (monotonic_ms() >= *deadline)
		return DKIM_DNS_ERROR;
	return dkim_dns_lookup(NULL, name, txt);
}

int
smtpd_dkim_hold(const struct smtpd_session *ss)
{
	if (signs_for(ss))
		return keys != NULL || ar_header;
	return verify || ar_header;
}

/* A verdict as DMARC counts it (lib/mail/dmarc.h). */
static int
dmarc_dkim_of(int result)
{
	switch (result) {
	case DKIM_PASS:
		return DMARC_DKIM_PASS;
	case DKIM_FAIL:
		return DMARC_DKIM_FAIL;
	case DKIM_NEUTRAL:
		return DMARC_DKIM_NEUTRAL;
	case DKIM_POLICY:
		return DMARC_DKIM_POLICY;
	case DKIM_TEMPERROR:
		return DMARC_DKIM_TEMPERROR;
	case DKIM_PERMERROR:
		return DMARC_DKIM_PERMERROR;
	default:
		return DMARC_DKIM_NONE;
	}
}

void
smtpd_dkim_apply(struct smtpd_session *ss, const char *id, int to_filter,
		 struct smtpd_dmarc *dm, struct buf *msg)
{
	struct dmarc_dkim pairs[64];
	struct dkim_verdict v[64];
	struct auth_results_in ar = {.authserv_id = authserv_id};
	struct buf top = BUF_INIT, rest = BUF_INIT;
	size_t nv = 0, seen = 0, removed = 0, i;
	const char *identity, *sender;
	int own = signs_for(ss), spf;
	/* Our Authentication-Results: asked for, or the mark of a DMARC
	 * quarantine (smtpd_dmarc_quarantine_action = header). */
	int write_ar = ar_header || smtpd_dmarc_marks(dm);

	/* The queue drops NUL octets (queue.h): so must what is signed
	 * and verified, or the stored copy would not match. */
	if (msg->len > 0 && memchr(msg->data, '\0', msg->len) != NULL) {
		size_t k = 0;

		for (i = 0; i < msg->len; i++)
			if (msg->data[i] != '\0')
				msg->data[k++] = msg->data[i];
		msg_info("%s: %zu NUL octet%s removed from the content", id,
			 msg->len - k, msg->len - k == 1 ? "" : "s");
		buf_truncate(msg, k);
	}
	if (write_ar) {
		removed = auth_results_strip(msg->data ? msg->data : "",
					     msg->len, authserv_id, &rest);
		if (removed > 0)
			msg_info("%s: removed %zu Authentication-Results "
				 "field%s claiming %s",
				 id, removed, removed == 1 ? "" : "s",
				 authserv_id);
	} else {
		buf_append(&rest, msg->data, msg->len);
	}
	if (verify && !own) {
		long long deadline = monotonic_ms() + time_limit_ms;

		nv = dkim_verify(rest.data ? rest.data : "", rest.len,
				 bounded_lookup, &deadline,
				 (long long)time(NULL), (size_t)sig_limit, v,
				 sizeof(v) / sizeof(v[0]), &seen);
		for (i = 0; i < nv; i++)
			msg_info("%s: DKIM d=%s s=%s: %s%s%s", id, v[i].d,
				 v[i].s, dkim_result_name(v[i].result),
				 *v[i].reason ? ": " : "", v[i].reason);
		if (seen > nv)
			msg_info("%s: DKIM: %zu signatures past "
				 "dkim_signature_limit ignored",
				 id, seen - nv);
		ar.dkim_checked = 1;
		ar.dkim = v;
		ar.ndkim = nv;
	}
	/* DMARC with the verdicts, before the header that reports it
	 * (RFC 7489 4.2: a DKIM pass counts for an aligned d=). */
	if (dm != NULL) {
		for (i = 0; i < nv; i++)
			pairs[i] = (struct dmarc_dkim){
			    dmarc_dkim_of(v[i].result), v[i].d};
		smtpd_dmarc_feed(dm, rest.data, rest.len);
		smtpd_dmarc_evaluate(ss, dm, id, pairs, nv);
	}
	if (write_ar) {
		ar.auth_user = ss->auth_user;
		if ((spf = smtpd_spf_peek(ss, &identity, &sender)) >= 0) {
			ar.spf = spf_result_name(spf);
			ar.spf_identity = identity;
			ar.spf_value = sender;
		}
		ar.dmarc =
		    smtpd_dmarc_result(dm, &ar.dmarc_from, &ar.dmarc_comment);
		auth_results_build(&ar, &top);
	}
	if (own && keys != NULL && !to_filter)
		dkim_keys_sign(keys, rest.data ? rest.data : "", rest.len,
			       ss->env.sender, id, &top);
	buf_reset(msg);
	buf_append(msg, top.data, top.len);
	buf_append(msg, rest.data, rest.len);
	buf_free(&top);
	buf_free(&rest);
}
