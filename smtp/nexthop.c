/*
 * nexthop - parsing of the smtp client's next-hop forms; see nexthop.h.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "nexthop.h"
#include "strutil.h"

static int
fail(struct buf *err, const char *spec, const char *why)
{
	if (err != NULL)
		buf_printf(err, "bad next hop \"%.*s\": %s", NEXTHOP_MAX, spec,
			   why);
	return -1;
}

/* A port: 1..65535 in decimal or a mail service name; 0 when bad. */
static unsigned
parse_port(const char *s)
{
	static const struct {
		const char *name;
		unsigned port;
	} names[] = {
	    {"smtp", 25},	  {"submission", 587}, {"smtps", 465},
	    {"submissions", 465}, {"lmtp", 24},
	};
	unsigned long v = 0;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (str_casecmp(s, names[i].name) == 0)
			return names[i].port;
	if (*s == '\0' || strlen(s) > 5)
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v >= 1 && v <= 65535 ? (unsigned)v : 0;
}

/* A domain name in the sense of nexthop.h (final dot already gone). */
static int
valid_domain(const char *s)
{
	size_t len = strlen(s), label = 0, i;

	if (len == 0 || len > NEXTHOP_HOST_MAX)
		return 0;
	for (i = 0; i <= len; i++) {
		char c = s[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
		if (label == 0 && c == '-')
			return 0;
		label++;
	}
	return 1;
}

/* A last label of digits only: an address that needs brackets. */
static int
numeric_tld(const char *s)
{
	const char *dot = strrchr(s, '.');
	const char *p = dot != NULL ? dot + 1 : s;

	for (; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

/* The host between brackets: a numeric address ("IPv6:" prefix allowed)
 * or a domain name. */
static int
parse_bracketed(const char *in, struct nexthop *out)
{
	struct in6_addr a6;
	struct in_addr a4;
	const char *ip = in;

	if (str_ncasecmp(ip, "ipv6:", 5) == 0) {
		ip += 5;
		if (inet_pton(AF_INET6, ip, &a6) != 1)
			return -1;
		out->family = AF_INET6;
	} else if (inet_pton(AF_INET, ip, &a4) == 1) {
		out->family = AF_INET;
	} else if (inet_pton(AF_INET6, ip, &a6) == 1) {
		out->family = AF_INET6;
	} else {
		if (!valid_domain(in) || numeric_tld(in))
			return -1;
		strcpy(out->host, in);
		str_lower(out->host);
		return 0;
	}
	out->numeric = 1;
	strcpy(out->host, ip);
	str_lower(out->host);
	return 0;
}

int
nexthop_parse(const char *spec, unsigned default_port, struct nexthop *out,
	      struct buf *err)
{
	char copy[NEXTHOP_MAX + 1];
	char *host, *port = NULL, *close;
	size_t len;

	memset(out, 0, sizeof(*out));
	if (spec == NULL || (len = strlen(spec)) == 0)
		return fail(err, "", "empty");
	if (len > NEXTHOP_MAX)
		return fail(err, spec, "too long");
	memcpy(copy, spec, len + 1);
	if (copy[0] == '[') {
		if ((close = strchr(copy, ']')) == NULL)
			return fail(err, spec, "missing \"]\"");
		*close = '\0';
		host = copy + 1;
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return fail(err, spec, "garbage after \"]\"");
		if (*host == '\0' || strlen(host) > NEXTHOP_HOST_MAX ||
		    parse_bracketed(host, out) < 0)
			return fail(err, spec, "bad host between brackets");
	} else {
		host = copy;
		if ((port = strchr(copy, ':')) != NULL)
			*port++ = '\0';
		len = strlen(host);
		if (len > 0 && host[len - 1] == '.')
			host[--len] = '\0';
		if (!valid_domain(host) || numeric_tld(host))
			return fail(err, spec, "bad domain name");
		strcpy(out->host, host);
		str_lower(out->host);
		out->mx = 1;
	}
	if (port != NULL) {
		if ((out->port = parse_port(port)) == 0)
			return fail(err, spec, "bad port");
		out->port_given = 1;
	} else {
		out->port = default_port;
	}
	return 0;
}

int
nexthop_parse_lmtp(const char *spec, unsigned default_port, struct nexthop *out,
		   struct buf *err)
{
	char copy[NEXTHOP_MAX + 3]; /* with brackets added */
	size_t len;

	memset(out, 0, sizeof(*out));
	if (spec == NULL || (len = strlen(spec)) == 0)
		return fail(err, "", "empty");
	if (len > NEXTHOP_MAX)
		return fail(err, spec, "too long");
	if (str_ncasecmp(spec, "unix:", 5) == 0) {
		const char *p = spec + 5;

		if (*p == '\0' || strlen(p) > NEXTHOP_PATH_MAX)
			return fail(err, spec, "bad socket path");
		for (const char *c = p; *c; c++)
			if ((unsigned char)*c < ' ' || *c == 0x7f)
				return fail(err, spec, "bad socket path");
		strcpy(out->path, p);
		return 0;
	}
	if (str_ncasecmp(spec, "inet:", 5) == 0)
		spec += 5;
	if (*spec == '[')
		return nexthop_parse(spec, default_port, out, err);
	/* "host" or "host:port": a host name, never an MX lookup, or a
	 * numeric IPv4 address without its brackets. */
	len = strcspn(spec, ":");
	snprintf(copy, sizeof(copy), "[%.*s]%s", (int)len, spec, spec + len);
	return nexthop_parse(copy, default_port, out, err);
}

void
nexthop_format(const struct nexthop *nh, struct buf *out)
{
	if (nh->path[0] != '\0') {
		buf_printf(out, "unix:%s", nh->path);
		return;
	}
	if (nh->mx)
		buf_puts(out, nh->host);
	else
		buf_printf(out, "[%s]", nh->host);
	if (nh->port_given)
		buf_printf(out, ":%u", nh->port);
}
