"""Address rewriting at enqueue (lib/mail/rewrite.h): virtual alias
domains and their expansion, the RCPT-time refusals of unknown virtual
and relay recipients, canonical senders, automatic BCC.

One mail system (master, smtpd chrooted, qmgr, local) serves the whole
module; each test sends over a real socket with smtplib or a raw
Session and checks the reply, the mailboxes local wrote, and the log
lines Postfix would write (smtpd's reject lines, cleanup's warning,
qmgr's to=<...>, orig_to=<...>).
"""

import os
import re
import subprocess

import pytest

from delivery_helpers import MailSystem, accounts  # noqa: F401
from panacea_test import Instance, program, scaled, unless_built, wait_until
from smtp_helpers import MYHOSTNAME, Session, mail_owner  # noqa: F401

pytestmark = unless_built("master", "smtpd", "qmgr", "local", "pickup",
                          "sendmail")


@pytest.fixture(scope="module")
def system(tmp_path_factory, accounts, mail_owner):  # noqa: F811
    inst = Instance(tmp_path_factory.mktemp("rewrite"))
    users = accounts["users"]
    alice, bob, carol = (users[u].pw_name for u in ("alice", "bob", "carol"))
    virtual = os.path.join(inst.config_dir, "virtual")
    os.makedirs(inst.config_dir, exist_ok=True)
    with open(virtual, "w") as f:
        f.write("# virtual(5)\n"
                "sales@virt.test   %s@%s\n"
                "team@virt.test    sales@virt.test, %s@%s\n"
                "loop1@virt.test   loop2@virt.test\n"
                "loop2@virt.test   loop1@virt.test\n"
                "ghost@virt.test   gone@virt.test\n"
                "@catch.test       %s@%s\n"
                % (alice, MYHOSTNAME, bob, MYHOSTNAME, carol, MYHOSTNAME))
    os.chmod(virtual, 0o644)
    sys_ = MailSystem(inst, accounts, mail_owner, conf={
        "virtual_alias_domains": "virt.test, catch.test",
        "virtual_alias_maps": "texthash:" + virtual,
        "sender_canonical_maps":
            "inline:{ old@client.test=new@client.test }",
        "recipient_bcc_maps":
            "inline:{ %s@%s=%s@%s }" % (carol, MYHOSTNAME, bob, MYHOSTNAME),
        "masquerade_domains": "!keep.client.test, client.test",
        "sender_bcc_maps":
            "inline:{ x@client.test=%s@%s }" % (carol, MYHOSTNAME),
        "relay_domains": "relay.test",
        "relay_recipient_maps": "inline:{ ok@relay.test=x }",
        "mynetworks": "127.0.0.0/8",
        # The test clients are in mynetworks, not this machine's
        # interfaces (permit_inet_interfaces, the default).
        "local_header_rewrite_clients": "permit_mynetworks",
    })
    chroot = "y" if os.geteuid() == 0 else "n"
    # No submit service: sendmail writes to maildrop/, pickup queues.
    inst.services.append(Instance.shipped("pickup", chroot=chroot))
    # A second smtpd with its own reply code, unlisted senders refused,
    # and its clients' headers completed as a remote site's.
    sys_.port2 = inst.port()
    inst.services.append(Instance.shipped(
        "smtp", "inet", sys_.port2, chroot=chroot,
        args="-o unknown_virtual_alias_reject_code=450 "
             "-o smtpd_reject_unlisted_sender=yes "
             "-o local_header_rewrite_clients= "
             "-o remote_header_rewrite_domain=remote.example"))
    inst.write()
    sys_.start()
    yield sys_
    inst.finish()


def subjects(system, short):
    return [m["Subject"] for m in system.mbox(short)]


def wait_subject(system, short, subject):
    wait_until(lambda: subject in subjects(system, short),
               what="%s in %s's mailbox" % (subject, short))


def message(subject, rcpt="undisclosed-recipients:;"):
    return ("From: someone@client.test\r\nTo: %s\r\nSubject: %s\r\n\r\n"
            "body\r\n" % (rcpt, subject)).encode()


