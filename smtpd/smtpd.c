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

#include "conf.h"
#include "daemon.h"
#include "dns.h"
#include "msg.h"
#include "smtpd.h"
#include "strutil.h"
#include "xalloc.h"

struct smtpd_config smtpd_cfg;

static void
smtpd_tls_init(void)
{
	const char *cert = conf_str("smtpd_tls_cert_file");
	const char *key = conf_str("smtpd_tls_key_file");
	const char *level = conf_str("smtpd_tls_security_level");
	struct buf err = BUF_INIT;
	int lvl = *level ? tls_level_parse(level) : -1;

	if (*level && (lvl < 0 || lvl > TLS_LEVEL_ENCRYPT))
		msg_fatal("smtpd_tls_security_level: unknown level \"%s\" "
			  "(use none, may or encrypt)",
			  level);
	if (*cert == '\0') {
		if (lvl == TLS_LEVEL_ENCRYPT ||
		    conf_bool("smtpd_tls_wrappermode"))
			msg_fatal("TLS is required but smtpd_tls_cert_file is "
				  "not set");
		smtpd_cfg.tls_level = TLS_LEVEL_NONE;
		return;
	}
	smtpd_cfg.tls = tls_server_ctx_new(cert, *key ? key : cert, &err);
	if (smtpd_cfg.tls == NULL)
		msg_fatal("cannot load TLS certificate and key: %s",
			  buf_cstr(&err));
	smtpd_cfg.tls_level = lvl < 0 ? TLS_LEVEL_MAY : lvl;
	smtpd_cfg.wrappermode = conf_bool("smtpd_tls_wrappermode");
	buf_free(&err);
}

static void
smtpd_pre_jail(void)
{
	struct buf err = BUF_INIT;

	/* The Received: date needs the zone, which the jail cannot read. */
	tzset();
	smtpd_cfg.myhostname = xstrdup(conf_str("myhostname"));
	smtpd_cfg.mydestination =
	    str_split(conf_str("mydestination"), ", \t", NULL);
	smtpd_cfg.relay_domains =
	    str_split(conf_str("relay_domains"), ", \t", NULL);
	if (cidr_list_parse(conf_str("mynetworks"), &smtpd_cfg.mynetworks,
			    &err) < 0)
		msg_fatal("mynetworks: %s", buf_cstr(&err));
	smtpd_cfg.size_limit = (uint64_t)conf_size("message_size_limit");
	smtpd_cfg.recipient_limit = conf_int("smtpd_recipient_limit");
	smtpd_cfg.line_limit = conf_int("line_length_limit");
	smtpd_cfg.hopcount_limit = conf_int("hopcount_limit");
	smtpd_cfg.soft_error_limit = conf_int("smtpd_soft_error_limit");
	smtpd_cfg.hard_error_limit = conf_int("smtpd_hard_error_limit");
	smtpd_cfg.error_sleep_ms = conf_time("smtpd_error_sleep_time") * 1000;
	smtpd_cfg.junk_limit = conf_int("smtpd_junk_command_limit");
	smtpd_cfg.helo_required = conf_bool("smtpd_helo_required");
	smtpd_cfg.timeout_ms = (int)conf_time("smtpd_timeout") * 1000;
	smtpd_cfg.starttls_timeout_ms =
	    (int)conf_time("smtpd_starttls_timeout") * 1000;
	smtpd_cfg.disable_vrfy = conf_bool("disable_vrfy_command");
	smtpd_cfg.auth_enable = conf_bool("smtpd_sasl_auth_enable");
	smtpd_cfg.auth_header = conf_bool("smtpd_sasl_authenticated_header");
	smtpd_cfg.auth_required = conf_bool("smtpd_sasl_auth_required");
	smtpd_cfg.local_submission = conf_bool("smtpd_local_submission");
	smtpd_tls_init();
	if (dns_init(conf_str("dns_nameservers"), &err) < 0)
		msg_warn("DNS resolver: %s; client names will be \"unknown\"",
			 buf_cstr(&err));
	smtpd_check_init();
	buf_free(&err);
}

static void
smtpd_post_jail(void)
{
	struct buf path = BUF_INIT;
	const char *qdir = daemon_queue_dir();

	if (queue_open(qdir, NULL, &smtpd_cfg.queue) != QUEUE_OK)
		msg_fatal("cannot open the queue in %s/db", qdir);
	buf_printf(&path, "%s/public/qmgr", qdir);
	smtpd_cfg.qmgr_socket = buf_steal(&path);
	buf_printf(&path, "%s/private/auth", qdir);
	smtpd_cfg.auth_socket = buf_steal(&path);
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
	    .pre_jail = smtpd_pre_jail,
	    .post_jail = smtpd_post_jail,
	    .serve = smtpd_session_run,
	    .pre_exit = smtpd_pre_exit,
	};

	daemon_main(argc, argv, &ops);
}
