"""smtpd: sessions typed by hand, smtplib, swaks; what is queued; replies.

Each test starts a real master with smtpd (chrooted to the queue
directory and running as mail_owner when the tests run as root) on its
own loopback address, talks to it over a real socket, and reads every
accepted message back from the queue with pancat, byte for byte.

Relay control, smuggling, TLS and AUTH have their own files
(test_smtpd_relay.py, test_smtpd_data.py, test_smtpd_tls_auth.py).
"""

import os
import re
import smtplib
import subprocess
import time

import pytest

import panacea_test
from panacea_test import Instance, open_path, program, scaled, unless_built
from smtp_helpers import (MYHOSTNAME, TALK_DATA, Session,  # noqa: F401
                          check_received,
                          mail_owner, pancat, queue_ids, queued_id,
                          other_loopback, smtpd_service, smtpd_setup,
                          stored_message, wait_committed)

pytestmark = unless_built("master", "smtpd", "pancat")

ROOT = "root@" + MYHOSTNAME


@pytest.fixture
def smtpd(instance, mail_owner):
    """A running instance with smtpd; returns (instance, port)."""
    return instance, smtpd_setup(instance, mail_owner)


def configured(instance, owner, **conf):
    """Starts smtpd with extra parameters; returns the port."""
    return smtpd_setup(instance, owner, conf={k: str(v)
                                              for k, v in conf.items()})


def test_hand_typed_session_is_queued_byte_for_byte(smtpd):
    inst, port = smtpd
    with Session(inst.host, port) as s:
        assert s.greeting.code == 220
        assert s.greeting.text == "%s ESMTP Panacea" % MYHOSTNAME
        s.expect("helo schrodinger.canonical.org", 250, "^%s$" % MYHOSTNAME)
        s.expect("mail from: <paulv@canonical.org>", 250, r"^2\.1\.0 Ok$")
        s.expect("rcpt to: <%s>" % ROOT, 250, r"^2\.1\.5 Ok$")
        s.expect("data", 354, r"^End data with <CR><LF>\.<CR><LF>$")
        s.send(TALK_DATA + b".\r\n")
        qid = queued_id(s.reply())
        s.expect("quit", 221, r"^2\.0\.0 Bye$")
        assert s.eof()
    header, rest = stored_message(inst, qid)
    assert rest == TALK_DATA
    check_received(header, helo="schrodinger.canonical.org",
                   addr="127.0.0.1", queue_id=qid, proto="SMTP", rcpt=ROOT)
    # Postfix's size= is the message as queued, Received: included.
    log = wait_committed(inst, qid)
    assert log.endswith("from=<paulv@canonical.org>, size=%d, nrcpt=1"
                        % (len(header) + len(TALK_DATA)))
    env = pancat(inst, qid, "-e").decode()
    assert "sender: paulv@canonical.org\n" in env
    assert "recipient: %s\n" % ROOT in env
    assert "helo_name: schrodinger.canonical.org\n" in env
    assert "protocol_name: SMTP\n" in env
    assert "client_address: 127.0.0.1\n" in env
    assert "message_size: %d\n" % (len(header) + len(TALK_DATA)) in env


def test_client_names(smtpd):
    """Client names come from /etc/hosts, then DNS, never DNS for loopback
    (lib/mail/peer_name.h): 127.0.0.1 is "localhost" (its /etc/hosts
    name), another 127.x "unknown" in the log lines and Received:."""
    inst, port = smtpd
    other = other_loopback(inst, avoid=("127.0.0.1",))
    assert panacea_test.peer_name("127.0.0.1") == "localhost"
    assert panacea_test.peer_name(other) == "unknown"
    for src, name in (("127.0.0.1", "localhost"), (other, "unknown")):
        with Session(inst.host, port, source=src) as s:
            s.expect("EHLO client.test", 250)
            s.expect("MAIL FROM:<a@example.org>", 250)
            s.expect("RCPT TO:<%s>" % ROOT, 250)
            s.expect("DATA", 354)
            s.send(TALK_DATA + b".\r\n")
            qid = queued_id(s.reply())
            s.expect("QUIT", 221)
        who = r"%s\[%s\]" % (name, re.escape(src))
        inst.wait_log(r"smtpd\[\d+\]: connect from %s\n" % who)
        inst.wait_log(r"%s: client=%s\n" % (qid, who))
        inst.wait_log(r"disconnect from %s ehlo=1" % who)
        header, _ = stored_message(inst, qid)
        check_received(header, helo="client.test", addr=src, name=name,
                       queue_id=qid, proto="ESMTP", rcpt=ROOT)


def test_client_names_off(instance, mail_owner):
    """smtpd_peername_lookup=no: every client is "unknown", as in
    Postfix, 127.0.0.1 included."""
    port = configured(instance, mail_owner, smtpd_peername_lookup="no")
    with Session(instance.host, port, source="127.0.0.1") as s:
        s.expect("EHLO client.test", 250)
        s.expect("QUIT", 221)
    instance.wait_log(r"disconnect from unknown\[127\.0\.0\.1\] ehlo=1")
    assert not instance.log_count(r"localhost\[")


