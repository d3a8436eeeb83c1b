/*
 * smtpd - the SMTP server: shared declarations of its files.
 *
 * smtpd.c          main, per-process set-up (before and after the jail)
 * smtpd_session.c  one client connection: the command loop and its state
 * smtpd_check.c    authorised destinations, the local recipient table
 * smtpd_restrict.c the access policy: restriction lists, access tables
 * smtpd_data.c     DATA and BDAT: content into the queue, durable commit
 * smtpd_auth.c     AUTH (through the auth service) and STARTTLS
 * smtpd_hbc.c      header and body checks on the content (lib/hbc.h)
 */
#ifndef PANACEA_SMTPD_H
#define PANACEA_SMTPD_H

#include <stdint.h>
#include <sys/socket.h>

#include "buf.h"
#include "cidr.h"
#include "queue.h"
#include "smtp_cmd.h"
#include "match_list.h"
#include "stream.h"
#include "tls.h"

/* What a process sets up once and every session reads: the parameters of
 * smtpd.c's table (smtpd_params, bound at start-up) and what is derived
 * from them. */
struct smtpd_config {
	const char *myhostname;
	const char *banner; /* smtpd_banner */
	struct match_list *mydestination;
	struct match_list *relay_domains;
	struct match_list *fast_flush_domains;
	struct match_list *virtual_mailbox_domains; /* ours: qmgr routes them */
	struct match_list *mynetworks;
	struct match_list *debug_peers; /* debug_peer_list */
	long long debug_peer_level;
	const char *local_recipient_maps;
	const char *recipient_delimiter;
	const char *sasldb_path; /* only its user names: mail-only users */
	uint64_t size_limit;
	uint64_t header_limit; /* header_size_limit */
	uint64_t queue_minfree;
	long long recipient_limit;
	long long line_limit;
	long long hopcount_limit;
	long long soft_error_limit;
	long long hard_error_limit;
	long long error_sleep_ms;
	long long junk_limit; /* NOOP, VRFY, RSET before they count as errors */
	int helo_required;
	int peername_lookup;
	int tls_auth_only;
	int tls_received_header; /* the "(using TLS...)" Received: line */
	long long tls_loglevel;	 /* smtpd_tls_loglevel */
	int tls_req_ccert;	 /* smtpd_tls_req_ccert (at level encrypt) */
	int timeout_ms;
	/* smtpd_per_record_deadline: each line of message content must
	 * arrive whole within timeout_ms, not merely make some progress. */
	int per_record_deadline;
	int starttls_timeout_ms; /* the TLS handshake, STARTTLS or wrapper */
	int disable_vrfy;
	int auth_enable;
	int auth_header; /* smtpd_sasl_authenticated_header */
	int auth_required;
	int tls_level; /* enum tls_level: none, may, encrypt */
	int wrappermode;
	int local_submission;
	int forbid_unauth_pipelining; /* smtpd_forbid_unauth_pipelining */
	int strict_rfc821;	      /* strict_rfc821_envelopes */
	struct tls_ctx *tls;
	struct queue *queue;
	const char *auth_socket; /* private/auth, or smtpd_sasl_path */
	int auth_type;		 /* enum auth_client_type: smtpd_sasl_type */
	const char *sasl_type, *sasl_path, *sasl_service;
	unsigned sasl_forbid, sasl_require; /* smtpd_sasl_security_options */
	unsigned sasl_tls_forbid, sasl_tls_require; /* ..._tls_... */
	/* content_filter: "transport:destination" for every message this
	 * service queues, "" for none (an access or header FILTER wins). */
	const char *content_filter;
	/* receive_override_options (Postfix's names). */
	int no_unknown_recipient_checks, no_header_body_checks;
	int no_address_mappings;
	int no_milters;
	/* Address rewriting at enqueue and the tables RCPT checks with it
	 * (lib/rewrite.h; opened before the jail). */
	struct rewrite *rewrite;
};

extern struct smtpd_config smtpd_cfg;

/* Per-command counters for the "disconnect from" line. */
enum smtpd_counter {
	CNT_HELO,
	CNT_EHLO,
	CNT_STARTTLS,
	CNT_AUTH,
	CNT_MAIL,
	CNT_RCPT,
	CNT_DATA,
	CNT_BDAT,
	CNT_RSET,
	CNT_NOOP,
	CNT_VRFY,
	CNT_ETRN,
	CNT_QUIT,
	CNT_UNKNOWN,
	CNT_MAX
};

struct smtpd_session {
	struct stream s;
	struct sockaddr_storage peer;
	char client_addr[64];
	char client_name[256];
	int client_port;
	long local_uid; /* local socket: the peer uid (SO_PEERCRED), or -1 */
	int trusted;	/* client in mynetworks */
	char *helo;
	const char *etrn_site; /* while ETRN's restrictions run */
	int esmtp;
	unsigned ext; /* SMTP_EXT_* advertised */
	struct tls_info tls_info;
	int tls_on;
	char *auth_user;
	char *auth_mech;
	unsigned auth_failures;
	struct auth_client *auth; /* the auth service, from EHLO on */
	int auth_down;		  /* it could not be reached */
	/* The transaction between MAIL and the end of DATA. */
	int in_mail;
	struct queue_envelope env;
	int body_8bit;
	int body_binary; /* BODY=BINARYMIME: BDAT only */
	int smtputf8;
	uint64_t declared_size;
	int bdat_failed;	   /* a BDAT chunk failed: reject at LAST */
	struct queue_in *bdat_msg; /* open during a BDAT sequence */
	struct smtpd_data_state *bdat;
	/* Errors and counters. */
	unsigned errors;
	unsigned junk; /* NOOP, VRFY, EXPN, RSET commands */
	unsigned counts[CNT_MAX];
	unsigned fails[CNT_MAX];
	const char *where; /* the last command, for "timeout after X" */
	struct smtpd_access *access; /* smtpd_restrict.c's state */
	struct smtpd_spf *spf;	     /* smtpd_spf.c's state */
	struct smtpd_milter *milter; /* smtpd_milter.c's, or NULL */
	int quit;
};

