"""hops_helpers - several whole Panacea hosts on loopback, one DNS for all.

test_hops.py replays the talk "How email really works": a message leaves
panacea.canonical.org for kathalla.dma.org, the MX of dma.org, which
passes it on to dmapub.dma.org, where local writes it into pea's mailbox.
Each host here is a full Panacea instance on its own loopback address
(master; smtpd on port 25 of that address; qmgr; smtp; local), and every
name resolves through one nsd (dnsserver.py) that holds the test zones.

  NET, ADDR, NAMES   the address plan (a loopback /24 held for the run:
                     panacea_test.loopback_net())
  zones()            the zone texts: canonical.org, dma.org, example.com,
                     ahlquist.org, a broken zone (nsd answers SERVFAIL)
                     and the PTR zone of that /24
  Host               one instance: Instance on a fixed address with the
                     services of a mail host; mailbox and log helpers
  Sink               Postfix's smtp-sink on its own address:25, dumping
                     each message to a file
  PrivatePostfix     a Postfix instance of the test's own (main.cf and
                     master.cf in its folder, as bench/accept runs one)
                     relaying one domain to a fixed next hop
  make_map()         a hash: table (panmap, else db5.3_load)
  make_account()     a unix account made with useradd (removed by the
                     caller with remove_account())
  mbox_messages()    the messages of an mbox, byte for byte
  dsn_report()       the per-recipient fields of a DSN
  flush()            the qmgr request "F" on public/qmgr (lib/qmgr_proto.h)

Needs root: port 25 on loopback, local switching to pea, useradd.
Every wait has a deadline (panacea_test.wait_until), scaled for the
sanitizer build.
"""

import email
import email.policy
import mailbox
import os
import pwd
import re
import shutil
import socket
import subprocess

import pytest

import panacea_test
from panacea_test import Instance, open_path, program, scaled, wait_until

NET = panacea_test.loopback_net()
# The PTR zone of NET's /24: "Y.X.127.in-addr.arpa".
REVERSE_ZONE = ".".join(reversed(NET.rstrip(".").split("."))) + ".in-addr.arpa"
ADDR = {
    "dns": NET + "53",
    "panacea": NET + "10",       # host A
    "schrodinger": NET + "17",   # paulv's workstation, in A's network
    "kathalla": NET + "20",      # host B, the MX of dma.org
    "dmapub": NET + "30",        # host C, dma.org's mailbox host
    "sink": NET + "40",          # mx.example.com: smtp-sink
    "failover-mx1": NET + "41",  # nothing listens there
    "failover-mx2": NET + "42",
    "down1": NET + "43",
    "down2": NET + "44",
    "mixed": NET + "45",         # answers 250/450/550 per recipient
    "plain": NET + "46",         # no STARTTLS
    "laptop": NET + "60",        # a host outside A's network (relayhost)
    "postfix": NET + "70",       # mx.ahlquist.org: a private Postfix
    "birch": NET + "100",        # pea's machine at ahlquist.org: outside
}
NAMES = {
    "panacea": "panacea.canonical.org",
    "schrodinger": "schrodinger.canonical.org",
    "kathalla": "kathalla.dma.org",
    "dmapub": "dmapub.dma.org",
    "laptop": "laptop.canonical.org",
    "birch": "birch.ahlquist.org",
    "postfix": "mx.ahlquist.org",
}
CLIENT_NET = NET + "16/28"  # A's mynetworks: .16 - .31

SINK = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
POSTCONF = shutil.which("postconf") or "/usr/sbin/postconf"


