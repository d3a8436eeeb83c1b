"""dnsserver - a real DNS server (nsd) on a loopback address for tests.

Every DNS lookup of a test goes to a server the test started itself: the
machine's resolv.conf points at a server that tests must never query.
nsd binds exactly the address it is given, so several servers (several
"views" of the world) can run side by side on different 127.0.0.x.

    from dnsserver import DNSServer

    zones = {"example.test": "@ MX 10 mx1\\nmx1 A 127.0.0.11\\n"}
    with DNSServer(zones, address="127.0.0.53") as dns:
        conf["dns_nameservers"] = dns.nameservers   # "127.0.0.53:PORT"
        ...

A zone is given as zone-file text relative to its origin.  When the text
has no SOA record, a SOA and an NS record are added, so a test writes only
the records it cares about.  nsd answers authoritatively and with
recursion not available, which is all a stub resolver needs for names in
these zones; names outside them are REFUSED.

The port is 53 when running as root and 53 is free on that address,
otherwise a free high port (dns.port, dns.nameservers say which).  start()
returns once the server answers a SOA query for its first zone; stop()
ends it (a stopped server is how tests make lookups time out); start()
may be called again, with zones changed through set_zone() meanwhile.
The folder (config, zone files, nsd's log) is a temporary one unless
workdir is given; log() returns nsd's log for failure reports.
"""

import fcntl
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

try:
    from panacea_test import TIME_SCALE
except ImportError:  # usable outside the panacea tests too
    TIME_SCALE = 1.0

NSD = shutil.which("nsd") or "/usr/sbin/nsd"


def _port_free(address, port):
    """True when both UDP and TCP port on address can be bound now."""
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind((address, port))
            except OSError:
                return False
    return True


# Ports this process claimed: {(address, port): the descriptor of its
# lock}.
_CLAIMS = {}


