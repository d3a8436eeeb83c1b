/*
 * test_attr_scan - lib/attr_scan: the integer and time syntax at their
 * edges, required and optional rows, repeated strings and nested groups
 * (their starts, ends, bounds and interruptions), and attr_print giving
 * back what attr_scan read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <string.h>

#include "attr.h"
#include "attr_scan.h"
#include "buf.h"

static void
test_int_syntax(void **state)
{
	long long v;

	(void)state;
	assert_int_equal(attr_scan_int("0", 1, 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(attr_scan_int("-7", 2, -10, 10, &v), 0);
	assert_int_equal(v, -7);
	assert_int_equal(
	    attr_scan_int("9223372036854775807", 19, 0, LLONG_MAX, &v), 0);
	assert_int_equal(v, LLONG_MAX);
	assert_int_equal(
	    attr_scan_int("-9223372036854775808", 20, LLONG_MIN, 0, &v), 0);
	assert_true(v == LLONG_MIN);
	assert_int_equal(
	    attr_scan_int("9223372036854775808", 19, 0, LLONG_MAX, &v), -1);
	assert_int_equal(
	    attr_scan_int("-9223372036854775809", 20, LLONG_MIN, 0, &v), -1);
	assert_int_equal(attr_scan_int("", 0, 0, 10, &v), -1);
	assert_int_equal(attr_scan_int("-", 1, -10, 10, &v), -1);
	assert_int_equal(attr_scan_int("-0", 2, -10, 10, &v), -1);
	assert_int_equal(attr_scan_int("007", 3, 0, 10, &v), -1);
	assert_int_equal(attr_scan_int("+7", 2, 0, 10, &v), -1);
	assert_int_equal(attr_scan_int(" 7", 2, 0, 10, &v), -1);
	assert_int_equal(attr_scan_int("7 ", 2, 0, 10, &v), -1);
	assert_int_equal(attr_scan_int("11", 2, 0, 10, &v), -1);
	assert_int_equal(attr_scan_int("-11", 3, -10, 10, &v), -1);
}

struct item {
	long long id;
	char **tags;
	size_t ntag;
	struct sub {
		char *key;
		long long n;
	} * subs;
	size_t nsub;
};

struct doc {
	char *name;
	long long when_ms;
	char *note;
	struct item *items;
	size_t nitem;
};

static const struct attr_scan_spec sub_spec[] = {
    ATTR_SCAN_ROW_STR("sub", ATTR_SCAN_REQUIRED | ATTR_SCAN_LINE, 1, 8,
		      struct sub, key),
    ATTR_SCAN_ROW_INT("n", 0, 0, 9, struct sub, n),
    ATTR_SCAN_END,
};

static const struct attr_scan_spec item_spec[] = {
    ATTR_SCAN_ROW_INT("item", ATTR_SCAN_REQUIRED, 0, 99, struct item, id),
    ATTR_SCAN_ROW_STRS("tag", 0, 0, 4, 0, 2, struct item, tags, ntag),
    ATTR_SCAN_ROW_GROUP("sub", 0, 2, struct item, subs, nsub, struct sub,
			sub_spec),
    ATTR_SCAN_END,
};

static const struct attr_scan_spec doc_spec[] = {
    ATTR_SCAN_ROW_STR("name", ATTR_SCAN_REQUIRED, 0, 16, struct doc, name),
    ATTR_SCAN_ROW_MSEC("when", ATTR_SCAN_REQUIRED, 0, 100000000, struct doc,
		       when_ms),
    ATTR_SCAN_ROW_STR("note", 0, 0, 16, struct doc, note),
    ATTR_SCAN_ROW_GROUP("item", 1, 3, struct doc, items, nitem, struct item,
			item_spec),
    ATTR_SCAN_END,
};

/* pairs "name=value" ... NULL; 0 or -1 from attr_scan, doc filled. */
static int
scan(const char *const *pairs, struct doc *d)
{
	struct attr_list l = ATTR_LIST_INIT;
	struct buf why = BUF_INIT;
	int rc;

	for (; *pairs; pairs++) {
		const char *eq = strchr(*pairs, '=');
		char name[32];

		memcpy(name, *pairs, (size_t)(eq - *pairs));
		name[eq - *pairs] = '\0';
		attr_add_str(&l, name, eq + 1);
	}
	memset(d, 0, sizeof(*d));
	rc = attr_scan(&l, doc_spec, d, &why);
	if (rc < 0)
		assert_true(why.len > 0);
	attr_list_free(&l);
	buf_free(&why);
	return rc;
}

