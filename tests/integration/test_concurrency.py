"""test_concurrency - qmgr's per-destination concurrency window, seen from
a real SMTP server.

An instance runs smtpd, qmgr and the real smtp agent (chrooted and
unprivileged when the tests run as root) and relays everything to one
next hop, relayhost = [ADDRESS]:PORT on loopback, with no connection
cache (smtp_connection_cache_time_limit = 0s: one connection per
delivery).  The messages are queued first, with qmgr missing from the
services table; then qmgr is added and master reloaded, so that the
scheduler meets the whole backlog at once, as after a restart or a
flush.

At the other end a slow SMTP server of this module (SlowSink) takes every
session in its own thread and waits before its answer to the end of DATA,
so each delivery holds its connection; it records when each connection
opened and closed and when each transaction began (MAIL) and ended (the
250 after DATA).  No delivery can end, and so no feedback can reach qmgr,
before the first 250 is sent: the transactions open until then are the
initial window exactly.  The server records a transaction's end before it
sends the 250 and its start after it read MAIL, so a transaction that
qmgr started after hearing of another's end never appears to overlap it:
the most transactions open at once is at most the largest window.
"""

import os
import re
import smtplib
import threading
import time

import pytest

from panacea_test import (Instance, LoopbackServer, free_port, pick_loopback,
                          scaled, unless_built, wait_until)
from smtp_helpers import mail_owner  # noqa: F401

pytestmark = unless_built("master", "smtpd", "qmgr", "smtp")

MYHOSTNAME = "panacea.test"


class SlowSink(LoopbackServer):
    """An SMTP server on its own loopback address and port: one thread per
    session, delay seconds before the answer to the end of DATA.  plan,
    when given, decides per connection (numbered from 0 as they arrive):
    a delay for that one, or "drop" to close it before the greeting (a
    connection failure for the client)."""

    def __init__(self, delay, plan=None):
        self.host = pick_loopback()
        self.delay = delay
        self.plan = plan or (lambda i: delay)
        self.lock = threading.Lock()
        self.conns = []  # [opened, closed or None]
        self.txs = []    # [MAIL read, 250 after DATA or None]
        super().__init__(self.host, free_port(self.host), backlog=128,
                         reuse=True)

    @property
    def relayhost(self):
        return "[%s]:%d" % (self.host, self.port)

    def delivered(self):
        with self.lock:
            return len([t for t in self.txs if t[1] is not None])

    def accepted(self, conn):
        rec = [time.monotonic(), None]
        with self.lock:
            self.conns.append(rec)
            delay = self.plan(len(self.conns) - 1)
        threading.Thread(target=self._session, args=(conn, rec, delay),
                         daemon=True).start()

    def _session(self, conn, rec, delay):
        if delay == "drop":
            rec[1] = time.monotonic()
            conn.close()
            return
        conn.settimeout(scaled(60))
        f = conn.makefile("rb")

        def send(line):
            conn.sendall(line.encode() + b"\r\n")
        try:
            send("220 sink.test ESMTP slow sink")
            while True:
                line = f.readline()
                if not line:
                    return
                verb = line.split(b" ", 1)[0].strip().upper()
                if verb == b"EHLO":
                    send("250-sink.test")
                    send("250 PIPELINING")
                elif verb == b"MAIL":
                    tx = [time.monotonic(), None]
                    with self.lock:
                        self.txs.append(tx)
                    send("250 2.1.0 Ok")
                elif verb == b"RCPT":
                    send("250 2.1.5 Ok")
                elif verb == b"DATA":
                    send("354 End data with <CR><LF>.<CR><LF>")
                    while f.readline() not in (b".\r\n", b""):
                        pass
                    time.sleep(delay)
                    with self.lock:
                        tx[1] = time.monotonic()
                    send("250 2.0.0 Ok: queued")
                elif verb == b"QUIT":
                    send("221 2.0.0 Bye")
                    return
                else:
                    send("250 2.0.0 Ok")
        except (OSError, ValueError):
            pass
        finally:
            with self.lock:
                rec[1] = time.monotonic()
            f.close()
            conn.close()


def most_at_once(intervals, before=None):
    """The most intervals [start, end] open at one time (end None: still
    open), counting only what happened before the time before."""
    events = []
    for start, end in intervals:
        if before is not None and start >= before:
            continue
        events.append((start, 1))
        if end is not None and (before is None or end < before):
            events.append((end, -1))
    cur = best = 0
    for _, d in sorted(events, key=lambda e: (e[0], e[1])):
        cur += d
        best = max(best, cur)
    return best


@pytest.fixture
def sink():
    started = []

    def start(delay, plan=None):
        s = SlowSink(delay, plan)
        started.append(s)
        return s
    yield start
    for s in started:
        s.close()


