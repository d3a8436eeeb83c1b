"""smtpd STARTTLS, implicit TLS and AUTH, with real clients.

The CA and the server certificate are made by openssl when the module
starts; the users live in a sasldb made by saslpasswd2 in each test's
folder.  As root, smtpd reads both before it chroots to the queue
directory and drops to mail_owner.
"""

import base64
import re
import smtplib
import ssl
import subprocess
import time

import pytest

import panacea_test
from panacea_test import scaled, unless_built
from smtp_helpers import (MYHOSTNAME, Session, check_received,  # noqa: F401
                          client_tls_context, mail_owner, make_tls,
                          other_loopback, pancat, queue_ids, queued_id,
                          sasl_auth_conf, smtpd_service, smtpd_setup,
                          stored_message)

pytestmark = unless_built("master", "smtpd", "pancat")

ROOT = "root@" + MYHOSTNAME
USERS = {"alice": "wonder land", "bob": "s3cret!"}
MSG = (b"From: alice@example.org\r\nTo: root@panacea.test\r\n"
       b"Subject: over TLS\r\n\r\nsecret body\r\n")


def b64(data):
    return base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def ctx(tls_files):
    return client_tls_context(tls_files["ca"])


def tls_conf(tls_files, **more):
    conf = {"smtpd_tls_cert_file": tls_files["cert"],
            "smtpd_tls_key_file": tls_files["key"],
            "smtpd_tls_security_level": "may",
            # The tests check the TLS line of Received: (Postfix: off
            # by default).
            "smtpd_tls_received_header": "yes",
            "smtpd_tls_loglevel": "1"}
    conf.update(more)
    return conf


def auth_conf(inst, **more):
    """A sasldb with USERS in inst's folder, and AUTH on."""
    return sasl_auth_conf(inst, USERS, **more)


@pytest.fixture
def tls_smtpd(instance, mail_owner, tls_files):
    conf = tls_conf(tls_files)
    conf.update(auth_conf(instance))
    return instance, smtpd_setup(instance, mail_owner, conf=conf)


def test_starttls_with_smtplib(tls_smtpd, ctx):
    inst, port = tls_smtpd
    with smtplib.SMTP(inst.host, port, local_hostname="client.test",
                      timeout=scaled(15)) as c:
        c.ehlo()
        assert c.has_extn("starttls")
        code, _ = c.starttls(context=ctx)
        assert code == 220
        c.ehlo()
        # RFC 3207 4.2: not offered again once TLS is on.
        assert not c.has_extn("starttls")
        assert c.has_extn("auth")
        assert c.sendmail("alice@example.org", [ROOT], MSG) == {}
        version = c.sock.version()
    m = inst.wait_log(r"(\w+): from=<alice@example\.org>, size=")
    qid = m.group(1)
    header, rest = stored_message(inst, qid)
    assert rest == MSG
    check_received(header, helo="client.test", addr="127.0.0.1",
                   queue_id=qid, proto="ESMTPS", rcpt=ROOT, tls=True)
    assert ("(using %s with cipher " % version).encode() in header
    assert "protocol_name: ESMTPS\n" in pancat(inst, qid, "-e").decode()
    inst.wait_log(r"Anonymous TLS connection established from "
                  r"localhost\[127\.0\.0\.1\]: TLSv1\.[23] with cipher \S+")
    inst.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] ehlo=2 "
                  r"starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7")


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
def test_auth_over_tls_with_smtplib(tls_smtpd, ctx, mech):
    inst, port = tls_smtpd
    with smtplib.SMTP(inst.host, port, local_hostname="client.test",
                      timeout=scaled(15)) as c:
        c.starttls(context=ctx)
        c.ehlo()
        assert mech in c.esmtp_features["auth"].split()
        c.user, c.password = "alice", USERS["alice"]
        code, text = c.auth(mech, getattr(c, "auth_" + mech.lower()),
                            initial_response_ok=(mech == "PLAIN"))
        assert (code, text) == (235, b"2.7.0 Authentication successful")
        # Authenticated: relaying is allowed.
        assert c.sendmail("alice@example.org", ["friend@remote.example"],
                          MSG) == {}
    m = inst.wait_log(r"(\w+): client=localhost\[127\.0\.0\.1\], "
                      r"sasl_method=%s, sasl_username=alice\n" % mech)
    qid = m.group(1)
    header, rest = stored_message(inst, qid)
    assert rest == MSG
    check_received(header, helo="client.test", addr="127.0.0.1",
                   queue_id=qid, proto="ESMTPSA",
                   rcpt="friend@remote.example", tls=True)
    env = pancat(inst, qid, "-e").decode()
    assert "sasl_username: alice\n" in env
    assert "protocol_name: ESMTPSA\n" in env


