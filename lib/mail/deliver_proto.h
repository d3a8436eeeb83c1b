/*
 * deliver_proto - the delivery request between qmgr and its agents.
 *
 * qmgr connects to $queue_directory/private/TRANSPORT (local, smtp, lmtp,
 * or any transport of the services table), sends one request and reads one
 * reply, both attribute lists (attr.h), then closes.  local does the same
 * for one recipient when mailbox_transport or fallback_transport hands
 * its delivery to another agent (local/local_pass.c: it passes on the
 * content descriptor qmgr gave it, which a root agent such as pipe reads
 * and smtp and lmtp, which read the queue, leave unread).  Bounds: a request
 * carries at most default_destination_recipient_limit recipients and is
 * decoded with DELIVER_LIST_MAX.
 *
 * This file is the protocol's documentation; lib/mail/deliver_request.h is its
 * only codec (typed request and reply, every range and bound listed
 * there), and no program reads or writes these attributes otherwise.
 *
 * The content.  An agent whose service runs as root (unpriv n in the
 * services table: local) must not open the queue (DESIGN.md, rule 2), so
 * qmgr reads the content for it: the request then says
 * content=descriptor, and right after the list qmgr sends one byte with
 * a descriptor (SCM_RIGHTS, sock_send_fd) of a memory file holding
 * exactly the content as queued (CRLF lines, `size` bytes), sealed
 * against writing, growing and shrinking (F_SEAL_WRITE, F_SEAL_GROW,
 * F_SEAL_SHRINK, F_SEAL_SEAL).  The agent checks the seals and the size
 * before it reads; anything else (no descriptor, a pipe, an unsealed or
 * shorter file) is status=fail.  Every other agent (smtp and lmtp, which
 * run as mail_owner) reads the content from the queue itself
 * (queue_content_open) and gets no descriptor.  The trade-off: a copy
 * costs qmgr, a single event loop, one read of the content and one write
 * of it per request, plus the agent's read; it is paid only where root is
 * on the other side, so the relay path (smtp, often many large messages
 * to slow peers) keeps its own reads and qmgr never holds a large
 * message in memory for it.  For local the copy is small next to the
 * mailbox fsync each delivery makes (bench/deliver).
 *
 * Request (names in this order; the recipient group repeats, each group
 * starting with "rcpt_index"):
 *   request      "deliver"
 *   queue_id     the message
 *   transport    the transport name ("local", "smtp", ...)
 *   nexthop      "" for local; for smtp a domain (MX lookup), "[host]",
 *                "[host]:port" or "host:port"
 *   sender       envelope sender, "" for the null sender
 *   arrival      arrival time, unix seconds (with "arrival_usec")
 *   active       when qmgr took the message in hand, unix seconds with
 *                three decimals ("1764355213.250"), for the delays= field
 *   size         content size in bytes
 *   flags        envelope flags (QUEUE_FLAG_*), decimal
 *   envid        DSN ENVID, may be ""
 *   ret          DSN RET: 0 none, 1 FULL, 2 HDRS
 *   client_addr  where the message came from (for loop checks, logs)
 *   content      "descriptor" when the content follows the list (above);
 *                absent otherwise
 *   then per recipient:
 *   rcpt_index   index into the envelope's recipients (queue_rcpt_update)
 *   rcpt         the address to deliver to
 *   orcpt        DSN ORCPT ("rfc822;addr"), may be ""
 *   notify       DSN NOTIFY bits (QUEUE_NOTIFY_*)
 *
 * Reply: one group per recipient of the request, in any order:
 *   rcpt_index   as in the request
 *   class        2 delivered, 4 try again later, 5 failed for good
 *   dsn          enhanced status code, "2.0.0", "4.4.1", "5.1.1" ...
 *   text         the reason, in Postfix's words ("delivered to mailbox",
 *                "host H[IP] said: 550 5.1.1 ... (in reply to RCPT TO
 *                command)"); may be ""
 *   relay        where it went ("local", "mx.example.org[192.0.2.1]:25",
 *                "none")
 *   remote_mta   the remote host for the DSN's Remote-MTA, may be ""
 *   forward      (only with class 2, any number of times) a copy of the
 *                message for qmgr to queue: this value is the copy's
 *                sender ("" for the null sender), and each "forward_rcpt"
 *                that follows is one of its recipients.  qmgr queues the
 *                copy (same content and 8BITMIME/SMTPUTF8 flags,
 *                "Delivered-To: RCPT" on top, where RCPT is the
 *                recipient of this group) before it records the
 *                recipient, logs each address as the agent would
 *                ("to=<ADDR>, orig_to=<RCPT>, relay=local, ... status=sent
 *                (forwarded as NEWID)"), and defers the recipient (4.3.0)
 *                when a copy cannot be queued.  local uses it for alias
 *                members in other domains and list members to retry one
 *                by one (it never writes the queue); a value must be one
 *                line without control characters, at most QUEUE_FIELD_MAX
 *                bytes, a group has at least one address, and one reply
 *                holds at most 2 * ALIAS_TARGETS_MAX groups and addresses
 *                together, or the reply is a protocol error.
 * and at the end:
 *   status       "done" (every recipient has a group) or "fail" (the
 *                agent could not work at all: every recipient without a
 *                group is deferred with the "reason" attribute's text)
 *   reason       only with status=fail
 *
 * The agent logs each recipient's result in Postfix's shape:
 *   QUEUEID: to=<rcpt>, orig_to=<orcpt addr>, relay=R, delay=D,
 *   delays=a/b/c/d, dsn=X.Y.Z, status=sent|deferred|bounced (text)
 * qmgr records the results in the queue in one transaction; a recipient
 * whose group is missing (the agent died) is deferred, never lost.
 */
#ifndef PANACEA_DELIVER_PROTO_H
#define PANACEA_DELIVER_PROTO_H

#define DELIVER_LIST_MAX (4 * 1024 * 1024)

#define DELIVER_CLASS_OK 2
#define DELIVER_CLASS_DEFER 4
#define DELIVER_CLASS_BOUNCE 5

#endif
