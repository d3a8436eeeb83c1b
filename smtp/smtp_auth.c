/*
 * smtp_auth - SMTP AUTH as a client (RFC 4954), for relay hosts.
 *
 * smtp_sasl_password_maps holds "destination user:password" entries, as
 * Postfix's; the keys tried, first hit wins: the canonical next hop
 * ("[relay.example]:587"), the next hop's host, the server's host name.
 * The exchange runs through libsasl2 (sasl_auth.h); plaintext mechanisms
 * (PLAIN, LOGIN) are allowed only over TLS, unless
 * smtp_sasl_security_options lacks "noplaintext" (and, over TLS, unless
 * smtp_sasl_tls_security_options has it).  smtp_sasl_mechanism_filter,
 * when set, keeps only the offered mechanisms it names (as Postfix's:
 * for a server whose best mechanism is broken, or one the password
 * cannot serve).
 *
 * Every failure is soft (4.7.0, or the server's code with class 4), as
 * Postfix's smtp_sasl_auth_soft_bounce: a wrong password on our side must
 * not bounce mail.  Challenges are bounded (SASL_CHALLENGE_MAX decoded).
 */
#include <stdio.h>
#include <string.h>

#include "base64.h"
#include "msg.h"
#include "sasl_auth.h"
#include "smtp.h"
#include "strutil.h"
#include "xalloc.h"

#define SASL_CHALLENGE_MAX 8192
#define SASL_STEPS_MAX 10

int
smtp_auth_lookup(const struct smtp_target *t, struct buf *user,
		 struct buf *pass, struct buf *why)
{
	const char *keys[3];
	struct buf value = BUF_INIT;
	const char *colon;
	size_t i, n = 0;
	int rc = 0;

	if (t->nexthop_text != NULL)
		keys[n++] = t->nexthop_text;
	if (t->nh != NULL)
		keys[n++] = t->nh->host;
	keys[n++] = t->host;
	for (i = 0; i < n && rc == 0; i++)
		rc = maps_lookup(smtp_cfg.sasl_passwords, keys[i], &value, why);
	if (rc == 1) {
		colon = strchr(buf_cstr(&value), ':');
		buf_reset(user);
		buf_reset(pass);
		if (colon == NULL) {
			buf_append(user, value.data, value.len);
		} else {
			buf_append(user, value.data,
				   (size_t)(colon - value.data));
			buf_puts(pass, colon + 1);
		}
	}
	if (value.data != NULL)
		memset(value.data, 0, value.len);
	buf_free(&value);
	return rc;
}

static void
fail_text(struct buf *text, const char *name, const char *what)
{
	buf_reset(text);
	buf_printf(text, "SASL authentication failed; %s%s", what, name);
}

/* Reads one reply; 0 or -1 with the text set. */
static int
read_reply(struct stream *s, struct smtp_reply *r, const char *name,
	   struct buf *text)
{
	struct buf line = BUF_INIT;
	int st, fed = SMTP_REPLY_MORE;

	smtp_reply_reset(r);
	if (stream_flush(s) == 0) {
		while (fed == SMTP_REPLY_MORE) {
			st = stream_getline(s, &line, SMTP_REPLY_LINE_MAX);
			if (st <= 0)
				break;
			fed = smtp_reply_feed(r, line.data, line.len);
		}
	}
	buf_free(&line);
	if (fed == SMTP_REPLY_DONE)
		return 0;
	buf_reset(text);
	buf_printf(text,
		   "lost connection with %s while performing the AUTH "
		   "handshake",
		   name);
	return -1;
}

