"""smtpd's DMARC check (RFC 7489, smtpd_dmarc.c) at the end of data, with
the senders' _dmarc and SPF records served by nsd on loopback
(dns_nameservers names it: no query reaches the machine's resolver), and
"panacea trace" on a message local delivered.

One nsd for the module, one instance with two smtpd services: a From:
forged in a domain with p=reject, sent from a host whose own SPF passes,
is refused with 550 5.7.1 at the end of data (also behind a second From:
field), or held where smtpd_dmarc_reject_action = hold; an SPF pass for
a MAIL FROM domain aligned with From: (relaxed: same organisational
domain) is accepted; p=quarantine with pct=0 is accepted and logged, and
so is a From: domain whose DNS fails (temperror); p=quarantine goes to
the hold queue (the queue listing shows it with '!'); a client in
mynetworks is not checked.
"""

import re
import subprocess

import pytest

from delivery_helpers import MailSystem, accounts  # noqa: F401
from panacea_test import loopback_net, program, unless_built
from smtp_helpers import (MYHOSTNAME, Session, mail_owner,  # noqa: F401
                          pancat, queued_id, smtpd_service, smtpd_setup)

pytestmark = unless_built("master", "smtpd", "pancat", "panacea",
                          "panqueue", "showq", "qmgr", "local")

ROOT = "root@" + MYHOSTNAME
HELO = "client.outside.test"


def zones(client):
    # Each its own organisational domain ("test" is no public suffix,
    # so the default rule makes X.test one).
    return {
        # The organisation whose From: is forged: p=reject; its mail
        # goes out from the client (SPF for its bounce subdomain).
        "bank.test":
            '_dmarc TXT "v=DMARC1; p=reject; rua=mailto:d@bank.test"\n'
            'bounce TXT "v=spf1 ip4:%s -all"\n' % client,
        # The forger's own domain: SPF passes, but is not aligned.
        "outside.test": '@ TXT "v=spf1 ip4:%s -all"\n' % client,
        # Testing a quarantine policy on none of the mail.
        "trial.test": '_dmarc TXT "v=DMARC1; p=quarantine; pct=0"\n',
        "quar.test": '_dmarc TXT "v=DMARC1; p=quarantine"\n',
    }


@pytest.fixture(scope="module")
def dns(tmp_path_factory):
    from dnsserver import DNSServer
    net = loopback_net()
    client = net + "60"
    d = DNSServer(zones(client), address=net + "53",
                  workdir=str(tmp_path_factory.mktemp("nsd")))
    d.start()
    d.client = client
    yield d
    d.stop()
    d.cleanup()


def send(s, sender, from_, subject, extra=b""):
    s.expect("MAIL FROM:<%s>" % sender, 250)
    s.expect("RCPT TO:<%s>" % ROOT, 250)
    s.expect("DATA", 354)
    s.send(extra + b"From: " + from_.encode() + b"\r\nSubject: " +
           subject.encode() + b"\r\n\r\nhi\r\n.\r\n")
    return s.reply()


