/*
 * smtpd_spf - SPF (RFC 7208) in smtpd: the result of a transaction's
 * identity, asked once per transaction through lib/mail/spf and
 * lib/mail/dns, for the reject_spf_fail restriction and the
 * Received-SPF: header (smtpd_spf_received_header).  DESIGN.md "SPF"
 * says where and why.
 */
#ifndef PANACEA_SMTPD_SPF_H
#define PANACEA_SMTPD_SPF_H

#include "buf.h"

struct smtpd_session;

/* Reads smtpd_spf_received_header and smtpd_spf_time_limit (before
 * the jail). */
void smtpd_spf_init(void);

/* The SPF result (enum spf_result) of the transaction whose sender is
 * sender ("" for the null sender: the HELO identity), evaluated at the
 * first call of the transaction; text gets the reason of a fail
 * (the record's exp= or the default) or of a temperror. */
int smtpd_spf_result(struct smtpd_session *ss, const char *sender,
		     struct buf *text);
/* Appends the Received-SPF: header for the top of an accepted message
 * when smtpd_spf_received_header is on and the client is a network
 * client that did not authenticate. */
void smtpd_spf_header(struct smtpd_session *ss, const char *sender,
		      struct buf *out);
/* The transaction's result when a check ran (a restriction or the
 * header asked for it), with its identity ("mailfrom" or "helo") and
 * address; -1 when none ran (Authentication-Results: says nothing
 * then, rather than start a lookup of its own). */
int smtpd_spf_peek(struct smtpd_session *ss, const char **identity,
		   const char **sender);
/* Forgets the transaction's result (RSET, MAIL, end of data). */
void smtpd_spf_reset(struct smtpd_session *ss);
void smtpd_spf_end(struct smtpd_session *ss);

#endif
