/*
 * test_queue_record - the envelope record codec: round trip of every
 * field, the encoder's bounds, and the decoder's rejection of every
 * truncation, every oversized length or count, out-of-range values and
 * trailing bytes; random corruption never crashes it, and whatever it
 * accepts re-encodes to the same bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "queue.h"
#include "xalloc.h"

static void
sample(struct queue_envelope *env)
{
	struct queue_rcpt *r;

	queue_envelope_init(env);
	queue_str_set(&env->sender, "sender@example.org");
	env->arrival_sec = 1700000000;
	env->arrival_usec = 999999;
	env->size = UINT64_C(52428800);
	queue_str_set(&env->client_name, "mail.example.org");
	queue_str_set(&env->client_addr, "2001:db8::1");
	queue_str_set(&env->helo, "helo with spaces\r\n,:;\x80\xff");
	queue_str_set(&env->protocol, "ESMTPSA");
	queue_str_set(&env->auth_user, "alice");
	queue_str_set(&env->envid, "QQ314159");
	queue_str_set(&env->filter, "smtp:[127.0.0.1]:10024");
	env->ret = QUEUE_RET_HDRS;
	env->hold = 1;
	env->next_attempt = -5;
	env->flags = QUEUE_FLAG_8BITMIME | QUEUE_FLAG_SMTPUTF8;
	r = queue_envelope_add_rcpt(env, "bob@example.net",
				    "rfc822;Bob@Example.NET",
				    QUEUE_NOTIFY_SUCCESS | QUEUE_NOTIFY_DELAY);
	r->state = QUEUE_RCPT_DEFERRED;
	r->attempts = 4000000000u;
	queue_str_set(&r->dsn, "4.4.1");
	queue_str_set(&r->text, "connect to mx: Connection refused");
	queue_envelope_add_rcpt(env, "carol@example.com", NULL,
				QUEUE_NOTIFY_NEVER);
	r = queue_envelope_add_rcpt(env, "\"d e\"@example.com", "", 0);
	r->state = QUEUE_RCPT_EXPIRED;
}

static void
encode_sample(struct buf *b)
{
	struct queue_envelope env;

	sample(&env);
	assert_int_equal(queue_record_encode(&env, b), QUEUE_OK);
	queue_envelope_free(&env);
}

static void
test_round_trip(void **state)
{
	struct queue_envelope a, b;
	struct buf rec = BUF_INIT, again = BUF_INIT;
	size_t i;

	(void)state;
	sample(&a);
	assert_int_equal(queue_record_encode(&a, &rec), QUEUE_OK);
	assert_int_equal(rec.data[0], QUEUE_RECORD_VERSION);
	assert_int_equal(queue_record_decode(rec.data, rec.len, &b), QUEUE_OK);
	assert_string_equal(a.sender, b.sender);
	assert_true(a.arrival_sec == b.arrival_sec);
	assert_int_equal(a.arrival_usec, b.arrival_usec);
	assert_true(a.size == b.size);
	assert_string_equal(a.client_name, b.client_name);
	assert_string_equal(a.client_addr, b.client_addr);
	assert_string_equal(a.helo, b.helo);
	assert_string_equal(a.protocol, b.protocol);
	assert_string_equal(a.auth_user, b.auth_user);
	assert_string_equal(a.envid, b.envid);
	assert_string_equal(a.filter, b.filter);
	assert_int_equal(a.ret, b.ret);
	assert_int_equal(a.hold, b.hold);
	assert_true(a.next_attempt == b.next_attempt);
	assert_int_equal(a.flags, b.flags);
	assert_int_equal(a.nrcpt, b.nrcpt);
	for (i = 0; i < a.nrcpt; i++) {
		assert_string_equal(a.rcpts[i].address, b.rcpts[i].address);
		assert_string_equal(a.rcpts[i].orcpt, b.rcpts[i].orcpt);
		assert_int_equal(a.rcpts[i].notify, b.rcpts[i].notify);
		assert_int_equal(a.rcpts[i].state, b.rcpts[i].state);
		assert_int_equal(a.rcpts[i].attempts, b.rcpts[i].attempts);
		assert_string_equal(a.rcpts[i].dsn, b.rcpts[i].dsn);
		assert_string_equal(a.rcpts[i].text, b.rcpts[i].text);
	}
	assert_string_equal(b.rcpts[1].orcpt, "");
	assert_int_equal(queue_record_encode(&b, &again), QUEUE_OK);
	assert_int_equal(again.len, rec.len);
	assert_memory_equal(again.data, rec.data, rec.len);
	queue_envelope_free(&a);
	queue_envelope_free(&b);
	buf_free(&rec);
	buf_free(&again);
}

/* NULL strings encode as empty ones, and decode to "" (never NULL). */
static void
test_empty_envelope(void **state)
{
	struct queue_envelope a, b;
	struct buf rec = BUF_INIT;

	(void)state;
	queue_envelope_init(&a);
	assert_int_equal(queue_record_encode(&a, &rec), QUEUE_OK);
	assert_int_equal(queue_record_decode(rec.data, rec.len, &b), QUEUE_OK);
	assert_non_null(b.sender);
	assert_string_equal(b.sender, "");
	assert_string_equal(b.envid, "");
	assert_int_equal(b.nrcpt, 0);
	queue_envelope_free(&b);
	buf_free(&rec);
}

