/*
 * dns_parse - the pure half of the DNS module; see dns.h.
 *
 * Everything here works on memory only: the syntax of names and of the
 * dns_nameservers list, reverse names, MX sorting and self-filtering, and
 * the extraction of MX, A/AAAA and PTR answers from a parsed reply.  A
 * reply is untrusted input: every name is checked and bounded before it
 * is used, every record's shape (class, rdata count and types, address
 * length) is checked, and CNAME chains are followed a bounded number of
 * times.  These functions are what the unit tests and the fuzz target
 * exercise.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "msg.h"
#include "strutil.h"
#include "xalloc.h"

#define DNS_LABEL_MAX 63
#define DNS_TOKEN_MAX 64 /* longest dns_nameservers entry */

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_label_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       is_digit(c) || c == '-' || c == '_';
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Checks one label of len bytes; *numeric says whether it is all digits. */
static int
label_valid(const char *p, size_t len, int *numeric)
{
	size_t i;

	if (len == 0 || len > DNS_LABEL_MAX || p[0] == '-' || p[len - 1] == '-')
		return 0;
	*numeric = 1;
	for (i = 0; i < len; i++) {
		if (!is_label_char((unsigned char)p[i]))
			return 0;
		if (!is_digit((unsigned char)p[i]))
			*numeric = 0;
	}
	return 1;
}

int
dns_name_valid(const char *name)
{
	size_t len = strnlen(name, DNS_NAME_MAX + 1);
	const char *p = name;
	const char *dot;
	int numeric = 0;

	if (len == 0 || len > DNS_NAME_MAX)
		return 0;
	for (;;) {
		dot = memchr(p, '.', len - (size_t)(p - name));
		if (!label_valid(p, dot ? (size_t)(dot - p) : strlen(p),
				 &numeric))
			return 0;
		if (dot == NULL)
			break;
		p = dot + 1;
	}
	/* An all-digit last label would read as an IPv4 address. */
	return !numeric;
}

int
dns_name_from_rdf(const ldns_rdf *rdf, char *out, size_t outlen)
{
	const uint8_t *data;
	size_t size, pos = 0, n = 0, len, need, i;
	int numeric = 0;

	if (rdf == NULL || ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_DNAME ||
	    outlen == 0)
		return -1;
	data = ldns_rdf_data(rdf);
	size = ldns_rdf_size(rdf);
	for (;;) {
		if (pos >= size)
			return -1;
		len = data[pos++];
		if (len == 0)
			break;
		if (len > size - pos)
			return -1;
		/* Each label is checked on its own: a '.' or NUL inside a
		 * label would otherwise change the name's meaning as text. */
		if (!label_valid((const char *)data + pos, len, &numeric))
			return -1;
		need = n + (n > 0) + len;
		if (need > DNS_NAME_MAX || need + 1 > outlen)
			return -1;
		if (n > 0)
			out[n++] = '.';
		for (i = 0; i < len; i++)
			out[n++] = (char)lower(data[pos + i]);
		pos += len;
	}
	out[n] = '\0';
	/* An all-digit last label would read as an IPv4 address. */
	return numeric ? -1 : 0;
}

int
dns_reverse_name(const char *ip, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char a[16];
	struct buf b = BUF_INIT;
	int i, ret = -1;

	if (inet_pton(AF_INET, ip, a) == 1) {
		buf_printf(&b, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1],
			   a[0]);
	} else if (inet_pton(AF_INET6, ip, a) == 1) {
		for (i = 15; i >= 0; i--)
			buf_printf(&b, "%c.%c.", hex[a[i] & 0xf],
				   hex[a[i] >> 4]);
		buf_puts(&b, "ip6.arpa");
	} else {
		goto out;
	}
	if (b.len < outlen) {
		memcpy(out, b.data, b.len + 1);
		ret = 0;
	}
out:
	buf_free(&b);
	return ret;
}

