/*
 * queue_record - envelope records: encoder and strict decoder; see queue.h.
 *
 * Version 2 layout, integers big-endian, str = u16 length + bytes (no NUL
 * inside, at most QUEUE_FIELD_MAX, QUEUE_DSN_MAX for status codes):
 *   u8 version; str sender; i64 arrival_sec; u32 arrival_usec; u64 size;
 *   str client_name, client_addr, helo, protocol, auth_user, envid, filter;
 *   u8 ret; u8 hold; i64 next_attempt; u32 flags; u32 nrcpt;
 *   nrcpt times: str address, orcpt; u8 notify; u8 state; u32 attempts;
 *                str dsn, text.
 * Version 1 is the same without filter (read as ""); the encoder writes
 * version 2 only.  The decoder consumes exactly the record: every length is
 * checked against what is left before anything is copied, every enum and flag
 * set is checked against its known values, and trailing bytes are an error. The
 * encoder refuses what the decoder would reject, so a record the queue
 * writes can always be read back.
 */
#include <string.h>

#include "queue.h"
#include "xalloc.h"

void
queue_envelope_init(struct queue_envelope *env)
{
	memset(env, 0, sizeof(*env));
}

static void
rcpt_free(struct queue_rcpt *r)
{
	xfree(r->address);
	xfree(r->orcpt);
	xfree(r->dsn);
	xfree(r->text);
}

void
queue_envelope_free(struct queue_envelope *env)
{
	size_t i;

	xfree(env->sender);
	xfree(env->client_name);
	xfree(env->client_addr);
	xfree(env->helo);
	xfree(env->protocol);
	xfree(env->auth_user);
	xfree(env->envid);
	xfree(env->filter);
	for (i = 0; i < env->nrcpt; i++)
		rcpt_free(&env->rcpts[i]);
	xfree(env->rcpts);
	queue_envelope_init(env);
}

void
queue_str_set(char **field, const char *value)
{
	char *copy = xstrdup(value ? value : "");

	xfree(*field);
	*field = copy;
}

static struct queue_rcpt *
rcpt_append(struct queue_envelope *env)
{
	struct queue_rcpt *r;

	if (env->nrcpt == env->rcpt_cap) {
		env->rcpt_cap = env->rcpt_cap ? env->rcpt_cap * 2 : 4;
		env->rcpts = xreallocarray(env->rcpts, env->rcpt_cap,
					   sizeof(*env->rcpts));
	}
	r = &env->rcpts[env->nrcpt++];
	memset(r, 0, sizeof(*r));
	return r;
}

struct queue_rcpt *
queue_envelope_add_rcpt(struct queue_envelope *env, const char *address,
			const char *orcpt, unsigned notify)
{
	struct queue_rcpt *r = rcpt_append(env);

	queue_str_set(&r->address, address);
	queue_str_set(&r->orcpt, orcpt);
	queue_str_set(&r->dsn, "");
	queue_str_set(&r->text, "");
	r->notify = notify;
	r->state = QUEUE_RCPT_PENDING;
	return r;
}

int
queue_rcpt_pending(enum queue_rcpt_state state)
{
	return state == QUEUE_RCPT_PENDING || state == QUEUE_RCPT_DEFERRED;
}

static int
notify_valid(unsigned notify)
{
	if (notify & ~0x0fu)
		return 0;
	return !(notify & QUEUE_NOTIFY_NEVER) || notify == QUEUE_NOTIFY_NEVER;
}

/* Encoder. */

static void
put_u8(struct buf *b, unsigned v)
{
	buf_putc(b, (int)(v & 0xff));
}

static void
put_u16(struct buf *b, unsigned v)
{
	put_u8(b, v >> 8);
	put_u8(b, v);
}

static void
put_u32(struct buf *b, uint32_t v)
{
	put_u16(b, v >> 16);
	put_u16(b, v & 0xffff);
}

static void
put_u64(struct buf *b, uint64_t v)
{
	put_u32(b, (uint32_t)(v >> 32));
	put_u32(b, (uint32_t)v);
}

/* Returns -1 when s is longer than max. */
static int
put_str(struct buf *b, const char *s, size_t max)
{
	size_t len = s ? strlen(s) : 0;

	if (len > max)
		return -1;
	put_u16(b, (unsigned)len);
	buf_append(b, s ? s : "", len);
	return 0;
}

static int
put_rcpt(struct buf *b, const struct queue_rcpt *r)
{
	if (r->address == NULL || r->address[0] == '\0' ||
	    !notify_valid(r->notify) ||
	    (unsigned)r->state > QUEUE_RCPT_STATE_MAX)
		return -1;
	if (put_str(b, r->address, QUEUE_FIELD_MAX) < 0 ||
	    put_str(b, r->orcpt, QUEUE_FIELD_MAX) < 0)
		return -1;
	put_u8(b, r->notify);
	put_u8(b, (unsigned)r->state);
	put_u32(b, r->attempts);
	if (put_str(b, r->dsn, QUEUE_DSN_MAX) < 0 ||
	    put_str(b, r->text, QUEUE_FIELD_MAX) < 0)
		return -1;
	return 0;
}

