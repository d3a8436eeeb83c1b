/*
 * test_hbc - lib/hbc: header_checks(5) actions on stored content: action
 * parsing, REJECT/DISCARD/HOLD/WARN/INFO/IGNORE/STRIP/PREPEND/REPLACE/
 * REDIRECT/BCC/PASS and their log lines, logical (folded) headers, the
 * MIME classes (primary, MIME, part, nested headers; body and boundary
 * lines), body_checks_size_limit, long lines in pieces, over-long
 * headers, disable_mime_input_processing, the smtp client's smaller
 * action set, and that any split of the input gives the same result.
 * Tables are regexp: and pcre: rules written in the table's name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "hbc.h"
#include "maps.h"
#include "msg.h"

static char log_path[64];

struct run {
	struct buf out;
	unsigned flags;
	char reason[256];
	char redirect[128];
	char filter[128];
	size_t nbcc;
	char *log;
};

static struct hbc_config cfg;

static int
setup(void **state)
{
	(void)state;
	strcpy(log_path, "/tmp/test_hbc.XXXXXX");
	int fd = mkstemp(log_path);
	if (fd < 0)
		return -1;
	close(fd);
	msg_init("test_hbc");
	return msg_log_to(log_path);
}

static int
teardown(void **state)
{
	(void)state;
	unlink(log_path);
	return 0;
}

static struct maps *
open_maps(const char *spec)
{
	struct buf err = BUF_INIT;
	struct maps *m = maps_open(spec, &err);

	if (m == NULL)
		fail_msg("%s: %s", spec, buf_cstr(&err));
	buf_free(&err);
	return m;
}

/* A configuration with these tables (NULL: none). */
static void
config(const char *header, const char *mime, const char *nested,
       const char *body)
{
	const char *specs[HBC_CLASSES] = {header, mime, nested, body};

	for (int c = 0; c < HBC_CLASSES; c++) {
		if (cfg.maps[c])
			maps_close(cfg.maps[c]);
		cfg.maps[c] = specs[c] ? open_maps(specs[c]) : NULL;
	}
	cfg.names[HBC_HEADER] = "header_checks";
	cfg.names[HBC_MIME] = "mime_header_checks";
	cfg.names[HBC_NESTED] = "nested_header_checks";
	cfg.names[HBC_BODY] = "body_checks";
	cfg.body_size_limit = 51200;
	cfg.line_limit = 2048;
	cfg.header_limit = 102400;
	cfg.boundary_limit = 2048;
	cfg.nesting_limit = 100;
	cfg.disable_mime = 0;
	cfg.actions = HBC_ALL_ACTIONS;
}

/* The log since the last truncation, each line without its time stamp
 * and program name (what follows the first "]: "). */
static char *
read_log(void)
{
	FILE *fp = fopen(log_path, "r");
	char *text = calloc(1, 1 << 20);
	char line[8192];
	size_t n = 0;

	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		const char *p = strstr(line, "]: ");
		p = p ? p + 3 : line;
		if (n + strlen(p) + 1 < (1 << 20)) {
			strcpy(text + n, p);
			n += strlen(p);
		}
	}
	fclose(fp);
	return text;
}

/* Checks in with the input fed in pieces of step bytes (0: at once). */
static void
run_step(const char *in, size_t step, struct run *r)
{
	struct hbc *h;
	const struct hbc_result *res;
	size_t len = strlen(in), off = 0, n;

	assert_int_equal(truncate(log_path, 0), 0);
	memset(r, 0, sizeof(*r));
	buf_init(&r->out);
	h = hbc_new(&cfg, "QID",
		    "from c.test[192.0.2.1]; from=<s@x.test> "
		    "to=<r@y.test> proto=ESMTP helo=<c.test>");
	while (off < len) {
		n = step == 0 || step > len - off ? len - off : step;
		hbc_feed(h, in + off, n, &r->out);
		off += n;
	}
	hbc_finish(h, &r->out);
	res = hbc_result(h);
	r->flags = res->flags;
	snprintf(r->reason, sizeof(r->reason), "%s", buf_cstr(&res->reason));
	snprintf(r->redirect, sizeof(r->redirect), "%s",
		 res->redirect ? res->redirect : "");
	snprintf(r->filter, sizeof(r->filter), "%s",
		 res->filter ? res->filter : "");
	r->nbcc = res->nbcc;
	hbc_free(h);
	r->log = read_log();
}

