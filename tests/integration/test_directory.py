"""Directory tables: pgsql:, mysql: and ldap: (lib/mail/map_pgsql.c,
map_mysql.c, map_ldap.c) against a real PostgreSQL, MariaDB and
OpenLDAP slapd, each started once for the module in its own temporary
data directory on a loopback port (initdb and mariadb-install-db are
the slow part: one server of each for every test here).

Through panmap -q: lookups with Postfix's configuration files
(pgsql_table(5), ldap_table(5)), %-expansions, result_format, domain,
expansion_limit, hostile keys (SQL quotes, backslashes, '%', LDAP filter
metacharacters) that must neither match nor break the query, and a
server that is down (exit 75, a temporary failure, never "not found").
Through a chrooted smtpd and the proxymap service (proxy:pgsql:,
proxy:ldap:): local_recipient_maps gives 250/550 and
check_recipient_access the database's action, a server that is down
451 4.3.0 for either; the jailed smtpd never loads the client libraries (it holds
neither the configuration file nor the password), proxymap does; a
connection the server drops is made again.  (mysql: is tested through
panmap only: proxymap's side is the same for every type.)
Two Panacea hosts sharing this PostgreSQL and one Dovecot LMTP server
(DESIGN.md, "Two hosts, one directory"): mail given to either arrives
once, and a user inserted into the database receives mail on both
without a restart.
"""

import os
import pwd
import re
import signal
import socket
import subprocess

import pytest

import panacea_test
import procfs
from panacea_test import (Instance, fixture, free_port, open_path, program,
                          tool)
from dovecot_lmtp import DovecotLmtp
from smtp_helpers import (MAIL_OWNER, MYHOSTNAME, Session, base_conf,
                          smtpd_setup)

HOST = "127.0.0.1"
DB_USER, DB_PASSWORD = "mailreader", "s3cret'pw"

SCHEMA = r"""
CREATE TABLE users (address text PRIMARY KEY, maildir text);
CREATE TABLE aliases (address text, goto text);
INSERT INTO users VALUES
  ('joe@example.com', 'example.com/joe/'),
  ('o''brien@example.com', 'example.com/obrien/'),
  ('back\slash@example.com', 'example.com/backslash/'),
  ('100%@example.com', 'example.com/percent/'),
  ('nulluser@example.com', NULL),
  ('known', 'local/known/');
INSERT INTO aliases VALUES
  ('list@example.com', 'a@example.net'),
  ('list@example.com', 'b@example.net'),
  ('list@example.com', ''),
  ('list@example.com', 'c@example.net');
CREATE TABLE access (k text PRIMARY KEY, action text);
INSERT INTO access VALUES
  ('blocked@panacea.test', 'REJECT blocked by the directory');
CREATE ROLE mailreader LOGIN PASSWORD 's3cret''pw';
GRANT SELECT ON users, aliases, access TO mailreader;
"""

LDIF = """\
dn: dc=example,dc=com
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: cn=reader,dc=example,dc=com
objectClass: person
cn: reader
sn: reader
userPassword: readpw

dn: ou=people,dc=example,dc=com
objectClass: organizationalUnit
ou: people

dn: uid=joe,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: joe
cn: Joe
sn: Joe
mail: joe@example.com
mail: joe.alias@example.com
description: joe@mailhost.example

dn: uid=star,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: star
cn: Star
sn: Star
mail: s*r@example.com
description: star@mailhost.example

dn: uid=known,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: known
cn: Known
sn: Known
mail: known
description: known@mailhost.example
employeeType: forward@elsewhere.example
"""

SLAPD_CONF = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {dir}/slapd.pid
database mdb
maxsize 10485760
suffix "dc=example,dc=com"
rootdn "cn=admin,dc=example,dc=com"
rootpw adminpw
directory {dir}/db
access to * by dn.exact="cn=reader,dc=example,dc=com" read
  by anonymous auth by * none
