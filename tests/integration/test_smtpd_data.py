"""smtpd DATA over the wire: end of data, SMTP smuggling, content.

Only <CR><LF>.<CR><LF> ends DATA (CVE-2023-51764 family): each vector
below is followed by smuggled commands, and the server must stay silent
until the real end.  A bare <LF> anywhere in DATA or in a command is
refused with 521 and the connection closed, and nothing is queued.
"""

import socket
import time

import pytest

from panacea_test import scaled, unless_built
from smtp_helpers import (MYHOSTNAME, Session, check_received,  # noqa: F401
                          mail_owner, queue_ids, queued_id, smtpd_setup,
                          stored_message)

pytestmark = unless_built("master", "smtpd", "pancat")

ROOT = "root@" + MYHOSTNAME
SMUGGLED = (b"MAIL FROM:<admin@bank.example>\r\n"
            b"RCPT TO:<%s>\r\n"
            b"DATA\r\n"
            b"From: admin@bank.example\r\n"
            b"Subject: smuggled\r\n\r\nsend money\r\n" % ROOT.encode())
BARE_LF_REPLY = "521 5.5.2 %s Error: bare <LF> received" % MYHOSTNAME


@pytest.fixture
def smtpd(instance, mail_owner):
    return instance, smtpd_setup(instance, mail_owner)


def start_data(s):
    s.expect("EHLO client.test", 250)
    s.expect("MAIL FROM:<a@example.org>", 250)
    s.expect("RCPT TO:<%s>" % ROOT, 250)
    s.expect("DATA", 354)


def silent(s, seconds=0.5):
    """True when the server sends nothing for a while."""
    s.sock.settimeout(scaled(seconds))
    try:
        data = s.sock.recv(1, socket.MSG_PEEK)
    except socket.timeout:
        return True
    finally:
        s.sock.settimeout(scaled(15))
    return data == b""


def committed(inst):
    """Messages in the queue; the log must agree."""
    n = len(queue_ids(inst))
    assert n == inst.log_count(r"smtpd\[\d+\]: \w+: from=<")
    return n


@pytest.mark.parametrize("vector", [
    b"\n.\n", b"\n.\r\n", b"\r\n.\n", b"\n..\n", b"\n.\r",
])
def test_smuggling_with_bare_lf_is_refused(smtpd, vector):
    inst, port = smtpd
    with Session(inst.host, port) as s:
        start_data(s)
        s.send(b"Subject: innocent\r\n\r\nhello" + vector + SMUGGLED)
        assert silent(s), "the look-alike ended DATA"
        s.send(b"\r\n.\r\n")
        assert str(s.reply()) == BARE_LF_REPLY
        assert s.eof()
    inst.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] .*"
                  r"data=0/1 commands=3/4")
    assert committed(inst) == 0
    assert inst.log_count(r"reject: END-OF-MESSAGE from localhost"
                          r"\[127\.0\.0\.1\]: 521 5\.5\.2 ") == 1


@pytest.mark.parametrize("vector,stored", [
    (b"\r.\r", b"\r.\r"),
    (b"\r.\r\n", b"\r.\r\n"),
    # After CRLF the dot is a stuffed dot, and goes (RFC 5321 4.5.2).
    (b"\r\n.\r", b"\r\n\r"),
    (b"\r\n.\r\r\n", b"\r\n\r\r\n"),
])
def test_smuggling_with_bare_cr_stays_in_the_message(smtpd, vector, stored):
    """No bare LF: the message is accepted, and the look-alike and the
    smuggled commands are just content of this one message."""
    inst, port = smtpd
    head = b"Subject: innocent\r\n\r\nhello"
    with Session(inst.host, port) as s:
        start_data(s)
        s.send(head + vector + SMUGGLED)
        assert silent(s)
        s.send(b".\r\n")
        qid = queued_id(s.reply())
        s.expect("QUIT", 221)
    assert stored_message(inst, qid)[1] == head + stored + SMUGGLED
    assert committed(inst) == 1


