/*
 * test_nexthop - smtp/nexthop: every next-hop form, ports and service
 * names, numeric addresses between brackets, the canonical form, and
 * what is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>
#include <sys/socket.h>

#include "nexthop.h"

static void
test_forms(void **state)
{
	static const struct {
		const char *in;
		const char *host;
		unsigned port;
		int mx, numeric, family;
		const char *canon;
	} t[] = {
	    {"Example.ORG", "example.org", 25, 1, 0, 0, "example.org"},
	    {"example.org.", "example.org", 25, 1, 0, 0, "example.org"},
	    {"example.org:2525", "example.org", 2525, 1, 0, 0,
	     "example.org:2525"},
	    {"[relay.example]", "relay.example", 25, 0, 0, 0,
	     "[relay.example]"},
	    {"[Relay.Example]:587", "relay.example", 587, 0, 0, 0,
	     "[relay.example]:587"},
	    {"[relay.example]:submission", "relay.example", 587, 0, 0, 0,
	     "[relay.example]:587"},
	    {"[192.0.2.1]", "192.0.2.1", 25, 0, 1, AF_INET, "[192.0.2.1]"},
	    {"[192.0.2.1]:65535", "192.0.2.1", 65535, 0, 1, AF_INET,
	     "[192.0.2.1]:65535"},
	    {"[2001:DB8::1]:25", "2001:db8::1", 25, 0, 1, AF_INET6,
	     "[2001:db8::1]:25"},
	    {"[IPv6:2001:db8::1]", "2001:db8::1", 25, 0, 1, AF_INET6,
	     "[2001:db8::1]"},
	    {"mx_1.example:smtp", "mx_1.example", 25, 1, 0, 0,
	     "mx_1.example:25"},
	    {"localhost", "localhost", 25, 1, 0, 0, "localhost"},
	};
	struct nexthop nh;
	struct buf err = BUF_INIT, canon = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		buf_reset(&err);
		buf_reset(&canon);
		assert_int_equal(nexthop_parse(t[i].in, 25, &nh, &err), 0);
		assert_string_equal(nh.host, t[i].host);
		assert_int_equal(nh.port, t[i].port);
		assert_int_equal(nh.mx, t[i].mx);
		assert_int_equal(nh.numeric, t[i].numeric);
		assert_int_equal(nh.family, t[i].family);
		nexthop_format(&nh, &canon);
		assert_string_equal(buf_cstr(&canon), t[i].canon);
	}
	buf_free(&err);
	buf_free(&canon);
}

static void
test_default_port(void **state)
{
	struct nexthop nh;

	(void)state;
	assert_int_equal(nexthop_parse("example.org", 2525, &nh, NULL), 0);
	assert_int_equal(nh.port, 2525);
	assert_int_equal(nh.port_given, 0);
	assert_int_equal(nexthop_parse("[h.example]:25", 2525, &nh, NULL), 0);
	assert_int_equal(nh.port, 25);
	assert_int_equal(nh.port_given, 1);
}

static void
test_refused(void **state)
{
	static const char *const bad[] = {
	    "",
	    "[",
	    "[]",
	    "[host",
	    "[host]x",
	    "[host]:",
	    "[host]:0",
	    "[host]:65536",
	    "[host]:123456",
	    "[host]:-1",
	    "[host]:nosuchservice",
	    "host:",
	    "host:25x",
	    "-host.example",
	    "host-.example",
	    "ho st.example",
	    "host..example",
	    ".example",
	    "192.0.2.1", /* an address needs brackets */
	    "[192.0.2.256]",
	    "[IPv6:192.0.2.1]",
	    "[IPv6:zz::1]",
	    "host\n.example",
	    "h\xc3\xa9.example",
	    "exa/mple.org",
	    "a.b:25:25",
	};
	struct nexthop nh;
	struct buf err = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&err);
		assert_int_equal(nexthop_parse(bad[i], 25, &nh, &err), -1);
		assert_true(strncmp(buf_cstr(&err), "bad next hop", 12) == 0);
	}
	assert_int_equal(nexthop_parse(NULL, 25, &nh, NULL), -1);
	buf_free(&err);
}

