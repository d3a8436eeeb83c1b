/*
 * milter - the filters of one session; see milter.h.
 *
 * Each filter is one blocking connection, opened at the session's first
 * event and kept until milters_close.  Every read and write has a
 * deadline (lib/util/iostuff), so a filter that hangs costs at most its
 * timeout, and one that dies is seen at once (EOF, EPIPE): either way it
 * is closed, logged, and milter_default_action answers for it from then
 * on.  Replies are decoded by lib/mail/milter_proto (bounded, fuzzed).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf.h"
#include "daemon.h"
#include "iostuff.h"
#include "milter.h"
#include "msg.h"
#include "queue.h"
#include "sock.h"
#include "xalloc.h"

/* What we offer in OPTNEG for each protocol version: every step may be
 * skipped (NO*) and, from version 6, left unanswered (NR_*). */
#define OFFER_V2 0x3fu
#define OFFER_V4 0x3ffu
#define OFFER_V6                                                               \
	(OFFER_V4 | MILTER_P_SKIP | MILTER_P_NR_CONN | MILTER_P_NR_HELO |      \
	 MILTER_P_NR_MAIL | MILTER_P_NR_RCPT | MILTER_P_NR_DATA |              \
	 MILTER_P_NR_UNKN | MILTER_P_NR_EOH | MILTER_P_NR_BODY |               \
	 MILTER_P_HDR_LEADSPC | MILTER_P_NR_HDR)

/* A filter's end of message may carry this many modifications and this
 * many octets of them: past that it is broken, and dropped, rather than
 * holding smtpd's memory without end. */
#define MODS_MAX 100000
#define MODS_BYTES_MAX ((size_t)256 * 1024 * 1024)

struct milter {
	char *spec;
	int fd; /* -1: not open */
	int failed;
	int session_done; /* accepted the connection */
	int msg_done;	  /* accepted the message (or a recipient) */
	int in_msg;	  /* MAIL sent, no end of message yet */
	uint32_t actions, protocol;
	char *macros[MILTER_M_MAX]; /* the filter's own lists, or NULL */
};

struct milters {
	struct milter *v;
	size_t n;
	struct milter_conf conf;
	milter_macro_fn macro;
	void *ctx;
	char *denied; /* the reply to every later command, after a failure */
	enum milter_verdict denied_v;
	int quarantine;
};

static const char *const stage_param[MILTER_M_MAX + 1] = {
    "milter_connect_macros",	   "milter_helo_macros",
    "milter_mail_macros",	   "milter_rcpt_macros",
    "milter_data_macros",	   "milter_end_of_data_macros",
    "milter_end_of_header_macros", "milter_unknown_command_macros",
};

int
milter_conf_read(struct milter_conf *c, struct buf *err)
{
	const char *proto = conf_str("milter_protocol");
	const char *def = conf_str("milter_default_action");
	char word[32];

	memset(c, 0, sizeof(*c));
	c->connect_timeout_ms = (int)conf_time("milter_connect_timeout") * 1000;
	c->command_timeout_ms = (int)conf_time("milter_command_timeout") * 1000;
	c->content_timeout_ms = (int)conf_time("milter_content_timeout") * 1000;
	for (int i = 0; i <= MILTER_M_MAX; i++)
		c->macros[i] = conf_str(stage_param[i]);
	/* "6", or "6; no_header_reply" (Postfix's extension syntax). */
	if (sscanf(proto, "%u", &c->version) != 1 ||
	    (c->version != 2 && c->version != 3 && c->version != 4 &&
	     c->version != 6)) {
		buf_printf(err, "milter_protocol: bad version \"%s\"", proto);
		return -1;
	}
	c->no_header_reply = strstr(proto, "no_header_reply") != NULL;
	snprintf(word, sizeof(word), "%s", def);
	if (strcasecmp(word, "accept") == 0)
		c->default_action = MILTER_DEF_ACCEPT;
	else if (strcasecmp(word, "reject") == 0)
		c->default_action = MILTER_DEF_REJECT;
	else if (strcasecmp(word, "tempfail") == 0)
		c->default_action = MILTER_DEF_TEMPFAIL;
	else if (strcasecmp(word, "quarantine") == 0)
		c->default_action = MILTER_DEF_QUARANTINE;
	else {
		buf_printf(err,
			   "milter_default_action: unknown action \"%s\" "
			   "(use accept, reject, tempfail or quarantine)",
			   def);
		return -1;
	}
	return 0;
}

