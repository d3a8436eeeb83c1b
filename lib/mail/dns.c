/*
 * dns - resolver state and lookups through libldns; see dns.h.
 *
 * One ldns resolver per configured server, because ldns keeps a single
 * port per resolver and dns_nameservers may give each server its own.
 * The resolvers are made by dns_init() before chroot (resolv.conf is
 * read then, never again); a query only opens sockets.
 *
 * ldns is used for the wire work (query building, UDP with EDNS0, the
 * TCP retry of a truncated reply, packet parsing); what it does not do
 * is done here: it accepts any datagram on its socket as the reply, so
 * the reply's id and question are checked against the query; and it
 * marks a server that timed out as unreachable for good, so that mark is
 * cleared before every query (a daemon lives longer than an outage).
 * What a reply means is decided by the pure functions of dns_parse.c.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "dns.h"
#include "msg.h"
#include "strutil.h"

#define DNS_EDNS_SIZE 1232 /* DNS flag day 2020: no fragmentation */

struct dns_res {
	ldns_resolver *res;
	char label[INET6_ADDRSTRLEN + 8]; /* "ip:port" for the log */
};

static struct dns_res dns_res[DNS_NS_MAX];
static size_t dns_res_count;
static int dns_ready;
static int dns_timeout = 5;
static int dns_tries = 2;
/* dns_set_dnssec(): queries carry the DO bit, and lookup() notes in
 * dns_secure whether every reply it read had the AD bit. */
static int dns_dnssec;
static int dns_secure;

/* Makes the resolver of one server. */
static ldns_resolver *
res_new(const struct dns_server *s, struct buf *err)
{
	ldns_resolver *res = ldns_resolver_new();
	ldns_rdf *ns;

	if (res == NULL)
		msg_fatal("ldns_resolver_new: out of memory");
	ns = ldns_rdf_new_frm_str(s->family == AF_INET6 ? LDNS_RDF_TYPE_AAAA
							: LDNS_RDF_TYPE_A,
				  s->ip);
	if (ns == NULL ||
	    ldns_resolver_push_nameserver(res, ns) != LDNS_STATUS_OK) {
		if (err != NULL)
			buf_printf(err, "cannot use DNS server %s", s->ip);
		ldns_rdf_deep_free(ns);
		ldns_resolver_deep_free(res);
		return NULL;
	}
	ldns_rdf_deep_free(ns); /* the resolver keeps a copy */
	ldns_resolver_set_port(res, s->port);
	ldns_resolver_set_recursive(res, true);
	ldns_resolver_set_defnames(res, false);
	ldns_resolver_set_dnsrch(res, false);
	ldns_resolver_set_dnssec(res, dns_dnssec != 0);
	ldns_resolver_set_random(res, false);
	ldns_resolver_set_fail(res, false);
	ldns_resolver_set_igntc(res, false);
	ldns_resolver_set_usevc(res, false);
	ldns_resolver_set_fallback(res, true);
	ldns_resolver_set_edns_udp_size(res, DNS_EDNS_SIZE);
	/* One server per resolver: no pause between servers. */
	ldns_resolver_set_retrans(res, 0);
	return res;
}

/* The servers of resolv.conf, through ldns's parser. */
static int
resolv_conf_servers(struct dns_server *out, size_t *count, struct buf *err)
{
	ldns_resolver *sys = NULL;
	ldns_rdf **ns;
	ldns_status st;
	size_t i, n = 0;
	int family;

	st = ldns_resolver_new_frm_file(&sys, NULL);
	if (st != LDNS_STATUS_OK) {
		if (err != NULL)
			buf_printf(err, "%s: %s", LDNS_RESOLV_CONF,
				   ldns_get_errorstr_by_id(st));
		return -1;
	}
	ns = ldns_resolver_nameservers(sys);
	for (i = 0; i < ldns_resolver_nameserver_count(sys) && n < DNS_NS_MAX;
	     i++) {
		family = ldns_rdf_get_type(ns[i]) == LDNS_RDF_TYPE_AAAA
			     ? AF_INET6
			     : AF_INET;
		if ((family == AF_INET && ldns_rdf_size(ns[i]) != 4) ||
		    (family == AF_INET6 && ldns_rdf_size(ns[i]) != 16) ||
		    inet_ntop(family, ldns_rdf_data(ns[i]), out[n].ip,
			      sizeof(out[n].ip)) == NULL)
			continue;
		out[n].family = family;
		out[n].port = 53;
		n++;
	}
	ldns_resolver_deep_free(sys);
	if (n == 0) {
		/* What the C library does without a nameserver line. */
		out[0].family = AF_INET;
		strcpy(out[0].ip, "127.0.0.1");
		out[0].port = 53;
		n = 1;
	}
	*count = n;
	return 0;
}

