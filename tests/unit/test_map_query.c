/*
 * test_map_query - what the directory tables share: their configuration
 * files (lib/map_cf: comments, continuation lines, unknown names, bad
 * lines and numbers, the main.cf form refused) and their query and
 * result templates (lib/map_query: %s %u %d %1-%9 %S %U %D %%, the keys
 * that are not asked, the domain list, result_format, expansion_limit,
 * LDAP filter and DN escaping).  Hostile keys: quotes, '%', backslashes,
 * filter metacharacters, keys at the length limit.  The types' open
 * errors go through maps_open (pgsql:, mysql:, ldap:); their lookups against
 * real servers are tests/integration/test_directory.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "map_cf.h"
#include "map_query.h"
#include "maps.h"
#include "unit_helpers.h"

static char dir[UNIT_DIR_MAX];

static int
setup(void **state)
{
	(void)state;
	return unit_tmpdir(dir, "test_map_query");
}

static int
teardown(void **state)
{
	(void)state;
	return unit_rmtree(dir);
}

static const char *const known[] = {
    "hosts", "query", "result_format", "domain", "expansion_limit", NULL};

static struct map_cf *
cf_ok(const char *name, const char *text)
{
	struct buf err = BUF_INIT;
	struct map_cf *cf = map_cf_read(
	    "pgsql", unit_write_file(dir, name, text), known, NULL, &err);

	if (cf == NULL)
		fail_msg("%s", buf_cstr(&err));
	buf_free(&err);
	return cf;
}

static void
test_cf_file(void **state)
{
	struct map_cf *cf;
	long n;
	struct buf err = BUF_INIT;

	(void)state;
	cf = cf_ok("a.cf", "# comment\n"
			   "hosts = db1.example  db2.example:5433\n"
			   "   # indented comment\n"
			   "query = SELECT goto FROM aliases\n"
			   "    WHERE address = '%s'\n"
			   "\n"
			   "oddity = ignored with a warning\n"
			   "expansion_limit=3\n"
			   "hosts = last wins\n"
			   "result_format =\n");
	assert_string_equal(map_cf_str(cf, "hosts", NULL), "last wins");
	/* The continuation joins as main.cf's does: no newline. */
	assert_non_null(strstr(map_cf_str(cf, "query", ""), "aliases"));
	assert_null(strchr(map_cf_str(cf, "query", ""), '\n'));
	assert_string_equal(map_cf_str(cf, "result_format", "x"), "");
	assert_string_equal(map_cf_str(cf, "domain", "dflt"), "dflt");
	assert_string_equal(map_cf_str(cf, "oddity", ""),
			    "ignored with a warning");
	assert_int_equal(map_cf_int(cf, "expansion_limit", 0, 0, 10, &n, &err),
			 0);
	assert_int_equal(n, 3);
	assert_int_equal(map_cf_int(cf, "absent", 7, 0, 10, &n, &err), 0);
	assert_int_equal(n, 7);
	assert_int_equal(map_cf_int(cf, "expansion_limit", 0, 4, 10, &n, &err),
			 -1);
	assert_non_null(strstr(buf_cstr(&err), "expansion_limit"));
	map_cf_free(cf);

	cf = cf_ok("b.cf", "expansion_limit = 3x\n");
	assert_int_equal(map_cf_int(cf, "expansion_limit", 0, 0, 10, &n, &err),
			 -1);
	map_cf_free(cf);
	buf_free(&err);
}

static void
test_cf_errors(void **state)
{
	struct buf err = BUF_INIT;

	(void)state;
	/* A line without '=' names its file and line. */
	assert_null(map_cf_read(
	    "pgsql", unit_write_file(dir, "c.cf", "hosts = a\nquery\n"), known,
	    NULL, &err));
	assert_non_null(strstr(buf_cstr(&err), "c.cf:2:"));
	assert_null(map_cf_read("pgsql",
				unit_write_file(dir, "d.cf", "two words = x\n"),
				known, NULL, &err));
	assert_non_null(strstr(buf_cstr(&err), "d.cf:1:"));
	/* Postfix's main.cf form (passwords in main.cf) is refused. */
	assert_null(map_cf_read("pgsql", "mysource", known, NULL, &err));
	assert_non_null(strstr(buf_cstr(&err), "absolute path"));
	assert_null(
	    map_cf_read("pgsql", "/nonexistent/x.cf", known, NULL, &err));
	assert_non_null(strstr(buf_cstr(&err), "/nonexistent/x.cf"));
	buf_free(&err);
}

