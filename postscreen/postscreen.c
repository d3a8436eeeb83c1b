/*
 * postscreen - Postfix's postscreen(8) for Panacea: screens port 25
 * clients before smtpd sees them (postscreen.h says how the files share
 * the work; man postscreen(8)).
 *
 * It runs as mail_owner, chrooted in the queue directory, as one
 * event-driven process (maxproc 1: the services line is
 * "smtp inet n - y - 1 postscreen"), and hands clean clients to the
 * smtpd pass service ("smtpd pass - - y - - smtpd").  Everything it
 * reads is opened before the jail: the access list's tables, the DNSBL
 * reply map, the resolver settings and the cache file.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "daemon.h"
#include "dns.h"
#include "maps.h"
#include "match_list.h"
#include "msg.h"
#include "own_addr.h"
#include "postscreen.h"
#include "xalloc.h"

static struct {
	const char *mynetworks, *mynetworks_style;
} raw;

static const struct conf_bind ps_params[] = {
    CONF_BIND_STR("postscreen_access_list", &ps_cfg.access_list_raw),
    CONF_BIND_STR("postscreen_denylist_action", &ps_cfg.denylist_action_raw),
    CONF_BIND_STR("postscreen_greet_action", &ps_cfg.greet_action_raw),
    CONF_BIND_STR("postscreen_greet_banner", &ps_cfg.greet_banner),
    CONF_BIND_TIME("postscreen_greet_wait", &ps_cfg.greet_wait),
    CONF_BIND_TIME("postscreen_greet_ttl", &ps_cfg.greet_ttl),
    CONF_BIND_STR("postscreen_dnsbl_sites", &ps_cfg.dnsbl_sites_raw),
    CONF_BIND_INT("postscreen_dnsbl_threshold", &ps_cfg.dnsbl_threshold),
    CONF_BIND_STR("postscreen_dnsbl_action", &ps_cfg.dnsbl_action_raw),
    CONF_BIND_STR("postscreen_dnsbl_reply_map", &ps_cfg.dnsbl_reply_map_raw),
    CONF_BIND_TIME("postscreen_dnsbl_ttl", &ps_cfg.dnsbl_ttl),
    CONF_BIND_TIME("postscreen_dnsbl_timeout", &ps_cfg.dnsbl_timeout),
    CONF_BIND_STR("postscreen_cache_map", &ps_cfg.cache_map),
    CONF_BIND_INT("postscreen_command_count_limit",
		  &ps_cfg.command_count_limit),
    CONF_BIND_TIME("postscreen_command_time_limit", &ps_cfg.command_time_limit),
    CONF_BIND_BOOL("respectful_logging", &ps_cfg.respectful_logging),
    CONF_BIND_STR("smtpd_service_name", &ps_cfg.service_name),
    CONF_BIND_STR("smtpd_banner", &ps_cfg.smtpd_banner),
    CONF_BIND_STR("myhostname", &ps_cfg.myhostname),
    CONF_BIND_STR("dns_nameservers", &ps_cfg.dns_nameservers),
    CONF_BIND_STR("mynetworks", &raw.mynetworks),
    CONF_BIND_STR("mynetworks_style", &raw.mynetworks_style),
    CONF_BIND_END,
};

/* Where a value comes from: "file:line", "-o name=value", "default". */
static const char *
ps_origin(const char *name)
{
	const char *o = conf_origin(name);

	return o != NULL ? o : "default";
}

/* A bad value stops postscreen at start-up, naming where it was set. */
static int
ps_action(const char *name, const char *value)
{
	int a = ps_action_parse(value);

	if (a < 0)
		msg_fatal("%s: %s: bad value \"%s\" (ignore, enforce or drop)",
			  ps_origin(name), name, value);
	return a;
}

static _Noreturn void
ps_bad(const char *name, struct buf *err)
{
	msg_fatal("%s: %s: %s", ps_origin(name), name, buf_cstr(err));
}

