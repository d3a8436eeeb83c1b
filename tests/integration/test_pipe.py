"""test_pipe - pipe(8) (delivery to a command from the services table),
local's mailbox_command, fallback_transport and luser_relay, and the
routing parameters relay_transport, sender_dependent_relayhost_maps and
sender_dependent_default_transport_maps.

One Panacea instance for the module: smtpd, qmgr, local and several
pipe services, transport_maps sending a test domain to each.  The pipe
commands are a shell script that records its arguments, its uids (from
/proc) and its standard input, then exits with the status it is told,
and Dovecot's dovecot-lda (Debian's dovecot-core) delivering into a
Maildir of a private Dovecot (dovecot_lmtp.py, whose userdb the LDA
asks).  Mail goes in over SMTP.
"""

import os
import pwd
import re
import shutil
import smtplib
import subprocess
import tempfile

import pytest

import panacea_test
import procfs
from dovecot_lmtp import DovecotLmtp
from panacea_test import Instance, scaled, wait_until
from smtp_helpers import base_conf, mail_owner  # noqa: F401
from smtp_peer import Peer

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="pipe switches to user=")

SCRIPT = """#!/bin/sh
# args: OUTDIR EXIT [args...]: records them, the uids and the message.
out=$1; code=$2; shift 2
n=$(mktemp "$out/run.XXXXXX")
ls -l /proc/$$/fd/ > "$n.fds"; chmod 644 "$n.fds"
{
  grep -E '^(Uid|Gid):' /proc/$$/status
  echo "cwd=$(pwd)"
  for a in "$@"; do printf 'arg=%s\\n' "$a"; done
} > "$n.info"
cat > "$n.msg"
chmod 644 "$n.info" "$n.msg"
if [ "$code" != 0 ]; then echo "script says $code"; fi
exit "$code"
"""
ENV_SCRIPT = """#!/bin/sh
# mailbox_command: records its uids, folder, environment and message.
n=$(mktemp "%s/env.XXXXXX")
{
  grep -E '^(Uid|Gid):' /proc/$$/status
  echo "cwd=$(pwd)"
  env | sed 's/^/env=/'
} > "$n.info"
cat > "$n.msg"
chmod 644 "$n.info" "$n.msg"
"""
ARGS = ("${sender} ${recipient} ${nexthop} ${user} ${extension} "
        "${domain} ${mailbox} ${original_recipient} ${client_address} "
        "${size} $$x")


class Rig:
    def __init__(self, inst, port, out, user, dovecot, peer):
        self.inst = inst
        self.port = port
        self.out = out
        self.user = user
        self.dovecot = dovecot
        self.peer = peer

    def send(self, rcpts, subject, sender="sender@client.test"):
        body = ("From: <%s>\r\nSubject: %s\r\n\r\nHello pipe.\r\n"
                ".dot line\r\nFrom the start\r\n" % (sender, subject))
        with smtplib.SMTP(self.inst.host, self.port,
                          timeout=scaled(30)) as s:
            s.ehlo("client.test")
            code, text = s.mail(sender)
            assert code == 250, text
            for r in rcpts:
                code, text = s.rcpt(r)
                assert code == 250, (r, code, text)
            code, text = s.data(body.encode())
            assert code == 250, text
        m = re.search(rb"queued as ([0-9A-Z]+)", text)
        assert m, text
        return m.group(1).decode()

    def status(self, qid, rcpt, prog="pipe", timeout=20):
        m = self.inst.wait_log(
            r"%s\[\d+\]: %s: to=<%s>, (.*)\n" % (prog, qid, re.escape(rcpt)),
            timeout=timeout)
        return m.group(1)

    def runs(self, n, timeout=20):
        """The script's runs so far once there are n: (info lines, message
        bytes) pairs, oldest first."""
        def ready():
            infos = sorted(f for f in os.listdir(self.out)
                           if f.endswith(".info"))
            msgs = [f[:-5] + ".msg" for f in infos]
            return len(infos) >= n and all(
                os.path.exists(os.path.join(self.out, m)) for m in msgs) \
                and infos
        infos = wait_until(ready, timeout=timeout,
                           what="%d run(s) of the script" % n)
        out = []
        for f in infos:
            with open(os.path.join(self.out, f)) as fh:
                info = fh.read().splitlines()
            with open(os.path.join(self.out, f[:-5] + ".msg"), "rb") as fh:
                out.append((info, fh.read()))
        return out

    def clear(self):
        for f in os.listdir(self.out):
            os.unlink(os.path.join(self.out, f))


