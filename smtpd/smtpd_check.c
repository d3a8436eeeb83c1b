/*
 * smtpd_check - who may send to whom: relay control and the local
 * recipient check.
 *
 * A recipient is accepted when its domain is one of ours (mydestination)
 * and the local part is a known recipient, when its domain is in
 * relay_domains, or when the client is trusted (mynetworks) or has
 * authenticated.  Anything else is "554 5.7.1 <addr>: Relay access
 * denied": Panacea is never an open relay.  Addresses that carry routing
 * characters in the local part (user%remote@site, remote!user@site,
 * "user@remote"@site, user@remote@site) are never taken as local mail:
 * they are foreign recipients like any other.
 *
 * The local recipient table is built before the jail, because neither
 * the password database nor the sasldb can be read after chroot: unix
 * accounts (getpwent) and the mail-only users of sasldb_path.  A process
 * serves at most max_use sessions, so the table is never old.  An empty
 * local_recipient_maps turns the check off, as in Postfix.
 */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "msg.h"
#include "sasldb.h"
#include "smtpd.h"
#include "strutil.h"
#include "xalloc.h"

static struct {
	char **names;
	size_t count, cap;
	int enabled;
	char *delimiter;
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

void
smtpd_check_init(void)
{
	struct passwd *pw;

	local_table.enabled = *conf_str("local_recipient_maps") != '\0';
	local_table.delimiter = xstrdup(conf_str("recipient_delimiter"));
	if (!local_table.enabled)
		return;
	setpwent();
	while ((pw = getpwent()) != NULL)
		local_table_add(pw->pw_name);
	endpwent();
	if (sasldb_users(conf_str("sasldb_path"), local_table_add_sasl, NULL) <
	    0)
		msg_warn("cannot read the mail users of %s",
			 conf_str("sasldb_path"));
	qsort(local_table.names, local_table.count, sizeof(char *), name_cmp);
}

static int
domain_in_list(char **list, const char *domain)
{
	for (; list && *list; list++) {
		const char *entry = *list;
		size_t dlen = strlen(domain), elen = strlen(entry);
		if (str_casecmp(entry, domain) == 0)
			return 1;
		/* ".example.com" matches every subdomain, as in Postfix. */
		if (entry[0] == '.' && dlen > elen &&
		    str_casecmp(domain + dlen - elen, entry) == 0)
			return 1;
	}
	return 0;
}

int
smtpd_is_local_domain(const char *domain)
{
	return domain_in_list(smtpd_cfg.mydestination, domain);
}

static int
relay_domain(const char *domain)
{
	char **list = smtpd_cfg.relay_domains;

	if (domain_in_list(list, domain))
		return 1;
	/* Postfix's parent_domain_matches_subdomains covers relay_domains:
	 * "example.com" also relays for "sub.example.com". */
	for (; list && *list; list++) {
		size_t dlen = strlen(domain), elen = strlen(*list);
		if (dlen > elen + 1 && domain[dlen - elen - 1] == '.' &&
		    str_casecmp(domain + dlen - elen, *list) == 0)
			return 1;
	}
	return 0;
}

static int
local_user_known(const char *local)
{
	char *key = xstrdup(local);
	const char *delim = local_table.delimiter;
	int found;

	str_lower(key);
	if (*delim) {
		char *ext = strpbrk(key, delim);
		if (ext && ext != key)
			*ext = '\0';
	}
	found = strcmp(key, "postmaster") == 0 ||
		bsearch(&key, local_table.names, local_table.count,
			sizeof(char *), name_cmp) != NULL;
	xfree(key);
	return found;
}

const char *
smtpd_check_rcpt(struct smtpd_session *ss, const struct addr *a,
		 struct buf *reply)
{
	int plain = addr_is_plain(a);

	if (a->flags & ADDR_POSTMASTER)
		return NULL;
	if (plain && !(a->flags & ADDR_LITERAL) &&
	    smtpd_is_local_domain(a->domain)) {
		if (!local_table.enabled || local_user_known(a->local_unquoted))
			return NULL;
		buf_printf(reply,
			   "550 5.1.1 <%s>: Recipient address rejected: User "
			   "unknown in local recipient table",
			   a->addr);
		return buf_cstr(reply);
	}
	if (plain && !(a->flags & ADDR_LITERAL) && relay_domain(a->domain))
		return NULL;
	if (ss->trusted || ss->auth_user)
		return NULL;
	buf_printf(reply, "554 5.7.1 <%s>: Relay access denied", a->addr);
	return buf_cstr(reply);
}
