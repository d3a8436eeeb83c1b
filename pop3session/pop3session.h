/*
 * pop3session - the root side of the POP3 server: what its modules share.
 *
 *   pop3session.c      main, configuration, the service: the front's
 *                      request, the ticket, the mailbox, the fork; the
 *                      session child's command loop
 *   session_trans.c    TRANSACTION and UPDATE states: STAT, LIST, RETR,
 *                      TOP, DELE, RSET, NOOP, UIDL, CAPA, QUIT
 *   lock_helper.c      the root parent's spool dotlock for the child
 *                      (its protocol: lock_helper.h)
 *   session_mbox.c     the mbox maildrop: locks, scan, RETR, compaction
 *   session_maildir.c  the Maildir maildrop: new/ and cur/, flags
 *   mbox_reader.c      the mbox parser session_mbox.c reads with (its
 *                      contract: mbox_reader.h; fuzzed and unit-tested)
 *
 * Who does what.  The front (pop3d, mail_owner, jailed) does everything
 * before login: TLS, the AUTHORIZATION dialogue, the credentials (through
 * the auth service, never itself).  After a login it connects to
 * private/pop3session and passes one end of a socketpair with a ticket
 * the auth service gave it.  Without TLS the session process, once it
 * runs as the mailbox owner, gets the client's own socket from the front
 * over that socketpair and the front is out of the session; with TLS the
 * front only relays bytes between the client and the socketpair.  The
 * root process of this program never holds the client's socket, no
 * process of it loads TLS (it does not even link libssl), and it never
 * checks a password: it redeems the ticket with the auth service, which
 * names the user, and serves that user only.
 *
 * Privileges.  The service runs as root, not chrooted (unpriv and chroot
 * n).  For each accepted request it forks: the child drops for good to
 * the mailbox owner (lib/mailbox.h: the unix account, or mail_only_owner
 * for mail-only users) and serves the session (the login's reply, then
 * TRANSACTION and UPDATE) on the client's socket or over the socketpair,
 * so no mailbox is ever read or written as root.  The parent closes its
 * copy of the socketpair at once (it never reads a client's byte) and stays
 * root only to make and remove the mailbox's dotlock file (PATH.lock, in the
 * root-owned spool directory where the owner cannot create files) when the
 * child asks over a second socketpair (lock_helper.h), and removes it if the
 * child dies holding it.
 *
 * Locks.  A maildrop is served to one session at a time: the session
 * holds flock(2) on the mbox file (or the Maildir directory) from login
 * to the end, and a second session gets "-ERR [IN-USE]".  flock does not
 * conflict with the fcntl(2) locks of local and mail readers, so mail is
 * still delivered during a session: the session takes local's locks
 * (dotlock, then fcntl, waiting deliver_lock_attempts times
 * deliver_lock_delay as local does) only while it reads the mbox at
 * login and while it rewrites it at QUIT, and local waits for it the
 * same way.
 */
#ifndef PANACEA_POP3SESSION_H
#define PANACEA_POP3SESSION_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "lock_helper.h"
#include "mailbox.h"
#include "pop3_cmd.h"
#include "stream.h"

#define SESSION_UIDL_MAX 70 /* RFC 1939: 1 to 70 characters 0x21-0x7e */
#define SESSION_IO_CHUNK 65536

struct session_config {
	int timeout_ms;
	int login_delay; /* seconds; 0: not set */
	struct mailbox_config mbox;
	struct lock_helper_config lock; /* local's lock waits */
	char *stamp_dir;		/* LOGIN-DELAY stamps */
};

extern struct session_config session_cfg;

struct pop3_msg {
	unsigned long long octets;
	char uidl[SESSION_UIDL_MAX + 1];
	int deleted;
	int retrieved;
	/* mbox */
	unsigned long long start, body, end, next;
	/* Maildir: "new/NAME" or "cur/NAME" */
	char *file;
};

struct pop3_box {
	int maildir;
	int in_spool;
	char *path;
	int fd; /* the mbox file or the Maildir directory; -1: none */
	dev_t dev;
	ino_t ino;
	unsigned long long size0; /* mbox bytes read at login */
	struct pop3_msg *msgs;
	size_t count;
};

/* One session in the child, on its end of the front's socketpair. */
struct pop3_session {
	int fd; /* plain POP3: the client's socket, or the socketpair the
		 * front relays (TLS) */
	struct stream s;
	char client_addr[64]; /* as the auth service recorded it */
	char server_addr[64]; /* the same ("": unknown), for lip= */
	int tls;	      /* the front talks TLS to the client (logs) */
	struct pop3_cmd cmd;
	struct buf line;
	enum pop3_state state;
	int quit;      /* end the session */
	char *user;    /* the account name */
	char *method;  /* USER, APOP or the SASL mechanism (logs) */
	int broker_fd; /* to the root parent; -1: none */
	struct pop3_box box;
	unsigned long retr_count;
	unsigned long long retr_bytes;
	unsigned long top_count;
	unsigned long del_count;
	int committed;
};

/* pop3session.c */
void session_reply(struct pop3_session *ss, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The dotlock of the mailbox: through the root parent for a spool
 * mailbox, else directly.  MBOX_LOCK_OK, _BUSY or _ERROR. */
int session_dotlock(struct pop3_session *ss, struct buf *why);
void session_dotunlock(struct pop3_session *ss);

/* session_trans.c */
void session_trans_command(struct pop3_session *ss);
/* Numbers later copies of a UIDL ("-2", "-3"...) so that ids are
 * unique within the maildrop. */
void session_uidl_unique(struct pop3_box *box);

/* Where the bytes of a message are, for RETR and TOP (session_trans.c
 * sends them): [off, end) of fd, or from off to the end of the file when
 * end is SESSION_TO_EOF, converted by pop3_wire with wire_flags; close_fd:
 * fd is the message's own and is closed after.  name: the file, for
 * messages. */
#define SESSION_TO_EOF (~0ULL)
struct session_source {
	int fd;
	int close_fd;
	unsigned long long off, end;
	int wire_flags;
	char *name;
};

/* session_mbox.c, session_maildir.c: open 0, or -1 with "[CODE] text" in
 * why; source 0, or -1 with "[CODE] text" in why (the message is gone or
 * the maildrop changed); update 0 or -1 (why set). */
int session_mbox_open(struct pop3_session *ss, struct buf *why);
int session_mbox_source(struct pop3_session *ss, struct pop3_msg *m,
			struct session_source *src, struct buf *why);
int session_mbox_update(struct pop3_session *ss, struct buf *why);
int session_maildir_open(struct pop3_session *ss, struct buf *why);
int session_maildir_source(struct pop3_session *ss, struct pop3_msg *m,
			   struct session_source *src, struct buf *why);
int session_maildir_update(struct pop3_session *ss, struct buf *why);
/* The maildrop for this session alone: flock(2) on box->fd (the mbox
 * file or the Maildir directory) until the session ends; 0, or -1 with
 * "[IN-USE] ..." (another session holds it) or "[SYS/TEMP] ..." in why. */
int session_box_claim(struct pop3_box *box, struct buf *why);
void session_box_free(struct pop3_box *box);

#endif
