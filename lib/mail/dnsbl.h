/*
 * dnsbl - what smtpd's DNS list restrictions (reject_rbl_client, ...)
 * and postscreen's DNSBL test share: the reply filter of a list
 * ("zone=127.0.0.[2..11]", Postfix's syntax) and the name a list is
 * asked under for a client address.
 */
#ifndef PANACEA_DNSBL_H
#define PANACEA_DNSBL_H

#include <stddef.h>

/* A DNS list's reply filter ("127.0.0.[2..11]", "127.0.[0;1].[2;4..6]"):
 * the set of values of each octet; 0, or -1 for a malformed one. */
int dnsbl_filter_parse(const char *spec, unsigned char sets[4][32]);
/* 1 when the IPv4 address text ip is in the sets. */
int dnsbl_filter_match(const unsigned char sets[4][32], const char *ip);
/* The client's address as a DNS list asks for it, without the list's
 * domain: reversed octets ("2.0.0.127"), or reversed nibbles for IPv6;
 * 0, or -1 for a text that is no address. */
int dnsbl_client_prefix(const char *addr, char *out, size_t outlen);

#endif