def pipe_line(name, attrs):
    return Instance.service(name, "pipe " + attrs, type_="unix",
                            unpriv="n", chroot="n")


@pytest.fixture(scope="module")
def accounts():
    yield from panacea_test.unix_accounts("ppt", ("alice",))


@pytest.fixture(scope="module")
def rig(tmp_path_factory, mail_owner, accounts):  # noqa: F811
    panacea_test.tool("dovecot-lmtp")
    lda = panacea_test.tool("dovecot-lda")
    base = tmp_path_factory.mktemp("pipe")
    inst = Instance(base / "panacea")
    shared = tempfile.mkdtemp(prefix="panacea-pipe-")
    os.chmod(shared, 0o755)
    out = os.path.join(shared, "out")
    os.makedirs(out)
    os.chmod(out, 0o1777)
    script = os.path.join(shared, "record.sh")
    with open(script, "w") as f:
        f.write(SCRIPT)
    os.chmod(script, 0o755)
    env_script = os.path.join(shared, "env.sh")
    with open(env_script, "w") as f:
        f.write(ENV_SCRIPT % out)
    os.chmod(env_script, 0o755)
    user = pwd.getpwnam("nobody")
    vmail = pwd.getpwnam(panacea_test.ensure_mail_only_owner())
    dovecot = DovecotLmtp(os.path.join(shared, "dovecot"), ("lda",), vmail,
                          os.path.join(inst.queue_dir, "private",
                                       "dovecot-lmtp"), mail_owner)
    # dovecot-lda, run as vmail, asks Dovecot's userdb over its socket.
    with open(dovecot.conf, "a") as f:
        f.write("service auth {\n  unix_listener auth-userdb {\n"
                "    mode = 0666\n  }\n}\n")
    peer_host = panacea_test.pick_loopback()
    peer = Peer(peer_host, port=panacea_test.free_port(peer_host),
                name="relay.peer.test")
    relayhosts = os.path.join(inst.config_dir, "sender_relayhost")
    with open(relayhosts, "w") as f:
        f.write("@relayed.test [%s]:%d\n" % (peer_host, peer.port))
    sender_transports = os.path.join(inst.config_dir, "sender_transport")
    with open(sender_transports, "w") as f:
        f.write("@piped.test pipeone:\n")
    transport = os.path.join(inst.config_dir, "transport")
    with open(transport, "w") as f:
        f.write("ok.test pipeok:Next.Hop\n")
        f.write("temp.test pipetemp:\n")
        f.write("bounce.test pipebounce:\n")
        f.write("one.test pipeone:\n")
        f.write("single.test pipesingle:\n")
        f.write("lda.test pipelda:\n")
        f.write("cmd.test lcmd:\n")
        f.write("fall.test lfall:\n")
        f.write("luser.test lluser:\n")
        f.write("fwd.test lfwd:\n")
    port = inst.port()
    inst.conf.update(base_conf(mail_owner))
    inst.conf.update({
        "local_recipient_maps": "",
        "transport_maps": "texthash:" + transport,
        "recipient_delimiter": "+",
        "minimal_backoff_time": "300s",
        "maximal_backoff_time": "600s",
        "pipeok_time_limit": "20s",
        "pipesingle_destination_recipient_limit": "1",
        "sender_dependent_relayhost_maps": "texthash:" + relayhosts,
        "sender_dependent_default_transport_maps":
            "texthash:" + sender_transports,
        "relay_domains": "relayd.test",
        "relay_transport": "pipeone",
        # local_transport may name any transport and a next hop.
        "local_transport": "pipeok:LocalHop",
    })
    cmd = "%s %s" % (script, out)
    inst.services = [
        Instance.shipped("smtp", "inet", port, chroot="y"),
        Instance.shipped("qmgr", chroot="y"),
        Instance.shipped("local"),
        Instance.shipped("smtp", "unix", chroot="y"),
        pipe_line("pipeok", "flags=FR.>qhu user=nobody eol=\\n "
                  "null_sender= argv=%s 0 %s" % (cmd, ARGS)),
        pipe_line("pipesingle", "user=nobody argv=%s 0 ${recipient}"
                  % cmd),
        pipe_line("pipetemp", "user=nobody argv=%s 75 ${recipient}" % cmd),
        pipe_line("pipebounce", "user=nobody argv=%s 67 ${recipient}"
                  % cmd),
        pipe_line("pipeone", "flags=DO user=nobody argv=%s 0 ${user}"
                  % cmd),
        pipe_line("pipelda", "flags=DRhu user=%s argv=%s -c %s -d ${user} "
                  "-o log_path=/dev/stderr -o info_log_path=/dev/stderr "
                  "-o stats_writer_socket_path= -f ${sender}"
                  % (vmail.pw_name, lda, dovecot.conf)),
        # local's variations, each a local service of its own.
        Instance.shipped("local", listen="lcmd",
                         args="-o mailbox_command=" + env_script),
        Instance.shipped("local", listen="lfall",
                         args="-o fallback_transport=pipeone"),
        Instance.shipped("local", listen="lfwd"),
        Instance.shipped("local", listen="lluser",
                         args="-o luser_relay=catch+$user@ok.test"),
    ]
    inst.write()
    inst.start()
    inst.wait_port(port)
    try:
        dovecot.start()
        r = Rig(inst, port, out, user, dovecot, peer)
        r.alice = accounts["users"]["alice"]
        r.script = script
        yield r
    finally:
        peer.close()
        dovecot.stop()
        inst.finish()
        shutil.rmtree(shared, ignore_errors=True)


