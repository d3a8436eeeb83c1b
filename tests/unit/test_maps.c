/*
 * test_maps - lib/maps: hash: tables built from postmap and aliases text
 * files, looked up, rebuilt atomically under an open reader, and noticed
 * as changed; then every other table type behind the same interface:
 * cidr, regexp, pcre, static, inline, texthash, btree, unix, and the
 * client types' configuration errors (their protocols are tested against
 * servers in tests/integration/test_maps.py).  Hostile inputs: huge keys,
 * bad patterns, runaway backtracking and regcomp blow-ups, unbalanced
 * braces, and errors in table files reported as FILE:LINE.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "maps.h"
#include "unit_helpers.h"

static char dir[UNIT_DIR_MAX];

static int
setup(void **state)
{
	(void)state;
	return unit_tmpdir(dir, "test_maps");
}

static int
teardown(void **state)
{
	(void)state;
	return unit_rmtree(dir);
}

/* Writes DIR/name and returns "type:DIR/name". */
static const char *
table(const char *type, const char *name, const char *text)
{
	static char spec[192];

	snprintf(spec, sizeof(spec), "%s:%s", type,
		 unit_write_file(dir, name, text));
	return spec;
}

static struct maps *
open_ok(const char *spec)
{
	struct buf err = BUF_INIT;
	struct maps *m = maps_open(spec, &err);

	if (m == NULL)
		fail_msg("maps_open(%s): %s", spec, buf_cstr(&err));
	buf_free(&err);
	return m;
}

