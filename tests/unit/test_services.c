/*
 * test_services - unit tests of lib/services.c: the DESIGN.md example
 * table, defaults for '-', wakeup, continuation and comments, change
 * detection, every error message with its file:line, and reading a real
 * file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "services.h"
#include "unit_helpers.h"
#include "xalloc.h"

#define DEFAULT_MAXPROC 100

/* The table of DESIGN.md "Configuration", as it is written there. */
static const char design_table[] =
    "# service   type  private unpriv chroot wakeup maxproc command + args\n"
    "smtp        inet  n       -      y      -      100     smtpd\n"
    "submission  inet  n       -      y      -      -       smtpd -o "
    "smtpd_sasl_auth_enable=yes\n"
    "pop3        inet  n       -      y      -      -       pop3d\n"
    "qmgr        unix  n       -      y      300    1       qmgr\n"
    "local       unix  -       n      n      -      -       local\n"
    "smtp        unix  -       -      y      -      -       smtp\n"
    "submit      unix  n       -      y      -      -       smtpd -o "
    "smtpd_local_submission=yes\n";

static struct buf err;

static void
parse_ok(const char *text, struct service_table *t)
{
	if (services_parse("services", text, DEFAULT_MAXPROC, t, &err) != 0)
		fail_msg("unexpected error: %s", buf_cstr(&err));
}

/* The error of parsing text, which must fail and keep nothing. */
static const char *
parse_error(const char *text)
{
	struct service_table t = {(void *)1, 99};

	assert_int_equal(
	    services_parse("services", text, DEFAULT_MAXPROC, &t, &err), -1);
	assert_null(t.items);
	assert_int_equal(t.count, 0);
	return buf_cstr(&err);
}

static void
test_design_table(void **state)
{
	struct service_table t;
	const struct service_def *d;

	(void)state;
	parse_ok(design_table, &t);
	assert_int_equal(t.count, 7);

	d = services_find(&t, "smtp", SERVICE_INET);
	assert_ptr_equal(d, &t.items[0]);
	assert_string_equal(d->name, "smtp");
	assert_int_equal(d->type, SERVICE_INET);
	assert_false(d->is_private);
	assert_true(d->unpriv);
	assert_true(d->chroot);
	assert_int_equal(d->wakeup, 0);
	assert_false(d->wakeup_if_used);
	assert_int_equal(d->maxproc, 100);
	assert_int_equal(d->argc, 1);
	assert_string_equal(d->argv[0], "smtpd");
	assert_null(d->argv[1]);
	assert_int_equal(d->lineno, 2);
	assert_string_equal(d->text, "smtp inet n - y - 100 smtpd");

	d = services_find(&t, "submission", SERVICE_INET);
	assert_non_null(d);
	assert_int_equal(d->maxproc, DEFAULT_MAXPROC);
	assert_int_equal(d->argc, 3);
	assert_string_equal(d->argv[0], "smtpd");
	assert_string_equal(d->argv[1], "-o");
	assert_string_equal(d->argv[2], "smtpd_sasl_auth_enable=yes");
	assert_null(d->argv[3]);
	assert_string_equal(
	    d->text,
	    "submission inet n - y - - smtpd -o smtpd_sasl_auth_enable=yes");

	d = services_find(&t, "qmgr", SERVICE_UNIX);
	assert_non_null(d);
	assert_false(d->is_private);
	assert_int_equal(d->wakeup, 300);
	assert_false(d->wakeup_if_used);
	assert_int_equal(d->maxproc, 1);
	assert_int_equal(d->lineno, 5);

	d = services_find(&t, "local", SERVICE_UNIX);
	assert_non_null(d);
	assert_true(d->is_private);
	assert_false(d->unpriv);
	assert_false(d->chroot);
	assert_int_equal(d->maxproc, DEFAULT_MAXPROC);

	/* The same name with another type is another service. */
	d = services_find(&t, "smtp", SERVICE_UNIX);
	assert_ptr_equal(d, &t.items[5]);
	assert_string_equal(d->argv[0], "smtp");
	assert_true(d->is_private);

	assert_non_null(services_find(&t, "pop3", SERVICE_INET));
	assert_non_null(services_find(&t, "submit", SERVICE_UNIX));
	assert_null(services_find(&t, "submit", SERVICE_INET));
	assert_null(services_find(&t, "nothing", SERVICE_UNIX));
	services_free(&t);
	assert_null(t.items);
	assert_int_equal(t.count, 0);
}

