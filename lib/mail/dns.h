/*
 * dns - MX, address and PTR lookups through libldns.
 *
 * Every DNS lookup of Panacea (the smtp client's MX and A/AAAA lookups,
 * smtpd's client name) goes through this module, to the servers of
 * dns_nameservers or, when that is empty, of /etc/resolv.conf.
 *
 * Set-up (before chroot):
 *   dns_init(nameservers, err) reads the server list ("ip[:port] ...",
 *   "[ipv6]:port", bare "ipv6"; at most DNS_NS_MAX entries, separated by
 *   white space or commas) or, for an empty list, resolv.conf's nameserver
 *   lines (127.0.0.1 when it has none, as the C library does), and
 *   prepares one ldns resolver per server: recursion desired, EDNS0 with
 *   a 1232-byte UDP size, TCP retry of truncated answers, no search list
 *   (every name is absolute).  Servers are tried in order; a server that
 *   times out, answers SERVFAIL/REFUSED or answers something that is not
 *   a reply to our question (id, question section) is skipped for that
 *   query only.  0, or -1 with a message in err.
 *   dns_set_timeout(seconds, tries) sets the per-attempt timeout and the
 *   number of attempts per server (defaults 5 and 2).
 *
 * Lookups return an enum dns_status and, when why is non-NULL, put a
 * human-readable reason in why for anything but DNS_OK, in Postfix's
 * wording ("Host or domain name not found. Name service error for
 * name=x type=MX: Host not found").  dns_status_dsn() maps a status to
 * the enhanced status code of a delivery failure:
 *   DNS_NOTFOUND  NXDOMAIN or malformed name: permanent, 5.1.2;
 *   DNS_NULLMX    RFC 7505 null MX (the only MX is "."): 5.1.10;
 *   DNS_TEMPFAIL  SERVFAIL, REFUSED, timeout, no server, unusable reply,
 *                 a CNAME chain longer than DNS_CNAME_MAX: 4.4.3;
 *   DNS_NODATA    the name exists without records of the type: 5.4.4
 *                 (dns_lookup_mx never returns it: see implicit MX);
 *   DNS_LOOP      the MX list points back to this host: 5.4.6.
 *
 * dns_lookup_mx(domain): MX records sorted by preference, equal
 *   preferences in random order, duplicates removed, at most DNS_MX_MAX
 *   (the best ones).  CNAMEs are followed (at most DNS_CNAME_MAX); a
 *   domain without MX records gets itself as its only MX with preference
 *   0 (RFC 5321 5.1) and res->implicit set.  MX host names that are not
 *   valid host names are ignored; when none is left the result is
 *   DNS_TEMPFAIL.
 * dns_lookup_addr(host, families): A and/or AAAA records (IPv4 first),
 *   at most DNS_ADDR_MAX, port 0 (the caller sets it).  DNS_OK when any
 *   family gave an address.
 * dns_lookup_txt(name): the first TXT record's text (DNSBL reasons).
 * dns_lookup_ns(domain): the NS host names of domain.
 * dns_lookup_ptr(ip): the first valid host name of the PTR records of a
 *   numeric IPv4 or IPv6 address.
 * dns_client_name(ip): the PTR name when it is forward-confirmed (one of
 *   its addresses is ip), else "unknown" and the status of the failing
 *   step (DNS_NOTFOUND when the name does not resolve back to ip).
 * dns_mx_filter_self(res, myhostnames): when one of the MX hosts is one
 *   of our names (comma/space list), keeps only the MX hosts with a
 *   strictly better preference than ours; DNS_LOOP when none is left
 *   ("mail for DOMAIN loops back to myself"), else DNS_OK.
 *
 * Every name taken from a reply is bounded (DNS_NAME_MAX) and validated:
 * letters, digits, hyphens and underscores, labels of 1..63 bytes that
 * neither start nor end with a hyphen, and a last label that is not all
 * digits.  Names are returned in lower case, without the final dot.
 *
 * The pure parts (reply processing, sorting, filtering, name syntax,
 * server list parsing) are exported for unit tests and the fuzz target;
 * they take an ldns_pkt or plain arrays and never touch the network.
 * Lookups are synchronous and not thread-safe (Panacea is not threaded).
 */
#ifndef PANACEA_DNS_H
#define PANACEA_DNS_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <ldns/ldns.h>

#include "buf.h"

#define DNS_NAME_MAX 253 /* text length of a name, no final dot */
#define DNS_MX_MAX 32	 /* MX hosts kept per domain */
#define DNS_ADDR_MAX 16	 /* addresses kept per host */
#define DNS_NS_MAX 8	 /* servers in dns_nameservers */
#define DNS_CNAME_MAX 8	 /* CNAME hops followed per lookup */
#define DNS_TXT_MAX 512	 /* bytes of a TXT record kept */

