"""master(8): start, restart, limits, throttling, reload, stop, locking.

Each test runs a real master in the foreground on its own configuration,
queue folder and loopback address, with the test programs of
tests/fixtures as services:
  pan-echo     greets "hello PID", echoes lines, "quit" ends (-d N: wait
               N seconds before the greeting);
  pan-crash    exits 1 at start;
  pan-trigger  appends every wakeup trigger it receives to -f PATH.
"""

import os
import re
import pwd
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from panacea_test import (Instance, can_connect, children_of, connect, fixture,
                          pgroup_members, pid_alive, read_line, scaled,
                          unless_built, wait_until)

pytestmark = unless_built("master")

ECHO = fixture("pan-echo")
CRASH = fixture("pan-crash")
TRIGGER = fixture("pan-trigger")


def greet(inst, port, host=None):
    """Connects, returns (socket, pid of the child that greeted)."""
    s = connect(host or inst.host, port)
    line = read_line(s)
    m = re.fullmatch(r"hello (\d+)", line or "")
    assert m, "unexpected greeting %r" % line
    return s, int(m.group(1))


def echo_once(inst, port):
    """One complete session; returns the pid of the child that served."""
    s, pid = greet(inst, port)
    with s:
        s.sendall(b"ping\r\n")
        assert read_line(s) == "ping"
        s.sendall(b"quit\r\n")
    return pid


def test_master_starts_service_and_client_is_served(instance):
    port = instance.port()
    instance.services = [Instance.service(port, ECHO)]
    instance.start()
    pid = echo_once(instance, port)
    assert pid in instance.children()
    # The listener is master's own: a second session works as well.
    assert echo_once(instance, port) in instance.children()
    assert os.path.exists(instance.pid_file())
    with open(instance.pid_file()) as f:
        assert int(f.read()) == instance.pid


def test_daemons_get_only_the_imported_environment(instance, monkeypatch):
    # As Postfix: a daemon sees what import_environment names (from
    # master's environment, or NAME=VALUE as written), nothing else.
    monkeypatch.setenv("PANACEA_TEST_KEPT", "kept value")
    monkeypatch.setenv("PANACEA_TEST_SECRET", "not for daemons")
    instance.conf["import_environment"] = (
        "PANACEA_TEST_KEPT, PANACEA_TEST_SET=fixed PANACEA_TEST_ABSENT")
    port = instance.port()
    instance.services = [Instance.service(port, ECHO)]
    instance.start()
    s, _ = greet(instance, port)
    with s:
        for ask, want in (("PANACEA_TEST_KEPT", "PANACEA_TEST_KEPT=kept value"),
                          ("PANACEA_TEST_SET", "PANACEA_TEST_SET=fixed"),
                          ("PANACEA_TEST_SECRET", "PANACEA_TEST_SECRET unset"),
                          ("PANACEA_TEST_ABSENT", "PANACEA_TEST_ABSENT unset"),
                          ("PATH", "PATH unset")):
            s.sendall(b"env %s\r\n" % ask.encode())
            assert read_line(s) == want
        s.sendall(b"quit\r\n")


def test_queue_tree_is_created_with_owners_and_modes(instance):
    instance.conf["queue_directory"] = os.path.join(instance.base, "q", "x")
    instance.queue_dir = instance.conf["queue_directory"]
    instance.start()
    modes = {"": 0o755, "db": 0o700, "private": 0o700, "public": 0o711,
             "pid": 0o755, "maildrop": 0o3733}
    owner = pwd.getpwnam(instance.conf["mail_owner"]).pw_uid
    for name, mode in modes.items():
        st = os.stat(os.path.join(instance.queue_dir, name))
        assert (name, oct(st.st_mode & 0o7777)) == (name, oct(mode))
        if name in ("db", "private", "public", "maildrop"):
            assert st.st_uid == owner, name
        else:
            assert st.st_uid == os.geteuid(), name


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
@pytest.mark.parametrize("owner,message", [
    ("root", "has privileged user ID"),
    ("no-such-user-panacea", "mail_owner")])
