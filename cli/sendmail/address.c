/*
 * sendmail's recipients: qualifying addresses and extracting them from
 * an address-list (-t); see sendmail.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "addr.h"
#include "buf.h"
#include "sendmail.h"
#include "strutil.h"
#include "xalloc.h"

char *
sendmail_qualify(const char *s, int null_ok)
{
	struct buf path = BUF_INIT;
	struct addr a;
	size_t len = strlen(s);
	char *out = NULL;

	if (len >= 2 && s[0] == '<' && s[len - 1] == '>') {
		s++;
		len -= 2;
	}
	if (len == 0)
		return null_ok ? xstrdup("") : NULL;
	buf_printf(&path, "<%.*s>", (int)len, s);
	if (addr_parse(path.data, path.len, ADDR_F_BARE_LOCAL | ADDR_F_UTF8,
		       &a) == ADDR_OK) {
		buf_reset(&path);
		if (a.flags & ADDR_NO_DOMAIN)
			buf_printf(&path, "%s@%s", a.addr,
				   sendmail_conf.myorigin);
		else
			buf_puts(&path, a.addr);
		out = buf_steal(&path);
	}
	buf_free(&path);
	return out;
}

void
rcpt_list_add(struct rcpt_list *l, const char *raw)
{
	char *a = sendmail_qualify(raw, 0);

	if (a == NULL) {
		fprintf(stderr, "sendmail: bad recipient address: %s\n", raw);
		exit(EX_DATAERR);
	}
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->addrs[i], a) == 0) {
			xfree(a);
			return;
		}
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->addrs = xreallocarray(l->addrs, l->cap, sizeof(char *));
	}
	for (const char *p = a; *p; p++)
		if ((unsigned char)*p >= 0x80)
			l->utf8 = 1;
	l->addrs[l->n++] = a;
}

void
rcpt_list_free(struct rcpt_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		xfree(l->addrs[i]);
	xfree(l->addrs);
	memset(l, 0, sizeof(*l));
}

/* Strips the route of "<@a,@b:user@c>". */
static void
add_extracted(struct rcpt_list *l, struct buf *text, int angle)
{
	char *s = str_trim((char *)buf_cstr(text));

	if (angle && *s == '@' && strchr(s, ':'))
		s = strchr(s, ':') + 1;
	if (*s)
		rcpt_list_add(l, s);
	buf_reset(text);
}

/*
 * The addresses of an RFC 5322 address-list: "Name <a@b>", "a@b (Name)",
 * groups "list: a@b, c@d;", quoted strings and nested comments.
 */
void
rcpt_list_extract(struct rcpt_list *l, const char *v)
{
	struct buf cur = BUF_INIT, angle = BUF_INIT;
	int depth = 0, quote = 0, in_angle = 0, has_angle = 0;

	for (; *v; v++) {
		char c = *v;
		struct buf *to = in_angle ? &angle : &cur;
		if (quote) {
			buf_putc(to, c);
			if (c == '\\' && v[1])
				buf_putc(to, *++v);
			else if (c == '"')
				quote = 0;
		} else if (depth > 0) {
			if (c == '\\' && v[1])
				v++;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
		} else if (c == '(') {
			depth = 1;
			buf_putc(to, ' ');
		} else if (c == '"') {
			quote = 1;
			buf_putc(to, c);
		} else if (in_angle) {
			if (c == '>')
				in_angle = 0;
			else
				buf_putc(&angle, c);
		} else if (c == '<') {
			in_angle = has_angle = 1;
			buf_reset(&angle);
		} else if (c == ':' && !has_angle) {
			buf_reset(&cur); /* a group's display name */
		} else if (c == ',' || c == ';') {
			add_extracted(l, has_angle ? &angle : &cur, has_angle);
			buf_reset(&cur);
			has_angle = 0;
		} else {
			buf_putc(&cur, c);
		}
	}
	add_extracted(l, has_angle ? &angle : &cur, has_angle);
	buf_free(&cur);
	buf_free(&angle);
}
