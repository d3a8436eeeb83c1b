"""test_hops - mail across the Internet, hop after hop, on loopback.

The talk "How email really works" (Ahlquist & Visscher) follows one
message: paulv, on schrodinger.canonical.org, submits it to his relay
panacea.canonical.org for pea@dma.org and someone-else@example.com;
panacea looks up the MX of dma.org, kathalla.dma.org, and hands the
message over; kathalla passes it to dma.org's internal mailbox host
dmapub.dma.org, where it is written into pea's mailbox and read over
POP3.  A stranger who tries to relay through panacea is refused.

Here every host is a whole Panacea instance (hops_helpers.Host: master,
smtpd on port 25 of its own loopback address, qmgr, smtp, local), all names
resolve through one nsd holding the talk's zones, example.com's MX is
Postfix's smtp-sink, and the stranger and the odd remote servers are
scripted (smtp_peer.Peer).  The hosts are started once for the module;
each test uses its own recipients and reads the logs after its own
mark.  Tests run in file order: the POP3 test reads the talk's message.

What the Received: lines show: each smtpd writes "from HELO (NAME
[IP])", and names a 127.x client from /etc/hosts only ("unknown" for
all but 127.0.0.1: loopback clients never go to DNS, DESIGN.md), so the hops are identified by the
HELO names (each smtp client says EHLO $myhostname) and by the source
addresses (smtp_bind_address).
"""

import base64
import os
import poplib
import pwd
import re
import time

import pytest

import panacea_test
from dnsserver import DNSServer
from hops_helpers import (ADDR, CLIENT_NET, NAMES, SINK, Host,
                          PrivatePostfix, Sink, dsn_report, header_block,
                          make_account, make_map, make_sasldb,
                          need_postfix, remove_account, zones)
from panacea_test import peer_name, peer_re, program, scaled, wait_until
from pop3_helpers import pop3_services
from smtp_helpers import (DATE_RE, TALK_DATA, TALK_ID, Session,  # noqa: F401
                          mail_owner)
from smtp_peer import make_cert, peers  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="hosts need port 25 on loopback")

PAULV = "paulv@canonical.org"
PAULV_PASSWORD = "my_sekret_password_in_cleartext"
PEA = "pea@dma.org"
PEA_PASSWORD = "my_sekret_password_in_cleartext"
SOMEONE = "someone-else@example.com"

def lf(data):
    return data.replace(b"\r\n", b"\n")


# -- the world ---------------------------------------------------------------

