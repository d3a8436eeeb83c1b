/*
 * smtpd_dmarc - DMARC (RFC 7489, lib/mail/dmarc.h) at the end of data,
 * when smtpd_dmarc_enable is set, for network clients that did not
 * authenticate and are not in mynetworks.
 *
 * The From: field is collected as the content goes to the queue
 * (lib/mail/dmarc_from.h: only From: fields are kept), and the verdict
 * is reached once the message is complete, from the transaction's SPF
 * result (smtpd_spf.c, evaluated once and shared with reject_spf_fail
 * and Received-SPF:) and the DKIM results (none yet: see the one spot in
 * smtpd_dmarc.c where the verifier's (result, d=) pairs go in).  Each
 * author domain (several when a message has several From: addresses) is
 * checked and logged ("ID: dmarc: ..."); the strictest disposition is
 * acted on as
 * smtpd_dmarc_reject_action and smtpd_dmarc_quarantine_action say.
 */
#ifndef PANACEA_SMTPD_DMARC_H
#define PANACEA_SMTPD_DMARC_H

#include <stddef.h>

#include "buf.h"
#include "dmarc.h"
#include "queue.h"

struct smtpd_session;
struct smtpd_dmarc;

/* Reads the parameters and the Public Suffix List (before the jail). */
void smtpd_dmarc_init(void);
/* The collector of a new message, or NULL when DMARC is off for it. */
struct smtpd_dmarc *smtpd_dmarc_begin(struct smtpd_session *ss);
/* The content as stored (NULL dm: nothing to do). */
void smtpd_dmarc_feed(struct smtpd_dmarc *dm, const void *data, size_t len);
/* The verdict of a complete message, logged, with the DKIM verifier's
 * (result, d=) pairs when it ran (smtpd_dkim.c calls it before it writes
 * Authentication-Results); once a message, later calls do nothing. */
void smtpd_dmarc_evaluate(struct smtpd_session *ss, struct smtpd_dmarc *dm,
			  const char *id, const struct dmarc_dkim *dkim,
			  size_t ndkim);
/* For Authentication-Results: the result ("pass", "fail", ...) and in
 * *from the author domain, or NULL when there is none to report. */
const char *smtpd_dmarc_result(const struct smtpd_dmarc *dm, const char **from,
			       const char **comment);
/* Whether a quarantine is to be marked in the message (its
 * Authentication-Results: smtpd_dmarc_quarantine_action = header):
 * smtpd then holds the message to the end and writes that field
 * (smtpd_dkim.c). */
int smtpd_dmarc_marks(const struct smtpd_dmarc *dm);
/* What the verdict asks (evaluating it without DKIM when that did not
 * run): 1 when the message is refused (reply holds the 550 and the
 * refusal is logged), 0 to go on (env->hold may have been set). */
int smtpd_dmarc_finish(struct smtpd_session *ss, struct smtpd_dmarc *dm,
		       const char *id, const char *cmd,
		       struct queue_envelope *env, struct buf *reply);
void smtpd_dmarc_free(struct smtpd_dmarc *dm);

#endif
