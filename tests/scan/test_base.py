"""scan.base: the debug writer's lines."""

from __future__ import annotations

from simscan.scan.base import Debug


def test_debug_lines_carry_the_ppid_and_split_text() -> None:
    lines: list[bytes] = []
    debug = Debug(1, lines.append, 4242)
    debug(1, "work dir /var/qmail/simscan/1.2.3")
    debug(2, "not at level 1")
    debug(1, "Traceback:\n  File x\nValueError")
    assert lines == [
        b"simscan:[4242]: debug: work dir /var/qmail/simscan/1.2.3\n",
        b"simscan:[4242]: debug: Traceback:\n"
        b"simscan:[4242]: debug:   File x\n"
        b"simscan:[4242]: debug: ValueError\n",
    ]


def test_debug_off_writes_nothing() -> None:
    lines: list[bytes] = []
    Debug(0, lines.append, 1)(1, "x")
    assert lines == []
