"""test_smtp - the smtp delivery agent against real peers on loopback.

The agent runs under master as its services line says ("smtp unix - - y
- - smtp": chrooted and unprivileged as root), and the test plays qmgr:
it queues a message with the pan-enqueue fixture, sends a delivery
request (deliver_proto.h) to private/smtp and reads the reply, one group
per recipient.  The peers are each on their own address of a loopback /24
held for the run (panacea_test.loopback_net()), port
25: a scripted Python SMTP server (smtp_peer.py, with STARTTLS and AUTH
when asked) or Postfix's smtp-sink.  Every name resolves through a real
DNS server (nsd, dnsserver.py) on loopback holding the zones below.
"""

import os
import re
import socket
import ssl
import subprocess
import time

import pytest

import attrlist
import panacea_test
from dnsserver import DNSServer
from panacea_test import DELAY, Instance, fixture, scaled, wait_until
from smtp_helpers import mail_owner  # noqa: F401
from smtp_peer import make_cert, peers  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="peers need port 25 on loopback")

NET = panacea_test.loopback_net()
NET_RE = re.escape(NET)
DNS_ADDR = NET + "53"
MYHOSTNAME = "panacea.test"

ZONES = {
    "dest.test": """
order     MX 10 mx1.dest.test.
order     MX 20 mx2.dest.test.
fallback  MX 10 down1.dest.test.
fallback  MX 20 mx2.dest.test.
alldown   MX 10 down1.dest.test.
alldown   MX 20 down2.dest.test.
plain     A @NET@31
nullmx    MX 0 .
self      MX 10 panacea.test.
self      MX 20 mx1.dest.test.
greet     MX 10 mx3.dest.test.
greet     MX 20 mx2.dest.test.
tls       MX 10 tls.dest.test.
wrongname MX 10 wrongname.dest.test.
policy    MX 10 mx1.dest.test.
sink      MX 10 sink.dest.test.
mx1       A @NET@11
mx2       A @NET@12
mx3       A @NET@13
down1     A @NET@21
down2     A @NET@22
tls       A @NET@41
wrongname A @NET@41
relay     A @NET@61
sink      A @NET@71
addrself  MX 10 alias.dest.test.
addrbackup MX 10 mx1.dest.test.
addrbackup MX 20 alias.dest.test.
addrequal MX 10 mx1.dest.test.
addrequal MX 10 alias.dest.test.
noprimary MX 5 noaddr.dest.test.
noprimary MX 10 alias.dest.test.
proxyself MX 10 nat.dest.test.
alias     A @NET@81
nat       A @NET@82
""".replace("@NET@", NET),
}


@pytest.fixture(scope="module")
def dns():
    server = DNSServer(ZONES, address=DNS_ADDR)
    server.start()
    yield server
    server.cleanup()


class Agent:
    """A Panacea instance that runs only the smtp agent, and the qmgr side
    of the delivery protocol."""

    def __init__(self, inst, owner):
        self.inst = inst
        self.owner = owner

    def enqueue(self, body, rcpts, sender="sender@panacea.test"):
        """Queues body (bytes, stored as given) for rcpts; returns
        (queue id, stored size)."""
        out = subprocess.run(
            [fixture("pan-enqueue"), "-c", self.inst.config_dir, "-r",
             "-f", sender] + list(rcpts),
            input=body, capture_output=True, timeout=scaled(60))
        assert out.returncode == 0, out.stderr
        qid = out.stdout.decode().split()[0]
        return qid, len(body)

    def request(self, qid, size, nexthop, rcpts, sender="sender@panacea.test",
                flags=0, envid="", ret=0, orcpts=None, notify=None,
                timeout=60):
        """Sends one delivery request; returns ({rcpt_index: group}, status
        attributes)."""
        now = time.time()
        attrs = [("request", "deliver"), ("queue_id", qid),
                 ("transport", "smtp"), ("nexthop", nexthop),
                 ("sender", sender), ("arrival", "%d" % int(now - 1)),
                 ("arrival_usec", "0"), ("active", "%.3f" % now),
                 ("size", str(size)), ("flags", str(flags)),
                 ("envid", envid), ("ret", str(ret)),
                 ("client_addr", "127.0.0.1")]
        for i, r in enumerate(rcpts):
            attrs += [("rcpt_index", str(i)), ("rcpt", r),
                      ("orcpt", (orcpts or {}).get(r, "")),
                      ("notify", str((notify or {}).get(r, 0)))]
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(scaled(timeout))
        sock.connect(self.inst.socket_path("smtp"))
        try:
            sock.sendall(attrlist.encode(attrs))
            reply = attrlist.recv(sock)
        finally:
            sock.close()
        groups, current, tail = {}, None, {}
        for name, value in reply:
            value = value.decode("utf-8", "replace")
            if name == "rcpt_index":
                current = groups.setdefault(int(value), {})
            elif name in ("status", "reason"):
                tail[name] = value
            else:
                current[name] = value
        return groups, tail

    def deliver(self, nexthop, rcpts, body=None, **kw):
        if body is None:
            body = b"Subject: test\r\n\r\nhello\r\n"
        qid, size = self.enqueue(body, rcpts)
        groups, tail = self.request(qid, size, nexthop, rcpts, **kw)
        assert tail.get("status") == "done", tail
        assert sorted(groups) == list(range(len(rcpts)))
        return qid, [groups[i] for i in range(len(rcpts))]


