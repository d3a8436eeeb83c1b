/*
 * fuzz_policy_proto - libFuzzer target for smtpd's policy protocol codec
 * (smtpd/smtpd_policy_proto.c), which reads what a policy server answers.
 *
 * The input is split at newlines and fed as a reply: a complete reply
 * has an action without a NUL, and parsing stops at the first error.
 * Then the input's first half and second half are encoded as a request
 * attribute: the line must hold no control character but its newline
 * and stay within its bound.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "smtpd_policy_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_reply r;
	struct buf err = BUF_INIT, req = BUF_INIT;
	const char *p = (const char *)data, *end = p + size;
	char *name, *value;
	int rc = 0;

	policy_reply_init(&r);
	while (p < end && rc == 0) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		rc = policy_reply_line(&r, p, len, &err);
		p += len + (nl != NULL);
	}
	if (rc == 1 &&
	    (!r.have_action ||
	     memchr(r.action.data ? r.action.data : "", '\0', r.action.len)))
		abort();
	policy_reply_free(&r);

	name = strndup((const char *)data, size / 2);
	value = strndup((const char *)data + size / 2, size - size / 2);
	if (name && value && *name && !strchr(name, '=')) {
		policy_request_add(&req, name, value);
		const char *v = strchr(buf_cstr(&req), '=') + 1;
		for (const char *q = v; *q != '\n'; q++)
			if ((unsigned char)*q < ' ')
				abort();
		if (strlen(v) > POLICY_VALUE_MAX + 1)
			abort();
	}
	free(name);
	free(value);
	buf_free(&req);
	buf_free(&err);
	return 0;
}
