"""test_dns - lib/dns against a real DNS server (nsd) on loopback.

pan-dnsq (tests/fixtures/pan-dnsq.c) makes one lookup through lib/dns and
prints the result; the zones below hold each case: MX preferences, a null
MX, CNAME chains inside and across zones, a CNAME loop, a domain without
MX, an MX list too large for UDP (TCP retry), invalid MX host names, the
self-MX cases and PTR records for forward confirmation.  Unreachable and
refusing servers give TEMPFAIL within the configured timeout.
"""

import os
import subprocess
import time

import pytest

import panacea_test
from dnsserver import DNSServer, pick_port

ADDR = "127.0.0.53"

BIG = "".join("@ MX %d mail-exchanger-with-a-long-name-%02d.big.example.test.\n"
              % (100 - i, i) for i in range(60))

ZONES = {
    "example.test": """
@       MX 10 mx1
@       MX 10 mx2
@       MX 10 mx3
@       MX 20 backup
@       MX 5 best
mx1     A 127.0.0.11
mx2     A 127.0.0.12
mx3     A 127.0.0.13
mx3     AAAA 2001:db8::13
backup  A 127.0.0.14
best    A 127.0.0.15
plain   A 127.0.0.20
v6only  AAAA 2001:db8::20
txtonly TXT "no address here"
alias   CNAME alias2
alias2  CNAME example.test.
outside CNAME mail.other.test.
loop1   CNAME loop2
loop2   CNAME loop1
badmx   MX 5 -bad.example.test.
badmx   MX 6 1.2.3.4.
badmx   MX 30 mx1
onlybad MX 5 -bad.example.test.
self    MX 10 mx1
self    MX 20 me.example.test.
self    MX 30 mx2
selfbest MX 10 me.example.test.
selfbest MX 20 mx1
me      A 127.0.0.30
liar    A 127.0.0.98
""",
    "big.example.test": BIG,
    "other.test": """
mail    MX 10 mx.other.test.
mx      A 127.0.0.40
""",
    "nullmx.test": "@ MX 0 .\n",
    "127.in-addr.arpa": """
11.0.0  PTR mx1.example.test.
99.0.0  PTR liar.example.test.
66.0.0  PTR nosuch.example.test.
""",
}


@pytest.fixture(scope="module")
def dns():
    server = DNSServer(ZONES, address=ADDR)
    server.start()
    yield server
    server.cleanup()


def dnsq(servers, *args, timeout=2, tries=1):
    """Runs pan-dnsq; returns (lines, elapsed seconds)."""
    cmd = [panacea_test.fixture("pan-dnsq"), "-n", servers,
           "-t", str(timeout), "-r", str(tries)] + list(args)
    start = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True,
                         timeout=panacea_test.scaled(60))
    elapsed = time.monotonic() - start
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines(), elapsed


def status(lines):
    assert lines[0].startswith("status "), lines
    return lines[0].split()[1:]


def mx(lines):
    return [(int(l.split()[1]), l.split()[2])
            for l in lines if l.startswith("mx ")]


def why(lines):
    return [l[4:] for l in lines if l.startswith("why ")]


def test_mx_sorted_with_equal_preferences_shuffled(dns):
    seen_first = set()
    for _ in range(30):
        lines, _ = dnsq(dns.nameservers, "mx", "example.test")
        assert status(lines) == ["OK", "2.0.0"]
        got = mx(lines)
        assert got[0] == (5, "best.example.test")
        assert sorted(got[1:4]) == [(10, "mx1.example.test"),
                                    (10, "mx2.example.test"),
                                    (10, "mx3.example.test")]
        assert got[4] == (20, "backup.example.test")
        assert len(got) == 5
        seen_first.add(got[1][1])
    # Equal preferences share the load (failure chance ~ 3 * (1/3)^29).
    assert len(seen_first) > 1


def test_null_mx(dns):
    lines, _ = dnsq(dns.nameservers, "mx", "nullmx.test")
    assert status(lines) == ["NULLMX", "5.1.10"]
    assert why(lines) == ["Domain nullmx.test does not accept mail (nullMX)"]
    assert mx(lines) == []


def test_nxdomain(dns):
    lines, _ = dnsq(dns.nameservers, "mx", "nosuch.example.test")
    assert status(lines) == ["NOTFOUND", "5.1.2"]
    assert why(lines) == [
        "Host or domain name not found. Name service error for "
        "name=nosuch.example.test type=MX: Host not found"]


