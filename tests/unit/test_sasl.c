/*
 * test_sasl - sasl_auth against the real libsasl2 and a sasldb made by
 * saslpasswd2 at test time: server-side PLAIN and LOGIN exchanges with
 * hand-made responses, failures and the reset after them (CVE-2011-1720),
 * mechanism filtering, and the client side talking to the server side
 * in-process through base64, as over the wire.
 *
 * A second group runs the same mechanisms against two realms in one
 * sasldb (as the auth service uses it: libsasl2 reads the file at each
 * check), and checks the sasldb reader's bounds on a hand-made Berkeley
 * DB file.  The mode that preloaded the sasldb into memory is gone: init
 * refuses it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <db.h>

#include "base64.h"
#include "buf.h"
#include "sasl_auth.h"
#include "sasldb.h"
#include "unit_helpers.h"
#include "xalloc.h"

#define REALM "example.org"
#define FQDN REALM /* myhostname, as DESIGN.md says */

static char tmpdir[UNIT_DIR_MAX];
static char dbpath[128];

/* Adds user with password to the sasldb at path with saslpasswd2 -p
 * (password on standard input). */
static int
add_user_to(const char *path, const char *realm, const char *user,
	    const char *password)
{
	char cmd[512];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "saslpasswd2 -c -p -f %s -u %s %s 2>&1",
		 path, realm, user);
	if ((p = popen(cmd, "w")) == NULL)
		return -1;
	fputs(password, p);
	fputs("\n", p);
	return pclose(p) == 0 ? 0 : -1;
}

/* A group's sasldb: a scratch folder from prefix (unit_tmpdir) with the
 * file sasldb2 holding users, rows of {realm, user, password} ended by
 * a NULL realm, made the server's sasldb.  0, or -1 (the group fails). */
static int
sasldb_group_setup(char *dir, const char *prefix, char *db, size_t dblen,
		   const char *const users[][3])
{
	struct sasl_auth_server_config cfg = {NULL, NULL, 0};
	struct buf err = BUF_INIT;

	if (unit_tmpdir(dir, prefix) < 0)
		return -1;
	snprintf(db, dblen, "%s/sasldb2", dir);
	for (size_t i = 0; users[i][0] != NULL; i++)
		if (add_user_to(db, users[i][0], users[i][1], users[i][2]) < 0)
			return -1;
	cfg.sasldb_path = db;
	if (sasl_auth_server_init(&cfg, &err) < 0) {
		fprintf(stderr, "%s\n", buf_cstr(&err));
		buf_free(&err);
		return -1;
	}
	buf_free(&err);
	return 0;
}

/* The teardown of sasldb_group_setup. */
static int
sasldb_group_teardown(const char *dir)
{
	sasl_auth_done();
	return unit_rmtree(dir);
}

static int
group_setup(void **state)
{
	static const char *const users[][3] = {
	    {REALM, "alice", "secret"},
	    {REALM, "bob", "hunter2"},
	    {"other.org", "carol", "pw-of-carol"},
	    {NULL, NULL, NULL},
	};

	(void)state;
	return sasldb_group_setup(tmpdir, "test_sasl", dbpath, sizeof(dbpath),
				  users);
}

static int
group_teardown(void **state)
{
	(void)state;
	return sasldb_group_teardown(tmpdir);
}

static struct sasl_auth_server *
new_server_in(const char *fqdn, const char *realm, int allow_plaintext)
{
	struct sasl_auth_server_params p = {
	    "smtp",	     fqdn, realm, "127.0.0.1;25", "127.0.0.1;4711",
	    allow_plaintext, 0};
	struct buf err = BUF_INIT;
	struct sasl_auth_server *srv = sasl_auth_server_new(&p, &err);

	if (srv == NULL)
		fail_msg("sasl_auth_server_new: %s", buf_cstr(&err));
	buf_free(&err);
	return srv;
}

static struct sasl_auth_server *
new_server(int allow_plaintext)
{
	return new_server_in(FQDN, NULL, allow_plaintext);
}

/* 1 when word is one of the space-separated words of list. */
static int
has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	while ((p = strstr(p, word)) != NULL) {
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return 1;
		p += n;
	}
	return 0;
}

