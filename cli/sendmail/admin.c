/*
 * sendmail's requests to the daemons: -bp (mailq) lists the queue
 * through showq, -bi (newaliases) builds the alias tables, -q asks qmgr
 * to flush the queue, one destination (-qRsite) or one message
 * (-qIqueueid); see sendmail.h.
 */
#include <stdio.h>
#include <sysexits.h>

#include "buf.h"
#include "../cli.h"
#include "sendmail.h"

static int
flush(const struct sendmail_opts *o)
{
	struct buf req = BUF_INIT;
	int r;

	if (o->flush_site)
		buf_printf(&req, "S%s", o->flush_site);
	else if (o->flush_id)
		buf_printf(&req, "I%s", o->flush_id);
	else
		buf_puts(&req, "F");
	r = cli_qmgr_request(buf_cstr(&req));
	buf_free(&req);
	if (r < 0) {
		fprintf(stderr, "sendmail: Cannot flush mail queue - "
				"mail system is down\n");
		return EX_UNAVAILABLE;
	}
	return EX_OK;
}

int
sendmail_admin(const struct sendmail_opts *o)
{
	switch (o->mode) {
	case MODE_LIST:
		return cli_queue_listing(CLI_LIST_MAILQ);
	case MODE_ALIASES:
		return cli_newaliases();
	case MODE_FLUSH:
		return flush(o);
	default:
		return EX_OK; /* -q30m: qmgr runs the queue itself */
	}
}
