/*
 * showq - the queue listing; see showq.h.
 */
#include <dirent.h>
#include <string.h>

#include "attr_scan.h"
#include "maildrop.h"
#include "showq.h"
#include "xalloc.h"

#define REQ ATTR_SCAN_REQUIRED

static const struct attr_scan_spec message_spec[] = {
    ATTR_SCAN_ROW_STR("type", REQ, 1, 7, struct showq_record, type_name),
    ATTR_SCAN_ROW_STR("queue_name", REQ, 4, 8, struct showq_record, queue_name),
    ATTR_SCAN_ROW_STR("queue_id", REQ, 1, QUEUE_ID_LEN, struct showq_record,
		      queue_id),
    ATTR_SCAN_ROW_INT("arrival_time", REQ, 0, SHOWQ_NUMBER_MAX,
		      struct showq_record, arrival_time),
    ATTR_SCAN_ROW_INT("message_size", REQ, 0, SHOWQ_NUMBER_MAX,
		      struct showq_record, message_size),
    ATTR_SCAN_ROW_INT("force_expired", REQ, 0, 1, struct showq_record,
		      force_expired),
    ATTR_SCAN_ROW_STR("sender", REQ, 0, SHOWQ_FIELD_MAX, struct showq_record,
		      sender),
    ATTR_SCAN_END,
};

static const struct attr_scan_spec rcpt_spec[] = {
    ATTR_SCAN_ROW_STR("type", REQ, 1, 7, struct showq_record, type_name),
    ATTR_SCAN_ROW_STR("address", REQ, 0, SHOWQ_FIELD_MAX, struct showq_record,
		      address),
    ATTR_SCAN_ROW_STR("reason", REQ, 0, SHOWQ_FIELD_MAX, struct showq_record,
		      reason),
    ATTR_SCAN_END,
};

static const struct attr_scan_spec end_spec[] = {
    ATTR_SCAN_ROW_STR("type", REQ, 1, 7, struct showq_record, type_name),
    ATTR_SCAN_ROW_INT("count", REQ, 0, SHOWQ_NUMBER_MAX, struct showq_record,
		      count),
    ATTR_SCAN_END,
};

static const struct attr_scan_spec denied_spec[] = {
    ATTR_SCAN_ROW_STR("type", REQ, 1, 7, struct showq_record, type_name),
    ATTR_SCAN_ROW_INT("uid", REQ, 0, SHOWQ_NUMBER_MAX, struct showq_record,
		      uid),
    ATTR_SCAN_ROW_STR("user", REQ, 1, SHOWQ_FIELD_MAX, struct showq_record,
		      user),
    ATTR_SCAN_END,
};

static const struct {
	const char *name;
	const struct attr_scan_spec *spec;
} record_types[] = {
    [SHOWQ_MESSAGE] = {"message", message_spec},
    [SHOWQ_RCPT] = {"rcpt", rcpt_spec},
    [SHOWQ_END] = {"end", end_spec},
    [SHOWQ_DENIED] = {"denied", denied_spec},
};

#define RECORD_TYPES (sizeof(record_types) / sizeof(record_types[0]))

static int
queue_name_ok(const char *s)
{
	return strcmp(s, "maildrop") == 0 || strcmp(s, "active") == 0 ||
	       strcmp(s, "deferred") == 0 || strcmp(s, "hold") == 0;
}

int
showq_record_decode(const char *data, size_t len, struct showq_record *r,
		    size_t *used, struct buf *why)
{
	struct attr_list l = ATTR_LIST_INIT;
	enum attr_status st;
	const char *type;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	st = attr_decode(data, len, SHOWQ_LIST_MAX, &l, used);
	if (st == ATTR_INCOMPLETE) {
		rc = 1;
		goto out;
	}
	if (st != ATTR_OK) {
		buf_puts(why, st == ATTR_TOO_BIG ? "list too long"
						 : "malformed list");
		goto out;
	}
	type = attr_get_str(&l, "type");
	for (size_t t = 0; type && t < RECORD_TYPES; t++) {
		if (strcmp(type, record_types[t].name) != 0)
			continue;
		r->type = (enum showq_type)t;
		if (attr_scan(&l, record_types[t].spec, r, why) < 0)
			goto out;
		if (r->type == SHOWQ_MESSAGE &&
		    (!queue_name_ok(r->queue_name) ||
		     strspn(r->queue_id, QUEUE_ID_ALPHABET) !=
			 strlen(r->queue_id))) {
			buf_puts(why, "bad queue name or id");
			goto out;
		}
		rc = 0;
		goto out;
	}
	buf_puts(why, "missing or unknown \"type\"");
out:
	attr_list_free(&l);
	return rc;
}

void
showq_record_encode(const struct showq_record *r, struct buf *out)
{
	struct attr_list l = ATTR_LIST_INIT;
	struct showq_record cut = *r;

	cut.type_name = (char *)record_types[r->type].name;
	if (r->type == SHOWQ_MESSAGE)
		cut.sender = xstrndup(r->sender, SHOWQ_FIELD_MAX);
	if (r->type == SHOWQ_RCPT) {
		cut.address = xstrndup(r->address, SHOWQ_FIELD_MAX);
		cut.reason = xstrndup(r->reason, SHOWQ_FIELD_MAX);
	}
	if (r->type == SHOWQ_DENIED)
		cut.user = xstrndup(r->user, SHOWQ_FIELD_MAX);
	attr_print(&l, record_types[r->type].spec, &cut);
	attr_encode(&l, out);
	attr_list_free(&l);
	if (r->type == SHOWQ_MESSAGE)
		xfree(cut.sender);
	if (r->type == SHOWQ_RCPT) {
		xfree(cut.address);
		xfree(cut.reason);
	}
	if (r->type == SHOWQ_DENIED)
		xfree(cut.user);
}

void
showq_record_free(struct showq_record *r)
{
	attr_scan_free(record_types[r->type].spec, r);
}

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
emit_message(struct showq_ctx *c, const char *queue_name,
	     const struct queue_envelope *env, long long when, long long size)
{
	struct showq_record r;

	memset(&r, 0, sizeof(r));
	r.type = SHOWQ_MESSAGE;
	r.queue_name = (char *)queue_name;
	r.queue_id = (char *)env->id;
	r.arrival_time = when;
	r.message_size = size;
	/* The null sender shows as Postfix's empty_address_recipient. */
	r.sender =
	    env->sender && *env->sender ? env->sender : (char *)"MAILER-DAEMON";
	showq_record_encode(&r, c->out);
	for (size_t i = 0; i < env->nrcpt; i++) {
		const struct queue_rcpt *q = &env->rcpts[i];

		if (!queue_rcpt_pending(q->state))
			continue;
		memset(&r, 0, sizeof(r));
		r.type = SHOWQ_RCPT;
		r.address = q->address;
		r.reason = q->state == QUEUE_RCPT_DEFERRED && q->text
			       ? q->text
			       : (char *)"";
		showq_record_encode(&r, c->out);
	}
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
	struct showq_record end;
	int r;

	if (maildrop_dir)
		list_maildrop(&c, maildrop_dir);
	if ((r = queue_list(q, list_one, &c)) != QUEUE_OK)
		return r;
	memset(&end, 0, sizeof(end));
	end.type = SHOWQ_END;
	end.count = c.count;
	showq_record_encode(&end, out);
	return QUEUE_OK;
}
