/*
 * smtp_connect - from a next hop to servers: MX lookup (or the host of a
 * "[host]" next hop), the addresses of each MX host in preference order,
 * and one session after the other until every recipient is decided or
 * smtp_mx_address_limit addresses were tried.
 *
 * A server that refuses the connection, times out, greets with 4xx (or
 * 5xx: smtp_skip_5xx_greeting) or drops the session is skipped; the
 * reason is kept for the deferral text.  DNS failures decide every
 * recipient at once: NXDOMAIN 5.1.2, null MX 5.1.10, an MX list that
 * loops back to this host 5.4.6 (by name, or by address towards port 25:
 * mx_targets), a temporary failure 4.4.3.
 *
 * Connection reuse: a clean session may stay open after the request for
 * the next request to the same next hop, for at most
 * smtp_connection_cache_time_limit seconds between uses (RSET before the
 * next message).  A timer of the daemon's event loop ends it with QUIT
 * when it waited that long; a request for another next hop, or the
 * process's exit, ends it earlier.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "deliver_proto.h"
#include "events.h"
#include "msg.h"
#include "own_addr.h"
#include "smtp.h"
#include "sock.h"
#include "xalloc.h"

static struct smtp_conn cache;
static int cache_active;
static unsigned long cache_timer;

void
smtp_cache_close(void)
{
	if (cache_timer != 0)
		event_timer_cancel(cache_timer);
	cache_timer = 0;
	if (!cache_active)
		return;
	smtp_conn_close(&cache, 1);
	cache_active = 0;
}

/* The kept connection was not used in time: end it from the daemon's
 * event loop while the process waits for the next request. */
static void
cache_expired(void *ctx)
{
	(void)ctx;
	cache_timer = 0;
	smtp_cache_close();
}

static void
cache_keep(void)
{
	cache.since = smtp_now();
	cache_active = 1;
	if (cache_timer != 0)
		event_timer_cancel(cache_timer);
	cache_timer = event_timer_add(
	    (long long)smtp_cfg.cache_time_limit * 1000, cache_expired, NULL);
}

/* --- targets ----------------------------------------------------------- */

struct target_list {
	struct smtp_target *t;
	size_t n;
	size_t max; /* smtp_mx_address_limit, 0 = none */
};

static int
targets_full(const struct target_list *tl)
{
	return tl->max > 0 && tl->n >= tl->max;
}

static void
target_add(struct target_list *tl, const char *host,
	   const struct sockaddr_storage *ss, const struct nexthop *nh,
	   const char *nh_text)
{
	struct smtp_target *t;
	socklen_t len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						  : sizeof(struct sockaddr_in);

	if (targets_full(tl))
		return;
	tl->t = xreallocarray(tl->t, tl->n + 1, sizeof(*tl->t));
	t = &tl->t[tl->n++];
	memset(t, 0, sizeof(*t));
	snprintf(t->host, sizeof(t->host), "%s", host);
	memcpy(&t->addr, ss, len);
	t->addrlen = len;
	t->port = nh->port;
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)&t->addr)->sin6_port =
		    htons((uint16_t)nh->port);
	else
		((struct sockaddr_in *)&t->addr)->sin_port =
		    htons((uint16_t)nh->port);
	sock_addr_text((struct sockaddr *)&t->addr, t->ip, sizeof(t->ip));
	t->nh = nh;
	t->nexthop_text = nh_text;
}

/*
 * Loop detection by address, as Postfix does it: only towards port 25
 * (a next hop on another port is a content filter or a test peer on one
 * of our own addresses, not a loop), an address of inet_interfaces or
 * proxy_interfaces (own_addr.h) is this host, whatever its name.
 */
static int
loop_check(const struct nexthop *nh)
{
	return nh->port == 25;
}

/* smtp_dns_support_level = disabled: the C library's lookup ("native",
 * /etc/hosts first), never secure. */
static int
native_lookup(const char *host, struct dns_addr_list *al, struct buf *why)
{
	struct addrinfo hints, *res = NULL, *ai;
	int rc;

	memset(al, 0, sizeof(*al));
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = smtp_cfg.families == DNS_INET4   ? AF_INET
			  : smtp_cfg.families == DNS_INET6 ? AF_INET6
							   : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, NULL, &hints, &res)) != 0) {
		buf_reset(why);
		buf_printf(why,
			   "Host or domain name not found. Name service "
			   "error for name=%s type=A: %s",
			   host, gai_strerror(rc));
		return rc == EAI_AGAIN ? DNS_TEMPFAIL : DNS_NOTFOUND;
	}
	for (ai = res; ai != NULL && al->count < DNS_ADDR_MAX; ai = ai->ai_next)
		if (ai->ai_addrlen <= sizeof(al->addr[0]))
			memcpy(&al->addr[al->count++], ai->ai_addr,
			       ai->ai_addrlen);
	freeaddrinfo(res);
	return al->count > 0 ? DNS_OK : DNS_NOTFOUND;
}

