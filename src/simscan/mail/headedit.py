"""Editing a message's header block, as an MTA applies a milter's answer:
remove fields, replace the Subject, add fields at a position.  Only the
header block is rebuilt; the body is never read (the caller sends it on
from its offset).

The block is a list of fields, each its first line and its continuation
lines (starting with a space or tab), kept byte for byte; a line that is
neither (garbage in a header) is a field of its own with no name, never
matched and never dropped.  New lines use the block's own line ending (LF
in qmail's queue, CRLF when the message came that way).
"""

MAX_HEAD = 1 << 20  # a header block longer than this is not rebuilt


class Field:
    __slots__ = ("name", "raw")

    def __init__(self, raw: bytes) -> None:
        self.raw = raw  # the whole field, its line endings included
        name, colon, _ = raw.partition(b":")
        name = name.rstrip(b" \t")  # `Subject :` is a Subject to readers
        self.name = name.lower() if colon and is_name(name) else b""


def fields_end(data: bytes, complete: bool) -> int:
    """Where the header fields end in `data` (the message's first bytes):
    the start of the blank line after them, len(data) when `complete` and
    the message has no blank line, or -1 when they do not end in `data`."""
    start = 0
    while True:
        end = data.find(b"\n", start)
        if end < 0:
            return len(data) if complete else -1
        if data[start:end] in (b"", b"\r"):
            return start
        start = end + 1


class Head:
    """A header block, edited in place; bytes(head) is the new block
    (without the blank line that ends it)."""

    __slots__ = ("eol", "fields")

    def __init__(self, block: bytes) -> None:
        self.eol = b"\r\n" if block.split(b"\n", 1)[0].endswith(b"\r") else b"\n"
        groups: list[list[bytes]] = []  # each field's lines, joined once
        for line in block.splitlines(keepends=True):
            if line[:1] in (b" ", b"\t") and groups:
                groups[-1].append(line)
            else:
                groups.append([line])
        self.fields = [Field(b"".join(lines)) for lines in groups]
        if self.fields and not self.fields[-1].raw.endswith(b"\n"):
            self.fields[-1].raw += self.eol

    def __bytes__(self) -> bytes:
        return b"".join(f.raw for f in self.fields)

    def named(self, name: bytes) -> list[int]:
        """Indexes of the fields called `name` (any case)."""
        name = name.lower()
        if not name:
            return []  # (lines that are no field have no name: never matched)
        return [i for i, f in enumerate(self.fields) if f.name == name]

    def remove(self, name: bytes, which: int = 0) -> None:
        """Every field of that name (0), the Nth (N > 0), or the Nth from
        the end (N < 0), as rspamd's remove_headers counts."""
        found = self.named(name)
        if which:
            at = which - 1 if which > 0 else len(found) + which
            found = found[at : at + 1] if 0 <= at < len(found) else []
        for i in reversed(found):
            del self.fields[i]

    def add(self, name: bytes, value: bytes, order: int = -1) -> None:
        """A new field, where rspamd's milter proxy puts it: order N >= 0
        at position N (0 is the first field), -1 after the others, and
        below that counted from the end as rspamd counts (-2 also at the
        end, -3 before the last field), the top when that runs out.  "The
        end" is readable_end(): never after a line that ends the header
        for some readers."""
        field = Field(self.line(name, value))
        end = self.readable_end()
        at = order if order >= 0 else end if order == -1 else end + order + 2
        self.fields.insert(min(max(at, 0), end), field)

    def readable_end(self) -> int:
        """Where the fields every reader sees end: before the first line
        that is no field (a line without a name, or a blank one made of a
        lone CR, which Python's email and MIME readers take as the end of
        the header).  Fields added after it would be body to them."""
        for i, field in enumerate(self.fields):
            if not field.name:
                return i
        return len(self.fields)

    def top(self) -> int:
        """Just past the trace fields at the top (Received, Return-Path):
        where a filter's own verdict lines go, above anything a sender
        wrote into the header."""
        at = 0
        while at < len(self.fields) and self.fields[at].name in _TRACE:
            at += 1
        return at

    def replace(self, name: bytes, value: bytes) -> None:
        """Give every field of that name this value (each reader sees the
        same); add one at the end when there is none."""
        found = self.named(name)
        for i in found:
            self.fields[i] = Field(self.line(name, value))
        if not found:
            self.add(name, value)

    def line(self, name: bytes, value: bytes) -> bytes:
        """`Name: value` with the block's line endings.  Line breaks inside
        the value are kept as folds (a continuation line always starts
        with white space, so no value can start a field of its own), and
        other control bytes are dropped."""
        lines = value.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
        folded = [lines[0].translate(None, _CONTROLS).strip()]
        for more in lines[1:]:
            more = more.translate(None, _CONTROLS)
            if more.strip():
                folded.append(more if more[:1] in (b" ", b"\t") else b"\t" + more)
        return name + b": " + self.eol.join(folded) + self.eol


_TRACE = (b"received", b"return-path", b"delivered-to")

# Control bytes other than tab: never in a header line simscan writes.
_CONTROLS = bytes([*range(9), *range(10, 32), 127])


def is_name(name: bytes) -> bool:
    """A field name RFC 5322 allows: printable ASCII without ':' or space."""
    return bool(name) and all(33 <= c <= 126 and c != 58 for c in name)