def test_log_lines_of_a_session(smtpd):
    inst, port = smtpd
    with Session(inst.host, port) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<a@example.org>", 250)
        s.expect("RCPT TO:<nobody-here@%s>" % MYHOSTNAME, 550)
        s.expect("RCPT TO:<%s>" % ROOT, 250)
        s.expect("DATA", 354)
        s.send(TALK_DATA + b".\r\n")
        qid = queued_id(s.reply())
        s.expect("QUIT", 221)
    inst.wait_log(r"disconnect from .* quit=1")
    log = inst.log()
    pid = r"panacea/smtpd\[\d+\]: "
    assert re.search(pid + r"connect from localhost\[127\.0\.0\.1\]\n", log)
    assert re.search(pid + qid + r": client=localhost\[127\.0\.0\.1\]\n",
                     log)
    assert re.search(pid + qid + r": message-id=<20070215020126\.GA30178"
                     r"@canonical\.org>\n", log)
    assert re.search(pid + qid + r": from=<a@example\.org>, size=\d+, "
                     r"nrcpt=1 \(queue active\)\n", log)
    assert re.search(
        pid + r"NOQUEUE: reject: RCPT from localhost\[127\.0\.0\.1\]: "
        r"550 5\.1\.1 <nobody-here@panacea\.test>: Recipient address "
        r"rejected: User unknown in local recipient table; "
        r"from=<a@example\.org> to=<nobody-here@panacea\.test> "
        r"proto=ESMTP helo=<client\.test>\n", log)
    assert re.search(pid + r"disconnect from localhost\[127\.0\.0\.1\] "
                     r"ehlo=1 mail=1 rcpt=1/2 data=1 quit=1 "
                     r"commands=5/6\n", log)


def test_multiple_recipients_and_no_for_clause(smtpd):
    inst, port = smtpd
    rcpts = [ROOT, "postmaster@" + MYHOSTNAME, "pea@dma.org",
             "some-one-else@example.com"]
    with Session(inst.host, port) as s:
        s.expect("helo schrodinger.canonical.org", 250)
        s.expect("mail from: <paulv@canonical.org>", 250)
        for r in rcpts:
            s.expect("rcpt to: <%s>" % r, 250)
        s.expect("data", 354)
        s.send(TALK_DATA + b".\r\n")
        qid = queued_id(s.reply())
        s.expect("quit", 221)
    header, rest = stored_message(inst, qid)
    assert rest == TALK_DATA
    # "for <rcpt>" only for a single recipient (it would leak Bcc).
    check_received(header, helo="schrodinger.canonical.org",
                   addr="127.0.0.1", queue_id=qid, proto="SMTP")
    env = pancat(inst, qid, "-e").decode()
    assert re.findall(r"^recipient: (.*)$", env, re.M) == rcpts
    assert "nrcpt=4" in wait_committed(inst, qid)


def test_pipelined_transaction_replies_in_order(smtpd):
    inst, port = smtpd
    with Session(inst.host, port) as s:
        ehlo = s.expect("EHLO client.test", 250)
        assert "PIPELINING" in ehlo.lines
        s.send("MAIL FROM:<a@example.org>\r\n"
               "RCPT TO:<%s>\r\n"
               "RCPT TO:<nosuchuser@%s>\r\n"
               "RCPT TO:<postmaster@%s>\r\n"
               "DATA\r\n" % (ROOT, MYHOSTNAME, MYHOSTNAME))
        codes = [s.reply().code for _ in range(5)]
        assert codes == [250, 250, 550, 250, 354]
        # The message, the end and the next commands in one write too.
        s.send(TALK_DATA + b".\r\nRSET\r\nNOOP\r\nQUIT\r\n")
        qid = queued_id(s.reply())
        assert [s.reply().code for _ in range(3)] == [250, 250, 221]
        assert s.eof()
    header, rest = stored_message(inst, qid)
    assert rest == TALK_DATA
    env = pancat(inst, qid, "-e").decode()
    assert re.findall(r"^recipient: (.*)$", env, re.M) == [
        ROOT, "postmaster@" + MYHOSTNAME]


def test_ehlo_keywords(smtpd):
    inst, port = smtpd
    with Session(inst.host, port) as s:
        r = s.expect("EHLO client.test", 250)
        assert r.lines[0] == MYHOSTNAME
        assert r.lines[1:] == ["PIPELINING", "SIZE 10240000", "ETRN",
                               "ENHANCEDSTATUSCODES", "8BITMIME", "DSN",
                               "SMTPUTF8", "BINARYMIME", "CHUNKING"]


def test_smtplib_plain(smtpd):
    inst, port = smtpd
    msg = (b"From: a@example.org\r\nTo: root@panacea.test\r\n"
           b"Subject: smtplib\r\n\r\n.leading dot\r\nline two\r\n")
    with smtplib.SMTP(inst.host, port, local_hostname="client.test",
                      timeout=scaled(15)) as c:
        c.ehlo()
        assert c.has_extn("size") and c.has_extn("8bitmime")
        refused = c.sendmail("a@example.org", [ROOT], msg)
        assert refused == {}
        code, text = c.noop()
        assert code == 250
    qid = re.search(r"(\w+): from=<a@example\.org>", inst.wait_log(
        r"\w+: from=<a@example\.org>, size=").group(0)).group(1)
    header, rest = stored_message(inst, qid)
    # smtplib dot-stuffs, smtpd unstuffs: the message as given.
    assert rest == msg
    check_received(header, helo="client.test", addr="127.0.0.1",
                   queue_id=qid, proto="ESMTP", rcpt=ROOT)


