"""make install into a DESTDIR, and that installed tree run as a system.

scripts/install.sh (what make install runs) installs into a temporary
DESTDIR; the test checks the layout, then runs the installed programs as
root runs them on a real host: every daemon from the installed
libexec/panacea, jailed where the services table says so, unprivileged
as mail_owner, with two unix accounts (made by the test, with homes,
removed at the end) whose mailboxes are ~/Mailbox (home_mailbox).

Mail flows end to end through the jails: sendmail submits (public/submit
to smtpd), qmgr hands the local recipient to local and the remote one to
smtp, which finds the destination's MX through a real DNS server (nsd,
dnsserver.py) on loopback and relays to Postfix's smtp-sink on port 25
of its own address; the user then reads the mail over POP3 (pop3d).

Privilege separation is shown from /proc (tests/integration/procfs.py)
while the processes run:
  - the whole time, every 10 ms (RootWatch): no process with a root uid
    maps the queue (db/__db.*, db/log.*) or holds a TCP connection; the
    only programs that stay root are master, local and pop3session (the
    auth service runs as auth_owner); the same sampling sees the queue
    keeper map the queue and the pop3d front hold the client;
  - smtpd, qmgr, smtp, pickup and showq: every uid (real, effective,
    saved, fs) is mail_owner's and /proc/PID/root is the queue directory;
  - local's delivery children, caught while they wait for a lock the
    test holds: a unix user's (~/Mailbox.lock) has all its uids the
    user's; a mail-only user's (sasldb only, mailbox in the spool,
    fcntl-locked) has all its uids mail_only_owner's (vmail), never
    mail_owner's;
  - pop3d: the front that holds port 110 runs as mail_owner in the jail;
    after login it hands the session to the root, unjailed pop3session
    (private/pop3session), whose child is caught while the test holds
    the POP3 session open: all its uids are the user's (the unix user's,
    or vmail for the mail-only user); the auth service that checked the
    password runs as auth_owner, unjailed;
  - listening TCP sockets: every socket inode in /proc/PID/fd of every
    process of the instance, matched against the LISTEN entries of
    /proc/net/tcp and tcp6; master is the only root process among their
    holders.

Addresses: a loopback /24 held for the run (panacea_test.loopback_net()):
.10 the host (smtpd on 25, pop3d on 110), .40 smtp-sink, .53 nsd.  Needs root.

test_make_install_into_a_throwaway_root runs the real `make install`
(no DESTDIR, as root) and `make uninstall` in a mount and network
namespace of its own (ThrowawayRoot): /usr, /etc and /var are overlays
whose upper layers are folders of the test, /run an empty tmpfs, and
only loopback is up; the files land at their real paths, the machine's
own are never written, and everything install and uninstall changed is
in the upper layers to look at afterwards.
"""

import fcntl
import os
import poplib
import pwd
import re
import secrets
import shlex
import signal
import stat
import shutil
import subprocess
import tempfile
import threading
import time

import pytest

import panacea_test
import procfs
from dnsserver import DNSServer
from hops_helpers import Sink
from panacea_test import Instance, scaled, wait_until
from smtp_helpers import make_sasldb, mail_owner  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root (users, privileges, "
                                "port 25)")

NET = panacea_test.loopback_net()
HOST, SINK, DNS = NET + "10", NET + "40", NET + "53"
MYHOSTNAME = "mail.install.test"
REMOTE = "remote.test"
PREFIX = "/usr/local"
PASSWORD = "alice's pop password"


