/*
 * rewrite - address rewriting at enqueue (rewrite.h): the standard form,
 * canonical mapping, masquerading, virtual alias expansion and the
 * automatic BCC recipients, on an envelope before its commit.
 */
#include <string.h>

#include "conf.h"
#include "maps.h"
#include "match_list.h"
#include "msg.h"
#include "rewrite.h"
#include "smtp_cmd.h" /* SMTP_NOTIFY_NEVER, as the queue stores it */
#include "strutil.h"
#include "xalloc.h"
#include "xtext.h"

/* canonical_classes and masquerade_classes, as bits. */
#define CLASS_ENV_SENDER 0x1
#define CLASS_ENV_RCPT 0x2
#define CLASS_HDR_SENDER 0x4
#define CLASS_HDR_RCPT 0x8

struct rewrite {
	char *myorigin, *mydomain, *delimiter, *remote_domain;
	struct match_list *mydestination, *virtual_domains;
	int propagate_canonical, propagate_virtual;
	int swap_bangpath, percent_hack, append_at_origin, append_dot;
	struct maps *canonical, *sender_canonical, *recipient_canonical;
	int canonical_classes, masquerade_classes;
	int hdr_own, hdr_mynetworks, hdr_sasl, hdr_all;
	char **masquerade_domains;
	struct match_list *masquerade_exceptions;
	struct maps *virtual;
	size_t expansion_limit, recursion_limit, length_limit;
	char *always_bcc;
	struct maps *sender_bcc, *recipient_bcc, *relay_recipients;
};

void
rewrite_conf_read(struct rewrite_conf *c)
{
	c->myorigin = conf_str("myorigin");
	c->mydomain = conf_str("mydomain");
	c->mydestination = conf_str("mydestination");
	c->recipient_delimiter = conf_str("recipient_delimiter");
	c->propagate_unmatched_extensions =
	    conf_str("propagate_unmatched_extensions");
	c->swap_bangpath = conf_bool("swap_bangpath");
	c->allow_percent_hack = conf_bool("allow_percent_hack");
	c->append_at_myorigin = conf_bool("append_at_myorigin");
	c->append_dot_mydomain = conf_bool("append_dot_mydomain");
	c->canonical_maps = conf_str("canonical_maps");
	c->sender_canonical_maps = conf_str("sender_canonical_maps");
	c->recipient_canonical_maps = conf_str("recipient_canonical_maps");
	c->canonical_classes = conf_str("canonical_classes");
	c->masquerade_domains = conf_str("masquerade_domains");
	c->masquerade_exceptions = conf_str("masquerade_exceptions");
	c->masquerade_classes = conf_str("masquerade_classes");
	c->virtual_alias_domains = conf_str("virtual_alias_domains");
	c->virtual_alias_maps = conf_str("virtual_alias_maps");
	c->expansion_limit = conf_int("virtual_alias_expansion_limit");
	c->recursion_limit = conf_int("virtual_alias_recursion_limit");
	c->address_length_limit =
	    conf_int("virtual_alias_address_length_limit");
	c->always_bcc = conf_str("always_bcc");
	c->sender_bcc_maps = conf_str("sender_bcc_maps");
	c->recipient_bcc_maps = conf_str("recipient_bcc_maps");
	c->relay_recipient_maps = conf_str("relay_recipient_maps");
	c->local_header_rewrite_clients =
	    conf_str("local_header_rewrite_clients");
	c->remote_header_rewrite_domain =
	    conf_str("remote_header_rewrite_domain");
}

/* The bits of a canonical_classes or masquerade_classes value. */
static int
classes_parse(const char *param, const char *value, struct buf *err)
{
	char **words = str_split(value, ", \t\r\n", NULL);
	int bits = 0;

	for (char **w = words; *w; w++) {
		if (str_casecmp(*w, "envelope_sender") == 0)
			bits |= CLASS_ENV_SENDER;
		else if (str_casecmp(*w, "envelope_recipient") == 0)
			bits |= CLASS_ENV_RCPT;
		else if (str_casecmp(*w, "header_sender") == 0)
			bits |= CLASS_HDR_SENDER;
		else if (str_casecmp(*w, "header_recipient") == 0)
			bits |= CLASS_HDR_RCPT;
		else {
			buf_printf(err, "%s: unknown address class \"%s\"",
				   param, *w);
			bits = -1;
			break;
		}
	}
	str_list_free(words);
	return bits;
}

