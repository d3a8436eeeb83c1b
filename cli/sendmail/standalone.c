/*
 * sendmail -bs while the mail system is down (public/submit does not
 * answer): as Postfix's sendmail -bs runs smtpd stand-alone, sendmail
 * answers the SMTP dialogue itself and keeps each message in maildrop/,
 * exactly as a message given with -bm is kept (the same file, the same
 * trust: the submitter is the file's owner); see sendmail.h.
 *
 * Commands are parsed by lib/smtp_cmd and the content read by
 * lib/smtp_data, smtpd's own modules, so that the dialogue means here
 * what it means to smtpd.  What smtpd checks at RCPT (local recipients,
 * relaying) is left to the queue: an undeliverable recipient bounces to
 * the sender later.  A maildrop file holds one NOTIFY for all its
 * recipients and no ORCPT: a recipient whose NOTIFY differs gets 452
 * (sent again in another transaction), ORCPT is dropped.  Commands are
 * bounded by BS_LINE_MAX, the message by message_size_limit (it streams
 * through a spool file), recipients by smtpd_recipient_limit, errors by
 * BS_ERROR_LIMIT; every read waits at most SENDMAIL_SMTP_TIMEOUT_MS.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "sendmail.h"
#include "smtp_cmd.h"
#include "smtp_data.h"
#include "stream.h"
#include "xalloc.h"

#define BS_LINE_MAX 2048
#define BS_ERROR_LIMIT 20
#define BS_EXT                                                                 \
	(SMTP_EXT_SIZE | SMTP_EXT_8BITMIME | SMTP_EXT_DSN | SMTP_EXT_SMTPUTF8)

struct bs {
	struct stream in; /* standard input */
	int in_mail;	  /* MAIL given */
	int smtputf8;
	struct queue_envelope env;
	long long size_limit;
	int rcpt_limit;
	int errors;
};

