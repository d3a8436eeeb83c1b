/*
 * local_forward - a user's .forward file (forward_path), as Postfix's
 * local reads it: after the aliases and before mailbox_command and the
 * mailbox.
 *
 * forward_path is a list of file names (commas or blanks) with local's
 * macros (local_unknown.c: $home, $user, $extension,
 * $recipient_delimiter, ...); the first that exists is the user's
 * .forward.  It is opened with the user's effective ids, O_NOFOLLOW, and
 * must be a regular file the user owns, at most ALIAS_INCLUDE_MAX bytes
 * (rule 1: root follows no path in a home).  Its text is an :include:
 * file's (alias_parse_include): addresses, "|command", "/file", "\user".
 * The user's own name ("\name", "name", or name in a local domain) is
 * the user's mailbox; another address gets a copy from the original
 * sender, queued by qmgr from local's reply; files and commands run as
 * the user when allow_mail_to_files / allow_mail_to_commands name
 * "forward".  :include: is refused in a .forward (5.3.5).  The status
 * is the list's, as for an alias list (local_rcpt.c): a temporary
 * failure defers the whole, the first permanent one bounces when nothing
 * was delivered.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "local.h"
#include "msg.h"
#include "strutil.h"
#include "xalloc.h"

/* Reads path as the user: 1 read, 0 missing, -1 error (st set). */
static int
forward_read(const char *path, const struct mailbox_user *u, struct buf *text,
	     struct local_status *st)
{
	struct stat sb;
	char data[8192];
	ssize_t n;
	int fd, saved = 0, rc = 1;

	if (local_cfg.as_root && (setegid(u->gid) < 0 || seteuid(u->uid) < 0))
		msg_fatal("cannot switch to uid %ld: %s", (long)u->uid,
			  strerror(errno));
	buf_reset(text);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		saved = errno;
	} else if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) ||
		   (local_cfg.as_root && sb.st_uid != u->uid) ||
		   sb.st_size > ALIAS_INCLUDE_MAX) {
		saved = EPERM;
	} else {
		while (text->len <= ALIAS_INCLUDE_MAX) {
			if ((n = read(fd, data, sizeof(data))) < 0 &&
			    errno == EINTR)
				continue;
			if (n < 0)
				saved = errno;
			if (n <= 0)
				break;
			buf_append(text, data, (size_t)n);
		}
	}
	if (fd >= 0)
		close(fd);
	local_become_root();
	if (saved == ENOENT || saved == ENOTDIR)
		rc = 0;
	else if (saved == EPERM || saved == ELOOP) {
		local_status_set(st, 5, "5.3.5",
				 "cannot use forward file %s: not a regular "
				 "file of its user",
				 path);
		rc = -1;
	} else if (saved || text->len > ALIAS_INCLUDE_MAX) {
		local_status_set(st, 4, "4.3.0", "cannot read %s: %s", path,
				 strerror(saved ? saved : EFBIG));
		rc = -1;
	}
	return rc;
}

/* Whether addr (a .forward item) is the user's own mailbox. */
static int
is_self(const struct alias_item *it, const char *name)
{
	const char *at = strrchr(it->value, '@');
	size_t n = at ? (size_t)(at - it->value) : strlen(it->value);
	char *local;
	int self;

	if (at && !local_domain_is_local(at + 1))
		return 0;
	local = xstrndup(it->value, n);
	str_lower(local);
	self = strcmp(local, name) == 0;
	xfree(local);
	return self;
}

struct tally {
	int delivered, deferred, failed;
	struct local_status defer, fail;
};

static void
count(struct tally *t, const struct local_status *st)
{
	if (st->cls == 2)
		t->delivered++;
	else if (st->cls == 4 && t->deferred++ == 0)
		local_status_copy(&t->defer, st);
	else if (st->cls == 5 && t->failed++ == 0)
		local_status_copy(&t->fail, st);
}