/* local_header_rewrite_clients: the words Panacea knows. */
static int
local_clients_parse(const char *value, struct rewrite *rw, struct buf *err)
{
	char **words = str_split(value ? value : "", ", \t\r\n", NULL);
	int r = 0;

	for (char **w = words; *w; w++) {
		if (str_casecmp(*w, "permit_inet_interfaces") == 0)
			rw->hdr_own = 1;
		else if (str_casecmp(*w, "permit_mynetworks") == 0)
			rw->hdr_mynetworks = 1;
		else if (str_casecmp(*w, "permit_sasl_authenticated") == 0)
			rw->hdr_sasl = 1;
		else if (str_casecmp(*w, "static:all") == 0)
			rw->hdr_all = 1;
		else {
			buf_printf(err,
				   "local_header_rewrite_clients: \"%s\" is "
				   "not supported by Panacea",
				   *w);
			r = -1;
			break;
		}
	}
	str_list_free(words);
	return r;
}

int
rewrite_remote_headers(const struct rewrite *rw)
{
	return *rw->remote_domain != '\0';
}

int
rewrite_local_client(const struct rewrite *rw, int own_addr, int in_mynetworks,
		     int authenticated)
{
	return rw->hdr_all || (rw->hdr_own && own_addr) ||
	       (rw->hdr_mynetworks && in_mynetworks) ||
	       (rw->hdr_sasl && authenticated);
}

/* A table parameter; an empty one gives NULL, an error -1. */
static int
open_maps(const char *param, const char *value, struct maps **m,
	  struct buf *err)
{
	struct buf e = BUF_INIT;

	*m = NULL;
	if (value == NULL || *value == '\0')
		return 0;
	if ((*m = maps_open(value, &e)) == NULL) {
		buf_printf(err, "%s: %s", param, buf_cstr(&e));
		buf_free(&e);
		return -1;
	}
	buf_free(&e);
	return 0;
}

static size_t
limit_of(long long v)
{
	return v < 1 ? 1 : (size_t)v;
}

struct rewrite *
rewrite_open(const struct rewrite_conf *c, struct buf *err)
{
	struct rewrite *rw = xcalloc(1, sizeof(*rw));
	const char *prop = c->propagate_unmatched_extensions
			       ? c->propagate_unmatched_extensions
			       : "";

	rw->myorigin = xstrdup(c->myorigin ? c->myorigin : "");
	rw->mydomain = xstrdup(c->mydomain ? c->mydomain : "");
	rw->remote_domain = xstrdup(c->remote_header_rewrite_domain
					? c->remote_header_rewrite_domain
					: "");
	rw->delimiter =
	    xstrdup(c->recipient_delimiter ? c->recipient_delimiter : "");
	rw->propagate_canonical = str_list_match(prop, "canonical");
	rw->propagate_virtual = str_list_match(prop, "virtual");
	rw->swap_bangpath = c->swap_bangpath;
	rw->percent_hack = c->allow_percent_hack;
	rw->append_at_origin = c->append_at_myorigin;
	rw->append_dot = c->append_dot_mydomain;
	rw->expansion_limit = limit_of(c->expansion_limit);
	rw->recursion_limit = limit_of(c->recursion_limit);
	rw->length_limit = limit_of(c->address_length_limit);
	rw->always_bcc = xstrdup(c->always_bcc ? c->always_bcc : "");
	str_trim(rw->always_bcc);
	if (local_clients_parse(c->local_header_rewrite_clients, rw, err) < 0)
		goto fail;
	rw->masquerade_domains =
	    str_split(c->masquerade_domains ? c->masquerade_domains : "",
		      ", \t\r\n", NULL);
	if ((rw->canonical_classes = classes_parse(
		 "canonical_classes",
		 c->canonical_classes ? c->canonical_classes : "", err)) < 0 ||
	    (rw->masquerade_classes = classes_parse(
		 "masquerade_classes",
		 c->masquerade_classes ? c->masquerade_classes : "", err)) < 0)
		goto fail;
	if ((rw->mydestination = match_list_open(
		 "mydestination", c->mydestination ? c->mydestination : "",
		 err)) == NULL ||
	    (rw->virtual_domains = match_list_open(
		 "virtual_alias_domains",
		 c->virtual_alias_domains ? c->virtual_alias_domains : "",
		 err)) == NULL ||
	    (rw->masquerade_exceptions = match_list_open(
		 "masquerade_exceptions",
		 c->masquerade_exceptions ? c->masquerade_exceptions : "",
		 err)) == NULL)
		goto fail;
	if (open_maps("canonical_maps", c->canonical_maps, &rw->canonical,
		      err) < 0 ||
	    open_maps("sender_canonical_maps", c->sender_canonical_maps,
		      &rw->sender_canonical, err) < 0 ||
	    open_maps("recipient_canonical_maps", c->recipient_canonical_maps,
		      &rw->recipient_canonical, err) < 0 ||
	    open_maps("virtual_alias_maps", c->virtual_alias_maps, &rw->virtual,
		      err) < 0 ||
	    open_maps("sender_bcc_maps", c->sender_bcc_maps, &rw->sender_bcc,
		      err) < 0 ||
	    open_maps("recipient_bcc_maps", c->recipient_bcc_maps,
		      &rw->recipient_bcc, err) < 0 ||
	    open_maps("relay_recipient_maps", c->relay_recipient_maps,
		      &rw->relay_recipients, err) < 0)
		goto fail;
	return rw;
fail:
	rewrite_close(rw);
	return NULL;
}

