"""The envelope on fd 1 and the custom-error text on fd 4, as literal bytes."""

from __future__ import annotations

import fcntl
import os
import termios
import threading
import time
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simscan.errors import (
    EXIT_ENVELOPE_FORMAT,
    EXIT_READ,
    EnvelopeFormatError,
    EnvelopeTruncated,
    InputError,
    exit_code_for,
)
from simscan.qmail import queue
from simscan.qmail.queue import Envelope, parse_envelope, read_envelope, write_custom_error

# --- parse_envelope -----------------------------------------------------------

VALID: dict[str, tuple[bytes, bytes, list[bytes]]] = {
    "one recipient": (b"Fa@b.c\0Tx@y.z\0\0", b"a@b.c", [b"x@y.z"]),
    "empty sender (bounce)": (b"F\0Tpostmaster@y.z\0\0", b"", [b"postmaster@y.z"]),
    "many recipients": (
        b"Fa@b.c\0" + b"".join(b"Tr%d@y.z\0" % i for i in range(50)) + b"\0",
        b"a@b.c",
        [b"r%d@y.z" % i for i in range(50)],
    ),
    "mixed case kept": (b"FAlice@Example.COM\0TBob@EXAMPLE.org\0\0", b"Alice@Example.COM",
                        [b"Bob@EXAMPLE.org"]),
    "duplicate recipients kept": (b"Fa@b\0Tx@y\0Tx@y\0\0", b"a@b", [b"x@y", b"x@y"]),
    "eight-bit bytes": (b"F\xc3\xa9@b\0T\xff@y\0\0", b"\xc3\xa9@b", [b"\xff@y"]),
    "empty recipient": (b"Fa@b\0T\0\0", b"a@b", [b""]),
}  # fmt: skip


@pytest.mark.parametrize("data,sender,recipients", VALID.values(), ids=VALID.keys())
@pytest.mark.parametrize("complete", [False, True])
def test_valid_envelope(
    data: bytes, sender: bytes, recipients: list[bytes], complete: bool
) -> None:
    env = parse_envelope(data, complete=complete)
    assert env is not None
    assert (env.raw, env.sender, env.recipients) == (data, sender, recipients)


@pytest.mark.parametrize("trailing", [b"x", b"\0", b"Tmore@y\0\0", b"\0" * 10])
def test_raw_excludes_bytes_after_the_terminating_nul(trailing: bytes) -> None:
    data = b"Fa@b\0Tc@d\0\0"
    for complete in (False, True):
        env = parse_envelope(data + trailing, complete=complete)
        assert env is not None
        assert env.raw == data
        assert env.recipients == [b"c@d"]


def test_lower_cased_views() -> None:
    env = parse_envelope(b"FAlice@Example.COM\0TBob@EXAMPLE.org\0Tc@D\0\0", complete=True)
    assert env is not None
    assert env.sender_lower == b"alice@example.com"
    assert env.recipients_lower == [b"bob@example.org", b"c@d"]
    assert env.sender == b"Alice@Example.COM"  # the raw ones stay as given
    assert env.recipients == [b"Bob@EXAMPLE.org", b"c@D"]


INCOMPLETE = {
    "nothing": b"",
    "F only": b"F",
    "sender unterminated": b"Fa@b",
    "sender": b"Fa@b\0",
    "recipient unterminated": b"Fa@b\0Tc",
    "recipient without final nul": b"Fa@b\0Tc@d\0",
    "two recipients": b"Fa@b\0Tc@d\0Te@f\0",
}


@pytest.mark.parametrize("data", INCOMPLETE.values(), ids=INCOMPLETE.keys())
def test_incomplete_envelope(data: bytes) -> None:
    assert parse_envelope(data, complete=False) is None
    with pytest.raises(EnvelopeTruncated) as info:
        parse_envelope(data, complete=True)
    assert str(info.value) == "envelope ended before its terminating NUL"
    assert exit_code_for(info.value) == EXIT_READ


