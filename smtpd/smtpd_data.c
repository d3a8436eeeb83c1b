/*
 * smtpd_data - message content: DATA and BDAT into the queue.
 *
 * The content goes through lib/smtp_data (end-of-data detection that no
 * smuggling trick can fool, dot-unstuffing, limits) and is written to the
 * queue in chunks as it arrives, after the Received: header smtpd
 * prepends; memory use does not depend on the message size.  The reply
 * "250 2.0.0 Ok: queued as ID" is sent only after queue_in_commit() has
 * returned, that is after the commit is on disk: a message acknowledged
 * with 250 survives any crash.  Anything that goes wrong before that
 * aborts the message, which then never existed.
 *
 * A complete message is refused when it had a bare <LF> (521, and the
 * session ends: the client's idea of the end of data is not ours), is
 * over message_size_limit (552 5.3.4) or carries more than hopcount_limit
 * Received: headers (554 5.4.6).  BODY=BINARYMIME content comes only by
 * BDAT and is stored unchanged; DATA is refused once BDAT has started a
 * message (RFC 3030).  The size logged and stored counts the Received:
 * header, as Postfix's does.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "daemon.h"
#include "hbc.h"
#include "hdr_rewrite.h"
#include "iostuff.h"
#include "msg.h"
#include "own_addr.h"
#include "maildrop.h"
#include "qmgr_request.h"
#include "received.h"
#include "rewrite.h"
#include "smtp_data.h"
#include "smtpd.h"
#include "smtpd_dkim.h"
#include "smtpd_dmarc.h"
#include "smtpd_milter.h"
#include "smtpd_spf.h"
#include "smtpd_restrict.h"
#include "xalloc.h"

#define SMTPD_WRITE_CHUNK (64 * 1024)

/* A message being received, by DATA or by a sequence of BDAT chunks. */
struct smtpd_data_state {
	struct queue_in *msg;
	struct smtp_data d;
	struct buf out;
	struct hbc *hbc; /* header and body checks, or NULL */
	struct buf raw;	 /* content before the checks */
	/* Header address rewriting (lib/hdr_rewrite.h), after the checks
	 * as in Postfix's cleanup, or NULL; mid: between the two. */
	struct hdr_rewrite *hr;
	struct buf mid;
	struct smtpd_dmarc *dmarc; /* smtpd_dmarc.c, or NULL */
	uint64_t stored;	   /* octets given to the queue */
	int write_failed;
	/* smtpd_milters: the content waits here for the filters' end of
	 * message (smtpd_milter.h). */
	int milter;
	struct buf held;
	/* DKIM signing or verification, Authentication-Results: the
	 * message stays in out until the end (smtpd_dkim.h), after the
	 * filters. */
	int hold;
};

/*
 * The queue failed.  When its environment needs recovery (master runs it
 * and restarts the daemons), or when we cannot tell, this process must
 * not take more mail with its old handle: it exits after the session.
 */
static void
smtpd_queue_trouble(int status)
{
	if (status == QUEUE_RECOVER || status == QUEUE_ERROR)
		daemon_request_exit();
}

/* Content goes to the queue through the checks, the Received: header
 * smtpd prepends included (as Postfix's cleanup sees smtpd's). */
static void
smtpd_data_check(struct smtpd_data_state *st)
{
	struct buf *to = st->hr ? &st->mid : &st->out;

	if (st->hbc == NULL)
		buf_append(to, st->raw.data, st->raw.len);
	else
		hbc_feed(st->hbc, st->raw.data, st->raw.len, to);
	buf_reset(&st->raw);
	if (st->hr) {
		hdr_rewrite_feed(st->hr, st->mid.data, st->mid.len, &st->out);
		buf_reset(&st->mid);
	}
}

/* Postfix rewrites header addresses for local submissions and the
 * clients of local_header_rewrite_clients only: a remote site's headers
 * are its own. */
