#!/usr/bin/python3
"""What the integration tests and the benchmarks need from the machine,
and the Debian package that brings each: one table, read by
panacea_test.tool() (a test asks for a program by name and gets its
path) and by the self-check that `make check` runs before any test
(`python3 tests/integration/requirements.py`), which names every missing
program or module on a line of its own.

Why a self-check: a tool that is missing makes the tests that run it
fail one by one, each with its own traceback, long after the build; the
self-check says it once, first, with the package to install.  Why
modules too: a program can be present and still fail at run time for a
package the install skipped (scripts/deps.sh installs without
recommends): swaks without libnet-ssleay-perl answers "TLS not
available" and nothing else.

Every package named here must be in scripts/deps.sh; the self-check
fails when one is not, so the two cannot drift apart.
"""

import glob
import importlib.util
import os
import re
import shutil
import subprocess
import sys

# Programs: name -> (Debian package, path when it is not on PATH).  The
# path matters for programs in /usr/sbin, which an ordinary user's PATH
# lacks.
PROGRAMS = {
    "swaks": ("swaks", None),
    "curl": ("curl", None),
    "mutt": ("mutt", None),
    "script": ("bsdutils", None),
    "fetchmail": ("fetchmail", None),
    "openssl": ("openssl", None),
    "saslpasswd2": ("sasl2-bin", "/usr/sbin/saslpasswd2"),
    "nsd": ("nsd", "/usr/sbin/nsd"),
    "unbound": ("unbound", "/usr/sbin/unbound"),
    "ldns-keygen": ("ldnsutils", None),
    "ldns-signzone": ("ldnsutils", None),
    "postgrey": ("postgrey", "/usr/sbin/postgrey"),
    "fail2ban-regex": ("fail2ban", None),
    "pflogsumm": ("pflogsumm", "/usr/sbin/pflogsumm"),
    "postfix": ("postfix", "/usr/sbin/postfix"),
    "postconf": ("postfix", "/usr/sbin/postconf"),
    "postmap": ("postfix", "/usr/sbin/postmap"),
    "smtp-sink": ("postfix", "/usr/sbin/smtp-sink"),
    "smtp-source": ("postfix", "/usr/sbin/smtp-source"),
    "db5.3_dump": ("db5.3-util", None),
    "db5.3_load": ("db5.3-util", None),
    "db5.3_stat": ("db5.3-util", None),
    "db5.3_verify": ("db5.3-util", None),
    "strace": ("strace", None),
    "gdb": ("gdb", None),
    "readelf": ("binutils", None),
    "useradd": ("passwd", "/usr/sbin/useradd"),
    "userdel": ("passwd", "/usr/sbin/userdel"),
    "ip": ("iproute2", "/usr/sbin/ip"),
    "dovecot": ("dovecot-pop3d", "/usr/sbin/dovecot"),
    "doveadm": ("dovecot-core", "/usr/bin/doveadm"),
    # Dovecot's LMTP server (test_lmtp), started by dovecot itself.
    "dovecot-lmtp": ("dovecot-lmtpd", "/usr/lib/dovecot/lmtp"),
    "dovecot-lda": ("dovecot-core", "/usr/lib/dovecot/dovecot-lda"),
    "policyd-spf": ("postfix-policyd-spf-python", None),
    # test_milter: OpenDKIM as a real mail filter, and its key tool.
    "opendkim": ("opendkim", "/usr/sbin/opendkim"),
    "opendkim-genkey": ("opendkim-tools", "/usr/sbin/opendkim-genkey"),
    "unshare": ("util-linux", None),
    # test_directory: a private PostgreSQL, MariaDB and OpenLDAP server.  Debian
    # keeps PostgreSQL's server programs in a folder named after its
    # version: the path is a pattern, the newest wins.
    "initdb": ("postgresql", "/usr/lib/postgresql/*/bin/initdb"),
    "pg_ctl": ("postgresql", "/usr/lib/postgresql/*/bin/pg_ctl"),
    "psql": ("postgresql-client", None),
    "mariadb-install-db": ("mariadb-server", None),
    "mariadbd": ("mariadb-server", "/usr/sbin/mariadbd"),
    "mariadb": ("mariadb-client", None),
    "slapd": ("slapd", "/usr/sbin/slapd"),
    "slapadd": ("slapd", "/usr/sbin/slapadd"),
    "nsenter": ("util-linux", None),
    # test_dkim: OpenDKIM's own verifier checks what Panacea signs.
    "opendkim-testmsg": ("opendkim-tools", "/usr/sbin/opendkim-testmsg"),
}

