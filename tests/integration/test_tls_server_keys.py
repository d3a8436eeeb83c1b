"""smtpd's keys and key exchange (issue 16): tls_ssl_options,
tls_eecdh_auto_curves and smtpd_tls_eecdh_grade,
smtpd_tls_dh1024_param_file, smtpd_tls_chain_files, RSA and ECDSA
certificates side by side (smtpd_tls_eccert_file), smtpd_tls_CApath.

The peer is `openssl s_client -starttls smtp`: it can offer exactly one
curve, signature algorithm or cipher, and says what it got.  The
certificates are made by openssl once for the module: the test CA (server
RSA and ECDSA certificates, a client certificate), and a second root with
an intermediate CA whose leaf only verifies when smtpd sends the
intermediate along.
"""

import os
import re
import smtplib
import socket
import subprocess

import pytest

from panacea_test import program
from smtp_helpers import (MYHOSTNAME, client_tls_context,  # noqa: F401
                          mail_owner, make_tls, smtpd_setup)

pytestmark = pytest.mark.skipif(
    not all(os.access(program(p), os.X_OK) for p in ("master", "smtpd")),
    reason="master or smtpd is not built")


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True,
                   capture_output=True, timeout=60)


def cat(out, *paths):
    with open(out, "w") as f:
        for p in paths:
            with open(p) as g:
                f.write(g.read())
    os.chmod(out, 0o600)
    return out


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("tlskeys"))
    files = make_tls(d)
    j = lambda n: os.path.join(d, n)  # noqa: E731
    with open(j("san.cnf"), "w") as f:
        f.write("subjectAltName=DNS:%s\n" % MYHOSTNAME)
    with open(j("ca.cnf"), "w") as f:
        f.write("basicConstraints=critical,CA:TRUE\n"
                "keyUsage=critical,keyCertSign,cRLSign\n")

    def leaf(name, newkey, ca, ca_key, cn=MYHOSTNAME, ext="san.cnf"):
        openssl("req", "-newkey", newkey[0], *newkey[1:], "-nodes",
                "-subj", "/CN=" + cn, "-keyout", j(name + ".key"),
                "-out", j(name + ".csr"))
        openssl("x509", "-req", "-in", j(name + ".csr"), "-CA", ca,
                "-CAkey", ca_key, "-CAcreateserial", "-days", "2",
                "-extfile", j(ext), "-out", j(name + ".pem"))
        os.chmod(j(name + ".key"), 0o600)
        return j(name + ".pem"), j(name + ".key")

    ec = ("ec", "-pkeyopt", "ec_paramgen_curve:prime256v1")
    files["eccert"], files["eckey"] = leaf("ecdsa", ec, files["ca"],
                                           j("ca.key"))
    # ECDSA keys where the type does not matter: made in no time, where
    # an RSA key takes up to a second.
    files["ccert"], files["ckey"] = leaf("client", ec, files["ca"],
                                         j("ca.key"), cn="client.test")
    # root2 -> intermediate -> leaf
    openssl("req", "-x509", "-newkey", *ec, "-nodes", "-days", "2",
            "-subj", "/CN=Panacea Test Root 2", "-keyout", j("root2.key"),
            "-out", j("root2.pem"))
    leaf("inter", ec, j("root2.pem"), j("root2.key"),
         cn="Panacea Test Intermediate", ext="ca.cnf")
    leaf("chained", ec, j("inter.pem"), j("inter.key"))
    files["root2"] = j("root2.pem")
    # A certificate for SNI: sni.example and its subdomains.
    with open(j("sni.cnf"), "w") as f:
        f.write("subjectAltName=DNS:sni.example,DNS:*.sni.example\n")
    leaf("sni", ec, files["ca"], j("ca.key"), cn="sni.example",
         ext="sni.cnf")
    files["sni_chain"] = cat(j("sni_chain.pem"), j("sni.key"), j("sni.pem"))
    files["chain"] = cat(j("chain.pem"), j("chained.key"), j("chained.pem"),
                         j("inter.pem"))
    # RSA and ECDSA in one list of chain files, the key of each first.
    files["rsa_chain"] = cat(j("rsa_chain.pem"), files["key"], files["cert"])
    files["ec_chain"] = cat(j("ec_chain.pem"), files["eckey"],
                            files["eccert"])
    files["cert_first"] = cat(j("cert_first.pem"), files["cert"],
                              files["key"])
    # A CA directory holding the test CA (no hash links) and a README.
    os.makedirs(j("cadir"))
    cat(j("cadir/test-ca.pem"), files["ca"])
    with open(j("cadir/README"), "w") as f:
        f.write("not a certificate\n")
    os.makedirs(j("emptydir"))
    files["cadir"], files["emptydir"] = j("cadir"), j("emptydir")
    openssl("genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt",
            "dh_param:ffdhe3072", "-out", j("dh3072.pem"))
    openssl("genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt",
            "dh_rfc5114:1", "-out", j("dh1024.pem"))
    files["dh3072"], files["dh1024"] = j("dh3072.pem"), j("dh1024.pem")
    for name in ("ca", "root2", "ccert", "dh3072", "dh1024"):
        os.chmod(files[name], 0o644)
    os.chmod(j("cadir/test-ca.pem"), 0o644)
    return files


