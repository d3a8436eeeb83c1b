/*
 * sendmail - the sendmail(8) interface, as Postfix implements it.
 *
 * sendmail [options] [recipient ...]      (also run as mailq, newaliases)
 *
 * Modes: -bm (default) reads a message on standard input and submits it;
 * -bs speaks SMTP on standard input/output; -bp lists the queue (mailq);
 * -bi builds the alias tables (newaliases, also -I); -bv checks each
 * recipient with the server and prints the answer; -q flushes the queue,
 * -qRsite one destination, -qIqueueid one message.  Options: -t takes
 * recipients from To/Cc/Bcc (Resent-* when present) in addition to the
 * command line; -i / -oi: a line with a lone "." does not end the
 * message; -f / -r sender; -F full name; -N dsn (never, or success,
 * delay, failure); -R full|hdrs; -V envid; -B 8BITMIME|7BIT; -C config;
 * -v shows the SMTP dialogue.  Other sendmail options (-G -L -O -U -X -c
 * -e -h -m -n -o* -p -x) are accepted and ignored, as Postfix does.
 *
 * The message: a leading "From " line is dropped, lines end in CRLF,
 * Bcc:/Resent-Bcc: are removed, and From:, Date: and Message-ID: are
 * added when missing (From: with -F or the account's full name).
 * Unqualified addresses get @$myorigin; the default sender is the login
 * name of the calling uid.
 *
 * Submission is SMTP over $queue_directory/public/submit to smtpd, which
 * learns the caller's uid from the kernel (SO_PEERCRED), never from us.
 * When that socket does not answer (the mail system is down), the message
 * goes into $queue_directory/maildrop/ (lib/maildrop.h) and pickup queues
 * it when the system comes back.  With -bs sendmail then answers the SMTP
 * dialogue itself and keeps each message there (smtp_standalone()).
 *
 * Exit status (sysexits.h): 0; EX_USAGE bad arguments or no recipient;
 * EX_DATAERR a refused or oversized message or a bad address; EX_NOUSER
 * a recipient refused; EX_UNAVAILABLE the service cannot be used;
 * EX_TEMPFAIL try again later; EX_SOFTWARE/EX_OSERR/EX_IOERR otherwise.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "cli.h"
#include "conf.h"
#include "iostuff.h"
#include "maildrop.h"
#include "msg.h"
#include "received.h"
#include "smtp_cmd.h"
#include "smtp_data.h"
#include "sock.h"
#include "strutil.h"
#include "xalloc.h"
#include "xtext.h"

#define USAGE                                                                  \
	"sendmail [-bm|-bs|-bp|-bi|-bv] [-t] [-i] [-f sender] [-F name] "      \
	"[-N dsn] [-R ret] [-V envid] [-C config] [-v] [-q[Rsite|Iid]] "       \
	"[recipient ...]"
#define SMTP_TIMEOUT_MS (300 * 1000)
#define REPLY_LINE_MAX 2048
#define REPLY_LINES_MAX 100
#define HEADER_MAX (1024 * 1024)

enum mode {
	MODE_DELIVER,
	MODE_SMTP,
	MODE_LIST,
	MODE_ALIASES,
	MODE_FLUSH,
	MODE_VERIFY,
	MODE_NOTHING
};

struct opts {
	enum mode mode;
	const char *config_dir;
	const char *sender; /* -f, -r; NULL: the caller */
	const char *fullname;
	unsigned notify;
	enum queue_dsn_ret ret;
	const char *envid;
	int body_8bit; /* -B 8BITMIME */
	int extract;
	int ignore_dots;
	int verbose;
	const char *flush_site;
	const char *flush_id;
};

/* A message read from standard input. */
struct message {
	struct buf out; /* the message to submit, CRLF lines */
	char **rcpts;	/* envelope recipients, qualified */
	size_t nrcpt, cap;
	int has_8bit;
	int utf8_addr;
};

static int verbose;

/* Arguments. */

static unsigned
parse_notify(const char *s)
{
	unsigned bits = 0;
	int n;
	char **words = str_split(s, ",", &n);

	for (int i = 0; i < n; i++) {
		char *w = str_trim(words[i]);
		if (str_casecmp(w, "never") == 0)
			bits |= QUEUE_NOTIFY_NEVER;
		else if (str_casecmp(w, "success") == 0)
			bits |= QUEUE_NOTIFY_SUCCESS;
		else if (str_casecmp(w, "failure") == 0)
			bits |= QUEUE_NOTIFY_FAILURE;
		else if (str_casecmp(w, "delay") == 0)
			bits |= QUEUE_NOTIFY_DELAY;
		else
			bits = ~0u;
	}
	str_list_free(words);
	if (n == 0 || bits == ~0u ||
	    ((bits & QUEUE_NOTIFY_NEVER) && bits != QUEUE_NOTIFY_NEVER)) {
		fprintf(stderr, "sendmail: bad -N value: %s\n", s);
		cli_usage(USAGE);
	}
	return bits;
}

static void
set_mode(struct opts *o, const char *arg)
{
	if (strcmp(arg, "m") == 0)
		o->mode = MODE_DELIVER;
	else if (strcmp(arg, "s") == 0)
		o->mode = MODE_SMTP;
	else if (strcmp(arg, "p") == 0)
		o->mode = MODE_LIST;
	else if (strcmp(arg, "i") == 0)
		o->mode = MODE_ALIASES;
	else if (strcmp(arg, "v") == 0)
		o->mode = MODE_VERIFY;
	else if (strcmp(arg, "d") == 0 || strcmp(arg, "D") == 0 ||
		 strcmp(arg, "h") == 0 || strcmp(arg, "H") == 0) {
		fprintf(stderr,
			"sendmail: unsupported: -b%s (start the mail system "
			"with \"panacea start\")\n",
			arg);
		exit(EX_UNAVAILABLE);
	} else {
		fprintf(stderr, "sendmail: unsupported: -b%s\n", arg);
		cli_usage(USAGE);
	}
}