NO_F = "envelope does not start with a sender (F) line"
BAD = {
    "no recipient": (b"Fa@b\0\0", "envelope has no recipient"),
    "no recipient, empty sender": (b"F\0\0", "envelope has no recipient"),
    "empty envelope": (b"\0", "envelope has no sender (F) line"),
    "two F lines": (b"Fa@b\0Fc@d\0Te@f\0\0", "envelope has two sender (F) lines"),
    "F after T": (b"Fa@b\0Tc@d\0Fe@f\0\0", "envelope has two sender (F) lines"),
    "garbage first byte": (b"Xa@b\0Tc@d\0\0", "envelope line starts with b'X', not F or T"),
    "lower-case f": (b"fa@b\0Tc@d\0\0", "envelope line starts with b'f', not F or T"),
    "T before F": (b"Ta@b\0Fc@d\0\0", NO_F),
    "T only": (b"Tc@d\0\0", NO_F),
    # Two T lines and no F: without the check the first would pass as a sender.
    "T, T and no F": (b"Ta@b\0Tc@d\0\0", NO_F),
    "T unterminated": (b"Ta@b", NO_F),
    "garbage later": (b"Fa@b\0Tc@d\0Xe@f\0\0", "envelope line starts with b'X', not F or T"),
    "garbage right after sender": (b"Fa@b\0 Tc@d\0\0",
                                   "envelope line starts with b' ', not F or T"),
    "nul in first position after sender is the end": (b"Fa@b\0\0Tc@d\0\0",
                                                      "envelope has no recipient"),
}  # fmt: skip


@pytest.mark.parametrize("data,text", BAD.values(), ids=BAD.keys())
@pytest.mark.parametrize("complete", [False, True])
def test_format_error(data: bytes, text: str, complete: bool) -> None:
    with pytest.raises(EnvelopeFormatError) as info:
        parse_envelope(data, complete=complete)
    assert str(info.value) == text
    assert exit_code_for(info.value) == EXIT_ENVELOPE_FORMAT


def test_format_errors_are_reported_in_input_order() -> None:
    # Garbage comes before the missing recipient would be noticed.
    with pytest.raises(EnvelopeFormatError, match="not F or T"):
        parse_envelope(b"Fa@b\0Xjunk\0\0", complete=True)
    with pytest.raises(EnvelopeFormatError, match="two sender"):
        parse_envelope(b"Fa@b\0Fc@d\0\0", complete=True)


def full_result(data: bytes) -> Envelope | type[Exception]:
    try:
        env = parse_envelope(data, complete=True)
    except (EnvelopeFormatError, EnvelopeTruncated) as err:
        return type(err)
    assert env is not None
    return env


def same_envelope(a: Envelope, b: Envelope) -> bool:
    return (a.raw, a.sender, a.recipients) == (b.raw, b.sender, b.recipients)


def check_prefixes(data: bytes) -> None:
    """Every prefix, fed as "so far", is consistent with the whole input."""
    whole = full_result(data)
    for cut in range(len(data) + 1):
        prefix = data[:cut]
        try:
            got = parse_envelope(prefix, complete=False)
        except EnvelopeFormatError:
            assert whole is EnvelopeFormatError, (prefix, whole)
            continue
        if got is not None:
            assert isinstance(whole, Envelope), (prefix, whole)
            assert same_envelope(got, whole), prefix
        # At EOF the same prefix is either the envelope, truncated, or
        # the error the whole input gives.
        try:
            at_eof = parse_envelope(prefix, complete=True)
        except EnvelopeTruncated:
            continue
        except EnvelopeFormatError:
            assert whole is EnvelopeFormatError, (prefix, whole)
            continue
        assert at_eof is not None and isinstance(whole, Envelope)
        assert same_envelope(at_eof, whole), prefix


@pytest.mark.parametrize(
    "data",
    [*(v[0] for v in VALID.values()), *(v[0] for v in BAD.values()), *INCOMPLETE.values()],
    ids=[*VALID.keys(), *BAD.keys(), *INCOMPLETE.keys()],
)
def test_every_split_point(data: bytes) -> None:
    check_prefixes(data)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b"F", b"T", b"\0", b"a", b"X"]), max_size=14).map(b"".join))
def test_every_split_point_of_random_bytes(data: bytes) -> None:
    check_prefixes(data)


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=8),
    st.lists(st.binary(max_size=8), min_size=1, max_size=5),
    st.binary(max_size=8),
)
def test_any_addresses_round_trip(sender: bytes, rcpts: list[bytes], tail: bytes) -> None:
    """Addresses are everything up to a NUL; nothing is decoded or changed."""
    sender = sender.replace(b"\0", b"")
    rcpts = [r.replace(b"\0", b"") for r in rcpts]
    raw = b"F" + sender + b"\0" + b"".join(b"T" + r + b"\0" for r in rcpts) + b"\0"
    env = parse_envelope(raw + tail, complete=True)
    assert env is not None
    assert (env.raw, env.sender, env.recipients) == (raw, sender, rcpts)


