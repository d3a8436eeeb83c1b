/*
 * showq - the queue listing; see showq.h.
 */
#include <dirent.h>
#include <string.h>

#include "attr.h"
#include "maildrop.h"
#include "showq.h"

/* Field bound, so that one recipient always fits one list. */
#define SHOWQ_FIELD_MAX 4096

const char *
showq_queue_name(const struct queue_envelope *env)
{
	if (env->hold)
		return "hold";
	for (size_t i = 0; i < env->nrcpt; i++)
		if (env->rcpts[i].state == QUEUE_RCPT_DEFERRED)
			return "deferred";
	return "active";
}

struct showq_ctx {
	struct buf *out;
	long long count;
};

static void
add_bounded(struct attr_list *l, const char *name, const char *value)
{
	size_t len = strlen(value);

	attr_add(l, name, value, len > SHOWQ_FIELD_MAX ? SHOWQ_FIELD_MAX : len);
}

static void
emit_message(struct showq_ctx *c, const char *queue_name,
	     const struct queue_envelope *env, long long when, long long size)
{
	struct attr_list l = ATTR_LIST_INIT;

	attr_add_str(&l, "type", "message");
	attr_add_str(&l, "queue_name", queue_name);
	attr_add_str(&l, "queue_id", env->id);
	attr_add_int(&l, "arrival_time", when);
	attr_add_int(&l, "message_size", size);
	attr_add_int(&l, "force_expired", 0);
	/* The null sender shows as Postfix's empty_address_recipient. */
	add_bounded(&l, "sender",
		    env->sender && *env->sender ? env->sender
						: "MAILER-DAEMON");
	attr_encode(&l, c->out);
	for (size_t i = 0; i < env->nrcpt; i++) {
		const struct queue_rcpt *r = &env->rcpts[i];
		if (!queue_rcpt_pending(r->state))
			continue;
		attr_list_reset(&l);
		attr_add_str(&l, "type", "rcpt");
		add_bounded(&l, "address", r->address);
		add_bounded(&l, "reason",
			    r->state == QUEUE_RCPT_DEFERRED && r->text ? r->text
								       : "");
		attr_encode(&l, c->out);
	}
	attr_list_free(&l);
	c->count++;
}

static int
list_one(const struct queue_envelope *env, void *ctx)
{
	emit_message(ctx, showq_queue_name(env), env, env->arrival_sec,
		     (long long)env->size);
	return 0;
}

static void
list_maildrop(struct showq_ctx *c, const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		struct maildrop_file f;
		struct buf err = BUF_INIT;
		if (maildrop_open(dir, de->d_name, (off_t)1 << 40, &f, &err) ==
		    0) {
			emit_message(c, "maildrop", &f.env, (long long)f.mtime,
				     (long long)f.content_len);
			maildrop_close(&f);
		}
		buf_free(&err);
	}
	closedir(d);
}

int
showq_build(struct queue *q, const char *maildrop_dir, struct buf *out)
{
	struct showq_ctx c = {out, 0};
	struct attr_list end = ATTR_LIST_INIT;
	int r;

	if (maildrop_dir)
		list_maildrop(&c, maildrop_dir);
	if ((r = queue_list(q, list_one, &c)) != QUEUE_OK)
		return r;
	attr_add_str(&end, "type", "end");
	attr_add_int(&end, "count", c.count);
	attr_encode(&end, out);
	attr_list_free(&end);
	return QUEUE_OK;
}
