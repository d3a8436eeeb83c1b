"""panacea_test - helpers to run a real Panacea instance in a test.

An Instance is one configuration directory plus one queue directory under
a temporary folder, with maillog_file in that folder, its own loopback
address (pick_loopback) and free ports.  Tests write panacea.conf and the
services table, start master in the foreground (-f), talk to the services
over loopback, read the log, and stop master; the conftest fixture stops
whatever is left (master and its whole process group) after each test.

Everything that waits polls with a deadline (wait_until), never a fixed
sleep: the test machines are slow and shared, and the sanitizer build is
slower still, so every deadline is multiplied by TIME_SCALE.

Environment (set by `make integration`):
  PANACEA_BIN       programs (master, smtpd, ...); default <tree>/bin
  PANACEA_FIXTURES  test programs (pan-echo, ...); default
                    <tree>/build/std/tests/bin
  PANACEA_SANITIZE  "1" under ASan/UBSan: deadlines are tripled
"""

import fcntl
import ipaddress
import os
import random
import re
import signal
import socket
import subprocess
import tempfile
import shutil
import threading
import time

import pytest

import procfs
import requirements

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BIN = os.environ.get("PANACEA_BIN") or os.path.join(TOP, "bin")
FIXTURES = (os.environ.get("PANACEA_FIXTURES")
            or os.path.join(TOP, "build", "std", "tests", "bin"))
SANITIZE = os.environ.get("PANACEA_SANITIZE") == "1"
TIME_SCALE = 3.0 if SANITIZE else 1.0


def program(name):
    """Absolute path of a Panacea program in PANACEA_BIN."""
    return os.path.join(BIN, name)


def fixture(name):
    """Absolute path of a test program in PANACEA_FIXTURES."""
    return os.path.join(FIXTURES, name)


class LoopbackServer:
    """A TCP listener on (host, port) (0: a free port, then in self.port)
    whose thread hands each connection to self.accepted(conn) until
    close().  The servers tests play (SMTP peers, sinks, spawn) are its
    subclasses; a subclass sets up its own state before calling this
    __init__, since connections may come at once."""

    def __init__(self, host, port=0, backlog=16, reuse=False):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if reuse:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(backlog)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepted(conn)

    def accepted(self, conn):
        raise NotImplementedError

    def close(self):
        self.running = False
        self.thread.join(timeout=10)
        self.sock.close()


def unless_built(*programs, fixtures=()):
    """The skip mark of a test module that runs these programs (bin/)
    and test programs (tests/fixtures): skipped, naming them, when one
    is not built."""
    names = list(programs) + list(fixtures)
    paths = [program(p) for p in programs] + [fixture(p) for p in fixtures]
    said = names[0] if len(names) == 1 else \
        "%s or %s" % (", ".join(names[:-1]), names[-1])
    return pytest.mark.skipif(
        not all(os.access(p, os.X_OK) for p in paths),
        reason=said + " is not built")


# A delay= number or one delays= field as Postfix writes it with the
# default delay_logging_resolution_limit = 2 (lib/delivery_log.h): whole
# seconds from 10 s, one decimal from 1 s, two significant digits below,
# no trailing zeros ("13", "1.2", "0.23", "0.05", "0").
DELAY = r"(?:[1-9]\d+|\d|[1-9]\.[1-9]|0\.[1-9][1-9]?|0\.0[1-9])"


def scaled(seconds):
    return seconds * TIME_SCALE


def wait_until(predicate, timeout=10.0, interval=0.05, what="condition"):
    """Polls predicate() until it returns a true value, which is returned;
    fails the test (AssertionError) after timeout seconds (scaled)."""
    deadline = time.monotonic() + scaled(timeout)
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out waiting for %s" % what)
        time.sleep(interval)


# A /24 of loopback is held for as long as the test process runs, by an
# flock on a file named after it: test modules that need fixed ports (port
# 25 peers, nameservers) on several addresses get a network no other test
# process on the machine is using, even when several checkouts run their
# tests at once.
_NET_LOCKS = []


