/*
 * smtpd_session - one SMTP client connection.
 *
 * Reads one command line at a time (bounded by line_length_limit),
 * parses it with lib/smtp_cmd, and answers in order; replies are buffered
 * and flushed only when the client has nothing more pipelined, so a
 * pipelined batch gets its replies in one write (RFC 2920) and in order.
 * Errors are counted (and NOOP, VRFY, RSET beyond
 * smtpd_junk_command_limit): after smtpd_soft_error_limit each error
 * reply is delayed, at smtpd_hard_error_limit the session ends with 421.
 * VRFY answers 252 (never whether an address exists), or 502 with
 * disable_vrfy_command.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "daemon.h"
#include "dns.h"
#include "msg.h"
#include "peer_name.h"
#include "qmgr_request.h"
#include "smtpd.h"
#include "smtpd_milter.h"
#include "smtpd_spf.h"
#include "smtpd_anvil.h"
#include "smtpd_restrict.h"
#include "sock.h"
#include "strutil.h"
#include "xalloc.h"

static const char *const counter_names[CNT_MAX] = {
    "helo", "ehlo", "starttls", "auth", "mail", "rcpt", "data",
    "bdat", "rset", "noop",	"vrfy", "etrn", "quit", "unknown",
};

/* One reply line as it is, logged with -v. */
static void
smtpd_reply_line(struct smtpd_session *ss, const char *text)
{
	if (msg_verbose) {
		char shown[512];

		tls_copy_printable(shown, sizeof(shown), text);
		msg_info("> %s[%s]: %s", ss->client_name, ss->client_addr,
			 shown);
	}
	stream_puts(&ss->s, text);
	stream_puts(&ss->s, "\r\n");
}

/* A final 4xx/5xx line with smtpd_reject_footer: the footer's lines
 * ("\n" separates them in the parameter) follow with the reply's code
 * and DSN, or the first one ends the reply's own line when the footer
 * starts with "\c", as in Postfix.  The log never shows the footer. */
static void
smtpd_reply_footer(struct smtpd_session *ss, const char *t, const char *f)
{
	struct buf line = BUF_INIT;
	size_t dsn = 0;
	const char *nl;
	int first = 1;

	if (t[4] == t[0] && t[5] == '.')
		dsn = strcspn(t + 4, " ");
	buf_printf(&line, "%.3s-%s", t, t + 4);
	if (strncmp(f, "\\c", 2) == 0)
		f += 2;
	else
		first = 0;
	for (;;) {
		nl = strstr(f, "\\n");
		if (!first) {
			smtpd_reply_line(ss, buf_cstr(&line));
			buf_reset(&line);
			buf_printf(&line, "%.3s-", t);
			if (dsn)
				buf_printf(&line, "%.*s ", (int)dsn, t + 4);
		}
		first = 0;
		buf_append(&line, f, nl ? (size_t)(nl - f) : strlen(f));
		if (nl == NULL)
			break;
		f = nl + 2;
	}
	line.data[3] = ' ';
	smtpd_reply_line(ss, buf_cstr(&line));
	buf_free(&line);
}

void
smtpd_reply(struct smtpd_session *ss, const char *fmt, ...)
{
	struct buf text = BUF_INIT;
	const char *footer = smtpd_restrict_footer();
	const char *t;
	va_list ap;

	/* Buffered: the command loop flushes when the client waits for us,
	 * so a multi-line reply or a pipelined batch goes out in one write
	 * (RFC 2920).  Whoever waits for the client elsewhere (354, 334,
	 * STARTTLS) flushes first. */
	va_start(ap, fmt);
	buf_vprintf(&text, fmt, ap);
	va_end(ap);
	t = buf_cstr(&text);
	if (footer && (t[0] == '4' || t[0] == '5') && text.len > 4 &&
	    t[3] == ' ')
		smtpd_reply_footer(ss, t, footer);
	else
		smtpd_reply_line(ss, t);
	buf_free(&text);
}

/* Verbose logging (-v, debug_peer_list) of a client's command; AUTH
 * shows only its mechanism, never a credential. */
static void
smtpd_log_command(const struct smtpd_session *ss, const struct buf *line)
{
	char shown[512];
	size_t n = line->len;

	if (n >= 5 && str_ncasecmp(line->data, "AUTH ", 5) == 0)
		n = 5 + strcspn(line->data + 5, " ");
	snprintf(shown, sizeof(shown), "%.*s", (int)(n < 500 ? n : 500),
		 line->data);
	tls_copy_printable(shown, sizeof(shown), shown);
	msg_info("< %s[%s]: %s%s", ss->client_name, ss->client_addr, shown,
		 n < line->len ? " ..." : "");
}