"""


def write_cf(path, text, mode=0o644):
    path.write_text(text)
    os.chmod(path, mode)
    return str(path)


def panmap_q(key, spec, env=None):
    return subprocess.run([program("panmap"), "-q", key, spec],
                          capture_output=True, text=True, env=env)


def expect(spec, found=None, missing=()):
    """found (key: value) are found and missing keys are not, asked by
    one panmap (-q -: a lookup costs a process start and a connection
    otherwise)."""
    found = found or {}
    keys = list(found) + list(missing)
    q = subprocess.run([program("panmap"), "-q", "-", spec],
                       input="".join(k + "\n" for k in keys),
                       capture_output=True, text=True)
    assert q.returncode == (0 if found else 1), (keys, q.stderr)
    got = dict(line.split("\t", 1) for line in q.stdout.splitlines())
    assert got == found, q.stderr


def expect_found(spec, key, value):
    expect(spec, {key: value})


def expect_missing(spec, *keys):
    expect(spec, missing=keys)


# -- the servers -----------------------------------------------------------

class Postgres:
    def __init__(self, base, runas):
        self.base, self.runas = base, runas
        self.data = os.path.join(base, "data")
        self.port = free_port(HOST)

    def as_owner(self, *argv, **kw):
        return subprocess.run(["runuser", "-u", self.runas, "--"]
                              + list(argv), check=True,
                              capture_output=True, text=True, **kw)

    def start(self):
        self.as_owner(tool("pg_ctl"), "-D", self.data, "-w", "-t", "60",
                      "-l", os.path.join(self.base, "log"), "-o",
                      "-k %s -p %d -c listen_addresses=%s -F "
                      "-c max_connections=30" % (self.base, self.port, HOST),
                      "start")

    def stop(self):
        subprocess.run(["runuser", "-u", self.runas, "--", tool("pg_ctl"),
                        "-D", self.data, "-m", "immediate", "-w", "stop"],
                       capture_output=True)

    def sql(self, text):
        return self.as_owner(tool("psql"), "-h", self.base, "-p",
                             str(self.port), "-U", "pg", "-d", "postgres",
                             "-v", "ON_ERROR_STOP=1", "-qAt", "-c",
                             text).stdout


def init_done(proc, what):
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, "%s failed: %s%s" % (what, out, err)


@pytest.fixture(scope="module")
def db_inits(tmp_path_factory):
    """The two slow steps, initdb and mariadb-install-db, started side
    by side as soon as either server is wanted (most of their time is
    waiting, not CPU)."""
    if os.geteuid() != 0:
        pytest.skip("needs root: the databases run as another user")
    runas = "nobody"
    bases = [str(tmp_path_factory.mktemp(n)) for n in ("pg", "my")]
    for base in bases:
        os.chown(base, pwd.getpwnam(runas).pw_uid, -1)
        open_path(base)
    pg, db = Postgres(bases[0], runas), MariaDB(bases[1], runas)
    run = ["runuser", "-u", runas, "--"]
    procs = {
        "initdb": subprocess.Popen(
            run + [tool("initdb"), "-D", pg.data, "-U", "pg", "--no-sync",
                   "-E", "UTF8", "--locale=C", "--auth-local=trust",
                   "--auth-host=scram-sha-256"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
        "mariadb-install-db": subprocess.Popen(
            run + [tool("mariadb-install-db")] + db.opts
            + ["--auth-root-authentication-method=normal",
               "--skip-test-db"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
    }
    try:
        yield pg, db, procs
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()


@pytest.fixture(scope="module")
def postgres(db_inits):
    pg, _, procs = db_inits
    init_done(procs["initdb"], "initdb")
    pg.start()
    try:
        pg.sql(SCHEMA)
        yield pg
    finally:
        pg.stop()


@pytest.fixture(scope="module")
def slapd(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("needs root")
    base = tmp_path_factory.mktemp("ldap")
    (base / "db").mkdir()
    conf = base / "slapd.conf"
    conf.write_text(SLAPD_CONF.format(dir=base))
    (base / "data.ldif").write_text(LDIF)
    subprocess.run([tool("slapadd"), "-q", "-f", str(conf), "-l",
                    str(base / "data.ldif")], check=True,
                   capture_output=True)
    port = free_port(HOST)
    subprocess.run([tool("slapd"), "-f", str(conf), "-h",
                    "ldap://%s:%d/" % (HOST, port)], check=True)
    pid = int(panacea_test.wait_until(
        lambda: (base / "slapd.pid").exists()
        and (base / "slapd.pid").read_text().strip(), what="slapd.pid"))
    try:
        panacea_test.wait_until(lambda: panacea_test.can_connect(HOST, port),
                                what="slapd listening")
        yield port
    finally:
        os.kill(pid, signal.SIGTERM)
        panacea_test.wait_until(lambda: not panacea_test.pid_alive(pid),
                                what="slapd gone")


MYSQL_SCHEMA = r"""
CREATE DATABASE mail;
USE mail;
CREATE TABLE users (address VARCHAR(255) PRIMARY KEY, maildir TEXT);
INSERT INTO users VALUES
  ('joe@example.com', 'example.com/joe/'),
  ('o''brien@example.com', 'example.com/obrien/'),
  ('back\\slash@example.com', 'example.com/backslash/'),
  ('100%@example.com', 'example.com/percent/'),
  ('nulluser@example.com', NULL);
