"""smtp_peer - a small scripted SMTP server for the smtp client's tests.

Peer(address, port=25) listens on its own loopback address (root binds
port 25 on any 127.0.0.x) and serves sessions one after the other in a
thread.  What it answers is set by attributes before or between
deliveries:

  greeting      the greeting line ("220 ..." or "421 ...")
  ehlo_ok       False answers 502 to EHLO (the client falls back to HELO)
  extensions    the EHLO keywords ("PIPELINING", "SIZE 1000", "DSN", ...)
  rcpt_reply    dict: recipient address -> reply line for its RCPT
  mail_reply    the reply to MAIL FROM
  data_reply    the reply after the final "."
  tls_context   an ssl.SSLContext: STARTTLS is offered and works
  auth          (user, password): AUTH PLAIN is offered and checked
  auth_plain_only_tls  offer AUTH only after STARTTLS
  lmtp_replies  a list: the peer is an LMTP server (RFC 2033: LHLO, and
                after the final "." one reply per accepted recipient,
                these in order; None in the list drops the connection
                there instead)

Peer(..., concurrent=True) serves each session in a thread of its own.

and what it saw is kept in `sessions`: one dict per session with the
command lines ("commands"), the raw bytes of each DATA section exactly as
received up to and including the final ".\\r\\n" ("data"), whether TLS
was on and whether AUTH succeeded.  The data is the wire form: dot
stuffing and line endings are as the client sent them.
"""

import base64
import os
import socket
import ssl
import threading

import pytest

from panacea_test import LoopbackServer, scaled
from smtp_helpers import make_tls


class Peer(LoopbackServer):
    def __init__(self, address, port=25, name="peer.test", concurrent=False):
        self.address = address
        # Serve each session in a thread of its own (a sink for many
        # smtp processes at once, which keep their sessions open).
        self.concurrent = concurrent
        self.port = port
        self.name = name
        self.greeting = "220 %s ESMTP test peer" % name
        self.ehlo_ok = True
        self.extensions = ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES",
                           "DSN", "SMTPUTF8"]
        self.rcpt_reply = {}
        self.mail_reply = "250 2.1.0 Ok"
        self.data_reply = "250 2.0.0 Ok: queued as PEER%d"
        self.tls_context = None
        self.auth = None
        self.lmtp_replies = None
        self.sessions = []
        self.open_conns = set()
        self.lock = threading.Lock()
        super().__init__(address, port, backlog=16, reuse=True)

    def close(self):
        # A client that keeps its session open (smtp's connection cache)
        # would hold the serving thread until its read timed out.
        with self.lock:
            for conn in self.open_conns:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        super().close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def messages(self):
        """The DATA sections received, in order."""
        with self.lock:
            return [d for s in self.sessions for d in s["data"]]

    # -- serving -----------------------------------------------------------
    def accepted(self, conn):
        conn.settimeout(scaled(30))
        session = {"commands": [], "data": [], "tls": False, "auth": None}
        with self.lock:
            self.sessions.append(session)
            self.open_conns.add(conn)
        if self.concurrent:
            threading.Thread(target=self._session, args=(conn, session),
                             daemon=True).start()
        else:
            self._session(conn, session)

    def _session(self, conn, session):
        try:
            _Session(self, conn, session).run()
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            with self.lock:
                self.open_conns.discard(conn)
            try:
                conn.close()
            except OSError:
                pass


