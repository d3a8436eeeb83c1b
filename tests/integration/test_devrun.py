"""test_devrun - `make run` as root (scripts/devrun.sh) gives the
development instance exactly the owners and modes of an installed system
(scripts/install.sh and master's master_files.c): the queue directory,
which is the daemons' chroot jail, and pid/ are root's, db/, private/,
public/ and maildrop/ mail_owner's; the mail spool is made like the
system's /var/mail; the sasldb is root's and not world-readable.  A jail
root, spool or sasldb owned by mail_owner would let a compromised daemon
change its own jail, other users' mailboxes, or every password.

devrun's setup part runs into the test's folder (PANACEA_DEVRUN_SETUP_ONLY
stops it before master); master then starts once with a services table
of unix services only (devrun's own binds fixed ports) to make the
queue's subfolders, as it does on an installed system.
"""

import grp
import os
import pwd
import signal
import stat
import subprocess

import pytest

import panacea_test
from panacea_test import program, scaled, wait_until
from smtp_helpers import mail_owner  # noqa: F401

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="devrun prepares ownership as root")

# What scripts/install.sh (install -d ...) and master_files.c make.
QUEUE = {  # folder: (owner is mail_owner, mode)
    ".": (False, 0o755),
    "pid": (False, 0o755),
    "db": (True, 0o700),
    "private": (True, 0o700),
    "public": (True, 0o711),
    "maildrop": (True, 0o3733),
}


def check_shipped_templates(run, tree):
    """devrun writes the shipped conf/services, inet services on loopback
    ports, and conf/panacea.conf with its own settings after it."""
    with open(os.path.join(panacea_test.TOP, "conf", "services")) as f:
        shipped = [x.split() for x in f if x.strip() and x[0] != "#"]
    with open(run / "etc" / "services") as f:
        written = [x.lstrip("#").replace(" (not built yet)", "").split()
                   for x in f if x.strip() and not x.startswith("# ")]
    ports = {"smtp": "127.0.0.1:2525", "submission": "127.0.0.1:2587",
             "pop3": "127.0.0.1:2110"}
    assert written == [[ports.get(x[0], x[0]) if x[1] == "inet" else x[0]]
                       + x[1:] for x in shipped]
    r = subprocess.run([program("panconf"), "-c", str(run / "etc"), "-h",
                        "queue_directory", "daemon_directory", "mail_owner",
                        "maillog_file"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:4] == [
        str(run / "spool"), str(tree / os.path.relpath(
            panacea_test.BIN, str(tree))), "panacea", "-"]


def test_devrun_as_root_owns_like_install(tmp_path, mail_owner):  # noqa
    if mail_owner != "panacea":
        pytest.skip("devrun's mail_owner is panacea")
    tree = tmp_path / "tree"
    tree.mkdir()
    panacea_test.open_path(str(tree))
    env = dict(os.environ, PANACEA_DEVRUN_SETUP_ONLY="1")
    r = subprocess.run(
        ["sh", os.path.join(panacea_test.TOP, "scripts", "devrun.sh"),
         os.path.relpath(panacea_test.BIN, str(tree))],
        cwd=str(tree), env=env, capture_output=True, timeout=scaled(60))
    assert r.returncode == 0, r.stderr
    run = tree / "run"
    check_shipped_templates(run, tree)
    # The shipped aliases and their table, so that local finds alias_maps.
    with open(os.path.join(panacea_test.TOP, "conf", "aliases")) as f:
        assert (run / "etc" / "aliases").read_text() == f.read()
    q = subprocess.run([program("panmap"), "-c", str(run / "etc"), "-q",
                        "postmaster", "hash:%s" % (run / "etc" / "aliases")],
                       capture_output=True, text=True)
    assert (q.returncode, q.stdout.strip()) == (0, "root"), q
    with open(run / "etc" / "services", "w") as f:
        f.write("showq unix n - y - - showq\n")
    master = subprocess.Popen([program("master"), "-f", "-c",
                               str(run / "etc")],
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    try:
        wait_until(lambda: (run / "spool" / "public" / "showq").exists(),
                   what="master made the queue")
    finally:
        master.send_signal(signal.SIGTERM)
        master.wait(timeout=scaled(20))
    owner = pwd.getpwnam(mail_owner)
    for name, (is_owner, mode) in QUEUE.items():
        st = os.stat(run / "spool" / name)
        want = (owner.pw_uid, owner.pw_gid) if is_owner else (0, 0)
        assert (st.st_uid, st.st_gid) == want, name
        assert stat.S_IMODE(st.st_mode) == mode, (name, oct(st.st_mode))
    # The spool as the system's /var/mail (Debian: root:mail 02775).
    mail = os.stat(run / "mail")
    if os.path.isdir("/var/mail"):
        sys_mail = os.stat("/var/mail")
        assert (mail.st_uid, mail.st_gid, stat.S_IMODE(mail.st_mode)) == \
            (sys_mail.st_uid, sys_mail.st_gid,
             stat.S_IMODE(sys_mail.st_mode)), grp.getgrgid(mail.st_gid)
    assert mail.st_uid == 0
    # Nothing else of the instance is mail_owner's: configuration,
    # sasldb, the folders above the jail.
    for top in (run, run / "etc", run / "mail"):
        assert os.stat(top).st_uid == 0, top
    for entry in (run / "etc").iterdir():
        assert entry.stat().st_uid == 0, entry
    sasldb = run / "etc" / "sasldb2"
    if sasldb.exists():
        st = sasldb.stat()
        assert st.st_uid == 0 and stat.S_IMODE(st.st_mode) == 0o640, \
            oct(st.st_mode)