def make_map(path, entries):
    """A hash: table at path (text source and path.db) with entries, made
    with Berkeley DB's own db_load (keys lower case, no NUL, as
    lib/maps.c stores them)."""
    with open(path, "w") as f:
        for k, v in entries.items():
            f.write("%s %s\n" % (k, v))
    text = "".join("%s\n%s\n" % (k.lower(), v) for k, v in entries.items())
    if os.path.exists(path + ".db"):
        os.unlink(path + ".db")
    subprocess.run(["db5.3_load", "-T", "-t", "hash", path + ".db"],
                   input=text.encode(), check=True, timeout=30)
    return "hash:" + path


@pytest.fixture
def agent(tmp_path, dns, mail_owner):  # noqa: F811
    """Returns start(conf=None, maxproc="-"): an Agent whose master runs."""
    inst = Instance(tmp_path)

    def start(conf=None, maxproc="-"):
        inst.conf.update({
            "mail_owner": mail_owner,
            "myhostname": MYHOSTNAME,
            "dns_nameservers": dns.nameservers,
            "smtp_connect_timeout": "5s",
            "smtp_helo_timeout": "20s",
            # Each delivery on its own connection unless a test wants
            # reuse: peers change their answers between deliveries.
            "smtp_connection_cache_time_limit": "0s",
            # The tests read the TLS summary and certificate lines.
            "smtp_tls_loglevel": "2",
        })
        inst.conf.update(conf or {})
        inst.services = [Instance.shipped("smtp", maxproc=maxproc)]
        inst.write()
        panacea_test.open_path(inst.base)
        inst.start()
        wait_until(lambda: os.path.exists(inst.socket_path("smtp")),
                   what="private/smtp")
        return Agent(inst, mail_owner)

    yield start
    report = inst.finish()
    if report:
        pytest.fail("sanitizer report: %s" % report)


LOG_SENT = (r"{qid}: to=<{rcpt}>, relay={relay}, delay=" + DELAY +
            r", delays=" + "/".join([DELAY] * 4) + r", dsn=2\.0\.0, "
            r"status=sent \(250 2\.0\.0 Ok: queued as PEER\d+\)")


# -- MX order, fallback, DNS outcomes ------------------------------------

def test_mx_preference_order(agent, peers):
    a = agent()
    mx1, mx2 = peers(NET + "11"), peers(NET + "12")
    qid, (g,) = a.deliver("order.dest.test", ["u@order.dest.test"])
    assert g["class"] == "2" and g["dsn"] == "2.0.0", g
    assert g["relay"] == "mx1.dest.test[" + NET + "11]:25"
    assert g["remote_mta"] == "mx1.dest.test"
    assert re.match(r"250 2\.0\.0 Ok: queued as PEER1$", g["text"]), g
    assert len(mx1.messages()) == 1 and mx2.messages() == []
    a.inst.wait_log(LOG_SENT.format(qid=qid, rcpt=re.escape(
        "u@order.dest.test"), relay=re.escape(g["relay"])))
    # The dialogue: EHLO with smtp_helo_name, envelope, QUIT.
    cmds = mx1.sessions[0]["commands"]
    assert cmds[0] == "EHLO " + MYHOSTNAME
    assert cmds[1] == "MAIL FROM:<sender@panacea.test> BODY=8BITMIME" or \
        cmds[1].startswith("MAIL FROM:<sender@panacea.test>")
    assert cmds[2] == "RCPT TO:<u@order.dest.test>"
    # The connection is kept for reuse, then ended by a timer.
    wait_until(lambda: cmds[-1:] == ["QUIT"], timeout=10, what="QUIT")
    assert cmds[3:] == ["DATA", "QUIT"]


def test_best_mx_refuses_second_gets_it(agent, peers):
    a = agent()
    mx2 = peers(NET + "12")
    _, (g,) = a.deliver("fallback.dest.test", ["u@fallback.dest.test"])
    assert g["class"] == "2", g
    assert g["relay"] == "mx2.dest.test[" + NET + "12]:25"
    assert len(mx2.messages()) == 1
    # Postfix's line: no queue id (a fact about the server).
    a.inst.wait_log(r"smtp\[\d+\]: connect to down1\.dest\.test\[%s21\]:25: "
                    r"Connection refused" % NET_RE)