def smtpd(instance, owner, certs, cert=True, **conf):
    base = {"smtpd_tls_security_level": "may", "smtpd_tls_loglevel": "1"}
    if cert:
        base.update({"smtpd_tls_cert_file": certs["cert"],
                     "smtpd_tls_key_file": certs["key"]})
    base.update(conf)
    return smtpd_setup(instance, owner, conf=base, auth=False)


def s_client(instance, port, *args, servername=MYHOSTNAME):
    """(ok, output) of one STARTTLS handshake by openssl s_client."""
    out = subprocess.run(
        ["openssl", "s_client", "-starttls", "smtp", "-connect",
         "%s:%d" % (instance.host, port), "-servername", servername,
         "-brief"] + list(args),
        input=b"QUIT\r\n", capture_output=True, timeout=30)
    text = (out.stdout + out.stderr).decode(errors="replace")
    return "CONNECTION ESTABLISHED" in text, text


def fatal_at_start(instance, port, message):
    with socket.create_connection((instance.host, port), timeout=10):
        instance.wait_log(r"smtpd\[\d+\]: fatal: " + message)


# -- tls_ssl_options ----------------------------------------------------

CHACHA = "ECDHE-RSA-CHACHA20-POLY1305"
GCM = "ECDHE-RSA-AES256-GCM-SHA384"


@pytest.mark.parametrize("options,chosen", [
    ("", GCM), ("prioritize_chacha", CHACHA), ("0x200000", CHACHA)])
def test_ssl_options_prioritize_chacha(instance, mail_owner, certs, options,
                                       chosen):
    """smtpd's own order puts AES-GCM first; with PRIORITIZE_CHACHA (by
    name, any case, or as OpenSSL's mask) a client that prefers
    ChaCha20 gets it."""
    port = smtpd(instance, mail_owner, certs, tls_ssl_options=options)
    ok, text = s_client(instance, port, "-tls1_2", "-cipher",
                        CHACHA + ":" + GCM)
    assert ok and "Ciphersuite: " + chosen in text, text


def test_ssl_options_protocol_bits_are_ignored(instance, mail_owner, certs):
    """A mask that would turn TLS 1.2 off (SSL_OP_NO_TLSv1_2) is dropped
    with a warning: the protocols are smtpd_tls_protocols' business."""
    port = smtpd(instance, mail_owner, certs, tls_ssl_options="0x08000000")
    ok, text = s_client(instance, port, "-tls1_2")
    assert ok, text
    instance.wait_log(r"warning: tls_ssl_options: ignoring mask bits "
                      r"0x8000000: protocols")


# -- curves -------------------------------------------------------------

def test_auto_curves_limit_the_groups(instance, mail_owner, certs):
    """tls_eecdh_auto_curves = secp384r1: a client offering only X25519
    is refused (TLS 1.3 and 1.2), one offering secp384r1 gets it.  An
    unknown name in the list is passed over with a warning."""
    port = smtpd(instance, mail_owner, certs,
                 tls_eecdh_auto_curves="nosuchcurve secp384r1")
    ok, text = s_client(instance, port, "-groups", "X25519")
    assert not ok, text
    ok, text = s_client(instance, port, "-tls1_2", "-groups", "X25519",
                        "-cipher", GCM)
    assert not ok, text
    ok, text = s_client(instance, port, "-groups", "X25519:secp384r1")
    assert ok and re.search(r"Server Temp Key: ECDH, secp384r1", text), text
    instance.wait_log(r"warning: tls_eecdh_auto_curves: skipping curves "
                      r"OpenSSL cannot use: nosuchcurve")


