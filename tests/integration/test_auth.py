"""The auth service (auth/, private/auth, man auth.8): the one process that
reads the sasldb and checks passwords, for smtpd AUTH and the pop3d front.

Each test starts an instance with smtpd (AUTH on, users alice and bob in
a sasldb made by saslpasswd2) and the auth service's line, and talks to
private/auth with the attribute lists of lib/auth_proto.h
(attrlist.py), from processes of the uid a test needs: as root the
clients run as mail_owner, as a uid that is neither, or as root itself
(subprocess with user=).  Shown:
  - /proc: the auth process runs as auth_owner (every uid), unjailed,
    and is the one process that has the sasldb open; no smtpd process
    has another user's password in its memory (the whole of it, read
    from /proc/PID/mem) after a login through it;
  - peers: a uid that is neither root nor mail_owner is refused at
    connect (no reply, logged); mail_owner cannot redeem; root can only
    redeem;
  - exchanges: checkpass, PLAIN, APOP, nomech without plaintext,
    cancel;
  - tickets: redeemed once, for the user and client address of the
    login; a second redeem and an expired ticket (auth_ticket_lifetime)
    fail;
  - smtpd with no auth service: AUTH is not offered, an AUTH command gets
    454 4.7.0 and the session goes on; an auth process killed between
    EHLO and AUTH costs nothing (smtpd reconnects; master starts another).
Without root, the instance is one uid and the tests that need several
are skipped.
"""

import base64
import hashlib
import json
import os
import pwd
import re
import signal
import subprocess
import sys
import tempfile

import pytest

import attrlist
import panacea_test
import procfs
from panacea_test import scaled, wait_until
from smtp_helpers import (MYHOSTNAME, Session, mail_owner,  # noqa: F401
                          sasl_auth_conf, smtpd_setup)

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="needs root (several uids)")

USERS = {"alice": "alice-Secret-1", "bob": "Bob-has-a-Password-2"}
CLIENT = "127.0.0.9"
SERVER = "127.0.0.10"  # the front's side, for pop3session's lip=


def auth_conf(inst, **more):
    """A sasldb with USERS in inst's folder, and AUTH on."""
    return sasl_auth_conf(inst, USERS, **more)


def procs(inst, name):
    out = []
    for pid in inst.children():
        try:
            if procfs.comm(pid) == name:
                out.append(pid)
        except OSError:
            continue
    return out


def auth_pid(inst):
    return wait_until(lambda: (procs(inst, "auth") or [None])[0],
                      what="the auth process")


# -- a client of private/auth as any uid -----------------------------------

# Runs in a child (maybe under another uid): connects to argv[1], sends
# each request of argv[2] (a JSON list of hex strings) and reads one list
# after each; prints a JSON list of hex replies, "EOF" where the service
# closed the connection.
CLIENT_CODE = r"""
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(20)
s.connect(sys.argv[1])
out = []
buf = b""
for req in json.loads(sys.argv[2]):
    try:
        s.sendall(bytes.fromhex(req))
    except OSError:
        out.append("EOF")
        break
    while True:
        if b":" in buf:
            head, _ = buf.split(b":", 1)
            need = len(head) + 1 + int(head) + 1
            if len(buf) >= need:
                out.append(buf[:need].hex())
                buf = buf[need:]
                break
        try:
            c = s.recv(65536)
        except OSError:
            c = b""
        if not c:
            out.append("EOF")
            break
        buf += c
    if out[-1] == "EOF":
        break
print(json.dumps(out))
"""


def talk(path, requests, user=None):
    """Sends requests (lists of pairs) on one connection to path, as user
    (a pwd entry; None: this process's uid); returns the replies as
    dicts of str, or "EOF" where the service hung up."""
    wire = [attrlist.encode(r).hex() for r in requests]
    kw = {}
    if user is not None:
        kw = {"user": user.pw_uid, "group": user.pw_gid,
              "extra_groups": []}
    r = subprocess.run([sys.executable, "-c", CLIENT_CODE, path,
                        json.dumps(wire)], capture_output=True, text=True,
                       timeout=scaled(60), **kw)
    assert r.returncode == 0, r.stderr
    replies = []
    for h in json.loads(r.stdout):
        if h == "EOF":
            replies.append("EOF")
            continue
        pairs, _ = attrlist.decode(bytes.fromhex(h))
        replies.append({n: v.decode("utf-8", "replace") for n, v in pairs})
    return replies


def mechs(service="pop", plaintext=1):
    return [("request", "mechs"), ("service", service),
            ("client_address", CLIENT), ("client_port", "40000"),
            ("server_address", SERVER), ("server_port", "110"),
            ("allow_plaintext", plaintext), ("external_ssf", 0)]


