/*
 * test_alias - aliases(5) value parsing and expansion (lists, owners,
 * remote addresses, includes, loops), with tables in memory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "alias.h"
#include "buf.h"

static const char *kind_names[] = {"addr",    "file",	 "cmd",
				   "include", "mailbox", "remote"};

/* The items of a list as "kind:value[!][^owner][@include]" joined by ' '. */
static void
render(const struct alias_list *l, struct buf *out)
{
	buf_reset(out);
	for (size_t i = 0; i < l->count; i++) {
		const struct alias_item *it = &l->items[i];
		buf_printf(out, "%s%s:%s%s", i ? " " : "", kind_names[it->kind],
			   it->value, it->noexpand ? "!" : "");
		if (it->owner)
			buf_printf(out, "^%s", it->owner);
		if (it->include)
			buf_printf(out, "@%s", it->include);
	}
}

static void
parse_ok(const char *value, const char *want)
{
	struct alias_list l = ALIAS_LIST_INIT;
	struct buf err = BUF_INIT, got = BUF_INIT;

	if (alias_parse(value, &l, &err) < 0)
		fail_msg("parse of \"%s\": %s", value, buf_cstr(&err));
	render(&l, &got);
	assert_string_equal(buf_cstr(&got), want);
	alias_list_free(&l);
	buf_free(&err);
	buf_free(&got);
}

static void
parse_bad(const char *value, const char *text)
{
	struct alias_list l = ALIAS_LIST_INIT;
	struct buf err = BUF_INIT;

	assert_int_equal(alias_parse(value, &l, &err), -1);
	assert_int_equal(l.count, 0);
	if (strstr(buf_cstr(&err), text) == NULL)
		fail_msg("\"%s\": error \"%s\" lacks \"%s\"", value,
			 buf_cstr(&err), text);
	buf_free(&err);
}

static void
test_parse(void **state)
{
	(void)state;
	parse_ok("bob", "addr:bob");
	parse_ok(" bob , carol@example.org,,dave ",
		 "addr:bob addr:carol@example.org addr:dave");
	parse_ok("/var/log/mail.copy, |/usr/bin/procmail -a x",
		 "file:/var/log/mail.copy cmd:/usr/bin/procmail -a x");
	parse_ok("\"|/bin/cat > /tmp/a, b\", \"/tmp/with space\"",
		 "cmd:/bin/cat > /tmp/a, b file:/tmp/with space");
	parse_ok("\"|echo \\\"hi\\\"\"", "cmd:echo \"hi\"");
	parse_ok(":include:/etc/mail/list, :INCLUDE: /etc/x",
		 "include:/etc/mail/list include:/etc/x");
	parse_ok("\\bob, bob", "addr:bob! addr:bob");
	parse_ok("Bob Smith <bob@example.org>", "addr:bob@example.org");
	parse_ok("\"john doe\"@example.org", "addr:\"john doe\"@example.org");
	parse_ok("", "");

	parse_bad("\"|unterminated", "unbalanced quotes");
	parse_bad("bob smith", "bad address");
	parse_bad("bob, ca\001rol", "bad address");
	parse_bad(":include:relative", ":include:");
	parse_bad("|", "bad command");
	parse_bad("good, \"/tmp/a\nb\"", "bad file name");
}

static void
test_parse_limits(void **state)
{
	struct alias_list l = ALIAS_LIST_INIT;
	struct buf big = BUF_INIT, err = BUF_INIT;

	(void)state;
	for (int i = 0; i < ALIAS_ITEM_MAX + 1; i++)
		buf_putc(&big, 'a');
	assert_int_equal(alias_parse(buf_cstr(&big), &l, &err), -1);
	buf_reset(&big);
	for (int i = 0; i <= ALIAS_ITEMS_MAX; i++)
		buf_puts(&big, "a,");
	assert_int_equal(alias_parse(buf_cstr(&big), &l, &err), -1);
	assert_int_equal(l.count, 0);
	buf_free(&big);
	buf_free(&err);
}

static void
test_parse_include(void **state)
{
	const char *text = "# the team\nbob, carol\n\n  # indented comment\n"
			   "dave@example.org\n|/bin/true";
	struct alias_list l = ALIAS_LIST_INIT;
	struct buf err = BUF_INIT, got = BUF_INIT;

	(void)state;
	assert_int_equal(alias_parse_include(text, strlen(text), &l, &err), 0);
	render(&l, &got);
	assert_string_equal(buf_cstr(&got),
			    "addr:bob addr:carol "
			    "addr:dave@example.org cmd:/bin/true");
	alias_list_free(&l);
	assert_int_equal(alias_parse_include("a\0b", 3, &l, &err), -1);
	assert_int_equal(alias_parse_include("ok\nbad one\n", 11, &l, &err),
			 -1);
	assert_int_equal(l.count, 0);
	buf_free(&err);
	buf_free(&got);
}

/* A table in memory: "name=value" pairs; "!" as a value: lookup error. */
struct table {
	const char *const *pairs;
	int lookups;
};

static int
t_lookup(const char *name, struct buf *value, void *ctx)
{
	struct table *t = ctx;

	t->lookups++;
	for (const char *const *p = t->pairs; *p; p += 2) {
		if (strcmp(p[0], name) == 0) {
			if (strcmp(p[1], "!") == 0)
				return -1;
			buf_set(value, p[1]);
			return 1;
		}
	}
	return 0;
}

static int
t_include(const char *path, struct buf *text, struct buf *why, void *ctx)
{
	(void)ctx;
	if (strcmp(path, "/lists/team") == 0) {
		buf_set(text, "# team\nbob\ncarol, |/bin/team-hook\n");
		return 0;
	}
	if (strcmp(path, "/lists/self") == 0) {
		buf_set(text, ":include:/lists/self\n");
		return 0;
	}
	buf_set(why, "4.3.0 cannot read ");
	buf_puts(why, path);
	return -1;
}

