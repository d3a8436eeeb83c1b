/*
 * smtpd_milter - smtpd_milters (network clients) and non_smtpd_milters
 * (local submission through the submit service) in smtpd: each SMTP
 * stage asks the filters (lib/mail/milter.h), and their end-of-message
 * modifications are applied to the message before it is queued.
 * DESIGN.md "Milters" says who talks to the filters and what a filter
 * that hangs or dies does.
 */
#ifndef PANACEA_SMTPD_MILTER_H
#define PANACEA_SMTPD_MILTER_H

#include "buf.h"
#include "queue.h"
#include "smtp_cmd.h"

struct smtpd_session;

/* Reads the milter parameters (before the jail); a bad one stops smtpd. */
void smtpd_milter_init(void);
/* The session's filters and their connect event, before the greeting. */
void smtpd_milter_connect(struct smtpd_session *ss);
/* The reply to every command but QUIT, NOOP and RSET after a filter
 * refused the connection or failed with milter_default_action reject or
 * tempfail, or NULL. */
const char *smtpd_milter_denied(struct smtpd_session *ss);
/* Each stage: 1 with reply set when a filter refuses it. */
int smtpd_milter_helo(struct smtpd_session *ss, struct buf *reply);
int smtpd_milter_mail(struct smtpd_session *ss, const struct smtp_cmd *cmd,
		      struct buf *reply);
int smtpd_milter_rcpt(struct smtpd_session *ss, const struct smtp_cmd *cmd,
		      struct buf *reply);
int smtpd_milter_data(struct smtpd_session *ss, struct buf *reply);
/* An unknown command (its line as received): 1 (refused, logged) with
 * the filter's reply, or 0 for smtpd's own. */
int smtpd_milter_unknown(struct smtpd_session *ss, const char *line,
			 struct buf *reply);
/* 1 when this transaction's content goes to filters (smtpd_data.c then
 * holds it until their end of message). */
int smtpd_milter_active(struct smtpd_session *ss);

enum smtpd_milter_eom {
	SMTPD_MILTER_ACCEPT,
	SMTPD_MILTER_REJECT, /* reply set, logged */
	SMTPD_MILTER_DISCARD /* logged */
};
/* The message to the filters; content (as it would be queued) is
 * replaced by what they made of it. */
enum smtpd_milter_eom smtpd_milter_message(struct smtpd_session *ss,
					   const char *queue_id,
					   const char *cmd, struct buf *content,
					   struct buf *reply);
/* The filters' envelope changes and quarantine, into the envelope to
 * commit (after smtpd_milter_message accepted). */
void smtpd_milter_envelope(struct smtpd_session *ss, const char *queue_id,
			   struct queue_envelope *env);
/* The transaction ended (RSET, end of data, a new MAIL). */
void smtpd_milter_reset(struct smtpd_session *ss);
void smtpd_milter_end(struct smtpd_session *ss);

#endif
