"""test_lmtp - the lmtp transport (smtp(8) run as lmtp, RFC 2033) against
a real Dovecot LMTP server (dovecot_lmtp.py).

One Panacea instance and one Dovecot for the module (Dovecot takes most
of a second to start): smtpd, qmgr, local and lmtp as the shipped
services table runs them (chrooted and unprivileged as root), lmtp with
maxproc 1 so that a kept session is seen by the next message.  Mail goes
in over SMTP and is read back from Dovecot's mailboxes, through
Dovecot's own doveadm.  Routes:
  unix.test   transport_maps: lmtp:unix:private/dovecot-lmtp (Dovecot's
              socket in Panacea's private/ folder, as Postfix sites do)
  inet.test   transport_maps: lmtp:inet:HOST:PORT (Dovecot's TCP port)
  down.test   transport_maps: lmtp:inet: a port nothing listens on
  gone.test   transport_maps: lmtp:unix: a socket that is not there
  peer.test   transport_maps: a scripted LMTP server (smtp_peer.py) for
              replies Dovecot does not give (a 4xx after the dot, a
              connection lost between two replies)
  virt.test   virtual_mailbox_domains, virtual_transport = lmtp:inet:...
  panacea.test (mydestination): local, whose mailbox_transport hands the
              mailbox delivery to lmtp:unix:private/dovecot-lmtp
"""

import os
import pwd
import re
import shutil
import smtplib
import subprocess
import tempfile

import pytest

import panacea_test
import procfs
from dovecot_lmtp import DovecotLmtp
from panacea_test import Instance, scaled, wait_until
from smtp_helpers import base_conf, mail_owner  # noqa: F401
from smtp_peer import Peer

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="Dovecot switches to its users")

MYHOSTNAME = "panacea.test"
USERS = ("alice", "bob", "carol", "dave", "erin", "frank", "gina", "hank",
         "ivy", "full")
SOCKET = "private/dovecot-lmtp"


