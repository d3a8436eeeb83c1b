/*
 * fuzz_dovecot_auth - libFuzzer target for lib/dovecot_auth's parsers:
 * the reply parser (what smtpd reads from Dovecot's auth server, or from
 * whatever listens on smtpd_sasl_path) and the request parser (what the
 * auth service, which holds the passwords, reads from a client that
 * speaks Dovecot's protocol).
 *
 * The input is one line, given to both.  A refusal always says why; an
 * accepted line has every field within its bound: a user name and a
 * reason, a service and addresses without
 * control characters, a mechanism name of RFC 4422's alphabet, a
 * challenge of at most DOVECOT_AUTH_DATA_MAX bytes.  The security
 * options parser gets the same input as text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dovecot_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_text(const char *s, size_t max)
{
	size_t n;

	if (s == NULL)
		return;
	n = strlen(s);
	if (n > max)
		abort();
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dovecot_reply r = DOVECOT_REPLY_INIT;
	struct dovecot_request q = DOVECOT_REQUEST_INIT;
	struct buf err = BUF_INIT, text = BUF_INIT;
	unsigned forbid, require;

	if (dovecot_reply_parse((const char *)data, size, &r, &err) < 0) {
		if (err.len == 0)
			abort();
	} else {
		if (err.len != 0)
			abort();
		check_text(r.user, DOVECOT_AUTH_USER_MAX);
		check_text(r.reason, DOVECOT_AUTH_REASON_MAX);
		check_text(r.mech, DOVECOT_AUTH_MECH_MAX);
		if (r.type == DOVECOT_REPLY_MECH &&
		    (r.mech == NULL || *r.mech == '\0'))
			abort();
		if (r.data_len > DOVECOT_AUTH_DATA_MAX)
			abort();
		if (r.type == DOVECOT_REPLY_CONT && r.data == NULL)
			abort();
	}
	/* The same line as the auth service reads it from a client. */
	buf_reset(&err);
	if (dovecot_request_parse((const char *)data, size, &q, &err) < 0) {
		if (err.len == 0)
			abort();
	} else {
		check_text(q.service, 63);
		check_text(q.local_ip, 63);
		check_text(q.remote_ip, 63);
		check_text(q.local_port, 63);
		check_text(q.remote_port, 63);
		check_text(q.mech, DOVECOT_AUTH_MECH_MAX);
		if (q.type == DOVECOT_REQUEST_AUTH &&
		    (q.mech == NULL || *q.mech == '\0'))
			abort();
		if (q.resp_len > DOVECOT_AUTH_DATA_MAX ||
		    (q.has_resp && q.resp == NULL))
			abort();
	}
	dovecot_request_free(&q);
	buf_reset(&err);
	buf_append(&text, data, size);
	if (dovecot_security_parse(buf_cstr(&text), &forbid, &require, &err) <
		0 &&
	    err.len == 0)
		abort();
	dovecot_reply_free(&r);
	buf_free(&err);
	buf_free(&text);
	return 0;
}