const char *
smtpd_protocol(const struct smtpd_session *ss)
{
	if (!ss->esmtp)
		return "SMTP";
	if (ss->smtputf8)
		return ss->tls_on ? (ss->auth_user ? "UTF8SMTPSA" : "UTF8SMTPS")
				  : (ss->auth_user ? "UTF8SMTPA" : "UTF8SMTP");
	if (ss->tls_on)
		return ss->auth_user ? "ESMTPSA" : "ESMTPS";
	return ss->auth_user ? "ESMTPA" : "ESMTP";
}

void
smtpd_format_action(struct buf *line, struct smtpd_session *ss,
		    const char *action, const char *cmd, const char *text,
		    const char *rcpt)
{
	buf_printf(line, "%s: %s from %s[%s]: %s;", action, cmd,
		   ss->client_name, ss->client_addr, text);
	/* At MAIL, the sender of the command being refused. */
	if (ss->in_mail)
		buf_printf(line, " from=<%s>", ss->env.sender);
	else if (smtpd_restrict_sender(ss))
		buf_printf(line, " from=<%s>", smtpd_restrict_sender(ss));
	if (rcpt)
		buf_printf(line, " to=<%s>", rcpt);
	buf_printf(line, " proto=%s", smtpd_protocol(ss));
	if (ss->helo)
		buf_printf(line, " helo=<%s>", ss->helo);
}

void
smtpd_log_action(struct smtpd_session *ss, const char *queue_id,
		 const char *action, const char *cmd, const char *text,
		 const char *rcpt)
{
	struct buf line = BUF_INIT;

	smtpd_format_action(&line, ss, action, cmd, text, rcpt);
	msg_info("%s: %s", queue_id ? queue_id : "NOQUEUE", buf_cstr(&line));
	buf_free(&line);
}

void
smtpd_log_reject(struct smtpd_session *ss, const char *queue_id,
		 const char *cmd, const char *reply, const char *rcpt)
{
	smtpd_log_action(ss, queue_id, "reject", cmd, reply, rcpt);
}

void
smtpd_reset_transaction(struct smtpd_session *ss)
{
	smtpd_bdat_abort(ss);
	queue_envelope_free(&ss->env);
	queue_envelope_init(&ss->env);
	ss->in_mail = 0;
	ss->body_8bit = 0;
	ss->body_binary = 0;
	ss->smtputf8 = 0;
	ss->declared_size = 0;
	smtpd_restrict_reset(ss);
	smtpd_spf_reset(ss);
	smtpd_milter_reset(ss);
}

void
smtpd_timeout(struct smtpd_session *ss, const char *detail)
{
	/* A read that timed out leaves the way back to the client usable
	 * (lib/stream): say why we hang up. */
	if (stream_error(&ss->s) == STREAM_TIMEOUT) {
		smtpd_reply(ss, "421 4.4.2 %s Error: timeout exceeded",
			    smtpd_cfg.myhostname);
		stream_flush(&ss->s);
	}
	msg_info("timeout after %s%s from %s[%s]", ss->where, detail,
		 ss->client_name, ss->client_addr);
}

/* Counts an error reply; returns 1 when the session must end. */
static int
smtpd_error(struct smtpd_session *ss)
{
	ss->errors++;
	if (ss->errors >= (unsigned)smtpd_cfg.hard_error_limit) {
		smtpd_reply(ss, "421 4.7.0 %s Error: too many errors",
			    smtpd_cfg.myhostname);
		msg_info("too many errors after %s from %s[%s]", ss->where,
			 ss->client_name, ss->client_addr);
		return 1;
	}
	if (ss->errors > (unsigned)smtpd_cfg.soft_error_limit) {
		stream_flush(&ss->s);
		usleep((useconds_t)(smtpd_cfg.error_sleep_ms * 1000));
	}
	return 0;
}

/*
 * Who the client is; 0, or -1 when the session must be refused.  Fails
 * closed: only a service with smtpd_local_submission (the submit service
 * on public/submit) takes a local (non-inet) client, as a trusted
 * submission whose uid the kernel gives (SO_PEERCRED: Received: ... from
 * userid N).  A local client elsewhere, a peer the kernel cannot name, or
 * a local peer without credentials is refused, never trusted by default.
 */
