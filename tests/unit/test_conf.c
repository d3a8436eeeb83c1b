/*
 * test_conf - unit tests of lib/conf.c and lib/conf_params.c: the file
 * syntax, every error message with its file:line, expansion and loop
 * detection, the parameter table and its defaults, -o overrides, the
 * typed parsers, and conf_load() on a real directory (fatal path
 * included, run in a child process).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "unit_helpers.h"
#include "xalloc.h"

static struct buf err;

static int
setup(void **state)
{
	(void)state;
	conf_reset();
	buf_reset(&err);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	conf_reset();
	return 0;
}

/* Parses text as t.conf; the parse must succeed. */
static void
load(const char *text)
{
	int rc = conf_read_string("t.conf", text, &err);

	if (rc != 0)
		fail_msg("unexpected error: %s", buf_cstr(&err));
}

/* Parses text; conf_check must succeed. */
static void
load_ok(const char *text)
{
	load(text);
	if (conf_check(&err) != 0)
		fail_msg("unexpected check error: %s", buf_cstr(&err));
}

/* The error of parsing text (which must fail). */
static const char *
parse_error(const char *text)
{
	assert_int_equal(conf_read_string("t.conf", text, &err), -1);
	return buf_cstr(&err);
}

/* The error of checking text (which parses, then fails the check). */
static const char *
check_error(const char *text)
{
	load(text);
	assert_int_equal(conf_check(&err), -1);
	return buf_cstr(&err);
}

/* What fn writes to stderr. */
static char *
capture_stderr(void (*fn)(void))
{
	char path[] = "/tmp/test_conf_XXXXXX";
	int fd = mkstemp(path);
	int saved = dup(STDERR_FILENO);
	char text[4096];
	ssize_t n;

	assert_true(fd >= 0 && saved >= 0);
	unlink(path);
	dup2(fd, STDERR_FILENO);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, text, sizeof(text) - 1, 0);
	close(fd);
	assert_true(n >= 0);
	text[n] = '\0';
	return xstrdup(text);
}

/* Runs fn in a child; returns its wait status and its stderr in out. */
static int
run_child(void (*fn)(void *), void *arg, struct buf *out)
{
	int fds[2];
	pid_t pid;
	char chunk[1024];
	ssize_t n;
	int status;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], STDERR_FILENO);
		fn(arg);
		_exit(0);
	}
	close(fds[1]);
	while ((n = read(fds[0], chunk, sizeof(chunk))) > 0)
		buf_append(out, chunk, (size_t)n);
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

/*
 * The parameter table.
 */

static void
test_table_sorted_and_found(void **state)
{
	const struct conf_param *p;

	(void)state;
	for (p = conf_params; p->name != NULL; p++) {
		if (p != conf_params)
			assert_true(strcmp(p[-1].name, p->name) < 0);
		assert_ptr_equal(conf_param_find(p->name), p);
	}
	assert_true(p - conf_params > 90);
	assert_null(conf_param_find("no_such_parameter"));
	assert_null(conf_param_find(""));
	assert_null(conf_param_find("zzzz"));
	assert_null(conf_param_find("aaaa"));
}

/* Every default parses by its own type, meets its minimum and expands. */
static void
test_every_default_passes_its_type(void **state)
{
	const struct conf_param *p;
	long long v;
	int b;

	(void)state;
	load_ok("");
	for (p = conf_params; p->name != NULL; p++) {
		assert_non_null(p->def);
		assert_false(conf_is_set(p->name));
		assert_string_equal(conf_origin(p->name), "default");
		assert_non_null(conf_raw(p->name));
		assert_non_null(conf_str(p->name));
		switch (p->type) {
		case CONF_INT:
			assert_int_equal(conf_parse_int(p->def, &v), 0);
			assert_true(v >= p->min);
			assert_int_equal(conf_int(p->name), v);
			break;
		case CONF_BOOL:
			assert_int_equal(conf_parse_bool(p->def, &b), 0);
			assert_int_equal(conf_bool(p->name), b);
			break;
		case CONF_TIME:
			assert_non_null(strchr("smhdw", p->time_unit));
			assert_int_equal(
			    conf_parse_time(p->def, p->time_unit, &v), 0);
			assert_true(v >= p->min);
			assert_int_equal(conf_time(p->name), v);
			break;
		case CONF_SIZE:
			assert_int_equal(conf_parse_size(p->def, &v), 0);
			assert_true(v >= p->min);
			assert_int_equal(conf_size(p->name), v);
			break;
		case CONF_STR:
			break;
		}
	}
}

struct expect {
	const char *name;
	enum conf_type type;
	const char *def;
	char unit;
};

