"""Debian's pflogsumm over the log of a real instance.

One mail system (delivery_helpers.MailSystem: smtpd, qmgr, local, and the
smtp agent for a relayhost nobody listens on) gets a small mixed load:
local mail to one and to two users, a message to an unknown local user
(local bounces it, and the notification goes back to the sender, a
local user), a message for a remote domain (deferred: the relay refuses
connections), and a relay attempt from a client outside mynetworks
(rejected at RCPT).  pflogsumm --syslog-name=panacea reads the maillog
and its figures are compared with what the test did: every count, the
byte totals (the size= of each message, which must also be about the
size of what was sent), and the per-sender and per-recipient lines.

A second run with syslog_name = postfix shows the other way INSTALL
gives: pflogsumm with no option at all.

Needs root (local and the accounts do).
"""

import os
import re
import smtplib
import subprocess

import pytest

import panacea_test
from delivery_helpers import (MYHOSTNAME, MailSystem, accounts,  # noqa: F401
                              crlf)
from panacea_test import Instance, program, scaled
from smtp_helpers import mail_owner  # noqa: F401

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="local needs root"),
    pytest.mark.skipif(
        not all(os.access(program(p), os.X_OK)
                for p in ("master", "smtpd", "qmgr", "local", "smtp")),
        reason="a daemon is not built"),
]

OUTSIDER = "127.0.0.213"  # a client outside mynetworks


def message(subject, body):
    return crlf(b"Subject: %s\nFrom: x@client.test\n\n%s\n"
                % (subject.encode(), body))


def pflogsumm(log, *args):
    r = subprocess.run([panacea_test.tool("pflogsumm")] + list(args) +
                       [str(log)], capture_output=True, text=True,
                       timeout=scaled(60))
    assert r.returncode == 0, r.stderr
    return r.stdout


def pflogsumm_trimmed(reason):
    """A deferral reason as pflogsumm's report shows it (without
    --verbose-msg-detail): while longer than 65 characters, everything up
    to "said: ", or else up to the first ": ", goes; then a leading
    reply code and "connect to " go.  Whether the address of the refusing
    relay (the instance's, panacea_test.pick_loopback) makes the line
    longer than that depends on its length."""
    while len(reason) > 65:
        if re.match(r".* said: ", reason):
            reason = re.sub(r"^.* said: ", "", reason)
        elif re.match(r".*: *", reason):
            reason = re.sub(r"^.*?: *", "", reason, count=1)
        else:
            reason = reason[:62] + "..."
            break
    reason = re.sub(r"^\d{3} ", "", reason)
    return re.sub(r"^connect to ", "", reason)


def totals(report):
    """The "Grand Totals" figures: {"received": 4, "bytes received":
    1234, ...} (bytes are printed as such while below 1 MB)."""
    m = re.search(r"(?ms)^Grand Totals\n-+\nmessages\n(.*?)^\S", report)
    assert m, report
    return {what: int(n) for n, what in re.findall(
        r"(?m)^\s+(\d+)\s+(\w[\w/ ]*?)\s*(?:\(.*)?$", m.group(1))}


def section(report, title):
    """The lines of one of the report's tables, as (count, size, name)
    or (count, name) tuples of strings."""
    m = re.search(r"(?m)^%s ?\n-+\n(.*?)(?:\n\n|\Z)" % re.escape(title),
                  report, re.S)
    assert m, "no section %r in:\n%s" % (title, report)
    return [tuple(line.split()) for line in m.group(1).splitlines()
            if line.strip() and line.strip() != "none"]


