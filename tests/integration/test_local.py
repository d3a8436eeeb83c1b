"""Integration tests of the local delivery agent, driven directly.

A real master runs only the "local" service (as in the services table of
DESIGN.md: `local unix - n n - - local`, root, no chroot).  Each test puts
a real message into the queue with the pan-enqueue fixture (as
mail_owner), sends local a delivery request over private/local exactly
as qmgr does (lib/deliver_proto.h, attribute lists from attrlist.py), and
reads the reply, the log and the mailboxes: mbox and Maildir through
Python's mailbox module and mutt in batch mode, owners and modes with
os.stat.  Unix test accounts are made with useradd for the session and
removed at the end; mail-only users come from a real saslpasswd2 sasldb.
Needs root (CI runs as root), as local itself does.
"""

import fcntl
import mailbox
import os
import pwd
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pytest

import attrlist
import panacea_test
import procfs
from delivery_helpers import load_aliases_db, mail_dirs
from panacea_test import Instance

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="local delivery needs root")

DOMAIN = "panacea.test"


def crlf(data):
    """The content as queued: every LF not after a CR becomes CRLF, as
    pan-enqueue (and smtpd) store it."""
    return re.sub(rb"(?<!\r)\n", b"\r\n", data)


@pytest.fixture(scope="session")
def accounts():
    """Unix accounts alice and bob (names with a random suffix) with
    homes under a world-readable folder, removed at the end."""
    yield from panacea_test.unix_accounts("plt", ('alice', 'bob'))