/* The parameters DESIGN.md and the issue name, with their defaults. */
static const struct expect expected[] = {
    {"config_directory", CONF_STR, "/etc/panacea", 0},
    {"queue_directory", CONF_STR, "/var/spool/panacea", 0},
    {"daemon_directory", CONF_STR, "/usr/libexec/panacea", 0},
    {"mail_owner", CONF_STR, "panacea", 0},
    {"mail_name", CONF_STR, "Panacea", 0},
    {"myorigin", CONF_STR, "$myhostname", 0},
    {"mydestination", CONF_STR, "$myhostname, localhost.$mydomain, localhost",
     0},
    {"mynetworks", CONF_STR, "127.0.0.0/8 [::1]/128", 0},
    {"relay_domains", CONF_STR, "", 0},
    {"relayhost", CONF_STR, "", 0},
    {"inet_interfaces", CONF_STR, "all", 0},
    {"inet_protocols", CONF_STR, "all", 0},
    {"maillog_file", CONF_STR, "", 0},
    {"mail_spool_directory", CONF_STR, "/var/mail", 0},
    {"home_mailbox", CONF_STR, "", 0},
    {"alias_maps", CONF_STR, "hash:$config_directory/aliases", 0},
    {"alias_database", CONF_STR, "$alias_maps", 0},
    {"transport_maps", CONF_STR, "", 0},
    {"local_recipient_maps", CONF_STR, "unix:passwd.byname $alias_maps", 0},
    {"message_size_limit", CONF_SIZE, "10240000", 0},
    {"smtpd_banner", CONF_STR, "$myhostname ESMTP $mail_name", 0},
    {"smtpd_recipient_limit", CONF_INT, "1000", 0},
    {"smtpd_tls_cert_file", CONF_STR, "", 0},
    {"smtpd_tls_key_file", CONF_STR, "", 0},
    {"smtpd_tls_security_level", CONF_STR, "", 0},
    {"smtp_tls_security_level", CONF_STR, "", 0},
    {"smtpd_sasl_auth_enable", CONF_BOOL, "no", 0},
    {"smtpd_local_submission", CONF_BOOL, "no", 0},
    {"maximal_queue_lifetime", CONF_TIME, "5d", 'd'},
    {"bounce_queue_lifetime", CONF_TIME, "5d", 'd'},
    {"minimal_backoff_time", CONF_TIME, "300s", 's'},
    {"maximal_backoff_time", CONF_TIME, "4000s", 's'},
    {"queue_run_delay", CONF_TIME, "300s", 's'},
    {"delay_warning_time", CONF_TIME, "0h", 'h'},
    {"dns_nameservers", CONF_STR, "", 0},
    {"sasldb_path", CONF_STR, "$config_directory/sasldb2", 0},
    {"smtp_destination_port", CONF_INT, "25", 0},
    {"smtp_bind_address", CONF_STR, "", 0},
    {"pop3d_tls_cert_file", CONF_STR, "$smtpd_tls_cert_file", 0},
    {"pop3d_tls_key_file", CONF_STR, "$smtpd_tls_key_file", 0},
    {"max_use", CONF_INT, "100", 0},
    {"max_idle", CONF_TIME, "100s", 's'},
    {"default_process_limit", CONF_INT, "100", 0},
    {"service_throttle_time", CONF_TIME, "60s", 's'},
    {"ipc_timeout", CONF_TIME, "3600s", 's'},
    {"smtpd_timeout", CONF_TIME, "300s", 's'},
    {"smtpd_error_sleep_time", CONF_TIME, "1s", 's'},
    {"smtpd_soft_error_limit", CONF_INT, "10", 0},
    {"smtpd_hard_error_limit", CONF_INT, "20", 0},
    {"line_length_limit", CONF_INT, "2048", 0},
    {"hopcount_limit", CONF_INT, "50", 0},
    {"qmgr_message_active_limit", CONF_INT, "20000", 0},
    {"default_destination_concurrency_limit", CONF_INT, "20", 0},
    {"default_destination_recipient_limit", CONF_INT, "50", 0},
    {"recipient_delimiter", CONF_STR, "", 0},
    {"allow_mail_to_commands", CONF_STR, "alias, forward", 0},
    {"mailbox_size_limit", CONF_SIZE, "51200000", 0},
    {"smtp_connect_timeout", CONF_TIME, "30s", 's'},
    {"smtp_helo_timeout", CONF_TIME, "300s", 's'},
    {"smtp_mx_address_limit", CONF_INT, "5", 0},
    {"import_environment", CONF_STR, "MAIL_CONFIG TZ LANG", 0},
    {"myhostname", CONF_STR, "", 0},
    {"mydomain", CONF_STR, "", 0},
};

static void
test_required_parameters(void **state)
{
	size_t i;
	const struct conf_param *p;

	(void)state;
	for (i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		p = conf_param_find(expected[i].name);
		if (p == NULL)
			fail_msg("missing parameter %s", expected[i].name);
		assert_int_equal(p->type, expected[i].type);
		assert_string_equal(p->def, expected[i].def);
		if (p->type == CONF_TIME)
			assert_int_equal(p->time_unit, expected[i].unit);
	}
}

static void
test_default_values(void **state)
{
	char host[256];
	char want[300];
	char banner[400];
	const char *dot;

	(void)state;
	load_ok("");
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	host[sizeof(host) - 1] = '\0';
	snprintf(want, sizeof(want), "%s%s", host,
		 strchr(host, '.') ? "" : ".localdomain");
	assert_string_equal(conf_str("myhostname"), want);
	dot = strchr(want, '.');
	assert_string_equal(conf_str("mydomain"), dot + 1);
	assert_string_equal(conf_str("myorigin"), want);
	snprintf(banner, sizeof(banner), "%s ESMTP Panacea", want);
	assert_string_equal(conf_str("smtpd_banner"), banner);
	assert_string_equal(conf_str("alias_maps"),
			    "hash:/etc/panacea/aliases");
	assert_string_equal(conf_str("alias_database"),
			    "hash:/etc/panacea/aliases");
	assert_string_equal(conf_str("local_recipient_maps"),
			    "unix:passwd.byname hash:/etc/panacea/aliases");
	assert_string_equal(conf_str("sasldb_path"), "/etc/panacea/sasldb2");
	assert_int_equal(conf_size("message_size_limit"), 10240000);
	assert_int_equal(conf_time("maximal_queue_lifetime"), 5 * 86400);
	assert_int_equal(conf_time("delay_warning_time"), 0);
	assert_int_equal(conf_int("smtp_destination_port"), 25);
	assert_false(conf_bool("smtpd_sasl_auth_enable"));
	assert_string_equal(conf_str("relay_domains"), "");
}

static void
test_hostname_and_domain(void **state)
{
	(void)state;
	load_ok("myhostname = mail.example.com\n");
	assert_string_equal(conf_str("mydomain"), "example.com");
	assert_string_equal(conf_raw("mydomain"), "example.com");
	assert_string_equal(
	    conf_str("mydestination"),
	    "mail.example.com, localhost.example.com, localhost");
	load_ok("myhostname = single\n");
	assert_string_equal(conf_str("mydomain"), "localdomain");
	load_ok("myhostname = mail.example.com\nmydomain = other.org\n");
	assert_string_equal(conf_str("mydomain"), "other.org");
	assert_string_equal(conf_str("myorigin"), "mail.example.com");
	load_ok("mydomain = example.net\nmyhostname = mx.$mydomain\n");
	assert_string_equal(conf_str("myhostname"), "mx.example.net");
}

/*
 * File syntax.
 */

static void
test_comments_blanks_continuation(void **state)
{
	(void)state;
	load_ok("# a comment\n"
		"\n"
		"   \t\n"
		"  # an indented comment is a comment\n"
		"mail_name=Tight\n"
		"relayhost  =   [relay.example]:587   \n"
		"mynetworks = 10.0.0.0/8,\n"
		"    192.168.0.0/16\n"
		"# a comment between continuation lines\n"
		"\t172.16.0.0/12  \n"
		"home_mailbox =\n"
		"smtpd_banner= $mail_name\r\n"
		"recipient_delimiter =+");
	assert_string_equal(conf_str("mail_name"), "Tight");
	assert_string_equal(conf_str("relayhost"), "[relay.example]:587");
	assert_string_equal(conf_raw("mynetworks"),
			    "10.0.0.0/8, 192.168.0.0/16 172.16.0.0/12");
	assert_string_equal(conf_origin("mynetworks"), "t.conf:7");
	assert_string_equal(conf_str("home_mailbox"), "");
	assert_true(conf_is_set("home_mailbox"));
	assert_string_equal(conf_str("smtpd_banner"), "Tight");
	assert_string_equal(conf_origin("smtpd_banner"), "t.conf:12");
	assert_string_equal(conf_str("recipient_delimiter"), "+");
	assert_string_equal(conf_origin("recipient_delimiter"), "t.conf:13");
	assert_false(conf_is_set("myorigin"));
}

