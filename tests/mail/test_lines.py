"""LineReader: pieces, skip() and until() against a plain reference model.

A line ends at LF, CRLF or a lone CR (as for mail clients and Python's
email package); a CRLF is never split.

The reader must behave the same for every read size, so most checks run
over many (limit, chunk) pairs, including chunks of 1..10 bytes where every
line, prefix and needle straddles a read boundary.
"""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simscan.mail.lines import LineReader

# Line-ish data: many newlines, CRLF, dashes and the start of "begin", so
# that prefixes such as b"--" and b"begin" actually occur at line starts.
_TOKENS = [b"\n", b"\r\n", b"\r", b"-", b"--", b"b", b"be", b"begin", b"a", b"xyz", b" ", b"\0",
           b"\xff"]  # fmt: skip
line_data = st.one_of(
    st.lists(st.sampled_from(_TOKENS), max_size=80).map(b"".join),
    st.binary(max_size=200),
)
limits = st.one_of(st.integers(1, 12), st.sampled_from([64, 65536]))
chunks = st.one_of(st.integers(1, 10), st.integers(11, 300), st.just(1 << 20))
prefix_sets = st.lists(
    st.sampled_from([b"-", b"--", b"b", b"be", b"begin", b"begin ", b"x", b"\r", b"a-"]),
    min_size=1,
    max_size=3,
).map(tuple)


def reader(data: bytes, limit: int = 65536, chunk: int = 1 << 20) -> LineReader:
    return LineReader(io.BytesIO(data), limit=limit, chunk=chunk)


def line_start(data: bytes, pos: int) -> bool:
    if pos == 0:
        return True
    before = data[pos - 1]
    return before == 0x0A or (before == 0x0D and data[pos : pos + 1] != b"\n")


def ref_piece(data: bytes, pos: int, limit: int) -> tuple[bytes, bool] | None:
    """What piece() must return at `pos`."""
    if pos >= len(data):
        return None
    end = min(pos + limit, len(data))
    for i in range(pos, min(pos + limit, len(data))):
        if data[i] == 0x0A:
            end = i + 1
            break
        if data[i] == 0x0D:
            end = i + 2 if data[i + 1 : i + 2] == b"\n" else i + 1
            break
    return data[pos:end], line_start(data, pos)


def ref_pieces(data: bytes, limit: int, pos: int = 0) -> list[tuple[bytes, bool]]:
    """What piece() must return from `pos` to the end."""
    out = []
    while (got := ref_piece(data, pos, limit)) is not None:
        out.append(got)
        pos += len(got[0])
    return out


def ref_target(data: bytes, pos: int, prefixes: tuple[bytes, ...]) -> int:
    """The first line start at or after `pos` that begins with one of
    `prefixes` (any position when there are none); len(data) if none."""
    for i in range(pos, len(data)):
        if prefixes and line_start(data, i) and data.startswith(prefixes, i):
            return i
    return len(data)


def all_pieces(r: LineReader) -> list[tuple[bytes, bool]]:
    out = []
    while (got := r.piece()) is not None:
        out.append(got)
    return out


# -- piece() ------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(data=line_data, limit=limits, chunk=chunks)
def test_pieces_reassemble_exactly(data: bytes, limit: int, chunk: int) -> None:
    r = reader(data, limit, chunk)
    got = all_pieces(r)
    assert b"".join(p for p, _ in got) == data
    assert got == ref_pieces(data, limit)
    for piece, _start in got:
        assert 0 < len(piece) <= limit + 1  # + the LF of a CRLF
        inner = piece[:-2] if piece.endswith(b"\r\n") else piece[:-1]
        assert b"\n" not in inner and b"\r" not in inner
    # The end stays the end.
    assert r.piece() is None
    assert r.piece() is None


@pytest.mark.parametrize("chunk", [*range(1, 11), 64, 1 << 20])
@pytest.mark.parametrize("limit", [1, 2, 3, 5, 8, 65536])
def test_pieces_for_every_small_chunk(chunk: int, limit: int) -> None:
    data = b"first line\r\nsecond\n\n\r\n" + b"z" * 23 + b"\nno final newline"
    got = all_pieces(reader(data, limit, chunk))
    assert got == ref_pieces(data, limit)
    assert b"".join(p for p, _ in got) == data


def test_crlf_lines_keep_their_endings() -> None:
    data = b"a: b\r\nc: d\r\n\r\nbody\r\n"
    assert all_pieces(reader(data, chunk=3)) == [
        (b"a: b\r\n", True),
        (b"c: d\r\n", True),
        (b"\r\n", True),
        (b"body\r\n", True),
    ]


