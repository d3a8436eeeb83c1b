/*
 * test_smtp_cmd - lib/smtp_cmd: verbs, MAIL/RCPT syntax and leniency,
 * every ESMTP parameter with its typed value, duplicates, unknown and
 * unadvertised parameters, SIZE/BDAT overflow, and the reply texts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "smtp_cmd.h"

#define ALL SMTP_EXT_ALL

struct row {
	const char *line;
	unsigned ext;
	unsigned flags;
	int err;
	enum smtp_verb verb;
};

static const struct row rows[] = {
    /* Verbs, case-insensitive. */
    {"HELO mx.example", ALL, 0, SMTP_CMD_OK, SMTP_VERB_HELO},
    {"helo mx.example", ALL, 0, SMTP_CMD_OK, SMTP_VERB_HELO},
    {"EhLo [192.0.2.1]", ALL, 0, SMTP_CMD_OK, SMTP_VERB_EHLO},
    {"HELO", ALL, 0, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_HELO},
    {"EHLO   ", ALL, 0, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_EHLO},
    {"DATA", ALL, 0, SMTP_CMD_OK, SMTP_VERB_DATA},
    {"data ", ALL, 0, SMTP_CMD_OK, SMTP_VERB_DATA},
    {"DATA x", ALL, 0, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_DATA},
    {"RSET", ALL, 0, SMTP_CMD_OK, SMTP_VERB_RSET},
    {"RSET now", ALL, 0, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_RSET},
    {"NOOP", ALL, 0, SMTP_CMD_OK, SMTP_VERB_NOOP},
    {"NOOP anything at all", ALL, 0, SMTP_CMD_OK, SMTP_VERB_NOOP},
    {"QUIT", ALL, 0, SMTP_CMD_OK, SMTP_VERB_QUIT},
    {"QUIT now", ALL, 0, SMTP_CMD_OK, SMTP_VERB_QUIT},
    {"VRFY user", ALL, 0, SMTP_CMD_OK, SMTP_VERB_VRFY},
    {"VRFY", ALL, 0, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_VRFY},
    {"EXPN list", ALL, 0, SMTP_CMD_OK, SMTP_VERB_EXPN},
    {"EXPN", ALL, 0, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_EXPN},
    {"HELP", ALL, 0, SMTP_CMD_OK, SMTP_VERB_HELP},
    {"HELP MAIL", ALL, 0, SMTP_CMD_OK, SMTP_VERB_HELP},
    {"STARTTLS", ALL, 0, SMTP_CMD_OK, SMTP_VERB_STARTTLS},
    {"STARTTLS x", ALL, 0, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_STARTTLS},
    {"AUTH PLAIN", ALL, 0, SMTP_CMD_OK, SMTP_VERB_AUTH},
    {"AUTH PLAIN AHVzZXIAcGFzcw==", ALL, 0, SMTP_CMD_OK, SMTP_VERB_AUTH},
    {"AUTH PLAIN =", ALL, 0, SMTP_CMD_OK, SMTP_VERB_AUTH},
    {"AUTH", ALL, 0, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_AUTH},
    {"AUTH PLAIN a b", ALL, 0, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_AUTH},
    {"AUTH PLAIN a*b", ALL, 0, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_AUTH},
    {"AUTH PL@IN", ALL, 0, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_AUTH},
    {"AUTH ABCDEFGHIJKLMNOPQRSTU", ALL, 0, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_AUTH},
    {"ETRN example.org", ALL, 0, SMTP_CMD_OK, SMTP_VERB_ETRN},
    {"etrn @example.org", ALL, 0, SMTP_CMD_OK, SMTP_VERB_ETRN},
    {"ETRN", ALL, 0, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_ETRN},
    {"FOO", ALL, 0, SMTP_CMD_ERR_UNKNOWN, SMTP_VERB_UNKNOWN},
    {"", ALL, 0, SMTP_CMD_ERR_UNKNOWN, SMTP_VERB_UNKNOWN},
    {"MAILFROM:<a@b.c>", ALL, 0, SMTP_CMD_ERR_UNKNOWN, SMTP_VERB_UNKNOWN},
    {"HELOx", ALL, 0, SMTP_CMD_ERR_UNKNOWN, SMTP_VERB_UNKNOWN},
    {"GET / HTTP/1.0", ALL, 0, SMTP_CMD_ERR_UNKNOWN, SMTP_VERB_UNKNOWN},
    {"  NOOP", ALL, 0, SMTP_CMD_OK, SMTP_VERB_NOOP},

    /* Characters that never belong to a command. */
    {"NOOP\r", ALL, 0, SMTP_CMD_ERR_BAD_CHAR, SMTP_VERB_UNKNOWN},
    {"RSET\nQUIT", ALL, 0, SMTP_CMD_ERR_BAD_CHAR, SMTP_VERB_UNKNOWN},
    {"HELO a\x01", ALL, 0, SMTP_CMD_ERR_BAD_CHAR, SMTP_VERB_UNKNOWN},
    {"HELO a\x7f", ALL, 0, SMTP_CMD_ERR_BAD_CHAR, SMTP_VERB_UNKNOWN},
    {"HELO \xff", ALL, 0, SMTP_CMD_ERR_BAD_CHAR, SMTP_VERB_UNKNOWN},
    {"HELO \xc3", ALL, 0, SMTP_CMD_ERR_BAD_CHAR, SMTP_VERB_UNKNOWN},
    {"HELO b\xc3\xbc"
     "cher.example",
     ALL, 0, SMTP_CMD_OK, SMTP_VERB_HELO},
    {"HELO\tmx.example", ALL, 0, SMTP_CMD_OK, SMTP_VERB_HELO},

    /* MAIL / RCPT syntax and Postfix-like leniency. */
    {"MAIL FROM:<a@b.c>", ALL, 0, SMTP_CMD_OK, SMTP_VERB_MAIL},
    {"mail from:<a@b.c>", ALL, 0, SMTP_CMD_OK, SMTP_VERB_MAIL},
    {"MAIL FROM: <a@b.c>", ALL, 0, SMTP_CMD_OK, SMTP_VERB_MAIL},
    {"MAIL FROM:  <a@b.c>  SIZE=10  ", ALL, 0, SMTP_CMD_OK, SMTP_VERB_MAIL},
    {"MAIL  FROM:<a@b.c>", ALL, 0, SMTP_CMD_OK, SMTP_VERB_MAIL},
    {"MAIL FROM:<>", ALL, 0, SMTP_CMD_OK, SMTP_VERB_MAIL},
    {"MAIL FROM:", ALL, 0, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_MAIL},
    {"MAIL", ALL, 0, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_MAIL},
    {"MAIL TO:<a@b.c>", ALL, 0, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_MAIL},
    {"MAIL FROM <a@b.c>", ALL, 0, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_MAIL},
    {"MAIL FROM:a@b.c", ALL, 0, SMTP_CMD_ERR_SENDER, SMTP_VERB_MAIL},
    {"MAIL FROM:a@b.c", ALL, SMTP_CMD_F_NO_BRACKETS, SMTP_CMD_OK,
     SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c", ALL, 0, SMTP_CMD_ERR_SENDER, SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c>x", ALL, 0, SMTP_CMD_ERR_SENDER, SMTP_VERB_MAIL},
    {"MAIL FROM:<a b@c.d>", ALL, 0, SMTP_CMD_ERR_SENDER, SMTP_VERB_MAIL},
    {"MAIL FROM:<\"a b\"@c.d>", ALL, 0, SMTP_CMD_OK, SMTP_VERB_MAIL},
    {"MAIL FROM:<\"a>b\"@c.d> SIZE=1", ALL, 0, SMTP_CMD_OK, SMTP_VERB_MAIL},
    {"MAIL FROM:<\"a\\\">b\"@c.d>", ALL, 0, SMTP_CMD_OK, SMTP_VERB_MAIL},
    {"RCPT TO:<a@b.c>", ALL, 0, SMTP_CMD_OK, SMTP_VERB_RCPT},
    {"RCPT TO: <a@b.c>", ALL, 0, SMTP_CMD_OK, SMTP_VERB_RCPT},
    {"rcpt to:<Postmaster>", ALL, 0, SMTP_CMD_OK, SMTP_VERB_RCPT},
    {"RCPT TO:<>", ALL, 0, SMTP_CMD_ERR_RCPT, SMTP_VERB_RCPT},
    {"RCPT TO:", ALL, 0, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_RCPT},
    {"RCPT FROM:<a@b.c>", ALL, 0, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_RCPT},
    {"RCPT TO:<a@b@c>", ALL, 0, SMTP_CMD_OK, SMTP_VERB_RCPT},
    {"RCPT TO:<@x:a@b.c>", ALL, 0, SMTP_CMD_OK, SMTP_VERB_RCPT},
    {"RCPT TO:<user>", ALL, 0, SMTP_CMD_ERR_RCPT, SMTP_VERB_RCPT},
    {"RCPT TO:<user>", ALL, SMTP_CMD_F_BARE_LOCAL, SMTP_CMD_OK, SMTP_VERB_RCPT},

    /* SMTPUTF8 addresses. */
    {"MAIL FROM:<j\xc3\xb6rg@x.y>", ALL, 0, SMTP_CMD_ERR_ADDR_8BIT,
     SMTP_VERB_MAIL},
    {"MAIL FROM:<j\xc3\xb6rg@x.y> SMTPUTF8", ALL, 0, SMTP_CMD_OK,
     SMTP_VERB_MAIL},
    {"MAIL FROM:<j\xc3\xb6rg@x.y> smtputf8", ALL, 0, SMTP_CMD_OK,
     SMTP_VERB_MAIL},
    {"MAIL FROM:<j\xc3\xb6rg@x.y> SMTPUTF8", ALL & ~SMTP_EXT_SMTPUTF8, 0,
     SMTP_CMD_ERR_ADDR_8BIT, SMTP_VERB_MAIL},
    {"MAIL FROM:<a@x.y> SMTPUTF8=yes", ALL, 0, SMTP_CMD_ERR_PARAM_SYNTAX,
     SMTP_VERB_MAIL},
    {"RCPT TO:<j\xc3\xb6rg@x.y>", ALL, 0, SMTP_CMD_ERR_ADDR_8BIT,
     SMTP_VERB_RCPT},
    {"RCPT TO:<j\xc3\xb6rg@x.y>", ALL, SMTP_CMD_F_UTF8, SMTP_CMD_OK,
     SMTP_VERB_RCPT},
    {"RCPT TO:<a@x.y> SMTPUTF8", ALL, SMTP_CMD_F_UTF8,
     SMTP_CMD_ERR_PARAM_UNKNOWN, SMTP_VERB_RCPT},

    /* Parameter syntax. */
    {"MAIL FROM:<a@b.c> SIZE=", ALL, 0, SMTP_CMD_ERR_PARAM_SYNTAX,
     SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> =1", ALL, 0, SMTP_CMD_ERR_PARAM_SYNTAX, SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> -X=1", ALL, 0, SMTP_CMD_ERR_PARAM_SYNTAX,
     SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> X_Y=1", ALL, 0, SMTP_CMD_ERR_PARAM_SYNTAX,
     SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> X=a=b", ALL, 0, SMTP_CMD_ERR_PARAM_SYNTAX,
     SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> X-Y=1", ALL, 0, SMTP_CMD_ERR_PARAM_UNKNOWN,
     SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> XYZZY", ALL, 0, SMTP_CMD_ERR_PARAM_UNKNOWN,
     SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> SIZE=1 size=2", ALL, 0, SMTP_CMD_ERR_PARAM_DUP,
     SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> BODY=8BITMIME BODY=8BITMIME", ALL, 0,
     SMTP_CMD_ERR_PARAM_DUP, SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> A B C D E F G H I J K L M N O P Q", ALL, 0,
     SMTP_CMD_ERR_PARAM_SYNTAX, SMTP_VERB_MAIL},

    /* SIZE (RFC 1870). */
    {"MAIL FROM:<a@b.c> SIZE=0", ALL, 0, SMTP_CMD_OK, SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> SIZE=18446744073709551615", ALL, 0, SMTP_CMD_OK,
     SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> SIZE=18446744073709551616", ALL, 0,
     SMTP_CMD_ERR_TOO_BIG, SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> SIZE=99999999999999999999999", ALL, 0,
     SMTP_CMD_ERR_TOO_BIG, SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> SIZE=-1", ALL, 0, SMTP_CMD_ERR_PARAM_SYNTAX,
     SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> SIZE=1k", ALL, 0, SMTP_CMD_ERR_PARAM_SYNTAX,
     SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> SIZE= 1", ALL, 0, SMTP_CMD_ERR_PARAM_SYNTAX,
     SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> SIZE", ALL, 0, SMTP_CMD_ERR_PARAM_SYNTAX,
     SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> SIZE=10", ALL & ~SMTP_EXT_SIZE, 0,
     SMTP_CMD_ERR_PARAM_UNKNOWN, SMTP_VERB_MAIL},

    /* BODY (RFC 6152, RFC 3030). */
    {"MAIL FROM:<a@b.c> BODY=7BIT", ALL, 0, SMTP_CMD_OK, SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> BODY=8bitmime", ALL, 0, SMTP_CMD_OK, SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> BODY=BINARYMIME", ALL, 0, SMTP_CMD_OK, SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> BODY=BINARYMIME", ALL & ~SMTP_EXT_BINARYMIME, 0,
     SMTP_CMD_ERR_PARAM_SYNTAX, SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> BODY=9BIT", ALL, 0, SMTP_CMD_ERR_PARAM_SYNTAX,
     SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> BODY=8BITMIME", ALL & ~SMTP_EXT_8BITMIME, 0,
     SMTP_CMD_ERR_PARAM_UNKNOWN, SMTP_VERB_MAIL},

    /* AUTH= (RFC 4954). */
    {"MAIL FROM:<a@b.c> AUTH=<>", ALL, 0, SMTP_CMD_OK, SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> AUTH=e+2Bf@b.c", ALL, 0, SMTP_CMD_OK, SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> AUTH=e+2", ALL, 0, SMTP_CMD_ERR_PARAM_SYNTAX,
     SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> AUTH=<x>", ALL, 0, SMTP_CMD_OK, SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> AUTH=<>", ALL & ~SMTP_EXT_AUTH, 0,
     SMTP_CMD_ERR_PARAM_UNKNOWN, SMTP_VERB_MAIL},

    /* RET, ENVID (RFC 3461). */
    {"MAIL FROM:<a@b.c> RET=FULL", ALL, 0, SMTP_CMD_OK, SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> RET=hdrs", ALL, 0, SMTP_CMD_OK, SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> RET=BODY", ALL, 0, SMTP_CMD_ERR_PARAM_SYNTAX,
     SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> RET", ALL, 0, SMTP_CMD_ERR_PARAM_SYNTAX,
     SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> ENVID=QQ314159", ALL, 0, SMTP_CMD_OK, SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> ENVID=a+20b", ALL, 0, SMTP_CMD_OK, SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> ENVID=a+0Db", ALL, 0, SMTP_CMD_ERR_PARAM_SYNTAX,
     SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> ENVID=a+", ALL, 0, SMTP_CMD_ERR_PARAM_SYNTAX,
     SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> RET=FULL", ALL & ~SMTP_EXT_DSN, 0,
     SMTP_CMD_ERR_PARAM_UNKNOWN, SMTP_VERB_MAIL},
    {"MAIL FROM:<a@b.c> NOTIFY=NEVER", ALL, 0, SMTP_CMD_ERR_PARAM_UNKNOWN,
     SMTP_VERB_MAIL},

    /* NOTIFY, ORCPT (RFC 3461). */
    {"RCPT TO:<a@b.c> NOTIFY=NEVER", ALL, 0, SMTP_CMD_OK, SMTP_VERB_RCPT},
    {"RCPT TO:<a@b.c> NOTIFY=SUCCESS,FAILURE,DELAY", ALL, 0, SMTP_CMD_OK,
     SMTP_VERB_RCPT},
    {"RCPT TO:<a@b.c> NOTIFY=failure", ALL, 0, SMTP_CMD_OK, SMTP_VERB_RCPT},
    {"RCPT TO:<a@b.c> NOTIFY=NEVER,SUCCESS", ALL, 0, SMTP_CMD_ERR_PARAM_SYNTAX,
     SMTP_VERB_RCPT},
    {"RCPT TO:<a@b.c> NOTIFY=SUCCESS,", ALL, 0, SMTP_CMD_ERR_PARAM_SYNTAX,
     SMTP_VERB_RCPT},
    {"RCPT TO:<a@b.c> NOTIFY=,SUCCESS", ALL, 0, SMTP_CMD_ERR_PARAM_SYNTAX,
     SMTP_VERB_RCPT},
    {"RCPT TO:<a@b.c> NOTIFY=SOMETIMES", ALL, 0, SMTP_CMD_ERR_PARAM_SYNTAX,
     SMTP_VERB_RCPT},
    {"RCPT TO:<a@b.c> NOTIFY", ALL, 0, SMTP_CMD_ERR_PARAM_SYNTAX,
     SMTP_VERB_RCPT},
    {"RCPT TO:<a@b.c> ORCPT=rfc822;a@b.c", ALL, 0, SMTP_CMD_OK, SMTP_VERB_RCPT},
    {"RCPT TO:<a@b.c> ORCPT=rfc822;a+2Bb@b.c", ALL, 0, SMTP_CMD_OK,
     SMTP_VERB_RCPT},
    {"RCPT TO:<a@b.c> ORCPT=rfc822", ALL, 0, SMTP_CMD_ERR_PARAM_SYNTAX,
     SMTP_VERB_RCPT},
    {"RCPT TO:<a@b.c> ORCPT=;a@b.c", ALL, 0, SMTP_CMD_ERR_PARAM_SYNTAX,
     SMTP_VERB_RCPT},
    {"RCPT TO:<a@b.c> ORCPT=rfc822;", ALL, 0, SMTP_CMD_ERR_PARAM_SYNTAX,
     SMTP_VERB_RCPT},
    {"RCPT TO:<a@b.c> ORCPT=rfc822;a+0Ab", ALL, 0, SMTP_CMD_ERR_PARAM_SYNTAX,
     SMTP_VERB_RCPT},
    {"RCPT TO:<a@b.c> ORCPT=rf.c;a", ALL, 0, SMTP_CMD_ERR_PARAM_SYNTAX,
     SMTP_VERB_RCPT},
    {"RCPT TO:<a@b.c> ORCPT=utf-8;j\xc3\xb6rg@x.y", ALL, SMTP_CMD_F_UTF8,
     SMTP_CMD_OK, SMTP_VERB_RCPT},
    {"RCPT TO:<a@b.c> ORCPT=rfc822;j\xc3\xb6rg@x.y", ALL, SMTP_CMD_F_UTF8,
     SMTP_CMD_ERR_PARAM_SYNTAX, SMTP_VERB_RCPT},
    {"RCPT TO:<a@b.c> NOTIFY=NEVER", ALL & ~SMTP_EXT_DSN, 0,
     SMTP_CMD_ERR_PARAM_UNKNOWN, SMTP_VERB_RCPT},
    {"RCPT TO:<a@b.c> SIZE=10", ALL, 0, SMTP_CMD_ERR_PARAM_UNKNOWN,
     SMTP_VERB_RCPT},
    {"RCPT TO:<a@b.c> NOTIFY=NEVER notify=NEVER", ALL, 0,
     SMTP_CMD_ERR_PARAM_DUP, SMTP_VERB_RCPT},

    /* BDAT (RFC 3030). */
    {"BDAT 0 LAST", ALL, 0, SMTP_CMD_OK, SMTP_VERB_BDAT},
    {"BDAT 1000", ALL, 0, SMTP_CMD_OK, SMTP_VERB_BDAT},
    {"bdat 10 last", ALL, 0, SMTP_CMD_OK, SMTP_VERB_BDAT},
    {"BDAT 18446744073709551615", ALL, 0, SMTP_CMD_OK, SMTP_VERB_BDAT},
    {"BDAT 18446744073709551616", ALL, 0, SMTP_CMD_ERR_TOO_BIG, SMTP_VERB_BDAT},
    {"BDAT 4294967296000000000000", ALL, 0, SMTP_CMD_ERR_TOO_BIG,
     SMTP_VERB_BDAT},
    {"BDAT", ALL, 0, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_BDAT},
    {"BDAT -1", ALL, 0, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_BDAT},
    {"BDAT 0x10", ALL, 0, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_BDAT},
    {"BDAT 10 FIRST", ALL, 0, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_BDAT},
    {"BDAT 10 LAST x", ALL, 0, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_BDAT},
    {"BDAT LAST", ALL, 0, SMTP_CMD_ERR_SYNTAX, SMTP_VERB_BDAT},
};