static void
set_flush(struct opts *o, const char *arg)
{
	if (arg == NULL || *arg == '\0') {
		o->mode = MODE_FLUSH;
	} else if (arg[0] == 'R' && arg[1]) {
		o->mode = MODE_FLUSH;
		o->flush_site = arg + 1;
	} else if (arg[0] == 'I' && arg[1]) {
		o->mode = MODE_FLUSH;
		o->flush_id = arg + 1;
	} else {
		/* -q30m: a queue run interval, meaningless here (qmgr
		 * runs the queue itself). */
		o->mode = MODE_NOTHING;
	}
}

static void
set_config(struct opts *o, const char *arg)
{
	struct stat st;

	/* -C takes a file (sendmail.cf style) or a folder. */
	if (stat(arg, &st) == 0 && !S_ISDIR(st.st_mode)) {
		char *dir = xstrdup(arg);
		char *slash = strrchr(dir, '/');
		if (slash == NULL)
			strcpy(dir, ".");
		else if (slash == dir)
			dir[1] = '\0';
		else
			*slash = '\0';
		o->config_dir = dir;
	} else {
		o->config_dir = arg;
	}
}

static void
parse_args(int argc, char **argv, struct opts *o)
{
	int c;

	opterr = 0;
	/* '+': recipients end the options; ':' reports missing arguments. */
	while (
	    (c = getopt(argc, argv,
			"+:A:B:C:F:GIL:N:O:R:UV:X:b:ce:f:h:imno:p:q::r:tvx")) !=
	    -1) {
		switch (c) {
		case 'B':
			o->body_8bit = str_casecmp(optarg, "8BITMIME") == 0;
			break;
		case 'C':
			set_config(o, optarg);
			break;
		case 'F':
			o->fullname = optarg;
			break;
		case 'I':
			o->mode = MODE_ALIASES;
			break;
		case 'N':
			o->notify = parse_notify(optarg);
			break;
		case 'R':
			if (str_casecmp(optarg, "full") == 0)
				o->ret = QUEUE_RET_FULL;
			else if (str_casecmp(optarg, "hdrs") == 0)
				o->ret = QUEUE_RET_HDRS;
			else {
				fprintf(stderr, "sendmail: bad -R value: %s\n",
					optarg);
				cli_usage(USAGE);
			}
			break;
		case 'V':
			if (strlen(optarg) > 100 ||
			    !xtext_valid(optarg, strlen(optarg))) {
				fprintf(stderr, "sendmail: bad -V value\n");
				cli_usage(USAGE);
			}
			o->envid = optarg;
			break;
		case 'b':
			set_mode(o, optarg);
			break;
		case 'f':
		case 'r':
			o->sender = optarg;
			break;
		case 'i':
			o->ignore_dots = 1;
			break;
		case 'o':
			if (strcmp(optarg, "i") == 0)
				o->ignore_dots = 1;
			break;
		case 'q':
			set_flush(o, optarg);
			break;
		case 't':
			o->extract = 1;
			break;
		case 'v':
			o->verbose++;
			break;
		case ':':
			fprintf(stderr,
				"sendmail: option requires an "
				"argument -- '%c'\n",
				optopt);
			cli_usage(USAGE);
		default:
			/* -A -G -L -O -U -X -c -e -h -m -n -p -x and
			 * unknown letters: ignored, as Postfix does. */
			break;
		}
	}
}

/* Addresses. */

/*
 * Checks and qualifies one address: "" stays the null address when
 * null_ok; a bare local part gets @$myorigin.  Returns the canonical
 * form (xmalloc'ed) or NULL.
 */
static char *
qualify(const char *s, int null_ok)
{
	struct buf path = BUF_INIT;
	struct addr a;
	size_t len = strlen(s);
	char *out = NULL;

	if (len >= 2 && s[0] == '<' && s[len - 1] == '>') {
		s++;
		len -= 2;
	}
	if (len == 0)
		return null_ok ? xstrdup("") : NULL;
	buf_printf(&path, "<%.*s>", (int)len, s);
	if (addr_parse(path.data, path.len, ADDR_F_BARE_LOCAL | ADDR_F_UTF8,
		       &a) == ADDR_OK) {
		buf_reset(&path);
		if (a.flags & ADDR_NO_DOMAIN)
			buf_printf(&path, "%s@%s", a.addr,
				   conf_str("myorigin"));
		else
			buf_puts(&path, a.addr);
		out = buf_steal(&path);
	}
	buf_free(&path);
	return out;
}

static void
add_rcpt(struct message *m, const char *raw)
{
	char *a = qualify(raw, 0);

	if (a == NULL) {
		fprintf(stderr, "sendmail: bad recipient address: %s\n", raw);
		exit(EX_DATAERR);
	}
	for (size_t i = 0; i < m->nrcpt; i++) {
		if (strcmp(m->rcpts[i], a) == 0) {
			xfree(a);
			return;
		}
	}
	if (m->nrcpt == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 16;
		m->rcpts = xreallocarray(m->rcpts, m->cap, sizeof(char *));
	}
	for (const char *p = a; *p; p++)
		if ((unsigned char)*p >= 0x80)
			m->utf8_addr = 1;
	m->rcpts[m->nrcpt++] = a;
}