/* A stand-in for a server's quoting: SQL's doubled quote, and a mark
 * that shows which text went through it. */
static void
quote_sql(struct buf *out, const char *s, size_t len, void *ctx)
{
	(void)ctx;
	buf_putc(out, '<');
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\'')
			buf_putc(out, '\'');
		buf_putc(out, s[i]);
	}
	buf_putc(out, '>');
}

static void
expect_expand(const char *tmpl, const char *key, int r, const char *out)
{
	struct buf b = BUF_INIT, err = BUF_INIT;

	assert_int_equal(map_query_check(tmpl, 0, &err), 0);
	assert_int_equal(map_query_expand(tmpl, key, quote_sql, NULL, &b, &err),
			 r);
	if (r > 0)
		assert_string_equal(buf_cstr(&b), out);
	buf_free(&b);
	buf_free(&err);
}

static void
test_expand(void **state)
{
	(void)state;
	expect_expand("k='%s'", "joe@example.com", 1, "k='<joe@example.com>'");
	expect_expand("%u|%d|%1|%2|%3|%%|%S|%U|%D", "joe@mail.example.com", 1,
		      "<joe>|<mail.example.com>|<com>|<example>|<mail>|%|"
		      "<joe@mail.example.com>|<joe>|<mail.example.com>");
	/* %u of an unqualified key is the key; %d and %1 suppress it. */
	expect_expand("%u", "postmaster", 1, "<postmaster>");
	expect_expand("%d", "postmaster", 0, NULL);
	expect_expand("%1", "postmaster", 0, NULL);
	/* Not enough labels; an empty local part or domain. */
	expect_expand("%3", "joe@example.com", 0, NULL);
	expect_expand("%u", "@example.com", 0, NULL);
	expect_expand("%d", "joe@", 0, NULL);
	/* The last '@' splits, as Postfix's. */
	expect_expand("%u/%d", "a@b@c.example", 1, "<a@b>/<c.example>");
	/* Hostile keys: quoting applies to every part; a '%' in the key is
	 * data, not a template. */
	expect_expand("'%s'", "x' OR '1'='1", 1, "'<x'' OR ''1''=''1>'");
	expect_expand("'%u'", "o'brien%s@example.com", 1, "'<o''brien%s>'");
	expect_expand("no expansion", "key", 1, "no expansion");
}

static void
test_check(void **state)
{
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(map_query_check("%x", 0, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "%x"));
	assert_int_equal(map_query_check("trailing %", 0, &err), -1);
	assert_int_equal(map_query_check("100%% %s %9 %D", 0, &err), 0);
	assert_int_equal(map_query_check("%0", 1, &err), -1);
	buf_free(&err);
}

static void
test_long_keys(void **state)
{
	struct buf key = BUF_INIT, tmpl = BUF_INIT, out = BUF_INIT,
		   err = BUF_INIT;

	(void)state;
	/* A key at MAPS_KEY_MAX of quotes doubles; fine. */
	for (int i = 0; i < MAPS_KEY_MAX; i++)
		buf_putc(&key, '\'');
	assert_int_equal(map_query_expand("'%s'", buf_cstr(&key), quote_sql,
					  NULL, &out, &err),
			 1);
	assert_int_equal(out.len, 2 * MAPS_KEY_MAX + 4);
	/* A template that repeats it past MAP_QUERY_MAX is an error, not a
	 * huge query. */
	for (int i = 0; i < 200; i++)
		buf_puts(&tmpl, "%s");
	assert_int_equal(map_query_expand(buf_cstr(&tmpl), buf_cstr(&key),
					  quote_sql, NULL, &out, &err),
			 -1);
	assert_non_null(strstr(buf_cstr(&err), "too long"));
	buf_free(&key);
	buf_free(&tmpl);
	buf_free(&out);
	buf_free(&err);
}

