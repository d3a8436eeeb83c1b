/*
 * milter - the MTA side of Sendmail's mail filter protocol (version 6 by
 * default, as Postfix speaks it): a list of filters for one SMTP session
 * (smtpd_milters, non_smtpd_milters), each on an inet:host:port or
 * unix:/path socket, asked in order at each stage.
 *
 * Every call is bounded: connecting and negotiating by
 * milter_connect_timeout, each command's reply by milter_command_timeout,
 * each header, body chunk and end of message by milter_content_timeout
 * (a progress reply starts the wait again).  A filter that cannot be
 * reached, times out, closes, or breaks the protocol is dropped for the
 * session and milter_default_action decides in its stead: accept (as if
 * it were not there), reject or tempfail (every later command of the
 * session, with 550 5.7.1 or 451 4.7.1), quarantine (accept, and hold
 * every message).  Nothing waits forever and nothing is lost.
 *
 * Content modifications are applied to the message between filters, so
 * each filter sees its predecessors' changes (as in Postfix); envelope
 * changes are collected for the caller, who owns the envelope.
 */
#ifndef PANACEA_MILTER_H
#define PANACEA_MILTER_H

#include <stddef.h>

#include "buf.h"
#include "milter_proto.h"

enum milter_default {
	MILTER_DEF_ACCEPT,
	MILTER_DEF_REJECT,
	MILTER_DEF_TEMPFAIL,
	MILTER_DEF_QUARANTINE
};

struct milter_conf {
	int connect_timeout_ms, command_timeout_ms, content_timeout_ms;
	unsigned version;    /* 2, 3, 4 or 6 (milter_protocol) */
	int no_header_reply; /* milter_protocol's no_header_reply */
	enum milter_default default_action;
	/* The macro names to send at each stage (milter_*_macros), blank-
	 * or comma-separated; a filter's OPTNEG may ask for others (but for
	 * MILTER_M_UNKNOWN, which the protocol's lists do not name). */
	const char *macros[MILTER_M_MAX + 1];
};

/* The stage of an unknown SMTP command: ours, past the protocol's
 * MILTER_M_* (a filter's OPTNEG cannot set its macros). */
#define MILTER_M_UNKNOWN MILTER_M_MAX

/* Reads milter_protocol, milter_default_action, the timeouts and the
 * macro lists; 0, or -1 with err for a bad value. */
int milter_conf_read(struct milter_conf *c, struct buf *err);

/* The value of macro name (as "{auth_authen}", "j" or "_"), or NULL
 * when it has none now. */
typedef const char *(*milter_macro_fn)(const char *name, void *ctx);

/* What an event decided. */
enum milter_verdict {
	MILTER_CONTINUE, /* go on */
	MILTER_ACCEPT,	 /* accept: no more filtering of this message */
	MILTER_REJECT,	 /* reply (5XX) */
	MILTER_TEMPFAIL, /* reply (4XX) */
	MILTER_DISCARD,	 /* accept and drop the message */
};

/* Envelope changes at end of message, in the order the filters gave. */
struct milter_rcpt_edit {
	int add;    /* 1 add, 0 delete */
	char *addr; /* without <> */
	char *args; /* ADDRCPT_PAR's ESMTP arguments, or NULL */
};
struct milter_edits {
	char *sender; /* CHGFROM's new sender (without <>), or NULL */
	struct milter_rcpt_edit *rcpts;
	size_t nrcpt;
	int quarantine;	  /* hold the message */
	char *reason;	  /* the quarantine reason */
	unsigned changes; /* how many modifications in all (for the log) */
};
void milter_edits_free(struct milter_edits *e);
struct queue_envelope;
/* The sender and recipient changes into env, each logged with the queue
 * id (quarantine is the caller's: it knows its log line). */
void milter_edits_apply(const struct milter_edits *e,
			struct queue_envelope *env, const char *id);

struct milters;
/* Opens list (no filter is contacted yet); NULL with err for a bad
 * list.  An empty list gives NULL without err: no filtering. */
struct milters *milters_open(const char *list, const struct milter_conf *conf,
			     milter_macro_fn macro, void *ctx, struct buf *err);
/* QUIT to each filter, closes, frees. */
void milters_close(struct milters *ms);

/* The events of a session; reply gets the SMTP reply of a REJECT or
 * TEMPFAIL.  family: '4', '6', 'L' or 'U' (milter_proto.h). */
enum milter_verdict milters_connect(struct milters *ms, const char *hostname,
				    char family, unsigned port,
				    const char *addr, struct buf *reply);
enum milter_verdict milters_helo(struct milters *ms, const char *helo,
				 struct buf *reply);
enum milter_verdict milters_mail(struct milters *ms, const char *sender,
				 const char *const *args, size_t nargs,
				 struct buf *reply);
enum milter_verdict milters_rcpt(struct milters *ms, const char *rcpt,
				 const char *const *args, size_t nargs,
				 struct buf *reply);
/* An SMTP command smtpd does not know (SMFIC_UNKNOWN), as received. */
enum milter_verdict milters_unknown(struct milters *ms, const char *line,
				    struct buf *reply);
enum milter_verdict milters_data(struct milters *ms, struct buf *reply);
/* The message (headers, empty line, body, CRLF lines) to each filter in
 * turn, then end of message; content is replaced by the modified
 * message, envelope changes go to edits. */
enum milter_verdict milters_message(struct milters *ms, struct buf *content,
				    struct milter_edits *edits,
				    struct buf *reply);
/* The transaction ended without end of message (RSET, a refusal). */
void milters_abort(struct milters *ms);
/* A filter failed with milter_default_action = quarantine in this
 * session: its messages go on hold. 1 or 0. */
int milters_quarantine(const struct milters *ms);
/* A filter failed with milter_default_action = reject or tempfail: the
 * reply every later command of the session gets, or NULL. */
const char *milters_denied(const struct milters *ms);

/* Applies one filter's header and body modifications to a message:
 * pure, for the unit tests.  leadspc: values keep their leading
 * white space (SMFIP_HDR_LEADSPC). */
void milter_apply(struct buf *content, const struct milter_reply *mods,
		  size_t n, const struct buf *newbody, int leadspc);

#endif
