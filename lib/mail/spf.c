/*
 * spf - the check_host() evaluation of RFC 7208 (sections 4 to 6); see
 * spf.h.
 *
 * One struct eval carries what is shared by a check_host() and every
 * include and redirect below it: the query, the count of DNS mechanisms
 * and of void lookups (section 4.6.4 limits both over the whole
 * evaluation, not per record) and the %{p} name once found.  The depth
 * of include/redirect recursion is bounded by the lookup limit, since
 * each level costs one.  A record is copied to the heap before parsing
 * because the answer it came in is reused by the next lookup.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "spf.h"

struct eval {
	const struct spf_query *q;
	int lookups;
	int voids;
	int validated_done;
	char validated[SPF_DOMAIN_MAX + 1];
	const char *sender;
	struct buf *reason;
	char *mechanism;
	long long now;
	long long start_ms; /* monotonic, for time_limit_ms */
	int timed_out;
};

static long long
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *
spf_result_name(int result)
{
	switch (result) {
	case SPF_NONE:
		return "none";
	case SPF_NEUTRAL:
		return "neutral";
	case SPF_PASS:
		return "pass";
	case SPF_FAIL:
		return "fail";
	case SPF_SOFTFAIL:
		return "softfail";
	case SPF_TEMPERROR:
		return "temperror";
	case SPF_PERMERROR:
		return "permerror";
	}
	return "permerror";
}

void
spf_answer_init(struct spf_answer *a)
{
	size_t i;

	a->count = a->total = 0;
	for (i = 0; i < SPF_ANSWER_MAX; i++)
		buf_init(&a->rr[i]);
}

void
spf_answer_reset(struct spf_answer *a)
{
	size_t i;

	for (i = 0; i < a->count; i++)
		buf_reset(&a->rr[i]);
	a->count = a->total = 0;
}

void
spf_answer_free(struct spf_answer *a)
{
	size_t i;

	for (i = 0; i < SPF_ANSWER_MAX; i++)
		buf_free(&a->rr[i]);
	a->count = a->total = 0;
}

void
spf_answer_add(struct spf_answer *a, const void *data, size_t len)
{
	a->total++;
	if (a->count == SPF_ANSWER_MAX)
		return;
	buf_reset(&a->rr[a->count]);
	buf_append(&a->rr[a->count], data, len);
	a->count++;
}

void
spf_outcome_init(struct spf_outcome *o)
{
	o->result = SPF_NONE;
	buf_init(&o->exp);
	buf_init(&o->reason);
	o->mechanism[0] = '\0';
}

void
spf_outcome_free(struct spf_outcome *o)
{
	buf_free(&o->exp);
	buf_free(&o->reason);
}

int
spf_ip_parse(const char *text, struct spf_ip *ip)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0,	   0,
						 0, 0, 0, 0, 0xff, 0xff};

	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, text, ip->b) == 1)
		return 0;
	if (inet_pton(AF_INET6, text, ip->b) != 1)
		return -1;
	if (memcmp(ip->b, mapped, 12) == 0) {
		/* An IPv4 client seen through an IPv6 socket. */
		memmove(ip->b, ip->b + 12, 4);
		memset(ip->b + 4, 0, 12);
		return 0;
	}
	ip->v6 = 1;
	return 0;
}