def test_default_curves_take_x25519(instance, mail_owner, certs):
    port = smtpd(instance, mail_owner, certs)
    ok, text = s_client(instance, port, "-groups", "X25519")
    assert ok and "Server Temp Key: X25519" in text, text


def test_eecdh_grade_is_auto(instance, mail_owner, certs):
    """As in Postfix 3.6 and later: strong is taken as auto, with a
    warning; the curves are still tls_eecdh_auto_curves'."""
    port = smtpd(instance, mail_owner, certs, smtpd_tls_eecdh_grade="strong",
                 tls_eecdh_auto_curves="secp521r1")
    ok, text = s_client(instance, port, "-groups", "prime256v1:secp521r1")
    assert ok and "Server Temp Key: ECDH, secp521r1" in text, text
    instance.wait_log(r"warning: smtpd_tls_eecdh_grade = strong is taken as "
                      r"auto")


# -- DH parameters ------------------------------------------------------

DHE = "DHE-RSA-AES256-GCM-SHA384"


@pytest.mark.parametrize("which,bits", [(None, 2048), ("auto", 2048),
                                        ("dh3072", 3072), ("dh1024", 2048)])
def test_dh_param_file(instance, mail_owner, certs, which, bits):
    """The DHE suites use the file's parameters (3072 bits); without one,
    or with "auto", OpenSSL's by the 2048-bit RSA key; a 1024-bit file is
    not used and a warning says so."""
    conf = {}
    if which is not None:
        conf["smtpd_tls_dh1024_param_file"] = certs.get(which, which)
    port = smtpd(instance, mail_owner, certs, **conf)
    ok, text = s_client(instance, port, "-tls1_2", "-cipher", DHE)
    assert ok and "Server Temp Key: DH, %d bits" % bits in text, text
    if which == "dh1024":
        instance.wait_log(r"warning: smtpd_tls_dh1024_param_file: \S+ has "
                          r"1024-bit parameters, fewer than 2048")


# -- certificates -------------------------------------------------------

def test_chain_file_sends_the_intermediate(instance, mail_owner, certs):
    """smtpd_tls_chain_files with key, leaf and intermediate: a client
    that trusts only the root verifies the chain; the same leaf without
    the intermediate (smtpd_tls_cert_file) does not verify."""
    port = smtpd(instance, mail_owner, certs, cert=False,
                 smtpd_tls_chain_files=certs["chain"])
    ok, text = s_client(instance, port, "-CAfile", certs["root2"],
                        "-verify_return_error", "-verify_hostname",
                        MYHOSTNAME)
    assert ok and "Verification: OK" in text, text
    out = subprocess.run(
        ["openssl", "s_client", "-starttls", "smtp", "-connect",
         "%s:%d" % (instance.host, port), "-showcerts"],
        input=b"QUIT\r\n", capture_output=True, timeout=30).stdout.decode()
    assert re.search(r" 1 s:CN ?= ?Panacea Test Intermediate", out), out


def test_cert_file_without_intermediate_fails_verification(instance,
                                                           mail_owner,
                                                           certs):
    d = os.path.dirname(certs["chain"])
    port = smtpd(instance, mail_owner, certs, cert=False,
                 smtpd_tls_cert_file=os.path.join(d, "chained.pem"),
                 smtpd_tls_key_file=os.path.join(d, "chained.key"))
    ok, text = s_client(instance, port, "-CAfile", certs["root2"],
                        "-verify_return_error")
    assert not ok and "unable to get local issuer certificate" in text, text


@pytest.mark.parametrize("how", ["files", "chain_files"])
def test_rsa_and_ecdsa_side_by_side(instance, mail_owner, certs, how):
    """With an RSA and an ECDSA certificate, a client that can verify
    only ECDSA signatures gets the ECDSA one, an RSA-only client the RSA
    one: by smtpd_tls_eccert_file/_eckey_file or by two chain files."""
    if how == "files":
        conf = {"smtpd_tls_eccert_file": certs["eccert"],
                "smtpd_tls_eckey_file": certs["eckey"]}
        port = smtpd(instance, mail_owner, certs, **conf)
    else:
        port = smtpd(instance, mail_owner, certs, cert=False,
                     smtpd_tls_chain_files="%s, %s" % (certs["rsa_chain"],
                                                      certs["ec_chain"]))
    ok, text = s_client(instance, port, "-sigalgs", "ECDSA+SHA256",
                        "-CAfile", certs["ca"], "-verify_return_error")
    assert ok and "Signature type: ECDSA" in text, text
    ok, text = s_client(instance, port, "-sigalgs", "RSA-PSS+SHA256",
                        "-CAfile", certs["ca"], "-verify_return_error")
    assert ok and "Signature type: RSA-PSS" in text, text


