/*
 * test_addr - lib/addr: RFC 5321 paths, the relay tricks, limits, quoted
 * local parts in canonical form, address literals and SMTPUTF8.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "addr.h"

#define NB ADDR_F_NO_BRACKETS
#define NUL_OK ADDR_F_NULL_OK
#define U8 ADDR_F_UTF8
#define BARE ADDR_F_BARE_LOCAL

struct row {
	const char *in;
	unsigned flags;
	int err;
	const char *addr; /* expected canonical address (when ok) */
	unsigned set;	  /* result flags that must be set */
	unsigned clear;	  /* result flags that must be clear */
};

static const struct row rows[] = {
    /* Plain paths. */
    {"<user@example.org>", 0, ADDR_OK, "user@example.org", 0,
     ADDR_ROUTING | ADDR_QUOTED | ADDR_NULL | ADDR_SOURCE_ROUTE},
    {"<a.b-c+tag@sub.example.org>", 0, ADDR_OK, "a.b-c+tag@sub.example.org", 0,
     ADDR_ROUTING},
    {"<!#$&'*+-/=?^_`{|}~@x.y>", 0, ADDR_OK, "!#$&'*+-/=?^_`{|}~@x.y",
     ADDR_ROUTING, 0},
    {"<u@localhost>", 0, ADDR_OK, "u@localhost", 0, 0},
    {"<u@a-b.c9>", 0, ADDR_OK, "u@a-b.c9", 0, 0},
    {"<u@9a.example>", 0, ADDR_OK, "u@9a.example", 0, 0},

    /* Brackets. */
    {"user@example.org", 0, ADDR_ERR_NO_BRACKETS, NULL, 0, 0},
    {"user@example.org", NB, ADDR_OK, "user@example.org", ADDR_NO_BRACKETS, 0},
    {"<user@example.org", 0, ADDR_ERR_SYNTAX, NULL, 0, 0},
    {"<user@example.org", NB, ADDR_ERR_SYNTAX, NULL, 0, 0},
    {"user@example.org>", NB, ADDR_ERR_BAD_DOMAIN, NULL, 0, 0},
    {"<<user@example.org>>", 0, ADDR_ERR_SYNTAX, NULL, 0, 0},
    {"< user@example.org>", 0, ADDR_ERR_SYNTAX, NULL, 0, 0},
    {"<user@example.org >", 0, ADDR_ERR_BAD_DOMAIN, NULL, 0, 0},
    {"", 0, ADDR_ERR_NO_BRACKETS, NULL, 0, 0},
    {"", NB, ADDR_ERR_SYNTAX, NULL, 0, 0},
    {"<", 0, ADDR_ERR_SYNTAX, NULL, 0, 0},

    /* Null path. */
    {"<>", NUL_OK, ADDR_OK, "", ADDR_NULL, 0},
    {"<>", 0, ADDR_ERR_NULL, NULL, 0, 0},

    /* Postmaster without domain (RFC 5321 4.1.1.3). */
    {"<postmaster>", 0, ADDR_OK, "postmaster", ADDR_POSTMASTER | ADDR_NO_DOMAIN,
     0},
    {"<PostMaster>", 0, ADDR_OK, "PostMaster", ADDR_POSTMASTER, 0},
    {"<\"postmaster\">", 0, ADDR_OK, "postmaster", ADDR_POSTMASTER, 0},
    {"<postmaster@example.org>", 0, ADDR_OK, "postmaster@example.org", 0,
     ADDR_POSTMASTER},
    {"<postmasters>", 0, ADDR_ERR_NO_DOMAIN, NULL, 0, 0},
    {"<user>", 0, ADDR_ERR_NO_DOMAIN, NULL, 0, 0},
    {"<user>", BARE, ADDR_OK, "user", ADDR_NO_DOMAIN, ADDR_POSTMASTER},

    /* Source routes: accepted, ignored, reported. */
    {"<@site:user@remote>", 0, ADDR_OK, "user@remote", ADDR_SOURCE_ROUTE,
     ADDR_ROUTING},
    {"<@a.example,@b.example:user@remote>", 0, ADDR_OK, "user@remote",
     ADDR_SOURCE_ROUTE, 0},
    {"<@:user@remote>", 0, ADDR_ERR_BAD_DOMAIN, NULL, 0, 0},
    {"<@site,user@remote>", 0, ADDR_ERR_SYNTAX, NULL, 0, 0},
    {"<@site>", 0, ADDR_ERR_SYNTAX, NULL, 0, 0},
    {"<@site:>", 0, ADDR_ERR_SYNTAX, NULL, 0, 0},
    {"<@bad_dom:user@remote>", 0, ADDR_ERR_BAD_DOMAIN, NULL, 0, 0},
    {"<@[1.2.3.4]:user@remote>", 0, ADDR_ERR_BAD_DOMAIN, NULL, 0, 0},

    /* The relay tricks: parsed, flagged as routing. */
    {"<user@remote@site>", 0, ADDR_OK, "\"user@remote\"@site", ADDR_ROUTING, 0},
    {"<user%remote@site>", 0, ADDR_OK, "user%remote@site", ADDR_ROUTING, 0},
    {"<remote!user@site>", 0, ADDR_OK, "remote!user@site", ADDR_ROUTING, 0},
    {"<\"user@remote\"@site>", 0, ADDR_OK, "\"user@remote\"@site",
     ADDR_ROUTING | ADDR_QUOTED, 0},
    {"<\"user%remote\"@site>", 0, ADDR_OK, "user%remote@site",
     ADDR_ROUTING | ADDR_QUOTED, 0},
    {"<a@b@c@site>", 0, ADDR_OK, "\"a@b@c\"@site", ADDR_ROUTING, 0},
    {"<a@@site>", 0, ADDR_ERR_SYNTAX, NULL, 0, 0},
    {"<a@.b@site>", 0, ADDR_ERR_SYNTAX, NULL, 0, 0},
    {"<a.@b@site>", 0, ADDR_ERR_SYNTAX, NULL, 0, 0},
    {"<@site:user%remote@site>", 0, ADDR_OK, "user%remote@site",
     ADDR_ROUTING | ADDR_SOURCE_ROUTE, 0},

    /* Dot-atoms. */
    {"<.user@x.y>", 0, ADDR_ERR_SYNTAX, NULL, 0, 0},
    {"<user.@x.y>", 0, ADDR_ERR_SYNTAX, NULL, 0, 0},
    {"<us..er@x.y>", 0, ADDR_ERR_SYNTAX, NULL, 0, 0},
    {"<us er@x.y>", 0, ADDR_ERR_SYNTAX, NULL, 0, 0},
    {"<us(er@x.y>", 0, ADDR_ERR_SYNTAX, NULL, 0, 0},
    {"<us\"er@x.y>", 0, ADDR_ERR_SYNTAX, NULL, 0, 0},
    {"<us,er@x.y>", 0, ADDR_ERR_SYNTAX, NULL, 0, 0},
    {"<us\\er@x.y>", 0, ADDR_ERR_SYNTAX, NULL, 0, 0},
    {"<@x.y>", 0, ADDR_ERR_SYNTAX, NULL, 0, 0},

    /* Quoted local parts, canonical form. */
    {"<\"joe\"@x.y>", 0, ADDR_OK, "joe@x.y", ADDR_QUOTED, 0},
    {"<\"j.o.e\"@x.y>", 0, ADDR_OK, "j.o.e@x.y", ADDR_QUOTED, 0},
    {"<\"john doe\"@x.y>", 0, ADDR_OK, "\"john doe\"@x.y", ADDR_QUOTED,
     ADDR_ROUTING},
    {"<\"a\\\"b\"@x.y>", 0, ADDR_OK, "\"a\\\"b\"@x.y", 0, 0},
    {"<\"a\\\\b\"@x.y>", 0, ADDR_OK, "\"a\\\\b\"@x.y", 0, 0},
    {"<\"\\a\\b\"@x.y>", 0, ADDR_OK, "ab@x.y", 0, 0},
    {"<\"a..b\"@x.y>", 0, ADDR_OK, "\"a..b\"@x.y", 0, 0},
    {"<\"\"@x.y>", 0, ADDR_OK, "\"\"@x.y", ADDR_QUOTED, 0},
    {"<\"abc@x.y>", 0, ADDR_ERR_SYNTAX, NULL, 0, 0},
    {"<\"a\"b@x.y>", 0, ADDR_ERR_SYNTAX, NULL, 0, 0},
    {"<\"a\"@b@x.y>", 0, ADDR_ERR_BAD_DOMAIN, NULL, 0, 0},
    {"<\"a\tb\"@x.y>", 0, ADDR_ERR_SYNTAX, NULL, 0, 0},
    {"<\"a\\\tb\"@x.y>", 0, ADDR_ERR_SYNTAX, NULL, 0, 0},
    {"<\"a\\\"@x.y>", 0, ADDR_ERR_SYNTAX, NULL, 0, 0},

    /* Domains. */
    {"<u@>", 0, ADDR_ERR_BAD_DOMAIN, NULL, 0, 0},
    {"<u@.x>", 0, ADDR_ERR_BAD_DOMAIN, NULL, 0, 0},
    {"<u@x.>", 0, ADDR_ERR_BAD_DOMAIN, NULL, 0, 0},
    {"<u@x..y>", 0, ADDR_ERR_BAD_DOMAIN, NULL, 0, 0},
    {"<u@-x.y>", 0, ADDR_ERR_BAD_DOMAIN, NULL, 0, 0},
    {"<u@x-.y>", 0, ADDR_ERR_BAD_DOMAIN, NULL, 0, 0},
    {"<u@x.y->", 0, ADDR_ERR_BAD_DOMAIN, NULL, 0, 0},
    {"<u@x_y.z>", 0, ADDR_ERR_BAD_DOMAIN, NULL, 0, 0},
    {"<u@x%y.z>", 0, ADDR_ERR_BAD_DOMAIN, NULL, 0, 0},
    {"<u@xn--bcher-kva.example>", 0, ADDR_OK, "u@xn--bcher-kva.example", 0,
     ADDR_8BIT},

    /* Address literals. */
    {"<u@[192.0.2.1]>", 0, ADDR_OK, "u@[192.0.2.1]", ADDR_LITERAL, 0},
    {"<u@[IPv6:2001:db8::1]>", 0, ADDR_OK, "u@[IPv6:2001:db8::1]", ADDR_LITERAL,
     0},
    {"<u@[ipv6:::ffff:192.0.2.1]>", 0, ADDR_OK, "u@[ipv6:::ffff:192.0.2.1]",
     ADDR_LITERAL, 0},
    {"<u@[192.0.2.256]>", 0, ADDR_ERR_BAD_LITERAL, NULL, 0, 0},
    {"<u@[192.0.2]>", 0, ADDR_ERR_BAD_LITERAL, NULL, 0, 0},
    {"<u@[2001:db8::1]>", 0, ADDR_ERR_BAD_LITERAL, NULL, 0, 0},
    {"<u@[IPv6:2001:db8::g]>", 0, ADDR_ERR_BAD_LITERAL, NULL, 0, 0},
    {"<u@[IPv6:]>", 0, ADDR_ERR_BAD_LITERAL, NULL, 0, 0},
    {"<u@[x-tag:foo]>", 0, ADDR_ERR_BAD_LITERAL, NULL, 0, 0},
    {"<u@[]>", 0, ADDR_ERR_BAD_LITERAL, NULL, 0, 0},
    {"<u@[192.0.2.1>", 0, ADDR_ERR_BAD_LITERAL, NULL, 0, 0},
    {"<u@[192.0.2.1]x>", 0, ADDR_ERR_BAD_LITERAL, NULL, 0, 0},

    /* Control characters are never part of an address. */
    {"<u\r\n@x.y>", 0, ADDR_ERR_SYNTAX, NULL, 0, 0},
    {"<u@x.y\r\n>", 0, ADDR_ERR_BAD_DOMAIN, NULL, 0, 0},
    {"<u\x7f@x.y>", 0, ADDR_ERR_SYNTAX, NULL, 0, 0},

    /* SMTPUTF8 (RFC 6531). */
    {"<j\xc3\xb6rg@x.y>", 0, ADDR_ERR_8BIT, NULL, 0, 0},
    {"<j\xc3\xb6rg@x.y>", U8, ADDR_OK, "j\xc3\xb6rg@x.y", ADDR_8BIT, 0},
    {"<u@b\xc3\xbc"
     "cher.example>",
     0, ADDR_ERR_8BIT, NULL, 0, 0},
    {"<u@b\xc3\xbc"
     "cher.example>",
     U8, ADDR_OK,
     "u@b\xc3\xbc"
     "cher.example",
     ADDR_8BIT, 0},
    {"<\"j\xc3\xb6 rg\"@x.y>", U8, ADDR_OK, "\"j\xc3\xb6 rg\"@x.y", ADDR_8BIT,
     0},
    {"<\"j\xc3\xb6rg\"@x.y>", U8, ADDR_OK, "j\xc3\xb6rg@x.y", 0, 0},
    {"<j\xc3@x.y>", U8, ADDR_ERR_BAD_UTF8, NULL, 0, 0},
    {"<j\xc0\xaf@x.y>", U8, ADDR_ERR_BAD_UTF8, NULL, 0, 0},	/* overlong */
    {"<j\xed\xa0\x80@x.y>", U8, ADDR_ERR_BAD_UTF8, NULL, 0, 0}, /* surrogate */
    {"<j\xf4\x90\x80\x80@x.y>", U8, ADDR_ERR_BAD_UTF8, NULL, 0, 0},
    {"<j\xff@x.y>", U8, ADDR_ERR_BAD_UTF8, NULL, 0, 0},
    {"<u@[IPv6:\xc3\xb6]>", U8, ADDR_ERR_BAD_LITERAL, NULL, 0, 0},
};

