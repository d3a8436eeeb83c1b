"""test_mime_out - the talk's MIME on every hop (issue 18).

The smtp agent runs alone under master (as in test_smtp: the test plays
qmgr, queues with pan-enqueue and sends the delivery request itself) and
delivers to loopback next hops given as [127.0.0.1]:port, so no name
goes to DNS:
  - Postfix's smtp-sink -8, which offers neither 8BITMIME nor CHUNKING:
    the 8-bit parts arrive as quoted-printable, no octet above 127 and no
    line above 998 octets, and every part decodes (Python's email) to
    the original's bytes;
  - a Panacea smtpd (8BITMIME, CHUNKING, BINARYMIME): the message goes by
    BDAT, 8-bit parts unchanged, the 3,000-octet line re-encoded, every
    part again the original's; a BINARYMIME message goes by BDAT byte for
    byte;
  - a BINARYMIME message to smtp-sink (no CHUNKING) bounces with 5.6.3.
Two more smtp services of the same agent run with -o overrides: "strict"
(strict_8bitmime, a small mime_nesting_limit) and "noconv"
(disable_mime_output_conversion, no line limit).
The peers and the agent are started once for the module.
"""

import base64
import email
import os
import re
import socket
import subprocess
import time

import pytest

import attrlist
import panacea_test
from panacea_test import Instance, fixture, scaled, wait_until
from smtp_helpers import mail_owner, pancat, smtpd_setup  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="smtp runs chrooted as root")

HOST = "127.0.0.1"
SENDER = "sender@panacea.test"
FLAG_8BITMIME = 0x02
FLAG_BINARYMIME = 0x10

LONG_UTF8 = ("Gr\u00fc\u00dfe aus K\u00f6ln \u2603 " * 150).encode()
LONG_ASCII = b"".join(b"%04d" % i for i in range(750))  # 3,000 octets
# No NUL: the queue keeps none (DESIGN.md "NUL octets").
BINARY = bytes(range(1, 256)) * 8
INNER = (b"From: inner@example.org\r\n"
         b"Subject: attached\r\n"
         b"MIME-Version: 1.0\r\n"
         b"Content-Type: text/plain; charset=utf-8\r\n"
         b"Content-Transfer-Encoding: 8bit\r\n"
         b"\r\n"
         b"Attached and 8-bit: \xc3\xa9t\xc3\xa9 \xe2\x82\xac \r\n"
         b".a line with a dot\r\n")


def talk_message():
    """UTF-8 text, Latin-1 text, an 8-bit message/rfc822, base64 binary,
    and a 3,000-octet line (in a 7bit part and in the UTF-8 part)."""
    b64 = base64.encodebytes(BINARY).replace(b"\n", b"\r\n")
    return (b"From: paulv@canonical.org\r\n"
            b"To: u@example.org\r\n"
            b"Subject: the talk's MIME\r\n"
            b"MIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
            b"\r\n"
            b"This is a MIME message.\r\n"
            b"--outer\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: 8bit\r\n"
            b"\r\n"
            b"Gr\xc3\xbc\xc3\x9fe, trailing space \r\n"
            b"=not an escape\r\n" + LONG_UTF8 + b"\r\n"
            b"--outer\r\n"
            b"Content-Type: text/plain; charset=iso-8859-1\r\n"
            b"Content-Transfer-Encoding: 8bit\r\n"
            b"\r\n"
            b"Caf\xe9 cr\xe8me br\xfbl\xe9e\r\n"
            b"--outer\r\n"
            b"Content-Type: message/rfc822\r\n"
            b"Content-Transfer-Encoding: 8bit\r\n"
            b"\r\n" + INNER +
            b"--outer\r\n"
            b"Content-Type: application/octet-stream\r\n"
            b"Content-Transfer-Encoding: base64\r\n"
            b"\r\n" + b64 +
            b"--outer\r\n"
            b"Content-Type: text/plain; charset=us-ascii\r\n"
            b"\r\n" + LONG_ASCII + b"\r\n"
            b"--outer--\r\n")


