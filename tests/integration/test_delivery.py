"""End to end: SMTP in, mailboxes out (issue 4, "Integration" and "Crash
safety").

Each test runs a real master with smtpd, qmgr and local together, as an
installed system does (tests/integration/delivery_helpers.py): smtpd and
qmgr chrooted and unprivileged, local as root switching to each
recipient.  Mail is sent with Python's smtplib to unix accounts made for
the session and read back from the spool mbox or the Maildir with
Python's mailbox and email packages and with mutt in batch mode.
Bounces are real DSNs delivered by local to the sender's own mailbox.
Needs root, as local does (CI runs as root).
"""

import mailbox
import os
import pwd
import random
import re
import signal
import smtplib
import subprocess
import threading
import time

import pytest

from delivery_helpers import (MYHOSTNAME, MailSystem, accounts,  # noqa: F401
                              crlf, lf, mutt_copy, parse)
import procfs
from panacea_test import (DELAY, pid_alive, program, scaled, unless_built,
                          wait_until)
from smtp_helpers import mail_owner, queue_ids  # noqa: F401

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0,
                       reason="local delivery needs root"),
    unless_built("master", "smtpd", "qmgr", "local"),
]

BODY = (b"First line of the body.\n"
        b"From the start of a line: quoted in an mbox.\n"
        b"  indented, with trailing white space  \n"
        b".a line with a dot (dot-stuffed on the wire)\n"
        b"..two dots\n"
        b"\n"
        b"\tand a tab; 8-bit: caf\xc3\xa9\n"
        b"last line\n")


def message(subject, body=BODY, to="undisclosed-recipients:;"):
    return crlf(b"From: Sender <someone@client.test>\n"
                b"To: " + to.encode() + b"\n"
                b"Subject: " + subject.encode() + b"\n"
                b"Message-ID: <" + subject.replace(" ", ".").encode()
                + b"@client.test>\n"
                b"MIME-Version: 1.0\n"
                b"Content-Type: text/plain; charset=utf-8\n"
                b"Content-Transfer-Encoding: 8bit\n"
                b"\n" + body)


@pytest.fixture
def system(instance, accounts, mail_owner):  # noqa: F811
    """A mail system writing mbox files in its spool."""
    return MailSystem(instance, accounts, mail_owner)


# -- mailboxes -----------------------------------------------------------------

def test_mbox_delivery(system):
    system.start()
    rcpt = system.addr("alice")
    qid = system.send([rcpt], message("mbox one"),
                      sender="someone@client.test")
    system.wait_removed(qid)
    system.inst.wait_log((r"%s: to=<%s>, relay=local, delay=" + DELAY +
                          r", delays=" + "/".join([DELAY] * 4) +
                          r", dsn=2\.0\.0, "
                          r"status=sent \(delivered to mailbox\)")
                         % (qid, re.escape(rcpt)))
    path = system.mbox_path("alice")
    pw = system.users["alice"]
    st = os.stat(path)
    assert (st.st_uid, st.st_gid) == (pw.pw_uid, pw.pw_gid)
    assert st.st_mode & 0o7777 == 0o600
    with open(path, "rb") as f:
        raw = f.read()
    assert raw.startswith(b"From someone@client.test ")
    assert b"\r" not in raw
    # What local added on top, then smtpd's Received:, then the client's
    # headers.
    lines = raw.split(b"\n")
    assert lines[1] == b"Return-Path: <someone@client.test>"
    assert lines[2] == b"Delivered-To: " + rcpt.encode()
    assert lines[3].startswith(b"Received: from client.test ")
    # Byte-exact body, but for the mbox quoting of "From " and the blank
    # line that ends every message of an mbox.
    assert raw.endswith(b"\n\n" + BODY.replace(b"\nFrom the",
                                                 b"\n>From the") + b"\n")
    msgs = system.mbox("alice")
    assert len(msgs) == 1
    m = msgs[0]
    assert m["Return-Path"] == "<someone@client.test>"
    assert m["Delivered-To"] == rcpt
    assert m["Subject"] == "mbox one"
    assert m.get_from().startswith("someone@client.test ")
    # A second message appends; both are there for Python and for mutt.
    qid = system.send([rcpt], message("mbox two"), sender="")
    system.wait_removed(qid)
    msgs = system.mbox("alice")
    assert [m["Subject"] for m in msgs] == ["mbox one", "mbox two"]
    assert msgs[1].get_from().startswith("MAILER-DAEMON ")
    assert msgs[1]["Return-Path"] == "<>"
    copy = mutt_copy(path, system.dir)
    msgs = list(mailbox.mbox(copy, create=False))
    assert [m["Subject"] for m in msgs] == ["mbox one", "mbox two"]
    assert msgs[0]["Delivered-To"] == rcpt