static void
test_nested(void **state)
{
	static const char *const good[] = {
	    "name=x", "when=12.5", "item=1", "tag=a",	   "tag=b", "sub=k",
	    "n=3",    "sub=l",	   "item=2", "note=later", NULL};
	struct attr_list l = ATTR_LIST_INIT, again = ATTR_LIST_INIT;
	struct buf why = BUF_INIT;
	struct doc d, d2;

	(void)state;
	assert_int_equal(scan(good, &d), 0);
	assert_string_equal(d.name, "x");
	assert_int_equal(d.when_ms, 12500);
	assert_string_equal(d.note, "later");
	assert_int_equal(d.nitem, 2);
	assert_int_equal(d.items[0].ntag, 2);
	assert_int_equal(d.items[0].nsub, 2);
	assert_int_equal(d.items[0].subs[0].n, 3);
	assert_int_equal(d.items[0].subs[1].n, 0); /* optional, absent */
	assert_int_equal(d.items[1].id, 2);
	assert_int_equal(d.items[1].nsub, 0);
	/* attr_print writes the table's order; scanning it gives the same. */
	attr_print(&l, doc_spec, &d);
	memset(&d2, 0, sizeof(d2));
	assert_int_equal(attr_scan(&l, doc_spec, &d2, &why), 0);
	attr_print(&again, doc_spec, &d2);
	assert_int_equal(l.count, again.count);
	for (size_t i = 0; i < l.count; i++) {
		assert_string_equal(l.items[i].name, again.items[i].name);
		assert_string_equal(l.items[i].value, again.items[i].value);
	}
	assert_string_equal(l.items[1].value, "12.500");
	attr_scan_free(doc_spec, &d);
	attr_scan_free(doc_spec, &d2);
	assert_null(d.items);
	assert_int_equal(d.nitem, 0);
	attr_list_free(&l);
	attr_list_free(&again);
	buf_free(&why);
}

static void
test_refusals(void **state)
{
	static const char *const bad[][12] = {
	    {"when=1", "item=1", NULL},			    /* no name */
	    {"name=x", "item=1", NULL},			    /* no when */
	    {"name=x", "when=1", NULL},			    /* no item */
	    {"name=x", "name=y", "when=1", "item=1", NULL}, /* repeated */
	    {"name=x", "when=1", "item=1", "bogus=1", NULL},
	    {"name=x", "when=1.2345", "item=1", NULL},
	    {"name=x", "when=-1", "item=1", NULL},
	    {"name=x", "when=100000.001", "item=1", NULL}, /* over max */
	    {"name=x", "when=1", "item=100", NULL},
	    {"name=x", "when=1", "tag=a", "item=1", NULL}, /* member outside */
	    {"name=x", "when=1", "item=1", "tag=a", "tag=b", "tag=c", NULL},
	    {"name=x", "when=1", "item=1", "tag=abcde", NULL},
	    {"name=x", "when=1", "item=1", "tag=a", "sub=k", "tag=b", NULL},
	    {"name=x", "when=1", "item=1", "sub=k", "sub=l", "sub=m", NULL},
	    {"name=x", "when=1", "item=1", "sub=", NULL},
	    {"name=x", "when=1", "item=1", "sub=a\nb", NULL},
	    {"name=x", "when=1", "item=1", "sub=k", "n=1", "n=2", NULL},
	    {"name=x", "when=1", "item=1", "note=x", "item=2", NULL},
	    {"name=x", "when=1", "item=1", "item=2", "item=3", "item=4", NULL},
	};
	struct doc d;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (scan(bad[i], &d) != -1)
			fail_msg("accepted case %zu", i);
		attr_scan_free(doc_spec, &d);
	}
}

/* A value with a NUL is never a string. */
static void
test_nul(void **state)
{
	struct attr_list l = ATTR_LIST_INIT;
	struct buf why = BUF_INIT;
	struct doc d;

	(void)state;
	attr_add(&l, "name", "a\0b", 3);
	attr_add_str(&l, "when", "1");
	attr_add_str(&l, "item", "1");
	memset(&d, 0, sizeof(d));
	assert_int_equal(attr_scan(&l, doc_spec, &d, &why), -1);
	attr_scan_free(doc_spec, &d);
	attr_list_free(&l);
	buf_free(&why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_int_syntax),
	    cmocka_unit_test(test_nested),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_nul),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