def test_argv_macros_flags_and_user(rig):
    """One command for both recipients of ok.test: every macro expanded,
    ${recipient} and its kin repeated per recipient, the u/h flags fold,
    run as user= (every uid, read from /proc), in queue_directory, with
    the From_ line, Return-Path: and the . and > quoting of its flags."""
    rig.clear()
    qid = rig.send(["Carol+Ext@OK.test", "dave@ok.test"], "macros")
    for r in ("Carol+Ext@OK.test", "dave@ok.test"):
        st = rig.status(qid, r)
        assert "relay=pipeok" in st and "status=sent" in st, st
        assert "delivered via pipeok service" in st, st
    [(info, msg)] = rig.runs(1)
    uid = rig.user.pw_uid
    assert "Uid:\t%d\t%d\t%d\t%d" % ((uid,) * 4) in info, info
    assert "cwd=%s" % rig.inst.queue_dir in info, info
    # Nothing of pipe's but the message and the output pipe (and the
    # script the shell reads): no socket of qmgr's or pipe of master's
    # reaches user=.
    [fds] = [f for f in os.listdir(rig.out) if f.endswith(".fds")]
    with open(os.path.join(rig.out, fds)) as f:
        links = dict(re.findall(r" (\d+) -> (.*)", f.read()))
    assert links["0"].startswith("/memfd:panacea-pipe"), links
    assert links["2"].startswith("pipe:"), links
    # (dash keeps the script on 10 and a copy of its output on 11.)
    assert all(v == links["2"] for k, v in links.items()
               if k not in ("0", "1", "10")), links
    args = [line[4:] for line in info if line.startswith("arg=")]
    size = args[-2]
    assert args == [
        "sender@client.test",
        "carol+ext@ok.test", "dave@ok.test",  # u and h fold
        "next.hop",                           # h folds ${nexthop}
        "carol", "dave",
        "ext", "",
        "ok.test", "ok.test",                 # h folds ${domain}
        "carol+ext", "dave",
        "carol+ext@ok.test", "dave@ok.test",
        args[14],
        size, "$x"], args
    assert args[14].startswith("127."), args  # ${client_address}
    assert int(size) > 0
    assert msg.startswith(b"From sender@client.test "), msg[:80]
    assert b"\nReturn-Path: <sender@client.test>\n" in msg
    assert b"\n..dot line\n" in msg and b"\n>From the start\n" in msg
    assert b"\r" not in msg


