/*
 * smtpd - the Panacea SMTP server (RFC 5321 with ESMTP extensions).
 *
 * Runs under master on the daemon skeleton, one client at a time.  Before
 * the jail it reads what it will need and cannot reach afterwards: the
 * TLS key and certificate, the local recipient table and the resolver
 * settings.  Passwords are checked by the auth service (private/auth),
 * never here: smtpd has no SASL server and no sasldb password.  After chroot
 * and the drop to mail_owner it opens the queue environment (every process does
 * so as mail_owner, DESIGN.md) and serves sessions (smtpd_session.c).
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth_client.h"
#include "conf.h"
#include "content_filter.h"
#include "daemon.h"
#include "dns.h"
#include "msg.h"
#include "own_addr.h"
#include "peer_name.h"
#include "rewrite.h"
#include "smtpd.h"
#include "smtpd_dmarc.h"
#include "smtpd_milter.h"
#include "smtpd_dkim.h"
#include "smtpd_spf.h"
#include "smtpd_anvil.h"
#include "smtpd_restrict.h"
#include "strutil.h"
#include "tls_params.h"
#include "xalloc.h"

struct smtpd_config smtpd_cfg;

/* Parameters read as they are (seconds, bytes, lists) before smtpd_cfg
 * holds what is derived from them. */
static struct {
	const char *mydestination, *relay_domains, *mynetworks;
	const char *fast_flush_domains;
	const char *virtual_mailbox_domains;
	const char *mynetworks_style, *debug_peer_list;
	const char *tls_level, *tls_fpt_digest;
	int tls_ask_ccert, tls_preempt, use_tls, enforce_tls, tls_req_ccert;
	struct tls_params tls_params;
	const char *dns_nameservers, *inet_interfaces, *proxy_interfaces;
	const char *receive_override_options;
	const char *sasl_security_options, *sasl_tls_security_options;
	long long size_limit, header_limit, queue_minfree;
	long long timeout, starttls_timeout, error_sleep;
} raw;

