/*
 * milter_proto - encoders and the decoder of the milter protocol; see
 * milter_proto.h.
 */
#include <string.h>

#include "milter_proto.h"

long
milter_frame_len(const unsigned char hdr[4], size_t max)
{
	uint32_t n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
		     (uint32_t)hdr[2] << 8 | (uint32_t)hdr[3];

	if (n == 0 || n > max)
		return -1;
	return (long)n;
}

static void
put32(struct buf *out, uint32_t v)
{
	unsigned char b[4] = {v >> 24, v >> 16, v >> 8, v};

	buf_append(out, b, 4);
}

/* Starts a packet: room for the length, then the command; returns where
 * the length goes, for end_packet. */
static size_t
begin_packet(struct buf *out, char cmd)
{
	size_t at = out->len;

	put32(out, 0);
	buf_putc(out, cmd);
	return at;
}

static void
end_packet(struct buf *out, size_t at)
{
	uint32_t n = (uint32_t)(out->len - at - 4);
	unsigned char *p = (unsigned char *)out->data + at;

	p[0] = n >> 24;
	p[1] = n >> 16;
	p[2] = n >> 8;
	p[3] = n;
}

/* A string with its NUL. */
static void
put_str(struct buf *out, const char *s)
{
	buf_append(out, s, strlen(s) + 1);
}

void
milter_put_optneg(struct buf *out, uint32_t version, uint32_t actions,
		  uint32_t protocol)
{
	size_t at = begin_packet(out, MILTER_C_OPTNEG);

	put32(out, version);
	put32(out, actions);
	put32(out, protocol);
	end_packet(out, at);
}

void
milter_put_macros(struct buf *out, char cmd, const char *const *names,
		  const char *const *values, size_t n)
{
	size_t at = begin_packet(out, MILTER_C_MACRO);

	buf_putc(out, cmd);
	for (size_t i = 0; i < n; i++) {
		if (values[i] == NULL)
			continue;
		put_str(out, names[i]);
		put_str(out, values[i]);
	}
	end_packet(out, at);
}

void
milter_put_connect(struct buf *out, const char *hostname, char family,
		   unsigned port, const char *addr)
{
	size_t at = begin_packet(out, MILTER_C_CONNECT);

	put_str(out, hostname);
	buf_putc(out, family);
	if (family != 'U') {
		buf_putc(out, (port >> 8) & 0xff);
		buf_putc(out, port & 0xff);
		put_str(out, addr);
	}
	end_packet(out, at);
}

void
milter_put_helo(struct buf *out, const char *helo)
{
	size_t at = begin_packet(out, MILTER_C_HELO);

	put_str(out, helo);
	end_packet(out, at);
}

void
milter_put_envelope(struct buf *out, char cmd, const char *addr,
		    const char *const *args, size_t nargs)
{
	size_t at = begin_packet(out, cmd);

	buf_putc(out, '<');
	buf_puts(out, addr);
	buf_putc(out, '>');
	buf_putc(out, '\0');
	for (size_t i = 0; i < nargs; i++)
		put_str(out, args[i]);
	end_packet(out, at);
}

void
milter_put_header(struct buf *out, const char *name, size_t namelen,
		  const char *value, size_t valuelen)
{
	size_t at = begin_packet(out, MILTER_C_HEADER);

	buf_append(out, name, namelen);
	buf_putc(out, '\0');
	buf_append(out, value, valuelen);
	buf_putc(out, '\0');
	end_packet(out, at);
}

void
milter_put_body(struct buf *out, const void *data, size_t len)
{
	size_t at = begin_packet(out, MILTER_C_BODY);

	buf_append(out, data, len);
	end_packet(out, at);
}

void
milter_put_unknown(struct buf *out, const char *line)
{
	size_t at = begin_packet(out, MILTER_C_UNKNOWN);

	put_str(out, line);
	end_packet(out, at);
}

void
milter_put_simple(struct buf *out, char cmd)
{
	end_packet(out, begin_packet(out, cmd));
}

/* A reader over a packet's data that never passes its end. */
struct rd {
	const unsigned char *p;
	size_t left;
	int bad;
};

static uint32_t
get32(struct rd *r)
{
	uint32_t v;

	if (r->left < 4) {
		r->bad = 1;
		return 0;
	}
	v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
	    (uint32_t)r->p[2] << 8 | (uint32_t)r->p[3];
	r->p += 4;
	r->left -= 4;
	return v;
}

