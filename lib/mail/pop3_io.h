/*
 * pop3_io - the line I/O that both sides of the POP3 server do over a
 * struct stream: pop3d (the front, to the client, TLS or not) before
 * login and pop3session's child (to the front, plain) after it.
 *
 * A reply line goes out with stream_line_vprintf() (stream.h).
 * pop3_read_line() reads one command line of at most max bytes (without its
 * line end; a bare LF ends a line too) into line.  Pending replies are flushed
 * before it waits, and only then (RFC 2449 PIPELINING: the answers to a
 * pipelined burst go out together).  A longer line is answered
 * "-ERR Line too long" and skipped; the next line is read.  On the
 * stream's timeout it answers "-ERR Autologout; idle for too long" and
 * flushes it.  The caller logs the end, in words of its own side.
 */
#ifndef PANACEA_POP3_IO_H
#define PANACEA_POP3_IO_H

#include <stdarg.h>
#include <stddef.h>

#include "buf.h"
#include "stream.h"

enum pop3_read {
	POP3_READ_LINE,	   /* a line is in line */
	POP3_READ_TIMEOUT, /* idle too long: answered, end the session */
	POP3_READ_LOST,	   /* end of file or a read error */
	POP3_READ_FAILED,  /* the stream had failed already (a write) */
};

int pop3_read_line(struct stream *s, struct buf *line, size_t max);

#endif
