/*
 * virtual - the virtual delivery agent (Postfix's virtual(8)): this
 * program (bin/virtual is a link to bin/local) under the name "virtual".
 *
 * Why one program: a virtual mailbox is delivered exactly as a local
 * one once its path and owner are known (safe_open, dotlock and fcntl
 * locks, fsync before the success, truncation back on a failed write,
 * Maildir's tmp/ -> new/), by the same long-lived worker per (uid, gid)
 * that switched to that identity for good (local_worker.c); only the
 * lookup differs.  What virtual does not do, as Postfix's: aliases,
 * .forward, files and commands, mailbox_transport.
 *
 * A recipient: the loop check (a Delivered-To: with the address is
 * 5.4.6), then lib/mailbox.h's virtual lookup (virtual_mailbox_maps,
 * virtual_uid_maps, virtual_gid_maps, each with user+ext@domain,
 * user@domain, @domain): not found is 5.1.1 "unknown user", a table
 * that cannot answer 4.3.0, an entry that must not be used (no uid, a
 * uid below virtual_minimum_uid, root's or mail_owner's, a path out of
 * virtual_mailbox_base) 4.3.5 "mail system configuration error" with a
 * warning, as Postfix.  The mailbox is never in the spool: the worker,
 * running as the mapped ids, takes PATH.lock itself when
 * virtual_mailbox_lock says dotlock, so the mailbox's folder must be
 * writable by them (as in Postfix).  virtual_mailbox_limit is the
 * mailbox size limit here.  When a table file changes the process
 * finishes its request and exits, as local does for aliases.
 */
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "local.h"
#include "mailbox.h"
#include "mbox.h"
#include "msg.h"
#include "priv.h"
#include "strutil.h"
#include "xalloc.h"

static struct mailbox_virtual *virt;

static struct {
	const char *mail_owner, *lock, *delimiter, *queue_directory;
	long long lock_attempts, lock_delay, stale_lock_time, ipc_timeout;
} raw;

/* What virtual reads itself; lib/mailbox_virtual.c reads
 * virtual_mailbox_base, virtual_mailbox_maps, virtual_uid_maps,
 * virtual_gid_maps and virtual_minimum_uid. */
const struct conf_bind virtual_params[] = {
    CONF_BIND_STR("mail_owner", &raw.mail_owner),
    CONF_BIND_STR("virtual_mailbox_lock", &raw.lock),
    CONF_BIND_SIZE("virtual_mailbox_limit", &local_cfg.mailbox_size_limit),
    CONF_BIND_STR("recipient_delimiter", &raw.delimiter),
    CONF_BIND_STR("queue_directory", &raw.queue_directory),
    CONF_BIND_INT("deliver_lock_attempts", &raw.lock_attempts),
    CONF_BIND_TIME("deliver_lock_delay", &raw.lock_delay),
    CONF_BIND_TIME("stale_lock_time", &raw.stale_lock_time),
    CONF_BIND_TIME("ipc_timeout", &raw.ipc_timeout),
    CONF_BIND_END,
};

/* virtual_mailbox_lock: dotlock or not; fcntl is always taken. */
static int
lock_dotlock(const char *list)
{
	char **words = str_split(list, " \t,", NULL);
	int dotlock = 0;

	for (size_t i = 0; words[i] != NULL; i++) {
		if (strcmp(words[i], "dotlock") == 0)
			dotlock = 1;
		else if (strcmp(words[i], "flock") == 0)
			msg_warn("virtual_mailbox_lock: flock is not used (an "
				 "fcntl lock is always taken)");
		else if (strcmp(words[i], "fcntl") != 0)
			msg_fatal("virtual_mailbox_lock: unknown lock method "
				  "\"%s\" (fcntl, dotlock)",
				  words[i]);
	}
	str_list_free(words);
	return dotlock;
}

void
virtual_pre_jail(void)
{
	struct buf err = BUF_INIT;
	gid_t gid;

	local_cfg.as_root = priv_is_root();
	local_cfg.client_fd = -1;
	local_cfg.relay = "virtual";
	local_cfg.mail_owner = xstrdup(raw.mail_owner);
	local_cfg.delimiter = xstrdup(raw.delimiter);
	local_cfg.queue_directory = xstrdup(raw.queue_directory);
	local_cfg.lock_attempts = (int)raw.lock_attempts;
	local_cfg.lock_delay = (int)raw.lock_delay;
	local_cfg.stale_lock_time = (int)raw.stale_lock_time;
	local_cfg.mbox_dotlock = lock_dotlock(raw.lock);
	local_cfg.ipc_timeout_ms = raw.ipc_timeout > 24 * 3600
				       ? 24 * 3600 * 1000
				       : (int)raw.ipc_timeout * 1000;
	if (local_cfg.as_root) {
		if (priv_lookup_user(raw.mail_owner, &local_cfg.owner_uid, &gid,
				     &err) < 0)
			msg_fatal("mail_owner: %s", buf_cstr(&err));
		local_cfg.owner_gid = gid;
	} else {
		local_cfg.owner_uid = geteuid();
		local_cfg.owner_gid = getegid();
		msg_info("running as an unprivileged user: every mailbox is "
			 "delivered as uid %ld",
			 (long)geteuid());
	}
	if ((virt = mailbox_virtual_open(local_cfg.as_root, 1, &err)) == NULL)
		msg_fatal("%s", buf_cstr(&err));
	buf_free(&err);
}

int
virtual_tables_changed(void)
{
	return mailbox_virtual_changed(virt);
}

void
virtual_pre_exit(void)
{
	mailbox_virtual_close(virt);
	virt = NULL;
}

void
virtual_deliver_rcpt(struct local_msg *msg, const struct local_rcpt *rcpt,
		     struct local_status *st, struct local_forwards *fw)
{
	const char *addr = rcpt->address;
	struct mailbox_user u;
	struct buf why = BUF_INIT;
	int r;

	(void)fw; /* virtual forwards nothing */
	if (mbox_delivered_to(msg->content.data ? msg->content.data : "",
			      msg->content.len, addr)) {
		local_status_set(st, 5, "5.4.6", "mail forwarding loop for %s",
				 addr);
		local_log(msg, addr, rcpt->orcpt, st);
		return;
	}
	r = mailbox_virtual_find(virt, addr, &u, &why);
	if (r == 0) {
		local_status_set(st, 5, "5.1.1", "unknown user: \"%s\"", addr);
	} else if (r == MAILBOX_VIRTUAL_CONFIG) {
		msg_warn("%s", buf_cstr(&why));
		local_status_set(st, 4, "4.3.5",
				 "mail system configuration error");
	} else if (r < 0) {
		msg_warn("%s: %s", addr, buf_cstr(&why));
		local_status_set(st, 4, "4.3.0",
				 "virtual mailbox lookup failed: %s",
				 buf_cstr(&why));
	} else {
		local_deliver_mailbox(msg, addr, &u, st);
	}
	local_log(msg, addr, rcpt->orcpt, st);
	mailbox_user_free(&u);
	buf_free(&why);
}