class World:
    """The hosts of the talk and their DNS, started once per module."""

    def __init__(self, base, owner):
        self.base = str(base)
        self.owner = owner
        self.hosts = {}
        self.dns = DNSServer(zones(), address=ADDR["dns"],
                             workdir=os.path.join(self.base, "dns"))
        self.pea_created = False
        self.sink = None

    def path(self, *parts):
        return os.path.join(self.base, *parts)

    def setup(self):
        self.dns.start()
        if make_account("pea", self.path("home", "pea")) is not None:
            self.pea_created = True
        certs = os.path.join(self.base, "certs")
        self.cert_a = make_cert(os.path.join(certs, "a"), NAMES["panacea"])
        self.cert_b = make_cert(os.path.join(certs, "b"), NAMES["kathalla"])
        self.sink = Sink(ADDR["sink"], self.path("sink"))
        jail = "y"
        os.makedirs(self.path("panacea", "etc"), exist_ok=True)
        policy = make_map(self.path("panacea", "etc", "tls_policy"),
                          {"plain.example.com": "encrypt"})
        # A: paulv's relay.  Relays for its own network and for
        # authenticated users (paulv is a mail-only user of its sasldb,
        # whose mailbox gets the bounces); submission on 587.
        a = Host(self.path("panacea"), "panacea", self.owner, self.dns, conf={
            "mydestination": "$myhostname, canonical.org",
            "mynetworks": CLIENT_NET,
            "sasldb_path": make_sasldb(
                self.path("panacea", "etc", "sasldb2"),
                {"paulv": PAULV_PASSWORD}, NAMES["panacea"]),
            "smtpd_sasl_auth_enable": "yes",
            "smtpd_tls_cert_file": self.cert_a["cert"],
            "smtpd_tls_key_file": self.cert_a["key"],
            "smtpd_tls_security_level": "may",
            "smtpd_tls_received_header": "yes",
            "smtp_tls_security_level": "may",
            "smtp_tls_loglevel": "1",
            "smtp_tls_policy_maps": policy,
        }, services=[Host.shipped(
            "submission", "inet", 587, chroot=jail,
            args="-o smtpd_tls_auth_only=yes")])
        # B: the MX of dma.org, which passes dma.org on to its internal
        # mailbox host by transport_maps.
        os.makedirs(self.path("kathalla", "etc"), exist_ok=True)
        transport = make_map(self.path("kathalla", "etc", "transport"),
                             {"dma.org": "smtp:[%s]:25" % ADDR["dmapub"]})
        b = Host(self.path("kathalla"), "kathalla", self.owner, self.dns,
                 conf={
                     "relay_domains": "dma.org",
                     "transport_maps": transport,
                     "smtpd_tls_cert_file": self.cert_b["cert"],
                     "smtpd_tls_key_file": self.cert_b["key"],
                     "smtpd_tls_security_level": "may",
                     "smtpd_tls_received_header": "yes",
                     "smtp_tls_security_level": "may",
                 })
        # C: dma.org's mailbox host: local delivery, POP3 when built.
        os.makedirs(self.path("dmapub", "etc"), exist_ok=True)
        services = []
        self.pop3 = os.access(program("pop3d"), os.X_OK)
        if self.pop3:
            # The unprivileged front on 110 and pop3session (Host runs
            # the auth service).
            services += pop3_services(110, root=os.geteuid() == 0,
                                      auth=False)
        c = Host(self.path("dmapub"), "dmapub", self.owner, self.dns, conf={
            # ahlquist.org: pea's other address, which reaches dmapub
            # through a Postfix (the interop test).
            "mydestination": "$myhostname, dma.org, ahlquist.org",
            "sasldb_path": make_sasldb(
                self.path("dmapub", "etc", "sasldb2"),
                {"pea": PEA_PASSWORD}, NAMES["dmapub"]),
            "pop3d_auth_failure_delay": "0s",
        }, services=services)
        self.hosts = {"A": a, "B": b, "C": c}
        for h in (c, b, a):
            h.start()
        if self.pop3:
            c.wait_port(110)

    @property
    def a(self):
        return self.hosts["A"]

    @property
    def b(self):
        return self.hosts["B"]

    @property
    def c(self):
        return self.hosts["C"]

    def add_host(self, key, h):
        self.hosts[key] = h
        h.start()
        return h

    def marks(self):
        return {k: h.log_size() for k, h in self.hosts.items()}

    def teardown(self):
        """Stops every host; the first sanitizer report of any, or None."""
        reports = [h.finish() for h in self.hosts.values()]
        if self.sink:
            self.sink.close()
        self.dns.cleanup()
        if self.pea_created:
            remove_account("pea")
        return next((r for r in reports if r), None)


@pytest.fixture(scope="module")
def world(tmp_path_factory, mail_owner):  # noqa: F811
    panacea_test.tool("smtp-sink", "postfix", SINK)
    w = World(tmp_path_factory.mktemp("hops"), mail_owner)
    try:
        w.setup()
        yield w
    finally:
        report = w.teardown()
    if report:
        pytest.fail("sanitizer report: %s" % report)


@pytest.fixture
def hosts(world):
    """The world, with every host's log since the test began printed
    after it (pytest shows it when the test failed) and any sanitizer
    report failing the test."""
    marks = world.marks()
    errs = {k: len(h.stderr()) for k, h in world.hosts.items()}
    yield world
    report = None
    for k, h in world.hosts.items():
        print("---- %s (%s) maillog ----" % (k, h.name))
        print(h.log(marks.get(k, 0)))
        err = h.stderr()[errs.get(k, 0):]
        if err:
            print("---- %s master stderr ----" % k)
            print(err)
        report = report or panacea_test.sanitizer_report(
            err + h.log(marks.get(k, 0)))
    if report:
        pytest.fail("sanitizer report: %s" % report)


# -- helpers -------------------------------------------------------------------