def checkpass(user, password, ticket=1):
    return [("request", "checkpass"), ("user", user),
            ("password", password), ("want_ticket", ticket)]


def redeem(ticket):
    return [("request", "redeem"), ("ticket", ticket)]


def _auth_inst(instance, mail_owner, **conf):  # noqa: F811
    port = smtpd_setup(instance, mail_owner, conf=auth_conf(instance, **conf))
    return (instance, port, instance.socket_path("auth"),
            pwd.getpwnam(mail_owner))


@pytest.fixture
def auth_inst(instance, mail_owner):  # noqa: F811
    """An instance with smtpd AUTH and the auth service; returns
    (instance, smtp port, private/auth, the mail_owner pwd entry).
    Tickets live auth_ticket_lifetime's default (60 s): a test that
    redeems one seconds later on a loaded machine must not see it
    expire."""
    return _auth_inst(instance, mail_owner)


@pytest.fixture
def short_ticket_inst(instance, mail_owner):  # noqa: F811
    """auth_inst with auth_ticket_lifetime = 1s, for the test that waits
    a ticket out."""
    return _auth_inst(instance, mail_owner, auth_ticket_lifetime="1s")


def exchange_user(owner):
    """Who runs exchanges: mail_owner as root, else this process."""
    return owner if ROOT else None


@needs_root
def test_auth_runs_as_auth_owner_and_alone_holds_passwords(auth_inst):
    inst, port, path, owner = auth_inst
    with Session(inst.host, port) as s:
        s.expect("EHLO client.test", 250)
        apid = auth_pid(inst)
        plain = base64.b64encode(b"\0alice\0" + USERS["alice"].encode())
        s.expect("AUTH PLAIN " + plain.decode(), 235)
        smtpd = procs(inst, "smtpd")
        assert smtpd
        # The auth process: every uid auth_owner's, with its group, not
        # chrooted; libsasl2 read the sasldb as that user.
        aw = pwd.getpwnam(panacea_test.AUTH_OWNER)
        assert procfs.uids(apid) == [aw.pw_uid] * 4
        groups = procfs.groups(apid)
        assert aw.pw_gid in groups and 0 not in groups
        assert procfs.root(apid) == "/"
        assert owner.pw_uid != aw.pw_uid
        # No smtpd process has the sasldb open, nor another user's
        # password anywhere in its memory (alice's went through this
        # one: it is her own credential, relayed).
        sasldb = os.path.realpath(inst.conf["sasldb_path"])
        for pid in smtpd:
            assert sasldb not in procfs.fd_targets(pid), pid
            assert not procfs.memory_has(pid, USERS["bob"].encode()), pid
        for pid in inst.children():
            if pid != apid:
                assert sasldb not in procfs.fd_targets(pid), \
                    (pid, procfs.comm(pid))
    inst.wait_log(r"smtpd\[\d+\]: disconnect from")


@needs_root
def test_the_sasldb_is_for_auth_owner_only(auth_inst):
    inst, port, path, owner = auth_inst
    st = os.stat(inst.conf["sasldb_path"])
    aw = pwd.getpwnam(panacea_test.AUTH_OWNER)
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (0, aw.pw_gid,
                                                           0o640)
    # mail_owner cannot read it at all.
    r = subprocess.run(["cat", inst.conf["sasldb_path"]],
                       user=owner.pw_uid, group=owner.pw_gid,
                       extra_groups=[], capture_output=True)
    assert r.returncode != 0


# -- peers -------------------------------------------------------------------

@needs_root
def test_a_stranger_uid_is_refused(auth_inst, tmp_path):
    inst, port, path, owner = auth_inst
    nobody = pwd.getpwnam("nobody")
    assert nobody.pw_uid not in (0, owner.pw_uid)
    # private/ is mail_owner's 0700: a hard link elsewhere lets the
    # stranger reach the socket, so that the service's own check is what
    # refuses it.
    d = tempfile.mkdtemp(dir=str(tmp_path))
    os.chmod(d, 0o755)
    panacea_test.open_path(d)
    link = os.path.join(d, "auth")
    # The socket exists once master has set up the service.
    wait_until(lambda: os.path.exists(path), what="private/auth")
    os.link(path, link)
    # connect(2) needs write permission on the socket itself too: the
    # stranger gets it here (the same inode: private/auth as well).
    os.chmod(link, 0o666)
    mark = inst.log_size()
    assert talk(link, [mechs()], user=nobody) == ["EOF"]
    inst.wait_log(r"auth\[\d+\]: warning: connection from pid \d+ uid %d "
                  r"refused" % nobody.pw_uid, since=mark)
    # The same link works for mail_owner: it was the uid, not the path.
    r = talk(link, [mechs()], user=owner)
    assert r[0]["status"] == "ok"


