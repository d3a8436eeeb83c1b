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
 * dialogue itself and keeps each message there.
 *
 * This file parses the arguments and runs the mode; the roles live in
 * cli/sendmail/ (sendmail.h lists them).
 *
 * Exit status (sysexits.h): 0; EX_USAGE bad arguments or no recipient;
 * EX_DATAERR a refused or oversized message or a bad address; EX_NOUSER
 * a recipient refused; EX_UNAVAILABLE the service cannot be used;
 * EX_TEMPFAIL try again later; EX_SOFTWARE/EX_OSERR/EX_IOERR otherwise.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"
#include "conf.h"
#include "msg.h"
#include "sendmail/sendmail.h"
#include "strutil.h"
#include "xalloc.h"
#include "xtext.h"

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
		cli_usage(SENDMAIL_USAGE);
	}
	return bits;
}

static void
set_mode(struct sendmail_opts *o, const char *arg)
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
		cli_usage(SENDMAIL_USAGE);
	}
}

static void
set_flush(struct sendmail_opts *o, const char *arg)
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
set_config(struct sendmail_opts *o, const char *arg)
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
parse_args(int argc, char **argv, struct sendmail_opts *o)
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
				cli_usage(SENDMAIL_USAGE);
			}
			break;
		case 'V':
			if (strlen(optarg) > 100 ||
			    !xtext_valid(optarg, strlen(optarg))) {
				fprintf(stderr, "sendmail: bad -V value\n");
				cli_usage(SENDMAIL_USAGE);
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
			cli_usage(SENDMAIL_USAGE);
		default:
			/* -A -G -L -O -U -X -c -e -h -m -n -p -x and
			 * unknown letters: ignored, as Postfix does. */
			break;
		}
	}
}

/* Modes. */

/* -bm: the message to smtpd, or to maildrop/ while the system is down. */
static int
deliver(const struct sendmail_opts *o, int argc, char **argv,
	const char *sender, const char *gecos)
{
	struct message m;
	int status;

	memset(&m, 0, sizeof(m));
	m.spool_fd = -1;
	for (int i = 0; i < argc; i++)
		rcpt_list_add(&m.rcpts, argv[i]);
	message_read(&m, o, sender, gecos);
	if (m.rcpts.n == 0) {
		fprintf(stderr, "sendmail: no recipient addresses: give them "
				"on the command line or use -t\n");
		exit(EX_USAGE);
	}
	if (submit_message(&m, o, sender, &status) < 0)
		status = maildrop_submit(&m, o, sender);
	message_free(&m);
	return status;
}

/* -bv: asks the server about each recipient, sends nothing. */
static int
verify(const struct sendmail_opts *o, int argc, char **argv, const char *sender)
{
	struct rcpt_list rcpts;
	int status;

	memset(&rcpts, 0, sizeof(rcpts));
	for (int i = 0; i < argc; i++)
		rcpt_list_add(&rcpts, argv[i]);
	if (rcpts.n == 0)
		cli_usage(SENDMAIL_USAGE);
	status = submit_verify(o, &rcpts, sender);
	rcpt_list_free(&rcpts);
	return status;
}

struct sendmail_conf sendmail_conf;

/* Every parameter sendmail reads itself (the shared cli code reads
 * queue_directory and mail_owner on its own). */
static const struct conf_bind sendmail_params[] = {
    CONF_BIND_STR("myhostname", &sendmail_conf.myhostname),
    CONF_BIND_STR("myorigin", &sendmail_conf.myorigin),
    CONF_BIND_STR("queue_directory", &sendmail_conf.queue_directory),
    CONF_BIND_SIZE("message_size_limit", &sendmail_conf.message_size_limit),
    CONF_BIND_INT("smtpd_recipient_limit",
		  &sendmail_conf.smtpd_recipient_limit),
    CONF_BIND_END,
};

int
main(int argc, char **argv)
{
	struct sendmail_opts o;
	const char *name = strrchr(argv[0], '/');
	struct passwd *pw;
	char *sender, *gecos = NULL;
	int status;

	name = name ? name + 1 : argv[0];
	cli_help(argc, argv, SENDMAIL_USAGE);
	memset(&o, 0, sizeof(o));
	if (strcmp(name, "mailq") == 0)
		o.mode = MODE_LIST;
	else if (strcmp(name, "newaliases") == 0)
		o.mode = MODE_ALIASES;
	parse_args(argc, argv, &o);
	cli_init("sendmail", o.config_dir);
	conf_bind(sendmail_params);
	msg_set_fatal_status(EX_TEMPFAIL);
	switch (o.mode) {
	case MODE_LIST:
	case MODE_ALIASES:
	case MODE_FLUSH:
	case MODE_NOTHING:
		return sendmail_admin(&o);
	case MODE_SMTP:
		return bs_relay();
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
	sender = sendmail_qualify(o.sender ? o.sender : pw->pw_name,
				  o.sender != NULL);
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