def submit(host, rcpts, data=None, sender=PAULV, source=None,
           helo=NAMES["schrodinger"], port=25):
    """paulv's workstation submits data (bytes, CRLF) to host; returns
    the queue id."""
    if data is None:
        data = (b"From: Paul Visscher <paulv@canonical.org>\r\n"
                b"Subject: test\r\n\r\nhello\r\n")
    with Session(host.host, port, source=source or ADDR["schrodinger"]) as s:
        qid = s.send_message(sender, rcpts, data + b".\r\n", helo=helo)
        s.cmd("QUIT")
    return qid


def wait_dsn(a, rcpt, timeout=30):
    """The DSN about rcpt in paulv's mailbox on A: (raw, text, fields)."""
    def find():
        for raw in a.messages("paulv"):
            if b"multipart/report" not in raw:
                continue
            text, rcpts = dsn_report(raw)
            for f in rcpts:
                if rcpt.lower() in f.get("final-recipient", "").lower():
                    return raw, text, f
        return None
    return wait_until(find, timeout=timeout, what="a DSN about " + rcpt)


def received_lines(raw):
    return [f for f in header_block(raw) if f.startswith("Received:")]


def received_re(helo, addr, by, proto, qid, rcpt=None, tls=False):
    """One Received: line of Panacea's smtpd, unfolded."""
    r = r"Received: from %s \(%s \[%s\]\) " % (
        re.escape(helo), re.escape(peer_name(addr)), re.escape(addr))
    if tls:
        r += (r"\(using TLSv1\.[23] with cipher [A-Z0-9_-]+ "
              r"\(\d+/\d+ bits\)(\s+key-exchange [^()]+ \(\d+ bits\)[^()]*)?\) ")
    r += r"by %s \(Panacea\) with %s id %s" % (re.escape(by), proto, qid)
    r += r" for <%s>; " % re.escape(rcpt) if rcpt else "; "
    return r + DATE_RE


def sent_line(host, qid, rcpt, since=0, timeout=30):
    """The status=sent log line of rcpt and the next hop's queue id (from
    "queued as X"), or None for a local delivery."""
    line = host.wait_status(qid, rcpt, "sent", since=since, timeout=timeout)
    m = re.search(r"queued as (\w+)\)$", line)
    return line, m.group(1) if m else None


def flush_until_sent(host, qid, rcpt, since, timeout=30):
    """Flushes host's queue until rcpt's status=sent line shows; returns
    it.  The smtp agent logs the deferral a moment before qmgr ends the
    message's round and sets its next attempt (now + backoff): a flush
    that lands in between is undone, as a Postfix flush would miss a
    message still in its active queue; so flush again."""
    pattern = r"%s: to=<%s>, [^\n]*status=sent [^\n]*" % (
        re.escape(qid), re.escape(rcpt))

    def sent():
        m = re.search(pattern, host.log(since))
        if m is None:
            host.flush()
        return m
    return wait_until(sent, timeout=timeout, interval=1.0,
                      what="%s sent after a flush" % rcpt).group(0)


# -- the talk ------------------------------------------------------------------

def test_stranger_may_not_relay(hosts):
    """birch.ahlquist.org is not in panacea's network: "Relay access
    denied" (the talk's first attempt).  Authenticated (the talk's bonus
    section, AUTH PLAIN), the same client may relay."""
    a = hosts.a
    with Session(a.host, 25, source=ADDR["birch"]) as s:
        assert s.greeting.code == 220
        assert s.greeting.text.startswith(NAMES["panacea"] + " ESMTP")
        s.expect("helo ahlquist.org", 250, "^" + re.escape(NAMES["panacea"]))
        s.expect("mail from: <pea@ahlquist.org>", 250)
        r = s.cmd("rcpt to: <pea@dma.org>")
        assert str(r) == "454 4.7.1 <pea@dma.org>: Relay access denied"
        s.expect("quit", 221)
    with Session(a.host, 25, source=ADDR["birch"]) as s:
        ehlo = s.expect("EHLO birch.ahlquist.org", 250)
        assert any(l.startswith("AUTH") and "PLAIN" in l
                   for l in ehlo.lines), ehlo
        token = base64.b64encode(b"\0paulv\0" + PAULV_PASSWORD.encode())
        s.expect("AUTH PLAIN", 334)
        s.expect(token.decode(), 235)
        s.expect("mail from: <paulv@canonical.org>", 250)
        s.expect("rcpt to: <pea@dma.org>", 250)
        s.expect("RSET", 250)
        s.expect("QUIT", 221)
    a.wait_log(r"NOQUEUE: reject: RCPT from %s: 454 4\.7\.1 "
               r"<pea@dma\.org>: Relay access denied" % peer_re(ADDR["birch"]))


