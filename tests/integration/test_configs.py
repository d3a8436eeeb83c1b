"""tests/configs: configurations written as Postfix administrators write
them, loaded as they are by master and panconf -n, and spoken to over
SMTP on real sockets.

Each folder of tests/configs is copied into the instance's configuration
folder with its @name@ placeholders filled in (ports, folders, the test's
DNS server: what differs from one run to the next), its table sources
built with panmap as postmap would build them, and run whole: every
service of its services table, the DNS server of the test on loopback
(nsd) for its DNS lookups, a scripted smart host (smtp_peer) for the
relay.  A name panconf or master does not know, a fatal error or a
daemon that does not start fails the test.
"""

import base64
import os
import re
import shutil
import subprocess

import pytest

from panacea_test import (BIN, TOP, loopback_net, peer_re, program, scaled,
                          unix_accounts, unless_built, wait_until)
from smtp_helpers import (Session, mail_owner, make_sasldb,  # noqa: F401
                          other_loopback, queued_id)
from smtp_peer import Peer, make_cert

pytestmark = unless_built("master", "smtpd", "panconf", "panmap", "qmgr",
                          "local", "smtp")

CONFIGS = os.path.join(TOP, "tests", "configs")


@pytest.fixture(scope="module")
def mx_user():
    """A unix account with a home: a user of example.org."""
    if os.geteuid() != 0:
        pytest.skip("the configurations run as installed: root only")
    accounts = unix_accounts("cfg", ["mx"])
    yield next(accounts)["users"]["mx"]
    accounts.close()  # removes the account and its home


def fill(text, values, where):
    def sub(m):
        if m.group(1) not in values:
            raise KeyError("%s: @%s@ needs a value" % (where, m.group(1)))
        return str(values[m.group(1)])
    return re.sub(r"@([a-z_]+)@", sub, text)


def install(inst, name, values, tables=()):
    """tests/configs/NAME into inst's configuration folder, placeholders
    filled in; each of tables built with panmap (hash:), the aliases
    file, when there is one, with newaliases (sendmail -bi)."""
    src = os.path.join(CONFIGS, name)
    for fname in sorted(os.listdir(src)):
        with open(os.path.join(src, fname)) as f:
            text = fill(f.read(), values, "%s/%s" % (name, fname))
        with open(os.path.join(inst.config_dir, fname), "w") as f:
            f.write(text)
    inst._written = True
    for table in tables:
        r = subprocess.run([program("panmap"), "-c", inst.config_dir,
                            "hash:" + os.path.join(inst.config_dir, table)],
                           capture_output=True, text=True,
                           timeout=scaled(30))
        assert r.returncode == 0, r.stderr
    if os.path.exists(os.path.join(src, "aliases")):
        r = subprocess.run([program("sendmail"), "-bi"],
                           env=dict(os.environ, MAIL_CONFIG=inst.config_dir),
                           capture_output=True, text=True,
                           timeout=scaled(30))
        assert r.returncode == 0, r.stderr


def base_values(inst, owner, dns="127.0.0.1:9"):
    return {"daemon_directory": BIN, "queue_directory": inst.queue_dir,
            "mail_owner": owner, "maillog_file": inst.maillog,
            "inet_interfaces": inst.host, "dns_nameservers": dns}


def panconf_n(inst):
    """panconf -n: its lines; fails on any warning."""
    r = subprocess.run([program("panconf"), "-c", inst.config_dir, "-n"],
                       capture_output=True, text=True, timeout=scaled(30))
    assert r.returncode == 0, r.stderr
    assert r.stderr == "", r.stderr
    return r.stdout.splitlines()


def start(inst, ports):
    """master with the installed configuration; waits for the ports and
    checks that nothing in the configuration was unknown or fatal."""
    inst.start()
    for port in ports:
        inst.wait_port(port)
    quiet(inst)


def quiet(inst):
    """After the dialogues: nothing went wrong (refusals are info)."""
    assert not re.search(r"warning|fatal|panic", inst.log()), inst.log()
    assert not re.search(r"warning|fatal|panic", inst.stderr()), \
        inst.stderr()