static void
run_free(struct run *r)
{
	buf_free(&r->out);
	free(r->log);
}

/* Runs at once, byte by byte and in 7-byte pieces: the same output and
 * flags every time; r gets the first run. */
static void
run(const char *in, struct run *r)
{
	static const size_t steps[] = {1, 7};

	run_step(in, 0, r);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct run o;
		run_step(in, steps[i], &o);
		assert_int_equal(o.out.len, r->out.len);
		assert_memory_equal(o.out.data, r->out.data, r->out.len);
		assert_int_equal(o.flags, r->flags);
		assert_string_equal(o.reason, r->reason);
		/* The same lines looked up, the same actions logged. */
		assert_string_equal(o.log, r->log);
		run_free(&o);
	}
}

static void
assert_out(struct run *r, const char *want)
{
	assert_int_equal(r->out.len, strlen(want));
	assert_memory_equal(r->out.data, want, strlen(want));
}

static void
assert_log(struct run *r, const char *want)
{
	if (strstr(r->log, want) == NULL)
		fail_msg("log lacks \"%s\":\n%s", want, r->log);
}

static const char MSG[] = "Received: from c.test\r\n"
			  "Subject: hello\r\n"
			  "  world\r\n"
			  "From: <s@x.test>\r\n"
			  "\r\n"
			  "line one\r\n"
			  "buy cheap pills\r\n";

static void
test_action_parse(void **state)
{
	struct hbc_action a;

	(void)state;
	hbc_action_parse("REJECT go away", &a);
	assert_int_equal(a.verb, HBC_REJECT);
	assert_string_equal(a.text, "go away");
	hbc_action_parse("reject", &a);
	assert_int_equal(a.verb, HBC_REJECT);
	assert_string_equal(a.text, "");
	hbc_action_parse("Ok", &a);
	assert_int_equal(a.verb, HBC_DUNNO);
	hbc_action_parse("  prepend\tX-A: b", &a);
	assert_int_equal(a.verb, HBC_PREPEND);
	assert_string_equal(a.text, "X-A: b");
	hbc_action_parse("REJECTED x", &a);
	assert_int_equal(a.verb, HBC_UNKNOWN);
	hbc_action_parse("FILTER smtp:[127.0.0.1]:10025", &a);
	assert_int_equal(a.verb, HBC_FILTER);
	hbc_action_parse("", &a);
	assert_int_equal(a.verb, HBC_UNKNOWN);
}

static void
test_no_match_is_unchanged(void **state)
{
	struct run r;

	(void)state;
	config("regexp:{ {/^X-Nothing:/ REJECT} }", NULL, NULL,
	       "pcre:{ {/^nothing$/ REJECT} }");
	run(MSG, &r);
	assert_out(&r, MSG);
	assert_int_equal(r.flags, 0);
	assert_string_equal(r.log, "");
	run_free(&r);
}

static void
test_reject_and_log_line(void **state)
{
	struct run r;

	(void)state;
	config("regexp:{ {/^Subject: hello/ REJECT} }", NULL, NULL, NULL);
	run(MSG, &r);
	assert_int_equal(r.flags, HBC_R_REJECT);
	assert_string_equal(r.reason, "5.7.1 message content rejected");
	/* The folded header is one line to the table, shown on one line. */
	assert_log(&r, "QID: reject: header Subject: hello   world from "
		       "c.test[192.0.2.1]; from=<s@x.test> to=<r@y.test> "
		       "proto=ESMTP helo=<c.test>: 5.7.1 message content "
		       "rejected\n");
	/* Nothing after the rejected header is output. */
	assert_out(&r, "Received: from c.test\r\n");
	run_free(&r);

	config("pcre:{ {/^Subject:/ REJECT Spam is not welcome} }", NULL, NULL,
	       NULL);
	run(MSG, &r);
	assert_string_equal(r.reason, "5.7.1 Spam is not welcome");
	run_free(&r);
	config("pcre:{ {/^Subject:/ REJECT 4.7.0 later} }", NULL, NULL, NULL);
	run(MSG, &r);
	assert_string_equal(r.reason, "4.7.0 later");
	run_free(&r);
}

