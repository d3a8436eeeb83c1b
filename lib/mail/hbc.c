/*
 * hbc - header and body checks (hbc.h): a line splitter, a small MIME
 * state machine and the actions of header_checks(5).
 */
#include <string.h>

#include "conf.h"
#include "content_filter.h"
#include "hbc.h"
#include "msg.h"
#include "queue.h"
#include "strutil.h"
#include "xalloc.h"

#define HBC_HEADER_CAP (1024 * 1024) /* a field's bound without a limit */
#define HBC_LINE_DEFAULT 2048
#define HBC_BOUNDARY_DEFAULT 2048
#define HBC_NESTING_DEFAULT 100

enum section { SEC_HEADER, SEC_BODY };
/* Which header section: the message's own, a multipart part's, or an
 * attached message's. */
enum hsection { HS_PRIMARY, HS_PART, HS_NESTED };
/* What follows a header section. */
enum ctype { CT_OTHER, CT_MULTIPART, CT_MESSAGE };

struct boundary {
	char *text;
	size_t len;
	int digest; /* multipart/digest: parts default to message/rfc822 */
};

struct hbc {
	struct hbc_config cfg;
	char *queue_id;
	char *where;
	struct hbc_result res;
	int stopped; /* REJECT, DISCARD, DEFER: nothing more is output */
	int passing; /* PASS: no more lookups */
	enum section section;
	enum hsection hs;
	struct buf line;  /* the physical line being read, raw */
	int line_cont;	  /* it continues a body piece already checked */
	struct buf field; /* the header field being read, raw lines */
	int field_skip;	  /* the field was too long: the rest passes */
	int skip_to_nl;	  /* ... up to the end of this physical line */
	/* MIME */
	enum ctype ctype; /* of the header section being read */
	char *cboundary;  /* its boundary parameter */
	int cdigest;
	struct boundary *stack;
	unsigned depth;
	uint64_t seg_bytes; /* body bytes of this segment seen */
	/* Scratch. */
	struct buf key, value, err;
};

static const struct {
	const char *name;
	enum hbc_verb verb;
} hbc_verbs[] = {
    {"dunno", HBC_DUNNO},     {"ok", HBC_DUNNO},
    {"reject", HBC_REJECT},   {"discard", HBC_DISCARD},
    {"hold", HBC_HOLD},	      {"warn", HBC_WARN},
    {"info", HBC_INFO},	      {"ignore", HBC_IGNORE},
    {"strip", HBC_STRIP},     {"prepend", HBC_PREPEND},
    {"replace", HBC_REPLACE}, {"redirect", HBC_REDIRECT},
    {"bcc", HBC_BCC},	      {"pass", HBC_PASS},
    {"filter", HBC_FILTER},
};

void
hbc_action_parse(const char *value, struct hbc_action *a)
{
	const char *p = value;
	size_t n;

	while (*p == ' ' || *p == '\t')
		p++;
	n = strcspn(p, " \t");
	a->verb = HBC_UNKNOWN;
	for (size_t i = 0; i < sizeof(hbc_verbs) / sizeof(hbc_verbs[0]); i++)
		if (strlen(hbc_verbs[i].name) == n &&
		    str_ncasecmp(p, hbc_verbs[i].name, n) == 0)
			a->verb = hbc_verbs[i].verb;
	if (a->verb == HBC_UNKNOWN) {
		a->text = value;
		return;
	}
	p += n;
	while (*p == ' ' || *p == '\t')
		p++;
	a->text = p;
}