def leaves(raw, lf=False):
    """(content type, decoded payload) of every leaf part, depth first;
    with lf, line ends as LF (smtp-sink's dump has LF only)."""
    out = []
    for part in email.message_from_bytes(raw).walk():
        if part.is_multipart() or part.get_content_type() == "message/rfc822":
            continue
        payload = part.get_payload(decode=True)
        if lf:
            payload = payload.replace(b"\r\n", b"\n")
        out.append((part.get_content_type(), payload))
    return out


class Agent:
    """The smtp agent's instance and the qmgr side of the protocol."""

    def __init__(self, inst):
        self.inst = inst

    def enqueue(self, body, rcpts):
        out = subprocess.run(
            [fixture("pan-enqueue"), "-c", self.inst.config_dir, "-r",
             "-f", SENDER] + list(rcpts),
            input=body, capture_output=True, timeout=scaled(60))
        assert out.returncode == 0, out.stderr
        return out.stdout.decode().split()[0]

    def deliver(self, nexthop, body, flags=0, rcpt="u@example.org",
                service="smtp"):
        """Queues body and delivers it; returns (qid, the recipient's
        status attributes)."""
        qid = self.enqueue(body, [rcpt])
        now = time.time()
        attrs = [("request", "deliver"), ("queue_id", qid),
                 ("transport", "smtp"), ("nexthop", nexthop),
                 ("sender", SENDER), ("arrival", "%d" % int(now - 1)),
                 ("arrival_usec", "0"), ("active", "%.3f" % now),
                 ("size", str(len(body))), ("flags", str(flags)),
                 ("envid", ""), ("ret", "0"), ("client_addr", "127.0.0.1"),
                 ("rcpt_index", "0"), ("rcpt", rcpt), ("orcpt", ""),
                 ("notify", "0")]
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(scaled(60))
        sock.connect(self.inst.socket_path(service))
        try:
            sock.sendall(attrlist.encode(attrs))
            reply = attrlist.recv(sock)
        finally:
            sock.close()
        group, tail = {}, {}
        for name, value in reply:
            value = value.decode("utf-8", "replace")
            if name in ("status", "reason"):
                tail[name] = value
            elif name != "rcpt_index":
                group[name] = value
        assert tail.get("status") == "done", tail
        return qid, group


