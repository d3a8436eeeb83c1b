/*
 * pop3d_relay - after login: the hand-off to pop3session and, with TLS,
 * the relay.
 *
 * The hand-off: make a socketpair; connect to private/pop3session; send
 * one end (sock_send_fd) and an attribute list (lib/pop3_handoff.h:
 * ticket, method, tls, socket, input; the ticket is what pop3session
 * trusts, the rest says where the session is served and what goes in its
 * log lines); close that end and the connection.  pop3session redeems
 * the ticket and forks the session process, which drops to the mailbox
 * owner for good.  Then:
 *  - without TLS (neither POP3S nor STLS; socket=client): the client's
 *    own TCP socket goes to the session process.  Every reply this front
 *    owes is flushed first, and what the client pipelined after the
 *    login command and this front already read goes in the list (input,
 *    at most POP3_HANDOFF_INPUT_MAX bytes, all one read can hold), so
 *    the session reads it first.  The front waits on its end of the
 *    socketpair: the session process writes one NUL byte when it runs
 *    as the mailbox owner, and the front answers with the client's
 *    socket (SCM_RIGHTS) over the socketpair, closes its end and its
 *    copy of the socket (the daemon skeleton does, after serve) and
 *    takes the next connection master gives it: it is out of the data
 *    path and never reads or writes that socket again.  The socket
 *    thus goes from this front (mail_owner) to the mailbox owner's
 *    process directly; the root parent never holds it.  Anything else
 *    first on the socketpair is pop3session's refusal ("-ERR ...",
 *    written before any fork): the front relays it as below;
 *  - with TLS (socket=relay): the TLS state lives here (pop3session
 *    links no TLS library and no root process may hold a key), so the
 *    session is served on the socketpair and the front relays it.
 * The session process answers the login command itself: "+OK Logged
 * in..." or a -ERR ([IN-USE], [SYS/PERM], [LOGIN-DELAY]...) after which
 * it hangs up.  A hand-off that fails here is answered by the front:
 * "-ERR [SYS/TEMP]".
 *
 * The relay moves bytes both ways, unchanged, until either side is done:
 * client -> session after TLS decryption, session -> client through TLS.
 * Bounds: one buffer of RELAY_CHUNK bytes a direction;
 * the client is read only when its buffer has reached the session (a
 * client that pipelines faster than the session reads is slowed down by
 * TCP, never buffered here); the session's output is written to the
 * client before the next read from the session, each write bounded by
 * pop3d_timeout.  The session process enforces the autologout; the relay
 * itself ends after pop3d_timeout plus RELAY_GRACE_MS without a byte
 * either way.  End of file from the client is passed on as a half-close
 * (the session logs the lost connection and exits); end of file from the
 * session ends the client's connection (TLS close_notify first).
 * Commands the client pipelined after the login command are already in
 * the stream's buffer: they go to the session first.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "attr.h"
#include "daemon.h"
#include "msg.h"
#include "pop3_handoff.h"
#include "pop3d.h"
#include "sock.h"
#include "xalloc.h"

#define SESSION_SERVICE "pop3session" /* private/ */
#define HANDOFF_TIMEOUT_MS 10000      /* connect and send to pop3session */
#define RELAY_CHUNK 16384
#define RELAY_GRACE_MS 60000

/* 0 with the front's end of a new socketpair in *mine, whose other end
 * pop3session has with the list h, or -1 logged. */
static int
hand_off(struct pop3_handoff *h, int *mine)
{
	struct attr_list l = ATTR_LIST_INIT;
	struct buf path = BUF_INIT;
	int sv[2], s = -1, rc = -1;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		msg_warn("socketpair: %s", strerror(errno));
		return -1;
	}
	pop3_handoff_encode(h, &l);
	buf_printf(&path, "%s/private/%s", daemon_queue_dir(), SESSION_SERVICE);
	s = sock_connect_unix(buf_cstr(&path), HANDOFF_TIMEOUT_MS);
	if (s < 0 || sock_send_fd(s, sv[1]) < 0 ||
	    attr_send(s, &l, HANDOFF_TIMEOUT_MS) < 0) {
		msg_warn("cannot hand a session to %s: %s", buf_cstr(&path),
			 strerror(errno));
		close(sv[0]);
	} else {
		*mine = sv[0];
		rc = 0;
	}
	if (s >= 0)
		close(s);
	close(sv[1]);
	attr_list_free(&l);
	buf_free(&path);
	return rc;
}

/* The list for this session: socket=client with the stream's input when
 * no TLS is on and the input fits, else socket=relay (the input stays
 * in the stream for the relay).  0, or -1 when the client is gone. */
static int
handoff_list(struct pop3d_session *ss, struct pop3_handoff *h, struct buf *tls)
{
	size_t pending = stream_pending(&ss->s);
	ssize_t n;

	if (ss->tls_on) {
		tls_info_format(&ss->tls_info, tls);
		h->tls = (char *)buf_cstr(tls);
		return 0;
	}
	h->tls = (char *)"";
	if (pending > POP3_HANDOFF_INPUT_MAX)
		return 0;
	/* Replies to commands pipelined before the login command go out
	 * before the session's first line, which it writes itself. */
	if (stream_flush(&ss->s) < 0)
		return -1;
	h->client = 1;
	if (pending > 0) {
		buf_reserve(&h->input, pending);
		n = stream_read(&ss->s, h->input.data, pending);
		if (n != (ssize_t)pending)
			return -1;
		h->input.len = pending;
	}
	return 0;
}

