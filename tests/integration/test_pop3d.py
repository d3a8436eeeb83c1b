"""pop3d integration tests: the whole path of a message, read back over
POP3 with real clients.

Every test runs master with smtpd, qmgr, local and pop3d (plain with
STLS, and POP3S) in one instance (pop3_helpers.PopRig); mail is sent over
SMTP and delivered by local into the mailbox of a real unix account
(useradd, session fixture) or of a mail-only user of the sasldb, which
saslpasswd2 makes.  Clients: a raw socket (the talk's `nc` session),
Python's poplib (plain, STLS, POP3_SSL, APOP, UIDL, TOP), curl (pop3://
and pop3s://) and fetchmail.  Needs root, as local and pop3d do.
"""

import base64
import mailbox
import os
import poplib
import re
import pwd
import secrets
import socket
import ssl
import subprocess
import sys
import threading
import time

import pytest

import panacea_test
from panacea_test import scaled, unless_built, wait_until
import procfs
from pop3_helpers import (MYHOSTNAME, PopRig, client_tls_context,  # noqa
                          crlf, mail_owner, pop_accounts, tls_files,
                          unstuff)
from smtp_helpers import other_loopback

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="pop3d needs root"),
    unless_built("master", "smtpd", "qmgr", "local", "pop3d", "pop3session",
                 "auth"),
]


def message(n, body=b""):
    return (b"From: Paul Visscher <paulv@example.org>\r\n"
            b"To: Paul Ahlquist <pea@example.org>\r\n"
            b"Subject: LinuxSig-SMTP talk %d\r\n"
            b"Message-ID: <talk-%d@example.org>\r\n"
            b"\r\n"
            b"We should totally have candy at the meeting.\r\n"
            % (n, n)) + body


TRICKY = (b"From the start of a line: quoted in the mbox, not on the wire.\r\n"
          b".a line with a dot\r\n"
          b"..two dots\r\n"
          b".\r\n"
          b">>From not a From_ line, kept as it is\r\n"
          b"\r\n"
          b"last line\r\n")


@pytest.fixture
def ctx(tls_files):
    return client_tls_context(tls_files["ca"])


def make_rig(instance, mail_owner, pop_accounts, tls_files, **kw):
    rig = PopRig(instance, mail_owner, pop_accounts, tls_files, **kw)
    rig.start()
    return rig


@pytest.fixture
def rig(instance, mail_owner, pop_accounts, tls_files):
    return make_rig(instance, mail_owner, pop_accounts, tls_files)


def stored_messages(rig, short):
    """The messages of the user's mbox or Maildir, read by Python."""
    path = rig.mailbox(short)
    if rig.maildir:
        box = mailbox.Maildir(path, factory=None, create=False)
        return sorted((box.get_message(k) for k in box.keys()),
                      key=lambda m: m["Subject"])
    if not os.path.exists(path):
        return []
    return list(mailbox.mbox(path, create=False))


def subjects(msgs):
    return [m["Subject"] for m in msgs]


def list_sizes(c):
    r = c.cmd("LIST")
    assert r.startswith("+OK"), r
    return [tuple(int(x) for x in ln.split()) for ln in
            (b.decode().strip() for b in c.multi())]


# -- RFC 1939 over a raw socket ------------------------------------------

def test_talk_session_over_a_raw_socket(rig):
    """The talk's `nc localhost 110` session, byte for byte: LIST with
    octet counts, RETR 4 with Return-Path: and Received:, DELE 4, LIST,
    RSET, LIST restored."""
    for n in range(1, 5):
        rig.deliver("pea", message(n, TRICKY if n == 4 else b""))
    with rig.client() as c:
        assert c.greeting.startswith("+OK")
        assert c.cmd("USER " + rig.name("pea")) == "+OK"
        assert c.cmd("PASS " + rig.password("pea")).startswith("+OK")
        sizes = list_sizes(c)
        assert [n for n, _ in sizes] == [1, 2, 3, 4]
        r = c.cmd("RETR 4")
        assert r.startswith("+OK")
        lines = c.multi()
        text = unstuff(lines)
        # The octet count is what was sent, CRLF counted, dots unstuffed.
        assert len(text) == sizes[3][1]
        assert int(r.split()[1]) == sizes[3][1]
        assert lines[0] == b"Return-Path: <sender@example.org>\r\n"
        assert any(ln.startswith(b"Received: from client.test")
                   for ln in lines)
        assert text.endswith(message(4, TRICKY).split(b"\r\n\r\n", 1)[1])
        # Byte-stuffing on the wire, From_ quoting undone.
        assert b"..a line with a dot\r\n" in lines
        assert b"...two dots\r\n" in lines
        assert b"..\r\n" in lines
        assert (b"From the start of a line: quoted in the mbox, not on "
                b"the wire.\r\n") in lines
        assert all(ln.endswith(b"\r\n") and b"\n" not in ln[:-1]
                   for ln in lines)
        assert c.cmd("DELE 4").startswith("+OK")
        assert list_sizes(c) == sizes[:3]
        assert c.cmd("RETR 4").startswith("-ERR")
        assert c.cmd("DELE 4").startswith("-ERR")
        assert c.cmd("STAT") == "+OK 3 %d" % sum(s for _, s in sizes[:3])
        assert c.cmd("RSET").startswith("+OK")
        assert list_sizes(c) == sizes
        assert c.cmd("QUIT").startswith("+OK")
        assert c.eof()
    assert len(stored_messages(rig, "pea")) == 4
    rig.inst.wait_log(r"pop3session\[\d+\]: logout: retr=1/%d, del=0, size=%d, "
                      r"user=<%s>" % (sizes[3][1], sum(s for _, s in sizes),
                                      rig.name("pea")))


def test_wrong_password_and_failure_limit(instance, mail_owner, pop_accounts,
                                          tls_files):
    """The talk's failed login: -ERR after a delay; with the limit at 1 the
    connection is closed at once; every failure is logged with the client
    address."""
    rig = make_rig(instance, mail_owner, pop_accounts, tls_files,
                   conf={"pop3d_auth_failure_delay": "1s",
                         "pop3d_auth_failure_limit": "2"})
    with rig.client() as c:
        assert c.cmd("USER " + rig.name("pea")) == "+OK"
        t0 = time.monotonic()
        r = c.cmd("PASS the_wrong_password")
        assert r == "-ERR [AUTH] Authentication failed"
        assert time.monotonic() - t0 >= 0.9
        # An unknown user gets exactly the same answer.
        assert c.cmd("USER nosuchuser") == "+OK"
        assert c.cmd("PASS whatever") == "-ERR [AUTH] Authentication failed"
        assert c.eof()
    log = rig.inst.wait_log(
        r"too many authentication failures: rip=127\.0\.0\.1")
    assert log
    assert rig.inst.log_count(
        r"pop3d\[\d+\]: auth failed: user=<(%s|nosuchuser)>, method=PLAIN, "
        r"rip=127\.0\.0\.1 " % rig.name("pea")) == 2
    # A right password after a wrong one (below the limit) works.
    with rig.client() as c:
        assert c.cmd("USER " + rig.name("pea")) == "+OK"
        assert c.cmd("PASS nope").startswith("-ERR [AUTH]")
        c.login(rig.name("pea"), rig.password("pea"))
        assert c.cmd("QUIT").startswith("+OK")


