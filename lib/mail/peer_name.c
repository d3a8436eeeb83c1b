/*
 * peer_name - a client's name: the hosts file, then DNS (peer_name.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns.h"
#include "msg.h"
#include "peer_name.h"
#include "strutil.h"
#include "xalloc.h"

/* The address of ip (IPv4-mapped IPv6 taken as IPv4): the family, or -1. */
static int
ip_bytes(const char *ip, unsigned char *bytes)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, ip, a) == 1) {
		memcpy(bytes, a, 4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, ip, a) != 1)
		return -1;
	if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)a)) {
		memcpy(bytes, a + 12, 4);
		return AF_INET;
	}
	memcpy(bytes, a, 16);
	return AF_INET6;
}

static int
same_addr(const struct hosts_entry *e, int family, const unsigned char *bytes)
{
	return e->family == family &&
	       memcmp(e->addr, bytes, family == AF_INET ? 4 : 16) == 0;
}

static void
parse_line(struct hosts_table *table, char *line)
{
	struct hosts_entry e;
	char **words;
	int n, i;

	line[strcspn(line, "#")] = '\0';
	words = str_split(line, " \t\r\f\v", &n);
	if (n == 0) {
		str_list_free(words);
		return;
	}
	memset(&e, 0, sizeof(e));
	/* A "%zone" or any other junk makes the whole line unusable. */
	e.family = ip_bytes(words[0], e.addr);
	if (e.family < 0 || n < 2 || strchr(words[0], '%') != NULL) {
		table->bad++;
		str_list_free(words);
		return;
	}
	e.count = (size_t)n - 1;
	e.names = xreallocarray(NULL, e.count, sizeof(*e.names));
	for (i = 1; i < n; i++) {
		str_lower(words[i]);
		e.names[i - 1] = words[i];
	}
	xfree(words[0]);
	xfree(words);
	table->entry = xreallocarray(table->entry, table->count + 1,
				     sizeof(*table->entry));
	table->entry[table->count++] = e;
}

void
hosts_parse(struct hosts_table *table, const char *text)
{
	const char *p = text, *nl;
	char *line;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		line = nl ? xstrndup(p, (size_t)(nl - p)) : xstrdup(p);
		parse_line(table, line);
		xfree(line);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

/* 1 when some line lists name (canonical or alias) with this address. */
static int
maps_back(const struct hosts_table *table, const char *name, int family,
	  const unsigned char *bytes)
{
	size_t i, j;

	for (i = 0; i < table->count; i++) {
		if (!same_addr(&table->entry[i], family, bytes))
			continue;
		for (j = 0; j < table->entry[i].count; j++)
			if (str_casecmp(table->entry[i].names[j], name) == 0)
				return 1;
	}
	return 0;
}

const char *
hosts_name(const struct hosts_table *table, const char *ip)
{
	unsigned char bytes[16], junk[16];
	const char *name;
	int family = ip_bytes(ip, bytes);
	size_t i;

	if (family < 0)
		return NULL;
	for (i = 0; i < table->count; i++) {
		if (!same_addr(&table->entry[i], family, bytes))
			continue;
		name = table->entry[i].names[0];
		/* A numeric "name" would pass for an address in the logs
		 * and in access tables: Postfix refuses it too. */
		if (ip_bytes(name, junk) >= 0)
			return NULL;
		return maps_back(table, name, family, bytes) ? name : NULL;
	}
	return NULL;
}

void
hosts_free(struct hosts_table *table)
{
	size_t i, j;

	for (i = 0; i < table->count; i++) {
		for (j = 0; j < table->entry[i].count; j++)
			xfree(table->entry[i].names[j]);
		xfree(table->entry[i].names);
	}
	xfree(table->entry);
	memset(table, 0, sizeof(*table));
}

/* The daemons' table, read before chroot. */
static struct hosts_table hosts;

void
peer_name_init(void)
{
	FILE *fp;
	char *line = NULL;
	size_t cap = 0;

	hosts_free(&hosts);
	if ((fp = fopen(PEER_HOSTS_PATH, "re")) == NULL) {
		if (errno != ENOENT)
			msg_warn("cannot read %s: %m; client names come from "
				 "DNS only",
				 PEER_HOSTS_PATH);
		return;
	}
	while (getline(&line, &cap, fp) != -1)
		hosts_parse(&hosts, line);
	free(line);
	fclose(fp);
}

int
peer_is_loopback(const char *ip)
{
	unsigned char bytes[16];
	static const unsigned char one[16] = {[15] = 1};

	switch (ip_bytes(ip, bytes)) {
	case AF_INET:
		return bytes[0] == 127;
	case AF_INET6:
		return memcmp(bytes, one, 16) == 0;
	default:
		return 0;
	}
}

int
peer_name(const char *ip, int use_dns, char *name, size_t namelen,
	  struct buf *why)
{
	const char *found = hosts_name(&hosts, ip);

	if (found != NULL && strlen(found) < namelen) {
		strcpy(name, found);
		return DNS_OK;
	}
	if (namelen > 0)
		snprintf(name, namelen, "unknown");
	if (use_dns && !peer_is_loopback(ip))
		return dns_client_name(ip, name, namelen, why);
	if (why != NULL) {
		buf_reset(why);
		buf_printf(why, "%s",
			   found ? "name too long" : "not looked up");
	}
	return DNS_NOTFOUND;
}
