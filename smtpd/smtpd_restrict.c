/*
 * smtpd_restrict - the SMTP access policy: Postfix's restriction lists
 * (smtpd_restrict.h; DESIGN.md "smtpd access policy").
 *
 * A list is parsed into items once, before the jail: each restriction
 * name becomes an operation, a check_*_access item opens its table then
 * (a chrooted smtpd could not), a restriction class name points at the
 * class's own parsed list.  Evaluation walks a list: each item answers
 * DUNNO (go on), PERMIT (this list is done: the next stage decides) or
 * REJECT (the command is refused with the reply), as in Postfix.  At RCPT
 * time the client, HELO and sender lists run first when
 * smtpd_delay_reject is on (the default), then the relay list, then the
 * recipient list, then the implicit unlisted sender/recipient checks.
 *
 * What a restriction needs and does not have yet (a recipient in the
 * client list with smtpd_delay_reject = no, a HELO name before HELO) makes
 * it DUNNO, as in Postfix.  A table that fails at lookup time answers 451
 * 4.3.0 "Temporary lookup failure"; an access value that cannot be
 * honoured (FILTER: Panacea's queue has no content filter route; a table
 * restriction in a table value; a class loop) answers 451 4.3.5 "Server
 * configuration error" with a warning naming the table, so that no mail
 * passes a policy that was not applied.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "content_filter.h"
#include "dns.h"
#include "dnsbl.h"
#include "maps.h"
#include "match_list.h"
#include "msg.h"
#include "own_addr.h"
#include "peer_name.h"
#include "smtpd.h"
#include "smtpd_policy.h"
#include "smtpd_restrict.h"
#include "smtpd_spf.h"
#include "spf.h"
#include "sock.h"
#include "strutil.h"
#include "xalloc.h"

#define RESTRICT_DEPTH_MAX 20 /* nested classes and table-value lists */

enum op {
	OP_PERMIT,
	OP_REJECT,
	OP_DEFER,
	OP_DUNNO,
	OP_DEFER_IF_PERMIT,
	OP_DEFER_IF_REJECT,
	OP_WARN_IF_REJECT,
	OP_SLEEP,
	OP_PERMIT_MYNETWORKS,
	OP_PERMIT_SASL,
	OP_PERMIT_TLS_CLIENTCERTS,
	OP_PERMIT_TLS_ALL_CLIENTCERTS,
	OP_PERMIT_AUTH_DEST,
	OP_REJECT_UNAUTH_DEST,
	OP_DEFER_UNAUTH_DEST,
	OP_REJECT_UNAUTH_PIPELINING,
	OP_REJECT_INVALID_HELO,
	OP_REJECT_NON_FQDN_HELO,
	OP_REJECT_NON_FQDN_SENDER,
	OP_REJECT_NON_FQDN_RCPT,
	OP_REJECT_UNLISTED_SENDER,
	OP_REJECT_UNLISTED_RCPT,
	OP_REJECT_SENDER_LOGIN_MISMATCH,
	OP_REJECT_AUTH_SENDER_LOGIN_MISMATCH,
	OP_REJECT_KNOWN_SENDER_LOGIN_MISMATCH,
	OP_REJECT_UNAUTH_SENDER_LOGIN_MISMATCH,
	OP_REJECT_MULTI_RCPT_BOUNCE,
	OP_CHECK_CLIENT,
	OP_CHECK_CCERT,
	OP_CHECK_HELO,
	OP_CHECK_ETRN,
	OP_CHECK_SENDER,
	OP_CHECK_RECIPIENT,
	OP_CLASS,
	OP_REJECT_RBL_CLIENT,
	OP_REJECT_RHSBL_CLIENT,
	OP_REJECT_RHSBL_SENDER,
	OP_REJECT_RHSBL_HELO,
	OP_REJECT_RHSBL_RCPT,
	OP_PERMIT_DNSWL_CLIENT,
	OP_REJECT_UNKNOWN_SENDER_DOMAIN,
	OP_REJECT_UNKNOWN_RCPT_DOMAIN,
	OP_REJECT_UNKNOWN_HELO,
	OP_REJECT_UNKNOWN_CLIENT,
	OP_REJECT_UNKNOWN_REVERSE_CLIENT,
	OP_CHECK_POLICY,
	OP_CHECK_CLIENT_MX,
	OP_CHECK_CLIENT_A,
	OP_CHECK_CLIENT_NS,
	OP_CHECK_HELO_MX,
	OP_CHECK_HELO_A,
	OP_CHECK_HELO_NS,
	OP_CHECK_SENDER_MX,
	OP_CHECK_SENDER_A,
	OP_CHECK_SENDER_NS,
	OP_CHECK_RECIPIENT_MX,
	OP_CHECK_RECIPIENT_A,
	OP_CHECK_RECIPIENT_NS,
	OP_REJECT_PLAINTEXT,
	OP_CHECK_SASL,
	OP_PERMIT_MX_BACKUP,
	OP_REJECT_RHSBL_REVERSE_CLIENT,
	OP_PERMIT_RHSWL_CLIENT,
	OP_CHECK_REVERSE_CLIENT,
	OP_CHECK_REVERSE_CLIENT_MX,
	OP_CHECK_REVERSE_CLIENT_NS,
	OP_REJECT_SPF_FAIL,
};

enum arg { ARG_NONE, ARG_TABLE, ARG_SECONDS, ARG_ZONE, ARG_POLICY };

static const struct restriction {
	const char *name;
	enum op op;
	enum arg arg;
} restrictions[] = {
    {"permit", OP_PERMIT, ARG_NONE},
    {"reject", OP_REJECT, ARG_NONE},
    {"defer", OP_DEFER, ARG_NONE},
    {"dunno", OP_DUNNO, ARG_NONE},
    {"defer_if_permit", OP_DEFER_IF_PERMIT, ARG_NONE},
    {"defer_if_reject", OP_DEFER_IF_REJECT, ARG_NONE},
    {"warn_if_reject", OP_WARN_IF_REJECT, ARG_NONE},
    {"sleep", OP_SLEEP, ARG_SECONDS},
    {"permit_mynetworks", OP_PERMIT_MYNETWORKS, ARG_NONE},
    {"permit_sasl_authenticated", OP_PERMIT_SASL, ARG_NONE},
    {"permit_tls_clientcerts", OP_PERMIT_TLS_CLIENTCERTS, ARG_NONE},
    {"permit_tls_all_clientcerts", OP_PERMIT_TLS_ALL_CLIENTCERTS, ARG_NONE},
    {"permit_auth_destination", OP_PERMIT_AUTH_DEST, ARG_NONE},
    {"reject_unauth_destination", OP_REJECT_UNAUTH_DEST, ARG_NONE},
    {"defer_unauth_destination", OP_DEFER_UNAUTH_DEST, ARG_NONE},
    {"reject_unauth_pipelining", OP_REJECT_UNAUTH_PIPELINING, ARG_NONE},
    {"reject_invalid_helo_hostname", OP_REJECT_INVALID_HELO, ARG_NONE},
    {"reject_invalid_hostname", OP_REJECT_INVALID_HELO, ARG_NONE},
    {"reject_non_fqdn_helo_hostname", OP_REJECT_NON_FQDN_HELO, ARG_NONE},
    {"reject_non_fqdn_hostname", OP_REJECT_NON_FQDN_HELO, ARG_NONE},
    {"reject_non_fqdn_sender", OP_REJECT_NON_FQDN_SENDER, ARG_NONE},
    {"reject_non_fqdn_recipient", OP_REJECT_NON_FQDN_RCPT, ARG_NONE},
    {"reject_unlisted_sender", OP_REJECT_UNLISTED_SENDER, ARG_NONE},
    {"reject_unlisted_recipient", OP_REJECT_UNLISTED_RCPT, ARG_NONE},
    {"check_recipient_maps", OP_REJECT_UNLISTED_RCPT, ARG_NONE},
    {"reject_sender_login_mismatch", OP_REJECT_SENDER_LOGIN_MISMATCH, ARG_NONE},
    {"reject_authenticated_sender_login_mismatch",
     OP_REJECT_AUTH_SENDER_LOGIN_MISMATCH, ARG_NONE},
    {"reject_known_sender_login_mismatch",
     OP_REJECT_KNOWN_SENDER_LOGIN_MISMATCH, ARG_NONE},
    {"reject_unauthenticated_sender_login_mismatch",
     OP_REJECT_UNAUTH_SENDER_LOGIN_MISMATCH, ARG_NONE},
    {"reject_multi_recipient_bounce", OP_REJECT_MULTI_RCPT_BOUNCE, ARG_NONE},
    {"check_client_access", OP_CHECK_CLIENT, ARG_TABLE},
    {"check_ccert_access", OP_CHECK_CCERT, ARG_TABLE},
    {"check_helo_access", OP_CHECK_HELO, ARG_TABLE},
    {"check_etrn_access", OP_CHECK_ETRN, ARG_TABLE},
    {"check_sender_access", OP_CHECK_SENDER, ARG_TABLE},
    {"check_recipient_access", OP_CHECK_RECIPIENT, ARG_TABLE},
    {"check_policy_service", OP_CHECK_POLICY, ARG_POLICY},
    {"check_client_mx_access", OP_CHECK_CLIENT_MX, ARG_TABLE},
    {"check_client_a_access", OP_CHECK_CLIENT_A, ARG_TABLE},
    {"check_client_ns_access", OP_CHECK_CLIENT_NS, ARG_TABLE},
    {"check_helo_mx_access", OP_CHECK_HELO_MX, ARG_TABLE},
    {"check_helo_a_access", OP_CHECK_HELO_A, ARG_TABLE},
    {"check_helo_ns_access", OP_CHECK_HELO_NS, ARG_TABLE},
    {"check_sender_mx_access", OP_CHECK_SENDER_MX, ARG_TABLE},
    {"check_sender_a_access", OP_CHECK_SENDER_A, ARG_TABLE},
    {"check_sender_ns_access", OP_CHECK_SENDER_NS, ARG_TABLE},
    {"check_recipient_mx_access", OP_CHECK_RECIPIENT_MX, ARG_TABLE},
    {"check_recipient_a_access", OP_CHECK_RECIPIENT_A, ARG_TABLE},
    {"check_recipient_ns_access", OP_CHECK_RECIPIENT_NS, ARG_TABLE},
    {"reject_rbl_client", OP_REJECT_RBL_CLIENT, ARG_ZONE},
    {"reject_rhsbl_client", OP_REJECT_RHSBL_CLIENT, ARG_ZONE},
    {"reject_rhsbl_sender", OP_REJECT_RHSBL_SENDER, ARG_ZONE},
    {"reject_rhsbl_helo", OP_REJECT_RHSBL_HELO, ARG_ZONE},
    {"reject_rhsbl_recipient", OP_REJECT_RHSBL_RCPT, ARG_ZONE},
    {"permit_dnswl_client", OP_PERMIT_DNSWL_CLIENT, ARG_ZONE},
    {"reject_unknown_sender_domain", OP_REJECT_UNKNOWN_SENDER_DOMAIN, ARG_NONE},
    {"reject_unknown_recipient_domain", OP_REJECT_UNKNOWN_RCPT_DOMAIN,
     ARG_NONE},
    {"reject_unknown_helo_hostname", OP_REJECT_UNKNOWN_HELO, ARG_NONE},
    {"reject_unknown_hostname", OP_REJECT_UNKNOWN_HELO, ARG_NONE},
    {"reject_unknown_client_hostname", OP_REJECT_UNKNOWN_CLIENT, ARG_NONE},
    {"reject_unknown_client", OP_REJECT_UNKNOWN_CLIENT, ARG_NONE},
    {"reject_unknown_reverse_client_hostname", OP_REJECT_UNKNOWN_REVERSE_CLIENT,
     ARG_NONE},
    {"reject_plaintext_session", OP_REJECT_PLAINTEXT, ARG_NONE},
    {"check_sasl_access", OP_CHECK_SASL, ARG_TABLE},
    {"permit_mx_backup", OP_PERMIT_MX_BACKUP, ARG_NONE},
    {"reject_rhsbl_reverse_client", OP_REJECT_RHSBL_REVERSE_CLIENT, ARG_ZONE},
    {"permit_rhswl_client", OP_PERMIT_RHSWL_CLIENT, ARG_ZONE},
    {"check_reverse_client_hostname_access", OP_CHECK_REVERSE_CLIENT,
     ARG_TABLE},
    {"check_reverse_client_hostname_mx_access", OP_CHECK_REVERSE_CLIENT_MX,
     ARG_TABLE},
    {"check_reverse_client_hostname_ns_access", OP_CHECK_REVERSE_CLIENT_NS,
     ARG_TABLE},
    /* Panacea's own: Postfix has no SPF (smtpd_spf.c). */
    {"reject_spf_fail", OP_REJECT_SPF_FAIL, ARG_NONE},
    {NULL, 0, 0},
};