static void
test_later_definition_wins(void **state)
{
	(void)state;
	load_ok("mail_name = First\nmail_owner = x\nmail_name = Second\n");
	assert_string_equal(conf_str("mail_name"), "Second");
	assert_string_equal(conf_origin("mail_name"), "t.conf:3");
	assert_string_equal(conf_origin("mail_owner"), "t.conf:2");
}

static void
test_empty_file(void **state)
{
	(void)state;
	load_ok("");
	load_ok("\n\n# nothing\n");
	assert_string_equal(conf_str("mail_owner"), "panacea");
}

static void
test_syntax_errors(void **state)
{
	(void)state;
	assert_string_equal(parse_error("mail_name = x\njust words\n"),
			    "t.conf:2: missing '=' after parameter name");
	assert_string_equal(parse_error("\n= value\n"),
			    "t.conf:2: missing parameter name before '='");
	assert_string_equal(parse_error("   = value\n"),
			    "t.conf:1: continuation line before any parameter");
	assert_string_equal(parse_error("# c\n\n  continued\nmail_name = x\n"),
			    "t.conf:3: continuation line before any parameter");
	assert_string_equal(parse_error("mail name = x\n"),
			    "t.conf:1: bad parameter name \"mail name\"");
	assert_string_equal(parse_error("-ab = x\n"),
			    "t.conf:1: bad parameter name \"-ab\"");
	assert_string_equal(parse_error("a.b = x\n"),
			    "t.conf:1: bad parameter name \"a.b\"");
	/* A continued line's errors name the line it started on. */
	assert_string_equal(parse_error("mail_name = x\nfoo\n  bar\n"),
			    "t.conf:2: missing '=' after parameter name");
	/* The last line, without a newline. */
	assert_string_equal(parse_error("a = b\nlast"),
			    "t.conf:2: missing '=' after parameter name");
}

static void
test_failed_read_keeps_old(void **state)
{
	(void)state;
	load_ok("mail_name = Kept\n");
	parse_error("mail_name = New\nbroken\n");
	assert_string_equal(conf_str("mail_name"), "Kept");
}

static void
test_file_too_large(void **state)
{
	size_t n = 1024 * 1024 + 1;
	char *big = xmalloc(n + 1);

	(void)state;
	memset(big, '#', n);
	big[n] = '\0';
	assert_string_equal(parse_error(big),
			    "t.conf: file larger than 1048576 bytes");
	xfree(big);
}

/*
 * Expansion.
 */

static void
test_expansion(void **state)
{
	(void)state;
	load_ok("mail_name = Mx\n"
		"a = A\n"
		"empty =\n"
		"myorigin = $a-${a}-$$a-$$$a\n"
		"relayhost = [${a?set}][${empty?set}][${a:unset}]"
		"[${empty:unset}][${undefined:unset}]\n"
		"home_mailbox = ${a?${mail_name}/$a}${empty:x{y}z}\n"
		"smtpd_banner = $undefined|$mail_name|${mail_name}x\n"
		"mydestination = $a$a$a\n");
	assert_string_equal(conf_str("myorigin"), "A-A-$a-$A");
	assert_string_equal(conf_str("relayhost"), "[set][][][unset][unset]");
	assert_string_equal(conf_str("home_mailbox"), "Mx/Ax{y}z");
	assert_string_equal(conf_str("smtpd_banner"), "|Mx|Mxx");
	assert_string_equal(conf_str("mydestination"), "AAA");
	/* The raw value is kept as written. */
	assert_string_equal(conf_raw("myorigin"), "$a-${a}-$$a-$$$a");
	/* Unknown names can be looked up, expanded. */
	assert_string_equal(conf_lookup("a"), "A");
	assert_string_equal(conf_lookup("empty"), "");
	assert_null(conf_lookup("undefined"));
	assert_null(conf_raw("undefined"));
	assert_null(conf_origin("undefined"));
	assert_string_equal(conf_lookup("myorigin"), "A-A-$a-$A");
}

static void
test_expansion_chain(void **state)
{
	(void)state;
	load_ok("config_directory = /srv/conf\n");
	assert_string_equal(conf_str("alias_database"),
			    "hash:/srv/conf/aliases");
	assert_string_equal(conf_str("sasldb_path"), "/srv/conf/sasldb2");
	load_ok("smtpd_tls_cert_file = /k/cert.pem\n");
	assert_string_equal(conf_str("pop3d_tls_cert_file"), "/k/cert.pem");
	assert_string_equal(conf_str("pop3d_tls_key_file"), "");
}

static void
test_recursion_errors(void **state)
{
	(void)state;
	assert_string_equal(
	    check_error(
		"smtpd_banner = $mail_name\nmail_name = $smtpd_banner\n"),
	    "t.conf:1: parameter \"smtpd_banner\": recursive expansion of "
	    "\"$mail_name\"");
	assert_string_equal(
	    check_error("mail_owner = x\nmyorigin = x${myorigin}\n"),
	    "t.conf:2: parameter \"myorigin\": recursive expansion of "
	    "\"${myorigin}\"");
	/* Through unknown names and a conditional. */
	assert_string_equal(
	    check_error(
		"relayhost = ${foo?yes}\nfoo = $bar\nbar = $relayhost\n"),
	    "t.conf:1: parameter \"relayhost\": recursive expansion of "
	    "\"${foo?yes}\"");
	/* Through mydomain's computed default. */
	assert_string_equal(check_error("myhostname = host.$mydomain\n"),
			    "t.conf:1: parameter \"myhostname\": recursive "
			    "expansion of \"$mydomain\"");
	/* Through a default value (alias_database = $alias_maps). */
	assert_string_equal(check_error("alias_maps = $alias_database\n"),
			    "t.conf:1: parameter \"alias_maps\": recursive "
			    "expansion of \"$alias_database\"");
}