enum dns_status {
	DNS_OK = 0,
	DNS_NOTFOUND,
	DNS_NULLMX,
	DNS_TEMPFAIL,
	DNS_NODATA,
	DNS_LOOP,
};

/* Address families for dns_lookup_addr (inet_protocols). */
#define DNS_INET4 1
#define DNS_INET6 2
#define DNS_INET_ALL (DNS_INET4 | DNS_INET6)

struct dns_mx {
	unsigned pref;
	char host[DNS_NAME_MAX + 1];
};

struct dns_mx_result {
	char domain[DNS_NAME_MAX + 1]; /* as asked, lower case */
	char name[DNS_NAME_MAX + 1];   /* after CNAMEs: owner of the MX set */
	int implicit;		       /* no MX: mx[0] is name, preference 0 */
	int secure; /* dnssec: every reply of the lookup had the AD bit */
	size_t count;
	struct dns_mx mx[DNS_MX_MAX];
};

struct dns_addr_list {
	size_t count;
	struct sockaddr_storage addr[DNS_ADDR_MAX];
	int secure; /* dnssec: every reply of the lookup had the AD bit */
	char canon[DNS_NAME_MAX + 1]; /* name reached through CNAMEs, or "" */
};

/* One TLSA record (RFC 6698) as received; data is the certificate
 * association data (the digest, or the whole DER object for matching
 * type 0). */
#define DNS_TLSA_MAX 16	       /* records kept per name */
#define DNS_TLSA_DATA_MAX 4096 /* bytes of one record's data kept */
struct dns_tlsa {
	uint8_t usage, selector, mtype;
	size_t len;
	unsigned char *data;
};

struct dns_tlsa_result {
	size_t count;
	struct dns_tlsa rr[DNS_TLSA_MAX];
	size_t skipped; /* malformed records (not in rr) */
	int secure;	/* dnssec: every reply of the lookup had the AD bit */
};

/* One entry of dns_nameservers. */
struct dns_server {
	int family; /* AF_INET or AF_INET6 */
	char ip[INET6_ADDRSTRLEN];
	uint16_t port;
};

/* Resolver set-up; see above. */
int dns_init(const char *nameservers, struct buf *err);
void dns_set_timeout(int seconds, int tries);
/* 1 once dns_init() succeeded (lookups before panic). */
int dns_is_ready(void);
void dns_end(void);

/*
 * DNSSEC (smtp_dns_support_level = dnssec): with dns_set_dnssec(1) every
 * query sets the DO bit, and each lookup notes whether every reply it
 * read (CNAME hops included) had the AD bit set: the resolver says it
 * validated the answer, or the proof that there is none.  Panacea does
 * not validate itself: the AD bit is trusted as Postfix trusts it, so the
 * servers of dns_nameservers must be a validating resolver on a path
 * that cannot be tampered with (loopback).  dns_last_secure() is that
 * note for the last lookup of any kind; the MX, address and TLSA results
 * carry it in their secure field.
 */
void dns_set_dnssec(int on);
int dns_last_secure(void);

/* Lookups; each returns an enum dns_status. */
int dns_lookup_mx(const char *domain, struct dns_mx_result *res,
		  struct buf *why);
int dns_lookup_addr(const char *host, int families, struct dns_addr_list *out,
		    struct buf *why);
int dns_lookup_ptr(const char *ip, char *name, size_t namelen, struct buf *why);
int dns_client_name(const char *ip, char *name, size_t namelen,
		    struct buf *why);
int dns_mx_filter_self(struct dns_mx_result *res, const char *myhostnames,
		       struct buf *why);
/* The text of the first TXT record of name (its strings joined, at most
 * DNS_TXT_MAX bytes, unprintable bytes as '?'): DNSBL reasons. */
int dns_lookup_txt(const char *name, struct buf *txt, struct buf *why);
/* The NS host names of domain (at most max): DNS_OK and *count > 0, or
 * the status of the lookup (DNS_NODATA: the name has none). */
int dns_lookup_ns(const char *domain, char names[][DNS_NAME_MAX + 1],
		  size_t max, size_t *count, struct buf *why);

/* One question (name without final dot, any bytes ldns can put in a
 * name) to the servers in turn, for callers with their own reading of
 * the reply (SPF): DNS_OK and a reply (rcode NOERROR or NXDOMAIN) the
 * caller frees with ldns_pkt_free, DNS_NOTFOUND for a name that cannot
 * be asked, or DNS_TEMPFAIL. */
int dns_query(const char *name, int type, ldns_pkt **reply, struct buf *why);

/* The TLSA records of name ("_25._tcp.mx.example.org"; CNAMEs
 * followed): DNS_OK (records in res, see dns_extract_tlsa), DNS_NODATA or
 * DNS_NOTFOUND when there are none, DNS_TEMPFAIL.  res->secure as above.  Free
 * with dns_tlsa_free() whatever the status. */