static void
test_mechs_filtered(void **state)
{
	struct sasl_auth_server *srv;
	struct buf list = BUF_INIT, err = BUF_INIT;

	(void)state;
	srv = new_server(1);
	assert_int_equal(sasl_auth_server_mechs(srv, &list, &err), 0);
	assert_true(has_word(buf_cstr(&list), "PLAIN"));
	assert_true(has_word(buf_cstr(&list), "LOGIN"));
	assert_false(has_word(buf_cstr(&list), "ANONYMOUS"));
	assert_true(sasl_auth_server_has_mech(srv, "plain"));
	assert_false(sasl_auth_server_has_mech(srv, "ANONYMOUS"));
	assert_false(sasl_auth_server_has_mech(srv, "PLAI"));
	sasl_auth_server_free(srv);

	srv = new_server(0);
	assert_int_equal(sasl_auth_server_mechs(srv, &list, &err), 0);
	assert_false(has_word(buf_cstr(&list), "PLAIN"));
	assert_false(has_word(buf_cstr(&list), "LOGIN"));
	assert_false(has_word(buf_cstr(&list), "ANONYMOUS"));
	/* Challenge-response mechanisms remain. */
	assert_true(has_word(buf_cstr(&list), "CRAM-MD5") ||
		    has_word(buf_cstr(&list), "SCRAM-SHA-256"));
	assert_false(sasl_auth_server_has_mech(srv, "PLAIN"));
	sasl_auth_server_free(srv);
	buf_free(&list);
	buf_free(&err);
}

/* One PLAIN exchange with the initial response authz NUL authc NUL pass:
 * the result, the server's reason in reason.  Asserts nothing (a forked
 * child uses it through try_plain). */
static enum sasl_auth_result
plain_exchange(struct sasl_auth_server *srv, const char *authz,
	       const char *authc, const char *pass, struct buf *reason)
{
	struct buf resp = BUF_INIT, chal = BUF_INIT;
	enum sasl_auth_result r;

	buf_puts(&resp, authz);
	buf_putc(&resp, '\0');
	buf_puts(&resp, authc);
	buf_putc(&resp, '\0');
	buf_puts(&resp, pass);
	r = sasl_auth_server_start(srv, "PLAIN", resp.data, resp.len, &chal,
				   reason);
	buf_free(&resp);
	buf_free(&chal);
	return r;
}

/* One PLAIN exchange with an initial response; returns the result. */
static enum sasl_auth_result
plain(struct sasl_auth_server *srv, const char *authz, const char *authc,
      const char *pass)
{
	struct buf reason = BUF_INIT;
	enum sasl_auth_result r =
	    plain_exchange(srv, authz, authc, pass, &reason);

	if (r != SASL_AUTH_OK)
		assert_null(sasl_auth_server_username(srv));
	if (r < 0)
		assert_true(reason.len > 0);
	buf_free(&reason);
	return r;
}

static void
test_plain(void **state)
{
	struct sasl_auth_server *srv = new_server(1);

	(void)state;
	assert_int_equal(plain(srv, "", "alice", "secret"), SASL_AUTH_OK);
	assert_string_equal(sasl_auth_server_username(srv), "alice");
	assert_string_equal(sasl_auth_server_mech(srv), "PLAIN");
	/* authzid equal to the authcid is no proxying. */
	assert_int_equal(plain(srv, "bob", "bob", "hunter2"), SASL_AUTH_OK);
	assert_string_equal(sasl_auth_server_username(srv), "bob");
	/* A full name in the realm of the database works too. */
	assert_int_equal(plain(srv, "", "alice@" REALM, "secret"),
			 SASL_AUTH_OK);
	assert_string_equal(sasl_auth_server_username(srv), "alice");

	/* Users of another realm keep it in their name; they are not
	 * mistaken for users of the default realm. */
	assert_int_equal(plain(srv, "", "carol@other.org", "pw-of-carol"),
			 SASL_AUTH_OK);
	assert_string_equal(sasl_auth_server_username(srv), "carol@other.org");
	assert_int_equal(plain(srv, "", "carol", "pw-of-carol"),
			 SASL_AUTH_FAIL);
	sasl_auth_server_free(srv);

	/* A default realm other than the host name. */
	srv = new_server_in("mail." REALM, REALM, 1);
	assert_int_equal(plain(srv, "", "alice", "secret"), SASL_AUTH_OK);
	assert_string_equal(sasl_auth_server_username(srv), "alice");
	assert_int_equal(plain(srv, "", "alice", "hunter2"), SASL_AUTH_FAIL);
	sasl_auth_server_free(srv);
	srv = new_server_in("mail." REALM, "other.org", 1);
	assert_int_equal(plain(srv, "", "carol", "pw-of-carol"), SASL_AUTH_OK);
	assert_string_equal(sasl_auth_server_username(srv), "carol");
	assert_int_equal(plain(srv, "", "alice", "secret"), SASL_AUTH_FAIL);
	sasl_auth_server_free(srv);
}

static void
test_plain_failures_then_success(void **state)
{
	struct sasl_auth_server *srv = new_server(1);

	(void)state;
	assert_int_equal(plain(srv, "", "alice", "wrong"), SASL_AUTH_FAIL);
	assert_int_equal(plain(srv, "", "alice", "secret\n"), SASL_AUTH_FAIL);
	assert_int_equal(plain(srv, "", "alice", "hunter2"), SASL_AUTH_FAIL);
	assert_int_equal(plain(srv, "", "nobody", "secret"), SASL_AUTH_FAIL);
	assert_int_equal(plain(srv, "", "", "secret"), SASL_AUTH_FAIL);
	/* alice may not act as bob (proxy authorization refused). */
	assert_int_equal(plain(srv, "bob", "alice", "secret"), SASL_AUTH_FAIL);
	/* A new exchange after failures starts clean and succeeds. */
	assert_int_equal(plain(srv, "", "alice", "secret"), SASL_AUTH_OK);
	assert_string_equal(sasl_auth_server_username(srv), "alice");
	sasl_auth_server_free(srv);
}