static struct hdr_rewrite *
smtpd_hdr_rewrite(struct smtpd_session *ss, const char *id)
{
	struct rewrite *rw = smtpd_cfg.rewrite;

	/* receive_override_options = no_address_mappings. */
	if (rw == NULL || smtpd_cfg.no_address_mappings)
		return NULL;
	if (ss->local_uid >= 0 ||
	    rewrite_local_client(
		rw, own_addr_match((const struct sockaddr *)&ss->peer),
		smtpd_client_listed("mynetworks", smtpd_cfg.mynetworks,
				    ss->client_name, ss->client_addr),
		ss->auth_user != NULL))
		return hdr_rewrite_begin(rw, id, 0);
	if (rewrite_remote_headers(rw))
		return hdr_rewrite_begin(rw, id, 1);
	return NULL;
}

static struct smtpd_data_state *
smtpd_data_begin(struct smtpd_session *ss, enum smtp_data_mode mode)
{
	struct smtpd_data_state *st = xcalloc(1, sizeof(*st));
	struct smtp_data_limits lim = {
	    .size_limit = smtpd_cfg.size_limit,
	    .line_limit = 0,
	    .header_limit = smtpd_cfg.header_limit,
	};
	struct received_info ri = {
	    .helo = ss->helo,
	    .client_name = ss->client_name,
	    .client_addr = ss->client_addr,
	    .myhostname = smtpd_cfg.myhostname,
	    .rcpt = ss->env.nrcpt == 1 ? ss->env.rcpts[0].address : NULL,
	    .esmtp = ss->esmtp,
	    .smtputf8 = ss->smtputf8,
	    .authenticated = ss->auth_user != NULL,
	    .auth_sender = smtpd_cfg.auth_header ? ss->auth_user : NULL,
	    /* Postfix: the TLS line only with smtpd_tls_received_header. */
	    .tls_protocol = ss->tls_on && smtpd_cfg.tls_received_header
				? ss->tls_info.protocol
				: NULL,
	    .tls_kex = ss->tls_info.kex,
	    .tls = ss->tls_on,
	    .tls_cipher = ss->tls_info.cipher,
	    .tls_bits = ss->tls_info.cipher_bits,
	    .tls_alg_bits = ss->tls_info.alg_bits,
	    .when = time(NULL),
	};

	st->msg = queue_in_begin(smtpd_cfg.queue);
	if (st->msg == NULL) {
		smtpd_queue_trouble(QUEUE_RECOVER);
		xfree(st);
		return NULL;
	}
	ri.queue_id = queue_in_id(st->msg);
	st->milter = smtpd_milter_active(ss);
	st->dmarc = smtpd_dmarc_begin(ss);
	st->hold = smtpd_dkim_hold(ss) || smtpd_dmarc_marks(st->dmarc);
	st->hbc = smtpd_hbc_begin(ss, ri.queue_id);
	st->hr = smtpd_hdr_rewrite(ss, ri.queue_id);
	/* PREPEND actions of the access policy, above Received:; the
	 * header checks see them, as Postfix's cleanup sees smtpd's. */
	smtpd_restrict_prepend(ss, &st->raw);
	/* Received-SPF: above Received:, as RFC 7208 9.1 asks. */
	smtpd_spf_header(ss, ss->env.sender, &st->raw);
	if (ss->local_uid >= 0)
		maildrop_received(&st->raw, smtpd_cfg.myhostname,
				  (uid_t)ss->local_uid, ri.queue_id, ri.when);
	else
		received_build(&st->raw, &ri);
	smtpd_data_check(st);
	smtp_data_init(&st->d, mode, &lim);
	return st;
}

static size_t
smtpd_data_feed(struct smtpd_data_state *st, const void *p, size_t len)
{
	size_t used;

	if (st->hbc == NULL && st->hr == NULL)
		return smtp_data_feed(&st->d, p, len, &st->out);
	used = smtp_data_feed(&st->d, p, len, &st->raw);
	smtpd_data_check(st);
	return used;
}

/* Moves what the state machine produced into the queue, or keeps it
 * for the filters (held) and then for DKIM (out) until the end. */