static void
test_table(void **state)
{
	struct smtp_cmd c;
	size_t i;
	int err;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		err = smtp_cmd_parse(rows[i].line, strlen(rows[i].line),
				     rows[i].ext, rows[i].flags, &c);
		if (err != rows[i].err || (int)c.err != rows[i].err)
			fail_msg("row %zu \"%s\": err %d, want %d", i,
				 rows[i].line, err, rows[i].err);
		if (c.verb != rows[i].verb)
			fail_msg("row %zu \"%s\": verb %d, want %d", i,
				 rows[i].line, c.verb, rows[i].verb);
		smtp_cmd_free(&c);
	}
}

static void
test_mail_values(void **state)
{
	const char *line = "MAIL FROM: <\"x y\"@Example.ORG> SIZE=12345 "
			   "BODY=8BITMIME AUTH=e+2Bf@b.c RET=HDRS "
			   "ENVID=QQ+2B1 SMTPUTF8";
	struct smtp_cmd c;

	(void)state;
	assert_int_equal(smtp_cmd_parse(line, strlen(line), ALL, 0, &c), 0);
	assert_int_equal(c.verb, SMTP_VERB_MAIL);
	assert_string_equal(c.verb_text, "MAIL");
	assert_string_equal(c.path.addr, "\"x y\"@Example.ORG");
	assert_int_equal(c.has_size, 1);
	assert_true(c.size == 12345);
	assert_int_equal(c.body, SMTP_BODY_8BITMIME);
	assert_string_equal(c.auth, "e+2Bf@b.c");
	assert_int_equal(c.ret, SMTP_RET_HDRS);
	assert_string_equal(c.envid, "QQ+2B1");
	assert_int_equal(c.smtputf8, 1);
	assert_int_equal(c.nparams, 6);
	assert_string_equal(c.params[0].keyword, "SIZE");
	assert_string_equal(c.params[0].value, "12345");
	assert_string_equal(c.params[5].keyword, "SMTPUTF8");
	assert_null(c.params[5].value);
	/* arg keeps the whole argument for logging. */
	assert_true(strncmp(c.arg, "FROM: <\"x y\"@Example.ORG> SIZE", 30) ==
		    0);
	smtp_cmd_free(&c);

	line = "MAIL FROM:<>";
	assert_int_equal(smtp_cmd_parse(line, strlen(line), ALL, 0, &c), 0);
	assert_true(c.path.flags & ADDR_NULL);
	assert_int_equal(c.has_size, 0);
	assert_int_equal(c.body, SMTP_BODY_NONE);
	assert_int_equal(c.ret, SMTP_RET_NONE);
	assert_null(c.auth);
	assert_null(c.envid);
	assert_int_equal(c.smtputf8, 0);
	smtp_cmd_free(&c);

	line = "MAIL FROM:<a@b.c> SIZE=18446744073709551615";
	assert_int_equal(smtp_cmd_parse(line, strlen(line), ALL, 0, &c), 0);
	assert_true(c.size == UINT64_MAX);
	smtp_cmd_free(&c);
}

