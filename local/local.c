/*
 * local - the local delivery agent (DESIGN.md, deliver_proto.h).
 *
 * Runs under master as "local unix - n n - - local": a DAEMON_SINGLE
 * service that keeps root (DAEMON_FLAG_KEEP_ROOT).  Each connection from
 * qmgr (root or mail_owner, checked with SO_PEERCRED) carries one
 * delivery request and, after it, the message content as a sealed memory
 * file; local never opens the queue (DESIGN.md, rule 2).  It delivers to
 * each recipient in turn (local_rcpt.c), logs one line per recipient in
 * Postfix's shape, and answers with one status group per recipient, with
 * the copies qmgr must queue for it.  A request it cannot work on at all
 * (malformed, content missing or not as announced) gets status=fail,
 * which qmgr turns into a deferral of every recipient.  When the alias database
 * is rebuilt, the process finishes its request and exits, so that master starts
 * a fresh one.
 */
#include <errno.h>
#include <grp.h>
#include <math.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "conf.h"
#include "daemon.h"
#include "deliver_request.h"
#include "delivery_log.h"
#include "local.h"
#include "mailbox.h"
#include "msg.h"
#include "priv.h"
#include "sock.h"
#include "strutil.h"
#include "xalloc.h"

#define LOCAL_REQUEST_TIMEOUT_MS (60 * 1000)
#define LOCAL_REPLY_TIMEOUT_MS (60 * 1000)

struct local_config local_cfg;

void
local_become_root(void)
{
	if (!local_cfg.as_root)
		return;
	if (seteuid(0) < 0 || setegid(0) < 0)
		msg_fatal("cannot switch back to root: %s", strerror(errno));
}

/* Logging. */

