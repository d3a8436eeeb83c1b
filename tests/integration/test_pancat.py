"""pancat: the header/body split of a stored message, wherever the queue's
64 KiB content chunks fall."""


import pytest

from panacea_test import unless_built
from smtp_helpers import (MYHOSTNAME, Session, mail_owner,  # noqa: F401
                          pancat, smtpd_setup)

pytestmark = unless_built("master", "smtpd", "pancat")

CHUNK = 64 * 1024


@pytest.fixture
def smtpd(instance, mail_owner):
    return instance, smtpd_setup(instance, mail_owner)


def message_with_split_at(received_len, at):
    """A message whose empty line's CR is the byte at offset at of the
    stored content (after smtpd's Received: header of received_len)."""
    header = b"Subject: chunks\r\n"
    pad = at - received_len - len(header) - len(b"X-Pad: \r\n")
    assert pad > 0
    # Folded so that no line is longer than smtpd's limits.
    filler = b"\r\n\t".join(b"p" * 70 for _ in range(pad // 73))
    filler += b"q" * (pad - len(filler))
    return header + b"X-Pad: " + filler + b"\r\n", b"body line\r\n"


@pytest.mark.parametrize("delta", [-1, 0, 1])
def test_header_body_split_across_chunks(smtpd, delta):
    inst, port = smtpd
    rcpt = "root@" + MYHOSTNAME
    # First find the length of the Received: header smtpd adds.
    with Session(inst.host, port) as s:
        qid = s.send_message("a@example.org", [rcpt], b"x\r\n.\r\n")
    received_len = len(pancat(inst, qid)) - len(b"x\r\n")
    head, body = message_with_split_at(received_len, CHUNK + delta)
    with Session(inst.host, port) as s:
        qid = s.send_message("a@example.org", [rcpt],
                             head + b"\r\n" + body + b".\r\n")
    whole = pancat(inst, qid, "-hb")
    assert whole.index(b"\r\n\r\n") == CHUNK + delta - 2
    assert pancat(inst, qid, "-h") == whole[:len(whole) - len(body)]
    assert pancat(inst, qid, "-b") == body
