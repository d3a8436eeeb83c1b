/*
 * queue - messages in the queue: receive, read, update, remove, scan; see
 * queue.h for the contract and queue_env.c for the environment.
 *
 * Every write is a function of the form fn(q, txn, ctx) run by
 * queue_txn_run(), which retries it after a deadlock; such a function
 * starts from ctx alone and returns a Berkeley DB error code.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "clock.h"
#include "msg.h"
#include "queue_int.h"
#include "xalloc.h"

/* Keys. */

static void
content_key(unsigned char key[QUEUE_CONTENT_KEY_LEN], const char *id,
	    uint32_t chunk)
{
	memcpy(key, id, QUEUE_ID_LEN);
	key[QUEUE_ID_LEN] = (unsigned char)(chunk >> 24);
	key[QUEUE_ID_LEN + 1] = (unsigned char)(chunk >> 16);
	key[QUEUE_ID_LEN + 2] = (unsigned char)(chunk >> 8);
	key[QUEUE_ID_LEN + 3] = (unsigned char)chunk;
}

static void
sched_key(unsigned char key[QUEUE_SCHED_KEY_LEN], int64_t when, const char *id)
{
	uint64_t t = when < 0 ? 0 : (uint64_t)when;
	int i;

	for (i = 7; i >= 0; i--) {
		key[i] = (unsigned char)t;
		t >>= 8;
	}
	memcpy(key + 8, id, QUEUE_ID_LEN);
}

static int64_t
sched_key_time(const unsigned char *key)
{
	uint64_t t = 0;
	int i;

	for (i = 0; i < 8; i++)
		t = (t << 8) | key[i];
	return t > INT64_MAX ? INT64_MAX : (int64_t)t;
}

static DBT
dbt(const void *data, size_t len)
{
	DBT d;

	memset(&d, 0, sizeof(d));
	d.data = (void *)data;
	d.size = (u_int32_t)len;
	return d;
}

static int
valid_id(const char *what, const char *id)
{
	if (queue_id_valid(id))
		return 1;
	msg_warn("queue: %s: malformed queue id", what);
	return 0;
}

/* Writing an envelope and its schedule entry inside a transaction. */

static int
put_envelope(struct queue *q, DB_TXN *txn, const struct queue_envelope *env,
	     u_int32_t flags)
{
	struct buf rec = BUF_INIT;
	DBT key, data;
	int err;

	if (queue_record_encode(env, &rec) != QUEUE_OK) {
		msg_warn("queue: %s: envelope exceeds the record bounds",
			 env->id);
		buf_free(&rec);
		return EINVAL;
	}
	key = dbt(env->id, QUEUE_ID_LEN);
	data = dbt(rec.data, rec.len);
	err = q->envelope->put(q->envelope, txn, &key, &data, flags);
	buf_free(&rec);
	return err;
}

static int
sched_put(struct queue *q, DB_TXN *txn, int64_t when, const char *id)
{
	unsigned char k[QUEUE_SCHED_KEY_LEN];
	DBT key, data;

	sched_key(k, when, id);
	key = dbt(k, sizeof(k));
	data = dbt("", 0);
	return q->schedule->put(q->schedule, txn, &key, &data, 0);
}

static int
sched_del(struct queue *q, DB_TXN *txn, int64_t when, const char *id)
{
	unsigned char k[QUEUE_SCHED_KEY_LEN];
	DBT key;
	int err;

	sched_key(k, when, id);
	key = dbt(k, sizeof(k));
	err = q->schedule->del(q->schedule, txn, &key, 0);
	return err == DB_NOTFOUND ? 0 : err;
}

