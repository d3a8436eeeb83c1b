/*
 * auth_dovecot - the Dovecot back end of auth_client; see auth_dovecot.h.
 *
 * One connection, one exchange at a time, in lockstep: a request line,
 * then lines until the one with this request's id (any other is skipped,
 * a bounded number of them).  Every line read is bounded by
 * DOVECOT_AUTH_LINE_MAX and every wait by the timeout.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "auth_dovecot.h"
#include "dovecot_auth.h"
#include "sock.h"
#include "stream.h"
#include "strutil.h"
#include "xalloc.h"

#define HANDSHAKE_LINES_MAX 256 /* MECH lines and the others */
#define SKIP_LINES_MAX 64	/* lines of no interest before a reply */

struct auth_dovecot {
	char *path;
	int timeout_ms;
	int fd;
	struct stream s;
	char **mech_names;
	unsigned *mech_flags;
	size_t nmechs;
	unsigned long next_id;
	unsigned long id; /* the exchange in progress, 0: none */
};

static void
drop(struct auth_dovecot *d)
{
	if (d->fd >= 0) {
		stream_free(&d->s);
		close(d->fd);
	}
	d->fd = -1;
	d->id = 0;
}

static void
forget_mechs(struct auth_dovecot *d)
{
	size_t i;

	for (i = 0; i < d->nmechs; i++)
		xfree(d->mech_names[i]);
	xfree(d->mech_names);
	xfree(d->mech_flags);
	d->mech_names = NULL;
	d->mech_flags = NULL;
	d->nmechs = 0;
}

static int
open_socket(const char *path, int timeout_ms, struct buf *err)
{
	int fd;

	if (str_has_prefix(path, "inet:")) {
		const char *hp = path + 5, *colon = strrchr(hp, ':');
		char *host;

		if (colon == NULL || colon == hp || colon[1] == '\0') {
			buf_printf(err, "bad Dovecot auth address \"%s\"",
				   path);
			return -1;
		}
		host = xstrndup(hp, (size_t)(colon - hp));
		if (host[0] == '[' && host[strlen(host) - 1] == ']') {
			memmove(host, host + 1, strlen(host));
			host[strlen(host) - 1] = '\0';
		}
		fd = sock_connect_inet(host, colon + 1, timeout_ms, err);
		xfree(host);
		return fd;
	}
	if (str_has_prefix(path, "unix:"))
		path += 5;
	fd = sock_connect_unix(path, timeout_ms);
	if (fd < 0)
		buf_printf(err, "cannot connect to Dovecot auth %s: %s", path,
			   strerror(errno));
	return fd;
}

/* The next line, parsed into r: 0, or -1 with err set (the connection
 * is then dropped by the caller), -2 when the connection is closed. */
static int
read_reply(struct auth_dovecot *d, struct buf *line, struct dovecot_reply *r,
	   struct buf *err)
{
	int st = stream_getline(&d->s, line, DOVECOT_AUTH_LINE_MAX);

	if (st == STREAM_TOO_LONG) {
		buf_printf(err, "Dovecot auth %s: line too long", d->path);
		return -1;
	}
	if (st != STREAM_LINE && st != STREAM_LINE_BARE_LF) {
		buf_printf(err, "Dovecot auth %s: %s", d->path,
			   st == STREAM_TIMEOUT ? "timeout"
			   : st == STREAM_EOF	? "connection closed"
						: strerror(errno));
		return st == STREAM_TIMEOUT ? -1 : -2;
	}
	if (dovecot_reply_parse(line->data, line->len, r, err) < 0) {
		buf_printf(err, " (from %s)", d->path);
		return -1;
	}
	return 0;
}

static void
upper(char *s)
{
	for (; *s; s++)
		if (*s >= 'a' && *s <= 'z')
			*s = (char)(*s - 'a' + 'A');
}