/* Strips the route of "<@a,@b:user@c>". */
static void
add_extracted(struct message *m, struct buf *text, int angle)
{
	char *s = str_trim((char *)buf_cstr(text));

	if (angle && *s == '@' && strchr(s, ':'))
		s = strchr(s, ':') + 1;
	if (*s)
		add_rcpt(m, s);
	buf_reset(text);
}

/*
 * The addresses of an RFC 5322 address-list: "Name <a@b>", "a@b (Name)",
 * groups "list: a@b, c@d;", quoted strings and nested comments.
 */
static void
extract_addresses(struct message *m, const char *v)
{
	struct buf cur = BUF_INIT, angle = BUF_INIT;
	int depth = 0, quote = 0, in_angle = 0, has_angle = 0;

	for (; *v; v++) {
		char c = *v;
		struct buf *to = in_angle ? &angle : &cur;
		if (quote) {
			buf_putc(to, c);
			if (c == '\\' && v[1])
				buf_putc(to, *++v);
			else if (c == '"')
				quote = 0;
		} else if (depth > 0) {
			if (c == '\\' && v[1])
				v++;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
		} else if (c == '(') {
			depth = 1;
			buf_putc(to, ' ');
		} else if (c == '"') {
			quote = 1;
			buf_putc(to, c);
		} else if (in_angle) {
			if (c == '>')
				in_angle = 0;
			else
				buf_putc(&angle, c);
		} else if (c == '<') {
			in_angle = has_angle = 1;
			buf_reset(&angle);
		} else if (c == ':' && !has_angle) {
			buf_reset(&cur); /* a group's display name */
		} else if (c == ',' || c == ';') {
			add_extracted(m, has_angle ? &angle : &cur, has_angle);
			buf_reset(&cur);
			has_angle = 0;
		} else {
			buf_putc(&cur, c);
		}
	}
	add_extracted(m, has_angle ? &angle : &cur, has_angle);
	buf_free(&cur);
	buf_free(&angle);
}

/* The message. */

struct header {
	char *text; /* the whole field, continuation lines joined by "\n" */
	size_t name_len;
};

static int
is_field_name_char(int c)
{
	return c > 32 && c < 127 && c != ':';
}

/* The length of the field name when line starts a header field, else 0. */
static size_t
field_name_len(const char *line)
{
	size_t n = 0;

	while (is_field_name_char((unsigned char)line[n]))
		n++;
	/* "Name :" (obsolete syntax) is accepted too. */
	size_t k = n;
	while (line[k] == ' ' || line[k] == '\t')
		k++;
	return n > 0 && line[k] == ':' ? n : 0;
}

static int
header_is(const struct header *h, const char *name)
{
	return h->name_len == strlen(name) &&
	       str_ncasecmp(h->text, name, h->name_len) == 0;
}

static const char *
header_value(const struct header *h)
{
	return strchr(h->text, ':') + 1;
}

/* Reads standard input (bounded) into lines without their ends. */
static char **
read_lines(const struct opts *o, size_t *count)
{
	long long limit = conf_size("message_size_limit");
	struct buf in = BUF_INIT;
	char **lines = NULL;
	size_t n = 0, cap = 0, start = 0;
	char block[65536];
	ssize_t r;

	while ((r = read(0, block, sizeof(block))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "sendmail: read standard input: %s\n",
				strerror(errno));
			exit(EX_IOERR);
		}
		buf_append(&in, block, (size_t)r);
		if (limit > 0 && in.len > (size_t)limit) {
			fprintf(stderr, "sendmail: message file too big\n");
			exit(EX_DATAERR);
		}
		/* Without -i a lone "." ends the message: stop reading. */
		if (!o->ignore_dots) {
			const char *d = in.data;
			int dot = (in.len >= 2 && memcmp(d, ".\n", 2) == 0) ||
				  (in.len >= 3 && memcmp(d, ".\r\n", 3) == 0);
			if (dot || memmem(d, in.len, "\n.\n", 3) ||
			    memmem(d, in.len, "\n.\r\n", 4))
				break;
		}
	}
	for (size_t i = 0; i <= in.len; i++) {
		if (i < in.len && in.data[i] != '\n')
			continue;
		if (i == in.len && i == start)
			break;
		size_t end = i;
		if (end > start && in.data[end - 1] == '\r')
			end--;
		if (!o->ignore_dots && end - start == 1 &&
		    in.data[start] == '.')
			break;
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			lines = xreallocarray(lines, cap, sizeof(char *));
		}
		lines[n++] = xstrndup(in.data + start, end - start);
		start = i + 1;
	}
	buf_free(&in);
	*count = n;
	return lines;
}

static void
quote_phrase(struct buf *out, const char *s)
{
	int plain = 1;

	for (const char *p = s; *p; p++)
		if (!(((unsigned char)*p >= 0x80) ||
		      strchr(" !#$%&'*+-/=?^_`{|}~", *p) ||
		      (*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= 'a' && *p <= 'z')))
			plain = 0;
	if (plain) {
		buf_puts(out, s);
		return;
	}
	buf_putc(out, '"');
	for (const char *p = s; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_putc(out, '\\');
		if (*p != '\r' && *p != '\n')
			buf_putc(out, *p);
	}
	buf_putc(out, '"');
}

