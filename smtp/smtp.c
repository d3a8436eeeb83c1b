/*
 * smtp - the Panacea SMTP client delivery agent.
 *
 * Runs under master (services: "smtp unix - - y - - smtp") on the daemon
 * skeleton, one qmgr connection at a time.  Each connection carries one
 * delivery request (deliver_proto.h): a queue id, the next hop and a group
 * of recipients.  The agent reads the content from the queue itself,
 * delivers to the next hop's servers (smtp_connect.c), logs each
 * recipient's result in Postfix's shape and answers with one status per
 * recipient.
 *
 * Before the jail it opens what it cannot reach afterwards: the resolver
 * settings, the TLS trust anchors, the password and TLS policy tables and
 * libsasl2's plugins.  After chroot and the drop to mail_owner it opens the
 * queue environment, as every process does.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "attr.h"
#include "conf.h"
#include "daemon.h"
#include "deliver_request.h"
#include "delivery_log.h"
#include "msg.h"
#include "own_addr.h"
#include "sasl_auth.h"
#include "smtp.h"
#include "smtp_params.h"
#include "tls_params.h"
#include "strutil.h"
#include "xalloc.h"

struct smtp_config smtp_cfg;

double
smtp_now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* --- configuration --------------------------------------------------- */

/* Parameters read as they are before smtp_cfg holds what is derived from
 * them. */
static struct {
	long long dest_port, mx_address_limit, cache_time_limit;
	long long connect_timeout, helo_timeout, starttls_timeout;
	long long mail_timeout, rcpt_timeout, data_init_timeout;
	long long data_xfer_timeout, data_done_timeout, quit_timeout;
	const char *inet_protocols, *bind_address, *bind_address6;
	const char *dns_nameservers, *inet_interfaces, *proxy_interfaces;
	const char *tls_level, *tls_policy_maps;
	const char *dns_support_level;
	int disable_dns_lookups;
	struct tls_params tls_params;
	int use_tls, enforce_tls, enforce_peername;
	const char *sasl_password_maps, *sasl_security_options;
	const char *sasl_tls_security_options;
} raw;

/* Every parameter smtp reads (conf.h, conf_bind). */
static const struct conf_bind smtp_params[] = {
    CONF_BIND_INT("smtp_destination_port", &raw.dest_port),
    CONF_BIND_STR("smtp_helo_name", &smtp_cfg.helo_name),
    CONF_BIND_TIME("smtp_helo_timeout", &raw.helo_timeout),
    SMTP_CLIENT_BIND("smtp", raw),
    TLS_PARAMS_BIND("smtp", &raw.tls_params),
    CONF_BIND_END,
};

/* The same as lmtp(8): Postfix's lmtp_* names of the same settings
 * (lmtp_lhlo_* for smtp_helo_*, lmtp_tcp_port for the port), bound to
 * the same fields. */
static const struct conf_bind lmtp_params[] = {
    CONF_BIND_INT("lmtp_tcp_port", &raw.dest_port),
    CONF_BIND_STR("lmtp_lhlo_name", &smtp_cfg.helo_name),
    CONF_BIND_TIME("lmtp_lhlo_timeout", &raw.helo_timeout),
    SMTP_CLIENT_BIND("lmtp", raw),
    TLS_PARAMS_BIND("lmtp", &raw.tls_params),
    CONF_BIND_END,
};

/* A timeout in milliseconds, at most a day. */
static int
ms(long long s)
{
	return s > 3600 * 24 ? 3600 * 24 * 1000 : (int)s * 1000;
}

static void
parse_bind(const char *name, const char *v, int family,
	   struct sockaddr_storage *ss, socklen_t *len)
{
	*len = 0;
	if (*v == '\0')
		return;
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, v, &sin->sin_addr) != 1)
			msg_fatal("%s: not an IPv4 address: %s", name, v);
		sin->sin_family = AF_INET;
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, v, &sin6->sin6_addr) != 1)
			msg_fatal("%s: not an IPv6 address: %s", name, v);
		sin6->sin6_family = AF_INET6;
		*len = sizeof(*sin6);
	}
}