def test_no_mx_means_the_domain_itself(dns):
    lines, _ = dnsq(dns.nameservers, "mx", "plain.example.test")
    assert status(lines) == ["OK", "2.0.0"]
    assert "implicit" in lines
    assert mx(lines) == [(0, "plain.example.test")]
    lines, _ = dnsq(dns.nameservers, "addr", "plain.example.test")
    assert status(lines) == ["OK", "2.0.0"]
    assert "addr 127.0.0.20" in lines


def test_cname_chain_in_zone(dns):
    lines, _ = dnsq(dns.nameservers, "mx", "Alias.Example.Test.")
    assert status(lines) == ["OK", "2.0.0"]
    assert "name example.test" in lines
    assert mx(lines)[0] == (5, "best.example.test")


def test_cname_to_another_zone_is_asked_again(dns):
    # nsd answers with the CNAME only; lib/dns asks for the target.
    lines, _ = dnsq(dns.nameservers, "mx", "outside.example.test")
    assert status(lines) == ["OK", "2.0.0"]
    assert "name mail.other.test" in lines
    assert mx(lines) == [(10, "mx.other.test")]


def test_cname_loop_is_a_temporary_failure(dns):
    lines, _ = dnsq(dns.nameservers, "mx", "loop1.example.test")
    assert status(lines) == ["TEMPFAIL", "4.4.3"]
    assert mx(lines) == []


def test_truncated_answer_retried_over_tcp(dns):
    # 60 MX records with long names do not fit in 1232 bytes of UDP:
    # without the TCP retry this would be an empty or partial answer.
    lines, _ = dnsq(dns.nameservers, "mx", "big.example.test")
    assert status(lines) == ["OK", "2.0.0"]
    got = mx(lines)
    assert len(got) == 32
    assert [p for p, _ in got] == list(range(41, 73))
    assert got[0][1] == "mail-exchanger-with-a-long-name-59.big.example.test"


def test_invalid_mx_hosts_are_skipped(dns):
    lines, _ = dnsq(dns.nameservers, "mx", "badmx.example.test")
    assert status(lines) == ["OK", "2.0.0"]
    assert mx(lines) == [(30, "mx1.example.test")]
    lines, _ = dnsq(dns.nameservers, "mx", "onlybad.example.test")
    assert status(lines) == ["TEMPFAIL", "4.4.3"]


def test_self_mx_keeps_better_preferences(dns):
    lines, _ = dnsq(dns.nameservers, "-s", "ME.example.test.", "mx",
                    "self.example.test")
    assert status(lines) == ["OK", "2.0.0"]
    assert mx(lines) == [(10, "mx1.example.test")]


def test_self_mx_best_is_a_loop(dns):
    lines, _ = dnsq(dns.nameservers, "-s", "other.host me.example.test",
                    "mx", "selfbest.example.test")
    assert status(lines) == ["LOOP", "5.4.6"]
    assert why(lines) == [
        "mail for selfbest.example.test loops back to myself"]
    assert mx(lines) == []


def test_addresses_by_family(dns):
    lines, _ = dnsq(dns.nameservers, "addr", "mx3.example.test")
    assert [l for l in lines if l.startswith("addr ")] == [
        "addr 127.0.0.13", "addr 2001:db8::13"]
    lines, _ = dnsq(dns.nameservers, "-4", "addr", "mx3.example.test")
    assert [l for l in lines if l.startswith("addr ")] == ["addr 127.0.0.13"]
    lines, _ = dnsq(dns.nameservers, "-6", "addr", "mx3.example.test")
    assert [l for l in lines if l.startswith("addr ")] == [
        "addr 2001:db8::13"]
    lines, _ = dnsq(dns.nameservers, "-4", "addr", "v6only.example.test")
    assert status(lines) == ["NODATA", "5.4.4"]
    lines, _ = dnsq(dns.nameservers, "addr", "txtonly.example.test")
    assert status(lines) == ["NODATA", "5.4.4"]
    lines, _ = dnsq(dns.nameservers, "addr", "nosuch.example.test")
    assert status(lines) == ["NOTFOUND", "5.1.2"]


