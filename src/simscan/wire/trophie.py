"""The Trophie / Sophie socket protocol (SPEC section 5).

Connect to the daemon's unix socket, send the path of a directory and a
newline, read one line back: `1:NAME` is a virus, `-1` or `-2` an error,
anything else (`0`) clean.  The daemon scans the files in the directory, so
the MIME parts must have been written there first (mime.extract).

A connection closed with no answer at all is an error here, not "clean":
a daemon that crashed on a message must not pass it.
"""

from .netio import Deadline, Endpoint, connect, read_until, send_all

CLEAN = "clean"
FOUND = "found"
ERROR = "error"


def ask(socket_path: str, directory: str, deadline: Deadline) -> bytes:
    """Have the daemon scan `directory`; its raw one-line answer."""
    sock = connect(Endpoint(path=socket_path), deadline.left())
    try:
        send_all(sock, directory.encode("utf-8", "surrogateescape") + b"\n", deadline)
        return read_until(sock, b"\n", deadline)
    finally:
        sock.close()


def parse_answer(raw: bytes) -> tuple[str, bytes]:
    """(CLEAN | FOUND | ERROR, virus name or error text)."""
    text = raw.strip()
    if text.startswith(b"-") or not text:  # -1, -2 (or one cut short)
        return ERROR, text or b"no answer"
    if text == b"1" or text.startswith(b"1:"):
        return FOUND, text.partition(b":")[2].strip() or b"unknown"
    return CLEAN, b""
