/*
 * ps_util - postscreen's small pure helpers: action names, and the
 * escaped text of what a client sends (a pregreet, an address) for the
 * log.
 */
#include <stdio.h>
#include <string.h>

#include "postscreen.h"
#include "strutil.h"
#include "xalloc.h"

int
ps_action_parse(const char *s)
{
	if (str_casecmp(s, "ignore") == 0)
		return PS_ACT_IGNORE;
	if (str_casecmp(s, "enforce") == 0)
		return PS_ACT_ENFORCE;
	if (str_casecmp(s, "drop") == 0)
		return PS_ACT_DROP;
	return -1;
}

void
ps_escape(struct buf *out, const char *data, size_t len, size_t max)
{
	if (len > max)
		len = max;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)data[i];

		switch (c) {
		case '\r':
			buf_puts(out, "\\r");
			break;
		case '\n':
			buf_puts(out, "\\n");
			break;
		case '\t':
			buf_puts(out, "\\t");
			break;
		case '\\':
			buf_puts(out, "\\\\");
			break;
		default:
			if (c >= 0x20 && c < 0x7f)
				buf_putc(out, (char)c);
			else
				buf_printf(out, "\\%03o", c);
		}
	}
}

/* A client's text as the log shows it (no control characters). */
char *
ps_log_text(const char *p, size_t len)
{
	struct buf b = BUF_INIT;

	ps_escape(&b, p, len, PS_LOG_TEXT_MAX);
	return buf_steal(&b);
}

/* The address of "MAIL FROM:<a>" or "RCPT TO:<a>" after the colon,
 * escaped for the log. */
char *
ps_path_arg(const char *line)
{
	const char *p = strchr(line, ':'), *end;

	if (p == NULL)
		return ps_log_text("", 0);
	p++;
	while (*p == ' ')
		p++;
	if (*p == '<') {
		p++;
		end = strchr(p, '>');
	} else {
		end = strchr(p, ' ');
	}
	return ps_log_text(p, end ? (size_t)(end - p) : strlen(p));
}