@pytest.fixture(scope="module")
def talk(world):
    """paulv's submission of the talk, as typed (lowercase commands, a
    space after the colon): returns what each host did with it."""
    a = world.a
    marks = world.marks()
    replies = []
    with Session(a.host, 25, source=ADDR["schrodinger"]) as s:
        replies.append(s.greeting)
        for line, code in (("helo schrodinger.canonical.org", 250),
                           ("mail from: <paulv@canonical.org>", 250),
                           ("rcpt to: <pea@dma.org>", 250),
                           ("rcpt to: <someone-else@example.com>", 250),
                           ("data", 354)):
            replies.append(s.expect(line, code))
        s.send(TALK_DATA + b".\r\n")
        end = s.reply()
        replies.append(end)
        replies.append(s.expect("quit", 221))
    m = re.fullmatch(r"2\.0\.0 Ok: queued as (\w+)", end.text)
    assert end.code == 250 and m, str(end)
    return {"qid": m.group(1), "replies": replies, "marks": marks}


def test_talk_three_hops_to_peas_mailbox(hosts, talk):
    a, b, c = hosts.a, hosts.b, hosts.c
    marks = talk["marks"]
    qa = talk["qid"]
    greeting, helo = talk["replies"][0], talk["replies"][1]
    assert greeting.text.startswith(NAMES["panacea"] + " ESMTP")
    assert helo.text == NAMES["panacea"]

    # Hop 1: A looked up the MX of dma.org and gave it to kathalla.
    line, qb = sent_line(a, qa, PEA, since=marks["A"])
    assert "relay=kathalla.dma.org[%s]:25," % ADDR["kathalla"] in line
    assert qb, line
    a.wait_log(r"Untrusted TLS connection established to kathalla\.dma\.org"
               r"\[%s\]:25: TLSv1\.[23] with cipher" %
               re.escape(ADDR["kathalla"]), since=marks["A"])
    # Hop 2: B's transport_maps sent dma.org to [dmapub]:25.
    line, qc = sent_line(b, qb, PEA, since=marks["B"])
    assert "relay=%s[%s]:25," % (ADDR["dmapub"], ADDR["dmapub"]) in line
    assert qc, line
    # Hop 3: C delivered locally.
    line, _ = sent_line(c, qc, PEA, since=marks["C"])
    assert "relay=local" in line and "dsn=2.0.0" in line, line
    for h, q in ((b, qb), (c, qc)):
        h.wait_removed(q)

    msgs = [m for m in c.wait_messages("pea", 1) if TALK_ID in m]
    assert len(msgs) == 1, msgs
    raw = msgs[0]
    fields = header_block(raw)
    assert fields[0] == "Return-Path: <paulv@canonical.org>", fields[:3]
    rec = received_lines(raw)
    assert len(rec) == 3, fields
    # Newest first: C's, B's, A's.  A's names no recipient: the message
    # had two.
    assert re.fullmatch(received_re(NAMES["kathalla"], ADDR["kathalla"],
                                    NAMES["dmapub"], "ESMTP", qc, PEA),
                        rec[0]), rec[0]
    assert re.fullmatch(received_re(NAMES["panacea"], ADDR["panacea"],
                                    NAMES["kathalla"], "ESMTPS", qb, PEA,
                                    tls=True), rec[1]), rec[1]
    assert re.fullmatch(received_re(NAMES["schrodinger"],
                                    ADDR["schrodinger"], NAMES["panacea"],
                                    "SMTP", qa), rec[2]), rec[2]
    # Nothing but trace fields above the message paulv typed, which
    # arrives byte for byte (mbox: LF line ends).
    head_len = raw.index(b"Date: Wed, 14 Feb 2007")
    assert raw[head_len:] == lf(TALK_DATA), raw
    trace = [f.split(":", 1)[0] for f in header_block(raw[:head_len] +
                                                       b"\n")]
    assert trace[0] == "Return-Path" and trace[-3:] == ["Received"] * 3
    assert set(trace[1:-3]) <= {"Delivered-To"}, trace
    # The mailbox is pea's.
    st = os.stat(c.mbox_path("pea"))
    assert st.st_uid == pwd.getpwnam("pea").pw_uid