class LocalRig:
    """An instance running local, with its spool, aliases and sasldb."""

    def __init__(self, inst, accounts, conf=None):
        self.inst = inst
        self.users = accounts["users"]
        self.dir, self.spool, self.out = mail_dirs(accounts, "rig-", "mail")
        self.aliases = os.path.join(inst.config_dir, "aliases")
        self.sasldb = os.path.join(inst.config_dir, "sasldb2")
        inst.conf.update({
            "mydestination": "%s, localhost" % DOMAIN,
            "mail_spool_directory": self.spool,
            "alias_maps": "hash:" + self.aliases,
            "sasldb_path": self.sasldb,
            "recipient_delimiter": "+",
            "deliver_lock_attempts": "2",
            "deliver_lock_delay": "1s",
            "command_time_limit": "20s",
        })
        inst.conf.update(conf or {})
        inst.services = [Instance.shipped("local")]
        self.set_aliases("")

    def user(self, short):
        return self.users[short]

    def addr(self, short):
        return "%s@%s" % (self.users[short].pw_name, DOMAIN)

    def set_aliases(self, text):
        """Writes the aliases file and builds aliases.db with
        db5.3_load (the panmap command comes with the CLI issue; the
        format is the one lib/maps.c reads: lower-case keys, no NUL)."""
        with open(self.aliases, "w") as f:
            f.write(text)
        load_aliases_db(self.aliases + ".db", text)

    def add_mail_user(self, name):
        subprocess.run("echo secret | saslpasswd2 -c -p -f %s -u %s %s"
                       % (self.sasldb, DOMAIN, name), shell=True,
                       check=True)

    def start(self):
        self.inst.start()
        panacea_test.wait_until(
            lambda: os.path.exists(self.inst.socket_path("local")),
            what="private/local")

    def enqueue(self, message, rcpts, sender="sender@example.org"):
        """Queues message (bytes, LF lines) with pan-enqueue; returns
        (queue id, size as queued)."""
        r = subprocess.run([panacea_test.fixture("pan-enqueue"), "-c",
                            self.inst.config_dir, "-f", sender, "-H"]
                           + list(rcpts), input=message,
                           capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr.decode()
        return r.stdout.decode().strip(), len(crlf(message))

    def deliver(self, message, rcpts, sender="sender@example.org",
                orcpts=None, timeout=60, raw=None):
        """Queues and asks local to deliver, passing the content as qmgr
        does (a sealed memory file after the request: local itself never
        opens the queue); returns (queue id, reply groups by rcpt address,
        rest of the reply).  raw: a list that gets the reply's pairs."""
        qid, size = self.enqueue(message, rcpts, sender)
        now = time.time()
        pairs = [("request", "deliver"), ("queue_id", qid),
                 ("transport", "local"), ("nexthop", ""),
                 ("sender", sender), ("arrival", int(now) - 2),
                 ("arrival_usec", 250000), ("active", "%.3f" % (now - 1)),
                 ("size", size), ("flags", 0), ("envid", ""), ("ret", 0),
                 ("client_addr", "127.0.0.1"), ("content", "descriptor")]
        for i, rcpt in enumerate(rcpts):
            orcpt = (orcpts or {}).get(rcpt, "")
            pairs += [("rcpt_index", i), ("rcpt", rcpt),
                      ("orcpt", "rfc822;" + orcpt if orcpt else ""),
                      ("notify", 0)]
        fd = attrlist.sealed_memfd(crlf(message))
        try:
            reply = attrlist.request(self.inst.socket_path("local"), pairs,
                                     timeout=panacea_test.scaled(timeout),
                                     content_fd=fd)
        finally:
            os.close(fd)
        if raw is not None:
            raw.extend(reply)
        groups, rest = attrlist.groups(reply, "rcpt_index")
        by_rcpt = {}
        for g in groups:
            by_rcpt[rcpts[int(g["rcpt_index"])]] = g
        return qid, by_rcpt, rest

    def spool_path(self, short):
        return os.path.join(self.spool, self.users[short].pw_name)


@pytest.fixture
def rig(instance, accounts):
    return LocalRig(instance, accounts)


MESSAGE = (b"From: Sender <sender@example.org>\n"
           b"To: someone\n"
           b"Subject: local test\n"
           b"Message-ID: <local-test@example.org>\n"
           b"\n"
           b"First line of the body.\n"
           b"From the start of a line, quoted in mbox.\n"
           b"  indented line with trailing space \n"
           b".a line with a dot\n"
           b"\n"
           b"last line\n")
BODY = MESSAGE.split(b"\n\n", 1)[1]


def check_sent(group, text):
    assert group["class"] == "2", group
    assert group["dsn"] == "2.0.0"
    assert text in group["text"], group
    assert group["relay"] == "local"


def mutt_read(path, maildir=False):
    """Has mutt open the mailbox in batch mode and save its messages to a
    plain file; returns that file's bytes."""
    panacea_test.tool("mutt", "mutt")
    panacea_test.tool("script", "bsdutils")
    out = path.rstrip("/") + ".mutt-copy"
    muttrc = path.rstrip("/") + ".muttrc"
    home = os.path.dirname(muttrc)
    # Without ~/Mail, mutt's first question would eat the pushed keys.
    os.makedirs(os.path.join(home, "Mail"), exist_ok=True)
    with open(muttrc, "w") as f:
        f.write("set folder=%s\n" % home)
        f.write("set mbox_type=mbox\nset confirmappend=no\n"
                "set confirmcreate=no\nset delete=no\nset move=no\n"
                "set quit=yes\nset wait_key=no\nset mark_old=no\n"
                "set auto_tag=yes\n")
    cmd = ("mutt -n -R -F %s -f %s -e \"push '<tag-pattern>~A<enter>"
           "<tag-prefix><copy-message>%s<enter><quit>'\""
           % (muttrc, path, out))
    env = dict(os.environ, TERM="vt100", HOME=home)
    subprocess.run(["script", "-qec", cmd, "/dev/null"], env=env,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL,
                   timeout=panacea_test.scaled(30))
    if not os.path.exists(out):
        raise AssertionError("mutt could not read %s" % path)
    with open(out, "rb") as f:
        return f.read()


def test_mbox_delivery_case_and_extension(rig):
    rig.start()
    alice = rig.user("alice")
    rcpt = "%s+news@%s" % (alice.pw_name.upper(), DOMAIN.upper())
    qid, reply, rest = rig.deliver(MESSAGE, [rcpt])
    assert rest["status"] == "done"
    check_sent(reply[rcpt], "delivered to mailbox")
    delay = panacea_test.DELAY
    rig.inst.wait_log((r"%s: to=<%s>, relay=local, delay=" + delay +
                       r", delays=" + delay + "/" + delay + "/0/" + delay +
                       r", dsn=2\.0\.0, "
                       r"status=sent \(delivered to mailbox\)")
                      % (qid, re.escape(rcpt)))
    path = rig.spool_path("alice")
    st = os.stat(path)
    assert st.st_uid == alice.pw_uid and st.st_gid == alice.pw_gid
    assert st.st_mode & 0o7777 == 0o600
    with open(path, "rb") as f:
        raw = f.read()
    assert raw.startswith(b"From sender@example.org ")
    assert b"\r" not in raw
    assert raw.endswith(b"last line\n\n")
    msgs = list(mailbox.mbox(path))
    assert len(msgs) == 1
    m = msgs[0]
    assert m["Return-Path"] == "<sender@example.org>"
    assert m["Delivered-To"] == rcpt
    assert m["Subject"] == "local test"
    # Byte-exact body but for the mbox quoting of "From ".
    assert m.get_payload(decode=False).encode() == BODY.replace(
        b"\nFrom the", b"\n>From the")
    # A second message appends; mutt sees both.
    rig.deliver(MESSAGE.replace(b"local test", b"second"),
                [rig.addr("alice")], sender="")
    msgs = list(mailbox.mbox(path))
    assert [m["Subject"] for m in msgs] == ["local test", "second"]
    assert msgs[1].get_from().startswith("MAILER-DAEMON ")
    assert msgs[1]["Return-Path"] == "<>"
    mutt_read(path)
    got = list(mailbox.mbox(path + ".mutt-copy"))
    assert [m["Subject"] for m in got] == ["local test", "second"]


def test_maildir_in_home_and_multiple_recipients(instance, accounts):
    rig = LocalRig(instance, accounts, {"home_mailbox": "Maildir/"})
    rig.start()
    rcpts = [rig.addr("alice"), rig.addr("bob")]
    qid, reply, rest = rig.deliver(MESSAGE, rcpts)
    assert rest["status"] == "done"
    for short, rcpt in zip(("alice", "bob"), rcpts):
        check_sent(reply[rcpt], "delivered to maildir")
        pw = rig.user(short)
        md = os.path.join(pw.pw_dir, "Maildir")
        for sub in ("tmp", "new", "cur"):
            st = os.stat(os.path.join(md, sub))
            assert st.st_uid == pw.pw_uid
        assert os.listdir(os.path.join(md, "tmp")) == []
        names = os.listdir(os.path.join(md, "new"))
        assert len(names) == 1
        assert re.match(r"^\d+\.M\d+P\d+_\d+\.", names[0]), names
        st = os.stat(os.path.join(md, "new", names[0]))
        assert st.st_uid == pw.pw_uid and st.st_mode & 0o777 == 0o600
        msgs = list(mailbox.Maildir(md, create=False))
        assert len(msgs) == 1
        assert msgs[0]["Delivered-To"] == rcpt
        assert msgs[0]["Return-Path"] == "<sender@example.org>"
        with open(os.path.join(md, "new", names[0]), "rb") as f:
            raw = f.read()
        assert raw.split(b"\n\n", 1)[1] == BODY  # byte-exact, no quoting
        copy = mutt_read(md + "/", maildir=True)
        # mutt copies to an mbox without >From quoting: compare text.
        assert copy.count(b"\nSubject: local test\n") == 1
        assert b"\n\nFirst line of the body.\n" in copy
        rig.inst.wait_log(r"%s: to=<%s>, relay=local, .*status=sent "
                          r"\(delivered to maildir\)"
                          % (qid, re.escape(rcpt)))


def test_mail_only_user_and_spool_maildir(instance, accounts):
    """Mail-only users (sasldb, no unix account) get mailboxes owned by
    mail_only_owner (vmail), in the spool as mbox or Maildir."""
    rig = LocalRig(instance, accounts)
    rig.add_mail_user("mailonly")
    rig.add_mail_user("mailtwo")
    rig.start()
    # Their own account (rule 4), never mail_owner's.
    owner = pwd.getpwnam(instance.conf["mail_only_owner"])
    assert owner.pw_uid != pwd.getpwnam(instance.conf["mail_owner"]).pw_uid
    rcpt = "MailOnly@" + DOMAIN
    _, reply, _ = rig.deliver(MESSAGE, [rcpt])
    check_sent(reply[rcpt], "delivered to mailbox")
    path = os.path.join(rig.spool, "mailonly")
    st = os.stat(path)
    assert st.st_uid == owner.pw_uid and st.st_mode & 0o777 == 0o600
    assert len(mailbox.mbox(path)) == 1

    # mail_spool_directory ending in '/': Maildir in the spool, made by
    # local with the owner of the mailbox.
    instance.stop()
    instance.conf["mail_spool_directory"] = rig.spool + "/"
    instance.write()
    instance.start()
    rcpt = "mailtwo@" + DOMAIN
    _, reply, _ = rig.deliver(MESSAGE, [rcpt, rig.addr("bob")])
    check_sent(reply[rcpt], "delivered to maildir")
    check_sent(reply[rig.addr("bob")], "delivered to maildir")
    for name, uid in (("mailtwo", owner.pw_uid),
                      (rig.user("bob").pw_name, rig.user("bob").pw_uid)):
        md = os.path.join(rig.spool, name)
        st = os.stat(md)
        assert st.st_uid == uid and st.st_mode & 0o777 == 0o700
        msgs = list(mailbox.Maildir(md, create=False))
        assert len(msgs) == 1 and msgs[0]["Subject"] == "local test"
    # The old mbox is no Maildir: refused, never replaced.
    _, reply, _ = rig.deliver(MESSAGE, ["mailonly@" + DOMAIN])
    assert reply["mailonly@" + DOMAIN]["dsn"] == "5.2.0"
    assert len(mailbox.mbox(path)) == 1


def test_unknown_user_and_loop(rig):
    rig.start()
    rcpt = "nosuchuser@" + DOMAIN
    qid, reply, _ = rig.deliver(MESSAGE, [rcpt, rig.addr("alice")],
                                orcpts={rcpt: "Original+2B2B41@example.org"})
    g = reply[rcpt]
    assert g["class"] == "5" and g["dsn"] == "5.1.1"
    assert g["text"] == 'unknown user: "nosuchuser"'
    check_sent(reply[rig.addr("alice")], "delivered to mailbox")
    # ORCPT is xtext on the wire; the log shows the address decoded, and
    # decoded once ("+2B2B41" is "+2B41", which a second decoding would
    # turn into "+41").
    rig.inst.wait_log(r"%s: to=<%s>, orig_to=<Original\+2B41@example.org>, "
                      r"relay=local, .*dsn=5\.1\.1, status=bounced "
                      r"\(unknown user: \"nosuchuser\"\)"
                      % (qid, re.escape(rcpt)))
    # A message that was already delivered to this address: a loop.
    looped = b"Delivered-To: %s\n" % rig.addr("bob").encode() + MESSAGE
    _, reply, _ = rig.deliver(looped, [rig.addr("bob")])
    g = reply[rig.addr("bob")]
    assert g["class"] == "5" and g["dsn"] == "5.4.6", g
    assert not os.path.exists(rig.spool_path("bob"))


def fcntl_holder(path):
    """Another process (a mail reader) that holds the fcntl lock of path
    until it is killed."""
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl,sys,time\n"
         "f=open(sys.argv[1],'a')\n"
         "fcntl.lockf(f,fcntl.LOCK_EX)\n"
         "print('locked',flush=True)\n"
         "time.sleep(60)\n", path],
        stdout=subprocess.PIPE)
    assert holder.stdout.readline().strip() == b"locked"
    return holder


