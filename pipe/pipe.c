/*
 * pipe - Postfix's pipe(8) delivery agent; see pipe.h and man/pipe.8.
 *
 * One DAEMON_SINGLE process serves one request at a time: the request
 * (deliver_request.h) and, after it, the content as a sealed memory
 * file.  The command gets every recipient of the request at once (an
 * argument with a recipient macro repeats per recipient), so its status
 * is each recipient's; with flags D or O, whose headers name one
 * recipient, it runs once per recipient instead (Postfix asks for
 * TRANSPORT_destination_recipient_limit = 1 then; Panacea does the same
 * without it).  With D, a recipient whose Delivered-To: the message
 * already has is bounced (5.4.6, the loop check).  A message over size=
 * is bounced (5.2.3).  The command runs as user= through
 * lib/mail/pipe_command.h for at most TRANSPORT_time_limit seconds
 * (command_time_limit when not set), in directory= (default
 * queue_directory).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "conf.h"
#include "daemon.h"
#include "deliver_request.h"
#include "delivery_log.h"
#include "iostuff.h"
#include "mbox.h"
#include "msg.h"
#include "pipe.h"
#include "pipe_command.h"
#include "priv.h"
#include "sock.h"
#include "xalloc.h"

#define PIPE_REQUEST_TIMEOUT_MS (60 * 1000)
#define PIPE_REPLY_TIMEOUT_MS (60 * 1000)
#define PIPE_CONTENT_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static struct pipe_attrs attrs;
static uid_t cmd_uid, owner_uid;
static gid_t cmd_gid;
static int as_root;
static int time_limit;

static struct {
	const char *mail_owner, *queue_directory, *delimiter;
	long long command_time_limit;
} raw;

static const struct conf_bind pipe_params[] = {
    CONF_BIND_STR("mail_owner", &raw.mail_owner),
    CONF_BIND_STR("queue_directory", &raw.queue_directory),
    CONF_BIND_STR("recipient_delimiter", &raw.delimiter),
    CONF_BIND_TIME("command_time_limit", &raw.command_time_limit),
    CONF_BIND_END,
};

static double
now_sec(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

/* Only qmgr (mail_owner) and root may have root start a command. */
static int
peer_allowed(int fd)
{
	pid_t pid;
	uid_t uid;
	gid_t gid;

	if (!as_root)
		return 1;
	if (sock_peer_cred(fd, &pid, &uid, &gid) < 0) {
		msg_warn("cannot get the credentials of a client: %s",
			 strerror(errno));
		return 0;
	}
	if (uid == 0 || uid == owner_uid)
		return 1;
	msg_warn("refusing a delivery request from uid %ld (pid %ld): only "
		 "mail_owner and root may send one",
		 (long)uid, (long)pid);
	return 0;
}

/* The content qmgr passes: a sealed memory file of the announced size. */
static int
content_read(int sock, const struct deliver_request *d, struct buf *out,
	     const char **why)
{
	struct stat sb;
	int fd, seals;
	ssize_t n;

	if (d->content == NULL) {
		*why = "the request carries no message content (pipe reads no "
		       "queue: its service must run as root, unpriv n, for "
		       "qmgr to pass the content)";
		return -1;
	}
	if ((fd = sock_recv_fd(sock, PIPE_REQUEST_TIMEOUT_MS)) < 0) {
		*why = "cannot receive the message content";
		return -1;
	}
	seals = fcntl(fd, F_GET_SEALS);
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || seals < 0 ||
	    (seals & PIPE_CONTENT_SEALS) != PIPE_CONTENT_SEALS ||
	    (long long)sb.st_size != d->size) {
		close(fd);
		*why = "the message content is not a sealed memory file of "
		       "the announced size";
		return -1;
	}
	buf_reserve(out, (size_t)sb.st_size);
	while (out->len < (size_t)sb.st_size) {
		n = pread(fd, out->data + out->len,
			  (size_t)sb.st_size - out->len, (off_t)out->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		out->len += (size_t)n;
	}
	close(fd);
	if ((long long)out->len != d->size) {
		*why = "cannot read the message content";
		return -1;
	}
	out->data[out->len] = '\0';
	return 0;
}

struct outcome {
	int cls;
	char dsn[16];
	struct buf text;
};

