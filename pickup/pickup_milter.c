/*
 * pickup_milter - non_smtpd_milters in pickup; see pickup_milter.h.
 *
 * Each message gets its own filter session: connect (localhost,
 * 127.0.0.1, as Postfix gives non-SMTP mail), MAIL, each RCPT, DATA, the
 * content, end of message, QUIT.  pickup cannot answer a sender, so a
 * filter's refusal does not drop the message: it is queued on hold and
 * logged, for the administrator to release or delete (Postfix bounces
 * it); a temporary failure leaves it in maildrop/ for the next scan.
 */
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "msg.h"
#include "pickup_milter.h"
#include "xalloc.h"

static struct milter_conf conf;
static const char *list, *daemon_name, *macro_v, *myhostname;

struct ctx {
	const char *id, *sender, *rcpt;
};

int
pickup_milter_init(void)
{
	struct buf err = BUF_INIT;
	struct milters *probe;

	list = conf_str("non_smtpd_milters");
	daemon_name = conf_str("milter_macro_daemon_name");
	macro_v = conf_str("milter_macro_v");
	myhostname = conf_str("myhostname");
	if (milter_conf_read(&conf, &err) < 0)
		msg_fatal("%s", buf_cstr(&err));
	probe = milters_open(list, &conf, NULL, NULL, &err);
	if (probe == NULL && err.len)
		msg_fatal("non_smtpd_milters: %s", buf_cstr(&err));
	milters_close(probe);
	buf_free(&err);
	return probe != NULL;
}

static const char *
domain_of(const char *a)
{
	const char *at = a ? strrchr(a, '@') : NULL;

	return at ? at + 1 : "";
}

static const char *
macro(const char *name, void *p)
{
	struct ctx *c = p;

	if (strcmp(name, "j") == 0)
		return myhostname;
	if (strcmp(name, "{daemon_name}") == 0)
		return daemon_name;
	if (strcmp(name, "v") == 0)
		return macro_v;
	if (strcmp(name, "_") == 0)
		return "localhost [127.0.0.1]";
	if (strcmp(name, "{client_addr}") == 0)
		return "127.0.0.1";
	if (strcmp(name, "{client_name}") == 0)
		return "localhost";
	if (strcmp(name, "i") == 0)
		return c->id;
	if (strcmp(name, "{mail_addr}") == 0)
		return c->sender;
	if (strcmp(name, "{mail_host}") == 0)
		return c->sender ? domain_of(c->sender) : NULL;
	if (strcmp(name, "{mail_mailer}") == 0)
		return c->sender ? "local" : NULL;
	if (strcmp(name, "{rcpt_addr}") == 0)
		return c->rcpt;
	if (strcmp(name, "{rcpt_host}") == 0)
		return c->rcpt ? domain_of(c->rcpt) : NULL;
	return NULL;
}

enum pickup_milter_result
pickup_milter_run(const char *id, const struct queue_envelope *env,
		  struct buf *content, struct milter_edits *edits)
{
	struct ctx c = {.id = id};
	struct buf reply = BUF_INIT, err = BUF_INIT;
	struct milters *ms = milters_open(list, &conf, macro, &c, &err);
	enum milter_verdict v;
	enum pickup_milter_result r = PICKUP_MILTER_ACCEPT;
	size_t accepted = 0;

	buf_free(&err);
	if (ms == NULL)
		return PICKUP_MILTER_ACCEPT;
	v = milters_connect(ms, "localhost", '4', 0, "127.0.0.1", &reply);
	if (v == MILTER_CONTINUE) {
		c.sender = env->sender;
		v = milters_mail(ms, env->sender, NULL, 0, &reply);
	}
	for (size_t i = 0; v == MILTER_CONTINUE && i < env->nrcpt; i++) {
		c.rcpt = env->rcpts[i].address;
		enum milter_verdict rv =
		    milters_rcpt(ms, env->rcpts[i].address, NULL, 0, &reply);
		c.rcpt = NULL;
		/* A refused recipient is only that one's, as over SMTP; the
		 * message still goes to the others, and stays whole. */
		if (rv == MILTER_CONTINUE || rv == MILTER_ACCEPT)
			accepted++;
		else if (rv == MILTER_DISCARD)
			v = rv;
		else
			msg_info("%s: milter-reject: RCPT <%s>: %s (kept)", id,
				 env->rcpts[i].address, buf_cstr(&reply));
	}
	if (v == MILTER_CONTINUE && accepted > 0)
		v = milters_data(ms, &reply);
	if (v == MILTER_CONTINUE && accepted > 0)
		v = milters_message(ms, content, edits, &reply);
	if (v == MILTER_CONTINUE && accepted == 0)
		v = MILTER_REJECT; /* every recipient refused */
	switch (v) {
	case MILTER_REJECT:
		msg_info(
		    "%s: milter-reject: END-OF-MESSAGE from localhost: %s; "
		    "held (pickup cannot answer the sender)",
		    id, buf_cstr(&reply));
		r = PICKUP_MILTER_HOLD;
		break;
	case MILTER_TEMPFAIL:
		msg_info(
		    "%s: milter-reject: END-OF-MESSAGE from localhost: %s; "
		    "left in maildrop for the next scan",
		    id, buf_cstr(&reply));
		r = PICKUP_MILTER_DEFER;
		break;
	case MILTER_DISCARD:
		msg_info("%s: milter-discard: END-OF-MESSAGE from localhost: "
			 "milter triggers DISCARD action",
			 id);
		r = PICKUP_MILTER_DISCARD;
		break;
	default:
		if (edits->quarantine || milters_quarantine(ms)) {
			msg_info("%s: milter-hold: END-OF-MESSAGE from "
				 "localhost: milter triggers HOLD action%s%s",
				 id, edits->reason ? ": " : "",
				 edits->reason ? edits->reason : "");
			r = PICKUP_MILTER_HOLD;
		}
		break;
	}
	milters_close(ms);
	buf_free(&reply);
	return r;
}