int
hbc_open(struct hbc_config *cfg, const char *const names[HBC_CLASSES],
	 const char *const lists[HBC_CLASSES], struct buf *err)
{
	struct buf why = BUF_INIT;

	for (int c = 0; c < HBC_CLASSES; c++) {
		cfg->names[c] = names[c];
		cfg->maps[c] = NULL;
		if (*lists[c] == '\0')
			continue;
		for (int d = 0; d < c && cfg->maps[c] == NULL; d++)
			if (strcmp(lists[c], lists[d]) == 0)
				cfg->maps[c] = cfg->maps[d];
		if (cfg->maps[c] == NULL &&
		    (maps_check(lists[c], &why) < 0 ||
		     (cfg->maps[c] = maps_open(lists[c], &why)) == NULL)) {
			buf_set(err, "");
			buf_printf(err, "%s: %s", names[c], buf_cstr(&why));
			buf_free(&why);
			return -1;
		}
	}
	buf_free(&why);
	return 0;
}

const char *
hbc_changed(const struct hbc_config *cfg)
{
	for (int c = 0; c < HBC_CLASSES; c++)
		if (cfg->maps[c] && maps_changed(cfg->maps[c]))
			return cfg->names[c];
	return NULL;
}

int
hbc_wanted(const struct hbc_config *cfg)
{
	for (int c = 0; c < HBC_CLASSES; c++)
		if (cfg->maps[c] != NULL)
			return 1;
	return 0;
}

struct hbc *
hbc_new(const struct hbc_config *cfg, const char *queue_id, const char *where)
{
	struct hbc *h = xcalloc(1, sizeof(*h));

	h->cfg = *cfg;
	if (h->cfg.line_limit == 0)
		h->cfg.line_limit = HBC_LINE_DEFAULT;
	if (h->cfg.header_limit == 0 || h->cfg.header_limit > HBC_HEADER_CAP)
		h->cfg.header_limit = HBC_HEADER_CAP;
	if (h->cfg.boundary_limit == 0)
		h->cfg.boundary_limit = HBC_BOUNDARY_DEFAULT;
	if (h->cfg.nesting_limit == 0)
		h->cfg.nesting_limit = HBC_NESTING_DEFAULT;
	h->queue_id = xstrdup(queue_id);
	h->where = xstrdup(where);
	h->section = SEC_HEADER;
	h->hs = HS_PRIMARY;
	h->stack = xcalloc(h->cfg.nesting_limit, sizeof(*h->stack));
	buf_init(&h->res.reason);
	buf_init(&h->line);
	buf_init(&h->field);
	buf_init(&h->key);
	buf_init(&h->value);
	buf_init(&h->err);
	return h;
}

void
hbc_free(struct hbc *h)
{
	if (h == NULL)
		return;
	for (unsigned i = 0; i < h->depth; i++)
		xfree(h->stack[i].text);
	xfree(h->stack);
	xfree(h->cboundary);
	for (size_t i = 0; i < h->res.nbcc; i++)
		xfree(h->res.bcc[i]);
	xfree(h->res.bcc);
	xfree(h->res.redirect);
	xfree(h->res.filter);
	buf_free(&h->res.reason);
	buf_free(&h->line);
	buf_free(&h->field);
	buf_free(&h->key);
	buf_free(&h->value);
	buf_free(&h->err);
	xfree(h->queue_id);
	xfree(h->where);
	xfree(h);
}

const struct hbc_result *
hbc_result(const struct hbc *h)
{
	return &h->res;
}

/* The length of a raw line without its <CR><LF>, <LF> or nothing. */
static size_t
text_len(const char *p, size_t len)
{
	if (len > 0 && p[len - 1] == '\n') {
		len--;
		if (len > 0 && p[len - 1] == '\r')
			len--;
	}
	return len;
}

/* "name:" with an optional space before the colon, as Postfix takes a
 * header; the length of the name, or 0. */
static size_t
header_name_len(const char *p, size_t len)
{
	size_t n = 0, i;

	while (n < len && p[n] > ' ' && p[n] < 0x7f && p[n] != ':')
		n++;
	if (n == 0)
		return 0;
	for (i = n; i < len && (p[i] == ' ' || p[i] == '\t'); i++)
		;
	return i < len && p[i] == ':' ? n : 0;
}

