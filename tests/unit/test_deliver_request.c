/*
 * test_deliver_request - lib/deliver_request: a request and a reply
 * round-trip; every range, bound and rule of deliver_request.h refuses
 * what it must (each case changes one attribute of a valid request);
 * ORCPT comes decoded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "attr.h"
#include "buf.h"
#include "deliver_request.h"
#include "xalloc.h"

#define QID "0123456789ABCDEF"

/* A valid request as qmgr writes it, with one attribute replaced (name,
 * value), dropped (value NULL) or added at the end (name not in it). */
static void
request_with(struct attr_list *l, const char *name, const char *value)
{
	static const char *const pairs[][2] = {
	    {"request", "deliver"},
	    {"queue_id", QID},
	    {"transport", "local"},
	    {"nexthop", ""},
	    {"sender", "s@example.org"},
	    {"arrival", "1764355213"},
	    {"arrival_usec", "250000"},
	    {"active", "1764355214.250"},
	    {"size", "1234"},
	    {"flags", "6"},
	    {"envid", ""},
	    {"ret", "2"},
	    {"client_addr", "192.0.2.1"},
	    {"rcpt_index", "3"},
	    {"rcpt", "a@example.org"},
	    {"orcpt", "rfc822;o+2Bx@example.org"},
	    {"notify", "6"},
	};
	int found = 0;

	attr_list_init(l);
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		if (name && strcmp(pairs[i][0], name) == 0) {
			found = 1;
			if (value)
				attr_add_str(l, name, value);
			continue;
		}
		attr_add_str(l, pairs[i][0], pairs[i][1]);
	}
	if (name && !found)
		attr_add_str(l, name, value);
}

static int
decode_with(const char *name, const char *value)
{
	struct attr_list l;
	struct deliver_request req;
	struct buf why = BUF_INIT;
	int rc;

	request_with(&l, name, value);
	memset(&req, 0, sizeof(req));
	rc = deliver_request_decode(&l, &req, &why);
	if (rc < 0)
		assert_true(why.len > 0);
	deliver_request_free(&req);
	attr_list_free(&l);
	buf_free(&why);
	return rc;
}

static void
test_request_valid(void **state)
{
	struct attr_list l, again = ATTR_LIST_INIT;
	struct deliver_request req;
	struct buf why = BUF_INIT, a = BUF_INIT, b = BUF_INIT;

	(void)state;
	request_with(&l, NULL, NULL);
	memset(&req, 0, sizeof(req));
	assert_int_equal(deliver_request_decode(&l, &req, &why), 0);
	assert_string_equal(req.queue_id, QID);
	assert_int_equal(req.arrival, 1764355213LL);
	assert_int_equal(req.active_ms, 1764355214250LL);
	assert_int_equal(req.size, 1234);
	assert_int_equal(req.ret, 2);
	assert_null(req.content);
	assert_int_equal(req.nrcpt, 1);
	assert_int_equal(req.rcpts[0].index, 3);
	assert_string_equal(req.rcpts[0].orcpt, "rfc822;o+2Bx@example.org");
	assert_string_equal(req.rcpts[0].orcpt_addr, "o+x@example.org");
	/* Encoding gives back the very list. */
	deliver_request_encode(&req, &again);
	attr_encode(&l, &a);
	attr_encode(&again, &b);
	assert_string_equal(buf_cstr(&a), buf_cstr(&b));
	deliver_request_free(&req);
	assert_null(req.rcpts);
	attr_list_free(&l);
	attr_list_free(&again);
	buf_free(&why);
	buf_free(&a);
	buf_free(&b);
}