# --- read_envelope ------------------------------------------------------------


def pieces_of(data: bytes, size: int) -> list[bytes]:
    return [data[at : at + size] for at in range(0, len(data), size)]


class Writer:
    """Feed a pipe piece by piece from a thread, each piece only once the
    reader has taken the one before (so every read returns exactly one
    piece), then keep the pipe open until released: a reader that waits
    for EOF shows as `released_in_time` False (the writer gave up)."""

    def __init__(self, pieces: list[bytes], close_at_end: bool = False) -> None:
        self.read_fd, self.write_fd = os.pipe()
        self.pieces = pieces
        self.close_at_end = close_at_end
        self.release = threading.Event()
        self.released_in_time = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _unread(self) -> int:
        return int.from_bytes(fcntl.ioctl(self.read_fd, termios.FIONREAD, b"\0" * 4), "little")

    def _run(self) -> None:
        for piece in self.pieces:
            os.write(self.write_fd, piece)
            while self._unread() and not self.release.is_set():
                time.sleep(0.0002)
        if not self.close_at_end:
            self.released_in_time = self.release.wait(5)
        os.close(self.write_fd)

    def stop(self) -> None:
        """The reader is done: let the writer close and finish."""
        self.release.set()
        self.thread.join(10)

    def finish(self) -> None:
        self.stop()
        os.close(self.read_fd)


@pytest.fixture
def writers() -> Iterator[list[Writer]]:
    made: list[Writer] = []
    yield made
    for w in made:
        w.finish()


def read_before_eof(writers: list[Writer], pieces: list[bytes]) -> Envelope:
    """read_envelope on these pieces; it must return without waiting for EOF."""
    w = Writer(pieces)
    writers.append(w)
    env = read_envelope(w.read_fd)
    w.stop()
    assert w.released_in_time, "read_envelope waited for EOF"
    return env


def test_read_envelope_in_one_byte_pieces(writers: list[Writer]) -> None:
    data = b"FSender@Example.com\0Ta@x.y\0Tb@x.y\0TC@x.y\0\0"
    env = read_before_eof(writers, pieces_of(data, 1))
    assert (env.raw, env.sender, env.recipients) == (
        data, b"Sender@Example.com", [b"a@x.y", b"b@x.y", b"C@x.y"],
    )  # fmt: skip


@pytest.mark.parametrize("tail", [b"", b"\0", b"x", b"Tafter@x\0\0"])
def test_read_envelope_end_found_across_any_read_boundary(
    writers: list[Writer], tail: bytes
) -> None:
    """The final NUL pair may be split between two reads of any size, the
    terminator in the first byte of a longer read (bytes after it follow in
    the same read)."""
    data = b"Fa@b\0Tc@d\0Te@f\0\0"
    whole = data + tail
    for cut in range(1, len(whole)):
        env = read_before_eof(writers, [whole[:cut], whole[cut:]])
        assert (env.raw, env.recipients) == (data, [b"c@d", b"e@f"]), cut
    for size in range(2, len(whole)):
        env = read_before_eof(writers, pieces_of(whole, size))
        assert env.raw == data, size


def test_read_envelope_that_starts_with_its_end(writers: list[Writer]) -> None:
    with pytest.raises(EnvelopeFormatError) as info:
        read_before_eof(writers, [b"\0", b"Fa@b\0Tc@d\0\0"])
    assert str(info.value) == "envelope has no sender (F) line"


def test_read_envelope_in_larger_pieces(writers: list[Writer]) -> None:
    data = b"Fs@x\0" + b"".join(b"Trecipient%04d@example.com\0" % i for i in range(3000)) + b"\0"
    env = read_before_eof(writers, pieces_of(data, 4096))
    assert env.raw == data and len(env.recipients) == 3000


def test_read_envelope_eof_before_the_end(writers: list[Writer]) -> None:
    w = Writer(pieces_of(b"Fa@b\0Tc@d\0", 1), close_at_end=True)
    writers.append(w)
    with pytest.raises(EnvelopeTruncated) as info:
        read_envelope(w.read_fd)
    assert str(info.value) == "envelope ended before its terminating NUL"


