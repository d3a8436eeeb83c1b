/*
 * spf_parse - the syntax of SPF records and macro strings (RFC 7208
 * sections 4.6, 7 and 12); see spf.h.
 *
 * Section 4.6 says a record with a syntax error anywhere is a permerror
 * before any of it is evaluated, so the whole record is parsed first,
 * every domain-spec and modifier value included.  A record is untrusted
 * text from DNS: it is scanned once, bytes outside printable ASCII are
 * refused, and the terms point into the caller's text (no copies).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "spf.h"

static int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int
is_delim(int c)
{
	return c != '\0' && strchr(".-+,/_=", c) != NULL;
}

int
spf_record_is_spf(const char *text, size_t len)
{
	static const char v[] = "v=spf1";
	size_t i;

	if (len < 6)
		return 0;
	for (i = 0; i < 6; i++)
		if (lower((unsigned char)text[i]) != v[i])
			return 0;
	return len == 6 || text[6] == ' ';
}

/* The length of the macro-expand at p (p[0] == '%'), or 0 when it is
 * not one.  *letter gets the macro letter (0 for %%, %_, %-). */
static size_t
macro_len(const char *p, size_t n, int flags, int *letter)
{
	size_t i;
	int c;

	*letter = 0;
	if (n < 2)
		return 0;
	if (p[1] == '%' || p[1] == '_' || p[1] == '-')
		return 2;
	if (p[1] != '{' || n < 4)
		return 0;
	c = lower((unsigned char)p[2]);
	if (strchr("slodiphv", c) == NULL &&
	    (!(flags & SPF_MACRO_EXP) || strchr("crt", c) == NULL))
		return 0;
	*letter = c;
	i = 3;
	if (i < n && is_digit((unsigned char)p[i])) {
		/* A transformer's count is nonzero (7.1). */
		if (p[i] == '0')
			return 0;
		while (i < n && is_digit((unsigned char)p[i]))
			i++;
	}
	if (i < n && lower((unsigned char)p[i]) == 'r')
		i++;
	while (i < n && is_delim((unsigned char)p[i]))
		i++;
	if (i >= n || p[i] != '}')
		return 0;
	return i + 1;
}

int
spf_macro_check(const char *text, size_t len, int flags, int *uses_p)
{
	size_t i = 0, m;
	int letter;

	if (uses_p)
		*uses_p = 0;
	while (i < len) {
		unsigned char c = (unsigned char)text[i];

		if (c == '%') {
			if ((m = macro_len(text + i, len - i, flags,
					   &letter)) == 0)
				return -1;
			if (letter == 'p' && uses_p)
				*uses_p = 1;
			i += m;
		} else if ((c >= 0x21 && c <= 0x7e) ||
			   (c == ' ' && (flags & SPF_MACRO_EXP))) {
			i++;
		} else {
			return -1;
		}
	}
	return 0;
}

/* The value of a macro letter. */
static void
letter_value(const struct spf_macro_ctx *m, int letter, struct buf *v)
{
	const char *at;
	char tmp[64];
	size_t i;

	buf_reset(v);
	switch (letter) {
	case 's':
		buf_puts(v, m->sender);
		break;
	case 'l':
		at = strrchr(m->sender, '@');
		buf_append(v, m->sender,
			   at ? (size_t)(at - m->sender) : strlen(m->sender));
		break;
	case 'o':
		at = strrchr(m->sender, '@');
		buf_puts(v, at ? at + 1 : m->sender);
		break;
	case 'd':
		buf_puts(v, m->domain);
		break;
	case 'i':
		if (!m->ip->v6) {
			buf_printf(v, "%u.%u.%u.%u", m->ip->b[0], m->ip->b[1],
				   m->ip->b[2], m->ip->b[3]);
			break;
		}
		for (i = 0; i < 16; i++)
			buf_printf(v, "%s%x.%x", i ? "." : "", m->ip->b[i] >> 4,
				   m->ip->b[i] & 15);
		break;
	case 'c':
		if (inet_ntop(m->ip->v6 ? AF_INET6 : AF_INET, m->ip->b, tmp,
			      sizeof(tmp)) != NULL)
			buf_puts(v, tmp);
		break;
	case 'p':
		buf_puts(v, m->validated ? m->validated : "unknown");
		break;
	case 'v':
		buf_puts(v, m->ip->v6 ? "ip6" : "in-addr");
		break;
	case 'h':
		buf_puts(v, m->helo);
		break;
	case 'r':
		buf_puts(v, m->rcpt_domain && *m->rcpt_domain ? m->rcpt_domain
							      : "unknown");
		break;
	case 't':
		buf_printf(v, "%lld", m->now);
		break;
	}
}

