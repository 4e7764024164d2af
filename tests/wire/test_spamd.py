"""spamd: the SPAMD protocol (PROCESS) against an in-test spamd on a unix
socket, the answer's head, SpamAssassin's X-Spam-* headers as spamc prints
them, and spamc's own options."""

from __future__ import annotations

import itertools
import shlex
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from daemons import ListenServer, unix_listener

from simscan.wire import spamd
from simscan.wire.netio import Deadline, Endpoint, connect
from simscan.wire.spamd import (
    CHUNK,
    DEFAULT_PORT,
    MAX_HEAD,
    Answer,
    ProtocolError,
    parse_head,
    parse_spam_header,
    request_head,
    spamc_options,
    split_args,
    status_from_headers,
)

# --- request_head ----------------------------------------------------------------


def test_request_head_without_user() -> None:
    assert request_head(0, None) == b"PROCESS SPAMC/1.5\r\nContent-length: 0\r\n\r\n"
    assert request_head(1234, b"") == b"PROCESS SPAMC/1.5\r\nContent-length: 1234\r\n\r\n"


def test_request_head_with_user() -> None:
    assert request_head(1234, b"joe@example.com") == (
        b"PROCESS SPAMC/1.5\r\nContent-length: 1234\r\nUser: joe@example.com\r\n\r\n"
    )


@pytest.mark.parametrize(
    ("user", "shown"),
    [
        (b"jo\r\ne@example.com\n", b"joe@example.com"),
        (b"\r\nInjected: header", b"Injected: header"),
        (b"a\rb\nc\r\n", b"abc"),
        # spamd refuses a User header with any control byte (EX_PROTOCOL)
        (b"a\tb\x00c\x1fd", b"abcd"),
        (b"caf\xc3\xa9", b"caf\xc3\xa9"),  # bytes above 0x7f are allowed
    ],
)
def test_request_head_user_stripped(user: bytes, shown: bytes) -> None:
    head = request_head(5, user)
    assert head == b"PROCESS SPAMC/1.5\r\nContent-length: 5\r\nUser: " + shown + b"\r\n\r\n"
    # one header line per \r\n: nothing got through as a header of its own
    assert head.count(b"\n") == head.count(b"\r\n") == 4


@pytest.mark.parametrize("user", [b"\r\n", b"\n", b"\r", b"\t\x00"])
def test_request_head_user_of_line_breaks_only(user: bytes) -> None:
    """Nothing left of the user: no `User: ` header with an empty value."""
    assert request_head(5, user) == b"PROCESS SPAMC/1.5\r\nContent-length: 5\r\n\r\n"


# --- parse_head / parse_spam_header ---------------------------------------------------


def test_parse_head() -> None:
    answer = parse_head(b"SPAMD/1.1 0 EX_OK\r\nContent-length: 42\r\nSpam: True ; 1002.7 / 5.0")
    assert (answer.spam, answer.score, answer.required, answer.length) == (True, 1002.7, 5.0, 42)
    assert repr(answer) == "Answer(spam=True, 1002.7/5.0, 42 bytes)"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (
            b"SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\nSpam: False ; 1.2 / 5.0",
            (False, 1.2, 5.0, 0),
        ),
        (b"SPAMD/1.1 0 EX_OK\r\nSpam: Yes ; 7 / 5\r\nContent-length: 9", (True, 7.0, 5.0, 9)),
        (b"SPAMD/1.1 0 EX_OK\r\nContent-length: 9\r\nSpam: No ; -1.2 / 5.0", (False, -1.2, 5.0, 9)),
        (b"SPAMD/1.1 0 EX_OK\r\nContent-length: 9\r\nSpam: no;-0.0/-3.5", (False, 0.0, -3.5, 9)),
        (
            b"SPAMD/1.1 0 EX_OK\r\ncontent-LENGTH:   17  \r\nSPAM:   TRUE   ;  12.5  /  5.0  ",
            (True, 12.5, 5.0, 17),
        ),
        (b"SPAMD/1.1 0 EX_OK\r\nCONTENT-LENGTH:3\r\nspam:yes;1/2", (True, 1.0, 2.0, 3)),
        # other headers are ignored; SPAMD/1.0 and 1.5 status lines are fine
        (
            b"SPAMD/1.5 0 EX_OK\r\nContent-length: 1\r\nDidSet: local\r\nSpam: False ; 0 / 5",
            (False, 0.0, 5.0, 1),
        ),
        (b"SPAMD/1.1 0\r\nContent-length: 1\r\nSpam: False ; 0 / 5", (False, 0.0, 5.0, 1)),
        (
            b"SPAMD/1.1 0 EX_OK\r\nContent-length: 123456789012\r\nSpam: True ; 5 / 5",
            (True, 5.0, 5.0, 123456789012),
        ),
    ],
)
def test_parse_head_variants(head: bytes, expected: tuple[bool, float, float, int]) -> None:
    answer = parse_head(head)
    assert (answer.spam, answer.score, answer.required, answer.length) == expected


