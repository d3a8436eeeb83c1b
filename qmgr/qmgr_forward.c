/*
 * qmgr_forward - the two ways qmgr handles a message's content for a
 * delivery agent that must not open the queue (DESIGN.md, rule 2):
 *
 *  - qmgr_content_memfd(): the content as a sealed memory file, passed
 *    with the request (lib/deliver_proto.h).  Sealed against writes,
 *    growth and shrinking, so the agent reads exactly the bytes qmgr
 *    checked, and can tell a memory file from anything else qmgr might
 *    pass (F_GET_SEALS fails on other files).
 *  - qmgr_forward(): the copies an agent asks for in its reply (alias
 *    members in other domains, list members to retry one by one), queued
 *    here as new messages, as qmgr queues bounces: the same content with
 *    a "Delivered-To:" of the forwarding recipient on top (the loop check
 *    of whoever delivers it next).  Each copy is committed before the
 *    recipient that asked for it is recorded, so a crash in between
 *    forwards twice rather than never.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "iostuff.h"
#include "msg.h"
#include "qmgr.h"

#define QMGR_CONTENT_SEALS                                                     \
	(F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

int
qmgr_content_memfd(const struct qmgr_message *msg)
{
	struct queue_content *c;
	struct buf chunk = BUF_INIT;
	unsigned long long total = 0;
	int fd, rc;

	fd = memfd_create("panacea-content", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		msg_warn("%s: cannot create a memory file: %s", msg->id,
			 strerror(errno));
		return -1;
	}
	c = queue_content_open(qmgr_cfg.queue, msg->id);
	while ((rc = queue_content_read(c, &chunk)) == 1) {
		total += chunk.len;
		if (total > msg->env.size ||
		    io_write_full(fd, chunk.data, chunk.len, -1) < 0) {
			rc = QUEUE_ERROR;
			break;
		}
	}
	queue_content_close(c);
	buf_free(&chunk);
	qmgr_fatal_queue(rc, msg->id);
	if (rc != 0 || total != msg->env.size ||
	    fcntl(fd, F_ADD_SEALS, QMGR_CONTENT_SEALS) < 0) {
		msg_warn(
		    "%s: cannot copy the content for the delivery agent%s%s",
		    msg->id, rc == 0 && total == msg->env.size ? ": " : "",
		    rc == 0 && total == msg->env.size ? strerror(errno) : "");
		close(fd);
		return -1;
	}
	return fd;
}

/* One copy for group g; its new queue id in new_id. */
static int
forward_one(const struct qmgr_message *m, const char *delivered_to,
	    const struct deliver_forward *g, char new_id[QUEUE_ID_SIZE])
{
	struct queue_in *in = queue_in_begin(qmgr_cfg.queue);
	struct queue_envelope *env;
	struct queue_content *c;
	struct buf chunk = BUF_INIT;
	int rc;

	if (in == NULL)
		return -1;
	memcpy(new_id, queue_in_id(in), QUEUE_ID_SIZE);
	env = queue_in_envelope(in);
	queue_str_set(&env->sender, g->sender);
	queue_str_set(&env->client_name, "localhost");
	queue_str_set(&env->client_addr, "127.0.0.1");
	queue_str_set(&env->protocol, "local");
	env->flags = m->env.flags & (QUEUE_FLAG_8BITMIME | QUEUE_FLAG_SMTPUTF8);
	for (size_t i = 0; i < g->nrcpt; i++)
		queue_envelope_add_rcpt(env, g->rcpts[i], NULL, 0);
	buf_printf(&chunk, "Delivered-To: %s\r\n", delivered_to);
	rc = queue_in_write(in, chunk.data, chunk.len);
	c = queue_content_open(qmgr_cfg.queue, m->id);
	while (rc == QUEUE_OK && (rc = queue_content_read(c, &chunk)) == 1)
		rc = queue_in_write(in, chunk.data, chunk.len);
	queue_content_close(c);
	buf_free(&chunk);
	qmgr_fatal_queue(rc, m->id);
	if (rc != QUEUE_OK) {
		queue_in_abort(in);
		return -1;
	}
	rc = queue_in_commit(in);
	qmgr_fatal_queue(rc, m->id);
	return rc == QUEUE_OK ? 0 : -1;
}

/* The agent's line for a forwarded address, in its shape (relay=local). */
static void
log_forwarded(const struct qmgr_message *m, const char *to, const char *orig_to,
	      const char *new_id)
{
	struct timeval now, arrival = {(time_t)m->env.arrival_sec,
				       (suseconds_t)m->env.arrival_usec};
	struct buf line = BUF_INIT;

	gettimeofday(&now, NULL);
	buf_printf(&line,
		   "%s: to=<%s>, orig_to=<%s>, relay=local, delay=", m->id, to,
		   orig_to);
	qmgr_fmt_delay(&line, qmgr_tv_diff(&now, &arrival));
	buf_puts(&line, ", delays=");
	qmgr_fmt_delay(&line, qmgr_tv_diff(&m->active_tv, &arrival));
	buf_putc(&line, '/');
	qmgr_fmt_delay(&line, qmgr_tv_diff(&now, &m->active_tv));
	buf_printf(&line, "/0/0, dsn=2.0.0, status=sent (forwarded as %s)",
		   new_id);
	msg_info("%s", buf_cstr(&line));
	buf_free(&line);
}

int
qmgr_forward(struct qmgr_message *msg, size_t idx,
	     const struct deliver_forward *groups, size_t n, struct buf *why)
{
	const char *addr = msg->env.rcpts[idx].address;
	char new_id[QUEUE_ID_SIZE];

	for (size_t i = 0; i < n; i++) {
		if (forward_one(msg, addr, &groups[i], new_id) < 0) {
			msg_warn("%s: cannot queue a forwarded copy for %s",
				 msg->id, addr);
			buf_set(why, "cannot forward the message: queue error");
			return -1;
		}
		msg_info("%s: forwarded as %s (%zu recipient%s)", msg->id,
			 new_id, groups[i].nrcpt,
			 groups[i].nrcpt == 1 ? "" : "s");
		for (size_t j = 0; j < groups[i].nrcpt; j++)
			log_forwarded(msg, groups[i].rcpts[j], addr, new_id);
	}
	if (n > 0)
		qmgr_scan_soon();
	return 0;
}
