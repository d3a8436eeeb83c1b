/*
 * pansuper - queue maintenance for root, as Postfix's postsuper.
 *
 * pansuper [-c config_dir] [-s] [-p] [-d queue_id|ALL|-] [-h ...]
 *          [-H ...] [-r ...] [queue ...]
 *
 *   -d  deletes messages;             default queues: hold active deferred
 *   -h  puts messages on hold;        default queues: active deferred
 *   -H  releases messages from hold;  default queue:  hold
 *   -r  requeues messages: due now, released from hold, so qmgr resolves
 *       their recipients afresh;      default queues: hold active deferred
 *   -s  checks and repairs the queue: with the mail system stopped, a
 *       recovery and a Berkeley DB verify of every database; a database
 *       that fails, or a recovery that fails, is salvaged into a new queue
 *       (queue_salvage, queue.h), whose messages are then rescheduled and
 *       checked for whole content (a message whose content lost chunks
 *       is put on hold, for the administrator to look at); always,
 *       orphaned content, messages missing from the schedule, schedule
 *       entries without a message, messages with nothing left to deliver;
 *   -p  purges leftovers: orphaned content and stale unfinished maildrop
 *       files.
 * An argument of ALL means every message of the queues; "-" reads queue
 * ids from standard input (the first word of each line that is a queue
 * id, '*' and '!' dropped, so that mailq's output works).  Trailing arguments
 * name the queues (hold, active, deferred, maildrop; "incoming" is active).
 * Options may repeat.  Operations run in the order -s, -p, -d, -h, -H, -r; each
 * prints a summary as Postfix does ("pansuper: Deleted: 2 messages") and
 * logs one line per message.
 *
 * Only root (or mail_owner, the development instance) may run it; root
 * becomes mail_owner before touching the queue.  Exit status: 0; 64
 * (EX_USAGE) bad arguments; 77 (EX_NOPERM) not root; 1 on queue errors.
 */
#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "conf.h"
#include "maildrop.h"
#include "msg.h"
#include "priv.h"
#include "qmgr_request.h"
#include "queue.h"
#include "showq.h"
#include "strutil.h"
#include "xalloc.h"

#define USAGE                                                                  \
	"pansuper [-c config_dir] [-s] [-p] [-d queue_id|ALL|-] "              \
	"[-h queue_id|ALL|-] [-H queue_id|ALL|-] [-r queue_id|ALL|-] "         \
	"[queue ...]"
#define Q_HOLD 0x1
#define Q_ACTIVE 0x2
#define Q_DEFERRED 0x4
#define Q_MAILDROP 0x8
#define STALE_DROP_SECONDS (24 * 3600)
#define ORPHAN_AGE_SECONDS (3600) /* longer than any SMTP session */

enum op { OP_DELETE, OP_HOLD, OP_RELEASE, OP_REQUEUE, OP_COUNT };

static const unsigned default_queues[OP_COUNT] = {
    Q_HOLD | Q_ACTIVE | Q_DEFERRED, Q_ACTIVE | Q_DEFERRED, Q_HOLD,
    Q_HOLD | Q_ACTIVE | Q_DEFERRED};
static const char *const summary[OP_COUNT] = {"Deleted", "Placed on hold",
					      "Released from hold", "Requeued"};
static const char *const log_word[OP_COUNT] = {
    "removed", "placed on hold", "released from hold", "requeued"};

struct request {
	char **args[OP_COUNT]; /* queue ids, "ALL" or "-" */
	size_t nargs[OP_COUNT];
	unsigned queues; /* 0: each operation's default */
	int check, purge;
};

static struct queue *queue;
static int errors;
/* Global, so that an early exit leaves nothing unreachable behind. */
static struct request req;

static void
add_arg(struct request *r, enum op op, char *arg)
{
	r->args[op] =
	    xreallocarray(r->args[op], r->nargs[op] + 1, sizeof(char *));
	r->args[op][r->nargs[op]++] = arg;
}

