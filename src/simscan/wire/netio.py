"""Scanner daemon endpoints and the sockets to them (clamd, Trophie, spamd).

No protocol and no policy here: an Endpoint is a unix socket path or a
host and port; `connect()` gives a connected stream socket, or says with
ConnectFailed that the connection was not made; a Deadline
turns one time budget into the timeout of each call; `read_until()` reads
a reply up to its terminator within the budget.

`_socket` is used directly: `import socket` costs about 7 ms per message
(it builds enums and imports selectors) for wrappers we do not need.
"""

import time

# mypy reads any name TYPE_CHECKING as true: it checks against socket's
# stubs, and nothing imports socket at run time.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import socket as _socket
    from io import FileIO
    from typing import Any
else:
    import _socket

MAX_REPLY = 64 * 1024  # a one-line scanner reply longer than this is garbage


class Endpoint:
    """Where a daemon listens: `path` (unix socket) or `host` and `port`."""

    __slots__ = ("host", "path", "port")

    def __init__(self, path: str = "", host: str = "", port: int = 0) -> None:
        self.path = path
        self.host = host
        self.port = port

    def __str__(self) -> str:
        if self.path:
            return self.path
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def shown(self) -> str:
        """For the log line, whose fields are split on ':' (so an IPv6
        address still has its colons turned into '_')."""
        return self.path or f"{self.host} port {self.port}"

    def __repr__(self) -> str:
        return f"Endpoint({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Endpoint):
            return NotImplemented
        return (self.path, self.host, self.port) == (other.path, other.host, other.port)

    __hash__ = None  # type: ignore[assignment]


def parse_endpoint(text: str, default_port: int) -> Endpoint:
    """`/path/to/socket`, `host`, `host:port`, `[v6addr]` or `[v6addr]:port`."""
    text = text.strip()
    if text.startswith("/"):
        return Endpoint(path=text)
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"bad endpoint {text!r} (expected [address]:port)")
        port_text = rest[1:]
    elif text.count(":") > 1:
        raise ValueError(f"bad endpoint {text!r} (an IPv6 address needs brackets: [::1]:3310)")
    else:
        host, _, port_text = text.partition(":")
    if not host or any(c in host for c in " \t/"):
        raise ValueError(f"bad endpoint {text!r} (expected a /socket path or host:port)")
    if host != "localhost" and not _is_address(host):
        raise ValueError(
            f"bad endpoint {text!r} (a socket path starts with /; a host must be an IP"
            " address or localhost, as a name would be looked up with no time limit)"
        )
    port = default_port
    if port_text or text.endswith(":"):
        if not port_text.isdigit() or not port_text.isascii() or not 0 < int(port_text) < 65536:
            raise ValueError(f"bad port in endpoint {text!r}")
        port = int(port_text)
    return Endpoint(host=host, port=port)


def _is_address(host: str) -> bool:
    for family in (_socket.AF_INET, _socket.AF_INET6):
        try:
            _socket.inet_pton(family, host.partition("%")[0])  # fe80::1%eth0
        except (OSError, ValueError):
            continue
        return True
    return False


def parse_endpoints(value: str | tuple[str, ...], default_port: int) -> list[Endpoint]:
    """One endpoint, a comma- or space-separated string of them, or a tuple."""
    items = value.replace(",", " ").split() if isinstance(value, str) else value
    return [parse_endpoint(item, default_port) for item in items]


class Deadline:
    """One time budget for a whole exchange."""

    __slots__ = ("end",)

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        """Seconds left; TimeoutError once the budget is spent."""
        left = self.end - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out")
        return left


class ConnectFailed(OSError):
    """connect() could not make the connection (refused, no such socket,
    no answer within its timeout): unlike a failure after the daemon
    answered, this says the endpoint is down or unreachable.  `error` is
    what the connect raised, `timeout` the seconds it was given."""

    def __init__(self, error: OSError, timeout: float) -> None:
        if error.errno is None:
            super().__init__(*error.args)
        else:
            super().__init__(error.errno, error.strerror)
        self.error = error
        self.timeout = timeout

    @property
    def timed_out(self) -> bool:
        return isinstance(self.error, TimeoutError)


