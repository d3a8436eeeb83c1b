"""dnssec_helpers - a DNSSEC-signed zone and a validating resolver for
tests, all on loopback.

    text = sign_zone(workdir, "dane.test", zone_text)   # ldns-signzone
    dns = DNSServer({"dane.test": text, ...}, address=...)  # nsd
    with Unbound(workdir, address, dns, anchors=[key_file]) as res:
        conf["dns_nameservers"] = res.nameservers

sign_zone() makes a key with ldns-keygen (ECDSA P-256, the SEP flag so
that one key signs the whole zone) and signs the zone with
ldns-signzone; it returns the signed zone text and leaves the key's
DNSKEY record in WORKDIR/NAME.anchor, the trust anchor of the resolver.
The zone is an island of trust: nothing above it is signed, so the
resolver knows its key from that file alone.

Unbound runs in the foreground with its own configuration (no root
hints needed: every zone is a stub zone pointing at the nsd of the
test), validates with the given anchors and answers on address:port.
Names outside the anchored zones validate as insecure (no AD bit): the
unsigned world.
"""

import os
import random
import shutil
import socket
import struct
import subprocess
import time

from dnsserver import PrivateDaemon, dns_query_wire, pick_port, zone_text
from panacea_test import tool


def sign_zone(workdir, name, text):
    """The signed text of zone name (zone-file text relative to its
    origin, SOA and NS added as dnsserver does)."""
    os.makedirs(workdir, exist_ok=True)
    keygen, signzone = tool("ldns-keygen"), tool("ldns-signzone")
    out = subprocess.run([keygen, "-a", "ECDSAP256SHA256", "-k", name],
                         cwd=workdir, check=True, capture_output=True,
                         timeout=60)
    base = out.stdout.decode().strip()
    unsigned = os.path.join(workdir, name + ".zone")
    with open(unsigned, "w") as f:
        f.write(zone_text(name, text))
    # Valid from an hour ago for two days: clocks need not agree to the
    # second.
    now = time.time()
    stamp = lambda t: time.strftime("%Y%m%d%H%M%S", time.gmtime(t))  # noqa
    subprocess.run([signzone, "-n", "-i", stamp(now - 3600),
                    "-e", stamp(now + 2 * 86400), "-f",
                    unsigned + ".signed", unsigned,
                    os.path.join(workdir, base)],
                   cwd=workdir, check=True, capture_output=True, timeout=60)
    shutil.copy(os.path.join(workdir, base + ".key"),
                os.path.join(workdir, name + ".anchor"))
    with open(unsigned + ".signed") as f:
        return f.read()


def _answers(address, port, name, timeout=0.5):
    """The rcode of a recursive SOA query for name, or None."""
    qid = random.randint(1, 65535)
    wire = bytearray(dns_query_wire(name, 6, qid))
    wire[2] |= 0x01  # RD
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        try:
            s.sendto(bytes(wire), (address, port))
            data, _ = s.recvfrom(4096)
        except OSError:
            return None
    if len(data) < 12:
        return None
    rid, flags = struct.unpack("!HH", data[:4])
    return flags & 0x000F if rid == qid else None


class Unbound(PrivateDaemon):
    NAME = "unbound"

    def __init__(self, address, dns, zones, anchors, workdir=None):
        """dns: the DNSServer holding zones; anchors: DNSKEY files."""
        self.dns = dns
        self.zones = list(zones)
        self.anchors = list(anchors)
        super().__init__(address, None, workdir)

    def _write_config(self):
        conf = [
            "server:",
            "\tinterface: %s" % self.address,
            "\tport: %d" % self.port,
            "\tdo-ip6: no",
            "\tdo-daemonize: no",
            "\tusername: \"\"",
            "\tchroot: \"\"",
            "\tdirectory: \"%s\"" % self.workdir,
            "\tpidfile: \"%s\"" % self._path("unbound.pid"),
            "\tlogfile: \"%s\"" % self._path("unbound.log"),
            "\tuse-syslog: no",
            "\tverbosity: 1",
            "\tval-log-level: 2",
            "\tnum-threads: 1",
            "\tso-reuseport: no",
            "\taccess-control: 127.0.0.0/8 allow",
            # The test's nsd is on loopback.
            "\tdo-not-query-localhost: no",
            "\tmodule-config: \"validator iterator\"",
            # Every test starts with a cold cache; nothing to prefetch.
            "\tprefetch: no",
            # test. is one of unbound's built-in empty zones (RFC 6761).
            "\tlocal-zone: \"test.\" nodefault",
        ]
        conf += ["\ttrust-anchor-file: \"%s\"" % a for a in self.anchors]
        conf += ["remote-control:", "\tcontrol-enable: no"]
        for z in self.zones:
            conf += ["stub-zone:", "\tname: \"%s\"" % z,
                     "\tstub-addr: %s@%d" % (self.dns.address,
                                             self.dns.port)]
        with open(self._path("unbound.conf"), "w") as f:
            f.write("\n".join(conf) + "\n")

    def start(self, timeout=15.0):
        if self.port is None:
            self.port = pick_port(self.address)
        self._write_config()
        return self._run(
            [tool("unbound"), "-d", "-c", self._path("unbound.conf")],
            lambda: _answers(self.address, self.port, self.zones[0]) == 0,
            timeout)
