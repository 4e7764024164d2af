"""headedit: where the header fields end, the block parsed into fields
(continuations, garbage lines, `Subject :`), and the edits rspamd's milter
block asks for (remove the Nth, add at an order, replace), each checked
byte for byte; a block that is not edited comes back as it was."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simscan.mail.headedit import _TRACE, MAX_HEAD, Field, Head, fields_end, is_name


def test_constants() -> None:
    assert MAX_HEAD == 1 << 20
    assert _TRACE == (b"received", b"return-path", b"delivered-to")


# --- fields_end --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "complete", "end"),
    [
        (b"A: 1\nB: 2\n\nbody\n", False, 10),
        (b"A: 1\nB: 2\n\nbody\n", True, 10),
        (b"A: 1\r\nB: 2\r\n\r\nbody\r\n", False, 12),
        (b"A: 1\r\n\r\n", False, 6),
        (b"A: 1\n\n", False, 5),
        (b"A: 1\n\r\n", False, 5),  # a CRLF blank line after LF fields
        (b"A: 1\n \nbody\n", False, -1),  # white space is not a blank line
        (b"A: 1\n \nbody\n", True, 12),
        (b"\nbody\n", False, 0),  # no fields at all
        (b"\r\nbody\n", False, 0),
        # no blank line: the fields end at the end of a complete message
        (b"A: 1\nB: 2\n", True, 10),
        (b"A: 1\nB: 2", True, 9),
        (b"", True, 0),
        # ... and do not end in what was read of a longer one
        (b"A: 1\nB: 2\n", False, -1),
        (b"A: 1\nB: 2", False, -1),
        (b"A: 1\n\r", False, -1),  # the blank line's LF is not in yet
        (b"", False, -1),
        (b"A: 1\nbody\n\nmore", False, 10),
    ],
)
def test_fields_end(data: bytes, complete: bool, end: int) -> None:
    assert fields_end(data, complete) == end


def test_fields_end_first_blank_line_wins() -> None:
    assert fields_end(b"A: 1\n\n\nB: 2\n\n", False) == 5


# --- Field and is_name -------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        (b"Subject: hi\n", b"subject"),
        (b"SUBJECT:hi\n", b"subject"),
        (b"Subject : hi\n", b"subject"),  # `Subject :` is a Subject to readers
        (b"Subject\t \t: hi\n", b"subject"),
        (b"X-Spam-Flag: YES\r\n", b"x-spam-flag"),
        (b"a:\n", b"a"),
        (b"XX-X: 1\n", b"xx-x"),  # only white space is stripped off the name
        (b"Subject\x0b: hi\n", b""),  # ... and only space and tab
        (b"Subject\x0c : hi\n", b""),
        (b"Subject\r: hi\n", b""),
        (b"Subject hi\n", b""),  # no colon: garbage
        (b": hi\n", b""),  # no name
        (b" : hi\n", b""),
        (b"Sub ject: hi\n", b""),  # a space inside the name
        (b" Subject: hi\n", b""),  # white space before it
        (b"Sub\x00ject: hi\n", b""),
        (b"Caf\xc3\xa9: hi\n", b""),
        (b"\n", b""),
        (b"", b""),
    ],
)
def test_field_name(raw: bytes, name: bytes) -> None:
    field = Field(raw)
    assert field.name == name
    assert field.raw == raw


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        (b"Subject", True),
        (b"X-Spam-Flag", True),
        (b"!", True),  # 33
        (b"~", True),  # 126
        (b"a.b_c+d/e", True),
        (b"", False),
        (b"a b", False),
        (b"a:b", False),
        (b":", False),
        (b"a\tb", False),
        (b"\x7f", False),
        (b"a\x1f", False),
        (b"caf\xc3\xa9", False),
        (b"\x80", False),
        (b" ", False),
    ],
)
def test_is_name(name: bytes, ok: bool) -> None:
    assert is_name(name) is ok


# --- Head parsing ------------------------------------------------------------------

BLOCK = (
    b"Received: from a.example\n"
    b"\tby b.example; Mon, 1 Jan 2024 00:00:00 +0000\n"
    b"Subject: hello\n"
    b"  world\n"
    b"From: a@example.com\n"
    b"this line is garbage\n"
    b"To: b@example.com\n"
)


def raws(head: Head) -> list[bytes]:
    return [f.raw for f in head.fields]


def names(head: Head) -> list[bytes]:
    return [f.name for f in head.fields]


def test_head_fields_and_continuations() -> None:
    head = Head(BLOCK)
    assert raws(head) == [
        b"Received: from a.example\n\tby b.example; Mon, 1 Jan 2024 00:00:00 +0000\n",
        b"Subject: hello\n  world\n",
        b"From: a@example.com\n",
        b"this line is garbage\n",
        b"To: b@example.com\n",
    ]
    assert names(head) == [b"received", b"subject", b"from", b"", b"to"]
    assert head.eol == b"\n"
    assert bytes(head) == BLOCK


def test_head_crlf() -> None:
    block = BLOCK.replace(b"\n", b"\r\n")
    head = Head(block)
    assert head.eol == b"\r\n"
    assert raws(head)[1] == b"Subject: hello\r\n  world\r\n"
    assert bytes(head) == block


@pytest.mark.parametrize(
    ("block", "eol"),
    [
        (b"A: 1\r\nB: 2\n", b"\r\n"),  # the first line's ending counts
        (b"A: 1\nB: 2\r\n", b"\n"),
        (b"A: 1\r", b"\r\n"),  # a CR at the end of the first line
        (b"A: 1", b"\n"),
        (b"", b"\n"),
        (b"\r\n", b"\r\n"),
    ],
)
def test_head_eol(block: bytes, eol: bytes) -> None:
    assert Head(block).eol == eol


def test_head_garbage_lines_kept_and_never_matched() -> None:
    block = b"Subject hi\n: x\nSubject: real\n \tcontinued\n"
    head = Head(block)
    assert names(head) == [b"", b"", b"subject"]
    head.remove(b"Subject")
    assert bytes(head) == b"Subject hi\n: x\n"


def test_head_garbage_lines_not_removed_by_an_empty_name() -> None:
    """rspamd's remove_headers may name "" (parse_reply lets it through):
    garbage lines are never matched or dropped."""
    block = b" folded first\ngarbage\nA: 1\n"
    head = Head(block)
    assert head.named(b"") == []
    for which in (0, 1, -1):
        head.remove(b"", which)
        assert bytes(head) == block


def test_head_continuation_first() -> None:
    """A block that starts with white space: a field of its own, no name."""
    head = Head(b" folded\nA: 1\n")
    assert raws(head) == [b" folded\n", b"A: 1\n"]
    assert names(head) == [b"", b"a"]


@pytest.mark.parametrize(
    ("block", "last"),
    [
        (b"A: 1\nB: 2", b"B: 2\n"),
        (b"A: 1\r\nB: 2", b"B: 2\r\n"),
        (b"A: 1\nB: 2\n\tmore", b"B: 2\n\tmore\n"),
    ],
)
def test_head_last_line_ended(block: bytes, last: bytes) -> None:
    """A block that does not end with its line ending gets one."""
    head = Head(block)
    assert raws(head)[-1] == last
    assert bytes(head) == block + head.eol


def test_head_empty() -> None:
    head = Head(b"")
    assert head.fields == []
    assert bytes(head) == b""
    assert head.named(b"Subject") == []


def test_head_named() -> None:
    head = Head(b"a: 1\nB: 2\nA : 3\nx a: 4\nA: 5\n")
    assert head.named(b"A") == [0, 2, 4]
    assert head.named(b"a") == [0, 2, 4]
    assert head.named(b"b") == [1]
    assert head.named(b"c") == []


_PIECES = [b"A: 1", b"Subject: x", b"Subject :y", b" cont", b"\tcont", b"garbage", b":", b"",
           b"x\ry"]  # fmt: skip
_ENDS = [b"\n", b"\r\n"]


@given(
    st.lists(
        st.tuples(st.sampled_from(_PIECES), st.sampled_from(_ENDS)).map(b"".join),
        max_size=12,
    ).map(b"".join)
)
def test_head_round_trip(block: bytes) -> None:
    """A block that is not edited comes back byte for byte, when it ends
    with a line ending."""
    assert bytes(Head(block)) == block


@given(st.binary(max_size=200))
def test_head_round_trip_any_bytes(block: bytes) -> None:
    head = Head(block)
    out = bytes(head)
    assert out == block if block == b"" or block.endswith(b"\n") else out == block + head.eol


# --- remove ------------------------------------------------------------------------

SPAMMY = (
    b"X-Spam: one\nSubject: s\nx-spam: two\n\tfolded\nTo: t\nX-SPAM : three\nX-Spammy: not this\n"
)


@pytest.mark.parametrize(
    ("which", "left"),
    [
        (0, [b"Subject: s\n", b"To: t\n", b"X-Spammy: not this\n"]),
        (1, [b"Subject: s\n", b"x-spam: two\n\tfolded\n", b"To: t\n", b"X-SPAM : three\n"]),
        (2, [b"X-Spam: one\n", b"Subject: s\n", b"To: t\n", b"X-SPAM : three\n"]),
        (3, [b"X-Spam: one\n", b"Subject: s\n", b"x-spam: two\n\tfolded\n", b"To: t\n"]),
        (-1, [b"X-Spam: one\n", b"Subject: s\n", b"x-spam: two\n\tfolded\n", b"To: t\n"]),
        (-2, [b"X-Spam: one\n", b"Subject: s\n", b"To: t\n", b"X-SPAM : three\n"]),
        (-3, [b"Subject: s\n", b"x-spam: two\n\tfolded\n", b"To: t\n", b"X-SPAM : three\n"]),
    ],
)
def test_remove(which: int, left: list[bytes]) -> None:
    head = Head(SPAMMY)
    head.remove(b"x-SPAM", which)
    keep = [] if which == 0 else [b"X-Spammy: not this\n"]
    assert raws(head) == [*left, *keep]


@pytest.mark.parametrize("which", [4, 5, 100, -4, -5, -100])
def test_remove_out_of_range(which: int) -> None:
    head = Head(SPAMMY)
    head.remove(b"X-Spam", which)
    assert bytes(head) == SPAMMY


def test_remove_default_is_all() -> None:
    head = Head(SPAMMY)
    head.remove(b"X-Spam")
    assert bytes(head) == b"Subject: s\nTo: t\nX-Spammy: not this\n"


@pytest.mark.parametrize("which", [0, 1, -1, 2])
def test_remove_none_there(which: int) -> None:
    head = Head(BLOCK)
    head.remove(b"X-Spam", which)
    assert bytes(head) == BLOCK


def test_remove_one_of_one() -> None:
    for which in (0, 1, -1):
        head = Head(b"A: 1\nB: 2\nC: 3\n")
        head.remove(b"B", which)
        assert bytes(head) == b"A: 1\nC: 3\n"


def test_remove_adjacent() -> None:
    head = Head(b"A: 1\nA: 2\nA: 3\nB: 4\n")
    head.remove(b"a")
    assert bytes(head) == b"B: 4\n"


# --- add ---------------------------------------------------------------------------

THREE = b"A: 1\nB: 2\nC: 3\n"


@pytest.mark.parametrize(
    ("order", "block"),
    [
        (0, b"N: v\nA: 1\nB: 2\nC: 3\n"),
        (1, b"A: 1\nN: v\nB: 2\nC: 3\n"),
        (2, b"A: 1\nB: 2\nN: v\nC: 3\n"),
        (3, b"A: 1\nB: 2\nC: 3\nN: v\n"),
        (4, b"A: 1\nB: 2\nC: 3\nN: v\n"),  # beyond the end: at the end
        (100, b"A: 1\nB: 2\nC: 3\nN: v\n"),
        (-1, b"A: 1\nB: 2\nC: 3\nN: v\n"),
        (-2, b"A: 1\nB: 2\nC: 3\nN: v\n"),  # also at the end
        (-3, b"A: 1\nB: 2\nN: v\nC: 3\n"),  # before the last field
        (-4, b"A: 1\nN: v\nB: 2\nC: 3\n"),
        (-5, b"N: v\nA: 1\nB: 2\nC: 3\n"),
        (-6, b"N: v\nA: 1\nB: 2\nC: 3\n"),  # that runs out: the top
        (-100, b"N: v\nA: 1\nB: 2\nC: 3\n"),
    ],
)
def test_add(order: int, block: bytes) -> None:
    head = Head(THREE)
    head.add(b"N", b"v", order)
    assert bytes(head) == block
    assert head.fields[head.named(b"n")[0]].name == b"n"


def test_add_default_at_end() -> None:
    head = Head(THREE)
    head.add(b"N", b"v")
    assert bytes(head) == THREE + b"N: v\n"


@pytest.mark.parametrize("order", [0, 1, 5, -1, -2, -3, -4])
def test_add_on_empty_head(order: int) -> None:
    head = Head(b"")
    head.add(b"X-New", b"yes", order)
    assert bytes(head) == b"X-New: yes\n"
    head.add(b"X-Second", b"2", order)
    assert names(head) in ([b"x-new", b"x-second"], [b"x-second", b"x-new"])


@pytest.mark.parametrize(
    ("order", "block"),
    [
        (0, b"N: v\nA: 1\n"),
        (1, b"A: 1\nN: v\n"),
        (-1, b"A: 1\nN: v\n"),
        (-2, b"A: 1\nN: v\n"),
        (-3, b"N: v\nA: 1\n"),
        (-4, b"N: v\nA: 1\n"),
    ],
)
def test_add_on_one_field(order: int, block: bytes) -> None:
    head = Head(b"A: 1\n")
    head.add(b"N", b"v", order)
    assert bytes(head) == block


def test_add_in_turn() -> None:
    """rspamd's DKIM signatures are added with orders 0, 1, ...: in turn."""
    head = Head(THREE)
    for n, value in enumerate([b"one", b"two", b"three"]):
        head.add(b"DKIM-Signature", value, n)
    assert bytes(head) == (
        b"DKIM-Signature: one\nDKIM-Signature: two\nDKIM-Signature: three\n" + THREE
    )