/* The encoder refuses what the decoder would reject, leaving out as it
 * was. */
static void
test_encode_bounds(void **state)
{
	struct queue_envelope env;
	struct buf out = BUF_INIT;
	char *big = xmalloc(QUEUE_FIELD_MAX + 2);
	size_t i;

	(void)state;
	memset(big, 'x', QUEUE_FIELD_MAX + 1);
	big[QUEUE_FIELD_MAX + 1] = '\0';
	buf_puts(&out, "keep");

#define REFUSED(change)                                                        \
	do {                                                                   \
		sample(&env);                                                  \
		change;                                                        \
		assert_int_equal(queue_record_encode(&env, &out),              \
				 QUEUE_ERROR);                                 \
		assert_string_equal(buf_cstr(&out), "keep");                   \
		queue_envelope_free(&env);                                     \
	} while (0)

	REFUSED(queue_str_set(&env.sender, big));
	REFUSED(queue_str_set(&env.envid, big));
	REFUSED(queue_str_set(&env.rcpts[2].text, big));
	REFUSED(queue_str_set(&env.rcpts[0].address, ""));
	REFUSED(queue_str_set(&env.rcpts[0].dsn, "4.4.1.12345678901234"));
	REFUSED(env.rcpts[1].notify =
		    QUEUE_NOTIFY_NEVER | QUEUE_NOTIFY_FAILURE);
	REFUSED(env.rcpts[1].notify = 0x10);
	REFUSED(env.rcpts[1].state = (enum queue_rcpt_state)5);
	REFUSED(env.arrival_usec = 1000000);
	REFUSED(env.ret = (enum queue_dsn_ret)3);
	REFUSED(env.hold = 2);
	REFUSED(env.flags = 0x80);
	REFUSED(for (i = 0; i < QUEUE_RCPT_MAX; i++)
		    queue_envelope_add_rcpt(&env, "a@b", NULL, 0));

	/* Exactly at the bounds is fine. */
	sample(&env);
	big[QUEUE_FIELD_MAX] = '\0';
	queue_str_set(&env.sender, big);
	queue_str_set(&env.rcpts[0].dsn, "4.4.1.1234567890");
	buf_reset(&out);
	assert_int_equal(queue_record_encode(&env, &out), QUEUE_OK);
	queue_envelope_free(&env);
	xfree(big);
	buf_free(&out);
}