def test_talk_wrong_password_closes_with_limit_one(instance, mail_owner,
                                                   pop_accounts, tls_files):
    rig = make_rig(instance, mail_owner, pop_accounts, tls_files,
                   conf={"pop3d_auth_failure_limit": "1"})
    with rig.client() as c:
        assert c.cmd("USER " + rig.name("pea")) == "+OK"
        assert c.cmd("PASS the_wrong_password").startswith("-ERR")
        assert c.eof()


def test_states_unknown_commands_and_limits(rig):
    rig.deliver("pea", message(1))
    with rig.client() as c:
        for cmd in ("STAT", "LIST", "RETR 1", "DELE 1", "NOOP", "RSET",
                    "TOP 1 1", "UIDL"):
            assert c.cmd(cmd).startswith("-ERR"), cmd
        assert c.cmd("PASS x") == "-ERR USER first"
        assert c.cmd("XYZZY") == "-ERR Unknown command"
        assert c.cmd("RETR").startswith("-ERR")
        # Over the RFC 2449 limit, and far over the read bound: -ERR and
        # the session goes on.
        assert c.cmd("NOOP " + "x" * 300) == "-ERR Command line too long"
        assert c.cmd("X" * 20000) == "-ERR Line too long"
        c.login(rig.name("pea"), rig.password("pea"))
        for cmd in ("USER x", "PASS y", "STLS", "AUTH PLAIN",
                    "APOP a 0123456789abcdef0123456789abcdef"):
            assert c.cmd(cmd).startswith("-ERR"), cmd
        assert c.cmd("RETR 0") == "-ERR No such message"
        assert c.cmd("RETR 2") == "-ERR No such message"
        assert c.cmd("LIST 999999999") == "-ERR No such message"
        assert c.cmd("TOP 1 x").startswith("-ERR Syntax")
        assert c.cmd("NOOP") == "+OK"
        assert c.cmd("QUIT").startswith("+OK")


def test_pipelined_commands_answered_in_order(rig):
    for n in range(1, 4):
        rig.deliver("pea", message(n))
    with rig.client() as c:
        c.send("CAPA\r\nUSER %s\r\nPASS %s\r\nSTAT\r\nLIST\r\nUIDL\r\n"
               "RETR 1\r\nTOP 2 0\r\nDELE 3\r\nSTAT\r\nNOOP\r\nQUIT\r\n"
               % (rig.name("pea"), rig.password("pea")))
        assert c.line().startswith("+OK")
        assert b"PIPELINING\r\n" in c.multi()
        assert c.line() == "+OK"
        assert c.line().startswith("+OK Logged in, 3 messages")
        st = c.line()
        assert st.startswith("+OK 3 ")
        assert c.line().startswith("+OK")
        assert len(c.multi()) == 3
        assert c.line().startswith("+OK")
        assert len(c.multi()) == 3
        assert c.line().startswith("+OK")
        assert b"Subject: LinuxSig-SMTP talk 1\r\n" in c.multi()
        assert c.line() == "+OK"
        top = c.multi()
        assert top[-1] == b"\r\n" and b"Subject: LinuxSig-SMTP talk 2\r\n" \
            in top
        assert c.line() == "+OK Message 3 deleted"
        assert c.line().startswith("+OK 2 ")
        assert c.line() == "+OK"
        assert c.line().startswith("+OK")
        assert c.eof()
    assert subjects(stored_messages(rig, "pea")) == [
        "LinuxSig-SMTP talk 1", "LinuxSig-SMTP talk 2"]


@pytest.mark.parametrize("tls", [False, True])
def test_pipelined_burst_through_the_relay(rig, ctx, tls):
    """Megabytes through the front's relay with every hop's buffers full:
    the client sends all its commands before it reads anything (plain:
    from a thread, 20,000 NOOPs more than any buffer holds; POP3S: what
    fits in one write, as SSL objects are not shared between threads),
    and gets every answer whole and in order."""
    body = b"".join(b"line %05d of a long message, to fill buffers\r\n" % i
                    for i in range(600))
    rig.deliver("pea", message(1, body))
    retrs, noops = (100, 0) if tls else (100, 20000)
    with (rig.client(port=rig.pops_port, tls_ctx=ctx) if tls
          else rig.client()) as c:
        c.login(rig.name("pea"), rig.password("pea"))
        burst = b"RETR 1\r\n" * retrs + b"NOOP\r\n" * noops + b"QUIT\r\n"
        if tls:
            c.sock.sendall(burst)
            sender = None
        else:
            sender = threading.Thread(target=c.sock.sendall, args=(burst,),
                                      daemon=True)
            sender.start()
        first = None
        for _ in range(retrs):
            r = c.line()
            assert r.startswith("+OK"), r
            text = unstuff(c.multi())
            first = first or text
            assert text == first and text.endswith(body)
        for _ in range(noops):
            assert c.line() == "+OK"
        assert c.line().startswith("+OK Logging out")
        if sender:
            sender.join()
        assert c.eof()


def test_dropped_connection_deletes_nothing(rig):
    for n in range(1, 3):
        rig.deliver("pea", message(n))
    before = open(rig.mailbox("pea"), "rb").read()
    with rig.client() as c:
        c.login(rig.name("pea"), rig.password("pea"))
        assert c.cmd("DELE 1").startswith("+OK")
        assert c.cmd("RETR 2").startswith("+OK")
        c.multi()
    rig.inst.wait_log(r"connection lost in TRANSACTION state, nothing "
                      r"deleted")
    assert open(rig.mailbox("pea"), "rb").read() == before


def test_autologout(instance, mail_owner, pop_accounts, tls_files):
    rig = make_rig(instance, mail_owner, pop_accounts, tls_files,
                   conf={"pop3d_timeout": "2s"})
    rig.deliver("pea", message(1))
    with rig.client() as c:
        c.login(rig.name("pea"), rig.password("pea"))
        assert c.cmd("DELE 1").startswith("+OK")
        t0 = time.monotonic()
        assert c.line() == "-ERR Autologout; idle for too long"
        assert c.eof()
        assert time.monotonic() - t0 >= 1.5
    assert len(stored_messages(rig, "pea")) == 1


# -- Python's poplib -------------------------------------------------------

