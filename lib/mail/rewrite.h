/*
 * rewrite - address rewriting at enqueue: the address part of Postfix's
 * cleanup(8), so that the queue holds rewritten addresses.  One module
 * for every program that queues mail (smtpd, pickup, qmgr for what it
 * composes: forwarded copies and notices); each opens it before its jail
 * and calls rewrite_envelope() on the envelope it is about to commit.
 *
 * What happens to an envelope address, in Postfix's order
 * (ADDRESS_REWRITING_README):
 *   1. the standard form: "site!user" becomes "user@site"
 *      (swap_bangpath), "user%domain" becomes "user@domain"
 *      (allow_percent_hack), "user" becomes "user@$myorigin"
 *      (append_at_myorigin), "user@host" becomes "user@host.$mydomain"
 *      (append_dot_mydomain); the first two only for an address with no
 *      '@';
 *   2. canonical mapping, one result, repeated while the table changes the
 *      address (at most 100 times): sender_canonical_maps (senders) or
 *      recipient_canonical_maps (recipients), then canonical_maps, as
 *      canonical_classes allows;
 *   3. masquerading: masquerade_domains (first match wins, "!domain"
 *      keeps a domain as it is) strips the subdomains of the domain,
 *      except for the local parts masquerade_exceptions lists, for the
 *      classes masquerade_classes names;
 *   4. recipients only: virtual alias expansion (virtual(5)), below;
 *   5. new mail only (REWRITE_F_BCC): always_bcc, sender_bcc_maps (by the
 *      sender), recipient_bcc_maps (by each recipient after step 3), each
 *      a recipient with NOTIFY=NEVER that goes through steps 1-4 too.
 * Recipients that end up the same (same address, original recipient and
 * NOTIFY) are kept once, as Postfix's duplicate filter does.
 *
 * Table lookups (canonical, virtual, bcc: Postfix's mail_addr_find
 * order) for user+ext@domain with recipient_delimiter "+":
 * "user+ext@domain", "user@domain", then, when domain is $myorigin or in
 * $mydestination, "user+ext" and "user", then "@domain".  A result
 * "@other" stands for "user+ext@other"; for canonical and virtual
 * (propagate_unmatched_extensions), a result found by a key without the
 * extension gets it back ("joe+ext@example.com" with "joe@example.com
 * jo@x" gives "jo+ext@x").
 *
 * Virtual alias expansion: a recipient found in virtual_alias_maps is
 * replaced by the addresses of the result (separated by commas or white
 * space), each looked up in turn.  An address whose result includes
 * itself is kept and not looked up again ("a@x a@x, b@y"); the first
 * address of a result is followed down at most virtual_alias_recursion_limit
 * levels, and one recipient gives at most virtual_alias_expansion_limit
 * addresses, each at most virtual_alias_address_length_limit bytes: past
 * a limit (a loop "a -> b -> a" reaches the nesting limit) the message
 * is not accepted (REWRITE_DEFER: a 4XX for the client, a retry for
 * qmgr), as in Postfix.  A table that cannot answer is REWRITE_ERROR.
 * A recipient that still is in a virtual alias domain after the
 * expansion is bounced by qmgr (resolve.h: "User unknown in virtual alias
 * table").
 *
 * Header addresses (From:, To: ...) are rewritten by lib/hdr_rewrite.h
 * with steps 1-3 and the header classes, for the mail Postfix rewrites
 * headers of: local submissions (sendmail) and the clients of
 * local_header_rewrite_clients (rewrite_local_client()), and those of
 * other clients when remote_header_rewrite_domain is set.
 */
#ifndef PANACEA_REWRITE_H
#define PANACEA_REWRITE_H

#include "buf.h"
#include "queue.h"

#define REWRITE_OK 0
#define REWRITE_ERROR (-1) /* a table could not answer: try again later */
#define REWRITE_DEFER (-2) /* an expansion limit: try again later */

/* Canonical mapping is followed at most this many times (Postfix's). */
#define REWRITE_CANONICAL_DEPTH 100

/* The parameters, as strings and numbers (rewrite_conf_read fills them
 * from the configuration; tests fill them by hand). */