static int
is_mime_header(const char *p, size_t n)
{
	static const char *const names[] = {
	    "mime-version",
	    "content-type",
	    "content-transfer-encoding",
	    "content-disposition",
	    "content-description",
	    "content-id",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && str_ncasecmp(p, names[i], n) == 0)
			return 1;
	return 0;
}

/* The text of a field or line as the tables see it: <CR><LF> between
 * physical lines becomes "\n", the last line end goes. */
static void
make_key(struct buf *key, const char *p, size_t len)
{
	size_t tl = text_len(p, len);

	buf_reset(key);
	for (size_t i = 0; i < tl; i++) {
		if (p[i] == '\r' && i + 1 < tl && p[i + 1] == '\n')
			continue;
		buf_putc(key, p[i]);
	}
	buf_cstr(key);
}

static void
emit(struct buf *out, const char *p, size_t len)
{
	buf_append(out, p, len);
}

/* Text of PREPEND or REPLACE: a "\n" in it (from $1 of a folded header)
 * ends a line, as <CR><LF> like every stored line. */
static void
emit_text(struct buf *out, const char *t)
{
	for (; *t; t++) {
		if (*t == '\r' && t[1] == '\n')
			continue;
		if (*t == '\n')
			buf_putc(out, '\r');
		buf_putc(out, *t);
	}
}

/* Text as the log shows it: at most max bytes, controls as spaces. */
static void
log_text(struct buf *b, const char *text, size_t max)
{
	for (size_t i = 0; text[i] && i < max; i++) {
		unsigned char c = (unsigned char)text[i];
		buf_putc(b, c < ' ' || c == 0x7f ? ' ' : c);
	}
}

static void
log_action(struct hbc *h, const char *action, const char *context,
	   const char *text)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s: %s: %s ", h->queue_id, action, context);
	log_text(&b, buf_cstr(&h->key),
		 h->cfg.log_line_max ? h->cfg.log_line_max : 200);
	if (*h->where)
		buf_printf(&b, " %s", h->where);
	if (text && *text) {
		buf_puts(&b, ": ");
		log_text(&b, text, 1000);
	}
	msg_info("%s", buf_cstr(&b));
	buf_free(&b);
}

/* "X.Y.Z " at the start of text (an enhanced status code). */
static int
has_dsn(const char *t)
{
	if ((t[0] != '2' && t[0] != '4' && t[0] != '5') || t[1] != '.')
		return 0;
	t += 2;
	for (int part = 0; part < 2; part++) {
		size_t n = strspn(t, "0123456789");
		if (n == 0 || n > 3)
			return 0;
		t += n;
		if (part == 0 && *t++ != '.')
			return 0;
	}
	return *t == ' ' || *t == '\0';
}

static const char *
verb_upper(enum hbc_verb v)
{
	static const char *const names[] = {
	    [HBC_DUNNO] = "DUNNO",	 [HBC_REJECT] = "REJECT",
	    [HBC_DISCARD] = "DISCARD",	 [HBC_HOLD] = "HOLD",
	    [HBC_WARN] = "WARN",	 [HBC_INFO] = "INFO",
	    [HBC_IGNORE] = "IGNORE",	 [HBC_STRIP] = "STRIP",
	    [HBC_PREPEND] = "PREPEND",	 [HBC_REPLACE] = "REPLACE",
	    [HBC_REDIRECT] = "REDIRECT", [HBC_BCC] = "BCC",
	    [HBC_PASS] = "PASS",	 [HBC_FILTER] = "FILTER",
	    [HBC_UNKNOWN] = "?",
	};
	return names[v];
}

/*
 * Looks up the text of raw[0..len) (a header field or a body line or
 * piece) in class c's tables, carries out the action and outputs the
 * result.
 */
static void
check(struct hbc *h, enum hbc_class c, const char *raw, size_t len,
      struct buf *out)
{
	struct maps *m = h->cfg.maps[c];
	const char *context = c == HBC_BODY ? "body" : "header";
	const char *name = h->cfg.names[c] ? h->cfg.names[c] : "header_checks";
	const char *ending = raw + text_len(raw, len);
	size_t end_len = (size_t)(raw + len - ending);
	struct hbc_action a;
	int r;