static void
test_plain_without_initial_response(void **state)
{
	struct sasl_auth_server *srv = new_server(1);
	struct buf chal = BUF_INIT, reason = BUF_INIT;
	static const char resp[] = "\0alice\0secret";

	(void)state;
	assert_int_equal(
	    sasl_auth_server_start(srv, "PLAIN", NULL, 0, &chal, &reason),
	    SASL_AUTH_CONTINUE);
	assert_int_equal(chal.len, 0);
	assert_null(sasl_auth_server_username(srv));
	assert_int_equal(
	    sasl_auth_server_step(srv, resp, sizeof(resp) - 1, &chal, &reason),
	    SASL_AUTH_OK);
	assert_string_equal(sasl_auth_server_username(srv), "alice");

	/* An empty initial response ("AUTH PLAIN =") is not "none". */
	assert_int_equal(
	    sasl_auth_server_start(srv, "PLAIN", "", 0, &chal, &reason),
	    SASL_AUTH_FAIL);
	buf_free(&chal);
	buf_free(&reason);
	sasl_auth_server_free(srv);
}

/* A whole LOGIN exchange (start, user name, password): the first result
 * that is not CONTINUE.  Asserts nothing (a forked child uses it). */
static enum sasl_auth_result
try_login(struct sasl_auth_server *srv, const char *user, const char *pass)
{
	struct buf chal = BUF_INIT, reason = BUF_INIT;
	enum sasl_auth_result r;

	r = sasl_auth_server_start(srv, "LOGIN", NULL, 0, &chal, &reason);
	if (r == SASL_AUTH_CONTINUE)
		r = sasl_auth_server_step(srv, user, strlen(user), &chal,
					  &reason);
	if (r == SASL_AUTH_CONTINUE)
		r = sasl_auth_server_step(srv, pass, strlen(pass), &chal,
					  &reason);
	buf_free(&chal);
	buf_free(&reason);
	return r;
}

static void
test_login(void **state)
{
	struct sasl_auth_server *srv = new_server(1);
	struct buf chal = BUF_INIT, reason = BUF_INIT;

	(void)state;
	assert_int_equal(
	    sasl_auth_server_start(srv, "LOGIN", NULL, 0, &chal, &reason),
	    SASL_AUTH_CONTINUE);
	assert_string_equal(buf_cstr(&chal), "Username:");
	assert_int_equal(sasl_auth_server_step(srv, "alice", 5, &chal, &reason),
			 SASL_AUTH_CONTINUE);
	assert_string_equal(buf_cstr(&chal), "Password:");
	assert_int_equal(
	    sasl_auth_server_step(srv, "secret", 6, &chal, &reason),
	    SASL_AUTH_OK);
	assert_string_equal(sasl_auth_server_username(srv), "alice");

	/* Wrong password, then the next exchange works. */
	assert_int_equal(try_login(srv, "bob", "secret"), SASL_AUTH_FAIL);
	assert_null(sasl_auth_server_username(srv));
	/* The failed exchange is gone: a further step is refused. */
	assert_int_equal(
	    sasl_auth_server_step(srv, "hunter2", 7, &chal, &reason),
	    SASL_AUTH_FAIL);
	assert_null(sasl_auth_server_username(srv));
	assert_int_equal(try_login(srv, "bob", "hunter2"), SASL_AUTH_OK);
	assert_string_equal(sasl_auth_server_username(srv), "bob");
	buf_free(&chal);
	buf_free(&reason);
	sasl_auth_server_free(srv);
}

static void
test_cancel_and_restart(void **state)
{
	struct sasl_auth_server *srv = new_server(1);
	struct buf chal = BUF_INIT, reason = BUF_INIT;

	(void)state;
	/* The client cancels ("*") after giving the user name. */
	assert_int_equal(
	    sasl_auth_server_start(srv, "LOGIN", NULL, 0, &chal, &reason),
	    SASL_AUTH_CONTINUE);
	assert_int_equal(sasl_auth_server_step(srv, "alice", 5, &chal, &reason),
			 SASL_AUTH_CONTINUE);
	sasl_auth_server_reset(srv);
	assert_null(sasl_auth_server_mech(srv));
	/* The aborted exchange cannot be resumed: the password alone does
	 * not log anyone in. */
	assert_int_equal(
	    sasl_auth_server_step(srv, "secret", 6, &chal, &reason),
	    SASL_AUTH_FAIL);
	assert_null(sasl_auth_server_username(srv));
	/* A new exchange with another mechanism succeeds. */
	assert_int_equal(plain(srv, "", "bob", "hunter2"), SASL_AUTH_OK);
	/* A new start in the middle of an exchange restarts it. */
	assert_int_equal(
	    sasl_auth_server_start(srv, "LOGIN", NULL, 0, &chal, &reason),
	    SASL_AUTH_CONTINUE);
	assert_null(sasl_auth_server_username(srv));
	assert_int_equal(plain(srv, "", "alice", "secret"), SASL_AUTH_OK);
	assert_string_equal(sasl_auth_server_username(srv), "alice");
	buf_free(&chal);
	buf_free(&reason);
	sasl_auth_server_free(srv);
}