static void
smtpd_data_flush(struct smtpd_data_state *st, int force)
{
	if (st->out.len == 0 || (!force && st->out.len < SMTPD_WRITE_CHUNK))
		return;
	if (st->d.flags & SMTP_DATA_F_TOO_BIG) {
		/* Refused at the end: nothing more is kept. */
		st->stored += st->out.len;
		buf_reset(&st->out);
		return;
	}
	if (st->milter) {
		buf_append(&st->held, st->out.data, st->out.len);
		buf_reset(&st->out);
		return;
	}
	if (st->hold)
		return;
	st->stored += st->out.len;
	smtpd_dmarc_feed(st->dmarc, st->out.data, st->out.len);
	if (!st->write_failed) {
		int r = queue_in_write(st->msg, st->out.data, st->out.len);
		if (r != QUEUE_OK) {
			smtpd_queue_trouble(r);
			st->write_failed = 1;
		}
	}
	buf_reset(&st->out);
}

static void
smtpd_data_free(struct smtpd_data_state *st)
{
	if (st == NULL)
		return;
	if (st->msg)
		queue_in_abort(st->msg);
	hbc_free(st->hbc);
	hdr_rewrite_finish(st->hr, &st->mid);
	smtpd_dmarc_free(st->dmarc);
	buf_free(&st->mid);
	buf_free(&st->out);
	buf_free(&st->raw);
	buf_free(&st->held);
	xfree(st);
}

static void
smtpd_fill_envelope(struct smtpd_session *ss, struct queue_envelope *env)
{
	queue_str_set(&env->sender, ss->env.sender);
	queue_str_set(&env->envid, ss->env.envid);
	env->ret = ss->env.ret;
	queue_str_set(&env->client_name, ss->client_name);
	queue_str_set(&env->client_addr, ss->client_addr);
	queue_str_set(&env->helo, ss->helo);
	queue_str_set(&env->protocol, smtpd_protocol(ss));
	queue_str_set(&env->auth_user, ss->auth_user);
	if (ss->body_8bit)
		env->flags |= QUEUE_FLAG_8BITMIME;
	if (ss->smtputf8)
		env->flags |= QUEUE_FLAG_SMTPUTF8;
	if (ss->body_binary)
		env->flags |= QUEUE_FLAG_BINARYMIME;
	for (size_t i = 0; i < ss->env.nrcpt; i++) {
		const struct queue_rcpt *r = &ss->env.rcpts[i];
		queue_envelope_add_rcpt(env, r->address, r->orcpt, r->notify);
	}
}

/* The held content through the filters, then on as they left it (into
 * the queue, or to DKIM); a queue write that fails is a 451, as any
 * other. */
static enum smtpd_milter_eom
smtpd_milter_finish(struct smtpd_session *ss, struct smtpd_data_state *st,
		    const char *id, const char *cmd, struct buf *reply)
{
	enum smtpd_milter_eom r =
	    smtpd_milter_message(ss, id, cmd, &st->held, reply);

	if (r != SMTPD_MILTER_ACCEPT)
		return r;
	buf_append(&st->out, st->held.data, st->held.len);
	buf_free(&st->held);
	st->milter = 0;
	smtpd_data_flush(st, 1);
	if (st->write_failed) {
		buf_reset(reply);
		buf_puts(reply, "451 4.3.0 Error: queue file write error");
		smtpd_log_reject(ss, id, cmd, buf_cstr(reply), NULL);
		return SMTPD_MILTER_REJECT;
	}
	return SMTPD_MILTER_ACCEPT;
}

/* Decides the fate of a complete message; replies and logs.  A refusal
 * counts as a failed c (DATA or BDAT) and may end the session. */