/* Every parameter smtpd reads (conf.h, conf_bind). */
static const struct conf_bind smtpd_params[] = {
    CONF_BIND_STR("myhostname", &smtpd_cfg.myhostname),
    CONF_BIND_STR("smtpd_banner", &smtpd_cfg.banner),
    CONF_BIND_STR("mydestination", &raw.mydestination),
    CONF_BIND_STR("relay_domains", &raw.relay_domains),
    CONF_BIND_STR("fast_flush_domains", &raw.fast_flush_domains),
    CONF_BIND_STR("virtual_mailbox_domains", &raw.virtual_mailbox_domains),
    CONF_BIND_STR("mynetworks", &raw.mynetworks),
    CONF_BIND_STR("mynetworks_style", &raw.mynetworks_style),
    CONF_BIND_STR("debug_peer_list", &raw.debug_peer_list),
    CONF_BIND_INT("debug_peer_level", &smtpd_cfg.debug_peer_level),
    CONF_BIND_STR("local_recipient_maps", &smtpd_cfg.local_recipient_maps),
    CONF_BIND_STR("recipient_delimiter", &smtpd_cfg.recipient_delimiter),
    CONF_BIND_STR("sasldb_path", &smtpd_cfg.sasldb_path),
    CONF_BIND_STR("dns_nameservers", &raw.dns_nameservers),
    CONF_BIND_STR("inet_interfaces", &raw.inet_interfaces),
    CONF_BIND_STR("proxy_interfaces", &raw.proxy_interfaces),
    CONF_BIND_SIZE("message_size_limit", &raw.size_limit),
    CONF_BIND_SIZE("header_size_limit", &raw.header_limit),
    CONF_BIND_SIZE("queue_minfree", &raw.queue_minfree),
    CONF_BIND_INT("smtpd_recipient_limit", &smtpd_cfg.recipient_limit),
    CONF_BIND_INT("line_length_limit", &smtpd_cfg.line_limit),
    CONF_BIND_INT("hopcount_limit", &smtpd_cfg.hopcount_limit),
    CONF_BIND_INT("smtpd_soft_error_limit", &smtpd_cfg.soft_error_limit),
    CONF_BIND_INT("smtpd_hard_error_limit", &smtpd_cfg.hard_error_limit),
    CONF_BIND_TIME("smtpd_error_sleep_time", &raw.error_sleep),
    CONF_BIND_INT("smtpd_junk_command_limit", &smtpd_cfg.junk_limit),
    CONF_BIND_BOOL("smtpd_helo_required", &smtpd_cfg.helo_required),
    CONF_BIND_BOOL("smtpd_peername_lookup", &smtpd_cfg.peername_lookup),
    CONF_BIND_TIME("smtpd_timeout", &raw.timeout),
    CONF_BIND_BOOL("smtpd_per_record_deadline", &smtpd_cfg.per_record_deadline),
    CONF_BIND_TIME("smtpd_starttls_timeout", &raw.starttls_timeout),
    CONF_BIND_BOOL("disable_vrfy_command", &smtpd_cfg.disable_vrfy),
    CONF_BIND_BOOL("smtpd_sasl_auth_enable", &smtpd_cfg.auth_enable),
    CONF_BIND_BOOL("smtpd_sasl_auth_required", &smtpd_cfg.auth_required),
    CONF_BIND_BOOL("smtpd_sasl_authenticated_header", &smtpd_cfg.auth_header),
    CONF_BIND_STR("smtpd_sasl_type", &smtpd_cfg.sasl_type),
    CONF_BIND_STR("smtpd_sasl_path", &smtpd_cfg.sasl_path),
    CONF_BIND_STR("smtpd_sasl_service", &smtpd_cfg.sasl_service),
    CONF_BIND_STR("smtpd_sasl_security_options", &raw.sasl_security_options),
    CONF_BIND_STR("smtpd_sasl_tls_security_options",
		  &raw.sasl_tls_security_options),
    CONF_BIND_BOOL("smtpd_local_submission", &smtpd_cfg.local_submission),
    CONF_BIND_BOOL("smtpd_forbid_unauth_pipelining",
		   &smtpd_cfg.forbid_unauth_pipelining),
    CONF_BIND_BOOL("strict_rfc821_envelopes", &smtpd_cfg.strict_rfc821),
    CONF_BIND_STR("smtpd_tls_cert_file", &raw.tls_params.cert_file),
    CONF_BIND_STR("smtpd_tls_key_file", &raw.tls_params.key_file),
    CONF_BIND_STR("smtpd_tls_eccert_file", &raw.tls_params.eccert_file),
    CONF_BIND_STR("smtpd_tls_eckey_file", &raw.tls_params.eckey_file),
    CONF_BIND_STR("smtpd_tls_chain_files", &raw.tls_params.chain_files),
    CONF_BIND_STR("smtpd_tls_security_level", &raw.tls_level),
    CONF_BIND_BOOL("smtpd_use_tls", &raw.use_tls),
    CONF_BIND_BOOL("smtpd_enforce_tls", &raw.enforce_tls),
    CONF_BIND_BOOL("smtpd_tls_wrappermode", &smtpd_cfg.wrappermode),
    CONF_BIND_BOOL("smtpd_tls_auth_only", &smtpd_cfg.tls_auth_only),
    CONF_BIND_BOOL("smtpd_tls_received_header", &smtpd_cfg.tls_received_header),
    CONF_BIND_BOOL("smtpd_tls_ask_ccert", &raw.tls_ask_ccert),
    CONF_BIND_BOOL("smtpd_tls_req_ccert", &raw.tls_req_ccert),
    CONF_BIND_INT("smtpd_tls_loglevel", &smtpd_cfg.tls_loglevel),
    CONF_BIND_STR("smtpd_tls_CAfile", &raw.tls_params.ca_file),
    CONF_BIND_STR("smtpd_tls_CApath", &raw.tls_params.ca_path),
    CONF_BIND_STR("smtpd_tls_fingerprint_digest", &raw.tls_fpt_digest),
    TLS_PARAMS_BIND("smtpd", &raw.tls_params),
    CONF_BIND_BOOL("tls_preempt_cipherlist", &raw.tls_preempt),
    CONF_BIND_STR("tls_ssl_options", &raw.tls_params.ssl_options),
    CONF_BIND_STR("tls_eecdh_auto_curves", &raw.tls_params.auto_curves),
    CONF_BIND_STR("smtpd_tls_eecdh_grade", &raw.tls_params.eecdh_grade),
    CONF_BIND_STR("smtpd_tls_dh1024_param_file", &raw.tls_params.dh_file),
    CONF_BIND_TIME("smtpd_tls_session_cache_timeout",
		   &raw.tls_params.cache_timeout),
    CONF_BIND_STR("tls_session_ticket_cipher", &raw.tls_params.ticket_cipher),
    CONF_BIND_STR("data_directory", &raw.tls_params.data_directory),
    CONF_BIND_STR("tls_server_sni_maps", &raw.tls_params.sni_maps),
    /* smtpd_anvil.c's: per-client limits through the anvil service. */
    CONF_BIND_INT("smtpd_client_connection_count_limit",
		  &smtpd_anvil_cfg.conn_count_limit),
    CONF_BIND_INT("smtpd_client_connection_rate_limit",
		  &smtpd_anvil_cfg.conn_rate_limit),
    CONF_BIND_INT("smtpd_client_message_rate_limit",
		  &smtpd_anvil_cfg.msg_rate_limit),
    CONF_BIND_INT("smtpd_client_recipient_rate_limit",
		  &smtpd_anvil_cfg.rcpt_rate_limit),
    CONF_BIND_INT("smtpd_client_new_tls_session_rate_limit",
		  &smtpd_anvil_cfg.newtls_rate_limit),
    CONF_BIND_INT("smtpd_client_auth_rate_limit",
		  &smtpd_anvil_cfg.auth_rate_limit),
    CONF_BIND_STR("smtpd_client_event_limit_exceptions",
		  &smtpd_anvil_cfg.exceptions),
    CONF_BIND_STR("content_filter", &smtpd_cfg.content_filter),
    CONF_BIND_STR("receive_override_options", &raw.receive_override_options),
    CONF_BIND_END,
};

