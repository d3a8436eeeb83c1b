/*
 * test_dovecot_auth - lib/dovecot_auth (the codec of Dovecot's
 * authentication protocol, client side): the lines smtpd sends, the
 * server lines it parses (Dovecot 2.3's handshake and replies), every
 * bound and malformed field, escaping both ways, and the security
 * options.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "buf.h"
#include "dovecot_auth.h"

static int
parse(const char *line, struct dovecot_reply *r)
{
	struct buf err = BUF_INIT;
	int rc = dovecot_reply_parse(line, strlen(line), r, &err);

	/* A refusal always says why; a success says nothing. */
	assert_true(rc < 0 ? err.len > 0 : err.len == 0);
	buf_free(&err);
	return rc;
}

static void
test_handshake_lines(void **state)
{
	struct dovecot_reply r = DOVECOT_REPLY_INIT;
	struct buf out = BUF_INIT;

	(void)state;
	dovecot_hello_encode(&out, 4242);
	assert_string_equal(buf_cstr(&out), "VERSION\t1\t2\nCPID\t4242\n");
	assert_int_equal(parse("VERSION\t1\t2", &r), 0);
	assert_int_equal(r.type, DOVECOT_REPLY_VERSION);
	assert_int_equal(r.major, 1);
	assert_int_equal(r.minor, 2);
	assert_int_equal(parse("MECH\tPLAIN\tplaintext", &r), 0);
	assert_int_equal(r.type, DOVECOT_REPLY_MECH);
	assert_string_equal(r.mech, "PLAIN");
	assert_int_equal(r.flags, DOVECOT_MECH_PLAINTEXT);
	assert_int_equal(
	    parse("MECH\tSCRAM-SHA-1\tmutual-auth\tdictionary", &r), 0);
	assert_int_equal(r.flags,
			 DOVECOT_MECH_MUTUAL_AUTH | DOVECOT_MECH_DICTIONARY);
	/* A flag of a newer Dovecot is no error. */
	assert_int_equal(parse("MECH\tOAUTHBEARER\tsomething-new", &r), 0);
	assert_int_equal(r.flags, 0);
	assert_int_equal(parse("MECH\tX\tprivate", &r), 0);
	assert_int_equal(r.flags, DOVECOT_MECH_PRIVATE);
	assert_int_equal(parse("SPID\t1234", &r), 0);
	assert_int_equal(r.type, DOVECOT_REPLY_OTHER);
	assert_int_equal(parse("COOKIE\t0123abcd", &r), 0);
	assert_int_equal(r.type, DOVECOT_REPLY_OTHER);
	assert_int_equal(parse("DONE", &r), 0);
	assert_int_equal(r.type, DOVECOT_REPLY_DONE);
	/* Bad handshake lines. */
	assert_int_equal(parse("VERSION\t1", &r), -1);
	assert_int_equal(parse("VERSION\tx\t2", &r), -1);
	assert_int_equal(parse("MECH", &r), -1);
	assert_int_equal(parse("MECH\t", &r), -1);
	assert_int_equal(parse("MECH\tPL AIN", &r), -1);
	assert_int_equal(parse("MECH\tAAAAAAAAAAAAAAAAAAAAA", &r), -1);
	dovecot_reply_free(&r);
	buf_free(&out);
}