static int
inet_families(void)
{
	const char *v = raw.inet_protocols;
	int f = 0;

	if (str_list_match(v, "all"))
		return DNS_INET_ALL;
	if (str_list_match(v, "ipv4"))
		f |= DNS_INET4;
	if (str_list_match(v, "ipv6"))
		f |= DNS_INET6;
	if (f == 0)
		msg_fatal("inet_protocols: no usable protocol in \"%s\"", v);
	return f;
}

/* A parameter's name for messages: "smtp_..." or, as lmtp, "lmtp_...";
 * suffix starts with '_'.  Valid until the fourth call after. */
static const char *
pname(const char *suffix)
{
	static char names[4][64];
	static unsigned n;
	char *out = names[n++ % 4];

	snprintf(out, sizeof(names[0]), "%s%s", smtp_cfg.proto, suffix);
	return out;
}

/* Is plaintext AUTH allowed by a smtp_sasl_*security_options value? */
static int
sasl_plain_ok(const char *value)
{
	return !str_list_match(value, "noplaintext");
}

static struct maps *
open_maps(const char *name, const char *value)
{
	struct buf err = BUF_INIT;
	struct maps *m;

	if (*value == '\0')
		return NULL;
	if ((m = maps_open(value, &err)) == NULL)
		msg_fatal("%s: %s", name, buf_cstr(&err));
	buf_free(&err);
	return m;
}

/* The level an empty smtp_tls_security_level stands for: Postfix's
 * legacy smtp_enforce_tls (verify, or encrypt without
 * smtp_tls_enforce_peername) and smtp_use_tls (postconf(5)). */
static const char *
smtp_legacy_level(void)
{
	if (raw.enforce_tls)
		return raw.enforce_peername ? "verify" : "encrypt";
	return raw.use_tls ? "may" : "none";
}

/* smtp_dns_support_level; empty: the legacy disable_dns_lookups. */
static void
smtp_dns_init(void)
{
	const char *v = raw.dns_support_level;

	if (*v == '\0')
		smtp_cfg.dns_level = raw.disable_dns_lookups ? SMTP_DNS_DISABLED
							     : SMTP_DNS_ENABLED;
	else if (str_casecmp(v, "disabled") == 0)
		smtp_cfg.dns_level = SMTP_DNS_DISABLED;
	else if (str_casecmp(v, "enabled") == 0)
		smtp_cfg.dns_level = SMTP_DNS_ENABLED;
	else if (str_casecmp(v, "dnssec") == 0)
		smtp_cfg.dns_level = SMTP_DNS_DNSSEC;
	else
		msg_fatal("%s: unknown level \"%s\"",
			  pname("_dns_support_level"), v);
	dns_set_dnssec(smtp_cfg.dns_level == SMTP_DNS_DNSSEC);
}

static void
smtp_tls_init(void)
{
	const char *level =
	    *raw.tls_level ? raw.tls_level : smtp_legacy_level();
	struct buf err = BUF_INIT;
	enum tls_level lvl;
	enum smtp_dane_mode dane;

	if (smtp_tls_level_parse(level, &lvl, &dane) < 0)
		msg_fatal("%s: unknown level \"%s\"",
			  pname("_tls_security_level"), level);
	/* Postfix says the same: without validated answers there is no
	 * DANE, and dane then behaves as may, dane-only defers. */
	if (dane != SMTP_DANE_OFF && smtp_cfg.dns_level != SMTP_DNS_DNSSEC)
		msg_warn("%s = %s needs %s = dnssec: no DANE until then",
			 pname("_tls_security_level"), level,
			 pname("_dns_support_level"));
	/* Postfix: SMTPS is TLS or nothing; a level that could fall back to
	 * plaintext does not fit it. */
	if (smtp_cfg.tls_wrappermode && lvl < TLS_LEVEL_ENCRYPT)
		msg_fatal("%s = yes requires %s = encrypt or stronger",
			  pname("_tls_wrappermode"),
			  pname("_tls_security_level"));
	smtp_cfg.tls_level = lvl;
	smtp_cfg.tls_dane = dane;
	smtp_cfg.tls_policy =
	    open_maps(pname("_tls_policy_maps"), raw.tls_policy_maps);
	if (lvl == TLS_LEVEL_NONE && smtp_cfg.tls_policy == NULL)
		return;
	raw.tls_params.prefix = smtp_cfg.proto;
	smtp_cfg.tls = tls_params_client_ctx(&raw.tls_params);
	smtp_cfg.tls_params = &raw.tls_params;
	tls_params_apply(smtp_cfg.tls, &raw.tls_params, 1, 0);
	buf_free(&err);
}

