/*
 * deliver_request - the delivery request and reply codec; see
 * deliver_request.h (the contract) and deliver_proto.h (the protocol).
 *
 * The tables below are the protocol's shape; what a table cannot say
 * (ORCPT's form, a forward only with class 2, the bound on forwards over
 * the whole reply, status and reason together) is checked after the scan.
 */
#include <errno.h>
#include <string.h>

#include "attr_scan.h"
#include "deliver_request.h"
#include "queue.h"
#include "xalloc.h"
#include "xtext.h"

#define LINE ATTR_SCAN_LINE
#define REQ ATTR_SCAN_REQUIRED
#define FIELD_MAX QUEUE_FIELD_MAX

static const struct attr_scan_spec rcpt_spec[] = {
    ATTR_SCAN_ROW_INT("rcpt_index", REQ, 0, QUEUE_RCPT_MAX - 1,
		      struct deliver_rcpt, index),
    ATTR_SCAN_ROW_STR("rcpt", REQ | LINE, 1, FIELD_MAX, struct deliver_rcpt,
		      address),
    ATTR_SCAN_ROW_STR("orcpt", REQ | LINE, 0, FIELD_MAX, struct deliver_rcpt,
		      orcpt),
    ATTR_SCAN_ROW_INT("notify", REQ, 0, DELIVER_NOTIFY_MAX, struct deliver_rcpt,
		      notify),
    ATTR_SCAN_END,
};

/* "request" is a constant: scanned into a field of its own. */
struct request_wire {
	struct deliver_request req;
	char *request;
};

static const struct attr_scan_spec request_wire_spec[] = {
    ATTR_SCAN_ROW_STR("request", REQ, 7, 7, struct request_wire, request),
    ATTR_SCAN_ROW_STR("queue_id", REQ, QUEUE_ID_LEN, QUEUE_ID_LEN,
		      struct request_wire, req.queue_id),
    ATTR_SCAN_ROW_STR("transport", REQ | LINE, 1, 64, struct request_wire,
		      req.transport),
    ATTR_SCAN_ROW_STR("nexthop", REQ | LINE, 0, FIELD_MAX, struct request_wire,
		      req.nexthop),
    ATTR_SCAN_ROW_STR("sender", REQ | LINE, 0, FIELD_MAX, struct request_wire,
		      req.sender),
    ATTR_SCAN_ROW_INT("arrival", REQ, 0, DELIVER_TIME_MAX, struct request_wire,
		      req.arrival),
    ATTR_SCAN_ROW_INT("arrival_usec", REQ, 0, 999999, struct request_wire,
		      req.arrival_usec),
    ATTR_SCAN_ROW_MSEC("active", REQ, 0, DELIVER_TIME_MAX * 1000,
		       struct request_wire, req.active_ms),
    ATTR_SCAN_ROW_INT("size", REQ, 0, DELIVER_SIZE_MAX, struct request_wire,
		      req.size),
    ATTR_SCAN_ROW_INT("flags", REQ, 0, QUEUE_FLAGS_KNOWN, struct request_wire,
		      req.flags),
    ATTR_SCAN_ROW_STR("envid", REQ | LINE, 0, FIELD_MAX, struct request_wire,
		      req.envid),
    ATTR_SCAN_ROW_INT("ret", REQ, QUEUE_RET_NONE, QUEUE_RET_HDRS,
		      struct request_wire, req.ret),
    ATTR_SCAN_ROW_STR("client_addr", REQ | LINE, 0, FIELD_MAX,
		      struct request_wire, req.client_addr),
    ATTR_SCAN_ROW_STR("content", LINE, 10, 10, struct request_wire,
		      req.content),
    ATTR_SCAN_ROW_GROUP("rcpt_index", 1, DELIVER_RCPT_MAX, struct request_wire,
			req.rcpts, req.nrcpt, struct deliver_rcpt, rcpt_spec),
    ATTR_SCAN_END,
};

static const struct attr_scan_spec forward_spec[] = {
    ATTR_SCAN_ROW_STR("forward", REQ | LINE, 0, FIELD_MAX,
		      struct deliver_forward, sender),
    ATTR_SCAN_ROW_STRS("forward_rcpt", LINE, 1, FIELD_MAX, 1,
		       DELIVER_FORWARD_MAX, struct deliver_forward, rcpts,
		       nrcpt),
    ATTR_SCAN_END,
};

