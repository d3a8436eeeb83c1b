/*
 * test_queue - the Berkeley DB queue in a temporary directory: commit,
 * abort and read back byte for byte (one chunk, several, several MB),
 * envelope round trip, updates, hold/release, removal, schedule order,
 * listing, another process's view, and what a process killed with SIGKILL
 * in the middle of a transaction leaves behind: nothing visible, nothing
 * wedged, after failchk and after recovery.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "queue.h"
#include "queue_int.h"
#include "xalloc.h"

struct fixture {
	char dir[64];
	struct queue *q;
};

static int
rm_tree(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_queue.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	if (queue_env_recover(f->dir, NULL, &f->q) != QUEUE_OK)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	if (f->q)
		assert_int_equal(queue_close(f->q), QUEUE_OK);
	rm_tree(f->dir);
	xfree(f);
	return 0;
}

/* Deterministic content: byte i of message seed; never NUL, which the
 * queue removes (test_nul_removed). */
static unsigned char
pattern(unsigned seed, uint64_t i)
{
	unsigned char c =
	    (unsigned char)((i * 131 + seed * 7 + (i >> 16)) & 0xff);

	return c ? c : 0x80;
}

static void
write_pattern(struct queue_in *msg, unsigned seed, uint64_t size, size_t piece)
{
	unsigned char *p = xmalloc(piece);
	uint64_t off = 0;
	size_t n, i;

	while (off < size) {
		n = size - off < piece ? (size_t)(size - off) : piece;
		for (i = 0; i < n; i++)
			p[i] = pattern(seed, off + i);
		assert_int_equal(queue_in_write(msg, p, n), QUEUE_OK);
		off += n;
	}
	xfree(p);
}

/* Streams the content back, checking every byte and the chunk sizes;
 * returns the number of chunks. */
static unsigned
check_pattern(struct queue *q, const char *id, unsigned seed, uint64_t size)
{
	struct queue_content *r = queue_content_open(q, id);
	struct buf chunk = BUF_INIT;
	uint64_t off = 0;
	unsigned chunks = 0;
	size_t i;
	int got;

	while ((got = queue_content_read(r, &chunk)) == 1) {
		assert_true(chunk.len > 0 && chunk.len <= QUEUE_CHUNK_MAX);
		assert_true(off + chunk.len <= size);
		for (i = 0; i < chunk.len; i++)
			if ((unsigned char)chunk.data[i] !=
			    pattern(seed, off + i))
				fail_msg("byte %llu differs",
					 (unsigned long long)(off + i));
		off += chunk.len;
		chunks++;
	}
	assert_int_equal(got, 0);
	assert_true(off == size);
	/* The end stays the end. */
	assert_int_equal(queue_content_read(r, &chunk), 0);
	queue_content_close(r);
	buf_free(&chunk);
	return chunks;
}

/* Commits a message of size pattern bytes to one recipient. */
static void
commit_msg(struct queue *q, char id[QUEUE_ID_SIZE], unsigned seed,
	   uint64_t size, int64_t next_attempt)
{
	struct queue_in *msg = queue_in_begin(q);
	struct queue_envelope *env = queue_in_envelope(msg);

	memcpy(id, queue_in_id(msg), QUEUE_ID_SIZE);
	queue_str_set(&env->sender, "s@example.org");
	queue_envelope_add_rcpt(env, "r@example.net", NULL, 0);
	env->next_attempt = next_attempt;
	write_pattern(msg, seed, size, 4000);
	assert_int_equal(queue_in_commit(msg), QUEUE_OK);
}

static int
exists(struct queue *q, const char *id)
{
	struct queue_envelope env;
	int result = queue_envelope_get(q, id, &env);

	queue_envelope_free(&env);
	assert_true(result == QUEUE_OK || result == QUEUE_NOTFOUND);
	return result == QUEUE_OK;
}

struct due_list {
	char ids[64][QUEUE_ID_SIZE];
	time_t when[64];
	int n;
};

static void
collect_due(const char *id, time_t when, void *ctx)
{
	struct due_list *d = ctx;

	assert_true(d->n < 64);
	memcpy(d->ids[d->n], id, QUEUE_ID_SIZE);
	d->when[d->n++] = when;
}

static int
due(struct queue *q, time_t now, struct due_list *d)
{
	memset(d, 0, sizeof(*d));
	return queue_schedule_due(q, now, 64, collect_due, d);
}

