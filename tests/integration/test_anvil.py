"""Per-client connection count and rate limits through the anvil service
(anvil/, smtpd/smtpd_anvil.c), as Postfix's anvil(8) and its
smtpd_client_*_limit parameters.

Every test runs the shipped anvil line (private, mail_owner, chrooted,
one process) next to smtpd, with smtpd_client_event_limit_exceptions
empty (its default, $mynetworks, holds the loopback clients of the
tests), and talks SMTP over real sockets from chosen 127.0.0.x source
addresses: a limit trips at the configured count with Postfix's reply
and warning, a rate starts over after anvil_rate_time_unit, an
exception is not limited, the counts are shared by the smtpd processes
of a service (one client a process: concurrent sessions are different
processes), and smtpd takes mail on when anvil is missing or hangs.
"""

import os
import re
import signal
import time

import pytest

import panacea_test
import procfs
from panacea_test import Instance, peer_re, unless_built
from smtp_helpers import (MYHOSTNAME, Session, client_tls_context,  # noqa
                          mail_owner, make_tls, other_loopback, queued_id,
                          sasl_auth_conf, smtpd_setup)

pytestmark = unless_built("master", "smtpd", "anvil")

ROOT = "root@" + MYHOSTNAME
# Short enough to wait for, long enough for a few sessions on a slow
# machine.
UNIT = 3


def anvil_line():
    """The shipped anvil line (unjailed when not root: nothing to drop
    to)."""
    if os.geteuid() == 0:
        return Instance.shipped("anvil")
    return Instance.shipped("anvil", chroot="n")


def limits_setup(inst, owner, conf, anvil=True, exceptions="", **kw):
    """smtpd with the limits of conf and, when anvil, the anvil service;
    exceptions: smtpd_client_event_limit_exceptions (None: not set).
    Returns (port, service name as smtpd logs it)."""
    full = {"anvil_rate_time_unit": "%ds" % UNIT}
    if exceptions is not None:
        full["smtpd_client_event_limit_exceptions"] = exceptions
    full.update(conf)
    services = [anvil_line()] if anvil else []
    port = smtpd_setup(inst, owner, conf=full, services=services, **kw)
    return port, str(port)


def clients(inst, n=2):
    """n loopback addresses for clients, none the instance's."""
    out = []
    for _ in range(n):
        out.append(other_loopback(inst, avoid=out))
    return out


def warning(what, value, addr, service):
    return (r"smtpd\[\d+\]: warning: %s limit exceeded: %d from "
            r"%s for service %s\n" %
            (what, value, peer_re(addr), re.escape(service)))


def anvil_pids(inst):
    return [p for p in inst.children() if procfs.comm(p) == "anvil"]


def start_anvil(inst, port, client):
    """One session of client: master starts anvil at smtpd's first
    request.  Returns anvil's pid."""
    with Session(inst.host, port, source=client) as s:
        assert s.greeting.code == 220
        pid = panacea_test.wait_until(lambda: anvil_pids(inst),
                                      what="the anvil process")[0]
        s.expect("QUIT", 221)
    return pid


# -- the service -------------------------------------------------------------

def test_anvil_runs_jailed_as_mail_owner(instance, mail_owner):
    """DESIGN.md "Privileges and chroot": anvil is mail_owner in every
    uid, chrooted to the queue directory, and holds nothing of the
    queue."""
    if os.geteuid() != 0:
        pytest.skip("needs root: anvil drops to mail_owner and chroots")
    inst = instance
    port, _ = limits_setup(inst, mail_owner, {})
    client = clients(inst, 1)[0]
    pid = start_anvil(inst, port, client)
    procfs.assert_jailed(pid, mail_owner, inst.queue_dir)
    assert len(anvil_pids(inst)) == 1


def test_statistics_lines(instance, mail_owner):
    """anvil logs Postfix's statistics lines every
    anvil_status_update_time and when it exits."""
    inst = instance
    port, service = limits_setup(inst, mail_owner,
                          {"anvil_status_update_time": "1s"})
    client = clients(inst, 1)[0]
    with Session(inst.host, port, source=client) as a, \
            Session(inst.host, port, source=client) as b:
        assert (a.greeting.code, b.greeting.code) == (220, 220)
    ident = re.escape("%s:%s" % (service, client))
    when = r"[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d"
    inst.wait_log(r"anvil\[\d+\]: statistics: max connection rate "
                  r"2/%ds for \(%s\) at %s\n" % (UNIT, ident, when))
    inst.wait_log(r"anvil\[\d+\]: statistics: max connection count "
                  r"2 for \(%s\) at %s\n" % (ident, when))
    # smtpd_setup's own probe of the port is a client too.
    inst.wait_log(r"anvil\[\d+\]: statistics: max cache size \d+ at %s\n"
                  % when)