static void
test_ldap_quoting(void **state)
{
	struct buf b = BUF_INIT, err = BUF_INIT;

	(void)state;
	assert_int_equal(map_query_expand("(mail=%s)", "*)(uid=*))(|(mail=*",
					  map_quote_ldap_filter, NULL, &b,
					  &err),
			 1);
	assert_string_equal(buf_cstr(&b),
			    "(mail=\\2a\\29\\28uid=\\2a\\29\\29\\28|\\28mail="
			    "\\2a)");
	assert_int_equal(map_query_expand("(mail=%s)",
					  "a\\b\x01"
					  "c",
					  map_quote_ldap_filter, NULL, &b,
					  &err),
			 1);
	assert_string_equal(buf_cstr(&b), "(mail=a\\5cb\\01c)");
	assert_int_equal(map_query_expand("uid=%u,ou=x", " a,b+c=\"#; ",
					  map_quote_ldap_dn, NULL, &b, &err),
			 1);
	assert_string_equal(buf_cstr(&b),
			    "uid=\\ a\\,b\\+c\\=\\\"\\#\\;\\ ,ou=x");
	buf_free(&b);
	buf_free(&err);
}

static struct map_query
query_ok(const char *name, const char *text)
{
	struct map_cf *cf = cf_ok(name, text);
	struct map_query q;
	struct buf err = BUF_INIT;

	if (map_query_init(&q, cf, name, "query", NULL, &err) < 0)
		fail_msg("%s", buf_cstr(&err));
	map_cf_free(cf);
	buf_free(&err);
	return q;
}