/* Deletes every content chunk of id with a cursor inside txn. */
static int
content_del_all(struct queue *q, DB_TXN *txn, const char *id)
{
	unsigned char k[QUEUE_CONTENT_KEY_LEN];
	DBC *c;
	DBT key, data;
	int err, cerr;

	if ((err = q->content->cursor(q->content, txn, &c, 0)) != 0)
		return err;
	content_key(k, id, 0);
	memset(&key, 0, sizeof(key));
	key.data = k;
	key.size = key.ulen = sizeof(k);
	key.flags = DB_DBT_USERMEM;
	memset(&data, 0, sizeof(data));
	data.flags = DB_DBT_PARTIAL; /* keys only: never read 64 KiB */
	for (err = c->get(c, &key, &data, DB_SET_RANGE | DB_RMW); err == 0;
	     err = c->get(c, &key, &data, DB_NEXT | DB_RMW)) {
		if (key.size != QUEUE_CONTENT_KEY_LEN ||
		    memcmp(k, id, QUEUE_ID_LEN) != 0)
			break;
		if ((err = c->del(c, 0)) != 0)
			break;
	}
	if (err == DB_NOTFOUND)
		err = 0;
	cerr = c->close(c);
	return err ? err : cerr;
}

/* Incoming messages. */

struct queue_in {
	struct queue *q;
	struct queue_envelope env;
	struct buf chunk;     /* content not written yet */
	uint32_t flushed;     /* chunks written in their own transactions */
	uint64_t size;	      /* content bytes so far */
	uint64_t nul_removed; /* NUL octets dropped (queue_in_write) */
	int failed;	      /* a chunk write failed: commit must fail */
};

struct queue_in *
queue_in_begin(struct queue *q)
{
	struct queue_in *msg = xcalloc(1, sizeof(*msg));
	struct timeval tv;

	msg->q = q;
	queue_envelope_init(&msg->env);
	queue_id_new(msg->env.id, &tv);
	msg->env.arrival_sec = (int64_t)tv.tv_sec;
	msg->env.arrival_usec = (uint32_t)tv.tv_usec;
	queue_str_set(&msg->env.sender, "");
	queue_str_set(&msg->env.client_name, "");
	queue_str_set(&msg->env.client_addr, "");
	queue_str_set(&msg->env.helo, "");
	queue_str_set(&msg->env.protocol, "");
	queue_str_set(&msg->env.auth_user, "");
	queue_str_set(&msg->env.envid, "");
	queue_str_set(&msg->env.filter, "");
	buf_init(&msg->chunk);
	return msg;
}

const char *
queue_in_id(const struct queue_in *msg)
{
	return msg->env.id;
}

struct queue_envelope *
queue_in_envelope(struct queue_in *msg)
{
	return &msg->env;
}

struct chunk_ctx {
	const char *id;
	uint32_t number;
	const struct buf *data;
};

static int
chunk_put(struct queue *q, DB_TXN *txn, const struct chunk_ctx *cc)
{
	unsigned char k[QUEUE_CONTENT_KEY_LEN];
	DBT key, data;

	content_key(k, cc->id, cc->number);
	key = dbt(k, sizeof(k));
	data = dbt(cc->data->data, cc->data->len);
	return q->content->put(q->content, txn, &key, &data, 0);
}

static int
chunk_txn(struct queue *q, DB_TXN *txn, void *ctx)
{
	return chunk_put(q, txn, ctx);
}

/* Writes the full buffer as the next chunk in its own transaction, not
 * synced: the final commit's sync flushes it (see queue.h). */
static int
flush_chunk(struct queue_in *msg)
{
	struct chunk_ctx cc = {msg->env.id, msg->flushed, &msg->chunk};
	int result;

	result = queue_txn_run(msg->q, "write content", chunk_txn, &cc,
			       DB_TXN_NOSYNC);
	if (result != QUEUE_OK)
		return result;
	msg->flushed++;
	buf_reset(&msg->chunk);
	return QUEUE_OK;
}

/* Appends content that holds no NUL octet. */
static int
in_append(struct queue_in *msg, const char *p, size_t len)
{
	size_t n;
	int result;

	while (len > 0) {
		/* Flush only when more data follows, so the last chunk goes
		 * with the commit and a small message is one transaction. */
		if (msg->chunk.len == QUEUE_CHUNK_MAX &&
		    (result = flush_chunk(msg)) != QUEUE_OK) {
			msg->failed = 1;
			return result;
		}
		if (msg->chunk.cap == 0)
			buf_reserve(&msg->chunk, QUEUE_CHUNK_MAX);
		n = QUEUE_CHUNK_MAX - msg->chunk.len;
		if (n > len)
			n = len;
		buf_append(&msg->chunk, p, n);
		p += n;
		len -= n;
		msg->size += n;
	}
	return QUEUE_OK;
}

