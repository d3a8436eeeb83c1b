/*
 * dnsbl - DNS list reply filters and query names; see dnsbl.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "dnsbl.h"

int
dnsbl_filter_parse(const char *spec, unsigned char sets[4][32])
{
	const char *p = spec;

	memset(sets, 0, 4 * 32);
	for (int octet = 0; octet < 4; octet++) {
		if (octet > 0 && *p++ != '.')
			return -1;
		if (*p == '[') {
			/* "[n..m;k;...]" */
			p++;
			do {
				char *end;
				long lo = strtol(p, &end, 10), hi;
				if (end == p || lo < 0 || lo > 255)
					return -1;
				hi = lo;
				p = end;
				if (strncmp(p, "..", 2) == 0) {
					hi = strtol(p + 2, &end, 10);
					if (end == p + 2 || hi < lo || hi > 255)
						return -1;
					p = end;
				}
				for (long v = lo; v <= hi; v++)
					sets[octet][v / 8] |=
					    (unsigned char)(1u << (v % 8));
			} while (*p == ';' && p++);
			if (*p++ != ']')
				return -1;
		} else {
			char *end;
			long v = strtol(p, &end, 10);
			if (end == p || v < 0 || v > 255 || !isdigit(*p))
				return -1;
			sets[octet][v / 8] |= (unsigned char)(1u << (v % 8));
			p = end;
		}
	}
	return *p == '\0' ? 0 : -1;
}

int
dnsbl_filter_match(const unsigned char sets[4][32], const char *ip)
{
	unsigned a[4];
	char tail;

	if (sscanf(ip, "%u.%u.%u.%u%c", &a[0], &a[1], &a[2], &a[3], &tail) != 4)
		return 0;
	for (int i = 0; i < 4; i++)
		if (a[i] > 255 || !(sets[i][a[i] / 8] & (1u << (a[i] % 8))))
			return 0;
	return 1;
}

/* The client's address as a DNS list asks for it: reversed octets, or
 * reversed nibbles for IPv6. */
int
dnsbl_client_prefix(const char *addr, char *out, size_t outlen)
{
	char rev[80], *suffix;

	if (dns_reverse_name(addr, rev, sizeof(rev)) < 0)
		return -1;
	if ((suffix = strstr(rev, ".in-addr.arpa")) == NULL &&
	    (suffix = strstr(rev, ".ip6.arpa")) == NULL)
		return -1;
	*suffix = '\0';
	snprintf(out, outlen, "%s", rev);
	return 0;
}
