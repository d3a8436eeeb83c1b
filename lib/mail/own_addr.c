/*
 * own_addr - the network addresses of this mail system; see own_addr.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>

#include "dns.h"
#include "msg.h"
#include "own_addr.h"
#include "strutil.h"

static struct sockaddr_storage own[OWN_ADDR_MAX];
static size_t own_n;
static int own_families;
static int own_full_warned;

static int
family_wanted(int af)
{
	return (af == AF_INET && (own_families & DNS_INET4)) ||
	       (af == AF_INET6 && (own_families & DNS_INET6));
}

static int
same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return 0;
	if (a->sa_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
			      &((const struct sockaddr_in *)b)->sin_addr,
			      sizeof(struct in_addr)) == 0;
	if (a->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			      &((const struct sockaddr_in6 *)b)->sin6_addr,
			      sizeof(struct in6_addr)) == 0;
	return 0;
}

int
own_addr_match(const struct sockaddr *sa)
{
	for (size_t i = 0; i < own_n; i++)
		if (same_addr(sa, (const struct sockaddr *)&own[i]))
			return 1;
	return 0;
}

size_t
own_addr_count(void)
{
	return own_n;
}

static void
add(const struct sockaddr *sa)
{
	size_t len = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					       : sizeof(struct sockaddr_in);

	if (!family_wanted(sa->sa_family) || own_addr_match(sa))
		return;
	if (own_n == OWN_ADDR_MAX) {
		if (!own_full_warned++)
			msg_warn("more than %d own addresses: loop detection "
				 "uses the first %d",
				 OWN_ADDR_MAX, OWN_ADDR_MAX);
		return;
	}
	memset(&own[own_n], 0, sizeof(own[own_n]));
	memcpy(&own[own_n++], sa, len);
}

/* A numeric address (IPv6 may be in brackets); 1 when it was one. */
static int
add_numeric(const char *text)
{
	char buf[INET6_ADDRSTRLEN + 2];
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	size_t len = strlen(text);

	if (len >= 2 && text[0] == '[' && text[len - 1] == ']' &&
	    len - 2 < sizeof(buf)) {
		memcpy(buf, text + 1, len - 2);
		buf[len - 2] = '\0';
		text = buf;
	}
	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, text, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		add((struct sockaddr *)&sin);
		return 1;
	}
	if (inet_pton(AF_INET6, text, &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		add((struct sockaddr *)&sin6);
		return 1;
	}
	return 0;
}

static void
add_name(const char *param, const char *name)
{
	struct dns_addr_list al;
	struct buf why = BUF_INIT;

	if (dns_lookup_addr(name, own_families, &al, &why) != DNS_OK) {
		msg_warn("%s: %s: %s (not used to detect mail loops)", param,
			 name, buf_cstr(&why));
	} else {
		for (size_t i = 0; i < al.count; i++)
			add((struct sockaddr *)&al.addr[i]);
	}
	buf_free(&why);
}

static int
add_interfaces(struct buf *err)
{
	struct ifaddrs *ifa, *p;

	if (getifaddrs(&ifa) < 0) {
		buf_printf(err, "inet_interfaces = all: getifaddrs: %s",
			   strerror(errno));
		return -1;
	}
	for (p = ifa; p != NULL; p = p->ifa_next)
		if (p->ifa_addr != NULL)
			add(p->ifa_addr);
	freeifaddrs(ifa);
	return 0;
}

static int
add_list(const char *param, const char *value, struct buf *err)
{
	char **words = str_split(value ? value : "", ", \t\r\n", NULL);
	int rc = 0;

	for (size_t i = 0; words[i] != NULL && rc == 0; i++) {
		if (strcmp(param, "inet_interfaces") == 0 &&
		    str_casecmp(words[i], "all") == 0)
			rc = add_interfaces(err);
		else if (strcmp(param, "inet_interfaces") == 0 &&
			 str_casecmp(words[i], "loopback-only") == 0) {
			add_numeric("127.0.0.1");
			add_numeric("::1");
		} else if (!add_numeric(words[i]))
			add_name(param, words[i]);
	}
	str_list_free(words);
	return rc;
}