def test_virtual_alias_expansion(system):
    qid = system.send(["team@virt.test"], message("team mail"))
    # The queue holds the expansion: two recipients, recursively found.
    system.inst.wait_log(r"smtpd\[\d+\]: %s: from=<someone@client\.test>, "
                         r"size=\d+, nrcpt=2 \(queue active\)" % qid)
    system.wait_removed(qid)
    wait_subject(system, "alice", "team mail")
    wait_subject(system, "bob", "team mail")
    for short in ("alice", "bob"):
        system.inst.wait_log(
            r"%s: to=<%s>, orig_to=<team@virt\.test>, relay=local, .*"
            r"status=sent" % (qid, re.escape(system.addr(short))))
    msg = [m for m in system.mbox("alice") if m["Subject"] == "team mail"][0]
    assert msg["Delivered-To"] == system.addr("alice")


def test_virtual_catchall_domain(system):
    qid = system.send(["anything+ext@catch.test"], message("catch mail"))
    system.wait_removed(qid)
    wait_subject(system, "carol", "catch mail")


def test_unknown_virtual_user_rejected(system):
    s = Session(system.inst.host, system.port)
    s.expect("EHLO client.test", 250)
    s.expect("MAIL FROM:<someone@client.test>", 250)
    r = s.expect("RCPT TO:<nobody@virt.test>", 550)
    assert r.text == ("5.1.1 <nobody@virt.test>: Recipient address "
                      "rejected: User unknown in virtual alias table")
    s.expect("QUIT", 221)
    system.inst.wait_log(
        r"NOQUEUE: reject: RCPT from \S+\[127\.0\.0\.\d+\]: 550 5\.1\.1 "
        r"<nobody@virt\.test>: Recipient address rejected: User unknown in "
        r"virtual alias table; from=<someone@client\.test> "
        r"to=<nobody@virt\.test> proto=ESMTP helo=<client\.test>")


def test_alias_loop_not_accepted(system):
    s = Session(system.inst.host, system.port)
    s.expect("EHLO client.test", 250)
    s.expect("MAIL FROM:<someone@client.test>", 250)
    s.expect("RCPT TO:<loop1@virt.test>", 250)
    s.expect("DATA", 354)
    s.send(b"Subject: loop\r\n\r\nbody\r\n.\r\n")
    r = s.reply()
    assert (r.code, r.text) == (451, "4.6.0 Error: alias expansion error")
    s.expect("QUIT", 221)
    system.inst.wait_log(
        r"warning: \w+: unreasonable virtual_alias_maps map nesting for "
        r"loop1@virt\.test -- message not accepted, try again later")


def test_relay_recipient_maps(system):
    s = Session(system.inst.host, system.port)
    s.expect("EHLO client.test", 250)
    s.expect("MAIL FROM:<someone@client.test>", 250)
    s.expect("RCPT TO:<ok@relay.test>", 250)
    r = s.expect("RCPT TO:<unknown@relay.test>", 550)
    assert r.text == ("5.1.1 <unknown@relay.test>: Recipient address "
                      "rejected: User unknown in relay recipient table")
    s.expect("RSET", 250)
    s.expect("QUIT", 221)


def test_sender_canonical_and_recipient_bcc(system):
    qid = system.send([system.addr("carol")], message("canon mail"),
                      sender="old@client.test")
    system.inst.wait_log(r"smtpd\[\d+\]: %s: from=<new@client\.test>, "
                         r"size=\d+, nrcpt=2 " % qid)
    system.wait_removed(qid)
    wait_subject(system, "carol", "canon mail")
    wait_subject(system, "bob", "canon mail")
    msg = [m for m in system.mbox("carol")
           if m["Subject"] == "canon mail"][0]
    assert msg["Return-Path"] == "<new@client.test>"


def test_left_in_virtual_domain_bounces(system):
    # Known at RCPT, but its expansion stays in the virtual domain: qmgr
    # bounces it as Postfix's trivial-rewrite does (null sender: no
    # notice to deliver).
    qid = system.send(["ghost@virt.test"], message("ghost mail"), sender="")
    system.inst.wait_log(
        r"%s: to=<gone@virt\.test>, orig_to=<ghost@virt\.test>, "
        r"relay=none, .*dsn=5\.1\.1, status=bounced \(User unknown in "
        r"virtual alias table\)" % qid)