def test_no_final_newline() -> None:
    assert all_pieces(reader(b"one\ntwo", chunk=2)) == [(b"one\n", True), (b"two", True)]


def test_empty_file() -> None:
    r = reader(b"", chunk=1)
    assert r.piece() is None
    assert r.until((b"--",)) is None
    assert r.until(()) is None
    r.skip((b"--",))
    assert r.piece() is None


def test_long_line_is_cut_at_limit() -> None:
    data = b"x" * 10 + b"\n" + b"y" * 4 + b"\n"
    assert all_pieces(reader(data, limit=4, chunk=3)) == [
        (b"xxxx", True),
        (b"xxxx", False),
        (b"xx\n", False),
        (b"yyyy", True),
        (b"\n", False),
    ]


def test_line_of_exactly_limit_bytes() -> None:
    # The newline itself fits in the limit: one piece.
    assert all_pieces(reader(b"abc\nd", limit=4, chunk=1)) == [(b"abc\n", True), (b"d", True)]


# -- skip() -------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    data=line_data,
    limit=limits,
    chunk=st.integers(1, 8) | st.integers(9, 200),
    before=st.integers(0, 6),
    prefixes=prefix_sets,
)
def test_skip_lands_on_next_matching_line(
    data: bytes, limit: int, chunk: int, before: int, prefixes: tuple[bytes, ...]
) -> None:
    r = reader(data, limit, chunk)
    pos = 0
    for _ in range(before):
        got = r.piece()
        if got is None:
            break
        pos += len(got[0])
    r.skip(prefixes)
    target = ref_target(data, pos, prefixes)
    rest = all_pieces(r)
    assert rest == ref_pieces(data, limit, target)
    assert b"".join(p for p, _ in rest) == data[target:]
    if rest:
        assert rest[0][1] is True


@pytest.mark.parametrize("chunk", range(1, 9))
@pytest.mark.parametrize("shift", range(12))
def test_skip_needle_straddling_chunks(chunk: int, shift: int) -> None:
    data = (
        b"p" * shift
        + b"\n-x\n--bound\n-\n--\n"  # near misses and a short prefix of the needle
        + b"x--boundary\n"  # not at a line start
        + b"--boundary\nafter\n"
    )
    r = reader(data, chunk=chunk)
    r.skip((b"--boundary",))
    assert r.piece() == (b"--boundary\n", True)
    assert r.piece() == (b"after\n", True)


@pytest.mark.parametrize("chunk", range(1, 9))
def test_skip_several_prefixes_takes_the_first_line(chunk: int) -> None:
    data = b"text\nmore\nbegin 644 a.exe\n--b\n"
    r = reader(data, chunk=chunk)
    r.skip((b"--", b"begin"))
    assert r.piece() == (b"begin 644 a.exe\n", True)
    r.skip((b"--", b"begin"))  # the current line counts
    assert r.piece() == (b"--b\n", True)


@pytest.mark.parametrize("chunk", [1, 2, 3, 1 << 20])
def test_skip_current_line_counts(chunk: int) -> None:
    r = reader(b"--b\nx\n", chunk=chunk)
    r.skip((b"--",))
    r.skip((b"--",))
    assert r.piece() == (b"--b\n", True)
    r.skip((b"x",))
    assert r.piece() == (b"x\n", True)


@pytest.mark.parametrize("chunk", range(1, 9))
def test_skip_mid_line_does_not_count(chunk: int) -> None:
    # After a piece cut at the limit the reader is inside a line: a prefix
    # there is no line start.
    r = reader(b"abcd--x\n--y\n", limit=4, chunk=chunk)
    assert r.piece() == (b"abcd", True)
    r.skip((b"--",))
    assert r.piece() == (b"--y\n", True)


@pytest.mark.parametrize("chunk", range(1, 9))
def test_skip_without_match_goes_to_the_end(chunk: int) -> None:
    r = reader(b"a\nb\n-c\n--", chunk=chunk)
    r.skip((b"---",))
    assert r.piece() is None
    r.skip((b"---",))
    assert r.piece() is None


@pytest.mark.parametrize("chunk", range(1, 9))
def test_skip_match_at_the_very_end(chunk: int) -> None:
    r = reader(b"a\nb\n--", chunk=chunk)
    r.skip((b"--",))
    assert r.piece() == (b"--", True)


# -- until() ------------------------------------------------------------------


def until_walk(r: LineReader, prefixes: tuple[bytes, ...]) -> list[tuple[str, bytes]]:
    """until() blocks; at a matching line, one piece() to step over it."""
    out: list[tuple[str, bytes]] = []
    while True:
        block = r.until(prefixes)
        if block is None:
            assert r.piece() is None
            return out
        if block:
            out.append(("block", block))
            continue
        got = r.piece()
        assert got is not None
        assert got[1] is True
        out.append(("line", got[0]))