static void
test_nomech(void **state)
{
	struct sasl_auth_server *srv = new_server(1), *tight = new_server(0);
	struct buf chal = BUF_INIT, reason = BUF_INIT;
	static const char resp[] = "\0alice\0secret";

	(void)state;
	assert_int_equal(
	    sasl_auth_server_start(srv, "FOO-BAR", NULL, 0, &chal, &reason),
	    SASL_AUTH_NOMECH);
	assert_int_equal(
	    sasl_auth_server_start(srv, "ANONYMOUS", "x", 1, &chal, &reason),
	    SASL_AUTH_NOMECH);
	assert_int_equal(
	    sasl_auth_server_start(srv, "PL AIN", NULL, 0, &chal, &reason),
	    SASL_AUTH_NOMECH);
	assert_int_equal(sasl_auth_server_start(srv,
						"AVERYLONGMECHANISMNAME1234",
						NULL, 0, &chal, &reason),
			 SASL_AUTH_NOMECH);
	/* Plaintext mechanisms are refused where they are not offered. */
	assert_int_equal(sasl_auth_server_start(tight, "PLAIN", resp,
						sizeof(resp) - 1, &chal,
						&reason),
			 SASL_AUTH_NOMECH);
	assert_null(sasl_auth_server_username(tight));
	assert_int_equal(
	    sasl_auth_server_start(tight, "LOGIN", NULL, 0, &chal, &reason),
	    SASL_AUTH_NOMECH);
	/* And a step without a start is refused. */
	assert_int_equal(sasl_auth_server_step(tight, resp, sizeof(resp) - 1,
					       &chal, &reason),
			 SASL_AUTH_FAIL);
	assert_null(sasl_auth_server_username(tight));
	buf_free(&chal);
	buf_free(&reason);
	sasl_auth_server_free(srv);
	sasl_auth_server_free(tight);
}

/* The sasldb path given to init is the one used: another database
 * without alice makes her login fail. */
static void
test_dbpath_used(void **state)
{
	struct sasl_auth_server *srv = new_server(1);
	char other[160];

	(void)state;
	snprintf(other, sizeof(other), "%s/nonexistent-db", tmpdir);
	sasl_auth_server_set_dbpath(other);
	assert_int_not_equal(plain(srv, "", "alice", "secret"), SASL_AUTH_OK);
	sasl_auth_server_set_dbpath(dbpath);
	assert_int_equal(plain(srv, "", "alice", "secret"), SASL_AUTH_OK);
	sasl_auth_server_free(srv);
}

/* Runs a whole exchange between cli and srv, base64 on the "wire" as in
 * SMTP AUTH; *mech gets the mechanism the client chose. */
static enum sasl_auth_result
exchange(struct sasl_auth_client *cli, struct sasl_auth_server *srv,
	 const char *offered, char *mech_out, size_t mech_size)
{
	struct buf msg = BUF_INIT, wire = BUF_INIT, reason = BUF_INIT;
	struct buf chal = BUF_INIT;
	enum sasl_auth_result c, s;
	const char *mech = NULL;
	int has_initial = 0, rounds = 0;

	c = sasl_auth_client_start(cli, offered, &mech, &msg, &has_initial,
				   &reason);
	if (c != SASL_AUTH_OK && c != SASL_AUTH_CONTINUE) {
		s = c;
		goto done;
	}
	snprintf(mech_out, mech_size, "%s", mech);
	base64_encode(&wire, msg.data, msg.len);
	buf_reset(&msg);
	assert_int_equal(base64_decode(&msg, wire.data, wire.len, 12288), 0);
	s = sasl_auth_server_start(srv, mech_out,
				   has_initial ? buf_cstr(&msg) : NULL, msg.len,
				   &chal, &reason);
	while (s == SASL_AUTH_CONTINUE && rounds++ < 10) {
		buf_reset(&wire);
		base64_encode(&wire, chal.data, chal.len);
		buf_reset(&msg);
		assert_int_equal(
		    base64_decode(&msg, wire.data, wire.len, 12288), 0);
		c = sasl_auth_client_step(cli, msg.data, msg.len, &chal,
					  &reason);
		if (c != SASL_AUTH_OK && c != SASL_AUTH_CONTINUE) {
			s = c;
			break;
		}
		s = sasl_auth_server_step(srv, chal.data, chal.len, &chal,
					  &reason);
	}
done:
	buf_free(&msg);
	buf_free(&wire);
	buf_free(&reason);
	buf_free(&chal);
	return s;
}