/* smtpd_session.c */
void smtpd_session_run(int fd);
void smtpd_reply(struct smtpd_session *ss, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Logs "NOQUEUE: reject: CMD from HOST[IP]: REPLY; from=<> to=<> ..." */
void smtpd_log_reject(struct smtpd_session *ss, const char *queue_id,
		      const char *cmd, const char *reply, const char *rcpt);
/* The same with another action (reject_warning, warn, hold, discard...). */
void smtpd_log_action(struct smtpd_session *ss, const char *queue_id,
		      const char *action, const char *cmd, const char *text,
		      const char *rcpt);
/* The line without the queue id: "ACTION: CMD from ...; from=<> ..." */
void smtpd_format_action(struct buf *line, struct smtpd_session *ss,
			 const char *action, const char *cmd, const char *text,
			 const char *rcpt);
void smtpd_reset_transaction(struct smtpd_session *ss);
/* After a read timeout: "421 4.4.2 ... timeout exceeded" and the log. */
void smtpd_timeout(struct smtpd_session *ss, const char *detail);
const char *smtpd_protocol(const struct smtpd_session *ss);

/* smtpd_check.c */
/* Loads the local recipient table before the jail, from smtpd_cfg. */
void smtpd_check_init(void);
/* Frees it: a process keeps its table for life; the unit tests load
 * several (tests/unit/smtpd/). */
void smtpd_check_end(void);
/* The file or parameter whose data is out of date (/etc/passwd, the
 * sasldb, "local_recipient_maps"), or NULL (smtpd_check.c). */
const char *smtpd_check_changed(void);
/* 1 when mail for a may be accepted from anyone: postmaster, a domain of
 * mydestination, virtual_mailbox_domains or relay_domains (and its
 * subdomains), without routing
 * characters or an address literal (reject_unauth_destination). */
int smtpd_is_auth_destination(const struct addr *a);
/* For a local address (mydestination): 1 known (or the check is off:
 * empty local_recipient_maps), 0 unknown, -1 a table failed.  Any other
 * address: 1. */
int smtpd_check_local_user(const struct addr *a);
int smtpd_is_local_domain(const char *domain);
/* Whether ETRN may flush site: fast_flush_domains (Postfix's default
 * $relay_domains), parent domains matching. */
int smtpd_fast_flush_domain(const char *site);
/* reject_unlisted_recipient and reject_unlisted_sender, in Postfix's
 * order: an address in the canonical tables or virtual_alias_maps is
 * known; otherwise, by its domain's class, one of virtual_alias_maps
 * (virtual_alias_domains), the local recipient table (mydestination),
 * relay_recipient_maps when set (relay_domains); any other is known. */
enum smtpd_unlisted {
	SMTPD_KNOWN,
	SMTPD_UNKNOWN_LOCAL,
	SMTPD_UNKNOWN_VIRTUAL,
	SMTPD_UNKNOWN_MAILBOX, /* virtual_mailbox_maps */
	SMTPD_UNKNOWN_RELAY,
	SMTPD_LOOKUP_FAILED, /* try again later */
};
enum smtpd_unlisted smtpd_check_unlisted(const struct addr *a, int sender);
/* 1 when a host list (mynetworks, debug_peer_list) has the client; a
 * table that fails is no match, with a warning naming param. */
int smtpd_client_listed(const char *param, const struct match_list *list,
			const char *name, const char *addr);

/* smtpd_data.c */
void smtpd_data(struct smtpd_session *ss);
void smtpd_bdat(struct smtpd_session *ss, const struct smtp_cmd *cmd);
void smtpd_bdat_abort(struct smtpd_session *ss);

/* smtpd_hbc.c */
struct hbc;
struct hbc_result;
/* Opens the tables before the jail (a bad one stops smtpd). */
void smtpd_hbc_init(void);
/* The first header or body check table that was replaced, or NULL. */
const char *smtpd_hbc_changed_table(void);
/* A checker for a message of this session, or NULL when no table is
 * configured.  A table file replaced since start makes the process exit
 * after the session. */
struct hbc *smtpd_hbc_begin(struct smtpd_session *ss, const char *queue_id);
/* The reply refusing the message (REJECT, or a table that failed): 1 and
 * reply set, or 0. */
int smtpd_hbc_reply(const struct hbc_result *r, struct buf *reply);
/* HOLD, REDIRECT and BCC, into the envelope to commit. */

/* smtpd_auth.c */
/* smtpd_sasl_type and the security options, before the jail: a bad
 * value stops smtpd. */
void smtpd_sasl_init(const char *security_options,
		     const char *tls_security_options);
void smtpd_auth_session_init(struct smtpd_session *ss);
void smtpd_auth_session_end(struct smtpd_session *ss);
void smtpd_auth(struct smtpd_session *ss, const struct smtp_cmd *cmd);
int smtpd_auth_offer(struct smtpd_session *ss, struct buf *mechs);
void smtpd_starttls(struct smtpd_session *ss);
/* Implicit TLS right after the connection (wrappermode); 0 or -1. */
int smtpd_tls_wrap(struct smtpd_session *ss);

#endif
