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
#include <stdio.h>
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

/* A forwarded copy's content: "Delivered-To:" on top of the original. */
struct copy {
	const struct qmgr_message *m;
	const char *delivered_to;
};

static int
write_copy(void *ctx, struct queue_in *in)
{
	const struct copy *cp = ctx;
	struct queue_content *c;
	struct buf chunk = BUF_INIT;
	int rc;

	buf_printf(&chunk, "Delivered-To: %s\r\n", cp->delivered_to);
	rc = queue_in_write(in, chunk.data, chunk.len);
	c = queue_content_open(qmgr_cfg.queue, cp->m->id);
	while (rc == QUEUE_OK && (rc = queue_content_read(c, &chunk)) == 1)
		rc = queue_in_write(in, chunk.data, chunk.len);
	queue_content_close(c);
	buf_free(&chunk);
	return rc;
}

/* One copy for group g; its new queue id in new_id. */
static int
forward_one(const struct qmgr_message *m, const char *delivered_to,
	    const struct deliver_forward *g, char new_id[QUEUE_ID_SIZE])
{
	struct copy cp = {m, delivered_to};
	struct qmgr_post post = {
	    .sender = g->sender,
	    .flags = m->env.flags & (QUEUE_FLAG_8BITMIME | QUEUE_FLAG_SMTPUTF8),
	    .rcpts = (const char *const *)g->rcpts,
	    .nrcpt = g->nrcpt,
	    .write_content = write_copy,
	    .ctx = &cp,
	};

	return qmgr_post_local(&post, m->id, new_id) == QUEUE_OK ? 0 : -1;
}

int
qmgr_forward(struct qmgr_message *msg, size_t idx,
	     const struct deliver_forward *groups, size_t n, struct buf *why)
{
	const char *addr = msg->env.rcpts[idx].address;
	char new_id[QUEUE_ID_SIZE], text[QUEUE_ID_SIZE + 16];

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
		snprintf(text, sizeof(text), "forwarded as %s", new_id);
		for (size_t j = 0; j < groups[i].nrcpt; j++)
			qmgr_log_event(msg, groups[i].rcpts[j], addr, "local",
				       "2.0.0", "sent", text);
	}
	return 0;
}