def test_exit_75_defers_and_67_bounces(rig):
    rig.clear()
    qid = rig.send(["x@temp.test"], "tempfail")
    st = rig.status(qid, "x@temp.test")
    assert "status=deferred" in st and "dsn=4.3.0" in st, st
    assert "Command died with status 75" in st, st
    assert "script says 75" in st, st
    qid = rig.send(["y@bounce.test"], "bounce")
    st = rig.status(qid, "y@bounce.test")
    assert "status=bounced" in st and "dsn=5.1.1" in st, st
    assert "Command died with status 67" in st, st


def test_delivered_to_one_command_per_recipient(rig):
    """flags=D and O name one recipient: a command each, with its
    Delivered-To: and X-Original-To:."""
    rig.clear()
    qid = rig.send(["ann@one.test", "ben@one.test"], "one each")
    for r in ("ann@one.test", "ben@one.test"):
        assert "status=sent" in rig.status(qid, r)
    runs = rig.runs(2)
    seen = {}
    for info, msg in runs:
        args = [line[4:] for line in info if line.startswith("arg=")]
        seen[args[0]] = msg
    assert set(seen) == {"ann", "ben"}
    assert seen["ann"].startswith(b"X-Original-To: ann@one.test\n"
                                  b"Delivered-To: ann@one.test\n")
    assert b"Delivered-To: ben@one.test\n" in seen["ben"]


def test_destination_recipient_limit_one(rig):
    """TRANSPORT_destination_recipient_limit = 1: one command per
    recipient, each with its own ${recipient}."""
    rig.clear()
    qid = rig.send(["r1@single.test", "r2@single.test", "r3@single.test"],
                   "single")
    for r in ("r1@single.test", "r2@single.test", "r3@single.test"):
        assert "status=sent" in rig.status(qid, r)
    runs = rig.runs(3)
    args = sorted(tuple(line[4:] for line in info if line.startswith("arg="))
                  for info, _ in runs)
    assert args == [("r1@single.test",), ("r2@single.test",),
                    ("r3@single.test",)], args


def test_dovecot_lda(rig):
    """dovecot-lda as the pipe command, run as the mail-only owner,
    delivers into the user's Maildir, which Dovecot itself reads."""
    qid = rig.send(["LDA@lda.test"], "through dovecot-lda")
    st = rig.status(qid, "LDA@lda.test")
    assert "status=sent" in st, (st, rig.dovecot.log())
    [msg] = rig.dovecot.wait_messages("lda", 1)
    assert b"Subject: through dovecot-lda" in msg
    assert b"Delivered-To: LDA@lda.test" in msg
    assert b"Return-Path: <sender@client.test>" in msg
    assert b"through dovecot-lda" in rig.dovecot.fetch("lda", "hdr")