def test_add_crlf() -> None:
    block = THREE.replace(b"\n", b"\r\n")
    head = Head(block)
    head.add(b"N", b"v", 1)
    assert bytes(head) == b"A: 1\r\nN: v\r\nB: 2\r\nC: 3\r\n"


# A garbage line (or a lone CR, which some readers take as the end of the
# header) ends what every reader sees: nothing is added after it.
GARBLED = b"A: 1\nB: 2\ngarbage\nC: 3\n"


@pytest.mark.parametrize(
    ("block", "end"),
    [
        (b"", 0),
        (THREE, 3),
        (GARBLED, 2),
        (b"garbage\nA: 1\n", 0),
        (b" folded first\nA: 1\n", 0),
        (b"A: 1\n\rB: 2\n", 1),  # a lone CR: a blank line to Python's email
        (b"A: 1\r\n\r\nB: 2\r\n", 1),
        (b"A: 1\n\tfolded\nB: 2\n", 2),
        (b"A: 1\nB : 2\n: 3\n", 2),
    ],
)
def test_readable_end(block: bytes, end: int) -> None:
    assert Head(block).readable_end() == end


@pytest.mark.parametrize(
    ("order", "block"),
    [
        (0, b"N: v\nA: 1\nB: 2\ngarbage\nC: 3\n"),
        (1, b"A: 1\nN: v\nB: 2\ngarbage\nC: 3\n"),
        (2, b"A: 1\nB: 2\nN: v\ngarbage\nC: 3\n"),
        (3, b"A: 1\nB: 2\nN: v\ngarbage\nC: 3\n"),  # never past the garbage
        (100, b"A: 1\nB: 2\nN: v\ngarbage\nC: 3\n"),
        (-1, b"A: 1\nB: 2\nN: v\ngarbage\nC: 3\n"),
        (-2, b"A: 1\nB: 2\nN: v\ngarbage\nC: 3\n"),
        (-3, b"A: 1\nN: v\nB: 2\ngarbage\nC: 3\n"),
        (-4, b"N: v\nA: 1\nB: 2\ngarbage\nC: 3\n"),
        (-5, b"N: v\nA: 1\nB: 2\ngarbage\nC: 3\n"),
        (-9, b"N: v\nA: 1\nB: 2\ngarbage\nC: 3\n"),
    ],
)
def test_add_before_garbage(order: int, block: bytes) -> None:
    head = Head(GARBLED)
    head.add(b"N", b"v", order)
    assert bytes(head) == block