def test_chain_files_warn_about_ignored_cert_file(instance, mail_owner,
                                                  certs):
    port = smtpd(instance, mail_owner, certs,
                 smtpd_tls_chain_files=certs["chain"])
    ok, text = s_client(instance, port, "-CAfile", certs["root2"],
                        "-verify_return_error")
    assert ok, text
    instance.wait_log(r"warning: smtpd_tls_chain_files is set: ignoring "
                      r"smtpd_tls_cert_file")


# -- smtpd_tls_CApath ---------------------------------------------------

def test_capath_trusts_client_certificates(instance, mail_owner, certs):
    """A client certificate from a CA of smtpd_tls_CApath (a plain PEM
    file, no hash links, read before the chroot) makes a Trusted TLS
    connection; permit_tls_all_clientcerts then lets it relay."""
    port = smtpd(instance, mail_owner, certs, smtpd_tls_ask_ccert="yes",
                 smtpd_tls_CApath=certs["cadir"],
                 mynetworks="192.0.2.0/24",
                 smtpd_relay_restrictions="permit_tls_all_clientcerts, "
                                          "reject_unauth_destination")
    ctx = client_tls_context(certs["ca"])
    ctx.load_cert_chain(certs["ccert"], certs["ckey"])
    with smtplib.SMTP(instance.host, port, timeout=30) as c:
        c.starttls(context=ctx)
        c.ehlo("client.test")
        c.mail("alice@client.test")
        code, text = c.rcpt("someone@far.example")
    assert code == 250, text
    instance.wait_log(r"Trusted TLS connection established from ")


# -- start-up errors ----------------------------------------------------

@pytest.mark.parametrize("conf,message", [
    ({"tls_ssl_options": "NO_SUCH_OPTION"},
     r"tls_ssl_options: unknown TLS option \"NO_SUCH_OPTION\""),
    ({"tls_eecdh_auto_curves": "nosuch1 nosuch2"},
     r"tls_eecdh_auto_curves: no curve of \"nosuch1 nosuch2\" is known"),
    ({"smtpd_tls_eecdh_grade": "extreme"},
     r"smtpd_tls_eecdh_grade: unknown grade \"extreme\""),
    ({"smtpd_tls_dh1024_param_file": "@ca"},
     r"smtpd_tls_dh1024_param_file: \S+ holds no PEM DH parameters"),
    ({"smtpd_tls_chain_files": "@cert_first"},
     r"smtpd_tls_chain_files: PEM object 1: a certificate without a "
     r"private key before it"),
    ({"smtpd_tls_chain_files": "/nonexistent/chain.pem"},
     r"smtpd_tls_chain_files: cannot open /nonexistent/chain\.pem"),
    ({"smtpd_tls_chain_files": "@key"},
     r"smtpd_tls_chain_files: a private key is not followed by its "
     r"certificate"),
    ({"smtpd_tls_eccert_file": "@eccert", "smtpd_tls_eckey_file": "@key"},
     r"smtpd_tls_eccert_file: private key \S+ does not match"),
    ({"smtpd_tls_ask_ccert": "yes", "smtpd_tls_CApath": "@emptydir"},
     r"smtpd_tls_ask_ccert: no CA certificate found in directory"),
])
def test_bad_values_stop_smtpd(instance, mail_owner, certs, conf, message):
    conf = {k: certs[v[1:]] if v.startswith("@") else v
            for k, v in conf.items()}
    port = smtpd(instance, mail_owner, certs, **conf)
    fatal_at_start(instance, port, message)


# -- session tickets ----------------------------------------------------

