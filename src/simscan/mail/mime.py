"""Every attachment file name in a message, under every reading a mail
client could take of it.

Where two readers read a header or a structure differently (Thunderbird,
Outlook, Apple Mail, MimeKit, Python's email package, or ripmime for the C
simscan), the names of every reading count: a name missed is a hole, a name
checked once too often costs nothing (it must still end with a blocked
extension to refuse anything).  So:

- Structure.  A line ends at LF, CRLF or a lone CR.  Every boundary declared
  anywhere in the message (each reading of each `boundary` parameter, in any
  Content-Type) is known from then on, and any line that starts with
  `--boundary` (transport padding or anything else after it, a close
  delimiter too: some reader takes each as a delimiter) starts a part whose
  headers are read.  Nothing is ever "closed": a part that one reader ends
  and another continues is read both ways.  Attached messages are read as
  messages when any reading makes them so (every message/* subtype, or a
  part named *.eml); base64 or quoted-printable ones are decoded and read
  again, as are encoded text parts.
- Headers.  A header block runs to a blank line; a line in it that is not
  a header is read as part of the header before it (a reader that takes
  only LF as a line end sees it so), and also as the start of the body
  (Python's email starts it there).  What the Content-* headers say, under
  every reading (names, types, boundaries, encodings), is headers.py's.
- Text.  Every raw line anywhere, and every line of a decoded text or
  message part, is looked at for uuencode (`begin 644 name`), yEnc
  (`=ybegin ... name=`) and BinHex (the name in its header).

Past a structural limit the walk says so (`Names.truncated`); the caller
decides (simscan refuses by default: fail closed).  The walk streams: only
part headers are kept (bounded), bodies are skipped with bytes.find, and
only message and text parts are decoded.  Why not email.parser: it keeps
every body in memory as str and costs ~14 ms per message to import.
Malformed input never raises.
"""

import binascii

from . import headers
from .lines import CHUNK, LineReader
from .names import Matcher

# typing costs ~8 ms to import; mypy reads TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO, Protocol
else:
    Protocol = object

HEADER_LIMIT = 256 * 1024  # bytes of one part's header block
MAX_BOUNDARIES = 1000  # boundaries known in one message
MAX_DEPTH = 30  # encoded parts decoded inside encoded parts
MAX_PARTS = 20000  # header blocks read in one walk, at every depth
MAX_NAMES = 10000  # names attachment_names() returns (blocking sees them all)
MAX_FILES = 10000  # part files extract() writes (the rest share one more)
MAX_DECODED = 512 << 20  # bytes decoded for walkers in one message, at every depth

_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_NOT_B64 = bytes(c for c in range(256) if c not in _B64_ALPHABET)
_OCTAL = "01234567"
_BLANK = (b"\n", b"\r\n", b"\r")
_DECODED = ("base64", "quoted-printable", "x-uuencode")  # transfer encodings undone
_YENC = b"=ybegin"
_BINHEX = b"(This file must be converted with BinHex"
# Lines of a body worth looking at without decoding it.
_TEXT_MARKS = (b"begin", b"Begin", b"BEGIN", _YENC, _BINHEX)

# Walker states
_HEADERS = 0  # reading a header block (of a part, or of a message)
_BODY = 1  # in a body: looking at the lines that start with a mark


class Names:
    """What the walk found: the names (the first MAX_NAMES of them), the
    first one that is blocked (the walk stops there), and the limits that
    were reached, which may have hidden a name."""

    def __init__(
        self,
        endings: tuple[bytes, ...] = (),
        parts: "_PartFiles | None" = None,
        stop_at_limit: bool = False,
        leaves: "Leaves | None" = None,
        where: "list[tuple[str, int]] | None" = None,
    ) -> None:
        self.found: list[str] = []
        # `simscan check`: each new name with the header block it was read
        # after (1 is the message's own header, then in document order).
        self.where = where
        self.blocked: str | None = None
        self.truncated: list[str] = []
        self._seen: set[str] = set()
        self._match = Matcher(endings) if endings else None
        self.stop_at_limit = stop_at_limit
        self.done = False  # blocked, or a limit with stop_at_limit
        self.headers = 0  # header blocks read, for MAX_PARTS
        self.meter = headers.Meter()  # the header reading left
        self.decoded = 0  # bytes decoded for walkers, for MAX_DECODED
        # extract(): where each leaf part's decoded body is written.
        self.parts = parts
        # walk(leaves=): who is given each leaf's body (each reading of it)
        # to look inside; what it found stops the walk as a blocked name does.
        self.leaves = leaves
        self.finding: object = None

    def add(self, name: str) -> None:
        if not name or name in self._seen:
            return
        if len(self._seen) < 4 * MAX_NAMES:
            self._seen.add(name)
        if len(self.found) < MAX_NAMES:
            self.found.append(name)
            if self.where is not None:
                self.where.append((name, self.headers))
        if self._match is not None and self.blocked is None:
            self.blocked = self._match(name)
            self.done = self.blocked is not None

    def limit(self, what: str) -> None:
        if what not in self.truncated:
            self.truncated.append(what)
        if self.stop_at_limit:
            self.done = True


