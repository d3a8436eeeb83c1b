"""A damaged queue database, repaired by following INSTALL ("When the
queue database is damaged") step by step.

An instance (smtpd, showq; no qmgr, so that everything stays queued)
takes 60 small messages over SMTP and is stopped.  The test then
overwrites two pages with garbage: the first leaf page of envelope.db
(the oldest messages' envelopes) and the last leaf page of content.db
(the newest messages' content).  Which queue ids each page held is read
from the page itself, with the little of Berkeley DB's btree page format
this needs (the keys of a leaf page), not from Panacea.

Then, as INSTALL says: master refuses to start and names "pansuper -s";
db5.3_verify, run from / one file at a time, fails on both files;
pansuper -s salvages into a new queue and keeps the old files; a second
pansuper -s has nothing to do; master starts.  At the end every message
whose envelope survived is queued again: those whose content survived
byte for byte as sent (pancat), those whose content was on the damaged
page (and not found elsewhere by the salvage) on hold; those whose
envelope was on it are gone, and nothing else is.  A second test does the manual way of INSTALL (db5.3_dump -R/-r and
db5.3_load into an empty db/, then pansuper -s); a third truncates the
transaction log instead, which recovery cannot replay.

Needs root (chrooted smtpd as mail_owner, as installed).
"""

import json
import os
import re
import shutil
import smtplib
import struct
import subprocess

import pytest

import panacea_test
from panacea_test import Instance, program, scaled
from smtp_helpers import mail_owner  # noqa: F401

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(
        not all(os.access(program(p), os.X_OK)
                for p in ("master", "smtpd", "showq", "pansuper",
                          "panqueue", "pancat")),
        reason="a program is not built"),
]

COUNT = 60
PAGE = 4096
P_LBTREE = 5  # Berkeley DB's page type of a btree leaf


def body(i):
    return ("message %03d\r\n" % i) + ("%03d " % i) * 40 + "\r\n"


