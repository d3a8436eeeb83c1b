"""test_sasl_dovecot - smtpd AUTH through Dovecot's auth server
(smtpd_sasl_type = dovecot, lib/mail/auth_dovecot.c) against a real
Dovecot (Debian's dovecot-core) with a passwd-file passdb.

One Panacea instance and one Dovecot for the module (Dovecot takes most
of a second to start).  Dovecot's auth-client socket is in Panacea's
private/ folder, where Postfix sites put it, and on a loopback port.
smtpd services, chrooted and unprivileged as root, all seeing the world
as the Internet does (loopback is not in mynetworks):
  unix    smtpd_sasl_path = private/dovecot-auth (relative to the queue
          directory, as in Postfix)
  inet    smtpd_sasl_path = inet:HOST:PORT, and
          smtpd_sasl_tls_security_options = noanonymous, nodictionary
  down    smtpd_sasl_path = private/no-dovecot (nothing listens)
"""

import base64
import os
import shutil
import signal
import smtplib
import subprocess
import tempfile

import pytest

from panacea_test import (Instance, can_connect, free_port, pick_loopback,
                          pid_alive, scaled, tool, wait_until)
from smtp_helpers import (Session, base_conf,  # noqa: F401
                          client_tls_context, mail_owner, make_tls)

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="Dovecot switches to its users")

USERS = {"alice@example.com": "wonder land", "bob@example.com": "s3cret!"}
SOCKET = "private/dovecot-auth"
# Dovecot delays the requests of an address that failed recently (its
# auth penalty, which Postfix does not turn off either): each test that
# fails a login does so from an address of its own.
FAILING = ("127.0.0.61", "127.0.0.62")
MSG = (b"From: alice@example.com\r\nTo: friend@remote.example\r\n"
       b"Subject: relayed\r\n\r\nbody\r\n")

CONF = """\
# tests/integration/test_sasl_dovecot.py: a private Dovecot, auth only
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
info_log_path = {dir}/dovecot.log
protocols = none
ssl = no
auth_mechanisms = plain login cram-md5
# The tests' failures are answered at once (smtpd has its own delay).
auth_failure_delay = 0
disable_plaintext_auth = yes
auth_verbose = yes
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {dir}/users
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}}
service auth {{
  unix_listener {socket} {{
    mode = 0600
    user = {owner}
  }}
  inet_listener {{
    address = {host}
    port = {port}
  }}
}}
"""


