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
 * Value: a level (none, may, encrypt, dane, dane-only, verify, secure),
 * then optional attributes, as in postconf(5):
 *   match=NAME:NAME...  the names the certificate may carry at verify
 *                       and secure ("hostname": the MX host, "nexthop":
 *                       the next-hop domain, "dot-nexthop": any name
 *                       below it); by default the MX host's name
 *   servername=NAME     the SNI name ("hostname": the MX host)
 *   protocols=, ciphers=, exclude=
 *                       the protocol range, cipher grade and exclusions
 *                       of this destination (':'-separated lists)
 *   tafile=PATH         trust anchors for verify and secure instead of
 *                       the CAs: PEM certificates, read at each delivery
 * Other attributes of Postfix are accepted and change nothing.  A value
 * that is not a level, or an attribute too long to hold, is an error:
 * the mail is deferred rather than sent with a weaker level than the
 * administrator asked for.
 */
#include <stddef.h>
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

/* "name=value" words of a policy: the value into out (bounded), or -1
 * (why set) when it does not fit. */
static int
attr_copy(const char *word, size_t skip, char *out, size_t size,
	  struct buf *why)
{
	if (strlen(word + skip) >= size) {
		buf_printf(why, "attribute too long: \"%.64s...\"", word);
		return -1;
	}
	strcpy(out, word + skip);
	return 0;
}

int
smtp_tls_level_parse(const char *word, enum tls_level *level,
		     enum smtp_dane_mode *dane)
{
	int lvl;

	*dane = SMTP_DANE_OFF;
	/* dane falls back to may, dane-only to nothing weaker than encrypt
	 * (smtp_dane.h decides per server). */
	if (str_casecmp(word, "dane") == 0) {
		*dane = SMTP_DANE_ON;
		lvl = TLS_LEVEL_MAY;
	} else if (str_casecmp(word, "dane-only") == 0) {
		*dane = SMTP_DANE_ONLY;
		lvl = TLS_LEVEL_ENCRYPT;
	} else if ((lvl = tls_level_parse(word)) < 0) {
		return -1;
	}
	*level = (enum tls_level)lvl;
	return 0;
}

int
smtp_tls_policy_parse(const char *value, struct smtp_tls_policy *pol,
		      struct buf *why)
{
	static const struct {
		const char *name;
		size_t off, size;
	} attrs[] = {
	    {"match=", offsetof(struct smtp_tls_policy, match),
	     sizeof(pol->match)},
	    {"servername=", offsetof(struct smtp_tls_policy, servername),
	     sizeof(pol->servername)},
	    {"protocols=", offsetof(struct smtp_tls_policy, protocols),
	     sizeof(pol->protocols)},
	    {"ciphers=", offsetof(struct smtp_tls_policy, ciphers),
	     sizeof(pol->ciphers)},
	    {"exclude=", offsetof(struct smtp_tls_policy, exclude),
	     sizeof(pol->exclude)},
	    {"tafile=", offsetof(struct smtp_tls_policy, tafile),
	     sizeof(pol->tafile)},
	};
	char **words = str_split(value, " \t,", NULL);
	int rc = -1;
	size_t i, j, n;

