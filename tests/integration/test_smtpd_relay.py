"""smtpd relay control: Panacea is never an open relay.

mynetworks is a single address the client does not use; the client's
socket is bound to another 127.0.0.x address, so it is a stranger: it
may send to local users and to relay_domains, and nowhere else, whatever
trick the recipient address plays.
"""

import os
import re
import socket
import subprocess

import pytest

from panacea_test import peer_name, peer_re, program, unless_built
from smtp_helpers import (MYHOSTNAME, Session, mail_owner,  # noqa: F401
                          other_loopback, pancat, queued_id, smtpd_setup,
                          stored_message)

pytestmark = unless_built("master", "smtpd", "pancat")

ROOT = "root@" + MYHOSTNAME


@pytest.fixture
def stranger(instance, mail_owner):
    """(instance, port, client address outside mynetworks)."""
    client = other_loopback(instance, avoid=("127.0.0.1",))
    port = smtpd_setup(instance, mail_owner, conf={
        "mynetworks": "127.0.0.1/32",
        "relay_domains": "relay.example",
    })
    return instance, port, client


def test_open_relay_attempt_refused(stranger):
    """The refused relay of the hand-typed session, then local mail."""
    inst, port, client = stranger
    with Session(inst.host, port, source=client) as s:
        assert s.greeting.code == 220
        s.expect("helo ahlquist.org", 250, "^%s$" % MYHOSTNAME)
        s.expect("mail from: <pea@ahlquist.org>", 250)
        r = s.cmd("rcpt to: <pea@dma.org>")
        assert str(r) == "454 4.7.1 <pea@dma.org>: Relay access denied"
        s.expect("data", 554, r"^5\.5\.1 Error: no valid recipients$")
        s.expect("rcpt to: <%s>" % ROOT, 250)
        s.expect("data", 354)
        s.send(b"Subject: local mail is fine\r\n\r\nhi\r\n.\r\n")
        qid = queued_id(s.reply())
        s.expect("quit", 221)
    env = pancat(inst, qid, "-e").decode()
    assert re.findall(r"^recipient: (.*)$", env, re.M) == [ROOT]
    assert "client_address: %s\n" % client in env
    inst.wait_log(
        r"panacea/smtpd\[\d+\]: NOQUEUE: reject: RCPT from "
        r"%s: 454 4\.7\.1 <pea@dma\.org>: Relay access "
        r"denied; from=<pea@ahlquist\.org> to=<pea@dma\.org> proto=SMTP "
        r"helo=<ahlquist\.org>\n" % peer_re(client))
    inst.wait_log(r"disconnect from %s helo=1 mail=1 "
                  r"rcpt=1/2 data=1/2 quit=1 commands=5/7" % peer_re(client))


@pytest.mark.parametrize("rcpt", [
    "user@remote.example@%s" % MYHOSTNAME,
    "user%%remote.example@%s" % MYHOSTNAME,
    "remote.example!user@%s" % MYHOSTNAME,
    "@%s:user@remote.example" % MYHOSTNAME,
    "@%s,@relay.example:user@remote.example" % MYHOSTNAME,
    "\"user@remote.example\"@%s" % MYHOSTNAME,
    "\"user%%remote.example\"@%s" % MYHOSTNAME,
    "root%%remote.example@localhost",
    "user@[127.0.0.1]",
    "user@[IPv6:::1]",
    "user@remote.example",
    "user@relay.example.remote.example",
    "user@notrelay.example",
])
def test_relay_tricks_refused(stranger, rcpt):
    inst, port, client = stranger
    with Session(inst.host, port, source=client) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<a@example.org>", 250)
        r = s.cmd("RCPT TO:<%s>" % rcpt)
        assert r.code == 454, r
        assert re.fullmatch(r"4\.7\.1 <[^<>]+>: Relay access denied",
                            r.text), r
        s.expect("QUIT", 221)
    inst.wait_log(r"NOQUEUE: reject: RCPT from %s: 454 4\.7\.1 "
                  % peer_re(client))


def test_relay_tricks_are_foreign_even_for_local_domain(stranger):
    """A routing local part is never taken as a local user, even one
    that exists (root): it would be relayed by whoever delivers it."""
    inst, port, client = stranger
    with Session(inst.host, port, source=client) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<a@example.org>", 250)
        for rcpt in ("root@%s@%s" % (MYHOSTNAME, MYHOSTNAME),
                     "root%%%s@%s" % (MYHOSTNAME, MYHOSTNAME),
                     "%s!root@%s" % (MYHOSTNAME, MYHOSTNAME)):
            s.expect("RCPT TO:<%s>" % rcpt, 454, r"Relay access denied$")


def test_source_route_to_local_user_is_local(stranger):
    inst, port, client = stranger
    with Session(inst.host, port, source=client) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<a@example.org>", 250)
        # The route is ignored (RFC 5321 C): the mailbox is local.
        s.expect("RCPT TO:<@remote.example:%s>" % ROOT, 250)
        s.expect("DATA", 354)
        s.send(b"Subject: routed\r\n\r\n.\r\n")
        qid = queued_id(s.reply())
    env = pancat(inst, qid, "-e").decode()
    assert re.findall(r"^recipient: (.*)$", env, re.M) == [ROOT]


