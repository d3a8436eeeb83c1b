/*
 * test_rewrite - unit tests of lib/rewrite.c: the standard form, canonical
 * mapping (recursion, extensions, @domain), masquerading, virtual alias
 * expansion (lookup order, self-reference, loops and the limits), the
 * envelope (duplicates, ORCPT, BCC) and smtpd's questions.  Tables are
 * inline: ones, which need no file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "buf.h"
#include "hdr_rewrite.h"
#include "queue.h"
#include "rewrite.h"
#include "smtp_cmd.h"
#include "strutil.h"

static struct buf out, why;

static struct rewrite_conf
base_conf(void)
{
	struct rewrite_conf c = {
	    .myorigin = "host.example.com",
	    .mydomain = "example.com",
	    .mydestination = "host.example.com, localhost",
	    .recipient_delimiter = "+",
	    .propagate_unmatched_extensions = "canonical, virtual",
	    .swap_bangpath = 1,
	    .allow_percent_hack = 1,
	    .append_at_myorigin = 1,
	    .append_dot_mydomain = 0,
	    .canonical_classes = "envelope_sender, envelope_recipient, "
				 "header_sender, header_recipient",
	    .masquerade_classes = "envelope_sender, header_sender, "
				  "header_recipient",
	    .expansion_limit = 1000,
	    .recursion_limit = 1000,
	    .address_length_limit = 1000,
	};
	return c;
}

static struct rewrite *
open_ok(const struct rewrite_conf *c)
{
	struct buf err = BUF_INIT;
	struct rewrite *rw = rewrite_open(c, &err);

	if (rw == NULL)
		fail_msg("rewrite_open: %s", buf_cstr(&err));
	buf_free(&err);
	return rw;
}

static const char *
addr(struct rewrite *rw, int klass, const char *a)
{
	buf_reset(&why);
	assert_int_equal(rewrite_addr(rw, klass, a, &out, &why), REWRITE_OK);
	return buf_cstr(&out);
}

/* The expansion of a, joined with single spaces. */
static const char *
expand(struct rewrite *rw, const char *a)
{
	char **list;
	size_t n;

	buf_reset(&why);
	assert_int_equal(rewrite_virtual(rw, a, &list, &n, &why), REWRITE_OK);
	buf_reset(&out);
	for (size_t i = 0; i < n; i++)
		buf_printf(&out, "%s%s", i ? " " : "", list[i]);
	str_list_free(list);
	return buf_cstr(&out);
}

static void
test_standard_form(void **state)
{
	struct rewrite_conf c = base_conf();
	struct rewrite *rw = open_ok(&c);

	(void)state;
	assert_string_equal(addr(rw, REWRITE_RECIPIENT, "joe"),
			    "joe@host.example.com");
	assert_string_equal(addr(rw, REWRITE_RECIPIENT, "site!joe"),
			    "joe@site");
	assert_string_equal(addr(rw, REWRITE_RECIPIENT, "joe%remote.test"),
			    "joe@remote.test");
	/* Only without '@'. */
	assert_string_equal(addr(rw, REWRITE_RECIPIENT, "a%b@c.test"),
			    "a%b@c.test");
	assert_string_equal(addr(rw, REWRITE_SENDER, ""), "");
	rewrite_close(rw);

	c.swap_bangpath = 0;
	c.allow_percent_hack = 0;
	c.append_dot_mydomain = 1;
	rw = open_ok(&c);
	assert_string_equal(addr(rw, REWRITE_RECIPIENT, "site!joe"),
			    "site!joe@host.example.com");
	assert_string_equal(addr(rw, REWRITE_RECIPIENT, "joe@mail"),
			    "joe@mail.example.com");
	assert_string_equal(addr(rw, REWRITE_RECIPIENT, "joe@localhost"),
			    "joe@localhost");
	rewrite_close(rw);
}