def test_locked_mailbox_defers_then_delivers(rig):
    rig.start()
    path = rig.spool_path("alice")
    # mutt or a POP3 server holds the dotlock (its own pid: alive).
    with open(path + ".lock", "w") as f:
        f.write("%d\n" % os.getpid())
    start = time.monotonic()
    _, reply, _ = rig.deliver(MESSAGE, [rig.addr("alice")])
    g = reply[rig.addr("alice")]
    assert g["class"] == "4" and g["dsn"] == "4.2.0", g
    assert "lock" in g["text"]
    assert time.monotonic() - start >= 1.0  # it waited before giving up
    assert os.path.exists(path + ".lock")   # never clobbered
    assert not os.path.exists(path) or os.path.getsize(path) == 0
    os.unlink(path + ".lock")
    _, reply, _ = rig.deliver(MESSAGE, [rig.addr("alice")])
    check_sent(reply[rig.addr("alice")], "delivered to mailbox")
    assert not os.path.exists(path + ".lock")
    assert len(mailbox.mbox(path)) == 1

    # An fcntl lock held by another process defers as well.
    holder = fcntl_holder(path)
    try:
        _, reply, _ = rig.deliver(MESSAGE, [rig.addr("alice")])
        assert reply[rig.addr("alice")]["dsn"] == "4.2.0"
    finally:
        holder.kill()
        holder.wait()
    assert len(mailbox.mbox(path)) == 1