def test_auth_plain_and_login_by_hand(tls_smtpd):
    """Loopback clients may use plaintext mechanisms without TLS."""
    inst, port = tls_smtpd
    with Session(inst.host, port) as s:
        r = s.expect("EHLO client.test", 250)
        auth = [line for line in r.lines if line.startswith("AUTH ")]
        assert auth and {"PLAIN", "LOGIN"} <= set(auth[0].split()[1:])
        # LOGIN: 334 challenges, "*" cancels.
        s.expect("AUTH LOGIN", 334, "^%s$" % b64(b"Username:"))
        s.expect(b64(b"alice"), 334, "^%s$" % b64(b"Password:"))
        s.expect("*", 501, r"^5\.7\.0 Authentication aborted$")
        # Cancelled at the first challenge too; then PLAIN without an
        # initial response.
        s.expect("AUTH LOGIN", 334)
        s.expect("*", 501)
        s.expect("AUTH PLAIN", 334, "^$")
        s.expect(b64(b"\0bob\0" + USERS["bob"].encode()), 235,
                 r"^2\.7\.0 Authentication successful$")
        s.expect("AUTH PLAIN " + b64(b"\0bob\0x"), 503, r"^5\.5\.1 ")
        s.expect("MAIL FROM:<bob@example.org> AUTH=<>", 250)
        s.expect("RCPT TO:<someone@remote.example>", 250)
        s.expect("DATA", 354)
        s.send(MSG + b".\r\n")
        qid = queued_id(s.reply())
        s.expect("QUIT", 221)
    header, rest = stored_message(inst, qid)
    assert rest == MSG
    check_received(header, helo="client.test", addr="127.0.0.1",
                   queue_id=qid, proto="ESMTPA",
                   rcpt="someone@remote.example")
    inst.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] ehlo=1 "
                  r"auth=1/4 mail=1 rcpt=1 data=1 quit=1 commands=6/9")


def test_auth_wrong_password_535_then_right_one(tls_smtpd):
    inst, port = tls_smtpd
    with Session(inst.host, port) as s:
        s.expect("EHLO client.test", 250)
        start = time.monotonic()
        s.expect("AUTH PLAIN " + b64(b"\0alice\0wrong"), 535,
                 r"^5\.7\.8 Error: authentication failed: ")
        s.expect("AUTH LOGIN " + b64(b"alice"), 334)
        s.expect(b64(b"also wrong"), 535, r"^5\.7\.8 ")
        s.expect("AUTH PLAIN " + b64(b"\0nobody\0wonder land"), 535)
        # The delay grows with each failure (1 + 2 + 3 seconds).
        assert time.monotonic() - start >= 5
        # Nothing of a failed exchange survives (CVE-2011-1720).
        s.expect("AUTH PLAIN " + b64(b"\0alice\0wonder land"), 235)
        s.expect("QUIT", 221)
    # Postfix 3's shape: the name each failed exchange tried.
    for mech, user in (("PLAIN", "alice"), ("LOGIN", "alice"),
                       ("PLAIN", "nobody")):
        inst.wait_log(r"warning: localhost\[127\.0\.0\.1\]: SASL %s "
                      r"authentication failed: [^\n]*, sasl_username=%s\n"
                      % (mech, user))
    inst.wait_log(r"auth=1/4 quit=1 commands=3/6")


