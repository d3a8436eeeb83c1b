#!/usr/bin/python3
"""check_man - the daemon man pages against the parameter table and the
code.

Usage: check_man.py [ROOT]   (run by "make man-check", part of "make
unit"; exit 1 on any finding, one "man/PAGE.8: message" per line on
stderr)

Every daemon page (man/*.8) has Postfix's sections: DESCRIPTION,
SECURITY, STANDARDS, DIAGNOSTICS, CONFIGURATION PARAMETERS and SEE ALSO
(others may come too).  In its CONFIGURATION PARAMETERS section, which
lists what the program reads:
  - every bold word is a parameter of lib/mail/conf_params.c, or a man
    page reference (panacea.conf(5)), or the suffix of a per-transport
    name written TRANSPORT\\fB_suffix\\fR that some parameter ends with
    (or is, without the underscore):
    a misspelt or removed parameter fails;
  - every parameter that the program reads itself (CONF_BIND_*("name")
    or conf_str/int/bool/time/size("name"), rows of a role macro
    such as TLS_PARAMS_BIND, scripts/conf_macros.py, in the C files of its folder,
    PROGRAM/ for man/PROGRAM.8) is named: a parameter added to a
    program's table is documented on its page.  (What lib/ reads for it,
    and the names it composes, TRANSPORT_*, are the page's to name
    without this check.)
A program that is another's under a second name (lmtp is smtp, as in
Postfix: SHARED_FOLDERS) is checked against that folder: each page names
the parameters of the folder but those with the other program's prefix
(smtp.8 leaves the lmtp_* names to lmtp.8, and lmtp.8 the smtp_* ones).
A program whose own code is a file of the folder (OWN_FILES: virtual is
local's local/virtual.c) is checked against that file alone, and the
folder's program against the other files.
Bold words are those of .B, the odd words of .BR and .BI, and
\\fB...\\fR (or \\fP) inside a line.
In every page (man/*.1, *.5, *.8), a text line must not start with ".."
or "'": roff takes it for a request and drops it ("...; trying again"
vanished from qmgr(8) that way); write "\\&..." instead.
"""

import os
import re
import sys

from conf_macros import expand

ROOT = sys.argv[1] if len(sys.argv) > 1 else "."
TABLE = os.path.join("lib", "mail", "conf_params.c")
MAN_DIR = "man"
SECTIONS = ["DESCRIPTION", "SECURITY", "STANDARDS", "DIAGNOSTICS",
            "CONFIGURATION PARAMETERS", "SEE ALSO"]
PARAMS_SECTION = "CONFIGURATION PARAMETERS"

ENTRY = re.compile(r'\{"([A-Za-z0-9_]+)",\s*CONF_[A-Z]+,')
# What a program reads itself: its table (CONF_BIND_*) and the typed
# accessors (qmgr reads its scheduler's defaults with conf_int()).
READ = re.compile(r'\b(?:CONF_BIND_[A-Z]+|conf_(?:str|int|bool|time|size))'
                  r'\(\s*"([^"]+)"')
COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)
INLINE_BOLD = re.compile(r'\\fB(.*?)\\f[RPI]')
MAN_REF = re.compile(r'^\(\d[a-z]*\)')
NAME = re.compile(r'^[A-Za-z0-9_]+$')
# Programs built from another's folder: program -> folder.
SHARED_FOLDERS = {"lmtp": "smtp", "virtual": "local"}
# Programs of a shared folder whose parameters are bound in one file.
OWN_FILES = {"virtual": "virtual.c"}


def read_table():
    with open(os.path.join(ROOT, TABLE)) as f:
        return set(ENTRY.findall(f.read()))


def macro_args(rest):
    """The arguments of a roff macro line: words, "quoted words"."""
    return [m.group(1) if m.group(1) is not None else m.group(2)
            for m in re.finditer(r'"((?:[^"]|"")*)"|(\S+)', rest)]


def sections(lines):
    """{section name: [(line number, text), ...]} and the names in
    order."""
    out, order, cur = {}, [], None
    for n, line in enumerate(lines, 1):
        if line.startswith(".SH"):
            cur = line[3:].strip().strip('"').upper()
            order.append(cur)
            out.setdefault(cur, [])
        elif cur is not None:
            out[cur].append((n, line))
    return out, order