static void
test_rcpt_values(void **state)
{
	const char *line = "RCPT TO:<user%remote@site> NOTIFY=SUCCESS,DELAY "
			   "ORCPT=rfc822;user+25remote@site";
	struct smtp_cmd c;

	(void)state;
	assert_int_equal(smtp_cmd_parse(line, strlen(line), ALL, 0, &c), 0);
	assert_true(c.path.flags & ADDR_ROUTING);
	assert_false(addr_is_plain(&c.path));
	assert_int_equal(c.notify, SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_DELAY);
	assert_string_equal(c.orcpt, "rfc822;user+25remote@site");
	smtp_cmd_free(&c);

	line = "RCPT TO:<a@b.c> NOTIFY=never";
	assert_int_equal(smtp_cmd_parse(line, strlen(line), ALL, 0, &c), 0);
	assert_int_equal(c.notify, SMTP_NOTIFY_NEVER);
	assert_null(c.orcpt);
	smtp_cmd_free(&c);

	line = "RCPT TO:<@relay.example:user@remote.example>";
	assert_int_equal(smtp_cmd_parse(line, strlen(line), ALL, 0, &c), 0);
	assert_string_equal(c.path.domain, "remote.example");
	assert_true(c.path.flags & ADDR_SOURCE_ROUTE);
	assert_int_equal(c.notify, 0);
	smtp_cmd_free(&c);
}

