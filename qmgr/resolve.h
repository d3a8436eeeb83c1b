/*
 * resolve - which transport and next hop deliver a recipient address.
 *
 * Pure (the transport table is reached through a callback), so qmgr's
 * routing decisions can be tested without a queue or a table file.
 *
 * Default route of user@domain:
 *   - no domain, or a domain in mydestination (case-insensitive):
 *     local_transport ("local"; "transport:nexthop" allowed), next hop ""
 *     unless local_transport names one;
 *   - a domain in virtual_mailbox_domains: virtual_transport ("virtual",
 *     or "lmtp:unix:private/dovecot-lmtp"), next hop the one it names,
 *     else the recipient domain (never relayhost);
 *   - a domain in relay_domains (or a subdomain of one), when
 *     relay_transport is set: relay_transport ("relay", or
 *     "relay:nexthop"), next hop, first found: the one relay_transport
 *     names, sender_dependent_relayhost_maps, relayhost, the recipient
 *     domain (Postfix's order; relay_transport empty, Panacea's default,
 *     treats these domains as the next case);
 *   - otherwise default_transport ("smtp", or "smtp:nexthop"), or the
 *     value sender_dependent_default_transport_maps gives for the sender
 *     instead, with next hop, first found: the one that transport value
 *     names, sender_dependent_relayhost_maps, relayhost, the recipient
 *     domain (lower-cased).
 * The sender tables are looked up, as Postfix does, with the whole sender
 * address (lower-cased), then "@domain"; the null sender as "<>".  A
 * value "DUNNO" means not found.
 * transport_maps (Postfix's transport(5)) then overrides it; keys are
 * looked up lower-cased, in this order, first hit wins:
 *     user@domain          the full address
 *     domain               the domain itself
 *     .parent ...          each parent domain with a leading dot
 *                          (a.b.example: ".b.example", ".example")
 *     *                    everything
 * (no parent walk for address literals "[192.0.2.1]").  A value is
 * "transport:nexthop", "transport" or ":nexthop", split at the first ':'.
 * An empty transport keeps the default transport; an empty next hop keeps
 * the default next hop when the transport is the default one, and is the
 * recipient domain otherwise ("" for an address without domain).
 *
 * Bounds: transport names are 1..RESOLVE_TRANSPORT_MAX bytes of
 * [A-Za-z0-9._-] (a services table name); next hops at most
 * RESOLVE_NEXTHOP_MAX bytes without control characters (spaces are
 * allowed for "error:text" and "retry:text", whose next hop is a reason).
 * A table value outside them is RESOLVE_BAD (qmgr defers the recipient
 * and logs the table entry), never used.
 */
#ifndef PANACEA_RESOLVE_H
#define PANACEA_RESOLVE_H

#include "buf.h"
#include "match_list.h"

#define RESOLVE_TRANSPORT_MAX 64
#define RESOLVE_NEXTHOP_MAX 300

#define RESOLVE_OK 0
#define RESOLVE_ERROR (-1) /* table lookup failed: try again later */
#define RESOLVE_BAD (-2)   /* malformed table value or configuration */

/* 1 found (value replaced), 0 not found, -1 error (err set). */
typedef int (*resolve_lookup_fn)(const char *key, struct buf *value,
				 struct buf *err, void *ctx);

struct resolve_conf {
	const struct match_list *mydestination; /* may be NULL */
	/* virtual_alias_domains (may be NULL): an address left in one after
	 * the expansion at enqueue (lib/rewrite.h) has no mailbox: transport
	 * "error", next hop "5.1.1 User unknown in virtual alias table",
	 * whatever transport_maps says, as in Postfix. */
	const struct match_list *virtual_alias_domains;
	const char *local_transport;			  /* "local" */
	const char *default_transport;			  /* "smtp" */
	const struct match_list *virtual_mailbox_domains; /* may be NULL */
	const char *virtual_transport;			  /* "virtual" */
	const char *relayhost;				  /* "" for none */
	const struct match_list *relay_domains;		  /* may be NULL */
	const char *relay_transport;			  /* "" for none */
	/* sender_dependent_relayhost_maps and
	 * sender_dependent_default_transport_maps; NULL for none. */
	resolve_lookup_fn sender_relayhost;
	void *sender_relayhost_ctx;
	resolve_lookup_fn sender_transport;
	void *sender_transport_ctx;
	resolve_lookup_fn lookup; /* transport_maps; NULL for none */
	void *lookup_ctx;
	const char *default_filter_nexthop; /* "" or NULL: the domain */
};

/* Fills transport and nexthop (replacing their content) for addr.
 * Returns RESOLVE_OK, or RESOLVE_ERROR / RESOLVE_BAD with err set. */
int resolve_addr(const struct resolve_conf *conf, const char *addr,
		 struct buf *transport, struct buf *nexthop, struct buf *err);
/* The same for mail from sender (the sender-dependent tables apply; NULL
 * is no sender: they do not). */
int resolve_addr_from(const struct resolve_conf *conf, const char *sender,
		      const char *addr, struct buf *transport,
		      struct buf *nexthop, struct buf *err);

/* The route of a message with a content filter ("transport:nexthop",
 * content_filter or an access table's FILTER): every recipient goes
 * there, whatever its own route.  An empty next hop is
 * default_filter_nexthop, else the recipient's domain (Postfix 2.7 and
 * later).  RESOLVE_OK, or RESOLVE_BAD with err set for a filter without
 * a transport or outside the bounds above. */
int resolve_filter(const struct resolve_conf *conf, const char *filter,
		   const char *addr, struct buf *transport, struct buf *nexthop,
		   struct buf *err);

/* The lower-cased domain of addr (after the last '@'), "" when none. */
void resolve_domain(const char *addr, struct buf *domain);

/* 1 when domain is in the list (match_list_domain, no parent domains:
 * mydestination), 0 when not, -1 with err set when a table fails. */
int resolve_domain_listed(const struct match_list *list, const char *domain,
			  struct buf *err);

#endif
