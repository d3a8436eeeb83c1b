/*
 * qmgr - the queue manager's main program: configuration, the queue
 * scan, and the periodic housekeeping.  See qmgr.h for the whole design.
 *
 * Runs on the daemon skeleton in TRIGGER mode (public/qmgr requests) with
 * DAEMON_FLAG_NO_IDLE_EXIT; its agent connections and timers share the
 * skeleton's event loop.  Before the jail it reads what it cannot reach
 * afterwards (the transport table, the services table for each
 * transport's process limit); after it, it opens the queue.
 *
 * Scans are coalesced: many wakeups in a burst cause one scan, and scans
 * are at least QMGR_SCAN_GAP_MS apart, since each one walks the due part
 * of the schedule (the active messages are still in it: qmgr never moves
 * a schedule entry merely because it took the message in hand, which is
 * what makes a restart retry everything that was in flight).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "conf.h"
#include "daemon.h"
#include "events.h"
#include "iostuff.h"
#include "msg.h"
#include "qmgr.h"
#include "rewrite.h"
#include "services.h"
#include "strutil.h"
#include "xalloc.h"

#define QMGR_SCAN_GAP_MS 50
#define QMGR_CHECKPOINT_MS (60 * 1000)
#define QMGR_PURGE_MS (3600 * 1000)
#define QMGR_ORPHAN_AGE (24 * 3600)

struct qmgr_config qmgr_cfg;

static unsigned long scan_timer;
static long long last_scan_ms;
static int last_scan_took; /* the last scan activated a message */
static int scan_left_due;  /* ... and left due ones out for lack of room */
static int draining;	   /* a table changed: finish, then exit */

void
qmgr_fatal_queue(int rc, const char *what)
{
	if (rc == QUEUE_RECOVER)
		msg_fatal("%s: the queue needs recovery; exiting so that "
			  "master runs it",
			  what);
}

static int
transport_lookup(const char *key, struct buf *value, struct buf *err, void *ctx)
{
	return maps_lookup(ctx, key, value, err);
}

/* The recipient of postmaster notices and the double-bounce sender get
 * @myorigin when they have no domain. */
static char *
qualify(const char *addr)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, addr);
	if (strchr(addr, '@') == NULL)
		buf_printf(&b, "@%s", qmgr_cfg.myorigin);
	return buf_steal(&b);
}

/* Parameters read as they are before qmgr_cfg holds what is derived
 * from them. */
static struct {
	const char *transport_maps, *config_directory, *mydestination;
	const char *bounce_notice_recipient, *double_bounce_sender;
	const char *local_transport, *default_transport, *relayhost;
	const char *default_filter_nexthop;
	const char *virtual_mailbox_domains, *virtual_transport;
	const char *relay_domains, *relay_transport;
	const char *sender_relayhost_maps, *sender_transport_maps;
	long long default_process_limit, ipc_timeout, bounce_size_limit;
} raw;

/* Every parameter qmgr reads at start (conf.h, conf_bind); the
 * per-transport limits, TRANSPORT_*, are read by name (qmgr_sched.c). */
static const struct conf_bind qmgr_params[] = {
    CONF_BIND_STR("transport_maps", &raw.transport_maps),
    CONF_BIND_STR("config_directory", &raw.config_directory),
    CONF_BIND_INT("default_process_limit", &raw.default_process_limit),
    CONF_BIND_STR("myhostname", &qmgr_cfg.myhostname),
    CONF_BIND_STR("myorigin", &qmgr_cfg.myorigin),
    CONF_BIND_STR("mydestination", &raw.mydestination),
    CONF_BIND_STR("bounce_notice_recipient", &raw.bounce_notice_recipient),
    CONF_BIND_STR("double_bounce_sender", &raw.double_bounce_sender),
    CONF_BIND_INT("qmgr_message_active_limit", &qmgr_cfg.active_limit),
    CONF_BIND_TIME("minimal_backoff_time", &qmgr_cfg.min_backoff),
    CONF_BIND_TIME("maximal_backoff_time", &qmgr_cfg.max_backoff),
    CONF_BIND_TIME("maximal_queue_lifetime", &qmgr_cfg.max_lifetime),
    CONF_BIND_TIME("bounce_queue_lifetime", &qmgr_cfg.bounce_lifetime),
    CONF_BIND_TIME("delay_warning_time", &qmgr_cfg.delay_warning),
    CONF_BIND_TIME("transport_retry_time", &qmgr_cfg.transport_retry),
    CONF_BIND_TIME("ipc_timeout", &raw.ipc_timeout),
    CONF_BIND_TIME("queue_run_delay", &qmgr_cfg.run_delay),
    CONF_BIND_SIZE("bounce_size_limit", &raw.bounce_size_limit),
    CONF_BIND_STR("local_transport", &raw.local_transport),
    CONF_BIND_STR("virtual_mailbox_domains", &raw.virtual_mailbox_domains),
    CONF_BIND_STR("virtual_transport", &raw.virtual_transport),
    CONF_BIND_STR("default_transport", &raw.default_transport),
    CONF_BIND_STR("relayhost", &raw.relayhost),
    CONF_BIND_STR("relay_domains", &raw.relay_domains),
    CONF_BIND_STR("relay_transport", &raw.relay_transport),
    CONF_BIND_STR("sender_dependent_relayhost_maps",
		  &raw.sender_relayhost_maps),
    CONF_BIND_STR("sender_dependent_default_transport_maps",
		  &raw.sender_transport_maps),
    CONF_BIND_STR("default_filter_nexthop", &raw.default_filter_nexthop),
    CONF_BIND_END,
};

