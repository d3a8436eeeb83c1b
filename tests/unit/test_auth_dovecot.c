/*
 * test_auth_dovecot - auth_client.h's Dovecot back end (lib/auth_dovecot)
 * against a scripted Dovecot auth server in a child process, over a real
 * unix socket: the handshake and the mechanism filter, what the AUTH line
 * carries, CONT exchanges, FAIL and FAIL temp, a reply that does not
 * parse, replies of other ids skipped, a connection that died while idle
 * (made again once), one that dies in an exchange, and CANCEL.  The
 * real Dovecot is tests/integration/test_sasl_dovecot.py's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "auth_client.h"
#include "base64.h"
#include "buf.h"
#include "dovecot_auth.h"
#include "sock.h"
#include "stream.h"

static char sockdir[64];
static char sockpath[96];
static pid_t server_pid;

static void
say(struct stream *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	stream_vprintf(s, fmt, ap);
	va_end(ap);
	stream_flush(s);
}

/* The value of field name= in an AUTH line, decoded when resp. */
static int
field(const char *line, const char *name, struct buf *out)
{
	char key[32];
	const char *p, *end;

	snprintf(key, sizeof(key), "\t%s=", name);
	p = strstr(line, key);
	if (p == NULL)
		return -1;
	p += strlen(key);
	end = strchr(p, '\t');
	if (end == NULL)
		end = p + strlen(p);
	buf_reset(out);
	if (strcmp(name, "resp") == 0)
		return base64_decode(out, p, (size_t)(end - p), 4096);
	buf_append(out, p, (size_t)(end - p));
	return 0;
}

static void
serve_conn(int fd)
{
	struct stream s;
	struct buf line = BUF_INIT, resp = BUF_INIT;
	unsigned long id = 0;
	int in_login = 0;

	stream_init(&s, fd, 5000);
	/* The client's VERSION and CPID first. */
	if (stream_getline(&s, &line, 1024) <= 0 ||
	    strcmp(buf_cstr(&line), "VERSION\t1\t2") != 0)
		goto out;
	if (stream_getline(&s, &line, 1024) <= 0 ||
	    strncmp(buf_cstr(&line), "CPID\t", 5) != 0)
		goto out;
	say(&s, "VERSION\t1\t2\nMECH\tPLAIN\tplaintext\n"
		"MECH\tLOGIN\tplaintext\nMECH\tCRAM-MD5\tdictionary\n"
		"MECH\tSECRET\tprivate\nSPID\t1\nCUID\t7\nCOOKIE\tabc\nDONE\n");
	while (stream_getline(&s, &line, 8192) > 0) {
		const char *l = buf_cstr(&line);
		const char *user;

		if (strncmp(l, "CANCEL\t", 7) == 0) {
			in_login = 0;
			continue;
		}
		if (strncmp(l, "CONT\t", 5) == 0) {
			if (!in_login)
				goto out;
			buf_reset(&resp);
			base64_decode(&resp, strchr(l + 5, '\t') + 1,
				      strlen(strchr(l + 5, '\t') + 1), 4096);
			in_login = 0;
			if (resp.len == 5 && memcmp(resp.data, "alice", 5) == 0)
				say(&s, "OK\t%lu\tuser=alice@example.com\n",
				    id);
			else
				say(&s, "FAIL\t%lu\n", id);
			continue;
		}
		if (sscanf(l, "AUTH\t%lu\t", &id) != 1)
			goto out;
		if (strstr(l, "\tLOGIN\t") != NULL) {
			in_login = 1;
			say(&s, "CONT\t%lu\tVXNlcm5hbWU6\n", id);
			continue;
		}
		if (field(l, "resp", &resp) < 0 || resp.len < 2)
			goto out;
		user = resp.data + 1;
		if (strcmp(user, "alice") == 0 &&
		    strcmp(user + 6, "secret") == 0) {
			say(&s, "OK\t%lu\tuser=alice@example.com\n", id);
		} else if (strcmp(user, "busy") == 0) {
			say(&s, "FAIL\t%lu\tuser=busy\ttemp\n", id);
		} else if (strcmp(user, "garbage") == 0) {
			say(&s, "OK\t%lu\tuser=a\001tb\n", id);
		} else if (strcmp(user, "others") == 0) {
			say(&s, "OK\t%lu\tuser=wrong\nNOTIFY\tx\n", id + 1);
			say(&s, "OK\t%lu\tuser=others\n", id);
		} else if (strcmp(user, "hangup") == 0) {
			goto out;
		} else if (strcmp(user, "then-close") == 0) {
			say(&s, "OK\t%lu\tuser=then-close\n", id);
			goto out;
		} else if (strcmp(user, "echo") == 0) {
			/* The line back as the reason, without its response
			 * and with spaces for tabs. */
			struct buf r = BUF_INIT;
			char *p;

			buf_append(&r, l, (size_t)(strstr(l, "\tresp=") - l));
			for (p = r.data; *p; p++)
				if (*p == '\t')
					*p = ' ';
			say(&s, "FAIL\t%lu\treason=%s\n", id, buf_cstr(&r));
			buf_free(&r);
		} else {
			say(&s,
			    "FAIL\t%lu\tuser=%s\treason=Password mismatch\n",
			    id, user);
		}
	}
out:
	stream_free(&s);
	buf_free(&line);
	buf_free(&resp);
	close(fd);
}

