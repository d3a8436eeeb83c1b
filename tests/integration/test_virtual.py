"""test_virtual - the virtual delivery agent (local run as virtual, as
Postfix's virtual(8)) and pop3d's user@domain logins to its mailboxes.

One instance for the module: smtpd, qmgr, virtual as the shipped
services table runs it, pop3d with pop3session and auth.  Mail goes in
over SMTP and is read from the files under virtual_mailbox_base and
over POP3.  Tables (texthash, so no build step):
  alice@one.test   one.test/alice   mbox, uid U1 (per user)
  full@one.test    one.test/full    mbox, uid U1, near virtual_mailbox_limit
  bob@two.test     two.test/bob/    Maildir, uid U2 (per domain)
  @catch.test      catch.test/all/  Maildir catch-all, uid U2
  low@low.test     low.test/low     uid 5: below virtual_minimum_uid
gid: static: for all.  U1 and U2 are numeric ids of no account: virtual
needs none, as in Postfix.
"""

import os
import poplib
import pwd
import re
import shutil
import smtplib
import tempfile

import pytest

import panacea_test
import procfs
from panacea_test import Instance, scaled
from pop3_helpers import PopClient, pop3_services
from smtp_helpers import base_conf, make_sasldb, mail_owner  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="virtual switches to mapped uids")

LIMIT = 20000
PASSWORD = "alice's virtual secret"


def free_id(start):
    """A numeric uid (and gid) that no account or group has."""
    import grp
    n = start
    while True:
        try:
            pwd.getpwuid(n)
        except KeyError:
            try:
                grp.getgrgid(n)
            except KeyError:
                return n
        n += 1


class Rig:
    def __init__(self, inst, base, smtp_port, open_port, pop_port, u1, u2,
                 gid):
        self.inst = inst
        self.base = base
        self.smtp_port = smtp_port
        self.open_port = open_port  # no unlisted-recipient check
        self.pop_port = pop_port
        self.u1, self.u2, self.gid = u1, u2, gid

    def send(self, rcpts, subject, sender="sender@example.org", size=0,
             port=None):
        body = ("From: <sender@example.org>\r\nSubject: %s\r\n"
                "Message-ID: <%s@client.test>\r\n\r\nHello, virtual.\r\n"
                "From the start of a line.\r\n%s" %
                (subject, subject, "x" * size + "\r\n" if size else ""))
        with smtplib.SMTP(self.inst.host, port or self.smtp_port,
                          timeout=scaled(30)) as s:
            s.ehlo("client.test")
            code, text = s.mail(sender)
            assert code == 250, text
            for r in rcpts:
                code, text = s.rcpt(r)
                assert code == 250, (r, code, text)
            code, text = s.data(body.encode())
            assert code == 250, text
        m = re.search(rb"queued as ([0-9A-Z]+)", text)
        return m.group(1).decode()

    def status(self, qid, rcpt):
        """virtual's log line of rcpt in qid: (dsn, status, text)."""
        m = self.inst.wait_log(
            r"virtual\[\d+\]: %s: to=<%s>, relay=virtual, .*dsn=(\S+), "
            r"status=(\w+) \((.*)\)\n" % (qid, re.escape(rcpt)))
        return m.group(1), m.group(2), m.group(3)

    def path(self, rel):
        return os.path.join(self.base, rel)


