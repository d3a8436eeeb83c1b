/*
 * test_maildrop - lib/maildrop: the file head round trip, refusal of
 * malformed or hostile heads (every field checked), incomplete input,
 * and maildrop_open's checks on real files (links, FIFOs, size).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attr.h"
#include "buf.h"
#include "maildrop.h"

static void
make_env(struct queue_envelope *env)
{
	queue_envelope_init(env);
	queue_str_set(&env->sender, "alice@example.org");
	queue_str_set(&env->envid, "ENV1");
	env->ret = QUEUE_RET_HDRS;
	env->flags = QUEUE_FLAG_8BITMIME;
	queue_envelope_add_rcpt(env, "bob@example.org", NULL,
				QUEUE_NOTIFY_SUCCESS | QUEUE_NOTIFY_FAILURE);
	queue_envelope_add_rcpt(env, "carol@example.net", NULL,
				QUEUE_NOTIFY_SUCCESS | QUEUE_NOTIFY_FAILURE);
}

static void
test_round_trip_and_prefixes(void **state)
{
	struct queue_envelope in, out;
	struct buf head = BUF_INIT, err = BUF_INIT;
	size_t used = 0;

	(void)state;
	make_env(&in);
	maildrop_encode_head(&in, &head);
	buf_append(&head, "Subject: x\r\n", 12);
	assert_int_equal(
	    maildrop_decode_head(head.data, head.len, &out, &used, &err), 0);
	assert_int_equal(used, head.len - 12);
	assert_string_equal(out.sender, "alice@example.org");
	assert_string_equal(out.envid, "ENV1");
	assert_int_equal(out.ret, QUEUE_RET_HDRS);
	assert_int_equal(out.flags, QUEUE_FLAG_8BITMIME);
	assert_int_equal(out.nrcpt, 2);
	assert_string_equal(out.rcpts[1].address, "carol@example.net");
	assert_int_equal(out.rcpts[0].notify,
			 QUEUE_NOTIFY_SUCCESS | QUEUE_NOTIFY_FAILURE);
	queue_envelope_free(&out);
	/* Every proper prefix of the head is "too short to tell". */
	for (size_t n = 0; n < used; n++) {
		assert_int_equal(
		    maildrop_decode_head(head.data, n, &out, &used, &err), 1);
		queue_envelope_free(&out);
	}
	queue_envelope_free(&in);
	buf_free(&head);
	buf_free(&err);
}

/* Encodes a head from name/value pairs (NULL-terminated). */
static void
raw_head(struct buf *out, const char *const *pairs)
{
	struct attr_list l = ATTR_LIST_INIT;

	for (; pairs[0]; pairs += 2)
		attr_add_str(&l, pairs[0], pairs[1]);
	buf_reset(out);
	buf_puts(out, MAILDROP_MAGIC);
	attr_encode(&l, out);
	attr_list_free(&l);
}

static void
test_hostile_heads(void **state)
{
#define BASE "notify", "0", "ret", "", "envid", "", "flags", "0"
	static const char *const bad[][16] = {
	    {"sender", "a@b", BASE, NULL},	       /* no rcpt */
	    {"sender", "a@b", "rcpt", "", BASE, NULL}, /* empty */
	    {"sender", "a@b", "rcpt", "x\r\nRCPT TO:<y@z>", BASE, NULL},
	    {"sender", "a b@c", "rcpt", "x@y", BASE, NULL},
	    {"sender", "a@b", "rcpt", "<x@y>", BASE, NULL},
	    {"sender", "a@b", "rcpt", "x@y", "notify", "1024", "ret", "",
	     "envid", "", "flags", "0", NULL},
	    {"sender", "a@b", "rcpt", "x@y", "notify", "3", "ret", "", "envid",
	     "", "flags", "0", NULL}, /* NEVER with another */
	    {"sender", "a@b", "rcpt", "x@y", "notify", "0", "ret", "most",
	     "envid", "", "flags", "0", NULL},
	    {"sender", "a@b", "rcpt", "x@y", "notify", "0", "ret", "", "envid",
	     "has space", "flags", "0", NULL},
	    {"sender", "a@b", "rcpt", "x@y", "notify", "0", "ret", "", "envid",
	     "", "flags", "1", NULL},	 /* QUEUE_FLAG_BOUNCE */
	    {"rcpt", "x@y", BASE, NULL}, /* no sender */
	    /* The table (attr_scan.h): each once, nothing unknown, the
	     * recipients in one run. */
	    {"sender", "a@b", "sender", "c@d", "rcpt", "x@y", BASE, NULL},
	    {"sender", "a@b", "rcpt", "x@y", "uid", "0", BASE, NULL},
	    {"sender", "a@b", "rcpt", "x@y", "notify", "0", "rcpt", "z@y",
	     "ret", "", "envid", "", "flags", "0", NULL},
	    {"sender", "a@b", "rcpt", "x@y", "notify", "+0", "ret", "", "envid",
	     "", "flags", "0", NULL},
	};
	struct queue_envelope env;
	struct buf head = BUF_INIT, err = BUF_INIT;
	size_t used;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		raw_head(&head, bad[i]);
		buf_reset(&err);
		assert_int_equal(maildrop_decode_head(head.data, head.len, &env,
						      &used, &err),
				 -1);
		assert_true(err.len > 0);
		queue_envelope_free(&env);
	}
	/* The null sender is fine; a wrong magic is not. */
	static const char *const ok[] = {"sender", "",	 "rcpt",
					 "x@y",	   BASE, NULL};
	raw_head(&head, ok);
	assert_int_equal(
	    maildrop_decode_head(head.data, head.len, &env, &used, &err), 0);
	queue_envelope_free(&env);
	head.data[0] = 'X';
	assert_int_equal(
	    maildrop_decode_head(head.data, head.len, &env, &used, &err), -1);
	queue_envelope_free(&env);
	buf_free(&head);
	buf_free(&err);
}

