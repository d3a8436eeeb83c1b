"""postscreen(8) in front of smtpd (postscreen/, Postfix's POSTSCREEN_README):
the pass service hand-off, the access list, the pregreet test, DNSBL
scores against nsd on loopback, the temporary allowlist, and the
process's ids and jail.

Every test runs Postfix's two lines, "PORT inet n - y - 1 postscreen"
and smtpd's shipped smtp line as the pass service "smtpd pass ...", and
talks SMTP over real sockets from chosen 127.0.0.x source addresses
(mynetworks is 127.0.0.1/32, so that postscreen's default access list,
permit_mynetworks, lets them through the tests).  postscreen_greet_wait
is shortened to a second or two.
"""

import os
import pwd
import re
import socket
import time

import pytest

import panacea_test
import procfs
from panacea_test import Instance, peer_re, scaled, unless_built
from smtp_helpers import (MYHOSTNAME, Session, base_conf,  # noqa: F401
                          mail_owner, other_loopback, queued_id)

pytestmark = unless_built("master", "smtpd", "postscreen")

ROOT = "root@" + MYHOSTNAME
LISTED, UNLISTED = "127.0.0.66", "127.0.0.67"
DNS_ZONES = {
    # 127.0.0.66 listed with 127.0.0.2 (inside the filter below).
    "zen.example": "66.0.0.127 A 127.0.0.2\n",
    # 127.0.0.66 listed with a code the filter leaves out.
    "other.example": "66.0.0.127 A 127.0.0.1\n",
}


def jailed():
    return os.geteuid() == 0


def screen_setup(inst, owner, conf=None, data_dir=False):
    """postscreen on a fresh port in front of the smtpd pass service;
    data_dir: a data_directory for the cache (mail_owner's), else no
    cache.  Returns the port."""
    port = inst.port()
    chroot = "y" if jailed() else "n"
    inst.conf.update({
        **base_conf(owner),
        "mynetworks": "127.0.0.1/32",
        "postscreen_greet_wait": "1s",
        "postscreen_greet_banner": "$myhostname screening",
        "postscreen_cache_map": "",
    })
    if data_dir:
        # As root postscreen makes the folder for mail_owner itself.
        d = os.path.join(inst.base, "data")
        panacea_test.open_path(inst.base)
        if os.geteuid() != 0:
            os.makedirs(d, exist_ok=True)
        inst.conf["data_directory"] = d
        del inst.conf["postscreen_cache_map"]
    inst.conf.update(conf or {})
    smtpd = Instance.shipped("smtp", "inet", "smtpd", private="y",
                             chroot=chroot).split()
    smtpd[1] = "pass"
    inst.services = [
        Instance.service(port, "postscreen", private="n", unpriv="y",
                         chroot=chroot, maxproc=1),
        " ".join(smtpd),
    ]
    inst.write()
    inst.start()
    inst.wait_port(port)
    return port


def client(inst, n=0):
    """The n-th client address of a test (never the instance's)."""
    out = []
    for _ in range(n + 1):
        out.append(other_loopback(inst, avoid=out + [LISTED, UNLISTED]))
    return out[n]


def sess(inst, port, source, greet=True):
    return Session(inst.host, port, source=source, greet=greet)


def tag(addr, sock):
    return r"\[%s\]:%d" % (re.escape(addr), sock.getsockname()[1])


def read_all(sock, timeout=10):
    """Everything the server sends until it closes."""
    sock.settimeout(scaled(timeout))
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return data.decode("ascii", "replace")
        data += chunk


# -- the hand-off ------------------------------------------------------------

def test_clean_client_mail_reaches_smtpd(instance, mail_owner):
    """A client that waits its turn passes (PASS NEW), sees the teaser
    and smtpd's greeting as one reply, and its mail is queued by smtpd,
    which logs the real client address."""
    inst = instance
    port = screen_setup(inst, mail_owner)
    addr = client(inst)
    with sess(inst, port, addr) as s:
        me = tag(addr, s.sock)
        assert s.greeting.code == 220
        assert s.greeting.lines[0] == MYHOSTNAME + " screening"
        assert s.greeting.lines[-1].startswith(MYHOSTNAME + " ESMTP")
        qid = s.send_message("a@example.org", [ROOT],
                             "Subject: t\r\n\r\nhello\r\n.\r\n")
        s.expect("QUIT", 221)
    log = inst.log()
    assert re.search(r"postscreen\[\d+\]: CONNECT from %s to \[%s\]:%d\n"
                     % (me, re.escape(inst.host), port), log)
    assert re.search(r"postscreen\[\d+\]: PASS NEW %s\n" % me, log)
    assert re.search(r"smtpd\[\d+\]: connect from %s\n" % peer_re(addr),
                     log)
    inst.wait_log(r"smtpd\[\d+\]: %s: client=%s"
                  % (qid, peer_re(addr)))
    # No cache: the next connection is tested again.
    with sess(inst, port, addr) as s:
        assert len(s.greeting.lines) == 2
        s.expect("QUIT", 221)


