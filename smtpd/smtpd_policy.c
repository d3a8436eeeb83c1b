/*
 * smtpd_policy - check_policy_service's client (smtpd_policy.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "daemon.h"
#include "msg.h"
#include "smtpd.h"
#include "smtpd_policy.h"
#include "smtpd_policy_proto.h"
#include "sock.h"
#include "strutil.h"
#include "xalloc.h"

#define POLICY_CONN_MAX 8

static struct policy_conn {
	const struct smtpd_policy_service *svc;
	int fd;
	struct stream s;
	time_t opened, used;
	long long requests;
} conns[POLICY_CONN_MAX];

static int
parse_seconds(const char *name, const char *v, long long *out, struct buf *err)
{
	if (conf_parse_time(v, 's', out) < 0 || *out < 0) {
		buf_printf(err, "check_policy_service: bad %s \"%s\"", name, v);
		return -1;
	}
	return 0;
}

struct smtpd_policy_service *
smtpd_policy_parse(const char *arg, struct buf *err)
{
	struct smtpd_policy_service *svc = xcalloc(1, sizeof(*svc));
	char **parts = str_split(arg, ",", NULL);
	int ok = 0;

	svc->timeout = conf_time("smtpd_policy_service_timeout");
	svc->max_idle = conf_time("smtpd_policy_service_max_idle");
	svc->max_ttl = conf_time("smtpd_policy_service_max_ttl");
	svc->retry_delay = conf_time("smtpd_policy_service_retry_delay");
	svc->try_limit = conf_int("smtpd_policy_service_try_limit");
	svc->request_limit = conf_int("smtpd_policy_service_request_limit");
	svc->default_action =
	    xstrdup(conf_str("smtpd_policy_service_default_action"));
	svc->context = xstrdup(conf_str("smtpd_policy_service_policy_context"));
	for (int i = 0; parts[i]; i++) {
		char *p = str_trim(parts[i]), *eq;
		long long n;

		if (i == 0) {
			if (*p == '\0' || strchr(p, ' ')) {
				buf_printf(err,
					   "check_policy_service: bad service "
					   "\"%s\"",
					   p);
				goto done;
			}
			svc->endpoint = xstrdup(p);
			continue;
		}
		if ((eq = strchr(p, '=')) == NULL) {
			buf_printf(err,
				   "check_policy_service: \"%s\" is not "
				   "name=value",
				   p);
			goto done;
		}
		*eq++ = '\0';
		p = str_trim(p);
		eq = str_trim(eq);
		if (strcmp(p, "timeout") == 0) {
			if (parse_seconds(p, eq, &svc->timeout, err) < 0)
				goto done;
		} else if (strcmp(p, "max_idle") == 0) {
			if (parse_seconds(p, eq, &svc->max_idle, err) < 0)
				goto done;
		} else if (strcmp(p, "max_ttl") == 0) {
			if (parse_seconds(p, eq, &svc->max_ttl, err) < 0)
				goto done;
		} else if (strcmp(p, "retry_delay") == 0) {
			if (parse_seconds(p, eq, &svc->retry_delay, err) < 0)
				goto done;
		} else if (strcmp(p, "try_limit") == 0 ||
			   strcmp(p, "request_limit") == 0) {
			if (conf_parse_int(eq, &n) < 0 || n < 0) {
				buf_printf(err,
					   "check_policy_service: bad %s "
					   "\"%s\"",
					   p, eq);
				goto done;
			}
			*(p[0] == 't' ? &svc->try_limit : &svc->request_limit) =
			    n;
		} else if (strcmp(p, "default_action") == 0) {
			xfree(svc->default_action);
			svc->default_action = xstrdup(eq);
		} else if (strcmp(p, "policy_context") == 0) {
			xfree(svc->context);
			svc->context = xstrdup(eq);
		} else {
			buf_printf(err,
				   "check_policy_service: unknown setting "
				   "\"%s\"",
				   p);
			goto done;
		}
	}
	if (svc->endpoint == NULL) {
		buf_puts(err, "check_policy_service: no service");
		goto done;
	}
	if (strncmp(svc->endpoint, "inet:", 5) == 0) {
		char *host, *port;
		if (sock_parse_endpoint(svc->endpoint + 5, &host, &port) < 0) {
			buf_printf(err,
				   "check_policy_service: bad inet service "
				   "\"%s\"",
				   svc->endpoint);
			goto done;
		}
		xfree(host);
		xfree(port);
	}
	if (svc->try_limit < 1)
		svc->try_limit = 1;
	ok = 1;
done:
	str_list_free(parts);
	if (!ok) {
		smtpd_policy_free(svc);
		return NULL;
	}
	return svc;
}

static void
conn_close(struct policy_conn *c)
{
	if (c->svc == NULL)
		return;
	stream_free(&c->s);
	close(c->fd);
	memset(c, 0, sizeof(*c));
}

void
smtpd_policy_free(struct smtpd_policy_service *svc)
{
	if (svc == NULL)
		return;
	for (int i = 0; i < POLICY_CONN_MAX; i++)
		if (conns[i].svc == svc)
			conn_close(&conns[i]);
	xfree(svc->endpoint);
	xfree(svc->default_action);
	xfree(svc->context);
	xfree(svc);
}

void
smtpd_policy_close_all(void)
{
	for (int i = 0; i < POLICY_CONN_MAX; i++)
		conn_close(&conns[i]);
}

/* The open connection to svc, or a new one; NULL with err. */
static struct policy_conn *
conn_get(const struct smtpd_policy_service *svc, struct buf *err)
{
	struct policy_conn *c = NULL;
	time_t now = time(NULL);
	int fd, ms = (int)(svc->timeout * 1000);

	for (int i = 0; i < POLICY_CONN_MAX; i++) {
		struct policy_conn *o = &conns[i];
		if (o->svc != svc)
			continue;
		if (now - o->used > svc->max_idle ||
		    now - o->opened > svc->max_ttl ||
		    (svc->request_limit && o->requests >= svc->request_limit))
			conn_close(o);
		else
			return o;
	}
	for (int i = 0; i < POLICY_CONN_MAX && !c; i++)
		if (conns[i].svc == NULL)
			c = &conns[i];
	if (c == NULL) {
		c = &conns[0];
		conn_close(c);
	}
	if (strncmp(svc->endpoint, "inet:", 5) == 0) {
		char *host, *port;
		if (sock_parse_endpoint(svc->endpoint + 5, &host, &port) < 0)
			return NULL;
		fd = sock_connect_inet(host, port, ms, err);
		xfree(host);
		xfree(port);
	} else {
		const char *path = svc->endpoint;
		struct buf full = BUF_INIT;
		if (strncmp(path, "unix:", 5) == 0)
			path += 5;
		if (*path != '/') {
			buf_printf(&full, "%s/%s", daemon_queue_dir(), path);
			path = buf_cstr(&full);
		}
		fd = sock_connect_unix(path, ms);
		if (fd < 0)
			buf_printf(err, "connect to %s: %m", path);
		buf_free(&full);
	}
	if (fd < 0)
		return NULL;
	c->svc = svc;
	c->fd = fd;
	c->opened = c->used = now;
	c->requests = 0;
	stream_init(&c->s, fd, ms);
	return c;
}

