"""netio: endpoints, deadlines, connecting and reading replies over real
sockets (a unix socket and a 127.0.0.1 TCP listener on threads)."""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest
from daemons import ListenServer, black_hole, unix_listener

from simscan.wire import netio
from simscan.wire.netio import Deadline, Endpoint, parse_endpoint, parse_endpoints

# --- endpoints ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/run/clamav/clamd.ctl", Endpoint(path="/run/clamav/clamd.ctl")),
        ("  /tmp/x.sock  ", Endpoint(path="/tmp/x.sock")),
        ("localhost", Endpoint(host="localhost", port=3310)),
        ("127.0.0.1", Endpoint(host="127.0.0.1", port=3310)),
        ("127.0.0.1:1234", Endpoint(host="127.0.0.1", port=1234)),
        ("10.1.2.3:65535", Endpoint(host="10.1.2.3", port=65535)),
        ("[::1]", Endpoint(host="::1", port=3310)),
        ("[::1]:3311", Endpoint(host="::1", port=3311)),
        ("[fe80::1%eth0]:1", Endpoint(host="fe80::1%eth0", port=1)),
    ],
)
def test_parse_endpoint(text: str, expected: Endpoint) -> None:
    assert parse_endpoint(text, 3310) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        ":3310",
        "127.0.0.1:",
        "127.0.0.1:0",
        "127.0.0.1:65536",
        "127.0.0.1:-1",
        "127.0.0.1:+1",
        "127.0.0.1:12a",
        "127.0.0.1:\u0663",  # a non-ASCII digit
        "::1",
        "::1:3310",
        "[::1",
        "[::1]3310",
        "[::1]:",
        "[::1]:x",
        "[]:3310",
        "[]",
        "a b:3310",
        "a\tb",
        "host/x:3310",
        "clamd.example.org:3310",  # names: looked up with no time limit
        "clamd.sock",  # a relative socket path is not a host
        "999.1.1.1",
    ],
)
def test_parse_endpoint_bad(text: str) -> None:
    with pytest.raises(ValueError):
        parse_endpoint(text, 3310)


def test_parse_endpoints() -> None:
    expected = [
        Endpoint(path="/run/a.sock"),
        Endpoint(host="10.0.0.1", port=3310),
        Endpoint(host="::1", port=4000),
    ]
    assert parse_endpoints("/run/a.sock, 10.0.0.1 [::1]:4000", 3310) == expected
    assert parse_endpoints("/run/a.sock,10.0.0.1,,[::1]:4000", 3310) == expected
    assert parse_endpoints(("/run/a.sock", "10.0.0.1", "[::1]:4000"), 3310) == expected
    assert parse_endpoints("", 3310) == []
    assert parse_endpoints((), 3310) == []
    with pytest.raises(ValueError):
        parse_endpoints("/ok.sock, bad:port", 3310)
    with pytest.raises(ValueError):
        parse_endpoints(("/ok.sock", "::1"), 3310)


def test_endpoint_str_and_eq() -> None:
    assert str(Endpoint(path="/run/clamd.ctl")) == "/run/clamd.ctl"
    assert str(Endpoint(host="127.0.0.1", port=3310)) == "127.0.0.1:3310"
    assert str(Endpoint(host="::1", port=3310)) == "[::1]:3310"
    assert repr(Endpoint(host="::1", port=1)) == "Endpoint('[::1]:1')"
    # str() reads back as the same endpoint
    for text in ("/x.sock", "localhost:1", "[::1]:2"):
        assert str(parse_endpoint(text, 3310)) == text
        assert parse_endpoint(str(parse_endpoint(text, 3310)), 9) == parse_endpoint(text, 3310)
    assert Endpoint(host="a", port=1) == Endpoint(host="a", port=1)
    assert Endpoint(host="a", port=1) != Endpoint(host="a", port=2)
    assert Endpoint(host="a", port=1) != Endpoint(host="b", port=1)
    assert Endpoint(path="/a") != Endpoint(path="/b")
    assert Endpoint(path="/a") != "/a"
    with pytest.raises(TypeError):
        hash(Endpoint(path="/a"))


# --- Deadline ------------------------------------------------------------------


def test_deadline() -> None:
    deadline = Deadline(60)
    assert 0 < deadline.left() <= 60
    with pytest.raises(TimeoutError):
        Deadline(0).left()
    with pytest.raises(TimeoutError):
        Deadline(-1).left()
    short = Deadline(0.01)
    time.sleep(0.02)
    with pytest.raises(TimeoutError):
        short.left()


