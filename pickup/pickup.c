/*
 * pickup - moves local submissions from maildrop/ into the queue.
 *
 * Service: "pickup unix n - y 60 1 pickup" (public, so that sendmail can
 * wake it; master wakes it at start and every 60 seconds).  A trigger
 * server (lib/daemon.h DAEMON_TRIGGER): any request means "scan now".
 *
 * For each finished file in $queue_directory/maildrop (lib/maildrop.h
 * says how they are written and why they are untrusted), pickup checks
 * it with maildrop_open(), queues the message in one transaction with a
 * Received: header naming the submitting uid (the file's owner, as the
 * kernel recorded it), removes the file once the queue has it, and wakes
 * qmgr.  A bad file is logged and removed; a file that cannot be queued
 * now (queue trouble, a rewriting table that cannot answer: lib/rewrite.h)
 * stays for the next scan.  Log lines are Postfix
 * pickup's: "QUEUEID: uid=N from=<SENDER>", then smtpd's
 * "from=<..>, size=N, nrcpt=N (queue active)".
 *
 * Runs chrooted in queue_directory as mail_owner (it needs nothing else).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "content_filter.h"
#include "daemon.h"
#include "dkim_keys.h"
#include "hbc.h"
#include "hdr_rewrite.h"
#include "maildrop.h"
#include "msg.h"
#include "pickup_milter.h"
#include "qmgr_request.h"
#include "queue.h"
#include "rewrite.h"
#include "xalloc.h"

#define PICKUP_READ_CHUNK QUEUE_CHUNK_MAX

static const char *myhostname;
static const char *content_filter; /* "" or "transport:destination" */
static const char *dkim_key_table, *dkim_signing_table;
static const char *receive_override;
static long long size_limit;

/* Every parameter pickup reads (conf.h, conf_bind). */
static const struct conf_bind pickup_params[] = {
    CONF_BIND_STR("myhostname", &myhostname),
    CONF_BIND_SIZE("message_size_limit", &size_limit),
    CONF_BIND_STR("content_filter", &content_filter),
    CONF_BIND_STR("dkim_key_table", &dkim_key_table),
    CONF_BIND_STR("dkim_signing_table", &dkim_signing_table),
    CONF_BIND_STR("receive_override_options", &receive_override),
    CONF_BIND_END,
};

static struct queue *pickup_queue;
static char *maildrop_dir;
static struct rewrite *pickup_rewrite;
static int pickup_milters; /* non_smtpd_milters is set */
/* DKIM signing keys (dkim_keys.h), or NULL. */
static struct dkim_keys *pickup_keys;
/* header_checks and body_checks, as smtpd's (lib/mail/hbc.h); NULL
 * when none is set or receive_override_options says
 * no_header_body_checks. */
static struct hbc_config pickup_hbc_cfg;
static struct hbc_config *pickup_hbc;
static unsigned receive_flags; /* RECEIVE_* of content_filter.h */

/* The rewriting tables (lib/rewrite.h) are out of reach after the jail. */
static void
pickup_pre_jail(void)
{
	struct rewrite_conf rc;
	struct buf err = BUF_INIT;

	if (receive_override_parse(receive_override, &receive_flags, &err) < 0)
		msg_fatal("receive_override_options: %s", buf_cstr(&err));
	rewrite_conf_read(&rc);
	if (!(receive_flags & RECEIVE_NO_ADDRESS_MAPPINGS) &&
	    (pickup_rewrite = rewrite_open(&rc, &err)) == NULL)
		msg_fatal("%s", buf_cstr(&err));
	/* The tables, like the rewriting ones, are out of reach after
	 * the jail; a bad one stops pickup at start, naming it. */
	if (!(receive_flags & RECEIVE_NO_HEADER_BODY_CHECKS)) {
		if (hbc_conf_open(&pickup_hbc_cfg, &err) < 0)
			msg_fatal("%s", buf_cstr(&err));
		/* No one to answer: where Postfix's cleanup bounces, the
		 * message waits on hold for the administrator, as with
		 * non_smtpd_milters. */
		pickup_hbc_cfg.reject_holds = 1;
		if (hbc_wanted(&pickup_hbc_cfg))
			pickup_hbc = &pickup_hbc_cfg;
	}
	/* The signing keys may be root's alone: read before the drop,
	 * as smtpd does (DESIGN.md "DKIM"). */
	if (*dkim_key_table && *dkim_signing_table &&
	    (pickup_keys = dkim_keys_load(dkim_key_table, dkim_signing_table,
					  &err)) == NULL)
		msg_fatal("dkim_signing_table: %s", buf_cstr(&err));
	buf_free(&err);
	pickup_milters =
	    !(receive_flags & RECEIVE_NO_MILTERS) && pickup_milter_init();
}

