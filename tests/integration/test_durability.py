"""Durability of the queue: what a 250 promised survives SIGKILL of
everything; what was not promised leaves nothing behind; a process killed
while holding Berkeley DB locks does not wedge anyone.

Each test runs a real master with smtpd (chrooted to the queue directory
and running as mail_owner when the tests run as root, as an installed
system does) on its own loopback address, and reads the queue back with
  pan-qlist   (tests/fixtures) one line per queued message:
              "ID SIZE NRCPT SENDER", through lib/queue's queue_list();
  pancat -hb  the stored message byte for byte; -e its envelope;
  db_dump     content.db itself, to see chunks that belong to no message
              (orphans) -- invisible through the queue API by design;
  db_stat -Cl the lock table, to prove a killed process held locks;
  gdb         to stop smtpd exactly inside a Berkeley DB transaction;
  strace      to see the commit synced to disk before the 250 is sent.

"Kill everything" is SIGKILL to master's process group and to every
process of the instance, at once, so no process gets to clean up; master
is then started again and runs recovery before any daemon starts.
"""

import os
import pwd
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

import pytest

import panacea_test
import procfs

from panacea_test import (Instance, children_of, fixture, pgroup_members,
                          pid_alive, program, read_line, sanitizer_report,
                          scaled, unless_built, wait_until)

pytestmark = unless_built("master", "smtpd", "pancat", fixtures=("pan-qlist",))

MAIL_OWNER = "panacea"
DOMAIN = "example.test"
def db_dump():
    return panacea_test.tool("db5.3_dump", "db5.3-util")


def db_stat():
    return panacea_test.tool("db5.3_stat", "db5.3-util")
RECEIVED_RE = re.compile(rb"Received: [^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*")


# -- fixtures -----------------------------------------------------------------

@pytest.fixture(scope="module")
def mail_owner():
    """The account smtpd drops to: as root "panacea" (created with useradd
    --system when missing, as `make run` does), else the invoking user."""
    return panacea_test.ensure_mail_owner(MAIL_OWNER)


@pytest.fixture
def inst(mail_owner):
    """A configured (not started) instance running smtpd.

    Its folder is a fresh mode-0711 directory under the system temporary
    folder: mail_owner must be able to reach the queue through every
    parent, which pytest's private (0700) tmp_path does not allow.
    Afterwards master's process group is killed, the log is printed (pytest
    shows it on failure) and a sanitizer report anywhere fails the test."""
    base = tempfile.mkdtemp(prefix="panacea-durability-")
    os.chmod(base, 0o711)
    i = Instance(base)
    i.owner = mail_owner
    i.smtp_port = i.port()
    i.conf.update({
        "mail_owner": mail_owner,
        "mydestination": DOMAIN,
        # Any recipient at DOMAIN: these tests are about the queue.
        "local_recipient_maps": "",
        # Nothing answers there: no lookup may leave the machine.
        "dns_nameservers": "127.0.0.1:9",
        "message_size_limit": "200000000",
    })
    i.services = [Instance.shipped(
        "smtp", "inet", i.smtp_port,
        chroot="y" if os.geteuid() == 0 else "n")]
    i.write()
    yield i
    try:
        i.stop(timeout=15)
    except Exception:
        pass
    kill_everything(i)
    print("---- maillog ----")
    print(i.log())
    print("---- master stderr ----")
    print(i.stderr())
    report = sanitizer_report(i.stderr() + i.log())
    shutil.rmtree(base, ignore_errors=True)
    if report:
        pytest.fail("sanitizer report: %s" % report)


# -- instance control ---------------------------------------------------------

def start(inst):
    inst.start()
    inst.wait_port(inst.smtp_port)


def instance_pids(inst):
    """master, its process group, and every descendant of master."""
    pids = set(procfs.tree(inst.pid))
    pids.update(pgroup_members(inst.pid))
    return pids


