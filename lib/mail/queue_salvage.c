/*
 * queue_salvage - rebuilds a damaged queue from what Berkeley DB can still
 * read of its files (pansuper -s; INSTALL, "When the queue database is
 * damaged"); the contract is in queue.h.
 *
 * Why a new environment rather than repairing the old one in place: a
 * page that fails the verify cannot be trusted by recovery either, and the
 * old log refers to the old files' pages; a fresh environment holding
 * only records that decode starts from a known state, and the old files
 * stay, untouched, for a second attempt or for a Berkeley DB expert.
 *
 * Why everything happens inside QUEUE_DIR/db: that folder is mail_owner's
 * (pansuper runs as mail_owner), while QUEUE_DIR itself is root's.
 *
 * What is read: Berkeley DB's salvage (DB->verify with DB_SALVAGE, as
 * "db5.3_dump -r"; with DB_AGGRESSIVE, as "-R", for a file that fails its
 * verify), in db_dump's bytevalue format: after "HEADER=END", lines of
 * one space and hex digits, key and data in turn, until "DATA=END".  The
 * aggressive mode may also print stale or half-read items: a pair is kept
 * only when its key has the queue's shape and, for an envelope, its
 * record decodes.  The schedule is not read at all: the caller puts every
 * message back into it (pansuper -s does), due now.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "msg.h"
#include "queue_int.h"
#include "strutil.h"
#include "xalloc.h"

#define SALVAGE_DIR "salvage" /* QUEUE_DIR/db/salvage: the new queue */
#define SALVAGE_BATCH 256     /* records per transaction */

struct loader {
	struct queue *q; /* the new queue */
	DB *db;		 /* its envelope or content database */
	int envelope;	 /* 1: envelope.db, 0: content.db */
	DB_TXN *txn;
	size_t in_txn;
	size_t *kept, dropped;
	int err;
};

