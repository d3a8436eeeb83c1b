"""DKIM (RFC 6376, RFC 8463) and Authentication-Results (RFC 8601) in
smtpd, checked against two other implementations: dkimpy (Debian's
python3-dkim) and OpenDKIM's opendkim-testmsg.

One module-scoped world: nsd on loopback serving the key records of
sign.test (Panacea's RSA and Ed25519 keys, made by `panacea dkim
genkey`) and ext.test (an outside signer's key, made by openssl), and
one smtpd that signs for mynetworks (127.0.0.1) through an OpenDKIM
SigningTable (refile:) and verifies everyone else's mail
(smtpd_dkim_verify).  opendkim-testmsg asks the C library's resolver,
so it runs in a mount namespace of its own where /etc/resolv.conf
names the test nsd (port 53 on a loopback address of this module): the
machine's resolver is never asked.
"""

import base64
import os
import re
import subprocess

import pytest

from panacea_test import (Instance, loopback_net, program, scaled, tool,
                          unless_built)
from smtp_helpers import (MYHOSTNAME, Session, mail_owner,  # noqa: F401
                          pancat, queued_id, smtpd_setup)

pytestmark = unless_built("master", "smtpd", "pickup", "sendmail", "pancat",
                          "panacea")

ROOT = "root@" + MYHOSTNAME
BODY = (b"Hi.\r\n\r\nWe lost the game.  Are you hungry yet?\r\n\r\n"
        b"Joe.\r\n")


def message(frm, subject, extra=b""):
    return (extra + b"From: Joe <" + frm.encode() + b">\r\n"
            b"To: Suzie <suzie@panacea.test>\r\n"
            b"Subject: " + subject.encode() + b"\r\n"
            b"Date: Fri, 11 Jul 2003 21:00:37 -0700\r\n"
            b"Message-ID: <" + subject.replace(" ", ".").encode() +
            b"@example>\r\n\r\n" + BODY)


def txt_zone_record(name, record):
    """A zone-file TXT line, the record cut in strings of 250 bytes."""
    parts = [record[i:i + 250] for i in range(0, len(record), 250)]
    return "%s TXT ( %s )\n" % (name, " ".join('"%s"' % p for p in parts))