static int
spec_valid(const char *s)
{
	if (strncmp(s, "inet:", 5) == 0)
		return strchr(s + 5, ':') != NULL;
	if (strncmp(s, "unix:", 5) == 0)
		return s[5] != '\0';
	return 0;
}

struct milters *
milters_open(const char *list, const struct milter_conf *conf,
	     milter_macro_fn macro, void *ctx, struct buf *err)
{
	struct milters *ms;
	const char *p = list;
	size_t len;

	if (list == NULL || list[strspn(list, " \t,")] == '\0')
		return NULL;
	ms = xcalloc(1, sizeof(*ms));
	ms->conf = *conf;
	ms->macro = macro;
	ms->ctx = ctx;
	for (;;) {
		p += strspn(p, " \t\r\n,");
		if (*p == '\0')
			break;
		len = strcspn(p, " \t\r\n,");
		ms->v = xreallocarray(ms->v, ms->n + 1, sizeof(*ms->v));
		memset(&ms->v[ms->n], 0, sizeof(*ms->v));
		ms->v[ms->n].spec = xstrndup(p, len);
		ms->v[ms->n].fd = -1;
		if (!spec_valid(ms->v[ms->n].spec)) {
			buf_printf(err,
				   "bad milter \"%s\" (use inet:host:port or "
				   "unix:/path)",
				   ms->v[ms->n].spec);
			ms->n++;
			milters_close(ms);
			return NULL;
		}
		ms->n++;
		p += len;
	}
	return ms;
}

static void
m_close(struct milter *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}

void
milters_close(struct milters *ms)
{
	struct buf q = BUF_INIT;

	if (ms == NULL)
		return;
	milter_put_simple(&q, MILTER_C_QUIT);
	for (size_t i = 0; i < ms->n; i++) {
		struct milter *m = &ms->v[i];
		if (m->fd >= 0)
			(void)io_write_full(m->fd, q.data, q.len,
					    ms->conf.command_timeout_ms);
		m_close(m);
		xfree(m->spec);
		for (int s = 0; s < MILTER_M_MAX; s++)
			xfree(m->macros[s]);
	}
	buf_free(&q);
	xfree(ms->v);
	xfree(ms->denied);
	xfree(ms);
}

const char *
milters_denied(const struct milters *ms)
{
	return ms != NULL ? ms->denied : NULL;
}

int
milters_quarantine(const struct milters *ms)
{
	return ms != NULL && ms->quarantine;
}

static const char *const text_reject = "550 5.7.1 Command rejected";
static const char *const text_tempfail =
    "451 4.7.1 Service unavailable - try again later";

/* The filter failed: closed, logged, and milter_default_action answers
 * for it.  Returns the verdict of the event in progress. */
static enum milter_verdict
m_fail(struct milters *ms, struct milter *m, const char *why, struct buf *reply)
{
	static const char *const names[] = {"accept", "reject", "tempfail",
					    "quarantine"};

	msg_warn("milter %s: %s; default action %s", m->spec, why,
		 names[ms->conf.default_action]);
	m_close(m);
	m->failed = 1;
	switch (ms->conf.default_action) {
	case MILTER_DEF_ACCEPT:
		return MILTER_CONTINUE;
	case MILTER_DEF_QUARANTINE:
		ms->quarantine = 1;
		return MILTER_CONTINUE;
	case MILTER_DEF_REJECT:
		ms->denied_v = MILTER_REJECT;
		break;
	case MILTER_DEF_TEMPFAIL:
		ms->denied_v = MILTER_TEMPFAIL;
		break;
	}
	xfree(ms->denied);
	ms->denied = xstrdup(ms->denied_v == MILTER_REJECT ? text_reject
							   : text_tempfail);
	buf_reset(reply);
	buf_puts(reply, ms->denied);
	return ms->denied_v;
}

