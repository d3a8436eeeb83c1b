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
 *   - otherwise default_transport ("smtp", or "smtp:nexthop"), with next
 *     hop, first found: the one default_transport names, relayhost, the
 *     recipient domain (lower-cased).
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
	const char *local_transport;		/* "local" */
	const char *default_transport;		/* "smtp" */
	const char *relayhost;			/* "" for none */
	resolve_lookup_fn lookup; /* transport_maps; NULL for none */
	void *lookup_ctx;
	const char *default_filter_nexthop; /* "" or NULL: the domain */
};

/* Fills transport and nexthop (replacing their content) for addr.
 * Returns RESOLVE_OK, or RESOLVE_ERROR / RESOLVE_BAD with err set. */
int resolve_addr(const struct resolve_conf *conf, const char *addr,
		 struct buf *transport, struct buf *nexthop, struct buf *err);

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