/* libsasl2 loads its plugins at its first client; that must happen
 * before chroot, where the plugin folder is out of reach. */
static void
smtp_sasl_init(void)
{
	struct sasl_auth_client *cli;
	struct buf err = BUF_INIT;

	if (!smtp_cfg.sasl_enable)
		return;
	smtp_cfg.sasl_passwords =
	    open_maps(pname("_sasl_password_maps"), raw.sasl_password_maps);
	smtp_cfg.sasl_plain_without_tls =
	    sasl_plain_ok(raw.sasl_security_options);
	smtp_cfg.sasl_plain_with_tls =
	    sasl_plain_ok(raw.sasl_tls_security_options);
	cli = sasl_auth_client_new("smtp", "localhost", "x", "x", 1, &err);
	if (cli == NULL)
		msg_fatal("SASL client: %s", buf_cstr(&err));
	sasl_auth_client_free(cli);
	buf_free(&err);
}

static void
smtp_pre_jail(void)
{
	struct buf err = BUF_INIT;
	long long port = raw.dest_port;

	if (port < 1 || port > 65535)
		msg_fatal("%s: %lld is not a port",
			  smtp_cfg.lmtp ? "lmtp_tcp_port"
					: "smtp_destination_port",
			  port);
	smtp_cfg.dest_port = (unsigned)port;
	smtp_cfg.families = inet_families();
	smtp_cfg.mx_address_limit = (long)raw.mx_address_limit;
	smtp_cfg.connect_timeout_ms = ms(raw.connect_timeout);
	if (smtp_cfg.connect_timeout_ms == 0)
		smtp_cfg.connect_timeout_ms = -1;
	smtp_cfg.helo_timeout_ms = ms(raw.helo_timeout);
	smtp_cfg.starttls_timeout_ms = ms(raw.starttls_timeout);
	smtp_cfg.mail_timeout_ms = ms(raw.mail_timeout);
	smtp_cfg.rcpt_timeout_ms = ms(raw.rcpt_timeout);
	smtp_cfg.data_init_timeout_ms = ms(raw.data_init_timeout);
	smtp_cfg.data_xfer_timeout_ms = ms(raw.data_xfer_timeout);
	smtp_cfg.data_done_timeout_ms = ms(raw.data_done_timeout);
	smtp_cfg.quit_timeout_ms = ms(raw.quit_timeout);
	smtp_cfg.cache_time_limit = (int)raw.cache_time_limit;
	parse_bind(pname("_bind_address"), raw.bind_address, AF_INET,
		   &smtp_cfg.bind4, &smtp_cfg.bind4_len);
	parse_bind(pname("_bind_address6"), raw.bind_address6, AF_INET6,
		   &smtp_cfg.bind6, &smtp_cfg.bind6_len);
	if (dns_init(raw.dns_nameservers, &err) < 0)
		msg_fatal("DNS resolver: %s", buf_cstr(&err));
	smtp_dns_init();
	if (own_addr_init(raw.inet_interfaces, raw.proxy_interfaces,
			  smtp_cfg.families, &err) < 0)
		msg_fatal("%s", buf_cstr(&err));
	smtp_tls_init();
	smtp_sasl_init();
	smtp_content_init();
	buf_free(&err);
}

static void
smtp_post_jail(void)
{
	smtp_cfg.queue = daemon_queue_open();
}

static void
smtp_pre_exit(void)
{
	smtp_cache_close();
	queue_close(smtp_cfg.queue);
	smtp_cfg.queue = NULL;
}

/* --- results ----------------------------------------------------------- */

size_t
smtp_pending(const struct smtp_request *req)
{
	size_t i, n = 0;

	for (i = 0; i < req->nrcpt; i++)
		if (req->rcpts[i].state != SMTP_RCPT_DONE)
			n++;
	return n;
}

void
smtp_target_name(const struct smtp_target *t, char *out, size_t len)
{
	snprintf(out, len, "%s[%s]", t->host, t->path[0] ? t->path : t->ip);
}

