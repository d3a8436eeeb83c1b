"""Lookup tables (lib/maps) through panmap -q, for every table type, and
the start-up check of table types by master.

The file and name types (cidr, regexp, pcre, texthash, inline, static)
are checked against Postfix's own postmap -q on the same tables and keys
(Debian's postfix and postfix-pcre): same value, same found/not found.
The client types (socketmap, tcp) are checked against a small Python
server that the test starts on loopback: Postfix ships no socketmap or
tcp_table server, so the peer is written here from socketmap_table(5) and
tcp_table(5); it records every request, and postmap's requests to it are
the reference for panmap's bytes on the wire.
"""

import os
import pwd
import re
import socket
import socketserver
import subprocess
import threading

import pytest

import panacea_test
import procfs
from panacea_test import Instance, open_path, program, tool
from smtp_helpers import MAIL_OWNER, MYHOSTNAME, Session, smtpd_setup

CIDR = """\
# most specific first
192.168.1.1      OK
192.168.0.0/16   REJECT
2001:db8::1      OK
2001:db8::/32    REJECT v6
if 10.0.0.0/8
if !10.1.0.0/16
10.0.0.0/8       TEN
endif
10.1.2.0/24      TEN-ONE-TWO
endif
!172.16.0.0/12   NOT-172
172.16.0.0/12    172
  continued
"""
CIDR_KEYS = ["192.168.1.1", "192.168.200.1", "2001:db8::1",
             "2001:DB8:1::5", "10.9.9.9", "10.1.2.3", "10.1.3.3",
             "8.8.8.8", "172.20.0.1", "mail.example.com", "::1"]

REGEXP = """\
/[%!@].*[%!@]/          550 Sender-specified routing rejected
/^postmaster@/          OK
if !/^owner-/
/^(.*)-outgoing@(.*)$/  550 Use ${1}@$(2) instead $$5
endif
/^Exact@/i              case-sensitive
/^a b$/                 spaces in pattern
|^pipe/slash|           other delimiter
/^(one)|(two)$/         [$1][$2]
!/\\./                  no dot
"""
PCRE_EXTRA = """\
/^x \\d+ $/x            extended
/^(?<u>[^@]+)@(.+)\\.invalid$/  user=$1 dom=$2
"""
PATTERN_KEYS = ["a@b@c", "POSTMASTER@example.com",
                "list-outgoing@example.com",
                "owner-list-outgoing@example.com", "Exact@example.com",
                "exact@example.com", "A B", "pipe/slash", "two", "nodot",
                "x123", "joe@Example.INVALID", "with.dot"]

TEXT = """\
# comment
Example.COM  smtp:[relay.example.com]:2525
long first
  second
"""
TEXT_KEYS = ["example.com", "EXAMPLE.com", "long", "nope"]


def postmap():
    return tool("postmap", "postfix", "/usr/sbin/postmap")


@pytest.fixture
def postfix_dir(tmp_path):
    """A configuration directory for postmap (an empty main.cf)."""
    d = tmp_path / "postfix"
    d.mkdir()
    (d / "main.cf").write_text("")
    return str(d)


def panmap_q(key, *tables, stdin=None):
    return subprocess.run([program("panmap"), "-q", key] + list(tables),
                          capture_output=True, text=True, input=stdin,
                          timeout=30)


def postmap_q(postfix_dir, key, table):
    return subprocess.run([postmap(), "-c", postfix_dir, "-q", key, table],
                          capture_output=True, text=True, timeout=30)


def same_as_postfix(postfix_dir, table, keys):
    """panmap -q and postmap -q agree on every key: value and status."""
    for key in keys:
        ours = panmap_q(key, table)
        theirs = postmap_q(postfix_dir, key, table)
        assert theirs.returncode in (0, 1), theirs.stderr
        assert (ours.returncode, ours.stdout) == \
            (theirs.returncode, theirs.stdout), \
            "%s %r: panmap %r, postmap %r (%s)" % (
                table, key, ours.stdout, theirs.stdout, ours.stderr)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("kind,text,keys", [
    ("cidr", CIDR, CIDR_KEYS),
    ("regexp", REGEXP, PATTERN_KEYS),
    ("pcre", REGEXP + PCRE_EXTRA, PATTERN_KEYS),
    ("texthash", TEXT, TEXT_KEYS),
])
def test_file_tables_agree_with_postfix(tmp_path, postfix_dir, kind, text,
                                        keys):
    table = "%s:%s" % (kind, write(tmp_path, "t." + kind, text))
    same_as_postfix(postfix_dir, table, keys)
    # Some of the keys are found, some are not: the comparison has teeth.
    found = [k for k in keys if panmap_q(k, table).returncode == 0]
    assert 0 < len(found) < len(keys)