def leaf_pages(path):
    """[(page number, [key bytes, ...])] of the btree leaf pages of a
    Berkeley DB file with 4096-byte pages (little-endian): page header
    26 bytes (entries at 20, type at 25), then the item offsets; an
    item is length (2), type (1), bytes; keys are the even items."""
    data = open(path, "rb").read()
    pages = []
    for n in range(1, len(data) // PAGE):
        page = data[n * PAGE:(n + 1) * PAGE]
        if page[25] != P_LBTREE:
            continue
        entries = struct.unpack_from("<H", page, 20)[0]
        keys = []
        for i in range(0, entries, 2):
            off = struct.unpack_from("<H", page, 26 + 2 * i)[0]
            length = struct.unpack_from("<H", page, off)[0]
            keys.append(page[off + 3:off + 3 + length])
        pages.append((n, keys))
    return pages


def smash(path, page):
    with open(path, "r+b") as f:
        f.seek(page * PAGE)
        f.write(os.urandom(PAGE))


class Damaged:
    """The instance, its messages {queue id: body} and the two pages."""

    def __init__(self, inst, owner, pages=True):
        self.inst = inst
        self.port = inst.port()
        inst.conf.update({"mail_owner": owner, "myhostname": "panacea.test",
                          "mynetworks": "127.0.0.0/8"})
        inst.services = [
            Instance.shipped("smtp", "inet", self.port),
            Instance.shipped("showq"),
        ]
        inst.write()
        inst.start()
        inst.wait_port(self.port)
        self.sent = {}
        with smtplib.SMTP(inst.host, self.port, timeout=scaled(30)) as s:
            s.ehlo("client.test")
            for i in range(COUNT):
                assert s.mail("sender@example.org")[0] == 250
                assert s.rcpt("rcpt%d@example.net" % i)[0] == 250
                code, text = s.data(("Subject: m%d\r\n\r\n" % i +
                                     body(i)).encode())
                assert code == 250, text
                qid = re.search(rb"queued as (\w+)", text).group(1)
                self.sent[qid.decode()] = body(i)
        assert inst.stop() == 0
        self.db = os.path.join(inst.queue_dir, "db")
        self.lost = self.cut = set()
        if pages:
            self.smash_pages()

    def smash_pages(self):
        env = leaf_pages(os.path.join(self.db, "envelope.db"))
        content = leaf_pages(os.path.join(self.db, "content.db"))
        assert len(env) >= 2 and len(content) >= 2, (env, content)
        # The oldest envelopes and the newest content: two sets of
        # messages that do not meet.
        env_page, env_keys = min(env, key=lambda p: min(p[1]))
        content_page, content_keys = max(content, key=lambda p: max(p[1]))
        self.lost = {k.decode() for k in env_keys}
        self.cut = {k[:16].decode() for k in content_keys} - self.lost
        assert self.lost and self.cut
        assert self.lost | self.cut < set(self.sent)
        smash(os.path.join(self.db, "envelope.db"), env_page)
        smash(os.path.join(self.db, "content.db"), content_page)

    def run(self, name, *args):
        return subprocess.run([program(name), "-c", self.inst.config_dir] +
                              list(args), capture_output=True, text=True,
                              timeout=scaled(60))

    def listing(self):
        r = self.run("panqueue", "-j")
        assert r.returncode == 0, r.stderr
        return {m["queue_id"]: m for m in
                map(json.loads, r.stdout.splitlines())}

    def check_after_salvage(self, held):
        """Master starts; what survived is queued, whole or held."""
        self.inst.start()
        queued = self.listing()
        assert set(queued) == set(self.sent) - self.lost
        for qid, m in queued.items():
            assert m["queue_name"] == ("hold" if qid in held
                                       else "active"), (qid, m)
            if qid not in held:
                r = self.run("pancat", "-q", "-b", qid)
                assert r.returncode == 0, r.stderr
                assert r.stdout.replace("\n", "\r\n") == self.sent[qid]


@pytest.fixture
def damaged(instance, mail_owner):  # noqa: F811
    return Damaged(instance, mail_owner)


def test_damaged_queue_salvaged_as_install_says(damaged):
    inst = damaged.inst
    # What the administrator sees: master does not start, and says why.
    mark = inst.log_size()
    r = inst.run_master("-f")
    assert r.returncode != 0
    inst.wait_log(r"queue-keeper\[\d+\]: warning: queue: the database "
                  r"files cannot be read after recovery: with the mail "
                  r"system stopped, \"pansuper -s\" salvages", since=mark)
    inst.wait_log(r"master\[\d+\]: fatal: cannot recover the queue in "
                  r"%s .*\"pansuper -s\" salvages a damaged queue"
                  % re.escape(damaged.db), since=mark)
    # Step 1: a copy of everything.
    copy = inst.base + "/db-copy"
    shutil.copytree(damaged.db, copy, symlinks=True)
    # Step 2: the verify, from /, one file at a time.
    verdict = {}
    for f in ("envelope", "content", "schedule"):
        v = subprocess.run([panacea_test.tool("db5.3_verify"),
                            os.path.join(damaged.db, f + ".db")],
                           capture_output=True, text=True, cwd="/",
                           timeout=scaled(60))
        verdict[f] = v.returncode
    assert verdict == {"envelope": 1, "content": 1, "schedule": 0}
    # Step 3: the salvage.
    r = damaged.run("pansuper", "-s")
    assert r.returncode == 0, r.stderr
    m = re.search(r"pansuper: salvaged (\d+) envelope records and (\d+) "
                  r"content chunks into a new queue \(\d+ unreadable "
                  r"records dropped\); the old files are in "
                  r"(%s/damaged-[\d-]+)\n" % re.escape(damaged.db), r.stderr)
    assert m, r.stderr
    assert int(m.group(1)) >= COUNT - len(damaged.lost)
    kept = m.group(3)
    assert sorted(os.listdir(kept)) == sorted(os.listdir(copy))
    # The content of the messages on the smashed page is gone (the
    # aggressive salvage may still find a stale copy of an item: then
    # the message is whole, and checked as such below).
    held = set(re.findall(r"pansuper: (\w+): content damaged \(0 of \d+ "
                          r"bytes left\): placed on hold\n", r.stderr))
    assert held and held <= damaged.cut, (held, damaged.cut)
    # Step 4: nothing left to do.
    r = damaged.run("pansuper", "-s")
    assert (r.returncode, r.stderr) == (0, "")
    # Step 5: master starts; the messages are back.
    damaged.check_after_salvage(held)


def test_damaged_queue_salvaged_by_hand(damaged):
    """INSTALL's way without pansuper's salvage: Berkeley DB's dump and
    load into an empty db/, then pansuper -s (schedule, recovery)."""
    copy = damaged.inst.base + "/db-copy"
    shutil.copytree(damaged.db, copy, symlinks=True)
    for name in os.listdir(damaged.db):
        os.unlink(os.path.join(damaged.db, name))
    owner = damaged.inst.conf["mail_owner"]
    for f, how in (("envelope", "-R"), ("content", "-R")):
        dump = subprocess.run([panacea_test.tool("db5.3_dump"), how,
                               os.path.join(copy, f + ".db")],
                              capture_output=True, cwd="/",
                              timeout=scaled(60))
        assert dump.stdout.startswith(b"VERSION=3\n"), dump.stderr
        path = os.path.join(damaged.db, f + ".db")
        load = subprocess.run([panacea_test.tool("db5.3_load"), path],
                              input=dump.stdout, capture_output=True,
                              cwd="/", timeout=scaled(60))
        assert load.returncode == 0, load.stderr
        shutil.chown(path, owner, owner)
        os.chmod(path, 0o600)
    r = damaged.run("pansuper", "-s")
    assert r.returncode == 0, r.stderr
    # No content check on this way: the cut messages are queued, not
    # held, and have no content; the others are whole.
    damaged.inst.start()
    queued = damaged.listing()
    assert set(queued) == set(damaged.sent) - damaged.lost
    for qid in set(queued) - damaged.cut:
        r = damaged.run("pancat", "-q", "-b", qid)
        assert r.stdout.replace("\n", "\r\n") == damaged.sent[qid]


def test_truncated_log_salvaged(instance, mail_owner):  # noqa: F811
    """The log cut short (the records since the last checkpoint are
    gone): recovery fails, master says to run pansuper -s, which salvages
    every message from the database files."""
    damaged = Damaged(instance, mail_owner, pages=False)
    log = os.path.join(damaged.db, "log.0000000001")
    os.truncate(log, 16384)
    mark = instance.log_size()
    assert instance.run_master("-f").returncode != 0
    instance.wait_log(r"master\[\d+\]: fatal: cannot recover the queue in "
                      r"%s .*\"pansuper -s\" salvages" % re.escape(damaged.db),
                      since=mark)
    r = damaged.run("pansuper", "-s")
    assert r.returncode == 0, r.stderr
    assert "pansuper: recovery of %s failed\n" % damaged.db in r.stderr
    assert "pansuper: salvaged %d envelope records" % COUNT in r.stderr
    damaged.check_after_salvage(set())
