/*
 * smtpd_hbc - header_checks, mime_header_checks, nested_header_checks and
 * body_checks where the content enters the queue (lib/hbc.h does the
 * checking; this file opens the tables and applies the outcome).
 *
 * Postfix runs these checks in cleanup, before the queue; in Panacea
 * every message from a client or from sendmail (through the submit
 * service) goes through smtpd's DATA/BDAT path, so they run there, on the
 * content as it is stored (smtpd's own Received: header included, as
 * cleanup sees smtpd's).  pickup (mail written while the system was
 * down) and qmgr's own notices are not checked.
 */
#include <string.h>

#include "daemon.h"
#include "hbc.h"
#include "msg.h"
#include "smtpd.h"
#include "xalloc.h"

static struct hbc_config hbc_cfg;

void
smtpd_hbc_init(void)
{
	static const char *const names[HBC_CLASSES] = {
	    [HBC_HEADER] = "header_checks",
	    [HBC_MIME] = "mime_header_checks",
	    [HBC_NESTED] = "nested_header_checks",
	    [HBC_BODY] = "body_checks",
	};
	const char *const lists[HBC_CLASSES] = {
	    [HBC_HEADER] = smtpd_cfg.header_checks,
	    [HBC_MIME] = smtpd_cfg.mime_header_checks,
	    [HBC_NESTED] = smtpd_cfg.nested_header_checks,
	    [HBC_BODY] = smtpd_cfg.body_checks,
	};

	struct buf err = BUF_INIT;

	/* A type Panacea lacks or a bad pattern is a configuration error:
	 * stop at start, naming the parameter. */
	if (hbc_open(&hbc_cfg, names, lists, &err) < 0)
		msg_fatal("%s", buf_cstr(&err));
	buf_free(&err);
	hbc_cfg.body_size_limit = smtpd_cfg.body_checks_size_limit;
	hbc_cfg.line_limit = (size_t)smtpd_cfg.line_limit;
	hbc_cfg.header_limit = (size_t)smtpd_cfg.header_limit;
	hbc_cfg.boundary_limit = (size_t)smtpd_cfg.mime_boundary_limit;
	hbc_cfg.nesting_limit = (unsigned)smtpd_cfg.mime_nesting_limit;
	hbc_cfg.disable_mime = smtpd_cfg.disable_mime;
	hbc_cfg.actions = HBC_ALL_ACTIONS;
}

const char *
smtpd_hbc_changed_table(void)
{
	return hbc_changed(&hbc_cfg);
}

/* A table file was replaced: this process finishes its session and
 * exits, and master starts one that opens the new tables. */
static void
smtpd_hbc_changed(void)
{
	const char *name = hbc_changed(&hbc_cfg);

	if (name != NULL) {
		msg_info("%s has changed -- restarting", name);
		daemon_request_exit();
	}
}

struct hbc *
smtpd_hbc_begin(struct smtpd_session *ss, const char *queue_id)
{
	struct buf where = BUF_INIT;
	struct hbc *h;

	/* receive_override_options = no_header_body_checks: the smtpd a
	 * content filter hands mail back to. */
	if (smtpd_cfg.no_header_body_checks || !hbc_wanted(&hbc_cfg))
		return NULL;
	smtpd_hbc_changed();
	/* Postfix's cleanup: "from HOST[ADDR]; from=<> to=<> proto= helo=<>",
	 * with the first recipient. */
	if (ss->local_uid >= 0)
		buf_puts(&where, "from local;");
	else
		buf_printf(&where, "from %s[%s];", ss->client_name,
			   ss->client_addr);
	buf_printf(&where, " from=<%s>", ss->env.sender);
	if (ss->env.nrcpt > 0)
		buf_printf(&where, " to=<%s>", ss->env.rcpts[0].address);
	buf_printf(&where, " proto=%s", smtpd_protocol(ss));
	if (ss->helo)
		buf_printf(&where, " helo=<%s>", ss->helo);
	h = hbc_new(&hbc_cfg, queue_id, buf_cstr(&where));
	buf_free(&where);
	return h;
}

int
smtpd_hbc_reply(const struct hbc_result *r, struct buf *reply)
{
	if (r->flags & HBC_R_DEFER) {
		buf_puts(reply, "451 4.3.0 Error: content check lookup "
				"failed; try again later");
		return 1;
	}
	if (r->flags & HBC_R_REJECT) {
		const char *reason = buf_cstr(&r->reason);
		buf_printf(reply, "%s %s", reason[0] == '4' ? "450" : "550",
			   reason);
		return 1;
	}
	return 0;
}

void
smtpd_hbc_envelope(const struct hbc_result *r, struct queue_envelope *env)
{
	if (r->flags & HBC_R_HOLD)
		env->hold = 1;
	if (r->filter)
		queue_str_set(&env->filter, r->filter);
	if (r->redirect) {
		/* Every recipient goes to the one address instead. */
		for (size_t j = 0; j < env->nrcpt; j++) {
			xfree(env->rcpts[j].address);
			xfree(env->rcpts[j].orcpt);
			xfree(env->rcpts[j].dsn);
			xfree(env->rcpts[j].text);
		}
		env->nrcpt = 0;
		queue_envelope_add_rcpt(env, r->redirect, NULL, 0);
	}
	for (size_t i = 0; i < r->nbcc; i++) {
		size_t j;
		for (j = 0; j < env->nrcpt; j++)
			if (strcmp(env->rcpts[j].address, r->bcc[i]) == 0)
				break;
		/* As Postfix adds them: no DSN for the sender. */
		if (j == env->nrcpt)
			queue_envelope_add_rcpt(env, r->bcc[i], NULL,
						QUEUE_NOTIFY_NEVER);
	}
}