def mail_system(instance, accounts, owner, syslog_name):
    """The instance: smtpd on port 25's stand-in and on a submission
    port that logs under its own name (-o syslog_name=NAME/submission,
    as Postfix's master.cf does), qmgr, local, anvil, and smtp towards a
    relayhost where nothing listens (a port of the instance's own
    address, taken and released)."""
    dead = instance.port()
    system = MailSystem(instance, accounts, owner, conf={
        "syslog_name": syslog_name,
        # local, not smtpd, finds the unknown user: a bounce.
        "local_recipient_maps": "",
        "mynetworks": "127.0.0.1/32",
        "smtpd_relay_restrictions":
            "permit_mynetworks, reject_unauth_destination",
        "relayhost": "[%s]:%d" % (instance.host, dead),
        # One attempt in the test's time: no retry adds a deferral.
        "minimal_backoff_time": "300s",
        "maximal_backoff_time": "600s",
    })
    chroot = system.inst.services[0].split()[4]
    system.submission = instance.port()
    system.inst.services += [
        Instance.shipped("smtp", "inet", system.submission, chroot=chroot,
                         args="-o syslog_name=%s/submission" % syslog_name),
        Instance.shipped("smtp", chroot=chroot),
        Instance.shipped("anvil", chroot=chroot),
    ]
    system.inst.write()
    return system


