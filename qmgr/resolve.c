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

/* Where a domain belongs before the table. */
enum route_class { ROUTE_DEFAULT, ROUTE_LOCAL, ROUTE_VIRTUAL, ROUTE_RELAY };

/* A sender-dependent table's value for sender (the address, then
 * "@domain"; "<>" for the null sender): 1 found, 0 not, -1 error. */
static int
sender_lookup(resolve_lookup_fn fn, void *ctx, const char *sender,
	      struct buf *value, struct buf *err)
{
	struct buf key = BUF_INIT;
	const char *at;
	int rc;

	if (fn == NULL || sender == NULL)
		return 0;
	buf_set(&key, *sender ? sender : "<>");
	str_lower(key.data);
	rc = fn(key.data, value, err, ctx);
	if (rc == 0 && *sender && (at = strrchr(key.data, '@')) != NULL &&
	    at != key.data)
		rc = fn(at, value, err, ctx);
	buf_free(&key);
	/* Postfix's DUNNO: as if the table had no entry. */
	if (rc > 0 && strcmp(buf_cstr(value), "DUNNO") == 0)
		rc = 0;
	return rc;
}

/* The route before the table: local, virtual, relay or default
 * transport. */
static int
default_route(const struct resolve_conf *conf, const char *sender,
	      const char *domain, enum route_class cls, struct buf *transport,
	      struct buf *nexthop, struct buf *err)
{
	static const char *const param[] = {
	    [ROUTE_DEFAULT] = "default_transport",
	    [ROUTE_LOCAL] = "local_transport",
	    [ROUTE_VIRTUAL] = "virtual_transport",
	    [ROUTE_RELAY] = "relay_transport",
	};
	static const char *const fallback[] = {
	    [ROUTE_DEFAULT] = "smtp",
	    [ROUTE_LOCAL] = "local",
	    [ROUTE_VIRTUAL] = "virtual",
	    [ROUTE_RELAY] = "relay",
	};
	const char *spec = cls == ROUTE_LOCAL	  ? conf->local_transport
			   : cls == ROUTE_VIRTUAL ? conf->virtual_transport
			   : cls == ROUTE_RELAY	  ? conf->relay_transport
						  : conf->default_transport;
	const char *what = param[cls];
	struct buf value = BUF_INIT;
	int rc = RESOLVE_OK, found;

	if (cls == ROUTE_DEFAULT) {
		found = sender_lookup(conf->sender_transport,
				      conf->sender_transport_ctx, sender,
				      &value, err);
		if (found < 0) {
			rc = RESOLVE_ERROR;
			goto out;
		}
		if (found) {
			spec = buf_cstr(&value);
			what = "sender_dependent_default_transport_maps value";
		}
	}
	if (spec == NULL || *spec == '\0')
		spec = fallback[cls];
	if (split_route(spec, transport, nexthop) < 0 || transport->len == 0) {
		buf_set(err, "");
		buf_printf(err, "malformed %s \"%s\"", what, spec);
		rc = RESOLVE_BAD;
		goto out;
	}
	if ((cls == ROUTE_DEFAULT || cls == ROUTE_RELAY) && nexthop->len == 0) {
		found = sender_lookup(conf->sender_relayhost,
				      conf->sender_relayhost_ctx, sender,
				      &value, err);
		if (found < 0)
			rc = RESOLVE_ERROR;
		else if (found && nexthop_ok(value.data, value.len))
			buf_set(nexthop, value.data);
		else if (found) {
			buf_set(err, "");
			buf_printf(err,
				   "malformed sender_dependent_relayhost_maps "
				   "value \"%.100s\"",
				   value.data);
			rc = RESOLVE_BAD;
		} else
			buf_set(nexthop, conf->relayhost && *conf->relayhost
					     ? conf->relayhost
					     : domain);
	} else if (cls == ROUTE_VIRTUAL && nexthop->len == 0)
		buf_set(nexthop, domain);
out:
	buf_free(&value);
	return rc;
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
	return resolve_addr_from(conf, NULL, addr, transport, nexthop, err);
}

int
resolve_addr_from(const struct resolve_conf *conf, const char *sender,
		  const char *addr, struct buf *transport, struct buf *nexthop,
		  struct buf *err)
{
	struct buf domain = BUF_INIT, value = BUF_INIT;
	struct buf t = BUF_INIT, nh = BUF_INIT;
	int local, virt = 0, relay = 0, rc;

	resolve_domain(addr, &domain);
	local = domain.len == 0 ? 1
				: resolve_domain_listed(conf->mydestination,
							domain.data, err);
	if (local == 0)
		virt = resolve_domain_listed(conf->virtual_mailbox_domains,
					     domain.data, err);
	if (local < 0 || virt < 0) {
		rc = RESOLVE_ERROR;
		goto out;
	}
	if (!local && conf->virtual_alias_domains) {
		int v = resolve_domain_listed(conf->virtual_alias_domains,
					      domain.data, err);
		if (v < 0) {
			rc = RESOLVE_ERROR;
			goto out;
		}
		if (v) {
			buf_set(transport, "error");
			buf_set(nexthop, "5.1.1 User unknown in virtual alias "
					 "table");
			rc = RESOLVE_OK;
			goto out;
		}
	}
	if (!local && !virt && conf->relay_transport &&
	    *conf->relay_transport && conf->relay_domains) {
		/* relay_domains match their subdomains (Postfix's
		 * parent_domain_matches_subdomains). */
		relay =
		    match_list_domain(conf->relay_domains, domain.data, 1, err);
		if (relay < 0) {
			rc = RESOLVE_ERROR;
			goto out;
		}
	}
	rc = default_route(conf, sender, buf_cstr(&domain),
			   local   ? ROUTE_LOCAL
			   : virt  ? ROUTE_VIRTUAL
			   : relay ? ROUTE_RELAY
				   : ROUTE_DEFAULT,
			   transport, nexthop, err);
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