/* content_filter's syntax and receive_override_options' words: a bad
 * value stops smtpd at start, not a message in the queue later. */
static void
smtpd_filter_init(void)
{
	struct buf err = BUF_INIT;
	unsigned flags;

	if (*smtpd_cfg.content_filter &&
	    !content_filter_valid(smtpd_cfg.content_filter))
		msg_fatal("content_filter: bad value \"%s\" (need "
			  "transport:destination)",
			  smtpd_cfg.content_filter);
	if (receive_override_parse(raw.receive_override_options, &flags, &err) <
	    0)
		msg_fatal("receive_override_options: %s", buf_cstr(&err));
	buf_free(&err);
	smtpd_cfg.no_unknown_recipient_checks =
	    (flags & RECEIVE_NO_UNKNOWN_RECIPIENT_CHECKS) != 0;
	smtpd_cfg.no_header_body_checks =
	    (flags & RECEIVE_NO_HEADER_BODY_CHECKS) != 0;
	smtpd_cfg.no_address_mappings =
	    (flags & RECEIVE_NO_ADDRESS_MAPPINGS) != 0;
	smtpd_cfg.no_milters = (flags & RECEIVE_NO_MILTERS) != 0;
}

/* The level an empty smtpd_tls_security_level stands for: Postfix's
 * legacy smtpd_enforce_tls and smtpd_use_tls (postconf(5)). */
static const char *
smtpd_legacy_level(void)
{
	if (raw.enforce_tls) {
		/* Postfix: smtpd_enforce_tls implies smtpd_tls_auth_only. */
		smtpd_cfg.tls_auth_only = 1;
		return "encrypt";
	}
	return raw.use_tls ? "may" : "none";
}

