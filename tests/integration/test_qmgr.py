"""qmgr: scheduling, retries, bounces (RFC 3464 DSNs), expiry, NOTIFY,
grouping, concurrency, crash safety and the public/qmgr requests.

Each test starts a real master with smtpd and qmgr (chrooted and
unprivileged when the tests run as root, as an installed system does) on
its own 127.0.0.x address.  The delivery agents are tests/fixtures/
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
import os
import re
import signal
import smtplib
import time

import pytest

from panacea_test import (Instance, children_of, fixture, open_path,
                          pid_alive, program, scaled, wait_until)
from smtp_helpers import MYHOSTNAME, mail_owner  # noqa: F401

pytestmark = pytest.mark.skipif(
    not all(os.access(p, os.X_OK) for p in
            (program("master"), program("smtpd"), program("qmgr"),
             fixture("pan-agent"))),
    reason="master, smtpd, qmgr or pan-agent is not built")

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
        pids = [p for p in children_of(self.inst.pid) if _comm(p) == "qmgr"]
        return pids[0] if pids else None

    def trigger(self, data):
        import socket
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.inst.socket_path("qmgr", private=False))
        s.sendall(data)
        s.close()


def _comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


def agent_service(name, mail, rules, extra="", maxproc="-"):
    return Instance.service(
        name, "%s -r %s -f %s -m %s %s" % (
            fixture("pan-agent"), rules or "*=2.0.0", mail.log_path,
            mail.msg_dir, extra),
        type_="unix", private="y", unpriv="-", chroot="n",
        maxproc=maxproc).rstrip()


def start_mail(inst, owner, tmp_path, rules="", conf=None, smtp_rules=None,
          agent_extra="", qmgr_args="", local_maxproc="-"):
    """Configures and starts master + smtpd + qmgr + pan-agent."""
    root = os.geteuid() == 0
    out = str(tmp_path / "out")
    os.makedirs(os.path.join(out, "msgs"))
    os.chmod(out, 0o777)
    os.chmod(os.path.join(out, "msgs"), 0o777)
    port = inst.port()
    mail = Mail(inst, port, out)
    inst.conf.update({
        "mail_owner": owner,
        "myhostname": MYHOSTNAME,
        "mydomain": "test",
        "mydestination": "$myhostname, localhost",
        "dns_nameservers": "127.0.0.1:9",
        "smtpd_error_sleep_time": "0s",
        "local_recipient_maps": "",
        "minimal_backoff_time": "2s",
        "maximal_backoff_time": "4s",
        "queue_run_delay": "1s",
    })
    inst.conf.update(conf or {})
    inst.services = [
        Instance.service(port, "smtpd", unpriv="-",
                         chroot="y" if root else "n"),
        Instance.service("qmgr", ("qmgr " + qmgr_args).strip(),
                         type_="unix", private="n", unpriv="-",
                         chroot="y" if root else "n", wakeup=300,
                         maxproc=1),
        agent_service("local", mail, rules, agent_extra,
                      maxproc=local_maxproc),
    ]
    if smtp_rules is not None:
        inst.services.append(agent_service("smtp", mail, smtp_rules,
                                           agent_extra))
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