/* Section 7.3: split on the delimiters, reverse, keep the rightmost
 * count parts, join with dots; URL-escape for an upper-case letter. */
static void
transform(const struct buf *val, const char *delims, size_t ndelims,
	  unsigned long count, int reverse, int escape, struct buf *out)
{
	const char *s = buf_cstr(val);
	size_t n = val->len, nparts = 0, i, start, first;
	size_t pstart[SPF_DOMAIN_MAX + 1], plen[SPF_DOMAIN_MAX + 1];
	struct buf joined = BUF_INIT;

	/* Parts beyond the array are merged into the last one: a value
	 * with that many parts cannot make a name anyway. */
	for (start = 0, i = 0; i <= n; i++) {
		int d = i == n;

		if (!d) {
			if (ndelims == 0)
				d = s[i] == '.';
			else
				d = memchr(delims, s[i], ndelims) != NULL;
		}
		if (!d)
			continue;
		if (nparts < SPF_DOMAIN_MAX + 1) {
			pstart[nparts] = start;
			plen[nparts] = i - start;
			nparts++;
		} else {
			plen[nparts - 1] = i - pstart[nparts - 1];
		}
		start = i + 1;
	}
	if (reverse) {
		for (i = 0; i < nparts / 2; i++) {
			size_t t1 = pstart[i], t2 = plen[i];

			pstart[i] = pstart[nparts - 1 - i];
			plen[i] = plen[nparts - 1 - i];
			pstart[nparts - 1 - i] = t1;
			plen[nparts - 1 - i] = t2;
		}
	}
	first = count > 0 && count < nparts ? nparts - count : 0;
	for (i = first; i < nparts; i++) {
		if (i > first)
			buf_putc(&joined, '.');
		buf_append(&joined, s + pstart[i], plen[i]);
	}
	if (!escape) {
		buf_append(out, joined.data ? joined.data : "", joined.len);
	} else {
		for (i = 0; i < joined.len; i++) {
			unsigned char c = (unsigned char)joined.data[i];

			if (is_alpha(c) || is_digit(c) || strchr("-._~", c))
				buf_putc(out, c);
			else
				buf_printf(out, "%%%02X", c);
		}
	}
	buf_free(&joined);
}

/* Section 7.3: labels are taken off the left of a name longer than 253
 * bytes. */
static void
cut_domain(struct buf *out)
{
	const char *dot;
	size_t skip;

	while (out->len > SPF_DOMAIN_MAX) {
		dot = memchr(out->data, '.', out->len);
		skip = dot ? (size_t)(dot - out->data) + 1 : out->len;
		buf_consume(out, skip);
	}
}

int
spf_macro_expand(const struct spf_macro_ctx *m, const char *text, size_t len,
		 int flags, struct buf *out, struct buf *err)
{
	struct buf val = BUF_INIT;
	size_t i = 0, k, ml, nd;
	unsigned long count;
	int letter, reverse;

	buf_reset(out);
	if (spf_macro_check(text, len, flags, NULL) < 0) {
		if (err)
			buf_printf(err, "invalid macro string '%.*s'",
				   (int)(len > 200 ? 200 : len), text);
		return -1;
	}
	while (i < len) {
		if (text[i] != '%') {
			buf_putc(out, text[i++]);
			continue;
		}
		ml = macro_len(text + i, len - i, flags, &letter);
		if (ml == 2) {
			if (text[i + 1] == '%')
				buf_putc(out, '%');
			else if (text[i + 1] == '_')
				buf_putc(out, ' ');
			else
				buf_puts(out, "%20");
			i += 2;
			continue;
		}
		k = i + 3;
		count = 0;
		while (is_digit((unsigned char)text[k])) {
			if (count < 1000)
				count =
				    count * 10 + (unsigned long)(text[k] - '0');
			k++;
		}
		reverse = lower((unsigned char)text[k]) == 'r';
		if (reverse)
			k++;
		nd = i + ml - 1 - k;
		letter_value(m, letter, &val);
		transform(&val, text + k, nd, count, reverse,
			  text[i + 2] >= 'A' && text[i + 2] <= 'Z', out);
		i += ml;
	}
	buf_free(&val);
	if (flags & SPF_MACRO_DOMAIN)
		cut_domain(out);
	return 0;
}

/* A domain-spec's end (section 12): a macro-expand, or "." toplabel
 * with an optional final dot. */