static int
m_send(struct milter *m, const struct buf *b, int timeout_ms)
{
	return io_write_full(m->fd, b->data, b->len, timeout_ms);
}

static const char *
read_why(void)
{
	if (errno == ETIMEDOUT || errno == EAGAIN)
		return "timeout";
	if (errno == ECONNRESET || errno == EPIPE)
		return "lost connection";
	return "read error";
}

/* Reads one packet into pkt and decodes it into r: 0, or -1 with why. */
static int
m_read(struct milter *m, int timeout_ms, struct buf *pkt,
       struct milter_reply *r, const char **why)
{
	unsigned char hdr[4];
	long len;

	if (io_read_full(m->fd, hdr, 4, timeout_ms) < 0) {
		*why = read_why();
		return -1;
	}
	if ((len = milter_frame_len(hdr, MILTER_PACKET_MAX)) < 0) {
		*why = "bad packet length";
		return -1;
	}
	buf_reset(pkt);
	buf_reserve(pkt, (size_t)len + 1);
	if (io_read_full(m->fd, pkt->data, (size_t)len, timeout_ms) < 0) {
		*why = read_why();
		return -1;
	}
	pkt->len = (size_t)len;
	pkt->data[len] = '\0';
	return milter_parse((unsigned char *)pkt->data, pkt->len, r, why);
}

/* Connects and negotiates; 0, or -1 with why. */
static int
m_open(struct milters *ms, struct milter *m, const char **why)
{
	unsigned v = ms->conf.version;
	uint32_t offer = v >= 6 ? OFFER_V6 : v >= 4 ? OFFER_V4 : OFFER_V2;
	int tmo = ms->conf.connect_timeout_ms;
	struct buf b = BUF_INIT, err = BUF_INIT;
	struct milter_reply r;
	int fd;

	if (ms->conf.no_header_reply)
		offer |= MILTER_P_NR_HDR;
	if (strncmp(m->spec, "inet:", 5) == 0) {
		char *host, *port;
		if (sock_parse_endpoint(m->spec + 5, &host, &port) < 0) {
			*why = "bad address";
			return -1;
		}
		fd = sock_connect_inet(host ? host : "localhost", port, tmo,
				       &err);
		xfree(host);
		xfree(port);
	} else {
		/* A relative path is in the queue directory, as a policy
		 * service's (in the jail, an absolute one is too). */
		const char *path = m->spec + 5;
		if (*path != '/') {
			buf_printf(&b, "%s/%s", daemon_queue_dir(), path);
			path = buf_cstr(&b);
		}
		fd = sock_connect_unix(path, tmo);
	}
	buf_free(&err);
	if (fd < 0) {
		buf_free(&b);
		*why = "cannot connect";
		return -1;
	}
	m->fd = fd;
	buf_reset(&b);
	milter_put_optneg(&b, v, MILTER_A_ALL, offer);
	if (m_send(m, &b, tmo) < 0) {
		buf_free(&b);
		*why = "write error";
		return -1;
	}
	if (m_read(m, tmo, &b, &r, why) < 0) {
		buf_free(&b);
		return -1;
	}
	if (r.cmd != MILTER_R_OPTNEG || r.version < 2) {
		buf_free(&b);
		*why = "bad negotiation reply";
		return -1;
	}
	if (r.protocol & ~offer) {
		buf_free(&b);
		*why = "filter asks for protocol steps we did not offer";
		return -1;
	}
	m->actions = r.actions & MILTER_A_ALL;
	m->protocol = r.protocol;
	/* A version 2 filter never answers header by header when
	 * no_header_reply says so. */
	if (ms->conf.no_header_reply)
		m->protocol |= MILTER_P_NR_HDR;
	for (int s = 0; s < MILTER_M_MAX; s++)
		if (r.macros[s] && (m->actions & MILTER_A_SETSYMLIST))
			m->macros[s] = xstrdup(r.macros[s]);
	buf_free(&b);
	return 0;
}