@settings(max_examples=300, deadline=None)
@given(data=line_data, limit=limits, chunk=chunks, prefixes=prefix_sets | st.just(()))
def test_until_blocks_and_pieces_reproduce_the_file(
    data: bytes, limit: int, chunk: int, prefixes: tuple[bytes, ...]
) -> None:
    walk = until_walk(reader(data, limit, chunk), prefixes)
    assert b"".join(b for _, b in walk) == data
    pos = 0
    for kind, b in walk:
        if kind == "line":
            # b"" only where a matching line starts.
            assert prefixes
            assert line_start(data, pos)
            assert data.startswith(prefixes, pos)
        else:
            # A block never runs past the next matching line start.
            assert pos + len(b) <= ref_target(data, pos, prefixes)
        pos += len(b)


@pytest.mark.parametrize("chunk", [*range(1, 11), 1 << 20])
def test_until_stops_before_matching_lines(chunk: int) -> None:
    data = b"QUJD\nx--\n--b\nREVG\r\n--b--\n"
    r = reader(data, chunk=chunk)
    got = b""
    while (block := r.until((b"--",))) != b"":
        assert block
        got += block
    assert got == b"QUJD\nx--\n"
    assert r.until((b"--",)) == b""  # still there: until() does not move
    assert r.piece() == (b"--b\n", True)
    got = b""
    while (block := r.until((b"--",))) != b"":
        assert block
        got += block
    assert got == b"REVG\r\n"
    assert r.piece() == (b"--b--\n", True)
    assert r.until((b"--",)) is None


@pytest.mark.parametrize("chunk", [1, 2, 7, 1 << 20])
def test_until_without_prefixes_reads_to_eof(chunk: int) -> None:
    data = b"--a\n--b\nc"
    r = reader(data, chunk=chunk)
    got = b""
    while (block := r.until(())) is not None:
        assert block
        got += block
    assert got == data
    assert r.piece() is None


@settings(max_examples=300, deadline=None)
@given(
    data=line_data,
    limit=limits,
    chunk=chunks,
    ops=st.lists(
        st.tuples(st.sampled_from(["piece", "skip", "until"]), prefix_sets | st.just(())),
        max_size=12,
    ),
)
def test_mixed_operations_follow_the_model(
    data: bytes, limit: int, chunk: int, ops: list[tuple[str, tuple[bytes, ...]]]
) -> None:
    r = reader(data, limit, chunk)
    pos = 0
    for op, prefixes in ops:
        if op == "piece":
            got = r.piece()
            assert got == ref_piece(data, pos, limit)
            if got is not None:
                pos += len(got[0])
        elif op == "skip":
            if not prefixes:
                continue  # skip() needs prefixes
            r.skip(prefixes)
            pos = ref_target(data, pos, prefixes)
        else:
            block = r.until(prefixes)
            if pos >= len(data):
                assert block is None
                continue
            assert block is not None
            if prefixes and line_start(data, pos) and data.startswith(prefixes, pos):
                assert block == b""
                continue
            assert block
            assert data.startswith(block, pos)
            assert pos + len(block) <= ref_target(data, pos, prefixes)
            pos += len(block)
    assert all_pieces(r) == ref_pieces(data, limit, pos)


@pytest.mark.parametrize("chunk", [*range(1, 8), 1 << 20])
def test_a_lone_cr_ends_a_line(chunk: int) -> None:
    data = b"--b\rContent-Type: x\r\rbody\r\n--b--"
    assert all_pieces(reader(data, chunk=chunk)) == [
        (b"--b\r", True),
        (b"Content-Type: x\r", True),
        (b"\r", True),
        (b"body\r\n", True),
        (b"--b--", True),
    ]


@pytest.mark.parametrize("chunk", range(1, 6))
def test_skip_finds_a_line_after_a_lone_cr(chunk: int) -> None:
    r = reader(b"text\rbegin 644 a.exe\r\nmore\r--b\n", chunk=chunk)
    r.skip((b"begin",))
    assert r.piece() == (b"begin 644 a.exe\r\n", True)
    r.skip((b"--",))
    assert r.piece() == (b"--b\n", True)


@pytest.mark.parametrize("chunk", range(1, 6))
def test_a_crlf_split_by_the_read_size_stays_one_line_end(chunk: int) -> None:
    data = b"x" * 7 + b"\r\n" + b"y\r\n"
    r = reader(data, limit=8, chunk=chunk)
    assert all_pieces(r) == [(b"xxxxxxx\r\n", True), (b"y\r\n", True)]