static void
pickup_post_jail(void)
{
	struct buf path = BUF_INIT;
	const char *qdir = daemon_queue_dir();

	if (*content_filter && !content_filter_valid(content_filter))
		msg_fatal("content_filter: bad value \"%s\" (need "
			  "transport:destination)",
			  content_filter);
	pickup_queue = daemon_queue_open();
	buf_printf(&path, "%s/maildrop", qdir);
	maildrop_dir = buf_steal(&path);
}

static void
pickup_pre_exit(void)
{
	queue_close(pickup_queue);
	pickup_queue = NULL;
}

static off_t
pickup_size_limit(void)
{
	long long limit = size_limit;

	/* 0 is "no limit", as in Postfix; a file still has to fit a disk. */
	return limit > 0 ? (off_t)limit : (off_t)1 << 40;
}

/* Copies the message after the Received: header, through the header and
 * body checks (h, as smtpd's: header_checks can change what follows)
 * and the header address rewriting (hr: a local submission's header is
 * rewritten, as Postfix's cleanup does for its pickup); *size counts
 * what went to the queue.  QUEUE_OK or an error. */
static int
pickup_copy(struct maildrop_file *f, struct queue_in *msg, struct hbc *h,
	    struct hdr_rewrite *hr, uint64_t *size, struct buf *hold)
{
	static char block[PICKUP_READ_CHUNK];
	struct buf out = BUF_INIT, mid = BUF_INIT;
	const char *in;
	size_t len;
	off_t left = f->content_len;
	int r = QUEUE_OK;

	while (left > 0) {
		size_t want =
		    left < (off_t)sizeof(block) ? (size_t)left : sizeof(block);
		ssize_t n = read(f->fd, block, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			msg_warn("%s: maildrop file shrank while read", f->id);
			r = QUEUE_ERROR;
			break;
		}
		left -= n;
		buf_reset(&out);
		in = block;
		len = (size_t)n;
		if (h != NULL) {
			buf_reset(&mid);
			hbc_feed(h, block, (size_t)n, &mid);
			in = mid.data ? mid.data : "";
			len = mid.len;
		}
		if (hr == NULL)
			buf_append(&out, in, len);
		else
			hdr_rewrite_feed(hr, in, len, &out);
		*size += out.len;
		if (hold != NULL)
			buf_append(hold, out.data, out.len);
		else if ((r = queue_in_write(msg, out.data, out.len)) !=
			 QUEUE_OK)
			break;
	}
	/* What the checks and the rewriter still hold (a header without a
	 * body). */
	buf_reset(&out);
	if (h != NULL) {
		buf_reset(&mid);
		hbc_finish(h, &mid);
		if (hr == NULL)
			buf_append(&out, mid.data ? mid.data : "", mid.len);
		else
			hdr_rewrite_feed(hr, mid.data ? mid.data : "", mid.len,
					 &out);
	}
	hdr_rewrite_finish(hr, &out);
	if (r == QUEUE_OK && out.len > 0) {
		*size += out.len;
		if (hold != NULL)
			buf_append(hold, out.data, out.len);
		else
			r = queue_in_write(msg, out.data, out.len);
	}
	buf_free(&out);
	buf_free(&mid);
	return r;
}

/* The header and body checks of a message from maildrop/ (hbc.h), with
 * Postfix's cleanup's "from local;" context for its log lines. */
static struct hbc *
pickup_hbc_begin(const char *id, const struct maildrop_file *f)
{
	struct buf where = BUF_INIT;
	struct hbc *h;

	if (pickup_hbc == NULL)
		return NULL;
	/* A table file was replaced: this message is checked with the old
	 * one, and master starts a pickup that opens the new. */
	const char *changed = hbc_changed(pickup_hbc);
	if (changed != NULL) {
		msg_info("%s has changed -- restarting", changed);
		daemon_request_exit();
	}
	buf_printf(&where, "from local; from=<%s>", f->env.sender);
	if (f->env.nrcpt > 0)
		buf_printf(&where, " to=<%s>", f->env.rcpts[0].address);
	h = hbc_new(pickup_hbc, id, buf_cstr(&where));
	buf_free(&where);
	return h;
}

