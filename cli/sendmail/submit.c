/*
 * sendmail's SMTP client: the submission to smtpd over public/submit
 * (-bm) and the recipient check (-bv), on lib/stream (bounded, timed
 * I/O) and lib/smtp_reply (the reply parser smtp(8) uses); see
 * sendmail.h.
 *
 * smtpd learns the caller's uid from the kernel (SO_PEERCRED), never
 * from us.  Every wait is bounded by SENDMAIL_SMTP_TIMEOUT_MS; a broken
 * or malformed reply counts as code -1 (try again later).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "../cli.h"
#include "sendmail.h"
#include "smtp_reply.h"
#include "sock.h"
#include "stream.h"
#include "xtext.h"

struct client {
	struct stream s;
	struct smtp_reply r;
	struct buf line;
	int code; /* of the last reply; -1: none (connection lost) */
	int verbose;
};

int
submit_socket(int verbose)
{
	struct buf path = BUF_INIT;
	int fd;

	cli_public_path(&path, "submit");
	fd = sock_connect_unix(buf_cstr(&path), 10000);
	if (fd < 0 && verbose)
		fprintf(stderr, "sendmail: connect to %s: %s\n",
			buf_cstr(&path), strerror(errno));
	buf_free(&path);
	return fd;
}

/* Reads one whole reply; its code, or -1. */
static int
client_reply(struct client *c)
{
	int st, fed = SMTP_REPLY_MORE;

	c->code = -1;
	smtp_reply_reset(&c->r);
	if (stream_flush(&c->s) < 0)
		return -1;
	while (fed == SMTP_REPLY_MORE) {
		st = stream_getline(&c->s, &c->line, SMTP_REPLY_LINE_MAX);
		if (st <= 0)
			return -1;
		if (c->verbose)
			fprintf(stderr, "<<< %s\n", buf_cstr(&c->line));
		fed = smtp_reply_feed(&c->r, c->line.data ? c->line.data : "",
				      c->line.len);
	}
	if (fed == SMTP_REPLY_DONE)
		c->code = c->r.code;
	return c->code;
}

static int client_command(struct client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Sends one command line; the reply's code, or -1. */
static int
client_command(struct client *c, const char *fmt, ...)
{
	struct buf cmd = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&cmd, fmt, ap);
	va_end(ap);
	if (c->verbose)
		fprintf(stderr, ">>> %s\n", buf_cstr(&cmd));
	stream_write(&c->s, cmd.data, cmd.len);
	stream_puts(&c->s, "\r\n");
	buf_free(&cmd);
	return client_reply(c);
}

/* What the server said last, for a diagnostic. */
static const char *
client_said(const struct client *c)
{
	return c->code < 0 ? "no usable reply from smtpd"
			   : buf_cstr(&c->r.text);
}

static void
client_close(struct client *c)
{
	if (c->s.fd >= 0)
		close(c->s.fd);
	stream_free(&c->s);
	smtp_reply_free(&c->r);
	buf_free(&c->line);
}

/* Connects, reads the greeting and says EHLO; 0, or -1 (the mail system
 * is down: nothing to close). */
static int
client_open(struct client *c, int verbose)
{
	int fd = submit_socket(verbose);

	if (fd < 0)
		return -1;
	memset(c, 0, sizeof(*c));
	c->verbose = verbose;
	stream_init(&c->s, fd, SENDMAIL_SMTP_TIMEOUT_MS);
	smtp_reply_init(&c->r);
	buf_init(&c->line);
	if (client_reply(c) != 220 ||
	    client_command(c, "EHLO localhost") != 250) {
		client_close(c);
		return -1;
	}
	return 0;
}

static int
status_of(int code, int permanent)
{
	if (code < 0 || code / 100 == 4)
		return EX_TEMPFAIL;
	return permanent;
}

/* The spooled message, dot-stuffed, then the final dot; the reply's
 * code, or -1. */
static int
client_content(struct client *c, int fd)
{
	char block[65536];
	int at_start = 1;
	ssize_t n;

	while ((n = read(fd, block, sizeof(block))) != 0) {
		size_t run = 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "sendmail: read the spool file: %s\n",
				strerror(errno));
			return -1; /* no final dot: smtpd drops it */
		}
		for (size_t i = 0; i < (size_t)n; i++) {
			if (at_start && block[i] == '.') {
				stream_write(&c->s, block + run, i - run);
				stream_write(&c->s, ".", 1);
				run = i;
			}
			at_start = block[i] == '\n';
		}
		stream_write(&c->s, block + run, (size_t)n - run);
		if (stream_error(&c->s))
			return -1;
	}
	if (!at_start)
		stream_puts(&c->s, "\r\n");
	stream_puts(&c->s, ".\r\n");
	return client_reply(c);
}