static int
decodes(const void *data, size_t len)
{
	struct queue_envelope env;
	int result = queue_record_decode(data, len, &env);

	queue_envelope_free(&env);
	return result == QUEUE_OK;
}

static void
test_truncations_and_trailing(void **state)
{
	struct buf rec = BUF_INIT;
	char *copy;
	size_t len;

	(void)state;
	encode_sample(&rec);
	assert_true(decodes(rec.data, rec.len));
	for (len = 0; len < rec.len; len++) {
		/* A copy of exactly len bytes, so ASan sees any overread. */
		copy = xmalloc(len ? len : 1);
		memcpy(copy, rec.data, len);
		assert_false(decodes(copy, len));
		xfree(copy);
	}
	buf_putc(&rec, 0);
	assert_false(decodes(rec.data, rec.len));
	buf_free(&rec);
}

/*
 * Walks the documented layout independently of the decoder, recording
 * where each string length, count and small enum lives.
 */
struct layout {
	size_t strs[64], nstrs;	  /* offsets of u16 lengths */
	size_t count;		  /* offset of nrcpt */
	size_t bytes[16], nbytes; /* ret, hold, notify, state */
	size_t flags;
};

static size_t
walk_str(const unsigned char *p, size_t off, struct layout *l)
{
	l->strs[l->nstrs++] = off;
	return off + 2 + ((size_t)p[off] << 8 | p[off + 1]);
}

static void
walk(const unsigned char *p, struct layout *l)
{
	size_t off = 1, i, n;

	memset(l, 0, sizeof(*l));
	off = walk_str(p, off, l);
	off += 8 + 4 + 8;
	for (i = 0; i < 7; i++)
		off = walk_str(p, off, l);
	l->bytes[l->nbytes++] = off++;
	l->bytes[l->nbytes++] = off++;
	off += 8;
	l->flags = off;
	off += 4;
	l->count = off;
	n = (size_t)p[off + 2] << 8 | p[off + 3];
	off += 4;
	for (i = 0; i < n; i++) {
		off = walk_str(p, off, l);
		off = walk_str(p, off, l);
		l->bytes[l->nbytes++] = off++;
		l->bytes[l->nbytes++] = off++;
		off += 4;
		off = walk_str(p, off, l);
		off = walk_str(p, off, l);
	}
}

static void
test_bad_fields_rejected(void **state)
{
	struct buf rec = BUF_INIT;
	struct layout l;
	unsigned char *p;
	size_t i;
	unsigned char save;

	(void)state;
	encode_sample(&rec);
	p = (unsigned char *)rec.data;
	walk(p, &l);
	assert_int_equal(l.nstrs, 8 + 3 * 4);

	p[0] = QUEUE_RECORD_VERSION + 1;
	assert_false(decodes(p, rec.len));
	p[0] = QUEUE_RECORD_VERSION;
	for (i = 0; i < l.nstrs; i++) {
		/* Longer than the record, longer than the bound, one more
		 * or one less than the truth: all rejected. */
		save = p[l.strs[i]];
		p[l.strs[i]] = 0xff;
		assert_false(decodes(p, rec.len));
		p[l.strs[i]] = (unsigned char)(save + 0x10);
		assert_false(decodes(p, rec.len));
		p[l.strs[i]] = save;
		p[l.strs[i] + 1]++;
		assert_false(decodes(p, rec.len));
		p[l.strs[i] + 1] -= 2;
		if (p[l.strs[i] + 1] != 0xff)
			assert_false(decodes(p, rec.len));
		p[l.strs[i] + 1]++;
	}
	for (i = 0; i < l.nbytes; i++) {
		save = p[l.bytes[i]];
		p[l.bytes[i]] = 0xff;
		assert_false(decodes(p, rec.len));
		p[l.bytes[i]] = save;
	}
	p[l.flags + 3] |= 0x80;
	assert_false(decodes(p, rec.len));
	p[l.flags + 3] &= 0x7f;
	for (i = 0; i < 4; i++) {
		save = p[l.count + i];
		p[l.count + i] ^= 0x40;
		assert_false(decodes(p, rec.len));
		p[l.count + i] = save;
	}
	p[l.count + 3]--;
	assert_false(decodes(p, rec.len));
	p[l.count + 3]++;
	/* A NUL inside a string. */
	p[l.strs[0] + 2] = '\0';
	assert_false(decodes(p, rec.len));
	buf_free(&rec);
}

