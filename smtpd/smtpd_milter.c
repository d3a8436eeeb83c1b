/*
 * smtpd_milter - mail filters in smtpd; see smtpd_milter.h.
 *
 * smtpd itself is the filters' peer: the session's process connects to
 * each filter at the client's connection (from its jail, as mail_owner)
 * and keeps the connections for the session, as Postfix's smtpd does
 * (Postfix's cleanup takes the content part; Panacea has no cleanup, so
 * smtpd does both).  A network client gets smtpd_milters; a local
 * submission (sendmail through the submit service) non_smtpd_milters.
 *
 * The content of a filtered message is held in memory until the filters'
 * end of message (it is at most message_size_limit), then written to the
 * queue as they left it: the queue never sees a version the filters did
 * not pass.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "conf.h"
#include "milter.h"
#include "msg.h"
#include "sock.h"
#include "smtpd.h"
#include "smtpd_milter.h"
#include "xalloc.h"

struct smtpd_milter {
	struct milters *ms;
	struct smtpd_session *ss;
	char *denied;	/* the connection was refused */
	int discard;	/* a filter discarded the transaction's message */
	int quarantine; /* ... put it on hold (at any stage) */
	char *reason;	/* the quarantine reason */
	int data_sent;	/* DATA went to the filters */
	struct milter_edits edits;
	const char *sender; /* the MAIL being asked about */
	const char *rcpt;   /* the RCPT being asked about */
	const char *queue_id;
	char daemon_addr[64];
	char client_port[16];
	struct buf tmp; /* a macro's value being built */
};

static struct milter_conf conf;
static const char *smtpd_list, *non_smtpd_list;
static const char *daemon_name, *macro_v;

void
smtpd_milter_init(void)
{
	struct buf err = BUF_INIT;
	struct milters *probe;

	smtpd_list = conf_str("smtpd_milters");
	non_smtpd_list = conf_str("non_smtpd_milters");
	daemon_name = conf_str("milter_macro_daemon_name");
	macro_v = conf_str("milter_macro_v");
	if (milter_conf_read(&conf, &err) < 0)
		msg_fatal("%s", buf_cstr(&err));
	/* Bad lists stop smtpd at start, not a client later. */
	for (int i = 0; i < 2; i++) {
		const char *list = i ? non_smtpd_list : smtpd_list;
		probe = milters_open(list, &conf, NULL, NULL, &err);
		if (probe == NULL && err.len)
			msg_fatal("%s: %s",
				  i ? "non_smtpd_milters" : "smtpd_milters",
				  buf_cstr(&err));
		milters_close(probe);
	}
	buf_free(&err);
}

static const char *
domain_of(const char *a)
{
	const char *at = a ? strrchr(a, '@') : NULL;

	return at ? at + 1 : "";
}

/* The macros Postfix sends, from the session's state. */
static const char *
macro(const char *name, void *ctx)
{
	struct smtpd_milter *sm = ctx;
	struct smtpd_session *ss = sm->ss;

	buf_reset(&sm->tmp);
	if (strcmp(name, "j") == 0)
		return smtpd_cfg.myhostname;
	if (strcmp(name, "{daemon_name}") == 0)
		return daemon_name;
	if (strcmp(name, "{daemon_addr}") == 0)
		return sm->daemon_addr[0] ? sm->daemon_addr : NULL;
	if (strcmp(name, "v") == 0)
		return macro_v;
	if (strcmp(name, "_") == 0) {
		buf_printf(&sm->tmp, "%s [%s]", ss->client_name,
			   ss->client_addr);
		return buf_cstr(&sm->tmp);
	}
	if (strcmp(name, "{client_addr}") == 0)
		return ss->client_addr;
	if (strcmp(name, "{client_name}") == 0 ||
	    strcmp(name, "{client_ptr}") == 0)
		return ss->client_name;
	if (strcmp(name, "{client_port}") == 0)
		return sm->client_port;
	if (strcmp(name, "{client_resolve}") == 0)
		return strcmp(ss->client_name, "unknown") ? "OK" : "FAIL";
	if (strcmp(name, "i") == 0)
		return sm->queue_id;
	if (strcmp(name, "{tls_version}") == 0)
		return ss->tls_on ? ss->tls_info.protocol : NULL;
	if (strcmp(name, "{cipher}") == 0)
		return ss->tls_on ? ss->tls_info.cipher : NULL;
	if (strcmp(name, "{cipher_bits}") == 0) {
		if (!ss->tls_on)
			return NULL;
		buf_printf(&sm->tmp, "%d", ss->tls_info.cipher_bits);
		return buf_cstr(&sm->tmp);
	}
	if (strcmp(name, "{cert_subject}") == 0)
		return ss->tls_on && ss->tls_info.peer_cert
			   ? ss->tls_info.peer_cn
			   : NULL;
	if (strcmp(name, "{cert_issuer}") == 0)
		return ss->tls_on && ss->tls_info.peer_cert
			   ? ss->tls_info.issuer_cn
			   : NULL;
	if (strcmp(name, "{auth_type}") == 0)
		return ss->auth_user ? ss->auth_mech : NULL;
	if (strcmp(name, "{auth_authen}") == 0)
		return ss->auth_user;
	if (strcmp(name, "{auth_author}") == 0)
		return NULL;
	if (strcmp(name, "{mail_addr}") == 0)
		return sm->sender;
	if (strcmp(name, "{mail_host}") == 0)
		return sm->sender ? domain_of(sm->sender) : NULL;
	if (strcmp(name, "{mail_mailer}") == 0)
		return sm->sender ? (ss->local_uid >= 0 ? "local" : "smtp")
				  : NULL;
	if (strcmp(name, "{rcpt_addr}") == 0)
		return sm->rcpt;
	if (strcmp(name, "{rcpt_host}") == 0)
		return sm->rcpt ? domain_of(sm->rcpt) : NULL;
	if (strcmp(name, "{rcpt_mailer}") == 0)
		return sm->rcpt ? (smtpd_is_local_domain(domain_of(sm->rcpt))
				       ? "local"
				       : "smtp")
				: NULL;
	return NULL;
}

