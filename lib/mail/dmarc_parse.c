/*
 * dmarc_parse - the DMARC record (RFC 7489 6.3, 6.4); see dmarc.h.
 *
 * Tag names and keyword values are compared without case (ABNF strings
 * are case-insensitive), except the version, which the grammar spells
 * as the octets "DMARC1".  The first occurrence of a tag counts.
 */
#include <string.h>

#include "dmarc.h"
#include "strutil.h"

static int
wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* [s, e) without the blanks around it. */
static void
trim(const char **s, const char **e)
{
	while (*s < *e && wsp(**s))
		(*s)++;
	while (*e > *s && wsp((*e)[-1]))
		(*e)--;
}

static int
is(const char *s, const char *e, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(e - s) == n && str_ncasecmp(s, word, n) == 0;
}

static int
policy(const char *s, const char *e)
{
	if (is(s, e, "none"))
		return DMARC_POLICY_NONE;
	if (is(s, e, "quarantine"))
		return DMARC_POLICY_QUARANTINE;
	if (is(s, e, "reject"))
		return DMARC_POLICY_REJECT;
	return -1;
}

static int
alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A number of at most max; -1 when not one. */
static long long
number(const char *s, const char *e, long long max)
{
	long long v = 0;

	if (s == e)
		return -1;
	for (; s < e; s++) {
		if (!digit(*s))
			return -1;
		v = v * 10 + (*s - '0');
		if (v > max)
			return -1;
	}
	return v;
}

/* 1 when [s, e) is a comma-separated list with at least one URI
 * ("scheme:rest", a size limit "!10m" allowed after it). */
static int
has_uri(const char *s, const char *e)
{
	while (s < e) {
		const char *c = memchr(s, ',', (size_t)(e - s));
		const char *ue = c ? c : e, *us = s, *p;

		trim(&us, &ue);
		if (us < ue && alpha(*us)) {
			for (p = us + 1;
			     p < ue && (alpha(*p) || digit(*p) || *p == '+' ||
					*p == '-' || *p == '.');
			     p++)
				;
			if (p + 1 < ue && *p == ':')
				return 1;
		}
		s = c ? c + 1 : e;
	}
	return 0;
}

/* "0", "1", "d", "s" joined by ':'. */
static int
fo_ok(const char *s, const char *e)
{
	int want_opt = 1;

	if (s == e)
		return 0;
	for (; s < e; s++) {
		if (want_opt && (*s == '0' || *s == '1' || *s == 'd' ||
				 *s == 's' || *s == 'D' || *s == 'S'))
			want_opt = 0;
		else if (!want_opt && *s == ':')
			want_opt = 1;
		else if (!wsp(*s))
			return 0;
	}
	return !want_opt;
}

/* Keywords (alnum and '-') joined by ':'. */
static int
rf_ok(const char *s, const char *e)
{
	int len = 0;

	if (s == e)
		return 0;
	for (; s < e; s++) {
		if (alpha(*s) || digit(*s) || (*s == '-' && len > 0))
			len++;
		else if (*s == ':' && len > 0)
			len = 0;
		else
			return 0;
	}
	return len > 0;
}

static void
keep(char *dst, size_t size, const char *s, const char *e)
{
	size_t n = (size_t)(e - s);

	if (n >= size)
		n = size - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	/* The text goes to logs: no control octets. */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)dst[i] < ' ' || dst[i] == 127)
			dst[i] = '?';
}

static void
note(struct buf *err, const char *what, const char *s, const char *e)
{
	if (err->len)
		buf_puts(err, "; ");
	buf_printf(err, "bad %s= value \"%.*s\" ignored", what,
		   (int)(e - s > 64 ? 64 : e - s), s);
}

int
dmarc_record_parse(const char *text, size_t len, struct dmarc_record *rec,
		   struct buf *err)
{
	const char *s = text, *e = text + len;
	unsigned seen = 0;
	int first = 1, bad_p = 1, bad_sp = 0;

