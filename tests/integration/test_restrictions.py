"""smtpd access policy over the wire: Postfix's restriction lists, access
tables and their actions, with the exact replies and log lines.

Every client here is a stranger (a 127.0.0.x address outside mynetworks)
unless a test says otherwise; tables are real files of each type (hash
built by panmap, regexp, pcre, cidr) or inline: tables, opened by smtpd
before its jail.
"""

import os
import re
import socket

import pytest

from panacea_test import peer_name, program, unless_built
from smtp_helpers import (MYHOSTNAME, Session, mail_owner,  # noqa: F401
                          other_loopback, pancat, queue_ids, queued_id,
                          sasl_auth_conf, smtpd_setup)

pytestmark = unless_built("master", "smtpd", "pancat", "panmap")

ROOT = "root@" + MYHOSTNAME
HOST = ["127.0.0.1"]  # the instance's listening address, set by start()


def start(instance, mail_owner, conf):
    """smtpd with conf; (port, client address outside mynetworks)."""
    client = other_loopback(instance, avoid=("127.0.0.1",))
    HOST[0] = instance.host
    full = {"mynetworks": "127.0.0.1/32"}
    full.update(conf)
    return smtpd_setup(instance, mail_owner, conf=full), client


def write(instance, name, text):
    path = os.path.join(instance.base, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def log_line(client, cmd, reply, sender=None, rcpt=None, helo="client.test",
             action="reject", qid="NOQUEUE"):
    """The regex of Postfix's log line for a decision."""
    line = "%s: %s: %s from %s[%s]: %s;" % (qid, action, cmd,
                                            peer_name(client), client,
                                            reply)
    if sender is not None:
        line += " from=<%s>" % sender
    if rcpt is not None:
        line += " to=<%s>" % rcpt
    line += " proto=ESMTP"
    if helo:
        line += " helo=<%s>" % helo
    return "(?m)" + re.escape(line) + "$"


def rcpt_reply(port, client, sender, rcpt, helo="client.test"):
    with Session(HOST[0], port, source=client) as s:
        s.expect("EHLO %s" % helo, 250)
        s.expect("MAIL FROM:<%s>" % sender, 250)
        r = s.cmd("RCPT TO:<%s>" % rcpt)
        s.expect("QUIT", 221)
    return str(r)


# ---------------------------------------------------------------------
# Relay control: the defaults and reject_unauth_destination


def test_default_relay_restrictions_defer(instance, mail_owner):
    """Postfix's default: permit_mynetworks, permit_sasl_authenticated,
    defer_unauth_destination -- 454 for a stranger's relay attempt,
    local mail and mynetworks' relaying unchanged."""
    port, client = start(instance, mail_owner, {})
    want = "454 4.7.1 <pea@dma.org>: Relay access denied"
    assert rcpt_reply(port, client, "a@example.org", "pea@dma.org") == want
    instance.wait_log(log_line(client, "RCPT", want, "a@example.org",
                               "pea@dma.org"))
    assert rcpt_reply(port, client, "a@example.org", ROOT).startswith("250")
    with Session(HOST[0], port, source="127.0.0.1") as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<a@example.org>", 250)
        s.expect("RCPT TO:<pea@dma.org>", 250)


def test_reject_unauth_destination_554(instance, mail_owner):
    port, client = start(instance, mail_owner, {
        "smtpd_relay_restrictions": "permit_mynetworks, "
                                    "reject_unauth_destination",
        "relay_domains_reject_code": "550",
    })
    want = "550 5.7.1 <pea@dma.org>: Relay access denied"
    assert rcpt_reply(port, client, "a@example.org", "pea@dma.org") == want
    instance.wait_log(log_line(client, "RCPT", want, "a@example.org",
                               "pea@dma.org"))


# ---------------------------------------------------------------------
# check_sender_access with each table type


def sender_table(instance, kind):
    """A table that rejects spammer@bad.example (and only that sender's
    domain for the fixed-string types), as kind."""
    if kind == "hash":
        path = write(instance, "senders",
                     "bad.example REJECT\n"
                     "ok@bad.example OK\n"
                     "coded@ 550 5.7.0 Go away\n")
        r = os.system("%s -c %s hash:%s" % (program("panmap"),
                                            instance.config_dir, path))
        assert r == 0
        return "hash:" + path
    if kind == "regexp":
        return "regexp:" + write(instance, "senders.re",
                                 "/^ok@bad\\.example$/ OK\n"
                                 "/^coded@/ 550 5.7.0 Go away\n"
                                 "/@(.+\\.)?bad\\.example$/ REJECT\n")
    return "pcre:" + write(instance, "senders.pcre",
                           "/^ok@bad\\.example$/ OK\n"
                           "/^coded@/ 550 5.7.0 Go away\n"
                           "/@(?:.+\\.)?bad\\.example$/ REJECT\n")


@pytest.mark.parametrize("kind", ["hash", "regexp", "pcre"])
def test_check_sender_access(instance, mail_owner, kind):
    table = sender_table(instance, kind)
    port, client = start(instance, mail_owner, {
        "smtpd_sender_restrictions": "check_sender_access " + table,
    })
    want = ("554 5.7.1 <spammer@bad.example>: Sender address rejected: "
            "Access denied")
    assert rcpt_reply(port, client, "spammer@bad.example", ROOT) == want
    instance.wait_log(log_line(client, "RCPT", want, "spammer@bad.example",
                               ROOT))
    # A subdomain: the parent domain's entry (fixed-string tables look
    # the parents up, the patterns match it themselves).
    got = rcpt_reply(port, client, "x@mx.bad.example", ROOT)
    assert got.startswith("554 5.7.1 <x@mx.bad.example>: Sender address "
                          "rejected"), got
    # OK for one address wins over its domain; its own code and DSN.
    assert rcpt_reply(port, client, "ok@bad.example",
                      ROOT).startswith("250")
    assert rcpt_reply(port, client, "coded@good.example", ROOT) == (
        "550 5.7.0 <coded@good.example>: Sender address rejected: Go away")
    assert rcpt_reply(port, client, "a@good.example", ROOT).startswith("250")


def test_check_client_access_cidr_and_prefix(instance, mail_owner):
    """cidr: networks; hash: the address and its prefixes (access(5))."""
    client = other_loopback(instance, avoid=("127.0.0.1",))
    HOST[0] = instance.host
    cidr = write(instance, "clients.cidr",
                 "%s/32 REJECT Bad network\n" % client)
    prefix = ".".join(client.split(".")[:3])
    plain = write(instance, "clients", "%s 421 Go away now\n" % prefix)
    assert os.system("%s -c %s hash:%s" % (program("panmap"),
                                           instance.config_dir, plain)) == 0
    port = smtpd_setup(instance, mail_owner, conf={
        "mynetworks": "127.0.0.1/32",
        "smtpd_client_restrictions": "check_client_access cidr:" + cidr,
    })
    want = ("554 5.7.1 <%s[%s]>: Client host rejected: Bad network"
            % (peer_name(client), client))
    assert rcpt_reply(port, client, "a@example.org", ROOT) == want
    instance.wait_log(log_line(client, "RCPT", want, "a@example.org", ROOT))
    # A client outside the network is not refused.
    assert rcpt_reply(port, "127.0.0.1", "a@example.org",
                      ROOT).startswith("250")

    instance.stop()
    port = smtpd_setup(instance, mail_owner, conf={
        "smtpd_client_restrictions": "check_client_access hash:" + plain,
    })
    with Session(HOST[0], port, source=client) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<a@example.org>", 250)
        s.expect("RCPT TO:<%s>" % ROOT, 421,
                 r"^4\.7\.1 <%s\[%s\]>: Client host rejected: Go "
                 r"away now$" % (peer_name(client), re.escape(client)))
        # 421 from a table: the session ends.
        assert s.eof()


# ---------------------------------------------------------------------
# Evaluation order and smtpd_delay_reject


def test_delay_reject_order(instance, mail_owner):
    """At RCPT: client, helo, sender, relay, recipient; the first refusal
    wins, a permit only ends its own list."""
    port, client = start(instance, mail_owner, {
        "smtpd_client_restrictions": "permit",
        "smtpd_helo_restrictions": "check_helo_access "
                                   "inline:{bad.helo=REJECT}",
        "smtpd_sender_restrictions": "check_sender_access "
                                     "inline:{bad@example.org=REJECT}",
        "smtpd_recipient_restrictions": "check_recipient_access "
                                        "inline:{bad@%s=REJECT}"
                                        % MYHOSTNAME,
    })
    # client permits, yet the relay check still applies.
    assert rcpt_reply(port, client, "a@example.org",
                      "pea@dma.org").startswith("454 ")
    # helo before sender.
    got = rcpt_reply(port, client, "bad@example.org", ROOT, helo="bad.helo")
    assert got == "554 5.7.1 <bad.helo>: Helo command rejected: Access denied"
    instance.wait_log(log_line(client, "RCPT", got, "bad@example.org", ROOT,
                               helo="bad.helo"))
    # sender before relay and recipient.
    got = rcpt_reply(port, client, "bad@example.org", "bad@" + MYHOSTNAME)
    assert got.startswith("554 5.7.1 <bad@example.org>: Sender address "
                          "rejected")
    got = rcpt_reply(port, client, "a@example.org", "bad@" + MYHOSTNAME)
    assert got == ("554 5.7.1 <bad@%s>: Recipient address rejected: "
                   "Access denied" % MYHOSTNAME)


def test_no_delay_reject(instance, mail_owner):
    """smtpd_delay_reject = no: each list at its own command; a client
    refused at connect gets 503 for everything but QUIT/NOOP/RSET."""
    port, client = start(instance, mail_owner, {
        "smtpd_delay_reject": "no",
        "smtpd_helo_restrictions": "reject_non_fqdn_helo_hostname",
        "smtpd_sender_restrictions": "reject_non_fqdn_sender",
    })
    with Session(HOST[0], port, source=client) as s:
        s.expect("HELO shorty", 504,
                 r"^5\.5\.2 <shorty>: Helo command rejected: need "
                 r"fully-qualified hostname$")
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<a@localhost>", 504,
                 r"^5\.5\.2 <a@localhost>: Sender address rejected: need "
                 r"fully-qualified address$")
        s.expect("MAIL FROM:<a@example.org>", 250)
    instance.wait_log(log_line(
        client, "MAIL", "504 5.5.2 <a@localhost>: Sender address rejected: "
        "need fully-qualified address", "a@localhost"))
    instance.wait_log("(?m)" + re.escape(
        "NOQUEUE: reject: HELO from %s[%s]: 504 5.5.2 <shorty>: Helo "
        "command rejected: need fully-qualified hostname; proto=SMTP "
        "helo=<shorty>" % (peer_name(client), client)) + "$")

    instance.stop()
    port, client = start(instance, mail_owner, {
        "smtpd_delay_reject": "no",
        "smtpd_client_restrictions": "reject",
    })
    denied = "Error: access denied for %s[%s]" % (peer_name(client), client)
    with Session(HOST[0], port, source=client) as s:
        s.expect("EHLO client.test", 503, r"^5\.7\.0 " + re.escape(denied))
        s.expect("MAIL FROM:<a@example.org>", 503)
        s.expect("NOOP", 250)
        s.expect("QUIT", 221)
    instance.wait_log("(?m)" + re.escape(
        "NOQUEUE: reject: CONNECT from %s[%s]: 554 5.7.1 "
        "<%s[%s]>: Client host rejected: Access denied; proto=SMTP"
        % (peer_name(client), client, peer_name(client), client)) + "$")