static void
test_other_values(void **state)
{
	struct smtp_cmd c;
	const char *line;

	(void)state;
	line = "EHLO  client.example  ";
	assert_int_equal(smtp_cmd_parse(line, strlen(line), ALL, 0, &c), 0);
	assert_string_equal(c.arg, "client.example");
	smtp_cmd_free(&c);

	line = "BDAT 1000 LAST";
	assert_int_equal(smtp_cmd_parse(line, strlen(line), ALL, 0, &c), 0);
	assert_true(c.bdat_size == 1000);
	assert_int_equal(c.bdat_last, 1);
	assert_false(smtp_cmd_must_close(&c));
	smtp_cmd_free(&c);

	line = "BDAT 18446744073709551615";
	assert_int_equal(smtp_cmd_parse(line, strlen(line), ALL, 0, &c), 0);
	assert_true(c.bdat_size == UINT64_MAX);
	assert_int_equal(c.bdat_last, 0);
	smtp_cmd_free(&c);

	line = "AUTH login dXNlcg==";
	assert_int_equal(smtp_cmd_parse(line, strlen(line), ALL, 0, &c), 0);
	assert_string_equal(c.auth_mech, "login");
	assert_string_equal(c.auth_initial, "dXNlcg==");
	assert_string_equal(c.arg, "login dXNlcg==");
	smtp_cmd_free(&c);

	line = "AUTH PLAIN";
	assert_int_equal(smtp_cmd_parse(line, strlen(line), ALL, 0, &c), 0);
	assert_null(c.auth_initial);
	smtp_cmd_free(&c);

	line = "XFOO bar";
	assert_int_equal(smtp_cmd_parse(line, strlen(line), ALL, 0, &c),
			 SMTP_CMD_ERR_UNKNOWN);
	assert_string_equal(c.verb_text, "XFOO");
	smtp_cmd_free(&c);

	/* The length is honoured: a NUL inside is an error, not an end. */
	assert_int_equal(smtp_cmd_parse("NOOP\0QUIT", 9, ALL, 0, &c),
			 SMTP_CMD_ERR_BAD_CHAR);
	smtp_cmd_free(&c);
	assert_int_equal(smtp_cmd_parse("QUITXXXX", 4, ALL, 0, &c), 0);
	assert_int_equal(c.verb, SMTP_VERB_QUIT);
	smtp_cmd_free(&c);
}