@pytest.fixture(scope="module")
def rig(tmp_path_factory, mail_owner):  # noqa: F811
    inst = Instance(tmp_path_factory.mktemp("virtual") / "panacea")
    # The mapped uids must reach their mailboxes: not pytest's 0700
    # folder.
    base = tempfile.mkdtemp(prefix="panacea-virtual-")
    os.chmod(base, 0o755)
    u1 = free_id(47001)
    u2 = free_id(u1 + 1)
    gid = free_id(u2 + 1)
    for domain, uid in (("one.test", u1), ("two.test", u2),
                        ("catch.test", u2), ("low.test", u2),
                        ("new.test", u2)):
        os.mkdir(os.path.join(base, domain), 0o755)
        os.chown(os.path.join(base, domain), uid, gid)
    # Nearly at the limit: the next message does not fit.
    full = os.path.join(base, "one.test", "full")
    with open(full, "w") as f:
        f.write("From old@example.org Thu Jan  1 00:00:00 2026\n\n" +
                "y" * (LIMIT - 600) + "\n\n")
    os.chown(full, u1, gid)
    os.chmod(full, 0o600)
    cfg = inst.config_dir
    with open(os.path.join(cfg, "vmailbox"), "w") as f:
        f.write("alice@one.test one.test/alice\n"
                "full@one.test one.test/full\n"
                "locked@one.test one.test/locked\n"
                "carl@new.test new.test/sub/carl/\n"
                "dan@new.test new.test/deep/dan\n"
                "bob@two.test two.test/bob/\n"
                "@catch.test catch.test/all/\n"
                "low@low.test low.test/low\n")
    with open(os.path.join(cfg, "vuid"), "w") as f:
        f.write("alice@one.test %d\nfull@one.test %d\nlocked@one.test %d\n"
                "@two.test %d\n@catch.test %d\nlow@low.test 5\n@new.test %d\n" %
                (u1, u1, u1, u2, u2, u2))
    sasldb = make_sasldb(os.path.join(inst.base, "sasldb2"),
                         {"alice": PASSWORD}, realm="one.test")
    smtp_port, open_port, pop_port = inst.ports(3)
    inst.conf.update(base_conf(mail_owner))
    inst.conf.update({
        "virtual_mailbox_domains": "one.test, two.test, catch.test, "
                                   "low.test, new.test",
        "virtual_mailbox_base": base,
        # Through proxymap, as SQL and LDAP tables should be (man
        # virtual): smtpd, virtual and pop3session ask it.
        "virtual_mailbox_maps": "proxy:texthash:" +
                                os.path.join(cfg, "vmailbox"),
        "virtual_uid_maps": "texthash:" + os.path.join(cfg, "vuid"),
        "virtual_gid_maps": "static:%d" % gid,
        "virtual_mailbox_limit": str(LIMIT),
        "recipient_delimiter": "+",
        # A held lock defers after one try (test_dotlock_honoured).
        "deliver_lock_attempts": "1",
        "deliver_lock_delay": "1s",
        "sasldb_path": sasldb,
        "minimal_backoff_time": "300s",
        "maximal_backoff_time": "600s",
        "pop3d_auth_failure_delay": "0s",
        "pop3d_apop_enable": "yes",
    })
    inst.services = [
        Instance.shipped("smtp", "inet", smtp_port, chroot="y"),
        Instance.shipped("smtp", "inet", open_port, chroot="y",
                         args="-o smtpd_reject_unlisted_recipient=no"),
        Instance.shipped("qmgr", chroot="y"),
        Instance.shipped("virtual"),
        Instance.shipped("proxymap"),
    ] + pop3_services(pop_port)
    inst.write()
    inst.start()
    inst.wait_port(smtp_port)
    inst.wait_port(pop_port)
    try:
        yield Rig(inst, base, smtp_port, open_port, pop_port, u1, u2, gid)
    finally:
        report = inst.finish()
        shutil.rmtree(base, ignore_errors=True)
    if report:
        pytest.fail("sanitizer report: %s" % report)


def maildir_files(path):
    new = os.path.join(path, "new")
    return [os.path.join(new, n) for n in sorted(os.listdir(new))]


def test_two_domains_mbox_and_maildir(rig):
    """One message to a user of each domain: an mbox under
    virtual_mailbox_base owned by the first user's mapped uid, a Maildir
    owned by the second's, each with the envelope headers."""
    qid = rig.send(["alice@one.test", "bob@two.test"], "two-domains")
    for r in ("alice@one.test", "bob@two.test"):
        dsn, status, text = rig.status(qid, r)
        assert (dsn, status) == ("2.0.0", "sent"), text
    mbox = rig.path("one.test/alice")
    st = os.stat(mbox)
    assert (st.st_uid, st.st_gid) == (rig.u1, rig.gid)
    assert st.st_mode & 0o777 == 0o600
    data = open(mbox, "rb").read()
    assert data.startswith(b"From sender@example.org ")
    assert b"Delivered-To: alice@one.test\n" in data
    assert b"\n>From the start of a line." in data
    assert not os.path.exists(mbox + ".lock")
    files = maildir_files(rig.path("two.test/bob"))
    assert len(files) == 1
    assert os.stat(files[0]).st_uid == rig.u2
    assert os.stat(rig.path("two.test/bob")).st_uid == rig.u2
    body = open(files[0], "rb").read()
    assert b"Delivered-To: bob@two.test\n" in body
    assert b"Subject: two-domains" in body