static void
test_folded_header_is_one_logical_line(void **state)
{
	struct run r;

	(void)state;
	/* The continuation is joined with "\n", its white space kept. */
	config("pcre:{ {/^Subject: hello\\n  world$/ WARN folded} }", NULL,
	       NULL, NULL);
	run(MSG, &r);
	assert_int_equal(r.flags, 0);
	assert_out(&r, MSG);
	assert_log(&r, "QID: warning: header Subject: hello   world from "
		       "c.test[192.0.2.1]; from=<s@x.test> to=<r@y.test> "
		       "proto=ESMTP helo=<c.test>: folded\n");
	run_free(&r);
	/* POSIX: '.' crosses the line end. */
	config("regexp:{ {/^Subject: hello.*world$/ INFO} }", NULL, NULL, NULL);
	run(MSG, &r);
	assert_log(&r, "QID: info: header Subject: hello   world from ");
	assert_log(&r, "helo=<c.test>\n");
	run_free(&r);
}

static void
test_edit_actions(void **state)
{
	struct run r;

	(void)state;
	config("regexp:{ {/^Subject:/ IGNORE} }", NULL, NULL, NULL);
	run(MSG, &r);
	assert_out(&r, "Received: from c.test\r\nFrom: <s@x.test>\r\n\r\n"
		       "line one\r\nbuy cheap pills\r\n");
	assert_string_equal(r.log, "");
	run_free(&r);

	config("regexp:{ {/^From:/ PREPEND X-Seen: yes} }", NULL, NULL, NULL);
	run(MSG, &r);
	assert_out(&r, "Received: from c.test\r\nSubject: hello\r\n  world\r\n"
		       "X-Seen: yes\r\nFrom: <s@x.test>\r\n\r\n"
		       "line one\r\nbuy cheap pills\r\n");
	assert_log(&r, "QID: prepend: header From: <s@x.test> from ");
	assert_log(&r, ": X-Seen: yes\n");
	run_free(&r);

	config("pcre:{ {/^Received:.*/ REPLACE Received: hidden} }", NULL, NULL,
	       "pcre:{ {/^buy (\\w+)/ REPLACE bought $1} }");
	run(MSG, &r);
	assert_out(&r, "Received: hidden\r\nSubject: hello\r\n  world\r\n"
		       "From: <s@x.test>\r\n\r\nline one\r\nbought cheap\r\n");
	assert_log(&r, "QID: replace: header Received: from c.test from ");
	assert_log(&r, "QID: replace: body buy cheap pills from ");
	run_free(&r);

	/* A header must stay a header: the line is kept, with a warning. */
	config("regexp:{ {/^From:/ PREPEND not a header} }", NULL, NULL, NULL);
	run(MSG, &r);
	assert_out(&r, MSG);
	assert_log(&r, "bad PREPEND text \"not a header\" in header_checks");
	run_free(&r);

	config("regexp:{ {/^From:/ STRIP gone} }", NULL, NULL, NULL);
	run(MSG, &r);
	assert_log(&r, "QID: strip: header From: <s@x.test> from ");
	assert_null(strstr(r.out.data, "From:"));
	run_free(&r);
}