static void
test_envid_orcpt_limits(void **state)
{
	char line[1200];
	struct smtp_cmd c;
	int n;

	(void)state;
	n = snprintf(line, sizeof(line), "MAIL FROM:<a@b.c> ENVID=%0100d", 0);
	assert_int_equal(smtp_cmd_parse(line, n, ALL, 0, &c), 0);
	smtp_cmd_free(&c);
	n = snprintf(line, sizeof(line), "MAIL FROM:<a@b.c> ENVID=%0101d", 0);
	assert_int_equal(smtp_cmd_parse(line, n, ALL, 0, &c),
			 SMTP_CMD_ERR_PARAM_SYNTAX);
	smtp_cmd_free(&c);
	/* The limit is on the decoded value: 100 x "+41" is fine. */
	n = snprintf(line, sizeof(line), "MAIL FROM:<a@b.c> ENVID=");
	while (n < 24 + 300)
		n += snprintf(line + n, sizeof(line) - n, "+41");
	assert_int_equal(smtp_cmd_parse(line, n, ALL, 0, &c), 0);
	smtp_cmd_free(&c);

	n = snprintf(line, sizeof(line), "RCPT TO:<a@b.c> ORCPT=rfc822;%0500d",
		     0);
	assert_int_equal(smtp_cmd_parse(line, n, ALL, 0, &c), 0);
	smtp_cmd_free(&c);
	n = snprintf(line, sizeof(line), "RCPT TO:<a@b.c> ORCPT=rfc822;%0501d",
		     0);
	assert_int_equal(smtp_cmd_parse(line, n, ALL, 0, &c),
			 SMTP_CMD_ERR_PARAM_SYNTAX);
	smtp_cmd_free(&c);
}