@pytest.mark.parametrize(
    "status",
    [
        b"SPAMD/1.1 76 Bad header line",
        b"SPAMD/1.0 76 Bad header line: (Content-length mismatch: 10 vs. 9)",
        b"SPAMD/1.0 74 EX_IOERR",
        b"SPAMD/1.0 69 Service Unavailable: TELL commands are not enabled",
        b"SPAMD/1.1 1 EX_OK",
    ],
)
def test_parse_head_refusal(status: bytes) -> None:
    head = status + b"\r\nContent-length: 1\r\nSpam: False ; 0 / 5"
    with pytest.raises(ProtocolError, match="refused") as caught:
        parse_head(head)
    assert status.split()[1].decode() in str(caught.value)
    with pytest.raises(ProtocolError, match="refused"):
        parse_head(status)


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"\r\n",
        b"SPAMD/1.1",
        b"HTTP/1.1 200 OK\r\nContent-length: 1\r\nSpam: False ; 0 / 5",
        b"spamd/1.1 0 EX_OK\r\nContent-length: 1\r\nSpam: False ; 0 / 5",
        b"garbage\xff\r\n\r\n",
        # no Content-length, no Spam header
        b"SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1002.7 / 5.0",
        b"SPAMD/1.1 0 EX_OK\r\nContent-length: 10",
        b"SPAMD/1.1 0 EX_OK",
        # a length that is not a number of bytes
        b"SPAMD/1.1 0 EX_OK\r\nContent-length: abc\r\nSpam: True ; 1 / 5",
        b"SPAMD/1.1 0 EX_OK\r\nContent-length: -1\r\nSpam: True ; 1 / 5",
        b"SPAMD/1.1 0 EX_OK\r\nContent-length: 1.5\r\nSpam: True ; 1 / 5",
        b"SPAMD/1.1 0 EX_OK\r\nContent-length: +1\r\nSpam: True ; 1 / 5",
        b"SPAMD/1.1 0 EX_OK\r\nContent-length: \r\nSpam: True ; 1 / 5",
        b"SPAMD/1.1 0 EX_OK\r\nContent-length: 1 2\r\nSpam: True ; 1 / 5",
        b"SPAMD/1.1 0 EX_OK\r\nContent-length: \xd9\xa3\r\nSpam: True ; 1 / 5",
        # a header line without ':'
        b"SPAMD/1.1 0 EX_OK\r\nContent-length: 1\r\nSpam True ; 1 / 5",
        b"SPAMD/1.1 0 EX_OK\r\nContent-length: 1\r\nSpam: True ; 1 / 5\r\nbogus",
        b"SPAMD/1.1 0 EX_OK\r\nContent-length: 1\r\n\r\nSpam: True ; 1 / 5",
        # a bad Spam header
        b"SPAMD/1.1 0 EX_OK\r\nContent-length: 1\r\nSpam: Maybe ; 1 / 5",
    ],
)
def test_parse_head_bad(head: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_head(head)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"True ; 1002.7 / 5.0", (True, 1002.7, 5.0)),
        (b"False ; 1.2 / 5.0", (False, 1.2, 5.0)),
        (b"Yes ; 7.1 / 5.0", (True, 7.1, 5.0)),
        (b"No ; 0.0 / 5.0", (False, 0.0, 5.0)),
        (b"true;1/2", (True, 1.0, 2.0)),
        (b"FALSE ; -1.2 / 5.0", (False, -1.2, 5.0)),
        (b"  no  ;  -12.25  /  -1  ", (False, -12.25, -1.0)),
        (b"True ; +3 / 5", (True, 3.0, 5.0)),
    ],
)
def test_parse_spam_header(value: bytes, expected: tuple[bool, float, float]) -> None:
    assert parse_spam_header(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b"True",
        b"True 1.0 / 5.0",
        b"True ; 1.0 5.0",
        b"True ; 1.0 /",
        b"True ; / 5.0",
        b"True ; x / 5.0",
        b"True ; 1.0 / 5.0 / 6.0",
        b"Maybe ; 1.0 / 5.0",
        b"1 ; 1.0 / 5.0",
        b"; 1.0 / 5.0",
    ],
)
def test_parse_spam_header_bad(value: bytes) -> None:
    with pytest.raises(ProtocolError, match="bad Spam header"):
        parse_spam_header(value)


def test_answer_repr() -> None:
    assert repr(Answer(False, -1.5, 5.0, 0)) == "Answer(spam=False, -1.5/5.0, 0 bytes)"


# --- process() against an in-test spamd ----------------------------------------------


def recv_exact(conn: socket.socket, n: int) -> bytes:
    """n bytes, or fewer when the peer hangs up first."""
    data = bytearray()
    while len(data) < n:
        got = conn.recv(min(n - len(data), 1 << 16))
        if not got:
            break
        data += got
    return bytes(data)


