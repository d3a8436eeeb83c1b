"""The self-check of make check (requirements.py): it names a missing
program, a missing module and a package scripts/deps.sh does not
install, each on a line of its own, and passes on this machine."""

import os
import subprocess
import sys

import requirements

HERE = os.path.dirname(os.path.abspath(__file__))
DEPS_SH = os.path.join(HERE, "..", "..", "scripts", "deps.sh")


def test_this_machine_has_everything():
    r = subprocess.run([sys.executable, os.path.join(HERE, "requirements.py")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_a_missing_program_and_module_are_named(monkeypatch, tmp_path):
    monkeypatch.setitem(requirements.PROGRAMS, "no-such-tool-x",
                        ("curl", "/nonexistent/no-such-tool-x"))
    monkeypatch.setitem(requirements.PERL_MODULES, "No::Such::ModuleX",
                        ("curl", "nothing"))
    monkeypatch.setitem(requirements.PYTHON_MODULES, "no_such_module_x",
                        "curl")
    lines = requirements.problems(DEPS_SH)
    assert "program no-such-tool-x is missing (Debian package curl)" in lines
    assert any(x.startswith("Perl module No::Such::ModuleX is missing")
               for x in lines), lines
    assert any(x.startswith("Python module no_such_module_x is missing")
               for x in lines), lines
    assert len(lines) == 3, lines


def test_a_package_deps_sh_lacks_is_named(monkeypatch, tmp_path):
    deps = tmp_path / "deps.sh"
    with open(DEPS_SH) as f:
        text = f.read()
    # The same deps.sh without swaks' TLS module.
    deps.write_text(text.replace(" libnet-ssleay-perl", ""))
    lines = requirements.problems(str(deps))
    assert lines == ["package libnet-ssleay-perl is needed by the tests "
                     "but not installed by scripts/deps.sh"], lines


def test_deps_sh_parser_reads_continued_lines():
    names = requirements.deps_packages(DEPS_SH)
    # First and last of TEST_PKGS, which spans several lines.
    assert {"libcmocka-dev", "postgrey", "gcc", "dovecot-pop3d"} <= names