def test_bad_mail_owner_is_fatal_as_root(instance, owner, message):
    instance.conf["mail_owner"] = owner
    proc = instance.run_master("-f")
    assert proc.returncode == 1
    assert "fatal: " in proc.stderr and message in proc.stderr, proc.stderr
    assert not os.path.exists(instance.pid_file())


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_unreachable_queue_directory_is_fatal_as_root(instance):
    # The daemons open the queue as mail_owner: a parent it cannot search
    # is named in the error, and nothing is left running or locked.
    os.chmod(instance.base, 0o700)
    proc = instance.run_master("-f")
    assert proc.returncode == 1
    assert re.search(r"fatal: mail_owner \S+ cannot reach \S+/queue",
                     proc.stderr), proc.stderr
    assert not os.path.exists(instance.pid_file())


def test_listener_in_use_is_fatal_and_cleaned_up(instance):
    busy = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with busy:
        busy.bind((instance.host, 0))
        busy.listen()
        port = busy.getsockname()[1]
        instance.services = [
            Instance.service("early", ECHO, type_="unix"),
            Instance.service(port, ECHO)]
        proc = instance.run_master("-f")
    assert proc.returncode == 1
    assert re.search(r"fatal: service %d/inet: .*%d.*in use" % (port, port),
                     proc.stderr), proc.stderr
    # Nothing of the failed start stays behind.
    assert not os.path.exists(instance.socket_path("early"))
    assert not os.path.exists(instance.pid_file())


def test_killed_child_is_replaced(instance):
    port = instance.port()
    instance.services = [Instance.service(port, ECHO)]
    instance.start()
    first = echo_once(instance, port)
    os.kill(first, signal.SIGKILL)
    instance.wait_log(r"warning: process %s pid %d killed by signal 9" %
                      (re.escape(ECHO), first))
    wait_until(lambda: first not in instance.children(),
               what="the killed child to be reaped")
    second = echo_once(instance, port)
    assert second != first
    assert second in instance.children()
    # The child had served: no reason to throttle the service.
    assert "bad command startup" not in instance.log()


def test_maxproc_is_respected_under_parallel_clients(instance):
    port = instance.port()
    clients = 6
    instance.services = [
        Instance.service(port, ECHO + " -d 1", maxproc=2)]
    instance.start()

    pids = []
    errors = []
    most = [0]
    done = threading.Event()

    def client():
        try:
            pids.append(echo_once(instance, port))
        except Exception as e:  # reported below
            errors.append(e)

    def sampler():
        while not done.is_set():
            most[0] = max(most[0], len(instance.children()))
            time.sleep(0.02)

    watch = threading.Thread(target=sampler)
    watch.start()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=scaled(60))
    done.set()
    watch.join()
    assert not errors, errors
    assert len(pids) == clients
    assert len(set(pids)) <= 2, pids
    assert 1 <= most[0] <= 2, most[0]
    instance.wait_log(r'service "%d" \(inet\) has reached its process '
                      r'limit "2"' % port)


def test_child_killed_before_serving_pauses_its_service_briefly(instance):
    """A child killed by SIGKILL before it served (an administrator, the
    OOM killer) is no failure of the program: the service pauses for a
    second against a fork loop, not for service_throttle_time (60 s
    here), which left port 25 unserved for a minute in the kill soak."""
    port = instance.port()
    instance.conf["service_throttle_time"] = "60s"
    instance.services = [Instance.service(port, CRASH + " -k")]
    instance.start()
    s = connect(instance.host, port)
    with s:
        instance.wait_log(r"%s: bad command startup -- throttling" %
                          re.escape(CRASH))
        start = instance.log_size()
        time.sleep(scaled(4))
        log = instance.log(start)
    kills = len(re.findall(r"process %s pid \d+ killed by signal 9" %
                           re.escape(CRASH), log))
    # About one start a second: more than one, far fewer than a loop.
    assert 2 <= kills <= scaled(4) + 1, (kills, log)


