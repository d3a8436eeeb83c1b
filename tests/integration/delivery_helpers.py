"""delivery_helpers - a whole mail system for the end-to-end tests.

test_delivery.py runs the real programs together, as an installed system
does: master with smtpd (inet, chrooted, unprivileged), qmgr (unix,
chrooted, unprivileged, with a wakeup timer) and local (unix, root, no
chroot, switching to each recipient for the delivery).  Mail goes in over
SMTP and is read back from the mailboxes local wrote.

  accounts            session fixture: unix accounts alice, bob and carol
                      (useradd, with a random suffix and homes under a
                      world-readable temporary folder), removed at the end
  MailSystem          one instance: its configuration, spool, aliases, an
                      SMTP client (send()), the mailboxes (mbox(),
                      maildir(), messages()), the log (wait_removed()) and
                      the processes (pids())
  mutt_copy()         a mailbox read by mutt in batch mode
  crlf(), lf()        line ends as queued / as written to a mailbox

Needs root (CI runs as root): local does, and so do the useradd'ed
accounts.  Every wait has a deadline (panacea_test.wait_until), scaled
for the sanitizer build.
"""

import email
import email.policy
import mailbox
import os
import re
import secrets
import shutil
import smtplib
import socket
import subprocess
import tempfile

import pytest

import panacea_test
import procfs
from panacea_test import Instance, open_path, program, scaled, wait_until
from smtp_helpers import base_conf

MYHOSTNAME = "panacea.test"
USERS = ("alice", "bob", "carol")


def crlf(data):
    """LF line ends to CRLF, as smtpd queues the content."""
    return re.sub(rb"(?<!\r)\n", b"\r\n", data)


def lf(data):
    """CRLF line ends to LF, as local writes a mailbox."""
    return data.replace(b"\r\n", b"\n")


@pytest.fixture(scope="session")
def accounts():
    """Unix accounts for the session: {"base": folder, "users": {short:
    pwd entry}}.  Names are "pdt" + short + a random suffix, so that
    several sessions (and test_local's accounts) never meet."""
    if os.geteuid() != 0:
        pytest.skip("end-to-end delivery needs root")
    yield from panacea_test.unix_accounts("pdt", USERS)


def load_aliases_db(db, text):
    """Builds the hash table db from aliases text with db5.3_load, in the
    format lib/maps reads (lower-case keys, no NUL), without newaliases."""
    lines = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, value = line.split(":", 1)
        for s in (key.strip().lower(), value.strip()):
            lines.append(s.replace("\\", "\\\\"))
    if os.path.exists(db):
        os.unlink(db)
    subprocess.run(["db5.3_load", "-T", "-t", "hash", db],
                   input=("\n".join(lines) + "\n").encode(), check=True)


def mail_dirs(accounts, prefix, spool, out=True):
    """A folder of a test's mail under the accounts' base, its spool
    folder, and (out) the folder where alias files and commands write as
    nobody (mode 1777); returns (folder, spool, out or None)."""
    d = tempfile.mkdtemp(prefix=prefix, dir=accounts["base"])
    os.chmod(d, 0o755)
    spool = os.path.join(d, spool)
    os.mkdir(spool)
    os.chmod(spool, 0o755)
    if not out:
        return d, spool, None
    out = os.path.join(d, "out")
    os.mkdir(out)
    os.chmod(out, 0o1777)
    return d, spool, out