def test_talk_other_recipient_at_example_coms_mx(hosts, talk):
    """someone-else@example.com went separately to example.com's MX, a
    foreign MTA (Postfix's smtp-sink)."""
    a = hosts.a
    qa = talk["qid"]
    line, _ = sent_line(a, qa, SOMEONE, since=talk["marks"]["A"])
    assert "relay=mx.example.com[%s]:25," % ADDR["sink"] in line
    a.wait_removed(qa)
    dumps = wait_until(lambda: hosts.sink.find(TALK_ID),
                       what="the talk's message at smtp-sink")
    assert len(dumps) == 1
    dump = dumps[0]
    head = header_block(dump)
    # smtp-sink's own fields say who came and what the envelope was.
    assert "X-Client-Addr: %s" % ADDR["panacea"] in head
    assert "X-Helo-Args: %s" % NAMES["panacea"] in head
    assert "X-Mail-Args: <paulv@canonical.org>" in " ".join(head)
    rcpts = [f for f in head if f.startswith("X-Rcpt-Args:")]
    assert rcpts == ["X-Rcpt-Args: <someone-else@example.com>"], rcpts
    rec = [f for f in head if f.startswith("Received:")]
    assert len(rec) == 2, head  # smtp-sink's own, then A's
    assert re.fullmatch(received_re(NAMES["schrodinger"],
                                    ADDR["schrodinger"], NAMES["panacea"],
                                    "SMTP", qa), rec[1]), rec[1]
    # smtp-sink writes an empty line after each message it dumps.
    start = dump.index(b"\nDate: Wed, 14 Feb 2007") + 1
    assert dump[start:] == lf(TALK_DATA) + b"\n", dump


def test_talk_pop3_on_dmapub(hosts, talk):
    """pea reads the message on dmapub over POP3, as the talk does: a
    wrong password, then LIST, RETR, DELE, RSET."""
    c = hosts.c
    assert hosts.pop3, "bin/pop3d is not built"
    stored = [m for m in c.wait_messages("pea", 1) if TALK_ID in m][0]
    bad = poplib.POP3(c.host, 110, timeout=scaled(20))
    bad.user("pea")
    with pytest.raises(poplib.error_proto) as e:
        bad.pass_("the_wrong_password")
    assert e.value.args[0].startswith(b"-ERR")
    bad.close()

    p = poplib.POP3(c.host, 110, timeout=scaled(20))
    try:
        assert p.getwelcome().startswith(b"+OK")
        assert p.user("pea").startswith(b"+OK")
        assert p.pass_(PEA_PASSWORD).startswith(b"+OK")
        resp, listing, _ = p.list()
        assert resp.startswith(b"+OK")
        sizes = dict(tuple(map(int, l.split())) for l in listing)
        boxed = c.messages("pea")
        assert len(sizes) == len(boxed)
        n = 1 + [i for i, m in enumerate(boxed) if TALK_ID in m][0]
        resp, lines, octets = p.retr(n)
        got = b"".join(l + b"\n" for l in lines)
        # What POP3 sends is the stored message (CRLF on the wire).
        assert got == stored, (got, stored)
        assert octets == sizes[n]
        assert p.dele(n).startswith(b"+OK")
        assert len(p.list()[1]) == len(sizes) - 1
        assert p.rset().startswith(b"+OK")
        assert len(p.list()[1]) == len(sizes)
    finally:
        p.quit()
    assert any(TALK_ID in m for m in c.messages("pea"))


# -- the way out: MX failover and DNS outcomes -------------------------------

def test_best_mx_refuses_second_mx_gets_it(hosts, peers):
    a = hosts.a
    mark = a.log_size()
    mx2 = peers(ADDR["failover-mx2"], name="mx2.failover.example.com")
    qid = submit(a, ["u@failover.example.com"])
    line, _ = sent_line(a, qid, "u@failover.example.com", since=mark)
    assert "relay=mx2.failover.example.com[%s]:25," % \
        ADDR["failover-mx2"] in line
    # Postfix's line: no queue id (a fact about the server).
    a.wait_log(r"smtp\[\d+\]: connect to mx1\.failover\.example\.com"
               r"\[%s\]:25: Connection refused" %
               re.escape(ADDR["failover-mx1"]), since=mark)
    (data,) = mx2.messages()
    assert re.search(rb"\r\n\tby panacea\.canonical\.org \(Panacea\) with "
                     rb"ESMTP id " + qid.encode(), data), data
    assert mx2.sessions[0]["commands"][0] == "EHLO " + NAMES["panacea"]