/* One line " HEX" into out; -1 when it is not hex. */
static int
unhex(const char *line, size_t len, struct buf *out)
{
	buf_reset(out);
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len < 1 || line[0] != ' ' || (len - 1) % 2 != 0)
		return -1;
	for (size_t i = 1; i + 1 < len; i += 2) {
		int hi = str_hexval((unsigned char)line[i]);
		int lo = str_hexval((unsigned char)line[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		char c = (char)(hi << 4 | lo);
		buf_append(out, &c, 1);
	}
	return 0;
}

/* A key of the queue's shape: a valid id, and for content a chunk. */
static int
key_ok(const struct loader *ld, const struct buf *key)
{
	char id[QUEUE_ID_SIZE];

	if (key->len != (ld->envelope ? QUEUE_ID_LEN : QUEUE_CONTENT_KEY_LEN))
		return 0;
	memcpy(id, key->data, QUEUE_ID_LEN);
	id[QUEUE_ID_LEN] = '\0';
	return queue_id_valid(id);
}

static int
data_ok(const struct loader *ld, const struct buf *data)
{
	struct queue_envelope env;
	int ok;

	if (!ld->envelope)
		return data->len <= QUEUE_CHUNK_MAX;
	ok = queue_record_decode(data->data, data->len, &env) == QUEUE_OK;
	queue_envelope_free(&env);
	return ok;
}

static int
commit(struct loader *ld)
{
	int err = 0;

	if (ld->txn != NULL)
		err = ld->txn->commit(ld->txn, DB_TXN_NOSYNC);
	ld->txn = NULL;
	ld->in_txn = 0;
	return err;
}

static void
load_pair(struct loader *ld, const struct buf *key, const struct buf *data)
{
	DBT k = {.data = key->data, .size = (u_int32_t)key->len};
	DBT d = {.data = data->data, .size = (u_int32_t)data->len};
	int err;

	if (ld->err != 0)
		return;
	if (!key_ok(ld, key) || !data_ok(ld, data)) {
		ld->dropped++;
		return;
	}
	if (ld->txn == NULL &&
	    (err = ld->q->env->txn_begin(ld->q->env, NULL, &ld->txn, 0)) != 0) {
		ld->err = err;
		return;
	}
	/* A key salvaged twice (a stale copy of a page): the later wins;
	 * either way the message is kept, at worst in an older state. */
	if ((err = ld->db->put(ld->db, ld->txn, &k, &d, 0)) != 0) {
		(void)ld->txn->abort(ld->txn);
		ld->txn = NULL;
		ld->err = err;
		return;
	}
	(*ld->kept)++;
	if (++ld->in_txn >= SALVAGE_BATCH)
		ld->err = commit(ld);
}

/* Berkeley DB's salvage of path into ld; 0, or -1 with why. */
static int
salvage_file(const char *home, const char *path, int aggressive,
	     struct loader *ld, struct buf *why)
{
	struct buf tmp = BUF_INIT, key = BUF_INIT, data = BUF_INIT;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int fd, in_data = 0, have_key = 0, err;
	FILE *fp;
	DB *db;

	/* The dump is twice the file's size: on the queue's file system,
	 * not in /tmp, and gone when closed. */
	buf_printf(&tmp, "%s/salvage.XXXXXX", home);
	fd = mkstemp(tmp.data);
	if (fd < 0 || unlink(buf_cstr(&tmp)) < 0 ||
	    (fp = fdopen(fd, "w+")) == NULL) {
		buf_printf(why, "temporary file in %s: %s", home,
			   strerror(errno));
		if (fd >= 0)
			close(fd);
		buf_free(&tmp);
		return -1;
	}
	buf_free(&tmp);
	if ((err = db_create(&db, NULL, 0)) == 0)
		/* Whatever it says (a damaged file is DB_VERIFY_BAD), what
		 * it printed is what can be read; verify frees db. */
		(void)db->verify(db, path, NULL, fp,
				 DB_SALVAGE | (aggressive ? DB_AGGRESSIVE : 0));
	if (err != 0 || fflush(fp) != 0 || fseek(fp, 0, SEEK_SET) != 0) {
		buf_printf(why, "salvage of %s: %s", path,
			   err ? db_strerror(err) : strerror(errno));
		fclose(fp);
		return -1;
	}
	while ((n = getline(&line, &cap, fp)) > 0 && ld->err == 0) {
		if (strncmp(line, "HEADER=END", 10) == 0) {
			in_data = 1;
			have_key = 0;
		} else if (strncmp(line, "DATA=END", 8) == 0) {
			in_data = 0;
		} else if (in_data && line[0] == ' ') {
			struct buf *into = have_key ? &data : &key;
			if (unhex(line, (size_t)n, into) < 0) {
				/* The pair is lost; the next line starts
				 * a new one. */
				ld->dropped++;
				have_key = 0;
				continue;
			}
			if (have_key)
				load_pair(ld, &key, &data);
			have_key = !have_key;
		}
	}
	if (ld->err == 0)
		ld->err = commit(ld);
	else if (ld->txn != NULL) {
		(void)ld->txn->abort(ld->txn);
		ld->txn = NULL;
	}
	free(line);
	fclose(fp);
	buf_free(&key);
	buf_free(&data);
	if (ld->err != 0) {
		buf_printf(why, "writing the new queue: %s",
			   db_strerror(ld->err));
		return -1;
	}
	return 0;
}

/* Removes the files of dir (no subfolders expected) and dir itself. */
static void
remove_dir(const char *dir)
{
	struct buf path = BUF_INIT;
	struct dirent *d;
	DIR *dp;

	if ((dp = opendir(dir)) == NULL)
		return;
	while ((d = readdir(dp)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		buf_reset(&path);
		buf_printf(&path, "%s/%s", dir, d->d_name);
		(void)unlink(buf_cstr(&path));
	}
	closedir(dp);
	(void)rmdir(dir);
	buf_free(&path);
}

/* Moves the regular files of from whose names keep() accepts into to. */
static int
move_files(const char *from, const char *to, int (*keep)(const char *name),
	   struct buf *why)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	struct dirent *d;
	DIR *dp;
	int r = 0;

	if ((dp = opendir(from)) == NULL) {
		buf_printf(why, "%s: %s", from, strerror(errno));
		return -1;
	}
	while ((d = readdir(dp)) != NULL && r == 0) {
		struct stat st;
		buf_reset(&a);
		buf_printf(&a, "%s/%s", from, d->d_name);
		if (lstat(buf_cstr(&a), &st) < 0 || !S_ISREG(st.st_mode) ||
		    !keep(d->d_name))
			continue;
		buf_reset(&b);
		buf_printf(&b, "%s/%s", to, d->d_name);
		if (rename(buf_cstr(&a), buf_cstr(&b)) < 0) {
			buf_printf(why, "rename %s to %s: %s", buf_cstr(&a),
				   buf_cstr(&b), strerror(errno));
			r = -1;
		}
	}
	closedir(dp);
	buf_free(&a);
	buf_free(&b);
	return r;
}

static int
any_file(const char *name)
{
	(void)name;
	return 1;
}

/* The new environment's databases and log; its regions stay behind. */
static int
queue_file(const char *name)
{
	return strncmp(name, "__db.", 5) != 0;
}

int
queue_salvage(const char *queue_dir, const char *const *damaged,
	      struct queue_salvage_stats *st, struct buf *kept, struct buf *why)
{
	static const char *const files[] = {"envelope.db", "content.db"};
	struct buf home = BUF_INIT, top = BUF_INIT, path = BUF_INIT;
	struct queue *nq = NULL;
	char stamp[32];
	time_t now = time(NULL);
	int r = -1;

	memset(st, 0, sizeof(*st));
	buf_printf(&home, "%s/db", queue_dir);
	buf_printf(&top, "%s/%s", buf_cstr(&home), SALVAGE_DIR);
	/* A salvage that was interrupted left its new queue: start over. */
	buf_printf(&path, "%s/db", buf_cstr(&top));
	remove_dir(buf_cstr(&path));
	remove_dir(buf_cstr(&top));
	if (mkdir(buf_cstr(&top), 0700) < 0) {
		buf_printf(why, "mkdir %s: %s", buf_cstr(&top),
			   strerror(errno));
		goto out;
	}
	if (queue_env_recover(buf_cstr(&top), NULL, &nq) != QUEUE_OK) {
		buf_printf(why, "cannot make a new queue in %s/db",
			   buf_cstr(&top));
		goto out;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct loader ld = {.q = nq, .envelope = i == 0};
		int aggressive = 0;

		ld.db = i == 0 ? nq->envelope : nq->content;
		ld.kept = i == 0 ? &st->envelopes : &st->chunks;
		for (size_t j = 0; damaged != NULL && damaged[j] != NULL; j++)
			aggressive |= strcmp(damaged[j], files[i]) == 0;
		buf_reset(&path);
		buf_printf(&path, "%s/%s", buf_cstr(&home), files[i]);
		if (access(buf_cstr(&path), F_OK) < 0)
			continue;
		if (salvage_file(buf_cstr(&home), buf_cstr(&path), aggressive,
				 &ld, why) < 0)
			goto out;
		st->dropped += ld.dropped;
	}
	if (queue_close(nq) != QUEUE_OK) {
		nq = NULL;
		buf_puts(why, "cannot close the new queue");
		goto out;
	}
	nq = NULL;
	/* The swap: the old files into db/damaged-STAMP, the new ones into
	 * db/.  A crash in between leaves both folders whole; running the
	 * salvage again starts from the damaged copy's place (the
	 * administrator moves it back, INSTALL says how). */
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime(&now));
	buf_reset(kept);
	buf_printf(kept, "%s/damaged-%s", buf_cstr(&home), stamp);
	buf_reset(&path);
	buf_printf(&path, "%s/db", buf_cstr(&top));
	if (mkdir(buf_cstr(kept), 0700) < 0) {
		buf_printf(why, "mkdir %s: %s", buf_cstr(kept),
			   strerror(errno));
		goto out;
	}
	if (move_files(buf_cstr(&home), buf_cstr(kept), any_file, why) < 0 ||
	    move_files(buf_cstr(&path), buf_cstr(&home), queue_file, why) < 0)
		goto out;
	remove_dir(buf_cstr(&path));
	remove_dir(buf_cstr(&top));
	r = 0;
out:
	if (nq != NULL)
		(void)queue_close(nq);
	buf_free(&home);
	buf_free(&top);
	buf_free(&path);
	return r;
}