def kill_everything(inst):
    """SIGKILL to master and every process of the instance at once."""
    if inst.proc is None or inst.proc.poll() is not None:
        return
    pids = instance_pids(inst)
    try:
        os.killpg(inst.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    inst.proc.wait(timeout=scaled(10))
    wait_until(lambda: not any(pid_alive(p) for p in pids), timeout=10,
               what="every process of the instance to die")


def restart_after_crash(inst):
    """Starts master again; returns the log offset of the new run, after
    checking that recovery ran before master reported it was started."""
    mark = inst.log_size()
    start(inst)
    text = inst.log(mark)
    rec = re.search(r"master\[%d\]: queue \S+: recovery done" % inst.pid,
                    text)
    started = re.search(r"master\[%d\]: daemon started" % inst.pid, text)
    assert rec and started and rec.start() < started.start(), text
    return mark


# -- queue inspection ---------------------------------------------------------

def as_owner(inst):
    """subprocess keyword arguments that run a tool as mail_owner."""
    if os.geteuid() != 0:
        return {}
    pw = pwd.getpwnam(inst.owner)
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}


def qlist(inst):
    """{queue id: (size, nrcpt, sender)} of every queued message."""
    r = subprocess.run([fixture("pan-qlist"), "-c", inst.config_dir],
                       capture_output=True, text=True, timeout=scaled(60))
    assert r.returncode == 0, r.stderr
    queued = {}
    for line in r.stdout.splitlines():
        qid, size, nrcpt, sender = line.split(" ", 3)
        queued[qid] = (int(size), int(nrcpt), sender)
    return queued


def pancat(inst, qid, flags="-hb", qids=()):
    r = subprocess.run([program("pancat"), "-c", inst.config_dir, flags] +
                       ([qid] if qid else []) + list(qids),
                       capture_output=True, timeout=scaled(60))
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return r.stdout


def envelope_rcpts(inst, qid):
    text = pancat(inst, qid, "-e").decode()
    return re.findall(r"^recipient: (\S+)$", text, re.M)


def content_ids(inst):
    """Queue ids that have content chunks in content.db (db_dump joins the
    environment, as mail_owner, so it sees what a reader would)."""
    r = subprocess.run([db_dump(), "-h", os.path.join(inst.queue_dir, "db"),
                        "content.db"], capture_output=True, text=True,
                       timeout=scaled(60), **as_owner(inst))
    assert r.returncode == 0, r.stderr
    body = r.stdout.split("HEADER=END\n", 1)[1].split("DATA=END", 1)[0]
    lines = body.splitlines()
    keys = [bytes.fromhex(k.strip()) for k in lines[0::2]]
    return {k[:16].decode() for k in keys}


def stored(inst, qids):
    """{queue id: (envelope recipients, content as stored)} of qids, from
    one pancat run (-ehb: each message's envelope, then its bytes between
    postcat's markers), not two a message: a load test checks hundreds."""
    qids = list(qids)
    if not qids:
        return {}
    out = pancat(inst, None, "-ehb", qids)
    got = {}
    for qid in qids:
        head = b"*** ENVELOPE RECORDS %s ***\n" % qid.encode()
        start = out.index(head) + len(head)
        mid = b"*** MESSAGE CONTENTS %s ***\n" % qid.encode()
        end = b"*** END OF MESSAGE %s ***\n" % qid.encode()
        env, rest = out[start:].split(mid, 1)
        data = rest[:rest.index(end)]
        rcpts = re.findall(r"^recipient: (\S+)$", env.decode(), re.M)
        got[qid] = (rcpts, data)
    return got


def check_stored(inst, qid, body, rcpts, queued=None, got=None):
    """The queued message is the Received: header with its id, then
    exactly body; its envelope has exactly rcpts.  got: stored()'s
    answer for a batch that holds qid (else pancat is run for it)."""
    if got is None:
        data = pancat(inst, qid)
        have_rcpts = envelope_rcpts(inst, qid)
    else:
        have_rcpts, data = got[qid]
    m = RECEIVED_RE.match(data)
    assert m, "%s: no Received: header first: %r" % (qid, data[:200])
    assert b" id %s" % qid.encode() in m.group(0), m.group(0)
    assert data[m.end():] == body, "%s: content differs" % qid
    assert have_rcpts == rcpts
    if queued is not None:
        assert queued[qid][:2] == (len(data), len(rcpts)), queued[qid]


# -- SMTP client --------------------------------------------------------------

