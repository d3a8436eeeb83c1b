/*
 * test_resolve - recipient routing (qmgr/resolve): mydestination, relayhost,
 * default_transport, and transport table lookups in Postfix's order with
 * a small in-memory table behind the lookup callback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "resolve.h"
#include "strutil.h"

struct table {
	const char *const *pairs; /* key, value, ..., NULL */
	int fail;		  /* every lookup fails */
	char seen[512];		  /* the keys asked, space-separated */
};

static int
table_lookup(const char *key, struct buf *value, struct buf *err, void *ctx)
{
	struct table *t = ctx;

	strncat(t->seen, key, sizeof(t->seen) - strlen(t->seen) - 2);
	strcat(t->seen, " ");
	if (t->fail) {
		buf_set(err, "table unavailable");
		return -1;
	}
	for (const char *const *p = t->pairs; p && *p; p += 2)
		if (strcmp(p[0], key) == 0) {
			buf_set(value, p[1]);
			return 1;
		}
	return 0;
}

/* mydestination, opened by main (lib/match_list). */
static struct match_list *mydest;

struct route {
	int rc;
	char transport[128];
	char nexthop[400];
	char err[200];
};

static struct route
route(const char *addr, const char *relayhost, const char *deftr,
      struct table *t)
{
	struct resolve_conf conf = {
	    .mydestination = mydest,
	    .local_transport = "local",
	    .default_transport = deftr ? deftr : "smtp",
	    .relayhost = relayhost ? relayhost : "",
	    .lookup = t ? table_lookup : NULL,
	    .lookup_ctx = t,
	};
	struct buf tr = BUF_INIT, nh = BUF_INIT, err = BUF_INIT;
	struct route r;

	memset(&r, 0, sizeof(r));
	r.rc = resolve_addr(&conf, addr, &tr, &nh, &err);
	strncpy(r.transport, buf_cstr(&tr), sizeof(r.transport) - 1);
	strncpy(r.nexthop, buf_cstr(&nh), sizeof(r.nexthop) - 1);
	strncpy(r.err, buf_cstr(&err), sizeof(r.err) - 1);
	buf_free(&tr);
	buf_free(&nh);
	buf_free(&err);
	return r;
}

/* Evaluates r once: route() has side effects on the table's record. */
#define assert_route(r, t, n)                                                  \
	do {                                                                   \
		struct route r_ = (r);                                         \
		assert_int_equal(r_.rc, RESOLVE_OK);                           \
		assert_string_equal(r_.transport, (t));                        \
		assert_string_equal(r_.nexthop, (n));                          \
	} while (0)

static void
test_local_domains(void **state)
{
	(void)state;
	assert_route(route("joe@panacea.test", NULL, NULL, NULL), "local", "");
	assert_route(route("joe@PANACEA.Test", NULL, NULL, NULL), "local", "");
	assert_route(route("joe@localhost", "[relay]", NULL, NULL), "local",
		     "");
	/* No domain at all (postmaster): local. */
	assert_route(route("postmaster", NULL, NULL, NULL), "local", "");
	/* A subdomain of a local domain is not local. */
	assert_route(route("joe@sub.panacea.test", NULL, NULL, NULL), "smtp",
		     "sub.panacea.test");
}

static void
test_remote_defaults(void **state)
{
	(void)state;
	assert_route(route("a@Example.ORG", NULL, NULL, NULL), "smtp",
		     "example.org");
	assert_route(route("a@example.org", "[smarthost]:2525", NULL, NULL),
		     "smtp", "[smarthost]:2525");
	/* default_transport's own next hop wins over relayhost. */
	assert_route(route("a@example.org", "[smarthost]", "relay:[gw]", NULL),
		     "relay", "[gw]");
	assert_route(route("a@example.org", NULL, "uucp", NULL), "uucp",
		     "example.org");
	/* The split is at the last '@'. */
	assert_route(route("\"a@b\"@example.net", NULL, NULL, NULL), "smtp",
		     "example.net");
}