def test_catch_all(rig):
    """@catch.test takes every user of the domain, with the extension
    kept in Delivered-To."""
    qid = rig.send(["anyone@catch.test", "Other+tag@Catch.Test"], "catch")
    assert rig.status(qid, "anyone@catch.test")[:2] == ("2.0.0", "sent")
    assert rig.status(qid, "Other+tag@Catch.Test")[:2] == ("2.0.0", "sent")
    files = maildir_files(rig.path("catch.test/all"))
    assert len(files) == 2
    assert all(os.stat(f).st_uid == rig.u2 for f in files)


def test_missing_folders_made_by_the_user(rig):
    """The folders above a mailbox that are missing (below one the
    recipient may write: the domain's) are made by the recipient's uid
    (0700), for a Maildir and an mbox."""
    qid = rig.send(["carl@new.test", "dan@new.test"], "new-folders")
    for r in ("carl@new.test", "dan@new.test"):
        dsn, status, text = rig.status(qid, r)
        assert (dsn, status) == ("2.0.0", "sent"), text
    for rel in ("new.test/sub", "new.test/sub/carl", "new.test/deep"):
        st = os.stat(rig.path(rel))
        assert (st.st_uid, st.st_mode & 0o777) == (rig.u2, 0o700), rel
    assert len(maildir_files(rig.path("new.test/sub/carl"))) == 1
    assert os.stat(rig.path("new.test/deep/dan")).st_uid == rig.u2


def test_unknown_user_refused_at_rcpt(rig):
    """smtpd knows the users of virtual_mailbox_maps: an unknown one is
    refused at RCPT (unknown_virtual_mailbox_reject_code), a catch-all
    domain takes anyone, an extension finds its user."""
    with smtplib.SMTP(rig.inst.host, rig.smtp_port,
                      timeout=scaled(30)) as s:
        s.ehlo("client.test")
        assert s.mail("sender@example.org")[0] == 250
        code, text = s.rcpt("nobody@one.test")
        assert code == 550, text
        assert text == (b"5.1.1 <nobody@one.test>: Recipient address "
                        b"rejected: User unknown in virtual mailbox table")
        assert s.rcpt("alice+box@one.test")[0] == 250
        assert s.rcpt("whoever@catch.test")[0] == 250
        s.rset()


def test_unknown_user_bounces(rig):
    """An address the tables do not know that got past smtpd (no
    unlisted-recipient check there) bounces at delivery (5.1.1)."""
    qid = rig.send(["nobody@one.test"], "unknown", sender="",
                   port=rig.open_port)
    dsn, status, text = rig.status(qid, "nobody@one.test")
    assert (dsn, status) == ("5.1.1", "bounced")
    assert 'unknown user: "nobody@one.test"' in text


def test_minimum_uid_defers(rig):
    """A uid below virtual_minimum_uid is a configuration error: the mail
    waits (4.3.5) and nothing is written."""
    qid = rig.send(["low@low.test"], "low-uid")
    dsn, status, text = rig.status(qid, "low@low.test")
    assert (dsn, status, text) == ("4.3.5", "deferred",
                                   "mail system configuration error")
    assert not os.path.exists(rig.path("low.test/low"))
    assert re.search(r"recipient low@low\.test: uid 5 is below "
                     r"virtual_minimum_uid", rig.inst.log())


def test_mailbox_limit(rig):
    """A message that would take the mbox past virtual_mailbox_limit
    bounces (5.2.2) and the mailbox is left as it was."""
    before = open(rig.path("one.test/full"), "rb").read()
    qid = rig.send(["full@one.test"], "too-much", sender="", size=800)
    dsn, status, text = rig.status(qid, "full@one.test")
    assert (dsn, status) == ("5.2.2", "bounced"), text
    assert "mailbox size limit (%d bytes) exceeded" % LIMIT in text
    assert open(rig.path("one.test/full"), "rb").read() == before