# ---------------------------------------------------------------------
# Restrictions on names and addresses


def test_helo_and_address_syntax(instance, mail_owner):
    port, client = start(instance, mail_owner, {
        "smtpd_helo_restrictions": "reject_invalid_helo_hostname",
        "smtpd_recipient_restrictions": "reject_non_fqdn_recipient, "
                                        "reject_unlisted_sender",
    })
    assert rcpt_reply(port, client, "a@example.org", ROOT,
                      helo="bad!name") == (
        "501 5.5.2 <bad!name>: Helo command rejected: Invalid name")
    assert rcpt_reply(port, client, "a@example.org", "root@localhost") == (
        "504 5.5.2 <root@localhost>: Recipient address rejected: need "
        "fully-qualified address")
    # reject_unlisted_sender: a sender of our domain nobody has.
    assert rcpt_reply(port, client, "nobody-here@" + MYHOSTNAME, ROOT) == (
        "550 5.1.0 <nobody-here@%s>: Sender address rejected: User "
        "unknown in local recipient table" % MYHOSTNAME)
    assert rcpt_reply(port, client, ROOT, ROOT).startswith("250")


def test_warn_if_reject(instance, mail_owner):
    port, client = start(instance, mail_owner, {
        "smtpd_sender_restrictions": "warn_if_reject reject_non_fqdn_sender",
    })
    assert rcpt_reply(port, client, "a@localhost", ROOT).startswith("250")
    instance.wait_log(log_line(
        client, "RCPT", "504 5.5.2 <a@localhost>: Sender address rejected: "
        "need fully-qualified address", "a@localhost", ROOT,
        action="reject_warning"))