static void
test_request_ranges(void **state)
{
	static const char *const bad[][2] = {
	    {"request", "delivery"},
	    {"queue_id", "0123456789ABCDEI"},
	    {"queue_id", NULL},
	    {"arrival", "-1"},
	    {"arrival", "253402300800"},
	    {"arrival", " 1"},
	    {"arrival", "+1"},
	    {"arrival", "01"},
	    {"arrival", "1e3"},
	    {"arrival", "99999999999999999999999"},
	    {"arrival_usec", "1000000"},
	    {"active", "1.2345"},
	    {"active", "1."},
	    {"active", ".5"},
	    {"active", "nan"},
	    {"size", "-5"},
	    {"size", "1099511627777"},
	    {"flags", "32"}, /* past QUEUE_FLAGS_KNOWN */
	    {"ret", "3"},
	    {"notify", "16"},
	    {"notify", "x"},
	    {"rcpt_index", "50000"},
	    {"rcpt", ""},
	    {"rcpt", "a\r\nb@example.org"},
	    {"orcpt", "rfc822;bad+zz"},
	    {"orcpt", "no-type"},
	    {"sender", "a\nb"},
	    {"content", "queue"},
	    {"unknown", "1"},
	    {"sender", NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (decode_with(bad[i][0], bad[i][1]) != -1)
			fail_msg("accepted %s=%s", bad[i][0],
				 bad[i][1] ? bad[i][1] : "(absent)");
	assert_int_equal(decode_with("active", "1764355214"), 0);
	assert_int_equal(decode_with("active", "1.5"), 0);
	assert_int_equal(decode_with("content", "descriptor"), 0);
	assert_int_equal(decode_with("orcpt", ""), 0);
	assert_int_equal(decode_with("orcpt", "utf-8;\xc3\xa9@example.org"), 0);
	assert_int_equal(decode_with("rcpt_index", "49999"), 0);
}

/* A second recipient group, a repeated single, a group member outside a
 * group, and the recipient bound. */
static void
test_request_groups(void **state)
{
	struct attr_list l;
	struct deliver_request req;
	struct buf why = BUF_INIT;

	(void)state;
	request_with(&l, NULL, NULL);
	attr_add_str(&l, "rcpt_index", "4");
	attr_add_str(&l, "rcpt", "b@example.org");
	attr_add_str(&l, "orcpt", "");
	attr_add_str(&l, "notify", "0");
	memset(&req, 0, sizeof(req));
	assert_int_equal(deliver_request_decode(&l, &req, &why), 0);
	assert_int_equal(req.nrcpt, 2);
	assert_string_equal(req.rcpts[1].address, "b@example.org");
	assert_string_equal(req.rcpts[1].orcpt_addr, "");
	deliver_request_free(&req);
	/* A member twice in one group. */
	attr_add_str(&l, "rcpt", "c@example.org");
	memset(&req, 0, sizeof(req));
	assert_int_equal(deliver_request_decode(&l, &req, &why), -1);
	deliver_request_free(&req);
	attr_list_free(&l);
	/* A group without its address. */
	assert_int_equal(decode_with("rcpt", NULL), -1);
	/* A single after the groups, then a group again: interrupted. */
	request_with(&l, NULL, NULL);
	attr_add_str(&l, "content", "descriptor");
	attr_add_str(&l, "rcpt_index", "4");
	attr_add_str(&l, "rcpt", "b@example.org");
	attr_add_str(&l, "orcpt", "");
	attr_add_str(&l, "notify", "0");
	memset(&req, 0, sizeof(req));
	assert_int_equal(deliver_request_decode(&l, &req, &why), -1);
	assert_non_null(strstr(buf_cstr(&why), "interrupted"));
	deliver_request_free(&req);
	attr_list_free(&l);
	/* No recipient at all: the envelope part alone. */
	{
		struct attr_list full, head = ATTR_LIST_INIT;

		request_with(&full, NULL, NULL);
		for (size_t i = 0; strcmp(full.items[i].name, "rcpt_index");
		     i++)
			attr_add(&head, full.items[i].name, full.items[i].value,
				 full.items[i].len);
		memset(&req, 0, sizeof(req));
		assert_int_equal(deliver_request_decode(&head, &req, &why), -1);
		assert_non_null(strstr(buf_cstr(&why), "too few"));
		deliver_request_free(&req);
		attr_list_free(&full);
		attr_list_free(&head);
	}
	buf_free(&why);
}

static void
test_request_too_many(void **state)
{
	struct attr_list l;
	struct deliver_request req;
	struct buf why = BUF_INIT;
	char num[16];

	(void)state;
	request_with(&l, NULL, NULL);
	for (int i = 0; i < DELIVER_RCPT_MAX; i++) {
		snprintf(num, sizeof(num), "%d", i + 10);
		attr_add_str(&l, "rcpt_index", num);
		attr_add_str(&l, "rcpt", "b@example.org");
		attr_add_str(&l, "orcpt", "");
		attr_add_str(&l, "notify", "0");
	}
	memset(&req, 0, sizeof(req));
	assert_int_equal(deliver_request_decode(&l, &req, &why), -1);
	assert_non_null(strstr(buf_cstr(&why), "too many"));
	deliver_request_free(&req);
	attr_list_free(&l);
	buf_free(&why);
}

static int
reply_decode_list(const struct attr_list *l, struct deliver_reply *out)
{
	struct buf why = BUF_INIT;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = deliver_reply_decode(l, out, &why);
	buf_free(&why);
	return rc;
}

static void
test_reply_round_trip(void **state)
{
	struct deliver_reply r, d;
	struct deliver_status *st;
	struct deliver_forward *fw;
	struct attr_list l = ATTR_LIST_INIT;

	(void)state;
	memset(&r, 0, sizeof(r));
	st = deliver_reply_add(&r, 3, 2, "2.0.0", "delivered", "local", "");
	fw = deliver_status_forward(st, "");
	deliver_forward_add(fw, "x@elsewhere.example");
	deliver_forward_add(fw, "y@elsewhere.example");
	fw = deliver_status_forward(st, "owner-list@example.org");
	deliver_forward_add(fw, "z@elsewhere.example");
	deliver_reply_add(&r, 4, 5, "5.1.1", "no such user", "local", "");
	deliver_reply_finish(&r, NULL);
	deliver_reply_encode(&r, &l);
	assert_int_equal(reply_decode_list(&l, &d), 0);
	assert_string_equal(d.status, "done");
	assert_null(d.reason);
	assert_int_equal(d.nrcpt, 2);
	assert_int_equal(d.rcpts[0].nforward, 2);
	assert_string_equal(d.rcpts[0].forwards[0].sender, "");
	assert_int_equal(d.rcpts[0].forwards[0].nrcpt, 2);
	assert_string_equal(d.rcpts[0].forwards[1].rcpts[0],
			    "z@elsewhere.example");
	assert_int_equal(d.rcpts[1].cls, 5);
	assert_int_equal(d.rcpts[1].nforward, 0);
	deliver_reply_free(&d);
	attr_list_free(&l);
	/* fail drops the statuses and carries the reason. */
	deliver_reply_finish(&r, "cannot work");
	deliver_reply_encode(&r, &l);
	assert_int_equal(l.count, 2);
	assert_int_equal(reply_decode_list(&l, &d), 0);
	assert_string_equal(d.reason, "cannot work");
	deliver_reply_free(&d);
	deliver_reply_free(&r);
	attr_list_free(&l);
}

/* One status group with one change, then status=done. */
static int
reply_with(const char *cls, int forward, int forward_rcpt, const char *status,
	   const char *reason)
{
	struct attr_list l = ATTR_LIST_INIT;
	struct deliver_reply d;
	int rc;

	attr_add_str(&l, "rcpt_index", "0");
	attr_add_str(&l, "class", cls);
	attr_add_str(&l, "dsn", "2.0.0");
	attr_add_str(&l, "text", "t");
	attr_add_str(&l, "relay", "local");
	attr_add_str(&l, "remote_mta", "");
	if (forward)
		attr_add_str(&l, "forward", "");
	if (forward_rcpt)
		attr_add_str(&l, "forward_rcpt", "a@example.org");
	if (status)
		attr_add_str(&l, "status", status);
	if (reason)
		attr_add_str(&l, "reason", reason);
	rc = reply_decode_list(&l, &d);
	deliver_reply_free(&d);
	attr_list_free(&l);
	return rc;
}

static void
test_reply_rules(void **state)
{
	(void)state;
	assert_int_equal(reply_with("2", 1, 1, "done", NULL), 0);
	assert_int_equal(reply_with("3", 0, 0, "done", NULL), -1);
	assert_int_equal(reply_with("6", 0, 0, "done", NULL), -1);
	assert_int_equal(reply_with("4", 1, 1, "done", NULL), -1);
	assert_int_equal(reply_with("2", 1, 0, "done", NULL), -1);
	assert_int_equal(reply_with("2", 0, 1, "done", NULL), -1);
	assert_int_equal(reply_with("2", 0, 0, NULL, NULL), -1);
	assert_int_equal(reply_with("2", 0, 0, "gone", NULL), -1);
	assert_int_equal(reply_with("2", 0, 0, "done", "why"), -1);
	assert_int_equal(reply_with("2", 0, 0, "fail", NULL), -1);
	assert_int_equal(reply_with("2", 0, 0, "fail", "why"), 0);
}

/* Groups plus addresses over the whole reply are bounded together. */
static void
test_reply_forward_bound(void **state)
{
	struct deliver_reply r, d;
	struct deliver_status *st;
	struct attr_list l = ATTR_LIST_INIT;

	(void)state;
	memset(&r, 0, sizeof(r));
	for (int k = 0; k < 2; k++) {
		st = deliver_reply_add(&r, k, 2, "2.0.0", "", "local", "");
		for (int g = 0; g < DELIVER_FORWARD_MAX / 4; g++)
			deliver_forward_add(deliver_status_forward(st, ""),
					    "a@example.org");
	}
	deliver_reply_finish(&r, NULL);
	deliver_reply_encode(&r, &l);
	assert_int_equal(reply_decode_list(&l, &d), 0);
	deliver_reply_free(&d);
	attr_list_free(&l);
	deliver_forward_add(&r.rcpts[1].forwards[0], "b@example.org");
	deliver_reply_encode(&r, &l);
	assert_int_equal(reply_decode_list(&l, &d), -1);
	deliver_reply_free(&d);
	attr_list_free(&l);
	deliver_reply_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_valid),
	    cmocka_unit_test(test_request_ranges),
	    cmocka_unit_test(test_request_groups),
	    cmocka_unit_test(test_request_too_many),
	    cmocka_unit_test(test_reply_round_trip),
	    cmocka_unit_test(test_reply_rules),
	    cmocka_unit_test(test_reply_forward_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