/* One entry into out; 0, or -1 with a message. */
static int
parse_server(const char *tok, struct dns_server *out, struct buf *err)
{
	char host[DNS_TOKEN_MAX + 1];
	const char *port = NULL, *colon, *end;
	unsigned long value = 53;
	unsigned char addr[16];

	if (tok[0] == '[') {
		end = strchr(tok, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			goto bad;
		memcpy(host, tok + 1, (size_t)(end - tok - 1));
		host[end - tok - 1] = '\0';
		if (end[1] == ':')
			port = end + 2;
	} else {
		colon = strchr(tok, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			memcpy(host, tok, (size_t)(colon - tok));
			host[colon - tok] = '\0';
			port = colon + 1;
		} else {
			strcpy(host, tok); /* bounded by the caller */
		}
	}
	if (port != NULL) {
		size_t len = strlen(port);

		if (len == 0 || len > 5 || strspn(port, "0123456789") != len)
			goto bad_port;
		value = strtoul(port, NULL, 10);
		if (value == 0 || value > 65535)
			goto bad_port;
	}
	if (inet_pton(AF_INET, host, addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, host, addr) == 1)
		out->family = AF_INET6;
	else
		goto bad;
	if (inet_ntop(out->family, addr, out->ip, sizeof(out->ip)) == NULL)
		goto bad;
	out->port = (uint16_t)value;
	return 0;
bad_port:
	if (err != NULL)
		buf_printf(err, "bad port in DNS server \"%s\"", tok);
	return -1;
bad:
	if (err != NULL)
		buf_printf(err,
			   "bad DNS server \"%s\": expected ip, ip:port or "
			   "[ipv6]:port",
			   tok);
	return -1;
}

int
dns_parse_nameservers(const char *list, struct dns_server *out, size_t max,
		      size_t *count, struct buf *err)
{
	static const char seps[] = " \t\r\n,";
	char tok[DNS_TOKEN_MAX + 1];
	size_t len, n = 0;

	*count = 0;
	for (;;) {
		list += strspn(list, seps);
		if (*list == '\0')
			break;
		len = strcspn(list, seps);
		if (len > DNS_TOKEN_MAX) {
			if (err != NULL)
				buf_printf(err,
					   "DNS server \"%.*s...\" too long",
					   DNS_TOKEN_MAX, list);
			return -1;
		}
		if (n == max) {
			if (err != NULL)
				buf_printf(err, "more than %zu DNS servers",
					   max);
			return -1;
		}
		memcpy(tok, list, len);
		tok[len] = '\0';
		if (parse_server(tok, &out[n], err) < 0)
			return -1;
		n++;
		list += len;
	}
	*count = n;
	return 0;
}

static int
mx_cmp(const void *a, const void *b)
{
	const struct dns_mx *x = a, *y = b;

	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	return 0;
}

static uint32_t
default_rnd(uint32_t bound)
{
	return arc4random_uniform(bound);
}

/* Drops later duplicates of a host, keeping the better preference. */
static size_t
mx_dedup(struct dns_mx *mx, size_t n)
{
	size_t i, j, kept = 0;

	for (i = 0; i < n; i++) {
		for (j = 0; j < kept; j++)
			if (str_casecmp(mx[j].host, mx[i].host) == 0)
				break;
		if (j < kept) {
			if (mx[i].pref < mx[j].pref)
				mx[j].pref = mx[i].pref;
			continue;
		}
		if (kept != i)
			mx[kept] = mx[i];
		kept++;
	}
	return kept;
}

size_t
dns_mx_sort(struct dns_mx *mx, size_t n, uint32_t (*rnd)(uint32_t))
{
	struct dns_mx tmp;
	size_t start, end, i, j;

	if (rnd == NULL)
		rnd = default_rnd;
	n = mx_dedup(mx, n);
	if (n > 1)
		qsort(mx, n, sizeof(*mx), mx_cmp);
	/* Fisher-Yates within each run of equal preference: equal MX
	 * hosts share the load, as RFC 5321 5.1 asks. */
	for (start = 0; start < n; start = end) {
		for (end = start + 1; end < n && mx[end].pref == mx[start].pref;
		     end++)
			;
		for (i = end - 1; i > start; i--) {
			j = start + rnd((uint32_t)(i - start + 1));
			if (j != i) {
				tmp = mx[i];
				mx[i] = mx[j];
				mx[j] = tmp;
			}
		}
	}
	return n;
}

/* 1 when host is one of the names of the list (final dots ignored). */
static int
name_in_list(const char *host, char **names)
{
	size_t len;

	for (; *names != NULL; names++) {
		len = strlen(*names);
		if (len > 0 && (*names)[len - 1] == '.')
			len--;
		if (len == strlen(host) && str_ncasecmp(host, *names, len) == 0)
			return 1;
	}
	return 0;
}

size_t
dns_mx_filter_names(struct dns_mx *mx, size_t n, const char *myhostnames,
		    int *found)
{
	char **names = str_split(myhostnames ? myhostnames : "", NULL, NULL);
	unsigned best = 0;
	size_t i, kept = 0;

	*found = 0;
	for (i = 0; i < n; i++) {
		if (name_in_list(mx[i].host, names) &&
		    (!*found || mx[i].pref < best)) {
			best = mx[i].pref;
			*found = 1;
		}
	}
	str_list_free(names);
	if (!*found)
		return n;
	/* Only hosts strictly better than ours: an equal or worse MX would
	 * send the mail back to us or to a peer that falls back to us. */
	for (i = 0; i < n; i++) {
		if (mx[i].pref < best) {
			if (kept != i)
				mx[kept] = mx[i];
			kept++;
		}
	}
	return kept;
}

void
dns_why_text(struct buf *why, int status, const char *name, const char *type)
{
	const char *text;

	if (why == NULL)
		return;
	buf_reset(why);
	switch (status) {
	case DNS_NULLMX:
		buf_printf(why, "Domain %.*s does not accept mail (nullMX)",
			   DNS_NAME_MAX, name);
		return;
	case DNS_LOOP:
		buf_printf(why, "mail for %.*s loops back to myself",
			   DNS_NAME_MAX, name);
		return;
	case DNS_NOTFOUND:
		text = "Host not found";
		break;
	case DNS_NODATA:
		text = "Host found but no data record of requested type";
		break;
	case DNS_OK:
		return;
	default:
		text = "Host not found, try again";
		break;
	}
	buf_printf(why,
		   "Host or domain name not found. Name service error for "
		   "name=%.*s type=%s: %s",
		   DNS_NAME_MAX, name, type, text);
}

/* 1 when rr is of class IN and type type, owned by name (lower case). */
static int
rr_is(const ldns_rr *rr, ldns_rr_type type, const char *name)
{
	char owner[DNS_NAME_MAX + 1];

	if (ldns_rr_get_type(rr) != type ||
	    ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN)
		return 0;
	if (dns_name_from_rdf(ldns_rr_owner(rr), owner, sizeof(owner)) < 0)
		return 0;
	return strcmp(owner, name) == 0;
}

/* Follows the CNAME chain of the answer section from qname; cur receives
 * the last name reached.  0, or -1 for a chain that is too long (or
 * loops) or a CNAME target that is not a valid name. */
static int
follow_cnames(const ldns_rr_list *answer, char *cur)
{
	char next[DNS_NAME_MAX + 1];
	const ldns_rr *rr = NULL;
	size_t n = ldns_rr_list_rr_count(answer);
	size_t i, hops;

	for (hops = 0;; hops++) {
		for (i = 0; i < n; i++) {
			rr = ldns_rr_list_rr(answer, i);
			if (ldns_rr_rd_count(rr) == 1 &&
			    rr_is(rr, LDNS_RR_TYPE_CNAME, cur))
				break;
		}
		if (i == n)
			return 0;
		if (hops == DNS_CNAME_MAX)
			return -1;
		if (dns_name_from_rdf(ldns_rr_rdf(rr, 0), next, sizeof(next)) <
			0 ||
		    next[0] == '\0')
			return -1;
		strcpy(cur, next);
	}
}

/* What every extraction starts with: the rcode, truncation and the
 * CNAME chain.  Returns DNS_OK to go on with the records of cur. */
static int
reply_start(const ldns_pkt *pkt, const char *qname, const char *type, char *cur,
	    struct buf *why)
{
	ldns_pkt_rcode rcode = ldns_pkt_get_rcode(pkt);
	size_t i, len = strnlen(qname, DNS_NAME_MAX + 1);

	cur[0] = '\0';
	if (len > DNS_NAME_MAX || !dns_name_valid(qname)) {
		if (why != NULL) {
			buf_reset(why);
			buf_printf(why, "malformed domain name: %.*s",
				   DNS_NAME_MAX, qname);
		}
		return DNS_NOTFOUND;
	}
	for (i = 0; i <= len; i++)
		cur[i] = (char)lower((unsigned char)qname[i]);
	if ((rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN) ||
	    ldns_pkt_tc(pkt)) {
		dns_why_text(why, DNS_TEMPFAIL, qname, type);
		return DNS_TEMPFAIL;
	}
	if (follow_cnames(ldns_pkt_answer(pkt), cur) < 0) {
		if (why != NULL) {
			buf_reset(why);
			buf_printf(why,
				   "Name service error for name=%.*s type=%s: "
				   "CNAME chain too long, looping or malformed",
				   DNS_NAME_MAX, qname, type);
		}
		return DNS_TEMPFAIL;
	}
	if (rcode == LDNS_RCODE_NXDOMAIN) {
		dns_why_text(why, DNS_NOTFOUND, cur, type);
		return DNS_NOTFOUND;
	}
	return DNS_OK;
}

/* reply_start(), then the name the CNAME chain led to (cur) copied to
 * canon for the caller, whatever the status; an empty canon where it
 * does not fit in canonlen (canonlen 0: no copy). */
static int
reply_start_canon(const ldns_pkt *pkt, const char *qname, const char *type,
		  char *cur, char *canon, size_t canonlen, struct buf *why)
{
	int status = reply_start(pkt, qname, type, cur, why);

	if (canonlen > strlen(cur))
		strcpy(canon, cur);
	else if (canonlen > 0)
		canon[0] = '\0';
	return status;
}

/* Adds (pref, host) to a bounded set: a duplicate keeps the better
 * preference, a full set drops its worst entry for a better one. */
static void
mx_add(struct dns_mx_result *res, unsigned pref, const char *host)
{
	size_t i, worst = 0;

	for (i = 0; i < res->count; i++) {
		if (strcmp(res->mx[i].host, host) == 0) {
			if (pref < res->mx[i].pref)
				res->mx[i].pref = pref;
			return;
		}
		if (res->mx[i].pref > res->mx[worst].pref)
			worst = i;
	}
	if (res->count < DNS_MX_MAX)
		i = res->count++;
	else if (pref < res->mx[worst].pref)
		i = worst;
	else
		return;
	res->mx[i].pref = pref;
	strcpy(res->mx[i].host, host);
}

int
dns_extract_mx(const ldns_pkt *pkt, const char *qname,
	       struct dns_mx_result *res, struct buf *why)
{
	const ldns_rr_list *answer = ldns_pkt_answer(pkt);
	char host[DNS_NAME_MAX + 1];
	const ldns_rdf *prf, *exch;
	const ldns_rr *rr;
	size_t i, nnull = 0, nbad = 0;
	int status;

	res->count = 0;
	status = reply_start(pkt, qname, "MX", res->name, why);
	if (status != DNS_OK)
		return status;
	for (i = 0; i < ldns_rr_list_rr_count(answer); i++) {
		rr = ldns_rr_list_rr(answer, i);
		if (!rr_is(rr, LDNS_RR_TYPE_MX, res->name))
			continue;
		if (ldns_rr_rd_count(rr) != 2 ||
		    (prf = ldns_rr_rdf(rr, 0)) == NULL ||
		    ldns_rdf_get_type(prf) != LDNS_RDF_TYPE_INT16 ||
		    ldns_rdf_size(prf) != 2 ||
		    (exch = ldns_rr_rdf(rr, 1)) == NULL ||
		    dns_name_from_rdf(exch, host, sizeof(host)) < 0) {
			nbad++;
		} else if (host[0] == '\0') {
			nnull++;
		} else {
			mx_add(res, ldns_rdf2native_int16(prf), host);
		}
	}
	if (res->count > 0) {
		res->count = dns_mx_sort(res->mx, res->count, NULL);
		return DNS_OK;
	}
	/* RFC 7505: "." as the only MX host; beside real MX hosts it is
	 * a misconfiguration, and the real ones win. */
	if (nnull > 0 && nbad == 0) {
		dns_why_text(why, DNS_NULLMX, res->name, "MX");
		return DNS_NULLMX;
	}
	if (nnull + nbad > 0) {
		if (why != NULL) {
			buf_reset(why);
			buf_printf(why,
				   "Name service error for name=%s type=MX: "
				   "malformed or unexpected name server reply",
				   res->name);
		}
		return DNS_TEMPFAIL;
	}
	dns_why_text(why, DNS_NODATA, res->name, "MX");
	return DNS_NODATA;
}

/* Appends an A or AAAA rdata to out; 0, or -1 when malformed. */
static int
addr_add(const ldns_rdf *rdf, int type, struct dns_addr_list *out)
{
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;
	struct sockaddr_storage *ss;

	if (rdf == NULL)
		return -1;
	if (type == LDNS_RR_TYPE_A) {
		if (ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_A ||
		    ldns_rdf_size(rdf) != 4)
			return -1;
	} else if (ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_AAAA ||
		   ldns_rdf_size(rdf) != 16) {
		return -1;
	}
	if (out->count == DNS_ADDR_MAX)
		return 0;
	ss = &out->addr[out->count++];
	memset(ss, 0, sizeof(*ss));
	if (type == LDNS_RR_TYPE_A) {
		sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, ldns_rdf_data(rdf), 4);
	} else {
		sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, ldns_rdf_data(rdf), 16);
	}
	return 0;
}

