/*
 * fuzz_maildrop - libFuzzer target for the head of a maildrop file
 * (lib/maildrop.c), which an ordinary local user writes and pickup reads.
 *
 * Whatever the bytes: no memory error, the envelope is always safe to
 * free, and a head that decodes describes a message with at least one
 * recipient whose re-encoding decodes to the same envelope.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "maildrop.h"
#include "queue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
same_envelope(const struct queue_envelope *a, const struct queue_envelope *b)
{
	if (strcmp(a->sender, b->sender) != 0 ||
	    strcmp(a->envid, b->envid) != 0 || a->ret != b->ret ||
	    a->flags != b->flags || a->nrcpt != b->nrcpt)
		abort();
	for (size_t i = 0; i < a->nrcpt; i++)
		if (strcmp(a->rcpts[i].address, b->rcpts[i].address) != 0 ||
		    a->rcpts[i].notify != b->rcpts[i].notify)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct queue_envelope env, again;
	struct buf err = BUF_INIT, head = BUF_INIT;
	size_t used = 0, used2 = 0;
	int r;

	r = maildrop_decode_head((const char *)data, size, &env, &used, &err);
	if (r == 0) {
		if (used > size || env.nrcpt == 0)
			abort();
		maildrop_encode_head(&env, &head);
		if (maildrop_decode_head(head.data, head.len, &again, &used2,
					 &err) != 0 ||
		    used2 != head.len)
			abort();
		same_envelope(&env, &again);
		queue_envelope_free(&again);
	} else if (r < 0 && err.len == 0) {
		abort(); /* a refusal always says why */
	}
	queue_envelope_free(&env);
	buf_free(&err);
	buf_free(&head);
	return 0;
}