def test_read_envelope_empty_input(writers: list[Writer]) -> None:
    w = Writer([], close_at_end=True)
    writers.append(w)
    with pytest.raises(EnvelopeTruncated) as info:
        read_envelope(w.read_fd)
    assert str(info.value) == "envelope ended before its terminating NUL"


@pytest.mark.parametrize(
    "data,text",
    [
        (b"Fa@b\0Fc@d\0", "envelope has two sender (F) lines"),
        (b"Fa@b\0Xc", "envelope line starts with b'X', not F or T"),
        (b"T", "envelope does not start with a sender (F) line"),
        (b"Fa@b\0\0", "envelope has no recipient"),
    ],
)
def test_read_envelope_format_error_before_eof(
    writers: list[Writer], data: bytes, text: str
) -> None:
    """A bad envelope is refused as soon as it is seen, not at EOF."""
    w = Writer(pieces_of(data, 1))
    writers.append(w)
    with pytest.raises(EnvelopeFormatError) as info:
        read_envelope(w.read_fd)
    w.stop()
    assert w.released_in_time, "the error waited for EOF"
    assert str(info.value) == text


def test_read_envelope_too_large(writers: list[Writer], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queue, "MAX_ENVELOPE", 100)
    w = Writer(pieces_of(b"Fa@b\0" + b"T" + b"x" * 200 + b"\0\0", 50))
    writers.append(w)
    with pytest.raises(EnvelopeFormatError) as info:
        read_envelope(w.read_fd)
    w.stop()
    assert w.released_in_time  # refused before EOF
    assert str(info.value) == "envelope larger than 100 bytes"


def test_the_envelope_limit() -> None:
    """32 MiB: 10,000 recipients of 500 bytes fit with room to spare."""
    assert queue.MAX_ENVELOPE == 32 * 1024 * 1024


def test_read_envelope_at_exactly_the_size_limit(
    writers: list[Writer], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = b"Fa@b\0T" + b"x" * 92 + b"\0\0"
    assert len(data) == 100
    monkeypatch.setattr(queue, "MAX_ENVELOPE", 100)
    assert read_before_eof(writers, [data]).raw == data
    # Bytes after the terminator, in the same read, do not count.
    assert read_before_eof(writers, [data + b"after"]).raw == data


def test_read_envelope_cut_at_exactly_the_size_limit(
    writers: list[Writer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the limit but not over it, an envelope that then ends is cut (54),
    not too large (91)."""
    monkeypatch.setattr(queue, "MAX_ENVELOPE", 100)
    w = Writer([b"Fa@b\0T" + b"x" * 94], close_at_end=True)
    writers.append(w)
    with pytest.raises(EnvelopeTruncated) as info:
        read_envelope(w.read_fd)
    assert str(info.value) == "envelope ended before its terminating NUL"


def test_read_envelope_bad_fd() -> None:
    r, w = os.pipe()
    os.close(r)
    os.close(w)
    with pytest.raises(InputError) as info:
        read_envelope(r)
    assert not isinstance(info.value, EnvelopeTruncated)
    assert str(info.value) == "cannot read the envelope (Bad file descriptor)"
    assert exit_code_for(info.value) == EXIT_READ


# --- write_custom_error -------------------------------------------------------


def read_all(fd: int) -> bytes:
    out = b""
    while chunk := os.read(fd, 4096):
        out += chunk
    return out


@pytest.mark.parametrize("length", [0, 1, 254, 255, 256, 1000])
def test_custom_error_to_a_pipe(length: int) -> None:
    text = (b"DYour email was rejected because it contains the " + b"X" * 1000)[:length]
    r, w = os.pipe()
    try:
        assert write_custom_error(w, text) is True
        os.close(w)
        w = -1
        got = read_all(r)
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)
    assert got == text[:255]
    assert len(got) == min(length, 255)
    assert not got.endswith(b"\n")


def test_custom_error_exact_text() -> None:
    text = b"DYour email was rejected because it contains the EICAR virus"
    r, w = os.pipe()
    write_custom_error(w, text)
    os.close(w)
    assert read_all(r) == text
    os.close(r)


def test_custom_error_to_a_closed_fd() -> None:
    r, w = os.pipe()
    os.close(r)
    os.close(w)
    assert write_custom_error(w, b"Dno one listens") is False


def test_custom_error_to_a_pipe_nobody_reads() -> None:
    r, w = os.pipe()
    os.close(r)
    try:
        assert write_custom_error(w, b"Dno one listens") is False
    finally:
        os.close(w)
