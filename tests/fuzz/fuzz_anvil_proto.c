/*
 * fuzz_anvil_proto - libFuzzer target for the anvil service's codec
 * (lib/anvil_proto) as both sides read it: any bytes, decoded with the
 * protocol's limit as a request (what anvil reads from smtpd) and as a
 * reply (what smtpd reads from anvil).  An accepted message keeps the
 * contract and re-encodes to a list that decodes the same; a refused
 * one has a reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "anvil_proto.h"
#include "attr.h"
#include "buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_request(const struct attr_list *l)
{
	struct anvil_request r, again;
	struct attr_list out = ATTR_LIST_INIT;
	struct buf why = BUF_INIT;
	size_t n;

	memset(&r, 0, sizeof(r));
	memset(&again, 0, sizeof(again));
	if (anvil_request_decode(l, &r, &why) < 0) {
		if (why.len == 0)
			abort();
		goto out;
	}
	n = strlen(r.ident);
	if ((unsigned)r.type >= ANVIL_REQ_COUNT || n == 0 ||
	    n > ANVIL_IDENT_MAX)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)r.ident[i] < 0x20 || r.ident[i] == 0x7f)
			abort();
	anvil_request_encode(&r, &out);
	if (anvil_request_decode(&out, &again, &why) < 0 ||
	    again.type != r.type || strcmp(again.ident, r.ident) != 0)
		abort();
out:
	anvil_request_free(&r);
	anvil_request_free(&again);
	attr_list_free(&out);
	buf_free(&why);
}

static void
check_reply(const struct attr_list *l)
{
	struct anvil_reply r, again;
	struct attr_list out = ATTR_LIST_INIT;
	struct buf why = BUF_INIT;

	memset(&r, 0, sizeof(r));
	memset(&again, 0, sizeof(again));
	if (anvil_reply_decode(l, &r, &why) < 0) {
		if (why.len == 0)
			abort();
		goto out;
	}
	if (r.status < -1 || r.status > 0 || r.count < 0 ||
	    r.count > ANVIL_VALUE_MAX || r.rate < 0 || r.rate > ANVIL_VALUE_MAX)
		abort();
	anvil_reply_encode(&r, &out);
	if (anvil_reply_decode(&out, &again, &why) < 0 ||
	    memcmp(&r, &again, sizeof(r)) != 0)
		abort();
out:
	attr_list_free(&out);
	buf_free(&why);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct attr_list l = ATTR_LIST_INIT;
	size_t used;

	if (attr_decode((const char *)data, size, ANVIL_PROTO_LIST_MAX, &l,
			&used) == ATTR_OK) {
		check_request(&l);
		check_reply(&l);
	}
	attr_list_free(&l);
	return 0;
}
