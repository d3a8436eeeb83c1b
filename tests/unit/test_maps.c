/*
 * test_maps - hash: tables built from postmap and aliases text files,
 * looked up, rebuilt atomically under an open reader, and noticed as
 * changed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "maps.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/test_maps.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Writes DIR/name and returns "hash:DIR/name". */
static const char *
write_source(const char *name, const char *text)
{
	static char spec[160];
	char path[128];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	snprintf(spec, sizeof(spec), "hash:%s", path);
	return spec;
}

static void
expect(struct maps *m, const char *key, const char *want)
{
	struct buf v = BUF_INIT, err = BUF_INIT;
	int r = maps_lookup(m, key, &v, &err);

	if (want == NULL) {
		assert_int_equal(r, 0);
	} else {
		assert_int_equal(r, 1);
		assert_string_equal(buf_cstr(&v), want);
	}
	buf_free(&v);
	buf_free(&err);
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
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