int
dns_extract_addr(const ldns_pkt *pkt, const char *qname, int type,
		 struct dns_addr_list *out, char *canon, size_t canonlen,
		 struct buf *why)
{
	const ldns_rr_list *answer = ldns_pkt_answer(pkt);
	const char *tname = type == LDNS_RR_TYPE_A ? "A" : "AAAA";
	char cur[DNS_NAME_MAX + 1];
	const ldns_rr *rr;
	size_t i, found = 0;
	int status;

	if (type != LDNS_RR_TYPE_A && type != LDNS_RR_TYPE_AAAA)
		msg_panic("dns_extract_addr: bad type %d", type);
	status =
	    reply_start_canon(pkt, qname, tname, cur, canon, canonlen, why);
	if (status != DNS_OK)
		return status;
	for (i = 0; i < ldns_rr_list_rr_count(answer); i++) {
		rr = ldns_rr_list_rr(answer, i);
		if (rr_is(rr, (ldns_rr_type)type, cur) &&
		    ldns_rr_rd_count(rr) == 1 &&
		    addr_add(ldns_rr_rdf(rr, 0), type, out) == 0)
			found++;
	}
	if (found == 0) {
		dns_why_text(why, DNS_NODATA, cur, tname);
		return DNS_NODATA;
	}
	return DNS_OK;
}

