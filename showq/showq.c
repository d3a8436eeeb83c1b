/*
 * showq - lists the queue for mailq and panqueue (lib/showq.h).
 *
 * Service: "showq unix n - y - - showq" (public/showq: every local user
 * can connect).  One client at a time (DAEMON_SINGLE), which sends
 * nothing.  Runs chrooted in queue_directory as mail_owner, the only
 * account that may open the queue.
 *
 * Who may list: Postfix keeps its public/ to a group and lets only the
 * setgid postqueue in, which checks authorized_mailq_users; Panacea's
 * commands are not setgid and public/ is open, so showq checks the
 * peer itself, by the uid the kernel gives (SO_PEERCRED), with the rule
 * the commands use (mailq_users.h).  The account names are read before
 * the jail (MAILQ_USERS_SNAPSHOT: the jail has no password database; the
 * process ends after max_use requests or max_idle, so the snapshot is
 * never older than that).  A refused peer gets the denied record and
 * nothing of the queue; a peer the kernel does not name (not a unix
 * socket) or a table that fails gets nothing: a failed listing.
 */
#include <string.h>

#include "conf.h"
#include "daemon.h"
#include "iostuff.h"
#include "mailq_users.h"
#include "msg.h"
#include "queue.h"
#include "showq.h"
#include "sock.h"

static struct queue *showq_queue;
static char *showq_maildrop;
static const char *mailq_acl;
static const char *mail_owner;
static struct mailq_users *showq_users;

static const struct conf_bind showq_params[] = {
    CONF_BIND_STR("authorized_mailq_users", &mailq_acl),
    CONF_BIND_STR("mail_owner", &mail_owner),
    CONF_BIND_END,
};

static void
showq_pre_jail(void)
{
	struct buf err = BUF_INIT;

	showq_users =
	    mailq_users_open(mailq_acl, mail_owner, MAILQ_USERS_SNAPSHOT, &err);
	if (showq_users == NULL)
		msg_fatal("%s", buf_cstr(&err));
	buf_free(&err);
}

static void
showq_post_jail(void)
{
	struct buf path = BUF_INIT;
	const char *qdir = daemon_queue_dir();

	showq_queue = daemon_queue_open();
	buf_printf(&path, "%s/maildrop", qdir);
	showq_maildrop = buf_steal(&path);
}

static void
showq_pre_exit(void)
{
	queue_close(showq_queue);
	showq_queue = NULL;
	mailq_users_free(showq_users);
	showq_users = NULL;
}

/* 1 when the peer may list the queue; 0 when not (the denied record is
 * in out). */
static int
peer_may_list(int fd, struct buf *out)
{
	struct buf name = BUF_INIT, err = BUF_INIT;
	struct showq_record denied;
	uid_t uid;
	int rc;

	if (sock_peer_cred(fd, NULL, &uid, NULL) != 0 || uid == (uid_t)-1) {
		msg_warn("showq client without credentials (not on a unix "
			 "socket): permission denied");
		return 0;
	}
	rc = mailq_users_allow(showq_users, uid, &name, &err);
	if (rc < 0) {
		msg_warn("authorized_mailq_users: lookup of %s for uid %ld: %s",
			 buf_cstr(&name), (long)uid, buf_cstr(&err));
	} else if (rc == 0) {
		msg_warn("uid %ld (%s): queue listing: permission denied "
			 "(authorized_mailq_users)",
			 (long)uid, buf_cstr(&name));
		memset(&denied, 0, sizeof(denied));
		denied.type = SHOWQ_DENIED;
		denied.uid = (long long)uid;
		denied.user = (char *)buf_cstr(&name);
		showq_record_encode(&denied, out);
	}
	buf_free(&name);
	buf_free(&err);
	return rc > 0;
}

static void
showq_serve(int fd)
{
	struct buf out = BUF_INIT;
	int r = QUEUE_OK;

	if (peer_may_list(fd, &out))
		r = showq_build(showq_queue, showq_maildrop, &out);
	if (r != QUEUE_OK) {
		/* No end record: the client reports a failed listing. */
		msg_warn("cannot list the queue");
		if (r == QUEUE_RECOVER)
			daemon_request_exit();
	} else if (io_write_full(fd, out.data, out.len, SHOWQ_TIMEOUT_MS) < 0) {
		msg_info("showq client went away before the end of the "
			 "listing");
	}
	buf_free(&out);
}

int
main(int argc, char **argv)
{
	static const struct daemon_ops ops = {
	    .mode = DAEMON_SINGLE,
	    .params = showq_params,
	    .pre_jail = showq_pre_jail,
	    .post_jail = showq_post_jail,
	    .serve = showq_serve,
	    .pre_exit = showq_pre_exit,
	};

	daemon_main(argc, argv, &ops);
}