static unsigned
queue_bit(const char *name)
{
	if (strcmp(name, "hold") == 0)
		return Q_HOLD;
	if (strcmp(name, "active") == 0 || strcmp(name, "incoming") == 0)
		return Q_ACTIVE;
	if (strcmp(name, "deferred") == 0)
		return Q_DEFERRED;
	if (strcmp(name, "maildrop") == 0)
		return Q_MAILDROP;
	return 0;
}

static unsigned
env_queue_bit(const struct queue_envelope *env)
{
	return queue_bit(showq_queue_name(env));
}

static void
maildrop_path(struct buf *out, const char *name)
{
	buf_printf(out, "%s/maildrop/%s", conf_str("queue_directory"), name);
}

/* Does op to one queued message; 1 when done. */
static int
apply(enum op op, const char *id)
{
	int r;

	switch (op) {
	case OP_DELETE:
		r = queue_remove(queue, id);
		break;
	case OP_HOLD:
		r = queue_hold(queue, id);
		break;
	case OP_RELEASE:
		r = queue_release(queue, id);
		break;
	default:
		if ((r = queue_release(queue, id)) == QUEUE_OK)
			r = queue_set_next_attempt(queue, id, clock_wall());
		break;
	}
	if (r == QUEUE_OK) {
		msg_info("%s: %s", id, log_word[op]);
		return 1;
	}
	if (r != QUEUE_NOTFOUND)
		errors++;
	return 0;
}

/* A maildrop file is only ever deleted (the others do not apply). */
static int
apply_maildrop(enum op op, const char *id)
{
	struct buf path = BUF_INIT;
	int done;

	if (op != OP_DELETE || !queue_id_valid(id))
		return 0;
	maildrop_path(&path, id);
	done = unlink(buf_cstr(&path)) == 0;
	if (done)
		msg_info("%s: removed from maildrop", id);
	buf_free(&path);
	return done;
}

struct collect {
	unsigned queues;
	char (*ids)[QUEUE_ID_SIZE];
	size_t n, cap;
};

static void
collect_id(struct collect *c, const char *id)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 64;
		c->ids = xreallocarray(c->ids, c->cap, sizeof(*c->ids));
	}
	snprintf(c->ids[c->n++], QUEUE_ID_SIZE, "%s", id);
}

static int
collect_env(const struct queue_envelope *env, void *ctx)
{
	struct collect *c = ctx;

	if (env_queue_bit(env) & c->queues)
		collect_id(c, env->id);
	return 0;
}

/* One named message, if it is in one of the queues. */
static int
apply_one(enum op op, const char *id, unsigned queues)
{
	struct queue_envelope env;
	int in_queue = 0;

	if (!queue_id_valid(id)) {
		fprintf(stderr,
			"pansuper: warning: invalid mail queue id: %s\n", id);
		return 0;
	}
	if (queue_envelope_get(queue, id, &env) == QUEUE_OK) {
		memcpy(env.id, id, QUEUE_ID_SIZE);
		in_queue = (env_queue_bit(&env) & queues) != 0;
		queue_envelope_free(&env);
		return in_queue ? apply(op, id) : 0;
	}
	return (queues & Q_MAILDROP) ? apply_maildrop(op, id) : 0;
}

static int
apply_all(enum op op, unsigned queues)
{
	struct collect c = {queues, NULL, 0, 0};
	int done = 0;
	DIR *d;
	struct dirent *de;
	struct buf dir = BUF_INIT;

	if (queue_list(queue, collect_env, &c) != QUEUE_OK)
		errors++;
	for (size_t i = 0; i < c.n; i++)
		done += apply(op, c.ids[i]);
	if ((queues & Q_MAILDROP) && op == OP_DELETE) {
		maildrop_path(&dir, "");
		if ((d = opendir(buf_cstr(&dir))) != NULL) {
			while ((de = readdir(d)) != NULL)
				done += apply_maildrop(op, de->d_name);
			closedir(d);
		}
	}
	buf_free(&dir);
	xfree(c.ids);
	return done;
}

static int
apply_stdin(enum op op, unsigned queues)
{
	char line[1024];
	int done = 0;

	while (fgets(line, sizeof(line), stdin)) {
		char *id = line + strspn(line, " \t");
		id[strcspn(id, " \t\r\n*!")] = '\0';
		/* Other words of mailq's output are not ids: skip them. */
		if (queue_id_valid(id))
			done += apply_one(op, id, queues);
	}
	return done;
}