/* Appends the stage's macros (the filter's list, or ours) for cmd. */
static void
m_macros(struct milters *ms, struct milter *m, int stage, char cmd,
	 struct buf *out)
{
	const char *list = stage < MILTER_M_MAX && m->macros[stage]
			       ? m->macros[stage]
			       : ms->conf.macros[stage];
	const char *names[64], *values[64];
	char *copy, *save = NULL;
	size_t n = 0;

	if (list == NULL || *list == '\0' || ms->macro == NULL)
		return;
	copy = xstrdup(list);
	for (char *w = strtok_r(copy, " \t,", &save); w && n < 64;
	     w = strtok_r(NULL, " \t,", &save)) {
		names[n] = w;
		values[n] = ms->macro(w, ms->ctx);
		n++;
	}
	if (n > 0)
		milter_put_macros(out, cmd, names, values, n);
	xfree(copy);
}

/* Reads until a final reply (PROGRESS restarts the wait).  Returns the
 * reply letter, or -1 with why. */
static int
m_answer(struct milter *m, int timeout_ms, struct buf *pkt,
	 struct milter_reply *r, const char **why)
{
	for (;;) {
		if (m_read(m, timeout_ms, pkt, r, why) < 0)
			return -1;
		if (r->cmd != MILTER_R_PROGRESS)
			return r->cmd;
	}
}

/* The verdict of a final reply; reply gets the text of a refusal.
 * -1 for a letter that is no verdict. */
static int
m_verdict(const struct milter_reply *r, struct buf *reply)
{
	switch (r->cmd) {
	case MILTER_R_CONTINUE:
		return MILTER_CONTINUE;
	case MILTER_R_ACCEPT:
		return MILTER_ACCEPT;
	case MILTER_R_DISCARD:
		return MILTER_DISCARD;
	case MILTER_R_REJECT:
		buf_reset(reply);
		buf_puts(reply, text_reject);
		return MILTER_REJECT;
	case MILTER_R_TEMPFAIL:
		buf_reset(reply);
		buf_puts(reply, text_tempfail);
		return MILTER_TEMPFAIL;
	case MILTER_R_REPLYCODE: {
		/* One line of a multi-line reply: smtpd answers the rest
		 * of its stage with single lines. */
		size_t n = strcspn(r->text, "\r\n");
		buf_reset(reply);
		buf_append(reply, r->text, n);
		if (n == 3)
			buf_puts(reply, r->text[0] == '5'
					    ? " 5.7.1 Command rejected"
					    : " 4.7.1 Try again later");
		return r->text[0] == '5' ? MILTER_REJECT : MILTER_TEMPFAIL;
	}
	default:
		return -1;
	}
}

/* Sends one command (with its macros) to m and reads its answer unless
 * the filter asked for none (nr).  The verdict, the filter failing as
 * milter_default_action says. */
static enum milter_verdict
m_event(struct milters *ms, struct milter *m, int stage, const struct buf *cmd,
	uint32_t nr, int timeout_ms, struct buf *reply)
{
	struct buf out = BUF_INIT, pkt = BUF_INIT;
	struct milter_reply r;
	const char *why = "write error";
	int v;

	if (stage >= 0)
		m_macros(ms, m, stage, cmd->data[4], &out);
	buf_append(&out, cmd->data, cmd->len);
	if (m_send(m, &out, timeout_ms) < 0) {
		buf_free(&out);
		return m_fail(ms, m, why, reply);
	}
	buf_free(&out);
	if (m->protocol & nr)
		return MILTER_CONTINUE;
	if (m_answer(m, timeout_ms, &pkt, &r, &why) < 0 ||
	    (v = m_verdict(&r, reply)) < 0) {
		if (why == NULL || strcmp(why, "write error") == 0)
			why = "unexpected reply";
		buf_free(&pkt);
		return m_fail(ms, m, why, reply);
	}
	buf_free(&pkt);
	return (enum milter_verdict)v;
}

/* An open filter that takes part in this stage. */
static int
m_active(const struct milter *m, int in_message)
{
	return !m->failed && m->fd >= 0 && !m->session_done &&
	       !(in_message && m->msg_done);
}