/* From:, Date:, Message-ID: when the message has none. */
static void
add_missing_headers(struct message *m, const struct opts *o, const char *sender,
		    const char *gecos, int has_from, int has_date,
		    int has_msgid)
{
	time_t now = time(NULL);

	if (!has_from) {
		const char *name = o->fullname ? o->fullname : gecos;
		buf_puts(&m->out, "From: ");
		if (name && *name) {
			quote_phrase(&m->out, name);
			buf_printf(&m->out, " <%s>\r\n", sender);
		} else {
			buf_printf(&m->out, "%s\r\n",
				   *sender ? sender : "MAILER-DAEMON");
		}
	}
	if (!has_date) {
		buf_puts(&m->out, "Date: ");
		received_date(&m->out, now);
		buf_puts(&m->out, "\r\n");
	}
	if (!has_msgid) {
		char id[QUEUE_ID_SIZE], stamp[32];
		struct tm tm;
		queue_id_new(id, NULL);
		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
		buf_printf(&m->out, "Message-ID: <%s.%s@%s>\r\n", stamp, id,
			   conf_str("myhostname"));
	}
}

/*
 * Reads the message, keeps its header fields apart, extracts recipients
 * with -t and writes the message to submit into m->out.
 */
static void
read_message(struct message *m, const struct opts *o, const char *sender,
	     const char *gecos)
{
	size_t nlines, i = 0, nh = 0, hsize = 0;
	char **lines = read_lines(o, &nlines);
	struct header *h = xcalloc(nlines + 1, sizeof(*h));
	int has_from = 0, has_date = 0, has_msgid = 0, resent = 0;

	if (nlines > 0 && strncmp(lines[0], "From ", 5) == 0)
		i = 1; /* an mbox separator, not a header */
	for (; i < nlines; i++) {
		size_t nl;
		if (nh > 0 && (lines[i][0] == ' ' || lines[i][0] == '\t')) {
			struct buf t = BUF_INIT;
			buf_printf(&t, "%s\n%s", h[nh - 1].text, lines[i]);
			xfree(h[nh - 1].text);
			h[nh - 1].text = buf_steal(&t);
		} else if ((nl = field_name_len(lines[i])) > 0) {
			h[nh].text = xstrdup(lines[i]);
			h[nh++].name_len = nl;
		} else {
			break;
		}
		hsize += strlen(lines[i]);
		if (hsize > HEADER_MAX) {
			fprintf(stderr, "sendmail: message header too big\n");
			exit(EX_DATAERR);
		}
	}
	for (size_t k = 0; k < nh; k++) {
		has_from |= header_is(&h[k], "From");
		has_date |= header_is(&h[k], "Date");
		has_msgid |= header_is(&h[k], "Message-ID");
		resent |= header_is(&h[k], "Resent-To") ||
			  header_is(&h[k], "Resent-Cc") ||
			  header_is(&h[k], "Resent-Bcc");
	}
	for (size_t k = 0; k < nh; k++) {
		int bcc =
		    header_is(&h[k], "Bcc") || header_is(&h[k], "Resent-Bcc");
		if (o->extract && (resent ? header_is(&h[k], "Resent-To") ||
						header_is(&h[k], "Resent-Cc") ||
						header_is(&h[k], "Resent-Bcc")
					  : header_is(&h[k], "To") ||
						header_is(&h[k], "Cc") ||
						header_is(&h[k], "Bcc")))
			extract_addresses(m, header_value(&h[k]));
		if (!bcc) {
			/* Continuation lines keep their place. */
			for (const char *p = h[k].text; *p; p++) {
				if (*p == '\n')
					buf_putc(&m->out, '\r');
				buf_putc(&m->out, *p);
			}
			buf_puts(&m->out, "\r\n");
		}
		xfree(h[k].text);
	}
	add_missing_headers(m, o, sender, gecos, has_from, has_date, has_msgid);
	buf_puts(&m->out, "\r\n");
	if (i < nlines && lines[i][0] == '\0')
		i++; /* the original separator */
	for (; i < nlines; i++) {
		buf_puts(&m->out, lines[i]);
		buf_puts(&m->out, "\r\n");
	}
	for (size_t k = 0; k < nlines; k++)
		xfree(lines[k]);
	xfree(lines);
	xfree(h);
	for (size_t k = 0; k < m->out.len; k++)
		if ((unsigned char)m->out.data[k] >= 0x80)
			m->has_8bit = 1;
}

/* SMTP to public/submit. */

struct smtp {
	int fd;
	struct buf in;
	struct buf reply; /* the last reply's text, lines joined by "; " */
	int code;
};

static int
smtp_connect(struct smtp *s)
{
	struct buf path = BUF_INIT;

	memset(s, 0, sizeof(*s));
	buf_init(&s->in);
	buf_init(&s->reply);
	cli_public_path(&path, "submit");
	s->fd = sock_connect_unix(buf_cstr(&path), 10000);
	if (s->fd < 0 && verbose)
		fprintf(stderr, "sendmail: connect to %s: %s\n",
			buf_cstr(&path), strerror(errno));
	buf_free(&path);
	return s->fd < 0 ? -1 : 0;
}

static void
smtp_close(struct smtp *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	buf_free(&s->in);
	buf_free(&s->reply);
}

