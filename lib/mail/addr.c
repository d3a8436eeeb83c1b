/*
 * addr - RFC 5321 Path and Mailbox parser; see addr.h for the contract.
 *
 * The parser works on a bounded input (at most ADDR_PATH_MAX octets are
 * ever looked at, longer input is refused first), copies into fixed-size
 * fields of struct addr, and never allocates.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "addr.h"

#define IS_ALPHA(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')

/* RFC 5322 atext, ASCII part. */
static int
is_atext(unsigned char c)
{
	if (IS_ALPHA(c) || IS_DIGIT(c))
		return 1;
	return c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/*
 * Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlongs,
 * no surrogates, nothing above U+10FFFF), or 0.
 */
size_t
addr_utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (n == 0)
		return 0;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		need = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		need = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		need = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (n < need || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < need; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return need;
}

/*
 * Checks a non-ASCII run starting at p[i]: returns the sequence length, or
 * 0 with *err set.
 */
static size_t
check_8bit(const unsigned char *p, size_t n, unsigned flags, int *err)
{
	size_t k;

	if (!(flags & ADDR_F_UTF8)) {
		*err = ADDR_ERR_8BIT;
		return 0;
	}
	if ((k = addr_utf8_seq(p, n)) == 0)
		*err = ADDR_ERR_BAD_UTF8;
	return k;
}

/* 1 when s (a C string) is a dot-atom; UTF-8 counts as atext. */
static int
is_dot_atom(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int prev_dot = 1;

	if (*p == 0)
		return 0;
	for (; *p; p++) {
		if (*p == '.') {
			if (prev_dot)
				return 0;
			prev_dot = 1;
		} else if (is_atext(*p) || *p >= 0x80) {
			prev_dot = 0;
		} else {
			return 0;
		}
	}
	return !prev_dot;
}

static int
check_literal(const char *s, size_t len)
{
	char tmp[INET6_ADDRSTRLEN + 8];
	unsigned char bin[16];

	/* s includes the brackets. */
	if (len < 3 || s[len - 1] != ']')
		return ADDR_ERR_BAD_LITERAL;
	s++;
	len -= 2;
	if (len >= 5 && strncasecmp(s, "IPv6:", 5) == 0) {
		s += 5;
		len -= 5;
		if (len == 0 || len >= sizeof(tmp))
			return ADDR_ERR_BAD_LITERAL;
		memcpy(tmp, s, len);
		tmp[len] = 0;
		return inet_pton(AF_INET6, tmp, bin) == 1
			   ? ADDR_OK
			   : ADDR_ERR_BAD_LITERAL;
	}
	if (len == 0 || len >= sizeof(tmp))
		return ADDR_ERR_BAD_LITERAL;
	memcpy(tmp, s, len);
	tmp[len] = 0;
	/* General-address-literal ("tag:...") and anything else is refused. */
	return inet_pton(AF_INET, tmp, bin) == 1 ? ADDR_OK
						 : ADDR_ERR_BAD_LITERAL;
}

/*
 * Checks a Domain (or an address literal when allow_literal): LDH labels
 * of 1-63 octets that neither start nor end with '-', UTF-8 allowed as
 * letters under ADDR_F_UTF8.
 */
static int
check_domain(const char *s, size_t len, unsigned flags, int allow_literal)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, label = 0, k;
	int err = ADDR_OK;

	if (len == 0)
		return ADDR_ERR_BAD_DOMAIN;
	if (len > ADDR_DOMAIN_MAX)
		return ADDR_ERR_DOMAIN_TOO_LONG;
	if (p[0] == '[')
		return allow_literal ? check_literal(s, len)
				     : ADDR_ERR_BAD_DOMAIN;
	for (i = 0; i < len; i++) {
		if (p[i] == '.') {
			if (label == 0 || p[i - 1] == '-')
				return ADDR_ERR_BAD_DOMAIN;
			label = 0;
			continue;
		}
		if (p[i] >= 0x80) {
			if ((k = check_8bit(p + i, len - i, flags, &err)) == 0)
				return err;
			i += k - 1;
			label += k;
		} else if (IS_ALPHA(p[i]) || IS_DIGIT(p[i])) {
			label++;
		} else if (p[i] == '-' && label > 0) {
			label++;
		} else {
			return ADDR_ERR_BAD_DOMAIN;
		}
		if (label > 63)
			return ADDR_ERR_DOMAIN_TOO_LONG;
	}
	if (label == 0 || p[len - 1] == '-')
		return ADDR_ERR_BAD_DOMAIN;
	return ADDR_OK;
}