static int
smtpd_client_identify(struct smtpd_session *ss, int fd)
{
	socklen_t len = sizeof(ss->peer);
	struct buf why = BUF_INIT;
	pid_t pid;
	uid_t uid;
	gid_t gid;

	snprintf(ss->client_name, sizeof(ss->client_name), "unknown");
	snprintf(ss->client_addr, sizeof(ss->client_addr), "unknown");
	if (getpeername(fd, (struct sockaddr *)&ss->peer, &len) != 0) {
		msg_warn("cannot identify the client: getpeername: %m");
		return -1;
	}
	if (ss->peer.ss_family != AF_INET && ss->peer.ss_family != AF_INET6) {
		if (!smtpd_cfg.local_submission) {
			msg_warn("local client on a service without "
				 "smtpd_local_submission: refused");
			return -1;
		}
		if (ss->peer.ss_family != AF_UNIX ||
		    sock_peer_cred(fd, &pid, &uid, &gid) != 0) {
			msg_warn("local client without credentials: refused");
			return -1;
		}
		snprintf(ss->client_addr, sizeof(ss->client_addr), "127.0.0.1");
		snprintf(ss->client_name, sizeof(ss->client_name), "localhost");
		ss->local_uid = (long)uid;
		ss->trusted = 1;
		return 0;
	}
	sock_addr_text((struct sockaddr *)&ss->peer, ss->client_addr,
		       sizeof(ss->client_addr));
	ss->client_port = sock_addr_port((struct sockaddr *)&ss->peer);
	ss->trusted = smtpd_client_listed("mynetworks", smtpd_cfg.mynetworks,
					  "", ss->client_addr);
	/* /etc/hosts, then DNS; loopback never goes to DNS (peer_name.h). */
	if (smtpd_cfg.peername_lookup)
		peer_name(ss->client_addr, 1, ss->client_name,
			  sizeof(ss->client_name), &why);
	buf_free(&why);
	return 0;
}

/* The access policy's refusal; 421 and 521 (from an access table or a
 * policy server) end the session, as in Postfix. */
static void
smtpd_refuse(struct smtpd_session *ss, const char *reply)
{
	smtpd_reply(ss, "%s", reply);
	if (strncmp(reply, "421", 3) == 0 || strncmp(reply, "521", 3) == 0)
		ss->quit = 1;
}

static void
smtpd_helo(struct smtpd_session *ss, const struct smtp_cmd *cmd, int esmtp)
{
	struct buf mechs = BUF_INIT;

	if (*cmd->arg == '\0') {
		smtpd_reply(ss, "501 5.5.4 Syntax: %s hostname",
			    esmtp ? "EHLO" : "HELO");
		ss->fails[esmtp ? CNT_EHLO : CNT_HELO]++;
		return;
	}
	smtpd_reset_transaction(ss);
	xfree(ss->helo);
	ss->helo = xstrndup(cmd->arg, 255);
	ss->esmtp = esmtp;
	/* smtpd_helo_restrictions now when smtpd_delay_reject is off. */
	if (smtpd_restrict_helo(ss, &mechs) || smtpd_milter_helo(ss, &mechs)) {
		smtpd_refuse(ss, buf_cstr(&mechs));
		ss->fails[esmtp ? CNT_EHLO : CNT_HELO]++;
		xfree(ss->helo);
		ss->helo = NULL;
		buf_free(&mechs);
		return;
	}
	if (!esmtp) {
		ss->ext = 0;
		smtpd_reply(ss, "250 %s", smtpd_cfg.myhostname);
		return;
	}
	ss->ext = SMTP_EXT_SIZE | SMTP_EXT_8BITMIME | SMTP_EXT_DSN |
		  SMTP_EXT_SMTPUTF8 | SMTP_EXT_BINARYMIME;
	smtpd_reply(ss, "250-%s", smtpd_cfg.myhostname);
	smtpd_reply(ss, "250-PIPELINING");
	if (smtpd_cfg.size_limit)
		smtpd_reply(ss, "250-SIZE %llu",
			    (unsigned long long)smtpd_cfg.size_limit);
	else
		smtpd_reply(ss, "250-SIZE");
	smtpd_reply(ss, "250-ETRN");
	if (smtpd_cfg.tls && !ss->tls_on)
		smtpd_reply(ss, "250-STARTTLS");
	if (smtpd_auth_offer(ss, &mechs)) {
		ss->ext |= SMTP_EXT_AUTH;
		smtpd_reply(ss, "250-AUTH %s", buf_cstr(&mechs));
	} else if (ss->auth_user) {
		/* Not offered again, but MAIL ... AUTH= stays valid. */
		ss->ext |= SMTP_EXT_AUTH;
	}
	smtpd_reply(ss, "250-ENHANCEDSTATUSCODES");
	smtpd_reply(ss, "250-8BITMIME");
	smtpd_reply(ss, "250-DSN");
	smtpd_reply(ss, "250-SMTPUTF8");
	/* RFC 3030 3: BINARYMIME is announced with CHUNKING. */
	smtpd_reply(ss, "250-BINARYMIME");
	smtpd_reply(ss, "250 CHUNKING");
	buf_free(&mechs);
}

