/*
 * smtpd_anvil - smtpd's client of the anvil service (private/anvil,
 * lib/anvil_proto.h): Postfix's per-client connection count and rate
 * limits, counted across every smtpd process of a service.
 *
 * When any smtpd_client_*_limit is set (the connection count limit is 50
 * by default), a session of a network client that is not in
 * smtpd_client_event_limit_exceptions tells anvil of its connection and
 * of its MAIL, RCPT, AUTH commands and new TLS sessions, as
 * "SERVICE:ADDRESS", and refuses what goes beyond a limit with
 * Postfix's replies and warnings:
 *   connect   421 4.7.0 HOST Error: too many connections from ADDR
 *             (Connection concurrency|rate limit exceeded: N from
 *             NAME[ADDR] for service SERVICE); the session ends
 *   MAIL      450 4.7.1 Error: too much mail from ADDR (Message delivery
 *             request rate limit exceeded ...)
 *   RCPT      450 4.7.1 Error: too many recipients from ADDR (Recipient
 *             address rate limit exceeded ...)
 *   AUTH      450 4.7.1 Error: too many AUTH commands from ADDR (AUTH
 *             command rate limit exceeded ...)
 *   STARTTLS  454 4.7.0 Error: too many new TLS sessions from ADDR once
 *             the limit is reached; a handshake beyond it (also
 *             wrappermode's) ends the session with 421 4.7.0 HOST Error:
 *             too many new TLS sessions from ADDR (New TLS session rate
 *             limit exceeded ...)
 * Local submission (sendmail's submit service) is never limited.
 *
 * anvil never stops mail: when it cannot be reached or does not answer
 * within ANVIL_CLIENT_TIMEOUT_MS, smtpd logs a warning and goes on
 * without limits, and does not try again for ANVIL_CLIENT_RETRY_MS.
 * The connection to anvil is made at the first need and kept for the
 * process's life (one that breaks is made again once, at once: anvil was
 * restarted).
 *
 * smtpd serves one client at a time (DAEMON_SINGLE): the session's
 * anvil state is this module's.
 */
#ifndef PANACEA_SMTPD_ANVIL_H
#define PANACEA_SMTPD_ANVIL_H

struct smtpd_session;

#define ANVIL_CLIENT_TIMEOUT_MS 5000
#define ANVIL_CLIENT_RETRY_MS 10000

/* The parameters, bound by smtpd.c's table. */
struct smtpd_anvil_config {
	long long conn_count_limit;
	long long conn_rate_limit;
	long long msg_rate_limit;
	long long rcpt_rate_limit;
	long long newtls_rate_limit;
	long long auth_rate_limit;
	const char *exceptions; /* smtpd_client_event_limit_exceptions */
};

extern struct smtpd_anvil_config smtpd_anvil_cfg;

/* Before the jail: the exceptions list (smtpd_cfg.mynetworks when the
 * parameter is not set). */
void smtpd_anvil_init(void);
/* After the jail: where the socket is. */
void smtpd_anvil_post_jail(const char *queue_dir);

/* Each returns 0 to go on, or -1 when the client is over a limit: the
 * reply is given and the warning logged (the caller counts the
 * failure). */
int smtpd_anvil_connect(struct smtpd_session *ss);     /* -1: end it */
void smtpd_anvil_disconnect(struct smtpd_session *ss); /* session end */
int smtpd_anvil_mail(struct smtpd_session *ss);
int smtpd_anvil_rcpt(struct smtpd_session *ss);
int smtpd_anvil_auth(struct smtpd_session *ss);
int smtpd_anvil_starttls(struct smtpd_session *ss); /* before 220 */
int smtpd_anvil_newtls(struct smtpd_session *ss);   /* -1: end it */

#endif