def attachment_names(f: "BinaryIO", chunk: int = CHUNK) -> list[str]:
    """The attachment file names in the message, in order of appearance.
    (`chunk`, the read size, is there for tests of the chunk edges.)"""
    return walk(f, (), chunk).found


def extract(f: "BinaryIO", directory: str, chunk: int = CHUNK) -> Names:
    """Write the decoded body of every leaf part (attached messages too) to
    `directory/part0001`, `part0002`, ..., as ripmime did for the C simscan:
    a daemon that scans a directory (Trophie, Sophie) then sees the files.
    Names are file-system safe counters, never the sender's file names.
    `Names.parts.count` tells how many were written; OSError when one
    cannot be."""
    return walk(f, (), chunk, _PartFiles(directory))


def walk(
    f: "BinaryIO",
    endings: tuple[bytes, ...],
    chunk: int = CHUNK,
    parts: "_PartFiles | None" = None,
    stop_at_limit: bool = False,
    leaves: "Leaves | None" = None,
    where: "list[tuple[str, int]] | None" = None,
) -> Names:
    """Walk the message; with `endings`, stop at the first blocked name;
    with `stop_at_limit`, at the first limit too (the answer is known).
    With `leaves`, every reading of every leaf part's body (decoded) is
    handed to it as it is read (see Leaves).  With `where`, each name is
    recorded there with its header block's number (for `simscan check`)."""
    names = Names(endings, parts, stop_at_limit, leaves, where)
    walker = _Walker(names, 0, parts is not None)
    reader = LineReader(f, chunk=chunk)
    while not names.done:
        # A boundary line must come out whole to be matched.
        reader.limit = max(65536, walker.longest + 8)
        if walker.decoders and walker.state == _BODY:
            # Decode in blocks, up to the next line that may be a boundary.
            start = reader.at_start
            block = reader.until((b"--",) if walker.delimiters else ())
            if block:
                walker.block(block, start)
                continue
        wanted = walker.wants()
        if wanted is not None:
            reader.skip(wanted)
        got = reader.piece()
        if got is None:
            break
        walker.line(*got)
    walker.close()
    return names


class Leaf(Protocol):
    """Where one leaf's body goes: `write` as it is decoded, `close` at its
    end.  `dead` says it wants no more bytes (the walk then stops decoding
    for it)."""

    dead: bool

    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class Leaves(Protocol):
    """Opens a Leaf for each reading of each leaf part; `part_names` are
    the names its headers give it (any reading), `text` whether some reading
    of its type is text.  A leaf's close() may set `names.finding` and
    `names.done` to stop the walk."""

    def open(self, names: Names, part_names: list[str], text: bool) -> Leaf: ...


