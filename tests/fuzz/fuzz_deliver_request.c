/*
 * fuzz_deliver_request - libFuzzer target for the delivery protocol's
 * codec (lib/deliver_request) over the attribute list decoder.
 *
 * Arbitrary bytes are decoded as a list, then as a request and as a
 * reply.  What is accepted must keep the contract of deliver_request.h
 * (ranges, bounds, ORCPT decoded) and survive encode, decode, encode
 * unchanged; what is refused must come with a reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "buf.h"
#include "deliver_request.h"
#include "queue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
same_encoding(const struct attr_list *a, const struct attr_list *b)
{
	struct buf x = BUF_INIT, y = BUF_INIT;

	attr_encode(a, &x);
	attr_encode(b, &y);
	if (x.len != y.len || memcmp(x.data, y.data, x.len) != 0)
		abort();
	buf_free(&x);
	buf_free(&y);
}

static void
check_request(const struct attr_list *l)
{
	struct deliver_request req, again;
	struct attr_list e1 = ATTR_LIST_INIT, e2 = ATTR_LIST_INIT;
	struct buf why = BUF_INIT;

	memset(&req, 0, sizeof(req));
	if (deliver_request_decode(l, &req, &why) < 0) {
		if (why.len == 0)
			abort();
		deliver_request_free(&req);
		buf_free(&why);
		return;
	}
	if (req.nrcpt < 1 || req.nrcpt > DELIVER_RCPT_MAX ||
	    req.arrival_usec < 0 || req.arrival_usec > 999999 || req.size < 0 ||
	    req.ret < 0 || req.ret > 2 || !queue_id_valid(req.queue_id))
		abort();
	for (size_t i = 0; i < req.nrcpt; i++)
		if (req.rcpts[i].orcpt_addr == NULL ||
		    req.rcpts[i].notify > DELIVER_NOTIFY_MAX ||
		    *req.rcpts[i].address == '\0')
			abort();
	deliver_request_encode(&req, &e1);
	memset(&again, 0, sizeof(again));
	if (deliver_request_decode(&e1, &again, &why) < 0)
		abort();
	deliver_request_encode(&again, &e2);
	same_encoding(&e1, &e2);
	deliver_request_free(&req);
	deliver_request_free(&again);
	attr_list_free(&e1);
	attr_list_free(&e2);
	buf_free(&why);
}

static void
check_reply(const struct attr_list *l)
{
	struct deliver_reply r, again;
	struct attr_list e1 = ATTR_LIST_INIT, e2 = ATTR_LIST_INIT;
	struct buf why = BUF_INIT;

	memset(&r, 0, sizeof(r));
	if (deliver_reply_decode(l, &r, &why) < 0) {
		if (why.len == 0)
			abort();
		deliver_reply_free(&r);
		buf_free(&why);
		return;
	}
	for (size_t i = 0; i < r.nrcpt; i++) {
		if (r.rcpts[i].cls != 2 && r.rcpts[i].cls != 4 &&
		    r.rcpts[i].cls != 5)
			abort();
		if (r.rcpts[i].nforward > 0 && r.rcpts[i].cls != 2)
			abort();
		for (size_t g = 0; g < r.rcpts[i].nforward; g++)
			if (r.rcpts[i].forwards[g].nrcpt == 0)
				abort();
	}
	deliver_reply_encode(&r, &e1);
	memset(&again, 0, sizeof(again));
	if (deliver_reply_decode(&e1, &again, &why) < 0)
		abort();
	deliver_reply_encode(&again, &e2);
	same_encoding(&e1, &e2);
	deliver_reply_free(&r);
	deliver_reply_free(&again);
	attr_list_free(&e1);
	attr_list_free(&e2);
	buf_free(&why);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct attr_list l = ATTR_LIST_INIT;
	size_t used;

	if (attr_decode((const char *)data, size, ATTR_LIST_MAX_DEFAULT, &l,
			&used) == ATTR_OK) {
		check_request(&l);
		check_reply(&l);
	}
	attr_list_free(&l);
	return 0;
}
