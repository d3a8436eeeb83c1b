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

Privilege separation is shown from /proc while the processes run:
  - smtpd, qmgr, smtp, pickup and showq: every uid (real, effective,
    saved, fs) is mail_owner's and /proc/PID/root is the queue directory;
  - local's delivery child: caught while it waits for the mailbox lock
    (the test holds ~/Mailbox.lock), all its uids are the mailbox owner's;
  - pop3d: the front that holds port 110 runs as mail_owner in the jail;
    after login it hands the session to the root, unjailed pop3session
    (private/pop3session), whose child is caught while the test holds
    the POP3 session open: all its uids are the user's;
  - listening TCP sockets: every socket inode in /proc/PID/fd of every
    process of the instance, matched against the LISTEN entries of
    /proc/net/tcp and tcp6; master is the only root process among their
    holders.

Addresses: 127.0.7.0/24 (no other test uses it): .10 the host (smtpd on
25, pop3d on 110), .40 smtp-sink, .53 nsd.  Needs root.
"""

import os
import poplib
import pwd
import re
import secrets
import shutil
import subprocess
import tempfile

import pytest

import panacea_test
from dnsserver import DNSServer
from hops_helpers import Sink
from panacea_test import Instance, scaled, wait_until
from smtp_helpers import make_sasldb, mail_owner  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root (users, privileges, "
                                "port 25)")

NET = "127.0.7."
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
    for d in ("master", "auth", "smtpd", "qmgr", "smtp", "local", "pop3d",
              "pop3session", "pickup", "showq"):
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

def proc_status(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f
                    if ":\t" in line)


def uids(pid):
    """The real, effective, saved and file-system uids of pid."""
    return [int(x) for x in proc_status(pid)["Uid"].split()]


def comm(pid):
    with open("/proc/%d/comm" % pid) as f:
        return f.read().strip()


def descendants(pid):
    """Every live process below pid (children, grandchildren...)."""
    out, todo = [], [pid]
    while todo:
        kids = panacea_test.children_of(todo.pop())
        out += kids
        todo += kids
    return out


def snapshot(mpid):
    """{pid: (name, uids, root)} of master's descendants (those that
    vanish while being read are left out)."""
    seen = {}
    for pid in descendants(mpid):
        try:
            seen[pid] = (comm(pid), uids(pid),
                         os.readlink("/proc/%d/root" % pid))
        except (OSError, KeyError):
            continue
    return seen


def tcp_listeners():
    """{socket inode: "address:port"} of the LISTEN sockets."""
    out = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            next(f)
            for line in f:
                fields = line.split()
                if fields[3] == "0A":  # TCP_LISTEN
                    out[fields[9]] = fields[1]
    return out


def socket_inodes(pid):
    inodes = set()
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            m = re.match(r"socket:\[(\d+)\]$", os.readlink(
                os.path.join(fd_dir, fd)))
        except OSError:
            continue
        if m:
            inodes.add(m.group(1))
    return inodes


def listener_holders(pids):
    """{pid: set of LISTEN addresses} for the pids holding a listener."""
    listen = tcp_listeners()
    held = {}
    for pid in pids:
        try:
            mine = socket_inodes(pid) & set(listen)
        except OSError:
            continue
        if mine:
            held[pid] = {listen[i] for i in mine}
    return held


def hex_addr(addr, port):
    """/proc/net/tcp's form of an IPv4 address and port."""
    a = bytes(int(x) for x in addr.split("."))[::-1].hex().upper()
    return "%s:%04X" % (a, port)