/*
 * Skips a source route "@d1,@d2:" at the start of s; returns the octets
 * consumed, or 0 with *err set.
 */
static size_t
skip_source_route(const char *s, size_t len, unsigned flags, int *err)
{
	size_t i = 0, start;

	for (;;) {
		if (i >= len || s[i] != '@')
			break;
		start = ++i;
		while (i < len && s[i] != ',' && s[i] != ':')
			i++;
		if (i >= len)
			break;
		if ((*err = check_domain(s + start, i - start, flags, 0)) != 0)
			return 0;
		if (s[i++] == ':')
			return i;
	}
	*err = ADDR_ERR_SYNTAX;
	return 0;
}

/*
 * Parses a quoted local part at s[0] == '"' into out->local_unquoted;
 * returns the octets consumed including both quotes, or 0 with *err set.
 */
static size_t
parse_quoted(const char *s, size_t len, unsigned flags, struct addr *out,
	     int *err)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, k, n = 0;

	for (i = 1; i < len; i++) {
		/* The closing quote must be within the 64-octet limit. */
		if (i >= ADDR_LOCAL_MAX) {
			*err = ADDR_ERR_LOCAL_TOO_LONG;
			return 0;
		}
		if (p[i] == '"') {
			out->local_unquoted[n] = 0;
			return i + 1;
		}
		if (p[i] == '\\') {
			/* quoted-pairSMTP = "\" %d32-126 */
			if (++i >= len || p[i] < 32 || p[i] > 126)
				break;
		} else if (p[i] >= 0x80) {
			if ((k = check_8bit(p + i, len - i, flags, err)) == 0)
				return 0;
			if (i + k >= ADDR_LOCAL_MAX) {
				*err = ADDR_ERR_LOCAL_TOO_LONG;
				return 0;
			}
			/* n < i, so this stays inside local_unquoted. */
			memcpy(out->local_unquoted + n, p + i, k);
			n += k;
			i += k - 1;
			continue;
		} else if (p[i] < 32 || p[i] > 126) {
			break;
		}
		out->local_unquoted[n++] = p[i];
	}
	*err = ADDR_ERR_SYNTAX;
	return 0;
}

/*
 * Checks an unquoted local part (a dot-string, plus '@' for the
 * "user@remote@site" trick) and copies it into out->local_unquoted.
 */
static int
parse_dot_string(const char *s, size_t len, unsigned flags, struct addr *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, k;
	int prev_dot = 1, err = ADDR_OK;

	if (len == 0)
		return ADDR_ERR_SYNTAX;
	for (i = 0; i < len; i++) {
		/* An inner '@' separates like a dot: "a@b" but not "a@@b". */
		if (p[i] == '.' || p[i] == '@') {
			if (prev_dot)
				return ADDR_ERR_SYNTAX;
			prev_dot = 1;
		} else if (p[i] >= 0x80) {
			if ((k = check_8bit(p + i, len - i, flags, &err)) == 0)
				return err;
			i += k - 1;
			prev_dot = 0;
		} else if (is_atext(p[i])) {
			prev_dot = 0;
		} else {
			return ADDR_ERR_SYNTAX;
		}
	}
	if (prev_dot)
		return ADDR_ERR_SYNTAX;
	memcpy(out->local_unquoted, s, len);
	out->local_unquoted[len] = 0;
	return ADDR_OK;
}

/* Writes the canonical (external) form of local_unquoted into local. */
static void
canonical_local(struct addr *out)
{
	const char *u = out->local_unquoted;
	char *d = out->local;

	if (is_dot_atom(u)) {
		strcpy(out->local, u);
		return;
	}
	*d++ = '"';
	for (; *u; u++) {
		if (*u == '"' || *u == '\\')
			*d++ = '\\';
		*d++ = *u;
	}
	*d++ = '"';
	*d = 0;
}