def test_smtplib_refused_recipient_and_sender_rejected(instance,
                                                      mail_owner):
    port = configured(instance, mail_owner, message_size_limit=1000)
    with smtplib.SMTP(instance.host, port, local_hostname="client.test",
                      timeout=scaled(15)) as c:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as e:
            c.sendmail("a@example.org", ["ghost@" + MYHOSTNAME], b"x\r\n")
        code, text = e.value.recipients["ghost@" + MYHOSTNAME]
        assert code == 550 and text.startswith(b"5.1.1 <ghost@")
        c.rset()
        with pytest.raises(smtplib.SMTPSenderRefused) as e:
            c.sendmail("a@example.org", [ROOT], b"x" * 2000)
        assert e.value.smtp_code == 552
        assert e.value.smtp_error.startswith(b"5.3.4")


def test_swaks_plain(smtpd, tmp_path):
    inst, port = smtpd
    body = tmp_path / "msg"
    text = (b"From: swaks@example.org\r\nTo: root@panacea.test\r\n"
            b"Subject: swaks\r\nMessage-ID: <swaks-1@example.org>\r\n\r\n"
            b"Sent by swaks.\r\n")
    # swaks ends the data with CRLF . CRLF itself.
    body.write_bytes(text[:-2])
    r = subprocess.run([panacea_test.tool("swaks", "swaks"), "--server", "%s:%d" % (inst.host, port),
                        "--helo", "swaks.test", "--from",
                        "swaks@example.org", "--to", ROOT, "--data",
                        str(body), "--timeout", "20"],
                       capture_output=True, text=True, timeout=scaled(60))
    assert r.returncode == 0, r.stdout + r.stderr
    m = re.search(r"<-  250 2\.0\.0 Ok: queued as (\w+)", r.stdout)
    assert m, r.stdout
    qid = m.group(1)
    header, rest = stored_message(inst, qid)
    assert rest == text
    check_received(header, helo="swaks.test", addr="127.0.0.1",
                   queue_id=qid, proto="ESMTP", rcpt=ROOT)
    inst.wait_log(qid + r": message-id=<swaks-1@example\.org>")


def test_local_recipients(smtpd):
    inst, port = smtpd
    with Session(inst.host, port) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<>", 250)
        s.expect("RCPT TO:<ghost@%s>" % MYHOSTNAME, 550,
                 r"^5\.1\.1 <ghost@panacea\.test>: Recipient address "
                 r"rejected: User unknown in local recipient table$")
        s.expect("RCPT TO:<Ghost@LOCALHOST>", 550, r"^5\.1\.1 ")
        # Case does not matter; postmaster always exists (RFC 5321 4.5.1).
        s.expect("RCPT TO:<ROOT@Panacea.Test>", 250)
        s.expect("RCPT TO:<postmaster@%s>" % MYHOSTNAME, 250)
        s.expect("RCPT TO:<PostMaster@localhost>", 250)
        s.expect("RCPT TO:<Postmaster>", 250)
        s.expect("RCPT TO:<\"root\"@%s>" % MYHOSTNAME, 250)
        s.expect("DATA", 354)
        s.send(b"Subject: to postmaster\r\n\r\nhi\r\n.\r\n")
        qid = queued_id(s.reply())
    env = pancat(inst, qid, "-e").decode()
    assert "sender: \n" in env
    # A bare "Postmaster" is queued as postmaster@$myorigin
    # (append_at_myorigin, lib/mail/rewrite.h), as Postfix's cleanup does.
    assert re.findall(r"^recipient: (.*)$", env, re.M) == [
        "ROOT@Panacea.Test", "postmaster@" + MYHOSTNAME,
        "PostMaster@localhost", "Postmaster@" + MYHOSTNAME, ROOT]


def test_unknown_local_user_check_can_be_switched_off(instance, mail_owner):
    port = configured(instance, mail_owner, local_recipient_maps="")
    with Session(instance.host, port) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<a@example.org>", 250)
        s.expect("RCPT TO:<ghost@%s>" % MYHOSTNAME, 250)


def test_lenient_envelopes_by_default(instance, mail_owner):
    """strict_rfc821_envelopes = no (Postfix's default): a path without
    <>, a phrase and comments are taken; the message goes in with the
    bare address, and bad brackets are still refused."""
    port = smtpd_setup(instance, mail_owner)
    with Session(instance.host, port) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:Joe<joe@example.org>(home) SIZE=100", 250,
                 r"^2\.1\.0 Ok$")
        s.expect("RCPT TO:%s" % ROOT, 250, r"^2\.1\.5 Ok$")
        s.expect("RCPT TO:< postmaster@%s >" % MYHOSTNAME, 250)
        s.expect("RCPT TO:<%s" % ROOT, 501,
                 r"^5\.1\.3 Bad recipient address syntax")
        s.expect("RCPT TO:<a@example.org><%s>" % ROOT, 501,
                 r"^5\.1\.3 Bad recipient address syntax")
        s.expect("DATA", 354)
        s.send(b"Subject: lenient\r\n\r\nhi\r\n.\r\n")
        qid = queued_id(s.reply())
        s.expect("MAIL FROM:a@example.org)", 501,
                 r"^5\.1\.7 Bad sender address syntax")
        s.expect("QUIT", 221)
    env = pancat(instance, qid, "-e").decode()
    assert "sender: joe@example.org\n" in env, env
    assert re.findall(r"^recipient: (.*)$", env, re.M) == [
        ROOT, "postmaster@" + MYHOSTNAME]
    instance.wait_log(r"(?m)NOQUEUE: reject: RCPT from localhost\[[\d.]+\]: "
                      r"501 5\.1\.3 Bad recipient address syntax "
                      r"\(bad address syntax\);")


