/*
 * deliver_request - the one codec of the delivery protocol between qmgr
 * and its agents.  The protocol itself (names, order, meaning, the
 * content descriptor, forward groups) is written down in deliver_proto.h;
 * this module is the only code that turns it into attributes and back.
 *
 * Decoding is strict (attr_scan.h): an unknown or repeated attribute, a
 * missing required one, an integer out of its range, a string that is
 * too long or not one line, or too many recipients or forwards refuses
 * the whole message with a reason.  The ranges:
 *   arrival       0 .. DELIVER_TIME_MAX, arrival_usec 0 .. 999999
 *   active        0 .. DELIVER_TIME_MAX seconds, milliseconds precision
 *   size          0 .. DELIVER_SIZE_MAX
 *   flags         0 .. QUEUE_FLAGS_KNOWN
 *   ret           QUEUE_RET_NONE .. QUEUE_RET_HDRS
 *   rcpt_index    0 .. QUEUE_RCPT_MAX - 1
 *   notify        0 .. DELIVER_NOTIFY_MAX (the QUEUE_NOTIFY_* bits)
 *   class         2, 4 or 5
 * A request carries 1 .. DELIVER_RCPT_MAX recipients, a reply at most as
 * many statuses; queue_id must be a queue id; an address is 1 ..
 * QUEUE_FIELD_MAX bytes of one line; ORCPT is "" or "TYPE;XTEXT" with
 * valid xtext, and the decoder gives its address decoded too (orcpt_addr,
 * control characters shown as '?'), so that no agent decodes it again.
 * A reply's forward groups: only for a class 2 status, each with at
 * least one address, and groups plus addresses at most DELIVER_FORWARD_MAX
 * in one reply.  status is "done" or "fail", and "fail" comes with a
 * reason (only then).
 *
 * What stays with the reader: a reply's rcpt_index values are checked
 * against the request by qmgr (it ignores unknown and repeated ones), and
 * its texts are made printable and shortened there before they reach the
 * queue or the log (the codec only bounds them).
 */
#ifndef PANACEA_DELIVER_REQUEST_H
#define PANACEA_DELIVER_REQUEST_H

#include <stddef.h>

#include "attr.h"
#include "buf.h"
#include "deliver_proto.h"

#define DELIVER_TIME_MAX 253402300799LL /* 9999-12-31T23:59:59Z */
#define DELIVER_SIZE_MAX (1LL << 40)	/* far above any size limit */
#define DELIVER_NOTIFY_MAX 0x0f		/* every QUEUE_NOTIFY_* bit */
#define DELIVER_RCPT_MAX 10000		/* recipients per request */
#define DELIVER_TEXT_MAX 4096		/* text, reason, relay bytes */
#define DELIVER_FORWARD_MAX                                                    \
	(2 * 10000) /* local/alias.h: 2 * ALIAS_TARGETS_MAX */
#define DELIVER_CONTENT_DESCRIPTOR "descriptor"

struct deliver_rcpt {
	long long index;  /* rcpt_index */
	char *address;	  /* rcpt */
	char *orcpt;	  /* ORCPT as queued ("rfc822;xtext"), or "" */
	long long notify; /* QUEUE_NOTIFY_* */
	char *orcpt_addr; /* decoded: not on the wire */
};

struct deliver_request {
	char *queue_id;
	char *transport;
	char *nexthop;
	char *sender;
	long long arrival;	/* unix seconds */
	long long arrival_usec; /* 0 .. 999999 */
	long long active_ms;	/* when qmgr took the message, unix ms */
	long long size;
	long long flags; /* QUEUE_FLAG_* */
	char *envid;
	long long ret; /* QUEUE_RET_* */
	char *client_addr;
	char *content; /* DELIVER_CONTENT_DESCRIPTOR or NULL */
	struct deliver_rcpt *rcpts;
	size_t nrcpt;
};

struct deliver_forward {
	char *sender; /* "" for the null sender */
	char **rcpts;
	size_t nrcpt;
};

struct deliver_status {
	long long index; /* rcpt_index of the request */
	long long cls;	 /* DELIVER_CLASS_* */
	char *dsn;
	char *text;
	char *relay;
	char *remote_mta;
	struct deliver_forward *forwards;
	size_t nforward;
};

struct deliver_reply {
	struct deliver_status *rcpts;
	size_t nrcpt;
	char *status; /* "done" or "fail" */
	char *reason; /* with "fail" only */
};

/* Encoding: every string field of a request must be set (content may be
 * NULL); of a status, all but the forwards.  The list is appended to. */
void deliver_request_encode(const struct deliver_request *req,
			    struct attr_list *out);
/* req zeroed by the caller; 0, or -1 with the reason appended to why.
 * Either way deliver_request_free() releases what it holds. */
int deliver_request_decode(const struct attr_list *in,
			   struct deliver_request *req, struct buf *why);
void deliver_request_free(struct deliver_request *req);

/* Reply building: a status group (strings copied) and its forwards. */
struct deliver_status *deliver_reply_add(struct deliver_reply *reply,
					 long long index, int cls,
					 const char *dsn, const char *text,
					 const char *relay,
					 const char *remote_mta);
struct deliver_forward *deliver_status_forward(struct deliver_status *st,
					       const char *sender);
void deliver_forward_add(struct deliver_forward *fw, const char *rcpt);
/* Ends the reply: "done", or "fail" with reason (statuses are dropped). */
void deliver_reply_finish(struct deliver_reply *reply, const char *fail);

void deliver_reply_encode(const struct deliver_reply *reply,
			  struct attr_list *out);
int deliver_reply_decode(const struct attr_list *in,
			 struct deliver_reply *reply, struct buf *why);
void deliver_reply_free(struct deliver_reply *reply);

/* attr_send of the encoded reply: 0, or -1 with errno. */
int deliver_reply_send(int fd, const struct deliver_reply *reply,
		       int timeout_ms);
/* attr_recv and decode of a request: 0; -1 when no list could be read
 * (nothing to answer); -2 when the list was refused (answer status=fail).
 * why says which. */
int deliver_request_recv(int fd, struct deliver_request *req, int timeout_ms,
			 struct buf *why);

#endif