def test_all_mx_down_deferred_with_every_reason(agent):
    a = agent()
    qid, (g,) = a.deliver("alldown.dest.test", ["u@alldown.dest.test"])
    assert g["class"] == "4" and g["dsn"] == "4.4.1", g
    assert g["relay"] == "none"
    assert g["text"] == (
        "connect to down1.dest.test[" + NET + "21]:25: Connection refused; "
        "connect to down2.dest.test[" + NET + "22]:25: Connection refused")
    a.inst.wait_log(r"%s: to=<u@alldown\.dest\.test>, relay=none, .*"
                    r"dsn=4\.4\.1, status=deferred \(connect to " % qid)


def test_mx_address_limit(agent):
    a = agent({"smtp_mx_address_limit": "1"})
    qid, (g,) = a.deliver("alldown.dest.test", ["u@alldown.dest.test"])
    assert g["class"] == "4"
    assert "down2" not in g["text"], g


def test_no_mx_means_the_a_record(agent, peers):
    a = agent()
    p = peers(NET + "31")
    qid, (g,) = a.deliver("plain.dest.test", ["u@plain.dest.test"])
    assert g["class"] == "2", g
    assert g["relay"] == "plain.dest.test[" + NET + "31]:25"
    assert len(p.messages()) == 1


def test_null_mx_bounces(agent):
    a = agent()
    qid, (g,) = a.deliver("nullmx.dest.test", ["u@nullmx.dest.test"])
    assert (g["class"], g["dsn"]) == ("5", "5.1.10"), g
    assert g["text"] == \
        "Domain nullmx.dest.test does not accept mail (nullMX)"
    a.inst.wait_log(r"%s: to=<u@nullmx\.dest\.test>, relay=none, .*"
                    r"dsn=5\.1\.10, status=bounced \(Domain nullmx" % qid)


def test_nxdomain_bounces(agent):
    a = agent()
    qid, (g,) = a.deliver("nosuch.dest.test", ["u@nosuch.dest.test"])
    assert (g["class"], g["dsn"]) == ("5", "5.1.2"), g
    assert g["text"] == ("Host or domain name not found. Name service "
                         "error for name=nosuch.dest.test type=MX: Host "
                         "not found")


def test_mx_pointing_back_to_self_bounces(agent, peers):
    # Only a worse MX than ourselves exists: a loop.
    a = agent()
    peers(NET + "11")
    qid, (g,) = a.deliver("self.dest.test", ["u@self.dest.test"])
    assert (g["class"], g["dsn"]) == ("5", "5.4.6"), g
    assert g["text"] == "mail for self.dest.test loops back to myself"


# The agent's own addresses: its inet_interfaces (it listens on nothing,
# so any address serves) and a NAT in front of it.
SELF_ADDR, PROXY_ADDR = NET + "81", NET + "82"


def test_mx_at_own_address_is_a_loop(agent, peers):
    """An MX host whose address is one of ours (inet_interfaces or
    proxy_interfaces) is this host whatever its name, as Postfix finds it:
    only strictly better MX hosts are tried, none left is a loop (5.4.6),
    better MX hosts without an address are waited for (4.4.4).  Only
    towards port 25: another port is not a loop."""
    a = agent({"inet_interfaces": SELF_ADDR,
               "proxy_interfaces": PROXY_ADDR})
    mx1 = peers(NET + "11")
    loop = "mail for %s loops back to myself"
    for domain in ("addrself.dest.test", "addrequal.dest.test",
                   "proxyself.dest.test"):
        qid, (g,) = a.deliver(domain, ["u@" + domain])
        assert (g["class"], g["dsn"], g["text"]) == (
            "5", "5.4.6", loop % domain), (domain, g)
    assert mx1.messages() == []
    a.inst.wait_log(r"to=<u@addrself\.dest\.test>, relay=none, .*"
                    r"dsn=5\.4\.6, status=bounced \(mail for "
                    r"addrself\.dest\.test loops back to myself\)")
    # We are the backup MX: the primary gets the mail.
    qid, (g,) = a.deliver("addrbackup.dest.test", ["u@addrbackup.dest.test"])
    assert (g["class"], g["dsn"]) == ("2", "2.0.0"), g
    assert len(mx1.messages()) == 1
    # The primary has no address: wait for it rather than bounce.
    qid, (g,) = a.deliver("noprimary.dest.test", ["u@noprimary.dest.test"])
    assert (g["class"], g["dsn"], g["text"]) == (
        "4", "4.4.4", "unable to find primary relay for noprimary.dest.test")
    # A [host] next hop at our own address, port 25: a loop; on another
    # port (a content filter, say) it is tried (and nothing listens).
    qid, (g,) = a.deliver("[%s]" % SELF_ADDR, ["u@x.test"])
    assert (g["class"], g["dsn"], g["text"]) == (
        "5", "5.4.6", loop % SELF_ADDR), g
    qid, (g,) = a.deliver("[%s]:2526" % SELF_ADDR, ["u@x.test"])
    assert (g["class"], g["dsn"]) == ("4", "4.4.1"), g