@pytest.fixture
def accounts():
    """Unix accounts alice and bob with home folders, removed after."""
    base = tempfile.mkdtemp(prefix="panacea-install-")
    os.chmod(base, 0o755)
    suffix = secrets.token_hex(3)
    made = {}
    try:
        for short in ("alice", "bob"):
            name = "pin%s%s" % (short, suffix)
            subprocess.run(["useradd", "-m", "-d",
                            os.path.join(base, name), "-s",
                            "/usr/sbin/nologin", "-U", name], check=True,
                           capture_output=True)
            made[short] = pwd.getpwnam(name)
        yield made
    finally:
        for pw in made.values():
            subprocess.run(["userdel", "-r", pw.pw_name],
                           capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def install(destdir):
    return subprocess.run(["sh", os.path.join(panacea_test.TOP, "scripts",
                                              "install.sh"),
                           destdir, PREFIX, panacea_test.BIN],
                          capture_output=True, timeout=scaled(120))


def check_layout(destdir):
    root = destdir + PREFIX
    for d in ("master", "auth", "smtpd", "qmgr", "smtp", "lmtp", "local",
              "pop3d",
              "pop3session", "pickup", "showq", "proxymap", "anvil",
              "postscreen"):
        assert os.access(root + "/libexec/panacea/" + d, os.X_OK), d
    for c in ("sendmail", "panqueue", "pansuper", "panmap", "panconf",
              "pancat", "panacea"):
        assert os.access(root + "/sbin/" + c, os.X_OK), c
    for link in ("/usr/sbin/sendmail", "/usr/bin/mailq",
                 "/usr/bin/newaliases", "/usr/lib/sendmail"):
        assert os.readlink(destdir + link) == PREFIX + "/sbin/sendmail"
    assert os.readlink(root + "/sbin/mailq") == "sendmail"
    for page in ("man1/sendmail.1", "man1/panqueue.1", "man8/master.8",
                 "man8/pop3d.8", "man8/pop3session.8", "man8/auth.8",
                 "man8/anvil.8", "man8/postscreen.8", "man8/lmtp.8",
                 "man5/panacea.conf.5", "man5/services.5"):
        assert os.path.exists(root + "/share/man/" + page), page
    etc = destdir + "/etc/panacea"
    assert "daemon_directory = %s/libexec/panacea" % PREFIX in \
        open(etc + "/panacea.conf").read()
    assert os.path.exists(etc + "/aliases.db")
    unit = open(destdir + "/etc/systemd/system/panacea.service").read()
    assert "ExecStart=%s/sbin/panacea start" % PREFIX in unit
    assert "ExecStop=%s/sbin/panacea stop" % PREFIX in unit
    assert "ExecReload=%s/sbin/panacea reload" % PREFIX in unit
    services = open(etc + "/services").read()
    assert re.search(r"(?m)^auth +unix +- +n +n +- +1 +auth$", services)
    with open(os.path.join(panacea_test.TOP, "conf", "services")) as f:
        assert services == f.read()


# -- /proc -------------------------------------------------------------------

# The processes that may run as root: master, local (it forks each
# delivery and drops in the child) and pop3session (it forks each session
# and keeps root only for the spool's dotlock).  The auth service is not
# among them: it runs as auth_owner.
ROOT_PROGRAMS = {"master", "local", "pop3session"}


class RootWatch:
    """Samples master and every process below it from /proc, every 10 ms
    while the test runs, for DESIGN.md's rules 2 and 3: whether a process
    with a root uid (real, effective, saved or fs) maps the queue
    (db/__db.*, db/log.*) or holds a TCP connection (an inet socket of
    /proc/PID/fd that /proc/net/tcp{,6} lists as not listening: a
    client's, or one to a server), and which programs stay root (a
    daemon that master starts is root until it drops: what counts is
    the last sample of each process).  It also records which
    unprivileged programs were seen doing either, so that a test can
    show the checks see what they look for."""

    def __init__(self, mpid, queue_dir):
        self.mpid, self.queue_dir = mpid, queue_dir
        self.last = {}  # pid: (name, uids) when last seen
        self.violations = {}
        self.queue_users, self.tcp_users = set(), set()
        self.samples = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run)
        self.thread.start()

    def run(self):
        while not self.done.is_set():
            conns = procfs.tcp_connections()
            for pid in procfs.tree(self.mpid):
                try:
                    self.sample(pid, conns)
                except (OSError, KeyError, ValueError):
                    continue  # gone meanwhile
            self.samples += 1
            time.sleep(0.01)

    def sample(self, pid, conns):
        # The uids are read after what the process holds: a process never
        # gets root back once it has dropped it, so root now means root
        # when its maps and descriptors were read (read the other way
        # round, a daemon that drops and then opens the queue between the
        # two reads would look like a root process mapping the queue).
        queue = procfs.queue_files_held(pid, self.queue_dir)
        tcp = procfs.socket_inodes(pid) & conns
        name, ids = procfs.comm(pid), procfs.uids(pid)
        self.last[pid] = (name, ids)
        if 0 in ids:
            if queue or tcp:
                self.violations.setdefault((pid, name), set()).update(
                    queue | {"socket:[%s]" % i for i in tcp})
        else:
            if queue:
                self.queue_users.add(name)
            if tcp:
                self.tcp_users.add(name)

    def stop(self):
        self.done.set()
        self.thread.join()

    def root_programs(self):
        """The programs of which a process stays root: root when last
        seen, and still root (and there) 2 s after the sampling ended,
        so that a daemon master had just started, which drops as soon as
        it has read its configuration, is not counted."""
        pending = {pid: name for pid, (name, ids) in self.last.items()
                   if 0 in ids}
        deadline = time.monotonic() + 2
        while pending and time.monotonic() < deadline:
            for pid in list(pending):
                try:
                    if 0 not in procfs.uids(pid):
                        del pending[pid]
                except (OSError, KeyError):
                    del pending[pid]  # gone
            time.sleep(0.05)
        return set(pending.values())