static const struct attr_scan_spec status_spec[] = {
    ATTR_SCAN_ROW_INT("rcpt_index", REQ, 0, QUEUE_RCPT_MAX - 1,
		      struct deliver_status, index),
    ATTR_SCAN_ROW_INT("class", REQ, DELIVER_CLASS_OK, DELIVER_CLASS_BOUNCE,
		      struct deliver_status, cls),
    ATTR_SCAN_ROW_STR("dsn", REQ | LINE, 0, QUEUE_DSN_MAX,
		      struct deliver_status, dsn),
    ATTR_SCAN_ROW_STR("text", REQ, 0, DELIVER_TEXT_MAX, struct deliver_status,
		      text),
    ATTR_SCAN_ROW_STR("relay", REQ, 0, DELIVER_TEXT_MAX, struct deliver_status,
		      relay),
    ATTR_SCAN_ROW_STR("remote_mta", REQ, 0, DELIVER_TEXT_MAX,
		      struct deliver_status, remote_mta),
    ATTR_SCAN_ROW_GROUP("forward", 0, DELIVER_FORWARD_MAX,
			struct deliver_status, forwards, nforward,
			struct deliver_forward, forward_spec),
    ATTR_SCAN_END,
};

static const struct attr_scan_spec reply_spec[] = {
    ATTR_SCAN_ROW_GROUP("rcpt_index", 0, DELIVER_RCPT_MAX, struct deliver_reply,
			rcpts, nrcpt, struct deliver_status, status_spec),
    ATTR_SCAN_ROW_STR("status", REQ, 4, 4, struct deliver_reply, status),
    ATTR_SCAN_ROW_STR("reason", 0, 0, DELIVER_TEXT_MAX, struct deliver_reply,
		      reason),
    ATTR_SCAN_END,
};

/* The request. */

void
deliver_request_encode(const struct deliver_request *req, struct attr_list *out)
{
	struct request_wire w;

	w.req = *req;
	w.request = (char *)"deliver";
	attr_print(out, request_wire_spec, &w);
}

/* ORCPT "TYPE;VALUE": VALUE is xtext, but utf-8 (RFC 6533) is raw. */
static int
orcpt_decode(struct deliver_rcpt *r)
{
	const char *semi = strchr(r->orcpt, ';');
	struct buf dec = BUF_INIT;

	if (*r->orcpt == '\0') {
		r->orcpt_addr = xstrdup("");
		return 0;
	}
	if (semi == NULL || semi == r->orcpt)
		return -1;
	if ((size_t)(semi - r->orcpt) == 5 &&
	    strncasecmp(r->orcpt, "utf-8", 5) == 0)
		buf_puts(&dec, semi + 1);
	else if (xtext_decode(&dec, semi + 1, strlen(semi + 1)) < 0) {
		buf_free(&dec);
		return -1;
	}
	for (size_t i = 0; i < dec.len; i++)
		if ((unsigned char)dec.data[i] < ' ' ||
		    (unsigned char)dec.data[i] == 0x7f)
			dec.data[i] = '?';
	r->orcpt_addr = buf_steal(&dec);
	return 0;
}

int
deliver_request_decode(const struct attr_list *in, struct deliver_request *req,
		       struct buf *why)
{
	struct request_wire w;
	int rc;

	memset(&w, 0, sizeof(w));
	rc = attr_scan(in, request_wire_spec, &w, why);
	*req = w.req;
	if (rc == 0 && strcmp(w.request, "deliver") != 0) {
		buf_puts(why, "not a delivery request");
		rc = -1;
	}
	xfree(w.request);
	if (rc < 0)
		return -1;
	if (!queue_id_valid(req->queue_id)) {
		buf_puts(why, "bad attribute \"queue_id\"");
		return -1;
	}
	if (req->content &&
	    strcmp(req->content, DELIVER_CONTENT_DESCRIPTOR) != 0) {
		buf_puts(why, "bad attribute \"content\"");
		return -1;
	}
	for (size_t i = 0; i < req->nrcpt; i++)
		if (orcpt_decode(&req->rcpts[i]) < 0) {
			buf_puts(why, "bad attribute \"orcpt\"");
			return -1;
		}
	return 0;
}

void
deliver_request_free(struct deliver_request *req)
{
	struct request_wire w;

	for (size_t i = 0; i < req->nrcpt; i++) {
		xfree(req->rcpts[i].orcpt_addr);
		req->rcpts[i].orcpt_addr = NULL;
	}
	memset(&w, 0, sizeof(w));
	w.req = *req;
	attr_scan_free(request_wire_spec, &w);
	*req = w.req;
}