def test_dns_server_down_defers(agent, tmp_path):
    a = agent({"dns_nameservers": NET + "54:53"})
    start = time.monotonic()
    qid, (g,) = a.deliver("order.dest.test", ["u@order.dest.test"],
                          timeout=120)
    assert (g["class"], g["dsn"]) == ("4", "4.4.3"), g
    assert "order.dest.test" in g["text"], g
    assert time.monotonic() - start < scaled(60)


def test_bracketed_next_hop_skips_mx_lookup(agent, peers):
    a = agent()
    p = peers(NET + "12")
    # order.dest.test's best MX is mx1 (not running): [mx2...] goes
    # straight to mx2, and so does a numeric address.
    qid, (g,) = a.deliver("[mx2.dest.test]", ["u@order.dest.test"])
    assert g["relay"] == "mx2.dest.test[" + NET + "12]:25", g
    qid, (g,) = a.deliver("[" + NET + "12]:25", ["u@order.dest.test"])
    assert g["relay"] == "%s12[%s12]:25" % (NET, NET), g
    assert len(p.messages()) == 2


def test_greeting_4xx_moves_on(agent, peers):
    a = agent()
    bad, good = peers(NET + "13"), peers(NET + "12")
    bad.greeting = "421 4.3.2 not now"
    qid, (g,) = a.deliver("greet.dest.test", ["u@greet.dest.test"])
    assert g["class"] == "2" and "mx2" in g["relay"], g
    a.inst.wait_log(r"host mx3\.dest\.test\[" + NET_RE + r"13\] refused to "
                    r"talk to me: 421 4\.3\.2 not now")
    assert len(good.messages()) == 1


# -- dialogue --------------------------------------------------------------

def test_per_recipient_results(agent, peers):
    a = agent()
    p = peers(NET + "11")
    p.rcpt_reply = {"busy@order.dest.test": "450 4.2.0 Mailbox busy",
                    "nobody@order.dest.test": "550 5.1.1 No such user"}
    rcpts = ["ok@order.dest.test", "busy@order.dest.test",
             "nobody@order.dest.test"]
    # mx2 is down: the 450 recipient has no other server to go to.
    qid, (ok, busy, nobody) = a.deliver("order.dest.test", rcpts)
    assert (ok["class"], ok["dsn"]) == ("2", "2.0.0"), ok
    assert (busy["class"], busy["dsn"]) == ("4", "4.2.0"), busy
    assert busy["text"] == ("host mx1.dest.test[" + NET + "11] said: 450 "
                            "4.2.0 Mailbox busy (in reply to RCPT TO "
                            "command)")
    assert (nobody["class"], nobody["dsn"]) == ("5", "5.1.1"), nobody
    assert nobody["text"] == ("host mx1.dest.test[" + NET + "11] said: 550 "
                              "5.1.1 No such user (in reply to RCPT TO "
                              "command)")
    assert len(p.messages()) == 1
    log = a.inst.wait_log(r"%s: to=<nobody@order\.dest\.test>.*" % qid)
    assert "status=bounced (host mx1.dest.test[" + NET + "11] said: 550" in \
        log.group(0)
    a.inst.wait_log(r"%s: to=<busy@order\.dest\.test>.*dsn=4\.2\.0, "
                    r"status=deferred \(host mx1" % qid)


def test_data_reply_decides_accepted_recipients(agent, peers):
    a = agent()
    p = peers(NET + "11")
    p.data_reply = "554 5.7.1 Message rejected"
    qid, gs = a.deliver("order.dest.test", ["a@order.dest.test",
                                            "b@order.dest.test"])
    for g in gs:
        assert (g["class"], g["dsn"]) == ("5", "5.7.1"), g
        assert g["text"].endswith("(in reply to end of DATA command)")


def test_soft_recipient_goes_to_next_mx(agent, peers):
    a = agent()
    mx1, mx2 = peers(NET + "11"), peers(NET + "12")
    mx1.rcpt_reply = {"b@order.dest.test": "451 4.3.0 try elsewhere"}
    qid, (ga, gb) = a.deliver("order.dest.test", ["a@order.dest.test",
                                                  "b@order.dest.test"])
    assert ga["class"] == "2" and "mx1" in ga["relay"], ga
    assert gb["class"] == "2" and "mx2" in gb["relay"], gb
    assert mx2.sessions[0]["commands"][2] == "RCPT TO:<b@order.dest.test>"


def test_mail_from_rejected_bounces_all(agent, peers):
    a = agent()
    p = peers(NET + "11")
    p.mail_reply = "553 5.7.1 Sender refused"
    qid, gs = a.deliver("order.dest.test", ["a@order.dest.test",
                                            "b@order.dest.test"])
    for g in gs:
        assert (g["class"], g["dsn"]) == ("5", "5.7.1"), g
        assert g["text"].endswith("(in reply to MAIL FROM command)")
    assert p.messages() == []