static void
smtpd_tls_init(void)
{
	const char *level =
	    *raw.tls_level ? raw.tls_level : smtpd_legacy_level();
	struct buf err = BUF_INIT;
	int lvl = tls_level_parse(level);

	if (lvl < 0 || lvl > TLS_LEVEL_ENCRYPT)
		msg_fatal("smtpd_tls_security_level: unknown level \"%s\" "
			  "(use none, may or encrypt)",
			  level);
	/* Wrapper mode is TLS whatever the level says (at least may). */
	if (lvl == TLS_LEVEL_NONE && smtpd_cfg.wrappermode)
		lvl = TLS_LEVEL_MAY;
	if (lvl == TLS_LEVEL_NONE) {
		smtpd_cfg.tls_level = TLS_LEVEL_NONE;
		return;
	}
	raw.tls_params.prefix = "smtpd";
	if (!tls_params_have_cert(&raw.tls_params)) {
		if (lvl == TLS_LEVEL_ENCRYPT || smtpd_cfg.wrappermode)
			msg_fatal("TLS is required but neither "
				  "smtpd_tls_cert_file nor "
				  "smtpd_tls_chain_files is set");
		smtpd_cfg.tls_level = TLS_LEVEL_NONE;
		return;
	}
	smtpd_cfg.tls = tls_params_server_ctx(&raw.tls_params);
	smtpd_cfg.tls_level = lvl;
	/* Postfix: the mandatory settings are those of level encrypt. */
	tls_params_apply(smtpd_cfg.tls, &raw.tls_params, 0,
			 smtpd_cfg.tls_level == TLS_LEVEL_ENCRYPT);
	tls_ctx_server_preference(smtpd_cfg.tls, raw.tls_preempt);
	/* Postfix: a certificate can be required only where TLS is. */
	if (raw.tls_req_ccert && lvl != TLS_LEVEL_ENCRYPT)
		msg_warn("smtpd_tls_req_ccert = yes is ignored: it needs "
			 "smtpd_tls_security_level = encrypt");
	else if (raw.tls_req_ccert)
		smtpd_cfg.tls_req_ccert = raw.tls_ask_ccert = 1;
	if (raw.tls_ask_ccert &&
	    tls_server_ctx_ask_ccert(smtpd_cfg.tls, raw.tls_params.ca_file,
				     raw.tls_params.ca_path, raw.tls_fpt_digest,
				     &err) < 0)
		msg_fatal("smtpd_tls_ask_ccert: %s", buf_cstr(&err));
	buf_free(&err);
}

/* The rewriting at enqueue (lib/rewrite.h): its tables, like the
 * others, are opened before the jail; a bad one stops here. */
static void
smtpd_rewrite_init(void)
{
	struct rewrite_conf rc;
	struct buf err = BUF_INIT;

	rewrite_conf_read(&rc);
	if ((smtpd_cfg.rewrite = rewrite_open(&rc, &err)) == NULL)
		msg_fatal("%s", buf_cstr(&err));
	buf_free(&err);
}

/* A list parameter's tables and files, opened before the jail. */
static struct match_list *
open_list(const char *name, const char *value)
{
	struct buf err = BUF_INIT;
	struct match_list *l = match_list_open(name, value, &err);

	if (l == NULL)
		msg_fatal("%s", buf_cstr(&err));
	buf_free(&err);
	return l;
}

/* mynetworks as set, or as mynetworks_style makes it when it is not. */
static const char *
smtpd_mynetworks(void)
{
	static char *made;
	struct buf err = BUF_INIT;

	if (conf_is_set("mynetworks") || *raw.mynetworks_style == '\0')
		return raw.mynetworks;
	if ((made = own_networks(raw.mynetworks_style, &err)) == NULL)
		msg_fatal("mynetworks_style: %s", buf_cstr(&err));
	buf_free(&err);
	if (msg_verbose)
		msg_info("mynetworks from mynetworks_style %s: %s",
			 raw.mynetworks_style, made);
	return made;
}