void
smtpd_milter_connect(struct smtpd_session *ss)
{
	const char *list = ss->local_uid >= 0 ? non_smtpd_list : smtpd_list;
	struct smtpd_milter *sm;
	struct buf reply = BUF_INIT, err = BUF_INIT;
	struct sockaddr_storage me;
	socklen_t len = sizeof(me);
	char family = 'U';

	if (smtpd_cfg.no_milters || list == NULL || *list == '\0')
		return;
	sm = xcalloc(1, sizeof(*sm));
	sm->ss = ss;
	sm->ms = milters_open(list, &conf, macro, sm, &err);
	buf_free(&err);
	if (sm->ms == NULL) {
		xfree(sm);
		return;
	}
	ss->milter = sm;
	if (getsockname(ss->s.fd, (struct sockaddr *)&me, &len) == 0 &&
	    (me.ss_family == AF_INET || me.ss_family == AF_INET6))
		sock_addr_text((struct sockaddr *)&me, sm->daemon_addr,
			       sizeof(sm->daemon_addr));
	if (ss->local_uid < 0) {
		family = ss->peer.ss_family == AF_INET6 ? '6' : '4';
		snprintf(sm->client_port, sizeof(sm->client_port), "%d",
			 ss->client_port);
	} else {
		snprintf(sm->client_port, sizeof(sm->client_port), "0");
	}
	switch (milters_connect(
	    sm->ms, ss->client_name, family,
	    (unsigned)(ss->client_port > 0 ? ss->client_port : 0),
	    ss->client_addr, &reply)) {
	case MILTER_REJECT:
	case MILTER_TEMPFAIL:
		sm->denied = buf_steal(&reply);
		smtpd_log_action(ss, NULL, "milter-reject", "CONNECT",
				 sm->denied, NULL);
		break;
	default:
		break;
	}
	buf_free(&reply);
}

const char *
smtpd_milter_denied(struct smtpd_session *ss)
{
	if (ss->milter == NULL)
		return NULL;
	return ss->milter->denied ? ss->milter->denied
				  : milters_denied(ss->milter->ms);
}

/* A stage's verdict: 1 (refused, logged) with reply set, or 0. */
static int
stage_verdict(struct smtpd_session *ss, enum milter_verdict v, const char *cmd,
	      const char *rcpt, struct buf *reply)
{
	struct smtpd_milter *sm = ss->milter;

	switch (v) {
	case MILTER_REJECT:
	case MILTER_TEMPFAIL:
		smtpd_log_action(ss, NULL, "milter-reject", cmd,
				 buf_cstr(reply), rcpt);
		return 1;
	case MILTER_DISCARD:
		/* Accepted, and the message dropped at its end. */
		if (!sm->discard)
			smtpd_log_action(ss, NULL, "milter-discard", cmd,
					 "milter triggers DISCARD action",
					 rcpt);
		sm->discard = 1;
		return 0;
	default:
		return 0;
	}
}

int
smtpd_milter_helo(struct smtpd_session *ss, struct buf *reply)
{
	if (ss->milter == NULL || ss->milter->denied)
		return 0;
	return stage_verdict(ss, milters_helo(ss->milter->ms, ss->helo, reply),
			     "HELO", NULL, reply);
}

/* The ESMTP arguments of MAIL or RCPT as sent ("SIZE=100"). */
static size_t
esmtp_args(const struct smtp_cmd *cmd, char **store, const char **args)
{
	size_t n = 0;

	for (int i = 0; i < cmd->nparams && i < SMTP_PARAM_MAX; i++) {
		const struct smtp_param *p = &cmd->params[i];
		struct buf b = BUF_INIT;
		buf_puts(&b, p->keyword);
		if (p->value)
			buf_printf(&b, "=%s", p->value);
		store[n] = buf_steal(&b);
		args[n] = store[n];
		n++;
	}
	return n;
}

static void
free_args(char **store, size_t n)
{
	for (size_t i = 0; i < n; i++)
		xfree(store[i]);
}