def bold_words(line):
    """(word, the text right after it, preceded) for each bold run of a
    line; preceded: what came right before it on the line."""
    found = []
    if line.startswith((".B ", ".BR ", ".BI ")):
        macro, _, rest = line.partition(" ")
        args = macro_args(rest)
        if macro == ".B":
            found.append((" ".join(args), "", ""))
        else:
            for i in range(0, len(args), 2):
                after = args[i + 1] if i + 1 < len(args) else ""
                found.append((args[i], after, ""))
        return found
    for m in INLINE_BOLD.finditer(line):
        found.append((m.group(1), line[m.end():], line[:m.start()]))
    return found


def bound_params(prog):
    """The names prog reads in its folder's C files (SHARED_FOLDERS:
    without the names of the folder's other programs)."""
    folder = SHARED_FOLDERS.get(prog, prog)
    if prog in OWN_FILES:
        return folder_params(folder, only=OWN_FILES[prog])
    others = [p for p, f in SHARED_FOLDERS.items() if f == folder]
    skip = [OWN_FILES[p] for p in others if p in OWN_FILES]
    others = [p + "_" for p in others + [folder] if p != prog]
    return {n for n in folder_params(folder, skip=skip)
            if not n.startswith(tuple(others))}


def folder_params(folder, only=None, skip=()):
    """The names read in a folder's C files (only: that file alone;
    skip: not those)."""
    top = os.path.join(ROOT, folder)
    names = set()
    if not os.path.isdir(top):
        return names
    for path, dirs, files in os.walk(top):
        for name in files:
            if name.endswith(".c") and name not in skip and \
                    (only is None or name == only):
                with open(os.path.join(path, name)) as f:
                    text = expand(COMMENT.sub("", f.read()), ROOT)
                    names |= set(READ.findall(text))
    return names


def check_page(rel, table):
    errors = []
    with open(os.path.join(ROOT, rel)) as f:
        lines = f.read().split("\n")
    secs, order = sections(lines)
    for s in SECTIONS:
        if s not in secs:
            errors.append("%s: no %s section" % (rel, s))
    named = set()
    for n, line in secs.get(PARAMS_SECTION, []):
        for word, after, before in bold_words(line):
            word = word.strip().rstrip(",.;:")
            if not word or MAN_REF.match(after.lstrip()):
                continue
            if word.startswith("_") and before.endswith("TRANSPORT"):
                # TRANSPORT_initial_destination_concurrency overrides
                # initial_destination_concurrency itself.
                if not any(p.endswith(word) or p == word[1:]
                           for p in table):
                    errors.append("%s:%d: TRANSPORT%s: no parameter "
                                  "ends in %s" % (rel, n, word, word))
                continue
            if not NAME.match(word) or word not in table:
                errors.append("%s:%d: %s: not a parameter of %s"
                              % (rel, n, word, TABLE))
                continue
            named.add(word)
    prog = os.path.basename(rel)[:-len(".8")]
    if PARAMS_SECTION in secs:
        for p in sorted(bound_params(prog) - named):
            errors.append("%s: %s section does not name %s, which %s "
                          "reads" % (rel, PARAMS_SECTION, p, prog))
    return errors


def check_lines(rel):
    """Text lines that roff would take for requests."""
    errors = []
    with open(os.path.join(ROOT, rel)) as f:
        for n, line in enumerate(f, 1):
            if line.startswith(("..", "'")):
                errors.append("%s:%d: a line that starts with \"%s\" is "
                              "read as a request: start it with \\&"
                              % (rel, n, line[0:2] if line[0] == "." else
                                 "'"))
    return errors


def main():
    table = read_table()
    errors = []
    names = sorted(os.listdir(os.path.join(ROOT, MAN_DIR)))
    for name in names:
        if re.search(r'\.[158]$', name):
            errors += check_lines(os.path.join(MAN_DIR, name))
    for name in (n for n in names if n.endswith(".8")):
        errors += check_page(os.path.join(MAN_DIR, name), table)
    for e in errors:
        print(e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