def test_crashing_service_is_throttled_not_respawned(instance):
    throttle = 2
    window = 6
    port = instance.port()
    instance.conf["service_throttle_time"] = "%ds" % throttle
    instance.services = [Instance.service(port, CRASH)]
    instance.start()
    # A waiting client is what makes master start a child.
    s = connect(instance.host, port)
    with s:
        instance.wait_log(r"%s: bad command startup -- throttling" %
                          re.escape(CRASH))
        start = instance.log_size()
        time.sleep(scaled(window))
        log = instance.log(start)
    exits = len(re.findall(r"process %s pid \d+ exit status 1" %
                           re.escape(CRASH), log))
    throttles = log.count("bad command startup -- throttling")
    # One start per throttle period, not a fork loop; and the throttle
    # ends: the service is retried.
    bound = int(scaled(window) / throttle) + 1
    assert 1 <= exits <= bound, (exits, log)
    assert 1 <= throttles <= bound, (throttles, log)
    assert instance.proc.poll() is None


def test_sighup_adds_removes_and_keeps_unchanged(instance):
    keep, gone, new = instance.ports(3)
    keep_line = Instance.service(keep, ECHO)
    instance.services = [keep_line, Instance.service(gone, ECHO)]
    instance.start()
    gone_child = echo_once(instance, gone)
    conn, keep_child = greet(instance, keep)
    with conn:
        instance.services = [keep_line, Instance.service(new, ECHO)]
        instance.write()
        instance.reload()

        instance.wait_port(new)
        assert echo_once(instance, new) in instance.children()
        wait_until(lambda: not can_connect(instance.host, gone),
                   what="the removed service to refuse connections")
        wait_until(lambda: not pid_alive(gone_child),
                   what="the removed service's child to exit")
        # The unchanged service's session carries on through the reload.
        conn.sendall(b"still here\r\n")
        assert read_line(conn) == "still here"
        assert pid_alive(keep_child)
        conn.sendall(b"quit\r\n")
    assert "keeping the running configuration" not in instance.log()


def test_sighup_restarts_a_changed_service(instance):
    port = instance.port()
    instance.services = [Instance.service(port, ECHO)]
    instance.start()
    old = echo_once(instance, port)
    instance.services = [Instance.service(port, ECHO + " -d 0")]
    instance.write()
    instance.reload()
    wait_until(lambda: not pid_alive(old), what="the old child to stop")
    new = echo_once(instance, port)
    assert new != old


def test_sighup_with_bad_services_keeps_running_configuration(instance):
    port = instance.port()
    instance.services = [Instance.service(port, ECHO)]
    instance.start()
    before = echo_once(instance, port)
    instance.write(services_text="%d inet n n n - - %s\nbroken line\n" %
                   (port, ECHO))
    mark = instance.log_size()
    instance.reload()
    instance.wait_log(r"services:2: .*keeping the running configuration",
                      since=mark)
    assert echo_once(instance, port) in instance.children()
    assert pid_alive(before)


def test_sigterm_leaves_no_process_socket_or_pid_file(instance, tmp_path):
    port = instance.port()
    out = tmp_path / "triggers"
    instance.services = [
        Instance.service(port, ECHO),
        Instance.service("trig", "%s -f %s" % (TRIGGER, out), type_="unix",
                         wakeup=1),
        Instance.service("pub", ECHO, type_="unix", private="n"),
    ]
    instance.start()
    sock = instance.socket_path("trig")
    pub = instance.socket_path("pub", private=False)
    assert os.path.exists(sock) and os.path.exists(pub)
    assert oct(os.stat(pub).st_mode & 0o777) == "0o666"
    assert oct(os.stat(sock).st_mode & 0o777) == "0o600"
    wait_until(lambda: out.exists(), what="a wakeup to run pan-trigger")
    busy, _ = greet(instance, port)  # a child in the middle of a session
    with busy:
        kids = instance.children()
        assert len(kids) >= 2
        master = instance.pid
        assert instance.stop() == 0
    for pid in kids:
        assert not pid_alive(pid), "child %d survived" % pid
    assert pgroup_members(master) == []
    assert not os.path.exists(sock)
    assert not os.path.exists(pub)
    assert not os.path.exists(instance.pid_file())
    assert re.search(r"master\[%d\]: terminating on signal 15" % master,
                     instance.log())