void
dns_end(void)
{
	size_t i;

	for (i = 0; i < dns_res_count; i++)
		ldns_resolver_deep_free(dns_res[i].res);
	dns_res_count = 0;
	dns_ready = 0;
}

int
dns_init(const char *nameservers, struct buf *err)
{
	struct dns_server servers[DNS_NS_MAX];
	size_t i, count = 0;

	dns_end();
	if (dns_parse_nameservers(nameservers ? nameservers : "", servers,
				  DNS_NS_MAX, &count, err) < 0)
		return -1;
	if (count == 0 && resolv_conf_servers(servers, &count, err) < 0)
		return -1;
	for (i = 0; i < count; i++) {
		dns_res[i].res = res_new(&servers[i], err);
		if (dns_res[i].res == NULL) {
			dns_end();
			return -1;
		}
		snprintf(dns_res[i].label, sizeof(dns_res[i].label),
			 servers[i].family == AF_INET6 ? "[%s]:%u" : "%s:%u",
			 servers[i].ip, (unsigned)servers[i].port);
		dns_res_count = i + 1;
	}
	dns_ready = 1;
	return 0;
}

int
dns_is_ready(void)
{
	return dns_ready;
}

void
dns_set_dnssec(int on)
{
	size_t i;

	dns_dnssec = on != 0;
	for (i = 0; i < dns_res_count; i++)
		ldns_resolver_set_dnssec(dns_res[i].res, dns_dnssec != 0);
}

int
dns_last_secure(void)
{
	return dns_secure;
}

void
dns_set_timeout(int seconds, int tries)
{
	dns_timeout = seconds < 1 ? 1 : seconds > 60 ? 60 : seconds;
	dns_tries = tries < 1 ? 1 : tries > 10 ? 10 : tries;
}

const char *
dns_status_name(int status)
{
	switch (status) {
	case DNS_OK:
		return "OK";
	case DNS_NOTFOUND:
		return "NOTFOUND";
	case DNS_NULLMX:
		return "NULLMX";
	case DNS_TEMPFAIL:
		return "TEMPFAIL";
	case DNS_NODATA:
		return "NODATA";
	case DNS_LOOP:
		return "LOOP";
	}
	return "UNKNOWN";
}

const char *
dns_status_dsn(int status)
{
	switch (status) {
	case DNS_OK:
		return "2.0.0";
	case DNS_NOTFOUND:
		return "5.1.2";
	case DNS_NULLMX:
		return "5.1.10";
	case DNS_NODATA:
		return "5.4.4";
	case DNS_LOOP:
		return "5.4.6";
	}
	return "4.4.3";
}

static const char *
type_name(ldns_rr_type type)
{
	switch (type) {
	case LDNS_RR_TYPE_MX:
		return "MX";
	case LDNS_RR_TYPE_A:
		return "A";
	case LDNS_RR_TYPE_AAAA:
		return "AAAA";
	case LDNS_RR_TYPE_PTR:
		return "PTR";
	case LDNS_RR_TYPE_TXT:
		return "TXT";
	case LDNS_RR_TYPE_NS:
		return "NS";
	case LDNS_RR_TYPE_TLSA:
		return "TLSA";
	default:
		return "?";
	}
}

/* 1 when reply answers query: same id, a response to a standard query,
 * and the same single question. */