def test_workers_and_the_lock_keeper_outlive_no_local(instance, accounts):
    """Mailbox deliveries run in local's long-lived workers, one per
    recipient identity, in that identity's every uid; a spool mbox's
    dotlock is held by local's lock keeper (root), which removes it when
    local is killed mid-delivery, so the mailbox is not held for
    stale_lock_time.  The worker finishes its write under its fcntl lock
    and then exits too."""
    rig = LocalRig(instance, accounts, conf={"deliver_lock_attempts": "30"})
    rig.start()
    alice = rig.users["alice"]
    path = rig.spool_path("alice")
    _, reply, _ = rig.deliver(MESSAGE, [rig.addr("alice")])
    check_sent(reply[rig.addr("alice")], "delivered to mailbox")
    # The same worker delivers the next message: no new process.
    locals_ = [p for p in panacea_test.children_of(instance.pid)
               if procfs.comm(p) == "local"]
    workers = {p for l in locals_ for p in panacea_test.children_of(l)
               if procfs.uids(p) == [alice.pw_uid] * 4}
    assert len(workers) == 1, workers
    _, reply, _ = rig.deliver(MESSAGE, [rig.addr("alice")])
    check_sent(reply[rig.addr("alice")], "delivered to mailbox")
    assert workers == {p for l in locals_ for p in panacea_test.children_of(l)
                       if procfs.uids(p) == [alice.pw_uid] * 4}

    # A reader holds the fcntl lock: the worker waits for it, under the
    # keeper's dotlock.
    holder = fcntl_holder(path)
    t = None
    try:
        t = threading.Thread(target=lambda: _deliver_quietly(rig))
        t.start()
        panacea_test.wait_until(lambda: os.path.exists(path + ".lock"),
                                what="the spool dotlock")
        local = [p for p in panacea_test.children_of(instance.pid)
                 if procfs.comm(p) == "local" and
                 panacea_test.children_of(p)]
        assert len(local) == 1, local
        kids = panacea_test.children_of(local[0])
        keeper = [p for p in kids if procfs.uids(p) == [0] * 4]
        worker = [p for p in kids if procfs.uids(p) == [alice.pw_uid] * 4]
        assert len(keeper) == 1 and len(worker) == 1, \
            [(p, procfs.uids(p)) for p in kids]
        with open(path + ".lock") as f:
            # "PID HOST": the keeper's pid, then this host's name.
            assert f.read() == "%d %s\n" % (keeper[0], socket.gethostname())
        os.kill(local[0], signal.SIGKILL)
        panacea_test.wait_until(lambda: not os.path.exists(path + ".lock"),
                                timeout=5, what="the keeper to drop the lock")
        panacea_test.wait_until(
            lambda: not os.path.exists("/proc/%d" % keeper[0]), timeout=5,
            what="the keeper to exit")
    finally:
        holder.kill()
        holder.wait()
        if t is not None:
            t.join()
    # The worker got its lock, finished the message and exited.
    panacea_test.wait_until(
        lambda: not os.path.exists("/proc/%d" % worker[0]), timeout=10,
        what="the worker to exit")
    msgs = mailbox.mbox(path)
    assert len(msgs) == 3
    assert all(m["Subject"] == "local test" for m in msgs)


def _deliver_quietly(rig):
    """A delivery whose local is killed: the request gets no reply."""
    try:
        rig.deliver(MESSAGE, [rig.addr("alice")], timeout=30)
    except Exception:  # noqa: BLE001 -- the connection dies with local
        pass


def test_stale_dotlock_is_removed(rig):
    rig.start()
    path = rig.spool_path("bob")
    with open(path + ".lock", "w") as f:
        f.write("999999999\n")
    old = time.time() - 3600
    os.utime(path + ".lock", (old, old))
    _, reply, _ = rig.deliver(MESSAGE, [rig.addr("bob")])
    check_sent(reply[rig.addr("bob")], "delivered to mailbox")
    rig.inst.wait_log(r"warning: removing stale lock file %s\.lock"
                      % re.escape(path))