/* mynetworks as set, or as mynetworks_style makes it (as smtpd). */
static struct match_list *
ps_mynetworks(void)
{
	struct buf err = BUF_INIT;
	struct match_list *l;
	char *made = NULL;
	const char *value = raw.mynetworks;

	if (!conf_is_set("mynetworks") && *raw.mynetworks_style != '\0' &&
	    (value = made = own_networks(raw.mynetworks_style, &err)) == NULL)
		ps_bad("mynetworks_style", &err);
	if ((l = match_list_open("mynetworks", value, &err)) == NULL)
		ps_bad("mynetworks", &err);
	xfree(made);
	buf_free(&err);
	return l;
}

static void
ps_pre_jail(void)
{
	struct buf err = BUF_INIT;
	struct buf path = BUF_INIT;

	/* The log's times need the zone, which the jail cannot read. */
	tzset();
	/* Postfix 3.6's name, whose default is the older name's value. */
	ps_cfg.denylist_action =
	    ps_action(conf_is_set("postscreen_denylist_action") ||
			      !conf_is_set("postscreen_blacklist_action")
			  ? "postscreen_denylist_action"
			  : "postscreen_blacklist_action",
		      ps_cfg.denylist_action_raw);
	ps_cfg.greet_action =
	    ps_action("postscreen_greet_action", ps_cfg.greet_action_raw);
	ps_cfg.dnsbl_action =
	    ps_action("postscreen_dnsbl_action", ps_cfg.dnsbl_action_raw);
	if (ps_dnsbl_sites_parse(ps_cfg.dnsbl_sites_raw, &ps_cfg.sites, &err) <
	    0)
		ps_bad("postscreen_dnsbl_sites", &err);
	if (*ps_cfg.dnsbl_reply_map_raw &&
	    (ps_cfg.reply_map = maps_open(ps_cfg.dnsbl_reply_map_raw, &err)) ==
		NULL)
		ps_bad("postscreen_dnsbl_reply_map", &err);
	ps_cfg.access =
	    ps_access_open(ps_cfg.access_list_raw, ps_mynetworks(), &err);
	if (ps_cfg.access == NULL)
		ps_bad("postscreen_access_list", &err);
	if (strchr(ps_cfg.service_name, '/') != NULL ||
	    *ps_cfg.service_name == '\0' || *ps_cfg.service_name == '.') {
		buf_printf(&err, "\"%s\" is not a service name",
			   ps_cfg.service_name);
		ps_bad("smtpd_service_name", &err);
	}
	if (ps_cfg.sites.count > 0) {
		if (dns_init(ps_cfg.dns_nameservers, &err) < 0)
			ps_bad("dns_nameservers", &err);
		/* One attempt per server within the DNSBL time limit. */
		dns_set_timeout((int)ps_cfg.dnsbl_timeout, 1);
	}
	if ((ps_cfg.have_cache = ps_cache_open(ps_cfg.cache_map, &err)) < 0)
		ps_bad("postscreen_cache_map", &err);
	buf_free(&err);
	buf_free(&path);
}

static void
ps_post_jail(void)
{
	struct buf path = BUF_INIT;

	buf_printf(&path, "%s/private/%s", daemon_queue_dir(),
		   ps_cfg.service_name);
	ps_cfg.smtpd_socket = buf_steal(&path);
}

static void
ps_pre_exit(void)
{
	ps_cache_close();
}

int
main(int argc, char **argv)
{
	static const struct daemon_ops ops = {
	    .mode = DAEMON_EVENT,
	    /* One process holds every client and the cache; it lives as
	     * long as master (Postfix's postscreen also runs for hours). */
	    .flags = DAEMON_FLAG_NO_IDLE_EXIT,
	    .params = ps_params,
	    .pre_jail = ps_pre_jail,
	    .post_jail = ps_post_jail,
	    .serve = ps_session_start,
	    .pre_exit = ps_pre_exit,
	};

	daemon_main(argc, argv, &ops);
}