static void
test_replies(void **state)
{
	struct dovecot_reply r = DOVECOT_REPLY_INIT;

	(void)state;
	assert_int_equal(parse("OK\t7\tuser=alice@example.com\tnologin", &r),
			 0);
	assert_int_equal(r.type, DOVECOT_REPLY_OK);
	assert_int_equal(r.id, 7);
	assert_string_equal(r.user, "alice@example.com");
	assert_int_equal(parse("OK\t8", &r), 0);
	assert_null(r.user);
	/* LOGIN's first challenge, "Username:". */
	assert_int_equal(parse("CONT\t9\tVXNlcm5hbWU6", &r), 0);
	assert_int_equal(r.type, DOVECOT_REPLY_CONT);
	assert_int_equal(r.id, 9);
	assert_int_equal(r.data_len, 9);
	assert_memory_equal(r.data, "Username:", 9);
	assert_int_equal(parse("CONT\t9\t", &r), 0);
	assert_int_equal(r.data_len, 0);
	assert_int_equal(
	    parse("FAIL\t3\tuser=bob\treason=Password mismatch", &r), 0);
	assert_int_equal(r.type, DOVECOT_REPLY_FAIL);
	assert_string_equal(r.user, "bob");
	assert_string_equal(r.reason, "Password mismatch");
	assert_int_equal(r.temp, 0);
	assert_int_equal(parse("FAIL\t3\ttemp", &r), 0);
	assert_int_equal(r.temp, 1);
	assert_int_equal(parse("FAIL\t3\tcode=temp_fail", &r), 0);
	assert_int_equal(r.temp, 1);
	/* Escapes: a TAB in a reason is allowed on the wire, not in a log
	 * line; 0x01 1 is 0x01 (a control character too). */
	assert_int_equal(parse("FAIL\t3\treason=a\001tb", &r), -1);
	assert_int_equal(parse("FAIL\t3\treason=a\0011b", &r), -1);
	assert_int_equal(parse("FAIL\t3\treason=a\001xb", &r), -1);
	assert_int_equal(parse("FAIL\t3\treason=a\001", &r), -1);
	assert_int_equal(parse("OK\t3\tuser=a\0010b", &r), -1);
	assert_int_equal(parse("OK\t3\tuser=", &r), -1);
	/* Bad ids, bad base64. */
	assert_int_equal(parse("OK", &r), -1);
	assert_int_equal(parse("OK\t-1", &r), -1);
	assert_int_equal(parse("OK\t99999999999", &r), -1);
	assert_int_equal(parse("OK\t4294967296", &r), -1);
	assert_int_equal(parse("CONT\t1", &r), -1);
	assert_int_equal(parse("CONT\t1\tnot base64!", &r), -1);
	/* Unknown lines are not errors. */
	assert_int_equal(parse("NOTIFY\tsomething", &r), 0);
	assert_int_equal(r.type, DOVECOT_REPLY_OTHER);
	dovecot_reply_free(&r);
}

static void
test_bounds(void **state)
{
	struct dovecot_reply r = DOVECOT_REPLY_INIT;
	struct buf line = BUF_INIT, err = BUF_INIT;
	size_t i;

	(void)state;
	/* A user name of 255 bytes, then 256. */
	buf_puts(&line, "OK\t1\tuser=");
	for (i = 0; i < DOVECOT_AUTH_USER_MAX; i++)
		buf_putc(&line, 'u');
	assert_int_equal(parse(buf_cstr(&line), &r), 0);
	assert_int_equal(strlen(r.user), DOVECOT_AUTH_USER_MAX);
	buf_putc(&line, 'u');
	assert_int_equal(parse(buf_cstr(&line), &r), -1);
	/* A challenge of DATA_MAX bytes, then 3 more. */
	buf_reset(&line);
	buf_puts(&line, "CONT\t1\t");
	for (i = 0; i < DOVECOT_AUTH_DATA_MAX / 3 * 4; i++)
		buf_putc(&line, 'A');
	assert_int_equal(parse(buf_cstr(&line), &r), 0);
	assert_int_equal(r.data_len, DOVECOT_AUTH_DATA_MAX);
	buf_puts(&line, "AAAA");
	assert_int_equal(parse(buf_cstr(&line), &r), -1);
	/* The line bound, NUL and LF inside a line. */
	buf_reset(&line);
	buf_puts(&line, "SPID\t");
	while (line.len <= DOVECOT_AUTH_LINE_MAX)
		buf_putc(&line, '1');
	assert_int_equal(parse(buf_cstr(&line), &r), -1);
	assert_int_equal(dovecot_reply_parse("OK\t1\0x", 6, &r, &err), -1);
	assert_int_equal(dovecot_reply_parse("OK\t1\nx", 6, &r, &err), -1);
	/* Many fields: the ones past the limit are ignored. */
	buf_reset(&line);
	buf_puts(&line, "OK\t2");
	for (i = 0; i < 200; i++)
		buf_puts(&line, "\tx=y");
	buf_puts(&line, "\tuser=late");
	assert_int_equal(parse(buf_cstr(&line), &r), 0);
	assert_null(r.user);
	dovecot_reply_free(&r);
	buf_free(&line);
	buf_free(&err);
}