/* A socket has no port: "host[path]", as Postfix's lmtp logs it. */
void
smtp_target_relay(const struct smtp_target *t, char *out, size_t len)
{
	if (t->path[0] != '\0')
		smtp_target_name(t, out, len);
	else
		snprintf(out, len, "%s[%s]:%u", t->host, t->ip, t->port);
}

void
smtp_rcpt_result(struct smtp_request *req, struct smtp_rcpt *r, int cls,
		 const char *dsn, const char *text, const struct smtp_target *t,
		 int final)
{
	if (r->state == SMTP_RCPT_DONE)
		return;
	r->class = cls;
	snprintf(r->dsn, sizeof(r->dsn), "%s", dsn);
	buf_set(&r->text, text);
	if (t != NULL) {
		smtp_target_relay(t, r->relay, sizeof(r->relay));
		snprintf(r->remote_mta, sizeof(r->remote_mta), "%s", t->host);
	}
	r->t_conn = req->t_conn > 0 ? req->t_conn : smtp_now();
	r->t_done = smtp_now();
	/* A soft failure on a server that is not the last one: the next
	 * server may take the recipient. */
	r->state = cls == DELIVER_CLASS_DEFER && !final ? SMTP_RCPT_TODO
							: SMTP_RCPT_DONE;
}

void
smtp_all_result(struct smtp_request *req, int cls, const char *dsn,
		const char *text, const struct smtp_target *t, int final)
{
	size_t i;

	for (i = 0; i < req->nrcpt; i++)
		smtp_rcpt_result(req, &req->rcpts[i], cls, dsn, text, t, final);
}

static void
smtp_keep_reason(struct smtp_request *req, const char *dsn, const char *text)
{
	snprintf(req->reason_dsn, sizeof(req->reason_dsn), "%s", dsn);
	if (req->reasons.len > SMTP_REASONS_MAX)
		return;
	if (req->reasons.len > 0)
		buf_puts(&req->reasons, "; ");
	buf_puts(&req->reasons, text);
	if (req->reasons.len > SMTP_REASONS_MAX) {
		buf_truncate(&req->reasons, SMTP_REASONS_MAX);
		buf_puts(&req->reasons, "...");
	}
}

void
smtp_add_reason(struct smtp_request *req, const char *dsn, const char *text)
{
	msg_info("%s: %s", req->queue_id, text);
	smtp_keep_reason(req, dsn, text);
}

void
smtp_add_server_reason(struct smtp_request *req, const char *dsn,
		       const char *text)
{
	msg_info("%s", text);
	smtp_keep_reason(req, dsn, text);
}

/* Recipients never decided: deferred with what is known. */
static void
finish_pending(struct smtp_request *req)
{
	size_t i;

	for (i = 0; i < req->nrcpt; i++) {
		struct smtp_rcpt *r = &req->rcpts[i];

		if (r->state == SMTP_RCPT_DONE)
			continue;
		r->state = SMTP_RCPT_DONE;
		if (r->class == DELIVER_CLASS_DEFER)
			continue; /* a server's soft reply: keep its text */
		r->class = DELIVER_CLASS_DEFER;
		snprintf(r->dsn, sizeof(r->dsn), "%s",
			 req->reason_dsn[0] ? req->reason_dsn : "4.4.1");
		buf_set(&r->text, req->reasons.len ? buf_cstr(&req->reasons)
						   : "delivery temporarily "
						     "suspended");
		r->t_conn = r->t_done = smtp_now();
	}
}

static void
log_rcpt(const struct smtp_request *req, const struct smtp_rcpt *r)
{
	struct buf orig = BUF_INIT;
	struct delivery_event ev = {
	    .queue_id = req->queue_id,
	    .to = r->address,
	    .relay = r->relay[0] ? r->relay : "none",
	    .dsn = r->dsn,
	    .status = delivery_log_status(r->class),
	    .text = buf_cstr(&r->text),
	    .arrival = req->arrival,
	    .active = req->active,
	    .handoff = req->t_start,
	    .conn_setup = r->t_conn,
	    .done = r->t_done,
	};

	delivery_log_orcpt(&orig, r->orcpt);
	ev.orig_to = buf_cstr(&orig);
	delivery_log(&ev);
	buf_free(&orig);
}