@pytest.mark.parametrize("order", [0, 1, -1, -2, -3])
def test_add_before_a_lone_cr(order: int) -> None:
    head = Head(b"\rA: 1\n")
    head.add(b"N", b"v", order)
    assert bytes(head) == b"N: v\n\rA: 1\n"


@given(
    st.lists(st.sampled_from([b"A: 1\n", b"Received: x\n", b"junk\n", b" cont\n", b"\r"])).map(
        b"".join
    ),
    st.integers(-8, 8),
)
def test_add_never_past_readable_end(block: bytes, order: int) -> None:
    head = Head(block)
    end = head.readable_end()
    before = raws(head)
    head.add(b"X-New", b"v", order)
    at = head.named(b"x-new")[0]
    assert at <= end
    assert at == (order if 0 <= order <= end else at)
    assert raws(head)[:at] + raws(head)[at + 1 :] == before
    assert head.readable_end() == end + 1


@pytest.mark.parametrize(
    ("block", "top"),
    [
        (b"", 0),
        (THREE, 0),
        (b"Received: a\n\tfolded\nreceived: b\nSubject: s\n", 2),
        (b"Return-Path: <a@b>\nDelivered-To: c@d\nRECEIVED : x\nTo: t\nReceived: y\n", 3),
        (b"Received: a\nReceived: b\n", 2),
        (b"Received: a\ngarbage\nReceived: b\n", 1),
        (b"X-Received: a\nReceived: b\n", 0),
        (b"Received-SPF: pass\nReceived: b\n", 0),
        (b"Delivered-To: a\n", 1),
    ],
)
def test_top(block: bytes, top: int) -> None:
    assert Head(block).top() == top