def test_auth_edge_cases(tls_smtpd):
    inst, port = tls_smtpd
    with Session(inst.host, port) as s:
        s.expect("HELO client.test", 250)
        # AUTH is an ESMTP extension.
        s.expect("AUTH PLAIN " + b64(b"\0alice\0wonder land"), 503)
        s.expect("EHLO client.test", 250)
        s.expect("AUTH NOSUCHMECH", 504, r"^5\.5\.4 ")
        s.expect("AUTH PLAIN not-base64!", 501, r"^5\.5\.[24] ")
        s.expect("AUTH PLAIN AAAA=A==", 501, r"^5\.5\.[24] ")
        s.expect("AUTH LOGIN", 334)
        s.expect("not base64 either!", 501, r"^5\.5\.2 ")
        # "=" is an empty initial response: PLAIN fails on it.
        s.expect("AUTH PLAIN =", 535)
        s.expect("MAIL FROM:<a@example.org>", 250)
        s.expect("AUTH PLAIN " + b64(b"\0alice\0wonder land"), 503,
                 r"transaction")
        s.expect("RSET", 250)
        s.expect("AUTH PLAIN " + b64(b"\0alice\0wonder land"), 235)
        # EHLO again: AUTH is not offered, but AUTH= is still understood.
        r = s.expect("EHLO client.test", 250)
        assert not any(x.startswith("AUTH") for x in r.lines)
        s.expect("AUTH PLAIN " + b64(b"\0alice\0wonder land"), 503,
                 r"already authenticated")
        s.expect("MAIL FROM:<a@example.org> AUTH=<>", 250)
        s.expect("RCPT TO:<x@remote.example>", 250)
        s.expect("QUIT", 221)


def test_auth_allows_relay_for_a_stranger(instance, mail_owner):
    client = other_loopback(instance, avoid=("127.0.0.1",))
    conf = auth_conf(instance, mynetworks="127.0.0.1/32")
    port = smtpd_setup(instance, mail_owner, conf=conf)
    with Session(instance.host, port, source=client) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<alice@example.org>", 250)
        s.expect("RCPT TO:<pea@dma.org>", 454,
                 r"^4\.7\.1 <pea@dma\.org>: Relay access denied$")
        s.expect("RSET", 250)
        s.expect("AUTH PLAIN " + b64(b"\0alice\0wonder land"), 235)
        s.expect("MAIL FROM:<alice@example.org>", 250)
        s.expect("RCPT TO:<pea@dma.org>", 250)
        s.expect("DATA", 354)
        s.send(MSG + b".\r\n")
        qid = queued_id(s.reply())
    env = pancat(instance, qid, "-e").decode()
    assert "recipient: pea@dma.org\n" in env
    assert "sasl_username: alice\n" in env


def test_sasldb_user_is_a_local_recipient(instance, mail_owner):
    port = smtpd_setup(instance, mail_owner, conf=auth_conf(instance))
    with Session(instance.host, port) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<a@example.org>", 250)
        s.expect("RCPT TO:<alice@%s>" % MYHOSTNAME, 250)
        s.expect("RCPT TO:<carol@%s>" % MYHOSTNAME, 550)


def test_swaks_starttls_and_auth(tls_smtpd):
    inst, port = tls_smtpd
    r = subprocess.run([panacea_test.tool("swaks", "swaks"), "--server", "%s:%d" % (inst.host, port),
                        "--helo", "swaks.test", "--from",
                        "alice@example.org", "--to",
                        "friend@remote.example", "--tls", "--auth",
                        "LOGIN", "--auth-user", "alice", "--auth-password",
                        USERS["alice"], "--header", "Subject: swaks tls",
                        "--body", "Sent by swaks over TLS.",
                        "--timeout", "20"],
                       capture_output=True, text=True, timeout=scaled(60))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "<~  235 2.7.0 Authentication successful" in r.stdout
    m = re.search(r"<~  250 2\.0\.0 Ok: queued as (\w+)", r.stdout)
    assert m, r.stdout
    qid = m.group(1)
    header, rest = stored_message(inst, qid)
    check_received(header, helo="swaks.test", addr="127.0.0.1",
                   queue_id=qid, proto="ESMTPSA",
                   rcpt="friend@remote.example", tls=True)
    assert b"Subject: swaks tls\r\n" in rest
    assert b"\r\n\r\nSent by swaks over TLS.\r\n" in rest