static void
test_hold_discard_redirect_bcc_pass(void **state)
{
	struct run r;

	(void)state;
	config("regexp:{ {/^Subject:/ HOLD look at it}, {/^From:/ REDIRECT "
	       "boss@y.test} }",
	       NULL, NULL, "regexp:{ {/^line/ BCC copy@y.test} }");
	run(MSG, &r);
	assert_int_equal(r.flags, HBC_R_HOLD);
	assert_out(&r, MSG);
	assert_string_equal(r.redirect, "boss@y.test");
	assert_int_equal(r.nbcc, 1);
	assert_log(&r, "QID: hold: header Subject: hello   world from ");
	assert_log(&r, ": look at it\n");
	assert_log(&r, "QID: redirect: header From: <s@x.test> from ");
	run_free(&r);

	config(NULL, NULL, NULL, "regexp:{ {/pills/ DISCARD} }");
	run(MSG, &r);
	assert_int_equal(r.flags, HBC_R_DISCARD);
	assert_log(&r, "QID: discard: body buy cheap pills from "
		       "c.test[192.0.2.1]; from=<s@x.test> to=<r@y.test> "
		       "proto=ESMTP helo=<c.test>\n");
	run_free(&r);

	/* PASS: nothing after it is checked. */
	config("regexp:{ {/^Received:/ PASS trusted} }", NULL, NULL,
	       "regexp:{ {/pills/ REJECT} }");
	run(MSG, &r);
	assert_int_equal(r.flags, HBC_R_PASS);
	assert_out(&r, MSG);
	run_free(&r);

	/* FILTER: the message goes to the filter (the last wins), the line
	 * stays; a malformed value is a warning; unknown actions are kept. */
	config("regexp:{ {/^Received:/ FILTER smtp:[127.0.0.1]:10024}, "
	       "{/^Subject:/ FILTER smtp:[127.0.0.1]:10025}, "
	       "{/^From:/ FROBNICATE} }",
	       NULL, NULL, "regexp:{ {/pills/ FILTER no-colon} }");
	run(MSG, &r);
	assert_int_equal(r.flags, 0);
	assert_out(&r, MSG);
	assert_string_equal(r.filter, "smtp:[127.0.0.1]:10025");
	assert_log(&r, "QID: filter: header Subject: hello   world from "
		       "c.test[192.0.2.1]; from=<s@x.test> to=<r@y.test> "
		       "proto=ESMTP helo=<c.test>: smtp:[127.0.0.1]:10025");
	assert_log(&r, "bad FILTER value \"no-colon\" in body_checks map");
	assert_log(&r, "unknown command in header_checks map: FROBNICATE");
	run_free(&r);
}

static const char MIME[] =
    "Subject: mime\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed;\r\n"
    "\tboundary=\"==b1==\"\r\n"
    "\r\n"
    "preamble\r\n"
    "--==b1==\r\n"
    "Content-Type: text/plain\r\n"
    "X-Part: one\r\n"
    "\r\n"
    "part one text\r\n"
    "--==b1==\r\n"
    "Content-Type: application/octet-stream; name=\"evil.exe\"\r\n"
    "\r\n"
    "TVqQAAMAAAAEAAAA\r\n"
    "--==b1==\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "Subject: inner\r\n"
    "From: <inner@z.test>\r\n"
    "\r\n"
    "inner body\r\n"
    "--==b1==--\r\n"
    "epilogue\r\n";

static void
test_mime_classes(void **state)
{
	struct run r;

	(void)state;
	/* Each class logs its own tag: which table saw which line. */
	config("regexp:{ {/./ INFO H} }", "regexp:{ {/./ INFO M} }",
	       "regexp:{ {/./ INFO N} }", "regexp:{ {/./ INFO B} }");
	run(MIME, &r);
	assert_out(&r, MIME);
	assert_log(&r, "info: header Subject: mime from c.test[192.0.2.1]; "
		       "from=<s@x.test> to=<r@y.test> proto=ESMTP "
		       "helo=<c.test>: H\n");
	assert_log(&r, "info: header MIME-Version: 1.0 from c.test");
	assert_log(&r, "info: header Content-Type: multipart/mixed;  "
		       "boundary=\"==b1==\" from");
	assert_log(&r, "info: body preamble from");
	assert_log(&r, "info: body --==b1== from");
	assert_log(&r, "info: header X-Part: one from");
	assert_log(&r, "info: body part one text from");
	assert_log(&r, "info: header Subject: inner from");
	assert_log(&r, "info: body inner body from");
	assert_log(&r, "info: body --==b1==-- from");
	assert_log(&r, "info: body epilogue from");
	/* The tags. */
	assert_non_null(strstr(r.log, "MIME-Version: 1.0 from c.test[192.0.2.1]"
				      "; from=<s@x.test> to=<r@y.test> "
				      "proto=ESMTP helo=<c.test>: M\n"));
	assert_non_null(strstr(r.log, "X-Part: one from c.test[192.0.2.1]; "
				      "from=<s@x.test> to=<r@y.test> "
				      "proto=ESMTP helo=<c.test>: M\n"));
	assert_non_null(strstr(r.log, "Subject: inner from c.test[192.0.2.1]; "
				      "from=<s@x.test> to=<r@y.test> "
				      "proto=ESMTP helo=<c.test>: N\n"));
	assert_non_null(strstr(r.log, "Subject: mime from c.test[192.0.2.1]; "
				      "from=<s@x.test> to=<r@y.test> "
				      "proto=ESMTP helo=<c.test>: H\n"));
	run_free(&r);

	/* The classic: refuse an attachment by its name. */
	config("regexp:{ {/^Content-Type:/ REJECT primary} }",
	       "pcre:{ {/^Content-(Disposition|Type).*name\\s*=\\s*\"?(.*"
	       "\\.(exe|bat))\"?\\s*(;|$)/x REJECT Attachment name \"$2\" may "
	       "not end with \".$3\"} }",
	       NULL, NULL);
	run(MIME, &r);
	assert_int_equal(r.flags, HBC_R_REJECT);
	assert_string_equal(r.reason, "5.7.1 Attachment name \"evil.exe\" may "
				      "not end with \".exe\"");
	run_free(&r);
}

