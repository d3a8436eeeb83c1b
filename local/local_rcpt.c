/*
 * local_rcpt - the delivery of one recipient of a request.
 *
 * Order, as Postfix's local: the loop check (a "Delivered-To:" with this
 * recipient already in the header is 5.4.6), then alias_maps for the
 * local part (with its recipient_delimiter extension first, then without
 * it), then the account's mailbox (or mailbox_transport, local_pass.c,
 * before any account lookup; the user's .forward (local_forward.c), then
 * mailbox_command_maps or mailbox_command,
 * run as the recipient, instead of the mailbox).  An unknown name goes
 * to fallback_transport, else luser_relay, else is 5.1.1 'unknown
 * user: "name"' (local_unknown.c).  An account with uid 0 (root, toor) gets no
 * mail in its own mailbox: it is deferred (4.3.5, a configuration error that
 * the administrator fixes with an alias, as Postfix's default aliases have
 * "root: you"), so no mail an outsider writes lands where root reads it
 * and nothing is lost meanwhile.
 *
 * An alias that expands to one target is delivered as that target: its
 * status is the recipient's.  A list (several targets) is delivered
 * member by member: local mailboxes, files and commands here, addresses
 * in other domains queued again (local_forward.c) from owner-NAME when
 * the list has an owner alias, else from the original sender (qmgr
 * queues these copies when the reply says so: local never writes the
 * queue).  A mailbox member that fails is queued again the same way, so
 * that qmgr retries or bounces that member alone; a file or command that fails
 * temporarily defers the whole list (its other members may then get a second
 * copy, at-least-once as everywhere in Panacea), and a list whose every member
 * failed for good bounces with the first reason.
 */
#include <string.h>

#include "delivery_log.h"
#include "local.h"
#include "mbox.h"
#include "msg.h"
#include "xalloc.h"

#define LOCAL_PART_MAX 256

/* The command of mailbox_command_maps (by user name), else
 * mailbox_command: 1 with cmd set, 0 none, -1 a table failed (st set). */
static int
mailbox_command_find(const char *user, struct buf *cmd, struct local_status *st)
{
	struct buf err = BUF_INIT;
	int r = 0;

	if (local_cfg.mailbox_command_maps) {
		r = maps_lookup(local_cfg.mailbox_command_maps, user, cmd,
				&err);
		if (r < 0)
			local_status_set(st, 4, "4.3.0",
					 "mailbox_command_maps: %s",
					 buf_cstr(&err));
	}
	if (r == 0 && *local_cfg.mailbox_command) {
		buf_set(cmd, local_cfg.mailbox_command);
		r = 1;
	}
	buf_free(&err);
	return r;
}

/* Delivers to the mailbox of local name (no domain) and logs it; an
 * unknown name goes to local_deliver_unknown (copies into fw). */
static void
deliver_user(struct local_msg *msg, const char *name, const char *to,
	     const char *orig_to, struct local_status *st,
	     struct local_forwards *fw)
{
	struct mailbox_user u;
	struct buf cmd = BUF_INIT;
	char *base;
	int r, c = 0;

	/* Handed over before the user lookup, as Postfix's local does: the
	 * transport's server knows its users. */
	if (*local_cfg.mailbox_transport != '\0') {
		if (!local_pass(msg, local_cfg.mailbox_transport, to, orig_to,
				st))
			local_log(msg, to, orig_to, st);
		return;
	}
	base = local_base_name(name);
	r = local_user_find(base, &u, st);
	if (r == 0) {
		local_deliver_unknown(msg, base, to, orig_to, st, fw);
		xfree(base);
		return;
	}
	if (r > 0 && u.root_account)
		/* Mail read by root is mail an attacker writes to root: it
		 * waits until root is aliased to a real user. */
		local_status_set(st, 4, "4.3.5",
				 "mail for %s is not delivered to the mailbox "
				 "of a uid 0 account: alias %s to a user in "
				 "alias_maps",
				 u.name, u.name);
	else if (r > 0 && local_forward(msg, &u, to, st, fw))
		; /* the .forward decided */
	else if (r > 0 && (c = mailbox_command_find(u.name, &cmd, st)) > 0)
		/* procmail, maildrop: as the recipient, in every uid. */
		local_deliver_command(msg, to, orig_to, buf_cstr(&cmd), u.uid,
				      u.gid, st);
	else if (r > 0 && c == 0)
		local_deliver_mailbox(msg, to, &u, st);
	local_log(msg, to, orig_to, st);
	mailbox_user_free(&u);
	buf_free(&cmd);
	xfree(base);
}

static void
forward_add(struct local_forwards *f, const char *sender, const char *addr)
{
	struct local_forward_group *g = NULL;

	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->groups[i].sender, sender) == 0)
			g = &f->groups[i];
	if (g == NULL) {
		f->groups =
		    xreallocarray(f->groups, f->n + 1, sizeof(*f->groups));
		g = &f->groups[f->n++];
		memset(g, 0, sizeof(*g));
		g->sender = xstrdup(sender);
	}
	g->addrs = xreallocarray(g->addrs, g->n + 1, sizeof(char *));
	g->addrs[g->n++] = xstrdup(addr);
}

void
local_forwards_free(struct local_forwards *f)
{
	for (size_t i = 0; i < f->n; i++) {
		for (size_t j = 0; j < f->groups[i].n; j++)
			xfree(f->groups[i].addrs[j]);
		xfree(f->groups[i].addrs);
		xfree(f->groups[i].sender);
	}
	xfree(f->groups);
	f->groups = NULL;
	f->n = 0;
}

