"""header_checks, mime_header_checks, nested_header_checks, body_checks.

Each test starts a real master with smtpd (chrooted and unprivileged as
root) on its own loopback address, with regexp: or pcre: tables written
as Postfix administrators write them (header_checks(5)), sends mail over
a real socket, and checks the reply, what is in the queue (pancat,
pan-qlist) and the log lines Postfix's cleanup would write.
"""

import os
import re
import subprocess
import time

from delivery_helpers import MailSystem, accounts  # noqa: F401
from panacea_test import Instance, program, scaled, unless_built
from smtp_helpers import (MYHOSTNAME, Session, mail_owner,  # noqa: F401
                          pancat, queue_ids, queued_id, smtpd_setup,
                          stored_message, wait_committed)

pytestmark = unless_built("master", "smtpd", "pancat")

RCPT = "root@" + MYHOSTNAME
SENDER = "a@example.org"
# What Postfix's cleanup puts after the header or body line it logs.
WHERE = (r"from localhost\[127\.0\.0\.1\]; from=<a@example\.org> "
         r"to=<root@%s> proto=ESMTP helo=<client\.test>" %
         re.escape(MYHOSTNAME))

PLAIN = (b"From: <a@example.org>\r\n"
         b"To: <root@panacea.test>\r\n"
         b"Subject: quarterly\r\n"
         b"  report\r\n"
         b"X-Mailer: tester 1.0\r\n"
         b"\r\n"
         b"Hello,\r\n"
         b"please find the report.\r\n")