def test_ptr_and_forward_confirmation(dns):
    lines, _ = dnsq(dns.nameservers, "ptr", "127.0.0.11")
    assert status(lines) == ["OK", "2.0.0"]
    assert "ptr mx1.example.test" in lines
    lines, _ = dnsq(dns.nameservers, "client", "127.0.0.11")
    assert status(lines) == ["OK", "2.0.0"]
    assert "client mx1.example.test" in lines
    # IPv4-mapped IPv6, as a dual-stack listener reports clients.
    lines, _ = dnsq(dns.nameservers, "client", "::ffff:127.0.0.11")
    assert "client mx1.example.test" in lines
    # The PTR name exists but does not resolve back to the address.
    lines, _ = dnsq(dns.nameservers, "client", "127.0.0.99")
    assert status(lines)[0] == "NOTFOUND"
    assert "client unknown" in lines
    assert why(lines) == [
        "hostname liar.example.test does not resolve to address 127.0.0.99"]
    # The PTR name does not exist at all.
    lines, _ = dnsq(dns.nameservers, "client", "127.0.0.66")
    assert status(lines)[0] == "NOTFOUND"
    assert "client unknown" in lines
    # No PTR record.
    lines, _ = dnsq(dns.nameservers, "client", "127.0.0.77")
    assert status(lines)[0] == "NOTFOUND"
    assert "client unknown" in lines


def test_unanswered_server_is_tempfail_within_timeout():
    port = pick_port(ADDR)  # nothing listens there
    lines, elapsed = dnsq("%s:%d" % (ADDR, port), "mx", "example.test",
                          timeout=1, tries=2)
    assert status(lines) == ["TEMPFAIL", "4.4.3"]
    assert "try again" in why(lines)[0]
    assert elapsed < panacea_test.scaled(5)


def test_refused_is_tempfail_and_next_server_is_tried(dns):
    # nsd refuses names outside its zones: a temporary failure.
    lines, _ = dnsq(dns.nameservers, "mx", "elsewhere.invalid")
    assert status(lines) == ["TEMPFAIL", "4.4.3"]
    # A dead first server: the second one answers.
    dead = "%s:%d" % (ADDR, pick_port(ADDR))
    lines, _ = dnsq(dead + ", " + dns.nameservers, "mx", "nullmx.test",
                    timeout=1)
    assert status(lines) == ["NULLMX", "5.1.10"]


class Session:
    """One pan-dnsq -i process: many lookups, as a daemon makes them."""

    def __init__(self, servers, timeout=1):
        self.proc = subprocess.Popen(
            [panacea_test.fixture("pan-dnsq"), "-n", servers, "-t",
             str(timeout), "-r", "1", "-i"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(self, kind, name):
        self.proc.stdin.write("%s %s\n" % (kind, name))
        self.proc.stdin.flush()
        lines = []
        while True:
            line = self.proc.stdout.readline()
            assert line, "pan-dnsq ended"
            if line == ".\n":
                return lines
            lines.append(line.rstrip("\n"))

    def close(self):
        self.proc.stdin.close()
        assert self.proc.wait(timeout=30) == 0


def test_stopped_server_then_back(tmp_path):
    # One process throughout: a server that timed out once must be asked
    # again later (ldns would otherwise mark it unreachable for good).
    server = DNSServer({"x.test": "@ MX 10 mx\nmx A 127.0.0.21\n"},
                       address="127.0.0.54", workdir=str(tmp_path))
    server.start()
    session = Session(server.nameservers)
    try:
        assert mx(session.ask("mx", "x.test")) == [(10, "mx.x.test")]
        server.stop()
        lines = session.ask("mx", "x.test")
        assert status(lines) == ["TEMPFAIL", "4.4.3"]
        lines = session.ask("addr", "mx.x.test")
        assert status(lines) == ["TEMPFAIL", "4.4.3"]
        server.set_zone("x.test", "@ MX 0 .\n")
        server.start()
        lines = session.ask("mx", "x.test")
        assert status(lines) == ["NULLMX", "5.1.10"]
        session.close()
    finally:
        session.proc.kill()
        server.cleanup()


def test_bad_nameserver_list_is_refused():
    out = subprocess.run([panacea_test.fixture("pan-dnsq"), "-n",
                          "1.2.3.4:99999", "mx", "example.test"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 2
    assert "bad port" in out.stderr


def test_malformed_names_are_not_asked(dns):
    lines, _ = dnsq(dns.nameservers, "mx", "bad..example.test")
    assert status(lines) == ["NOTFOUND", "5.1.2"]
    lines, _ = dnsq(dns.nameservers, "mx", "x" * 300)
    assert status(lines) == ["NOTFOUND", "5.1.2"]