static int
server_setup(void **state)
{
	struct buf err = BUF_INIT;
	int lfd;

	(void)state;
	strcpy(sockdir, "/tmp/test_auth_dovecot.XXXXXX");
	assert_non_null(mkdtemp(sockdir));
	snprintf(sockpath, sizeof(sockpath), "%s/auth", sockdir);
	lfd = sock_listen_unix(sockpath, 0600, 16, &err);
	assert_true(lfd >= 0);
	server_pid = fork();
	assert_true(server_pid >= 0);
	if (server_pid == 0) {
		signal(SIGPIPE, SIG_IGN);
		for (;;) {
			int fd = accept(lfd, NULL, NULL);
			if (fd < 0)
				continue;
			serve_conn(fd);
		}
	}
	close(lfd);
	buf_free(&err);
	return 0;
}

static int
server_teardown(void **state)
{
	(void)state;
	kill(server_pid, SIGKILL);
	waitpid(server_pid, NULL, 0);
	unlink(sockpath);
	rmdir(sockdir);
	return 0;
}

static const struct auth_client_params params = {
    .service = "smtp",
    .client_address = "192.0.2.7",
    .client_port = "40000",
    .server_address = "192.0.2.1",
    .server_port = "25",
    .allow_plaintext = 1,
    .external_ssf = 256,
    .secured = 1,
};

static struct auth_client *
open_client(void)
{
	struct buf err = BUF_INIT, mechs = BUF_INIT;
	struct auth_client *c;

	c = auth_client_open(AUTH_CLIENT_DOVECOT, sockpath, 5000, &err);
	assert_non_null(c);
	assert_int_equal(auth_client_mechs(c, &params, &mechs, &err), 0);
	/* The private mechanism is never offered. */
	assert_string_equal(buf_cstr(&mechs), "PLAIN LOGIN CRAM-MD5");
	buf_free(&err);
	buf_free(&mechs);
	return c;
}

static enum sasl_auth_result
plain(struct auth_client *c, const char *user, const char *password,
      struct buf *reason)
{
	struct buf resp = BUF_INIT, challenge = BUF_INIT;
	enum sasl_auth_result r;

	buf_putc(&resp, '\0');
	buf_puts(&resp, user);
	buf_putc(&resp, '\0');
	buf_puts(&resp, password);
	buf_reset(reason);
	r = auth_client_start(c, "PLAIN", resp.data, resp.len, 0, &challenge,
			      reason);
	buf_free(&resp);
	buf_free(&challenge);
	return r;
}

static void
test_mechanism_filter(void **state)
{
	struct buf err = BUF_INIT, mechs = BUF_INIT;
	struct auth_client_params p = params;
	struct auth_client *c;

	(void)state;
	c = open_client();
	p.sec_forbid = DOVECOT_MECH_DICTIONARY;
	assert_int_equal(auth_client_mechs(c, &p, &mechs, &err), 0);
	assert_string_equal(buf_cstr(&mechs), "PLAIN LOGIN");
	assert_false(auth_client_has_mech(c, "CRAM-MD5"));
	assert_true(auth_client_has_mech(c, "login"));
	p.sec_forbid = 0;
	p.allow_plaintext = 0;
	assert_int_equal(auth_client_mechs(c, &p, &mechs, &err), 0);
	assert_string_equal(buf_cstr(&mechs), "CRAM-MD5");
	p.sec_require = DOVECOT_MECH_MUTUAL_AUTH;
	assert_int_equal(auth_client_mechs(c, &p, &mechs, &err), 0);
	assert_string_equal(buf_cstr(&mechs), "");
	auth_client_free(c);
	buf_free(&err);
	buf_free(&mechs);
}