@needs_root
def test_mail_owner_cannot_redeem_and_root_only_redeems(auth_inst):
    inst, port, path, owner = auth_inst
    r = talk(path, [mechs(), checkpass("alice", USERS["alice"])],
             user=owner)
    ticket = r[1]["ticket"]
    mark = inst.log_size()
    r = talk(path, [redeem(ticket)], user=owner)
    assert r[0]["status"] == "fail"
    inst.wait_log(r"warning: redeem refused to pid \d+ uid %d" %
                  owner.pw_uid, since=mark)
    # Root may not run exchanges (it must never parse a client's SASL).
    r = talk(path, [mechs(), checkpass("alice", USERS["alice"])])
    assert [x["status"] for x in r] == ["fail", "fail"]
    inst.wait_log(r"warning: mechs refused to pid \d+ uid 0", since=mark)
    # The refused redeem did not use the ticket up.
    r = talk(path, [redeem(ticket)])
    assert r[0]["status"] == "ok" and r[0]["user"] == "alice"


# -- exchanges and tickets ---------------------------------------------------

def test_ticket_is_single_use(auth_inst):
    inst, port, path, owner = auth_inst
    who = exchange_user(owner)
    r = talk(path, [mechs(), checkpass("alice", USERS["alice"]),
                    checkpass("alice", "wrong"),
                    checkpass("nobody-here", "x")], user=who)
    assert r[0]["status"] == "ok" and "PLAIN" in r[0]["mechs"].split()
    assert r[1]["status"] == "ok" and r[1]["user"] == "alice"
    assert re.fullmatch(r"[0-9a-f]{32}", r[1]["ticket"])
    assert r[2]["status"] == "fail" and "ticket" not in r[2]
    assert r[3]["status"] == "fail"
    ticket = r[1]["ticket"]
    first = talk(path, [redeem(ticket)])[0]
    assert first == {"status": "ok", "user": "alice", "service": "pop",
                     "client_address": CLIENT, "server_address": SERVER}
    assert talk(path, [redeem(ticket)])[0]["status"] == "fail"
    # A guess of the right shape is no ticket.
    assert talk(path, [redeem("0" * 32)])[0]["status"] == "fail"
    inst.wait_log(r"auth\[\d+\]: ticket redeemed by pid \d+: "
                  r"user=<alice>, service=pop, rip=%s, lip=%s\n"
                  % (re.escape(CLIENT), re.escape(SERVER)))


def test_ticket_expires(short_ticket_inst):
    inst, port, path, owner = short_ticket_inst
    r = talk(path, [mechs(), checkpass("bob", USERS["bob"])],
             user=exchange_user(owner))
    ticket = r[1]["ticket"]
    # auth_ticket_lifetime = 1s.
    import time
    time.sleep(scaled(2))
    assert talk(path, [redeem(ticket)])[0]["status"] == "fail"


def test_plain_apop_nomech_and_cancel(auth_inst):
    inst, port, path, owner = auth_inst
    stamp = "<4242.1700000000@%s>" % MYHOSTNAME
    digest = hashlib.md5((stamp + USERS["bob"]).encode()).hexdigest()
    apop = [("request", "apop"), ("user", "bob"), ("timestamp", stamp),
            ("digest", digest), ("want_ticket", 1)]
    bad_apop = [("request", "apop"), ("user", "bob"), ("timestamp", stamp),
                ("digest", "0" * 32), ("want_ticket", 0)]
    plain = [("request", "start"), ("mech", "PLAIN"), ("has_response", 1),
             ("response", b"\0alice\0" + USERS["alice"].encode()),
             ("want_ticket", 0)]
    login = [("request", "start"), ("mech", "LOGIN"), ("has_response", 0),
             ("want_ticket", 0)]
    r = talk(path, [mechs(), apop, bad_apop, plain, login,
                    [("request", "cancel")],
                    [("request", "step"), ("response", b"alice")]],
             user=exchange_user(owner))
    assert r[1]["status"] == "ok" and r[1]["user"] == "bob" and \
        "ticket" in r[1]
    assert r[2]["status"] == "fail"
    assert r[3] == {"status": "ok", "user": "alice"}
    assert r[4]["status"] == "continue"
    assert r[5]["status"] == "ok"
    # After the cancel there is no exchange to step (CVE-2011-1720).
    assert r[6]["status"] == "fail"
    # Without plaintext: no PLAIN/LOGIN, and no USER/PASS either.
    r = talk(path, [mechs(plaintext=0), checkpass("alice", USERS["alice"]),
                    plain], user=exchange_user(owner))
    assert "PLAIN" not in r[0]["mechs"].split()
    assert r[1]["status"] == "nomech"
    assert r[2]["status"] == "nomech"