/* One command for rcpts (n of them); the outcome in o. */
static void
run_command(const struct deliver_request *d, const struct buf *content,
	    const struct pipe_rcpt *rcpts, size_t n, struct outcome *o)
{
	static char *const env[] = {"PATH=/usr/bin:/bin", NULL};
	const struct pipe_macros m = {
	    .sender = d->sender,
	    .nexthop = d->nexthop,
	    .queue_id = d->queue_id,
	    .client_address = d->client_addr,
	    .size = d->size,
	    .delimiter = raw.delimiter,
	    .rcpts = rcpts,
	    .nrcpt = n,
	};
	struct buf data = BUF_INIT, why = BUF_INIT;
	struct pipe_command pc;
	char **argv = NULL;
	int in = -1;

	buf_reset(&o->text);
	if (pipe_argv_expand(&attrs, &m, &argv, &why) < 0) {
		o->cls = 4;
		snprintf(o->dsn, sizeof(o->dsn), "4.3.5");
		buf_puts(&o->text, buf_cstr(&why));
		goto out;
	}
	pipe_message(&attrs, d->sender,
		     (attrs.flags & (PIPE_FLAG_D | PIPE_FLAG_O)) ? &rcpts[0]
								 : NULL,
		     content->data, content->len, &data);
	in = memfd_create("panacea-pipe", MFD_CLOEXEC);
	if (in < 0 || io_write_full(in, data.data, data.len, -1) < 0 ||
	    lseek(in, 0, SEEK_SET) < 0) {
		o->cls = 4;
		snprintf(o->dsn, sizeof(o->dsn), "4.3.0");
		buf_printf(&o->text, "cannot set up command input: %s",
			   strerror(errno));
		goto out;
	}
	memset(&pc, 0, sizeof(pc));
	pc.argv = argv;
	pc.env = env;
	pc.in_fd = in;
	pc.cwd = attrs.directory ? attrs.directory : raw.queue_directory;
	pc.uid = as_root ? cmd_uid : (uid_t)-1;
	pc.gid = cmd_gid;
	pc.time_limit = time_limit;
	pc.what = argv[0];
	o->cls = pipe_command_run(&pc, o->dsn, &o->text);
	if (o->cls == 2) {
		struct buf out = BUF_INIT;

		buf_printf(&out, "delivered via %s service",
			   daemon_service_name());
		if (o->text.len)
			buf_printf(&out, " (%s)", buf_cstr(&o->text));
		buf_set(&o->text, buf_cstr(&out));
		buf_free(&out);
	}
out:
	if (in >= 0)
		close(in);
	pipe_argv_free(argv);
	buf_free(&data);
	buf_free(&why);
}

static void
log_rcpt(const struct deliver_request *d, const struct deliver_rcpt *r,
	 const struct outcome *o, double started)
{
	struct delivery_event ev = {
	    .queue_id = d->queue_id,
	    .to = r->address,
	    .orig_to = r->orcpt_addr,
	    .relay = daemon_service_name(),
	    .dsn = o->dsn,
	    .status = delivery_log_status(o->cls),
	    .text = buf_cstr(&o->text),
	    .arrival = (double)d->arrival + (double)d->arrival_usec / 1e6,
	    .active = (double)d->active_ms / 1e3,
	    .handoff = started,
	};

	delivery_log(&ev);
}

static void
answer(struct deliver_reply *reply, const struct deliver_request *d, size_t i,
       const struct outcome *o, double started)
{
	log_rcpt(d, &d->rcpts[i], o, started);
	deliver_reply_add(reply, d->rcpts[i].index, o->cls, o->dsn,
			  buf_cstr(&o->text), daemon_service_name(), "");
}

static void
deliver(const struct deliver_request *d, const struct buf *content,
	struct deliver_reply *reply)
{
	struct pipe_rcpt *rcpts = xcalloc(d->nrcpt, sizeof(*rcpts));
	size_t *which = xcalloc(d->nrcpt, sizeof(*which));
	double started = now_sec();
	struct outcome o;
	size_t n = 0;

	o.text = (struct buf)BUF_INIT;
	for (size_t i = 0; i < d->nrcpt; i++) {
		const struct deliver_rcpt *r = &d->rcpts[i];

		if (attrs.size_limit > 0 && d->size > attrs.size_limit) {
			o.cls = 5;
			snprintf(o.dsn, sizeof(o.dsn), "5.2.3");
			buf_set(&o.text, "");
			buf_printf(&o.text,
				   "message too large for the %s "
				   "service (size limit %lld)",
				   daemon_service_name(), attrs.size_limit);
			answer(reply, d, i, &o, started);
		} else if ((attrs.flags & PIPE_FLAG_D) &&
			   mbox_delivered_to(content->data, content->len,
					     r->address)) {
			o.cls = 5;
			snprintf(o.dsn, sizeof(o.dsn), "5.4.6");
			buf_set(&o.text, "");
			buf_printf(&o.text, "mail forwarding loop for %s",
				   r->address);
			answer(reply, d, i, &o, started);
		} else {
			rcpts[n].address = r->address;
			rcpts[n].orig = r->orcpt_addr ? r->orcpt_addr : "";
			which[n++] = i;
		}
	}
	if (attrs.flags & (PIPE_FLAG_D | PIPE_FLAG_O)) {
		/* Headers that name one recipient: one command each. */
		for (size_t j = 0; j < n; j++) {
			run_command(d, content, &rcpts[j], 1, &o);
			answer(reply, d, which[j], &o, started);
		}
	} else if (n > 0) {
		run_command(d, content, rcpts, n, &o);
		for (size_t j = 0; j < n; j++)
			answer(reply, d, which[j], &o, started);
	}
	buf_free(&o.text);
	xfree(rcpts);
	xfree(which);
}