/*
 * ETRN (RFC 1985) as Postfix answers it: after HELO or EHLO and outside
 * a mail transaction; the site may start with '@' or '#' (RFC 1985's
 * node and queue forms: there is one queue, so they name the domain) and
 * must be a host name or an address literal.  The access policy decides
 * (smtpd_restrict_etrn), then fast_flush_domains: only those sites are
 * flushed, by asking qmgr to make their deferred mail due now
 * (qmgr_proto.h "S", as panqueue -s does).
 */
static void
smtpd_etrn(struct smtpd_session *ss, const struct smtp_cmd *cmd)
{
	struct buf reply = BUF_INIT, req = BUF_INIT;
	const char *site = cmd->arg + (*cmd->arg == '@' || *cmd->arg == '#');
	int queued = 0;

	if (ss->helo == NULL) {
		smtpd_reply(ss, "503 5.5.1 Error: send HELO/EHLO first");
	} else if (ss->in_mail) {
		smtpd_reply(ss,
			    "503 5.5.1 Error: MAIL transaction in progress");
	} else if (!smtpd_hostname_valid(site) ||
		   strlen(site) > QMGR_SITE_MAX || strpbrk(site, " \t")) {
		smtpd_reply(ss, "501 5.5.4 Error: invalid parameter syntax");
	} else if (smtpd_restrict_etrn(ss, site, &reply)) {
		smtpd_refuse(ss, buf_cstr(&reply));
	} else if (!smtpd_fast_flush_domain(site)) {
		smtpd_reply(ss, "459 4.3.0 <%s>: service unavailable", site);
	} else {
		buf_printf(&req, "%c%s", QMGR_REQ_FLUSH_SITE, site);
		queued = qmgr_request(daemon_queue_dir(), buf_cstr(&req),
				      QMGR_WAKEUP_TIMEOUT_MS) == 0;
		if (queued) {
			msg_info("ETRN %s from %s[%s]", site, ss->client_name,
				 ss->client_addr);
			smtpd_reply(ss, "250 Queuing started");
		} else {
			msg_warn("ETRN %s: cannot reach qmgr: %m", site);
			smtpd_reply(ss, "458 4.3.0 Unable to queue messages");
		}
	}
	if (!queued)
		ss->fails[CNT_ETRN]++;
	buf_free(&reply);
	buf_free(&req);
}

static int
smtpd_need_tls_or_auth(struct smtpd_session *ss)
{
	if (smtpd_cfg.tls_level == TLS_LEVEL_ENCRYPT && !ss->tls_on) {
		smtpd_reply(ss,
			    "530 5.7.0 Must issue a STARTTLS command first");
		return 1;
	}
	if (smtpd_cfg.auth_required && ss->auth_user == NULL) {
		smtpd_reply(ss, "530 5.7.0 Authentication required");
		return 1;
	}
	return 0;
}

/*
 * Postfix's free space rule at MAIL: the queue's file system must have
 * queue_minfree bytes free, and 1.5 times message_size_limit, and with
 * SIZE=N, N more than queue_minfree: a message that cannot be stored is
 * refused before it is sent, with a temporary error.  A file system
 * that cannot be asked is no reason to refuse (the write would say).
 */
static int
smtpd_queue_space_short(uint64_t declared)
{
	struct statvfs sv;
	char path[4096];
	uint64_t avail;

	snprintf(path, sizeof(path), "%s/db", daemon_queue_dir());
	if (statvfs(path, &sv) < 0)
		return 0;
	avail = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	if (avail < smtpd_cfg.queue_minfree)
		return 1;
	if (smtpd_cfg.size_limit && avail / 3 < smtpd_cfg.size_limit / 2)
		return 1;
	return declared > 0 && avail - smtpd_cfg.queue_minfree < declared;
}