static enum sasl_auth_result
client_login(struct sasl_auth_server *srv, const char *offered,
	     const char *user, const char *password, int plaintext, char *mech,
	     size_t mech_size)
{
	struct buf err = BUF_INIT;
	struct sasl_auth_client *cli;
	enum sasl_auth_result r;

	cli =
	    sasl_auth_client_new("smtp", FQDN, user, password, plaintext, &err);
	if (cli == NULL)
		fail_msg("sasl_auth_client_new: %s", buf_cstr(&err));
	r = exchange(cli, srv, offered, mech, mech_size);
	sasl_auth_client_free(cli);
	buf_free(&err);
	return r;
}

static void
test_client_against_server(void **state)
{
	struct sasl_auth_server *srv = new_server(1), *tight = new_server(0);
	struct buf list = BUF_INIT, err = BUF_INIT;
	char mech[32];

	(void)state;
	assert_int_equal(client_login(srv, "PLAIN", "alice", "secret", 1, mech,
				      sizeof(mech)),
			 SASL_AUTH_OK);
	assert_string_equal(mech, "PLAIN");
	assert_string_equal(sasl_auth_server_username(srv), "alice");

	assert_int_equal(
	    client_login(srv, "LOGIN", "bob", "hunter2", 1, mech, sizeof(mech)),
	    SASL_AUTH_OK);
	assert_string_equal(mech, "LOGIN");
	assert_string_equal(sasl_auth_server_username(srv), "bob");

	assert_int_equal(
	    client_login(srv, "PLAIN", "alice", "wrong", 1, mech, sizeof(mech)),
	    SASL_AUTH_FAIL);
	assert_null(sasl_auth_server_username(srv));

	/* A client that may not send plaintext finds no mechanism in a
	 * plaintext-only offer. */
	assert_int_equal(client_login(srv, "PLAIN LOGIN", "alice", "secret", 0,
				      mech, sizeof(mech)),
			 SASL_AUTH_NOMECH);

	/* Without plaintext, the best challenge-response mechanism both
	 * sides have is chosen and works against the sasldb. */
	assert_int_equal(sasl_auth_server_mechs(tight, &list, &err), 0);
	assert_int_equal(client_login(tight, buf_cstr(&list), "alice", "secret",
				      0, mech, sizeof(mech)),
			 SASL_AUTH_OK);
	assert_true(has_word(buf_cstr(&list), mech));
	assert_string_not_equal(mech, "PLAIN");
	assert_string_not_equal(mech, "LOGIN");
	assert_string_equal(sasl_auth_server_username(tight), "alice");
	assert_int_equal(client_login(tight, buf_cstr(&list), "alice", "bad", 0,
				      mech, sizeof(mech)),
			 SASL_AUTH_FAIL);
	assert_null(sasl_auth_server_username(tight));
	/* CRAM-MD5 specifically, as many relay hosts offer it. */
	if (has_word(buf_cstr(&list), "CRAM-MD5"))
		assert_int_equal(client_login(tight, "CRAM-MD5", "bob",
					      "hunter2", 0, mech, sizeof(mech)),
				 SASL_AUTH_OK);
	buf_free(&list);
	buf_free(&err);
	sasl_auth_server_free(srv);
	sasl_auth_server_free(tight);
}

/* POP3 USER/PASS: a password check outside any mechanism. */
static void
test_checkpass(void **state)
{
	struct sasl_auth_server *srv = new_server(1);
	struct buf reason = BUF_INIT;

	(void)state;
	assert_int_equal(
	    sasl_auth_server_checkpass(srv, "alice", "secret", &reason),
	    SASL_AUTH_OK);
	assert_string_equal(sasl_auth_server_username(srv), "alice");
	assert_int_equal(
	    sasl_auth_server_checkpass(srv, "alice", "hunter2", &reason),
	    SASL_AUTH_FAIL);
	assert_null(sasl_auth_server_username(srv));
	assert_true(reason.len > 0);
	assert_int_equal(
	    sasl_auth_server_checkpass(srv, "nobody", "secret", &reason),
	    SASL_AUTH_FAIL);
	assert_int_equal(sasl_auth_server_checkpass(srv, "", "", &reason),
			 SASL_AUTH_FAIL);
	assert_int_equal(
	    sasl_auth_server_checkpass(srv, "bob@" REALM, "hunter2", &reason),
	    SASL_AUTH_OK);
	assert_string_equal(sasl_auth_server_username(srv), "bob");
	buf_free(&reason);
	sasl_auth_server_free(srv);
}

