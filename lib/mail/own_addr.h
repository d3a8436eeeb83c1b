/*
 * own_addr - the network addresses of this mail system, for the smtp
 * client's loop detection: an MX host at one of them is this host, or a
 * proxy that sends the mail back to it, whatever its name.
 *
 * own_addr_init(inet_interfaces, proxy_interfaces, families) reads both
 * lists as Postfix does (comma or white space separated):
 *  - inet_interfaces: "all" is every address of the machine's interfaces
 *    (getifaddrs), "loopback-only" 127.0.0.1 and ::1, anything else a
 *    numeric address (IPv6 with or without brackets) or a host name;
 *  - proxy_interfaces: the addresses of a proxy or NAT that forwards
 *    SMTP to this host (numeric or host names; default none).
 * Host names are looked up with dns_lookup_addr (dns_init first); a name
 * that does not resolve is logged and skipped, so a DNS failure at start
 * only weakens detection, it never stops delivery.  Only the families of
 * families (DNS_INET4/DNS_INET6) are kept; at most OWN_ADDR_MAX
 * addresses (more are logged and ignored).  0, or -1 with a message in
 * err for a list that cannot be read (getifaddrs failure).
 *
 * own_addr_match(sa) is 1 when the address of sa (port ignored, as in
 * Postfix) is one of them.  own_addr_count() says how many there are.
 */
#ifndef PANACEA_OWN_ADDR_H
#define PANACEA_OWN_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

#include "buf.h"

#define OWN_ADDR_MAX 256

int own_addr_init(const char *inet_interfaces, const char *proxy_interfaces,
		  int families, struct buf *err);
int own_addr_match(const struct sockaddr *sa);
/* The networks mynetworks_style makes (Postfix's): "host" each address
 * of the machine's interfaces alone (/32, /128), "subnet" the networks of
 * the interfaces, "class" the class A, B or C network of each IPv4
 * address (IPv6: the subnet).  A new string of "net/bits" words, or NULL
 * with err set for an unknown style or a getifaddrs failure. */
char *own_networks(const char *style, struct buf *err);
size_t own_addr_count(void);

#endif