static void
smtpd_mail(struct smtpd_session *ss, const struct smtp_cmd *cmd)
{
	struct buf reply = BUF_INIT;

	if (ss->in_mail) {
		smtpd_reply(ss, "503 5.5.1 Error: nested MAIL command");
		ss->fails[CNT_MAIL]++;
		return;
	}
	if (smtpd_cfg.helo_required && ss->helo == NULL) {
		smtpd_reply(ss, "503 5.5.1 Error: send HELO/EHLO first");
		ss->fails[CNT_MAIL]++;
		return;
	}
	if (smtpd_anvil_mail(ss) < 0) {
		ss->fails[CNT_MAIL]++;
		return;
	}
	if (smtpd_need_tls_or_auth(ss)) {
		ss->fails[CNT_MAIL]++;
		return;
	}
	if (cmd->has_size && smtpd_cfg.size_limit &&
	    cmd->size > smtpd_cfg.size_limit) {
		smtpd_reply(ss, "552 5.3.4 Message size exceeds fixed limit");
		smtpd_log_reject(ss, NULL, "MAIL",
				 "552 5.3.4 Message size exceeds fixed limit",
				 NULL);
		ss->fails[CNT_MAIL]++;
		return;
	}
	if (smtpd_queue_space_short(cmd->has_size ? cmd->size : 0)) {
		smtpd_reply(ss, "452 4.3.1 Insufficient system storage");
		smtpd_log_reject(ss, NULL, "MAIL",
				 "452 4.3.1 Insufficient system storage", NULL);
		ss->fails[CNT_MAIL]++;
		return;
	}
	if (smtpd_restrict_mail(ss, &cmd->path, &reply) ||
	    smtpd_milter_mail(ss, cmd, &reply)) {
		smtpd_refuse(ss, buf_cstr(&reply));
		ss->fails[CNT_MAIL]++;
		buf_free(&reply);
		return;
	}
	buf_free(&reply);
	queue_envelope_init(&ss->env);
	queue_str_set(&ss->env.sender, cmd->path.addr);
	queue_str_set(&ss->env.envid, cmd->envid);
	ss->env.ret = cmd->ret == SMTP_RET_FULL	  ? QUEUE_RET_FULL
		      : cmd->ret == SMTP_RET_HDRS ? QUEUE_RET_HDRS
						  : QUEUE_RET_NONE;
	ss->body_8bit = cmd->body == SMTP_BODY_8BITMIME ||
			cmd->body == SMTP_BODY_BINARYMIME;
	ss->body_binary = cmd->body == SMTP_BODY_BINARYMIME;
	ss->smtputf8 = cmd->smtputf8;
	ss->declared_size = cmd->has_size ? cmd->size : 0;
	ss->in_mail = 1;
	smtpd_reply(ss, "250 2.1.0 Ok");
}

static void
smtpd_rcpt(struct smtpd_session *ss, const struct smtp_cmd *cmd)
{
	struct buf reply = BUF_INIT;

	if (!ss->in_mail) {
		smtpd_reply(ss, "503 5.5.1 Error: need MAIL command");
		ss->fails[CNT_RCPT]++;
		return;
	}
	if (smtpd_anvil_rcpt(ss) < 0) {
		ss->fails[CNT_RCPT]++;
		return;
	}
	if (ss->env.nrcpt >= (size_t)smtpd_cfg.recipient_limit) {
		smtpd_reply(ss, "452 4.5.3 Error: too many recipients");
		ss->fails[CNT_RCPT]++;
		return;
	}
	if (smtpd_restrict_rcpt(ss, &cmd->path, &reply) ||
	    smtpd_milter_rcpt(ss, cmd, &reply)) {
		smtpd_refuse(ss, buf_cstr(&reply));
		ss->fails[CNT_RCPT]++;
		buf_free(&reply);
		return;
	}
	queue_envelope_add_rcpt(&ss->env, cmd->path.addr, cmd->orcpt,
				cmd->notify);
	smtpd_reply(ss, "250 2.1.5 Ok");
	buf_free(&reply);
}

static void
smtpd_log_disconnect(struct smtpd_session *ss)
{
	struct buf line = BUF_INIT;
	unsigned total = 0, total_fail = 0;

	buf_printf(&line, "disconnect from %s[%s]", ss->client_name,
		   ss->client_addr);
	for (int i = 0; i < CNT_MAX; i++) {
		if (ss->counts[i] == 0)
			continue;
		total += ss->counts[i];
		total_fail += ss->fails[i];
		if (ss->fails[i])
			buf_printf(&line, " %s=%u/%u", counter_names[i],
				   ss->counts[i] - ss->fails[i], ss->counts[i]);
		else
			buf_printf(&line, " %s=%u", counter_names[i],
				   ss->counts[i]);
	}
	if (total_fail)
		buf_printf(&line, " commands=%u/%u", total - total_fail, total);
	else
		buf_printf(&line, " commands=%u", total);
	msg_info("%s", buf_cstr(&line));
	buf_free(&line);
}