static int
reply_matches(const ldns_pkt *query, const ldns_pkt *reply)
{
	const ldns_rr *q, *r;

	if (ldns_pkt_id(reply) != ldns_pkt_id(query) || !ldns_pkt_qr(reply) ||
	    ldns_pkt_get_opcode(reply) != LDNS_PACKET_QUERY ||
	    ldns_rr_list_rr_count(ldns_pkt_question(reply)) != 1)
		return 0;
	q = ldns_rr_list_rr(ldns_pkt_question(query), 0);
	r = ldns_rr_list_rr(ldns_pkt_question(reply), 0);
	return ldns_rr_get_type(q) == ldns_rr_get_type(r) &&
	       ldns_rr_get_class(q) == ldns_rr_get_class(r) &&
	       ldns_dname_compare(ldns_rr_owner(q), ldns_rr_owner(r)) == 0;
}

/* Asks one server; the reply, or NULL with the reason in detail. */
static ldns_pkt *
ask(struct dns_res *dr, const ldns_rdf *qname, ldns_rr_type type,
    struct buf *detail)
{
	ldns_pkt *query = NULL, *reply = NULL;
	ldns_pkt_rcode rcode;
	ldns_status st;
	struct timeval tv = {dns_timeout, 0};

	ldns_resolver_set_timeout(dr->res, tv);
	ldns_resolver_set_retry(dr->res, (uint8_t)dns_tries);
	ldns_resolver_set_nameserver_rtt(dr->res, 0, LDNS_RESOLV_RTT_MIN);
	st = ldns_resolver_prepare_query_pkt(&query, dr->res, qname, type,
					     LDNS_RR_CLASS_IN, LDNS_RD);
	if (st == LDNS_STATUS_OK)
		st = ldns_resolver_send_pkt(&reply, dr->res, query);
	buf_reset(detail);
	if (st != LDNS_STATUS_OK || reply == NULL) {
		buf_printf(detail, "%s: %s", dr->label,
			   st == LDNS_STATUS_OK ? "no reply"
						: ldns_get_errorstr_by_id(st));
	} else if (!reply_matches(query, reply)) {
		buf_printf(detail, "%s: reply does not match the query",
			   dr->label);
	} else if ((rcode = ldns_pkt_get_rcode(reply)) != LDNS_RCODE_NOERROR &&
		   rcode != LDNS_RCODE_NXDOMAIN) {
		buf_printf(detail, "%s: rcode %d", dr->label, (int)rcode);
	} else {
		ldns_pkt_free(query);
		return reply;
	}
	ldns_pkt_free(reply);
	ldns_pkt_free(query);
	return NULL;
}

/* Sends (name, type) to the servers in turn; DNS_OK and a reply whose
 * rcode is NOERROR or NXDOMAIN, or DNS_TEMPFAIL. */
static int
query(const char *name, ldns_rr_type type, ldns_pkt **reply, struct buf *why)
{
	char abs[DNS_NAME_MAX + 2];
	struct buf detail = BUF_INIT;
	ldns_rdf *qname;
	size_t i;

	if (!dns_ready)
		msg_panic("dns: lookup before dns_init");
	*reply = NULL;
	snprintf(abs, sizeof(abs), "%s.", name);
	if ((qname = ldns_dname_new_frm_str(abs)) == NULL) {
		dns_why_text(why, DNS_NOTFOUND, name, type_name(type));
		return DNS_NOTFOUND;
	}
	for (i = 0; i < dns_res_count && *reply == NULL; i++) {
		*reply = ask(&dns_res[i], qname, type, &detail);
		if (*reply == NULL)
			msg_debug("dns: %s %s: %s", name, type_name(type),
				  buf_cstr(&detail));
	}
	ldns_rdf_deep_free(qname);
	buf_free(&detail);
	if (*reply == NULL) {
		dns_why_text(why, DNS_TEMPFAIL, name, type_name(type));
		return DNS_TEMPFAIL;
	}
	/* The AD bit means something only when we asked with DO and the
	 * server is the validating resolver we were told to trust. */
	if (!dns_dnssec || !ldns_pkt_ad(*reply))
		dns_secure = 0;
	return DNS_OK;
}

int
dns_query(const char *name, int type, ldns_pkt **reply, struct buf *why)
{
	if (strlen(name) > DNS_NAME_MAX) {
		*reply = NULL;
		dns_why_text(why, DNS_NOTFOUND, name, type_name(type));
		return DNS_NOTFOUND;
	}
	return query(name, (ldns_rr_type)type, reply, why);
}