class _Session:
    def __init__(self, peer, conn, record):
        self.peer = peer
        self.conn = conn
        self.rec = record
        self.buf = b""

    def send(self, line):
        self.conn.sendall(line.encode() + b"\r\n")

    def readline(self):
        while b"\n" not in self.buf:
            chunk = self.conn.recv(65536)
            if not chunk:
                raise ValueError("eof")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def read_data(self):
        """Everything up to and including CRLF.CRLF, as received."""
        while True:
            data = self.buf
            if data.startswith(b".\r\n"):
                end = 3
            else:
                i = data.find(b"\r\n.\r\n")
                end = i + 5 if i >= 0 else -1
            if end >= 0:
                self.buf = data[end:]
                return data[:end]
            chunk = self.conn.recv(65536)
            if not chunk:
                raise ValueError("eof in data")
            self.buf += chunk

    def ehlo_lines(self):
        ext = list(self.peer.extensions)
        if self.peer.tls_context is not None and not self.rec["tls"]:
            ext.append("STARTTLS")
        if self.peer.auth is not None:
            ext.append("AUTH PLAIN LOGIN")
        return ext

    def run(self):
        p = self.peer
        self.send(p.greeting)
        if not p.greeting.startswith("2"):
            return
        rcpts = 0
        while True:
            line = self.readline()
            self.rec["commands"].append(line)
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO" or (verb == "LHLO" and
                                  p.lmtp_replies is not None):
                if not p.ehlo_ok:
                    self.send("502 5.5.2 Error: command not recognized")
                    continue
                ext = self.ehlo_lines()
                lines = [p.name] + ext
                for l in lines[:-1]:
                    self.send("250-" + l)
                self.send("250 " + lines[-1])
            elif verb == "HELO":
                self.send("250 " + p.name)
            elif verb == "STARTTLS" and p.tls_context is not None:
                self.send("220 2.0.0 Ready to start TLS")
                self.conn = p.tls_context.wrap_socket(self.conn,
                                                      server_side=True)
                self.buf = b""
                self.rec["tls"] = True
            elif verb == "AUTH" and p.auth is not None:
                self.auth(line)
            elif verb == "MAIL":
                rcpts = 0
                self.send(p.mail_reply)
            elif verb == "RCPT":
                addr = line.split(":", 1)[1].split(">")[0].lstrip(" <")
                reply = p.rcpt_reply.get(addr, "250 2.1.5 Ok")
                if reply.startswith("2"):
                    rcpts += 1
                self.send(reply)
            elif verb == "DATA":
                if rcpts == 0:
                    self.send("554 5.5.1 Error: no valid recipients")
                    continue
                self.send("354 End data with <CR><LF>.<CR><LF>")
                data = self.read_data()
                with p.lock:
                    self.rec["data"].append(data)
                    n = len([d for s in p.sessions for d in s["data"]])
                if p.lmtp_replies is not None:
                    for reply in p.lmtp_replies[:rcpts]:
                        if reply is None:
                            return
                        self.send(reply)
                    continue
                reply = p.data_reply
                self.send(reply % n if "%d" in reply else reply)
            elif verb == "RSET":
                rcpts = 0
                self.send("250 2.0.0 Ok")
            elif verb == "QUIT":
                self.send("221 2.0.0 Bye")
                return
            else:
                self.send("502 5.5.2 Error: command not recognized")

    def auth(self, line):
        parts = line.split()
        mech = parts[1].upper() if len(parts) > 1 else ""
        if mech != "PLAIN":
            self.send("504 5.5.4 Unsupported mechanism")
            return
        if len(parts) > 2:
            resp = parts[2]
        else:
            self.send("334 ")
            resp = self.readline()
        try:
            _, user, password = base64.b64decode(resp).decode().split("\0")
        except Exception:
            self.send("501 5.5.2 Bad response")
            return
        if (user, password) == self.peer.auth:
            self.rec["auth"] = user
            self.send("235 2.7.0 Authentication successful")
        else:
            self.send("535 5.7.8 Error: authentication failed")


def make_cert(d, name):
    """A test CA and a server certificate for name (smtp_helpers.make_tls);
    returns dict(ca=PATH, cert=PATH, key=PATH, server_context=SSLContext
    of that certificate)."""
    p = make_tls(d, name, ca_cn="Panacea Smtp Test CA")
    # The CA file is read by the agent as root before its jail; the
    # folder must be reachable.
    os.chmod(d, 0o755)
    os.chmod(p["ca"], 0o644)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(p["cert"], p["key"])
    p["server_context"] = ctx
    return p


@pytest.fixture
def peers():
    """Peers started by a test, closed after it."""
    started = []

    def start(address, **kw):
        p = Peer(address, **kw)
        started.append(p)
        return p

    yield start
    for p in started:
        p.close()