static void
run_op(const struct request *r, enum op op)
{
	unsigned queues = r->queues ? r->queues : default_queues[op];
	int done = 0;

	if (r->nargs[op] == 0)
		return;
	for (size_t i = 0; i < r->nargs[op]; i++) {
		const char *arg = r->args[op][i];
		if (strcmp(arg, "ALL") == 0)
			done += apply_all(op, queues);
		else if (strcmp(arg, "-") == 0)
			done += apply_stdin(op, queues);
		else
			done += apply_one(op, arg, queues);
	}
	if (done > 0) {
		fprintf(stderr, "pansuper: %s: %d message%s\n", summary[op],
			done, done == 1 ? "" : "s");
		msg_info("%s: %d message%s", summary[op], done,
			 done == 1 ? "" : "s");
	}
}

/* -s with the mail system stopped: Berkeley DB's own check of each file;
 * the names of those that fail, for the salvage. */
static char *damaged[4]; /* NULL-terminated */
static size_t ndamaged;

static void
verify_failed(const char *path, const char *why, void *ctx)
{
	const char *base = strrchr(path, '/');

	(void)ctx;
	fprintf(stderr, "pansuper: %s: Berkeley DB verify failed: %s\n", path,
		why);
	msg_warn("%s: Berkeley DB verify failed: %s", path, why);
	if (ndamaged < sizeof(damaged) / sizeof(damaged[0]) - 1)
		damaged[ndamaged++] = xstrdup(base ? base + 1 : path);
}

/* Recovery, then the verify (of files the recovery has just written
 * out); when either fails, the salvage.  Leaves the queue open; 1 when it
 * is a salvaged one. */
static int
check_files(void)
{
	const char *qdir = conf_str("queue_directory");
	struct queue_salvage_stats st;
	struct buf kept = BUF_INIT, why = BUF_INIT;
	int recovered, salvaged = 0;

	recovered = queue_env_recover(qdir, NULL, &queue) == QUEUE_OK;
	if (recovered)
		recovered = queue_close(queue) == QUEUE_OK;
	else
		fprintf(stderr, "pansuper: recovery of %s/db failed\n", qdir);
	queue = NULL;
	(void)queue_verify_files(qdir, verify_failed, NULL);
	if (!recovered || ndamaged > 0) {
		if (queue_salvage(qdir, (const char *const *)damaged, &st,
				  &kept, &why) < 0) {
			fprintf(stderr, "pansuper: salvage failed: %s\n",
				buf_cstr(&why));
			msg_warn("queue salvage failed: %s", buf_cstr(&why));
			errors++;
		} else {
			salvaged = 1;
			msg_info(
			    "queue salvaged: %zu envelope records, %zu content "
			    "chunks, %zu unreadable records dropped; the "
			    "old files are in %s",
			    st.envelopes, st.chunks, st.dropped,
			    buf_cstr(&kept));
			fprintf(
			    stderr,
			    "pansuper: salvaged %zu envelope records and %zu "
			    "content chunks into a new queue (%zu "
			    "unreadable records dropped); the old files "
			    "are in %s\n",
			    st.envelopes, st.chunks, st.dropped,
			    buf_cstr(&kept));
		}
	}
	if (errors == 0 && queue_env_recover(qdir, NULL, &queue) != QUEUE_OK)
		errors++;
	for (size_t i = 0; i < ndamaged; i++)
		xfree(damaged[i]);
	buf_free(&kept);
	buf_free(&why);
	return salvaged;
}

static void
sched_one(const char *id, time_t when, void *ctx)
{
	(void)when;
	collect_id(ctx, id);
}

struct check {
	struct collect scheduled; /* ids with a schedule entry */
	struct collect unscheduled, finished;
	struct collect all; /* every message, after a salvage */
	int salvaged;
};

static int
scheduled(const struct check *k, const char *id)
{
	for (size_t i = 0; i < k->scheduled.n; i++)
		if (strcmp(k->scheduled.ids[i], id) == 0)
			return 1;
	return 0;
}

