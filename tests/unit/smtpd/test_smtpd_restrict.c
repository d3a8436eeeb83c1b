/*
 * test_smtpd_restrict - smtpd's access policy (smtpd/smtpd_restrict.c):
 * access(5) values, restriction list parsing and its errors, and the
 * evaluation order at RCPT (client, helo, sender, relay, recipient, then
 * the unlisted recipient check) with the exact replies.  Tables are
 * inline: ones; the sessions are structures, not sockets (the wire and the
 * log lines are tests/integration/test_restrictions.py's).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "buf.h"
#include "conf.h"
#include "dnsbl.h"
#include "match_list.h"
#include "smtpd.h"
#include "smtpd_restrict.h"

/* smtpd.c's, which this test does not link. */
struct smtpd_config smtpd_cfg;

static struct match_list *mydestination, *relay_domains;

/* What expect_rcpt's session has besides its address. */
static struct {
	const char *name; /* the client name; NULL: "unknown" */
	const char *login;
	int tls;
} client;

static void
load(const char *text)
{
	struct buf err = BUF_INIT;

	smtpd_restrict_end();
	smtpd_check_end();
	conf_reset();
	if (conf_read_string("test.conf", text, &err) < 0)
		fail_msg("%s", buf_cstr(&err));
	smtpd_cfg.mydestination = mydestination;
	smtpd_cfg.relay_domains = relay_domains;
	smtpd_cfg.local_recipient_maps = "";
	smtpd_cfg.recipient_delimiter = "+";
	smtpd_cfg.sasldb_path = "/nonexistent";
	smtpd_check_init();
	smtpd_restrict_init();
	buf_free(&err);
}

static int
setup(void **state)
{
	struct buf err = BUF_INIT;

	(void)state;
	mydestination = match_list_open("mydestination", "example.com", &err);
	relay_domains = match_list_open("relay_domains", "relay.example", &err);
	buf_free(&err);
	return mydestination && relay_domains ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	smtpd_restrict_end();
	smtpd_check_end();
	conf_reset();
	match_list_free(mydestination);
	match_list_free(relay_domains);
	return 0;
}

static void
test_access_values(void **state)
{
	static const struct {
		const char *value;
		enum smtpd_access_kind kind;
		int code;
		const char *text;
	} cases[] = {
	    {"OK", SMTPD_ACCESS_OK, 0, ""},
	    {"ok", SMTPD_ACCESS_OK, 0, ""},
	    {"12345", SMTPD_ACCESS_OK, 0, ""},
	    {"DUNNO", SMTPD_ACCESS_DUNNO, 0, ""},
	    {"REJECT", SMTPD_ACCESS_REJECT, 0, ""},
	    {"REJECT  go away now", SMTPD_ACCESS_REJECT, 0, "go away now"},
	    {"reject spam", SMTPD_ACCESS_REJECT, 0, "spam"},
	    {"DEFER later", SMTPD_ACCESS_DEFER, 0, "later"},
	    {"450 4.7.1 slow down", SMTPD_ACCESS_CODE, 450, "4.7.1 slow down"},
	    {"550 no", SMTPD_ACCESS_CODE, 550, "no"},
	    {"421 bye", SMTPD_ACCESS_CODE, 421, "bye"},
	    /* Not a reply code: a restriction list (or a class name). */
	    {"250 fine", SMTPD_ACCESS_RESTRICTIONS, 0, "250 fine"},
	    {"5500 x", SMTPD_ACCESS_RESTRICTIONS, 0, "5500 x"},
	    {"DEFER_IF_REJECT x", SMTPD_ACCESS_DEFER_IF_REJECT, 0, "x"},
	    {"DEFER_IF_PERMIT", SMTPD_ACCESS_DEFER_IF_PERMIT, 0, ""},
	    {"HOLD suspicious", SMTPD_ACCESS_HOLD, 0, "suspicious"},
	    {"DISCARD", SMTPD_ACCESS_DISCARD, 0, ""},
	    {"FILTER smtp:[127.0.0.1]:10025", SMTPD_ACCESS_FILTER, 0,
	     "smtp:[127.0.0.1]:10025"},
	    {"REDIRECT a@b.example", SMTPD_ACCESS_REDIRECT, 0, "a@b.example"},
	    {"BCC a@b.example", SMTPD_ACCESS_BCC, 0, "a@b.example"},
	    {"PREPEND X-A: b c", SMTPD_ACCESS_PREPEND, 0, "X-A: b c"},
	    {"WARN watch it", SMTPD_ACCESS_WARN, 0, "watch it"},
	    {"INFO fyi", SMTPD_ACCESS_INFO, 0, "fyi"},
	    {"OKAY", SMTPD_ACCESS_RESTRICTIONS, 0, "OKAY"},
	    {"permit_mynetworks, reject", SMTPD_ACCESS_RESTRICTIONS, 0,
	     "permit_mynetworks, reject"},
	};
	struct smtpd_access_action a;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		smtpd_access_parse(cases[i].value, &a);
		if (a.kind != cases[i].kind || a.code != cases[i].code ||
		    strcmp(a.text, cases[i].text) != 0)
			fail_msg("\"%s\": kind %d code %d text \"%s\"",
				 cases[i].value, a.kind, a.code, a.text);
	}
}