# -- the test ------------------------------------------------------------------

def shipped_services():
    """conf/services, the table make install ships, as services lines."""
    with open(os.path.join(panacea_test.TOP, "conf", "services")) as f:
        return [line.rstrip("\n") for line in f
                if line.strip() and not line.startswith("#")]


class Installed:
    """The installed tree run as a mail host."""

    def __init__(self, base, destdir, owner, users, dns):
        self.root = destdir + PREFIX
        self.users = users
        self.inst = inst = Instance(base)
        inst.host = HOST
        # A mail-only user: in the sasldb, no unix account; her mailbox
        # is in the spool, owned by mail_only_owner.
        self.mail_only = "pinvm" + secrets.token_hex(3)
        self.spool = os.path.join(inst.base, "spool")
        os.makedirs(self.spool)
        os.chmod(self.spool, 0o755)
        self.sasldb = make_sasldb(os.path.join(inst.config_dir, "sasldb2"),
                                  {users["alice"].pw_name: PASSWORD,
                                   self.mail_only: PASSWORD},
                                  MYHOSTNAME)
        aliases = os.path.join(inst.config_dir, "aliases")
        with open(aliases, "w") as f:
            f.write("postmaster: root\n")
        inst.conf.update({
            "daemon_directory": self.root + "/libexec/panacea",
            "mail_owner": owner,
            "inet_interfaces": HOST,
            "myhostname": MYHOSTNAME,
            "mydomain": "install.test",
            "mydestination": "$myhostname",
            "mynetworks": HOST + "/32",
            "smtp_bind_address": HOST,
            "dns_nameservers": dns.nameservers,
            "home_mailbox": "Mailbox",
            "mail_spool_directory": self.spool,
            "alias_maps": "hash:" + aliases,
            "sasldb_path": self.sasldb,
            "pop3d_auth_failure_delay": "0s",
            "queue_run_delay": "1s",
            "minimal_backoff_time": "60s",
            "maximal_backoff_time": "120s",
            "smtp_connect_timeout": "5s",
        })
        # The services of an installed system: the shipped table, which
        # install.sh copies.
        inst.services = shipped_services()
        inst.write()
        self.command("panmap", "hash:" + aliases, check=True)
        panacea_test.open_path(destdir + PREFIX)
        panacea_test.open_path(inst.base)

    def command(self, name, *args, user=None, input=b"", check=False):
        flag = "-C" if name == "sendmail" else "-c"
        pre = None
        if user is not None:
            def pre():
                os.setgroups([])
                os.setgid(user.pw_gid)
                os.setuid(user.pw_uid)
        r = subprocess.run([self.root + "/sbin/" + name, flag,
                            self.inst.config_dir] + list(args),
                           input=input, capture_output=True,
                           preexec_fn=pre, timeout=scaled(60))
        if check:
            assert r.returncode == 0, (name, args, r.stderr)
        return r

    def mailbox(self, short):
        if short == self.mail_only:
            return os.path.join(self.spool, short)
        return os.path.join(self.users[short].pw_dir, "Mailbox")


def test_install_into_destdir_and_run_it(tmp_path, mail_owner,  # noqa: F811
                                         accounts):
    destdir = str(tmp_path / "stage")
    r = install(destdir)
    assert r.returncode == 0, r.stderr
    check_layout(destdir)
    # A second install keeps the administrator's configuration.
    etc = destdir + "/etc/panacea"
    with open(etc + "/panacea.conf", "a") as f:
        f.write("# mine\n")
    r = install(destdir)
    assert r.returncode == 0, r.stderr
    assert open(etc + "/panacea.conf").read().endswith("# mine\n")

    dns = DNSServer({REMOTE: "@ MX 10 mx\nmx A %s\n" % SINK},
                    address=DNS, workdir=str(tmp_path / "dns"))
    sink = host = report = None
    try:
        dns.start()
        sink = Sink(SINK, str(tmp_path / "sink"))
        host = Installed(str(tmp_path / "run"), destdir, mail_owner,
                         accounts, dns)
        run_installed(host, sink, mail_owner, accounts)
    finally:
        if host is not None:
            host.command("panacea", "stop")
            print(host.inst.log())
            report = panacea_test.sanitizer_report(host.inst.log())
        if sink is not None:
            sink.close()
        dns.cleanup()
    assert report is None, report