int
smtpd_milter_mail(struct smtpd_session *ss, const struct smtp_cmd *cmd,
		  struct buf *reply)
{
	struct smtpd_milter *sm = ss->milter;
	char *store[SMTP_PARAM_MAX];
	const char *args[SMTP_PARAM_MAX];
	size_t n;
	int r;

	if (sm == NULL)
		return 0;
	smtpd_milter_reset(ss);
	n = esmtp_args(cmd, store, args);
	sm->sender = cmd->path.addr;
	r = stage_verdict(ss,
			  milters_mail(sm->ms, cmd->path.addr, args, n, reply),
			  "MAIL", NULL, reply);
	sm->sender = NULL;
	free_args(store, n);
	if (r)
		milters_abort(sm->ms);
	return r;
}

int
smtpd_milter_rcpt(struct smtpd_session *ss, const struct smtp_cmd *cmd,
		  struct buf *reply)
{
	struct smtpd_milter *sm = ss->milter;
	char *store[SMTP_PARAM_MAX];
	const char *args[SMTP_PARAM_MAX];
	size_t n;
	int r;

	if (sm == NULL)
		return 0;
	n = esmtp_args(cmd, store, args);
	sm->rcpt = cmd->path.addr;
	r = stage_verdict(ss,
			  milters_rcpt(sm->ms, cmd->path.addr, args, n, reply),
			  "RCPT", cmd->path.addr, reply);
	sm->rcpt = NULL;
	free_args(store, n);
	return r;
}

int
smtpd_milter_data(struct smtpd_session *ss, struct buf *reply)
{
	struct smtpd_milter *sm = ss->milter;

	if (sm == NULL || sm->data_sent)
		return 0;
	sm->data_sent = 1;
	return stage_verdict(ss, milters_data(sm->ms, reply), "DATA", NULL,
			     reply);
}

int
smtpd_milter_unknown(struct smtpd_session *ss, const char *line,
		     struct buf *reply)
{
	struct smtpd_milter *sm = ss->milter;

	if (sm == NULL || sm->denied)
		return 0;
	return stage_verdict(ss, milters_unknown(sm->ms, line, reply),
			     "UNKNOWN", NULL, reply);
}

int
smtpd_milter_active(struct smtpd_session *ss)
{
	return ss->milter != NULL;
}

enum smtpd_milter_eom
smtpd_milter_message(struct smtpd_session *ss, const char *queue_id,
		     const char *cmd, struct buf *content, struct buf *reply)
{
	struct smtpd_milter *sm = ss->milter;
	enum milter_verdict v = MILTER_CONTINUE;

	sm->queue_id = queue_id;
	/* BDAT has no DATA command: its event goes now. */
	if (!sm->data_sent && !sm->discard) {
		sm->data_sent = 1;
		v = milters_data(sm->ms, reply);
	}
	if (v == MILTER_CONTINUE && !sm->discard)
		v = milters_message(sm->ms, content, &sm->edits, reply);
	switch (v) {
	case MILTER_REJECT:
	case MILTER_TEMPFAIL:
		smtpd_log_action(ss, queue_id, "milter-reject", cmd,
				 buf_cstr(reply), NULL);
		return SMTPD_MILTER_REJECT;
	case MILTER_DISCARD:
		sm->discard = 1;
		break;
	default:
		break;
	}
	if (sm->discard) {
		smtpd_log_action(ss, queue_id, "milter-discard", cmd,
				 "milter triggers DISCARD action", NULL);
		return SMTPD_MILTER_DISCARD;
	}
	if (sm->edits.quarantine || milters_quarantine(sm->ms)) {
		struct buf why = BUF_INIT;
		buf_printf(&why, "milter triggers HOLD action%s%s",
			   sm->edits.reason ? ": " : "",
			   sm->edits.reason ? sm->edits.reason : "");
		smtpd_log_action(ss, queue_id, "milter-hold", cmd,
				 buf_cstr(&why), NULL);
		buf_free(&why);
		sm->quarantine = 1;
	}
	return SMTPD_MILTER_ACCEPT;
}

void
smtpd_milter_envelope(struct smtpd_session *ss, const char *queue_id,
		      struct queue_envelope *env)
{
	struct smtpd_milter *sm = ss->milter;

	if (sm == NULL)
		return;
	milter_edits_apply(&sm->edits, env, queue_id);
	if (sm->quarantine)
		env->hold = 1;
}

void
smtpd_milter_reset(struct smtpd_session *ss)
{
	struct smtpd_milter *sm = ss->milter;

	if (sm == NULL)
		return;
	milters_abort(sm->ms);
	milter_edits_free(&sm->edits);
	sm->discard = 0;
	sm->quarantine = 0;
	sm->data_sent = 0;
	sm->queue_id = NULL;
}

void
smtpd_milter_end(struct smtpd_session *ss)
{
	struct smtpd_milter *sm = ss->milter;

	if (sm == NULL)
		return;
	milters_close(sm->ms);
	milter_edits_free(&sm->edits);
	xfree(sm->denied);
	xfree(sm->reason);
	buf_free(&sm->tmp);
	xfree(sm);
	ss->milter = NULL;
}