def test_name_tables_agree_with_postfix(postfix_dir):
    same_as_postfix(postfix_dir, "static:relay.example", ["x", "Y"])
    same_as_postfix(postfix_dir,
                    "inline:{ Key=Value, other=x, { spaced = a b c } }",
                    ["key", "KEY", "other", "spaced", "missing"])
    same_as_postfix(postfix_dir,
                    "cidr:{ { 10.0.0.0/8 ten }, { 0.0.0.0/0 other } }",
                    ["10.1.1.1", "192.0.2.1", "::1"])


def test_hash_and_btree_built_by_panmap(tmp_path):
    src = write(tmp_path, "transport", TEXT)
    for kind in ("hash", "btree"):
        r = subprocess.run([program("panmap"), "%s:%s" % (kind, src)],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        q = panmap_q("EXAMPLE.com", "%s:%s" % (kind, src))
        assert q.stdout == "smtp:[relay.example.com]:2525\n"
        assert panmap_q("nope", "%s:%s" % (kind, src)).returncode == 1
    # The other types have nothing to build: a clear error.
    r = subprocess.run([program("panmap"), "cidr:" + src],
                       capture_output=True, text=True)
    assert r.returncode == 65
    assert "only hash: and btree:" in r.stderr


def test_unix_passwd(postfix_dir):
    q = panmap_q("ROOT", "unix:passwd.byname")
    assert q.returncode == 0
    assert re.match(r"^root:[^:]*:0:0:[^:]*:[^:]*:[^:]*$", q.stdout)
    # Postfix's postmap gives the same line (its key folded too).
    same_as_postfix(postfix_dir, "unix:passwd.byname",
                    ["root", "no-such-user-here"])


def test_errors_name_the_file_and_line(tmp_path):
    bad = write(tmp_path, "bad.re", "/ok/ fine\n\n/a(/ broken\n")
    q = panmap_q("x", "regexp:" + bad)
    assert q.returncode == 65
    assert "%s:3: bad regular expression" % bad in q.stderr
    bad = write(tmp_path, "bad.cidr", "10.0.0.0/8 OK\n10.1.2.3/8 X\n")
    q = panmap_q("10.0.0.1", "cidr:" + bad)
    assert q.returncode == 65
    assert "%s:2: bad network" % bad in q.stderr
    q = panmap_q("x", "cdb:/etc/whatever")
    assert q.returncode == 65
    assert 'unsupported table type "cdb"' in q.stderr
    q = panmap_q("k" * 2000, "static:x")
    assert q.returncode == 75
    assert "lookup key too long" in q.stderr


# -- socketmap and tcp: a server on loopback -----------------------------

class Peer:
    """A socketmap or tcp_table server (socketserver) with a fixed table;
    replies TEMP/400 for the key "temp", and records each request."""

    def __init__(self, kind, table, unix_path=None, one_per_connection=False):
        self.kind, self.table, self.requests = kind, table, []
        self.connections = 0
        self.one = one_per_connection
        peer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                peer.connections += 1
                if peer.kind == "socketmap":
                    peer.socketmap(self.rfile, self.wfile)
                else:
                    peer.tcp(self.rfile, self.wfile)

        if unix_path:
            self.server = socketserver.ThreadingUnixStreamServer(
                unix_path, Handler)
            self.address = unix_path
        else:
            self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0),
                                                          Handler)
            self.address = "127.0.0.1:%d" % self.server.server_address[1]
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever,
                         daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def netstring_read(rfile):
        length = b""
        while True:
            c = rfile.read(1)
            if not c:
                return None
            if c == b":":
                break
            length += c
        data = rfile.read(int(length))
        assert rfile.read(1) == b","
        return data

    def socketmap(self, rfile, wfile):
        while True:  # Postfix may reuse the connection
            req = self.netstring_read(rfile)
            if req is None:
                return
            self.requests.append(req)
            name, _, key = req.decode().partition(" ")
            if key == "temp":
                reply = "TEMP database down"
            elif name != "virtual":
                reply = "PERM no such map"
            elif key in self.table:
                reply = "OK " + self.table[key]
            else:
                reply = "NOTFOUND "
            data = reply.encode()
            wfile.write(b"%d:%s," % (len(data), data))
            wfile.flush()
            if self.one:
                return

    def tcp(self, rfile, wfile):
        for line in rfile:
            self.requests.append(line)
            m = re.match(rb"^get (\S+)\n$", line)
            key = re.sub(rb"%([0-9a-fA-F]{2})",
                         lambda x: bytes([int(x.group(1), 16)]),
                         m.group(1)).decode() if m else None
            if key == "temp":
                reply = "400 try again later"
            elif key in self.table:
                reply = "200 " + re.sub(
                    r"[%\s]", lambda x: "%%%02X" % ord(x.group(0)),
                    self.table[key])
            else:
                reply = "500 not found"
            wfile.write(reply.encode() + b"\n")
            wfile.flush()
            if self.one:
                return