static void
test_init_errors(void **state)
{
	struct sasl_auth_server_config cfg = {NULL, NULL, 0};
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(sasl_auth_server_init(&cfg, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "sasldb_path"));
	buf_reset(&err);
	cfg.sasldb_path = dbpath;
	cfg.preload = 1;
	assert_int_equal(sasl_auth_server_init(&cfg, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "auth service"));
	buf_free(&err);
}

/* --- two realms in one sasldb ------------------------------------------- */

static char mtmpdir[UNIT_DIR_MAX];
static char mdbpath[128];

static int
realms_setup(void **state)
{
	/* Two realms, and one name in both with different passwords. */
	static const char *const users[][3] = {
	    {REALM, "alice", "secret"},
	    {REALM, "bob", "hunter2"},
	    {"other.org", "carol", "pw-of-carol"},
	    {"other.org", "alice", "alice-elsewhere"},
	    {NULL, NULL, NULL},
	};

	(void)state;
	return sasldb_group_setup(mtmpdir, "test_realms", mdbpath,
				  sizeof(mdbpath), users);
}

static int
realms_teardown(void **state)
{
	(void)state;
	return sasldb_group_teardown(mtmpdir);
}

/* The helpers below assert nothing, so that a forked child can use them
 * and report through its exit status. */

static enum sasl_auth_result
try_plain(struct sasl_auth_server *srv, const char *authc, const char *pass)
{
	struct buf reason = BUF_INIT;
	enum sasl_auth_result r = plain_exchange(srv, "", authc, pass, &reason);

	buf_free(&reason);
	return r;
}

static enum sasl_auth_result
try_checkpass(struct sasl_auth_server *srv, const char *user, const char *pass)
{
	struct buf reason = BUF_INIT;
	enum sasl_auth_result r;

	r = sasl_auth_server_checkpass(srv, user, pass, &reason);
	buf_free(&reason);
	return r;
}

/* 1 when the last exchange of srv authenticated name. */
static int
is_user(struct sasl_auth_server *srv, const char *name)
{
	const char *u = sasl_auth_server_username(srv);

	return u != NULL && strcmp(u, name) == 0;
}

/* A whole client/server exchange without plaintext, with the best
 * mechanism of offered; the chosen one goes to mech. */
static enum sasl_auth_result
try_client(struct sasl_auth_server *srv, const char *offered, const char *user,
	   const char *pass, char *mech, size_t mech_size)
{
	struct buf msg = BUF_INIT, chal = BUF_INIT, err = BUF_INIT;
	struct sasl_auth_client *cli;
	enum sasl_auth_result c, s;
	const char *m = NULL;
	int has_initial = 0, rounds = 0;

	snprintf(mech, mech_size, "%s", "");
	cli = sasl_auth_client_new("smtp", FQDN, user, pass, 0, &err);
	if (cli == NULL) {
		buf_free(&err);
		return SASL_AUTH_TEMPFAIL;
	}
	s = c =
	    sasl_auth_client_start(cli, offered, &m, &msg, &has_initial, &err);
	if (c == SASL_AUTH_OK || c == SASL_AUTH_CONTINUE) {
		snprintf(mech, mech_size, "%s", m);
		s = sasl_auth_server_start(srv, mech,
					   has_initial ? buf_cstr(&msg) : NULL,
					   msg.len, &chal, &err);
	}
	while (s == SASL_AUTH_CONTINUE && rounds++ < 10) {
		c = sasl_auth_client_step(cli, chal.data, chal.len, &msg, &err);
		if (c != SASL_AUTH_OK && c != SASL_AUTH_CONTINUE) {
			s = c;
			break;
		}
		s = sasl_auth_server_step(srv, msg.data, msg.len, &chal, &err);
	}
	sasl_auth_client_free(cli);
	buf_free(&msg);
	buf_free(&chal);
	buf_free(&err);
	return s;
}