static void
test_expansion_syntax_errors(void **state)
{
	(void)state;
	assert_string_equal(check_error("myorigin = ${myhostname\n"),
			    "t.conf:1: parameter \"myorigin\": missing '}' in "
			    "\"${myhostname\"");
	assert_string_equal(check_error("myorigin = ${a?x${b}\n"),
			    "t.conf:1: parameter \"myorigin\": missing '}' in "
			    "\"${a?x${b}\"");
	assert_string_equal(check_error("myorigin = a$\n"),
			    "t.conf:1: parameter \"myorigin\": bad '$' "
			    "expansion syntax in \"a$\"");
	assert_string_equal(check_error("myorigin = $-x\n"),
			    "t.conf:1: parameter \"myorigin\": bad '$' "
			    "expansion syntax in \"$-x\"");
	assert_string_equal(check_error("myorigin = ${}\n"),
			    "t.conf:1: parameter \"myorigin\": bad '$' "
			    "expansion syntax in \"${}\"");
	assert_string_equal(check_error("myorigin = ${a!b}\n"),
			    "t.conf:1: parameter \"myorigin\": bad '$' "
			    "expansion syntax in \"${a!b}\"");
	/* The error names the value that holds the bad text. */
	assert_string_equal(check_error("myorigin = $x\nx = a $ b\n"),
			    "t.conf:2: parameter \"x\": bad '$' expansion "
			    "syntax in \"a $ b\"");
}

static void
test_expansion_too_long(void **state)
{
	struct buf text = BUF_INIT;
	int i;

	(void)state;
	/* Doubling 20 times would be 1 MiB per reference: bounded. */
	buf_puts(&text, "x0 = 0123456789abcdef\n");
	for (i = 1; i <= 20; i++)
		buf_printf(&text, "x%d = $x%d$x%d\n", i, i - 1, i - 1);
	buf_puts(&text, "myorigin = $x20\n");
	assert_string_equal(check_error(buf_cstr(&text)),
			    "t.conf:22: parameter \"myorigin\": value longer "
			    "than 65536 bytes after expansion");
	buf_free(&text);
	/* Just under the limit is fine. */
	load_ok("x0 = 0123456789abcdef\nx1 = $x0$x0\nx2 = $x1$x1\n"
		"x3 = $x2$x2\nx4 = $x3$x3\nx5 = $x4$x4\nx6 = $x5$x5\n"
		"x7 = $x6$x6\nx8 = $x7$x7\nx9 = $x8$x8\nx10 = $x9$x9\n"
		"x11 = $x10$x10\nmyorigin = $x11\n");
	assert_int_equal(strlen(conf_str("myorigin")), 16 << 11);
}

/*
 * Types.
 */

static void
test_type_errors(void **state)
{
	(void)state;
	assert_string_equal(check_error("mail_name = x\n"
					"smtpd_recipient_limit = 1e3\n"),
			    "t.conf:2: smtpd_recipient_limit: bad integer "
			    "value: \"1e3\"");
	assert_string_equal(
	    check_error("smtpd_sasl_auth_enable = maybe\n"),
	    "t.conf:1: smtpd_sasl_auth_enable: bad boolean value: \"maybe\"");
	assert_string_equal(
	    check_error("queue_run_delay = 5y\n"),
	    "t.conf:1: queue_run_delay: bad time value: \"5y\"");
	assert_string_equal(
	    check_error("message_size_limit = 10x\n"),
	    "t.conf:1: message_size_limit: bad size value: \"10x\"");
	assert_string_equal(check_error("smtpd_recipient_limit = 0\n"),
			    "t.conf:1: smtpd_recipient_limit: value \"0\" is "
			    "below the minimum 1");
	assert_string_equal(check_error("smtp_destination_port = -25\n"),
			    "t.conf:1: smtp_destination_port: value \"-25\" is "
			    "below the minimum 1");
	assert_string_equal(check_error("max_idle = 0\n"),
			    "t.conf:1: max_idle: value \"0\" is below the "
			    "minimum 1");
	assert_string_equal(
	    check_error("delay_logging_resolution_limit = 7\n"),
	    "t.conf:1: delay_logging_resolution_limit: value \"7\" is above "
	    "the maximum 6");
	assert_string_equal(
	    check_error("delay_logging_resolution_limit = -1\n"),
	    "t.conf:1: delay_logging_resolution_limit: value \"-1\" is below "
	    "the minimum 0");
	assert_string_equal(check_error("smtp_destination_port =\n"),
			    "t.conf:1: smtp_destination_port: bad integer "
			    "value: \"\"");
	/* Checked after expansion; the message shows the expanded text. */
	assert_string_equal(check_error("n = abc\nhopcount_limit = 1$n\n"),
			    "t.conf:2: hopcount_limit: bad integer value: "
			    "\"1abc\"");
	/* The first bad line in file order is the one reported. */
	assert_string_equal(check_error("max_use = x\nhopcount_limit = y\n"),
			    "t.conf:1: max_use: bad integer value: \"x\"");
	assert_string_equal(check_error("max_use = 1\nhopcount_limit = y\n"
					"max_use = x\n"),
			    "t.conf:2: hopcount_limit: bad integer value: "
			    "\"y\"");
}

static void
test_typed_access(void **state)
{
	(void)state;
	load_ok("n = 12\n"
		"hopcount_limit = ${n}0\n"
		"smtpd_sasl_auth_enable = YES\n"
		"smtpd_local_submission = False\n"
		"queue_run_delay = 5m\n"
		"maximal_queue_lifetime = 3\n"
		"bounce_queue_lifetime = 2w\n"
		"delay_warning_time = 4\n"
		"max_idle = 1h\n"
		"message_size_limit = 10k\n"
		"mailbox_size_limit = 2G\n");
	assert_int_equal(conf_int("hopcount_limit"), 120);
	assert_true(conf_bool("smtpd_sasl_auth_enable"));
	assert_false(conf_bool("smtpd_local_submission"));
	assert_int_equal(conf_time("queue_run_delay"), 300);
	assert_int_equal(conf_time("maximal_queue_lifetime"), 3 * 86400);
	assert_int_equal(conf_time("bounce_queue_lifetime"), 14 * 86400);
	assert_int_equal(conf_time("delay_warning_time"), 4 * 3600);
	assert_int_equal(conf_time("max_idle"), 3600);
	assert_int_equal(conf_size("message_size_limit"), 10240);
	assert_int_equal(conf_size("mailbox_size_limit"), 2LL << 30);
	assert_string_equal(conf_str("hopcount_limit"), "120");
}

/* One text for conf_parse_int, _bool, _time or _size: the default unit
 * (time only), what the parser returns and, when it accepts, the value;
 * a refused text must leave the variable as it was. */
enum number_kind { NUMBER_INT, NUMBER_BOOL, NUMBER_TIME, NUMBER_SIZE };
struct number_case {
	const char *text;
	char unit;
	int rc;
	long long value;
};