def test_strict_rfc821_envelopes(instance, mail_owner):
    """strict_rfc821_envelopes = yes: only <address>, with the replies of
    Postfix; the session goes on after each refusal."""
    port = configured(instance, mail_owner, strict_rfc821_envelopes="yes")
    with Session(instance.host, port) as s:
        s.expect("EHLO client.test", 250)
        for bad in ("a@example.org", "Joe<a@example.org>",
                    "<a@example.org>(home)", "< a@example.org >"):
            s.expect("MAIL FROM:" + bad, 501,
                     r"^5\.1\.7 Bad sender address syntax")
        s.expect("MAIL FROM: <a@example.org>", 250)
        s.expect("RCPT TO:" + ROOT, 501,
                 r"^5\.1\.3 Bad recipient address syntax "
                 r"\(address must be enclosed in <>\)$")
        s.expect("RCPT TO:<%s>" % ROOT, 250)
        s.expect("QUIT", 221)
    instance.wait_log(r"(?m)NOQUEUE: reject: MAIL from localhost\[[\d.]+\]: "
                      r"501 5\.1\.7 Bad sender address syntax "
                      r"\(address must be enclosed in <>\);")


def test_command_errors(smtpd):
    inst, port = smtpd
    with Session(inst.host, port) as s:
        s.expect("FOO bar", 500, r"^5\.5\.2 Error: command not recognized$")
        s.expect("MAIL FROM:<a@example.org>", 250)
        s.expect("MAIL FROM:<a@example.org>", 503, r"^5\.5\.1 ")
        s.expect("RSET", 250, r"^2\.0\.0 Ok$")
        s.expect("RCPT TO:<%s>" % ROOT, 503, r"^5\.5\.1 Error: need MAIL")
        s.expect("DATA", 503, r"^5\.5\.1 ")
        s.expect("HELO", 501, r"^5\.5\.4 Syntax: HELO hostname$")
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<a@example.org", 501, r"^5\.1\.7 ")
        s.expect("MAIL FROM:<a@@example.org>", 501, r"^5\.1\.7 ")
        s.expect("MAIL FROM:<a@example.org> FOO=BAR", 555, r"^5\.5\.4 ")
        s.expect("MAIL FROM:<a@example.org> SIZE=abc", 501, r"^5\.5\.4 ")
        s.expect("MAIL FROM:<a@example.org>", 250)
        s.expect("RCPT TO:<root@>", 501, r"^5\.1\.3 ")
        s.expect("RCPT TO:<%s@%s>" % ("x" * 65, MYHOSTNAME), 553,
                 r"^5\.1\.3 ")
        s.expect("DATA", 554, r"^5\.5\.1 Error: no valid recipients$")
        s.expect("DATA extra", 501, r"^5\.5\.4 ")
        s.expect("NOOP", 250)
        s.expect("VRFY root", 252, r"^2\.0\.0 ")
        s.expect("VRFY", 501, r"^5\.5\.4 ")
        r = s.expect("HELP", 214)
        assert len(r.lines) == 2
        s.expect("STARTTLS", 502, r"^5\.5\.1 ")
        s.expect("AUTH PLAIN", 503, r"^5\.5\.1 ")
        s.expect("QUIT", 221)
    inst.wait_log("disconnect from .* quit=1")
    assert inst.log_count(r"NOQUEUE: reject: MAIL from localhost"
                          r"\[127\.0\.0\.1\]: 501 ") >= 2


def test_too_many_errors_closes_with_421(instance, mail_owner):
    port = configured(instance, mail_owner, smtpd_hard_error_limit=3,
                      smtpd_soft_error_limit=1)
    with Session(instance.host, port) as s:
        s.expect("FOO", 500)
        s.expect("RCPT TO:<%s>" % ROOT, 503)
        s.expect("BAR", 500)
        r = s.reply()
        assert (r.code, r.text) == (
            421, "4.7.0 %s Error: too many errors" % MYHOSTNAME)
        assert s.eof()
    instance.wait_log(r"too many errors after \w+ from "
                      r"localhost\[127\.0\.0\.1\]")
    instance.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] "
                      r"rcpt=0/1 unknown=0/2 commands=0/3")



def test_disable_vrfy_command(instance, mail_owner):
    """disable_vrfy_command = yes: VRFY gets Postfix's 502, counted as an
    error; EXPN is not VRFY and keeps its answer."""
    port = configured(instance, mail_owner, disable_vrfy_command="yes")
    with Session(instance.host, port) as s:
        s.expect("EHLO client.test", 250)
        s.expect("VRFY root", 502, r"^5\.5\.1 VRFY command is disabled$")
        s.expect("EXPN root", 252)
        s.expect("QUIT", 221)
    # EXPN counts as a VRFY, as in Postfix's disconnect line.
    instance.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] ehlo=1 "
                      r"vrfy=1/2 quit=1 commands=3/4")

