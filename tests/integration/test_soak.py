"""Kill -9 of anything, under load (issue 17, "Faults").

SENDERS concurrent SMTP clients send messages to local users (spool mbox,
or Maildir in the second run) and to a remote domain, which the smtp
client relays to a sink on loopback, while a killer sends SIGKILL to a
random process of the instance every fraction of a second: smtpd, qmgr,
local, smtp, and now and then master itself, after which the test starts
a new master at once.  At the end every message that got a 250 is in its
mailbox or at the sink (duplicates are counted and printed: at least
once is the contract), every mbox parses into whole messages, and no
Maildir file is left in tmp/.

The test also measures what a client sees: the longest time between two
acknowledgements, counted outside the seconds after a kill of master
(the new master recovers the queue first).  The issue's target is 5 s;
the test fails above STALL_LIMIT.

Short by default (SOAK_MESSAGES); PANACEA_SOAK_MESSAGES=10000 is the long
form whose figures go into the note.
"""

import mailbox
import os
import random
import re
import signal
import smtplib
import threading
import time

import pytest

import panacea_test
from delivery_helpers import MailSystem, accounts, crlf  # noqa: F401
from panacea_test import scaled, wait_until
from smtp_helpers import mail_owner  # noqa: F401
from smtp_peer import Peer

SENDERS = 20
SOAK_MESSAGES = int(os.environ.get("PANACEA_SOAK_MESSAGES", "600"))
REMOTE = "remote.test"
# A client may wait this long for a 250 outside a master restart.
STALL_LIMIT = 5.0
# After master is killed, the new one runs recovery before it serves.
MASTER_GRACE = 10.0
VICTIMS = ("smtpd", "qmgr", "local", "smtp")
MIN_KILLS = 15


def soak_message(n):
    return crlf(b"From: <soak@client.test>\n"
                b"Subject: soak-%06d\n"
                b"Message-ID: <soak-%06d@client.test>\n"
                b"\n"
                b"Message %d of the soak.\n" % (n, n, n)
                + b"y" * 300 + b"\n"
                + b"end-of-soak-%06d\n" % n)


END = re.compile(rb"^end-of-soak-(\d{6})\r?$", re.M)


def mailbox_ends(system, maildir):
    """({n: copies} over every local mailbox, messages the mailbox module
    parses, files left in a Maildir's tmp/)."""
    ends, parsed, in_tmp = {}, 0, []
    for short in system.users:
        if maildir:
            path = system.maildir_path(short)
            if not os.path.isdir(path):
                continue
            in_tmp += os.listdir(os.path.join(path, "tmp"))
            box = mailbox.Maildir(path, factory=None, create=False)
            for key in box.keys():
                raw = box.get_bytes(key)
                parsed += 1
                for n in END.findall(raw):
                    ends[int(n)] = ends.get(int(n), 0) + 1
        else:
            path = system.mbox_path(short)
            if not os.path.exists(path):
                continue
            with open(path, "rb") as f:
                raw = f.read()
            for n in END.findall(raw):
                ends[int(n)] = ends.get(int(n), 0) + 1
            parsed += len(mailbox.mbox(path, create=False))
    return ends, parsed, in_tmp


def sink_ends(sink):
    ends = {}
    for data in sink.messages():
        for n in END.findall(data):
            ends[int(n)] = ends.get(int(n), 0) + 1
    return ends