static void
test_canonical(void **state)
{
	struct rewrite_conf c = base_conf();
	struct rewrite *rw;

	(void)state;
	c.canonical_maps = "inline:{ joe@example.com=Joe.User@example.com, "
			   "root=admin@example.com, @old.test=@new.test, "
			   "a@x.test=b@x.test, b@x.test=c@x.test, "
			   "self@x.test=self@x.test, "
			   "loop1@x.test=loop2@x.test, "
			   "loop2@x.test=loop1@x.test }";
	c.sender_canonical_maps = "inline:{ s@x.test=sender@x.test }";
	c.recipient_canonical_maps = "inline:{ s@x.test=rcpt@x.test }";
	rw = open_ok(&c);
	assert_string_equal(addr(rw, REWRITE_RECIPIENT, "joe@example.com"),
			    "Joe.User@example.com");
	/* An extension found without it comes back. */
	assert_string_equal(addr(rw, REWRITE_RECIPIENT, "joe+x@example.com"),
			    "Joe.User+x@example.com");
	/* "user" keys only for our own domains. */
	assert_string_equal(addr(rw, REWRITE_SENDER, "root"),
			    "admin@example.com");
	assert_string_equal(addr(rw, REWRITE_SENDER, "root@other.test"),
			    "root@other.test");
	assert_string_equal(addr(rw, REWRITE_SENDER, "any+e@old.test"),
			    "any+e@new.test");
	/* Followed while it changes. */
	assert_string_equal(addr(rw, REWRITE_RECIPIENT, "a@x.test"),
			    "c@x.test");
	assert_string_equal(addr(rw, REWRITE_RECIPIENT, "self@x.test"),
			    "self@x.test");
	assert_string_equal(addr(rw, REWRITE_SENDER, "s@x.test"),
			    "sender@x.test");
	assert_string_equal(addr(rw, REWRITE_RECIPIENT, "s@x.test"),
			    "rcpt@x.test");
	/* A loop is not accepted: try again later. */
	assert_int_equal(
	    rewrite_addr(rw, REWRITE_RECIPIENT, "loop1@x.test", &out, &why),
	    REWRITE_DEFER);
	assert_non_null(strstr(buf_cstr(&why), "unreasonable canonical_maps"));
	rewrite_close(rw);

	/* canonical_classes: senders only. */
	c.canonical_classes = "envelope_sender";
	rw = open_ok(&c);
	assert_string_equal(addr(rw, REWRITE_RECIPIENT, "joe@example.com"),
			    "joe@example.com");
	assert_string_equal(addr(rw, REWRITE_SENDER, "joe@example.com"),
			    "Joe.User@example.com");
	rewrite_close(rw);
	c.canonical_classes = "envelope_sender, bogus";
	assert_null(rewrite_open(&c, &why));
	assert_non_null(strstr(buf_cstr(&why), "canonical_classes"));
}

static void
test_masquerade(void **state)
{
	struct rewrite_conf c = base_conf();
	struct rewrite *rw;

	(void)state;
	c.masquerade_domains = "!keep.example.com, foo.example.com example.com";
	c.masquerade_exceptions = "root";
	rw = open_ok(&c);
	assert_string_equal(addr(rw, REWRITE_SENDER, "u@a.b.example.com"),
			    "u@example.com");
	assert_string_equal(addr(rw, REWRITE_SENDER, "u@a.foo.example.com"),
			    "u@foo.example.com");
	assert_string_equal(addr(rw, REWRITE_SENDER, "u@a.keep.example.com"),
			    "u@a.keep.example.com");
	assert_string_equal(addr(rw, REWRITE_SENDER, "u@example.com"),
			    "u@example.com");
	assert_string_equal(addr(rw, REWRITE_SENDER, "u@notexample.com"),
			    "u@notexample.com");
	assert_string_equal(addr(rw, REWRITE_SENDER, "root@a.example.com"),
			    "root@a.example.com");
	/* Recipients are not in the default masquerade_classes. */
	assert_string_equal(addr(rw, REWRITE_RECIPIENT, "u@a.example.com"),
			    "u@a.example.com");
	rewrite_close(rw);
}

