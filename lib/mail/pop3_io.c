/*
 * pop3_io - reply lines and command lines of a POP3 server; see
 * pop3_io.h.
 */
#include "pop3_io.h"

int
pop3_read_line(struct stream *s, struct buf *line, size_t max)
{
	int st;

	if (stream_pending(s) == 0)
		(void)stream_flush(s);
	for (;;) {
		if (stream_error(s))
			return POP3_READ_FAILED;
		st = stream_getline(s, line, max);
		if (st == STREAM_LINE || st == STREAM_LINE_BARE_LF)
			return POP3_READ_LINE;
		if (st == STREAM_TOO_LONG) {
			stream_puts(s, "-ERR Line too long\r\n");
			if (stream_pending(s) == 0)
				(void)stream_flush(s);
			continue;
		}
		if (st == STREAM_TIMEOUT) {
			stream_puts(s,
				    "-ERR Autologout; idle for too long\r\n");
			(void)stream_flush(s);
			return POP3_READ_TIMEOUT;
		}
		if (st == STREAM_EOF || st == STREAM_IOERR)
			return POP3_READ_LOST;
		return POP3_READ_FAILED;
	}
}