class MailSystem:
    """master + smtpd + qmgr + local in inst, for the accounts.

    conf: extra panacea.conf parameters (home_mailbox = Maildir/ for
    Maildir delivery); aliases: the text of the aliases file;
    qmgr_wakeup: the wakeup column of qmgr's service (master's timer)."""

    def __init__(self, inst, accounts, owner, conf=None, aliases="",
                 qmgr_wakeup=300):
        self.inst = inst
        self.users = accounts["users"]
        root = os.geteuid() == 0
        self.dir, self.spool, self.out = mail_dirs(accounts, "mail-", "spool")
        self.aliases = os.path.join(inst.config_dir, "aliases")
        self.port = inst.port()
        # Homes outlive a test (the accounts are the session's): every
        # test starts with no Maildir and no mutt folder.
        for pw in self.users.values():
            for sub in ("Maildir", "Mail"):
                shutil.rmtree(os.path.join(pw.pw_dir, sub),
                              ignore_errors=True)
        inst.conf.update(base_conf(owner))
        inst.conf.update({
            "mail_spool_directory": self.spool,
            "alias_maps": "hash:" + self.aliases,
            "recipient_delimiter": "+",
            "minimal_backoff_time": "2s",
            "maximal_backoff_time": "4s",
            "queue_run_delay": "1s",
            # A held mailbox lock defers after about 2 s, not 20.
            "deliver_lock_attempts": "2",
            "deliver_lock_delay": "1s",
            "command_time_limit": "20s",
        })
        inst.conf.update(conf or {})
        chroot = "y" if root else "n"
        inst.services = [
            Instance.shipped("smtp", "inet", self.port, chroot=chroot),
            Instance.shipped("qmgr", chroot=chroot, wakeup=qmgr_wakeup),
            Instance.shipped("local"),
        ]
        inst.write()
        self.set_aliases(aliases)
        open_path(self.dir)

    # -- configuration ---------------------------------------------------
    def set_aliases(self, text):
        """Writes the aliases file and builds aliases.db with newaliases
        (bin/sendmail -bi) when it is built, else with db5.3_load in the
        format lib/maps reads (lower-case keys, no NUL)."""
        with open(self.aliases, "w") as f:
            f.write(text)
        db = self.aliases + ".db"
        if self.aliases not in self.inst.conf.get("alias_maps", ""):
            return
        sendmail = program("sendmail")
        if os.access(sendmail, os.X_OK):
            r = subprocess.run([sendmail, "-bi"], capture_output=True,
                               text=True, timeout=scaled(30),
                               env=dict(os.environ,
                                        MAIL_CONFIG=self.inst.config_dir))
            assert r.returncode == 0, r.stderr
            assert os.path.exists(db)
            return
        load_aliases_db(db, text)

    def start(self):
        self.inst.start()
        self.inst.wait_port(self.port)

    # -- addresses and mailboxes -----------------------------------------
    def name(self, short):
        return self.users[short].pw_name

    def addr(self, short):
        return "%s@%s" % (self.users[short].pw_name, MYHOSTNAME)

    def mbox_path(self, short):
        return os.path.join(self.spool, self.users[short].pw_name)

    def maildir_path(self, short):
        return os.path.join(self.users[short].pw_dir, "Maildir")

    def mbox(self, short):
        """The messages of short's spool mbox ([] when there is none)."""
        path = self.mbox_path(short)
        if not os.path.exists(path):
            return []
        return list(mailbox.mbox(path, create=False))

    def maildir(self, short):
        path = self.maildir_path(short)
        if not os.path.isdir(path):
            return []
        return list(mailbox.Maildir(path, factory=None, create=False))

    def messages(self, short):
        """Whatever mailbox short has (Maildir if home_mailbox says so)."""
        if self.inst.conf.get("home_mailbox", "").endswith("/"):
            return self.maildir(short)
        return self.mbox(short)

    def wait_messages(self, short, n, timeout=30):
        """Waits until short's mailbox holds at least n messages."""
        def enough():
            got = self.messages(short)  # one parse a poll
            return got if len(got) >= n else None
        return wait_until(enough, timeout=timeout,
                          what="%d message(s) for %s" % (n, short))

    # -- SMTP ------------------------------------------------------------
    def smtp(self, port=None):
        s = smtplib.SMTP(self.inst.host, port or self.port,
                         timeout=scaled(30))
        s.ehlo("client.test")
        return s

    def send(self, rcpts, message, sender=None, mail_options=(),
             rcpt_options=(), port=None):
        """Sends message (bytes) over SMTP in one session (to port, when
        given, instead of the smtp service's); every recipient must be
        accepted.  Returns the queue id."""
        if sender is None:
            sender = "someone@client.test"
        with self.smtp(port) as s:
            code, text = s.mail(sender, list(mail_options))
            assert code == 250, text
            for r in rcpts:
                code, text = s.rcpt(r, list(rcpt_options))
                assert code == 250, (r, code, text)
            code, text = s.data(message)
            assert code == 250, text
        m = re.search(rb"queued as ([0-9A-Z]+)", text)
        assert m, text
        return m.group(1).decode()

    # -- the log ---------------------------------------------------------
    def wait_removed(self, qid, timeout=30):
        return self.inst.wait_log(r"qmgr\[\d+\]: %s: removed" % qid,
                                  timeout=timeout)

    def deliveries(self, qid, since=0):
        """[(rcpt, status)] of the Postfix-shaped log lines of qid."""
        return re.findall(r"%s: to=<([^>]*)>, .*?status=(\w+)" % qid,
                          self.inst.log(since))

    # -- processes -------------------------------------------------------
    def pids(self, name):
        """Live processes called name among master's children."""
        return [p for p in panacea_test.children_of(self.inst.pid)
                if procfs.name(p) == name]

    def trigger(self, data=b"W"):
        """Writes a request to public/qmgr (lib/qmgr_proto.h)."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.settimeout(scaled(10))
            s.connect(self.inst.socket_path("qmgr", private=False))
            s.sendall(data)
        finally:
            s.close()


def parse(raw):
    """A message parsed with the email package's modern policy."""
    return email.message_from_bytes(raw, policy=email.policy.default)


def mutt_copy(path, home):
    """Opens the mailbox path (mbox, or Maildir when it ends with '/')
    with mutt in batch mode, has it copy every message to an mbox, and
    returns the path of that copy (mutt and script(1) missing: the test
    fails; make deps installs them).  (mutt writes the copy of a Maildir message without ">From "
    quoting: count headers in it rather than parse it.)  home is a folder
    of the caller's: mutt asks a question that would eat the pushed keys
    unless ~/Mail exists."""
    panacea_test.tool("mutt", "mutt")
    panacea_test.tool("script", "bsdutils")
    os.makedirs(os.path.join(home, "Mail"), exist_ok=True)
    out = os.path.join(home, "mutt-copy-%s" % secrets.token_hex(4))
    muttrc = os.path.join(home, "muttrc")
    with open(muttrc, "w") as f:
        f.write("set folder=%s\nset mbox_type=mbox\nset confirmappend=no\n"
                "set confirmcreate=no\nset delete=no\nset move=no\n"
                "set quit=yes\nset wait_key=no\nset mark_old=no\n"
                "set auto_tag=yes\n" % home)
    cmd = ("mutt -n -R -F %s -f %s -e \"push '<tag-pattern>~A<enter>"
           "<tag-prefix><copy-message>%s<enter><quit>'\""
           % (muttrc, path, out))
    subprocess.run(["script", "-qec", cmd, "/dev/null"],
                   env=dict(os.environ, TERM="vt100", HOME=home),
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=scaled(30))
    if not os.path.exists(out):
        raise AssertionError("mutt could not read %s" % path)
    return out