static void
reply_send(int fd, struct deliver_reply *reply, const char *fail,
	   const char *id)
{
	deliver_reply_finish(reply, fail);
	if (deliver_reply_send(fd, reply, PIPE_REPLY_TIMEOUT_MS) < 0)
		msg_warn("%s: cannot send the reply to qmgr: %s",
			 id ? id : "request", strerror(errno));
}

static void
pipe_serve(int fd)
{
	struct deliver_request d;
	struct deliver_reply reply;
	struct buf why = BUF_INIT, content = BUF_INIT;
	const char *fail;
	int rc;

	memset(&d, 0, sizeof(d));
	memset(&reply, 0, sizeof(reply));
	if (!peer_allowed(fd))
		goto done;
	if ((rc = deliver_request_recv(fd, &d, PIPE_REQUEST_TIMEOUT_MS, &why)) <
	    0) {
		msg_warn("%s: %s", d.queue_id ? d.queue_id : "request",
			 buf_cstr(&why));
		if (rc == -2)
			reply_send(fd, &reply, buf_cstr(&why), d.queue_id);
		goto done;
	}
	if (content_read(fd, &d, &content, &fail) < 0) {
		msg_warn("%s: %s", d.queue_id, fail);
		reply_send(fd, &reply, fail, d.queue_id);
		goto done;
	}
	deliver(&d, &content, &reply);
	reply_send(fd, &reply, NULL, d.queue_id);
done:
	deliver_request_free(&d);
	deliver_reply_free(&reply);
	buf_free(&why);
	buf_free(&content);
}

/* TRANSPORT_time_limit, else command_time_limit (Postfix's default). */
static int
service_time_limit(void)
{
	char name[128];
	const char *v;
	long long t;

	/* Not "%s_%s": that would count every TRANSPORT_time_limit of the
	 * table (policy_time_limit, a no-op) as read (check_params.py). */
	snprintf(name, sizeof(name), "%s_time_limit", daemon_service_name());
	v = conf_is_set(name) ? conf_lookup(name) : NULL;
	if (v == NULL)
		t = raw.command_time_limit;
	else if (conf_parse_time(v, 's', &t) < 0 || t < 1)
		msg_fatal("%s: bad time value \"%s\"", name, v);
	return t > 24 * 3600 ? 24 * 3600 : (int)t;
}

/* user=NAME[:GROUP]: never root, never group 0, never mail_owner. */
static void
command_ids(void)
{
	struct buf err = BUF_INIT;
	struct group *gr;
	gid_t owner_gid;

	if (priv_lookup_user(attrs.user, &cmd_uid, &cmd_gid, &err) < 0)
		msg_fatal("user=%s: %s", attrs.user, buf_cstr(&err));
	if (attrs.group) {
		if ((gr = getgrnam(attrs.group)) == NULL)
			msg_fatal("user=%s:%s: unknown group", attrs.user,
				  attrs.group);
		cmd_gid = gr->gr_gid;
	}
	if (priv_lookup_user(raw.mail_owner, &owner_uid, &owner_gid, &err) < 0)
		msg_fatal("mail_owner: %s", buf_cstr(&err));
	if (cmd_uid == 0)
		msg_fatal("user=%s: the command must not run as root",
			  attrs.user);
	if (cmd_gid == 0)
		msg_fatal("user=%s: the command must not run with group 0",
			  attrs.user);
	if (cmd_uid == owner_uid)
		msg_fatal("user=%s: the command must not run as mail_owner "
			  "%s",
			  attrs.user, raw.mail_owner);
	buf_free(&err);
}

static void
pipe_pre_jail(void)
{
	struct buf err = BUF_INIT;

	if (pipe_attrs_parse(daemon_argv() + 1, (size_t)daemon_argc() - 1,
			     &attrs, &err) < 0)
		msg_fatal("service %s: %s", daemon_service_name(),
			  buf_cstr(&err));
	buf_free(&err);
	as_root = priv_is_root();
	time_limit = service_time_limit();
	if (as_root)
		command_ids();
	else
		msg_info("running as an unprivileged user: commands run as "
			 "uid %ld, not user=%s",
			 (long)geteuid(), attrs.user);
}

static void
pipe_post_jail(void)
{
	/* A command that stops reading must not kill us. */
	signal(SIGPIPE, SIG_IGN);
}

int
main(int argc, char **argv)
{
	static const struct daemon_ops ops = {
	    .mode = DAEMON_SINGLE,
	    .flags = DAEMON_FLAG_KEEP_ROOT,
	    .params = pipe_params,
	    .pre_jail = pipe_pre_jail,
	    .post_jail = pipe_post_jail,
	    .serve = pipe_serve,
	};

	daemon_main(argc, argv, &ops);
}