static void
build_request(struct buf *req, struct smtpd_session *ss,
	      const struct smtpd_policy_service *svc, const char *state,
	      const char *sender, const struct addr *rcpt, const char *instance)
{
	char num[32];

	policy_request_add(req, "request", "smtpd_access_policy");
	policy_request_add(req, "protocol_state", state);
	policy_request_add(req, "protocol_name", ss->esmtp ? "ESMTP" : "SMTP");
	policy_request_add(req, "client_address", ss->client_addr);
	policy_request_add(req, "client_name", ss->client_name);
	policy_request_add(req, "reverse_client_name", ss->client_name);
	snprintf(num, sizeof(num), "%d", ss->client_port);
	policy_request_add(req, "client_port", num);
	policy_request_add(req, "helo_name", ss->helo);
	policy_request_add(req, "sender", sender);
	policy_request_add(req, "recipient", rcpt ? rcpt->addr : "");
	snprintf(num, sizeof(num), "%zu", ss->env.nrcpt);
	policy_request_add(req, "recipient_count", num);
	policy_request_add(req, "queue_id", "");
	policy_request_add(req, "instance", instance);
	snprintf(num, sizeof(num), "%llu",
		 (unsigned long long)ss->declared_size);
	policy_request_add(req, "size", num);
	policy_request_add(req, "etrn_domain",
			   ss->etrn_site ? ss->etrn_site : "");
	policy_request_add(req, "stress", "");
	policy_request_add(req, "sasl_method",
			   ss->auth_user ? ss->auth_mech : "");
	policy_request_add(req, "sasl_username", ss->auth_user);
	policy_request_add(req, "sasl_sender", "");
	policy_request_add(req, "ccert_subject",
			   ss->tls_on ? ss->tls_info.peer_cn : "");
	policy_request_add(req, "ccert_issuer",
			   ss->tls_on ? ss->tls_info.issuer_cn : "");
	policy_request_add(req, "ccert_fingerprint",
			   ss->tls_on ? ss->tls_info.cert_fpt : "");
	policy_request_add(req, "ccert_pubkey_fingerprint",
			   ss->tls_on ? ss->tls_info.pkey_fpt : "");
	policy_request_add(req, "encryption_protocol",
			   ss->tls_on ? ss->tls_info.protocol : "");
	policy_request_add(req, "encryption_cipher",
			   ss->tls_on ? ss->tls_info.cipher : "");
	snprintf(num, sizeof(num), "%d",
		 ss->tls_on ? ss->tls_info.cipher_bits : 0);
	policy_request_add(req, "encryption_keysize", num);
	policy_request_add(req, "policy_context", svc->context);
	policy_request_end(req);
}

