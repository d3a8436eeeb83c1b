"""qmgr: scheduling, retries, bounces (RFC 3464 DSNs), expiry, NOTIFY,
grouping, concurrency, crash safety and the public/qmgr requests.

Each test starts a real master with smtpd and qmgr (chrooted and
unprivileged when the tests run as root, as an installed system does) on
its own loopback address.  The delivery agents are tests/fixtures/
pan-agent, configured as the "local" (and "smtp") transport: a real
agent on the daemon skeleton that speaks lib/deliver_proto.h, answers by
rule (-r "user=5.1.1,..."), logs every request and recipient to a file,
and saves each delivered message, so the tests see exactly what qmgr
asked for and what it did with the answers.  Bounces are real queued
messages delivered by the same agent and parsed with Python's email
package.
"""

import email
import email.policy
import glob
import math
import os
import re
import signal
import smtplib
import socket
import time

import procfs
from panacea_test import (DELAY, Instance, children_of, fixture, open_path,
                          pid_alive, scaled, unless_built, wait_until)
from smtp_helpers import MYHOSTNAME, base_conf, mail_owner  # noqa: F401

pytestmark = unless_built("master", "smtpd", "qmgr", fixtures=("pan-agent",))

SENDER = "alice@" + MYHOSTNAME


class Mail:
    """A running instance with smtpd, qmgr and pan-agent transports."""

    def __init__(self, inst, port, out):
        self.inst = inst
        self.port = port
        self.out = out
        self.log_path = os.path.join(out, "agent.log")
        self.msg_dir = os.path.join(out, "msgs")

    # -- sending ---------------------------------------------------------
    def send(self, rcpts, sender=SENDER, body="hello\r\n", subject="test",
             mail_options=(), rcpt_options=()):
        """Sends one message over SMTP; returns its queue id."""
        msg = ("From: <%s>\r\nTo: undisclosed\r\nSubject: %s\r\n"
               "Message-ID: <%f@client.test>\r\n\r\n%s"
               % (sender or "nobody@client.test", subject, time.time(),
                  body))
        with smtplib.SMTP(self.inst.host, self.port,
                          timeout=scaled(30)) as s:
            s.ehlo("client.test")
            s.mail(sender, list(mail_options))
            for r in rcpts:
                code, text = s.rcpt(r, list(rcpt_options))
                assert code == 250, (r, code, text)
            code, text = s.data(msg.encode())
            assert code == 250, text
        m = re.search(rb"queued as ([0-9A-Z]+)", text)
        assert m, text
        return m.group(1).decode()

    # -- what the agent saw ----------------------------------------------
    def agent_lines(self, kind=None):
        try:
            with open(self.log_path) as f:
                lines = [ln.split() for ln in f.read().splitlines()]
        except FileNotFoundError:
            return []
        return [ln for ln in lines if ln and (kind is None or ln[0] == kind)]

    def rcpt_results(self, qid=None):
        """[(queue_id, rcpt, class, dsn)] in order."""
        return [(ln[1], ln[2], int(ln[3]), ln[4])
                for ln in self.agent_lines("RCPT")
                if qid is None or ln[1] == qid]

    def delivered(self, qid=None):
        return [(q, r) for q, r, c, _ in self.rcpt_results(qid) if c == 2]

    def wait_delivered(self, qid, rcpt, timeout=20):
        wait_until(lambda: (qid, rcpt) in self.delivered(qid),
                   timeout=timeout, what="%s delivered to %s" % (qid, rcpt))

    def wait_removed(self, qid, timeout=20):
        return self.inst.wait_log(r"qmgr\[\d+\]: %s: removed" % qid,
                                  timeout=timeout)

    def messages_to(self, rcpt):
        """Saved messages delivered to rcpt, parsed, in delivery order."""
        found = []
        for qid, r in self.delivered():
            if r.lower() != rcpt.lower():
                continue
            for path in sorted(glob.glob(os.path.join(
                    self.msg_dir, "%s.*.eml" % qid))):
                with open(path, "rb") as f:
                    found.append(email.message_from_bytes(
                        f.read(), policy=email.policy.default))
                break
        return found

    def wait_message_to(self, rcpt, n=1, timeout=20):
        return wait_until(lambda: len(self.messages_to(rcpt)) >= n
                          and self.messages_to(rcpt), timeout=timeout,
                          what="%d message(s) to %s" % (n, rcpt))

    def qmgr_pid(self):
        pids = [p for p in children_of(self.inst.pid) if procfs.name(p) == "qmgr"]
        return pids[0] if pids else None

    def trigger(self, data):
        import socket
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.inst.socket_path("qmgr", private=False))
        s.sendall(data)
        s.close()


def agent_service(name, mail, rules, extra="", maxproc="-", unpriv="-"):
    return Instance.service(
        name, "%s -r %s -f %s -m %s %s" % (
            fixture("pan-agent"), rules or "*=2.0.0", mail.log_path,
            mail.msg_dir, extra),
        type_="unix", private="y", unpriv=unpriv, chroot="n",
        maxproc=maxproc).rstrip()