static void
mail_params(struct buf *p, const struct message *m,
	    const struct sendmail_opts *o)
{
	if (m->has_8bit || o->body_8bit)
		buf_puts(p, " BODY=8BITMIME");
	if (m->rcpts.utf8)
		buf_puts(p, " SMTPUTF8");
	if (o->ret)
		buf_puts(p,
			 o->ret == QUEUE_RET_FULL ? " RET=FULL" : " RET=HDRS");
	if (o->envid) {
		buf_puts(p, " ENVID=");
		xtext_encode(p, o->envid, strlen(o->envid));
	}
}

static void
notify_param(struct buf *p, unsigned notify)
{
	const char *sep = " NOTIFY=";

	if (notify == 0)
		return;
	if (notify & QUEUE_NOTIFY_NEVER) {
		buf_puts(p, " NOTIFY=NEVER");
		return;
	}
	if (notify & QUEUE_NOTIFY_SUCCESS) {
		buf_printf(p, "%sSUCCESS", sep);
		sep = ",";
	}
	if (notify & QUEUE_NOTIFY_FAILURE) {
		buf_printf(p, "%sFAILURE", sep);
		sep = ",";
	}
	if (notify & QUEUE_NOTIFY_DELAY)
		buf_printf(p, "%sDELAY", sep);
}

/* The transaction after EHLO; an exit status. */
static int
transaction(struct client *c, const struct message *m,
	    const struct sendmail_opts *o, const char *sender)
{
	struct buf params = BUF_INIT, np = BUF_INIT;
	int accepted = 0, status = EX_OK, code;

	mail_params(&params, m, o);
	code = client_command(c, "MAIL FROM:<%s>%s", sender, buf_cstr(&params));
	buf_free(&params);
	if (code != 250) {
		fprintf(stderr, "sendmail: sender <%s> refused: %s\n", sender,
			client_said(c));
		return status_of(code, EX_DATAERR);
	}
	notify_param(&np, o->notify);
	for (size_t i = 0; i < m->rcpts.n; i++) {
		const char *rcpt = m->rcpts.addrs[i];
		code = client_command(c, "RCPT TO:<%s>%s", rcpt, buf_cstr(&np));
		if (code / 100 == 2) {
			accepted++;
			continue;
		}
		fprintf(stderr, "sendmail: recipient <%s> refused: %s\n", rcpt,
			client_said(c));
		if (code < 0) {
			buf_free(&np);
			return EX_TEMPFAIL;
		}
		if (status == EX_OK || status == EX_NOUSER)
			status = status_of(code, EX_NOUSER);
	}
	buf_free(&np);
	if (accepted == 0) {
		client_command(c, "QUIT");
		return status;
	}
	code = client_command(c, "DATA");
	if (code == 354)
		code = client_content(c, m->spool_fd);
	if (code != 250) {
		fprintf(stderr, "sendmail: message refused: %s\n",
			client_said(c));
		return status_of(code, EX_DATAERR);
	}
	if (o->verbose)
		fprintf(stderr, "sendmail: %s\n", client_said(c));
	client_command(c, "QUIT");
	return status;
}

int
submit_message(const struct message *m, const struct sendmail_opts *o,
	       const char *sender, int *status)
{
	struct client c;

	if (client_open(&c, o->verbose) < 0)
		return -1;
	*status = transaction(&c, m, o, sender);
	client_close(&c);
	return 0;
}

int
submit_verify(const struct sendmail_opts *o, struct rcpt_list *rcpts,
	      const char *sender)
{
	struct client c;
	int status = EX_OK, code;

	if (client_open(&c, o->verbose) < 0) {
		fprintf(stderr, "sendmail: mail system is down\n");
		return EX_UNAVAILABLE;
	}
	if (client_command(&c, "MAIL FROM:<%s>", sender) != 250) {
		fprintf(stderr, "sendmail: %s\n", client_said(&c));
		client_close(&c);
		return EX_TEMPFAIL;
	}
	for (size_t i = 0; i < rcpts->n; i++) {
		code = client_command(&c, "RCPT TO:<%s>", rcpts->addrs[i]);
		printf("%s: %s (%s)\n", rcpts->addrs[i],
		       code / 100 == 2 ? "deliverable" : "undeliverable",
		       client_said(&c));
		if (code / 100 != 2)
			status = status_of(code, EX_NOUSER);
	}
	client_command(&c, "RSET");
	client_command(&c, "QUIT");
	client_close(&c);
	return status;
}