def test_multi_recipient_bounce(instance, mail_owner):
    port, client = start(instance, mail_owner, {
        "smtpd_data_restrictions": "reject_multi_recipient_bounce",
    })
    with Session(HOST[0], port, source=client) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<>", 250)
        s.expect("RCPT TO:<%s>" % ROOT, 250)
        s.expect("RCPT TO:<postmaster@%s>" % MYHOSTNAME, 250)
        s.expect("DATA", 550,
                 r"^5\.5\.3 <DATA>: Data command rejected: Multi-recipient "
                 r"bounce$")
    instance.wait_log(log_line(
        client, "DATA", "550 5.5.3 <DATA>: Data command rejected: "
        "Multi-recipient bounce", ""))


def test_restriction_class(instance, mail_owner):
    """A class named in an access table's value: only insiders may write
    to the list address."""
    port, client = start(instance, mail_owner, {
        "smtpd_restriction_classes": "insiders_only",
        "insiders_only": "check_sender_access "
                         "inline:{%s=OK}, reject" % ROOT,
        "smtpd_recipient_restrictions": "check_recipient_access "
                                        "inline:{staff@%s=insiders_only}"
                                        % MYHOSTNAME,
        "local_recipient_maps": "",
    })
    staff = "staff@" + MYHOSTNAME
    assert rcpt_reply(port, client, "a@example.org", staff) == (
        "554 5.7.1 <%s>: Recipient address rejected: Access denied" % staff)
    assert rcpt_reply(port, client, ROOT, staff).startswith("250")
    assert rcpt_reply(port, client, "a@example.org", ROOT).startswith("250")
    # A class is a parameter of its own, not an unknown one.
    assert "unknown parameter" not in instance.log()


def test_sender_login_maps_unauthenticated(instance, mail_owner):
    logins = write(instance, "logins", "alice@example.org alice\n")
    assert os.system("%s -c %s hash:%s" % (program("panmap"),
                                           instance.config_dir, logins)) == 0
    port, client = start(instance, mail_owner, {
        "smtpd_sender_login_maps": "hash:" + logins,
        "smtpd_sender_restrictions": "reject_sender_login_mismatch",
    })
    assert rcpt_reply(port, client, "alice@example.org", ROOT) == (
        "553 5.7.1 <alice@example.org>: Sender address rejected: not "
        "logged in")
    assert rcpt_reply(port, client, "bob@example.org", ROOT).startswith("250")


def test_sender_login_mismatch_authenticated(instance, mail_owner):
    """An authenticated client may use only the addresses its login owns
    (and addresses nobody owns, with the plain variant)."""
    import base64
    logins = write(instance, "logins",
                   "alice@example.org alice\n@shared.example alice, bob\n")
    assert os.system("%s -c %s hash:%s" % (program("panmap"),
                                           instance.config_dir, logins)) == 0
    conf = sasl_auth_conf(instance, {"alice": "wonder land",
                                     "bob": "builder"})
    conf.update({
        "smtpd_sender_login_maps": "hash:" + logins,
        "smtpd_sender_restrictions":
            "reject_authenticated_sender_login_mismatch",
    })
    port, client = start(instance, mail_owner, conf)
    with Session(HOST[0], port, source=client) as s:
        s.expect("EHLO client.test", 250)
        s.expect("AUTH PLAIN " + base64.b64encode(
            b"\0bob\0builder").decode(), 235)
        s.expect("MAIL FROM:<alice@example.org>", 250)
        s.expect("RCPT TO:<%s>" % ROOT, 553,
                 r"^5\.7\.1 <alice@example\.org>: Sender address "
                 r"rejected: not owned by user bob$")
        s.expect("RSET", 250)
        s.expect("MAIL FROM:<x@shared.example>", 250)
        s.expect("RCPT TO:<%s>" % ROOT, 250)
        s.expect("RSET", 250)
        # Nobody owns it, so the login does not own it either.
        s.expect("MAIL FROM:<free@example.net>", 250)
        s.expect("RCPT TO:<%s>" % ROOT, 553, r"not owned by user bob$")
    # Unauthenticated: the authenticated variant does not apply.
    assert rcpt_reply(port, client, "alice@example.org",
                      ROOT).startswith("250")


