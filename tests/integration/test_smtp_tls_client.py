"""The smtp client's TLS parameters (issue 16): client certificates
(smtp_tls_cert_file/_key_file, smtp_tls_chain_files), smtp_tls_CApath,
smtp_tls_note_starttls_offer, smtp_tls_wrappermode (SMTPS) and
tls_eecdh_auto_curves on the client side.

Two Panacea instances: the peer runs smtpd on two ports (STARTTLS asking
for client certificates, logging them at smtpd_tls_loglevel 2; and
wrapper mode, port 465 style); the agent runs only smtp, as several
services whose -o options differ, and the test plays qmgr: it queues a
message with pan-enqueue and sends the delivery request to the service's
socket.  Both instances live for the module.
"""

import os
import re
import socket
import subprocess
import time

import pytest

import attrlist
import panacea_test
from panacea_test import Instance, fixture, program, scaled, wait_until
from smtp_helpers import (MYHOSTNAME, base_conf, mail_owner,  # noqa: F401
                          make_tls, smtpd_service, smtpd_setup,
                          stored_message)

pytestmark = pytest.mark.skipif(
    not all(os.access(program(p), os.X_OK) for p in ("master", "smtpd",
                                                      "smtp")),
    reason="master, smtpd or smtp is not built")

RCPT = "root@" + MYHOSTNAME


def openssl(*args):
    return subprocess.run(["openssl"] + list(args), check=True,
                          capture_output=True, timeout=60).stdout


def fingerprint(pem):
    out = openssl("x509", "-noout", "-fingerprint", "-sha256", "-in", pem)
    return out.decode().strip().split("=", 1)[1]


@pytest.fixture(scope="module")
def peer_inst(tmp_path_factory):
    inst = Instance(tmp_path_factory.mktemp("peer"))
    yield inst
    inst.finish()