/* Queues a held message (Received: header first), signed: the
 * signatures go on top, over what will be stored.  A message that goes
 * to a content filter is signed when it comes back (smtpd). */
static int
pickup_sign(const char *id, const char *sender, const struct buf *all,
	    struct queue_in *msg, uint64_t *size)
{
	struct buf sigs = BUF_INIT;
	int r;

	if (*content_filter == '\0')
		dkim_keys_sign(pickup_keys, all->data, all->len, sender, id,
			       &sigs);
	*size += sigs.len;
	r = queue_in_write(msg, sigs.data ? sigs.data : "", sigs.len);
	if (r == QUEUE_OK)
		r = queue_in_write(msg, all->data, all->len);
	buf_free(&sigs);
	return r;
}

/* Queues one checked file; QUEUE_OK when the file may be removed. */
static int
pickup_enqueue(struct maildrop_file *f)
{
	struct queue_in *msg = queue_in_begin(pickup_queue);
	struct queue_envelope *env;
	struct buf hdr = BUF_INIT;
	struct milter_edits edits = {0};
	enum pickup_milter_result mr = PICKUP_MILTER_ACCEPT;
	char id[QUEUE_ID_SIZE];
	int r;

	if (msg == NULL)
		return QUEUE_RECOVER;
	snprintf(id, sizeof(id), "%s", queue_in_id(msg));
	maildrop_received(&hdr, myhostname, f->uid, id, time(NULL));
	uint64_t size = hdr.len;
	/* With non_smtpd_milters the content waits in hdr for the filters'
	 * end of message, as smtpd's does (smtpd_data.c); a message to sign
	 * too, after them (a maildrop file is at most message_size_limit; a
	 * larger one goes unsigned). */
	int sign = pickup_keys != NULL &&
		   (size_limit == 0 || f->content_len <= size_limit);
	int whole = pickup_milters || sign;
	r = whole ? QUEUE_OK : queue_in_write(msg, hdr.data, hdr.len);
	struct hbc *checks = pickup_hbc_begin(id, f);
	if (r == QUEUE_OK)
		r = pickup_copy(f, msg, checks,
				hdr_rewrite_begin(pickup_rewrite, id, 0), &size,
				whole ? &hdr : NULL);
	/* DISCARD: done with (hbc logged it); a table that failed: the
	 * file stays for the next scan. */
	unsigned checked = checks ? hbc_result(checks)->flags : 0;
	if (r == QUEUE_OK &&
	    (checked & (HBC_R_DISCARD | HBC_R_DEFER | HBC_R_REJECT))) {
		if (checked & HBC_R_DEFER)
			msg_warn("%s: header or body check table failed: %s; "
				 "the file stays in maildrop",
				 id, buf_cstr(&hbc_result(checks)->reason));
		queue_in_abort(msg);
		hbc_free(checks);
		buf_free(&hdr);
		return checked & HBC_R_DEFER ? QUEUE_ERROR : QUEUE_OK;
	}
	if (r == QUEUE_OK && pickup_milters) {
		mr = pickup_milter_run(id, &f->env, &hdr, &edits);
		if (mr == PICKUP_MILTER_DEFER || mr == PICKUP_MILTER_DISCARD) {
			queue_in_abort(msg);
			buf_free(&hdr);
			milter_edits_free(&edits);
			hbc_free(checks);
			/* A discarded file is done with; a deferred one
			 * stays (QUEUE_ERROR keeps it for the next scan). */
			return mr == PICKUP_MILTER_DISCARD ? QUEUE_OK
							   : QUEUE_ERROR;
		}
		size = hdr.len;
	}
	if (r == QUEUE_OK && whole)
		r = sign ? pickup_sign(id, f->env.sender, &hdr, msg, &size)
			 : queue_in_write(msg, hdr.data, hdr.len);
	if (r != QUEUE_OK) {
		queue_in_abort(msg);
		buf_free(&hdr);
		milter_edits_free(&edits);
		hbc_free(checks);
		return r;
	}
	env = queue_in_envelope(msg);
	queue_str_set(&env->sender, f->env.sender);
	queue_str_set(&env->envid, f->env.envid);
	queue_str_set(&env->protocol, "local");
	queue_str_set(&env->filter, content_filter);
	env->ret = f->env.ret;
	env->flags = f->env.flags;
	for (size_t i = 0; i < f->env.nrcpt; i++)
		queue_envelope_add_rcpt(env, f->env.rcpts[i].address, NULL,
					f->env.rcpts[i].notify);
	milter_edits_apply(&edits, env, id);
	milter_edits_free(&edits);
	if (checks != NULL) {
		hbc_envelope(hbc_result(checks), env);
		hbc_free(checks);
		checks = NULL;
	}
	if (mr == PICKUP_MILTER_HOLD)
		env->hold = 1;
	msg_info("%s: uid=%lu from=<%s>", id, (unsigned long)f->uid,
		 f->env.sender);
	/* The queue holds rewritten addresses, as after Postfix's cleanup;
	 * a table that cannot answer leaves the file for the next scan. */
	struct buf reply = BUF_INIT;
	r = rewrite_envelope(pickup_rewrite, id, env, REWRITE_F_BCC, &reply);
	buf_free(&reply);
	if (r != REWRITE_OK) {
		queue_in_abort(msg);
		buf_free(&hdr);
		return QUEUE_ERROR;
	}
	/* The NUL octets the queue removed (queue.h) are not in the size. */
	uint64_t nuls = queue_in_nul_removed(msg);
	if (nuls > 0)
		msg_info("%s: %llu NUL octet%s removed from the content", id,
			 (unsigned long long)nuls, nuls == 1 ? "" : "s");
	size_t nrcpt = env->nrcpt;
	char *sender = xstrdup(env->sender);
	int hold = env->hold;
	if ((r = queue_in_commit(msg)) == QUEUE_OK)
		msg_info("%s: from=<%s>, size=%llu, nrcpt=%zu%s", id, sender,
			 (unsigned long long)(size - nuls), nrcpt,
			 hold ? "" : " (queue active)");
	xfree(sender);
	buf_free(&hdr);
	return r;
}