static void
test_address_errors(void **state)
{
	char line[600];
	struct smtp_cmd c;
	int n;

	(void)state;
	n = snprintf(line, sizeof(line), "RCPT TO:<%065d@b.c>", 0);
	assert_int_equal(smtp_cmd_parse(line, n, ALL, 0, &c),
			 SMTP_CMD_ERR_ADDR_LENGTH);
	assert_int_equal(c.addr_err, ADDR_ERR_LOCAL_TOO_LONG);
	assert_int_equal(smtp_cmd_reply_code(&c), 553);
	smtp_cmd_free(&c);

	n = snprintf(line, sizeof(line), "MAIL FROM:<a@%0300d>", 0);
	assert_int_equal(smtp_cmd_parse(line, n, ALL, 0, &c),
			 SMTP_CMD_ERR_ADDR_LENGTH);
	smtp_cmd_free(&c);

	/* The address is judged before the parameters, as in Postfix. */
	n = snprintf(line, sizeof(line), "MAIL FROM:<a@@b.c> XYZZY");
	assert_int_equal(smtp_cmd_parse(line, n, ALL, 0, &c),
			 SMTP_CMD_ERR_SENDER);
	smtp_cmd_free(&c);
}

static void
check_reply(const char *line, unsigned ext, const char *want)
{
	struct smtp_cmd c;
	struct buf b = BUF_INIT;

	smtp_cmd_parse(line, strlen(line), ext, 0, &c);
	smtp_cmd_reply(&c, &b);
	if (strcmp(buf_cstr(&b), want) != 0)
		fail_msg("\"%s\": reply \"%s\", want \"%s\"", line,
			 buf_cstr(&b), want);
	assert_int_equal(smtp_cmd_reply_code(&c) == 0 ? 250
						      : smtp_cmd_reply_code(&c),
			 atoi(want));
	buf_free(&b);
	smtp_cmd_free(&c);
}

static void
test_replies(void **state)
{
	(void)state;
	check_reply("NOOP", ALL, "250 2.0.0 Ok");
	check_reply("FOO", ALL, "500 5.5.2 Error: command not recognized");
	check_reply("NO\rOP", ALL,
		    "500 5.5.2 Error: invalid character in command");
	check_reply("MAIL", ALL, "501 5.5.4 Syntax: MAIL FROM:<address>");
	check_reply("RCPT", ALL, "501 5.5.4 Syntax: RCPT TO:<address>");
	check_reply("HELO", ALL, "501 5.5.4 Syntax: HELO hostname");
	check_reply("EHLO", ALL, "501 5.5.4 Syntax: EHLO hostname");
	check_reply("DATA x", ALL, "501 5.5.4 Syntax: DATA");
	check_reply("BDAT x", ALL, "501 5.5.4 Syntax: BDAT count [LAST]");
	check_reply("MAIL FROM:<a b>", ALL,
		    "501 5.1.7 Bad sender address syntax (bad address syntax)");
	check_reply("RCPT TO:<a@b_c>", ALL,
		    "501 5.1.3 Bad recipient address syntax "
		    "(bad domain syntax)");
	check_reply("RCPT TO:<\xc3\xa9@b.c>", ALL,
		    "553 5.6.7 Non-ASCII address requires SMTPUTF8");
	check_reply("MAIL FROM:<a@b.c> FOO=1", ALL,
		    "555 5.5.4 Unsupported option: FOO");
	check_reply("MAIL FROM:<a@b.c> SIZE=1", 0,
		    "555 5.5.4 Unsupported option: SIZE");
	check_reply("MAIL FROM:<a@b.c> SIZE=x", ALL,
		    "501 5.5.4 Bad SIZE parameter syntax");
	check_reply("MAIL FROM:<a@b.c> RET=FULL ret=HDRS", ALL,
		    "501 5.5.4 Duplicate ret parameter");
	check_reply("MAIL FROM:<a@b.c> SIZE=18446744073709551616", ALL,
		    "552 5.3.4 Message size exceeds fixed limit");
	check_reply("BDAT 18446744073709551616", ALL,
		    "552 5.3.4 Message size exceeds fixed limit");
}