static int
handshake(struct auth_dovecot *d, struct buf *err)
{
	struct buf out = BUF_INIT, line = BUF_INIT;
	struct dovecot_reply r = DOVECOT_REPLY_INIT;
	int lines, version = 0, rc = -1;

	forget_mechs(d);
	dovecot_hello_encode(&out, (unsigned long)getpid());
	stream_write(&d->s, out.data, out.len);
	if (stream_flush(&d->s) < 0) {
		buf_printf(err, "Dovecot auth %s: %s", d->path,
			   strerror(errno));
		goto out;
	}
	for (lines = 0; lines < HANDSHAKE_LINES_MAX; lines++) {
		if (read_reply(d, &line, &r, err) < 0)
			goto out;
		if (r.type == DOVECOT_REPLY_VERSION) {
			if (r.major != 1) {
				buf_printf(err,
					   "Dovecot auth %s: protocol "
					   "version %u, not 1",
					   d->path, r.major);
				goto out;
			}
			version = 1;
		} else if (!version) {
			buf_printf(err, "Dovecot auth %s: no VERSION first",
				   d->path);
			goto out;
		} else if (r.type == DOVECOT_REPLY_MECH) {
			/* Private mechanisms are never offered to clients. */
			if (r.flags & DOVECOT_MECH_PRIVATE)
				continue;
			d->mech_names =
			    xrealloc(d->mech_names,
				     (d->nmechs + 1) * sizeof(*d->mech_names));
			d->mech_flags =
			    xrealloc(d->mech_flags,
				     (d->nmechs + 1) * sizeof(*d->mech_flags));
			d->mech_names[d->nmechs] = xstrdup(r.mech);
			upper(d->mech_names[d->nmechs]);
			d->mech_flags[d->nmechs++] = r.flags;
		} else if (r.type == DOVECOT_REPLY_DONE) {
			rc = 0;
			goto out;
		}
	}
	buf_printf(err, "Dovecot auth %s: handshake too long", d->path);
out:
	dovecot_reply_free(&r);
	buf_free(&out);
	buf_free(&line);
	return rc;
}

static int
reconnect(struct auth_dovecot *d, struct buf *err)
{
	drop(d);
	d->fd = open_socket(d->path, d->timeout_ms, err);
	if (d->fd < 0)
		return -1;
	stream_init(&d->s, d->fd, d->timeout_ms);
	if (handshake(d, err) < 0) {
		drop(d);
		return -1;
	}
	return 0;
}

struct auth_dovecot *
auth_dovecot_connect(const char *path, int timeout_ms, struct buf *err)
{
	struct auth_dovecot *d = xcalloc(1, sizeof(*d));

	d->path = xstrdup(path);
	d->timeout_ms = timeout_ms;
	d->fd = -1;
	if (reconnect(d, err) < 0) {
		auth_dovecot_free(d);
		return NULL;
	}
	return d;
}

void
auth_dovecot_free(struct auth_dovecot *d)
{
	if (d == NULL)
		return;
	drop(d);
	forget_mechs(d);
	xfree(d->path);
	xfree(d);
}

int
auth_dovecot_mechs(struct auth_dovecot *d, unsigned forbid, unsigned require,
		   int allow_plaintext, struct buf *out, struct buf *err)
{
	size_t i;

	if (d->fd < 0 && reconnect(d, err) < 0)
		return -1;
	if (!allow_plaintext)
		forbid |= DOVECOT_MECH_PLAINTEXT;
	buf_reset(out);
	for (i = 0; i < d->nmechs; i++) {
		unsigned f = d->mech_flags[i];

		if ((f & forbid) || (f & require) != require)
			continue;
		if (out->len > 0)
			buf_putc(out, ' ');
		buf_puts(out, d->mech_names[i]);
	}
	return 0;
}

/* Sends what is in out and reads until the reply to the exchange in
 * progress: its outcome. */
static enum sasl_auth_result
transact(struct auth_dovecot *d, const struct buf *out, struct buf *challenge,
	 struct buf *user, struct buf *reason, int *io_failed)
{
	struct buf line = BUF_INIT, err = BUF_INIT;
	struct dovecot_reply r = DOVECOT_REPLY_INIT;
	enum sasl_auth_result res = SASL_AUTH_TEMPFAIL;
	int n;

