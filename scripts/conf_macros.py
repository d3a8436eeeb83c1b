"""conf_macros - the conf_bind rows a program gets from a role macro.

A daemon binds the parameters of one TLS role with a single row,
TLS_PARAMS_BIND("smtpd", &raw.tls_params) (lib/mail/tls_params.h), whose
macro writes CONF_BIND_STR(role "_tls_protocols", ...) and the other
rows; smtp and lmtp bind what they share with SMTP_CLIENT_BIND("smtp",
raw) (smtp/smtp_params.h) the same way.  check_params.py and check_man.py read names as string literals
in the code, so they see those rows only through expand(): it returns
the text with each such call replaced by the rows the macro writes for
that role, all on the call's line (line numbers stay right).  The
macros' bodies are read from their headers, so a row added there is seen
without a change here.
"""

import os
import re

MACROS = (("TLS_PARAMS_BIND", os.path.join("lib", "mail", "tls_params.h")),
          ("SMTP_CLIENT_BIND", os.path.join("smtp", "smtp_params.h")))


def _bodies(root):
    """{macro name: (role parameter name, body on one line)}."""
    out = {}
    for name, header in MACROS:
        with open(os.path.join(root, header)) as f:
            text = f.read()
        m = re.search(r'#define\s+%s\((\w+),\s*\w+\)((?:[^\n]*\\\n)*[^\n]*)'
                      % name, text)
        if m is None:
            raise SystemExit("%s: no #define %s(role, var)" % (header, name))
        out[name] = (m.group(1), " ".join(m.group(2).split("\\\n")))
    return out


def expand(text, root):
    """text with every MACRO("role", var) call written out."""
    for name, (param, body) in _bodies(root).items():
        def rows(m, param=param, body=body):
            return re.sub(r'\b%s\s+"' % param, '"' + m.group(1), body)
        text = re.sub(r'\b%s\(\s*"(\w+)"\s*,[^)]*\)' % name, rows, text)
    return text