def start_mail(inst, owner, tmp_path, rules="", conf=None, smtp_rules=None,
               agent_extra="", qmgr_args="", local_maxproc="-",
               smtp_extra=None, local_unpriv="-", smtpd_args="",
               agents=()):
    """Configures and starts master + smtpd + qmgr + pan-agent (as local,
    as smtp when smtp_rules is given, and as each transport of agents)."""
    root = os.geteuid() == 0
    out = str(tmp_path / "out")
    os.makedirs(os.path.join(out, "msgs"))
    os.chmod(out, 0o777)
    os.chmod(os.path.join(out, "msgs"), 0o777)
    port = inst.port()
    mail = Mail(inst, port, out)
    inst.conf.update(base_conf(owner))
    inst.conf.update({
        "local_recipient_maps": "",
        "minimal_backoff_time": "2s",
        "maximal_backoff_time": "4s",
        "queue_run_delay": "1s",
    })
    inst.conf.update(conf or {})
    inst.services = [
        Instance.shipped("smtp", "inet", port, chroot="y" if root else "n",
                         args=smtpd_args),
        Instance.shipped("qmgr", chroot="y" if root else "n",
                         args=qmgr_args),
        agent_service("local", mail, rules, agent_extra,
                      maxproc=local_maxproc, unpriv=local_unpriv),
    ]
    if smtp_rules is not None:
        inst.services.append(agent_service(
            "smtp", mail, smtp_rules,
            agent_extra if smtp_extra is None else smtp_extra))
    for name in agents:
        inst.services.append(agent_service(name, mail, "", agent_extra))
    inst.write()
    open_path(out)
    inst.start()
    inst.wait_port(port)
    return mail


def dsn_parts(msg):
    """(text, [per-message fields, per-recipient fields...], returned)."""
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts][:2] == [
        "text/plain", "message/delivery-status"]
    text = parts[0].get_content()
    fields = [dict(b.items()) for b in parts[1].get_payload()]
    return text, fields, parts[2] if len(parts) > 2 else None


# -- delivery -----------------------------------------------------------------

def test_delivered_and_removed(instance, mail_owner, tmp_path):
    mail = start_mail(instance, mail_owner, tmp_path)
    qid = mail.send(["bob@" + MYHOSTNAME], body="line one\r\nline two\r\n")
    mail.wait_delivered(qid, "bob@" + MYHOSTNAME)
    mail.wait_removed(qid)
    log = instance.log()
    # qmgr's own line when it takes the message, in Postfix's shape.
    assert re.search(r"qmgr\[\d+\]: %s: from=<%s>, size=\d+, nrcpt=1 "
                     r"\(queue active\)" % (qid, re.escape(SENDER)), log)
    # The request carried the queue id; the agent read the content from
    # the queue, byte for byte what smtpd stored after its Received:.
    (saved,) = mail.messages_to("bob@" + MYHOSTNAME)
    assert saved["Received"] is not None
    (path,) = glob.glob(os.path.join(mail.msg_dir, qid + ".*.eml"))
    with open(path, "rb") as f:
        assert f.read().endswith(b"\r\n\r\nline one\r\nline two\r\n")
    # Exactly one delivery.
    assert mail.delivered(qid) == [(qid, "bob@" + MYHOSTNAME)]


def test_arrival_in_a_second_first_milliseconds_is_due(instance, mail_owner,
                                                       tmp_path):
    """A message is stamped with a precise clock; qmgr must decide what
    is due with the same clock.  glibc's time() lags it by up to a clock
    tick, so a message queued in the first milliseconds of a second
    looked not yet due and waited for the next queue run (here 300 s).
    Each message below is sent whole in one BDAT LAST just after a second
    boundary (the shortest path from the arrival stamp to qmgr's scan)
    and must be delivered at once."""
    mail = start_mail(instance, mail_owner, tmp_path,
                      conf={"queue_run_delay": "300s"})
    rcpt = "bob@" + MYHOSTNAME
    with smtplib.SMTP(instance.host, mail.port, timeout=scaled(30)) as s:
        s.ehlo("client.test")
        # Let qmgr's start-up scan pass: later scans come from triggers.
        time.sleep(1)
        for i in range(12):
            s.mail(SENDER)
            assert s.rcpt(rcpt)[0] == 250
            body = b"Subject: boundary %d\r\n\r\nx\r\n" % i
            now = time.time()
            time.sleep(math.ceil(now) - now + 0.0001)
            s.send(b"BDAT %d LAST\r\n%s" % (len(body), body))
            code, text = s.getreply()
            assert code == 250, text
            qid = re.search(rb"queued as ([0-9A-Z]+)", text).group(1)
            mail.wait_delivered(qid.decode(), rcpt, timeout=scaled(5))