def test_reject_footer(instance, mail_owner):
    port, client = start(instance, mail_owner, {
        "smtpd_reject_footer": "Call 555-0101.\\nQuote the time.",
    })
    with Session(HOST[0], port, source=client) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<a@example.org>", 250)
        r = s.cmd("RCPT TO:<pea@dma.org>")
        assert r.code == 454
        assert r.lines == ["4.7.1 <pea@dma.org>: Relay access denied",
                           "4.7.1 Call 555-0101.", "4.7.1 Quote the time."]
    # The log has the reply without the footer.
    instance.wait_log(log_line(client, "RCPT",
                               "454 4.7.1 <pea@dma.org>: Relay access denied",
                               "a@example.org", "pea@dma.org"))


# ---------------------------------------------------------------------
# Actions that act on the message


def send(port, client, sender, rcpt, body=b"Subject: t\r\n\r\nhi\r\n"):
    with Session(HOST[0], port, source=client) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<%s>" % sender, 250)
        s.expect("RCPT TO:<%s>" % rcpt, 250)
        s.expect("DATA", 354)
        s.send(body + b".\r\n")
        qid = queued_id(s.reply())
        s.expect("QUIT", 221)
    return qid


def test_hold_discard_redirect_prepend(instance, mail_owner):
    table = ("inline:{ {held@example.org = HOLD}, "
             "{dropped@example.org = DISCARD spam run}, "
             "{moved@example.org = REDIRECT postmaster@%s}, "
             "{tagged@example.org = PREPEND X-Tag: seen by policy} }"
             % MYHOSTNAME)
    port, client = start(instance, mail_owner, {
        "smtpd_sender_restrictions": "check_sender_access " + table,
    })
    qid = send(port, client, "held@example.org", ROOT)
    env = pancat(instance, qid, "-e").decode()
    assert "hold: yes\n" in env
    instance.wait_log(r"(?m)%s: from=<held@example\.org>, size=\d+, nrcpt=1$"
                      % qid)
    instance.wait_log(log_line(
        client, "RCPT", "<held@example.org>: Sender address triggers HOLD "
        "action", "held@example.org", ROOT, action="hold", qid=qid))

    qid = send(port, client, "dropped@example.org", ROOT)
    instance.wait_log(log_line(
        client, "RCPT", "<dropped@example.org>: Sender address spam run",
        "dropped@example.org", ROOT, action="discard", qid=qid))
    assert qid not in queue_ids(instance)

    qid = send(port, client, "moved@example.org", ROOT)
    env = pancat(instance, qid, "-e").decode()
    assert re.findall(r"^recipient: (.*)$", env, re.M) == [
        "postmaster@" + MYHOSTNAME]
    assert "hold: no\n" in env

    qid = send(port, client, "tagged@example.org", ROOT)
    # Above Received:, as Postfix puts it.
    text = pancat(instance, qid)
    assert text.startswith(b"X-Tag: seen by policy\r\nReceived: "), text


def test_end_of_data_restrictions(instance, mail_owner):
    port, client = start(instance, mail_owner, {
        "smtpd_end_of_data_restrictions":
            "check_sender_access "
            "inline:{ {late@example.org=REJECT Too late} }",
    })
    with Session(HOST[0], port, source=client) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<late@example.org>", 250)
        s.expect("RCPT TO:<%s>" % ROOT, 250)
        s.expect("DATA", 354)
        s.send(b"Subject: t\r\n\r\nhi\r\n.\r\n")
        r = s.reply()
        assert str(r) == ("554 5.7.1 <late@example.org>: Sender address "
                          "rejected: Too late")
    m = instance.wait_log(r"(?m)(\w+): reject: END-OF-MESSAGE from %s\[%s"
                          r"\]: 554 5\.7\.1 <late@example\.org>: Sender "
                          r"address rejected: Too late; from=<late@example"
                          r"\.org> proto=ESMTP helo=<client\.test>$"
                          % (peer_name(client), re.escape(client)))
    assert m.group(1) not in queue_ids(instance)


def test_unauth_pipelining(instance, mail_owner):
    port, client = start(instance, mail_owner, {
        "smtpd_data_restrictions": "reject_unauth_pipelining",
    })
    with Session(HOST[0], port, source=client) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<a@example.org>", 250)
        s.expect("RCPT TO:<%s>" % ROOT, 250)
        # DATA and the content in one write: a client that did not wait.
        s.send(b"DATA\r\nSubject: t\r\n\r\n.\r\n")
        r = s.reply()
        assert str(r) == ("503 5.5.0 <DATA>: Data command rejected: "
                          "Improper use of SMTP command pipelining")


# ---------------------------------------------------------------------
# Start-up errors


