/*
 * sendmail's maildrop writer: while the mail system is down a message is
 * kept in $queue_directory/maildrop/ (lib/maildrop.h), and pickup queues
 * it when the system comes back; see sendmail.h.
 */
#include <stdio.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "../cli.h"
#include "maildrop.h"
#include "sendmail.h"
#include "sock.h"

/* Nudges pickup, in case master came back meanwhile; otherwise pickup
 * finds the file when it starts.  A lost nudge is harmless: pickup's
 * timer. */
static void
nudge_pickup(void)
{
	struct buf path = BUF_INIT;
	int fd;

	cli_public_path(&path, "pickup");
	if ((fd = sock_connect_unix(buf_cstr(&path), 1000)) >= 0) {
		(void)!write(fd, "W", 1);
		close(fd);
	}
	buf_free(&path);
}

int
maildrop_keep(const struct queue_envelope *env, int content_fd,
	      char id[QUEUE_ID_SIZE], struct buf *err)
{
	struct buf dir = BUF_INIT;
	int r;

	buf_printf(&dir, "%s/maildrop", sendmail_conf.queue_directory);
	r = maildrop_write_fd(buf_cstr(&dir), env, content_fd, id, err);
	buf_free(&dir);
	if (r == 0)
		nudge_pickup();
	return r;
}

int
maildrop_submit(const struct message *m, const struct sendmail_opts *o,
		const char *sender)
{
	struct queue_envelope env;
	struct buf err = BUF_INIT;
	char id[QUEUE_ID_SIZE];
	int r;

	queue_envelope_init(&env);
	queue_str_set(&env.sender, sender);
	queue_str_set(&env.envid, o->envid);
	env.ret = o->ret;
	if (m->has_8bit || o->body_8bit)
		env.flags |= QUEUE_FLAG_8BITMIME;
	if (m->rcpts.utf8)
		env.flags |= QUEUE_FLAG_SMTPUTF8;
	for (size_t i = 0; i < m->rcpts.n; i++)
		queue_envelope_add_rcpt(&env, m->rcpts.addrs[i], NULL,
					o->notify);
	r = maildrop_keep(&env, m->spool_fd, id, &err);
	queue_envelope_free(&env);
	if (r < 0)
		fprintf(stderr,
			"sendmail: the mail system is down and the message "
			"cannot be kept: %s\n",
			buf_cstr(&err));
	else if (o->verbose)
		fprintf(stderr,
			"sendmail: mail system down: kept as "
			"maildrop/%s\n",
			id);
	buf_free(&err);
	return r < 0 ? EX_TEMPFAIL : EX_OK;
}
