/*
 * dovecot_auth - the codec of Dovecot's authentication protocol, client
 * side (what Postfix's xsasl_dovecot speaks to Dovecot's auth-client
 * socket): the lines a client sends and the parser of the server's lines.
 * The connection itself is auth_dovecot.c's (auth_client.h's second back
 * end).
 *
 * The dialogue, one line each, fields separated by TAB, ended by LF:
 *
 *   client: VERSION 1 2, CPID pid
 *   server: VERSION 1 n, then MECH name flags..., SPID, CUID, COOKIE,
 *           DONE (end of the handshake)
 *   client: AUTH id mech service=S nologin lip=A rip=A [secured]
 *           [resp=BASE64]
 *   server: CONT id BASE64 | OK id [user=U ...] | FAIL id [reason=R]
 *           [user=U] [temp] [code=temp_fail]
 *   client: CONT id BASE64 (the answer) | CANCEL id
 *
 * Values are escaped as Dovecot does (0x01 then '1' for 0x01, '0' NUL,
 * 't' TAB, 'r' CR, 'n' LF).
 *
 * Contract of dovecot_reply_parse(): the line (without its LF) is at most
 * DOVECOT_AUTH_LINE_MAX bytes, else -1; every field is unescaped and
 * checked before anything uses it: a user name or reason with a NUL or a
 * control character, a user name over DOVECOT_AUTH_USER_MAX bytes, a
 * mechanism name that is not RFC 4422's (1-20 of A-Z 0-9 - _, any case),
 * a request id that is not a decimal number, a challenge that is not
 * canonical base64 or decodes to more than DOVECOT_AUTH_DATA_MAX bytes:
 * -1 with err set.  A line type the client does not know is
 * DOVECOT_REPLY_OTHER (the protocol allows new ones), not an error; an
 * unknown field of a known line is ignored.  The parsed reply points into
 * its own storage (r->store), valid until the next parse or
 * dovecot_reply_free().
 */
#ifndef PANACEA_DOVECOT_AUTH_H
#define PANACEA_DOVECOT_AUTH_H

#include <stddef.h>

#include "buf.h"

/* A client response of RFC 4954's 12288 base64 octets is 9216 bytes;
 * Dovecot's own limit for a line is 16384 after base64. */
#define DOVECOT_AUTH_DATA_MAX 12288
#define DOVECOT_AUTH_LINE_MAX 20480
#define DOVECOT_AUTH_USER_MAX 255
#define DOVECOT_AUTH_REASON_MAX 512
#define DOVECOT_AUTH_MECH_MAX 20

/* MECH flags, and SASL security properties (smtpd_sasl_security_options)
 * use the same bits: a mechanism is refused when it has a forbidden one
 * or lacks a required one. */
#define DOVECOT_MECH_ANONYMOUS 0x01
#define DOVECOT_MECH_PLAINTEXT 0x02
#define DOVECOT_MECH_DICTIONARY 0x04
#define DOVECOT_MECH_ACTIVE 0x08
#define DOVECOT_MECH_FORWARD_SECRECY 0x10
#define DOVECOT_MECH_MUTUAL_AUTH 0x20
#define DOVECOT_MECH_PRIVATE 0x40

enum dovecot_reply_type {
	DOVECOT_REPLY_VERSION,
	DOVECOT_REPLY_MECH,
	DOVECOT_REPLY_DONE,
	DOVECOT_REPLY_OK,
	DOVECOT_REPLY_CONT,
	DOVECOT_REPLY_FAIL,
	DOVECOT_REPLY_OTHER, /* SPID, CUID, COOKIE and any newer line */
};

struct dovecot_reply {
	enum dovecot_reply_type type;
	unsigned major, minor; /* VERSION */
	const char *mech;      /* MECH */
	unsigned flags;	       /* MECH: DOVECOT_MECH_* */
	unsigned long id;      /* OK, CONT, FAIL */
	const char *data;      /* CONT: the decoded challenge */
	size_t data_len;
	const char *user;   /* OK, FAIL: user=, or NULL */
	const char *reason; /* FAIL: reason=, or NULL */
	int temp;	    /* FAIL: a temporary failure */
	struct buf store;
};