static void
test_table_order(void **state)
{
	static const char *const pairs[] = {"vip@example.org",
					    "fast:[vip-mx]",
					    "example.org",
					    "slow:",
					    ".example.org",
					    "sub:[sub-mx]",
					    ".org",
					    ":[org-mx]",
					    NULL};
	struct table t = {.pairs = pairs};
	struct route r;

	(void)state;
	assert_route(route("VIP@Example.org", NULL, NULL, &t), "fast",
		     "[vip-mx]");
	/* The full address is asked first, lower-cased. */
	assert_true(str_has_prefix(t.seen, "vip@example.org "));
	t.seen[0] = '\0';
	/* Transport changed, empty next hop: the recipient domain. */
	assert_route(route("joe@example.org", NULL, NULL, &t), "slow",
		     "example.org");
	assert_string_equal(t.seen, "joe@example.org example.org ");
	t.seen[0] = '\0';
	/* Subdomains match the dotted parent, nearest first. */
	assert_route(route("joe@a.b.example.org", NULL, NULL, &t), "sub",
		     "[sub-mx]");
	assert_string_equal(t.seen, "joe@a.b.example.org a.b.example.org "
				    ".b.example.org .example.org ");
	/* Empty transport: the default one, with the table's next hop. */
	assert_route(route("joe@other.org", NULL, NULL, &t), "smtp",
		     "[org-mx]");
	/* A reason as next hop (the error and retry transports). */
	static const char *const ep[] = {"gone.example",
					 "error:this domain is gone", NULL};
	struct table te = {.pairs = ep};
	assert_route(route("x@gone.example", NULL, NULL, &te), "error",
		     "this domain is gone");
	/* No match at all: the default route, after asking "*". */
	t.seen[0] = '\0';
	r = route("joe@example.net", NULL, NULL, &t);
	assert_route(r, "smtp", "example.net");
	assert_string_equal(t.seen, "joe@example.net example.net .net * ");
}

static void
test_table_wildcard_and_local(void **state)
{
	static const char *const pairs[] = {"*", "smtp:[outbound]",
					    "panacea.test", "maildrop:", NULL};
	struct table t = {.pairs = pairs};

	(void)state;
	assert_route(route("x@anything.example", NULL, NULL, &t), "smtp",
		     "[outbound]");
	/* A local domain can be routed elsewhere too. */
	assert_route(route("joe@panacea.test", NULL, NULL, &t), "maildrop",
		     "panacea.test");
	/* Same transport as the default with an empty next hop keeps the
	 * default next hop (relayhost). */
	static const char *const p2[] = {"example.org", "smtp:", NULL};
	struct table t2 = {.pairs = p2};
	assert_route(route("a@example.org", "[relay]", NULL, &t2), "smtp",
		     "[relay]");
}

static void
test_address_literal_no_parent_walk(void **state)
{
	struct table t = {.pairs = NULL};

	(void)state;
	assert_route(route("a@[192.0.2.1]", NULL, NULL, &t), "smtp",
		     "[192.0.2.1]");
	assert_string_equal(t.seen, "a@[192.0.2.1] [192.0.2.1] * ");
}

static void
test_errors(void **state)
{
	static const char *const bad[] = {
	    "a.example", "bad transport:x", "b.example", "smtp:has\ttab",
	    "c.example", ".dot:x",	    NULL};
	struct table t = {.pairs = bad};
	struct table down = {.fail = 1};
	struct route r;

	(void)state;
	r = route("x@a.example", NULL, NULL, &t);
	assert_int_equal(r.rc, RESOLVE_BAD);
	assert_non_null(strstr(r.err, "malformed transport table entry"));
	assert_int_equal(route("x@b.example", NULL, NULL, &t).rc, RESOLVE_BAD);
	assert_int_equal(route("x@c.example", NULL, NULL, &t).rc, RESOLVE_BAD);
	r = route("x@d.example", NULL, NULL, &down);
	assert_int_equal(r.rc, RESOLVE_ERROR);
	assert_string_equal(r.err, "table unavailable");
	/* A broken default_transport is a configuration error. */
	assert_int_equal(route("x@d.example", NULL, ":x", NULL).rc,
			 RESOLVE_BAD);
	/* An over-long next hop from the table is refused. */
	char longhop[RESOLVE_NEXTHOP_MAX + 10];
	memset(longhop, 'h', sizeof(longhop) - 1);
	longhop[0] = ':';
	longhop[sizeof(longhop) - 1] = '\0';
	const char *const lp[] = {"e.example", longhop, NULL};
	struct table tl = {.pairs = lp};
	assert_int_equal(route("x@e.example", NULL, NULL, &tl).rc, RESOLVE_BAD);
}