def test_bare_lf_in_data_refused(smtpd):
    inst, port = smtpd
    with Session(inst.host, port) as s:
        start_data(s)
        s.send(b"Subject: lf\r\n\r\nline one\nline two\r\n.\r\n")
        assert str(s.reply()) == BARE_LF_REPLY
        assert s.eof()
    assert committed(inst) == 0


def test_bare_lf_in_command_refused(smtpd):
    inst, port = smtpd
    with Session(inst.host, port) as s:
        s.expect("EHLO client.test", 250)
        s.send(b"NOOP\n")
        assert str(s.reply()) == BARE_LF_REPLY
        assert s.eof()
    inst.wait_log(r"bare <LF> received from localhost\[127\.0\.0\.1\]")


def test_end_of_data_split_across_writes(smtpd):
    inst, port = smtpd
    with Session(inst.host, port) as s:
        start_data(s)
        s.send(b"Subject: slow\r\n\r\nbody")
        for b in (b"\r", b"\n", b".", b"\r"):
            s.send(b)
            assert silent(s, 0.2)
            time.sleep(0.05)
        s.send(b"\n")
        qid = queued_id(s.reply())
    assert stored_message(inst, qid)[1] == b"Subject: slow\r\n\r\nbody\r\n"


def test_dot_unstuffing_and_empty_message(smtpd):
    inst, port = smtpd
    with Session(inst.host, port) as s:
        start_data(s)
        s.send(b"Subject: dots\r\n\r\n..leading\r\n.x\r\n...\r\n"
               b"a.b\r\n .\r\n..\r\n.\r\n")
        qid = queued_id(s.reply())
        s.expect("MAIL FROM:<a@example.org>", 250)
        s.expect("RCPT TO:<%s>" % ROOT, 250)
        s.expect("DATA", 354)
        s.send(b".\r\n")
        empty = queued_id(s.reply())
        s.expect("QUIT", 221)
    assert stored_message(inst, qid)[1] == (
        b"Subject: dots\r\n\r\n.leading\r\nx\r\n..\r\na.b\r\n .\r\n.\r\n")
    header, rest = stored_message(inst, empty)
    assert rest == b""
    check_received(header, helo="client.test", addr="127.0.0.1",
                   queue_id=empty, proto="ESMTP", rcpt=ROOT)


def test_eight_bit_and_long_lines_are_kept_nul_is_removed(smtpd):
    """Defined behaviour: 8-bit without BODY=8BITMIME and lines over 998
    octets are stored as received (as Postfix does); NUL octets, and
    nothing else, are removed where content enters the queue (DESIGN.md
    "NUL octets", Postfix's message_strip_characters = \\0)."""
    inst, port = smtpd
    body = (b"Subject: \xc3\xa9t\xc3\xa9\r\nX-Long: " + b"h" * 3000 +
            b"\r\n\r\nnul\x00here\r\n" + b"b" * 5000 + b"\r\n\xff\xfe\r\n")
    with Session(inst.host, port) as s:
        start_data(s)
        s.send(body + b".\r\n")
        qid = queued_id(s.reply())
    assert stored_message(inst, qid)[1] == body.replace(b"\x00", b"")
    inst.wait_log(r"smtpd\[\d+\]: %s: 1 NUL octet removed from the "
                  r"content" % qid)


# "\r\n\0.\r\n" is an end of data to a next hop that drops NULs: it is
# stored as "\r\n.\r\n" (which the smtp client dot-stuffs), and the
# rest of the line after a NUL is kept.
NUL_BODY = (b"Subject: nul\r\n\r\nbefore\r\n\x00.\r\nMAIL FROM:<x@y>\r\n"
            b"in\x00\x00side\x00\r\n\x00\r\nend\r\n")