def test_idle_timeout_421(instance, mail_owner):
    port = configured(instance, mail_owner, smtpd_timeout="2s")
    with Session(instance.host, port) as s:
        s.expect("EHLO client.test", 250)
        start = time.monotonic()
        r = s.reply()
        assert (r.code, r.text) == (
            421, "4.4.2 %s Error: timeout exceeded" % MYHOSTNAME)
        assert time.monotonic() - start >= 1.5
        assert s.eof()
    instance.wait_log(r"timeout after EHLO from localhost\[127\.0\.0\.1\]")


def test_idle_timeout_in_data(instance, mail_owner):
    port = configured(instance, mail_owner, smtpd_timeout="2s")
    with Session(instance.host, port) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<a@example.org>", 250)
        s.expect("RCPT TO:<%s>" % ROOT, 250)
        s.expect("DATA", 354)
        s.send(b"Subject: half a message\r\n")
        r = s.reply()
        assert r.code == 421 and r.text.startswith("4.4.2 ")
        assert s.eof()
    instance.wait_log(r"timeout after DATA \(25 bytes\) from localhost")
    assert instance.log_count(r": from=<") == 0
    assert queue_ids(instance) == []


def test_line_too_long(instance, mail_owner):
    port = configured(instance, mail_owner, line_length_limit=100)
    with Session(instance.host, port) as s:
        s.expect("EHLO client.test", 250)
        s.expect("NOOP " + "x" * 5000, 500, r"^5\.5\.[26] .*too long")
        # The rest of the long line is not taken as commands.
        s.expect("NOOP", 250)
        s.expect("MAIL FROM:<%s@example.org>" % ("a" * 120), 500)
        s.expect("QUIT", 221)


def test_size_limit(instance, mail_owner):
    port = configured(instance, mail_owner, message_size_limit=2000)
    with Session(instance.host, port) as s:
        r = s.expect("EHLO client.test", 250)
        assert "SIZE 2000" in r.lines
        s.expect("MAIL FROM:<a@example.org> SIZE=2001", 552,
                 r"^5\.3\.4 Message size exceeds fixed limit$")
        s.expect("MAIL FROM:<a@example.org> "
                 "SIZE=99999999999999999999999", 552, r"^5\.3\.4 ")
        s.expect("MAIL FROM:<a@example.org> SIZE=1000", 250)
        s.expect("RCPT TO:<%s>" % ROOT, 250)
        s.expect("DATA", 354)
        s.send(b"Subject: big\r\n\r\n" + b"0123456789" * 300 + b"\r\n.\r\n")
        r = s.reply()
        assert r.code == 552 and r.text.startswith("5.3.4 "), r
        # The session goes on, the transaction is over.
        s.expect("RCPT TO:<%s>" % ROOT, 503)
        s.expect("MAIL FROM:<a@example.org>", 250)
        s.expect("RCPT TO:<%s>" % ROOT, 250)
        s.expect("DATA", 354)
        s.send(b"Subject: small\r\n\r\nok\r\n.\r\n")
        qid = queued_id(s.reply())
    assert stored_message(instance, qid)[1] == (
        b"Subject: small\r\n\r\nok\r\n")
    instance.wait_log(r"NOQUEUE: reject: MAIL from localhost\[127\.0\.0\.1\]"
                      r": 552 5\.3\.4 Message size exceeds fixed limit;")
    assert instance.log_count(r": from=<") == 1


def test_recipient_limit(instance, mail_owner):
    port = configured(instance, mail_owner, smtpd_recipient_limit=3)
    with Session(instance.host, port) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<a@example.org>", 250)
        for _ in range(3):
            s.expect("RCPT TO:<%s>" % ROOT, 250)
        s.expect("RCPT TO:<%s>" % ROOT, 452,
                 r"^4\.5\.3 Error: too many recipients$")
        s.expect("DATA", 354)
        s.send(b"Subject: three\r\n\r\n.\r\n")
        qid = queued_id(s.reply())
    env = pancat(instance, qid, "-e").decode()
    # The same recipient three times is queued once: the duplicate
    # filter at enqueue (lib/mail/rewrite.h), as in Postfix's cleanup.
    assert len(re.findall(r"^recipient: ", env, re.M)) == 1


def test_hopcount_limit(smtpd):
    inst, port = smtpd
    hop = b"Received: from a by b; Sat, 1 Jan 2000 00:00:00 +0000\r\n"

    def send(n):
        with Session(inst.host, port) as s:
            s.expect("EHLO client.test", 250)
            s.expect("MAIL FROM:<a@example.org>", 250)
            s.expect("RCPT TO:<%s>" % ROOT, 250)
            s.expect("DATA", 354)
            s.send(hop * n + b"Subject: loop\r\n\r\nbody\r\n.\r\n")
            r = s.reply()
            s.expect("QUIT", 221)
            return r

    r = send(51)
    assert (r.code, r.text) == (554, "5.4.6 Error: too many hops")
    assert inst.log_count(r": from=<") == 0
    assert queue_ids(inst) == []
    inst.wait_log(r"\w+: reject: END-OF-MESSAGE from localhost"
                  r"\[127\.0\.0\.1\]: 554 5\.4\.6 Error: too many hops;")
    qid = queued_id(send(50))
    header, rest = stored_message(inst, qid)
    assert rest.count(b"Received: ") == 50


