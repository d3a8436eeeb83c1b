"""Content filters (Postfix's FILTER_README, the advanced model): a
message that has a content filter, from content_filter or from a FILTER
action, goes whole to the filter's transport:destination after it is
queued; the filter hands it back through an smtpd service whose
content_filter is empty, and from there it is delivered as usual.

The filter here is the test itself: a scripted SMTP peer (smtp_peer.Peer)
receives what Panacea's smtp client sends it, and the test re-injects
each message with smtplib into the re-injection smtpd, adding a header
line as a real filter (amavis, a spam scanner) would.  That smtpd runs
with receive_override_options = no_unknown_recipient_checks,
no_header_body_checks: the main header_checks would refuse the filter's
header line.
"""

import os
import re
import smtplib
import socket

import pytest

from delivery_helpers import MailSystem, accounts  # noqa: F401
from panacea_test import Instance, scaled, unless_built, wait_until
from smtp_helpers import mail_owner, smtpd_setup  # noqa: F401
from smtp_peer import Peer

pytestmark = [
    unless_built("master", "smtpd", "qmgr", "local", "smtp"),
    pytest.mark.skipif(os.geteuid() != 0,
                       reason="needs root (local delivery)"),
]

FILTERED_SENDER = "filtered@example.org"


def message(subject):
    return ("From: <someone@client.test>\r\nSubject: %s\r\n\r\n"
            "a line\r\n.starts with a dot\r\n" % subject).encode()


class Filter(Peer):
    """The filter: receives over SMTP, hands each message back."""

    def reinject(self, host, port, done):
        """Re-injects the messages received after the first done ones;
        returns how many were handed back."""
        n = 0
        with self.lock:
            sessions = list(self.sessions)
        for s in sessions:
            cmds = s["commands"]
            sender = re.match(r"MAIL FROM:<([^>]*)>", next(
                c for c in cmds if c.startswith("MAIL FROM:"))).group(1)
            rcpts = [re.match(r"RCPT TO:<([^>]*)>", c).group(1)
                     for c in cmds if c.startswith("RCPT TO:")]
            for data in s["data"]:
                if n >= done:
                    # The wire form: undo the dot stuffing, drop the
                    # final dot.
                    body = re.sub(rb"(?m)^\.\.", b".", data[:-3])
                    with smtplib.SMTP(host, port,
                                      timeout=scaled(30)) as c:
                        c.sendmail(sender, rcpts,
                                   b"X-Filtered: yes\r\n" + body)
                n += 1
        return n


@pytest.fixture
def rig(instance, accounts, mail_owner):  # noqa: F811
    filt = Filter(instance.host, 0, name="filter.test")
    filt.extensions = ["PIPELINING", "8BITMIME"]
    dest = "smtp:[%s]:%d" % (instance.host, filt.port)
    system = MailSystem(instance, accounts, mail_owner, conf={
        "mynetworks": "127.0.0.0/8",
        "smtpd_sender_restrictions":
            "check_sender_access inline:{ {%s=FILTER %s} }"
            % (FILTERED_SENDER, dest),
        # The filter's mark would be refused here: only the
        # re-injection service skips the checks.
        "header_checks": "regexp:{ {/^X-Filtered:/ REJECT no "
                         "filter marks from outside} }",
    })
    chroot = system.inst.services[0].split()[4]
    system.filtered = instance.port()
    system.reinject = instance.port()
    system.inst.services += [
        # A service whose every message goes to the filter.
        Instance.shipped("smtp", "inet", system.filtered, chroot=chroot,
                         args="-o content_filter=%s" % dest),
        # Where the filter hands mail back: FILTER_README's service,
        # without the restrictions that would send it round again.
        Instance.shipped(
            "smtp", "inet", system.reinject, chroot=chroot,
            args="-o content_filter= -o smtpd_sender_restrictions= "
                 "-o receive_override_options="
                 "no_unknown_recipient_checks,no_header_body_checks"),
        Instance.shipped("smtp", chroot=chroot),
    ]
    system.inst.write()
    system.start()
    system.inst.wait_port(system.filtered)
    system.inst.wait_port(system.reinject)
    system.filter = filt
    system.dest = dest
    yield system
    filt.close()