def test_pflogsumm_reads_every_figure(instance, accounts,  # noqa: F811
                                      mail_owner, tmp_path):  # noqa: F811
    system = mail_system(instance, accounts, mail_owner, "panacea")
    system.start()
    system.inst.wait_port(system.submission)
    alice, bob, carol = (system.addr(u) for u in ("alice", "bob", "carol"))
    ghost = "nosuchuser@" + MYHOSTNAME
    remote = "someone@remote.example"
    sent = {}
    sent["one"] = system.send([bob], message("one", b"hello bob"),
                              sender="Joe@Client.Test")
    sent["two"] = system.send([bob, carol],
                              message("two", b"x" * 3000), sender=alice)
    sent["ghost"] = system.send([ghost], message("ghost", b"lost"),
                                sender=alice)
    # Through the submission service: its lines say
    # panacea/submission/smtpd, which pflogsumm knows.
    sent["remote"] = system.send([remote], message("remote", b"far"),
                                 sender=carol, port=system.submission)
    with smtplib.SMTP(system.inst.host, system.port, timeout=scaled(30),
                      source_address=(OUTSIDER, 0)) as s:
        s.ehlo("outsider.test")
        assert s.mail("spam@outsider.test")[0] == 250
        assert s.rcpt("victim@elsewhere.example")[0] == 554
    for key in ("one", "two", "ghost"):
        system.wait_removed(sent[key])
    dsn = system.inst.wait_log(r"%s: sender non-delivery notification: "
                               r"([0-9A-Z]+)" % sent["ghost"]).group(1)
    system.wait_removed(dsn)
    system.inst.wait_log(r"%s: to=<%s>, .*status=deferred"
                         % (sent["remote"], re.escape(remote)))
    system.inst.wait_log(r"panacea/submission/smtpd\[\d+\]: %s: client="
                         % sent["remote"])
    system.inst.wait_log(r"NOQUEUE: reject: RCPT from \S+\[%s\]"
                         % re.escape(OUTSIDER))
    text = system.inst.log()
    log = tmp_path / "maillog"
    log.write_text(text)

    size = {k: int(re.search(r"%s: from=<[^>]*>, size=(\d+)" % q,
                             text).group(1))
            for k, q in list(sent.items()) + [("dsn", dsn)]}
    for key, body in (("one", 9), ("two", 3000), ("ghost", 4),
                      ("remote", 3)):
        # size= is the queued message: what was sent and the header
        # lines smtpd added (Received:).
        assert body < size[key] < body + 600, (key, size)

    # Without the option pflogsumm sees no Postfix line at all.
    assert totals(pflogsumm(log))["received"] == 0
    report = pflogsumm(log, "--syslog-name=panacea")
    print(report)
    t = totals(report)
    assert t == {
        "received": 4,
        "delivered": 4,  # one, two (twice), the notification
        "forwarded": 0,
        "deferred": 1,
        "bounced": 1,
        "rejected": 1,
        "reject warnings": 0,
        "held": 0,
        "discarded": 0,
        "bytes received": sum(size[k] for k in sent),
        "bytes delivered": (size["one"] + 2 * size["two"] + size["dsn"]),
        "senders": 3,
        "sending hosts/domains": 2,
        "recipients": 3,
        "recipient hosts/domains": 1,
    }, report
    assert re.search(r"(?m)^\s+4\s+received$", report)
    assert re.search(r"(?m)^\s+1\s+deferred\s+\(1\s+deferrals\)$", report)
    assert re.search(r"(?m)^\s+1\s+rejected \(20%\)$", report)

    # Per sender and per recipient: count and bytes, domains lower-cased
    # as pflogsumm does.
    assert sorted(section(report, "Senders by message count")) == sorted([
        ("2", alice), ("1", "Joe@client.test"), ("1", carol)])
    assert sorted(section(report, "Senders by message size")) == sorted([
        (str(size["two"] + size["ghost"]), alice),
        (str(size["one"]), "Joe@client.test"),
        (str(size["remote"]), carol)])
    assert sorted(section(report, "Recipients by message count")) == sorted(
        [("2", bob), ("1", carol), ("1", alice)])
    assert sorted(section(report, "Recipients by message size")) == sorted([
        (str(size["one"] + size["two"]), bob),
        (str(size["two"]), carol),
        (str(size["dsn"]), alice)])
    received = section(report, "Host/Domain Summary: Messages Received")
    assert sorted(received[2:]) == sorted([
        ("3", str(size["two"] + size["ghost"] + size["remote"]),
         MYHOSTNAME),
        ("1", str(size["one"]), "client.test")])
    delivery = section(report, "Host/Domain Summary: Message Delivery")
    assert [(r[0], r[1], r[2], r[-1]) for r in delivery[2:]] == [
        ("4", str(t["bytes delivered"]), "0", MYHOSTNAME),
        ("0", "0", "1", "remote.example")]

    # The details: why it was deferred, bounced, rejected.  The deferral
    # reason is Postfix's, and pflogsumm shows it as it shows Postfix's
    # (cut to 65 characters its way: see pflogsumm_trimmed).
    reason = re.search(r"%s: to=<%s>, .*status=deferred \(([^)]+)"
                       % (sent["remote"], re.escape(remote)), text).group(1)
    assert re.fullmatch(r"connect to %s\[%s\]:\d+: Connection refused"
                        % ((re.escape(system.inst.host),) * 2), reason), reason
    assert re.search(r"message deferral detail\n-+\n  smtp \(total: 1\)\n"
                     r"\s+1\s+%s\n" % re.escape(pflogsumm_trimmed(reason)),
                     report)
    assert re.search(r"message bounce detail \(by relay\)\n-+\n"
                     r"  local \(total: 1\)\n"
                     r"\s+1\s+unknown user: \"nosuchuser\"\n", report)
    assert re.search(r"message reject detail\n-+\n  RCPT\n"
                     r"    Relay access denied \(total: 1\)\n"
                     r"\s+1\s+%s\n" % re.escape(OUTSIDER), report)
    # Nothing an administrator should not see.
    for title in ("Warnings", "Fatal Errors", "Panics"):
        assert "\n%s: none\n" % title in report, title


def test_syslog_name_postfix_needs_no_option(instance, accounts,  # noqa: F811
                                             mail_owner,  # noqa: F811
                                             tmp_path):
    # INSTALL's other way: syslog_name = postfix, and every tool made for
    # Postfix's log reads Panacea's as it is.
    system = mail_system(instance, accounts, mail_owner, "postfix")
    system.start()
    qid = system.send([system.addr("bob")], message("one", b"hi"))
    system.wait_removed(qid)
    log = tmp_path / "maillog"
    log.write_text(system.inst.log())
    assert re.search(r"postfix/qmgr\[\d+\]: %s: removed" % qid,
                     system.inst.log())
    t = totals(pflogsumm(log))
    assert (t["received"], t["delivered"]) == (1, 1)
