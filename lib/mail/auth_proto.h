/*
 * auth_proto - the requests and replies of the auth service
 * (private/auth, auth/), as attribute lists (attr.h): the one codec both
 * sides use, so that what a client may send and what the service accepts
 * are checked by the same code (and fuzzed: tests/fuzz/fuzz_auth_proto.c).
 *
 * A connection carries one client's authentication(s), one request and
 * one reply at a time, in order:
 *
 *   mechs      service (smtp|pop), client_address, client_port,
 *              server_address, server_port, allow_plaintext, external_ssf
 *              -> ok mechs="PLAIN LOGIN ..."; sets the session's
 *              parameters for every request that follows
 *   start      mech, has_response, response (raw bytes), want_ticket
 *   step       response (raw bytes)
 *   checkpass  user, password, want_ticket          (POP3 USER/PASS)
 *   apop       user, timestamp, digest, want_ticket (RFC 1939 APOP)
 *   cancel     the exchange in progress is thrown away -> ok
 *   redeem     ticket (the service lets only root do this)
 *
 * Replies: continue challenge=BYTES | ok [user] [ticket] [mechs]
 *          [service client_address server_address (redeem)] | fail
 *          reason | nomech
 *          | tempfail reason.  A reason is for the log, never for a client.
 *
 * Contract of the decoders (auth_request_parse, auth_reply_parse): every
 * field is checked against the bounds below before anything uses it; a
 * field a request does not use is ignored; a missing, repeated-but-
 * conflicting or malformed field is -1 with a message in err.  Text fields
 * hold no NUL and no control character; the raw byte fields (response,
 * challenge, password) may hold anything but are bounded.  The parsed
 * structures point into the attr_list, which must outlive them.
 *
 * A whole list is at most AUTH_PROTO_LIST_MAX bytes: enough for the
 * longest SASL response smtpd reads (RFC 4954: a 12288-octet line of
 * base64, 9216 bytes decoded) with room to spare, and small enough that a
 * peer cannot make the service buffer much.
 */
#ifndef PANACEA_AUTH_PROTO_H
#define PANACEA_AUTH_PROTO_H

#include <stddef.h>

#include "attr.h"
#include "buf.h"

#define AUTH_PROTO_LIST_MAX (32 * 1024)
#define AUTH_PROTO_DATA_MAX 12288    /* response, challenge bytes */
#define AUTH_PROTO_PASSWORD_MAX 1024 /* checkpass */
#define AUTH_PROTO_USER_MAX 255	     /* = SASL_AUTH_NAME_MAX */
#define AUTH_PROTO_ADDR_MAX 63	     /* numeric address text */
#define AUTH_PROTO_MECH_MAX 20	     /* RFC 4422 SASL_MECHNAMEMAX */
#define AUTH_PROTO_MECHS_MAX 1024    /* the space-separated list */
#define AUTH_PROTO_TIMESTAMP_MAX 255 /* "<pid.time@host>" */
#define AUTH_PROTO_REASON_MAX 512
#define AUTH_PROTO_TICKET_LEN 32 /* 128 random bits, lowercase hex */
#define AUTH_PROTO_DIGEST_LEN 32 /* MD5, hex */

enum auth_request_type {
	AUTH_REQ_MECHS,
	AUTH_REQ_START,
	AUTH_REQ_STEP,
	AUTH_REQ_CHECKPASS,
	AUTH_REQ_APOP,
	AUTH_REQ_CANCEL,
	AUTH_REQ_REDEEM,
};

struct auth_request {
	enum auth_request_type type;
	/* mechs */
	const char *service; /* "smtp" or "pop" */
	const char *client_address, *client_port;
	const char *server_address, *server_port; /* may be "" */
	int allow_plaintext;
	unsigned external_ssf;
	/* start, step */
	const char *mech;
	int has_response; /* start: an initial response (maybe empty) */
	const char *response;
	size_t response_len;
	/* start, checkpass, apop */
	int want_ticket;
	/* checkpass, apop */
	const char *user;
	const char *password;
	const char *timestamp;
	const char *digest;
	/* redeem */
	const char *ticket;
};

enum auth_reply_status {
	AUTH_REPLY_OK,
	AUTH_REPLY_CONTINUE,
	AUTH_REPLY_FAIL,
	AUTH_REPLY_NOMECH,
	AUTH_REPLY_TEMPFAIL,
};

struct auth_reply {
	enum auth_reply_status status;
	const char *mechs;     /* ok to mechs */
	const char *challenge; /* continue */
	size_t challenge_len;
	const char *user;	    /* ok to an exchange or redeem */
	const char *ticket;	    /* ok, when one was asked for */
	const char *service;	    /* ok to redeem */
	const char *client_address; /* ok to redeem */
	const char *server_address; /* ok to redeem ("": unknown) */
	const char *reason;	    /* fail, tempfail (may be NULL) */
};

/* Appends the attribute list of r (only the fields its type uses). */
void auth_request_encode(const struct auth_request *r, struct attr_list *out);
int auth_request_parse(const struct attr_list *in, struct auth_request *r,
		       struct buf *err);

void auth_reply_encode(const struct auth_reply *r, struct attr_list *out);
int auth_reply_parse(const struct attr_list *in, struct auth_reply *r,
		     struct buf *err);

/* 1 when s is exactly AUTH_PROTO_TICKET_LEN lowercase hex digits. */
int auth_proto_ticket_ok(const char *s);

#endif
