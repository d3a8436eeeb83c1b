/*
 * qmgr_proto - the request line parser of public/qmgr; see qmgr_proto.h.
 */
#include <string.h>

#include "qmgr_proto.h"
#include "queue.h"

/* A site is a domain or [address]: printable ASCII without spaces. */
static int
site_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

int
qmgr_request_parse(const char *line, size_t len, struct qmgr_request *req)
{
	memset(req, 0, sizeof(*req));
	if (len == 0) {
		req->type = QMGR_REQUEST_NONE;
		return 0;
	}
	if (line[0] == QMGR_REQ_FLUSH_SITE || line[0] == QMGR_REQ_DELIVER_ONE) {
		if (len - 1 > QMGR_SITE_MAX || !site_ok(line + 1, len - 1))
			return -1;
		memcpy(req->arg, line + 1, len - 1);
		if (line[0] == QMGR_REQ_DELIVER_ONE) {
			if (!queue_id_valid(req->arg))
				return -1;
			req->type = QMGR_REQUEST_DELIVER_ONE;
		} else {
			req->type = len > 1 ? QMGR_REQUEST_FLUSH_SITE
					    : QMGR_REQUEST_WAKEUP;
		}
		return 0;
	}
	for (size_t i = 0; i < len; i++)
		if (line[i] != QMGR_REQ_WAKEUP && line[i] != QMGR_REQ_FLUSH)
			return -1;
	req->type = memchr(line, QMGR_REQ_FLUSH, len) ? QMGR_REQUEST_FLUSH
						      : QMGR_REQUEST_WAKEUP;
	return 0;
}