/* A huge recipient count in a tiny record fails without allocating. */
static void
test_huge_count(void **state)
{
	struct buf rec = BUF_INIT;
	struct queue_envelope env;
	struct layout l;

	(void)state;
	queue_envelope_init(&env);
	assert_int_equal(queue_record_encode(&env, &rec), QUEUE_OK);
	walk((unsigned char *)rec.data, &l);
	memset(rec.data + l.count, 0xff, 4);
	assert_false(decodes(rec.data, rec.len));
	rec.data[l.count] = 0;
	rec.data[l.count + 1] = 0;
	assert_false(decodes(rec.data, rec.len));
	buf_free(&rec);
}

/* Random corruption: never a crash; anything accepted is canonical. */
static void
test_random_corruption(void **state)
{
	struct buf rec = BUF_INIT, again = BUF_INIT;
	struct queue_envelope env;
	char *copy;
	size_t len;
	int i, j, accepted = 0;

	(void)state;
	encode_sample(&rec);
	srandom(7);
	for (i = 0; i < 20000; i++) {
		len = rec.len - (size_t)(random() % 3);
		copy = xmemdup(rec.data, len);
		for (j = random() % 4; j >= 0; j--)
			copy[random() % len] = (char)random();
		if (queue_record_decode(copy, len, &env) == QUEUE_OK) {
			accepted++;
			buf_reset(&again);
			assert_int_equal(queue_record_encode(&env, &again),
					 QUEUE_OK);
			assert_int_equal(again.len, len);
			assert_memory_equal(again.data, copy, len);
		}
		queue_envelope_free(&env);
		xfree(copy);
	}
	assert_true(accepted > 0);
	buf_free(&rec);
	buf_free(&again);
}

/* A version 1 record (written before the content filter came) is the
 * version 2 layout without the filter string: read, with filter "". */
static void
test_version_1_read(void **state)
{
	struct queue_envelope a, b;
	struct buf rec = BUF_INIT;
	struct layout l;
	unsigned char *p;
	size_t at;

	(void)state;
	sample(&a);
	queue_str_set(&a.filter, "");
	assert_int_equal(queue_record_encode(&a, &rec), QUEUE_OK);
	p = (unsigned char *)rec.data;
	walk(p, &l);
	at = l.strs[7]; /* the filter: two length bytes, both 0 */
	assert_int_equal(p[at], 0);
	assert_int_equal(p[at + 1], 0);
	memmove(p + at, p + at + 2, rec.len - at - 2);
	rec.len -= 2;
	p[0] = 1;
	assert_int_equal(queue_record_decode(rec.data, rec.len, &b), QUEUE_OK);
	assert_string_equal(b.filter, "");
	assert_string_equal(b.envid, a.envid);
	assert_int_equal(b.nrcpt, a.nrcpt);
	queue_envelope_free(&b);
	/* The same bytes as version 2 lack a field: rejected. */
	p[0] = 2;
	assert_false(decodes(rec.data, rec.len));
	queue_envelope_free(&a);
	buf_free(&rec);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_empty_envelope),
	    cmocka_unit_test(test_encode_bounds),
	    cmocka_unit_test(test_truncations_and_trailing),
	    cmocka_unit_test(test_bad_fields_rejected),
	    cmocka_unit_test(test_huge_count),
	    cmocka_unit_test(test_random_corruption),
	    cmocka_unit_test(test_version_1_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