int dns_lookup_tlsa(const char *name, struct dns_tlsa_result *res,
		    struct buf *why);
void dns_tlsa_free(struct dns_tlsa_result *res);

/* "OK", "NOTFOUND", ... and the enhanced status code of a failure. */
const char *dns_status_name(int status);
const char *dns_status_dsn(int status);

/*
 * Pure parts.
 */

/* Replaces why (when non-NULL) with the text of a failed lookup of
 * (name, type), e.g. type "MX". */
void dns_why_text(struct buf *why, int status, const char *name,
		  const char *type);

/* Parses a dns_nameservers value into at most max entries; 0 and the
 * count, or -1 with a message in err (bad address, port outside 1..65535,
 * too many entries, over-long token). */
int dns_parse_nameservers(const char *list, struct dns_server *out, size_t max,
			  size_t *count, struct buf *err);
/* 1 when name (no final dot, at most DNS_NAME_MAX) is a valid host name
 * in the sense above. */
int dns_name_valid(const char *name);
/* Text of a wire name (an LDNS_RDF_TYPE_DNAME rdf): 0 and the lower-case
 * name without final dot ("" for the root), or -1 when it is not a valid
 * host name or does not fit in outlen (outlen > DNS_NAME_MAX suffices). */
int dns_name_from_rdf(const ldns_rdf *rdf, char *out, size_t outlen);
/* The reverse-lookup name of a numeric address ("4.3.2.1.in-addr.arpa",
 * nibbles under ip6.arpa); 0, or -1 for a non-numeric address or a
 * too-small buffer (74 bytes suffice). */
int dns_reverse_name(const char *ip, char *out, size_t outlen);
/* Sorts by preference, removes duplicate hosts (keeping the better
 * preference), and shuffles each run of equal preferences with rnd
 * (returns a value below its argument; NULL means arc4random_uniform).
 * Returns the new count. */
size_t dns_mx_sort(struct dns_mx *mx, size_t n, uint32_t (*rnd)(uint32_t));
/* The status of a reply's answer to (qname, MX): follows the CNAMEs of
 * the answer section from qname, then fills res (name = the last name
 * reached; count, mx sorted with dns_mx_sort).  DNS_NODATA when the name
 * reached has no MX records: when res->name differs from qname the
 * caller asks again for res->name.  res->domain and res->implicit are
 * left for the caller. */
int dns_extract_mx(const ldns_pkt *pkt, const char *qname,
		   struct dns_mx_result *res, struct buf *why);
/* The same for type LDNS_RR_TYPE_A or LDNS_RR_TYPE_AAAA: appends the
 * addresses to out (up to DNS_ADDR_MAX); canon receives the last name
 * reached (canonlen > DNS_NAME_MAX). */
int dns_extract_addr(const ldns_pkt *pkt, const char *qname, int type,
		     struct dns_addr_list *out, char *canon, size_t canonlen,
		     struct buf *why);
/* The same for TXT: the first record's text into txt (dns_lookup_txt). */
int dns_extract_txt(const ldns_pkt *pkt, const char *qname, struct buf *txt,
		    char *canon, size_t canonlen, struct buf *why);
/* The same for NS: the valid host names, at most max (dns_lookup_ns). */
int dns_extract_ns(const ldns_pkt *pkt, const char *qname,
		   char names[][DNS_NAME_MAX + 1], size_t max, size_t *count,
		   char *canon, size_t canonlen, struct buf *why);
/* The same for PTR: the first valid host name into name. */
int dns_extract_ptr(const ldns_pkt *pkt, const char *qname, char *name,
		    size_t namelen, char *canon, size_t canonlen,
		    struct buf *why);
/* The same for TLSA (dns_tlsa.c): the well-formed records of the name
 * reached, at most DNS_TLSA_MAX; a record whose rdata is not three
 * octets and a data field, or whose digest length does not fit its
 * matching type (32 for SHA2-256, 64 for SHA2-512), or whose data is
 * empty or longer than DNS_TLSA_DATA_MAX, is skipped.  Usages, selectors
 * and matching types are kept as they are: which ones are usable is the
 * caller's business.  DNS_OK when the name has TLSA records, even when
 * all were skipped (res->skipped: published but unusable). */
int dns_extract_tlsa(const ldns_pkt *pkt, const char *qname,
		     struct dns_tlsa_result *res, char *canon, size_t canonlen,
		     struct buf *why);

/* The filtering of dns_mx_filter_self on a sorted array; returns the new
 * count (0: we are the best MX). *found is set when one of our names is
 * in the list. */
size_t dns_mx_filter_names(struct dns_mx *mx, size_t n, const char *myhostnames,
			   int *found);

#endif