def test_pass_service_takes_only_tcp(instance, mail_owner):
    """smtpd's pass service serves only a TCP connection handed to it: a
    unix socket's descriptor sent by hand is refused and logged."""
    inst = instance
    screen_setup(inst, mail_owner)
    a, b = socket.socketpair()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
        c.connect(inst.socket_path("smtpd"))
        socket.send_fds(c, [b"x"], [b.fileno()])
    b.close()
    inst.wait_log(r"smtpd\[\d+\]: warning: pass service smtpd: the "
                  r"descriptor received is no TCP connection: refused")
    a.settimeout(scaled(2))
    assert a.recv(100) == b""
    a.close()


# -- the access list ---------------------------------------------------------

def write_cidr(inst, text, name="postscreen_access.cidr"):
    path = os.path.join(inst.config_dir, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def test_access_list_permit_and_drop(instance, mail_owner):
    """permit: handed off at once, without the teaser; reject with
    postscreen_denylist_action = drop: 521 and disconnect."""
    inst = instance
    good, bad = client(inst, 0), client(inst, 1)
    cidr = write_cidr(inst, "%s permit\n%s reject\n" % (good, bad))
    port = screen_setup(inst, mail_owner, {
        "postscreen_access_list": "permit_mynetworks, cidr:" + cidr,
        "postscreen_denylist_action": "drop",
        "postscreen_greet_wait": "3s",
    })
    start = time.monotonic()
    with sess(inst, port, good) as s:
        me = tag(good, s.sock)
        assert s.greeting.code == 220
        assert len(s.greeting.lines) == 1
        assert time.monotonic() - start < 2.5
        s.expect("QUIT", 221)
    inst.wait_log(r"postscreen\[\d+\]: ALLOWLISTED %s\n" % me)
    with sess(inst, port, bad, greet=False) as s:
        me = tag(bad, s.sock)
        assert read_all(s.sock) == ("521 5.3.2 %s Service currently "
                                    "unavailable\r\n" % MYHOSTNAME)
    inst.wait_log(r"postscreen\[\d+\]: DENYLISTED %s\n" % me)
    inst.wait_log(r"postscreen\[\d+\]: DISCONNECT %s\n" % me)


def test_access_list_old_names_enforce(instance, mail_owner):
    """respectful_logging = no logs Postfix's older words, and
    postscreen_blacklist_action (the pre-3.6 name) = enforce makes the
    dummy SMTP engine refuse every RCPT with 550 5.3.2."""
    inst = instance
    good, bad = client(inst, 0), client(inst, 1)
    first = write_cidr(inst, "%s dunno\n%s reject\n" % (good, bad))
    second = write_cidr(inst, "%s permit\n" % good, "second.cidr")
    port = screen_setup(inst, mail_owner, {
        "postscreen_access_list": "cidr:%s, cidr:%s" % (first, second),
        "postscreen_blacklist_action": "enforce",
        "respectful_logging": "no",
    })
    with sess(inst, port, bad) as s:
        me = tag(bad, s.sock)
        assert s.greeting.code == 220
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<a@example.org>", 250)
        r = s.expect("RCPT TO:<%s>" % ROOT, 550)
        assert r.text == "5.3.2 Service currently unavailable"
        s.expect("DATA", 554)
        s.expect("QUIT", 221)
    log = inst.log()
    assert re.search(r"postscreen\[\d+\]: BLACKLISTED %s\n" % me, log)
    assert re.search(r"postscreen\[\d+\]: NOQUEUE: reject: RCPT from %s: "
                     r"550 5\.3\.2 Service currently unavailable; "
                     r"from=<a@example\.org>, to=<%s>, proto=ESMTP, "
                     r"helo=<client\.test>\n" % (me, re.escape(ROOT)), log)
    # dunno in the first table goes on to the next one (permit).
    with sess(inst, port, good) as s:
        me = tag(good, s.sock)
        s.expect("QUIT", 221)
    inst.wait_log(r"postscreen\[\d+\]: WHITELISTED %s\n" % me)


# -- the pregreet test -------------------------------------------------------

def test_pregreet_drop(instance, mail_owner):
    """A client that talks before its turn is logged (PREGREET, with
    the escaped text) and, with drop, gets 521 and is disconnected."""
    inst = instance
    port = screen_setup(inst, mail_owner, {"postscreen_greet_action": "drop",
                                    "postscreen_greet_wait": "3s"})
    addr = client(inst)
    with sess(inst, port, addr, greet=False) as s:
        me = tag(addr, s.sock)
        s.send("EHLO zombie\r\n")
        out = read_all(s.sock)
    assert out == ("220-%s screening\r\n521 5.5.1 Protocol error\r\n"
                   % MYHOSTNAME)
    inst.wait_log(r"postscreen\[\d+\]: PREGREET 13 after \d+\.\d\d from "
                  r"%s: EHLO zombie\\r\\n\n" % me)
    inst.wait_log(r"postscreen\[\d+\]: DISCONNECT %s\n" % me)
    assert not re.search(r"PASS NEW", inst.log())


def test_pregreet_enforce_and_ignore(instance, mail_owner):
    """enforce: the dummy engine answers the early EHLO after the
    greeting and refuses RCPT; ignore: the client is handed off, its
    early command reaches smtpd, and it is not allowlisted."""
    inst = instance
    port = screen_setup(inst, mail_owner, {"postscreen_greet_action": "enforce"})
    addr = client(inst)
    with sess(inst, port, addr, greet=False) as s:
        s.send("EHLO zombie.test\r\n")
        r = s.reply()
        assert r.code == 220 and len(r.lines) == 2
        assert s.reply().code == 250
        s.expect("MAIL FROM:<z@example.org>", 250)
        r = s.expect("RCPT TO:<%s>" % ROOT, 550)
        assert r.text == "5.3.2 Service currently unavailable"
        s.expect("QUIT", 221)
    assert not re.search(r"smtpd\[\d+\]: connect from %s"
                         % peer_re(addr), inst.log())
    inst.stop()
    inst.conf["postscreen_greet_action"] = "ignore"
    inst.write()
    inst.start()
    inst.wait_port(port)
    mark = inst.log_size()
    with sess(inst, port, addr, greet=False) as s:
        me = tag(addr, s.sock)
        s.send("EHLO early.test\r\n")
        r = s.reply()
        assert r.code == 220 and r.lines[-1].startswith(MYHOSTNAME)
        assert s.reply().code == 250
        s.expect("QUIT", 221)
    log = inst.log(mark)
    assert re.search(r"postscreen\[\d+\]: PREGREET 17 after .* from %s: "
                     % me, log)
    assert re.search(r"smtpd\[\d+\]: connect from %s"
                     % peer_re(addr), log)
    assert "PASS NEW" not in log


# -- DNSBL -------------------------------------------------------------------

@pytest.fixture
def dns(instance):
    from dnsserver import serve_beside
    yield from serve_beside(instance, DNS_ZONES, (LISTED, UNLISTED))


def test_dnsbl_enforce(instance, mail_owner, dns):
    """A listed client reaches the threshold (weights, filter) and gets
    the DNSBL's name in the 550 reply of every RCPT; an unlisted one
    passes to smtpd."""
    inst = instance
    port = screen_setup(inst, mail_owner, {
        "dns_nameservers": dns.nameservers,
        "postscreen_dnsbl_sites": "zen.example=127.0.0.[2..11]*2, "
                                  "other.example=127.0.0.2",
        "postscreen_dnsbl_threshold": "2",
        "postscreen_dnsbl_action": "enforce",
    })
    with sess(inst, port, LISTED) as s:
        me = tag(LISTED, s.sock)
        assert s.greeting.code == 220
        s.expect("HELO client.test", 250)
        s.expect("MAIL FROM:<a@example.org>", 250)
        r = s.expect("RCPT TO:<%s>" % ROOT, 550)
        assert r.text == ("5.7.1 Service unavailable; client [%s] blocked "
                          "using zen.example" % LISTED)
        s.expect("QUIT", 221)
    assert re.search(r"postscreen\[\d+\]: DNSBL rank 2 for %s\n" % me,
                     inst.log())
    with sess(inst, port, UNLISTED) as s:
        me = tag(UNLISTED, s.sock)
        s.expect("EHLO client.test", 250)
        s.expect("QUIT", 221)
    inst.wait_log(r"postscreen\[\d+\]: PASS NEW %s\n" % me)
    inst.wait_log(r"smtpd\[\d+\]: connect from %s"
                  % peer_re(UNLISTED))


def test_dnsbl_drop_reply_map(instance, mail_owner, dns):
    """drop: 521 with the name postscreen_dnsbl_reply_map gives."""
    inst = instance
    port = screen_setup(inst, mail_owner, {
        "dns_nameservers": dns.nameservers,
        "postscreen_dnsbl_sites": "zen.example",
        "postscreen_dnsbl_action": "drop",
        "postscreen_dnsbl_reply_map": "inline:{ zen.example=public.example }",
    })
    with sess(inst, port, LISTED, greet=False) as s:
        out = read_all(s.sock)
    assert out == ("220-%s screening\r\n521 5.7.1 Service unavailable; "
                   "client [%s] blocked using public.example\r\n"
                   % (MYHOSTNAME, LISTED))


# -- the cache ---------------------------------------------------------------

def test_cache_pass_old(instance, mail_owner):
    """A client that passed is handed straight to smtpd next time (PASS
    OLD, no wait, no teaser), also after postscreen restarts."""
    inst = instance
    port = screen_setup(inst, mail_owner, {"postscreen_greet_wait": "3s"},
                 data_dir=True)
    addr = client(inst)
    start = time.monotonic()
    with sess(inst, port, addr) as s:
        me = tag(addr, s.sock)
        assert len(s.greeting.lines) == 2
        assert time.monotonic() - start >= 2.9
        s.expect("QUIT", 221)
    inst.wait_log(r"postscreen\[\d+\]: PASS NEW %s\n" % me)
    cache = os.path.join(inst.conf["data_directory"], "postscreen_cache")
    assert os.path.exists(cache)
    if os.geteuid() == 0:
        uid = pwd.getpwnam(mail_owner).pw_uid
        assert os.stat(cache).st_uid == uid
        st = os.stat(os.path.dirname(cache))
        assert (st.st_uid, st.st_mode & 0o777) == (uid, 0o700)
    for _ in range(2):
        start = time.monotonic()
        with sess(inst, port, addr) as s:
            me = tag(addr, s.sock)
            assert len(s.greeting.lines) == 1
            assert time.monotonic() - start < 2
            s.expect("QUIT", 221)
        inst.wait_log(r"postscreen\[\d+\]: PASS OLD %s\n" % me)
        inst.stop()
        inst.start()
        inst.wait_port(port)
    # Another address is still tested.
    with sess(inst, port, client(inst, 1)) as s:
        assert len(s.greeting.lines) == 2


# -- the process -------------------------------------------------------------

def test_postscreen_runs_jailed_as_mail_owner(instance, mail_owner):
    """DESIGN.md "Privileges and chroot": postscreen is mail_owner in
    every uid, chrooted to the queue directory, one process, and holds
    nothing of the queue."""
    if os.geteuid() != 0:
        pytest.skip("needs root: postscreen drops to mail_owner and chroots")
    inst = instance
    port = screen_setup(inst, mail_owner, data_dir=True)
    with sess(inst, port, client(inst)) as s:
        s.expect("QUIT", 221)
    pids = [p for p in inst.children() if procfs.comm(p) == "postscreen"]
    assert len(pids) == 1
    pid = pids[0]
    procfs.assert_jailed(pid, mail_owner, inst.queue_dir)


@pytest.mark.parametrize("name,value,why", [
    ("postscreen_greet_action", "reject",
     'bad value "reject" (ignore, enforce or drop)'),
    ("postscreen_dnsbl_sites", "zen.example*lots",
     '"zen.example*lots": bad weight "lots"'),
    ("postscreen_access_list", "permit_mynetworks, allow",
     'unknown entry "allow"'),
    ("postscreen_cache_map", "hash:/tmp/x",
     '"hash:/tmp/x": only btree:/absolute/path is supported'),
])
def test_bad_parameter_stops_postscreen(instance, mail_owner, name, value,
                                        why):
    """A bad value stops postscreen at start-up with the file and line
    where it is set."""
    inst = instance
    port = screen_setup(inst, mail_owner, {name: value})
    # The connection makes master start postscreen; nothing will answer.
    with socket.create_connection((inst.host, port), timeout=5):
        m = inst.wait_log(r"postscreen\[\d+\]: fatal: (\S+): %s: %s"
                          % (name, re.escape(why)))
    assert re.fullmatch(r".*/panacea\.conf:\d+", m.group(1)), m.group(1)