def test_mailbox_command(rig):
    """mailbox_command runs as the recipient (every uid, from /proc), in
    its home, with Postfix's environment and the message on its standard
    input."""
    rig.clear()
    alice = rig.alice
    to = "%s+Ext@cmd.test" % alice.pw_name
    qid = rig.send([to], "mailbox command")
    st = rig.status(qid, to, prog="local")
    assert "status=sent" in st and "delivered to command: " in st, st
    [(info, msg)] = rig.runs(1)
    assert "Uid:\t%d\t%d\t%d\t%d" % ((alice.pw_uid,) * 4) in info, info
    assert "Gid:\t%d\t%d\t%d\t%d" % ((alice.pw_gid,) * 4) in info, info
    assert "cwd=%s" % alice.pw_dir in info
    env = dict(line[4:].split("=", 1) for line in info
               if line.startswith("env="))
    assert env["HOME"] == alice.pw_dir
    assert env["USER"] == env["LOGNAME"] == alice.pw_name
    assert env["SHELL"] == alice.pw_shell
    assert env["SENDER"] == "sender@client.test"
    assert env["RECIPIENT"] == to
    assert env["LOCAL"] == "%s+Ext" % alice.pw_name
    assert env["EXTENSION"] == "Ext"
    assert env["DOMAIN"] == "cmd.test"
    assert env["ORIGINAL_RECIPIENT"] == to
    assert env["CLIENT_ADDRESS"].startswith("127.")
    assert "PATH" in env
    assert msg.startswith(b"From sender@client.test ")
    assert b"\nDelivered-To: %s\n" % to.encode() in msg


def test_fallback_transport(rig):
    """An unknown user goes to fallback_transport (a pipe service, which
    gets the content local passes on), which logs it."""
    rig.clear()
    qid = rig.send(["ghost@fall.test"], "fallback")
    st = rig.status(qid, "ghost@fall.test", prog="pipe")
    assert "relay=pipeone" in st and "status=sent" in st, st
    [(info, msg)] = rig.runs(1)
    assert "arg=ghost" in info
    assert b"Delivered-To: ghost@fall.test\n" in msg
    assert b"Subject: fallback" in msg
    # A known user still gets the mailbox.
    to = "%s@fall.test" % rig.alice.pw_name
    qid = rig.send([to], "known")
    st = rig.status(qid, to, prog="local")
    assert "status=sent" in st and "relay=local" in st, st


def test_luser_relay(rig):
    """An unknown user's mail goes, as a new copy, to luser_relay with
    $user expanded."""
    rig.clear()
    qid = rig.send(["Ghost+x@luser.test"], "luser")
    st = rig.status(qid, "Ghost+x@luser.test", prog="local")
    assert "status=sent" in st and "forwarded to catch+ghost@ok.test" in st
    m = rig.inst.wait_log(r"pipe\[\d+\]: ([0-9A-Z]+): "
                          r"to=<catch\+ghost@ok.test>, (.*)\n")
    assert "status=sent" in m.group(2), m.group(2)
    [(info, msg)] = rig.runs(1)
    assert "arg=catch+ghost@ok.test" in info
    assert b"Subject: luser" in msg


def test_sender_dependent_routing(rig):
    """sender_dependent_relayhost_maps sends a sender's remote mail to its
    relay host (the test peer), sender_dependent_default_transport_maps
    another sender's to a pipe service, and relay_transport takes
    relay_domains and their subdomains."""
    rig.clear()
    qid = rig.send(["far@remote.test"], "by sender relay",
                   sender="boss@relayed.test")
    st = rig.status(qid, "far@remote.test", prog="smtp")
    assert "status=sent" in st and rig.peer.address in st, st
    msgs = wait_until(lambda: rig.peer.messages(), timeout=10,
                      what="the message at the sender's relay host")
    assert b"Subject: by sender relay" in msgs[-1]
    qid = rig.send(["far@remote.test"], "by sender transport",
                   sender="Ann@Piped.test")
    st = rig.status(qid, "far@remote.test")
    assert "relay=pipeone" in st and "status=sent" in st, st
    qid = rig.send(["rel@sub.relayd.test"], "relay_transport")
    st = rig.status(qid, "rel@sub.relayd.test")
    assert "relay=pipeone" in st and "status=sent" in st, st
    args = sorted(line[4:] for info, _ in rig.runs(2) for line in info
                  if line.startswith("arg="))
    assert args == ["far", "rel"], args


