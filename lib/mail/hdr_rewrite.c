/*
 * hdr_rewrite - address rewriting in the primary header (hdr_rewrite.h).
 */
#include <string.h>

#include "hdr_rewrite.h"
#include "msg.h"
#include "strutil.h"
#include "xalloc.h"

struct hdr_rewrite {
	struct rewrite *rw;
	char *id;
	struct buf field; /* the logical header field being collected */
	int body;	  /* past the empty line: pass everything */
	int at_bol;	  /* the next byte starts a line */
	int remote;	  /* REWRITE_REMOTE or 0 */
};

static const char *const sender_fields[] = {"from",	   "sender",
					    "resent-from", "resent-sender",
					    "errors-to",   "return-receipt-to",
					    NULL};
static const char *const rcpt_fields[] = {
    "to",	 "cc",	      "bcc",	    "apparently-to",   "reply-to",
    "resent-to", "resent-cc", "resent-bcc", "resent-reply-to", NULL};

static int
listed(const char *const *names, const char *name, size_t n)
{
	for (; *names; names++)
		if (strlen(*names) == n && str_ncasecmp(*names, name, n) == 0)
			return 1;
	return 0;
}

/* ---------------------------------------------------------------- */
/* The pure part: addresses in a field value */

/* The end of a quoted string, comment or domain literal that starts at
 * p (its closing character included), or e when it is not closed. */