static void
test_fresh_directory_needs_recovery(void **state)
{
	char dir[] = "/tmp/test_queue_fresh.XXXXXX";
	struct queue *q = NULL;
	struct stat st;
	char path[128];

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(queue_open(dir, NULL, &q), QUEUE_RECOVER);
	assert_null(q);
	assert_int_equal(queue_env_recover(dir, NULL, &q), QUEUE_OK);
	assert_int_equal(queue_close(q), QUEUE_OK);
	/* Now an ordinary open works, and the files are private. */
	assert_int_equal(queue_open(dir, NULL, &q), QUEUE_OK);
	snprintf(path, sizeof(path), "%s/db/envelope.db", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/db/__db.register", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0077, 0);
	assert_int_equal(queue_close(q), QUEUE_OK);
	rm_tree(dir);
}

static void
verify_bad(const char *path, const char *why, void *ctx)
{
	struct buf *got = ctx;

	assert_true(*why != '\0');
	buf_printf(got, "%s%s", got->len ? " " : "", path);
}

/* pansuper -s: every database checked, a missing one skipped, a broken
 * one named. */
static void
test_verify_files(void **state)
{
	char dir[] = "/tmp/test_queue_verify.XXXXXX";
	struct buf got = BUF_INIT, want = BUF_INIT;
	struct queue *q = NULL;
	char path[128];
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* No db/ yet: nothing to check. */
	assert_int_equal(queue_verify_files(dir, verify_bad, &got), 0);
	assert_int_equal(queue_env_recover(dir, NULL, &q), QUEUE_OK);
	assert_int_equal(queue_close(q), QUEUE_OK);
	assert_int_equal(queue_verify_files(dir, verify_bad, &got), 0);
	assert_int_equal(got.len, 0);

	snprintf(path, sizeof(path), "%s/db/schedule.db", dir);
	assert_non_null(fp = fopen(path, "w"));
	fputs("not a Berkeley DB file, though long enough to be read as one "
	      "by a verifier that believed the name",
	      fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/db/content.db", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(queue_verify_files(dir, verify_bad, &got), 1);
	buf_printf(&want, "%s/db/schedule.db", dir);
	assert_string_equal(buf_cstr(&got), buf_cstr(&want));
	buf_free(&got);
	buf_free(&want);
	rm_tree(dir);
}

static void
test_commit_small_round_trip(void **state)
{
	struct fixture *f = *state;
	struct queue_envelope *env, got;
	struct queue_content *r;
	struct queue_in *msg;
	struct buf chunk = BUF_INIT;
	char id[QUEUE_ID_SIZE];
	const char *text = "Received: from x\r\n\r\nbody\r\n.\r\n\0tail";
	size_t textlen = strlen(text) + 5;
	struct queue_rcpt *rc;
	time_t before = time(NULL);

	msg = queue_in_begin(f->q);
	assert_true(queue_id_valid(queue_in_id(msg)));
	memcpy(id, queue_in_id(msg), QUEUE_ID_SIZE);
	env = queue_in_envelope(msg);
	queue_str_set(&env->sender, "");
	queue_str_set(&env->client_name, "client.example");
	queue_str_set(&env->client_addr, "192.0.2.1");
	queue_str_set(&env->helo, "helo.example");
	queue_str_set(&env->protocol, "ESMTPA");
	queue_str_set(&env->auth_user, "alice");
	queue_str_set(&env->envid, "ENV1");
	env->ret = QUEUE_RET_FULL;
	env->flags = QUEUE_FLAG_BOUNCE;
	queue_envelope_add_rcpt(env, "a@example.net", "rfc822;A@example.net",
				QUEUE_NOTIFY_FAILURE | QUEUE_NOTIFY_DELAY);
	queue_envelope_add_rcpt(env, "b@example.net", NULL, QUEUE_NOTIFY_NEVER);
	assert_int_equal(queue_in_write(msg, text, 10), QUEUE_OK);
	assert_int_equal(queue_in_write(msg, "", 0), QUEUE_OK);
	assert_int_equal(queue_in_write(msg, text + 10, textlen - 10),
			 QUEUE_OK);
	/* Not visible before the commit. */
	assert_false(exists(f->q, id));
	assert_int_equal(queue_in_commit(msg), QUEUE_OK);

	assert_int_equal(queue_envelope_get(f->q, id, &got), QUEUE_OK);
	assert_string_equal(got.id, id);
	assert_string_equal(got.sender, "");
	assert_string_equal(got.client_name, "client.example");
	assert_string_equal(got.client_addr, "192.0.2.1");
	assert_string_equal(got.helo, "helo.example");
	assert_string_equal(got.protocol, "ESMTPA");
	assert_string_equal(got.auth_user, "alice");
	assert_string_equal(got.envid, "ENV1");
	assert_int_equal(got.ret, QUEUE_RET_FULL);
	assert_int_equal(got.flags, QUEUE_FLAG_BOUNCE);
	assert_int_equal(got.hold, 0);
	/* The NUL before "tail" is not stored (test_nul_removed). */
	assert_true(got.size == textlen - 1);
	assert_true(got.arrival_sec >= before && got.arrival_sec <= time(NULL));
	assert_true((uint64_t)got.arrival_sec * 1000000 + got.arrival_usec ==
		    queue_id_usec(id));
	assert_true(got.next_attempt == got.arrival_sec);
	assert_int_equal(got.nrcpt, 2);
	rc = &got.rcpts[0];
	assert_string_equal(rc->address, "a@example.net");
	assert_string_equal(rc->orcpt, "rfc822;A@example.net");
	assert_int_equal(rc->notify, QUEUE_NOTIFY_FAILURE | QUEUE_NOTIFY_DELAY);
	assert_int_equal(rc->state, QUEUE_RCPT_PENDING);
	assert_int_equal(rc->attempts, 0);
	assert_string_equal(got.rcpts[1].address, "b@example.net");
	assert_int_equal(got.rcpts[1].notify, QUEUE_NOTIFY_NEVER);
	queue_envelope_free(&got);

	r = queue_content_open(f->q, id);
	assert_int_equal(queue_content_read(r, &chunk), 1);
	assert_int_equal(chunk.len, textlen - 1);
	assert_memory_equal(chunk.data, text, textlen - 5);
	assert_memory_equal(chunk.data + textlen - 5, "tail", 4);
	assert_int_equal(queue_content_read(r, &chunk), 0);
	queue_content_close(r);
	buf_free(&chunk);

	assert_int_equal(queue_envelope_get(f->q, "0000000000000000", &got),
			 QUEUE_NOTFOUND);
	assert_int_equal(queue_envelope_get(f->q, "bad id", &got), QUEUE_ERROR);
}

static void
test_chunk_boundaries(void **state)
{
	struct fixture *f = *state;
	char id[QUEUE_ID_SIZE];

	commit_msg(f->q, id, 1, 0, 0);
	assert_int_equal(check_pattern(f->q, id, 1, 0), 0);
	commit_msg(f->q, id, 2, QUEUE_CHUNK_MAX - 1, 0);
	assert_int_equal(check_pattern(f->q, id, 2, QUEUE_CHUNK_MAX - 1), 1);
	commit_msg(f->q, id, 3, QUEUE_CHUNK_MAX, 0);
	assert_int_equal(check_pattern(f->q, id, 3, QUEUE_CHUNK_MAX), 1);
	commit_msg(f->q, id, 4, QUEUE_CHUNK_MAX + 1, 0);
	assert_int_equal(check_pattern(f->q, id, 4, QUEUE_CHUNK_MAX + 1), 2);
	commit_msg(f->q, id, 5, 3 * QUEUE_CHUNK_MAX + 12345, 0);
	assert_int_equal(
	    check_pattern(f->q, id, 5, 3 * QUEUE_CHUNK_MAX + 12345), 4);
}

/* The NUL policy (queue.h): NUL octets, and only they, are removed, in
 * any piece and across chunk boundaries; the size counts what is kept. */
static void
test_nul_removed(void **state)
{
	struct fixture *f = *state;
	struct queue_in *msg = queue_in_begin(f->q);
	struct queue_envelope *env = queue_in_envelope(msg), got;
	struct queue_content *r;
	struct buf chunk = BUF_INIT, all = BUF_INIT, want = BUF_INIT;
	char id[QUEUE_ID_SIZE];
	char *big = xmalloc(QUEUE_CHUNK_MAX + 10);
	int n;

	memcpy(id, queue_in_id(msg), QUEUE_ID_SIZE);
	queue_str_set(&env->sender, "s@example.org");
	queue_envelope_add_rcpt(env, "r@example.net", NULL, 0);
	assert_int_equal(queue_in_write(msg, "\r\n\0.\r\n", 6), QUEUE_OK);
	buf_append(&want, "\r\n.\r\n", 5);
	assert_int_equal(queue_in_write(msg, "\0\0", 2), QUEUE_OK);
	assert_int_equal(queue_in_write(msg, "a\0b\0", 4), QUEUE_OK);
	buf_append(&want, "ab", 2);
	/* A piece that fills the first chunk, with NULs on both sides of
	 * the boundary. */
	memset(big, 'x', QUEUE_CHUNK_MAX + 10);
	big[0] = big[QUEUE_CHUNK_MAX - 8] = big[QUEUE_CHUNK_MAX - 6] =
	    big[QUEUE_CHUNK_MAX + 9] = '\0';
	assert_int_equal(queue_in_write(msg, big, QUEUE_CHUNK_MAX + 10),
			 QUEUE_OK);
	for (size_t i = 0; i < QUEUE_CHUNK_MAX + 10; i++)
		if (big[i])
			buf_putc(&want, big[i]);
	assert_true(queue_in_nul_removed(msg) == 9);
	assert_int_equal(queue_in_commit(msg), QUEUE_OK);

	assert_int_equal(queue_envelope_get(f->q, id, &got), QUEUE_OK);
	assert_true(got.size == want.len);
	queue_envelope_free(&got);
	r = queue_content_open(f->q, id);
	while ((n = queue_content_read(r, &chunk)) == 1)
		buf_append(&all, chunk.data, chunk.len);
	assert_int_equal(n, 0);
	queue_content_close(r);
	assert_int_equal(all.len, want.len);
	assert_memory_equal(all.data, want.data, want.len);
	buf_free(&chunk);
	buf_free(&all);
	buf_free(&want);
	xfree(big);
}

static void
test_large_message(void **state)
{
	struct fixture *f = *state;
	uint64_t size = 7 * 1024 * 1024 + 17;
	struct queue_envelope env;
	struct queue_in *msg;
	char id[QUEUE_ID_SIZE];

	msg = queue_in_begin(f->q);
	memcpy(id, queue_in_id(msg), QUEUE_ID_SIZE);
	queue_envelope_add_rcpt(queue_in_envelope(msg), "r@x", NULL, 0);
	/* Odd piece sizes straddle every chunk boundary. */
	write_pattern(msg, 9, size, 65521);
	assert_false(exists(f->q, id));
	assert_int_equal(queue_in_commit(msg), QUEUE_OK);
	assert_int_equal(queue_envelope_get(f->q, id, &env), QUEUE_OK);
	assert_true(env.size == size);
	queue_envelope_free(&env);
	assert_int_equal(
	    check_pattern(f->q, id, 9, size),
	    (unsigned)((size + QUEUE_CHUNK_MAX - 1) / QUEUE_CHUNK_MAX));
}

static int
count_envelopes(const struct queue_envelope *env, void *ctx)
{
	(void)env;
	(*(int *)ctx)++;
	return 0;
}

static int
queue_size(struct queue *q)
{
	int n = 0;

	assert_int_equal(queue_list(q, count_envelopes, &n), QUEUE_OK);
	return n;
}

static void
test_abort_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	struct queue_in *msg;
	struct due_list d;
	char id[QUEUE_ID_SIZE];

	/* Large enough that chunks were written before the abort. */
	msg = queue_in_begin(f->q);
	memcpy(id, queue_in_id(msg), QUEUE_ID_SIZE);
	queue_envelope_add_rcpt(queue_in_envelope(msg), "r@x", NULL, 0);
	write_pattern(msg, 1, 5 * QUEUE_CHUNK_MAX, 10000);
	queue_in_abort(msg);
	assert_false(exists(f->q, id));
	assert_int_equal(check_pattern(f->q, id, 1, 0), 0);
	assert_int_equal(due(f->q, time(NULL) + 1000, &d), 0);
	assert_int_equal(queue_size(f->q), 0);

	/* A commit without recipients fails the same clean way. */
	msg = queue_in_begin(f->q);
	memcpy(id, queue_in_id(msg), QUEUE_ID_SIZE);
	write_pattern(msg, 1, 2 * QUEUE_CHUNK_MAX + 1, 10000);
	assert_int_equal(queue_in_commit(msg), QUEUE_ERROR);
	assert_false(exists(f->q, id));
	assert_int_equal(check_pattern(f->q, id, 1, 0), 0);

	/* So does an envelope beyond the record bounds. */
	msg = queue_in_begin(f->q);
	memcpy(id, queue_in_id(msg), QUEUE_ID_SIZE);
	queue_envelope_add_rcpt(queue_in_envelope(msg), "r@x", NULL, 0);
	queue_str_set(&queue_in_envelope(msg)->rcpts[0].dsn,
		      "12345678901234567890");
	write_pattern(msg, 1, 100, 10);
	assert_int_equal(queue_in_commit(msg), QUEUE_ERROR);
	assert_false(exists(f->q, id));
	assert_int_equal(check_pattern(f->q, id, 1, 0), 0);
	assert_int_equal(queue_size(f->q), 0);
}

static void
test_update_hold_release_remove(void **state)
{
	struct fixture *f = *state;
	struct queue_rcpt_status st[2];
	struct queue_envelope env;
	struct queue_in *msg;
	struct due_list d;
	char id[QUEUE_ID_SIZE];
	time_t now = time(NULL);

	msg = queue_in_begin(f->q);
	memcpy(id, queue_in_id(msg), QUEUE_ID_SIZE);
	queue_envelope_add_rcpt(queue_in_envelope(msg), "a@x", NULL, 0);
	queue_envelope_add_rcpt(queue_in_envelope(msg), "b@x", NULL, 0);
	queue_envelope_add_rcpt(queue_in_envelope(msg), "c@x", NULL, 0);
	write_pattern(msg, 4, 3 * QUEUE_CHUNK_MAX, 5000);
	assert_int_equal(queue_in_commit(msg), QUEUE_OK);
	assert_int_equal(due(f->q, now + 1, &d), 1);
	assert_string_equal(d.ids[0], id);

	st[0] = (struct queue_rcpt_status){0, QUEUE_RCPT_DELIVERED, "2.0.0",
					   "250 ok"};
	st[1] =
	    (struct queue_rcpt_status){2, QUEUE_RCPT_DEFERRED, "4.4.1", NULL};
	assert_int_equal(queue_rcpt_update(f->q, id, st, 2), QUEUE_OK);
	st[0] = (struct queue_rcpt_status){2, QUEUE_RCPT_BOUNCED, "5.1.1",
					   "550 no such user"};
	assert_int_equal(queue_rcpt_update(f->q, id, st, 1), QUEUE_OK);
	/* An index out of range changes nothing at all. */
	st[1] = (struct queue_rcpt_status){3, QUEUE_RCPT_DELIVERED, "", ""};
	assert_int_equal(queue_rcpt_update(f->q, id, st, 2), QUEUE_ERROR);
	assert_int_equal(queue_envelope_get(f->q, id, &env), QUEUE_OK);
	assert_int_equal(env.rcpts[0].state, QUEUE_RCPT_DELIVERED);
	assert_int_equal(env.rcpts[0].attempts, 1);
	assert_string_equal(env.rcpts[0].dsn, "2.0.0");
	assert_string_equal(env.rcpts[0].text, "250 ok");
	assert_int_equal(env.rcpts[1].state, QUEUE_RCPT_PENDING);
	assert_int_equal(env.rcpts[1].attempts, 0);
	assert_int_equal(env.rcpts[2].state, QUEUE_RCPT_BOUNCED);
	assert_int_equal(env.rcpts[2].attempts, 2);
	assert_string_equal(env.rcpts[2].dsn, "5.1.1");
	assert_string_equal(env.rcpts[2].text, "550 no such user");
	assert_false(queue_rcpt_pending(env.rcpts[2].state));
	assert_true(queue_rcpt_pending(env.rcpts[1].state));
	queue_envelope_free(&env);

	/* Next attempt moves the schedule entry. */
	assert_int_equal(queue_set_next_attempt(f->q, id, now + 600), QUEUE_OK);
	assert_int_equal(due(f->q, now + 599, &d), 0);
	assert_int_equal(due(f->q, now + 600, &d), 1);
	assert_int_equal(d.when[0], now + 600);

	/* Hold removes it, even from far in the future; release puts it
	 * back due now. */
	assert_int_equal(queue_hold(f->q, id), QUEUE_OK);
	assert_int_equal(due(f->q, now + 100000, &d), 0);
	assert_int_equal(queue_envelope_get(f->q, id, &env), QUEUE_OK);
	assert_int_equal(env.hold, 1);
	queue_envelope_free(&env);
	assert_int_equal(queue_set_next_attempt(f->q, id, now + 5), QUEUE_OK);
	assert_int_equal(due(f->q, now + 100000, &d), 0);
	assert_int_equal(queue_hold(f->q, id), QUEUE_OK);
	assert_int_equal(queue_release(f->q, id), QUEUE_OK);
	assert_int_equal(due(f->q, time(NULL), &d), 1);
	assert_string_equal(d.ids[0], id);
	assert_int_equal(queue_release(f->q, id), QUEUE_OK);
	assert_int_equal(due(f->q, now + 100000, &d), 1);

	assert_int_equal(queue_remove(f->q, id), QUEUE_OK);
	assert_false(exists(f->q, id));
	assert_int_equal(check_pattern(f->q, id, 4, 0), 0);
	assert_int_equal(due(f->q, now + 100000, &d), 0);
	assert_int_equal(queue_remove(f->q, id), QUEUE_NOTFOUND);
	assert_int_equal(queue_hold(f->q, id), QUEUE_NOTFOUND);
	assert_int_equal(queue_rcpt_update(f->q, id, st, 1), QUEUE_NOTFOUND);
	assert_int_equal(queue_remove(f->q, "not an id"), QUEUE_ERROR);
}

/* Removing one message leaves its neighbours' content whole. */
static void
test_remove_keeps_neighbours(void **state)
{
	struct fixture *f = *state;
	char a[QUEUE_ID_SIZE], b[QUEUE_ID_SIZE], c[QUEUE_ID_SIZE];

	commit_msg(f->q, a, 1, 2 * QUEUE_CHUNK_MAX + 5, 0);
	commit_msg(f->q, b, 2, 3 * QUEUE_CHUNK_MAX + 5, 0);
	commit_msg(f->q, c, 3, 2 * QUEUE_CHUNK_MAX + 5, 0);
	assert_int_equal(queue_remove(f->q, b), QUEUE_OK);
	check_pattern(f->q, a, 1, 2 * QUEUE_CHUNK_MAX + 5);
	check_pattern(f->q, b, 2, 0);
	check_pattern(f->q, c, 3, 2 * QUEUE_CHUNK_MAX + 5);
	assert_int_equal(queue_size(f->q), 2);
}

static void
test_schedule_order(void **state)
{
	struct fixture *f = *state;
	static const int64_t at[] = {3000, 1000, 2000, 1000, 5000, 1};
	char ids[6][QUEUE_ID_SIZE];
	struct due_list d;
	int i;

	for (i = 0; i < 6; i++)
		commit_msg(f->q, ids[i], (unsigned)i, 10, at[i]);
	assert_int_equal(due(f->q, 0, &d), 0);
	assert_int_equal(due(f->q, 2500, &d), 4);
	assert_string_equal(d.ids[0], ids[5]);
	assert_string_equal(d.ids[1], ids[1]); /* same time: id order */
	assert_string_equal(d.ids[2], ids[3]);
	assert_string_equal(d.ids[3], ids[2]);
	assert_int_equal(d.when[0], 1);
	assert_int_equal(d.when[1], 1000);
	assert_int_equal(d.when[3], 2000);
	memset(&d, 0, sizeof(d));
	assert_int_equal(queue_schedule_due(f->q, 10000, 2, collect_due, &d),
			 2);
	assert_string_equal(d.ids[1], ids[1]);
	assert_int_equal(due(f->q, 10000, &d), 6);
	assert_string_equal(d.ids[5], ids[4]);
}

struct listing {
	char ids[16][QUEUE_ID_SIZE];
	int n, stop_after;
};

static int
collect_list(const struct queue_envelope *env, void *ctx)
{
	struct listing *l = ctx;

	assert_int_equal(env->nrcpt, 1);
	memcpy(l->ids[l->n++], env->id, QUEUE_ID_SIZE);
	return l->n == l->stop_after ? 42 : 0;
}

static void
test_list_in_arrival_order(void **state)
{
	struct fixture *f = *state;
	char ids[5][QUEUE_ID_SIZE];
	struct listing l;
	int i;

	for (i = 0; i < 5; i++)
		commit_msg(f->q, ids[i], (unsigned)i, 100, 0);
	memset(&l, 0, sizeof(l));
	assert_int_equal(queue_list(f->q, collect_list, &l), QUEUE_OK);
	assert_int_equal(l.n, 5);
	for (i = 0; i < 5; i++)
		assert_string_equal(l.ids[i], ids[i]);
	memset(&l, 0, sizeof(l));
	l.stop_after = 2;
	assert_int_equal(queue_list(f->q, collect_list, &l), 42);
	assert_int_equal(l.n, 2);
}

/* Runs fn in a child process with its own queue handle; returns its exit
 * status (0 = success). */
static int
in_child(struct fixture *f, int (*fn)(struct queue *q, void *ctx), void *ctx)
{
	struct queue *q;
	int status;
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Never touch the parent's handle: open our own. */
		if (queue_open(f->dir, NULL, &q) != QUEUE_OK)
			_exit(10);
		status = fn(q, ctx);
		if (queue_close(q) != QUEUE_OK)
			_exit(11);
		_exit(status);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static int
child_reads(struct queue *q, void *ctx)
{
	struct queue_envelope env;
	struct queue_content *r;
	struct buf chunk = BUF_INIT;
	uint64_t total = 0;
	int got;

	if (queue_envelope_get(q, ctx, &env) != QUEUE_OK)
		return 1;
	r = queue_content_open(q, ctx);
	while ((got = queue_content_read(r, &chunk)) == 1)
		total += chunk.len;
	queue_content_close(r);
	buf_free(&chunk);
	got = got == 0 && total == env.size && env.size == 200000 ? 0 : 2;
	queue_envelope_free(&env);
	return got;
}

static int
child_commits(struct queue *q, void *ctx)
{
	struct queue_in *msg = queue_in_begin(q);

	memcpy(ctx, queue_in_id(msg), QUEUE_ID_SIZE);
	queue_envelope_add_rcpt(queue_in_envelope(msg), "r@x", NULL, 0);
	if (queue_in_write(msg, "child", 5) != QUEUE_OK)
		return 1;
	return queue_in_commit(msg) == QUEUE_OK ? 0 : 2;
}

static void
test_other_process(void **state)
{
	struct fixture *f = *state;
	char id[QUEUE_ID_SIZE], *shared;

	commit_msg(f->q, id, 6, 200000, 0);
	assert_int_equal(in_child(f, child_reads, id), 0);
	/* The other way round; the id comes back through shared memory. */
	shared = mmap(NULL, QUEUE_ID_SIZE, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(shared != MAP_FAILED);
	assert_int_equal(in_child(f, child_commits, shared), 0);
	assert_true(queue_id_valid(shared));
	assert_true(strcmp(id, shared) < 0);
	assert_true(exists(f->q, shared));
	munmap(shared, QUEUE_ID_SIZE);
}

/*
 * A child that opens the queue, leaves the partial content of a message
 * it was receiving (orphan chunks, committed without an envelope), then
 * starts a raw transaction writing an envelope, a chunk and a schedule
 * entry, reports both ids, and waits to be killed with SIGKILL while the
 * transaction holds its locks.
 */
struct dead_child {
	pid_t pid;
	char orphan[QUEUE_ID_SIZE];
	char in_txn[QUEUE_ID_SIZE];
};

static void
child_stuck_in_txn(const char *dir, int fd)
{
	unsigned char k[QUEUE_SCHED_KEY_LEN];
	char ids[2 * QUEUE_ID_SIZE];
	struct queue_in *msg;
	struct queue *q;
	DB_TXN *txn;
	DBT key, data;

	if (queue_open(dir, NULL, &q) != QUEUE_OK)
		_exit(10);
	msg = queue_in_begin(q);
	memcpy(ids, queue_in_id(msg), QUEUE_ID_SIZE);
	write_pattern(msg, 1, 3 * QUEUE_CHUNK_MAX, 8192);
	queue_id_new(ids + QUEUE_ID_SIZE, NULL);
	if (q->env->txn_begin(q->env, NULL, &txn, 0) != 0)
		_exit(11);
	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.data = ids + QUEUE_ID_SIZE;
	key.size = QUEUE_ID_LEN;
	data.data = "half";
	data.size = 4;
	if (q->envelope->put(q->envelope, txn, &key, &data, 0) != 0)
		_exit(12);
	memset(k, 0, sizeof(k));
	memcpy(k + 8, ids + QUEUE_ID_SIZE, QUEUE_ID_LEN);
	key.data = k;
	key.size = sizeof(k);
	data.size = 0;
	if (q->schedule->put(q->schedule, txn, &key, &data, 0) != 0)
		_exit(13);
	if (write(fd, ids, sizeof(ids)) != (ssize_t)sizeof(ids))
		_exit(14);
	for (;;)
		pause();
}

static void
kill_child_in_txn(struct fixture *f, struct dead_child *dc)
{
	char ids[2 * QUEUE_ID_SIZE];
	size_t got = 0;
	ssize_t n;
	int fds[2], status;

	assert_int_equal(pipe(fds), 0);
	dc->pid = fork();
	assert_true(dc->pid >= 0);
	if (dc->pid == 0) {
		close(fds[0]);
		child_stuck_in_txn(f->dir, fds[1]);
	}
	close(fds[1]);
	while (got < sizeof(ids) &&
	       (n = read(fds[0], ids + got, sizeof(ids) - got)) > 0)
		got += (size_t)n;
	close(fds[0]);
	assert_int_equal(got, sizeof(ids));
	memcpy(dc->orphan, ids, QUEUE_ID_SIZE);
	memcpy(dc->in_txn, ids + QUEUE_ID_SIZE, QUEUE_ID_SIZE);
	assert_int_equal(kill(dc->pid, SIGKILL), 0);
	assert_int_equal(waitpid(dc->pid, &status, 0), dc->pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

/* What master's child table would say: the child we reaped is dead. */
static pid_t reaped_pid;
static int reaped_asked;

static int
child_table_isalive(pid_t pid)
{
	if (pid == reaped_pid) {
		reaped_asked++;
		return 0;
	}
	return kill(pid, 0) == 0 || errno == EPERM;
}

static void
check_usable_after_death(struct fixture *f, const struct dead_child *dc,
			 const char *before_id)
{
	char id[QUEUE_ID_SIZE], *shared;
	struct due_list d;

	/* Nothing of the transaction is visible, and nothing blocks. */
	assert_false(exists(f->q, dc->in_txn));
	assert_int_equal(due(f->q, 0, &d), 0);
	check_pattern(f->q, before_id, 8, 150000);
	commit_msg(f->q, id, 9, 100000, 0);
	check_pattern(f->q, id, 9, 100000);
	assert_int_equal(queue_size(f->q), 2);
	/* Another process opens and commits: the dead registration is
	 * resolved by its DB_FAILCHK open. */
	shared = mmap(NULL, QUEUE_ID_SIZE, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(shared != MAP_FAILED);
	assert_int_equal(in_child(f, child_commits, shared), 0);
	assert_true(exists(f->q, shared));
	munmap(shared, QUEUE_ID_SIZE);
	assert_int_equal(queue_remove(f->q, id), QUEUE_OK);
}

static void
test_killed_child_failchk(void **state)
{
	struct fixture *f = *state;
	struct dead_child dc;
	char before[QUEUE_ID_SIZE];
	time_t t0;

	/* Reopen as master does, with its child-table callback. */
	assert_int_equal(queue_close(f->q), QUEUE_OK);
	assert_int_equal(queue_env_recover(f->dir, child_table_isalive, &f->q),
			 QUEUE_OK);
	commit_msg(f->q, before, 8, 150000, 0);
	kill_child_in_txn(f, &dc);
	reaped_pid = dc.pid;
	reaped_asked = 0;
	assert_int_equal(queue_env_failchk(f->q), QUEUE_OK);
	assert_true(reaped_asked > 0);
	t0 = time(NULL);
	check_usable_after_death(f, &dc, before);
	assert_true(time(NULL) - t0 < 4); /* no lock timeout was needed */
	/* The partial content is invisible, and purged on request. */
	assert_int_equal(queue_purge_orphans(f->q, 0), 0);
	assert_int_equal(queue_purge_orphans(f->q, time(NULL) + 1), 1);
	assert_int_equal(check_pattern(f->q, dc.orphan, 1, 0), 0);
	check_pattern(f->q, before, 8, 150000);
	assert_int_equal(queue_env_failchk(f->q), QUEUE_OK);
}

static void
test_killed_child_recover(void **state)
{
	struct fixture *f = *state;
	struct dead_child dc;
	char before[QUEUE_ID_SIZE];

	commit_msg(f->q, before, 8, 150000, 0);
	kill_child_in_txn(f, &dc);
	/* Master's way after a crash: close, recover, go on. */
	assert_int_equal(queue_close(f->q), QUEUE_OK);
	f->q = NULL;
	assert_int_equal(queue_env_recover(f->dir, NULL, &f->q), QUEUE_OK);
	assert_int_equal(check_pattern(f->q, dc.orphan, 1, 0), 0);
	check_usable_after_death(f, &dc, before);
}

/* Recovery run while another process still has the environment open
 * panics that process's handle: it is told to go (QUEUE_RECOVER). */
static void
test_recovery_panics_old_users(void **state)
{
	struct fixture *f = *state;
	struct queue *other = NULL;
	struct queue_envelope env;
	char id[QUEUE_ID_SIZE];
	int fds[2], status;
	char c;
	pid_t pid;

	commit_msg(f->q, id, 1, 10, 0);
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* The child plays master: it recovers while we hold a
		 * handle. */
		close(fds[0]);
		if (queue_env_recover(f->dir, NULL, &other) != QUEUE_OK)
			_exit(1);
		if (queue_close(other) != QUEUE_OK)
			_exit(2);
		_exit(write(fds[1], "x", 1) == 1 ? 0 : 3);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &c, 1), 1);
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(queue_envelope_get(f->q, id, &env), QUEUE_RECOVER);
	queue_envelope_free(&env);
	assert_int_equal(queue_close(f->q), QUEUE_RECOVER);
	/* A fresh open sees the message. */
	assert_int_equal(queue_open(f->dir, NULL, &f->q), QUEUE_OK);
	assert_true(exists(f->q, id));
}

/* Each child commits messages whose seed is its number, with sizes
 * that make some of them multi-chunk, updates and removes some. */
#define WRITERS 6
#define PER_WRITER 40

static uint64_t
writer_size(int writer, int i)
{
	return (uint64_t)((writer * 7919 + i * 104729) % (3 * QUEUE_CHUNK_MAX));
}

static int
child_writer(struct queue *q, void *ctx)
{
	int writer = *(int *)ctx, i;
	struct queue_rcpt_status st = {0, QUEUE_RCPT_DEFERRED, "4.4.1", "x"};
	char id[QUEUE_ID_SIZE];
	struct queue_in *msg;
	unsigned char *p;
	uint64_t size, j;

	for (i = 0; i < PER_WRITER; i++) {
		msg = queue_in_begin(q);
		memcpy(id, queue_in_id(msg), QUEUE_ID_SIZE);
		queue_envelope_add_rcpt(queue_in_envelope(msg), "r@x", NULL, 0);
		size = writer_size(writer, i);
		p = xmalloc(size + 1);
		for (j = 0; j < size; j++)
			p[j] = pattern((unsigned)writer, j);
		if (queue_in_write(msg, p, size) != QUEUE_OK)
			return 1;
		xfree(p);
		if (queue_in_commit(msg) != QUEUE_OK)
			return 2;
		if (queue_rcpt_update(q, id, &st, 1) != QUEUE_OK ||
		    queue_set_next_attempt(q, id, 1000 + i) != QUEUE_OK)
			return 3;
		if (i % 4 == 3 && queue_remove(q, id) != QUEUE_OK)
			return 4;
	}
	return 0;
}

struct concurrent_check {
	struct queue *q;
	int seen[WRITERS];
};

static int
check_written(const struct queue_envelope *env, void *ctx)
{
	struct concurrent_check *cc = ctx;
	struct queue_content *r = queue_content_open(cc->q, env->id);
	struct buf chunk = BUF_INIT;
	int writer;

	assert_int_equal(env->rcpts[0].attempts, 1);
	assert_true(env->next_attempt >= 1000);
	/* Which writer: the one whose pattern the first byte matches. */
	assert_int_equal(queue_content_read(r, &chunk) >= 0, 1);
	queue_content_close(r);
	buf_free(&chunk);
	for (writer = 0; writer < WRITERS; writer++)
		if (writer_size(writer, (int)(env->next_attempt - 1000)) ==
		    env->size)
			break;
	assert_true(writer < WRITERS);
	check_pattern(cc->q, env->id, (unsigned)writer, env->size);
	cc->seen[writer]++;
	return 0;
}

static void
test_concurrent_writers(void **state)
{
	struct fixture *f = *state;
	struct concurrent_check cc;
	int w, status, n = 0;
	pid_t pids[WRITERS];

	for (w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		assert_true(pids[w] >= 0);
		if (pids[w] == 0) {
			struct queue *q;

			if (queue_open(f->dir, NULL, &q) != QUEUE_OK)
				_exit(10);
			status = child_writer(q, &w);
			_exit(queue_close(q) == QUEUE_OK ? status : 11);
		}
	}
	for (w = 0; w < WRITERS; w++) {
		assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	memset(&cc, 0, sizeof(cc));
	cc.q = f->q;
	assert_int_equal(queue_list(f->q, check_written, &cc), QUEUE_OK);
	for (w = 0; w < WRITERS; w++) {
		assert_int_equal(cc.seen[w], PER_WRITER - PER_WRITER / 4);
		n += cc.seen[w];
	}
	assert_int_equal(queue_size(f->q), n);
	assert_int_equal(queue_purge_orphans(f->q, time(NULL) + 1), 0);
}

static void
test_checkpoint_removes_logs(void **state)
{
	struct fixture *f = *state;
	char id[QUEUE_ID_SIZE], path[128];
	struct stat st;
	int i, logs_before = 0, logs_after = 0;

	/* About 30 MB through the log: three 10 MB log files at least. */
	for (i = 0; i < 6; i++) {
		commit_msg(f->q, id, 2, 5 * 1024 * 1024, 0);
		assert_int_equal(queue_remove(f->q, id), QUEUE_OK);
	}
	for (i = 1; i < 10; i++) {
		snprintf(path, sizeof(path), "%s/db/log.%010d", f->dir, i);
		logs_before += stat(path, &st) == 0;
	}
	assert_true(logs_before >= 3);
	assert_int_equal(queue_checkpoint(f->q), QUEUE_OK);
	assert_int_equal(queue_checkpoint(f->q), QUEUE_OK);
	for (i = 1; i < 10; i++) {
		snprintf(path, sizeof(path), "%s/db/log.%010d", f->dir, i);
		logs_after += stat(path, &st) == 0;
	}
	assert_true(logs_after < logs_before);
	assert_true(logs_after <= 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fresh_directory_needs_recovery),
	    cmocka_unit_test(test_verify_files),
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	    T(test_commit_small_round_trip),
	    T(test_chunk_boundaries),
	    T(test_nul_removed),
	    T(test_large_message),
	    T(test_abort_leaves_nothing),
	    T(test_update_hold_release_remove),
	    T(test_remove_keeps_neighbours),
	    T(test_schedule_order),
	    T(test_list_in_arrival_order),
	    T(test_other_process),
	    T(test_concurrent_writers),
	    T(test_killed_child_failchk),
	    T(test_killed_child_recover),
	    T(test_recovery_panics_old_users),
	    T(test_checkpoint_removes_logs),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