class Request:
    """What the in-test spamd received on one connection."""

    def __init__(self) -> None:
        self.method = b""
        self.headers: dict[bytes, bytes] = {}  # as sent, names not folded
        self.body = b""
        self.trailing = b""  # anything after Content-length bytes, up to EOF

    @property
    def length(self) -> int:
        return int(self.headers[b"Content-length"])


Respond = Callable[[socket.socket, Request], None]


class FakeSpamd(ListenServer):
    """A spamd on a unix socket, on a thread: it reads a request as spamd
    does (head up to the blank line, then Content-length bytes), lets
    `respond` answer it, then reads to EOF (the client hanging up)."""

    def __init__(self, path: str, respond: Respond) -> None:
        self.path = path
        self.respond = respond
        self.requests: list[Request] = []
        self.finished = threading.Semaphore(0)  # released per connection done
        super().__init__(unix_listener(Path(path), 5), close_each=True)

    def handle(self, conn: socket.socket) -> None:
        request = Request()
        self.requests.append(request)
        conn.settimeout(10)
        try:
            self._handle(conn, request)
        finally:
            self.finished.release()

    def _handle(self, conn: socket.socket, request: Request) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            got = conn.recv(1)  # one byte at a time: never past the head
            if not got:
                request.method = head  # the client gave up before its head was out
                return
            head += got
        lines = head[:-4].split(b"\r\n")
        request.method = lines[0]
        for line in lines[1:]:
            name, colon, value = line.partition(b": ")
            assert colon, f"bad request header line {line!r}"
            assert name not in request.headers, f"{name!r} twice"
            request.headers[name] = value
        request.body = recv_exact(conn, request.length)
        self.respond(conn, request)
        while True:
            got = conn.recv(1 << 16)
            if not got:
                break
            request.trailing += got

    def connect(self) -> socket.socket:
        return connect(Endpoint(path=self.path), 5)


@pytest.fixture
def serve() -> Iterator[Callable[[Respond], FakeSpamd]]:
    # A short directory of its own: pytest's tmp_path can be too long for
    # a unix socket's 108 bytes.
    with tempfile.TemporaryDirectory(prefix="spamd") as directory:
        servers: list[FakeSpamd] = []

        def start(respond: Respond) -> FakeSpamd:
            server = FakeSpamd(f"{directory}/{len(servers)}.sock", respond)
            servers.append(server)
            return server

        yield start
        for server in servers:
            server.close()
        for server in servers:
            if server.errors:
                raise server.errors[0]


Serve = Callable[[Respond], FakeSpamd]


def answer(body: bytes, spam: bytes = b"True ; 7.5 / 5.0", length: int | None = None) -> bytes:
    """spamd's answer to PROCESS, as spamd writes it (one buffer)."""
    size = len(body) if length is None else length
    return b"SPAMD/1.1 0 EX_OK\r\nContent-length: %d\r\nSpam: %s\r\n\r\n%s" % (size, spam, body)


def processed(message: bytes) -> bytes:
    """What the in-test SpamAssassin makes of a message."""
    return b"X-Spam-Flag: YES\nX-Spam-Status: Yes, score=7.5 required=5.0\n" + message


def process_answer(conn: socket.socket, request: Request) -> None:
    """As spamd does: the answer in one buffer, then hang up."""
    conn.sendall(answer(processed(request.body)))
    conn.shutdown(socket.SHUT_WR)


def run(
    server: FakeSpamd,
    tmp_path: Path,
    message: bytes,
    *,
    size: int | None = None,
    user: bytes | None = None,
    seconds: float = 5.0,
) -> tuple[Answer, bytes]:
    """process() the message; (the answer, what was written to `out`).
    The connection is closed before returning, so the server has seen
    everything the client sent (Request.trailing)."""
    source = tmp_path / "message"
    source.write_bytes(message)
    target = tmp_path / "processed"
    sock = server.connect()
    try:
        with open(source, "rb", buffering=0) as f, open(target, "wb") as out:
            size = len(message) if size is None else size
            got = spamd.process(sock, f, size, user, out.write, Deadline(seconds))
    finally:
        sock.close()
        assert server.finished.acquire(timeout=5)
    return got, target.read_bytes()


def check_request(request: Request, message: bytes, user: bytes | None = None) -> None:
    assert request.method == b"PROCESS SPAMC/1.5"
    assert request.length == len(request.body)
    assert request.body == message
    assert request.trailing == b""
    assert request.headers.get(b"User") == user
    assert set(request.headers) <= {b"Content-length", b"User"}