# --- servers -------------------------------------------------------------------


Server = ListenServer  # keeps each connection open until close()


def tcp_listener() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(5)
    return s


def echo_line(conn: socket.socket) -> None:
    data = b""
    while not data.endswith(b"\n"):
        got = conn.recv(4096)
        if not got:
            break
        data += got
    conn.sendall(b"echo:" + data)
    conn.close()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., tuple[Endpoint, Server]]]:
    """serve(handler, unix=True) -> (endpoint, server), closed after the test."""
    servers: list[Server] = []

    def start(
        handler: Callable[[socket.socket], None], unix: bool = True
    ) -> tuple[Endpoint, Server]:
        if unix:
            path = tmp_path / f"s{len(servers)}.sock"
            server = Server(unix_listener(path), handler)
            endpoint = Endpoint(path=str(path))
        else:
            listener = tcp_listener()
            server = Server(listener, handler)
            endpoint = Endpoint(host="127.0.0.1", port=listener.getsockname()[1])
        servers.append(server)
        return endpoint, server

    yield start
    for server in servers:
        server.close()
        assert not server.errors


@pytest.mark.parametrize("unix", [True, False])
def test_connect_and_exchange(serve: Callable[..., tuple[Endpoint, Server]], unix: bool) -> None:
    endpoint, _ = serve(echo_line, unix)
    sock = netio.connect(endpoint, 5)
    try:
        assert 0 < (sock.gettimeout() or 0) <= 5
        assert sock.family == (socket.AF_UNIX if unix else socket.AF_INET)
        deadline = Deadline(5)
        netio.send_all(sock, b"hello\n", deadline)
        assert netio.read_until(sock, b"\n", deadline) == b"echo:hello\n"
    finally:
        sock.close()


def test_connect_by_name(serve: Callable[..., tuple[Endpoint, Server]]) -> None:
    endpoint, _ = serve(echo_line, False)
    sock = netio.connect(Endpoint(host="localhost", port=endpoint.port), 5)
    sock.close()


def test_connect_failures(tmp_path: Path) -> None:
    # ConnectFailed: the connection was not made (what connect raised is
    # kept, and what the log says of it is the same)
    with pytest.raises(netio.ConnectFailed) as missing:
        netio.connect(Endpoint(path=str(tmp_path / "nothing.sock")), 5)
    assert isinstance(missing.value.error, FileNotFoundError)
    assert isinstance(missing.value, OSError)
    assert missing.value.errno == errno.ENOENT
    assert not missing.value.timed_out
    assert missing.value.timeout == 5
    assert netio.describe(missing.value) == "no such socket"

    # A socket file that nobody listens on
    dead = tmp_path / "dead.sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(dead))
    s.close()
    with pytest.raises(netio.ConnectFailed) as refused:
        netio.connect(Endpoint(path=str(dead)), 5)
    assert isinstance(refused.value.error, ConnectionRefusedError)
    assert netio.describe(refused.value) == "connection refused"

    # A TCP port that nobody listens on (bound, not listening)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        with pytest.raises(netio.ConnectFailed) as tcp:
            netio.connect(Endpoint(host="127.0.0.1", port=port), 5)
        assert isinstance(tcp.value.error, ConnectionRefusedError)


def test_connect_timeout_is_a_connect_failure() -> None:
    # A listener whose accept queue is full: Linux drops the SYN, so the
    # connect times out (a host that does not answer)
    listener, fill = black_hole("127.0.0.1")
    try:
        port = listener.getsockname()[1]
        start = time.monotonic()
        with pytest.raises(netio.ConnectFailed) as err:
            netio.connect(Endpoint(host="127.0.0.1", port=port), 0.3)
        assert time.monotonic() - start >= 0.3
        assert err.value.timed_out
        assert err.value.timeout == 0.3
        assert netio.describe(err.value) == "timed out"
    finally:
        for s in [listener, *fill]:
            s.close()


def test_failures_after_connecting_are_not_connect_failures(
    serve: Callable[..., tuple[Endpoint, Server]],
) -> None:
    endpoint, _ = serve(lambda conn: None, False)
    with closing(netio.connect(endpoint, 5)) as sock, pytest.raises(TimeoutError) as err:
        netio.read_until(sock, b"\n", Deadline(0.1))
    assert not isinstance(err.value, netio.ConnectFailed)