int
own_addr_init(const char *inet_interfaces, const char *proxy_interfaces,
	      int families, struct buf *err)
{
	own_n = 0;
	own_full_warned = 0;
	own_families = families & DNS_INET_ALL ? families : DNS_INET_ALL;
	if (add_list("inet_interfaces", inet_interfaces, err) < 0 ||
	    add_list("proxy_interfaces", proxy_interfaces, err) < 0)
		return -1;
	return 0;
}

/* The prefix length of a netmask of len bytes. */
static int
mask_bits(const unsigned char *mask, int len)
{
	int bits = 0;

	for (int i = 0; i < len; i++)
		for (int b = 7; b >= 0 && (mask[i] >> b & 1); b--)
			bits++;
	return bits;
}

/* One network "addr/bits" (IPv6 in brackets), host bits cleared. */
static void
net_text(int family, const unsigned char *addr, int bits, struct buf *out)
{
	unsigned char net[16];
	char text[INET6_ADDRSTRLEN];
	int len = family == AF_INET ? 4 : 16;

	memcpy(net, addr, (size_t)len);
	for (int bit = bits; bit < len * 8; bit++)
		net[bit / 8] &= (unsigned char)~(0x80 >> (bit % 8));
	if (inet_ntop(family, net, text, sizeof(text)) == NULL)
		return;
	if (family == AF_INET)
		buf_printf(out, "%s/%d", text, bits);
	else
		buf_printf(out, "[%s]/%d", text, bits);
}

char *
own_networks(const char *style, struct buf *err)
{
	struct ifaddrs *ifs, *ifa;
	struct buf out = BUF_INIT;
	struct buf one = BUF_INIT;
	const unsigned char *addr, *mask;
	int family, len, bits;

	if (strcmp(style, "host") != 0 && strcmp(style, "subnet") != 0 &&
	    strcmp(style, "class") != 0) {
		buf_printf(err, "unknown style \"%s\" (host, subnet or class)",
			   style);
		return NULL;
	}
	if (getifaddrs(&ifs) < 0) {
		buf_printf(err, "cannot list the network interfaces: %s",
			   strerror(errno));
		return NULL;
	}
	buf_puts(&out, "");
	for (ifa = ifs; ifa != NULL; ifa = ifa->ifa_next) {
		if (ifa->ifa_addr == NULL || ifa->ifa_netmask == NULL)
			continue;
		family = ifa->ifa_addr->sa_family;
		if (family == AF_INET) {
			addr = (const unsigned char *)&(
				   (struct sockaddr_in *)ifa->ifa_addr)
				   ->sin_addr;
			mask = (const unsigned char *)&(
				   (struct sockaddr_in *)ifa->ifa_netmask)
				   ->sin_addr;
			len = 4;
		} else if (family == AF_INET6) {
			addr = (const unsigned char *)&(
				   (struct sockaddr_in6 *)ifa->ifa_addr)
				   ->sin6_addr;
			mask = (const unsigned char *)&(
				   (struct sockaddr_in6 *)ifa->ifa_netmask)
				   ->sin6_addr;
			len = 16;
		} else {
			continue;
		}
		if (strcmp(style, "host") == 0)
			bits = len * 8;
		else if (strcmp(style, "class") == 0 && family == AF_INET)
			/* Class A, B, C by the first octet; D and E are no
			 * interface's networks. */
			bits = addr[0] < 128   ? 8
			       : addr[0] < 192 ? 16
			       : addr[0] < 224 ? 24
					       : -1;
		else
			bits = mask_bits(mask, len);
		if (bits < 0)
			continue;
		buf_reset(&one);
		net_text(family, addr, bits, &one);
		if (one.len == 0 || str_list_match(buf_cstr(&out), one.data))
			continue;
		if (out.len > 0)
			buf_putc(&out, ' ');
		buf_puts(&out, buf_cstr(&one));
	}
	freeifaddrs(ifs);
	buf_free(&one);
	return buf_steal(&out);
}
