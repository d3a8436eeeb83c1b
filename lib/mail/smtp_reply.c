/*
 * smtp_reply - parser of SMTP server replies and EHLO capability lists;
 * see smtp_reply.h for the contract.
 */
#include <stdio.h>
#include <string.h>

#include "smtp_reply.h"
#include "strutil.h"

void
smtp_reply_init(struct smtp_reply *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->text);
	buf_init(&r->lines);
}

void
smtp_reply_reset(struct smtp_reply *r)
{
	r->code = 0;
	r->dsn[0] = '\0';
	buf_reset(&r->text);
	buf_reset(&r->lines);
	r->nlines = 0;
	r->done = 0;
}

void
smtp_reply_free(struct smtp_reply *r)
{
	buf_free(&r->text);
	buf_free(&r->lines);
	smtp_reply_init(r);
}

/* Appends len bytes with everything outside printable ASCII as '?'. */
static void
append_printable(struct buf *b, const char *s, size_t len)
{
	size_t i, start = b->len;

	buf_append(b, s, len);
	for (i = start; i < b->len; i++) {
		unsigned char c = (unsigned char)b->data[i];

		if (c < 0x20 || c > 0x7e)
			b->data[i] = '?';
	}
}

static size_t
digits(const char *s, size_t len, size_t max)
{
	size_t n = 0;

	while (n < len && n <= max && s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

size_t
smtp_dsn_prefix(const char *s, size_t len)
{
	size_t pos = 0, n;

	if (len < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') ||
	    s[1] != '.')
		return 0;
	pos = 2;
	n = digits(s + pos, len - pos, 3);
	if (n < 1 || n > 3)
		return 0;
	pos += n;
	if (pos >= len || s[pos] != '.')
		return 0;
	pos++;
	n = digits(s + pos, len - pos, 3);
	if (n < 1 || n > 3)
		return 0;
	pos += n;
	if (pos < len && s[pos] != ' ')
		return 0;
	return pos;
}

/* 0 and *code for "NNN" with a valid first and second digit, else -1. */
static int
parse_code(const char *line, size_t len, int *code)
{
	if (len < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' ||
	    line[1] > '5' || line[2] < '0' || line[2] > '9')
		return -1;
	*code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	return 0;
}

static void
take_dsn(struct smtp_reply *r, const char *text, size_t len)
{
	size_t n = smtp_dsn_prefix(text, len);

	if (n == 0 || n >= sizeof(r->dsn) || text[0] - '0' != r->code / 100)
		return;
	memcpy(r->dsn, text, n);
	r->dsn[n] = '\0';
}

int
smtp_reply_feed(struct smtp_reply *r, const char *line, size_t len)
{
	int code;
	int last;
	const char *text;
	size_t tlen;

	if (r->done)
		return r->done > 0 ? SMTP_REPLY_DONE : SMTP_REPLY_BAD;
	if (len > SMTP_REPLY_LINE_MAX)
		len = SMTP_REPLY_LINE_MAX;
	if (parse_code(line, len, &code) < 0 ||
	    (len > 3 && line[3] != '-' && line[3] != ' ') ||
	    (r->nlines > 0 && code != r->code) ||
	    r->nlines >= SMTP_REPLY_LINES_MAX ||
	    r->text.len + len + 1 > SMTP_REPLY_TEXT_MAX) {
		r->done = -1;
		return SMTP_REPLY_BAD;
	}
	last = len == 3 || line[3] == ' ';
	text = len > 4 ? line + 4 : "";
	tlen = len > 4 ? len - 4 : 0;
	if (r->nlines == 0) {
		r->code = code;
		take_dsn(r, text, tlen);
	} else {
		buf_putc(&r->text, ' ');
	}
	append_printable(&r->text, line, len);
	append_printable(&r->lines, text, tlen);
	buf_putc(&r->lines, '\n');
	r->nlines++;
	if (!last)
		return SMTP_REPLY_MORE;
	r->done = 1;
	return SMTP_REPLY_DONE;
}

int
smtp_reply_class(const struct smtp_reply *r)
{
	return r->code / 100;
}

const char *
smtp_reply_dsn(const struct smtp_reply *r, char *out, size_t outlen)
{
	if (r->dsn[0] != '\0')
		snprintf(out, outlen, "%s", r->dsn);
	else
		snprintf(out, outlen, "%d.0.0", smtp_reply_class(r));
	return out;
}

/* Adds the words of s (len bytes) to the mechanism list, upper case,
 * without duplicates, as long as they fit. */
static void
add_mechs(struct smtp_caps *caps, const char *s, size_t len)
{
	char word[64];
	size_t i = 0, n, have;

	while (i < len) {
		while (i < len && s[i] == ' ')
			i++;
		for (n = 0; i < len && s[i] != ' '; i++)
			if (n < sizeof(word) - 1)
				word[n++] = s[i];
		if (n == 0)
			continue;
		word[n] = '\0';
		for (size_t k = 0; k < n; k++)
			if (word[k] >= 'a' && word[k] <= 'z')
				word[k] -= 'a' - 'A';
		if (str_list_match(caps->auth_mechs, word))
			continue;
		have = strlen(caps->auth_mechs);
		if (have + n + 2 > sizeof(caps->auth_mechs))
			continue;
		if (have > 0)
			caps->auth_mechs[have++] = ' ';
		memcpy(caps->auth_mechs + have, word, n + 1);
	}
}

/* Is the keyword of line (ended by ' ', '=' or its end) kw? */
static int
keyword_is(const char *line, size_t len, const char *kw, size_t *arg)
{
	size_t n = strlen(kw);

	if (len < n || str_ncasecmp(line, kw, n) != 0)
		return 0;
	if (len > n && line[n] != ' ' && line[n] != '=')
		return 0;
	*arg = len > n ? n + 1 : n;
	return 1;
}

static void
parse_size(struct smtp_caps *caps, const char *s, size_t len)
{
	uint64_t v = 0;
	size_t i;

	caps->ext |= SMTP_EXT_SIZE;
	caps->size_limit = 0;
	if (len == 0 || len > 19)
		return;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	caps->size_limit = v;
}

static void
parse_keyword(struct smtp_caps *caps, const char *line, size_t len)
{
	static const struct {
		const char *kw;
		unsigned flag;
	} simple[] = {
	    {"STARTTLS", SMTP_EXT_STARTTLS},
	    {"PIPELINING", SMTP_EXT_PIPELINING},
	    {"8BITMIME", SMTP_EXT_8BITMIME},
	    {"DSN", SMTP_EXT_DSN},
	    {"SMTPUTF8", SMTP_EXT_SMTPUTF8},
	    {"ENHANCEDSTATUSCODES", SMTP_EXT_ENHANCEDSTATUSCODES},
	    {"CHUNKING", SMTP_EXT_CHUNKING},
	    {"BINARYMIME", SMTP_EXT_BINARYMIME},
	};
	size_t arg, i;

	for (i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
		if (keyword_is(line, len, simple[i].kw, &arg)) {
			caps->ext |= simple[i].flag;
			return;
		}
	}
	if (keyword_is(line, len, "SIZE", &arg)) {
		parse_size(caps, line + arg, len - arg);
	} else if (keyword_is(line, len, "AUTH", &arg)) {
		caps->ext |= SMTP_EXT_AUTH;
		add_mechs(caps, line + arg, len - arg);
	}
}

void
smtp_ehlo_parse(const struct smtp_reply *r, struct smtp_caps *caps)
{
	const char *p, *end, *nl;
	size_t first = 1;

	memset(caps, 0, sizeof(*caps));
	if (r->done <= 0 || smtp_reply_class(r) != 2 || r->lines.len == 0)
		return;
	p = r->lines.data;
	end = p + r->lines.len;
	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			break;
		if (first) { /* the server's greeting name */
			first = 0;
			continue;
		}
		parse_keyword(caps, p, (size_t)(nl - p));
	}
}
