"""trophie: the one-line answer, and ask() against an in-test daemon."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from daemons import ListenServer, unix_listener

from simscan.wire.netio import MAX_REPLY, ConnectFailed, Deadline
from simscan.wire.trophie import CLEAN, ERROR, FOUND, ask, parse_answer


@pytest.mark.parametrize(
    ("raw", "kind", "text"),
    [
        (b"1:Trophie.Test.Virus\n", FOUND, b"Trophie.Test.Virus"),
        (b"1:EICAR_test_file\r\n", FOUND, b"EICAR_test_file"),
        (b"1: spaced \n", FOUND, b"spaced"),
        (b"1\n", FOUND, b"unknown"),
        (b"1:\n", FOUND, b"unknown"),
        (b"1", FOUND, b"unknown"),
        (b"-1\n", ERROR, b"-1"),
        (b"-2\n", ERROR, b"-2"),
        (b"-1:cannot open\n", ERROR, b"-1:cannot open"),
        (b"", ERROR, b"no answer"),
        (b"\n", ERROR, b"no answer"),
        (b"  \r\n", ERROR, b"no answer"),
        (b"0\n", CLEAN, b""),
        (b"0", CLEAN, b""),
        (b"10\n", CLEAN, b""),
    ],
)
def test_parse_answer(raw: bytes, kind: str, text: bytes) -> None:
    assert parse_answer(raw) == (kind, text)


class Daemon(ListenServer):
    """A Trophie-like daemon on a unix socket: reads a path and a newline,
    records it, answers `answer(path)`."""

    def __init__(self, path: Path, answer: Callable[[bytes], bytes]) -> None:
        self.path = path
        self.answer = answer
        self.asked: list[bytes] = []
        super().__init__(unix_listener(path, 5), close_each=True)

    def handle(self, conn: socket.socket) -> None:
        data = b""
        while not data.endswith(b"\n"):
            got = conn.recv(4096)
            if not got:
                break
            data += got
        self.asked.append(data)
        reply = self.answer(data)
        if reply:
            conn.sendall(reply)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Callable[[Callable[[bytes], bytes]], Daemon]]:
    daemons: list[Daemon] = []

    def start(answer: Callable[[bytes], bytes]) -> Daemon:
        d = Daemon(tmp_path / f"trophie{len(daemons)}.sock", answer)
        daemons.append(d)
        return d

    yield start
    for d in daemons:
        d.close()
    for d in daemons:
        if d.errors:
            raise d.errors[0]


Start = Callable[[Callable[[bytes], bytes]], Daemon]


def scan_files(request: bytes) -> bytes:
    """The daemon's engine: reads the files in the directory it is given."""
    directory = request[:-1]
    everything = b""
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name), "rb") as f:
            everything += f.read()
    return b"1:Test.Virus\n" if b"TEST-VIRUS" in everything else b"0\n"


def test_ask(daemon: Start, tmp_path: Path) -> None:
    d = daemon(scan_files)
    work = tmp_path / "work"
    work.mkdir()
    (work / "part0001").write_bytes(b"hello")
    raw = ask(str(d.path), str(work), Deadline(5))
    assert raw == b"0\n"
    assert parse_answer(raw) == (CLEAN, b"")
    (work / "part0002").write_bytes(b"xx TEST-VIRUS xx")
    raw = ask(str(d.path), str(work), Deadline(5))
    assert parse_answer(raw) == (FOUND, b"Test.Virus")
    assert d.asked == [str(work).encode() + b"\n"] * 2


def test_ask_undecodable_directory(daemon: Start, tmp_path: Path) -> None:
    """A directory name that is not UTF-8 goes over as its own bytes."""
    d = daemon(lambda request: b"0\n")
    work = os.path.join(os.fsencode(tmp_path), b"w\xff")
    os.mkdir(work)
    assert ask(str(d.path), os.fsdecode(work), Deadline(5)) == b"0\n"
    assert d.asked == [work + b"\n"]


def test_ask_no_answer(daemon: Start) -> None:
    d = daemon(lambda request: b"")
    raw = ask(str(d.path), "/tmp", Deadline(5))
    assert raw == b""
    assert parse_answer(raw) == (ERROR, b"no answer")


def test_ask_answer_without_newline(daemon: Start) -> None:
    d = daemon(lambda request: b"-2")
    assert parse_answer(ask(str(d.path), "/tmp", Deadline(5))) == (ERROR, b"-2")


def test_ask_no_daemon(tmp_path: Path) -> None:
    with pytest.raises(ConnectFailed) as err:
        ask(str(tmp_path / "none.sock"), "/tmp", Deadline(5))
    assert isinstance(err.value.error, FileNotFoundError)


def test_ask_timeout(daemon: Start) -> None:
    release = threading.Event()

    def hang(request: bytes) -> bytes:
        release.wait(10)
        return b""

    d = daemon(hang)
    start = time.monotonic()
    try:
        with pytest.raises(TimeoutError):
            ask(str(d.path), "/tmp", Deadline(0.2))
    finally:
        release.set()
    assert time.monotonic() - start < 10


def test_ask_long_garbage(daemon: Start) -> None:
    d = daemon(lambda request: b"x" * (MAX_REPLY + 10))
    with pytest.raises(ValueError):
        ask(str(d.path), "/tmp", Deadline(5))
