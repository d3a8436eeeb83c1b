/*
 * fuzz_pop3_cmd - libFuzzer target for lib/pop3_cmd.
 *
 * The input is one command line and, at the same time, message bytes for
 * the multi-line converter.  Checks: every argument string lies inside
 * the command's own storage and holds no control character; numbers are
 * within POP3_NUM_DIGITS digits; the converter gives the same bytes and
 * size whatever the split (one shot vs byte by byte), every line it sends
 * ends with CRLF, no line of it is a lone "." (which would end the reply
 * early), and the size is the output without the stuffing dots.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pop3_cmd.h"

static void
check_arg(const struct pop3_cmd *c, const char *s)
{
	if (s == NULL)
		return;
	if (s < c->buf.data || s > c->buf.data + c->buf.len)
		abort();
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			abort();
}

static void
check_wire(const char *data, size_t size, int flags, long lines)
{
	struct pop3_wire one, each;
	struct buf a = BUF_INIT, b = BUF_INIT;
	size_t dots = 0, i;

	pop3_wire_init(&one, flags, lines);
	pop3_wire_feed(&one, data, size, &a);
	pop3_wire_finish(&one, &a);
	pop3_wire_init(&each, flags, lines);
	for (i = 0; i < size; i++)
		pop3_wire_feed(&each, data + i, 1, &b);
	pop3_wire_finish(&each, &b);
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0 ||
	    one.octets != each.octets)
		abort();
	if (a.len > 0 && (a.len < 2 || memcmp(a.data + a.len - 2, "\r\n", 2)))
		abort();
	for (i = 0; i < a.len; i++) {
		int bol = i == 0 || a.data[i - 1] == '\n';

		if (a.data[i] == '\n' && (i == 0 || a.data[i - 1] != '\r'))
			abort();
		if (bol && a.data[i] == '.') {
			dots++;
			/* A stuffed line: never ".\r\n" alone. */
			if (i + 1 >= a.len || a.data[i + 1] != '.')
				abort();
		}
	}
	if (one.octets != a.len - dots)
		abort();
	buf_free(&a);
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pop3_cmd c;
	const char *line = (const char *)data;
	int r;

	pop3_cmd_init(&c);
	r = pop3_cmd_parse(line, size, &c);
	if (r == POP3_PARSE_OK) {
		if (c.id == POP3_CMD_NONE || c.name == NULL)
			abort();
		check_arg(&c, c.arg1);
		check_arg(&c, c.arg2);
		if (c.num1 < 0 || c.num1 > 999999999 || c.num2 < 0 ||
		    c.num2 > 999999999)
			abort();
		if (size > POP3_CMD_LINE_MAX && c.id != POP3_CMD_PASS &&
		    c.id != POP3_CMD_AUTH)
			abort();
	} else if (r == POP3_PARSE_SYNTAX && c.why == NULL) {
		abort();
	}
	(void)pop3_cmd_allowed(POP3_AUTHORIZATION, c.id);
	pop3_cmd_free(&c);
	check_wire(line, size, size && (data[0] & 1) ? POP3_WIRE_UNQUOTE : 0,
		   size > 1 ? (long)(data[1] % 4) - 1 : -1);
	return 0;
}