/* --- the request ------------------------------------------------------- */

static void
request_free(struct smtp_request *req)
{
	size_t i;

	for (i = 0; i < req->nrcpt; i++) {
		xfree(req->rcpts[i].address);
		xfree(req->rcpts[i].orcpt);
		buf_free(&req->rcpts[i].text);
	}
	xfree(req->rcpts);
	xfree(req->nexthop);
	xfree(req->sender);
	xfree(req->envid);
	xfree(req->client_addr);
	buf_free(&req->reasons);
	memset(req, 0, sizeof(*req));
}

/* The decoded request (deliver_request.h) as smtp works on it. */
static void
take_request(const struct deliver_request *d, struct smtp_request *req)
{
	snprintf(req->queue_id, sizeof(req->queue_id), "%s", d->queue_id);
	req->nexthop = xstrdup(d->nexthop);
	req->sender = xstrdup(d->sender);
	req->envid = xstrdup(d->envid);
	req->client_addr = xstrdup(d->client_addr);
	req->arrival = (double)d->arrival + (double)d->arrival_usec / 1e6;
	req->active = (double)d->active_ms / 1e3;
	req->size = (uint64_t)d->size;
	req->flags = (unsigned)d->flags;
	req->ret = (int)d->ret;
	req->rcpts = xcalloc(d->nrcpt, sizeof(*req->rcpts));
	req->nrcpt = d->nrcpt;
	for (size_t i = 0; i < d->nrcpt; i++) {
		req->rcpts[i].index = d->rcpts[i].index;
		req->rcpts[i].address = xstrdup(d->rcpts[i].address);
		req->rcpts[i].orcpt = xstrdup(d->rcpts[i].orcpt);
		req->rcpts[i].notify = (unsigned)d->rcpts[i].notify;
	}
}

static void
send_reply(int fd, const struct smtp_request *req, const char *fail)
{
	struct deliver_reply reply;

	memset(&reply, 0, sizeof(reply));
	for (size_t i = 0; fail == NULL && i < req->nrcpt; i++) {
		const struct smtp_rcpt *r = &req->rcpts[i];

		deliver_reply_add(
		    &reply, r->index, r->class, r->dsn, buf_cstr(&r->text),
		    r->relay[0] ? r->relay : "none", r->remote_mta);
	}
	deliver_reply_finish(&reply, fail);
	if (deliver_reply_send(fd, &reply, 60 * 1000) < 0)
		msg_warn("cannot send the delivery reply to qmgr: %s",
			 strerror(errno));
	deliver_reply_free(&reply);
}

static void
smtp_serve(int fd)
{
	struct deliver_request d;
	struct smtp_request req;
	struct buf why = BUF_INIT;
	size_t i;
	int rc;

	memset(&d, 0, sizeof(d));
	memset(&req, 0, sizeof(req));
	if ((rc = deliver_request_recv(fd, &d, 60 * 1000, &why)) < 0) {
		msg_warn("bad delivery request: %s", buf_cstr(&why));
		if (rc == -2)
			send_reply(fd, &req, buf_cstr(&why));
		goto out;
	}
	req.t_start = smtp_now();
	take_request(&d, &req);
	smtp_deliver(&req);
	finish_pending(&req);
	for (i = 0; i < req.nrcpt; i++)
		log_rcpt(&req, &req.rcpts[i]);
	send_reply(fd, &req, NULL);
out:
	deliver_request_free(&d);
	request_free(&req);
	buf_free(&why);
}

int
main(int argc, char **argv)
{
	struct daemon_ops ops = {
	    .mode = DAEMON_SINGLE,
	    .params = smtp_params,
	    .pre_jail = smtp_pre_jail,
	    .post_jail = smtp_post_jail,
	    .serve = smtp_serve,
	    .pre_exit = smtp_pre_exit,
	};

	/* lmtp when the program runs under that name, as Postfix's. */
	smtp_cfg.lmtp = daemon_invoked_as(argc, argv, "lmtp");
	smtp_cfg.proto = smtp_cfg.lmtp ? "lmtp" : "smtp";
	if (smtp_cfg.lmtp)
		ops.params = lmtp_params;
	daemon_main(argc, argv, &ops);
}