/* The NUL policy (queue.h, DESIGN.md "NUL octets"): every way into the
 * queue comes through here, so no NUL is ever stored. */
int
queue_in_write(struct queue_in *msg, const void *data, size_t len)
{
	const char *p = data, *nul;
	size_t n;
	int result;

	if (msg->failed)
		return QUEUE_ERROR;
	while (len > 0) {
		nul = memchr(p, '\0', len);
		n = nul ? (size_t)(nul - p) : len;
		if (n > 0 && (result = in_append(msg, p, n)) != QUEUE_OK)
			return result;
		if (nul == NULL)
			break;
		msg->nul_removed++;
		p = nul + 1;
		len -= n + 1;
	}
	return QUEUE_OK;
}

uint64_t
queue_in_nul_removed(const struct queue_in *msg)
{
	return msg->nul_removed;
}

static int
commit_txn(struct queue *q, DB_TXN *txn, void *ctx)
{
	struct queue_in *msg = ctx;
	struct chunk_ctx cc = {msg->env.id, msg->flushed, &msg->chunk};
	int err;

	/* Envelope, schedule, content: the order of every transaction, so
	 * that they do not deadlock each other by taking pages in opposite
	 * orders. */
	if ((err = put_envelope(q, txn, &msg->env, DB_NOOVERWRITE)) != 0)
		return err;
	if (!msg->env.hold &&
	    (err = sched_put(q, txn, msg->env.next_attempt, msg->env.id)) != 0)
		return err;
	if (msg->chunk.len > 0)
		return chunk_put(q, txn, &cc);
	return 0;
}

static int
chunks_del_txn(struct queue *q, DB_TXN *txn, void *ctx)
{
	return content_del_all(q, txn, ctx);
}

static void
in_free(struct queue_in *msg)
{
	queue_envelope_free(&msg->env);
	buf_free(&msg->chunk);
	xfree(msg);
}

void
queue_in_abort(struct queue_in *msg)
{
	if (msg->flushed > 0)
		(void)queue_txn_run(msg->q, "abort", chunks_del_txn,
				    msg->env.id, DB_TXN_NOSYNC);
	in_free(msg);
}

int
queue_in_commit(struct queue_in *msg)
{
	int result;

	if (msg->failed) {
		queue_in_abort(msg);
		return QUEUE_ERROR;
	}
	if (msg->env.nrcpt == 0) {
		msg_warn("queue: %s: no recipients", msg->env.id);
		queue_in_abort(msg);
		return QUEUE_ERROR;
	}
	msg->env.size = msg->size;
	if (msg->env.next_attempt == 0)
		msg->env.next_attempt = msg->env.arrival_sec;
	/*
	 * Commit without waiting for the disk, then flush the log: the
	 * transaction's page locks are released at the commit, not after
	 * the fsync, so concurrent sessions no longer queue behind each
	 * other's syncs, and their flushes coalesce into one (group
	 * commit).  The caller answers 250 only after the flush.
	 */
	result =
	    queue_txn_run(msg->q, "commit", commit_txn, msg, DB_TXN_NOSYNC);
	if (result != QUEUE_OK) {
		queue_in_abort(msg);
		return result;
	}
	result = queue_db_error("log flush",
				msg->q->env->log_flush(msg->q->env, NULL));
	in_free(msg);
	return result;
}

/* Reading. */

/* Reads and decodes the envelope of id inside txn (DB_RMW when it is
 * going to be rewritten).  EINVAL for a record that does not decode. */
static int
get_envelope(struct queue *q, DB_TXN *txn, const char *id,
	     struct queue_envelope *env, u_int32_t flags)
{
	DBT key, data;
	int err;

