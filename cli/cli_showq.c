/*
 * cli_showq - the queue listing of mailq, panqueue -p/-j and sendmail
 * -bp; see cli.h.
 *
 * Who may list: authorized_mailq_users, by mailq_users.h (the rule showq
 * also applies to its peer, so that a refused user gains nothing by
 * talking to public/showq; when showq refuses what we allowed, its
 * denied record gets the same refusal).
 *
 * The listing comes from the showq service (lib/showq.h).  Root and
 * mail_owner, who may open the queue, read it directly when showq does
 * not answer (the mail system is down); anyone else is told so, as
 * postqueue does.  The output is Postfix's, byte for byte: mailq's
 * format with long queue ids (showq_compat.c: "%-17s %8ld %19.19s %s",
 * '*' after an active id, '!' after a held one, each distinct deferral
 * reason right-aligned in parentheses before its recipients, "-- N Kbytes
 * in M Requests." or "Mail queue is empty"), and postqueue -j's one JSON
 * object per line with its field names and string quoting.
 */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "cli.h"
#include "conf.h"
#include "iostuff.h"
#include "mailq_users.h"
#include "msg.h"
#include "priv.h"
#include "showq.h"
#include "sock.h"

#define L_STRING_FORMAT "%-17s %8s %-19s %s\n"
#define L_SENDER_FORMAT "%-17s %8lld %19.19s %s\n"

/* JSON string quoting as Postfix's showq_json: short escapes for common
 * control characters, \uXXXX for the others, '?' for invalid UTF-8. */
static void
json_string(FILE *fp, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	putc('"', fp);
	while (n > 0) {
		unsigned c = *p;
		size_t len = 1;
		if (c >= 0x80) {
			len = addr_utf8_seq(p, n);
			if (len == 0) {
				putc('?', fp);
				len = 1;
			} else {
				fwrite(p, 1, len, fp);
			}
		} else if (c == '\b') {
			fputs("\\b", fp);
		} else if (c == '\f') {
			fputs("\\f", fp);
		} else if (c == '\n') {
			fputs("\\n", fp);
		} else if (c == '\r') {
			fputs("\\r", fp);
		} else if (c == '\t') {
			fputs("\\t", fp);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(fp, "\\u%04X", c);
		} else {
			if (c == '\\' || c == '"')
				putc('\\', fp);
			putc((int)c, fp);
		}
		p += len;
		n -= len;
	}
	putc('"', fp);
}