def test_poplib_user_pass_uidl_top_retr_dele(rig):
    for n in range(1, 4):
        rig.deliver("pea", message(n, TRICKY))
    p = poplib.POP3(rig.inst.host, rig.pop_port, timeout=scaled(20))
    try:
        assert b"+OK" in p.getwelcome()
        caps = p.capa()
        for cap in ("TOP", "UIDL", "USER", "SASL", "STLS", "RESP-CODES",
                    "AUTH-RESP-CODE", "PIPELINING", "EXPIRE",
                    "IMPLEMENTATION"):
            assert cap in caps, cap
        assert "PLAIN" in caps["SASL"]
        p.user(rig.name("pea"))
        p.pass_(rig.password("pea"))
        count, total = p.stat()
        assert count == 3
        _, listing, _ = p.list()
        sizes = [int(x.split()[1]) for x in listing]
        assert sum(sizes) == total
        _, uidls, _ = p.uidl()
        ids = [x.split()[1] for x in uidls]
        assert len(set(ids)) == 3
        assert all(re.fullmatch(rb"[\x21-\x7e]{1,70}", i) for i in ids)
        _, lines, octets = p.retr(2)
        body = b"\r\n".join(lines) + b"\r\n"
        assert len(body) == sizes[1]
        assert body.endswith(message(2, TRICKY).split(b"\r\n\r\n", 1)[1])
        _, top, _ = p.top(1, 2)
        i = top.index(b"")
        assert top[i + 1:] == [b"We should totally have candy at the "
                               b"meeting.",
                               b"From the start of a line: quoted in "
                               b"the mbox, not on the wire."]
        assert p.uidl(3).split()[2] == ids[2]
        p.dele(1)
        p.quit()
    finally:
        p.close()
    msgs = stored_messages(rig, "pea")
    assert subjects(msgs) == ["LinuxSig-SMTP talk 2",
                              "LinuxSig-SMTP talk 3"]
    # The mbox keeps its quoting, and local's From_ lines.
    raw = open(rig.mailbox("pea"), "rb").read()
    assert raw.startswith(b"From sender@example.org ")
    assert b"\n>From the start of a line" in raw


def test_poplib_stls(rig, ctx):
    rig.deliver("pea", message(1))
    p = poplib.POP3(rig.inst.host, rig.pop_port, timeout=scaled(20))
    try:
        p.stls(context=ctx)
        caps = p.capa()
        assert "STLS" not in caps
        assert "USER" in caps
        p.user(rig.name("pea"))
        p.pass_(rig.password("pea"))
        assert p.stat()[0] == 1
        p.quit()
    finally:
        p.close()
    rig.inst.wait_log(r"Login: user=<%s>, method=PLAIN, rip=127\.0\.0\.1, "
                      r"lip=%s, mpid=\d+, TLS"
                      % (rig.name("pea"), re.escape(rig.inst.host)))


def test_poplib_pop3_ssl(rig, ctx):
    rig.deliver("pea", message(1))
    p = poplib.POP3_SSL(rig.inst.host, rig.pops_port, context=ctx,
                        timeout=scaled(20))
    try:
        assert "STLS" not in p.capa()
        p.user(rig.name("pea"))
        p.pass_(rig.password("pea"))
        _, lines, _ = p.retr(1)
        assert b"Subject: LinuxSig-SMTP talk 1" in lines
        p.dele(1)
        p.quit()
    finally:
        p.close()
    assert stored_messages(rig, "pea") == []


def test_pop3s_refuses_plaintext(rig):
    with rig.client(port=rig.pops_port, greet=False, timeout=10) as c:
        c.send("CAPA\r\n")
        try:
            data = c.sock.recv(100)
        except (ConnectionResetError, socket.timeout):
            data = b""
        assert not data.startswith(b"+OK")


def test_poplib_apop(instance, mail_owner, pop_accounts, tls_files):
    rig = make_rig(instance, mail_owner, pop_accounts, tls_files,
                   conf={"pop3d_apop_enable": "yes"})
    rig.deliver("pea", message(1))
    p = poplib.POP3(rig.inst.host, rig.pop_port, timeout=scaled(20))
    try:
        assert re.search(rb"<[^<>@]+@panacea\.test>$", p.getwelcome())
        p.apop(rig.name("pea"), rig.password("pea"))
        assert p.stat()[0] == 1
        p.quit()
    finally:
        p.close()
    p = poplib.POP3(rig.inst.host, rig.pop_port, timeout=scaled(20))
    try:
        with pytest.raises(poplib.error_proto, match=r"\[AUTH\]"):
            p.apop(rig.name("pea"), "wrong")
    finally:
        p.close()
    rig.inst.wait_log(r"Login: user=<%s>, method=APOP" % rig.name("pea"))


def test_apop_off_by_default(rig):
    with rig.client() as c:
        assert "<" not in c.greeting
        assert c.cmd("APOP %s %s" % (rig.name("pea"), "0" * 32)) == \
            "-ERR APOP is not enabled"


def test_uidl_stable_across_sessions_deletions_and_restarts(rig):
    for n in range(1, 5):
        rig.deliver("pea", message(n))

    def uidls():
        p = poplib.POP3(rig.inst.host, rig.pop_port, timeout=scaled(20))
        try:
            p.user(rig.name("pea"))
            p.pass_(rig.password("pea"))
            _, lst, _ = p.uidl()
            out = {}
            for ln in lst:
                n, u = ln.split()
                _, lines, _ = p.top(int(n), 0)
                subj = [x for x in lines if x.startswith(b"Subject:")][0]
                out[subj] = u
            return p, out
        except Exception:
            p.close()
            raise

    p, first = uidls()
    p.dele(2)
    p.quit()
    p, second = uidls()
    p.quit()
    del first[b"Subject: LinuxSig-SMTP talk 2"]
    assert second == first
    # A new message gets a new id; old ones do not move.
    rig.deliver("pea", message(5))
    rig.inst.stop()
    rig.inst.start()
    rig.inst.wait_port(rig.pop_port)
    p, third = uidls()
    p.quit()
    new = third.pop(b"Subject: LinuxSig-SMTP talk 5")
    assert third == first
    assert new not in first.values()


# -- AUTH (RFC 5034) and plaintext policy -------------------------------------

def b64(s):
    import base64
    return base64.b64encode(s.encode()).decode()


def test_auth_plain_login_and_cancel(rig):
    rig.deliver("pea", message(1))
    user, pw = rig.name("pea"), rig.password("pea")
    with rig.client() as c:
        # Listing, cancel, bad base64, unknown mechanism.
        assert c.cmd("AUTH").startswith("+OK")
        mechs = [m.strip() for m in c.multi()]
        assert b"PLAIN" in mechs and b"LOGIN" in mechs
        assert c.cmd("AUTH LOGIN").startswith("+ ")
        assert c.cmd("*") == "-ERR AUTH cancelled"
        assert c.cmd("AUTH NOSUCH") == "-ERR Unrecognized authentication type"
        assert c.cmd("AUTH PLAIN").startswith("+ ")
        assert c.cmd("not base64!") == "-ERR [AUTH] Authentication failed"
        # PLAIN with an initial response.
        r = c.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (user, pw)))
        assert r.startswith("+OK"), r
        assert c.cmd("STAT").startswith("+OK 1 ")
        assert c.cmd("QUIT").startswith("+OK")
    with rig.client() as c:
        # LOGIN, step by step, and the empty initial response "=".
        assert c.cmd("AUTH LOGIN") == "+ " + b64("Username:")
        assert c.cmd(b64(user)) == "+ " + b64("Password:")
        assert c.cmd(b64(pw)).startswith("+OK")
        assert c.cmd("QUIT").startswith("+OK")
    with rig.client() as c:
        assert c.cmd("AUTH PLAIN =") == "+ "
        assert c.cmd(b64("\0%s\0wrong" % user)) == \
            "-ERR [AUTH] Authentication failed"
    rig.inst.wait_log(r"Login: user=<%s>, method=PLAIN, rip=127\.0\.0\.1"
                      % user)
    rig.inst.wait_log(r"Login: user=<%s>, method=LOGIN" % user)
    # The name the client gave in its PLAIN response (Dovecot logs it).
    rig.inst.wait_log(r"auth failed: user=<%s>, method=PLAIN, "
                      r"rip=127\.0\.0\.1" % re.escape(user))