class _Walker:
    """A push parser for one message: fed lines (or pieces of long lines,
    or blocks of lines while a body is being decoded)."""

    idle = False  # (a decoder's child that wants no more lines: _Sniff)

    def __init__(self, names: Names, depth: int, extracting: bool, message: bool = True) -> None:
        self.names = names
        self.depth = depth
        self.extracting = extracting  # extract(): write this message's leaves
        # Every boundary known in this message, as its delimiter line
        # (b"--" + boundary) -> whether it is a digest's (parts default to
        # message/rfc822).  Lines are matched by prefix: `lengths`.
        self.delimiters: dict[bytes, bool] = {}
        self.lengths: list[int] = []
        self.longest = 0
        # A message starts with its headers; a decoded text part is text.
        self.state = _HEADERS if message else _BODY
        self.digest = False  # this part's default type is message/rfc822
        self.early = False  # has a line that is no header been seen in it?
        self.header: list[bytes] = []
        self.header_size = 0
        self.keeping = False  # is the header line being read one we keep?
        self.decoders: list[_Decoder] = []
        self.sniff: _Sniff | None = None  # is this raw leaf body a message?
        self.out: _PartFile | Leaf | None = None  # this leaf's file, or Leaf
        self.text = _TextScan(names)
        # Could a name be in the text as written (uuencode, yEnc, BinHex)?
        # Not in a body every reader takes for base64.
        self.marks = True
        names.headers += 1

    def wants(self) -> tuple[bytes, ...] | None:
        """Prefixes of the lines worth feeding next; None means every line."""
        if (
            self.state == _HEADERS
            or self.decoders
            or self.sniff is not None
            or self.out is not None
            or self.text.binhex is not None
        ):
            return None
        if not self.marks:
            return (b"--",) if self.delimiters else ()
        return (b"--", *_TEXT_MARKS) if self.delimiters else _TEXT_MARKS

    def line(self, piece: bytes, start: bool) -> None:
        if start and self.delimiters and piece.startswith(b"--"):
            hit = self._delimiter(piece)
            if hit is not None:
                self._at_boundary(*hit)
                return
        if self.decoders:
            self._decode(piece)
        if self.marks:
            self.text.feed(piece, start)
        if self.state == _HEADERS:
            self._header_line(piece, start)
            return
        if self.out is not None:
            self.out.write(piece)
            if self.out.dead:
                self.out.close()
                self.out = None
        if self.sniff is not None:
            self._sniff(piece, start)

    def block(self, data: bytes, start: bool) -> None:
        """Lines of a body being decoded (no boundary among them)."""
        self._decode(data)
        if self.marks:
            self.text.scan_block(data, start)

    def _decode(self, data: bytes) -> None:
        idle = False
        for decoder in self.decoders:
            decoder.feed(data)
            idle |= decoder.child is None and decoder.out is None
        if idle:  # nothing more wants this body decoded
            self.decoders = [d for d in self.decoders if d.child or d.out]

    def _sniff(self, piece: bytes, start: bool) -> None:
        sniff = self.sniff
        assert sniff is not None
        sniff.line(piece, start)
        if sniff.lines is None:
            self.sniff = None
            if sniff.message:
                # It is one: its headers and body, read here (as a raw
                # message/rfc822 part is), from its first line.
                self._new_part(False)
                for line, begins in sniff.taken:
                    if self.names.done:
                        break
                    self.line(line, begins)

    def close(self) -> None:
        if self.state == _HEADERS and (self.header or self.header_size):
            self._end_of_headers()
        self._end_of_body()

    # --- structure -----------------------------------------------------------

    def _delimiter(self, piece: bytes) -> tuple[bool, bool] | None:
        """None if no known boundary starts the line; else (whether a part
        starts here, for some boundary that does: the line is no close
        delimiter `--boundary--` of it; whether one of those is a digest's)."""
        found = None
        for length in self.lengths:
            if length > len(piece):
                break
            digest = self.delimiters.get(piece[:length])
            if digest is not None:
                opens = piece[length:].rstrip(b" \t\r\n") != b"--"
                if found is None:
                    found = (opens, digest and opens)
                else:
                    found = (found[0] or opens, found[1] or (digest and opens))
        return found

    def _add_boundary(self, boundary: bytes, digest: bool) -> None:
        if not boundary:
            return
        delimiter = b"--" + boundary
        if delimiter in self.delimiters:
            self.delimiters[delimiter] |= digest
            return
        if len(self.delimiters) >= MAX_BOUNDARIES:
            self.names.limit(f"more than {MAX_BOUNDARIES} multipart boundaries")
            return
        self.delimiters[delimiter] = digest
        if len(delimiter) not in self.lengths:
            self.lengths = sorted([*self.lengths, len(delimiter)])
        self.longest = max(self.longest, len(delimiter))

    def _at_boundary(self, opens: bool, digest: bool) -> None:
        if self.state == _HEADERS and (self.header or self.header_size):
            # A part whose headers run straight into the next boundary.
            self._end_of_headers()
        self._end_of_body()
        if opens:
            self._new_part(digest)
        else:
            self.state = _BODY  # after a close delimiter: text

    def _new_part(self, digest: bool, count: bool = True) -> None:
        self.names.headers += count
        if self.names.headers > MAX_PARTS:
            self.names.limit(f"more than {MAX_PARTS} MIME parts")
            self.names.done = True
        self.state = _HEADERS
        self.marks = True
        self.digest = digest
        self.early = False

    def _end_of_body(self) -> None:
        for decoder in self.decoders:
            decoder.close()
        self.decoders = []
        self.sniff = None
        if self.out is not None:
            self.out.close()
            self.out = None
        self.text.end()

    # --- headers -------------------------------------------------------------

    def _header_line(self, piece: bytes, start: bool) -> None:
        if start:
            if piece in _BLANK:
                self._end_of_headers()
                return
            if piece[:1] not in (b" ", b"\t"):
                name, colon, _ = piece.partition(b":")
                name = name.rstrip(b" \t").lower()
                if colon and name and not any(c in name for c in b" \t\r\n"):
                    self.keeping = headers.kept(name) is not None
                elif not self.early:
                    # No header: Python's email starts the body here; others
                    # read on to the blank line.  Both readings count.
                    self.early = True
                    self._early_body(piece)
                    # If the headers so far declare a boundary this line
                    # starts, Python's body starts with a part.  (The lines
                    # after it, others' headers, are its headers then.)
                    hit = self._delimiter(piece) if piece.startswith(b"--") else None
                    if hit is not None:
                        self._at_boundary(*hit)
                        return
        if not self.keeping:
            return
        # Only the headers that matter are kept and counted, so no amount
        # of other headers can push them past the limit.
        self.header_size += len(piece)
        if self.header_size > HEADER_LIMIT:
            self.names.limit(f"Content-* headers of a part over {HEADER_LIMIT} bytes")
            self.keeping = False
            return
        self.header.append(piece if start else b"\0" + piece)

    def _read_headers(self) -> "_Part":
        """What the header block kept says, under every reading: the names
        (added), the boundaries (known from now on), the rest in a _Part."""
        fields = headers.fields(self.header)
        names = self.names
        try:
            found = headers.names(fields, names.meter)
        except headers.OverLimit as e:
            names.limit(str(e))
            found = []
        for name in found:
            names.add(name)
        types: set[str] = set()
        for value in fields.get("content-type", []):
            try:
                readings = headers.type_readings(value, names.meter)
                boundaries = headers.boundary_readings(value, names.meter)
            except headers.OverLimit as e:
                names.limit(str(e))
                readings, boundaries = set(), []
            types |= readings
            for boundary in boundaries:
                self._add_boundary(boundary, "multipart/digest" in readings)
        if not types or not any("/" in t for t in types):
            types.add("message/rfc822" if self.digest else "text/plain")
        encodings: set[str] = set()
        for value in fields.get("content-transfer-encoding", [""]):
            encodings |= headers.encoding_readings(value)
        return _Part(
            names=found,
            # MimeKit parses text/rfc822-headers as a whole message.
            message=any(t.startswith("message/") for t in types)
            or "text/rfc822-headers" in types
            or any(n.lower().rstrip(" .").endswith(".eml") for n in found)
            or any(".mht" in n.lower() for n in found),  # ripmime: decode_mht
            # (BinHex is text: readers decode it from the lines.)
            text=any(t.startswith("text/") or "/" not in t or "binhex" in t for t in types),
            multipart=all(t.startswith("multipart/") for t in types if "/" in t),
            decoded=[e for e in _DECODED if e in encodings],
            raw=bool(encodings - set(_DECODED)),
        )

    def _child(self, part: "_Part", extracting: bool) -> "_Walker | _Sniff | None":
        """The walker for a decoded body that may hold names: a message's
        (a multipart's too: ripmime decodes one and reads it as a message),
        or a leaf's (ripmime's second look, with a text walker for text)."""
        if part.message or part.multipart:
            return _Walker(self.names, self.depth + 1, extracting, True)
        text = _Walker(self.names, self.depth + 1, False, False) if part.text else None
        return _Sniff(self.names, self.depth + 1, text)

    def _early_body(self, piece: bytes) -> None:
        """The body as Python's email reads it: from this line (no header)."""
        part = self._read_headers()
        if not part.decoded:
            return
        if self.depth >= MAX_DEPTH:
            self.names.limit(f"encoded parts nested over {MAX_DEPTH}")
            return
        for encoding in part.decoded:
            decoder = _Decoder(encoding, self._child(part, False), None)
            decoder.feed(piece)
            self.decoders.append(decoder)

    def _end_of_headers(self) -> None:
        part = self._read_headers()
        self.header = []
        self.header_size = 0
        self.keeping = False
        self.early = False
        self.digest = False
        names = self.names
        out: _PartFile | Leaf | None = None
        leaf = not part.message and not part.multipart
        if self.extracting and names.parts is not None and leaf:
            out = names.parts.open(names)  # a leaf: its body goes to a file
        # A message part sent encoded is a file too to a reader that does
        # not take it for a message (a name ending .eml or holding .mht
        # makes a message for some readers only): its decoded body is a leaf.
        leaves = names.leaves if leaf or (part.decoded and not part.multipart) else None
        if leaves is not None:
            out = leaves.open(names, part.names, part.text)
        if part.decoded:
            if self.depth < MAX_DEPTH:
                for index, encoding in enumerate(part.decoded):
                    first = out
                    if index and leaves is not None:
                        first = leaves.open(names, part.names, part.text)  # each reading
                    elif index:
                        first = None
                    child = self._child(part, self.extracting)
                    self.decoders.append(_Decoder(encoding, child, first))
                # The decoder writes it; the body as it is is a leaf too when
                # some reader takes it so.
                out = (
                    leaves.open(names, part.names, part.text)
                    if leaves and leaf and part.raw
                    else None
                )
            else:
                names.limit(f"encoded parts nested over {MAX_DEPTH}")
        self.out = out
        # Readers take a multipart's body as it is, whatever its encoding.
        raw = part.raw or part.multipart
        self.marks = raw or part.decoded != ["base64"]
        if (part.message or part.multipart) and raw:
            # An attached message's own headers; ripmime reads the lines
            # after a multipart's blank line as headers too (its preamble:
            # one per multipart, not counted as a part).
            self._new_part(False, count=part.message)
        else:
            self.state = _BODY
            if part.raw and not part.multipart:
                # ripmime's second look at the body as it is.
                self.sniff = _Sniff(names, self.depth, None, own=False)