def test_starttls_discards_pipelined_plaintext(tls_smtpd, ctx):
    """CVE-2011-0411: what follows STARTTLS in the same packet is never
    executed as if it came over TLS."""
    inst, port = tls_smtpd
    with Session(inst.host, port) as s:
        s.expect("EHLO client.test", 250)
        s.send(b"STARTTLS\r\nHELP\r\nMAIL FROM:<evil@example.org>\r\n")
        r = s.reply()
        assert (r.code, r.text) == (220, "2.0.0 Ready to start TLS")
        s.starttls(ctx)
        # The first reply over TLS answers the first command over TLS.
        s.expect("NOOP", 250, r"^2\.0\.0 Ok$")
        s.expect("RCPT TO:<%s>" % ROOT, 503, r"need MAIL")
        s.expect("QUIT", 221)
    inst.wait_log(r"disconnect from .* ehlo=1 starttls=1 rcpt=0/1 "
                  r"noop=1 quit=1 commands=4/5")


def test_starttls_resets_the_session(tls_smtpd, ctx):
    inst, port = tls_smtpd
    with Session(inst.host, port) as s:
        s.expect("EHLO client.test", 250)
        s.expect("AUTH PLAIN " + b64(b"\0alice\0wonder land"), 235)
        s.expect("MAIL FROM:<alice@example.org>", 250)
        s.expect("STARTTLS", 220)
        s.starttls(ctx)
        # The transaction and the authentication are forgotten.
        s.expect("RCPT TO:<%s>" % ROOT, 503)
        r = s.expect("EHLO client.test", 250)
        assert "STARTTLS" not in r.lines
        assert any(line.startswith("AUTH ") for line in r.lines)
        s.expect("MAIL FROM:<alice@example.org>", 250)
        s.expect("RCPT TO:<friend@remote.example>", 250)
        s.expect("DATA", 354)
        s.send(MSG + b".\r\n")
        qid = queued_id(s.reply())
        s.expect("STARTTLS", 502, r"^5\.5\.1 ")
    header, _ = stored_message(inst, qid)
    # 127.0.0.1 is in mynetworks: relay is allowed, but not as alice.
    check_received(header, helo="client.test", addr="127.0.0.1",
                   queue_id=qid, proto="ESMTPS",
                   rcpt="friend@remote.example", tls=True)
    assert "sasl_username" not in pancat(inst, qid, "-e").decode()


def test_implicit_tls_wrappermode(instance, mail_owner, tls_files, ctx):
    port465, line = smtpd_service(
        instance, "-o smtpd_tls_wrappermode=yes")
    conf = tls_conf(tls_files)
    conf.update(auth_conf(instance))
    smtpd_setup(instance, mail_owner, conf=conf, services=[line])
    instance.wait_port(port465)
    with smtplib.SMTP_SSL(instance.host, port465, context=ctx,
                          local_hostname="client.test",
                          timeout=scaled(15)) as c:
        c.ehlo()
        assert not c.has_extn("starttls")
        c.login("alice", USERS["alice"])
        assert c.sendmail("alice@example.org", [ROOT], MSG) == {}
    m = instance.wait_log(r"(\w+): from=<alice@example\.org>")
    qid = m.group(1)
    header, rest = stored_message(instance, qid)
    assert rest == MSG
    check_received(header, helo="client.test", addr="127.0.0.1",
                   queue_id=qid, proto="ESMTPSA", rcpt=ROOT, tls=True)


