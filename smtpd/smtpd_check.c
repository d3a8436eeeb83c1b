/*
 * smtpd_check - what the access policy (smtpd_restrict.c) asks about an
 * address: is it an authorised destination (ours, mydestination or
 * virtual_mailbox_domains, or one we relay to, relay_domains), and is a
 * local address a known recipient.
 *
 * Addresses that carry routing characters in the local part
 * (user%remote@site, remote!user@site, "user@remote"@site,
 * user@remote@site) or an address literal are never taken as local mail
 * or as relayed: they are foreign recipients like any other, so that
 * reject_unauth_destination refuses them.
 *
 * The local recipient table is built before the jail, because neither
 * the password database nor the sasldb can be read after chroot: unix
 * accounts (getpwent, for "unix:passwd.byname" in local_recipient_maps)
 * and the mail-only users of sasldb_path.  The other tables of
 * local_recipient_maps (by default $alias_maps) are opened before the
 * jail too and looked up at RCPT time; a hash: table with neither its
 * text file nor its .db is skipped (a system without an aliases file has
 * no aliases), and a table that cannot be read answers 451 4.3.0, as in
 * Postfix.  An empty local_recipient_maps turns the check off, as in
 * Postfix.
 *
 * What was read is used only while its file is unchanged: /etc/passwd,
 * the sasldb and the table files are watched (maps.h, maps_watch_file
 * and maps_changed: replaced, rewritten, made or removed).  Once one has
 * changed, this process takes no new client (smtpd_check_changed(),
 * smtpd's pre_accept: a fresh process reads the new files, which a
 * chrooted one cannot), and within the session that sees the change a
 * recipient the old data does not know gets 451 4.3.0, never a 550: a
 * user added a moment ago is a valid recipient.  (A user removed is
 * still accepted until the session ends; local then bounces it.)
 */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "daemon.h"
#include "mailbox.h"
#include "maps.h"
#include "msg.h"
#include "rewrite.h"
#include "sasldb.h"
#include "smtpd.h"
#include "strutil.h"
#include "xalloc.h"

/* What getpwent reads (glibc's files service). */
#define PASSWD_FILE "/etc/passwd"

static struct {
	char **names;
	size_t count, cap;
	int enabled;
	char *delimiter;
	struct maps *maps; /* the tables of local_recipient_maps, or NULL */
	int maps_broken;   /* they could not be opened: 451 */
	/* virtual_mailbox_maps (lib/mailbox.h), or NULL; broken: it
	 * could not be opened (451) */
	struct mailbox_virtual *boxes;
	int boxes_broken;
	/* The files read into names: NULL when not read. */
	struct maps_watch *passwd_watch, *sasldb_watch;
	int change_logged;
} local_table;

static void
local_table_add(const char *name)
{
	if (local_table.count == local_table.cap) {
		local_table.cap = local_table.cap ? local_table.cap * 2 : 64;
		local_table.names = xreallocarray(
		    local_table.names, local_table.cap, sizeof(char *));
	}
	local_table.names[local_table.count] = xstrdup(name);
	str_lower(local_table.names[local_table.count]);
	local_table.count++;
}

