"""Files written into a text body: uuencode (`begin 644 name` ... `end`)
and yEnc (`=ybegin ... name=` ... `=yend`).  Thunderbird, Outlook Express
and ripmime show them as attachments, so their contents are looked at as
attachments' are.  (Their names are mime.py's: it checks them anywhere.)"""

import binascii

# typing costs ~8 ms to import; mypy reads TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

_Y42 = bytes((c - 42) & 255 for c in range(256))


def files(text: bytes, limit: int) -> "Iterator[tuple[str, bytes]]":
    """(name, data) of each file in the text, at most `limit` bytes of
    data in all (the rest of a file past it is left out)."""
    lines = text.splitlines()
    index, total = 0, 0
    while index < len(lines) and total <= limit:
        line = lines[index]
        index += 1
        if line[:6].lower() == b"begin " and _octal(line):
            words = line.split(None, 2)
            name = words[2].decode("utf-8", "replace") if len(words) > 2 else ""
            data = bytearray()
            while index < len(lines) and lines[index].strip() != b"end" and total <= limit:
                piece = _uudecode(lines[index])
                data += piece
                total += len(piece)
                index += 1
            yield name, bytes(data)
        elif line.startswith(b"=ybegin "):
            name = line.partition(b" name=")[2].decode("utf-8", "replace").strip()
            data = bytearray()
            while index < len(lines) and not lines[index].startswith(b"=yend") and total <= limit:
                if not lines[index].startswith(b"=ypart "):
                    piece = _ydecode(lines[index])
                    data += piece
                    total += len(piece)
                index += 1
            yield name, bytes(data)


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
