"""What a running instance is told: users added, tables rebuilt and
`panacea reload`, all reach the smtpd processes that were already
running (issue 17), without a restart.

smtpd reads the password database and the sasldb before its jail; it
watches them, and the files of local_recipient_maps, and once one has
changed it takes no new client (a fresh process reads the new data),
while the session that sees the change answers an unknown recipient
with 451 4.3.0, never 550.  A reload (SIGHUP to master) ends every
process of the old configuration after its current session.
"""

import os
import re
import secrets
import subprocess

import pytest

import panacea_test
import procfs
from panacea_test import open_path, program, unless_built
from smtp_helpers import (MYHOSTNAME, Session, mail_owner,  # noqa: F401
                          make_sasldb, smtpd_setup)

pytestmark = unless_built("master", "smtpd", "panmap")


def smtpd_pids(inst):
    """The smtpd processes alive now (one may exit while we look)."""
    pids = set()
    for p in inst.children():
        try:
            if procfs.comm(p) == "smtpd":
                pids.add(p)
        except FileNotFoundError:
            pass
    return pids


def open_session(inst, port):
    s = Session(inst.host, port)
    s.expect("EHLO client.test", 250)
    s.expect("MAIL FROM:<a@example.org>", 250)
    return s


def rcpt(s, user):
    s.send(("RCPT TO:<%s@%s>\r\n" % (user, MYHOSTNAME)).encode())
    return s.reply()


def rcpt_code(inst, port, user):
    with open_session(inst, port) as s:
        code = rcpt(s, user).code
        s.expect("QUIT", 221)
    return code


def old_ones_leave(inst, port, before, user, mark):
    """Sessions, one after the other, until no process of `before` (those
    that read the old data) is left: each asks for `user`, whom only the
    new data knows, and must get 250.  A session is what wakes an idle
    process, and only if the listener is still readable when the kernel
    runs it: a fresh process may take the client first (on a busy machine
    it often does), so one session wakes no given idle process for sure,
    and waiting without clients would wait for max_idle.  No process of
    `before` may have served a client since mark, the change."""
    def gone():
        assert rcpt_code(inst, port, user) == 250
        return not (smtpd_pids(inst) & before)
    panacea_test.wait_until(gone, interval=0.2,
                            what="the old smtpd processes to exit")
    served = set(int(p) for p in re.findall(
        r"smtpd\[(\d+)\]: connect from", inst.log(mark)))
    assert not (served & before), (served, before)


def build_table(path, users):
    path.write_text("".join("%s ok\n" % u for u in users))
    subprocess.run([program("panmap"), "hash:%s" % path], check=True)
    os.chmod(str(path) + ".db", 0o644)


def add_sasl_user(sasldb, name):
    subprocess.run(["saslpasswd2", "-p", "-f", sasldb, "-u", MYHOSTNAME,
                    name], input=b"secret", check=True, capture_output=True,
                   timeout=30)


@pytest.fixture
def live(instance, mail_owner, tmp_path):  # noqa: F811
    """smtpd (chrooted as root) with local recipients from the password
    database, a hash: table and the sasldb; one smtpd process serves
    every session in turn (max_use 100)."""
    users = tmp_path / "users"
    build_table(users, ["tabled"])
    sasldb = make_sasldb(tmp_path / "sasldb2", {"saslold": "pw"})
    open_path(str(tmp_path))
    port = smtpd_setup(instance, mail_owner, conf={
        "local_recipient_maps": "unix:passwd.byname hash:%s" % users,
        "sasldb_path": sasldb,
        "max_use": "100",
    })
    return instance, port, users, sasldb


def test_users_added_while_running_are_known(live):
    inst, port, users, sasldb = live
    assert rcpt_code(inst, port, "saslold") == 250
    assert rcpt_code(inst, port, "tabled") == 250
    assert rcpt_code(inst, port, "saslnew") == 550
    assert rcpt_code(inst, port, "tablednew") == 550
    # Two sessions at once: two processes read the old data, and then
    # wait idle side by side, as on a busy server.
    with open_session(inst, port) as s1, open_session(inst, port) as s2:
        assert rcpt(s1, "saslold").code == 250
        assert rcpt(s2, "tabled").code == 250
        s1.expect("QUIT", 221)
        s2.expect("QUIT", 221)
    before = smtpd_pids(inst)
    assert len(before) >= 2, before

    # A mail-only user made with saslpasswd2: the next client is served
    # by a process that knows them.
    mark = inst.log_size()
    add_sasl_user(sasldb, "saslnew")
    assert rcpt_code(inst, port, "saslnew") == 250
    assert rcpt_code(inst, port, "saslold") == 250
    inst.wait_log(r"smtpd\[\d+\]: table %s has changed -- restarting"
                  % re.escape(sasldb), since=mark)
    # Every process that read the old sasldb goes as it wakes up, and
    # none serves a client after the change.
    old_ones_leave(inst, port, before, "saslnew", mark)

    # A line added to a hash: table of local_recipient_maps.
    before = smtpd_pids(inst)
    mark = inst.log_size()
    build_table(users, ["tabled", "tablednew"])
    assert rcpt_code(inst, port, "tablednew") == 250
    old_ones_leave(inst, port, before, "tablednew", mark)