def test_dmarc_policies(instance, mail_owner, dns):
    # A second smtpd whose reject disposition only holds, and whose
    # quarantine is a mark in Authentication-Results.
    port2, line2 = smtpd_service(
        instance, args="-o smtpd_dmarc_reject_action=hold "
        "-o smtpd_dmarc_quarantine_action=header")
    port = smtpd_setup(instance, mail_owner, conf={
        "dns_nameservers": dns.nameservers,
        "smtpd_dmarc_enable": "yes",
        # The test client is outside mynetworks (which is not checked).
        "mynetworks": "127.0.0.1/32",
    }, services=["showq unix n - n - - showq", line2])
    with Session(instance.host, port, source=dns.client) as s:
        s.expect("EHLO " + HELO, 250)
        # A From: in bank.test from a host that may send only for
        # outside.test: SPF passes, not aligned: p=reject.
        r = send(s, "x@outside.test", "CEO <ceo@bank.test>",
                 "forged")
        assert (r.code, r.text) == (
            550, "5.7.1 <bank.test>: Message rejected: DMARC policy "
            "of bank.test is reject: SPF pass for outside.test "
            "(not aligned), no aligned DKIM pass (0 signatures)"), r
        # A second From: of the forger's own does not hide the first:
        # each author domain is checked, the strictest policy applies.
        r = send(s, "x@outside.test", "x@outside.test", "two",
                 b"From: CEO <ceo@bank.test>\r\n")
        assert r.code == 550 and r.text.startswith(
            "5.7.1 <bank.test>: Message rejected: DMARC policy of "
            "bank.test is reject"), r
        # The bank's own mail: SPF pass for bounce.bank.test,
        # aligned with bank.test (same organisational domain).
        good = queued_id(send(s, "b@bounce.bank.test",
                              "ceo@bank.test", "aligned"))
        # p=quarantine at pct=0: the policy applies to none of them.
        trial = queued_id(send(s, "x@outside.test",
                               "a@trial.test", "trial"))
        # p=quarantine: accepted into the hold queue.
        held = queued_id(send(s, "x@outside.test",
                              "a@quar.test", "quarantined"))
        # No answer for the From: domain (nsd refuses a zone it does not
        # serve, as a resolver fails when a domain's servers are down):
        # temperror, logged, and the message is accepted.
        down = queued_id(send(s, "x@outside.test", "a@down.example",
                              "dns down"))
        s.expect("QUIT", 221)
    # smtpd_dmarc_reject_action = hold: the forgery is kept for review.
    with Session(instance.host, port2, source=dns.client) as s:
        s.expect("EHLO " + HELO, 250)
        held2 = queued_id(send(s, "x@outside.test", "ceo@bank.test",
                               "forged, held"))
        marked = queued_id(send(s, "x@outside.test", "a@quar.test",
                                "quarantined, marked"))
        s.expect("QUIT", 221)
    # A client in mynetworks is ours: not checked.
    with Session(instance.host, port, source="127.0.0.1") as s:
        s.expect("EHLO " + HELO, 250)
        ours = queued_id(send(s, "x@outside.test", "ceo@bank.test",
                              "from mynetworks"))
        s.expect("QUIT", 221)
    instance.wait_log(
        r"\w+: reject: END-OF-MESSAGE from \S+: 550 5\.7\.1 "
        r"<bank\.test>: Message rejected: DMARC policy")
    instance.wait_log(r"%s: dmarc: pass header\.from=bank\.test "
                      r"policy\.domain=bank\.test p=reject: SPF pass "
                      r"for bounce\.bank\.test \(aligned\)" % good)
    instance.wait_log(r"%s: dmarc: fail header\.from=trial\.test "
                      r"policy\.domain=trial\.test p=quarantine "
                      r"disposition=none \(pct\)" % trial)
    instance.wait_log(r"%s: hold: END-OF-MESSAGE from \S+: DMARC policy of "
                      r"quar\.test is quarantine" % held)
    instance.wait_log(r"%s: dmarc: temperror header\.from=down\.example: "
                      r"DNS failure for _dmarc\.down\.example" % down)
    assert "%s: dmarc:" % ours not in instance.log()
    instance.wait_log(r"%s: hold: END-OF-MESSAGE from \S+: DMARC policy of "
                      r"bank\.test is reject" % held2)
    # smtpd_dmarc_quarantine_action = header: accepted, not held, and
    # marked as OpenDMARC marks it, for the mailbox's filters.
    text = pancat(instance, marked).decode()
    assert text.startswith(
        "Authentication-Results: %s; spf=pass smtp.mailfrom=x@outside.test;"
        "\r\n\tdmarc=fail (p=quarantine dis=quarantine) "
        "header.from=quar.test\r\n" % MYHOSTNAME), text
    for q, hold in ((good, "no"), (trial, "no"), (held, "yes"),
                    (held2, "yes"), (marked, "no")):
        env = pancat(instance, q, "-e").decode()
        assert re.search(r"^hold: %s$" % hold, env, re.M), (q, env)
    listing = subprocess.run(
        [program("panqueue"), "-c", instance.config_dir, "-p"],
        capture_output=True, text=True, timeout=30)
    assert listing.returncode == 0, listing
    assert re.search(r"^%s! " % held, listing.stdout, re.M), listing.stdout
    assert re.search(r"^%s[* ] " % good, listing.stdout, re.M), \
        listing.stdout


def test_trace_delivered(instance, mail_owner, accounts, dns):
    """panacea trace on a message local delivered to an mbox: our
    Received: on top is ours; the one the client wrote, though it names
    this host, and its Authentication-Results: are not."""
    system = MailSystem(instance, accounts, mail_owner, qmgr_wakeup=1,
                        conf={"dns_nameservers": dns.nameservers,
                              "mynetworks": "127.0.0.1/32",
                              "smtpd_dmarc_enable": "yes"})
    system.start()
    forged = (b"Authentication-Results: %s; dmarc=pass\r\n"
              b"Received: from trusted.example by %s with ESMTP id "
              b"FAKE; Sun, 6 Dec 2026 01:00:00 +0000\r\n"
              % (MYHOSTNAME.encode(), MYHOSTNAME.encode()))
    with Session(instance.host, system.port, source=dns.client) as s:
        s.expect("EHLO " + HELO, 250)
        s.expect("MAIL FROM:<b@bounce.bank.test>", 250)
        s.expect("RCPT TO:<%s>" % system.addr("alice"), 250)
        s.expect("DATA", 354)
        s.send(forged + b"From: ceo@bank.test\r\nSubject: trace\r\n\r\n"
               b"hi\r\n.\r\n")
        q = queued_id(s.reply())
        s.expect("QUIT", 221)
    system.wait_messages("alice", 1)
    path = system.mbox_path("alice")
    r = subprocess.run([program("panacea"), "-c", instance.config_dir,
                        "trace", path], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert len(lines) == 3, r.stdout
    assert re.fullmatch(
        r"1 ours: from %s \(\S+ \[%s\]\); by %s \(Panacea\); with ESMTP; "
        r"id %s; date .*" % (re.escape(HELO), re.escape(dns.client),
                             re.escape(MYHOSTNAME), q), lines[0]), lines[0]
    assert lines[1] == ("  auth outside, claims this host: %s: dmarc=pass"
                        % MYHOSTNAME), lines
    assert lines[2] == ("2 outside, claims this host: from trusted.example; "
                        "by %s; with ESMTP; id FAKE; date Sun, 6 Dec 2026 "
                        "01:00:00 +0000" % MYHOSTNAME), lines
    # The same from the standard input, for another host's view.
    with open(path) as f:
        r = subprocess.run([program("panacea"), "-c", instance.config_dir,
                            "trace", "-H", "elsewhere.test"], stdin=f,
                           capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r
    assert r.stdout.splitlines()[0].startswith("1 outside: from "), r.stdout
