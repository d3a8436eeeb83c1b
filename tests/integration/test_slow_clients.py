"""Slow and greedy clients (issue 17): a flood of idle connections on port
25 and clients that trickle a byte a second.

A real master runs smtpd on port 25 (maxproc 5, smtpd_timeout 3s), the
submission service on another port, the submit service bin/sendmail talks
to, pickup, qmgr and local, as delivery_helpers.MailSystem sets them up.

What Postfix does, and so Panacea: master never accepts a connection
itself (it only starts a child when a listener is readable and the
service is below its process limit), so connections beyond the limit wait
in the kernel's listen backlog (128, MASTER_BACKLOG; the rest wait in
SYN_SENT on the client's side) until a process frees; master holds no
descriptor for them and cannot run out of them (no EMFILE).  Each other
service has its own process limit, so submission and sendmail go on.

A byte a second: smtpd and the POP3 login front (pop3d) bound a whole
command line by their timeout; smtpd_per_record_deadline=yes bounds each
line of DATA content too (Postfix 2.9-3.6's parameter; the default, no,
waits per read as Postfix does).
"""

import os
import re
import resource
import select
import socket
import subprocess
import threading
import time

import pytest

import procfs
from delivery_helpers import MailSystem, accounts  # noqa: F401
from panacea_test import Instance, program, scaled, wait_until
from pop3_helpers import PopRig, pop_accounts, tls_files  # noqa: F401
from smtp_helpers import mail_owner  # noqa: F401

pytestmark = [
    pytest.mark.skipif(
        not all(os.access(program(p), os.X_OK)
                for p in ("master", "smtpd", "qmgr", "local", "pickup",
                          "sendmail")),
        reason="master, smtpd, qmgr, local, pickup or sendmail is not "
        "built"),
    pytest.mark.skipif(os.geteuid() != 0,
                       reason="needs root (accounts, local delivery)"),
]

IDLE = 1000
MAXPROC = 5
TIMEOUT = 3
# Growth of master's or qmgr's resident set allowed over the flood: master
# keeps a small record per child (a few dozen smtpd processes come and go
# here) and qmgr a few messages; 512 KiB is far above that and far below
# what a per-connection leak (1000 connections) would add.
RSS_SLACK_KB = 512


def rss_kb(pid):
    return int(procfs.status(pid)["VmRSS"].split()[0])


def qmgr_pid(inst):
    return wait_until(
        lambda: next((p for p in procfs.descendants(inst.pid)
                      if procfs.comm(p) == "qmgr"), None),
        what="qmgr running")


def message(subject):
    return ("From: <someone@client.test>\r\nSubject: %s\r\n\r\nbody\r\n"
            % subject).encode()


def system_with(inst, accounts, owner, smtp_args,  # noqa: F811
                sub_args=""):
    """MailSystem with port 25's smtpd limited to MAXPROC processes plus
    the submission service (SASL off: the test has no auth server) and
    submit/pickup for bin/sendmail.  Returns (system, submission port)."""
    system = MailSystem(inst, accounts, owner)
    chroot = "y" if os.geteuid() == 0 else "n"
    sub_port = inst.port()
    inst.services[0] = Instance.shipped("smtp", "inet", system.port,
                                        chroot=chroot, maxproc=MAXPROC,
                                        args=smtp_args)
    inst.services += [
        Instance.shipped("submission", "inet", sub_port, chroot=chroot,
                         args="-o smtpd_sasl_auth_enable=no "
                         "-o smtpd_sasl_auth_required=no " + sub_args),
        Instance.shipped("submit", chroot=chroot),
        Instance.shipped("pickup", chroot=chroot),
    ]
    inst.write()
    system.start()
    return system, sub_port


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        if hard != resource.RLIM_INFINITY and hard < n:
            resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
        else:
            resource.setrlimit(resource.RLIMIT_NOFILE, (n, hard))