def test_plaintext_refused_before_tls_off_loopback(instance, mail_owner,
                                                   pop_accounts, tls_files,
                                                   ctx):
    """A client outside pop3d_plaintext_auth_networks (here: another
    127.0.0.x than the one allowed) gets a clear -ERR for USER and
    AUTH PLAIN, no USER or PLAIN in CAPA, and may log in after STLS."""
    rig = make_rig(instance, mail_owner, pop_accounts, tls_files,
                   conf={"pop3d_plaintext_auth_networks": "127.0.0.1/32"})
    src = other_loopback(rig.inst, avoid=("127.0.0.1",))
    with rig.client(source=src) as c:
        assert c.cmd("CAPA").startswith("+OK")
        caps = [x.strip() for x in c.multi()]
        assert b"USER" not in caps and b"STLS" in caps
        sasl = [x for x in caps if x.startswith(b"SASL")]
        assert not sasl or b"PLAIN" not in sasl[0].split()
        r = c.cmd("USER " + rig.name("pea"))
        assert r.startswith("-ERR [AUTH] Plaintext authentication is not "
                            "allowed without TLS"), r
        assert c.cmd("AUTH PLAIN " + b64("\0a\0b")).startswith(
            "-ERR [AUTH] Plaintext")
        assert c.cmd("STLS").startswith("+OK")
        c.sock = ctx.wrap_socket(c.sock, server_hostname=MYHOSTNAME)
        c.login(rig.name("pea"), rig.password("pea"))
        assert c.cmd("QUIT").startswith("+OK")
    rig.inst.wait_log(r"plaintext login refused before TLS: rip=%s"
                      % re.escape(src))


def test_stls_discards_pipelined_plaintext(rig, ctx):
    with rig.client() as c:
        c.send("STLS\r\nUSER injected\r\n")
        assert c.line().startswith("+OK")
        c.sock = ctx.wrap_socket(c.sock, server_hostname=MYHOSTNAME)
        # "USER injected" was never read as a command: PASS has no USER.
        assert c.cmd("PASS x") == "-ERR USER first"


# -- Maildrop locking and concurrency --------------------------------------

def test_second_session_gets_in_use(rig):
    rig.deliver("pea", message(1))
    with rig.client() as a:
        a.login(rig.name("pea"), rig.password("pea"))
        with rig.client() as b:
            assert b.cmd("USER " + rig.name("pea")) == "+OK"
            r = b.cmd("PASS " + rig.password("pea"))
            assert r.startswith("-ERR [IN-USE]"), r
        assert a.cmd("STAT").startswith("+OK 1 ")
        assert a.cmd("QUIT").startswith("+OK")
    with rig.client() as b:
        b.login(rig.name("pea"), rig.password("pea"))
        b.cmd("QUIT")


def test_mail_arriving_during_a_session_is_kept(rig):
    """Deliveries during a session that deletes messages: after QUIT the
    deleted ones are gone and every new one is there, intact."""
    for n in range(1, 6):
        rig.deliver("pea", message(n))
    with rig.client() as c:
        c.login(rig.name("pea"), rig.password("pea"))
        for n in (1, 3, 5):
            assert c.cmd("DELE %d" % n).startswith("+OK")
        # Deliveries now, while the session is open: local appends.
        qids = [rig.deliver("pea", message(n, TRICKY))
                for n in range(6, 10)]
        assert len(qids) == 4
        assert c.cmd("STAT").startswith("+OK 2 ")
        assert c.cmd("QUIT").startswith("+OK")
    msgs = stored_messages(rig, "pea")
    assert subjects(msgs) == ["LinuxSig-SMTP talk %d" % n
                              for n in (2, 4, 6, 7, 8, 9)]
    for m in msgs[2:]:
        assert m.get_payload().endswith("last line\n")
    with rig.client() as c:
        c.login(rig.name("pea"), rig.password("pea"))
        sizes = list_sizes(c)
        assert len(sizes) == 6
        for n, size in sizes:
            assert c.cmd("RETR %d" % n).startswith("+OK")
            assert len(unstuff(c.multi())) == size
        c.cmd("QUIT")


def test_deliveries_wait_for_the_rewrite(rig):
    """pop3d's rewrite holds local's locks: a delivery that meets them
    waits (local logs no deferral), and nothing is lost."""
    for n in range(1, 4):
        rig.deliver("pea", message(n))
    path = rig.mailbox("pea")
    # Hold the dotlock as local would see it from pop3d; release later.
    with open(path + ".lock", "w") as f:
        f.write("%d\n" % os.getpid())
    try:
        qid = rig.send("pea", message(4))
        time.sleep(scaled(1.5))
        assert rig.inst.log_count(r"%s: to=.*status=sent" % qid) == 0
    finally:
        os.unlink(path + ".lock")
    rig.inst.wait_log(r"%s: to=.*status=sent" % qid, timeout=30)
    assert len(stored_messages(rig, "pea")) == 4
    # And pop3d waits for a lock in the same way at login.
    with open(path + ".lock", "w") as f:
        f.write("%d\n" % os.getpid())
    timer = threading.Timer(scaled(1.5), os.unlink, [path + ".lock"])
    timer.start()
    try:
        with rig.client() as c:
            c.login(rig.name("pea"), rig.password("pea"))
            assert c.cmd("DELE 1").startswith("+OK")
            assert c.cmd("QUIT").startswith("+OK")
    finally:
        timer.join()
    assert len(stored_messages(rig, "pea")) == 3
    assert not os.path.exists(path + ".lock")


def test_quit_on_a_locked_mailbox_deletes_nothing(instance, mail_owner,
                                                 pop_accounts, tls_files):
    """When the lock stays taken (a mail reader holds it), QUIT waits
    deliver_lock_attempts times, then says -ERR [SYS/TEMP] and leaves the
    mailbox alone."""
    rig = make_rig(instance, mail_owner, pop_accounts, tls_files,
                   conf={"deliver_lock_attempts": "2"})
    for n in range(1, 3):
        rig.deliver("pea", message(n))
    path = rig.mailbox("pea")
    before = open(path, "rb").read()
    with rig.client() as c:
        c.login(rig.name("pea"), rig.password("pea"))
        assert c.cmd("DELE 1").startswith("+OK")
        with open(path + ".lock", "w") as f:
            f.write("%d\n" % os.getpid())
        try:
            r = c.cmd("QUIT")
        finally:
            os.unlink(path + ".lock")
        assert r.startswith("-ERR [SYS/TEMP] Some deleted messages were "
                            "not removed"), r
    assert open(path, "rb").read() == before