class Sink:
    """smtp-sink -8 on HOST:port, dumping each message to a file."""

    def __init__(self, base):
        tool = panacea_test.tool("smtp-sink", "postfix",
                                 "/usr/sbin/smtp-sink")
        self.dir = os.path.join(str(base), "sink")
        os.mkdir(self.dir)
        os.chmod(self.dir, 0o777)
        panacea_test.open_path(self.dir)
        self.port = panacea_test.free_port(HOST)
        self.proc = subprocess.Popen(
            [tool, "-8", "-u", "nobody", "-d", self.dir + "/%M.",
             "%s:%d" % (HOST, self.port), "10"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: panacea_test.can_connect(HOST, self.port),
                   what="smtp-sink")

    def take(self):
        """The one message dumped since the last take(), removed."""
        files = wait_until(lambda: os.listdir(self.dir),
                           what="smtp-sink dump")
        path = os.path.join(self.dir, files[0])
        with open(path, "rb") as f:
            data = f.read()
        os.unlink(path)
        return data

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def world(tmp_path_factory, mail_owner):  # noqa: F811
    base = tmp_path_factory.mktemp("mime")
    panacea_test.open_path(str(base))
    sink = Sink(base)
    # The Panacea next hop: smtpd only; what it takes stays queued.
    peer = Instance(base / "peer")
    # A size limit the re-encoded message of test_refused_chunk exceeds.
    peer_port = smtpd_setup(peer, mail_owner, auth=False,
                            conf={"message_size_limit": "400000"})
    inst = Instance(base / "agent")
    inst.conf.update({
        "mail_owner": mail_owner,
        "myhostname": "panacea.test",
        "dns_nameservers": "127.0.0.1:9",
        "smtp_connect_timeout": "5s",
        "smtp_connection_cache_time_limit": "0s",
    })
    inst.services = [
        Instance.shipped("smtp"),
        Instance.shipped("smtp", listen="strict",
                         args="-o strict_8bitmime=yes "
                              "-o mime_nesting_limit=3"),
        Instance.shipped("smtp", listen="noconv",
                         args="-o disable_mime_output_conversion=yes "
                              "-o smtp_line_length_limit=0")]
    inst.write()
    inst.start()
    for name in ("smtp", "strict", "noconv"):
        wait_until(lambda: os.path.exists(inst.socket_path(name)),
                   what="private/" + name)
    yield {"agent": Agent(inst), "sink": sink, "peer": peer,
           "peer_hop": "[%s]:%d" % (peer.host, peer_port),
           "sink_hop": "[%s]:%d" % (HOST, sink.port)}
    sink.close()
    reports = [i.finish() for i in (inst, peer)]
    if any(reports):
        pytest.fail("sanitizer report: %s" % reports)


def peer_message(world, text):
    """The message the Panacea next hop queued (its Received: cut)."""
    m = re.search(r"queued as ([A-Za-z0-9]+)", text)
    assert m, text
    data = pancat(world["peer"], m.group(1))
    return re.sub(rb"\AReceived: .*?\r\n(?![ \t])", b"", data, flags=re.S)


def test_7bit_hop_gets_quoted_printable(world):
    msg = talk_message()
    qid, g = world["agent"].deliver(world["sink_hop"], msg,
                                    flags=FLAG_8BITMIME)
    assert g["class"] == "2", g
    got = world["sink"].take()
    assert max(got) < 128
    assert max(len(line) for line in got.split(b"\n")) <= 998
    assert leaves(got, lf=True) == leaves(msg, lf=True)
    # Every 8-bit part says what it became; base64 and 7bit ones did not
    # change.
    assert got.count(b"Content-Transfer-Encoding: quoted-printable") == 4
    assert b"Content-Transfer-Encoding: base64" in got
    assert base64.encodebytes(BINARY)[:76] in got
    # The attached message is relabelled 7bit, its own headers kept.
    assert b"Content-Type: message/rfc822\nContent-Transfer-Encoding: 7bit" \
        in got
    assert b"Subject: attached" in got
    # No BODY=8BITMIME to a server that does not offer it.
    assert b"X-Mail-Args: <%s>\n" % SENDER.encode() in got


def test_8bitmime_hop_gets_bdat_and_long_lines_reencoded(world):
    msg = talk_message()
    qid, g = world["agent"].deliver(world["peer_hop"], msg,
                                    flags=FLAG_8BITMIME)
    assert g["class"] == "2", g
    got = peer_message(world, g["text"])
    assert leaves(got) == leaves(msg)
    assert max(len(line) for line in got.split(b"\r\n")) <= 998
    # 8-bit parts without long lines go as they are.
    assert b"Caf\xe9 cr\xe8me br\xfbl\xe9e\r\n" in got
    assert INNER in got
    # The two parts with a 3,000-octet line are quoted-printable now.
    assert got.count(b"Content-Transfer-Encoding: quoted-printable") == 2
    world["agent"].inst.wait_log(
        r"%s: to=<u@example\.org>, .*status=sent" % qid)


def test_bdat_seen_by_peer(world):
    """The Panacea peer took the content by BDAT (smtpd counts it)."""
    body = b"Subject: chunks\r\n\r\n" + b"x" * 70 + b"\r\n"
    big = body + (b"y" * 900 + b"\r\n") * 200  # several 64 KiB chunks
    qid, g = world["agent"].deliver(world["peer_hop"], big)
    assert g["class"] == "2", g
    assert peer_message(world, g["text"]) == big
    world["peer"].wait_log(r"disconnect from .* bdat=\d+")


def test_binarymime_by_bdat(world):
    body = (b"Subject: binary\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: application/octet-stream\r\n"
            b"Content-Transfer-Encoding: binary\r\n\r\n" + BINARY)
    qid, g = world["agent"].deliver(world["peer_hop"], body,
                                    flags=FLAG_BINARYMIME)
    assert g["class"] == "2", g
    assert peer_message(world, g["text"]) == body


def test_binarymime_without_chunking_bounces(world):
    body = b"Subject: binary\r\n\r\n\x00\x01bare\nlf\r\n"
    qid, g = world["agent"].deliver(world["sink_hop"], body,
                                    flags=FLAG_BINARYMIME)
    assert g["class"] == "5" and g["dsn"] == "5.6.3", g
    assert "BINARYMIME" in g["text"], g


def test_refused_chunk_ends_the_transaction(world):
    """RFC 3030 2: a chunk refused (the message grew past the peer's
    limit once its 3-octet escapes were written) decides the recipient
    and no further chunk is sent."""
    body = (b"Subject: grows\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: text/plain; charset=iso-8859-1\r\n"
            b"Content-Transfer-Encoding: 8bit\r\n\r\n" +
            b"\xe9" * 300000 + b"\r\n")
    since = world["peer"].log_size()
    qid, g = world["agent"].deliver(world["peer_hop"], body,
                                    flags=FLAG_8BITMIME)
    assert g["class"] == "5" and g["dsn"] == "5.3.4", g
    assert "(in reply to BDAT command)" in g["text"], g
    m = world["peer"].wait_log(r"disconnect from .* bdat=(\d+)/(\d+)",
                               since=since)
    assert m.group(1) != m.group(2)


HEADER_8BIT = (b"Subject: caf\xc3\xa9\r\nMIME-Version: 1.0\r\n"
               b"Content-Type: text/plain; charset=utf-8\r\n"
               b"Content-Transfer-Encoding: 8bit\r\n\r\nbody \xc3\xa9\r\n")


def test_8bit_headers_sent_as_they_are_or_bounced(world):
    agent = world["agent"]
    qid, g = agent.deliver(world["sink_hop"], HEADER_8BIT,
                           flags=FLAG_8BITMIME)
    assert g["class"] == "2", g
    got = world["sink"].take()
    # The header cannot be converted; the body is.
    assert b"Subject: caf\xc3\xa9\n" in got
    assert b"\nbody =C3=A9\n" in got
    agent.inst.wait_log(r"%s: host .* does not offer 8BITMIME: 8-bit "
                        r"headers sent unconverted" % qid)
    qid, g = agent.deliver(world["sink_hop"], HEADER_8BIT,
                           flags=FLAG_8BITMIME, service="strict")
    assert g["class"] == "5" and g["dsn"] == "5.6.3", g
    assert "8-bit headers" in g["text"], g


def test_strict_body_bounces_non_mime_8bit(world):
    body = b"Subject: no MIME\r\n\r\nLatin-1 without MIME: \xe9\r\n"
    qid, g = world["agent"].deliver(world["sink_hop"], body,
                                    service="strict")
    assert g["class"] == "5" and g["dsn"] == "5.6.3", g
    assert "without 8-bit MIME encoding" in g["text"], g


def test_nesting_too_deep_to_convert_bounces(world):
    body = b"MIME-Version: 1.0\r\n"
    for level in range(4):
        body += (b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n"
                 b"--b%d\r\n" % (level, level))
    body += b"Content-Transfer-Encoding: 8bit\r\n\r\n\xe9\r\n"
    qid, g = world["agent"].deliver(world["sink_hop"], body,
                                    flags=FLAG_8BITMIME, service="strict")
    assert g["class"] == "5" and g["dsn"] == "5.6.0", g


def test_disable_mime_output_conversion(world):
    msg = talk_message()
    qid, g = world["agent"].deliver(world["sink_hop"], msg,
                                    flags=FLAG_8BITMIME, service="noconv")
    assert g["class"] == "2", g
    got = world["sink"].take()
    assert b"Caf\xe9 cr\xe8me br\xfbl\xe9e\n" in got
    assert LONG_ASCII + b"\n" in got
    assert b"quoted-printable" not in got