/* One SMTP event to every filter in turn: the first refusal ends it. */
static enum milter_verdict
ms_event(struct milters *ms, int stage, const struct buf *cmd, uint32_t no,
	 uint32_t nr, int in_message, struct buf *reply)
{
	if (ms->denied) {
		buf_reset(reply);
		buf_puts(reply, ms->denied);
		return ms->denied_v;
	}
	for (size_t i = 0; i < ms->n; i++) {
		struct milter *m = &ms->v[i];
		enum milter_verdict v;

		if (!m_active(m, in_message) || (m->protocol & no))
			continue;
		v = m_event(ms, m, stage, cmd, nr, ms->conf.command_timeout_ms,
			    reply);
		if (v == MILTER_ACCEPT) {
			if (in_message)
				m->msg_done = 1;
			else
				m->session_done = 1;
			continue;
		}
		if (v != MILTER_CONTINUE)
			return v;
	}
	return MILTER_CONTINUE;
}

enum milter_verdict
milters_connect(struct milters *ms, const char *hostname, char family,
		unsigned port, const char *addr, struct buf *reply)
{
	struct buf cmd = BUF_INIT;
	enum milter_verdict v;

	for (size_t i = 0; i < ms->n; i++) {
		struct milter *m = &ms->v[i];
		const char *why = NULL;
		if (m->fd >= 0 || m->failed)
			continue;
		if (m_open(ms, m, &why) < 0 &&
		    (v = m_fail(ms, m, why, reply)) != MILTER_CONTINUE)
			return v;
	}
	milter_put_connect(&cmd, hostname, family, port, addr);
	v = ms_event(ms, MILTER_M_CONNECT, &cmd, MILTER_P_NOCONNECT,
		     MILTER_P_NR_CONN, 0, reply);
	buf_free(&cmd);
	return v;
}

enum milter_verdict
milters_helo(struct milters *ms, const char *helo, struct buf *reply)
{
	struct buf cmd = BUF_INIT;
	enum milter_verdict v;

	milter_put_helo(&cmd, helo);
	v = ms_event(ms, MILTER_M_HELO, &cmd, MILTER_P_NOHELO, MILTER_P_NR_HELO,
		     0, reply);
	buf_free(&cmd);
	return v;
}

enum milter_verdict
milters_mail(struct milters *ms, const char *sender, const char *const *args,
	     size_t nargs, struct buf *reply)
{
	struct buf cmd = BUF_INIT;
	enum milter_verdict v;

	for (size_t i = 0; i < ms->n; i++) {
		ms->v[i].msg_done = 0;
		if (m_active(&ms->v[i], 1))
			ms->v[i].in_msg = 1;
	}
	milter_put_envelope(&cmd, MILTER_C_MAIL, sender, args, nargs);
	v = ms_event(ms, MILTER_M_MAIL, &cmd, MILTER_P_NOMAIL, MILTER_P_NR_MAIL,
		     1, reply);
	buf_free(&cmd);
	return v;
}

enum milter_verdict
milters_rcpt(struct milters *ms, const char *rcpt, const char *const *args,
	     size_t nargs, struct buf *reply)
{
	struct buf cmd = BUF_INIT;
	enum milter_verdict v;

	milter_put_envelope(&cmd, MILTER_C_RCPT, rcpt, args, nargs);
	v = ms_event(ms, MILTER_M_RCPT, &cmd, MILTER_P_NORCPT, MILTER_P_NR_RCPT,
		     1, reply);
	buf_free(&cmd);
	return v;
}

enum milter_verdict
milters_unknown(struct milters *ms, const char *line, struct buf *reply)
{
	struct buf cmd = BUF_INIT;
	enum milter_verdict v;

	milter_put_unknown(&cmd, line);
	v = ms_event(ms, MILTER_M_UNKNOWN, &cmd, MILTER_P_NOUNKNOWN,
		     MILTER_P_NR_UNKN, 0, reply);
	buf_free(&cmd);
	return v;
}

enum milter_verdict
milters_data(struct milters *ms, struct buf *reply)
{
	struct buf cmd = BUF_INIT;
	enum milter_verdict v;

	milter_put_simple(&cmd, MILTER_C_DATA);
	v = ms_event(ms, MILTER_M_DATA, &cmd, MILTER_P_NODATA, MILTER_P_NR_DATA,
		     1, reply);
	buf_free(&cmd);
	return v;
}

