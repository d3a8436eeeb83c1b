/*
 * sendmail's parts: what cli/sendmail.c (arguments and modes) shares with
 * the files of cli/sendmail/, one role each:
 *   address.c         recipients: qualifying, -t extraction from headers
 *   message.c         reading standard input into a spool file (-bm)
 *   spool.c           the anonymous file a message is kept in meanwhile
 *   submit.c          the SMTP client to smtpd over public/submit (-bm, -bv)
 *   relay.c           -bs relayed to smtpd while the system runs
 *   standalone.c      -bs answered here while the system is down
 *   maildrop_keep.c   keeping a message in maildrop/ and nudging pickup
 *   admin.c           mailq, newaliases and -q: requests to the daemons
 *
 * Memory is bounded for a message of any size: the header section is
 * held (at most SENDMAIL_HEADER_MAX bytes, to add missing fields and
 * extract recipients), the body streams through a spool file, and the
 * submission reads that file back in blocks.
 */
#ifndef PANACEA_SENDMAIL_H
#define PANACEA_SENDMAIL_H

#include <sys/types.h>

#include "queue.h"

#define SENDMAIL_USAGE                                                         \
	"sendmail [-bm|-bs|-bp|-bi|-bv] [-t] [-i] [-f sender] [-F name] "      \
	"[-N dsn] [-R ret] [-V envid] [-C config] [-v] [-q[Rsite|Iid]] "       \
	"[recipient ...]"
#define SENDMAIL_SMTP_TIMEOUT_MS (300 * 1000)
#define SENDMAIL_HEADER_MAX (1024 * 1024)

enum sendmail_mode {
	MODE_DELIVER,
	MODE_SMTP,
	MODE_LIST,
	MODE_ALIASES,
	MODE_FLUSH,
	MODE_VERIFY,
	MODE_NOTHING
};

/* The parameters sendmail reads, bound once at start (sendmail.c,
 * conf.h conf_bind): a misspelt or mistyped name stops it there. */
struct sendmail_conf {
	const char *myhostname;
	const char *myorigin;
	const char *queue_directory;
	long long message_size_limit;
	long long smtpd_recipient_limit;
};
extern struct sendmail_conf sendmail_conf;

struct sendmail_opts {
	enum sendmail_mode mode;
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

/* address.c: envelope recipients, qualified, without duplicates. */
struct rcpt_list {
	char **addrs;
	size_t n, cap;
	int utf8; /* one has a non-ASCII octet (SMTPUTF8) */
};

/* Checks and qualifies one address: "" stays the null address when
 * null_ok; a bare local part gets @$myorigin.  Returns the canonical form
 * (xmalloc'ed) or NULL. */
char *sendmail_qualify(const char *s, int null_ok);
/* Adds one address; a bad one ends the program (EX_DATAERR). */
void rcpt_list_add(struct rcpt_list *l, const char *raw);
/* Adds the addresses of an RFC 5322 address-list (a To: value). */
void rcpt_list_extract(struct rcpt_list *l, const char *value);
void rcpt_list_free(struct rcpt_list *l);

/* spool.c: an anonymous file (0600, unlinked) in $TMPDIR or /tmp, opened
 * for reading and writing, or -1 (errno set). */
int spool_create(void);

/* message.c: the message to submit, CRLF lines, not dot-stuffed, in the
 * spool file spool_fd (positioned at its start after message_read). */
struct message {
	struct rcpt_list rcpts;
	int spool_fd;
	off_t size;   /* bytes in the spool */
	int has_8bit; /* an octet >= 0x80 in it */
};

/*
 * Reads standard input up to its end (or a lone "." without -i): drops a
 * leading "From " line and Bcc:/Resent-Bcc:, adds From:, Date: and
 * Message-ID: when missing, takes recipients from the header with -t,
 * ends lines in CRLF.  Errors end the program with their exit status.
 */
void message_read(struct message *m, const struct sendmail_opts *o,
		  const char *sender, const char *gecos);
void message_free(struct message *m);

/* submit.c: -bm through smtpd; 0 with *status set, or -1 when
 * public/submit does not answer (the mail system is down). */
int submit_message(const struct message *m, const struct sendmail_opts *o,
		   const char *sender, int *status);
/* -bv: asks smtpd about each recipient; an exit status. */
int submit_verify(const struct sendmail_opts *o, struct rcpt_list *rcpts,
		  const char *sender);
/* The connected socket to public/submit, or -1. */
int submit_socket(int verbose);

/* relay.c and standalone.c: -bs; exit statuses. */
int bs_relay(void);
int bs_standalone(void);

/* maildrop_keep.c: keeps env and the rest of content_fd in maildrop/;
 * 0 and the file's id, or -1 with the reason in err. */
int maildrop_keep(const struct queue_envelope *env, int content_fd,
		  char id[QUEUE_ID_SIZE], struct buf *err);
/* -bm while the mail system is down; an exit status. */
int maildrop_submit(const struct message *m, const struct sendmail_opts *o,
		    const char *sender);

/* admin.c: -bp (mailq), -bi (newaliases), -q; an exit status. */
int sendmail_admin(const struct sendmail_opts *o);

#endif