static void
qmgr_pre_jail(void)
{
	struct buf err = BUF_INIT, path = BUF_INIT;
	const char *maps = raw.transport_maps;

	if (*maps) {
		qmgr_cfg.transport_maps = maps_open(maps, &err);
		if (qmgr_cfg.transport_maps == NULL)
			msg_fatal("transport_maps: %s", buf_cstr(&err));
	}
	if (*raw.sender_relayhost_maps &&
	    (qmgr_cfg.sender_relayhost_maps =
		 maps_open(raw.sender_relayhost_maps, &err)) == NULL)
		msg_fatal("sender_dependent_relayhost_maps: %s",
			  buf_cstr(&err));
	if (*raw.sender_transport_maps &&
	    (qmgr_cfg.sender_transport_maps =
		 maps_open(raw.sender_transport_maps, &err)) == NULL)
		msg_fatal("sender_dependent_default_transport_maps: %s",
			  buf_cstr(&err));
	/* Its files and tables are out of reach after the jail. */
	qmgr_cfg.relay_domains =
	    match_list_open("relay_domains", raw.relay_domains, &err);
	if (qmgr_cfg.relay_domains == NULL)
		msg_fatal("%s", buf_cstr(&err));
	qmgr_cfg.mydestination =
	    match_list_open("mydestination", raw.mydestination, &err);
	if (qmgr_cfg.mydestination == NULL)
		msg_fatal("%s", buf_cstr(&err));
	qmgr_cfg.virtual_mailbox_domains = match_list_open(
	    "virtual_mailbox_domains", raw.virtual_mailbox_domains, &err);
	if (qmgr_cfg.virtual_mailbox_domains == NULL)
		msg_fatal("%s", buf_cstr(&err));
	struct rewrite_conf rc;
	rewrite_conf_read(&rc);
	if ((qmgr_cfg.rewrite = rewrite_open(&rc, &err)) == NULL)
		msg_fatal("%s", buf_cstr(&err));
	qmgr_cfg.virtual_alias_domains = match_list_open(
	    "virtual_alias_domains", rc.virtual_alias_domains, &err);
	if (qmgr_cfg.virtual_alias_domains == NULL)
		msg_fatal("%s", buf_cstr(&err));
	qmgr_cfg.default_proc_limit = (int)raw.default_process_limit;
	qmgr_cfg.services = xcalloc(1, sizeof(*qmgr_cfg.services));
	buf_printf(&path, "%s/services", raw.config_directory);
	if (services_read(buf_cstr(&path), qmgr_cfg.default_proc_limit, 1,
			  qmgr_cfg.services, &err) < 0)
		msg_warn("%s; transports use default_process_limit",
			 buf_cstr(&err));
	buf_free(&path);
	buf_free(&err);
}

static void
qmgr_config_init(void)
{
	struct qmgr_config *c = &qmgr_cfg;

	c->bounce_notice_recipient = qualify(raw.bounce_notice_recipient);
	c->double_bounce = qualify(raw.double_bounce_sender);
	c->ipc_timeout_ms = raw.ipc_timeout * 1000;
	c->bounce_size_limit = (unsigned long long)raw.bounce_size_limit;
	c->resolve.mydestination = c->mydestination;
	c->resolve.virtual_alias_domains = c->virtual_alias_domains;
	c->resolve.local_transport = raw.local_transport;
	c->resolve.default_transport = raw.default_transport;
	c->resolve.virtual_mailbox_domains = c->virtual_mailbox_domains;
	c->resolve.virtual_transport = raw.virtual_transport;
	c->resolve.relayhost = raw.relayhost;
	c->resolve.relay_domains = c->relay_domains;
	c->resolve.relay_transport = raw.relay_transport;
	if (c->sender_relayhost_maps) {
		c->resolve.sender_relayhost = transport_lookup;
		c->resolve.sender_relayhost_ctx = c->sender_relayhost_maps;
	}
	if (c->sender_transport_maps) {
		c->resolve.sender_transport = transport_lookup;
		c->resolve.sender_transport_ctx = c->sender_transport_maps;
	}
	c->resolve.default_filter_nexthop = raw.default_filter_nexthop;
	qmgr_sched_init();
	if (c->transport_maps) {
		c->resolve.lookup = transport_lookup;
		c->resolve.lookup_ctx = c->transport_maps;
	}
}

/* The scan: due messages into the active set, while there is room. */

struct scan_state {
	size_t taken;
};