/* maps_open fails with want in the message. */
static void
open_fails(const char *spec, const char *want)
{
	struct buf err = BUF_INIT;
	struct maps *m = maps_open(spec, &err);

	if (m != NULL)
		fail_msg("maps_open(%s) succeeded", spec);
	if (strstr(buf_cstr(&err), want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", buf_cstr(&err), want);
	buf_free(&err);
}

static void
expect(struct maps *m, const char *key, const char *want)
{
	struct buf v = BUF_INIT, err = BUF_INIT;
	int r = maps_lookup(m, key, &v, &err);

	if (want == NULL) {
		if (r != 0)
			fail_msg("%s: %d \"%s\" %s, want not found", key, r,
				 buf_cstr(&v), buf_cstr(&err));
	} else {
		if (r != 1)
			fail_msg("%s: %d %s, want \"%s\"", key, r,
				 buf_cstr(&err), want);
		assert_string_equal(buf_cstr(&v), want);
	}
	buf_free(&v);
	buf_free(&err);
}

/* The lookup is an error with want in the message. */
static void
expect_error(struct maps *m, const char *key, const char *want)
{
	struct buf v = BUF_INIT, err = BUF_INIT;

	assert_int_equal(maps_lookup(m, key, &v, &err), -1);
	if (strstr(buf_cstr(&err), want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", buf_cstr(&err), want);
	buf_free(&v);
	buf_free(&err);
}

/* Writes DIR/name and returns "hash:DIR/name". */
static const char *
write_source(const char *name, const char *text)
{
	return table("hash", name, text);
}

static void
test_postmap_format(void **state)
{
	struct buf err = BUF_INIT;
	const char *spec;
	struct maps *m;

	(void)state;
	spec = write_source("transport",
			    "# comment\n"
			    "Example.COM   smtp:[relay.example.com]:2525\n"
			    "\n"
			    "   # indented comment\n"
			    ".example.org\tsmtp:mx.example.org\n"
			    "long  first\n"
			    "  second\n"
			    "\tthird\n"
			    "dup one\n"
			    "dup two\n");
	assert_int_equal(map_build(spec, 0, &err), 0);
	m = maps_open(spec, &err);
	assert_non_null(m);
	expect(m, "example.com", "smtp:[relay.example.com]:2525");
	expect(m, "EXAMPLE.com", "smtp:[relay.example.com]:2525");
	expect(m, ".example.org", "smtp:mx.example.org");
	/* Joined as postmap joins: the continuation's white space stays. */
	expect(m, "long", "first  second\tthird");
	expect(m, "dup", "one");
	expect(m, "missing", NULL);
	expect(m, "", NULL);
	assert_int_equal(maps_changed(m), 0);
	maps_close(m);
	buf_free(&err);
}

static void
test_aliases_format(void **state)
{
	struct buf err = BUF_INIT;
	const char *spec;
	struct maps *m;

	(void)state;
	spec = write_source("aliases", "# aliases\n"
				       "postmaster: root\n"
				       "Staff:  bob,\n"
				       "   carol@example.org,\n"
				       "   \"|/usr/bin/archive staff\"\n"
				       "\"odd:name\": bob\n"
				       "root :admin\n");
	assert_int_equal(map_build(spec, MAP_BUILD_ALIASES, &err), 0);
	m = maps_open(spec, &err);
	assert_non_null(m);
	expect(m, "postmaster", "root");
	expect(m, "staff",
	       "bob,   carol@example.org,   \"|/usr/bin/archive staff\"");
	expect(m, "odd:name", "bob");
	expect(m, "root", "admin");
	maps_close(m);
	buf_free(&err);
}

static void
build_fails(const char *text, int flags, const char *want)
{
	struct buf err = BUF_INIT;
	const char *spec = write_source("bad", text);

	assert_int_equal(map_build(spec, flags, &err), -1);
	if (strstr(buf_cstr(&err), want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", buf_cstr(&err), want);
	buf_free(&err);
}

static void
test_build_errors(void **state)
{
	struct buf err = BUF_INIT;
	char path[128];

	(void)state;
	build_fails("a b\nnovalue\n", 0, "/bad:2: missing value");
	build_fails("  leading continuation\n", 0,
		    ":1: continuation line without");
	build_fails("ok: a\nno colon here\n", MAP_BUILD_ALIASES,
		    ":2: missing colon");
	build_fails(": value\n", MAP_BUILD_ALIASES, ":1: empty key");
	/* A failed build leaves no table and no temporary file behind. */
	snprintf(path, sizeof(path), "%s/bad.db", dir);
	assert_int_not_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/bad.db.tmp", dir);
	assert_int_not_equal(access(path, F_OK), 0);
	/* Unknown types and missing files. */
	assert_int_equal(map_build("cidr:/x", 0, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "unsupported"));
	assert_null(maps_open("hash:/nonexistent/table", &err));
	assert_null(maps_open("cdb:/etc/x", &err));
	assert_null(maps_open("/etc/aliases", &err));
	buf_free(&err);
}

static void
test_list_order_and_empty(void **state)
{
	struct buf err = BUF_INIT, list = BUF_INIT;
	const char *spec;
	struct maps *m;

	(void)state;
	spec = write_source("first", "k first\nonly1 a\n");
	assert_int_equal(map_build(spec, 0, &err), 0);
	buf_printf(&list, "%s, ", spec);
	spec = write_source("second", "k second\nonly2 b\n");
	assert_int_equal(map_build(spec, 0, &err), 0);
	buf_puts(&list, spec);
	m = maps_open(buf_cstr(&list), &err);
	assert_non_null(m);
	expect(m, "k", "first");
	expect(m, "only1", "a");
	expect(m, "only2", "b");
	maps_close(m);
	/* An empty list: a valid, empty maps. */
	m = maps_open("", &err);
	assert_non_null(m);
	expect(m, "k", NULL);
	assert_int_equal(maps_changed(m), 0);
	maps_close(m);
	buf_free(&list);
	buf_free(&err);
}

static void
test_atomic_rebuild_and_changed(void **state)
{
	struct buf err = BUF_INIT;
	const char *spec;
	struct maps *old, *fresh;
	char db[128];
	struct stat before, after;

	(void)state;
	spec = write_source("live", "key old\n");
	assert_int_equal(map_build(spec, 0, &err), 0);
	old = maps_open(spec, &err);
	assert_non_null(old);
	snprintf(db, sizeof(db), "%s/live.db", dir);
	assert_int_equal(stat(db, &before), 0);

	/* A failed rebuild changes nothing. */
	write_source("live", "key new\n  \nbroken\n");
	assert_int_equal(map_build(spec, 0, &err), -1);
	assert_int_equal(maps_changed(old), 0);
	expect(old, "key", "old");

	/* A rebuild replaces the file (new inode); the open reader keeps
	 * its consistent old table and is told that it changed. */
	write_source("live", "key new\nother x\n");
	assert_int_equal(map_build(spec, 0, &err), 0);
	assert_int_equal(stat(db, &after), 0);
	assert_int_not_equal(before.st_ino, after.st_ino);
	assert_int_equal(maps_changed(old), 1);
	expect(old, "key", "old");
	expect(old, "other", NULL);
	fresh = maps_open(spec, &err);
	assert_non_null(fresh);
	assert_int_equal(maps_changed(fresh), 0);
	expect(fresh, "key", "new");
	expect(fresh, "other", "x");

	/* A removed table counts as changed too. */
	assert_int_equal(unlink(db), 0);
	assert_int_equal(maps_changed(fresh), 1);
	maps_close(old);
	maps_close(fresh);
	buf_free(&err);
}

static void
test_owner_and_mode_follow_source(void **state)
{
	struct buf err = BUF_INIT;
	const char *spec;
	char src[128], db[128];
	struct stat st;

	(void)state;
	spec = write_source("owned", "a b\n");
	snprintf(src, sizeof(src), "%s/owned", dir);
	snprintf(db, sizeof(db), "%s/owned.db", dir);
	assert_int_equal(chmod(src, 0640), 0);
	if (geteuid() == 0)
		assert_int_equal(chown(src, 65534, 65534), 0);
	assert_int_equal(map_build(spec, 0, &err), 0);
	assert_int_equal(stat(db, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	if (geteuid() == 0)
		assert_int_equal(st.st_uid, 65534);
	buf_free(&err);
}

/* After a chroot the table's absolute path reaches nothing; a folder
 * moved away stands in for it here.  The table is still the same one (no
 * change), and a rebuild in the folder is still noticed. */
static void
test_changed_after_the_path_moved(void **state)
{
	struct buf err = BUF_INIT;
	char sub[96], moved[96], spec[128];
	FILE *fp;
	struct maps *m;

	(void)state;
	snprintf(sub, sizeof(sub), "%s/jail", dir);
	snprintf(moved, sizeof(moved), "%s/elsewhere", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(spec, sizeof(spec), "%s/t", sub);
	fp = fopen(spec, "w");
	assert_non_null(fp);
	fputs("k v\n", fp);
	fclose(fp);
	snprintf(spec, sizeof(spec), "hash:%s/t", sub);
	assert_int_equal(map_build(spec, 0, &err), 0);
	m = maps_open(spec, &err);
	assert_non_null(m);
	assert_int_equal(rename(sub, moved), 0);
	assert_int_equal(maps_changed(m), 0);
	expect(m, "k", "v");
	snprintf(spec, sizeof(spec), "hash:%s/t", moved);
	assert_int_equal(map_build(spec, 0, &err), 0);
	assert_int_equal(maps_changed(m), 1);
	maps_close(m);
	buf_free(&err);
}

static void
test_cidr(void **state)
{
	struct maps *m;

	(void)state;
	m = open_ok(table("cidr", "client.cidr",
			  "# most specific first\n"
			  "192.168.1.1     OK\n"
			  "192.168.0.0/16  REJECT\n"
			  "2001:db8::1     OK\n"
			  "[2001:db8::]/32 REJECT v6\n"
			  "if 10.0.0.0/8\n"
			  "if !10.1.0.0/16\n"
			  "10.0.0.0/8      TEN\n"
			  "endif\n"
			  "10.1.2.0/24     TEN-ONE-TWO\n"
			  "endif\n"
			  "!172.16.0.0/12  NOT-172\n"
			  "172.16.0.0/12   172\n"
			  "  continued\n"));
	expect(m, "192.168.1.1", "OK");
	expect(m, "192.168.200.1", "REJECT");
	expect(m, "2001:DB8::1", "OK");
	expect(m, "2001:db8:1::5", "REJECT v6");
	expect(m, "10.9.9.9", "TEN");
	expect(m, "10.1.2.3", "TEN-ONE-TWO");
	expect(m, "10.1.3.3", "NOT-172");
	expect(m, "8.8.8.8", "NOT-172");
	expect(m, "172.20.0.1", "172  continued");
	/* A key that is no address matches nothing, negations included. */
	expect(m, "mail.example.com", NULL);
	expect(m, "10.0.0.0/8", NULL);
	/* A rule applies to its address family only (as Postfix): the
	 * negated IPv4 rule does not match an IPv6 key. */
	expect(m, "::1", NULL);
	expect(m, "::ffff:192.168.1.1", NULL);
	maps_close(m);
	m = open_ok("cidr:{ {if !10.0.0.0/8}, {::/0 V6}, {endif}, "
		    "{::/0 LAST} }");
	expect(m, "::1", "LAST");
	maps_close(m);

	open_fails(table("cidr", "bad1", "10.0.0.0/8 OK\n10.1.2.3/8 X\n"),
		   "/bad1:2: bad network \"10.1.2.3/8\": non-null host");
	open_fails(table("cidr", "bad2", "300.0.0.1 X\n"), "/bad2:1: bad");
	open_fails(table("cidr", "bad3", "10.0.0.0/8\n"),
		   "/bad3:1: missing result");
	open_fails(table("cidr", "bad4", "# c\nendif\n"),
		   "/bad4:2: \"endif\" without \"if\"");
	open_fails(table("cidr", "bad5", "\nif 10.0.0.0/8\n10.0.0.1 x\n"),
		   "/bad5:2: \"if\" without \"endif\"");
	open_fails(table("cidr", "bad6", "if 10.0.0.0/8 OK\nendif\n"),
		   "/bad6:1: text after the \"if\" pattern");
	open_fails(table("cidr", "bad7", "10.0.0.0/33 OK\n"), "bad7:1:");
	open_fails("cidr:/nonexistent/table", "cannot open table");
}

static void
test_regexp(void **state)
{
	struct maps *m;

	(void)state;
	m = open_ok(table("regexp", "sender.re",
			  "/[%!@].*[%!@]/  550 Sender-specified routing\n"
			  "/^postmaster@/  OK\n"
			  "if !/^owner-/\n"
			  "/^(.*)-outgoing@(.*)$/  550 Use ${1}@$(2) instead "
			  "$$5\n"
			  "endif\n"
			  "/^Exact@/i      case-sensitive\n"
			  "#/^x/ comment\n"
			  "/^a b$/         spaces in pattern\n"
			  "|^pipe/slash|   other delimiter\n"
			  "/^esc\\/aped$/  escaped delimiter\n"
			  "/^(one)|(two)$/ [$1][$2]\n"
			  "!/\\./          no dot\n"));
	expect(m, "a@b@c", "550 Sender-specified routing");
	expect(m, "POSTMASTER@example.com", "OK");
	expect(m, "list-outgoing@example.com",
	       "550 Use list@example.com instead $5");
	/* The if guards the rule: owner- lists fall through to later ones. */
	expect(m, "owner-list-outgoing@example.com", NULL);
	expect(m, "Exact@example.com", "case-sensitive");
	expect(m, "exact@example.com", NULL);
	expect(m, "A B", "spaces in pattern");
	expect(m, "pipe/slash", "other delimiter");
	expect(m, "esc/aped", "escaped delimiter");
	/* An unset group substitutes nothing. */
	expect(m, "two", "[][two]");
	expect(m, "nodot", "no dot");
	maps_close(m);

	open_fails(table("regexp", "bad1", "/ok/ fine\n/a(/ X\n"),
		   "/bad1:2: bad regular expression \"a(\"");
	open_fails(table("regexp", "bad2", "/a/q X\n"),
		   "/bad2:1: unknown regexp flag 'q'");
	open_fails(table("regexp", "bad3", "/(a)(b)/ $3\n"),
		   "/bad3:1: out-of-range replacement index $3");
	open_fails(table("regexp", "bad4", "!/(a)/ $1\n"),
		   "/bad4:1: $N in the result of a negated pattern");
	open_fails(table("regexp", "bad5", "/a\n"),
		   "/bad5:1: missing closing delimiter");
	open_fails(table("regexp", "bad6", "abc X\n"),
		   "/bad6:1: pattern must start with a delimiter");
	open_fails(table("regexp", "bad7", "/a/ $x\n"), "/bad7:1: bad $");
	open_fails(table("regexp", "bad8", "/a/ ${1\n"), "/bad8:1: bad $");
	open_fails(table("regexp", "bad9", "/a/\n"), "missing result");
	/* Repetitions that glibc's regcomp would copy without end. */
	open_fails(table("regexp", "bad10", "/x(a{1000}){1000}/ X\n"),
		   "/bad10:1: regular expression too complex");
	open_fails(table("regexp", "bad11",
			 "/^(.*)++++++++++++++++++++++++++++++$/ X\n"),
		   "/bad11:1: regular expression too complex");
	open_fails(
	    table("regexp", "bad12", "/a\\{100\\}\\{100\\}\\{100\\}/x X\n"),
	    "/bad12:1: regular expression too complex");
	/* Back-references: glibc matches them in exponential time. */
	open_fails(table("regexp", "bad13", "/^(a+)+\\1$/ X\n"),
		   "/bad13:1: back-references are not supported");
	open_fails(table("regexp", "bad14", "/\\(x\\)\\1/x X\n"),
		   "/bad14:1: back-references are not supported");
	m = open_ok(table("regexp", "fine",
			  "~^[[:alnum:]+/]{60,}$~ base64\n"
			  "/[\\1]x\\./ bracket\n"
			  "/^(a|b)+c{2,5}.{0,1000}$/ repeated\n"));
	expect(m, "abcc", "repeated");
	expect(m, "1x.", "bracket");
	maps_close(m);
}

static void
test_regexp_flag_m(void **state)
{
	struct maps *m;

	(void)state;
	m = open_ok("regexp:{ {/^b$/m multi}, {/^b$/ single} }");
	expect(m, "a\nb", "multi");
	maps_close(m);
	m = open_ok("regexp:{ {/^b$/ single} }");
	expect(m, "a\nb", NULL);
	expect(m, "B", "single");
	maps_close(m);
}

static void
test_pcre(void **state)
{
	struct buf big = BUF_INIT;
	struct maps *m;

	(void)state;
	m = open_ok(table("pcre", "sender.pcre",
			  "/^(?<user>[^@]+)@(.+)\\.invalid$/ user=$1 dom=$2\n"
			  "/^Exact@/i      case-sensitive\n"
			  "/a.b/           dotall\n"
			  "/^x \\d+ $/x    extended\n"
			  "if /^if/\n"
			  "/(\\d+)$/       number $1\n"
			  "endif\n"
			  "/^(a+)+$/       runaway\n"));
	expect(m, "joe@Example.INVALID", "user=joe dom=Example");
	expect(m, "Exact@x", "case-sensitive");
	expect(m, "EXACT@x", NULL);
	expect(m, "a\nb", "dotall");
	expect(m, "x123", "extended");
	expect(m, "if42", "number 42");
	expect(m, "no42", NULL);
	/* Catastrophic backtracking is bounded: an error, not a hang. */
	for (int i = 0; i < 60; i++)
		buf_putc(&big, 'a');
	buf_putc(&big, '!');
	expect_error(m, buf_cstr(&big), "pcre2_match");
	maps_close(m);
	buf_free(&big);

	open_fails(table("pcre", "bad1", "/ok/ x\n/(?<=a+)b/ y\n"),
		   "/bad1:2: bad regular expression");
	open_fails(table("pcre", "bad2", "/a/Z y\n"),
		   "/bad2:1: unknown pcre flag 'Z'");
	open_fails(table("pcre", "bad3", "/(a)/ $2\n"),
		   "/bad3:1: out-of-range replacement index $2");
}

static void
test_static_and_inline(void **state)
{
	struct maps *m;

	(void)state;
	m = open_ok("static:relay.example");
	expect(m, "anything", "relay.example");
	maps_close(m);
	m = open_ok("static:{ text with spaces }");
	expect(m, "x", "text with spaces");
	maps_close(m);

	m = open_ok("inline:{ Key=Value, other=x,{ spaced = a b c }, "
		    "{k2=v2}}");
	expect(m, "key", "Value");
	expect(m, "KEY", "Value");
	expect(m, "other", "x");
	expect(m, "spaced", "a b c");
	expect(m, "k2", "v2");
	expect(m, "missing", NULL);
	maps_close(m);
	/* A list keeps braced tables whole, commas and all. */
	m = open_ok("inline:{a=1, b=2}, static:{the default}");
	expect(m, "a", "1");
	expect(m, "b", "2");
	expect(m, "c", "the default");
	maps_close(m);

	open_fails("inline:{ a=1, nokey }", "missing '='");
	open_fails("inline:{ a=1, =x }", "needs a key and a value");
	open_fails("inline:{ a=1, A=2 }", "duplicate key \"A\"");
	open_fails("inline:{ a=1", "unbalanced braces");
	open_fails("inline:{ a=1 } trailing", "");
	open_fails("inline:a=1", "unbalanced braces");
	open_fails("static:{ x", "unbalanced braces");
	/* Rules of the file types in the name (Postfix 3.7). */
	m = open_ok("cidr:{ { 10.0.0.0/8 ten }, { 0.0.0.0/0 other } }");
	expect(m, "10.2.3.4", "ten");
	expect(m, "192.0.2.1", "other");
	maps_close(m);
	open_fails("cidr:{ { 10.0.0.0/8 ten }, { 10.0.0.1/8 x } }",
		   "{...}:2: bad network");
}

static void
test_texthash(void **state)
{
	struct maps *m;
	const char *spec;

	(void)state;
	spec = table("texthash", "transport",
		     "# comment\n"
		     "Example.COM  smtp:[relay.example.com]:2525\n"
		     "long first\n"
		     "  second\n"
		     "dup one\n"
		     "dup two\n");
	m = open_ok(spec);
	expect(m, "example.com", "smtp:[relay.example.com]:2525");
	expect(m, "EXAMPLE.com", "smtp:[relay.example.com]:2525");
	expect(m, "long", "first  second");
	expect(m, "dup", "one");
	expect(m, "nope", NULL);
	assert_int_equal(maps_changed(m), 0);
	/* A changed file is noticed, as for hash: tables. */
	table("texthash", "transport.new", "a b\n");
	{
		char from[128], to[128];
		snprintf(from, sizeof(from), "%s/transport.new", dir);
		snprintf(to, sizeof(to), "%s/transport", dir);
		assert_int_equal(rename(from, to), 0);
	}
	assert_int_equal(maps_changed(m), 1);
	maps_close(m);
	open_fails(table("texthash", "bad", "a b\nnovalue\n"),
		   "/bad:2: missing value");
}

/* A file read without a table (the sasldb, /etc/passwd): made, rewritten
 * in place (a size or an mtime that differs), replaced, removed. */
static void
test_watch_file(void **state)
{
	char path[128];
	struct maps_watch *w;
	struct stat st;
	struct timespec ts[2];

	(void)state;
	snprintf(path, sizeof(path), "%s/watched", dir);
	/* Missing at first: its appearance is the change. */
	w = maps_watch_file(path);
	assert_int_equal(maps_watch_changed(w), 0);
	table("x", "watched", "one\n");
	assert_int_equal(maps_watch_changed(w), 1);
	maps_watch_free(w);

	w = maps_watch_file(path);
	assert_int_equal(maps_watch_changed(w), 0);
	/* Rewritten in place, the mtime put back: the size tells. */
	assert_int_equal(stat(path, &st), 0);
	table("x", "watched", "one two\n");
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
	assert_int_equal(maps_watch_changed(w), 1);
	maps_watch_free(w);

	/* The same size, a new mtime (as saslpasswd2 rewrites a page). */
	w = maps_watch_file(path);
	assert_int_equal(stat(path, &st), 0);
	ts[1].tv_sec = st.st_mtim.tv_sec - 10;
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
	assert_int_equal(maps_watch_changed(w), 1);
	maps_watch_free(w);

	/* Removed. */
	w = maps_watch_file(path);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(maps_watch_changed(w), 1);
	maps_watch_free(w);
	maps_watch_free(NULL);
	assert_int_equal(maps_watch_changed(NULL), 0);
}

static void
test_btree(void **state)
{
	struct buf err = BUF_INIT;
	const char *spec;
	struct maps *m;

	(void)state;
	spec = table("btree", "bt", "Zeta z\nalpha a\n");
	assert_int_equal(map_build(spec, 0, &err), 0);
	m = open_ok(spec);
	expect(m, "ZETA", "z");
	expect(m, "alpha", "a");
	expect(m, "beta", NULL);
	maps_close(m);
	/* A btree file is no hash file. */
	{
		char hspec[192];
		snprintf(hspec, sizeof(hspec), "hash:%s/bt", dir);
		open_fails(hspec, "cannot open table");
	}
	buf_free(&err);
}

static void
test_unix(void **state)
{
	struct buf v = BUF_INIT, err = BUF_INIT;
	struct maps *m;

	(void)state;
	m = open_ok("unix:passwd.byname, unix:group.byname");
	assert_int_equal(maps_lookup(m, "ROOT", &v, &err), 1);
	assert_true(strncmp(buf_cstr(&v), "root:", 5) == 0);
	assert_non_null(strstr(buf_cstr(&v), ":0:0:"));
	expect(m, "no-such-user-here", NULL);
	maps_close(m);
	m = open_ok("unix:group.byname");
	assert_int_equal(maps_lookup(m, "root", &v, &err), 1);
	assert_true(strncmp(buf_cstr(&v), "root:", 5) == 0);
	maps_close(m);
	open_fails("unix:shadow.byname", "unknown unix table");
	buf_free(&v);
	buf_free(&err);
}

static void
test_clients_config(void **state)
{
	struct maps *m;

	(void)state;
	open_fails("socketmap:inet:127.0.0.1:9:", "missing the map name");
	open_fails("socketmap:inet:127.0.0.1:9", "bad endpoint");
	open_fails("socketmap:tcp:127.0.0.1:9:name", "bad endpoint");
	open_fails("tcp:nohostport", "bad endpoint");
	/* Nobody listening: a lookup error, not a miss. */
	m = open_ok("tcp:127.0.0.1:9");
	expect_error(m, "key", "tcp:127.0.0.1:9: lookup of \"key\"");
	maps_close(m);
	m = open_ok("socketmap:unix:/nonexistent/socket:virtual");
	expect_error(m, "key", "connect to /nonexistent/socket");
	maps_close(m);
}

static void
test_keys_types_and_check(void **state)
{
	struct buf err = BUF_INIT, big = BUF_INIT;
	struct maps *m;

	(void)state;
	/* A key over the limit is an error, so that no access table can be
	 * skipped with a huge key; at the limit it is looked up. */
	m = open_ok("static:x");
	for (int i = 0; i < MAPS_KEY_MAX; i++)
		buf_putc(&big, 'k');
	expect(m, buf_cstr(&big), "x");
	buf_putc(&big, 'k');
	expect_error(m, buf_cstr(&big), "lookup key too long");
	maps_close(m);

	/* Content checks (header_checks) look up whole header fields:
	 * longer keys for the types that take them as they are, never for
	 * one that folds them. */
	{
		struct buf value = BUF_INIT;
		m = open_ok("regexp:{ {/^k+z$/ long} }");
		buf_putc(&big, 'z');
		assert_int_equal(
		    maps_lookup_text(m, buf_cstr(&big), &value, &err), 1);
		assert_string_equal(buf_cstr(&value), "long");
		maps_close(m);
		m = open_ok("inline:{ a=b }");
		assert_int_equal(
		    maps_lookup_text(m, buf_cstr(&big), &value, &err), -1);
		assert_non_null(strstr(buf_cstr(&err), "lookup key too long"));
		maps_close(m);
		buf_free(&value);
	}

	assert_int_equal(maps_check("hash:/a, cidr:/b regexp:/c pcre:/d "
				    "static:x inline:{a=b, c=d} texthash:/e "
				    "btree:/f unix:passwd.byname "
				    "socketmap:unix:/s:n tcp:h:1",
				    &err),
			 0);
	assert_int_equal(maps_check("hash:/a, cdb:/etc/x", &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "cdb:/etc/x: unsupported "
					       "table type \"cdb\""));
	assert_int_equal(maps_check("proxy:hash:/etc/x", &err), 0);
	open_fails("proxy:cdb:/etc/x", "unsupported table type \"cdb\"");
	open_fails("proxy:proxy:hash:/etc/x", "proxy: of proxy:");
	assert_int_equal(maps_check("/etc/aliases", &err), -1);
	assert_int_equal(maps_check("inline:{a=b", &err), -1);
	assert_int_equal(maps_check("hash:", &err), -1);
	open_fails("nis:mail.aliases", "unsupported table type \"nis\"");
	buf_free(&err);
	buf_free(&big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_postmap_format),
	    cmocka_unit_test(test_aliases_format),
	    cmocka_unit_test(test_build_errors),
	    cmocka_unit_test(test_list_order_and_empty),
	    cmocka_unit_test(test_atomic_rebuild_and_changed),
	    cmocka_unit_test(test_owner_and_mode_follow_source),
	    cmocka_unit_test(test_changed_after_the_path_moved),
	    cmocka_unit_test(test_cidr),
	    cmocka_unit_test(test_regexp),
	    cmocka_unit_test(test_regexp_flag_m),
	    cmocka_unit_test(test_pcre),
	    cmocka_unit_test(test_static_and_inline),
	    cmocka_unit_test(test_texthash),
	    cmocka_unit_test(test_watch_file),
	    cmocka_unit_test(test_btree),
	    cmocka_unit_test(test_unix),
	    cmocka_unit_test(test_clients_config),
	    cmocka_unit_test(test_keys_types_and_check),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
