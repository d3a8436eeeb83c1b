"""pop3_helpers - what the pop3d integration tests share.

  pop_accounts     session fixture: two unix accounts (useradd, random
                   names, removed at the end) under a world-readable base
                   folder, where each test's spool directory is made
  PopRig           one instance running the whole path of a message:
                   smtpd -> qmgr -> local -> mailbox, and pop3d (plain
                   port with STLS, and POP3S), with a sasldb made by
                   saslpasswd2 for the unix accounts and any mail-only
                   users, a test CA and certificate made by openssl
  PopClient        a raw POP3 client on a real socket: lines in, lines
                   out, byte for byte

Mail is delivered for real (smtplib to smtpd; the test waits for local's
status=sent line), so every mailbox a test reads was written by local.
Needs root (local and pop3d switch to the mailbox owners).
"""

import os
import re
import smtplib
import socket

import pytest

import panacea_test
from delivery_helpers import mail_dirs
from panacea_test import Instance, scaled
from smtp_helpers import (MYHOSTNAME, base_conf,  # noqa: F401
                          client_tls_context, make_sasldb, make_tls,
                          mail_owner)

PASSWORDS = {"pea": "my_sekret_password_in_cleartext", "bob": "b0b's pass"}


@pytest.fixture(scope="session")
def pop_accounts():
    yield from panacea_test.unix_accounts("pop", ('pea', 'bob'))


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    return make_tls(tmp_path_factory.mktemp("pop3tls"))


def crlf(data):
    """LF lines as CRLF lines (what POP3 sends)."""
    return re.sub(rb"(?<!\r)\n", b"\r\n", data)


def pop3_services(port, pops_port=None, root=True, args="", auth=True):
    """The POP3 server's services lines: the unprivileged fronts (pop3d)
    that hold the TCP listeners (jailed when root), the root session
    service they hand logged-in sessions to (pop3session), and, unless
    the instance has it already (auth=False), the auth service that
    checks credentials for the fronts and redeems their tickets for
    pop3session; args (-o ...) go to pop3d and pop3session."""
    chroot = "y" if root else "n"
    lines = [Instance.shipped("pop3", "inet", port, chroot=chroot,
                              args=args)]
    if pops_port is not None:
        lines.append(Instance.shipped(
            "pop3", "inet", pops_port, chroot=chroot,
            args=(args + " -o pop3d_tls_wrappermode=yes").strip()))
    lines.append(Instance.shipped("pop3session", args=args))
    if auth:
        lines.append(panacea_test.auth_service())
    return lines


class PopRig:
    """smtpd + qmgr + local + pop3d (+ pop3s) in one instance."""

    def __init__(self, inst, owner, accounts, tls, conf=None, maildir=False,
                 mail_users=(), pop3_args=""):
        self.inst = inst
        self.users = accounts["users"]
        self.dir, self.spool, _ = mail_dirs(accounts, "rig-", "mail",
                                            out=False)
        self.tls = tls
        self.maildir = maildir
        self.passwords = {}
        sasl = {}
        for short, pw in self.users.items():
            sasl[pw.pw_name] = PASSWORDS[short]
            self.passwords[short] = PASSWORDS[short]
        for name in mail_users:
            sasl[name] = "mail only " + name
            self.passwords[name] = sasl[name]
        self.sasldb = make_sasldb(os.path.join(inst.base, "sasldb2"), sasl)
        self.smtp_port, self.pop_port, self.pops_port = inst.ports(3)
        root = os.geteuid() == 0
        inst.conf.update(base_conf(owner))
        inst.conf.update({
            "mail_spool_directory": self.spool + ("/" if maildir else ""),
            "sasldb_path": self.sasldb,
            "alias_maps": "",
            "deliver_lock_attempts": "10",
            "deliver_lock_delay": "1s",
            "queue_run_delay": "1s",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
            "pop3d_tls_cert_file": tls["cert"],
            "pop3d_tls_key_file": tls["key"],
            "pop3d_auth_failure_delay": "0s",
        })
        inst.conf.update(conf or {})
        inst.services = [
            Instance.shipped("smtp", "inet", self.smtp_port,
                             chroot="y" if root else "n"),
            Instance.shipped("qmgr", chroot="y" if root else "n"),
            Instance.shipped("local"),
        ] + pop3_services(self.pop_port, self.pops_port, root, pop3_args)

    def start(self):
        self.inst.write()
        self.inst.start()
        self.inst.wait_port(self.smtp_port)
        self.inst.wait_port(self.pop_port)

    def name(self, short):
        pw = self.users.get(short)
        return pw.pw_name if pw else short

    def password(self, short):
        return self.passwords[short]

    def addr(self, short):
        return "%s@%s" % (self.name(short), MYHOSTNAME)

    def mailbox(self, short):
        return os.path.join(self.spool, self.name(short))

    def send(self, short, message, sender="sender@example.org"):
        """Sends message (bytes) to the user over SMTP; returns the queue
        id once smtpd has committed it."""
        with smtplib.SMTP(self.inst.host, self.smtp_port,
                          timeout=scaled(30)) as s:
            s.ehlo("client.test")
            code, text = s.mail(sender)
            assert code == 250, text
            code, text = s.rcpt(self.addr(short))
            assert code == 250, text
            code, text = s.data(message)
            assert code == 250, text
        m = re.search(rb"queued as (\S+)", text)
        return m.group(1).decode()

    def deliver(self, short, message, **kw):
        """Sends and waits for local's status=sent line."""
        mark = 0
        qid = self.send(short, message, **kw)
        self.inst.wait_log(r"%s: to=<%s>, relay=local, .*status=sent" %
                           (re.escape(qid), re.escape(self.addr(short))),
                           timeout=60, since=mark)
        return qid

    def client(self, port=None, **kw):
        return PopClient(self.inst.host, port or self.pop_port, **kw)