int
dns_extract_ptr(const ldns_pkt *pkt, const char *qname, char *name,
		size_t namelen, char *canon, size_t canonlen, struct buf *why)
{
	const ldns_rr_list *answer = ldns_pkt_answer(pkt);
	char cur[DNS_NAME_MAX + 1], host[DNS_NAME_MAX + 1];
	const ldns_rr *rr;
	size_t i, nbad = 0;
	int status;

	status =
	    reply_start_canon(pkt, qname, "PTR", cur, canon, canonlen, why);
	if (status != DNS_OK)
		return status;
	for (i = 0; i < ldns_rr_list_rr_count(answer); i++) {
		rr = ldns_rr_list_rr(answer, i);
		if (!rr_is(rr, LDNS_RR_TYPE_PTR, cur))
			continue;
		if (ldns_rr_rd_count(rr) != 1 ||
		    dns_name_from_rdf(ldns_rr_rdf(rr, 0), host, sizeof(host)) <
			0 ||
		    host[0] == '\0' || strlen(host) >= namelen) {
			nbad++;
			continue;
		}
		strcpy(name, host);
		return DNS_OK;
	}
	if (nbad > 0) {
		if (why != NULL) {
			buf_reset(why);
			buf_printf(why,
				   "Name service error for name=%s type=PTR: "
				   "malformed host name in reply",
				   cur);
		}
		return DNS_NOTFOUND;
	}
	dns_why_text(why, DNS_NODATA, cur, "PTR");
	return DNS_NODATA;
}