def test_read_until_eof(serve: Callable[..., tuple[Endpoint, Server]]) -> None:
    def partial(conn: socket.socket) -> None:
        conn.sendall(b"no terminator")
        conn.close()

    endpoint, _ = serve(partial)
    with closing(netio.connect(endpoint, 5)) as sock:
        assert netio.read_until(sock, b"\0", Deadline(5)) == b"no terminator"


def test_read_until_pieces(serve: Callable[..., tuple[Endpoint, Server]]) -> None:
    """A reply that arrives a byte at a time is put together."""

    read = threading.Event()

    def slow(conn: socket.socket) -> None:
        for byte in b"stream: OK\0":
            conn.sendall(bytes([byte]))
            time.sleep(0.001)
        read.wait(5)  # the reader must stop at the terminator, not at EOF
        conn.close()

    endpoint, _ = serve(slow)
    with closing(netio.connect(endpoint, 5)) as sock:
        assert netio.read_until(sock, b"\0", Deadline(5)) == b"stream: OK\0"
    read.set()


def test_read_until_limit(serve: Callable[..., tuple[Endpoint, Server]]) -> None:
    def chatty(conn: socket.socket) -> None:
        conn.sendall(b"x" * 5000)
        conn.close()

    endpoint, _ = serve(chatty)
    with closing(netio.connect(endpoint, 5)) as sock, pytest.raises(ValueError) as err:
        netio.read_until(sock, b"\n", Deadline(5), limit=1000)
    assert "1000" in netio.describe(err.value)

    # exactly at the limit is fine
    endpoint, _ = serve(chatty)
    with closing(netio.connect(endpoint, 5)) as sock:
        assert netio.read_until(sock, b"\n", Deadline(5), limit=5000) == b"x" * 5000


@pytest.mark.parametrize("unix", [True, False])
def test_read_until_timeout(serve: Callable[..., tuple[Endpoint, Server]], unix: bool) -> None:
    done = threading.Event()

    def silent(conn: socket.socket) -> None:
        done.wait(10)

    endpoint, _ = serve(silent, unix)
    start = time.monotonic()
    try:
        with closing(netio.connect(endpoint, 5)) as sock, pytest.raises(TimeoutError) as err:
            netio.read_until(sock, b"\0", Deadline(0.2))
    finally:
        done.set()
    assert time.monotonic() - start < 10
    assert netio.describe(err.value) == "timed out"


def test_read_until_spent_deadline(serve: Callable[..., tuple[Endpoint, Server]]) -> None:
    """A spent deadline stops before reading, even with a reply waiting."""
    endpoint, _ = serve(lambda conn: conn.sendall(b"ready\n"))
    with closing(netio.connect(endpoint, 5)) as sock, pytest.raises(TimeoutError):
        time.sleep(0.05)
        netio.read_until(sock, b"\n", Deadline(0))


def test_pending_reply(serve: Callable[..., tuple[Endpoint, Server]]) -> None:
    say = threading.Event()
    said = threading.Event()
    hang_up = threading.Event()
    hung_up = threading.Event()

    def talker(conn: socket.socket) -> None:
        say.wait(5)
        conn.sendall(b"early\0")
        said.set()
        hang_up.wait(5)
        conn.close()
        hung_up.set()

    endpoint, _ = serve(talker)
    with closing(netio.connect(endpoint, 5)) as sock:
        assert not netio.pending_reply(sock)
        say.set()
        said.wait(5)
        assert netio.pending_reply(sock)
        assert netio.pending_reply(sock)  # only peeked: still there
        assert netio.read_until(sock, b"\0", Deadline(5)) == b"early\0"
        assert not netio.pending_reply(sock)
        hang_up.set()
        hung_up.wait(5)
        assert netio.pending_reply(sock)  # a hang-up counts
        assert netio.read_until(sock, b"\0", Deadline(5)) == b""


def test_describe() -> None:
    assert netio.describe(TimeoutError()) == "timed out"
    assert netio.describe(TimeoutError(110, "Connection timed out")) == "timed out"
    assert netio.describe(FileNotFoundError(2, "No such file or directory")) == "no such socket"
    assert netio.describe(ConnectionRefusedError(111, "Connection refused")) == (
        "connection refused"
    )
    assert netio.describe(PermissionError(13, "Permission denied")) == "permission denied"
    assert netio.describe(OSError("no address")) == "no address"
    assert netio.describe(ValueError("reply longer than 10 bytes")) == (
        "reply longer than 10 bytes"
    )
    assert netio.describe(OSError()) == "OSError"
