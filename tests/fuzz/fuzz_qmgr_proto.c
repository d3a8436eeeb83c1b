/*
 * fuzz_qmgr_proto - libFuzzer target for the request lines of public/qmgr
 * (lib/qmgr_proto.h), which any local user may write: each line of the
 * input parsed as qmgr does.  An accepted line has a type that matches
 * its first byte, and an argument that is a bounded, printable string
 * (a valid queue id for I).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qmgr_proto.h"
#include "queue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const char *line, size_t len)
{
	struct qmgr_request r;
	size_t n;

	if (qmgr_request_parse(line, len, &r) < 0)
		return;
	n = strnlen(r.arg, sizeof(r.arg));
	if (n > QMGR_SITE_MAX)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)r.arg[i] <= ' ' ||
		    (unsigned char)r.arg[i] >= 0x7f)
			abort();
	switch (r.type) {
	case QMGR_REQUEST_NONE:
		if (len != 0)
			abort();
		break;
	case QMGR_REQUEST_DELIVER_ONE:
		if (line[0] != QMGR_REQ_DELIVER_ONE || !queue_id_valid(r.arg))
			abort();
		break;
	case QMGR_REQUEST_FLUSH_SITE:
		if (line[0] != QMGR_REQ_FLUSH_SITE || n != len - 1 ||
		    memcmp(r.arg, line + 1, n) != 0)
			abort();
		break;
	case QMGR_REQUEST_WAKEUP:
	case QMGR_REQUEST_FLUSH:
		if (n != 0)
			abort();
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *nl;

	while (size > 0) {
		nl = memchr(p, '\n', size);
		check(p, nl ? (size_t)(nl - p) : size);
		if (nl == NULL)
			break;
		size -= (size_t)(nl - p) + 1;
		p = nl + 1;
	}
	return 0;
}