	key = dbt(id, QUEUE_ID_LEN);
	memset(&data, 0, sizeof(data));
	data.flags = DB_DBT_MALLOC;
	queue_envelope_init(env);
	if ((err = q->envelope->get(q->envelope, txn, &key, &data, flags)))
		return err;
	err = queue_record_decode(data.data, data.size, env);
	free(data.data);
	memcpy(env->id, id, QUEUE_ID_LEN);
	env->id[QUEUE_ID_LEN] = '\0';
	if (err != QUEUE_OK) {
		msg_warn("queue: %s: malformed envelope record", id);
		queue_envelope_free(env);
		return EINVAL;
	}
	return 0;
}

struct get_ctx {
	const char *id;
	struct queue_envelope *env;
};

static int
get_txn(struct queue *q, DB_TXN *txn, void *ctx)
{
	struct get_ctx *gc = ctx;

	queue_envelope_free(gc->env);
	return get_envelope(q, txn, gc->id, gc->env, 0);
}

int
queue_envelope_get(struct queue *q, const char *id, struct queue_envelope *env)
{
	struct get_ctx gc = {id, env};

	queue_envelope_init(env);
	if (!valid_id("get", id))
		return QUEUE_ERROR;
	return queue_txn_run(q, "get envelope", get_txn, &gc, DB_TXN_NOSYNC);
}

struct queue_content {
	struct queue *q;
	char id[QUEUE_ID_SIZE];
	uint32_t next;
	int done;
};

struct queue_content *
queue_content_open(struct queue *q, const char *id)
{
	struct queue_content *r = xcalloc(1, sizeof(*r));

	r->q = q;
	r->done = !queue_id_valid(id);
	if (!r->done)
		memcpy(r->id, id, QUEUE_ID_SIZE);
	return r;
}

int
queue_content_read(struct queue_content *r, struct buf *chunk)
{
	unsigned char k[QUEUE_CONTENT_KEY_LEN];
	DBT key, data;
	int attempt, err;

	if (r->done)
		return 0;
	content_key(k, r->id, r->next);
	buf_reset(chunk);
	buf_reserve(chunk, QUEUE_CHUNK_MAX);
	for (attempt = 0;; attempt++) {
		key = dbt(k, sizeof(k));
		memset(&data, 0, sizeof(data));
		data.data = chunk->data;
		data.ulen = QUEUE_CHUNK_MAX;
		data.flags = DB_DBT_USERMEM;
		err = r->q->content->get(r->q->content, NULL, &key, &data, 0);
		if (!queue_db_retryable(err) ||
		    attempt + 1 >= QUEUE_TXN_RETRIES)
			break;
		queue_backoff(attempt);
	}
	if (err == DB_NOTFOUND) {
		r->done = 1;
		return 0;
	}
	if (err == DB_BUFFER_SMALL) {
		msg_warn("queue: %s: content chunk %u is oversized", r->id,
			 (unsigned)r->next);
		return QUEUE_ERROR;
	}
	if (err != 0)
		return queue_db_error("read content", err);
	chunk->len = data.size;
	chunk->data[chunk->len] = '\0';
	r->next++;
	return 1;
}

void
queue_content_close(struct queue_content *r)
{
	xfree(r);
}

int
queue_list(struct queue *q,
	   int (*fn)(const struct queue_envelope *env, void *ctx), void *ctx)
{
	struct queue_envelope env;
	char id[QUEUE_ID_SIZE];
	DBC *c;
	DBT key, data;
	int err, result = QUEUE_OK;

	if ((err = q->envelope->cursor(q->envelope, NULL, &c,
				       DB_READ_COMMITTED)) != 0)
		return queue_db_error("list", err);
	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.flags = data.flags = DB_DBT_REALLOC;
	while ((err = c->get(c, &key, &data, DB_NEXT)) == 0) {
		if (key.size != QUEUE_ID_LEN) {
			msg_warn("queue: list: skipping a malformed key");
			continue;
		}
		memcpy(id, key.data, QUEUE_ID_LEN);
		id[QUEUE_ID_LEN] = '\0';
		if (queue_record_decode(data.data, data.size, &env) !=
		    QUEUE_OK) {
			msg_warn("queue: %s: malformed envelope record", id);
			queue_envelope_free(&env);
			continue;
		}
		memcpy(env.id, id, QUEUE_ID_SIZE);
		result = fn(&env, ctx);
		queue_envelope_free(&env);
		if (result != 0)
			break;
	}
	if (result == QUEUE_OK && err != DB_NOTFOUND)
		result = queue_db_error("list", err);
	(void)c->close(c);
	free(key.data);
	free(data.data);
	return result;
}