/* The next NUL-terminated string, or NULL (and bad) when none ends
 * within the packet. */
static const char *
get_str(struct rd *r)
{
	const unsigned char *nul = r->left ? memchr(r->p, '\0', r->left) : NULL;
	const char *s = (const char *)r->p;

	if (nul == NULL) {
		r->bad = 1;
		return NULL;
	}
	r->left -= (size_t)(nul - r->p) + 1;
	r->p = nul + 1;
	return s;
}

/* An optional string: NULL at the end of the packet. */
static const char *
get_opt_str(struct rd *r)
{
	return r->left ? get_str(r) : NULL;
}

int
milter_replycode_valid(const char *t)
{
	if ((t[0] != '4' && t[0] != '5') || t[1] < '0' || t[1] > '9' ||
	    t[2] < '0' || t[2] > '9')
		return 0;
	if (t[3] != ' ' && t[3] != '-' && t[3] != '\0')
		return 0;
	/* A multi-line reply: each line must carry the same code. */
	for (const char *nl = strchr(t, '\n'); nl; nl = strchr(nl + 1, '\n'))
		if (strncmp(nl + 1, t, 3) != 0)
			return 0;
	return 1;
}

int
milter_parse(const unsigned char *p, size_t len, struct milter_reply *r,
	     const char **why)
{
	struct rd rd = {p + 1, len ? len - 1 : 0, 0};

	memset(r, 0, sizeof(*r));
	if (len == 0) {
		*why = "empty packet";
		return -1;
	}
	r->cmd = (char)p[0];
	switch (r->cmd) {
	case MILTER_R_ACCEPT:
	case MILTER_R_CONTINUE:
	case MILTER_R_DISCARD:
	case MILTER_R_REJECT:
	case MILTER_R_TEMPFAIL:
	case MILTER_R_PROGRESS:
	case MILTER_R_SKIP:
	case MILTER_R_SHUTDOWN:
	case MILTER_R_CONN_FAIL:
		/* Nothing more; anything more is ignored, as by libmilter's
		 * peers. */
		return 0;
	case MILTER_R_OPTNEG:
		r->version = get32(&rd);
		r->actions = get32(&rd);
		r->protocol = get32(&rd);
		/* Version 6: stage macro lists follow. */
		while (!rd.bad && rd.left > 0) {
			uint32_t stage = get32(&rd);
			const char *list = get_str(&rd);
			if (!rd.bad && stage < MILTER_M_MAX)
				r->macros[stage] = list;
		}
		break;
	case MILTER_R_REPLYCODE:
		r->text = get_str(&rd);
		if (!rd.bad && !milter_replycode_valid(r->text)) {
			*why = "bad reply code";
			return -1;
		}
		break;
	case MILTER_R_QUARANTINE:
		r->text = get_str(&rd);
		break;
	case MILTER_R_SETSYMLIST:
		r->index = get32(&rd);
		r->text = get_str(&rd);
		break;
	case MILTER_R_ADDHEADER:
		r->name = get_str(&rd);
		r->value = get_str(&rd);
		break;
	case MILTER_R_CHGHEADER:
	case MILTER_R_INSHEADER:
		r->index = get32(&rd);
		r->name = get_str(&rd);
		r->value = get_str(&rd);
		break;
	case MILTER_R_ADDRCPT:
	case MILTER_R_DELRCPT:
		r->name = get_str(&rd);
		break;
	case MILTER_R_ADDRCPT_PAR:
	case MILTER_R_CHGFROM:
		r->name = get_str(&rd);
		r->value = get_opt_str(&rd);
		break;
	case MILTER_R_REPLBODY:
		r->data = rd.p;
		r->len = rd.left;
		break;
	default:
		*why = "unknown reply";
		return -1;
	}
	if (rd.bad) {
		*why = "truncated reply";
		return -1;
	}
	/* A header name must be a field name: no empty name, no colon, no
	 * control or space (RFC 5322 2.2), lest it break the message. */
	if ((r->cmd == MILTER_R_ADDHEADER || r->cmd == MILTER_R_CHGHEADER ||
	     r->cmd == MILTER_R_INSHEADER)) {
		const char *n = r->name;
		if (*n == '\0') {
			*why = "empty header name";
			return -1;
		}
		for (; *n; n++)
			if ((unsigned char)*n <= ' ' || *n == ':' ||
			    (unsigned char)*n >= 127) {
				*why = "bad header name";
				return -1;
			}
	}
	return 0;
}