static void
test_realms_plain_login(void **state)
{
	struct sasl_auth_server *srv = new_server(1);

	(void)state;
	assert_int_equal(try_plain(srv, "alice", "secret"), SASL_AUTH_OK);
	assert_true(is_user(srv, "alice"));
	assert_int_equal(try_plain(srv, "alice@" REALM, "secret"),
			 SASL_AUTH_OK);
	assert_true(is_user(srv, "alice"));
	assert_int_equal(try_plain(srv, "alice", "wrong"), SASL_AUTH_FAIL);
	assert_null(sasl_auth_server_username(srv));
	assert_int_equal(try_plain(srv, "alice", "secre"), SASL_AUTH_FAIL);
	assert_int_equal(try_plain(srv, "alice", "secret2"), SASL_AUTH_FAIL);
	assert_int_equal(try_plain(srv, "alice", ""), SASL_AUTH_FAIL);
	/* Another user's password is no good, nor is an unknown user. */
	assert_int_equal(try_plain(srv, "alice", "hunter2"), SASL_AUTH_FAIL);
	assert_int_equal(try_plain(srv, "nobody", "secret"), SASL_AUTH_FAIL);
	assert_int_equal(try_plain(srv, "Alice", "secret"), SASL_AUTH_FAIL);
	assert_int_equal(try_plain(srv, "nobody@" REALM, "x"), SASL_AUTH_FAIL);
	/* No proxy authorization, as with the sasldb. */
	assert_int_equal(plain(srv, "bob", "alice", "secret"), SASL_AUTH_FAIL);
	assert_int_equal(plain(srv, "bob", "bob", "hunter2"), SASL_AUTH_OK);

	assert_int_equal(try_login(srv, "bob", "hunter2"), SASL_AUTH_OK);
	assert_true(is_user(srv, "bob"));
	assert_int_equal(try_login(srv, "bob", "secret"), SASL_AUTH_FAIL);
	assert_null(sasl_auth_server_username(srv));
	assert_int_equal(try_login(srv, "mallory", "secret"), SASL_AUTH_FAIL);
	assert_int_equal(try_login(srv, "alice", "secret"), SASL_AUTH_OK);
	assert_true(is_user(srv, "alice"));

	assert_int_equal(try_checkpass(srv, "bob", "hunter2"), SASL_AUTH_OK);
	assert_int_equal(try_checkpass(srv, "bob", "hunter"), SASL_AUTH_FAIL);
	sasl_auth_server_free(srv);
}

static void
test_realms_two_realms(void **state)
{
	struct sasl_auth_server *srv = new_server(1);

	(void)state;
	/* The same name in two realms: each realm has its own password. */
	assert_int_equal(try_plain(srv, "alice@other.org", "alice-elsewhere"),
			 SASL_AUTH_OK);
	assert_true(is_user(srv, "alice@other.org"));
	assert_int_equal(try_plain(srv, "alice@other.org", "secret"),
			 SASL_AUTH_FAIL);
	assert_int_equal(try_plain(srv, "alice", "alice-elsewhere"),
			 SASL_AUTH_FAIL);
	assert_int_equal(try_plain(srv, "carol@other.org", "pw-of-carol"),
			 SASL_AUTH_OK);
	assert_true(is_user(srv, "carol@other.org"));
	/* carol is not in the default realm, nor is any unknown realm. */
	assert_int_equal(try_plain(srv, "carol", "pw-of-carol"),
			 SASL_AUTH_FAIL);
	assert_int_equal(try_plain(srv, "alice@nowhere.test", "secret"),
			 SASL_AUTH_FAIL);
	assert_int_equal(try_plain(srv, "alice@", "secret"), SASL_AUTH_FAIL);
	sasl_auth_server_free(srv);

	/* With other.org as the default realm, bare names are its users. */
	srv = new_server_in(FQDN, "other.org", 1);
	assert_int_equal(try_plain(srv, "alice", "alice-elsewhere"),
			 SASL_AUTH_OK);
	assert_true(is_user(srv, "alice"));
	assert_int_equal(try_login(srv, "carol", "pw-of-carol"), SASL_AUTH_OK);
	assert_true(is_user(srv, "carol"));
	assert_int_equal(try_plain(srv, "alice", "secret"), SASL_AUTH_FAIL);
	assert_int_equal(try_plain(srv, "bob", "hunter2"), SASL_AUTH_FAIL);
	assert_int_equal(try_plain(srv, "alice@" REALM, "secret"),
			 SASL_AUTH_OK);
	assert_true(is_user(srv, "alice@" REALM));
	sasl_auth_server_free(srv);
}

/* Without plaintext (no TLS), smtpd offers challenge-response
 * mechanisms: they read userPassword through the same plugin. */
static void
test_realms_challenge_response(void **state)
{
	struct sasl_auth_server *tight = new_server(0);
	struct buf list = BUF_INIT, err = BUF_INIT;
	char mech[32];

	(void)state;
	assert_int_equal(sasl_auth_server_mechs(tight, &list, &err), 0);
	assert_int_equal(try_client(tight, buf_cstr(&list), "alice", "secret",
				    mech, sizeof(mech)),
			 SASL_AUTH_OK);
	assert_true(has_word(buf_cstr(&list), mech));
	assert_string_not_equal(mech, "PLAIN");
	assert_true(is_user(tight, "alice"));
	assert_int_equal(try_client(tight, buf_cstr(&list), "alice", "bad",
				    mech, sizeof(mech)),
			 SASL_AUTH_FAIL);
	assert_int_equal(try_client(tight, buf_cstr(&list), "nobody", "secret",
				    mech, sizeof(mech)),
			 SASL_AUTH_FAIL);
	if (has_word(buf_cstr(&list), "CRAM-MD5")) {
		assert_int_equal(try_client(tight, "CRAM-MD5", "bob", "hunter2",
					    mech, sizeof(mech)),
				 SASL_AUTH_OK);
		assert_true(is_user(tight, "bob"));
		assert_int_equal(try_client(tight, "CRAM-MD5", "bob", "secret",
					    mech, sizeof(mech)),
				 SASL_AUTH_FAIL);
	}
	buf_free(&list);
	buf_free(&err);
	sasl_auth_server_free(tight);
}