def connect(endpoint: Endpoint, timeout: float) -> "_socket.socket":
    """A connected stream socket (timeout set); ConnectFailed when the
    connection cannot be made (what socket() or getaddrinfo raise, local
    troubles, pass as they are).

    A host name (only clamd.conf's TCPAddr can give one) is resolved with
    getaddrinfo, which has no timeout.  A unix socket whose listen backlog
    is full is waited for, as a blocking connect would, until the timeout.
    """
    deadline = Deadline(timeout)
    candidates: list[tuple[int, int, int, Any]]
    if endpoint.path:
        candidates = [(_socket.AF_UNIX, _socket.SOCK_STREAM, 0, endpoint.path)]
    else:
        # An ASCII host as bytes: given str, getaddrinfo encodes it with the
        # idna codec, which imports re and unicodedata (~5 ms per message).
        host = endpoint.host
        candidates = [
            (family, kind, proto, address)
            for family, kind, proto, _, address in _socket.getaddrinfo(
                host.encode() if host.isascii() else host, endpoint.port, 0, _socket.SOCK_STREAM
            )
        ]
    error: OSError = OSError("no address")
    for family, kind, proto, address in candidates:
        sock = _socket.socket(family, kind, proto)
        try:
            _connect(sock, address, deadline)
        except BaseException as err:
            sock.close()
            if not isinstance(err, OSError):
                raise
            error = ConnectFailed(err, timeout)
            continue
        return sock
    raise error


def _connect(sock: "_socket.socket", address: "Any", deadline: Deadline) -> None:
    delay = 0.001
    while True:
        sock.settimeout(deadline.left())
        try:
            sock.connect(address)
            return
        except BlockingIOError:
            # EAGAIN: a unix listener's backlog is full (a busy clamd).
            if sock.family != _socket.AF_UNIX:
                raise
        time.sleep(min(delay, deadline.left()))
        delay = min(delay * 2, 0.05)


def send_all(sock: "_socket.socket", data: bytes | memoryview, deadline: Deadline) -> None:
    sock.settimeout(deadline.left())
    sock.sendall(data)


def send_file(
    sock: "_socket.socket", f: "FileIO", size: int, deadline: Deadline, chunk: int = 256 * 1024
) -> bool:
    """Send `size` bytes of an open file in chunks; False when the file
    ends first (the caller's protocol names that error)."""
    view = memoryview(bytearray(chunk))
    sent = 0
    while sent < size:
        n = f.readinto(view[: min(chunk, size - sent)])
        if not n:
            return False
        send_all(sock, view[:n], deadline)
        sent += n
    return True


def read_until(
    sock: "_socket.socket", end: bytes, deadline: Deadline, limit: int = MAX_REPLY
) -> bytes:
    """Bytes up to and including `end`, or up to EOF (the caller checks).

    TimeoutError when the budget runs out first; ValueError past `limit`.
    """
    data = b""
    while not data.endswith(end):
        sock.settimeout(deadline.left())
        got = sock.recv(65536)
        if not got:
            break
        data += got
        if len(data) > limit:
            raise ValueError(f"reply longer than {limit} bytes")
    return data


def pending_reply(sock: "_socket.socket") -> bool:
    """Has the daemon said something (or hung up) while we were sending?"""
    # Non-blocking for this one call: with a timeout set, recv would first
    # wait up to that long for something to read.
    sock.settimeout(0.0)
    try:
        sock.recv(1, _socket.MSG_PEEK)
    except BlockingIOError:
        return False
    except OSError:
        return True
    return True


def describe(err: BaseException) -> str:
    """A short reason for the log line: `connection refused`, `timed out`."""
    if isinstance(err, ConnectFailed):
        err = err.error
    if isinstance(err, TimeoutError):
        return "timed out"
    if isinstance(err, FileNotFoundError):
        return "no such socket"
    if isinstance(err, OSError) and err.strerror:
        return err.strerror.lower()
    return str(err) or type(err).__name__
