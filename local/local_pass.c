/*
 * local_pass - a local user's mailbox delivery handed to another
 * transport (mailbox_transport), as Postfix's local does it: after the
 * alias expansion, instead of the user lookup and the mailbox, local
 * sends one delivery request (deliver_proto.h) for this one recipient to
 * that transport's service, private/TRANSPORT, and takes its status as
 * the recipient's.  The usual target is lmtp ("lmtp:unix:private/
 * dovecot-lmtp"): Dovecot then knows the users and owns the mailboxes,
 * so a name that is no unix account is delivered too (local_recipient_maps
 * decides who exists, at smtpd).
 *
 * The agent on the other side reads the content from the queue by queue
 * id when it runs as mail_owner (lmtp), as for qmgr's requests: the
 * message stays active in qmgr while local waits.  local, which must not
 * open the queue (DESIGN.md, rule 2), offers the sealed memory file qmgr
 * gave it (content=descriptor), which an agent that runs as root (pipe:
 * fallback_transport = dovecot-lda) reads instead; the others ignore it.  The
 * agent logs the delivery line itself; local logs only a failure to reach it
 * (then the recipient is deferred, 4.3.0, as Postfix's "mail transport
 * unavailable").  The socket is opened as every client of private/ opens
 * it (sock_connect_unix: no symbolic link followed), and the reply is
 * read by the one strict codec (deliver_request.h), bounded by
 * ipc_timeout.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "attr.h"
#include "daemon.h"
#include "deliver_request.h"
#include "local.h"
#include "msg.h"
#include "sock.h"
#include "xalloc.h"
#include "xtext.h"

/* "transport:nexthop" split; 0, or -1 when the transport is no services
 * name. */
static int
split(const char *spec, struct buf *transport, const char **nexthop)
{
	size_t n = strcspn(spec, ":");

	if (n == 0 || n > 64)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = spec[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return -1;
	}
	buf_append(transport, spec, n);
	*nexthop = spec[n] == ':' ? spec + n + 1 : "";
	return 0;
}

/* The request for one recipient (to), its ORCPT the address it came as. */
static void
encode(const struct local_msg *msg, const char *transport, const char *nexthop,
       const char *to, const char *orig_to, struct attr_list *out)
{
	struct deliver_request req;
	struct deliver_rcpt rcpt;
	struct buf orcpt = BUF_INIT;

	if (orig_to != NULL && *orig_to != '\0' && strcmp(orig_to, to) != 0) {
		buf_puts(&orcpt, "rfc822;");
		xtext_encode(&orcpt, orig_to, strlen(orig_to));
	}
	memset(&rcpt, 0, sizeof(rcpt));
	rcpt.index = 0;
	rcpt.address = (char *)to;
	rcpt.orcpt = (char *)buf_cstr(&orcpt);
	memset(&req, 0, sizeof(req));
	req.queue_id = msg->queue_id;
	req.transport = (char *)transport;
	req.nexthop = (char *)nexthop;
	req.sender = msg->sender;
	req.arrival = (long long)msg->arrival;
	req.arrival_usec =
	    (long long)((msg->arrival - (double)req.arrival) * 1e6);
	if (req.arrival_usec < 0 || req.arrival_usec > 999999)
		req.arrival_usec = 0;
	req.active_ms = (long long)(msg->active * 1000.0);
	req.size = msg->size;
	req.flags = msg->flags;
	req.envid = "";
	req.client_addr = msg->client_addr ? msg->client_addr : "";
	/* Offered to every agent: one that runs as root (pipe) reads it,
	 * rule 2; smtp and lmtp read the queue and leave it unread. */
	req.content =
	    msg->content_fd >= 0 ? (char *)DELIVER_CONTENT_DESCRIPTOR : NULL;
	req.rcpts = &rcpt;
	req.nrcpt = 1;
	deliver_request_encode(&req, out);
	buf_free(&orcpt);
}

int
local_pass(const struct local_msg *msg, const char *spec, const char *to,
	   const char *orig_to, struct local_status *st)
{
	struct buf transport = BUF_INIT, path = BUF_INIT, why = BUF_INIT;
	struct attr_list req = ATTR_LIST_INIT, rep = ATTR_LIST_INIT;
	struct deliver_reply reply;
	const char *nexthop;
	int fd = -1, logged = 0;

	memset(&reply, 0, sizeof(reply));
	if (split(spec, &transport, &nexthop) < 0) {
		local_status_set(st, 4, "4.3.5",
				 "malformed mailbox_transport \"%.100s\"",
				 spec);
		goto out;
	}
	/* local would hand the recipient to itself, for ever. */
	if (strcmp(buf_cstr(&transport), daemon_service_name()) == 0) {
		local_status_set(st, 4, "4.3.5",
				 "mailbox_transport \"%.100s\" names this "
				 "local service",
				 spec);
		goto out;
	}
	buf_printf(&path, "%s/private/%s", local_cfg.queue_directory,
		   buf_cstr(&transport));
	fd = sock_connect_unix(buf_cstr(&path), local_cfg.ipc_timeout_ms);
	if (fd < 0) {
		msg_warn("connect to transport private/%s: %s",
			 buf_cstr(&transport), strerror(errno));
		local_status_set(st, 4, "4.3.0", "mail transport unavailable");
		goto out;
	}
	encode(msg, buf_cstr(&transport), nexthop, to, orig_to, &req);
	if (attr_send(fd, &req, local_cfg.ipc_timeout_ms) < 0 ||
	    (msg->content_fd >= 0 && sock_send_fd(fd, msg->content_fd) < 0) ||
	    attr_recv(fd, &rep, DELIVER_LIST_MAX, local_cfg.ipc_timeout_ms) <
		0) {
		msg_warn("%s: transport private/%s: %s", msg->queue_id,
			 buf_cstr(&transport), strerror(errno));
		local_status_set(st, 4, "4.3.0", "mail transport unavailable");
		goto out;
	}
	if (deliver_reply_decode(&rep, &reply, &why) < 0 ||
	    strcmp(reply.status, "done") != 0 || reply.nrcpt != 1) {
		msg_warn("%s: transport private/%s: bad reply: %s",
			 msg->queue_id, buf_cstr(&transport),
			 why.len	? buf_cstr(&why)
			 : reply.reason ? reply.reason
					: "no status");
		local_status_set(st, 4, "4.3.0", "mail transport unavailable");
		goto out;
	}
	/* The agent decided and logged this recipient. */
	local_status_set(st, (int)reply.rcpts[0].cls, reply.rcpts[0].dsn, "%s",
			 reply.rcpts[0].text);
	logged = 1;
out:
	if (fd >= 0)
		close(fd);
	attr_list_free(&req);
	attr_list_free(&rep);
	deliver_reply_free(&reply);
	buf_free(&transport);
	buf_free(&path);
	buf_free(&why);
	return logged;
}