def test_idle_flood_does_not_stop_submission_or_sendmail(instance, accounts,
                                                         mail_owner):
    raise_nofile(IDLE + 256)
    system, sub_port = system_with(instance, accounts, mail_owner,
                                   "-o smtpd_timeout=%ds" % TIMEOUT)
    # Warm up (qmgr and local have run once) before the first measure.
    system.send([system.addr("alice")], message("warm-up"))
    system.wait_messages("alice", 1)
    qmgr = qmgr_pid(instance)
    before = {"master": rss_kb(instance.pid), "qmgr": rss_kb(qmgr)}

    socks = []
    try:
        for _ in range(IDLE):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex((instance.host, system.port))
            socks.append(s)
        opened = time.monotonic()

        # The first MAXPROC get a process at once and are cut off after
        # smtpd_timeout, as Postfix does; then the next in the backlog
        # get a process, and one of those, answered at once, is served
        # normally.
        timed_out = served = None
        got = {}
        deadline = opened + scaled(4 * TIMEOUT)
        while (timed_out is None or served is None) and \
                time.monotonic() < deadline:
            readable, _, _ = select.select(socks, [], [], 0.2)
            for s in readable:
                try:
                    data = s.recv(4096)
                except OSError:
                    continue
                got[s] = got.get(s, b"") + data
                text = got[s]
                if b"421 4.4.2" in text and timed_out is None:
                    timed_out = text
                elif (text.startswith(b"220 ") and served is None and
                      time.monotonic() - opened > TIMEOUT - 0.5 and
                      b"421" not in text):
                    s.setblocking(True)
                    s.settimeout(scaled(5))
                    s.sendall(b"EHLO late.test\r\n")
                    reply = b""
                    while not re.search(rb"(^|\n)250 [^\n]*\n", reply):
                        reply += s.recv(4096)
                    s.sendall(b"QUIT\r\n")
                    reply += s.recv(4096)
                    served = reply
                    s.setblocking(False)
        assert timed_out is not None, "no idle client was cut off"
        assert re.search(rb"421 4\.4\.2 \S+ Error: timeout exceeded",
                         timed_out), timed_out
        instance.wait_log(r"smtpd\[\d+\]: timeout after CONNECT from")
        instance.wait_log(r"master\[\d+\]: warning: service \"%d\" "
                          r"\(inet\) has reached its process limit \"%d\""
                          % (system.port, MAXPROC))
        assert served is not None, "no backlogged client got a process"
        assert b"250 " in served and b"221 " in served, served
        # Still the limit: never more than MAXPROC smtpd for port 25 (the
        # submission and submit smtpd are idle here, at most one each).
        smtpds = [p for p in procfs.descendants(instance.pid)
                  if procfs.comm(p) == "smtpd"]
        assert len(smtpds) <= MAXPROC + 2, smtpds

        # Submission on its own port and sendmail (public/submit, then
        # maildrop/ and pickup) go on while port 25 is full.
        t0 = time.monotonic()
        system.send([system.addr("bob")], message("submission"),
                    port=sub_port)
        r = subprocess.run(
            [program("sendmail"), "-C", instance.config_dir, "-i",
             "-f", "root", system.addr("bob")],
            input=message("sendmail"), capture_output=True,
            timeout=scaled(20))
        assert r.returncode == 0, r.stderr
        instance.wait_log(r"smtpd\[\d+\]: \w+: uid=0 from=<root@")
        # And its fallback when public/submit does not answer: maildrop/,
        # which pickup empties.
        submit = instance.socket_path("submit", private=False)
        os.rename(submit, submit + ".away")
        try:
            r = subprocess.run(
                [program("sendmail"), "-C", instance.config_dir, "-i",
                 "-f", "root", system.addr("bob")],
                input=message("maildrop"), capture_output=True,
                timeout=scaled(20))
        finally:
            os.rename(submit + ".away", submit)
        assert r.returncode == 0, r.stderr
        instance.wait_log(r"pickup\[\d+\]: \w+: uid=0 from=<root@")
        got_bob = system.wait_messages("bob", 3, timeout=scaled(15))
        assert sorted(m["Subject"] for m in got_bob) == [
            "maildrop", "sendmail", "submission"]
        assert time.monotonic() - t0 < scaled(10)

        after = {"master": rss_kb(instance.pid), "qmgr": rss_kb(qmgr)}
        for name in before:
            assert after[name] - before[name] <= RSS_SLACK_KB, \
                (name, before, after)
    finally:
        for s in socks:
            s.close()


def dribble(host, port, head, trickle, tail=b"", interval=1.0, lead=b""):
    """Sends head at once (each line waits for its reply), then lead (no
    reply awaited: a BDAT command), then trickle one byte every interval
    seconds until the server closes or trickle ends, then tail; returns
    (everything received, seconds the trickle lasted)."""
    s = socket.create_connection((host, port), timeout=scaled(20))
    received = b""
    start = None
    try:
        f = s.makefile("rb")
        received += f.readline()
        for line in head:
            s.sendall(line)
            while True:
                reply = f.readline()
                received += reply
                if not reply or reply[3:4] != b"-":
                    break
        if lead:
            s.sendall(lead)
        start = time.monotonic()
        for byte in trickle:
            try:
                s.sendall(bytes([byte]))
            except OSError:
                break
            ready, _, _ = select.select([s], [], [], interval)
            if ready:
                break
        if tail:
            s.sendall(tail)
        s.settimeout(scaled(5))
        try:
            while True:
                data = s.recv(4096)
                if not data:
                    break
                received += data
                if tail and re.search(rb"(^|\n)250 [^\n]*Ok", data):
                    break
        except OSError:
            pass
    finally:
        s.close()
    return received, time.monotonic() - start