/* socket=client: waits for the session process's request (one NUL byte
 * on the socketpair) and passes it the client's socket.  0 when it has
 * the socket (this front must not touch it again), 1 when pop3session
 * wrote something else (its refusal, to be relayed), -1 logged. */
static int
pass_client(struct pop3d_session *ss, int pair)
{
	struct pollfd pfd = {.fd = pair, .events = POLLIN};
	char c;
	int r;
	ssize_t n;

	do
		r = poll(&pfd, 1, pop3d_cfg.timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r <= 0) {
		msg_warn("the session for rip=%s did not start: %s",
			 ss->client_addr, r == 0 ? "timeout" : strerror(errno));
		return -1;
	}
	n = recv(pair, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n != 1 || c != '\0')
		return 1; /* a refusal, or end of file: relayed */
	if (recv(pair, &c, 1, MSG_DONTWAIT) != 1 ||
	    sock_send_fd(pair, ss->fd) < 0) {
		msg_warn("cannot pass the client rip=%s to its session: %s",
			 ss->client_addr, strerror(errno));
		return -1;
	}
	return 0;
}

/* Writes as much of *buf as the session takes now: 0, or -1 when it is
 * gone. */
static int
to_session(int pair, const char *buf, size_t *off, size_t len)
{
	ssize_t n;

	while (*off < len) {
		n = send(pair, buf + *off, len - *off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		*off += (size_t)n;
	}
	return 0;
}

static void
relay(struct pop3d_session *ss, int pair)
{
	char up[RELAY_CHUNK], down[RELAY_CHUNK];
	size_t up_len = 0, up_off = 0;
	int client_eof = 0, reading, r;
	ssize_t n;
	struct pollfd pfd[2];

	/* What the client pipelined after the login command. */
	if (stream_pending(&ss->s) > 0) {
		n = stream_read(&ss->s, up, sizeof(up));
		up_len = n > 0 ? (size_t)n : 0;
	}
	for (;;) {
		if (up_off < up_len &&
		    to_session(pair, up, &up_off, up_len) < 0)
			break;
		if (up_off == up_len)
			up_off = up_len = 0;
		/* Bytes the TLS layer or the stream holds: poll cannot see
		 * them. */
		if (!client_eof && up_len == 0 &&
		    (stream_pending(&ss->s) > 0 || tls_pending(&ss->s))) {
			n = stream_read(&ss->s, up, sizeof(up));
			if (n <= 0)
				break;
			up_len = (size_t)n;
			continue;
		}
		/* A negative fd is ignored by poll(2), which would report
		 * POLLHUP even for no events. */
		reading = !client_eof && up_len == 0;
		pfd[0].fd = reading ? ss->fd : -1;
		pfd[0].events = POLLIN;
		pfd[1].fd = pair;
		pfd[1].events = POLLIN | (up_len > 0 ? POLLOUT : 0);
		pfd[0].revents = pfd[1].revents = 0;
		r = poll(pfd, 2, pop3d_cfg.timeout_ms + RELAY_GRACE_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				msg_info("disconnect: relay idle, rip=%s",
					 ss->client_addr);
			break;
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = recv(pair, down, sizeof(down), MSG_DONTWAIT);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (n <= 0)
				break; /* the session is over */
			stream_write(&ss->s, down, (size_t)n);
			if (stream_flush(&ss->s) < 0)
				break; /* the client is gone */
			continue;
		}
		if (reading &&
		    (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			n = stream_read(&ss->s, up, sizeof(up));
			if (n < 0)
				break;
			if (n == 0) {
				/* The session sees end of file, logs it
				 * and exits; its end of file ends us. */
				client_eof = 1;
				(void)shutdown(pair, SHUT_WR);
				continue;
			}
			up_len = (size_t)n;
		}
	}
}

void
pop3d_login(struct pop3d_session *ss, const char *ticket, const char *method)
{
	struct pop3_handoff h;
	struct buf tls = BUF_INIT;
	int pair = -1, rc;

	memset(&h, 0, sizeof(h));
	h.ticket = xstrdup(ticket);
	ss->quit = 1;
	/* The auth service is not needed any more (ticket was its memory,
	 * copied above). */
	pop3d_auth_session_end(ss);
	h.method = (char *)method;
	rc = handoff_list(ss, &h, &tls);
	if (rc == 0)
		rc = hand_off(&h, &pair);
	if (rc == 0 && h.client) {
		rc = pass_client(ss, pair);
		if (rc == 0)
			ss->handed_off = 1;
		else if (rc == 1)
			rc = 0; /* relay pop3session's refusal */
	}
	explicit_bzero(h.ticket, strlen(h.ticket));
	xfree(h.ticket);
	if (h.input.data)
		explicit_bzero(h.input.data, h.input.len);
	buf_free(&h.input);
	buf_free(&tls);
	if (rc < 0 && !ss->handed_off) {
		pop3d_reply(ss, "-ERR [SYS/TEMP] Cannot open the maildrop now, "
				"try again later");
		if (pair >= 0)
			close(pair);
		return;
	}
	ss->logged_in = 1;
	if (!ss->handed_off) {
		(void)stream_flush(&ss->s);
		relay(ss, pair);
	}
	close(pair);
}