void
rewrite_close(struct rewrite *rw)
{
	if (rw == NULL)
		return;
	xfree(rw->myorigin);
	xfree(rw->mydomain);
	xfree(rw->remote_domain);
	xfree(rw->delimiter);
	xfree(rw->always_bcc);
	match_list_free(rw->mydestination);
	match_list_free(rw->virtual_domains);
	match_list_free(rw->masquerade_exceptions);
	str_list_free(rw->masquerade_domains);
	struct maps *all[] = {rw->canonical,	       rw->sender_canonical,
			      rw->recipient_canonical, rw->virtual,
			      rw->sender_bcc,	       rw->recipient_bcc,
			      rw->relay_recipients};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (all[i])
			maps_close(all[i]);
	xfree(rw);
}

const char *
rewrite_changed(const struct rewrite *rw)
{
	const struct maps *all[] = {
	    rw->canonical,	 rw->sender_canonical, rw->recipient_canonical,
	    rw->virtual,	 rw->sender_bcc,       rw->recipient_bcc,
	    rw->relay_recipients};
	static const char *const names[] = {
	    "canonical_maps",		"sender_canonical_maps",
	    "recipient_canonical_maps", "virtual_alias_maps",
	    "sender_bcc_maps",		"recipient_bcc_maps",
	    "relay_recipient_maps"};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (all[i] && maps_changed(all[i]))
			return names[i];
	return NULL;
}

/* ---------------------------------------------------------------- */
/* Address parts and table lookups */

/* The parts of an address: local part (with extension) before the last
 * '@', domain after it (NULL without one), and where the extension starts
 * in the local part (0 when none). */
struct parts {
	char *local;
	const char *domain;
	size_t ext; /* offset of the delimiter in local, 0 when none */
};

static void
parts_split(const struct rewrite *rw, const char *addr, struct parts *p)
{
	const char *at = strrchr(addr, '@');

	p->local = at ? xstrndup(addr, (size_t)(at - addr)) : xstrdup(addr);
	p->domain = at ? at + 1 : NULL;
	p->ext = 0;
	/* A local part that starts with the delimiter has no extension. */
	if (*rw->delimiter && p->local[0]) {
		size_t n = strcspn(p->local + 1, rw->delimiter) + 1;
		if (p->local[n])
			p->ext = n;
	}
}

/* Is domain ours for the "user" keys: $myorigin or $mydestination. */
static int
local_domain(const struct rewrite *rw, const char *domain, struct buf *err)
{
	if (domain == NULL || *domain == '\0' ||
	    str_casecmp(domain, rw->myorigin) == 0)
		return 1;
	return match_list_domain(rw->mydestination, domain, 0, err);
}

/* How a result was found: its key had the extension, lacked it, or was
 * "@domain". */
enum found_by { BY_FULL, BY_BASE, BY_DOMAIN };

static int
try_key(struct maps *m, const char *key, struct buf *value, struct buf *err)
{
	return maps_lookup(m, key, value, err);
}

/* Postfix's mail_addr_find order (rewrite.h); 1 found (value, *by), 0
 * not, -1 error. */