static void
smtpd_pre_jail(void)
{
	struct buf err = BUF_INIT;

	/* The Received: date needs the zone, which the jail cannot read. */
	tzset();
	smtpd_cfg.mydestination = open_list("mydestination", raw.mydestination);
	smtpd_cfg.relay_domains = open_list("relay_domains", raw.relay_domains);
	smtpd_cfg.fast_flush_domains =
	    open_list("fast_flush_domains", raw.fast_flush_domains);
	smtpd_cfg.virtual_mailbox_domains =
	    open_list("virtual_mailbox_domains", raw.virtual_mailbox_domains);
	smtpd_cfg.mynetworks = open_list("mynetworks", smtpd_mynetworks());
	smtpd_cfg.debug_peers =
	    open_list("debug_peer_list", raw.debug_peer_list);
	smtpd_cfg.size_limit = (uint64_t)raw.size_limit;
	smtpd_cfg.header_limit = (uint64_t)raw.header_limit;
	smtpd_cfg.queue_minfree = (uint64_t)raw.queue_minfree;
	smtpd_cfg.error_sleep_ms = raw.error_sleep * 1000;
	smtpd_cfg.timeout_ms = (int)raw.timeout * 1000;
	smtpd_cfg.starttls_timeout_ms = (int)raw.starttls_timeout * 1000;
	smtpd_tls_init();
	smtpd_sasl_init(raw.sasl_security_options,
			raw.sasl_tls_security_options);
	smtpd_filter_init();
	if (dns_init(raw.dns_nameservers, &err) < 0)
		msg_warn("DNS resolver: %s; client names will be \"unknown\"",
			 buf_cstr(&err));
	/* permit_mx_backup's "this machine": its interfaces (getifaddrs
	 * needs no jail) and a proxy's. */
	if (own_addr_init(raw.inet_interfaces, raw.proxy_interfaces,
			  DNS_INET_ALL, &err) < 0)
		msg_warn("%s; permit_mx_backup will know this machine by "
			 "name only",
			 buf_cstr(&err));
	/* The jail has no /etc: the hosts file is read now. */
	peer_name_init();
	smtpd_check_init();
	smtpd_rewrite_init();
	smtpd_anvil_init();
	smtpd_hbc_init();
	/* The access policy's lists and tables: a bad one stops here. */
	smtpd_restrict_init();
	smtpd_spf_init();
	smtpd_dmarc_init();
	smtpd_milter_init();
	/* Signing keys may be root's alone: read before the drop. */
	smtpd_dkim_init();
	buf_free(&err);
}

static void
smtpd_post_jail(void)
{
	struct buf path = BUF_INIT;
	const char *qdir = daemon_queue_dir();

	smtpd_cfg.queue = daemon_queue_open();
	/* Dovecot's socket: smtpd_sasl_path, relative to the queue
	 * directory as in Postfix (so inside the jail), or absolute, or
	 * inet:host:port.  Panacea's auth(8): private/auth. */
	if (smtpd_cfg.auth_type == AUTH_CLIENT_DOVECOT) {
		const char *sp = smtpd_cfg.sasl_path;

		if (str_has_prefix(sp, "unix:"))
			sp += 5;
		if (sp[0] == '/' || str_has_prefix(sp, "inet:"))
			buf_puts(&path, sp);
		else
			buf_printf(&path, "%s/%s", qdir, sp);
	} else {
		buf_printf(&path, "%s/private/auth", qdir);
	}
	smtpd_cfg.auth_socket = buf_steal(&path);
	smtpd_anvil_post_jail(qdir);
}

/* Before each client: a process whose tables, password database or
 * sasldb changed since it read them (it cannot read them again in its
 * jail) leaves the client to a fresh one, as Postfix's smtpd does. */
static int
smtpd_pre_accept(void)
{
	const char *name = smtpd_check_changed();

	if (name == NULL)
		name = smtpd_hbc_changed_table();
	if (name == NULL)
		name = smtpd_restrict_changed();
	if (name == NULL)
		name = rewrite_changed(smtpd_cfg.rewrite);
	if (name == NULL)
		return 0;
	msg_info("table %s has changed -- restarting", name);
	return 1;
}

static void
smtpd_pre_exit(void)
{
	queue_close(smtpd_cfg.queue);
	smtpd_cfg.queue = NULL;
}

int
main(int argc, char **argv)
{
	static const struct daemon_ops ops = {
	    .mode = DAEMON_SINGLE,
	    .params = smtpd_params,
	    .pre_jail = smtpd_pre_jail,
	    .post_jail = smtpd_post_jail,
	    .serve = smtpd_session_run,
	    .pre_exit = smtpd_pre_exit,
	    .pre_accept = smtpd_pre_accept,
	};

	daemon_main(argc, argv, &ops);
}