def test_maildir_delivery(instance, accounts, mail_owner):  # noqa: F811
    system = MailSystem(instance, accounts, mail_owner,
                        conf={"home_mailbox": "Maildir/"})
    system.start()
    rcpt = system.addr("bob")
    qid = system.send([rcpt], message("maildir one"),
                      sender=system.addr("alice"))
    system.wait_removed(qid)
    system.inst.wait_log(r"%s: to=<%s>, relay=local, .*dsn=2\.0\.0, "
                         r"status=sent \(delivered to maildir\)"
                         % (qid, re.escape(rcpt)))
    pw = system.users["bob"]
    md = system.maildir_path("bob")
    for sub in ("tmp", "new", "cur"):
        st = os.stat(os.path.join(md, sub))
        assert st.st_uid == pw.pw_uid and st.st_mode & 0o777 == 0o700
    assert os.listdir(os.path.join(md, "tmp")) == []
    (name,) = os.listdir(os.path.join(md, "new"))
    path = os.path.join(md, "new", name)
    st = os.stat(path)
    assert st.st_uid == pw.pw_uid and st.st_mode & 0o777 == 0o600
    with open(path, "rb") as f:
        raw = f.read()
    lines = raw.split(b"\n")
    assert lines[0] == b"Return-Path: <%s>" % system.addr("alice").encode()
    assert lines[1] == b"Delivered-To: " + rcpt.encode()
    assert lines[2].startswith(b"Received: from client.test ")
    assert b"\r" not in raw
    # Byte-exact: a Maildir file needs no quoting and no separator.
    head, body = raw.split(b"\n\n", 1)
    assert body == BODY
    assert head.endswith(lf(message("maildir one")).split(b"\n\n")[0])
    (m,) = system.maildir("bob")
    assert m["Subject"] == "maildir one" and m["Delivered-To"] == rcpt
    assert m.get_payload(decode=True) == BODY
    # Nothing went to the spool.
    assert os.listdir(system.spool) == []
    copy = mutt_copy(md + "/", system.dir)
    with open(copy, "rb") as f:
        raw = f.read()
    assert raw.count(b"\nSubject: maildir one\n") == 1
    assert b"\nDelivered-To: %s\n" % rcpt.encode() in raw
    assert b"\n\nFirst line of the body.\n" in raw


def test_multiple_recipients(instance, accounts, mail_owner):  # noqa: F811
    system = MailSystem(instance, accounts, mail_owner,
                        conf={"home_mailbox": "Maildir/"})
    system.start()
    # Case and an address extension do not matter; one delivery each.
    rcpts = [system.addr("alice"),
             "%s+list@%s" % (system.name("bob").upper(), MYHOSTNAME),
             "%s@localhost" % system.name("carol")]
    qid = system.send(rcpts, message("for three"))
    system.wait_removed(qid)
    assert sorted(system.deliveries(qid)) == sorted(
        (r, "sent") for r in rcpts)
    for short, rcpt in zip(("alice", "bob", "carol"), rcpts):
        (m,) = system.maildir(short)
        assert m["Subject"] == "for three"
        assert m["Delivered-To"] == rcpt
        assert m.get_payload(decode=True) == BODY
    assert os.listdir(system.spool) == []