def test_second_master_refuses_to_start(instance):
    port = instance.port()
    instance.services = [Instance.service(port, ECHO)]
    instance.start()
    second = instance.run_master("-f")
    assert second.returncode != 0
    assert ("fatal: the Panacea mail system is already running "
            "(master pid %d)" % instance.pid) in second.stderr
    # The first one is unharmed.
    assert instance.proc.poll() is None
    assert os.path.exists(instance.pid_file())
    assert echo_once(instance, port) in instance.children()
    # -t: "running" is a non-zero status, "not running" is 0.
    assert instance.run_master("-t").returncode == 1
    assert instance.stop() == 0
    assert instance.run_master("-t").returncode == 0


@pytest.mark.parametrize("bad", ["default_process_limit = many",
                                 "service_throttle_time = soon"])
def test_bad_config_line_stops_master(instance, bad):
    text = instance.conf_text() + "# a comment\n" + bad + "\n"
    instance.write(conf_text=text)
    line = text.count("\n")
    proc = instance.run_master("-f")
    assert proc.returncode != 0
    assert re.search(r"%s:%d: " % (re.escape(os.path.join(
        instance.config_dir, "panacea.conf")), line), proc.stderr), \
        proc.stderr
    assert not os.path.exists(instance.pid_file())


def test_bad_services_line_stops_master(instance):
    port = instance.port()
    instance.services = [Instance.service(port, ECHO),
                         "%d tcp n n n - - %s" % (instance.port(), ECHO)]
    instance.write()
    proc = instance.run_master("-f")
    assert proc.returncode != 0
    assert re.search(r"%s:2: " % re.escape(os.path.join(
        instance.config_dir, "services")), proc.stderr), proc.stderr
    assert not can_connect(instance.host, port)
    assert not os.path.exists(instance.pid_file())


def test_wakeup_service_is_triggered(instance, tmp_path):
    out = tmp_path / "triggers"
    instance.services = [
        Instance.service("trig", "%s -f %s" % (TRIGGER, out), type_="unix",
                         wakeup=1, maxproc=1)]
    instance.start()

    def triggers():
        return out.read_text().splitlines() if out.exists() else []
    # One at start, then one a second.
    wait_until(lambda: len(triggers()) >= 3, timeout=15,
               what="three wakeup triggers")
    assert all("W" in t for t in triggers()), triggers()


def test_busy_trigger_service_does_not_warn_of_its_limit(instance,
                                                         tmp_path):
    """A unix service with one process serves its waiting clients in
    turn: a burst of triggers is no reason to warn that its process limit
    was reached (Postfix warns only for network services)."""
    out = tmp_path / "triggers"
    instance.services = [
        Instance.service("trig", "%s -f %s" % (TRIGGER, out), type_="unix",
                         maxproc=1)]
    instance.start()
    path = instance.socket_path("trig")
    wait_until(lambda: os.path.exists(path), what="the trigger socket")

    def burst(n):
        for i in range(20):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.connect(path)
                s.sendall(b"T%d-%d" % (n, i))
    threads = [threading.Thread(target=burst, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=scaled(60))
    wait_until(lambda: out.exists() and
               len(out.read_text().splitlines()) >= 80,
               timeout=30, what="80 triggers served")
    assert "process limit" not in instance.log()


def test_conditional_wakeup_waits_until_used(instance, tmp_path):
    out = tmp_path / "triggers"
    instance.services = [
        Instance.service("trig", "%s -f %s" % (TRIGGER, out), type_="unix",
                         wakeup="1?", maxproc=1)]
    instance.start()
    time.sleep(scaled(2.5))
    assert not out.exists(), "a '?' wakeup fired before the service was used"


def test_daemon_mode_detaches_and_stops(instance):
    port = instance.port()
    instance.services = [Instance.service(port, ECHO)]
    proc = instance.run_master()
    assert proc.returncode == 0, proc.stderr
    with open(instance.pid_file()) as f:
        pid = int(f.read())
    try:
        assert pid_alive(pid)
        assert os.getsid(pid) == pid  # its own session, no terminal
        instance.wait_log(r"master\[%d\]: daemon started" % pid)
        s, child = greet(instance, port)
        s.close()
        assert child in children_of(pid)
        assert instance.run_master("-t").returncode == 1
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: not pid_alive(pid), timeout=20,
                   what="master to stop")
        assert not os.path.exists(instance.pid_file())
    finally:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