/* One reply line; 0 or -1. */
static int
smtp_line(struct smtp *s, struct buf *line)
{
	char block[4096];
	char *nl;
	ssize_t n;

	while ((nl = s->in.len ? memchr(s->in.data, '\n', s->in.len) : NULL) ==
	       NULL) {
		if (s->in.len > REPLY_LINE_MAX)
			return -1;
		n = io_read_timeout(s->fd, block, sizeof(block),
				    SMTP_TIMEOUT_MS);
		if (n <= 0)
			return -1;
		buf_append(&s->in, block, (size_t)n);
	}
	buf_reset(line);
	buf_append(line, s->in.data, (size_t)(nl - s->in.data));
	if (line->len && line->data[line->len - 1] == '\r')
		buf_truncate(line, line->len - 1);
	buf_consume(&s->in, (size_t)(nl - s->in.data) + 1);
	return 0;
}

/* Reads a whole reply; its code, or -1 on a broken connection. */
static int
smtp_reply(struct smtp *s)
{
	struct buf line = BUF_INIT;
	int lines = 0;

	buf_reset(&s->reply);
	s->code = -1;
	while (lines++ < REPLY_LINES_MAX && smtp_line(s, &line) == 0) {
		const char *t = buf_cstr(&line);
		if (verbose)
			fprintf(stderr, "<<< %s\n", t);
		if (line.len < 3 || t[0] < '2' || t[0] > '5' || t[1] < '0' ||
		    t[1] > '9' || t[2] < '0' || t[2] > '9')
			break;
		if (s->reply.len)
			buf_puts(&s->reply, "; ");
		buf_puts(&s->reply, line.len > 4 ? t + 4 : "");
		if (line.len == 3 || t[3] == ' ') {
			s->code = (t[0] - '0') * 100 + (t[1] - '0') * 10 +
				  (t[2] - '0');
			break;
		}
	}
	buf_free(&line);
	return s->code;
}