#define DOVECOT_REPLY_INIT                                                     \
	{                                                                      \
		.store = BUF_INIT                                              \
	}

int dovecot_reply_parse(const char *line, size_t len, struct dovecot_reply *r,
			struct buf *err);
void dovecot_reply_free(struct dovecot_reply *r);

/*
 * The server side (Panacea's auth service speaking Dovecot's protocol):
 * the client's lines, parsed with the same rules (dovecot_request_parse:
 * a bounded line, every text field checked: service, lip, rip, lport,
 * rport at most 63 bytes without control characters; the mechanism of
 * RFC 4422's alphabet; resp= and CONT's data canonical base64 of at most
 * DOVECOT_AUTH_DATA_MAX bytes).  The store holds decoded responses
 * (passwords): dovecot_request_free() wipes it.
 */
enum dovecot_request_type {
	DOVECOT_REQUEST_VERSION,
	DOVECOT_REQUEST_CPID,
	DOVECOT_REQUEST_AUTH,
	DOVECOT_REQUEST_CONT,
	DOVECOT_REQUEST_CANCEL,
	DOVECOT_REQUEST_OTHER,
};

struct dovecot_request {
	enum dovecot_request_type type;
	unsigned major;	  /* VERSION */
	unsigned long id; /* AUTH, CONT, CANCEL */
	const char *mech; /* AUTH */
	const char *service, *local_ip, *remote_ip, *local_port, *remote_port;
	int secured;
	unsigned ssf;
	int has_resp; /* AUTH with resp=, CONT */
	const char *resp;
	size_t resp_len;
	struct buf store;
};

#define DOVECOT_REQUEST_INIT                                                   \
	{                                                                      \
		.store = BUF_INIT                                              \
	}

int dovecot_request_parse(const char *line, size_t len,
			  struct dovecot_request *r, struct buf *err);
void dovecot_request_free(struct dovecot_request *r);
/* OK id user=U, FAIL id [temp], MECH name flags (LF included). */
void dovecot_ok_encode(struct buf *out, unsigned long id, const char *user);
void dovecot_fail_encode(struct buf *out, unsigned long id, int temp);
void dovecot_mech_encode(struct buf *out, const char *mech, unsigned flags);

/* The client's handshake: VERSION and CPID lines. */
void dovecot_hello_encode(struct buf *out, unsigned long pid);

struct dovecot_auth_request {
	unsigned long id;
	const char *mech;
	const char *service;		  /* "smtp" */
	const char *local_ip, *remote_ip; /* NULL or "": not sent */
	const char *local_port, *remote_port;
	int secured;	  /* TLS (or a local socket) */
	unsigned ssf;	  /* TLS cipher bits, 0: not sent */
	const void *resp; /* NULL: no initial response */
	size_t resp_len;
};

/* The AUTH line, LF included. */
void dovecot_auth_encode(struct buf *out, const struct dovecot_auth_request *r);
/* CONT id BASE64, LF included. */
void dovecot_cont_encode(struct buf *out, unsigned long id, const void *data,
			 size_t len);
/* CANCEL id, LF included. */
void dovecot_cancel_encode(struct buf *out, unsigned long id);

/*
 * Postfix's smtpd_sasl_security_options words: noplaintext,
 * noanonymous, nodictionary, noactive forbid; mutual_auth,
 * forward_secrecy require (separated by spaces or commas; an unknown
 * word is -1 with err set).
 */
int dovecot_security_parse(const char *opts, unsigned *forbid,
			   unsigned *require, struct buf *err);
/* The flags of a mechanism known by name (for a server that gives no
 * flags: Panacea's auth service). */
unsigned dovecot_mech_flags_by_name(const char *mech);

#endif