static const char *
skip_quoted(const char *p, const char *e)
{
	char close = *p == '"' ? '"' : *p == '[' ? ']' : ')';
	int depth = 0;

	/* A comment counts its own '(' (they nest); the others start
	 * after their opening character. */
	if (close != ')')
		p++;
	for (; p < e; p++) {
		if (*p == '\\' && p + 1 < e) {
			p++;
			continue;
		}
		if (*p == '(' && close == ')')
			depth++;
		else if (*p == close && (close != ')' || --depth == 0))
			return p + 1;
	}
	return e;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The message a warning names (set by the filter; "" for a bare call). */
static const char *warn_id = "";

/* Rewrites the address text [s, e) into out (or copies it when it does
 * not look like one); 1 when it changed. */
static int
one_addr(struct rewrite *rw, int klass, const char *s, const char *e,
	 struct buf *out)
{
	struct buf in = BUF_INIT, res = BUF_INIT, why = BUF_INIT;
	int changed = 0;

	buf_append(&in, s, (size_t)(e - s));
	if (in.len == 0 || in.len > 1000 ||
	    memchr(in.data, '\0', in.len) != NULL) {
		buf_append(out, s, (size_t)(e - s));
		goto out;
	}
	if (rewrite_addr(rw, klass, buf_cstr(&in), &res, &why) != REWRITE_OK) {
		msg_warn("%s%sheader address %s kept: %s", warn_id,
			 *warn_id ? ": " : "", buf_cstr(&in), buf_cstr(&why));
		buf_append(out, s, (size_t)(e - s));
		goto out;
	}
	changed = strcmp(buf_cstr(&res), buf_cstr(&in)) != 0;
	buf_puts(out, buf_cstr(&res));
out:
	buf_free(&in);
	buf_free(&res);
	buf_free(&why);
	return changed;
}

/* The addr-spec of an angle address [s, e) (between '<' and '>'): after
 * a route "@a,@b:" when there is one. */
static int
angle_addr(struct rewrite *rw, int klass, const char *s, const char *e,
	   struct buf *out)
{
	const char *p = s, *colon = NULL;

	while (p < e) {
		if (*p == '"' || *p == '[' || *p == '(') {
			p = skip_quoted(p, e);
			continue;
		}
		if (*p == ':')
			colon = p;
		p++;
	}
	if (colon && *s == '@') {
		buf_append(out, s, (size_t)(colon + 1 - s));
		s = colon + 1;
	}
	/* The null address "<>" stays. */
	if (s == e)
		return 0;
	return one_addr(rw, klass, s, e, out);
}

int
hdr_rewrite_value(struct rewrite *rw, int klass, const char *value, size_t len,
		  struct buf *out)
{
	const char *p = value, *e = value + len;
	int changed = 0;

	buf_reset(out);
	/* One list element at a time: up to a ',' or ';' outside quotes,
	 * comments and brackets; a ':' ends a group's name. */
	while (p < e) {
		const char *start = p, *angle = NULL, *angle_end = NULL;
		const char *tok_s = NULL, *tok_e = NULL;
		int words = 0, gap = 0, group = 0;

		while (p < e && *p != ',' && *p != ';') {
			if (*p == '(') {
				p = skip_quoted(p, e);
				gap = tok_s != NULL;
				continue;
			}
			if (is_blank(*p)) {
				p++;
				gap = tok_s != NULL;
				continue;
			}
			if (*p == ':' && angle == NULL) {
				group = 1; /* "name:" starts a group */
				p++;
				break;
			}
			if (*p == '<') {
				angle = p + 1;
				while (p < e && *p != '>') {
					if (*p == '"' || *p == '[' || *p == '(')
						p = skip_quoted(p, e);
					else
						p++;
				}
				angle_end = p;
				if (p < e)
					p++;
				continue;
			}
			/* A word of a bare address, or of a phrase. */
			if (tok_s == NULL || gap)
				words++;
			if (tok_s == NULL)
				tok_s = p;
			gap = 0;
			if (*p == '"' || *p == '[')
				p = skip_quoted(p, e);
			else
				p++;
			tok_e = p;
		}
		if (group) {
			buf_append(out, start, (size_t)(p - start));
			continue;
		}
		if (angle && angle_end) {
			buf_append(out, start, (size_t)(angle - start));
			changed |= angle_addr(rw, klass, angle, angle_end, out);
			buf_append(out, angle_end, (size_t)(p - angle_end));
		} else if (tok_s && words == 1) {
			buf_append(out, start, (size_t)(tok_s - start));
			changed |= one_addr(rw, klass, tok_s, tok_e, out);
			buf_append(out, tok_e, (size_t)(p - tok_e));
		} else {
			buf_append(out, start, (size_t)(p - start));
		}
		if (p < e)
			buf_putc(out, *p++); /* the ',' or ';' */
	}
	return changed;
}

/* ---------------------------------------------------------------- */
/* The filter */

struct hdr_rewrite *
hdr_rewrite_begin(struct rewrite *rw, const char *id, int remote)
{
	struct hdr_rewrite *hr;

	if (rw == NULL)
		return NULL;
	hr = xcalloc(1, sizeof(*hr));
	hr->rw = rw;
	hr->id = xstrdup(id);
	hr->at_bol = 1;
	hr->remote = remote ? REWRITE_REMOTE : 0;
	return hr;
}

/* One complete logical field (CRLF lines) to out. */
static void
field_done(struct hdr_rewrite *hr, struct buf *out)
{
	const char *f = hr->field.data;
	size_t n = hr->field.len;
	const char *colon = n ? memchr(f, ':', n) : NULL;
	struct buf value = BUF_INIT;
	int klass = 0;

	if (colon) {
		size_t name = (size_t)(colon - f);
		if (listed(sender_fields, f, name))
			klass = REWRITE_HDR_SENDER;
		else if (listed(rcpt_fields, f, name))
			klass = REWRITE_HDR_RECIPIENT;
	}
	warn_id = hr->id;
	int changed =
	    klass && hdr_rewrite_value(hr->rw, klass | hr->remote, colon + 1,
				       n - (size_t)(colon + 1 - f), &value);
	warn_id = "";
	if (changed) {
		buf_append(out, f, (size_t)(colon + 1 - f));
		buf_append(out, value.data, value.len);
	} else if (n) {
		buf_append(out, f, n);
	}
	buf_free(&value);
	buf_reset(&hr->field);
}

void
hdr_rewrite_feed(struct hdr_rewrite *hr, const void *data, size_t len,
		 struct buf *out)
{
	const char *p = data, *e = p + len;

	while (p < e && !hr->body) {
		if (hr->at_bol) {
			/* A line that does not continue the field ends it. */
			if (*p != ' ' && *p != '\t')
				field_done(hr, out);
			if (*p == '\r' || *p == '\n') {
				hr->body = 1;
				break;
			}
		}
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		const char *end = nl ? nl + 1 : e;
		buf_append(&hr->field, p, (size_t)(end - p));
		hr->at_bol = nl != NULL;
		p = end;
	}
	if (p < e)
		buf_append(out, p, (size_t)(e - p));
}

void
hdr_rewrite_finish(struct hdr_rewrite *hr, struct buf *out)
{
	if (hr == NULL)
		return;
	field_done(hr, out);
	buf_free(&hr->field);
	xfree(hr->id);
	xfree(hr);
}