@pytest.mark.parametrize(
    "size",
    [0, 1, 1000, MAX_HEAD - 1, MAX_HEAD + 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 12345],
)
def test_process(serve: Serve, tmp_path: Path, size: int) -> None:
    message = (b"Subject: test\n\n" + bytes(range(256)) * (size // 256 + 1))[:size]
    server = serve(process_answer)
    got, out = run(server, tmp_path, message)
    assert (got.spam, got.score, got.required) == (True, 7.5, 5.0)
    assert got.length == len(processed(message))
    assert out == processed(message)
    check_request(server.requests[0], message)


def test_process_user(serve: Serve, tmp_path: Path) -> None:
    server = serve(process_answer)
    run(server, tmp_path, b"Subject: x\n\nhi\n", user=b"joe@example.com")
    check_request(server.requests[0], b"Subject: x\n\nhi\n", user=b"joe@example.com")


def test_process_user_line_breaks_stripped(serve: Serve, tmp_path: Path) -> None:
    server = serve(process_answer)
    run(server, tmp_path, b"hi\n", user=b"joe\r\nContent-length: 1\r\n")
    check_request(server.requests[0], b"hi\n", user=b"joeContent-length: 1")


def test_process_empty_answer_body(serve: Serve, tmp_path: Path) -> None:
    """An empty message, and an empty processed message: nothing written."""

    def empty(conn: socket.socket, request: Request) -> None:
        conn.sendall(answer(b"", spam=b"False ; 0.0 / 5.0"))

    server = serve(empty)
    got, out = run(server, tmp_path, b"")
    assert (got.spam, got.score, got.required, got.length) == (False, 0.0, 5.0, 0)
    assert out == b""
    check_request(server.requests[0], b"")


def test_process_sends_only_size_bytes(serve: Serve, tmp_path: Path) -> None:
    """A message file longer than the size given: the first size bytes."""
    server = serve(process_answer)
    _, out = run(server, tmp_path, b"0123456789", size=4)
    check_request(server.requests[0], b"0123")
    assert out == processed(b"0123")


def test_process_message_file_short(serve: Serve, tmp_path: Path) -> None:
    server = serve(process_answer)
    with pytest.raises(ProtocolError, match="shorter"):
        run(server, tmp_path, b"0123456789", size=11)
    request = server.requests[0]
    assert request.length == 11
    assert request.body == b"0123456789"  # then the client hung up


def test_process_message_file_short_large(serve: Serve, tmp_path: Path) -> None:
    server = serve(process_answer)
    with pytest.raises(ProtocolError, match="shorter"):
        run(server, tmp_path, b"x" * (CHUNK + 5), size=3 * CHUNK)
    assert server.requests[0].body == b"x" * (CHUNK + 5)


def pieces(data: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted(c for c in cuts if 0 < c < len(data)), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def sent_in_pieces(cuts: Callable[[bytes], list[int]]) -> Respond:
    """Answer in pieces, with a pause after each so that the client reads
    them one by one."""

    def respond(conn: socket.socket, request: Request) -> None:
        data = answer(processed(request.body))
        for piece in pieces(data, cuts(data)):
            conn.sendall(piece)
            time.sleep(0.002)
        conn.shutdown(socket.SHUT_WR)

    return respond


def blank_line(data: bytes) -> int:
    return data.index(b"\r\n\r\n")


@pytest.mark.parametrize(
    "cuts",
    [
        pytest.param(lambda data: list(range(1, len(data), 3)), id="every-3-bytes"),
        pytest.param(lambda data: list(range(1, 80)), id="head-byte-by-byte"),
        pytest.param(lambda data: [blank_line(data) + 4], id="head-then-body"),
        pytest.param(lambda data: [blank_line(data) + n for n in (1, 2, 3)], id="in-blank-line"),
        pytest.param(lambda data: [blank_line(data) + 5, len(data) - 1], id="last-byte-alone"),
        pytest.param(lambda data: [10, 40, blank_line(data) + 4, 100], id="a-few"),
    ],
)
def test_process_answer_in_pieces(
    serve: Serve, tmp_path: Path, cuts: Callable[[bytes], list[int]]
) -> None:
    message = b"Subject: pieces\n\n" + b"0123456789" * 20
    server = serve(sent_in_pieces(cuts))
    got, out = run(server, tmp_path, message)
    assert out == processed(message)
    assert (got.spam, got.length) == (True, len(processed(message)))
    check_request(server.requests[0], message)


def test_process_large_answer_in_pieces(serve: Serve, tmp_path: Path) -> None:
    message = bytes(range(256)) * (CHUNK // 128)
    server = serve(sent_in_pieces(lambda data: list(range(7, len(data), 50_000))))
    _, out = run(server, tmp_path, message)
    assert out == processed(message)


def test_process_answer_while_connection_stays_open(serve: Serve, tmp_path: Path) -> None:
    """The answer is complete at its Content-length: no waiting for EOF
    (the in-test spamd only hangs up once the client has)."""
    message = b"Subject: open\n\nbody\n"

    def stays_open(conn: socket.socket, request: Request) -> None:
        conn.sendall(answer(processed(request.body)))

    server = serve(stays_open)
    started = time.monotonic()
    _, out = run(server, tmp_path, message, seconds=3)
    assert time.monotonic() - started < 2.5
    assert out == processed(message)


def test_process_head_and_large_body_in_one_piece(serve: Serve, tmp_path: Path) -> None:
    """spamd writes head and body in one buffer; a body bigger than the
    answer head may be (MAX_HEAD) is still read."""
    message = b"x" * (MAX_HEAD * 3)
    server = serve(process_answer)
    _, out = run(server, tmp_path, message)
    assert out == processed(message)


@pytest.mark.parametrize("keep", [0, 1, 10, 100, 1999])
def test_process_answer_cut_short(serve: Serve, tmp_path: Path, keep: int) -> None:
    def short(conn: socket.socket, request: Request) -> None:
        conn.sendall(answer(b"b" * keep, length=2000))
        conn.shutdown(socket.SHUT_WR)

    server = serve(short)
    with pytest.raises(ProtocolError, match=f"cut short at {keep} of 2000"):
        run(server, tmp_path, b"message")


def test_process_answer_cut_short_large(serve: Serve, tmp_path: Path) -> None:
    def short(conn: socket.socket, request: Request) -> None:
        conn.sendall(answer(b"b" * (CHUNK + 1), length=3 * CHUNK))
        conn.shutdown(socket.SHUT_WR)

    server = serve(short)
    with pytest.raises(ProtocolError, match="cut short"):
        run(server, tmp_path, b"message")


@pytest.mark.parametrize(
    "sent",
    [
        b"",
        b"SPAMD/1.1 0 EX_OK",
        b"SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\n",
        # every header there, but the blank line that ends them never came
        b"SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\nSpam: True ; 9.0 / 5.0",
        b"SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\nSpam: True ; 9.0 / 5.0\r\n",
        b"SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\nSpam: True ; 9.0 / 5.0\r\n\r",
    ],
)
def test_process_head_cut_short(serve: Serve, tmp_path: Path, sent: bytes) -> None:
    def short(conn: socket.socket, request: Request) -> None:
        conn.sendall(sent)
        conn.shutdown(socket.SHUT_WR)

    server = serve(short)
    with pytest.raises(ProtocolError):
        run(server, tmp_path, b"message")


def test_process_refused(serve: Serve, tmp_path: Path) -> None:
    """spamd's refusals are a status line and a hang-up (no blank line)."""

    def refuse(conn: socket.socket, request: Request) -> None:
        conn.sendall(b"SPAMD/1.0 76 Bad header line: (Content-length mismatch: 3 vs. 4)\r\n")
        conn.shutdown(socket.SHUT_WR)

    server = serve(refuse)
    with pytest.raises(ProtocolError, match=r"refused.*76 Bad header line"):
        run(server, tmp_path, b"message")


def test_process_garbage(serve: Serve, tmp_path: Path) -> None:
    def garbage(conn: socket.socket, request: Request) -> None:
        conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")
        conn.shutdown(socket.SHUT_WR)

    server = serve(garbage)
    with pytest.raises(ProtocolError, match="unexpected answer"):
        run(server, tmp_path, b"message")


def test_process_head_too_long(serve: Serve, tmp_path: Path) -> None:
    def endless(conn: socket.socket, request: Request) -> None:
        conn.sendall(b"SPAMD/1.1 0 EX_OK\r\n" + b"X-Filler: yes\r\n" * (MAX_HEAD // 10))

    server = serve(endless)
    with pytest.raises(ProtocolError, match="head"):
        run(server, tmp_path, b"message")


@pytest.mark.parametrize("extra", [b"x", b"\r\n", b"y" * 1000])
def test_process_more_body_than_length(serve: Serve, tmp_path: Path, extra: bytes) -> None:
    def more(conn: socket.socket, request: Request) -> None:
        conn.sendall(answer(b"12345" + extra, length=5))
        conn.shutdown(socket.SHUT_WR)

    server = serve(more)
    with pytest.raises(ProtocolError, match="more body"):
        run(server, tmp_path, b"message")


def test_process_never_answers(serve: Serve, tmp_path: Path) -> None:
    def silent(conn: socket.socket, request: Request) -> None:
        time.sleep(1)  # holds the connection open past the client's 0.3 s

    server = serve(silent)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        run(server, tmp_path, b"message", seconds=0.3)
    assert time.monotonic() - started < 4
    check_request(server.requests[0], b"message")


def test_process_stops_answering_mid_body(serve: Serve, tmp_path: Path) -> None:
    def stalls(conn: socket.socket, request: Request) -> None:
        conn.sendall(answer(b"part", length=100))
        time.sleep(1)

    server = serve(stalls)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        run(server, tmp_path, b"message", seconds=0.3)
    assert time.monotonic() - started < 4


def test_process_spent_deadline(serve: Serve, tmp_path: Path) -> None:
    server = serve(process_answer)
    with pytest.raises(TimeoutError):
        run(server, tmp_path, b"message", seconds=0)


# --- status_from_headers (spamc's output) -----------------------------------------------

FOLDED = (
    b"Return-Path: <a@example.com>\n"
    b"X-Spam-Flag: YES\n"
    b"X-Spam-Checker-Version: SpamAssassin 4.0.1 (2024-03-26) on mail.example.com\n"
    b"X-Spam-Level: *******\n"
    b"X-Spam-Status: Yes, score=7.1 required=5.0 tests=GTUBE,MISSING_DATE,\n"
    b"\tMISSING_MID,NO_RECEIVED,NO_RELAYS autolearn=no autolearn_force=no\n"
    b"\tversion=4.0.1\n"
    b"Subject: test\n"
    b"\n"
    b"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\n"
)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (FOLDED, (True, 7.1, 5.0)),
        (FOLDED.replace(b"\n", b"\r\n"), (True, 7.1, 5.0)),
        (b"X-Spam-Status: Yes, score=7.1 required=5.0 tests=GTUBE\n\n", (True, 7.1, 5.0)),
        (b"X-Spam-Status: No, score=1.2 required=5.0\n\n", (False, 1.2, 5.0)),
        # the folding may come anywhere, also before required=
        (b"X-Spam-Status: No, score=1.2\n\trequired=5.0 tests=NONE\n\n", (False, 1.2, 5.0)),
        (b"X-Spam-Status: No, score=1.2\n    required=5.0\n", (False, 1.2, 5.0)),
        # old SpamAssassin: hits=
        (b"X-Spam-Status: Yes, hits=12.3 required=5.0 tests=GTUBE\n\n", (True, 12.3, 5.0)),
        (b"X-Spam-Status: No, hits=-0.5 required=5.0\n\n", (False, -0.5, 5.0)),
        # negative scores and thresholds
        (b"X-Spam-Status: No, score=-1.2 required=5.0 tests=ALL_TRUSTED\n", (False, -1.2, 5.0)),
        (b"X-Spam-Status: Yes, score=-1.2 required=-3.0\n", (True, -1.2, -3.0)),
        (b"X-Spam-Status: No, score=+2 required=5\n", (False, 2.0, 5.0)),
        # X-Spam-Flag: YES counts even when the status says No
        (b"X-Spam-Flag: YES\nX-Spam-Status: No, score=1.0 required=5.0\n\n", (True, 1.0, 5.0)),
        (b"X-Spam-Status: No, score=1.0 required=5.0\nX-Spam-Flag: yes\n\n", (True, 1.0, 5.0)),
        (b"X-Spam-Flag: NO\nX-Spam-Status: No, score=1.0 required=5.0\n\n", (False, 1.0, 5.0)),
        # header names in any case, and the flag's Yes
        (b"x-spam-status: yes, score=9.0 required=5.0\n\n", (True, 9.0, 5.0)),
        (b"X-SPAM-STATUS: YES, score=9.0 required=5.0\n\n", (True, 9.0, 5.0)),
        (b"X-Spam-Status:No,score=1 required=2\n", (False, 1.0, 2.0)),
        # a header that ends with the data (no blank line, no final newline)
        (b"X-Spam-Status: Yes, score=7.1 required=5.0", (True, 7.1, 5.0)),
        # the status's value starting on its continuation line
        (b"X-Spam-Status:\n Yes, score=7.1 required=5.0\n\n", (True, 7.1, 5.0)),
        (b"X-Spam-Status: \r\n\tYes, score=7.1\r\n\trequired=5.0\r\n\r\n", (True, 7.1, 5.0)),
    ],
)
def test_status_from_headers(head: bytes, expected: tuple[bool, float, float]) -> None:
    assert status_from_headers(head) == expected


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"\n",
        b"Subject: no spam headers\n\nbody\n",
        b"X-Spam-Flag: YES\nSubject: x\n\n",  # a flag alone: no score to read
        b"X-Spam-Checker-Version: SpamAssassin\n\n",
        # the header ends at the first blank line: the body does not count
        b"Subject: x\n\nX-Spam-Status: Yes, score=9.0 required=5.0\n",
        b"Subject: x\r\n\r\nX-Spam-Status: Yes, score=9.0 required=5.0\r\n",
        b"\nX-Spam-Status: Yes, score=9.0 required=5.0\n",
        # a status without its numbers
        b"X-Spam-Status: Yes\n\n",
        b"X-Spam-Status: Yes, score=7.1\n\n",
        b"X-Spam-Status: Yes, required=5.0\n\n",
        b"X-Spam-Status: Yes, score=abc required=5.0\n\n",
        b"X-Spam-Status: Yes, score= required=5.0\n\n",
        # a continuation after another header is not the status's
        b"X-Spam-Status: Yes, tests=GTUBE\nX-Other: x\n\tscore=7.1 required=5.0\n\n",
    ],
)
def test_status_from_headers_none(head: bytes) -> None:
    assert status_from_headers(head) is None


def test_status_from_headers_flag_in_body_ignored() -> None:
    head = b"X-Spam-Status: No, score=1.0 required=5.0\n\nX-Spam-Flag: YES\n"
    assert status_from_headers(head) == (False, 1.0, 5.0)


def test_status_from_headers_first_status_wins() -> None:
    head = (
        b"X-Spam-Status: No, score=1.0 required=5.0\nX-Spam-Status: Yes, score=9.0 required=5.0\n\n"
    )
    assert status_from_headers(head) == (False, 1.0, 5.0)


def test_status_from_headers_second_status_not_folded_into_first() -> None:
    """The continuation lines of a later X-Spam-Status are not the first
    one's: its numbers do not stand in for those the first lacks."""
    head = b"X-Spam-Status: No, tests=NONE\nX-Spam-Status: Yes,\n\tscore=9.0 required=5.0\n\n"
    assert status_from_headers(head) is None


# --- split_args ----------------------------------------------------------------------

SHELL_WORDS = [
    "",
    "   ",
    "\t",
    "a",
    "a b c",
    "  a   b  ",
    "a\tb\t\tc",
    "a\nb",
    " \t a \t ",
    "'a b' c",
    '"a b" c',
    "a'b c'd",
    'a"b c"d',
    "''",
    '""',
    "a '' b",
    'a "" b',
    "'' ''",
    "'''' \"\"''",
    "a''b",
    "'a'\"b\"c",
    "a\\ b",
    "\\'a",
    '\\"',
    "\\\\",
    "a\\\\b",
    "\\a\\b",
    "'a\\b'",
    "'a\\'",
    "'\"'",
    '"\'"',
    '"a\\"b"',
    '"a\\\\b"',
    '"a\\b"',
    '"\\n"',
    "'\t'",
    '"a\tb"',
    "x\t\t'y'\t",
    "-U /var/run/spamd.sock -u 'x y'",
    "--socket=/a\\ b -d 'h1,h2' -p \"7830\"",
    '-u "joe smith" -x',
]


@pytest.mark.parametrize("args", SHELL_WORDS)
def test_split_args_as_shlex(args: str) -> None:
    assert split_args(args) == shlex.split(args, posix=True)


def shell_words(args: str) -> list[str]:
    """The words a POSIX shell (/bin/sh) makes of args."""
    out = subprocess.run(
        ["sh", "-c", f"printf '%s\\0' {args}"], capture_output=True, check=True
    ).stdout
    return out.decode().split("\0")[:-1]


@pytest.mark.parametrize(
    "args",
    [
        "a 'b c' \"d e\" f\\ g",
        "'' \"\" a''b",
        '"a\\"b" "a\\\\b" "a\\b"',
        # in double quotes a backslash also escapes $ and ` (shlex keeps it)
        '"\\$HOME" "\\`x\\`"',
        "\\$HOME",
    ],
)
def test_split_args_as_sh(args: str) -> None:
    assert split_args(args) == shell_words(args)


def test_split_args_dollar_in_double_quotes() -> None:
    assert split_args('"\\$x" "\\`y"') == ["$x", "`y"]


@pytest.mark.parametrize(
    "args", ["'abc", '"abc', "a 'b", 'a "b c', '"a\\"', "'a''", "it's", 'say "hi']
)
def test_split_args_unclosed_quote(args: str) -> None:
    with pytest.raises(ValueError, match="unclosed"):
        split_args(args)
    with pytest.raises(ValueError):
        shlex.split(args, posix=True)


# --- spamc_options --------------------------------------------------------------------


def tcp(host: str, port: int = DEFAULT_PORT) -> Endpoint:
    return Endpoint(host=host, port=port)


def local(port: int = DEFAULT_PORT) -> list[Endpoint]:
    return [tcp("127.0.0.1", port)]


@pytest.mark.parametrize(
    ("args", "endpoints"),
    [
        ("", local()),
        ("   ", local()),
        ("-E", local()),
        ("-u xavier -s 500000 -t 30", local()),
        ("-p 7830", local(7830)),
        ("--port=7830", local(7830)),
        ("-p7830", local(7830)),
        ("-p 0783", local(783)),
        ("-p 65535", local(65535)),
        ("-U /run/spamd.sock", [Endpoint(path="/run/spamd.sock")]),
        ("-U/run/spamd.sock", [Endpoint(path="/run/spamd.sock")]),
        ("--socket=/run/spamd.sock", [Endpoint(path="/run/spamd.sock")]),
        ("--socket /run/spamd.sock", [Endpoint(path="/run/spamd.sock")]),
        ("-U '/run/spam d.sock'", [Endpoint(path="/run/spam d.sock")]),
        # -U wins over -d and -p, in any order
        ("-d 10.0.0.1 -p 1 -U /s.sock", [Endpoint(path="/s.sock")]),
        ("-U /s.sock -d 10.0.0.1", [Endpoint(path="/s.sock")]),
        (
            "-d host1,host2 -p 7830",
            [tcp("host1", 7830), tcp("host2", 7830)],
        ),
        (
            "-p 7830 -d host1,host2",
            [tcp("host1", 7830), tcp("host2", 7830)],
        ),
        ("--dest=h --port=1", [tcp("h", 1)]),
        ("--dest h --port 1", [tcp("h", 1)]),
        ("-dh -p1", [tcp("h", 1)]),
        ("-d 10.0.0.1", [tcp("10.0.0.1", 783)]),
        ("-d 10.0.0.1,,10.0.0.2,", [tcp("10.0.0.1"), tcp("10.0.0.2")]),
        # host names are allowed, as spamc allows them
        ("-d spamd.example.org", [tcp("spamd.example.org", 783)]),
        ("-d localhost -p 7830", [tcp("localhost", 7830)]),
        # IPv6, bare or bracketed
        ("-d ::1", [tcp("::1", 783)]),
        ("-d [::1] -p 7830", [tcp("::1", 7830)]),
        (
            "-d 2001:db8::1,[2001:db8::2],127.0.0.1",
            [tcp("2001:db8::1"), tcp("2001:db8::2"), tcp("127.0.0.1")],
        ),
        # the last -d wins
        ("-d a -d b", [tcp("b", 783)]),
    ],
)
def test_spamc_options_endpoints(args: str, endpoints: list[Endpoint]) -> None:
    options = spamc_options(args)
    assert options.endpoints == endpoints
    assert options.strict is False


@pytest.mark.parametrize(
    ("args", "strict"),
    [
        ("", False),
        ("-x", True),
        ("--no-safe-fallback", True),
        ("-E -x", True),
        ("-x -E", True),
        ("-xE", True),
        ("-Ex", True),
        ("-xX", True),  # -X goes with -x
        ("-X -x", True),
        ("-lx", True),
        ("-xl", True),
        ("-zx", True),
        ("-x -U /s.sock", True),
        ("-d 10.0.0.1 -x", True),
        ("-E", False),
        ("-X", False),
        ("-u xavier", False),
        ("-u xavier -E", False),
        ("--username=xavier", False),
        ("-U /x/x.sock", False),
        ("-U/x", False),
        ("-d xhost", False),
        ("--dest=x.example.org", False),
        ("'x'", False),
    ],
)
def test_spamc_options_strict(args: str, strict: bool) -> None:
    assert spamc_options(args).strict is strict


@pytest.mark.parametrize(
    "args",
    ["-U", "-d", "-p", "--socket", "--dest", "--port", "-x -p", "-E -U", "--port="],
)
def test_spamc_options_missing_value(args: str) -> None:
    with pytest.raises(ValueError, match="needs a value"):
        spamc_options(args)


@pytest.mark.parametrize(
    "port",
    ["abc", "78x3", "-1", "+783", "7.8", "\u0663", "0", "65536", "70000", "99999999999"],
)
def test_spamc_options_bad_port(port: str) -> None:
    with pytest.raises(ValueError, match="bad port"):
        spamc_options(f"-p {port}")
    with pytest.raises(ValueError, match="bad port"):
        spamc_options(f"--port={port}")


def test_spamc_options_unclosed_quote() -> None:
    with pytest.raises(ValueError, match="unclosed"):
        spamc_options("-U '/run/spamd.sock")


@pytest.mark.parametrize(
    "args",
    ["-c", "-R", "-r", "-y", "-K", "-e /bin/cat", "--check", "--full", "--full-spam",
     "--tests", "-xc", "-Ex -R", "-L spam", "-C report", "--pipe-to=/bin/cat",
     "--learntype=spam", "-U /s.sock -c"],
)  # fmt: skip
def test_spamc_options_that_change_the_output_are_refused(args: str) -> None:
    with pytest.raises(ValueError, match="changes what spamc prints"):
        spamc_options(args)


@pytest.mark.parametrize(
    ("args", "user"),
    [("", ""), ("-u vpopmail", "vpopmail"), ("-uvpopmail -x", "vpopmail"),
     ("--username=joe", "joe"), ("--username joe", "joe"), ("-u a -u b", "b")],
)  # fmt: skip
def test_spamc_options_user(args: str, user: str) -> None:
    assert spamc_options(args).user == user


@pytest.mark.parametrize("args", ["-Lspam", "-Creport", "-e/bin/cat", "-xe cat", "-Ee cat"])
def test_spamc_options_refused_with_attached_values_and_in_bundles(args: str) -> None:
    with pytest.raises(ValueError, match="changes what spamc prints"):
        spamc_options(args)


def test_spamc_options_value_ends_a_bundle() -> None:
    got = spamc_options("-xU /s.sock -t 10")
    assert got.strict and got.endpoints == [Endpoint(path="/s.sock")]
    got = spamc_options("-Ed 10.0.0.1,10.0.0.2 -p7830")
    assert not got.strict
    assert got.endpoints == [Endpoint(host=h, port=7830) for h in ("10.0.0.1", "10.0.0.2")]