def maildir_messages(user):
    new = os.path.join(user.pw_dir, "Maildir", "new")
    if not os.path.isdir(new):
        return []
    out = []
    for n in sorted(os.listdir(new)):
        with open(os.path.join(new, n), "rb") as f:
            out.append(f.read())
    return out


# ---------------------------------------------------------------------
# A personal MX: DNSBL, sender access table, header checks, relay control

LISTED = "127.0.0.2"  # Spamhaus' own test address, listed in every zone
ZEN = {"zen.spamhaus.org":
       "2.0.0.127 A 127.0.0.2\n"
       "2.0.0.127 A 127.0.0.10\n"
       '2.0.0.127 TXT "https://www.spamhaus.org/query/ip/127.0.0.2"\n'}


@pytest.fixture
def dns():
    from dnsserver import DNSServer
    server = DNSServer(ZEN, address=loopback_net() + "53")
    server.start()
    yield server
    server.stop()
    server.cleanup()


def test_personal_mx(instance, mail_owner, mx_user, dns):
    if instance.host == LISTED:
        instance.host = other_loopback(instance, avoid=(LISTED,))
    port = instance.port()
    values = base_values(instance, mail_owner, dns.nameservers)
    values["smtp"] = port
    install(instance, "personal-mx", values, tables=["sender_access"])
    lines = panconf_n(instance)
    for want in (
            "mydestination = $myhostname, localhost.$mydomain, localhost, "
            "$mydomain",
            "smtpd_recipient_restrictions = permit_mynetworks, "
            "reject_unauth_pipelining, reject_non_fqdn_recipient, "
            "reject_unauth_destination, reject_rbl_client "
            "zen.spamhaus.org=127.0.0.[2..11], permit",
            "header_checks = regexp:$config_directory/header_checks",
            "compatibility_level = 3.6", "home_mailbox = Maildir/"):
        assert want in lines, lines
    start(instance, [port])
    user = "%s@example.org" % mx_user.pw_name
    client = other_loopback(instance, avoid=(LISTED,))

    # The DNSBL's client, with the zone's text.
    with Session(instance.host, port, source=LISTED) as s:
        s.expect("EHLO mail.client.example", 250)
        s.expect("MAIL FROM:<someone@client.example>", 250)
        s.expect("RCPT TO:<%s>" % user, 554,
                 r"^5\.7\.1 Service unavailable; Client host \[127\.0\.0\.2\] "
                 r"blocked using zen\.spamhaus\.org; "
                 r"https://www\.spamhaus\.org/query/ip/127\.0\.0\.2$")
    instance.wait_log(r"NOQUEUE: reject: RCPT from "
                      + peer_re("127.0.0.2") + r":"
                      r" 554 5\.7\.1 Service unavailable; .*; "
                      r"from=<someone@client\.example> to=<%s> proto=ESMTP "
                      r"helo=<mail\.client\.example>" % re.escape(user))

    with Session(instance.host, port, source=client) as s:
        s.expect("EHLO mail.client.example", 250)
        # Relay control.
        s.expect("MAIL FROM:<someone@client.example>", 250)
        s.expect("RCPT TO:<friend@elsewhere.example>", 554,
                 r"^5\.7\.1 <friend@elsewhere\.example>: Relay access "
                 r"denied$")
        s.expect("RSET", 250)
        # The sender access table: a user@ key with its own reply, a
        # domain with its text, an OK that wins over its domain.
        s.expect("MAIL FROM:<spammer@anywhere.example>", 250)
        s.expect("RCPT TO:<%s>" % user, 550,
                 r"^5\.7\.1 <spammer@anywhere\.example>: Sender address "
                 r"rejected: Go away$")
        s.expect("RSET", 250)
        s.expect("MAIL FROM:<x@bad.example>", 250)
        s.expect("RCPT TO:<%s>" % user, 554,
                 r"^5\.7\.1 <x@bad\.example>: Sender address rejected: "
                 r"Mail from bad\.example is not welcome here$")
        s.expect("RSET", 250)
        s.expect("MAIL FROM:<friend@bad.example>", 250)
        s.expect("RCPT TO:<%s>" % user, 250)
        # header_checks.
        s.expect("DATA", 354)
        s.send(b"From: <friend@bad.example>\r\n"
               b"Subject: cheap watches for you\r\n\r\nbuy\r\n.\r\n")
        r = s.reply()
        assert (r.code, r.text) == (
            550, "5.7.1 Looks like spam to me"), r
        # A message that passes is delivered to the user's Maildir/.
        s.expect("MAIL FROM:<friend@bad.example>", 250)
        s.expect("RCPT TO:<%s>" % user, 250)
        s.expect("DATA", 354)
        s.send(b"From: <friend@bad.example>\r\n"
               b"Subject: lunch?\r\n\r\nat noon\r\n.\r\n")
        qid = queued_id(s.reply())
        s.expect("QUIT", 221)

    # A HELO name that is not fully qualified.
    with Session(instance.host, port, source=client) as s:
        s.expect("EHLO localbox", 250)
        s.expect("MAIL FROM:<someone@client.example>", 250)
        s.expect("RCPT TO:<%s>" % user, 504,
                 r"^5\.5\.2 <localbox>: Helo command rejected: need "
                 r"fully-qualified hostname$")

    instance.wait_log(r"%s: to=<%s>, relay=local, .*status=sent"
                      % (qid, re.escape(user)), timeout=30)
    got = wait_until(lambda: maildir_messages(mx_user), what="delivery")
    assert got[-1].endswith(b"Subject: lunch?\n\nat noon\n"), got[-1]
    assert b"Return-Path: <friend@bad.example>\n" in got[-1]
    quiet(instance)