DELIMITER //
CREATE PROCEDURE lookup(IN k VARCHAR(255)) READS SQL DATA
  SQL SECURITY INVOKER
  BEGIN SELECT maildir FROM users WHERE address = k; END //
DELIMITER ;
CREATE USER 'mailreader'@'127.0.0.1' IDENTIFIED BY 's3cret''pw';
GRANT SELECT, EXECUTE ON mail.* TO 'mailreader'@'127.0.0.1';
"""


class MariaDB:
    def __init__(self, base, runas):
        self.base, self.runas = base, runas
        self.data = os.path.join(base, "data")
        self.socket = os.path.join(base, "sock")
        self.port = free_port(HOST)
        self.proc = None
        # Small and unsynced: a test server, started once per module.
        self.opts = ["--no-defaults", "--datadir=" + self.data,
                     "--skip-name-resolve", "--innodb-buffer-pool-size=16M",
                     "--innodb-log-file-size=4M",
                     "--innodb-flush-method=nosync"]

    def start(self):
        # Started as root with --user, mariadbd drops to runas itself:
        # self.proc is the server, which stop() can kill outright.
        self.proc = subprocess.Popen(
            [tool("mariadbd")] + self.opts
            + ["--user=" + self.runas, "--socket=" + self.socket,
                           "--port=%d" % self.port, "--bind-address=" + HOST,
                           "--log-error=" + os.path.join(self.base, "log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        panacea_test.wait_until(
            lambda: self.proc.poll() is not None
            or panacea_test.can_connect(HOST, self.port), timeout=60,
            what="mariadbd listening")
        assert self.proc.poll() is None, open(
            os.path.join(self.base, "log")).read()

    def stop(self):
        # Its data is thrown away: no clean shutdown needed.
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=60)

    def sql(self, text):
        return subprocess.run([tool("mariadb"), "--no-defaults", "-S",
                               self.socket, "-u", "root"], input=text,
                              check=True, capture_output=True,
                              text=True).stdout


@pytest.fixture(scope="module")
def mariadb(db_inits):
    _, db, procs = db_inits
    init_done(procs["mariadb-install-db"], "mariadb-install-db")
    db.start()
    try:
        db.sql(MYSQL_SCHEMA)
        yield db
    finally:
        db.stop()


def pg_cf(tmp_path, name, pg, query, extra="", port=None):
    return write_cf(tmp_path / name, (
        "# written as for Postfix\n"
        "hosts = inet:%s:%d\n"
        "user = %s\n"
        "password = %s\n"
        "dbname = postgres\n"
        "query = %s\n%s") % (HOST, port or pg.port, DB_USER, DB_PASSWORD,
                             query, extra))


def ldap_cf(tmp_path, name, port, extra=""):
    return write_cf(tmp_path / name, (
        "server_host = %s\n"
        "server_port = %d\n"
        "search_base = ou=people, dc=example, dc=com\n"
        "bind_dn = cn=reader,dc=example,dc=com\n"
        "bind_pw = readpw\n%s") % (HOST, port, extra))


# -- pgsql: through panmap -------------------------------------------------

def test_pgsql_lookups(postgres, tmp_path):
    spec = "pgsql:" + pg_cf(tmp_path, "users.cf", postgres,
                            "SELECT maildir FROM users WHERE address='%s'")
    # Keys are folded, as for Postfix's SQL tables; a NULL or empty
    # value is not found.  Hostile keys are quoted, so each matches
    # itself or nothing.
    expect(spec, {
        "joe@example.com": "example.com/joe/",
        "JOE@Example.COM": "example.com/joe/",
        "o'brien@example.com": "example.com/obrien/",
        "back\\slash@example.com": "example.com/backslash/",
        "100%@example.com": "example.com/percent/",
    }, ["nobody@example.com", "nulluser@example.com", "x' OR '1'='1",
        "x'; DROP TABLE users; --", "joe@example.com' --", "%s", "%",
        "\\'", "a" * 1012 + "@example.com"])
    assert postgres.sql("SELECT count(*) FROM users") == "6\n"
    # A key at the limit is asked (above); one over it is an error, not
    # a miss.
    q = panmap_q("a" * 1013 + "@example.com", spec)
    assert q.returncode == 75 and "too long" in q.stderr, q.stderr


def test_pgsql_expansions_and_results(postgres, tmp_path):
    parts = "pgsql:" + pg_cf(
        tmp_path, "parts.cf", postgres,
        "SELECT maildir FROM users WHERE address = '%u' || '@' || '%2.%1'",
        "result_format = /var/vmail/%s (for %U at %D)\n")
    # %1 and %2 need a domain: an unqualified key is not asked.
    expect(parts, {"joe@example.com":
                   "/var/vmail/example.com/joe/ (for joe at example.com)"},
           ["known"])
    multi = "pgsql:" + pg_cf(
        tmp_path, "aliases.cf", postgres,
        "SELECT goto FROM aliases WHERE address='%s' ORDER BY goto")
    expect_found(multi, "list@example.com",
                 "a@example.net,b@example.net,c@example.net")
    # Columns and rows both count; %d of a value; expansion_limit.
    cols = "pgsql:" + pg_cf(
        tmp_path, "cols.cf", postgres,
        "SELECT goto, 'x@' || upper(goto) FROM aliases WHERE "
        "address='%s' ORDER BY goto", "result_format = %d\n")
    expect_found(cols, "list@example.com", ",".join(
        ["example.net", "EXAMPLE.NET"] * 3))
    limited = "pgsql:" + pg_cf(
        tmp_path, "limited.cf", postgres,
        "SELECT goto FROM aliases WHERE address='%s'",
        "expansion_limit = 2\n")
    q = panmap_q("list@example.com", limited)
    assert q.returncode == 75 and "expansion_limit" in q.stderr, q.stderr
    # domain: only user@listed-domain keys are asked.
    dom = "pgsql:" + pg_cf(
        tmp_path, "dom.cf", postgres,
        "SELECT maildir FROM users WHERE address='%s'",
        "domain = example.org\n")
    expect_missing(dom, "joe@example.com")
    # A query the server refuses is an error, not "not found".
    bad = "pgsql:" + pg_cf(tmp_path, "bad.cf", postgres,
                           "SELECT nosuchcolumn FROM users WHERE "
                           "address='%s'")
    q = panmap_q("joe@example.com", bad)
    assert q.returncode == 75 and "nosuchcolumn" in q.stderr, q.stderr


def test_pgsql_server_down_or_refusing(postgres, tmp_path):
    down = "pgsql:" + pg_cf(tmp_path, "down.cf", postgres,
                            "SELECT maildir FROM users WHERE address='%s'",
                            port=free_port(HOST))
    q = panmap_q("joe@example.com", down)
    assert q.returncode == 75 and "cannot connect" in q.stderr, q.stderr
    wrong = "pgsql:" + write_cf(tmp_path / "wrong.cf", (
        "hosts = %s:%d\nuser = mailreader\npassword = wrong\n"
        "dbname = postgres\nquery = SELECT 1\n") % (HOST, postgres.port))
    q = panmap_q("joe@example.com", wrong)
    assert q.returncode == 75 and "password" in q.stderr, q.stderr
    # Several hosts: a dead one is passed over.
    two = "pgsql:" + write_cf(tmp_path / "two.cf", (
        "hosts = %s:%d inet:%s:%d\nuser = %s\npassword = %s\n"
        "dbname = postgres\n"
        "query = SELECT maildir FROM users WHERE address='%%s'\n")
        % (HOST, free_port(HOST), HOST, postgres.port, DB_USER, DB_PASSWORD))
    for _ in range(2):
        expect_found(two, "joe@example.com", "example.com/joe/")


# -- mysql: through panmap -------------------------------------------------

def my_cf(tmp_path, name, db, query, extra="", port=None):
    return write_cf(tmp_path / name, (
        "hosts = inet:%s:%d\nuser = %s\npassword = %s\ndbname = mail\n"
        "query = %s\n%s") % (HOST, port or db.port, DB_USER, DB_PASSWORD,
                             query, extra))


def test_mysql_lookups(mariadb, tmp_path):
    spec = "mysql:" + my_cf(tmp_path, "users.cf", mariadb,
                            "SELECT maildir FROM users WHERE address='%s'")
    # Hostile keys are quoted by mysql_real_escape_string: each matches
    # itself or nothing.
    expect(spec, {
        "joe@example.com": "example.com/joe/",
        "JOE@Example.COM": "example.com/joe/",
        "o'brien@example.com": "example.com/obrien/",
        "back\\slash@example.com": "example.com/backslash/",
        "100%@example.com": "example.com/percent/",
    }, ["nobody@example.com", "nulluser@example.com", "x' OR '1'='1",
        "x'; DROP TABLE users; -- ", "\\'", "%", "%s"])
    assert mariadb.sql("SELECT count(*) FROM mail.users") == \
        "count(*)\n5\n"
    # A stored procedure, as Postfix 3.2 allows; a statement without a
    # result set is an error unless require_result_set = no.
    call = "mysql:" + my_cf(tmp_path, "call.cf", mariadb,
                            "CALL lookup('%s')",
                            "result_format = /var/vmail/%s\n")
    expect(call, {"joe@example.com": "/var/vmail/example.com/joe/"},
           ["nobody@example.com"])
    noset = my_cf(tmp_path, "noset.cf", mariadb, "DO '%s'")
    q = panmap_q("joe@example.com", "mysql:" + noset)
    assert q.returncode == 75 and "no result set" in q.stderr, q.stderr
    with open(noset, "a") as f:
        f.write("require_result_set = no\n")
    expect_missing("mysql:" + noset, "joe@example.com")


def test_mysql_server_down_or_refusing(mariadb, tmp_path):
    down = "mysql:" + my_cf(tmp_path, "down.cf", mariadb, "SELECT 1",
                            port=free_port(HOST))
    q = panmap_q("joe@example.com", down)
    assert q.returncode == 75 and "cannot connect" in q.stderr, q.stderr
    wrong = "mysql:" + write_cf(tmp_path / "wrong.cf", (
        "hosts = %s:%d\nuser = mailreader\npassword = wrong\n"
        "dbname = mail\nquery = SELECT 1\n") % (HOST, mariadb.port))
    q = panmap_q("joe@example.com", wrong)
    assert q.returncode == 75 and "denied" in q.stderr, q.stderr
    tls = "mysql:" + write_cf(tmp_path / "tls.cf", (
        "hosts = %s:%d\nquery = SELECT 1\ntls_CAfile = /etc/ca.pem\n")
        % (HOST, mariadb.port))
    q = panmap_q("joe@example.com", tls)
    assert q.returncode == 65 and "tls_CAfile" in q.stderr, q.stderr


# -- a connection and fork -------------------------------------------------

def test_a_forked_child_makes_its_own_connection(postgres, mariadb,
                                                 tmp_path):
    """The tables keep a connection; a child forked after a lookup must
    neither use its parent's session nor end it when it closes the table
    (pan-mapfork: lookup, fork, lookup and close in the child, lookup in
    the parent).  The value is the server's id of the session."""
    specs = [
        "pgsql:" + pg_cf(tmp_path, "pid.cf", postgres,
                         "SELECT pg_backend_pid()::text WHERE '%s' <> ''"),
        "mysql:" + my_cf(tmp_path, "pid-my.cf", mariadb,
                         "SELECT CONNECTION_ID() FROM DUAL WHERE "
                         "'%s' <> ''"),
    ]
    for spec in specs:
        run = subprocess.run([fixture("pan-mapfork"), spec, "key"],
                             capture_output=True, text=True)
        assert run.returncode == 0, (spec, run.stderr)
        parent, child, parent_again = run.stdout.split()
        assert child != parent, (spec, run.stdout)
        assert parent_again == parent, (spec, run.stdout)