# -- the limits --------------------------------------------------------------

def test_connection_count_limit(instance, mail_owner):
    """The third simultaneous connection of a client gets 421 and the
    warning; the count is shared by the smtpd processes that serve the
    client, and goes down when a session ends."""
    inst = instance
    port, service = limits_setup(inst, mail_owner,
                          {"smtpd_client_connection_count_limit": "2"})
    client, other = clients(inst)
    a = Session(inst.host, port, source=client)
    b = Session(inst.host, port, source=client)
    try:
        assert (a.greeting.code, b.greeting.code) == (220, 220)
        with Session(inst.host, port, source=client) as c:
            assert str(c.greeting) == (
                "421 4.7.0 %s Error: too many connections from %s" %
                (MYHOSTNAME, client))
            assert c.eof()
        inst.wait_log(warning("Connection concurrency", 3, client,
                              service))
        # Another client is counted on its own.
        with Session(inst.host, port, source=other) as d:
            assert d.greeting.code == 220
        # a and b were served by two smtpd processes.
        pids = set(int(p) for p in re.findall(
            r"smtpd\[(\d+)\]: connect from %s" % peer_re(client),
            inst.log()))
        assert len(pids) == 3, pids
        a.expect("QUIT", 221)
        a.close()
        # One session less: room for one more.
        inst.wait_log(r"disconnect from %s.*quit=1" % peer_re(client))
        with Session(inst.host, port, source=client) as e:
            assert e.greeting.code == 220
            e.expect("QUIT", 221)
    finally:
        a.close()
        b.close()


def test_connection_rate_limit_and_reset(instance, mail_owner):
    """The third connection in a time unit gets 421; after the unit the
    client may connect again."""
    inst = instance
    port, service = limits_setup(inst, mail_owner,
                          {"smtpd_client_connection_rate_limit": "2"})
    client = clients(inst, 1)[0]
    for _ in range(2):
        with Session(inst.host, port, source=client) as s:
            assert s.greeting.code == 220
            s.expect("QUIT", 221)
    with Session(inst.host, port, source=client) as s:
        assert str(s.greeting) == (
            "421 4.7.0 %s Error: too many connections from %s" %
            (MYHOSTNAME, client))
    inst.wait_log(warning("Connection rate", 3, client, service))
    time.sleep(UNIT)  # the time unit is what is tested

    def greeted():
        with Session(inst.host, port, source=client) as s:
            return s.greeting.code == 220
    panacea_test.wait_until(greeted, timeout=UNIT, interval=0.5,
                            what="a new time unit")


def test_message_rate_limit_across_processes(instance, mail_owner):
    """MAIL commands are counted per client across sessions in different
    smtpd processes; the third gets 450 4.7.1, accepted or not; a new
    time unit lets mail through again."""
    inst = instance
    port, service = limits_setup(inst, mail_owner,
                          {"smtpd_client_message_rate_limit": "2"})
    client = clients(inst, 1)[0]
    with Session(inst.host, port, source=client) as a, \
            Session(inst.host, port, source=client) as b:
        a.expect("EHLO client.test", 250)
        b.expect("EHLO client.test", 250)
        a.expect("MAIL FROM:<a@example.org>", 250)
        a.expect("RSET", 250)
        b.expect("MAIL FROM:<b@example.org>", 250)
        b.expect("RSET", 250)
        a.expect("MAIL FROM:<a@example.org>", 450,
                 r"^4\.7\.1 Error: too much mail from %s$" %
                 re.escape(client))
        # The session goes on: other commands work.
        a.expect("NOOP", 250)
        pids = set(re.findall(r"smtpd\[(\d+)\]: connect from", inst.log()))
        assert len(pids) == 2, pids
    inst.wait_log(warning("Message delivery request rate", 3, client,
                          service))
    time.sleep(UNIT)  # the time unit is what is tested
    with Session(inst.host, port, source=client) as s:
        qid = s.send_message("a@example.org", [ROOT],
                             b"Subject: later\r\n\r\nok\r\n.\r\n")
        assert qid


