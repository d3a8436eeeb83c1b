/*
 * maildrop - the local submission drop folder; see maildrop.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "attr_scan.h"
#include "iostuff.h"
#include "maildrop.h"
#include "received.h"
#include "xalloc.h"

#define MAGIC_LEN (sizeof(MAILDROP_MAGIC) - 1)
#define ENVID_MAX 100 /* RFC 3461 */
#define NOTIFY_ALL                                                             \
	(QUEUE_NOTIFY_NEVER | QUEUE_NOTIFY_SUCCESS | QUEUE_NOTIFY_FAILURE |    \
	 QUEUE_NOTIFY_DELAY)
#define FLAGS_ALLOWED (QUEUE_FLAG_8BITMIME | QUEUE_FLAG_SMTPUTF8)

/* The envelope list as the file holds it (maildrop.h); its table. */
struct maildrop_head {
	char *sender;
	char **rcpts;
	size_t nrcpt;
	long long notify;
	char *ret;
	char *envid;
	long long flags;
};

static const struct attr_scan_spec head_spec[] = {
    ATTR_SCAN_ROW_STR("sender", ATTR_SCAN_REQUIRED | ATTR_SCAN_LINE, 0,
		      ADDR_PATH_MAX, struct maildrop_head, sender),
    ATTR_SCAN_ROW_STRS("rcpt", ATTR_SCAN_LINE, 1, ADDR_PATH_MAX, 1,
		       QUEUE_RCPT_MAX, struct maildrop_head, rcpts, nrcpt),
    ATTR_SCAN_ROW_INT("notify", ATTR_SCAN_REQUIRED, 0, NOTIFY_ALL,
		      struct maildrop_head, notify),
    ATTR_SCAN_ROW_STR("ret", ATTR_SCAN_REQUIRED, 0, 4, struct maildrop_head,
		      ret),
    ATTR_SCAN_ROW_STR("envid", ATTR_SCAN_REQUIRED, 0, ENVID_MAX,
		      struct maildrop_head, envid),
    ATTR_SCAN_ROW_INT("flags", ATTR_SCAN_REQUIRED, 0, FLAGS_ALLOWED,
		      struct maildrop_head, flags),
    ATTR_SCAN_END,
};

void
maildrop_encode_head(const struct queue_envelope *env, struct buf *out)
{
	struct attr_list list = ATTR_LIST_INIT;
	struct maildrop_head h;

	h.sender = env->sender ? env->sender : (char *)"";
	h.rcpts = xcalloc(env->nrcpt ? env->nrcpt : 1, sizeof(char *));
	for (size_t i = 0; i < env->nrcpt; i++)
		h.rcpts[i] = env->rcpts[i].address;
	h.nrcpt = env->nrcpt;
	h.notify = env->nrcpt ? env->rcpts[0].notify : 0;
	h.ret = (char *)(env->ret == QUEUE_RET_FULL   ? "full"
			 : env->ret == QUEUE_RET_HDRS ? "hdrs"
						      : "");
	h.envid = env->envid ? env->envid : (char *)"";
	h.flags = env->flags & FLAGS_ALLOWED;
	attr_print(&list, head_spec, &h);
	xfree(h.rcpts);
	buf_append(out, MAILDROP_MAGIC, MAGIC_LEN);
	attr_encode(&list, out);
	attr_list_free(&list);
}

/* An address as sendmail wrote it (no brackets); empty only if null_ok. */
static int
address_ok(const char *s, int null_ok, int utf8)
{
	struct buf path = BUF_INIT;
	struct addr a;
	int r;

	if (*s == '\0')
		return null_ok;
	if (strlen(s) > ADDR_PATH_MAX)
		return 0;
	buf_printf(&path, "<%s>", s);
	r = addr_parse(path.data, path.len, utf8 ? ADDR_F_UTF8 : 0, &a);
	buf_free(&path);
	return r == ADDR_OK && strcmp(a.addr, s) == 0;
}

static int
envid_ok(const char *s)
{
	if (strlen(s) > ENVID_MAX)
		return 0;
	for (; *s; s++)
		if (*s < '!' || *s > '~')
			return 0;
	return 1;
}

/* Checks what the table cannot (address syntax, NOTIFY=NEVER alone, the
 * flags as bits, the RET words, ENVID's characters) and fills env; 0 or -1 with
 * err. */
static int
head_to_envelope(const struct maildrop_head *h, struct queue_envelope *env,
		 struct buf *err)
{
	int utf8 = (h->flags & QUEUE_FLAG_SMTPUTF8) != 0;

