/*
 * smtpd_restrict - Postfix's SMTP access policy (postconf(5),
 * SMTPD_ACCESS_README, access(5)): the restriction lists of each stage,
 * restriction classes, access tables and their actions.
 *
 * Parsed once before the jail (smtpd_restrict_init): an unknown
 * restriction, a missing table argument, a class that is not defined or a
 * table that cannot be opened stops smtpd with "PARAM: message".  The
 * session calls one hook per SMTP stage; each evaluates, logs its
 * decision in Postfix's shape and returns the reply to send, if any.
 * DESIGN.md "smtpd access policy" gives the order and what is missing.
 */
#ifndef PANACEA_SMTPD_RESTRICT_H
#define PANACEA_SMTPD_RESTRICT_H

#include "addr.h"
#include "buf.h"
#include "queue.h"

struct smtpd_session;

/* The parameters, read with conf_* (the unit tests load a text); fatal
 * on any error. */
void smtpd_restrict_init(void);
void smtpd_restrict_end(void);
/* The first table of the access policy whose file changed since
 * smtpd_restrict_init() opened it, or NULL (smtpd's pre_accept). */
const char *smtpd_restrict_changed(void);
/* Parses a restriction list as smtpd_restrict_init() does (with the
 * classes it loaded): 0, or -1 with the message in err. */
int smtpd_restrict_check(const char *value, struct buf *err);

/* One access(5) table result, parsed (a pure function, for tests). */
enum smtpd_access_kind {
	SMTPD_ACCESS_OK,
	SMTPD_ACCESS_DUNNO,
	SMTPD_ACCESS_REJECT,
	SMTPD_ACCESS_DEFER,
	SMTPD_ACCESS_CODE, /* "4NN text" or "5NN text" */
	SMTPD_ACCESS_DEFER_IF_REJECT,
	SMTPD_ACCESS_DEFER_IF_PERMIT,
	SMTPD_ACCESS_HOLD,
	SMTPD_ACCESS_DISCARD,
	SMTPD_ACCESS_FILTER,
	SMTPD_ACCESS_REDIRECT,
	SMTPD_ACCESS_BCC,
	SMTPD_ACCESS_PREPEND,
	SMTPD_ACCESS_WARN,
	SMTPD_ACCESS_INFO,
	SMTPD_ACCESS_RESTRICTIONS, /* anything else: a restriction list */
};

struct smtpd_access_action {
	enum smtpd_access_kind kind;
	int code;	  /* SMTPD_ACCESS_CODE */
	const char *text; /* the rest of the value ("" when none) */
};

void smtpd_access_parse(const char *value, struct smtpd_access_action *a);

/* The hooks.  Each returns 0 to go on, or 1 with the reply (already
 * logged) in reply.  A reply of 421 or 521 ends the session. */
int smtpd_restrict_connect(struct smtpd_session *ss, struct buf *reply);
int smtpd_restrict_helo(struct smtpd_session *ss, struct buf *reply);
/* MAIL: keeps the sender for the later stages. */
int smtpd_restrict_mail(struct smtpd_session *ss, const struct addr *sender,
			struct buf *reply);
/* The sender of MAIL for the log ("from=<...>"), or NULL. */
const char *smtpd_restrict_sender(const struct smtpd_session *ss);
int smtpd_restrict_rcpt(struct smtpd_session *ss, const struct addr *rcpt,
			struct buf *reply);
int smtpd_restrict_data(struct smtpd_session *ss, struct buf *reply);
/* ETRN: the client and HELO lists (smtpd_delay_reject), then
 * smtpd_etrn_restrictions, whose check_etrn_access looks up site. */
int smtpd_restrict_etrn(struct smtpd_session *ss, const char *site,
			struct buf *reply);
/* RFC 1035 host name syntax, or an address literal "[...]". */
int smtpd_hostname_valid(const char *name);
/* A reply the session gives to every command but QUIT, NOOP and RSET
 * after a refused client at connect (smtpd_delay_reject = no), or NULL. */
const char *smtpd_restrict_denied(const struct smtpd_session *ss);

/* End of data, before the commit: the data restrictions again for BDAT
 * (which has no DATA command), the end-of-data restrictions, then the
 * actions of the transaction (HOLD, DISCARD, REDIRECT, BCC) applied to
 * env and logged with the queue id. */
enum smtpd_eod_result { SMTPD_EOD_ACCEPT, SMTPD_EOD_REJECT, SMTPD_EOD_DISCARD };
enum smtpd_eod_result smtpd_restrict_eod(struct smtpd_session *ss,
					 const char *id, const char *cmd,
					 struct queue_envelope *env,
					 struct buf *reply);
/* The PREPEND headers of the transaction, for the top of the message. */
void smtpd_restrict_prepend(struct smtpd_session *ss, struct buf *out);
/* Forgets the transaction's actions (RSET, MAIL ... end of data). */
void smtpd_restrict_reset(struct smtpd_session *ss);
void smtpd_restrict_session_end(struct smtpd_session *ss);
/* smtpd_reject_footer for a 4xx/5xx reply, or NULL. */
const char *smtpd_restrict_footer(void);

#endif