static void
test_write_then_open(void **state)
{
	char dir[] = "/tmp/test_maildrop.XXXXXX";
	char id[QUEUE_ID_SIZE], path[256], target[256];
	struct queue_envelope env;
	struct maildrop_file f;
	struct buf err = BUF_INIT;
	const char msg[] = "Subject: hi\r\n\r\nbody\r\n";
	char back[64];
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	make_env(&env);
	assert_int_equal(
	    maildrop_write(dir, &env, msg, sizeof(msg) - 1, id, &err), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, id);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, MAILDROP_MODE);
	assert_int_equal(maildrop_open(dir, id, 1000, &f, &err), 0);
	assert_int_equal(f.content_len, sizeof(msg) - 1);
	assert_int_equal(f.uid, getuid());
	assert_int_equal(read(f.fd, back, sizeof(back)), sizeof(msg) - 1);
	assert_memory_equal(back, msg, sizeof(msg) - 1);
	maildrop_close(&f);
	/* Too big for the limit. */
	assert_int_equal(maildrop_open(dir, id, 5, &f, &err), -1);
	/* A second link, a symbolic link and a FIFO are refused. */
	snprintf(target, sizeof(target), "%s/0000000000000001", dir);
	assert_int_equal(link(path, target), 0);
	assert_int_equal(maildrop_open(dir, id, 1000, &f, &err), -1);
	unlink(target);
	assert_int_equal(symlink(path, target), 0);
	assert_int_equal(maildrop_open(dir, "0000000000000001", 1000, &f, &err),
			 -1);
	unlink(target);
	assert_int_equal(mkfifo(target, 0600), 0);
	assert_int_equal(maildrop_open(dir, "0000000000000001", 1000, &f, &err),
			 -1);
	unlink(target);
	/* Names that are not ids, and missing files, are skipped. */
	assert_int_equal(maildrop_open(dir, "tfoo", 1000, &f, &err), 1);
	assert_int_equal(maildrop_open(dir, "0000000000000002", 1000, &f, &err),
			 1);
	unlink(path);
	rmdir(dir);
	queue_envelope_free(&env);
	buf_free(&err);
}

/* maildrop_write_fd copies the content from the descriptor's offset to
 * its end, in blocks: a content larger than one block arrives whole. */
static void
test_write_fd_copies_from_offset(void **state)
{
	char dir[] = "/tmp/test_maildrop.XXXXXX";
	char spool[] = "/tmp/test_maildrop_spool.XXXXXX";
	char id[QUEUE_ID_SIZE], path[256];
	struct queue_envelope env;
	struct maildrop_file f;
	struct buf err = BUF_INIT, content = BUF_INIT;
	char *back;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_true((fd = mkstemp(spool)) >= 0);
	unlink(spool);
	for (int i = 0; i < 20000; i++)
		buf_printf(&content, "line %05d of the message\r\n", i);
	assert_int_equal(write(fd, "SKIP", 4), 4);
	assert_int_equal(write(fd, content.data, content.len),
			 (ssize_t)content.len);
	assert_int_equal(lseek(fd, 4, SEEK_SET), 4);
	make_env(&env);
	assert_int_equal(maildrop_write_fd(dir, &env, fd, id, &err), 0);
	assert_int_equal(maildrop_open(dir, id, 10000000, &f, &err), 0);
	assert_int_equal(f.content_len, (off_t)content.len);
	back = malloc(content.len);
	assert_int_equal(read(f.fd, back, content.len), (ssize_t)content.len);
	assert_memory_equal(back, content.data, content.len);
	maildrop_close(&f);
	snprintf(path, sizeof(path), "%s/%s", dir, id);
	assert_int_equal(unlink(path), 0);
	/* A descriptor that cannot be read leaves nothing behind. */
	close(fd);
	assert_int_equal(maildrop_write_fd(dir, &env, fd, id, &err), -1);
	assert_int_equal(rmdir(dir), 0); /* empty: no file, no "t" file */
	free(back);
	queue_envelope_free(&env);
	buf_free(&content);
	buf_free(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip_and_prefixes),
	    cmocka_unit_test(test_hostile_heads),
	    cmocka_unit_test(test_write_then_open),
	    cmocka_unit_test(test_write_fd_copies_from_offset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