	if ((h->notify & QUEUE_NOTIFY_NEVER) &&
	    h->notify != QUEUE_NOTIFY_NEVER) {
		buf_puts(err, "bad notify value");
		return -1;
	}
	if (h->flags & ~(long long)FLAGS_ALLOWED) {
		buf_puts(err, "bad flags value");
		return -1;
	}
	env->flags = (uint32_t)h->flags;
	if (!address_ok(h->sender, 1, utf8)) {
		buf_puts(err, "bad sender address");
		return -1;
	}
	if (strcmp(h->ret, "full") == 0)
		env->ret = QUEUE_RET_FULL;
	else if (strcmp(h->ret, "hdrs") == 0)
		env->ret = QUEUE_RET_HDRS;
	else if (*h->ret == '\0')
		env->ret = QUEUE_RET_NONE;
	else {
		buf_puts(err, "bad ret value");
		return -1;
	}
	if (!envid_ok(h->envid)) {
		buf_puts(err, "bad envid");
		return -1;
	}
	queue_str_set(&env->sender, h->sender);
	queue_str_set(&env->envid, h->envid);
	for (size_t i = 0; i < h->nrcpt; i++) {
		if (!address_ok(h->rcpts[i], 0, utf8)) {
			buf_puts(err, "bad recipient address");
			return -1;
		}
		queue_envelope_add_rcpt(env, h->rcpts[i], NULL,
					(unsigned)h->notify);
	}
	return 0;
}

int
maildrop_decode_head(const char *data, size_t len, struct queue_envelope *env,
		     size_t *used, struct buf *err)
{
	struct attr_list list = ATTR_LIST_INIT;
	struct maildrop_head h;
	enum attr_status st;
	size_t consumed = 0;
	int r;

	queue_envelope_init(env);
	if (len < MAGIC_LEN) {
		if (memcmp(data, MAILDROP_MAGIC, len) == 0)
			return 1;
		buf_puts(err, "not a maildrop file");
		return -1;
	}
	if (memcmp(data, MAILDROP_MAGIC, MAGIC_LEN) != 0) {
		buf_puts(err, "not a maildrop file");
		return -1;
	}
	st = attr_decode(data + MAGIC_LEN, len - MAGIC_LEN,
			 MAILDROP_ENVELOPE_MAX, &list, &consumed);
	if (st == ATTR_INCOMPLETE) {
		attr_list_free(&list);
		return 1;
	}
	if (st != ATTR_OK) {
		attr_list_free(&list);
		buf_puts(err, st == ATTR_TOO_BIG ? "envelope too large"
						 : "malformed envelope");
		return -1;
	}
	memset(&h, 0, sizeof(h));
	r = attr_scan(&list, head_spec, &h, err);
	if (r < 0)
		buf_puts(err, " in the envelope");
	else
		r = head_to_envelope(&h, env, err);
	attr_scan_free(head_spec, &h);
	attr_list_free(&list);
	if (r == 0)
		*used = MAGIC_LEN + consumed;
	return r;
}

/* Copies the rest of in_fd to fd; 0 or -1 (errno set). */
static int
copy_fd(int fd, int in_fd)
{
	char block[65536];
	ssize_t n;

	while ((n = read(in_fd, block, sizeof(block))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || io_write_full(fd, block, (size_t)n, -1) < 0)
			return -1;
	}
	return 0;
}

/* The content is content[0..len) when in_fd < 0, else the rest of in_fd. */
static int
write_file(const char *dir, const struct queue_envelope *env,
	   const void *content, size_t len, int in_fd, char id[QUEUE_ID_SIZE],
	   struct buf *err)
{
	struct buf head = BUF_INIT, tmp = BUF_INIT, final = BUF_INIT;
	int fd = -1, tries;