static int
parse_number(enum number_kind kind, const struct number_case *c, long long *v)
{
	int b = (int)*v, rc;

	switch (kind) {
	case NUMBER_INT:
		return conf_parse_int(c->text, v);
	case NUMBER_TIME:
		return conf_parse_time(c->text, c->unit, v);
	case NUMBER_SIZE:
		return conf_parse_size(c->text, v);
	default:
		rc = conf_parse_bool(c->text, &b);
		*v = b;
		return rc;
	}
}

static void
check_numbers(enum number_kind kind, const struct number_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct number_case *c = &cases[i];
		long long v = 7;
		int rc = parse_number(kind, c, &v);

		if (rc != c->rc || v != (c->rc == 0 ? c->value : 7))
			fail_msg("\"%s\" (unit '%c'): %d, %lld; want %d, %lld",
				 c->text, c->unit ? c->unit : '-', rc, v, c->rc,
				 c->rc == 0 ? c->value : 7);
	}
}

#define CHECK_NUMBERS(kind, cases)                                             \
	check_numbers(kind, cases, sizeof(cases) / sizeof(cases[0]))

static void
test_parse_int(void **state)
{
	static const struct number_case cases[] = {
	    {"0", 0, 0, 0},
	    {"-5", 0, 0, -5},
	    {"9223372036854775807", 0, 0, LLONG_MAX},
	    {"-9223372036854775807", 0, 0, -LLONG_MAX},
	    {"9223372036854775808", 0, -1, 0},
	    {"99999999999999999999999", 0, -1, 0},
	    {"", 0, -1, 0},
	    {"-", 0, -1, 0},
	    {"+1", 0, -1, 0},
	    {" 1", 0, -1, 0},
	    {"1 ", 0, -1, 0},
	    {"12a", 0, -1, 0},
	    {"0x10", 0, -1, 0},
	};

	(void)state;
	CHECK_NUMBERS(NUMBER_INT, cases);
}

static void
test_parse_bool(void **state)
{
	static const struct number_case cases[] = {
	    {"yes", 0, 0, 1},	{"No", 0, 0, 0},    {"TRUE", 0, 0, 1},
	    {"false", 0, 0, 0}, {"y", 0, -1, 0},    {"1", 0, -1, 0},
	    {"", 0, -1, 0},	{"yes ", 0, -1, 0}, {"yess", 0, -1, 0},
	};

	(void)state;
	CHECK_NUMBERS(NUMBER_BOOL, cases);
}

static void
test_parse_time(void **state)
{
	static const struct number_case cases[] = {
	    {"10", 's', 0, 10},
	    {"10", 'd', 0, 864000},
	    {"10", 'm', 0, 600},
	    {"1s", 'd', 0, 1},
	    {"5m", 's', 0, 300},
	    {"3h", 's', 0, 10800},
	    {"3d", 's', 0, 259200},
	    {"2w", 's', 0, 1209600},
	    {"0h", 'h', 0, 0},
	    {"9223372036854775807", 's', 0, LLONG_MAX},
	    /* Overflow in the number, and in the unit's multiplication. */
	    {"9223372036854775808", 's', -1, 0},
	    {"9223372036854775807m", 's', -1, 0},
	    {"15250284452472w", 's', -1, 0},
	    {"15250284452471w", 's', 0, 15250284452471LL * 604800},
	    {"10x", 's', -1, 0},
	    {"10ss", 's', -1, 0},
	    {"10S", 's', -1, 0},
	    {"s", 's', -1, 0},
	    {"", 's', -1, 0},
	    {"-1s", 's', -1, 0},
	    {"1 s", 's', -1, 0},
	    /* A bad default unit only matters for a bare number. */
	    {"10", 'x', -1, 0},
	    {"10s", 'x', 0, 10},
	};

	(void)state;
	CHECK_NUMBERS(NUMBER_TIME, cases);
}

static void
test_parse_size(void **state)
{
	static const struct number_case cases[] = {
	    {"0", 0, 0, 0},
	    {"10240000", 0, 0, 10240000},
	    {"10k", 0, 0, 10240},
	    {"10K", 0, 0, 10240},
	    {"2m", 0, 0, 2 * 1048576},
	    {"3G", 0, 0, 3LL << 30},
	    {"8589934591g", 0, 0, 8589934591LL << 30},
	    {"8589934592g", 0, -1, 0},
	    {"9223372036854775807k", 0, -1, 0},
	    {"9223372036854775808", 0, -1, 0},
	    {"10kb", 0, -1, 0},
	    {"10t", 0, -1, 0},
	    {"k", 0, -1, 0},
	    {"", 0, -1, 0},
	    {"-1", 0, -1, 0},
	    {"1.5m", 0, -1, 0},
	};

	(void)state;
	CHECK_NUMBERS(NUMBER_SIZE, cases);
}

/*
 * Overrides.
 */

static void
test_overrides(void **state)
{
	(void)state;
	load_ok("mail_name = File\nmyhostname = a.example\n");
	assert_string_equal(conf_str("myorigin"), "a.example");
	assert_int_equal(conf_override("smtpd_sasl_auth_enable=yes", &err), 0);
	assert_int_equal(conf_override(" mail_name = Override ", &err), 0);
	assert_int_equal(conf_override("myhostname=b.example", &err), 0);
	assert_int_equal(conf_check(&err), 0);
	assert_true(conf_bool("smtpd_sasl_auth_enable"));
	assert_string_equal(conf_str("mail_name"), "Override");
	assert_string_equal(conf_origin("mail_name"),
			    "-o  mail_name = Override ");
	assert_string_equal(conf_origin("smtpd_sasl_auth_enable"),
			    "-o smtpd_sasl_auth_enable=yes");
	/* An override invalidates what was expanded before it. */
	assert_string_equal(conf_str("myorigin"), "b.example");
	assert_string_equal(conf_str("mydomain"), "example");
	assert_int_equal(conf_override("empty_is_fine=", &err), 0);
	assert_string_equal(conf_lookup("empty_is_fine"), "");
}

