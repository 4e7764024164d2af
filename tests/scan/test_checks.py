"""The in-process checks: the regex filter's line semantics."""

from __future__ import annotations

import io
import random
import re
from pathlib import Path

import pytest

from simscan.config.policy import Policy
from simscan.config.settings import Settings
from simscan.qmail.queue import Envelope
from simscan.qmail.workdir import Message
from simscan.scan import checks
from simscan.scan.base import Debug, Job, Result
from simscan.scan.checks import REGEX_LINE, RegexFilter, _line_blocks
from simscan.verdict import CLEAN, Verdict

SPLIT = re.compile(rb"(?<=\n)").split


def reference(data: bytes) -> list[bytes]:
    """Each line with its newline (only \\n ends a line), cut to its first
    REGEX_LINE bytes."""
    *lines, last = data.split(b"\n")
    whole = [line + b"\n" for line in lines] + ([last] if last else [])
    return [line[:REGEX_LINE] for line in whole]


def flat(data: bytes) -> list[bytes]:
    return [line for block in _line_blocks(io.BytesIO(data), SPLIT) for line in block]


@pytest.mark.parametrize("chunk", [1, 7, 499, 500, 501, 4096, 1 << 20])
def test_lines_match_the_reference_at_any_chunk_size(
    chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checks, "CHUNK", chunk)
    rng = random.Random(chunk)
    pieces = []
    for _ in range(300):
        length = rng.choice([0, 1, 10, 499, 500, 501, 1200, 5000])
        pieces.append(bytes(rng.choice(b"abc \r\x00") for _ in range(length)) + b"\n")
    data = b"".join(pieces) + b"no final newline " * 40
    assert flat(data) == reference(data)
    plain = data.replace(b"\r", b"x")  # no CR: the splitlines fast path
    assert flat(plain) == reference(plain)


def test_lines_keep_carriage_returns_and_split_only_on_newline() -> None:
    data = b"a\rb\r\nc\x0bd\n"
    assert flat(data) == [b"a\rb\r\n", b"c\x0bd\n"]


def scan(tmp_path: Path, message: bytes, patterns: list[bytes]) -> tuple[Verdict | None, Job]:
    path = tmp_path / "msg"
    path.write_bytes(message)
    job = Job(
        Message(str(path), len(message), message[:65536]),
        Envelope(b"", b"a@b", [b"c@d"]),
        Settings(),
        Policy(regex=tuple(patterns)),
        str(tmp_path),
        b"",
        Debug(0, lambda data: None),
    )
    return RegexFilter().scan(job, Result(Verdict(CLEAN), str(path))), job


def detail(verdict: Verdict | None) -> bytes | None:
    return None if verdict is None else verdict.detail


def test_the_earliest_line_wins_then_the_lowest_index(tmp_path: Path) -> None:
    message = b"one\ntwo\nthree\n"
    assert detail(scan(tmp_path, message, [b"three", b"two"])[0]) == b"#1"
    assert detail(scan(tmp_path, message, [b"t", b"two"])[0]) == b"#0"
    assert detail(scan(tmp_path, message, [b"four"])[0]) is None


def test_only_the_first_500_bytes_of_a_line_count(tmp_path: Path) -> None:
    message = b"x" * (REGEX_LINE - 3) + b"needle\n"
    assert detail(scan(tmp_path, message, [b"needle"])[0]) is None
    assert detail(scan(tmp_path, message, [b"nee$"])[0]) == b"#0"
    assert detail(scan(tmp_path, message, [b"^x+nee$"])[0]) == b"#0"


def test_a_pattern_sees_the_newline(tmp_path: Path) -> None:
    assert detail(scan(tmp_path, b"end\nnext\n", [rb"d\n"])[0]) == b"#0"


def test_invalid_patterns_warn_and_keep_their_index(tmp_path: Path) -> None:
    verdict, job = scan(tmp_path, b"hello\n", [b"(", b"[", b"hel+o"])
    assert detail(verdict) == b"#2"
    assert [w.split(" does not")[0] for w in job.warnings] == ["regex #0 '('", "regex #1 '['"]


def test_a_match_after_the_first_chunk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checks, "CHUNK", 64)
    message = b"filler line\n" * 100 + b"Subject: late match\n"
    assert detail(scan(tmp_path, message, [b"^Subject: late"])[0]) == b"#0"


def expected(message: bytes, patterns: list[bytes]) -> bytes | None:
    """What the C program's reading gives: each line (LF kept, cut to
    REGEX_LINE bytes) against each pattern with re; earliest line, then
    lowest index."""
    import re

    for line in re.split(rb"(?<=\n)", message):
        line = line[:REGEX_LINE]
        for index, pattern in enumerate(patterns):
            if line and re.search(pattern, line):
                return b"#%d" % index
    return None


def test_literal_patterns_find_what_re_finds(tmp_path: Path) -> None:
    # Literal patterns are matched with `in`, without re: the same answers
    import random

    r = random.Random(7)
    for _ in range(300):
        message = bytes(r.choice(b"ab \r\n") for _ in range(r.randrange(40)))
        patterns = [bytes(r.choice(b"ab \r") for _ in range(r.randrange(1, 4)))
                    for _ in range(r.randrange(1, 4))]  # fmt: skip
        if r.random() < 0.3:
            patterns.insert(r.randrange(len(patterns) + 1), b"a.b")  # one real regex
        got = detail(scan(tmp_path, message, patterns)[0])
        assert got == expected(message, patterns), (message, patterns)


@pytest.mark.parametrize(
    ("pattern", "line"),
    [
        (b"x\\dy", b"x1y"),
        (b"x.y", b"xay"),
        (b"^xy", b"^xy"),
        (b"xy$", b"xy$"),
        (b"xa*y", b"xy"),
        (b"xa+y", b"xaay"),
        (b"xa?y", b"xy"),
        (b"xa{2}y", b"xaay"),
        (b"x[ab]y", b"xay"),
        (b"x|y", b"x"),
        (b"(x)y", b"xy"),
    ],
)
def test_a_metacharacter_makes_a_regex(tmp_path: Path, pattern: bytes, line: bytes) -> None:
    # read as a literal, each would answer otherwise
    assert checks._Literal(pattern).search(line) != bool(re.search(pattern, line))
    assert detail(scan(tmp_path, line + b"\n", [pattern])[0]) == expected(line + b"\n", [pattern])


def test_every_other_byte_is_itself(tmp_path: Path) -> None:
    assert frozenset(b"\\.^$*+?{}[]|()") == checks._META
    for byte in set(range(256)) - checks._META:
        pattern = b"x" + bytes([byte]) + b"y"
        for line in (pattern, b"xy", b"x" + bytes([byte ^ 1]) + b"y"):
            assert bool(re.search(pattern, line)) == checks._Literal(pattern).search(line)