def test_concurrent_deliveries_and_sessions(rig):
    """Many deliveries while sessions keep deleting what they see: every
    message is either retrieved-and-deleted once or still there."""
    seen = []
    stop = threading.Event()
    errors = []

    def popper():
        while not stop.is_set():
            try:
                with rig.client() as c:
                    c.login(rig.name("pea"), rig.password("pea"))
                    for n, _ in list_sizes(c):
                        assert c.cmd("RETR %d" % n).startswith("+OK")
                        text = unstuff(c.multi())
                        seen.append(re.search(rb"Subject: (.*)\r\n",
                                              text).group(1))
                        assert c.cmd("DELE %d" % n).startswith("+OK")
                    assert c.cmd("QUIT").startswith("+OK")
            except AssertionError as e:
                if "[IN-USE]" not in str(e):
                    errors.append(e)
            time.sleep(0.2)

    t = threading.Thread(target=popper)
    t.start()
    try:
        for n in range(1, 13):
            rig.deliver("pea", message(n))
    finally:
        stop.set()
        t.join()
    assert not errors, errors
    left = [m["Subject"].encode() for m in stored_messages(rig, "pea")]
    want = [b"LinuxSig-SMTP talk %d" % n for n in range(1, 13)]
    assert sorted(seen + left) == sorted(want)


# -- Maildir --------------------------------------------------------------

def test_maildir(instance, mail_owner, pop_accounts, tls_files):
    rig = make_rig(instance, mail_owner, pop_accounts, tls_files,
                   maildir=True)
    for n in range(1, 5):
        rig.deliver("pea", message(n, TRICKY))
    md = rig.mailbox("pea")
    names = sorted(os.listdir(os.path.join(md, "new")))
    assert len(names) == 4
    p = poplib.POP3(rig.inst.host, rig.pop_port, timeout=scaled(20))
    try:
        p.user(rig.name("pea"))
        p.pass_(rig.password("pea"))
        _, lst, _ = p.uidl()
        ids = [x.split()[1].decode() for x in lst]
        # The unique names, in delivery order.
        assert sorted(ids) == names
        _, listing, _ = p.list()
        sizes = [int(x.split()[1]) for x in listing]
        for n in (1, 2):
            _, lines, _ = p.retr(n)
            body = b"\r\n".join(lines) + b"\r\n"
            assert len(body) == sizes[n - 1]
            assert b"Subject: LinuxSig-SMTP talk %d" % n in lines
            assert b"From the start of a line: quoted in the mbox, not on " \
                b"the wire." in lines
        p.dele(2)
        p.dele(3)
        p.quit()
    finally:
        p.close()
    new = os.listdir(os.path.join(md, "new"))
    cur = os.listdir(os.path.join(md, "cur"))
    # 1 was retrieved and kept: cur/ with S; 4 untouched in new/.
    assert new == [ids[3]]
    assert cur == [ids[0] + ":2,S"]
    # Flags are kept: a message flagged by a mail reader keeps F.
    os.rename(os.path.join(md, "cur", cur[0]),
              os.path.join(md, "cur", ids[0] + ":2,F"))
    with rig.client() as c:
        c.login(rig.name("pea"), rig.password("pea"))
        assert c.cmd("UIDL").startswith("+OK")
        assert [u.split()[1].decode() for u in c.multi()] == [ids[0],
                                                               ids[3]]
        assert c.cmd("RETR 1").startswith("+OK")
        c.multi()
        assert c.cmd("QUIT").startswith("+OK")
    assert os.listdir(os.path.join(md, "cur")) == [ids[0] + ":2,FS"]
    # Mail arriving during a session is kept.
    with rig.client() as c:
        c.login(rig.name("pea"), rig.password("pea"))
        assert c.cmd("DELE 1").startswith("+OK")
        rig.deliver("pea", message(5))
        assert c.cmd("QUIT").startswith("+OK")
    assert subjects(stored_messages(rig, "pea")) == [
        "LinuxSig-SMTP talk 4", "LinuxSig-SMTP talk 5"]
    with rig.client() as a:
        a.login(rig.name("pea"), rig.password("pea"))
        with rig.client() as b:
            assert b.cmd("USER " + rig.name("pea")) == "+OK"
            assert b.cmd("PASS " + rig.password("pea")).startswith(
                "-ERR [IN-USE]")


# -- Mail-only users, owners and malformed mailboxes -------------------------

def test_mail_only_user(instance, mail_owner, pop_accounts, tls_files):
    rig = make_rig(instance, mail_owner, pop_accounts, tls_files,
                   mail_users=("mailonly",))
    rig.deliver("mailonly", message(1))
    st = os.stat(rig.mailbox("mailonly"))
    import pwd
    # mail_only_owner's (rule 4), never mail_owner's.
    assert st.st_uid == pwd.getpwnam(instance.conf["mail_only_owner"]).pw_uid
    assert st.st_uid != pwd.getpwnam(mail_owner).pw_uid
    with rig.client() as c:
        c.login("mailonly", rig.password("mailonly"))
        assert c.cmd("DELE 1").startswith("+OK")
        assert c.cmd("QUIT").startswith("+OK")
    assert stored_messages(rig, "mailonly") == []
    # The session ran as mail_only_owner: the file keeps its owner.
    assert os.stat(rig.mailbox("mailonly")).st_uid == st.st_uid


def test_empty_and_missing_mailboxes(rig):
    with rig.client() as c:
        r = c.login(rig.name("bob"), rig.password("bob"))
        assert r.startswith("+OK Logged in, 0 messages")
        assert c.cmd("STAT") == "+OK 0 0"
        assert c.cmd("LIST").startswith("+OK")
        assert c.multi() == []
        assert c.cmd("QUIT").startswith("+OK")
    assert not os.path.exists(rig.mailbox("bob"))


def test_malformed_mbox_is_refused(rig):
    path = rig.mailbox("bob")
    with open(path, "wb") as f:
        f.write(b"Subject: not an mbox\n\nbody\n")
    pw = rig.users["bob"]
    os.chown(path, pw.pw_uid, pw.pw_gid)
    os.chmod(path, 0o600)
    with rig.client() as c:
        assert c.cmd("USER " + rig.name("bob")) == "+OK"
        r = c.cmd("PASS " + rig.password("bob"))
        assert r.startswith("-ERR [SYS/PERM]"), r
    assert open(path, "rb").read() == b"Subject: not an mbox\n\nbody\n"


def test_mailbox_of_another_owner_is_refused(rig):
    """A planted mailbox (not owned by the user) is never read."""
    path = rig.mailbox("bob")
    with open(path, "wb") as f:
        f.write(b"From x\nSubject: planted\n\n")
    os.chmod(path, 0o644)  # owned by root
    with rig.client() as c:
        assert c.cmd("USER " + rig.name("bob")) == "+OK"
        assert c.cmd("PASS " + rig.password("bob")).startswith(
            "-ERR [SYS/PERM]")


def test_login_delay(instance, mail_owner, pop_accounts, tls_files):
    rig = make_rig(instance, mail_owner, pop_accounts, tls_files,
                   conf={"pop3d_login_delay": "60s"})
    with rig.client() as c:
        assert c.cmd("CAPA").startswith("+OK")
        assert b"LOGIN-DELAY 60\r\n" in c.multi()
        c.login(rig.name("pea"), rig.password("pea"))
        c.cmd("QUIT")
    with rig.client() as c:
        assert c.cmd("USER " + rig.name("pea")) == "+OK"
        assert c.cmd("PASS " + rig.password("pea")).startswith(
            "-ERR [LOGIN-DELAY]")


# -- curl and fetchmail ----------------------------------------------------