static void
test_virtual(void **state)
{
	struct rewrite_conf c = base_conf();
	struct rewrite *rw;

	(void)state;
	c.virtual_alias_domains = "virt.test";
	c.virtual_alias_maps =
	    "inline:{ sales@virt.test=joe@remote.test, "
	    "{ team@virt.test = sales@virt.test, ann@virt.test, "
	    "bob@remote.test }, ann@virt.test=ann@host.example.com, "
	    "{ self@virt.test = self@virt.test other@remote.test }, "
	    "@catch.test=@remote.test, "
	    "info=postmaster@remote.test, "
	    "a@loop.test=b@loop.test, b@loop.test=a@loop.test, "
	    "{ dup@virt.test = x@remote.test, x@remote.test } }";
	rw = open_ok(&c);
	assert_string_equal(expand(rw, "nobody@remote.test"),
			    "nobody@remote.test");
	assert_string_equal(expand(rw, "sales@virt.test"), "joe@remote.test");
	/* Recursive: sales is expanded in turn. */
	assert_string_equal(expand(rw, "team@virt.test"),
			    "joe@remote.test ann@host.example.com "
			    "bob@remote.test");
	/* Extension propagated; @domain keeps the local part. */
	assert_string_equal(expand(rw, "sales+q@virt.test"),
			    "joe+q@remote.test");
	assert_string_equal(expand(rw, "zed+q@catch.test"),
			    "zed+q@remote.test");
	/* "user" keys for our own domains only. */
	assert_string_equal(expand(rw, "info@host.example.com"),
			    "postmaster@remote.test");
	assert_string_equal(expand(rw, "info@remote.test"), "info@remote.test");
	/* An address that is its own result is kept once. */
	assert_string_equal(expand(rw, "self@virt.test"),
			    "self@virt.test other@remote.test");
	assert_string_equal(expand(rw, "dup@virt.test"),
			    "x@remote.test x@remote.test");
	/* A loop reaches the nesting limit: not accepted. */
	char **list;
	size_t n;
	assert_int_equal(rewrite_virtual(rw, "a@loop.test", &list, &n, &why),
			 REWRITE_DEFER);
	assert_null(list);
	assert_non_null(strstr(buf_cstr(&why),
			       "unreasonable virtual_alias_maps map nesting "
			       "for a@loop.test"));
	/* Domains: listed, unless also ours. */
	assert_int_equal(rewrite_virtual_domain(rw, "virt.test", &why), 1);
	assert_int_equal(rewrite_virtual_domain(rw, "VIRT.test", &why), 1);
	assert_int_equal(rewrite_virtual_domain(rw, "remote.test", &why), 0);
	/* smtpd's question: known by the table. */
	assert_int_equal(
	    rewrite_listed(rw, REWRITE_RECIPIENT, "sales@virt.test", &why), 1);
	assert_int_equal(
	    rewrite_listed(rw, REWRITE_RECIPIENT, "sales+z@virt.test", &why),
	    1);
	assert_int_equal(
	    rewrite_listed(rw, REWRITE_RECIPIENT, "nobody@virt.test", &why), 0);
	assert_int_equal(rewrite_relay_listed(rw, "a@relay.test", &why), 2);
	rewrite_close(rw);
}