# -- aliases -------------------------------------------------------------------

def test_aliases_users_lists_files_commands(instance, accounts,
                                            mail_owner):  # noqa: F811
    system = MailSystem(instance, accounts, mail_owner)
    archive = os.path.join(system.out, "archive.mbox")
    piped = os.path.join(system.out, "piped")
    system.set_aliases(
        "# end-to-end aliases\n"
        "postmaster: %(alice)s\n"
        "boss: %(carol)s\n"
        "team: %(alice)s, %(bob)s,\n"
        "  boss\n"
        "owner-team: %(alice)s\n"
        "archive: %(archive)s\n"
        "pipe: \"|/bin/sh -c 'cat > %(piped)s; id -un >> %(piped)s'\"\n"
        % dict(alice=system.name("alice"), bob=system.name("bob"),
               carol=system.name("carol"), archive=archive, piped=piped))
    system.start()
    # A user (case-insensitive).
    qid = system.send(["PostMaster@" + MYHOSTNAME], message("to postmaster"))
    system.wait_removed(qid)
    (m,) = system.wait_messages("alice", 1)
    assert m["Subject"] == "to postmaster"
    system.inst.wait_log(r"%s: to=<%s>, orig_to=<PostMaster@%s>, "
                         r"relay=local, .*status=sent"
                         % (qid, re.escape(system.addr("alice")),
                            re.escape(MYHOSTNAME)))
    # A list, with a nested alias.
    qid = system.send(["team@" + MYHOSTNAME], message("to the team"))
    system.wait_removed(qid)
    for short in ("alice", "bob", "carol"):
        m = system.wait_messages(short, 1)[-1]
        assert m["Subject"] == "to the team", short
        assert m["Delivered-To"] == system.addr(short)
        assert m.get_payload().encode() == BODY.replace(
            b"\nFrom the", b"\n>From the")
    # A file and a command in one message: appended as an mbox, and on
    # the command's standard input, both as nobody (the aliases file
    # belongs to root: default_privs).
    qid = system.send(["archive@" + MYHOSTNAME, "pipe@" + MYHOSTNAME],
                      message("to a file and a command"))
    system.wait_removed(qid)
    assert sorted(system.deliveries(qid)) == [
        ("archive@" + MYHOSTNAME, "sent"), ("pipe@" + MYHOSTNAME, "sent")]
    st = os.stat(archive)
    assert st.st_uid == pwd.getpwnam("nobody").pw_uid
    (m,) = list(mailbox.mbox(archive, create=False))
    assert m["Subject"] == "to a file and a command"
    assert m["Delivered-To"] == "archive@" + MYHOSTNAME
    with open(piped, "rb") as f:
        out = f.read()
    assert b"\nDelivered-To: pipe@%s\n" % MYHOSTNAME.encode() in out
    assert out.endswith(b"\n\n" + BODY + b"nobody\n")
    # Nothing bounced.
    assert "notification" not in system.inst.log()


def test_list_member_forwarded_by_qmgr(instance, accounts,
                                      mail_owner):  # noqa: F811
    """A list's member in another domain is queued again from the list's
    owner.  local asks for the copy in its reply and qmgr queues it (local
    never writes the queue): the copy has the list's Delivered-To: on top
    of the original content, and both are logged."""
    system = MailSystem(instance, accounts, mail_owner)
    system.set_aliases("team: %s, remote@elsewhere.example\n"
                       "owner-team: %s\n"
                       % (system.name("alice"), system.name("bob")))
    system.start()
    team = "team@" + MYHOSTNAME
    qid = system.send([team], message("to the list"))
    system.wait_removed(qid)
    (m,) = system.wait_messages("alice", 1)
    assert m["Subject"] == "to the list"
    line = system.inst.wait_log(
        r"qmgr\[\d+\]: %s: to=<remote@elsewhere\.example>, orig_to=<%s>, "
        r"relay=local, .*dsn=2\.0\.0, status=sent \(forwarded as "
        r"([0-9A-Z]+)\)" % (qid, re.escape(team)))
    fwd = line.group(1)
    system.inst.wait_log(r"qmgr\[\d+\]: %s: forwarded as %s \(1 recipient\)"
                         % (qid, fwd))
    pancat = program("pancat")
    if not os.access(pancat, os.X_OK):
        return
    r = subprocess.run([pancat, "-c", system.inst.config_dir, fwd],
                       capture_output=True, timeout=scaled(30))
    assert r.returncode == 0, r.stderr
    out = lf(r.stdout)
    assert b"owner-team@" + MYHOSTNAME.encode() in out
    assert b"remote@elsewhere.example" in out
    assert b"\nDelivered-To: " + team.encode() + b"\n" in out
    assert b"Subject: to the list\n" in out
    assert lf(BODY) in out