	if (words[0] == NULL) {
		buf_puts(why, "empty TLS policy");
		goto out;
	}
	if (smtp_tls_level_parse(words[0], &pol->level, &pol->dane) < 0) {
		buf_printf(why, "unknown TLS level \"%.64s\"", words[0]);
		goto out;
	}
	for (i = 1; words[i] != NULL; i++) {
		for (j = 0; j < sizeof(attrs) / sizeof(attrs[0]); j++) {
			n = strlen(attrs[j].name);
			if (str_ncasecmp(words[i], attrs[j].name, n) == 0)
				break;
		}
		/* Postfix's other attributes (connection_reuse,
		 * enable_rpk, ...) change nothing here. */
		if (j == sizeof(attrs) / sizeof(attrs[0]))
			continue;
		if (attr_copy(words[i], n, (char *)pol + attrs[j].off,
			      attrs[j].size, why) < 0)
			goto out;
	}
	str_lower(pol->match);
	str_lower(pol->servername);
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
	pol->dane = smtp_cfg.tls_dane;
	if (smtp_cfg.tls_policy == NULL)
		return 0;
	switch (find(nh, nexthop_text, &value, why)) {
	case 1:
		if (smtp_tls_policy_parse(buf_cstr(&value), pol, why) < 0) {
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

/* One name of match= or servername=: Postfix's words for the names of
 * this delivery, or the name itself. */
static void
policy_name(const char *word, size_t len, const struct smtp_target *t,
	    char *out, size_t size)
{
	const char *nexthop = t->nh != NULL ? t->nh->host : t->host;

	if (len == 8 && strncmp(word, "hostname", 8) == 0)
		snprintf(out, size, "%s", t->host);
	else if (len == 7 && strncmp(word, "nexthop", 7) == 0)
		snprintf(out, size, "%s", nexthop);
	else if (len == 11 && strncmp(word, "dot-nexthop", 11) == 0)
		snprintf(out, size, ".%s", nexthop);
	else
		snprintf(out, size, "%.*s", (int)len, word);
}

int
smtp_tls_opts_make(const struct smtp_tls_policy *pol,
		   const struct smtp_target *t, enum tls_level level,
		   struct smtp_tls_opts *out, struct buf *err)
{
	const struct tls_params *p = smtp_cfg.tls_params;
	const char *m = pol->match, *grade, *exclude, *extra;
	struct tls_protocols prot;
	int mandatory = level >= TLS_LEVEL_ENCRYPT;
	size_t n = 0, len, i;

	memset(out, 0, sizeof(*out));
	buf_init(&out->ciphers);
	/* match=: the first name is the peer name, the others may match
	 * instead (SSL_add1_host). */
	snprintf(out->peer, sizeof(out->peer), "%s", t->host);
	for (i = 0; *m != '\0'; i++) {
		len = strcspn(m, ":");
		if (len > 0 && i == 0)
			policy_name(m, len, t, out->peer, sizeof(out->peer));
		else if (len > 0 && n < SMTP_TLS_NAMES_MAX)
			policy_name(m, len, t, out->names[n++],
				    sizeof(out->names[0]));
		m += len + (m[len] == ':');
	}
	for (i = 0; i < n; i++)
		out->namep[i] = out->names[i];
	out->namep[n] = NULL;
	out->o.names = out->namep;
	if (pol->servername[0] != '\0') {
		len = strlen(pol->servername);
		policy_name(pol->servername, len, t, out->sni,
			    sizeof(out->sni));
		out->o.sni = out->sni;
	}
	if (pol->protocols[0] != '\0') {
		if (tls_protocols_parse(pol->protocols, &prot, err) < 0)
			return -1;
		out->o.min_version = prot.min;
		out->o.max_version = prot.max;
	}
	/* ciphers= and exclude= stand for the parameters of the level, as
	 * in Postfix: the mandatory ones at encrypt and above. */
	if (p != NULL && (pol->ciphers[0] != '\0' || pol->exclude[0] != '\0')) {
		grade = pol->ciphers[0] ? pol->ciphers
			: mandatory	? p->mandatory_ciphers
					: p->ciphers;
		exclude = pol->exclude[0] ? pol->exclude : p->exclude_ciphers;
		extra = pol->exclude[0] || !mandatory
			    ? NULL
			    : p->mandatory_exclude_ciphers;
		if (tls_cipherlist_make(grade, p->high, p->medium, p->null,
					exclude, extra, &out->ciphers, err) < 0)
			return -1;
		out->o.ciphers = buf_cstr(&out->ciphers);
	}
	if (pol->tlsa != NULL) {
		/* DANE (smtp_connect.c): DANE-TA matches must name the TLSA
		 * base domain or the MX host (RFC 7672 3.2.2). */
		for (i = 0; i < pol->tlsa->count; i++) {
			out->rr[i].usage = pol->tlsa->rr[i].usage;
			out->rr[i].selector = pol->tlsa->rr[i].selector;
			out->rr[i].mtype = pol->tlsa->rr[i].mtype;
			out->rr[i].data = pol->tlsa->rr[i].data;
			out->rr[i].len = pol->tlsa->rr[i].len;
		}
		out->dane.base = pol->tlsa_base;
		snprintf(out->names[0], sizeof(out->names[0]), "%s", t->host);
		out->namep[0] = out->names[0];
		out->namep[1] = NULL;
		out->dane.names = out->namep;
		out->dane.sni = out->o.sni;
		out->dane.rr = out->rr;
		out->dane.count = pol->tlsa->count;
		out->o.names = NULL;
		out->o.dane = &out->dane;
	} else if (pol->tafile[0] != '\0' && level >= TLS_LEVEL_VERIFY) {
		/* tafile=: these anchors and no others, names as match=. */
		if (tls_tafile_load(pol->tafile, &out->ta, &out->nta, err) < 0)
			return -1;
		out->dane.base = out->peer;
		out->dane.names = out->namep;
		out->dane.sni = out->o.sni;
		out->dane.rr = out->ta;
		out->dane.count = out->nta;
		out->o.names = NULL;
		out->o.dane = &out->dane;
	}
	return 0;
}

void
smtp_tls_opts_free(struct smtp_tls_opts *out)
{
	buf_free(&out->ciphers);
	if (out->ta != NULL)
		tls_tafile_free(out->ta, out->nta);
	out->ta = NULL;
	out->nta = 0;
}