	if (h->stopped)
		return;
	if (m == NULL || h->passing || text_len(raw, len) == 0) {
		emit(out, raw, len);
		return;
	}
	make_key(&h->key, raw, len);
	r = maps_lookup_text(m, buf_cstr(&h->key), &h->value, &h->err);
	if (r < 0) {
		msg_warn("%s: %s map lookup problem: %s -- message not "
			 "accepted, try again later",
			 h->queue_id, name, buf_cstr(&h->err));
		h->res.flags |= HBC_R_DEFER;
		buf_set(&h->res.reason, buf_cstr(&h->err));
		h->stopped = 1;
		return;
	}
	if (r == 0) {
		emit(out, raw, len);
		return;
	}
	hbc_action_parse(buf_cstr(&h->value), &a);
	if (a.verb == HBC_UNKNOWN) {
		msg_warn("%s: unknown command in %s map: %s", h->queue_id, name,
			 a.text);
		emit(out, raw, len);
		return;
	}
	if (!(h->cfg.actions & HBC_ACT(a.verb))) {
		msg_warn("%s: %s action in %s map is not supported here; the "
			 "line is kept",
			 h->queue_id, verb_upper(a.verb), name);
		emit(out, raw, len);
		return;
	}
	switch (a.verb) {
	case HBC_REJECT:
		buf_reset(&h->res.reason);
		if (*a.text == '\0')
			buf_puts(&h->res.reason,
				 "5.7.1 message content rejected");
		else
			buf_printf(&h->res.reason, "%s%s",
				   has_dsn(a.text) ? "" : "5.7.1 ", a.text);
		if (h->cfg.reject_holds) {
			log_action(h, "hold", context,
				   buf_cstr(&h->res.reason));
			h->res.flags |= HBC_R_HOLD;
			break;
		}
		log_action(h, "reject", context, buf_cstr(&h->res.reason));
		h->res.flags |= HBC_R_REJECT;
		h->stopped = 1;
		return;
	case HBC_DISCARD:
		log_action(h, "discard", context, a.text);
		h->res.flags |= HBC_R_DISCARD;
		h->stopped = 1;
		return;
	case HBC_HOLD:
		log_action(h, "hold", context, a.text);
		h->res.flags |= HBC_R_HOLD;
		break;
	case HBC_WARN:
		log_action(h, "warning", context, a.text);
		break;
	case HBC_INFO:
		log_action(h, "info", context, a.text);
		break;
	case HBC_IGNORE:
		return;
	case HBC_STRIP:
		log_action(h, "strip", context, a.text);
		return;
	case HBC_PREPEND:
	case HBC_REPLACE:
		if (*a.text == '\0' ||
		    (c != HBC_BODY &&
		     header_name_len(a.text, strlen(a.text)) == 0)) {
			msg_warn("%s: bad %s text \"%s\" in %s map%s",
				 h->queue_id, verb_upper(a.verb), a.text, name,
				 c != HBC_BODY ? ": a header needs \"name: "
						 "value\""
					       : "");
			break;
		}
		log_action(h, a.verb == HBC_PREPEND ? "prepend" : "replace",
			   context, a.text);
		emit_text(out, a.text);
		if (a.verb == HBC_PREPEND) {
			buf_puts(out, "\r\n");
			break;
		}
		/* The replacement keeps the line's ending (a piece of a long
		 * body line has none). */
		if (end_len > 0)
			buf_puts(out, "\r\n");
		return;
	case HBC_REDIRECT:
	case HBC_BCC:
		if (*a.text == '\0' || strchr(a.text, '@') == NULL) {
			msg_warn("%s: bad %s address \"%s\" in %s map: need "
				 "user@domain",
				 h->queue_id, verb_upper(a.verb), a.text, name);
			break;
		}
		if (a.verb == HBC_REDIRECT) {
			log_action(h, "redirect", context, a.text);
			xfree(h->res.redirect);
			h->res.redirect = xstrdup(a.text);
		} else {
			h->res.bcc = xreallocarray(h->res.bcc, h->res.nbcc + 1,
						   sizeof(*h->res.bcc));
			h->res.bcc[h->res.nbcc++] = xstrdup(a.text);
		}
		break;
	case HBC_FILTER:
		if (!content_filter_valid(a.text)) {
			msg_warn("%s: bad FILTER value \"%s\" in %s map: need "
				 "transport:destination",
				 h->queue_id, a.text, name);
			break;
		}
		log_action(h, "filter", context, a.text);
		xfree(h->res.filter);
		h->res.filter = xstrdup(a.text);
		break;
	case HBC_PASS:
		log_action(h, "pass", context, a.text);
		h->res.flags |= HBC_R_PASS;
		h->passing = 1;
		break;
	default: /* DUNNO */
		break;
	}
	emit(out, raw, len);
}