class PopClient(panacea_test.LineClient):
    """A raw POP3 client: send lines, read lines and multi-line data.

    Reads are buffered (a chunk at a time, not a byte: megabytes of RETR
    and thousands of pipelined answers take seconds a byte at a time).
    The socket may be replaced (STLS) only with nothing unread: bytes the
    server sent after its last line would otherwise vanish from the test
    with the buffer instead of reaching the TLS handshake."""

    line_limit = 1 << 20

    def __init__(self, host, port, source=None, timeout=20.0, greet=True,
                 tls_ctx=None):
        self._buf = b""
        self.sock = socket.create_connection(
            (host, port), timeout=scaled(timeout),
            source_address=(source, 0) if source else None)
        self.sock.settimeout(scaled(timeout))
        if tls_ctx is not None:
            self.sock = tls_ctx.wrap_socket(self.sock,
                                            server_hostname=MYHOSTNAME)
        self.greeting = self.line() if greet else None

    @property
    def sock(self):
        return self._sock

    @sock.setter
    def sock(self, sock):
        assert not self._buf, "unread before the socket changed: %r" % \
            self._buf[:200]
        self._sock = sock

    def raw_line(self):
        """One line with its terminator, as bytes (what is left without
        one at end of file, b"" when nothing is)."""
        while True:
            end = self._buf.find(b"\n")
            if end >= 0:
                line, self._buf = self._buf[:end + 1], self._buf[end + 1:]
                return line
            if len(self._buf) > self.line_limit:
                raise AssertionError("line too long: %r" % self._buf[:80])
            chunk = self._sock.recv(65536)
            if not chunk:
                line, self._buf = self._buf, b""
                return line
            self._buf += chunk

    def line(self):
        """As panacea_test.read_line: without its CRLF, None at end of
        file."""
        data = self.raw_line()
        if not data:
            return None
        return data.rstrip(b"\r\n").decode("utf-8", "replace")

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.line()

    def multi(self):
        """The lines of a multi-line reply after its status line, as
        bytes with their CRLF, up to (without) the ".\r\n"."""
        out = []
        while True:
            ln = self.raw_line()
            assert ln.endswith(b"\r\n"), ln
            if ln == b".\r\n":
                return out
            out.append(ln)

    def login(self, user, password):
        r = self.cmd("USER " + user)
        assert r.startswith("+OK"), r
        r = self.cmd("PASS " + password)
        assert r.startswith("+OK"), r
        return r

    def eof(self):
        if self._buf:
            return False
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True


def unstuff(lines):
    """The message bytes of a multi-line reply (dot-unstuffed)."""
    return b"".join(ln[1:] if ln.startswith(b".") else ln for ln in lines)


def wait_no_lock(path):
    panacea_test.wait_until(lambda: not os.path.exists(path + ".lock"),
                            what="no lock file on " + path)