TABLE = {"user@example.com": "mailbox/user", "Mixed Case": "a b%c",
         "x": "1"}


@pytest.fixture
def peers(tmp_path):
    made = []

    def make(kind, unix=False, one_per_connection=False):
        p = Peer(kind, TABLE, str(tmp_path / "sock") if unix else None,
                 one_per_connection)
        made.append(p)
        return p
    yield make
    for p in made:
        p.close()


def same_request_as_postfix(peer, postfix_dir, table, want):
    """On the wire, panmap sends what Postfix's client sends."""
    del peer.requests[:]
    panmap_q("Mixed Case", table)
    ours = list(peer.requests)
    del peer.requests[:]
    theirs = postmap_q(postfix_dir, "Mixed Case", table)
    assert theirs.stdout == "a b%c\n"
    assert ours == peer.requests == [want]


@pytest.mark.parametrize("unix", [False, True])
def test_socketmap(peers, postfix_dir, unix):
    p = peers("socketmap", unix)
    table = "socketmap:%s:%s:virtual" % ("unix" if unix else "inet",
                                         p.address)
    q = panmap_q("user@example.com", table)
    assert (q.returncode, q.stdout) == (0, "mailbox/user\n"), q.stderr
    # The key goes as it is: not folded, spaces kept.
    q = panmap_q("Mixed Case", table)
    assert (q.returncode, q.stdout) == (0, "a b%c\n"), q.stderr
    assert panmap_q("USER@example.com", table).returncode == 1
    q = panmap_q("temp", table)
    assert q.returncode == 75
    assert "TEMP database down" in q.stderr
    q = panmap_q("x", table.replace(":virtual", ":other"))
    assert q.returncode == 75 and "PERM no such map" in q.stderr
    same_request_as_postfix(p, postfix_dir, table, b"virtual Mixed Case")


def test_tcp(peers, postfix_dir):
    p = peers("tcp")
    table = "tcp:" + p.address
    q = panmap_q("user@example.com", table)
    assert (q.returncode, q.stdout) == (0, "mailbox/user\n"), q.stderr
    # %XX both ways: the key's space and the value's space and '%'.
    q = panmap_q("Mixed Case", table)
    assert (q.returncode, q.stdout) == (0, "a b%c\n"), q.stderr
    assert panmap_q("nope", table).returncode == 1
    q = panmap_q("temp", table)
    assert q.returncode == 75 and "400 try again later" in q.stderr
    same_request_as_postfix(p, postfix_dir, table, b"get Mixed%20Case\n")


@pytest.mark.parametrize("kind", ["socketmap", "tcp"])
@pytest.mark.parametrize("one", [False, True])
def test_client_session_reused(peers, kind, one):
    """Lookups of one process share one session, as Postfix's clients
    do; a server that closes the session after each reply costs a new
    connection per lookup, never a failed lookup."""
    p = peers(kind, one_per_connection=one)
    table = ("socketmap:inet:%s:virtual" if kind == "socketmap"
             else "tcp:%s") % p.address
    keys = ["user@example.com", "nope", "x", "user@example.com", "x"]
    q = panmap_q("-", table, stdin="".join(k + "\n" for k in keys))
    assert q.stdout == ("user@example.com\tmailbox/user\nx\t1\n"
                        "user@example.com\tmailbox/user\nx\t1\n"), q.stderr
    assert len(p.requests) == len(keys)
    assert p.connections == (len(keys) if one else 1)


def test_client_without_server(tmp_path):
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    addr = "127.0.0.1:%d" % port.getsockname()[1]
    port.close()
    q = panmap_q("x", "tcp:" + addr)
    assert q.returncode == 75 and "lookup of" in q.stderr
    q = panmap_q("x", "socketmap:unix:%s:virtual" % (tmp_path / "none"))
    assert q.returncode == 75


# -- master checks the table types at start --------------------------------

def test_unsupported_table_type_stops_master(instance):
    instance.conf["transport_maps"] = "hash:/etc/x, cdb:/etc/panacea/x"
    instance.write()
    proc = instance.run_master("-f")
    assert proc.returncode != 0
    assert re.search(r"panacea\.conf:\d+: transport_maps: "
                     r"cdb:/etc/panacea/x: unsupported table type \"cdb\"",
                     proc.stderr), proc.stderr
    assert not os.path.exists(instance.pid_file())