def test_all_mx_down_deferred_then_delivered(hosts, peers):
    a = hosts.a
    mark = a.log_size()
    rcpt = "u@alldown.example.com"
    qid = submit(a, [rcpt])
    line = a.wait_status(qid, rcpt, "deferred", since=mark)
    assert "dsn=4.4.1" in line, line
    assert line.endswith(
        "(connect to down1.alldown.example.com[%s]:25: Connection refused; "
        "connect to down2.alldown.example.com[%s]:25: Connection refused)"
        % (ADDR["down1"], ADDR["down2"])), line
    assert a.log_count(r"%s: removed" % qid, mark) == 0
    # The second MX comes back; a flush (panqueue -f) sends it there.
    down2 = peers(ADDR["down2"], name="down2.alldown.example.com")
    mark2 = a.log_size()
    line = flush_until_sent(a, qid, rcpt, since=mark2)
    assert "relay=down2.alldown.example.com[%s]:25," % ADDR["down2"] in line
    a.wait_removed(qid)
    assert len(down2.messages()) == 1


BOUNCES = [
    # (recipient, dsn, the cause in the DSN's text)
    ("u@nullmx.example.com", "5.1.10",
     "Domain nullmx.example.com does not accept mail (nullMX)"),
    ("u@nosuch.example.com", "5.1.2",
     "Host or domain name not found. Name service error for "
     "name=nosuch.example.com type=MX: Host not found"),
    ("u@loop.canonical.org", "5.4.6",
     "mail for loop.canonical.org loops back to myself"),
]


@pytest.mark.parametrize("rcpt,dsn,cause", BOUNCES,
                         ids=["null-mx", "nxdomain", "mx-is-self"])
def test_dns_outcome_bounces(hosts, rcpt, dsn, cause):
    a = hosts.a
    mark = a.log_size()
    qid = submit(a, [rcpt])
    line = a.wait_status(qid, rcpt, "bounced", since=mark)
    assert "relay=none" in line and "dsn=%s" % dsn in line, line
    assert line.endswith("(%s)" % cause), line
    a.wait_removed(qid)
    raw, text, f = wait_dsn(a, rcpt)
    assert f["action"] == "failed" and f["status"] == dsn, f
    assert cause in " ".join(text.split()), text
    assert cause in f.get("diagnostic-code", ""), f
    msg = header_block(raw)
    assert "Return-Path: <>" in msg, msg


def test_servfail_defers(hosts):
    """broken.example's zone does not load: nsd answers SERVFAIL."""
    a = hosts.a
    mark = a.log_size()
    rcpt = "u@broken.example"
    qid = submit(a, [rcpt])
    line = a.wait_status(qid, rcpt, "deferred", since=mark)
    assert "relay=none" in line and "dsn=4.4.3" in line, line
    assert "broken.example" in line.split("status=deferred", 1)[1], line
    assert a.log_count(r"%s: removed" % qid, mark) == 0


# -- what a remote answers ---------------------------------------------------

def test_per_recipient_250_450_550(hosts, peers):
    a = hosts.a
    mark = a.log_size()
    p = peers(ADDR["mixed"], name="mx.mixed.example.com")
    p.rcpt_reply = {"busy@mixed.example.com": "450 4.2.0 Mailbox busy",
                    "nobody@mixed.example.com": "550 5.1.1 No such user"}
    ok, busy, nobody = ("ok@mixed.example.com", "busy@mixed.example.com",
                        "nobody@mixed.example.com")
    qid = submit(a, [ok, busy, nobody])
    said = "host mx.mixed.example.com[%s] said: " % ADDR["mixed"]
    sent_line(a, qid, ok, since=mark)
    line = a.wait_status(qid, busy, "deferred", since=mark)
    assert line.endswith("(%s450 4.2.0 Mailbox busy (in reply to RCPT TO "
                         "command))" % said), line
    line = a.wait_status(qid, nobody, "bounced", since=mark)
    assert "dsn=5.1.1" in line
    assert line.endswith("(%s550 5.1.1 No such user (in reply to RCPT TO "
                         "command))" % said), line
    assert len(p.messages()) == 1
    # One RCPT each, one DATA for the accepted one.
    cmds = p.sessions[0]["commands"]
    assert [c for c in cmds if c.startswith("RCPT")] == [
        "RCPT TO:<%s>" % r for r in (ok, busy, nobody)]
    raw, text, f = wait_dsn(a, nobody)
    assert f["status"] == "5.1.1" and f["action"] == "failed", f
    assert f["remote-mta"] == "dns; mx.mixed.example.com", f
    assert f["diagnostic-code"] == "smtp; 550 5.1.1 No such user", f
    assert (said + "550 5.1.1 No such user") in " ".join(text.split())
    # Only the 550 is bounced: the 450 stays in the queue.
    rcpts = dsn_report(raw)[1]
    assert [r["final-recipient"] for r in rcpts] == ["rfc822; " + nobody]
    assert a.log_count(r"%s: removed" % qid, mark) == 0


