"""The clamd socket protocol (clamd(8)), and what a local clamd.conf says.

Commands are sent in the `z` form (NUL-terminated, NUL-terminated reply):

- INSTREAM: the message in chunks, each a 4-byte big-endian length and the
  bytes, then a zero length; clamd parses the MIME itself and scans every
  decoded part.  A stream longer than clamd's StreamMaxLength is answered
  with `INSTREAM size limit exceeded. ERROR` (and the connection closed),
  which parse_reply() reports as TOO_LONG.
- FILDES (unix sockets only): the open file itself is passed to clamd,
  which reads it directly; no StreamMaxLength applies.
- VERSION: `ClamAV 1.4.6/27437/Mon Nov 23 09:30:00 2026` (engine, daily
  database version and date; the engine alone with no official database).

No policy here: the scanner (simscan.virus) decides what a reply means for
the message.
"""

import sys

from .netio import Deadline, Endpoint, pending_reply, read_until, send_all

TYPE_CHECKING = False
if TYPE_CHECKING:
    import socket as _socket
    from io import FileIO
else:
    import _socket

DEFAULT_PORT = 3310
DEFAULT_CONF = "/etc/clamav/clamd.conf"
CHUNK = 256 * 1024

OK = "ok"
FOUND = "found"
ERROR = "error"
TOO_LONG = "too long"


class ProtocolError(Exception):
    """clamd said something that is not a clamd reply."""


class Reply:
    """A parsed scan reply: kind OK, FOUND (text = the virus name), ERROR
    (text = clamd's reason) or TOO_LONG."""

    __slots__ = ("kind", "text")

    def __init__(self, kind: str, text: bytes = b"") -> None:
        self.kind = kind
        self.text = text

    def __repr__(self) -> str:
        return f"Reply({self.kind!r}, {self.text!r})"


def parse_reply(raw: bytes) -> Reply:
    """`stream: OK`, `stream: NAME FOUND`, `... ERROR` (also `fd[7]: ...`)."""
    text = raw.rstrip(b"\0").rstrip(b"\r\n")
    if text.endswith(b" ERROR"):
        reason = text[:-6]
        if b"size limit exceeded" in reason:
            return Reply(TOO_LONG, reason)
        return Reply(ERROR, reason.partition(b": ")[2] or reason)
    label, sep, rest = text.partition(b": ")
    if sep and label and b"\0" not in text:
        if rest == b"OK":
            return Reply(OK)
        if rest.endswith(b" FOUND") and len(rest) > 6:
            return Reply(FOUND, rest[:-6])
    shown = text[:200].decode("ascii", "replace")
    raise ProtocolError(f"unexpected reply {shown!r}" if text else "no reply")


def instream(sock: "_socket.socket", f: "FileIO", deadline: Deadline) -> bytes:
    """Send the file with INSTREAM; the raw reply.

    If clamd answers before the whole file is sent (the size limit), the
    rest is not sent and that answer is returned.
    """
    send_all(sock, b"zINSTREAM\0", deadline)
    buf = bytearray(4 + CHUNK)
    view = memoryview(buf)
    while True:
        n = f.readinto(view[4:])
        if n:
            buf[:4] = n.to_bytes(4, "big")
        try:
            # (the terminator too: clamd may answer the last chunk and hang
            # up before it is sent)
            send_all(sock, view[: 4 + n] if n else b"\0\0\0\0", deadline)
        except (BrokenPipeError, ConnectionResetError):
            break  # clamd hung up: its reason may still be there to read
        if not n or pending_reply(sock):
            break
    return _terminated(read_until(sock, b"\0", deadline))


