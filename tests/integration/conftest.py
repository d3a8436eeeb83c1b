"""Shared fixtures of the integration tests (see panacea_test.py)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import panacea_test  # noqa: E402

# make integration runs the suite in two passes (Makefile): every other
# module with pytest-xdist, two test processes, a module's tests all in
# the same one (-n 2 --dist loadfile -m "not serial"), then the modules
# named here alone on the machine, one after the other (-m serial): they
# measure what a client waits under a load they make themselves, hold a
# thousand connections, or mount overlays of /usr, /etc and /var.  A test
# needs a place here only for such a reason: everything else must run
# beside any other module (its own instance folder, its own loopback
# address or panacea_test.loopback_net(), accounts with random names).
SERIAL_MODULES = {"test_soak.py", "test_slow_clients.py", "test_install.py"}


# The modules that take longest, longest first (--durations=0 of a
# two-process run at a load average of 2 to 6, session 7; seconds in the
# comments): they are collected, and so handed out by pytest-xdist,
# before all others, which follow in file order.  With --dist loadfile a
# module runs whole in one process, so a long module started last would
# leave the other process idle until it ends; started first, the short
# ones fill the gaps.  A module that takes more than about 10 s belongs
# here.
LONGEST_FIRST = [
    "test_master.py",              # 72
    "test_qmgr.py",                # 50
    "test_local.py",               # 43
    "test_cli.py",                 # 42
    "test_delivery.py",            # 40
    "test_smtp.py",                # 34
    "test_pop3d.py",               # 29
    "test_hops.py",                # 27
    "test_smtpd.py",               # 25
    "test_maps.py",                # 24
    "test_postscreen.py",          # 22
    "test_smtpd_tls_auth.py",      # 22
    "test_restrictions.py",        # 22
    "test_durability.py",          # 21
    "test_concurrency.py",         # 21
    "test_anvil.py",               # 19
    "test_auth.py",                # 14
    "test_tls_server_keys.py",     # 11
    "test_directory.py",           # 11
    "test_logtools.py",            # 10
]


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "serial: run alone, after the parallel pass (conftest)")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in SERIAL_MODULES:
            item.add_marker(pytest.mark.serial)
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    # A stable sort: a module's tests keep their order.
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


# make check sets PANACEA_NO_SKIPS=1: a test skipped for not being root
# or for a program that is not built fails the run (each one listed with
# its reason); skips whose reason starts with panacea_test.ENVIRONMENT
# are listed but accepted.  A missing package is a failure anyway
# (panacea_test.tool).
_skips = []


def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) \
            else str(report.longrepr)
        _skips.append((report.nodeid, reason.replace("Skipped: ", "", 1)))


def _refused():
    return [(n, r) for n, r in _skips
            if not r.startswith(panacea_test.ENVIRONMENT)]


def pytest_terminal_summary(terminalreporter):
    if not _skips:
        return
    strict = os.environ.get("PANACEA_NO_SKIPS") == "1"
    terminalreporter.section("skipped tests")
    for nodeid, reason in _skips:
        bad = strict and not reason.startswith(panacea_test.ENVIRONMENT)
        terminalreporter.write_line("%s %s: %s" % (
            "NOT ALLOWED" if bad else "skipped", nodeid, reason))


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("PANACEA_NO_SKIPS") == "1" and _refused() and \
            exitstatus == 0:
        session.exitstatus = 1


@pytest.fixture
def instance(tmp_path):
    """A fresh, not yet started Instance in the test's own folder.  After
    the test, master is stopped (SIGTERM, then SIGKILL of its process
    group), and the log and master's stderr are printed, which pytest
    shows when the test failed."""
    inst = panacea_test.Instance(tmp_path)
    yield inst
    report = inst.finish()
    if report:
        pytest.fail("sanitizer report: %s" % report)
