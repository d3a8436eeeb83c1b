/*
 * session_trans - the TRANSACTION and UPDATE states (RFC 1939 sections 5
 * and 6), in the child that runs as the mailbox owner.
 *
 * Message numbers and sizes are fixed at login and stay stable for the
 * session; a message marked by DELE is invisible to STAT, LIST, UIDL, RETR
 * and TOP until RSET brings it back.  Nothing changes in the maildrop
 * before QUIT: a session that ends any other way (connection lost,
 * autologout) deletes nothing and marks nothing as seen.  Sizes are
 * octets as sent (CRLF lines, without stuffing dots), so a client that
 * counts what RETR gives finds the size LIST announced.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "pop3session.h"
#include "xalloc.h"

/* Message n (1-based) when it exists and is not deleted; else a -ERR. */
static struct pop3_msg *
msg_get(struct pop3_session *ss, long n)
{
	struct pop3_msg *m;

	if (n < 1 || (size_t)n > ss->box.count) {
		session_reply(ss, "-ERR No such message");
		return NULL;
	}
	m = &ss->box.msgs[n - 1];
	if (m->deleted) {
		session_reply(ss, "-ERR Message %ld is deleted", n);
		return NULL;
	}
	return m;
}

static void
totals(const struct pop3_box *box, size_t *count, unsigned long long *octets)
{
	*count = 0;
	*octets = 0;
	for (size_t i = 0; i < box->count; i++) {
		if (box->msgs[i].deleted)
			continue;
		(*count)++;
		*octets += box->msgs[i].octets;
	}
}

static void
do_stat(struct pop3_session *ss)
{
	size_t n;
	unsigned long long octets;

	totals(&ss->box, &n, &octets);
	session_reply(ss, "+OK %zu %llu", n, octets);
}

static void
do_list(struct pop3_session *ss, int uidl)
{
	struct pop3_msg *m;
	size_t n;
	unsigned long long octets;

	if (ss->cmd.nargs == 1) {
		if ((m = msg_get(ss, ss->cmd.num1)) == NULL)
			return;
		if (uidl)
			session_reply(ss, "+OK %ld %s", ss->cmd.num1, m->uidl);
		else
			session_reply(ss, "+OK %ld %llu", ss->cmd.num1,
				      m->octets);
		return;
	}
	totals(&ss->box, &n, &octets);
	if (uidl)
		session_reply(ss, "+OK Unique-ID listing follows");
	else
		session_reply(ss, "+OK %zu messages (%llu octets)", n, octets);
	for (size_t i = 0; i < ss->box.count; i++) {
		m = &ss->box.msgs[i];
		if (m->deleted)
			continue;
		if (uidl)
			session_reply(ss, "%zu %s", i + 1, m->uidl);
		else
			session_reply(ss, "%zu %llu", i + 1, m->octets);
	}
	session_reply(ss, ".");
}

/* The +OK, the message's bytes from src (all, or the header and lines
 * lines of the body for TOP), the final dot.  0, or -1 after a read
 * error (why set): the reply is cut, the session cannot go on. */
static int
send_source(struct pop3_session *ss, const struct pop3_msg *m, long lines,
	    const struct session_source *src, struct buf *why)
{
	struct pop3_wire w;
	struct buf out = BUF_INIT;
	char *chunk = xmalloc(SESSION_IO_CHUNK);
	unsigned long long off = src->off;
	size_t want;
	ssize_t n;
	int r = 0;

	if (lines < 0)
		session_reply(ss, "+OK %llu octets", m->octets);
	else
		session_reply(ss, "+OK");
	pop3_wire_init(&w, src->wire_flags, lines);
	while (off < src->end) {
		want = src->end - off < SESSION_IO_CHUNK
			   ? (size_t)(src->end - off)
			   : SESSION_IO_CHUNK;
		n = pread(src->fd, chunk, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 && src->end == SESSION_TO_EOF)
			break;
		if (n <= 0) {
			buf_printf(why, "%s: read at %llu: %s", src->name, off,
				   n < 0 ? strerror(errno) : "end of file");
			r = -1;
			break;
		}
		off += (unsigned long long)n;
		buf_reset(&out);
		if (pop3_wire_feed(&w, chunk, (size_t)n, &out))
			off = src->end;
		stream_write(&ss->s, out.data, out.len);
	}
	if (r == 0) {
		buf_reset(&out);
		pop3_wire_finish(&w, &out);
		stream_write(&ss->s, out.data, out.len);
		session_reply(ss, ".");
	}
	xfree(chunk);
	buf_free(&out);
	return r;
}

static void
do_send(struct pop3_session *ss, long lines)
{
	struct buf why = BUF_INIT;
	struct session_source src;
	struct pop3_msg *m;
	int r;

	if ((m = msg_get(ss, ss->cmd.num1)) == NULL)
		return;
	r = ss->box.maildir ? session_maildir_source(ss, m, &src, &why)
			    : session_mbox_source(ss, m, &src, &why);
	if (r == 0) {
		r = send_source(ss, m, lines, &src, &why) < 0 ? -2 : 0;
		if (src.close_fd)
			close(src.fd);
		xfree(src.name);
	}
	if (r == -1) {
		session_reply(ss, "-ERR %s", buf_cstr(&why));
	} else if (r < 0) {
		msg_warn("user=<%s>: %s; ending the session", ss->user,
			 buf_cstr(&why));
		ss->quit = 1;
	} else if (lines < 0) {
		m->retrieved = 1;
		ss->retr_count++;
		ss->retr_bytes += m->octets;
	} else {
		ss->top_count++;
	}
	buf_free(&why);
}