def test_dsn_parameters_in_envelope(smtpd):
    inst, port = smtpd
    with Session(inst.host, port) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<a@example.org> RET=HDRS ENVID=QQ314159 "
                 "SIZE=100 BODY=8BITMIME", 250)
        s.expect("RCPT TO:<%s> NOTIFY=SUCCESS,FAILURE "
                 "ORCPT=rfc822;Root+2B1@%s" % (ROOT, MYHOSTNAME), 250)
        s.expect("RCPT TO:<postmaster@%s> NOTIFY=NEVER" % MYHOSTNAME, 250)
        s.expect("DATA", 354)
        s.send("Subject: dsn\r\n\r\ncaf\u00e9\r\n.\r\n".encode())
        qid = queued_id(s.reply())
    env = pancat(inst, qid, "-e").decode()
    assert "dsn_envid: QQ314159\n" in env
    assert "dsn_ret: HDRS\n" in env
    assert ("recipient: %s\n  original_recipient: rfc822;Root+2B1@%s\n"
            "  dsn_notify: 6\n" % (ROOT, MYHOSTNAME)) in env
    assert ("recipient: postmaster@%s\n  dsn_notify: 1\n"
            % MYHOSTNAME) in env
    assert stored_message(inst, qid)[1] == (
        "Subject: dsn\r\n\r\ncaf\u00e9\r\n".encode())


def test_dsn_parameters_need_ehlo(smtpd):
    inst, port = smtpd
    with Session(inst.host, port) as s:
        s.expect("HELO client.test", 250)
        s.expect("MAIL FROM:<a@example.org> RET=HDRS", 555)
        s.expect("MAIL FROM:<a@example.org>", 250)
        s.expect("RCPT TO:<%s> NOTIFY=NEVER" % ROOT, 555)


def test_bdat_chunks(smtpd):
    inst, port = smtpd
    part1 = b"Subject: chunks\r\n\r\nfirst part, "
    part2 = b"second part\r\n.not stuffed\r\n"
    with Session(inst.host, port) as s:
        r = s.expect("EHLO client.test", 250)
        assert "CHUNKING" in r.lines
        s.expect("MAIL FROM:<a@example.org>", 250)
        s.expect("RCPT TO:<%s>" % ROOT, 250)
        s.send(b"BDAT %d\r\n" % len(part1) + part1)
        r = s.reply()
        assert (r.code, r.text) == (250, "2.0.0 Ok: %d bytes" % len(part1))
        s.send(b"BDAT %d LAST\r\n" % len(part2) + part2)
        qid = queued_id(s.reply())
        # BDAT 0 LAST after a pipelined chunk, then a new transaction.
        s.send(b"MAIL FROM:<b@example.org>\r\nRCPT TO:<%s>\r\n"
               b"BDAT 12\r\nSubject: x\r\nBDAT 0 LAST\r\n" % ROOT.encode())
        assert [s.reply().code for _ in range(3)] == [250, 250, 250]
        qid2 = queued_id(s.reply())
        s.expect("QUIT", 221)
    header, rest = stored_message(inst, qid)
    assert rest == part1 + part2
    check_received(header, helo="client.test", addr="127.0.0.1",
                   queue_id=qid, proto="ESMTP", rcpt=ROOT)
    # An unterminated last line is completed with CRLF.
    assert stored_message(inst, qid2)[1] == b"Subject: x\r\n"
    inst.wait_log(r"disconnect from .* bdat=4 .*quit=1")


def test_bdat_binarymime(smtpd):
    inst, port = smtpd
    body = (b"Content-Type: application/octet-stream\r\n\r\n"
            b"\x00\x01bare\nLF\rCR\xff\r\n.\r\n")
    with Session(inst.host, port) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<a@example.org> BODY=BINARYMIME", 250)
        s.expect("RCPT TO:<%s>" % ROOT, 250)
        s.expect("DATA", 503, r"^5\.5\.1 .*BDAT")
        s.send(b"BDAT %d LAST\r\n" % len(body) + body)
        qid = queued_id(s.reply())
        s.expect("QUIT", 221)
    # Unchanged but for the NUL octet, which the queue removes from every
    # message, binary too: the queue keeps no BINARYMIME flag and the
    # smtp client relays with DATA (DESIGN.md "NUL octets").
    assert stored_message(inst, qid)[1] == body.replace(b"\x00", b"")


def test_bdat_errors(smtpd):
    inst, port = smtpd
    with Session(inst.host, port) as s:
        s.expect("EHLO client.test", 250)
        # Without a transaction the chunk is read and refused, never run.
        s.send(b"BDAT 6\r\nQUIT\r\n")
        r = s.reply()
        assert r.code == 503
        s.expect("NOOP", 250)
        s.expect("MAIL FROM:<a@example.org>", 250)
        s.expect("RCPT TO:<%s>" % ROOT, 250)
        # A chunk size that does not parse: the stream is lost, close.
        s.send(b"BDAT 99999999999999999999999 LAST\r\n")
        r = s.reply()
        assert r.code in (500, 501, 552), r
        assert s.eof()
    assert inst.log_count(r": from=<") == 0
    assert queue_ids(inst) == []