def test_root_agent_gets_the_content_as_a_descriptor(instance, mail_owner,
                                                    tmp_path):
    """A transport whose service runs as root (unpriv n) gets the content
    from qmgr as a sealed memory file after the request (it must not open
    the queue: DESIGN.md rule 2); one that runs as mail_owner reads the
    queue itself.  Both see the same bytes, for a message of several
    64 KiB queue chunks."""
    mail = start_mail(instance, mail_owner, tmp_path, local_unpriv="n",
                      smtp_rules="*=2.0.0")
    # Both agents append to one log: root's must not make it its own.
    with open(mail.log_path, "a"):
        pass
    os.chmod(mail.log_path, 0o666)
    body = "".join("line %06d of a long message\r\n" % i
                   for i in range(8000))
    qid = mail.send(["bob@" + MYHOSTNAME, "x@remote.example"], body=body)
    mail.wait_delivered(qid, "bob@" + MYHOSTNAME)
    mail.wait_delivered(qid, "x@remote.example")
    mail.wait_removed(qid)
    how = [ln[2] for ln in mail.agent_lines("CONTENT") if ln[1] == qid]
    assert sorted(how) == ["descriptor", "queue"], how
    saved = []
    for path in sorted(glob.glob(os.path.join(mail.msg_dir,
                                              qid + ".*.eml"))):
        with open(path, "rb") as f:
            saved.append(f.read())
    assert len(saved) == 2 and saved[0] == saved[1]
    assert saved[0].endswith(b"\r\n\r\n" + body.encode())
    assert len(saved[0]) > 3 * 65536


def test_agent_forward_queued_by_qmgr(instance, mail_owner, tmp_path):
    """An agent's reply may ask qmgr to queue a copy (deliver_proto.h
    "forward", what local does for alias members elsewhere): qmgr queues
    it with "Delivered-To: RCPT" on top of the same content before it
    records the recipient, and it is delivered as any message.  A group
    that names no recipient is a protocol error: the recipient is
    deferred and nothing is queued."""
    mail = start_mail(instance, mail_owner, tmp_path,
                      rules="list=fwd:carol@remote.example,bad=fwd:",
                      smtp_rules="*=2.0.0")
    rcpt = "list@" + MYHOSTNAME
    qid = mail.send([rcpt], body="forwarded body\r\n")
    mail.wait_delivered(qid, rcpt)
    m = instance.wait_log(
        r"qmgr\[\d+\]: %s: to=<carol@remote\.example>, orig_to=<%s>, "
        r"relay=local, .*status=sent \(forwarded as ([0-9A-Z]+)\)"
        % (qid, re.escape(rcpt)))
    copy = m.group(1)
    mail.wait_removed(qid)
    mail.wait_delivered(copy, "carol@remote.example")
    mail.wait_removed(copy)
    (orig,) = glob.glob(os.path.join(mail.msg_dir, qid + ".*.eml"))
    (fwd,) = glob.glob(os.path.join(mail.msg_dir, copy + ".*.eml"))
    with open(orig, "rb") as f:
        original = f.read()
    with open(fwd, "rb") as f:
        assert f.read() == b"Delivered-To: %s\r\n" % rcpt.encode() \
            + original
    assert re.search(r"qmgr\[\d+\]: %s: from=<owner-fwd@test>" % copy,
                     instance.log())
    # The malformed group.
    qid = mail.send(["bad@" + MYHOSTNAME])
    instance.wait_log(r"%s: malformed reply from the local delivery agent"
                      % qid)
    instance.wait_log(r"%s: to=<bad@%s>, .*status=deferred"
                      % (qid, re.escape(MYHOSTNAME)))
    assert "forwarded as" not in instance.log().split(qid, 1)[1]


def test_deferral_retried_after_backoff(instance, mail_owner, tmp_path):
    mail = start_mail(instance, mail_owner, tmp_path,
                      rules="carol=4.2.0/1")
    qid = mail.send(["carol@" + MYHOSTNAME])
    mail.wait_delivered(qid, "carol@" + MYHOSTNAME, timeout=30)
    mail.wait_removed(qid)
    results = mail.rcpt_results(qid)
    assert [(c, d) for _, _, c, d in results] == [(4, "4.2.0"), (2, "2.0.0")]
    starts = [float(ln[1]) for ln in mail.agent_lines("START")
              if ln[3] == qid]
    # minimal_backoff_time = 2s: the second attempt waited for it.
    assert starts[1] - starts[0] >= 1.5, starts
    assert instance.log_count(r"%s: from=<" % qid) >= 2