static void
test_table(void **state)
{
	struct addr a;
	size_t i;
	int err;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		err = addr_parse(rows[i].in, strlen(rows[i].in), rows[i].flags,
				 &a);
		if (err != rows[i].err)
			fail_msg("row %zu \"%s\": err %d, want %d", i,
				 rows[i].in, err, rows[i].err);
		if (err != ADDR_OK) {
			assert_string_equal(a.addr, "");
			assert_int_equal(a.flags, 0);
			continue;
		}
		if (strcmp(a.addr, rows[i].addr) != 0)
			fail_msg("row %zu \"%s\": addr \"%s\", want \"%s\"", i,
				 rows[i].in, a.addr, rows[i].addr);
		if ((a.flags & rows[i].set) != rows[i].set ||
		    (a.flags & rows[i].clear) != 0)
			fail_msg("row %zu \"%s\": flags %#x", i, rows[i].in,
				 a.flags);
	}
}

static void
test_parts(void **state)
{
	struct addr a;

	(void)state;
	assert_int_equal(addr_parse("<\"a\\\"b c\"@Example.ORG>", 22, 0, &a),
			 ADDR_OK);
	assert_string_equal(a.local, "\"a\\\"b c\"");
	assert_string_equal(a.local_unquoted, "a\"b c");
	/* Domains keep their case; comparisons are the caller's. */
	assert_string_equal(a.domain, "Example.ORG");
	assert_true(addr_is_plain(&a));

	assert_int_equal(addr_parse("<@site:user@remote>", 19, 0, &a), 0);
	assert_string_equal(a.local, "user");
	assert_string_equal(a.domain, "remote");
	assert_true(addr_is_plain(&a));

	assert_int_equal(addr_parse("<user@remote@site>", 18, 0, &a), 0);
	assert_string_equal(a.local_unquoted, "user@remote");
	assert_string_equal(a.domain, "site");
	assert_false(addr_is_plain(&a));

	assert_int_equal(addr_parse("<>", 2, ADDR_F_NULL_OK, &a), 0);
	assert_false(addr_is_plain(&a));
	assert_string_equal(a.domain, "");

	/* The length argument is honoured: no NUL needed, none read past. */
	assert_int_equal(addr_parse("<u@x.y>garbage", 7, 0, &a), 0);
	assert_string_equal(a.addr, "u@x.y");
}

