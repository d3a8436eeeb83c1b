/*
 * dmarc_from - the RFC5322.From domain for DMARC; see dmarc_from.h.
 */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "dmarc_from.h"
#include "strutil.h"

static int
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The end of the quoted string, comment or domain literal at p. */
static const char *
skip_over(const char *p, const char *e)
{
	char close = *p == '"' ? '"' : *p == '[' ? ']' : ')';
	int depth = 0;

	if (close != ')')
		p++;
	for (; p < e; p++) {
		if (*p == '\\' && p + 1 < e)
			p++;
		else if (*p == '(' && close == ')')
			depth++;
		else if (*p == close && (close != ')' || --depth == 0))
			return p + 1;
	}
	return e;
}

/* The addr-spec [s, e) without comments and blanks outside quoted
 * strings and literals; 0, or -1 when it holds inner blanks between
 * words (a phrase, not an address) or is too long. */
static int
clean_spec(const char *s, const char *e, struct buf *out)
{
	int gap = 0;

	while (s < e) {
		if (*s == '(') {
			s = skip_over(s, e);
			gap = out->len > 0;
			continue;
		}
		if (blank(*s)) {
			s++;
			gap = out->len > 0;
			continue;
		}
		/* "a b@x" is two words; "a @ x" is obsolete but one. */
		if (gap && *s != '@' && *s != '.' && out->len > 0 &&
		    out->data[out->len - 1] != '@' &&
		    out->data[out->len - 1] != '.')
			return -1;
		gap = 0;
		if (*s == '"' || *s == '[') {
			const char *q = skip_over(s, e);

			buf_append(out, s, (size_t)(q - s));
			s = q;
		} else
			buf_putc(out, *s++);
		if (out->len > ADDR_PATH_MAX)
			return -1;
	}
	return 0;
}

int
dmarc_from_value(const char *value, size_t len, char *domain, const char **why)
{
	const char *p = value, *e = value + len;
	const char *spec_s = NULL, *spec_e = NULL;
	unsigned mailboxes = 0;
	struct buf spec = BUF_INIT;
	struct addr a;
	int r;

	domain[0] = '\0';
	/* The list's elements, split at ',' outside quotes, comments,
	 * literals and angle brackets; empty ones (obs-mbox-list) skipped. */
	while (p < e) {
		const char *start = p, *angle = NULL, *angle_end = NULL;
		int words = 0;

		while (p < e && *p != ',') {
			if (*p == '"' || *p == '(' || *p == '[') {
				if (*p != '(')
					words = 1;
				p = skip_over(p, e);
			} else if (*p == '<') {
				if (angle) {
					*why = "two angle addresses in one "
					       "mailbox";
					return DMARC_FROM_BAD;
				}
				angle = ++p;
				while (p < e && *p != '>') {
					if (*p == '"' || *p == '(' || *p == '[')
						p = skip_over(p, e);
					else
						p++;
				}
				if (p == e) {
					*why = "unclosed angle address";
					return DMARC_FROM_BAD;
				}
				angle_end = p++;
			} else if (*p == ':' || *p == ';') {
				*why = "a group in From:";
				return DMARC_FROM_BAD;
			} else {
				if (!blank(*p))
					words = 1;
				p++;
			}
		}
		if (angle || words) {
			if (++mailboxes > 1) {
				*why = "more than one address in From:";
				return DMARC_FROM_BAD;
			}
			if (angle) {
				spec_s = angle;
				spec_e = angle_end;
			} else {
				spec_s = start;
				spec_e = p;
			}
		}
		if (p < e)
			p++; /* the ',' */
	}
	if (mailboxes == 0) {
		*why = "no address in From:";
		return DMARC_FROM_BAD;
	}
	/* A route "@a,@b:" in front of an angle address is dropped. */
	for (const char *q = spec_s; q < spec_e && *spec_s == '@'; q++) {
		if (*q == ':') {
			spec_s = q + 1;
			break;
		}
	}
	if (clean_spec(spec_s, spec_e, &spec) < 0 || spec.len == 0) {
		buf_free(&spec);
		*why = "From: address syntax";
		return DMARC_FROM_BAD;
	}
	r = addr_parse(spec.data, spec.len, ADDR_F_NO_BRACKETS | ADDR_F_UTF8,
		       &a);
	buf_free(&spec);
	if (r != ADDR_OK) {
		*why = addr_strerror(r);
		return DMARC_FROM_BAD;
	}
	if ((a.flags & (ADDR_LITERAL | ADDR_NO_DOMAIN)) ||
	    a.domain[0] == '\0') {
		*why = "From: address without a domain name";
		return DMARC_FROM_BAD;
	}
	snprintf(domain, DMARC_FROM_DOMAIN_MAX + 1, "%s", a.domain);
	str_lower(domain);
	len = strlen(domain);
	if (len > 0 && domain[len - 1] == '.')
		domain[len - 1] = '\0';
	return DMARC_FROM_OK;
}

void
dmarc_from_init(struct dmarc_from *f)
{
	memset(f, 0, sizeof(*f));
	f->at_bol = 1;
	buf_init(&f->value);
}

void
dmarc_from_free(struct dmarc_from *f)
{
	buf_free(&f->value);
}

void
dmarc_from_feed(struct dmarc_from *f, const void *data, size_t len)
{
	const char *p = data;

	for (size_t i = 0; i < len && !f->body; i++) {
		char c = p[i];

		if (c == '\n') {
			/* An empty line ends the header section. */
			if (f->line_len == 0 || f->in_name)
				f->body = 1;
			f->at_bol = 1;
			f->line_len = 0;
			if (f->capturing && f->count == 1)
				buf_putc(&f->value, '\n');
			continue;
		}
		if (c == '\r')
			continue;
		if (f->at_bol) {
			f->at_bol = 0;
			if (c != ' ' && c != '\t') {
				/* A new field. */
				f->capturing = 0;
				f->in_name = 1;
				f->name_len = 0;
			}
		}
		f->line_len++;
		if (f->in_name) {
			if (c == ':') {
				f->in_name = 0;
				/* Blanks between name and ':' are obsolete
				 * syntax (RFC 5322 4.5.1): still From. */
				while (f->name_len > 0 &&
				       f->name_len <= sizeof(f->name) &&
				       blank(f->name[f->name_len - 1]))
					f->name_len--;
				if (f->name_len == 4 &&
				    memcmp(f->name, "from", 4) == 0) {
					f->capturing = 1;
					f->count++;
				}
			} else {
				if (f->name_len < sizeof(f->name))
					f->name[f->name_len] =
					    (char)(c >= 'A' && c <= 'Z' ? c + 32
									: c);
				f->name_len++;
			}
			continue;
		}
		if (f->capturing && f->count == 1) {
			if (f->value.len >= DMARC_FROM_FIELD_MAX)
				f->too_long = 1;
			else
				buf_putc(&f->value, c);
		}
	}
}

int
dmarc_from_result(const struct dmarc_from *f, char *domain, const char **why)
{
	domain[0] = '\0';
	if (f->count == 0) {
		*why = "no From: field";
		return DMARC_FROM_NONE;
	}
	if (f->count > 1) {
		*why = "more than one From: field";
		return DMARC_FROM_BAD;
	}
	if (f->too_long) {
		*why = "From: field too long";
		return DMARC_FROM_BAD;
	}
	return dmarc_from_value(f->value.data ? f->value.data : "",
				f->value.len, domain, why);
}
