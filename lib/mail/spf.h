/*
 * spf - the Sender Policy Framework of RFC 7208: check_host() with every
 * mechanism (all, include, a, mx, ptr, ip4, ip6, exists) and modifier
 * (redirect, exp), macro expansion (section 7), the limits of section
 * 4.6.4 (10 DNS mechanisms and modifiers, 10 MX or PTR names per
 * mechanism, 2 void lookups) and the results none, neutral, pass, fail,
 * softfail, temperror and permerror.
 *
 * The evaluator does no I/O of its own: every DNS question goes through
 * the spf_lookup_fn of struct spf_query.  spf_dns.c backs it with
 * lib/mail/dns (libldns, dns_nameservers); the unit tests and the
 * RFC 7208 suite driver back it with a table.  Everything is bounded: a
 * record longer than SPF_RECORD_MAX or with more than SPF_TERMS_MAX terms
 * is a permerror, names are cut to 253 bytes as section 7.3 says, and the
 * recursion of include and redirect is bounded by the lookup limit.
 *
 *   spf_check_host(q, domain, sender, &out): the check_host() function
 *     for one identity; sender is "local@domain" (a missing local part
 *     is "postmaster").  out gets the result, the explanation of a fail
 *     (exp= expanded, or empty for the default) and a reason for the log
 *     (which mechanism matched, or what went wrong).
 *   spf_check_mailfrom(q, mailfrom, helo, &out): the identity of section
 *     2.4: the MAIL FROM address, or postmaster@helo for the null sender.
 *
 * Pure parts, for the tests and the fuzz target:
 *   spf_record_parse(text, &rec, err): the syntax of a record (section
 *     4.6 and 12): 0, or -1 (permerror) with the reason.
 *   spf_macro_expand(ctx, text, len, flags, out, err): section 7.
 */
#ifndef PANACEA_SPF_H
#define PANACEA_SPF_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define SPF_RECORD_MAX 4096 /* bytes of one record */
#define SPF_TERMS_MAX 128   /* terms of one record */
#define SPF_LOOKUP_LIMIT 10 /* DNS mechanisms and redirects (4.6.4) */
#define SPF_VOID_LIMIT 2    /* void lookups (4.6.4) */
#define SPF_NAMES_LIMIT 10  /* MX or PTR names looked at (4.6.4) */
#define SPF_ANSWER_MAX 32   /* records of one answer kept */
#define SPF_DOMAIN_MAX 253

enum spf_result {
	SPF_NONE,
	SPF_NEUTRAL,
	SPF_PASS,
	SPF_FAIL,
	SPF_SOFTFAIL,
	SPF_TEMPERROR,
	SPF_PERMERROR,
};

/* "none", "neutral", ... (lower case, as in Received-SPF). */
const char *spf_result_name(int result);

/* The DNS interface.  type is the RR type number (1 A, 12 PTR, 15 MX,
 * 16 TXT, 28 AAAA).  rr[i] holds one record: the raw 4 or 16 bytes of an
 * A or AAAA record, the lower-case name without final dot of an MX
 * (exchange) or PTR record, the strings of a TXT record joined.  total
 * counts every record of the answer, count those kept. */
enum spf_dns_status {
	SPF_DNS_FOUND,
	SPF_DNS_NODATA,	  /* the name exists without records of the type */
	SPF_DNS_NXDOMAIN, /* the name does not exist, or cannot be asked */
	SPF_DNS_ERROR,	  /* timeout, SERVFAIL, ... */
};

#define SPF_T_A 1
#define SPF_T_PTR 12
#define SPF_T_MX 15
#define SPF_T_TXT 16
#define SPF_T_AAAA 28

struct spf_answer {
	size_t count;
	size_t total;
	struct buf rr[SPF_ANSWER_MAX];
};

void spf_answer_init(struct spf_answer *a);
void spf_answer_reset(struct spf_answer *a);
void spf_answer_free(struct spf_answer *a);
/* Adds a record (kept when there is room; total counts it anyway). */
void spf_answer_add(struct spf_answer *a, const void *data, size_t len);