/* Content-Type of the header section being read, from its key. */
static void
parse_content_type(struct hbc *h, const char *v)
{
	const char *p, *b;
	size_t n;

	v += strcspn(v, ":") + 1;
	v += strspn(v, " \t\n");
	h->ctype = CT_OTHER;
	h->cdigest = 0;
	xfree(h->cboundary);
	h->cboundary = NULL;
	if (str_ncasecmp(v, "multipart/", 10) == 0) {
		h->ctype = CT_MULTIPART;
		h->cdigest = str_ncasecmp(v + 10, "digest", 6) == 0 &&
			     strchr(" \t\n;", v[16]) != NULL;
	} else if (str_ncasecmp(v, "message/rfc822", 14) == 0 ||
		   str_ncasecmp(v, "message/global", 14) == 0) {
		if (strchr(" \t\n;", v[14]) != NULL)
			h->ctype = CT_MESSAGE;
		return;
	} else {
		return;
	}
	/* The boundary parameter: after a ';', "boundary" = token or
	 * quoted string. */
	for (p = strchr(v, ';'); p != NULL; p = strchr(p + 1, ';')) {
		b = p + 1 + strspn(p + 1, " \t\n");
		if (str_ncasecmp(b, "boundary", 8) != 0)
			continue;
		b += 8 + strspn(b + 8, " \t\n");
		if (*b != '=')
			continue;
		b += 1 + strspn(b + 1, " \t\n");
		if (*b == '"') {
			b++;
			n = strcspn(b, "\"");
		} else {
			n = strcspn(b, " \t\n;");
		}
		if (n == 0)
			return;
		if (n > h->cfg.boundary_limit)
			n = h->cfg.boundary_limit;
		h->cboundary = xstrndup(b, n);
		return;
	}
}

/* A section of headers starts: a part's default type. */
static void
begin_headers(struct hbc *h, enum hsection hs, int digest_part)
{
	h->section = SEC_HEADER;
	h->hs = hs;
	h->ctype = digest_part ? CT_MESSAGE : CT_OTHER;
	h->cdigest = 0;
	xfree(h->cboundary);
	h->cboundary = NULL;
	h->field_skip = 0;
}

/* The header section just ended (empty line or a line that is no
 * header): what comes next. */
static void
end_headers(struct hbc *h)
{
	h->seg_bytes = 0;
	h->section = SEC_BODY;
	if (h->cfg.disable_mime)
		return;
	if (h->ctype == CT_MULTIPART && h->cboundary != NULL &&
	    h->depth < h->cfg.nesting_limit) {
		struct boundary *b = &h->stack[h->depth++];
		b->text = h->cboundary;
		b->len = strlen(b->text);
		b->digest = h->cdigest;
		h->cboundary = NULL;
	} else if (h->ctype == CT_MESSAGE) {
		begin_headers(h, HS_NESTED, 0);
	}
}

