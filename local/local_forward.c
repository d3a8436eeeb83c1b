/*
 * local_forward - queue a copy of the message for addresses that local
 * does not deliver itself: alias members in other domains, and list
 * members whose delivery failed (so that qmgr retries them or bounces
 * them to the list owner one by one, instead of retrying the whole list).
 *
 * The copy is a new queue message (queue_in_*, with mail_owner's
 * effective ids) with the same content and flags, a "Delivered-To:" of
 * the alias on top (the loop check of whoever delivers it next), from the
 * sender the caller chose (owner-NAME or the original sender); qmgr is
 * woken through public/qmgr as smtpd does, and finds the message by its
 * timer anyway.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "local.h"
#include "msg.h"
#include "sock.h"

static void
wakeup_qmgr(void)
{
	int fd = sock_connect_unix(local_cfg.qmgr_socket, 100);

	if (fd < 0)
		return;
	if (write(fd, "W", 1) != 1)
		msg_debug("qmgr wakeup: write failed");
	close(fd);
}

int
local_forward(const struct local_msg *msg, const char *sender,
	      const char *delivered_to, char *const *addrs, size_t n,
	      char queue_id[QUEUE_ID_SIZE], struct local_status *st)
{
	struct buf header = BUF_INIT;
	struct queue_envelope *env;
	struct queue_in *in;
	int r = QUEUE_ERROR;

	local_become_owner();
	in = queue_in_begin(local_cfg.queue);
	if (in != NULL) {
		snprintf(queue_id, QUEUE_ID_SIZE, "%s", queue_in_id(in));
		env = queue_in_envelope(in);
		queue_str_set(&env->sender, sender);
		queue_str_set(&env->client_name, "localhost");
		queue_str_set(&env->client_addr, "127.0.0.1");
		queue_str_set(&env->protocol, "local");
		env->flags =
		    msg->flags & (QUEUE_FLAG_8BITMIME | QUEUE_FLAG_SMTPUTF8);
		for (size_t i = 0; i < n; i++)
			queue_envelope_add_rcpt(env, addrs[i], NULL, 0);
		buf_printf(&header, "Delivered-To: %s\r\n", delivered_to);
		if (queue_in_write(in, header.data, header.len) != QUEUE_OK ||
		    queue_in_write(in,
				   msg->content.data ? msg->content.data : "",
				   msg->content.len) != QUEUE_OK) {
			queue_in_abort(in);
		} else {
			r = queue_in_commit(in);
		}
	}
	local_become_root();
	buf_free(&header);
	if (r == QUEUE_RECOVER)
		daemon_request_exit();
	if (r != QUEUE_OK) {
		local_status_set(st, 4, "4.3.0",
				 "cannot forward the message: queue error");
		return -1;
	}
	msg_info("%s: forwarded as %s (%zu recipient%s)", msg->queue_id,
		 queue_id, n, n == 1 ? "" : "s");
	wakeup_qmgr();
	return 0;
}