def wait_process(mpid, pred, what, timeout=20):
    """The pid of a descendant of master for which pred(pid) is true."""
    def find():
        for pid in descendants(mpid):
            try:
                if pred(pid):
                    return pid
            except (OSError, KeyError):
                continue
        return None
    try:
        return wait_until(find, timeout=timeout, interval=0.02, what=what)
    except AssertionError:
        print("processes:", snapshot(mpid))
        raise


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
        self.sasldb = make_sasldb(os.path.join(inst.config_dir, "sasldb2"),
                                  {users["alice"].pw_name: PASSWORD},
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


def run_installed(host, sink, owner, users):
    inst = host.inst
    alice, bob = users["alice"], users["bob"]
    owner_uid = pwd.getpwnam(owner).pw_uid
    jail = os.path.realpath(inst.queue_dir)

    r = host.command("panacea", "start")
    assert r.returncode == 0, r.stderr
    st = host.command("panacea", "status")
    assert st.returncode == 0, st.stderr
    mpid = int(st.stdout.split()[-1])
    assert uids(mpid) == [0, 0, 0, 0]
    inst.wait_port(25)
    inst.wait_port(110)

    # alice's mailbox is locked (as a mail reader would): local's child
    # for her waits for the lock, which is when the test looks at it.
    lock = host.mailbox("alice") + ".lock"
    with open(lock, "w") as f:
        f.write("%d\n" % os.getpid())
    alice_addr = "%s@%s" % (alice.pw_name, MYHOSTNAME)
    r = host.command("sendmail", "-t", user=bob, input=(
        "To: %s, someone@%s\nSubject: installed\n\nthrough the jails\n" %
        (alice.pw_name, REMOTE)).encode())
    assert r.returncode == 0, r.stderr

    def is_local_child(pid):
        # local's fork, once it has switched (before, it is root).
        parent = int(proc_status(pid)["PPid"])
        return comm(pid) == "local" and comm(parent) == "local" and \
            uids(pid)[0] != 0
    child = wait_process(mpid, is_local_child, "local's delivery child")
    assert uids(child) == [alice.pw_uid] * 4
    assert int(proc_status(child)["Gid"].split()[0]) == alice.pw_gid
    assert uids(int(proc_status(child)["PPid"]))[0] == 0  # local: root
    os.unlink(lock)

    # The remote recipient went to smtp-sink through DNS.
    wait_until(lambda: sink.find(b"through the jails"), timeout=30,
               what="the message at smtp-sink")
    dump = sink.find(b"through the jails")[0]
    assert b"someone@" + REMOTE.encode() in dump
    inst.wait_log(r"to=<someone@%s>, relay=mx\.%s\[%s\]:25, .*status=sent"
                  % (re.escape(REMOTE), re.escape(REMOTE),
                     re.escape(SINK)), timeout=30)
    inst.wait_log(r"to=<%s>, relay=local, .*status=sent" %
                  re.escape(alice_addr), timeout=30)
    st = os.stat(host.mailbox("alice"))
    assert (st.st_uid, st.st_gid) == (alice.pw_uid, alice.pw_gid)

    # The jailed daemons while they are all there (showq: a listing).
    assert host.command("panqueue", "-p", user=bob).stdout == \
        b"Mail queue is empty\n"
    seen = snapshot(mpid)
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

    # alice reads it over POP3; her session runs as her.
    p = poplib.POP3(HOST, 110, timeout=scaled(20))
    try:
        assert p.user(alice.pw_name).startswith(b"+OK")
        assert p.pass_(PASSWORD).startswith(b"+OK")

        def is_session(pid):
            return comm(pid) == "pop3session" and \
                uids(pid)[0] not in (0, owner_uid)
        session = wait_process(mpid, is_session, "pop3d's session child")
        assert uids(session) == [alice.pw_uid] * 4
        # Its parent, the session service, is root and unjailed.
        parent = int(proc_status(session)["PPid"])
        assert comm(parent) == "pop3session" and uids(parent) == [0] * 4
        assert os.readlink("/proc/%d/root" % parent) == "/"
        count, _ = p.stat()
        assert count == 1
        _, lines, _ = p.retr(1)
        text = b"\n".join(lines)
        assert b"Subject: installed" in text
        assert b"through the jails" in text
        assert re.search(rb"from userid %d" % bob.pw_uid, text)

        # Listeners, while every kind of process is up: only master is
        # root among those that hold a listening TCP socket.
        pids = [mpid] + descendants(mpid)
        holders = listener_holders(pids)
        addrs = set().union(*holders.values())
        assert hex_addr(HOST, 25) in addrs and hex_addr(HOST, 110) in addrs
        root_holders = {pid for pid in holders if 0 in uids(pid)}
        assert root_holders == {mpid}, {
            pid: (comm(pid), uids(pid), holders[pid]) for pid in root_holders}
        for name in ("smtpd", "pop3d"):
            held = [pid for pid in holders if comm(pid) == name]
            assert held and all(uids(pid) == [owner_uid] * 4
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
    pids = [instance.pid] + descendants(instance.pid)
    holders = listener_holders(pids)
    assert instance.pid in holders
    assert any(comm(pid) == "pop3d" for pid in holders), holders
    root_holders = {pid for pid in holders if 0 in uids(pid)}
    assert root_holders == {instance.pid}, {
        pid: (comm(pid), uids(pid)) for pid in root_holders}