static void
test_rbl_filter(void **state)
{
	unsigned char sets[4][32];

	(void)state;
	assert_int_equal(dnsbl_filter_parse("127.0.0.[2..11]", sets), 0);
	assert_true(dnsbl_filter_match(sets, "127.0.0.2"));
	assert_true(dnsbl_filter_match(sets, "127.0.0.11"));
	assert_false(dnsbl_filter_match(sets, "127.0.0.1"));
	assert_false(dnsbl_filter_match(sets, "127.0.0.12"));
	assert_false(dnsbl_filter_match(sets, "127.0.1.2"));
	assert_false(dnsbl_filter_match(sets, "127.0.0.2.5"));
	assert_false(dnsbl_filter_match(sets, "::1"));
	assert_int_equal(dnsbl_filter_parse("127.0.[0;1].[2;4..6]", sets), 0);
	assert_true(dnsbl_filter_match(sets, "127.0.1.5"));
	assert_false(dnsbl_filter_match(sets, "127.0.2.5"));
	assert_false(dnsbl_filter_match(sets, "127.0.0.3"));
	assert_int_equal(dnsbl_filter_parse("127.0.0.2", sets), 0);
	assert_true(dnsbl_filter_match(sets, "127.0.0.2"));
	assert_false(dnsbl_filter_match(sets, "127.0.0.20"));
	/* Malformed: a missing octet, a range the wrong way round, a value
	 * over 255, an unclosed bracket, trailing text. */
	assert_int_equal(dnsbl_filter_parse("127.0.0", sets), -1);
	assert_int_equal(dnsbl_filter_parse("127.0.0.[5..2]", sets), -1);
	assert_int_equal(dnsbl_filter_parse("127.0.0.256", sets), -1);
	assert_int_equal(dnsbl_filter_parse("127.0.0.[2..11", sets), -1);
	assert_int_equal(dnsbl_filter_parse("127.0.0.2x", sets), -1);
	assert_int_equal(dnsbl_filter_parse("127.0.0.-1", sets), -1);
}

static void
expect_parse(const char *list, const char *want_err)
{
	struct buf err = BUF_INIT;
	int r = smtpd_restrict_check(list, &err);

	if (want_err == NULL) {
		if (r != 0)
			fail_msg("\"%s\": %s", list, buf_cstr(&err));
	} else {
		if (r == 0)
			fail_msg("\"%s\": parsed, want %s", list, want_err);
		assert_string_equal(buf_cstr(&err), want_err);
	}
	buf_free(&err);
}