int
queue_schedule_due(struct queue *q, time_t now, size_t max,
		   void (*fn)(const char *id, time_t when, void *ctx),
		   void *ctx)
{
	struct due {
		char id[QUEUE_ID_SIZE];
		time_t when;
	} *due = NULL;
	size_t n = 0, cap = 0, i;
	DBC *c;
	DBT key, data;
	int err;

	if ((err = q->schedule->cursor(q->schedule, NULL, &c,
				       DB_READ_COMMITTED)) != 0)
		return queue_db_error("schedule", err);
	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.flags = data.flags = DB_DBT_REALLOC;
	while (n < max && (err = c->get(c, &key, &data, DB_NEXT)) == 0) {
		if (key.size != QUEUE_SCHED_KEY_LEN)
			continue;
		if (sched_key_time(key.data) > (int64_t)now)
			break;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			due = xreallocarray(due, cap, sizeof(*due));
		}
		memcpy(due[n].id, (char *)key.data + 8, QUEUE_ID_LEN);
		due[n].id[QUEUE_ID_LEN] = '\0';
		due[n].when = (time_t)sched_key_time(key.data);
		n++;
	}
	(void)c->close(c);
	free(key.data);
	free(data.data);
	if (err != 0 && err != DB_NOTFOUND) {
		xfree(due);
		return queue_db_error("schedule", err);
	}
	for (i = 0; i < n; i++)
		fn(due[i].id, due[i].when, ctx);
	xfree(due);
	return n > INT32_MAX ? INT32_MAX : (int)n;
}

/* Updates: read-modify-write of one envelope, keeping its schedule entry
 * in step with its hold flag and next attempt time. */

struct modify_ctx {
	const char *id;
	/* Returns 0, or EINVAL (logged) to abandon the change. */
	int (*apply)(struct queue_envelope *env, const void *arg);
	const void *arg;
	/* Write the schedule entry even when the time is unchanged: the
	 * caller (pansuper -s) may be putting back one that is missing. */
	int resched;
};

static int
modify_txn(struct queue *q, DB_TXN *txn, void *ctx)
{
	struct modify_ctx *mc = ctx;
	struct queue_envelope env;
	int64_t old_next;
	int old_hold, err;

	if ((err = get_envelope(q, txn, mc->id, &env, DB_RMW)) != 0)
		return err;
	old_hold = env.hold;
	old_next = env.next_attempt;
	if ((err = mc->apply(&env, mc->arg)) == 0 &&
	    (err = put_envelope(q, txn, &env, 0)) == 0 &&
	    (old_hold != env.hold || old_next != env.next_attempt ||
	     mc->resched)) {
		if (!old_hold)
			err = sched_del(q, txn, old_next, env.id);
		if (err == 0 && !env.hold)
			err = sched_put(q, txn, env.next_attempt, env.id);
	}
	queue_envelope_free(&env);
	return err;
}

static int apply_next_attempt(struct queue_envelope *env, const void *arg);

static int
modify_flags(struct queue *q, const char *what, const char *id,
	     int (*apply)(struct queue_envelope *, const void *),
	     const void *arg, u_int32_t commit_flags)
{
	struct modify_ctx mc = {id, apply, arg, apply == apply_next_attempt};

	if (!valid_id(what, id))
		return QUEUE_ERROR;
	return queue_txn_run(q, what, modify_txn, &mc, commit_flags);
}