static void
test_virtual_limits(void **state)
{
	struct rewrite_conf c = base_conf();
	struct rewrite *rw;
	char **list;
	size_t n;

	(void)state;
	c.virtual_alias_maps = "inline:{ { big@v.test = a@r.test, b@r.test, "
			       "c@r.test, d@r.test }, "
			       "d1@v.test=d2@v.test, d2@v.test=d3@v.test, "
			       "d3@v.test=d4@v.test, "
			       "long@v.test=aaaaaaaaaaaaaaaaaaaa@r.test }";
	c.expansion_limit = 4;
	c.recursion_limit = 3;
	c.address_length_limit = 20;
	rw = open_ok(&c);
	assert_string_equal(expand(rw, "big@v.test"),
			    "a@r.test b@r.test c@r.test d@r.test");
	assert_string_equal(expand(rw, "d2@v.test"), "d4@v.test");
	assert_int_equal(rewrite_virtual(rw, "d1@v.test", &list, &n, &why),
			 REWRITE_DEFER);
	assert_int_equal(rewrite_virtual(rw, "long@v.test", &list, &n, &why),
			 REWRITE_DEFER);
	rewrite_close(rw);
	c.expansion_limit = 3;
	rw = open_ok(&c);
	buf_reset(&why);
	assert_int_equal(rewrite_virtual(rw, "big@v.test", &list, &n, &why),
			 REWRITE_DEFER);
	assert_non_null(strstr(buf_cstr(&why),
			       "unreasonable virtual_alias_maps map expansion "
			       "size for big@v.test"));
	rewrite_close(rw);
}

static void
test_envelope(void **state)
{
	struct rewrite_conf c = base_conf();
	struct queue_envelope env;
	struct buf reply = BUF_INIT;
	struct rewrite *rw;

	(void)state;
	c.virtual_alias_maps = "inline:{ { all@v.test = a@r.test, b@r.test }, "
			       "b@v.test=b@r.test, bcc@v.test=arch@r.test }";
	c.sender_canonical_maps = "inline:{ me=me@public.test }";
	c.always_bcc = "bcc@v.test";
	c.recipient_bcc_maps = "inline:{ @r.test=rbcc@r.test }";
	c.sender_bcc_maps = "inline:{ me@public.test=sbcc@r.test }";
	rw = open_ok(&c);
	queue_envelope_init(&env);
	queue_str_set(&env.sender, "me");
	queue_envelope_add_rcpt(&env, "all@v.test", NULL, 0);
	queue_envelope_add_rcpt(&env, "b@v.test", "rfc822;orig@x.test",
				SMTP_NOTIFY_FAILURE);
	queue_envelope_add_rcpt(&env, "plain@r.test", NULL, 0);
	queue_envelope_add_rcpt(&env, "plain@r.test", NULL, 0);
	assert_int_equal(
	    rewrite_envelope(rw, "ID", &env, REWRITE_F_BCC, &reply),
	    REWRITE_OK);
	assert_string_equal(env.sender, "me@public.test");
	assert_int_equal(env.nrcpt, 7);
	assert_string_equal(env.rcpts[0].address, "a@r.test");
	assert_string_equal(env.rcpts[0].orcpt, "rfc822;all@v.test");
	assert_string_equal(env.rcpts[1].address, "b@r.test");
	/* ORCPT given stays; NOTIFY too. */
	assert_string_equal(env.rcpts[2].address, "b@r.test");
	assert_string_equal(env.rcpts[2].orcpt, "rfc822;orig@x.test");
	assert_int_equal(env.rcpts[2].notify, SMTP_NOTIFY_FAILURE);
	/* Unchanged: no ORCPT; the duplicate went. */
	assert_string_equal(env.rcpts[3].address, "plain@r.test");
	assert_string_equal(env.rcpts[3].orcpt, "");
	/* BCC: recipient_bcc_maps once, always_bcc expanded, sender's. */
	assert_string_equal(env.rcpts[4].address, "rbcc@r.test");
	assert_int_equal(env.rcpts[4].notify, SMTP_NOTIFY_NEVER);
	assert_string_equal(env.rcpts[5].address, "arch@r.test");
	assert_string_equal(env.rcpts[6].address, "sbcc@r.test");
	queue_envelope_free(&env);

	/* Without REWRITE_F_BCC (what qmgr composes): no copies. */
	queue_envelope_init(&env);
	queue_str_set(&env.sender, "");
	queue_envelope_add_rcpt(&env, "all@v.test", NULL, 0);
	assert_int_equal(rewrite_envelope(rw, "ID", &env, 0, &reply),
			 REWRITE_OK);
	assert_int_equal(env.nrcpt, 2);
	assert_string_equal(env.sender, "");
	queue_envelope_free(&env);
	rewrite_close(rw);

	/* A loop: not accepted, with the reply to give. */
	c.virtual_alias_maps =
	    "inline:{ a@v.test=b@v.test, b@v.test=a@v.test }";
	rw = open_ok(&c);
	queue_envelope_init(&env);
	queue_envelope_add_rcpt(&env, "a@v.test", NULL, 0);
	assert_int_equal(rewrite_envelope(rw, "ID", &env, 0, &reply),
			 REWRITE_DEFER);
	assert_string_equal(buf_cstr(&reply),
			    "451 4.6.0 Error: alias expansion error");
	queue_envelope_free(&env);
	rewrite_close(rw);
	buf_free(&reply);
}