static void
test_bounds(void **state)
{
	char name[NEXTHOP_MAX + 10];
	char label[70];
	struct nexthop nh;
	size_t n = 0;

	(void)state;
	/* A label of 64 bytes is too long; 63 is fine. */
	memset(label, 'a', 64);
	memcpy(label + 64, ".org", 5);
	assert_int_equal(nexthop_parse(label, 25, &nh, NULL), -1);
	assert_int_equal(nexthop_parse(label + 1, 25, &nh, NULL), 0);
	/* 253 bytes of name pass, 255 do not, input over NEXTHOP_MAX does
	 * not either. */
	while (n < 250) {
		memcpy(name + n, "abcd.", 5);
		n += 5;
	}
	memcpy(name + n, "orgxx", 6);
	assert_int_equal(strlen(name), 255);
	assert_int_equal(nexthop_parse(name, 25, &nh, NULL), -1);
	name[253] = '\0';
	assert_int_equal(nexthop_parse(name, 25, &nh, NULL), 0);
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(nexthop_parse(name, 25, &nh, NULL), -1);
}

/* The LMTP forms: sockets, inet: with and without brackets, never MX. */
static void
test_lmtp(void **state)
{
	static const struct {
		const char *in;
		const char *host, *path;
		unsigned port;
		const char *canon;
	} t[] = {
	    {"unix:private/dovecot-lmtp", "", "private/dovecot-lmtp", 0,
	     "unix:private/dovecot-lmtp"},
	    {"UNIX:/run/dovecot/lmtp", "", "/run/dovecot/lmtp", 0,
	     "unix:/run/dovecot/lmtp"},
	    {"inet:127.0.0.1", "127.0.0.1", NULL, 24, "[127.0.0.1]"},
	    {"inet:127.0.0.1:2424", "127.0.0.1", NULL, 2424,
	     "[127.0.0.1]:2424"},
	    {"inet:[::1]:lmtp", "::1", NULL, 24, "[::1]:24"},
	    {"inet:Mail.Example", "mail.example", NULL, 24, "[mail.example]"},
	    {"mail.example:24", "mail.example", NULL, 24, "[mail.example]:24"},
	};
	static const char *bad[] = {
	    "unix:",	 "inet:",     "inet:host:", "inet:host:99999",
	    "unix:a\nb", "inet:[::1", "",
	};
	struct nexthop nh;
	struct buf err = BUF_INIT, canon = BUF_INIT;
	char path[NEXTHOP_PATH_MAX + 8];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		buf_reset(&canon);
		buf_reset(&err);
		if (nexthop_parse_lmtp(t[i].in, 24, &nh, &err) != 0)
			fail_msg("%s: %s", t[i].in, buf_cstr(&err));
		assert_false(nh.mx);
		if (t[i].path != NULL) {
			assert_string_equal(nh.path, t[i].path);
		} else {
			assert_string_equal(nh.path, "");
			assert_string_equal(nh.host, t[i].host);
			assert_int_equal(nh.port, t[i].port);
		}
		nexthop_format(&nh, &canon);
		assert_string_equal(buf_cstr(&canon), t[i].canon);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(nexthop_parse_lmtp(bad[i], 24, &nh, NULL), -1);
	/* A path fits sun_path with its NUL, or is refused. */
	memcpy(path, "unix:", 5);
	memset(path + 5, 'p', NEXTHOP_PATH_MAX + 1);
	path[5 + NEXTHOP_PATH_MAX + 1] = '\0';
	assert_int_equal(nexthop_parse_lmtp(path, 24, &nh, NULL), -1);
	path[5 + NEXTHOP_PATH_MAX] = '\0';
	assert_int_equal(nexthop_parse_lmtp(path, 24, &nh, NULL), 0);
	buf_free(&err);
	buf_free(&canon);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_forms),   cmocka_unit_test(test_default_port),
	    cmocka_unit_test(test_refused), cmocka_unit_test(test_bounds),
	    cmocka_unit_test(test_lmtp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
