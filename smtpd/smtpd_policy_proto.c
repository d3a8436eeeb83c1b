/*
 * smtpd_policy_proto - the policy protocol codec (smtpd_policy_proto.h).
 */
#include <string.h>

#include "smtpd_policy_proto.h"

void
policy_request_add(struct buf *out, const char *name, const char *value)
{
	size_t n = 0;

	buf_puts(out, name);
	buf_putc(out, '=');
	for (const char *p = value ? value : ""; *p && n < POLICY_VALUE_MAX;
	     p++, n++)
		buf_putc(out, (unsigned char)*p < ' ' || *p == 127 ? '?' : *p);
	buf_putc(out, '\n');
}

void
policy_request_end(struct buf *out)
{
	buf_putc(out, '\n');
}

void
policy_reply_init(struct policy_reply *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->action);
}

void
policy_reply_free(struct policy_reply *r)
{
	buf_free(&r->action);
}

int
policy_reply_line(struct policy_reply *r, const char *line, size_t len,
		  struct buf *err)
{
	const char *eq;

	if (r->done) {
		buf_set(err, "data after the end of the reply");
		return -1;
	}
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0) {
		if (!r->have_action) {
			buf_set(err, "reply without action=");
			return -1;
		}
		r->done = 1;
		return 1;
	}
	if (len > POLICY_LINE_MAX || ++r->lines > POLICY_REPLY_LINES) {
		buf_set(err, len > POLICY_LINE_MAX ? "reply line too long"
						   : "reply too long");
		return -1;
	}
	if ((eq = memchr(line, '=', len)) == NULL || eq == line ||
	    memchr(line, '\0', len) != NULL) {
		buf_set(err, "malformed reply line");
		return -1;
	}
	if ((size_t)(eq - line) == 6 && memcmp(line, "action", 6) == 0) {
		const char *v = eq + 1;
		size_t n = len - (size_t)(v - line);
		while (n > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			n--;
		}
		buf_reset(&r->action);
		buf_append(&r->action, v, n);
		r->have_action = 1;
	}
	return 0;
}
