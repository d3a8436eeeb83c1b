/*
 * resolve - recipient address to transport and next hop; see resolve.h.
 */
#include <string.h>

#include "resolve.h"
#include "strutil.h"

void
resolve_domain(const char *addr, struct buf *domain)
{
	const char *at = strrchr(addr, '@');

	buf_set(domain, at ? at + 1 : "");
	if (domain->len > 0)
		str_lower(domain->data);
}

int
resolve_domain_listed(const struct match_list *list, const char *domain,
		      struct buf *err)
{
	if (list == NULL || *domain == '\0')
		return 0;
	return match_list_domain(list, domain, 0, err);
}

static int
transport_name_ok(const char *s, size_t len)
{
	if (len == 0 || len > RESOLVE_TRANSPORT_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return 0;
	}
	return s[0] != '.';
}

static int
nexthop_ok(const char *s, size_t len)
{
	if (len > RESOLVE_NEXTHOP_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < ' ' || c == 0x7f)
			return 0;
	}
	return 1;
}

/* Splits "transport[:nexthop]" into its checked parts; empty parts are
 * allowed here (the caller applies defaults).  0 or -1. */
static int
split_route(const char *value, struct buf *transport, struct buf *nexthop)
{
	const char *colon = strchr(value, ':');
	size_t tlen = colon ? (size_t)(colon - value) : strlen(value);
	const char *nh = colon ? colon + 1 : "";

	if ((tlen > 0 && !transport_name_ok(value, tlen)) ||
	    !nexthop_ok(nh, strlen(nh)))
		return -1;
	buf_reset(transport);
	buf_append(transport, value, tlen);
	buf_set(nexthop, nh);
	return 0;
}

/* The route before the table: local or default transport. */
static int
default_route(const struct resolve_conf *conf, const char *domain, int local,
	      struct buf *transport, struct buf *nexthop, struct buf *err)
{
	const char *spec =
	    local ? conf->local_transport : conf->default_transport;

	if (spec == NULL || *spec == '\0')
		spec = local ? "local" : "smtp";
	if (split_route(spec, transport, nexthop) < 0 || transport->len == 0) {
		buf_set(err, "");
		buf_printf(err, "malformed %s \"%s\"",
			   local ? "local_transport" : "default_transport",
			   spec);
		return RESOLVE_BAD;
	}
	if (!local && nexthop->len == 0)
		buf_set(nexthop, conf->relayhost && *conf->relayhost
				     ? conf->relayhost
				     : domain);
	return RESOLVE_OK;
}

/* Looks up key; 1 found, 0 not, -1 error. */
static int
table_get(const struct resolve_conf *conf, const char *key, struct buf *value,
	  struct buf *err)
{
	return conf->lookup(key, value, err, conf->lookup_ctx);
}

/* The transport table's value for addr (full address, domain, parents,
 * "*"): 1 found, 0 not, -1 error. */
static int
table_find(const struct resolve_conf *conf, const char *addr,
	   const char *domain, struct buf *value, struct buf *err)
{
	struct buf key = BUF_INIT;
	const char *p;
	int rc;

	buf_set(&key, addr);
	str_lower(key.data);
	if ((rc = table_get(conf, key.data, value, err)) != 0)
		goto out;
	if (*domain) {
		if ((rc = table_get(conf, domain, value, err)) != 0)
			goto out;
		/* Parents of a name, never of an address literal. */
		for (p = domain; *domain != '[' && (p = strchr(p, '.')); p++) {
			if (p[1] == '\0')
				break;
			if ((rc = table_get(conf, p, value, err)) != 0)
				goto out;
		}
	}
	rc = table_get(conf, "*", value, err);
out:
	buf_free(&key);
	return rc;
}

int
resolve_addr(const struct resolve_conf *conf, const char *addr,
	     struct buf *transport, struct buf *nexthop, struct buf *err)
{
	struct buf domain = BUF_INIT, value = BUF_INIT;
	struct buf t = BUF_INIT, nh = BUF_INIT;
	int local, rc;

	resolve_domain(addr, &domain);
	local = domain.len == 0 ? 1
				: resolve_domain_listed(conf->mydestination,
							domain.data, err);
	if (local < 0) {
		rc = RESOLVE_ERROR;
		goto out;
	}
	rc = default_route(conf, buf_cstr(&domain), local, transport, nexthop,
			   err);
	if (rc != RESOLVE_OK || conf->lookup == NULL)
		goto out;
	rc = table_find(conf, addr, buf_cstr(&domain), &value, err);
	if (rc <= 0) {
		rc = rc < 0 ? RESOLVE_ERROR : RESOLVE_OK;
		goto out;
	}
	if (split_route(buf_cstr(&value), &t, &nh) < 0) {
		buf_set(err, "");
		buf_printf(err, "malformed transport table entry \"%.100s\"",
			   buf_cstr(&value));
		rc = RESOLVE_BAD;
		goto out;
	}
	if (t.len > 0 && strcmp(t.data, buf_cstr(transport)) != 0) {
		buf_set(transport, t.data);
		buf_set(nexthop, buf_cstr(&domain));
	}
	if (nh.len > 0)
		buf_set(nexthop, nh.data);
	rc = RESOLVE_OK;
out:
	buf_free(&domain);
	buf_free(&value);
	buf_free(&t);
	buf_free(&nh);
	return rc;
}

int
resolve_filter(const struct resolve_conf *conf, const char *filter,
	       const char *addr, struct buf *transport, struct buf *nexthop,
	       struct buf *err)
{
	if (split_route(filter, transport, nexthop) < 0 ||
	    transport->len == 0) {
		buf_set(err, "");
		buf_printf(err, "malformed content filter \"%.100s\"", filter);
		return RESOLVE_BAD;
	}
	if (nexthop->len == 0) {
		if (conf->default_filter_nexthop &&
		    *conf->default_filter_nexthop)
			buf_set(nexthop, conf->default_filter_nexthop);
		else
			resolve_domain(addr, nexthop);
	}
	return RESOLVE_OK;
}
