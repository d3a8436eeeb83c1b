"""smtpd's native SPF (RFC 7208): the reject_spf_fail restriction and the
Received-SPF: header, and the administrator's "panacea spf check", with
the senders' records served by nsd on loopback (dns_nameservers names
it: no query reaches the machine's resolver).

One smtpd, one nsd, one session per case: pass is accepted with
"Received-SPF: pass" on top, -all refuses with 550 5.7.1 and the
default or the record's exp= explanation, softfail is accepted and
marked, and a domain whose DNS does not answer (nsd REFUSES a zone it
does not hold, as a resolver answers SERVFAIL when a domain's servers
are down) gets 451 4.7.1.
"""

import re
import subprocess

from panacea_test import loopback_net, peer_re, program, unless_built
from smtp_helpers import (MYHOSTNAME, Session, mail_owner,  # noqa: F401
                          pancat, queued_id, smtpd_setup)

pytestmark = unless_built("master", "smtpd", "pancat", "panacea")

ROOT = "root@" + MYHOSTNAME
HELO = "mail.spf.test"
ZONES = {
    "spf.test":
        "mail A 192.0.2.25\n"
        'pass TXT "v=spf1 ip4:192.0.2.0/24 a:mail.spf.test '
        'include:inc.spf.test -all"\n'
        'inc TXT "v=spf1 exists:%{i}._ok.spf.test -all"\n'
        "*._ok A 127.0.0.2\n"
        'fail TXT "v=spf1 ip4:192.0.2.1 -all"\n'
        'why TXT "v=spf1 -all exp=exp.spf.test"\n'
        'exp TXT "%{i} may not send for %{d}, see %{o}"\n'
        'soft TXT "v=spf1 ip4:192.0.2.1 ~all"\n'
        'badhelo TXT "v=spf1 -all"\n',
}


def transaction(s, sender, subject):
    s.expect("MAIL FROM:<%s>" % sender, 250)
    s.expect("RCPT TO:<%s>" % ROOT, 250)
    s.expect("DATA", 354)
    s.send(b"Subject: " + subject.encode() + b"\r\n\r\nhi\r\n.\r\n")
    return queued_id(s.reply())


def test_spf_restriction_and_header(instance, mail_owner, tmp_path):
    from dnsserver import DNSServer
    net = loopback_net()
    client = net + "60"
    dns = DNSServer(ZONES, address=net + "53", workdir=str(tmp_path / "nsd"))
    dns.start()
    try:
        port = smtpd_setup(instance, mail_owner, conf={
            "mynetworks": "127.0.0.1/32",
            "dns_nameservers": dns.nameservers,
            "smtpd_spf_received_header": "yes",
            "smtpd_recipient_restrictions":
                "permit_mynetworks, reject_unauth_destination, "
                "reject_spf_fail",
        })
        with Session(instance.host, port, source=client) as s:
            s.expect("EHLO " + HELO, 250)
            # Pass through include: and exists: with %{i}.
            qid = transaction(s, "alice@pass.spf.test", "spf pass")
            # -all: refused with the default explanation ...
            s.expect("MAIL FROM:<mallory@fail.spf.test>", 250)
            r = s.cmd("RCPT TO:<%s>" % ROOT)
            assert (r.code, r.text) == (
                550, "5.7.1 <mallory@fail.spf.test>: Sender address "
                "rejected: SPF fail: domain of mallory@fail.spf.test does "
                "not designate %s as permitted sender" % client), r
            s.expect("RSET", 250)
            # ... or with the record's exp=, macros expanded.
            s.expect("MAIL FROM:<eve@why.spf.test>", 250)
            r = s.cmd("RCPT TO:<%s>" % ROOT)
            assert (r.code, r.text) == (
                550, "5.7.1 <eve@why.spf.test>: Sender address rejected: "
                "SPF fail: %s may not send for why.spf.test, see "
                "why.spf.test" % client), r
            s.expect("RSET", 250)
            # Softfail: accepted, marked.
            qid_soft = transaction(s, "bob@soft.spf.test", "spf softfail")
            # No answer for the sender's domain: temperror, try later.
            s.expect("MAIL FROM:<carol@down.example>", 250)
            r = s.cmd("RCPT TO:<%s>" % ROOT)
            assert r.code == 451, r
            assert r.text.startswith(
                "4.7.1 <carol@down.example>: Sender address rejected: SPF "
                "temporary error: error in processing during lookup of "
                "down.example: "), r
            s.expect("RSET", 250)
            # The null sender: the HELO name's record (postmaster@HELO).
            s.expect("EHLO badhelo.spf.test", 250)
            s.expect("MAIL FROM:<>", 250)
            r = s.cmd("RCPT TO:<%s>" % ROOT)
            assert (r.code, r.text) == (
                550, "5.7.1 <>: Sender address rejected: SPF fail: domain "
                "of postmaster@badhelo.spf.test does not designate %s as "
                "permitted sender" % client), r
            s.expect("QUIT", 221)
        instance.wait_log(
            r"NOQUEUE: reject: RCPT from %s: 550 5\.7\.1 "
            r"<mallory@fail\.spf\.test>: Sender address rejected: SPF fail"
            r".*; from=<mallory@fail\.spf\.test> to=<%s> proto=ESMTP "
            r"helo=<%s>" % (peer_re(client), re.escape(ROOT),
                            re.escape(HELO)))
        # The administrator's view of the same records.
        for args, status, out in (
                (["fail.spf.test", client], 1,
                 "record: v=spf1 ip4:192.0.2.1 -all\nresult: fail\n"
                 "mechanism: -all\nreason: -all matched in fail.spf.test\n"),
                (["pass.spf.test", "192.0.2.25", "x@pass.spf.test"], 0,
                 "record: v=spf1 ip4:192.0.2.0/24 a:mail.spf.test "
                 "include:inc.spf.test -all\nresult: pass\nmechanism: "
                 "ip4:192.0.2.0/24\nreason: ip4:192.0.2.0/24 matched in "
                 "pass.spf.test\n"),
                (["down.example", "192.0.2.1"], 75, None)):
            r = subprocess.run(
                [program("panacea"), "-c", instance.config_dir, "spf",
                 "check"] + args, capture_output=True, text=True, timeout=30)
            assert r.returncode == status, r
            if out is not None:
                assert r.stdout == out, r
        r = subprocess.run([program("panacea"), "spf", "check", "x.test",
                            "not-an-ip"], capture_output=True, timeout=30)
        assert r.returncode == 64, r
    finally:
        dns.stop()
        dns.cleanup()

    for q, result, sender, mech in (
            (qid, "pass", "alice@pass.spf.test", "include:inc.spf.test"),
            (qid_soft, "softfail", "bob@soft.spf.test", "~all")):
        text = pancat(instance, q).decode()
        head = text.split("\r\nReceived: ", 1)[0]
        assert re.fullmatch(
            r"Received-SPF: %s \(%s: [^()]*%s[^()]*\)\r\n"
            r"\tclient-ip=%s; envelope-from=\"%s\"; helo=\"%s\";\r\n"
            r"\treceiver=%s; identity=mailfrom; mechanism=\"%s\";"
            % (result, re.escape(MYHOSTNAME), re.escape(sender),
               re.escape(client), re.escape(sender), re.escape(HELO),
               re.escape(MYHOSTNAME), re.escape(mech)), head), text
        assert text.count("Received-SPF:") == 1, text