def test_local_never_maps_the_queue(system):
    """Rule 2 (DESIGN.md): local runs as root, so it must never map the
    queue's Berkeley DB regions or hold its log, which mail_owner can
    write.  /proc of every local process (the agent and its delivery
    children) is read again and again while 60 messages are delivered;
    qmgr, which passes the content, does map them (the check sees
    them)."""
    system.start()
    rcpts = [system.addr(s) for s in sorted(system.users)]
    seen_local, seen_qmgr, held = set(), set(), {}
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            for pid in system.pids("local"):
                seen_local.add(pid)
                files = procfs.queue_files_held(pid, system.inst.queue_dir)
                if files:
                    held[pid] = files
            for pid in system.pids("qmgr"):
                if procfs.queue_files_held(pid, system.inst.queue_dir):
                    seen_qmgr.add(pid)
            time.sleep(0.005)

    t = threading.Thread(target=sample)
    t.start()
    try:
        ids = [system.send(rcpts, message("rule two %d" % n))
               for n in range(20)]
        for qid in ids:
            system.wait_removed(qid)
    finally:
        stop.set()
        t.join()
    for short in system.users:
        assert len(system.mbox(short)) == 20
    assert seen_local, "no local process was ever seen"
    assert seen_qmgr, "the check never saw qmgr's queue files"
    assert not held, held


# -- bounces -------------------------------------------------------------------

def dsn_parts(msg):
    """(human-readable text, [per-message fields, per-recipient fields
    ...], the returned part or None) of a DSN parsed with email."""
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts][:2] == [
        "text/plain", "message/delivery-status"]
    fields = [dict(b.items()) for b in parts[1].get_payload()]
    return (parts[0].get_content(), fields,
            parts[2] if len(parts) > 2 else None)


def read_dsn(system, short, n=1):
    """The n-th message of short's mbox, raw bytes parsed with email."""
    msgs = system.wait_messages(short, n)
    return parse(msgs[n - 1].as_bytes())


def test_unknown_user_refused_at_rcpt(system):
    system.start()
    with system.smtp() as s:
        s.mail("someone@client.test")
        code, text = s.rcpt("nosuchuser@" + MYHOSTNAME)
        assert code == 550 and text.startswith(b"5.1.1"), (code, text)
        code, _ = s.rcpt(system.addr("alice"))
        assert code == 250