def test_curl_pop3_and_pop3s(rig, tls_files):
    for n in range(1, 3):
        rig.deliver("pea", message(n, TRICKY))
    user = "%s:%s" % (rig.name("pea"), rig.password("pea"))
    base = "pop3://%s:%d/" % (rig.inst.host, rig.pop_port)
    r = subprocess.run(["curl", "-sS", "--user", user, base],
                       capture_output=True, timeout=scaled(30))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().split("\r\n")
    assert lines[0].startswith("1 ") and lines[1].startswith("2 ")
    r = subprocess.run(["curl", "-sS", "--user", user, base + "1"],
                       capture_output=True, timeout=scaled(30))
    assert r.returncode == 0, r.stderr
    assert b"Subject: LinuxSig-SMTP talk 1\r\n" in r.stdout
    assert b"\r\n.a line with a dot\r\n" in r.stdout
    # STLS required, then POP3S; the server is checked against the CA.
    sbase = "pop3s://%s:%d/" % (MYHOSTNAME, rig.pops_port)
    resolve = "%s:%d:%s" % (MYHOSTNAME, rig.pops_port, rig.inst.host)
    r = subprocess.run(["curl", "-sS", "--ssl-reqd", "--cacert",
                        tls_files["ca"], "--resolve", "%s:%d:%s" % (
                            MYHOSTNAME, rig.pop_port, rig.inst.host),
                        "--user", user, "pop3://%s:%d/2" % (
                            MYHOSTNAME, rig.pop_port)],
                       capture_output=True, timeout=scaled(30))
    assert r.returncode == 0, r.stderr
    assert b"Subject: LinuxSig-SMTP talk 2\r\n" in r.stdout
    r = subprocess.run(["curl", "-sS", "--cacert", tls_files["ca"],
                        "--resolve", resolve, "--user", user,
                        "-X", "DELE 1", "-I", sbase],
                       capture_output=True, timeout=scaled(30))
    assert r.returncode == 0, r.stderr
    assert subjects(stored_messages(rig, "pea")) == ["LinuxSig-SMTP talk 2"]
    rig.inst.wait_log(r"Login: user=<%s>, method=\S+, rip=127\.0\.0\.1, "
                      r"lip=%s, mpid=\d+, TLS"
                      % (rig.name("pea"), re.escape(rig.inst.host)))