static void
test_relay_recipients(void **state)
{
	struct rewrite_conf c = base_conf();
	struct rewrite *rw;

	(void)state;
	c.relay_recipient_maps = "inline:{ ok@relay.test=x, @open.test=x }";
	rw = open_ok(&c);
	assert_int_equal(rewrite_relay_listed(rw, "ok@relay.test", &why), 1);
	assert_int_equal(rewrite_relay_listed(rw, "ok+e@relay.test", &why), 1);
	assert_int_equal(rewrite_relay_listed(rw, "no@relay.test", &why), 0);
	assert_int_equal(rewrite_relay_listed(rw, "any@open.test", &why), 1);
	rewrite_close(rw);
}

/* A field value rewritten (class k). */
static const char *
hdr(struct rewrite *rw, int k, const char *value)
{
	static struct buf b;

	hdr_rewrite_value(rw, k, value, strlen(value), &b);
	return buf_cstr(&b);
}

static void
test_header_values(void **state)
{
	struct rewrite_conf c = base_conf();
	struct rewrite *rw;

	(void)state;
	c.canonical_maps = "inline:{ joe@example.com=Joe.User@example.com }";
	c.masquerade_domains = "example.com";
	rw = open_ok(&c);
	assert_string_equal(
	    hdr(rw, REWRITE_HDR_SENDER, " \"Joe\" <joe@example.com>\r\n"),
	    " \"Joe\" <Joe.User@example.com>\r\n");
	assert_string_equal(
	    hdr(rw, REWRITE_HDR_SENDER, " joe@example.com (Joe, \"x\")\r\n"),
	    " Joe.User@example.com (Joe, \"x\")\r\n");
	/* Masquerading: header_sender is in the default classes. */
	assert_string_equal(hdr(rw, REWRITE_HDR_SENDER, " u@a.example.com"),
			    " u@example.com");
	assert_string_equal(
	    hdr(rw, REWRITE_HDR_RECIPIENT,
		" \"Doe, J\" <joe@example.com>,\r\n\tbob, list:;"),
	    " \"Doe, J\" <Joe.User@example.com>,\r\n\tbob@example.com, "
	    "list:;");
	assert_string_equal(hdr(rw, REWRITE_HDR_RECIPIENT,
				" Group: a@a.example.com, x@y.test;, <>"),
			    " Group: a@example.com, x@y.test;, <>");
	assert_string_equal(
	    hdr(rw, REWRITE_HDR_RECIPIENT, " <@r1,@r2:joe@example.com>"),
	    " <@r1,@r2:Joe.User@example.com>");
	/* A phrase without an address, unbalanced quotes: kept. */
	assert_string_equal(hdr(rw, REWRITE_HDR_RECIPIENT, " some people"),
			    " some people");
	assert_string_equal(hdr(rw, REWRITE_HDR_RECIPIENT, " \"open <a@b"),
			    " \"open <a@b");
	assert_string_equal(hdr(rw, REWRITE_HDR_RECIPIENT, " (open <a@b"),
			    " (open <a@b");
	assert_string_equal(hdr(rw, REWRITE_HDR_RECIPIENT, " <a@b"), " <a@b");
	rewrite_close(rw);

	/* Header classes off: only the standard form. */
	c.canonical_classes = "envelope_sender";
	c.masquerade_classes = "";
	rw = open_ok(&c);
	assert_string_equal(hdr(rw, REWRITE_HDR_SENDER, " joe@example.com"),
			    " joe@example.com");
	assert_string_equal(hdr(rw, REWRITE_HDR_SENDER, " joe"),
			    " joe@host.example.com");
	rewrite_close(rw);

	/* A remote client's header: remote_header_rewrite_domain. */
	c.remote_header_rewrite_domain = "remote.example";
	c.append_dot_mydomain = 1;
	rw = open_ok(&c);
	assert_string_equal(
	    hdr(rw, REWRITE_HDR_SENDER | REWRITE_REMOTE, " joe, a@b"),
	    " joe@remote.example, a@b.remote.example");
	assert_string_equal(hdr(rw, REWRITE_HDR_SENDER, " joe, a@b"),
			    " joe@host.example.com, a@b.example.com");
	rewrite_close(rw);
}