static int
t_is_local(const char *domain, void *ctx)
{
	(void)ctx;
	return strcmp(domain, "here.test") == 0;
}

static int
expand(const char *const *pairs, const char *name, struct buf *got,
       struct buf *why)
{
	struct table t = {pairs, 0};
	struct alias_ops ops = {t_lookup, t_include, t_is_local, &t};
	struct alias_list out = ALIAS_LIST_INIT;
	int r;

	buf_reset(why);
	r = alias_expand(name, &ops, &out, why);
	render(&out, got);
	alias_list_free(&out);
	return r;
}

static const char *const table[] = {
    "postmaster",  "root",
    "root",	   "admin",
    "admin",	   "\\admin, bob@elsewhere.test",
    "bob",	   "bob, /var/log/bob.copy",
    "staff",	   "bob, carol@here.test, dave@elsewhere.test, carol",
    "owner-staff", "admin",
    "all",	   "staff, eve, \"|/usr/bin/archive all\"",
    "team",	   ":include:/lists/team",
    "badinc",	   ":include:/lists/missing",
    "selfinc",	   ":include:/lists/self",
    "loop1",	   "loop2",
    "loop2",	   "x, loop1",
    "broken",	   "\"unbalanced",
    "flaky",	   "ok, dbfail",
    "dbfail",	   "!",
    NULL,
};

static void
test_expand(void **state)
{
	static const struct {
		const char *name;
		int rc;
		const char *want;
	} cases[] = {
	    /* Not an alias. */
	    {"nobody", 0, ""},
	    /* A chain of renames down to a mailbox and a remote copy. */
	    {"postmaster", 1, "mailbox:admin remote:bob@elsewhere.test"},
	    /* Self reference: the mailbox itself, plus a file. */
	    {"bob", 1, "mailbox:bob file:/var/log/bob.copy"},
	    /* A list with an owner, duplicates removed, local domains kept. */
	    {"staff", 1,
	     "mailbox:bob^owner-staff "
	     "file:/var/log/bob.copy^owner-staff "
	     "mailbox:carol^owner-staff "
	     "remote:dave@elsewhere.test^owner-staff"},
	    /* A list of lists: the inner owner wins inside, none outside. */
	    {"all", 1,
	     "mailbox:bob^owner-staff "
	     "file:/var/log/bob.copy^owner-staff "
	     "mailbox:carol^owner-staff "
	     "remote:dave@elsewhere.test^owner-staff "
	     "mailbox:eve cmd:/usr/bin/archive all"},
	    /* :include: targets remember their file. */
	    {"team", 1,
	     "mailbox:bob file:/var/log/bob.copy "
	     "mailbox:carol@/lists/team "
	     "cmd:/bin/team-hook@/lists/team"},
	};
	struct buf got = BUF_INIT, why = BUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(expand(table, cases[i].name, &got, &why),
				 cases[i].rc);
		assert_string_equal(buf_cstr(&got), cases[i].want);
	}
	buf_free(&got);
	buf_free(&why);
}

static void
test_expand_errors(void **state)
{
	struct buf got = BUF_INIT, why = BUF_INIT;

	(void)state;
	assert_int_equal(expand(table, "loop1", &got, &why), -1);
	assert_true(strncmp(buf_cstr(&why), "5.4.6 ", 6) == 0);
	assert_non_null(strstr(buf_cstr(&why), "loop"));
	assert_string_equal(buf_cstr(&got), "");

	assert_int_equal(expand(table, "selfinc", &got, &why), -1);
	assert_true(strncmp(buf_cstr(&why), "5.4.6 ", 6) == 0);

	assert_int_equal(expand(table, "badinc", &got, &why), -1);
	assert_string_equal(buf_cstr(&why), "4.3.0 cannot read /lists/missing");

	assert_int_equal(expand(table, "broken", &got, &why), -1);
	assert_true(strncmp(buf_cstr(&why), "5.3.5 ", 6) == 0);

	assert_int_equal(expand(table, "flaky", &got, &why), -1);
	assert_true(strncmp(buf_cstr(&why), "4.3.0 ", 6) == 0);
	assert_string_equal(buf_cstr(&got), "");
	assert_int_equal(expand(table, "dbfail", &got, &why), -1);
	buf_free(&got);
	buf_free(&why);
}

static void
test_expand_deep_chain(void **state)
{
	static const char *pairs[2 * (ALIAS_DEPTH_MAX + 3) + 1];
	static char names[ALIAS_DEPTH_MAX + 3][16];
	struct buf got = BUF_INIT, why = BUF_INIT;
	int n = ALIAS_DEPTH_MAX + 2;

	(void)state;
	/* a0 -> a1 -> ... -> a(n): one level deeper than allowed. */
	for (int i = 0; i <= n; i++)
		snprintf(names[i], sizeof(names[i]), "a%d", i);
	for (int i = 0; i < n; i++) {
		pairs[2 * i] = names[i];
		pairs[2 * i + 1] = names[i + 1];
	}
	pairs[2 * n] = NULL;
	assert_int_equal(expand(pairs, "a0", &got, &why), -1);
	assert_non_null(strstr(buf_cstr(&why), "nested too deeply"));
	/* A shorter chain is fine. */
	assert_int_equal(expand(pairs, "a5", &got, &why), 1);
	assert_string_equal(buf_cstr(&got), "mailbox:a22");
	buf_free(&got);
	buf_free(&why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_parse_limits),
	    cmocka_unit_test(test_parse_include),
	    cmocka_unit_test(test_expand),
	    cmocka_unit_test(test_expand_errors),
	    cmocka_unit_test(test_expand_deep_chain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