void
milters_abort(struct milters *ms)
{
	struct buf cmd = BUF_INIT;

	if (ms == NULL)
		return;
	milter_put_simple(&cmd, MILTER_C_ABORT);
	for (size_t i = 0; i < ms->n; i++) {
		struct milter *m = &ms->v[i];
		if (m->in_msg && m->fd >= 0 && !m->failed &&
		    m_send(m, &cmd, ms->conf.command_timeout_ms) < 0) {
			struct buf ignored = BUF_INIT;
			(void)m_fail(ms, m, "write error", &ignored);
			buf_free(&ignored);
		}
		m->in_msg = 0;
		m->msg_done = 0;
	}
	buf_free(&cmd);
}

/* Sends the header section and body of content to m, header by header
 * and in body chunks; the verdict (CONTINUE to go on to EOM). */
static enum milter_verdict
m_content(struct milters *ms, struct milter *m, const struct buf *content,
	  struct buf *reply)
{
	int tmo = ms->conf.content_timeout_ms;
	const char *p = content->data, *end = p + content->len;
	struct buf cmd = BUF_INIT, val = BUF_INIT;
	enum milter_verdict v = MILTER_CONTINUE;
	const char *body = end;

	/* Headers, each with its continuation lines. */
	while (p < end) {
		const char *h = p, *colon, *vs;
		size_t n;
		if (*p == '\r' || *p == '\n') {
			body =
			    p +
			    (*p == '\r' && p + 1 < end && p[1] == '\n' ? 2 : 1);
			break;
		}
		do {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			p = nl ? nl + 1 : end;
		} while (p < end && (*p == ' ' || *p == '\t'));
		if (m->protocol & MILTER_P_NOHDRS)
			continue;
		colon = memchr(h, ':', (size_t)(p - h));
		if (colon == NULL)
			continue; /* not a header: smtp_data has let it be */
		n = (size_t)(colon - h);
		while (n > 0 && (h[n - 1] == ' ' || h[n - 1] == '\t'))
			n--;
		vs = colon + 1;
		if (!(m->protocol & MILTER_P_HDR_LEADSPC))
			while (vs < p && (*vs == ' ' || *vs == '\t'))
				vs++;
		/* Line breaks inside a value go as LF, the last one not. */
		buf_reset(&val);
		for (const char *c = vs; c < p; c++)
			if (*c != '\r')
				buf_putc(&val, *c);
		if (val.len && val.data[val.len - 1] == '\n')
			val.len--;
		buf_reset(&cmd);
		milter_put_header(&cmd, h, n, val.data ? val.data : "",
				  val.len);
		v = m_event(ms, m, -1, &cmd, MILTER_P_NR_HDR, tmo, reply);
		if (v != MILTER_CONTINUE)
			goto done;
	}
	if (!(m->protocol & MILTER_P_NOEOH)) {
		buf_reset(&cmd);
		milter_put_simple(&cmd, MILTER_C_EOH);
		v = m_event(ms, m, MILTER_M_EOH, &cmd, MILTER_P_NR_EOH, tmo,
			    reply);
		if (v != MILTER_CONTINUE)
			goto done;
	}
	if (m->protocol & MILTER_P_NOBODY)
		goto done;
	for (p = body; p < end;) {
		size_t n = (size_t)(end - p) > MILTER_CHUNK ? MILTER_CHUNK
							    : (size_t)(end - p);
		struct buf pkt = BUF_INIT;
		struct milter_reply r;
		const char *why = "write error";

		buf_reset(&cmd);
		milter_put_body(&cmd, p, n);
		p += n;
		if (m_send(m, &cmd, tmo) < 0) {
			v = m_fail(ms, m, why, reply);
			goto done;
		}
		if (m->protocol & MILTER_P_NR_BODY)
			continue;
		if (m_answer(m, tmo, &pkt, &r, &why) < 0) {
			buf_free(&pkt);
			v = m_fail(ms, m, why, reply);
			goto done;
		}
		if (r.cmd == MILTER_R_SKIP) {
			buf_free(&pkt);
			break;
		}
		int vv = m_verdict(&r, reply);
		buf_free(&pkt);
		if (vv < 0) {
			v = m_fail(ms, m, "unexpected reply", reply);
			goto done;
		}
		if (vv != MILTER_CONTINUE) {
			v = (enum milter_verdict)vv;
			goto done;
		}
	}
done:
	buf_free(&cmd);
	buf_free(&val);
	return v;
}