static void
test_disable_mime(void **state)
{
	struct run r;

	(void)state;
	config("regexp:{ {/./ INFO H} }", "regexp:{ {/./ INFO M} }",
	       "regexp:{ {/./ INFO N} }", "regexp:{ {/./ INFO B} }");
	cfg.disable_mime = 1;
	run(MIME, &r);
	assert_out(&r, MIME);
	/* The primary headers, MIME ones included, are header_checks'. */
	assert_log(&r, "Content-Type: multipart/mixed;  boundary=\"==b1==\" "
		       "from c.test[192.0.2.1]; from=<s@x.test> to=<r@y.test> "
		       "proto=ESMTP helo=<c.test>: H\n");
	/* Everything after them is body, line by line. */
	assert_log(&r, "info: body X-Part: one from");
	assert_log(&r, "info: body Subject: inner from");
	assert_null(strstr(r.log, ": M\n"));
	assert_null(strstr(r.log, ": N\n"));
	run_free(&r);
}

static void
test_body_size_limit_and_pieces(void **state)
{
	struct run r;
	char big[400];

	(void)state;
	config(NULL, NULL, NULL, "regexp:{ {/pills/ REJECT} }");
	cfg.body_size_limit = 10; /* "line one\r\n" fills it */
	run(MSG, &r);
	assert_int_equal(r.flags, 0);
	assert_out(&r, MSG);
	run_free(&r);

	/* A long body line is checked in pieces of line_limit bytes. */
	config(NULL, NULL, NULL, "regexp:{ {/^x{10}$/ INFO piece} }");
	cfg.line_limit = 10;
	snprintf(big, sizeof(big), "S: a\r\n\r\n%s\r\n",
		 "xxxxxxxxxxxxxxxxxxxxxxxxx");
	run(big, &r);
	assert_out(&r, big);
	/* Two pieces of ten, then "xxxxx". */
	assert_non_null(strstr(r.log, "info: body xxxxxxxxxx from"));
	assert_non_null(strstr(strstr(r.log, "info: body xxxxxxxxxx from") + 1,
			       "info: body xxxxxxxxxx from"));
	run_free(&r);
}

static void
test_long_header_passes(void **state)
{
	struct run r;
	struct buf in = BUF_INIT;

	(void)state;
	config("regexp:{ {/^X-Long:/ WARN long}, {/^Subject:/ REJECT} }", NULL,
	       NULL, NULL);
	cfg.header_limit = 100;
	buf_puts(&in, "X-Long: ");
	for (int i = 0; i < 50; i++)
		buf_puts(&in, "0123456789");
	buf_puts(&in, "\r\n more\r\n  more\r\nFrom: a\r\n\r\nbody\r\n");
	run(buf_cstr(&in), &r);
	/* Checked as far as it is held; the whole field is kept. */
	assert_int_equal(r.flags, 0);
	assert_out(&r, buf_cstr(&in));
	assert_log(&r, "QID: warning: header X-Long: 0123456789");
	run_free(&r);
	/* A later header is checked again. */
	buf_puts(&in, "");
	buf_truncate(&in, 0);
	buf_puts(&in, "X-Long: ");
	for (int i = 0; i < 50; i++)
		buf_puts(&in, "0123456789");
	buf_puts(&in, "\r\nSubject: x\r\n\r\nbody\r\n");
	run(buf_cstr(&in), &r);
	assert_int_equal(r.flags, HBC_R_REJECT);
	run_free(&r);
	buf_free(&in);
}

