/*
 * smtpd_dkim - DKIM in smtpd: signing the mail of the clients we sign
 * for, verifying the others', and the one Authentication-Results:
 * header (RFC 8601) of a message.  DESIGN.md "DKIM" says where and why.
 */
#ifndef PANACEA_SMTPD_DKIM_H
#define PANACEA_SMTPD_DKIM_H

#include "buf.h"

struct smtpd_session;

/* Reads the parameters and loads the signing keys (before the jail and
 * the drop of privileges: the keys may be root's alone).  A table or
 * key that cannot be loaded is fatal, as a bad TLS key is. */
void smtpd_dkim_init(void);

/* 1 when the message of this transaction must be held until its end
 * (it will be signed, verified or get an Authentication-Results). */
int smtpd_dkim_hold(const struct smtpd_session *ss);

/* Rewrites the complete message in msg (as it will be queued):
 * removes Authentication-Results fields with our authserv-id, verifies,
 * has DMARC evaluated with the verdicts (dm, smtpd_dmarc.h; NULL: DMARC
 * is off for this message), adds our Authentication-Results, and signs
 * (unless to_filter: a content filter will return the message, and it
 * is signed then).  id is for the log. */
struct smtpd_dmarc;
void smtpd_dkim_apply(struct smtpd_session *ss, const char *id, int to_filter,
		      struct smtpd_dmarc *dm, struct buf *msg);

#endif