static int smtp_send(struct smtp *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
smtp_send(struct smtp *s, const char *fmt, ...)
{
	struct buf cmd = BUF_INIT;
	va_list ap;
	int r;

	va_start(ap, fmt);
	buf_vprintf(&cmd, fmt, ap);
	va_end(ap);
	if (verbose)
		fprintf(stderr, ">>> %s\n", buf_cstr(&cmd));
	buf_puts(&cmd, "\r\n");
	r = io_write_full(s->fd, cmd.data, cmd.len, SMTP_TIMEOUT_MS);
	buf_free(&cmd);
	return r < 0 ? -1 : smtp_reply(s);
}

/* Greeting and EHLO; 0, or -1 (the server is not usable). */
static int
smtp_hello(struct smtp *s)
{
	if (smtp_reply(s) != 220)
		return -1;
	return smtp_send(s, "EHLO localhost") == 250 ? 0 : -1;
}

static int
status_of(int code, int permanent)
{
	if (code < 0 || code / 100 == 4)
		return EX_TEMPFAIL;
	return permanent;
}

/* The content, dot-stuffed, then the final dot. */
static int
smtp_data(struct smtp *s, const struct buf *msg)
{
	struct buf out = BUF_INIT;
	int at_start = 1, r;

	for (size_t i = 0; i < msg->len; i++) {
		if (at_start && msg->data[i] == '.')
			buf_putc(&out, '.');
		buf_putc(&out, msg->data[i]);
		at_start = msg->data[i] == '\n';
	}
	if (!at_start)
		buf_puts(&out, "\r\n");
	buf_puts(&out, ".\r\n");
	r = io_write_full(s->fd, out.data, out.len, SMTP_TIMEOUT_MS);
	buf_free(&out);
	return r < 0 ? -1 : smtp_reply(s);
}

static void
mail_params(struct buf *p, const struct message *m, const struct opts *o)
{
	if (m->has_8bit || o->body_8bit)
		buf_puts(p, " BODY=8BITMIME");
	if (m->utf8_addr)
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

/* The SMTP transaction after EHLO; an exit status. */
static int
submit_smtp(struct smtp *s, const struct message *m, const struct opts *o,
	    const char *sender)
{
	struct buf params = BUF_INIT, np = BUF_INIT;
	int accepted = 0, status = EX_OK, code;

	mail_params(&params, m, o);
	code = smtp_send(s, "MAIL FROM:<%s>%s", sender, buf_cstr(&params));
	buf_free(&params);
	if (code != 250) {
		fprintf(stderr, "sendmail: sender <%s> refused: %d %s\n",
			sender, code, buf_cstr(&s->reply));
		return status_of(code, EX_DATAERR);
	}
	notify_param(&np, o->notify);
	for (size_t i = 0; i < m->nrcpt; i++) {
		code =
		    smtp_send(s, "RCPT TO:<%s>%s", m->rcpts[i], buf_cstr(&np));
		if (code / 100 == 2) {
			accepted++;
			continue;
		}
		fprintf(stderr, "sendmail: recipient <%s> refused: %d %s\n",
			m->rcpts[i], code, buf_cstr(&s->reply));
		if (code < 0) {
			buf_free(&np);
			return EX_TEMPFAIL;
		}
		if (status == EX_OK || status == EX_NOUSER)
			status = status_of(code, EX_NOUSER);
	}
	buf_free(&np);
	if (accepted == 0) {
		smtp_send(s, "QUIT");
		return status;
	}
	code = smtp_send(s, "DATA");
	if (code == 354)
		code = smtp_data(s, &m->out);
	if (code != 250) {
		fprintf(stderr, "sendmail: message refused: %d %s\n", code,
			buf_cstr(&s->reply));
		return status_of(code, EX_DATAERR);
	}
	if (o->verbose)
		fprintf(stderr, "sendmail: %s\n", buf_cstr(&s->reply));
	smtp_send(s, "QUIT");
	return status;
}

/*
 * Keeps a message in maildrop/ and nudges pickup (in case master came
 * back meanwhile; otherwise pickup finds it when it starts).  0 and the
 * file's id, or -1 with the reason in err.
 */
static int
maildrop_keep(const struct queue_envelope *env, const struct buf *content,
	      char id[QUEUE_ID_SIZE], struct buf *err)
{
	struct buf dir = BUF_INIT, path = BUF_INIT;
	int r, fd;

	buf_printf(&dir, "%s/maildrop", conf_str("queue_directory"));
	r = maildrop_write(buf_cstr(&dir), env, content->data, content->len, id,
			   err);
	if (r == 0) {
		cli_public_path(&path, "pickup");
		if ((fd = sock_connect_unix(buf_cstr(&path), 1000)) >= 0) {
			/* A lost nudge is harmless: pickup's timer. */
			(void)!write(fd, "W", 1);
			close(fd);
		}
	}
	buf_free(&dir);
	buf_free(&path);
	return r;
}

/* The mail system is down: maildrop/. */
static int
submit_maildrop(const struct message *m, const struct opts *o,
		const char *sender)
{
	struct queue_envelope env;
	struct buf err = BUF_INIT;
	char id[QUEUE_ID_SIZE];
	int r;

	queue_envelope_init(&env);
	queue_str_set(&env.sender, sender);
	queue_str_set(&env.envid, o->envid);
	env.ret = o->ret;
	if (m->has_8bit || o->body_8bit)
		env.flags |= QUEUE_FLAG_8BITMIME;
	if (m->utf8_addr)
		env.flags |= QUEUE_FLAG_SMTPUTF8;
	for (size_t i = 0; i < m->nrcpt; i++)
		queue_envelope_add_rcpt(&env, m->rcpts[i], NULL, o->notify);
	r = maildrop_keep(&env, &m->out, id, &err);
	queue_envelope_free(&env);
	if (r < 0)
		fprintf(stderr,
			"sendmail: the mail system is down and the message "
			"cannot be kept: %s\n",
			buf_cstr(&err));
	else if (o->verbose)
		fprintf(stderr,
			"sendmail: mail system down: kept as "
			"maildrop/%s\n",
			id);
	buf_free(&err);
	return r < 0 ? EX_TEMPFAIL : EX_OK;
}

static int
deliver(const struct opts *o, int argc, char **argv, const char *sender,
	const char *gecos)
{
	struct message m;
	struct smtp s;
	int status;

	memset(&m, 0, sizeof(m));
	buf_init(&m.out);
	for (int i = 0; i < argc; i++)
		add_rcpt(&m, argv[i]);
	read_message(&m, o, sender, gecos);
	if (m.nrcpt == 0) {
		fprintf(stderr, "sendmail: no recipient addresses: give them "
				"on the command line or use -t\n");
		exit(EX_USAGE);
	}
	if (smtp_connect(&s) < 0 || smtp_hello(&s) < 0)
		status = submit_maildrop(&m, o, sender);
	else
		status = submit_smtp(&s, &m, o, sender);
	smtp_close(&s);
	for (size_t i = 0; i < m.nrcpt; i++)
		xfree(m.rcpts[i]);
	xfree(m.rcpts);
	buf_free(&m.out);
	return status;
}

/* -bv: asks the server about each recipient, sends nothing. */
static int
verify(const struct opts *o, int argc, char **argv, const char *sender)
{
	struct message m;
	struct smtp s;
	int status = EX_OK;

	memset(&m, 0, sizeof(m));
	for (int i = 0; i < argc; i++)
		add_rcpt(&m, argv[i]);
	if (m.nrcpt == 0)
		cli_usage(USAGE);
	if (smtp_connect(&s) < 0 || smtp_hello(&s) < 0) {
		fprintf(stderr, "sendmail: mail system is down\n");
		smtp_close(&s);
		return EX_UNAVAILABLE;
	}
	if (smtp_send(&s, "MAIL FROM:<%s>", sender) != 250) {
		fprintf(stderr, "sendmail: %s\n", buf_cstr(&s.reply));
		smtp_close(&s);
		return EX_TEMPFAIL;
	}
	for (size_t i = 0; i < m.nrcpt; i++) {
		int code = smtp_send(&s, "RCPT TO:<%s>", m.rcpts[i]);
		printf("%s: %s (%d %s)\n", m.rcpts[i],
		       code / 100 == 2 ? "deliverable" : "undeliverable", code,
		       buf_cstr(&s.reply));
		if (code / 100 != 2)
			status = status_of(code, EX_NOUSER);
		xfree(m.rcpts[i]);
	}
	xfree(m.rcpts);
	smtp_send(&s, "RSET");
	smtp_send(&s, "QUIT");
	smtp_close(&s);
	(void)o;
	return status;
}

/*
 * -bs while the mail system is down (public/submit does not answer): as
 * Postfix's sendmail -bs runs smtpd stand-alone, sendmail answers the
 * SMTP dialogue itself and keeps each message in maildrop/, exactly as
 * a message given with -bm is kept (the same file, the same trust: the
 * submitter is the file's owner).  What smtpd checks at RCPT (local
 * recipients, relaying) is left to the queue: an undeliverable
 * recipient bounces to the sender later.  A maildrop file holds one
 * NOTIFY for all its recipients and no ORCPT: a recipient whose NOTIFY
 * differs gets 452 (sent again in another transaction), ORCPT is
 * dropped.  Commands are bounded by
 * BS_LINE_MAX, the message by message_size_limit, recipients by
 * smtpd_recipient_limit, errors by BS_ERROR_LIMIT; every read waits at most
 * SMTP_TIMEOUT_MS.
 */
#define BS_LINE_MAX 2048
#define BS_ERROR_LIMIT 20
#define BS_EXT                                                                 \
	(SMTP_EXT_SIZE | SMTP_EXT_8BITMIME | SMTP_EXT_DSN | SMTP_EXT_SMTPUTF8)

enum bs_read { BS_LINE, BS_TOO_LONG, BS_EOF };

struct bs {
	struct buf in; /* read from stdin, not yet used */
	int skipping;  /* discarding the rest of a too long line */
	int in_mail;   /* MAIL given */
	int smtputf8;
	struct queue_envelope env;
	struct buf content; /* the message, CRLF lines, unstuffed */
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

/* One line of standard input without its end into line, at most max
 * bytes (longer lines are read to their end and reported). */
static enum bs_read
bs_getline(struct bs *b, struct buf *line, size_t max)
{
	char block[8192];
	char *nl;
	ssize_t n;

	for (;;) {
		nl = b->in.len ? memchr(b->in.data, '\n', b->in.len) : NULL;
		if (nl != NULL) {
			size_t len = (size_t)(nl - b->in.data);
			int skipped = b->skipping;
			b->skipping = 0;
			if (skipped || len > max + 1) {
				buf_consume(&b->in, len + 1);
				return BS_TOO_LONG;
			}
			buf_reset(line);
			buf_append(line, b->in.data, len);
			if (line->len && line->data[line->len - 1] == '\r')
				buf_truncate(line, line->len - 1);
			buf_consume(&b->in, len + 1);
			if (line->len > max)
				return BS_TOO_LONG;
			return BS_LINE;
		}
		if (b->in.len > max + 1) {
			buf_reset(&b->in);
			b->skipping = 1;
		}
		n = io_read_timeout(0, block, sizeof(block), SMTP_TIMEOUT_MS);
		if (n == 0 || (n < 0 && errno != ETIMEDOUT))
			return BS_EOF;
		if (n < 0) {
			bs_reply("421 4.4.2 %s Error: timeout exceeded",
				 conf_str("myhostname"));
			exit(EX_TEMPFAIL);
		}
		buf_append(&b->in, block, (size_t)n);
	}
}

static void
bs_reset(struct bs *b)
{
	if (b->in_mail)
		queue_envelope_free(&b->env);
	queue_envelope_init(&b->env);
	b->in_mail = 0;
	b->smtputf8 = 0;
	buf_reset(&b->content);
}

static void
bs_ehlo(struct bs *b, int ehlo)
{
	const char *me = conf_str("myhostname");

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
	if ((sender = qualify(cmd->path.addr, 1)) == NULL) {
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
	if ((rcpt = qualify(cmd->path.addr, 0)) == NULL) {
		bs_reply("501 5.1.3 Bad recipient address syntax");
		b->errors++;
		return;
	}
	queue_envelope_add_rcpt(&b->env, rcpt, cmd->orcpt, cmd->notify);
	xfree(rcpt);
	bs_reply("250 2.1.5 Ok");
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
	struct buf err = BUF_INIT;
	char id[QUEUE_ID_SIZE], block[8192];
	size_t used;
	ssize_t n;
	int status = 0;

	if (!b->in_mail || b->env.nrcpt == 0) {
		bs_reply("503 5.5.1 Error: need %s command",
			 b->in_mail ? "RCPT" : "MAIL");
		b->errors++;
		return 0;
	}
	bs_reply("354 End data with <CR><LF>.<CR><LF>");
	lim.size_limit = b->size_limit > 0 ? (uint64_t)b->size_limit : 0;
	smtp_data_init(&d, SMTP_DATA_MODE_DATA, &lim);
	for (;;) {
		used = smtp_data_feed(&d, b->in.data, b->in.len, &b->content);
		buf_consume(&b->in, used);
		if (smtp_data_done(&d))
			break;
		n = io_read_timeout(0, block, sizeof(block), SMTP_TIMEOUT_MS);
		if (n == 0 || (n < 0 && errno != ETIMEDOUT))
			return -1;
		if (n < 0) {
			bs_reply("421 4.4.2 %s Error: timeout exceeded",
				 conf_str("myhostname"));
			exit(EX_TEMPFAIL);
		}
		buf_append(&b->in, block, (size_t)n);
	}
	if (d.flags & SMTP_DATA_F_8BIT)
		b->env.flags |= QUEUE_FLAG_8BITMIME;
	if (d.flags & SMTP_DATA_F_BARE_LF) {
		bs_reply("521 5.5.2 %s Error: bare <LF> received",
			 conf_str("myhostname"));
		status = 1;
	} else if (d.flags & SMTP_DATA_F_TOO_BIG)
		bs_reply("552 5.3.4 Message size exceeds fixed limit");
	else if (maildrop_keep(&b->env, &b->content, id, &err) < 0)
		bs_reply("451 4.3.0 Error: cannot keep the message: %s",
			 buf_cstr(&err));
	else
		bs_reply("250 2.0.0 Ok: queued as %s (kept in maildrop: the "
			 "mail system is down)",
			 id);
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

static int
smtp_standalone(void)
{
	struct bs b;
	struct buf line = BUF_INIT;
	enum bs_read r;
	int done = 0;

	memset(&b, 0, sizeof(b));
	buf_init(&b.in);
	buf_init(&b.content);
	queue_envelope_init(&b.env);
	b.size_limit = conf_size("message_size_limit");
	b.rcpt_limit = conf_int("smtpd_recipient_limit");
	bs_reply("220 %s ESMTP Panacea (sendmail -bs: the mail system is "
		 "down, mail is kept until it is back)",
		 conf_str("myhostname"));
	while (done == 0 &&
	       (r = bs_getline(&b, &line, BS_LINE_MAX)) != BS_EOF) {
		if (r == BS_TOO_LONG) {
			bs_reply("500 5.5.2 Error: line too long");
			b.errors++;
		} else {
			done = bs_command(&b, &line);
		}
		if (done == 0 && b.errors >= BS_ERROR_LIMIT) {
			bs_reply("421 4.7.0 %s Error: too many errors",
				 conf_str("myhostname"));
			break;
		}
	}
	bs_reset(&b);
	queue_envelope_free(&b.env);
	buf_free(&b.in);
	buf_free(&b.content);
	buf_free(&line);
	return EX_OK;
}

/* -bs relay: whether the command line in b from start (without its end)
 * is DATA. */
static int
relay_is_data(const struct buf *b, size_t start)
{
	size_t len = b->len - start;

	while (len > 0 && (b->data[start + len - 1] == ' ' ||
			   b->data[start + len - 1] == '\t'))
		len--;
	return len == 4 && strncasecmp(b->data + start, "DATA", 4) == 0;
}

/*
 * -bs: the SMTP dialogue on stdin/stdout, relayed to smtpd.  Command lines
 * may end in <LF> alone; they reach smtpd with <CR><LF>.  After a DATA
 * command the bytes go to smtpd as they are, up to the end of data as
 * lib/smtp_data finds it (<CR><LF>.<CR><LF> only), so that a bare <LF>
 * in the content meets smtpd's own rule and "<LF>.<LF>" can never end a
 * message here and start another one in smtpd.
 */
static int
smtp_relay(void)
{
	struct smtp s;
	struct smtp_data d;
	struct smtp_data_limits no_limits = {0};
	struct buf out = BUF_INIT, discard = BUF_INIT;
	struct pollfd p[2];
	char block[8192];
	size_t cmd_start = 0; /* where the current command line starts */
	int in_open = 1, in_data = 0;

	if (smtp_connect(&s) < 0) {
		smtp_close(&s);
		return smtp_standalone();
	}
	for (;;) {
		p[0].fd = in_open ? 0 : -1;
		p[0].events = POLLIN;
		p[1].fd = s.fd;
		p[1].events = POLLIN;
		if (poll(p, 2, SMTP_TIMEOUT_MS) <= 0)
			break;
		if (p[1].revents) {
			ssize_t n = read(s.fd, block, sizeof(block));
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
			shutdown(s.fd, SHUT_WR);
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
		if (whole &&
		    io_write_full(s.fd, out.data, whole, SMTP_TIMEOUT_MS) < 0)
			break;
		buf_consume(&out, whole);
		cmd_start -= whole;
		if (out.len > 1024 * 1024)
			break;
	}
	smtp_close(&s);
	buf_free(&out);
	buf_free(&discard);
	return EX_OK;
}

int
main(int argc, char **argv)
{
	struct opts o;
	const char *name = strrchr(argv[0], '/');
	struct passwd *pw;
	char *sender, *gecos = NULL;
	int status;

	name = name ? name + 1 : argv[0];
	cli_help(argc, argv, USAGE);
	memset(&o, 0, sizeof(o));
	if (strcmp(name, "mailq") == 0)
		o.mode = MODE_LIST;
	else if (strcmp(name, "newaliases") == 0)
		o.mode = MODE_ALIASES;
	parse_args(argc, argv, &o);
	verbose = o.verbose;
	cli_init("sendmail", o.config_dir);
	msg_set_fatal_status(EX_TEMPFAIL);
	switch (o.mode) {
	case MODE_LIST:
		return cli_queue_listing(CLI_LIST_MAILQ);
	case MODE_ALIASES:
		return cli_newaliases();
	case MODE_NOTHING:
		return EX_OK;
	case MODE_FLUSH: {
		struct buf req = BUF_INIT;
		if (o.flush_site)
			buf_printf(&req, "S%s", o.flush_site);
		else if (o.flush_id)
			buf_printf(&req, "I%s", o.flush_id);
		else
			buf_puts(&req, "F");
		status = cli_qmgr_request(buf_cstr(&req));
		buf_free(&req);
		if (status < 0) {
			fprintf(stderr, "sendmail: Cannot flush mail queue - "
					"mail system is down\n");
			return EX_UNAVAILABLE;
		}
		return EX_OK;
	}
	case MODE_SMTP:
		return smtp_relay();
	default:
		break;
	}
	if ((pw = getpwuid(getuid())) == NULL) {
		fprintf(stderr, "sendmail: no login name for user ID %lu\n",
			(unsigned long)getuid());
		return EX_NOUSER;
	}
	if (pw->pw_gecos) {
		gecos = xstrdup(pw->pw_gecos);
		gecos[strcspn(gecos, ",")] = '\0';
	}
	sender = qualify(o.sender ? o.sender : pw->pw_name, o.sender != NULL);
	if (sender == NULL) {
		fprintf(stderr, "sendmail: bad sender address: %s\n",
			o.sender ? o.sender : pw->pw_name);
		return EX_DATAERR;
	}
	if (o.mode == MODE_VERIFY)
		status = verify(&o, argc - optind, argv + optind, sender);
	else
		status =
		    deliver(&o, argc - optind, argv + optind, sender, gecos);
	xfree(sender);
	xfree(gecos);
	return status;
}