# ---------------------------------------------------------------------
# Submission: -o overrides, TLS required, AUTH, sender login maps


def test_submission(instance, mail_owner, mx_user):
    import ssl
    smtp, submission = instance.ports(2)
    values = base_values(instance, mail_owner)
    values.update(smtp=smtp, submission=submission)
    install(instance, "submission", values, tables=["sender_login"])
    tls = os.path.join(instance.config_dir, "tls")
    certs = make_cert(tls, "mx.example.org")
    shutil.copy(certs["cert"], os.path.join(tls, "mx.example.org.pem"))
    shutil.copy(certs["key"], os.path.join(tls, "mx.example.org.key"))
    os.chmod(os.path.join(tls, "mx.example.org.key"), 0o600)
    make_sasldb(os.path.join(instance.config_dir, "sasldb2"),
                {"alice": "wonder land", "bob": "builder"},
                realm="mx.example.org")
    lines = panconf_n(instance)
    for want in ("mua_client_restrictions = permit_sasl_authenticated, "
                 "reject",
                 "smtpd_sender_login_maps = "
                 "hash:$config_directory/sender_login"):
        assert want in lines, lines
    m = subprocess.run([program("panconf"), "-c", instance.config_dir,
                        "-M", "%d/inet" % submission],
                       capture_output=True, text=True, timeout=scaled(30))
    assert m.returncode == 0 and m.stderr == "", m
    assert "-o smtpd_client_restrictions=$mua_client_restrictions" in \
        m.stdout, m.stdout
    start(instance, [smtp, submission])
    user = "%s@example.org" % mx_user.pw_name
    ctx = ssl.create_default_context(cafile=certs["ca"])
    plain = "AUTH PLAIN " + base64.b64encode(
        b"\0alice\0wonder land").decode()

    with Session(instance.host, submission) as s:
        r = s.expect("EHLO laptop.example.org", 250)
        assert "STARTTLS" in r.lines and not any(
            x.startswith("AUTH") for x in r.lines), r
        s.expect("MAIL FROM:<alice@example.org>", 530,
                 r"^5\.7\.0 Must issue a STARTTLS command first")
        s.expect("STARTTLS", 220)
        s.starttls(ctx, hostname="mx.example.org")
        r = s.expect("EHLO laptop.example.org", 250)
        assert any(x.startswith("AUTH ") and "PLAIN" in x
                   for x in r.lines), r
        # Not logged in: $mua_client_restrictions refuses.
        s.expect("MAIL FROM:<alice@example.org>", 250)
        s.expect("RCPT TO:<friend@elsewhere.example>", 554,
                 r"^5\.7\.1 <(?:localhost|unknown)\[[\d.]+\]>: Client host "
                 r"rejected: "
                 r"Access denied$")
        s.expect("RSET", 250)
        s.expect(plain, 235)
        # bob's address is not alice's.
        s.expect("MAIL FROM:<bob@example.org>", 250)
        s.expect("RCPT TO:<friend@elsewhere.example>", 553,
                 r"^5\.7\.1 <bob@example\.org>: Sender address rejected: "
                 r"not owned by user alice$")
        s.expect("RSET", 250)
        # Her own: relayed anywhere, and delivered here.
        s.expect("MAIL FROM:<alice@example.org>", 250)
        s.expect("RCPT TO:<friend@elsewhere.example>", 250)
        s.expect("RSET", 250)
        s.expect("MAIL FROM:<postmaster@example.org>", 250)
        s.expect("RCPT TO:<%s>" % user, 250)
        s.expect("DATA", 354)
        s.send(b"From: Alice <postmaster@example.org>\r\n"
               b"Subject: from my phone\r\n\r\nhello\r\n.\r\n")
        qid = queued_id(s.reply())
        s.expect("QUIT", 221)
    instance.wait_log(r"panacea/submission/smtpd\[\d+\]: %s: client=" % qid)
    instance.wait_log(r"%s: to=<%s>, relay=local, .*status=sent"
                      % (qid, re.escape(user)), timeout=30)

    # Port 25 offers no AUTH and relays nothing for a stranger.
    with Session(instance.host, smtp,
                 source=other_loopback(instance)) as s:
        r = s.expect("EHLO laptop.example.org", 250)
        assert "STARTTLS" in r.lines and not any(
            x.startswith("AUTH") for x in r.lines), r
        s.expect("MAIL FROM:<alice@example.org>", 250)
        s.expect("RCPT TO:<friend@elsewhere.example>", 554,
                 r"Relay access denied$")
    quiet(instance)


