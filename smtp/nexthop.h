/*
 * nexthop - the next-hop forms of the smtp client (Postfix's syntax).
 *
 * qmgr hands the smtp delivery agent a next hop taken from the
 * recipient's domain, from relayhost or from transport_maps:
 *   domain            MX lookup of domain, port smtp_destination_port
 *   domain:port       MX lookup of domain, that port
 *   [host]            no MX lookup: the addresses of host (a name or a
 *                     numeric IPv4/IPv6 address, "[IPv6:...]" too)
 *   [host]:port       the same with a port
 * A port is a decimal 1..65535 or one of the service names smtp (25),
 * submission (587), smtps and submissions (465), lmtp (24).  A leading "smtp:"
 * or "relay:" transport prefix is not part of a next hop (qmgr strips it).
 *
 * Contract: pure, bounded (NEXTHOP_MAX bytes of input); the host is a
 * valid domain name (letters, digits, '-', '_', '.'; labels of 1..63,
 * at most 253 bytes, one final dot dropped, a last label that is not
 * all digits) or, between brackets, a numeric address; it is returned in lower
 * case.  Anything else is rejected with a reason in err.
 *
 * nexthop_format() writes the canonical form ("example.org",
 * "example.org:2525", "[192.0.2.1]", "[relay.example]:587"), which is
 * also the first key tried in smtp_sasl_password_maps and
 * smtp_tls_policy_maps.
 *
 * The LMTP forms (nexthop_parse_lmtp, Postfix's lmtp(8) destinations):
 *   unix:PATH         a UNIX-domain socket; a relative PATH is relative to
 *                     queue_directory (the caller resolves it)
 *   inet:HOST         HOST as in "[host]" above: never an MX lookup,
 *   inet:HOST:PORT    brackets optional, port lmtp_tcp_port unless given
 *   HOST, HOST:PORT   the same without "inet:"
 * PATH is 1..NEXTHOP_PATH_MAX bytes without control characters; the
 * canonical form of a socket is "unix:PATH".  "lmtp" is port 24.
 */
#ifndef PANACEA_NEXTHOP_H
#define PANACEA_NEXTHOP_H

#include "buf.h"

#define NEXTHOP_MAX 300
#define NEXTHOP_HOST_MAX 253
#define NEXTHOP_PATH_MAX 107 /* sun_path less its NUL */

struct nexthop {
	char host[NEXTHOP_HOST_MAX + 1];
	unsigned port;	/* always set: given or the default */
	int port_given; /* the form had ":port" */
	int mx;		/* MX lookup: the domain form, not [host] */
	int numeric;	/* [host] is a numeric address */
	int family;	/* AF_INET or AF_INET6 when numeric, else 0 */
	char path[NEXTHOP_PATH_MAX + 1]; /* LMTP "unix:PATH", else "" */
};

/* 0 and *out, or -1 with a message in err (when non-NULL). */
int nexthop_parse(const char *spec, unsigned default_port, struct nexthop *out,
		  struct buf *err);
/* The LMTP forms above; 0 and *out, or -1 with a message in err. */
int nexthop_parse_lmtp(const char *spec, unsigned default_port,
		       struct nexthop *out, struct buf *err);
/* Appends the canonical form to out. */
void nexthop_format(const struct nexthop *nh, struct buf *out);

#endif