def _dead_pid():
    """A pid that was a process of this host a moment ago."""
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test_dotlock_of_a_dead_owner_goes_at_once(rig):
    """A lock records "PID HOST": one made on this host whose process is
    dead (a killed local, lock keeper or POP3 session) is removed at
    once, not after stale_lock_time (500 s); one that names another host
    keeps the age rule, however dead its pid looks here; a live owner
    always holds it."""
    rig.start()
    host = socket.gethostname()
    path = rig.spool_path("bob")
    dead = _dead_pid()
    with open(path + ".lock", "w") as f:
        f.write("%d %s\n" % (dead, host))
    _, reply, _ = rig.deliver(MESSAGE, [rig.addr("bob")])
    check_sent(reply[rig.addr("bob")], "delivered to mailbox")
    assert not os.path.exists(path + ".lock")
    rig.inst.wait_log(r"warning: removing stale lock file %s\.lock \(pid %d "
                      r"on this host is gone\)" % (re.escape(path), dead))
    assert len(mailbox.mbox(path)) == 1

    # Another host's lock, young: held, though its pid is dead here.
    with open(path + ".lock", "w") as f:
        f.write("%d elsewhere.invalid\n" % dead)
    _, reply, _ = rig.deliver(MESSAGE, [rig.addr("bob")])
    g = reply[rig.addr("bob")]
    assert g["class"] == "4" and g["dsn"] == "4.2.0", g
    assert os.path.exists(path + ".lock")
    # ... and old: the age rule removes it.
    old = time.time() - 3600
    os.utime(path + ".lock", (old, old))
    _, reply, _ = rig.deliver(MESSAGE, [rig.addr("bob")])
    check_sent(reply[rig.addr("bob")], "delivered to mailbox")
    rig.inst.wait_log(r"warning: removing stale lock file %s\.lock \(made on "
                      r"elsewhere\.invalid, older than 500 s\)"
                      % re.escape(path))

    # A live owner of this host holds it, however old.
    holder = subprocess.Popen(["sleep", "60"])
    try:
        with open(path + ".lock", "w") as f:
            f.write("%d %s\n" % (holder.pid, host))
        os.utime(path + ".lock", (old, old))
        _, reply, _ = rig.deliver(MESSAGE, [rig.addr("bob")])
        assert reply[rig.addr("bob")]["dsn"] == "4.2.0"
        assert os.path.exists(path + ".lock")
    finally:
        holder.kill()
        holder.wait()
        os.unlink(path + ".lock")
    assert len(mailbox.mbox(path)) == 2


def test_symlinked_and_hardlinked_mailbox_refused(rig, accounts):
    rig.start()
    victim = os.path.join(rig.dir, "victim")
    with open(victim, "wb") as f:
        f.write(b"precious\n")
    os.chown(victim, rig.user("bob").pw_uid, rig.user("bob").pw_gid)
    os.symlink(victim, rig.spool_path("bob"))
    _, reply, _ = rig.deliver(MESSAGE, [rig.addr("bob")])
    g = reply[rig.addr("bob")]
    assert g["class"] == "5" and g["dsn"] == "5.2.0", g
    assert "symbolic link" in g["text"]
    os.unlink(rig.spool_path("bob"))
    os.link(victim, rig.spool_path("bob"))
    _, reply, _ = rig.deliver(MESSAGE, [rig.addr("bob")])
    g = reply[rig.addr("bob")]
    assert g["class"] == "5" and "hard link" in g["text"], g
    os.unlink(rig.spool_path("bob"))
    # Owned by someone else (alice): refused too.
    with open(rig.spool_path("bob"), "wb"):
        pass
    os.chown(rig.spool_path("bob"), rig.user("alice").pw_uid, 0)
    _, reply, _ = rig.deliver(MESSAGE, [rig.addr("bob")])
    assert "owner" in reply[rig.addr("bob")]["text"]
    with open(victim, "rb") as f:
        assert f.read() == b"precious\n"
    assert os.path.getsize(rig.spool_path("bob")) == 0


def test_aliases(rig):
    alice, bob = rig.user("alice"), rig.user("bob")
    file_out = os.path.join(rig.out, "file.mbox")
    cmd_out = os.path.join(rig.out, "cmd.out")
    rig.set_aliases(
        "# test aliases\n"
        "postmaster: %s\n"
        "team: %s, %s, remote@elsewhere.example\n"
        "owner-team: %s\n"
        "archive: %s\n"
        "pipe: \"|/bin/sh -c 'cat > %s; id -un >> %s'\"\n"
        "failing: \"|exit 67\"\n"
        "loopa: loopb\n"
        "loopb: loopa\n"
        "ghost: nosuchuser\n"
        "staff: :include:%s\n"
        % (alice.pw_name, alice.pw_name, bob.pw_name, alice.pw_name,
           file_out, cmd_out, cmd_out, os.path.join(rig.out, "staff")))
    with open(os.path.join(rig.out, "staff"), "w") as f:
        f.write("# the staff\n%s\n\"|cat > /dev/null\"\n" % bob.pw_name)
    rig.start()
    # A rename: the status of the one target.
    rcpt = "Postmaster@" + DOMAIN
    qid, reply, _ = rig.deliver(MESSAGE, [rcpt])
    check_sent(reply[rcpt], "delivered to mailbox")
    rig.inst.wait_log(r"%s: to=<%s@%s>, orig_to=<%s>, relay=local"
                      % (qid, alice.pw_name, DOMAIN, re.escape(rcpt)))
    # A list: two mailboxes and a remote member, which local asks qmgr
    # to queue again from the owner (test_delivery checks that qmgr
    # does): local never writes the queue.
    rcpt = "team@" + DOMAIN
    raw = []
    qid, reply, _ = rig.deliver(MESSAGE, [rcpt], raw=raw)
    check_sent(reply[rcpt], "destinations")
    assert len(mailbox.mbox(rig.spool_path("alice"))) == 2
    bob_msgs = list(mailbox.mbox(rig.spool_path("bob")))
    assert len(bob_msgs) == 1
    assert bob_msgs[0]["Delivered-To"] == "%s@%s" % (bob.pw_name, DOMAIN)
    fwd = [(n, v.decode()) for n, v in raw if n.startswith("forward")]
    assert fwd == [("forward", "owner-team@" + DOMAIN),
                   ("forward_rcpt", "remote@elsewhere.example")], raw
    # A file, appended as mbox with the alias owner's (nobody's) rights.
    rcpt = "archive@" + DOMAIN
    _, reply, _ = rig.deliver(MESSAGE, [rcpt])
    check_sent(reply[rcpt], "delivered to file: " + file_out)
    st = os.stat(file_out)
    assert st.st_uid == pwd.getpwnam("nobody").pw_uid
    assert mailbox.mbox(file_out)[0]["Delivered-To"] == rcpt
    # A command, with the message on its standard input, never as root.
    rcpt = "pipe@" + DOMAIN
    _, reply, _ = rig.deliver(MESSAGE, [rcpt])
    check_sent(reply[rcpt], "delivered to command: ")
    with open(cmd_out, "rb") as f:
        out = f.read()
    assert out.startswith(b"From sender@example.org ")
    assert b"\nDelivered-To: " + rcpt.encode() + b"\n" in out
    assert out.endswith(BODY + b"nobody\n")
    # A command that fails: its exit status decides.
    rcpt = "failing@" + DOMAIN
    _, reply, _ = rig.deliver(MESSAGE, [rcpt])
    g = reply[rcpt]
    assert g["class"] == "5" and g["dsn"] == "5.1.1", g
    assert "Command died with status 67" in g["text"]
    # Loops and unknown targets.
    rcpt = "loopa@" + DOMAIN
    _, reply, _ = rig.deliver(MESSAGE, [rcpt])
    assert reply[rcpt]["dsn"] == "5.4.6", reply[rcpt]
    rcpt = "ghost@" + DOMAIN
    _, reply, _ = rig.deliver(MESSAGE, [rcpt])
    assert reply[rcpt]["dsn"] == "5.1.1"
    # :include: lists: addresses yes, commands not by default (Postfix's
    # allow_mail_to_commands = alias, forward).
    rcpt = "staff@" + DOMAIN
    _, reply, _ = rig.deliver(MESSAGE, [rcpt])
    check_sent(reply[rcpt], "destinations")
    assert len(mailbox.mbox(rig.spool_path("bob"))) == 2
    rig.inst.wait_log(r"to=<staff@%s>, relay=local, .*dsn=5\.7\.1, "
                      r"status=bounced \(mail to command is restricted\)"
                      % re.escape(DOMAIN))