/* virtual_mailbox_domains route to virtual_transport, its next hop or
 * the domain, never relayhost; transport_maps still override. */
static void
test_virtual_domains(void **state)
{
	struct match_list *virt;
	struct buf err = BUF_INIT, tr = BUF_INIT, nh = BUF_INIT;
	const char *const pairs[] = {"vip.test", "lmtp:inet:[192.0.2.9]", NULL};
	struct table t = {.pairs = pairs};
	struct resolve_conf conf = {
	    .mydestination = mydest,
	    .local_transport = "local",
	    .default_transport = "smtp",
	    .relayhost = "[smarthost]",
	    .virtual_transport = "lmtp:unix:private/dovecot-lmtp",
	};

	(void)state;
	virt = match_list_open("virtual_mailbox_domains", "virt.test vip.test",
			       &err);
	assert_non_null(virt);
	conf.virtual_mailbox_domains = virt;
	assert_int_equal(resolve_addr(&conf, "a@Virt.Test", &tr, &nh, &err),
			 RESOLVE_OK);
	assert_string_equal(buf_cstr(&tr), "lmtp");
	assert_string_equal(buf_cstr(&nh), "unix:private/dovecot-lmtp");
	conf.virtual_transport = "";
	assert_int_equal(resolve_addr(&conf, "a@virt.test", &tr, &nh, &err),
			 RESOLVE_OK);
	assert_string_equal(buf_cstr(&tr), "virtual");
	assert_string_equal(buf_cstr(&nh), "virt.test");
	/* Local and remote domains are untouched. */
	assert_int_equal(resolve_addr(&conf, "a@panacea.test", &tr, &nh, &err),
			 RESOLVE_OK);
	assert_string_equal(buf_cstr(&tr), "local");
	assert_int_equal(resolve_addr(&conf, "a@other.test", &tr, &nh, &err),
			 RESOLVE_OK);
	assert_string_equal(buf_cstr(&nh), "[smarthost]");
	conf.lookup = table_lookup;
	conf.lookup_ctx = &t;
	assert_int_equal(resolve_addr(&conf, "a@vip.test", &tr, &nh, &err),
			 RESOLVE_OK);
	assert_string_equal(buf_cstr(&tr), "lmtp");
	assert_string_equal(buf_cstr(&nh), "inet:[192.0.2.9]");
	conf.virtual_transport = "bad transport";
	assert_int_equal(resolve_addr(&conf, "a@virt.test", &tr, &nh, &err),
			 RESOLVE_BAD);
	match_list_free(virt);
	buf_free(&err);
	buf_free(&tr);
	buf_free(&nh);
}

static void
test_domain_helpers(void **state)
{
	struct buf d = BUF_INIT;

	(void)state;
	resolve_domain("Joe@Example.ORG", &d);
	assert_string_equal(buf_cstr(&d), "example.org");
	resolve_domain("postmaster", &d);
	assert_string_equal(buf_cstr(&d), "");
	assert_true(resolve_domain_listed(mydest, "LOCALHOST", &d));
	assert_false(resolve_domain_listed(mydest, "", &d));
	assert_false(resolve_domain_listed(NULL, "localhost", &d));
	/* No parent domains: mydestination names each domain. */
	assert_false(resolve_domain_listed(mydest, "sub.localhost", &d));
	buf_free(&d);
}

/* An address left in a virtual alias domain has no mailbox: the error
 * transport with Postfix's text, whatever transport_maps says; a domain
 * also in mydestination stays local. */