static void
test_auth_lines(void **state)
{
	struct dovecot_auth_request req = {
	    .id = 5,
	    .mech = "PLAIN",
	    .service = "smtp",
	    .local_ip = "192.0.2.1",
	    .local_port = "25",
	    .remote_ip = "198.51.100.7",
	    .remote_port = "40000",
	    .secured = 1,
	    .ssf = 256,
	    .resp = "\0alice\0pw",
	    .resp_len = 9,
	};
	struct buf out = BUF_INIT;

	(void)state;
	dovecot_auth_encode(&out, &req);
	assert_string_equal(buf_cstr(&out),
			    "AUTH\t5\tPLAIN\tservice=smtp\tnologin"
			    "\tlip=192.0.2.1\trip=198.51.100.7\tlport=25"
			    "\trport=40000\tsecured\tssl_cipher_bits=256"
			    "\tresp=AGFsaWNlAHB3\n");
	/* No initial response; an empty one; no addresses, no TLS. */
	buf_reset(&out);
	req.resp = NULL;
	req.local_ip = req.remote_ip = req.local_port = req.remote_port = NULL;
	req.secured = 0;
	req.ssf = 0;
	dovecot_auth_encode(&out, &req);
	assert_string_equal(buf_cstr(&out),
			    "AUTH\t5\tPLAIN\tservice=smtp\tnologin\n");
	buf_reset(&out);
	req.resp = "";
	req.resp_len = 0;
	dovecot_auth_encode(&out, &req);
	assert_string_equal(buf_cstr(&out),
			    "AUTH\t5\tPLAIN\tservice=smtp\tnologin\tresp=\n");
	/* A value with TAB, LF and 0x01 cannot add a field. */
	buf_reset(&out);
	req.resp = NULL;
	req.service = "a\tb\nc\001d";
	dovecot_auth_encode(&out, &req);
	assert_string_equal(buf_cstr(&out),
			    "AUTH\t5\tPLAIN\tservice=a\001tb\001nc\0011d"
			    "\tnologin\n");
	buf_reset(&out);
	dovecot_cont_encode(&out, 5, "alice", 5);
	assert_string_equal(buf_cstr(&out), "CONT\t5\tYWxpY2U=\n");
	buf_reset(&out);
	dovecot_cancel_encode(&out, 5);
	assert_string_equal(buf_cstr(&out), "CANCEL\t5\n");
	buf_free(&out);
}

static void
test_security_options(void **state)
{
	struct buf err = BUF_INIT;
	unsigned forbid, require;

	(void)state;
	assert_int_equal(
	    dovecot_security_parse("noanonymous", &forbid, &require, &err), 0);
	assert_int_equal(forbid, DOVECOT_MECH_ANONYMOUS);
	assert_int_equal(require, 0);
	assert_int_equal(dovecot_security_parse("noplaintext, noanonymous "
						"nodictionary,noactive "
						"mutual_auth forward_secrecy",
						&forbid, &require, &err),
			 0);
	assert_int_equal(forbid,
			 DOVECOT_MECH_PLAINTEXT | DOVECOT_MECH_ANONYMOUS |
			     DOVECOT_MECH_DICTIONARY | DOVECOT_MECH_ACTIVE);
	assert_int_equal(require, DOVECOT_MECH_MUTUAL_AUTH |
				      DOVECOT_MECH_FORWARD_SECRECY);
	assert_int_equal(dovecot_security_parse("", &forbid, &require, &err),
			 0);
	assert_int_equal(forbid | require, 0);
	assert_int_equal(dovecot_security_parse("noanonymous, bogus", &forbid,
						&require, &err),
			 -1);
	assert_non_null(strstr(buf_cstr(&err), "bogus"));
	assert_int_equal(dovecot_mech_flags_by_name("login"),
			 DOVECOT_MECH_PLAINTEXT);
	assert_int_equal(dovecot_mech_flags_by_name("CRAM-MD5"),
			 DOVECOT_MECH_DICTIONARY);
	assert_int_equal(dovecot_mech_flags_by_name("X-UNKNOWN"), 0);
	buf_free(&err);
}

static int
req(const char *line, struct dovecot_request *r)
{
	struct buf err = BUF_INIT;
	int rc = dovecot_request_parse(line, strlen(line), r, &err);

	assert_true(rc < 0 ? err.len > 0 : err.len == 0);
	buf_free(&err);
	return rc;
}

