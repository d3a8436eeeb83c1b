/*
 * test_own_addr - unit tests of smtp/own_addr.c: the addresses of
 * inet_interfaces and proxy_interfaces that the smtp client takes for
 * itself (numeric forms, "all", "loopback-only", families).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "dns.h"
#include "own_addr.h"
#include "strutil.h"
#include "xalloc.h"

static int
is_own(const char *ip)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ip, &((struct sockaddr_in *)&ss)->sin_addr)) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(2525);
	} else {
		assert_int_equal(
		    inet_pton(AF_INET6, ip,
			      &((struct sockaddr_in6 *)&ss)->sin6_addr),
		    1);
		ss.ss_family = AF_INET6;
	}
	return own_addr_match((struct sockaddr *)&ss);
}

static void
test_numeric_lists(void **state)
{
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(own_addr_init("127.0.5.81, [::1]",
				       "192.0.2.1 2001:db8::1", DNS_INET_ALL,
				       &err),
			 0);
	assert_int_equal(own_addr_count(), 4);
	/* The port does not matter. */
	assert_true(is_own("127.0.5.81"));
	assert_true(is_own("::1"));
	assert_true(is_own("192.0.2.1"));
	assert_true(is_own("2001:db8::1"));
	assert_false(is_own("127.0.5.82"));
	assert_false(is_own("127.0.0.1"));
	buf_free(&err);
}

static void
test_families(void **state)
{
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(own_addr_init("127.0.5.81 ::1", "", DNS_INET4, &err),
			 0);
	assert_int_equal(own_addr_count(), 1);
	assert_false(is_own("::1"));
	buf_free(&err);
}

static void
test_all_and_loopback_only(void **state)
{
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(own_addr_init("loopback-only", "", DNS_INET4, &err),
			 0);
	assert_true(is_own("127.0.0.1"));
	assert_false(is_own("127.0.0.2"));
	/* Every machine has lo: "all" holds 127.0.0.1 and more. */
	assert_int_equal(own_addr_init("all", "", DNS_INET_ALL, &err), 0);
	assert_true(is_own("127.0.0.1"));
	assert_false(is_own("192.0.2.1"));
	buf_free(&err);
}

/* mynetworks_style: the loopback interface every machine has. */
static void
test_mynetworks_styles(void **state)
{
	struct buf err = BUF_INIT;
	char *host, *subnet, *class;

	(void)state;
	host = own_networks("host", &err);
	subnet = own_networks("subnet", &err);
	class = own_networks("class", &err);
	assert_non_null(host);
	assert_non_null(subnet);
	assert_non_null(class);
	assert_true(str_list_match(host, "127.0.0.1/32"));
	assert_false(str_list_match(host, "127.0.0.0/8"));
	assert_true(str_list_match(subnet, "127.0.0.0/8"));
	assert_true(str_list_match(class, "127.0.0.0/8"));
	if (str_list_match(host, "[::1]/128"))
		assert_true(str_list_match(subnet, "[::1]/128"));
	/* Each network once, whatever the number of interfaces. */
	assert_int_equal(
	    strstr(strstr(subnet, "127.0.0.0/8") + 1, "127.0.0.0/8"), NULL);
	assert_null(own_networks("wide", &err));
	assert_string_equal(buf_cstr(&err),
			    "unknown style \"wide\" (host, subnet or class)");
	xfree(host);
	xfree(subnet);
	xfree(class);
	buf_free(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_numeric_lists),
	    cmocka_unit_test(test_families),
	    cmocka_unit_test(test_all_and_loopback_only),
	    cmocka_unit_test(test_mynetworks_styles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