struct rewrite_conf {
	const char *myorigin, *mydomain, *mydestination;
	const char *recipient_delimiter;
	const char *propagate_unmatched_extensions;
	int swap_bangpath, allow_percent_hack;
	int append_at_myorigin, append_dot_mydomain;
	const char *canonical_maps, *sender_canonical_maps;
	const char *recipient_canonical_maps, *canonical_classes;
	const char *masquerade_domains, *masquerade_exceptions;
	const char *masquerade_classes;
	const char *virtual_alias_domains, *virtual_alias_maps;
	long long expansion_limit, recursion_limit, address_length_limit;
	const char *always_bcc, *sender_bcc_maps, *recipient_bcc_maps;
	const char *relay_recipient_maps;
	const char *local_header_rewrite_clients;
	const char *remote_header_rewrite_domain;
};

/* Every parameter above from the loaded configuration (conf.h). */
void rewrite_conf_read(struct rewrite_conf *c);

struct rewrite;

/* Opens the tables and lists (before the jail).  NULL with err set
 * ("PARAMETER: message") when one cannot be opened.  The strings of c
 * are copied. */
struct rewrite *rewrite_open(const struct rewrite_conf *c, struct buf *err);
void rewrite_close(struct rewrite *rw);
/* The parameter whose table file was replaced since rewrite_open(), or
 * NULL. */
const char *rewrite_changed(const struct rewrite *rw);

#define REWRITE_SENDER 1
#define REWRITE_RECIPIENT 2
#define REWRITE_HDR_SENDER 3	/* From:, Sender: ... (hdr_rewrite.h) */
#define REWRITE_HDR_RECIPIENT 4 /* To:, Cc: ... */
/* Or'ed into a header class: a remote client's header, whose incomplete
 * addresses get remote_header_rewrite_domain. */
#define REWRITE_REMOTE 0x10

/* Steps 1-3 for one address of class REWRITE_SENDER or
 * REWRITE_RECIPIENT (envelope), REWRITE_HDR_SENDER or
 * REWRITE_HDR_RECIPIENT (header: the classes header_sender and
 * header_recipient of canonical_classes and masquerade_classes); out
 * gets the result.  REWRITE_OK, REWRITE_ERROR or
 * REWRITE_DEFER with why set.  The null sender stays "". */
int rewrite_addr(struct rewrite *rw, int klass, const char *addr,
		 struct buf *out, struct buf *why);

/* Step 4 for one address: *list gets the addresses (a NULL-terminated
 * list for str_list_free(), at least the address itself) and *n their
 * number.  REWRITE_OK, or REWRITE_ERROR / REWRITE_DEFER with why set
 * (*list NULL). */
int rewrite_virtual(struct rewrite *rw, const char *addr, char ***list,
		    size_t *n, struct buf *why);

#define REWRITE_F_BCC 0x1 /* new mail: add the automatic BCC recipients */

/* Steps 1-5 on a whole envelope before its commit: the sender and every
 * recipient are rewritten in place (a recipient that changed and had no
 * ORCPT gets "rfc822;ORIGINAL" as its ORCPT, which the logs show as
 * orig_to=).  REWRITE_OK, or REWRITE_ERROR / REWRITE_DEFER with reply set
 * to the SMTP reply ("451 4.3.0 ...", "451 4.6.0 ...") after logging the
 * warning with id; env is then not to be committed. */
int rewrite_envelope(struct rewrite *rw, const char *id,
		     struct queue_envelope *env, int flags, struct buf *reply);

/* local_header_rewrite_clients for a client: 1 when its header
 * addresses are rewritten.  The list's words: permit_inet_interfaces
 * (the client's address is one of this machine's: own_addr.h),
 * permit_mynetworks (mynetworks says so), permit_sasl_authenticated
 * (authenticated), static:all (every client). */
int rewrite_local_client(const struct rewrite *rw, int own_addr,
			 int in_mynetworks, int authenticated);
/* Non-zero when remote_header_rewrite_domain is set: the other clients'
 * headers are rewritten too, completed with that domain. */
int rewrite_remote_headers(const struct rewrite *rw);

/* What smtpd's reject_unlisted_recipient asks (Postfix's check order):
 * 1 when addr is in the canonical tables of its class or in
 * virtual_alias_maps (then it is known whatever its domain), 0 when not,
 * -1 with err set when a table fails. */
int rewrite_listed(struct rewrite *rw, int klass, const char *addr,
		   struct buf *err);
/* 1 when domain is in virtual_alias_domains (and not in mydestination),
 * 0 when not, -1 with err set. */
int rewrite_virtual_domain(struct rewrite *rw, const char *domain,
			   struct buf *err);
/* relay_recipient_maps: 1 addr is listed, 0 not listed, 2 the parameter
 * is empty (every relay recipient is valid), -1 with err set. */
int rewrite_relay_listed(struct rewrite *rw, const char *addr, struct buf *err);

#endif