def test_recipient_rate_limit(instance, mail_owner):
    inst = instance
    port, service = limits_setup(inst, mail_owner,
                          {"smtpd_client_recipient_rate_limit": "2"})
    client = clients(inst, 1)[0]
    with Session(inst.host, port, source=client) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<a@example.org>", 250)
        s.expect("RCPT TO:<%s>" % ROOT, 250)
        # Refused recipients count too.
        s.expect("RCPT TO:<nobody-here@%s>" % MYHOSTNAME, 550)
        s.expect("RCPT TO:<%s>" % ROOT, 450,
                 r"^4\.7\.1 Error: too many recipients from %s$" %
                 re.escape(client))
        # What was accepted is still delivered.
        s.expect("DATA", 354)
        s.send(b"Subject: one\r\n\r\nhi\r\n.\r\n")
        assert queued_id(s.reply())
        r = s.cmd("QUIT")
        assert r.code == 221
    inst.wait_log(warning("Recipient address rate", 3, client, service))
    inst.wait_log(r"disconnect from %s ehlo=1 mail=1 "
                  r"rcpt=1/3 data=1 quit=1 commands=5/7" % peer_re(client))


def test_auth_rate_limit(instance, mail_owner):
    inst = instance
    conf = sasl_auth_conf(inst, {"alice": "wonder land"},
                          smtpd_client_auth_rate_limit="1")
    port, service = limits_setup(inst, mail_owner, conf)
    client = clients(inst, 1)[0]
    with Session(inst.host, port, source=client) as s:
        s.expect("EHLO client.test", 250)
        s.expect("AUTH NOSUCH", 504)
        s.expect("AUTH NOSUCH", 450,
                 r"^4\.7\.1 Error: too many AUTH commands from %s$" %
                 re.escape(client))
    inst.wait_log(warning("AUTH command rate", 2, client, service))


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    return make_tls(tmp_path_factory.mktemp("tls"))


def test_new_tls_session_rate_limit(instance, mail_owner, tls_files):
    """With a limit of 1: the first STARTTLS works; once the limit is
    reached STARTTLS gets 454 (no handshake) and the session goes on in
    plaintext."""
    inst = instance
    port, service = limits_setup(inst, mail_owner, {
        "smtpd_tls_cert_file": tls_files["cert"],
        "smtpd_tls_key_file": tls_files["key"],
        "smtpd_tls_security_level": "may",
        "smtpd_client_new_tls_session_rate_limit": "1"})
    client = clients(inst, 1)[0]
    ctx = client_tls_context(tls_files["ca"])
    with Session(inst.host, port, source=client) as s:
        s.expect("EHLO client.test", 250)
        s.expect("STARTTLS", 220)
        s.starttls(ctx)
        s.expect("EHLO client.test", 250)
        s.expect("QUIT", 221)
    with Session(inst.host, port, source=client) as s:
        s.expect("EHLO client.test", 250)
        s.expect("STARTTLS", 454,
                 r"^4\.7\.0 Error: too many new TLS sessions from %s$" %
                 re.escape(client))
        s.expect("MAIL FROM:<a@example.org>", 250)
    inst.wait_log(warning("New TLS session rate", 1, client, service))


def test_new_tls_session_rate_limit_wrappermode(instance, mail_owner,
                                                tls_files):
    """Implicit TLS (smtpd_tls_wrappermode): a handshake beyond the limit
    ends the session with 421, over TLS."""
    inst = instance
    port, service = limits_setup(inst, mail_owner, {
        "smtpd_tls_cert_file": tls_files["cert"],
        "smtpd_tls_key_file": tls_files["key"],
        "smtpd_client_new_tls_session_rate_limit": "1"},
        args="-o smtpd_tls_wrappermode=yes")
    client = clients(inst, 1)[0]
    ctx = client_tls_context(tls_files["ca"])
    s = Session(inst.host, port, source=client, greet=False)
    with s:
        s.starttls(ctx)
        assert s.reply().code == 220
        s.expect("QUIT", 221)
    s = Session(inst.host, port, source=client, greet=False)
    with s:
        s.starttls(ctx)
        assert str(s.reply()) == (
            "421 4.7.0 %s Error: too many new TLS sessions from %s" %
            (MYHOSTNAME, client))
    inst.wait_log(warning("New TLS session rate", 2, client, service))