class Client:
    """A raw SMTP client; every reply is (code, last line text)."""

    def __init__(self, host, port, timeout=15.0):
        self.sock = socket.create_connection((host, port),
                                             timeout=scaled(timeout))
        self.sock.settimeout(scaled(timeout))
        self.expect(None, 220)

    def reply(self):
        while True:
            line = read_line(self.sock)
            if line is None:
                raise ConnectionError("connection closed")
            if len(line) < 4 or line[3] != "-":
                return int(line[:3]), line[4:]

    def expect(self, command, code):
        if command is not None:
            self.sock.sendall(command.encode() + b"\r\n")
        got, text = self.reply()
        assert got == code, "%r -> %d %s" % (command, got, text)
        return text

    def start_data(self, sender, rcpts):
        self.expect("MAIL FROM:<%s>" % sender, 250)
        for r in rcpts:
            self.expect("RCPT TO:<%s>" % r, 250)
        self.expect("DATA", 354)

    def send_message(self, sender, rcpts, body):
        """MAIL, RCPT, DATA, the dot-stuffed body; returns the queue id."""
        self.start_data(sender, rcpts)
        self.sock.sendall(stuff(body) + b".\r\n")
        code, text = self.reply()
        m = re.fullmatch(r"2\.0\.0 Ok: queued as (\S+)", text)
        assert code == 250 and m, "%d %s" % (code, text)
        return m.group(1)

    def close(self):
        self.sock.close()


def stuff(body):
    """SMTP dot-stuffing of a CRLF text ending in CRLF."""
    return re.sub(rb"(?m)^\.", b"..", body)


def make_body(token, size):
    """A message of about size bytes whose every line says who it is."""
    head = ("From: <sender@client.test>\r\nTo: <rcpt@%s>\r\n"
            "Subject: durability %s\r\nMessage-ID: <%s@client.test>\r\n"
            "\r\n" % (DOMAIN, token, token)).encode()
    lines = [head, b".a line that starts with a dot\r\n"]
    n = len(head)
    while n < size:
        line = ("%s %d %s\r\n" % (token, n, "x" * random.randint(0, 90)))
        lines.append(line.encode())
        n += len(line)
    return b"".join(lines)


def session_pid(inst, client):
    """The pid of the smtpd child serving client's connection: the child
    holding the server end of that TCP connection (/proc/net/tcp)."""
    lhost, lport = client.sock.getsockname()[:2]
    rhost, rport = client.sock.getpeername()[:2]

    def endpoint(field):
        addr, port = field.split(":")
        ip = socket.inet_ntoa(struct.pack("<I", int(addr, 16)))
        return ip, int(port, 16)

    def find():
        inode = None
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if (endpoint(fields[1]) == (rhost, rport)
                        and endpoint(fields[2]) == (lhost, lport)):
                    inode = fields[9]
        if inode is None:
            return None
        for pid in children_of(inst.pid):
            try:
                fds = os.listdir("/proc/%d/fd" % pid)
            except OSError:
                continue
            for fd in fds:
                try:
                    link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
                except OSError:
                    continue
                if link == "socket:[%s]" % inode:
                    return pid
        return None

    return wait_until(find, timeout=10, what="the smtpd of the session")


# -- the tests ----------------------------------------------------------------

def test_250_survives_sigkill_of_everything(inst):
    start(inst)
    body = make_body("single", 3000)
    rcpts = ["one@%s" % DOMAIN, "two@%s" % DOMAIN, "three@%s" % DOMAIN]
    c = Client(inst.host, inst.smtp_port)
    c.expect("EHLO client.test", 250)
    qid = c.send_message("sender@client.test", rcpts, body)
    # No QUIT, no pause: the 250 alone must be enough.
    kill_everything(inst)
    c.close()
    restart_after_crash(inst)
    queued = qlist(inst)
    assert list(queued) == [qid]
    assert queued[qid][2] == "sender@client.test"
    check_stored(inst, qid, body, rcpts, queued)