/* Adds the addresses of host; returns its DNS status.  *self is set when
 * one of them is our own (loop_check): then none of them is added.
 * mx_secure: the MX records that named host were validated. */
static int
add_host(struct target_list *tl, const char *host, const struct nexthop *nh,
	 const char *nh_text, int mx_secure, struct buf *why, int *self)
{
	struct dns_addr_list al;
	size_t i, first = tl->n;
	int st;

	*self = 0;
	if (smtp_cfg.dns_level == SMTP_DNS_DISABLED)
		st = native_lookup(host, &al, why);
	else
		st = dns_lookup_addr(host, smtp_cfg.families, &al, why);
	if (st != DNS_OK)
		return st;
	for (i = 0; i < al.count && loop_check(nh); i++)
		if (own_addr_match((struct sockaddr *)&al.addr[i]))
			*self = 1;
	for (i = 0; i < al.count && !*self; i++)
		target_add(tl, host, &al.addr[i], nh, nh_text);
	for (i = first; i < tl->n; i++) {
		tl->t[i].mx_secure = mx_secure;
		tl->t[i].addr_secure = al.secure;
		if (strcmp(al.canon, host) != 0)
			snprintf(tl->t[i].canon, sizeof(tl->t[i].canon), "%s",
				 al.canon);
	}
	return DNS_OK;
}

/* A "[1.2.3.4]" next hop. */
static int
add_numeric(struct target_list *tl, const struct nexthop *nh,
	    const char *nh_text, struct buf *why, int *self)
{
	struct sockaddr_storage ss;
	int want = nh->family == AF_INET6 ? DNS_INET6 : DNS_INET4;

	if (!(smtp_cfg.families & want)) {
		buf_printf(why,
			   "address %s is of a protocol that "
			   "inet_protocols excludes",
			   nh->host);
		return DNS_NOTFOUND;
	}
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)nh->family;
	if (nh->family == AF_INET6)
		inet_pton(AF_INET6, nh->host,
			  &((struct sockaddr_in6 *)&ss)->sin6_addr);
	else
		inet_pton(AF_INET, nh->host,
			  &((struct sockaddr_in *)&ss)->sin_addr);
	*self = loop_check(nh) && own_addr_match((struct sockaddr *)&ss);
	if (!*self)
		target_add(tl, nh->host, &ss, nh, nh_text);
	return DNS_OK;
}

/* Decides every recipient after a DNS failure of the next hop. */
static void
dns_fail(struct smtp_request *req, int st, const char *why)
{
	int cls =
	    st == DNS_TEMPFAIL ? DELIVER_CLASS_DEFER : DELIVER_CLASS_BOUNCE;

	smtp_all_result(req, cls, dns_status_dsn(st), why, NULL, 1);
}

/*
 * The MX hosts of an MX next hop and their addresses.  An MX host that is
 * this host, by name (dns_mx_filter_self) or by address (add_host), ends
 * the list: only strictly better MX hosts are tried, so the hosts of its
 * preference already added are dropped too.  When none is left the mail
 * loops (5.4.6 "mail for DOMAIN loops back to myself"), unless better MX
 * hosts exist that have no address: then they are the primary relays and
 * the mail waits for them (4.4.4 "unable to find primary relay for
 * DOMAIN"), as Postfix says.  0, or -1 when the recipients were decided.
 */