def resumed(instance, port_out, port_in, sess, *args):
    """Whether a session saved from a handshake on port_out is resumed on
    port_in (openssl s_client -sess_out, then -sess_in)."""
    for port, opt in ((port_out, "-sess_out"), (port_in, "-sess_in")):
        if opt == "-sess_in" and not os.path.exists(sess):
            return False  # TLS 1.3 without a ticket: nothing to resume
        out = subprocess.run(
            ["openssl", "s_client", "-starttls", "smtp", "-connect",
             "%s:%d" % (instance.host, port), opt, sess,
             # Read to smtpd's close, so the TLS 1.3 ticket that follows
             # the handshake is in before the session is saved.
             "-ign_eof"] + list(args),
            input=b"QUIT\r\n", capture_output=True, timeout=30)
        text = (out.stdout + out.stderr).decode(errors="replace")
        assert "BEGIN CERTIFICATE" in text or "Reused" in text, text
    return re.search(r"^Reused, TLSv1\.[23]", text, re.M) is not None


@pytest.mark.parametrize("conf,tls12,reused", [
    ({}, False, True),
    ({}, True, True),
    # OpenSSL resumes where client certificates are asked for only with
    # a session id context.
    ({"smtpd_tls_ask_ccert": "yes"}, False, True),
    ({"smtpd_tls_session_cache_timeout": "0"}, False, False),
    ({"tls_session_ticket_cipher": ""}, False, False),
    ({"tls_ssl_options": "NO_TICKET"}, True, False),
])
def test_session_tickets_across_processes(instance, mail_owner, certs,
                                          tmp_path, conf, tls12, reused):
    """By default (as in Postfix) a session is resumed by its ticket, TLS
    1.3 or 1.2, also by another smtpd process (a second service sharing
    data_directory's secret); timeout 0, an empty ticket cipher or
    tls_ssl_options = NO_TICKET turn tickets off."""
    from smtp_helpers import smtpd_service
    other, line = smtpd_service(instance)
    port = smtpd_setup(instance, mail_owner, services=[line], auth=False,
                       conf=dict({"smtpd_tls_cert_file": certs["cert"],
                                  "smtpd_tls_key_file": certs["key"],
                                  "smtpd_tls_security_level": "may"},
                                 **conf))
    instance.wait_port(other)
    args = ["-tls1_2"] if tls12 else []
    assert resumed(instance, port, other, str(tmp_path / "sess"),
                   *args) == reused
    secret = os.path.join(instance.conf["data_directory"],
                          "smtpd_tls_ticket_secret")
    if reused:
        st = os.stat(secret)
        assert (st.st_mode & 0o777, st.st_size) == (0o600, 32)


def test_bad_ticket_cipher_stops_smtpd(instance, mail_owner, certs):
    port = smtpd(instance, mail_owner, certs,
                 tls_session_ticket_cipher="aes-256-gcm")
    fatal_at_start(instance, port, r"tls_session_ticket_cipher: "
                   r"\"aes-256-gcm\" is not a CBC cipher")


# -- tls_server_sni_maps ------------------------------------------------

def test_sni_selects_the_certificate(instance, mail_owner, certs):
    """A client asking for sni.example, or a name under it (the table's
    ".sni.example" key), gets that certificate, and the summary line
    names it; another name gets the default certificate and a log
    line."""
    table = os.path.join(instance.base, "sni")
    with open(table, "w") as f:
        f.write("sni.example %s\n.sni.example %s\n"
                % (certs["sni_chain"], certs["sni_chain"]))
    os.chmod(table, 0o644)
    port = smtpd(instance, mail_owner, certs,
                 tls_server_sni_maps="texthash:" + table)
    for name in ("sni.example", "mx.sni.example"):
        ok, text = s_client(instance, port, "-CAfile", certs["ca"],
                            "-verify_return_error", "-verify_hostname",
                            name, servername=name)
        assert ok and "Peer certificate: CN = sni.example" in text, text
    instance.wait_log(r"Anonymous TLS connection established from "
                      r"\S+ to mx\.sni\.example: TLSv1\.3")
    ok, text = s_client(instance, port, servername="other.example")
    assert ok and "Peer certificate: CN = %s" % MYHOSTNAME in text, text
    instance.wait_log(r"TLS SNI other\.example not matched, using the "
                      r"default certificate")


def test_sni_chain_error_stops_smtpd(instance, mail_owner, certs):
    table = os.path.join(instance.base, "sni")
    with open(table, "w") as f:
        f.write("sni.example %s\n" % certs["cert"])
    os.chmod(table, 0o644)
    port = smtpd(instance, mail_owner, certs,
                 tls_server_sni_maps="texthash:" + table)
    fatal_at_start(instance, port, r"tls_server_sni_maps: \S+/sni:1: PEM "
                   r"object 1: a certificate without a private key")
