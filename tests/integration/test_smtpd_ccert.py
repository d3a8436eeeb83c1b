"""smtpd with client certificates: smtpd_tls_ask_ccert, relay_clientcerts
with permit_tls_clientcerts, permit_tls_all_clientcerts with
smtpd_tls_CAfile, check_ccert_access, and the ccert_* log words.

The certificates are made by openssl when the module starts: the test CA
(which signs the server's certificate and one client's), and a
self-signed client certificate no CA vouches for.  The fingerprints the
tables list are the ones openssl prints, as postconf(5) tells
administrators to take them.  Python's smtplib presents the client
certificate.
"""

import os
import smtplib
import socket
import subprocess

import pytest

from panacea_test import program
from smtp_helpers import (client_tls_context, mail_owner,  # noqa: F401
                          make_tls, smtpd_setup)

pytestmark = pytest.mark.skipif(
    not all(os.access(program(p), os.X_OK) for p in ("master", "smtpd")),
    reason="master or smtpd is not built")

FAR = "someone@far.example"


def openssl(*args, stdin=None):
    return subprocess.run(["openssl"] + list(args), input=stdin, check=True,
                          capture_output=True, timeout=60).stdout


def cert_fingerprint(pem):
    """'AB:CD:...', as `openssl x509 -fingerprint -sha256` prints it."""
    out = openssl("x509", "-noout", "-fingerprint", "-sha256", "-in", pem)
    return out.decode().strip().split("=", 1)[1]


def pubkey_fingerprint(pem):
    """The SHA-256 of the DER public key, by postconf(5)'s pipeline."""
    pub = openssl("x509", "-in", pem, "-noout", "-pubkey")
    der = openssl("pkey", "-pubin", "-outform", "DER", stdin=pub)
    out = openssl("dgst", "-sha256", "-c", stdin=der).decode()
    return out.strip().split("= ", 1)[1].upper()


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("ccert"))
    files = make_tls(d)
    ca_key = os.path.join(d, "ca.key")
    signed = {k: os.path.join(d, "client." + k) for k in ("key", "pem")}
    csr = os.path.join(d, "client.csr")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj",
            "/CN=client.test", "-keyout", signed["key"], "-out", csr)
    openssl("x509", "-req", "-in", csr, "-CA", files["ca"], "-CAkey",
            ca_key, "-CAcreateserial", "-days", "2", "-out", signed["pem"])
    alone = {k: os.path.join(d, "alone." + k) for k in ("key", "pem")}
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=alone.test", "-keyout", alone["key"],
            "-out", alone["pem"])
    for path in (files["ca"], signed["pem"], alone["pem"]):
        os.chmod(path, 0o644)
    files["signed"] = signed
    files["alone"] = alone
    return files


def smtpd(instance, owner, certs, **conf):
    base = {"smtpd_tls_cert_file": certs["cert"],
            "smtpd_tls_key_file": certs["key"],
            "smtpd_tls_security_level": "may",
            "smtpd_tls_ask_ccert": "yes",
            "smtpd_tls_loglevel": "1",
            # Loopback is no trusted network here: only the certificate
            # can permit relaying.
            "mynetworks": "192.0.2.0/24"}
    base.update(conf)
    return smtpd_setup(instance, owner, conf=base, auth=False)


def rcpt_reply(instance, port, certs, client=None):
    """The reply to RCPT TO:<FAR> after STARTTLS, presenting client's
    certificate (a dict with key and pem) or none."""
    ctx = client_tls_context(certs["ca"])
    if client is not None:
        ctx.load_cert_chain(client["pem"], client["key"])
    with smtplib.SMTP(instance.host, port, timeout=30) as c:
        c.ehlo("client.test")
        c.starttls(context=ctx)
        c.ehlo("client.test")
        c.mail("alice@client.test")
        code, text = c.rcpt(FAR)
        c.rset()
        return code, text.decode()


def write_table(instance, name, text):
    path = os.path.join(instance.base, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)
    return "texthash:" + path