static int
domain_end_ok(const char *s, size_t n)
{
	size_t i, last = 0, end;
	int letter, macro_at_end = 0, alpha = 0;

	for (i = 0; i < n;) {
		if (s[i] == '%') {
			size_t ml = macro_len(s + i, n - i, 0, &letter);

			if (ml == 0)
				return 0;
			i += ml;
			macro_at_end = i == n;
		} else {
			i++;
		}
	}
	if (macro_at_end)
		return 1;
	end = n;
	if (end > 0 && s[end - 1] == '.')
		end--;
	for (i = end; i > 0 && s[i - 1] != '.'; i--)
		;
	if (i == 0)
		return 0; /* one label: no "." toplabel */
	last = i;
	if (last == end || s[last] == '-' || s[end - 1] == '-')
		return 0;
	for (i = last; i < end; i++) {
		unsigned char c = (unsigned char)s[i];

		if (is_alpha(c))
			alpha = 1;
		else if (!is_digit(c) && c != '-')
			return 0;
	}
	/* An all-digit label is only a toplabel with a hyphen inside. */
	return alpha || memchr(s + last, '-', end - last) != NULL;
}

static int
domain_spec_ok(const char *s, size_t n)
{
	return n > 0 && spf_macro_check(s, n, 0, NULL) == 0 &&
	       domain_end_ok(s, n);
}

