"""smtpd_milters and non_smtpd_milters against real mail filters: the
test fixture pan-milter (tests/fixtures/pan-milter.c, written against
Sendmail's libmilter, the filter side of the protocol), told by its
control file what to do, and Debian's OpenDKIM signing through the
milter protocol.  A filter that hangs and one that dies get
milter_default_action, within the milter timeouts.

One instance for the module, with one smtpd service per filter setup
(-o options), and one pan-milter per behaviour: each test rewrites the
control file, which the filter reads again at each connection.
"""

import os
import re
import signal
import subprocess
import time

import pytest

from panacea_test import (Instance, fixture, program, scaled, tool,
                          unless_built, wait_until)
from smtp_helpers import (MYHOSTNAME, Session, base_conf, mail_owner,  # noqa: F401,E501
                          pancat, queued_id, smtpd_service)

pytestmark = unless_built("master", "smtpd", "pancat", "sendmail",
                          fixtures=("pan-milter",))

ROOT = "root@" + MYHOSTNAME
MSG = (b"From: alice@example.test\r\nTo: root@" + MYHOSTNAME.encode() +
       b"\r\nSubject: milter test\r\nX-A: one\r\nX-A: two\r\n\r\n"
       b"hello filter\r\n.\r\n")


class Milter:
    """A pan-milter process on an inet port of 127.0.0.1, or on the
    unix socket path."""

    def __init__(self, base, name, port=None, path=None):
        self.control = os.path.join(base, name + ".control")
        self.logfile = os.path.join(base, name + ".log")
        self.set("")
        open(self.logfile, "w").close()
        sock = "unix:" + path if path else "inet:%d@127.0.0.1" % port
        # A unix socket smtpd (mail_owner) may connect to.
        self.proc = subprocess.Popen(
            [fixture("pan-milter"), sock, self.control, self.logfile],
            preexec_fn=lambda: os.umask(0))
        wait_until(lambda: "ready" in self.log(), what=name + " ready")
        if path:
            wait_until(lambda: os.path.exists(path), what=path)

    def set(self, text):
        with open(self.control, "w") as f:
            f.write(text)
        self.mark = os.path.getsize(self.logfile) if \
            os.path.exists(self.logfile) else 0

    def log(self):
        with open(self.logfile) as f:
            return f.read()

    def since(self):
        """The log since the last set()."""
        return self.log()[self.mark:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


def opendkim_setup(base, port):
    """OpenDKIM on inet:port@127.0.0.1, foreground, its key for
    example.test (selector test) made by opendkim-genkey: it signs mail
    from 127.0.0.1 (InternalHosts) and verifies mail from other clients,
    its key's TXT record given as OpenDKIM's test data (TestDNSData), so
    that no DNS query is made."""
    keys = os.path.join(base, "dkim")
    os.makedirs(keys, exist_ok=True)
    # 1024 bits: the quickest key OpenDKIM verifies (its minimum).
    subprocess.run([tool("opendkim-genkey"), "-b", "1024", "-D", keys,
                    "-d", "example.test", "-s", "test"], check=True)
    with open(os.path.join(keys, "test.txt")) as f:
        txt = f.read()
    # The key's TXT record as OpenDKIM's test data: its resolver
    # (libunbound) never asks a loopback server, and no query may leave
    # the machine.
    dnsdata = os.path.join(base, "dkim-dns")
    with open(dnsdata, "w") as f:
        f.write("test._domainkey.example.test %s\n" % "".join(
            re.findall(r'"([^"]*)"', txt)))
    conf = os.path.join(base, "opendkim.conf")
    with open(conf, "w") as f:
        f.write("Syslog no\n"
                "Mode sv\n"
                "Domain example.test\n"
                "Selector test\n"
                "KeyFile %s/test.private\n"
                "Socket inet:%d@127.0.0.1\n"
                "Canonicalization relaxed/relaxed\n"
                "InternalHosts 127.0.0.1\n"
                "AuthservID verifier.test\n"
                "TestDNSData file:%s\n"
                "RequireSafeKeys no\n"
                "PidFile %s/opendkim.pid\n"
                "Background no\n"
                "DNSTimeout 2\n" % (keys, port, dnsdata, keys))
    return subprocess.Popen([tool("opendkim"), "-f", "-x", conf],
                            stderr=open(os.path.join(base, "opendkim.err"),
                                        "w"))


@pytest.fixture(scope="module")
def msys(tmp_path_factory, mail_owner):  # noqa: F811
    base = str(tmp_path_factory.mktemp("milter"))
    inst = Instance(base)
    ports = inst.ports(6)
    main = Milter(base, "main", port=ports[0])
    hang = Milter(base, "hang", port=ports[1])
    die = Milter(base, "die", port=ports[2])
    # The unix socket in the queue directory, which the jail sees.
    os.makedirs(inst.queue_dir, exist_ok=True)
    usock = os.path.join(inst.queue_dir, "milter.sock")
    unix = Milter(base, "unix", path=usock)
    dkim = opendkim_setup(base, ports[3])
    hang.set("hang eom\n")
    die.set("die rcpt\n")
    services = {}
    svc_args = {
        "main": "-o smtpd_milters=inet:127.0.0.1:%d" % ports[0],
        # Two filters in a row: the unix one first.
        "two": "-o smtpd_milters=unix:milter.sock,inet:127.0.0.1:%d"
               % ports[0],
        "hang": "-o smtpd_milters=inet:127.0.0.1:%d "
                "-o milter_content_timeout=1s "
                "-o milter_command_timeout=1s "
                "-o milter_default_action=accept" % ports[1],
        "die": "-o smtpd_milters=inet:127.0.0.1:%d "
               "-o milter_default_action=tempfail" % ports[2],
        "gone": "-o smtpd_milters=inet:127.0.0.1:%d "
                "-o milter_default_action=quarantine" % ports[4],
        "dkim": "-o smtpd_milters=inet:127.0.0.1:%d" % ports[3],
    }
    lines = []
    for name, args in svc_args.items():
        port, line = smtpd_service(inst, args=args)
        services[name] = port
        lines.append(line)
    # Local submission (sendmail through the submit service) gets
    # non_smtpd_milters.
    lines.append(Instance.shipped(
        "submit", chroot="y" if os.geteuid() == 0 else "n",
        args="-o non_smtpd_milters=inet:127.0.0.1:%d" % ports[0]))
    # ... and so does what sendmail kept in maildrop/ for pickup.
    lines.append(Instance.shipped(
        "pickup", chroot="y" if os.geteuid() == 0 else "n",
        args="-o non_smtpd_milters=inet:127.0.0.1:%d" % ports[0]))
    inst.conf.update(base_conf(mail_owner))
    inst.conf.update({"mynetworks": "127.0.0.0/8"})
    inst.services = lines
    inst.write()
    inst.start()
    for p in services.values():
        inst.wait_port(p)
    yield {"inst": inst, "ports": services, "main": main, "hang": hang,
           "die": die, "unix": unix, "dkim": dkim}
    for m in (main, hang, die, unix):
        m.stop()
    # OpenDKIM keeps no state worth a clean stop.
    dkim.kill()
    dkim.wait()
    inst.finish()


def envelope(inst, qid):
    return pancat(inst, qid, flags="-e").decode()


def content(inst, qid):
    return pancat(inst, qid).decode()


def other_client(inst):
    """A loopback source address that is not 127.0.0.1 (OpenDKIM's
    internal host) nor the instance's own."""
    return "127.0.0.2" if inst.host != "127.0.0.2" else "127.0.0.3"


def session(msys, name="main"):
    return Session(msys["inst"].host, msys["ports"][name])


def test_stages_macros_and_edits(msys):
    """Every end-of-message action at once, each stage's macros, and the
    message as the filter left it in the queue."""
    m, inst = msys["main"], msys["inst"]
    m.set("addheader X-Added added\\n\tfolded\n"
          "insheader 0 X-Top top\n"
          "chgheader X-A 2 changed\n"
          "delheader X-A 1\n"
          "replbody new body\\nline two\\n\n"
          "addrcpt <postmaster@%s>\n"
          "addrcpt_par <extra@%s> NOTIFY=NEVER\n"
          "delrcpt <%s>\n"
          "chgfrom <bounce@example.test>\n"
          "progress\n" % (MYHOSTNAME, MYHOSTNAME, ROOT))
    with session(msys) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<alice@example.test> SIZE=100", 250)
        s.expect("RCPT TO:<%s>" % ROOT, 250)
        s.expect("DATA", 354)
        s.send(MSG)
        qid = queued_id(s.reply())
        s.expect("QUIT", 221)
    log = m.since()
    for want in ("connect localhost", "helo client.test",
                 "mail <alice@example.test> SIZE=100", "rcpt <%s>" % ROOT,
                 "data", "header Subject: milter test", "header X-A: two",
                 "eoh", "body 14 hello filter", "eom",
                 "macro connect j=%s" % MYHOSTNAME,
                 "macro connect {daemon_name}=%s" % MYHOSTNAME,
                 "macro connect v=Panacea",
                 "macro mail {mail_addr}=alice@example.test",
                 "macro rcpt {rcpt_addr}=%s" % ROOT,
                 "macro rcpt {rcpt_mailer}=local",
                 "macro eom i=%s" % qid):
        assert re.search("^" + re.escape(want) + "$", log, re.M), \
            (want, log)
    assert re.search(r"^macro connect _=localhost \[127\.\d+\.\d+\.\d+\]$",
                     log, re.M), log
    assert re.search(r"^header Received: from client\.test", log, re.M)
    text = content(inst, qid)
    head, body = text.split("\r\n\r\n", 1)
    hl = head.split("\r\n")
    assert hl[0] == "X-Top: top", hl
    assert hl[1].startswith("Received: "), hl
    assert "X-A: one" not in hl and "X-A: changed" in hl, hl
    assert "X-A: two" not in hl, hl
    assert head.endswith("X-Added: added\r\n\tfolded"), head
    assert body == "new body\r\nline two\r\n", body
    env = envelope(inst, qid)
    assert re.search(r"^sender: bounce@example\.test$", env, re.M), env
    assert "postmaster@" + MYHOSTNAME in env, env
    assert "extra@" + MYHOSTNAME in env, env
    assert ROOT not in env.split("recipient", 1)[1] if "recipient" in env \
        else True, env
    assert re.search(r"^hold: no$", env, re.M), env
    inst.wait_log(r"%s: milter changed the sender <alice@example\.test> "
                  r"to <bounce@example\.test>" % qid)


def test_reject_at_each_stage(msys):
    """Reject, tempfail and a custom reply at each SMTP stage, with the
    stage's code; the session goes on."""
    m = msys["main"]
    m.set("mail reply 550 5.7.0 no mail from you\n")
    with session(msys) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<bad@example.test>", 550, "5.7.0 no mail")
        s.expect("NOOP", 250)
    m.set("rcpt_only nobody@%s\nrcpt tempfail\n" % MYHOSTNAME)
    with session(msys) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<alice@example.test>", 250)
        s.expect("RCPT TO:<nobody@%s>" % MYHOSTNAME, 451, r"4\.7\.1")
        s.expect("RCPT TO:<%s>" % ROOT, 250)
        s.expect("RSET", 250)
    m.set("data reject\n")
    with session(msys) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<alice@example.test>", 250)
        s.expect("RCPT TO:<%s>" % ROOT, 250)
        s.expect("DATA", 550, r"5\.7\.1")
        s.expect("NOOP", 250)
    m.set("eom reply 554 5.7.9 content refused\n")
    with session(msys) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<alice@example.test>", 250)
        s.expect("RCPT TO:<%s>" % ROOT, 250)
        s.expect("DATA", 354)
        s.send(MSG)
        r = s.reply()
        assert r.code == 554 and "5.7.9 content refused" in r.text, r
        # The session goes on.
        s.expect("RSET", 250)
        s.expect("MAIL FROM:<alice@example.test>", 250)
    m.set("helo reject\n")
    with session(msys) as s:
        s.expect("EHLO client.test", 550)
        s.expect("NOOP", 250)
    # An unknown command goes to the filter (SMFIC_UNKNOWN) as sent; its
    # reply answers it, else smtpd's own 500.
    m.set("unknown reply 502 5.5.1 not here either\n")
    with session(msys) as s:
        s.expect("EHLO client.test", 250)
        s.expect("XYZZY plugh", 502, r"5\.5\.1 not here either")
        s.expect("NOOP", 250)
    m.set("")
    with session(msys) as s:
        s.expect("EHLO client.test", 250)
        s.expect("FROB now", 500, r"5\.5\.2")
    wait_until(lambda: "unknown XYZZY plugh" in m.log() and
               "unknown FROB now" in m.log(), what="unknown in the filter")
    m.set("connect reply 421 4.7.0 go away\n")
    with session(msys) as s:
        s.expect("EHLO client.test", 421)
    msys["inst"].wait_log(r"milter-reject: END-OF-MESSAGE from \S+: 554 "
                          r"5\.7\.9 content refused; from=<alice@example"
                          r"\.test>")


def test_discard_quarantine_accept(msys):
    m, inst = msys["main"], msys["inst"]
    m.set("eom discard\n")
    with session(msys) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<alice@example.test>", 250)
        s.expect("RCPT TO:<%s>" % ROOT, 250)
        s.expect("DATA", 354)
        s.send(MSG)
        gone = queued_id(s.reply())
    inst.wait_log(r"%s: milter-discard: END-OF-MESSAGE" % gone)
    assert pancat(inst, gone, check=False) == b""
    m.set("quarantine suspicious\n")
    with session(msys) as s:
        held = s.send_message("alice@example.test", [ROOT], MSG)
    assert re.search(r"^hold: yes$", envelope(inst, held), re.M)
    inst.wait_log(r"%s: milter-hold: END-OF-MESSAGE from .*milter triggers "
                  r"HOLD action: suspicious" % held)
    # Accept at MAIL: nothing more of that message goes to the filter.
    m.set("mail accept\n")
    with session(msys) as s:
        s.send_message("alice@example.test", [ROOT], MSG)
    assert "eom" not in m.since() and "header" not in m.since()


def test_two_filters_and_skipped_steps(msys):
    """The unix filter, then the inet one: the second sees the first's
    header; the unix filter asked to skip HELO and body and to answer no
    header (SMFIP_NOHELO|SMFIP_NOBODY|SMFIP_NR_HDR)."""
    u, m, inst = msys["unix"], msys["main"], msys["inst"]
    u.set("proto %x\naddheader X-First one\n" % (0x2 | 0x10 | 0x80))
    m.set("")
    with session(msys, "two") as s:
        qid = s.send_message("alice@example.test", [ROOT], MSG)
    ulog, mlog = u.since(), m.since()
    assert "helo " not in ulog and "body " not in ulog, ulog
    assert "header Subject: milter test" in ulog, ulog
    assert "header X-First: one" in mlog, mlog
    assert "X-First: one\r\n" in content(inst, qid)


def test_hanging_filter_default_accept(msys):
    """A filter that never answers end of message: after
    milter_content_timeout (1s) milter_default_action=accept queues the
    message; the session never waits longer."""
    inst = msys["inst"]
    start = time.monotonic()
    with session(msys, "hang") as s:
        qid = s.send_message("alice@example.test", [ROOT], MSG)
    assert time.monotonic() - start < 5
    assert "hello filter" in content(inst, qid)
    inst.wait_log(r"milter inet:127\.0\.0\.1:\d+: timeout; default action "
                  r"accept")


def test_dying_filter_default_tempfail(msys):
    """A filter that dies at RCPT: milter_default_action = tempfail
    answers 451 to that and every later command; nothing is queued."""
    with session(msys, "die") as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<alice@example.test>", 250)
        s.expect("RCPT TO:<%s>" % ROOT, 451, r"4\.7\.1")
        s.expect("MAIL FROM:<alice@example.test>", 451)
        s.expect("QUIT", 221)
    msys["inst"].wait_log(r"milter inet:127\.0\.0\.1:\d+: lost connection; "
                          r"default action tempfail")


def test_unreachable_filter_quarantine(msys):
    """Nothing listens: milter_default_action = quarantine holds it."""
    inst = msys["inst"]
    with session(msys, "gone") as s:
        qid = s.send_message("alice@example.test", [ROOT], MSG)
    assert re.search(r"^hold: yes$", envelope(inst, qid), re.M)


def test_opendkim_signs_and_verifies(msys):
    """OpenDKIM, a filter from Debian, signs mail from example.test sent
    from 127.0.0.1: its DKIM-Signature header is in the queued message.
    The signed message, sent again from another client, verifies
    (dkim=pass in OpenDKIM's Authentication-Results), and with its body
    changed fails."""
    inst = msys["inst"]
    msg = (b"From: alice@example.test\r\nTo: " + ROOT.encode() +
           b"\r\nSubject: sign me\r\nDate: Sun, 6 Dec 2026 04:00:00 +0000"
           b"\r\nMessage-ID: <m1@example.test>\r\n\r\nsigned body\r\n.\r\n")
    with Session(inst.host, msys["ports"]["dkim"], source="127.0.0.1") as s:
        qid = s.send_message("alice@example.test", [ROOT], msg)
    text = content(inst, qid)
    m = re.search(r"^DKIM-Signature: (.*?)\r\n(?![ \t])", text, re.M | re.S)
    assert m, text
    sig = m.group(1)
    assert "d=example.test" in sig and "s=test" in sig, sig
    assert "c=relaxed/relaxed" in sig, sig
    signed = text.encode()
    for body, want in ((b"signed body", "pass"), (b"forged body", "fail")):
        data = signed.replace(b"signed body", body) + b".\r\n"
        with Session(inst.host, msys["ports"]["dkim"],
                     source=other_client(inst)) as s:
            q = s.send_message("alice@example.test", [ROOT], data)
        got = content(inst, q)
        assert re.search(r"^Authentication-Results: verifier\.test;\s+"
                         r"dkim=%s [^\r]*header\.d=example\.test" % want,
                         got, re.M), got


def test_non_smtpd_milters_for_sendmail(msys):
    """sendmail(1) submits through the submit service: non_smtpd_milters
    (not smtpd_milters) filter it, with {mail_mailer} local."""
    m, inst = msys["main"], msys["inst"]
    m.set("addheader X-Local-Filter yes\n")
    r = subprocess.run([program("sendmail"), "-f", "alice@example.test",
                        ROOT],
                       input=b"Subject: local mail\n\nfrom sendmail\n",
                       capture_output=True, timeout=scaled(30),
                       env=dict(os.environ, MAIL_CONFIG=inst.config_dir))
    assert r.returncode == 0, r.stderr
    qid = inst.wait_log(r"smtpd\[\d+\]: (\w+): uid=\d+ "
                        r"from=<alice@example\.test>").group(1)
    wait_until(lambda: "eom" in m.since(), what="eom at the filter")
    log = m.since()
    assert "macro mail {mail_mailer}=local" in log, log
    assert "header Subject: local mail" in log, log
    assert "X-Local-Filter: yes\r\n" in content(inst, qid)


def sendmail(inst, subject):
    r = subprocess.run([program("sendmail"), "-f", "alice@example.test",
                        ROOT],
                       input=b"Subject: " + subject + b"\n\nkept\n",
                       capture_output=True, timeout=scaled(30),
                       env=dict(os.environ, MAIL_CONFIG=inst.config_dir))
    assert r.returncode == 0, r.stderr


def test_non_smtpd_milters_in_pickup(msys):
    """With the submit service away, sendmail keeps the message in
    maildrop/ and pickup queues it through non_smtpd_milters: changed as
    the filter says; a message the filter refuses is queued on hold (pickup
    cannot answer its sender), never dropped."""
    m, inst = msys["main"], msys["inst"]
    submit = inst.socket_path("submit", private=False)
    os.rename(submit, submit + ".away")
    try:
        m.set("addheader X-Pickup-Filter yes\n")
        sendmail(inst, b"via pickup")
        qid = inst.wait_log(r"pickup\[\d+\]: (\w+): from=<alice@example"
                            r"\.test>, size=\d+, nrcpt=1 \(queue active\)"
                            ).group(1)
        log = m.since()
        assert "header Subject: via pickup" in log, log
        assert "macro mail {mail_mailer}=local" in log, log
        assert "X-Pickup-Filter: yes\r\n" in content(inst, qid)
        m.set("eom reject\n")
        sendmail(inst, b"refused via pickup")
        held = inst.wait_log(r"pickup\[\d+\]: (\w+): milter-reject: "
                             r"END-OF-MESSAGE from localhost: 550 5\.7\.1 "
                             r"Command rejected; held").group(1)
        inst.wait_log(r"pickup\[\d+\]: %s: from=<alice@example\.test>, "
                      r"size=\d+, nrcpt=1$" % held)
        assert re.search(r"^hold: yes$", envelope(inst, held), re.M)
    finally:
        os.rename(submit + ".away", submit)
