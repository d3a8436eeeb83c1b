/*
 * smtp_tls - the TLS policy of one destination.
 *
 * smtp_tls_security_level is the global level (empty means none, as in
 * Postfix).  smtp_tls_policy_maps (Postfix syntax) overrides it per
 * destination, because one strict or broken peer must not dictate the
 * level for everyone.  Keys, first hit wins:
 *   the canonical next hop      "example.org", "[relay.example]:587"
 *   the same without the port   "[relay.example]"
 *   for an MX next hop, each parent domain with a leading dot
 *                               ".example.org" matches "a.example.org"
 * Value: a level (none, may, encrypt, verify, secure; dane and dane-only
 * are taken as may and encrypt, since there is no DANE here), then
 * optional attributes.  "match=NAME" (the first name of a ':'-separated
 * list) is the name the certificate must carry at verify and secure; by
 * default it is the MX host's name.  Other attributes (ciphers=,
 * protocols=, ...) are accepted and ignored.  A value that is not a level
 * is an error: the mail is deferred rather than sent with a weaker level
 * than the administrator asked for.
 */
#include <stdio.h>
#include <string.h>

#include "msg.h"
#include "smtp.h"
#include "strutil.h"

/* 1 with value, 0 not found, -1 error (why set). */
static int
lookup(const char *key, struct buf *value, struct buf *why)
{
	int rc;

	rc = maps_lookup(smtp_cfg.tls_policy, key, value, why);
	if (rc < 0)
		buf_printf(why, " (smtp_tls_policy_maps, key %s)", key);
	return rc;
}

static int
find(const struct nexthop *nh, const char *nexthop_text, struct buf *value,
     struct buf *why)
{
	struct buf key = BUF_INIT;
	const char *p;
	int rc;

	if ((rc = lookup(nexthop_text, value, why)) != 0)
		goto out;
	if (nh->port_given) {
		buf_printf(&key, nh->mx ? "%s" : "[%s]", nh->host);
		if ((rc = lookup(buf_cstr(&key), value, why)) != 0)
			goto out;
	}
	if (!nh->mx)
		goto out;
	for (p = strchr(nh->host, '.'); p != NULL; p = strchr(p + 1, '.')) {
		if ((rc = lookup(p, value, why)) != 0)
			goto out;
	}
out:
	buf_free(&key);
	return rc;
}

static int
parse_policy(const char *value, struct smtp_tls_policy *pol, struct buf *why)
{
	char **words = str_split(value, " \t,", NULL);
	int level, rc = -1;
	size_t i;

	if (words[0] == NULL) {
		buf_puts(why, "empty TLS policy");
		goto out;
	}
	if (str_casecmp(words[0], "dane") == 0)
		level = TLS_LEVEL_MAY;
	else if (str_casecmp(words[0], "dane-only") == 0)
		level = TLS_LEVEL_ENCRYPT;
	else
		level = tls_level_parse(words[0]);
	if (level < 0) {
		buf_printf(why, "unknown TLS level \"%.64s\"", words[0]);
		goto out;
	}
	pol->level = level;
	for (i = 1; words[i] != NULL; i++) {
		if (str_ncasecmp(words[i], "match=", 6) != 0)
			continue;
		snprintf(pol->match, sizeof(pol->match), "%.*s",
			 (int)strcspn(words[i] + 6, ":"), words[i] + 6);
		str_lower(pol->match);
	}
	rc = 0;
out:
	str_list_free(words);
	return rc;
}

int
smtp_tls_policy_get(const struct nexthop *nh, const char *nexthop_text,
		    struct smtp_tls_policy *pol, struct buf *why)
{
	struct buf value = BUF_INIT;
	int rc = 0;

	memset(pol, 0, sizeof(*pol));
	pol->level = smtp_cfg.tls_level;
	if (smtp_cfg.tls_policy == NULL)
		return 0;
	switch (find(nh, nexthop_text, &value, why)) {
	case 1:
		if (parse_policy(buf_cstr(&value), pol, why) < 0) {
			msg_warn("smtp_tls_policy_maps: bad policy for %s: %s",
				 nexthop_text, buf_cstr(why));
			buf_reset(why);
			buf_printf(why, "TLS policy lookup error for %s",
				   nexthop_text);
			rc = -1;
		}
		break;
	case -1:
		msg_warn("%s", buf_cstr(why));
		buf_reset(why);
		buf_printf(why, "TLS policy lookup error for %s", nexthop_text);
		rc = -1;
		break;
	}
	buf_free(&value);
	return rc;
}
