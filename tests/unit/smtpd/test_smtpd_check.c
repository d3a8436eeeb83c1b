/*
 * test_smtpd_check - smtpd's recipient checks (smtpd/smtpd_check.c) as
 * the access policy (smtpd_restrict.c) uses them at RCPT, with relay
 * control written as reject_unauth_destination (554): the local recipient
 * table (alias tables, unix accounts, the recipient delimiter,
 * postmaster), relay_domains and their subdomains, trusted and
 * authenticated clients, routing characters that never make an address
 * local, and a table that cannot be read (451), with the exact replies.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "conf.h"
#include "maps.h"
#include "match_list.h"
#include "smtpd.h"
#include "smtpd_restrict.h"

/* smtpd.c's, which this test does not link: what smtpd_check reads. */
struct smtpd_config smtpd_cfg;

static char dir[64];
static struct match_list *mydestination, *relay_domains;

static int
setup(void **state)
{
	struct buf err = BUF_INIT;

	(void)state;
	strcpy(dir, "/tmp/test_smtpd_check.XXXXXX");
	mydestination = match_list_open("mydestination",
					"example.com, .sub.example.net", &err);
	relay_domains = match_list_open("relay_domains", "relay.example", &err);
	if (conf_read_string("test.conf",
			     "smtpd_relay_restrictions = permit_mynetworks, "
			     "permit_sasl_authenticated, "
			     "reject_unauth_destination\n",
			     &err) < 0)
		return -1;
	buf_free(&err);
	if (mydestination == NULL || relay_domains == NULL)
		return -1;
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	smtpd_check_end();
	smtpd_restrict_end();
	conf_reset();
	match_list_free(mydestination);
	match_list_free(relay_domains);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Writes DIR/name; builds its hash: table when build is set. */
static void
write_table(const char *name, const char *text, int build)
{
	struct buf path = BUF_INIT, spec = BUF_INIT, err = BUF_INIT;
	FILE *fp;

	buf_printf(&path, "%s/%s", dir, name);
	fp = fopen(buf_cstr(&path), "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	buf_printf(&spec, "hash:%s", buf_cstr(&path));
	if (build)
		assert_int_equal(
		    map_build(buf_cstr(&spec), MAP_BUILD_ALIASES, &err), 0);
	buf_free(&path);
	buf_free(&spec);
	buf_free(&err);
}

/* Loads the table of local_recipient_maps = maps ("%s" is the test's
 * directory), as smtpd does before its jail. */
static void
load(const char *maps)
{
	static char list[512], sasldb[128];

	snprintf(list, sizeof(list), maps, dir, dir);
	snprintf(sasldb, sizeof(sasldb), "%s/no-sasldb", dir);
	smtpd_check_end();
	smtpd_cfg.mydestination = mydestination;
	smtpd_cfg.relay_domains = relay_domains;
	smtpd_cfg.local_recipient_maps = list;
	smtpd_cfg.recipient_delimiter = "+";
	smtpd_cfg.sasldb_path = sasldb; /* missing: no mail-only users */
	smtpd_check_init();
	smtpd_restrict_init();
}

/* The check of RCPT TO:<rcpt> for a client: NULL (accepted) or the
 * reply, compared with want. */
static void
expect(int trusted, const char *auth_user, const char *rcpt, const char *want)
{
	struct smtpd_session ss;
	struct buf reply = BUF_INIT;
	struct addr a;
	const char *got;

	memset(&ss, 0, sizeof(ss));
	ss.trusted = trusted;
	ss.auth_user = (char *)auth_user;
	assert_int_equal(addr_parse(rcpt, strlen(rcpt), 0, &a), ADDR_OK);
	strcpy(ss.client_name, "client.example");
	strcpy(ss.client_addr, "192.0.2.1");
	got = smtpd_restrict_rcpt(&ss, &a, &reply) ? buf_cstr(&reply) : NULL;
	if (want == NULL) {
		if (got != NULL)
			fail_msg("%s: rejected: %s", rcpt, got);
	} else {
		if (got == NULL)
			fail_msg("%s: accepted, want %s", rcpt, want);
		assert_string_equal(got, want);
	}
	smtpd_restrict_session_end(&ss);
	buf_free(&reply);
}

#define UNKNOWN(a)                                                             \
	"550 5.1.1 <" a ">: Recipient address rejected: User unknown in "      \
	"local recipient table"
#define DENIED(a) "554 5.7.1 <" a ">: Relay access denied"

static void
test_local_recipients(void **state)
{
	(void)state;
	write_table("aliases",
		    "alice: alice@elsewhere.example\n"
		    "sales+eu: carol\n",
		    1);
	load("hash:%s/aliases, unix:passwd.byname");

	/* The alias table, in any case, with an extension. */
	expect(0, NULL, "<alice@example.com>", NULL);
	expect(0, NULL, "<ALICE@Example.COM>", NULL);
	expect(0, NULL, "<alice+news@example.com>", NULL);
	/* The full local part first: an alias may have an extension. */
	expect(0, NULL, "<sales+eu@example.com>", NULL);
	expect(0, NULL, "<sales+us@example.com>",
	       UNKNOWN("sales+us@example.com"));
	/* The password database; postmaster always. */
	expect(0, NULL, "<root@example.com>", NULL);
	expect(0, NULL, "<root+x@example.com>", NULL);
	expect(0, NULL, "<postmaster@example.com>", NULL);
	expect(0, NULL, "<Postmaster>", NULL);
	/* "+ext" alone is a name, not an extension of nothing. */
	expect(0, NULL, "<+alice@example.com>", UNKNOWN("+alice@example.com"));
	expect(0, NULL, "<nobody-here@example.com>",
	       UNKNOWN("nobody-here@example.com"));
	/* ".sub.example.net" in mydestination: its subdomains, not itself. */
	expect(0, NULL, "<nobody-here@a.sub.example.net>",
	       UNKNOWN("nobody-here@a.sub.example.net"));
	expect(0, NULL, "<alice@a.sub.example.net>", NULL);
	expect(0, NULL, "<alice@sub.example.net>",
	       DENIED("alice@sub.example.net"));
	/* Trust and authentication open relaying, not unknown users. */
	expect(1, NULL, "<nobody-here@example.com>",
	       UNKNOWN("nobody-here@example.com"));
	expect(0, "alice", "<nobody-here@example.com>",
	       UNKNOWN("nobody-here@example.com"));
}

/* What was read before the jail is used only while its file is unchanged:
 * once the sasldb (here: made where there was none) or a table changes,
 * smtpd_check_changed() names it and an unknown recipient waits (451)
 * instead of being refused for good; a known one is still accepted. */
static void
test_changed_files_never_refuse_for_good(void **state)
{
	char path[160];
	FILE *fp;

	(void)state;
	write_table("aliases", "alice: alice@elsewhere.example\n", 1);
	load("hash:%s/aliases, unix:passwd.byname");
	assert_null(smtpd_check_changed());
	expect(0, NULL, "<newuser@example.com>",
	       UNKNOWN("newuser@example.com"));

	snprintf(path, sizeof(path), "%s/no-sasldb", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_non_null(smtpd_check_changed());
	assert_string_equal(smtpd_check_changed(), path);
	expect(0, NULL, "<newuser@example.com>",
	       "451 4.3.0 <newuser@example.com>: Temporary lookup failure");
	expect(0, NULL, "<root@example.com>", NULL);
	expect(0, NULL, "<alice@example.com>", NULL);
	assert_int_equal(unlink(path), 0);

	/* A table rebuilt (a new file renamed over the old one). */
	load("hash:%s/aliases, unix:passwd.byname");
	assert_null(smtpd_check_changed());
	write_table("aliases", "alice: a@b.example\nnewuser: c@d.example\n", 1);
	assert_string_equal(smtpd_check_changed(), "local_recipient_maps");
	expect(0, NULL, "<other@example.com>",
	       "451 4.3.0 <other@example.com>: Temporary lookup failure");
}

static void
test_relay(void **state)
{
	(void)state;
	load("unix:passwd.byname");

	expect(0, NULL, "<x@relay.example>", NULL);
	expect(0, NULL, "<x@Deep.Relay.Example>", NULL);
	expect(0, NULL, "<x@xrelay.example>", DENIED("x@xrelay.example"));
	expect(0, NULL, "<x@other.example>", DENIED("x@other.example"));
	expect(1, NULL, "<x@other.example>", NULL);
	expect(0, "alice", "<x@other.example>", NULL);
	/* An address literal is never one of our domains or relayed. */
	expect(0, NULL, "<root@[127.0.0.1]>", DENIED("root@[127.0.0.1]"));
	expect(1, NULL, "<root@[127.0.0.1]>", NULL);
}

static void
test_routing_characters(void **state)
{
	(void)state;
	load("unix:passwd.byname");

	/* Known local part, our domain, but a route elsewhere: foreign. */
	expect(0, NULL, "<root%other.example@example.com>",
	       DENIED("root%other.example@example.com"));
	expect(0, NULL, "<other.example!root@example.com>",
	       DENIED("other.example!root@example.com"));
	expect(0, NULL, "<\"root@other.example\"@example.com>",
	       DENIED("\"root@other.example\"@example.com"));
	expect(0, NULL, "<root%other.example@relay.example>",
	       DENIED("root%other.example@relay.example"));
	/* A trusted client may relay them, as any foreign address. */
	expect(1, NULL, "<root%other.example@example.com>", NULL);
}

static void
test_table_off_missing_and_broken(void **state)
{
	(void)state;
	/* An empty local_recipient_maps turns the check off. */
	load("");
	expect(0, NULL, "<nobody-here@example.com>", NULL);

	/* A hash: table with neither file is skipped: no aliases. */
	load("hash:%s/absent, unix:passwd.byname");
	expect(0, NULL, "<root@example.com>", NULL);
	expect(0, NULL, "<alice@example.com>", UNKNOWN("alice@example.com"));

	/* A text file without its .db cannot be read: every local
	 * recipient waits (451), even a unix account; relaying does not. */
	write_table("unbuilt", "alice: bob\n", 0);
	load("hash:%s/unbuilt, unix:passwd.byname");
	expect(0, NULL, "<root@example.com>",
	       "451 4.3.0 <root@example.com>: Temporary lookup failure");
	expect(0, NULL, "<x@relay.example>", NULL);
	expect(0, NULL, "<Postmaster>", NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_local_recipients),
	    cmocka_unit_test(test_changed_files_never_refuse_for_good),
	    cmocka_unit_test(test_relay),
	    cmocka_unit_test(test_routing_characters),
	    cmocka_unit_test(test_table_off_missing_and_broken),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