@pytest.mark.parametrize("kind", ["mbox", "maildir"])
def test_sigkill_of_anything_under_load_loses_nothing(instance, accounts,
                                                      mail_owner, kind):
    maildir = kind == "maildir"
    sink_addr = panacea_test.pick_loopback()
    sink = Peer(sink_addr, port=panacea_test.free_port(sink_addr),
                name="sink.test", concurrent=True)
    conf = {"minimal_backoff_time": "1s", "maximal_backoff_time": "2s",
            "queue_run_delay": "1s",
            "relayhost": "[%s]:%d" % (sink_addr, sink.port),
            "smtp_connect_timeout": "5s"}
    if maildir:
        conf["home_mailbox"] = "Maildir/"
    system = MailSystem(instance, accounts, mail_owner, qmgr_wakeup=2,
                        conf=conf)
    instance.services.append(panacea_test.Instance.shipped("smtp"))
    instance.write()
    system.start()
    shorts = sorted(system.users)
    acked = {}          # n -> queue id
    ack_times = []      # monotonic time of every 250
    master_kills = []   # monotonic times
    kills = []
    lock = threading.Lock()
    done = threading.Event()
    restarting = threading.Lock()
    t0 = time.monotonic()

    def rcpt_of(n):
        # Every fifth message leaves for the remote domain.
        if n % 5 == 4:
            return "u%d@%s" % (n % 7, REMOTE)
        return system.addr(shorts[n % len(shorts)])

    def send_share(numbers):
        s = None
        for n in numbers:
            if killer_failed:
                return
            text = None
            for attempt in range(60):
                try:
                    if s is None:
                        s = system.smtp()
                    code, text = s.mail("soak@client.test")
                    assert code == 250, text
                    code, text = s.rcpt(rcpt_of(n))
                    assert code == 250, text
                    code, text = s.data(soak_message(n))
                    assert code == 250, text
                    break
                except (OSError, smtplib.SMTPException, AssertionError):
                    # A lost session (its smtpd killed, or master
                    # restarting): send again, as a real client does.
                    s = None
                    text = None
                    time.sleep(0.2)
            if text is None:
                continue
            m = re.search(rb"queued as ([0-9A-Z]+)", text)
            with lock:
                acked[n] = m.group(1).decode()
                ack_times.append(time.monotonic())
        if s is not None:
            try:
                s.quit()
            except (OSError, smtplib.SMTPException):
                pass

    killer_failed = []  # what ended the killer early: the test fails

    def killer():
        try:
            kill_until_done()
        except BaseException as e:
            killer_failed.append(e)
            raise

    def kill_until_done():
        rnd = random.Random()
        while not done.wait(rnd.uniform(0.1, 0.4)):
            # Every eighth kill is master's: a few per run, however
            # short.
            if len(kills) % 8 == 5:
                with restarting:
                    os.kill(instance.pid, signal.SIGKILL)
                    instance.proc.wait(timeout=scaled(10))
                    kills.append((round(time.monotonic() - t0, 2),
                                  "master"))
                    master_kills.append(time.monotonic())
                    # The old children end within seconds (parent
                    # death); a new master listens at once.
                    instance.start()
                continue
            name = rnd.choice(VICTIMS)
            with restarting:
                pids = system.pids(name)
            if not pids:
                continue
            try:
                os.kill(rnd.choice(pids), signal.SIGKILL)
            except ProcessLookupError:
                continue
            kills.append((round(time.monotonic() - t0, 2), name))

    senders = [threading.Thread(target=send_share,
                                args=(range(i, SOAK_MESSAGES, SENDERS),))
               for i in range(SENDERS)]
    k = threading.Thread(target=killer)
    for t in senders + [k]:
        t.start()
    try:
        deadline = time.monotonic() + scaled(60 + SOAK_MESSAGES / 10)
        for t in senders:
            t.join(timeout=max(1, deadline - time.monotonic()))
        # A new master that did not start is the failure, not the senders
        # it left waiting.
        assert not killer_failed, killer_failed[0]
        assert not any(t.is_alive() for t in senders), "senders stuck"
        accepted_at = time.monotonic() - t0
        # Kills go on into the delivery (a fast machine accepts the
        # short form before many kills).
        wait_until(lambda: len(kills) >= MIN_KILLS, timeout=60,
                   what="%d kills" % MIN_KILLS)
    finally:
        done.set()
        k.join()
    local_n = {n for n in acked if n % 5 != 4}
    remote_n = {n for n in acked if n % 5 == 4}

    def all_there():
        ends, _, _ = mailbox_ends(system, maildir)
        far = sink_ends(sink)
        return local_n <= set(ends) and remote_n <= set(far)
    try:
        wait_until(all_there, timeout=180, interval=1.0,
                   what="every acknowledged message delivered")
    finally:
        sink.close()
    delivered_at = time.monotonic() - t0
    ends, parsed, in_tmp = mailbox_ends(system, maildir)
    far = sink_ends(sink)
    dups = sum(c - 1 for c in ends.values()) + \
        sum(c - 1 for c in far.values())

    # The longest wait for a 250 outside the grace after a master kill.
    times = sorted(ack_times)
    worst = 0.0
    for a, b in zip([t0] + times, times):
        if any(m - 1 <= b and a <= m + MASTER_GRACE for m in master_kills):
            continue
        worst = max(worst, b - a)
    print("soak %s: %d messages acknowledged of %d, accepted in %.1f s, "
          "delivered in %.1f s; %d kills (%d of master); duplicates %d; "
          "longest wait for a 250 outside master restarts %.1f s"
          % (kind, len(acked), SOAK_MESSAGES, accepted_at, delivered_at,
             len(kills), len(master_kills), dups, worst))
    assert len(acked) == SOAK_MESSAGES
    assert len(kills) >= MIN_KILLS, kills
    assert set(ends) == local_n        # nothing lost, nothing unknown
    assert set(far) == remote_n
    assert parsed == sum(ends.values())  # no half-written message
    assert not in_tmp, in_tmp
    assert worst <= STALL_LIMIT, "a client waited %.1f s" % worst
