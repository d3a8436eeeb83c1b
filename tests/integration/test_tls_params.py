"""smtpd's TLS protocol and cipher parameters (issue 16): the protocol
lists in both of Postfix's syntaxes, the cipher grades with their
exclusions, the mandatory variants at level encrypt, and the default
lists without CBC suites.

The peer is `openssl s_client -starttls smtp` (it can ask for exactly one
TLS 1.2 cipher or protocol) or Python's ssl module; the certificates are
made once for the module.
"""

import os
import re
import smtplib
import socket
import ssl
import subprocess

import pytest

from panacea_test import program
from smtp_helpers import (MYHOSTNAME, make_tls, mail_owner,  # noqa: F401
                          smtpd_setup, stored_message)

ROOT = "root@" + MYHOSTNAME

pytestmark = pytest.mark.skipif(
    not all(os.access(program(p), os.X_OK) for p in ("master", "smtpd")),
    reason="master or smtpd is not built")

CBC = "ECDHE-RSA-AES128-SHA"          # a TLS 1.2 CBC suite
GCM = "ECDHE-RSA-AES256-GCM-SHA384"   # a forward-secret AEAD suite
GCM128 = "ECDHE-RSA-AES128-GCM-SHA256"
RSA_GCM = "AES256-GCM-SHA384"         # AEAD without forward secrecy


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_tls(tmp_path_factory.mktemp("tlsparams"))


def smtpd(instance, owner, certs, **conf):
    base = {"smtpd_tls_cert_file": certs["cert"],
            "smtpd_tls_key_file": certs["key"],
            "smtpd_tls_security_level": "may"}
    base.update(conf)
    return smtpd_setup(instance, owner, conf=base, auth=False)


def s_client(instance, port, *args):
    """(ok, output) of one STARTTLS handshake by openssl s_client."""
    out = subprocess.run(
        ["openssl", "s_client", "-starttls", "smtp", "-connect",
         "%s:%d" % (instance.host, port), "-servername", "localhost", "-brief"]
        + list(args),
        input=b"QUIT\r\n", capture_output=True, timeout=30)
    text = (out.stdout + out.stderr).decode(errors="replace")
    return "CONNECTION ESTABLISHED" in text, text