def _claim(address, port):
    """True when this process holds, or now takes, an flock on a file
    named after address:port, kept until it ends: "free" is only true
    until the server binds, and two test processes (make integration
    runs two, other checkouts their own) must not both find 53 free on
    127.0.0.53 and start nsd there, or one test would query the other's
    server."""
    if (address, port) in _CLAIMS:
        return True
    fd = os.open("/tmp/panacea-test-dns-%s-%d.lock" % (address, port),
                 os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False
    _CLAIMS[(address, port)] = fd
    return True


def pick_port(address):
    """53 for root when free, else a port free for UDP and TCP; claimed
    (_claim) either way."""
    if os.geteuid() == 0 and _claim(address, 53) and _port_free(address, 53):
        return 53
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((address, 0))
            port = s.getsockname()[1]
        if _claim(address, port) and _port_free(address, port):
            return port
    raise RuntimeError("no free port on %s" % address)


def dns_query_wire(name, qtype, qid):
    """A DNS query in wire format (RD clear)."""
    wire = struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        if label:
            wire += bytes([len(label)]) + label.encode("ascii")
    return wire + b"\0" + struct.pack("!HH", qtype, 1)


def soa_answers(address, port, zone, timeout=0.5):
    """True when address:port answers a SOA query for zone with
    NOERROR and the AA bit."""
    qid = random.randint(1, 65535)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        try:
            s.sendto(dns_query_wire(zone, 6, qid), (address, port))
            data, _ = s.recvfrom(4096)
        except OSError:
            return False
    if len(data) < 12:
        return False
    rid, flags = struct.unpack("!HH", data[:4])
    return rid == qid and flags & 0x8000 and flags & 0x0400 and \
        flags & 0x000F == 0


def zone_text(name, text):
    """The zone file for name: $ORIGIN, $TTL, and SOA/NS when missing."""
    head = "$ORIGIN %s.\n" % name
    if not re.search(r"^\$TTL", text, re.M):
        head += "$TTL 300\n"
    if not re.search(r"\bSOA\b", text, re.I):
        head += ("@ IN SOA ns.%s. hostmaster.%s. 1 3600 600 86400 300\n"
                 "@ IN NS ns.invalid.\n" % (name, name))
    return head + text + ("" if text.endswith("\n") else "\n")


class PrivateDaemon:
    """A DNS daemon of the test's own (nsd, unbound) on a loopback
    address, run in the foreground in a session of its own: its folder
    (workdir, or a temporary one that cleanup() removes), its start with
    a deadline on a readiness probe, its stop (SIGTERM, then SIGKILL of
    its process group) and its output.  NAME names its files
    (NAME.out, NAME.log)."""

    NAME = None

    def __init__(self, address, port=None, workdir=None):
        self.address = address
        self.port = port
        self._tmp = None
        if workdir is None:
            workdir = self._tmp = tempfile.mkdtemp(prefix=self.NAME + "-")
        self.workdir = os.path.abspath(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.proc = None

    @property
    def nameservers(self):
        """The dns_nameservers value for this server."""
        return "%s:%d" % (self.address, self.port)

    def _path(self, name):
        return os.path.join(self.workdir, name)

    def _run(self, argv, ready, timeout):
        """Starts argv and waits until ready() is true."""
        self._out = open(self._path(self.NAME + ".out"), "ab")
        self.proc = subprocess.Popen(argv, stdout=self._out,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout * TIME_SCALE
        while not ready():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("%s on %s did not start:\n%s"
                                   % (self.NAME, self.nameservers,
                                      self.log()))
            time.sleep(0.05)
        return self

    def stop(self, timeout=10.0):
        """Ends the daemon (SIGTERM, then SIGKILL of its process group)."""
        if self.proc is None:
            return
        # The group is the daemon's own session; its leader is not
        # reaped yet, so the group id still names its processes only.
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout * TIME_SCALE)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.proc = None
        self._out.close()

    def log(self):
        text = ""
        for name in (self.NAME + ".out", self.NAME + ".log"):
            try:
                with open(self._path(name), errors="replace") as f:
                    text += f.read()
            except FileNotFoundError:
                pass
        return text

    def cleanup(self):
        self.stop()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()
        return False


class DNSServer(PrivateDaemon):
    NAME = "nsd"

    def __init__(self, zones, address="127.0.0.53", port=None, workdir=None):
        if not zones:
            raise ValueError("DNSServer needs at least one zone")
        self.zones = {k.rstrip(".").lower(): v for k, v in zones.items()}
        super().__init__(address, port, workdir)

    def set_zone(self, name, text):
        """Adds or replaces a zone; takes effect at the next start()."""
        self.zones[name.rstrip(".").lower()] = text

    def _write_config(self):
        conf = [
            "server:",
            "\tip-address: %s" % self.address,
            "\tport: %d" % self.port,
            "\tzonesdir: \"%s\"" % self.workdir,
            "\tpidfile: \"%s\"" % self._path("nsd.pid"),
            "\tusername: \"\"",
            "\tchroot: \"\"",
            "\tdatabase: \"\"",
            "\tzonelistfile: \"%s\"" % self._path("zone.list"),
            "\txfrdfile: \"%s\"" % self._path("xfrd.state"),
            "\txfrdir: \"%s\"" % self.workdir,
            "\tlogfile: \"%s\"" % self._path("nsd.log"),
            "\tserver-count: 1",
            "\tverbosity: 1",
            "\thide-version: yes",
            "remote-control:",
            "\tcontrol-enable: no",
        ]
        for name, text in self.zones.items():
            fname = "%s.zone" % name
            with open(self._path(fname), "w") as f:
                f.write(zone_text(name, text))
            conf += ["zone:", "\tname: \"%s\"" % name,
                     "\tzonefile: \"%s\"" % fname]
        with open(self._path("nsd.conf"), "w") as f:
            f.write("\n".join(conf) + "\n")

    def start(self, timeout=15.0):
        if self.proc is not None:
            raise RuntimeError("nsd already running")
        if self.port is None:
            self.port = pick_port(self.address)
        self._write_config()
        # Stale state from an earlier run would be read back by nsd.
        for stale in ("zone.list", "xfrd.state"):
            try:
                os.unlink(self._path(stale))
            except FileNotFoundError:
                pass
        zone = next(iter(self.zones))
        return self._run([NSD, "-d", "-c", self._path("nsd.conf")],
                         lambda: soa_answers(self.address, self.port, zone),
                         timeout)


def serve_beside(instance, zones, clients=()):
    """For a test fixture (yield from): a started DNSServer of zones on
    127.0.0.54, or .55 when the instance has .54, stopped and removed
    afterwards.  A test whose instance took one of clients (addresses
    the test connects from) is skipped."""
    import pytest
    address = "127.0.0.54" if instance.host != "127.0.0.54" else "127.0.0.55"
    if instance.host in clients:
        pytest.skip("the instance took a client address of this test")
    server = DNSServer(zones, address=address)
    server.start()
    try:
        yield server
    finally:
        server.cleanup()