SYMSWAP = fixture("pan-symswap")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_socket_symlink_race_changes_nothing_outside(instance):
    """DESIGN.md Rule 1: master binds its unix sockets in private/ and
    public/, folders mail_owner can write.  While pan-symswap, running as
    mail_owner, renames symbolic links to a root-owned 0600 file over
    the socket names as fast as it can, master starts and reloads (each
    reload adds or removes the unix services) many times.  The file must
    never change mode or owner: a chmod or chown by name after bind
    follows the link (the old code made the file 0666 or mail_owner's)."""
    target = os.path.join(instance.base, "shadow")
    with open(target, "w") as f:
        f.write("root:secret\n")
    os.chmod(target, 0o600)
    before = os.stat(target)
    port = instance.port()
    base = [Instance.service(port, ECHO)]
    names = ["race%d" % i for i in range(4)]
    full = base + [Instance.service(n, ECHO, type_="unix",
                                    private="y" if i % 2 == 0 else "n")
                   for i, n in enumerate(names)]
    # The first start makes private/ and public/.
    instance.services = base
    instance.start()
    instance.stop()
    paths = [instance.socket_path(n, private=i % 2 == 0)
             for i, n in enumerate(names)]
    owner = pwd.getpwnam(instance.conf["mail_owner"])
    attacker = subprocess.Popen([SYMSWAP, target] + paths,
                                user=owner.pw_uid, group=owner.pw_gid,
                                extra_groups=[], stdout=subprocess.PIPE,
                                text=True)

    def unchanged(what):
        st = os.stat(target)
        assert (oct(st.st_mode), st.st_uid, st.st_gid) == \
            (oct(before.st_mode), before.st_uid, before.st_gid), \
            "the target file changed after %s" % what

    starts = binds = 0
    try:
        deadline = time.monotonic() + scaled(40)
        for round_ in range(15):
            if time.monotonic() > deadline:
                break
            instance.services = full
            instance.write()
            mark = instance.log_size()
            instance.start(wait_ready=False)
            wait_until(lambda: instance.proc.poll() is not None or re.search(
                r"master\[%d\]: daemon started" % instance.pid,
                instance.log(mark)), timeout=scaled(20),
                what="master to start or fail")
            binds += len(names)
            unchanged("start %d" % round_)
            if instance.proc.poll() is not None:
                # A link was at a name when master bound it: refused.
                continue
            starts += 1
            for r in range(40):
                instance.services = base if r % 2 == 0 else full
                instance.write()
                instance.reload()
                binds += len(names) if r % 2 else 0
            assert instance.stop() == 0
            unchanged("start %d and its reloads" % round_)
    finally:
        attacker.terminate()
        rounds = attacker.communicate(timeout=scaled(10))[0].strip()
        instance.stop()
    print("%d binds, %d starts, %s attacker rounds" % (binds, starts, rounds))
    unchanged("the last round")
    assert starts > 0