def genkey(tmp, kind, selector):
    path = str(tmp / (selector + ".private"))
    r = subprocess.run([program("panacea"), "dkim", "genkey", "--type", kind,
                        "--output", path, "sign.test", selector],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r
    assert os.stat(path).st_mode & 0o777 == 0o600
    first = r.stdout.splitlines()[0]
    assert first.startswith("%s._domainkey.sign.test. IN TXT (" % selector)
    record = "".join(re.findall(r'"([^"]*)"', first))
    return path, record


@pytest.fixture(scope="module")
def world(tmp_path_factory, mail_owner):  # noqa: F811
    from dnsserver import DNSServer
    tmp = tmp_path_factory.mktemp("dkim")
    net = loopback_net()
    rsa_path, rsa_rec = genkey(tmp, "rsa", "rsa")
    ed_path, ed_rec = genkey(tmp, "ed25519", "ed")
    assert rsa_rec.startswith("v=DKIM1; k=rsa; p=MIIBIjAN")  # 2048 bits
    assert ed_rec.startswith("v=DKIM1; k=ed25519; p=")
    ext_key = str(tmp / "ext.pem")
    subprocess.run([tool("openssl"), "genpkey", "-algorithm", "RSA",
                    "-pkeyopt", "rsa_keygen_bits:2048", "-out", ext_key],
                   check=True, capture_output=True, timeout=30)
    der = subprocess.run([tool("openssl"), "pkey", "-in", ext_key, "-pubout",
                          "-outform", "DER"], check=True,
                         capture_output=True, timeout=30).stdout
    ext_rec = "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()
    records = {"rsa._domainkey.sign.test.": rsa_rec,
               "ed._domainkey.sign.test.": ed_rec,
               "s1._domainkey.ext.test.": ext_rec}
    dns = DNSServer({
        "sign.test": txt_zone_record("rsa._domainkey", rsa_rec) +
        txt_zone_record("ed._domainkey", ed_rec),
        "ext.test": txt_zone_record("s1._domainkey", ext_rec) +
        'revoked._domainkey TXT "v=DKIM1; p="\n'
        '@ TXT "v=spf1 ip4:%s60 -all"\n' % net,
        # DMARC p=reject, no SPF: only an aligned DKIM pass passes.
        "dm.test": txt_zone_record("s1._domainkey", ext_rec) +
        '_dmarc TXT "v=DMARC1; p=reject"\n',
    }, address=net + "53", port=53, workdir=str(tmp / "nsd"))
    dns.start()
    (tmp / "KeyTable").write_text(
        "# OpenDKIM's format\n"
        "rsa-key sign.test:rsa:%s\n"
        "ed-key  %%:ed:%s\n" % (rsa_path, ed_path))
    (tmp / "SigningTable").write_text(
        "*@sign.test rsa-key\n"
        "*@sign.test ed-key\n")
    inst = Instance(tmp / "inst")
    try:
        port = smtpd_setup(inst, mail_owner, conf={
            "mynetworks": "127.0.0.1/32",
            "dns_nameservers": dns.nameservers,
            "smtpd_dkim_verify": "yes",
            "smtpd_dmarc_enable": "yes",
            # The SPF result goes into Authentication-Results too.
            "smtpd_recipient_restrictions":
                "permit_mynetworks, reject_unauth_destination, "
                "reject_spf_fail",
            "dkim_key_table": str(tmp / "KeyTable"),
            "dkim_signing_table": "refile:" + str(tmp / "SigningTable"),
        }, services=[Instance.shipped("pickup",
                                      chroot="y" if os.geteuid() == 0
                                      else "n")])
        yield {"inst": inst, "port": port, "client": net + "60",
               "records": records, "ext_key": ext_key, "dns": dns,
               "tmp": tmp}
    finally:
        report = inst.finish()
        dns.stop()
        dns.cleanup()
    if report:
        pytest.fail("sanitizer report: %s" % report)


def send(world, msg, source, sender="joe@ext.test"):
    with Session(world["inst"].host, world["port"], source=source) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<%s>" % sender, 250)
        s.expect("RCPT TO:<%s>" % ROOT, 250)
        s.expect("DATA", 354)
        s.send(msg.replace(b"\r\n.", b"\r\n..") + b".\r\n")
        qid = queued_id(s.reply())
        s.expect("QUIT", 221)
    return pancat(world["inst"], qid)


def our_ar(text):
    """The Authentication-Results fields with our authserv-id, unfolded."""
    found = re.findall(r"^Authentication-Results: %s;(.*(?:\n\t.*)*)"
                       % re.escape(MYHOSTNAME), text.replace("\r\n", "\n"),
                       re.M)
    return [f.replace("\n\t", " ") for f in found]


def dkimpy_sign(world, msg, domain=b"ext.test", **kw):
    import dkim
    with open(world["ext_key"], "rb") as f:
        key = f.read()
    sig = dkim.sign(msg, b"s1", domain, key,
                    include_headers=[b"from", b"to", b"subject", b"date"],
                    **kw)
    return sig.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") + msg


def test_dkimpy_signatures_pass(world):
    """Signed by dkimpy (relaxed/relaxed; simple/simple; with l= and a
    body grown after signing): dkim=pass with header.d, .s and .b, after
    the SPF result reject_spf_fail found."""
    for kw, tail in (({}, b""),
                     ({"canonicalize": (b"simple", b"simple")}, b""),
                     ({"length": True}, b"Appended by a list.\r\n")):
        signed = dkimpy_sign(world, message("joe@ext.test", "dkimpy"), **kw)
        b = re.search(rb"b=([A-Za-z0-9+/]{8})", signed.split(b"bh=")[1])
        text = send(world, signed + tail, world["client"]).decode()
        ar = our_ar(text)
        assert ar == [" spf=pass smtp.mailfrom=joe@ext.test; dkim=pass "
                      "header.d=ext.test header.s=s1 header.b=%s; "
                      "dmarc=none header.from=ext.test"
                      % b.group(1).decode()], (kw, text)
        # One field, on top.
        assert text.startswith("Authentication-Results: "), text
        assert text.count("Authentication-Results:") == 1, text


def test_tampered_body_fails(world):
    signed = dkimpy_sign(world, message("joe@ext.test", "tampered"))
    text = send(world, signed.replace(b"hungry", b"angry"),
                world["client"]).decode()
    ar = our_ar(text)
    assert len(ar) == 1 and ar[0].startswith(
        " spf=pass smtp.mailfrom=joe@ext.test; dkim=fail (body hash mismatch) header.d=ext.test header.s=s1 "), \
        text
    world["inst"].wait_log(r"DKIM d=ext\.test s=s1: fail: body hash "
                           r"mismatch")


def test_forged_authentication_results_removed(world):
    """RFC 8601 5: fields claiming our authserv-id go (whatever the case
    and comments), others stay; unsigned mail is dkim=none, a revoked
    key a permerror."""
    forged = (b"Authentication-Results: " + MYHOSTNAME.upper().encode() +
              b"; dkim=pass header.d=bank.example\r\n"
              b"Authentication-Results: (c) " + MYHOSTNAME.encode() +
              b";\r\n\tspf=pass smtp.mailfrom=bank.example\r\n"
              b"Authentication-Results: other.example; spf=pass\r\n")
    text = send(world, message("joe@ext.test", "forged", forged),
                world["client"]).decode()
    assert our_ar(text) == [" spf=pass smtp.mailfrom=joe@ext.test; "
                            "dkim=none; dmarc=none header.from=ext.test"], \
        text
    assert "bank.example" not in text, text
    assert "Authentication-Results: other.example; spf=pass\r\n" in text
    world["inst"].wait_log(r"removed 2 Authentication-Results fields "
                           r"claiming %s" % re.escape(MYHOSTNAME))
    import dkim
    with open(world["ext_key"], "rb") as f:
        key = f.read()
    msg = message("joe@ext.test", "revoked")
    signed = dkim.sign(msg, b"revoked", b"ext.test", key) + msg
    ar = our_ar(send(world, signed, world["client"]).decode())
    assert ar == [" spf=pass smtp.mailfrom=joe@ext.test; dkim=permerror "
                  "(key revoked) header.d=ext.test "
                  "header.s=revoked header.b=%s; dmarc=none "
                  "header.from=ext.test" % re.search(
                      rb"\bb=([A-Za-z0-9+/]{8})",
                      signed.split(b"bh=")[1]).group(1).decode()], ar


def opendkim_testmsg(world, msg):
    """opendkim-testmsg's verdict, in a mount namespace whose resolv.conf
    names the test nsd."""
    tmp = world["tmp"]
    resolv = tmp / "resolv.conf"
    resolv.write_text("nameserver %s\n" % world["dns"].address)
    script = ('mount --bind "$1" /etc/resolv.conf && exec "$2"')
    return subprocess.run(
        [tool("unshare"), "-m", "sh", "-c", script, "sh", str(resolv),
         tool("opendkim-testmsg")],
        input=msg, capture_output=True, timeout=30)


def test_panacea_signs(world):
    """Mail from mynetworks gets an RSA and an Ed25519 signature, which
    dkimpy, opendkim-testmsg and `panacea dkim verify` accept; a tampered
    copy fails in each."""
    import dkim
    text = send(world, message("joe@sign.test", "signed by panacea"),
                "127.0.0.1")
    sigs = re.findall(r"^DKIM-Signature: (.*(?:\n\t.*)*)",
                      text.decode().replace("\r\n", "\n"), re.M)
    assert len(sigs) == 2, text
    assert "a=rsa-sha256; c=relaxed/relaxed; d=sign.test;" in sigs[0]
    assert "a=ed25519-sha256; c=relaxed/relaxed; d=sign.test;" in sigs[1]
    for s in sigs:
        h = re.search(r"h=([^;]*);", s.replace("\n\t", "")).group(1)
        assert h.replace(" ", "").startswith(
            "from:from:to:to:subject:subject:date:date:message-id"), s
        assert " l=" not in s
    # Not verified (it is ours): the header says nothing was checked.
    assert our_ar(text.decode()) == [" none"], text

    def dnsfunc(name, timeout=5):
        return world["records"][name.decode()].encode()
    def dkimpy_ok(msg, i):
        try:
            return dkim.DKIM(msg).verify(idx=i, dnsfunc=dnsfunc)
        except dkim.ValidationError:
            return False
    tampered = text.replace(b"hungry", b"angry")
    for i in range(2):
        assert dkimpy_ok(text, i), (i, text)
        assert not dkimpy_ok(tampered, i), (i, text)

    r = opendkim_testmsg(world, text)
    assert r.returncode == 0 and r.stdout == b"", r
    r = opendkim_testmsg(world, tampered)
    assert r.returncode != 0, r

    cmd = [program("panacea"), "-c", world["inst"].config_dir, "dkim",
           "verify"]
    r = subprocess.run(cmd, input=text, capture_output=True, timeout=30)
    assert (r.returncode, r.stdout) == (
        0, b"pass d=sign.test s=rsa\npass d=sign.test s=ed\n"), r
    r = subprocess.run(cmd, input=tampered, capture_output=True, timeout=30)
    assert r.returncode == 1, r
    assert r.stdout.startswith(b"fail d=sign.test s=rsa (body hash "), r


def test_pickup_signs_local_submission(world):
    """sendmail without a submit service: the maildrop file is signed by
    pickup, once, with both keys, after the header rewriting."""
    inst = world["inst"]
    msg = message("joe@sign.test", "dropped").replace(b"\r\n", b"\n")
    r = subprocess.run([program("sendmail"), "-f", "joe@sign.test", ROOT],
                       input=msg, capture_output=True, timeout=scaled(30),
                       env=dict(os.environ, MAIL_CONFIG=inst.config_dir))
    assert r.returncode == 0, r.stderr
    m = inst.wait_log(r"pickup\[\d+\]: (\w+): from=<joe@sign\.test>, "
                      r"size=\d+, nrcpt=1")
    qid = m.group(1)
    inst.wait_log(r"pickup\[\d+\]: %s: DKIM-Signature field added "
                  r"\(d=sign\.test, s=ed\)" % qid)
    text = pancat(inst, qid)
    assert text.count(b"DKIM-Signature:") == 2, text
    cmd = [program("panacea"), "-c", inst.config_dir, "dkim", "verify"]
    r = subprocess.run(cmd, input=text, capture_output=True, timeout=30)
    assert (r.returncode, r.stdout) == (
        0, b"pass d=sign.test s=rsa\npass d=sign.test s=ed\n"), r


def test_signed_as_stored_without_nul_octets(world):
    """The queue drops NUL octets: the signature covers the message as
    stored, so it still verifies."""
    msg = message("joe@sign.test", "nul").replace(b"Hi.", b"H\0i.")
    text = send(world, msg, "127.0.0.1")
    assert b"\0" not in text and b"Hi." in text
    world["inst"].wait_log(r"1 NUL octet removed from the content")
    r = subprocess.run([program("panacea"), "-c", world["inst"].config_dir,
                        "dkim", "verify"], input=text, capture_output=True,
                       timeout=30)
    assert (r.returncode, r.stdout) == (
        0, b"pass d=sign.test s=rsa\npass d=sign.test s=ed\n"), r


def test_dmarc_passes_on_an_aligned_dkim_signature(world):
    """DMARC takes the verifier's results (RFC 7489 4.2): dm.test
    publishes p=reject and no SPF, so its mail passes on an aligned DKIM
    signature alone (dmarc=pass in the same Authentication-Results), and
    the same message with its body changed is refused 550 5.7.1."""
    signed = dkimpy_sign(world, message("joe@dm.test", "aligned"),
                         domain=b"dm.test")
    text = send(world, signed, world["client"], sender="joe@dm.test")
    ar = our_ar(text.decode())
    assert len(ar) == 1 and "dkim=pass header.d=dm.test" in ar[0] and \
        ar[0].endswith("; dmarc=pass header.from=dm.test"), ar
    tampered = signed.replace(b"hungry", b"angry")
    with Session(world["inst"].host, world["port"],
                 source=world["client"]) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<joe@dm.test>", 250)
        s.expect("RCPT TO:<%s>" % ROOT, 250)
        s.expect("DATA", 354)
        s.send(tampered.replace(b"\r\n.", b"\r\n..") + b".\r\n")
        r = s.reply()
        assert r.code == 550 and "DMARC policy of dm.test is reject" in \
            r.text, r
        s.expect("QUIT", 221)
