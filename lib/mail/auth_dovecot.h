/*
 * auth_dovecot - auth_client.h's second back end: Dovecot's auth server
 * (smtpd_sasl_type = dovecot), over its protocol (dovecot_auth.h).  Only
 * auth_client.c calls it; smtpd and pop3d see auth_client.h alone.
 *
 * Contract:
 *  - auth_dovecot_connect() connects (a UNIX-domain socket path, or
 *    "inet:host:port") and completes the handshake (Dovecot's VERSION 1,
 *    the mechanisms it announces but private ones); NULL with err set;
 *  - auth_dovecot_mechs() gives the announced mechanisms without those
 *    with a forbidden flag or without a required one, and without the
 *    plaintext ones unless allow_plaintext;
 *  - start/step as auth_client_start/step; on SASL_AUTH_OK user holds
 *    Dovecot's user= name.  A dead connection before an exchange is made
 *    again once (Dovecot restarted); in the middle of one, or a reply
 *    that does not parse, it is TEMPFAIL and the connection is closed;
 *    a FAIL with Dovecot's "temp" is TEMPFAIL, another FAIL is FAIL;
 *  - auth_dovecot_cancel() sends CANCEL for an exchange in progress.
 */
#ifndef PANACEA_AUTH_DOVECOT_H
#define PANACEA_AUTH_DOVECOT_H

#include <stddef.h>

#include "buf.h"
#include "sasl_auth.h"

struct auth_dovecot_session {
	const char *service;
	const char *local_ip, *local_port;
	const char *remote_ip, *remote_port;
	int secured;
	unsigned ssf;
};

struct auth_dovecot;

struct auth_dovecot *auth_dovecot_connect(const char *path, int timeout_ms,
					  struct buf *err);
void auth_dovecot_free(struct auth_dovecot *d);
int auth_dovecot_mechs(struct auth_dovecot *d, unsigned forbid,
		       unsigned require, int allow_plaintext, struct buf *out,
		       struct buf *err);
enum sasl_auth_result auth_dovecot_start(struct auth_dovecot *d,
					 const struct auth_dovecot_session *s,
					 const char *mech, const void *resp,
					 size_t resp_len, struct buf *challenge,
					 struct buf *user, struct buf *reason);
enum sasl_auth_result auth_dovecot_step(struct auth_dovecot *d,
					const void *resp, size_t resp_len,
					struct buf *challenge, struct buf *user,
					struct buf *reason);
void auth_dovecot_cancel(struct auth_dovecot *d);

#endif