@pytest.mark.parametrize("how", ["listed", "mynetworks"])
def test_exceptions_are_not_limited(instance, mail_owner, how):
    """A client in smtpd_client_event_limit_exceptions (by default
    $mynetworks) is not limited; another is."""
    inst = instance
    free, limited = clients(inst)
    conf = {"smtpd_client_connection_count_limit": "1",
            "smtpd_client_message_rate_limit": "1"}
    if how == "listed":
        port, _ = limits_setup(inst, mail_owner, conf,
                        exceptions="127.0.0.250, %s/32" % free)
    else:
        conf["mynetworks"] = free
        port, _ = limits_setup(inst, mail_owner, conf, exceptions=None)
    sessions = []
    try:
        for _ in range(3):
            s = Session(inst.host, port, source=free)
            sessions.append(s)
            assert s.greeting.code == 220, s.greeting
            s.expect("MAIL FROM:<a@example.org>", 250)
        s = Session(inst.host, port, source=limited)
        sessions.append(s)
        assert s.greeting.code == 220
        with Session(inst.host, port, source=limited) as t:
            assert t.greeting.code == 421
    finally:
        for s in sessions:
            s.close()
    assert not re.search(r"limit exceeded: \d+ from %s" % peer_re(free),
                         inst.log())


# -- without anvil -----------------------------------------------------------

def test_smtpd_goes_on_without_anvil(instance, mail_owner):
    """No anvil service: smtpd warns and takes mail without limits."""
    inst = instance
    port, _ = limits_setup(inst, mail_owner,
                    {"smtpd_client_connection_count_limit": "1",
                     "smtpd_client_message_rate_limit": "1"}, anvil=False)
    client = clients(inst, 1)[0]
    with Session(inst.host, port, source=client) as a, \
            Session(inst.host, port, source=client) as b:
        assert (a.greeting.code, b.greeting.code) == (220, 220)
        for _ in range(2):
            qid = a.send_message("a@example.org", [ROOT],
                                 b"Subject: x\r\n\r\nx\r\n.\r\n")
            assert qid
    inst.wait_log(r"smtpd\[\d+\]: warning: private/anvil service: "
                  r"connect: No such file or directory: client limits "
                  r"are off for 10 s")


def test_smtpd_goes_on_when_anvil_hangs(instance, mail_owner):
    """anvil stopped (SIGSTOP): smtpd waits a bounded time, warns, and
    takes mail."""
    inst = instance
    port, _ = limits_setup(inst, mail_owner,
                           {"smtpd_client_connection_count_limit": "1"})
    client = clients(inst, 1)[0]
    pid = start_anvil(inst, port, client)
    os.kill(pid, signal.SIGSTOP)
    try:
        with Session(inst.host, port, source=client, timeout=30) as s:
            assert s.greeting.code == 220
            qid = s.send_message("a@example.org", [ROOT],
                                 b"Subject: x\r\n\r\nx\r\n.\r\n")
            assert qid
        inst.wait_log(r"smtpd\[\d+\]: warning: private/anvil service: "
                      r"no answer: client limits are off")
    finally:
        os.kill(pid, signal.SIGCONT)


def test_killed_smtpd_and_restarted_anvil(instance, mail_owner):
    """anvil takes back the connection of an smtpd that was killed; and
    when anvil itself is killed, master starts it again and smtpd
    reconnects without a warning: the limits hold again."""
    inst = instance
    port, service = limits_setup(inst, mail_owner,
                                 {"smtpd_client_connection_count_limit": "1"})
    client = clients(inst, 1)[0]
    mark = inst.log_size()
    with Session(inst.host, port, source=client) as a:
        assert a.greeting.code == 220
        m = inst.wait_log(r"smtpd\[(\d+)\]: connect from %s" %
                          peer_re(client), since=mark)
        os.kill(int(m.group(1)), signal.SIGKILL)
        assert a.eof()
    # The killed session no longer counts, once anvil has read the end of
    # its smtpd's connection: that comes when it comes (the client may see
    # its own end first), so the next session is tried until admitted.
    def admitted():
        b = Session(inst.host, port, source=client)
        if b.greeting.code == 220:
            return b
        b.close()
        return None
    with panacea_test.wait_until(admitted, timeout=10, interval=0.2,
                                 what="the killed session's slot back") as b:
        old = anvil_pids(inst)
        assert len(old) == 1
        mark = inst.log_size()
        os.kill(old[0], signal.SIGKILL)
        inst.wait_log(r"warning: process \S*/anvil pid %d killed by "
                      r"signal 9" % old[0], since=mark)
        # Its disconnect finds the connection closed: nothing to say.
        b.expect("QUIT", 221)
    with Session(inst.host, port, source=client) as c:
        assert c.greeting.code == 220
        with Session(inst.host, port, source=client) as d:
            assert d.greeting.code == 421, d.greeting
    inst.wait_log(warning("Connection concurrency", 2, client, service),
                  since=mark)
    new = anvil_pids(inst)
    assert new and new != old
    assert "private/anvil service" not in inst.log(mark)