@pytest.mark.parametrize("param,value,message", [
    ("smtpd_recipient_restrictions", "permit_mynetworks, reject_everything",
     'smtpd_recipient_restrictions: unknown restriction "reject_everything"'),
    ("smtpd_client_restrictions", "reject_unverified_sender",
     'smtpd_client_restrictions: restriction "reject_unverified_sender" is '
     'not supported by Panacea yet'),
    ("smtpd_sender_restrictions", "check_sender_access",
     "smtpd_sender_restrictions: check_sender_access needs a type:table"),
    ("smtpd_helo_restrictions", "check_helo_access inline:{a=b",
     "smtpd_helo_restrictions: unbalanced braces"),
    ("smtpd_relay_restrictions", "permit_mynetworks",
     "smtpd_relay_restrictions and smtpd_recipient_restrictions: one of "
     "them must have reject_unauth_destination"),
])
def test_bad_lists_stop_smtpd(instance, mail_owner, param, value, message):
    port, client = start(instance, mail_owner, {param: value})
    # The connection makes master start smtpd; nothing will answer it.
    with socket.create_connection((HOST[0], port), timeout=10):
        instance.wait_log(r"smtpd\[\d+\]: fatal: " + re.escape(message))


# ---------------------------------------------------------------------
# DNS lists and DNS existence checks, against nsd on loopback

LISTED, UNLISTED, OUTSIDE = "127.0.0.66", "127.0.0.67", "127.0.0.68"
DNS_ZONES = {
    # A DNSBL: 127.0.0.66 listed with a reason, 127.0.0.68 with a code
    # outside the filter.
    "zen.example": "66.0.0.127 A 127.0.0.2\n"
                   '66.0.0.127 TXT "listed for testing, see '
                   'https://zen.example/66"\n'
                   "68.0.0.127 A 127.0.0.1\n",
    # A domain list for senders and HELO names.
    "dbl.example": "spam.example A 127.0.1.2\n",
    "senders.test": "ok A 192.0.2.1\nmx MX 10 ok\nnullmx MX 0 .\n"
                    "direct A 192.0.2.7\n",
    # permit_mx_backup: "us" is this machine by proxy_interfaces.
    "backup.test": "relay MX 10 primary\nrelay MX 20 us\n"
                   "prim MX 10 us\nprim MX 20 primary\n"
                   "other MX 10 primary\nother MX 20 elsewhere\n"
                   "far MX 10 farprimary\nfar MX 20 us\n"
                   "byname MX 10 primary\nbyname MX 20 panacea.test.\n"
                   "primary A 192.0.2.10\nus A 192.0.2.20\n"
                   "elsewhere A 192.0.2.30\nfarprimary A 198.51.100.1\n"
                   "name A 192.0.2.20\n",
}


@pytest.fixture
def dns(instance):
    from dnsserver import serve_beside
    yield from serve_beside(instance, DNS_ZONES, (LISTED, UNLISTED, OUTSIDE))


def dns_start(instance, mail_owner, dns, conf):
    full = {"mynetworks": "127.0.0.1/32", "dns_nameservers": dns.nameservers}
    full.update(conf)
    HOST[0] = instance.host
    return smtpd_setup(instance, mail_owner, conf=full)


def test_reject_rbl_client(instance, mail_owner, dns):
    port = dns_start(instance, mail_owner, dns, {
        "smtpd_client_restrictions":
            "reject_rbl_client zen.example=127.0.0.[2..11]",
    })
    want = ("554 5.7.1 Service unavailable; Client host [%s] blocked using "
            "zen.example; listed for testing, see https://zen.example/66"
            % LISTED)
    assert rcpt_reply(port, LISTED, "a@example.org", ROOT) == want
    instance.wait_log(log_line(LISTED, "RCPT", want, "a@example.org", ROOT))
    # Not listed, and listed with a code the filter leaves out.
    assert rcpt_reply(port, UNLISTED, "a@example.org", ROOT).startswith("250")
    assert rcpt_reply(port, OUTSIDE, "a@example.org", ROOT).startswith("250")


def test_rbl_reply_maps_and_dnswl(instance, mail_owner, dns):
    port = dns_start(instance, mail_owner, dns, {
        # $$: the names are the template's, not panacea.conf's.
        "rbl_reply_maps": "inline:{ {zen.example=550 Go away "
                          "$$client_address ($${rbl_reason:no reason})} }",
        "smtpd_client_restrictions": "reject_rbl_client zen.example",
        "smtpd_sender_restrictions": "reject_rhsbl_sender dbl.example",
    })
    # Without a filter every answer lists: 127.0.0.68 too.
    assert rcpt_reply(port, OUTSIDE, "a@example.org", ROOT) == (
        "550 5.7.1 Go away %s (no reason)" % OUTSIDE)
    assert rcpt_reply(port, UNLISTED, "a@spam.example", ROOT) == (
        "554 5.7.1 Service unavailable; Sender address [spam.example] "
        "blocked using dbl.example")
    instance.stop()
    port = dns_start(instance, mail_owner, dns, {
        "smtpd_client_restrictions": "permit_dnswl_client zen.example, "
                                     "reject",
    })
    assert rcpt_reply(port, LISTED, "a@example.org", ROOT).startswith("250")
    assert rcpt_reply(port, UNLISTED, "a@example.org", ROOT).startswith("554")