def test_relay_domains_and_subdomains_accepted(stranger):
    inst, port, client = stranger
    with Session(inst.host, port, source=client) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<a@example.org>", 250)
        s.expect("RCPT TO:<anyone@relay.example>", 250)
        s.expect("RCPT TO:<anyone@Sub.Relay.Example>", 250)
        s.expect("RCPT TO:<anyone@xrelay.example>", 454)
        s.expect("DATA", 354)
        s.send(b"Subject: relayed\r\n\r\n.\r\n")
        qid = queued_id(s.reply())
    header, _ = stored_message(inst, qid)
    assert b"(%s [%s])" % (peer_name(client).encode(),
                           client.encode()) in header
    env = pancat(inst, qid, "-e").decode()
    assert re.findall(r"^recipient: (.*)$", env, re.M) == [
        "anyone@relay.example", "anyone@Sub.Relay.Example"]


def test_mynetworks_client_may_relay(instance, mail_owner):
    client = other_loopback(instance, avoid=("127.0.0.1",))
    port = smtpd_setup(instance, mail_owner, conf={
        "mynetworks": "127.0.0.1/32, %s/32" % client})
    with Session(instance.host, port, source=client) as s:
        s.expect("helo schrodinger.canonical.org", 250)
        s.expect("mail from: <paulv@canonical.org>", 250)
        s.expect("rcpt to: <pea@dma.org>", 250)
        s.expect("rcpt to: <some-one-else@example.com>", 250)
        s.expect("rcpt to: <yet-another-someone@example.com>", 250)
        s.expect("data", 354)
        s.send(b"Subject: relayed\r\n\r\n.\r\n")
        qid = queued_id(s.reply())
    env = pancat(instance, qid, "-e").decode()
    assert len(re.findall(r"^recipient: ", env, re.M)) == 3


def test_lists_from_files_and_tables(instance, mail_owner):
    """mydestination, relay_domains and mynetworks take /file/name and
    type:table entries and "!" exclusions, as Postfix's lists do: a
    domain in a file is local, a table's domain and its subdomains are
    relayed, a network from a file trusts its clients but the address
    excluded before it."""
    trusted = other_loopback(instance, avoid=("127.0.0.1",))
    excluded = other_loopback(instance, avoid=("127.0.0.1", trusted))
    files = os.path.join(instance.base, "lists")
    os.mkdir(files)
    with open(os.path.join(files, "networks"), "w") as f:
        f.write("# our networks\n127.0.0.0/8   # loopback\n")
    with open(os.path.join(files, "local"), "w") as f:
        f.write("files.example\n")
    relays = os.path.join(files, "relays")
    with open(relays, "w") as f:
        f.write("tables.example OK\n")
    subprocess.run([program("panmap"), "hash:" + relays], check=True)
    for name in os.listdir(files):
        os.chmod(os.path.join(files, name), 0o644)
    os.chmod(files, 0o755)
    port = smtpd_setup(instance, mail_owner, conf={
        "mynetworks": "!%s, %s/networks" % (excluded, files),
        "relay_domains": "hash:" + relays,
        "mydestination": "$myhostname, localhost, %s/local" % files,
    })
    with Session(instance.host, port, source=excluded) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<a@example.org>", 250)
        s.expect("RCPT TO:<pea@dma.org>", 454)
        s.expect("RCPT TO:<anyone@tables.example>", 250)
        s.expect("RCPT TO:<anyone@deep.sub.tables.example>", 250)
        s.expect("RCPT TO:<anyone@xtables.example>", 454)
        s.expect("RCPT TO:<root@files.example>", 250)
        s.expect("RCPT TO:<nosuchuser@files.example>", 550)
        s.expect("QUIT", 221)
    with Session(instance.host, port, source=trusted) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<a@example.org>", 250)
        s.expect("RCPT TO:<pea@dma.org>", 250)
        s.expect("QUIT", 221)


def test_bad_list_entry_stops_smtpd(instance, mail_owner):
    """A /file/name that cannot be read, or a network that does not
    parse, stops smtpd at start with the parameter's name."""
    port = smtpd_setup(instance, mail_owner, start=False, conf={
        "relay_domains": "ok.example, /nonexistent/relay-list",
        "mynetworks": "127.0.0.0/8"})
    instance.start()
    # master starts smtpd for a client.
    with socket.create_connection((instance.host, port), timeout=10):
        pass
    instance.wait_log(r"smtpd\[\d+\]: fatal: relay_domains: "
                      r"/nonexistent/relay-list: cannot open")
    instance.stop()
    instance.conf["relay_domains"] = ""
    instance.conf["mynetworks"] = "127.0.0.0/33"
    instance.write()
    instance.start()
    with socket.create_connection((instance.host, port), timeout=10):
        pass
    instance.wait_log(r"smtpd\[\d+\]: fatal: mynetworks: bad network")


@pytest.mark.parametrize("style,others_trusted", [("host", False),
                                                  ("subnet", True),
                                                  ("class", True)])
def test_mynetworks_style(instance, mail_owner, style, others_trusted):
    """When mynetworks is not set, mynetworks_style makes it from the
    interfaces, as in Postfix: host trusts the machine's own addresses
    (127.0.0.1, not the rest of 127.0.0.0/8), subnet and class their
    networks (127.0.0.0/8)."""
    other = other_loopback(instance, avoid=("127.0.0.1",))
    port = smtpd_setup(instance, mail_owner,
                       conf={"mynetworks_style": style})
    for source, trusted in (("127.0.0.1", True), (other, others_trusted)):
        with Session(instance.host, port, source=source) as s:
            s.expect("EHLO client.test", 250)
            s.expect("MAIL FROM:<a@example.org>", 250)
            s.expect("RCPT TO:<pea@dma.org>", 250 if trusted else 454)
            s.expect("QUIT", 221)