static int
addr_find(const struct rewrite *rw, struct maps *m, const char *addr,
	  struct buf *value, enum found_by *by, struct buf *err)
{
	struct parts p;
	struct buf key = BUF_INIT;
	int r, local;

	parts_split(rw, addr, &p);
	*by = BY_FULL;
	if ((r = try_key(m, addr, value, err)) != 0)
		goto done;
	if (p.ext && p.domain) {
		buf_printf(&key, "%.*s@%s", (int)p.ext, p.local, p.domain);
		*by = BY_BASE;
		if ((r = try_key(m, buf_cstr(&key), value, err)) != 0)
			goto done;
	}
	if (p.domain) {
		if ((local = local_domain(rw, p.domain, err)) < 0) {
			r = -1;
			goto done;
		}
		if (local) {
			*by = BY_FULL;
			if ((r = try_key(m, p.local, value, err)) != 0)
				goto done;
			if (p.ext) {
				buf_reset(&key);
				buf_printf(&key, "%.*s", (int)p.ext, p.local);
				*by = BY_BASE;
				if ((r = try_key(m, buf_cstr(&key), value,
						 err)) != 0)
					goto done;
			}
		}
		buf_reset(&key);
		buf_printf(&key, "@%s", p.domain);
		*by = BY_DOMAIN;
		r = try_key(m, buf_cstr(&key), value, err);
	}
done:
	buf_free(&key);
	xfree(p.local);
	return r;
}

/* One address of a result, completed: "@other" takes the local part of
 * addr, and with propagate a result found without the extension gets it
 * back before its '@'. */
static void
result_addr(const struct rewrite *rw, const char *addr, const char *res,
	    enum found_by by, int propagate, struct buf *out)
{
	struct parts p;

	parts_split(rw, addr, &p);
	buf_reset(out);
	if (res[0] == '@') {
		buf_printf(out, "%s%s", p.local, res);
	} else if (propagate && by == BY_BASE && p.ext) {
		const char *at = strrchr(res, '@');
		size_t n = at ? (size_t)(at - res) : strlen(res);
		buf_printf(out, "%.*s%s%s", (int)n, res, p.local + p.ext,
			   res + n);
	} else {
		buf_puts(out, res);
	}
	xfree(p.local);
}

/* The addresses of a table result: separated by commas or white space,
 * "<addr>" taken without its brackets. */
static char **
result_split(const char *value, int *count)
{
	char **w = str_split(value, ", \t\r\n", count);

	for (char **p = w; *p; p++) {
		size_t n = strlen(*p);
		if (n >= 2 && (*p)[0] == '<' && (*p)[n - 1] == '>') {
			memmove(*p, *p + 1, n - 2);
			(*p)[n - 2] = '\0';
		}
	}
	return w;
}

/* ---------------------------------------------------------------- */
/* Steps 1-3 */

/* Step 1: the standard form. */
static void
standard_form(const struct rewrite *rw, const char *addr, int remote,
	      struct buf *out)
{
	/* A remote client's header: remote_header_rewrite_domain completes
	 * its addresses instead of $myorigin and $mydomain. */
	const char *origin = remote ? rw->remote_domain : rw->myorigin;
	const char *dot = remote ? rw->remote_domain : rw->mydomain;

	buf_set(out, addr);
	if (strchr(addr, '@') == NULL) {
		char *bang = strchr(addr, '!');
		char *pct = strrchr(addr, '%');
		if (rw->swap_bangpath && bang && bang != addr && bang[1]) {
			/* "site!rest" is "rest@site". */
			buf_reset(out);
			buf_printf(out, "%s@%.*s", bang + 1, (int)(bang - addr),
				   addr);
		} else if (rw->percent_hack && pct && pct != addr && pct[1]) {
			out->data[pct - addr] = '@';
		}
	}
	if (strchr(buf_cstr(out), '@') == NULL) {
		if (rw->append_at_origin && *origin)
			buf_printf(out, "@%s", origin);
		return;
	}
	const char *domain = strrchr(buf_cstr(out), '@') + 1;
	if (rw->append_dot && *dot && *domain && *domain != '[' &&
	    strchr(domain, '.') == NULL &&
	    str_casecmp(domain, "localhost") != 0)
		buf_printf(out, ".%s", dot);
}