/* The exchange after the mechanism was chosen. */
static int
exchange(struct stream *s, struct sasl_auth_client *cli, const char *mech,
	 const struct buf *initial, int has_initial, const char *name,
	 char dsn[SMTP_DSN_SIZE], struct buf *text)
{
	struct smtp_reply r;
	struct buf out = BUF_INIT, chal = BUF_INIT, resp = BUF_INIT,
		   reason = BUF_INIT;
	const char *b64;
	int rc = -1, steps;

	smtp_reply_init(&r);
	buf_printf(&out, "AUTH %s", mech);
	if (has_initial) {
		buf_putc(&out, ' ');
		if (initial->len == 0)
			buf_putc(&out, '=');
		else
			base64_encode(&out, initial->data, initial->len);
	}
	buf_puts(&out, "\r\n");
	stream_write(s, out.data, out.len);
	for (steps = 0; steps < SASL_STEPS_MAX; steps++) {
		if (read_reply(s, &r, name, text) < 0)
			goto out;
		if (r.code != 334)
			break;
		/* "334 base64" */
		b64 = r.nlines == 1 ? buf_cstr(&r.lines) : "";
		buf_reset(&chal);
		if (base64_decode(&chal, b64, strcspn(b64, "\n"),
				  SASL_CHALLENGE_MAX) < 0 ||
		    sasl_auth_client_step(cli, chal.data, chal.len, &resp,
					  &reason) < 0) {
			stream_puts(s, "*\r\n");
			(void)read_reply(s, &r, name, text);
			fail_text(text, name, "cannot authenticate to server ");
			buf_printf(text, ": %s", buf_cstr(&reason));
			goto out;
		}
		buf_reset(&out);
		base64_encode(&out, resp.data, resp.len);
		buf_puts(&out, "\r\n");
		stream_write(s, out.data, out.len);
	}
	if (smtp_reply_class(&r) == 2) {
		rc = 0;
		goto out;
	}
	buf_reset(text);
	buf_printf(text, "SASL authentication failed; server %s said: %s", name,
		   buf_cstr(&r.text));
out:
	if (rc < 0)
		snprintf(dsn, SMTP_DSN_SIZE, "4.7.0");
	smtp_reply_free(&r);
	buf_free(&out);
	buf_free(&chal);
	buf_free(&resp);
	buf_free(&reason);
	return rc;
}

/* The offered mechanisms that smtp_sasl_mechanism_filter allows. */
static void
filter_mechs(const char *offered, struct buf *out)
{
	char *list = xstrdup(offered), *save = NULL, *w;

	for (w = strtok_r(list, " ", &save); w; w = strtok_r(NULL, " ", &save))
		if (*smtp_cfg.sasl_mech_filter == '\0' ||
		    str_list_match(smtp_cfg.sasl_mech_filter, w))
			buf_printf(out, "%s%s", out->len ? " " : "", w);
	xfree(list);
}

int
smtp_auth_run(struct stream *s, const struct smtp_caps *caps,
	      const struct smtp_target *t, const char *user, const char *pass,
	      int tls_on, int timeout_ms, char dsn[SMTP_DSN_SIZE],
	      struct buf *text)
{
	struct sasl_auth_client *cli;
	struct buf err = BUF_INIT, initial = BUF_INIT, mechs = BUF_INIT;
	char name[SMTP_HOSTADDR_MAX];
	const char *mech = NULL;
	int plain, has_initial = 0, rc = -1;

	smtp_target_name(t, name, sizeof(name));
	snprintf(dsn, SMTP_DSN_SIZE, "4.7.0");
	plain = tls_on ? smtp_cfg.sasl_plain_with_tls
		       : smtp_cfg.sasl_plain_without_tls;
	stream_set_timeout(s, timeout_ms);
	cli = sasl_auth_client_new("smtp", t->host, user, pass, plain, &err);
	if (cli == NULL) {
		fail_text(text, name, "cannot authenticate to server ");
		buf_printf(text, ": %s", buf_cstr(&err));
		goto out;
	}
	filter_mechs(caps->auth_mechs, &mechs);
	if (sasl_auth_client_start(cli, buf_cstr(&mechs), &mech, &initial,
				   &has_initial, &err) < 0) {
		fail_text(text, name, "cannot authenticate to server ");
		buf_printf(text, ": no mechanism available%s",
			   !tls_on && !plain ? " without TLS" : "");
		goto out;
	}
	rc = exchange(s, cli, mech, &initial, has_initial, name, dsn, text);
	if (rc == 0)
		msg_info("%s: authenticated as %s with %s", name, user, mech);
out:
	sasl_auth_client_free(cli);
	buf_free(&mechs);
	buf_free(&err);
	if (initial.data != NULL)
		memset(initial.data, 0, initial.len);
	buf_free(&initial);
	return rc;
}