static void
test_exchanges(void **state)
{
	struct buf reason = BUF_INIT, challenge = BUF_INIT;
	struct auth_client *c;

	(void)state;
	c = open_client();
	assert_int_equal(plain(c, "alice", "secret", &reason), SASL_AUTH_OK);
	assert_string_equal(auth_client_username(c), "alice@example.com");
	assert_string_equal(auth_client_attempted_user(c), "alice");
	assert_int_equal(plain(c, "alice", "wrong", &reason), SASL_AUTH_FAIL);
	assert_null(auth_client_username(c));
	assert_string_equal(buf_cstr(&reason), "Password mismatch");
	assert_int_equal(plain(c, "busy", "x", &reason), SASL_AUTH_TEMPFAIL);
	/* Replies to other requests and unknown lines are skipped. */
	assert_int_equal(plain(c, "others", "x", &reason), SASL_AUTH_OK);
	assert_string_equal(auth_client_username(c), "others");
	/* LOGIN: a challenge, the answer, the outcome. */
	buf_reset(&reason);
	assert_int_equal(
	    auth_client_start(c, "LOGIN", NULL, 0, 0, &challenge, &reason),
	    SASL_AUTH_CONTINUE);
	assert_int_equal(challenge.len, 9);
	assert_memory_equal(challenge.data, "Username:", 9);
	assert_int_equal(auth_client_step(c, "alice", 5, &challenge, &reason),
			 SASL_AUTH_OK);
	assert_string_equal(auth_client_username(c), "alice@example.com");
	/* Cancelled in the middle, the next exchange is a new one. */
	assert_int_equal(
	    auth_client_start(c, "LOGIN", NULL, 0, 0, &challenge, &reason),
	    SASL_AUTH_CONTINUE);
	auth_client_cancel(c);
	assert_int_equal(plain(c, "alice", "secret", &reason), SASL_AUTH_OK);
	/* checkpass is PLAIN; no tickets, no APOP. */
	buf_reset(&reason);
	assert_int_equal(
	    auth_client_checkpass(c, "alice", "secret", 0, &reason),
	    SASL_AUTH_OK);
	assert_int_equal(
	    auth_client_checkpass(c, "alice", "secret", 1, &reason),
	    SASL_AUTH_TEMPFAIL);
	assert_int_equal(auth_client_apop(c, "alice", "<1.2@x>",
					  "0123456789abcdef0123456789abcdef", 0,
					  &reason),
			 SASL_AUTH_NOMECH);
	auth_client_free(c);
	buf_free(&reason);
	buf_free(&challenge);
}

static void
test_auth_line(void **state)
{
	struct buf reason = BUF_INIT;
	struct auth_client *c;

	(void)state;
	c = open_client();
	assert_int_equal(plain(c, "echo", "x", &reason), SASL_AUTH_FAIL);
	assert_non_null(strstr(buf_cstr(&reason),
			       "PLAIN service=smtp nologin lip=192.0.2.1 "
			       "rip=192.0.2.7 lport=25 rport=40000 secured "
			       "ssl_cipher_bits=256"));
	auth_client_free(c);
	buf_free(&reason);
}

static void
test_broken_connections(void **state)
{
	struct buf reason = BUF_INIT, err = BUF_INIT;
	struct auth_client *c;

	(void)state;
	c = open_client();
	/* A reply that does not parse: a temporary failure. */
	assert_int_equal(plain(c, "garbage", "x", &reason), SASL_AUTH_TEMPFAIL);
	assert_non_null(strstr(buf_cstr(&reason), "bad user name"));
	/* ... and the connection is made again for the next one. */
	assert_int_equal(plain(c, "alice", "secret", &reason), SASL_AUTH_OK);
	/* The server closes after its reply: the next exchange finds the
	 * connection dead and makes it again, once. */
	assert_int_equal(plain(c, "then-close", "x", &reason), SASL_AUTH_OK);
	assert_int_equal(plain(c, "alice", "secret", &reason), SASL_AUTH_OK);
	/* A server that hangs up on the request itself, twice: TEMPFAIL. */
	assert_int_equal(plain(c, "hangup", "x", &reason), SASL_AUTH_TEMPFAIL);
	assert_non_null(strstr(buf_cstr(&reason), "connection closed"));
	assert_int_equal(plain(c, "alice", "secret", &reason), SASL_AUTH_OK);
	auth_client_free(c);
	/* Nothing listening. */
	assert_null(auth_client_open(AUTH_CLIENT_DOVECOT, "/nonexistent/auth",
				     1000, &err));
	assert_non_null(strstr(buf_cstr(&err), "cannot connect to Dovecot"));
	buf_reset(&err);
	assert_null(auth_client_open(AUTH_CLIENT_DOVECOT, "inet:127.0.0.1",
				     1000, &err));
	assert_non_null(strstr(buf_cstr(&err), "bad Dovecot auth address"));
	buf_free(&reason);
	buf_free(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mechanism_filter),
	    cmocka_unit_test(test_exchanges),
	    cmocka_unit_test(test_auth_line),
	    cmocka_unit_test(test_broken_connections),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, server_setup, server_teardown);
}
