/*
 * test_showq - lib/showq's records: each type round-trips (the denied
 * record too), long fields are cut to fit, and a record that breaks its
 * table is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "attr.h"
#include "buf.h"
#include "showq.h"
#include "xalloc.h"

static void
test_round_trip(void **state)
{
	struct showq_record m, r, e, d;
	struct buf out = BUF_INIT, why = BUF_INIT;
	char *long_reason = xmalloc(SHOWQ_FIELD_MAX + 100);
	size_t used, off = 0;

	(void)state;
	memset(long_reason, 'x', SHOWQ_FIELD_MAX + 99);
	long_reason[SHOWQ_FIELD_MAX + 99] = '\0';
	memset(&m, 0, sizeof(m));
	m.type = SHOWQ_MESSAGE;
	m.queue_name = (char *)"deferred";
	m.queue_id = (char *)"0123456789ABCDEF";
	m.arrival_time = 1764355213;
	m.message_size = 1234;
	m.sender = (char *)"MAILER-DAEMON";
	memset(&r, 0, sizeof(r));
	r.type = SHOWQ_RCPT;
	r.address = (char *)"a@example.org";
	r.reason = long_reason;
	memset(&e, 0, sizeof(e));
	e.type = SHOWQ_END;
	e.count = 1;
	showq_record_encode(&m, &out);
	showq_record_encode(&r, &out);
	showq_record_encode(&e, &out);
	assert_int_equal(
	    showq_record_decode(out.data, out.len, &d, &used, &why), 0);
	assert_int_equal(d.type, SHOWQ_MESSAGE);
	assert_string_equal(d.queue_id, "0123456789ABCDEF");
	assert_int_equal(d.message_size, 1234);
	showq_record_free(&d);
	off += used;
	assert_int_equal(
	    showq_record_decode(out.data + off, out.len - off, &d, &used, &why),
	    0);
	assert_int_equal(d.type, SHOWQ_RCPT);
	assert_int_equal(strlen(d.reason), SHOWQ_FIELD_MAX);
	showq_record_free(&d);
	off += used;
	/* A prefix asks for more. */
	assert_int_equal(
	    showq_record_decode(out.data + off, 3, &d, &used, &why), 1);
	showq_record_free(&d);
	assert_int_equal(
	    showq_record_decode(out.data + off, out.len - off, &d, &used, &why),
	    0);
	assert_int_equal(d.type, SHOWQ_END);
	assert_int_equal(d.count, 1);
	showq_record_free(&d);
	assert_int_equal(off + used, out.len);
	xfree(long_reason);
	buf_free(&out);
	buf_free(&why);
}

static void
test_denied(void **state)
{
	struct showq_record r, d;
	struct buf out = BUF_INIT, why = BUF_INIT;
	size_t used;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.type = SHOWQ_DENIED;
	r.uid = 4294967294LL;
	r.user = (char *)"unknown";
	showq_record_encode(&r, &out);
	assert_int_equal(
	    showq_record_decode(out.data, out.len, &d, &used, &why), 0);
	assert_int_equal(used, out.len);
	assert_int_equal(d.type, SHOWQ_DENIED);
	assert_int_equal(d.uid, 4294967294LL);
	assert_string_equal(d.user, "unknown");
	showq_record_free(&d);
	buf_free(&out);
	buf_free(&why);
}

/* pairs: name, value, ..., NULL */
static int
decode_pairs(const char *const *pairs)
{
	struct attr_list l = ATTR_LIST_INIT;
	struct buf out = BUF_INIT, why = BUF_INIT;
	struct showq_record d;
	size_t used;
	int rc;

	for (; pairs[0]; pairs += 2)
		attr_add_str(&l, pairs[0], pairs[1]);
	attr_encode(&l, &out);
	rc = showq_record_decode(out.data, out.len, &d, &used, &why);
	if (rc < 0)
		assert_true(why.len > 0);
	showq_record_free(&d);
	attr_list_free(&l);
	buf_free(&out);
	buf_free(&why);
	return rc;
}

#define MSG(q, id, t, sz, fe)                                                  \
	"type", "message", "queue_name", (q), "queue_id", (id),                \
	    "arrival_time", (t), "message_size", (sz), "force_expired", (fe),  \
	    "sender", "s@example.org"

static void
test_refused(void **state)
{
	static const char *const ok[] = {MSG("hold", "0123ABC", "1", "2", "0"),
					 NULL};
	static const char *const bad[][18] = {
	    {MSG("held", "0123ABC", "1", "2", "0"), NULL},
	    {MSG("hold", "0123abc", "1", "2", "0"), NULL},
	    {MSG("hold", "", "1", "2", "0"), NULL},
	    {MSG("hold", "0123ABC", "-1", "2", "0"), NULL},
	    {MSG("hold", "0123ABC", "1", "x", "0"), NULL},
	    {MSG("hold", "0123ABC", "1", "2", "2"), NULL},
	    {MSG("hold", "0123ABC", "1", "2", "0"), "sender", "t@example.org",
	     NULL},
	    {MSG("hold", "0123ABC", "1", "2", "0"), "extra", "1", NULL},
	    {"type", "rcpt", "address", "a@b", NULL},
	    {"type", "end", NULL},
	    {"type", "end", "count", "-3", NULL},
	    {"type", "begin", NULL},
	    {"count", "1", NULL},
	    {"type", "denied", "uid", "1001", NULL},
	    {"type", "denied", "uid", "-1", "user", "bob", NULL},
	    {"type", "denied", "uid", "1001", "user", "", NULL},
	};
	static const char *const denied[] = {"type", "denied", "uid", "1001",
					     "user", "bob",    NULL};

	(void)state;
	assert_int_equal(decode_pairs(ok), 0);
	assert_int_equal(decode_pairs(denied), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (decode_pairs(bad[i]) != -1)
			fail_msg("accepted case %zu", i);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_denied),
	    cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