def queue_then_schedule(inst, owner, relayhost, n, conf):
    """Starts inst with smtpd and smtp only, queues n messages to
    remote.example over SMTP, then adds qmgr and reloads master; returns
    the queue ids and smtpd's port."""
    root = os.geteuid() == 0
    jail = "y" if root else "n"
    port = inst.port()
    inst.conf.update({
        "mail_owner": owner,
        "myhostname": MYHOSTNAME,
        "mydestination": "$myhostname",
        "mynetworks": "127.0.0.0/8",
        "dns_nameservers": "127.0.0.1:9",
        "smtpd_error_sleep_time": "0s",
        "relayhost": relayhost,
        "smtp_connection_cache_time_limit": "0s",
        "destination_concurrency_feedback_debug": "yes",
        "minimal_backoff_time": "300s",
        "maximal_backoff_time": "300s",
    })
    inst.conf.update(conf)
    smtpd = Instance.service(port, "smtpd", unpriv="-", chroot=jail)
    smtp = Instance.service("smtp", "smtp", type_="unix", private="-",
                            unpriv="-", chroot=jail)
    qmgr = Instance.service("qmgr", "qmgr", type_="unix", private="n",
                            unpriv="-", chroot=jail, wakeup=300, maxproc=1)
    inst.services = [smtpd, smtp]
    inst.write()
    inst.start()
    inst.wait_port(port)
    ids = send(inst.host, port, range(n))
    # Nothing moved: there is no qmgr yet.
    assert "status=" not in inst.log()
    inst.services = [smtpd, smtp, qmgr]
    inst.write()
    inst.reload()
    return ids, port


def send(host, port, numbers):
    """One message to r<N>@remote.example for each N, over one SMTP
    session; returns the queue ids."""
    ids = []
    with smtplib.SMTP(host, port, timeout=scaled(30)) as s:
        s.ehlo("client.test")
        for i in numbers:
            msg = ("From: <a@client.test>\r\nTo: <r%d@remote.example>\r\n"
                   "Subject: %d\r\n\r\nhello\r\n" % (i, i))
            s.mail("a@client.test")
            s.rcpt("r%d@remote.example" % i)
            code, text = s.data(msg.encode())
            assert code == 250, text
            ids.append(re.search(rb"queued as ([0-9A-Z]+)",
                                 text).group(1).decode())
    return ids


def windows(log, verb="unthrottle"):
    """The windows of the feedback lines (destination_concurrency_
    feedback_debug), in order."""
    return [int(w) for w in re.findall(
        r"qmgr\[\d+\]: qmgr_queue_%s: queue \S+: limit \d+ window (\d+) "
        r"success [\d.e+-]+ failure [\d.e+-]+ fail_cohorts [\d.e+-]+" %
        verb, log)]


def test_slow_start_then_growth(instance, mail_owner, sink):  # noqa: F811
    # Long enough for master to start the second agent process on a busy
    # machine before the first delivery ends.
    s = sink(scaled(2.5))
    n = 24
    ids, _ = queue_then_schedule(instance, mail_owner, s.relayhost, n, {
        "initial_destination_concurrency": "2",
        "smtp_destination_concurrency_limit": "6",
    })
    wait_until(lambda: s.delivered() == n, timeout=120,
               what="%d deliveries at the sink" % n)
    for q in ids:
        instance.wait_log(r"qmgr\[\d+\]: %s: removed" % q, timeout=30)
    with s.lock:
        conns = [list(c) for c in s.conns]
        txs = [list(t) for t in s.txs]
    first_end = min(t[1] for t in txs)
    start_tx = most_at_once(txs, before=first_end)
    start_conns = most_at_once(conns, before=first_end)
    peak_tx, peak_conns = most_at_once(txs), most_at_once(conns)
    print("before the first delivery ended: %d transactions, %d "
          "connections; at most %d transactions, %d connections at once"
          % (start_tx, start_conns, peak_tx, peak_conns))
    # Slow start: the initial window, nothing more, while qmgr had no
    # feedback -- although 24 messages were waiting.
    assert start_tx == 2
    assert start_conns == 2
    # Then it grows, and never beyond the destination's limit.
    assert 2 < peak_tx <= 6
    assert peak_conns > 2
    assert len(conns) == n  # no cache: one connection per delivery
    w = windows(instance.log())
    print("windows logged: %s" % w)
    # Feedback 1 per delivery: 3 after the first, then up to the limit,
    # never down (nothing failed).
    assert w[0] == 3
    assert max(w) == 6
    assert w == sorted(w)
    assert not windows(instance.log(), "throttle")
    assert instance.log().count("status=sent") == n


