/*
 * dsn - RFC 3464 delivery status notifications (bounces).
 *
 * A pure composer: given the facts of the original message, one outcome
 * per reported recipient and a reader of the original content, it writes
 * the whole notification (headers and body, CRLF line ends) through a
 * writer callback, so a large returned message never sits in memory.  The
 * caller (qmgr) queues the result as a new message from the null sender.
 *
 * Shape (Postfix's, so that people and tools recognise it):
 *   From: MAILER-DAEMON@HOST (Mail Delivery System)
 *   Subject: Undelivered Mail Returned to Sender        (failure)
 *            Delayed Mail (still being retried)         (delay)
 *            Successful Mail Delivery Report            (success)
 *            Postmaster Copy: Undelivered Mail          (postmaster)
 *   To, Auto-Submitted: auto-replied, MIME-Version, Message-Id, Date,
 *   Content-Type: multipart/report; report-type=delivery-status;
 *   1. text/plain "Notification": "This is the mail system at host HOST."
 *      and one "<rcpt>: reason" paragraph per recipient;
 *   2. message/delivery-status "Delivery report": Reporting-MTA: dns;
 *      HOST, X-Panacea-Queue-ID, X-Panacea-Sender, Arrival-Date,
 *      Original-Envelope-Id (ENVID); per recipient Final-Recipient,
 *      Original-Recipient (ORCPT), Action, Status, Remote-MTA,
 *      Diagnostic-Code, Last-Attempt-Date, Will-Retry-Until (delay);
 *   3. the original: message/rfc822 (the whole message) for a failure or
 *      postmaster notice unless RET=HDRS or the message is larger than
 *      return_limit; otherwise text/rfc822-headers (its header section).
 *      Delay and success notices always return headers only (RFC 3461
 *      section 4.3: RET is about failures).
 *
 * Input values are the queue's: ENVID and the address of ORCPT
 * ("rfc822;xtext") are xtext as the client sent them and are decoded here.
 * Every text written into a header or the report is made safe first: CR,
 * LF and other control or non-ASCII octets become '?' (an unparseable
 * report is worse than a lossy one), lengths are bounded (DSN_TEXT_MAX per
 * value; long report fields are folded), and a Status that is not a valid
 * enhanced code ("c.x.y") is replaced by the action's generic one
 * (5.0.0, 4.0.0, 2.0.0).
 */
#ifndef PANACEA_DSN_H
#define PANACEA_DSN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"

#define DSN_TEXT_MAX 900

enum dsn_kind {
	DSN_KIND_FAILURE,   /* to the sender: these recipients failed */
	DSN_KIND_DELAY,	    /* to the sender: still trying */
	DSN_KIND_SUCCESS,   /* to the sender: delivered (NOTIFY=SUCCESS) */
	DSN_KIND_POSTMASTER /* to postmaster: a bounce could not be sent */
};

enum dsn_action { DSN_ACTION_FAILED, DSN_ACTION_DELAYED, DSN_ACTION_DELIVERED };

struct dsn_rcpt {
	const char *address; /* Final-Recipient */
	const char *orcpt;   /* "type;xtext" or "" */
	enum dsn_action action;
	const char *status;	/* enhanced code "5.1.1" */
	const char *text;	/* the reason (the queue's last status text) */
	const char *remote_mta; /* "mx.example.org[192.0.2.1]:25" or "" */
};

struct dsn_msg {
	enum dsn_kind kind;
	const char *myhostname; /* Reporting-MTA, From:, Message-Id */
	const char *queue_id;	/* of the original */
	const char *sender;	/* the original envelope sender */
	const char *to;		/* recipient of the notification */
	const char *new_id;	/* id of the notification (boundary, Msg-Id) */
	const char *envid;	/* ENVID as xtext, "" for none */
	int ret;		/* QUEUE_RET_NONE / FULL / HDRS */
	time_t arrival;
	time_t now;
	int64_t lifetime;      /* delay: seconds the queue keeps trying */
	uint64_t size;	       /* of the original content */
	uint64_t return_limit; /* larger originals: headers only */
	int eightbit;	       /* the original is 8-bit (BODY=8BITMIME) */
};

/* Next chunk of the original into *chunk (replacing it): 1, 0 at the
 * end, -1 on error. */
typedef int (*dsn_read_fn)(void *ctx, struct buf *chunk);
/* 0, or -1 on error. */
typedef int (*dsn_write_fn)(void *ctx, const void *data, size_t len);

/* Writes the notification; 0, or -1 when a read or write failed. */
int dsn_compose(const struct dsn_msg *m, const struct dsn_rcpt *rcpts, size_t n,
		dsn_read_fn rd, void *rctx, dsn_write_fn wr, void *wctx);

/* Helpers, exposed for qmgr's logs and the unit tests. */

/* The Diagnostic-Code value for a reason: "smtp; REPLY" when text quotes
 * a remote server ("host H said: REPLY (in reply to ...)"), else
 * "X-Panacea; TEXT".  Sanitised and bounded as above. */
void dsn_diagnostic(const char *text, struct buf *out);
/* An RFC 5322 date ("Tue, 2 Dec 2025 10:01:02 +0100"), local time. */
void dsn_date(time_t t, struct buf *out);
/* 1 when s is an enhanced status code: class 2/4/5, then 1-3 and 1-3
 * digits ("5.1.1", "4.4.7"). */
int dsn_status_valid(const char *s);

#endif