class DovecotAuth:
    """Dovecot's auth server only, its files in folder base; its
    auth-client socket at socket (owned by owner) and on host:port."""

    def __init__(self, base, users, socket, owner):
        self.dir = str(base)
        self.socket = socket
        self.host = pick_loopback()
        self.port = free_port(self.host)
        self.conf = os.path.join(self.dir, "dovecot.conf")
        with open(os.path.join(self.dir, "users"), "w") as f:
            for name, password in users.items():
                f.write("%s:%s\n" % (name, password))
        with open(self.conf, "w") as f:
            f.write(CONF.format(dir=self.dir, socket=socket, owner=owner,
                                host=self.host, port=self.port))
        self.started = False

    def master_pid(self):
        try:
            with open(os.path.join(self.dir, "run", "master.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def start(self):
        out = os.path.join(self.dir, "dovecot.stderr")
        self.started = True
        with open(out, "wb") as f:
            r = subprocess.run([tool("dovecot"), "-c", self.conf],
                               stdin=subprocess.DEVNULL, stdout=f, stderr=f,
                               timeout=scaled(60), start_new_session=True)
        if r.returncode != 0:
            with open(out, errors="replace") as f:
                raise RuntimeError("dovecot: %s" % f.read())
        wait_until(self.master_pid, timeout=30, what="Dovecot master.pid")
        wait_until(lambda: can_connect(self.host, self.port), timeout=30,
                   what="Dovecot auth on %s:%d" % (self.host, self.port))
        wait_until(lambda: os.path.exists(self.socket), timeout=30,
                   what="Dovecot's auth socket")

    def stop(self):
        """SIGTERM to Dovecot's master, then its whole process group."""
        if not self.started:
            return
        self.started = False
        pid = self.master_pid()
        if not pid:
            return
        try:
            os.kill(pid, signal.SIGTERM)
            wait_until(lambda: not pid_alive(pid), timeout=10,
                       what="Dovecot to stop")
        except (ProcessLookupError, AssertionError):
            pass
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def log(self):
        try:
            with open(os.path.join(self.dir, "dovecot.log"),
                      errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""


class Rig:
    def __init__(self, inst, dovecot, ports, ca):
        self.inst, self.dovecot, self.ca = inst, dovecot, ca
        self.unix, self.inet, self.down = ports


@pytest.fixture(scope="module")
def rig(tmp_path_factory, mail_owner):  # noqa: F811
    tool("dovecot")
    base = tmp_path_factory.mktemp("sasl_dovecot")
    tls = make_tls(base / "tls")
    inst = Instance(base / "panacea")
    dovecot_dir = tempfile.mkdtemp(prefix="panacea-sasl-dovecot-")
    os.chmod(dovecot_dir, 0o755)
    dovecot = DovecotAuth(dovecot_dir, USERS,
                          os.path.join(inst.queue_dir, SOCKET), mail_owner)
    ports = inst.ports(3)
    inst.conf.update(base_conf(mail_owner))
    inst.conf.update({
        "smtpd_sasl_auth_enable": "yes",
        "smtpd_sasl_type": "dovecot",
        "smtpd_sasl_path": SOCKET,
        "smtpd_tls_cert_file": tls["cert"],
        "smtpd_tls_key_file": tls["key"],
        "smtpd_tls_security_level": "may",
        # As the Internet sees the host: loopback is no trusted network.
        "mynetworks": "192.0.2.0/24",
    })
    inst.services = [
        Instance.shipped("smtp", "inet", ports[0], chroot="y"),
        Instance.shipped(
            "smtp", "inet", ports[1], chroot="y",
            args="-o smtpd_sasl_path=inet:%s:%d "
                 "-o smtpd_sasl_tls_security_options=noanonymous,"
                 "nodictionary" % (dovecot.host, dovecot.port)),
        Instance.shipped("smtp", "inet", ports[2], chroot="y",
                         args="-o smtpd_sasl_path=private/no-dovecot"),
    ]
    inst.write()
    # Dovecot starts while master does, once private/ is there.
    proc = inst.start(wait_ready=False)
    try:
        wait_until(lambda: os.path.isdir(os.path.dirname(dovecot.socket)),
                   what="Panacea's private/")
        dovecot.start()
        inst.wait_log(r"master\[%d\]: daemon started" % proc.pid,
                      timeout=15)
        for p in ports:
            inst.wait_port(p)
        yield Rig(inst, dovecot, ports, tls["ca"])
    finally:
        dovecot.stop()
        print("---- dovecot log ----")
        print(dovecot.log())
        report = inst.finish()
        shutil.rmtree(dovecot_dir, ignore_errors=True)
    if report:
        pytest.fail("sanitizer report: %s" % report)


def smtp(rig, port, tls=True, source=None):
    c = smtplib.SMTP(rig.inst.host, port, local_hostname="client.test",
                     timeout=scaled(15),
                     source_address=(source, 0) if source else None)
    if tls:
        c.starttls(context=client_tls_context(rig.ca))
    c.ehlo()
    return c


def auth_mechs(c):
    return c.esmtp_features.get("auth", "").split()


def test_mechanisms_from_dovecot(rig):
    """EHLO offers what Dovecot announces, filtered by the security
    options in force (the TLS ones after STARTTLS)."""
    with smtp(rig, rig.unix) as c:
        assert auth_mechs(c) == ["PLAIN", "LOGIN", "CRAM-MD5"]
    with smtp(rig, rig.inet) as c:
        assert auth_mechs(c) == ["PLAIN", "LOGIN"]


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN", "CRAM-MD5"])
def test_auth_then_relay(rig, mech):
    """A good password over STARTTLS: 235, then relaying is allowed
    (permit_sasl_authenticated); the user is Dovecot's user=."""
    with smtp(rig, rig.unix) as c:
        # Not authenticated yet: no relay (defer_unauth_destination).
        c.mail("alice@example.com")
        code, _ = c.rcpt("friend@remote.example")
        assert code == 454
        c.rset()
        c.user, c.password = "alice@example.com", USERS["alice@example.com"]
        code, text = c.auth(mech,
                            getattr(c, "auth_" + mech.lower().replace(
                                "-", "_")),
                            initial_response_ok=(mech == "PLAIN"))
        assert (code, text) == (235, b"2.7.0 Authentication successful")
        assert c.sendmail("alice@example.com", ["friend@remote.example"],
                          MSG) == {}
    rig.inst.wait_log(r"client=localhost\[127\.0\.0\.1\], "
                      r"sasl_method=%s, sasl_username=alice@example\.com\n"
                      % mech)


def test_bad_password(rig):
    with smtp(rig, rig.unix, source=FAILING[0]) as c:
        c.user, c.password = "bob@example.com", "wrong"
        with pytest.raises(smtplib.SMTPAuthenticationError) as e:
            c.auth("PLAIN", c.auth_plain)
        assert e.value.smtp_code == 535
        c.mail("bob@example.com")
        assert c.rcpt("friend@remote.example")[0] == 454
    rig.inst.wait_log(r"\[%s\]: SASL PLAIN authentication failed: .*"
                      r"sasl_username=bob@example\.com" % FAILING[0])


def test_inet_socket(rig):
    with smtp(rig, rig.inet) as c:
        c.user, c.password = "bob@example.com", USERS["bob@example.com"]
        assert c.auth("LOGIN", c.auth_login)[0] == 235


def swaks(rig, mech, password, source="127.0.0.1"):
    return subprocess.run(
        [tool("swaks"), "--server", "%s:%d" % (rig.inst.host, rig.unix),
         "--local-interface", source,
         "--tls", "--ehlo", "client.test", "--from", "alice@example.com",
         "--to", "friend@remote.example", "--auth", mech, "--auth-user",
         "alice@example.com", "--auth-password", password,
         "--timeout", "15"],
        capture_output=True, text=True, timeout=scaled(30))


def test_swaks(rig):
    """(LOGIN is smtplib's above; swaks costs a second a run.)"""
    r = swaks(rig, "PLAIN", USERS["alice@example.com"])
    assert r.returncode == 0, r.stdout + r.stderr
    assert "<~  235 2.7.0 Authentication successful" in r.stdout
    assert "<~  250 2.0.0 Ok: queued as" in r.stdout


def test_swaks_bad_password(rig):
    r = swaks(rig, "LOGIN", "nope", source=FAILING[1])
    assert r.returncode != 0
    assert "<~* 535 5.7.8 Error: authentication failed" in r.stdout


def test_plaintext_before_tls_on_loopback(rig):
    """Plaintext mechanisms only over TLS or to loopback clients (these
    are): smtpd offers them, and tells Dovecot the channel is secured as
    Dovecot itself takes loopback (else its disable_plaintext_auth
    refuses)."""
    with Session(rig.inst.host, rig.unix) as s:
        r = s.expect("EHLO client.test", 250)
        auth = [line for line in r.lines if line.startswith("AUTH ")]
        assert auth == ["AUTH PLAIN LOGIN CRAM-MD5"]
        # A mechanism name in any case (Dovecot gets it as it said it).
        s.expect("AUTH plain " + base64.b64encode(
            b"\0alice@example.com\0wonder land").decode(), 235)


def test_dovecot_down(rig):
    """Nothing on smtpd_sasl_path: AUTH is not offered, and asked for
    anyway it is 454 4.7.0, a temporary failure; the session goes on."""
    with smtp(rig, rig.down) as c:
        assert "auth" not in c.esmtp_features
        code, text = c.docmd("AUTH", "PLAIN " + base64.b64encode(
            b"\0alice@example.com\0wonder land").decode())
        assert (code, text) == (454, b"4.7.0 Temporary authentication "
                                     b"failure")
        assert c.noop()[0] == 250
    rig.inst.wait_log(r"SASL authentication is unavailable: cannot connect "
                      r"to Dovecot auth /private/no-dovecot")
