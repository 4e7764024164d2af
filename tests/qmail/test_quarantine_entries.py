"""Quarantine entries: made whole with fixed modes, read back into Entry
values (damaged ones too), removed through their temp name."""

from __future__ import annotations

import os
import posix
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from simscan.errors import QuarantineError
from simscan.qmail import quarantine

ENV = b"Fa@example.com\0Tb@example.net\0Tc@example.org\0\0"
LINE = (
    b"simscan:[12]:SPAM REJECT (9.00/5.00/8.00):0.0100s:Buy_ now:192.0.2.1:a@example.com:b@x,c@y\n"
)


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def make(directory: Path, name: str = "1700000000.000001.42", body: bytes = b"Hi\n\nx\n") -> Path:
    work = directory / "work"
    work.mkdir(exist_ok=True)
    (work / name).write_bytes(body)
    return Path(quarantine.store(str(directory), name, str(work / name), ENV, LINE))


@pytest.mark.parametrize("mask", [0o077, 0o000, 0o022])
def test_store_modes_whatever_the_umask(tmp_path: Path, umask: None, mask: int) -> None:
    os.umask(mask)
    entry = make(tmp_path)
    os.umask(0o022)
    assert stat.S_IMODE(entry.stat().st_mode) == 0o750
    for part in ("message", "envelope", "verdict"):
        assert stat.S_IMODE((entry / part).stat().st_mode) == 0o640


def test_read_an_entry(tmp_path: Path) -> None:
    entry = quarantine.read(str(tmp_path), make(tmp_path).name)
    assert entry.name == "1700000000.000001.42"
    assert entry.size == 6
    assert entry.envelope is not None
    assert (entry.envelope.sender, entry.envelope.recipients) == (
        b"a@example.com",
        [b"b@example.net", b"c@example.org"],
    )
    assert entry.envelope.raw == ENV
    assert entry.verdict == LINE.rstrip(b"\n")
    assert entry.fields() == ("SPAM REJECT (9.00/5.00/8.00)", b"Buy_ now", b"192.0.2.1")
    assert entry.problems == []


def test_a_damaged_entry_is_read_with_its_problems(tmp_path: Path) -> None:
    path = make(tmp_path)
    (path / "message").unlink()
    (path / "envelope").write_bytes(b"Xnot an envelope\0")
    entry = quarantine.read(str(tmp_path), path.name)
    assert (entry.size, entry.envelope) == (-1, None)
    assert entry.problems == [
        "no message (No such file or directory)",
        "bad envelope (envelope line starts with b'X', not F or T)",
    ]


@pytest.mark.parametrize(
    ("line", "fields"),
    [
        (b"simscan:[1]:CLEAN:0.0100s:Hi:(null):a:b", ("CLEAN", b"Hi", b"(null)")),
        (b"simscan:[1]: warning: x", None),
        (b"garbage", None),
        (b"", None),
    ],
)
def test_parse_verdict(line: bytes, fields: tuple[str, bytes, bytes] | None) -> None:
    assert quarantine.parse_verdict(line) == fields


def test_entries_oldest_first_and_names(tmp_path: Path) -> None:
    a = make(tmp_path, "1700000000.000001.42")
    b = make(tmp_path, "1700000000.000002.42")
    os.utime(b, (1000, 1000))
    (tmp_path / ".1700000000.000003.42.tmp").mkdir()
    (tmp_path / "lost+found").mkdir()
    assert [e.name for e in quarantine.entries(str(tmp_path))] == [b.name, a.name]
    assert [p for p, _ in quarantine.temps(str(tmp_path))] == [
        f"{tmp_path}/.1700000000.000003.42.tmp"
    ]
    assert quarantine.is_entry_name("1.000001.1")
    for name in ("1.2", "a.b.c", "1.2.3.4", ".1.2.3.tmp", "\u0661.2.3"):
        assert not quarantine.is_entry_name(name), name


@pytest.mark.parametrize("bad", ["", "..", ".", "../x", "a/b", ".x.tmp", "a\0b"])
def test_read_refuses_a_bad_name(tmp_path: Path, bad: str) -> None:
    with pytest.raises(QuarantineError, match="bad entry name"):
        quarantine.read(str(tmp_path), bad)


def test_read_a_missing_entry(tmp_path: Path) -> None:
    with pytest.raises(QuarantineError, match=f"no entry 1.2.3 in {tmp_path}"):
        quarantine.read(str(tmp_path), "1.2.3")


def test_discard(tmp_path: Path) -> None:
    entry = make(tmp_path)
    assert quarantine.discard(str(tmp_path), entry.name)
    assert os.listdir(tmp_path) == ["work"]
    assert quarantine.discard(str(tmp_path), entry.name)  # gone already: fine


def test_a_copied_message_gets_the_mode_too(
    tmp_path: Path, umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_link(source: str, target: str) -> None:
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(posix, "link", no_link)
    os.umask(0o077)
    entry = make(tmp_path)
    os.umask(0o022)
    assert (entry / "message").read_bytes() == b"Hi\n\nx\n"
    assert (entry / "message").stat().st_nlink == 1
    assert stat.S_IMODE((entry / "message").stat().st_mode) == 0o640