def test_add_at_top() -> None:
    """simscan's own X-Spam lines go just past the trace fields."""
    head = Head(b"Return-Path: <a@b>\nReceived: x\nSubject: s\n")
    at = head.top()
    head.add(b"X-Spam-Status", b"No", at)
    head.add(b"X-Spam-Flag", b"YES", at)
    assert bytes(head) == (
        b"Return-Path: <a@b>\nReceived: x\nX-Spam-Flag: YES\nX-Spam-Status: No\nSubject: s\n"
    )


# --- replace -----------------------------------------------------------------------


def test_replace_every_field_of_the_name() -> None:
    head = Head(b"Subject: one\nTo: t\nsubject : two\n\tfolded\nX: y\n")
    head.replace(b"Subject", b"new")
    assert bytes(head) == b"Subject: new\nTo: t\nSubject: new\nX: y\n"


def test_replace_adds_when_none() -> None:
    head = Head(THREE)
    head.replace(b"Subject", b"new")
    assert bytes(head) == THREE + b"Subject: new\n"


def test_replace_adds_before_garbage() -> None:
    head = Head(GARBLED)
    head.replace(b"Subject", b"new")
    assert bytes(head) == b"A: 1\nB: 2\nSubject: new\ngarbage\nC: 3\n"


def test_replace_on_empty_head() -> None:
    head = Head(b"")
    head.replace(b"Subject", b"new")
    assert bytes(head) == b"Subject: new\n"