static void
test_server_side(void **state)
{
	struct dovecot_request r = DOVECOT_REQUEST_INIT;
	struct dovecot_auth_request a = {
	    .id = 9,
	    .mech = "PLAIN",
	    .service = "smtp",
	    .local_ip = "192.0.2.1",
	    .remote_ip = "198.51.100.7",
	    .local_port = "25",
	    .remote_port = "40000",
	    .secured = 1,
	    .ssf = 128,
	    .resp = "\0alice\0pw",
	    .resp_len = 9,
	};
	struct buf out = BUF_INIT;

	(void)state;
	/* What the client side sends, the server side reads back. */
	dovecot_auth_encode(&out, &a);
	buf_truncate(&out, out.len - 1);
	assert_int_equal(req(buf_cstr(&out), &r), 0);
	assert_int_equal(r.type, DOVECOT_REQUEST_AUTH);
	assert_int_equal(r.id, 9);
	assert_string_equal(r.mech, "PLAIN");
	assert_string_equal(r.service, "smtp");
	assert_string_equal(r.local_ip, "192.0.2.1");
	assert_string_equal(r.remote_ip, "198.51.100.7");
	assert_string_equal(r.local_port, "25");
	assert_string_equal(r.remote_port, "40000");
	assert_int_equal(r.secured, 1);
	assert_int_equal(r.ssf, 128);
	assert_int_equal(r.has_resp, 1);
	assert_int_equal(r.resp_len, 9);
	assert_memory_equal(r.resp, "\0alice\0pw", 9);
	assert_int_equal(req("AUTH\t1\tLOGIN\tservice=smtp", &r), 0);
	assert_int_equal(r.has_resp, 0);
	assert_null(r.remote_ip);
	assert_int_equal(req("AUTH\t1\tPLAIN\tresp=", &r), 0);
	assert_int_equal(r.has_resp, 1);
	assert_int_equal(r.resp_len, 0);
	assert_int_equal(req("CONT\t4\tYWxpY2U=", &r), 0);
	assert_int_equal(r.type, DOVECOT_REQUEST_CONT);
	assert_int_equal(r.resp_len, 5);
	assert_int_equal(req("CANCEL\t4", &r), 0);
	assert_int_equal(r.type, DOVECOT_REQUEST_CANCEL);
	assert_int_equal(req("VERSION\t1\t2", &r), 0);
	assert_int_equal(r.major, 1);
	assert_int_equal(req("CPID\t77", &r), 0);
	assert_int_equal(r.type, DOVECOT_REQUEST_CPID);
	assert_int_equal(req("SOMETHING\tnew", &r), 0);
	assert_int_equal(r.type, DOVECOT_REQUEST_OTHER);
	/* Refused: bad ids, mechanisms, fields, base64. */
	assert_int_equal(req("AUTH\tx\tPLAIN", &r), -1);
	assert_int_equal(req("AUTH\t1", &r), -1);
	assert_int_equal(req("AUTH\t1\tPL AIN", &r), -1);
	assert_int_equal(req("AUTH\t1\tPLAIN\trip=1.2.3.4\001n", &r), -1);
	assert_int_equal(req("AUTH\t1\tPLAIN\tservice=a\0010", &r), -1);
	assert_int_equal(req("AUTH\t1\tPLAIN\tssl_cipher_bits=x", &r), -1);
	assert_int_equal(req("AUTH\t1\tPLAIN\tresp=!!", &r), -1);
	assert_int_equal(req("CONT\t1", &r), -1);
	assert_int_equal(req("CONT\t1\tAB", &r), -1);
	assert_int_equal(req("CANCEL", &r), -1);
	assert_int_equal(req("VERSION\t", &r), -1);
	/* The server's lines. */
	buf_reset(&out);
	dovecot_ok_encode(&out, 3, "a\tb");
	dovecot_fail_encode(&out, 4, 0);
	dovecot_fail_encode(&out, 5, 1);
	dovecot_mech_encode(&out, "CRAM-MD5", DOVECOT_MECH_DICTIONARY);
	dovecot_mech_encode(&out, "PLAIN", DOVECOT_MECH_PLAINTEXT);
	assert_string_equal(buf_cstr(&out),
			    "OK\t3\tuser=a\001tb\nFAIL\t4\nFAIL\t5\ttemp\n"
			    "MECH\tCRAM-MD5\tdictionary\n"
			    "MECH\tPLAIN\tplaintext\n");
	dovecot_request_free(&r);
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_handshake_lines),
	    cmocka_unit_test(test_replies),
	    cmocka_unit_test(test_bounds),
	    cmocka_unit_test(test_auth_lines),
	    cmocka_unit_test(test_security_options),
	    cmocka_unit_test(test_server_side),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
