/*
 * showq - lists the queue for mailq and panqueue (lib/showq.h).
 *
 * Service: "showq unix n - y - - showq" (public: every local user may
 * list the queue, as with Postfix's showq).  One client at a time
 * (DAEMON_SINGLE): the listing is built from the queue and maildrop/,
 * then written to the client, which sends nothing.  Runs chrooted in
 * queue_directory as mail_owner, the only account that may open the
 * queue.
 */
#include "daemon.h"
#include "iostuff.h"
#include "msg.h"
#include "queue.h"
#include "showq.h"

static struct queue *showq_queue;
static char *showq_maildrop;

static void
showq_post_jail(void)
{
	struct buf path = BUF_INIT;
	const char *qdir = daemon_queue_dir();

	if (queue_open(qdir, NULL, &showq_queue) != QUEUE_OK)
		msg_fatal("cannot open the queue in %s/db", qdir);
	buf_printf(&path, "%s/maildrop", qdir);
	showq_maildrop = buf_steal(&path);
}

static void
showq_pre_exit(void)
{
	queue_close(showq_queue);
	showq_queue = NULL;
}

static void
showq_serve(int fd)
{
	struct buf out = BUF_INIT;
	int r = showq_build(showq_queue, showq_maildrop, &out);

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
	    .post_jail = showq_post_jail,
	    .serve = showq_serve,
	    .pre_exit = showq_pre_exit,
	};

	daemon_main(argc, argv, &ops);
}
