/*
 * conf_params - the table of every parameter Panacea knows, with its type
 * and compiled-in default (see conf.h).
 *
 * Names follow Postfix wherever Postfix has the same parameter, with the
 * same defaults, so that an administrator's habits carry over.  Panacea's
 * own additions: dns_nameservers, sasldb_path, smtp_destination_port,
 * mail_only_owner, pop3d_*.  Two defaults are computed at run time by conf.c
 * and are empty here: myhostname (gethostname(), with ".localdomain" appended
 * when it has no dot) and mydomain (myhostname without its first label).
 *
 * The table is sorted by name (conf_param_find() bisects it; a unit test
 * checks the order).  A CONF_TIME entry names the unit of a bare number.
 */
#include <stddef.h>
#include <string.h>

#include "conf.h"

const struct conf_param conf_params[] = {
    {"alias_database", CONF_STR, "$alias_maps", 0, 0},
    {"alias_maps", CONF_STR, "hash:$config_directory/aliases", 0, 0},
    {"allow_mail_to_commands", CONF_STR, "alias, forward", 0, 0},
    {"allow_mail_to_files", CONF_STR, "alias, forward", 0, 0},
    {"auth_owner", CONF_STR, "panacea-auth", 0, 0},
    {"auth_ticket_lifetime", CONF_TIME, "60s", 's', 1},
    {"bounce_notice_recipient", CONF_STR, "postmaster", 0, 0},
    {"bounce_queue_lifetime", CONF_TIME, "5d", 'd', 0},
    {"bounce_size_limit", CONF_SIZE, "50000", 0, 1},
    {"command_directory", CONF_STR, "/usr/sbin", 0, 0},
    {"command_time_limit", CONF_TIME, "1000s", 's', 1},
    {"config_directory", CONF_STR, "/etc/panacea", 0, 0},
    {"daemon_directory", CONF_STR, "/usr/libexec/panacea", 0, 0},
    {"daemon_timeout", CONF_TIME, "18000s", 's', 1},
    {"default_destination_concurrency_limit", CONF_INT, "20", 0, 1},
    {"default_destination_recipient_limit", CONF_INT, "50", 0, 1},
    {"default_privs", CONF_STR, "nobody", 0, 0},
    {"default_process_limit", CONF_INT, "100", 0, 1},
    {"default_transport", CONF_STR, "smtp", 0, 0},
    {"delay_logging_resolution_limit", CONF_INT, "2", 0, 0},
    {"delay_warning_time", CONF_TIME, "0h", 'h', 0},
    {"deliver_lock_attempts", CONF_INT, "20", 0, 1},
    {"deliver_lock_delay", CONF_TIME, "1s", 's', 0},
    {"disable_vrfy_command", CONF_BOOL, "no", 0, 0},
    {"dns_nameservers", CONF_STR, "", 0, 0},
    {"double_bounce_sender", CONF_STR, "double-bounce", 0, 0},
    {"header_size_limit", CONF_SIZE, "102400", 0, 1},
    {"home_mailbox", CONF_STR, "", 0, 0},
    {"hopcount_limit", CONF_INT, "50", 0, 1},
    {"import_environment", CONF_STR, "MAIL_CONFIG TZ LANG", 0, 0},
    {"inet_interfaces", CONF_STR, "all", 0, 0},
    {"inet_protocols", CONF_STR, "all", 0, 0},
    {"initial_destination_concurrency", CONF_INT, "5", 0, 1},
    {"ipc_timeout", CONF_TIME, "3600s", 's', 1},
    {"line_length_limit", CONF_INT, "2048", 0, 1},
    {"local_command_shell", CONF_STR, "", 0, 0},
    {"local_destination_concurrency_limit", CONF_INT, "2", 0, 1},
    {"local_destination_recipient_limit", CONF_INT, "1", 0, 1},
    {"local_recipient_maps", CONF_STR, "unix:passwd.byname $alias_maps", 0, 0},
    {"local_transport", CONF_STR, "local", 0, 0},
    {"mail_name", CONF_STR, "Panacea", 0, 0},
    {"mail_only_owner", CONF_STR, "vmail", 0, 0},
    {"mail_owner", CONF_STR, "panacea", 0, 0},
    {"mail_spool_directory", CONF_STR, "/var/mail", 0, 0},
    {"mailbox_size_limit", CONF_SIZE, "51200000", 0, 0},
    {"maillog_file", CONF_STR, "", 0, 0},
    {"mailq_path", CONF_STR, "/usr/bin/mailq", 0, 0},
    {"max_idle", CONF_TIME, "100s", 's', 1},
    {"max_use", CONF_INT, "100", 0, 1},
    {"maximal_backoff_time", CONF_TIME, "4000s", 's', 1},
    {"maximal_queue_lifetime", CONF_TIME, "5d", 'd', 0},
    {"message_size_limit", CONF_SIZE, "10240000", 0, 0},
    {"minimal_backoff_time", CONF_TIME, "300s", 's', 1},
    {"mydestination", CONF_STR, "$myhostname, localhost.$mydomain, localhost",
     0, 0},
    {"mydomain", CONF_STR, "", 0, 0},
    {"myhostname", CONF_STR, "", 0, 0},
    {"mynetworks", CONF_STR, "127.0.0.0/8 [::1]/128", 0, 0},
    {"myorigin", CONF_STR, "$myhostname", 0, 0},
    {"newaliases_path", CONF_STR, "/usr/bin/newaliases", 0, 0},
    {"notify_classes", CONF_STR, "resource, software", 0, 0},
    {"pop3d_apop_enable", CONF_BOOL, "no", 0, 0},
    {"pop3d_auth_failure_delay", CONF_TIME, "2s", 's', 0},
    {"pop3d_auth_failure_limit", CONF_INT, "3", 0, 1},
    {"pop3d_login_delay", CONF_TIME, "0s", 's', 0},
    {"pop3d_plaintext_auth_networks", CONF_STR, "127.0.0.0/8 [::1]/128", 0, 0},
    {"pop3d_timeout", CONF_TIME, "600s", 's', 1},
    {"pop3d_tls_cert_file", CONF_STR, "$smtpd_tls_cert_file", 0, 0},
    {"pop3d_tls_key_file", CONF_STR, "$smtpd_tls_key_file", 0, 0},
    {"pop3d_tls_wrappermode", CONF_BOOL, "no", 0, 0},
    {"process_id_directory", CONF_STR, "pid", 0, 0},
    {"proxy_interfaces", CONF_STR, "", 0, 0},
    {"qmgr_message_active_limit", CONF_INT, "20000", 0, 1},
    {"qmgr_message_recipient_limit", CONF_INT, "20000", 0, 1},
    {"queue_directory", CONF_STR, "/var/spool/panacea", 0, 0},
    {"queue_run_delay", CONF_TIME, "300s", 's', 1},
    {"recipient_delimiter", CONF_STR, "", 0, 0},
    {"relay_domains", CONF_STR, "", 0, 0},
    {"relayhost", CONF_STR, "", 0, 0},
    {"sasldb_path", CONF_STR, "$config_directory/sasldb2", 0, 0},
    {"sendmail_path", CONF_STR, "/usr/sbin/sendmail", 0, 0},
    {"service_throttle_time", CONF_TIME, "60s", 's', 1},
    {"smtp_bind_address", CONF_STR, "", 0, 0},
    {"smtp_bind_address6", CONF_STR, "", 0, 0},
    {"smtp_connect_timeout", CONF_TIME, "30s", 's', 0},
    {"smtp_connection_cache_time_limit", CONF_TIME, "2s", 's', 0},
    {"smtp_data_done_timeout", CONF_TIME, "600s", 's', 1},
    {"smtp_data_init_timeout", CONF_TIME, "120s", 's', 1},
    {"smtp_data_xfer_timeout", CONF_TIME, "180s", 's', 1},
    /* qmgr: TRANSPORT_destination_* limits default to the
     * default_destination_* values when not set. */
    {"smtp_destination_concurrency_limit", CONF_INT, "20", 0, 1},
    {"smtp_destination_port", CONF_INT, "25", 0, 1},
    {"smtp_destination_recipient_limit", CONF_INT, "50", 0, 1},
    {"smtp_helo_name", CONF_STR, "$myhostname", 0, 0},
    {"smtp_helo_timeout", CONF_TIME, "300s", 's', 1},
    {"smtp_mail_timeout", CONF_TIME, "300s", 's', 1},
    {"smtp_mx_address_limit", CONF_INT, "5", 0, 0},
    {"smtp_mx_session_limit", CONF_INT, "2", 0, 0},
    {"smtp_quit_timeout", CONF_TIME, "300s", 's', 1},
    {"smtp_rcpt_timeout", CONF_TIME, "300s", 's', 1},
    {"smtp_sasl_auth_enable", CONF_BOOL, "no", 0, 0},
    {"smtp_sasl_mechanism_filter", CONF_STR, "", 0, 0},
    {"smtp_sasl_password_maps", CONF_STR, "", 0, 0},
    {"smtp_sasl_security_options", CONF_STR, "noplaintext, noanonymous", 0, 0},
    {"smtp_sasl_tls_security_options", CONF_STR, "noanonymous", 0, 0},
    {"smtp_skip_5xx_greeting", CONF_BOOL, "yes", 0, 0},
    {"smtp_starttls_timeout", CONF_TIME, "300s", 's', 1},
    {"smtp_tls_CAfile", CONF_STR, "", 0, 0},
    {"smtp_tls_policy_maps", CONF_STR, "", 0, 0},
    {"smtp_tls_security_level", CONF_STR, "", 0, 0},
    {"smtp_tls_wrappermode", CONF_BOOL, "no", 0, 0},
    {"smtpd_banner", CONF_STR, "$myhostname ESMTP $mail_name", 0, 0},
    {"smtpd_error_sleep_time", CONF_TIME, "1s", 's', 0},
    {"smtpd_hard_error_limit", CONF_INT, "20", 0, 1},
    {"smtpd_helo_required", CONF_BOOL, "no", 0, 0},
    {"smtpd_junk_command_limit", CONF_INT, "100", 0, 1},
    {"smtpd_local_submission", CONF_BOOL, "no", 0, 0},
    {"smtpd_peername_lookup", CONF_BOOL, "yes", 0, 0},
    {"smtpd_recipient_limit", CONF_INT, "1000", 0, 1},
    {"smtpd_sasl_auth_enable", CONF_BOOL, "no", 0, 0},
    {"smtpd_sasl_auth_required", CONF_BOOL, "no", 0, 0},
    {"smtpd_sasl_authenticated_header", CONF_BOOL, "no", 0, 0},
    {"smtpd_sasl_local_domain", CONF_STR, "", 0, 0},
    {"smtpd_sasl_path", CONF_STR, "smtpd", 0, 0},
    {"smtpd_soft_error_limit", CONF_INT, "10", 0, 1},
    {"smtpd_starttls_timeout", CONF_TIME, "300s", 's', 1},
    {"smtpd_timeout", CONF_TIME, "300s", 's', 1},
    {"smtpd_tls_auth_only", CONF_BOOL, "no", 0, 0},
    {"smtpd_tls_cert_file", CONF_STR, "", 0, 0},
    {"smtpd_tls_key_file", CONF_STR, "", 0, 0},
    {"smtpd_tls_security_level", CONF_STR, "", 0, 0},
    {"smtpd_tls_wrappermode", CONF_BOOL, "no", 0, 0},
    {"stale_lock_time", CONF_TIME, "500s", 's', 1},
    {"transport_maps", CONF_STR, "", 0, 0},
    {"transport_retry_time", CONF_TIME, "60s", 's', 1},
    {NULL, CONF_STR, NULL, 0, 0},
};

const struct conf_param *
conf_param_find(const char *name)
{
	size_t lo = 0;
	size_t hi = sizeof(conf_params) / sizeof(conf_params[0]) - 1;
	size_t mid;
	int cmp;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		cmp = strcmp(name, conf_params[mid].name);
		if (cmp == 0)
			return &conf_params[mid];
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}