static int
modify(struct queue *q, const char *what, const char *id,
       int (*apply)(struct queue_envelope *, const void *), const void *arg)
{
	return modify_flags(q, what, id, apply, arg, 0);
}

struct rcpt_update {
	const struct queue_rcpt_status *st;
	size_t n;
};

static int
apply_rcpt_update(struct queue_envelope *env, const void *arg)
{
	const struct rcpt_update *u = arg;
	const struct queue_rcpt_status *s;
	struct queue_rcpt *r;
	size_t i;

	for (i = 0; i < u->n; i++) {
		s = &u->st[i];
		if (s->index >= env->nrcpt ||
		    (unsigned)s->state > QUEUE_RCPT_STATE_MAX) {
			msg_warn("queue: %s: bad recipient update", env->id);
			return EINVAL;
		}
		r = &env->rcpts[s->index];
		r->state = s->state;
		queue_str_set(&r->dsn, s->dsn);
		queue_str_set(&r->text, s->text);
		if (r->attempts < UINT32_MAX)
			r->attempts++;
	}
	return 0;
}

int
queue_rcpt_update(struct queue *q, const char *id,
		  const struct queue_rcpt_status *st, size_t n)
{
	struct rcpt_update u = {st, n};

	/* Discharges obligations only: written, not synced (queue.h). */
	return modify_flags(q, "update recipients", id, apply_rcpt_update, &u,
			    DB_TXN_WRITE_NOSYNC);
}

static int
apply_next_attempt(struct queue_envelope *env, const void *arg)
{
	env->next_attempt = *(const int64_t *)arg;
	return 0;
}

int
queue_set_next_attempt(struct queue *q, const char *id, time_t when)
{
	int64_t t = (int64_t)when;

	return modify(q, "set next attempt", id, apply_next_attempt, &t);
}

static int
apply_flags(struct queue_envelope *env, const void *arg)
{
	const uint32_t *f = arg;

	if ((f[0] | f[1]) & ~(uint32_t)QUEUE_FLAGS_KNOWN) {
		msg_warn("queue: %s: unknown envelope flags", env->id);
		return EINVAL;
	}
	env->flags = (env->flags | f[0]) & ~f[1];
	return 0;
}

int
queue_set_flags(struct queue *q, const char *id, uint32_t set, uint32_t clear)
{
	uint32_t f[2] = {set, clear};

	return modify(q, "set flags", id, apply_flags, f);
}

static int
apply_hold(struct queue_envelope *env, const void *arg)
{
	(void)arg;
	env->hold = 1;
	return 0;
}

static int
apply_release(struct queue_envelope *env, const void *arg)
{
	if (env->hold) {
		env->hold = 0;
		env->next_attempt = *(const int64_t *)arg;
	}
	return 0;
}

int
queue_hold(struct queue *q, const char *id)
{
	return modify(q, "hold", id, apply_hold, NULL);
}

int
queue_release(struct queue *q, const char *id)
{
	int64_t now = (int64_t)clock_wall();

	return modify(q, "release", id, apply_release, &now);
}

/* Removal. */

/* For an envelope that does not decode: find its schedule entries by id. */
static int
sched_del_any(struct queue *q, DB_TXN *txn, const char *id)
{
	DBC *c;
	DBT key, data;
	int err, cerr;

	if ((err = q->schedule->cursor(q->schedule, txn, &c, 0)) != 0)
		return err;
	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.flags = data.flags = DB_DBT_REALLOC;
	while ((err = c->get(c, &key, &data, DB_NEXT | DB_RMW)) == 0)
		if (key.size == QUEUE_SCHED_KEY_LEN &&
		    memcmp((char *)key.data + 8, id, QUEUE_ID_LEN) == 0 &&
		    (err = c->del(c, 0)) != 0)
			break;
	if (err == DB_NOTFOUND)
		err = 0;
	cerr = c->close(c);
	free(key.data);
	free(data.data);
	return err ? err : cerr;
}