def loopback_net():
    """"127.X.Y." for a /24 held by this process alone (X in 100..199)."""
    for _ in range(1000):
        x, y = random.randint(100, 199), random.randint(0, 255)
        fd = os.open("/tmp/panacea-test-net-%d.%d.lock" % (x, y),
                     os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        _NET_LOCKS.append(fd)
        return "127.%d.%d." % (x, y)
    raise RuntimeError("no free loopback /24 for the test")


# Where pick_loopback() takes the next address: [net, last host number].
_PICK = [None, 254]


def pick_loopback():
    """An address no other test process uses and this one has not given
    out before: the next one of a loopback_net() /24 held by this process
    (a fresh /24 when one is used up).  Instances listen there, so two
    test processes (make integration runs two; other checkouts may run
    their own) never share an instance address, and a server's address
    is never one of the fixed 127.0.0.x client addresses tests connect
    from (smtp_helpers.other_loopback, DNS list entries)."""
    if _PICK[1] >= 254:
        _PICK[0], _PICK[1] = loopback_net(), 1
    _PICK[1] += 1
    return "%s%d" % (_PICK[0], _PICK[1])


# /etc/passwd is the machine's: smtpd watches it (local_recipient_maps'
# unix:passwd.byname), and a session that sees it change answers an
# unknown local recipient 451 4.3.0 instead of 550 (DESIGN.md).  So while
# an Instance of one test process runs, no other test process may add or
# remove an account: an Instance holds a shared flock on this file from
# start() to its end (passwd_hold), and a test changes accounts only
# inside passwd_change(), which takes it exclusively.  Within a process
# the one descriptor converts between the two, so a test may change
# accounts while its own instances run (as with one test process).
PASSWD_LOCK = "/tmp/panacea-test-passwd.lock"
_PASSWD = {"fd": None, "shared": 0, "exclusive": 0}


def _passwd_fd():
    if _PASSWD["fd"] is None:
        _PASSWD["fd"] = os.open(PASSWD_LOCK, os.O_CREAT | os.O_RDWR, 0o600)
    return _PASSWD["fd"]


def _passwd_relock():
    fcntl.flock(_passwd_fd(), fcntl.LOCK_EX if _PASSWD["exclusive"] else
                fcntl.LOCK_SH if _PASSWD["shared"] else fcntl.LOCK_UN)


def passwd_hold():
    """One more running instance of this process: shared lock."""
    _PASSWD["shared"] += 1
    if _PASSWD["shared"] == 1 and not _PASSWD["exclusive"]:
        _passwd_relock()


def passwd_release():
    _PASSWD["shared"] -= 1
    if _PASSWD["shared"] == 0 and not _PASSWD["exclusive"]:
        _passwd_relock()


class passwd_change:
    """with passwd_change(): useradd/userdel, once no other test process
    has an instance running."""

    def __enter__(self):
        _PASSWD["exclusive"] += 1
        if _PASSWD["exclusive"] == 1:
            _passwd_relock()
        return self

    def __exit__(self, *exc):
        _PASSWD["exclusive"] -= 1
        if _PASSWD["exclusive"] == 0:
            _passwd_relock()
        return False


def peer_name(addr):
    """The client name smtpd and pop3d log for a loopback address: the
    first name of the first /etc/hosts line with that address, as the C
    library's "files" source gives it, else "unknown" (loopback addresses
    never go to DNS).  Read here independently of lib/mail/peer_name.c."""
    want = ipaddress.ip_address(addr)
    with open("/etc/hosts") as f:
        for line in f:
            words = line.split("#", 1)[0].split()
            if len(words) < 2:
                continue
            try:
                have = ipaddress.ip_address(words[0])
            except ValueError:
                continue
            if have == want:
                return words[1].lower()
    return "unknown"


def peer_re(addr):
    """A regex of "NAME[ADDR]" as the daemons log a loopback client."""
    return r"%s\[%s\]" % (re.escape(peer_name(addr)), re.escape(addr))


def free_port(host):
    """A TCP port nothing listens on at host right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def can_connect(host, port, timeout=1.0):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def connect(host, port, timeout=10.0):
    """A connected TCP socket with a (scaled) timeout on every operation."""
    s = socket.create_connection((host, port), timeout=scaled(timeout))
    s.settimeout(scaled(timeout))
    return s


def read_line(sock, limit=65536):
    """One line from sock without its CRLF, or None at end of file."""
    data = b""
    while not data.endswith(b"\n"):
        if len(data) > limit:
            raise AssertionError("line too long: %r" % data[:80])
        c = sock.recv(1)
        if not c:
            return None if not data else data.decode("utf-8", "replace")
        data += c
    return data.rstrip(b"\r\n").decode("utf-8", "replace")


def pid_alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return fields[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def tool(name, package=None, path=None):
    """The path of a program a test runs, from requirements.PROGRAMS (the
    table the self-check of make check reads; package and path, which
    older callers pass, are that table's).  A missing one fails the test,
    never skips it: scripts/deps.sh (make deps) installs its package, so
    a missing tool is a broken setup."""
    if name not in requirements.PROGRAMS:
        pytest.fail("%s is not in tests/integration/requirements.py: add "
                    "it with its Debian package" % name, pytrace=False)
    found = requirements.find(name)
    if found is None:
        pytest.fail("%s is missing: run make deps (scripts/deps.sh "
                    "installs %s)" % (name, requirements.PROGRAMS[name][0]),
                    pytrace=False)
    return found


# Skips that make check accepts start with this: what no package and no
# root can change (the host's OpenSSL policy, a container that cannot
# mount).  Every other skip (not root, not built) fails make check
# (conftest.py, PANACEA_NO_SKIPS).
ENVIRONMENT = "environment: "


def children_of(pid):
    """Pids of the live (non-zombie) children of pid, from /proc."""
    return procfs.children().get(pid, [])


def pgroup_members(pgid):
    """Pids of the live processes in process group pgid."""
    return [pid for pid, fields in procfs.live_stats()
            if int(fields[2]) == pgid]


SANITIZER_PATTERN = re.compile(
    r"ERROR: (Address|Leak|Undefined)Sanitizer|runtime error: .*")


def sanitizer_report(text):
    """The first ASan/LSan/UBSan report line in text, or None."""
    m = SANITIZER_PATTERN.search(text)
    return m.group(0) if m else None


def open_path(path):
    """Lets any user traverse the folders above path inside the temporary
    folder (pytest makes them 0700): as root, master and the daemons open
    the queue as mail_owner, which must reach queue_directory."""
    if os.geteuid() != 0:
        return
    top = os.path.realpath(tempfile.gettempdir())
    d = os.path.realpath(str(path))
    while d.startswith(top + os.sep):
        st = os.stat(d)
        if not st.st_mode & 0o001:
            os.chmod(d, (st.st_mode & 0o7777) | 0o001)
        d = os.path.dirname(d)


SHIPPED_CONF = os.path.join(TOP, "conf")
# The columns of a services line after the name and the type.
SERVICE_COLUMNS = ("private", "unpriv", "chroot", "wakeup", "maxproc")


def shipped_conf(values):
    """The shipped panacea.conf template with its @name@ placeholders
    replaced by values[name] (scripts/install.sh and devrun.sh fill in
    the same ones)."""
    with open(os.path.join(SHIPPED_CONF, "panacea.conf")) as f:
        text = f.read()

    def fill(m):
        if m.group(1) not in values:
            raise KeyError("conf/panacea.conf: @%s@ needs a value"
                           % m.group(1))
        return str(values[m.group(1)])
    return re.sub(r"@([a-z_]+)@", fill, text)


def shipped_service_fields(name, type_):
    """The fields of the shipped services line of name/type_ (a list:
    name, type, the five columns, the command and its arguments)."""
    with open(os.path.join(SHIPPED_CONF, "services")) as f:
        for line in f:
            fields = line.split()
            if fields and not fields[0].startswith("#") and \
                    fields[:2] == [name, type_]:
                return fields
    raise KeyError("conf/services has no %s/%s line" % (name, type_))


class Instance:
    """One Panacea instance in directory base (a temporary folder).

    conf: dict of panacea.conf parameters (added to the defaults below);
    services: list of lines of the services table.  Call write() (start()
    does it when nothing was written yet) and start()."""

    def __init__(self, base, conf=None, services=None):
        self.base = str(base)
        self.config_dir = os.path.join(self.base, "etc")
        self.queue_dir = os.path.join(self.base, "queue")
        self.maillog = os.path.join(self.base, "maillog")
        self.host = pick_loopback()
        self.conf = {
            "queue_directory": self.queue_dir,
            "daemon_directory": BIN,
            "maillog_file": self.maillog,
            "mail_owner": "nobody" if os.geteuid() == 0 else _user(),
            # The owner of mail-only users' mailboxes: never mail_owner.
            "mail_only_owner": ensure_mail_only_owner(),
            "inet_interfaces": self.host,
            "myhostname": "panacea.test",
            # Never the machine's /var/lib/panacea (smtpd's ticket
            # secret, postscreen's cache).
            "data_directory": os.path.join(self.base, "data"),
        }
        self.conf.update(conf or {})
        self.services = list(services or [])
        self.proc = None
        self.stderr_path = os.path.join(self.base, "master.stderr")
        self._written = False
        self._holds_passwd = False
        os.makedirs(self.config_dir, exist_ok=True)
        open_path(self.config_dir)

    # -- configuration -------------------------------------------------
    def port(self):
        """A free port on this instance's address."""
        return free_port(self.host)

    def ports(self, n):
        """n distinct free ports on this instance's address."""
        socks = []
        try:
            for _ in range(n):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(s)
                s.bind((self.host, 0))
            return [s.getsockname()[1] for s in socks]
        finally:
            for s in socks:
                s.close()

    def conf_text(self):
        """panacea.conf as write() writes it: the shipped template
        (conf/panacea.conf, its @name@ placeholders filled in from
        self.conf as make install does), then self.conf, which replaces
        what the template sets (a later line wins), so that every test
        runs the template."""
        text = shipped_conf(self.conf)
        return text + "\n# The test's parameters.\n" + "".join(
            "%s = %s\n" % kv for kv in self.conf.items())

    def write(self, conf_text=None, services_text=None):
        """Writes panacea.conf (conf_text()) and services from
        self.conf/self.services, or the given raw texts."""
        if conf_text is None:
            conf_text = self.conf_text()
        if services_text is None:
            services_text = "".join(line + "\n" for line in self.services)
        with open(os.path.join(self.config_dir, "panacea.conf"), "w") as f:
            f.write(conf_text)
        with open(os.path.join(self.config_dir, "services"), "w") as f:
            f.write(services_text)
        self._written = True

    @staticmethod
    def service(name, command, type_="inet", private=None, unpriv="n",
                chroot="n", wakeup="-", maxproc="-"):
        """One services line.  Tests run the fixtures unjailed and as the
        invoking user (they write into the test's folder).  private
        defaults to n for inet and y for unix services."""
        if private is None:
            private = "n" if type_ == "inet" else "y"
        return " ".join([str(name), type_, private, unpriv, chroot,
                         str(wakeup), str(maxproc), command])

    @staticmethod
    def shipped(name, type_="unix", listen=None, args="", **columns):
        """The line of service name/type_ in the shipped services table
        (conf/services), with what the test changes: listen replaces the
        service name (an inet service's port or host:port), columns
        (private, unpriv, chroot, wakeup, maxproc) replace those
        columns, args is added after the command and its template
        options.  Everything else, the command and its -o options
        included, is the template's, so that a change to the template is
        tested."""
        fields = shipped_service_fields(name, type_)
        for key, value in columns.items():
            fields[SERVICE_COLUMNS.index(key) + 2] = str(value)
        if listen is not None:
            fields[0] = str(listen)
        if args:
            fields.append(args)
        return " ".join(fields)

    # -- master ----------------------------------------------------------
    def master_cmd(self, *args):
        return [program("master"), "-c", self.config_dir] + list(args)

    def run_master(self, *args, timeout=30):
        """Runs master to completion (for -t, failing starts, ...)."""
        if not self._written:
            self.write()
        return subprocess.run(self.master_cmd(*args), capture_output=True,
                              text=True, timeout=scaled(timeout),
                              start_new_session=True)

    def start(self, wait_ready=True):
        """Starts master -f in its own process group; waits for the
        "daemon started" log line."""
        if not self._written:
            self.write()
        self._log_mark = self.log_size()
        if not self._holds_passwd:
            passwd_hold()
            self._holds_passwd = True
        err = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(self.master_cmd("-f"),
                                     stdin=subprocess.DEVNULL,
                                     stdout=err, stderr=err,
                                     start_new_session=True)
        err.close()
        if wait_ready:
            self.wait_log(r"master\[%d\]: daemon started" % self.proc.pid,
                          timeout=15)
        return self.proc

    @property
    def pid(self):
        return self.proc.pid

    def reload(self):
        """SIGHUP; waits for master to log the reload."""
        mark = self.log_size()
        self.proc.send_signal(signal.SIGHUP)
        self.wait_log(r"master\[%d\]: reload" % self.proc.pid, since=mark)

    def stop(self, timeout=20):
        """SIGTERM; waits for master to exit and returns its status."""
        if self.proc is None or self.proc.poll() is not None:
            self._release_passwd()
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        status = self.proc.wait(timeout=scaled(timeout))
        self._release_passwd()
        return status

    def _release_passwd(self):
        """Master is gone: its daemons may read another /etc/passwd (the
        last ones end with it: they see their alive pipe close)."""
        if self._holds_passwd:
            self._holds_passwd = False
            passwd_release()

    def finish(self):
        """After a test: master stopped (SIGTERM, then SIGKILL of its
        process group), the log and master's stderr printed (pytest shows
        them when the test failed).  Returns the first sanitizer report
        found in either, or None: children write to master's stderr, so a
        report anywhere in the instance fails the test even when the
        clients saw nothing wrong."""
        try:
            self.stop(timeout=15)
        except Exception:
            pass
        self.kill_all()
        print("---- maillog %s ----" % self.base)
        print(self.log())
        print("---- master stderr ----")
        print(self.stderr())
        return sanitizer_report(self.stderr() + self.log())

    def kill_all(self):
        """Last resort after a test: SIGKILL master's process group."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self._release_passwd()

    def children(self):
        """master's children started for services (not the queue
        keeper, master's own helper: see keeper())."""
        return [p for p in children_of(self.proc.pid)
                if p != self.keeper()]

    def keeper(self):
        """The pid of master's queue keeper (master/master_keeper.c), or
        None."""
        for pid in children_of(self.proc.pid):
            try:
                with open("/proc/%d/comm" % pid) as f:
                    if f.read().strip() == "queue-keeper":
                        return pid
            except OSError:
                continue
        return None

    def stderr(self):
        try:
            with open(self.stderr_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    # -- files -------------------------------------------------------------
    def pid_file(self):
        return os.path.join(self.queue_dir, "pid", "master.pid")

    def socket_path(self, name, private=True):
        return os.path.join(self.queue_dir,
                            "private" if private else "public", name)

    # -- log -------------------------------------------------------------
    def log_size(self):
        try:
            return os.path.getsize(self.maillog)
        except FileNotFoundError:
            return 0

    def log(self, since=0):
        """The maillog text from byte offset since."""
        try:
            with open(self.maillog, "rb") as f:
                f.seek(since)
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_count(self, pattern, since=0):
        return len(re.findall(pattern, self.log(since)))

    def wait_log(self, pattern, timeout=10, since=0):
        """Waits until pattern (a regex) appears in the log after byte
        offset since; returns the match."""
        return wait_until(lambda: re.search(pattern, self.log(since)),
                          timeout=timeout, what="log line /%s/" % pattern)

    def wait_port(self, port, host=None, timeout=10):
        """Waits until a TCP connection to host:port succeeds."""
        host = host or self.host
        wait_until(lambda: can_connect(host, port), timeout=timeout,
                   what="%s:%d to accept connections" % (host, port))


def _user():
    import pwd
    return pwd.getpwuid(os.geteuid()).pw_name


def unix_accounts(prefix, shorts):
    """Makes a unix account (useradd, with a home) for each short name,
    named PREFIX + short + a random suffix, homes under a world-searchable
    temporary folder; yields {"base": folder, "users": {short: pwd}} and
    removes everything afterwards.  For session fixtures (root only)."""
    import pwd
    import secrets
    import shutil
    base = tempfile.mkdtemp(prefix="panacea-%s-" % prefix)
    os.chmod(base, 0o755)
    suffix = secrets.token_hex(3)
    users = {}
    try:
        with passwd_change():
            for short in shorts:
                name = "%s%s%s" % (prefix, short, suffix)
                home = os.path.join(base, "home", name)
                os.makedirs(os.path.dirname(home), exist_ok=True)
                os.chmod(os.path.dirname(home), 0o755)
                subprocess.run(["useradd", "-m", "-d", home, "-s",
                                "/usr/sbin/nologin", "-U", name],
                               check=True, capture_output=True)
                users[short] = pwd.getpwnam(name)
        yield {"base": base, "users": users}
    finally:
        with passwd_change():
            for pw in users.values():
                subprocess.run(["userdel", "-r", pw.pw_name],
                               capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def ensure_mail_owner(name="panacea"):
    """The account the daemons drop to: as root `name` (created with
    useradd --system when missing, as `make run` does), else the invoking
    user."""
    import pwd
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid()).pw_name
    try:
        pwd.getpwnam(name)
    except KeyError:
        # Another test process (make integration runs two) may add it at
        # the same moment: its useradd failing with "exists" is fine; the
        # account must be there afterwards either way.
        with passwd_change():
            r = subprocess.run(["useradd", "--system", "--no-create-home",
                                "--home-dir", "/nonexistent", "--shell",
                                "/usr/sbin/nologin", "--user-group", name],
                               capture_output=True, text=True)
        try:
            pwd.getpwnam(name)
        except KeyError:
            raise AssertionError("useradd %s failed: %s" % (name, r.stderr))
    return name


def ensure_mail_only_owner(name="vmail"):
    """The account of mail-only users' mailboxes (mail_only_owner): as
    root `name` (created with useradd --system when missing, as `make
    install` and `make run` do), else the invoking user."""
    return ensure_mail_owner(name)


AUTH_OWNER = "panacea-auth"


def ensure_auth_owner(name=AUTH_OWNER):
    """The account of the auth service (auth_owner's default): as root
    created with useradd --system --user-group when missing, as `make
    run` does; its group is the one a test sasldb is given."""
    return ensure_mail_owner(name)


def auth_service():
    """The services line of the auth service (private/auth, root,
    unjailed, one process): the shipped one."""
    return Instance.shipped("auth")


def sasldb_for_auth(path):
    """Gives the sasldb at path to the auth service's group (root:GROUP
    0640, as man auth says), when running as root."""
    os.chmod(path, 0o640)
    if os.geteuid() == 0:
        import pwd
        pw = pwd.getpwnam(ensure_auth_owner())
        os.chown(path, 0, pw.pw_gid)
    return path


class LineClient:
    """What the raw protocol clients of the tests (SMTP, POP3) share: a
    socket, closed once, usable in a with statement; send() takes str or
    bytes, line() reads one line (bounded by line_limit)."""

    line_limit = 65536

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self):
        return read_line(self.sock, limit=self.line_limit)