static void
test_list_parsing(void **state)
{
	(void)state;
	load("smtpd_restriction_classes = insiders\n"
	     "insiders = permit_mynetworks, reject\n");
	expect_parse("", NULL);
	expect_parse("permit_mynetworks,permit_sasl_authenticated   "
		     "reject_unauth_destination",
		     NULL);
	expect_parse("insiders, sleep 0, warn_if_reject reject", NULL);
	expect_parse("check_sender_access inline:{ {a@b = REJECT no way}, "
		     "c=OK }, dunno",
		     NULL);
	/* A "{ ... }" group is one argument. */
	expect_parse("check_client_access { inline:{1.2.3.4=REJECT} }", NULL);
	expect_parse("reject_everything",
		     "unknown restriction \"reject_everything\"");
	expect_parse("permit_mynetworks, Reject",
		     "unknown restriction \"Reject\"");
	expect_parse("check_etrn_access inline:{example.org=REJECT}", NULL);
	expect_parse("check_relay_domains",
		     "restriction \"check_relay_domains\" is not supported "
		     "by Panacea yet");
	expect_parse("reject_unverified_sender",
		     "restriction \"reject_unverified_sender\" is not "
		     "supported by Panacea yet");
	expect_parse("reject_plaintext_session, check_sasl_access "
		     "inline:{a=REJECT}, permit_mx_backup, "
		     "reject_rhsbl_reverse_client dbl.example, "
		     "permit_rhswl_client wl.example=127.0.0.[1..3], "
		     "check_reverse_client_hostname_access inline:{a=b}, "
		     "check_reverse_client_hostname_mx_access inline:{a=b}, "
		     "check_reverse_client_hostname_ns_access inline:{a=b}",
		     NULL);
	expect_parse("check_sasl_access", "check_sasl_access needs a "
					  "type:table");
	expect_parse("reject_rhsbl_reverse_client",
		     "reject_rhsbl_reverse_client needs a DNS domain");
	expect_parse("check_policy_service inet:127.0.0.1:10023, "
		     "check_policy_service { unix:private/policy, timeout=10s, "
		     "default_action=DUNNO, try_limit=1 }",
		     NULL);
	expect_parse("check_policy_service { inet:127.0.0.1:10023, "
		     "timeout=soon }",
		     "check_policy_service: bad timeout \"soon\"");
	expect_parse(
	    "check_policy_service { inet:127.0.0.1:10023, colour=red }",
	    "check_policy_service: unknown setting \"colour\"");
	expect_parse("check_policy_service",
		     "check_policy_service needs a policy service");
	expect_parse("check_sender_access", "check_sender_access needs a "
					    "type:table");
	expect_parse("check_sender_access permit",
		     "check_sender_access: \"permit\" is not a type:table");
	expect_parse("sleep", "sleep needs a number of seconds");
	expect_parse("sleep soon", "sleep: bad number of seconds \"soon\"");
	expect_parse("check_helo_access inline:{a=b", "unbalanced braces");
	expect_parse("reject_rbl_client zen.example=127.0.0.[2..11], "
		     "reject_rhsbl_sender dbl.example, permit_dnswl_client "
		     "list.dnswl.example=127.0.[0..255].[1..3]",
		     NULL);
	expect_parse("permit_mynetworks, reject_spf_fail", NULL);
	expect_parse("reject_rbl_client", "reject_rbl_client needs a DNS "
					  "domain");
	expect_parse("reject_rbl_client bad_zone!",
		     "\"bad_zone!\" is not a DNS domain");
	expect_parse("reject_rbl_client zen.example=127.0.0",
		     "\"zen.example=127.0.0\": bad reply filter (d.d.d.d, "
		     "where d is n, [n..m] or [n;m;...])");
}

/* RCPT from a client: the reply, or NULL when accepted. */
static void
expect_rcpt(const char *addr, int trusted, const char *helo, const char *sender,
	    const char *rcpt, const char *want)
{
	struct smtpd_session ss;
	struct buf reply = BUF_INIT;
	struct addr s, r;
	const char *got = NULL;

	memset(&ss, 0, sizeof(ss));
	snprintf(ss.client_name, sizeof(ss.client_name), "%s",
		 client.name ? client.name : "unknown");
	ss.auth_user = (char *)client.login;
	ss.tls_on = client.tls;
	snprintf(ss.client_addr, sizeof(ss.client_addr), "%s", addr);
	ss.trusted = trusted;
	ss.helo = (char *)helo;
	ss.esmtp = 1;
	assert_int_equal(addr_parse(sender, strlen(sender), ADDR_F_NULL_OK, &s),
			 ADDR_OK);
	assert_int_equal(addr_parse(rcpt, strlen(rcpt), 0, &r), ADDR_OK);
	if (smtpd_restrict_mail(&ss, &s, &reply) == 0 &&
	    smtpd_restrict_rcpt(&ss, &r, &reply))
		got = buf_cstr(&reply);
	else if (reply.len)
		got = buf_cstr(&reply);
	if (want == NULL && got != NULL)
		fail_msg("%s: rejected: %s", rcpt, got);
	if (want != NULL) {
		if (got == NULL)
			fail_msg("%s: accepted, want %s", rcpt, want);
		assert_string_equal(got, want);
	}
	smtpd_restrict_session_end(&ss);
	buf_free(&reply);
}