/* The action a modification needs (OPTNEG). */
static uint32_t
mod_action(char cmd)
{
	switch (cmd) {
	case MILTER_R_ADDHEADER:
		return MILTER_A_ADDHDRS;
	case MILTER_R_INSHEADER:
	case MILTER_R_CHGHEADER:
		return MILTER_A_CHGHDRS;
	case MILTER_R_REPLBODY:
		return MILTER_A_CHGBODY;
	case MILTER_R_ADDRCPT:
		return MILTER_A_ADDRCPT;
	case MILTER_R_ADDRCPT_PAR:
		return MILTER_A_ADDRCPT_PAR;
	case MILTER_R_DELRCPT:
		return MILTER_A_DELRCPT;
	case MILTER_R_CHGFROM:
		return MILTER_A_CHGFROM;
	case MILTER_R_QUARANTINE:
		return MILTER_A_QUARANTINE;
	default:
		return 0;
	}
}

/* An address without its angle brackets. */
static char *
bare_addr(const char *a)
{
	size_t n = strlen(a);

	if (n >= 2 && a[0] == '<' && a[n - 1] == '>')
		return xstrndup(a + 1, n - 2);
	return xstrdup(a);
}

static void
edit_rcpt(struct milter_edits *e, int add, const struct milter_reply *r)
{
	e->rcpts = xreallocarray(e->rcpts, e->nrcpt + 1, sizeof(*e->rcpts));
	e->rcpts[e->nrcpt].add = add;
	e->rcpts[e->nrcpt].addr = bare_addr(r->name);
	e->rcpts[e->nrcpt].args = r->value ? xstrdup(r->value) : NULL;
	e->nrcpt++;
}

static void
del_rcpt(struct queue_envelope *env, const char *addr)
{
	size_t k = 0;

	for (size_t i = 0; i < env->nrcpt; i++) {
		struct queue_rcpt *r = &env->rcpts[i];
		if (strcasecmp(r->address, addr) == 0) {
			xfree(r->address);
			xfree(r->orcpt);
			xfree(r->dsn);
			xfree(r->text);
			continue;
		}
		env->rcpts[k++] = *r;
	}
	env->nrcpt = k;
}

void
milter_edits_apply(const struct milter_edits *e, struct queue_envelope *env,
		   const char *id)
{
	if (e->sender) {
		msg_info("%s: milter changed the sender <%s> to <%s>", id,
			 env->sender, e->sender);
		queue_str_set(&env->sender, e->sender);
	}
	for (size_t i = 0; i < e->nrcpt; i++) {
		if (e->rcpts[i].add) {
			queue_envelope_add_rcpt(env, e->rcpts[i].addr, NULL, 0);
			msg_info("%s: milter added recipient <%s>", id,
				 e->rcpts[i].addr);
		} else {
			del_rcpt(env, e->rcpts[i].addr);
			msg_info("%s: milter deleted recipient <%s>", id,
				 e->rcpts[i].addr);
		}
	}
}

void
milter_edits_free(struct milter_edits *e)
{
	xfree(e->sender);
	xfree(e->reason);
	for (size_t i = 0; i < e->nrcpt; i++) {
		xfree(e->rcpts[i].addr);
		xfree(e->rcpts[i].args);
	}
	xfree(e->rcpts);
	memset(e, 0, sizeof(*e));
}

/* End of message to m: its modifications, then its verdict.  Content
 * changes are applied to content when the verdict lets the message go
 * on. */
static enum milter_verdict
m_eom(struct milters *ms, struct milter *m, struct buf *content,
      struct milter_edits *edits, struct buf *reply)
{
	int tmo = ms->conf.content_timeout_ms;
	struct buf cmd = BUF_INIT, newbody = BUF_INIT;
	struct buf *pkts = NULL; /* each modification's packet */
	struct milter_reply *mods = NULL;
	size_t n = 0, bytes = 0;
	int replbody = 0, v = MILTER_CONTINUE;
	const char *why = NULL;

