/*
 * sendmail -bs while the mail system runs: the SMTP dialogue on standard
 * input and output, relayed to smtpd over public/submit (smtpd answers
 * every command itself); see sendmail.h.
 *
 * Command lines may end in <LF> alone; they reach smtpd with <CR><LF>.
 * After a DATA command the bytes go to smtpd as they are, up to the end
 * of data as lib/smtp_data finds it (<CR><LF>.<CR><LF> only), so that a
 * bare <LF> in the content meets smtpd's own rule and "<LF>.<LF>" can
 * never end a message here and start another one in smtpd.  When
 * public/submit does not answer, bs_standalone() takes over.
 */
#include <poll.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "iostuff.h"
#include "sendmail.h"
#include "smtp_data.h"

/* Whether the command line in b from start (without its end) is DATA. */
static int
relay_is_data(const struct buf *b, size_t start)
{
	size_t len = b->len - start;

	while (len > 0 && (b->data[start + len - 1] == ' ' ||
			   b->data[start + len - 1] == '\t'))
		len--;
	return len == 4 && strncasecmp(b->data + start, "DATA", 4) == 0;
}

int
bs_relay(void)
{
	struct smtp_data d;
	struct smtp_data_limits no_limits = {0};
	struct buf out = BUF_INIT, discard = BUF_INIT;
	struct pollfd p[2];
	char block[8192];
	size_t cmd_start = 0; /* where the current command line starts */
	int fd, in_open = 1, in_data = 0;

	if ((fd = submit_socket(0)) < 0)
		return bs_standalone();
	for (;;) {
		p[0].fd = in_open ? 0 : -1;
		p[0].events = POLLIN;
		p[1].fd = fd;
		p[1].events = POLLIN;
		if (poll(p, 2, SENDMAIL_SMTP_TIMEOUT_MS) <= 0)
			break;
		if (p[1].revents) {
			ssize_t n = read(fd, block, sizeof(block));
			if (n <= 0)
				break;
			if (io_write_full(1, block, (size_t)n, -1) < 0)
				break;
		}
		if (!in_open || !p[0].revents)
			continue;
		ssize_t n = read(0, block, sizeof(block));
		if (n <= 0) {
			in_open = 0;
			if (!in_data && out.len > cmd_start)
				buf_puts(&out, "\r\n");
			cmd_start = out.len;
			shutdown(fd, SHUT_WR);
		}
		for (size_t i = 0; n > 0 && i < (size_t)n;) {
			if (in_data) {
				size_t used = smtp_data_feed(
				    &d, block + i, (size_t)n - i, &discard);
				buf_reset(&discard);
				buf_append(&out, block + i, used);
				i += used;
				if (smtp_data_done(&d)) {
					in_data = 0;
					cmd_start = out.len;
				}
				continue;
			}
			if (block[i++] != '\n') {
				buf_putc(&out, block[i - 1]);
				continue;
			}
			if (out.len > cmd_start &&
			    out.data[out.len - 1] == '\r')
				buf_truncate(&out, out.len - 1);
			if (relay_is_data(&out, cmd_start)) {
				in_data = 1;
				smtp_data_init(&d, SMTP_DATA_MODE_DATA,
					       &no_limits);
			}
			buf_puts(&out, "\r\n");
			cmd_start = out.len;
		}
		/* Whole command lines only, so the CR fix-up above holds;
		 * content as it comes. */
		size_t whole = in_data ? out.len : cmd_start;
		if (whole && io_write_full(fd, out.data, whole,
					   SENDMAIL_SMTP_TIMEOUT_MS) < 0)
			break;
		buf_consume(&out, whole);
		cmd_start -= whole;
		if (out.len > 1024 * 1024)
			break;
	}
	close(fd);
	buf_free(&out);
	buf_free(&discard);
	return EX_OK;
}