static double
now_sec(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

void
local_log(const struct local_msg *msg, const char *to, const char *orig_to,
	  const struct local_status *st)
{
	struct delivery_event ev = {
	    .queue_id = msg->queue_id,
	    .to = to,
	    .orig_to = orig_to,
	    .relay = local_cfg.relay,
	    .dsn = st->dsn,
	    .status = delivery_log_status(st->cls),
	    .text = buf_cstr(&st->text),
	    .arrival = msg->arrival,
	    .active = msg->active,
	    .handoff = msg->started,
	};

	delivery_log(&ev);
}

/* The request. */

struct local_request {
	struct local_msg msg;
	struct local_rcpt *rcpts;
	size_t nrcpt;
};

static void
request_free(struct local_request *req)
{
	for (size_t i = 0; i < req->nrcpt; i++) {
		xfree(req->rcpts[i].address);
		xfree(req->rcpts[i].orcpt);
	}
	xfree(req->rcpts);
	xfree(req->msg.queue_id);
	xfree(req->msg.sender);
	xfree(req->msg.client_addr);
	buf_free(&req->msg.content);
	if (req->msg.content_fd >= 0)
		close(req->msg.content_fd);
}

/* The decoded request (deliver_request.h) as local works on it; ORCPT's
 * address comes decoded, for orig_to=. */
static void
take_request(const struct deliver_request *d, struct local_request *req)
{
	req->msg.queue_id = xstrdup(d->queue_id);
	req->msg.sender = xstrdup(d->sender);
	req->msg.client_addr = xstrdup(d->client_addr ? d->client_addr : "");
	req->msg.arrival = (double)d->arrival + (double)d->arrival_usec / 1e6;
	req->msg.active = (double)d->active_ms / 1e3;
	req->msg.size = d->size;
	req->msg.flags = (unsigned)d->flags;
	req->rcpts = xcalloc(d->nrcpt, sizeof(*req->rcpts));
	req->nrcpt = d->nrcpt;
	for (size_t i = 0; i < d->nrcpt; i++) {
		req->rcpts[i].index = (long)d->rcpts[i].index;
		req->rcpts[i].address = xstrdup(d->rcpts[i].address);
		req->rcpts[i].orcpt = xstrdup(d->rcpts[i].orcpt_addr);
		req->rcpts[i].notify = (unsigned)d->rcpts[i].notify;
	}
}

/* The seals qmgr puts on the content: nothing can change it while we
 * read it, and only a memory file has seals at all. */
#define LOCAL_CONTENT_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* Receives the content qmgr passes after the request and reads it whole;
 * it must be a sealed memory file of exactly the announced size. */
static int
content_read(int sock, const struct deliver_request *d, struct local_msg *msg,
	     const char **why)
{
	struct stat sb;
	int fd, seals;
	ssize_t n;

	if (d->content == NULL) {
		*why = "the request carries no message content (local reads "
		       "no queue: its service must run as root, unpriv n, for "
		       "qmgr to pass the content)";
		return -1;
	}
	fd = sock_recv_fd(sock, LOCAL_REQUEST_TIMEOUT_MS);
	if (fd < 0) {
		*why = "cannot receive the message content";
		return -1;
	}
	seals = fcntl(fd, F_GET_SEALS);
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || seals < 0 ||
	    (seals & LOCAL_CONTENT_SEALS) != LOCAL_CONTENT_SEALS ||
	    (long long)sb.st_size != msg->size) {
		close(fd);
		*why = "the message content is not a sealed memory file of "
		       "the announced size";
		return -1;
	}
	buf_reserve(&msg->content, (size_t)sb.st_size);
	while (msg->content.len < (size_t)sb.st_size) {
		n = pread(fd, msg->content.data + msg->content.len,
			  (size_t)sb.st_size - msg->content.len,
			  (off_t)msg->content.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		msg->content.len += (size_t)n;
	}
	/* Kept for the mailbox workers (request_free closes it). */
	msg->content_fd = fd;
	if ((long long)msg->content.len != msg->size) {
		*why = "cannot read the message content";
		return -1;
	}
	msg->content.data[msg->content.len] = '\0';
	return 0;
}

/* Only qmgr (mail_owner) and root may ask root to deliver. */
static int
peer_allowed(int fd)
{
	pid_t pid;
	uid_t uid;
	gid_t gid;

	if (!local_cfg.as_root)
		return 1;
	if (sock_peer_cred(fd, &pid, &uid, &gid) < 0) {
		msg_warn("cannot get the credentials of a client: %s",
			 strerror(errno));
		return 0;
	}
	if (uid == 0 || uid == local_cfg.owner_uid)
		return 1;
	msg_warn("refusing a delivery request from uid %ld (pid %ld): only "
		 "mail_owner and root may send one",
		 (long)uid, (long)pid);
	return 0;
}

/* One recipient's forward groups, for qmgr to queue. */
static void
reply_forwards(struct deliver_status *st, const struct local_forwards *fw)
{
	for (size_t i = 0; i < fw->n; i++) {
		struct deliver_forward *g =
		    deliver_status_forward(st, fw->groups[i].sender);

		for (size_t j = 0; j < fw->groups[i].n; j++)
			deliver_forward_add(g, fw->groups[i].addrs[j]);
	}
}

static void
reply_send(int fd, struct deliver_reply *reply, const char *fail,
	   const char *id)
{
	deliver_reply_finish(reply, fail);
	if (deliver_reply_send(fd, reply, LOCAL_REPLY_TIMEOUT_MS) < 0)
		msg_warn("%s: cannot send the reply to qmgr: %s",
			 id ? id : "request", strerror(errno));
}

/* local's recipients, or virtual's (main). */
static void (*deliver_rcpt)(struct local_msg *, const struct local_rcpt *,
			    struct local_status *,
			    struct local_forwards *) = local_deliver_rcpt;

static void
local_serve(int fd)
{
	struct deliver_request d;
	struct deliver_reply reply;
	struct local_request req;
	struct local_status st;
	struct local_forwards fw = {NULL, 0};
	struct buf why = BUF_INIT;
	const char *fail;
	int rc;

	memset(&d, 0, sizeof(d));
	memset(&reply, 0, sizeof(reply));
	memset(&req, 0, sizeof(req));
	req.msg.content_fd = -1;
	local_cfg.client_fd = fd;
	if (!peer_allowed(fd))
		goto done;
	if ((rc = deliver_request_recv(fd, &d, LOCAL_REQUEST_TIMEOUT_MS,
				       &why)) < 0) {
		msg_warn("%s: %s", d.queue_id ? d.queue_id : "request",
			 buf_cstr(&why));
		if (rc == -2)
			reply_send(fd, &reply, buf_cstr(&why), d.queue_id);
		goto done;
	}
	take_request(&d, &req);
	if (content_read(fd, &d, &req.msg, &fail) < 0) {
		msg_warn("%s: %s", req.msg.queue_id, fail);
		reply_send(fd, &reply, fail, req.msg.queue_id);
		goto done;
	}
	local_status_init(&st);
	for (size_t i = 0; i < req.nrcpt; i++) {
		struct deliver_status *ds;

		req.msg.started = now_sec();
		deliver_rcpt(&req.msg, &req.rcpts[i], &st, &fw);
		ds = deliver_reply_add(&reply, req.rcpts[i].index, st.cls,
				       st.dsn, buf_cstr(&st.text),
				       local_cfg.relay, "");
		if (st.cls == 2)
			reply_forwards(ds, &fw);
		local_forwards_free(&fw);
	}
	local_status_free(&st);
	reply_send(fd, &reply, NULL, req.msg.queue_id);
done:
	if (local_cfg.aliases && maps_changed(local_cfg.aliases)) {
		msg_info("alias database changed: restarting");
		daemon_request_exit();
	}
	if (deliver_rcpt == virtual_deliver_rcpt && virtual_tables_changed()) {
		msg_info("a virtual table changed: restarting");
		daemon_request_exit();
	}
	deliver_request_free(&d);
	deliver_reply_free(&reply);
	request_free(&req);
	buf_free(&why);
	local_cfg.client_fd = -1;
}

/* Configuration. */

static void
lookup_ids(const char *user, uid_t *uid, gid_t *gid, const char *param)
{
	struct buf err = BUF_INIT;

	if (priv_lookup_user(user, uid, gid, &err) < 0)
		msg_fatal("%s: %s", param, buf_cstr(&err));
	buf_free(&err);
}

/* Parameters as read; local_cfg holds what is derived from them. */
static struct {
	const char *command_shell, *myhostname, *myorigin, *mydestination;
	const char *spool_dir, *home_mailbox, *delimiter, *mail_owner;
	const char *sasldb_path, *default_privs, *alias_maps;
	const char *mail_to_commands, *mail_to_files;
	const char *mailbox_transport, *queue_directory;
	const char *mailbox_command_maps, *fallback_transport;
	long long lock_attempts, lock_delay, stale_lock_time;
	long long command_time_limit, ipc_timeout;
} raw;

/* Every parameter local reads (conf.h, conf_bind). */
static const struct conf_bind local_params[] = {
    CONF_BIND_STR("local_command_shell", &raw.command_shell),
    CONF_BIND_STR("myhostname", &raw.myhostname),
    CONF_BIND_STR("myorigin", &raw.myorigin),
    CONF_BIND_STR("mydestination", &raw.mydestination),
    CONF_BIND_STR("mail_spool_directory", &raw.spool_dir),
    CONF_BIND_STR("home_mailbox", &raw.home_mailbox),
    CONF_BIND_STR("recipient_delimiter", &raw.delimiter),
    CONF_BIND_STR("mail_owner", &raw.mail_owner),
    CONF_BIND_STR("sasldb_path", &raw.sasldb_path),
    CONF_BIND_SIZE("mailbox_size_limit", &local_cfg.mailbox_size_limit),
    CONF_BIND_INT("deliver_lock_attempts", &raw.lock_attempts),
    CONF_BIND_TIME("deliver_lock_delay", &raw.lock_delay),
    CONF_BIND_TIME("stale_lock_time", &raw.stale_lock_time),
    CONF_BIND_TIME("command_time_limit", &raw.command_time_limit),
    CONF_BIND_STR("allow_mail_to_commands", &raw.mail_to_commands),
    CONF_BIND_STR("allow_mail_to_files", &raw.mail_to_files),
    CONF_BIND_STR("default_privs", &raw.default_privs),
    CONF_BIND_STR("alias_maps", &raw.alias_maps),
    CONF_BIND_STR("mailbox_transport", &raw.mailbox_transport),
    CONF_BIND_STR("mailbox_command_maps", &raw.mailbox_command_maps),
    CONF_BIND_STR("fallback_transport", &raw.fallback_transport),
    CONF_BIND_STR("queue_directory", &raw.queue_directory),
    CONF_BIND_TIME("ipc_timeout", &raw.ipc_timeout),
    CONF_BIND_END,
};

static void
policy(const char *list, int *alias, int *include, int *forward)
{
	*alias = str_list_match(list, "alias");
	*include = str_list_match(list, "include");
	*forward = str_list_match(list, "forward");
}

static char *
strip_slash(const char *s, int *had)
{
	size_t n = strlen(s);

	*had = n > 1 && s[n - 1] == '/';
	while (n > 1 && s[n - 1] == '/')
		n--;
	return xstrndup(s, n);
}

static void
local_pre_jail(void)
{
	const char *shell = raw.command_shell;
	struct buf err = BUF_INIT;
	uid_t vmail_uid;
	gid_t vmail_gid;

	local_cfg.as_root = priv_is_root();
	local_cfg.client_fd = -1;
	local_cfg.relay = "local";
	local_cfg.mbox_dotlock = 1;
	local_cfg.myhostname = xstrdup(raw.myhostname);
	local_cfg.myorigin = xstrdup(raw.myorigin);
	local_cfg.mydestination =
	    match_list_open("mydestination", raw.mydestination, &err);
	if (local_cfg.mydestination == NULL)
		msg_fatal("%s", buf_cstr(&err));
	local_cfg.spool_dir =
	    strip_slash(raw.spool_dir, &local_cfg.spool_maildir);
	local_cfg.home_mailbox = xstrdup(raw.home_mailbox);
	{
		size_t n = strlen(local_cfg.home_mailbox);
		local_cfg.home_maildir =
		    n > 0 && local_cfg.home_mailbox[n - 1] == '/';
	}
	local_cfg.delimiter = xstrdup(raw.delimiter);
	local_cfg.mail_owner = xstrdup(raw.mail_owner);
	local_cfg.sasldb_path = xstrdup(raw.sasldb_path);
	local_cfg.lock_attempts = (int)raw.lock_attempts;
	local_cfg.lock_delay = (int)raw.lock_delay;
	local_cfg.stale_lock_time = (int)raw.stale_lock_time;
	local_cfg.command_time_limit = (int)raw.command_time_limit;
	local_cfg.mailbox_transport = xstrdup(raw.mailbox_transport);
	local_cfg.queue_directory = xstrdup(raw.queue_directory);
	/* As Postfix, these are not $-expanded by the configuration:
	 * $EXTENSION is the shell's, $user and $home local's own macros. */
	local_cfg.mailbox_command = xstrdup(
	    conf_raw("mailbox_command") ? conf_raw("mailbox_command") : "");
	local_cfg.luser_relay =
	    xstrdup(conf_raw("luser_relay") ? conf_raw("luser_relay") : "");
	local_cfg.forward_path =
	    xstrdup(conf_raw("forward_path") ? conf_raw("forward_path") : "");
	local_cfg.fallback_transport = xstrdup(raw.fallback_transport);
	if (*raw.mailbox_command_maps) {
		local_cfg.mailbox_command_maps =
		    maps_open(raw.mailbox_command_maps, &err);
		if (local_cfg.mailbox_command_maps == NULL)
			msg_fatal("mailbox_command_maps: %s", buf_cstr(&err));
	}
	local_cfg.ipc_timeout_ms = raw.ipc_timeout > 24 * 3600
				       ? 24 * 3600 * 1000
				       : (int)raw.ipc_timeout * 1000;
	local_cfg.command_shell = *shell ? str_split(shell, " \t", NULL) : NULL;
	policy(raw.mail_to_commands, &local_cfg.commands_alias,
	       &local_cfg.commands_include, &local_cfg.commands_forward);
	policy(raw.mail_to_files, &local_cfg.files_alias,
	       &local_cfg.files_include, &local_cfg.files_forward);
	if (local_cfg.as_root) {
		lookup_ids(local_cfg.mail_owner, &local_cfg.owner_uid,
			   &local_cfg.owner_gid, "mail_owner");
		if (local_cfg.owner_uid == 0)
			msg_fatal("mail_owner %s must not be root",
				  local_cfg.mail_owner);
		lookup_ids(raw.default_privs, &local_cfg.privs_uid,
			   &local_cfg.privs_gid, "default_privs");
		if (local_cfg.privs_uid == 0)
			msg_fatal("default_privs must not be root");
		if (mailbox_mail_only_ids(&vmail_uid, &vmail_gid, &err) < 0)
			msg_fatal("%s", buf_cstr(&err));
	} else {
		local_cfg.owner_uid = local_cfg.privs_uid = geteuid();
		local_cfg.owner_gid = local_cfg.privs_gid = getegid();
		msg_info("running as an unprivileged user: every mailbox, "
			 "file and command is delivered as uid %ld",
			 (long)geteuid());
	}
	buf_free(&err);
	local_alias_open(raw.alias_maps);
}

static void
local_post_jail(void)
{
	/* A child killed by its time limit must not kill us with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
}

static void
local_pre_exit(void)
{
	local_workers_close();
	maps_close(local_cfg.aliases);
	local_cfg.aliases = NULL;
	virtual_pre_exit();
	if (local_cfg.mailbox_command_maps)
		maps_close(local_cfg.mailbox_command_maps);
	local_cfg.mailbox_command_maps = NULL;
}

int
main(int argc, char **argv)
{
	struct daemon_ops ops = {
	    .mode = DAEMON_SINGLE,
	    .flags = DAEMON_FLAG_KEEP_ROOT,
	    .params = local_params,
	    .pre_jail = local_pre_jail,
	    .post_jail = local_post_jail,
	    .serve = local_serve,
	    .pre_exit = local_pre_exit,
	};

	/* virtual when the program runs under that name, as lmtp is
	 * smtp's. */
	if (daemon_invoked_as(argc, argv, "virtual")) {
		ops.params = virtual_params;
		ops.pre_jail = virtual_pre_jail;
		deliver_rcpt = virtual_deliver_rcpt;
	}
	daemon_main(argc, argv, &ops);
}