@pytest.fixture(scope="module")
def certs(tmp_path_factory, peer_inst):
    """The test CA; the peer's certificate for MYHOSTNAME and its address
    (smtp verifies an [address] next hop by the address); the agent's
    client certificate, alone and as a chain file; a CA directory."""
    d = str(tmp_path_factory.mktemp("clientcerts"))
    files = make_tls(d)
    j = lambda n: os.path.join(d, n)  # noqa: E731
    ec = ["ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
    for name, cn, san in (
            ("peer", MYHOSTNAME, "DNS:%s,IP:%s" % (MYHOSTNAME,
                                                  peer_inst.host)),
            ("client", "agent.test", "DNS:agent.test")):
        with open(j(name + ".cnf"), "w") as f:
            f.write("subjectAltName=%s\n" % san)
        openssl("req", "-newkey", *ec, "-nodes", "-subj", "/CN=" + cn,
                "-keyout", j(name + ".key"), "-out", j(name + ".csr"))
        openssl("x509", "-req", "-in", j(name + ".csr"), "-CA", files["ca"],
                "-CAkey", j("ca.key"), "-CAcreateserial", "-days", "2",
                "-extfile", j(name + ".cnf"), "-out", j(name + ".pem"))
        os.chmod(j(name + ".key"), 0o600)
        os.chmod(j(name + ".pem"), 0o644)
    with open(j("client_chain.pem"), "w") as f:
        for n in ("client.key", "client.pem"):
            with open(j(n)) as g:
                f.write(g.read())
    os.chmod(j("client_chain.pem"), 0o600)
    os.makedirs(j("cadir"))
    with open(j("cadir/test-ca.pem"), "w") as f, open(files["ca"]) as g:
        f.write(g.read())
    os.chmod(files["ca"], 0o644)
    files.update(peer=j("peer.pem"), peer_key=j("peer.key"),
                 client=j("client.pem"), client_key=j("client.key"),
                 client_chain=j("client_chain.pem"), cadir=j("cadir"))
    return files


@pytest.fixture(scope="module")
def peer(peer_inst, certs, mail_owner):  # noqa: F811
    """(instance, STARTTLS port, wrapper-mode port)."""
    wport, wline = smtpd_service(peer_inst,
                                 args="-o smtpd_tls_wrappermode=yes")
    port = smtpd_setup(peer_inst, mail_owner, auth=False, services=[wline],
                       conf={"smtpd_tls_cert_file": certs["peer"],
                             "smtpd_tls_key_file": certs["peer_key"],
                             "smtpd_tls_security_level": "may",
                             "smtpd_tls_ask_ccert": "yes",
                             "smtpd_tls_CAfile": certs["ca"],
                             "smtpd_tls_loglevel": "2",
                             "smtpd_tls_received_header": "yes"})
    peer_inst.wait_port(wport)
    return peer_inst, port, wport


SERVICES = {
    "smtp-cert": "-o smtp_tls_security_level=encrypt "
                 "-o smtp_tls_cert_file={client} "
                 "-o smtp_tls_key_file={client_key}",
    "smtp-chain": "-o smtp_tls_security_level=verify "
                  "-o smtp_tls_chain_files={client_chain} "
                  "-o smtp_tls_CApath={cadir}",
    "smtp-noca": "-o smtp_tls_security_level=verify "
                 "-o smtp_tls_CAfile= -o smtp_tls_CApath=",
    "smtp-note": "-o smtp_tls_security_level=none "
                 "-o smtp_tls_note_starttls_offer=yes",
    "smtp-wrap": "-o smtp_tls_security_level=encrypt "
                 "-o smtp_tls_wrappermode=yes",
    "smtp-badwrap": "-o smtp_tls_security_level=may "
                    "-o smtp_tls_wrappermode=yes",
    "smtp-curve": "-o smtp_tls_security_level=encrypt "
                  "-o tls_eecdh_auto_curves=secp384r1",
}


@pytest.fixture(scope="module")
def agent(tmp_path_factory, certs, mail_owner):  # noqa: F811
    inst = Instance(tmp_path_factory.mktemp("agent"))
    inst.conf.update(base_conf(mail_owner))
    inst.conf.update({"myhostname": "agent.test",
                      "smtp_tls_loglevel": "1",
                      "smtp_connection_cache_time_limit": "0s",
                      "smtp_connect_timeout": "5s",
                      "smtp_helo_timeout": "20s"})
    inst.services = [Instance.shipped("smtp", listen=name,
                                      args=args.format(**certs))
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


def deliver(agent, service, host, port, timeout=30):
    """Queues a message in the agent and has service deliver it to
    [host]:port; returns the recipient's status attributes."""
    body = b"Subject: tls client\r\n\r\nhello\r\n"
    out = subprocess.run(
        [fixture("pan-enqueue"), "-c", agent.config_dir, "-r", "-f",
         "sender@agent.test", RCPT], input=body, capture_output=True,
        timeout=scaled(60))
    assert out.returncode == 0, out.stderr
    qid = out.stdout.decode().split()[0]
    now = time.time()
    attrs = [("request", "deliver"), ("queue_id", qid),
             ("transport", "smtp"), ("nexthop", "[%s]:%d" % (host, port)),
             ("sender", "sender@agent.test"),
             ("arrival", "%d" % int(now - 1)), ("arrival_usec", "0"),
             ("active", "%.3f" % now), ("size", str(len(body))),
             ("flags", "0"), ("envid", ""), ("ret", "0"),
             ("client_addr", "127.0.0.1"), ("rcpt_index", "0"),
             ("rcpt", RCPT), ("orcpt", ""), ("notify", "0")]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(scaled(timeout))
    sock.connect(agent.socket_path(service))
    try:
        sock.sendall(attrlist.encode(attrs))
        reply = attrlist.recv(sock)
    finally:
        sock.close()
    return {n: v.decode("utf-8", "replace") for n, v in reply}


def peer_qid(status):
    m = re.search(r"queued as (\w+)", status.get("text", ""))
    assert m, status
    return m.group(1)


def test_client_certificate_is_presented(agent, peer, certs):
    """smtp_tls_cert_file/_key_file: the peer, which asks for client
    certificates, logs ours with its fingerprint and trusts it."""
    inst, port, _ = peer
    mark = inst.log_size()
    st = deliver(agent, "smtp-cert", inst.host, port)
    assert st.get("class") == "2", st
    inst.wait_log(r"Trusted TLS connection established from \S+: TLSv1\.3",
                  since=mark)
    inst.wait_log(r"\]: subject_CN=agent\.test, issuer_CN=Panacea Test CA, "
                  r"fingerprint=%s, pkey_fingerprint=" %
                  re.escape(fingerprint(certs["client"])), since=mark)


def test_chain_files_and_capath_verify(agent, peer, certs):
    """smtp_tls_chain_files presents the certificate; smtp_tls_CApath (a
    directory without hash links) verifies the peer at level verify."""
    inst, port, _ = peer
    mark, amark = inst.log_size(), agent.log_size()
    st = deliver(agent, "smtp-chain", inst.host, port)
    assert st.get("class") == "2", st
    agent.wait_log(r"Verified TLS connection established to \S*\[%s\]:%d: "
                   % (re.escape(inst.host), port), since=amark)
    inst.wait_log(r"\]: subject_CN=agent\.test, issuer_CN=Panacea Test CA, "
                  r"fingerprint=%s" % re.escape(fingerprint(certs["client"])),
                  since=mark)


def test_verify_without_the_ca_defers(agent, peer):
    """The same level without the test CA (the system's store, read
    before the chroot): the certificate is not trusted and nothing is
    sent."""
    inst, port, _ = peer
    st = deliver(agent, "smtp-noca", inst.host, port)
    assert st.get("class") == "4", st
    # The system's store was read before the jail: the only error is the
    # verification's (no failed lookups in a directory out of reach).
    assert re.match(r"Cannot start TLS with \S+: TLS handshake failed: SSL "
                    r"routines: certificate verify failed \(certificate: "
                    r"[^;]*\) \(server certificate not verified\)$",
                    st["text"]), st


def test_note_starttls_offer(agent, peer):
    """At level none, smtp_tls_note_starttls_offer logs a server that
    offered STARTTLS; the mail goes in clear."""
    inst, port, _ = peer
    amark = agent.log_size()
    st = deliver(agent, "smtp-note", inst.host, port)
    assert st.get("class") == "2", st
    agent.wait_log(r"smtp\[\d+\]: Host offered STARTTLS: \[%s\]\n"
                   % re.escape(inst.host), since=amark)
    header, _ = stored_message(inst, peer_qid(st))
    assert b" with ESMTP id " in header, header


def test_wrappermode_speaks_smtps(agent, peer):
    """smtp_tls_wrappermode: TLS from the first byte to an SMTPS port
    (a STARTTLS client would wait there for a greeting that never
    comes in clear)."""
    inst, _, wport = peer
    amark = agent.log_size()
    st = deliver(agent, "smtp-wrap", inst.host, wport)
    assert st.get("class") == "2", st
    agent.wait_log(r"TLS connection established to \S*\[%s\]:%d: TLSv1\.3"
                   % (re.escape(inst.host), wport), since=amark)
    header, _ = stored_message(inst, peer_qid(st))
    assert b" with ESMTPS id " in header, header


def test_wrappermode_needs_encrypt(agent, peer):
    """smtp_tls_wrappermode with level may stops smtp at start."""
    inst, _, wport = peer
    amark = agent.log_size()
    # The first request makes master start the service, which stops.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(agent.socket_path("smtp-badwrap"))
        agent.wait_log(r"smtp\[\d+\]: fatal: smtp_tls_wrappermode = yes "
                       r"requires smtp_tls_security_level = encrypt or "
                       r"stronger", since=amark)


def test_client_curves(agent, peer):
    """tls_eecdh_auto_curves on the client: the peer's Received: header
    names the one curve offered."""
    inst, port, _ = peer
    st = deliver(agent, "smtp-curve", inst.host, port)
    assert st.get("class") == "2", st
    header, _ = stored_message(inst, peer_qid(st))
    assert b"key-exchange secp384r1 " in header, header
