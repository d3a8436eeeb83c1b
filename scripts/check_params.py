#!/usr/bin/python3
"""check_params - the parameter table against the code that reads it.

Usage: check_params.py [ROOT]   (run by make before it links; exit 1 on
any finding, one "file:line: message" or "lib/mail/conf_params.c:
message" per line on stderr)

Fails when
  - code reads a name that is not in lib/mail/conf_params.c, with an
    accessor or in a program's table of bound parameters (CONF_BIND_*,
    conf.h): a misspelt name, which would otherwise panic on first use (hours after
    start-up, in one rare branch) or stop the program at start-up;
  - code reads a parameter with a typed accessor of another type
    (conf_int on a time: the same panic), or binds it as another type
    (which conf_bind() would refuse at start-up);
  - a parameter of the table is read by no code (a parameter accepted is
    a parameter implemented: an administrator who sets it must get what
    its doc string says), unless it is one of the documented no-ops
    (conf_noop_params[] in lib/conf_params.c: Postfix's housekeeping
    parameters, accepted and ignored, each doc string saying "No-op in
    Panacea");
  - a documented no-op is not in the table, or its doc string does not
    start with "No-op in Panacea", or code reads it after all.

What counts as a read, in the C files of lib/ and of every program,
subfolders included (not tests/ or tools/, and with comments removed):
  - a string literal that is exactly the name ("smtpd_banner"), which
    covers the accessors conf_str/int/bool/time/size/lookup/is_set and
    the helpers that take a parameter's name (open_maps("..."), ...);
  - a TRANSPORT_SUFFIX name, when some file builds names with "%s_%s"
    and has the literal SUFFIX (qmgr's TRANSPORT_destination_*_limit);
  - a row that a role macro writes (TLS_PARAMS_BIND("smtpd", ...),
    scripts/conf_macros.py);
  - "$name" or "${name" in the default of a parameter that is read
    (mail_name in smtpd_banner's default).
Only the first kind is checked for misspelling and type: the name given
to a helper is checked when the helper's own accessor runs.
"""

import os
import re
import sys

from conf_macros import expand

ROOT = sys.argv[1] if len(sys.argv) > 1 else "."
TABLE = os.path.join("lib", "mail", "conf_params.c")
# Code that reads parameters: lib/ and every program's folder, that is
# every top-level folder with C files but these (a new program is
# checked without being named here).
NOT_CODE_DIRS = {"tests", "tools", "bench", "build", "bin", "run"}
# conf.c is the store itself: its literals are the names it computes
# defaults for, not reads.
NOT_READERS = {TABLE, os.path.join("lib", "mail", "conf.c")}
ACCESSOR_TYPES = {"int": "CONF_INT", "bool": "CONF_BOOL",
                  "time": "CONF_TIME", "size": "CONF_SIZE"}
# Accessors that look a name up without the table: an unknown name is
# allowed there (master asks for mail_version, a name of Postfix's that
# an administrator may define), so no misspelling check.
UNTYPED_LOOKUPS = {"lookup", "raw", "is_set"}

ENTRY = re.compile(r'\{"([A-Za-z0-9_]+)",\s*(CONF_[A-Z]+),\s*"([^"]*)"')
COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)
LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
ACCESS = re.compile(r'\b((?:conf_|CONF_BIND_)'
                    r'(str|int|bool|time|size|lookup|raw|is_set|'
                    r'STR|INT|BOOL|TIME|SIZE))\(\s*"([^"]*)"')


def strip_comments(text):
    """Comments become blanks of the same line count, so that line
    numbers stay right; string literals are assumed free of comment
    markers (true of this tree; a literal "/*" would be a finding)."""
    return COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)


NOOPS = re.compile(r'conf_noop_params\[\]\s*=\s*\{(.*?)\}', re.S)
DOC_START = re.compile(r'\{"([A-Za-z0-9_]+)",\s*CONF_[A-Z]+,\s*"[^"]*",'
                       r'[^,]*,[^,]*,\s*"([^"]*)"')


def read_table():
    with open(os.path.join(ROOT, TABLE)) as f:
        text = f.read()
    return {m.group(1): (m.group(2), m.group(3))
            for m in ENTRY.finditer(text)}


def read_noops():
    """The documented no-ops and the start of every doc string."""
    with open(os.path.join(ROOT, TABLE)) as f:
        text = strip_comments(f.read())
    m = NOOPS.search(text)
    noops = LITERAL.findall(m.group(1)) if m else []
    docs = {d.group(1): d.group(2) for d in DOC_START.finditer(text)}
    return noops, docs


def code_files():
    for d in sorted(os.listdir(ROOT)):
        top = os.path.join(ROOT, d)
        if d in NOT_CODE_DIRS or d.startswith(".") or not os.path.isdir(top):
            continue
        for path, dirs, names in os.walk(top):
            dirs.sort()
            for name in sorted(names):
                rel = os.path.relpath(os.path.join(path, name), ROOT)
                if name.endswith((".c", ".h")) and rel not in NOT_READERS:
                    yield rel


def main():
    table = read_table()
    errors = []
    literals = set()
    composing_suffixes = set()
    for rel in code_files():
        with open(os.path.join(ROOT, rel)) as f:
            text = expand(strip_comments(f.read()), ROOT)
        found = set(LITERAL.findall(text))
        literals |= found
        if "%s_%s" in found:
            composing_suffixes |= found
        for m in ACCESS.finditer(text):
            call, kind, name = m.group(1), m.group(2).lower(), m.group(3)
            line = text.count("\n", 0, m.start()) + 1
            if name not in table:
                if kind not in UNTYPED_LOOKUPS:
                    errors.append("%s:%d: %s(\"%s\"): no such "
                                  "parameter in %s"
                                  % (rel, line, call, name, TABLE))
                continue
            want = ACCESSOR_TYPES.get(kind)
            if want and table[name][0] != want:
                errors.append("%s:%d: %s(\"%s\"): the parameter is "
                              "%s" % (rel, line, call, name,
                                      table[name][0]))

    read = {n for n in table if n in literals}
    read |= {n for n in table
             if any(n.endswith("_" + s) for s in composing_suffixes)}
    # Through defaults: a parameter named in a read parameter's default.
    grown = True
    while grown:
        grown = False
        for n in sorted(read):
            for ref in re.findall(r'\$\{?([A-Za-z0-9_]+)', table[n][1]):
                if ref in table and ref not in read:
                    read.add(ref)
                    grown = True
    noops, docs = read_noops()
    for n in noops:
        if n not in table:
            errors.append("%s: no-op %s is not in the table" % (TABLE, n))
        elif not docs.get(n, "").startswith("No-op in Panacea"):
            errors.append("%s: no-op %s: its doc string must start with "
                          "\"No-op in Panacea\"" % (TABLE, n))
        elif n in read:
            errors.append("%s: no-op %s is read by code: take it off the "
                          "no-op list" % (TABLE, n))
    for n in sorted(set(table) - read - set(noops)):
        errors.append("%s: parameter %s is read by no code: implement it "
                      "or remove it" % (TABLE, n))
    for e in errors:
        print(e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