def test_tls_encrypt_fails_cleanly_without_starttls(hosts, peers):
    """A's smtp_tls_policy_maps says plain.example.com must be
    encrypted; its MX offers no STARTTLS: deferred, nothing sent."""
    a = hosts.a
    mark = a.log_size()
    p = peers(ADDR["plain"], name="mx.plain.example.com")
    rcpt = "u@plain.example.com"
    qid = submit(a, [rcpt])
    line = a.wait_status(qid, rcpt, "deferred", since=mark)
    assert "dsn=4.7.4" in line, line
    assert line.endswith("(TLS is required, but was not offered by host "
                         "mx.plain.example.com[%s])" % ADDR["plain"]), line
    assert p.messages() == []
    cmds = p.sessions[0]["commands"]
    assert cmds[0] == "EHLO " + NAMES["panacea"]
    assert not any(c.startswith("MAIL") for c in cmds), cmds


def test_relayhost_auth_plain_over_tls(hosts):
    """paulv's laptop, outside canonical.org's network, sends through
    panacea (relayhost [panacea.canonical.org]:587) with AUTH PLAIN
    over STARTTLS; the message goes on A -> B -> C: four Received:."""
    world = hosts
    base = world.path("laptop")
    os.makedirs(os.path.join(base, "etc"), exist_ok=True)
    if "laptop" not in world.hosts:
        passwd = make_map(os.path.join(base, "etc", "sasl_passwd"),
                          {"[panacea.canonical.org]:587":
                           "paulv:" + PAULV_PASSWORD})
        world.add_host("laptop", Host(base, "laptop", world.owner, world.dns,
                                      conf={
            "relayhost": "[panacea.canonical.org]:587",
            "smtp_sasl_auth_enable": "yes",
            "smtp_sasl_password_maps": passwd,
            "smtp_tls_security_level": "may",
            # panacea's sasldb serves SCRAM too, which libsasl2 would
            # prefer: the talk's bonus section uses PLAIN.
            "smtp_sasl_mechanism_filter": "plain",
        }))
    lap, a, b, c = world.hosts["laptop"], world.a, world.b, world.c
    marks = world.marks()
    marks["laptop"] = lap.log_size()
    body = (b"From: paulv@canonical.org\r\nSubject: from the road\r\n"
            b"Message-ID: <road-1@laptop.canonical.org>\r\n\r\n"
            b"Sent through the smarthost.\r\n")
    q0 = submit(lap, [PEA], body, source=ADDR["laptop"],
                helo="laptop.canonical.org")
    line, qa = sent_line(lap, q0, PEA, since=marks["laptop"])
    assert "relay=panacea.canonical.org[%s]:587," % ADDR["panacea"] in line
    line, qb = sent_line(a, qa, PEA, since=marks["A"])
    line, qc = sent_line(b, qb, PEA, since=marks["B"])
    sent_line(c, qc, PEA, since=marks["C"])
    lap.wait_log(r"panacea\.canonical\.org\[%s\]: authenticated as paulv "
                 r"with PLAIN" % re.escape(ADDR["panacea"]),
                 since=marks["laptop"])
    a.wait_log(r"%s: client=%s, sasl_method=PLAIN, "
               r"sasl_username=paulv" % (qa, peer_re(ADDR["laptop"])),
               since=marks["A"])
    msgs = wait_until(lambda: [m for m in c.messages("pea")
                               if b"<road-1@laptop" in m],
                      what="the laptop's message on dmapub")
    rec = received_lines(msgs[0])
    assert len(rec) == 4, rec
    assert re.fullmatch(received_re(NAMES["laptop"], ADDR["laptop"],
                                    NAMES["panacea"], "ESMTPSA", qa, PEA,
                                    tls=True), rec[2]), rec[2]
    assert re.fullmatch(received_re("laptop.canonical.org", ADDR["laptop"],
                                    NAMES["laptop"], "ESMTP", q0, PEA),
                        rec[3]), rec[3]