def test_failures_shrink_then_dead(instance, mail_owner):  # noqa: F811
    # Nothing listens there: every connection is refused at once.
    host = pick_loopback()
    relayhost = "[%s]:%d" % (host, free_port(host))
    n = 8
    ids, _ = queue_then_schedule(instance, mail_owner, relayhost, n, {})
    # Defaults: a window of 5, feedback 1, one failed pseudo-cohort.
    # Five deliveries start; the failed cohorts add up as 1/5 + 1/4 +
    # 1/3 + 1/2 while the window shrinks 4, 3, 2: dead at the fourth
    # failure, and the three messages still queued are not tried.
    wait_until(lambda: instance.log_count(
        r"qmgr\[\d+\]: \w+: to=<\S+>, relay=none, .*status=deferred "
        r"\(delivery temporarily suspended: connect to ") == n - 5,
        timeout=30, what="the queued messages deferred without a try")
    wait_until(lambda: instance.log_count(
        r"smtp\[\d+\]: \w+: to=<\S+>, .*status=deferred \(connect to "
        r"[^)]*Connection refused") == 5, timeout=30,
        what="five refused deliveries")
    time.sleep(scaled(1))
    log = instance.log()
    assert len(re.findall(r"smtp\[\d+\]: \w+: to=<", log)) == 5
    assert windows(log, "throttle") == [4, 3, 2, 0]
    assert not windows(log, "unthrottle")
    assert "removed" not in log
    assert len(ids) == n


def test_bad_feedback_settings(instance, mail_owner):  # noqa: F811
    # A bad transport override: a warning, and the default is used.
    host = pick_loopback()
    relayhost = "[%s]:%d" % (host, free_port(host))
    queue_then_schedule(instance, mail_owner, relayhost, 1, {
        "smtp_destination_concurrency_negative_feedback": "2/3/4",
        "smtp_initial_destination_concurrency": "0",
    })
    instance.wait_log(r"qmgr\[\d+\]: warning: smtp_destination_concurrency_"
                      r"negative_feedback: bad value \"2/3/4\"; using "
                      r"default_destination_concurrency_negative_feedback")
    instance.wait_log(r"qmgr\[\d+\]: warning: smtp_initial_destination_"
                      r"concurrency: bad value \"0\"; using "
                      r"initial_destination_concurrency")
    instance.wait_log(r"qmgr_queue_throttle: queue \S+: limit 20 window 4 ")
    instance.stop()
    # A bad default stops qmgr at start-up, naming the line.
    mark = instance.log_size()
    instance.conf["default_destination_concurrency_positive_feedback"] = \
        "1/2 concurrency"
    instance.write()
    lines = open(os.path.join(instance.config_dir,
                              "panacea.conf")).read().splitlines()
    line = 1 + [i for i, ln in enumerate(lines) if ln.startswith(
        "default_destination_concurrency_positive_feedback")][0]
    instance.start()
    instance.wait_log(
        r"qmgr\[\d+\]: fatal: %s:%d: default_destination_concurrency_"
        r"positive_feedback: bad value \"1/2 concurrency\"" %
        (re.escape(os.path.join(instance.config_dir, "panacea.conf")), line),
        since=mark, timeout=30)


def test_success_revives_dead_destination(instance, mail_owner,  # noqa: F811
                                          sink):
    # The first connection is slow and succeeds; the next four are
    # closed before the greeting; any later one is served at once.
    slow = scaled(3)
    s = sink(0, plan=lambda i: slow if i == 0 else
             "drop" if i <= 4 else 0)
    ids, port = queue_then_schedule(instance, mail_owner, s.relayhost, 6, {})
    # Four lost connections make the destination dead (window 5: 1/5 +
    # 1/4 + 1/3 + 1/2 failed cohorts); the sixth message is not tried.
    instance.wait_log(r"qmgr_queue_throttle: queue \S+: limit 20 window 0 ",
                      timeout=30)
    instance.wait_log(r"%s: to=<r5@remote\.example>, relay=none, .*"
                      r"status=deferred \(delivery temporarily suspended: "
                      r"lost connection with " % ids[5])
    # The slow delivery then succeeds: the destination is alive again,
    # with the initial window, and new mail goes at once.
    instance.wait_log(r"smtp\[\d+\]: %s: to=<r0@remote\.example>, .*"
                      r"status=sent" % ids[0], timeout=30)
    instance.wait_log(r"qmgr_queue_unthrottle: queue \S+: limit 20 window 5 "
                      r"success 0 failure 0 fail_cohorts 0")
    (new,) = send(instance.host, port, [6])
    instance.wait_log(r"smtp\[\d+\]: %s: to=<r6@remote\.example>, .*"
                      r"status=sent" % new, timeout=30)
    log = instance.log()
    assert log.index("window 0 ") < log.index("limit 20 window 5 ")
    assert len(re.findall(r"status=deferred \(lost connection", log)) == 4
    assert s.delivered() == 2