class _Part:
    """What a part's headers make of it, under any reading."""

    __slots__ = ("decoded", "message", "multipart", "names", "raw", "text")

    def __init__(
        self,
        names: list[str],
        message: bool,
        text: bool,
        multipart: bool,
        decoded: list[str],
        raw: bool,
    ) -> None:
        self.names = names  # the names its headers give it
        self.message = message  # message/*, text/rfc822-headers, *.eml, *.mht*
        self.text = text  # a text/* type, or none that is a type
        self.multipart = multipart  # every type is multipart/*
        self.decoded = decoded  # base64, quoted-printable
        self.raw = raw  # some reading leaves the body as it is


class _TextScan:
    """Names in text: uuencode `begin` lines, yEnc `=ybegin` lines, and the
    header of BinHex data (after its `(This file must be converted...`
    line)."""

    def __init__(self, names: Names) -> None:
        self.names = names
        self.binhex: bytearray | None = None  # collecting BinHex characters
        self.carry = b""  # scan_block(): a line the last block cut off
        self.uuencode = False  # a uuencode begin line seen in this part

    def feed(self, piece: bytes, start: bool) -> None:
        if self.binhex is not None:
            self._binhex(piece)
        if start and piece.startswith(_TEXT_MARKS):
            self._mark(piece)

    def scan_block(self, data: bytes, start: bool) -> None:
        """Every line start in `data` (`start`: data starts a line).  A last
        line cut off by the end of the block is kept for the next one."""
        if self.carry:
            data, start = self.carry + data, True
            self.carry = b""
        last = max(data.rfind(b"\n"), data.rfind(b"\r"))
        if last >= 0 and data[last] == 0x0D and last + 1 == len(data):
            last -= 1  # an LF may come next: keep the CR with the tail
            last = max(data.rfind(b"\n", 0, last + 1), data.rfind(b"\r", 0, last + 1))
        tail = data[last + 1 :]
        if tail and (start or last >= 0) and len(tail) < 65536:
            self.carry = tail
            data = data[: last + 1]
        if self.binhex is not None:
            self._binhex(data[:4096])
        for mark in _TEXT_MARKS:
            if start and data.startswith(mark):
                self._mark(_first_line(data))
            for lead in (b"\n", b"\r"):
                at = data.find(lead + mark)
                while at >= 0 and not self.names.done:
                    line = _first_line(data[at + 1 : at + 1 + 65536])
                    self._mark(line)
                    if mark == _BINHEX and self.binhex is not None:
                        self._binhex(data[at + 1 + len(line) : at + 1 + len(line) + 4096])
                    at = data.find(lead + mark, at + 1)

    def _mark(self, line: bytes) -> None:
        if line[:6].lower().startswith(b"begin"):
            name = _uuencode_name(line)
            if name:
                self.uuencode = True
            elif self.uuencode:
                # ripmime, once a begin line has turned uuencode on in a
                # part: any `begin` and a blank opens a file.
                name = _ripmime_begin_name(line)
            self.names.add(name)
        elif line.startswith(_YENC):
            self.names.add(_yenc_name(line))
        elif line.startswith(_BINHEX):
            self.binhex = bytearray()

    def _binhex(self, data: bytes) -> None:
        assert self.binhex is not None
        collected = self.binhex
        collected += data
        start = collected.find(b":")
        if start < 0:
            if len(collected) > 4096:
                self.binhex = None  # no BinHex data follows
            return
        chars = bytes(collected[start + 1 :]).translate(None, b" \t\r\n")
        name = _binhex_name(chars)
        if name is not None or len(chars) > 200:
            self.names.add(name or "")
            self.binhex = None

    def end(self) -> None:
        if self.carry:
            carry, self.carry = self.carry, b""
            self.scan_block(carry + b"\n", True)
            self.carry = b""
        if self.binhex is not None:
            start = self.binhex.find(b":")
            if start >= 0:
                self.names.add(_binhex_name(bytes(self.binhex[start + 1 :]), True) or "")
            self.binhex = None
        self.uuencode = False


