"""dovecot_lmtp - a private Dovecot LMTP server for the lmtp tests.

Dovecot (Debian's dovecot-core and dovecot-lmtpd) with its own config
file, base_dir, state and log in one folder, as bench/pop3's Dovecot
for POP3: nothing system-wide is read or changed.  It speaks LMTP on a
UNIX-domain socket (a path the test gives: Panacea's private/ folder,
where Postfix installations put private/dovecot-lmtp) and on one
loopback address and port.  Users come from a passwd-file userdb (name,
the uid and gid of one account, a home under the folder); a recipient
is looked up by its local part (auth_username_format = %Ln), so
user@any.domain reaches user and an unknown name gets Dovecot's
"550 5.1.1 ... User doesn't exist".  Each user's mail is a Maildir in
its home, read back through Dovecot's own doveadm (fetch()) or from the
files (messages()).  The users in full have a quota of one byte: Dovecot
accepts them at RCPT and refuses their copy after the final dot.
"""

import os
import re
import signal
import subprocess

from panacea_test import (can_connect, free_port, pick_loopback, pid_alive,
                          scaled, tool, wait_until)

CONF = """\
# tests/integration/dovecot_lmtp.py: a private Dovecot (dovecot -c {conf})
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
info_log_path = {dir}/dovecot.log
protocols = lmtp
listen = {host}
ssl = no
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:~/Maildir
auth_username_format = %Ln
lmtp_save_to_detail_mailbox = no
# Quota: a user of the quota list gets a userdb rule of a few bytes, so
# that Dovecot refuses its copy after the final dot (552 5.2.2), which
# is where LMTP answers for each recipient alone.
mail_plugins = quota
plugin {{
  quota = maildir:User quota
}}
passdb {{
  driver = passwd-file
  args = {dir}/users
}}
userdb {{
  driver = passwd-file
  args = {dir}/users
}}
service lmtp {{
  unix_listener {socket} {{
    mode = 0600
    user = {socket_owner}
  }}
  inet_listener lmtp {{
    address = {host}
    port = {port}
  }}
}}
"""


class DovecotLmtp:
    """Dovecot's LMTP server in folder base for users (names), all of
    them stored as account (a pwd entry); its socket at socket_path,
    owned by socket_owner (a name)."""

    def __init__(self, base, users, account, socket_path, socket_owner,
                 full=()):
        self.dir = str(base)
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.dovecot = tool("dovecot")
        self.doveadm = tool("doveadm")
        self.account = account
        self.socket = socket_path
        self.host = pick_loopback()
        self.port = free_port(self.host)
        self.conf = os.path.join(self.dir, "dovecot.conf")
        self.homes = os.path.join(self.dir, "home")
        os.makedirs(self.homes, exist_ok=True)
        os.chmod(self.homes, 0o755)
        with open(os.path.join(self.dir, "users"), "w") as f:
            for name in users:
                home = self.home(name)
                os.makedirs(home, exist_ok=True)
                os.chown(home, account.pw_uid, account.pw_gid)
                extra = ("userdb_quota_rule=*:storage=1B" if name in full
                         else "")
                f.write("%s::%d:%d::%s::%s\n" % (name, account.pw_uid,
                                                 account.pw_gid, home,
                                                 extra))
        with open(self.conf, "w") as f:
            f.write(CONF.format(conf=self.conf, dir=self.dir, host=self.host,
                                port=self.port, socket=socket_path,
                                socket_owner=socket_owner))
        self.started = False

    def home(self, name):
        return os.path.join(self.homes, name)

    def master_pid(self):
        try:
            with open(os.path.join(self.dir, "run", "master.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def start(self):
        out = os.path.join(self.dir, "dovecot.stderr")
        self.started = True
        with open(out, "wb") as f:
            # Its own session: stop() ends the process group.
            r = subprocess.run([self.dovecot, "-c", self.conf],
                               stdin=subprocess.DEVNULL, stdout=f, stderr=f,
                               timeout=scaled(60), start_new_session=True)
        if r.returncode != 0:
            with open(out, errors="replace") as f:
                raise RuntimeError("dovecot -c %s: %s" % (self.conf,
                                                         f.read()))
        wait_until(self.master_pid, timeout=30, what="Dovecot master.pid")
        wait_until(lambda: can_connect(self.host, self.port), timeout=30,
                   what="Dovecot LMTP on %s:%d" % (self.host, self.port))
        wait_until(lambda: os.path.exists(self.socket), timeout=30,
                   what="Dovecot's LMTP socket %s" % self.socket)

    def stop(self):
        """SIGTERM to Dovecot's master (what "dovecot stop" sends, without
        its wait of seconds for the last log lines), then its whole
        process group, so nothing of it outlives the module."""
        if not self.started:
            return
        self.started = False
        pid = self.master_pid()
        if not pid:
            return
        try:
            os.kill(pid, signal.SIGTERM)
            wait_until(lambda: not pid_alive(pid), timeout=10,
                       what="Dovecot to stop")
        except (ProcessLookupError, AssertionError):
            pass
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    # -- mail ------------------------------------------------------------
    def messages(self, name):
        """The raw messages of name's Maildir (new/ and cur/), oldest
        first by file name."""
        found = []
        for sub in ("new", "cur"):
            d = os.path.join(self.home(name), "Maildir", sub)
            if os.path.isdir(d):
                found += [os.path.join(d, f) for f in os.listdir(d)]
        out = []
        for path in sorted(found, key=os.path.basename):
            with open(path, "rb") as f:
                out.append(f.read())
        return out

    def wait_messages(self, name, n, timeout=20):
        return wait_until(lambda: (len(self.messages(name)) >= n
                                   and self.messages(name)),
                          timeout=timeout,
                          what="%d message(s) in %s's Dovecot mailbox"
                          % (n, name))

    def fetch(self, name, field="text"):
        """What Dovecot itself reads in name's INBOX (doveadm fetch)."""
        r = subprocess.run([self.doveadm, "-c", self.conf, "fetch", "-u",
                            name, field, "mailbox", "INBOX", "all"],
                           capture_output=True, timeout=scaled(30))
        assert r.returncode == 0, r.stderr
        return r.stdout

    def log(self):
        try:
            with open(os.path.join(self.dir, "dovecot.log"),
                      errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_count(self, pattern):
        return len(re.findall(pattern, self.log()))