def test_unsupported_table_type_in_services_stops_master(instance):
    instance.services = [Instance.service(
        instance.port(), "smtpd -o smtp_tls_policy_maps=nis:mail.aliases")]
    instance.write()
    proc = instance.run_master("-f")
    assert proc.returncode != 0
    assert re.search(r"services:1: -o smtp_tls_policy_maps: "
                     r"nis:mail.aliases: unsupported table type",
                     proc.stderr), proc.stderr


# -- proxy: through the proxymap service, from a chrooted smtpd ------------

def proxy_setup(instance, tmp_path, with_proxymap):
    """smtpd (chrooted as root) with local_recipient_maps naming a hash:
    table outside its jail through proxy:; the proxymap service runs
    unjailed as mail_owner when with_proxymap."""
    owner = panacea_test.ensure_mail_owner(MAIL_OWNER)
    users = tmp_path / "users"
    users.write_text("known stored\n")
    subprocess.run([program("panmap"), "hash:%s" % users], check=True)
    os.chmod(str(users) + ".db", 0o644)
    open_path(str(tmp_path))
    table = "proxy:hash:%s" % users
    services = [Instance.service("proxymap", "proxymap", type_="unix",
                                 unpriv="-", chroot="n")] \
        if with_proxymap else []
    port = smtpd_setup(instance, owner, conf={
        "local_recipient_maps": table,
        "proxy_read_maps": "$local_recipient_maps"}, services=services)
    return owner, port


def rcpt_replies(instance, port, rcpts):
    out = []
    with Session(instance.host, port) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<a@example.org>", 250)
        for r in rcpts:
            s.send(("RCPT TO:<%s@%s>\r\n" % (r, MYHOSTNAME)).encode())
            out.append(s.reply())
    return out


def test_proxy_lookups_from_a_chrooted_smtpd(instance, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root: smtpd runs chrooted, proxymap as "
                    "mail_owner")
    owner, port = proxy_setup(instance, tmp_path, True)
    known, unknown = rcpt_replies(instance, port, ["known", "nobody"])
    assert known.code == 250, known
    assert unknown.code == 550, unknown
    # proxymap did the lookup: unjailed, every uid mail_owner's. A
    # proxymap that master has just forked for a later connection is still
    # root until it drops its ids, before it reads anything; so every
    # proxymap must reach mail_owner's uids, and none may stay root.
    uid = pwd.getpwnam(owner).pw_uid

    def proxymaps_dropped():
        pids = [p for p in instance.children()
                if procfs.comm(p) == "proxymap"]
        try:
            return pids and all(procfs.uids(p) == [uid] * 4
                                and procfs.root(p) == "/" for p in pids)
        except OSError:  # one ended meanwhile: look again
            return False
    panacea_test.wait_until(proxymaps_dropped,
                            what="every proxymap as mail_owner, unjailed")
    # The smtpds are jailed (one master just started may still be on its
    # way into the jail).
    def smtpds_jailed():
        roots = [procfs.root(p) for p in instance.children()
                 if procfs.comm(p) == "smtpd"]
        return roots and all(r == instance.queue_dir for r in roots)
    panacea_test.wait_until(smtpds_jailed, what="smtpd in its jail")


def test_proxy_without_proxymap_defers(instance, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root: smtpd runs chrooted")
    owner, port = proxy_setup(instance, tmp_path, False)
    (reply,) = rcpt_replies(instance, port, ["known"])
    # The table cannot be asked: a temporary failure, never a 550.
    assert reply.code == 451 and "4.3.0" in reply.text, reply
    panacea_test.wait_until(
        lambda: "cannot reach the proxymap service" in instance.log(),
        what="smtpd's warning")


def test_proxymap_refuses_tables_not_in_proxy_read_maps(instance, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root")
    owner, port = proxy_setup(instance, tmp_path, True)
    secret = tmp_path / "secret"
    secret.write_text("k v\n")
    subprocess.run([program("panmap"), "hash:%s" % secret], check=True)
    env = dict(os.environ, MAIL_CONFIG=instance.config_dir)
    q = subprocess.run([program("panmap"), "-q", "k", "proxy:hash:%s" %
                        secret], capture_output=True, text=True, env=env)
    assert q.returncode == 75
    assert "not in proxy_read_maps" in q.stderr
    q = subprocess.run([program("panmap"), "-q", "known", "proxy:hash:%s" %
                        (tmp_path / "users")], capture_output=True,
                       text=True, env=env)
    assert (q.returncode, q.stdout) == (0, "stored\n"), q.stderr