static void
test_result_format_and_limit(void **state)
{
	struct map_query q;
	struct buf out = BUF_INIT, err = BUF_INIT;
	long n = 0;

	(void)state;
	q = query_ok("r.cf", "query = x\n"
			     "result_format = %u at %d for %U/%1 (%s) 100%%\n"
			     "expansion_limit = 2\n");
	assert_int_equal(
	    map_query_add(&q, "k@a.example", "v@b.example", &out, &n, &err), 0);
	assert_string_equal(buf_cstr(&out),
			    "v at b.example for k/example (v@b.example) 100%");
	/* A value without a domain is skipped for %d, not counted. */
	assert_int_equal(
	    map_query_add(&q, "k@a.example", "plain", &out, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(
	    map_query_add(&q, "k@a.example", "w@c", &out, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_non_null(strchr(buf_cstr(&out), ','));
	/* The third value passes expansion_limit: an error. */
	assert_int_equal(
	    map_query_add(&q, "k@a.example", "x@d", &out, &n, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "expansion_limit"));
	/* result_format needs %1 of the key: an unqualified key is not
	 * asked. */
	assert_int_equal(map_query_wanted(&q, "k@a.example", &err), 1);
	assert_int_equal(map_query_wanted(&q, "postmaster", &err), 0);
	map_query_free(&q);

	/* Empty values are skipped with the default format. */
	q = query_ok("r2.cf", "query = x\n");
	buf_reset(&out);
	n = 0;
	assert_int_equal(map_query_add(&q, "k", "", &out, &n, &err), 0);
	assert_int_equal(out.len, 0);
	map_query_free(&q);
	buf_free(&out);
	buf_free(&err);
}

static void
test_domain(void **state)
{
	struct map_query q;
	struct buf err = BUF_INIT;

	(void)state;
	q = query_ok("dom.cf", "query = SELECT '%s'\n"
			       "domain = example.com, example.net\n");
	assert_int_equal(map_query_wanted(&q, "joe@example.com", &err), 1);
	assert_int_equal(map_query_wanted(&q, "joe@example.net", &err), 1);
	assert_int_equal(map_query_wanted(&q, "joe@sub.example.com", &err), 0);
	assert_int_equal(map_query_wanted(&q, "joe@example.org", &err), 0);
	assert_int_equal(map_query_wanted(&q, "joe", &err), 0);
	assert_int_equal(map_query_wanted(&q, "@example.com", &err), 0);
	assert_int_equal(map_query_wanted(&q, "example.com", &err), 0);
	map_query_free(&q);
	/* Without a domain list, what the query needs decides. */
	q = query_ok("dom2.cf", "query = SELECT '%d'\n");
	assert_int_equal(map_query_wanted(&q, "joe@example.com", &err), 1);
	assert_int_equal(map_query_wanted(&q, "joe", &err), 0);
	map_query_free(&q);
	buf_free(&err);
}

/* The types' configuration errors, through maps_open: the table's file
 * and the setting are named; nothing connects at open. */
static void
test_types_open(void **state)
{
	struct buf err = BUF_INIT, spec = BUF_INIT;
	struct maps *m;

	(void)state;
	buf_printf(&spec, "pgsql:%s",
		   unit_write_file(dir, "noq.cf", "hosts = 127.0.0.1:1\n"));
	assert_null(maps_open(buf_cstr(&spec), &err));
	assert_non_null(strstr(buf_cstr(&err), "query is not set"));
	buf_reset(&spec);
	buf_printf(&spec, "pgsql:%s",
		   unit_write_file(dir, "badq.cf", "query = SELECT %q\n"));
	assert_null(maps_open(buf_cstr(&spec), &err));
	assert_non_null(strstr(buf_cstr(&err), "badq.cf: query:"));
	assert_null(maps_open("pgsql:relative.cf", &err));
	buf_reset(&spec);
	buf_printf(&spec, "ldap:%s",
		   unit_write_file(dir, "nobase.cf", "server_host = x\n"));
	assert_null(maps_open(buf_cstr(&spec), &err));
	assert_non_null(strstr(buf_cstr(&err), "search_base"));
	buf_reset(&spec);
	buf_printf(&spec, "ldap:%s",
		   unit_write_file(dir, "special.cf",
				   "search_base = dc=x\n"
				   "special_result_attribute = member\n"));
	assert_null(maps_open(buf_cstr(&spec), &err));
	assert_non_null(strstr(buf_cstr(&err), "special_result_attribute"));
	buf_reset(&spec);
	buf_printf(&spec, "ldap:%s",
		   unit_write_file(dir, "scope.cf",
				   "search_base = dc=x\n"
				   "scope = everywhere\n"));
	assert_null(maps_open(buf_cstr(&spec), &err));
	assert_non_null(strstr(buf_cstr(&err), "scope"));
	buf_reset(&spec);
	buf_printf(&spec, "mysql:%s",
		   unit_write_file(dir, "tls.cf",
				   "query = SELECT 1\n"
				   "tls_CAfile = /ca.pem\n"));
	assert_null(maps_open(buf_cstr(&spec), &err));
	assert_non_null(strstr(buf_cstr(&err), "tls_CAfile"));
	buf_reset(&spec);
	buf_printf(&spec, "mysql:%s",
		   unit_write_file(dir, "rrs.cf",
				   "query = SELECT 1\n"
				   "require_result_set = maybe\n"));
	assert_null(maps_open(buf_cstr(&spec), &err));
	assert_non_null(strstr(buf_cstr(&err), "require_result_set"));
	/* A good file opens without a server: the connection is made at
	 * the first lookup, and a key the query cannot use is not found
	 * without one. */
	buf_reset(&spec);
	buf_printf(&spec, "pgsql:%s",
		   unit_write_file(dir, "ok.cf",
				   "hosts = 127.0.0.1:1\n"
				   "query = SELECT '%d'\n"));
	m = maps_open(buf_cstr(&spec), &err);
	assert_non_null(m);
	{
		struct buf v = BUF_INIT;

		assert_int_equal(maps_lookup(m, "nodomain", &v, &err), 0);
		assert_int_equal(maps_lookup(m, "a@b.example", &v, &err), -1);
		assert_non_null(strstr(buf_cstr(&err), "cannot connect"));
		buf_free(&v);
	}
	maps_close(m);
	buf_free(&spec);
	buf_free(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cf_file),
	    cmocka_unit_test(test_cf_errors),
	    cmocka_unit_test(test_expand),
	    cmocka_unit_test(test_check),
	    cmocka_unit_test(test_long_keys),
	    cmocka_unit_test(test_ldap_quoting),
	    cmocka_unit_test(test_result_format_and_limit),
	    cmocka_unit_test(test_domain),
	    cmocka_unit_test(test_types_open),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