# -- ldap: through panmap --------------------------------------------------

def test_ldap_lookups(slapd, tmp_path):
    spec = "ldap:" + ldap_cf(tmp_path, "l.cf", slapd,
                             "query_filter = (mail=%s)\n"
                             "result_attribute = description\n")
    # Filter metacharacters in the key are data: '*' matches only an
    # address with a '*' in it, parentheses cannot add a clause.
    expect(spec, {
        "joe@example.com": "joe@mailhost.example",
        "JOE.Alias@example.com": "joe@mailhost.example",
        "s*r@example.com": "star@mailhost.example",
    }, ["nobody@example.com", "*", "j*@example.com", "*)(uid=joe",
        "x)(|(mail=*", "joe@example.com)(mail=*", "\\2a"])
    # %u in the filter, a result_format, terminal_result_attribute, a
    # search base with the key in it and scope base.
    fmt = "ldap:" + ldap_cf(tmp_path, "fmt.cf", slapd,
                            "query_filter = (uid=%u)\n"
                            "result_attribute = description\n"
                            "result_format = smtp:[%d] for %U\n")
    expect_found(fmt, "joe@example.com", "smtp:[mailhost.example] for joe")
    term = "ldap:" + ldap_cf(tmp_path, "term.cf", slapd,
                             "query_filter = (uid=%s)\n"
                             "result_attribute = description\n"
                             "terminal_result_attribute = employeeType\n")
    expect(term, {"known": "forward@elsewhere.example",
                  "joe": "joe@mailhost.example"})
    base = "ldap:" + write_cf(tmp_path / "base.cf", (
        "server_host = ldap://%s:%d\n"
        "search_base = uid=%%u, ou=people, dc=example, dc=com\n"
        "scope = base\nquery_filter = (objectClass=*)\n"
        "result_attribute = mail\n"
        "bind_dn = cn=reader,dc=example,dc=com\nbind_pw = readpw\n")
        % (HOST, slapd))
    # A DN metacharacter in the key cannot reach another entry; a base
    # that does not exist is "not found".
    expect(base, {"joe": "joe@example.com,joe.alias@example.com"},
           ["joe,ou=people", "nobody"])
    limited = "ldap:" + ldap_cf(tmp_path, "lim.cf", slapd,
                                "query_filter = (uid=%s)\n"
                                "result_attribute = mail\n"
                                "expansion_limit = 1\n")
    q = panmap_q("joe", limited)
    assert q.returncode == 75, q


