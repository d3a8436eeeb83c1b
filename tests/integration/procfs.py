"""What /proc says about the processes of an instance: who runs as whom,
where, below whom, and what each maps or holds (queue files, TCP
sockets, memory).  The one place the integration tests read /proc from
(test_install, test_delivery, test_pop3d, test_auth).

Every reader raises OSError (or KeyError) when the process is gone
meanwhile; callers that sample a moving tree catch those.
"""

import os
import pwd
import re

import panacea_test  # wait_until; it imports this module too


def status(pid):
    """/proc/PID/status as {field: value}."""
    with open("/proc/%d/status" % pid) as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f
                    if ":\t" in line)


def uids(pid):
    """The real, effective, saved and file-system uids of pid."""
    return [int(x) for x in status(pid)["Uid"].split()]


def gids(pid):
    """The real, effective, saved and file-system gids of pid."""
    return [int(x) for x in status(pid)["Gid"].split()]


def groups(pid):
    """The supplementary groups of pid."""
    return [int(x) for x in status(pid)["Groups"].split()]


def ppid(pid):
    return int(status(pid)["PPid"])


def comm(pid):
    with open("/proc/%d/comm" % pid) as f:
        return f.read().strip()


def name(pid):
    """comm, or "" when pid is gone (for scans of a moving tree)."""
    try:
        return comm(pid)
    except OSError:
        return ""


def assert_jailed(pid, user, queue_dir):
    """pid runs as user in every uid and gid, chrooted to queue_dir, and
    holds (open or mapped) nothing of the queue's database (DESIGN.md,
    "Privileges and chroot")."""
    pw = pwd.getpwnam(user)
    assert uids(pid) == [pw.pw_uid] * 4
    assert gids(pid) == [pw.pw_gid] * 4
    assert root(pid) == os.path.realpath(queue_dir)
    held = fd_targets(pid) + sorted(mapped_files(pid))
    assert not [p for p in held if "/db/" in p or p.startswith("db/")], \
        held


def root(pid):
    """The root directory of pid (its jail, or "/")."""
    return os.readlink("/proc/%d/root" % pid)


def maps(pid):
    with open("/proc/%d/maps" % pid) as f:
        return f.read()


def mapped_files(pid):
    """The paths of the files pid maps."""
    out = set()
    for line in maps(pid).splitlines():
        fields = line.split(None, 5)
        if len(fields) == 6:
            out.add(fields[5].strip())
    return out


def fd_targets(pid):
    """What the descriptors of pid point to (paths, "socket:[INODE]"...);
    a descriptor closed while being read is left out."""
    fd_dir = "/proc/%d/fd" % pid
    out = []
    for fd in os.listdir(fd_dir):
        try:
            out.append(os.readlink(os.path.join(fd_dir, fd)))
        except OSError:
            continue
    return out