def zones():
    """The test DNS: the talk's domains and a few broken ones."""
    a = ADDR
    return {
        "canonical.org": """
@            MX 10 panacea
panacea      A  {panacea}
schrodinger  A  {schrodinger}
laptop       A  {laptop}
loop         MX 10 panacea.canonical.org.
""".format(**a),
        "dma.org": """
@            MX 10 kathalla
kathalla     A  {kathalla}
dmapub       A  {dmapub}
""".format(**a),
        "example.com": """
@            MX 10 mx
mx           A  {sink}
failover     MX 10 mx1.failover
failover     MX 20 mx2.failover
mx1.failover A  {failover-mx1}
mx2.failover A  {failover-mx2}
alldown      MX 10 down1.alldown
alldown      MX 20 down2.alldown
down1.alldown A {down1}
down2.alldown A {down2}
mixed        MX 10 mx.mixed
mx.mixed     A  {mixed}
plain        MX 10 mx.plain
mx.plain     A  {plain}
nullmx       MX 0 .
""".format(**a),
        "ahlquist.org": """
@            MX 10 mx
mx           A  {postfix}
birch        A  {birch}
""".format(**a),
        # A record nsd cannot load: nsd answers SERVFAIL for the zone.
        "broken.example": "@ MX 10 mx\nmx A not-an-address\n",
        # smtpd names its 127.x clients "localhost" without DNS (DESIGN);
        # the PTR records are for anything else that looks.
        REVERSE_ZONE: "".join(
            "%s PTR %s.\n" % (ADDR[k].rsplit(".", 1)[1], NAMES[k])
            for k in NAMES),
    }


def run_quiet(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, timeout=scaled(60),
                          **kw)


def make_map(path, entries):
    """The hash: table PATH.db from {key: value}, written as a postmap
    text file at path and built with panmap (db5.3_load when panmap is
    not built: lower-case keys without NUL, as lib/maps stores them)."""
    with open(path, "w") as f:
        for k, v in entries.items():
            f.write("%s %s\n" % (k, v))
    if os.path.exists(path + ".db"):
        os.unlink(path + ".db")
    panmap = program("panmap")
    if os.access(panmap, os.X_OK):
        r = run_quiet([panmap, "hash:" + path])
        assert r.returncode == 0, r.stderr
    else:
        text = "".join("%s\n%s\n" % (k.lower(), v)
                       for k, v in entries.items())
        run_quiet(["db5.3_load", "-T", "-t", "hash", path + ".db"],
                  input=text.encode(), check=True)
    os.chmod(path + ".db", 0o644)
    return "hash:" + path


def make_sasldb(path, users, realm):
    """A sasldb at path with {name: password} (saslpasswd2)."""
    for name, password in users.items():
        run_quiet(["saslpasswd2", "-c", "-p", "-f", path, "-u", realm,
                   name], input=password.encode(), check=True)
    return panacea_test.sasldb_for_auth(path)


def make_account(name, home):
    """A unix account (useradd); returns its pwd entry, or None when an
    account of that name exists already (it is then used, not removed)."""
    try:
        pwd.getpwnam(name)
        return None
    except KeyError:
        pass
    os.makedirs(os.path.dirname(home), exist_ok=True)
    with panacea_test.passwd_change():
        run_quiet(["useradd", "-m", "-d", home, "-s", "/usr/sbin/nologin",
                   "-U", name], check=True)
    return pwd.getpwnam(name)


def remove_account(name):
    with panacea_test.passwd_change():
        run_quiet(["userdel", "-r", name])