/* 1 when the first bits of a and b agree. */
static int
prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
	int full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[full] ^ b[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

/* Section 4.3: a domain with an over-long or empty label, a single
 * label or a domain literal gets "none". */
static int
domain_ok(const char *d)
{
	size_t len = strlen(d), label = 0, labels = 0, i;

	if (len > 0 && d[len - 1] == '.')
		len--;
	if (len == 0 || len > SPF_DOMAIN_MAX)
		return 0;
	for (i = 0; i <= len; i++) {
		if (i == len || d[i] == '.') {
			if (label == 0 || label > 63)
				return 0;
			labels++;
			label = 0;
		} else {
			label++;
		}
	}
	return labels > 1 && d[0] != '[';
}

static int
set_error(struct eval *e, int result, const char *fmt, const char *arg)
{
	buf_reset(e->reason);
	buf_printf(e->reason, fmt, arg);
	return result;
}

/* Asks, with the name's final dot removed. */
static int
ask(struct eval *e, const char *name, int type, struct spf_answer *ans)
{
	char n[SPF_DOMAIN_MAX + 2];
	size_t len = strlen(name);

	spf_answer_reset(ans);
	if (len > SPF_DOMAIN_MAX + 1)
		return SPF_DNS_NXDOMAIN;
	memcpy(n, name, len + 1);
	if (len > 0 && n[len - 1] == '.')
		n[len - 1] = '\0';
	if (n[0] == '\0')
		return SPF_DNS_NXDOMAIN;
	if (e->q->time_limit_ms > 0 &&
	    monotonic_ms() - e->start_ms >= e->q->time_limit_ms) {
		e->timed_out = 1;
		return SPF_DNS_ERROR;
	}
	return e->q->lookup(e->q->ctx, n, type, ans);
}

/* Counts a void lookup; 0, or -1 past the limit. */
static int
count_void(struct eval *e, int status)
{
	if (status != SPF_DNS_NODATA && status != SPF_DNS_NXDOMAIN)
		return 0;
	return ++e->voids > SPF_VOID_LIMIT ? -1 : 0;
}

/* 1 when name is domain or under it (a final dot on domain ignored). */
static int
in_domain(const char *name, const char *domain)
{
	size_t nl = strlen(name), dl = strlen(domain);

	if (dl > 0 && domain[dl - 1] == '.')
		dl--;
	if (nl == dl)
		return strncasecmp(name, domain, dl) == 0;
	return nl > dl && name[nl - dl - 1] == '.' &&
	       strncasecmp(name + nl - dl, domain, dl) == 0;
}

/* The validated names of the client (section 5.5): the PTR names (the
 * first SPF_NAMES_LIMIT) one of whose addresses is the client.  1 when
 * one is in domain (copied to name), else 0 with the first validated
 * name, if any, in first.  DNS errors make a name not validated. */
static int
ptr_validate(struct eval *e, const char *domain, char *name, char *first)
{
	struct spf_answer ptr, addr;
	char rev[80];
	size_t i, j;
	int found = 0;

	first[0] = '\0';
	spf_answer_init(&ptr);
	spf_answer_init(&addr);
	if (!e->q->ip.v6) {
		snprintf(rev, sizeof(rev), "%u.%u.%u.%u.in-addr.arpa",
			 e->q->ip.b[3], e->q->ip.b[2], e->q->ip.b[1],
			 e->q->ip.b[0]);
	} else {
		rev[0] = '\0';
		for (i = 16; i > 0; i--)
			snprintf(rev + strlen(rev), sizeof(rev) - strlen(rev),
				 "%x.%x.", e->q->ip.b[i - 1] & 15,
				 e->q->ip.b[i - 1] >> 4);
		strcat(rev, "ip6.arpa");
	}
	if (ask(e, rev, SPF_T_PTR, &ptr) == SPF_DNS_FOUND) {
		for (i = 0; i < ptr.count && i < SPF_NAMES_LIMIT && !found;
		     i++) {
			const char *n = buf_cstr(&ptr.rr[i]);

			if (strlen(n) > SPF_DOMAIN_MAX ||
			    ask(e, n, e->q->ip.v6 ? SPF_T_AAAA : SPF_T_A,
				&addr) != SPF_DNS_FOUND)
				continue;
			for (j = 0; j < addr.count; j++) {
				if (addr.rr[j].len !=
					(e->q->ip.v6 ? 16u : 4u) ||
				    memcmp(addr.rr[j].data, e->q->ip.b,
					   addr.rr[j].len) != 0)
					continue;
				if (first[0] == '\0')
					strcpy(first, n);
				if (in_domain(n, domain)) {
					strcpy(name, n);
					found = 1;
				}
				break;
			}
		}
	}
	spf_answer_free(&ptr);
	spf_answer_free(&addr);
	return found;
}

/* The %{p} name (section 7.2): a validated name in domain, else any
 * validated name; NULL ("unknown") when none. */
static const char *
validated_name(struct eval *e, const char *domain)
{
	char first[SPF_DOMAIN_MAX + 1];

	if (e->validated_done)
		return e->validated[0] ? e->validated : NULL;
	e->validated_done = 1;
	if (!ptr_validate(e, domain, e->validated, first))
		strcpy(e->validated, first);
	return e->validated[0] ? e->validated : NULL;
}

/* Expands a domain-spec (or the current domain when len is 0). */
static int
expand(struct eval *e, const char *domain, const char *spec, size_t len,
       int flags, struct buf *out)
{
	struct spf_macro_ctx m;
	int uses_p = 0;

	if (len == 0) {
		buf_set(out, domain);
		return 0;
	}
	memset(&m, 0, sizeof(m));
	m.sender = e->sender;
	m.domain = domain;
	m.ip = &e->q->ip;
	m.helo = e->q->helo ? e->q->helo : "";
	m.rcpt_domain = e->q->rcpt_domain;
	m.now = e->now;
	if (spf_macro_check(spec, len, flags, &uses_p) == 0 && uses_p)
		m.validated = validated_name(e, domain);
	return spf_macro_expand(&m, spec, len, flags, out, e->reason);
}

/* 1 when one of the addresses of name (A or AAAA as the client) is in
 * the network of the client and cidr; 0; or -1 with *result set. */
static int
addr_match(struct eval *e, const char *name, const struct spf_term *t,
	   int count_voids, int *result)
{
	struct spf_answer ans;
	int v6 = e->q->ip.v6, status, bits, match = 0;
	size_t i;

	bits = v6 ? (t->cidr6 < 0 ? 128 : t->cidr6)
		  : (t->cidr4 < 0 ? 32 : t->cidr4);
	spf_answer_init(&ans);
	status = ask(e, name, v6 ? SPF_T_AAAA : SPF_T_A, &ans);
	if (status == SPF_DNS_ERROR) {
		*result =
		    set_error(e, SPF_TEMPERROR,
			      "DNS error looking up addresses of %s", name);
		match = -1;
	} else if (count_voids && count_void(e, status) < 0) {
		*result = set_error(e, SPF_PERMERROR,
				    "too many void DNS lookups (at %s)", name);
		match = -1;
	}
	for (i = 0; match == 0 && status == SPF_DNS_FOUND && i < ans.count; i++)
		if (ans.rr[i].len == (v6 ? 16u : 4u) &&
		    prefix_match((const unsigned char *)ans.rr[i].data,
				 e->q->ip.b, bits))
			match = 1;
	spf_answer_free(&ans);
	return match;
}

static int check_host(struct eval *e, const char *domain, struct buf *exp);

/* One mechanism: 1 match, 0 no match, -1 error (*result set). */
static int
mechanism(struct eval *e, const char *domain, const struct spf_term *t,
	  int *result)
{
	struct buf target = BUF_INIT;
	struct spf_answer ans;
	size_t i;
	int m = 0, r, status;

	spf_answer_init(&ans);
	switch (t->kind) {
	case SPF_M_ALL:
		m = 1;
		break;
	case SPF_M_IP4:
	case SPF_M_IP6:
		if ((t->kind == SPF_M_IP6) != e->q->ip.v6)
			break;
		m = prefix_match(t->net, e->q->ip.b,
				 t->kind == SPF_M_IP6
				     ? (t->cidr6 < 0 ? 128 : t->cidr6)
				     : (t->cidr4 < 0 ? 32 : t->cidr4));
		break;
	default:
		if (++e->lookups > SPF_LOOKUP_LIMIT) {
			*result = set_error(e, SPF_PERMERROR,
					    "more than 10 DNS lookups (at %s)",
					    domain);
			m = -1;
			break;
		}
		if (expand(e, domain, t->arg, t->arg_len, SPF_MACRO_DOMAIN,
			   &target) < 0) {
			*result = SPF_PERMERROR;
			m = -1;
			break;
		}
		switch (t->kind) {
		case SPF_M_INCLUDE:
			r = check_host(e, buf_cstr(&target), NULL);
			if (r == SPF_PASS)
				m = 1;
			else if (r == SPF_TEMPERROR || r == SPF_PERMERROR ||
				 r == SPF_NONE) {
				*result = r == SPF_TEMPERROR ? SPF_TEMPERROR
							     : SPF_PERMERROR;
				if (r == SPF_NONE)
					set_error(e, SPF_PERMERROR,
						  "include of %s: no SPF "
						  "record",
						  buf_cstr(&target));
				m = -1;
			}
			break;
		case SPF_M_A:
			m = addr_match(e, buf_cstr(&target), t, 1, result);
			break;
		case SPF_M_EXISTS:
			status = ask(e, buf_cstr(&target), SPF_T_A, &ans);
			if (status == SPF_DNS_ERROR) {
				*result = set_error(e, SPF_TEMPERROR,
						    "DNS error at exists:%s",
						    buf_cstr(&target));
				m = -1;
			} else if (count_void(e, status) < 0) {
				*result = set_error(
				    e, SPF_PERMERROR,
				    "too many void DNS lookups (at %s)",
				    buf_cstr(&target));
				m = -1;
			} else {
				m = status == SPF_DNS_FOUND;
			}
			break;
		case SPF_M_MX:
			status = ask(e, buf_cstr(&target), SPF_T_MX, &ans);
			if (status == SPF_DNS_ERROR) {
				*result = set_error(e, SPF_TEMPERROR,
						    "DNS error looking up MX "
						    "of %s",
						    buf_cstr(&target));
				m = -1;
				break;
			}
			if (count_void(e, status) < 0) {
				*result = set_error(
				    e, SPF_PERMERROR,
				    "too many void DNS lookups (at %s)",
				    buf_cstr(&target));
				m = -1;
				break;
			}
			if (status == SPF_DNS_FOUND &&
			    ans.total > SPF_NAMES_LIMIT) {
				*result = set_error(e, SPF_PERMERROR,
						    "more than 10 MX names "
						    "at %s",
						    buf_cstr(&target));
				m = -1;
				break;
			}
			for (i = 0;
			     status == SPF_DNS_FOUND && i < ans.count && m == 0;
			     i++) {
				if (ans.rr[i].len == 0)
					continue; /* null MX */
				m = addr_match(e, buf_cstr(&ans.rr[i]), t, 0,
					       result);
			}
			break;
		case SPF_M_PTR: {
			char name[SPF_DOMAIN_MAX + 1],
			    first[SPF_DOMAIN_MAX + 1];

			m = ptr_validate(e, buf_cstr(&target), name, first);
			break;
		}
		default:
			break;
		}
	}
	spf_answer_free(&ans);
	buf_free(&target);
	return m;
}

static int
qualifier_result(int q)
{
	switch (q) {
	case '-':
		return SPF_FAIL;
	case '~':
		return SPF_SOFTFAIL;
	case '?':
		return SPF_NEUTRAL;
	}
	return SPF_PASS;
}

/* Section 6.2: the explanation of a fail, or nothing when anything goes
 * wrong on the way (exp= is then as good as absent). */
static void
explain(struct eval *e, const char *domain, const struct spf_term *t,
	struct buf *exp)
{
	struct buf target = BUF_INIT, err = BUF_INIT;
	struct buf *saved = e->reason;
	struct spf_answer ans;

	spf_answer_init(&ans);
	e->reason = &err; /* an exp= problem is not the result's reason */
	if (expand(e, domain, t->arg, t->arg_len, SPF_MACRO_DOMAIN, &target) ==
		0 &&
	    ask(e, buf_cstr(&target), SPF_T_TXT, &ans) == SPF_DNS_FOUND &&
	    ans.total == 1 &&
	    memchr(ans.rr[0].data, '\0', ans.rr[0].len) == NULL &&
	    expand(e, domain, buf_cstr(&ans.rr[0]), ans.rr[0].len,
		   SPF_MACRO_EXP, exp) < 0)
		buf_reset(exp);
	e->reason = saved;
	spf_answer_free(&ans);
	buf_free(&target);
	buf_free(&err);
}

/* check_host() for domain; exp (NULL below an include) gets the
 * explanation of a fail. */
static int
check_host(struct eval *e, const char *domain, struct buf *exp)
{
	struct spf_answer ans;
	struct spf_record *rec = NULL;
	char *text = NULL;
	size_t i, found = 0, which = 0;
	int status, result = SPF_NEUTRAL, m;

	if (!domain_ok(domain))
		return set_error(e, SPF_NONE, "malformed domain '%s'", domain);
	spf_answer_init(&ans);
	status = ask(e, domain, SPF_T_TXT, &ans);
	if (status == SPF_DNS_ERROR) {
		result = set_error(e, SPF_TEMPERROR,
				   "DNS error looking up the SPF record of %s",
				   domain);
		goto out;
	}
	for (i = 0; status == SPF_DNS_FOUND && i < ans.count; i++)
		if (spf_record_is_spf(ans.rr[i].data, ans.rr[i].len)) {
			found++;
			which = i;
		}
	if (found == 0) {
		result = set_error(e, SPF_NONE, "no SPF record at %s", domain);
		goto out;
	}
	if (found > 1) {
		result = set_error(e, SPF_PERMERROR,
				   "more than one SPF record at %s", domain);
		goto out;
	}
	text = malloc(ans.rr[which].len + 1);
	rec = malloc(sizeof(*rec));
	if (text == NULL || rec == NULL) {
		result =
		    set_error(e, SPF_TEMPERROR, "out of memory at %s", domain);
		goto out;
	}
	memcpy(text, ans.rr[which].data, ans.rr[which].len + 1);
	buf_reset(e->reason);
	if (spf_record_parse(text, ans.rr[which].len, rec, e->reason) < 0) {
		buf_printf(e->reason, " in the SPF record of %.253s", domain);
		result = SPF_PERMERROR;
		goto out;
	}
	for (i = 0; i < rec->count; i++) {
		const struct spf_term *t = &rec->term[i];

		if (t->kind >= SPF_MOD_REDIRECT)
			continue;
		if ((m = mechanism(e, domain, t, &result)) < 0)
			goto out;
		if (m == 1) {
			result = qualifier_result(t->qualifier);
			snprintf(e->mechanism, 64, "%.*s",
				 (int)(t->text_len > 63 ? 63 : t->text_len),
				 t->text);
			buf_reset(e->reason);
			buf_printf(e->reason, "%.*s matched in %.253s",
				   (int)(t->text_len > 200 ? 200 : t->text_len),
				   t->text, domain);
			if (result == SPF_FAIL && exp && rec->exp >= 0)
				explain(e, domain, &rec->term[rec->exp], exp);
			goto out;
		}
	}
	/* Section 6.1: redirect= is ignored when there is an "all". */
	if (rec->redirect >= 0 && !rec->has_all) {
		const struct spf_term *t = &rec->term[rec->redirect];
		struct buf target = BUF_INIT;

		if (++e->lookups > SPF_LOOKUP_LIMIT) {
			result = set_error(e, SPF_PERMERROR,
					   "more than 10 DNS lookups (at %s)",
					   domain);
		} else if (expand(e, domain, t->arg, t->arg_len,
				  SPF_MACRO_DOMAIN, &target) < 0) {
			result = SPF_PERMERROR;
		} else {
			/* The target's own exp= explains its fail. */
			result = check_host(e, buf_cstr(&target), exp);
			if (result == SPF_NONE)
				result = set_error(e, SPF_PERMERROR,
						   "redirect to %s: no SPF "
						   "record",
						   buf_cstr(&target));
		}
		buf_free(&target);
		goto out;
	}
	buf_reset(e->reason);
	buf_printf(e->reason, "no mechanism matched in %.253s", domain);
	result = SPF_NEUTRAL;
out:
	free(rec);
	free(text);
	spf_answer_free(&ans);
	return result;
}

int
spf_check_host(const struct spf_query *q, const char *domain,
	       const char *sender, struct spf_outcome *out)
{
	struct eval e;
	struct buf full = BUF_INIT;

	memset(&e, 0, sizeof(e));
	e.q = q;
	e.now = q->now ? q->now : (long long)time(NULL);
	e.start_ms = q->time_limit_ms > 0 ? monotonic_ms() : 0;
	/* Section 4.3: a sender without local part is postmaster's. */
	if (sender == NULL || sender[0] == '\0' || sender[0] == '@' ||
	    strchr(sender, '@') == NULL) {
		buf_puts(&full, "postmaster@");
		buf_puts(&full, sender && sender[0] == '@' ? sender + 1
				: sender && sender[0]	   ? sender
							   : domain);
	} else {
		buf_puts(&full, sender);
	}
	e.sender = buf_cstr(&full);
	e.reason = &out->reason;
	e.mechanism = out->mechanism;
	out->mechanism[0] = '\0';
	buf_reset(&out->exp);
	buf_reset(&out->reason);
	out->result = check_host(&e, domain, &out->exp);
	if (e.timed_out && out->result == SPF_TEMPERROR) {
		buf_reset(&out->reason);
		buf_printf(&out->reason,
			   "SPF evaluation took longer than %lld ms",
			   q->time_limit_ms);
	}
	if (out->result != SPF_FAIL)
		buf_reset(&out->exp);
	buf_free(&full);
	return out->result;
}

int
spf_check_mailfrom(const struct spf_query *q, const char *mailfrom,
		   struct spf_outcome *out, const char **identity)
{
	const char *at = mailfrom ? strrchr(mailfrom, '@') : NULL;
	struct buf sender = BUF_INIT;
	int r;

	if (mailfrom && mailfrom[0] && at) {
		*identity = "mailfrom";
		return spf_check_host(q, at + 1, mailfrom, out);
	}
	/* Section 2.4: the null sender is checked as postmaster@helo. */
	*identity = "helo";
	buf_printf(&sender, "postmaster@%s", q->helo ? q->helo : "");
	r = spf_check_host(q, q->helo ? q->helo : "", buf_cstr(&sender), out);
	buf_free(&sender);
	return r;
}