def test_byte_a_second_is_cut_off_at_smtpd_timeout(instance, accounts,
                                                   mail_owner):
    """smtpd_timeout bounds a whole command line (Panacea, stricter than
    Postfix's per-read default); with smtpd_per_record_deadline=yes also
    each line of message content and each 4096 octets of a BDAT chunk.
    Without it, a DATA line trickling in is waited for (Postfix's default,
    a wait per read).  The four clients run at once."""
    system, sub_port = system_with(
        instance, accounts, mail_owner,
        "-o smtpd_timeout=%ds -o smtpd_per_record_deadline=yes" % TIMEOUT,
        # The submission service: the same timeout, per-read DATA.
        sub_args="-o smtpd_timeout=%ds" % TIMEOUT)
    host, rcpt = instance.host, system.addr("alice").encode()
    trans = [b"EHLO slow.test\r\n", b"MAIL FROM:<s@client.test>\r\n",
             b"RCPT TO:<" + rcpt + b">\r\n", b"DATA\r\n"]
    results = {}

    def run(name, *args, **kw):
        results[name] = dribble(*args, **kw)

    threads = [
        threading.Thread(target=run, args=(
            "command", host, system.port, [b"EHLO slow.test\r\n"],
            b"MAIL FROM:<s@client.test>\r\n")),
        threading.Thread(target=run, args=(
            "data-per-record", host, system.port, trans,
            b"Subject: slow\r\n\r\ntrickled\r\n")),
        threading.Thread(target=run, args=(
            "bdat-per-record", host, system.port, trans[:3],
            b"Subject: slow\r\n\r\nchunked\r\n"),
            kwargs={"lead": b"BDAT 100 LAST\r\n"}),
        threading.Thread(target=run, args=(
            "data-per-read", host, sub_port, trans, b"Subject: x\r\n"),
            kwargs={"tail": b"\r\nbody\r\n.\r\n", "interval": 0.4}),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(scaled(30))

    for name in ("command", "data-per-record", "bdat-per-record"):
        assert name in results, "%s: still trickling, never cut off" % name
        received, lasted = results[name]
        assert re.search(rb"421 4\.4\.2 \S+ Error: timeout exceeded",
                         received), (name, received)
        # Cut off at smtpd_timeout, not after the whole trickle.
        assert TIMEOUT - 0.5 <= lasted <= TIMEOUT + scaled(2), (name, lasted)
    instance.wait_log(r"smtpd\[\d+\]: timeout after EHLO from")
    instance.wait_log(r"smtpd\[\d+\]: timeout after DATA \(\d+ bytes\) "
                      r"from")
    instance.wait_log(r"smtpd\[\d+\]: timeout after BDAT \(\d+ bytes\) "
                      r"from")
    # Per read: 12 bytes at 0.4 s (longer than smtpd_timeout in all)
    # and the message is taken.
    received, lasted = results["data-per-read"]
    assert lasted > TIMEOUT + 1, lasted
    assert b"421" not in received and re.search(
        rb"250 2\.0\.0 Ok: queued as", received), received


def test_pop3_login_front_cuts_off_a_byte_a_second(instance, mail_owner,
                                                   pop_accounts, tls_files):
    """pop3d (the login front) bounds a whole command line by
    pop3d_timeout too: "USER ..." trickled a byte a second is cut off
    after pop3d_timeout, logged as Dovecot's login process does."""
    rig = PopRig(instance, mail_owner, pop_accounts, tls_files,
                 conf={"pop3d_timeout": "%ds" % TIMEOUT})
    rig.start()
    s = socket.create_connection((instance.host, rig.pop_port),
                                 timeout=scaled(20))
    try:
        f = s.makefile("rb")
        assert f.readline().startswith(b"+OK")
        start = time.monotonic()
        received = b""
        for byte in b"USER somebody\r\n":
            try:
                s.sendall(bytes([byte]))
            except OSError:
                break
            ready, _, _ = select.select([s], [], [], 1.0)
            if ready:
                try:
                    data = s.recv(4096)
                except OSError:  # reset: the front left unread bytes
                    break
                received += data
                if not data:
                    break
        lasted = time.monotonic() - start
    finally:
        s.close()
    assert not received.startswith(b"+OK"), received
    assert TIMEOUT - 0.5 <= lasted <= TIMEOUT + scaled(2), (lasted, received)
    instance.wait_log(r"pop3d\[\d+\]: Disconnected: Inactivity \(no auth "
                      r"attempts in \d+ secs\): user=<>")