/* Step 2 with one table: followed while it changes the address. */
static int
canonical(const struct rewrite *rw, struct maps *m, const char *param,
	  struct buf *addr, struct buf *why)
{
	struct buf value = BUF_INIT, next = BUF_INIT, err = BUF_INIT;
	enum found_by by;
	int r = REWRITE_OK;

	if (m == NULL)
		return REWRITE_OK;
	for (int depth = 0;; depth++) {
		int f = addr_find(rw, m, buf_cstr(addr), &value, &by, &err);
		if (f < 0) {
			buf_printf(why, "%s map lookup problem for %s: %s",
				   param, buf_cstr(addr), buf_cstr(&err));
			r = REWRITE_ERROR;
			break;
		}
		if (f == 0)
			break;
		int n;
		char **res = result_split(buf_cstr(&value), &n);
		if (n == 0) {
			str_list_free(res);
			break;
		}
		if (n > 1)
			msg_warn("multi-valued %s entry for %s", param,
				 buf_cstr(addr));
		result_addr(rw, buf_cstr(addr), res[0], by,
			    rw->propagate_canonical, &next);
		str_list_free(res);
		if (str_casecmp(buf_cstr(&next), buf_cstr(addr)) == 0)
			break;
		if (depth >= REWRITE_CANONICAL_DEPTH) {
			buf_printf(why, "unreasonable %s map nesting for %s",
				   param, buf_cstr(addr));
			r = REWRITE_DEFER;
			break;
		}
		buf_set(addr, buf_cstr(&next));
	}
	buf_free(&value);
	buf_free(&next);
	buf_free(&err);
	return r;
}

/* Step 3: "user@a.b.example.com" with "example.com" listed becomes
 * "user@example.com"; "!domain" stops at that domain, unchanged. */
static int
masquerade(const struct rewrite *rw, struct buf *addr, struct buf *why)
{
	char *at = strrchr(buf_cstr(addr), '@');
	struct buf err = BUF_INIT;
	int r = REWRITE_OK;

	if (at == NULL || rw->masquerade_domains[0] == NULL)
		return REWRITE_OK;
	char *local = xstrndup(addr->data, (size_t)(at - addr->data));
	char *domain = xstrdup(at + 1);
	int exempt = match_list_string(rw->masquerade_exceptions, local, &err);
	if (exempt < 0) {
		buf_printf(why,
			   "masquerade_exceptions lookup problem for %s: %s",
			   local, buf_cstr(&err));
		r = REWRITE_ERROR;
		goto out;
	}
	if (exempt)
		goto out;
	size_t dlen = strlen(domain);
	for (char **m = rw->masquerade_domains; *m; m++) {
		int neg = (*m)[0] == '!';
		const char *md = *m + neg;
		size_t mlen = strlen(md);
		if (mlen == 0)
			continue;
		if (dlen == mlen && str_casecmp(domain, md) == 0)
			break;
		if (dlen > mlen && domain[dlen - mlen - 1] == '.' &&
		    str_casecmp(domain + dlen - mlen, md) == 0) {
			if (!neg) {
				buf_reset(addr);
				buf_printf(addr, "%s@%s", local, md);
			}
			break;
		}
	}
out:
	xfree(local);
	xfree(domain);
	buf_free(&err);
	return r;
}

int
rewrite_addr(struct rewrite *rw, int klass, const char *addr, struct buf *out,
	     struct buf *why)
{
	int remote = (klass & REWRITE_REMOTE) != 0;
	klass &= ~REWRITE_REMOTE;
	int sender = klass == REWRITE_SENDER || klass == REWRITE_HDR_SENDER;
	int bit = klass == REWRITE_SENDER	? CLASS_ENV_SENDER
		  : klass == REWRITE_RECIPIENT	? CLASS_ENV_RCPT
		  : klass == REWRITE_HDR_SENDER ? CLASS_HDR_SENDER
						: CLASS_HDR_RCPT;
	int r;

	buf_reset(out);
	if (*addr == '\0')
		return REWRITE_OK; /* the null sender */
	standard_form(rw, addr, remote, out);
	if (rw->canonical_classes & bit) {
		r = canonical(
		    rw, sender ? rw->sender_canonical : rw->recipient_canonical,
		    sender ? "sender_canonical_maps"
			   : "recipient_canonical_maps",
		    out, why);
		if (r == REWRITE_OK)
			r = canonical(rw, rw->canonical, "canonical_maps", out,
				      why);
		if (r != REWRITE_OK)
			return r;
	}
	if (rw->masquerade_classes & bit)
		return masquerade(rw, out, why);
	return REWRITE_OK;
}

