/*
 * pop3d - the POP3 server: what its modules share.
 *
 *   pop3d.c          main, configuration, the session: greeting, command
 *                    loop, login (the fork and the lock helper), logs
 *   pop3d_auth.c     AUTHORIZATION state: CAPA, STLS, USER/PASS, APOP,
 *                    AUTH (SASL), failures and their delay and limit
 *   pop3d_trans.c    TRANSACTION and UPDATE states: STAT, LIST, RETR,
 *                    TOP, DELE, RSET, NOOP, UIDL, QUIT
 *   pop3d_mbox.c     the mbox maildrop: locks, scan, RETR, compaction
 *   pop3d_maildir.c  the Maildir maildrop: new/ and cur/, flags
 *
 * Privileges.  pop3d runs as root (DAEMON_FLAG_KEEP_ROOT, not chrooted)
 * until a client authenticates.  Then the process forks: the child drops
 * for good to the mailbox owner (lib/mailbox.h: the unix account, or
 * mail_owner for mail-only users) and serves the rest of the session
 * (TRANSACTION and UPDATE), so no mailbox is ever read or written as
 * root, and the network-facing process holds no privilege any more.  The
 * parent stays root only to make and remove the mailbox's dotlock file
 * (PATH.lock, in the root-owned spool directory where the owner cannot
 * create files) when the child asks over a socketpair, and removes it
 * if the child dies holding it.  The parent reads one byte at a time from
 * the child and never touches the client connection again.
 *
 * Locks.  A maildrop is served to one session at a time: the session
 * holds flock(2) on the mbox file (or the Maildir directory) from login
 * to the end, and a second session gets "-ERR [IN-USE]".  flock does not
 * conflict with the fcntl(2) locks of local and mail readers, so mail is
 * still delivered during a session: pop3d takes local's locks (dotlock,
 * then fcntl, waiting deliver_lock_attempts times deliver_lock_delay as
 * local does) only while it reads the mbox at login and while it
 * rewrites it at QUIT, and local waits for it the same way.
 */
#ifndef PANACEA_POP3D_H
#define PANACEA_POP3D_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "buf.h"
#include "cidr.h"
#include "mailbox.h"
#include "pop3_cmd.h"
#include "sasl_auth.h"
#include "stream.h"
#include "tls.h"

#define POP3D_UIDL_MAX 70 /* RFC 1939: 1 to 70 characters 0x21-0x7e */
#define POP3D_IO_CHUNK 65536

struct pop3d_config {
	char *myhostname;
	struct tls_ctx *tls; /* NULL: no STLS, no POP3S */
	int wrappermode;
	int sasl_ready;
	int apop;
	int timeout_ms;
	int fail_delay; /* seconds */
	int fail_limit;
	int login_delay; /* seconds; 0: not set */
	struct cidr_list plain_nets;
	struct mailbox_config mbox;
	char *sasldb_path;
	int lock_attempts;
	int lock_delay;
	int stale_lock_time;
	char *stamp_dir; /* LOGIN-DELAY stamps */
};

extern struct pop3d_config pop3d_cfg;

struct pop3d_msg {
	unsigned long long octets;
	char uidl[POP3D_UIDL_MAX + 1];
	int deleted;
	int retrieved;
	/* mbox */
	unsigned long long start, body, end, next;
	/* Maildir: "new/NAME" or "cur/NAME" */
	char *file;
};

struct pop3d_box {
	int maildir;
	int in_spool;
	char *path;
	int fd; /* the mbox file or the Maildir directory; -1: none */
	dev_t dev;
	ino_t ino;
	unsigned long long size0; /* mbox bytes read at login */
	struct pop3d_msg *msgs;
	size_t count;
};

struct pop3d_session {
	int fd;
	struct stream s;
	char client_addr[64];
	char client_port[8];
	char server_addr[64];
	char server_port[8];
	struct sockaddr_storage peer;
	int tls_on;
	struct tls_info tls_info;
	struct sasl_auth_server *sasl;
	char apop_stamp[128]; /* "" when APOP is off */
	char *user_arg;	      /* name given by USER */
	int failures;
	struct pop3_cmd cmd;
	struct buf line;
	enum pop3_state state;
	int quit; /* end the session */
	/* After login (the child). */
	char *user;    /* the account name */
	char *method;  /* USER, APOP or the SASL mechanism */
	int broker_fd; /* to the root parent; -1: none */
	struct pop3d_box box;
	unsigned long retr_count;
	unsigned long long retr_bytes;
	unsigned long top_count;
	unsigned long del_count;
	int committed;
};

/* pop3d.c */
void pop3d_reply(struct pop3d_session *ss, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* One line from the client, at most max bytes: 1, or 0 when the session
 * must end (end of file, timeout, error: logged and answered). */
int pop3d_getline(struct pop3d_session *ss, size_t max);
/* Called by pop3d_auth.c once a user is authenticated (name as
 * authenticated, method for the log).  Replies itself; returns only in
 * the parent (or in the child after the session, which then exits). */
void pop3d_login(struct pop3d_session *ss, const char *name,
		 const char *method);
/* Printable ASCII copy of a client-given string for the log. */
void pop3d_printable(char *dst, size_t size, const char *src);
int pop3d_plain_allowed(const struct pop3d_session *ss);
/* The dotlock of the mailbox: through the root parent for a spool
 * mailbox, else directly.  MBOX_LOCK_OK, _BUSY or _ERROR. */
int pop3d_dotlock(struct pop3d_session *ss, struct buf *why);
void pop3d_dotunlock(struct pop3d_session *ss);

/* pop3d_auth.c */
void pop3d_auth_init(void);
void pop3d_auth_session_init(struct pop3d_session *ss);
void pop3d_auth_session_end(struct pop3d_session *ss);
void pop3d_auth_command(struct pop3d_session *ss);
void pop3d_capa(struct pop3d_session *ss);

/* pop3d_trans.c */
void pop3d_trans_command(struct pop3d_session *ss);
/* Numbers later copies of a UIDL ("-2", "-3"...) so that ids are
 * unique within the maildrop. */
void pop3d_uidl_unique(struct pop3d_box *box);

/* pop3d_mbox.c, pop3d_maildir.c: open 0, or -1 with "[CODE] text" in
 * why; retr 0, -1 before anything was sent (why set), -2 when the session
 * cannot go on; update 0 or -1 (why set). */
int pop3d_mbox_open(struct pop3d_session *ss, struct buf *why);
int pop3d_mbox_send(struct pop3d_session *ss, struct pop3d_msg *m, long lines,
		    struct buf *why);
int pop3d_mbox_update(struct pop3d_session *ss, struct buf *why);
int pop3d_maildir_open(struct pop3d_session *ss, struct buf *why);
int pop3d_maildir_send(struct pop3d_session *ss, struct pop3d_msg *m,
		       long lines, struct buf *why);
int pop3d_maildir_update(struct pop3d_session *ss, struct buf *why);
void pop3d_box_free(struct pop3d_box *box);

#endif