def test_wrappermode_refuses_plaintext_client(instance, mail_owner,
                                              tls_files):
    port465, line = smtpd_service(
        instance, "-o smtpd_tls_wrappermode=yes")
    smtpd_setup(instance, mail_owner, conf=tls_conf(tls_files),
                services=[line])
    instance.wait_port(port465)
    with Session(instance.host, port465, greet=False) as s:
        s.send(b"EHLO client.test\r\n")
        assert s.eof()
    instance.wait_log(r"TLS handshake failed for localhost\[127\.0\.0\.1\]")


def test_submission_requires_auth(instance, mail_owner, tls_files, ctx):
    sub_port, line = smtpd_service(
        instance, "-o smtpd_sasl_auth_enable=yes "
        "-o smtpd_sasl_auth_required=yes")
    conf = tls_conf(tls_files)
    conf.update(auth_conf(instance, smtpd_sasl_auth_enable="no"))
    port = smtpd_setup(instance, mail_owner, conf=conf, services=[line])
    instance.wait_port(sub_port)
    # The smtp service has no AUTH at all.
    with Session(instance.host, port) as s:
        r = s.expect("EHLO client.test", 250)
        assert not any(x.startswith("AUTH") for x in r.lines)
    with Session(instance.host, sub_port) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<alice@example.org>", 530,
                 r"^5\.7\.0 Authentication required$")
        s.expect("STARTTLS", 220)
        s.starttls(ctx)
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<alice@example.org>", 530, r"^5\.7\.0 ")
        s.expect("AUTH PLAIN " + b64(b"\0alice\0wonder land"), 235)
        s.expect("MAIL FROM:<alice@example.org>", 250)
        s.expect("RCPT TO:<friend@remote.example>", 250)
        s.expect("DATA", 354)
        s.send(MSG + b".\r\n")
        qid = queued_id(s.reply())
    assert "sasl_username: alice\n" in pancat(instance, qid, "-e").decode()


def test_tls_security_level_encrypt(instance, mail_owner, tls_files, ctx):
    port = smtpd_setup(instance, mail_owner, conf=tls_conf(
        tls_files, smtpd_tls_security_level="encrypt"))
    with Session(instance.host, port) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<a@example.org>", 530,
                 r"^5\.7\.0 Must issue a STARTTLS command first$")
        s.expect("STARTTLS", 220)
        s.starttls(ctx)
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<a@example.org>", 250)


def test_tls_auth_only_hides_auth_before_tls(instance, mail_owner,
                                             tls_files, ctx):
    conf = tls_conf(tls_files, smtpd_tls_auth_only="yes")
    conf.update(auth_conf(instance))
    port = smtpd_setup(instance, mail_owner, conf=conf)
    with Session(instance.host, port) as s:
        r = s.expect("EHLO client.test", 250)
        assert not any(x.startswith("AUTH") for x in r.lines)
        s.expect("AUTH PLAIN " + b64(b"\0alice\0wonder land"), 503)
        s.expect("STARTTLS", 220)
        s.starttls(ctx)
        r = s.expect("EHLO client.test", 250)
        assert any(x.startswith("AUTH") for x in r.lines)
        s.expect("AUTH PLAIN " + b64(b"\0alice\0wonder land"), 235)


def test_tls_handshake_failure_is_logged(tls_smtpd):
    inst, port = tls_smtpd
    with Session(inst.host, port) as s:
        s.expect("EHLO client.test", 250)
        s.expect("STARTTLS", 220)
        s.send(b"this is not a TLS client hello\r\n" * 4)
        assert s.eof()
    inst.wait_log(r"TLS handshake failed for localhost\[127\.0\.0\.1\]")
    assert queue_ids(inst) == []