static void
add_copy(struct local_forwards *fw, const char *sender, const char *addr)
{
	struct local_forward_group *g = NULL;

	for (size_t i = 0; i < fw->n; i++)
		if (strcmp(fw->groups[i].sender, sender) == 0)
			g = &fw->groups[i];
	if (g == NULL) {
		fw->groups =
		    xreallocarray(fw->groups, fw->n + 1, sizeof(*fw->groups));
		g = &fw->groups[fw->n++];
		memset(g, 0, sizeof(*g));
		g->sender = xstrdup(sender);
	}
	g->addrs = xreallocarray(g->addrs, g->n + 1, sizeof(char *));
	g->addrs[g->n++] = xstrdup(addr);
}

static void
deliver_items(struct local_msg *msg, const struct mailbox_user *u,
	      const char *to, const struct alias_list *items,
	      struct local_status *st, struct local_forwards *fw)
{
	struct tally t;
	struct local_status one;
	size_t copies = 0;

	memset(&t, 0, sizeof(t));
	local_status_init(&t.defer);
	local_status_init(&t.fail);
	local_status_init(&one);
	for (size_t i = 0; i < items->count; i++) {
		const struct alias_item *it = &items->items[i];

		if (it->kind == ALIAS_ADDR &&
		    (it->noexpand || is_self(it, u->name))) {
			local_deliver_mailbox(msg, to, u, &one);
		} else if (it->kind == ALIAS_ADDR) {
			add_copy(fw, msg->sender, it->value);
			copies++;
			continue;
		} else if (it->kind == ALIAS_FILE && local_cfg.files_forward) {
			local_deliver_file(msg, to, it->value, u->uid, u->gid,
					   &one);
		} else if (it->kind == ALIAS_COMMAND &&
			   local_cfg.commands_forward) {
			local_deliver_command(msg, to, "", it->value, u->uid,
					      u->gid, &one);
		} else if (it->kind == ALIAS_INCLUDE) {
			local_status_set(&one, 5, "5.3.5",
					 ":include: in a forward file is not "
					 "supported");
		} else {
			local_status_set(
			    &one, 5, "5.7.1", "mail to %s is restricted",
			    it->kind == ALIAS_FILE ? "file" : "command");
		}
		count(&t, &one);
	}
	if (copies)
		t.delivered++;
	if (t.deferred)
		local_status_copy(st, &t.defer);
	else if (t.delivered == 0 && t.failed)
		local_status_copy(st, &t.fail);
	else if (items->count == 1 && copies == 1)
		local_status_set(st, 2, "2.0.0", "forwarded");
	else
		local_status_set(st, 2, "2.0.0",
				 "delivered to %zu destinations of forward "
				 "file",
				 items->count);
	local_status_free(&t.defer);
	local_status_free(&t.fail);
	local_status_free(&one);
}

int
local_forward(struct local_msg *msg, const struct mailbox_user *u,
	      const char *to, struct local_status *st,
	      struct local_forwards *fw)
{
	struct alias_list items = ALIAS_LIST_INIT;
	struct buf path = BUF_INIT, text = BUF_INIT, err = BUF_INIT;
	char **paths;
	int found = 0, n = 0;

	if (*local_cfg.forward_path == '\0' || u->home == NULL)
		return 0;
	paths = str_split(local_cfg.forward_path, ", \t", &n);
	for (int i = 0; i < n && found == 0; i++) {
		local_macro_expand(paths[i], to, u->name, u->home, &path);
		if (path.len == 0 || path.data[0] != '/')
			continue;
		found = forward_read(buf_cstr(&path), u, &text, st);
	}
	if (found > 0) {
		if (alias_parse_include(text.data ? text.data : "", text.len,
					&items, &err) < 0)
			local_status_set(st, 5, "5.3.5", "forward file %s: %s",
					 buf_cstr(&path), buf_cstr(&err));
		else if (items.count == 0)
			found = 0; /* an empty .forward: the mailbox */
		else
			deliver_items(msg, u, to, &items, st, fw);
	}
	str_list_free(paths);
	alias_list_free(&items);
	buf_free(&path);
	buf_free(&text);
	buf_free(&err);
	return found != 0;
}
