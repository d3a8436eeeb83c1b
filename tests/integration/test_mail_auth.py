"""Who really sent this, across hosts (issue 15): the talk's two first
hosts on loopback with one nsd.  panacea.canonical.org (A) signs the
mail of its network with DKIM and relays it to the MX of dma.org,
kathalla.dma.org (B), which checks SPF, DKIM and DMARC itself and writes
one Authentication-Results field: spf=pass, dkim=pass, dmarc=pass.  A
stranger (birch.ahlquist.org) that writes From: paulv@canonical.org to
B directly is refused by canonical.org's DMARC p=reject.

canonical.org publishes what a careful domain publishes: SPF naming
A's address, A's DKIM key (made by `panacea dkim genkey`), and
_dmarc p=reject.  B runs smtpd alone (no qmgr), so what it accepted
stays in its queue to be read as stored.
"""

import os
import re
import subprocess

import pytest

from hops_helpers import ADDR, CLIENT_NET, NAMES, Host
from panacea_test import program, unless_built
from smtp_helpers import Session, mail_owner, pancat  # noqa: F401

pytestmark = unless_built("master", "smtpd", "smtp", "qmgr", "pancat",
                          "panacea")

PAULV = "paulv@canonical.org"
BODY = (b"From: Paul Vixie <paulv@canonical.org>\r\n"
        b"To: pea@dma.org\r\n"
        b"Subject: Who really sent this\r\n"
        b"Date: Sun, 6 Dec 2026 05:00:00 +0000\r\n"
        b"Message-ID: <who.really@canonical.org>\r\n"
        b"\r\n"
        b"Only the trace of servers tells where a message came from.\r\n")


def txt_record(name, record):
    """A zone-file TXT line, the record cut in strings of 250 bytes."""
    parts = [record[i:i + 250] for i in range(0, len(record), 250)]
    return "%s TXT ( %s )\n" % (name, " ".join('"%s"' % p for p in parts))


@pytest.fixture(scope="module")
def hosts(tmp_path_factory, mail_owner):  # noqa: F811
    from dnsserver import DNSServer
    tmp = tmp_path_factory.mktemp("mailauth")
    key = str(tmp / "talk.private")
    r = subprocess.run([program("panacea"), "dkim", "genkey", "--output",
                        key, "canonical.org", "talk"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r
    record = "".join(re.findall(r'"([^"]*)"', r.stdout.splitlines()[0]))
    dns = DNSServer({
        "canonical.org": (
            "@ MX 10 panacea\n"
            "panacea A %s\n"
            "schrodinger A %s\n"
            '@ TXT "v=spf1 ip4:%s -all"\n'
            '_dmarc TXT "v=DMARC1; p=reject; adkim=s"\n'
            % (ADDR["panacea"], ADDR["schrodinger"], ADDR["panacea"]) +
            txt_record("talk._domainkey", record)),
        "dma.org": "@ MX 10 kathalla\nkathalla A %s\n" % ADDR["kathalla"],
    }, address=ADDR["dns"], workdir=str(tmp / "dns"))
    dns.start()
    (tmp / "KeyTable").write_text("talk canonical.org:talk:%s\n" % key)
    (tmp / "SigningTable").write_text("*@canonical.org talk\n")
    a = Host(tmp / "a", "panacea", mail_owner, dns, conf={
        "mynetworks": CLIENT_NET,
        "dkim_key_table": str(tmp / "KeyTable"),
        "dkim_signing_table": "refile:" + str(tmp / "SigningTable"),
    })
    b = Host(tmp / "b", "kathalla", mail_owner, dns, conf={
        "mydestination": "$myhostname, dma.org",
        "alias_maps": "",
        "local_recipient_maps": "",
        "smtpd_dkim_verify": "yes",
        "smtpd_dmarc_enable": "yes",
    })
    # smtpd alone: what B accepts stays in its queue.
    b.services = [line for line in b.services
                  if line.split()[:2] not in (["qmgr", "unix"],
                                              ["local", "unix"],
                                              ["smtp", "unix"])]
    try:
        a.start()
        b.start()
        yield a, b
    finally:
        for h in (a, b):
            h.stop()
            h.kill_all()
        dns.stop()
        dns.cleanup()


def test_signed_by_a_and_verified_by_the_mx(hosts):
    """schrodinger hands the message to A; A signs it and sends it to
    dma.org's MX; B's Authentication-Results says spf=pass (A's address
    is canonical.org's), dkim=pass (A's signature) and dmarc=pass, on top
    of the Received: line B wrote."""
    a, b = hosts
    mark = b.log_size()
    with Session(a.host, 25, source=ADDR["schrodinger"]) as s:
        s.expect("EHLO %s" % NAMES["schrodinger"], 250)
        s.expect("MAIL FROM:<%s>" % PAULV, 250)
        s.expect("RCPT TO:<pea@dma.org>", 250)
        s.expect("DATA", 354)
        s.send(BODY + b".\r\n")
        assert s.reply().code == 250
        s.expect("QUIT", 221)
    m = b.wait_log(r"smtpd\[\d+\]: (\w+): client=\S*\[%s\]" %
                   re.escape(ADDR["panacea"]), since=mark)
    stored = pancat(b, m.group(1)).decode().replace("\r\n", "\n")
    head = stored.split("\n\n", 1)[0].replace("\n\t", " ")
    fields = head.split("\n")
    assert fields[0].startswith("Authentication-Results: %s;" %
                                NAMES["kathalla"]), stored
    ar = fields[0]
    assert "spf=pass smtp.mailfrom=%s" % PAULV in ar, ar
    assert "dkim=pass header.d=canonical.org header.s=talk" in ar, ar
    assert ar.endswith("dmarc=pass header.from=canonical.org"), ar
    assert fields[1].startswith("Received: from %s" % NAMES["panacea"]), \
        stored
    # A's signature and A's own Received: below B's.
    assert "\nDKIM-Signature: v=1; a=rsa-sha256;" in "\n" + head, stored
    assert b.log_count(r"dmarc: pass header\.from=canonical\.org",
                       since=mark) == 1


def test_forged_from_refused_by_dmarc(hosts):
    """A stranger writes From: paulv@canonical.org straight to B: SPF
    fails for its address, there is no signature, and canonical.org's
    p=reject makes B refuse the message at the end of data."""
    _, b = hosts
    with Session(b.host, 25, source=ADDR["birch"]) as s:
        s.expect("EHLO %s" % NAMES["birch"], 250)
        s.expect("MAIL FROM:<%s>" % PAULV, 250)
        s.expect("RCPT TO:<pea@dma.org>", 250)
        s.expect("DATA", 354)
        s.send(BODY + b".\r\n")
        r = s.reply()
        assert r.code == 550 and r.text.startswith(
            "5.7.1 <canonical.org>: Message rejected: DMARC policy of "
            "canonical.org is reject"), r
        s.expect("QUIT", 221)
    assert os.path.isdir(b.queue_dir)
