"""The tools administrators run over a mail log, on Panacea's log: Debian's
fail2ban (fail2ban-regex with contrib/fail2ban's filters, built on its
stock postfix and dovecot filters); pflogsumm is test_pflogsumm's.

One instance (pop3_helpers.PopRig: smtpd with SMTP AUTH, qmgr, local,
pop3d, pop3session, auth) serves real sessions from distinct loopback
addresses: each bad client does one kind of thing fail2ban must catch,
the good client (127.0.0.1) does everything right.  The log it wrote is
then given to the tools, and what they report is compared with what the
test did.  Needs root, as local and pop3d do.
"""

import base64
import collections
import os
import re
import shutil
import subprocess

import pytest

import panacea_test
from panacea_test import scaled, unless_built
from pop3_helpers import (PopRig, mail_owner, pop_accounts,  # noqa: F401
                          tls_files)
from smtp_helpers import Session

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="pop3d needs root"),
    unless_built("master", "smtpd", "qmgr", "local", "pop3d", "pop3session",
                 "auth"),
]

CONTRIB = os.path.join(os.path.dirname(__file__), "..", "..", "contrib",
                       "fail2ban")


def b64(data):
    return base64.b64encode(data).decode()


def filters(tmp_path):
    """A copy of Debian's filter.d with Panacea's filters added: they
    include postfix.conf and dovecot.conf from their own directory, as
    they will in /etc/fail2ban/filter.d."""
    d = tmp_path / "filter.d"
    shutil.copytree("/etc/fail2ban/filter.d", d)
    for name in ("panacea-smtpd.conf", "panacea-pop3d.conf"):
        shutil.copy(os.path.join(CONTRIB, "filter.d", name), d / name)
    return d


def banned(log, filt):
    """The address of every line fail2ban-regex matches, counted."""
    r = subprocess.run([panacea_test.tool("fail2ban-regex"), "-o", "ip",
                        str(log), str(filt)], capture_output=True,
                       text=True, timeout=scaled(120))
    assert r.returncode == 0, r.stderr
    return collections.Counter(line.strip() for line in r.stdout.splitlines()
                               if line.strip())


@pytest.fixture
def rig(instance, mail_owner, pop_accounts, tls_files):  # noqa: F811
    rig = PopRig(instance, mail_owner, pop_accounts, tls_files,
                 conf={"smtpd_sasl_auth_enable": "yes",
                       "mynetworks": "127.0.0.1/32"})
    rig.start()
    return rig


def test_fail2ban_filters(rig, tmp_path):
    inst = rig.inst
    pea, pw = rig.name("pea"), rig.password("pea")
    bad = {k: "127.0.0.%d" % n for k, n in
           (("smtp_auth", 211), ("relay", 212), ("user", 213),
            ("pop_user", 214), ("pop_sasl", 215), ("pop_many", 216))}
    # SMTP: failed AUTH (twice), a relay attempt, an unknown user.
    with Session(inst.host, rig.smtp_port, source=bad["smtp_auth"]) as s:
        s.expect("EHLO client.test", 250)
        s.expect("AUTH PLAIN " + b64(b"\0%s\0wrong" % pea.encode()), 535)
        s.expect("AUTH PLAIN " + b64(b"\0ghost\0wrong"), 535)
        s.expect("QUIT", 221)
    with Session(inst.host, rig.smtp_port, source=bad["relay"]) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<a@example.org>", 250)
        s.expect("RCPT TO:<someone@elsewhere.example>", 454)
        s.expect("QUIT", 221)
    with Session(inst.host, rig.smtp_port, source=bad["user"]) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<a@example.org>", 250)
        s.expect("RCPT TO:<nobody-here@%s>" % rig.inst.conf["myhostname"],
                 550)
        s.expect("QUIT", 221)
    # POP3: a wrong password (QUIT), a wrong SASL login (hang up), the
    # failure limit reached.
    with rig.client(source=bad["pop_user"]) as c:
        assert c.cmd("USER " + pea) == "+OK"
        assert c.cmd("PASS wrong").startswith("-ERR [AUTH]")
        assert c.cmd("QUIT").startswith("+OK")
    with rig.client(source=bad["pop_sasl"]) as c:
        assert c.cmd("AUTH PLAIN " + b64(b"\0ghost\0x")).startswith("-ERR")
    with rig.client(source=bad["pop_many"]) as c:
        for _ in range(3):
            assert c.cmd("USER " + pea) == "+OK"
            assert c.cmd("PASS wrong").startswith("-ERR [AUTH]")
        assert c.eof()
    # The good client: authenticated submission, then its POP3 session.
    with Session(inst.host, rig.smtp_port) as s:
        s.expect("EHLO client.test", 250)
        s.expect("AUTH PLAIN " + b64(b"\0%s\0%s" % (pea.encode(),
                                                   pw.encode())), 235)
        s.expect("MAIL FROM:<a@example.org>", 250)
        s.expect("RCPT TO:<%s@%s>" % (pea, rig.inst.conf["myhostname"]),
                 250)
        s.expect("DATA", 354)
        s.send(b"Subject: good\r\n\r\nhello\r\n.\r\n")
        assert s.reply().code == 250
        s.expect("QUIT", 221)
    with rig.client() as c:
        assert c.cmd("QUIT").startswith("+OK")
    with rig.client() as c:
        c.login(pea, pw)
        assert c.cmd("QUIT").startswith("+OK")
    inst.wait_log(r"Aborted login \(no auth attempts")
    inst.wait_log(r"pop3d\[\d+\]: Disconnected: Too many authentication "
                  r"failures \(auth failed, 3 attempts in \d+ secs\): "
                  r"user=<%s>, method=PLAIN, rip=127\.0\.0\.216, " % pea)
    inst.wait_log(r"Login: user=<%s>, method=PLAIN, rip=127\.0\.0\.1, "
                  r"lip=%s, mpid=" % (pea, re.escape(inst.host)))
    log = tmp_path / "mail.log"
    log.write_text(inst.log())
    d = filters(tmp_path)
    assert banned(log, d / "panacea-smtpd.conf") == collections.Counter({
        bad["smtp_auth"]: 2, bad["relay"]: 1, bad["user"]: 1})
    # One line per POP3 connection, as Dovecot's.
    assert banned(log, d / "panacea-pop3d.conf") == collections.Counter({
        bad["pop_user"]: 1, bad["pop_sasl"]: 1, bad["pop_many"]: 1})
    # Fail2ban's stock dovecot filter with the tag given in the jail
    # (contrib/fail2ban/filter.d/panacea-pop3d.conf says how) does the
    # same: people's existing POP3 jails work.
    r = subprocess.run([panacea_test.tool("fail2ban-regex"), "-o", "ip",
                        str(log),
                        str(d / "dovecot.conf") +
                        '[_daemon="panacea(?:-\\w+)?(?:/\\w+)*/pop3d"]'],
                       capture_output=True, text=True, timeout=scaled(120))
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.split()) == sorted(
        [bad["pop_user"], bad["pop_sasl"], bad["pop_many"]])