static void
test_empty_and_comments(void **state)
{
	struct service_table t;

	(void)state;
	parse_ok("", &t);
	assert_int_equal(t.count, 0);
	services_free(&t);
	parse_ok("# only\n\n   \n\t# indented comment\n", &t);
	assert_int_equal(t.count, 0);
	services_free(&t);
}

static void
test_continuation(void **state)
{
	struct service_table t;
	const struct service_def *d;

	(void)state;
	parse_ok("# c\n"
		 "2525 inet n - n - 4 smtpd\n"
		 "   -o smtpd_banner=hi\n"
		 "# a comment inside\n"
		 "\t-o\n"
		 "  max_use=5\n"
		 "cleanup unix n - n - 0 /usr/local/bin/cleanup  a\tb\r\n",
		 &t);
	assert_int_equal(t.count, 2);
	d = &t.items[0];
	assert_int_equal(d->lineno, 2);
	assert_int_equal(d->argc, 5);
	assert_string_equal(d->argv[2], "smtpd_banner=hi");
	assert_string_equal(d->argv[4], "max_use=5");
	assert_string_equal(d->text,
			    "2525 inet n - n - 4 smtpd -o smtpd_banner=hi -o "
			    "max_use=5");
	d = &t.items[1];
	assert_int_equal(d->lineno, 7);
	assert_int_equal(d->maxproc, 0);
	assert_string_equal(d->argv[0], "/usr/local/bin/cleanup");
	assert_int_equal(d->argc, 3);
	assert_string_equal(d->argv[2], "b");
	assert_string_equal(
	    d->text, "cleanup unix n - n - 0 /usr/local/bin/cleanup a b");
	services_free(&t);
}

static void
test_wakeup(void **state)
{
	struct service_table t;

	(void)state;
	parse_ok("a unix - - - 60? 1 x\n"
		 "b unix - - - 0 1 x\n"
		 "c unix - - - 31622400 1 x\n",
		 &t);
	assert_int_equal(t.items[0].wakeup, 60);
	assert_true(t.items[0].wakeup_if_used);
	assert_int_equal(t.items[1].wakeup, 0);
	assert_false(t.items[1].wakeup_if_used);
	assert_int_equal(t.items[2].wakeup, 31622400);
	services_free(&t);
}

static void
test_inet_names(void **state)
{
	struct service_table t;

	(void)state;
	parse_ok("25 inet - - - - - smtpd\n"
		 "65535 inet - - - - - smtpd\n"
		 "127.0.0.1:2525 inet - - - - - smtpd\n"
		 "localhost:submission inet - - - - - smtpd\n"
		 "*:110 inet - - - - - pop3d\n"
		 "[::1]:2587 inet - - - - - smtpd\n"
		 "[::ffff:127.0.0.1]:26 inet - - - - - smtpd\n"
		 "mail-in.example:smtps inet - - - - - smtpd\n",
		 &t);
	assert_int_equal(t.count, 8);
	services_free(&t);
}

static void
test_bad_inet_names(void **state)
{
	static const char *bad[] = {
	    "0",	 "65536",   "99999999999",  "host:",	 ":25",
	    "[::1]",	 "[::1]25", "[]:25",	    "[::1:25",	 "a:b:25",
	    "1.2.3.4:0", "h_o:x5:", "[1.2.3.4]:25", "-smtp",	 "smtp!",
	    "host/x:25", "**:25",   "[::1]:",	    "[g::1]:25",
	};
	char line[256];
	char want[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "# x\n%s inet - - - - - smtpd\n",
			 bad[i]);
		snprintf(want, sizeof(want),
			 "services:2: bad inet service name \"%s\"", bad[i]);
		assert_string_equal(parse_error(line), want);
	}
}

static void
test_unix_names(void **state)
{
	struct service_table t;

	(void)state;
	parse_ok("qmgr unix - - - - - qmgr\n"
		 "retry-2 unix - - - - - error\n"
		 "a.b_c unix - - - - - x\n",
		 &t);
	assert_int_equal(t.count, 3);
	services_free(&t);
	assert_string_equal(parse_error("../x unix - - - - - x\n"),
			    "services:1: bad unix service name \"../x\"");
	assert_string_equal(parse_error("a/b unix - - - - - x\n"),
			    "services:1: bad unix service name \"a/b\"");
	assert_string_equal(parse_error(".hidden unix - - - - - x\n"),
			    "services:1: bad unix service name \".hidden\"");
}