	memset(rec, 0, sizeof(*rec));
	rec->sp = -1;
	rec->pct = 100;
	rec->ri = 86400;
	strcpy(rec->fo, "0");
	strcpy(rec->rf, "afrf");
	buf_reset(err);
	if (len > DMARC_RECORD_MAX || memchr(text, '\0', len) != NULL)
		return DMARC_REC_NOT_DMARC;
	while (s < e) {
		const char *semi = memchr(s, ';', (size_t)(e - s));
		const char *te = semi ? semi : e, *eq, *ns = s, *ne, *vs, *ve;
		unsigned bit = 0;

		s = semi ? semi + 1 : e;
		eq = memchr(ns, '=', (size_t)(te - ns));
		if (eq == NULL) {
			/* A spec without '=' after the version (a final
			 * ';', a stray word) is a syntax error to ignore. */
			if (first)
				return DMARC_REC_NOT_DMARC;
			continue;
		}
		ne = eq;
		vs = eq + 1;
		ve = te;
		trim(&ns, &ne);
		trim(&vs, &ve);
		if (first) {
			/* "v=DMARC1" must come first (6.4, 6.6.3 step 3). */
			if (!is(ns, ne, "v") || (size_t)(ve - vs) != 6 ||
			    memcmp(vs, "DMARC1", 6) != 0)
				return DMARC_REC_NOT_DMARC;
			first = 0;
			continue;
		}
		if (is(ns, ne, "p"))
			bit = 1;
		else if (is(ns, ne, "sp"))
			bit = 2;
		else if (is(ns, ne, "pct"))
			bit = 4;
		else if (is(ns, ne, "adkim"))
			bit = 8;
		else if (is(ns, ne, "aspf"))
			bit = 16;
		else if (is(ns, ne, "rua"))
			bit = 32;
		else if (is(ns, ne, "ruf"))
			bit = 64;
		else if (is(ns, ne, "fo"))
			bit = 128;
		else if (is(ns, ne, "rf"))
			bit = 256;
		else if (is(ns, ne, "ri"))
			bit = 512;
		/* Unknown tags, and repeats, are ignored. */
		if (bit == 0 || (seen & bit))
			continue;
		seen |= bit;
		switch (bit) {
		case 1:
			if ((rec->p = policy(vs, ve)) >= 0)
				bad_p = 0;
			else
				rec->p = DMARC_POLICY_NONE;
			break;
		case 2:
			if ((rec->sp = policy(vs, ve)) < 0)
				bad_sp = 1;
			break;
		case 4: {
			long long v = number(vs, ve, 100);

			if (v < 0)
				note(err, "pct", vs, ve);
			else
				rec->pct = (int)v;
			break;
		}
		case 8:
		case 16: {
			int *strict =
			    bit == 8 ? &rec->adkim_strict : &rec->aspf_strict;

			if (is(vs, ve, "s"))
				*strict = 1;
			else if (!is(vs, ve, "r"))
				note(err, bit == 8 ? "adkim" : "aspf", vs, ve);
			break;
		}
		case 32:
			keep(rec->rua, sizeof(rec->rua), vs, ve);
			break;
		case 64:
			keep(rec->ruf, sizeof(rec->ruf), vs, ve);
			break;
		case 128:
			if (fo_ok(vs, ve))
				keep(rec->fo, sizeof(rec->fo), vs, ve);
			else
				note(err, "fo", vs, ve);
			break;
		case 256:
			if (rf_ok(vs, ve))
				keep(rec->rf, sizeof(rec->rf), vs, ve);
			else
				note(err, "rf", vs, ve);
			break;
		case 512: {
			long long v = number(vs, ve, 4294967295LL);

			if (v < 0)
				note(err, "ri", vs, ve);
			else
				rec->ri = (unsigned long)v;
			break;
		}
		}
	}
	if (first)
		return DMARC_REC_NOT_DMARC;
	if (bad_p || bad_sp) {
		/* 6.6.3 step 6: p=none when a report can tell the owner. */
		if (!has_uri(rec->rua, rec->rua + strlen(rec->rua))) {
			buf_reset(err);
			buf_puts(err,
				 bad_p ? "no valid p= tag" : "bad sp= tag");
			return DMARC_REC_UNUSABLE;
		}
		rec->p = DMARC_POLICY_NONE;
		rec->sp = -1;
		rec->p_defaulted = 1;
	}
	return DMARC_REC_OK;
}