@pytest.mark.parametrize("maildir", [False, True], ids=["mbox", "maildir"])
def test_fetchmail_batch_run(instance, mail_owner, pop_accounts, tls_files,
                             tmp_path, maildir):
    rig = make_rig(instance, mail_owner, pop_accounts, tls_files,
                   maildir=maildir)
    for n in range(1, 4):
        rig.deliver("pea", message(n, TRICKY))
    out = tmp_path / "fetched"
    rc = tmp_path / "fetchmailrc"
    rc.write_text(
        'poll %s service %d protocol pop3 uidl\n'
        '  user "%s" password "%s" is root here\n'
        '  sslproto "" no sslcertck\n'
        '  fetchall nokeep\n'
        '  mda "cat >> %s"\n' % (
            rig.inst.host, rig.pop_port, rig.name("pea"),
            rig.password("pea"), out))
    rc.chmod(0o600)
    env = dict(os.environ, HOME=str(tmp_path))
    r = subprocess.run([panacea_test.tool("fetchmail", "fetchmail"), "-f", str(rc), "--nodetach",
                        "--nosyslog", "-i", str(tmp_path / "ids")],
                       capture_output=True, timeout=scaled(60), env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    fetched = out.read_bytes()
    for n in range(1, 4):
        assert b"Subject: LinuxSig-SMTP talk %d" % n in fetched
    assert fetched.count(b"From the start of a line: quoted in the mbox, "
                         b"not on the wire.") == 3
    assert stored_messages(rig, "pea") == []
    # Nothing new: a second run fetches nothing (exit 1).
    r = subprocess.run([panacea_test.tool("fetchmail", "fetchmail"), "-f", str(rc), "--nodetach",
                        "--nosyslog", "-i", str(tmp_path / "ids")],
                       capture_output=True, timeout=scaled(60), env=env)
    assert r.returncode == 1, r.stdout + r.stderr


def test_no_mailbox_read_as_root(rig):
    """The session process runs as the mailbox owner: its uid, seen from
    /proc while the session is open."""
    rig.deliver("pea", message(1))
    with rig.client() as c:
        c.login(rig.name("pea"), rig.password("pea"))
        m = rig.inst.wait_log(r"pop3session\[(\d+)\]: Login: user=<%s>"
                              % rig.name("pea"))
        pid = int(m.group(1))
        assert procfs.uids(pid) == [rig.users["pea"].pw_uid] * 4
        c.cmd("QUIT")


def test_log_lines(rig):
    rig.deliver("pea", message(1))
    with rig.client() as c:
        c.login(rig.name("pea"), rig.password("pea"))
        assert c.cmd("RETR 1").startswith("+OK")
        size = len(unstuff(c.multi()))
        assert c.cmd("DELE 1").startswith("+OK")
        assert c.cmd("QUIT").startswith("+OK")
    user = rig.name("pea")
    # 127.0.0.1 is "localhost" in /etc/hosts (peer_name.h).
    assert panacea_test.peer_name("127.0.0.1") == "localhost"
    rig.inst.wait_log(r"panacea/pop3d\[\d+\]: connect from "
                      r"localhost\[127\.0\.0\.1\]")
    # Dovecot's pop3-login shape: rip=, then lip= (the address the client
    # connected to, as the front told the auth service), then mpid=.
    m = rig.inst.wait_log(r"panacea/pop3session\[(\d+)\]: Login: user=<%s>, "
                          r"method=PLAIN, rip=127\.0\.0\.1, lip=%s, "
                          r"mpid=(\d+)\n" % (user, re.escape(rig.inst.host)))
    assert m.group(1) == m.group(2)
    rig.inst.wait_log(r"panacea/pop3session\[\d+\]: logout: retr=1/%d, del=1, "
                      r"size=%d, user=<%s>" % (size, size, user))


def test_client_names(rig):
    """pop3d names a client as smtpd does (lib/mail/peer_name.h):
    127.0.0.1 from /etc/hosts, another loopback address "unknown" without
    DNS."""
    other = other_loopback(rig.inst, avoid=("127.0.0.1",))
    assert panacea_test.peer_name(other) == "unknown"
    for src in (None, other):
        with rig.client(source=src) as c:
            assert c.cmd("QUIT").startswith("+OK")
    for name, addr in (("localhost", "127.0.0.1"), ("unknown", other)):
        for what in ("connect", "disconnect"):
            rig.inst.wait_log(r"pop3d\[\d+\]: %s from %s\[%s\]\n"
                              % (what, name, re.escape(addr)))


def test_dovecot_shaped_lines(rig):
    """Before login pop3d ends each session with Dovecot's pop3-login
    line (what fail2ban's dovecot filter reads), with the name the client
    tried, the attempts, rip and lip; a login is Dovecot's Login line."""
    pea = rig.name("pea")
    with rig.client() as c:
        assert c.cmd("USER " + pea) == "+OK"
        assert c.cmd("PASS wrong").startswith("-ERR [AUTH]")
        assert c.cmd("QUIT").startswith("+OK")
    rig.inst.wait_log(
        r"pop3d\[\d+\]: Aborted login \(auth failed, 1 attempts in \d+ "
        r"secs\): user=<%s>, method=PLAIN, rip=127\.0\.0\.1, "
        r"lip=%s\n" % (re.escape(pea), re.escape(rig.inst.host)))
    with rig.client() as c:
        plain = base64.b64encode(b"\0ghost\0nope").decode()
        assert c.cmd("AUTH PLAIN " + plain).startswith("-ERR [AUTH]")
    rig.inst.wait_log(
        r"pop3d\[\d+\]: Disconnected \(auth failed, 1 attempts in \d+ "
        r"secs\): user=<ghost>, method=PLAIN, rip=127\.0\.0\.1, "
        r"lip=%s\n" % re.escape(rig.inst.host))
    with rig.client() as c:
        assert c.cmd("QUIT").startswith("+OK")
    rig.inst.wait_log(
        r"pop3d\[\d+\]: Aborted login \(no auth attempts in \d+ secs\): "
        r"user=<>, rip=127\.0\.0\.1, lip=%s\n" % re.escape(rig.inst.host))
    with rig.client() as c:
        c.login(pea, rig.password("pea"))
        assert c.cmd("QUIT").startswith("+OK")
    m = rig.inst.wait_log(r"pop3session\[(\d+)\]: Login: user=<%s>, "
                          r"method=PLAIN, rip=127\.0\.0\.1, lip=%s, "
                          r"mpid=(\d+)\n"
                          % (re.escape(pea), re.escape(rig.inst.host)))
    assert m.group(1) == m.group(2)
    # The logged-in session ends without a pop3-login line.
    assert rig.inst.log_count(r"\(auth failed") == 2
    assert rig.inst.log_count(r"Aborted login \(no auth attempts") == 1


def test_client_names_off(instance, mail_owner, pop_accounts, tls_files):
    rig = make_rig(instance, mail_owner, pop_accounts, tls_files,
                   pop3_args="-o pop3d_peername_lookup=no")
    with rig.client() as c:
        assert c.cmd("QUIT").startswith("+OK")
    rig.inst.wait_log(r"pop3d\[\d+\]: disconnect from "
                      r"unknown\[127\.0\.0\.1\]\n")
    # pop3d's lookup only: the rig's smtpd keeps smtpd_peername_lookup.
    assert not rig.inst.log_count(r"pop3(?:d|session)\[\d+\]: .*localhost\[")


# -- Privilege separation (DESIGN.md rules 3 and 5) ------------------------

def open_session(rig, ctx, mode):
    """A logged-in client over plain POP3, STLS or POP3S."""
    if mode == "pop3s":
        c = rig.client(port=rig.pops_port, tls_ctx=ctx)
    else:
        c = rig.client()
    if mode == "stls":
        assert c.cmd("STLS").startswith("+OK")
        c.sock = ctx.wrap_socket(c.sock, server_hostname=MYHOSTNAME)
    c.login(rig.name("pea"), rig.password("pea"))
    return c


def server_end(c, port):
    """The socket inode of the server's end of client c's connection to
    port (matched in /proc/net/tcp by both addresses)."""
    host, cport = c.sock.getsockname()[:2]
    local = procfs.hex_addr(c.sock.getpeername()[0], port)
    remote = procfs.hex_addr(host, cport)
    found = [inode for inode, (lo, re_, _) in procfs.tcp_sockets().items()
             if lo == local and re_ == remote]
    assert len(found) == 1, found
    return found[0]


def socket_holders(rig, inode):
    """{pid: (comm, uids, root)} of the instance's processes that hold
    the socket inode."""
    holders = {}
    for pid in procfs.tree(rig.inst.pid):
        try:
            if inode in procfs.socket_inodes(pid):
                holders[pid] = (procfs.comm(pid), procfs.uids(pid),
                                procfs.root(pid))
        except OSError:
            continue
    return holders


@pytest.mark.parametrize("mode", ["plain", "stls", "pop3s"])
def test_no_root_process_holds_the_client_or_tls(rig, ctx, mode):
    """While a session is open, the server's end of the client's TCP
    connection (its socket inode in /proc/PID/fd) is held by one process:
    without TLS the session child itself (the mailbox owner; the front
    passed the socket and closed its copy, so no pop3d holds it any
    more), with STLS or POP3S the front (pop3d, mail_owner, in the jail),
    which relays it.  Never by a root process; neither pop3session nor
    its session child maps libssl (no TLS context, no key can be in
    them); the session child's parent is the root pop3session."""
    rig.deliver("pea", message(1))
    owner = pwd.getpwnam(rig.inst.conf["mail_owner"]).pw_uid
    user = rig.users["pea"].pw_uid
    port = rig.pops_port if mode == "pop3s" else rig.pop_port
    with open_session(rig, ctx, mode) as c:
        m = rig.inst.wait_log(r"pop3session\[(\d+)\]: Login: user=<%s>, "
                              r"method=PLAIN, rip=127\.0\.0\.1, lip=%s, "
                              r"mpid=\d+%s\n"
                              % (rig.name("pea"), re.escape(rig.inst.host),
                                 "" if mode == "plain" else ", TLS"))
        child = int(m.group(1))
        inode = server_end(c, port)
        if mode == "plain":
            want = {child: ("pop3session", [user] * 4, "/")}
        else:
            front = [pid for pid, held in socket_holders(rig, inode).items()
                     if held[0] == "pop3d"]
            assert len(front) == 1, socket_holders(rig, inode)
            want = {front[0]: ("pop3d", [owner] * 4, rig.inst.queue_dir)}
        # The front closes its copy right after the hand-off, which the
        # login's reply may overtake.
        wait_until(lambda: socket_holders(rig, inode) == want,
                   what="the client's socket held by %s" % want)
        if mode == "plain":
            assert not [pid for pid in procfs.tree(rig.inst.pid)
                        if procfs.comm(pid) == "pop3d" and
                        inode in procfs.socket_inodes(pid)]
        # The session child and its root parent.
        assert procfs.comm(child) == "pop3session"
        assert procfs.uids(child) == [user] * 4
        parent = procfs.ppid(child)
        assert procfs.comm(parent) == "pop3session"
        assert procfs.uids(parent) == [0] * 4
        assert procfs.root(parent) == "/"
        assert inode not in procfs.socket_inodes(parent)
        for pid in (child, parent):
            assert "libssl" not in procfs.maps(pid), pid
        # The session works through all of it.
        assert c.cmd("STAT").startswith("+OK 1 ")
        assert c.cmd("QUIT").startswith("+OK")


FAKE_FRONT = r"""
import socket, sys
sys.path.insert(0, sys.argv[1])
import attrlist
path, ticket, passed = sys.argv[2], sys.argv[3], sys.argv[4]
kind = sys.argv[5] if len(sys.argv) > 5 else "relay"
client = sys.argv[6] if len(sys.argv) > 6 else None


def descriptor(what):
    # "pair": a socketpair's end (and ours); HOST:PORT: a TCP connection.
    if what == "pair":
        return socket.socketpair()
    host, port = what.rsplit(":", 1)
    return None, socket.create_connection((host, int(port)))


mine, theirs = descriptor(passed)
s = socket.socket(socket.AF_UNIX)
s.connect(path)
socket.send_fds(s, [b"F"], [theirs.fileno()])
theirs.close()
try:
    s.sendall(attrlist.encode([("ticket", ticket), ("method", "USER"),
                               ("tls", ""), ("socket", kind)]))
except (BrokenPipeError, ConnectionResetError):
    pass  # refused before the list: what a TCP socket gets
s.close()
if mine is None:
    # A TCP connection passed for the front's socketpair: no end of it
    # is left here to read (this used to wait 20 s on a socketpair of
    # its own that nothing could write to).  What root did with it is
    # in its log, which the test reads.
    sys.exit(0)
mine.settimeout(20)
data = b""
while True:
    try:
        d = mine.recv(4096)
    except socket.timeout:
        break
    if not d:
        break
    if d == b"\0" and not data and client:
        # The session process asks for the client's socket.
        _, other = descriptor(client)
        socket.send_fds(mine, [b"F"], [other.fileno()])
        data += b"[asked]"
        continue
    data += d
    if data.startswith(b"+OK") and data.endswith(b"\r\n") and \
            b"QUIT" not in data:
        data += b"QUIT\r\n"
        mine.sendall(b"QUIT\r\n")
sys.stdout.write(data.decode())
"""

AUTH_CLIENT = r"""
import socket, sys
sys.path.insert(0, sys.argv[1])
import attrlist
path, user, password = sys.argv[2], sys.argv[3], sys.argv[4]
s = socket.socket(socket.AF_UNIX)
s.connect(path)
s.settimeout(20)
for req in ([("request", "mechs"), ("service", "pop"),
             ("client_address", "127.0.0.1"), ("client_port", "4242"),
             ("server_address", "127.0.0.1"), ("server_port", "110"),
             ("allow_plaintext", "1"), ("external_ssf", "0")],
            [("request", "checkpass"), ("user", user),
             ("password", password), ("want_ticket", "1")]):
    s.sendall(attrlist.encode(req))
    reply = dict(attrlist.recv(s))
    assert reply.get("status") == b"ok", reply
sys.stdout.write(reply["ticket"].decode())
"""


def as_mail_owner(rig, script, *args):
    """Runs a Python script as mail_owner (what a compromised pop3d front
    could do); its standard output."""
    pw = pwd.getpwnam(rig.inst.conf["mail_owner"])
    r = subprocess.run([sys.executable, "-c", script,
                        os.path.dirname(os.path.abspath(__file__))] +
                       list(args), user=pw.pw_uid, group=pw.pw_gid,
                       extra_groups=[], capture_output=True, text=True,
                       timeout=scaled(40))
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_compromised_front_gets_no_session_without_a_valid_ticket(rig):
    """A pop3d front taken over by a client (mail_owner) talks to
    private/pop3session directly: a forged ticket, a ticket used once
    already, a TCP socket instead of its socketpair, or, when the
    session process asks for the client's socket, a socketpair or a TCP
    connection from another address than the ticket's get no session;
    the only session is the one the auth service issued a ticket for,
    once."""
    rig.deliver("pea", message(1))
    session = rig.inst.socket_path("pop3session")
    auth = rig.inst.socket_path("auth")
    mark = rig.inst.log_size()
    out = as_mail_owner(rig, FAKE_FRONT, session, secrets.token_hex(16),
                        "pair")
    assert out.startswith("-ERR") and "+OK" not in out, out
    rig.inst.wait_log(r"pop3session\[\d+\]: warning: ticket refused",
                      since=mark)
    # A ticket that is not even of the auth service's form is refused by
    # the hand-off's codec (lib/pop3_handoff.h), before any redeem.
    mark = rig.inst.log_size()
    out = as_mail_owner(rig, FAKE_FRONT, session, "NOT-A-TICKET", "pair")
    assert out.startswith("-ERR") and "+OK" not in out, out
    rig.inst.wait_log(r"pop3session\[\d+\]: warning: .*a malformed "
                      r"request: bad attribute \"ticket\"", since=mark)
    # A TCP connection passed as the front's socketpair is closed unread
    # (with TLS on it, only the front may speak it).
    with rig.client() as c:
        addr = "%s:%d" % (rig.inst.host, rig.pop_port)
        out = as_mail_owner(rig, FAKE_FRONT, session, secrets.token_hex(16),
                            addr, "relay")
        assert out == "", out
        rig.inst.wait_log(r"pop3session\[\d+\]: warning: .*the passed "
                          r"descriptor is not the front's end of a "
                          r"socketpair", since=mark)
        c.cmd("QUIT")
    # With socket=client the session process, once it runs as the
    # mailbox owner, asks for the client's socket; it refuses a
    # socketpair, and a TCP connection from another address than the
    # one the ticket was issued for (127.0.0.1; this one's peer is the
    # instance's address): closed unanswered, no session.
    for client, refusal in (
            ("pair", r"the passed descriptor is not a client's TCP "
                     r"connection"),
            ("%s:%d" % (rig.inst.host, rig.pop_port),
             r"the passed connection is from %s, the ticket was issued "
             r"for 127\.0\.0\.1" % re.escape(rig.inst.host))):
        ticket = as_mail_owner(rig, AUTH_CLIENT, auth, rig.name("pea"),
                               rig.password("pea"))
        mark = rig.inst.log_size()
        out = as_mail_owner(rig, FAKE_FRONT, session, ticket, "pair",
                            "client", client)
        assert out == "[asked]", out
        rig.inst.wait_log(r"pop3session\[\d+\]: warning: .*" + refusal,
                          since=mark)
    mark = rig.inst.log_size()
    # A real ticket (the password is known here) works once.
    ticket = as_mail_owner(rig, AUTH_CLIENT, auth, rig.name("pea"),
                           rig.password("pea"))
    assert re.fullmatch(r"[0-9a-f]{32}", ticket), ticket
    out = as_mail_owner(rig, FAKE_FRONT, session, ticket, "pair")
    assert out.startswith("+OK Logged in, 1 messages"), out
    assert "+OK Logging out" in out, out
    out = as_mail_owner(rig, FAKE_FRONT, session, ticket, "pair")
    assert out.startswith("-ERR") and "+OK" not in out, out
    assert rig.inst.log_count(r"Login: user=<%s>" % rig.name("pea"),
                              since=mark) == 1
    assert len(stored_messages(rig, "pea")) == 1


def test_services_lines_that_would_give_root_a_client_are_refused(
        instance, mail_owner):
    """The services lines of the old split (pop3d as the root session
    service) and a front that keeps root (unpriv n) stop at start-up with
    a message that says what to write instead."""
    port = instance.port()
    instance.conf["mail_owner"] = mail_owner
    instance.services = [
        "%d inet n n n - - pop3d" % port,
        "pop3session unix - n n - - pop3d",
    ]
    instance.start()
    instance.wait_port(port)
    # A connection makes master start each (it then throttles them).
    with socket.create_connection((instance.host, port), timeout=10):
        instance.wait_log(r"pop3d\[\d+\]: fatal: pop3d reads clients' "
                          r"bytes and must not run as root")
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(instance.socket_path("pop3session"))
        instance.wait_log(r"pop3d\[\d+\]: fatal: pop3d is the POP3 front "
                          r"and serves inet services only; the session "
                          r"service is the program pop3session")