static int
check_env(const struct queue_envelope *env, void *ctx)
{
	struct check *k = ctx;
	int pending = 0;

	for (size_t i = 0; i < env->nrcpt; i++)
		pending |= queue_rcpt_pending(env->rcpts[i].state);
	if (k->salvaged && pending)
		collect_id(&k->all, env->id);
	if (!pending)
		collect_id(&k->finished, env->id);
	else if (!env->hold && !scheduled(k, env->id))
		collect_id(&k->unscheduled, env->id);
	return 0;
}

/* After a salvage: content that lost chunks (fewer bytes than the
 * envelope's size) is held, not delivered cut short. */
static void
check_content(const struct collect *ids)
{
	struct buf chunk = BUF_INIT;

	for (size_t i = 0; i < ids->n; i++) {
		struct queue_envelope env;
		struct queue_content *c;
		unsigned long long got = 0;
		int r;

		if (queue_envelope_get(queue, ids->ids[i], &env) != QUEUE_OK)
			continue;
		c = queue_content_open(queue, ids->ids[i]);
		while ((r = queue_content_read(c, &chunk)) == 1)
			got += chunk.len;
		queue_content_close(c);
		if (r == 0 && got != env.size &&
		    queue_hold(queue, ids->ids[i]) == QUEUE_OK) {
			msg_warn("%s: content damaged (%llu of %llu bytes "
				 "left): placed on hold",
				 ids->ids[i], got,
				 (unsigned long long)env.size);
			fprintf(stderr,
				"pansuper: %s: content damaged (%llu of %llu "
				"bytes left): placed on hold\n",
				ids->ids[i], got, (unsigned long long)env.size);
		}
		queue_envelope_free(&env);
	}
	buf_free(&chunk);
}

static void
check_queue(int stopped, int salvaged)
{
	struct check k;
	int r, orphans, dangling = 0;

	memset(&k, 0, sizeof(k));
	k.salvaged = salvaged;
	orphans = queue_purge_orphans(
	    queue, stopped ? clock_wall() : clock_wall() - ORPHAN_AGE_SECONDS);
	if (orphans > 0)
		fprintf(stderr,
			"pansuper: removed the content of %d "
			"unfinished message%s\n",
			orphans, orphans == 1 ? "" : "s");
	r = queue_schedule_due(queue, (time_t)INT64_C(0x7fffffffffff),
			       (size_t)-1, sched_one, &k.scheduled);
	if (r < 0 || queue_list(queue, check_env, &k) != QUEUE_OK) {
		fprintf(stderr, "pansuper: cannot read the queue\n");
		errors++;
	}
	for (size_t i = 0; i < k.scheduled.n; i++) {
		struct queue_envelope env;
		if (queue_envelope_get(queue, k.scheduled.ids[i], &env) ==
		    QUEUE_NOTFOUND)
			dangling++;
		else
			queue_envelope_free(&env);
	}
	if (dangling)
		fprintf(stderr,
			"pansuper: %d schedule entr%s without a message "
			"(qmgr skips them)\n",
			dangling, dangling == 1 ? "y" : "ies");
	for (size_t i = 0; i < k.unscheduled.n; i++) {
		if (queue_set_next_attempt(queue, k.unscheduled.ids[i],
					   clock_wall()) == QUEUE_OK) {
			msg_info("%s: put back into the schedule",
				 k.unscheduled.ids[i]);
			fprintf(stderr,
				"pansuper: %s: put back into the "
				"schedule\n",
				k.unscheduled.ids[i]);
		}
	}
	for (size_t i = 0; i < k.finished.n; i++) {
		if (queue_remove(queue, k.finished.ids[i]) == QUEUE_OK) {
			msg_info("%s: removed (nothing left to deliver)",
				 k.finished.ids[i]);
			fprintf(stderr,
				"pansuper: %s: removed (nothing left "
				"to deliver)\n",
				k.finished.ids[i]);
		}
	}
	check_content(&k.all);
	xfree(k.scheduled.ids);
	xfree(k.unscheduled.ids);
	xfree(k.finished.ids);
	xfree(k.all.ids);
}

/* -p: content of receptions that never finished, maildrop files whose
 * writer died. */
