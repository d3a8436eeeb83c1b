/*
 * test_peer_name - unit tests of lib/mail/peer_name.c: the hosts(5)
 * parser and the forward-confirmed name it gives (comments, aliases,
 * IPv6, bad lines), and the loopback rule that keeps loopback clients
 * away from DNS.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "dns.h"
#include "peer_name.h"

static void
test_comments_and_aliases(void **state)
{
	struct hosts_table t = {0};
	const char *text = "# a comment line\n"
			   "\n"
			   "127.0.0.1\tlocalhost  Loop.Example # trailing\n"
			   "127.0.0.1 second.example\n"
			   "192.0.2.7 mail.example.org mail\r\n"
			   "   # indented comment\n"
			   "192.0.2.8";

	(void)state;
	hosts_parse(&t, text);
	assert_int_equal(t.count, 3);
	assert_int_equal(t.bad, 1); /* the address without a name */
	/* The canonical name of the first line with the address. */
	assert_string_equal(hosts_name(&t, "127.0.0.1"), "localhost");
	assert_string_equal(hosts_name(&t, "192.0.2.7"), "mail.example.org");
	assert_string_equal(hosts_name(&t, "::ffff:192.0.2.7"),
			    "mail.example.org");
	/* Aliases are kept, lower-cased; a comment ends the line. */
	assert_int_equal(t.entry[0].count, 2);
	assert_string_equal(t.entry[0].names[1], "loop.example");
	assert_null(hosts_name(&t, "127.0.0.5"));
	assert_null(hosts_name(&t, "192.0.2.8"));
	assert_null(hosts_name(&t, "not an address"));
	hosts_free(&t);
	assert_int_equal(t.count, 0);
}

static void
test_ipv6_and_bad_lines(void **state)
{
	struct hosts_table t = {0};
	const char *text = "::1 localhost ip6-localhost ip6-loopback\n"
			   "fe80::1%eth0 linklocal.example\n"
			   "2001:db8::25 MX.Example.NET\n"
			   "300.1.2.3 broken.example\n"
			   "banana split\n"
			   "2001:db8::26 2001:db8::26\n";

	(void)state;
	hosts_parse(&t, text);
	assert_int_equal(t.count, 3);
	assert_int_equal(t.bad, 3);
	assert_string_equal(hosts_name(&t, "::1"), "localhost");
	assert_string_equal(hosts_name(&t, "2001:db8:0::25"), "mx.example.net");
	assert_null(hosts_name(&t, "fe80::1"));
	/* A numeric name would pass for an address: refused. */
	assert_null(hosts_name(&t, "2001:db8::26"));
	/* An IPv4 line does not name the IPv4-compatible IPv6 address. */
	assert_null(hosts_name(&t, "::127.0.0.1"));
	hosts_free(&t);
}

static void
test_forward_confirmation(void **state)
{
	struct hosts_table t = {0};

	(void)state;
	/* Each name maps back to its own line, whatever the order. */
	hosts_parse(&t, "192.0.2.1 a.example\n192.0.2.2 a.example\n");
	assert_string_equal(hosts_name(&t, "192.0.2.2"), "a.example");
	hosts_free(&t);
	/* Lines appended one at a time (as read from the file). */
	hosts_parse(&t, "192.0.2.1 one.example\n");
	hosts_parse(&t, "192.0.2.1 two.example\n");
	assert_int_equal(t.count, 2);
	assert_string_equal(hosts_name(&t, "192.0.2.1"), "one.example");
	hosts_free(&t);
}

static void
test_loopback(void **state)
{
	char name[64];

	(void)state;
	assert_true(peer_is_loopback("127.0.0.1"));
	assert_true(peer_is_loopback("127.255.0.5"));
	assert_true(peer_is_loopback("::1"));
	assert_true(peer_is_loopback("::ffff:127.0.0.5"));
	assert_false(peer_is_loopback("128.0.0.1"));
	assert_false(peer_is_loopback("::2"));
	assert_false(peer_is_loopback("unknown"));
	/* Without peer_name_init the table is empty: a loopback address is
	 * "unknown" without any DNS query (dns_init was never called). */
	assert_int_equal(peer_name("127.0.0.5", 1, name, sizeof(name), NULL),
			 DNS_NOTFOUND);
	assert_string_equal(name, "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_comments_and_aliases),
	    cmocka_unit_test(test_ipv6_and_bad_lines),
	    cmocka_unit_test(test_forward_confirmation),
	    cmocka_unit_test(test_loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