	*io_failed = 0;
	stream_write(&d->s, out->data, out->len);
	if (stream_flush(&d->s) < 0) {
		buf_printf(&err, "Dovecot auth %s: %s", d->path,
			   strerror(errno));
		*io_failed = 1;
		goto broken;
	}
	for (n = 0;; n++) {
		if (n > SKIP_LINES_MAX) {
			buf_printf(&err, "Dovecot auth %s: no reply", d->path);
			goto broken;
		}
		int rr = read_reply(d, &line, &r, &err);

		if (rr < 0) {
			*io_failed = n == 0 && rr == -2;
			goto broken;
		}
		if ((r.type == DOVECOT_REPLY_OK ||
		     r.type == DOVECOT_REPLY_CONT ||
		     r.type == DOVECOT_REPLY_FAIL) &&
		    r.id == d->id)
			break;
	}
	switch (r.type) {
	case DOVECOT_REPLY_CONT:
		buf_reset(challenge);
		buf_append(challenge, r.data, r.data_len);
		res = SASL_AUTH_CONTINUE;
		break;
	case DOVECOT_REPLY_OK:
		d->id = 0;
		if (r.user == NULL) {
			buf_puts(reason, "Dovecot auth: OK without user=");
			res = SASL_AUTH_TEMPFAIL;
			break;
		}
		buf_reset(user);
		buf_puts(user, r.user);
		res = SASL_AUTH_OK;
		break;
	default:
		d->id = 0;
		buf_puts(reason,
			 r.reason != NULL ? r.reason : "authentication failed");
		res = r.temp ? SASL_AUTH_TEMPFAIL : SASL_AUTH_FAIL;
		break;
	}
	goto out;
broken:
	buf_append(reason, err.data, err.len);
	drop(d);
out:
	dovecot_reply_free(&r);
	buf_free(&line);
	buf_free(&err);
	return res;
}

enum sasl_auth_result
auth_dovecot_start(struct auth_dovecot *d, const struct auth_dovecot_session *s,
		   const char *mech, const void *resp, size_t resp_len,
		   struct buf *challenge, struct buf *user, struct buf *reason)
{
	struct dovecot_auth_request req = {
	    .mech = mech,
	    .service = s->service,
	    .local_ip = s->local_ip,
	    .local_port = s->local_port,
	    .remote_ip = s->remote_ip,
	    .remote_port = s->remote_port,
	    .secured = s->secured,
	    .ssf = s->ssf,
	    .resp = resp,
	    .resp_len = resp_len,
	};
	struct buf out = BUF_INIT, err = BUF_INIT;
	enum sasl_auth_result r = SASL_AUTH_TEMPFAIL;
	int tries, io_failed = 0;
	/* SMTP mechanism names are case-insensitive: Dovecot gets them as
	 * it announced them. */
	char *name = xstrdup(mech);

	upper(name);
	req.mech = name;
	for (tries = 0; tries < 2; tries++) {
		if (d->fd < 0 && reconnect(d, &err) < 0) {
			buf_append(reason, err.data, err.len);
			r = SASL_AUTH_TEMPFAIL;
			break;
		}
		if (++d->next_id == 0 || d->next_id > 0xffffffffUL)
			d->next_id = 1;
		d->id = req.id = d->next_id;
		buf_reset(&out);
		dovecot_auth_encode(&out, &req);
		buf_reset(&err);
		r = transact(d, &out, challenge, user, &err, &io_failed);
		/* A connection that died while idle: once more. */
		if (r == SASL_AUTH_TEMPFAIL && io_failed && tries == 0) {
			buf_reset(&err);
			continue;
		}
		buf_append(reason, err.data, err.len);
		break;
	}
	if (out.data != NULL)
		explicit_bzero(out.data, out.len);
	buf_free(&out);
	buf_free(&err);
	xfree(name);
	return r;
}

enum sasl_auth_result
auth_dovecot_step(struct auth_dovecot *d, const void *resp, size_t resp_len,
		  struct buf *challenge, struct buf *user, struct buf *reason)
{
	struct buf out = BUF_INIT;
	enum sasl_auth_result r;
	int io_failed;

	if (d->fd < 0 || d->id == 0) {
		buf_puts(reason, "Dovecot auth: no exchange in progress");
		return SASL_AUTH_TEMPFAIL;
	}
	dovecot_cont_encode(&out, d->id, resp != NULL ? resp : "", resp_len);
	r = transact(d, &out, challenge, user, reason, &io_failed);
	if (out.data != NULL)
		explicit_bzero(out.data, out.len);
	buf_free(&out);
	return r;
}

void
auth_dovecot_cancel(struct auth_dovecot *d)
{
	struct buf out = BUF_INIT;

	if (d->fd < 0 || d->id == 0)
		return;
	dovecot_cancel_encode(&out, d->id);
	d->id = 0;
	stream_write(&d->s, out.data, out.len);
	if (stream_flush(&d->s) < 0)
		drop(d);
	buf_free(&out);
}