/* Non-printable octets of a text for mailq's columns become '?'. */
static const char *
printable(const char *s, struct buf *tmp)
{
	buf_reset(tmp);
	for (; *s; s++)
		buf_putc(tmp,
			 (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
	return buf_cstr(tmp);
}

struct formatter {
	FILE *fp;
	enum cli_listing how;
	long long messages;
	unsigned long long bytes;
	int in_message;
	long long rcpts; /* of the current message */
	char *saved_reason;
	struct buf tmp;
};

static void
end_message(struct formatter *f)
{
	if (!f->in_message)
		return;
	if (f->how == CLI_LIST_JSON)
		fputs("]}\n", f->fp);
	free(f->saved_reason);
	f->saved_reason = NULL;
	f->in_message = 0;
}

static void
start_message(struct formatter *f, const struct showq_record *r)
{
	const char *queue = r->queue_name;
	long long size = r->message_size;

	end_message(f);
	f->in_message = 1;
	f->rcpts = 0;
	f->saved_reason = strdup("");
	if (f->how == CLI_LIST_JSON) {
		fputs("{\"queue_name\": ", f->fp);
		json_string(f->fp, queue);
		fputs(", \"queue_id\": ", f->fp);
		json_string(f->fp, r->queue_id);
		fprintf(f->fp,
			", \"arrival_time\": %lld, \"message_size\": %lld, "
			"\"force_expired\": %s, \"sender\": ",
			r->arrival_time, size,
			r->force_expired ? "true" : "false");
		json_string(f->fp, r->sender);
		fputs(", \"recipients\": [", f->fp);
	} else {
		char id[QUEUE_ID_SIZE + 2];
		time_t t = (time_t)r->arrival_time;
		char when[64];
		struct tm tm;
		if (f->messages == 0)
			fprintf(f->fp, L_STRING_FORMAT, "----Queue ID-----",
				"--Size--", "---Arrival Time----",
				"--Sender/Recipient------");
		else
			putc('\n', f->fp);
		snprintf(id, sizeof(id), "%.*s%s", QUEUE_ID_LEN, r->queue_id,
			 strcmp(queue, "active") == 0 ? "*"
			 : strcmp(queue, "hold") == 0 ? "!"
						      : "");
		localtime_r(&t, &tm);
		asctime_r(&tm, when);
		fprintf(f->fp, L_SENDER_FORMAT, id, size, when,
			printable(r->sender, &f->tmp));
	}
	f->messages++;
	f->bytes += size > 0 ? (unsigned long long)size : 0;
}

static void
recipient(struct formatter *f, const struct showq_record *r)
{
	const char *reason = r->reason;

	if (f->how == CLI_LIST_JSON) {
		fputs(f->rcpts ? ", {\"address\": " : "{\"address\": ", f->fp);
		json_string(f->fp, r->address);
		if (*reason) {
			fputs(", \"delay_reason\": ", f->fp);
			json_string(f->fp, reason);
		}
		putc('}', f->fp);
	} else {
		/* A reason line when it differs from the previous one's. */
		if (strcmp(f->saved_reason, reason) != 0) {
			const char *show =
			    *reason ? reason : "reason unavailable";
			int pad = 76 - (int)strlen(show);
			free(f->saved_reason);
			f->saved_reason = strdup(reason);
			fprintf(f->fp, "%*s(%s)\n", pad < 0 ? 0 : pad, "",
				printable(show, &f->tmp));
		}
		fprintf(f->fp, L_STRING_FORMAT, "", "", "",
			printable(r->address, &f->tmp));
	}
	f->rcpts++;
}

int
cli_format_listing(const char *data, size_t len, enum cli_listing how, FILE *fp)
{
	struct formatter f = {.fp = fp, .how = how, .tmp = BUF_INIT};
	struct buf why = BUF_INIT;
	int done = 0, bad = 0;

	while (len > 0 && !done && !bad) {
		struct showq_record r;
		size_t used;

		if (showq_record_decode(data, len, &r, &used, &why) != 0) {
			showq_record_free(&r);
			bad = 1;
			break;
		}
		data += used;
		len -= used;
		if (r.type == SHOWQ_MESSAGE)
			start_message(&f, &r);
		else if (r.type == SHOWQ_RCPT && f.in_message)
			recipient(&f, &r);
		else if (r.type == SHOWQ_END)
			done = 1;
		else
			bad = 1;
		showq_record_free(&r);
	}
	end_message(&f);
	if (done && how == CLI_LIST_MAILQ) {
		if (f.messages == 0)
			fputs("Mail queue is empty\n", fp);
		else
			fprintf(fp, "\n-- %llu Kbytes in %lld Request%s.\n",
				f.bytes / 1024, f.messages,
				f.messages == 1 ? "" : "s");
	}
	buf_free(&why);
	buf_free(&f.tmp);
	return done && !bad && len == 0 ? 0 : -1;
}

/* Reads the whole listing from the showq service; 0, or -1 when it
 * cannot be reached. */
static int
listing_from_showq(struct buf *out)
{
	struct buf path = BUF_INIT;
	char block[8192];
	ssize_t n;
	int fd;

	cli_public_path(&path, "showq");
	fd = sock_connect_unix(buf_cstr(&path), 5000);
	buf_free(&path);
	if (fd < 0)
		return -1;
	while ((n = io_read_timeout(fd, block, sizeof(block),
				    SHOWQ_TIMEOUT_MS)) > 0)
		buf_append(out, block, (size_t)n);
	close(fd);
	return 0;
}

/* Root or mail_owner: the listing straight from the queue. */
static int
listing_from_queue(struct buf *out)
{
	struct passwd *pw = getpwnam(conf_str("mail_owner"));
	struct buf drop = BUF_INIT;
	struct queue *q;
	int r;

	if (!priv_is_root() && (pw == NULL || pw->pw_uid != getuid()))
		return -1;
	q = cli_open_queue();
	buf_printf(&drop, "%s/maildrop", conf_str("queue_directory"));
	r = showq_build(q, buf_cstr(&drop), out);
	queue_close(q);
	buf_free(&drop);
	return r == QUEUE_OK ? 0 : -1;
}

/* authorized_mailq_users for the caller (mailq_users.h, the rule showq
 * applies to its peers); 1 allowed, 0 refused with name set. */
static int
mailq_allowed(uid_t uid, struct buf *name)
{
	struct buf err = BUF_INIT;
	struct mailq_users *m;
	int rc;

	m = mailq_users_open(conf_str("authorized_mailq_users"),
			     conf_str("mail_owner"), MAILQ_USERS_LIVE, &err);
	if (m == NULL)
		msg_fatal("%s", buf_cstr(&err));
	if ((rc = mailq_users_allow(m, uid, name, &err)) < 0)
		msg_fatal("authorized_mailq_users: lookup of %s: %s",
			  buf_cstr(name), buf_cstr(&err));
	mailq_users_free(m);
	buf_free(&err);
	return rc;
}

/* Postfix's postqueue refusal: on stderr, EX_NOPERM. */
static int
refused(const char *name, long uid)
{
	fprintf(stderr,
		"%s: fatal: User %s(%ld) is not allowed to view the mail "
		"queue\n",
		msg_progname(), name, uid);
	return EX_NOPERM;
}

/* Did showq refuse us (the denied record, mailq_users.h)?  Its rule is
 * ours, but its configuration or tables may say otherwise. */
static int
showq_refused(const struct buf *data, struct buf *name, long *uid)
{
	struct buf why = BUF_INIT;
	struct showq_record r;
	size_t used;
	int denied;

	denied =
	    showq_record_decode(data->data, data->len, &r, &used, &why) == 0 &&
	    r.type == SHOWQ_DENIED;
	if (denied) {
		buf_set(name, r.user);
		*uid = (long)r.uid;
	}
	showq_record_free(&r);
	buf_free(&why);
	return denied;
}

int
cli_queue_listing(enum cli_listing how)
{
	struct buf data = BUF_INIT, name = BUF_INIT;
	int status = EX_OK;
	long uid = (long)getuid();

	if (!mailq_allowed(getuid(), &name)) {
		status = refused(buf_cstr(&name), uid);
		buf_free(&name);
		return status;
	}
	fflush(stdout);
	if (listing_from_showq(&data) < 0 && listing_from_queue(&data) < 0) {
		fprintf(stderr,
			"%s: fatal: Queue report unavailable - mail "
			"system is down\n",
			msg_progname());
		buf_free(&data);
		buf_free(&name);
		return EX_UNAVAILABLE;
	}
	if (showq_refused(&data, &name, &uid)) {
		status = refused(buf_cstr(&name), uid);
	} else if (cli_format_listing(data.data, data.len, how, stdout) < 0) {
		fflush(stdout);
		msg_warn("malformed or incomplete showq server response");
		status = EX_SOFTWARE;
	}
	if (fflush(stdout) != 0 && errno != EPIPE)
		status = EX_IOERR;
	buf_free(&data);
	buf_free(&name);
	return status;
}
