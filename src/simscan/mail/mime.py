"""Every attachment file name in a message, found by streaming its MIME tree.

`attachment_names(f)` reads the raw message from a binary file and returns
the names a mail client could save a part under: Content-Disposition
`filename`, Content-Type `name` (RFC 2231 continuations and charsets, RFC
2047 encoded words, raw UTF-8), uuencoded `begin NNN name` blocks in text
bodies (also when the text part is base64 or quoted-printable), and the
same again inside attached messages (message/rfc822, also when they are
themselves base64-encoded), at any depth.

Why not email.parser: it keeps every body in memory as str (a 50 MB
attachment costs a few hundred MB) and importing email.message costs about
14 ms per message.  Here only part headers are kept (bounded), bodies are
skipped with bytes.find, and decoding happens only where a name could hide.
The header decoding is tested against the email package's own.

Malformed input never raises: a missing boundary makes the part a leaf,
an unclosed one ends at the end of the file, broken base64 is decoded as
far as it makes sense, the Content-* headers are cut at HEADER_LIMIT (other
headers are not kept at all).  What can be read is read.
"""

import binascii

from .lines import CHUNK, LineReader

# typing costs ~8 ms to import; mypy reads TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO

HEADER_LIMIT = 256 * 1024  # bytes of headers kept per part
MAX_BOUNDARIES = 100  # multipart nesting followed
MAX_DEPTH = 10  # base64-encoded messages inside messages followed
MAX_NAMES = 10000  # names attachment_names() returns (blocking sees them all)
MAX_PARTS = 10000  # part files extract() writes (the rest share one more)

_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_NOT_B64 = bytes(c for c in range(256) if c not in _B64_ALPHABET)
_OCTAL = b"01234567"
_HEX = b"0123456789abcdefABCDEF"
_KEPT = (b"content-type", b"content-disposition", b"content-transfer-encoding")

# Walker states
_HEADERS = 0  # reading the headers of a part (or of the message)
_SKIP = 1  # in a body nobody needs: preamble, epilogue, binary leaf
_TEXT = 2  # in a raw text body: looking for uuencode `begin` lines
_DECODE = 3  # in an encoded body: every line is decoded into a child


class Names:
    """What the walk found: the names (the first MAX_NAMES of them), the
    first one that is blocked (the walk stops there), and the limits that
    were reached, which may have hidden a name."""

    def __init__(self, endings: tuple[bytes, ...] = (), parts: "_PartFiles | None" = None) -> None:
        self.found: list[str] = []
        self.blocked: str | None = None
        self.truncated: list[str] = []
        self._match = _Matcher(endings) if endings else None
        # extract(): where each leaf part's decoded body is written.
        self.parts = parts

    def add(self, name: str) -> None:
        if not name or name in self.found[-2:]:
            return
        if len(self.found) < MAX_NAMES:
            self.found.append(name)
        if self._match is not None and self.blocked is None and self._match(name):
            self.blocked = name

    def limit(self, what: str) -> None:
        if what not in self.truncated:
            self.truncated.append(what)


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
    f: "BinaryIO", endings: tuple[bytes, ...], chunk: int = CHUNK, parts: "_PartFiles | None" = None
) -> Names:
    """Walk the message; with `endings`, stop at the first blocked name."""
    names = Names(endings, parts)
    walker = _Walker(names, 0)
    reader = LineReader(f, chunk=chunk)
    while names.blocked is None:
        if walker.state == _DECODE:
            # Decode in blocks, up to the next line that may be a boundary.
            block = reader.until((b"--",) if walker.boundaries else ())
            if block:
                walker.line(block, False)
                continue
        wanted = walker.wants()
        if wanted is not None:
            if not wanted:
                break
            reader.skip(wanted)
        got = reader.piece()
        if got is None:
            break
        walker.line(*got)
    walker.close()
    return names


