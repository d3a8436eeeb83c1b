"""smtp_helpers - what the smtpd integration tests share.

  mail_owner          session fixture: as root, the "panacea" account the
                      daemons drop to (created with useradd --system when
                      missing, as `make run` does); otherwise the invoking
                      user
  smtpd_setup()       writes the configuration of an instance that runs
                      smtpd (chrooted and unprivileged as root) and starts
                      it; returns the SMTP port
  Session             a raw SMTP client on a real socket: bytes in, replies
                      out, optionally bound to a chosen 127.0.0.x source
  pancat()            a queued message read back with cli/pancat
  queue_ids()         what is in the queue (tests/fixtures/pan-qlist)
  make_tls()          a test CA and a server certificate made by openssl
  make_sasldb()       a sasldb made by saslpasswd2
  RECEIVED_RE         the exact shape of the Received: header smtpd adds

Client lookups: loopback clients are named from /etc/hosts only (never
DNS: panacea_test.peer_name gives the name to expect, "localhost" for
127.0.0.1 and "unknown" for most other 127.x), and dns_nameservers points
where nothing answers, so no test ever reaches the machine's resolver.
"""

import os
import re
import socket
import ssl
import subprocess

import pytest

import panacea_test

from panacea_test import Instance, fixture, program, scaled

MYHOSTNAME = "panacea.test"

# The message of the hand-typed session (how-email-really-works.txt):
# the DATA section the talk types, with the line ends SMTP wants.
TALK_DATA = (
    b"Date: Wed, 14 Feb 2007 21:01:26 -0500\r\n"
    b"From: Paul Visscher <paulv@canonical.org>\r\n"
    b"To: Paul Ahlquist <pea@ahlquist.org>\r\n"
    b"Subject: LinuxSig-SMTP talk\r\n"
    b"Message-ID: <20070215020126.GA30178@canonical.org>\r\n"
    b"User-Agent: Mutt/1.5.9i\r\n"
    b"\r\n"
    b"We should totally have candy at the meeting. It'll be great.\r\n"
    b"\r\n"
    b"--paulv\r\n")
TALK_ID = b"<20070215020126.GA30178@canonical.org>"

MAIL_OWNER = "panacea"


@pytest.fixture(scope="session")
def mail_owner():
    """The account smtpd runs as (created when missing, as root)."""
    return panacea_test.ensure_mail_owner(MAIL_OWNER)


def base_conf(owner):
    """The panacea.conf parameters every test instance starts from: the
    mail owner, the test host's names, no error sleep, and a resolver
    that leaves no lookup to the machine's."""
    return {
        "mail_owner": owner,
        "myhostname": MYHOSTNAME,
        "mydomain": "test",
        "mydestination": "$myhostname, localhost",
        # Nothing answers there: no lookup may leave the machine.
        "dns_nameservers": "127.0.0.1:9",
        "smtpd_error_sleep_time": "0s",
    }


def smtpd_setup(inst, owner, conf=None, services=None, args="", start=True,
                chroot=None, auth=True):
    """Configures inst to run smtpd on a fresh port and starts it.

    conf: extra panacea.conf parameters; services: extra service lines
    (they may use "{port}"-free names of their own); args: extra smtpd
    arguments (-o name=value...).  As root the service runs chrooted
    (chroot column y) and unprivileged, as an installed system does.
    auth: add the auth service's line (smtpd's AUTH needs it).
    Returns the SMTP port."""
    port = inst.port()
    if chroot is None:
        chroot = os.geteuid() == 0
    inst.conf.update(base_conf(owner))
    inst.conf.update(conf or {})
    inst.services = [Instance.shipped(
        "smtp", "inet", port, chroot="y" if chroot else "n", args=args)]
    # smtpd AUTH goes through the auth service (private/auth).
    if auth:
        panacea_test.ensure_auth_owner()
        inst.services.append(panacea_test.auth_service())
    inst.services += list(services or [])
    inst.write()
    if start:
        inst.start()
        inst.wait_port(port)
    return port


def smtpd_service(inst, args="", chroot=None):
    """Another smtpd service on a new port, for smtpd_setup's services.
    Returns (port, line)."""
    port = inst.port()
    if chroot is None:
        chroot = os.geteuid() == 0
    line = Instance.shipped("smtp", "inet", port,
                            chroot="y" if chroot else "n", args=args)
    return port, line


