/*
 * fuzz_auth_results - libFuzzer target for Authentication-Results
 * (lib/mail/auth_results.c): the input as a message whose fields
 * claiming an authserv-id are removed (the output must be the input
 * less whole fields, so never longer, and stripping twice removes
 * nothing more), as a field value whose authserv-id is read, and as
 * the property values of a written field, which must come out as one
 * field: no bare CR or LF but its folds and its final CRLF.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth_results.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct buf out = BUF_INIT, again = BUF_INIT, val = BUF_INIT;
	struct dkim_verdict v = {.result = DKIM_FAIL, .reason = "x"};
	struct auth_results_in in = {.authserv_id = "mx.example"};
	char id[64];
	size_t i;

	if (size > 65536)
		return 0;
	auth_results_strip(s, size, "mx.example", &out);
	if (out.len > size)
		abort();
	if (auth_results_strip(out.data ? out.data : "", out.len, "mx.example",
			       &again) != 0)
		abort();
	if (auth_results_id(s, size, id, sizeof(id)) == 0 &&
	    (strlen(id) == 0 || strlen(id) >= sizeof(id)))
		abort();
	/* The input as a SASL login and an SPF identity. */
	buf_append(&val, s, size);
	in.auth_user = buf_cstr(&val);
	in.spf = "pass";
	in.spf_identity = "mailfrom";
	in.spf_value = buf_cstr(&val);
	in.dkim = &v;
	in.ndkim = 1;
	buf_reset(&out);
	auth_results_build(&in, &out);
	for (i = 0; i + 2 < out.len; i++) {
		if (out.data[i] == '\n' && out.data[i + 1] != '\t')
			abort();
		if (out.data[i] == '\r' && out.data[i + 1] != '\n')
			abort();
		if (out.data[i] == '\n' && (i == 0 || out.data[i - 1] != '\r'))
			abort();
	}
	if (out.len < 2 || memcmp(out.data + out.len - 2, "\r\n", 2) != 0)
		abort();
	buf_free(&out);
	buf_free(&again);
	buf_free(&val);
	return 0;
}