static enum smtpd_counter
smtpd_counter_of(enum smtp_verb verb)
{
	switch (verb) {
	case SMTP_VERB_HELO:
		return CNT_HELO;
	case SMTP_VERB_EHLO:
		return CNT_EHLO;
	case SMTP_VERB_STARTTLS:
		return CNT_STARTTLS;
	case SMTP_VERB_AUTH:
		return CNT_AUTH;
	case SMTP_VERB_MAIL:
		return CNT_MAIL;
	case SMTP_VERB_RCPT:
		return CNT_RCPT;
	case SMTP_VERB_DATA:
		return CNT_DATA;
	case SMTP_VERB_BDAT:
		return CNT_BDAT;
	case SMTP_VERB_RSET:
		return CNT_RSET;
	case SMTP_VERB_NOOP:
		return CNT_NOOP;
	case SMTP_VERB_VRFY:
	case SMTP_VERB_EXPN:
		return CNT_VRFY;
	case SMTP_VERB_ETRN:
		return CNT_ETRN;
	case SMTP_VERB_QUIT:
		return CNT_QUIT;
	default:
		return CNT_UNKNOWN;
	}
}

/* smtpd_data_restrictions at DATA, when there is a transaction to
 * refuse; 1 when the reply was sent. */
static int
smtpd_data_policy(struct smtpd_session *ss)
{
	struct buf reply = BUF_INIT;
	int r = 0;

	if (ss->in_mail && ss->env.nrcpt > 0 &&
	    (smtpd_restrict_data(ss, &reply) ||
	     smtpd_milter_data(ss, &reply))) {
		smtpd_refuse(ss, buf_cstr(&reply));
		ss->fails[CNT_DATA]++;
		r = 1;
	}
	buf_free(&reply);
	return r;
}

/* Runs one parsed command. */
static void
smtpd_dispatch(struct smtpd_session *ss, struct smtp_cmd *cmd)
{
	const char *denied = smtpd_restrict_denied(ss);

	if (denied == NULL)
		denied = smtpd_milter_denied(ss);

	/* A client refused at connect (smtpd_delay_reject = no) gets
	 * nothing but QUIT, NOOP and RSET, as in Postfix. */
	if (denied && cmd->verb != SMTP_VERB_QUIT &&
	    cmd->verb != SMTP_VERB_NOOP && cmd->verb != SMTP_VERB_RSET) {
		smtpd_reply(ss, "%s", denied);
		ss->fails[smtpd_counter_of(cmd->verb)]++;
		return;
	}
	switch (cmd->verb) {
	case SMTP_VERB_HELO:
		smtpd_helo(ss, cmd, 0);
		break;
	case SMTP_VERB_EHLO:
		smtpd_helo(ss, cmd, 1);
		break;
	case SMTP_VERB_MAIL:
		smtpd_mail(ss, cmd);
		break;
	case SMTP_VERB_RCPT:
		smtpd_rcpt(ss, cmd);
		break;
	case SMTP_VERB_DATA:
		if (*cmd->arg) {
			smtpd_reply(ss, "501 5.5.4 Syntax: DATA");
			ss->fails[CNT_DATA]++;
		} else if (!smtpd_data_policy(ss)) {
			smtpd_data(ss);
		}
		break;
	case SMTP_VERB_BDAT:
		smtpd_bdat(ss, cmd);
		break;
	case SMTP_VERB_RSET:
		smtpd_reset_transaction(ss);
		smtpd_reply(ss, "250 2.0.0 Ok");
		break;
	case SMTP_VERB_NOOP:
		smtpd_reply(ss, "250 2.0.0 Ok");
		break;
	case SMTP_VERB_VRFY:
	case SMTP_VERB_EXPN:
		if (cmd->verb == SMTP_VERB_VRFY && smtpd_cfg.disable_vrfy) {
			/* Postfix's reply: the command exists, but not here. */
			smtpd_reply(ss, "502 5.5.1 VRFY command is disabled");
			ss->fails[CNT_VRFY]++;
		} else if (*cmd->arg == '\0') {
			smtpd_reply(ss, "501 5.5.4 Syntax: %s address",
				    smtp_verb_name(cmd->verb));
			ss->fails[CNT_VRFY]++;
		} else {
			smtpd_reply(ss, "252 2.0.0 Send some mail, "
					"I'll try my best");
		}
		break;
	case SMTP_VERB_HELP:
		smtpd_reply(ss, "214-2.0.0 Commands: HELO EHLO MAIL RCPT DATA "
				"BDAT RSET");
		smtpd_reply(ss, "214 2.0.0 NOOP QUIT VRFY ETRN HELP STARTTLS "
				"AUTH");
		break;
	case SMTP_VERB_STARTTLS:
		smtpd_starttls(ss);
		break;
	case SMTP_VERB_AUTH:
		smtpd_auth(ss, cmd);
		break;
	case SMTP_VERB_ETRN:
		smtpd_etrn(ss, cmd);
		break;
	case SMTP_VERB_QUIT:
		smtpd_reply(ss, "221 2.0.0 Bye");
		ss->quit = 1;
		break;
	default:
		smtpd_reply(ss, "500 5.5.2 Error: command not recognized");
		ss->fails[CNT_UNKNOWN]++;
		break;
	}
}