	maildrop_encode_head(env, &head);
	/* The id is unique per process and microsecond; O_EXCL catches a
	 * file someone else made under the name we want. */
	for (tries = 0; tries < 10; tries++) {
		queue_id_new(id, NULL);
		buf_reset(&tmp);
		buf_printf(&tmp, "%s/t%s", dir, id);
		fd = open(buf_cstr(&tmp),
			  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  MAILDROP_MODE);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		buf_printf(err, "create %s: %s", buf_cstr(&tmp),
			   strerror(errno));
		goto fail;
	}
	/* The umask must not hide the file from pickup (group read). */
	if (fchmod(fd, MAILDROP_MODE) < 0 ||
	    io_write_full(fd, head.data, head.len, -1) < 0 ||
	    (in_fd < 0 ? io_write_full(fd, content, len, -1)
		       : copy_fd(fd, in_fd)) < 0 ||
	    fsync(fd) < 0) {
		buf_printf(err, "write %s: %s", buf_cstr(&tmp),
			   strerror(errno));
		goto fail_unlink;
	}
	if (close(fd) < 0) {
		fd = -1;
		buf_printf(err, "close %s: %s", buf_cstr(&tmp),
			   strerror(errno));
		goto fail_unlink;
	}
	fd = -1;
	buf_printf(&final, "%s/%s", dir, id);
	if (rename(buf_cstr(&tmp), buf_cstr(&final)) < 0) {
		buf_printf(err, "rename %s: %s", buf_cstr(&tmp),
			   strerror(errno));
		goto fail_unlink;
	}
	buf_free(&head);
	buf_free(&tmp);
	buf_free(&final);
	return 0;

fail_unlink:
	if (fd >= 0)
		close(fd);
	unlink(buf_cstr(&tmp));
fail:
	buf_free(&head);
	buf_free(&tmp);
	buf_free(&final);
	return -1;
}

int
maildrop_write(const char *dir, const struct queue_envelope *env,
	       const void *content, size_t len, char id[QUEUE_ID_SIZE],
	       struct buf *err)
{
	return write_file(dir, env, content, len, -1, id, err);
}

int
maildrop_write_fd(const char *dir, const struct queue_envelope *env,
		  int content_fd, char id[QUEUE_ID_SIZE], struct buf *err)
{
	return write_file(dir, env, NULL, 0, content_fd, id, err);
}

/* Reads the head of an open file; 0 and f->env, or -1 with err. */
static int
read_head(struct maildrop_file *f, off_t file_size, struct buf *err)
{
	struct buf data = BUF_INIT;
	size_t used = 0;
	char block[8192];
	int r = 1;

	while (r == 1) {
		ssize_t n = read(f->fd, block, sizeof(block));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			buf_printf(err, "read: %s", strerror(errno));
			r = -1;
			break;
		}
		if (n == 0) {
			buf_puts(err, "truncated envelope");
			r = -1;
			break;
		}
		buf_append(&data, block, (size_t)n);
		queue_envelope_free(&f->env);
		r = maildrop_decode_head(data.data, data.len, &f->env, &used,
					 err);
		if (r == 1 && data.len > MAILDROP_ENVELOPE_MAX + 64) {
			buf_puts(err, "envelope too large");
			r = -1;
		}
	}
	if (r == 0) {
		f->content_len = file_size - (off_t)used;
		if (lseek(f->fd, (off_t)used, SEEK_SET) < 0) {
			buf_printf(err, "seek: %s", strerror(errno));
			r = -1;
		}
	}
	buf_free(&data);
	return r;
}

int
maildrop_open(const char *dir, const char *name, off_t max_content,
	      struct maildrop_file *f, struct buf *err)
{
	struct buf path = BUF_INIT;
	struct stat st;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	queue_envelope_init(&f->env);
	if (!queue_id_valid(name))
		return 1;
	snprintf(f->id, sizeof(f->id), "%s", name);
	buf_printf(&path, "%s/%s", dir, name);
	/* O_NONBLOCK: a FIFO planted under a good name must not hang us. */
	f->fd = open(buf_cstr(&path),
		     O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	buf_free(&path);
	if (f->fd < 0) {
		if (errno == ENOENT)
			return 1;
		buf_printf(err, "open: %s", strerror(errno));
		return -1;
	}
	if (fstat(f->fd, &st) < 0) {
		buf_printf(err, "fstat: %s", strerror(errno));
		goto bad;
	}
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
		buf_puts(err, "not a regular file with one link");
		goto bad;
	}
	if (st.st_size > max_content + MAILDROP_ENVELOPE_MAX + 64) {
		buf_puts(err, "message too large");
		goto bad;
	}
	f->uid = st.st_uid;
	f->mtime = st.st_mtime;
	if (read_head(f, st.st_size, err) < 0)
		goto bad;
	if (f->content_len > max_content) {
		buf_puts(err, "message too large");
		goto bad;
	}
	memcpy(f->env.id, f->id, QUEUE_ID_SIZE);
	return 0;
bad:
	maildrop_close(f);
	return -1;
}

void
maildrop_close(struct maildrop_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	queue_envelope_free(&f->env);
}

void
maildrop_received(struct buf *out, const char *myhostname, uid_t uid,
		  const char *queue_id, time_t when)
{
	buf_printf(out,
		   "Received: by %s (Panacea, from userid %lu)\r\n\tid %s; ",
		   myhostname, (unsigned long)uid, queue_id);
	received_date(out, when);
	buf_puts(out, "\r\n");
}