def filter_messages(rig, n):
    return wait_until(lambda: len(rig.filter.messages()) >= n,
                      timeout=scaled(30),
                      what="%d message(s) at the filter" % n)


def test_content_filter_and_reinjection(rig):
    alice = rig.addr("alice")
    qid = rig.send([alice], message("through the filter"),
                   port=rig.filtered)
    filter_messages(rig, 1)
    # Panacea's smtp took it to the filter, as for any next hop.
    rig.inst.wait_log(r"smtp\[\d+\]: %s: to=<%s>, relay=\S+\[%s\]:%d, "
                      r".*status=sent" % (qid, re.escape(alice),
                                          re.escape(rig.inst.host),
                                          rig.filter.port))
    assert rig.messages("alice") == []
    assert rig.filter.reinject(rig.inst.host, rig.reinject, 0) == 1
    (m,) = rig.wait_messages("alice", 1)
    assert m["X-Filtered"] == "yes"
    assert m["Subject"] == "through the filter"
    assert m.get_payload() == "a line\n.starts with a dot\n"
    # Once: the re-injected copy is not filtered again.
    assert len(rig.filter.messages()) == 1
    # no_unknown_recipient_checks: the filter's smtpd takes a recipient
    # the main service refuses (local finds it unknown later).
    nobody = "nosuchuser@" + alice.split("@")[1]
    for port, code in ((rig.port, 550), (rig.reinject, 250)):
        with rig.smtp(port) as c:
            c.mail("someone@client.test")
            assert c.rcpt(nobody)[0] == code, port


def test_filter_action_and_unfiltered_mail(rig):
    alice, bob = rig.addr("alice"), rig.addr("bob")
    # Another sender on the main service: no filter, delivered at once;
    # the filter's mark from outside is refused by header_checks.
    rig.send([bob], message("straight"))
    (m,) = rig.wait_messages("bob", 1)
    assert m["X-Filtered"] is None
    with rig.smtp() as c:
        c.mail("someone@client.test")
        c.rcpt(bob)
        code, text = c.data(b"X-Filtered: yes\r\n" + message("forged"))
    assert (code, text) == (550, b"5.7.1 no filter marks from outside")
    # The access table's FILTER: this sender's mail goes to the filter.
    qid = rig.send([alice], message("by FILTER"), sender=FILTERED_SENDER)
    rig.inst.wait_log(
        r"smtpd\[\d+\]: %s: filter: RCPT from \S+\[[0-9.]+\]: <%s>: Sender "
        r"address triggers FILTER %s; from=<%s> to=<%s> proto=ESMTP "
        r"helo=<client\.test>" % (qid, re.escape(FILTERED_SENDER),
                                  re.escape(rig.dest),
                                  re.escape(FILTERED_SENDER),
                                  re.escape(alice)))
    filter_messages(rig, 1)
    assert rig.filter.reinject(rig.inst.host, rig.reinject, 0) == 1
    (m,) = rig.wait_messages("alice", 1)
    assert m["X-Filtered"] == "yes" and m["Subject"] == "by FILTER"
    assert len(rig.filter.messages()) == 1


@pytest.mark.parametrize("conf,message", [
    ({"content_filter": "no-colon"},
     'content_filter: bad value "no-colon" (need transport:destination)'),
    ({"receive_override_options": "no_unknown_recipient_checks, nosuch"},
     'receive_override_options: unknown option "nosuch"'),
])
def test_bad_values_stop_smtpd(instance, mail_owner, conf,  # noqa: F811
                               message):
    """A malformed content_filter or an unknown receive_override_options
    word stops smtpd at start, the parameter named, before any mail."""
    port = smtpd_setup(instance, mail_owner, conf=conf)
    # The connection makes master start smtpd; nothing will answer it.
    with socket.create_connection((instance.host, port), timeout=10):
        instance.wait_log(r"smtpd\[\d+\]: fatal: " + re.escape(message))