static void
scan_one(const char *id, time_t when, void *ctx)
{
	struct scan_state *st = ctx;

	(void)when;
	if (qmgr_active_find(id) != NULL)
		return;
	if (qmgr_active_count() >= (size_t)qmgr_cfg.active_limit) {
		scan_left_due = 1;
		return;
	}
	if (qmgr_message_activate(id) == 0)
		st->taken++;
}

/* What this process read is old: no new work; the deliveries in flight
 * finish and their statuses are recorded, then the process exits and
 * master starts a new one (one qmgr at a time: master counts this one
 * until it exits). */
static void
qmgr_drain(const char *why)
{
	if (draining)
		return;
	msg_info("%s -- finishing, then exiting", why);
	draining = 1;
	if (qmgr_jobs_in_flight() == 0)
		daemon_request_exit();
}

/* master reloaded the configuration (daemon.h). */
static void
qmgr_reload(void)
{
	qmgr_drain("configuration reloaded");
}

static void
qmgr_scan(void *ctx)
{
	struct scan_state st = {0};
	size_t active = qmgr_active_count(), max;
	int n;

	(void)ctx;
	scan_timer = 0;
	last_scan_ms = io_now_ms();
	last_scan_took = 0;
	scan_left_due = 0;
	if (draining)
		return;
	if (qmgr_cfg.transport_maps && maps_changed(qmgr_cfg.transport_maps)) {
		qmgr_drain("transport_maps changed");
		return;
	}
	if (rewrite_changed(qmgr_cfg.rewrite)) {
		qmgr_drain("a rewriting table changed");
		return;
	}
	if (active >= (size_t)qmgr_cfg.active_limit) {
		scan_left_due = 1;
		return;
	}
	/* The active messages are among the due ones: look past them. */
	max = (size_t)qmgr_cfg.active_limit;
	n = queue_schedule_due(qmgr_cfg.queue, clock_wall(), max, scan_one,
			       &st);
	if (n < 0) {
		qmgr_fatal_queue(n, "scan");
		return;
	}
	last_scan_took = st.taken > 0;
	/* A walk that stopped at max may not have seen every due one. */
	if ((size_t)n >= max)
		scan_left_due = 1;
	qmgr_dispatch();
}

/*
 * The gap between scans is for bursts: a scan that took nothing (the
 * queue manager was idle) lets the next wakeup, new mail, scan at once,
 * so a single message waits for no timer.
 */
void
qmgr_scan_soon(void)
{
	long long wait;

	if (scan_timer != 0)
		return;
	wait =
	    last_scan_took ? last_scan_ms + QMGR_SCAN_GAP_MS - io_now_ms() : 0;
	scan_timer = event_timer_add(wait > 0 ? wait : 0, qmgr_scan, NULL);
}

void
qmgr_scan_room(void)
{
	if (scan_left_due)
		qmgr_scan_soon();
}

/* The drain after a table change ends when the last job is done. */
void
qmgr_drain_check(void)
{
	if (draining && qmgr_jobs_in_flight() == 0)
		daemon_request_exit();
}

/* Housekeeping timers. */

static void
run_timer(void *ctx)
{
	(void)ctx;
	qmgr_scan_soon();
	event_timer_add(qmgr_cfg.run_delay * 1000, run_timer, NULL);
}

static void
checkpoint_timer(void *ctx)
{
	int rc;

	(void)ctx;
	rc = queue_checkpoint(qmgr_cfg.queue);
	qmgr_fatal_queue(rc, "checkpoint");
	event_timer_add(QMGR_CHECKPOINT_MS, checkpoint_timer, NULL);
}

static void
purge_timer(void *ctx)
{
	int n;

	(void)ctx;
	n = queue_purge_orphans(qmgr_cfg.queue, clock_wall() - QMGR_ORPHAN_AGE);
	qmgr_fatal_queue(n, "purge");
	if (n > 0)
		msg_info("purged the content of %d abandoned message%s", n,
			 n == 1 ? "" : "s");
	event_timer_add(QMGR_PURGE_MS, purge_timer, NULL);
}

static void
qmgr_post_jail(void)
{
	qmgr_cfg.qdir = daemon_queue_dir();
	qmgr_config_init();
	qmgr_cfg.queue = daemon_queue_open();
	/* A restart finds whatever was in flight due: look now. */
	qmgr_scan_soon();
	event_timer_add(qmgr_cfg.run_delay * 1000, run_timer, NULL);
	event_timer_add(QMGR_CHECKPOINT_MS, checkpoint_timer, NULL);
	event_timer_add(QMGR_PURGE_MS / 12, purge_timer, NULL);
}

static void
qmgr_pre_exit(void)
{
	queue_close(qmgr_cfg.queue);
	qmgr_cfg.queue = NULL;
}

int
main(int argc, char **argv)
{
	static const struct daemon_ops ops = {
	    .mode = DAEMON_TRIGGER,
	    .flags = DAEMON_FLAG_NO_IDLE_EXIT,
	    .params = qmgr_params,
	    .pre_jail = qmgr_pre_jail,
	    .post_jail = qmgr_post_jail,
	    .trigger = qmgr_trigger,
	    .pre_exit = qmgr_pre_exit,
	    .reload = qmgr_reload,
	};

	daemon_main(argc, argv, &ops);
}