def local_child(mpid, uid):
    """local's delivery child for uid: a local process below local that
    has uid among its uids (before it switches it is all root)."""
    def is_it(pid):
        return procfs.comm(pid) == "local" and \
            procfs.comm(procfs.ppid(pid)) == "local" and \
            uid in procfs.uids(pid)
    return procfs.wait_descendant(mpid, is_it, "local's child for %d" % uid)


def session_child(mpid, uid):
    """pop3session's session child for uid, once it has switched."""
    def is_it(pid):
        return procfs.comm(pid) == "pop3session" and \
            procfs.uids(pid)[0] == uid
    return procfs.wait_descendant(mpid, is_it,
                                  "pop3session's child for %d" % uid)


def run_installed(host, sink, owner, users):
    inst = host.inst
    alice, bob = users["alice"], users["bob"]
    owner_uid = pwd.getpwnam(owner).pw_uid
    vmail = pwd.getpwnam(inst.conf["mail_only_owner"])
    auth_owner = pwd.getpwnam(inst.conf.get("auth_owner",
                                            panacea_test.AUTH_OWNER))
    assert len({owner_uid, vmail.pw_uid, auth_owner.pw_uid, 0}) == 4
    jail = os.path.realpath(inst.queue_dir)

    r = host.command("panacea", "start")
    assert r.returncode == 0, r.stderr
    st = host.command("panacea", "status")
    assert st.returncode == 0, st.stderr
    mpid = int(st.stdout.split()[-1])
    assert procfs.uids(mpid) == [0, 0, 0, 0]
    watch = RootWatch(mpid, inst.queue_dir)
    try:
        run_with_watch(host, sink, mpid, owner_uid, vmail, auth_owner, jail,
                       alice, bob, watch)
    finally:
        watch.stop()
        # First, whatever else went wrong: the rules themselves.
        assert watch.violations == {}, watch.violations
    root = watch.root_programs()
    print("root programs:", root, "samples:", watch.samples)
    # Only master, local and pop3session stay root; all three were seen.
    assert root == ROOT_PROGRAMS, root
    # The checks see what they look for: the queue keeper (mail_owner)
    # maps the queue; the pop3d front (mail_owner) holds the client, so
    # the sampling ran while the POP3 sessions did (how many rounds it
    # made depends on the machine's load: not counted).
    assert "queue-keeper" in watch.queue_users, watch.queue_users
    assert "pop3d" in watch.tcp_users, watch.tcp_users