def test_queue_keeper_has_dropped_and_is_replaced_when_killed(instance):
    """master never opens the queue (DESIGN.md Rule 2): its queue keeper
    does, as mail_owner for good (every uid; as root also jailed in the
    queue directory).  A keeper that dies is replaced by one that
    recovers the queue, after every daemon was ended; then service
    resumes."""
    port = instance.port()
    instance.services = [Instance.service(port, ECHO)]
    instance.start()
    keeper = instance.keeper()
    assert keeper is not None
    with open("/proc/%d/status" % keeper) as f:
        uids = [int(x) for x in re.search(r"^Uid:\s+(.*)$", f.read(),
                                          re.M).group(1).split()]
    owner = pwd.getpwnam(instance.conf["mail_owner"]).pw_uid
    assert uids == [owner] * 4
    if os.geteuid() == 0:
        assert os.readlink("/proc/%d/root" % keeper) == \
            os.path.realpath(instance.queue_dir)
    s, child = greet(instance, port)
    s.close()
    mark = instance.log_size()
    os.kill(keeper, signal.SIGKILL)
    instance.wait_log(r"master\[%d\]: warning: queue keeper pid %d killed "
                      r"by signal 9" % (instance.pid, keeper), since=mark)
    instance.wait_log(r"master\[%d\]: queue \S+: recovery done" %
                      instance.pid, since=mark)
    wait_until(lambda: instance.keeper() not in (None, keeper),
               what="a new queue keeper")
    assert not pid_alive(child)
    assert echo_once(instance, port) in instance.children()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_wakeup_does_not_follow_a_link_as_root(instance, tmp_path):
    """DESIGN.md Rule 1: master's wakeup connects to a name in private/,
    mail_owner's folder.  A link renamed over it that points to a socket
    only root may use must not get master's connection: master connects
    as mail_owner, is refused, and says so."""
    victim = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    path = str(tmp_path / "root-only")
    victim.bind(path)
    os.chmod(path, 0o600)
    victim.listen(8)
    victim.setblocking(False)
    out = tmp_path / "triggers"
    instance.services = [
        Instance.service("trig", "%s -f %s" % (TRIGGER, out), type_="unix",
                         wakeup=1, maxproc=1)]
    instance.start()
    wait_until(lambda: out.exists(), what="the first wakeup")
    # What mail_owner could do: a link renamed over the socket's name.
    name = instance.socket_path("trig")
    os.symlink(path, name + ".tmp")
    os.rename(name + ".tmp", name)
    mark = instance.log_size()
    refused = r"master\[%d\]: warning: connect to %s: Permission denied" % (
        instance.pid, re.escape(name))

    def outcome():
        try:
            conn, _ = victim.accept()
            conn.close()
            return "master connected through the link"
        except BlockingIOError:
            pass
        return re.search(refused, instance.log(mark)) and "refused"
    try:
        assert wait_until(outcome, timeout=10,
                          what="the next wakeup") == "refused"
    finally:
        victim.close()


def test_stuck_queue_keeper_does_not_wedge_master(instance):
    """A queue keeper that does not answer master's failchk request (here
    stopped with SIGSTOP; in life, waiting on a mutex of the dead process)
    costs master at most 10 s: then it ends every daemon, kills the keeper
    and has a new one recover the queue, and service resumes."""
    port = instance.port()
    instance.services = [Instance.service(port, ECHO)]
    instance.start()
    keeper = instance.keeper()
    s, child = greet(instance, port)
    s.close()
    os.kill(keeper, signal.SIGSTOP)
    mark = instance.log_size()
    os.kill(child, signal.SIGKILL)
    instance.wait_log(r"master\[%d\]: warning: queue keeper pid %d did not "
                      r"answer about process %d" % (instance.pid, keeper,
                                                    child),
                      since=mark, timeout=30)
    instance.wait_log(r"master\[%d\]: queue \S+: recovery done" %
                      instance.pid, since=mark, timeout=30)
    assert not pid_alive(keeper)
    assert instance.keeper() not in (None, keeper)
    assert echo_once(instance, port) in instance.children()


def test_new_master_listens_while_an_orphan_ends_its_session(instance):
    """A child whose master was killed stops listening at once (its
    listeners are shut down when the kernel tells it of master's death),
    so a new master started right away listens on the same port while
    the old child is still in its client's session (before, the new
    master died with "Address already in use")."""
    port = instance.port()
    instance.services = [Instance.service(port, ECHO)]
    instance.start()
    s, child = greet(instance, port)
    with s:
        os.kill(instance.pid, signal.SIGKILL)
        instance.proc.wait(timeout=scaled(10))
        # The parent-death signal is delivered when master is reaped;
        # give it a moment to reach the child, not the 2 s grace.
        time.sleep(0.2)
        assert pid_alive(child)
        instance.start()
        assert echo_once(instance, port) in instance.children()