def test_defaults_offer_no_cbc_and_keep_tls13(instance, mail_owner, certs):
    """With the defaults, a TLS 1.2 client that offers only a CBC suite is
    refused, one offering an AEAD suite gets it (also one without
    forward secrecy: the medium grade), TLS 1.3 works, TLS 1.1 does not."""
    port = smtpd(instance, mail_owner, certs)
    ok, text = s_client(instance, port, "-tls1_2", "-cipher", CBC)
    assert not ok, text
    for cipher in (GCM, RSA_GCM):
        ok, text = s_client(instance, port, "-tls1_2", "-cipher", cipher)
        assert ok and cipher in text, text
    ok, text = s_client(instance, port, "-tls1_3")
    assert ok and "TLSv1.3" in text, text
    ok, text = s_client(instance, port, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")
    assert not ok, text


def test_high_grade_and_exclusion(instance, mail_owner, certs):
    """smtpd_tls_ciphers = high drops the non-forward-secret suite;
    smtpd_tls_exclude_ciphers removes a named one and keeps the rest."""
    port = smtpd(instance, mail_owner, certs, smtpd_tls_ciphers="high",
                 smtpd_tls_exclude_ciphers="AES256")
    ok, text = s_client(instance, port, "-tls1_2", "-cipher", RSA_GCM)
    assert not ok, text
    ok, text = s_client(instance, port, "-tls1_2", "-cipher", GCM)
    assert not ok, text
    ok, text = s_client(instance, port, "-tls1_2", "-cipher", GCM128)
    assert ok and GCM128 in text, text


def test_cipherlist_can_be_configured(instance, mail_owner, certs):
    """tls_medium_cipherlist is what the grade medium means: an
    administrator who wants CBC back can have it."""
    port = smtpd(instance, mail_owner, certs,
                 tls_medium_cipherlist="ECDHE+AES:!aNULL")
    ok, text = s_client(instance, port, "-tls1_2", "-cipher", CBC)
    assert ok and CBC in text, text


def test_mandatory_settings_apply_at_encrypt(instance, mail_owner, certs):
    """At level encrypt the mandatory_* parameters govern, not the
    opportunistic ones."""
    port = smtpd(instance, mail_owner, certs,
                 smtpd_tls_security_level="encrypt",
                 smtpd_tls_exclude_ciphers="aNULL",
                 smtpd_tls_ciphers="high",
                 smtpd_tls_mandatory_ciphers="medium",
                 smtpd_tls_mandatory_exclude_ciphers=GCM,
                 smtpd_tls_protocols="<=TLSv1.2",
                 smtpd_tls_mandatory_protocols="!SSLv2, !SSLv3, !TLSv1, "
                                               "!TLSv1.1, !TLSv1.2")
    ok, text = s_client(instance, port, "-tls1_2")
    assert not ok, text
    ok, text = s_client(instance, port, "-tls1_3")
    assert ok and "TLSv1.3" in text, text


@pytest.mark.parametrize("value", ["<=TLSv1.2", "!TLSv1.3",
                                   "TLSv1.2", "<=0x0303"])
def test_protocol_syntaxes_cap_at_tls12(instance, mail_owner, certs, value):
    """Both syntaxes (exclusion, inclusion, bounds by name or number) can
    keep TLS 1.3 off."""
    port = smtpd(instance, mail_owner, certs, smtpd_tls_protocols=value)
    ok, text = s_client(instance, port, "-tls1_3")
    assert not ok, text
    ok, text = s_client(instance, port, "-tls1_2")
    assert ok and "TLSv1.2" in text, text


def test_below_floor_is_warned_and_not_used(instance, mail_owner, certs):
    """A value allowing TLS 1.0 starts smtpd with a warning; TLS 1.0 and
    1.1 stay refused."""
    port = smtpd(instance, mail_owner, certs,
                 smtpd_tls_protocols="!SSLv2, !SSLv3")
    ok, text = s_client(instance, port, "-tls1_2")
    assert ok, text
    instance.wait_log(r"warning: smtpd_tls_protocols allows protocols "
                      r"below TLSv1\.2; Panacea uses TLSv1\.2 and later only")
    ok, text = s_client(instance, port, "-tls1", "-cipher", "DEFAULT@SECLEVEL=0")
    assert not ok, text


@pytest.mark.parametrize("conf,message", [
    ({"smtpd_tls_protocols": "<=TLSv1.1"},
     r"smtpd_tls_protocols: \"<=TLSv1\.1\" leaves no protocol version"),
    ({"smtpd_tls_protocols": "!TLSv9"},
     r"smtpd_tls_protocols: unknown TLS protocol \"!TLSv9\""),
    ({"smtpd_tls_ciphers": "export"},
     r"smtpd_tls_ciphers: unknown or unsupported cipher grade \"export\""),
    ({"tls_medium_cipherlist": "NOSUCHCIPHER"},
     r"smtpd_tls_ciphers: cipher list \"NOSUCHCIPHER\" selects no cipher"),
])
def test_bad_values_stop_smtpd(instance, mail_owner, certs, conf, message):
    """smtpd stops at start, naming the parameter, when it gets a client
    (the master spawns it then)."""
    port = smtpd(instance, mail_owner, certs, **conf)
    with socket.create_connection((instance.host, port), timeout=10):
        instance.wait_log(r"fatal: " + message)


# -- the legacy forms: smtpd_use_tls, smtpd_enforce_tls -------------------

def ehlo_and_mail(instance, port):
    """(STARTTLS offered, reply code to MAIL FROM without TLS)."""
    with smtplib.SMTP(instance.host, port, timeout=30) as c:
        c.ehlo("client.test")
        offered = c.has_extn("starttls")
        code, _ = c.mail("alice@client.test")
        return offered, code


@pytest.mark.parametrize("conf,offered,code", [
    ({}, False, 250),
    ({"smtpd_use_tls": "yes"}, True, 250),
    ({"smtpd_enforce_tls": "yes"}, True, 530),
    ({"smtpd_use_tls": "yes", "smtpd_enforce_tls": "yes"}, True, 530),
    # A level, even none, wins over the legacy forms.
    ({"smtpd_tls_security_level": "none", "smtpd_enforce_tls": "yes"},
     False, 250),
    ({"smtpd_tls_security_level": "may", "smtpd_enforce_tls": "yes"},
     True, 250),
])
def test_legacy_use_and_enforce(instance, mail_owner, certs, conf, offered,
                                code):
    base = {"smtpd_tls_cert_file": certs["cert"],
            "smtpd_tls_key_file": certs["key"]}
    base.update(conf)
    port = smtpd_setup(instance, mail_owner, conf=base, auth=False)
    assert ehlo_and_mail(instance, port) == (offered, code)


# -- smtpd_tls_received_header -------------------------------------------

@pytest.mark.parametrize("on", [False, True])
def test_received_header(instance, mail_owner, certs, on):
    """Postfix's default: the Received: header says ESMTPS and nothing
    more; with smtpd_tls_received_header = yes it names protocol, cipher
    and key exchange."""
    conf = {"smtpd_tls_received_header": "yes"} if on else {}
    port = smtpd(instance, mail_owner, certs, **conf)
    ctx = ssl.create_default_context(cafile=certs["ca"])
    ctx.check_hostname = False
    msg = b"Subject: tls\r\n\r\nbody\r\n"
    with smtplib.SMTP(instance.host, port, timeout=30) as c:
        c.starttls(context=ctx)
        assert c.sendmail("alice@client.test", [ROOT], msg) == {}
        version, cipher = c.sock.version(), c.sock.cipher()[0]
    m = instance.wait_log(r"(\w+): from=<alice@client\.test>, size=")
    header, rest = stored_message(instance, m.group(1))
    text = header.decode()
    assert " with ESMTPS id " in text, text
    if not on:
        assert "(using" not in text, text
        return
    assert re.search(
        r"\r\n\t\(using %s with cipher %s \(\d+/\d+ bits\)\r\n"
        r"\t key-exchange \S+ server-signature RSA(-PSS)? \(2048 bits\) "
        r"server-digest SHA\d+\)\r\n\tby " % (re.escape(version),
                                             re.escape(cipher)), text), text


# -- smtpd_tls_loglevel, smtpd_tls_req_ccert -------------------------------

@pytest.mark.parametrize("level", ["0", "1", "2"])
def test_smtpd_tls_loglevel(instance, mail_owner, certs, level):
    """0: no TLS line; 1: Postfix's summary line; 2: also the client
    certificate's line with its fingerprints."""
    port = smtpd(instance, mail_owner, certs, smtpd_tls_loglevel=level,
                 smtpd_tls_ask_ccert="yes")
    ok, text = s_client(instance, port, "-cert", certs["cert"],
                        "-key", certs["key"])
    assert ok, text
    instance.wait_log(r"disconnect from \S+\[")
    log = instance.log()
    summary = re.search(r"Untrusted TLS connection established from "
                        r"\S+\[[\d.]+\]: TLSv1\.3 with cipher \S+ "
                        r"\(\d+/\d+ bits\)", log)
    cert = re.search(r"\]: subject_CN=%s, issuer_CN=Panacea Test CA, "
                     r"fingerprint=[0-9A-F:]{95}, "
                     r"pkey_fingerprint=[0-9A-F:]{95}, verification: "
                     % re.escape(MYHOSTNAME), log)
    assert bool(summary) == (level != "0"), log
    assert bool(cert) == (level == "2"), log


def test_req_ccert_at_encrypt(instance, mail_owner, certs):
    """At level encrypt, smtpd_tls_req_ccert sends a client without a
    certificate Postfix's 421; one with a certificate from
    smtpd_tls_CAfile's CA may go on."""
    port = smtpd(instance, mail_owner, certs,
                 smtpd_tls_security_level="encrypt",
                 smtpd_tls_req_ccert="yes", smtpd_tls_CAfile=certs["ca"])
    ctx = ssl.create_default_context(cafile=certs["ca"])
    ctx.check_hostname = False
    with smtplib.SMTP(instance.host, port, timeout=30) as c:
        c.starttls(context=ctx)
        code, text = c.ehlo("client.test")
        assert (code, text.decode()) == (
            421, "4.7.1 %s Error: No client certificate presented"
            % MYHOSTNAME)
    instance.wait_log(r"NOQUEUE: abort: TLS from \S+: No client "
                      r"certificate presented")
    ctx.load_cert_chain(certs["cert"], certs["key"])
    with smtplib.SMTP(instance.host, port, timeout=30) as c:
        c.starttls(context=ctx)
        assert c.ehlo("client.test")[0] == 250
        assert c.mail("alice@client.test")[0] == 250


def test_req_ccert_ignored_below_encrypt(instance, mail_owner, certs):
    port = smtpd(instance, mail_owner, certs, smtpd_tls_req_ccert="yes")
    ctx = ssl.create_default_context(cafile=certs["ca"])
    ctx.check_hostname = False
    with smtplib.SMTP(instance.host, port, timeout=30) as c:
        c.starttls(context=ctx)
        assert c.ehlo("client.test")[0] == 250
    instance.wait_log(r"warning: smtpd_tls_req_ccert = yes is ignored: it "
                      r"needs smtpd_tls_security_level = encrypt")


@pytest.mark.parametrize("preempt,chosen", [("yes", GCM), ("no", GCM128)])
def test_preempt_cipherlist(instance, mail_owner, certs, preempt, chosen):
    """tls_preempt_cipherlist = yes (Panacea's default) picks smtpd's
    first choice (AES-256) over the client's (AES-128); no honours the
    client's order."""
    port = smtpd(instance, mail_owner, certs, tls_preempt_cipherlist=preempt)
    ok, text = s_client(instance, port, "-tls1_2", "-cipher",
                        GCM128 + ":" + GCM)
    assert ok and "Ciphersuite: " + chosen in text, text