def test_a_session_that_sees_the_change_never_refuses_for_good(live):
    inst, port, users, sasldb = live
    with open_session(inst, port) as s:
        assert rcpt(s, "sasllate").code == 550
        add_sasl_user(sasldb, "sasllate")
        # Old data and a changed file: try again, not "unknown".
        r = rcpt(s, "sasllate")
        assert r.code == 451, r
        assert r.text.startswith("4.3.0 "), r
        # What the old data knows is still known.
        assert rcpt(s, "saslold").code == 250
        s.expect("QUIT", 221)
    assert rcpt_code(inst, port, "sasllate") == 250


def test_unix_account_added_while_running(live):
    if os.geteuid() != 0:
        pytest.skip("needs root: useradd")
    inst, port, users, sasldb = live
    name = "plv" + secrets.token_hex(3)
    assert rcpt_code(inst, port, name) == 550
    with panacea_test.passwd_change():
        subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", name],
                       check=True, capture_output=True)
    try:
        assert rcpt_code(inst, port, name) == 250
    finally:
        with panacea_test.passwd_change():
            subprocess.run(["userdel", name], capture_output=True)


def test_reload_reaches_running_processes(instance, mail_owner):  # noqa: F811
    port = smtpd_setup(instance, mail_owner, conf={
        "smtpd_banner": "$myhostname ESMTP before", "max_use": "100"})
    # A client in mid-session when the reload comes keeps its session;
    # the other processes have served a session and wait for the next.
    with Session(instance.host, port) as s:
        assert s.greeting.text.endswith("ESMTP before")
        s.expect("EHLO client.test", 250)
        with Session(instance.host, port) as s2:
            assert s2.greeting.text.endswith("ESMTP before")
            s2.expect("QUIT", 221)
        old = smtpd_pids(instance)
        assert len(old) >= 2, old
        instance.conf["smtpd_banner"] = "$myhostname ESMTP after"
        instance.write()
        instance.reload()
        # The idle processes end at once, the busy one after its session.
        panacea_test.wait_until(
            lambda: len(smtpd_pids(instance) & old) == 1,
            what="the idle smtpd processes to exit")
        busy = smtpd_pids(instance) & old
        s.expect("MAIL FROM:<a@example.org>", 250)
        assert smtpd_pids(instance) & busy
        s.expect("QUIT", 221)
    panacea_test.wait_until(lambda: not (smtpd_pids(instance) & old),
                            what="the busy smtpd to exit")
    with Session(instance.host, port) as s:
        assert s.greeting.text.endswith("ESMTP after")
        s.expect("QUIT", 221)
    log = instance.log()
    assert "killed by signal" not in log
    assert "exit status" not in log


def test_access_table_rebuilt_while_running(instance, mail_owner,  # noqa
                                            tmp_path):
    access = tmp_path / "access"
    access.write_text("friend@example.org OK\n")
    subprocess.run([program("panmap"), "hash:%s" % access], check=True)
    os.chmod(str(access) + ".db", 0o644)
    open_path(str(tmp_path))
    port = smtpd_setup(instance, mail_owner, conf={
        "smtpd_delay_reject": "no",
        "smtpd_sender_restrictions": "check_sender_access hash:%s" % access,
        "max_use": "100"})

    def mail_code(sender):
        with Session(instance.host, port) as s:
            s.expect("EHLO client.test", 250)
            s.send(("MAIL FROM:<%s>\r\n" % sender).encode())
            code = s.reply().code
            s.expect("QUIT", 221)
        return code

    assert mail_code("spammer@example.org") == 250
    access.write_text("friend@example.org OK\nspammer@example.org REJECT\n")
    subprocess.run([program("panmap"), "hash:%s" % access], check=True)
    assert mail_code("spammer@example.org") == 554