/* "/n" with no leading zero and n <= max; the value, or -1. */
static int
cidr_value(const char *s, size_t n, int max)
{
	int v = 0;
	size_t i;

	if (n == 0 || n > 3 || (s[0] == '0' && n > 1))
		return -1;
	for (i = 0; i < n; i++) {
		if (!is_digit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

/* dual-cidr-length at s (after the domain-spec): [ "/" ip4 ] [ "//" ip6 ] */
static int
dual_cidr(const char *s, size_t n, struct spf_term *t)
{
	const char *p;
	size_t l;

	if (n == 0)
		return 0;
	if (s[0] != '/')
		return -1;
	if (n >= 2 && s[1] != '/') {
		p = memchr(s + 1, '/', n - 1);
		l = p ? (size_t)(p - s - 1) : n - 1;
		if ((t->cidr4 = cidr_value(s + 1, l, 32)) < 0)
			return -1;
		s += 1 + l;
		n -= 1 + l;
		if (n == 0)
			return 0;
	}
	if (n < 3 || s[0] != '/' || s[1] != '/')
		return -1;
	return (t->cidr6 = cidr_value(s + 2, n - 2, 128)) < 0 ? -1 : 0;
}

/* 1 when s is "/" 1*DIGIT and/or "//" 1*DIGIT: the shape of a
 * dual-cidr-length, whatever its values. */
static int
cidr_shaped(const char *s, size_t n)
{
	size_t i = 0, d;

	if (n >= 2 && s[0] == '/' && s[1] != '/') {
		for (d = 1; d < n && is_digit((unsigned char)s[d]); d++)
			;
		if (d == 1)
			return 0;
		i = d;
	}
	if (i == n)
		return i > 0;
	if (n - i < 3 || s[i] != '/' || s[i + 1] != '/')
		return 0;
	for (d = i + 2; d < n; d++)
		if (!is_digit((unsigned char)s[d]))
			return 0;
	return 1;
}

/* Where the dual-cidr-length of a domain-spec starts: the first '/'
 * outside a macro whose suffix has its shape (a domain-spec may itself
 * hold '/'), or n. */
static size_t
slash_at(const char *s, size_t n)
{
	size_t i;
	int letter;

	for (i = 0; i < n; i++) {
		if (s[i] == '%') {
			size_t ml = macro_len(s + i, n - i, 0, &letter);

			i += ml > 0 ? ml - 1 : 0;
		} else if (s[i] == '/' && cidr_shaped(s + i, n - i)) {
			return i;
		}
	}
	return n;
}

static int
parse_network(struct spf_term *t, const char *s, size_t n, int v6)
{
	char tmp[INET6_ADDRSTRLEN + 1];
	size_t slash;

	for (slash = 0; slash < n && s[slash] != '/'; slash++)
		;
	if (slash == 0 || slash >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, slash);
	tmp[slash] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, tmp, t->net) != 1)
		return -1;
	if (slash == n)
		return 0;
	if (v6)
		t->cidr6 = cidr_value(s + slash + 1, n - slash - 1, 128);
	else
		t->cidr4 = cidr_value(s + slash + 1, n - slash - 1, 32);
	return (v6 ? t->cidr6 : t->cidr4) < 0 ? -1 : 0;
}

static const struct {
	const char *name;
	enum spf_term_kind kind;
} mechs[] = {
    {"all", SPF_M_ALL}, {"include", SPF_M_INCLUDE}, {"a", SPF_M_A},
    {"mx", SPF_M_MX},	{"ptr", SPF_M_PTR},	    {"ip4", SPF_M_IP4},
    {"ip6", SPF_M_IP6}, {"exists", SPF_M_EXISTS},
};

/* One term of n bytes at s; 0, or -1 with the reason. */
static int
parse_term(const char *s, size_t n, struct spf_record *rec, struct buf *err)
{
	struct spf_term *t = &rec->term[rec->count];
	size_t i = 0, nl, k, slash;
	int has_arg;

	memset(t, 0, sizeof(*t));
	t->text = s;
	t->text_len = n;
	t->cidr4 = t->cidr6 = -1;
	t->qualifier = '+';
	if (strchr("+-~?", s[0])) {
		t->qualifier = s[0];
		i = 1;
	}
	/* name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ) */
	if (i >= n || !is_alpha((unsigned char)s[i]))
		goto bad;
	for (nl = i;
	     nl < n && (is_alpha((unsigned char)s[nl]) ||
			is_digit((unsigned char)s[nl]) || strchr("-_.", s[nl]));
	     nl++)
		;
	if (nl < n && s[nl] == '=') {
		if (i != 0)
			goto bad; /* a modifier has no qualifier */
		t->arg = s + nl + 1;
		t->arg_len = n - nl - 1;
		if (nl == 8 && strncasecmp(s, "redirect", 8) == 0) {
			if (rec->redirect >= 0 ||
			    !domain_spec_ok(t->arg, t->arg_len))
				goto bad;
			t->kind = SPF_MOD_REDIRECT;
			rec->redirect = (int)rec->count;
		} else if (nl == 3 && strncasecmp(s, "exp", 3) == 0) {
			if (rec->exp >= 0 ||
			    !domain_spec_ok(t->arg, t->arg_len))
				goto bad;
			t->kind = SPF_MOD_EXP;
			rec->exp = (int)rec->count;
		} else {
			if (spf_macro_check(t->arg, t->arg_len, 0, NULL) < 0)
				goto bad;
			t->kind = SPF_MOD_UNKNOWN;
		}
		rec->count++;
		return 0;
	}
	for (k = 0; k < sizeof(mechs) / sizeof(mechs[0]); k++)
		if (strlen(mechs[k].name) == nl - i &&
		    strncasecmp(mechs[k].name, s + i, nl - i) == 0)
			break;
	if (k == sizeof(mechs) / sizeof(mechs[0]))
		goto bad;
	t->kind = mechs[k].kind;
	has_arg = nl < n && s[nl] == ':';
	if (has_arg) {
		t->arg = s + nl + 1;
		t->arg_len = n - nl - 1;
	}
	switch (t->kind) {
	case SPF_M_ALL:
		if (nl != n)
			goto bad;
		rec->has_all = 1;
		break;
	case SPF_M_INCLUDE:
	case SPF_M_EXISTS:
		if (!has_arg || !domain_spec_ok(t->arg, t->arg_len))
			goto bad;
		break;
	case SPF_M_PTR:
		if (nl != n &&
		    (!has_arg || !domain_spec_ok(t->arg, t->arg_len)))
			goto bad;
		break;
	case SPF_M_A:
	case SPF_M_MX:
		if (has_arg) {
			slash = slash_at(t->arg, t->arg_len);
			if (!domain_spec_ok(t->arg, slash) ||
			    dual_cidr(t->arg + slash, t->arg_len - slash, t) <
				0)
				goto bad;
			t->arg_len = slash;
		} else if (nl != n) {
			if (dual_cidr(s + nl, n - nl, t) < 0)
				goto bad;
		}
		break;
	case SPF_M_IP4:
	case SPF_M_IP6:
		if (!has_arg || parse_network(t, t->arg, t->arg_len,
					      t->kind == SPF_M_IP6) < 0)
			goto bad;
		break;
	default:
		goto bad;
	}
	rec->count++;
	return 0;
bad:
	if (err)
		buf_printf(err, "invalid term '%.*s'", (int)(n > 200 ? 200 : n),
			   s);
	return -1;
}

int
spf_record_parse(const char *text, size_t len, struct spf_record *rec,
		 struct buf *err)
{
	size_t i, start;

	rec->count = 0;
	rec->redirect = rec->exp = -1;
	rec->has_all = 0;
	if (!spf_record_is_spf(text, len)) {
		if (err)
			buf_puts(err, "not an SPF record");
		return -1;
	}
	if (len > SPF_RECORD_MAX) {
		if (err)
			buf_puts(err, "record too long");
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c != ' ' && (c < 0x21 || c > 0x7e)) {
			if (err)
				buf_puts(err, "record has bytes that are not "
					      "printable ASCII");
			return -1;
		}
	}
	for (i = 6;;) {
		while (i < len && text[i] == ' ')
			i++;
		if (i >= len)
			break;
		for (start = i; i < len && text[i] != ' '; i++)
			;
		if (rec->count == SPF_TERMS_MAX) {
			if (err)
				buf_puts(err, "too many terms");
			return -1;
		}
		if (parse_term(text + start, i - start, rec, err) < 0)
			return -1;
	}
	return 0;
}