class _Walker:
    """A push parser for one message: fed lines (or pieces of long lines)."""

    def __init__(self, names: Names, depth: int) -> None:
        self.names = names
        self.depth = depth
        # Open multiparts, outermost first: (b"--" + boundary, default type).
        self.boundaries: list[tuple[bytes, bytes]] = []
        # delimiter (trailing blanks stripped) -> index of the innermost
        # open multipart using it: one dict lookup per `--` line.
        self.delimiters: dict[bytes, int] = {}
        self.state = _HEADERS
        self.default_type = b"text/plain"
        self.header: list[bytes] = []
        self.header_size = 0
        self.keeping = False  # is the header line being read one we keep?
        self.decoder: _Decoder | None = None
        self.out: _PartFile | None = None  # extract(): this leaf's file

    # (the walk loop's `wants()` / `line()` calls feed every line of a leaf
    # that is being extracted; a plain walk skips bodies with find.)

    def wants(self) -> tuple[bytes, ...] | None:
        """Prefixes of the lines worth feeding next; None means every line,
        () means nothing more (the rest of the input cannot hold a name)."""
        state = self.state
        if state in (_HEADERS, _DECODE) or self.out is not None:
            return None
        if state == _TEXT:
            return (b"--", b"begin") if self.boundaries else (b"begin",)
        return (b"--",) if self.boundaries else ()

    def line(self, piece: bytes, start: bool) -> None:
        if start and self.boundaries and piece.startswith(b"--"):
            hit = self._boundary(piece)
            if hit is not None:
                self._at_boundary(*hit)
                return
        state = self.state
        if state == _HEADERS:
            if start:
                if piece == b"\n" or piece == b"\r\n":
                    self._end_of_headers()
                    return
                if piece[:1] not in (b" ", b"\t"):
                    name = piece.partition(b":")[0].strip().lower()
                    self.keeping = name in _KEPT
            if self.keeping:
                # Only the headers that matter are kept, so no amount of
                # other headers can push them past the limit.
                if self.header_size < HEADER_LIMIT:
                    self.header.append(piece if start else b"\0" + piece)
                    self.header_size += len(piece)
                else:
                    self.names.limit(f"Content-* headers over {HEADER_LIMIT} bytes")
        elif state == _TEXT:
            if start:
                self.names.add(_uuencode_name(piece))
            if self.out is not None:
                self.out.write(piece)
        elif state == _SKIP and self.out is not None:
            self.out.write(piece)
        elif state == _DECODE and self.decoder is not None:
            self.decoder.feed(piece)  # one line, or a block of lines

    def close(self) -> None:
        if self.state == _HEADERS and self.header:
            self._end_of_headers()
        self._end_of_body()

    def _boundary(self, piece: bytes) -> tuple[int, bool] | None:
        """(index in self.boundaries, closing?) when the line is a boundary."""
        line = piece.rstrip(b"\r\n").rstrip(b" \t")
        index = self.delimiters.get(line)
        if index is not None:
            return index, False
        if line.endswith(b"--"):
            index = self.delimiters.get(line[:-2].rstrip(b" \t"))
            if index is not None:
                return index, True
        return None

    def _set_boundaries(self, boundaries: list[tuple[bytes, bytes]]) -> None:
        self.boundaries = boundaries
        self.delimiters = {d.rstrip(b" \t"): i for i, (d, _) in enumerate(boundaries)}

    def _at_boundary(self, index: int, closing: bool) -> None:
        if self.state == _HEADERS and self.header:
            # A part whose headers run straight into the next boundary.
            self._end_of_headers()
        self._end_of_body()
        default = self.boundaries[index][1]
        self._set_boundaries(self.boundaries[: index + (0 if closing else 1)])
        if closing:
            self.state = _SKIP  # the epilogue
        else:
            self.state = _HEADERS
            self.default_type = default

    def _end_of_body(self) -> None:
        if self.decoder is not None:
            self.decoder.close()
            self.decoder = None
        if self.out is not None:
            self.out.close()
            self.out = None

    def _end_of_headers(self) -> None:
        fields = _fields(self.header)
        self.header = []
        self.header_size = 0
        # The structure follows the first Content-Type, as most clients do.
        all_types = fields.get("content-type", [""])
        ctype, params = _split_params(all_types[0])
        ctype = ctype.lower() or self.default_type.decode()
        self.default_type = b"text/plain"
        # Every reading a client might take counts: each Content-Disposition
        # and Content-Type header, and each form of the parameter.
        for value in fields.get("content-disposition", ()):
            for name in _param_values(_split_params(value)[1], "filename"):
                self.names.add(name)
        for value in all_types:
            for name in _param_values(_split_params(value)[1], "name"):
                self.names.add(name)
        encoding = fields.get("content-transfer-encoding", [""])[0].strip().lower()
        encoded = encoding in ("base64", "quoted-printable")

        if ctype.startswith("multipart/"):
            boundary = _boundary(params)
            if boundary and len(self.boundaries) < MAX_BOUNDARIES:
                child_default = b"message/rfc822" if ctype == "multipart/digest" else b"text/plain"
                delimiter = b"--" + boundary
                self._set_boundaries([*self.boundaries, (delimiter, child_default)])
                self.state = _SKIP  # the preamble
                return
            if boundary:
                self.names.limit(f"multipart nesting over {MAX_BOUNDARIES}")
            ctype = "text/plain"  # no boundary: read it as text
        if ctype in ("message/rfc822", "message/global"):
            if not encoded:
                self.state = _HEADERS  # the attached message's own headers
                return
            if self.depth < MAX_DEPTH:
                self._decode(encoding, _Walker(self.names, self.depth + 1))
                return
            self.names.limit(f"encoded attached messages nested over {MAX_DEPTH}")
        parts = self.names.parts
        out = parts.open(self.names) if parts is not None else None
        if ctype.startswith("text/") or (encoded and out is not None):
            if encoded:
                self._decode(encoding, _TextScanner(self.names, out))
            else:
                self.state = _TEXT
                self.out = out
            return
        self.state = _SKIP
        self.out = out

    def _decode(self, encoding: str, child: "_Walker | _TextScanner") -> None:
        self.state = _DECODE
        self.decoder = _Decoder(encoding == "base64", child)