int
dns_extract_txt(const ldns_pkt *pkt, const char *qname, struct buf *txt,
		char *canon, size_t canonlen, struct buf *why)
{
	const ldns_rr_list *answer = ldns_pkt_answer(pkt);
	char cur[DNS_NAME_MAX + 1];
	const ldns_rr *rr;
	int status;

	status =
	    reply_start_canon(pkt, qname, "TXT", cur, canon, canonlen, why);
	if (status != DNS_OK)
		return status;
	for (size_t i = 0; i < ldns_rr_list_rr_count(answer); i++) {
		rr = ldns_rr_list_rr(answer, i);
		if (!rr_is(rr, LDNS_RR_TYPE_TXT, cur))
			continue;
		/* The first record: its strings joined, bounded, printable. */
		buf_reset(txt);
		for (size_t j = 0; j < ldns_rr_rd_count(rr); j++) {
			const ldns_rdf *rdf = ldns_rr_rdf(rr, j);
			const uint8_t *d = ldns_rdf_data(rdf);
			size_t n = ldns_rdf_size(rdf);

			if (n == 0 || (size_t)d[0] + 1 > n)
				continue;
			for (size_t k = 1; k <= d[0] && txt->len < DNS_TXT_MAX;
			     k++)
				buf_putc(txt, d[k] >= ' ' && d[k] < 127 ? d[k]
									: '?');
		}
		return DNS_OK;
	}
	dns_why_text(why, DNS_NODATA, cur, "TXT");
	return DNS_NODATA;
}