static void
test_bdat_must_close(void **state)
{
	static const char *bad[] = {"BDAT", "BDAT x", "BDAT 1 LAST x",
				    "BDAT 18446744073709551616"};
	struct smtp_cmd c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_not_equal(
		    smtp_cmd_parse(bad[i], strlen(bad[i]), ALL, 0, &c), 0);
		assert_true(smtp_cmd_must_close(&c));
		smtp_cmd_free(&c);
	}
	/* Other errors keep the session. */
	assert_int_not_equal(smtp_cmd_parse("MAIL", 4, ALL, 0, &c), 0);
	assert_false(smtp_cmd_must_close(&c));
	smtp_cmd_free(&c);
}

/*
 * strict_rfc821_envelopes: each line with its path under the strict
 * syntax (0) and the lenient one (LENIENT): the address the command
 * names, or NULL for a bad address syntax error (501 5.1.7 / 5.1.3).
 */
#define LENIENT SMTP_CMD_F_LENIENT

static const struct {
	const char *line;
	const char *strict; /* the address, or NULL for 501 5.1.x */
	const char *lenient;
} envelopes[] = {
    {"MAIL FROM:<user@example.org>", "user@example.org", "user@example.org"},
    {"MAIL FROM:user@example.org", NULL, "user@example.org"},
    {"MAIL FROM: user@example.org SIZE=10", NULL, "user@example.org"},
    {"RCPT TO:user@example.org", NULL, "user@example.org"},
    {"RCPT TO:Postmaster", NULL, "Postmaster"},
    /* A phrase before <...> and comments anywhere go. */
    {"MAIL FROM:Joe<joe@example.org>", NULL, "joe@example.org"},
    {"MAIL FROM:\"Joe Q. Public\"<joe@example.org>", NULL, "joe@example.org"},
    {"MAIL FROM:<joe@example.org>(Joe)", NULL, "joe@example.org"},
    {"MAIL FROM:joe@example.org(Joe(the)\\)Public)", NULL, "joe@example.org"},
    /* Parentheses do not hold blanks (Postfix's tokenizer). */
    {"MAIL FROM:joe@example.org(Joe Public)", NULL, NULL},
    {"MAIL FROM:<joe(home)@example.org>", NULL, "joe@example.org"},
    {"RCPT TO:< joe@example.org >", NULL, "joe@example.org"},
    {"RCPT TO:<joe @ example.org>", NULL, "joe@example.org"},
    {"MAIL FROM:<>", "", ""},
    {"MAIL FROM:Nobody<>", NULL, ""},
    /* Quoted strings keep their blanks and parentheses. */
    {"MAIL FROM:<\"a (b) c\"@example.org>", "\"a (b) c\"@example.org",
     "\"a (b) c\"@example.org"},
    {"MAIL FROM:\"a b\"@example.org", NULL, "\"a b\"@example.org"},
    {"MAIL FROM:<@relay.example:joe@example.org>", "joe@example.org",
     "joe@example.org"},
    /* Errors in both. */
    {"MAIL FROM:<joe@example.org", NULL, NULL},
    {"MAIL FROM:joe@example.org>", NULL, NULL},
    {"MAIL FROM:<<joe@example.org>>", NULL, NULL},
    {"MAIL FROM:<a@example.org><b@example.org>", NULL, NULL},
    {"MAIL FROM:<joe@example.org>>", NULL, NULL},
    {"MAIL FROM:\"joe@example.org", NULL, NULL},
    {"MAIL FROM:joe@example.org(unclosed", NULL, NULL},
    {"MAIL FROM:joe@example.org)", NULL, NULL},
    {"MAIL FROM:(only a comment)", NULL, NULL},
    {"MAIL FROM:()", NULL, NULL},
    {"RCPT TO:<>", NULL, NULL},
    {"RCPT TO:(x)<>", NULL, NULL},
    {"MAIL FROM:joe@@example.org", NULL, NULL},
    {"MAIL FROM:< >", NULL, ""},
};

static void
test_strict_rfc821_envelopes(void **state)
{
	struct smtp_cmd c;
	const char *want;
	size_t i;
	int mode, err;

	(void)state;
	for (i = 0; i < sizeof(envelopes) / sizeof(envelopes[0]); i++) {
		for (mode = 0; mode < 2; mode++) {
			want =
			    mode ? envelopes[i].lenient : envelopes[i].strict;
			err = smtp_cmd_parse(envelopes[i].line,
					     strlen(envelopes[i].line), ALL,
					     mode ? LENIENT : 0, &c);
			if (want == NULL && err != (c.verb == SMTP_VERB_MAIL
							? SMTP_CMD_ERR_SENDER
							: SMTP_CMD_ERR_RCPT))
				fail_msg("\"%s\" (%s): err %d, want a bad "
					 "address",
					 envelopes[i].line,
					 mode ? "lenient" : "strict", err);
			if (want != NULL &&
			    (err != 0 || strcmp(c.path.addr, want) != 0))
				fail_msg("\"%s\" (%s): err %d addr \"%s\", "
					 "want \"%s\"",
					 envelopes[i].line,
					 mode ? "lenient" : "strict", err,
					 c.path.addr, want);
			smtp_cmd_free(&c);
		}
	}
}