	m_macros(ms, m, MILTER_M_EOM, MILTER_C_EOM, &cmd);
	milter_put_simple(&cmd, MILTER_C_EOM);
	if (m_send(m, &cmd, tmo) < 0) {
		why = "write error";
		goto fail;
	}
	for (;;) {
		struct milter_reply r;
		pkts = xreallocarray(pkts, n + 1, sizeof(*pkts));
		buf_init(&pkts[n]);
		if (m_answer(m, tmo, &pkts[n], &r, &why) < 0) {
			n++;
			goto fail;
		}
		bytes += pkts[n].len;
		if (n >= MODS_MAX || bytes > MODS_BYTES_MAX) {
			n++;
			why = "too many modifications";
			goto fail;
		}
		if (mod_action(r.cmd) == 0) {
			n++;
			if ((v = m_verdict(&r, reply)) < 0) {
				why = "unexpected reply";
				goto fail;
			}
			break;
		}
		if (!(m->actions & mod_action(r.cmd))) {
			n++;
			why = "modification it did not negotiate";
			goto fail;
		}
		mods = xreallocarray(mods, n + 1, sizeof(*mods));
		mods[n++] = r;
	}
	if (v == MILTER_CONTINUE || v == MILTER_ACCEPT) {
		size_t k = 0;
		for (size_t i = 0; i + 1 < n; i++) {
			const struct milter_reply *r = &mods[i];
			edits->changes++;
			switch (r->cmd) {
			case MILTER_R_REPLBODY:
				/* Chunks of one new body, in order. */
				if (!replbody)
					buf_reset(&newbody);
				replbody = 1;
				buf_append(&newbody, r->data, r->len);
				break;
			case MILTER_R_ADDRCPT:
			case MILTER_R_ADDRCPT_PAR:
				edit_rcpt(edits, 1, r);
				break;
			case MILTER_R_DELRCPT:
				edit_rcpt(edits, 0, r);
				break;
			case MILTER_R_CHGFROM:
				xfree(edits->sender);
				edits->sender = bare_addr(r->name);
				break;
			case MILTER_R_QUARANTINE:
				edits->quarantine = 1;
				xfree(edits->reason);
				edits->reason = xstrdup(r->text);
				break;
			default:
				mods[k++] = *r; /* headers, applied below */
				break;
			}
		}
		if (k > 0 || replbody)
			milter_apply(content, mods, k,
				     replbody ? &newbody : NULL,
				     (m->protocol & MILTER_P_HDR_LEADSPC) != 0);
	}
	goto done;
fail:
	v = m_fail(ms, m, why ? why : "error", reply);
done:
	for (size_t i = 0; i < n; i++)
		buf_free(&pkts[i]);
	xfree(pkts);
	xfree(mods);
	buf_free(&cmd);
	buf_free(&newbody);
	m->in_msg = 0;
	return (enum milter_verdict)v;
}

enum milter_verdict
milters_message(struct milters *ms, struct buf *content,
		struct milter_edits *edits, struct buf *reply)
{
	if (ms->denied) {
		buf_reset(reply);
		buf_puts(reply, ms->denied);
		return ms->denied_v;
	}
	for (size_t i = 0; i < ms->n; i++) {
		struct milter *m = &ms->v[i];
		enum milter_verdict v;

		if (!m_active(m, 1)) {
			m->in_msg = 0;
			continue;
		}
		v = m_content(ms, m, content, reply);
		if (v == MILTER_CONTINUE && m_active(m, 1))
			v = m_eom(ms, m, content, edits, reply);
		m->in_msg = 0;
		if (v == MILTER_ACCEPT || v == MILTER_CONTINUE)
			continue;
		/* A refusal or a discard: the other filters' transaction
		 * ends too. */
		milters_abort(ms);
		return v;
	}
	for (size_t i = 0; i < ms->n; i++)
		ms->v[i].msg_done = 0;
	return MILTER_CONTINUE;
}