class Reply:
    """One SMTP reply: code (int) and its text lines (without codes)."""

    def __init__(self, code, lines):
        self.code = code
        self.lines = lines

    @property
    def text(self):
        return "\n".join(self.lines)

    def __str__(self):
        return "\n".join("%d %s" % (self.code, line) for line in self.lines)

    def __repr__(self):
        return "Reply(%r)" % str(self)


class Session(panacea_test.LineClient):
    """A raw SMTP client: what the tests type, byte for byte.

    source: bind the client to this local address first (relay tests
    use a 127.0.0.x outside mynetworks)."""

    def __init__(self, host, port, source=None, timeout=15.0, greet=True):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(scaled(timeout))
        if source:
            self.sock.bind((source, 0))
        self.sock.connect((host, port))
        self.raw = self.sock
        self.greeting = self.reply() if greet else None


    def reply(self):
        """Reads one (possibly multi-line) reply; None at end of file."""
        lines = []
        while True:
            line = self.line()
            if line is None:
                if lines:
                    raise AssertionError("reply cut short: %r" % lines)
                return None
            m = re.fullmatch(r"(\d{3})([ -])(.*)", line)
            assert m, "malformed reply line %r" % line
            lines.append(m.group(3))
            if m.group(2) == " ":
                return Reply(int(m.group(1)), lines)

    def cmd(self, line):
        """Sends one command line (CRLF added) and reads its reply."""
        self.send(line + "\r\n")
        return self.reply()

    def expect(self, line, code, text=None):
        """cmd() and checks the code (and a regex on the text)."""
        r = self.cmd(line)
        assert r is not None, "connection closed after %r" % line
        assert r.code == code, "%r -> %s" % (line, r)
        if text is not None:
            assert re.search(text, r.text), "%r -> %s" % (line, r)
        return r

    def eof(self, timeout=10.0):
        """True when the server closed the connection (nothing more)."""
        self.sock.settimeout(scaled(timeout))
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def starttls(self, ctx, hostname=MYHOSTNAME):
        self.sock = ctx.wrap_socket(self.sock, server_hostname=hostname)

    def send_message(self, sender, rcpts, data, helo="client.test",
                     ehlo=True):
        """A complete transaction; returns the queue id of 250."""
        self.expect(("EHLO " if ehlo else "HELO ") + helo, 250)
        self.expect("MAIL FROM:<%s>" % sender, 250)
        for r in rcpts:
            self.expect("RCPT TO:<%s>" % r, 250)
        self.expect("DATA", 354)
        self.send(data)
        return queued_id(self.reply())


def queued_id(reply):
    assert reply is not None and reply.code == 250, str(reply)
    m = re.fullmatch(r"2\.0\.0 Ok: queued as ([A-Za-z0-9]+)", reply.text)
    assert m, str(reply)
    return m.group(1)


def pancat(inst, queue_id, flags="-hb", check=True):
    """cli/pancat's output for a queued message, as bytes."""
    r = subprocess.run([program("pancat"), "-c", inst.config_dir, flags,
                        queue_id], capture_output=True,
                       timeout=scaled(30))
    if check:
        assert r.returncode == 0, r.stderr.decode(errors="replace")
    return r.stdout


def queue_ids(inst):
    """The ids of the messages in the queue (pan-qlist), or, without that
    fixture, the ids smtpd logged as committed (from=<...> lines)."""
    qlist = fixture("pan-qlist")
    if not os.access(qlist, os.X_OK):
        return re.findall(r"smtpd\[\d+\]: ([A-Za-z0-9]+): from=<",
                          inst.log())
    r = subprocess.run([qlist, "-c", inst.config_dir], capture_output=True,
                       text=True, timeout=scaled(30))
    assert r.returncode == 0, r.stderr
    return [line.split()[0] for line in r.stdout.splitlines()]


def stored_message(inst, queue_id):
    """(received header, rest) of a queued message, both bytes."""
    data = pancat(inst, queue_id)
    m = re.match(rb"Received: .*?\r\n(?![ \t])", data, re.S)
    assert m, "no Received: header first: %r" % data[:200]
    return data[:m.end()], data[m.end():]