def test_ldap_server_down_or_refusing(slapd, tmp_path):
    down = "ldap:" + ldap_cf(tmp_path, "down.cf", free_port(HOST),
                             "query_filter = (mail=%s)\n")
    q = panmap_q("joe@example.com", down)
    assert q.returncode == 75 and "Can't contact" in q.stderr, q.stderr
    wrong = "ldap:" + write_cf(tmp_path / "wrong.cf", (
        "server_host = %s:%d\nsearch_base = dc=example,dc=com\n"
        "bind_dn = cn=reader,dc=example,dc=com\nbind_pw = wrong\n")
        % (HOST, slapd))
    q = panmap_q("joe@example.com", wrong)
    assert q.returncode == 75 and "bind failed" in q.stderr, q.stderr
    # bind = no: an anonymous search, which this directory's access
    # rules refuse: an error, never "not found" (a wrong ACL must not
    # make users unknown).
    anon = "ldap:" + write_cf(tmp_path / "anon.cf", (
        "server_host = %s:%d\nsearch_base = dc=example,dc=com\n"
        "query_filter = (mail=%%s)\nresult_attribute = uid\nbind = no\n")
        % (HOST, slapd))
    q = panmap_q("joe@example.com", anon)
    assert q.returncode == 75 and "Insufficient access" in q.stderr, \
        q.stderr


