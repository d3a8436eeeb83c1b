/*
 * anvil_proto - the anvil service's requests and replies; see
 * anvil_proto.h.
 */
#include <stddef.h>
#include <string.h>

#include "anvil_proto.h"
#include "attr_scan.h"
#include "xalloc.h"

static const char *const request_names[ANVIL_REQ_COUNT] = {
    "connect", "disconnect",	"message", "recipient",
    "newtls",  "newtls_report", "auth",
};

/* What the wire carries: the request as its word. */
struct request_wire {
	char *request;
	char *ident;
};

static const struct attr_scan_spec request_spec[] = {
    ATTR_SCAN_ROW_STR("request", ATTR_SCAN_REQUIRED | ATTR_SCAN_LINE, 1, 16,
		      struct request_wire, request),
    ATTR_SCAN_ROW_STR("ident", ATTR_SCAN_REQUIRED | ATTR_SCAN_LINE, 1,
		      ANVIL_IDENT_MAX, struct request_wire, ident),
    ATTR_SCAN_END,
};

static const struct attr_scan_spec reply_spec[] = {
    ATTR_SCAN_ROW_INT("status", ATTR_SCAN_REQUIRED, -1, 0, struct anvil_reply,
		      status),
    ATTR_SCAN_ROW_INT("count", ATTR_SCAN_REQUIRED, 0, ANVIL_VALUE_MAX,
		      struct anvil_reply, count),
    ATTR_SCAN_ROW_INT("rate", ATTR_SCAN_REQUIRED, 0, ANVIL_VALUE_MAX,
		      struct anvil_reply, rate),
    ATTR_SCAN_END,
};

const char *
anvil_request_name(enum anvil_request_type type)
{
	return (unsigned)type < ANVIL_REQ_COUNT ? request_names[type] : "?";
}

void
anvil_request_encode(const struct anvil_request *r, struct attr_list *out)
{
	struct request_wire w = {(char *)anvil_request_name(r->type), r->ident};

	attr_print(out, request_spec, &w);
}

int
anvil_request_decode(const struct attr_list *in, struct anvil_request *r,
		     struct buf *why)
{
	struct request_wire w;
	int rc = -1;

	memset(&w, 0, sizeof(w));
	if (attr_scan(in, request_spec, &w, why) == 0) {
		for (int t = 0; t < ANVIL_REQ_COUNT; t++)
			if (strcmp(w.request, request_names[t]) == 0) {
				r->type = (enum anvil_request_type)t;
				rc = 0;
			}
		if (rc < 0)
			buf_puts(why, "unknown request");
	}
	if (rc == 0) {
		r->ident = w.ident;
		w.ident = NULL;
	}
	attr_scan_free(request_spec, &w);
	return rc;
}

void
anvil_request_free(struct anvil_request *r)
{
	xfree(r->ident);
	r->ident = NULL;
}

void
anvil_reply_encode(const struct anvil_reply *r, struct attr_list *out)
{
	attr_print(out, reply_spec, r);
}

int
anvil_reply_decode(const struct attr_list *in, struct anvil_reply *r,
		   struct buf *why)
{
	return attr_scan(in, reply_spec, r, why);
}