static void
test_errors(void **state)
{
	char longname[200];

	(void)state;
	assert_string_equal(parse_error("smtp inet n - y - 100\n"),
			    "services:1: missing command");
	assert_string_equal(parse_error("# c\nsmtp\n"),
			    "services:2: missing command");
	assert_string_equal(parse_error("smtp tcp n - y - 100 smtpd\n"),
			    "services:1: bad service type \"tcp\" (expected "
			    "inet, unix or pass)");
	assert_string_equal(parse_error("smtp inet x - y - 100 smtpd\n"),
			    "services:1: bad private field \"x\" (expected y, "
			    "n or -)");
	assert_string_equal(parse_error("smtp inet n yes y - 100 smtpd\n"),
			    "services:1: bad unpriv field \"yes\" (expected "
			    "y, n or -)");
	assert_string_equal(parse_error("smtp inet n - Y - 100 smtpd\n"),
			    "services:1: bad chroot field \"Y\" (expected y, "
			    "n or -)");
	assert_string_equal(parse_error("q unix n - y 5m 1 qmgr\n"),
			    "services:1: bad wakeup time \"5m\"");
	assert_string_equal(parse_error("q unix n - y ? 1 qmgr\n"),
			    "services:1: bad wakeup time \"?\"");
	assert_string_equal(parse_error("q unix n - y 0? 1 qmgr\n"),
			    "services:1: bad wakeup time \"0?\"");
	assert_string_equal(parse_error("q unix n - y -1 1 qmgr\n"),
			    "services:1: bad wakeup time \"-1\"");
	assert_string_equal(parse_error("q unix n - y 31622401 1 qmgr\n"),
			    "services:1: bad wakeup time \"31622401\"");
	assert_string_equal(parse_error("25 inet n - y 60 1 smtpd\n"),
			    "services:1: wakeup time \"60\" for an inet "
			    "service");
	assert_string_equal(parse_error("q unix n - y - x qmgr\n"),
			    "services:1: bad process limit \"x\"");
	assert_string_equal(parse_error("q unix n - y - -1 qmgr\n"),
			    "services:1: bad process limit \"-1\"");
	assert_string_equal(parse_error("q unix n - y - 100001 qmgr\n"),
			    "services:1: bad process limit \"100001\"");
	assert_string_equal(parse_error("q unix n - y - 99999999999 qmgr\n"),
			    "services:1: bad process limit \"99999999999\"");
	assert_string_equal(parse_error("q unix n - y - 1 ../bin/qmgr\n"),
			    "services:1: bad command \"../bin/qmgr\" (a name "
			    "or an absolute path)");
	assert_string_equal(parse_error("  smtp inet n - y - 100 smtpd\n"),
			    "services:1: continuation line before any "
			    "service");
	memset(longname, 'a', 101);
	longname[101] = '\0';
	strcat(longname, " unix - - - - - x\n");
	assert_string_equal(
	    parse_error(longname),
	    "services:1: service name too long: "
	    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"");
}

/* Postfix's other types: an error that names the type and says why. */
static void
test_postfix_types(void **state)
{
	(void)state;
	assert_string_equal(
	    parse_error("# c\npickup fifo n - y 60 1 pickup\n"),
	    "services:2: service type \"fifo\" is not supported: no Panacea "
	    "daemon is woken through a FIFO (Panacea's pickup and qmgr listen "
	    "on unix sockets); use inet, unix or pass");
	assert_string_equal(
	    parse_error("postlog unix-dgram n - n - 1 postlogd\n"),
	    "services:1: service type \"unix-dgram\" is not supported: no "
	    "Panacea daemon reads datagrams (Postfix's postlog service); use "
	    "inet, unix or pass");
}