static void
purge(int stopped)
{
	struct buf dir = BUF_INIT, path = BUF_INIT;
	time_t now = clock_wall();
	struct dirent *de;
	struct stat st;
	DIR *d;
	int n = queue_purge_orphans(queue,
				    stopped ? now : now - ORPHAN_AGE_SECONDS);

	n = n < 0 ? 0 : n;
	maildrop_path(&dir, "");
	if ((d = opendir(buf_cstr(&dir))) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] != 't' ||
			    !queue_id_valid(de->d_name + 1))
				continue;
			buf_reset(&path);
			maildrop_path(&path, de->d_name);
			if (lstat(buf_cstr(&path), &st) == 0 &&
			    st.st_mtime < now - STALE_DROP_SECONDS &&
			    unlink(buf_cstr(&path)) == 0) {
				msg_info("maildrop/%s: removed stale file",
					 de->d_name);
				n++;
			}
		}
		closedir(d);
	}
	if (n > 0)
		fprintf(stderr, "pansuper: Purged: %d leftover%s\n", n,
			n == 1 ? "" : "s");
	buf_free(&dir);
	buf_free(&path);
}

static void
parse_args(int argc, char **argv, struct request *r, const char **config)
{
	int c;

	while ((c = getopt(argc, argv, "c:d:h:H:r:spv")) != -1) {
		switch (c) {
		case 'c':
			*config = optarg;
			break;
		case 'd':
			add_arg(r, OP_DELETE, optarg);
			break;
		case 'h':
			add_arg(r, OP_HOLD, optarg);
			break;
		case 'H':
			add_arg(r, OP_RELEASE, optarg);
			break;
		case 'r':
			add_arg(r, OP_REQUEUE, optarg);
			break;
		case 's':
			r->check = 1;
			break;
		case 'p':
			r->purge = 1;
			break;
		case 'v':
			msg_verbose++;
			break;
		default:
			cli_usage(USAGE);
		}
	}
	for (int i = optind; i < argc; i++) {
		unsigned bit = queue_bit(argv[i]);
		if (bit == 0) {
			fprintf(stderr, "pansuper: unknown queue: %s\n",
				argv[i]);
			cli_usage(USAGE);
		}
		r->queues |= bit;
	}
	int any = r->check || r->purge;
	for (int op = 0; op < OP_COUNT; op++)
		any |= r->nargs[op] > 0;
	if (!any)
		cli_usage(USAGE);
}

int
main(int argc, char **argv)
{
	struct request *r = &req;
	const char *config = NULL, *owner;
	struct passwd *pw;
	int stopped, salvaged = 0;

	cli_help(argc, argv, USAGE);
	parse_args(argc, argv, r, &config);
	cli_init(argv[0], config);
	owner = conf_str("mail_owner");
	pw = getpwnam(owner);
	if (!priv_is_root() && (pw == NULL || pw->pw_uid != getuid())) {
		fprintf(stderr, "pansuper: fatal: use of this command is "
				"reserved for the superuser\n");
		return EX_NOPERM;
	}
	if (msg_log_to(conf_str("maillog_file")) < 0)
		fprintf(stderr, "pansuper: warning: cannot open the log\n");
	if (priv_is_root())
		priv_drop(owner, NULL);
	stopped = !cli_master_running(NULL);
	if (r->check && stopped) {
		salvaged = check_files();
	} else if (r->check) {
		fprintf(stderr, "pansuper: the mail system is running: the "
				"Berkeley DB file check needs it stopped\n");
	}
	if (errors)
		return 1;
	if (queue == NULL)
		queue = cli_open_queue();
	if (r->check)
		check_queue(stopped, salvaged);
	if (r->purge)
		purge(stopped);
	for (int op = 0; op < OP_COUNT; op++)
		run_op(r, (enum op)op);
	queue_close(queue);
	/* Released and requeued mail should not wait for qmgr's timer. */
	if (r->nargs[OP_RELEASE] || r->nargs[OP_REQUEUE] || r->check)
		qmgr_wakeup(conf_str("queue_directory"));
	for (int op = 0; op < OP_COUNT; op++)
		xfree(r->args[op]);
	return errors ? 1 : 0;
}