def test_bounce_is_a_dsn(instance, mail_owner, tmp_path):
    mail = start_mail(instance, mail_owner, tmp_path,
                      rules="user3=5.1.1")
    qid = mail.send(["user1@" + MYHOSTNAME, "user3@" + MYHOSTNAME],
                    subject="bounce me", mail_options=["ENVID=env+2B42",
                                                       "RET=FULL"],
                    rcpt_options=["ORCPT=rfc822;orig-user3@example.org",
                                  "NOTIFY=FAILURE"])
    mail.wait_removed(qid)
    m = instance.wait_log(r"qmgr\[\d+\]: %s: sender non-delivery "
                          r"notification: ([0-9A-Z]+)" % qid)
    bounce_id = m.group(1)
    (dsn,) = mail.wait_message_to(SENDER)
    assert dsn["From"].startswith("MAILER-DAEMON@" + MYHOSTNAME)
    assert dsn["Subject"] == "Undelivered Mail Returned to Sender"
    assert dsn["To"] == SENDER
    assert dsn["Auto-Submitted"] == "auto-replied"
    text, fields, returned = dsn_parts(dsn)
    assert "This is the mail system at host %s." % MYHOSTNAME in text
    assert "<user3@%s>: test rule: no such user" % MYHOSTNAME in text
    assert "user1@" not in text  # delivered: not in a failure report
    assert fields[0]["Reporting-MTA"] == "dns; " + MYHOSTNAME
    assert fields[0]["X-Panacea-Queue-ID"] == qid
    assert fields[0]["Original-Envelope-Id"] == "env+42"
    assert "Arrival-Date" in fields[0]
    assert len(fields) == 2
    r = fields[1]
    assert r["Final-Recipient"] == "rfc822; user3@" + MYHOSTNAME
    assert r["Original-Recipient"] == "rfc822; orig-user3@example.org"
    assert r["Action"] == "failed"
    assert r["Status"] == "5.1.1"
    assert r["Remote-MTA"] == "dns; mx.test"
    assert r["Diagnostic-Code"] == "X-Panacea; test rule: no such user"
    # RET=FULL: the whole original comes back.
    assert returned.get_content_type() == "message/rfc822"
    orig = returned.get_payload()[0]
    assert orig["Subject"] == "bounce me"
    assert orig.get_content().replace("\r\n", "\n") == "hello\n"
    # The bounce itself: from the null sender, then removed.
    assert re.search(r"qmgr\[\d+\]: %s: from=<>, size=\d+, nrcpt=1" %
                     bounce_id, instance.log())
    mail.wait_removed(bounce_id)


def test_bounce_headers_only_with_ret_hdrs(instance, mail_owner, tmp_path):
    mail = start_mail(instance, mail_owner, tmp_path, rules="user3=5.1.1")
    qid = mail.send(["user3@" + MYHOSTNAME], body="secret body\r\n",
                    mail_options=["RET=HDRS"])
    mail.wait_removed(qid)
    (dsn,) = mail.wait_message_to(SENDER)
    _, _, returned = dsn_parts(dsn)
    assert returned.get_content_type() == "text/rfc822-headers"
    assert b"secret body" not in returned.as_bytes()
    assert b"Subject: test" in returned.as_bytes()


def test_expiry_bounces_with_last_error(instance, mail_owner, tmp_path):
    mail = start_mail(instance, mail_owner, tmp_path, rules="dave=4.4.1",
                      conf={"maximal_queue_lifetime": "4s",
                            "minimal_backoff_time": "1s",
                            "maximal_backoff_time": "1s"})
    qid = mail.send(["dave@" + MYHOSTNAME])
    mail.wait_removed(qid, timeout=30)
    assert re.search((r"%s: to=<dave@%s>, relay=none, delay=" + DELAY +
                      r", delays=" + DELAY + "/" + DELAY +
                      r"/0/0, dsn=4\.4\.1, "
                      r"status=expired, returned to sender \(test rule: "
                      r"try again later\)") % (qid, re.escape(MYHOSTNAME)),
                     instance.log())
    attempts = [c for _, _, c, _ in mail.rcpt_results(qid)]
    assert len(attempts) >= 2 and set(attempts) == {4}
    (dsn,) = mail.wait_message_to(SENDER)
    _, fields, _ = dsn_parts(dsn)
    assert fields[1]["Action"] == "failed"
    assert fields[1]["Status"] == "4.4.1"


def test_notify_never_and_success(instance, mail_owner, tmp_path):
    mail = start_mail(instance, mail_owner, tmp_path, rules="user3=5.1.1")
    never = mail.send(["user3@" + MYHOSTNAME], rcpt_options=["NOTIFY=NEVER"])
    mail.wait_removed(never)
    ok = mail.send(["user1@" + MYHOSTNAME],
                   rcpt_options=["NOTIFY=SUCCESS,FAILURE"])
    mail.wait_removed(ok)
    instance.wait_log(r"%s: sender delivery status notification: " % ok)
    (dsn,) = mail.wait_message_to(SENDER)
    assert dsn["Subject"] == "Successful Mail Delivery Report"
    _, fields, returned = dsn_parts(dsn)
    assert fields[1]["Action"] == "delivered"
    assert fields[1]["Status"] == "2.0.0"
    assert fields[1]["Final-Recipient"] == "rfc822; user1@" + MYHOSTNAME
    assert returned.get_content_type() == "text/rfc822-headers"
    # NOTIFY=NEVER: the failure was never reported.
    assert "%s: sender non-delivery" % never not in instance.log()
    assert len(mail.messages_to(SENDER)) == 1