/* Postfix's restrictions Panacea does not have yet: named in the start-up
 * error so that an administrator knows it is missing, not misspelt. */
static const char *const not_supported[] = {
    "check_relay_domains",
    "reject_unverified_sender",
    "reject_unverified_recipient",
    "reject_unauth_sender_login_mismatch",
    "reject_maps_rbl",
    "reject_unlisted_sender_login",
    NULL,
};

struct item {
	enum op op;
	char *arg;	   /* the table spec, for logs */
	struct maps *maps; /* ARG_TABLE */
	int pattern;	   /* cidr, regexp, pcre: one lookup of the key */
	int cidr;	   /* addresses only */
	long seconds;	   /* ARG_SECONDS */
	int cls;	   /* OP_CLASS: index into classes */
	char *zone;	   /* ARG_ZONE: the domain, without "=filter" */
	unsigned char (*filter)[32]; /* ARG_ZONE: 4 octet sets, or NULL */
	struct smtpd_policy_service *policy; /* ARG_POLICY */
};

struct rlist {
	struct item *items;
	size_t count;
};

enum stage {
	ST_CLIENT,
	ST_HELO,
	ST_SENDER,
	ST_RELAY,
	ST_RECIPIENT,
	ST_DATA,
	ST_EOD,
	ST_ETRN,
	ST_MAX
};

static const char *const stage_params[ST_MAX] = {
    "smtpd_client_restrictions",      "smtpd_helo_restrictions",
    "smtpd_sender_restrictions",      "smtpd_relay_restrictions",
    "smtpd_recipient_restrictions",   "smtpd_data_restrictions",
    "smtpd_end_of_data_restrictions", "smtpd_etrn_restrictions",
};

static struct {
	int loaded;
	struct rlist stages[ST_MAX];
	char **class_names;
	int nclasses;
	struct rlist *classes;
	struct maps *login_maps;	/* smtpd_sender_login_maps */
	struct maps *rbl_maps;		/* rbl_reply_maps */
	struct maps *ccert_maps;	/* relay_clientcerts */
	struct match_list *mx_networks; /* permit_mx_backup_networks */
	const char *rbl_reply;		/* default_rbl_reply, unexpanded */
	int delay_reject;
	int unlisted_sender, unlisted_recipient;
	const char *null_key;
	const char *footer;
	long long reject_code, defer_code, relay_code, access_reject_code,
	    access_defer_code, invalid_hostname_code, non_fqdn_code,
	    multi_bounce_code, unknown_local_code, rbl_code,
	    unknown_virtual_code, unknown_mailbox_code, unknown_relay_code,
	    unknown_address_code, unknown_client_code, unknown_hostname_code,
	    plaintext_code;
} cfg;

/* What a session keeps: the sender, the transaction's actions and a
 * refusal at connect. */
struct smtpd_access {
	struct addr sender;
	int have_sender;
	char *denied; /* smtpd_delay_reject = no: the client was refused */
	int hold, discard;
	struct buf hold_log, discard_log, redirect_log, bcc_log, filter_log;
	char *redirect, *bcc, *filter;
	struct buf prepend;
	char instance[64];  /* the policy protocol's, per transaction */
	char *reverse_name; /* the client's PTR name, asked once */
};

/* ---------------------------------------------------------------- */
/* Parsing */

/* The next word of a list: separated by commas and white space, a "{
 * ... }" group is one word (without its braces), a "type:{ ... }" table
 * keeps them.  NULL at the end; -1 in *bad for unbalanced braces. */
static char *
next_word(const char **pp, int *bad)
{
	const char *p = *pp, *start;
	int depth = 0;

	while (*p && (isspace((unsigned char)*p) || *p == ','))
		p++;
	if (*p == '\0') {
		*pp = p;
		return NULL;
	}
	start = p;
	for (; *p; p++) {
		if (*p == '{')
			depth++;
		else if (*p == '}' && --depth < 0)
			break;
		else if (depth == 0 &&
			 (isspace((unsigned char)*p) || *p == ','))
			break;
	}
	if (depth != 0) {
		*bad = 1;
		*pp = p + (*p != '\0');
		return NULL;
	}
	*pp = p;
	if (*start == '{' && p[-1] == '}') {
		char *w = xstrndup(start + 1, (size_t)(p - start - 2));
		char *t = str_trim(w);
		memmove(w, t, strlen(t) + 1);
		return w;
	}
	return xstrndup(start, (size_t)(p - start));
}

static int
class_index(const char *name)
{
	for (int i = 0; i < cfg.nclasses; i++)
		if (strcmp(cfg.class_names[i], name) == 0)
			return i;
	return -1;
}

static const struct restriction *
restriction_find(const char *name)
{
	for (const struct restriction *r = restrictions; r->name; r++)
		if (strcmp(r->name, name) == 0)
			return r;
	return NULL;
}

/* The type of a table, through proxy:. */
static void
table_kind(const char *spec, struct item *it)
{
	if (strncmp(spec, "proxy:", 6) == 0)
		spec += 6;
	it->cidr = strncmp(spec, "cidr:", 5) == 0;
	it->pattern = it->cidr || strncmp(spec, "regexp:", 7) == 0 ||
		      strncmp(spec, "pcre:", 5) == 0;
}

/* "domain[=filter]" of a DNS list restriction. */
static int
zone_parse(const char *a, struct item *it, struct buf *err)
{
	const char *eq = strchr(a, '=');

	it->zone = xstrndup(a, eq ? (size_t)(eq - a) : strlen(a));
	if (!dns_name_valid(it->zone)) {
		buf_printf(err, "\"%s\" is not a DNS domain", it->zone);
		return -1;
	}
	if (eq) {
		it->filter = xcalloc(4, 32);
		if (dnsbl_filter_parse(eq + 1, it->filter) < 0) {
			buf_printf(err,
				   "\"%s\": bad reply filter (d.d.d.d, where d "
				   "is n, [n..m] or [n;m;...])",
				   a);
			return -1;
		}
	}
	return 0;
}

static void
rlist_free(struct rlist *l)
{
	for (size_t i = 0; i < l->count; i++) {
		xfree(l->items[i].arg);
		xfree(l->items[i].zone);
		xfree(l->items[i].filter);
		smtpd_policy_free(l->items[i].policy);
		if (l->items[i].maps)
			maps_close(l->items[i].maps);
	}
	xfree(l->items);
	l->items = NULL;
	l->count = 0;
}

/*
 * Parses value into l; 0, or -1 with the message in err.  tables: open
 * the tables of check_*_access (before the jail); a list parsed from a
 * table's value at run time may not open tables.
 */
static int
rlist_parse(const char *value, int tables, struct rlist *l, struct buf *err)
{
	const char *p = value;
	char *w;
	int bad = 0;

	memset(l, 0, sizeof(*l));
	while ((w = next_word(&p, &bad)) != NULL) {
		const struct restriction *r = restriction_find(w);
		struct item it;

		memset(&it, 0, sizeof(it));
		if (r == NULL) {
			int c = class_index(w);
			if (c < 0) {
				int known = 0;
				for (int i = 0; not_supported[i]; i++)
					known |=
					    strcmp(not_supported[i], w) == 0;
				buf_printf(err,
					   known ? "restriction \"%s\" is not "
						   "supported by Panacea yet"
						 : "unknown restriction \"%s\"",
					   w);
				xfree(w);
				goto fail;
			}
			it.op = OP_CLASS;
			it.cls = c;
		} else {
			it.op = r->op;
		}
		if (r && r->arg != ARG_NONE) {
			char *a = next_word(&p, &bad);
			char *end;

			if (a == NULL && bad) {
				buf_puts(err, "unbalanced braces");
				xfree(w);
				goto fail;
			}
			if (a == NULL) {
				buf_printf(err, "%s needs %s", w,
					   r->arg == ARG_TABLE	? "a type:table"
					   : r->arg == ARG_ZONE ? "a DNS domain"
					   : r->arg == ARG_POLICY
					       ? "a policy service"
					       : "a number of "
						 "seconds");
				xfree(w);
				goto fail;
			}
			if (r->arg == ARG_POLICY) {
				if ((it.policy = smtpd_policy_parse(a, err)) ==
				    NULL) {
					xfree(a);
					xfree(w);
					goto fail;
				}
				it.arg = a;
			} else if (r->arg == ARG_ZONE) {
				if (zone_parse(a, &it, err) < 0) {
					xfree(it.zone);
					xfree(it.filter);
					xfree(a);
					xfree(w);
					goto fail;
				}
				it.arg = a;
			} else if (r->arg == ARG_SECONDS) {
				it.seconds = strtol(a, &end, 10);
				if (end == a || *end || it.seconds < 0 ||
				    it.seconds > 3600) {
					buf_printf(err,
						   "%s: bad number of seconds "
						   "\"%s\"",
						   w, a);
					xfree(a);
					xfree(w);
					goto fail;
				}
				xfree(a);
			} else if (!tables) {
				buf_printf(err,
					   "%s %s: a table cannot be opened "
					   "from a table's value",
					   w, a);
				xfree(a);
				xfree(w);
				goto fail;
			} else {
				if (strchr(a, ':') == NULL ||
				    maps_check(a, err) < 0 ||
				    !(it.maps = maps_open(a, err))) {
					if (err->len == 0)
						buf_printf(err,
							   "%s: \"%s\" is not "
							   "a type:table",
							   w, a);
					xfree(a);
					xfree(w);
					goto fail;
				}
				table_kind(a, &it);
				it.arg = a;
			}
		}
		xfree(w);
		l->items = xreallocarray(l->items, l->count + 1, sizeof(it));
		l->items[l->count++] = it;
	}
	if (bad) {
		buf_puts(err, "unbalanced braces");
		goto fail;
	}
	return 0;
fail:
	rlist_free(l);
	return -1;
}

static int
rlist_has(const struct rlist *l, enum op a, enum op b, enum op c, enum op d)
{
	for (size_t i = 0; i < l->count; i++) {
		enum op o = l->items[i].op;
		if (o == a || o == b || o == c || o == d)
			return 1;
	}
	return 0;
}

static long long
code_param(const char *name, int first)
{
	long long v = conf_int(name);

	if (v < 100 * first || v > 100 * first + 99)
		msg_fatal("%s: %lld is not a %dXX reply code", name, v, first);
	return v;
}

static long long
code_param45(const char *name)
{
	long long v = conf_int(name);

	if (v < 400 || v > 599)
		msg_fatal("%s: %lld is not a 4XX or 5XX reply code", name, v);
	return v;
}