/* Hostile paths in the lenient syntax: long, deep, unbalanced. */
static void
test_lenient_hostile(void **state)
{
	static char line[70000];
	struct smtp_cmd c;
	struct buf b = BUF_INIT;
	size_t n, i;

	(void)state;
	/* The replies name the syntax error, as in strict mode. */
	smtp_cmd_parse("MAIL FROM:<a@b.c", 16, ALL, LENIENT, &c);
	smtp_cmd_reply(&c, &b);
	assert_string_equal(buf_cstr(&b), "501 5.1.7 Bad sender address syntax "
					  "(bad address syntax)");
	smtp_cmd_free(&c);
	buf_reset(&b);
	smtp_cmd_parse("RCPT TO:a@b.c>", 14, ALL, LENIENT, &c);
	smtp_cmd_reply(&c, &b);
	assert_string_equal(buf_cstr(&b),
			    "501 5.1.3 Bad recipient address syntax "
			    "(bad address syntax)");
	smtp_cmd_free(&c);
	buf_free(&b);

	/* A long address: the RFC 5321 limits hold without brackets. */
	n = (size_t)snprintf(line, sizeof(line), "MAIL FROM:a@");
	while (n < 12 + 300)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "b.");
	n += (size_t)snprintf(line + n, sizeof(line) - n, "c");
	assert_int_equal(smtp_cmd_parse(line, n, ALL, LENIENT, &c),
			 SMTP_CMD_ERR_ADDR_LENGTH);
	smtp_cmd_free(&c);

	/* A huge comment around a short address is dropped whole. */
	n = (size_t)snprintf(line, sizeof(line), "MAIL FROM:<a@b.c>(");
	for (i = 0; i < 60000; i++)
		line[n++] = "x.y"[i % 3];
	line[n++] = ')';
	assert_int_equal(smtp_cmd_parse(line, n, ALL, LENIENT, &c), 0);
	assert_string_equal(c.path.addr, "a@b.c");
	smtp_cmd_free(&c);
	/* ... but stays an error unclosed, or in strict mode. */
	assert_int_equal(smtp_cmd_parse(line, n - 1, ALL, LENIENT, &c),
			 SMTP_CMD_ERR_SENDER);
	smtp_cmd_free(&c);
	assert_int_not_equal(smtp_cmd_parse(line, n, ALL, 0, &c), 0);
	smtp_cmd_free(&c);

	/* Deeply nested comments, balanced and not. */
	n = (size_t)snprintf(line, sizeof(line), "RCPT TO:a@b.c");
	for (i = 0; i < 20000; i++)
		line[n++] = '(';
	for (i = 0; i < 20000; i++)
		line[n++] = ')';
	assert_int_equal(smtp_cmd_parse(line, n, ALL, LENIENT, &c), 0);
	assert_string_equal(c.path.addr, "a@b.c");
	smtp_cmd_free(&c);
	assert_int_equal(smtp_cmd_parse(line, n - 1, ALL, LENIENT, &c),
			 SMTP_CMD_ERR_RCPT);
	smtp_cmd_free(&c);

	/* Many brackets, and blanks inside brackets. */
	n = (size_t)snprintf(line, sizeof(line), "RCPT TO:");
	for (i = 0; i < 20000; i++)
		line[n++] = '<';
	n += (size_t)snprintf(line + n, sizeof(line) - n, "a@b.c");
	for (i = 0; i < 20000; i++)
		line[n++] = '>';
	assert_int_equal(smtp_cmd_parse(line, n, ALL, LENIENT, &c),
			 SMTP_CMD_ERR_RCPT);
	smtp_cmd_free(&c);
	n = (size_t)snprintf(line, sizeof(line), "RCPT TO:<");
	for (i = 0; i < 30000; i++)
		line[n++] = i % 2 ? ' ' : '\t';
	n +=
	    (size_t)snprintf(line + n, sizeof(line) - n, "a@b.c> NOTIFY=NEVER");
	assert_int_equal(smtp_cmd_parse(line, n, ALL, LENIENT, &c), 0);
	assert_string_equal(c.path.addr, "a@b.c");
	assert_int_equal(c.notify, SMTP_NOTIFY_NEVER);
	smtp_cmd_free(&c);

	/* Parameters after a lenient path are still checked. */
	assert_int_equal(
	    smtp_cmd_parse("MAIL FROM:a@b.c FOO=1", 21, ALL, LENIENT, &c),
	    SMTP_CMD_ERR_PARAM_UNKNOWN);
	smtp_cmd_free(&c);
	/* A phrase with unquoted blanks is not one word: "Joe" is taken
	 * for the address, as Postfix's tokenizer does. */
	assert_int_equal(
	    smtp_cmd_parse("MAIL FROM:Joe User <a@b.c>", 26, ALL, LENIENT, &c),
	    SMTP_CMD_ERR_SENDER);
	smtp_cmd_free(&c);
}

static void
test_verb_names(void **state)
{
	(void)state;
	assert_string_equal(smtp_verb_name(SMTP_VERB_STARTTLS), "STARTTLS");
	assert_string_equal(smtp_verb_name(SMTP_VERB_BDAT), "BDAT");
	assert_string_equal(smtp_verb_name(SMTP_VERB_UNKNOWN), "UNKNOWN");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_mail_values),
	    cmocka_unit_test(test_rcpt_values),
	    cmocka_unit_test(test_other_values),
	    cmocka_unit_test(test_envid_orcpt_limits),
	    cmocka_unit_test(test_address_errors),
	    cmocka_unit_test(test_replies),
	    cmocka_unit_test(test_bdat_must_close),
	    cmocka_unit_test(test_strict_rfc821_envelopes),
	    cmocka_unit_test(test_lenient_hostile),
	    cmocka_unit_test(test_verb_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