def test_bounces_do_not_loop(instance, mail_owner, tmp_path):
    mail = start_mail(instance, mail_owner, tmp_path,
                      rules="user3=5.1.1,bad=5.1.1,postmaster=5.1.1")
    qid = mail.send(["user3@" + MYHOSTNAME], sender="bad@" + MYHOSTNAME)
    bounce = instance.wait_log(r"%s: sender non-delivery notification: "
                               r"([0-9A-Z]+)" % qid).group(1)
    notice = instance.wait_log(r"%s: postmaster non-delivery notification:"
                               r" ([0-9A-Z]+)" % bounce).group(1)
    instance.wait_log(r"%s: undeliverable postmaster notification "
                      r"discarded" % notice)
    for q in (qid, bounce, notice):
        mail.wait_removed(q)
    # The notice went to postmaster from the double-bounce address.
    assert re.search(r"%s: from=<double-bounce@%s>" %
                     (notice, re.escape(MYHOSTNAME)), instance.log())
    assert ("postmaster@" + MYHOSTNAME) in [r for q, r, _, _ in
                                            mail.rcpt_results(notice)]
    time.sleep(scaled(2))
    # Nothing else was made: three messages, three removals, one request
    # each.
    assert instance.log_count(r"qmgr\[\d+\]: \w+: removed") == 3
    assert len(mail.agent_lines("START")) == 3


def test_failed_null_sender_is_not_bounced(instance, mail_owner, tmp_path):
    mail = start_mail(instance, mail_owner, tmp_path, rules="user3=5.1.1")
    qid = mail.send(["user3@" + MYHOSTNAME], sender="")
    mail.wait_removed(qid)
    time.sleep(scaled(1))
    assert "notification" not in instance.log()
    assert instance.log_count(r"qmgr\[\d+\]: \w+: removed") == 1


def test_postmaster_gets_failed_bounce(instance, mail_owner, tmp_path):
    mail = start_mail(instance, mail_owner, tmp_path,
                      rules="user3=5.1.1,bad=5.1.1")
    qid = mail.send(["user3@" + MYHOSTNAME], sender="bad@" + MYHOSTNAME)
    mail.wait_removed(qid)
    (notice,) = mail.wait_message_to("postmaster@" + MYHOSTNAME)
    assert notice["Subject"] == "Postmaster Copy: Undelivered Mail"
    _, fields, returned = dsn_parts(notice)
    assert fields[1]["Final-Recipient"] == "rfc822; bad@" + MYHOSTNAME
    # What is returned is the bounce that could not be delivered.
    assert returned.get_payload()[0]["Subject"] == (
        "Undelivered Mail Returned to Sender")


def test_delay_warning_once(instance, mail_owner, tmp_path):
    mail = start_mail(instance, mail_owner, tmp_path, rules="erin=4.2.2",
                      conf={"delay_warning_time": "1s",
                            "maximal_queue_lifetime": "6s",
                            "minimal_backoff_time": "1s",
                            "maximal_backoff_time": "1s"})
    qid = mail.send(["erin@" + MYHOSTNAME])
    mail.wait_removed(qid, timeout=40)
    assert instance.log_count(r"%s: sender delay notification: " % qid) == 1
    msgs = mail.wait_message_to(SENDER, n=2)
    subjects = sorted(m["Subject"] for m in msgs)
    assert subjects == ["Delayed Mail (still being retried)",
                        "Undelivered Mail Returned to Sender"]
    delay = [m for m in msgs if m["Subject"].startswith("Delayed")][0]
    _, fields, _ = dsn_parts(delay)
    assert fields[1]["Action"] == "delayed"
    assert fields[1]["Status"] == "4.2.2"
    assert "Will-Retry-Until" in fields[1]


# -- grouping and concurrency --------------------------------------------------

def test_grouping_by_destination(instance, mail_owner, tmp_path):
    mail = start_mail(instance, mail_owner, tmp_path, smtp_rules="",
                      conf={"smtp_destination_recipient_limit": "2"})
    qid = mail.send(["a@remote.example", "b@remote.example",
                     "c@REMOTE.example", "d@other.example",
                     "bob@" + MYHOSTNAME])
    mail.wait_removed(qid)
    reqs = sorted((ln[4], int(ln[5])) for ln in mail.agent_lines("START"))
    # remote.example: 3 recipients in requests of at most 2; local's
    # recipient limit is 1 (Postfix's default): its own request.
    assert reqs == [("-", 1), ("other.example", 1), ("remote.example", 1),
                    ("remote.example", 2)]
    assert len(mail.delivered(qid)) == 5


