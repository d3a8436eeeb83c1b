"""DANE (RFC 7672) in the smtp client, and smtp_dns_support_level =
dnssec (issue 16).

The world of the test, all on loopback and shared by the module:
  - dane.test, signed with ldns-signzone under a key made now
    (dnssec_helpers), and plain.test, unsigned, both served by nsd;
  - a validating unbound whose only trust anchor is dane.test's key
    (plain.test is then insecure, as an unsigned domain is);
  - TLS peers (smtp_peer) on port 25 of their own addresses: one with
    the certificate a DANE-EE(3) record names, one with another key
    under the same record, one whose certificate a CA issued that a
    DANE-TA(2) record names, one without STARTTLS, and plain ones;
  - an agent running only smtp, as services with different TLS levels;
    the test plays qmgr (a delivery request on the service's socket).
"""

import hashlib
import os
import re
import shutil
import socket
import ssl
import subprocess
import time

import pytest

import attrlist
import panacea_test
from dnssec_helpers import Unbound, sign_zone
from dnsserver import DNSServer
from panacea_test import Instance, fixture, program, scaled, wait_until
from smtp_helpers import base_conf, mail_owner  # noqa: F401
from smtp_peer import Peer

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0,
                       reason="peers need port 25 on loopback"),
    pytest.mark.skipif(
        not all(os.access(program(p), os.X_OK) for p in ("master", "smtp")),
        reason="master or smtp is not built"),
]

NET = panacea_test.loopback_net()
HOSTS = {"good": 161, "bad": 162, "notlsa": 163, "unusable": 164,
         "ta": 165, "bogus": 167}
PLAIN = 166


def openssl(*args, data=None):
    return subprocess.run(["openssl"] + list(args), input=data, check=True,
                          capture_output=True, timeout=60).stdout


def self_signed(d, name, cn):
    key, cert = os.path.join(d, name + ".key"), os.path.join(d, name + ".pem")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", "/CN=" + cn, "-keyout", key, "-out", cert)
    return cert, key