def start(inst, owner, tables, args="", **conf):
    """Writes each table (name -> text) into the instance's folder and
    starts smtpd with conf and args (its -o options), where "{name}"
    stands for a table's path."""
    paths = {}
    for name, text in tables.items():
        path = os.path.join(inst.base, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
        paths[name] = path
    conf = {k: v.format(**paths) for k, v in conf.items()}
    return smtpd_setup(inst, owner, conf=conf, args=args.format(**paths))


def transaction(inst, port, data, bdat=False):
    """Sends data in one transaction; returns (session, reply)."""
    s = Session(inst.host, port)
    s.expect("EHLO client.test", 250)
    s.expect("MAIL FROM:<%s>" % SENDER, 250)
    s.expect("RCPT TO:<%s>" % RCPT, 250)
    if bdat:
        s.send(b"BDAT %d LAST\r\n" % len(data) + data)
    else:
        s.expect("DATA", 354)
        s.send(data + b".\r\n")
    return s, s.reply()


def accepted(inst, port, data, bdat=False):
    s, r = transaction(inst, port, data, bdat)
    qid = queued_id(r)
    s.expect("QUIT", 221)
    return qid


def test_reject_with_regexp_text_and_nothing_queued(instance, mail_owner):
    port = start(instance, mail_owner,
                 {"header_checks": "# the usual\n"
                  "/^Subject:.*viagra/  REJECT No spam here, thanks\n"},
                 header_checks="regexp:{header_checks}")
    data = PLAIN.replace(b"quarterly", b"cheap VIAGRA")
    # A body larger than one queue chunk: early chunks are written
    # before the end of data and must go with the refusal.
    data += b"x" * 998 + b"\r\n"
    data = data + (b"y" * 998 + b"\r\n") * 200
    s, r = transaction(instance, port, data)
    assert r.code == 550 and r.text == "5.7.1 No spam here, thanks", r
    # The session goes on: the next message is taken.
    s.expect("MAIL FROM:<%s>" % SENDER, 250)
    s.expect("RCPT TO:<%s>" % RCPT, 250)
    s.expect("DATA", 354)
    s.send(PLAIN + b".\r\n")
    qid = queued_id(s.reply())
    s.expect("QUIT", 221)
    wait_committed(instance, qid)
    assert queue_ids(instance) == [qid]
    log = instance.log()
    m = re.search(r"smtpd\[\d+\]: (\w+): reject: header Subject: cheap "
                  r"VIAGRA   report %s: 5\.7\.1 No spam here, thanks\n" %
                  WHERE, log)
    assert m, log
    assert m.group(1) != qid
    # Refused content is never reported as queued.
    assert not re.search(m.group(1) + r": from=<", log)


def test_pcre_reject_default_text_by_bdat(instance, mail_owner):
    port = start(instance, mail_owner,
                 {"hc_pcre": "/^X-Mailer:\\s+tester\\b/ REJECT\n"},
                 header_checks="pcre:{hc_pcre}")
    s, r = transaction(instance, port, PLAIN, bdat=True)
    assert r.code == 550 and r.text == "5.7.1 message content rejected", r
    s.expect("QUIT", 221)
    assert queue_ids(instance) == []
    instance.wait_log(r"\w+: reject: header X-Mailer: tester 1\.0 %s: "
                      r"5\.7\.1 message content rejected\n" % WHERE)


def test_hold_discard_warn(instance, mail_owner):
    port = start(instance, mail_owner,
                 {"hc": "/^Subject: hold/ HOLD kept for review\n"
                        "/^Subject: discard/ DISCARD\n"
                        "/^X-Mailer:/ WARN old mailer\n"},
                 header_checks="regexp:{hc}")
    held = accepted(instance, port, PLAIN.replace(b"quarterly", b"hold"))
    env = pancat(instance, held, "-e").decode()
    assert re.search(r"^hold: yes$", env, re.M), env
    log = instance.wait_log(r"%s: from=<a@example\.org>, size=\d+, "
                            r"nrcpt=1\n" % held)
    assert log
    instance.wait_log(r"%s: hold: header Subject: hold   report %s: kept "
                      r"for review\n" % (held, WHERE))
    instance.wait_log(r"%s: warning: header X-Mailer: tester 1\.0 %s: old "
                      r"mailer\n" % (held, WHERE))

    gone = accepted(instance, port, PLAIN.replace(b"quarterly", b"discard"))
    instance.wait_log(r"%s: discard: header Subject: discard   report %s\n"
                      % (gone, WHERE))
    assert gone not in queue_ids(instance)
    assert held in queue_ids(instance)

    plain = accepted(instance, port, PLAIN)
    env = pancat(instance, plain, "-e").decode()
    assert re.search(r"^hold: no$", env, re.M), env
    # WARN changes nothing in the message.
    assert stored_message(instance, plain)[1] == PLAIN


def test_prepend_replace_ignore(instance, mail_owner):
    port = start(instance, mail_owner,
                 {"hc_pcre": "/^X-Mailer:/ IGNORE\n"
                  "/^Subject: (.*)/ REPLACE Subject: [ext] $1\n"
                  "/^To:/ PREPEND X-Checked: yes\n"},
                 header_checks="pcre:{hc_pcre}")
    qid = accepted(instance, port, PLAIN)
    received, rest = stored_message(instance, qid)
    # REPLACE takes the whole logical header: $1 keeps the folding,
    # stored with <CR><LF> like every line.
    assert rest == (b"From: <a@example.org>\r\n"
                    b"X-Checked: yes\r\n"
                    b"To: <root@panacea.test>\r\n"
                    b"Subject: [ext] quarterly\r\n  report\r\n"
                    b"\r\n"
                    b"Hello,\r\n"
                    b"please find the report.\r\n"), rest
    log = wait_committed(instance, qid)
    assert log
    instance.wait_log(r"%s: prepend: header To: <root@panacea\.test> %s: "
                      r"X-Checked: yes\n" % (qid, WHERE))
    instance.wait_log(r"%s: replace: header Subject: quarterly   report %s: "
                      r"Subject: \[ext\] quarterly   report\n" % (qid, WHERE))
    # IGNORE is silent.
    assert "X-Mailer" not in instance.log()
    # The size logged is the message as stored.
    size = int(re.search(r"%s: from=<[^>]*>, size=(\d+)" % qid,
                         instance.log()).group(1))
    assert size == len(received) + len(rest)


def test_header_checks_see_smtpds_received(instance, mail_owner):
    """As cleanup sees smtpd's Received: header, so do these checks:
    a submission service hides its clients with its own -o header_checks
    (Postfix: a cleanup service of its own)."""
    port = start(instance, mail_owner,
                 {"hc": "/^Received: from client\\.test/ IGNORE\n"},
                 args="-o header_checks=regexp:{hc}")
    qid = accepted(instance, port, PLAIN)
    assert pancat(instance, qid) == PLAIN


def test_body_checks_reject(instance, mail_owner):
    port = start(instance, mail_owner,
                 {"bc": "/^please find the (report)/ REJECT 5.7.0 no $1s\n"},
                 body_checks="regexp:{bc}")
    s, r = transaction(instance, port, PLAIN)
    assert r.code == 550 and r.text == "5.7.0 no reports", r
    s.expect("QUIT", 221)
    instance.wait_log(r"\w+: reject: body please find the report\. %s: "
                      r"5\.7\.0 no reports\n" % WHERE)
    assert queue_ids(instance) == []


def test_body_checks_size_limit(instance, mail_owner):
    port = start(instance, mail_owner,
                 {"bc": "/^please/ REJECT\n"},
                 body_checks="regexp:{bc}", body_checks_size_limit="5")
    accepted(instance, port, PLAIN)


MIME = (b"From: <a@example.org>\r\n"
        b"Subject: the files\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=\"=-=b=-=\"\r\n"
        b"\r\n"
        b"This is a MIME message.\r\n"
        b"--=-=b=-=\r\n"
        b"Content-Type: text/plain; charset=us-ascii\r\n"
        b"\r\n"
        b"See attached.\r\n"
        b"--=-=b=-=\r\n"
        b"Content-Type: application/octet-stream;\r\n"
        b"\tname=\"NAME\"\r\n"
        b"Content-Transfer-Encoding: base64\r\n"
        b"\r\n"
        b"TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAA\r\n"
        b"--=-=b=-=--\r\n")

# header_checks(5)'s example, as administrators copy it.
ATTACHMENTS = r"""/^Content-(Disposition|Type).*name\s*=\s*"?([^;]*(\.|=2E)(
  ade|adp|asp|bas|bat|chm|cmd|com|cpl|crt|dll|exe|
  hlp|ht[at]|
  inf|ins|isp|jse?|lnk|md[betw]|ms[cipt]|nws|
  ops|pcd|pif|prf|reg|sc[frt]|sh[bsm]|swf|
  vb[esx]?|vxd|ws[cfh]))(\?=)?"?\s*(;|$)/x
    REJECT Attachment name "$2" may not end with ".$4"
"""


def test_mime_header_checks_reject_exe_attachment(instance, mail_owner):
    port = start(instance, mail_owner, {"mime_pcre": ATTACHMENTS},
                 mime_header_checks="pcre:{mime_pcre}")
    s, r = transaction(instance, port, MIME.replace(b"NAME", b"invoice.exe"))
    assert r.code == 550, r
    assert r.text == ('5.7.1 Attachment name "invoice.exe" may not end '
                      'with ".exe"'), r
    s.expect("QUIT", 221)
    instance.wait_log(
        r"\w+: reject: header Content-Type: application/octet-stream;  "
        r"name=\"invoice\.exe\" %s: 5\.7\.1 Attachment name "
        r"\"invoice\.exe\" may not end with \"\.exe\"\n" % WHERE)
    qid = accepted(instance, port, MIME.replace(b"NAME", b"invoice.pdf"))
    assert stored_message(instance, qid)[1] == MIME.replace(
        b"NAME", b"invoice.pdf")


def test_header_checks_do_not_see_mime_headers(instance, mail_owner):
    """A MIME header goes to mime_header_checks, not header_checks,
    unless mime_header_checks is left at its default $header_checks."""
    hc = {"hc": "/^Content-Type:.*octet-stream/ REJECT by header_checks\n"}
    port = start(instance, mail_owner, hc, header_checks="regexp:{hc}",
                 mime_header_checks="")
    accepted(instance, port, MIME.replace(b"NAME", b"a.bin"))


def test_mime_header_checks_default_to_header_checks(instance, mail_owner):
    hc = {"hc": "/^Content-Type:.*octet-stream/ REJECT by header_checks\n"}
    port = start(instance, mail_owner, hc, header_checks="regexp:{hc}")
    s, r = transaction(instance, port, MIME.replace(b"NAME", b"a.bin"))
    assert r.code == 550 and r.text == "5.7.1 by header_checks", r


NESTED = (b"From: <a@example.org>\r\n"
          b"Subject: fwd: lottery\r\n"
          b"MIME-Version: 1.0\r\n"
          b"Content-Type: multipart/mixed; boundary=outer\r\n"
          b"\r\n"
          b"--outer\r\n"
          b"Content-Type: text/plain\r\n"
          b"\r\n"
          b"Forwarded.\r\n"
          b"--outer\r\n"
          b"Content-Type: message/rfc822\r\n"
          b"\r\n"
          b"From: <winner@lottery.example>\r\n"
          b"Subject: you won the lottery\r\n"
          b"\r\n"
          b"Send your bank details.\r\n"
          b"--outer--\r\n")


def test_nested_header_checks(instance, mail_owner):
    port = start(instance, mail_owner,
                 {"nested": "/^Subject:.*lottery/ REJECT forwarded scam\n"},
                 nested_header_checks="regexp:{nested}")
    s, r = transaction(instance, port, NESTED)
    assert r.code == 550 and r.text == "5.7.1 forwarded scam", r
    s.expect("QUIT", 221)
    instance.wait_log(r"\w+: reject: header Subject: you won the lottery "
                      r"%s: 5\.7\.1 forwarded scam\n" % WHERE)
    # The message's own Subject: is header_checks' (empty here).
    accepted(instance, port, PLAIN.replace(b"quarterly", b"lottery"))


def test_disable_mime_input_processing(instance, mail_owner):
    """Without MIME processing the part headers are body lines."""
    port = start(instance, mail_owner,
                 {"bc": "/^Content-Type:.*name=\"a\\.exe\"/ REJECT body\n"},
                 body_checks="regexp:{bc}",
                 disable_mime_input_processing="yes")
    data = MIME.replace(b";\r\n\tname", b"; name").replace(b"NAME", b"a.exe")
    s, r = transaction(instance, port, data)
    assert r.code == 550 and r.text == "5.7.1 body", r


def test_bad_table_stops_smtpd(instance, mail_owner):
    port = start(instance, mail_owner, {"hc": "/unclosed(/ REJECT\n"},
                 header_checks="regexp:{hc}")
    # smtpd dies at start naming the parameter and the file's line.
    instance.wait_log(r"fatal: header_checks: .*hc:1: ")
    assert port


def test_unsupported_table_type_stops_master(instance):
    """As for the *_maps parameters: master refuses to start, naming the
    parameter and the table, before any smtpd dies on it."""
    instance.conf["body_checks"] = "cdb:/etc/panacea/body_checks"
    instance.services = [Instance.service(
        instance.port(), "smtpd -o smtp_header_checks=nis:mail.aliases")]
    instance.write()
    proc = instance.run_master("-f")
    assert proc.returncode != 0
    assert re.search(r"panacea\.conf:\d+: body_checks: "
                     r"cdb:/etc/panacea/body_checks: unsupported table type "
                     r"\"cdb\"", proc.stderr), proc.stderr


def test_redirect_and_bcc(instance, mail_owner):
    port = start(instance, mail_owner,
                 {"hc": "/^Subject: quarterly/ REDIRECT audit@panacea.test\n"
                        "/^X-Mailer:/ BCC archive@panacea.test\n"},
                 header_checks="regexp:{hc}")
    qid = accepted(instance, port, PLAIN)
    env = pancat(instance, qid, "-e").decode()
    rcpts = re.findall(r"^recipient: (\S+)", env, re.M)
    assert rcpts == ["audit@panacea.test", "archive@panacea.test"], env
    # BCC recipients get no DSN (NOTIFY=NEVER).
    assert re.search(r"archive@panacea\.test\n  dsn_notify: 1\n", env), env
    instance.wait_log(r"%s: redirect: header Subject: quarterly   report %s: "
                      r"audit@panacea\.test\n" % (qid, WHERE))
    # The message itself is unchanged.
    assert stored_message(instance, qid)[1] == PLAIN


def test_held_message_waits_for_release(instance, accounts,  # noqa: F811
                                        mail_owner):
    """End to end with qmgr and local: HOLD keeps the message out of
    delivery until pansuper -H releases it."""
    hc = os.path.join(instance.base, "hc")
    with open(hc, "w") as f:
        f.write("/^Subject: hold me/ HOLD\n")
    os.chmod(hc, 0o644)
    system = MailSystem(instance, accounts, mail_owner, qmgr_wakeup=1,
                        conf={"header_checks": "regexp:" + hc})
    system.start()
    held = system.send([system.addr("alice")],
                       b"Subject: hold me\r\n\r\nwait\r\n")
    plain = system.send([system.addr("alice")],
                        b"Subject: plain\r\n\r\ngo\r\n")
    system.wait_removed(plain)
    # Several qmgr runs later the held one is still there, undelivered.
    time.sleep(scaled(3))
    assert len(system.messages("alice")) == 1
    assert system.deliveries(held) == []
    r = subprocess.run([program("pansuper"), "-c", instance.config_dir,
                        "-H", held], capture_output=True, timeout=scaled(30))
    assert r.returncode == 0, r.stderr
    system.wait_removed(held)
    assert [m["Subject"] for m in system.messages("alice")] == [
        "plain", "hold me"]
    assert system.deliveries(held) == [(system.addr("alice"), "sent")]


def test_pickup_checks_maildrop_mail(instance, mail_owner):  # noqa: F811
    """Mail sendmail kept in maildrop/ (no submit service: the system
    was down) goes through the same checks in pickup: REPLACE changes the
    content, REDIRECT the envelope, DISCARD drops it; REJECT holds it
    whole (pickup cannot answer the sender; Postfix's cleanup would
    bounce it), logged as cleanup logs a local submission."""
    path = os.path.join(instance.base, "header_checks")
    with open(path, "w") as f:
        f.write("/^Subject: reject me/ REJECT no thanks\n"
                "/^Subject: drop me/ DISCARD\n"
                "/^Subject: redirect me/ REDIRECT postmaster@%s\n"
                "/^X-Mailer: (.*)/ REPLACE X-Old-Mailer: $1\n"
                % MYHOSTNAME)
    os.chmod(path, 0o644)
    smtpd_setup(instance, mail_owner, conf={
        "header_checks": "regexp:" + path},
        services=[Instance.shipped("pickup",
                                   chroot="y" if os.geteuid() == 0
                                   else "n")])

    def sendmail(subject):
        r = subprocess.run(
            [program("sendmail"), "-f", SENDER, RCPT],
            input=b"Subject: " + subject + b"\nX-Mailer: tester 1.0\n\n"
            b"kept\n", capture_output=True, timeout=scaled(30),
            env=dict(os.environ, MAIL_CONFIG=instance.config_dir))
        assert r.returncode == 0, r.stderr

    def picked(subject):
        sendmail(subject)
        return instance.wait_log(
            r"pickup\[\d+\]: (\w+): from=<%s>, size=\d+, nrcpt=1" %
            re.escape(SENDER), since=mark).group(1)

    mark = instance.log_size()
    qid = picked(b"plain")
    text = pancat(instance, qid).decode()
    assert "X-Old-Mailer: tester 1.0\r\n" in text and \
        "X-Mailer:" not in text, text
    instance.wait_log(r"%s: replace: header X-Mailer: tester 1\.0 from "
                      r"local; from=<%s> to=<%s>: X-Old-Mailer: tester"
                      % (qid, re.escape(SENDER), re.escape(RCPT)))
    mark = instance.log_size()
    qid = picked(b"reject me")
    env = pancat(instance, qid, "-e").decode()
    assert re.search(r"^hold: yes$", env, re.M), env
    assert "kept" in pancat(instance, qid).decode()  # whole
    instance.wait_log(r"%s: hold: header Subject: reject me from local; "
                      r"from=<%s> to=<%s>: 5\.7\.1 no thanks"
                      % (qid, re.escape(SENDER), re.escape(RCPT)))
    mark = instance.log_size()
    qid = picked(b"redirect me")
    env = pancat(instance, qid, "-e").decode()
    assert "postmaster@%s" % MYHOSTNAME in env and RCPT not in env, env
    mark = instance.log_size()
    sendmail(b"drop me")
    instance.wait_log(r"discard: header Subject: drop me from local;",
                      since=mark)
    assert len(os.listdir(os.path.join(instance.queue_dir,
                                       "maildrop"))) == 0