def test_helo_fallback(agent, peers):
    a = agent()
    p = peers(NET + "11")
    p.ehlo_ok = False
    qid, (g,) = a.deliver("order.dest.test", ["u@order.dest.test"])
    assert g["class"] == "2", g
    cmds = p.sessions[0]["commands"]
    assert cmds[:3] == ["EHLO " + MYHOSTNAME, "HELO " + MYHOSTNAME,
                        "MAIL FROM:<sender@panacea.test>"]


def test_size_limit_of_the_peer(agent, peers):
    a = agent()
    p = peers(NET + "11")
    p.extensions.append("SIZE 100")
    body = b"Subject: big\r\n\r\n" + b"x" * 200 + b"\r\n"
    qid, (g,) = a.deliver("order.dest.test", ["u@order.dest.test"],
                          body=body)
    assert (g["class"], g["dsn"]) == ("5", "5.3.4"), g
    assert g["text"] == ("message size %d exceeds size limit 100 of server "
                         "mx1.dest.test[%s11]" % (len(body), NET))
    assert not any(c.startswith("MAIL") for c in p.sessions[0]["commands"])
    # Under the limit, SIZE= is announced.
    p.extensions[-1] = "SIZE 100000"
    qid, (g,) = a.deliver("order.dest.test", ["u@order.dest.test"],
                          body=body)
    assert g["class"] == "2"
    assert "SIZE=%d" % len(body) in p.sessions[-1]["commands"][1]


def test_dsn_parameters_passed_on(agent, peers):
    a = agent()
    p = peers(NET + "11")
    rcpt = "u@order.dest.test"
    qid, (g,) = a.deliver(
        "order.dest.test", [rcpt], envid="env+2Bid", ret=2,
        orcpts={rcpt: "rfc822;orig+2Bx@panacea.test"},
        notify={rcpt: 0x02 | 0x04})
    assert g["class"] == "2"
    cmds = p.sessions[0]["commands"]
    assert cmds[1] == ("MAIL FROM:<sender@panacea.test> RET=HDRS "
                       "ENVID=env+2Bid")
    assert cmds[2] == ("RCPT TO:<u@order.dest.test> NOTIFY=SUCCESS,FAILURE "
                       "ORCPT=rfc822;orig+2Bx@panacea.test")
    a.inst.wait_log(r"%s: to=<u@order\.dest\.test>, "
                    r"orig_to=<orig\+x@panacea\.test>, relay=mx1" % qid)
    # Without DSN support at the peer, no DSN parameters.
    p.extensions.remove("DSN")
    qid, (g,) = a.deliver("order.dest.test", [rcpt], envid="x", ret=1,
                          notify={rcpt: 0x01})
    cmds = p.sessions[-1]["commands"]
    assert cmds[1] == "MAIL FROM:<sender@panacea.test>"
    assert cmds[2] == "RCPT TO:<u@order.dest.test>"


def test_smtputf8_needed_but_not_offered(agent, peers):
    a = agent()
    p = peers(NET + "11")
    p.extensions.remove("SMTPUTF8")
    rcpt = "j\u00f6rg@order.dest.test"
    qid, (g,) = a.deliver("order.dest.test", [rcpt], flags=0x04)
    assert (g["class"], g["dsn"]) == ("5", "5.6.7"), g
    assert g["text"] == ("SMTPUTF8 is required, but was not offered by "
                         "host mx1.dest.test[" + NET + "11]")
    p.extensions.append("SMTPUTF8")
    qid, (g,) = a.deliver("order.dest.test", [rcpt], flags=0x04)
    assert g["class"] == "2", g
    assert p.sessions[-1]["commands"][1].endswith(" SMTPUTF8")


def test_content_is_dot_stuffed_with_crlf_only(agent, peers):
    a = agent()
    p = peers(NET + "11")
    # Bare LF, bare CR, a CR LF, leading dots, the SMTP smuggling
    # sequences, and an unterminated last line.
    body = (b"Subject: dots\r\n\r\n"
            b".starts with a dot\r\n"
            b"..two dots\n"
            b"bare lf\n.\n"
            b"bare cr\r.\r"
            b"smuggle\n.\r\nMAIL FROM:<evil@x>\r\n"
            b".\r\n"
            b"last line")
    expected = (b"Subject: dots\r\n\r\n"
                b"..starts with a dot\r\n"
                b"...two dots\r\n"
                b"bare lf\r\n..\r\n"
                b"bare cr\r\n..\r\n"
                b"smuggle\r\n..\r\nMAIL FROM:<evil@x>\r\n"
                b"..\r\n"
                b"last line\r\n"
                b".\r\n")
    qid, (g,) = a.deliver("order.dest.test", ["u@order.dest.test"],
                          body=body)
    assert g["class"] == "2", g
    assert p.messages() == [expected]


