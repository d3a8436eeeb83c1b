/*
 * fuzz_showq - libFuzzer target for the showq listing as mailq reads it
 * (lib/showq.h): records decoded one after another from any bytes.  An
 * accepted record re-encodes to one record that decodes to the same
 * fields (its fields are within SHOWQ_FIELD_MAX, so nothing is cut); a
 * refused one has a reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "showq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
same(const struct showq_record *a, const struct showq_record *b)
{
	if (a->type != b->type)
		abort();
	switch (a->type) {
	case SHOWQ_MESSAGE:
		if (strcmp(a->queue_name, b->queue_name) ||
		    strcmp(a->queue_id, b->queue_id) ||
		    strcmp(a->sender, b->sender) ||
		    a->arrival_time != b->arrival_time ||
		    a->message_size != b->message_size ||
		    a->force_expired != b->force_expired)
			abort();
		break;
	case SHOWQ_RCPT:
		if (strcmp(a->address, b->address) ||
		    strcmp(a->reason, b->reason))
			abort();
		break;
	case SHOWQ_END:
		if (a->count != b->count)
			abort();
		break;
	case SHOWQ_DENIED:
		if (a->uid != b->uid || strcmp(a->user, b->user))
			abort();
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct buf why = BUF_INIT, again = BUF_INIT;
	struct showq_record r, r2;
	size_t used, used2;
	int rc;

	while (size > 0) {
		rc = showq_record_decode(p, size, &r, &used, &why);
		if (rc != 0) {
			if (rc < 0 && why.len == 0)
				abort();
			showq_record_free(&r);
			break;
		}
		if (used > size)
			abort();
		buf_reset(&again);
		showq_record_encode(&r, &again);
		if (showq_record_decode(again.data, again.len, &r2, &used2,
					&why) != 0 ||
		    used2 != again.len)
			abort();
		same(&r, &r2);
		showq_record_free(&r);
		showq_record_free(&r2);
		p += used;
		size -= used;
	}
	buf_free(&why);
	buf_free(&again);
	return 0;
}
