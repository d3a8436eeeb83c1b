/*
 * received - the Received: header builder; see received.h.
 */
#include <stdlib.h>
#include <string.h>

#include "received.h"

#define NAME_MAX_OUT 255

/* Appends s with every octet outside the safe set replaced by '_'. */
static void
put_clean(struct buf *out, const char *s, const char *dflt)
{
	const unsigned char *p;
	size_t n;

	if (s == NULL || *s == 0)
		s = dflt;
	for (p = (const unsigned char *)s, n = 0; *p && n < NAME_MAX_OUT;
	     p++, n++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._:[]@+=/", *p))
			buf_putc(out, *p);
		else
			buf_putc(out, '_');
	}
}

/* The recipient: only control octets are replaced (it is a valid path). */
static void
put_rcpt(struct buf *out, const char *s)
{
	const unsigned char *p;
	size_t n;

	for (p = (const unsigned char *)s, n = 0; *p && n < 512; p++, n++)
		buf_putc(out, *p < 32 || *p == 127 ? '?' : *p);
}

void
received_date(struct buf *out, time_t t)
{
	static const char *days[] = {"Sun", "Mon", "Tue", "Wed",
				     "Thu", "Fri", "Sat"};
	static const char *months[] = {"Jan", "Feb", "Mar", "Apr",
				       "May", "Jun", "Jul", "Aug",
				       "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	long off;
	char sign = '+';

	if (localtime_r(&t, &tm) == NULL) {
		t = 0;
		gmtime_r(&t, &tm);
		tm.tm_gmtoff = 0;
	}
	off = tm.tm_gmtoff / 60;
	if (off < 0) {
		sign = '-';
		off = -off;
	}
	buf_printf(out, "%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld",
		   days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
		   tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, sign,
		   off / 60 % 100, off % 60);
}

void
received_build(struct buf *out, const struct received_info *ri)
{
	const char *addr = ri->client_addr ? ri->client_addr : "unknown";

	buf_puts(out, "Received: from ");
	put_clean(out, ri->helo && *ri->helo ? ri->helo : ri->client_name,
		  "unknown");
	buf_puts(out, " (");
	put_clean(out, ri->client_name, "unknown");
	buf_puts(out, strchr(addr, ':') ? " [IPv6:" : " [");
	put_clean(out, addr, "unknown");
	buf_puts(out, "])\r\n");
	if (ri->tls_protocol) {
		buf_puts(out, "\t(using ");
		put_clean(out, ri->tls_protocol, "unknown");
		buf_puts(out, " with cipher ");
		put_clean(out, ri->tls_cipher, "unknown");
		buf_printf(out, " (%d/%d bits)", ri->tls_bits,
			   ri->tls_alg_bits);
		if (ri->tls_kex != NULL && *ri->tls_kex != '\0') {
			/* OpenSSL's names and numbers (tls.c), printable */
			buf_puts(out, "\r\n\t ");
			buf_puts(out, ri->tls_kex);
		}
		buf_puts(out, ")\r\n");
	}
	if (ri->authenticated && ri->auth_sender) {
		buf_puts(out, "\t(Authenticated sender: ");
		put_clean(out, ri->auth_sender, "unknown");
		buf_puts(out, ")\r\n");
	}
	buf_puts(out, "\tby ");
	put_clean(out, ri->myhostname, "localhost");
	buf_printf(out, " (Panacea) with %s%s%s id ",
		   ri->smtputf8 ? "UTF8SMTP"
		   : ri->esmtp	? "ESMTP"
				: "SMTP",
		   ri->tls || ri->tls_protocol ? "S" : "",
		   ri->authenticated ? "A" : "");
	put_clean(out, ri->queue_id, "unknown");
	if (ri->rcpt) {
		buf_puts(out, "\r\n\tfor <");
		put_rcpt(out, ri->rcpt);
		buf_puts(out, ">; ");
	} else {
		buf_puts(out, ";\r\n\t");
	}
	received_date(out, ri->when);
	buf_puts(out, "\r\n");
}