class Host(Instance):
    """One mail host: master, smtpd on ADDRESS:25, qmgr, smtp and local.

    The instance lives in base; its spool (mail_spool_directory) in
    base/spool.  conf adds to and overrides the defaults below; services
    adds lines (a submission port, pop3d, ...)."""

    def __init__(self, base, key, owner, dns, conf=None, services=(),
                 name=None):
        super().__init__(base)
        self.key = key
        self.host = ADDR[key]
        self.name = name or NAMES[key]
        self.spool = os.path.join(self.base, "spool")
        os.makedirs(self.spool, exist_ok=True)
        os.chmod(self.spool, 0o755)
        self.conf.update({
            "mail_owner": owner,
            "inet_interfaces": self.host,
            "myhostname": self.name,
            "mydomain": self.name.split(".", 1)[1],
            "mydestination": "$myhostname",
            "mynetworks": self.host + "/32",
            "smtp_bind_address": self.host,
            "dns_nameservers": dns.nameservers,
            "mail_spool_directory": self.spool,
            "smtpd_error_sleep_time": "0s",
            "queue_run_delay": "1s",
            # Deferred mail waits for the test's flush (or 60 s).
            "minimal_backoff_time": "60s",
            "maximal_backoff_time": "120s",
            "smtp_connect_timeout": "5s",
            "smtp_helo_timeout": "30s",
        })
        self.conf.update(conf or {})
        root = os.geteuid() == 0
        jail = "y" if root else "n"
        self.services = [
            Instance.shipped("smtp", "inet", 25, chroot=jail),
            Instance.shipped("qmgr", chroot=jail),
            Instance.shipped("smtp", chroot=jail),
            Instance.shipped("local"),
            # smtpd AUTH (the submission port) goes through it.
            panacea_test.auth_service(),
        ] + list(services)
        panacea_test.ensure_auth_owner()

    def start(self, wait_ready=True):
        self.write()
        open_path(self.base)
        super().start(wait_ready=wait_ready)
        self.wait_port(25)
        return self.proc

    # -- the queue -------------------------------------------------------
    def flush(self):
        """panqueue -f: every deferred message is due now."""
        flush(self)

    def wait_removed(self, qid, timeout=30):
        return self.wait_log(r"qmgr\[\d+\]: %s: removed" % re.escape(qid),
                             timeout=timeout)

    def wait_status(self, qid, rcpt, status, since=0, timeout=30):
        """Waits for the delivery log line of rcpt with status=STATUS;
        returns the whole line."""
        m = self.wait_log(r"%s: to=<%s>, [^\n]*status=%s [^\n]*" %
                          (re.escape(qid), re.escape(rcpt), status),
                          since=since, timeout=timeout)
        return m.group(0)

    def queued_for(self, text, since=0):
        """Queue ids that smtpd logged as received with text in the line
        of their client (client=...) after byte offset since."""
        return re.findall(r"smtpd\[\d+\]: (\w+): client=%s" %
                          re.escape(text), self.log(since))

    def next_hop_qid(self, rcpt, since=0, timeout=30):
        """The queue id under which this host received a message for rcpt
        (from its smtpd's log), waiting for its to=<rcpt> line."""
        m = self.wait_log(r"(\w+): to=<%s>" % re.escape(rcpt), since=since,
                          timeout=timeout)
        return m.group(1)

    # -- mailboxes ---------------------------------------------------------
    def mbox_path(self, user):
        return os.path.join(self.spool, user)

    def messages(self, user):
        return mbox_messages(self.mbox_path(user))

    def wait_messages(self, user, n, timeout=30):
        return wait_until(lambda: (len(self.messages(user)) >= n
                                   and self.messages(user)),
                          timeout=timeout,
                          what="%d message(s) for %s on %s" %
                          (n, user, self.name))


def flush(inst):
    """Writes the flush request to $queue_directory/public/qmgr."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(scaled(10))
        s.connect(inst.socket_path("qmgr", private=False))
        s.sendall(b"F")
    finally:
        s.close()


def mbox_messages(path):
    """The messages of the mbox at path ([] when it does not exist), each
    as bytes exactly as stored after its From_ line."""
    if not os.path.exists(path):
        return []
    box = mailbox.mbox(path, create=False)
    try:
        return [box.get_bytes(k) for k in box.keys()]
    finally:
        box.close()


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def header_block(raw):
    """The header lines of raw (bytes) as a list of unfolded strings, in
    order."""
    head = raw.split(b"\n\n", 1)[0].decode("utf-8", "replace")
    fields = []
    for line in head.split("\n"):
        if line[:1] in (" ", "\t") and fields:
            fields[-1] += " " + line.strip()
        else:
            fields.append(line)
    return fields


def dsn_report(raw):
    """(human-readable text, [per-recipient fields dict]) of a DSN."""
    msg = parse(raw)
    assert msg.get_content_type() == "multipart/report", msg
    text, rcpts = "", []
    for part in msg.iter_parts():
        if part.get_content_type() == "text/plain" and not text:
            text = part.get_content()
        elif part.get_content_type() == "message/delivery-status":
            # The email package gives the groups as sub-messages: the
            # per-message fields first, then one per recipient.
            groups = part.get_payload()
            for g in groups[1:]:
                rcpts.append({k.lower(): str(v) for k, v in g.items()})
    return text, rcpts


class Sink:
    """Postfix's smtp-sink on address:25 (-u nobody as root), writing
    each message to a file of dump_dir (its own headers X-Client-Addr,
    X-Helo-Args, X-Mail-Args, X-Rcpt-Args, a Received: line, then the
    message with LF line ends and dots unstuffed)."""

    def __init__(self, address, dump_dir, backlog=100):
        self.address = address
        self.dir = dump_dir
        os.makedirs(dump_dir, exist_ok=True)
        os.chmod(dump_dir, 0o777)
        open_path(dump_dir)
        cmd = [SINK]
        if os.geteuid() == 0:
            cmd += ["-u", "nobody"]
        cmd += ["-d", os.path.join(dump_dir, "%M."), address + ":25",
                str(backlog)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        wait_until(lambda: panacea_test.can_connect(address, 25),
                   what="smtp-sink on %s:25" % address)

    def files(self):
        return sorted(os.listdir(self.dir))

    def messages(self):
        out = []
        for name in self.files():
            with open(os.path.join(self.dir, name), "rb") as f:
                out.append(f.read())
        return out

    def find(self, needle):
        """The dumped messages that contain needle (bytes)."""
        return [m for m in self.messages() if needle in m]

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


POSTFIX_SERVICES = """\
{listen} inet n - n - - smtpd
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
local unix - n n - - local
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""