def run_with_watch(host, sink, mpid, owner_uid, vmail, auth_owner, jail,
                   alice, bob, watch):
    inst = host.inst
    inst.wait_port(25)
    inst.wait_port(110)

    # alice's mailbox is dotlocked (as a mail reader would), the
    # mail-only user's (in the spool, hers: vmail's) fcntl-locked: local's
    # child for each waits for the lock, which is when the test looks at
    # it.
    lock = host.mailbox("alice") + ".lock"
    with open(lock, "w") as f:
        f.write("%d\n" % os.getpid())
    spool_box = host.mailbox(host.mail_only)
    held = os.open(spool_box, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    os.fchown(held, vmail.pw_uid, vmail.pw_gid)
    fcntl.lockf(held, fcntl.LOCK_EX)
    alice_addr = "%s@%s" % (alice.pw_name, MYHOSTNAME)
    only_addr = "%s@%s" % (host.mail_only, MYHOSTNAME)
    r = host.command("sendmail", "-t", user=bob, input=(
        "To: %s, %s, someone@%s\nSubject: installed\n\nthrough the jails\n"
        % (alice.pw_name, only_addr, REMOTE)).encode())
    assert r.returncode == 0, r.stderr

    # A unix user's delivery: every uid hers, her group; local stays root.
    child = local_child(mpid, alice.pw_uid)
    assert procfs.uids(child) == [alice.pw_uid] * 4
    assert procfs.gids(child)[0] == alice.pw_gid
    assert procfs.uids(procfs.ppid(child))[0] == 0
    os.unlink(lock)
    # A mail-only user's, in the spool: every uid mail_only_owner's
    # (local took the spool's dotlock for it, as root, before the fork).
    child = local_child(mpid, vmail.pw_uid)
    assert procfs.uids(child) == [vmail.pw_uid] * 4
    assert procfs.gids(child)[0] == vmail.pw_gid
    assert owner_uid != vmail.pw_uid
    os.close(held)

    # The remote recipient went to smtp-sink through DNS.
    wait_until(lambda: sink.find(b"through the jails"), timeout=30,
               what="the message at smtp-sink")
    dump = sink.find(b"through the jails")[0]
    assert b"someone@" + REMOTE.encode() in dump
    inst.wait_log(r"to=<someone@%s>, relay=mx\.%s\[%s\]:25, .*status=sent"
                  % (re.escape(REMOTE), re.escape(REMOTE),
                     re.escape(SINK)), timeout=30)
    for addr in (alice_addr, only_addr):
        inst.wait_log(r"to=<%s>, relay=local, .*status=sent" %
                      re.escape(addr), timeout=30)
    st = os.stat(host.mailbox("alice"))
    assert (st.st_uid, st.st_gid) == (alice.pw_uid, alice.pw_gid)
    st = os.stat(spool_box)
    assert (st.st_uid, st.st_mode & 0o777) == (vmail.pw_uid, 0o600)

    # The jailed daemons while they are all there (showq: a listing).
    assert host.command("panqueue", "-p", user=bob).stdout == \
        b"Mail queue is empty\n"
    seen = procfs.snapshot(mpid)
    names = {v[0] for v in seen.values()}
    for name in ("smtpd", "qmgr", "smtp", "pickup", "showq", "queue-keeper"):
        assert name in names, (name, seen)
    for pid, (name, ids, root) in seen.items():
        if name in ("smtpd", "qmgr", "smtp", "pickup", "showq",
                    "queue-keeper"):
            assert ids == [owner_uid] * 4, (name, ids)
            assert root == jail, (name, root)
        elif name == "local":
            assert root == "/", (name, root)
        elif name == "pop3d":  # the front
            assert (ids, root) == ([owner_uid] * 4, jail), (name, ids, root)
        elif name == "pop3session":  # the session service
            assert (ids, root) == ([0] * 4, "/"), (name, ids, root)

    # alice reads her mail over POP3; her session runs as her, the
    # mail-only user's as mail_only_owner.
    for login, uid in ((alice.pw_name, alice.pw_uid),
                       (host.mail_only, vmail.pw_uid)):
        read_over_pop3(host, mpid, owner_uid, auth_owner, login, uid, bob,
                       watch)


def read_over_pop3(host, mpid, owner_uid, auth_owner, login, uid, bob,
                   watch):
    p = poplib.POP3(HOST, 110, timeout=scaled(20))
    try:
        # Before the login, while the front holds the client (after it, a
        # plaintext session's socket goes to the session process, and
        # the front holds nothing): the session waits until the watch has
        # seen it, since one of the watch's rounds takes a second or more
        # on a loaded machine.
        wait_until(lambda: "pop3d" in watch.tcp_users, timeout=30,
                   what="the watch to see pop3d holding the client")
        assert p.user(login).startswith(b"+OK")
        assert p.pass_(PASSWORD).startswith(b"+OK")
        session = session_child(mpid, uid)
        assert procfs.uids(session) == [uid] * 4
        # Its parent, the session service, is root and unjailed.
        parent = procfs.ppid(session)
        assert procfs.comm(parent) == "pop3session"
        assert procfs.uids(parent) == [0] * 4
        assert procfs.root(parent) == "/"
        # The auth service that checked the password: auth_owner, not
        # root, not jailed.
        auth = [pid for pid, (name, _, _) in procfs.snapshot(mpid).items()
                if name == "auth"]
        assert len(auth) == 1, auth
        assert procfs.uids(auth[0]) == [auth_owner.pw_uid] * 4
        assert procfs.root(auth[0]) == "/"
        count, _ = p.stat()
        assert count == 1
        _, lines, _ = p.retr(1)
        text = b"\n".join(lines)
        assert b"Subject: installed" in text
        assert b"through the jails" in text
        assert re.search(rb"from userid %d" % bob.pw_uid, text)

        # Listeners, while every kind of process is up: only master is
        # root among those that hold a listening TCP socket.
        holders = procfs.listener_holders(procfs.tree(mpid))
        addrs = set().union(*holders.values())
        assert procfs.hex_addr(HOST, 25) in addrs
        assert procfs.hex_addr(HOST, 110) in addrs
        root_holders = {pid for pid in holders if 0 in procfs.uids(pid)}
        assert root_holders == {mpid}, {
            pid: (procfs.comm(pid), procfs.uids(pid), holders[pid])
            for pid in root_holders}
        for name in ("smtpd", "pop3d"):
            held = [pid for pid in holders if procfs.comm(pid) == name]
            assert held and all(procfs.uids(pid) == [owner_uid] * 4
                                for pid in held), (name, held)
    finally:
        p.quit()


def test_pop3d_listener_is_not_root(instance, mail_owner):  # noqa: F811
    """Only master is root among the holders of pop3d's listener: the
    front holds it as mail_owner; only logged-in sessions go to the root
    pop3session, as a socketpair."""
    port = instance.port()
    instance.conf["mail_owner"] = mail_owner
    instance.services = ["%d inet n - y - - pop3d" % port,
                         "pop3session unix - n n - - pop3session"]
    instance.start()
    instance.wait_port(port)
    # The kernel completes the connection before master starts pop3d.
    instance.wait_log(r"pop3d\[\d+\]: connect from")
    holders = procfs.listener_holders(procfs.tree(instance.pid))
    assert instance.pid in holders
    assert any(procfs.comm(pid) == "pop3d" for pid in holders), holders
    root_holders = {pid for pid in holders if 0 in procfs.uids(pid)}
    assert root_holders == {instance.pid}, {
        pid: (procfs.comm(pid), procfs.uids(pid)) for pid in root_holders}


# -- the real make install, in a throwaway root ---------------------------------

class ThrowawayRoot:
    """A mount and network namespace held by a sleeping process: /usr,
    /etc and /var are overlays of themselves whose upper layers (where
    every write goes) are folders under work, /run is an empty tmpfs (no
    systemd or nscd of the machine is reached from inside: users that
    install makes are read from the overlay /etc), and only lo is up.
    run() starts a command inside (nsenter).  close() kills every
    process in the namespace, which takes the mounts with it; what the
    commands wrote stays in upper(layer) for the test to look at."""

    LAYERS = ("usr", "etc", "var")

    def __init__(self, work):
        self.work = work
        for top in self.LAYERS:
            if os.path.realpath(work).startswith("/%s/" % top):
                raise AssertionError("the work folder %s is under /%s, "
                                     "which is overlaid" % (work, top))
        script = ["set -e"]
        for layer in self.LAYERS:
            upper, wdir = self.upper(layer), os.path.join(work, layer + ".w")
            os.makedirs(upper)
            os.makedirs(wdir)
            script.append("mount -t overlay overlay -o lowerdir=/%s,"
                          "upperdir=%s,workdir=%s /%s"
                          % (layer, upper, wdir, layer))
        script += ["mount -t tmpfs tmpfs /run",
                   "%s link set lo up" % panacea_test.tool("ip"),
                   "echo ready", "exec sleep 600"]
        self.holder = subprocess.Popen(
            [panacea_test.tool("unshare"), "--mount", "--net",
             "--propagation", "private", "sh", "-c", "\n".join(script)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = self.holder.stdout.readline()
        if line != b"ready\n":
            self.holder.wait(timeout=10)
            raise AssertionError("no throwaway root: %r" %
                                 self.holder.stderr.read())
        self.ns = os.stat("/proc/%d/ns/mnt" % self.holder.pid).st_ino

    def upper(self, layer):
        return os.path.join(self.work, layer)

    def run(self, *args, check=True, timeout=60):
        r = subprocess.run([panacea_test.tool("nsenter"), "-t",
                            str(self.holder.pid), "-m", "-n", "--"] +
                           list(args), capture_output=True,
                           timeout=scaled(timeout))
        if check:
            assert r.returncode == 0, (args, r.stdout, r.stderr)
        return r

    def read(self, path):
        r = self.run("cat", path, check=False)
        return r.stdout if r.returncode == 0 else None

    def processes(self):
        found = []
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                if os.stat("/proc/%s/ns/mnt" % name).st_ino == self.ns:
                    found.append(int(name))
            except OSError:
                continue
        return found

    def close(self):
        # Whatever a failed test left running inside (master and its
        # daemons) dies with the holder: none may keep the mounts.
        for _ in range(50):
            pids = self.processes()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.05)
        self.holder.wait(timeout=10)
        assert not self.processes()

    def changes(self):
        """What install and uninstall changed: {path: kind} of every
        file, link and whiteout (a removed file of the machine) of the
        upper layers, directories left out."""
        out = {}
        for layer in self.LAYERS:
            upper = self.upper(layer)
            for d, _, files in os.walk(upper):
                for f in files:
                    full = os.path.join(d, f)
                    st = os.lstat(full)
                    path = "/" + layer + full[len(upper):]
                    if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
                        out[path] = "whiteout"
                    elif stat.S_ISLNK(st.st_mode):
                        out[path] = "link"
                    else:
                        out[path] = "file"
        return out


INSTALLED_SBIN = "/usr/local/sbin/"
RCPT = "pin17rcpt"
# What stays after make uninstall PURGE=1 (INSTALL, "Uninstall"): the
# accounts (useradd's files: install's and the test's recipient's), the
# mailboxes, and the log the test asked for.
STAYS = re.compile(r"^/etc/(passwd|group|shadow|gshadow|subuid|subgid)-?$"
                   r"|^/etc/\.pwd\.lock$"
                   r"|^/var/mail/"
                   r"|^/var/log/panacea\.log$")


def make(root, target, *args):
    extra = []
    if os.path.realpath(panacea_test.BIN) == os.path.realpath(
            os.path.join(panacea_test.TOP, "build", "san", "bin")):
        extra.append("SANITIZE=1")
    return root.run("make", "--no-print-directory", "-C", panacea_test.TOP,
                    target, *(extra + list(args)))


def exec_lines(unit):
    """The Exec*= command lines of a systemd unit, as argument lists."""
    out = {}
    for line in unit.decode().splitlines():
        m = re.match(r"^(Exec\w+)=(.*)$", line)
        if m:
            out[m.group(1)] = shlex.split(m.group(2))
    return out


def master_pid(root):
    r = root.run(INSTALLED_SBIN + "panacea", "status", check=False)
    if r.returncode != 0:
        return None
    return int(r.stdout.split()[-1])


def test_make_install_into_a_throwaway_root(tmp_path):
    # The machine's own view of a few places install writes, to show
    # that it does not change.
    watched = ("/usr/local/sbin/panacea", "/usr/local/libexec/panacea",
               "/etc/panacea", "/etc/systemd/system/panacea.service",
               "/var/spool/panacea")
    before = {p: os.path.lexists(p) for p in watched}
    root = ThrowawayRoot(str(tmp_path / "root"))
    log = b""
    try:
        run_in_root(root)
    finally:
        log = root.read("/var/log/panacea.log") or b""
        root.close()
        print(log.decode(errors="replace"))
    assert {p: os.path.lexists(p) for p in watched} == before
    # The account the test made inside is not the machine's (the whole
    # /etc/passwd is not compared: other tests add and remove users).
    with pytest.raises(KeyError):
        pwd.getpwnam(RCPT)

    # What is left: nothing of the machine removed, nothing installed
    # but what INSTALL says stays; the accounts are there.
    changes = root.changes()
    print("\n".join("%s %s" % kv for kv in sorted(changes.items())))
    assert [p for p, kind in changes.items() if kind == "whiteout"] == []
    left = sorted(p for p in changes if not STAYS.search(p))
    assert left == [], left
    assert not os.path.exists(root.upper("usr") + "/local/libexec/panacea")
    with open(root.upper("etc") + "/passwd") as f:
        users = {line.split(":")[0] for line in f}
    assert {"panacea", "panacea-auth", "vmail"} <= users
    # PURGE=1 took /etc/panacea and the queue; the mailbox stays.
    assert not os.path.exists(root.upper("etc") + "/panacea")
    assert not os.path.exists(root.upper("var") + "/spool/panacea")
    assert report_sanitizer(log) is None


def report_sanitizer(log):
    return panacea_test.sanitizer_report(log.decode(errors="replace"))


def run_in_root(root):
    r = make(root, "install")
    assert b"installed into /usr/local" in r.stdout, r.stdout
    for path in ("/usr/local/libexec/panacea/master",
                 INSTALLED_SBIN + "panacea", "/etc/panacea/aliases.db",
                 "/var/spool/panacea/maildrop"):
        root.run("test", "-e", path)
    # The machine's own sendmail (another MTA's file) is left alone.
    assert b"left alone" in r.stderr or not os.path.lexists(
        "/usr/sbin/sendmail")

    # The installed configuration, edited as an administrator would:
    # smtpd on a port of the test's choosing, loopback only (the
    # namespace has nothing else), a log file in the throwaway /var.
    port = 20000 + secrets.randbelow(20000)
    root.run(INSTALLED_SBIN + "panconf", "-e", "inet_interfaces=127.0.0.1",
             "myhostname=mail.install.test",
             "mydestination=$myhostname, localhost",
             "maillog_file=/var/log/panacea.log")
    root.run("sed", "-i", r"s/^smtp\( *inet \)/%d\1/" % port,
             "/etc/panacea/services")
    assert re.search(rb"(?m)^%d +inet " % port,
                     root.read("/etc/panacea/services"))
    root.run(INSTALLED_SBIN + "panacea", "check")
    # The recipient: an account of the throwaway /etc (root's mail is
    # not delivered to a uid 0 mailbox), mailbox in /var/mail.
    root.run("useradd", "-M", "-s", "/usr/sbin/nologin", RCPT)

    # panacea start, one message over SMTP, delivered; panacea stop.
    root.run(INSTALLED_SBIN + "panacea", "start")
    assert master_pid(root) is not None
    send_and_see(root, port, "by panacea start")
    root.run(INSTALLED_SBIN + "panacea", "stop")
    assert master_pid(root) is None

    # The installed unit's commands, as systemd would run them.
    unit = root.read("/etc/systemd/system/panacea.service")
    execs = exec_lines(unit)
    assert execs["ExecStart"][0].startswith(INSTALLED_SBIN), execs
    root.run(*execs["ExecStart"])
    pid = master_pid(root)
    assert pid is not None
    pidfile = re.search(rb"(?m)^PIDFile=(.*)$", unit).group(1).decode()
    assert int(root.read(pidfile).split()[0]) == pid
    send_and_see(root, port, "by ExecStart")
    root.run(*execs["ExecReload"])
    wait_until(lambda: re.search(rb"master\[%d\]: reload -- " % pid,
                                 root.read("/var/log/panacea.log") or b""),
               what="master's reload")
    assert master_pid(root) == pid
    send_and_see(root, port, "after ExecReload")
    root.run(*execs["ExecStop"])
    assert master_pid(root) is None

    # make uninstall: it stops a running master first; what install
    # wrote goes, the two files the test changed stay (and are named);
    # then PURGE=1.
    root.run(*execs["ExecStart"])
    pid = master_pid(root)
    assert pid is not None
    r = make(root, "uninstall")
    # panacea stop returns once master has let its pid file go; the
    # process itself is gone (and reaped) a moment later.
    wait_until(lambda: not os.path.exists("/proc/%d" % pid), timeout=5,
               what="master %d gone" % pid)
    assert b"/etc/panacea/panacea.conf was changed" in r.stderr, r.stderr
    assert b"/etc/panacea/services was changed" in r.stderr, r.stderr
    for path in ("/usr/local/libexec/panacea", INSTALLED_SBIN + "panacea",
                 "/etc/panacea/aliases", "/etc/panacea/aliases.db",
                 "/etc/systemd/system/panacea.service",
                 "/usr/local/share/man/man8/master.8"):
        assert root.run("test", "-e", path, check=False).returncode != 0, \
            path
    for path in ("/var/spool/panacea/maildrop", "/etc/panacea/panacea.conf",
                 "/etc/panacea/services"):
        root.run("test", "-e", path)
    make(root, "uninstall", "PURGE=1")


def send_and_see(root, port, marker):
    """One message to RCPT@localhost over SMTP on loopback, from inside
    the namespace, seen in RCPT's mailbox."""
    marker = "%s %s" % (marker, secrets.token_hex(4))
    root.run(panacea_test.tool("swaks"), "--server", "127.0.0.1", "--port",
             str(port), "--helo", "client.install.test", "--from",
             "sender@client.install.test", "--to", RCPT + "@localhost",
             "--header", "Subject: " + marker, "--body", marker,
             timeout=30)
    box = "/var/mail/" + RCPT
    wait_until(lambda: marker.encode() in (root.read(box) or b""),
               timeout=20, what="%r in %s" % (marker, box))