# ---------------------------------------------------------------------
# A null client sending through a smart host with SASL over TLS


def test_smarthost(instance, mail_owner, tmp_path):
    instance.host = "127.0.0.1"  # inet_interfaces = loopback-only
    port = instance.port()
    relay = Peer("127.0.0.1", port=instance.port(), name="smtp.provider.test")
    try:
        relay.tls_context = make_cert(str(tmp_path / "relay"),
                                      "smtp.provider.test")["server_context"]
        relay.auth = ("laptop@example.org", "Tr0ub4dor&3")
        values = base_values(instance, mail_owner)
        values.update(smtp=port, relay_port=relay.port)
        install(instance, "smarthost", values, tables=["sasl_passwd"])
        os.chmod(os.path.join(instance.config_dir, "sasl_passwd"), 0o600)
        lines = panconf_n(instance)
        for want in ("relayhost = [127.0.0.1]:%d" % relay.port,
                     "smtp_sasl_auth_enable = yes",
                     "inet_interfaces = loopback-only", "mydestination ="):
            assert want in lines, lines
        start(instance, [port])
        with Session("127.0.0.1", port) as s:
            s.expect("EHLO laptop.example.org", 250)
            s.expect("MAIL FROM:<me@laptop.example.org>", 250)
            s.expect("RCPT TO:<friend@elsewhere.example>", 250)
            s.expect("DATA", 354)
            s.send(b"From: <me@laptop.example.org>\r\n"
                   b"Subject: via the smart host\r\n\r\nhi\r\n.\r\n")
            qid = queued_id(s.reply())
            s.expect("QUIT", 221)
        instance.wait_log(r"%s: to=<friend@elsewhere\.example>, "
                          r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, .*"
                          r"status=sent" % (qid, relay.port), timeout=30)
        msgs = relay.messages()
        assert len(msgs) == 1, msgs
        assert b"Subject: via the smart host\r\n" in msgs[0]
        session = [x for x in relay.sessions if x["data"]][0]
        assert session["tls"] and session["auth"] == "laptop@example.org"
        assert "MAIL FROM:<me@laptop.example.org>" in " ".join(
            session["commands"])
        quiet(instance)
    finally:
        relay.close()