/* "{ text }" groups an argument, as in Postfix's master.cf. */
static void
test_braces(void **state)
{
	struct service_table t;

	(void)state;
	parse_ok("submission inet n - y - - smtpd -o { smtpd_banner = a b  c "
		 "} -o {x=1}\n"
		 "  -o { smtpd_client_restrictions = permit_sasl_authenticated,"
		 "\n    reject }\n"
		 "e unix - - y - - x {}  -o {{a} {b}}\n",
		 &t);
	assert_int_equal(t.count, 2);
	assert_int_equal(t.items[0].argc, 7);
	assert_string_equal(t.items[0].argv[1], "-o");
	assert_string_equal(t.items[0].argv[2], "smtpd_banner = a b  c");
	assert_string_equal(t.items[0].argv[4], "x=1");
	assert_string_equal(t.items[0].argv[6],
			    "smtpd_client_restrictions = "
			    "permit_sasl_authenticated, reject");
	assert_null(t.items[0].argv[7]);
	assert_int_equal(t.items[1].argc, 4);
	assert_string_equal(t.items[1].argv[1], "");
	assert_string_equal(t.items[1].argv[3], "{a} {b}");
	services_free(&t);
	assert_string_equal(
	    parse_error("a unix - - y - - x -o { name = value\n"),
	    "services:1: missing '}' after \"{ name = value\"");
	assert_string_equal(parse_error("a unix - - y - - x -o {a=b}c\n"),
			    "services:1: text after '}' in \"{a=b}\"");
	/* Not in the columns: a '{' there is what it always was. */
	assert_string_equal(parse_error("a unix - - y { 1 } x\n"),
			    "services:1: bad wakeup time \"{\"");
}

static void
test_duplicate(void **state)
{
	(void)state;
	assert_string_equal(parse_error("smtp inet n - y - 100 smtpd\n"
					"# again\n"
					"smtp unix - - y - - smtp\n"
					"smtp inet n - n - 1 smtpd\n"),
			    "services:4: duplicate service \"smtp\" of type "
			    "inet (first defined at line 1)");
	/* An error after good lines keeps nothing (checked by parse_error),
	 * and a continued line's errors name the line it started on. */
	assert_string_equal(parse_error("qmgr unix n - y 300 1 qmgr\n"
					"99999 inet n - y - 100\n"
					"  smtpd x\n"
					"qmgr unix n - y 300 1 qmgr\n"),
			    "services:2: bad inet service name \"99999\"");
}

static void
test_same(void **state)
{
	struct service_table a;
	struct service_table b;
	struct service_table c;
	size_t i;

	(void)state;
	parse_ok(design_table, &a);
	/* Defaults written out run the same way: the same service. */
	parse_ok("smtp inet n y y 0 100 smtpd\n"
		 "submission inet n y y - 100 smtpd -o "
		 "smtpd_sasl_auth_enable=yes\n"
		 "pop3 inet n - y - 100 pop3d\n"
		 "qmgr unix n - y 300 1 qmgr\n"
		 "local unix y n n - 100 local\n"
		 "smtp unix y y y - - smtp\n"
		 "submit unix n - y - - smtpd -o smtpd_local_submission=no\n",
		 &b);
	assert_int_equal(a.count, b.count);
	for (i = 0; i + 1 < a.count; i++)
		assert_true(service_same(&a.items[i], &b.items[i]));
	assert_false(service_same(&a.items[6], &b.items[6]));
	assert_false(service_same(&a.items[0], &a.items[5]));
	services_free(&b);

	/* Any column or argument counts. */
	parse_ok("smtp inet n - y - 101 smtpd\n"
		 "submission inet n - y - - smtpd\n"
		 "pop3 inet y - y - - pop3d\n"
		 "qmgr unix n - y 300? 1 qmgr\n"
		 "local unix - - n - - local\n"
		 "smtp unix - - n - - smtp\n"
		 "submit unix n - y 10 - smtpd -o smtpd_local_submission=yes\n",
		 &c);
	for (i = 0; i < a.count; i++)
		assert_false(service_same(&a.items[i], &c.items[i]));
	services_free(&c);

	/* default_maxproc is resolved: a new default is a change. */
	assert_int_equal(services_parse("services", design_table, 5, &c, &err),
			 0);
	assert_true(service_same(&a.items[0], &c.items[0]));
	assert_false(service_same(&a.items[1], &c.items[1]));
	assert_int_equal(c.items[1].maxproc, 5);
	services_free(&c);
	services_free(&a);
}