# Perl modules a program loads at run time: module -> (package, for what).
PERL_MODULES = {
    "Net::SSLeay": ("libnet-ssleay-perl", "swaks' STARTTLS and TLS"),
}

# Python modules the tests import that are not in the standard library.
PYTHON_MODULES = {
    "pytest": "python3-pytest",
    "yaml": "python3-yaml",
    # make integration: -n 2 --dist loadfile (pytest-xdist).
    "xdist": "python3-pytest-xdist",
    # test_dkim: dkimpy signs and verifies beside Panacea.
    "dkim": "python3-dkim",
    # dkimpy's ed25519-sha256.
    "nacl": "python3-nacl",
}

# Data files: path -> (Debian package, for what).
DATA_FILES = {
    "/usr/share/publicsuffix/public_suffix_list.dat":
        ("publicsuffix", "DMARC's organisational domains: test_dmarc, "
         "smtpd_dmarc_public_suffix_list"),
}

# Packages that come with Debian's base system (essential or required):
# deps.sh need not list them.
BASE_PACKAGES = {"passwd", "bsdutils", "util-linux"}


def find(name):
    """The path of program name, or None."""
    package, path = PROGRAMS[name]
    found = shutil.which(name)
    if found is None and path is not None:
        # A pattern: the last match in version order.
        for p in sorted(glob.glob(path), key=_version_key, reverse=True):
            if os.access(p, os.X_OK):
                return p
    return found


def _version_key(path):
    return [int(n) if n.isdigit() else n for n in re.split(r"(\d+)", path)]


def perl_has(module):
    if shutil.which("perl") is None:
        return False
    return subprocess.run(["perl", "-M" + module, "-e", "1"],
                          stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


def deps_packages(path):
    """The package names scripts/deps.sh installs (its *_PKGS
    variables)."""
    with open(path) as f:
        text = f.read()
    names = set()
    for m in re.finditer(r'^[A-Z_]+_PKGS="([^"]*)"', text, re.M):
        names.update(m.group(1).replace("\\\n", " ").split())
    return names


def problems(deps_sh):
    """One line for each thing that is missing or not installable."""
    out = []
    for name in sorted(PROGRAMS):
        if find(name) is None:
            out.append("program %s is missing (Debian package %s)"
                       % (name, PROGRAMS[name][0]))
    for module, (package, why) in sorted(PERL_MODULES.items()):
        if not perl_has(module):
            out.append("Perl module %s is missing (Debian package %s; %s)"
                       % (module, package, why))
    for module, package in sorted(PYTHON_MODULES.items()):
        if importlib.util.find_spec(module) is None:
            out.append("Python module %s is missing for %s (Debian "
                       "package %s)" % (module, sys.executable, package))
    for path, (package, why) in sorted(DATA_FILES.items()):
        if not os.path.exists(path):
            out.append("file %s is missing (Debian package %s; %s)"
                       % (path, package, why))
    listed = deps_packages(deps_sh)
    wanted = {p for p, _ in PROGRAMS.values()}
    wanted |= {p for p, _ in PERL_MODULES.values()}
    wanted |= set(PYTHON_MODULES.values())
    wanted |= {p for p, _ in DATA_FILES.values()}
    for package in sorted(wanted - listed - BASE_PACKAGES):
        out.append("package %s is needed by the tests but not installed "
                   "by scripts/deps.sh" % package)
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    deps_sh = os.path.join(here, "..", "..", "scripts", "deps.sh")
    lines = problems(deps_sh)
    if os.geteuid() != 0:
        lines.append("not root: make check runs the integration tests as "
                     "root (daemons change ids, chroot, add users)")
    for line in lines:
        print("self-check: " + line)
    if lines:
        print("self-check: %d problem(s); `make deps` as root installs "
              "the packages" % len(lines))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