static int
mx_targets(struct smtp_request *req, struct target_list *tl,
	   const struct nexthop *nh, const char *nh_text)
{
	struct dns_mx_result *res = xmalloc(sizeof(*res));
	struct buf why = BUF_INIT;
	int st, tempfail = 0, last = DNS_OK, self = 0, found = 0;
	unsigned best_found = 0;
	size_t i, pref_start = 0;

	st = dns_lookup_mx(nh->host, res, &why);
	if (st == DNS_OK)
		st = dns_mx_filter_self(res, smtp_cfg.myhostnames, &why);
	if (st != DNS_OK) {
		dns_fail(req, st, buf_cstr(&why));
		goto fail;
	}
	for (i = 0; i < res->count && !targets_full(tl); i++) {
		if (i == 0 || res->mx[i].pref != res->mx[i - 1].pref)
			pref_start = tl->n;
		buf_reset(&why);
		st = add_host(tl, res->mx[i].host, nh, nh_text, res->secure,
			      &why, &self);
		if (st == DNS_OK && !found) {
			found = 1;
			best_found = res->mx[i].pref;
		}
		if (self) {
			tl->n = pref_start;
			break;
		}
		if (st == DNS_OK)
			continue;
		last = st;
		if (st == DNS_TEMPFAIL)
			tempfail = 1;
		smtp_add_reason(req, dns_status_dsn(st), buf_cstr(&why));
	}
	if (self && tl->n == 0) {
		const char *name = res->domain[0] ? res->domain : res->name;
		buf_reset(&why);
		if (best_found != res->mx[0].pref) {
			buf_printf(&why, "unable to find primary relay for %s",
				   name);
			smtp_all_result(req, DELIVER_CLASS_DEFER, "4.4.4",
					buf_cstr(&why), NULL, 1);
		} else {
			dns_why_text(&why, DNS_LOOP, name, "MX");
			dns_fail(req, DNS_LOOP, buf_cstr(&why));
		}
		goto fail;
	}
	if (tl->n == 0) {
		/* No address at all: permanent only when every lookup was. */
		if (tempfail || last == DNS_OK)
			smtp_all_result(req, DELIVER_CLASS_DEFER, "4.4.3",
					buf_cstr(&req->reasons), NULL, 1);
		else
			smtp_all_result(req, DELIVER_CLASS_BOUNCE, "5.4.4",
					buf_cstr(&req->reasons), NULL, 1);
		goto fail;
	}
	buf_free(&why);
	xfree(res);
	return 0;
fail:
	buf_free(&why);
	xfree(res);
	return -1;
}

/* A "[host]" next hop (no MX lookup): a loop when it is this host. */
static int
host_targets(struct smtp_request *req, struct target_list *tl,
	     const struct nexthop *nh, const char *nh_text)
{
	struct buf why = BUF_INIT;
	int st, self = 0;

	if (nh->numeric)
		st = add_numeric(tl, nh, nh_text, &why, &self);
	else
		st = add_host(tl, nh->host, nh, nh_text, 1, &why, &self);
	if (st == DNS_OK && self) {
		dns_why_text(&why, DNS_LOOP, nh->host, "A");
		st = DNS_LOOP;
	}
	if (st == DNS_OK) {
		buf_free(&why);
		return 0;
	}
	dns_fail(req, st == DNS_NODATA ? DNS_NOTFOUND : st, buf_cstr(&why));
	buf_free(&why);
	return -1;
}

/* An LMTP "unix:PATH" next hop: one target, named after this host. */
static void
socket_target(struct target_list *tl, const struct nexthop *nh,
	      const char *nh_text)
{
	struct smtp_target *t;

	tl->t = xreallocarray(tl->t, tl->n + 1, sizeof(*tl->t));
	t = &tl->t[tl->n++];
	memset(t, 0, sizeof(*t));
	snprintf(t->host, sizeof(t->host), "%s", smtp_cfg.myhostnames);
	snprintf(t->path, sizeof(t->path), "%s", nh->path);
	t->nh = nh;
	t->nexthop_text = nh_text;
}

/* --- sessions ---------------------------------------------------------- */

/* An LMTP socket target: relative paths from queue_directory (above). */
static int
connect_socket(struct smtp_request *req, const struct smtp_target *t)
{
	const char *qdir = daemon_queue_dir();
	struct buf path = BUF_INIT, why = BUF_INIT;
	int fd;

	if (t->path[0] != '/' && *qdir != '\0')
		buf_printf(&path, "%s/", qdir);
	buf_puts(&path, t->path);
	fd = sock_connect_unix(buf_cstr(&path), smtp_cfg.connect_timeout_ms);
	if (fd < 0) {
		buf_printf(&why, "connect to %s: %s", t->path,
			   errno == ETIMEDOUT ? "Connection timed out"
					      : strerror(errno));
		smtp_add_reason(req, "4.4.1", buf_cstr(&why));
	}
	buf_free(&path);
	buf_free(&why);
	return fd;
}