# -- a foreign MTA in the middle ------------------------------------------------

def test_interop_panacea_postfix_panacea(hosts):
    """pea@ahlquist.org: the MX of ahlquist.org is a private Postfix,
    which relays the domain to dmapub: Panacea -> Postfix -> Panacea."""
    need_postfix()
    world = hosts
    a, c = world.a, world.c
    rcpt = "pea@ahlquist.org"
    pf = PrivatePostfix(world.path("postfix"), ADDR["postfix"],
                        NAMES["postfix"], "ahlquist.org",
                        "[%s]:25" % ADDR["dmapub"])
    marks = world.marks()
    try:
        pf.start()
        body = (b"From: Paul Visscher <paulv@canonical.org>\r\n"
                b"To: Paul Ahlquist <pea@ahlquist.org>\r\n"
                b"Subject: through a foreign MTA\r\n"
                b"Message-ID: <interop-1@canonical.org>\r\n\r\n"
                b"..dots and a long line " + b"x" * 900 + b"\r\n"
                b".\r\nend\r\n")
        # Dot-stuffed on the way in (submit sends the bytes as given).
        qa = submit(a, [rcpt], re.sub(rb"(?m)^\.", b"..", body))
        line, qp = sent_line(a, qa, rcpt, since=marks["A"])
        assert "relay=mx.ahlquist.org[%s]:25," % ADDR["postfix"] in line
        assert qp, line
        msgs = wait_until(lambda: [m for m in c.messages("pea")
                                   if b"<interop-1@canonical.org>" in m],
                          timeout=60, what="the message through Postfix")
    finally:
        print("---- Postfix maillog ----")
        print(pf.log())
        pf.stop()
    raw = msgs[0]
    rec = received_lines(raw)
    assert len(rec) == 3, rec
    qc = re.search(r" id (\w+) ", rec[0]).group(1)
    assert re.fullmatch(received_re(NAMES["postfix"], ADDR["postfix"],
                                    NAMES["dmapub"], "ESMTP", qc, rcpt),
                        rec[0]), rec[0]
    assert re.match(r"Received: from panacea\.canonical\.org \(unknown "
                    r"\[%s\]\) by mx\.ahlquist\.org \(Postfix\) with "
                    r"ESMTP id %s for <pea@ahlquist\.org>; " %
                    (re.escape(ADDR["panacea"]), qp), rec[1]), rec[1]
    assert re.fullmatch(received_re(NAMES["schrodinger"],
                                    ADDR["schrodinger"], NAMES["panacea"],
                                    "ESMTP", qa, rcpt), rec[2]), rec[2]
    start = raw.index(b"From: Paul Visscher")
    assert raw[start:] == lf(body), raw
    c.wait_log(r"%s: to=<pea@ahlquist\.org>, relay=local, .*status=sent"
               % qc, since=marks["C"])


# -- last: the DNS server goes away --------------------------------------------

def test_dns_server_down_defers_then_delivers(hosts):
    """nsd stopped: every lookup times out, the mail is deferred (4.4.3);
    nsd back and a flush: delivered."""
    a = hosts.a
    mark = a.log_size()
    rcpt = "later@example.com"
    hosts.dns.stop()
    try:
        t0 = time.monotonic()
        qid = submit(a, [rcpt])
        line = a.wait_status(qid, rcpt, "deferred", since=mark, timeout=60)
        assert "dsn=4.4.3" in line and "example.com" in line, line
        assert time.monotonic() - t0 < scaled(50)
    finally:
        hosts.dns.start()
    mark2 = a.log_size()
    line = flush_until_sent(a, qid, rcpt, since=mark2)
    assert "relay=mx.example.com[%s]:25," % ADDR["sink"] in line
    a.wait_removed(qid)