static void
test_virtual_alias_domain(void **state)
{
	static const char *const pairs[] = {"virt.test", "smtp:[gw]", NULL};
	struct table t = {.pairs = pairs};
	struct buf err = BUF_INIT;
	struct match_list *virt = match_list_open(
	    "virtual_alias_domains", "virt.test, panacea.test", &err);
	struct resolve_conf conf = {
	    .mydestination = mydest,
	    .virtual_alias_domains = virt,
	    .local_transport = "local",
	    .default_transport = "smtp",
	    .relayhost = "",
	    .lookup = table_lookup,
	    .lookup_ctx = &t,
	};
	struct buf tr = BUF_INIT, nh = BUF_INIT;

	(void)state;
	assert_non_null(virt);
	assert_int_equal(resolve_addr(&conf, "gone@Virt.Test", &tr, &nh, &err),
			 RESOLVE_OK);
	assert_string_equal(buf_cstr(&tr), "error");
	assert_string_equal(buf_cstr(&nh),
			    "5.1.1 User unknown in virtual alias table");
	assert_int_equal(
	    resolve_addr(&conf, "joe@panacea.test", &tr, &nh, &err),
	    RESOLVE_OK);
	assert_string_equal(buf_cstr(&tr), "local");
	assert_int_equal(resolve_addr(&conf, "a@other.test", &tr, &nh, &err),
			 RESOLVE_OK);
	assert_string_equal(buf_cstr(&tr), "smtp");
	match_list_free(virt);
	buf_free(&tr);
	buf_free(&nh);
	buf_free(&err);
}

/* A content filter: every recipient to its route, whatever its own;
 * an empty destination is default_filter_nexthop, else the domain. */
static void
test_filter(void **state)
{
	struct resolve_conf conf = {.mydestination = mydest,
				    .local_transport = "local",
				    .default_transport = "smtp"};
	struct buf tr = BUF_INIT, nh = BUF_INIT, err = BUF_INIT;

	(void)state;
	assert_int_equal(resolve_filter(&conf, "smtp:[127.0.0.1]:10024",
					"joe@panacea.test", &tr, &nh, &err),
			 RESOLVE_OK);
	assert_string_equal(buf_cstr(&tr), "smtp");
	assert_string_equal(buf_cstr(&nh), "[127.0.0.1]:10024");
	assert_int_equal(
	    resolve_filter(&conf, "scan:", "a@Example.ORG", &tr, &nh, &err),
	    RESOLVE_OK);
	assert_string_equal(buf_cstr(&tr), "scan");
	assert_string_equal(buf_cstr(&nh), "example.org");
	conf.default_filter_nexthop = "[filter.host]";
	assert_int_equal(
	    resolve_filter(&conf, "scan:", "a@example.org", &tr, &nh, &err),
	    RESOLVE_OK);
	assert_string_equal(buf_cstr(&nh), "[filter.host]");
	/* No transport, a bad name: refused, never routed. */
	assert_int_equal(
	    resolve_filter(&conf, ":[127.0.0.1]", "a@b", &tr, &nh, &err),
	    RESOLVE_BAD);
	assert_int_equal(
	    resolve_filter(&conf, "bad name:x", "a@b", &tr, &nh, &err),
	    RESOLVE_BAD);
	assert_non_null(strstr(buf_cstr(&err), "malformed content filter"));
	buf_free(&tr);
	buf_free(&nh);
	buf_free(&err);
}

/* relay_transport for relay_domains and their subdomains; the
 * sender-dependent tables by sender address, then @domain, then "<>". */
static struct route
route_from(const char *sender, const char *addr, const char *relay_tr,
	   struct match_list *relay_domains, struct table *relayhosts,
	   struct table *transports)
{
	struct resolve_conf conf = {
	    .mydestination = mydest,
	    .local_transport = "local",
	    .default_transport = "smtp",
	    .relayhost = "[smarthost]",
	    .relay_domains = relay_domains,
	    .relay_transport = relay_tr,
	    .sender_relayhost = relayhosts ? table_lookup : NULL,
	    .sender_relayhost_ctx = relayhosts,
	    .sender_transport = transports ? table_lookup : NULL,
	    .sender_transport_ctx = transports,
	};
	struct buf tr = BUF_INIT, nh = BUF_INIT, err = BUF_INIT;
	struct route r;

	memset(&r, 0, sizeof(r));
	r.rc = resolve_addr_from(&conf, sender, addr, &tr, &nh, &err);
	strncpy(r.transport, buf_cstr(&tr), sizeof(r.transport) - 1);
	strncpy(r.nexthop, buf_cstr(&nh), sizeof(r.nexthop) - 1);
	strncpy(r.err, buf_cstr(&err), sizeof(r.err) - 1);
	buf_free(&tr);
	buf_free(&nh);
	buf_free(&err);
	return r;
}