def test_junk_commands_count_as_errors(instance, mail_owner):
    port = configured(instance, mail_owner, smtpd_junk_command_limit=2,
                      smtpd_hard_error_limit=2)
    with Session(instance.host, port) as s:
        s.expect("NOOP", 250)
        s.expect("VRFY root", 252)
        s.expect("RSET", 250)
        s.expect("NOOP", 250)
        r = s.reply()
        assert r.code == 421 and r.text.startswith("4.7.0 "), r
        assert s.eof()
    instance.wait_log(r"too many errors after NOOP from localhost")


def test_helo_required(instance, mail_owner):
    port = configured(instance, mail_owner, smtpd_helo_required="yes")
    with Session(instance.host, port) as s:
        s.expect("MAIL FROM:<a@example.org>", 503,
                 r"^5\.5\.1 Error: send HELO/EHLO first$")
        s.expect("HELO client.test", 250)
        s.expect("MAIL FROM:<a@example.org>", 250)


def test_helo_not_required_by_default(smtpd):
    inst, port = smtpd
    with Session(inst.host, port) as s:
        s.expect("MAIL FROM:<a@example.org>", 250)
        s.expect("RCPT TO:<%s>" % ROOT, 250)
        s.expect("DATA", 354)
        s.send(b"Subject: no helo\r\n\r\n.\r\n")
        qid = queued_id(s.reply())
    header, _ = stored_message(inst, qid)
    # Without HELO the client's name stands in, as in Postfix.
    check_received(header, helo="localhost", addr="127.0.0.1",
                   queue_id=qid, proto="SMTP", rcpt=ROOT)


def test_smtputf8(smtpd):
    inst, port = smtpd
    sender = "j\u00f6rg@b\u00fccher.example"
    with Session(inst.host, port) as s:
        r = s.expect("EHLO client.test", 250)
        assert "SMTPUTF8" in r.lines
        # Without the parameter, a UTF-8 address is refused.
        s.expect("MAIL FROM:<%s>" % sender, 553, r"^5\.6\.7 ")
        s.expect("MAIL FROM:<%s> SMTPUTF8" % sender, 250)
        s.expect("RCPT TO:<%s>" % ROOT, 250)
        s.expect("RCPT TO:<\u00fcser@remote.example>", 250)
        s.expect("DATA", 354)
        s.send("Subject: gr\u00fc\u00dfe\r\n\r\n.\r\n".encode())
        qid = queued_id(s.reply())
    header, rest = stored_message(inst, qid)
    assert rest == "Subject: gr\u00fc\u00dfe\r\n\r\n".encode()
    check_received(header, helo="client.test", addr="127.0.0.1",
                   queue_id=qid, proto="UTF8SMTP")
    env = pancat(inst, qid, "-e").decode()
    assert "sender: %s\n" % sender in env
    assert "protocol_name: UTF8SMTP\n" in env


def test_parallel_sessions(smtpd):
    """Several smtpd processes commit at once; every message is queued
    intact under its own id."""
    import threading
    inst, port = smtpd
    results, errors = {}, []

    def client(n):
        try:
            with Session(inst.host, port) as s:
                for i in range(4):
                    body = (b"Subject: parallel %d.%d\r\n\r\n" % (n, i) +
                            (b"%d.%d " % (n, i)) * 2000 + b"\r\n")
                    results[s.send_message("a@example.org", [ROOT],
                                           body + b".\r\n")] = body
                    s.expect("RSET", 250)
                s.expect("QUIT", 221)
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(scaled(120))
    assert not errors, errors
    assert len(results) == 32
    assert sorted(queue_ids(inst)) == sorted(results)
    for qid, body in results.items():
        assert stored_message(inst, qid)[1] == body


def test_control_characters_in_commands(smtpd):
    inst, port = smtpd
    with Session(inst.host, port) as s:
        s.expect("EHLO client.test", 250)
        s.send(b"NOOP \x00\r\n")
        assert s.reply().code == 500
        s.send(b"MAIL FROM:<a\x01@example.org>\r\n")
        assert s.reply().code in (500, 501)
        s.send(b"HELO cl\rient\r\n")
        assert s.reply().code in (500, 501)
        s.send("MAIL FROM:<j\u00f6rg@example.org>\r\n".encode())
        assert s.reply().code == 553
        s.expect("MAIL FROM:<a@example.org>", 250)
        s.expect("RCPT TO:<%s> NOTIFY=BOGUS" % ROOT, 501)
        s.expect("RCPT TO:<%s> ORCPT=rfc822;a+ZZb@c" % ROOT, 501)
        s.expect("RCPT TO:<%s> NOTIFY=NEVER NOTIFY=NEVER" % ROOT, 501)
        s.expect("QUIT", 221)