class Rig:
    def __init__(self, inst, dovecot, port, mx_port, peer):
        self.inst = inst
        self.dovecot = dovecot
        self.peer = peer
        self.port = port
        self.mx_port = mx_port  # smtpd for strangers (mynetworks off)

    def send(self, rcpts, subject, sender="sender@inet.test", port=None):
        """One message over SMTP (to port, else the trusted smtpd's);
        every recipient accepted.  Returns the queue id."""
        body = ("From: <%s>\r\nTo: undisclosed-recipients:;\r\n"
                "Subject: %s\r\nMessage-ID: <%s@client.test>\r\n\r\n"
                "Hello over LMTP.\r\n.dot-stuffed line\r\n" %
                (sender, subject, subject))
        with smtplib.SMTP(self.inst.host, port or self.port,
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
        assert m, text
        return m.group(1).decode()

    def status(self, qid, rcpt, timeout=20):
        """The lmtp agent's log line of rcpt in qid (waits for it)."""
        m = self.inst.wait_log(
            r"lmtp\[\d+\]: %s: to=<%s>, (.*)\n" % (qid, re.escape(rcpt)),
            timeout=timeout)
        return m.group(1)


@pytest.fixture(scope="module")
def rig(tmp_path_factory, mail_owner):  # noqa: F811
    panacea_test.tool("dovecot-lmtp")
    base = tmp_path_factory.mktemp("lmtp")
    inst = Instance(base / "panacea")
    # Dovecot's users need to reach their homes: a folder others may
    # traverse, not pytest's private one.
    dovecot_dir = tempfile.mkdtemp(prefix="panacea-lmtp-dovecot-")
    os.chmod(dovecot_dir, 0o755)
    vmail = pwd.getpwnam(panacea_test.ensure_mail_only_owner())
    dovecot = DovecotLmtp(dovecot_dir, USERS, vmail,
                          os.path.join(inst.queue_dir, SOCKET), mail_owner,
                          full=("full",))
    down = panacea_test.free_port(dovecot.host)
    peer = Peer(dovecot.host, port=panacea_test.free_port(dovecot.host),
                name="lmtp.peer.test")
    peer.lmtp_replies = []
    transport = os.path.join(inst.config_dir, "transport")
    with open(transport, "w") as f:
        f.write("unix.test lmtp:unix:%s\n" % SOCKET)
        f.write("inet.test lmtp:inet:%s:%d\n" % (dovecot.host, dovecot.port))
        f.write("down.test lmtp:inet:[%s]:%d\n" % (dovecot.host, down))
        f.write("gone.test lmtp:unix:private/no-such-lmtp\n")
        f.write("peer.test lmtp:inet:[%s]:%d\n" % (peer.address, peer.port))
    aliases = os.path.join(inst.config_dir, "aliases")
    with open(aliases, "w") as f:
        f.write("team: frank, gina\n")
    port, mx_port = inst.ports(2)
    inst.conf.update(base_conf(mail_owner))
    inst.conf.update({
        "local_recipient_maps": "",
        "alias_maps": "hash:" + aliases,
        "mailbox_transport": "lmtp:unix:" + SOCKET,
        "transport_maps": "texthash:" + transport,
        "virtual_mailbox_domains": "virt.test",
        "virtual_transport": "lmtp:inet:%s:%d" % (dovecot.host,
                                                  dovecot.port),
        "minimal_backoff_time": "300s",
        "maximal_backoff_time": "600s",
        "lmtp_connection_cache_time_limit": "10s",
    })
    inst.services = [
        Instance.shipped("smtp", "inet", port, chroot="y"),
        # As the Internet sees the host: loopback is no trusted network.
        Instance.shipped("smtp", "inet", mx_port, chroot="y",
                         args="-o mynetworks=192.0.2.0/24"),
        Instance.shipped("qmgr", chroot="y"),
        Instance.shipped("local"),
        Instance.shipped("lmtp", maxproc=1),
    ]
    inst.write()
    r = subprocess.run([panacea_test.program("sendmail"), "-bi"],
                       capture_output=True, text=True, timeout=scaled(30),
                       env=dict(os.environ, MAIL_CONFIG=inst.config_dir))
    assert r.returncode == 0, r.stderr
    inst.start()
    inst.wait_port(port)
    try:
        dovecot.start()
        yield Rig(inst, dovecot, port, mx_port, peer)
    finally:
        peer.close()
        dovecot.stop()
        report = inst.finish()
        shutil.rmtree(dovecot_dir, ignore_errors=True)
    if report:
        pytest.fail("sanitizer report: %s" % report)


def test_unix_socket(rig):
    """transport_maps lmtp:unix:private/dovecot-lmtp: the message lands
    in Dovecot's mailbox, as sent, and Dovecot reads it; the log names
    the socket as the relay, as Postfix's lmtp does."""
    qid = rig.send(["alice@unix.test"], "unix-socket")
    line = rig.status(qid, "alice@unix.test")
    assert re.match(r"relay=panacea\.test\[private/dovecot-lmtp\], "
                    r".*dsn=2\.0\.0, status=sent \(250 2\.0\.0 ", line), line
    rig.dovecot.wait_messages("alice", 1)
    text = rig.dovecot.fetch("alice")
    assert b"Subject: unix-socket" in text
    # Dot-stuffing undone by Dovecot: the line is as the client wrote it.
    assert b"\n.dot-stuffed line" in text
    assert b"Received: from client.test" in text


def test_per_recipient_status(rig):
    """One message, three recipients in one LMTP transaction: Dovecot
    answers each after the final dot; the two it knows are delivered,
    the unknown one bounces (5.1.1) on its own, and the bounce reaches
    the sender (through LMTP too)."""
    qid = rig.send(["bob@inet.test", "ghost@inet.test", "carol@inet.test"],
                   "per-rcpt", sender="dave@unix.test")
    relay = r"relay=%s\[%s\]:%d, " % (re.escape(rig.dovecot.host),
                                     re.escape(rig.dovecot.host),
                                     rig.dovecot.port)
    for r in ("bob", "carol"):
        line = rig.status(qid, r + "@inet.test")
        assert re.match(relay + r".*status=sent \(250 2\.0\.0 ", line), line
    line = rig.status(qid, "ghost@inet.test")
    assert re.match(relay + r".*dsn=5\.1\.1, status=bounced \(host .* "
                    r"said: 550 5\.1\.1 .*\(in reply to end of DATA "
                    r"command\)\)", line) or \
        re.match(relay + r".*dsn=5\.1\.1, status=bounced .*\(in reply to "
                 r"RCPT TO command\)\)", line), line
    for r in ("bob", "carol"):
        assert b"Subject: per-rcpt" in rig.dovecot.wait_messages(r, 1)[0]
    # One LMTP transaction: Dovecot logs both saves under one session
    # (its id, then ":R2", ":R3"... for the later recipients).
    sessions = dict(re.findall(r"lmtp\((bob|carol)\)<\d+><([^>:]+)[^>]*>: "
                               r"Info: msgid=<per-rcpt@", rig.dovecot.log()))
    assert sessions["bob"] == sessions["carol"], sessions
    bounce = rig.dovecot.wait_messages("dave", 1)[0]
    assert b"ghost@inet.test" in bounce
    rig.inst.wait_log(r"qmgr\[\d+\]: %s: removed" % qid)


def test_after_dot_per_recipient(rig):
    """Dovecot takes both recipients at RCPT, then refuses the copy of a
    user over quota after the final dot (552 5.2.2) while it saves the
    other: one reply each, decided apart (RFC 2033's reason to be)."""
    qid = rig.send(["hank@inet.test", "full@inet.test"], "after-dot")
    line = rig.status(qid, "hank@inet.test")
    assert "status=sent (250 2.0.0 " in line, line
    line = rig.status(qid, "full@inet.test")
    assert re.search(r"dsn=5\.2\.2, status=bounced \(host \S+ said: "
                     r"552 5\.2\.2 .*\(in reply to end of DATA command\)\)",
                     line), line
    assert b"Subject: after-dot" in rig.dovecot.wait_messages("hank", 1)[0]
    assert rig.dovecot.messages("full") == []


def test_three_results_one_transaction(rig):
    """One transaction, three answers after the dot: delivered, deferred
    (452) and bounced (550), each recipient on its own."""
    rig.peer.lmtp_replies = ["250 2.0.0 <a@peer.test> saved",
                             "452 4.2.2 <b@peer.test> mailbox full",
                             "550 5.1.1 <c@peer.test> no such user"]
    qid = rig.send(["a@peer.test", "b@peer.test", "c@peer.test"], "three")
    assert "status=sent (250 2.0.0 <a@peer.test> saved)" in \
        rig.status(qid, "a@peer.test")
    line = rig.status(qid, "b@peer.test")
    assert re.search(r"dsn=4\.2\.2, status=deferred \(host \S+ said: 452 "
                     r"4\.2\.2 .*\(in reply to end of DATA command\)\)",
                     line), line
    line = rig.status(qid, "c@peer.test")
    assert re.search(r"dsn=5\.1\.1, status=bounced \(host \S+ said: 550 "
                     r"5\.1\.1 .*\(in reply to end of DATA command\)\)",
                     line), line
    session = rig.peer.sessions[-1]["commands"]
    assert session[0].startswith("LHLO ") and len(
        [c for c in session if c.startswith("DATA")]) == 1, session


def test_lost_between_replies(rig):
    """The connection drops after the first reply: that recipient is
    delivered, the others are deferred (the message may reach them
    twice), none bounced."""
    rig.peer.lmtp_replies = ["250 2.0.0 <d@peer.test> saved", None]
    qid = rig.send(["d@peer.test", "e@peer.test", "f@peer.test"], "lost")
    assert "status=sent" in rig.status(qid, "d@peer.test")
    for r in ("e@peer.test", "f@peer.test"):
        line = rig.status(qid, r)
        assert re.search(r"status=deferred \(lost connection with \S+ "
                         r"while sending end of data -- message may be "
                         r"sent more than once\)", line), line


def test_down_defers(rig):
    """No LMTP server behind the next hop (a TCP port, a socket path):
    the recipient is deferred with the connection's failure, never
    bounced, and stays queued."""
    qid = rig.send(["erin@down.test"], "down")
    line = rig.status(qid, "erin@down.test")
    assert re.search(r"dsn=4\.4\.1, status=deferred \(connect to "
                     r".*Connection refused\)", line), line
    gone = rig.send(["erin@gone.test"], "gone")
    line = rig.status(gone, "erin@gone.test")
    assert re.search(r"relay=none, .*dsn=4\.4\.1, status=deferred \("
                     r"connect to private/no-such-lmtp: No such file", line), \
        line
    for q in (qid, gone):
        assert not rig.inst.log_count(r"%s: to=.*status=bounced" % q)
        assert not rig.inst.log_count(r"%s: removed" % q)


def test_mailbox_transport(rig):
    """A local recipient: local hands its mailbox delivery to
    mailbox_transport (Postfix's local does), the lmtp agent delivers
    and logs it, and local logs nothing of its own for it."""
    qid = rig.send(["frank@" + MYHOSTNAME], "mailbox-transport")
    line = rig.status(qid, "frank@" + MYHOSTNAME)
    assert re.match(r"relay=panacea\.test\[private/dovecot-lmtp\], .*"
                    r"status=sent \(250 2\.0\.0 ", line), line
    msgs = rig.dovecot.wait_messages("frank", 1)
    assert b"Subject: mailbox-transport" in msgs[0]
    rig.inst.wait_log(r"qmgr\[\d+\]: %s: removed" % qid)
    assert not rig.inst.log_count(r"local\[\d+\]: %s: to=" % qid)


def test_mailbox_transport_alias(rig):
    """An alias list of local users: local expands it and hands each
    member's mailbox delivery to the transport; lmtp logs each with the
    alias as orig_to."""
    before = [len(rig.dovecot.messages(u)) for u in ("frank", "gina")]
    qid = rig.send(["team@" + MYHOSTNAME], "alias-list")
    for user, n in zip(("frank", "gina"), before):
        line = rig.status(qid, "%s@%s" % (user, MYHOSTNAME))
        assert re.match(r"orig_to=<team@panacea\.test>, relay=panacea\.test"
                        r"\[private/dovecot-lmtp\], .*status=sent", line), \
            line
        msgs = rig.dovecot.wait_messages(user, n + 1)
        assert any(b"Subject: alias-list" in m for m in msgs)
    rig.inst.wait_log(r"qmgr\[\d+\]: %s: removed" % qid)


def test_virtual_transport(rig):
    """A virtual mailbox domain is ours: smtpd takes it from any client
    (a domain of transport_maps alone is relaying, refused), and qmgr
    routes it to virtual_transport."""
    with smtplib.SMTP(rig.inst.host, rig.mx_port, timeout=scaled(30)) as s:
        s.ehlo("stranger.test")
        assert s.mail("someone@stranger.test")[0] == 250
        code, text = s.rcpt("gina@inet.test")
        assert code in (454, 554) and b"Relay access denied" in text, \
            (code, text)
    qid = rig.send(["ivy@virt.test"], "virtual-transport",
                   sender="someone@stranger.test", port=rig.mx_port)
    line = rig.status(qid, "ivy@virt.test")
    assert "status=sent" in line, line
    assert b"Subject: virtual-transport" in \
        rig.dovecot.wait_messages("ivy", 1)[0]


def test_session_reuse(rig):
    """Two messages one after the other to the same next hop: the second
    goes over the session the first left open (RSET, no new LHLO), so
    Dovecot sees one connection."""
    def connects():
        # TCP connections ("Connect from local" is the socket's).
        return rig.dovecot.log_count(r"lmtp\(\d+\): Info: Connect from "
                                     r"\d")

    # A delivery over the socket first: the kept TCP session, if any,
    # ends (one kept session per process), so the next one is new.
    rig.status(rig.send(["alice@unix.test"], "reuse-0"), "alice@unix.test")
    before = connects()
    q1 = rig.send(["alice@inet.test"], "reuse-1")
    rig.status(q1, "alice@inet.test")
    q2 = rig.send(["alice@inet.test"], "reuse-2")
    assert "status=sent" in rig.status(q2, "alice@inet.test")
    wait_until(lambda: connects() > before, timeout=10,
               what="Dovecot's connect line")
    assert connects() == before + 1, rig.dovecot.log()[-2000:]


def test_privileges(rig):
    """/proc: the lmtp process runs as mail_owner in every uid and gid,
    jailed in queue_directory (DESIGN.md, its row and rule 3: the
    untrusted LMTP server talks only to it)."""
    qid = rig.send(["alice@unix.test"], "privileges")
    rig.status(qid, "alice@unix.test")
    pids = [p for p in rig.inst.children() if procfs.comm(p) == "lmtp"]
    assert pids, "no lmtp process"
    owner = pwd.getpwnam(rig.inst.conf["mail_owner"])
    for pid in pids:
        assert procfs.uids(pid) == [owner.pw_uid] * 4
        assert procfs.gids(pid) == [owner.pw_gid] * 4
        assert procfs.root(pid) == os.path.realpath(rig.inst.queue_dir)