/* One exchange on c; 0, or -1 with err. */
static int
exchange(struct policy_conn *c, const struct buf *req, struct buf *action,
	 struct buf *err)
{
	struct policy_reply r;
	struct buf line = BUF_INIT;
	int rc = 0, st;

	stream_write(&c->s, req->data, req->len);
	if (stream_flush(&c->s) < 0) {
		buf_set(err, "write error");
		return -1;
	}
	policy_reply_init(&r);
	while (rc == 0) {
		st = stream_getline(&c->s, &line, POLICY_LINE_MAX + 2);
		if (st != STREAM_LINE && st != STREAM_LINE_BARE_LF) {
			buf_set(err, st == STREAM_TIMEOUT ? "timeout"
				     : st == STREAM_EOF	  ? "lost connection"
				     : st == STREAM_TOO_LONG
					 ? "reply line too long"
					 : "read error");
			rc = -1;
			break;
		}
		rc = policy_reply_line(&r, line.data ? line.data : "", line.len,
				       err);
	}
	if (rc > 0)
		buf_set(action, buf_cstr(&r.action));
	policy_reply_free(&r);
	buf_free(&line);
	c->requests++;
	c->used = time(NULL);
	return rc > 0 ? 0 : -1;
}

void
smtpd_policy_ask(struct smtpd_session *ss,
		 const struct smtpd_policy_service *svc, const char *state,
		 const char *sender, const struct addr *rcpt,
		 const char *instance, struct buf *action)
{
	struct buf req = BUF_INIT, err = BUF_INIT;

	build_request(&req, ss, svc, state, sender, rcpt, instance);
	for (long long attempt = 0; attempt < svc->try_limit; attempt++) {
		struct policy_conn *c;

		if (attempt > 0)
			sleep((unsigned)svc->retry_delay);
		buf_reset(&err);
		if ((c = conn_get(svc, &err)) == NULL)
			continue;
		if (exchange(c, &req, action, &err) == 0)
			goto done;
		conn_close(c);
	}
	msg_warn("problem talking to server %s: %s", svc->endpoint,
		 buf_cstr(&err));
	buf_set(action, svc->default_action);
done:
	buf_free(&req);
	buf_free(&err);
}