void
smtpd_restrict_init(void)
{
	struct buf err = BUF_INIT;
	const char *v;

	smtpd_restrict_end();
	cfg.delay_reject = conf_bool("smtpd_delay_reject");
	cfg.unlisted_sender = conf_bool("smtpd_reject_unlisted_sender");
	cfg.unlisted_recipient = conf_bool("smtpd_reject_unlisted_recipient");
	cfg.null_key = conf_str("smtpd_null_access_lookup_key");
	cfg.footer = conf_str("smtpd_reject_footer");
	cfg.reject_code = code_param45("reject_code");
	cfg.defer_code = code_param("defer_code", 4);
	cfg.relay_code = code_param45("relay_domains_reject_code");
	cfg.access_reject_code = code_param45("access_map_reject_code");
	cfg.access_defer_code = code_param("access_map_defer_code", 4);
	cfg.invalid_hostname_code =
	    code_param45("invalid_hostname_reject_code");
	cfg.non_fqdn_code = code_param45("non_fqdn_reject_code");
	cfg.multi_bounce_code =
	    code_param45("multi_recipient_bounce_reject_code");
	cfg.unknown_local_code =
	    code_param45("unknown_local_recipient_reject_code");
	cfg.unknown_virtual_code =
	    code_param45("unknown_virtual_alias_reject_code");
	cfg.unknown_mailbox_code =
	    code_param45("unknown_virtual_mailbox_reject_code");
	cfg.unknown_relay_code =
	    code_param45("unknown_relay_recipient_reject_code");
	cfg.rbl_code = code_param45("maps_rbl_reject_code");
	cfg.unknown_address_code = code_param45("unknown_address_reject_code");
	cfg.unknown_client_code = code_param45("unknown_client_reject_code");
	cfg.unknown_hostname_code =
	    code_param45("unknown_hostname_reject_code");
	cfg.plaintext_code = code_param45("plaintext_reject_code");
	/* Its $rbl_* names are the lookup's, filled in at each refusal. */
	cfg.rbl_reply = conf_raw("default_rbl_reply");

	/* The class names first: a list may name a class defined later. */
	cfg.class_names = str_split(conf_str("smtpd_restriction_classes"),
				    ", \t\r\n", &cfg.nclasses);
	cfg.classes = xcalloc((size_t)cfg.nclasses + 1, sizeof(struct rlist));
	for (int i = 0; i < cfg.nclasses; i++) {
		const char *name = cfg.class_names[i];
		if (restriction_find(name))
			msg_fatal("smtpd_restriction_classes: \"%s\" is the "
				  "name of a restriction",
				  name);
		if ((v = conf_lookup(name)) == NULL)
			msg_fatal("smtpd_restriction_classes: restriction "
				  "class \"%s\" is not defined",
				  name);
		if (rlist_parse(v, 1, &cfg.classes[i], &err) < 0)
			msg_fatal("%s: %s", name, buf_cstr(&err));
	}
	for (int s = 0; s < ST_MAX; s++)
		if (rlist_parse(conf_str(stage_params[s]), 1, &cfg.stages[s],
				&err) < 0)
			msg_fatal("%s: %s", stage_params[s], buf_cstr(&err));
	/* Never an open relay by mistake, as Postfix refuses to start. */
	if (!rlist_has(&cfg.stages[ST_RELAY], OP_REJECT_UNAUTH_DEST,
		       OP_DEFER_UNAUTH_DEST, OP_REJECT, OP_DEFER) &&
	    !rlist_has(&cfg.stages[ST_RECIPIENT], OP_REJECT_UNAUTH_DEST,
		       OP_DEFER_UNAUTH_DEST, OP_REJECT, OP_DEFER))
		msg_fatal("smtpd_relay_restrictions and "
			  "smtpd_recipient_restrictions: one of them must "
			  "have reject_unauth_destination, "
			  "defer_unauth_destination, reject or defer");
	v = conf_str("smtpd_sender_login_maps");
	if (*v &&
	    (maps_check(v, &err) < 0 || !(cfg.login_maps = maps_open(v, &err))))
		msg_fatal("smtpd_sender_login_maps: %s", buf_cstr(&err));
	v = conf_str("rbl_reply_maps");
	if (*v &&
	    (maps_check(v, &err) < 0 || !(cfg.rbl_maps = maps_open(v, &err))))
		msg_fatal("rbl_reply_maps: %s", buf_cstr(&err));
	v = conf_str("permit_mx_backup_networks");
	if (*v && !(cfg.mx_networks =
			match_list_open("permit_mx_backup_networks", v, &err)))
		msg_fatal("%s", buf_cstr(&err));
	v = conf_str("relay_clientcerts");
	if (*v &&
	    (maps_check(v, &err) < 0 || !(cfg.ccert_maps = maps_open(v, &err))))
		msg_fatal("relay_clientcerts: %s", buf_cstr(&err));
	cfg.loaded = 1;
	buf_free(&err);
}

int
smtpd_restrict_check(const char *value, struct buf *err)
{
	struct rlist l;

	if (rlist_parse(value, 1, &l, err) < 0)
		return -1;
	rlist_free(&l);
	return 0;
}

/* The spec of the first table of a list whose file changed, or NULL. */
static const char *
rlist_changed(const struct rlist *l)
{
	for (size_t i = 0; i < l->count; i++)
		if (l->items[i].maps && maps_changed(l->items[i].maps))
			return l->items[i].arg;
	return NULL;
}

const char *
smtpd_restrict_changed(void)
{
	const char *name = NULL;

	for (int s = 0; s < ST_MAX && name == NULL; s++)
		name = rlist_changed(&cfg.stages[s]);
	for (int i = 0; i < cfg.nclasses && name == NULL; i++)
		name = rlist_changed(&cfg.classes[i]);
	if (name == NULL && cfg.login_maps && maps_changed(cfg.login_maps))
		name = "smtpd_sender_login_maps";
	if (name == NULL && cfg.rbl_maps && maps_changed(cfg.rbl_maps))
		name = "rbl_reply_maps";
	if (name == NULL && cfg.ccert_maps && maps_changed(cfg.ccert_maps))
		name = "relay_clientcerts";
	return name;
}

void
smtpd_restrict_end(void)
{
	for (int s = 0; s < ST_MAX; s++)
		rlist_free(&cfg.stages[s]);
	for (int i = 0; i < cfg.nclasses; i++)
		rlist_free(&cfg.classes[i]);
	xfree(cfg.classes);
	if (cfg.class_names)
		str_list_free(cfg.class_names);
	if (cfg.login_maps)
		maps_close(cfg.login_maps);
	if (cfg.rbl_maps)
		maps_close(cfg.rbl_maps);
	if (cfg.ccert_maps)
		maps_close(cfg.ccert_maps);
	if (cfg.mx_networks)
		match_list_free(cfg.mx_networks);
	memset(&cfg, 0, sizeof(cfg));
}

/* ---------------------------------------------------------------- */
/* Access table values */

void
smtpd_access_parse(const char *value, struct smtpd_access_action *a)
{
	static const struct {
		const char *word;
		enum smtpd_access_kind kind;
	} words[] = {
	    {"OK", SMTPD_ACCESS_OK},
	    {"DUNNO", SMTPD_ACCESS_DUNNO},
	    {"REJECT", SMTPD_ACCESS_REJECT},
	    {"DEFER", SMTPD_ACCESS_DEFER},
	    {"DEFER_IF_REJECT", SMTPD_ACCESS_DEFER_IF_REJECT},
	    {"DEFER_IF_PERMIT", SMTPD_ACCESS_DEFER_IF_PERMIT},
	    {"HOLD", SMTPD_ACCESS_HOLD},
	    {"DISCARD", SMTPD_ACCESS_DISCARD},
	    {"FILTER", SMTPD_ACCESS_FILTER},
	    {"REDIRECT", SMTPD_ACCESS_REDIRECT},
	    {"BCC", SMTPD_ACCESS_BCC},
	    {"PREPEND", SMTPD_ACCESS_PREPEND},
	    {"WARN", SMTPD_ACCESS_WARN},
	    {"INFO", SMTPD_ACCESS_INFO},
	};
	size_t n;

	while (isspace((unsigned char)*value))
		value++;
	a->kind = SMTPD_ACCESS_RESTRICTIONS;
	a->code = 0;
	a->text = value;
	/* An all-numerical value is OK (pop-before-smtp's tables). */
	n = strspn(value, "0123456789");
	if (n > 0 && value[n] == '\0') {
		a->kind = SMTPD_ACCESS_OK;
		a->text = "";
		return;
	}
	if (n == 3 && (value[0] == '4' || value[0] == '5') &&
	    (value[3] == ' ' || value[3] == '\t')) {
		a->kind = SMTPD_ACCESS_CODE;
		a->code = atoi(value);
		for (a->text = value + 3; isspace((unsigned char)*a->text);)
			a->text++;
		return;
	}
	n = strcspn(value, " \t");
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strlen(words[i].word) == n &&
		    str_ncasecmp(value, words[i].word, n) == 0) {
			a->kind = words[i].kind;
			for (a->text = value + n;
			     isspace((unsigned char)*a->text);)
				a->text++;
			return;
		}
	}
}

/* ---------------------------------------------------------------- */
/* Evaluation */

enum res { R_DUNNO, R_PERMIT, R_REJECT };

struct eval {
	struct smtpd_session *ss;
	struct smtpd_access *acc;
	const char *cmd;	 /* for the log: "RCPT", "CONNECT", ... */
	const struct addr *rcpt; /* RCPT only */
	const char *etrn;	 /* ETRN only: the site */
	struct buf *reply;
	int warn; /* warn_if_reject before the current item */
	int depth;
	struct buf dip, dir; /* defer_if_permit, defer_if_reject replies */
	int eod;	     /* end of data: too late for PREPEND */
};

static struct smtpd_access *
access_of(struct smtpd_session *ss)
{
	if (ss->access == NULL) {
		ss->access = xcalloc(1, sizeof(*ss->access));
		buf_init(&ss->access->hold_log);
		buf_init(&ss->access->discard_log);
		buf_init(&ss->access->redirect_log);
		buf_init(&ss->access->bcc_log);
		buf_init(&ss->access->filter_log);
		buf_init(&ss->access->prepend);
	}
	return ss->access;
}

static const char *
rcpt_text(const struct eval *e)
{
	return e->rcpt ? e->rcpt->addr : NULL;
}

/* "CODE X.Y.Z text": the DSN is the one text starts with when its class
 * is the code's, else dsn with its class made the code's. */