static void
test_smtp_action_subset(void **state)
{
	struct run r;

	(void)state;
	config("regexp:{ {/^Subject:/ REJECT}, {/^From:/ REPLACE From: x} }",
	       NULL, NULL, NULL);
	cfg.actions = HBC_SMTP_ACTIONS;
	run(MSG, &r);
	assert_int_equal(r.flags, 0);
	assert_out(&r, "Received: from c.test\r\nSubject: hello\r\n  world\r\n"
		       "From: x\r\n\r\nline one\r\nbuy cheap pills\r\n");
	assert_log(&r, "REJECT action in header_checks map is not supported "
		       "here");
	run_free(&r);
}

static void
test_lookup_error_defers(void **state)
{
	struct run r;
	struct buf in = BUF_INIT;

	(void)state;
	/* A folding table refuses a key over MAPS_KEY_MAX. */
	config("inline:{ {a = REJECT} }", NULL, NULL, NULL);
	buf_puts(&in, "Subject: ");
	for (int i = 0; i < 300; i++)
		buf_puts(&in, "0123456789");
	buf_puts(&in, "\r\n\r\nbody\r\n");
	run(buf_cstr(&in), &r);
	assert_int_equal(r.flags, HBC_R_DEFER);
	assert_log(&r, "header_checks map lookup problem");
	run_free(&r);
	buf_free(&in);
}

static void
test_no_header_end_and_bare_lines(void **state)
{
	struct run r;

	(void)state;
	/* A line that is no header ends the header section. */
	config("regexp:{ {/^Subject/ INFO H} }", NULL, NULL,
	       "regexp:{ {/^not a header/ INFO B} }");
	run("Subject: a\r\nnot a header\r\nSubject: b", &r);
	assert_out(&r, "Subject: a\r\nnot a header\r\nSubject: b");
	assert_log(&r, "info: header Subject: a from");
	assert_log(&r, "info: body not a header from");
	assert_null(strstr(r.log, "Subject: b"));
	run_free(&r);
}

static void
test_open(void **state)
{
	static const char *const names[HBC_CLASSES] = {"h", "m", "n", "b"};
	const char *const good[HBC_CLASSES] = {"regexp:{ {/a/ WARN} }",
					       "regexp:{ {/a/ WARN} }", "",
					       "pcre:{ "
					       "{/b/ WARN} }"};
	const char *const bad[HBC_CLASSES] = {"", "", "regexp:{ {/(/ WARN} }",
					      ""};
	const char *const unknown[HBC_CLASSES] = {"cdb:/etc/x", "", "", ""};
	struct hbc_config c = {0};
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(hbc_open(&c, names, good, &err), 0);
	/* $header_checks defaults: one table, opened once. */
	assert_ptr_equal(c.maps[0], c.maps[1]);
	assert_null(c.maps[2]);
	assert_non_null(c.maps[3]);
	assert_string_equal(c.names[3], "b");
	assert_true(hbc_wanted(&c));
	assert_null(hbc_changed(&c));
	maps_close(c.maps[0]);
	maps_close(c.maps[3]);
	assert_int_equal(hbc_open(&c, names, bad, &err), -1);
	assert_true(strncmp(buf_cstr(&err), "n: ", 3) == 0);
	assert_int_equal(hbc_open(&c, names, unknown, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "h: cdb:/etc/x: unsupported"));
	buf_free(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_action_parse),
	    cmocka_unit_test(test_open),
	    cmocka_unit_test(test_no_match_is_unchanged),
	    cmocka_unit_test(test_reject_and_log_line),
	    cmocka_unit_test(test_folded_header_is_one_logical_line),
	    cmocka_unit_test(test_edit_actions),
	    cmocka_unit_test(test_hold_discard_redirect_bcc_pass),
	    cmocka_unit_test(test_mime_classes),
	    cmocka_unit_test(test_disable_mime),
	    cmocka_unit_test(test_body_size_limit_and_pieces),
	    cmocka_unit_test(test_long_header_passes),
	    cmocka_unit_test(test_smtp_action_subset),
	    cmocka_unit_test(test_lookup_error_defers),
	    cmocka_unit_test(test_no_header_end_and_bare_lines),
	};
	int r = cmocka_run_group_tests(tests, setup, teardown);
	config(NULL, NULL, NULL, NULL);
	return r;
}