static void bs_reply(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void
bs_reply(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputs("\r\n", stdout);
	if (fflush(stdout) == EOF)
		exit(EX_IOERR); /* the client is gone */
}

/* A read timed out: the client hears why, and the dialogue ends. */
static _Noreturn void
bs_timeout(void)
{
	bs_reply("421 4.4.2 %s Error: timeout exceeded",
		 sendmail_conf.myhostname);
	exit(EX_TEMPFAIL);
}

static void
bs_reset(struct bs *b)
{
	if (b->in_mail)
		queue_envelope_free(&b->env);
	queue_envelope_init(&b->env);
	b->in_mail = 0;
	b->smtputf8 = 0;
}

static void
bs_ehlo(struct bs *b, int ehlo)
{
	const char *me = sendmail_conf.myhostname;

	bs_reset(b);
	if (!ehlo) {
		bs_reply("250 %s", me);
		return;
	}
	bs_reply("250-%s\r\n250-SIZE %lld\r\n250-8BITMIME\r\n250-DSN\r\n"
		 "250-SMTPUTF8\r\n250 ENHANCEDSTATUSCODES",
		 me, b->size_limit);
}

static void
bs_mail(struct bs *b, const struct smtp_cmd *cmd)
{
	char *sender;

	if (b->in_mail) {
		bs_reply("503 5.5.1 Error: nested MAIL command");
		b->errors++;
		return;
	}
	if (cmd->has_size && b->size_limit > 0 &&
	    cmd->size > (uint64_t)b->size_limit) {
		bs_reply("552 5.3.4 Message size exceeds fixed limit");
		b->errors++;
		return;
	}
	if ((sender = sendmail_qualify(cmd->path.addr, 1)) == NULL) {
		bs_reply("501 5.1.7 Bad sender address syntax");
		b->errors++;
		return;
	}
	bs_reset(b);
	queue_str_set(&b->env.sender, sender);
	queue_str_set(&b->env.envid, cmd->envid);
	b->env.ret = cmd->ret == SMTP_RET_FULL	 ? QUEUE_RET_FULL
		     : cmd->ret == SMTP_RET_HDRS ? QUEUE_RET_HDRS
						 : QUEUE_RET_NONE;
	if (cmd->body == SMTP_BODY_8BITMIME)
		b->env.flags |= QUEUE_FLAG_8BITMIME;
	if (cmd->smtputf8)
		b->env.flags |= QUEUE_FLAG_SMTPUTF8;
	b->smtputf8 = cmd->smtputf8;
	b->in_mail = 1;
	xfree(sender);
	bs_reply("250 2.1.0 Ok");
}

static void
bs_rcpt(struct bs *b, const struct smtp_cmd *cmd)
{
	char *rcpt;

	if (!b->in_mail) {
		bs_reply("503 5.5.1 Error: need MAIL command");
		b->errors++;
		return;
	}
	if (b->env.nrcpt >= (size_t)b->rcpt_limit) {
		bs_reply("452 4.5.3 Error: too many recipients");
		b->errors++;
		return;
	}
	/* A maildrop file has one NOTIFY for all: the client sends a
	 * recipient that differs in another transaction. */
	if (b->env.nrcpt > 0 && b->env.rcpts[0].notify != cmd->notify) {
		bs_reply("452 4.5.3 Error: recipients with different NOTIFY "
			 "need another transaction while the mail system is "
			 "down");
		return;
	}
	if ((rcpt = sendmail_qualify(cmd->path.addr, 0)) == NULL) {
		bs_reply("501 5.1.3 Bad recipient address syntax");
		b->errors++;
		return;
	}
	queue_envelope_add_rcpt(&b->env, rcpt, cmd->orcpt, cmd->notify);
	xfree(rcpt);
	bs_reply("250 2.1.5 Ok");
}

/*
 * Reads the content into the spool stream with smtpd's rules; 0, or -1
 * when standard input ended first.
 */
static int
bs_read_content(struct bs *b, struct smtp_data *d, struct stream *spool)
{
	struct buf out = BUF_INIT;
	const char *p;
	ssize_t n;

	while (!smtp_data_done(d)) {
		if ((n = stream_peek(&b->in, &p)) <= 0) {
			buf_free(&out);
			if (n < 0 && stream_error(&b->in) == STREAM_TIMEOUT)
				bs_timeout();
			return -1;
		}
		stream_consume(&b->in, smtp_data_feed(d, p, (size_t)n, &out));
		stream_write(spool, out.data, out.len);
		buf_reset(&out);
	}
	buf_free(&out);
	return 0;
}

/*
 * DATA: the content, read with smtpd's rules (lib/smtp_data.h), so that
 * what ends a message here ends it in smtpd and nowhere else: only
 * <CR><LF>.<CR><LF> ends it, and a message with a bare <LF> is refused
 * as smtpd refuses it (521, end of the dialogue), never read as two.
 * Then maildrop/.  0 to go on, 1 to end the dialogue, -1 when standard
 * input ended first (nothing is kept).
 */
static int
bs_data(struct bs *b)
{
	struct smtp_data d;
	struct smtp_data_limits lim = {0};
	struct stream spool;
	struct buf err = BUF_INIT;
	char id[QUEUE_ID_SIZE];
	int status = 0, fd;

	if (!b->in_mail || b->env.nrcpt == 0) {
		bs_reply("503 5.5.1 Error: need %s command",
			 b->in_mail ? "RCPT" : "MAIL");
		b->errors++;
		return 0;
	}
	if ((fd = spool_create()) < 0) {
		bs_reply("451 4.3.0 Error: cannot spool the message: %s",
			 strerror(errno));
		return 0;
	}
	bs_reply("354 End data with <CR><LF>.<CR><LF>");
	lim.size_limit = b->size_limit > 0 ? (uint64_t)b->size_limit : 0;
	smtp_data_init(&d, SMTP_DATA_MODE_DATA, &lim);
	stream_init(&spool, fd, -1);
	if (bs_read_content(b, &d, &spool) < 0) {
		stream_free(&spool);
		close(fd);
		return -1;
	}
	if (d.flags & SMTP_DATA_F_8BIT)
		b->env.flags |= QUEUE_FLAG_8BITMIME;
	if (d.flags & SMTP_DATA_F_BARE_LF) {
		bs_reply("521 5.5.2 %s Error: bare <LF> received",
			 sendmail_conf.myhostname);
		status = 1;
	} else if (d.flags & SMTP_DATA_F_TOO_BIG) {
		bs_reply("552 5.3.4 Message size exceeds fixed limit");
	} else if (stream_flush(&spool) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		bs_reply("451 4.3.0 Error: cannot spool the message: %s",
			 strerror(errno));
	} else if (maildrop_keep(&b->env, fd, id, &err) < 0) {
		bs_reply("451 4.3.0 Error: cannot keep the message: %s",
			 buf_cstr(&err));
	} else {
		bs_reply("250 2.0.0 Ok: queued as %s (kept in maildrop: the "
			 "mail system is down)",
			 id);
	}
	stream_free(&spool);
	close(fd);
	buf_free(&err);
	bs_reset(b);
	return status;
}

/* One command; 1 after QUIT, 0 to go on, -1 at end of input. */
static int
bs_command(struct bs *b, const struct buf *line)
{
	struct smtp_cmd cmd;
	struct buf reply = BUF_INIT;
	unsigned flags = SMTP_CMD_F_BARE_LOCAL | SMTP_CMD_F_NO_BRACKETS;
	int done = 0;

	if (b->smtputf8)
		flags |= SMTP_CMD_F_UTF8;
	if (smtp_cmd_parse(line->data, line->len, BS_EXT, flags, &cmd) !=
	    SMTP_CMD_OK) {
		smtp_cmd_reply(&cmd, &reply);
		bs_reply("%s", buf_cstr(&reply));
		b->errors++;
		buf_free(&reply);
		smtp_cmd_free(&cmd);
		return 0;
	}
	switch (cmd.verb) {
	case SMTP_VERB_HELO:
	case SMTP_VERB_EHLO:
		bs_ehlo(b, cmd.verb == SMTP_VERB_EHLO);
		break;
	case SMTP_VERB_MAIL:
		bs_mail(b, &cmd);
		break;
	case SMTP_VERB_RCPT:
		bs_rcpt(b, &cmd);
		break;
	case SMTP_VERB_DATA:
		done = bs_data(b);
		break;
	case SMTP_VERB_RSET:
		bs_reset(b);
		bs_reply("250 2.0.0 Ok");
		break;
	case SMTP_VERB_NOOP:
		bs_reply("250 2.0.0 Ok");
		break;
	case SMTP_VERB_QUIT:
		bs_reply("221 2.0.0 Bye");
		done = 1;
		break;
	case SMTP_VERB_VRFY:
		bs_reply("252 2.0.0 Cannot VRFY: the mail system is down");
		break;
	case SMTP_VERB_HELP:
		bs_reply("214 2.0.0 The mail system is down; messages are kept "
			 "until it is back");
		break;
	default: /* EXPN, BDAT, STARTTLS, AUTH */
		bs_reply("502 5.5.1 Error: command not implemented");
		b->errors++;
		break;
	}
	smtp_cmd_free(&cmd);
	return done;
}

int
bs_standalone(void)
{
	struct bs b;
	struct buf line = BUF_INIT;
	int done = 0, st;

	memset(&b, 0, sizeof(b));
	stream_init(&b.in, 0, SENDMAIL_SMTP_TIMEOUT_MS);
	queue_envelope_init(&b.env);
	b.size_limit = sendmail_conf.message_size_limit;
	b.rcpt_limit = sendmail_conf.smtpd_recipient_limit;
	bs_reply("220 %s ESMTP Panacea (sendmail -bs: the mail system is "
		 "down, mail is kept until it is back)",
		 sendmail_conf.myhostname);
	/* A line cut by the end of input is no command (STREAM_IOERR). */
	while (done == 0 &&
	       (st = stream_getline(&b.in, &line, BS_LINE_MAX)) > 0) {
		if (st == STREAM_TOO_LONG) {
			bs_reply("500 5.5.2 Error: line too long");
			b.errors++;
		} else {
			done = bs_command(&b, &line);
		}
		if (done == 0 && b.errors >= BS_ERROR_LIMIT) {
			bs_reply("421 4.7.0 %s Error: too many errors",
				 sendmail_conf.myhostname);
			break;
		}
	}
	if (done == 0 && stream_error(&b.in) == STREAM_TIMEOUT)
		bs_timeout();
	bs_reset(&b);
	queue_envelope_free(&b.env);
	stream_free(&b.in);
	buf_free(&line);
	return EX_OK;
}