int
dns_extract_ns(const ldns_pkt *pkt, const char *qname,
	       char names[][DNS_NAME_MAX + 1], size_t max, size_t *count,
	       char *canon, size_t canonlen, struct buf *why)
{
	const ldns_rr_list *answer = ldns_pkt_answer(pkt);
	char cur[DNS_NAME_MAX + 1];
	int status;

	*count = 0;
	status = reply_start_canon(pkt, qname, "NS", cur, canon, canonlen, why);
	if (status != DNS_OK)
		return status;
	for (size_t i = 0; i < ldns_rr_list_rr_count(answer) && *count < max;
	     i++) {
		const ldns_rr *rr = ldns_rr_list_rr(answer, i);
		if (!rr_is(rr, LDNS_RR_TYPE_NS, cur) ||
		    ldns_rr_rd_count(rr) != 1 ||
		    dns_name_from_rdf(ldns_rr_rdf(rr, 0), names[*count],
				      DNS_NAME_MAX + 1) < 0 ||
		    names[*count][0] == '\0')
			continue;
		(*count)++;
	}
	if (*count == 0) {
		dns_why_text(why, DNS_NODATA, cur, "NS");
		return DNS_NODATA;
	}
	return DNS_OK;
}

/* The one-octet field i of a TLSA record, or -1. */
static int
tlsa_octet(const ldns_rr *rr, size_t i)
{
	const ldns_rdf *rdf = ldns_rr_rdf(rr, i);

	if (rdf == NULL || ldns_rdf_size(rdf) != 1)
		return -1;
	return ldns_rdf_data(rdf)[0];
}

void
dns_tlsa_free(struct dns_tlsa_result *res)
{
	size_t i;

	for (i = 0; i < res->count; i++)
		free(res->rr[i].data);
	res->count = 0;
}

int
dns_extract_tlsa(const ldns_pkt *pkt, const char *qname,
		 struct dns_tlsa_result *res, char *canon, size_t canonlen,
		 struct buf *why)
{
	const ldns_rr_list *answer = ldns_pkt_answer(pkt);
	char cur[DNS_NAME_MAX + 1];
	int status, usage, selector, mtype;

	dns_tlsa_free(res);
	res->skipped = 0;
	status =
	    reply_start_canon(pkt, qname, "TLSA", cur, canon, canonlen, why);
	if (status != DNS_OK)
		return status;
	for (size_t i = 0;
	     i < ldns_rr_list_rr_count(answer) && res->count < DNS_TLSA_MAX;
	     i++) {
		const ldns_rr *rr = ldns_rr_list_rr(answer, i);
		const ldns_rdf *data;
		struct dns_tlsa *t;
		size_t len;

		if (!rr_is(rr, LDNS_RR_TYPE_TLSA, cur) ||
		    ldns_rr_rd_count(rr) != 4)
			continue;
		usage = tlsa_octet(rr, 0);
		selector = tlsa_octet(rr, 1);
		mtype = tlsa_octet(rr, 2);
		data = ldns_rr_rdf(rr, 3);
		len = data != NULL ? ldns_rdf_size(data) : 0;
		/* A digest of the wrong length can never match: RFC 7671
		 * 5 has it ignored, like any other malformed record; but it
		 * was published, which RFC 7672 2.2 counts (unusable). */
		if (usage < 0 || selector < 0 || mtype < 0 || len == 0 ||
		    len > DNS_TLSA_DATA_MAX || (mtype == 1 && len != 32) ||
		    (mtype == 2 && len != 64)) {
			res->skipped++;
			continue;
		}
		t = &res->rr[res->count++];
		t->usage = (uint8_t)usage;
		t->selector = (uint8_t)selector;
		t->mtype = (uint8_t)mtype;
		t->len = len;
		t->data = xmalloc(len);
		memcpy(t->data, ldns_rdf_data(data), len);
	}
	if (res->count == 0 && res->skipped == 0) {
		dns_why_text(why, DNS_NODATA, cur, "TLSA");
		return DNS_NODATA;
	}
	return DNS_OK;
}