def test_unknown_user_bounces_a_dsn(instance, accounts,
                                    mail_owner):  # noqa: F811
    # With the RCPT check off, smtpd takes anything for mydestination:
    # local finds no such user, and the sender gets an RFC 3464 DSN.
    system = MailSystem(instance, accounts, mail_owner,
                        conf={"local_recipient_maps": ""})
    system.start()
    sender = system.addr("alice")
    ghost = "nosuchuser@" + MYHOSTNAME
    qid = system.send([ghost, system.addr("bob")], message("half bounced"),
                      sender=sender,
                      rcpt_options=["ORCPT=rfc822;Ghost@example.org"])
    system.wait_removed(qid)
    bounce = system.inst.wait_log(r"%s: sender non-delivery notification: "
                                  r"([0-9A-Z]+)" % qid).group(1)
    system.wait_removed(bounce)
    (m,) = system.mbox("bob")
    assert m["Subject"] == "half bounced"
    dsn = read_dsn(system, "alice")
    assert dsn["Subject"] == "Undelivered Mail Returned to Sender"
    assert dsn["From"].startswith("MAILER-DAEMON@" + MYHOSTNAME)
    assert dsn["Return-Path"] == "<>"
    assert dsn["Delivered-To"] == sender
    text, fields, returned = dsn_parts(dsn)
    assert "This is the mail system at host %s." % MYHOSTNAME in text
    assert "<%s>" % ghost in text
    assert fields[0]["Reporting-MTA"] == "dns; " + MYHOSTNAME
    assert fields[0]["X-Panacea-Queue-ID"] == qid
    assert len(fields) == 2  # bob was delivered: not in a failure report
    r = fields[1]
    assert r["Final-Recipient"] == "rfc822; " + ghost
    assert r["Original-Recipient"] == "rfc822; Ghost@example.org"
    assert r["Action"] == "failed"
    assert r["Status"] == "5.1.1"
    assert "unknown user" in r["Diagnostic-Code"]
    # The original comes back (RET defaults to the full message).
    assert returned.get_content_type() in ("message/rfc822",
                                           "text/rfc822-headers")
    assert b"Subject: half bounced" in returned.as_bytes()


def test_deferral_retried_after_backoff(system):
    system.start()
    rcpt = system.addr("bob")
    path = system.mbox_path("bob")
    # mutt holds the mailbox: a live process's dotlock.
    with open(path + ".lock", "w") as f:
        f.write("%d\n" % os.getpid())
    qid = system.send([rcpt], message("waited"))
    m = system.inst.wait_log(r"%s: to=<%s>, relay=local, .*dsn=4\.2\.0, "
                             r"status=deferred \([^)]*lock" %
                             (qid, re.escape(rcpt)), timeout=30)
    deferred_at = time.monotonic()
    assert not os.path.exists(path) or os.path.getsize(path) == 0
    assert os.path.exists(path + ".lock")  # never clobbered
    mark = system.inst.log_size()
    os.unlink(path + ".lock")
    system.wait_removed(qid, timeout=30)
    waited = time.monotonic() - deferred_at
    assert re.search(r"%s: to=<%s>, relay=local, .*dsn=2\.0\.0, "
                     r"status=sent" % (qid, re.escape(rcpt)),
                     system.inst.log(mark))
    (msg,) = system.mbox("bob")
    assert msg["Subject"] == "waited"
    assert system.deliveries(qid).count((rcpt, "sent")) == 1
    # minimal_backoff_time = 2s: not retried at once.
    assert waited >= 1.0 or m is None, waited


def test_expired_message_bounces(instance, accounts,
                                 mail_owner):  # noqa: F811
    system = MailSystem(instance, accounts, mail_owner,
                        conf={"maximal_queue_lifetime": "5s",
                              "minimal_backoff_time": "1s",
                              "maximal_backoff_time": "1s"})
    system.start()
    rcpt = system.addr("bob")
    path = system.mbox_path("bob")
    with open(path + ".lock", "w") as f:
        f.write("%d\n" % os.getpid())
    try:
        qid = system.send([rcpt], message("never delivered"),
                          sender=system.addr("carol"))
        system.wait_removed(qid, timeout=40)
        log = system.inst.log()
        assert re.search((r"%s: to=<%s>, relay=none, delay=" + DELAY +
                          r", delays=" + DELAY + "/" + DELAY +
                          r"/0/0, dsn=4\.2\.0, "
                          r"status=expired, returned to sender \([^)]*lock")
                         % (qid, re.escape(rcpt)), log), log
        assert len(re.findall(r"%s: to=<%s>, relay=local, .*status=deferred"
                              % (qid, re.escape(rcpt)), log)) >= 2
        dsn = read_dsn(system, "carol")
        _, fields, _ = dsn_parts(dsn)
        assert fields[1]["Final-Recipient"] == "rfc822; " + rcpt
        assert fields[1]["Action"] == "failed"
        assert fields[1]["Status"] == "4.2.0"
        assert not os.path.exists(path) or os.path.getsize(path) == 0
    finally:
        os.unlink(path + ".lock")