def test_services_braces_macros_and_transport_limits(instance, mail_owner,
                                                     tmp_path):
    """Postfix's services syntax that master and the daemons take: a
    transport of the table with a '-' in its name has its own
    TRANSPORT_destination_recipient_limit (qmgr honours it), a service's
    "-o { name = value with spaces }" reaches the daemon, a $macro
    defined in panacea.conf and used only in the table expands there;
    none of these names draws the unknown-parameter warning that an
    unused name does."""
    mail = start_mail(
        instance, mail_owner, tmp_path, agents=("relay-out",),
        smtpd_args="-o { smtpd_banner = $site_banner, ready }",
        conf={"default_transport": "relay-out",
              "relay-out_destination_recipient_limit": "1",
              "relay-out_destination_rate_delay": "0s",
              "site_banner": "$myhostname Panacea test",
              "nowhere_used": "1"})
    with socket.create_connection((instance.host, mail.port),
                                  timeout=scaled(15)) as s:
        greeting = s.makefile("rb").readline()
    assert greeting == ("220 %s Panacea test, ready\r\n"
                        % MYHOSTNAME).encode(), greeting
    qid = mail.send(["a@remote.example", "b@remote.example",
                     "c@remote.example"])
    mail.wait_removed(qid)
    reqs = sorted((ln[4], int(ln[5])) for ln in mail.agent_lines("START"))
    # default_destination_recipient_limit (50) would make one request.
    assert reqs == [("remote.example", 1)] * 3
    assert len(mail.delivered(qid)) == 3
    # Configuration warnings come before the log is open: on stderr.
    with open(instance.stderr_path) as f:
        errs = f.read()
    assert re.search(r'master: warning: .*unknown parameter "nowhere_used"',
                     errs), errs
    assert re.search(r'smtpd: warning: .*unknown parameter "nowhere_used"',
                     errs), errs
    assert not re.search(r'unknown parameter "(relay-out_|site_banner)',
                         errs), errs


def test_destination_concurrency_limit(instance, mail_owner, tmp_path):
    mail = start_mail(instance, mail_owner, tmp_path, smtp_rules="",
                      agent_extra="-D 600",
                      conf={"smtp_destination_concurrency_limit": "2"})
    ids = [mail.send(["x%d@slow.example" % i]) for i in range(6)]
    fast = mail.send(["y@fast.example"])
    for q in ids + [fast]:
        mail.wait_removed(q, timeout=30)
    spans = {}
    for ln in mail.agent_lines():
        if ln[0] == "START":
            spans[ln[3]] = [float(ln[1]), None, ln[4]]
        elif ln[0] == "END":
            spans[ln[3]][1] = float(ln[1])
    slow = [(s, e) for s, e, dest in spans.values() if dest == "slow.example"]
    assert len(slow) == 6

    def most_at_once(intervals):
        events = sorted([(s, 1) for s, _ in intervals] +
                        [(e, -1) for _, e in intervals])
        cur = best = 0
        for _, d in events:
            cur += d
            best = max(best, cur)
        return best
    assert most_at_once(slow) == 2
    # The other destination did not wait for the slow one's backlog.
    assert spans[fast][0] < max(e for _, e in slow) - 0.5


# -- agent failures, crash safety, requests -----------------------------------

def test_agent_death_defers(instance, mail_owner, tmp_path):
    mail = start_mail(instance, mail_owner, tmp_path, rules="zed=die")
    qid = mail.send(["zed@" + MYHOSTNAME])
    instance.wait_log(r"%s: to=<zed@%s>, relay=none, .*dsn=4\.3\.0, "
                      r"status=deferred \(delivery agent died\)" %
                      (qid, re.escape(MYHOSTNAME)))
    # Still queued, tried again later.
    wait_until(lambda: len(mail.agent_lines("DIE")) >= 2, timeout=20,
               what="a second attempt")


def test_agent_failure_and_timeout(instance, mail_owner, tmp_path):
    mail = start_mail(instance, mail_owner, tmp_path, rules="ff=fail",
                      smtp_rules="", smtp_extra="-D 1500",
                      qmgr_args="-o ipc_timeout=1s")
    a = mail.send(["ff@" + MYHOSTNAME])
    b = mail.send(["slow@remote.example"])
    instance.wait_log(r"%s: to=<slow@remote\.example>, relay=none, .*"
                      r"dsn=4\.3\.0, status=deferred \(timeout waiting for "
                      r"the delivery agent\)" % b)
    # status=fail: every recipient deferred with the agent's reason.
    instance.wait_log(r"%s: to=<ff@%s>, relay=none, .*dsn=4\.3\.0, "
                      r"status=deferred \(test rule: agent failure\)" %
                      (a, re.escape(MYHOSTNAME)))
    assert not mail.delivered()


def test_transport_unavailable_and_error(instance, mail_owner, tmp_path):
    mail = start_mail(instance, mail_owner, tmp_path,
                      conf={"default_transport": "nosuch"})
    qid = mail.send(["bob@" + MYHOSTNAME, "x@remote.example"])
    instance.wait_log(r"%s: to=<x@remote\.example>, relay=none, .*"
                      r"dsn=4\.3\.0, status=deferred \(mail transport "
                      r"unavailable\)" % qid)
    instance.wait_log(r"warning: transport nosuch: connect to "
                      r"private/nosuch: ")
    # The local recipient of the same message did not wait for it.
    mail.wait_delivered(qid, "bob@" + MYHOSTNAME)
    assert ("qmgr[%s]: %s: removed" % (mail.qmgr_pid(), qid)
            not in instance.log())


