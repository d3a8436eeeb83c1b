/*
 * map_tcp - tcp: tables (tcp_table(5)), a client of Postfix's simple
 * table protocol: "tcp:HOST:PORT".
 *
 * One line each way per lookup: "get KEY\n"; the reply "200 data" (found),
 * "500 text" (not found) or "400 text" (try again: a lookup error), at
 * most 4096 bytes with its newline.  In the key and the data '%', white
 * space and non-printing bytes travel as %XX (any case of hex digits);
 * the key is always encoded, the data decoded.  Anything else is a
 * protocol error.  The key goes as it is (not folded).
 */
#include <string.h>

#include "iostuff.h"
#include "map_int.h"
#include "strutil.h"
#include "xalloc.h"

#define TCP_REPLY_MAX 4096

static int
tcp_open(struct map *m, const char *name, struct buf *err)
{
	struct map_endpoint *ep = xcalloc(1, sizeof(*ep));
	struct buf inet = BUF_INIT;
	int r;

	m->data = ep;
	buf_printf(&inet, "inet:%s", name);
	r = map_endpoint_parse(buf_cstr(&inet), ep, err);
	buf_free(&inet);
	return r;
}

static void
tcp_encode(struct buf *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '%' || *p <= ' ' || *p >= 127)
			buf_printf(out, "%%%02X", *p);
		else
			buf_putc(out, *p);
	}
}

static int
tcp_decode(struct buf *out, const char *s, struct buf *err)
{
	buf_reset(out);
	for (; *s; s++) {
		int hi, lo;

		if (*s != '%') {
			buf_putc(out, *s);
			continue;
		}
		if ((hi = str_hexval(s[1])) < 0 ||
		    (lo = str_hexval(s[2])) < 0 || (hi == 0 && lo == 0)) {
			buf_set(err, "protocol error: bad %XX in the reply");
			return -1;
		}
		buf_putc(out, hi * 16 + lo);
		s += 2;
	}
	return 0;
}

/* Reads the reply line (without its newline) into line. */
static int
tcp_read_line(int fd, struct buf *line, struct buf *err)
{
	char c;

	buf_reset(line);
	for (;;) {
		if (io_read_full(fd, &c, 1, MAP_CLIENT_TIMEOUT_MS) < 0) {
			buf_set(err, "no reply (connection closed or timed "
				     "out)");
			return -1;
		}
		if (c == '\n')
			break;
		if (c == '\0' || line->len + 1 >= TCP_REPLY_MAX) {
			buf_set(err, c ? "protocol error: reply too long"
				       : "protocol error: NUL in the reply");
			return -1;
		}
		buf_putc(line, c);
	}
	if (line->len > 0 && line->data[line->len - 1] == '\r')
		buf_truncate(line, line->len - 1);
	return 0;
}

static int
tcp_lookup(struct map *m, const char *key, struct buf *value, struct buf *err)
{
	struct buf req = BUF_INIT, line = BUF_INIT;
	const char *text;
	int r = -1;

	buf_puts(&req, "get ");
	tcp_encode(&req, key);
	buf_putc(&req, '\n');
	if (map_endpoint_ask(m->data, &req, tcp_read_line, &line, err) < 0)
		goto out;
	text = buf_cstr(&line);
	if (strlen(text) >= 3 && (text[3] == ' ' || text[3] == '\0') &&
	    strncmp(text, "200", 3) == 0) {
		if (tcp_decode(value, text[3] ? text + 4 : "", err) == 0)
			r = 1;
	} else if (strncmp(text, "500", 3) == 0 &&
		   (text[3] == ' ' || text[3] == '\0')) {
		r = 0;
	} else {
		map_endpoint_failed(err,
				    strncmp(text, "400", 3) == 0 &&
					(text[3] == ' ' || text[3] == '\0'),
				    text);
	}
out:
	buf_free(&req);
	buf_free(&line);
	return r;
}

static void
tcp_close(struct map *m)
{
	if (m->data)
		map_endpoint_free(m->data);
	xfree(m->data);
}

const struct map_type map_type_tcp = {"tcp", 0, tcp_open, tcp_lookup,
				      tcp_close};