static void
local_table_add_sasl(const char *user, const char *realm, void *ctx)
{
	(void)realm;
	(void)ctx;
	local_table_add(user);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lookup tables of local_recipient_maps other than the password
 * database; returns whether "unix:passwd.byname" is in the list. */
static int
local_maps_open(const char *list)
{
	struct buf kept = BUF_INIT, db = BUF_INIT, err = BUF_INIT;
	char **specs;
	int passwd = 0;

	/* A type Panacea lacks is a configuration error: stop at start. */
	if (maps_check(list, &err) < 0)
		msg_fatal("local_recipient_maps: %s", buf_cstr(&err));
	specs = maps_split(list, NULL, &err);
	for (char **s = specs; *s; s++) {
		const char *path = strncmp(*s, "hash:", 5) == 0	   ? *s + 5
				   : strncmp(*s, "btree:", 6) == 0 ? *s + 6
								   : NULL;
		if (strcmp(*s, "unix:passwd.byname") == 0) {
			passwd = 1;
			continue;
		}
		buf_reset(&db);
		if (path)
			buf_printf(&db, "%s.db", path);
		if (path && access(path, F_OK) < 0 &&
		    access(buf_cstr(&db), F_OK) < 0)
			continue;
		buf_printf(&kept, "%s%s", kept.len ? ", " : "", *s);
	}
	if (kept.len &&
	    !(local_table.maps = maps_open(buf_cstr(&kept), &err))) {
		msg_warn("local_recipient_maps: %s", buf_cstr(&err));
		local_table.maps_broken = 1;
	}
	str_list_free(specs);
	buf_free(&kept);
	buf_free(&db);
	buf_free(&err);
	return passwd;
}

void
smtpd_check_init(void)
{
	struct passwd *pw;
	struct buf err = BUF_INIT;

	/* The users of virtual_mailbox_domains, as virtual(8) finds them. */
	if ((local_table.boxes = mailbox_virtual_open(0, 0, &err)) == NULL) {
		msg_warn("%s: recipients in virtual_mailbox_domains get 451",
			 buf_cstr(&err));
		local_table.boxes_broken = 1;
	}
	buf_free(&err);
	local_table.enabled = *smtpd_cfg.local_recipient_maps != '\0';
	local_table.delimiter = xstrdup(smtpd_cfg.recipient_delimiter);
	if (!local_table.enabled)
		return;
	if (local_maps_open(smtpd_cfg.local_recipient_maps)) {
		/* The watch first: a change during the read is seen. */
		local_table.passwd_watch = maps_watch_file(PASSWD_FILE);
		setpwent();
		while ((pw = getpwent()) != NULL)
			local_table_add(pw->pw_name);
		endpwent();
	}
	if (*smtpd_cfg.sasldb_path)
		local_table.sasldb_watch =
		    maps_watch_file(smtpd_cfg.sasldb_path);
	if (sasldb_users(smtpd_cfg.sasldb_path, local_table_add_sasl, NULL) < 0)
		msg_warn("cannot read the mail users of %s",
			 smtpd_cfg.sasldb_path);
	/* No account at all (no unix:passwd.byname, no sasldb user): no
	 * array, and qsort() must not be given NULL. */
	if (local_table.count > 0)
		qsort(local_table.names, local_table.count, sizeof(char *),
		      name_cmp);
}

void
smtpd_check_end(void)
{
	for (size_t i = 0; i < local_table.count; i++)
		xfree(local_table.names[i]);
	xfree(local_table.names);
	xfree(local_table.delimiter);
	if (local_table.maps)
		maps_close(local_table.maps);
	mailbox_virtual_close(local_table.boxes);
	maps_watch_free(local_table.passwd_watch);
	maps_watch_free(local_table.sasldb_watch);
	memset(&local_table, 0, sizeof(local_table));
}

const char *
smtpd_check_changed(void)
{
	if (mailbox_virtual_changed(local_table.boxes))
		return "virtual_mailbox_maps";
	if (!local_table.enabled)
		return NULL;
	if (maps_watch_changed(local_table.passwd_watch))
		return PASSWD_FILE;
	if (maps_watch_changed(local_table.sasldb_watch))
		return smtpd_cfg.sasldb_path;
	if (local_table.maps && maps_changed(local_table.maps))
		return "local_recipient_maps";
	return NULL;
}

/* A domain list's answer; a table that fails counts as no match, with
 * a warning (the recipient is then refused or deferred, never relayed). */
static int
domain_listed(const char *param, const struct match_list *list,
	      const char *domain, int parent)
{
	struct buf err = BUF_INIT;
	int rc = match_list_domain(list, domain, parent, &err);

	if (rc < 0)
		msg_warn("%s: lookup of %s: %s", param, domain, buf_cstr(&err));
	buf_free(&err);
	return rc > 0;
}

int
smtpd_client_listed(const char *param, const struct match_list *list,
		    const char *name, const char *addr)
{
	struct buf err = BUF_INIT;
	int rc = match_list_client(list, name, addr, 1, &err);

	if (rc < 0)
		msg_warn("%s: lookup of %s[%s]: %s", param, name, addr,
			 buf_cstr(&err));
	buf_free(&err);
	return rc > 0;
}

int
smtpd_is_local_domain(const char *domain)
{
	return domain_listed("mydestination", smtpd_cfg.mydestination, domain,
			     0);
}

/* Postfix's parent_domain_matches_subdomains covers fast_flush_domains. */
int
smtpd_fast_flush_domain(const char *site)
{
	return domain_listed("fast_flush_domains", smtpd_cfg.fast_flush_domains,
			     site, 1);
}

/* Postfix's parent_domain_matches_subdomains covers relay_domains:
 * "example.com" also relays for "sub.example.com". */
static int
relay_domain(const char *domain)
{
	return domain_listed("relay_domains", smtpd_cfg.relay_domains, domain,
			     1);
}

/* 1 when a table of local_recipient_maps has key, 0 when none has it,
 * -1 when one cannot be read. */
static int
local_maps_have(const char *key)
{
	struct buf value = BUF_INIT, err = BUF_INIT;
	int r;

	if (local_table.maps_broken)
		return -1;
	if (!local_table.maps)
		return 0;
	r = maps_lookup(local_table.maps, key, &value, &err);
	if (r < 0)
		msg_warn("local_recipient_maps: %s", buf_cstr(&err));
	buf_free(&value);
	buf_free(&err);
	return r;
}

/* 1 known, 0 unknown, -1 a table could not be read.  The full local part
 * is looked up in the tables first (an alias may have an extension),
 * then the base user, as in Postfix. */
static int
local_user_known(const char *local)
{
	char *key = xstrdup(local);
	const char *delim = local_table.delimiter;
	int found;

	str_lower(key);
	if ((found = local_maps_have(key)) != 0)
		goto done;
	if (*delim) {
		char *ext = strpbrk(key, delim);
		if (ext && ext != key) {
			*ext = '\0';
			if ((found = local_maps_have(key)) != 0)
				goto done;
		}
	}
	found = strcmp(key, "postmaster") == 0 ||
		(local_table.count > 0 &&
		 bsearch(&key, local_table.names, local_table.count,
			 sizeof(char *), name_cmp) != NULL);
	if (!found) {
		/* Unknown to data that is out of date: try again later (a
		 * fresh process will know), never a permanent refusal. */
		const char *changed = smtpd_check_changed();
		if (changed != NULL) {
			if (!local_table.change_logged)
				msg_info("%s has changed -- restarting after "
					 "this session",
					 changed);
			local_table.change_logged = 1;
			daemon_request_exit();
			found = -1;
		}
	}
done:
	xfree(key);
	return found;
}

/* virtual_alias_domains (lib/rewrite.h); a table that fails counts as
 * no match, with a warning, as for the other domain lists. */
static int
virtual_domain(const char *domain)
{
	struct buf err = BUF_INIT;
	int rc = smtpd_cfg.rewrite
		     ? rewrite_virtual_domain(smtpd_cfg.rewrite, domain, &err)
		     : 0;

	if (rc < 0)
		msg_warn("virtual_alias_domains: lookup of %s: %s", domain,
			 buf_cstr(&err));
	buf_free(&err);
	return rc > 0;
}

int
smtpd_is_auth_destination(const struct addr *a)
{
	if (a->flags & ADDR_POSTMASTER)
		return 1;
	if (!addr_is_plain(a) || (a->flags & ADDR_LITERAL))
		return 0;
	return smtpd_is_local_domain(a->domain) || virtual_domain(a->domain) ||
	       relay_domain(a->domain) ||
	       domain_listed("virtual_mailbox_domains",
			     smtpd_cfg.virtual_mailbox_domains, a->domain, 0);
}

enum smtpd_unlisted
smtpd_check_unlisted(const struct addr *a, int sender)
{
	struct rewrite *rw = smtpd_cfg.rewrite;
	struct buf err = BUF_INIT;
	enum smtpd_unlisted res = SMTPD_KNOWN;
	int r;

	if ((a->flags & ADDR_POSTMASTER) || !addr_is_plain(a) ||
	    (a->flags & ADDR_LITERAL) || *a->domain == '\0')
		return SMTPD_KNOWN;
	if (rw) {
		r = rewrite_listed(rw,
				   sender ? REWRITE_SENDER : REWRITE_RECIPIENT,
				   a->addr, &err);
		if (r < 0) {
			msg_warn("%s: %s", a->addr, buf_cstr(&err));
			res = SMTPD_LOOKUP_FAILED;
			goto out;
		}
		if (r > 0)
			goto out;
	}
	if (smtpd_is_local_domain(a->domain)) {
		r = smtpd_check_local_user(a);
		res = r > 0    ? SMTPD_KNOWN
		      : r == 0 ? SMTPD_UNKNOWN_LOCAL
			       : SMTPD_LOOKUP_FAILED;
	} else if (virtual_domain(a->domain)) {
		res = SMTPD_UNKNOWN_VIRTUAL;
	} else if ((local_table.boxes_broken ||
		    mailbox_virtual_enabled(local_table.boxes)) &&
		   domain_listed("virtual_mailbox_domains",
				 smtpd_cfg.virtual_mailbox_domains, a->domain,
				 0)) {
		r = local_table.boxes_broken
			? -1
			: mailbox_virtual_known(local_table.boxes, a->addr,
						&err);
		if (r < 0 && !local_table.boxes_broken)
			msg_warn("virtual_mailbox_maps: %s", buf_cstr(&err));
		res = r > 0    ? SMTPD_KNOWN
		      : r == 0 ? SMTPD_UNKNOWN_MAILBOX
			       : SMTPD_LOOKUP_FAILED;
	} else if (rw && relay_domain(a->domain)) {
		r = rewrite_relay_listed(rw, a->addr, &err);
		if (r < 0)
			msg_warn("relay_recipient_maps: %s", buf_cstr(&err));
		res = r > 0    ? SMTPD_KNOWN
		      : r == 0 ? SMTPD_UNKNOWN_RELAY
			       : SMTPD_LOOKUP_FAILED;
	}
out:
	buf_free(&err);
	return res;
}

int
smtpd_check_local_user(const struct addr *a)
{
	if (a->flags & ADDR_POSTMASTER)
		return 1;
	if (!addr_is_plain(a) || (a->flags & ADDR_LITERAL) ||
	    !smtpd_is_local_domain(a->domain) || !local_table.enabled)
		return 1;
	return local_user_known(a->local_unquoted);
}
