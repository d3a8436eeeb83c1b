/*
 * smtpd_hbc - header_checks, mime_header_checks, nested_header_checks and
 * body_checks where the content enters the queue (lib/hbc.h does the
 * checking; this file opens the tables and applies the outcome).
 *
 * Postfix runs these checks in cleanup, before the queue; in Panacea
 * every message from a client or from sendmail (through the submit
 * service) goes through smtpd's DATA/BDAT path, so they run there, on the
 * content as it is stored (smtpd's own Received: header included, as
 * cleanup sees smtpd's).  pickup checks what sendmail kept in maildrop/
 * while the system was down (pickup.c); qmgr's own notices are not
 * checked.
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
	struct buf err = BUF_INIT;

	/* A type Panacea lacks or a bad pattern is a configuration error:
	 * stop at start, naming the parameter. */
	if (hbc_conf_open(&hbc_cfg, &err) < 0)
		msg_fatal("%s", buf_cstr(&err));
	buf_free(&err);
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
