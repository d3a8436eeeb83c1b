/*
 * trace - a message's Received: path and Authentication-Results:
 * verdicts, marked by trust; see trace.h.
 */
#include <stdio.h>
#include <string.h>

#include "strutil.h"
#include "trace.h"

static int
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The end of the comment or quoted string at p. */
static const char *
skip_over(const char *p, const char *e)
{
	char close = *p == '"' ? '"' : ')';
	int depth = 0;

	if (close == '"')
		p++;
	for (; p < e; p++) {
		if (*p == '\\' && p + 1 < e)
			p++;
		else if (*p == '(' && close == ')')
			depth++;
		else if (*p == close && (close == '"' || --depth == 0))
			return p + 1;
	}
	return e;
}

/* Appends [s, e) to dst (size bytes) with one space between words and
 * control characters as '?'. */
static void
put(char *dst, size_t size, const char *s, const char *e)
{
	size_t n = strlen(dst);

	for (; s < e && n + 1 < size; s++) {
		if (blank(*s)) {
			if (n > 0 && dst[n - 1] != ' ')
				dst[n++] = ' ';
			continue;
		}
		dst[n++] = (unsigned char)*s < ' ' || *s == 127 ? '?' : *s;
	}
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

/* Appends a word (or comment) to a part, a space between. */
static void
word(char *cur, const char *s, const char *e)
{
	size_t n = strlen(cur);

	if (n > 0 && n + 1 < TRACE_PART_MAX) {
		cur[n] = ' ';
		cur[n + 1] = '\0';
	}
	put(cur, TRACE_PART_MAX, s, e);
}

void
trace_received(const char *value, size_t len, struct trace_hop *hop)
{
	const char *p = value, *e = value + len, *semi = NULL, *q;
	char *cur = NULL;

	memset(hop, 0, sizeof(*hop));
	/* The date follows the last ';' outside comments. */
	for (q = p; q < e;) {
		if (*q == '(' || *q == '"')
			q = skip_over(q, e);
		else if (*q++ == ';')
			semi = q - 1;
	}
	if (semi) {
		put(hop->date, sizeof(hop->date), semi + 1, e);
		e = semi;
	}
	/* Clauses start at the keywords of RFC 5321 4.4 outside comments;
	 * a clause's comments (the client's address) belong to it. */
	while (p < e) {
		const char *w = p;

		if (blank(*p)) {
			p++;
			continue;
		}
		if (*p == '(' || *p == '"') {
			p = skip_over(p, e);
			if (cur)
				word(cur, w, p);
			continue;
		}
		while (p < e && !blank(*p) && *p != '(' && *p != '"')
			p++;
		if (p - w == 4 && str_ncasecmp(w, "from", 4) == 0)
			cur = hop->from;
		else if (p - w == 2 && str_ncasecmp(w, "by", 2) == 0)
			cur = hop->by;
		else if (p - w == 4 && str_ncasecmp(w, "with", 4) == 0)
			cur = hop->with;
		else if (p - w == 2 && str_ncasecmp(w, "id", 2) == 0)
			cur = hop->id;
		else if ((p - w == 3 && (str_ncasecmp(w, "via", 3) == 0 ||
					 str_ncasecmp(w, "for", 3) == 0)))
			cur = NULL; /* not shown */
		else if (cur)
			word(cur, w, p);
	}
	if (!hop->from[0])
		strcpy(hop->from, "-");
	if (!hop->by[0])
		strcpy(hop->by, "-");
	if (!hop->with[0])
		strcpy(hop->with, "-");
	if (!hop->id[0])
		strcpy(hop->id, "-");
	if (!hop->date[0])
		strcpy(hop->date, "-");
}

/* The first word of s (the host name of "by"), compared with host. */
static int
names_host(const char *s, const char *host)
{
	size_t n = 0, h = strlen(host);

	while (s[n] && s[n] != ' ')
		n++;
	if (n > 0 && s[n - 1] == '.')
		n--;
	return h > 0 && n == h && str_ncasecmp(s, host, n) == 0;
}

/* Authentication-Results: the authserv-id, then each resinfo without
 * comments ("none" when there is none). */
static void
auth_results(const char *value, size_t len, char *id, size_t idsize,
	     struct buf *verdicts)
{
	const char *p = value, *e = value + len, *s;
	char part[1024];
	int first = 1, in_id = 1;

	id[0] = '\0';
	while (p < e) {
		part[0] = '\0';
		s = p;
		/* One ';'-separated element, comments dropped. */
		while (p < e && *p != ';') {
			if (*p == '(') {
				put(part, sizeof(part), s, p);
				p = skip_over(p, e);
				s = p;
				if (part[0]) {
					size_t n = strlen(part);

					if (n + 1 < sizeof(part)) {
						part[n] = ' ';
						part[n + 1] = '\0';
					}
				}
				continue;
			}
			if (*p == '"') {
				p = skip_over(p, e);
				continue;
			}
			p++;
		}
		put(part, sizeof(part), s, p);
		if (p < e)
			p++;
		if (in_id) {
			/* The authserv-id, then maybe a version number. */
			char *sp = strchr(part, ' ');

			if (sp)
				*sp = '\0';
			snprintf(id, idsize, "%s", part);
			in_id = 0;
			continue;
		}
		if (!part[0])
			continue;
		if (!first)
			buf_puts(verdicts, "; ");
		buf_puts(verdicts, part);
		first = 0;
	}
	if (first)
		buf_puts(verdicts, "none");
}

/* The next header field from *pp (unfolded lines joined with '\n') into
 * field; 0 at the end of the header section. */
static int
next_field(const char **pp, const char *e, struct buf *field)
{
	const char *p = *pp, *line = p, *nl;
	size_t n;

	buf_reset(field);
	while (p < e) {
		nl = memchr(p, '\n', (size_t)(e - p));
		n = (size_t)((nl ? nl : e) - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0 && p == line)
			break; /* the empty line */
		buf_append(field, p, n);
		buf_putc(field, '\n');
		p = nl ? nl + 1 : e;
		if (p >= e || (*p != ' ' && *p != '\t'))
			break;
	}
	*pp = p;
	/* A line that is not a field starts the body. */
	return field->len > 0 && memchr(field->data, ':', field->len) != NULL;
}

/* The field's name is name (blanks before ':' allowed); *value set. */
static int
field_is(const struct buf *field, const char *name, const char **value,
	 size_t *vlen)
{
	const char *colon = memchr(field->data, ':', field->len);
	size_t n = (size_t)(colon - field->data), len = strlen(name);

	while (n > 0 && blank(field->data[n - 1]))
		n--;
	if (n != len || str_ncasecmp(field->data, name, len) != 0)
		return 0;
	*value = colon + 1;
	*vlen = field->len - (size_t)(colon + 1 - field->data);
	return 1;
}

/* The hop's client was this host: its HELO name, or the name in the
 * comment "(NAME [ADDR])", is this host or localhost (a content filter
 * or a relay through this host hands the message back). */
static int
from_self(const struct trace_hop *hop, const char *host)
{
	const char *c = strchr(hop->from, '(');

	if (names_host(hop->from, host) || names_host(hop->from, "localhost"))
		return 1;
	return c && (names_host(c + 1, host) || names_host(c + 1, "localhost"));
}

int
trace_message(const char *msg, size_t len, const char *host, struct buf *out)
{
	const char *p, *e = msg + len, *v;
	struct buf field = BUF_INIT, verdicts = BUF_INIT;
	struct trace_hop hop;
	size_t vlen, idx, last_ours = 0;
	int hops = 0, trusted = 1, from_us = 1;

	/* An mbox "From " line is not a header field. */
	if (len >= 5 && memcmp(msg, "From ", 5) == 0) {
		const char *nl = memchr(msg, '\n', len);

		msg = nl ? nl + 1 : e;
	}
	/* Pass 1: where the hops this host wrote end.  The top one is
	 * ours when its "by" is this host; each one below it only when
	 * the one above received the message from this host. */
	for (p = msg, idx = 1; next_field(&p, e, &field); idx++) {
		if (!field_is(&field, "received", &v, &vlen))
			continue;
		trace_received(v, vlen, &hop);
		if (!trusted || !from_us || !names_host(hop.by, host)) {
			trusted = 0;
			continue;
		}
		last_ours = idx;
		from_us = from_self(&hop, host);
	}
	/* Pass 2: the lines.  An Authentication-Results: field with our
	 * authserv-id is ours when it is above our lowest hop. */
	for (p = msg, idx = 1; next_field(&p, e, &field); idx++) {
		if (field_is(&field, "received", &v, &vlen)) {
			int claims;

			trace_received(v, vlen, &hop);
			claims = names_host(hop.by, host);
			hops++;
			buf_printf(out,
				   "%d %s: from %s; by %s; with %s; id %s; "
				   "date %s\n",
				   hops,
				   idx <= last_ours ? "ours"
				   : claims ? "outside, claims this host"
					    : "outside",
				   hop.from, hop.by, hop.with, hop.id,
				   hop.date);
		} else if (field_is(&field, "authentication-results", &v,
				    &vlen)) {
			char id[256];
			int mine;

			buf_reset(&verdicts);
			auth_results(v, vlen, id, sizeof(id), &verdicts);
			mine = str_casecmp(id, host) == 0;
			buf_printf(out, "  auth %s: %s: %s\n",
				   mine && idx < last_ours ? "ours"
				   : mine ? "outside, claims this host"
					  : "outside",
				   id[0] ? id : "-", buf_cstr(&verdicts));
		}
	}
	buf_free(&field);
	buf_free(&verdicts);
	return hops;
}