def test_malformed_and_oversized_requests_close(auth_inst):
    inst, port, path, owner = auth_inst
    mark = inst.log_size()
    r = talk(path, [[("request", "checkpass"), ("user", "a\nb"),
                     ("password", "x")]], user=exchange_user(owner))
    assert r[0]["status"] == "fail"
    inst.wait_log(r"auth\[\d+\]: warning: bad request from pid", since=mark)
    big = [("request", "step"), ("response", b"x" * 40000)]
    r = talk(path, [mechs(), big], user=exchange_user(owner))
    assert r[1] == "EOF"
    inst.wait_log(r"auth\[\d+\]: warning: oversized request", since=mark)


# -- smtpd and a dead service --------------------------------------------------

def test_smtpd_without_auth_service_says_454(instance, mail_owner):  # noqa
    port = smtpd_setup(instance, mail_owner, conf=auth_conf(instance),
                       auth=False)
    with Session(instance.host, port) as s:
        r = s.expect("EHLO client.test", 250)
        assert not any(line.startswith("AUTH") for line in r.lines)
        plain = base64.b64encode(b"\0alice\0" + USERS["alice"].encode())
        s.expect("AUTH PLAIN " + plain.decode(), 454, "4.7.0 Temporary "
                 "authentication failure")
        # The session goes on.
        s.expect("NOOP", 250)
        s.expect("MAIL FROM:<a@client.test>", 250)
        s.expect("QUIT", 221)
    instance.wait_log(r"smtpd\[\d+\]: warning: SASL authentication is "
                      r"unavailable: cannot connect to the auth service")


def test_smtpd_survives_an_auth_restart(auth_inst):
    inst, port, path, owner = auth_inst
    with Session(inst.host, port) as s:
        r = s.expect("EHLO client.test", 250)
        assert any(line.startswith("AUTH") for line in r.lines)
        first = auth_pid(inst)
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: first not in inst.children(),
                   what="the auth process gone")
        plain = base64.b64encode(b"\0alice\0" + USERS["alice"].encode())
        s.expect("AUTH PLAIN " + plain.decode(), 235)
        assert auth_pid(inst) != first


def test_smtpd_wrong_password_through_the_service(auth_inst):
    inst, port, path, owner = auth_inst
    with Session(inst.host, port) as s:
        s.expect("EHLO client.test", 250)
        plain = base64.b64encode(b"\0bob\0" + USERS["alice"].encode())
        s.expect("AUTH PLAIN " + plain.decode(), 535)
        plain = base64.b64encode(b"\0bob\0" + USERS["bob"].encode())
        s.expect("AUTH PLAIN " + plain.decode(), 235)
    m = inst.wait_log(r"smtpd\[\d+\]: warning: ([^\s\[]+)\[([0-9.]+)\]: SASL "
                      r"PLAIN authentication failed")
    assert m.group(1) == panacea_test.peer_name(m.group(2))


@needs_root
def test_panacea_check_wants_a_proper_auth_owner(instance, mail_owner):  # noqa
    smtpd_setup(instance, mail_owner, conf=auth_conf(instance), start=False)

    def check(owner):
        instance.conf["auth_owner"] = owner
        instance.write()
        return subprocess.run([panacea_test.program("panacea"), "-c",
                               instance.config_dir, "check"],
                              capture_output=True, text=True,
                              timeout=scaled(30))

    r = check(panacea_test.AUTH_OWNER)
    assert "auth_owner" not in r.stderr, r.stderr
    r = check("no-such-account-here")
    assert r.returncode == 1
    assert "auth_owner no-such-account-here does not exist" in r.stderr
    r = check(mail_owner)
    assert r.returncode == 1
    assert "must be neither root nor mail_owner" in r.stderr


def test_connections_are_bounded(auth_inst):
    """AUTH_CONN_MAX (512, auth/auth.h): the next connection is closed at
    once and logged; once the others go, connections work again."""
    import socket
    inst, port, path, owner = auth_inst
    wait_until(lambda: os.path.exists(path), what="private/auth")
    mark = inst.log_size()
    socks = []
    try:
        for _ in range(512):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            socks.append(s)
        # Every one of them is held by the service: each gets its reply.
        last = socks[-1]
        last.settimeout(scaled(20))
        last.sendall(attrlist.encode(redeem("1" * 32)))
        assert attrlist.recv(last)[0] == ("status", b"fail")
        extra = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        socks.append(extra)
        extra.settimeout(scaled(20))
        extra.connect(path)
        inst.wait_log(r"auth\[\d+\]: warning: 512 connections already",
                      since=mark)
        assert extra.recv(1) == b""
    finally:
        for s in socks:
            s.close()
    wait_until(lambda: talk(path, [redeem("2" * 32)])[0] != "EOF",
               what="a connection served again")