@pytest.mark.parametrize("postmaster", ["aliased", "missing"])
def test_bounce_to_missing_sender_does_not_loop(instance, accounts,
                                                mail_owner,  # noqa: F811
                                                postmaster):
    system = MailSystem(instance, accounts, mail_owner,
                        conf={"local_recipient_maps": ""})
    if postmaster == "aliased":
        system.set_aliases("postmaster: %s\n" % system.name("carol"))
    system.start()
    qid = system.send(["ghost@" + MYHOSTNAME], message("nobody home"),
                      sender="gone@" + MYHOSTNAME)
    bounce = system.inst.wait_log(r"%s: sender non-delivery notification: "
                                  r"([0-9A-Z]+)" % qid).group(1)
    notice = system.inst.wait_log(r"%s: postmaster non-delivery "
                                  r"notification: ([0-9A-Z]+)"
                                  % bounce).group(1)
    system.inst.wait_log(r"%s: from=<double-bounce@%s>"
                         % (notice, re.escape(MYHOSTNAME)))
    if postmaster == "aliased":
        dsn = read_dsn(system, "carol")
        assert dsn["Subject"] == "Postmaster Copy: Undelivered Mail"
        _, fields, returned = dsn_parts(dsn)
        assert fields[1]["Final-Recipient"] == "rfc822; gone@" + MYHOSTNAME
        assert returned.get_payload()[0]["Subject"] == (
            "Undelivered Mail Returned to Sender")
    else:
        system.inst.wait_log(r"%s: undeliverable postmaster notification "
                             r"discarded" % notice)
    for q in (qid, bounce, notice):
        system.wait_removed(q)
    # Nothing more comes of it.
    time.sleep(scaled(3))
    log = system.inst.log()
    assert len(re.findall(r"qmgr\[\d+\]: \w+: removed", log)) == 3, log
    assert len(re.findall(r"notification: ", log)) == 2, log


# -- crash safety --------------------------------------------------------------

CRASH_MESSAGES = 2000
CRASH_SENDERS = 4     # SMTP sessions at once, many messages each
CRASH_KILLS = 8       # kill -9 of qmgr or local, at random moments


def crash_message(n):
    return crlf(b"From: <load@client.test>\n"
                b"Subject: crash-%05d\n"
                b"Message-ID: <crash-%05d@client.test>\n"
                b"\n"
                b"Message %d of the crash test.\n"
                b"From here on, filler.\n" % (n, n, n)
                + b"x" * 70 + b"\n"
                + b"end-of-crash-%05d\n" % n)


def mailbox_counts(system):
    """{n: complete copies} over every mailbox, and the number of
    messages Python's mailbox module finds (a half-written message would
    merge with the next one and show up as a difference)."""
    ends = {}
    parsed = 0
    for short in system.users:
        path = system.mbox_path(short)
        if not os.path.exists(path):
            continue
        with open(path, "rb") as f:
            raw = f.read()
        for n in re.findall(rb"^end-of-crash-(\d{5})$", raw, re.M):
            ends[int(n)] = ends.get(int(n), 0) + 1
        parsed += len(mailbox.mbox(path, create=False))
    return ends, parsed