/* ---------------------------------------------------------------- */
/* Step 4: virtual alias expansion */

struct addr_list {
	char **a;
	size_t n, cap;
};

static void
list_add(struct addr_list *l, const char *s)
{
	if (l->n + 1 >= l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->a = xreallocarray(l->a, l->cap, sizeof(char *));
	}
	l->a[l->n++] = xstrdup(s);
	l->a[l->n] = NULL;
}

static int
list_has(const struct addr_list *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (str_casecmp(l->a[i], s) == 0)
			return 1;
	return 0;
}

static void
list_free(struct addr_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		xfree(l->a[i]);
	xfree(l->a);
	memset(l, 0, sizeof(*l));
}

/* The results of one lookup of out->a[i]: the first replaces it, the
 * others are appended.  An address that is its own result is marked
 * (kept, never looked up again). */
static int
expand_one(struct rewrite *rw, struct addr_list *out, size_t i,
	   const char *value, enum found_by by, struct addr_list *self,
	   const char *orig, struct buf *why)
{
	struct buf res = BUF_INIT;
	char *lhs = xstrdup(out->a[i]);
	int n, r = REWRITE_OK;
	char **words = result_split(value, &n);

	for (int j = 0; j < n; j++) {
		result_addr(rw, lhs, words[j], by, rw->propagate_virtual, &res);
		if (res.len > rw->length_limit) {
			buf_printf(why,
				   "unreasonable virtual_alias_maps result "
				   "length for %s",
				   orig);
			r = REWRITE_DEFER;
			break;
		}
		if (j == 0) {
			xfree(out->a[i]);
			out->a[i] = xstrdup(buf_cstr(&res));
		} else {
			if (out->n >= rw->expansion_limit) {
				buf_printf(why,
					   "unreasonable virtual_alias_maps "
					   "map expansion size for %s",
					   orig);
				r = REWRITE_DEFER;
				break;
			}
			list_add(out, buf_cstr(&res));
		}
		if (str_casecmp(buf_cstr(&res), lhs) == 0 &&
		    !list_has(self, lhs))
			list_add(self, lhs);
	}
	str_list_free(words);
	buf_free(&res);
	xfree(lhs);
	return r;
}

int
rewrite_virtual(struct rewrite *rw, const char *addr, char ***list, size_t *n,
		struct buf *why)
{
	struct addr_list out = {0}, self = {0};
	struct buf value = BUF_INIT, err = BUF_INIT;
	enum found_by by;
	int r = REWRITE_OK;

	*list = NULL;
	*n = 0;
	list_add(&out, addr);
	/* Each address is followed down its first results until one is
	 * not in the table; later results wait for their turn. */
	for (size_t i = 0; rw->virtual && i < out.n && r == REWRITE_OK; i++) {
		for (size_t depth = 0;; depth++) {
			if (list_has(&self, out.a[i]))
				break;
			if (depth >= rw->recursion_limit) {
				buf_printf(why,
					   "unreasonable virtual_alias_maps "
					   "map nesting for %s",
					   addr);
				r = REWRITE_DEFER;
				break;
			}
			int f = addr_find(rw, rw->virtual, out.a[i], &value,
					  &by, &err);
			if (f < 0) {
				buf_printf(why,
					   "virtual_alias_maps map lookup "
					   "problem for %s: %s",
					   out.a[i], buf_cstr(&err));
				r = REWRITE_ERROR;
				break;
			}
			if (f == 0)
				break;
			if ((r = expand_one(rw, &out, i, buf_cstr(&value), by,
					    &self, addr, why)) != REWRITE_OK)
				break;
		}
	}
	buf_free(&value);
	buf_free(&err);
	list_free(&self);
	if (r != REWRITE_OK) {
		list_free(&out);
		return r;
	}
	*list = out.a;
	*n = out.n;
	return REWRITE_OK;
}

/* ---------------------------------------------------------------- */
/* The envelope */

/* A recipient of the new envelope; orig (the address it came from) only
 * tells duplicates apart. */
struct out_rcpt {
	char *address, *orcpt, *orig;
	unsigned notify;
};

