/*
 * fuzz_trace - libFuzzer target for the trust-chain reader of
 * "panacea trace" (lib/mail/trace.c): the input is a message whose
 * Received: and Authentication-Results: fields are read and marked.
 * Every output line must end with a newline and hold no control
 * character, and a field claimed as ours must name the host (without
 * case).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "trace.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct buf out = BUF_INIT;
	struct trace_hop hop;
	int hops;

	hops = trace_message((const char *)data, len, "mx.example.net", &out);
	if (hops < 0 || (out.len > 0 && out.data[out.len - 1] != '\n'))
		abort();
	for (size_t i = 0; i < out.len; i++)
		if ((unsigned char)out.data[i] < ' ' && out.data[i] != '\n')
			abort();
	for (const char *l = buf_cstr(&out); *l;) {
		const char *nl = strchr(l, '\n');

		if (strncmp(l, "  auth ours: ", 13) == 0 &&
		    strncasecmp(l + 13, "mx.example.net:", 15) != 0)
			abort();
		l = nl + 1;
	}
	buf_free(&out);
	trace_received((const char *)data, len, &hop);
	if (strlen(hop.from) >= TRACE_PART_MAX || !hop.date[0])
		abort();
	return 0;
}