def test_commands_can_be_forbidden(instance, accounts):
    rig = LocalRig(instance, accounts, {"allow_mail_to_commands": "",
                                        "allow_mail_to_files": ""})
    rig.set_aliases("pipe: \"|cat > /dev/null\"\nfile: %s/x\n" % rig.out)
    rig.start()
    for name in ("pipe", "file"):
        rcpt = "%s@%s" % (name, DOMAIN)
        _, reply, _ = rig.deliver(MESSAGE, [rcpt])
        assert reply[rcpt]["dsn"] == "5.7.1", reply[rcpt]
    assert not os.path.exists(os.path.join(rig.out, "x"))


def test_mailbox_size_limit(instance, accounts):
    rig = LocalRig(instance, accounts, {"mailbox_size_limit": "2000",
                                        "message_size_limit": "1000"})
    rig.start()
    big = MESSAGE + b"x" * 3000 + b"\n"
    _, reply, _ = rig.deliver(big, [rig.addr("alice")])
    g = reply[rig.addr("alice")]
    assert g["class"] == "5" and g["dsn"] == "5.2.2", g
    assert (not os.path.exists(rig.spool_path("alice"))
            or os.path.getsize(rig.spool_path("alice")) == 0)


def test_malformed_request_fails_cleanly(rig):
    rig.start()
    reply = attrlist.request(rig.inst.socket_path("local"),
                             [("request", "deliver"),
                              ("queue_id", "not-an-id")])
    _, rest = attrlist.groups(reply, "rcpt_index")
    assert rest["status"] == "fail"
    # Every integer is range-checked (local once took notify=x and an
    # arrival of "1x" with unchecked conversions).
    qid, size = rig.enqueue(MESSAGE, [rig.addr("alice")])
    for name, value in (("notify", "x"), ("notify", "16"),
                        ("arrival", "1x"), ("ret", "7"), ("flags", "-1"),
                        ("rcpt_index", "99999999")):
        rig_pairs = [("request", "deliver"), ("queue_id", qid),
                     ("transport", "local"), ("nexthop", ""),
                     ("sender", ""), ("arrival", 1), ("arrival_usec", 0),
                     ("active", "1.000"), ("size", size), ("flags", 0),
                     ("envid", ""), ("ret", 0), ("client_addr", ""),
                     ("rcpt_index", 0), ("rcpt", rig.addr("alice")),
                     ("orcpt", ""), ("notify", 0)]
        rig_pairs = [(n, value if n == name else v) for n, v in rig_pairs]
        # No content: the request is refused before local would want it.
        reply = attrlist.request(rig.inst.socket_path("local"), rig_pairs)
        _, rest = attrlist.groups(reply, "rcpt_index")
        assert rest["status"] == "fail", (name, value)
        assert name in rest["reason"], (name, value, rest)
    assert not os.path.exists(rig.spool_path("alice"))
    # The content must come as a sealed memory file of the announced
    # size: local never falls back to the queue (a real message is
    # queued for alice here: local must not read it).
    qid, size = rig.enqueue(MESSAGE, [rig.addr("alice")])
    pairs = [("request", "deliver"), ("queue_id", qid),
             ("transport", "local"), ("nexthop", ""), ("sender", ""),
             ("arrival", 1), ("arrival_usec", 0), ("active", "1.000"),
             ("size", size),
             ("flags", 0), ("envid", ""), ("ret", 0),
             ("client_addr", ""), ("rcpt_index", 0),
             ("rcpt", rig.addr("alice")), ("orcpt", ""), ("notify", 0)]
    with_fd = pairs[:13] + [("content", "descriptor")] + pairs[13:]
    sealed = attrlist.sealed_memfd(crlf(MESSAGE))
    short = attrlist.sealed_memfd(crlf(MESSAGE)[:-1])
    unsealed = attrlist.sealed_memfd(crlf(MESSAGE), seals=0)
    pipe_r, pipe_w = os.pipe()
    cases = [("no descriptor announced", pairs, None, "no message content"),
             ("announced, never sent", with_fd, None, "cannot receive"),
             ("a pipe", with_fd, pipe_r, "not a sealed memory file"),
             ("not sealed", with_fd, unsealed, "not a sealed memory file"),
             ("wrong size", with_fd, short, "not a sealed memory file")]
    try:
        for what, p, fd, why in cases:
            if fd is None and p is with_fd:
                # A request with the announcement but no descriptor:
                # local waits, the peer half-closes.
                with socket.socket(socket.AF_UNIX) as s:
                    s.connect(rig.inst.socket_path("local"))
                    s.sendall(attrlist.encode(p))
                    s.shutdown(socket.SHUT_WR)
                    reply = attrlist.recv(s)
            else:
                reply = attrlist.request(rig.inst.socket_path("local"), p,
                                         content_fd=fd)
            _, rest = attrlist.groups(reply, "rcpt_index")
            assert rest["status"] == "fail", what
            assert why in rest["reason"], (what, rest)
        assert not os.path.exists(rig.spool_path("alice"))
        # The same request with the right descriptor delivers.
        reply = attrlist.request(rig.inst.socket_path("local"), with_fd,
                                 content_fd=sealed)
        groups, rest = attrlist.groups(reply, "rcpt_index")
        assert rest["status"] == "done" and groups[0]["class"] == "2"
    finally:
        for fd in (sealed, short, unsealed, pipe_r, pipe_w):
            os.close(fd)
    assert len(mailbox.mbox(rig.spool_path("alice"))) == 1


