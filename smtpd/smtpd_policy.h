/*
 * smtpd_policy - check_policy_service: the client side of Postfix's
 * policy delegation (SMTPD_POLICY_README), on smtpd_policy_proto's codec.
 *
 * A service is "inet:host:port", "unix:/path" or a path (relative: under
 * the queue directory, e.g. "private/policy"), optionally with Postfix's
 * per-service settings: "{ inet:127.0.0.1:10023, timeout=10s,
 * default_action=DUNNO, ... }".  A connection is kept for the process
 * (smtpd serves its sessions one after another) and reused until
 * max_idle, max_ttl or request_limit; a server that fails is tried
 * try_limit times, retry_delay apart, then default_action applies with a
 * warning.
 */
#ifndef PANACEA_SMTPD_POLICY_H
#define PANACEA_SMTPD_POLICY_H

#include "addr.h"
#include "buf.h"

struct smtpd_session;

struct smtpd_policy_service {
	char *endpoint;
	long long timeout, max_idle, max_ttl, retry_delay; /* seconds */
	long long try_limit, request_limit;
	char *default_action;
	char *context; /* policy_context */
};

/* Parses a service (the restriction's argument); NULL with err. */
struct smtpd_policy_service *smtpd_policy_parse(const char *arg,
						struct buf *err);
void smtpd_policy_free(struct smtpd_policy_service *svc);
/* Asks the service about the request at state ("RCPT", ...) and puts
 * the action to apply in action (the server's, or default_action). */
void smtpd_policy_ask(struct smtpd_session *ss,
		      const struct smtpd_policy_service *svc, const char *state,
		      const char *sender, const struct addr *rcpt,
		      const char *instance, struct buf *action);
/* Closes the connections (tests; a process keeps them for life). */
void smtpd_policy_close_all(void);

#endif