struct out_list {
	struct out_rcpt *r;
	size_t n, cap;
};

/* Adds a recipient unless the same one is there: Postfix's duplicate
 * filter, exact bytes of the address, its original and its DSN fields
 * ("a@x" and "A@x" sent by the client both stay). */
static void
out_add(struct out_list *l, const char *address, const char *orcpt,
	const char *orig, unsigned notify)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->r[i].notify == notify &&
		    strcmp(l->r[i].address, address) == 0 &&
		    strcmp(l->r[i].orig, orig) == 0 &&
		    strcmp(l->r[i].orcpt, orcpt) == 0)
			return;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->r = xreallocarray(l->r, l->cap, sizeof(*l->r));
	}
	l->r[l->n].address = xstrdup(address);
	l->r[l->n].orcpt = xstrdup(orcpt);
	l->r[l->n].orig = xstrdup(orig);
	l->r[l->n].notify = notify;
	l->n++;
}

static void
out_free(struct out_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		xfree(l->r[i].address);
		xfree(l->r[i].orcpt);
		xfree(l->r[i].orig);
	}
	xfree(l->r);
}

/* Steps 1-4 for one recipient into out; bcc_key gets the address after
 * step 3 (what recipient_bcc_maps is asked). */
static int
one_rcpt(struct rewrite *rw, const char *addr, const char *orcpt,
	 unsigned notify, struct out_list *out, struct buf *bcc_key,
	 struct buf *why)
{
	struct buf rewritten = BUF_INIT, orig = BUF_INIT;
	char **list = NULL;
	size_t n = 0;
	int r;

	if ((r = rewrite_addr(rw, REWRITE_RECIPIENT, addr, &rewritten, why)) !=
	    REWRITE_OK)
		goto done;
	if (bcc_key)
		buf_set(bcc_key, buf_cstr(&rewritten));
	if ((r = rewrite_virtual(rw, buf_cstr(&rewritten), &list, &n, why)) !=
	    REWRITE_OK)
		goto done;
	if (orcpt && *orcpt) {
		buf_puts(&orig, orcpt);
	} else {
		buf_puts(&orig, "rfc822;");
		xtext_encode(&orig, addr, strlen(addr));
	}
	for (size_t i = 0; i < n; i++) {
		/* An address that did not change keeps "no ORCPT". */
		int same =
		    str_casecmp(list[i], addr) == 0 && !(orcpt && *orcpt);
		out_add(out, list[i], same ? "" : buf_cstr(&orig), addr,
			notify);
	}
done:
	str_list_free(list);
	buf_free(&rewritten);
	buf_free(&orig);
	return r;
}

/* A BCC table lookup (one address); 1 found, 0 not, -1 error. */
static int
bcc_find(struct rewrite *rw, struct maps *m, const char *param, const char *key,
	 struct buf *bcc, struct buf *why)
{
	struct buf value = BUF_INIT, err = BUF_INIT;
	enum found_by by;
	int n, f;

	if (m == NULL || *key == '\0')
		return 0;
	f = addr_find(rw, m, key, &value, &by, &err);
	if (f < 0)
		buf_printf(why, "%s map lookup problem for %s: %s", param, key,
			   buf_cstr(&err));
	if (f > 0) {
		char **w = result_split(buf_cstr(&value), &n);
		if (n > 0)
			result_addr(rw, key, w[0], by, 0, bcc);
		else
			f = 0;
		str_list_free(w);
	}
	buf_free(&value);
	buf_free(&err);
	return f;
}

static void
envelope_replace(struct queue_envelope *env, struct out_list *l)
{
	size_t old = env->nrcpt;
	struct queue_rcpt *keep = env->rcpts;

	env->rcpts = NULL;
	env->nrcpt = 0;
	env->rcpt_cap = 0;
	for (size_t i = 0; i < l->n; i++)
		queue_envelope_add_rcpt(env, l->r[i].address, l->r[i].orcpt,
					l->r[i].notify);
	for (size_t i = 0; i < old; i++) {
		xfree(keep[i].address);
		xfree(keep[i].orcpt);
		xfree(keep[i].dsn);
		xfree(keep[i].text);
	}
	xfree(keep);
}

