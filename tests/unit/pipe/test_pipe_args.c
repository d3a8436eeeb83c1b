/*
 * test_pipe_args - pipe(8)'s attributes, argv= macros and the message
 * its command reads (pipe/pipe_args.c, pipe/pipe_message.c), and the
 * exit status mapping of lib/mail/pipe_command.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "pipe.h"
#include "pipe_command.h"
#include "strutil.h"

static int
parse(const char *line, struct pipe_attrs *a, struct buf *err)
{
	int n = 0;
	char **w = str_split(line, " ", &n);
	int rc;

	buf_reset(err);
	rc = pipe_attrs_parse(w, (size_t)n, a, err);
	str_list_free(w);
	return rc;
}

static void
test_attributes(void **state)
{
	struct pipe_attrs a;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(parse("flags=BDFORXhqu.> user=vmail:mail size=100 "
			       "eol=\\r\\n null_sender= directory=/tmp "
			       "argv=/bin/cmd -x ${recipient}",
			       &a, &err),
			 0);
	assert_int_equal(a.flags, 0x7ff);
	assert_string_equal(a.user, "vmail");
	assert_string_equal(a.group, "mail");
	assert_int_equal(a.size_limit, 100);
	assert_string_equal(a.eol, "\r\n");
	assert_string_equal(a.null_sender, "");
	assert_string_equal(a.directory, "/tmp");
	assert_int_equal(a.argc, 3);
	assert_string_equal(a.argv[0], "/bin/cmd");
	assert_string_equal(a.argv[2], "${recipient}");
	pipe_attrs_free(&a);

	/* Defaults. */
	assert_int_equal(parse("user=u argv=/bin/true", &a, &err), 0);
	assert_string_equal(a.eol, "\n");
	assert_string_equal(a.null_sender, "MAILER-DAEMON");
	assert_null(a.directory);
	pipe_attrs_free(&a);

	/* Refusals, each with its reason. */
	static const char *const bad[] = {
	    "flags=Z user=u argv=/bin/true",
	    "argv=/bin/true",
	    "user=u",
	    "user=u argv=",
	    "user=u chroot=/x argv=/bin/true",
	    "user=u what=1 argv=/bin/true",
	    "user=u size=x argv=/bin/true",
	    "user=u eol=\\q argv=/bin/true",
	    "user=u argv=/bin/echo ${nosuch}",
	    "user=u argv=/bin/echo ${recipient",
	    "user=: argv=/bin/true",
	    "nonsense user=u argv=/bin/true",
	    NULL,
	};
	for (const char *const *b = bad; *b; b++) {
		assert_int_equal(parse(*b, &a, &err), -1);
		assert_true(err.len > 0);
		pipe_attrs_free(&a);
	}
	buf_free(&err);
}

static void
test_macros(void **state)
{
	struct pipe_attrs a;
	struct buf err = BUF_INIT;
	const struct pipe_rcpt r[] = {
	    {"Joe+Ext@Example.COM", "orig@Example.COM"},
	    {"a b@x.test", ""},
	};
	struct pipe_macros m = {
	    .sender = "",
	    .nexthop = "Hop.Test",
	    .queue_id = "Q1",
	    .client_address = "192.0.2.1",
	    .size = 42,
	    .delimiter = "+",
	    .rcpts = r,
	    .nrcpt = 2,
	};
	char **v;

	(void)state;
	assert_int_equal(
	    parse("flags=hqu user=u argv=/c -f $sender -- ${recipient} "
		  "$(nexthop) ${user}/${extension} ${mailbox} ${domain} "
		  "${original_recipient} ${queue_id} ${size} "
		  "${client_address}[${client_helo}] $$5",
		  &a, &err),
	    0);
	assert_int_equal(pipe_argv_expand(&a, &m, &v, &err), 0);
	const char *const want[] = {"/c",
				    "-f",
				    "MAILER-DAEMON",
				    "--",
				    "joe+ext@example.com",
				    "\"a b\"@x.test",
				    "hop.test",
				    "joe/ext",
				    "a b/",
				    "joe+ext",
				    "a b",
				    "example.com",
				    "x.test",
				    "orig@example.com",
				    "\"a b\"@x.test",
				    "Q1",
				    "42",
				    "192.0.2.1[]",
				    "$5",
				    NULL};
	for (size_t i = 0; want[i]; i++) {
		assert_non_null(v[i]);
		assert_string_equal(v[i], want[i]);
	}
	assert_null(v[sizeof(want) / sizeof(want[0]) - 1]);
	pipe_argv_free(v);
	pipe_attrs_free(&a);

	/* Without flags nothing is folded or quoted; an empty null_sender
	 * gives an empty argument. */
	assert_int_equal(parse("null_sender= user=u argv=/c ${sender} "
			       "${recipient}",
			       &a, &err),
			 0);
	m.nrcpt = 1;
	assert_int_equal(pipe_argv_expand(&a, &m, &v, &err), 0);
	assert_string_equal(v[1], "");
	assert_string_equal(v[2], "Joe+Ext@Example.COM");
	assert_null(v[3]);
	pipe_argv_free(v);
	pipe_attrs_free(&a);
	buf_free(&err);
}

static void
test_message(void **state)
{
	struct pipe_attrs a;
	struct buf err = BUF_INIT, out = BUF_INIT;
	const struct pipe_rcpt r = {"to@x.test", "orig@x.test"};
	const char content[] = "Subject: s\r\n\r\n.dot\r\nFrom me\r\nend\r\n";

	(void)state;
	assert_int_equal(
	    parse("flags=DORB.> eol=\\r\\n user=u argv=/c", &a, &err), 0);
	pipe_message(&a, "s@x.test", &r, content, strlen(content), &out);
	assert_string_equal(buf_cstr(&out), "Return-Path: <s@x.test>\r\n"
					    "X-Original-To: orig@x.test\r\n"
					    "Delivered-To: to@x.test\r\n"
					    "Subject: s\r\n\r\n..dot\r\n"
					    ">From me\r\nend\r\n\r\n");
	pipe_attrs_free(&a);
	buf_reset(&out);
	assert_int_equal(parse("flags=F user=u argv=/c", &a, &err), 0);
	pipe_message(&a, "", NULL, content, strlen(content), &out);
	assert_true(strncmp(buf_cstr(&out), "From MAILER-DAEMON ", 19) == 0);
	assert_non_null(strstr(buf_cstr(&out), "\n.dot\nFrom me\nend\n"));
	pipe_attrs_free(&a);
	buf_free(&out);
	buf_free(&err);
}

static void
test_exit_codes(void **state)
{
	char dsn[16];

	(void)state;
	assert_int_equal(pipe_command_exit_dsn(75, dsn), 4);
	assert_string_equal(dsn, "4.3.0");
	assert_int_equal(pipe_command_exit_dsn(71, dsn), 4);
	assert_int_equal(pipe_command_exit_dsn(67, dsn), 5);
	assert_string_equal(dsn, "5.1.1");
	assert_int_equal(pipe_command_exit_dsn(77, dsn), 5);
	assert_string_equal(dsn, "5.7.0");
	assert_int_equal(pipe_command_exit_dsn(1, dsn), 5);
	assert_string_equal(dsn, "5.3.0");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_attributes),
	    cmocka_unit_test(test_macros),
	    cmocka_unit_test(test_message),
	    cmocka_unit_test(test_exit_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