def test_include_owner_is_the_file_that_was_read(instance, accounts):
    """The commands of an :include: file run as the owner of the file
    local read, not of whatever the path names later.  bob owns an
    include file and its folder; while local waits for the lock of the
    list's first member (alice's mailbox, held here), bob swaps the file
    for a symbolic link to a file of alice's.  The command must still run
    as bob (the old code looked the path up again and ran it as alice)."""
    rig = LocalRig(instance, accounts, {
        "allow_mail_to_commands": "alias, include",
        "deliver_lock_attempts": "6", "deliver_lock_delay": "1s"})
    alice, bob = rig.user("alice"), rig.user("bob")
    bobdir = os.path.join(rig.dir, "bobdir")
    os.mkdir(bobdir)
    os.chown(bobdir, bob.pw_uid, bob.pw_gid)
    os.chmod(bobdir, 0o755)
    include = os.path.join(bobdir, "list")
    out = os.path.join(rig.out, "who")
    with open(include, "w") as f:
        f.write("%s\n\"|id -un > %s\"\n" % (alice.pw_name, out))
    os.chown(include, bob.pw_uid, bob.pw_gid)
    os.chmod(include, 0o644)
    victim = os.path.join(rig.out, "alices")
    with open(victim, "w") as f:
        f.write("# alice's\n")
    os.chown(victim, alice.pw_uid, alice.pw_gid)
    rig.set_aliases("blist: :include:%s\n" % include)
    rig.start()
    lock = rig.spool_path("alice") + ".lock"
    with open(lock, "w") as f:
        f.write("%d\n" % os.getpid())
    result = {}

    def deliver():
        result["reply"] = rig.deliver(MESSAGE, ["blist@" + DOMAIN])[1]

    t = threading.Thread(target=deliver)
    t.start()
    try:
        # local has read the list and waits for alice's lock (up to 5 s).
        time.sleep(panacea_test.scaled(1.5))
        tmp = include + ".new"
        os.symlink(victim, tmp)
        os.rename(tmp, include)
    finally:
        t.join()
        os.unlink(lock)
    g = result["reply"]["blist@" + DOMAIN]
    assert g["class"] == "2", g
    with open(out) as f:
        assert f.read().strip() == bob.pw_name