/* The filter, fed one byte at a time: the primary header only. */
static void
test_header_filter(void **state)
{
	static const char msg[] = "Received: from x by y; date\r\n"
				  "From: joe@example.com\r\n"
				  "To: a,\r\n b@x.test\r\n"
				  "Subject: joe@example.com\r\n"
				  "\r\n"
				  "To: joe@example.com\r\n";
	static const char want[] = "Received: from x by y; date\r\n"
				   "From: Joe.User@example.com\r\n"
				   "To: a@host.example.com,\r\n b@x.test\r\n"
				   "Subject: joe@example.com\r\n"
				   "\r\n"
				   "To: joe@example.com\r\n";
	struct rewrite_conf c = base_conf();
	struct buf o = BUF_INIT;
	struct rewrite *rw;
	struct hdr_rewrite *hr;

	(void)state;
	c.canonical_maps = "inline:{ joe@example.com=Joe.User@example.com }";
	rw = open_ok(&c);
	hr = hdr_rewrite_begin(rw, "ID", 0);
	for (size_t i = 0; i < sizeof(msg) - 1; i++)
		hdr_rewrite_feed(hr, msg + i, 1, &o);
	hdr_rewrite_finish(hr, &o);
	assert_string_equal(buf_cstr(&o), want);
	/* In one piece, and a header with no end of line. */
	buf_reset(&o);
	hr = hdr_rewrite_begin(rw, "ID", 0);
	hdr_rewrite_feed(hr, msg, sizeof(msg) - 1, &o);
	hdr_rewrite_finish(hr, &o);
	assert_string_equal(buf_cstr(&o), want);
	buf_reset(&o);
	hr = hdr_rewrite_begin(rw, "ID", 0);
	hdr_rewrite_feed(hr, "From: joe@example.com", 21, &o);
	hdr_rewrite_finish(hr, &o);
	assert_string_equal(buf_cstr(&o), "From: Joe.User@example.com");
	assert_null(hdr_rewrite_begin(NULL, "ID", 0));
	hdr_rewrite_finish(NULL, &o);
	buf_free(&o);
	rewrite_close(rw);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_standard_form),
	    cmocka_unit_test(test_canonical),
	    cmocka_unit_test(test_masquerade),
	    cmocka_unit_test(test_virtual),
	    cmocka_unit_test(test_virtual_limits),
	    cmocka_unit_test(test_envelope),
	    cmocka_unit_test(test_relay_recipients),
	    cmocka_unit_test(test_header_values),
	    cmocka_unit_test(test_header_filter),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);

	buf_free(&out);
	buf_free(&why);
	return r;
}