def _first_line(data: bytes) -> bytes:
    """The first line of data, its line end kept."""
    cut = len(data)
    for end in (b"\n", b"\r"):
        at = data.find(end, 0, cut)
        if at >= 0:
            cut = at + 1
    return data[:cut]


class _PartFiles:
    """extract()'s numbered files in one directory."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.count = 0

    def open(self, names: Names) -> "_PartFile":
        if self.count >= MAX_FILES:
            # Past the limit every further part is appended to one file:
            # fewer files, nothing left out.
            return _PartFile(f"{self.directory}/part-rest", "ab")
        self.count += 1
        return _PartFile(f"{self.directory}/part{self.count:04d}", "xb")


class _PartFile:
    """One extracted part, written as it is decoded."""

    dead = False  # (it wants every byte)

    def __init__(self, path: str, mode: str) -> None:
        self.f = open(path, mode)  # noqa: SIM115 (closed by close())

    def write(self, data: bytes) -> None:
        self.f.write(data)

    def close(self) -> None:
        self.f.close()


# ripmime's MIME_is_file_RFC822: line starts it counts (each match, and two
# of these match any one line that one does).
_RFC822_MARKS = (b"received: ", b"from: ", b"subject: ", b"date: ", b"content-",
                 b"content-", b"from: ", b"subject: ", b"date: ", b"boundary=",
                 b"boundary=", b"mime-version")  # fmt: skip
_RFC822_FIRST = {m[:1]: tuple(n for n in _RFC822_MARKS if n[:1] == m[:1]) for m in _RFC822_MARKS}
_FGETS = 1023  # ripmime reads lines of up to this many bytes
_SNIFF_LINES = 100  # ... and looks at this many


class _Sniff:
    """ripmime's second look at a leaf part (MIME_is_file_RFC822): a body
    whose first lines (up to 100 of up to 1023 bytes, up to a blank one)
    start with `MIME-Version` and one more header it knows is unpacked
    again as a message.  As a decoder's child it walks that message itself
    (feeding a text part's own walker all along); on a raw body, the walker
    does, from the lines `taken`."""

    def __init__(self, names: Names, depth: int, text: "_Walker | None", own: bool = True) -> None:
        self.names = names
        self.depth = depth
        self.text = text
        self.own = own
        self.lines: list[tuple[bytes, bool]] | None = []  # None: decided
        self.taken: list[tuple[bytes, bool]] = []
        self.message = False
        self.walker: _Walker | None = None
        self.count = 0  # ripmime's lines looked at
        self.offset = 0  # bytes since the last LF
        self.hits = 0
        self.version = False

    @property
    def longest(self) -> int:
        return max((w.longest for w in (self.text, self.walker) if w is not None), default=0)

    @property
    def idle(self) -> bool:
        return self.lines is None and self.walker is None and self.text is None

    def line(self, piece: bytes, start: bool) -> None:
        if self.text is not None:
            self.text.line(piece, start)
        if self.walker is not None:
            self.walker.line(piece, start)
            return
        if self.lines is None:
            return
        self.lines.append((piece, start))
        verdict = self._look(piece)
        if verdict is None:
            return
        taken, self.lines = self.lines, None
        self.message = verdict
        if not verdict:
            return
        if not self.own:
            self.taken = taken
            return
        self.walker = _Walker(self.names, self.depth, False)
        for line, begins in taken:
            if self.names.done:
                break
            self.walker.line(line, begins)

    def plain(self) -> bool:
        """Nothing looked at yet, and nothing else fed?"""
        return self.text is None and self.lines == [] and self.own

    @staticmethod
    def quick(data: bytes) -> bool | None:
        """What _look says of data from its start, None if not known yet."""
        sniff = _Sniff(None, 0, None)  # type: ignore[arg-type]  # (looks, never walks)
        pos = 0
        while pos < len(data):
            nl = data.find(b"\n", pos)
            end = nl + 1 if nl >= 0 else len(data)
            verdict = sniff._look(data[pos:end])
            if verdict is not None:
                return verdict
            pos = end
        return None

    def _look(self, piece: bytes) -> bool | None:
        """Is it a message (None: not known yet)?"""
        for at in range(-self.offset % _FGETS, len(piece), _FGETS):
            head = piece[at : at + 12].lower()
            if head[:1] in (b"\n", b"\r"):
                return False  # a blank line: the headers, if any, ended
            self.count += 1
            marks = _RFC822_FIRST.get(head[:1])
            if marks:
                self.hits += sum(head.startswith(mark) for mark in marks)
                self.version = self.version or head.startswith(b"mime-version")
            if self.version and self.hits >= 2:
                return True
            if self.count >= _SNIFF_LINES:
                return False
        self.offset = 0 if piece.endswith(b"\n") else self.offset + len(piece)
        return None

    def close(self) -> None:
        for walker in (self.text, self.walker):
            if walker is not None:
                walker.close()


class _Decoder:
    """Decodes a base64, quoted-printable or uuencoded body and feeds the
    result, line by line, to a child parser (and writes it to `out`).  The
    result never depends on how the body was cut into pieces.  A child
    that wants no more (idle) is let go."""

    def __init__(
        self, encoding: str, child: "_Walker | _Sniff | None", out: "_PartFile | Leaf | None"
    ) -> None:
        self.base64 = encoding == "base64"
        self.uu: bool | None = False if encoding == "x-uuencode" else None  # in a file?
        self.child = child
        self.out = out
        self.left = b""  # input not decoded yet (a partial group or line)
        self.partial = b""  # decoded bytes not yet ending in a line end
        self.at_start = True

    def feed(self, piece: bytes) -> None:
        if self.base64:
            self._lines(self._base64(self.left + piece.translate(None, _NOT_B64)))
            return
        data = self.left + piece
        cut = max(data.rfind(b"\n"), data.rfind(b"\r")) + 1
        if not cut and len(data) < 65536:
            self.left = data  # a soft break or =XX may be cut in two
            return
        if not cut:
            cut = len(data)
        self.left = data[cut:]
        self._lines(self._text(data[:cut]))

    def _text(self, data: bytes) -> bytes:
        if self.uu is None:
            return binascii.a2b_qp(data)
        return self._uudecode(data)

    def _uudecode(self, data: bytes) -> bytes:
        """The files in uuencoded lines: from each `begin` line to `end`."""
        out = bytearray()
        for line in data.splitlines():
            if not self.uu:
                self.uu = line[:6].lower().startswith(b"begin")
                continue
            if line.strip() == b"end":
                self.uu = False
                continue
            try:
                out += binascii.a2b_uu(line)
            except binascii.Error:
                # Python's uu module: as many characters as the length says.
                try:
                    out += binascii.a2b_uu(line[: (((line[0] - 32) & 63) * 4 + 5) // 3])
                except (binascii.Error, IndexError):
                    pass
        return bytes(out)

    def _base64(self, data: bytes, final: bool = False) -> bytes:
        """Decode whole groups of 4; `=` padding ends a group early (some
        encoders join padded pieces), a lone leftover character is junk."""
        out = bytearray()
        groups = data.split(b"=")
        for group in groups[:-1]:
            if group:
                out += _quads(group, final=True)
        data = groups[-1]
        cut = len(data) - len(data) % 4
        out += _quads(data[:cut])
        self.left = data[cut:]
        if final:
            out += _quads(self.left, final=True)
            self.left = b""
        return bytes(out)

    def _lines(self, data: bytes) -> None:
        if self.out is not None and data:
            self.out.write(data)
            if self.out.dead:  # (it has seen enough)
                self.out.close()
                self.out = None
        if self.child is None:
            return
        names = self.child.names
        names.decoded += len(data)
        if names.decoded > MAX_DECODED:
            # (Walkers in walkers each decode what they are given: bound
            # the sum, whatever the nesting.)
            names.limit(f"more than {MAX_DECODED >> 20} MB decoded in encoded parts")
            self.child = None
            return
        data = self.partial + data
        child = self.child
        if isinstance(child, _Sniff) and child.plain() and _Sniff.quick(data) is False:
            # (A leaf that is no message, seen at once, not line by line.)
            child.close()
            self.child = None
            self.partial = b""
            return
        start = 0
        nl = data.find(b"\n")
        while not self.child.names.done:
            if 0 <= nl < start:  # (found once for a run of CR lines)
                nl = data.find(b"\n", start)
            cr = data.find(b"\r", start, nl if nl >= 0 else len(data))
            if cr >= 0:
                if cr + 1 == len(data):
                    break  # is an LF next?
                end = cr + 2 if data[cr + 1] == 0x0A else cr + 1
            elif nl >= 0:
                end = nl + 1
            else:
                break
            if self._emit(data[start:end]):
                return
            start = end
        limit = max(65536, self.child.longest + 8)
        while len(data) - start >= limit:  # a long line: hand it on in pieces
            if self._emit(data[start : start + limit]):
                return
            start += limit
        self.partial = data[start:]

    def _emit(self, piece: bytes) -> bool:
        """Hand a line on; True when the child wanted no more (let go)."""
        child = self.child
        assert child is not None
        child.line(piece, self.at_start)
        self.at_start = piece.endswith((b"\n", b"\r"))
        if not child.idle:
            return False
        child.close()
        self.child = None
        self.partial = b""
        return True

    def close(self) -> None:
        if self.base64:
            self._lines(self._base64(self.left, final=True))
        elif self.left:
            self._lines(self._text(self.left))
        self.left = b""
        if self.partial and self.child is not None:
            self._emit(self.partial)
        self.partial = b""
        if self.child is not None:
            self.child.close()
        if self.out is not None:
            self.out.close()
            self.out = None


def _quads(chars: bytes, final: bool = False) -> bytes:
    """Base64 characters (no padding) to bytes; with `final`, a last group
    of 2 or 3 characters is decoded as if padded."""
    cut = len(chars) - len(chars) % 4
    out = binascii.a2b_base64(chars[:cut]) if cut else b""
    tail = chars[cut:]
    if final and len(tail) >= 2:
        out += binascii.a2b_base64(tail + b"=" * (4 - len(tail)))
    return out


# --- names in text -------------------------------------------------------------


def _uuencode_name(line: bytes) -> str:
    """The name of a `begin 644 name` or `begin-base64 644 name` (uuencode
    -m) line, or "".  The mode is 3 or 4 octal digits for Thunderbird, a
    number from 1 to 777 (its leading digits) for ripmime, whose `begin` is
    in any case."""
    for head in (b"begin-base64", b"begin"):
        if line[: len(head)].lower() == head and line[len(head) : len(head) + 1] in (b" ", b"\t"):
            rest = headers.as_text(line[len(head) :].rstrip(b"\r\n")).lstrip(" \t")
            mode, _, name = rest.replace("\t", " ").partition(" ")
            digits = len(mode) - len(mode.lstrip("0123456789"))
            octal = 3 <= len(mode) <= 4 and not mode.strip(_OCTAL)
            if (octal or (digits and 1 <= int(mode[:digits]) <= 777)) and name.strip():
                return rest[len(mode) + 1 :].lstrip(" \t")
            return ""
    return ""


def _ripmime_begin_name(line: bytes) -> str:
    """The name ripmime's UUENCODE_decode_uu takes from a `begin` line in a
    part it decodes: `begin`, a blank (isspace), then strtok: the mode
    token (never checked), and the rest of the line, or the mode token
    when there is no rest."""
    if line[5:6] not in (b" ", b"\t", b"\n", b"\v", b"\f", b"\r"):
        return ""
    tokens = _strtok(line.rstrip(b"\r\n"), b" \t", 2)
    if len(tokens) < 2:
        return ""
    return headers.as_text(tokens[2] if len(tokens) > 2 and tokens[2] else tokens[1])


def _strtok(line: bytes, blanks: bytes, cuts: int) -> list[bytes]:
    """C strtok: the first `cuts` tokens split at any of `blanks` (runs of
    them skipped before each), then the rest after the one blank that
    ended the last of them."""
    out: list[bytes] = []
    for _ in range(cuts):
        line = line.lstrip(blanks)
        if not line:
            return out
        end = min((at for at in map(line.find, (bytes([b]) for b in blanks)) if at >= 0),
                  default=len(line))  # fmt: skip
        out.append(line[:end])
        line = line[end + 1 :]
    out.append(line)
    return out


def _yenc_name(line: bytes) -> str:
    """yEnc: `=ybegin line=128 size=123 name=the rest of the line`."""
    at = line.find(b" name=")
    return headers.as_text(line[at + 6 :].strip(b" \t\r\n")) if at >= 0 else ""


def _binhex_name(chars: bytes, final: bool = False) -> str | None:
    """The file name at the start of BinHex data (the characters after its
    `:`, up to the closing `:` or junk): a length byte and the name.  None
    while more is needed."""
    from .inline import hqx

    data = hqx(chars, skip=False)
    if not data:
        return "" if final else None
    length = data[0]
    if len(data) < length + 1:
        return headers.as_text(bytes(data[1:])) if final else None
    return headers.as_text(bytes(data[1 : 1 + length]))


# --- blocking --------------------------------------------------------------------


def blocked_name(names: list[str], endings: tuple[bytes, ...]) -> str | None:
    """The first of `names` that Matcher(endings) blocks, as it matched."""
    match = Matcher(endings)
    for name in names:
        blocked = match(name)
        if blocked is not None:
            return blocked
    return None
