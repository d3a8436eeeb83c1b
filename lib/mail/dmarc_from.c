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

/* The domain of one mailbox's addr-spec [s, e) into domain. */
static int
mailbox_domain(const char *s, const char *e, char *domain, const char **why)
{
	struct buf spec = BUF_INIT;
	struct addr a;
	size_t len;
	int r;

	/* A route "@a,@b:" in front of an angle address is dropped. */
	for (const char *q = s; q < e && *s == '@'; q++) {
		if (*q == ':') {
			s = q + 1;
			break;
		}
	}
	if (clean_spec(s, e, &spec) < 0 || spec.len == 0) {
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

/* Adds domain to au unless it is there; -1 when au is full. */
static int
add_domain(struct dmarc_author *au, const char *domain)
{
	for (size_t i = 0; i < au->n; i++)
		if (strcmp(au->domain[i], domain) == 0)
			return 0;
	if (au->n >= DMARC_FROM_DOMAINS_MAX)
		return -1;
	strcpy(au->domain[au->n++], domain);
	return 0;
}

/* The domains of every mailbox of a From: value into au (added to what
 * it holds); *mailboxes counts them.  DMARC_FROM_OK or DMARC_FROM_BAD. */
static int
value_domains(const char *value, size_t len, struct dmarc_author *au,
	      unsigned *mailboxes, const char **why)
{
	const char *p = value, *e = value + len;
	char domain[DMARC_FROM_DOMAIN_MAX + 1];
	unsigned found = 0;

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
			int r = angle ? mailbox_domain(angle, angle_end, domain,
						       why)
				      : mailbox_domain(start, p, domain, why);

			if (r != DMARC_FROM_OK)
				return r;
			if (add_domain(au, domain) < 0) {
				*why = "too many From: domains";
				return DMARC_FROM_BAD;
			}
			found++;
		}
		if (p < e)
			p++; /* the ',' */
	}
	if (found == 0) {
		*why = "no address in From:";
		return DMARC_FROM_BAD;
	}
	*mailboxes += found;
	return DMARC_FROM_OK;
}

int
dmarc_from_value(const char *value, size_t len, char *domain, const char **why)
{
	struct dmarc_author au;
	unsigned mailboxes = 0;
	int r;

	domain[0] = '\0';
	au.n = 0;
	r = value_domains(value, len, &au, &mailboxes, why);
	if (r != DMARC_FROM_OK)
		return r;
	if (mailboxes > 1) {
		*why = "more than one address in From:";
		return DMARC_FROM_BAD;
	}
	strcpy(domain, au.domain[0]);
	return DMARC_FROM_OK;
}

void
dmarc_from_init(struct dmarc_from *f)
{
	memset(f, 0, sizeof(*f));
	f->at_bol = 1;
	for (size_t i = 0; i < DMARC_FROM_FIELDS_MAX; i++)
		buf_init(&f->value[i]);
}

void
dmarc_from_free(struct dmarc_from *f)
{
	for (size_t i = 0; i < DMARC_FROM_FIELDS_MAX; i++)
		buf_free(&f->value[i]);
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
			if (f->capturing && f->count <= DMARC_FROM_FIELDS_MAX)
				buf_putc(&f->value[f->count - 1], '\n');
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
		if (f->capturing && f->count <= DMARC_FROM_FIELDS_MAX) {
			struct buf *v = &f->value[f->count - 1];

			if (v->len >= DMARC_FROM_FIELD_MAX)
				f->too_long = 1;
			else
				buf_putc(v, c);
		}
	}
}

int
dmarc_from_result(const struct dmarc_from *f, struct dmarc_author *au,
		  const char **why)
{
	unsigned mailboxes = 0;
	int r;

	au->n = 0;
	if (f->count == 0) {
		*why = "no From: field";
		return DMARC_FROM_NONE;
	}
	if (f->count > DMARC_FROM_FIELDS_MAX) {
		*why = "too many From: fields";
		return DMARC_FROM_BAD;
	}
	if (f->too_long) {
		*why = "From: field too long";
		return DMARC_FROM_BAD;
	}
	for (unsigned i = 0; i < f->count; i++) {
		const struct buf *v = &f->value[i];

		r = value_domains(v->data ? v->data : "", v->len, au,
				  &mailboxes, why);
		if (r != DMARC_FROM_OK) {
			au->n = 0;
			return r;
		}
	}
	if (au->n > 1) {
		*why = f->count > 1 ? "From: fields of several domains"
				    : "From: addresses of several domains";
		return DMARC_FROM_MULTI;
	}
	if (f->count > 1 || mailboxes > 1)
		*why = f->count > 1 ? "several From: fields of one domain"
				    : "several From: addresses of one domain";
	else
		*why = "";
	return DMARC_FROM_OK;
}