def test_crash_safety_under_load(instance, accounts,
                                 mail_owner):  # noqa: F811
    """kill -9 of qmgr and of local at random moments while 2,000
    messages go through: every message smtpd acknowledged (250) ends up
    in its recipient's mailbox, duplicates are counted and printed (the
    window between a mailbox write and the status commit), a loss fails.
    master's wakeup timer (2 s here) restarts a killed qmgr once no new
    mail wakes it."""
    system = MailSystem(instance, accounts, mail_owner, qmgr_wakeup=2,
                        conf={"minimal_backoff_time": "1s",
                              "maximal_backoff_time": "2s",
                              "queue_run_delay": "1s"})
    system.start()
    shorts = sorted(system.users)
    acked = {}   # n -> (recipient's short name, queue id)
    lost_sessions = []
    lock = threading.Lock()
    done = threading.Event()
    t0 = time.monotonic()

    def send_share(numbers):
        # As a real client does, a message whose session was lost (the
        # daemons are restarted when a process died inside Berkeley DB)
        # is sent again: at least once, never lost.
        s = None
        for n in numbers:
            short = shorts[n % len(shorts)]
            for attempt in range(10):
                try:
                    if s is None:
                        s = system.smtp()
                    code, text = s.mail("load@client.test")
                    assert code == 250, text
                    code, text = s.rcpt(system.addr(short))
                    assert code == 250, text
                    code, text = s.data(crash_message(n))
                    assert code == 250, text
                    break
                except (OSError, smtplib.SMTPException,
                        AssertionError) as e:
                    with lock:
                        lost_sessions.append((n, repr(e)))
                    s = None
                    time.sleep(0.2)
            else:
                continue
            m = re.search(rb"queued as ([0-9A-Z]+)", text)
            with lock:
                acked[n] = (short, m.group(1).decode())
        if s is not None:
            s.quit()

    kills = []

    def killer():
        rnd = random.Random()
        while len(kills) < CRASH_KILLS:
            # Dense enough that the kills land while the 2,000 messages
            # are in flight, however fast the machine delivers them.
            if done.wait(rnd.uniform(0.1, 0.5)):
                return
            name = rnd.choice(("qmgr", "local"))
            pids = system.pids(name)
            if not pids:
                continue
            pid = rnd.choice(pids)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            kills.append((round(time.monotonic() - t0, 2), name))

    senders = [threading.Thread(target=send_share,
                                args=(range(i, CRASH_MESSAGES,
                                            CRASH_SENDERS),))
               for i in range(CRASH_SENDERS)]
    k = threading.Thread(target=killer)
    for t in senders + [k]:
        t.start()
    try:
        deadline = time.monotonic() + scaled(120)
        for t in senders:
            t.join(timeout=max(1, deadline - time.monotonic()))
        accepted_at = time.monotonic() - t0

        def all_there():
            ends, _ = mailbox_counts(system)
            return all(n in ends for n in acked)
        wait_until(all_there, timeout=120, interval=0.5,
                   what="every acknowledged message in a mailbox")
    finally:
        done.set()
        k.join()
    delivered_at = time.monotonic() - t0
    # Every message leaves the queue, and nothing more arrives.  Checked
    # in the queue itself: a qmgr killed between a removal and its
    # "removed" log line leaves no line behind.
    acked_ids = {qid for _, qid in acked.values()}
    wait_until(lambda: not acked_ids & set(queue_ids(system.inst)),
               timeout=60, interval=0.5,
               what="every acknowledged message out of the queue")
    ends, parsed = mailbox_counts(system)
    dups = {n: c for n, c in ends.items() if c > 1}
    log = system.inst.log()
    print("crash test: %d messages acknowledged, %d sessions lost, accepted in "
          "%.1f s, delivered in %.1f s; kills (s, process): %s; "
          "duplicates: %d %s; deferrals logged: %d"
          % (len(acked), len(lost_sessions), accepted_at, delivered_at, kills,
             len(dups), sorted(dups.items())[:20],
             len(re.findall(r"status=deferred", log))))
    assert len(acked) == CRASH_MESSAGES, lost_sessions[-10:]
    assert len(kills) >= 4, kills
    assert set(ends) == set(acked)  # no loss, nothing unknown
    assert parsed == sum(ends.values())  # no half-written message
    for short in shorts:
        path = system.mbox_path(short)
        with open(path, "rb") as f:
            raw = f.read()
        mine = {int(x) for x in re.findall(rb"^end-of-crash-(\d{5})$",
                                           raw, re.M)}
        assert mine == {n for n, (s, _) in acked.items() if s == short}
        assert not os.path.exists(path + ".lock")
    assert not re.search(r"status=bounced", log)