def test_dotlock_honoured(rig):
    """virtual_mailbox_lock's default takes PATH.lock: a lock that a live
    process of this host holds (mutt, a POP3 session) is waited for and
    then defers the mail (4.2.0), never overridden."""
    import socket
    lock = rig.path("one.test/locked.lock")
    with open(lock, "w") as f:
        f.write("%d %s\n" % (os.getpid(), socket.gethostname()))
    os.chmod(lock, 0o644)
    try:
        qid = rig.send(["locked@one.test"], "locked")
        dsn, status, text = rig.status(qid, "locked@one.test")
        assert (dsn, status) == ("4.2.0", "deferred"), text
        assert "unable to lock" in text
        assert os.path.exists(lock)
        assert not os.path.exists(rig.path("one.test/locked"))
    finally:
        os.unlink(lock)


def test_delivery_runs_as_mapped_uid(rig):
    """/proc: the process that writes alice's mailbox is a child of
    virtual with the mapped uid in every slot (real, effective, saved,
    fs) and the mapped gid as its only group: not root, not
    mail_owner."""
    qid = rig.send(["alice@one.test"], "proc")
    assert rig.status(qid, "alice@one.test")[:2] == ("2.0.0", "sent")
    owner = pwd.getpwnam(rig.inst.conf["mail_owner"]).pw_uid
    agents = [p for p in rig.inst.children() if procfs.comm(p) == "virtual"]
    assert agents
    workers = []
    for a in agents:
        # The agent itself keeps root to switch, as local does.
        assert procfs.uids(a) == [0] * 4
        workers += [w for w in panacea_test.children_of(a)
                    if procfs.uids(w)[0] == rig.u1]
    assert workers, "no worker with uid %d" % rig.u1
    for w in workers:
        assert procfs.uids(w) == [rig.u1] * 4
        assert procfs.gids(w) == [rig.gid] * 4
        assert procfs.groups(w) == [rig.gid]
        assert rig.u1 not in (0, owner)


def test_pop3_login_user_at_domain(rig):
    """alice@one.test logs in to pop3d with the sasldb password of user
    alice in realm one.test and reads the mbox virtual wrote."""
    qid = rig.send(["alice@one.test"], "pop-me")
    assert rig.status(qid, "alice@one.test")[:2] == ("2.0.0", "sent")
    with PopClient(rig.inst.host, rig.pop_port) as c:
        r = c.login("alice@one.test", PASSWORD)
        assert r.startswith("+OK Logged in")
        n = int(c.cmd("STAT").split()[1])
        assert n >= 1
        assert c.cmd("RETR %d" % n).startswith("+OK")
        assert b"Subject: pop-me\r\n" in c.multi()
        assert c.cmd("QUIT").startswith("+OK")
    assert re.search(r"Login: user=<alice@one\.test>", rig.inst.log())
    with PopClient(rig.inst.host, rig.pop_port) as c:
        assert c.cmd("USER alice@one.test").startswith("+OK")
        assert c.cmd("PASS wrong").startswith("-ERR [AUTH]")


def test_pop3_apop_user_at_domain(rig):
    """APOP with alice@one.test: the digest is checked against the
    sasldb password of alice in realm one.test (SASL mechanisms get the
    realm from libsasl2; APOP reads the sasldb itself)."""
    p = poplib.POP3(rig.inst.host, rig.pop_port, timeout=scaled(20))
    try:
        p.apop("alice@one.test", PASSWORD)
        assert p.stat()[0] >= 1
        p.quit()
    finally:
        p.close()
    p = poplib.POP3(rig.inst.host, rig.pop_port, timeout=scaled(20))
    try:
        with pytest.raises(poplib.error_proto, match=r"\[AUTH\]"):
            p.apop("alice@two.test", PASSWORD)
    finally:
        p.close()
    rig.inst.wait_log(r"Login: user=<alice@one\.test>, method=APOP")