def test_error_transport_bounces(instance, mail_owner, tmp_path):
    mail = start_mail(instance, mail_owner, tmp_path,
                      conf={"default_transport": "error:no remote mail"})
    qid = mail.send(["x@remote.example"])
    mail.wait_removed(qid)
    (dsn,) = mail.wait_message_to(SENDER)
    _, fields, _ = dsn_parts(dsn)
    assert fields[1]["Status"] == "5.0.0"
    assert fields[1]["Diagnostic-Code"] == "X-Panacea; no remote mail"
    assert not [q for q, _ in mail.delivered() if q == qid]


def test_qmgr_killed_mid_run(instance, mail_owner, tmp_path):
    mail = start_mail(instance, mail_owner, tmp_path, agent_extra="-D 400",
                      conf={"local_destination_recipient_limit": "5",
                            "local_destination_concurrency_limit": "3"})
    rcpts = ["u%d@%s" % (i, MYHOSTNAME) for i in range(3)]
    ids = [mail.send(rcpts) for _ in range(25)]
    kills = []
    for _ in range(3):
        wait_until(lambda: mail.qmgr_pid() and mail.agent_lines("START"),
                   timeout=20, what="qmgr at work")
        time.sleep(scaled(0.7))
        pid = mail.qmgr_pid()
        os.kill(pid, signal.SIGKILL)
        kills.append(time.time())
        wait_until(lambda: not pid_alive(pid), what="qmgr gone")
        # master starts a new one on the next wakeup: smtpd's, after the
        # next message.
        ids.append(mail.send(rcpts))
        wait_until(lambda: mail.qmgr_pid() not in (None, pid), timeout=20,
                   what="a new qmgr")
    for q in ids:
        mail.wait_removed(q, timeout=60)
    delivered = mail.delivered()
    for q in ids:
        for r in rcpts:
            assert (q, r) in delivered, "lost: %s %s" % (q, r)
    # A recipient is delivered twice only when qmgr died while its first
    # request was in flight (between START and the recording of the
    # reply, which follows END at once).
    spans = {}  # queue id -> [[start, end, agent pid]...] in order
    for ln in mail.agent_lines():
        if ln[0] == "START":
            spans.setdefault(ln[3], []).append([float(ln[1]), None, ln[2]])
        elif ln[0] == "END":
            for span in spans[ln[3]]:
                if span[2] == ln[2] and span[1] is None:
                    span[1] = float(ln[1])
    seen = {}
    for q, r in delivered:
        seen[(q, r)] = seen.get((q, r), 0) + 1
    dups = [k for k, n in seen.items() if n > 1]
    for q, r in dups:
        s, e, _ = spans[q][0]
        assert any(s <= k <= e + 1.0 for k in kills), (
            "%s %s delivered twice outside a crash window" % (q, r))
    print("duplicates explained by kills: %d, replies lost: %d" % (
        len(dups), len(mail.agent_lines("REPLYFAIL"))))


def test_flush_and_deliver_one_requests(instance, mail_owner, tmp_path):
    mail = start_mail(instance, mail_owner, tmp_path,
                      rules="f1=4.2.0/1,f2=4.2.0/1,f3=4.2.0/1",
                      smtp_rules="*=4.2.0/1",
                      conf={"minimal_backoff_time": "300s",
                            "maximal_backoff_time": "300s"})
    a = mail.send(["f1@" + MYHOSTNAME])
    b = mail.send(["f2@" + MYHOSTNAME])
    c = mail.send(["x@site.example"])
    for q in (a, b, c):
        wait_until(lambda q=q: mail.rcpt_results(q), what="first attempt")
    time.sleep(scaled(0.5))
    # Deliver one message now: only that one.
    mail.trigger(("I%s" % a).encode())
    mail.wait_removed(a)
    assert not mail.delivered(b) and not mail.delivered(c)
    # Flush one site: only its messages.
    mail.trigger(b"Ssite.example")
    mail.wait_removed(c)
    assert not mail.delivered(b)
    # Flush everything.
    mail.trigger(b"F")
    mail.wait_removed(b)
    assert instance.log_count(r"qmgr\[\d+\]: flush") == 2