def test_bdat_too_big_rset_and_unfinished(instance, mail_owner):
    port = configured(instance, mail_owner, message_size_limit=1000)
    chunk = b"x" * 798 + b"\r\n"
    with Session(instance.host, port) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<a@example.org>", 250)
        s.expect("RCPT TO:<%s>" % ROOT, 250)
        s.send(b"BDAT 800\r\n" + chunk)
        assert s.reply().code == 250
        s.send(b"BDAT 800 LAST\r\n" + chunk)
        r = s.reply()
        assert r.code == 552 and r.text.startswith("5.3.4 "), r
        # A transaction abandoned with RSET in the middle of BDAT.
        s.expect("MAIL FROM:<a@example.org>", 250)
        s.expect("RCPT TO:<%s>" % ROOT, 250)
        s.send(b"BDAT 800\r\n" + chunk)
        assert s.reply().code == 250
        s.expect("DATA", 503, r"^5\.5\.1 ")
        s.expect("RSET", 250)
        s.send(b"BDAT 5 LAST\r\nhello")
        assert s.reply().code == 503
        # One more, left unfinished by the client.
        s.expect("MAIL FROM:<a@example.org>", 250)
        s.expect("RCPT TO:<%s>" % ROOT, 250)
        s.send(b"BDAT 800\r\n" + chunk)
        assert s.reply().code == 250
        s.expect("QUIT", 221)
    instance.wait_log(r"disconnect from .* quit=1")
    assert queue_ids(instance) == []


class UnixSession(Session):
    """A raw SMTP client on a local (unix) socket."""

    def __init__(self, path, timeout=15.0):
        import socket
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(scaled(timeout))
        self.sock.connect(path)
        self.raw = self.sock
        self.greeting = self.reply()


def test_local_client_is_trusted_only_with_local_submission(instance,
                                                            mail_owner):
    """A local (non-inet) client is a trusted submission (relaying allowed,
    Received: ... from userid N) only on a service that says so with
    smtpd_local_submission (the submit service); on any other service
    smtpd fails closed: 421 before the greeting."""
    chroot = "y" if os.geteuid() == 0 else "n"
    submit = Instance.shipped("submit", chroot=chroot)
    plain = Instance.service("plainsmtp", "smtpd", type_="unix",
                             private="n", unpriv="-", chroot=chroot)
    smtpd_setup(instance, mail_owner, services=[submit, plain])
    with UnixSession(instance.socket_path("plainsmtp", private=False)) as s:
        assert s.greeting.code == 421, s.greeting
        assert s.reply() is None
    assert re.search(r"smtpd\[\d+\]: warning: local client on a service "
                     r"without smtpd_local_submission: refused",
                     instance.log())
    with UnixSession(instance.socket_path("submit", private=False)) as s:
        assert s.greeting.code == 220
        s.expect("helo me", 250)
        s.expect("mail from:<a@b.example>", 250)
        s.expect("rcpt to:<someone@elsewhere.example>", 250)
        s.expect("data", 354)
        s.send(b"Subject: local\r\n\r\nhi\r\n.\r\n")
        qid = queued_id(s.reply())
    header, _ = stored_message(instance, qid)
    assert b"from userid %d" % os.geteuid() in header


def test_unidentified_client_is_refused(instance, mail_owner):
    """smtpd -S on a pipe: getpeername fails, and the client is refused
    (logged), not taken for a trusted local submission."""
    smtpd_setup(instance, mail_owner)
    # As the queue's owner: no root process opens the queue.
    open_path(instance.config_dir)
    kw = {}
    if os.geteuid() == 0:
        kw = dict(user=mail_owner, group=mail_owner, extra_groups=[])
    r = subprocess.run([program("smtpd"), "-c", instance.config_dir,
                        "-o", "maillog_file=-", "-S"],
                       input=b"HELO me\r\nMAIL FROM:<a@b.example>\r\n"
                             b"RCPT TO:<x@elsewhere.example>\r\nQUIT\r\n",
                       capture_output=True, timeout=scaled(30), **kw)
    log = r.stderr.decode()
    assert "warning: cannot identify the client: getpeername" in log, log
    assert "connect from" not in log, log


def test_debug_peer_list_and_syslog_name(instance, mail_owner):
    """debug_peer_list: the session of a client it names is logged
    verbosely (each command and reply; AUTH without its credentials), a
    service whose list does not name the client logs as usual; a
    service's -o syslog_name names its log lines, as in Postfix."""
    secret = "AGFsaWNlAHNlY3JldC1wYXNzd29yZA=="
    other, line = smtpd_service(instance,
                                args="-o debug_peer_list=192.0.2.0/24")
    port = smtpd_setup(instance, mail_owner, services=[line],
                       args="-o syslog_name=panacea/debugged "
                            "-o { debug_peer_list = 192.0.2.7, localhost }")
    mark = instance.log_size()
    for p in (port, other):
        with Session(instance.host, p) as s:
            s.expect("EHLO client.test", 250)
            s.cmd("AUTH PLAIN " + secret)
            s.expect("QUIT", 221)
    instance.wait_log(r"panacea/debugged/smtpd\[\d+\]: disconnect from "
                      r"localhost\[127\.0\.0\.1\]", since=mark)
    instance.wait_log(r"panacea/smtpd\[\d+\]: disconnect from", since=mark)
    log = instance.log(mark)
    assert re.search(r"panacea/debugged/smtpd\[\d+\]: < localhost"
                     r"\[127\.0\.0\.1\]: EHLO client\.test", log), log
    assert re.search(r"panacea/debugged/smtpd\[\d+\]: > localhost"
                     r"\[127\.0\.0\.1\]: 250-", log), log
    assert re.search(r"< localhost\[127\.0\.0\.1\]: AUTH PLAIN \.\.\.",
                     log), log
    assert secret not in log
    # The other service: the default syslog name, nothing verbose.
    assert len(re.findall(r"< localhost\[127\.0\.0\.1\]: EHLO", log)) == 1
