/*
 * test_match_list - unit tests of lib/match_list.c: domain lists with and
 * without parent domains, "!" exclusions and first-match order, /file/name
 * entries (comments, nesting, errors), host lists (networks, names), the
 * words and tables helpers.  Tables are hash: files built with map_build.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "maps.h"
#include "match_list.h"
#include "xalloc.h"

static char dir[] = "/tmp/test_match_list_XXXXXX";
static struct buf err;

/* dir/name with text; returns the path (a new string). */
static char *
write_file(const char *name, const char *text)
{
	struct buf path = BUF_INIT;
	int fd;

	buf_printf(&path, "%s/%s", dir, name);
	fd = open(buf_cstr(&path), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return buf_steal(&path);
}

static struct match_list *
open_ok(const char *value)
{
	struct match_list *l = match_list_open("p", value, &err);

	if (l == NULL)
		fail_msg("unexpected error: %s", buf_cstr(&err));
	return l;
}

static const char *
open_error(const char *value)
{
	assert_null(match_list_open("p", value, &err));
	return buf_cstr(&err);
}

static void
test_domains(void **state)
{
	struct match_list *l = open_ok("Example.COM, .sub.test\tother.test");

	(void)state;
	assert_int_equal(match_list_domain(l, "example.com", 0, &err), 1);
	assert_int_equal(match_list_domain(l, "EXAMPLE.com", 0, &err), 1);
	/* Subdomains: only with parent, or through a ".domain" word. */
	assert_int_equal(match_list_domain(l, "a.example.com", 0, &err), 0);
	assert_int_equal(match_list_domain(l, "a.example.com", 1, &err), 1);
	assert_int_equal(match_list_domain(l, "xexample.com", 1, &err), 0);
	assert_int_equal(match_list_domain(l, "a.sub.test", 0, &err), 1);
	assert_int_equal(match_list_domain(l, "sub.test", 0, &err), 0);
	assert_int_equal(match_list_domain(l, "", 1, &err), 0);
	assert_int_equal(match_list_domain(NULL, "example.com", 1, &err), 0);
	match_list_free(l);
	/* Empty lists are valid and match nothing. */
	l = open_ok(" , ");
	assert_int_equal(match_list_domain(l, "example.com", 1, &err), 0);
	match_list_free(l);
}

static void
test_exclusions_in_order(void **state)
{
	struct match_list *l = open_ok("!bad.example.com, example.com");

	(void)state;
	assert_int_equal(match_list_domain(l, "bad.example.com", 1, &err), 0);
	assert_int_equal(match_list_domain(l, "x.bad.example.com", 1, &err), 0);
	assert_int_equal(match_list_domain(l, "good.example.com", 1, &err), 1);
	match_list_free(l);
	/* The first match decides: an exclusion after it is too late. */
	l = open_ok("example.com, !bad.example.com");
	assert_int_equal(match_list_domain(l, "bad.example.com", 1, &err), 1);
	match_list_free(l);
	assert_string_equal(open_error("a, !"), "p: \"!\" without an entry");
}

static void
test_files(void **state)
{
	char *inner = write_file("inner", "deep.example\n");
	char *outer;
	struct buf text = BUF_INIT;
	struct match_list *l;
	char *words;

	(void)state;
	buf_printf(&text,
		   "# domains\nfile.example, two.example # trailing\n"
		   "  %s\n#not.example\n",
		   inner);
	outer = write_file("outer", buf_cstr(&text));
	buf_reset(&text);
	buf_printf(&text, "first.example %s", outer);
	l = open_ok(buf_cstr(&text));
	assert_int_equal(match_list_domain(l, "file.example", 0, &err), 1);
	assert_int_equal(match_list_domain(l, "two.example", 0, &err), 1);
	assert_int_equal(match_list_domain(l, "deep.example", 0, &err), 1);
	assert_int_equal(match_list_domain(l, "trailing", 0, &err), 0);
	assert_int_equal(match_list_domain(l, "not.example", 0, &err), 0);
	words = match_list_words(l);
	assert_string_equal(words, "first.example file.example two.example "
				   "deep.example");
	xfree(words);
	match_list_free(l);
	/* A file that cannot be read names the parameter. */
	assert_string_equal(open_error("a /nonexistent-dir/x"),
			    "p: /nonexistent-dir/x: cannot open: No such file "
			    "or directory");
	/* Files naming themselves stop at the depth bound. */
	buf_reset(&text);
	buf_printf(&text, "%s/loop\n", dir);
	xfree(write_file("loop", buf_cstr(&text)));
	buf_reset(&text);
	buf_printf(&text, "p: %s/loop: files nested more than %d deep", dir,
		   MATCH_LIST_DEPTH_MAX);
	{
		char spec[128];

		snprintf(spec, sizeof(spec), "%s/loop", dir);
		assert_string_equal(open_error(spec), buf_cstr(&text));
	}
	buf_free(&text);
	xfree(inner);
	xfree(outer);
}

static void
test_tables(void **state)
{
	char *path = write_file("table", "tables.example OK\n"
					 ".dot.example OK\n"
					 "alice yes\n"
					 "192.0.2.7 OK\n");
	struct buf spec = BUF_INIT;
	struct match_list *l;

	(void)state;
	buf_printf(&spec, "hash:%s", path);
	assert_int_equal(map_build(buf_cstr(&spec), 0, &err), 0);
	l = open_ok(buf_cstr(&spec));
	assert_true(match_list_has_tables(l));
	assert_int_equal(match_list_domain(l, "TABLES.example", 0, &err), 1);
	/* Parents: "tables.example" with parent, ".dot.example" without. */
	assert_int_equal(match_list_domain(l, "a.b.tables.example", 1, &err),
			 1);
	assert_int_equal(match_list_domain(l, "a.tables.example", 0, &err), 0);
	assert_int_equal(match_list_domain(l, "a.dot.example", 0, &err), 1);
	assert_int_equal(match_list_domain(l, "other.example", 1, &err), 0);
	assert_int_equal(match_list_string(l, "alice", &err), 1);
	assert_int_equal(match_list_string(l, "bob", &err), 0);
	assert_int_equal(match_list_tables(l, "192.0.2.7", &err), 1);
	assert_int_equal(match_list_client(l, "", "192.0.2.7", 1, &err), 1);
	assert_int_equal(
	    match_list_client(l, "x.tables.example", "192.0.2.8", 1, &err), 1);
	match_list_free(l);
	/* A table that cannot be opened names the parameter. */
	assert_non_null(strstr(open_error("hash:/nonexistent/table"), "p: "));
	buf_free(&spec);
	xfree(path);
}

static void
test_hosts(void **state)
{
	struct match_list *l =
	    open_ok("!192.0.2.7, 192.0.2.0/24 [2001:db8::]/32 host.example "
		    ".domain.example 198.51.100.1");

	(void)state;
	assert_int_equal(match_list_client(l, "", "192.0.2.9", 1, &err), 1);
	assert_int_equal(match_list_client(l, "", "192.0.2.7", 1, &err), 0);
	assert_int_equal(match_list_client(l, "", "::ffff:192.0.2.9", 1, &err),
			 1);
	assert_int_equal(match_list_client(l, "", "2001:db8::5", 1, &err), 1);
	assert_int_equal(match_list_client(l, "", "198.51.100.1", 1, &err), 1);
	assert_int_equal(match_list_client(l, "", "198.51.100.2", 1, &err), 0);
	assert_int_equal(
	    match_list_client(l, "mail.host.example", "203.0.113.1", 1, &err),
	    1);
	assert_int_equal(
	    match_list_client(l, "x.domain.example", "203.0.113.1", 1, &err),
	    1);
	assert_int_equal(
	    match_list_client(l, "other.example", "203.0.113.1", 1, &err), 0);
	match_list_free(l);
	/* IPv6 networks without brackets are networks, not tables. */
	l = open_ok("fe80::/10 2001:db8::7");
	assert_false(match_list_has_tables(l));
	assert_int_equal(match_list_client(l, "", "fe80::1", 1, &err), 1);
	assert_int_equal(match_list_client(l, "", "2001:db8::7", 1, &err), 1);
	assert_int_equal(match_list_client(l, "", "2001:db8::8", 1, &err), 0);
	match_list_free(l);
	/* Shaped like a network, so it must be one. */
	assert_non_null(strstr(open_error("10.0.0.0/33"), "p: bad network"));
	assert_non_null(strstr(open_error("10.0.0.300"), "p: bad network"));
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	buf_free(&err);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_domains),
	    cmocka_unit_test(test_exclusions_in_order),
	    cmocka_unit_test(test_files),
	    cmocka_unit_test(test_tables),
	    cmocka_unit_test(test_hosts),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