def test_replace_crlf_and_folded_value() -> None:
    head = Head(b"Subject: old\r\nTo: t\r\n")
    head.replace(b"Subject", b"***SPAM*** very\nlong")
    assert bytes(head) == b"Subject: ***SPAM*** very\r\n\tlong\r\nTo: t\r\n"
    assert head.named(b"subject") == [0]


# --- line --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "line"),
    [
        (b"plain", b"N: plain\n"),
        (b"", b"N: \n"),
        (b"  spaced  ", b"N: spaced\n"),
        (b"a\r\nb", b"N: a\n\tb\n"),  # a line break becomes a fold
        (b"a\nb", b"N: a\n\tb\n"),
        (b"a\rb", b"N: a\n\tb\n"),
        (b"XX\r\nXX", b"N: XX\n\tXX\n"),
        (b"a\n b", b"N: a\n b\n"),  # a fold already: kept as it is
        (b"a\n\tb", b"N: a\n\tb\n"),
        (b"a\n  b  ", b"N: a\n  b  \n"),
        (b"a\n\nb", b"N: a\n\tb\n"),  # empty lines go
        (b"a\n \t \nb", b"N: a\n\tb\n"),  # and so do white-space ones
        (b"a\n", b"N: a\n"),
        (b"\nb", b"N: \n\tb\n"),
        (b"a\x00b\x1fc\x7fd\x0be", b"N: abcde\n"),  # control bytes dropped
        (b"a\tb", b"N: a\tb\n"),  # ... but not tab
        (b"a\n\x00b", b"N: a\n\tb\n"),
        (b"a\n\x00 b", b"N: a\n b\n"),
        (b"a\n\x00\x01", b"N: a\n"),
        (b"\x00 a", b"N: a\n"),
        (b"caf\xc3\xa9 \xff", b"N: caf\xc3\xa9 \xff\n"),
    ],
)
def test_line(value: bytes, line: bytes) -> None:
    assert Head(b"").line(b"N", value) == line
    assert Head(b"A: 1\r\n").line(b"N", value) == line.replace(b"\n", b"\r\n")


@given(st.binary(max_size=80))
def test_line_is_one_field(value: bytes) -> None:
    """Whatever the value, the line is one field of that name, its
    continuation lines start with white space, and it has no control
    bytes but tab and its line endings."""
    for block in (b"", b"A: 1\r\n"):
        head = Head(block)
        line = head.line(b"X-N", value)
        parsed = Head(line)
        assert names(parsed) == [b"x-n"]
        assert bytes(parsed) == line
        assert line.endswith(head.eol)
        body = line.replace(head.eol, b"")
        assert not any((c < 32 and c != 9) or c == 127 for c in body)
        assert line.count(b"\n") == line.count(head.eol)
