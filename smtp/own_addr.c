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