/* One file: 1 when it was queued, 0 otherwise. */
static int
pickup_file(const char *name, off_t limit)
{
	struct maildrop_file f;
	struct buf err = BUF_INIT, path = BUF_INIT;
	int r, queued = 0;

	r = maildrop_open(maildrop_dir, name, limit, &f, &err);
	buf_printf(&path, "%s/%s", maildrop_dir, name);
	if (r < 0) {
		msg_warn("maildrop/%s: %s; removed", name, buf_cstr(&err));
		if (unlink(buf_cstr(&path)) < 0 && errno != ENOENT)
			msg_warn("remove maildrop/%s: %s", name,
				 strerror(errno));
	} else if (r == 0) {
		r = pickup_enqueue(&f);
		if (r == QUEUE_OK) {
			queued = 1;
			if (unlink(buf_cstr(&path)) < 0)
				msg_warn("remove maildrop/%s: %s (the message "
					 "may be queued twice)",
					 name, strerror(errno));
		} else if (r == QUEUE_RECOVER) {
			daemon_request_exit();
		}
		maildrop_close(&f);
	}
	buf_free(&err);
	buf_free(&path);
	return queued;
}

static void
pickup_scan(const char *data, size_t len)
{
	off_t limit = pickup_size_limit();
	struct dirent *de;
	DIR *dir;
	int queued = 0;

	(void)data;
	(void)len;
	if ((dir = opendir(maildrop_dir)) == NULL) {
		msg_warn("open %s: %s", maildrop_dir, strerror(errno));
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		queued += pickup_file(de->d_name, limit);
		/* A ready message should not wait for the whole folder. */
		if (queued && queued % 100 == 0)
			qmgr_wakeup(daemon_queue_dir());
	}
	closedir(dir);
	if (queued)
		qmgr_wakeup(daemon_queue_dir());
}

int
main(int argc, char **argv)
{
	static const struct daemon_ops ops = {
	    .mode = DAEMON_TRIGGER,
	    .params = pickup_params,
	    .pre_jail = pickup_pre_jail,
	    .post_jail = pickup_post_jail,
	    .trigger = pickup_scan,
	    .pre_exit = pickup_pre_exit,
	};

	daemon_main(argc, argv, &ops);
}