static void
test_rcpt_order(void **state)
{
	(void)state;
	load("smtpd_client_restrictions = check_client_access "
	     "inline:{192.0.2.66=REJECT, {198.51=REJECT Net}}\n"
	     "smtpd_helo_restrictions = reject_non_fqdn_helo_hostname\n"
	     "smtpd_sender_restrictions = check_sender_access "
	     "inline:{bad@sender.example=REJECT}, reject_non_fqdn_sender\n"
	     "smtpd_relay_restrictions = permit_mynetworks, "
	     "reject_unauth_destination\n"
	     "smtpd_restriction_classes = only_trusted\n"
	     "only_trusted = permit_mynetworks, reject\n"
	     "smtpd_recipient_restrictions = check_recipient_access "
	     "inline:{ {later@example.com=DEFER_IF_PERMIT Not now}, "
	     "{staff@example.com=only_trusted}, "
	     "{list@example.com=permit_mynetworks defer} }, "
	     "warn_if_reject reject_non_fqdn_recipient\n");
	/* Client first: its refusal wins over a bad HELO and sender. */
	expect_rcpt("192.0.2.66", 0, "shorty", "<bad@sender.example>",
		    "<x@example.com>",
		    "554 5.7.1 <unknown[192.0.2.66]>: Client host rejected: "
		    "Access denied");
	/* A network prefix ("198.51") of a fixed-string table. */
	expect_rcpt("198.51.100.7", 0, "h.example", "<a@b.example>",
		    "<x@example.com>",
		    "554 5.7.1 <unknown[198.51.100.7]>: Client host rejected: "
		    "Net");
	/* Then HELO, then sender, then relay. */
	expect_rcpt("192.0.2.1", 0, "shorty", "<bad@sender.example>",
		    "<x@elsewhere.example>",
		    "504 5.5.2 <shorty>: Helo command rejected: need "
		    "fully-qualified hostname");
	expect_rcpt("192.0.2.1", 0, "h.example", "<bad@sender.example>",
		    "<x@elsewhere.example>",
		    "554 5.7.1 <bad@sender.example>: Sender address rejected: "
		    "Access denied");
	expect_rcpt("192.0.2.1", 0, "h.example", "<a@nodot>", "<x@example.com>",
		    "504 5.5.2 <a@nodot>: Sender address rejected: need "
		    "fully-qualified address");
	expect_rcpt("192.0.2.1", 0, "h.example", "<a@b.example>",
		    "<x@elsewhere.example>",
		    "554 5.7.1 <x@elsewhere.example>: Relay access denied");
	expect_rcpt("192.0.2.1", 0, "h.example", "<a@b.example>",
		    "<x@sub.relay.example>", NULL);
	expect_rcpt("192.0.2.1", 1, "h.example", "<a@b.example>",
		    "<x@elsewhere.example>", NULL);
	/* The relay list permits; the recipient list still applies. */
	expect_rcpt("192.0.2.1", 1, "h.example", "<a@b.example>",
		    "<later@example.com>",
		    "450 4.7.1 <later@example.com>: Recipient address "
		    "rejected: Not now");
	/* A class, and a list written in a table value. */
	expect_rcpt("192.0.2.1", 0, "h.example", "<a@b.example>",
		    "<staff@example.com>",
		    "554 5.7.1 <staff@example.com>: Recipient address "
		    "rejected: Access denied");
	expect_rcpt("192.0.2.1", 1, "h.example", "<a@b.example>",
		    "<staff@example.com>", NULL);
	expect_rcpt("192.0.2.1", 0, "h.example", "<a@b.example>",
		    "<list@example.com>",
		    "450 4.7.1 <list@example.com>: Recipient address "
		    "rejected: Access denied");
	/* warn_if_reject: only logged. */
	expect_rcpt("192.0.2.1", 1, "h.example", "<a@b.example>", "<x@nodot>",
		    NULL);
}

static void
test_defaults(void **state)
{
	(void)state;
	/* Postfix's defaults: 454 for a stranger, mynetworks relays. */
	load("");
	expect_rcpt("192.0.2.1", 0, "h.example", "<a@b.example>",
		    "<x@elsewhere.example>",
		    "454 4.7.1 <x@elsewhere.example>: Relay access denied");
	expect_rcpt("192.0.2.1", 1, "h.example", "<a@b.example>",
		    "<x@elsewhere.example>", NULL);
	expect_rcpt("192.0.2.1", 0, "h.example", "<>", "<x@example.com>", NULL);
	/* The reply codes are parameters. */
	load("relay_domains_reject_code = 550\n"
	     "smtpd_relay_restrictions = reject_unauth_destination\n"
	     "smtpd_null_access_lookup_key = <null>\n"
	     "smtpd_sender_restrictions = check_sender_access "
	     "inline:{ {<null>=550 5.7.9 No bounces} }\n");
	expect_rcpt("192.0.2.1", 1, "h.example", "<a@b.example>",
		    "<x@elsewhere.example>",
		    "550 5.7.1 <x@elsewhere.example>: Relay access denied");
	expect_rcpt("192.0.2.1", 1, "h.example", "<>", "<x@example.com>",
		    "550 5.7.9 <>: Sender address rejected: No bounces");
}