/* The header field held is complete: check it and output it. */
static void
finish_field(struct hbc *h, struct buf *out)
{
	const char *p = h->field.data;
	size_t len = h->field.len;
	size_t n;
	enum hbc_class c;

	if (len == 0)
		return;
	n = header_name_len(p, len);
	if (h->cfg.disable_mime) {
		c = h->hs == HS_PRIMARY ? HBC_HEADER : HBC_BODY;
	} else if (is_mime_header(p, n) || h->hs == HS_PART) {
		c = HBC_MIME;
		if (n == 12 && str_ncasecmp(p, "content-type", 12) == 0) {
			make_key(&h->key, p, len);
			parse_content_type(h, buf_cstr(&h->key));
		}
	} else {
		c = h->hs == HS_PRIMARY ? HBC_HEADER : HBC_NESTED;
	}
	check(h, c, p, len, out);
	buf_reset(&h->field);
}

/* A body line (complete, or a piece of at most line_limit bytes when
 * h->line_cont or not ending in <LF>). */
static void
body_line(struct hbc *h, const char *p, size_t len, int line_start,
	  struct buf *out)
{
	size_t tl = text_len(p, len);

	if (line_start && h->depth > 0 && tl >= 2 && p[0] == '-' &&
	    p[1] == '-') {
		for (unsigned i = h->depth; i-- > 0;) {
			struct boundary *b = &h->stack[i];
			int last;

			if (tl - 2 < b->len || memcmp(p + 2, b->text, b->len))
				continue;
			last = tl - 2 - b->len >= 2 && p[2 + b->len] == '-' &&
			       p[3 + b->len] == '-';
			/* A boundary line is body content to the checks. */
			check(h, HBC_BODY, p, len, out);
			while (h->depth > i + 1)
				xfree(h->stack[--h->depth].text);
			if (last) {
				xfree(h->stack[--h->depth].text);
				h->section = SEC_BODY;
				h->seg_bytes = 0;
			} else {
				begin_headers(h, HS_PART, b->digest);
			}
			return;
		}
	}
	if (h->seg_bytes < h->cfg.body_size_limit)
		check(h, HBC_BODY, p, len, out);
	else if (!h->stopped)
		emit(out, p, len);
	h->seg_bytes += len;
}

/* One physical line (raw, with its ending when it has one). */
static void
process_line(struct hbc *h, const char *p, size_t len, struct buf *out)
{
	size_t tl = text_len(p, len);

	if (h->section == SEC_HEADER) {
		if (tl > 0 && (p[0] == ' ' || p[0] == '\t') &&
		    (h->field.len > 0 || h->field_skip)) {
			if (!h->field_skip &&
			    h->field.len + len <= h->cfg.header_limit) {
				buf_append(&h->field, p, len);
				return;
			}
			/* Too long: check what is held, pass the rest. */
			finish_field(h, out);
			h->field_skip = 1;
			if (!h->stopped)
				emit(out, p, len);
			return;
		}
		finish_field(h, out);
		h->field_skip = 0;
		if (tl == 0) {
			if (!h->stopped)
				emit(out, p, len);
			end_headers(h);
			return;
		}
		if (header_name_len(p, tl) > 0) {
			buf_append(&h->field, p, len);
			return;
		}
		end_headers(h);
		if (h->section == SEC_HEADER) {
			/* message/rfc822 with no empty line: the nested
			 * headers start here. */
			process_line(h, p, len, out);
			return;
		}
	}
	body_line(h, p, len, !h->line_cont, out);
}

/* A header line longer than the field may hold: checked as it is so
 * far, and the rest of its field passes unchecked. */
static void
header_overflow(struct hbc *h, struct buf *out)
{
	if (h->field_skip) {
		if (!h->stopped)
			emit(out, h->line.data, h->line.len);
	} else {
		process_line(h, h->line.data, h->line.len, out);
		if (h->section == SEC_HEADER)
			finish_field(h, out);
	}
	h->field_skip = 1;
	h->skip_to_nl = 1;
	buf_reset(&h->line);
}