static void
do_dele(struct pop3_session *ss)
{
	struct pop3_msg *m;

	if ((m = msg_get(ss, ss->cmd.num1)) == NULL)
		return;
	m->deleted = 1;
	session_reply(ss, "+OK Message %ld deleted", ss->cmd.num1);
}

static void
do_rset(struct pop3_session *ss)
{
	size_t n;
	unsigned long long octets;

	for (size_t i = 0; i < ss->box.count; i++)
		ss->box.msgs[i].deleted = 0;
	totals(&ss->box, &n, &octets);
	session_reply(ss, "+OK Maildrop has %zu messages (%llu octets)", n,
		      octets);
}

/* QUIT: the UPDATE state. */
static void
do_quit(struct pop3_session *ss)
{
	struct buf why = BUF_INIT;
	unsigned long long size = 0;
	size_t left;
	unsigned long long octets;
	int r;

	for (size_t i = 0; i < ss->box.count; i++) {
		size += ss->box.msgs[i].octets;
		if (ss->box.msgs[i].deleted)
			ss->del_count++;
	}
	r = ss->box.maildir ? session_maildir_update(ss, &why)
			    : session_mbox_update(ss, &why);
	if (r < 0) {
		session_reply(ss,
			      "-ERR [SYS/TEMP] Some deleted messages were "
			      "not removed: %s",
			      buf_cstr(&why));
		msg_warn("user=<%s>: update failed: %s", ss->user,
			 buf_cstr(&why));
		ss->del_count = 0;
	} else {
		totals(&ss->box, &left, &octets);
		session_reply(ss, "+OK Logging out, %zu messages left", left);
	}
	msg_info("logout: retr=%lu/%llu, del=%lu, size=%llu, user=<%s>",
		 ss->retr_count, ss->retr_bytes, ss->del_count, size, ss->user);
	ss->quit = 1;
	buf_free(&why);
}

static void
capa_line(void *arg, const char *text)
{
	session_reply(arg, "%s", text);
}

/* CAPA after login (RFC 2449): no USER, SASL or STLS any more
 * (lib/pop3_cmd.h: the front's list before login is the same one). */
static void
do_capa(struct pop3_session *ss)
{
	struct pop3_capa capa = {.login_delay = session_cfg.login_delay};

	pop3_capa(&capa, capa_line, ss);
}

void
session_trans_command(struct pop3_session *ss)
{
	switch (ss->cmd.id) {
	case POP3_CMD_STAT:
		do_stat(ss);
		break;
	case POP3_CMD_LIST:
		do_list(ss, 0);
		break;
	case POP3_CMD_UIDL:
		do_list(ss, 1);
		break;
	case POP3_CMD_RETR:
		do_send(ss, -1);
		break;
	case POP3_CMD_TOP:
		do_send(ss, ss->cmd.num2);
		break;
	case POP3_CMD_DELE:
		do_dele(ss);
		break;
	case POP3_CMD_RSET:
		do_rset(ss);
		break;
	case POP3_CMD_NOOP:
		session_reply(ss, "+OK");
		break;
	case POP3_CMD_CAPA:
		do_capa(ss);
		break;
	case POP3_CMD_QUIT:
		do_quit(ss);
		break;
	default:
		session_reply(ss, "-ERR Not valid in this state");
		break;
	}
}

/* UIDLs. */

static const struct pop3_msg *sort_base;

static int
by_uidl(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = strcmp(sort_base[i].uidl, sort_base[j].uidl);

	if (c != 0)
		return c;
	return i < j ? -1 : i > j;
}

void
session_uidl_unique(struct pop3_box *box)
{
	size_t *idx, *rank;
	char suffix[24];

	if (box->count < 2)
		return;
	idx = xreallocarray(NULL, box->count, sizeof(*idx));
	rank = xcalloc(box->count, sizeof(*rank));
	for (size_t i = 0; i < box->count; i++)
		idx[i] = i;
	sort_base = box->msgs;
	qsort(idx, box->count, sizeof(*idx), by_uidl);
	/* Equal ids sort in mailbox order: the first keeps its id, the
	 * later copies are numbered (mbox ids are hex: no suffixed id can
	 * meet another). */
	for (size_t k = 1; k < box->count; k++)
		if (strcmp(box->msgs[idx[k - 1]].uidl,
			   box->msgs[idx[k]].uidl) == 0)
			rank[idx[k]] = rank[idx[k - 1]] + 1;
	for (size_t i = 0; i < box->count; i++) {
		if (rank[i] == 0)
			continue;
		snprintf(suffix, sizeof(suffix), "-%zu", rank[i] + 1);
		if (strlen(box->msgs[i].uidl) + strlen(suffix) <=
		    SESSION_UIDL_MAX)
			strcat(box->msgs[i].uidl, suffix);
	}
	xfree(idx);
	xfree(rank);
	sort_base = NULL;
}