static void
test_plaintext_and_sasl(void **state)
{
	(void)state;
	load("smtpd_client_restrictions = reject_plaintext_session\n");
	expect_rcpt("192.0.2.1", 1, "h.example", "<a@b.example>",
		    "<x@example.com>",
		    "450 4.7.1 Session encryption is required");
	client.tls = 1;
	expect_rcpt("192.0.2.1", 1, "h.example", "<a@b.example>",
		    "<x@example.com>", NULL);
	client.tls = 0;
	/* The code is a parameter; the DSN follows its class. */
	load("smtpd_client_restrictions = reject_plaintext_session\n"
	     "plaintext_reject_code = 554\n");
	expect_rcpt("192.0.2.1", 1, "h.example", "<a@b.example>",
		    "<x@example.com>",
		    "554 5.7.1 Session encryption is required");

	/* check_sasl_access: the whole login name, no parent lookups. */
	load("smtpd_relay_restrictions = check_sasl_access inline:{ "
	     "{alice=REJECT Stolen account}, {bob=OK}, {example.com=REJECT} }, "
	     "reject_unauth_destination\n");
	client.login = "alice";
	expect_rcpt("192.0.2.1", 0, "h.example", "<a@b.example>",
		    "<x@example.com>",
		    "554 5.7.1 <alice>: SASL login name rejected: Stolen "
		    "account");
	client.login = "bob";
	expect_rcpt("192.0.2.1", 0, "h.example", "<a@b.example>",
		    "<x@elsewhere.example>", NULL);
	client.login = "carol@sub.example.com";
	expect_rcpt("192.0.2.1", 0, "h.example", "<a@b.example>",
		    "<x@example.com>", NULL);
	client.login = NULL;
	expect_rcpt("192.0.2.1", 0, "h.example", "<a@b.example>",
		    "<x@elsewhere.example>",
		    "554 5.7.1 <x@elsewhere.example>: Relay access denied");
}

static void
test_mx_backup_without_dns(void **state)
{
	(void)state;
	/* An authorised destination is permitted before any MX lookup;
	 * routing in the local part and address literals never are. */
	load("smtpd_relay_restrictions = permit_mx_backup, reject\n");
	expect_rcpt("192.0.2.1", 0, "h.example", "<a@b.example>",
		    "<x@sub.relay.example>", NULL);
	expect_rcpt("192.0.2.1", 0, "h.example", "<a@b.example>",
		    "<x@example.com>", NULL);
	expect_rcpt("192.0.2.1", 0, "h.example", "<a@b.example>",
		    "<x%y@elsewhere.example>",
		    "554 5.7.1 <x%y@elsewhere.example>: Recipient address "
		    "rejected: Access denied");
	expect_rcpt("192.0.2.1", 0, "h.example", "<a@b.example>",
		    "<x@[192.0.2.9]>",
		    "554 5.7.1 <x@[192.0.2.9]>: Recipient address rejected: "
		    "Access denied");
}

static void
test_reverse_client_access(void **state)
{
	(void)state;
	load(
	    "smtpd_client_restrictions = check_reverse_client_hostname_access "
	    "inline:{ {host.example=REJECT Bad name}, {198.51=REJECT Net} }\n");
	/* The name and its parents (a forward-confirmed name is also the
	 * reverse one), then the address and its prefixes. */
	client.name = "mail.host.example";
	expect_rcpt("192.0.2.1", 1, "h.example", "<a@b.example>",
		    "<x@example.com>",
		    "554 5.7.1 <mail.host.example[192.0.2.1]>: Unverified "
		    "Client host rejected: Bad name");
	client.name = "other.example";
	expect_rcpt("198.51.100.2", 1, "h.example", "<a@b.example>",
		    "<x@example.com>",
		    "554 5.7.1 <other.example[198.51.100.2]>: Unverified "
		    "Client host rejected: Net");
	expect_rcpt("192.0.2.1", 1, "h.example", "<a@b.example>",
		    "<x@example.com>", NULL);
	client.name = NULL;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_access_values),
	    cmocka_unit_test(test_rbl_filter),
	    cmocka_unit_test(test_list_parsing),
	    cmocka_unit_test(test_rcpt_order),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_plaintext_and_sasl),
	    cmocka_unit_test(test_mx_backup_without_dns),
	    cmocka_unit_test(test_reverse_client_access),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