void
hbc_feed(struct hbc *h, const void *data, size_t len, struct buf *out)
{
	const char *p = data, *end = p + len, *nl;
	size_t cap, n, room;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl + 1 - p) : (size_t)(end - p);
		if (h->skip_to_nl) {
			if (!h->stopped)
				emit(out, p, n);
			p += n;
			h->skip_to_nl = nl == NULL;
			continue;
		}
		cap = h->section == SEC_BODY ? h->cfg.line_limit
					     : h->cfg.header_limit;
		/* A line may hold cap bytes of text and its line end.  One
		 * longer is cut where cap falls, whatever the split of the
		 * input. */
		room = h->line.len < cap + 2 ? cap + 2 - h->line.len : 0;
		if (n > room) {
			buf_append(&h->line, p, room);
			p += room;
			if (h->section == SEC_HEADER) {
				header_overflow(h, out);
			} else {
				/* A long body line is checked in pieces. */
				process_line(h, h->line.data, cap, out);
				buf_consume(&h->line, cap);
				h->line_cont = 1;
			}
			continue;
		}
		buf_append(&h->line, p, n);
		p += n;
		if (nl) {
			process_line(h, h->line.data, h->line.len, out);
			buf_reset(&h->line);
			h->line_cont = 0;
		}
	}
}

void
hbc_finish(struct hbc *h, struct buf *out)
{
	if (h->line.len > 0) {
		process_line(h, h->line.data, h->line.len, out);
		buf_reset(&h->line);
	}
	if (h->section == SEC_HEADER)
		finish_field(h, out);
}

int
hbc_conf_open(struct hbc_config *cfg, struct buf *err)
{
	static const char *const names[HBC_CLASSES] = {
	    [HBC_HEADER] = "header_checks",
	    [HBC_MIME] = "mime_header_checks",
	    [HBC_NESTED] = "nested_header_checks",
	    [HBC_BODY] = "body_checks",
	};
	const char *lists[HBC_CLASSES];

	for (int c = 0; c < HBC_CLASSES; c++)
		lists[c] = conf_str(names[c]);
	if (hbc_open(cfg, names, lists, err) < 0)
		return -1;
	cfg->body_size_limit = (uint64_t)conf_size("body_checks_size_limit");
	cfg->line_limit = (size_t)conf_int("line_length_limit");
	cfg->header_limit = (size_t)conf_size("header_size_limit");
	cfg->boundary_limit = (size_t)conf_int("mime_boundary_length_limit");
	cfg->nesting_limit = (unsigned)conf_int("mime_nesting_limit");
	cfg->disable_mime = conf_bool("disable_mime_input_processing");
	cfg->actions = HBC_ALL_ACTIONS;
	return 0;
}

void
hbc_envelope(const struct hbc_result *r, struct queue_envelope *env)
{
	if (r->flags & HBC_R_HOLD)
		env->hold = 1;
	if (r->filter)
		queue_str_set(&env->filter, r->filter);
	if (r->redirect) {
		/* Every recipient goes to the one address instead. */
		for (size_t j = 0; j < env->nrcpt; j++) {
			xfree(env->rcpts[j].address);
			xfree(env->rcpts[j].orcpt);
			xfree(env->rcpts[j].dsn);
			xfree(env->rcpts[j].text);
		}
		env->nrcpt = 0;
		queue_envelope_add_rcpt(env, r->redirect, NULL, 0);
	}
	for (size_t i = 0; i < r->nbcc; i++) {
		size_t j;
		for (j = 0; j < env->nrcpt; j++)
			if (strcmp(env->rcpts[j].address, r->bcc[i]) == 0)
				break;
		/* As Postfix adds them: no DSN for the sender. */
		if (j == env->nrcpt)
			queue_envelope_add_rcpt(env, r->bcc[i], NULL,
						QUEUE_NOTIFY_NEVER);
	}
}