DATE_RE = (r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} "
           r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
           r"\d\d:\d\d:\d\d [+-]\d{4}")


def received_re(helo, addr, queue_id, proto, rcpt=None, name=None,
                tls=False):
    """The exact Received: header smtpd prepends (RFC 5321 4.4, Postfix's
    shape), as a regex over the whole header."""
    if name is None:
        name = panacea_test.peer_name(addr)
    r = r"Received: from %s \(%s \[%s\]\)\r\n" % (
        re.escape(helo), re.escape(name), re.escape(addr))
    if tls:
        r += (r"\t\(using TLSv1\.[23] with cipher [A-Z0-9_-]+ "
              r"\(\d+/\d+ bits\)(\r\n\t key-exchange [^\r\n]+)?\)\r\n")
    r += r"\tby %s \(Panacea\) with %s id %s" % (
        re.escape(MYHOSTNAME), proto, queue_id)
    if rcpt:
        r += r"\r\n\tfor <%s>; " % re.escape(rcpt)
    else:
        r += r";\r\n\t"
    return r + DATE_RE + r"\r\n"


def check_received(header, **kw):
    """Asserts the exact shape of a Received: header (bytes)."""
    text = header.decode()
    assert re.fullmatch(received_re(**kw), text), text


def make_tls(d, name=MYHOSTNAME, ca_cn="Panacea Test CA"):
    """A test CA (named ca_cn) and a server certificate for name, made now
    by openssl; returns dict(ca=, cert=, key=) paths."""
    d = str(d)
    os.makedirs(d, exist_ok=True)
    p = {n: os.path.join(d, n) for n in
         ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem",
          "ext.cnf")}

    def run(*args):
        subprocess.run(["openssl"] + list(args), check=True,
                       capture_output=True, timeout=60)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=" + ca_cn, "-keyout", p["ca.key"],
        "-out", p["ca.pem"])
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj",
        "/CN=" + name, "-keyout", p["server.key"],
        "-out", p["server.csr"])
    with open(p["ext.cnf"], "w") as f:
        f.write("subjectAltName=DNS:%s\n" % name)
    run("x509", "-req", "-in", p["server.csr"], "-CA", p["ca.pem"],
        "-CAkey", p["ca.key"], "-CAcreateserial", "-days", "2",
        "-extfile", p["ext.cnf"], "-out", p["server.pem"])
    # The key is read as root before the jail; keep it private.
    os.chmod(p["server.key"], 0o600)
    return {"ca": p["ca.pem"], "cert": p["server.pem"],
            "key": p["server.key"]}


class NamedContext(ssl.SSLContext):
    """A client context that verifies the server as MYHOSTNAME whatever
    address the client connected to (smtplib passes the address)."""

    def wrap_socket(self, sock, *args, **kw):
        kw["server_hostname"] = MYHOSTNAME
        return super().wrap_socket(sock, *args, **kw)


def client_tls_context(ca):
    """TLS 1.2+, the test CA, the server's name checked."""
    ctx = NamedContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def make_sasldb(path, users, realm=MYHOSTNAME):
    """A sasldb at path with users {name: password} (saslpasswd2)."""
    for name, password in users.items():
        subprocess.run(["saslpasswd2", "-c", "-p", "-f", str(path), "-u",
                        realm, name], input=password.encode(), check=True,
                       capture_output=True, timeout=30)
    return panacea_test.sasldb_for_auth(str(path))


def sasl_auth_conf(inst, users, **more):
    """Configuration for smtpd AUTH: a sasldb with users ({name:
    password}) in inst's folder, and AUTH on; more on top."""
    conf = {"smtpd_sasl_auth_enable": "yes",
            "sasldb_path": make_sasldb(os.path.join(inst.base, "sasldb2"),
                                       users)}
    conf.update(more)
    return conf


def wait_committed(inst, queue_id):
    """Waits for the from=<...> log line of queue_id; returns it."""
    return inst.wait_log(r"%s: from=<[^>]*>, size=\d+, nrcpt=\d+" %
                         queue_id).group(0)


def other_loopback(inst, avoid=()):
    """A 127.0.0.x address different from the instance's and avoid."""
    for x in range(200, 2, -1):
        a = "127.0.0.%d" % x
        if a != inst.host and a not in avoid:
            return a
    raise AssertionError("no free loopback address")