def need_postfix():
    """Postfix's programs and its account (the package makes both; make
    deps installs it): a failure when they are missing, never a skip."""
    panacea_test.tool("postfix", "postfix", POSTFIX)
    try:
        pwd.getpwnam("postfix")
    except KeyError:
        pytest.fail("the postfix account is missing: reinstall the postfix "
                    "package (scripts/deps.sh)", pytrace=False)


class PrivatePostfix:
    """A private Postfix: smtpd on address:25 only, relaying `domain` to
    `nexthop` (transport_maps), queue, data and log (maillog_file) in
    base.  Nothing system-wide is read or changed."""

    def __init__(self, base, address, myhostname, domain, nexthop):
        self.base = base
        self.etc = os.path.join(base, "etc")
        self.queue = os.path.join(base, "queue")
        self.data = os.path.join(base, "data")
        self.maillog = os.path.join(base, "maillog")
        self.address = address
        for d in (self.etc, self.queue, self.data):
            os.makedirs(d, exist_ok=True)
        pw = pwd.getpwnam("postfix")
        os.chown(self.data, pw.pw_uid, pw.pw_gid)
        version = run_quiet([POSTCONF, "-dh", "mail_version"]).stdout
        level = ".".join(version.decode().strip().split(".")[:2]) or "2"
        params = {
            "compatibility_level": level,
            "queue_directory": self.queue,
            "data_directory": self.data,
            "maillog_file": self.maillog,
            "maillog_file_prefixes": base,
            # master.cf binds smtpd to address; inet_interfaces must
            # name an interface address.
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "myhostname": myhostname,
            "mydomain": myhostname.split(".", 1)[1],
            "mydestination": "",
            "mynetworks": address + "/32",
            "relay_domains": domain,
            "transport_maps": "inline:{%s=smtp:%s}" % (domain, nexthop),
            "smtp_bind_address": address,
            "smtpd_peername_lookup": "no",
            "local_recipient_maps": "",
            "alias_maps": "",
            "alias_database": "",
            "biff": "no",
        }
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write("# test_hops: private instance\n")
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(POSTFIX_SERVICES.format(listen=address + ":25"))
        run_quiet([POSTCONF, "-c", self.etc, "-e"] +
                  ["%s=%s" % kv for kv in params.items()], check=True)
        self.started = False

    def postfix(self, *args):
        return run_quiet([POSTFIX, "-c", self.etc] + list(args))

    def start(self):
        r = self.postfix("start")
        assert r.returncode == 0, r.stdout + r.stderr
        self.started = True
        wait_until(lambda: panacea_test.can_connect(self.address, 25),
                   timeout=30, what="Postfix on %s:25" % self.address)

    def log(self):
        try:
            with open(self.maillog, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def master_pid(self):
        try:
            with open(os.path.join(self.queue, "pid", "master.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self):
        if not self.started:
            return
        pid = self.master_pid()
        self.postfix("stop")
        if pid:
            try:
                wait_until(lambda: not panacea_test.pid_alive(pid),
                           timeout=30, what="Postfix master to stop")
            except AssertionError:
                self.postfix("abort")
        self.started = False