/* Copies a caller's name in lower case without a final dot; 0, or -1
 * (with why) when it is not a valid host name. */
static int
norm_name(const char *in, char *out, const char *type, struct buf *why)
{
	size_t len = strnlen(in, DNS_NAME_MAX + 2), i;

	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len > DNS_NAME_MAX)
		len = 0;
	for (i = 0; i < len; i++)
		out[i] =
		    in[i] >= 'A' && in[i] <= 'Z' ? in[i] - 'A' + 'a' : in[i];
	out[len] = '\0';
	if (dns_name_valid(out))
		return 0;
	if (why != NULL) {
		buf_reset(why);
		buf_printf(why,
			   "Name service error for name=%.*s type=%s: "
			   "Malformed name syntax",
			   DNS_NAME_MAX, in, type);
	}
	return -1;
}

/* How one reply is read for a lookup: the status, and the name reached
 * through the reply's CNAMEs in canon. */
typedef int (*extract_fn)(const ldns_pkt *pkt, const char *qname, void *ctx,
			  char *canon, struct buf *why);

/* Asks for (name, type) and asks again for the CNAME target while a
 * reply ends at a CNAME without data, at most DNS_CNAME_MAX times. */
static int
lookup(const char *name, ldns_rr_type type, extract_fn extract, void *ctx,
       struct buf *why)
{
	char cur[DNS_NAME_MAX + 1], canon[DNS_NAME_MAX + 1];
	ldns_pkt *reply;
	int status, hops;

	strcpy(cur, name);
	/* Secure only when every reply of the chain was (query()). */
	dns_secure = dns_dnssec;
	for (hops = 0;; hops++) {
		if ((status = query(cur, type, &reply, why)) != DNS_OK)
			return status;
		status = extract(reply, cur, ctx, canon, why);
		ldns_pkt_free(reply);
		if (status != DNS_NODATA || canon[0] == '\0' ||
		    strcmp(canon, cur) == 0)
			return status;
		if (hops == DNS_CNAME_MAX) {
			dns_why_text(why, DNS_TEMPFAIL, name, type_name(type));
			return DNS_TEMPFAIL;
		}
		strcpy(cur, canon);
	}
}

static int
extract_mx(const ldns_pkt *pkt, const char *qname, void *ctx, char *canon,
	   struct buf *why)
{
	struct dns_mx_result *res = ctx;
	int status;

	status = dns_extract_mx(pkt, qname, res, why);
	strcpy(canon, res->name);
	return status;
}

int
dns_lookup_mx(const char *domain, struct dns_mx_result *res, struct buf *why)
{
	char name[DNS_NAME_MAX + 1];
	int status;

	memset(res, 0, sizeof(*res));
	if (norm_name(domain, name, "MX", why) < 0)
		return DNS_NOTFOUND;
	status = lookup(name, LDNS_RR_TYPE_MX, extract_mx, res, why);
	res->secure = dns_secure;
	strcpy(res->domain, name);
	if (status == DNS_NODATA) {
		/* RFC 5321 5.1: no MX, the domain is its own MX. */
		res->implicit = 1;
		res->count = 1;
		res->mx[0].pref = 0;
		strcpy(res->mx[0].host, res->name);
		if (why != NULL)
			buf_reset(why);
		return DNS_OK;
	}
	if (status != DNS_OK)
		res->count = 0;
	return status;
}

struct addr_ctx {
	struct dns_addr_list *out;
	ldns_rr_type type;
};

static int
extract_addr(const ldns_pkt *pkt, const char *qname, void *ctx, char *canon,
	     struct buf *why)
{
	struct addr_ctx *ac = ctx;
	int status;

	status = dns_extract_addr(pkt, qname, ac->type, ac->out, canon,
				  DNS_NAME_MAX + 1, why);
	if (status == DNS_OK && canon[0] != '\0')
		strcpy(ac->out->canon, canon);
	return status;
}

/* How much a failure of one family outweighs another: the one most
 * likely to change on a retry is reported. */