int
rewrite_envelope(struct rewrite *rw, const char *id, struct queue_envelope *env,
		 int flags, struct buf *reply)
{
	struct out_list out = {0};
	struct buf why = BUF_INIT, s = BUF_INIT, key = BUF_INIT;
	struct buf bcc = BUF_INIT;
	struct addr_list bccs = {0};
	int r, f;

	if (rw == NULL) /* a program's unit tests, without tables */
		return REWRITE_OK;
	/* A new envelope's sender may still be NULL (queue.h: "" after
	 * decoding only). */
	r = rewrite_addr(rw, REWRITE_SENDER, env->sender ? env->sender : "", &s,
			 &why);
	if (r == REWRITE_OK)
		queue_str_set(&env->sender, buf_cstr(&s));
	for (size_t i = 0; r == REWRITE_OK && i < env->nrcpt; i++) {
		const struct queue_rcpt *q = &env->rcpts[i];
		r = one_rcpt(rw, q->address, q->orcpt, q->notify, &out, &key,
			     &why);
		if (r != REWRITE_OK || !(flags & REWRITE_F_BCC))
			continue;
		f = bcc_find(rw, rw->recipient_bcc, "recipient_bcc_maps",
			     buf_cstr(&key), &bcc, &why);
		if (f < 0)
			r = REWRITE_ERROR;
		else if (f > 0 && !list_has(&bccs, buf_cstr(&bcc)))
			list_add(&bccs, buf_cstr(&bcc));
	}
	if (r == REWRITE_OK && (flags & REWRITE_F_BCC)) {
		if (*rw->always_bcc && !list_has(&bccs, rw->always_bcc))
			list_add(&bccs, rw->always_bcc);
		f = bcc_find(rw, rw->sender_bcc, "sender_bcc_maps", env->sender,
			     &bcc, &why);
		if (f < 0)
			r = REWRITE_ERROR;
		else if (f > 0 && !list_has(&bccs, buf_cstr(&bcc)))
			list_add(&bccs, buf_cstr(&bcc));
	}
	/* The BCC recipients are rewritten too, and never notify. */
	for (size_t i = 0; r == REWRITE_OK && i < bccs.n; i++)
		r = one_rcpt(rw, bccs.a[i], NULL, SMTP_NOTIFY_NEVER, &out, NULL,
			     &why);
	if (r == REWRITE_OK) {
		envelope_replace(env, &out);
	} else {
		/* Postfix's cleanup words: the message is not accepted. */
		msg_warn("%s: %s -- message not accepted, try again later", id,
			 buf_cstr(&why));
		buf_set(reply, r == REWRITE_DEFER
				   ? "451 4.6.0 Error: alias expansion error"
				   : "451 4.3.0 Error: temporary lookup "
				     "failure");
	}
	out_free(&out);
	list_free(&bccs);
	buf_free(&why);
	buf_free(&s);
	buf_free(&key);
	buf_free(&bcc);
	return r;
}

/* ---------------------------------------------------------------- */
/* smtpd's questions */

int
rewrite_listed(struct rewrite *rw, int klass, const char *addr, struct buf *err)
{
	struct maps *m[3] = {klass == REWRITE_SENDER ? rw->sender_canonical
						     : rw->recipient_canonical,
			     rw->canonical, rw->virtual};
	struct buf value = BUF_INIT;
	enum found_by by;
	int f = 0;

	for (size_t i = 0; i < 3 && f == 0; i++)
		if (m[i] &&
		    (i == 2 || (rw->canonical_classes &
				(klass == REWRITE_SENDER ? CLASS_ENV_SENDER
							 : CLASS_ENV_RCPT))))
			f = addr_find(rw, m[i], addr, &value, &by, err);
	buf_free(&value);
	return f;
}

int
rewrite_virtual_domain(struct rewrite *rw, const char *domain, struct buf *err)
{
	int r = match_list_domain(rw->virtual_domains, domain, 0, err);

	if (r <= 0)
		return r;
	/* A domain both ours and virtual is ours (Postfix warns). */
	r = match_list_domain(rw->mydestination, domain, 0, err);
	return r < 0 ? -1 : !r;
}

int
rewrite_relay_listed(struct rewrite *rw, const char *addr, struct buf *err)
{
	struct buf value = BUF_INIT;
	enum found_by by;
	int f;

	if (rw->relay_recipients == NULL)
		return 2;
	f = addr_find(rw, rw->relay_recipients, addr, &value, &by, err);
	buf_free(&value);
	return f;
}