static unsigned
smtpd_fail_total(const struct smtpd_session *ss)
{
	unsigned n = 0;

	for (int i = 0; i < CNT_MAX; i++)
		n += ss->fails[i];
	return n;
}

/* NOOP, VRFY, EXPN and RSET beyond smtpd_junk_command_limit count as
 * errors (as in Postfix), so that they cannot hold a session forever. */
static int
smtpd_is_junk(struct smtpd_session *ss, enum smtp_verb verb)
{
	if (verb != SMTP_VERB_NOOP && verb != SMTP_VERB_VRFY &&
	    verb != SMTP_VERB_EXPN && verb != SMTP_VERB_RSET)
		return 0;
	return ++ss->junk > (unsigned)smtpd_cfg.junk_limit;
}

/*
 * smtpd_forbid_unauth_pipelining: input already waiting after a command
 * that must end a pipelined group (RFC 2920: EHLO, HELO, DATA, NOOP,
 * VRFY, EXPN, and STARTTLS and AUTH), or after any command before EHLO
 * announced PIPELINING, ends the session as Postfix does; 1 then.
 */
static int
smtpd_pipelined(struct smtpd_session *ss, const struct smtp_cmd *cmd)
{
	const char *p;
	char shown[120];
	ssize_t n;

	switch (cmd->verb) {
	case SMTP_VERB_QUIT:
	case SMTP_VERB_BDAT:
		return 0;
	case SMTP_VERB_EHLO:
	case SMTP_VERB_HELO:
	case SMTP_VERB_DATA:
	case SMTP_VERB_NOOP:
	case SMTP_VERB_VRFY:
	case SMTP_VERB_EXPN:
	case SMTP_VERB_STARTTLS:
	case SMTP_VERB_AUTH:
		break;
	default:
		if (ss->esmtp)
			return 0;
		break;
	}
	if (stream_pending(&ss->s) == 0 || (n = stream_peek(&ss->s, &p)) <= 0)
		return 0;
	snprintf(shown, sizeof(shown), "%.*s", (int)(n < 100 ? n : 100), p);
	for (char *c = shown; *c; c++)
		if ((unsigned char)*c < ' ' || (unsigned char)*c > 126)
			*c = *c == '\r' || *c == '\n' ? ' ' : '?';
	msg_info("improper command pipelining after %s from %s[%s]: %s",
		 smtp_verb_name(cmd->verb), ss->client_name, ss->client_addr,
		 shown);
	smtpd_reply(ss, "554 5.5.0 Error: SMTP protocol synchronization");
	return 1;
}

