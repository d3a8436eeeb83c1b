/*
 * conf_params - the table of every parameter Panacea knows, with its type,
 * compiled-in default and meaning (see conf.h).  panacea.conf(5) is
 * generated from this table (tools/conf_man.c; "make man"), and
 * scripts/check_params.py fails the build when code reads a name that is
 * not here, reads it as the wrong type, or when a name here is read by no
 * code: a parameter accepted is a parameter implemented.
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
    {"access_map_defer_code", CONF_INT, "450", 0, 0,
     "The reply code of a DEFER or DEFER_IF_* action in an access table "
     "(check_*_access). As in Postfix."},
    {"access_map_reject_code", CONF_INT, "554", 0, 0,
     "The reply code of a REJECT action in an access table (check_*_access). "
     "As in Postfix."},
    {"alias_database", CONF_STR, "$alias_maps", 0, 0,
     "The alias tables that newaliases(1) (sendmail -bi) rebuilds; each is a "
     "type:name table, hash: ones are built from their text file. As in "
     "Postfix."},
    {"alias_maps", CONF_STR, "hash:$config_directory/aliases", 0, 0,
     "The alias tables local(8) looks up a local recipient in, in order "
     "(type:name, separated by commas or blanks). As in Postfix."},
    {"allow_mail_to_commands", CONF_STR, "alias, forward", 0, 0,
     "Where local(8) may deliver to a command (|command): alias (an alias_maps "
     "entry), include (an :include: file) and forward (a .forward file, "
     "forward_path), as a list; empty forbids it. As in Postfix."},
    {"allow_mail_to_files", CONF_STR, "alias, forward", 0, 0,
     "Where local(8) may deliver to a file (/file): alias (an alias_maps "
     "entry), include (an :include: file) and forward (a .forward file, "
     "forward_path), as a list; empty forbids it. As in Postfix."},
    {"allow_percent_hack", CONF_BOOL, "yes", 0, 0,
     "At enqueue, an address without '@' of the form user%domain "
     "becomes user@domain (the last '%'). As in Postfix."},
    {"always_bcc", CONF_STR, "", 0, 0,
     "An address that receives a blind carbon copy of each new message "
     "(smtpd(8), pickup(8); not what qmgr(8) composes), added with "
     "NOTIFY=NEVER. As in Postfix."},
    {"anvil_rate_time_unit", CONF_TIME, "60s", 's', 1,
     "The time unit of the rates anvil(8) counts for smtpd(8)'s "
     "smtpd_client_*_rate_limit parameters: a client's rates start over at "
     "its first event after a unit that began with its first event. As in "
     "Postfix."},
    {"anvil_status_update_time", CONF_TIME, "600s", 's', 1,
     "How often anvil(8) logs the largest connection count and rates it saw "
     "since its last report (statistics: max ... lines; also when it "
     "exits). As in Postfix."},
    {"append_at_myorigin", CONF_BOOL, "yes", 0, 0,
     "At enqueue, append @$myorigin to an address without domain. "
     "As in Postfix."},
    {"append_dot_mydomain", CONF_BOOL, "no", 0, 0,
     "At enqueue, append .$mydomain to the domain of an address "
     "that has no dot (localhost and address literals excepted). As in "
     "Postfix 3.0 and later (default no)."},
    {"auth_owner", CONF_STR, "panacea-auth", 0, 0,
     "Panacea's own: the account the auth(8) service runs as, the only one "
     "that reads the mail users' passwords (sasldb_path)."},
    {"auth_ticket_lifetime", CONF_TIME, "60s", 's', 1,
     "Panacea's own: how long the ticket auth(8) issues for a POP3 login stays "
     "redeemable by pop3session(8)."},
    {"authorized_mailq_users", CONF_STR, "static:anyone", 0, 0,
     "Who may list the queue (mailq, sendmail -bp, panqueue -p and -j): user "
     "names, /file/name entries (their words) and type:table entries (the "
     "user name is looked up; \"unknown\" for a uid without an account), "
     "first match decides, \"!\" excludes; a value that starts with a "
     "static: table (static:anyone) lets every user; root and mail_owner "
     "always may. As in Postfix; Panacea's showq(8) also checks the uid of "
     "whoever connects to public/showq, with the account names it read at "
     "start."},
    {"authserv_id", CONF_STR, "$myhostname", 0, 0,
     "The authserv-id (RFC 8601 2.5) of the Authentication-Results: header "
     "that smtpd(8) writes (smtpd_dkim_verify, "
     "smtpd_authentication_results); incoming Authentication-Results "
     "fields that carry this id are removed first, as only this host may "
     "write them (RFC 8601 5). Panacea's own."},
    {"biff", CONF_BOOL, "yes", 0, 0,
     "No-op in Panacea: local(8) never notifies comsat. Postfix: whether "
     "local delivery notifies the biff service."},
    {"body_checks", CONF_STR, "", 0, 0,
     "Lookup tables (regexp: or pcre:, header_checks(5)) that smtpd(8) "
     "applies to each body line of a message as it is received: "
     "preambles, part bodies and MIME boundary lines, in pieces of at most "
     "line_length_limit bytes, while a body segment has had fewer than "
     "body_checks_size_limit bytes. Actions as for header_checks. As in "
     "Postfix, where cleanup(8) applies them."},
    {"body_checks_size_limit", CONF_SIZE, "51200", 0, 0,
     "How many bytes of each message body segment (the body after one "
     "header section: the message's, a MIME part's) body_checks inspect. "
     "As in Postfix."},
    {"bounce_notice_recipient", CONF_STR, "postmaster", 0, 0,
     "The address that receives the postmaster copy of a double bounce (a "
     "bounce that could not be delivered). As in Postfix."},
    {"bounce_queue_lifetime", CONF_TIME, "5d", 'd', 0,
     "How long qmgr(8) retries a bounce message (null sender) before giving it "
     "up; 0 means one attempt. As in Postfix."},
    {"bounce_size_limit", CONF_SIZE, "50000", 0, 1,
     "The most of the original message (in bytes) a bounce includes; beyond it "
     "only the headers are returned. As in Postfix."},
    {"canonical_classes", CONF_STR,
     "envelope_sender, envelope_recipient, header_sender, header_recipient", 0,
     0,
     "Which addresses the canonical tables rewrite: envelope_sender, "
     "envelope_recipient, header_sender (From:, Sender: ...), "
     "header_recipient (To:, Cc: ...; headers only of the mail "
     "local_header_rewrite_clients names). As in Postfix."},
    {"canonical_maps", CONF_STR, "", 0, 0,
     "Tables of address to address (canonical(5)) applied at enqueue to "
     "envelope senders and recipients (canonical_classes), after "
     "sender_canonical_maps or recipient_canonical_maps; a result is looked "
     "up again while it changes (at most 100 times). Keys: user@domain, "
     "user (for $myorigin and $mydestination), @domain. As in Postfix."},
    {"command_time_limit", CONF_TIME, "1000s", 's', 1,
     "The longest a command that local(8) runs for a delivery (|command, "
     "mailbox_command) may take; it is then killed and the delivery "
     "deferred. pipe(8)'s default for TRANSPORT_time_limit. As in "
     "Postfix."},
    {"compatibility_level", CONF_STR, "0", 0, 0,
     "No-op in Panacea: its defaults are the ones this page gives, whatever "
     "the level. Postfix: which release's defaults apply."},
    {"config_directory", CONF_STR, "/etc/panacea", 0, 0,
     "The directory of panacea.conf and services; its default follows -c and "
     "MAIL_CONFIG, so that $config_directory names the directory actually "
     "read. As in Postfix."},
    {"content_filter", CONF_STR, "", 0, 0,
     "After a message is queued, send all of it to this "
     "\"transport:destination\" (a services table name and its next hop, "
     "as in transport(5)) instead of each recipient's own route: an "
     "external content filter that hands the message back through an "
     "smtpd service with -o content_filter= (Postfix's FILTER_README, the "
     "advanced model). smtpd(8) and pickup(8) read it, so a services line "
     "can set it per service; a FILTER action in an access(5) table, then "
     "one in header_checks or body_checks, takes precedence. Mail that "
     "Panacea writes itself (bounces, local's forwarding) is not filtered. "
     "An empty destination is default_filter_nexthop, else the recipient's "
     "domain. As in Postfix."},
    {"daemon_directory", CONF_STR, "/usr/libexec/panacea", 0, 0,
     "The directory of the daemon programs that master(8) starts. As in "
     "Postfix."},
    {"data_directory", CONF_STR, "/var/lib/panacea", 0, 0,
     "Where postscreen(8) keeps its cache of clients that passed its tests "
     "(postscreen_cache_map) and smtpd(8) the secret its session ticket "
     "keys come from (smtpd_tls_ticket_secret, root's, mode 0600, made at "
     "the first start); postscreen or smtpd makes the folder for "
     "mail_owner (mode 0700) when it is missing. As in Postfix, where "
     "other caches and the PRNG state live there too."},
    {"debug_peer_level", CONF_INT, "2", 0, 1,
     "How many levels of verbose logging smtpd(8) adds for a client that "
     "debug_peer_list matches. As in Postfix."},
    {"debug_peer_list", CONF_STR, "", 0, 0,
     "Clients (addresses, networks as address/bits, host names, .domain or "
     "domain for a domain and its subdomains, /file/name entries) for whose "
     "sessions smtpd(8) logs verbosely by debug_peer_level. As in Postfix."},
    {"debugger_command", CONF_STR, "", 0, 0,
     "No-op in Panacea: no daemon takes -D. Postfix: the command a daemon "
     "started with -D runs to attach a debugger."},
    {"default_database_type", CONF_STR, "hash", 0, 0,
     "No-op in Panacea: every table parameter names its type (type:name). "
     "Postfix: the type of a table that newaliases and postmap build "
     "without one."},
    {"default_destination_concurrency_failed_cohort_limit", CONF_INT, "1", 0, 0,
     "How many pseudo-cohorts (as many deliveries as the destination's "
     "concurrency window) may end in a failure of the destination as a whole "
     "(connection or handshake failure, the agent failed or timed out) before "
     "qmgr(8) marks it dead and suspends delivery to it for "
     "minimal_backoff_time; a delivery without such a failure resets the "
     "count, and 0 never marks a destination dead. "
     "TRANSPORT_destination_concurrency_failed_cohort_limit overrides it for "
     "one transport. As in Postfix."},
    {"default_destination_concurrency_limit", CONF_INT, "20", 0, 1,
     "The most deliveries qmgr(8) runs at once to one destination of a "
     "transport that has no TRANSPORT_destination_concurrency_limit of its "
     "own. As in Postfix."},
    {"default_destination_concurrency_negative_feedback", CONF_STR, "1", 0, 0,
     "How much a destination's concurrency window shrinks after a delivery "
     "that failed as a whole: a number, number/number (constant), or "
     "number/concurrency (divided by the window), in 0..1. The window loses "
     "one at the first failure of a run of 1/feedback and never goes below "
     "1; 1 lowers it by one at each failure, 1/concurrency by one per failed "
     "pseudo-cohort. TRANSPORT_destination_concurrency_negative_feedback "
     "overrides it for one transport. As in Postfix."},
    {"default_destination_concurrency_positive_feedback", CONF_STR, "1", 0, 0,
     "How much a destination's concurrency window grows after a delivery "
     "that did not fail as a whole, in the forms of "
     "default_destination_concurrency_negative_feedback: the window gains "
     "one at the end of a run of 1/feedback, up to "
     "TRANSPORT_destination_concurrency_limit, and only while it is in use "
     "(below the deliveries in flight plus the initial window); 1 doubles it "
     "every pseudo-cohort, 1/concurrency adds one per pseudo-cohort. "
     "TRANSPORT_destination_concurrency_positive_feedback overrides it for "
     "one transport. As in Postfix."},
    {"default_destination_recipient_limit", CONF_INT, "50", 0, 1,
     "The most recipients qmgr(8) gives one delivery request of a transport "
     "that has no TRANSPORT_destination_recipient_limit of its own. As in "
     "Postfix."},
    {"default_filter_nexthop", CONF_STR, "", 0, 0,
     "The next hop of a content filter (content_filter or FILTER) written "
     "without one, as qmgr(8) routes it; empty: the recipient's domain. As "
     "in Postfix 2.7 and later."},
    {"default_privs", CONF_STR, "nobody", 0, 0,
     "The unprivileged account local(8) runs the files and commands of an "
     "alias database or :include: file as when root owns it (pop3session(8) "
     "shares the mailbox rules that name it). As in Postfix."},
    {"default_process_limit", CONF_INT, "100", 0, 1,
     "The most processes of one service master(8) runs at once when the "
     "services line says \"-\" for maxproc. As in Postfix."},
    {"default_rbl_reply", CONF_STR,
     "$rbl_code Service unavailable; $rbl_class [$rbl_what] blocked using "
     "$rbl_domain${rbl_reason?; $rbl_reason}",
     0, 0,
     "The reply template of reject_rbl_client and reject_rhsbl_*: $rbl_code, "
     "$rbl_class, $rbl_what, $rbl_domain, $rbl_reason (the list's TXT record), "
     "$client_address, $client_name, $helo_name, $sender, $recipient, with "
     "${name?text} and ${name:text}; filled in at each refusal, not when the "
     "file is read. As in Postfix."},
    {"default_transport", CONF_STR, "smtp", 0, 0,
     "The transport qmgr(8) gives a recipient that is neither local nor in "
     "transport_maps. As in Postfix."},
    {"defer_code", CONF_INT, "450", 0, 0,
     "The reply code of the defer and defer_if_* restrictions. As in Postfix."},
    {"delay_logging_resolution_limit", CONF_INT, "2", 0, 0,
     "The largest number of decimals in the delay= and delays=a/b/c/d fields "
     "of the delivery log lines (0 to 6; more is a configuration error): 10 s "
     "and more is whole seconds, from 1 s one decimal, below that two "
     "significant digits within this limit, trailing zeros dropped; a delay "
     "below the limit's resolution is 0. a is the time before qmgr took the "
     "message in hand, b until the delivery agent got it (or to the end when "
     "qmgr decided alone), c the agent's connection set-up, d the transfer. As "
     "in Postfix."},
    {"delay_warning_time", CONF_TIME, "0h", 'h', 0,
     "After how long a still-deferred message earns its sender a delay notice; "
     "0 sends none. As in Postfix."},
    {"deliver_lock_attempts", CONF_INT, "20", 0, 1,
     "How many times local(8) and pop3session(8) try to lock a mailbox before "
     "the delivery or the session is deferred. As in Postfix."},
    {"deliver_lock_delay", CONF_TIME, "1s", 's', 0,
     "The pause between two attempts to lock a mailbox. As in Postfix."},
    {"destination_concurrency_feedback_debug", CONF_BOOL, "no", 0, 0,
     "When yes, qmgr(8) logs every change of a destination's concurrency "
     "window (the feedback, the window, the success, failure and failed "
     "pseudo-cohort counts) in Postfix's format, for performance analysis. As "
     "in Postfix."},
    {"disable_dns_lookups", CONF_BOOL, "no", 0, 0,
     "Postfix's legacy form of smtp_dns_support_level = disabled, used "
     "only when smtp_dns_support_level (lmtp_dns_support_level) is empty. "
     "As in Postfix."},
    {"disable_mime_input_processing", CONF_BOOL, "no", 0, 0,
     "Give MIME headers no special treatment while receiving: "
     "header_checks see the message's headers, body_checks everything "
     "after them, line by line (mime_header_checks and "
     "nested_header_checks are not used). As in Postfix."},
    {"disable_mime_output_conversion", CONF_BOOL, "no", 0, 0,
     "When yes, smtp(8) sends 8-bit mail unchanged to a next hop that does "
     "not offer 8BITMIME. When no (the default), it re-encodes the message's "
     "8-bit MIME leaf parts (7bit, 8bit or binary, nested multiparts and "
     "attached messages included) as quoted-printable and relabels 8bit "
     "multiparts and attached messages 7bit; base64 and quoted-printable "
     "parts are untouched. As in Postfix."},
    {"disable_vrfy_command", CONF_BOOL, "no", 0, 0,
     "When yes, smtpd(8) refuses VRFY (502 5.5.1), so that a client cannot "
     "probe which addresses exist. As in Postfix."},
    {"dkim_key_table", CONF_STR, "", 0, 0,
     "The DKIM signing keys, in OpenDKIM's KeyTable format: lines \"NAME "
     "DOMAIN:SELECTOR:/path/to/key.pem\" (DOMAIN % is the signing "
     "address's domain; RSA or Ed25519 PEM keys, which may be readable by "
     "root only: smtpd(8) and pickup(8) read them at start, before "
     "dropping privileges). Used with dkim_signing_table; see DESIGN.md "
     "\"DKIM\". Panacea's own (Postfix sites run OpenDKIM)."},
    {"dkim_signature_limit", CONF_INT, "5", 0, 1,
     "The most DKIM-Signature fields of one message that smtpd(8) verifies "
     "(smtpd_dkim_verify), from the top; later ones are ignored, so that a "
     "message cannot make smtpd do unbounded DNS lookups and signature "
     "checks. Panacea's own."},
    {"dkim_signing_table", CONF_STR, "", 0, 0,
     "Which From: addresses are DKIM-signed with which key of "
     "dkim_key_table, in OpenDKIM's SigningTable format: lines \"PATTERN "
     "KEYNAME\", looked up with the address, its domain and its parent "
     "domains (\".example.com\"), or, as \"refile:/path\", with "
     "wildcard patterns (*@example.com) in file order.  Every line of the "
     "first pattern that matches signs: an RSA and an Ed25519 key under one "
     "pattern give two signatures.  smtpd(8) signs the mail of SASL clients, "
     "mynetworks and local submission, pickup(8) that of the maildrop, "
     "each once, after header rewriting, relaxed/relaxed, without l=. "
     "Empty: no signing. Panacea's own."},
    {"dns_nameservers", CONF_STR, "", 0, 0,
     "Panacea's own: ip[:port] list of the DNS servers every lookup uses; "
     "empty uses the servers of /etc/resolv.conf."},
    {"double_bounce_sender", CONF_STR, "double-bounce", 0, 0,
     "The sender of bounces of bounces; mail to it is discarded, which breaks "
     "bounce loops. As in Postfix."},
    {"enable_long_queue_ids", CONF_BOOL, "no", 0, 0,
     "No-op in Panacea: its queue ids have one form (lib/queue_id). "
     "Postfix: queue ids that do not repeat, for its file-based queue."},
    {"fallback_transport", CONF_STR, "", 0, 0,
     "A transport:nexthop that local(8) hands the delivery of a recipient "
     "to when its name is no account and no alias (a mailbox server that "
     "knows more users: lmtp:unix:private/dovecot-lmtp, or a pipe(8) "
     "service); its agent logs the delivery. Tried before luser_relay. As "
     "in Postfix, without fallback_transport_maps."},
    {"fast_flush_domains", CONF_STR, "$relay_domains", 0, 0,
     "The sites (domain names, parent domains matching, /file/name and "
     "type:table entries) that a client may ask smtpd(8) to deliver now "
     "with ETRN; others get 459. Panacea keeps no per-site logs: qmgr(8) "
     "makes the deferred mail of the site due at once (as panqueue -s). "
     "As in Postfix."},
    {"forward_path", CONF_STR,
     "$home/.forward${recipient_delimiter}${extension}, $home/.forward", 0, 0,
     "The .forward files local(8) looks for, in order, the first that "
     "exists being the user's (after aliases, before mailbox_command and "
     "the mailbox; unix users with a home only): $home, $user, $extension, "
     "$recipient_delimiter, $local, $domain and $recipient expand (not "
     "$-expanded by the configuration). The file is read with the user's "
     "ids and must be the user's regular file; it holds addresses (copies "
     "queued from the original sender), \\user or the user's name (the "
     "mailbox), |commands and /files (run as the user, when "
     "allow_mail_to_commands / allow_mail_to_files name forward). As in "
     "Postfix, without :include: in .forward files and without "
     "${name?value} forms."},
    {"header_checks", CONF_STR, "", 0, 0,
     "Lookup tables (regexp: or pcre:, header_checks(5)) that smtpd(8) "
     "applies to each header of a message's own header section, one "
     "logical header at a time (continuation lines joined with a newline), "
     "smtpd's Received: included, MIME headers excepted. Actions: REJECT "
     "[text], DISCARD, HOLD, WARN, INFO, IGNORE, STRIP, PREPEND, REPLACE, "
     "REDIRECT, BCC, PASS, DUNNO/OK; FILTER is not supported (logged, the "
     "line is kept). Every message from a client or from sendmail(1) is "
     "checked, by smtpd(8), and by pickup(8) what sendmail kept in "
     "maildrop/ (where REJECT holds the message: pickup cannot answer the "
     "sender). As in Postfix, where cleanup(8) applies them."},
    {"header_size_limit", CONF_SIZE, "102400", 0, 1,
     "The most bytes of one message header field, with its continuation "
     "lines and the line ends between them, that smtpd(8) stores; the "
     "excess of a longer field is discarded (the line the limit falls in "
     "is cut there, later continuation lines are dropped) and logged. As "
     "in Postfix."},
    {"home_mailbox", CONF_STR, "", 0, 0,
     "When set, local(8) delivers to this file or, ending in \"/\", this "
     "maildir, relative to the user's home directory, instead of "
     "mail_spool_directory. As in Postfix."},
    {"hopcount_limit", CONF_INT, "50", 0, 1,
     "A message with more Received: headers than this is refused (554 5.4.6), "
     "which breaks mail loops. As in Postfix."},
    {"html_directory", CONF_STR, "no", 0, 0,
     "No-op in Panacea: no HTML documentation is installed. Postfix: where "
     "its HTML files are."},
    {"import_environment", CONF_STR, "MAIL_CONFIG TZ LANG", 0, 0,
     "The names of the environment variables master(8) passes on to the "
     "programs it starts (name or name=value). As in Postfix."},
    {"inet_interfaces", CONF_STR, "all", 0, 0,
     "The addresses master(8) listens on for inet services (all, loopback-only "
     "or a list); also which addresses are this host's own for smtp(8). As in "
     "Postfix."},
    {"inet_protocols", CONF_STR, "all", 0, 0,
     "The address families used: ipv4, ipv6 or all. As in Postfix."},
    {"initial_destination_concurrency", CONF_INT, "5", 0, 1,
     "How many deliveries qmgr(8) runs at once to a destination it starts "
     "delivering to (slow start), before feedback from the deliveries widens "
     "the window toward TRANSPORT_destination_concurrency_limit (never "
     "beyond it: local's limit of 2 wins); also the window a dead "
     "destination starts again with. With a recipient limit of 1 the "
     "destination is the recipient. TRANSPORT_initial_destination_concurrency "
     "overrides it for one transport. As in Postfix."},
    {"invalid_hostname_reject_code", CONF_INT, "501", 0, 0,
     "The reply code of reject_invalid_helo_hostname. As in Postfix."},
    {"ipc_timeout", CONF_TIME, "3600s", 's', 1,
     "The longest qmgr(8) waits for a delivery agent's reply to one delivery "
     "request before it gives the recipients back to the queue. As in "
     "Postfix."},
    {"line_length_limit", CONF_INT, "2048", 0, 1,
     "The longest SMTP command line smtpd(8) reads, in bytes; a longer one is "
     "refused with 500 5.5.2. Also the pieces in which body_checks and "
     "smtp_body_checks see a longer body line. Postfix also splits message "
     "lines at this length; Panacea stores and sends them whole."},
    {"lmtp_bind_address", CONF_STR, "", 0, 0,
     "As smtp_bind_address, for lmtp(8). As in Postfix."},
    {"lmtp_bind_address6", CONF_STR, "", 0, 0,
     "As smtp_bind_address6, for lmtp(8). As in Postfix."},
    {"lmtp_body_checks", CONF_STR, "", 0, 0,
     "As smtp_body_checks, for lmtp(8). As in Postfix."},
    {"lmtp_connect_timeout", CONF_TIME, "0s", 's', 0,
     "As smtp_connect_timeout, for lmtp(8) (TCP and UNIX-domain sockets); "
     "0, the default, uses the kernel's limit. As in Postfix."},
    {"lmtp_connection_cache_time_limit", CONF_TIME, "2s", 's', 0,
     "How long lmtp(8) keeps a clean session open (RSET before the next "
     "message) for the next delivery to the same next hop; 0 disables "
     "reuse. As in Postfix."},
    {"lmtp_data_done_timeout", CONF_TIME, "600s", 's', 1,
     "As smtp_data_done_timeout, for lmtp(8). As in Postfix."},
    {"lmtp_data_init_timeout", CONF_TIME, "120s", 's', 1,
     "As smtp_data_init_timeout, for lmtp(8). As in Postfix."},
    {"lmtp_data_xfer_timeout", CONF_TIME, "180s", 's', 1,
     "As smtp_data_xfer_timeout, for lmtp(8). As in Postfix."},
    {"lmtp_dns_support_level", CONF_STR, "", 0, 0,
     "As smtp_dns_support_level, for lmtp(8) (which never looks up MX "
     "records). As in Postfix."},
    {"lmtp_enforce_tls", CONF_BOOL, "no", 0, 0,
     "As smtp_enforce_tls, for lmtp(8). As in Postfix."},
    {"lmtp_header_checks", CONF_STR, "", 0, 0,
     "As smtp_header_checks, for lmtp(8). As in Postfix."},
    {"lmtp_lhlo_name", CONF_STR, "$myhostname", 0, 0,
     "The name lmtp(8) sends in LHLO. As in Postfix."},
    {"lmtp_lhlo_timeout", CONF_TIME, "300s", 's', 1,
     "How long lmtp(8) waits for the greeting and for the reply to LHLO. "
     "As in Postfix."},
    {"lmtp_line_length_limit", CONF_INT, "998", 0, 0,
     "As smtp_line_length_limit, for lmtp(8). As in Postfix."},
    {"lmtp_mail_timeout", CONF_TIME, "300s", 's', 1,
     "As smtp_mail_timeout, for lmtp(8). As in Postfix."},
    {"lmtp_mime_header_checks", CONF_STR, "", 0, 0,
     "As smtp_mime_header_checks, for lmtp(8). As in Postfix."},
    {"lmtp_mx_address_limit", CONF_INT, "5", 0, 0,
     "The most addresses of an LMTP host lmtp(8) tries for one delivery "
     "(it never looks up MX records); 0 means no limit. As in Postfix."},
    {"lmtp_nested_header_checks", CONF_STR, "", 0, 0,
     "As smtp_nested_header_checks, for lmtp(8). As in Postfix."},
    {"lmtp_quit_timeout", CONF_TIME, "300s", 's', 1,
     "As smtp_quit_timeout, for lmtp(8). As in Postfix."},
    {"lmtp_rcpt_timeout", CONF_TIME, "300s", 's', 1,
     "As smtp_rcpt_timeout, for lmtp(8). As in Postfix."},
    {"lmtp_sasl_auth_enable", CONF_BOOL, "no", 0, 0,
     "As smtp_sasl_auth_enable, for lmtp(8). As in Postfix."},
    {"lmtp_sasl_mechanism_filter", CONF_STR, "", 0, 0,
     "As smtp_sasl_mechanism_filter, for lmtp(8). As in Postfix."},
    {"lmtp_sasl_password_maps", CONF_STR, "", 0, 0,
     "As smtp_sasl_password_maps, for lmtp(8). As in Postfix."},
    {"lmtp_sasl_security_options", CONF_STR, "noplaintext, noanonymous", 0, 0,
     "As smtp_sasl_security_options, for lmtp(8). As in Postfix."},
    {"lmtp_sasl_tls_security_options", CONF_STR, "noanonymous", 0, 0,
     "As smtp_sasl_tls_security_options, for lmtp(8). As in Postfix."},
    {"lmtp_skip_5xx_greeting", CONF_BOOL, "yes", 0, 0,
     "As smtp_skip_5xx_greeting, for lmtp(8). As in Postfix."},
    {"lmtp_starttls_timeout", CONF_TIME, "300s", 's', 1,
     "As smtp_starttls_timeout, for lmtp(8). As in Postfix."},
    {"lmtp_tcp_port", CONF_INT, "24", 0, 1,
     "The TCP port of an LMTP next hop that names none (inet:HOST). As in "
     "Postfix."},
    {"lmtp_tls_CAfile", CONF_STR, "", 0, 0,
     "As smtp_tls_CAfile, for lmtp(8). As in Postfix."},
    {"lmtp_tls_CApath", CONF_STR, "", 0, 0,
     "As smtp_tls_CApath, for lmtp(8). As in Postfix."},
    {"lmtp_tls_cert_file", CONF_STR, "", 0, 0,
     "As smtp_tls_cert_file, for lmtp(8). As in Postfix."},
    {"lmtp_tls_chain_files", CONF_STR, "", 0, 0,
     "As smtp_tls_chain_files, for lmtp(8). As in Postfix."},
    {"lmtp_tls_ciphers", CONF_STR, "medium", 0, 0,
     "As smtp_tls_ciphers, for lmtp(8). As in Postfix."},
    {"lmtp_tls_enforce_peername", CONF_BOOL, "yes", 0, 0,
     "As smtp_tls_enforce_peername, for lmtp(8). As in Postfix."},
    {"lmtp_tls_exclude_ciphers", CONF_STR, "", 0, 0,
     "As smtp_tls_exclude_ciphers, for lmtp(8). As in Postfix."},
    {"lmtp_tls_key_file", CONF_STR, "$lmtp_tls_cert_file", 0, 0,
     "As smtp_tls_key_file, for lmtp(8). As in Postfix."},
    {"lmtp_tls_loglevel", CONF_INT, "0", 0, 0,
     "As smtp_tls_loglevel, for lmtp(8). As in Postfix."},
    {"lmtp_tls_mandatory_ciphers", CONF_STR, "medium", 0, 0,
     "As smtp_tls_mandatory_ciphers, for lmtp(8). As in Postfix."},
    {"lmtp_tls_mandatory_exclude_ciphers", CONF_STR, "", 0, 0,
     "As smtp_tls_mandatory_exclude_ciphers, for lmtp(8). As in Postfix."},
    {"lmtp_tls_mandatory_protocols", CONF_STR, ">=TLSv1.2", 0, 0,
     "As smtp_tls_mandatory_protocols, for lmtp(8). As in Postfix."},
    {"lmtp_tls_note_starttls_offer", CONF_BOOL, "no", 0, 0,
     "As smtp_tls_note_starttls_offer, for lmtp(8). As in Postfix."},
    {"lmtp_tls_policy_maps", CONF_STR, "", 0, 0,
     "As smtp_tls_policy_maps, for lmtp(8). As in Postfix."},
    {"lmtp_tls_protocols", CONF_STR, ">=TLSv1.2", 0, 0,
     "As smtp_tls_protocols, for lmtp(8). As in Postfix."},
    {"lmtp_tls_security_level", CONF_STR, "", 0, 0,
     "As smtp_tls_security_level, for lmtp(8). As in Postfix."},
    {"lmtp_tls_wrappermode", CONF_BOOL, "no", 0, 0,
     "As smtp_tls_wrappermode, for lmtp(8). As in Postfix."},
    {"lmtp_use_tls", CONF_BOOL, "no", 0, 0,
     "As smtp_use_tls, for lmtp(8). As in Postfix."},
    {"local_command_shell", CONF_STR, "", 0, 0,
     "The program that runs a local(8) command delivery, with the command as "
     "its argument; empty runs it with /bin/sh -c. As in Postfix."},
    {"local_destination_concurrency_limit", CONF_INT, "2", 0, 1,
     "The most deliveries qmgr(8) runs at once to one local recipient (the "
     "local transport's destination is the recipient). As in Postfix."},
    {"local_destination_recipient_limit", CONF_INT, "1", 0, 1,
     "The most recipients in one local delivery request; 1 gives each "
     "recipient its own delivery. As in Postfix."},
    {"local_header_rewrite_clients", CONF_STR, "permit_inet_interfaces", 0, 0,
     "The clients whose message header addresses (From:, To: ...) are "
     "rewritten at enqueue with the standard form, canonical_maps and "
     "masquerade_domains (canonical_classes, masquerade_classes), besides "
     "mail from sendmail(1), which always is: permit_inet_interfaces (an "
     "address of this machine), permit_mynetworks, "
     "permit_sasl_authenticated, static:all. As in Postfix, with these "
     "words only."},
    {"local_recipient_maps", CONF_STR, "unix:passwd.byname $alias_maps", 0, 0,
     "The tables of valid local recipients: smtpd(8) refuses mail to an "
     "unknown local user (550 5.1.1); empty accepts any local recipient. As in "
     "Postfix."},
    {"local_transport", CONF_STR, "local", 0, 0,
     "The transport of recipients in mydestination. As in Postfix."},
    {"luser_relay", CONF_STR, "", 0, 0,
     "An address that local(8) sends a copy to (queued by qmgr(8) from the "
     "original sender) when a recipient's name is no account, no alias and "
     "fallback_transport is empty, instead of bouncing it. $user, "
     "$extension, $recipient, $local, $domain, $recipient_delimiter and "
     "$home (empty) expand. Unknown users reach local only when "
     "local_recipient_maps lets them through smtpd. As in Postfix."},
    {"mail_name", CONF_STR, "Panacea", 0, 0,
     "The name of the mail system, used in smtpd_banner's default. As in "
     "Postfix."},
    {"mail_only_owner", CONF_STR, "vmail", 0, 0,
     "Panacea's own: the account that owns the mailboxes of mail-only users "
     "(users of sasldb_path without a unix account); their deliveries and POP3 "
     "sessions run as it. It must exist and be neither root nor mail_owner. "
     "make install and make run create it; local(8) refuses to run as root "
     "without it."},
    {"mail_owner", CONF_STR, "panacea", 0, 0,
     "The account that owns the queue and that the unprivileged daemons run "
     "as. As in Postfix."},
    {"mail_spool_directory", CONF_STR, "/var/mail", 0, 0,
     "The directory of the users' mbox mailboxes (file named by the user "
     "name). As in Postfix."},
    {"mailbox_command", CONF_STR, "", 0, 0,
     "A command (procmail, maildrop) that local(8) delivers each local "
     "user's mail to instead of the mailbox, run through "
     "local_command_shell (default /bin/sh -c) as the recipient in every "
     "uid, in its home, with the message on its standard input and HOME, "
     "USER, LOGNAME, SHELL, PATH, SENDER, RECIPIENT, LOCAL, EXTENSION, "
     "DOMAIN, ORIGINAL_RECIPIENT and CLIENT_ADDRESS in its environment, "
     "for at most command_time_limit; its exit status decides as for "
     "pipe(8). Not used for aliases, nor when mailbox_transport is set. "
     "Not $-expanded. As in Postfix."},
    {"mailbox_command_maps", CONF_STR, "", 0, 0,
     "Tables (type:name) that give a local user's mailbox_command by user "
     "name, looked up first; mailbox_command when none answers. As in "
     "Postfix."},
    {"mailbox_size_limit", CONF_SIZE, "51200000", 0, 0,
     "The largest a mailbox or maildir delivery may make a mailbox, in bytes; "
     "0 means no limit. As in Postfix."},
    {"mailbox_transport", CONF_STR, "", 0, 0,
     "A transport:nexthop that local(8) hands each local user's mailbox "
     "delivery to, after alias expansion and before any account lookup "
     "(lmtp:unix:private/dovecot-lmtp gives the mail to Dovecot); the "
     "agent of that transport logs the delivery. Empty delivers to the "
     "user's mailbox. As in Postfix."},
    {"maillog_file", CONF_STR, "", 0, 0,
     "When set, the file every program logs to instead of syslog; one Panacea "
     "creates is mode 0640, group adm. As in Postfix."},
    {"manpage_directory", CONF_STR, "/usr/share/man", 0, 0,
     "No-op in Panacea: make install takes PREFIX. Postfix: where its manual "
     "pages are installed."},
    {"maps_rbl_reject_code", CONF_INT, "554", 0, 0,
     "The reply code of reject_rbl_client and reject_rhsbl_* (the template's "
     "$rbl_code). As in Postfix."},
    {"masquerade_classes", CONF_STR,
     "envelope_sender, header_sender, header_recipient", 0, 0,
     "Which addresses masquerade_domains rewrites: envelope_sender, "
     "envelope_recipient, header_sender, header_recipient. As in Postfix."},
    {"masquerade_domains", CONF_STR, "", 0, 0,
     "Domains whose subdomains are stripped from addresses at enqueue "
     "(user@host.example.com becomes user@example.com), first match wins; "
     "!domain leaves that domain and its subdomains as they are. As in "
     "Postfix."},
    {"masquerade_exceptions", CONF_STR, "", 0, 0,
     "Local parts (a list: names, /file/name, type:table) that "
     "masquerade_domains leaves alone. As in Postfix."},
    {"max_idle", CONF_TIME, "100s", 's', 1,
     "How long a daemon waits for its next client or request before it exits "
     "(long-lived services such as qmgr and auth never do). As in Postfix."},
    {"max_use", CONF_INT, "100", 0, 1,
     "How many clients a daemon serves before it exits (and master starts a "
     "fresh one). As in Postfix."},
    {"maximal_backoff_time", CONF_TIME, "4000s", 's', 1,
     "The longest qmgr(8) waits between two attempts to deliver a deferred "
     "message. As in Postfix."},
    {"maximal_queue_lifetime", CONF_TIME, "5d", 'd', 0,
     "How long a message may stay deferred before it is bounced; 0 means one "
     "attempt. As in Postfix."},
    {"message_size_limit", CONF_SIZE, "10240000", 0, 0,
     "The largest message smtpd(8), sendmail(1) and pickup(8) accept, in "
     "bytes; 0 means no limit. As in Postfix."},
    {"meta_directory", CONF_STR, "$config_directory", 0, 0,
     "No-op in Panacea: it has no postfix-files. Postfix: where its "
     "installation's meta files are."},
    {"milter_command_timeout", CONF_TIME, "30s", 's', 1,
     "How long the MTA waits for a mail filter's reply to an SMTP command "
     "event (connect, HELO, MAIL, RCPT, DATA) or writes one; a filter that "
     "takes longer gets milter_default_action. As in Postfix."},
    {"milter_connect_macros", CONF_STR, "j {daemon_name} {daemon_addr} v _", 0,
     0,
     "The macros sent to mail filters with the connect event (a filter may "
     "ask for others in its negotiation). As in Postfix."},
    {"milter_connect_timeout", CONF_TIME, "30s", 's', 1,
     "How long the MTA may take to connect to a mail filter and negotiate "
     "the protocol with it. As in Postfix."},
    {"milter_content_timeout", CONF_TIME, "300s", 's', 1,
     "How long the MTA waits for a mail filter's reply to a header, a body "
     "chunk or the end of the message (a progress reply starts the wait "
     "again). As in Postfix."},
    {"milter_data_macros", CONF_STR, "i", 0, 0,
     "The macros sent to mail filters with the DATA event. As in Postfix."},
    {"milter_default_action", CONF_STR, "tempfail", 0, 0,
     "What happens when a mail filter cannot be reached, times out, closes "
     "the connection or breaks the protocol: accept (go on as if it were not "
     "there), reject or tempfail (every later command of the session is "
     "refused with 550 5.7.1 or 451 4.7.1), quarantine (accept, and put "
     "the session's messages on hold). As in Postfix."},
    {"milter_end_of_data_macros", CONF_STR, "i", 0, 0,
     "The macros sent to mail filters with the end of the message. As in "
     "Postfix."},
    {"milter_end_of_header_macros", CONF_STR, "i", 0, 0,
     "The macros sent to mail filters with the end of the header section. "
     "As in Postfix."},
    {"milter_helo_macros", CONF_STR,
     "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}", 0, 0,
     "The macros sent to mail filters with the HELO or EHLO event. As in "
     "Postfix."},
    {"milter_macro_daemon_name", CONF_STR, "$myhostname", 0, 0,
     "The value of the {daemon_name} macro sent to mail filters. As in "
     "Postfix."},
    {"milter_macro_v", CONF_STR, "$mail_name", 0, 0,
     "The value of the v macro sent to mail filters (Postfix's default adds "
     "its version)."},
    {"milter_mail_macros", CONF_STR,
     "i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} "
     "{mail_mailer}",
     0, 0,
     "The macros sent to mail filters with the MAIL FROM event. As in "
     "Postfix; i (the queue id) is sent from DATA on, when Panacea has one."},
    {"milter_protocol", CONF_STR, "6", 0, 0,
     "The mail filter protocol version the MTA offers: 2, 3, 4 or 6, "
     "optionally followed by no_header_reply (the filter does not answer "
     "each header). As in Postfix."},
    {"milter_rcpt_macros", CONF_STR, "i {rcpt_addr} {rcpt_host} {rcpt_mailer}",
     0, 0,
     "The macros sent to mail filters with each RCPT TO event. As in "
     "Postfix."},
    {"milter_unknown_command_macros", CONF_STR, "", 0, 0,
     "The macros sent to mail filters with an SMTP command smtpd(8) does "
     "not know (SMFIC_UNKNOWN, which carries the command as received; a "
     "filter's reply answers it, else smtpd's 500). As in Postfix."},
    {"mime_boundary_length_limit", CONF_INT, "2048", 0, 1,
     "How many bytes of a MIME boundary the header and body checks and "
     "smtp(8)'s 8-bit to 7-bit conversion compare; boundaries that agree "
     "that far are the same. As in Postfix."},
    {"mime_header_checks", CONF_STR, "$header_checks", 0, 0,
     "Lookup tables for MIME headers (MIME-Version, Content-Type, "
     "Content-Transfer-Encoding, Content-Disposition, Content-Description, "
     "Content-ID) anywhere in a message and for every header of a "
     "multipart part, as header_checks. As in Postfix."},
    {"mime_nesting_limit", CONF_INT, "100", 0, 1,
     "How deep the header and body checks follow nested multiparts; deeper "
     "parts are taken as plain body. Postfix refuses such mail; Panacea "
     "accepts it. smtp(8) bounces (5.6.0) a message nested deeper than this "
     "(multiparts and attached messages) that it would have to convert to "
     "7 bits, as Postfix's smtp does."},
    {"minimal_backoff_time", CONF_TIME, "300s", 's', 1,
     "The shortest qmgr(8) waits between two attempts to deliver a deferred "
     "message. As in Postfix."},
    {"multi_recipient_bounce_reject_code", CONF_INT, "550", 0, 0,
     "The reply code of reject_multi_recipient_bounce. As in Postfix."},
    {"mydestination", CONF_STR, "$myhostname, localhost.$mydomain, localhost",
     0, 0,
     "The domains this host delivers locally (through local_transport): "
     "domain names (.domain for its subdomains), /file/name entries (their "
     "words) and type:table entries (the domain is looked up); !entry "
     "excludes. As in Postfix."},
    {"mydomain", CONF_STR, "", 0, 0,
     "The domain of this host; its default is myhostname without its first "
     "label. As in Postfix."},
    {"myhostname", CONF_STR, "", 0, 0,
     "The fully qualified name of this host; its default is gethostname() with "
     ".localdomain added when it has no dot. As in Postfix."},
    {"mynetworks", CONF_STR, "127.0.0.0/8 [::1]/128", 0, 0,
     "The client networks smtpd(8) relays mail for: addresses and "
     "address/bits networks, /file/name entries (their words) and "
     "type:table entries (the client address is looked up); !entry "
     "excludes. When it is not set and mynetworks_style is, that style "
     "makes it. As in Postfix, except the default (the loopback networks)."},
    {"mynetworks_style", CONF_STR, "", 0, 0,
     "How smtpd(8) makes mynetworks when mynetworks is not set: host (the "
     "addresses of this machine's interfaces), subnet (their networks) or "
     "class (their class A, B or C networks). As in Postfix, except the "
     "default: empty, which keeps mynetworks' own default."},
    {"myorigin", CONF_STR, "$myhostname", 0, 0,
     "The domain added to an unqualified sender or recipient of locally posted "
     "mail. As in Postfix."},
    {"nested_header_checks", CONF_STR, "$header_checks", 0, 0,
     "Lookup tables for the headers of an attached message "
     "(message/rfc822), MIME headers excepted, as header_checks. As in "
     "Postfix."},
    {"non_fqdn_reject_code", CONF_INT, "504", 0, 0,
     "The reply code of reject_non_fqdn_helo_hostname, reject_non_fqdn_sender "
     "and reject_non_fqdn_recipient. As in Postfix."},
    {"non_smtpd_milters", CONF_STR, "", 0, 0,
     "Mail filters (inet:host:port or unix:/path, applied in order) for mail "
     "submitted locally: sendmail(1) through the submit service (smtpd(8)) "
     "or, while the system was down, through maildrop/ (pickup(8), which "
     "holds a message a filter refuses, as it cannot answer the sender). "
     "As in Postfix."},
    {"permit_mx_backup_networks", CONF_STR, "", 0, 0,
     "permit_mx_backup accepts only domains whose primary MX hosts all have "
     "addresses in these networks (CIDR, as mynetworks; empty: any). As in "
     "Postfix."},
    {"plaintext_reject_code", CONF_INT, "450", 0, 0,
     "The reply code of reject_plaintext_session (a session without TLS). "
     "As in Postfix."},
    {"policy_time_limit", CONF_TIME, "1000s", 's', 1,
     "No-op in Panacea: Panacea has no spawn(8), which runs a policy server "
     "for Postfix (SMTPD_POLICY_README's service \"policy\"; the time limit "
     "of any such service NAME is NAME_time_limit, as "
     "policyd-spf_time_limit, accepted without a warning when a "
     "check_policy_service target ends in NAME). Run the policy server on "
     "its own (a systemd socket or inetd service for one that speaks on "
     "stdin and stdout); smtpd(8)'s side of the time is "
     "smtpd_policy_service_timeout. Postfix: the time limit of the spawn "
     "service named policy."},
    {"pop3d_apop_enable", CONF_BOOL, "no", 0, 0,
     "Panacea's own: when yes, pop3d(8) offers APOP login."},
    {"pop3d_auth_failure_delay", CONF_TIME, "2s", 's', 0,
     "Panacea's own: how long pop3d(8) waits before it answers a failed "
     "login."},
    {"pop3d_auth_failure_limit", CONF_INT, "3", 0, 1,
     "Panacea's own: after this many failed logins pop3d(8) closes the "
     "session."},
    {"pop3d_login_delay", CONF_TIME, "0s", 's', 0,
     "Panacea's own: the shortest time between two logins of one user (RFC "
     "2449 LOGIN-DELAY); 0 means none."},
    {"pop3d_peername_lookup", CONF_BOOL, "yes", 0, 0,
     "Panacea's own, pop3d(8)'s smtpd_peername_lookup: when yes, the "
     "client's name in \"connect from NAME[IP]\" comes from /etc/hosts "
     "(read before chroot) or, for an address that is not loopback, from a "
     "forward-confirmed DNS reverse lookup; otherwise it is \"unknown\"."},
    {"pop3d_plaintext_auth_networks", CONF_STR, "127.0.0.0/8 [::1]/128", 0, 0,
     "Panacea's own: the client networks (CIDR) where pop3d(8) allows a "
     "password in clear text (USER/PASS without TLS)."},
    {"pop3d_timeout", CONF_TIME, "600s", 's', 1,
     "Panacea's own: how long pop3d(8) and pop3session(8) wait for a client "
     "command."},
    {"pop3d_tls_cert_file", CONF_STR, "$smtpd_tls_cert_file", 0, 0,
     "Panacea's own: the PEM certificate (chain) of pop3d(8); empty disables "
     "STLS."},
    {"pop3d_tls_key_file", CONF_STR, "$smtpd_tls_key_file", 0, 0,
     "Panacea's own: the PEM private key of pop3d_tls_cert_file; empty means "
     "in the certificate file."},
    {"pop3d_tls_wrappermode", CONF_BOOL, "no", 0, 0,
     "Panacea's own: when yes, pop3d(8) starts TLS on connect (port 995, "
     "POP3S) instead of offering STLS."},
    {"postscreen_access_list", CONF_STR, "permit_mynetworks", 0, 0,
     "postscreen(8)'s permanent allow/denylist of client addresses, tried in "
     "order immediately after a client connects: permit_mynetworks, permit "
     "(hand the client to smtpd at once), reject (denylisted: "
     "postscreen_denylist_action applies), dunno (stop here, run the tests) "
     "and type:table entries asked for the client address (cidr: tables), "
     "whose values are lists of these commands, where dunno goes on with "
     "the next entry. As in Postfix."},
    {"postscreen_blacklist_action", CONF_STR, "ignore", 0, 0,
     "The name of postscreen_denylist_action before Postfix 3.6; "
     "postscreen_denylist_action's default is this value. As in Postfix."},
    {"postscreen_cache_map", CONF_STR, "btree:$data_directory/postscreen_cache",
     0, 0,
     "postscreen(8)'s temporary allowlist: the clients that passed its tests "
     "and until when. Only btree:/absolute/path (which postscreen writes "
     "itself, opened before its jail as mail_owner) or empty (no cache). As "
     "in Postfix, without its periodic cleanup "
     "(postscreen_cache_cleanup_interval) and without sharing through "
     "proxy: or memcache:."},
    {"postscreen_command_count_limit", CONF_INT, "20", 0, 1,
     "How many commands postscreen(8)'s dummy SMTP engine (a client that "
     "failed a test with enforce) answers before it ends the session with "
     "421. As in Postfix."},
    {"postscreen_command_time_limit", CONF_TIME, "300s", 's', 1,
     "How long postscreen(8)'s dummy SMTP engine waits for a command line. "
     "As in Postfix, without its shorter limit under stress."},
    {"postscreen_denylist_action", CONF_STR, "$postscreen_blacklist_action", 0,
     0,
     "What postscreen(8) does with a client that postscreen_access_list "
     "rejects: ignore (run the tests, hand off as usual), enforce (run the "
     "tests, then refuse every RCPT with 550 5.3.2 in its dummy SMTP "
     "engine) or drop (521 and disconnect). As in Postfix 3.6 and later "
     "(postscreen_blacklist_action before)."},
    {"postscreen_dnsbl_action", CONF_STR, "ignore", 0, 0,
     "What postscreen(8) does with a client whose DNSBL score reaches "
     "postscreen_dnsbl_threshold: ignore, enforce (550 5.7.1 Service "
     "unavailable; client [ADDR] blocked using DNSBL to every RCPT) or drop "
     "(the same text with 521, then disconnect). As in Postfix."},
    {"postscreen_dnsbl_reply_map", CONF_STR, "", 0, 0,
     "A table from a DNSBL domain of postscreen_dnsbl_sites to the name "
     "postscreen(8)'s replies show instead (to hide a password in the "
     "domain); the domain itself when the table has no entry. As in "
     "Postfix."},
    {"postscreen_dnsbl_sites", CONF_STR, "", 0, 0,
     "The DNS lists postscreen(8) asks about each new client, in parallel "
     "with postscreen_greet_wait: domain[=filter][*weight] entries, where "
     "filter is a reply address pattern (d.d.d.d, d a number, [n..m] or "
     "[n;m;...]) and weight an integer (default 1, negative to allowlist); a "
     "list that lists the client adds its weight once. As in Postfix; the "
     "lookups run in a child process of postscreen per client instead of "
     "Postfix's dnsblog(8) service."},
    {"postscreen_dnsbl_threshold", CONF_INT, "1", 0, 1,
     "The DNSBL score at or above which postscreen(8) applies "
     "postscreen_dnsbl_action. As in Postfix."},
    {"postscreen_dnsbl_timeout", CONF_TIME, "10s", 's', 1,
     "The time limit of one DNSBL lookup of postscreen(8); a result that "
     "has not arrived when postscreen_greet_wait ends counts as not listed, "
     "and the client is then not allowlisted. As in Postfix."},
    {"postscreen_dnsbl_ttl", CONF_TIME, "1h", 'h', 1,
     "How long a client's passed DNSBL test stays good in "
     "postscreen_cache_map. As in Postfix 2.8 to 3.0 (later "
     "postscreen_dnsbl_max_ttl, with the DNS reply's TTL, which Panacea "
     "does not use)."},
    {"postscreen_greet_action", CONF_STR, "ignore", 0, 0,
     "What postscreen(8) does with a client that talks before its turn "
     "within postscreen_greet_wait (PREGREET): ignore (hand off, not "
     "allowlisted), enforce (550 5.3.2 Service currently unavailable to "
     "every RCPT in its dummy SMTP engine) or drop (521 and disconnect). As "
     "in Postfix."},
    {"postscreen_greet_banner", CONF_STR, "$smtpd_banner", 0, 0,
     "The text of the 220- teaser postscreen(8) sends before the greet wait "
     "(smtpd's 220 greeting completes the multi-line reply); empty sends "
     "none. As in Postfix."},
    {"postscreen_greet_ttl", CONF_TIME, "1d", 'd', 1,
     "How long a client's passed pregreet test stays good in "
     "postscreen_cache_map. As in Postfix."},
    {"postscreen_greet_wait", CONF_TIME, "6s", 's', 1,
     "How long postscreen(8) waits for a new client to talk before its "
     "turn, and for the DNSBL results. As in Postfix, without its shorter "
     "wait under stress."},
    {"propagate_unmatched_extensions", CONF_STR, "canonical, virtual", 0, 0,
     "Which tables copy an address extension (recipient_delimiter) from "
     "the address to the result when the key that matched had none: "
     "canonical, virtual (others are accepted and do nothing: local's "
     "aliases keep their own rules). As in Postfix."},
    {"proxy_interfaces", CONF_STR, "", 0, 0,
     "The addresses (or host names) of a proxy or NAT that forwards SMTP to "
     "this host; as with inet_interfaces, smtp(8) treats an MX host at one of "
     "them as this host. As in Postfix."},
    {"proxy_read_maps", CONF_STR,
     "$local_recipient_maps $alias_maps $transport_maps "
     "$smtp_sasl_password_maps $smtp_tls_policy_maps "
     "$virtual_alias_maps $virtual_alias_domains $canonical_maps "
     "$sender_canonical_maps $recipient_canonical_maps $sender_bcc_maps "
     "$recipient_bcc_maps $relay_recipient_maps $virtual_mailbox_maps "
     "$virtual_uid_maps $virtual_gid_maps",
     0, 0,
     "The tables the proxymap(8) service may open for its clients: a request "
     "for TYPE:NAME is answered only when this list names proxy:TYPE:NAME "
     "(other entries are ignored). As in Postfix, with Panacea's table "
     "parameters in the default."},
    {"qmgr_message_active_limit", CONF_INT, "20000", 0, 1,
     "The most messages qmgr(8) holds in memory at once; others wait in the "
     "queue. As in Postfix."},
    {"queue_directory", CONF_STR, "/var/spool/panacea", 0, 0,
     "The directory of the mail queue; the daemons that are jailed chroot "
     "here. As in Postfix."},
    {"queue_minfree", CONF_SIZE, "0", 0, 0,
     "The free space, in bytes, the queue's file system must have for smtpd(8) "
     "to take a message: MAIL is refused with 452 4.3.1 Insufficient system "
     "storage when less is free, or less than 1.5 times message_size_limit, or "
     "(MAIL with SIZE=N) less than N plus this. As in Postfix."},
    {"queue_run_delay", CONF_TIME, "300s", 's', 1,
     "How often qmgr(8) scans the queue for deferred messages that are due. As "
     "in Postfix."},
    {"rbl_reply_maps", CONF_STR, "", 0, 0,
     "Tables of DNS list domain (as written in the restriction, "
     "\"domain=filter\", then the domain alone) to a reply template in "
     "default_rbl_reply's syntax. As in Postfix."},
    {"readme_directory", CONF_STR, "no", 0, 0,
     "No-op in Panacea: no README files are installed. Postfix: where its "
     "READMEs are."},
    {"receive_override_options", CONF_STR, "", 0, 0,
     "Words that turn checks off for the mail one service receives, "
     "typically on the smtpd(8) a content filter hands mail back to: "
     "no_unknown_recipient_checks (no \"User unknown\" refusal of a "
     "recipient; smtpd only), no_header_body_checks (no header_checks, "
     "mime_header_checks, nested_header_checks or body_checks), "
     "no_address_mappings (no virtual alias, canonical or masquerade "
     "rewriting, no automatic BCC) and no_milters (no smtpd_milters or "
     "non_smtpd_milters). smtpd(8) reads it; an unknown word stops "
     "smtpd at start. As in Postfix, where pickup(8) takes it too (Panacea's "
     "pickup has none of these checks)."},
    {"recipient_bcc_maps", CONF_STR, "", 0, 0,
     "Tables of recipient address to one BCC address, for new mail, looked "
     "up as canonical_maps is; the copy gets NOTIFY=NEVER. As in Postfix."},
    {"recipient_canonical_maps", CONF_STR, "", 0, 0,
     "Canonical tables (canonical(5)) for envelope recipients only, before "
     "canonical_maps. As in Postfix."},
    {"recipient_delimiter", CONF_STR, "", 0, 0,
     "The characters that separate a user name from an extension (user+ext); "
     "empty disables extensions. As in Postfix."},
    {"reject_code", CONF_INT, "554", 0, 0,
     "The reply code of the reject restriction. As in Postfix."},
    {"relay_clientcerts", CONF_STR, "", 0, 0,
     "Tables of client certificate fingerprints, or public key "
     "fingerprints, in the form smtpd_tls_fingerprint_digest gives "
     "(\"AB:CD:...\"), that permit_tls_clientcerts permits; the value is "
     "not used. Needs smtpd_tls_ask_ccert. As in Postfix."},
    {"relay_domains", CONF_STR, "", 0, 0,
     "Domains (besides mydestination) smtpd(8) accepts mail for from any "
     "client, with their subdomains: domain names, /file/name and "
     "type:table entries as in mydestination. As in Postfix."},
    {"relay_domains_reject_code", CONF_INT, "554", 0, 0,
     "The reply code of reject_unauth_destination (defer_unauth_destination "
     "uses it with a 4 in front: 454). As in Postfix."},
    {"relay_recipient_maps", CONF_STR, "", 0, 0,
     "Tables of the valid recipients in relay_domains (user@domain, or "
     "@domain for a whole domain; the value is ignored): when set, smtpd(8) "
     "refuses other relay recipients with unknown_relay_recipient_reject_code "
     "(smtpd_reject_unlisted_recipient). As in Postfix."},
    {"relay_transport", CONF_STR, "", 0, 0,
     "The transport (and optional :nexthop) of recipients in relay_domains "
     "and their subdomains, in qmgr(8); the next hop, first found: the one "
     "it names, sender_dependent_relayhost_maps, relayhost, the recipient "
     "domain. transport_maps overrides it. As in Postfix, except the "
     "default: Postfix's is relay, a services line that Panacea's table "
     "does not ship, so empty here routes relay_domains as "
     "default_transport does."},
    {"relayhost", CONF_STR, "", 0, 0,
     "The host that receives all non-local mail instead of the recipient "
     "domains' MX hosts: host, [host] (no MX lookup), with an optional :port. "
     "As in Postfix."},
    {"remote_header_rewrite_domain", CONF_STR, "", 0, 0,
     "When set, the header addresses of clients that "
     "local_header_rewrite_clients does not name are rewritten too, and "
     "their incomplete addresses completed with this domain instead of "
     "$myorigin and $mydomain; empty: a remote client's header is left "
     "alone. As in Postfix."},
    {"respectful_logging", CONF_BOOL, "yes", 0, 0,
     "postscreen(8) logs ALLOWLISTED and DENYLISTED; with no, WHITELISTED and "
     "BLACKLISTED. As in Postfix 3.6 and later (its default at compatibility "
     "level 3.6)."},
    {"sample_directory", CONF_STR, "$config_directory", 0, 0,
     "No-op in Panacea: the templates are in the source tree (conf/). "
     "Postfix: where its sample configuration files were."},
    {"sasldb_path", CONF_STR, "$config_directory/sasldb2", 0, 0,
     "Panacea's own: the libsasl2 sasldb of mail users, read by auth(8) for "
     "smtpd AUTH and pop3d logins and by smtpd and local for the mail-only "
     "users' names."},
    {"sender_bcc_maps", CONF_STR, "", 0, 0,
     "Tables of sender address to one BCC address, for new mail, looked up "
     "as canonical_maps is; the copy gets NOTIFY=NEVER. As in Postfix."},
    {"sender_canonical_maps", CONF_STR, "", 0, 0,
     "Canonical tables (canonical(5)) for envelope senders only, before "
     "canonical_maps. As in Postfix."},
    {"sender_dependent_default_transport_maps", CONF_STR, "", 0, 0,
     "Tables (type:name) that give, by the envelope sender (the whole "
     "address, then @domain; <> for the null sender), the "
     "transport:nexthop that qmgr(8) uses instead of default_transport for "
     "that sender's mail; DUNNO is no entry. transport_maps, "
     "relay_transport, local and virtual domains still take precedence. As "
     "in Postfix."},
    {"sender_dependent_relayhost_maps", CONF_STR, "", 0, 0,
     "Tables (type:name) that give, by the envelope sender (the whole "
     "address, then @domain; <> for the null sender), the next hop that "
     "qmgr(8) uses instead of relayhost for that sender's mail to "
     "default_transport and relay_transport (when they name no next hop "
     "themselves); DUNNO is no entry. As in Postfix."},
    {"service_throttle_time", CONF_TIME, "60s", 's', 1,
     "How long master(8) waits before it starts a service again whose program "
     "failed at start. As in Postfix, except that a process killed by SIGKILL "
     "before it served (from outside, never the program's failure) pauses "
     "its service for one second."},
    {"setgid_group", CONF_STR, "postdrop", 0, 0,
     "No-op in Panacea: no command is set-group-id (sendmail hands mail to "
     "the submit service over a socket). Postfix: the group of postdrop "
     "and postqueue."},
    {"shlib_directory", CONF_STR, "no", 0, 0,
     "No-op in Panacea: its programs are linked statically with its own "
     "library. Postfix: where its shared libraries are."},
    {"smtp_bind_address", CONF_STR, "", 0, 0,
     "The local IPv4 address smtp(8) connects from; empty lets the kernel "
     "choose. As in Postfix."},
    {"smtp_bind_address6", CONF_STR, "", 0, 0,
     "The local IPv6 address smtp(8) connects from; empty lets the kernel "
     "choose. As in Postfix."},
    {"smtp_body_checks", CONF_STR, "", 0, 0,
     "Lookup tables (header_checks(5)) for body lines, as body_checks. The "
     "smtp(8) client applies them to each message it sends, with the "
     "actions that change no delivery (WARN, INFO, IGNORE, STRIP, PREPEND, "
     "REPLACE, DUNNO/OK; others are logged as unsupported and the line is "
     "kept). As in Postfix."},
    {"smtp_connect_timeout", CONF_TIME, "30s", 's', 0,
     "How long smtp(8) waits for a TCP connection to complete; 0 uses the "
     "kernel's limit. As in Postfix."},
    {"smtp_connection_cache_time_limit", CONF_TIME, "2s", 's', 0,
     "How long smtp(8) keeps a clean connection open for the next delivery to "
     "the same next hop; 0 disables reuse. As in Postfix."},
    {"smtp_data_done_timeout", CONF_TIME, "600s", 's', 1,
     "How long smtp(8) waits for the reply to the final dot of a message. As "
     "in Postfix."},
    {"smtp_data_init_timeout", CONF_TIME, "120s", 's', 1,
     "How long smtp(8) waits for the reply to DATA. As in Postfix."},
    {"smtp_data_xfer_timeout", CONF_TIME, "180s", 's', 1,
     "How long smtp(8) may be blocked sending message content. As in Postfix."},
    {"smtp_destination_concurrency_limit", CONF_INT, "20", 0, 1,
     "The most deliveries qmgr(8) runs at once to one destination of the smtp "
     "transport; like every TRANSPORT_destination_concurrency_limit, it "
     "follows default_destination_concurrency_limit unless set. As in "
     "Postfix."},
    {"smtp_destination_port", CONF_INT, "25", 0, 1,
     "Panacea's own: the TCP port of the remote MX hosts (and of relayhost "
     "without :port)."},
    {"smtp_destination_recipient_limit", CONF_INT, "50", 0, 1,
     "The most recipients in one delivery request of the smtp transport; "
     "follows default_destination_recipient_limit unless set. As in Postfix."},
    {"smtp_dns_support_level", CONF_STR, "", 0, 0,
     "How smtp(8) uses DNS: enabled (MX and address lookups), disabled (no "
     "MX lookups; addresses from the C library, /etc/hosts first) or dnssec "
     "(queries with the DO bit; an answer counts as DNSSEC-validated when "
     "the resolver of dns_nameservers sets the AD bit, so that resolver must "
     "validate and be reached over a trusted path such as loopback; needed "
     "by the dane and dane-only TLS levels). Empty means enabled, or "
     "disabled when disable_dns_lookups = yes. As in Postfix."},
    {"smtp_enforce_tls", CONF_BOOL, "no", 0, 0,
     "Postfix's legacy form of smtp_tls_security_level = verify (or "
     "encrypt with smtp_tls_enforce_peername = no), used only when "
     "smtp_tls_security_level is empty; it wins over smtp_use_tls. As in "
     "Postfix."},
    {"smtp_header_checks", CONF_STR, "", 0, 0,
     "Lookup tables (header_checks(5)) for a message's own headers, as "
     "header_checks. The smtp(8) client applies them to each message it "
     "sends, with the actions that change no delivery (WARN, INFO, IGNORE, "
     "STRIP, PREPEND, REPLACE, DUNNO/OK; others are logged as unsupported "
     "and the line is kept). As in Postfix."},
    {"smtp_helo_name", CONF_STR, "$myhostname", 0, 0,
     "The name smtp(8) sends in EHLO and HELO. As in Postfix."},
    {"smtp_helo_timeout", CONF_TIME, "300s", 's', 1,
     "How long smtp(8) waits for the greeting and for the reply to EHLO or "
     "HELO. As in Postfix."},
    {"smtp_line_length_limit", CONF_INT, "998", 0, 0,
     "The longest line (without CR LF) smtp(8) sends; 0 means no limit. "
     "The body of a MIME leaf part (7bit, 8bit or binary) with a longer "
     "line is re-encoded as quoted-printable, so that its content arrives "
     "exactly; other header lines are folded at white space (or broken with "
     "CR LF and a space), other body lines broken with CR LF and a space, "
     "as Postfix does. Postfix's parameter; the re-encoding is Panacea's."},
    {"smtp_mail_timeout", CONF_TIME, "300s", 's', 1,
     "How long smtp(8) waits for the reply to MAIL FROM. As in Postfix."},
    {"smtp_mime_header_checks", CONF_STR, "", 0, 0,
     "Lookup tables (header_checks(5)) for MIME headers, as "
     "mime_header_checks (default empty, not $smtp_header_checks). The "
     "smtp(8) client applies them to each message it sends, with the "
     "actions that change no delivery (WARN, INFO, IGNORE, STRIP, PREPEND, "
     "REPLACE, DUNNO/OK; others are logged as unsupported and the line is "
     "kept). As in Postfix."},
    {"smtp_mx_address_limit", CONF_INT, "5", 0, 0,
     "The most addresses (over all MX hosts) smtp(8) tries for one delivery; 0 "
     "means no limit. As in Postfix."},
    {"smtp_nested_header_checks", CONF_STR, "", 0, 0,
     "Lookup tables (header_checks(5)) for the headers of attached "
     "messages, as nested_header_checks (default empty). The smtp(8) "
     "client applies them to each message it sends, with the actions that "
     "change no delivery (WARN, INFO, IGNORE, STRIP, PREPEND, REPLACE, "
     "DUNNO/OK; others are logged as unsupported and the line is kept). As "
     "in Postfix."},
    {"smtp_quit_timeout", CONF_TIME, "300s", 's', 1,
     "How long smtp(8) waits for the reply to QUIT. As in Postfix."},
    {"smtp_rcpt_timeout", CONF_TIME, "300s", 's', 1,
     "How long smtp(8) waits for the reply to RCPT TO. As in Postfix."},
    {"smtp_sasl_auth_enable", CONF_BOOL, "no", 0, 0,
     "When yes, smtp(8) authenticates to servers listed in "
     "smtp_sasl_password_maps. As in Postfix."},
    {"smtp_sasl_mechanism_filter", CONF_STR, "", 0, 0,
     "The SASL mechanisms smtp(8) may use out of what a server offers; empty "
     "allows all it knows. As in Postfix."},
    {"smtp_sasl_password_maps", CONF_STR, "", 0, 0,
     "Tables of \"next hop\" to \"user:password\" for smtp(8) AUTH. As in "
     "Postfix."},
    {"smtp_sasl_security_options", CONF_STR, "noplaintext, noanonymous", 0, 0,
     "Restrictions on smtp(8) AUTH without TLS; noplaintext forbids sending a "
     "password in clear text. As in Postfix."},
    {"smtp_sasl_tls_security_options", CONF_STR, "noanonymous", 0, 0,
     "Restrictions on smtp(8) AUTH over TLS. As in Postfix."},
    {"smtp_skip_5xx_greeting", CONF_BOOL, "yes", 0, 0,
     "When yes, smtp(8) tries the next MX host after a 5xx greeting instead of "
     "bouncing. As in Postfix."},
    {"smtp_starttls_timeout", CONF_TIME, "300s", 's', 1,
     "How long smtp(8) may take for the TLS handshake after STARTTLS. As in "
     "Postfix."},
    {"smtp_tls_CAfile", CONF_STR, "", 0, 0,
     "The PEM file of the certificate authorities smtp(8) trusts to verify "
     "servers; empty uses the system's. As in Postfix."},
    {"smtp_tls_CApath", CONF_STR, "", 0, 0,
     "A directory of PEM files of the certificate authorities smtp(8) "
     "trusts to verify servers, with smtp_tls_CAfile; every file's "
     "certificates are read at start (hash links are not needed, and the "
     "directory need not be inside the chroot). Both empty: the system's. "
     "As in Postfix, read at start."},
    {"smtp_tls_cert_file", CONF_STR, "", 0, 0,
     "The PEM certificate (chain) smtp(8) presents when a server asks for "
     "a client certificate; empty: none. As in Postfix."},
    {"smtp_tls_chain_files", CONF_STR, "", 0, 0,
     "PEM files (blank or comma separated, read as one) holding keys, "
     "each followed by its certificate and issuers, that smtp(8) presents "
     "as client certificates (at most one key per type: RSA, ECDSA, ...). "
     "When set, smtp_tls_cert_file and smtp_tls_key_file are ignored, with "
     "a warning. As in Postfix."},
    {"smtp_tls_ciphers", CONF_STR, "medium", 0, 0,
     "The cipher grade of smtp(8) with opportunistic TLS (see "
     "smtpd_tls_ciphers), minus smtp_tls_exclude_ciphers. As in Postfix, "
     "without the grades export and low."},
    {"smtp_tls_enforce_peername", CONF_BOOL, "yes", 0, 0,
     "With smtp_enforce_tls = yes (and an empty "
     "smtp_tls_security_level): yes means level verify (certificate "
     "chain and host name checked), no means encrypt. Ignored otherwise. "
     "As in Postfix."},
    {"smtp_tls_exclude_ciphers", CONF_STR, "", 0, 0,
     "Ciphers or cipher types smtp(8) removes from its cipher grade at "
     "every level (see smtpd_tls_exclude_ciphers). As in Postfix."},
    {"smtp_tls_key_file", CONF_STR, "$smtp_tls_cert_file", 0, 0,
     "The PEM private key of smtp_tls_cert_file; empty means in the "
     "certificate file. As in Postfix."},
    {"smtp_tls_loglevel", CONF_INT, "0", 0, 0,
     "How much smtp(8) logs about TLS: 0 nothing, 1 Postfix's summary "
     "line (\"Verified/Untrusted/Anonymous TLS connection established to "
     "HOST[ADDR]:PORT: ...\"), 2 also the server certificate line "
     "(subject and issuer CN, verification error); 3 and 4 as 2. As in "
     "Postfix."},
    {"smtp_tls_mandatory_ciphers", CONF_STR, "medium", 0, 0,
     "The cipher grade of smtp(8) at the levels encrypt, verify and "
     "secure, minus smtp_tls_exclude_ciphers and "
     "smtp_tls_mandatory_exclude_ciphers. As in Postfix, without the "
     "grades export and low."},
    {"smtp_tls_mandatory_exclude_ciphers", CONF_STR, "", 0, 0,
     "Ciphers or cipher types smtp(8) removes, in addition to "
     "smtp_tls_exclude_ciphers, at the levels encrypt, verify and "
     "secure. As in Postfix."},
    {"smtp_tls_mandatory_protocols", CONF_STR, ">=TLSv1.2", 0, 0,
     "The TLS protocol versions smtp(8) offers at the levels encrypt, "
     "verify and secure (smtp_tls_security_level or "
     "smtp_tls_policy_maps); syntax, floor and warning as for "
     "smtpd_tls_protocols. As in Postfix, with TLSv1.2 as the default "
     "and floor."},
    {"smtp_tls_note_starttls_offer", CONF_BOOL, "no", 0, 0,
     "When yes, smtp(8) logs \"Host offered STARTTLS: [HOST]\" for a "
     "server that offers STARTTLS where TLS is not used (level none). As "
     "in Postfix."},
    {"smtp_tls_policy_maps", CONF_STR, "", 0, 0,
     "Tables of next hop to TLS policy that override "
     "smtp_tls_security_level: a level (none, may, encrypt, dane, "
     "dane-only, verify, secure) and attributes match= (names the "
     "certificate may carry at verify and secure, ':'-separated; hostname, "
     "nexthop and dot-nexthop as in Postfix), servername= (SNI; hostname "
     "for the MX host), protocols=, ciphers=, exclude= (this destination's "
     "protocol range, cipher grade and exclusions, ':'-separated) and "
     "tafile= (PEM trust anchors of verify and secure, used instead of the "
     "CAs). Keys: the next hop, the same without port, then for an MX "
     "next hop each parent domain with a leading dot. As in Postfix."},
    {"smtp_tls_protocols", CONF_STR, ">=TLSv1.2", 0, 0,
     "The TLS protocol versions smtp(8) offers with opportunistic TLS "
     "(level may); syntax, floor and warning as for smtpd_tls_protocols. "
     "As in Postfix, with TLSv1.2 as the default and floor."},
    {"smtp_tls_security_level", CONF_STR, "", 0, 0,
     "The TLS policy of smtp(8): none, may (opportunistic), encrypt, dane "
     "(RFC 7672: TLSA records of DNSSEC-validated MX hosts authenticate the "
     "server; without records may, with unusable ones encrypt; needs "
     "smtp_dns_support_level = dnssec), dane-only (the same, deferring "
     "where dane would fall back), verify or secure; empty means what the "
     "legacy smtp_enforce_tls (verify, or "
     "encrypt with smtp_tls_enforce_peername = no) and smtp_use_tls (may) "
     "say, none when both are no. As in Postfix."},
    {"smtp_tls_wrappermode", CONF_BOOL, "no", 0, 0,
     "When yes, smtp(8) starts TLS as soon as it connects (SMTPS, "
     "submissions, port 465) instead of sending STARTTLS. Needs "
     "smtp_tls_security_level = encrypt or stronger (else smtp stops at "
     "start); a smtp_tls_policy_maps level below encrypt counts as "
     "encrypt. As in Postfix."},
    {"smtp_use_tls", CONF_BOOL, "no", 0, 0,
     "Postfix's legacy form of smtp_tls_security_level = may, used only "
     "when smtp_tls_security_level is empty. As in Postfix."},
    {"smtpd_authentication_results", CONF_BOOL, "no", 0, 0,
     "When yes, smtpd(8) writes one Authentication-Results: header (RFC "
     "8601) on each message it accepts, with authserv_id and what it "
     "found: auth= for SASL clients, spf= when the transaction's SPF "
     "check ran, dkim= per signature when smtpd_dkim_verify is on.  "
     "smtpd_dkim_verify = yes writes it too. Panacea's own."},
    {"smtpd_banner", CONF_STR, "$myhostname ESMTP $mail_name", 0, 0,
     "The text after 220 in smtpd(8)'s greeting; RFC 5321 wants it to start "
     "with the host's name, as the default does. As in Postfix."},
    {"smtpd_client_auth_rate_limit", CONF_INT, "0", 0, 0,
     "The most AUTH commands a client may send to one smtpd(8) service per "
     "anvil_rate_time_unit, accepted or not (counted by anvil(8) across "
     "smtpd processes); beyond it AUTH gets 450 4.7.1. 0 means no limit. As "
     "in Postfix."},
    {"smtpd_client_connection_count_limit", CONF_INT, "50", 0, 0,
     "The most connections a client may have open to one smtpd(8) service "
     "at once (counted by anvil(8) across smtpd processes); one more gets "
     "421 4.7.0 instead of the greeting. 0 means no limit. As in Postfix."},
    {"smtpd_client_connection_rate_limit", CONF_INT, "0", 0, 0,
     "The most connections a client may make to one smtpd(8) service per "
     "anvil_rate_time_unit (counted by anvil(8)); one more gets 421 4.7.0 "
     "instead of the greeting. 0 means no limit. As in Postfix."},
    {"smtpd_client_event_limit_exceptions", CONF_STR, "$mynetworks", 0, 0,
     "The clients that the smtpd_client_*_limit parameters do not limit, "
     "and for which smtpd(8) does not ask anvil(8): a host list as "
     "mynetworks (addresses, networks, names and .domain names, /file/name "
     "and type:table entries; a domain does not match its subdomains). When "
     "it is not set, mynetworks as smtpd uses it (mynetworks_style "
     "included). As in Postfix."},
    {"smtpd_client_message_rate_limit", CONF_INT, "0", 0, 0,
     "The most MAIL commands a client may send to one smtpd(8) service per "
     "anvil_rate_time_unit, accepted or not (counted by anvil(8)); beyond "
     "it MAIL gets 450 4.7.1. 0 means no limit. As in Postfix."},
    {"smtpd_client_new_tls_session_rate_limit", CONF_INT, "0", 0, 0,
     "The most new TLS sessions a client may negotiate with one smtpd(8) "
     "service per anvil_rate_time_unit (counted by anvil(8); Panacea keeps "
     "no TLS session cache, so every handshake is new): STARTTLS gets 454 "
     "4.7.0 once the limit is reached, and a handshake beyond it ends the "
     "session with 421 4.7.0. 0 means no limit. As in Postfix."},
    {"smtpd_client_recipient_rate_limit", CONF_INT, "0", 0, 0,
     "The most RCPT commands a client may send to one smtpd(8) service per "
     "anvil_rate_time_unit, accepted or not (counted by anvil(8)); beyond "
     "it RCPT gets 450 4.7.1. 0 means no limit. As in Postfix."},
    {"smtpd_client_restrictions", CONF_STR, "", 0, 0,
     "Restrictions on the client's name and address (SMTPD_ACCESS_README), "
     "evaluated at RCPT with smtpd_delay_reject, else at connect. As in "
     "Postfix; the restrictions Panacea has are listed in DESIGN.md, an "
     "unknown name stops smtpd(8) at start."},
    {"smtpd_data_restrictions", CONF_STR, "", 0, 0,
     "Restrictions applied at the DATA command (and at the end of a BDAT "
     "transaction, which has no DATA). As in Postfix."},
    {"smtpd_delay_reject", CONF_BOOL, "yes", 0, 0,
     "Evaluate smtpd_client_restrictions, smtpd_helo_restrictions and "
     "smtpd_sender_restrictions at RCPT instead of at connect, HELO and MAIL. "
     "As in Postfix."},
    {"smtpd_dkim_time_limit", CONF_TIME, "20s", 's', 1,
     "The longest the key lookups of one message's DKIM verification "
     "(smtpd_dkim_verify) may take together: a lookup that would start "
     "later makes that signature temperror. Each lookup itself is bounded "
     "by the DNS timeout. Panacea's own."},
    {"smtpd_dkim_verify", CONF_BOOL, "no", 0, 0,
     "When yes, smtpd(8) verifies the DKIM signatures (RFC 6376, RFC 8463: "
     "rsa-sha256 with keys of 1024 bits or more, ed25519-sha256; at most "
     "dkim_signature_limit) of each message from a client it does not sign "
     "for, at the end of DATA, and reports each in the "
     "Authentication-Results: header (pass, fail, neutral, policy, "
     "temperror, permerror). Key records are looked up with "
     "dns_nameservers. The message is held in memory until then (at most "
     "message_size_limit). Panacea's own."},
    {"smtpd_dmarc_enable", CONF_BOOL, "no", 0, 0,
     "When yes, smtpd(8) checks DMARC (RFC 7489) at the end of data for "
     "network clients that did not authenticate and are not in mynetworks: "
     "the policy of the "
     "RFC5322.From domain (at _dmarc.DOMAIN, else at its organisational "
     "domain's, with sp=), met when SPF passes for an aligned MAIL FROM "
     "domain or a DKIM signature passes for an aligned d= (with "
     "smtpd_dkim_verify = yes; the result then also goes into "
     "Authentication-Results); "
     "pct= samples the failing messages.  Each verdict is logged as "
     "\"ID: dmarc: RESULT header.from=...\"; the policy is carried out as "
     "smtpd_dmarc_reject_action and smtpd_dmarc_quarantine_action say.  "
     "DNS failures and broken records are logged (temperror, permerror) "
     "and the message is accepted.  Panacea's own: Postfix sites run "
     "OpenDMARC as a milter."},
    {"smtpd_dmarc_public_suffix_list", CONF_STR,
     "/usr/share/publicsuffix/public_suffix_list.dat", 0, 0,
     "The Public Suffix List from which smtpd(8) finds organisational "
     "domains for DMARC (relaxed alignment, a subdomain's policy); Debian's "
     "publicsuffix package installs it.  Read when smtpd starts; when it "
     "cannot be read, a warning is logged and every name is its own "
     "organisational domain.  Panacea's own."},
    {"smtpd_dmarc_quarantine_action", CONF_STR, "hold", 0, 0,
     "What smtpd(8) does with a message whose DMARC disposition is "
     "quarantine (smtpd_dmarc_enable): hold (accept it into the hold queue, "
     "as header_checks' HOLD; pansuper -H releases it), header (accept it, "
     "marked in smtpd's Authentication-Results: header as OpenDMARC marks "
     "it, \"dmarc=fail (p=quarantine dis=quarantine)\", for the mailbox's "
     "filters: the message is then held in memory until its end) or report "
     "(accept it, the log line only).  Panacea's own."},
    {"smtpd_dmarc_reject_action", CONF_STR, "reject", 0, 0,
     "What smtpd(8) does with a message whose DMARC disposition is reject "
     "(smtpd_dmarc_enable): reject (550 5.7.1 at the end of data with the "
     "policy domain and the reason), hold (the hold queue) or report "
     "(accept it, the log line only).  Panacea's own."},
    {"smtpd_end_of_data_restrictions", CONF_STR, "", 0, 0,
     "Restrictions applied at the end of the message content, before the queue "
     "commit. As in Postfix."},
    {"smtpd_enforce_tls", CONF_BOOL, "no", 0, 0,
     "Postfix's legacy form of smtpd_tls_security_level = encrypt "
     "(require STARTTLS, and AUTH only over TLS as with "
     "smtpd_tls_auth_only), used only when smtpd_tls_security_level is "
     "empty; it wins over smtpd_use_tls. As in Postfix."},
    {"smtpd_error_sleep_time", CONF_TIME, "1s", 's', 0,
     "How long smtpd(8) pauses before each error reply once a client made "
     "smtpd_soft_error_limit errors. As in Postfix."},
    {"smtpd_etrn_restrictions", CONF_STR, "", 0, 0,
     "Restrictions on the ETRN command (after the client and HELO lists "
     "when smtpd_delay_reject = yes); check_etrn_access type:table looks up "
     "the ETRN domain and its parent domains. Only sites in "
     "fast_flush_domains are flushed. As in Postfix."},
    {"smtpd_forbid_bare_newline", CONF_STR, "yes", 0, 0,
     "No-op in Panacea: smtpd(8) always refuses a bare <LF> (521 and "
     "disconnect), the behaviour of Postfix's yes. Postfix: whether a bare "
     "newline is refused."},
    {"smtpd_forbid_unauth_pipelining", CONF_BOOL, "no", 0, 0,
     "Disconnect a client that sends commands before the reply it must wait "
     "for (RFC 2920: after EHLO, HELO, DATA, NOOP, VRFY, EXPN, STARTTLS, AUTH, "
     "or anything before EHLO): 554 5.5.0 Error: SMTP protocol "
     "synchronization, and an improper command pipelining log line with what "
     "it sent. As in Postfix (the default of 3.7.6 and 3.8; 3.9 turns it on)."},
    {"smtpd_hard_error_limit", CONF_INT, "20", 0, 1,
     "After this many errors smtpd(8) closes the session. As in Postfix."},
    {"smtpd_helo_required", CONF_BOOL, "no", 0, 0,
     "When yes, smtpd(8) refuses MAIL before HELO or EHLO. As in Postfix."},
    {"smtpd_helo_restrictions", CONF_STR, "", 0, 0,
     "Restrictions on the HELO/EHLO name, evaluated at RCPT with "
     "smtpd_delay_reject, else at HELO. As in Postfix."},
    {"smtpd_junk_command_limit", CONF_INT, "100", 0, 1,
     "The most NOOP, VRFY, EXPN and RSET commands a client may send without "
     "counting as errors. As in Postfix."},
    {"smtpd_local_submission", CONF_BOOL, "no", 0, 0,
     "Panacea's own: yes for the smtpd(8) service that is sendmail's submit "
     "socket; only such a service takes local (non-inet) clients, whose uid "
     "the kernel gives. Any other smtpd refuses a local client, and every "
     "smtpd refuses a client it cannot identify, with 421."},
    {"smtpd_milters", CONF_STR, "", 0, 0,
     "Mail filters (inet:host:port or unix:/path, applied in order) that "
     "smtpd(8) consults at each SMTP stage and whose end-of-message "
     "modifications it applies before the message is queued. As in "
     "Postfix."},
    {"smtpd_null_access_lookup_key", CONF_STR, "<>", 0, 0,
     "The key check_sender_access looks up for the null sender. As in "
     "Postfix."},
    {"smtpd_peername_lookup", CONF_BOOL, "yes", 0, 0,
     "When yes, smtpd(8) looks up the client's name: /etc/hosts (read before "
     "chroot) first, then, for an address that is not loopback, a reverse "
     "DNS lookup whose name must resolve back to the address; otherwise the "
     "client is \"unknown\". As in Postfix, which finds the same names "
     "through the C library."},
    {"smtpd_per_record_deadline", CONF_BOOL, "no", 0, 0,
     "When yes, smtpd(8) applies smtpd_timeout to each whole line of message "
     "content (DATA), and to each 4096 octets of a BDAT chunk: a client that "
     "trickles a line or a chunk a byte at a time is cut off with 421 4.4.2 "
     "once the line or those octets have taken smtpd_timeout; when no, any "
     "byte received restarts the wait, as in Postfix 2.9-3.6 (default no; "
     "Postfix's yes under stress is not copied).  A command line must always "
     "arrive whole within smtpd_timeout, whatever this says: stricter than "
     "Postfix, whose default waits per read."},
    {"smtpd_policy_service_default_action", CONF_STR,
     "451 4.3.5 Server configuration problem", 0, 0,
     "The action (an access(5) value) of check_policy_service when the server "
     "cannot be reached or answers badly after smtpd_policy_service_try_limit "
     "tries. As in Postfix."},
    {"smtpd_policy_service_max_idle", CONF_TIME, "300s", 's', 0,
     "How long an unused connection to a policy server is kept. As in "
     "Postfix."},
    {"smtpd_policy_service_max_ttl", CONF_TIME, "1000s", 's', 0,
     "How long a connection to a policy server is used at most. As in "
     "Postfix."},
    {"smtpd_policy_service_policy_context", CONF_STR, "", 0, 0,
     "The policy_context attribute sent to policy servers. As in Postfix."},
    {"smtpd_policy_service_request_limit", CONF_INT, "0", 0, 0,
     "Requests per connection to a policy server before it is closed; 0 is no "
     "limit. As in Postfix."},
    {"smtpd_policy_service_retry_delay", CONF_TIME, "1s", 's', 0,
     "The pause before another try of a policy server that failed. As in "
     "Postfix."},
    {"smtpd_policy_service_timeout", CONF_TIME, "100s", 's', 0,
     "The time limit of connecting to, writing to and reading from a policy "
     "server. As in Postfix."},
    {"smtpd_policy_service_try_limit", CONF_INT, "2", 0, 0,
     "How many times a policy request is tried before "
     "smtpd_policy_service_default_action applies. As in Postfix."},
    {"smtpd_recipient_limit", CONF_INT, "1000", 0, 1,
     "The most recipients smtpd(8) (and sendmail -bs) accepts in one message. "
     "As in Postfix."},
    {"smtpd_recipient_restrictions", CONF_STR, "", 0, 0,
     "Restrictions at RCPT, after smtpd_relay_restrictions (spam policy). As "
     "in Postfix."},
    {"smtpd_reject_footer", CONF_STR, "", 0, 0,
     "Text appended to every 4XX or 5XX reply of smtpd(8) as extra lines with "
     "the same code (\\n separates lines; \\c at the start continues the "
     "reply's own line); not logged. As in Postfix, without its $name "
     "attributes."},
    {"smtpd_reject_unlisted_recipient", CONF_BOOL, "yes", 0, 0,
     "Refuse a recipient of mydestination that local_recipient_maps does not "
     "know, after the restriction lists, whatever they permitted. As in "
     "Postfix."},
    {"smtpd_reject_unlisted_sender", CONF_BOOL, "no", 0, 0,
     "Refuse a sender address of mydestination that local_recipient_maps does "
     "not know, at RCPT. As in Postfix."},
    {"smtpd_relay_restrictions", CONF_STR,
     "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination",
     0, 0,
     "Relay control at RCPT, before smtpd_recipient_restrictions; it or "
     "smtpd_recipient_restrictions must refuse unauthorised destinations or "
     "smtpd(8) does not start. permit_mynetworks also permits local "
     "submissions (smtpd_local_submission). As in Postfix."},
    {"smtpd_restriction_classes", CONF_STR, "", 0, 0,
     "Names of user-defined parameters that hold restriction lists, usable as "
     "a restriction or an access table value. As in Postfix."},
    {"smtpd_sasl_auth_enable", CONF_BOOL, "no", 0, 0,
     "When yes, smtpd(8) offers AUTH (through the auth(8) service, or "
     "Dovecot's: smtpd_sasl_type). As in Postfix."},
    {"smtpd_sasl_auth_required", CONF_BOOL, "no", 0, 0,
     "Panacea's own: when yes, smtpd(8) refuses MAIL until the client "
     "authenticates."},
    {"smtpd_sasl_authenticated_header", CONF_BOOL, "no", 0, 0,
     "When yes, smtpd(8) names the client's SASL login in the Received: header "
     "it adds (Authenticated sender: name); off by default because it tells "
     "the world who sent. As in Postfix."},
    {"smtpd_sasl_path", CONF_STR, "smtpd", 0, 0,
     "With smtpd_sasl_type = dovecot, Dovecot's auth-client socket: a path "
     "relative to the queue directory (seen from inside smtpd's chroot, e.g. "
     "private/dovecot-auth), an absolute path, or inet:host:port; "
     "private/auth is Panacea's auth(8), which speaks that protocol too. "
     "Unused with cyrus. As in Postfix."},
    {"smtpd_sasl_security_options", CONF_STR, "noanonymous", 0, 0,
     "Which SASL mechanisms smtpd(8) offers before TLS: noplaintext, "
     "noanonymous, nodictionary, noactive forbid, mutual_auth and "
     "forward_secrecy require. Plaintext mechanisms are offered in any case "
     "only over TLS or to loopback clients. As in Postfix."},
    {"smtpd_sasl_service", CONF_STR, "smtp", 0, 0,
     "The service name smtpd(8) gives the SASL server (Dovecot's service=). "
     "As in Postfix."},
    {"smtpd_sasl_tls_security_options", CONF_STR,
     "$smtpd_sasl_security_options", 0, 0,
     "As smtpd_sasl_security_options, once TLS is on. As in Postfix."},
    {"smtpd_sasl_type", CONF_STR, "cyrus", 0, 0,
     "Who checks smtpd(8)'s AUTH: cyrus (or panacea), Panacea's auth(8) "
     "service on private/auth, which checks passwords with Cyrus SASL; or "
     "dovecot, Dovecot's auth server on smtpd_sasl_path, spoken to in "
     "Dovecot's authentication protocol. As in Postfix."},
    {"smtpd_sender_login_maps", CONF_STR, "", 0, 0,
     "Tables of sender address (user@domain, @domain, or a local user) to the "
     "SASL login names that own it, for reject_sender_login_mismatch and its "
     "variants. As in Postfix."},
    {"smtpd_sender_restrictions", CONF_STR, "", 0, 0,
     "Restrictions on the MAIL FROM sender, evaluated at RCPT with "
     "smtpd_delay_reject, else at MAIL. As in Postfix."},
    {"smtpd_service_name", CONF_STR, "smtpd", 0, 0,
     "The pass service (services table) postscreen(8) hands clean clients "
     "to: private/NAME in the queue directory. As in Postfix."},
    {"smtpd_soft_error_limit", CONF_INT, "10", 0, 1,
     "After this many errors smtpd(8) pauses smtpd_error_sleep_time before "
     "each error reply. As in Postfix."},
    {"smtpd_spf_received_header", CONF_BOOL, "no", 0, 0,
     "When yes, smtpd(8) adds a Received-SPF: header (RFC 7208 9.1) on top "
     "of each message it accepts from a network client that did not "
     "authenticate: the SPF result of the MAIL FROM identity (of "
     "postmaster@HELO for the null sender), the client address, envelope "
     "sender, HELO name and matching mechanism.  The check is made once per "
     "transaction and shared with the reject_spf_fail restriction (refuses "
     "an SPF fail with 550 5.7.1 and the record's explanation, defers a "
     "temperror with 451 4.7.1). Panacea's own: Postfix leaves SPF to "
     "policy services such as policyd-spf."},
    {"smtpd_spf_time_limit", CONF_TIME, "20s", 's', 1,
     "The longest an SPF evaluation of smtpd(8) (reject_spf_fail, "
     "smtpd_spf_received_header) may take: a DNS lookup that would start "
     "later makes the result temperror (RFC 7208 4.6.4 asks for a limit of "
     "at least 20 seconds). Each lookup itself is bounded by the DNS "
     "timeout. Panacea's own."},
    {"smtpd_starttls_timeout", CONF_TIME, "300s", 's', 1,
     "How long smtpd(8) may take for the TLS handshake after STARTTLS (or on "
     "connect in wrapper mode); a client that does not finish is disconnected. "
     "As in Postfix."},
    {"smtpd_timeout", CONF_TIME, "300s", 's', 1,
     "How long smtpd(8) waits for a client command line (the whole line, "
     "however slowly it trickles in) or for message content (each read, or "
     "each line with smtpd_per_record_deadline).  Postfix's default waits per "
     "read for command lines too."},
    {"smtpd_tls_CAfile", CONF_STR, "", 0, 0,
     "PEM file of the CAs whose client certificates smtpd(8) trusts "
     "(permit_tls_all_clientcerts, the \"Trusted TLS connection\" log "
     "line) and names to clients choosing a certificate; read at start. "
     "Empty: no client certificate is trusted. As in Postfix, with "
     "tls_append_default_CA = no."},
    {"smtpd_tls_CApath", CONF_STR, "", 0, 0,
     "A directory of PEM files of the CAs whose client certificates "
     "smtpd(8) trusts, with smtpd_tls_CAfile (whose CAs alone are named "
     "to clients); every file's certificates are read at start, so hash "
     "links are not needed and the directory need not be inside the "
     "chroot. As in Postfix."},
    {"smtpd_tls_ask_ccert", CONF_BOOL, "no", 0, 0,
     "When yes, smtpd(8) asks TLS clients for a certificate (any, or none, "
     "is accepted) so that permit_tls_clientcerts, "
     "permit_tls_all_clientcerts, check_ccert_access and the policy "
     "service's ccert_* attributes can use it. As in Postfix."},
    {"smtpd_tls_auth_only", CONF_BOOL, "no", 0, 0,
     "When yes, smtpd(8) offers and accepts AUTH only over TLS. As in "
     "Postfix."},
    {"smtpd_tls_cert_file", CONF_STR, "", 0, 0,
     "The PEM certificate (chain) of smtpd(8). As in Postfix."},
    {"smtpd_tls_chain_files", CONF_STR, "", 0, 0,
     "PEM files (blank or comma separated, read as one) holding the keys "
     "of smtpd(8), each followed by its certificate and then its issuers: "
     "key1, cert1, chain1, key2, cert2, ... with at most one key per type "
     "(RSA, ECDSA, Ed25519); a client gets the certificate it can verify. "
     "When set, smtpd_tls_cert_file, _key_file, _eccert_file and "
     "_eckey_file are ignored, with a warning. As in Postfix."},
    {"smtpd_tls_ciphers", CONF_STR, "medium", 0, 0,
     "The cipher grade of smtpd(8) with opportunistic TLS: high "
     "(tls_high_cipherlist), medium (tls_medium_cipherlist) or null "
     "(tls_null_cipherlist), minus smtpd_tls_exclude_ciphers. It governs "
     "TLSv1.2; the TLSv1.3 suites are OpenSSL's. As in Postfix, except "
     "that the insecure grades export and low are refused (smtpd stops)."},
    {"smtpd_tls_dh1024_param_file", CONF_STR, "", 0, 0,
     "PEM file of the Diffie-Hellman parameters of smtpd(8)'s DHE "
     "suites; empty or auto: OpenSSL chooses them by the certificate's "
     "strength. Parameters under 2048 bits are not used (a warning says "
     "so and OpenSSL's are kept). As in Postfix."},
    {"smtpd_tls_eccert_file", CONF_STR, "", 0, 0,
     "The PEM ECDSA certificate (chain) of smtpd(8), beside the RSA one "
     "of smtpd_tls_cert_file: each client gets the one it can verify. As "
     "in Postfix."},
    {"smtpd_tls_eckey_file", CONF_STR, "$smtpd_tls_eccert_file", 0, 0,
     "The PEM private key of smtpd_tls_eccert_file; empty means in the "
     "certificate file. As in Postfix."},
    {"smtpd_tls_eecdh_grade", CONF_STR, "auto", 0, 0,
     "auto, strong, ultra or none (anything else stops smtpd(8)); as in "
     "Postfix 3.6 and later every grade means auto, the curves of "
     "tls_eecdh_auto_curves, and another value is logged as taken for "
     "auto (TLS 1.3 has no key exchange without a curve or group)."},
    {"smtpd_tls_exclude_ciphers", CONF_STR, "", 0, 0,
     "OpenSSL ciphers or cipher types (\"aNULL, AES128\", blanks, commas "
     "or colons between them) that smtpd(8) removes from its cipher "
     "grade at every level. As in Postfix."},
    {"smtpd_tls_fingerprint_digest", CONF_STR, "sha256", 0, 0,
     "The digest of client certificate and public key fingerprints "
     "(relay_clientcerts, check_ccert_access): an OpenSSL digest name "
     "such as sha256, sha1 or md5. As in Postfix 3.6 and later."},
    {"smtpd_tls_key_file", CONF_STR, "", 0, 0,
     "The PEM private key of smtpd_tls_cert_file; empty means in the "
     "certificate file. As in Postfix."},
    {"smtpd_tls_loglevel", CONF_INT, "0", 0, 0,
     "How much smtpd(8) logs about TLS: 0 nothing, 1 Postfix's summary "
     "line per handshake (\"Anonymous TLS connection established from "
     "NAME[ADDR]: TLSv1.3 with cipher ...\", Untrusted or Trusted with a "
     "client certificate), 2 also the client certificate line (subject "
     "and issuer CN, fingerprints, verification error). 3 and 4 log as 2 "
     "(Panacea has no handshake dumps). Handshake failures are logged at "
     "every level. As in Postfix."},
    {"smtpd_tls_mandatory_ciphers", CONF_STR, "medium", 0, 0,
     "The cipher grade of smtpd(8) when smtpd_tls_security_level is "
     "encrypt (see smtpd_tls_ciphers), minus smtpd_tls_exclude_ciphers "
     "and smtpd_tls_mandatory_exclude_ciphers. As in Postfix, without "
     "the grades export and low."},
    {"smtpd_tls_mandatory_exclude_ciphers", CONF_STR, "", 0, 0,
     "Ciphers or cipher types smtpd(8) removes, in addition to "
     "smtpd_tls_exclude_ciphers, when smtpd_tls_security_level is "
     "encrypt. As in Postfix."},
    {"smtpd_tls_mandatory_protocols", CONF_STR, ">=TLSv1.2", 0, 0,
     "The TLS protocol versions smtpd(8) accepts when "
     "smtpd_tls_security_level is encrypt; syntax, floor and warning as "
     "for smtpd_tls_protocols. As in Postfix, with TLSv1.2 as the "
     "default and floor."},
    {"smtpd_tls_protocols", CONF_STR, ">=TLSv1.2", 0, 0,
     "The TLS protocol versions smtpd(8) accepts with opportunistic TLS "
     "(level may): names to include or, with \"!\", exclude (\"!SSLv2, "
     "!SSLv3\"), or bounds \">=TLSv1.2\", \"<=TLSv1.3\" (names or hexadecimal "
     "numbers such as 0303), separated by blanks, commas or colons; "
     "empty means every version. As in Postfix 3.6, but Panacea never "
     "goes below TLSv1.2 (its default): a value that allows older "
     "versions is accepted, those versions stay off and smtpd logs a "
     "warning when it starts; a value that leaves nothing from TLSv1.2 "
     "up stops smtpd."},
    {"smtpd_tls_received_header", CONF_BOOL, "no", 0, 0,
     "When yes, the Received: header smtpd(8) adds names the TLS "
     "protocol, cipher and key exchange of the session (\"(using TLSv1.3 "
     "with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange "
     "X25519 server-signature RSA-PSS (2048 bits) server-digest "
     "SHA256)\"); the protocol word ESMTPS says TLS either way. As in "
     "Postfix."},
    {"smtpd_tls_req_ccert", CONF_BOOL, "no", 0, 0,
     "With smtpd_tls_security_level = encrypt, require a client "
     "certificate whose chain leads to a CA of smtpd_tls_CAfile (implies "
     "smtpd_tls_ask_ccert): a client without one gets \"421 4.7.1 "
     "MYHOSTNAME Error: No client certificate presented\" (or \"Client "
     "certificate not trusted\") right after the handshake. At other "
     "levels it is ignored with a warning. As in Postfix."},
    {"smtpd_tls_security_level", CONF_STR, "", 0, 0,
     "The TLS policy of smtpd(8): none, may (offer STARTTLS) or encrypt "
     "(require it); empty means what the legacy smtpd_enforce_tls "
     "(encrypt) and smtpd_use_tls (may) say, none when both are no. "
     "smtpd_tls_wrappermode = yes makes TLS at least may. As in Postfix."},
    {"smtpd_tls_session_cache_timeout", CONF_TIME, "3600s", 's', 0,
     "How long a TLS session of smtpd(8) can be resumed; 0 turns session "
     "tickets off, values under 2 minutes count as 2 minutes, more than "
     "100 days stops smtpd. Panacea keeps no server-side session cache: "
     "resumption is by tickets (TLS 1.2 RFC 5077 and TLS 1.3), whose keys "
     "every smtpd process derives from a secret in data_directory and the "
     "time, so a ticket from one process is accepted by another. As in "
     "Postfix, where tickets are the default too."},
    {"smtpd_tls_wrappermode", CONF_BOOL, "no", 0, 0,
     "When yes, smtpd(8) starts TLS on connect (port 465) instead of offering "
     "STARTTLS. As in Postfix."},
    {"smtpd_use_tls", CONF_BOOL, "no", 0, 0,
     "Postfix's legacy form of smtpd_tls_security_level = may (offer "
     "STARTTLS), used only when smtpd_tls_security_level is empty. As in "
     "Postfix."},
    {"stale_lock_time", CONF_TIME, "500s", 's', 1,
     "A mailbox .lock file older than this is removed as stale when it was "
     "made on another host or names no host (and its pid, if any, is not "
     "alive here); one that names this host and a dead pid is removed at "
     "once. Postfix's parameter; the owner rule is Panacea's."},
    {"strict_7bit_headers", CONF_BOOL, "no", 0, 0,
     "When yes, smtp(8) bounces (5.6.3) a message with 8-bit octets in its "
     "headers rather than send it to a next hop that does not offer "
     "8BITMIME (headers cannot be converted); when no, it sends the message "
     "as it is. Postfix's parameter, which Postfix applies on input "
     "(cleanup); Panacea's smtpd does not, and smtp applies it where the "
     "8-bit octets would go out."},
    {"strict_8bitmime", CONF_BOOL, "no", 0, 0,
     "Both strict_7bit_headers and strict_8bitmime_body. As in Postfix (but "
     "applied by smtp(8), see those)."},
    {"strict_8bitmime_body", CONF_BOOL, "no", 0, 0,
     "When yes, smtp(8) bounces (5.6.3) a message with 8-bit octets in a "
     "body it cannot convert (a message without MIME-Version, a preamble or "
     "epilogue, a part declared base64 or quoted-printable) rather than send "
     "it to a next hop that does not offer 8BITMIME; when no, it sends such "
     "a message as it is. Postfix's parameter, which Postfix applies on "
     "input (cleanup); Panacea's smtpd does not, and smtp applies it where "
     "the 8-bit octets would go out."},
    {"strict_rfc821_envelopes", CONF_BOOL, "no", 0, 0,
     "When yes, smtpd(8) wants the RFC 821/5321 syntax in MAIL FROM and RCPT "
     "TO, the address in <> and nothing else (501 5.1.7 Bad sender address "
     "syntax, 501 5.1.3 Bad recipient address syntax otherwise). When no, "
     "it also takes an address without <> (MAIL FROM:user@example.org) and "
     "drops RFC 822 comments and a phrase around <address> "
     "(Joe<joe@example.org>(home)). As in Postfix."},
    {"swap_bangpath", CONF_BOOL, "yes", 0, 0,
     "At enqueue, an address without '@' of the form site!user "
     "becomes user@site. As in Postfix."},
    {"syslog_name", CONF_STR, "panacea", 0, 0,
     "The first part of the name every log line carries (syslog_name/program, "
     "\"panacea/smtpd\"); a service sets its own with -o (\"-o "
     "syslog_name=panacea/submission\" logs \"panacea/submission/smtpd\"). "
     "Tools made for Postfix's log look for \"postfix/\": give them the "
     "name (pflogsumm --syslog-name=panacea) or set syslog_name = postfix "
     "(INSTALL, \"Log tools\"). As in Postfix, except the default "
     "(postfix)."},
    {"tls_eecdh_auto_curves", CONF_STR,
     "X25519 X448 prime256v1 secp521r1 secp384r1", 0, 0,
     "The key exchange curves of smtpd(8) and smtp(8), most preferred "
     "first; names OpenSSL cannot use are left out (with a warning when "
     "the value is set), none left stops the daemon. As in Postfix."},
    {"tls_high_cipherlist", CONF_STR,
     "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:!aNULL", 0, 0,
     "The OpenSSL cipher list of the grade high (*_tls_ciphers, "
     "*_tls_mandatory_ciphers). Panacea's default keeps forward-secret "
     "AEAD suites only: no CBC suite (Lucky13-style padding oracles, "
     "DESIGN.md \"TLS\"); Postfix's is aNULL:-aNULL:HIGH:@STRENGTH. "
     "TLSv1.3 suites are not governed by it."},
    {"tls_medium_cipherlist", CONF_STR,
     "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:kRSA+AESGCM:!aNULL",
     0, 0,
     "The OpenSSL cipher list of the grade medium, the default grade. "
     "Panacea's default is the high list plus AES-GCM with RSA key "
     "exchange (no forward secrecy), still without CBC suites (DESIGN.md "
     "\"TLS\"); Postfix's is aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH."},
    {"tls_null_cipherlist", CONF_STR, "eNULL:!aNULL", 0, 0,
     "The OpenSSL cipher list of the grade null (authentication without "
     "encryption). As in Postfix; OpenSSL's default security level "
     "refuses these suites, so a handshake with them fails."},
    {"tls_preempt_cipherlist", CONF_BOOL, "yes", 0, 0,
     "When yes, smtpd(8) chooses the cipher by its own order of "
     "preference rather than the client's. Postfix's default is no; "
     "Panacea's lists hold only AEAD suites, strongest first, so its "
     "order is kept by default (as testssl.sh recommends)."},
    {"tls_server_sni_maps", CONF_STR, "", 0, 0,
     "Tables that map the name a TLS client asks for (SNI) to the chain "
     "files of smtpd(8)'s certificates for it (the syntax of "
     "smtpd_tls_chain_files); keys are the name or a parent domain with a "
     "leading dot. Unlike Postfix (postmap -F), the values are the file "
     "names: the files of every hash, btree and texthash table are loaded "
     "at start, before the jail; another type's value that was not "
     "loaded then is logged and the default certificate used. A name "
     "without an entry gets the default certificate. As in Postfix "
     "otherwise."},
    {"tls_session_ticket_cipher", CONF_STR, "aes-256-cbc", 0, 0,
     "The cipher that encrypts smtpd(8)'s session tickets: a CBC cipher "
     "with 128-bit blocks and a 128 to 256-bit key (else smtpd stops); "
     "empty turns tickets off. As in Postfix."},
    {"tls_ssl_options", CONF_STR, "", 0, 0,
     "OpenSSL options smtpd(8) and smtp(8) turn on, by name without "
     "SSL_OP_ (ENABLE_MIDDLEBOX_COMPAT, LEGACY_SERVER_CONNECT, NO_TICKET, "
     "NO_COMPRESSION, NO_RENEGOTIATION, "
     "NO_SESSION_RESUMPTION_ON_RENEGOTIATION, PRIORITIZE_CHACHA; any case) "
     "or as a hexadecimal mask 0x...; an unknown name stops the daemon, "
     "mask bits of the protocol versions or the server's cipher order are "
     "ignored with a warning. Panacea always sets NO_COMPRESSION and "
     "NO_RENEGOTIATION. As in Postfix."},
    {"transport_maps", CONF_STR, "", 0, 0,
     "Tables of recipient (address, domain or .domain) to transport:nexthop, "
     "which override the default routing. As in Postfix."},
    {"transport_retry_time", CONF_TIME, "60s", 's', 1,
     "How long qmgr(8) waits before it uses again a transport whose agent "
     "failed. As in Postfix."},
    {"unknown_address_reject_code", CONF_INT, "450", 0, 0,
     "The reply code of reject_unknown_sender_domain and "
     "reject_unknown_recipient_domain for a domain without MX or address. As "
     "in Postfix."},
    {"unknown_client_reject_code", CONF_INT, "450", 0, 0,
     "The reply code of reject_unknown_client_hostname and "
     "reject_unknown_reverse_client_hostname. As in Postfix."},
    {"unknown_hostname_reject_code", CONF_INT, "450", 0, 0,
     "The reply code of reject_unknown_helo_hostname. As in Postfix."},
    {"unknown_local_recipient_reject_code", CONF_INT, "550", 0, 0,
     "The reply code for a local address that local_recipient_maps does not "
     "know (reject_unlisted_recipient/sender). As in Postfix."},
    {"unknown_relay_recipient_reject_code", CONF_INT, "550", 0, 0,
     "The reply code for a recipient in relay_domains that "
     "relay_recipient_maps does not list. As in Postfix."},
    {"unknown_virtual_alias_reject_code", CONF_INT, "550", 0, 0,
     "The reply code for a recipient in virtual_alias_domains that "
     "virtual_alias_maps does not know (User unknown in virtual alias "
     "table). As in Postfix."},
    {"unknown_virtual_mailbox_reject_code", CONF_INT, "550", 0, 0,
     "The reply code for a recipient in virtual_mailbox_domains that "
     "virtual_mailbox_maps does not know (User unknown in virtual mailbox "
     "table), when virtual_mailbox_maps is set. As in Postfix."},
    {"virtual_alias_address_length_limit", CONF_INT, "1000", 0, 1,
     "The longest address virtual alias expansion may produce; a longer "
     "one stops the message (not accepted, try again later), which ends "
     "loops that lengthen addresses. As in Postfix."},
    {"virtual_alias_domains", CONF_STR, "$virtual_alias_maps", 0, 0,
     "Domains (a list: names, /file/name, type:table) whose addresses are "
     "all aliases in virtual_alias_maps: smtpd(8) refuses unknown ones at "
     "RCPT (unknown_virtual_alias_reject_code) and qmgr(8) bounces any "
     "left after expansion. As in Postfix."},
    {"virtual_alias_expansion_limit", CONF_INT, "1000", 0, 1,
     "The most addresses virtual alias expansion may make of one "
     "recipient; beyond, the message is not accepted (451 4.6.0, try again "
     "later). As in Postfix."},
    {"virtual_alias_maps", CONF_STR, "", 0, 0,
     "Tables of address to addresses (virtual(5)) with which every envelope "
     "recipient is expanded at enqueue, recursively: keys user@domain, "
     "user (for $myorigin and $mydestination), @domain; the value is a list "
     "of addresses separated by commas or blanks. As in Postfix."},
    {"virtual_alias_recursion_limit", CONF_INT, "1000", 0, 1,
     "How deep virtual alias expansion follows a result; deeper (a loop), "
     "the message is not accepted (451 4.6.0, try again later). As in "
     "Postfix."},
    {"virtual_gid_maps", CONF_STR, "", 0, 0,
     "Tables of the numeric group id that virtual(8) delivers to a "
     "recipient's mailbox with (and pop3d reads it with), looked up as "
     "virtual_mailbox_maps is (static:5000 for one id). As in Postfix."},
    {"virtual_mailbox_base", CONF_STR, "", 0, 0,
     "The folder that the paths of virtual_mailbox_maps are relative to; a "
     "result may not leave it (.. is refused, the mail deferred). As in "
     "Postfix."},
    {"virtual_mailbox_domains", CONF_STR, "", 0, 0,
     "Domains (a list, with files and tables) whose recipients qmgr(8) "
     "routes to virtual_transport and smtpd(8) accepts from any client, "
     "refusing the users that virtual_mailbox_maps, when set, does not know "
     "(unknown_virtual_mailbox_reject_code). As in Postfix, but empty by "
     "default (Postfix: $virtual_mailbox_maps)."},
    {"virtual_mailbox_limit", CONF_SIZE, "51200000", 0, 0,
     "The largest size in bytes that virtual(8) lets an mbox grow to, or a "
     "Maildir message file have; beyond, the mail bounces (5.2.2); 0 means no "
     "limit. As in Postfix."},
    {"virtual_mailbox_lock", CONF_STR, "fcntl, dotlock", 0, 0,
     "How virtual(8) locks an mbox: dotlock adds PATH.lock (made by the "
     "recipient's uid, which must be able to write the mailbox's folder) to "
     "the fcntl(2) lock it always takes (local(8) and pop3d rely on it); "
     "flock is accepted and ignored. As in Postfix, but fcntl is always "
     "used."},
    {"virtual_mailbox_maps", CONF_STR, "", 0, 0,
     "Tables of the mailbox of a virtual address, relative to "
     "virtual_mailbox_base (a trailing / means Maildir), searched with "
     "user+extension@domain, user@domain, then @domain (a catch-all); an "
     "address no key finds bounces (5.1.1). pop3d serves these mailboxes to "
     "user@domain logins. As in Postfix."},
    {"virtual_minimum_uid", CONF_INT, "100", 0, 1,
     "The smallest uid virtual_uid_maps may give; a smaller one (and root's "
     "or mail_owner's) defers the mail as a configuration error (4.3.5). As "
     "in Postfix."},
    {"virtual_transport", CONF_STR, "virtual", 0, 0,
     "The transport (transport or transport:nexthop) of recipients in "
     "virtual_mailbox_domains; without a next hop it is the recipient's "
     "domain. lmtp:unix:private/dovecot-lmtp hands them to Dovecot. As in "
     "Postfix."},
    {"virtual_uid_maps", CONF_STR, "", 0, 0,
     "Tables of the numeric user id that virtual(8) delivers to a "
     "recipient's mailbox as (and pop3d reads it as), looked up as "
     "virtual_mailbox_maps is (static:5000 for one id). As in Postfix."},
    {NULL, CONF_STR, NULL, 0, 0, NULL},
};

/*
 * Postfix's housekeeping parameters that mean nothing for Panacea: accepted
 * (an administrator's main.cf habits load without a warning), documented as
 * "No-op in Panacea" with the reason, and read by no code.
 * scripts/check_params.py takes this list instead of a read; a unit test
 * checks that each is in the table with such a doc string.
 */
const char *const conf_noop_params[] = {
    "biff",
    "compatibility_level",
    "debugger_command",
    "default_database_type",
    "enable_long_queue_ids",
    "html_directory",
    "manpage_directory",
    "meta_directory",
    "policy_time_limit",
    "readme_directory",
    "sample_directory",
    "setgid_group",
    "shlib_directory",
    "smtpd_forbid_bare_newline",
    NULL,
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