static void
test_override_errors(void **state)
{
	(void)state;
	load_ok("");
	assert_int_equal(conf_override("mail_name", &err), -1);
	assert_string_equal(buf_cstr(&err),
			    "-o mail_name: missing '=' after parameter name");
	assert_int_equal(conf_override("=x", &err), -1);
	assert_string_equal(buf_cstr(&err),
			    "-o =x: missing parameter name before '='");
	assert_int_equal(conf_override("a b=c", &err), -1);
	assert_string_equal(buf_cstr(&err),
			    "-o a b=c: bad parameter name \"a b\"");
	assert_int_equal(conf_override("smtpd_recipient_limit=abc", &err), 0);
	assert_int_equal(conf_check(&err), -1);
	assert_string_equal(
	    buf_cstr(&err),
	    "-o smtpd_recipient_limit=abc: smtpd_recipient_limit: "
	    "bad integer value: \"abc\"");
	conf_reset();
	assert_int_equal(conf_override("myorigin=$myorigin", &err), 0);
	assert_int_equal(conf_check(&err), -1);
	assert_string_equal(buf_cstr(&err),
			    "-o myorigin=$myorigin: parameter \"myorigin\": "
			    "recursive expansion of \"$myorigin\"");
}

/* File values are checked before overrides, in their order. */
static void
test_check_order_file_then_overrides(void **state)
{
	(void)state;
	load("max_use = bad\n");
	assert_int_equal(conf_override("hopcount_limit=bad", &err), 0);
	assert_int_equal(conf_check(&err), -1);
	assert_string_equal(buf_cstr(&err),
			    "t.conf:1: max_use: bad integer value: \"bad\"");
}

/*
 * Unknown names.
 */

static void
check_quietly(void)
{
	struct buf e = BUF_INIT;

	assert_int_equal(conf_check(&e), 0);
	buf_free(&e);
}

static void
test_unknown_parameter_warning(void **state)
{
	char *out;

	(void)state;
	load("mail_name = x\nfoo_bar = baz\nmyorigin = $foo_bar\n"
	     "unused = 1\nconfig_directory = /nonexistent/panacea\n");
	assert_int_equal(conf_override("qux=1", &err), 0);
	out = capture_stderr(check_quietly);
	assert_non_null(
	    strstr(out, "warning: t.conf:4: unknown parameter \"unused\"\n"));
	assert_non_null(
	    strstr(out, "warning: -o qux=1: unknown parameter \"qux\"\n"));
	/* A name some value refers to is a user-defined macro, as in
	 * Postfix: no warning. */
	assert_null(strstr(out, "foo_bar"));
	assert_null(strstr(out, "mail_name"));
	xfree(out);
	/* Still stored, and usable in $names. */
	assert_true(conf_is_set("foo_bar"));
	assert_string_equal(conf_lookup("foo_bar"), "baz");
	assert_string_equal(conf_raw("foo_bar"), "baz");
	assert_string_equal(conf_str("myorigin"), "baz");
}

/* Names with '-', as Postfix allows; "$a-b" is $a then "-b". */
static void
test_names_with_dash(void **state)
{
	(void)state;
	load_ok("policyd-spf_time_limit = 3600\na = x\n"
		"myorigin = ${policyd-spf_time_limit}:$a-b\n");
	assert_string_equal(conf_str("myorigin"), "3600:x-b");
	assert_int_equal(conf_override("smtp-amavis_x = 2", &err), 0);
	assert_string_equal(conf_lookup("smtp-amavis_x"), "2");
	assert_string_equal(check_error("myorigin = ${-a}\n"),
			    "t.conf:1: parameter \"myorigin\": bad '$' "
			    "expansion syntax in \"${-a}\"");
}

/* A services table in a new folder that panacea.conf names as
 * config_directory; the folder is returned (remove with cleanup_dir). */
static char *
services_dir(const char *services)
{
	char dir[] = "/tmp/test_conf_svc_XXXXXX";
	char path[256];
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/services", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, services, strlen(services)),
			 (ssize_t)strlen(services));
	close(fd);
	return xstrdup(dir);
}

static void
cleanup_dir(char *dir)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/services", dir);
	unlink(path);
	rmdir(dir);
	xfree(dir);
}

/* TRANSPORT_SUFFIX names of the services of the table, and macros that
 * the table refers to: no warning; the honoured ones are checked as their
 * global default_SUFFIX. */
static void
test_transport_names_and_macros(void **state)
{
	char *dir = services_dir(
	    "relay unix - - n - - smtp\n"
	    "smtp-amavis unix - - n - 2 smtp\n"
	    "submission inet n - n - - smtpd\n"
	    "  -o smtpd_client_restrictions=$mua_client_restrictions\n"
	    "  -o { smtpd_banner = ${mua_banner} x }\n");
	struct buf text = BUF_INIT;
	char *out;

	(void)state;
	buf_printf(&text,
		   "config_directory = %s\n"
		   "relay_destination_concurrency_limit = 5\n"
		   "smtp-amavis_destination_recipient_limit = 1\n"
		   "relay_destination_rate_delay = 1s\n"
		   "relay_time_limit = 3600s\n"
		   "mua_client_restrictions = permit_sasl_authenticated\n"
		   "mua_banner = hello\n"
		   "nosuch_destination_concurrency_limit = 5\n"
		   "relay_no_such_suffix = 1\n",
		   dir);
	load(buf_cstr(&text));
	out = capture_stderr(check_quietly);
	assert_null(strstr(out, "relay_destination"));
	assert_null(strstr(out, "smtp-amavis"));
	assert_null(strstr(out, "relay_time_limit"));
	assert_null(strstr(out, "mua_"));
	assert_non_null(strstr(out,
			       "t.conf:8: unknown parameter "
			       "\"nosuch_destination_concurrency_limit\""));
	assert_non_null(strstr(
	    out, "t.conf:9: unknown parameter \"relay_no_such_suffix\""));
	xfree(out);
	/* Checked as default_destination_concurrency_limit is. */
	buf_reset(&text);
	buf_printf(&text,
		   "config_directory = %s\n"
		   "relay_destination_concurrency_limit = many\n",
		   dir);
	assert_string_equal(check_error(buf_cstr(&text)),
			    "t.conf:2: relay_destination_concurrency_limit: "
			    "bad integer value: \"many\"");
	buf_reset(&text);
	buf_printf(&text,
		   "config_directory = %s\n"
		   "smtp-amavis_destination_recipient_limit = 0\n",
		   dir);
	assert_string_equal(
	    check_error(buf_cstr(&text)),
	    "t.conf:2: smtp-amavis_destination_recipient_limit: "
	    "value \"0\" is below the minimum 1");
	buf_free(&text);
	cleanup_dir(dir);
}

/*
 * The time limit of a policy server Postfix would spawn: NAME_time_limit
 * for a check_policy_service target that ends in NAME (in panacea.conf or
 * an -o of the services table) draws no warning and is checked as a time;
 * policy_time_limit is in the table as a no-op.
 */