def _fd_count(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return 0


class _IdleFlood:
    """Keeps up to n connections to public/qmgr open, writing nothing,
    and opens a new one whenever qmgr closes one: an unprivileged user
    trying to use up qmgr's descriptors.  It opens none while the test
    holds self.lock: see the request in
    test_trigger_idle_connections_are_bounded."""

    def __init__(self, path, n):
        import select
        import socket
        import threading
        self.select, self.socket = select, socket
        self.path, self.n = path, n
        self.socks = []
        self.opened = 0
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def connect_one(self):
        s = self.socket.socket(self.socket.AF_UNIX, self.socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(self.path)
        except OSError:
            s.close()      # the backlog is full: try again later
            return False
        self.socks.append(s)
        self.opened += 1
        return True

    def run(self):
        while not self.stop.is_set():
            while len(self.socks) < self.n:
                with self.lock:
                    if not self.connect_one():
                        break
            # Reap the connections qmgr closed.
            poller = self.select.poll()
            by_fd = {s.fileno(): s for s in self.socks}
            for fd in by_fd:
                poller.register(fd, self.select.POLLIN)
            for fd, _ in poller.poll(20):
                self.socks.remove(by_fd[fd])
                by_fd[fd].close()
            if not by_fd:
                time.sleep(0.02)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        for s in self.socks:
            s.close()


def start_with_deferred(instance, mail_owner, tmp_path):  # noqa: F811
    """A mail system with one message deferred after its first attempt
    and not due again for 300 s: (the system, its queue id)."""
    mail = start_mail(instance, mail_owner, tmp_path,
                      rules="late=4.2.0/1",
                      conf={"minimal_backoff_time": "300s",
                            "maximal_backoff_time": "300s"})
    deferred = mail.send(["late@" + MYHOSTNAME])
    wait_until(lambda: mail.rcpt_results(deferred), what="first attempt")
    return mail, deferred


def test_trigger_idle_connections_are_bounded(instance, mail_owner,
                                              tmp_path):
    """public/qmgr is world-writable: a user who opens thousands of
    connections and writes nothing must not use up qmgr's descriptors
    (it would then fail to reach its delivery agents): qmgr holds at most
    DAEMON_TRIGGER_CONN_MAX (32) of them, drops the oldest, says so at
    most every 10 s, and still delivers and acts on a request at once."""
    import resource
    mail, deferred = start_with_deferred(instance, mail_owner, tmp_path)
    qmgr = mail.qmgr_pid()
    base = _fd_count(qmgr)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    since = instance.log_size()
    start = time.monotonic()
    peak = 0
    try:
        with _IdleFlood(instance.socket_path("qmgr", private=False),
                        min(3000, hard - 200)) as flood:
            while flood.opened < 3000 and time.monotonic() - start < 20:
                peak = max(peak, _fd_count(qmgr))
                time.sleep(0.01)
            # qmgr still schedules: a new message goes out at once...
            qid = mail.send(["now@" + MYHOSTNAME])
            peak = max(peak, _fd_count(qmgr))
            mail.wait_removed(qid, timeout=5)
            # ...and a normal request is acted on promptly.  It is
            # written while the flood opens nothing new: qmgr closes the
            # oldest connection when a 33rd comes, so one whose writer
            # the kernel did not run between connect and write (a loaded
            # machine) would be dropped as an idler, which is the cap
            # working; the idle connections qmgr holds stay open.
            t0 = time.monotonic()
            with flood.lock:
                mail.trigger(("I%s" % deferred).encode())
            mail.wait_removed(deferred, timeout=5)
            acted = time.monotonic() - t0
            peak = max(peak, _fd_count(qmgr))
            opened = flood.opened
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    elapsed = time.monotonic() - start
    log = instance.log(since)
    drops = len(re.findall(r"qmgr\[\d+\]: warning: trigger request", log))
    print("%d idle connections opened; qmgr fds %d -> peak %d; %d drop "
          "warnings in %.1f s; deliver-one acted on in %.2f s"
          % (opened, base, peak, drops, elapsed, acted))
    assert opened >= 3000
    # The cap (32) plus what qmgr opens for its own deliveries.
    assert peak <= base + 32 + 16, (base, peak)
    assert 1 <= drops <= elapsed / 10 + 2, (drops, elapsed)
    assert acted < scaled(3), acted
    assert not re.search(r"qmgr\[\d+\]: (fatal|panic)", log)


def test_trigger_flush_flood_is_coalesced(instance, mail_owner, tmp_path):
    """One request may carry hundreds of flushes, and anyone may send
    many: qmgr merges them and walks the queue at most once a second
    (sites beyond one batch become one full flush), ignores oversized
    requests, warns once per bad request, and a deliver-one still takes
    effect within a second."""
    mail, deferred = start_with_deferred(instance, mail_owner, tmp_path)
    since = instance.log_size()
    start = time.monotonic()
    for i in range(50):
        mail.trigger(b"F\n" * 500)
        mail.trigger(b"W" * 4000)
        mail.trigger(b"".join(b"Ssite%d.example\n" % (i * 40 + k)
                              for k in range(40)))
        mail.trigger(b"X\n" * 300)
    t0 = time.monotonic()
    mail.trigger(("I%s" % deferred).encode())
    mail.wait_removed(deferred, timeout=5)
    acted = time.monotonic() - t0
    elapsed = time.monotonic() - start
    time.sleep(scaled(1.5))  # the last batch
    log = instance.log(since)
    walks = len(re.findall(r"qmgr\[\d+\]: flush: ", log))
    sites = len(re.findall(r"qmgr\[\d+\]: flush site", log))
    bad = len(re.findall(r"qmgr\[\d+\]: warning: request with 300 "
                         r"malformed", log))
    print("%d full walks, %d site walks in %.1f s; deliver-one acted on "
          "in %.2f s" % (walks, sites, elapsed, acted))
    assert 1 <= walks <= elapsed + 3, (walks, elapsed)
    assert sites == 0
    assert bad == 50
    assert acted < scaled(1.5) + 1, acted
    assert not re.search(r"qmgr\[\d+\]: (fatal|panic)", log)