/* Builds "<" local "@" domain ">" with the given lengths. */
static size_t
make_path(char *out, size_t local, size_t domain)
{
	size_t n = 0, i;

	out[n++] = '<';
	for (i = 0; i < local; i++)
		out[n++] = 'l';
	out[n++] = '@';
	for (i = 0; i < domain; i++)
		out[n++] = (i % 10 == 9) ? '.' : 'd';
	if (domain && out[n - 1] == '.')
		out[n - 1] = 'd';
	out[n++] = '>';
	out[n] = 0;
	return n;
}

static void
test_limits(void **state)
{
	char path[1024];
	struct addr a;
	size_t n;
	int i;

	(void)state;
	/* Local part: 64 octets ok, 65 not, quoted or not. */
	n = make_path(path, 64, 5);
	assert_int_equal(addr_parse(path, n, 0, &a), ADDR_OK);
	n = make_path(path, 65, 5);
	assert_int_equal(addr_parse(path, n, 0, &a), ADDR_ERR_LOCAL_TOO_LONG);
	snprintf(path, sizeof(path), "<\"%062d\"@x.y>", 0);
	assert_int_equal(addr_parse(path, strlen(path), 0, &a), ADDR_OK);
	snprintf(path, sizeof(path), "<\"%063d\"@x.y>", 0);
	assert_int_equal(addr_parse(path, strlen(path), 0, &a),
			 ADDR_ERR_LOCAL_TOO_LONG);
	/* Quoted local part of 64 octets with escapes everywhere. */
	strcpy(path, "<\"");
	for (i = 0; i < 31; i++)
		strcat(path, "\\\"");
	strcat(path, "\"@x.y>");
	assert_int_equal(addr_parse(path, strlen(path), 0, &a), ADDR_OK);
	assert_int_equal(strlen(a.local_unquoted), 31);
	/* Multi-octet UTF-8 straddling the limit. */
	strcpy(path, "<\"");
	for (i = 0; i < 61; i++)
		strcat(path, "a");
	strcat(path, "\xc3\xa9\"@x.y>");
	assert_int_equal(addr_parse(path, strlen(path), ADDR_F_UTF8, &a),
			 ADDR_ERR_LOCAL_TOO_LONG);
	/* Re-quoting "user@remote@site" forms may grow past 64: allowed. */
	n = make_path(path, 64, 5);
	path[30] = '@';
	assert_int_equal(addr_parse(path, n, 0, &a), ADDR_OK);
	assert_int_equal(strlen(a.local), 66);

	/* Label of 63 ok, 64 not. */
	snprintf(path, sizeof(path), "<u@%063d.x>", 0);
	assert_int_equal(addr_parse(path, strlen(path), 0, &a), ADDR_OK);
	snprintf(path, sizeof(path), "<u@%064d.x>", 0);
	assert_int_equal(addr_parse(path, strlen(path), 0, &a),
			 ADDR_ERR_DOMAIN_TOO_LONG);

	/* The whole path, brackets included, is at most 256 octets. */
	n = make_path(path, 1, 252);
	assert_int_equal(n, 256);
	assert_int_equal(addr_parse(path, n, 0, &a), ADDR_OK);
	n = make_path(path, 1, 253);
	assert_int_equal(addr_parse(path, n, 0, &a), ADDR_ERR_PATH_TOO_LONG);
	/* Without brackets, the brackets are counted anyway. */
	n = make_path(path, 1, 254);
	assert_int_equal(addr_parse(path + 1, n - 2, ADDR_F_NO_BRACKETS, &a),
			 ADDR_ERR_PATH_TOO_LONG);
	n = make_path(path, 1, 252);
	assert_int_equal(addr_parse(path + 1, n - 2, ADDR_F_NO_BRACKETS, &a),
			 ADDR_OK);

	/* A very long input is refused without reading it all. */
	memset(path, 'a', sizeof(path));
	path[0] = '<';
	assert_int_equal(addr_parse(path, sizeof(path), 0, &a),
			 ADDR_ERR_PATH_TOO_LONG);
}

static void
test_strerror(void **state)
{
	int e;

	(void)state;
	for (e = ADDR_OK; e <= ADDR_ERR_NO_DOMAIN; e++)
		assert_non_null(addr_strerror(e));
	assert_string_equal(addr_strerror(ADDR_ERR_8BIT),
			    "non-ASCII address without SMTPUTF8");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_parts),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