static void
put(DB *db, const char *k, size_t klen, const char *v, size_t vlen)
{
	DBT key, data;

	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.data = (void *)k;
	key.size = (u_int32_t)klen;
	data.data = (void *)v;
	data.size = (u_int32_t)vlen;
	assert_int_equal(db->put(db, NULL, &key, &data, 0), 0);
}

#define KEY(s) s, sizeof(s) - 1

static void
collect_passwords(const char *user, const char *realm, const char *password,
		  size_t len, void *ctx)
{
	struct buf *b = ctx;

	assert_int_equal(strlen(password), len);
	buf_printf(b, "%s@%s=%zu:%.20s;", user, realm, len, password);
}

static void
collect_users(const char *user, const char *realm, void *ctx)
{
	buf_printf(ctx, "%s@%s;", user, realm);
}

/* sasldb_passwords on a hand-made sasldb: bounds and bad shapes. */
static void
test_sasldb_passwords_bounds(void **state)
{
	char path[160], *big = xmalloc(SASLDB_VALUE_MAX + 2);
	struct buf got = BUF_INIT, err = BUF_INIT;
	DB *db;

	(void)state;
	snprintf(path, sizeof(path), "%s/handmade", mtmpdir);
	assert_int_equal(db_create(&db, NULL, 0), 0);
	assert_int_equal(
	    db->open(db, NULL, path, NULL, DB_HASH, DB_CREATE, 0600), 0);
	put(db, KEY("ann\0" REALM "\0userPassword"), KEY("pw-of-ann"));
	put(db, KEY("ann\0" REALM "\0cmusaslsecretOTP"), KEY("otp"));
	memset(big, 'x', SASLDB_VALUE_MAX + 1);
	put(db, KEY("long\0" REALM "\0userPassword"), big,
	    SASLDB_VALUE_MAX + 1);
	memset(big, 'y', SASLDB_VALUE_MAX);
	put(db, KEY("max\0" REALM "\0userPassword"), big, SASLDB_VALUE_MAX);
	put(db, KEY("nul\0" REALM "\0userPassword"), KEY("a\0b"));
	put(db, KEY("noseparators"), KEY("pw"));
	put(db, KEY("ctl\x01\0" REALM "\0userPassword"), KEY("pw"));
	put(db, KEY("\0" REALM "\0userPassword"), KEY("pw"));
	put(db, KEY("empty\0" REALM "\0userPassword"), "", 0);
	assert_int_equal(db->close(db, 0), 0);

	assert_int_equal(sasldb_passwords(path, collect_passwords, &got), 3);
	assert_non_null(strstr(buf_cstr(&got), "ann@" REALM "=9:pw-of-ann;"));
	assert_non_null(strstr(buf_cstr(&got), "max@" REALM "=8191:yyyy"));
	assert_non_null(strstr(buf_cstr(&got), "empty@" REALM "=0:;"));
	assert_null(strstr(buf_cstr(&got), "otp"));
	assert_null(strstr(buf_cstr(&got), "long"));
	assert_null(strstr(buf_cstr(&got), "nul"));
	assert_null(strstr(buf_cstr(&got), "ctl"));
	/* The user list reads no password, so it cannot tell that two
	 * of them are unusable: it lists them. */
	buf_reset(&got);
	assert_int_equal(sasldb_users(path, collect_users, &got), 5);
	assert_non_null(strstr(buf_cstr(&got), "long@" REALM ";"));
	xfree(big);
	buf_free(&got);
	buf_free(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mechs_filtered),
	    cmocka_unit_test(test_plain),
	    cmocka_unit_test(test_plain_failures_then_success),
	    cmocka_unit_test(test_plain_without_initial_response),
	    cmocka_unit_test(test_login),
	    cmocka_unit_test(test_cancel_and_restart),
	    cmocka_unit_test(test_nomech),
	    cmocka_unit_test(test_dbpath_used),
	    cmocka_unit_test(test_client_against_server),
	    cmocka_unit_test(test_checkpass),
	    cmocka_unit_test(test_init_errors),
	};
	const struct CMUnitTest realms_tests[] = {
	    cmocka_unit_test(test_realms_plain_login),
	    cmocka_unit_test(test_realms_two_realms),
	    cmocka_unit_test(test_realms_challenge_response),
	    cmocka_unit_test(test_sasldb_passwords_bounds),
	};
	int failed;

	failed = cmocka_run_group_tests_name("sasldb", tests, group_setup,
					     group_teardown);
	failed += cmocka_run_group_tests_name("realms", realms_tests,
					      realms_setup, realms_teardown);
	return failed;
}
