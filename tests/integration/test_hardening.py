"""test_hardening - every built program carries the hardening the Makefile
asks for (master, local and pop3d run as root): a position-independent
executable, full RELRO (GNU_RELRO and BIND_NOW), the stack protector
(__stack_chk_fail), and fortified libc calls (__*_chk; not under
SANITIZE=1, where ASan does that checking).  Read from the ELF files with
readelf, so the test sees what the linker made, not what the Makefile
meant.
"""

import os
import re
import subprocess

import pytest

import panacea_test
from panacea_test import BIN, SANITIZE

PROGRAMS = ["master", "smtpd", "qmgr", "smtp", "local", "pipe", "pop3d", "pickup",
            "showq", "anvil", "postscreen", "sendmail", "panqueue", "pansuper", "panmap",
            "panconf", "pancat", "panacea"]

def readelf(*args):
    return subprocess.run([panacea_test.tool("readelf", "binutils"),
                           "-W"] + list(args), check=True,
                          capture_output=True, text=True).stdout


@pytest.mark.parametrize("name", PROGRAMS)
def test_program_is_hardened(name):
    path = os.path.join(BIN, name)
    assert os.path.exists(path), "%s is not built" % name
    header = readelf("-h", path)
    assert re.search(r"Type:\s+DYN ", header), "%s is not PIE" % name
    dynamic = readelf("-d", path)
    assert re.search(r"\(FLAGS\)\s+.*BIND_NOW", dynamic) or \
        re.search(r"\(FLAGS_1\)\s+Flags:.*\bNOW\b", dynamic), \
        "%s is not linked with -z now" % name
    assert re.search(r"\(FLAGS_1\)\s+Flags:.*\bPIE\b", dynamic), name
    assert "GNU_RELRO" in readelf("-l", path), "%s has no RELRO" % name
    syms = readelf("--dyn-syms", path)
    assert "__stack_chk_fail" in syms, "%s has no stack protector" % name
    if not SANITIZE:
        assert re.search(r"\b__\w+_chk@", syms), \
            "%s is not built with _FORTIFY_SOURCE" % name