static int
put_envelope(struct buf *b, const struct queue_envelope *env)
{
	size_t i;

	if (env->arrival_usec >= 1000000 || (unsigned)env->ret > 2 ||
	    (env->hold != 0 && env->hold != 1) ||
	    (env->flags & ~(uint32_t)QUEUE_FLAGS_KNOWN) ||
	    env->nrcpt > QUEUE_RCPT_MAX)
		return -1;
	put_u8(b, QUEUE_RECORD_VERSION);
	if (put_str(b, env->sender, QUEUE_FIELD_MAX) < 0)
		return -1;
	put_u64(b, (uint64_t)env->arrival_sec);
	put_u32(b, env->arrival_usec);
	put_u64(b, env->size);
	if (put_str(b, env->client_name, QUEUE_FIELD_MAX) < 0 ||
	    put_str(b, env->client_addr, QUEUE_FIELD_MAX) < 0 ||
	    put_str(b, env->helo, QUEUE_FIELD_MAX) < 0 ||
	    put_str(b, env->protocol, QUEUE_FIELD_MAX) < 0 ||
	    put_str(b, env->auth_user, QUEUE_FIELD_MAX) < 0 ||
	    put_str(b, env->envid, QUEUE_FIELD_MAX) < 0 ||
	    put_str(b, env->filter, QUEUE_FIELD_MAX) < 0)
		return -1;
	put_u8(b, (unsigned)env->ret);
	put_u8(b, (unsigned)env->hold);
	put_u64(b, (uint64_t)env->next_attempt);
	put_u32(b, env->flags);
	put_u32(b, (uint32_t)env->nrcpt);
	for (i = 0; i < env->nrcpt; i++)
		if (put_rcpt(b, &env->rcpts[i]) < 0)
			return -1;
	return 0;
}

int
queue_record_encode(const struct queue_envelope *env, struct buf *out)
{
	size_t start = out->len;

	if (put_envelope(out, env) < 0) {
		buf_truncate(out, start);
		return QUEUE_ERROR;
	}
	return QUEUE_OK;
}

/* Decoder: a cursor over the record; every get fails once anything is
 * short, so callers check the error flag once per group of fields. */

struct rd {
	const unsigned char *p;
	size_t left;
	int bad;
};

static const unsigned char *
take(struct rd *r, size_t n)
{
	const unsigned char *p;

	if (r->bad || n > r->left) {
		r->bad = 1;
		return NULL;
	}
	p = r->p;
	r->p += n;
	r->left -= n;
	return p;
}

static uint64_t
get_uint(struct rd *r, size_t n)
{
	const unsigned char *p = take(r, n);
	uint64_t v = 0;
	size_t i;

	if (p == NULL)
		return 0;
	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

static char *
get_str(struct rd *r, size_t max)
{
	size_t len = (size_t)get_uint(r, 2);
	const unsigned char *p;

	if (len > max)
		r->bad = 1;
	if (r->bad || (p = take(r, len)) == NULL)
		return xstrdup("");
	if (memchr(p, '\0', len) != NULL) {
		r->bad = 1;
		return xstrdup("");
	}
	return xstrndup((const char *)p, len);
}

static void
get_rcpt(struct rd *r, struct queue_envelope *env)
{
	struct queue_rcpt *rc = rcpt_append(env);
	uint64_t state;

	rc->address = get_str(r, QUEUE_FIELD_MAX);
	rc->orcpt = get_str(r, QUEUE_FIELD_MAX);
	rc->notify = (unsigned)get_uint(r, 1);
	state = get_uint(r, 1);
	rc->attempts = (uint32_t)get_uint(r, 4);
	rc->dsn = get_str(r, QUEUE_DSN_MAX);
	rc->text = get_str(r, QUEUE_FIELD_MAX);
	if (rc->address[0] == '\0' || !notify_valid(rc->notify) ||
	    state > QUEUE_RCPT_STATE_MAX)
		r->bad = 1;
	rc->state = (enum queue_rcpt_state)(r->bad ? 0 : state);
}

static void
get_envelope(struct rd *r, struct queue_envelope *env)
{
	uint64_t version, ret, hold, nrcpt, i;

	version = get_uint(r, 1);
	if (version != 1 && version != QUEUE_RECORD_VERSION)
		r->bad = 1;
	env->sender = get_str(r, QUEUE_FIELD_MAX);
	env->arrival_sec = (int64_t)get_uint(r, 8);
	env->arrival_usec = (uint32_t)get_uint(r, 4);
	env->size = get_uint(r, 8);
	env->client_name = get_str(r, QUEUE_FIELD_MAX);
	env->client_addr = get_str(r, QUEUE_FIELD_MAX);
	env->helo = get_str(r, QUEUE_FIELD_MAX);
	env->protocol = get_str(r, QUEUE_FIELD_MAX);
	env->auth_user = get_str(r, QUEUE_FIELD_MAX);
	env->envid = get_str(r, QUEUE_FIELD_MAX);
	env->filter = version == 1 ? xstrdup("") : get_str(r, QUEUE_FIELD_MAX);
	ret = get_uint(r, 1);
	hold = get_uint(r, 1);
	env->next_attempt = (int64_t)get_uint(r, 8);
	env->flags = (uint32_t)get_uint(r, 4);
	nrcpt = get_uint(r, 4);
	if (env->arrival_usec >= 1000000 || ret > 2 || hold > 1 ||
	    (env->flags & ~(uint32_t)QUEUE_FLAGS_KNOWN) ||
	    nrcpt > QUEUE_RCPT_MAX)
		r->bad = 1;
	env->ret = (enum queue_dsn_ret)(r->bad ? 0 : ret);
	env->hold = (int)hold;
	/* Stop at the first error: a bad count must not drive allocation. */
	for (i = 0; i < nrcpt && !r->bad; i++)
		get_rcpt(r, env);
}

int
queue_record_decode(const void *data, size_t len, struct queue_envelope *env)
{
	struct rd r = {data, len, 0};

	queue_envelope_init(env);
	get_envelope(&r, env);
	if (r.bad || r.left != 0)
		return QUEUE_ERROR;
	return QUEUE_OK;
}