static int
connect_target(struct smtp_request *req, const struct smtp_target *t)
{
	const struct sockaddr *bind = NULL;
	socklen_t bindlen = 0;
	char name[SMTP_HOSTADDR_MAX];
	struct buf why = BUF_INIT;
	int fd;

	if (t->path[0] != '\0')
		return connect_socket(req, t);
	if (t->addr.ss_family == AF_INET && smtp_cfg.bind4_len > 0) {
		bind = (const struct sockaddr *)&smtp_cfg.bind4;
		bindlen = smtp_cfg.bind4_len;
	} else if (t->addr.ss_family == AF_INET6 && smtp_cfg.bind6_len > 0) {
		bind = (const struct sockaddr *)&smtp_cfg.bind6;
		bindlen = smtp_cfg.bind6_len;
	}
	fd = sock_connect_addr((const struct sockaddr *)&t->addr, t->addrlen,
			       bind, bindlen, smtp_cfg.connect_timeout_ms);
	if (fd < 0) {
		smtp_target_relay(t, name, sizeof(name));
		buf_printf(&why, "connect to %s: %s", name,
			   errno == ETIMEDOUT ? "Connection timed out"
					      : strerror(errno));
		smtp_add_server_reason(req, "4.4.1", buf_cstr(&why));
	}
	buf_free(&why);
	return fd;
}

static void try_session(struct smtp_request *req, const struct smtp_target *t,
			const struct smtp_tls_policy *pol, int final);

/* The TLSA records of one base domain: the lookup's status. */
static int
tlsa_lookup(const struct smtp_target *t, const char *base,
	    struct dns_tlsa_result *tlsa, struct buf *why)
{
	struct buf name = BUF_INIT;
	int st;

	buf_printf(&name, "_%u._tcp.%s", t->port, base);
	st = dns_lookup_tlsa(buf_cstr(&name), tlsa, why);
	buf_free(&name);
	return st;
}

/*
 * DANE for one server (smtp_dane.h): pol becomes the server's own policy
 * (may, encrypt, or verification by the records of tlsa).  The TLSA base
 * domain is the name host's CNAMEs led to when that has records, else
 * host (RFC 7672 2.2.3).  0, or -1 when the server must not be used now
 * (the reason noted).
 */
static int
dane_target(struct smtp_request *req, const struct smtp_target *t,
	    struct smtp_tls_policy *pol, struct dns_tlsa_result *tlsa)
{
	struct smtp_dane_facts f;
	struct buf why = BUF_INIT;
	const char *text, *base = t->host;
	char name[SMTP_HOSTADDR_MAX];
	int rc = 0;

	memset(&f, 0, sizeof(f));
	f.mode = pol->dane;
	f.mx_secure = t->mx_secure;
	f.addr_secure = t->addr_secure;
	f.tlsa_status = -1;
	if (smtp_dane_wants_tlsa(&f)) {
		if (t->canon[0] != '\0') {
			f.tlsa_status = tlsa_lookup(t, t->canon, tlsa, &why);
			base = t->canon;
		}
		if (f.tlsa_status < 0 || f.tlsa_status == DNS_NODATA ||
		    f.tlsa_status == DNS_NOTFOUND) {
			dns_tlsa_free(tlsa);
			base = t->host;
			f.tlsa_status = tlsa_lookup(t, t->host, tlsa, &why);
		}
		f.tlsa_secure = tlsa->secure;
		f.tlsa_records = tlsa->count + tlsa->skipped;
		f.tlsa_usable = smtp_dane_usable(tlsa);
	}
	smtp_target_name(t, name, sizeof(name));
	switch (smtp_dane_decide(&f, &text)) {
	case SMTP_DANE_MAY:
		pol->level = TLS_LEVEL_MAY;
		break;
	case SMTP_DANE_ENCRYPT:
		pol->level = TLS_LEVEL_ENCRYPT;
		break;
	case SMTP_DANE_VERIFY:
		pol->level = TLS_LEVEL_SECURE;
		pol->tlsa = tlsa;
		snprintf(pol->tlsa_base, sizeof(pol->tlsa_base), "%s", base);
		break;
	case SMTP_DANE_DEFER:
		buf_reset(&why);
		buf_printf(&why, "%s for %s: %s (DANE%s)",
			   f.tlsa_status == DNS_TEMPFAIL ? "TLSA lookup error"
							 : "no DANE",
			   name, text,
			   pol->dane == SMTP_DANE_ONLY ? "-only" : "");
		smtp_add_reason(req, "4.7.5", buf_cstr(&why));
		rc = -1;
		break;
	}
	/* An unsigned domain is the common case, not news; published but
	 * unusable records are (the peer's administrator erred). */
	if (rc == 0 && *text != '\0')
		(pol->level == TLS_LEVEL_ENCRYPT ? msg_info : msg_debug)(
		    "%s: DANE: %s: TLS level %s", name, text,
		    tls_level_name(pol->level));
	pol->dane = SMTP_DANE_OFF;
	buf_free(&why);
	return rc;
}