def test_pickup_rewrites_too(system):
    r = subprocess.run([program("sendmail"), "-f", "old@client.test",
                        "team@virt.test"],
                       input=(b"From: old@client.test\nTo: shortname\n"
                              b"Subject: dropped mail\n\nbody\n"),
                       capture_output=True,
                       timeout=scaled(30),
                       env=dict(os.environ,
                                MAIL_CONFIG=system.inst.config_dir))
    assert r.returncode == 0, r.stderr
    m = system.inst.wait_log(
        r"pickup\[\d+\]: (\w+): from=<new@client\.test>, size=\d+, "
        r"nrcpt=2 \(queue active\)")
    system.wait_removed(m.group(1))
    wait_subject(system, "alice", "dropped mail")
    wait_subject(system, "bob", "dropped mail")
    # A local submission's header is rewritten too.
    msg = [m for m in system.mbox("bob")
           if m["Subject"] == "dropped mail"][0]
    assert msg["From"] == "new@client.test"
    assert msg["To"] == "shortname@" + MYHOSTNAME


def test_masquerade_and_sender_bcc(system):
    qid = system.send([system.addr("alice")], message("masq mail"),
                      sender="x@mail.client.test")
    # Masqueraded first, then the sender's BCC is looked up by the result.
    system.inst.wait_log(r"smtpd\[\d+\]: %s: from=<x@client\.test>, "
                         r"size=\d+, nrcpt=2 " % qid)
    system.wait_removed(qid)
    wait_subject(system, "alice", "masq mail")
    wait_subject(system, "carol", "masq mail")
    msg = [m for m in system.mbox("alice") if m["Subject"] == "masq mail"][0]
    assert msg["Return-Path"] == "<x@client.test>"
    # "!keep.client.test" leaves that domain as it is.
    qid = system.send([system.addr("alice")], message("kept mail"),
                      sender="y@h.keep.client.test")
    system.inst.wait_log(r"smtpd\[\d+\]: %s: from=<y@h\.keep\.client\.test>, "
                         r"size=\d+, nrcpt=1 " % qid)


def test_header_addresses(system):
    data = (b"From: Old Name <old@client.test>\r\n"
            b"To: team@virt.test,\r\n shortname\r\n"
            b"Cc: \"Doe, J\" <x@mail.client.test> (work)\r\n"
            b"Subject: header mail\r\n"
            b"\r\n"
            b"From: old@client.test stays in the body\r\n")
    qid = system.send([system.addr("alice")], data)
    system.wait_removed(qid)
    wait_subject(system, "alice", "header mail")
    msg = [m for m in system.mbox("alice")
           if m["Subject"] == "header mail"][0]
    # canonical (header_sender), the standard form, masquerading
    # (header_recipient); virtual aliases are for the envelope only.
    assert msg["From"] == "Old Name <new@client.test>"
    assert msg["To"] == "team@virt.test,\n shortname@%s" % MYHOSTNAME
    assert msg["Cc"] == "\"Doe, J\" <x@client.test> (work)"
    assert b"From: old@client.test stays in the body" in msg.as_bytes()


def test_reject_code_and_unlisted_sender(system):
    system.inst.wait_port(system.port2)
    s = Session(system.inst.host, system.port2)
    s.expect("EHLO client.test", 250)
    r = s.expect("MAIL FROM:<nobody@virt.test>", 250)
    r = s.expect("RCPT TO:<%s>" % system.addr("alice"), 450)
    assert r.text == ("4.1.0 <nobody@virt.test>: Sender address rejected: "
                      "User unknown in virtual alias table")
    s.expect("RSET", 250)
    s.expect("MAIL FROM:<sales@virt.test>", 250)
    r = s.expect("RCPT TO:<nobody@virt.test>", 450)
    assert r.text == ("4.1.1 <nobody@virt.test>: Recipient address "
                      "rejected: User unknown in virtual alias table")
    s.expect("RCPT TO:<team@virt.test>", 250)
    s.expect("QUIT", 221)


def test_remote_header_rewrite_domain(system):
    system.inst.wait_port(system.port2)
    data = (b"From: someone\r\nTo: old@client.test, other\r\n"
            b"Subject: remote header\r\n\r\nbody\r\n")
    qid = system.send([system.addr("alice")], data, port=system.port2)
    system.wait_removed(qid)
    wait_subject(system, "alice", "remote header")
    msg = [m for m in system.mbox("alice")
           if m["Subject"] == "remote header"][0]
    assert msg["From"] == "someone@remote.example"
    # The canonical tables apply to a remote header too (header_sender
    # only: sender_canonical_maps is not for To:).
    assert msg["To"] == "old@client.test, other@remote.example"
