/*
 * test_auth_proto - lib/auth_proto (the auth service's codec: round trips,
 * every bound and malformed field) and lib/auth_client against a small
 * scripted server in a child process, over a real unix socket: results,
 * challenges, tickets, redeem, a dead service, and the one new connection
 * an exchange gets when the old one broke.
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

#include "attr.h"
#include "auth_client.h"
#include "auth_proto.h"
#include "buf.h"
#include "sock.h"

#define TICKET "0123456789abcdef0123456789abcdef"
#define SMTP_TICKET "abcdef0123456789abcdef0123456789"

/* Encodes r, decodes the bytes again and parses them into back. */
static int
request_trip(const struct auth_request *r, struct attr_list *l,
	     struct auth_request *back, struct buf *err)
{
	struct attr_list out = ATTR_LIST_INIT;
	struct buf wire = BUF_INIT;
	size_t used;
	int rc;

	auth_request_encode(r, &out);
	attr_encode(&out, &wire);
	assert_int_equal(
	    attr_decode(wire.data, wire.len, AUTH_PROTO_LIST_MAX, l, &used),
	    ATTR_OK);
	rc = auth_request_parse(l, back, err);
	attr_list_free(&out);
	buf_free(&wire);
	return rc;
}

static void
test_request_round_trips(void **state)
{
	struct attr_list l = ATTR_LIST_INIT;
	struct auth_request back;
	struct buf err = BUF_INIT;
	static const char bin[] = {'\0', 'a', 'l', '\0', 's', '\n'};
	struct auth_request mechs = {
	    .type = AUTH_REQ_MECHS,
	    .service = "smtp",
	    .client_address = "::1",
	    .client_port = "51234",
	    .server_address = "127.0.0.1",
	    .server_port = "25",
	    .allow_plaintext = 1,
	    .external_ssf = 256,
	};
	struct auth_request start = {
	    .type = AUTH_REQ_START,
	    .mech = "PLAIN",
	    .has_response = 1,
	    .response = bin,
	    .response_len = sizeof(bin),
	    .want_ticket = 1,
	};
	struct auth_request apop = {
	    .type = AUTH_REQ_APOP,
	    .user = "alice",
	    .timestamp = "<1.2@h>",
	    .digest = "c4c9334bac560ecc979e58001b3e22fb",
	};

	(void)state;
	assert_int_equal(request_trip(&mechs, &l, &back, &err), 0);
	assert_int_equal(back.type, AUTH_REQ_MECHS);
	assert_string_equal(back.service, "smtp");
	assert_string_equal(back.client_address, "::1");
	assert_string_equal(back.client_port, "51234");
	assert_string_equal(back.server_port, "25");
	assert_int_equal(back.allow_plaintext, 1);
	assert_int_equal(back.external_ssf, 256);

	assert_int_equal(request_trip(&start, &l, &back, &err), 0);
	assert_int_equal(back.type, AUTH_REQ_START);
	assert_string_equal(back.mech, "PLAIN");
	assert_int_equal(back.has_response, 1);
	assert_int_equal(back.response_len, sizeof(bin));
	assert_memory_equal(back.response, bin, sizeof(bin));
	assert_int_equal(back.want_ticket, 1);

	/* No initial response is not an empty one. */
	start.has_response = 0;
	assert_int_equal(request_trip(&start, &l, &back, &err), 0);
	assert_int_equal(back.has_response, 0);
	assert_null(back.response);
	start.has_response = 1;
	start.response_len = 0;
	assert_int_equal(request_trip(&start, &l, &back, &err), 0);
	assert_int_equal(back.has_response, 1);
	assert_int_equal(back.response_len, 0);

	assert_int_equal(request_trip(&apop, &l, &back, &err), 0);
	assert_string_equal(back.digest, apop.digest);
	assert_int_equal(back.want_ticket, 0);

	struct auth_request redeem = {.type = AUTH_REQ_REDEEM,
				      .ticket = TICKET};
	assert_int_equal(request_trip(&redeem, &l, &back, &err), 0);
	assert_string_equal(back.ticket, TICKET);
	attr_list_free(&l);
	buf_free(&err);
}