static void
test_type_name(void **state)
{
	(void)state;
	assert_string_equal(service_type_name(SERVICE_INET), "inet");
	assert_string_equal(service_type_name(SERVICE_UNIX), "unix");
	assert_string_equal(service_type_name(SERVICE_PASS), "pass");
}

/* Postfix's pass type (postscreen's hand-off to smtpd): a socket name
 * like a unix service, no wakeup, its own (name, type) key. */
static void
test_pass_type(void **state)
{
	struct service_table t = {0};
	const struct service_def *d;

	(void)state;
	parse_ok("smtp inet n - y - 1 postscreen\n"
		 "smtpd pass - - y - - smtpd\n"
		 "smtpd unix n - y - - smtpd\n",
		 &t);
	d = services_find(&t, "smtpd", SERVICE_PASS);
	assert_non_null(d);
	assert_int_equal(d->type, SERVICE_PASS);
	assert_true(d->is_private);
	assert_string_equal(d->argv[0], "smtpd");
	assert_non_null(services_find(&t, "smtpd", SERVICE_UNIX));
	services_free(&t);
	assert_string_equal(parse_error("smtpd pass - - y 60 - smtpd\n"),
			    "services:1: wakeup time \"60\" for a pass "
			    "service");
	assert_string_equal(parse_error("smtpd unix - - y - - smtpd\n"
					"smtpd pass - - y - - smtpd\n"),
			    "services:2: pass service \"smtpd\" would use the "
			    "socket of the unix service defined at line 1");
	assert_string_equal(parse_error("a/b pass - - y - - smtpd\n"),
			    "services:1: bad pass service name \"a/b\"");
}

static void
test_read_file(void **state)
{
	char dir[] = "/tmp/test_services_XXXXXX";
	char path[256];
	char want[512];
	struct service_table t;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/services", dir);
	unit_write_bytes(path, design_table, strlen(design_table));
	assert_int_equal(services_read(path, 3, 0, &t, &err), 0);
	assert_int_equal(t.count, 7);
	assert_int_equal(t.items[2].maxproc, 3);
	services_free(&t);

	unit_write_bytes(path, "qmgr unix n - y 300 1 qmgr\nx unix n\n", 36);
	assert_int_equal(services_read(path, 3, 0, &t, &err), -1);
	snprintf(want, sizeof(want), "%s:2: missing command", path);
	assert_string_equal(buf_cstr(&err), want);
	assert_int_equal(t.count, 0);

	unit_write_bytes(path, "q unix - - - - - q\0\n", 20);
	assert_int_equal(services_read(path, 3, 0, &t, &err), -1);
	snprintf(want, sizeof(want), "%s: contains a NUL byte", path);
	assert_string_equal(buf_cstr(&err), want);

	unlink(path);
	assert_int_equal(services_read(path, 3, 1, &t, &err), 0);
	assert_int_equal(t.count, 0);
	services_free(&t);
	assert_int_equal(services_read(path, 3, 0, &t, &err), -1);
	snprintf(want, sizeof(want), "%s: cannot open: %s", path,
		 strerror(ENOENT));
	assert_string_equal(buf_cstr(&err), want);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_too_large(void **state)
{
	size_t n = 1024 * 1024 + 1;
	char *big = xmalloc(n + 1);
	struct service_table t;

	(void)state;
	memset(big, '#', n);
	big[n] = '\0';
	assert_int_equal(services_parse("services", big, 1, &t, &err), -1);
	assert_string_equal(buf_cstr(&err),
			    "services: file larger than 1048576 bytes");
	assert_int_equal(t.count, 0);
	xfree(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_design_table),
	    cmocka_unit_test(test_empty_and_comments),
	    cmocka_unit_test(test_continuation),
	    cmocka_unit_test(test_wakeup),
	    cmocka_unit_test(test_inet_names),
	    cmocka_unit_test(test_bad_inet_names),
	    cmocka_unit_test(test_unix_names),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_postfix_types),
	    cmocka_unit_test(test_braces),
	    cmocka_unit_test(test_duplicate),
	    cmocka_unit_test(test_same),
	    cmocka_unit_test(test_type_name),
	    cmocka_unit_test(test_pass_type),
	    cmocka_unit_test(test_read_file),
	    cmocka_unit_test(test_too_large),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	buf_free(&err);
	return rc;
}