NUL_STORED = (b"Subject: nul\r\n\r\nbefore\r\n.\r\nMAIL FROM:<x@y>\r\n"
              b"inside\r\n\r\nend\r\n")


@pytest.mark.parametrize("how", ["DATA", "BDAT", "BINARYMIME"])
def test_nul_octets_never_reach_the_queue(smtpd, how):
    inst, port = smtpd
    with Session(inst.host, port) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<a@example.org>%s" % (
            " BODY=BINARYMIME" if how == "BINARYMIME" else ""), 250)
        s.expect("RCPT TO:<%s>" % ROOT, 250)
        if how == "DATA":
            s.expect("DATA", 354)
            s.send(NUL_BODY + b".\r\n")
        else:
            # Two chunks, the second starting with the NUL.
            cut = NUL_BODY.index(b"\x00.")
            s.send(b"BDAT %d\r\n" % cut + NUL_BODY[:cut])
            assert s.reply().code == 250
            s.send(b"BDAT %d LAST\r\n" % (len(NUL_BODY) - cut) +
                   NUL_BODY[cut:])
        qid = queued_id(s.reply())
        s.expect("QUIT", 221)
    header, rest = stored_message(inst, qid)
    assert rest == NUL_STORED
    m = inst.wait_log(r"%s: from=<a@example\.org>, size=(\d+), nrcpt=1"
                      % qid)
    assert int(m.group(1)) == len(header) + len(NUL_STORED)
    assert inst.log_count(r"%s: 5 NUL octets removed from the content"
                          % qid) == 1


def test_large_message_in_many_chunks(smtpd):
    inst, port = smtpd
    lines = b"".join(b"%06d " % i + b"x" * 70 + b"\r\n"
                     for i in range(5000))
    body = b"Subject: large\r\n\r\n" + lines
    with Session(inst.host, port) as s:
        start_data(s)
        s.send(body + b".\r\n")
        qid = queued_id(s.reply())
    header, rest = stored_message(inst, qid)
    assert rest == body
    m = inst.wait_log(qid + r": from=<a@example\.org>, size=(\d+)")
    assert int(m.group(1)) == len(header) + len(body)


def test_session_killed_before_the_end_queues_nothing(smtpd):
    inst, port = smtpd
    s = Session(inst.host, port)
    start_data(s)
    s.send(b"Subject: cut\r\n\r\nhalf a message\r\n")
    s.close()
    inst.wait_log(r"lost connection after DATA \(\d+ bytes\) from "
                  r"localhost\[127\.0\.0\.1\]")
    assert committed(inst) == 0
    # The next session works as usual.
    with Session(inst.host, port) as s:
        start_data(s)
        s.send(b"Subject: whole\r\n\r\n.\r\n")
        queued_id(s.reply())
    assert committed(inst) == 1


def test_header_field_over_header_size_limit_is_cut(instance, mail_owner):
    """header_size_limit, as in Postfix: the excess of a longer header
    field is discarded (the line it falls in is cut there and ended,
    the field's later continuation lines go), the other fields and the
    body are stored whole, the message is accepted and the cut logged."""
    port = smtpd_setup(instance, mail_owner,
                       conf={"header_size_limit": "64"})
    subject = b"Subject: " + b"s" * 100
    body = b"body line " + b"b" * 200 + b"\r\n"
    with Session(instance.host, port) as s:
        start_data(s)
        s.send(subject + b"\r\n folded\r\n\tand more\r\nTo: <x@y.test>\r\n"
               b"X-Short: " + b"k" * 40 + b"\r\n\r\n" + body + b".\r\n")
        qid = queued_id(s.reply())
        s.expect("QUIT", 221)
    assert stored_message(instance, qid)[1] == (
        subject[:64] + b"\r\nTo: <x@y.test>\r\nX-Short: " + b"k" * 40 +
        b"\r\n\r\n" + body)
    instance.wait_log(qid + r": header field longer than header_size_limit "
                      r"\(64 bytes\): the excess was discarded")