static int
weight(int status)
{
	switch (status) {
	case DNS_TEMPFAIL:
		return 3;
	case DNS_NODATA:
		return 2;
	default:
		return 1;
	}
}

int
dns_lookup_addr(const char *host, int families, struct dns_addr_list *out,
		struct buf *why)
{
	static const ldns_rr_type types[] = {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA};
	static const int fams[] = {DNS_INET4, DNS_INET6};
	char name[DNS_NAME_MAX + 1];
	struct buf one = BUF_INIT;
	struct addr_ctx ac = {out, LDNS_RR_TYPE_A};
	int status, result = -1, secure = dns_dnssec;
	size_t i;

	out->count = 0;
	out->secure = 0;
	memset(out->canon, 0, sizeof(out->canon));
	if (norm_name(host, name, "A", why) < 0)
		return DNS_NOTFOUND;
	if ((families & DNS_INET_ALL) == 0)
		families = DNS_INET_ALL;
	for (i = 0; i < 2; i++) {
		if ((families & fams[i]) == 0)
			continue;
		ac.type = types[i];
		status = lookup(name, ac.type, extract_addr, &ac, &one);
		secure = secure && dns_secure;
		if (status == DNS_OK)
			continue;
		if (result < 0 || weight(status) > weight(result)) {
			result = status;
			if (why != NULL)
				buf_set(why, buf_cstr(&one));
		}
		/* A name that does not exist has no AAAA either. */
		if (status == DNS_NOTFOUND)
			break;
	}
	buf_free(&one);
	out->secure = secure;
	dns_secure = secure;
	if (out->count > 0) {
		if (why != NULL)
			buf_reset(why);
		return DNS_OK;
	}
	return result < 0 ? DNS_NODATA : result;
}

struct ptr_ctx {
	char *name;
	size_t namelen;
};

static int
extract_ptr(const ldns_pkt *pkt, const char *qname, void *ctx, char *canon,
	    struct buf *why)
{
	struct ptr_ctx *pc = ctx;

	return dns_extract_ptr(pkt, qname, pc->name, pc->namelen, canon,
			       DNS_NAME_MAX + 1, why);
}

/* The numeric text of ip with IPv4-mapped IPv6 turned into IPv4; the
 * family, or -1 when ip is not numeric. */
static int
plain_ip(const char *ip, char *out, size_t outlen, unsigned char *bytes)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, ip, a) == 1) {
		memcpy(bytes, a, 4);
	} else if (inet_pton(AF_INET6, ip, a) == 1) {
		if (!IN6_IS_ADDR_V4MAPPED((struct in6_addr *)a)) {
			memcpy(bytes, a, 16);
			return inet_ntop(AF_INET6, a, out, outlen) ? AF_INET6
								   : -1;
		}
		memcpy(bytes, a + 12, 4);
	} else {
		return -1;
	}
	return inet_ntop(AF_INET, bytes, out, outlen) ? AF_INET : -1;
}

int
dns_lookup_ptr(const char *ip, char *name, size_t namelen, struct buf *why)
{
	char text[INET6_ADDRSTRLEN], rev[80];
	unsigned char bytes[16];
	struct ptr_ctx pc = {name, namelen};

	if (namelen > 0)
		name[0] = '\0';
	if (plain_ip(ip, text, sizeof(text), bytes) < 0 ||
	    dns_reverse_name(text, rev, sizeof(rev)) < 0) {
		if (why != NULL) {
			buf_reset(why);
			buf_printf(why, "malformed address: %.*s",
				   INET6_ADDRSTRLEN, ip);
		}
		return DNS_NOTFOUND;
	}
	return lookup(rev, LDNS_RR_TYPE_PTR, extract_ptr, &pc, why);
}

/* 1 when list holds the address bytes of family. */
static int
addr_listed(const struct dns_addr_list *list, int family,
	    const unsigned char *bytes)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	size_t i;

	for (i = 0; i < list->count; i++) {
		if (list->addr[i].ss_family != family)
			continue;
		if (family == AF_INET) {
			sin = (const struct sockaddr_in *)&list->addr[i];
			if (memcmp(&sin->sin_addr, bytes, 4) == 0)
				return 1;
		} else {
			sin6 = (const struct sockaddr_in6 *)&list->addr[i];
			if (memcmp(&sin6->sin6_addr, bytes, 16) == 0)
				return 1;
		}
	}
	return 0;
}

