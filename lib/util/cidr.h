/*
 * cidr - network address lists ("mynetworks").
 *
 * A list is written as in Postfix: addresses and networks separated by
 * white space or commas; IPv4 as "a.b.c.d" or "a.b.c.d/len", IPv6 as
 * "[addr]", "[addr]/len" or bare "addr/len".  A bare address is a /32 or
 * /128.  Host bits set below the prefix length are an error (as Postfix
 * warns: "non-null host address bits"), so "10.1.2.3/8" is refused rather
 * than silently widened.  An IPv4-mapped IPv6 client (::ffff:a.b.c.d)
 * matches IPv4 entries.
 *
 * cidr_list_parse() returns 0, or -1 with "bad network ... : reason" in
 * err; the list owns its storage until cidr_list_free().
 */
#ifndef PANACEA_CIDR_H
#define PANACEA_CIDR_H

#include <stddef.h>
#include <sys/socket.h>

#include "buf.h"

struct cidr_entry {
	int family; /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int prefix;
};

struct cidr_list {
	struct cidr_entry *items;
	size_t count;
};

int cidr_list_parse(const char *text, struct cidr_list *list, struct buf *err);
void cidr_list_free(struct cidr_list *list);
/* 1 when the address (sockaddr_in or sockaddr_in6) is in the list. */
int cidr_list_match(const struct cidr_list *list, const struct sockaddr *sa);
/* 1 when addr (4 or 16 bytes of family) is in the entry's network; 0
 * for another network or family (no IPv4-mapped IPv6 here). */
int cidr_entry_match(const struct cidr_entry *e, int family,
		     const unsigned char *addr);
/* The same for a numeric address text; 0 for text that is no address. */
int cidr_list_match_text(const struct cidr_list *list, const char *ip);

#endif