@pytest.fixture
def small_fs(accounts):
    """A 256 KiB tmpfs (world-writable, sticky) mounted for the test."""
    path = tempfile.mkdtemp(prefix="tmpfs-", dir=accounts["base"])
    r = subprocess.run(["mount", "-t", "tmpfs", "-o",
                        "size=256k,mode=1777", "panacea-test", path],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(panacea_test.ENVIRONMENT + "cannot mount a tmpfs: " +
                    r.stderr.strip())
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", path], capture_output=True)
        os.rmdir(path)


def test_failed_write_never_cuts_another_writers_message(instance, accounts,
                                                         small_fs):
    """A /file target on a full filesystem.  local opens the file, then
    waits for its fcntl lock, which another writer (this test, as mutt or
    a second delivery would) holds while it appends a message.  local's
    own write then fails (ENOSPC) and it truncates back: to the size
    under the lock, so the other writer's message stays whole (the old
    code truncated to the size seen at open and cut it)."""
    rig = LocalRig(instance, accounts, {"deliver_lock_attempts": "10",
                                        "deliver_lock_delay": "1s"})
    box = os.path.join(small_fs, "archive")
    rig.set_aliases("archive: %s\n" % box)
    rig.start()
    rcpt = "archive@" + DOMAIN
    _, reply, _ = rig.deliver(MESSAGE, [rcpt])
    check_sent(reply[rcpt], "delivered to file")
    other = (b"From other@example.org Thu Dec  3 10:00:00 2026\n"
             b"Subject: the other writer's message\n\n"
             + b"a line of the other message\n" * 200 + b"\n")
    result = {}

    def deliver_big():
        big = MESSAGE + b"y" * (400 * 1024) + b"\n"
        result["reply"] = rig.deliver(big, [rcpt])[1]

    with open(box, "ab") as f:
        fcntl.lockf(f, fcntl.LOCK_EX)
        t = threading.Thread(target=deliver_big)
        t.start()
        # local has opened the file and waits for the lock.
        time.sleep(panacea_test.scaled(2))
        f.write(other)
        f.flush()
        os.fsync(f.fileno())
        fcntl.lockf(f, fcntl.LOCK_UN)
    t.join()
    g = result["reply"][rcpt]
    # A full file system defers (4.3.0), never bounces.
    assert g["class"] == "4" and "No space" in g["text"], g
    with open(box, "rb") as f:
        data = f.read()
    assert data.endswith(other), data[-200:]
    msgs = list(mailbox.mbox(box, create=False))
    assert [m["Subject"] for m in msgs] == [
        "local test", "the other writer's message"]


@pytest.mark.parametrize("bad", ["missing", "mail_owner", "root"])
def test_local_refuses_a_bad_mail_only_owner(instance, accounts, bad):
    """local refuses to run (clear message, nothing delivered) when
    mail_only_owner is no account, is mail_owner, or is root."""
    value = {"missing": "nosuchvmailaccount",
             "mail_owner": instance.conf["mail_owner"],
             "root": "root"}[bad]
    rig = LocalRig(instance, accounts, {"mail_only_owner": value})
    rig.start()
    with pytest.raises((ConnectionError, OSError, ValueError)):
        rig.deliver(MESSAGE, [rig.addr("alice")], timeout=3)
    why = {"missing": r"mail_only_owner: no account \"nosuchvmailaccount\"",
           "mail_owner": r"mail_only_owner \S+ must not be mail_owner",
           "root": r"mail_only_owner root must not be root"}[bad]
    rig.inst.wait_log(r"local\[\d+\]: fatal: " + why)
    assert not os.path.exists(rig.spool_path("alice"))


def test_root_mailbox_refused_unless_aliased(rig):
    """Mail for root's own mailbox waits (4.3.5, with the reason) until
    root is aliased; aliased, it goes where the alias says.  Nothing is
    ever written to root's mailbox."""
    rig.set_aliases("postmaster: root\n")
    rig.start()
    _, reply, _ = rig.deliver(MESSAGE, ["root@" + DOMAIN, "postmaster@"
                                        + DOMAIN])
    for rcpt in ("root@" + DOMAIN, "postmaster@" + DOMAIN):
        g = reply[rcpt]
        assert g["class"] == "4" and g["dsn"] == "4.3.5", g
        assert "alias root to a user" in g["text"], g
    assert not os.path.exists(os.path.join(rig.spool, "root"))
    rig.set_aliases("postmaster: root\nroot: %s\n"
                    % rig.user("bob").pw_name)
    rig.inst.stop()
    rig.start()
    _, reply, _ = rig.deliver(MESSAGE, ["root@" + DOMAIN, "postmaster@"
                                        + DOMAIN])
    check_sent(reply["root@" + DOMAIN], "delivered to mailbox")
    check_sent(reply["postmaster@" + DOMAIN], "delivered to mailbox")
    assert len(mailbox.mbox(rig.spool_path("bob"))) == 2
    assert not os.path.exists(os.path.join(rig.spool, "root"))


def test_only_root_and_mail_owner_may_ask(rig):
    """Rule 5: local (root) answers only root and mail_owner
    (SO_PEERCRED).  The folder and socket are opened up here so that
    another user can connect at all; local must then refuse the request
    without delivering anything."""
    rig.start()
    sock = rig.inst.socket_path("local")
    folder = os.path.dirname(sock)
    old_dir, old_sock = os.stat(folder).st_mode, os.stat(sock).st_mode
    os.chmod(folder, 0o711)
    os.chmod(sock, 0o666)
    alice = rig.user("alice")
    qid, size = rig.enqueue(MESSAGE, [rig.addr("bob")])
    pairs = [("request", "deliver"), ("queue_id", qid),
             ("transport", "local"), ("nexthop", ""), ("sender", ""),
             ("arrival", 1), ("arrival_usec", 0), ("active", "1.000"),
             ("size", size),
             ("flags", 0), ("envid", ""), ("ret", 0), ("client_addr", ""),
             ("content", "descriptor"), ("rcpt_index", 0),
             ("rcpt", rig.addr("bob")), ("orcpt", ""), ("notify", 0)]
    script = ("import os, socket, sys\n"
              "sys.path.insert(0, %r)\n"
              "import attrlist\n"
              "fd = attrlist.sealed_memfd(%r)\n"
              "try:\n"
              "    print(attrlist.request(%r, %r, timeout=20, content_fd=fd))\n"
              "except (ConnectionError, OSError, ValueError) as e:\n"
              "    print('refused', type(e).__name__)\n"
              % (os.path.dirname(os.path.abspath(__file__)),
                 crlf(MESSAGE), sock, pairs))

    def as_alice():
        os.setgid(alice.pw_gid)
        os.setuid(alice.pw_uid)

    try:
        r = subprocess.run([sys.executable, "-c", script],
                           preexec_fn=as_alice, capture_output=True,
                           text=True, timeout=panacea_test.scaled(60))
    finally:
        os.chmod(folder, old_dir & 0o7777)
        os.chmod(sock, old_sock & 0o7777)
    assert r.stdout.startswith("refused"), (r.stdout, r.stderr)
    rig.inst.wait_log(r"refusing a delivery request from uid %d"
                      % alice.pw_uid)
    assert not os.path.exists(rig.spool_path("bob"))
