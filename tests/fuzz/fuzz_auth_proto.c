/*
 * fuzz_auth_proto - libFuzzer target for lib/auth_proto, the codec of the
 * auth service (the one process that holds the passwords reads what any
 * mail_owner process sends it).
 *
 * The input is decoded as one attribute list (bounded as the service
 * bounds it) and parsed both as a request and as a reply.  When a parse
 * succeeds: every text field is within its bound and free of control
 * characters, the raw fields are within theirs, and encoding the parsed
 * structure and parsing that again gives the same fields (so what the
 * service acts on is exactly what it would have been sent).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "auth_proto.h"
#include "buf.h"

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

static int
same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static void
check_request(const struct attr_list *in)
{
	struct auth_request r, again;
	struct attr_list out = ATTR_LIST_INIT;
	struct buf err = BUF_INIT;

	if (auth_request_parse(in, &r, &err) < 0) {
		if (err.len == 0)
			abort(); /* a refusal always says why */
		buf_free(&err);
		return;
	}
	check_text(r.service, 4);
	check_text(r.client_address, AUTH_PROTO_ADDR_MAX);
	check_text(r.server_address, AUTH_PROTO_ADDR_MAX);
	check_text(r.client_port, 5);
	check_text(r.server_port, 5);
	check_text(r.mech, AUTH_PROTO_MECH_MAX);
	check_text(r.user, AUTH_PROTO_USER_MAX);
	check_text(r.timestamp, AUTH_PROTO_TIMESTAMP_MAX);
	check_text(r.digest, AUTH_PROTO_DIGEST_LEN);
	check_text(r.ticket, AUTH_PROTO_TICKET_LEN);
	if (r.response_len > AUTH_PROTO_DATA_MAX ||
	    (r.password && strlen(r.password) > AUTH_PROTO_PASSWORD_MAX))
		abort();
	if (r.type == AUTH_REQ_REDEEM && !auth_proto_ticket_ok(r.ticket))
		abort();
	if (r.external_ssf > 65535)
		abort();
	auth_request_encode(&r, &out);
	if (auth_request_parse(&out, &again, &err) < 0)
		abort();
	if (again.type != r.type || !same(again.service, r.service) ||
	    !same(again.mech, r.mech) || !same(again.user, r.user) ||
	    !same(again.password, r.password) ||
	    !same(again.ticket, r.ticket) || !same(again.digest, r.digest) ||
	    again.want_ticket != r.want_ticket ||
	    again.has_response != r.has_response ||
	    again.allow_plaintext != r.allow_plaintext ||
	    again.external_ssf != r.external_ssf ||
	    again.response_len != r.response_len ||
	    (r.response_len &&
	     memcmp(again.response, r.response, r.response_len) != 0))
		abort();
	attr_list_free(&out);
	buf_free(&err);
}

static void
check_reply(const struct attr_list *in)
{
	struct auth_reply r, again;
	struct attr_list out = ATTR_LIST_INIT;
	struct buf err = BUF_INIT;

	if (auth_reply_parse(in, &r, &err) < 0) {
		buf_free(&err);
		return;
	}
	check_text(r.mechs, AUTH_PROTO_MECHS_MAX);
	check_text(r.user, AUTH_PROTO_USER_MAX);
	check_text(r.reason, AUTH_PROTO_REASON_MAX);
	check_text(r.client_address, AUTH_PROTO_ADDR_MAX);
	check_text(r.server_address, AUTH_PROTO_ADDR_MAX);
	if (r.ticket != NULL && !auth_proto_ticket_ok(r.ticket))
		abort();
	if (r.challenge_len > AUTH_PROTO_DATA_MAX)
		abort();
	auth_reply_encode(&r, &out);
	if (auth_reply_parse(&out, &again, &err) < 0)
		abort();
	if (again.status != r.status || !same(again.user, r.user) ||
	    !same(again.ticket, r.ticket) || !same(again.reason, r.reason) ||
	    again.challenge_len != r.challenge_len)
		abort();
	attr_list_free(&out);
	buf_free(&err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct attr_list in = ATTR_LIST_INIT;
	size_t used;

	if (attr_decode((const char *)data, size, AUTH_PROTO_LIST_MAX, &in,
			&used) == ATTR_OK) {
		check_request(&in);
		check_reply(&in);
	}
	attr_list_free(&in);
	return 0;
}
