"""Shared fixtures of the integration tests (see panacea_test.py)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import panacea_test  # noqa: E402


@pytest.fixture
def instance(tmp_path):
    """A fresh, not yet started Instance in the test's own folder.  After
    the test, master is stopped (SIGTERM, then SIGKILL of its process
    group), and the log and master's stderr are printed, which pytest
    shows when the test failed."""
    inst = panacea_test.Instance(tmp_path)
    yield inst
    try:
        inst.stop(timeout=15)
    except Exception:
        pass
    inst.kill_all()
    print("---- maillog ----")
    print(inst.log())
    print("---- master stderr ----")
    print(inst.stderr())
    # Children write to master's stderr: a sanitizer report anywhere in the
    # instance fails the test even when the clients saw nothing wrong.
    report = panacea_test.sanitizer_report(inst.stderr() + inst.log())
    if report:
        pytest.fail("sanitizer report: %s" % report)