def live_stats():
    """(pid, fields of /proc/PID/stat after the name: state, ppid, pgrp,
    ...) of every live (non-zombie) process of the machine."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            yield int(name), fields


def children():
    """{pid: [its live children]} of the whole machine, from one pass
    over /proc."""
    kids = {}
    for pid, fields in live_stats():
        kids.setdefault(int(fields[1]), []).append(pid)
    return kids


def descendants(pid):
    """Every live process below pid (children, grandchildren...)."""
    kids = children()
    out, todo = [], [pid]
    while todo:
        mine = kids.get(todo.pop(), [])
        out += mine
        todo += mine
    return out


def tree(pid):
    """pid and every live process below it."""
    return [pid] + descendants(pid)


def snapshot(pid):
    """{pid: (name, uids, root)} of pid's descendants (those that vanish
    while being read are left out)."""
    seen = {}
    for p in descendants(pid):
        try:
            seen[p] = (comm(p), uids(p), root(p))
        except (OSError, KeyError):
            continue
    return seen


def wait_descendant(top, pred, what, timeout=20):
    """The pid of a descendant of top for which pred(pid) is true (a
    process that vanishes while pred reads it is skipped)."""
    def find():
        for pid in descendants(top):
            try:
                if pred(pid):
                    return pid
            except (OSError, KeyError):
                continue
        return None
    try:
        return panacea_test.wait_until(find, timeout=timeout, interval=0.02,
                                       what=what)
    except AssertionError:
        print("processes:", snapshot(top))
        raise


# -- Sockets -------------------------------------------------------------------

TCP_LISTEN = "0A"


def socket_inodes(pid):
    """The inodes of the sockets pid holds (as strings, like /proc/net)."""
    out = set()
    for target in fd_targets(pid):
        m = re.match(r"socket:\[(\d+)\]$", target)
        if m:
            out.add(m.group(1))
    return out


def tcp_sockets():
    """{inode: (local, remote, state)} of every TCP socket of the
    machine, IPv4 and IPv6, in /proc/net/tcp's hex form (sockets in
    TIME_WAIT and the like, which no process holds, have inode 0 and
    are left out)."""
    out = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            next(f)
            for line in f:
                fields = line.split()
                if fields[9] != "0":
                    out[fields[9]] = (fields[1], fields[2], fields[3])
    return out


def tcp_listeners():
    """{inode: local address} of the listening TCP sockets."""
    return {inode: local for inode, (local, _, state)
            in tcp_sockets().items() if state == TCP_LISTEN}


def tcp_connections(ports=None):
    """Inodes of the TCP connections (not listeners), only those whose
    local port is one of ports when given."""
    out = set()
    for inode, (local, _, state) in tcp_sockets().items():
        port = int(local.rsplit(":", 1)[1], 16)
        if state != TCP_LISTEN and (ports is None or port in ports):
            out.add(inode)
    return out


def listener_holders(pids):
    """{pid: set of listening addresses} of the pids holding a listener."""
    listen = tcp_listeners()
    held = {}
    for pid in pids:
        try:
            mine = socket_inodes(pid) & set(listen)
        except OSError:
            continue
        if mine:
            held[pid] = {listen[i] for i in mine}
    return held


def hex_addr(addr, port):
    """/proc/net/tcp's form of an IPv4 address and port."""
    a = bytes(int(x) for x in addr.split("."))[::-1].hex().upper()
    return "%s:%04X" % (a, port)


# -- The queue -----------------------------------------------------------------

def queue_files_held(pid, queue_dir):
    """The queue environment's region files (db/__db.*) and log files
    (db/log.*) that pid maps or has open (DESIGN.md, Rule 2)."""
    db = os.path.join(os.path.realpath(queue_dir), "db") + "/"

    def is_queue_file(path):
        path = path.replace(" (deleted)", "")
        return path.startswith(db) and \
            path[len(db):].startswith(("__db.", "log."))

    return {path for path in mapped_files(pid) | set(fd_targets(pid))
            if is_queue_file(path)}


# -- Memory --------------------------------------------------------------------

def memory_has(pid, needle):
    """Whether needle is anywhere in the readable memory of pid, read in
    chunks that overlap by len(needle).  Mappings over 1 GiB are skipped:
    only a sanitizer build has them (its shadow memory and allocator
    reservations, mostly never touched)."""
    chunk = 8 << 20
    with open("/proc/%d/maps" % pid) as regions, \
            open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in regions:
            fields = line.split()
            if "r" not in fields[1]:
                continue
            if len(fields) > 5 and fields[5] in ("[vvar]", "[vsyscall]"):
                continue
            start, end = (int(x, 16) for x in fields[0].split("-"))
            if end - start > 1 << 30:
                continue
            at, tail = start, b""
            while at < end:
                try:
                    mem.seek(at)
                    data = mem.read(min(chunk, end - at))
                except (OSError, OverflowError, ValueError):
                    break
                if needle in tail + data:
                    return True
                tail = data[-len(needle):]
                at += len(data) or chunk
    return False