def test_killed_master_leaves_no_orphan_and_restarts(instance):
    """When master is killed, its children end within seconds whatever
    they are doing (here a child in a client's session, which reads only
    from its client, and the queue keeper), so that a new master can
    listen on the same port at once."""
    port = instance.port()
    instance.services = [Instance.service(port, ECHO)]
    instance.start()
    keeper = instance.keeper()
    s, child = greet(instance, port)
    with s:
        os.kill(instance.pid, signal.SIGKILL)
        instance.proc.wait(timeout=scaled(10))
        started = time.monotonic()
        wait_until(lambda: not pid_alive(child) and not pid_alive(keeper),
                   timeout=10, what="the session's child and the keeper end")
        assert time.monotonic() - started < scaled(5)
    instance.start()
    assert echo_once(instance, port) in instance.children()


def test_daemon_whose_master_died_before_it_started_exits(instance):
    """A daemon whose master was killed between its fork() and the
    daemon's start has a new parent (init, or a subreaper) that getppid()
    cannot tell from master, so no parent-death signal ever comes.  It
    must see master's end of the alive pipe closed at once and exit
    before it opens anything: before, it went on to open the queue, and
    one blocked there (on a lock of a process killed too) never reached
    the event loop that notices the pipe, and held the queue for ever
    (the kill soak's rare hang: the new master waited on it).  Here the
    parent, this test, is alive: only the pipe says master is gone."""
    port = instance.port()
    instance.write()
    status_r, status_w = os.pipe()
    alive_r, alive_w = os.pipe()
    os.close(alive_w)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((instance.host, port))
    listener.listen(5)
    sources = [status_w, alive_r, listener.fileno()]

    def descriptors():
        # 3: status, 4: alive, 5: the listener, as master lays them out
        # (dup2 makes them inheritable; Python's own are close-on-exec).
        lifted = [os.dup(fd) for fd in sources]
        for target, fd in enumerate(lifted, start=3):
            os.dup2(fd, target)
        for fd in lifted:
            os.close(fd)

    proc = subprocess.Popen([ECHO, "-c", instance.config_dir, "-n", "echo",
                             "-t", "inet", "-s", "1"],
                            close_fds=False, preexec_fn=descriptors,
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    for fd in (status_r, status_w, alive_r):
        os.close(fd)
    try:
        status = proc.wait(timeout=scaled(5))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail("the daemon served with its master gone")
    finally:
        listener.close()
    # Before the configuration is read, messages go to standard error.
    assert status != 0
    assert b"fatal: master is gone" in proc.stderr.read()


HOLD_REGISTER = """
import fcntl, sys, time
f = open(sys.argv[1], "ab+")
fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 0)
print("locked", flush=True)
time.sleep(120)
"""


def test_recovery_kills_what_still_uses_the_old_queue(instance):
    """A process that still has the queue's environment open 5 s after a
    new master began recovery (every daemon of a killed master ends
    within 2 s) is one stuck on a mutex of a process killed before it,
    and recovering beside it would hang on that mutex too: the queue
    keeper kills it, says so, and recovers.  Here the stuck process is a
    stand-in holding its line of __db.register, as Berkeley DB's users
    do, as mail_owner."""
    port = instance.port()
    instance.services = [Instance.service(port, ECHO)]
    instance.start()
    instance.stop()
    db = os.path.join(instance.queue_dir, "db")
    st = os.stat(db)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_REGISTER,
         os.path.join(db, "__db.register")],
        user=st.st_uid, group=st.st_gid, stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline() == b"locked\n"
        mark = instance.log_size()
        instance.start()
        assert holder.wait(timeout=scaled(5)) == -signal.SIGKILL
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait()
        holder.stdout.close()
    assert re.search(r"queue-keeper\[\d+\]: warning: queue: process %d "
                     r"still uses the old environment after 5 s: killing it"
                     % holder.pid, instance.log(mark))
    assert echo_once(instance, port) in instance.children()