class _TextScanner:
    """A child that looks for uuencode `begin` lines in a decoded body (and
    for extract(), writes the body to its part file)."""

    def __init__(self, names: Names, out: "_PartFile | None" = None) -> None:
        self.names = names
        self.out = out

    def line(self, piece: bytes, start: bool) -> None:
        if start and piece.startswith(b"begin"):
            self.names.add(_uuencode_name(piece))
        if self.out is not None:
            self.out.write(piece)

    def close(self) -> None:
        if self.out is not None:
            self.out.close()
            self.out = None


class _PartFiles:
    """extract()'s numbered files in one directory."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.count = 0

    def open(self, names: Names) -> "_PartFile":
        if self.count >= MAX_PARTS:
            # Past the limit every further part is appended to one file:
            # fewer files, nothing left out.
            return _PartFile(f"{self.directory}/part-rest", "ab")
        self.count += 1
        return _PartFile(f"{self.directory}/part{self.count:04d}", "xb")


class _PartFile:
    """One extracted part, written as it is decoded."""

    def __init__(self, path: str, mode: str) -> None:
        self.f = open(path, mode)  # noqa: SIM115 (closed by close())

    def write(self, data: bytes) -> None:
        self.f.write(data)

    def close(self) -> None:
        self.f.close()


class _Decoder:
    """Decodes a base64 or quoted-printable body and feeds the result,
    line by line, to a child parser.  The result never depends on how the
    body was cut into pieces."""

    def __init__(self, base64: bool, child: _Walker | _TextScanner) -> None:
        self.base64 = base64
        self.child = child
        self.left = b""  # input not decoded yet (a partial group or line)
        self.partial = b""  # decoded bytes not yet ending in a newline
        self.at_start = True

    def feed(self, piece: bytes) -> None:
        if self.base64:
            self._lines(self._base64(self.left + piece.translate(None, _NOT_B64)))
            return
        data = self.left + piece
        cut = data.rfind(b"\n") + 1
        if not cut and len(data) < 65536:
            self.left = data  # a soft break or =XX may be cut in two
            return
        if not cut:
            cut = len(data)
        self.left = data[cut:]
        self._lines(binascii.a2b_qp(data[:cut]))

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
        data = self.partial + data
        start = 0
        while True:
            nl = data.find(b"\n", start)
            if nl < 0:
                break
            self._emit(data[start : nl + 1])
            start = nl + 1
        rest = data[start:]
        while len(rest) >= 65536:  # a long line: hand it on in pieces
            self._emit(rest[:65536])
            rest = rest[65536:]
        self.partial = rest

    def _emit(self, piece: bytes) -> None:
        self.child.line(piece, self.at_start)
        self.at_start = piece.endswith(b"\n")

    def close(self) -> None:
        if self.base64:
            self._lines(self._base64(self.left, final=True))
        elif self.left:
            self._lines(binascii.a2b_qp(self.left))
        self.left = b""
        if self.partial:
            self._emit(self.partial)
            self.partial = b""
        self.child.close()


def _quads(chars: bytes, final: bool = False) -> bytes:
    """Base64 characters (no padding) to bytes; with `final`, a last group
    of 2 or 3 characters is decoded as if padded."""
    cut = len(chars) - len(chars) % 4
    out = binascii.a2b_base64(chars[:cut]) if cut else b""
    tail = chars[cut:]
    if final and len(tail) >= 2:
        out += binascii.a2b_base64(tail + b"=" * (4 - len(tail)))
    return out


def _uuencode_name(piece: bytes) -> str:
    """The name of a `begin 644 name` or `begin-base64 644 name` (uuencode
    -m) line, or ""."""
    for head in (b"begin ", b"begin-base64 "):
        if piece.startswith(head):
            mode, space, name = piece[len(head) :].partition(b" ")
            name = name.rstrip(b"\r\n")
            if space and 3 <= len(mode) <= 4 and not mode.strip(_OCTAL) and name.strip():
                return _text(name)
            return ""
    return ""


def _fields(lines: list[bytes]) -> dict[str, list[str]]:
    """The three headers that matter, unfolded, as Latin-1 text, each with
    every value it has in the order given."""
    fields: dict[str, list[list[bytes]]] = {}
    current: list[bytes] | None = None
    for piece in lines:
        if piece.startswith(b"\0"):  # the rest of a long line
            if current is not None:
                current.append(piece[1:].rstrip(b"\r\n"))
            continue
        if piece[:1] in (b" ", b"\t"):
            if current is not None:
                current.append(piece.rstrip(b"\r\n"))
            continue
        name, colon, value = piece.partition(b":")
        key = name.strip().lower()
        current = None
        if colon and key in _KEPT:
            current = [value.rstrip(b"\r\n")]
            fields.setdefault(key.decode(), []).append(current)
    # Latin-1 keeps every byte as one character: boundaries stay exact, and
    # names become real text (UTF-8 or Latin-1) in _param.
    return {k: [b"".join(v).decode("latin-1") for v in vs] for k, vs in fields.items()}


def _split_params(value: str) -> tuple[str, list[tuple[str, str]]]:
    """`type/sub; a=b; c="d;e"` -> ("type/sub", [("a", "b"), ("c", "d;e")]).

    Names are lower-cased; quoted values are unquoted (backslash escapes
    undone); nothing is decoded yet.
    """
    items: list[str] = []
    i, n, start = 0, len(value), 0
    while i < n:
        c = value[i]
        if c == '"':
            i += 1
            while i < n and value[i] != '"':
                i += 2 if value[i] == "\\" else 1
        elif c == ";":
            items.append(value[start:i])
            start = i + 1
        i += 1
    items.append(value[start:])
    head = items[0].strip()
    params = []
    for item in items[1:]:
        name, eq, raw = item.partition("=")
        if not eq:
            continue
        raw = raw.strip()
        if raw.startswith('"'):
            raw = _unquote(raw)
        params.append((name.strip().lower(), raw))
    return head, params


def _unquote(raw: str) -> str:
    out = []
    i, n = 1, len(raw)
    while i < n:
        c = raw[i]
        if c == "\\" and i + 1 < n:
            out.append(raw[i + 1])
            i += 2
            continue
        if c == '"':
            break
        out.append(c)
        i += 1
    return "".join(out)


def _boundary(params: list[tuple[str, str]]) -> bytes:
    """The boundary as the bytes that delimit the parts (no RFC 2047:
    `=` and `?` are boundary characters)."""
    for key, value in params:
        if key == "boundary":
            return _raw(value)
    if any(key.startswith("boundary*") for key, _ in params):
        return _param(params, "boundary").encode("utf-8", "surrogatepass")
    return b""


def _param(params: list[tuple[str, str]], name: str) -> str:
    """A parameter's value as text, RFC 2231 and RFC 2047 undone; "" if
    absent.  (Values come in as Latin-1 text: see _fields.)  The RFC 2231
    form wins over the plain one, as in the email package."""
    values = _param_values(params, name)
    return values[0] if values else ""


def _param_values(params: list[tuple[str, str]], name: str) -> list[str]:
    """Every reading of a parameter: its RFC 2231 form (whole, or joined
    continuations) first, then the plain one; a client may show either."""
    out = []
    plain = None
    pieces: dict[int, tuple[str, bool]] = {}
    whole: tuple[str, bool] | None = None
    for key, value in params:
        if key == name:
            if plain is None:
                plain = value
        elif key.startswith(name + "*"):
            rest = key[len(name) + 1 :]
            encoded = rest.endswith("*")
            number = rest.rstrip("*")
            if not number:
                whole = (value, True)  # name*=charset'lang'value
            elif number.isascii() and number.isdigit() and int(number) < 1000:
                pieces.setdefault(int(number), (value, encoded))
    if whole is not None:
        out.append(_rfc2231([whole]))
    if pieces:
        ordered = []
        for index in range(len(pieces)):
            if index not in pieces:
                break  # a gap: what comes before it is the value
            ordered.append(pieces[index])
        if ordered:
            out.append(_rfc2231(ordered))
    if plain is not None:
        out.append(_rfc2047(plain) if "=?" in plain else _text(_raw(plain)))
    return [v for v in out if v]


def _rfc2231(pieces: list[tuple[str, bool]]) -> str:
    """Join RFC 2231 pieces; the first encoded one names the charset."""
    charset = "us-ascii"
    data = bytearray()
    for index, (value, encoded) in enumerate(pieces):
        if not encoded:
            data += _raw(value)
            continue
        if index == 0 and value.count("'") >= 2:
            charset, _lang, value = value.split("'", 2)
        data += _percent(value)
    return _decode(bytes(data), charset or "us-ascii")


def _percent(value: str) -> bytes:
    parts = _raw(value).split(b"%")
    out = bytearray(parts[0])
    for part in parts[1:]:
        if len(part) >= 2 and part[0] in _HEX and part[1] in _HEX:
            out.append(int(part[:2], 16))
            out += part[2:]
        else:
            out += b"%" + part
    return bytes(out)


def _rfc2047(value: str) -> str:
    """Decode `=?charset?B|Q?text?=` words (value is Latin-1 text);
    whitespace between two encoded words goes, as RFC 2047 says.  Anything
    that is not a well-formed word stays as it is."""
    out: list[str] = []
    pos = 0  # everything before pos is in out
    search = 0
    after_word = -1  # where the last decoded word ended
    while True:
        start = value.find("=?", search)
        if start < 0:
            break
        search = start + 2
        q1 = value.find("?", start + 2)
        if q1 < 0:
            break  # no word can start here or later
        if q1 + 2 >= len(value) or value[q1 + 2] != "?":
            continue
        end = value.find("?=", q1 + 3)
        if end < 0:
            break  # nothing later can close a word either
        charset = value[start + 2 : q1].partition("*")[0]
        kind = value[q1 + 1].upper()
        if not charset or any(c in charset for c in " \t=") or kind not in "BQ":
            continue
        text = _raw(value[q1 + 3 : end])
        try:
            if kind == "B":
                raw = binascii.a2b_base64(text + b"=" * (-len(text) % 4))
            else:
                raw = binascii.a2b_qp(text.replace(b"_", b" "))
        except (binascii.Error, ValueError):
            continue
        between = value[pos:start]
        if not (after_word == pos and not between.strip()):
            out.append(_text(_raw(between)))
        out.append(_decode(raw, charset))
        pos = search = after_word = end + 2
    out.append(_text(_raw(value[pos:])))
    return "".join(out)


def _decode(data: bytes, charset: str) -> str:
    try:
        return data.decode(charset.strip() or "us-ascii", "replace")
    except (LookupError, UnicodeError, ValueError, TypeError):
        # Unknown, or a codec that is not for text (idna, punycode...).
        return _text(data)


def _raw(text: str) -> bytes:
    """The bytes behind header text from _fields (Latin-1); text from
    elsewhere that is not Latin-1 is taken as UTF-8."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _text(data: bytes) -> str:
    """Header bytes as text: UTF-8 (RFC 6532) when it is, else Latin-1."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def blocked_name(names: list[str], endings: tuple[bytes, ...]) -> str | None:
    """The first of `names` that _Matcher(endings) blocks."""
    match = _Matcher(endings)
    for name in names:
        if match(name):
            return name
    return None


# Control characters go before comparing (a C program, like ripmime, ends
# a name at a NUL; Windows refuses control characters in file names).
_CONTROLS = {c: None for c in (*range(0x20), *range(0x7F, 0xA0))}


class _Matcher:
    """Is a name blocked by one of `endings` (lower-case, like ".exe")?

    Compared case-insensitively, up to a NUL, without control characters
    and without trailing dots and spaces (Windows drops those when it saves
    the file).  An ending without a leading dot matches a whole name or a
    name ending in "." + ending, so `exe` blocks `x.exe` but not `annexe`.
    """

    def __init__(self, endings: tuple[bytes, ...]) -> None:
        texts = [e.decode("utf-8", "replace").lower() for e in endings if e]
        self.suffixes = tuple(e if e.startswith(".") else "." + e for e in texts)
        self.whole = frozenset(e for e in texts if not e.startswith("."))

    def __call__(self, name: str) -> bool:
        plain = name.partition("\0")[0].translate(_CONTROLS).rstrip(" .\t").lower()
        return plain.endswith(self.suffixes) or plain in self.whole