def test_starttls_timeout_bounds_the_handshake(instance, mail_owner,
                                              tls_files, ctx):
    """A client that sends STARTTLS and then nothing is dropped after
    smtpd_starttls_timeout, not smtpd_timeout; after a handshake the
    dialogue has smtpd_timeout again."""
    port = smtpd_setup(instance, mail_owner, conf=tls_conf(
        tls_files, smtpd_timeout="60s", smtpd_starttls_timeout="2s"))
    with Session(instance.host, port) as s:
        s.expect("EHLO client.test", 250)
        s.expect("STARTTLS", 220)
        start = time.monotonic()
        assert s.eof(timeout=30)
        assert time.monotonic() - start < scaled(20)
    instance.wait_log(r"TLS handshake failed for localhost\[127\.0\.0\.1\]")
    with Session(instance.host, port) as s:
        s.expect("EHLO client.test", 250)
        s.expect("STARTTLS", 220)
        s.starttls(ctx)
        time.sleep(3)
        s.expect("EHLO client.test", 250)
        s.expect("QUIT", 221)


@pytest.mark.parametrize("header", ["yes", "no"])
def test_sasl_authenticated_header(instance, mail_owner, tls_files, header):
    """smtpd_sasl_authenticated_header names the login in Received:."""
    conf = tls_conf(tls_files, smtpd_sasl_authenticated_header=header)
    conf.update(auth_conf(instance))
    port = smtpd_setup(instance, mail_owner, conf=conf)
    with Session(instance.host, port) as s:
        s.expect("EHLO client.test", 250)
        s.expect("AUTH PLAIN " + b64(b"\0alice\0wonder land"), 235)
        qid = s.send_message("alice@example.org", [ROOT], MSG.replace(
            b"secret body\r\n", b"secret body\r\n.\r\n"))
    header_bytes, _ = stored_message(instance, qid)
    named = b"(Authenticated sender: alice)" in header_bytes
    assert named == (header == "yes"), header_bytes

@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_tls_1_1_is_refused(tls_smtpd, tls_files):
    """The server, not only this client's OpenSSL policy, says no."""
    inst, port = tls_smtpd
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(tls_files["ca"])
    ctx.check_hostname = False
    try:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.options &= ~ssl.OP_NO_TLSv1_1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    except (ValueError, ssl.SSLError):
        pytest.skip(panacea_test.ENVIRONMENT +
                    "this OpenSSL cannot speak TLS 1.1")
    with Session(inst.host, port) as s:
        s.expect("EHLO client.test", 250)
        s.expect("STARTTLS", 220)
        with pytest.raises((ssl.SSLError, OSError)):
            s.starttls(ctx)
    inst.wait_log(r"TLS handshake failed for localhost\[127\.0\.0\.1\]: "
                  r".*(unsupported protocol|version)")


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
def test_auth_service_speaks_dovecot(instance, mail_owner, tls_files, ctx,
                                     mech):
    """smtpd_sasl_type = dovecot with smtpd_sasl_path = private/auth:
    smtpd speaks Dovecot's protocol to Panacea's own auth service, which
    answers it (auth/auth_dovecot_server.c) from the same sasldb: one
    client for both servers."""
    conf = tls_conf(tls_files, smtpd_sasl_type="dovecot",
                    smtpd_sasl_path="private/auth")
    conf.update(auth_conf(instance))
    port = smtpd_setup(instance, mail_owner, conf=conf)
    with smtplib.SMTP(instance.host, port, local_hostname="client.test",
                      timeout=scaled(15)) as c:
        c.starttls(context=ctx)
        c.ehlo()
        assert {"PLAIN", "LOGIN"} <= set(c.esmtp_features["auth"].split())
        c.user, c.password = "alice", "wrong"
        with pytest.raises(smtplib.SMTPAuthenticationError) as e:
            c.auth(mech, getattr(c, "auth_" + mech.lower()),
                   initial_response_ok=(mech == "PLAIN"))
        assert e.value.smtp_code == 535
        c.password = USERS["alice"]
        code, text = c.auth(mech, getattr(c, "auth_" + mech.lower()),
                            initial_response_ok=(mech == "PLAIN"))
        assert (code, text) == (235, b"2.7.0 Authentication successful")
        assert c.sendmail("alice@example.org", ["friend@remote.example"],
                          MSG) == {}
    instance.wait_log(r"client=localhost\[127\.0\.0\.1\], "
                      r"sasl_method=%s, sasl_username=alice\n" % mech)