def test_commit_is_synced_before_250(inst):
    """SIGKILL leaves the page cache alone, so it cannot tell a synced
    commit from a written one: watch the system calls instead.  The log
    record is written and fdatasync'ed (or fsync'ed) before the 250."""
    strace = panacea_test.tool("strace", "strace")
    start(inst)
    c = Client(inst.host, inst.smtp_port)
    pid = session_pid(inst, c)
    out = os.path.join(inst.base, "strace.out")
    tracer = subprocess.Popen(
        [strace, "-f", "-y", "-qq", "-s", "200", "-o", out, "-e",
         "trace=write,pwrite64,writev,pwritev,fsync,fdatasync,"
         "sync_file_range,sendto,sendmsg", "-p", str(pid)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def traced():
        with open("/proc/%d/status" % pid) as f:
            return re.search(r"^TracerPid:\s*[1-9]", f.read(), re.M)
    try:
        wait_until(traced, timeout=10, what="strace to attach")
        c.expect("EHLO client.test", 250)
        qid = c.send_message("sender@client.test", ["r@%s" % DOMAIN],
                             make_body("synced", 500))
    finally:
        tracer.send_signal(signal.SIGINT)
        tracer.wait(timeout=scaled(20))
    lines = open(out).read().splitlines()
    data_at = next(i for i, line in enumerate(lines) if "354 " in line)
    ok_at = next(i for i, line in enumerate(lines)
                 if "queued as %s" % qid in line)
    between = lines[data_at:ok_at]
    log_file = r"<[^>]*/db/log\.\d+>"
    syncs = [i for i, line in enumerate(between)
             if re.match(r"(\d+ +)?(fdatasync|fsync)\(\d+%s\)" % log_file,
                         line)]
    writes = [i for i, line in enumerate(between)
              if re.match(r"(\d+ +)?(pwrite64|write|writev|pwritev)"
                          r"\(\d+%s" % log_file, line)]
    assert syncs, "no sync of the log between DATA and 250:\n" + \
        "\n".join(between)
    assert writes and writes[-1] < syncs[-1], "\n".join(between)


def _load_round(inst, round_no, sessions, sent, acked, errors):
    """Runs sessions concurrent senders until everything is killed at a
    random moment; fills sent {token: (body, rcpts)} and acked {token:
    queue id}."""
    stop = threading.Event()
    lock = threading.Lock()

    def sender(n):
        rnd = random.Random()
        seq = 0
        try:
            c = Client(inst.host, inst.smtp_port)
            c.expect("EHLO load%d.client.test" % n, 250)
            while not stop.is_set():
                seq += 1
                token = "r%d-s%d-m%d-%08x" % (round_no, n, seq,
                                              rnd.getrandbits(32))
                # Mostly small; some span several 64 KiB chunks.
                size = rnd.choice([300, 1024, 4000, 20000, 150000])
                body = make_body(token, size)
                rcpts = ["u%d@%s" % (k, DOMAIN)
                         for k in range(rnd.randint(1, 3))]
                with lock:
                    sent[token] = (body, rcpts)
                qid = c.send_message("s%d@client.test" % n, rcpts, body)
                with lock:
                    acked[token] = qid
        except (OSError, ConnectionError, AssertionError) as e:
            if not stop.is_set():
                errors.append("session %d: %r" % (n, e))

    before = len(acked)
    threads = [threading.Thread(target=sender, args=(n,), daemon=True)
               for n in range(sessions)]
    for t in threads:
        t.start()
    wait_until(lambda: len(acked) >= before + 3 * sessions or errors,
               timeout=60, what="the first messages to be queued")
    assert not errors, errors
    time.sleep(random.uniform(0.0, 1.0))
    stop.set()
    kill_everything(inst)
    for t in threads:
        t.join(timeout=scaled(30))
    assert not any(t.is_alive() for t in threads)


@pytest.mark.parametrize("sessions", [8])
def test_load_sigkill_every_250_survives_no_half_message(inst, sessions):
    sent, acked, errors = {}, {}, []
    start(inst)
    for round_no in range(2):
        _load_round(inst, round_no, sessions, sent, acked, errors)
        assert not errors, errors
        restart_after_crash(inst)
    queued = qlist(inst)
    print("sent %d, acknowledged %d, queued %d" %
          (len(sent), len(acked), len(queued)))
    # Every acknowledged message is there, intact.
    missing = {t: q for t, q in acked.items() if q not in queued}
    assert not missing, missing
    got = stored(inst, queued)
    for token, qid in acked.items():
        body, rcpts = sent[token]
        check_stored(inst, qid, body, rcpts, queued, got)
    # Whatever else is there (committed, but killed before the client
    # read the 250) is complete too: no half message is ever visible.
    by_qid = {q: t for t, q in acked.items()}
    for qid in queued:
        if qid in by_qid:
            continue
        data = got[qid][1]
        m = re.search(rb"Message-ID: <([^@>]+)@client\.test>", data)
        assert m, "%s: unknown message %r" % (qid, data[:300])
        token = m.group(1).decode()
        body, rcpts = sent[token]
        check_stored(inst, qid, body, rcpts, queued, got)
        assert token not in acked
    # No content chunk outlives its message: recovery purged the chunks of
    # the messages being received when everything died.
    assert content_ids(inst) == set(queued)


def _half_message(inst, size):
    """Opens a session and sends size bytes of DATA without the final
    dot; returns (client, body sent so far)."""
    c = Client(inst.host, inst.smtp_port)
    c.expect("EHLO client.test", 250)
    c.start_data("sender@client.test", ["r@%s" % DOMAIN])
    body = make_body("half", size)
    c.sock.sendall(body)
    return c, body


def test_client_gone_before_final_dot_leaves_nothing(inst):
    start(inst)
    # Large enough that several 64 KiB chunks were written already.
    c, _ = _half_message(inst, 300000)
    mark = inst.log_size()
    c.sock.shutdown(socket.SHUT_RDWR)
    c.close()
    inst.wait_log(r"lost connection after DATA", since=mark)
    wait_until(lambda: not content_ids(inst), timeout=10,
               what="the partial content to be deleted")
    assert qlist(inst) == {}
    # A message sent afterwards is the only one.
    c = Client(inst.host, inst.smtp_port)
    c.expect("EHLO client.test", 250)
    body = make_body("after", 500)
    qid = c.send_message("sender@client.test", ["r@%s" % DOMAIN], body)
    c.close()
    assert list(qlist(inst)) == [qid]
    check_stored(inst, qid, body, ["r@%s" % DOMAIN])


@pytest.mark.parametrize("everything", [False, True],
                         ids=["smtpd", "everything"])
def test_sigkill_before_final_dot_leaves_nothing(inst, everything):
    """smtpd (or everything) killed in the middle of DATA: the message
    never existed, and the chunks already written are orphans that
    recovery purges at the next start."""
    start(inst)
    c, _ = _half_message(inst, 300000)
    pid = session_pid(inst, c)
    # The early chunks are in content.db, invisible: no envelope.
    orphans = wait_until(lambda: content_ids(inst), timeout=10,
                         what="early content chunks to be written")
    assert len(orphans) == 1
    assert qlist(inst) == {}
    if everything:
        kill_everything(inst)
    else:
        mark = inst.log_size()
        os.kill(pid, signal.SIGKILL)
        inst.wait_log(r"smtpd pid %d killed by signal 9" % pid, since=mark)
        assert qlist(inst) == {}
        inst.stop()
    c.close()
    mark = restart_after_crash(inst)
    inst.wait_log(r"removed the partial content of 1 message", since=mark)
    assert qlist(inst) == {}
    assert content_ids(inst) == set()


@pytest.mark.parametrize("where", ["txn-open", "in-library"])
def test_sigkill_holding_locks_does_not_wedge(inst, where):
    """smtpd is stopped by gdb while it holds write locks on content.db
    pages (db_stat shows them) and SIGKILLed there:
      txn-open    between its put and its commit, outside Berkeley DB:
                  failchk aborts the dead transaction and frees its locks;
      in-library  inside the commit (Berkeley DB's own code): failchk
                  cannot repair that and master runs recovery.
    Either way a new session gets its 250 within a few seconds instead of
    waiting for ever for the dead process's locks -- including when the
    session lands on an smtpd that was already running."""
    gdb = panacea_test.tool("gdb", "gdb")
    start(inst)
    c = Client(inst.host, inst.smtp_port)
    pid = session_pid(inst, c)
    c.expect("EHLO client.test", 250)
    c.start_data("sender@client.test", ["r@%s" % DOMAIN])
    stop = threading.Event()

    def stream():
        line = b"x" * 998 + b"\r\n"
        try:
            for _ in range(100000):
                if stop.is_set():
                    break
                c.sock.sendall(line)
        except OSError:
            pass
    feeder = threading.Thread(target=stream, daemon=True)
    feeder.start()
    # A complete session on another smtpd, which then waits idle for the
    # next client with the environment open: the session after the kill
    # may land on it (a daemon that was running all along), not only on a
    # fresh one.
    spare = Client(inst.host, inst.smtp_port)
    assert session_pid(inst, spare) != pid
    spare.expect("EHLO spare.client.test", 250)
    spare.expect("QUIT", 221)
    spare.close()

    locks = os.path.join(inst.base, "locks.txt")
    stat = "%s -h %s -Cl > %s 2>&1" % (
        db_stat(), os.path.join(inst.queue_dir, "db"), locks)
    if os.geteuid() == 0:
        pw = pwd.getpwnam(inst.owner)
        stat = ("setpriv --reuid=%d --regid=%d --clear-groups " %
                (pw.pw_uid, pw.pw_gid)) + stat
    if where == "txn-open":
        # Stop right after the content put returns to lib/queue's
        # transaction loop: locks held, commit not called yet.
        stop_at = ["-ex", "break chunk_txn", "-ex", "continue",
                   "-ex", "finish"]
    else:
        stop_at = ["-ex", "break __txn_commit", "-ex", "continue"]
    mark = inst.log_size()
    g = subprocess.run(
        [gdb, "-nx", "-batch", "-p", str(pid)] + stop_at +
        ["-ex", "shell " + stat, "-ex", "kill"],
        capture_output=True, text=True, timeout=scaled(120))
    stop.set()
    assert "Breakpoint 1, " in g.stdout, g.stdout + g.stderr
    inst.wait_log(r"smtpd pid %d killed by signal 9" % pid, since=mark)
    feeder.join(timeout=scaled(30))
    c.close()
    # It died holding write locks inside a transaction.
    held = open(locks).read()
    writes = [int(n) for n, p in re.findall(
        r"write locks\s+(\d+)\s+pid/thread (\d+)/", held) if int(p) == pid]
    assert writes and max(writes) > 0, held
    # When master reaped the child, the queue keeper ran failchk, and
    # master had every daemon restarted and a new keeper recover when
    # failchk asked for it (the messages are Berkeley DB's and master's).
    if where == "txn-open":
        inst.wait_log(r"queue-keeper\[\d+\]: .*Aborting txn .*%d/" % pid,
                      since=mark)
    else:
        inst.wait_log(r"master\[%d\]: .*process %d died leaving the queue "
                      r"in need of recovery" % (inst.pid, pid), since=mark)

    t0 = time.monotonic()
    body = make_body("unwedged", 2000)
    try:
        c = Client(inst.host, inst.smtp_port, timeout=10)
        c.expect("EHLO client.test", 250)
        qid = c.send_message("sender@client.test", ["r@%s" % DOMAIN], body)
    except socket.timeout:
        pytest.fail("the session after the kill is wedged: no reply "
                    "within %.0f s" % (time.monotonic() - t0))
    elapsed = time.monotonic() - t0
    c.close()
    # A session stuck behind the dead process's locks would wait at least
    # the 5 s lock timeout (in practice for ever: Berkeley DB notices an
    # expired lock only when its deadlock detector runs).
    assert elapsed < scaled(4), "the new session took %.1f s" % elapsed
    check_stored(inst, qid, body, ["r@%s" % DOMAIN])
    assert list(qlist(inst)) == [qid]
    # failchk ran: the dead process holds nothing any more.
    r = subprocess.run([db_stat(), "-h", os.path.join(inst.queue_dir, "db"),
                        "-Cl"], capture_output=True, text=True,
                       timeout=scaled(60), **as_owner(inst))
    assert not re.search(r"pid/thread %d/" % pid, r.stdout), r.stdout