def test_unknown_domains(instance, mail_owner, dns):
    port = dns_start(instance, mail_owner, dns, {
        "smtpd_sender_restrictions": "reject_unknown_sender_domain",
        "smtpd_helo_restrictions": "reject_unknown_helo_hostname",
    })
    assert rcpt_reply(port, UNLISTED, "a@nope.senders.test", ROOT,
                      helo="ok.senders.test") == (
        "450 4.1.8 <a@nope.senders.test>: Sender address rejected: Domain "
        "not found")
    assert rcpt_reply(port, UNLISTED, "a@nullmx.senders.test", ROOT,
                      helo="ok.senders.test") == (
        "556 5.7.27 <a@nullmx.senders.test>: Sender address rejected: "
        "Domain nullmx.senders.test does not accept mail (nullMX)")
    assert rcpt_reply(port, UNLISTED, "a@mx.senders.test", ROOT,
                      helo="ok.senders.test").startswith("250")
    assert rcpt_reply(port, UNLISTED, "a@ok.senders.test", ROOT,
                      helo="gone.senders.test") == (
        "450 4.7.1 <gone.senders.test>: Helo command rejected: Host not "
        "found")


# ---------------------------------------------------------------------
# check_policy_service against Debian's postgrey


@pytest.fixture
def postgrey(instance, tmp_path):
    """postgrey on loopback with a 3-second delay; yields its port."""
    import grp
    import pwd
    import shutil
    import subprocess
    import time
    exe = shutil.which("postgrey") or "/usr/sbin/postgrey"
    port = instance.port()
    dbdir = tmp_path / "postgrey"
    dbdir.mkdir()
    user = pwd.getpwuid(os.geteuid()).pw_name
    empty = tmp_path / "empty"
    empty.write_text("")
    proc = subprocess.Popen(
        [exe, "--inet=127.0.0.1:%d" % port, "--dbdir=%s" % dbdir,
         "--user=%s" % user, "--group=%s" % grp.getgrgid(os.getegid()).gr_name,
         "--delay=3",
         "--whitelist-clients=%s" % empty,
         "--whitelist-recipients=%s" % empty,
         "--auto-whitelist-clients=0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                out = proc.stdout.read().decode(errors="replace")
                raise AssertionError("postgrey did not start: " + out)
            time.sleep(0.2)
    yield port
    proc.terminate()
    proc.wait(timeout=10)


def test_postgrey_greylists_then_accepts(instance, mail_owner, postgrey):
    import time
    port, client = start(instance, mail_owner, {
        "smtpd_recipient_restrictions":
            "check_policy_service inet:127.0.0.1:%d" % postgrey,
    })
    with Session(HOST[0], port, source=client) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<grey@example.org>", 250)
        r = s.cmd("RCPT TO:<%s>" % ROOT)
        assert r.code == 450, r
        assert re.fullmatch(r"4\.2\.0 <%s>: Recipient address rejected: "
                            r"Greylisted, see \S+" % re.escape(ROOT),
                            r.text), r
        # The same connection to postgrey answers the next request.
        r2 = s.cmd("RCPT TO:<postmaster@%s>" % MYHOSTNAME)
        assert r2.code == 450, r2
    instance.wait_log(r"(?m)NOQUEUE: reject: RCPT from %s\[%s\]: "
                      r"450 4\.2\.0 <%s>: Recipient address rejected: "
                      r"Greylisted, see \S+; from=<grey@example\.org> "
                      r"to=<%s> proto=ESMTP helo=<client\.test>$"
                      % (peer_name(client), re.escape(client),
                         re.escape(ROOT), re.escape(ROOT)))
    # Too early: still greylisted; after the delay: accepted.
    assert rcpt_reply(port, client, "grey@example.org", ROOT).startswith(
        "450 ")
    time.sleep(4)
    assert rcpt_reply(port, client, "grey@example.org",
                      ROOT).startswith("250")


def test_policy_server_down(instance, mail_owner):
    dead = instance.port()  # nothing listens there
    port, client = start(instance, mail_owner, {
        "smtpd_policy_service_retry_delay": "0s",
        "smtpd_recipient_restrictions":
            "check_policy_service inet:127.0.0.1:%d, "
            "check_policy_service { inet:127.0.0.1:%d, timeout=2s, "
            "default_action=DUNNO }" % (dead, dead),
    })
    assert rcpt_reply(port, client, "a@example.org", ROOT) == (
        "451 4.3.5 <%s>: Recipient address rejected: Server configuration "
        "problem" % ROOT)
    instance.wait_log(r"warning: problem talking to server "
                      r"inet:127\.0\.0\.1:%d: " % dead)
    instance.stop()
    port, client = start(instance, mail_owner, {
        "smtpd_recipient_restrictions":
            "check_policy_service { inet:127.0.0.1:%d, timeout=2s, "
            "try_limit=1, default_action=DUNNO }" % dead,
    })
    assert rcpt_reply(port, client, "a@example.org", ROOT).startswith("250")


def test_policy_time_limits_load(instance, mail_owner):
    """The time limits Postfix's main.cf gives policy servers it spawns
    (policy_time_limit, policyd-spf_time_limit) load in master, smtpd and
    panconf -n without a warning: documented no-ops; a NAME_time_limit
    that no check_policy_service target names is still a warning."""
    import subprocess
    port, client = start(instance, mail_owner, {
        "policy_time_limit": "3600",
        "policyd-spf_time_limit": "3600",
        "greylist_time_limit": "1h",
        "smtpd_recipient_restrictions":
            "reject_unauth_destination, "
            "check_policy_service { unix:private/policyd-spf, "
            "default_action=DUNNO, try_limit=1 }",
    })
    # smtpd loads it too: a session runs the restrictions (nothing
    # listens on private/policyd-spf: its default_action).
    assert rcpt_reply(port, client, "a@example.org", ROOT).startswith("250")
    # master and smtpd say what they do not know on master's stderr.
    err = instance.stderr()
    assert re.search(r'master: warning: .*: unknown parameter '
                     r'"greylist_time_limit"', err), err
    assert re.search(r'smtpd: warning: .*: unknown parameter '
                     r'"greylist_time_limit"', err), err
    assert not re.search(r'unknown parameter "(policy_|policyd-spf_)',
                         err), err
    r = subprocess.run([program("panconf"), "-c", instance.config_dir,
                        "-n"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert "policy_time_limit = 3600" in out, out
    assert "policyd-spf_time_limit = 3600" in out, out
    assert re.findall(r'unknown parameter "([^"]+)"', r.stderr) == [
        "greylist_time_limit"], r.stderr
    # A bad value is an error, as any bad time is.
    with open(os.path.join(instance.config_dir, "panacea.conf"), "a") as f:
        f.write("policyd-spf_time_limit = soon\n")
    r = subprocess.run([program("panconf"), "-c", instance.config_dir,
                        "-n"], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and re.search(
        r"panacea\.conf:\d+: policyd-spf_time_limit: bad time value: "
        r"\"soon\"", r.stderr), r


def test_forbid_unauth_pipelining(instance, mail_owner):
    port, client = start(instance, mail_owner, {
        "smtpd_forbid_unauth_pipelining": "yes",
    })
    # A group RFC 2920 allows: MAIL, RCPT, DATA in one write.
    with Session(HOST[0], port, source=client) as s:
        s.expect("EHLO client.test", 250)
        s.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<%s>\r\nDATA\r\n"
               % ROOT)
        assert s.reply().code == 250
        assert s.reply().code == 250
        assert s.reply().code == 354
        s.send(b"Subject: t\r\n\r\n.\r\n")
        assert s.reply().code == 250
    # A command sent with EHLO, before its reply.
    with Session(HOST[0], port, source=client) as s:
        s.send("EHLO client.test\r\nMAIL FROM:<a@example.org>\r\n")
        r = s.reply()
        assert str(r) == "554 5.5.0 Error: SMTP protocol synchronization"
        assert s.eof()
    instance.wait_log(r"(?m)improper command pipelining after EHLO from "
                      r"%s\[%s\]: MAIL FROM:<a@example\.org>  $"
                      % (peer_name(client), re.escape(client)))


def test_check_sender_mx_and_a_access(instance, mail_owner, dns):
    cidr = write(instance, "servers.cidr", "192.0.2.0/24 REJECT Bad network\n")
    port = dns_start(instance, mail_owner, dns, {
        "smtpd_sender_restrictions":
            "check_sender_mx_access inline:{ {ok.senders.test=REJECT Bad "
            "MX} }, check_sender_a_access cidr:" + cidr,
    })
    # The MX host's name, then (another domain) its own address.
    assert rcpt_reply(port, UNLISTED, "a@mx.senders.test", ROOT) == (
        "554 5.7.1 <a@mx.senders.test>: Sender address rejected: Bad MX")
    assert rcpt_reply(port, UNLISTED, "a@direct.senders.test", ROOT) == (
        "554 5.7.1 <a@direct.senders.test>: Sender address rejected: Bad "
        "network")
    assert rcpt_reply(port, UNLISTED, "a@example.org", ROOT).startswith(
        "250")


def test_check_sender_ns_access(instance, mail_owner, dns):
    """The name servers of the sender's domain, or of its parent when it
    has none of its own (dnsserver gives every zone ns.invalid)."""
    port = dns_start(instance, mail_owner, dns, {
        "smtpd_sender_restrictions":
            "check_sender_ns_access inline:{ {ns.invalid=REJECT Bad DNS} }",
    })
    assert rcpt_reply(port, UNLISTED, "a@ok.senders.test", ROOT) == (
        "554 5.7.1 <a@ok.senders.test>: Sender address rejected: Bad DNS")
    # A domain nobody serves here: its lookup fails, no refusal.
    assert rcpt_reply(port, UNLISTED, "a@example.org", ROOT).startswith(
        "250")


def test_data_restrictions_at_bdat(instance, mail_owner):
    """BDAT has no DATA command: the data restrictions apply at its
    last chunk, before the commit."""
    port, client = start(instance, mail_owner, {
        "smtpd_data_restrictions": "reject_multi_recipient_bounce",
    })
    body = b"Subject: t\r\n\r\nhi\r\n"
    with Session(HOST[0], port, source=client) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<>", 250)
        s.expect("RCPT TO:<%s>" % ROOT, 250)
        s.expect("RCPT TO:<postmaster@%s>" % MYHOSTNAME, 250)
        s.send(b"BDAT %d LAST\r\n" % len(body) + body)
        r = s.reply()
        assert str(r) == ("550 5.5.3 <DATA>: Data command rejected: "
                          "Multi-recipient bounce")
    m = instance.wait_log(r"(?m)(\w+): reject: BDAT from %s\[%s\]: "
                          r"550 5\.5\.3 <DATA>: Data command rejected: "
                          r"Multi-recipient bounce; from=<> proto=ESMTP "
                          r"helo=<client\.test>$" % (peer_name(client),
                                                     re.escape(client)))
    assert m.group(1) not in queue_ids(instance)


# ---------------------------------------------------------------------
# reject_plaintext_session, check_sasl_access, permit_mx_backup and the
# reverse client name


def test_reject_plaintext_session(instance, mail_owner, tmp_path):
    from smtp_helpers import client_tls_context, make_tls
    tls = make_tls(tmp_path / "tls")
    port, client = start(instance, mail_owner, {
        "smtpd_tls_cert_file": tls["cert"],
        "smtpd_tls_key_file": tls["key"],
        "smtpd_tls_security_level": "may",
        "smtpd_client_restrictions": "reject_plaintext_session",
    })
    want = "450 4.7.1 Session encryption is required"
    assert rcpt_reply(port, client, "a@example.org", ROOT) == want
    instance.wait_log(log_line(client, "RCPT", want, "a@example.org", ROOT))
    with Session(HOST[0], port, source=client) as s:
        s.expect("EHLO client.test", 250)
        s.expect("STARTTLS", 220)
        s.starttls(client_tls_context(tls["ca"]))
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<a@example.org>", 250)
        s.expect("RCPT TO:<%s>" % ROOT, 250)


def test_check_sasl_access(instance, mail_owner):
    import base64
    conf = sasl_auth_conf(instance, {"alice": "wonder land",
                                     "bob": "builder"})
    conf["smtpd_relay_restrictions"] = (
        "check_sasl_access inline:{ {alice=REJECT Account suspended} }, "
        "permit_sasl_authenticated, reject_unauth_destination")
    port, client = start(instance, mail_owner, conf)
    for user, password, want in (
            ("alice", "wonder land",
             "554 5.7.1 <alice>: SASL login name rejected: Account "
             "suspended"),
            ("bob", "builder", None)):
        with Session(HOST[0], port, source=client) as s:
            s.expect("EHLO client.test", 250)
            s.expect("AUTH PLAIN " + base64.b64encode(
                ("\0%s\0%s" % (user, password)).encode()).decode(), 235)
            s.expect("MAIL FROM:<a@example.org>", 250)
            r = s.cmd("RCPT TO:<pea@dma.org>")
            assert str(r) == want if want else r.code == 250
    instance.wait_log(r"(?m)NOQUEUE: reject: RCPT from %s\[%s\]: %s; "
                      r"from=<a@example\.org> to=<pea@dma\.org> "
                      r"proto=ESMTPA helo=<client\.test>$" % (
                          re.escape(peer_name(client)), re.escape(client),
                          re.escape("554 5.7.1 <alice>: SASL login name "
                                    "rejected: Account suspended")))


def test_permit_mx_backup(instance, mail_owner, dns):
    """This machine (myhostname, or an address of proxy_interfaces) is a
    backup MX: permitted; a primary one, or not an MX: not."""
    conf = {"proxy_interfaces": "192.0.2.20",
            "smtpd_relay_restrictions":
                "permit_mx_backup, reject_unauth_destination"}
    port = dns_start(instance, mail_owner, dns, conf)
    for domain in ("relay", "far", "byname", "name"):
        assert rcpt_reply(port, UNLISTED, "a@example.org",
                          "x@%s.backup.test" % domain).startswith("250")
    for domain in ("prim", "other", "nowhere"):
        rcpt = "x@%s.backup.test" % domain
        assert rcpt_reply(port, UNLISTED, "a@example.org", rcpt) == (
            "554 5.7.1 <%s>: Relay access denied" % rcpt)
    # A name server that refuses (a DNS failure): 450 instead of 554.
    assert rcpt_reply(port, UNLISTED, "a@example.org", "x@dma.org") == (
        "450 4.4.4 <x@dma.org>: Recipient address rejected: Unable to look "
        "up mail exchanger information: Host not found, try again")
    # Only domains whose primary MX hosts are in these networks.
    instance.stop()
    conf["permit_mx_backup_networks"] = "192.0.2.0/24"
    port = dns_start(instance, mail_owner, dns, conf)
    assert rcpt_reply(port, UNLISTED, "a@example.org",
                      "x@relay.backup.test").startswith("250")
    assert rcpt_reply(port, UNLISTED, "a@example.org",
                      "x@far.backup.test") == (
        "554 5.7.1 <x@far.backup.test>: Relay access denied")


def test_reverse_client_hostname_access(instance, mail_owner):
    """The unverified name: for a loopback client its /etc/hosts name
    (it never goes to DNS), then its address."""
    named = "127.0.0.1"
    port, client = start(instance, mail_owner, {
        "mynetworks": "127.0.0.2/32",
        "smtpd_client_restrictions":
            "check_reverse_client_hostname_access inline:{ {%s=REJECT Go "
            "away} }" % peer_name(named),
    })
    want = ("554 5.7.1 <%s[%s]>: Unverified Client host rejected: Go away"
            % (peer_name(named), named))
    assert rcpt_reply(port, named, "a@example.org", ROOT) == want
    instance.wait_log(log_line(named, "RCPT", want, "a@example.org", ROOT))
    if peer_name(client) != peer_name(named):
        assert rcpt_reply(port, client, "a@example.org",
                          ROOT).startswith("250")


def test_rhs_lists_of_client_names(instance, mail_owner, dns):
    """reject_rhsbl_reverse_client and permit_rhswl_client look up
    nothing for a client without a name (a 127.x address that /etc/hosts
    does not name): no refusal, no permission."""
    if peer_name(UNLISTED) != "unknown":
        pytest.skip("/etc/hosts names %s" % UNLISTED)
    port = dns_start(instance, mail_owner, dns, {
        "smtpd_client_restrictions":
            "reject_rhsbl_reverse_client dbl.example, "
            "permit_rhswl_client dbl.example, reject",
    })
    assert rcpt_reply(port, UNLISTED, "a@example.org", ROOT) == (
        "554 5.7.1 <unknown[%s]>: Client host rejected: Access denied"
        % UNLISTED)