# -- Rule 2: root never maps the queue ------------------------------------------

def test_no_root_process_maps_the_queue(instance, accounts,
                                        mail_owner):  # noqa: F811
    """DESIGN.md Rule 2.  While mail flows (smtpd in, qmgr and local out)
    and qmgr is killed with SIGKILL (so that master asks the queue keeper
    for failchk), master and every root process below it (local among them)
    are sampled from /proc: none maps a region file of the queue or
    holds one of its log files.  The same sampling must see the queue
    keeper, a mail_owner process, mapping the regions: the check sees
    what it looks for."""
    system = MailSystem(instance, accounts, mail_owner, qmgr_wakeup=2)
    system.start()
    inst = system.inst
    master = inst.pid
    violations = {}
    seen = {"master": 0, "keeper": 0, "others": set()}
    done = threading.Event()

    def sample():
        while not done.is_set():
            for pid in procfs.tree(master):
                try:
                    # uids after the maps: root now means root then (a
                    # process never gets root back).
                    held = procfs.queue_files_held(pid, inst.queue_dir)
                    comm = procfs.comm(pid)
                    uids = procfs.uids(pid)
                except OSError:
                    continue  # gone meanwhile
                if pid == master:
                    seen["master"] += 1
                if 0 in uids:
                    if held:
                        violations.setdefault((pid, comm), set()).update(
                            held)
                elif held:
                    if comm == "queue-keeper":
                        seen["keeper"] += 1
                    seen["others"].add(comm)
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        shorts = sorted(system.users)
        sent = []

        def connect():
            try:
                return system.smtp()
            except (smtplib.SMTPException, OSError):
                return None

        def send_one(s, n):
            code, text = s.mail("load@client.test")
            assert code == 250, text
            code, text = s.rcpt(system.addr(shorts[n % len(shorts)]))
            assert code == 250, text
            return s.data(crash_message(n))[0] == 250

        def send_some(first):
            # A kill inside Berkeley DB makes master restart every daemon
            # (below): a session cut then is opened again and the message
            # sent again.
            s = system.smtp()
            for n in range(first, 120, 3):
                ok = False
                for attempt in range(5):
                    try:
                        ok = send_one(s, n)
                        break
                    except (smtplib.SMTPException, OSError):
                        s = wait_until(connect, timeout=30,
                                       what="smtpd back")
                if ok:
                    sent.append(n)
            s.quit()

        senders = [threading.Thread(target=send_some, args=(i,))
                   for i in range(3)]
        for t in senders:
            t.start()
        # qmgr dies abnormally while the messages come in.
        qmgr = wait_until(lambda: system.pids("qmgr"), what="qmgr")[0]
        time.sleep(0.3)
        mark = inst.log_size()
        os.kill(qmgr, signal.SIGKILL)
        inst.wait_log(r"qmgr pid %d killed by signal 9" % qmgr, since=mark)
        # failchk cleans up after qmgr or, when qmgr died inside Berkeley
        # DB holding a mutex, the environment needs recovery and master
        # restarts every daemon: root maps the queue on neither path.
        inst.wait_log(r"queue-keeper\[\d+\]: queue: failchk after process "
                      r"%d died: done|queue: process %d died leaving the "
                      r"queue in need of recovery" % (qmgr, qmgr), since=mark)
        for t in senders:
            t.join(timeout=scaled(120))
        # qmgr comes back with master's next wakeup and delivers the rest.
        wait_until(lambda: all(n in mailbox_counts(system)[0]
                               for n in sent),
                   timeout=120, interval=0.5,
                   what="every message in a mailbox")
    finally:
        done.set()
        sampler.join()
        # First, whatever else went wrong: the rule itself.
        assert violations == {}, violations
    print("Rule 2 sampling:", seen)
    assert len(sent) == 120
    assert seen["master"] > 10, seen
    # The check sees mapped regions where they are.
    assert seen["keeper"] > 0 and "qmgr" in seen["others"], seen