int
dns_client_name(const char *ip, char *name, size_t namelen, struct buf *why)
{
	char ptr[DNS_NAME_MAX + 1], text[INET6_ADDRSTRLEN];
	unsigned char bytes[16];
	struct dns_addr_list addrs;
	int family, status;

	if (namelen > 0)
		snprintf(name, namelen, "unknown");
	status = dns_lookup_ptr(ip, ptr, sizeof(ptr), why);
	if (status != DNS_OK)
		return status;
	family = plain_ip(ip, text, sizeof(text), bytes);
	status = dns_lookup_addr(
	    ptr, family == AF_INET6 ? DNS_INET6 : DNS_INET4, &addrs, why);
	if (status != DNS_OK)
		return status;
	if (!addr_listed(&addrs, family, bytes)) {
		if (why != NULL) {
			buf_reset(why);
			buf_printf(why,
				   "hostname %s does not resolve to address %s",
				   ptr, text);
		}
		return DNS_NOTFOUND;
	}
	if (strlen(ptr) >= namelen) {
		dns_why_text(why, DNS_TEMPFAIL, ptr, "PTR");
		return DNS_TEMPFAIL;
	}
	strcpy(name, ptr);
	return DNS_OK;
}

int
dns_mx_filter_self(struct dns_mx_result *res, const char *myhostnames,
		   struct buf *why)
{
	int found;

	res->count =
	    dns_mx_filter_names(res->mx, res->count, myhostnames, &found);
	if (found && res->count == 0) {
		dns_why_text(why, DNS_LOOP,
			     res->domain[0] ? res->domain : res->name, "MX");
		return DNS_LOOP;
	}
	return DNS_OK;
}

static int
extract_txt(const ldns_pkt *pkt, const char *qname, void *ctx, char *canon,
	    struct buf *why)
{
	return dns_extract_txt(pkt, qname, ctx, canon, DNS_NAME_MAX + 1, why);
}

int
dns_lookup_txt(const char *name, struct buf *txt, struct buf *why)
{
	char qname[DNS_NAME_MAX + 1];

	buf_reset(txt);
	if (norm_name(name, qname, "TXT", why) < 0)
		return DNS_NOTFOUND;
	return lookup(qname, LDNS_RR_TYPE_TXT, extract_txt, txt, why);
}

struct ns_ctx {
	char (*names)[DNS_NAME_MAX + 1];
	size_t max, *count;
};

static int
extract_ns(const ldns_pkt *pkt, const char *qname, void *ctx, char *canon,
	   struct buf *why)
{
	struct ns_ctx *nc = ctx;

	return dns_extract_ns(pkt, qname, nc->names, nc->max, nc->count, canon,
			      DNS_NAME_MAX + 1, why);
}

int
dns_lookup_ns(const char *domain, char names[][DNS_NAME_MAX + 1], size_t max,
	      size_t *count, struct buf *why)
{
	char qname[DNS_NAME_MAX + 1];
	struct ns_ctx nc = {names, max, count};

	*count = 0;
	if (norm_name(domain, qname, "NS", why) < 0)
		return DNS_NOTFOUND;
	return lookup(qname, LDNS_RR_TYPE_NS, extract_ns, &nc, why);
}

static int
extract_tlsa(const ldns_pkt *pkt, const char *qname, void *ctx, char *canon,
	     struct buf *why)
{
	return dns_extract_tlsa(pkt, qname, ctx, canon, DNS_NAME_MAX + 1, why);
}

int
dns_lookup_tlsa(const char *name, struct dns_tlsa_result *res, struct buf *why)
{
	char qname[DNS_NAME_MAX + 1];
	int status;

	memset(res, 0, sizeof(*res));
	if (norm_name(name, qname, "TLSA", why) < 0)
		return DNS_NOTFOUND;
	status = lookup(qname, LDNS_RR_TYPE_TLSA, extract_tlsa, res, why);
	res->secure = dns_secure;
	return status;
}