static void
smtpd_data_finish(struct smtpd_session *ss, struct smtpd_data_state *st,
		  const char *cmd, enum smtpd_counter c)
{
	char id[QUEUE_ID_SIZE];
	struct buf reply = BUF_INIT;
	uint64_t size;
	int status;

	/* The id outlives the message handle, which commit frees. */
	snprintf(id, sizeof(id), "%s", queue_in_id(st->msg));
	smtpd_data_check(st);
	if (st->hbc)
		hbc_finish(st->hbc, st->hr ? &st->mid : &st->out);
	if (st->hr) {
		hdr_rewrite_feed(st->hr, st->mid.data, st->mid.len, &st->out);
		buf_reset(&st->mid);
		hdr_rewrite_finish(st->hr, &st->out);
		st->hr = NULL;
	}
	smtpd_data_flush(st, 1);
	if ((st->d.flags & SMTP_DATA_F_BARE_LF) &&
	    st->d.mode != SMTP_DATA_MODE_BINARY) {
		buf_printf(&reply, "521 5.5.2 %s Error: bare <LF> received",
			   smtpd_cfg.myhostname);
		ss->quit = 1;
	} else if (st->d.flags & SMTP_DATA_F_TOO_BIG) {
		buf_puts(&reply, "552 5.3.4 Error: message file too big");
	} else if (st->d.received > (unsigned)smtpd_cfg.hopcount_limit) {
		buf_puts(&reply, "554 5.4.6 Error: too many hops");
	} else if (st->write_failed) {
		buf_puts(&reply, "451 4.3.0 Error: queue file write error");
	} else if (st->hbc && smtpd_hbc_reply(hbc_result(st->hbc), &reply)) {
		/* hbc logged the reject line, as Postfix's cleanup does. */
		smtpd_reply(ss, "%s", buf_cstr(&reply));
		buf_free(&reply);
		ss->fails[c]++;
		return;
	}
	if (reply.len) {
		smtpd_log_reject(ss, id, cmd, buf_cstr(&reply), NULL);
		smtpd_reply(ss, "%s", buf_cstr(&reply));
		buf_free(&reply);
		ss->fails[c]++;
		return;
	}
	if (st->milter) {
		switch (smtpd_milter_finish(ss, st, id, cmd, &reply)) {
		case SMTPD_MILTER_REJECT:
			smtpd_reply(ss, "%s", buf_cstr(&reply));
			buf_free(&reply);
			ss->fails[c]++;
			return;
		case SMTPD_MILTER_DISCARD:
			smtpd_reply(ss, "250 2.0.0 Ok: queued as %s", id);
			return;
		case SMTPD_MILTER_ACCEPT:
			break;
		}
	}
	/* As in Postfix, the size is the message as queued: without the
	 * NUL octets the queue removed (queue.h). */
	uint64_t nuls = queue_in_nul_removed(st->msg);
	size = st->stored - nuls;
	if (ss->local_uid >= 0)
		msg_info("%s: uid=%ld from=<%s>", id, ss->local_uid,
			 ss->env.sender);
	else
		msg_info("%s: client=%s[%s]%s%s%s%s", id, ss->client_name,
			 ss->client_addr, ss->auth_user ? ", sasl_method=" : "",
			 ss->auth_user ? ss->auth_mech : "",
			 ss->auth_user ? ", sasl_username=" : "",
			 ss->auth_user ? ss->auth_user : "");
	if (st->d.message_id[0])
		msg_info("%s: message-id=%s", id, st->d.message_id);
	if (st->d.flags & SMTP_DATA_F_HEADER_CUT)
		msg_info("%s: header field longer than header_size_limit "
			 "(%llu bytes): the excess was discarded",
			 id, (unsigned long long)smtpd_cfg.header_limit);
	if (nuls > 0)
		msg_info("%s: %llu NUL octet%s removed from the content", id,
			 (unsigned long long)nuls, nuls == 1 ? "" : "s");
	if (st->hbc && (hbc_result(st->hbc)->flags & HBC_R_DISCARD)) {
		/* Claimed delivered, never queued (hbc logged why). */
		smtpd_reply(ss, "250 2.0.0 Ok: queued as %s", id);
		return;
	}
	smtpd_fill_envelope(ss, queue_in_envelope(st->msg));
	smtpd_milter_envelope(ss, id, queue_in_envelope(st->msg));
	/* The queue holds rewritten addresses (lib/rewrite.h): canonical,
	 * masquerading, virtual aliases, automatic BCC, as Postfix's
	 * cleanup does before its queue file.  no_address_mappings (the
	 * smtpd before a content filter, whose mail comes back rewritten
	 * through the next one) queues the envelope as received. */
	if (!smtpd_cfg.no_address_mappings &&
	    rewrite_envelope(smtpd_cfg.rewrite, id, queue_in_envelope(st->msg),
			     REWRITE_F_BCC, &reply) != REWRITE_OK) {
		smtpd_log_reject(ss, id, cmd, buf_cstr(&reply), NULL);
		smtpd_reply(ss, "%s", buf_cstr(&reply));
		buf_free(&reply);
		ss->fails[c]++;
		return;
	}
	/* content_filter, then an access table's FILTER (in the access
	 * policy below), then a header or body check's: the last wins, as
	 * in Postfix, where cleanup sees them in that order. */
	if (*smtpd_cfg.content_filter)
		queue_str_set(&queue_in_envelope(st->msg)->filter,
			      smtpd_cfg.content_filter);
	/* The access policy: end-of-data restrictions, HOLD, DISCARD,
	 * REDIRECT, FILTER (smtpd_restrict.c logs its decision). */
	switch (smtpd_restrict_eod(ss, id, cmd, queue_in_envelope(st->msg),
				   &reply)) {
	case SMTPD_EOD_REJECT:
		smtpd_reply(ss, "%s", buf_cstr(&reply));
		buf_free(&reply);
		ss->fails[c]++;
		return;
	case SMTPD_EOD_DISCARD:
		smtpd_reply(ss, "250 2.0.0 Ok: queued as %s", id);
		return;
	case SMTPD_EOD_ACCEPT:
		break;
	}
	if (st->hbc)
		hbc_envelope(hbc_result(st->hbc), queue_in_envelope(st->msg));
	if (st->hold) {
		/* The final content: signed, verified, with our
		 * Authentication-Results (smtpd_dkim.c). */
		const char *filter = queue_in_envelope(st->msg)->filter;

		smtpd_dkim_apply(ss, id, filter != NULL && *filter != '\0',
				 st->dmarc, &st->out);
		st->hold = 0;
		smtpd_data_flush(st, 1);
		size = st->stored - queue_in_nul_removed(st->msg);
		if (st->write_failed) {
			buf_puts(&reply,
				 "451 4.3.0 Error: queue file write error");
			smtpd_log_reject(ss, id, cmd, buf_cstr(&reply), NULL);
			smtpd_reply(ss, "%s", buf_cstr(&reply));
			buf_free(&reply);
			ss->fails[c]++;
			return;
		}
	}
	/* DMARC (smtpd_dmarc.c), on the content as queued: reject, or
	 * HOLD.  (DKIM's results go in here once smtpd_dkim passes them.) */
	if (smtpd_dmarc_finish(ss, st->dmarc, id, cmd,
			       queue_in_envelope(st->msg), &reply)) {
		smtpd_reply(ss, "%s", buf_cstr(&reply));
		buf_free(&reply);
		ss->fails[c]++;
		return;
	}
	struct queue_in *msg = st->msg;
	int hold = queue_in_envelope(msg)->hold;
	/* The log shows the envelope as queued (rewritten, expanded), as
	 * Postfix's cleanup logs its queue file. */
	size_t nrcpt = queue_in_envelope(msg)->nrcpt;
	char *sender = xstrdup(queue_in_envelope(msg)->sender);
	st->msg = NULL;
	if ((status = queue_in_commit(msg)) != QUEUE_OK) {
		xfree(sender);
		smtpd_queue_trouble(status);
		buf_puts(&reply, "451 4.3.0 Error: queue file write error");
		smtpd_log_reject(ss, id, cmd, buf_cstr(&reply), NULL);
		smtpd_reply(ss, "%s", buf_cstr(&reply));
		buf_free(&reply);
		ss->fails[c]++;
		return;
	}
	/* A message on hold is not active (header_checks HOLD). */
	msg_info("%s: from=<%s>, size=%llu, nrcpt=%zu%s", id, sender,
		 (unsigned long long)size, nrcpt,
		 hold ? "" : " (queue active)");
	xfree(sender);
	smtpd_reply(ss, "250 2.0.0 Ok: queued as %s", id);
	stream_flush(&ss->s);
	qmgr_wakeup(daemon_queue_dir());
}