static int
remove_txn(struct queue *q, DB_TXN *txn, void *ctx)
{
	const char *id = ctx;
	struct queue_envelope env;
	DBT key;
	int err, decoded;

	/* Envelope, schedule, content, as in every transaction. */
	err = get_envelope(q, txn, id, &env, DB_RMW);
	if (err != 0 && err != EINVAL)
		return err;
	decoded = err == 0;
	key = dbt(id, QUEUE_ID_LEN);
	if ((err = q->envelope->del(q->envelope, txn, &key, 0)) == 0) {
		if (!decoded)
			err = sched_del_any(q, txn, id);
		else if (!env.hold)
			err = sched_del(q, txn, env.next_attempt, id);
	}
	queue_envelope_free(&env);
	if (err != 0)
		return err;
	return content_del_all(q, txn, id);
}

int
queue_remove(struct queue *q, const char *id)
{
	if (!valid_id("remove", id))
		return QUEUE_ERROR;
	/* Discharges obligations only: written, not synced (queue.h). */
	return queue_txn_run(q, "remove", remove_txn, (void *)id,
			     DB_TXN_WRITE_NOSYNC);
}

/* Orphan content: chunks whose envelope never came. */

struct orphan_ctx {
	const char *id;
	int purged;
};

static int
orphan_txn(struct queue *q, DB_TXN *txn, void *ctx)
{
	struct orphan_ctx *oc = ctx;
	DBT key, data;
	int err;

	oc->purged = 0;
	key = dbt(oc->id, QUEUE_ID_LEN);
	memset(&data, 0, sizeof(data));
	data.flags = DB_DBT_PARTIAL;
	err = q->envelope->get(q->envelope, txn, &key, &data, DB_RMW);
	if (err == 0)
		return 0; /* committed meanwhile: not an orphan */
	if (err != DB_NOTFOUND)
		return err;
	oc->purged = 1;
	return content_del_all(q, txn, oc->id);
}

/* Collects the distinct ids of content older than before. */
static int
content_ids(struct queue *q, time_t before, char (**ids)[QUEUE_ID_SIZE],
	    size_t *n)
{
	uint64_t limit = (uint64_t)(before < 0 ? 0 : before) * 1000000;
	size_t cap = 0;
	DBC *c;
	DBT key, data;
	int err;

	*ids = NULL;
	*n = 0;
	if ((err = q->content->cursor(q->content, NULL, &c,
				      DB_READ_COMMITTED)) != 0)
		return err;
	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.flags = DB_DBT_REALLOC;
	data.flags = DB_DBT_PARTIAL;
	while ((err = c->get(c, &key, &data, DB_NEXT)) == 0) {
		if (key.size != QUEUE_CONTENT_KEY_LEN ||
		    queue_id_usec(key.data) >= limit)
			continue;
		if (*n > 0 &&
		    memcmp((*ids)[*n - 1], key.data, QUEUE_ID_LEN) == 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			*ids = xreallocarray(*ids, cap, sizeof(**ids));
		}
		memcpy((*ids)[*n], key.data, QUEUE_ID_LEN);
		(*ids)[*n][QUEUE_ID_LEN] = '\0';
		(*n)++;
	}
	(void)c->close(c);
	free(key.data);
	return err == DB_NOTFOUND ? 0 : err;
}

int
queue_purge_orphans(struct queue *q, time_t before)
{
	char(*ids)[QUEUE_ID_SIZE];
	struct orphan_ctx oc;
	size_t n, i;
	int err, result = QUEUE_OK, purged = 0;

	if ((err = content_ids(q, before, &ids, &n)) != 0) {
		xfree(ids);
		return queue_db_error("purge orphans", err);
	}
	for (i = 0; i < n && result == QUEUE_OK; i++) {
		oc.id = ids[i];
		result = queue_txn_run(q, "purge orphans", orphan_txn, &oc,
				       DB_TXN_NOSYNC);
		purged += oc.purged;
	}
	xfree(ids);
	return result == QUEUE_OK ? purged : result;
}
