"""attrlist - Panacea's attribute lists (lib/attr.h) for tests.

Wire format: one netstring (LEN ":" BYTES ",") whose payload is
netstring(name) netstring(value) for each pair, in order; names repeat.
encode() and decode() work on bytes; request() sends one list over a
unix socket and reads the one list that answers it, as qmgr does with a
delivery agent (lib/deliver_proto.h).
"""

import fcntl
import os
import socket


def _netstring(data):
    return str(len(data)).encode() + b":" + data + b","


def _as_bytes(value):
    if isinstance(value, bytes):
        return value
    return str(value).encode()


def encode(pairs):
    """pairs: a list of (name, value); values may be str, int or bytes."""
    payload = b"".join(_netstring(_as_bytes(n)) + _netstring(_as_bytes(v))
                       for n, v in pairs)
    return _netstring(payload)


def _read_netstring(data, pos):
    """(bytes, next position) of the netstring at pos; ValueError when
    malformed (leading zeros, missing ':' or ',', short)."""
    colon = data.index(b":", pos)
    digits = data[pos:colon]
    if not digits.isdigit() or (len(digits) > 1 and digits[:1] == b"0"):
        raise ValueError("bad netstring length %r" % digits)
    n = int(digits)
    end = colon + 1 + n
    if end >= len(data) or data[end:end + 1] != b",":
        raise ValueError("netstring without its ','")
    return data[colon + 1:end], end + 1


def decode(data):
    """(pairs as a list of (str name, bytes value), bytes consumed)."""
    payload, consumed = _read_netstring(data, 0)
    pairs = []
    pos = 0
    while pos < len(payload):
        name, pos = _read_netstring(payload, pos)
        value, pos = _read_netstring(payload, pos)
        pairs.append((name.decode(), value))
    return pairs, consumed


def recv(sock, limit=4 * 1024 * 1024):
    """Reads exactly one list from sock; returns its pairs."""
    head = b""
    while not head.endswith(b":"):
        c = sock.recv(1)
        if not c:
            raise ConnectionError("end of file before a list")
        head += c
        if len(head) > 12:
            raise ValueError("list length too long")
    n = int(head[:-1])
    if n > limit:
        raise ValueError("list too big")
    rest = b""
    while len(rest) < n + 1:
        chunk = sock.recv(n + 1 - len(rest))
        if not chunk:
            raise ConnectionError("end of file inside a list")
        rest += chunk
    pairs, _ = decode(head + rest)
    return pairs


def sealed_memfd(data, seals=None):
    """A memory file holding data, sealed as qmgr seals a message's
    content for a root agent (lib/deliver_proto.h); the descriptor."""
    fd = os.memfd_create("test-content", os.MFD_CLOEXEC
                         | os.MFD_ALLOW_SEALING)
    os.write(fd, data)
    if seals is None:
        seals = (fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK
                 | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE)
    fcntl.fcntl(fd, fcntl.F_ADD_SEALS, seals)
    return fd


def request(path, pairs, timeout=30.0, content_fd=None):
    """Connects to the unix socket path, sends pairs (then content_fd
    with SCM_RIGHTS, as qmgr passes the content), returns the reply."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(encode(pairs))
        if content_fd is not None:
            socket.send_fds(s, [b"F"], [content_fd])
        return recv(s)


def groups(pairs, first):
    """Splits pairs into groups that start at each name `first`; pairs
    before the first group and after the last one are in the result's
    "rest" dict (the last value of each name)."""
    result, rest, cur = [], {}, None
    for name, value in pairs:
        if name == first:
            cur = {}
            result.append(cur)
        if cur is not None and name in ("status", "reason"):
            cur = None
        if cur is None:
            rest[name] = value.decode("utf-8", "replace")
        else:
            cur[name] = value.decode("utf-8", "replace")
    return result, rest