/* A list from name/value strings (NULL-terminated pairs). */
static void
make(struct attr_list *l, ...)
{
	va_list ap;
	const char *n, *v;

	attr_list_reset(l);
	va_start(ap, l);
	while ((n = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		attr_add_str(l, n, v);
	}
	va_end(ap);
}

static int
parses(struct attr_list *l)
{
	struct auth_request r;
	struct buf err = BUF_INIT;
	int rc = auth_request_parse(l, &r, &err);

	if (rc < 0)
		assert_true(err.len > 0);
	buf_free(&err);
	return rc == 0;
}

static void
test_request_rejects(void **state)
{
	struct attr_list l = ATTR_LIST_INIT;
	char big[AUTH_PROTO_USER_MAX + 2];

	(void)state;
	make(&l, "request", "bogus", NULL);
	assert_false(parses(&l));
	make(&l, "service", "smtp", NULL);
	assert_false(parses(&l));
	make(&l, "request", "mechs", "service", "imap", NULL);
	assert_false(parses(&l));
	make(&l, "request", "mechs", "service", "smtp", NULL);
	assert_true(parses(&l));
	make(&l, "request", "mechs", "service", "smtp", "client_port", "65536",
	     NULL);
	assert_false(parses(&l));
	make(&l, "request", "mechs", "service", "smtp", "client_address",
	     "1.2.3.4 x", NULL);
	assert_false(parses(&l));
	make(&l, "request", "mechs", "service", "smtp", "allow_plaintext", "2",
	     NULL);
	assert_false(parses(&l));
	/* Twice, even with the same value: one list means one thing. */
	make(&l, "request", "mechs", "service", "smtp", "service", "smtp",
	     NULL);
	assert_false(parses(&l));
	make(&l, "request", "start", "mech", "PL AIN", NULL);
	assert_false(parses(&l));
	make(&l, "request", "start", "mech", "ABCDEFGHIJKLMNOPQRSTU", NULL);
	assert_false(parses(&l));
	make(&l, "request", "start", "mech", "PLAIN", "has_response", "1",
	     NULL);
	assert_false(parses(&l)); /* the response is missing */
	make(&l, "request", "start", "mech", "PLAIN", "response", "x", NULL);
	assert_false(parses(&l)); /* a response without has_response */
	make(&l, "request", "step", NULL);
	assert_false(parses(&l));
	make(&l, "request", "checkpass", "user", "a\tb", "password", "x", NULL);
	assert_false(parses(&l));
	memset(big, 'u', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	make(&l, "request", "checkpass", "user", big, "password", "x", NULL);
	assert_false(parses(&l));
	big[sizeof(big) - 2] = '\0';
	make(&l, "request", "checkpass", "user", big, "password", "x", NULL);
	assert_true(parses(&l));
	attr_list_reset(&l);
	attr_add_str(&l, "request", "checkpass");
	attr_add_str(&l, "user", "alice");
	attr_add(&l, "password", "se\0cret", 7);
	assert_false(parses(&l));
	make(&l, "request", "apop", "user", "a", "timestamp", "1.2@h", "digest",
	     "c4c9334bac560ecc979e58001b3e22fb", NULL);
	assert_false(parses(&l));
	make(&l, "request", "apop", "user", "a", "timestamp", "<1.2@h>",
	     "digest", "c4c9334bac560ecc979e58001b3e22fz", NULL);
	assert_false(parses(&l));
	make(&l, "request", "redeem", "ticket",
	     "0123456789ABCDEF0123456789abcdef", NULL);
	assert_false(parses(&l));
	make(&l, "request", "redeem", "ticket", "0123", NULL);
	assert_false(parses(&l));
	attr_list_free(&l);
}

static void
test_replies(void **state)
{
	struct attr_list l = ATTR_LIST_INIT;
	struct auth_reply r, back;
	struct buf err = BUF_INIT;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.status = AUTH_REPLY_CONTINUE;
	r.challenge = "\0\1";
	r.challenge_len = 2;
	auth_reply_encode(&r, &l);
	assert_int_equal(auth_reply_parse(&l, &back, &err), 0);
	assert_int_equal(back.status, AUTH_REPLY_CONTINUE);
	assert_int_equal(back.challenge_len, 2);

	memset(&r, 0, sizeof(r));
	r.status = AUTH_REPLY_FAIL;
	r.reason = "bad\r\npassword";
	attr_list_reset(&l);
	auth_reply_encode(&r, &l);
	assert_int_equal(auth_reply_parse(&l, &back, &err), 0);
	assert_string_equal(back.reason, "bad??password");

	memset(&r, 0, sizeof(r));
	r.status = AUTH_REPLY_OK;
	r.user = "alice";
	r.ticket = TICKET;
	r.service = "pop";
	r.client_address = "127.0.0.1";
	r.server_address = "::1";
	attr_list_reset(&l);
	auth_reply_encode(&r, &l);
	assert_int_equal(auth_reply_parse(&l, &back, &err), 0);
	assert_string_equal(back.user, "alice");
	assert_string_equal(back.ticket, TICKET);
	assert_string_equal(back.client_address, "127.0.0.1");
	assert_string_equal(back.server_address, "::1");

	make(&l, "status", "ok", "mechs", "PLAIN LOGIN", NULL);
	assert_int_equal(auth_reply_parse(&l, &back, &err), 0);
	assert_null(back.user);
	assert_null(back.client_address);
	assert_null(back.server_address);
	make(&l, "status", "ok", "server_address", "1.2.3.4 x", NULL);
	assert_int_equal(auth_reply_parse(&l, &back, &err), -1);
	make(&l, "status", "ok", "mechs", "PLAIN\nLOGIN", NULL);
	assert_int_equal(auth_reply_parse(&l, &back, &err), -1);
	make(&l, "status", "ok", "ticket", "xyz", NULL);
	assert_int_equal(auth_reply_parse(&l, &back, &err), -1);
	make(&l, "status", "maybe", NULL);
	assert_int_equal(auth_reply_parse(&l, &back, &err), -1);
	make(&l, "status", "continue", NULL);
	assert_int_equal(auth_reply_parse(&l, &back, &err), -1);
	attr_list_free(&l);
	buf_free(&err);
}

/* --- the client against a scripted server -------------------------------- */

static char sockdir[64];
static char sockpath[128];
static pid_t server_pid;

static void
reply(int fd, const struct auth_reply *r)
{
	struct attr_list out = ATTR_LIST_INIT;

	auth_reply_encode(r, &out);
	if (attr_send(fd, &out, 5000) < 0)
		_exit(3);
	attr_list_free(&out);
}

/* One connection: answers as a service with users alice/secret (PLAIN,
 * checkpass) and a two-step mechanism "TWO"; "hangup" closes it. */
static void
serve_conn(int fd)
{
	struct attr_list in = ATTR_LIST_INIT;
	struct auth_request q;
	struct auth_reply r;
	struct buf err = BUF_INIT;
	int want_ticket = 0, in_two = 0;

	while (attr_recv(fd, &in, AUTH_PROTO_LIST_MAX, 5000) == 0) {
		memset(&r, 0, sizeof(r));
		if (auth_request_parse(&in, &q, &err) < 0) {
			r.status = AUTH_REPLY_FAIL;
			r.reason = "bad request";
			reply(fd, &r);
			continue;
		}
		r.status = AUTH_REPLY_FAIL;
		r.reason = "authentication failure";
		switch (q.type) {
		case AUTH_REQ_MECHS:
			r.status = AUTH_REPLY_OK;
			r.mechs = q.allow_plaintext ? "TWO PLAIN" : "TWO";
			break;
		case AUTH_REQ_START:
			want_ticket = q.want_ticket;
			if (strcmp(q.mech, "TWO") == 0) {
				r.status = AUTH_REPLY_CONTINUE;
				r.challenge = "first?";
				r.challenge_len = 6;
				in_two = 1;
			} else if (strcmp(q.mech, "PLAIN") != 0) {
				r.status = AUTH_REPLY_NOMECH;
			} else if (q.response_len == 13 &&
				   memcmp(q.response, "\0alice\0secret", 13) ==
				       0) {
				r.status = AUTH_REPLY_OK;
				r.user = "alice";
				r.ticket = want_ticket ? TICKET : NULL;
			}
			break;
		case AUTH_REQ_STEP:
			if (in_two && q.response_len == 3 &&
			    memcmp(q.response, "bob", 3) == 0) {
				r.status = AUTH_REPLY_OK;
				r.user = "bob";
				r.ticket = want_ticket ? TICKET : NULL;
			}
			in_two = 0;
			break;
		case AUTH_REQ_CHECKPASS:
			if (strcmp(q.user, "hangup") == 0)
				goto out;
			if (strcmp(q.user, "busy") == 0) {
				r.status = AUTH_REPLY_TEMPFAIL;
				r.reason = "sasldb locked";
			} else if (strcmp(q.user, "alice") == 0 &&
				   strcmp(q.password, "secret") == 0) {
				r.status = AUTH_REPLY_OK;
				r.user = "alice";
				r.ticket = q.want_ticket ? TICKET : NULL;
			}
			break;
		case AUTH_REQ_APOP:
			break;
		case AUTH_REQ_CANCEL:
			in_two = 0;
			r.status = AUTH_REPLY_OK;
			break;
		case AUTH_REQ_REDEEM:
			if (strcmp(q.ticket, TICKET) == 0 ||
			    strcmp(q.ticket, SMTP_TICKET) == 0) {
				r.status = AUTH_REPLY_OK;
				r.user = "alice";
				r.service = strcmp(q.ticket, TICKET) == 0
						? "pop"
						: "smtp";
				r.client_address = "127.0.0.2";
				r.server_address = "127.0.0.3";
			}
			break;
		}
		reply(fd, &r);
	}
out:
	attr_list_free(&in);
	buf_free(&err);
	close(fd);
}

static int
server_setup(void **state)
{
	struct buf err = BUF_INIT;
	int lfd;

	(void)state;
	strcpy(sockdir, "/tmp/test_auth_proto.XXXXXX");
	assert_non_null(mkdtemp(sockdir));
	snprintf(sockpath, sizeof(sockpath), "%s/auth", sockdir);
	lfd = sock_listen_unix(sockpath, 0600, 16, &err);
	assert_true(lfd >= 0);
	server_pid = fork();
	assert_true(server_pid >= 0);
	if (server_pid == 0) {
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

static const struct auth_client_params smtp_params = {
    .service = "smtp",
    .client_address = "127.0.0.2",
    .client_port = "4000",
    .allow_plaintext = 1,
};

static void
test_client_plain_and_ticket(void **state)
{
	struct buf err = BUF_INIT, mechs = BUF_INIT, ch = BUF_INIT,
		   reason = BUF_INIT;
	struct auth_client *c;

	(void)state;
	c = auth_client_connect(sockpath, 5000, &err);
	assert_non_null(c);
	assert_int_equal(auth_client_mechs(c, &smtp_params, &mechs, &err), 0);
	assert_string_equal(buf_cstr(&mechs), "TWO PLAIN");
	assert_true(auth_client_has_mech(c, "plain"));
	assert_false(auth_client_has_mech(c, "PLAI"));
	assert_false(auth_client_has_mech(c, "LOGIN"));

	assert_int_equal(auth_client_start(c, "PLAIN", "\0alice\0wrong", 12, 0,
					   &ch, &reason),
			 SASL_AUTH_FAIL);
	assert_string_equal(buf_cstr(&reason), "authentication failure");
	assert_null(auth_client_username(c));
	assert_int_equal(auth_client_start(c, "PLAIN", "\0alice\0secret", 13, 1,
					   &ch, &reason),
			 SASL_AUTH_OK);
	assert_string_equal(auth_client_username(c), "alice");
	assert_string_equal(auth_client_ticket(c), TICKET);
	assert_int_equal(auth_client_start(c, "CRAM", NULL, 0, 0, &ch, &reason),
			 SASL_AUTH_NOMECH);
	assert_null(auth_client_username(c));

	/* Two steps; a cancel in between starts over. */
	assert_int_equal(auth_client_start(c, "TWO", NULL, 0, 0, &ch, &reason),
			 SASL_AUTH_CONTINUE);
	assert_int_equal(ch.len, 6);
	auth_client_cancel(c);
	assert_int_equal(auth_client_step(c, "bob", 3, &ch, &reason),
			 SASL_AUTH_FAIL);
	assert_int_equal(auth_client_start(c, "TWO", NULL, 0, 1, &ch, &reason),
			 SASL_AUTH_CONTINUE);
	assert_int_equal(auth_client_step(c, "bob", 3, &ch, &reason),
			 SASL_AUTH_OK);
	assert_string_equal(auth_client_username(c), "bob");
	assert_string_equal(auth_client_ticket(c), TICKET);

	buf_reset(&reason);
	assert_int_equal(auth_client_checkpass(c, "busy", "x", 0, &reason),
			 SASL_AUTH_TEMPFAIL);
	assert_string_equal(buf_cstr(&reason), "sasldb locked");
	auth_client_free(c);
	buf_free(&err);
	buf_free(&mechs);
	buf_free(&ch);
	buf_free(&reason);
}

static void
test_client_reconnects_once(void **state)
{
	struct buf err = BUF_INIT, reason = BUF_INIT;
	struct auth_client *c;

	(void)state;
	c = auth_client_connect(sockpath, 5000, &err);
	assert_non_null(c);
	assert_int_equal(auth_client_mechs(c, &smtp_params, NULL, &err), 0);
	/* The server hangs up: one more try on a new connection, which it
	 * hangs up too: a temporary failure, not a hang nor a crash. */
	assert_int_equal(auth_client_checkpass(c, "hangup", "x", 0, &reason),
			 SASL_AUTH_TEMPFAIL);
	assert_non_null(strstr(buf_cstr(&reason), "connection closed"));
	/* The next exchange gets a new connection, with the same
	 * parameters (the server offers PLAIN only with allow_plaintext). */
	assert_int_equal(
	    auth_client_checkpass(c, "alice", "secret", 1, &reason),
	    SASL_AUTH_OK);
	assert_true(auth_client_has_mech(c, "PLAIN"));
	assert_string_equal(auth_client_ticket(c), TICKET);
	auth_client_free(c);
	buf_free(&err);
	buf_free(&reason);
}

static void
test_redeem(void **state)
{
	struct buf user = BUF_INIT, addr = BUF_INIT, local = BUF_INIT;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(
	    auth_redeem(sockpath, TICKET, 5000, &user, &addr, &local, &err), 0);
	assert_string_equal(buf_cstr(&user), "alice");
	assert_string_equal(buf_cstr(&addr), "127.0.0.2");
	assert_string_equal(buf_cstr(&local), "127.0.0.3");
	assert_int_equal(auth_redeem(sockpath,
				     "ffffffffffffffffffffffffffffffff", 5000,
				     &user, &addr, &local, &err),
			 -1);
	assert_non_null(strstr(buf_cstr(&err), "ticket refused"));
	buf_reset(&err);
	/* A ticket of an SMTP login opens no mailbox. */
	assert_int_equal(auth_redeem(sockpath, SMTP_TICKET, 5000, &user, &addr,
				     &local, &err),
			 -1);
	assert_non_null(strstr(buf_cstr(&err), "not a POP3 one"));
	buf_reset(&err);
	assert_int_equal(
	    auth_redeem(sockpath, "nope", 5000, &user, &addr, &local, &err),
	    -1);
	buf_free(&user);
	buf_free(&addr);
	buf_free(&local);
	buf_free(&err);
}

static void
test_dead_service(void **state)
{
	struct buf err = BUF_INIT, user = BUF_INIT, addr = BUF_INIT;
	char path[160];

	(void)state;
	snprintf(path, sizeof(path), "%s/nothing", sockdir);
	assert_null(auth_client_connect(path, 1000, &err));
	assert_non_null(strstr(buf_cstr(&err), "cannot connect"));
	assert_int_equal(
	    auth_redeem(path, TICKET, 1000, &user, &addr, &addr, &err), -1);
	buf_free(&err);
	buf_free(&user);
	buf_free(&addr);
}

int
main(void)
{
	const struct CMUnitTest codec[] = {
	    cmocka_unit_test(test_request_round_trips),
	    cmocka_unit_test(test_request_rejects),
	    cmocka_unit_test(test_replies),
	};
	const struct CMUnitTest client[] = {
	    cmocka_unit_test(test_client_plain_and_ticket),
	    cmocka_unit_test(test_client_reconnects_once),
	    cmocka_unit_test(test_redeem),
	    cmocka_unit_test(test_dead_service),
	};
	int failed = cmocka_run_group_tests(codec, NULL, NULL);

	signal(SIGPIPE, SIG_IGN);
	return failed +
	       cmocka_run_group_tests(client, server_setup, server_teardown);
}