def test_large_content_across_chunks(agent, peers):
    a = agent()
    p = peers(NET + "11")
    # Lines of 99 bytes ending in CR LF: the 64 KiB chunk boundaries of
    # the queue fall inside line endings and dots somewhere.
    line = b"." + b"y" * 96 + b"\r\n"
    body = b"Subject: big\r\n\r\n" + line * 3000
    qid, (g,) = a.deliver("order.dest.test", ["u@order.dest.test"],
                          body=body)
    assert g["class"] == "2", g
    want = body.replace(b"\r\n.", b"\r\n..") + b".\r\n"
    assert p.messages() == [want]


def test_smtp_header_and_body_checks(agent, peers, tmp_path):
    """smtp_header_checks and smtp_body_checks on the way out, with the
    smtp client's actions; REJECT is not one of them."""
    hc = tmp_path / "smtp_header_checks"
    hc.write_text("/^X-Internal:/ IGNORE\n"
                  "/^Subject: (.*)/ REPLACE Subject: [out] $1\n"
                  "/^From:/ REJECT not here\n"
                  "/^To:/ WARN leaving\n")
    bc = tmp_path / "smtp_body_checks"
    bc.write_text("/^secret \\w+/ REPLACE redacted\n")
    a = agent({"smtp_header_checks": "regexp:%s" % hc,
               "smtp_body_checks": "pcre:%s" % bc})
    p = peers(NET + "11")
    body = (b"From: <s@panacea.test>\r\n"
            b"To: <u@order.dest.test>\r\n"
            b"X-Internal: 10.0.0.1\r\n"
            b"Subject: hi\r\n"
            b"\r\n"
            b"secret plan\r\n"
            b"bye\r\n")
    qid, (g,) = a.deliver("order.dest.test", ["u@order.dest.test"],
                          body=body)
    assert g["class"] == "2", g
    assert p.messages() == [b"From: <s@panacea.test>\r\n"
                            b"To: <u@order.dest.test>\r\n"
                            b"Subject: [out] hi\r\n"
                            b"\r\n"
                            b"redacted\r\n"
                            b"bye\r\n"
                            b".\r\n"]
    log = a.inst.log()
    assert re.search(qid + r": warning: header To: <u@order\.dest\.test>: "
                     r"leaving\n", log), log
    assert re.search(qid + r": replace: header Subject: hi: Subject: "
                     r"\[out\] hi\n", log), log
    assert re.search(qid + r": replace: body secret plan: redacted\n", log)
    assert re.search(r"warning: " + qid + r": REJECT action in "
                     r"smtp_header_checks map is not supported", log), log


def test_connection_reuse(agent, peers):
    a = agent({"smtp_connection_cache_time_limit": "30s"}, maxproc="1")
    p = peers(NET + "11")
    for _ in range(3):
        qid, (g,) = a.deliver("order.dest.test", ["u@order.dest.test"])
        assert g["class"] == "2", g
    assert len(p.messages()) == 3
    assert len(p.sessions) == 1, [s["commands"] for s in p.sessions]
    assert p.sessions[0]["commands"].count("RSET") == 2


# -- TLS -------------------------------------------------------------------

@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = tmp_path_factory.mktemp("certs")
    return make_cert(str(d), "tls.dest.test")


def test_starttls_may(agent, peers, certs):
    a = agent({"smtp_tls_security_level": "may"})
    p = peers(NET + "41")
    p.tls_context = certs["server_context"]
    qid, (g,) = a.deliver("tls.dest.test", ["u@tls.dest.test"])
    assert g["class"] == "2", g
    assert p.sessions[0]["tls"]
    cmds = p.sessions[0]["commands"]
    assert cmds[:3] == ["EHLO " + MYHOSTNAME, "STARTTLS",
                        "EHLO " + MYHOSTNAME]
    a.inst.wait_log(r"Untrusted TLS connection established to "
                    r"tls\.dest\.test\[" + NET_RE + r"41\]:25: TLSv1\.[23] "
                    r"with cipher \S+ \(\d+/\d+ bits\)")
    a.inst.wait_log(r"tls\.dest\.test\[" + NET_RE + r"41\]:25: peer certificate "
                    r"subject_CN=tls\.dest\.test, "
                    r"issuer_CN=Panacea Smtp Test CA")


def test_starttls_may_without_tls_at_peer_sends_plain(agent, peers):
    a = agent({"smtp_tls_security_level": "may"})
    p = peers(NET + "41")
    qid, (g,) = a.deliver("tls.dest.test", ["u@tls.dest.test"])
    assert g["class"] == "2", g
    assert not p.sessions[0]["tls"]