# -- through a chrooted smtpd and proxymap ---------------------------------

def smtpd_with_directories(instance, tmp_path, postgres, slapd):
    """smtpd (chrooted) on five ports, every table through proxy::
    local_recipient_maps from PostgreSQL (with check_recipient_access
    from it too), from LDAP, and each from a server that is down; and
    check_recipient_access from a PostgreSQL that is down.  The
    configuration files are mail_owner's, mode 0600: only proxymap reads
    them."""
    owner = panacea_test.ensure_mail_owner(MAIL_OWNER)
    pw = pwd.getpwnam(owner)
    query = "SELECT maildir FROM users WHERE address='%u'"
    access = "SELECT action FROM access WHERE k='%s'"
    dead = free_port(HOST)
    cfs = [pg_cf(tmp_path, "rcpt.cf", postgres, query),
           ldap_cf(tmp_path, "rcpt-ldap.cf", slapd,
                   "query_filter = (mail=%u)\n"
                   "result_attribute = description\n"),
           pg_cf(tmp_path, "rcpt-down.cf", postgres, query, port=dead),
           ldap_cf(tmp_path, "rcpt-ldap-down.cf", dead,
                   "query_filter = (mail=%u)\n"),
           pg_cf(tmp_path, "access.cf", postgres, access),
           pg_cf(tmp_path, "access-down.cf", postgres, access, port=dead)]
    for cf in cfs:
        os.chown(cf, pw.pw_uid, pw.pw_gid)
        os.chmod(cf, 0o600)
    open_path(str(tmp_path))
    tables = ["proxy:pgsql:" + cfs[0], "proxy:ldap:" + cfs[1],
              "proxy:pgsql:" + cfs[2], "proxy:ldap:" + cfs[3],
              "proxy:pgsql:" + cfs[4], "proxy:pgsql:" + cfs[5]]
    ports = instance.ports(4)
    args = ["-o local_recipient_maps=" + t for t in tables[1:4]]
    args.append("-o smtpd_recipient_restrictions=check_recipient_access,"
                + tables[5])
    services = [Instance.service("proxymap", "proxymap", type_="unix",
                                 unpriv="-", chroot="n")]
    for p, a in zip(ports, args):
        services.append(Instance.shipped("smtp", "inet", p, chroot="y",
                                         args=a))
    port = smtpd_setup(instance, owner, conf={
        "local_recipient_maps": tables[0],
        "smtpd_recipient_restrictions":
            "check_recipient_access " + tables[4],
        "proxy_read_maps": " ".join(tables)}, services=services)
    for p in ports:
        instance.wait_port(p)
    return [port] + ports