/* Who hears about a list member's problems. */
static char *
member_sender(const struct local_msg *msg, const struct alias_item *t)
{
	struct buf b = BUF_INIT;

	/* A bounce stays a bounce: never give it a sender that could
	 * bounce again. */
	if (t->owner == NULL || *msg->sender == '\0')
		return xstrdup(msg->sender);
	buf_printf(&b, "%s@%s", t->owner, local_cfg.myorigin);
	return buf_steal(&b);
}

struct list_state {
	int delivered, deferred, failed;
	struct local_status defer, fail;
};

static void
tally(struct list_state *ls, const struct local_status *st)
{
	if (st->cls == 2) {
		ls->delivered++;
	} else if (st->cls == 4) {
		if (ls->deferred++ == 0)
			local_status_copy(&ls->defer, st);
	} else if (ls->failed++ == 0) {
		local_status_copy(&ls->fail, st);
	}
}

/* A /file or |command target, if the policy allows it. */
static void
deliver_special(struct local_msg *msg, const struct alias_item *t,
		const char *addr, const char *orig_to, struct local_status *st)
{
	int file = t->kind == ALIAS_FILE;
	int allowed = file ? (t->include ? local_cfg.files_include
					 : local_cfg.files_alias)
			   : (t->include ? local_cfg.commands_include
					 : local_cfg.commands_alias);
	uid_t uid = local_cfg.alias_uid;
	gid_t gid = local_cfg.alias_gid;

	if (!allowed) {
		local_status_set(st, 5, "5.7.1", "mail to %s is restricted",
				 file ? "file" : "command");
	} else if (t->include &&
		   local_include_owner(t->include, &uid, &gid) < 0) {
		local_status_set(st, 4, "4.3.0",
				 "cannot tell the owner of :include: file %s",
				 t->include);
	} else if (file) {
		local_deliver_file(msg, addr, t->value, uid, gid, st);
	} else {
		local_deliver_command(msg, addr, orig_to, t->value, uid, gid,
				      st);
	}
	local_log(msg, addr, orig_to, st);
}

static void
deliver_targets(struct local_msg *msg, const char *addr, const char *domain,
		const char *orig_to, const struct alias_list *targets,
		struct local_status *st, struct local_forwards *fw)
{
	struct list_state ls;
	struct buf to = BUF_INIT;
	int single = targets->count == 1;
	char *sender;

	memset(&ls, 0, sizeof(ls));
	local_status_init(&ls.defer);
	local_status_init(&ls.fail);
	for (size_t i = 0; i < targets->count; i++) {
		const struct alias_item *t = &targets->items[i];

		sender = member_sender(msg, t);
		buf_set(&to, t->value);
		if (t->kind == ALIAS_MAILBOX && *domain)
			buf_printf(&to, "@%s", domain);
		switch (t->kind) {
		case ALIAS_MAILBOX:
			deliver_user(msg, t->value, buf_cstr(&to), addr, st,
				     fw);
			if (!single && st->cls != 2)
				forward_add(fw, sender, buf_cstr(&to));
			else
				tally(&ls, st);
			break;
		case ALIAS_FILE:
		case ALIAS_COMMAND:
			deliver_special(msg, t, addr, orig_to, st);
			tally(&ls, st);
			break;
		case ALIAS_REMOTE:
			forward_add(fw, sender, t->value);
			break;
		default:
			break;
		}
		xfree(sender);
	}
	/* The copies are qmgr's to queue: they count as delivered here,
	 * and qmgr defers the recipient when it cannot queue them. */
	if (fw->n > 0)
		ls.delivered++;
	if (single && fw->n > 0)
		local_status_set(st, 2, "2.0.0", "forwarded");
	else if (single)
		; /* st is the one target's status */
	else if (ls.deferred)
		local_status_copy(st, &ls.defer);
	else if (ls.delivered == 0 && ls.failed)
		local_status_copy(st, &ls.fail);
	else
		local_status_set(st, 2, "2.0.0",
				 "delivered to %zu destinations of alias %s",
				 targets->count, addr);
	local_status_free(&ls.defer);
	local_status_free(&ls.fail);
	buf_free(&to);
}

void
local_deliver_rcpt(struct local_msg *msg, const struct local_rcpt *rcpt,
		   struct local_status *st, struct local_forwards *fw)
{
	struct alias_list targets = ALIAS_LIST_INIT;
	const char *addr = rcpt->address, *at = strrchr(addr, '@');
	const char *domain = at ? at + 1 : "";
	/* Logged as orig_to=: the codec decoded its xtext (local.h). */
	const char *orig_to = rcpt->orcpt;
	char *local, *base;
	int r;

	local = xstrndup(addr, at ? (size_t)(at - addr) : strlen(addr));
	base = local_base_name(local);
	for (char *p = local; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	if (*local == '\0' || strlen(local) > LOCAL_PART_MAX) {
		local_status_set(st, 5, "5.1.3", "bad address syntax");
		local_log(msg, addr, orig_to, st);
		goto done;
	}
	if (mbox_delivered_to(msg->content.data ? msg->content.data : "",
			      msg->content.len, addr)) {
		local_status_set(st, 5, "5.4.6", "mail forwarding loop for %s",
				 addr);
		local_log(msg, addr, orig_to, st);
		goto done;
	}
	r = local_alias_expand(local, &targets, st);
	if (r == 0 && strcmp(base, local) != 0)
		r = local_alias_expand(base, &targets, st);
	if (r < 0)
		local_log(msg, addr, orig_to, st);
	else if (r == 0)
		deliver_user(msg, base, addr, orig_to, st, fw);
	else
		deliver_targets(msg, addr, domain, orig_to, &targets, st, fw);
done:
	alias_list_free(&targets);
	xfree(local);
	xfree(base);
}