def test_encrypt_fails_cleanly_without_tls(agent, peers):
    a = agent({"smtp_tls_security_level": "encrypt"})
    p = peers(NET + "41")
    qid, (g,) = a.deliver("tls.dest.test", ["u@tls.dest.test"])
    assert (g["class"], g["dsn"]) == ("4", "4.7.4"), g
    assert g["text"] == ("TLS is required, but was not offered by host "
                         "tls.dest.test[" + NET + "41]")
    assert p.messages() == []
    assert p.sessions[0]["commands"][-1] == "QUIT"


def cbc_only_context(certs):
    """A peer that speaks TLS 1.2 with one CBC suite only."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certs["cert"], certs["key"])
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers("ECDHE-RSA-AES128-SHA")
    return ctx


def test_mandatory_ciphers_refuse_cbc_peer(agent, peers, certs):
    """At level encrypt smtp offers the mandatory grade (medium, without
    CBC by default): a peer with only a CBC suite fails the handshake;
    smtp_tls_mandatory_ciphers = high with a tls_high_cipherlist that
    allows CBC gets through."""
    a = agent({"smtp_tls_security_level": "encrypt"})
    p = peers(NET + "41")
    p.tls_context = cbc_only_context(certs)
    qid, (g,) = a.deliver("tls.dest.test", ["u@tls.dest.test"])
    assert (g["class"], g["dsn"]) == ("4", "4.7.5"), g
    assert p.messages() == []
    a.inst.stop()
    a = agent({"smtp_tls_security_level": "encrypt",
               "smtp_tls_mandatory_ciphers": "high",
               "tls_high_cipherlist": "ECDHE+AES:!aNULL",
               # The opportunistic settings do not apply at encrypt.
               "smtp_tls_ciphers": "null"})
    qid, (g,) = a.deliver("tls.dest.test", ["u@tls.dest.test"])
    assert g["class"] == "2", g
    a.inst.wait_log(r"tls\.dest\.test\[" + NET_RE + r"41\]:25: TLSv1\.2 "
                    r"with cipher ECDHE-RSA-AES128-SHA")


def test_opportunistic_protocols(agent, peers, certs):
    """smtp_tls_protocols = <=TLSv1.2 makes a TLS 1.3 peer talk TLS 1.2
    at level may; the mandatory protocols are not used there."""
    a = agent({"smtp_tls_security_level": "may",
               "smtp_tls_protocols": ">=TLSv1.2, <=TLSv1.2",
               "smtp_tls_mandatory_protocols": "TLSv1.3"})
    p = peers(NET + "41")
    p.tls_context = certs["server_context"]
    qid, (g,) = a.deliver("tls.dest.test", ["u@tls.dest.test"])
    assert g["class"] == "2", g
    a.inst.wait_log(r"tls\.dest\.test\[" + NET_RE + r"41\]:25: TLSv1\.2 "
                    r"with cipher ECDHE-RSA-AES256-GCM-SHA384")


def test_legacy_smtp_use_and_enforce_tls(agent, peers, certs):
    """With smtp_tls_security_level empty: smtp_enforce_tls = yes is
    level verify (the peer's certificate is not from a CA the system
    trusts: deferred), or encrypt with smtp_tls_enforce_peername = no
    (delivered over TLS); smtp_use_tls = yes is may."""
    a = agent({"smtp_enforce_tls": "yes"})
    p = peers(NET + "41")
    p.tls_context = certs["server_context"]
    qid, (g,) = a.deliver("tls.dest.test", ["u@tls.dest.test"])
    assert (g["class"], g["dsn"]) == ("4", "4.7.5"), g
    a.inst.stop()
    a = agent({"smtp_enforce_tls": "yes", "smtp_tls_enforce_peername": "no"})
    qid, (g,) = a.deliver("tls.dest.test", ["u@tls.dest.test"])
    assert g["class"] == "2", g
    assert p.sessions[-1]["tls"]
    a.inst.stop()
    a = agent({"smtp_use_tls": "yes"})
    qid, (g,) = a.deliver("tls.dest.test", ["u@tls.dest.test"])
    assert g["class"] == "2", g
    assert p.sessions[-1]["tls"]


@pytest.mark.parametrize("level", ["0", "1"])
def test_smtp_tls_loglevel(agent, peers, certs, level):
    """smtp_tls_loglevel 0 logs no TLS line; 1 the summary line without
    the certificate line (2, the fixture's, adds it: test_starttls_may)."""
    a = agent({"smtp_tls_security_level": "may", "smtp_tls_loglevel": level})
    p = peers(NET + "41")
    p.tls_context = certs["server_context"]
    qid, (g,) = a.deliver("tls.dest.test", ["u@tls.dest.test"])
    assert g["class"] == "2" and p.sessions[0]["tls"], g
    a.inst.wait_log(qid + r": to=<u@tls\.dest\.test>.*status=sent")
    log = a.inst.log()
    assert ("TLS connection established" in log) == (level == "1"), log
    assert "peer certificate" not in log, log


def test_verify_with_cafile(agent, peers, certs):
    a = agent({"smtp_tls_security_level": "verify",
               "smtp_tls_CAfile": certs["ca"]})
    p = peers(NET + "41")
    p.tls_context = certs["server_context"]
    qid, (g,) = a.deliver("tls.dest.test", ["u@tls.dest.test"])
    assert g["class"] == "2", g
    a.inst.wait_log(r"Verified TLS connection established to "
                    r"tls\.dest\.test\[" + NET_RE + r"41\]:25")
    # The same server under another MX name does not verify.
    qid, (g,) = a.deliver("wrongname.dest.test", ["u@wrongname.dest.test"])
    assert (g["class"], g["dsn"]) == ("4", "4.7.5"), g
    assert "Cannot start TLS with wrongname.dest.test[" + NET + "41]" in \
        g["text"], g
    assert len(p.messages()) == 1


def test_tls_policy_maps_per_destination(agent, peers, tmp_path):
    table = make_map(str(tmp_path / "tls_policy"),
                     {"policy.dest.test": "encrypt",
                      "[mx1.dest.test]": "none"})
    a = agent({"smtp_tls_security_level": "may",
               "smtp_tls_policy_maps": table})
    p = peers(NET + "11")
    qid, (g,) = a.deliver("policy.dest.test", ["u@policy.dest.test"])
    assert (g["class"], g["dsn"]) == ("4", "4.7.4"), g
    # The global level still applies elsewhere.
    qid, (g,) = a.deliver("order.dest.test", ["u@order.dest.test"])
    assert g["class"] == "2", (g, a.inst.log())


# -- AUTH to a relay host ------------------------------------------------

def test_auth_to_relayhost_over_tls(agent, peers, certs, tmp_path):
    table = make_map(str(tmp_path / "sasl_passwd"),
                     {"[relay.dest.test]:587": "alice:s3cret"})
    a = agent({"smtp_tls_security_level": "may",
               "smtp_sasl_auth_enable": "yes",
               "smtp_sasl_password_maps": table})
    p = peers(NET + "61", port=587)
    p.tls_context = certs["server_context"]
    p.auth = ("alice", "s3cret")
    qid, (g,) = a.deliver("[relay.dest.test]:587", ["u@elsewhere.test"])
    assert g["class"] == "2", g
    assert g["relay"] == "relay.dest.test[" + NET + "61]:587"
    assert p.sessions[0]["tls"] and p.sessions[0]["auth"] == "alice"
    # A wrong password is a soft failure, never a bounce.
    p.auth = ("alice", "other")
    qid, (g,) = a.deliver("[relay.dest.test]:587", ["u@elsewhere.test"])
    assert (g["class"], g["dsn"]) == ("4", "4.7.0"), g
    assert g["text"].startswith("SASL authentication failed; server "
                                "relay.dest.test[" + NET + "61] said: 535")


def test_auth_needs_tls_unless_configured(agent, peers, tmp_path):
    table = make_map(str(tmp_path / "sasl_passwd"),
                     {"[relay.dest.test]:587": "alice:s3cret"})
    a = agent({"smtp_sasl_auth_enable": "yes",
               "smtp_sasl_password_maps": table})
    p = peers(NET + "61", port=587)
    p.auth = ("alice", "s3cret")
    qid, (g,) = a.deliver("[relay.dest.test]:587", ["u@elsewhere.test"])
    assert g["class"] == "4", g
    assert "no mechanism available without TLS" in g["text"], g
    assert not any(c.startswith("AUTH") for c in p.sessions[0]["commands"])
    assert p.messages() == []


# -- a foreign MTA -----------------------------------------------------------

def test_postfix_smtp_sink_receives(agent, tmp_path):
    sink = panacea_test.tool("smtp-sink", "postfix", "/usr/sbin/smtp-sink")
    dump = tmp_path / "sink"
    dump.mkdir()
    os.chmod(str(dump), 0o777)
    panacea_test.open_path(str(dump))
    proc = subprocess.Popen([sink, "-u", "nobody", "-d",
                             str(dump) + "/%M.", NET + "71:25", "10"],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        panacea_test.wait_until(
            lambda: panacea_test.can_connect(NET + "71", 25),
            what="smtp-sink")
        a = agent()
        body = b"Subject: to postfix\r\n\r\n.dot line\r\nbye\r\n"
        qid, (g,) = a.deliver("sink.dest.test", ["u@sink.dest.test"],
                              body=body)
        assert g["class"] == "2", g
        assert g["relay"] == "sink.dest.test[" + NET + "71]:25"
        files = wait_until(lambda: os.listdir(str(dump)),
                           what="smtp-sink dump")
        with open(os.path.join(str(dump), files[0]), "rb") as f:
            dumped = f.read()
        assert b"\r\n.dot line\r\nbye\r\n" in dumped \
            or b"\n.dot line\nbye\n" in dumped, dumped
    finally:
        proc.terminate()
        proc.wait(timeout=10)