static void
test_sender_dependent(void **state)
{
	static const char *const hosts[] = {
	    "boss@corp.test", "[boss-relay]", "@corp.test",
	    "[corp-relay]",   "<>",	      "[bounce-relay]",
	    "@dunno.test",    "DUNNO",	      NULL};
	static const char *const trs[] = {"@pipe.test", "pipeok:", "@both.test",
					  "relay:[own]", NULL};
	struct table h = {hosts, 0, ""}, t = {trs, 0, ""};
	struct buf err = BUF_INIT;
	struct match_list *relay =
	    match_list_open("relay_domains", "relay.test", &err);

	(void)state;
	assert_non_null(relay);
	assert_route(
	    route_from("Boss@Corp.test", "a@example.org", "", NULL, &h, NULL),
	    "smtp", "[boss-relay]");
	assert_string_equal(h.seen, "boss@corp.test ");
	h.seen[0] = '\0';
	assert_route(
	    route_from("joe@corp.test", "a@example.org", "", NULL, &h, NULL),
	    "smtp", "[corp-relay]");
	assert_string_equal(h.seen, "joe@corp.test @corp.test ");
	assert_route(route_from("", "a@example.org", "", NULL, &h, NULL),
		     "smtp", "[bounce-relay]");
	assert_route(
	    route_from("x@dunno.test", "a@example.org", "", NULL, &h, NULL),
	    "smtp", "[smarthost]");
	assert_route(
	    route_from("x@other.test", "a@example.org", "", NULL, &h, NULL),
	    "smtp", "[smarthost]");
	/* No sender given: the tables are not asked. */
	assert_route(route("a@example.org", "[smarthost]", NULL, NULL), "smtp",
		     "[smarthost]");
	/* Local mail is not relayed. */
	assert_route(route_from("boss@corp.test", "joe@panacea.test", "", NULL,
				&h, NULL),
		     "local", "");
	/* The transport table by sender, its next hop, else the relay
	 * host by sender. */
	assert_route(
	    route_from("a@pipe.test", "b@example.org", "", NULL, &h, &t),
	    "pipeok", "[smarthost]");
	assert_route(
	    route_from("a@both.test", "b@example.org", "", NULL, &h, &t),
	    "relay", "[own]");
	assert_route(
	    route_from("boss@corp.test", "b@example.org", "", NULL, &h, &t),
	    "smtp", "[boss-relay]");
	/* relay_transport for relay_domains and subdomains only when set;
	 * the sender's relay host applies there, its transport does not. */
	assert_route(route_from("a@pipe.test", "b@sub.relay.test", "relay",
				relay, &h, &t),
		     "relay", "[smarthost]");
	assert_route(
	    route_from("joe@corp.test", "b@relay.test", "relay", relay, &h, &t),
	    "relay", "[corp-relay]");
	assert_route(route_from("joe@corp.test", "b@relay.test",
				"relay:[fixed]", relay, &h, &t),
		     "relay", "[fixed]");
	assert_route(
	    route_from("x@other.test", "b@relay.test", "", relay, &h, &t),
	    "smtp", "[smarthost]");
	/* A failing table defers. */
	h.fail = 1;
	assert_int_equal(
	    route_from("x@other.test", "b@example.org", "", NULL, &h, NULL).rc,
	    RESOLVE_ERROR);
	match_list_free(relay);
	buf_free(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_local_domains),
	    cmocka_unit_test(test_remote_defaults),
	    cmocka_unit_test(test_table_order),
	    cmocka_unit_test(test_table_wildcard_and_local),
	    cmocka_unit_test(test_address_literal_no_parent_walk),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_virtual_domains),
	    cmocka_unit_test(test_domain_helpers),
	    cmocka_unit_test(test_virtual_alias_domain),
	    cmocka_unit_test(test_filter),
	    cmocka_unit_test(test_sender_dependent),
	};
	struct buf err = BUF_INIT;
	int rc;

	mydest =
	    match_list_open("mydestination", "panacea.test, localhost", &err);
	if (mydest == NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	match_list_free(mydest);
	buf_free(&err);
	return rc;
}