typedef int (*spf_lookup_fn)(void *ctx, const char *name, int type,
			     struct spf_answer *out);

/* An IPv4 or IPv6 address (an IPv4-mapped IPv6 address is IPv4). */
struct spf_ip {
	int v6;
	unsigned char b[16]; /* 4 bytes for IPv4 */
};

/* Parses a numeric address; 0, or -1. */
int spf_ip_parse(const char *text, struct spf_ip *ip);

struct spf_query {
	spf_lookup_fn lookup;
	void *ctx;
	struct spf_ip ip;	 /* the client */
	const char *helo;	 /* the HELO/EHLO name ("" when none) */
	const char *rcpt_domain; /* %{r}: our host name ("unknown") */
	long long now;		 /* %{t}; 0: the clock */
	/* Section 4.6.4: the evaluation's elapsed-time budget in ms (0: no
	 * limit); a lookup that would start after it is a temperror. */
	long long time_limit_ms;
};

struct spf_outcome {
	int result;
	struct buf exp;	    /* fail: the exp= explanation, "" for none */
	struct buf reason;  /* for the log and the header comment */
	char mechanism[64]; /* the matching term ("" when none) */
};

void spf_outcome_init(struct spf_outcome *o);
void spf_outcome_free(struct spf_outcome *o);

int spf_check_host(const struct spf_query *q, const char *domain,
		   const char *sender, struct spf_outcome *out);
/* The identity of a transaction: mailfrom ("" for the null sender)
 * or, for the null sender, postmaster@helo.  *identity is "mailfrom" or
 * "helo". */
int spf_check_mailfrom(const struct spf_query *q, const char *mailfrom,
		       struct spf_outcome *out, const char **identity);

/*
 * Pure parts.
 */
enum spf_term_kind {
	SPF_M_ALL,
	SPF_M_INCLUDE,
	SPF_M_A,
	SPF_M_MX,
	SPF_M_PTR,
	SPF_M_IP4,
	SPF_M_IP6,
	SPF_M_EXISTS,
	SPF_MOD_REDIRECT,
	SPF_MOD_EXP,
	SPF_MOD_UNKNOWN,
};

struct spf_term {
	enum spf_term_kind kind;
	int qualifier;	       /* '+', '-', '~', '?' */
	const char *arg;       /* domain-spec, network or modifier value */
	size_t arg_len;	       /* 0: none */
	int cidr4, cidr6;      /* -1: none */
	unsigned char net[16]; /* ip4/ip6 */
	const char *text;      /* the whole term, for the log */
	size_t text_len;
};

struct spf_record {
	size_t count;
	struct spf_term term[SPF_TERMS_MAX];
	int redirect; /* index of redirect=, -1 */
	int exp;      /* index of exp=, -1 */
	int has_all;
};

/* 1 when text (len bytes) is an SPF record: "v=spf1" then a space or
 * the end, case-insensitive. */
int spf_record_is_spf(const char *text, size_t len);
/* Parses text (which must outlive rec); 0, or -1 with err. */
int spf_record_parse(const char *text, size_t len, struct spf_record *rec,
		     struct buf *err);

/* What macros expand to (section 7.2). */
struct spf_macro_ctx {
	const char *sender; /* local@domain */
	const char *domain; /* the current domain */
	const struct spf_ip *ip;
	const char *helo;
	const char *validated; /* %{p}, NULL: "unknown" */
	const char *rcpt_domain;
	long long now;
};

#define SPF_MACRO_EXP 1	   /* an explanation: c, r, t allowed, spaces */
#define SPF_MACRO_DOMAIN 2 /* a domain-spec: cut to 253 bytes */

/* Expands a macro-string into out; 0, or -1 with err (a syntax error). */
int spf_macro_expand(const struct spf_macro_ctx *m, const char *text,
		     size_t len, int flags, struct buf *out, struct buf *err);
/* Checks the syntax of a macro-string without expanding it. */
int spf_macro_check(const char *text, size_t len, int flags, int *uses_p);

#endif