static int
smtpd_data_ready(struct smtpd_session *ss, enum smtpd_counter c)
{
	if (!ss->in_mail || ss->env.nrcpt == 0) {
		smtpd_reply(ss, ss->in_mail ? "554 5.5.1 Error: no valid "
					      "recipients"
					    : "503 5.5.1 Error: need RCPT "
					      "command");
		ss->fails[c]++;
		return 0;
	}
	return 1;
}

void
smtpd_data(struct smtpd_session *ss)
{
	struct smtpd_data_state *st;
	const char *p;
	long long line_deadline;
	size_t used;
	ssize_t n;

	if (!smtpd_data_ready(ss, CNT_DATA))
		return;
	if (ss->bdat != NULL || ss->bdat_failed) {
		/* RFC 3030 2: no DATA in a transaction that used BDAT. */
		smtpd_reply(ss, "503 5.5.1 Error: DATA after BDAT");
		ss->fails[CNT_DATA]++;
		return;
	}
	if (ss->body_binary) {
		/* RFC 3030: BINARYMIME content can only come by BDAT. */
		smtpd_reply(ss, "503 5.5.1 Error: BDAT required for "
				"BODY=BINARYMIME");
		ss->fails[CNT_DATA]++;
		return;
	}
	st = smtpd_data_begin(ss, SMTP_DATA_MODE_DATA);
	if (st == NULL) {
		smtpd_reply(ss, "451 4.3.0 Error: queue file write error");
		ss->fails[CNT_DATA]++;
		return;
	}
	smtpd_reply(ss, "354 End data with <CR><LF>.<CR><LF>");
	stream_flush(&ss->s);
	line_deadline = io_deadline(smtpd_cfg.timeout_ms);
	while (!smtp_data_done(&st->d)) {
		/* smtpd_per_record_deadline: the wait for the rest of a line
		 * shrinks as the line trickles in, so a byte now and then
		 * cannot hold the process forever. */
		if (smtpd_cfg.per_record_deadline)
			stream_set_timeout(&ss->s, io_left_ms(line_deadline));
		n = stream_peek(&ss->s, &p);
		if (n <= 0) {
			char detail[64];
			/* The 421 goes out with the whole write timeout. */
			stream_set_timeout(&ss->s, smtpd_cfg.timeout_ms);
			snprintf(detail, sizeof(detail), " (%llu bytes)",
				 (unsigned long long)st->d.raw_size);
			if (n < 0 && stream_error(&ss->s) == STREAM_TIMEOUT)
				smtpd_timeout(ss, detail);
			else
				msg_info("lost connection after DATA%s from "
					 "%s[%s]",
					 detail, ss->client_name,
					 ss->client_addr);
			smtpd_data_free(st);
			ss->quit = 1;
			return;
		}
		used = smtpd_data_feed(st, p, (size_t)n);
		if (memchr(p, '\n', used) != NULL)
			line_deadline = io_deadline(smtpd_cfg.timeout_ms);
		stream_consume(&ss->s, used);
		smtpd_data_flush(st, 0);
	}
	stream_set_timeout(&ss->s, smtpd_cfg.timeout_ms);
	ss->where = "END-OF-MESSAGE";
	smtpd_data_finish(ss, st, "END-OF-MESSAGE", CNT_DATA);
	smtpd_data_free(st);
	smtpd_reset_transaction(ss);
}