static void
test_policy_time_limits(void **state)
{
	char *dir =
	    services_dir("smtp inet n - n - - smtpd\n"
			 "submission inet n - n - - smtpd\n"
			 "  -o smtpd_client_restrictions=check_policy_service,"
			 "unix:private/rate-limit,permit\n");
	struct buf text = BUF_INIT;
	char *out;

	(void)state;
	buf_printf(&text,
		   "config_directory = %s\n"
		   "smtpd_recipient_restrictions = reject_unauth_destination,"
		   " check_policy_service unix:private/policyd-spf\n"
		   "smtpd_sender_restrictions = check_policy_service "
		   "inet:127.0.0.1:10023\n"
		   "policyd-spf_time_limit = 3600\n"
		   "policy_time_limit = 3600\n"
		   "rate-limit_time_limit = 1h\n"
		   "postgrey_time_limit = 3600\n",
		   dir);
	load(buf_cstr(&text));
	out = capture_stderr(check_quietly);
	assert_null(strstr(out, "policyd-spf"));
	assert_null(strstr(out, "\"policy_time_limit"));
	assert_null(strstr(out, "rate-limit"));
	/* Nothing names a postgrey server here: a leftover. */
	assert_non_null(
	    strstr(out, "t.conf:7: unknown parameter \"postgrey_time_limit\""));
	xfree(out);
	assert_true(conf_param_find("policy_time_limit") != NULL);

	buf_reset(&text);
	buf_printf(&text,
		   "config_directory = %s\n"
		   "smtpd_recipient_restrictions = check_policy_service "
		   "unix:private/policyd-spf\n"
		   "policyd-spf_time_limit = soon\n",
		   dir);
	assert_string_equal(check_error(buf_cstr(&text)),
			    "t.conf:3: policyd-spf_time_limit: bad time value: "
			    "\"soon\"");
	buf_free(&text);
	cleanup_dir(dir);
}

/* Postfix's housekeeping names: in the table, documented as no-ops. */
static void
test_noop_parameters(void **state)
{
	const struct conf_param *p;
	size_t n = 0;

	(void)state;
	for (const char *const *name = conf_noop_params; *name; name++, n++) {
		p = conf_param_find(*name);
		assert_non_null(p);
		assert_true(strncmp(p->doc, "No-op in Panacea", 16) == 0);
	}
	assert_true(n >= 13);
	load_ok("biff = no\ncompatibility_level = 3.6\n"
		"readme_directory = /usr/share/doc/postfix\n");
}

/*
 * Walking, reset, directories, files.
 */

struct walk_state {
	int count;
	int sorted;
	char last[128];
	int saw_foo;
};

static void
walk_fn(const char *name, const char *raw, void *ctx)
{
	struct walk_state *w = ctx;

	if (w->count > 0 && strcmp(w->last, name) >= 0)
		w->sorted = 0;
	snprintf(w->last, sizeof(w->last), "%s", name);
	if (strcmp(name, "foo") == 0 && strcmp(raw, "$mail_name") == 0)
		w->saw_foo = 1;
	w->count++;
}

static void
test_walk(void **state)
{
	struct walk_state all = {0, 1, "", 0};
	struct walk_state set = {0, 1, "", 0};
	int known = 0;
	const struct conf_param *p;

	(void)state;
	for (p = conf_params; p->name != NULL; p++)
		known++;
	load("mail_name = m\nfoo = $mail_name\nzzz = 1\n");
	conf_walk(0, walk_fn, &all);
	conf_walk(1, walk_fn, &set);
	assert_int_equal(all.count, known + 2);
	assert_true(all.sorted);
	assert_true(all.saw_foo);
	assert_int_equal(set.count, 3);
	assert_true(set.sorted);
	assert_string_equal(set.last, "zzz");
}

static void
test_reset(void **state)
{
	(void)state;
	load_ok("mail_name = x\n");
	assert_int_equal(conf_override("foo=1", &err), 0);
	conf_reset();
	assert_string_equal(conf_str("mail_name"), "Panacea");
	assert_false(conf_is_set("mail_name"));
	assert_null(conf_lookup("foo"));
}

static void
test_choose_dir(void **state)
{
	(void)state;
	unsetenv("MAIL_CONFIG");
	assert_string_equal(conf_choose_dir(NULL), "/etc/panacea");
	assert_string_equal(conf_choose_dir("/opt/c"), "/opt/c");
	setenv("MAIL_CONFIG", "/env/c", 1);
	assert_string_equal(conf_choose_dir(NULL), "/env/c");
	assert_string_equal(conf_choose_dir("/opt/c"), "/opt/c");
	setenv("MAIL_CONFIG", "", 1);
	assert_string_equal(conf_choose_dir(NULL), "/etc/panacea");
	unsetenv("MAIL_CONFIG");
}

static void
write_text(const char *path, const char *text)
{
	unit_write_bytes(path, text, strlen(text));
}

static void
test_load_real_file(void **state)
{
	char dir[] = "/tmp/test_conf_dir_XXXXXX";
	char path[256];
	char want[300];
	char *overrides[] = {"max_use=7", "mail_owner=$mail_name"};

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/panacea.conf", dir);
	write_text(path, "# test\nmail_name = Real\nqueue_directory = /q\n");
	conf_load(dir, overrides, 2);
	assert_string_equal(conf_str("config_directory"), dir);
	snprintf(want, sizeof(want), "hash:%s/aliases", dir);
	assert_string_equal(conf_str("alias_maps"), want);
	assert_string_equal(conf_str("mail_name"), "Real");
	snprintf(want, sizeof(want), "%s:2", path);
	assert_string_equal(conf_origin("mail_name"), want);
	assert_string_equal(conf_str("queue_directory"), "/q");
	assert_int_equal(conf_int("max_use"), 7);
	assert_string_equal(conf_str("mail_owner"), "Real");
	/* conf_read on the same file, with the directory kept. */
	assert_int_equal(conf_read(path, 0, &err), 0);
	assert_string_equal(conf_str("config_directory"), dir);
	assert_int_equal(conf_int("max_use"), 100);
	/* A file with a NUL byte is refused. */
	unit_write_bytes(path, "a = b\0c\n", 8);
	assert_int_equal(conf_read(path, 0, &err), -1);
	snprintf(want, sizeof(want), "%s: contains a NUL byte", path);
	assert_string_equal(buf_cstr(&err), want);
	unlink(path);
	/* Missing: empty when allowed, an error otherwise. */
	assert_int_equal(conf_read(path, 1, &err), 0);
	assert_string_equal(conf_str("mail_name"), "Panacea");
	assert_int_equal(conf_read(path, 0, &err), -1);
	snprintf(want, sizeof(want), "%s: cannot open: %s", path,
		 strerror(ENOENT));
	assert_string_equal(buf_cstr(&err), want);
	conf_load(dir, NULL, 0);
	assert_string_equal(conf_str("mail_name"), "Panacea");
	assert_int_equal(rmdir(dir), 0);
}