def rcpt_codes(instance, port, rcpts):
    out = []
    with Session(instance.host, port) as s:
        s.expect("EHLO client.test", 250)
        s.expect("MAIL FROM:<a@example.org>", 250)
        for r in rcpts:
            s.send(("RCPT TO:<%s@%s>\r\n" % (r, MYHOSTNAME)).encode())
            out.append(s.reply())
    return out


def test_smtpd_through_proxymap(instance, tmp_path, postgres, slapd):
    pg_port, ldap_port, pg_down, ldap_down, access_down = \
        smtpd_with_directories(instance, tmp_path, postgres, slapd)
    known, unknown, blocked = rcpt_codes(instance, pg_port,
                                         ["known", "stranger", "blocked"])
    assert known.code == 250, known
    assert unknown.code == 550 and "5.1.1" in unknown.text, unknown
    # check_recipient_access: the action comes from the database.
    assert blocked.code == 554 and "blocked by the directory" in \
        blocked.text, blocked
    known, unknown = rcpt_codes(instance, ldap_port, ["known", "stranger"])
    assert known.code == 250, known
    assert unknown.code == 550, unknown
    # A directory that is down: try again later, never "unknown user".
    # So is an access table that cannot be asked.
    for port in (pg_down, ldap_down, access_down):
        (reply,) = rcpt_codes(instance, port, ["known"])
        assert reply.code == 451 and "4.3.0" in reply.text, (port, reply)
    # The jailed smtpds never loaded a client library (nor read the
    # password); proxymap did.
    libs = {}
    for pid in instance.children():
        comm = procfs.comm(pid)
        try:
            with open("/proc/%d/maps" % pid) as f:
                maps = f.read()
        except OSError:
            continue
        libs.setdefault(comm, []).append(
            ("libpq" in maps, "libldap" in maps))
    assert libs.get("smtpd") and all(
        m == (False, False) for m in libs["smtpd"]), libs
    assert any(pq and ld for pq, ld in libs.get("proxymap", [])), libs
    # The server ends every Panacea connection (as a restart does): the
    # next lookup connects again and answers.
    postgres.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                 "WHERE application_name = 'panacea'")
    for _ in range(2):
        (reply,) = rcpt_codes(instance, pg_port, ["known"])
        assert reply.code == 250, reply
    # A changed configuration file is read again by proxymap at the
    # next lookup, without a reload: here a query that finds nobody.
    cf = tmp_path / "rcpt.cf"
    cf.write_text(cf.read_text().replace("WHERE", "WHERE false AND"))
    (reply,) = rcpt_codes(instance, pg_port, ["known"])
    assert reply.code == 550, reply


# -- two hosts, one directory ----------------------------------------------

HOSTED_SCHEMA = r"""
CREATE TABLE hosted_users (address text PRIMARY KEY, mailbox text);
INSERT INTO hosted_users VALUES ('alice@hosted.test', 'alice');
GRANT SELECT ON hosted_users TO mailreader;
"""


def hosted_dovecot(base, owner):
    """One Dovecot LMTP server for both hosts (dovecot_lmtp.py), whose
    userdb takes any user (static, allow_all_users): the directory
    alone says who exists, as when Dovecot's userdb is the same
    database."""
    vmail = pwd.getpwnam(panacea_test.ensure_mail_only_owner())
    dovecot = DovecotLmtp(base, (), vmail, os.path.join(base, "lmtp"),
                          owner)
    os.chown(dovecot.homes, vmail.pw_uid, vmail.pw_gid)
    with open(dovecot.conf) as f:
        conf = f.read()
    static = ("userdb {\n  driver = static\n  args = uid=%d gid=%d "
              "home=%s/%%n allow_all_users=yes\n}\n"
              % (vmail.pw_uid, vmail.pw_gid, dovecot.homes))
    old = "userdb {\n  driver = passwd-file\n  args = %s/users\n}\n" % base
    assert old in conf
    with open(dovecot.conf, "w") as f:
        f.write(conf.replace(old, static))
    return dovecot