int
deliver_request_recv(int fd, struct deliver_request *req, int timeout_ms,
		     struct buf *why)
{
	struct attr_list l = ATTR_LIST_INIT;
	int rc;

	if (attr_recv(fd, &l, DELIVER_LIST_MAX, timeout_ms) < 0) {
		buf_printf(why, "cannot read a delivery request: %s",
			   strerror(errno));
		attr_list_free(&l);
		return -1;
	}
	rc = deliver_request_decode(&l, req, why);
	attr_list_free(&l);
	return rc < 0 ? -2 : 0;
}

/* The reply. */

struct deliver_status *
deliver_reply_add(struct deliver_reply *reply, long long index, int cls,
		  const char *dsn, const char *text, const char *relay,
		  const char *remote_mta)
{
	struct deliver_status *st;

	reply->rcpts = xreallocarray(reply->rcpts, reply->nrcpt + 1,
				     sizeof(*reply->rcpts));
	st = &reply->rcpts[reply->nrcpt++];
	memset(st, 0, sizeof(*st));
	st->index = index;
	st->cls = cls;
	st->dsn = xstrdup(dsn);
	st->text = xstrdup(text);
	st->relay = xstrdup(relay);
	st->remote_mta = xstrdup(remote_mta);
	return st;
}

struct deliver_forward *
deliver_status_forward(struct deliver_status *st, const char *sender)
{
	struct deliver_forward *fw;

	st->forwards = xreallocarray(st->forwards, st->nforward + 1,
				     sizeof(*st->forwards));
	fw = &st->forwards[st->nforward++];
	memset(fw, 0, sizeof(*fw));
	fw->sender = xstrdup(sender);
	return fw;
}

void
deliver_forward_add(struct deliver_forward *fw, const char *rcpt)
{
	fw->rcpts = xreallocarray(fw->rcpts, fw->nrcpt + 1, sizeof(char *));
	fw->rcpts[fw->nrcpt++] = xstrdup(rcpt);
}

void
deliver_reply_finish(struct deliver_reply *reply, const char *fail)
{
	struct deliver_reply empty;

	if (fail != NULL) {
		memset(&empty, 0, sizeof(empty));
		empty.rcpts = reply->rcpts;
		empty.nrcpt = reply->nrcpt;
		attr_scan_free(reply_spec, &empty);
		reply->rcpts = NULL;
		reply->nrcpt = 0;
	}
	xfree(reply->status);
	xfree(reply->reason);
	reply->status = xstrdup(fail ? "fail" : "done");
	reply->reason = fail ? xstrdup(fail) : NULL;
}

void
deliver_reply_encode(const struct deliver_reply *reply, struct attr_list *out)
{
	attr_print(out, reply_spec, reply);
}

int
deliver_reply_decode(const struct attr_list *in, struct deliver_reply *reply,
		     struct buf *why)
{
	size_t total = 0;
	int fail;

	if (attr_scan(in, reply_spec, reply, why) < 0)
		return -1;
	fail = strcmp(reply->status, "fail") == 0;
	if (!fail && strcmp(reply->status, "done") != 0)
		return buf_puts(why, "bad attribute \"status\""), -1;
	if (fail != (reply->reason != NULL))
		return buf_puts(why, "\"reason\" goes with status=fail only"),
		       -1;
	for (size_t i = 0; i < reply->nrcpt; i++) {
		const struct deliver_status *st = &reply->rcpts[i];

		if (st->cls == 3)
			return buf_puts(why, "bad attribute \"class\""), -1;
		if (st->nforward > 0 && st->cls != DELIVER_CLASS_OK)
			return buf_puts(why, "a forward for a recipient not "
					     "delivered"),
			       -1;
		for (size_t g = 0; g < st->nforward; g++) {
			total += 1 + st->forwards[g].nrcpt;
			if (total > DELIVER_FORWARD_MAX)
				return buf_puts(why, "too many forwards"), -1;
		}
	}
	return 0;
}

void
deliver_reply_free(struct deliver_reply *reply)
{
	attr_scan_free(reply_spec, reply);
}

int
deliver_reply_send(int fd, const struct deliver_reply *reply, int timeout_ms)
{
	struct attr_list l = ATTR_LIST_INIT;
	int rc;

	deliver_reply_encode(reply, &l);
	rc = attr_send(fd, &l, timeout_ms);
	attr_list_free(&l);
	return rc;
}
