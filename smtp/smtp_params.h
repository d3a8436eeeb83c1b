/*
 * smtp_params - the parameters smtp and lmtp both read, one row each in
 * both tables: Postfix's smtp_* and lmtp_* names of the same settings
 * (proto is "smtp" or "lmtp"; r the raw settings struct), so that a
 * setting added for one is there for the other.  The few names that
 * differ (lmtp_lhlo_* for smtp_helo_*, lmtp_tcp_port for
 * smtp_destination_port) and the TLS rows (TLS_PARAMS_BIND) stay in each
 * table.  scripts/conf_macros.py writes the rows out for the parameter
 * and man page checks.
 */
#ifndef PANACEA_SMTP_PARAMS_H
#define PANACEA_SMTP_PARAMS_H

#include "conf.h"
#include "smtp.h"

#define SMTP_CLIENT_BIND(proto, r)                                             \
	CONF_BIND_STR("myhostname", &smtp_cfg.myhostnames),                    \
	    CONF_BIND_STR("inet_protocols", &(r).inet_protocols),              \
	    CONF_BIND_INT(proto "_mx_address_limit", &(r).mx_address_limit),   \
	    CONF_BIND_TIME(proto "_connect_timeout", &(r).connect_timeout),    \
	    CONF_BIND_TIME(proto "_starttls_timeout", &(r).starttls_timeout),  \
	    CONF_BIND_TIME(proto "_mail_timeout", &(r).mail_timeout),          \
	    CONF_BIND_TIME(proto "_rcpt_timeout", &(r).rcpt_timeout),          \
	    CONF_BIND_TIME(proto "_data_init_timeout",                         \
			   &(r).data_init_timeout),                            \
	    CONF_BIND_TIME(proto "_data_xfer_timeout",                         \
			   &(r).data_xfer_timeout),                            \
	    CONF_BIND_TIME(proto "_data_done_timeout",                         \
			   &(r).data_done_timeout),                            \
	    CONF_BIND_TIME(proto "_quit_timeout", &(r).quit_timeout),          \
	    CONF_BIND_TIME(proto "_connection_cache_time_limit",               \
			   &(r).cache_time_limit),                             \
	    CONF_BIND_BOOL(proto "_skip_5xx_greeting",                         \
			   &smtp_cfg.skip_5xx_greeting),                       \
	    CONF_BIND_STR(proto "_bind_address", &(r).bind_address),           \
	    CONF_BIND_STR(proto "_bind_address6", &(r).bind_address6),         \
	    CONF_BIND_STR("dns_nameservers", &(r).dns_nameservers),            \
	    CONF_BIND_STR(proto "_dns_support_level", &(r).dns_support_level), \
	    CONF_BIND_BOOL("disable_dns_lookups", &(r).disable_dns_lookups),   \
	    CONF_BIND_STR("inet_interfaces", &(r).inet_interfaces),            \
	    CONF_BIND_STR("proxy_interfaces", &(r).proxy_interfaces),          \
	    CONF_BIND_STR(proto "_tls_security_level", &(r).tls_level),        \
	    CONF_BIND_STR(proto "_tls_policy_maps", &(r).tls_policy_maps),     \
	    CONF_BIND_BOOL(proto "_use_tls", &(r).use_tls),                    \
	    CONF_BIND_INT(proto "_tls_loglevel", &smtp_cfg.tls_loglevel),      \
	    CONF_BIND_BOOL(proto "_enforce_tls", &(r).enforce_tls),            \
	    CONF_BIND_BOOL(proto "_tls_enforce_peername",                      \
			   &(r).enforce_peername),                             \
	    CONF_BIND_STR(proto "_tls_CAfile", &(r).tls_params.ca_file),       \
	    CONF_BIND_STR(proto "_tls_CApath", &(r).tls_params.ca_path),       \
	    CONF_BIND_STR(proto "_tls_cert_file", &(r).tls_params.cert_file),  \
	    CONF_BIND_STR(proto "_tls_key_file", &(r).tls_params.key_file),    \
	    CONF_BIND_STR(proto "_tls_chain_files",                            \
			  &(r).tls_params.chain_files),                        \
	    CONF_BIND_BOOL(proto "_tls_note_starttls_offer",                   \
			   &smtp_cfg.tls_note_starttls_offer),                 \
	    CONF_BIND_BOOL(proto "_tls_wrappermode",                           \
			   &smtp_cfg.tls_wrappermode),                         \
	    CONF_BIND_STR("tls_ssl_options", &(r).tls_params.ssl_options),     \
	    CONF_BIND_STR("tls_eecdh_auto_curves",                             \
			  &(r).tls_params.auto_curves),                        \
	    CONF_BIND_BOOL(proto "_sasl_auth_enable", &smtp_cfg.sasl_enable),  \
	    CONF_BIND_STR(proto "_sasl_password_maps",                         \
			  &(r).sasl_password_maps),                            \
	    CONF_BIND_STR(proto "_sasl_security_options",                      \
			  &(r).sasl_security_options),                         \
	    CONF_BIND_STR(proto "_sasl_tls_security_options",                  \
			  &(r).sasl_tls_security_options),                     \
	    CONF_BIND_STR(proto "_sasl_mechanism_filter",                      \
			  &smtp_cfg.sasl_mech_filter),                         \
	    CONF_BIND_STR(proto "_header_checks", &smtp_cfg.header_checks),    \
	    CONF_BIND_STR(proto "_mime_header_checks",                         \
			  &smtp_cfg.mime_header_checks),                       \
	    CONF_BIND_STR(proto "_nested_header_checks",                       \
			  &smtp_cfg.nested_header_checks),                     \
	    CONF_BIND_STR(proto "_body_checks", &smtp_cfg.body_checks),        \
	    CONF_BIND_SIZE("body_checks_size_limit",                           \
			   &smtp_cfg.body_checks_size_limit),                  \
	    CONF_BIND_INT("line_length_limit", &smtp_cfg.line_limit),          \
	    CONF_BIND_SIZE("header_size_limit", &smtp_cfg.header_limit),       \
	    CONF_BIND_INT("mime_boundary_length_limit",                        \
			  &smtp_cfg.mime_boundary_limit),                      \
	    CONF_BIND_INT("mime_nesting_limit", &smtp_cfg.mime_nesting_limit), \
	    CONF_BIND_INT(proto "_line_length_limit",                          \
			  &smtp_cfg.smtp_line_limit),                          \
	    CONF_BIND_BOOL("disable_mime_output_conversion",                   \
			   &smtp_cfg.disable_mime_oconv),                      \
	    CONF_BIND_BOOL("strict_8bitmime", &smtp_cfg.strict_8bitmime),      \
	    CONF_BIND_BOOL("strict_8bitmime_body",                             \
			   &smtp_cfg.strict_8bitmime_body),                    \
	    CONF_BIND_BOOL("strict_7bit_headers",                              \
			   &smtp_cfg.strict_7bit_headers)

#endif
