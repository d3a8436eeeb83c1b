"""check_policy_service against Debian's policyd-spf (postfix-policyd-spf-
python), with the SPF records in nsd on loopback.

Postfix runs policyd-spf under spawn(8): one process per connection,
speaking the policy protocol on its stdin and stdout.  Panacea has no
spawn, so the test plays its part: a TCP listener on loopback that starts
policyd-spf for each connection (as an inetd or a systemd socket with
Accept=yes would).  policyd-spf asks the resolver of /etc/resolv.conf
(through python3-spf); each one runs in a mount namespace of its own
where /etc/resolv.conf is the test's file naming the test's nsd, so no
query reaches the machine's resolver.  A resolv.conf has no port: nsd
listens on port 53 of an address of a loopback /24 this test holds.
"""

import os
import re
import subprocess

import pytest

from panacea_test import (LoopbackServer, loopback_net, peer_re, tool,
                          unless_built)
from smtp_helpers import (MYHOSTNAME, Session, mail_owner,  # noqa: F401
                          pancat, queued_id, smtpd_setup)

pytestmark = unless_built("master", "smtpd", "pancat")

ROOT = "root@" + MYHOSTNAME
HELO = "mail.spf.test"
ZONES = {
    "spf.test":
        # The client's HELO name, without an SPF record of its own.
        "mail A 192.0.2.25\n"
        # Senders: any loopback client may send for pass.spf.test ...
        'pass TXT "v=spf1 ip4:127.0.0.0/8 -all"\n'
        # ... none for fail.spf.test, and soft.spf.test is not sure.
        'fail TXT "v=spf1 ip4:192.0.2.1 -all"\n'
        'soft TXT "v=spf1 ip4:192.0.2.1 ~all"\n',
}

# policyd-spf.conf(5): reject on Fail only; check loopback clients too
# (its default skip_addresses are loopback and private networks).
POLICYD_CONF = """\
debugLevel = 1
TestOnly = 1
HELO_reject = Fail
Mail_From_reject = Fail
PermError_reject = False
TempError_Defer = False
skip_addresses = 192.0.2.255/32
"""


class SpawnServer(LoopbackServer):
    """spawn(8) in small: a TCP listener on host that runs argv for each
    connection, with the connection as its stdin and stdout and stderr
    appended to errlog."""

    def __init__(self, host, argv, errlog):
        self.argv = argv
        self.errlog = errlog
        self.procs = []
        super().__init__(host, 0, backlog=8)

    def accepted(self, conn):
        with open(self.errlog, "ab") as err:
            self.procs.append(subprocess.Popen(
                self.argv, stdin=conn.fileno(), stdout=conn.fileno(),
                stderr=err, close_fds=True))
        conn.close()

    def close(self):
        super().close()
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.fixture
def policyd_spf(instance, tmp_path):
    """nsd with ZONES on port 53 of a loopback address, and policyd-spf
    behind a SpawnServer, resolving there; yields the server's port."""
    from dnsserver import DNSServer
    if os.geteuid() != 0:
        pytest.skip("nsd on port 53 and a mount namespace need root")
    exe = tool("policyd-spf", "postfix-policyd-spf-python")
    unshare = tool("unshare", "util-linux")
    dns = DNSServer(ZONES, address=loopback_net() + "53", port=53)
    dns.start()
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver %s\n" % dns.address)
    conf = tmp_path / "policyd-spf.conf"
    conf.write_text(POLICYD_CONF)
    errlog = str(tmp_path / "policyd-spf.stderr")
    # A mount namespace of its own: /etc/resolv.conf is the test's there
    # and only there (private propagation: the machine's stays).
    argv = [unshare, "--mount", "--propagation", "private", "--",
            "/bin/sh", "-c",
            'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"',
            "sh", str(resolv), exe, str(conf)]
    server = SpawnServer("127.0.0.1", argv, errlog)
    yield server.port
    server.close()
    dns.stop()
    dns.cleanup()
    if os.path.exists(errlog):
        print("---- policyd-spf stderr ----")
        with open(errlog, errors="replace") as f:
            print(f.read())


def spf_smtpd(instance, owner, port):
    client = "127.0.0.%d" % (
        60 if instance.host != "127.0.0.60" else 61)
    smtpd = smtpd_setup(instance, owner, conf={
        "mynetworks": "127.0.0.1/32",
        "smtpd_recipient_restrictions":
            "reject_unauth_destination, "
            "check_policy_service inet:127.0.0.1:%d" % port,
    })
    return smtpd, client


def transaction(s, sender, rcpts, subject):
    """MAIL, each RCPT (250), DATA; the queue id."""
    s.expect("MAIL FROM:<%s>" % sender, 250)
    for rcpt in rcpts:
        s.expect("RCPT TO:<%s>" % rcpt, 250)
    s.expect("DATA", 354)
    s.send(b"Subject: " + subject.encode() + b"\r\n\r\nhi\r\n.\r\n")
    return queued_id(s.reply())


def test_spf_pass_fail_softfail(instance, mail_owner, policyd_spf):
    port, client = spf_smtpd(instance, mail_owner, policyd_spf)

    with Session(instance.host, port, source=client) as s:
        s.expect("EHLO " + HELO, 250)
        # Pass: accepted, with policyd-spf's Received-SPF header on top,
        # once for the transaction (its instance attribute) whatever the
        # number of recipients.
        qid = transaction(s, "alice@pass.spf.test",
                          [ROOT, "postmaster@" + MYHOSTNAME], "spf pass")
        # Fail: refused at RCPT with policyd-spf's own reply.
        s.expect("MAIL FROM:<mallory@fail.spf.test>", 250)
        r = s.cmd("RCPT TO:<%s>" % ROOT)
        assert r.code == 550, r
        assert re.fullmatch(
            r"5\.7\.23 <%s>: Recipient address rejected: Message rejected "
            r"due to: SPF fail - not authorized\. .*" % re.escape(ROOT),
            r.text), r
        s.expect("RSET", 250)
        # Softfail: accepted, marked.
        qid_soft = transaction(s, "bob@soft.spf.test", [ROOT],
                               "spf softfail")
        s.expect("QUIT", 221)

    for q, result, sender in ((qid, "Pass", "alice@pass.spf.test"),
                              (qid_soft, "Softfail", "bob@soft.spf.test")):
        lines = pancat(instance, q).decode().split("\r\n")
        assert re.fullmatch(
            r"Received-SPF: %s \(mailfrom\) identity=mailfrom; "
            r"client-ip=%s; helo=%s; envelope-from=%s; receiver=.*"
            % (result, re.escape(client), re.escape(HELO),
               re.escape(sender)), lines[0]), lines
        assert lines[1].startswith("Received: "), lines
        assert sum(x.startswith("Received-SPF:") for x in lines) == 1, lines
    instance.wait_log(
        r"NOQUEUE: reject: RCPT from %s: 550 5\.7\.23 <%s>: "
        r"Recipient address rejected: Message rejected due to: SPF fail - "
        r"not authorized\..*; from=<mallory@fail\.spf\.test> to=<%s> "
        r"proto=ESMTP helo=<%s>" % (peer_re(client), re.escape(ROOT),
                                    re.escape(ROOT), re.escape(HELO)))
