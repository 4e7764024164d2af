"""Files written into a text body: uuencode (`begin 644 name` ... `end`),
yEnc (`=ybegin ... name=` ... `=yend`) and BinHex 4.0 (after its `(This
file must be converted with BinHex` line, between two colons).  Thunderbird, Outlook Express
and ripmime show them as attachments, so their contents are looked at as
attachments' are.  (Their names are mime.py's: it checks them anywhere.)"""

import binascii

# typing costs ~8 ms to import; mypy reads TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

_Y42 = bytes((c - 42) & 255 for c in range(256))


def files(lines: "Iterable[bytes]", limit: int) -> "Iterator[tuple[str, bytes]]":
    """(name, data) of each file in the text's lines (read as they come:
    a file object will do), at most `limit` bytes of data in all (the
    rest of a file past it is left out)."""
    total = 0
    current: tuple[str, bytearray, bool] | None = None  # name, data, yEnc?
    binhex: bytearray | None = None  # BinHex characters, from its first colon
    for line in _split(lines):
        if binhex is not None:
            binhex += line.strip()
            if binhex.count(b":") >= 2 or len(binhex) > 2 * limit:
                yield _binhex_file(bytes(binhex))
                binhex = None
            continue
        if current is None:
            if line.startswith(BINHEX):
                binhex = bytearray()
                continue
            if line[:6].lower() == b"begin " and _octal(line):
                words = line.split(None, 2)
                name = words[2].decode("utf-8", "replace") if len(words) > 2 else ""
                current = (name, bytearray(), False)
            elif line.startswith(b"=ybegin "):
                name = line.partition(b" name=")[2].decode("utf-8", "replace").strip()
                current = (name, bytearray(), True)
            continue
        name, data, yenc = current
        if (line.startswith(b"=yend") if yenc else line.strip() == b"end") or total > limit:
            yield name, bytes(data)
            current = None
            continue
        if yenc and line.startswith(b"=ypart "):
            continue
        piece = _ydecode(line) if yenc else _uudecode(line)
        data += piece
        total += len(piece)
    if current is not None:
        yield current[0], bytes(current[1])
    if binhex is not None:
        yield _binhex_file(bytes(binhex))


BINHEX = b"(This file must be converted with BinHex"
_HQX = b"!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr"
_HQX_VALUE = {c: i for i, c in enumerate(_HQX)}


def hqx(chars: bytes, skip: bool) -> bytearray:
    """BinHex 4.0 characters to bytes: 6 bits each, then 0x90 runs undone.
    A character outside the alphabet ends the data, or with `skip` is
    left out (the readers differ; mime.py reads names both ways)."""
    bits, count = 0, 0
    raw = bytearray()
    for c in chars:
        value = _HQX_VALUE.get(c)
        if value is None:
            if skip:
                continue
            break
        bits = ((bits << 6) | value) & 0xFFFFFF
        count += 6
        if count >= 8:
            count -= 8
            raw.append((bits >> count) & 0xFF)
    data = bytearray()
    at = 0
    while at < len(raw):
        if raw[at] == 0x90 and at + 1 < len(raw):
            run = raw[at + 1]
            if run == 0:
                data.append(0x90)
            elif data:
                data += bytes([data[-1]]) * (run - 1)
            at += 2
            continue
        data.append(raw[at])
        at += 1
    return data


def _binhex_file(chars: bytes) -> tuple[str, bytes]:
    """A BinHex 4.0 file's name and data fork, from the characters between
    its colons (6 bits each, then 0x90 runs undone)."""
    start = chars.find(b":")
    end = chars.find(b":", start + 1)
    data = hqx(chars[start + 1 : end if end >= 0 else len(chars)], skip=True)
    if not data:
        return "", b""
    length = data[0]
    name = bytes(data[1 : 1 + length]).decode("mac-roman", "replace")
    fork = 1 + length + 1 + 4 + 4 + 2  # name, version, type, creator, flags
    size = int.from_bytes(data[fork : fork + 4], "big")
    start = fork + 4 + 4 + 2  # data length, resource length, header CRC
    return name, bytes(data[start : start + size])


def _split(lines: "Iterable[bytes]") -> "Iterator[bytes]":
    """Lines ending at LF, CRLF or a lone CR, without their ends."""
    for line in lines:
        line = line.rstrip(b"\n")
        if line.endswith(b"\r"):
            line = line[:-1]
        if b"\r" in line:
            yield from line.split(b"\r")
        else:
            yield line


def _octal(line: bytes) -> bool:
    words = line.split()
    return len(words) >= 2 and words[1].isdigit() and not words[1].strip(b"01234567")


def _uudecode(line: bytes) -> bytes:
    try:
        return binascii.a2b_uu(line)
    except binascii.Error:
        # Python's uu module: as many characters as the length says.
        try:
            return binascii.a2b_uu(line[: (((line[0] - 32) & 63) * 4 + 5) // 3])
        except (binascii.Error, IndexError):
            return b""


def _ydecode(line: bytes) -> bytes:
    """One yEnc line: each byte less 42, and after `=` less 64 more."""
    parts = line.split(b"=")
    out = bytearray(parts[0].translate(_Y42))
    for part in parts[1:]:
        if part:
            out.append((part[0] - 106) & 255)
            out += part[1:].translate(_Y42)
    return bytes(out)