/* Reads, parses and runs one command; returns 0 to go on. */
static int
smtpd_command(struct smtpd_session *ss, struct buf *line)
{
	struct smtp_cmd cmd;
	unsigned flags = (ss->smtputf8 ? SMTP_CMD_F_UTF8 : 0) |
			 (smtpd_cfg.strict_rfc821 ? 0 : SMTP_CMD_F_LENIENT);
	unsigned before;
	int status, junk;

	if (stream_pending(&ss->s) == 0)
		stream_flush(&ss->s);
	status = stream_getline(&ss->s, line, (size_t)smtpd_cfg.line_limit);
	switch (status) {
	case STREAM_EOF:
	case STREAM_IOERR:
		msg_info("lost connection after %s from %s[%s]", ss->where,
			 ss->client_name, ss->client_addr);
		return -1;
	case STREAM_TIMEOUT:
		smtpd_timeout(ss, "");
		return -1;
	case STREAM_LINE_BARE_LF:
		/* A bare LF is how SMTP smuggling starts: refuse it as
		 * Postfix's smtpd_forbid_bare_newline does. */
		smtpd_reply(ss, "521 5.5.2 %s Error: bare <LF> received",
			    smtpd_cfg.myhostname);
		msg_info("disconnect: bare <LF> received from %s[%s]",
			 ss->client_name, ss->client_addr);
		return -1;
	case STREAM_TOO_LONG:
		smtpd_reply(ss, "500 5.5.2 Error: line too long");
		ss->counts[CNT_UNKNOWN]++;
		ss->fails[CNT_UNKNOWN]++;
		return smtpd_error(ss) ? -1 : 0;
	default:
		break;
	}
	if (msg_verbose)
		smtpd_log_command(ss, line);
	before = smtpd_fail_total(ss);
	if (smtp_cmd_parse(line->data, line->len, ss->ext, flags, &cmd) !=
	    SMTP_CMD_OK) {
		struct buf reply = BUF_INIT;
		enum smtpd_counter c = smtpd_counter_of(cmd.verb);
		/* The filters see an unknown command first (SMFIC_UNKNOWN);
		 * one of them may answer it. */
		if (cmd.err != SMTP_CMD_ERR_UNKNOWN ||
		    !smtpd_milter_unknown(ss, buf_cstr(line), &reply)) {
			buf_reset(&reply);
			smtp_cmd_reply(&cmd, &reply);
		}
		smtpd_reply(ss, "%s", buf_cstr(&reply));
		ss->counts[c]++;
		ss->fails[c]++;
		if (cmd.verb == SMTP_VERB_MAIL || cmd.verb == SMTP_VERB_RCPT)
			smtpd_log_reject(ss, NULL, smtp_verb_name(cmd.verb),
					 buf_cstr(&reply), NULL);
		buf_free(&reply);
		status = smtp_cmd_must_close(&cmd);
		smtp_cmd_free(&cmd);
		if (status)
			return -1;
		return smtpd_error(ss) ? -1 : 0;
	}
	ss->counts[smtpd_counter_of(cmd.verb)]++;
	ss->where = smtp_verb_name(cmd.verb);
	if (smtpd_cfg.forbid_unauth_pipelining && smtpd_pipelined(ss, &cmd)) {
		smtp_cmd_free(&cmd);
		return -1;
	}
	junk = smtpd_is_junk(ss, cmd.verb);
	smtpd_dispatch(ss, &cmd);
	smtp_cmd_free(&cmd);
	if (ss->quit || stream_error(&ss->s))
		return -1;
	if ((smtpd_fail_total(ss) > before || junk) && smtpd_error(ss))
		return -1;
	return 0;
}

void
smtpd_session_run(int fd)
{
	struct smtpd_session ss;
	struct buf line = BUF_INIT;
	int verbose;

	memset(&ss, 0, sizeof(ss));
	ss.where = "CONNECT";
	ss.local_uid = -1;
	queue_envelope_init(&ss.env);
	stream_init(&ss.s, fd, smtpd_cfg.timeout_ms);
	if (smtpd_client_identify(&ss, fd) < 0) {
		smtpd_reply(&ss,
			    "421 4.7.0 %s Error: cannot identify the "
			    "client",
			    smtpd_cfg.myhostname);
		stream_flush(&ss.s);
		stream_free(&ss.s);
		queue_envelope_free(&ss.env);
		return;
	}
	/* debug_peer_list: this session logs debug_peer_level more. */
	verbose = msg_verbose;
	if (smtpd_client_listed("debug_peer_list", smtpd_cfg.debug_peers,
				ss.client_name, ss.client_addr))
		msg_verbose += (int)smtpd_cfg.debug_peer_level;
	msg_info("connect from %s[%s]", ss.client_name, ss.client_addr);
	smtpd_auth_session_init(&ss);
	if (smtpd_cfg.wrappermode && smtpd_tls_wrap(&ss) < 0)
		goto done;
	/* After the wrapper's handshake, as Postfix: the 421 is readable. */
	if (smtpd_anvil_connect(&ss) < 0)
		goto done;
	{
		/* smtpd_client_restrictions now when smtpd_delay_reject is
		 * off: a refusal is remembered (smtpd_dispatch) and a 421
		 * ends the session at once. */
		struct buf reply = BUF_INIT;
		if (smtpd_restrict_connect(&ss, &reply) &&
		    strncmp(buf_cstr(&reply), "421", 3) == 0) {
			smtpd_reply(&ss, "%s", buf_cstr(&reply));
			buf_free(&reply);
			goto done;
		}
		buf_free(&reply);
	}
	smtpd_milter_connect(&ss);
	smtpd_reply(&ss, "220 %s", smtpd_cfg.banner);
	stream_flush(&ss.s);
	while (smtpd_command(&ss, &line) == 0)
		;
	stream_flush(&ss.s);
done:
	smtpd_anvil_disconnect(&ss);
	smtpd_log_disconnect(&ss);
	smtpd_reset_transaction(&ss);
	queue_envelope_free(&ss.env);
	smtpd_auth_session_end(&ss);
	smtpd_restrict_session_end(&ss);
	smtpd_spf_end(&ss);
	smtpd_milter_end(&ss);
	if (ss.tls_on)
		tls_stop(&ss.s, 1);
	stream_free(&ss.s);
	xfree(ss.helo);
	buf_free(&line);
	msg_verbose = verbose;
}