def test_forward_file(rig):
    """A user's .forward (forward_path): a command run as the user and an
    address that gets a copy from the original sender."""
    rig.clear()
    alice = rig.alice
    fwd = os.path.join(alice.pw_dir, ".forward")
    with open(fwd, "w") as f:
        f.write('"|%s %s 0 fwdcmd", Copy@ok.test\n' % (rig.script,
                                                       rig.out))
    os.chown(fwd, alice.pw_uid, alice.pw_gid)
    try:
        to = "%s@fwd.test" % alice.pw_name
        qid = rig.send([to], "dot forward")
        st = rig.status(qid, to, prog="local")
        assert "status=sent" in st, st
        assert "2 destinations of forward file" in st, st
        m = rig.inst.wait_log(r"pipe\[\d+\]: [0-9A-Z]+: "
                              r"to=<Copy@ok.test>, (.*)\n")
        assert "status=sent" in m.group(1), m.group(1)
        runs = rig.runs(2)
        cmd = [info for info, _ in runs if "arg=fwdcmd" in info]
        assert cmd, runs
        uid = alice.pw_uid
        assert "Uid:\t%d\t%d\t%d\t%d" % ((uid,) * 4) in cmd[0], cmd
        # A .forward that is not the user's is refused, never followed.
        os.chown(fwd, 0, 0)
        qid = rig.send([to], "foreign forward")
        st = rig.status(qid, to, prog="local")
        assert "status=bounced" in st and "5.3.5" in st, st
    finally:
        os.unlink(fwd)


def test_local_transport_variation(rig):
    """local_transport = pipeok:LocalHop: mail for mydestination goes to
    that pipe service with that next hop."""
    rig.clear()
    qid = rig.send(["who@panacea.test"], "local transport")
    st = rig.status(qid, "who@panacea.test")
    assert "relay=pipeok" in st and "status=sent" in st, st
    [(info, _)] = rig.runs(1)
    assert "arg=localhop" in info, info  # ${nexthop}, h folds it


def test_pipe_process_privileges(rig):
    """The pipe agent (DESIGN.md): root, not jailed, a child of master,
    holding nothing of the queue's database (rule 2)."""
    rig.send(["p@ok.test"], "privileges")

    def agents():
        found = []
        for p in os.listdir("/proc"):
            try:
                if p.isdigit() and procfs.name(int(p)) == "pipe" and \
                        procfs.ppid(int(p)) == rig.inst.pid:
                    found.append(int(p))
            except OSError:
                pass
        return found
    pids = wait_until(agents, timeout=10,
                      what="a pipe process of this instance")
    for pid in pids:
        assert procfs.uids(pid) == [0] * 4
        assert procfs.root(pid) == "/"
        held = procfs.fd_targets(pid) + sorted(procfs.mapped_files(pid))
        assert not [p for p in held if "/db/" in p], held


@pytest.mark.parametrize("attrs,why", [
    ("user=root argv=/bin/true", "must not run as root"),
    ("user=%(owner)s argv=/bin/true", "must not run as mail_owner"),
    ("user=nosuchuser4711 argv=/bin/true", "user=nosuchuser4711"),
    ("flags=Z user=nobody argv=/bin/true", "unknown flag 'Z'"),
    ("user=nobody chroot=/var argv=/bin/true", "chroot=: not supported"),
    ("user=nobody argv=/bin/echo ${bogus}", "unknown macro"),
])
def test_refused_services(tmp_path, mail_owner, attrs, why):  # noqa: F811
    """A pipe service that would run a command as root or mail_owner, or
    with an attribute, flag or macro it does not know, stops at start-up
    with the reason."""
    (tmp_path / "panacea.conf").write_text(
        "maillog_file = -\nmail_owner = %s\nqueue_directory = %s\n"
        % (mail_owner, tmp_path))
    r = subprocess.run([panacea_test.program("pipe"), "-c", str(tmp_path),
                        "-n", "px", "-t", "unix", "-S"]
                       + (attrs % {"owner": mail_owner}).split(),
                       stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=scaled(10))
    assert r.returncode != 0
    assert "fatal:" in r.stderr and why in r.stderr, r.stderr