def hosted_instance(inst, owner, aliases_cf, dovecot):
    """One of the two MX hosts of hosted.test: its addresses are
    virtual aliases from PostgreSQL (through proxymap), to mailboxes of
    the virtual mailbox domain mbox.internal, handed to the shared
    Dovecot over LMTP.  Returns its SMTP port (not yet started)."""
    port = inst.port()
    inst.conf.update(base_conf(owner))
    inst.conf.update({
        "virtual_alias_domains": "hosted.test",
        "virtual_alias_maps": "proxy:pgsql:" + aliases_cf,
        "virtual_mailbox_domains": "mbox.internal",
        "virtual_transport": "lmtp:inet:%s:%d" % (dovecot.host,
                                                   dovecot.port),
    })
    inst.services = [
        # As the Internet sees an MX: loopback is no trusted network.
        Instance.shipped("smtp", "inet", port, chroot="y",
                         args="-o mynetworks=192.0.2.0/24"),
        Instance.shipped("qmgr", chroot="y"),
        Instance.shipped("lmtp"),
        Instance.service("proxymap", "proxymap", type_="unix",
                         unpriv="-", chroot="n"),
    ]
    inst.write()
    return port


def send_to(inst, port, rcpt, subject):
    with Session(inst.host, port) as s:
        s.expect("EHLO sender.example", 250)
        s.expect("MAIL FROM:<someone@sender.example>", 250)
        r = s.cmd("RCPT TO:<%s>" % rcpt)
        if r.code != 250:
            return r
        s.expect("DATA", 354)
        s.send(("From: someone@sender.example\r\nTo: %s\r\nSubject: %s\r\n"
                "\r\nhello\r\n.\r\n" % (rcpt, subject)).encode())
        return s.reply()


def test_two_hosts_one_directory(instance, tmp_path, postgres):
    """Two Panacea hosts, both MX for hosted.test, with one PostgreSQL
    directory and one Dovecot (DESIGN.md, "Two hosts, one directory"):
    mail given to either arrives once; a user inserted into the
    database is refused before and receives mail after, on both hosts,
    without a restart or reload."""
    panacea_test.tool("dovecot-lmtp")
    owner = panacea_test.ensure_mail_owner(MAIL_OWNER)
    pw = pwd.getpwnam(owner)
    postgres.sql(HOSTED_SCHEMA)
    try:
        aliases_cf = pg_cf(tmp_path, "hosted-aliases.cf", postgres,
                           "SELECT mailbox || '@mbox.internal' FROM "
                           "hosted_users WHERE address='%s'")
        os.chown(aliases_cf, pw.pw_uid, pw.pw_gid)
        os.chmod(aliases_cf, 0o600)
        open_path(str(tmp_path))
        dovecot_dir = tmp_path / "dovecot"
        dovecot_dir.mkdir()
        os.chmod(dovecot_dir, 0o755)
        dovecot = hosted_dovecot(str(dovecot_dir), owner)
        other = Instance(tmp_path / "host-b")
        hosts = [(instance, hosted_instance(instance, owner, aliases_cf,
                                            dovecot)),
                 (other, hosted_instance(other, owner, aliases_cf,
                                         dovecot))]
        try:
            dovecot.start()
            for inst, port in hosts:
                inst.start(wait_ready=False)
            for inst, port in hosts:
                inst.wait_port(port)
            # Mail given to either host arrives, once.
            for i, (inst, port) in enumerate(hosts):
                r = send_to(inst, port, "alice@hosted.test", "via %d" % i)
                assert r.code == 250, r
            msgs = dovecot.wait_messages("alice", 2)
            subjects = sorted(
                m.split(b"Subject: ")[1].split(b"\n")[0].strip()
                for m in msgs)
            assert subjects == [b"via 0", b"via 1"], subjects
            # A user the directory does not know: refused by both.
            for inst, port in hosts:
                r = send_to(inst, port, "newbie@hosted.test", "early")
                assert r.code == 550 and "5.1.1" in r.text, r
            # Inserted into the database: both take it at once.
            postgres.sql("INSERT INTO hosted_users VALUES "
                         "('newbie@hosted.test', 'newbie')")
            for i, (inst, port) in enumerate(hosts):
                r = send_to(inst, port, "newbie@hosted.test",
                            "welcome %d" % i)
                assert r.code == 250, r
            msgs = dovecot.wait_messages("newbie", 2)
            assert len(msgs) == 2
            # Nothing was delivered twice: each host sent each message
            # to Dovecot once.
            sent = (r"to=<\w+@mbox\.internal>, "
                    r"orig_to=<\w+@hosted\.test>.* status=sent")
            for inst, _ in hosts:
                panacea_test.wait_until(
                    lambda: len(re.findall(sent, inst.log())) == 2,
                    what="two deliveries logged")
                assert len(re.findall(sent, inst.log())) == 2
            assert len(dovecot.messages("alice")) == 2
        finally:
            dovecot.stop()
            report = other.finish()
            assert not report, report
    finally:
        postgres.sql("DROP TABLE hosted_users")