static void
load_in_child(void *dir)
{
	conf_load(dir, NULL, 0);
}

static void
load_override_in_child(void *dir)
{
	char *overrides[] = {"hopcount_limit=many"};

	conf_load(dir, overrides, 1);
}

static void
test_load_fatal(void **state)
{
	char dir[] = "/tmp/test_conf_dir_XXXXXX";
	char path[256];
	char want[512];
	struct buf out = BUF_INIT;
	int status;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/panacea.conf", dir);
	write_text(path, "mail_name = x\nmax_use = lots\n");
	status = run_child(load_in_child, dir, &out);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	snprintf(want, sizeof(want),
		 "fatal: %s:2: max_use: bad integer value: \"lots\"\n", path);
	assert_non_null(strstr(buf_cstr(&out), want));

	write_text(path, "mail_name\n");
	buf_reset(&out);
	status = run_child(load_in_child, dir, &out);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	snprintf(want, sizeof(want),
		 "fatal: %s:1: missing '=' after parameter name\n", path);
	assert_non_null(strstr(buf_cstr(&out), want));

	write_text(path, "");
	buf_reset(&out);
	status = run_child(load_override_in_child, dir, &out);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	assert_non_null(strstr(buf_cstr(&out),
			       "fatal: -o hopcount_limit=many: hopcount_limit: "
			       "bad integer value: \"many\"\n"));
	unlink(path);
	rmdir(dir);
	buf_free(&out);
}

static void
ask_unknown(void *arg)
{
	(void)arg;
	conf_str("no_such_parameter");
}

static void
ask_wrong_type(void *arg)
{
	(void)arg;
	conf_int("mail_name");
}

/* A program's table of bound parameters: every type lands in its
 * variable, expanded and parsed; strings are the program's copies. */
static void
test_bind_fills_variables(void **state)
{
	const char *banner = NULL;
	long long limit = 0, timeout = 0, size = 0;
	int vrfy = 0;
	const struct conf_bind table[] = {
	    CONF_BIND_STR("smtpd_banner", &banner),
	    CONF_BIND_INT("smtpd_recipient_limit", &limit),
	    CONF_BIND_TIME("smtpd_timeout", &timeout),
	    CONF_BIND_SIZE("message_size_limit", &size),
	    CONF_BIND_BOOL("disable_vrfy_command", &vrfy),
	    CONF_BIND_END,
	};

	(void)state;
	load("myhostname = mx.example\nsmtpd_recipient_limit = 7\n"
	     "smtpd_timeout = 2m\nmessage_size_limit = 3k\n"
	     "disable_vrfy_command = yes\n");
	conf_bind(table);
	assert_string_equal(banner, "mx.example ESMTP Panacea");
	assert_int_equal(limit, 7);
	assert_int_equal(timeout, 120);
	assert_int_equal(size, 3072);
	assert_int_equal(vrfy, 1);
	load("myhostname = other.example\n");
	assert_string_equal(banner, "mx.example ESMTP Panacea");
	xfree((void *)banner);
}

static void
bind_misspelt(void *arg)
{
	long long v = 0;
	const struct conf_bind table[] = {
	    CONF_BIND_INT("smtpd_recipient_limit", &v),
	    CONF_BIND_INT("smtpd_recipent_limit", &v),
	    CONF_BIND_END,
	};

	(void)arg;
	conf_bind(table);
}

static void
bind_mistyped(void *arg)
{
	long long v = 0;
	const struct conf_bind table[] = {
	    CONF_BIND_INT("smtpd_timeout", &v),
	    CONF_BIND_END,
	};

	(void)arg;
	conf_bind(table);
}

/* A bad row stops the program at start-up, before any value is read. */
static void
test_bind_refuses_a_bad_table(void **state)
{
	struct buf out = BUF_INIT;
	int status;

	(void)state;
	status = run_child(bind_misspelt, NULL, &out);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	assert_non_null(strstr(buf_cstr(&out),
			       "fatal: parameter table: unknown parameter "
			       "\"smtpd_recipent_limit\""));
	buf_reset(&out);
	status = run_child(bind_mistyped, NULL, &out);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	assert_non_null(strstr(buf_cstr(&out),
			       "fatal: parameter table: smtpd_timeout is of "
			       "type time, bound as integer"));
	buf_free(&out);
}

/* Asking for a parameter that is not in the table is a programming error. */
static void
test_accessor_misuse_panics(void **state)
{
	struct buf out = BUF_INIT;
	int status;

	(void)state;
	status = run_child(ask_unknown, NULL, &out);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	assert_non_null(strstr(buf_cstr(&out),
			       "panic: conf_str: unknown parameter "
			       "\"no_such_parameter\""));
	buf_reset(&out);
	status = run_child(ask_wrong_type, NULL, &out);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	assert_non_null(strstr(buf_cstr(&out),
			       "panic: conf_int: parameter \"mail_name\" is of "
			       "type string"));
	buf_free(&out);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_table_sorted_and_found),
	    T(test_every_default_passes_its_type),
	    T(test_required_parameters),
	    T(test_default_values),
	    T(test_hostname_and_domain),
	    T(test_comments_blanks_continuation),
	    T(test_later_definition_wins),
	    T(test_empty_file),
	    T(test_syntax_errors),
	    T(test_failed_read_keeps_old),
	    T(test_file_too_large),
	    T(test_expansion),
	    T(test_expansion_chain),
	    T(test_recursion_errors),
	    T(test_expansion_syntax_errors),
	    T(test_expansion_too_long),
	    T(test_type_errors),
	    T(test_typed_access),
	    T(test_parse_int),
	    T(test_parse_bool),
	    T(test_parse_time),
	    T(test_parse_size),
	    T(test_overrides),
	    T(test_override_errors),
	    T(test_check_order_file_then_overrides),
	    T(test_unknown_parameter_warning),
	    T(test_names_with_dash),
	    T(test_transport_names_and_macros),
	    T(test_policy_time_limits),
	    T(test_noop_parameters),
	    T(test_walk),
	    T(test_reset),
	    T(test_choose_dir),
	    T(test_load_real_file),
	    T(test_load_fatal),
	    T(test_bind_fills_variables),
	    T(test_bind_refuses_a_bad_table),
	    T(test_accessor_misuse_panics),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	buf_free(&err);
	return rc;
}
