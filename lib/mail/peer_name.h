/*
 * peer_name - the name of a network client, as Postfix's smtpd finds it:
 * forward-confirmed reverse lookup, /etc/hosts first, then DNS.  smtpd
 * and pop3d log "connect from NAME[IP]" with it (pflogsumm's per-host
 * statistics, fail2ban's host match) and smtpd's restrictions use it.
 *
 * The hosts file.  hosts_parse(table, text) reads the text of a hosts(5)
 * file: one address and its names a line ("IP canonical alias ..."), '#'
 * to the end of a line is a comment, fields separated by blanks; IPv4 and
 * IPv6 addresses (without a "%zone").  A line whose address does not
 * parse, or that has no name, is skipped (the C library does the same);
 * skipped lines are counted in table->bad.  Names are compared without
 * regard to case.
 * hosts_name(table, ip) gives what the C library's "files" source gives
 * Postfix: the canonical (first) name of the first line with that address,
 * kept only when that name maps back to the same address in the file (on
 * some line, as a canonical name or an alias) and is not itself a numeric
 * address.  NULL otherwise.
 *
 * The daemons.  peer_name_init() reads /etc/hosts (PEER_HOSTS_PATH)
 * before chroot: the jail has no /etc.  A file that cannot be read leaves
 * the table empty (logged once).  peer_name(ip, use_dns) fills name with:
 *   - the hosts file's confirmed name, when there is one;
 *   - else, for an address that is not loopback (127.0.0.0/8, ::1, and
 *     their IPv4-mapped forms) and when use_dns is set
 *     (smtpd_peername_lookup, pop3d_peername_lookup), the PTR name that
 *     DNS forward-confirms (dns_client_name; dns_init first);
 *   - else "unknown".
 * Loopback addresses never go to DNS: 127.0.0.1 is "localhost" through
 * /etc/hosts, 127.0.0.5 "unknown".  The status is DNS_OK when a name was
 * found, else the DNS status (DNS_NOTFOUND when nothing was asked) with a
 * reason in why when why is non-NULL.
 */
#ifndef PANACEA_PEER_NAME_H
#define PANACEA_PEER_NAME_H

#include <stddef.h>

#include "buf.h"

#define PEER_HOSTS_PATH "/etc/hosts"

struct hosts_entry {
	int family; /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	char **names; /* canonical first, then aliases; lower case */
	size_t count;
};

struct hosts_table {
	struct hosts_entry *entry;
	size_t count;
	size_t bad; /* lines skipped */
};

void hosts_parse(struct hosts_table *table, const char *text);
const char *hosts_name(const struct hosts_table *table, const char *ip);
void hosts_free(struct hosts_table *table);

void peer_name_init(void);
/* 1 for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
int peer_is_loopback(const char *ip);
int peer_name(const char *ip, int use_dns, char *name, size_t namelen,
	      struct buf *why);

#endif