static int
parse_mailbox(const char *s, size_t len, unsigned flags, struct addr *out)
{
	const char *at;
	size_t llen, i;
	int err = ADDR_OK;

	if (len > 0 && s[0] == '"') {
		out->flags |= ADDR_QUOTED;
		if ((llen = parse_quoted(s, len, flags, out, &err)) == 0)
			return err;
		if (llen < len && s[llen] != '@')
			return ADDR_ERR_SYNTAX;
		at = llen < len ? s + llen : NULL;
	} else {
		/* The last '@' separates the domain (see addr.h). */
		at = NULL;
		for (i = len; i > 0; i--) {
			if (s[i - 1] == '@') {
				at = s + i - 1;
				break;
			}
		}
		llen = at ? (size_t)(at - s) : len;
		if (llen > ADDR_LOCAL_MAX)
			return ADDR_ERR_LOCAL_TOO_LONG;
		if ((err = parse_dot_string(s, llen, flags, out)) != 0)
			return err;
	}
	if (llen > ADDR_LOCAL_MAX)
		return ADDR_ERR_LOCAL_TOO_LONG;
	if (at == NULL) {
		if (strcasecmp(out->local_unquoted, "postmaster") == 0)
			out->flags |= ADDR_POSTMASTER;
		else if (!(flags & ADDR_F_BARE_LOCAL))
			return ADDR_ERR_NO_DOMAIN;
		out->flags |= ADDR_NO_DOMAIN;
	} else {
		at++;
		len -= at - s;
		if ((err = check_domain(at, len, flags, 1)) != 0)
			return err;
		memcpy(out->domain, at, len);
		out->domain[len] = 0;
		if (at[0] == '[')
			out->flags |= ADDR_LITERAL;
	}
	if (strpbrk(out->local_unquoted, "%!@"))
		out->flags |= ADDR_ROUTING;
	return ADDR_OK;
}

static void
addr_clear(struct addr *out)
{
	out->flags = 0;
	out->local[0] = 0;
	out->local_unquoted[0] = 0;
	out->domain[0] = 0;
	out->addr[0] = 0;
}

static int
addr_parse_inner(const char *s, size_t len, unsigned flags, struct addr *out)
{
	size_t i, skip;
	int err = ADDR_OK;

	if (len > 0 && s[0] == '<') {
		if (len > ADDR_PATH_MAX)
			return ADDR_ERR_PATH_TOO_LONG;
		if (len < 2 || s[len - 1] != '>')
			return ADDR_ERR_SYNTAX;
		s++;
		len -= 2;
		if (len == 0) {
			if (!(flags & ADDR_F_NULL_OK))
				return ADDR_ERR_NULL;
			out->flags |= ADDR_NULL;
			return ADDR_OK;
		}
	} else if (flags & ADDR_F_NO_BRACKETS) {
		if (len + 2 > ADDR_PATH_MAX)
			return ADDR_ERR_PATH_TOO_LONG;
		if (len == 0)
			return ADDR_ERR_SYNTAX;
		out->flags |= ADDR_NO_BRACKETS;
	} else {
		return ADDR_ERR_NO_BRACKETS;
	}
	if (s[0] == '@') {
		if ((skip = skip_source_route(s, len, flags, &err)) == 0)
			return err;
		out->flags |= ADDR_SOURCE_ROUTE;
		s += skip;
		len -= skip;
	}
	if ((err = parse_mailbox(s, len, flags, out)) != 0)
		return err;
	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] >= 0x80) {
			out->flags |= ADDR_8BIT;
			break;
		}
	}
	canonical_local(out);
	if (out->domain[0])
		snprintf(out->addr, sizeof(out->addr), "%s@%s", out->local,
			 out->domain);
	else
		strcpy(out->addr, out->local);
	return ADDR_OK;
}

int
addr_parse(const char *s, size_t len, unsigned flags, struct addr *out)
{
	int err;

	addr_clear(out);
	if ((err = addr_parse_inner(s, len, flags, out)) != ADDR_OK)
		addr_clear(out);
	return err;
}

int
addr_is_plain(const struct addr *a)
{
	return !(a->flags & (ADDR_NULL | ADDR_ROUTING));
}

const char *
addr_strerror(int err)
{
	switch (err) {
	case ADDR_OK:
		return "success";
	case ADDR_ERR_NO_BRACKETS:
		return "address must be enclosed in <>";
	case ADDR_ERR_NULL:
		return "null address not allowed here";
	case ADDR_ERR_LOCAL_TOO_LONG:
		return "local part too long";
	case ADDR_ERR_DOMAIN_TOO_LONG:
		return "domain too long";
	case ADDR_ERR_PATH_TOO_LONG:
		return "address too long";
	case ADDR_ERR_8BIT:
		return "non-ASCII address without SMTPUTF8";
	case ADDR_ERR_BAD_UTF8:
		return "malformed UTF-8 in address";
	case ADDR_ERR_BAD_DOMAIN:
		return "bad domain syntax";
	case ADDR_ERR_BAD_LITERAL:
		return "bad address literal";
	case ADDR_ERR_NO_DOMAIN:
		return "address has no domain";
	default:
		return "bad address syntax";
	}
}