def ec_ca_and_leaf(d, name):
    """A CA and a certificate it issued for name, ECDSA P-256 (quicker
    to make than smtp_helpers.make_tls's RSA keys)."""
    os.makedirs(d)
    ca, ca_key = self_signed(d, "ca", "DANE TA Test CA")
    j = lambda n: os.path.join(d, n)  # noqa: E731
    with open(j("ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:%s\n" % name)
    openssl("req", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=" + name,
            "-keyout", j("server.key"), "-out", j("server.csr"))
    openssl("x509", "-req", "-in", j("server.csr"), "-CA", ca, "-CAkey",
            ca_key, "-CAcreateserial", "-days", "2", "-extfile",
            j("ext.cnf"), "-out", j("server.pem"))
    return {"ca": ca, "cert": j("server.pem"), "key": j("server.key")}


def spki_sha256(cert):
    pub = openssl("x509", "-in", cert, "-noout", "-pubkey")
    der = openssl("pkey", "-pubin", "-outform", "DER", data=pub)
    return hashlib.sha256(der).hexdigest()


def cert_sha256(cert):
    return hashlib.sha256(openssl("x509", "-in", cert, "-outform",
                                  "DER")).hexdigest()


def server_context(cert, key, chain=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if chain is not None:
        # The DANE-TA(2) digest names the CA: the peer must send it.
        ctx.load_cert_chain(chain, key)
    return ctx


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("dane"))
    ee_cert, ee_key = self_signed(d, "ee", "not-the-mx.invalid")
    other_cert, other_key = self_signed(d, "other", "other.invalid")
    ta = ec_ca_and_leaf(os.path.join(d, "ta"), "mx-ta.dane.test")
    with open(os.path.join(d, "ta-chain.pem"), "w") as f:
        for p in (ta["cert"], ta["ca"]):
            with open(p) as g:
                f.write(g.read())
    ee, other = spki_sha256(ee_cert), spki_sha256(other_cert)
    zone = "".join("%s MX 10 mx-%s\nmx-%s A %s%d\n" % (h, h, h, NET, n)
                   for h, n in HOSTS.items())
    zone += ("_25._tcp.mx-good TLSA 3 1 1 %s\n"
             "_25._tcp.mx-bad TLSA 3 1 1 %s\n"
             "_25._tcp.mx-unusable TLSA 1 1 1 %s\n"
             "_25._tcp.mx-ta TLSA 2 0 1 %s\n"
             "_25._tcp.mx-bogus TLSA 3 1 1 %s\n"
             % (ee, ee, ee, cert_sha256(ta["ca"]), ee))
    signed = sign_zone(os.path.join(d, "keys"), "dane.test", zone)
    # A record changed after signing: its signature no longer holds, and
    # the resolver answers SERVFAIL (what an attacker's forgery gets).
    lines = signed.splitlines(True)
    for i, line in enumerate(lines):
        if line.startswith("_25._tcp.mx-bogus.") and "TLSA" in line:
            lines[i] = line.replace(ee, other)
            break
    else:
        pytest.fail("no TLSA line for mx-bogus in the signed zone")
    signed = "".join(lines)
    dns = DNSServer({"dane.test": signed,
                     "plain.test": "@ MX 10 mx\nmx A %s%d\n" % (NET, PLAIN)},
                    address=NET + "53", workdir=os.path.join(d, "nsd"))
    dns.start()
    res = Unbound(NET + "54", dns, ["dane.test", "plain.test"],
                  [os.path.join(d, "keys", "dane.test.anchor")],
                  workdir=os.path.join(d, "unbound"))
    peers = []
    try:
        res.start()
        ctx = {"good": server_context(ee_cert, ee_key),
               "bad": server_context(other_cert, other_key),
               "notlsa": server_context(other_cert, other_key),
               "unusable": None,
               "ta": server_context(ta["cert"], ta["key"],
                                    os.path.join(d, "ta-chain.pem")),
               "bogus": server_context(ee_cert, ee_key)}
        for h, n in HOSTS.items():
            p = Peer(NET + str(n), name="mx-%s.dane.test" % h)
            p.tls_context = ctx[h]
            if ctx[h] is not None:
                p.extensions = p.extensions + ["STARTTLS"]
            peers.append(p)
        p = Peer(NET + str(PLAIN), name="mx.plain.test")
        p.tls_context = server_context(other_cert, other_key)
        p.extensions = p.extensions + ["STARTTLS"]
        peers.append(p)
        os.chmod(ta["ca"], 0o644)
        os.chmod(ee_cert, 0o644)
        yield {"dns": dns, "resolver": res, "dir": d, "ta_ca": ta["ca"],
               "ee_cert": ee_cert}
    finally:
        for p in peers:
            p.close()
        res.cleanup()
        dns.cleanup()


SERVICES = {
    "smtp-dane": "-o smtp_tls_security_level=dane",
    "smtp-daneonly": "-o smtp_tls_security_level=dane-only",
    "smtp-nodnssec": "-o smtp_tls_security_level=dane "
                     "-o smtp_dns_support_level=enabled",
    "smtp-policy": "-o smtp_tls_security_level=may "
                   "-o smtp_tls_policy_maps=texthash:{policy}",
    "smtp-nodns": "-o smtp_tls_security_level=none "
                  "-o smtp_dns_support_level=disabled",
}


@pytest.fixture(scope="module")
def agent(tmp_path_factory, world, mail_owner):  # noqa: F811
    inst = Instance(tmp_path_factory.mktemp("agent"))
    policy = os.path.join(world["dir"], "policy")
    # tafile= is read at delivery, in smtp's jail (as in Postfix): the
    # policy service runs chrooted to the queue directory.
    tadir = os.path.join(inst.queue_dir, "tafiles")
    os.makedirs(tadir, exist_ok=True)
    os.chmod(tadir, 0o755)
    for name in ("ta_ca", "ee_cert"):
        shutil.copy(world[name], os.path.join(tadir, name + ".pem"))
        os.chmod(os.path.join(tadir, name + ".pem"), 0o644)
    with open(policy, "w") as f:
        f.write("plain.test dane-only\n"
                "good.dane.test dane-only protocols=<=TLSv1.2\n"
                "ta.dane.test secure tafile=%s match=nexthop:hostname\n"
                "bad.dane.test secure tafile=%s\n"
                "notlsa.dane.test encrypt protocols=<=TLSv1.2 "
                "ciphers=high exclude=AESGCM\n"
                % ("/tafiles/ta_ca.pem", "/tafiles/ee_cert.pem"))
    os.chmod(world["dir"], 0o755)
    os.chmod(policy, 0o644)
    inst.conf.update(base_conf(mail_owner))
    inst.conf.update({"myhostname": "agent.test",
                      "dns_nameservers": world["resolver"].nameservers,
                      "smtp_dns_support_level": "dnssec",
                      "smtp_tls_loglevel": "1",
                      "smtp_connection_cache_time_limit": "0s",
                      "smtp_connect_timeout": "5s",
                      "smtp_helo_timeout": "20s"})
    # smtp-nodns reads /etc/hosts, which is not in the jail.
    inst.services = [Instance.shipped("smtp", listen=name,
                                      args=args.format(policy=policy),
                                      chroot="n" if name == "smtp-nodns"
                                      else "y")
                     for name, args in SERVICES.items()]
    inst.write()
    panacea_test.open_path(inst.base)
    inst.start()
    wait_until(lambda: all(os.path.exists(inst.socket_path(n))
                           for n in SERVICES), what="smtp sockets")
    yield inst
    report = inst.finish()
    if report:
        pytest.fail("sanitizer report: %s" % report)


def deliver(agent, service, domain, timeout=30, nexthop=None):
    """Queues a message for u@domain and has service deliver it to the
    next hop domain (or nexthop); returns the recipient's status
    attributes."""
    rcpt = "u@" + domain
    body = b"Subject: dane\r\n\r\nhello\r\n"
    out = subprocess.run(
        [fixture("pan-enqueue"), "-c", agent.config_dir, "-r", "-f",
         "sender@agent.test", rcpt], input=body, capture_output=True,
        timeout=scaled(60))
    assert out.returncode == 0, out.stderr
    qid = out.stdout.decode().split()[0]
    now = time.time()
    attrs = [("request", "deliver"), ("queue_id", qid),
             ("transport", "smtp"), ("nexthop", nexthop or domain),
             ("sender", "sender@agent.test"),
             ("arrival", "%d" % int(now - 1)), ("arrival_usec", "0"),
             ("active", "%.3f" % now), ("size", str(len(body))),
             ("flags", "0"), ("envid", ""), ("ret", "0"),
             ("client_addr", "127.0.0.1"), ("rcpt_index", "0"),
             ("rcpt", rcpt), ("orcpt", ""), ("notify", "0")]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(scaled(timeout))
    sock.connect(agent.socket_path(service))
    try:
        sock.sendall(attrlist.encode(attrs))
        reply = attrlist.recv(sock)
    finally:
        sock.close()
    return {n: v.decode("utf-8", "replace") for n, v in reply}


def established(host, n):
    return r"TLS connection established to %s\[%s%d\]:25: TLSv1\.[23] " \
        % (re.escape(host), re.escape(NET), n)


def test_dane_ee_match_is_verified(agent):
    """A DANE-EE(3) record matching the server's key: delivered, logged
    Verified, although the certificate names another host (RFC 7672
    3.1.1: no name check for DANE-EE)."""
    mark = agent.log_size()
    st = deliver(agent, "smtp-dane", "good.dane.test")
    assert st.get("class") == "2", st
    agent.wait_log("Verified " + established("mx-good.dane.test", 161),
                   since=mark)


def test_dane_ee_mismatch_defers(agent):
    """The same record, a server with another key: nothing is sent."""
    st = deliver(agent, "smtp-dane", "bad.dane.test")
    assert st.get("class") == "4", st
    assert re.search(r"Cannot start TLS with mx-bad\.dane\.test\[\S+\]: "
                     r"TLS handshake failed: .*certificate verify failed",
                     st["text"]), st


def test_dane_ta_match_is_verified(agent):
    """A DANE-TA(2) record naming the CA: the chain leads to it and the
    certificate carries the MX host's name."""
    mark = agent.log_size()
    st = deliver(agent, "smtp-dane", "ta.dane.test")
    assert st.get("class") == "2", st
    agent.wait_log("Verified " + established("mx-ta.dane.test", 165),
                   since=mark)


def test_signed_zone_without_tlsa_is_opportunistic(agent):
    """No TLSA records (a validated denial): TLS as at level may, the
    certificate not authenticated."""
    mark = agent.log_size()
    st = deliver(agent, "smtp-dane", "notlsa.dane.test")
    assert st.get("class") == "2", st
    agent.wait_log("Untrusted " + established("mx-notlsa.dane.test", 163),
                   since=mark)


def test_unsigned_zone_is_opportunistic(agent):
    """An unsigned domain (no AD bit on its MX records): may."""
    mark = agent.log_size()
    st = deliver(agent, "smtp-dane", "plain.test")
    assert st.get("class") == "2", st
    agent.wait_log("Untrusted " + established("mx.plain.test", PLAIN),
                   since=mark)


def test_unusable_tlsa_requires_encryption(agent):
    """Only a PKIX-EE(1) record, which SMTP ignores: TLS is mandatory
    (RFC 7672 2.2), and this server does not offer it."""
    mark = agent.log_size()
    st = deliver(agent, "smtp-dane", "unusable.dane.test")
    assert st.get("class") == "4", st
    assert "TLS is required, but was not offered by host " \
        "mx-unusable.dane.test" in st["text"], st
    agent.wait_log(r"mx-unusable\.dane\.test\[\S+\]: DANE: no usable "
                   r"TLSA records: TLS level encrypt", since=mark)


def test_tlsa_lookup_failure_defers(agent):
    """A TLSA record whose signature fails (SERVFAIL from the resolver):
    deferred, not sent without authentication."""
    st = deliver(agent, "smtp-dane", "bogus.dane.test")
    assert st.get("class") == "4", st
    assert st.get("dsn") == "4.7.5", st
    assert "TLSA lookup error for mx-bogus.dane.test" in st["text"], st


def test_dane_only_refuses_the_unsigned(agent):
    """dane-only: no fallback for an unsigned domain."""
    st = deliver(agent, "smtp-daneonly", "plain.test")
    assert st.get("class") == "4", st
    assert re.search(r"no DANE for mx\.plain\.test\[\S+\]: MX records "
                     r"not DNSSEC-validated \(DANE-only\)", st["text"]), st


def test_dane_only_delivers_with_tlsa(agent):
    mark = agent.log_size()
    st = deliver(agent, "smtp-daneonly", "good.dane.test")
    assert st.get("class") == "2", st
    agent.wait_log("Verified " + established("mx-good.dane.test", 161),
                   since=mark)


def test_without_dnssec_dane_is_may(agent):
    """smtp_dns_support_level = enabled: no AD bit is asked for, so no
    answer is validated and dane falls back to may, even where the
    records would have matched."""
    mark = agent.log_size()
    st = deliver(agent, "smtp-nodnssec", "good.dane.test")
    assert st.get("class") == "2", st
    agent.wait_log("Untrusted " + established("mx-good.dane.test", 161),
                   since=mark)


def test_policy_maps_dane_only(agent):
    """smtp_tls_policy_maps level dane-only: the unsigned domain is
    refused; the signed one is delivered, over TLS 1.2 as its protocols=
    attribute says."""
    st = deliver(agent, "smtp-policy", "plain.test")
    assert st.get("class") == "4", st
    assert "(DANE-only)" in st["text"], st
    mark = agent.log_size()
    st = deliver(agent, "smtp-policy", "good.dane.test")
    assert st.get("class") == "2", st
    agent.wait_log("Verified " + established("mx-good.dane.test", 161)
                   .replace(r"TLSv1\.[23]", r"TLSv1\.2"), since=mark)


def test_policy_tafile_and_match(agent):
    """tafile=: the destination's own trust anchor (the CA that issued
    the peer's certificate, not in any trust store), with match= names
    (nexthop, which the certificate lacks, then hostname, which it
    has)."""
    mark = agent.log_size()
    st = deliver(agent, "smtp-policy", "ta.dane.test")
    assert st.get("class") == "2", st
    agent.wait_log("Verified " + established("mx-ta.dane.test", 165),
                   since=mark)


def test_policy_tafile_other_anchor_defers(agent):
    """tafile= naming an anchor that did not issue the certificate."""
    st = deliver(agent, "smtp-policy", "bad.dane.test")
    assert st.get("class") == "4", st
    assert "(server certificate not verified)" in st["text"], st


def test_policy_ciphers_and_exclude(agent):
    """ciphers= and exclude= (':'-separated): the high grade without
    AES-GCM leaves ChaCha20 at TLS 1.2."""
    mark = agent.log_size()
    st = deliver(agent, "smtp-policy", "notlsa.dane.test")
    assert st.get("class") == "2", st
    agent.wait_log(r"Untrusted TLS connection established to "
                   r"mx-notlsa\.dane\.test\[\S+\]:25: TLSv1\.2 with cipher "
                   r"\S*CHACHA20", since=mark)


def test_dns_disabled_uses_native_lookups(agent):
    """smtp_dns_support_level = disabled: no MX lookup, the host's
    address from the C library (/etc/hosts names localhost; the DNS
    server the agent is given is never asked)."""
    with Peer("127.0.0.1", port=0, name="localhost") as p:
        mark = agent.log_size()
        st = deliver(agent, "smtp-nodns", "localhost",
                     nexthop="localhost:%d" % p.port)
        assert st.get("class") == "2", st
        agent.wait_log(r"to=<u@localhost>, relay=localhost\[127\.0\.0\.1\]"
                       r":%d, .*status=sent" % p.port, since=mark)