def fildes(sock: "_socket.socket", fd: int, deadline: Deadline) -> bytes:
    """Pass the open file to clamd (unix sockets only); the raw reply."""
    send_all(sock, b"zFILDES\0", deadline)
    sock.settimeout(deadline.left())
    # One byte of data carries the descriptor (SCM_RIGHTS), as clamdscan's
    # --fdpass does.
    rights = fd.to_bytes(4, sys.byteorder)
    sock.sendmsg([b"\0"], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, rights)])
    return _terminated(read_until(sock, b"\0", deadline))


def _terminated(reply: bytes) -> bytes:
    """A z-command reply ends with its NUL; one cut short (clamd died mid
    reply) is not an answer, whatever its first bytes say."""
    if not reply.endswith(b"\0"):
        raise ProtocolError("reply cut short" if reply else "no reply")
    return reply


def version(sock: "_socket.socket", deadline: Deadline) -> bytes:
    """clamd's VERSION reply, e.g. `ClamAV 1.4.6/27437/Mon Nov 23 ...`."""
    send_all(sock, b"zVERSION\0", deadline)
    reply = read_until(sock, b"\0", deadline).rstrip(b"\0").strip()
    if not reply.startswith(b"ClamAV "):
        raise ProtocolError(f"unexpected VERSION reply {reply[:200]!r}")
    return reply


class Conf:
    """What simscan needs from clamd.conf: where clamd listens, in the
    order clamdscan tries (LocalSocket, then TCPAddr:TCPSocket), and its
    StreamMaxLength (0 when the file does not say)."""

    __slots__ = ("endpoints", "stream_max")

    def __init__(self, endpoints: list[Endpoint], stream_max: int) -> None:
        self.endpoints = endpoints
        self.stream_max = stream_max


def read_conf(path: str) -> Conf:
    """Parse clamd.conf (OSError if it cannot be read, ValueError if bad)."""
    with open(path, "rb") as f:
        text = f.read(1 << 20).decode("utf-8", "replace")
    local = ""
    port = 0
    addresses: list[str] = []
    # Unknown when the file does not say (clamd's default has changed
    # between versions): clamd's answer tells.
    stream_max = 0
    seen: set[str] = set()
    for raw in text.splitlines():
        # As clamd reads it: the name ends at the first blank or tab; an
        # option that is not a list keeps its first value.
        key, _, value = raw.strip().replace("\t", " ").partition(" ")
        if not key or key.startswith("#"):
            continue
        value = value.strip().strip('"')
        first = key not in seen
        seen.add(key)
        if key == "LocalSocket":
            if first:
                local = value
        elif key == "TCPSocket":
            if not value.isdigit():
                raise ValueError(f"TCPSocket {value!r} is not a port")
            if first:
                port = int(value)
        elif key == "TCPAddr":
            addresses.append(value)
        elif key == "StreamMaxLength":
            size = parse_size(value)
            if first:
                stream_max = size
    endpoints = [Endpoint(path=local)] if local else []
    if port:
        for address in addresses or ["127.0.0.1"]:
            endpoints.append(Endpoint(host=address, port=port))
    return Conf(endpoints, stream_max)


def where(setting: tuple[str, ...], conf_path: str) -> Conf:
    """Where clamd is: the `clamd` setting's endpoints (limit unknown), or
    else clamd.conf's, as clamdscan finds them.  OSError when clamd.conf
    cannot be read, ValueError when it is bad or names no endpoint."""
    from .netio import parse_endpoints

    if setting:
        return Conf(parse_endpoints(setting, DEFAULT_PORT), 0)
    conf = read_conf(conf_path)
    if not conf.endpoints:
        raise ValueError("names no LocalSocket or TCPSocket")
    return conf


def parse_size(value: str) -> int:
    """A clamd.conf size: bytes, or with a K, M or G suffix."""
    units = {"k": 1024, "m": 1024 * 1024, "g": 1024 * 1024 * 1024}
    scale = units.get(value[-1:].lower(), 1)
    digits = value[:-1] if scale > 1 else value
    if not digits.isdigit():
        raise ValueError(f"bad size {value!r}")
    return int(digits) * scale