/* One server: connects (again without TLS when a handshake at level may
 * failed) and runs the session; keeps a clean connection for reuse. */
static void
try_target(struct smtp_request *req, const struct smtp_target *t,
	   const struct smtp_tls_policy *nh_pol, int final)
{
	struct smtp_tls_policy own = *nh_pol, *pol = &own;
	struct dns_tlsa_result tlsa;

	memset(&tlsa, 0, sizeof(tlsa));
	if (own.dane != SMTP_DANE_OFF && t->path[0] == '\0' &&
	    dane_target(req, t, &own, &tlsa) < 0) {
		dns_tlsa_free(&tlsa);
		return;
	}
	try_session(req, t, pol, final);
	dns_tlsa_free(&tlsa);
}

/* The session part of try_target(). */
static void
try_session(struct smtp_request *req, const struct smtp_target *t,
	    const struct smtp_tls_policy *pol, int final)
{
	struct smtp_conn c;
	enum smtp_sess_result res;
	int use_tls = 1, keep = 0, attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		memset(&c, 0, sizeof(c));
		req->t_conn = 0;
		if ((c.fd = connect_target(req, t)) < 0)
			return;
		c.t = *t;
		stream_init(&c.s, c.fd, smtp_cfg.helo_timeout_ms);
		res = smtp_session(req, &c, pol, 0, use_tls, final, &keep);
		if (keep) {
			smtp_cache_close();
			snprintf(c.key, sizeof(c.key), "%s", t->nexthop_text);
			c.t.nh = NULL;
			c.t.nexthop_text = NULL;
			cache = c;
			cache_keep();
			return;
		}
		smtp_conn_close(&c, 1);
		if (res != SMTP_SESS_PLAINTEXT)
			return;
		use_tls = 0;
	}
}

/* A kept connection for this next hop: RSET and one more session.  1 when
 * it was used. */
static int
try_cache(struct smtp_request *req, const char *key,
	  const struct smtp_tls_policy *pol)
{
	int keep = 0;

	if (!cache_active)
		return 0;
	if (strcmp(cache.key, key) != 0 ||
	    smtp_now() - cache.since > smtp_cfg.cache_time_limit ||
	    smtp_session_rset(&cache) < 0) {
		smtp_cache_close();
		return 0;
	}
	event_timer_cancel(cache_timer);
	cache_timer = 0;
	cache_active = 0;
	req->t_conn = 0;
	smtp_session(req, &cache, pol, 1, 1, 0, &keep);
	if (keep)
		cache_keep();
	else
		smtp_conn_close(&cache, 1);
	return 1;
}

void
smtp_deliver(struct smtp_request *req)
{
	struct nexthop nh;
	struct smtp_tls_policy pol;
	struct target_list tl = {NULL, 0, 0};
	struct buf text = BUF_INIT, why = BUF_INIT;
	size_t i;

	if ((smtp_cfg.lmtp ? nexthop_parse_lmtp : nexthop_parse)(
		req->nexthop, smtp_cfg.dest_port, &nh, &why) < 0) {
		smtp_all_result(req, DELIVER_CLASS_DEFER, "4.3.5",
				buf_cstr(&why), NULL, 1);
		goto out;
	}
	nexthop_format(&nh, &text);
	if (smtp_tls_policy_get(&nh, buf_cstr(&text), &pol, &why) < 0) {
		smtp_all_result(req, DELIVER_CLASS_DEFER, "4.7.5",
				buf_cstr(&why), NULL, 1);
		goto out;
	}
	if (try_cache(req, buf_cstr(&text), &pol) && smtp_pending(req) == 0)
		goto out;
	tl.max = smtp_cfg.mx_address_limit > 0
		     ? (size_t)smtp_cfg.mx_address_limit
		     : 0;
	if (nh.path[0] != '\0')
		socket_target(&tl, &nh, buf_cstr(&text));
	/* smtp_dns_support_level = disabled: no MX lookups (Postfix). */
	else if ((nh.mx && smtp_cfg.dns_level != SMTP_DNS_DISABLED
		      ? mx_targets(req, &tl, &nh, buf_cstr(&text))
		      : host_targets(req, &tl, &nh, buf_cstr(&text))) < 0)
		goto out;
	for (i = 0; i < tl.n && smtp_pending(req) > 0; i++)
		try_target(req, &tl.t[i], &pol, i + 1 == tl.n);
out:
	xfree(tl.t);
	buf_free(&text);
	buf_free(&why);
}