static void format_reply(struct buf *out, int code, const char *dsn,
			 const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void
format_reply(struct buf *out, int code, const char *dsn, const char *fmt, ...)
{
	va_list ap;

	buf_reset(out);
	buf_printf(out, "%d %c%s ", code, '0' + code / 100, dsn + 1);
	va_start(ap, fmt);
	buf_vprintf(out, fmt, ap);
	va_end(ap);
}

/* "CODE [X.Y.Z] text" from a table: the text's own DSN when it has one
 * of the right class. */
static void
format_table_reply(struct buf *out, int code, const char *dsn, const char *name,
		   const char *klass, const char *text)
{
	char own[16];
	size_t n = 0;

	if (text[0] == '0' + code / 100 && text[1] == '.' &&
	    (n = strspn(text + 2, "0123456789")) > 0 && n <= 3 &&
	    text[2 + n] == '.' && strspn(text + 3 + n, "0123456789") > 0) {
		size_t m = 3 + n + strspn(text + 3 + n, "0123456789");
		if (m < sizeof(own) && (text[m] == ' ' || text[m] == '\0')) {
			memcpy(own, text, m);
			own[m] = '\0';
			dsn = own;
			text += m;
			while (*text == ' ')
				text++;
		}
	}
	format_reply(out, code, dsn, "<%s>: %s rejected: %s", name, klass,
		     *text ? text : "Access denied");
}

/* A refusal: a warning under warn_if_reject, the defer_if_reject reply
 * when one is armed, else the reply. */
static enum res
refuse(struct eval *e, struct buf *r)
{
	if (e->warn) {
		smtpd_log_action(e->ss, NULL, "reject_warning", e->cmd,
				 buf_cstr(r), rcpt_text(e));
		return R_DUNNO;
	}
	if (e->dir.len && buf_cstr(r)[0] == '5')
		buf_set(e->reply, buf_cstr(&e->dir));
	else
		buf_set(e->reply, buf_cstr(r));
	return R_REJECT;
}

static enum res refuse_fmt(struct eval *e, int code, const char *dsn,
			   const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static enum res
refuse_fmt(struct eval *e, int code, const char *dsn, const char *fmt, ...)
{
	struct buf r = BUF_INIT;
	va_list ap;
	enum res res;

	buf_printf(&r, "%d %c%s ", code, '0' + code / 100, dsn + 1);
	va_start(ap, fmt);
	buf_vprintf(&r, fmt, ap);
	va_end(ap);
	res = refuse(e, &r);
	buf_free(&r);
	return res;
}

static enum res
config_error(struct eval *e, const char *name, const char *klass)
{
	return refuse_fmt(e, 451, "4.3.5",
			  "<%s>: %s rejected: Server configuration error", name,
			  klass);
}

static enum res eval_list(struct eval *e, const struct rlist *l,
			  const char *name, const char *klass);

/* The deferred log line of an action that the queue id names. */
static void
action_log(struct eval *e, struct buf *log, const char *action,
	   const char *name, const char *klass, const char *text,
	   const char *what)
{
	struct buf t = BUF_INIT;

	if (*text)
		buf_printf(&t, "<%s>: %s %s", name, klass, text);
	else
		buf_printf(&t, "<%s>: %s triggers %s", name, klass, what);
	buf_reset(log);
	smtpd_format_action(log, e->ss, action, e->cmd, buf_cstr(&t),
			    rcpt_text(e));
	buf_free(&t);
}

/* A header line for PREPEND: "name: value", printable. */
static int
header_ok(const char *h)
{
	const char *p = h;

	while (*p > ' ' && *p < 127 && *p != ':')
		p++;
	if (p == h || *p != ':')
		return 0;
	for (; *p; p++)
		if ((unsigned char)*p < ' ' && *p != '\t')
			return 0;
	return 1;
}

/* What a table's value makes of the request. */
static enum res
table_result(struct eval *e, const struct item *it, const char *value,
	     const char *name, const char *klass)
{
	struct smtpd_access_action a;
	struct buf r = BUF_INIT, err = BUF_INIT;
	struct smtpd_access *acc = e->acc;
	enum res res = R_DUNNO;
	struct rlist sub;
	int c;

	smtpd_access_parse(value, &a);
	switch (a.kind) {
	case SMTPD_ACCESS_OK:
		res = R_PERMIT;
		break;
	case SMTPD_ACCESS_DUNNO:
		break;
	case SMTPD_ACCESS_REJECT:
		format_table_reply(&r, (int)cfg.access_reject_code, "5.7.1",
				   name, klass, a.text);
		res = refuse(e, &r);
		break;
	case SMTPD_ACCESS_DEFER:
		format_table_reply(&r, (int)cfg.access_defer_code, "4.7.1",
				   name, klass, a.text);
		res = refuse(e, &r);
		break;
	case SMTPD_ACCESS_CODE:
		format_table_reply(&r, a.code, a.code < 500 ? "4.7.1" : "5.7.1",
				   name, klass, a.text);
		res = refuse(e, &r);
		break;
	case SMTPD_ACCESS_DEFER_IF_REJECT:
		format_table_reply(&e->dir, (int)cfg.access_defer_code, "4.7.1",
				   name, klass, a.text);
		break;
	case SMTPD_ACCESS_DEFER_IF_PERMIT:
		format_table_reply(&e->dip, (int)cfg.access_defer_code, "4.7.1",
				   name, klass, a.text);
		break;
	case SMTPD_ACCESS_HOLD:
		acc->hold = 1;
		action_log(e, &acc->hold_log, "hold", name, klass, a.text,
			   "HOLD action");
		break;
	case SMTPD_ACCESS_DISCARD:
		acc->discard = 1;
		action_log(e, &acc->discard_log, "discard", name, klass, a.text,
			   "DISCARD action");
		res = R_PERMIT;
		break;
	case SMTPD_ACCESS_REDIRECT:
	case SMTPD_ACCESS_BCC: {
		char **to =
		    a.kind == SMTPD_ACCESS_BCC ? &acc->bcc : &acc->redirect;
		struct buf what = BUF_INIT;
		if (*a.text == '\0' || strchr(a.text, ' ') ||
		    strlen(a.text) > ADDR_PATH_MAX) {
			msg_warn("%s: bad %s address \"%s\"", it->arg,
				 a.kind == SMTPD_ACCESS_BCC ? "BCC"
							    : "REDIRECT",
				 a.text);
			res = config_error(e, name, klass);
			break;
		}
		xfree(*to);
		*to = xstrdup(a.text);
		buf_printf(&what, "%s %s",
			   a.kind == SMTPD_ACCESS_BCC ? "BCC" : "REDIRECT",
			   a.text);
		action_log(e,
			   a.kind == SMTPD_ACCESS_BCC ? &acc->bcc_log
						      : &acc->redirect_log,
			   a.kind == SMTPD_ACCESS_BCC ? "bcc" : "redirect",
			   name, klass, "", buf_cstr(&what));
		buf_free(&what);
		break;
	}
	case SMTPD_ACCESS_PREPEND:
		if (!header_ok(a.text) || e->eod) {
			msg_warn("%s: PREPEND \"%s\": %s", it->arg, a.text,
				 e->eod ? "not possible at end of "
					  "data"
					: "not a header line");
			res = config_error(e, name, klass);
			break;
		}
		buf_printf(&acc->prepend, "%s\r\n", a.text);
		break;
	case SMTPD_ACCESS_WARN:
	case SMTPD_ACCESS_INFO:
		smtpd_log_action(e->ss, NULL,
				 a.kind == SMTPD_ACCESS_WARN ? "warn" : "info",
				 e->cmd, a.text, rcpt_text(e));
		break;
	case SMTPD_ACCESS_FILTER: {
		struct buf what = BUF_INIT;

		if (!content_filter_valid(a.text)) {
			msg_warn("%s: bad FILTER value \"%s\": need "
				 "transport:destination",
				 it->arg, a.text);
			res = config_error(e, name, klass);
			break;
		}
		/* The last FILTER wins, as in Postfix. */
		xfree(acc->filter);
		acc->filter = xstrdup(a.text);
		buf_printf(&what, "FILTER %s", a.text);
		action_log(e, &acc->filter_log, "filter", name, klass, "",
			   buf_cstr(&what));
		buf_free(&what);
		break;
	}
	case SMTPD_ACCESS_RESTRICTIONS:
		/* A class name, or restrictions written in the value. */
		if ((c = class_index(value)) >= 0) {
			res = eval_list(e, &cfg.classes[c], name, klass);
			break;
		}
		if (rlist_parse(value, 0, &sub, &err) < 0 || sub.count == 0) {
			msg_warn("%s: value \"%s\": %s", it->arg, value,
				 err.len ? buf_cstr(&err) : "empty");
			res = config_error(e, name, klass);
			break;
		}
		res = eval_list(e, &sub, name, klass);
		rlist_free(&sub);
		break;
	}
	buf_free(&r);
	buf_free(&err);
	return res;
}

/* One lookup: 1 found (value), 0 not, -1 failed (the reply is set). */
static int
lookup(struct eval *e, const struct item *it, const char *key,
       struct buf *value, enum res *res, const char *name, const char *klass)
{
	struct buf err = BUF_INIT;
	int r = maps_lookup(it->maps, key, value, &err);

	if (r < 0) {
		msg_warn("%s: lookup of \"%s\": %s", it->arg, key,
			 buf_cstr(&err));
		*res = refuse_fmt(e, 451, "4.3.0",
				  "<%s>: %s rejected: Temporary lookup failure",
				  name, klass);
	}
	buf_free(&err);
	return r;
}

/* Looks key up, then (fixed-string tables) its parent domains; DUNNO
 * from the table stops the search, as in access(5). */
static int
lookup_domain(struct eval *e, const struct item *it, const char *domain,
	      struct buf *value, enum res *res, const char *name,
	      const char *klass)
{
	const char *d = domain;
	int r;

	for (;;) {
		if ((r = lookup(e, it, d, value, res, name, klass)) != 0)
			return r;
		if (it->pattern || (d = strchr(d + 1, '.')) == NULL)
			return 0;
		d++;
	}
}

/* check_client_access: the name and its parents, the address, then (for
 * fixed-string tables) its network prefixes: "1.2.3", "1.2", "1" and
 * "2001:db8:1", "2001:db8" as access(5) says. */
/* An address, then (fixed-string tables) its network prefixes. */
static int
lookup_address(struct eval *e, const struct item *it, const char *addr,
	       struct buf *value, enum res *res, const char *name,
	       const char *klass)
{
	char key[64], *cut;
	char sep = strchr(addr, ':') != NULL ? ':' : '.';
	int r = lookup(e, it, addr, value, res, name, klass);

	if (r != 0 || it->pattern)
		return r;
	snprintf(key, sizeof(key), "%s", addr);
	while (r == 0 && (cut = strrchr(key, sep)) != NULL) {
		*cut = '\0';
		/* "2001:db8::" loses its empty groups first. */
		while (cut > key && cut[-1] == ':')
			*--cut = '\0';
		if (*key == '\0')
			break;
		r = lookup(e, it, key, value, res, name, klass);
	}
	return r;
}

static enum res
check_client(struct eval *e, const struct item *it)
{
	struct smtpd_session *ss = e->ss;
	struct buf value = BUF_INIT, name = BUF_INIT;
	enum res res = R_DUNNO;
	int r = 0;

	buf_printf(&name, "%s[%s]", ss->client_name, ss->client_addr);
	if (!it->cidr && strcmp(ss->client_name, "unknown") != 0)
		r = lookup_domain(e, it, ss->client_name, &value, &res,
				  buf_cstr(&name), "Client host");
	if (r == 0)
		r = lookup_address(e, it, ss->client_addr, &value, &res,
				   buf_cstr(&name), "Client host");
	if (r > 0)
		res = table_result(e, it, buf_cstr(&value), buf_cstr(&name),
				   "Client host");
	buf_free(&value);
	buf_free(&name);
	return res;
}

/*
 * The client certificate's fingerprint, then its public key's (Postfix's
 * default search order), looked up in maps (relay_clientcerts) or in the
 * table of it (check_ccert_access).  Only a certificate the client
 * presented over TLS: its chain need not be trusted, the fingerprint is
 * what is listed.  1 found (value), 0 not, -1 failed (reply set).
 */
static int
lookup_ccert(struct eval *e, const struct item *it, struct maps *maps,
	     struct buf *value, enum res *res, const char *name)
{
	const struct tls_info *t = &e->ss->tls_info;
	const char *keys[] = {t->cert_fpt, t->pkey_fpt};
	int r = 0;

	if (!e->ss->tls_on || !t->peer_cert)
		return 0;
	for (size_t i = 0; i < 2 && r == 0; i++) {
		struct buf err = BUF_INIT;

		if (keys[i][0] == '\0')
			continue;
		if (it != NULL) {
			r = lookup(e, it, keys[i], value, res, name,
				   "Client certificate");
		} else if ((r = maps_lookup(maps, keys[i], value, &err)) < 0) {
			msg_warn("relay_clientcerts: lookup of \"%s\": %s",
				 keys[i], buf_cstr(&err));
			*res = refuse_fmt(e, 451, "4.3.0",
					  "<%s>: Client host rejected: "
					  "Temporary lookup failure",
					  name);
		}
		buf_free(&err);
	}
	return r;
}

static enum res
check_ccert(struct eval *e, const struct item *it, int relay_list)
{
	struct smtpd_session *ss = e->ss;
	struct buf value = BUF_INIT, name = BUF_INIT;
	enum res res = R_DUNNO;
	int r;

	if (relay_list && cfg.ccert_maps == NULL)
		return R_DUNNO;
	buf_printf(&name, "%s[%s]", ss->client_name, ss->client_addr);
	r = lookup_ccert(e, relay_list ? NULL : it, cfg.ccert_maps, &value,
			 &res, buf_cstr(&name));
	if (r > 0)
		res = relay_list
			  ? R_PERMIT
			  : table_result(e, it, buf_cstr(&value),
					 buf_cstr(&name), "Client certificate");
	buf_free(&value);
	buf_free(&name);
	return res;
}

/*
 * check_*_mx_access and check_*_a_access: the table is asked about the
 * domain's MX hosts (each name, then each of its addresses) or about
 * the domain's own addresses.  OK is not honoured there (a spammer
 * chooses his MX records), as in Postfix: it is a DUNNO with a warning.
 * A domain whose lookup fails is not refused.
 */
#define SERVER_NS_MAX 16

/* 1 MX hosts, 2 name servers, 0 the domain's own addresses. */
static int
server_kind(enum op op)
{
	switch (op) {
	case OP_CHECK_CLIENT_MX:
	case OP_CHECK_HELO_MX:
	case OP_CHECK_SENDER_MX:
	case OP_CHECK_RECIPIENT_MX:
		return 1;
	case OP_CHECK_CLIENT_NS:
	case OP_CHECK_HELO_NS:
	case OP_CHECK_SENDER_NS:
	case OP_CHECK_RECIPIENT_NS:
		return 2;
	default:
		return 0;
	}
}

static enum res
check_server(struct eval *e, const struct item *it, const char *domain, int mx,
	     const char *name, const char *klass)
{
	struct dns_mx_result mxr;
	char ns[SERVER_NS_MAX][DNS_NAME_MAX + 1];
	struct buf value = BUF_INIT;
	enum res res = R_DUNNO;
	size_t nhosts = 1;
	int r = 0;

	if (domain == NULL || domain[0] == '\0' || domain[0] == '[' ||
	    !dns_name_valid(domain))
		return R_DUNNO;
	if (mx == 1) {
		if (dns_lookup_mx(domain, &mxr, NULL) != DNS_OK)
			return R_DUNNO;
		nhosts = mxr.count;
	} else if (mx == 2) {
		/* The zone's servers: the domain's, else its parents'. */
		const char *d = domain;
		int status;
		while ((status = dns_lookup_ns(d, ns, SERVER_NS_MAX, &nhosts,
					       NULL)) != DNS_OK) {
			if (status == DNS_TEMPFAIL ||
			    (d = strchr(d, '.')) == NULL ||
			    strchr(++d, '.') == NULL)
				return R_DUNNO;
		}
	}
	for (size_t h = 0; h < nhosts && r == 0; h++) {
		const char *host = mx == 1   ? mxr.mx[h].host
				   : mx == 2 ? ns[h]
					     : domain;
		struct dns_addr_list addrs;

		if (mx && !it->cidr)
			r = lookup_domain(e, it, host, &value, &res, name,
					  klass);
		if (r != 0 ||
		    dns_lookup_addr(host, DNS_INET_ALL, &addrs, NULL) != DNS_OK)
			continue;
		for (size_t i = 0; i < addrs.count && r == 0; i++) {
			char ip[INET6_ADDRSTRLEN];
			sock_addr_text((const struct sockaddr *)&addrs.addr[i],
				       ip, sizeof(ip));
			r = lookup_address(e, it, ip, &value, &res, name,
					   klass);
		}
	}
	if (r > 0) {
		struct smtpd_access_action a;
		smtpd_access_parse(buf_cstr(&value), &a);
		if (a.kind == SMTPD_ACCESS_OK) {
			msg_warn("%s: OK is not allowed for a DNS server "
				 "lookup: taken as DUNNO",
				 it->arg);
			res = R_DUNNO;
		} else {
			res =
			    table_result(e, it, buf_cstr(&value), name, klass);
		}
	}
	buf_free(&value);
	return res;
}

/* check_sender_access, check_recipient_access: user+ext@domain,
 * user@domain, domain and its parents, user+ext@, user@ (access(5)).
 * The null sender is smtpd_null_access_lookup_key. */
static enum res
check_mail(struct eval *e, const struct item *it, const char *address,
	   const char *klass)
{
	struct buf value = BUF_INIT, key = BUF_INIT;
	enum res res = R_DUNNO;
	const char *at = strrchr(address, '@');
	const char *delim = smtpd_cfg.recipient_delimiter;
	size_t ext = 0; /* where the extension starts in the local part */
	int r;

	if (*address == '\0') {
		r = lookup(e, it, cfg.null_key, &value, &res, "", klass);
		if (r > 0)
			res = table_result(e, it, buf_cstr(&value), "", klass);
		buf_free(&value);
		return res;
	}
	if ((r = lookup(e, it, address, &value, &res, address, klass)) != 0 ||
	    it->pattern || at == NULL)
		goto done;
	if (delim && *delim) {
		size_t n = strcspn(address, delim);
		if (n > 0 && address + n < at)
			ext = n;
	}
	if (ext) {
		buf_printf(&key, "%.*s%s", (int)ext, address, at);
		if ((r = lookup(e, it, buf_cstr(&key), &value, &res, address,
				klass)) != 0)
			goto done;
	}
	if ((r = lookup_domain(e, it, at + 1, &value, &res, address, klass)) !=
	    0)
		goto done;
	buf_reset(&key);
	buf_printf(&key, "%.*s@", (int)(at - address), address);
	if ((r = lookup(e, it, buf_cstr(&key), &value, &res, address, klass)) !=
		0 ||
	    !ext)
		goto done;
	buf_reset(&key);
	buf_printf(&key, "%.*s@", (int)ext, address);
	r = lookup(e, it, buf_cstr(&key), &value, &res, address, klass);
done:
	if (r > 0)
		res = table_result(e, it, buf_cstr(&value), address, klass);
	buf_free(&value);
	buf_free(&key);
	return res;
}

/* RFC 1035 host name syntax (or an address literal): HELO and ETRN. */
int
smtpd_hostname_valid(const char *h)
{
	size_t len = strlen(h), label = 0;

	if (h[0] == '[')
		return h[len - 1] == ']';
	if (len == 0 || len > 255)
		return 0;
	for (const char *p = h; *p; p++) {
		if (*p == '.') {
			if (label == 0 || p[-1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return 0;
		if (*p == '-' && label == 0)
			return 0;
		if (++label > 63)
			return 0;
	}
	return 1;
}

static int
fqdn(const char *domain)
{
	size_t n = strlen(domain);

	return domain[0] == '[' || (strchr(domain, '.') != NULL &&
				    domain[n - 1] != '.' && domain[0] != '.');
}

/* 1 when a login owns the sender (smtpd_sender_login_maps), 0 when the
 * sender has owners and login is none of them, -1 when it has none, -2
 * when the table failed. */
static int
sender_owned(const struct addr *s, const char *login)
{
	struct buf value = BUF_INIT, err = BUF_INIT, key = BUF_INIT;
	int r, owned = -1;

	if (!cfg.login_maps)
		return -1;
	r = maps_lookup(cfg.login_maps, s->addr, &value, &err);
	if (r == 0 && s->domain[0]) {
		buf_printf(&key, "@%s", s->domain);
		r = maps_lookup(cfg.login_maps, buf_cstr(&key), &value, &err);
	}
	if (r == 0 && s->domain[0] && smtpd_is_local_domain(s->domain))
		r = maps_lookup(cfg.login_maps, s->local_unquoted, &value,
				&err);
	if (r < 0) {
		msg_warn("smtpd_sender_login_maps: %s", buf_cstr(&err));
		owned = -2;
	} else if (r > 0) {
		char **owners = str_split(buf_cstr(&value), ", \t", NULL);
		owned = 0;
		for (char **o = owners; login && *o; o++)
			if (str_casecmp(*o, login) == 0)
				owned = 1;
		str_list_free(owners);
	}
	buf_free(&value);
	buf_free(&err);
	buf_free(&key);
	return owned;
}

static enum res
login_mismatch(struct eval *e, enum op op)
{
	const struct addr *s = &e->acc->sender;
	const char *login = e->ss->auth_user;
	int owned;

	if (!e->acc->have_sender || (s->flags & ADDR_NULL))
		return R_DUNNO;
	if (login == NULL && (op == OP_REJECT_AUTH_SENDER_LOGIN_MISMATCH))
		return R_DUNNO;
	if (login != NULL && op == OP_REJECT_UNAUTH_SENDER_LOGIN_MISMATCH)
		return R_DUNNO;
	owned = sender_owned(s, login);
	if (owned == -2)
		return refuse_fmt(e, 451, "4.3.0",
				  "<%s>: Sender address rejected: Temporary "
				  "lookup failure",
				  s->addr);
	if (login == NULL) {
		if (owned < 0)
			return R_DUNNO;
		return refuse_fmt(e, 553, "5.7.1",
				  "<%s>: Sender address rejected: not logged "
				  "in",
				  s->addr);
	}
	if (owned == 1)
		return R_DUNNO;
	if (owned < 0 && op == OP_REJECT_KNOWN_SENDER_LOGIN_MISMATCH)
		return R_DUNNO;
	return refuse_fmt(e, 553, "5.7.1",
			  "<%s>: Sender address rejected: not owned by user %s",
			  s->addr, login);
}

static enum res
unlisted(struct eval *e, const struct addr *a, const char *klass,
	 const char *dsn)
{
	long long code;
	const char *table;

	/* receive_override_options = no_unknown_recipient_checks: the
	 * smtpd a content filter hands mail back to. */
	if (smtpd_cfg.no_unknown_recipient_checks &&
	    strcmp(klass, "Recipient address") == 0)
		return R_DUNNO;
	switch (smtpd_check_unlisted(a, strcmp(klass, "Sender address") == 0)) {
	case SMTPD_KNOWN:
		return R_DUNNO;
	case SMTPD_LOOKUP_FAILED:
		return refuse_fmt(e, 451, "4.3.0",
				  "<%s>: Temporary lookup failure", a->addr);
	case SMTPD_UNKNOWN_VIRTUAL:
		code = cfg.unknown_virtual_code;
		table = "virtual alias";
		break;
	case SMTPD_UNKNOWN_MAILBOX:
		code = cfg.unknown_mailbox_code;
		table = "virtual mailbox";
		break;
	case SMTPD_UNKNOWN_RELAY:
		code = cfg.unknown_relay_code;
		table = "relay recipient";
		break;
	case SMTPD_UNKNOWN_LOCAL:
	default:
		code = cfg.unknown_local_code;
		table = "local recipient";
		break;
	}
	return refuse_fmt(e, (int)code, dsn,
			  "<%s>: %s rejected: User unknown in %s table",
			  a->addr, klass, table);
}

/* ---------------------------------------------------------------- */
/* DNS lists and DNS existence checks */

struct rbl_vars {
	const char *code, *klass, *what, *domain, *reason;
	struct eval *e;
};

static const char *
rbl_var(const struct rbl_vars *v, const char *name, size_t n)
{
	struct smtpd_session *ss = v->e->ss;
	static const char *const names[] = {
	    "rbl_code",	  "rbl_class", "rbl_what",	 "rbl_domain",
	    "rbl_reason", "rbl_txt",   "client_address", "client_name",
	    "helo_name",  "sender",    "recipient",	 "reverse_client_name",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && strncmp(names[i], name, n) == 0)
			break;
	switch (i) {
	case 0:
		return v->code;
	case 1:
		return v->klass;
	case 2:
		return v->what;
	case 3:
		return v->domain;
	case 4:
	case 5:
		return v->reason;
	case 6:
		return ss->client_addr;
	case 7:
	case 11:
		return ss->client_name;
	case 8:
		return ss->helo ? ss->helo : "";
	case 9:
		return smtpd_restrict_sender(ss) ? smtpd_restrict_sender(ss)
						 : "";
	case 10:
		return v->e->rcpt ? v->e->rcpt->addr : "";
	default:
		return "";
	}
}

/* default_rbl_reply's $name, ${name}, ${name?text}, ${name:text}, $$. */
static void
rbl_expand(struct buf *out, const char *t, size_t len, const struct rbl_vars *v,
	   int depth)
{
	const char *end = t + len;

	while (t < end) {
		const char *name, *val;
		size_t n;

		if (*t != '$') {
			buf_putc(out, *t++);
			continue;
		}
		t++;
		if (t < end && *t == '$') {
			buf_putc(out, *t++);
			continue;
		}
		if (t < end && *t == '{') {
			const char *close, *op;
			int level = 1;
			for (close = t + 1; close < end; close++) {
				if (*close == '{')
					level++;
				else if (*close == '}' && --level == 0)
					break;
			}
			if (close >= end)
				return;
			name = t + 1;
			n = strcspn(name, "?:}");
			op = name + n;
			val = rbl_var(v, name, n);
			if (*op == '}') {
				buf_puts(out, val);
			} else if ((*op == '?') == (*val != '\0') &&
				   depth < 4) {
				rbl_expand(out, op + 1,
					   (size_t)(close - op - 1), v,
					   depth + 1);
			}
			t = close + 1;
			continue;
		}
		name = t;
		for (n = 0; t + n < end &&
			    (isalnum((unsigned char)t[n]) || t[n] == '_');
		     n++)
			;
		buf_puts(out, rbl_var(v, name, n));
		t += n;
	}
}

/* The refusal of a DNS list hit: the template of rbl_reply_maps (by
 * "domain=filter", then by domain) or default_rbl_reply, with a DSN
 * added when the text has none. */
static enum res
rbl_refuse(struct eval *e, const struct item *it, const char *klass,
	   const char *what, const char *reason)
{
	struct buf tmpl = BUF_INIT, text = BUF_INIT, err = BUF_INIT,
		   r = BUF_INIT;
	struct rbl_vars v = {NULL, klass, what, it->zone, reason, e};
	char code[8];
	const char *t;
	enum res res;
	int c;

	snprintf(code, sizeof(code), "%lld", cfg.rbl_code);
	v.code = code;
	if (!cfg.rbl_maps ||
	    (maps_lookup(cfg.rbl_maps, it->arg, &tmpl, &err) <= 0 &&
	     maps_lookup(cfg.rbl_maps, it->zone, &tmpl, &err) <= 0))
		buf_set(&tmpl, cfg.rbl_reply);
	rbl_expand(&text, tmpl.data ? tmpl.data : "", tmpl.len, &v, 0);
	t = buf_cstr(&text);
	c = (int)cfg.rbl_code;
	if ((t[0] == '4' || t[0] == '5') && isdigit((unsigned char)t[1]) &&
	    isdigit((unsigned char)t[2]) && (t[3] == ' ' || t[3] == '\0')) {
		c = atoi(t);
		t += 3;
		while (*t == ' ')
			t++;
	}
	/* The template's own DSN, else 5.7.1 of the code's class. */
	buf_printf(&r, "%d ", c);
	if (!(t[0] == '0' + c / 100 && t[1] == '.'))
		buf_printf(&r, "%c.7.1 ", '0' + c / 100);
	buf_puts(&r, t);
	res = refuse(e, &r);
	buf_free(&r);
	buf_free(&tmpl);
	buf_free(&text);
	buf_free(&err);
	return res;
}

/* Asks zone about prefix (a reversed address or a domain): 1 listed
 * (A record in the filter; reason from TXT), 0 not, -1 DNS trouble. */
static int
dnsbl_listed(const struct item *it, const char *prefix, struct buf *reason)
{
	struct buf name = BUF_INIT, why = BUF_INIT;
	struct dns_addr_list list;
	int status, listed = 0;

	buf_printf(&name, "%s.%s", prefix, it->zone);
	status = dns_lookup_addr(buf_cstr(&name), DNS_INET4, &list, &why);
	if (status == DNS_TEMPFAIL) {
		msg_warn("%s: %s", it->zone, buf_cstr(&why));
		listed = -1;
	}
	for (size_t i = 0; status == DNS_OK && i < list.count && !listed; i++) {
		char ip[INET6_ADDRSTRLEN];
		const struct sockaddr_in *sin =
		    (const struct sockaddr_in *)&list.addr[i];
		if (list.addr[i].ss_family != AF_INET ||
		    !inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip)))
			continue;
		listed = !it->filter || dnsbl_filter_match(it->filter, ip);
	}
	if (listed > 0 &&
	    dns_lookup_txt(buf_cstr(&name), reason, NULL) != DNS_OK)
		buf_reset(reason);
	buf_free(&name);
	buf_free(&why);
	return listed;
}

static const char *reverse_name(struct eval *e);

static enum res
check_dns_list(struct eval *e, const struct item *it)
{
	struct smtpd_session *ss = e->ss;
	struct buf reason = BUF_INIT;
	const char *klass, *what;
	char prefix[80];
	enum res res = R_DUNNO;
	int listed;

	switch (it->op) {
	case OP_REJECT_RBL_CLIENT:
	case OP_PERMIT_DNSWL_CLIENT:
		if (dnsbl_client_prefix(ss->client_addr, prefix,
					sizeof(prefix)) < 0)
			return R_DUNNO;
		klass = "Client host";
		what = ss->client_addr;
		listed = dnsbl_listed(it, prefix, &reason);
		break;
	case OP_REJECT_RHSBL_CLIENT:
	case OP_PERMIT_RHSWL_CLIENT:
		klass = "Client host";
		what = ss->client_name;
		goto domain;
	case OP_REJECT_RHSBL_REVERSE_CLIENT:
		klass = "Unverified Client host";
		what = reverse_name(e);
		goto domain;
	case OP_REJECT_RHSBL_HELO:
		klass = "Helo command";
		what = ss->helo;
		goto domain;
	case OP_REJECT_RHSBL_SENDER:
		klass = "Sender address";
		what = e->acc->have_sender && e->acc->sender.domain[0]
			   ? e->acc->sender.domain
			   : NULL;
		goto domain;
	default:
		klass = "Recipient address";
		what = e->rcpt ? e->rcpt->domain : NULL;
	domain:
		if (what == NULL || !dns_name_valid(what) ||
		    strcmp(what, "unknown") == 0 ||
		    strcmp(what, "localhost") == 0)
			return R_DUNNO;
		listed = dnsbl_listed(it, what, &reason);
		break;
	}
	if (listed > 0)
		res = it->op == OP_PERMIT_DNSWL_CLIENT ||
			      it->op == OP_PERMIT_RHSWL_CLIENT
			  ? R_PERMIT
			  : rbl_refuse(e, it, klass, what, buf_cstr(&reason));
	buf_free(&reason);
	return res;
}

/* reject_unknown_sender_domain, reject_unknown_recipient_domain: no MX
 * and no address, or a null MX.  A temporary DNS failure defers only if
 * the request would otherwise be permitted (Postfix's
 * unknown_address_tempfail_action). */
static enum res
check_domain_exists(struct eval *e, const struct addr *a, const char *klass,
		    const char *dsn)
{
	struct dns_mx_result mx;
	struct dns_addr_list addrs;
	int status;

	if (a == NULL || (a->flags & (ADDR_NULL | ADDR_LITERAL)) ||
	    !a->domain[0] || smtpd_is_local_domain(a->domain))
		return R_DUNNO;
	status = dns_lookup_mx(a->domain, &mx, NULL);
	if (status == DNS_OK && mx.implicit)
		status = dns_lookup_addr(a->domain, DNS_INET_ALL, &addrs, NULL);
	switch (status) {
	case DNS_OK:
		return R_DUNNO;
	case DNS_NULLMX:
		return refuse_fmt(
		    e, 556, "5.7.27",
		    "<%s>: %s rejected: Domain %s does not accept "
		    "mail (nullMX)",
		    a->addr, klass, a->domain);
	case DNS_TEMPFAIL:
		format_reply(&e->dip, 450, dsn,
			     "<%s>: %s rejected: Domain not "
			     "found",
			     a->addr, klass);
		return R_DUNNO;
	default:
		return refuse_fmt(e, (int)cfg.unknown_address_code, dsn,
				  "<%s>: %s rejected: Domain not found",
				  a->addr, klass);
	}
}

/* reject_spf_fail: the SPF result of the transaction's identity (the
 * sender, or the HELO name for the null sender): fail is refused with
 * the record's explanation, temperror deferred; any other result goes
 * on.  Before MAIL there is no identity yet. */
static enum res
check_spf(struct eval *e, const struct addr *sender)
{
	struct buf text = BUF_INIT;
	enum res res = R_DUNNO;
	const char *from;

	if (sender == NULL)
		return R_DUNNO;
	from = sender->flags & ADDR_NULL ? "" : sender->addr;
	switch (smtpd_spf_result(e->ss, from, &text)) {
	case SPF_FAIL:
		res = refuse_fmt(e, 550, "5.7.1",
				 "<%s>: Sender address rejected: SPF fail: %s",
				 from, buf_cstr(&text));
		break;
	case SPF_TEMPERROR:
		res = refuse_fmt(e, 451, "4.7.1",
				 "<%s>: Sender address rejected: SPF temporary "
				 "error: %s",
				 from, buf_cstr(&text));
		break;
	}
	buf_free(&text);
	return res;
}

static enum res
check_helo_exists(struct eval *e)
{
	struct dns_mx_result mx;
	struct dns_addr_list addrs;
	const char *h = e->ss->helo;
	int status;

	if (h == NULL || h[0] == '[' || !dns_name_valid(h))
		return R_DUNNO;
	status = dns_lookup_addr(h, DNS_INET_ALL, &addrs, NULL);
	if (status != DNS_OK && status != DNS_TEMPFAIL) {
		status = dns_lookup_mx(h, &mx, NULL);
		if (status == DNS_OK && mx.implicit)
			status = DNS_NOTFOUND;
	}
	if (status == DNS_OK)
		return R_DUNNO;
	if (status == DNS_TEMPFAIL) {
		format_reply(&e->dip, 450, "4.7.1",
			     "<%s>: Helo command rejected: Host not found", h);
		return R_DUNNO;
	}
	return refuse_fmt(e, (int)cfg.unknown_hostname_code, "5.7.1",
			  "<%s>: Helo command rejected: Host not found", h);
}

/* reject_unknown_client_hostname: no forward-confirmed name (smtpd's
 * peername lookup gave "unknown"); reject_unknown_reverse_client_hostname:
 * no PTR at all, asked now. */
static enum res
check_client_exists(struct eval *e, int reverse)
{
	struct smtpd_session *ss = e->ss;
	char name[DNS_NAME_MAX + 1];
	int status;

	if (!reverse) {
		if (strcmp(ss->client_name, "unknown") != 0)
			return R_DUNNO;
		return refuse_fmt(e, (int)cfg.unknown_client_code, "5.7.25",
				  "Client host rejected: cannot find your "
				  "hostname, [%s]",
				  ss->client_addr);
	}
	if (strcmp(ss->client_name, "unknown") != 0)
		return R_DUNNO;
	/* A loopback address never goes to DNS (peer_name.h): without an
	 * /etc/hosts name it has no reverse name. */
	status =
	    peer_is_loopback(ss->client_addr)
		? DNS_NOTFOUND
		: dns_lookup_ptr(ss->client_addr, name, sizeof(name), NULL);
	if (status == DNS_OK)
		return R_DUNNO;
	return refuse_fmt(
	    e, status == DNS_TEMPFAIL ? 450 : (int)cfg.unknown_client_code,
	    "5.7.25",
	    "Client host rejected: cannot find your reverse "
	    "hostname, [%s]",
	    ss->client_addr);
}

/* The client's reverse name (Postfix's reverse_client_name): its PTR
 * record, not forward-confirmed, asked once per session; "unknown" when
 * there is none or the lookup failed.  A forward-confirmed name is one. */
static const char *
reverse_name(struct eval *e)
{
	struct smtpd_session *ss = e->ss;
	struct smtpd_access *acc = e->acc;
	char name[DNS_NAME_MAX + 1];

	if (acc->reverse_name)
		return acc->reverse_name;
	if (strcmp(ss->client_name, "unknown") != 0)
		acc->reverse_name = xstrdup(ss->client_name);
	else if (!peer_is_loopback(ss->client_addr) &&
		 dns_lookup_ptr(ss->client_addr, name, sizeof(name), NULL) ==
		     DNS_OK)
		acc->reverse_name = xstrdup(name);
	else
		acc->reverse_name = xstrdup("unknown");
	return acc->reverse_name;
}

/* check_reverse_client_hostname_access: check_client_access with the
 * unverified name; _mx_ and _ns_: that name's MX hosts or name servers. */
static enum res
check_reverse_client(struct eval *e, const struct item *it)
{
	struct smtpd_session *ss = e->ss;
	const char *rev = reverse_name(e);
	struct buf value = BUF_INIT, name = BUF_INIT;
	const char *klass = "Unverified Client host";
	enum res res = R_DUNNO;
	int r = 0;

	buf_printf(&name, "%s[%s]", rev, ss->client_addr);
	if (it->op != OP_CHECK_REVERSE_CLIENT) {
		if (strcmp(rev, "unknown") != 0)
			res = check_server(
			    e, it, rev,
			    it->op == OP_CHECK_REVERSE_CLIENT_MX ? 1 : 2,
			    buf_cstr(&name), klass);
		buf_free(&name);
		return res;
	}
	if (!it->cidr && strcmp(rev, "unknown") != 0)
		r = lookup_domain(e, it, rev, &value, &res, buf_cstr(&name),
				  klass);
	if (r == 0)
		r = lookup_address(e, it, ss->client_addr, &value, &res,
				   buf_cstr(&name), klass);
	if (r > 0)
		res = table_result(e, it, buf_cstr(&value), buf_cstr(&name),
				   klass);
	buf_free(&value);
	buf_free(&name);
	return res;
}

/* check_sasl_access: the login name, whole (Postfix 2.11). */
static enum res
check_sasl(struct eval *e, const struct item *it)
{
	const char *login = e->ss->auth_user;
	struct buf value = BUF_INIT;
	enum res res = R_DUNNO;

	if (login == NULL || *login == '\0')
		return R_DUNNO;
	if (lookup(e, it, login, &value, &res, login, "SASL login name") > 0)
		res = table_result(e, it, buf_cstr(&value), login,
				   "SASL login name");
	buf_free(&value);
	return res;
}

/* One of hosts[] is this machine: myhostname by name, else one of its
 * addresses is an inet_interfaces or proxy_interfaces address (Postfix's
 * i_am_mx). */
static int
is_me(const struct dns_mx *mx, size_t n)
{
	const char *me = smtpd_cfg.myhostname;

	for (size_t i = 0; i < n; i++)
		if (me && str_casecmp(mx[i].host, me) == 0)
			return 1;
	for (size_t i = 0; i < n; i++) {
		struct dns_addr_list addrs;
		if (dns_lookup_addr(mx[i].host, DNS_INET_ALL, &addrs, NULL) !=
		    DNS_OK)
			continue;
		for (size_t a = 0; a < addrs.count; a++)
			if (own_addr_match((struct sockaddr *)&addrs.addr[a]))
				return 1;
	}
	return 0;
}

/* permit_mx_backup_networks: every address of the primary MX hosts is
 * in it (and there is one). */
static int
primaries_listed(const struct dns_mx *mx, size_t n)
{
	int seen = 0;

	for (size_t i = 0; i < n; i++) {
		struct dns_addr_list addrs;
		if (dns_lookup_addr(mx[i].host, DNS_INET_ALL, &addrs, NULL) !=
		    DNS_OK)
			continue;
		for (size_t a = 0; a < addrs.count; a++) {
			char ip[INET6_ADDRSTRLEN];
			struct buf err = BUF_INIT;
			int m;
			sock_addr_text((const struct sockaddr *)&addrs.addr[a],
				       ip, sizeof(ip));
			m = match_list_client(cfg.mx_networks, "", ip, 0, &err);
			buf_free(&err);
			if (m != 1)
				return 0;
			seen = 1;
		}
	}
	return seen;
}

/*
 * permit_mx_backup (Postfix 2.3's rules): an authorised destination
 * (permit_auth_destination), or a domain for which this machine is an MX
 * host but not a primary one (the lowest preference), the primaries in
 * permit_mx_backup_networks when it is set.  A domain without MX records
 * is permitted when one of its addresses is ours.  No routing in the
 * local part, no address literal.  An MX lookup that fails turns a later
 * refusal into 450 4.4.4.
 */
static enum res
permit_mx_backup(struct eval *e)
{
	const struct addr *a = e->rcpt;
	struct dns_mx_result mx;
	size_t nprimary;
	int status;

	if (a == NULL)
		return R_DUNNO;
	if (smtpd_is_auth_destination(a))
		return R_PERMIT;
	if ((a->flags & (ADDR_NULL | ADDR_LITERAL)) || !a->domain[0] ||
	    strpbrk(a->local_unquoted, "@%!") != NULL)
		return R_DUNNO;
	status = dns_lookup_mx(a->domain, &mx, NULL);
	if (status == DNS_OK && mx.implicit)
		status = DNS_NOTFOUND;
	if (status == DNS_NOTFOUND || status == DNS_NODATA) {
		/* Perhaps a name of this machine: its addresses decide. */
		struct dns_mx self;
		snprintf(self.host, sizeof(self.host), "%.*s",
			 (int)DNS_NAME_MAX, a->domain);
		self.pref = 0;
		return is_me(&self, 1) ? R_PERMIT : R_DUNNO;
	}
	if (status == DNS_TEMPFAIL) {
		format_reply(&e->dir, 450, "4.4.4",
			     "<%s>: Recipient address rejected: Unable to look "
			     "up mail exchanger information: Host not found, "
			     "try again",
			     a->addr);
		return R_DUNNO;
	}
	if (status != DNS_OK || mx.count == 0)
		return R_DUNNO;
	for (nprimary = 1;
	     nprimary < mx.count && mx.mx[nprimary].pref == mx.mx[0].pref;
	     nprimary++)
		;
	/* A primary MX host relays nothing by this rule (Postfix 2.3). */
	if (is_me(mx.mx, nprimary) ||
	    !is_me(mx.mx + nprimary, mx.count - nprimary))
		return R_DUNNO;
	if (cfg.mx_networks && !primaries_listed(mx.mx, nprimary))
		return R_DUNNO;
	return R_PERMIT;
}

static enum res
eval_item(struct eval *e, const struct item *it, const char *name,
	  const char *klass)
{
	struct smtpd_session *ss = e->ss;
	struct smtpd_access *acc = e->acc;
	const struct addr *sender = acc->have_sender ? &acc->sender : NULL;

	switch (it->op) {
	case OP_PERMIT:
		return R_PERMIT;
	case OP_DUNNO:
		return R_DUNNO;
	case OP_REJECT:
		return refuse_fmt(e, (int)cfg.reject_code, "5.7.1",
				  "<%s>: %s rejected: Access denied", name,
				  klass);
	case OP_DEFER:
		return refuse_fmt(e, (int)cfg.defer_code, "4.7.1",
				  "<%s>: %s rejected: Access denied", name,
				  klass);
	case OP_DEFER_IF_PERMIT:
		format_reply(&e->dip, (int)cfg.defer_code, "4.7.1",
			     "<%s>: %s rejected: Access denied", name, klass);
		return R_DUNNO;
	case OP_DEFER_IF_REJECT:
		format_reply(&e->dir, (int)cfg.defer_code, "4.7.1",
			     "<%s>: %s rejected: Access denied", name, klass);
		return R_DUNNO;
	case OP_WARN_IF_REJECT:
		/* Handled by eval_list. */
		return R_DUNNO;
	case OP_SLEEP:
		stream_flush(&ss->s);
		sleep((unsigned)it->seconds);
		return R_DUNNO;
	case OP_PERMIT_MYNETWORKS:
		/* Trusted: mynetworks, or a local submission (SO_PEERCRED)
		 * on a service with smtpd_local_submission. */
		return ss->trusted ? R_PERMIT : R_DUNNO;
	case OP_PERMIT_SASL:
		return ss->auth_user ? R_PERMIT : R_DUNNO;
	case OP_PERMIT_TLS_CLIENTCERTS:
		return check_ccert(e, it, 1);
	case OP_PERMIT_TLS_ALL_CLIENTCERTS:
		/* A chain smtpd_tls_CAfile vouches for. */
		return ss->tls_on && ss->tls_info.peer_cert &&
			       ss->tls_info.verified
			   ? R_PERMIT
			   : R_DUNNO;
	case OP_PERMIT_AUTH_DEST:
	case OP_REJECT_UNAUTH_DEST:
	case OP_DEFER_UNAUTH_DEST: {
		int auth;
		if (e->rcpt == NULL)
			return R_DUNNO;
		auth = smtpd_is_auth_destination(e->rcpt);
		if (it->op == OP_PERMIT_AUTH_DEST)
			return auth ? R_PERMIT : R_DUNNO;
		if (auth)
			return R_DUNNO;
		/* defer_unauth_destination: the same reply, class 4. */
		return refuse_fmt(e,
				  it->op == OP_DEFER_UNAUTH_DEST
				      ? (int)(400 + cfg.relay_code % 100)
				      : (int)cfg.relay_code,
				  "5.7.1", "<%s>: Relay access denied",
				  e->rcpt->addr);
	}
	case OP_REJECT_UNAUTH_PIPELINING:
		/* Input waiting before our reply: a client that does not
		 * wait where it must (not ESMTP, or at DATA). */
		if (stream_pending(&ss->s) > 0 &&
		    (!ss->esmtp || strcmp(e->cmd, "DATA") == 0))
			return refuse_fmt(e, 503, "5.5.0",
					  "<%s>: %s rejected: Improper use of "
					  "SMTP command pipelining",
					  name, klass);
		return R_DUNNO;
	case OP_REJECT_INVALID_HELO:
		if (ss->helo == NULL || smtpd_hostname_valid(ss->helo))
			return R_DUNNO;
		return refuse_fmt(e, (int)cfg.invalid_hostname_code, "5.5.2",
				  "<%s>: Helo command rejected: Invalid name",
				  ss->helo);
	case OP_REJECT_NON_FQDN_HELO:
		if (ss->helo == NULL || fqdn(ss->helo))
			return R_DUNNO;
		return refuse_fmt(e, (int)cfg.non_fqdn_code, "5.5.2",
				  "<%s>: Helo command rejected: need "
				  "fully-qualified hostname",
				  ss->helo);
	case OP_REJECT_NON_FQDN_SENDER:
		if (sender == NULL || (sender->flags & ADDR_NULL) ||
		    fqdn(sender->domain))
			return R_DUNNO;
		return refuse_fmt(e, (int)cfg.non_fqdn_code, "5.5.2",
				  "<%s>: Sender address rejected: need "
				  "fully-qualified address",
				  sender->addr);
	case OP_REJECT_NON_FQDN_RCPT:
		if (e->rcpt == NULL || (e->rcpt->flags & ADDR_POSTMASTER) ||
		    fqdn(e->rcpt->domain))
			return R_DUNNO;
		return refuse_fmt(e, (int)cfg.non_fqdn_code, "5.5.2",
				  "<%s>: Recipient address rejected: need "
				  "fully-qualified address",
				  e->rcpt->addr);
	case OP_REJECT_UNLISTED_SENDER:
		if (sender == NULL || (sender->flags & ADDR_NULL))
			return R_DUNNO;
		return unlisted(e, sender, "Sender address", "5.1.0");
	case OP_REJECT_UNLISTED_RCPT:
		if (e->rcpt == NULL)
			return R_DUNNO;
		return unlisted(e, e->rcpt, "Recipient address", "5.1.1");
	case OP_REJECT_SENDER_LOGIN_MISMATCH:
	case OP_REJECT_AUTH_SENDER_LOGIN_MISMATCH:
	case OP_REJECT_KNOWN_SENDER_LOGIN_MISMATCH:
	case OP_REJECT_UNAUTH_SENDER_LOGIN_MISMATCH:
		return login_mismatch(e, it->op);
	case OP_REJECT_MULTI_RCPT_BOUNCE:
		if (sender == NULL || !(sender->flags & ADDR_NULL))
			return R_DUNNO;
		if (e->rcpt ? ss->env.nrcpt < 1 : ss->env.nrcpt < 2)
			return R_DUNNO;
		return refuse_fmt(e, (int)cfg.multi_bounce_code, "5.5.3",
				  "<%s>: %s rejected: Multi-recipient bounce",
				  e->rcpt ? "" : name,
				  e->rcpt ? "Sender address" : klass);
	case OP_CHECK_CLIENT:
		return check_client(e, it);
	case OP_CHECK_CCERT:
		return check_ccert(e, it, 0);
	case OP_CHECK_ETRN: {
		struct buf value = BUF_INIT;
		enum res res = R_DUNNO;
		int r;
		if (e->etrn == NULL)
			return R_DUNNO;
		r = it->pattern ? lookup(e, it, e->etrn, &value, &res, e->etrn,
					 "Etrn command")
				: lookup_domain(e, it, e->etrn, &value, &res,
						e->etrn, "Etrn command");
		if (r > 0)
			res = table_result(e, it, buf_cstr(&value), e->etrn,
					   "Etrn command");
		buf_free(&value);
		return res;
	}
	case OP_CHECK_HELO: {
		struct buf value = BUF_INIT;
		enum res res = R_DUNNO;
		int r;
		if (ss->helo == NULL)
			return R_DUNNO;
		r = it->pattern ? lookup(e, it, ss->helo, &value, &res,
					 ss->helo, "Helo command")
				: lookup_domain(e, it, ss->helo, &value, &res,
						ss->helo, "Helo command");
		if (r > 0)
			res = table_result(e, it, buf_cstr(&value), ss->helo,
					   "Helo command");
		buf_free(&value);
		return res;
	}
	case OP_CHECK_SENDER:
		if (sender == NULL)
			return R_DUNNO;
		return check_mail(e, it, sender->addr, "Sender address");
	case OP_CHECK_RECIPIENT:
		if (e->rcpt == NULL)
			return R_DUNNO;
		return check_mail(e, it, e->rcpt->addr, "Recipient address");
	case OP_CLASS:
		return eval_list(e, &cfg.classes[it->cls], name, klass);
	case OP_REJECT_RBL_CLIENT:
	case OP_REJECT_RHSBL_CLIENT:
	case OP_REJECT_RHSBL_SENDER:
	case OP_REJECT_RHSBL_HELO:
	case OP_REJECT_RHSBL_RCPT:
	case OP_PERMIT_DNSWL_CLIENT:
		return check_dns_list(e, it);
	case OP_REJECT_UNKNOWN_SENDER_DOMAIN:
		return check_domain_exists(e, sender, "Sender address",
					   "4.1.8");
	case OP_REJECT_UNKNOWN_RCPT_DOMAIN:
		return check_domain_exists(e, e->rcpt, "Recipient address",
					   "4.1.2");
	case OP_REJECT_UNKNOWN_HELO:
		return check_helo_exists(e);
	case OP_REJECT_SPF_FAIL:
		return check_spf(e, sender);
	case OP_REJECT_UNKNOWN_CLIENT:
		return check_client_exists(e, 0);
	case OP_REJECT_UNKNOWN_REVERSE_CLIENT:
		return check_client_exists(e, 1);
	case OP_CHECK_CLIENT_MX:
	case OP_CHECK_CLIENT_NS:
	case OP_CHECK_CLIENT_A: {
		struct buf cn = BUF_INIT;
		enum res res;
		if (strcmp(ss->client_name, "unknown") == 0)
			return R_DUNNO;
		buf_printf(&cn, "%s[%s]", ss->client_name, ss->client_addr);
		res = check_server(e, it, ss->client_name, server_kind(it->op),
				   buf_cstr(&cn), "Client host");
		buf_free(&cn);
		return res;
	}
	case OP_CHECK_HELO_MX:
	case OP_CHECK_HELO_NS:
	case OP_CHECK_HELO_A:
		return check_server(e, it, ss->helo, server_kind(it->op),
				    ss->helo, "Helo command");
	case OP_CHECK_SENDER_MX:
	case OP_CHECK_SENDER_NS:
	case OP_CHECK_SENDER_A:
		if (sender == NULL)
			return R_DUNNO;
		return check_server(e, it, sender->domain, server_kind(it->op),
				    sender->addr, "Sender address");
	case OP_CHECK_RECIPIENT_MX:
	case OP_CHECK_RECIPIENT_NS:
	case OP_CHECK_RECIPIENT_A:
		if (e->rcpt == NULL)
			return R_DUNNO;
		return check_server(e, it, e->rcpt->domain, server_kind(it->op),
				    e->rcpt->addr, "Recipient address");
	case OP_REJECT_PLAINTEXT:
		if (ss->tls_on)
			return R_DUNNO;
		return refuse_fmt(e, (int)cfg.plaintext_code, "4.7.1",
				  "Session encryption is required");
	case OP_CHECK_SASL:
		return check_sasl(e, it);
	case OP_PERMIT_MX_BACKUP:
		return permit_mx_backup(e);
	case OP_REJECT_RHSBL_REVERSE_CLIENT:
	case OP_PERMIT_RHSWL_CLIENT:
		return check_dns_list(e, it);
	case OP_CHECK_REVERSE_CLIENT:
	case OP_CHECK_REVERSE_CLIENT_MX:
	case OP_CHECK_REVERSE_CLIENT_NS:
		return check_reverse_client(e, it);
	case OP_CHECK_POLICY: {
		/* The server's action is an access(5) value. */
		struct buf action = BUF_INIT;
		enum res res;
		if (acc->instance[0] == '\0') {
			static unsigned long count;
			snprintf(acc->instance, sizeof(acc->instance),
				 "%lx.%lx.%lx", (unsigned long)getpid(),
				 (unsigned long)time(NULL), ++count);
		}
		smtpd_policy_ask(ss, it->policy,
				 strcmp(e->cmd, "BDAT") == 0 ? "DATA" : e->cmd,
				 sender ? sender->addr : "", e->rcpt,
				 acc->instance, &action);
		res = table_result(e, it, buf_cstr(&action), name, klass);
		buf_free(&action);
		return res;
	}
	}
	return R_DUNNO;
}

static enum res
eval_list(struct eval *e, const struct rlist *l, const char *name,
	  const char *klass)
{
	enum res res = R_DUNNO;
	int warn = 0;

	if (++e->depth > RESTRICT_DEPTH_MAX) {
		msg_warn(
		    "restriction classes nested more than %d deep: a loop?",
		    RESTRICT_DEPTH_MAX);
		e->depth--;
		return config_error(e, name, klass);
	}
	for (size_t i = 0; i < l->count && res == R_DUNNO; i++) {
		const struct item *it = &l->items[i];
		int outer = e->warn;

		if (it->op == OP_WARN_IF_REJECT) {
			warn = 1;
			continue;
		}
		e->warn = warn || outer;
		warn = 0;
		res = eval_item(e, it, name, klass);
		e->warn = outer;
	}
	e->depth--;
	return res;
}

/* ---------------------------------------------------------------- */
/* The hooks */

static void
eval_init(struct eval *e, struct smtpd_session *ss, const char *cmd,
	  const struct addr *rcpt, struct buf *reply)
{
	memset(e, 0, sizeof(*e));
	e->ss = ss;
	e->acc = access_of(ss);
	e->cmd = cmd;
	e->rcpt = rcpt;
	e->reply = reply;
	buf_init(&e->dip);
	buf_init(&e->dir);
}

/* Runs a stage's list with its name and class; 1 when it refused. */
static int
run_stage(struct eval *e, enum stage s)
{
	struct smtpd_session *ss = e->ss;
	struct buf name = BUF_INIT;
	const char *klass = NULL;
	enum res res;

	switch (s) {
	case ST_CLIENT:
		buf_printf(&name, "%s[%s]", ss->client_name, ss->client_addr);
		klass = "Client host";
		break;
	case ST_HELO:
		if (ss->helo == NULL && cfg.stages[s].count) {
			/* No HELO yet: restrictions on it have nothing to
			 * look at; the others still apply. */
			buf_puts(&name, "");
		} else {
			buf_puts(&name, ss->helo ? ss->helo : "");
		}
		klass = "Helo command";
		break;
	case ST_SENDER:
		buf_puts(&name, e->acc->have_sender ? e->acc->sender.addr : "");
		klass = "Sender address";
		break;
	case ST_RELAY:
	case ST_RECIPIENT:
		buf_puts(&name, e->rcpt ? e->rcpt->addr : "");
		klass = "Recipient address";
		break;
	case ST_DATA:
		buf_puts(&name, "DATA");
		klass = "Data command";
		break;
	case ST_EOD:
		buf_puts(&name, "END-OF-MESSAGE");
		klass = "End-of-data";
		break;
	case ST_ETRN:
		buf_puts(&name, e->etrn ? e->etrn : "");
		klass = "Etrn command";
		break;
	default:
		break;
	}
	res = eval_list(e, &cfg.stages[s], buf_cstr(&name), klass);
	buf_free(&name);
	return res == R_REJECT;
}

/* The end of an evaluation: a pending defer_if_permit, the log. */
static int
finish(struct eval *e, int refused)
{
	if (!refused && e->dip.len) {
		buf_set(e->reply, buf_cstr(&e->dip));
		refused = 1;
	}
	if (refused)
		smtpd_log_reject(e->ss, NULL, e->cmd, buf_cstr(e->reply),
				 rcpt_text(e));
	buf_free(&e->dip);
	buf_free(&e->dir);
	return refused;
}

int
smtpd_restrict_connect(struct smtpd_session *ss, struct buf *reply)
{
	struct eval e;
	int r;

	if (!cfg.loaded || cfg.delay_reject)
		return 0;
	eval_init(&e, ss, "CONNECT", NULL, reply);
	r = finish(&e, run_stage(&e, ST_CLIENT));
	if (r) {
		struct buf denied = BUF_INIT;
		buf_printf(&denied, "503 5.7.0 Error: access denied for %s[%s]",
			   ss->client_name, ss->client_addr);
		xfree(e.acc->denied);
		e.acc->denied = buf_steal(&denied);
	}
	return r;
}

const char *
smtpd_restrict_denied(const struct smtpd_session *ss)
{
	return ss->access ? ss->access->denied : NULL;
}

int
smtpd_restrict_helo(struct smtpd_session *ss, struct buf *reply)
{
	struct eval e;

	if (!cfg.loaded || cfg.delay_reject)
		return 0;
	eval_init(&e, ss, ss->esmtp ? "EHLO" : "HELO", NULL, reply);
	return finish(&e, run_stage(&e, ST_HELO));
}

int
smtpd_restrict_mail(struct smtpd_session *ss, const struct addr *sender,
		    struct buf *reply)
{
	struct smtpd_access *acc = access_of(ss);
	struct eval e;
	int r;

	acc->sender = *sender;
	acc->have_sender = 1;
	if (!cfg.loaded || cfg.delay_reject)
		return 0;
	eval_init(&e, ss, "MAIL", NULL, reply);
	r = finish(&e, run_stage(&e, ST_SENDER));
	if (r)
		acc->have_sender = 0;
	return r;
}

const char *
smtpd_restrict_sender(const struct smtpd_session *ss)
{
	return ss->access && ss->access->have_sender ? ss->access->sender.addr
						     : NULL;
}

int
smtpd_restrict_rcpt(struct smtpd_session *ss, const struct addr *rcpt,
		    struct buf *reply)
{
	struct eval e;
	int r = 0;

	if (!cfg.loaded)
		return 0;
	eval_init(&e, ss, "RCPT", rcpt, reply);
	if (cfg.delay_reject)
		r = run_stage(&e, ST_CLIENT) || run_stage(&e, ST_HELO) ||
		    run_stage(&e, ST_SENDER);
	if (!r)
		r = run_stage(&e, ST_RELAY) || run_stage(&e, ST_RECIPIENT);
	/* smtpd_reject_unlisted_recipient: after the lists, whatever they
	 * permitted (trust opens relaying, not unknown users). */
	if (!r && cfg.unlisted_recipient)
		r = unlisted(&e, rcpt, "Recipient address", "5.1.1") ==
		    R_REJECT;
	if (!r && cfg.unlisted_sender && e.acc->have_sender &&
	    !(e.acc->sender.flags & ADDR_NULL))
		r = unlisted(&e, &e.acc->sender, "Sender address", "5.1.0") ==
		    R_REJECT;
	return finish(&e, r);
}

int
smtpd_restrict_data(struct smtpd_session *ss, struct buf *reply)
{
	struct eval e;

	if (!cfg.loaded)
		return 0;
	eval_init(&e, ss, "DATA", NULL, reply);
	return finish(&e, run_stage(&e, ST_DATA));
}

int
smtpd_restrict_etrn(struct smtpd_session *ss, const char *site,
		    struct buf *reply)
{
	struct eval e;
	int r = 0;

	if (!cfg.loaded)
		return 0;
	eval_init(&e, ss, "ETRN", NULL, reply);
	e.etrn = site;
	ss->etrn_site = site;
	/* As at MAIL and RCPT: with smtpd_delay_reject the client and HELO
	 * lists are applied here too. */
	if (cfg.delay_reject)
		r = run_stage(&e, ST_CLIENT) || run_stage(&e, ST_HELO);
	if (!r)
		r = run_stage(&e, ST_ETRN);
	r = finish(&e, r);
	ss->etrn_site = NULL;
	return r;
}

enum smtpd_eod_result
smtpd_restrict_eod(struct smtpd_session *ss, const char *id, const char *cmd,
		   struct queue_envelope *env, struct buf *reply)
{
	struct smtpd_access *acc;
	struct eval e;
	int r = 0;

	if (!cfg.loaded)
		return SMTPD_EOD_ACCEPT;
	eval_init(&e, ss, "END-OF-MESSAGE", NULL, reply);
	e.eod = 1;
	acc = e.acc;
	if (strcmp(cmd, "BDAT") == 0) {
		e.cmd = "BDAT";
		r = run_stage(&e, ST_DATA);
		e.cmd = "END-OF-MESSAGE";
	}
	if (!r)
		r = run_stage(&e, ST_EOD);
	if (!r && e.dip.len) {
		buf_set(reply, buf_cstr(&e.dip));
		r = 1;
	}
	buf_free(&e.dip);
	buf_free(&e.dir);
	if (r) {
		smtpd_log_reject(ss, id, cmd, buf_cstr(reply), NULL);
		return SMTPD_EOD_REJECT;
	}
	if (acc->discard) {
		msg_info("%s: %s", id, buf_cstr(&acc->discard_log));
		return SMTPD_EOD_DISCARD;
	}
	if (acc->redirect) {
		/* Every recipient is replaced, as in Postfix. */
		for (size_t i = 0; i < env->nrcpt; i++) {
			xfree(env->rcpts[i].address);
			xfree(env->rcpts[i].orcpt);
			xfree(env->rcpts[i].dsn);
			xfree(env->rcpts[i].text);
		}
		env->nrcpt = 0;
		queue_envelope_add_rcpt(env, acc->redirect, NULL, 0);
		msg_info("%s: %s", id, buf_cstr(&acc->redirect_log));
	}
	if (acc->bcc) {
		queue_envelope_add_rcpt(env, acc->bcc, NULL, 0);
		msg_info("%s: %s", id, buf_cstr(&acc->bcc_log));
	}
	if (acc->hold) {
		env->hold = 1;
		msg_info("%s: %s", id, buf_cstr(&acc->hold_log));
	}
	if (acc->filter) {
		queue_str_set(&env->filter, acc->filter);
		msg_info("%s: %s", id, buf_cstr(&acc->filter_log));
	}
	return SMTPD_EOD_ACCEPT;
}

void
smtpd_restrict_prepend(struct smtpd_session *ss, struct buf *out)
{
	if (ss->access && ss->access->prepend.len)
		buf_append(out, ss->access->prepend.data,
			   ss->access->prepend.len);
}

void
smtpd_restrict_reset(struct smtpd_session *ss)
{
	struct smtpd_access *acc = ss->access;

	if (acc == NULL)
		return;
	acc->have_sender = 0;
	acc->hold = acc->discard = 0;
	buf_reset(&acc->hold_log);
	buf_reset(&acc->discard_log);
	buf_reset(&acc->redirect_log);
	buf_reset(&acc->bcc_log);
	buf_reset(&acc->filter_log);
	buf_reset(&acc->prepend);
	xfree(acc->redirect);
	xfree(acc->bcc);
	xfree(acc->filter);
	acc->redirect = acc->bcc = acc->filter = NULL;
	acc->instance[0] = '\0';
}

void
smtpd_restrict_session_end(struct smtpd_session *ss)
{
	struct smtpd_access *acc = ss->access;

	if (acc == NULL)
		return;
	smtpd_restrict_reset(ss);
	buf_free(&acc->hold_log);
	buf_free(&acc->discard_log);
	buf_free(&acc->redirect_log);
	buf_free(&acc->bcc_log);
	buf_free(&acc->filter_log);
	buf_free(&acc->prepend);
	xfree(acc->denied);
	xfree(acc->reverse_name);
	xfree(acc);
	ss->access = NULL;
}

const char *
smtpd_restrict_footer(void)
{
	return cfg.footer && *cfg.footer ? cfg.footer : NULL;
}