/* With smtpd_per_record_deadline, a BDAT chunk is read as records of
 * this many octets (the chunk's rest when less), each of which must come
 * whole within smtpd_timeout: a chunk has no lines to bound, and a record
 * this size keeps a byte now and then from holding the process, while a
 * slow but honest client moves a record in far less than the timeout. */
#define SMTPD_BDAT_RECORD 4096

/* Reads a chunk of size bytes, feeding it to st (or discarding it when
 * st is NULL); 0, or -1 when the connection failed or timed out. */
static int
smtpd_bdat_read(struct smtpd_session *ss, struct smtpd_data_state *st,
		uint64_t size)
{
	const char *p;
	ssize_t n;
	uint64_t record = 0; /* octets of the current record read */
	long long deadline = io_deadline(smtpd_cfg.timeout_ms);

	while (size > 0) {
		if (smtpd_cfg.per_record_deadline)
			stream_set_timeout(&ss->s, io_left_ms(deadline));
		n = stream_peek(&ss->s, &p);
		if (n <= 0) {
			stream_set_timeout(&ss->s, smtpd_cfg.timeout_ms);
			return -1;
		}
		if ((uint64_t)n > size)
			n = (ssize_t)size;
		if (st) {
			smtpd_data_feed(st, p, (size_t)n);
			smtpd_data_flush(st, 0);
		}
		stream_consume(&ss->s, (size_t)n);
		size -= (uint64_t)n;
		record += (uint64_t)n;
		if (record >= SMTPD_BDAT_RECORD) {
			record = 0;
			deadline = io_deadline(smtpd_cfg.timeout_ms);
		}
	}
	stream_set_timeout(&ss->s, smtpd_cfg.timeout_ms);
	return 0;
}