@pytest.mark.parametrize("key", ["cert", "pubkey"])
def test_permit_tls_clientcerts_by_fingerprint(instance, mail_owner, certs,
                                               key):
    """A client whose certificate's fingerprint (or its public key's) is
    in relay_clientcerts may relay; its chain need not be trusted (a
    self-signed certificate, no smtpd_tls_CAfile).  Without a certificate,
    or with another, relaying is refused."""
    alone = certs["alone"]["pem"]
    fpt = cert_fingerprint(alone) if key == "cert" \
        else pubkey_fingerprint(alone)
    table = write_table(instance, "relay_clientcerts",
                        "%s alone.test\n" % fpt)
    port = smtpd(instance, mail_owner, certs, relay_clientcerts=table,
                 smtpd_relay_restrictions="permit_tls_clientcerts, "
                                          "reject_unauth_destination")
    code, text = rcpt_reply(instance, port, certs, certs["alone"])
    assert code == 250, text
    instance.wait_log(r"Untrusted TLS connection established from "
                      r"\S+\[127\.0\.0\.1\]: TLSv1\.[23] with cipher")
    code, text = rcpt_reply(instance, port, certs)
    assert code == 554 and "Relay access denied" in text, (code, text)
    instance.wait_log(r"Anonymous TLS connection established from ")
    code, text = rcpt_reply(instance, port, certs, certs["signed"])
    assert code == 554, (code, text)


def test_permit_tls_all_clientcerts_needs_a_trusted_chain(instance,
                                                          mail_owner, certs):
    """permit_tls_all_clientcerts permits a certificate whose chain leads
    to a CA of smtpd_tls_CAfile, and no other."""
    port = smtpd(instance, mail_owner, certs, smtpd_tls_CAfile=certs["ca"],
                 smtpd_relay_restrictions="permit_tls_all_clientcerts, "
                                          "reject_unauth_destination")
    code, text = rcpt_reply(instance, port, certs, certs["signed"])
    assert code == 250, text
    instance.wait_log(r"Trusted TLS connection established from ")
    code, text = rcpt_reply(instance, port, certs, certs["alone"])
    assert code == 554, (code, text)
    code, text = rcpt_reply(instance, port, certs)
    assert code == 554, (code, text)


def test_check_ccert_access_actions(instance, mail_owner, certs):
    """check_ccert_access looks the fingerprint up in an access(5) table:
    OK permits, a REJECT with text refuses with it, an unlisted
    certificate goes on to the next restriction."""
    table = write_table(
        instance, "ccert_access",
        "%s OK\n%s REJECT certificate withdrawn\n"
        % (cert_fingerprint(certs["signed"]["pem"]),
           cert_fingerprint(certs["alone"]["pem"])))
    port = smtpd(instance, mail_owner, certs,
                 smtpd_relay_restrictions="check_ccert_access %s, "
                                          "reject_unauth_destination"
                                          % table)
    code, text = rcpt_reply(instance, port, certs, certs["signed"])
    assert code == 250, text
    code, text = rcpt_reply(instance, port, certs, certs["alone"])
    assert code == 554 and "certificate withdrawn" in text, (code, text)
    instance.wait_log(r"NOQUEUE: reject: RCPT from \S+: 554 5\.7\.1 "
                      r"<\S+>: Client certificate rejected: certificate "
                      r"withdrawn; from=<alice@client\.test> "
                      r"to=<someone@far\.example>")
    code, text = rcpt_reply(instance, port, certs)
    assert code == 554 and "Relay access denied" in text, (code, text)


def test_bad_fingerprint_digest_stops_smtpd(instance, mail_owner, certs):
    port = smtpd(instance, mail_owner, certs,
                 smtpd_tls_fingerprint_digest="nosuchdigest")
    with socket.create_connection((instance.host, port), timeout=10):
        instance.wait_log(r"smtpd\[\d+\]: fatal: smtpd_tls_ask_ccert: "
                          r"unknown fingerprint digest \"nosuchdigest\"")
