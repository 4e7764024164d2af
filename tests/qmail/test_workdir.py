"""The work dir: created 0750, filled from a pipe byte for byte, removed whole."""

from __future__ import annotations

import os
import re
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from simscan.errors import WorkDirError
from simscan.qmail import workdir
from simscan.qmail.workdir import HEAD_LIMIT, create, receive, remove

# --- create -------------------------------------------------------------------


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.parametrize("mask", [0o077, 0o000, 0o022, 0o777])
def test_create_name_and_mode(tmp_path: Path, umask: None, mask: int) -> None:
    os.umask(mask)
    path = create(str(tmp_path))
    os.umask(0o022)
    assert os.path.dirname(path) == str(tmp_path)
    name = os.path.basename(path)
    assert re.fullmatch(rf"\d+\.\d{{6}}\.{os.getpid()}", name), name
    st = os.stat(path)
    assert stat.S_ISDIR(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o750


def test_create_many_are_distinct(tmp_path: Path) -> None:
    paths = {create(str(tmp_path)) for _ in range(50)}
    assert len(paths) == 50
    assert len(os.listdir(tmp_path)) == 50


def test_create_seconds_are_now(tmp_path: Path) -> None:
    import time

    before = int(time.time())
    name = os.path.basename(create(str(tmp_path)))
    after = int(time.time())
    assert before <= int(name.split(".")[0]) <= after


def test_create_without_base(tmp_path: Path) -> None:
    with pytest.raises(WorkDirError):
        create(str(tmp_path / "missing"))


def test_create_base_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(WorkDirError):
        create(str(tmp_path / "file"))


# --- receive ------------------------------------------------------------------


def feed(data: bytes, piece: int) -> tuple[int, threading.Thread]:
    """A pipe's read end, with data written in pieces by a thread."""
    r, w = os.pipe()

    def run() -> None:
        try:
            view = memoryview(data)
            for at in range(0, len(view), piece):
                chunk = view[at : at + piece]
                while chunk:
                    chunk = chunk[os.write(w, chunk) :]
        finally:
            os.close(w)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return r, thread


def pattern(size: int) -> bytes:
    """Bytes that are not all alike, so an offset slip shows."""
    block = bytes(range(256)) + b"\0\r\n\n.\r\n"
    return (block * (size // len(block) + 1))[:size]


@pytest.mark.parametrize(
    "size,piece",
    [
        (0, 1),
        (1, 1),
        (10, 3),
        (HEAD_LIMIT - 1, 4096),
        (HEAD_LIMIT, 4096),
        (HEAD_LIMIT + 1, 4096),
        (HEAD_LIMIT + 1, 7777),
        (3 * workdir.CHUNK + 7, 1000),
        (3 * workdir.CHUNK + 7, 1 << 20),
    ],
)
def test_receive(tmp_path: Path, size: int, piece: int) -> None:
    data = pattern(size)
    r, thread = feed(data, piece)
    try:
        msg = receive(r, str(tmp_path / "msg"))
    finally:
        thread.join(10)
        os.close(r)
    assert msg.path == str(tmp_path / "msg")
    assert msg.size == size
    assert (tmp_path / "msg").read_bytes() == data
    assert msg.head == data[:HEAD_LIMIT]
    assert isinstance(msg.head, bytes)


def test_receive_random_bytes(tmp_path: Path) -> None:
    data = os.urandom(200_001)
    r, thread = feed(data, 12345)
    try:
        msg = receive(r, str(tmp_path / "msg"))
    finally:
        thread.join(10)
        os.close(r)
    assert (tmp_path / "msg").read_bytes() == data
    assert msg.head == data[:HEAD_LIMIT]


def test_receive_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "msg"
    target.write_bytes(b"already here")
    r, thread = feed(b"new", 1)
    try:
        with pytest.raises(WorkDirError):
            receive(r, str(target))
    finally:
        thread.join(10)  # three bytes fit in the pipe: the writer never blocks
        os.close(r)
    assert target.read_bytes() == b"already here"


# --- remove -------------------------------------------------------------------


def test_remove_nested(tmp_path: Path) -> None:
    top = tmp_path / "1795536346.123456.42"
    (top / "a" / "b" / "c").mkdir(parents=True)
    (top / "empty").mkdir()
    (top / "msg").write_bytes(b"message")
    (top / "a" / "part1").write_bytes(b"x")
    (top / "a" / "b" / "part2").write_bytes(b"y")
    (top / "a" / "b" / "c" / ".hidden").write_bytes(b"z")
    (top / "a" / "b" / "c" / "mode000").write_bytes(b"z")
    os.chmod(top / "a" / "b" / "c" / "mode000", 0)
    assert remove(str(top)) is True
    assert not top.exists()
    assert tmp_path.exists()


def test_remove_does_not_follow_symlinks(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_bytes(b"keep me")
    top = tmp_path / "work"
    top.mkdir()
    (top / "link-to-dir").symlink_to(outside)
    (top / "link-to-file").symlink_to(outside / "keep")
    (top / "dangling").symlink_to(tmp_path / "nowhere")
    assert remove(str(top)) is True
    assert not top.exists()
    assert (outside / "keep").read_bytes() == b"keep me"


def test_remove_missing_dir(tmp_path: Path) -> None:
    assert remove(str(tmp_path / "never-made")) is True


def test_remove_empty_dir(tmp_path: Path) -> None:
    (tmp_path / "w").mkdir()
    assert remove(str(tmp_path / "w")) is True
    assert not (tmp_path / "w").exists()


def test_create_then_remove(tmp_path: Path) -> None:
    path = create(str(tmp_path))
    workdir.write_file(os.path.join(path, workdir.ENVELOPE_NAME), b"Fa\0Tb\0\0")
    assert remove(path) is True
    assert os.listdir(tmp_path) == []


def test_create_tells_the_path_before_making_it(tmp_path: Path) -> None:
    told: list[tuple[str, bool]] = []
    path = create(str(tmp_path), lambda p: told.append((p, os.path.exists(p))))
    assert told == [(path, False)]


def test_running_as_names_uid_gid_and_other_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    from simscan.qmail import workdir as wd

    monkeypatch.setattr(wd.posix, "geteuid", lambda: 1004)
    monkeypatch.setattr(wd.posix, "getegid", lambda: 2108)
    monkeypatch.setattr(wd.posix, "getgroups", lambda: [2108])
    assert wd.running_as() == "simscan runs as uid 1004 gid 2108, no other groups"
    monkeypatch.setattr(wd.posix, "getgroups", lambda: [2107, 2108, 0])
    assert wd.running_as() == "simscan runs as uid 1004 gid 2108, groups 0,2107"