/* A chunk could not be read: 421 and a log line for a timeout (with the
 * octets of the message so far, as after DATA), a log line for a lost
 * connection. */
static void
smtpd_bdat_lost(struct smtpd_session *ss, const struct smtpd_data_state *st)
{
	char detail[64] = "";

	if (st != NULL)
		snprintf(detail, sizeof(detail), " (%llu bytes)",
			 (unsigned long long)st->d.raw_size);
	if (stream_error(&ss->s) == STREAM_TIMEOUT)
		smtpd_timeout(ss, detail);
	else
		msg_info("lost connection after BDAT%s from %s[%s]", detail,
			 ss->client_name, ss->client_addr);
	ss->quit = 1;
}

void
smtpd_bdat(struct smtpd_session *ss, const struct smtp_cmd *cmd)
{
	struct smtpd_data_state *st = ss->bdat;

	if (!ss->in_mail || ss->env.nrcpt == 0 || ss->bdat_failed) {
		/* The chunk is on its way: it must be read, never parsed as
		 * commands (RFC 3030). */
		if (smtpd_bdat_read(ss, NULL, cmd->bdat_size) < 0) {
			smtpd_bdat_lost(ss, NULL);
			return;
		}
		if (!smtpd_data_ready(ss, CNT_BDAT))
			return;
		smtpd_reply(ss, "451 4.3.0 Error: earlier chunk failed");
		ss->fails[CNT_BDAT]++;
		if (cmd->bdat_last)
			smtpd_reset_transaction(ss);
		return;
	}
	if (st == NULL) {
		st =
		    smtpd_data_begin(ss, ss->body_binary ? SMTP_DATA_MODE_BINARY
							 : SMTP_DATA_MODE_BDAT);
		ss->bdat = st;
		if (st == NULL)
			ss->bdat_failed = 1;
	}
	if (smtpd_bdat_read(ss, st, cmd->bdat_size) < 0) {
		smtpd_bdat_lost(ss, st);
		return;
	}
	if (st == NULL) {
		smtpd_reply(ss, "451 4.3.0 Error: queue file write error");
		ss->fails[CNT_BDAT]++;
		return;
	}
	if (!cmd->bdat_last) {
		smtpd_reply(ss, "250 2.0.0 Ok: %llu bytes",
			    (unsigned long long)cmd->bdat_size);
		return;
	}
	smtp_data_finish(&st->d, &st->raw);
	smtpd_data_finish(ss, st, "BDAT", CNT_BDAT);
	smtpd_reset_transaction(ss);
}

void
smtpd_bdat_abort(struct smtpd_session *ss)
{
	smtpd_data_free(ss->bdat);
	ss->bdat = NULL;
	ss->bdat_failed = 0;
}
