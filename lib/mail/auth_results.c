/*
 * auth_results - Authentication-Results: writing and stripping; see
 * auth_results.h.
 */
#include <string.h>
#include <strings.h>

#include "auth_results.h"
#include "dkim_canon.h"

/* Appends " word" to the field, folding before it when the line would
 * pass 78 columns. */
static void
add(struct buf *out, size_t *col, const char *word, size_t len)
{
	if (*col + 1 + len > 78) {
		buf_append(out, "\r\n\t", 3);
		*col = 8;
	} else {
		buf_putc(out, ' ');
		(*col)++;
	}
	buf_append(out, word, len);
	*col += len;
}

/* The words of an item (split at spaces outside quoted strings, where
 * a fold would change the value), each folded before when needed; an
 * item after the first starts a line of its own. */
static void
add_words(struct buf *out, size_t *col, const struct buf *w, int first)
{
	size_t i = 0, j;
	int quoted;

	if (!first)
		*col = 78; /* forces the fold */
	while (i < w->len) {
		for (j = i, quoted = 0;
		     j < w->len && (quoted || w->data[j] != ' '); j++) {
			if (w->data[j] == '\\' && j + 1 < w->len)
				j++;
			else if (w->data[j] == '"')
				quoted = !quoted;
		}
		add(out, col, w->data + i, j - i);
		i = j + 1;
	}
}

static int
atext(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr("!#$%&'*+-/=?^_`{|}~.@", c);
}

/* name=value with value as is when it is atext and dots (and one @),
 * else as a quoted string. */
static void
prop(struct buf *w, const char *name, const char *value)
{
	const char *p;
	int plain = *value != '\0';

	for (p = value; *p; p++)
		if (!atext((unsigned char)*p))
			plain = 0;
	buf_printf(w, "%s=", name);
	if (plain) {
		buf_puts(w, value);
		return;
	}
	buf_putc(w, '"');
	for (p = value; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"' || c == '\\')
			buf_putc(w, '\\');
		buf_putc(w, c < 0x20 || c == 0x7f ? '?' : c);
	}
	buf_putc(w, '"');
}

void
auth_results_build(const struct auth_results_in *in, struct buf *out)
{
	struct buf w = BUF_INIT;
	size_t col, i;
	int any = 0;

	buf_printf(out, "Authentication-Results: %s;", in->authserv_id);
	col = out->len; /* the first line starts the field */
#define ITEM()                                                                 \
	do {                                                                   \
		if (any)                                                       \
			buf_putc(out, ';');                                    \
		add_words(out, &col, &w, !any);                                \
		buf_reset(&w);                                                 \
		any = 1;                                                       \
	} while (0)
	if (in->auth_user) {
		buf_puts(&w, "auth=pass ");
		prop(&w, "smtp.auth", in->auth_user);
		ITEM();
	}
	if (in->spf) {
		buf_printf(&w, "spf=%s ", in->spf);
		prop(&w,
		     strcmp(in->spf_identity, "helo") == 0 ? "smtp.helo"
							   : "smtp.mailfrom",
		     in->spf_value);
		ITEM();
	}
	if (in->dkim_checked && in->ndkim == 0) {
		buf_puts(&w, "dkim=none");
		ITEM();
	}
	for (i = 0; i < in->ndkim; i++) {
		const struct dkim_verdict *v = &in->dkim[i];

		buf_printf(&w, "dkim=%s", dkim_result_name(v->result));
		if (v->result != DKIM_PASS && v->reason && *v->reason)
			buf_printf(&w, " (%s)", v->reason);
		else if (v->testing)
			buf_puts(&w, " (test mode)");
		if (v->d[0]) {
			buf_putc(&w, ' ');
			prop(&w, "header.d", v->d);
		}
		if (v->s[0]) {
			buf_putc(&w, ' ');
			prop(&w, "header.s", v->s);
		}
		if (v->b[0]) {
			buf_putc(&w, ' ');
			prop(&w, "header.b", v->b);
		}
		ITEM();
	}
	/* DMARC: filled by the DMARC evaluator when it runs. */
	if (in->dmarc) {
		buf_printf(&w, "dmarc=%s", in->dmarc);
		if (in->dmarc_comment && *in->dmarc_comment)
			buf_printf(&w, " (%s)", in->dmarc_comment);
		if (in->dmarc_from) {
			buf_putc(&w, ' ');
			prop(&w, "header.from", in->dmarc_from);
		}
		ITEM();
	}
	if (!any) {
		buf_puts(&w, "none");
		ITEM();
	}
#undef ITEM
	buf_append(out, "\r\n", 2);
	buf_free(&w);
}

int
auth_results_id(const char *value, size_t len, char *out, size_t outlen)
{
	size_t i = 0, n = 0;
	int depth = 0;

	/* Skips white space and comments (nested, with quoted pairs). */
	for (; i < len; i++) {
		char c = value[i];

		if (depth > 0) {
			if (c == '\\' && i + 1 < len)
				i++;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
		} else if (c == '(') {
			depth++;
		} else if (!(c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
			break;
		}
	}
	for (; i < len; i++) {
		char c = value[i];

		if (c == ';' || c == ' ' || c == '\t' || c == '\r' ||
		    c == '\n' || c == '(')
			break;
		/* A value of RFC 2045: printable ASCII; anything else is
		 * not an authserv-id we could have written. */
		if ((unsigned char)c < 0x21 || (unsigned char)c > 0x7e)
			return -1;
		if (n + 1 >= outlen)
			return -1;
		out[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	out[n] = '\0';
	return n > 0 ? 0 : -1;
}

size_t
auth_results_strip(const char *data, size_t len, const char *authserv_id,
		   struct buf *out)
{
	struct dkim_msg m;
	const char *from = data;
	char id[256];
	size_t removed = 0, i;

	if (dkim_msg_split(data, len, &m) < 0) {
		buf_append(out, data, len);
		return 0;
	}
	for (i = 0; i < m.nfields; i++) {
		const struct dkim_field *f = &m.f[i];
		const char *end = f->p + f->len;

		if (!dkim_field_is(f, "authentication-results") ||
		    auth_results_id(f->p + f->colon + 1, f->len - f->colon - 1,
				    id, sizeof(id)) < 0 ||
		    strcasecmp(id, authserv_id) != 0)
			continue;
		/* The field and its line end go. */
		if (end < data + len && *end == '\r')
			end++;
		if (end < data + len && *end == '\n')
			end++;
		buf_append(out, from, (size_t)(f->p - from));
		from = end;
		removed++;
	}
	buf_append(out, from, (size_t)(data + len - from));
	dkim_msg_free(&m);
	return removed;
}
