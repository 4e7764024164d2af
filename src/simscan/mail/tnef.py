"""The attachments inside TNEF (winmail.dat, application/ms-tnef): each
with every name Outlook or a TNEF tool could show for it, and every data
blob it carries ([MS-OXTNEF]).

There is no maintained Python TNEF library: tnefparse (last release 2021)
keeps only the last of an attachment's names and data blobs, copies the
rest of the input for every object it reads (quadratic), and trusts the
counts in MAPI properties (a count of 2^32 runs for hours or takes
gigabytes).  So this is a small reader of our own, linear, with every
count checked against the bytes left: attachment objects (level 2) give
their title (attAttachTitle), data (attAttachData) and MAPI properties
(attAttachment), of which the names (PR_ATTACH_LONG_FILENAME,
PR_ATTACH_FILENAME, PR_DISPLAY_NAME, PR_ATTACH_EXTENSION), the data
(PR_ATTACH_DATA_OBJ) and an embedded message's own attachments count.
"""

SIGNATURE = b"\x78\x9f\x3e\x22"
MAX_OBJECTS = 100000  # objects in one TNEF stream
MAX_EMBEDDED = 8  # messages in messages
_LEVEL_ATTACHMENT = 2
_ATT_RENDDATA = 0x9002  # starts an attachment
_ATT_TITLE = 0x8010
_ATT_DATA = 0x800F
_ATT_MAPI = 0x9005
_NAME_PROPS = {0x3707, 0x3704, 0x3001, 0x3703}
_DATA_OBJ = 0x3701
_IID_IMESSAGE = bytes.fromhex("0703020000000000c000000000000046")
_FIXED = {0x0002: 2, 0x0003: 4, 0x0004: 4, 0x0005: 8, 0x0006: 8, 0x0007: 8, 0x000A: 4,
          0x000B: 2, 0x0014: 8, 0x0040: 8, 0x0048: 16}  # fmt: skip
_VARIABLE = {0x001E, 0x001F, 0x0102, 0x000D}


class TNEFError(Exception):
    """Not TNEF, or TNEF that cannot be read whole (the text says why)."""


def attachments(source: "str | bytes") -> list[tuple[list[str], bytes]]:
    """(names, data) for each data blob of each attachment, embedded
    messages' too.  TNEFError if it cannot be read whole."""
    if isinstance(source, str):
        with open(source, "rb") as f:
            source = f.read()
    found: list[tuple[list[str], bytes]] = []
    _stream(source, found, 0)
    return found


class _Attachment:
    __slots__ = ("blobs", "names")

    def __init__(self) -> None:
        self.names: list[str] = []
        self.blobs: list[bytes] = []


def _stream(data: bytes, found: list[tuple[list[str], bytes]], depth: int) -> None:
    if depth > MAX_EMBEDDED:
        raise TNEFError(f"messages embedded over {MAX_EMBEDDED} deep")
    if data[:4] != SIGNATURE:
        raise TNEFError("no TNEF signature")
    at, count = 6, 0
    current: _Attachment | None = None
    attachments: list[_Attachment] = []
    while at < len(data):
        if at + 9 > len(data):
            break  # (a few bytes after the last object, as Outlook writes at times)
        count += 1
        if count > MAX_OBJECTS:
            raise TNEFError(f"more than {MAX_OBJECTS} TNEF objects")
        level = data[at]
        ident = int.from_bytes(data[at + 1 : at + 3], "little")
        length = int.from_bytes(data[at + 5 : at + 9], "little")
        if at + 9 + length + 2 > len(data):
            raise TNEFError("an object longer than the data")
        value = data[at + 9 : at + 9 + length]
        at += 9 + length + 2
        if level != _LEVEL_ATTACHMENT:
            continue
        if ident == _ATT_RENDDATA or current is None:
            current = _Attachment()
            attachments.append(current)
        if ident == _ATT_TITLE:
            current.names += _texts(value, unicode=False)
        elif ident == _ATT_DATA:
            current.blobs.append(value)
        elif ident == _ATT_MAPI:
            _properties(value, current, found, depth)
    for attachment in attachments:
        names = list(dict.fromkeys(n for n in attachment.names if n))
        for blob in attachment.blobs or [b""]:
            found.append((names, blob))


def _properties(
    data: bytes, attachment: _Attachment, found: list[tuple[list[str], bytes]], depth: int
) -> None:
    """An attAttachment's MAPI properties: names and data objects."""
    reader = _Reader(data)
    for _ in range(reader.count(4)):
        kind = reader.number(2)
        ident = reader.number(2)
        if ident >= 0x8000:  # a named property: its GUID and name or ID
            reader.skip(16)
            if reader.number(4) == 1:
                reader.skip(_padded(reader.number(4)))
            else:
                reader.skip(4)
        multi = bool(kind & 0x1000)
        base = kind & 0x0FFF
        values = reader.count(4) if multi else 1
        for _ in range(values):
            if base in _VARIABLE:
                if not multi:
                    reader.count(4)  # (the number of values: 1)
                size = reader.number(4)
                value = reader.take(size)
                reader.skip(_padded(size) - size)
                if ident in _NAME_PROPS and base in (0x001E, 0x001F):
                    attachment.names += _texts(value, unicode=base == 0x001F)
                elif ident == _DATA_OBJ:
                    if base == 0x000D and value[:16] == _IID_IMESSAGE:
                        _stream(value[16:], found, depth + 1)
                    else:
                        attachment.blobs.append(value[16:] if base == 0x000D else value)
            elif base in _FIXED:
                reader.skip(_padded(_FIXED[base]))
            else:
                raise TNEFError(f"a MAPI property of unknown type {kind:#06x}")


class _Reader:
    """Reads fields off a MAPI property block; every count is checked
    against the bytes left (TNEFError if it cannot be)."""

    __slots__ = ("at", "data")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def take(self, size: int) -> bytes:
        if size < 0 or self.at + size > len(self.data):
            raise TNEFError("a MAPI property longer than its block")
        value = self.data[self.at : self.at + size]
        self.at += size
        return value

    def skip(self, size: int) -> None:
        self.take(size)

    def number(self, size: int) -> int:
        return int.from_bytes(self.take(size), "little")

    def count(self, size: int) -> int:
        """A count of items of at least `size` bytes each."""
        value = self.number(4)
        if value * size > len(self.data) - self.at:
            raise TNEFError(f"a MAPI count ({value}) larger than its block")
        return value


def _padded(size: int) -> int:
    return (size + 3) & ~3


def _texts(value: bytes, unicode: bool) -> list[str]:
    """A name as text, each way it could be read: UTF-16 for PT_UNICODE;
    else UTF-8 or the ANSI code page Outlook wrote it in."""
    if unicode:
        return [value.decode("utf-16-le", "replace").split("\0", 1)[0]]
    value = value.split(b"\0", 1)[0]
    out = [value.decode("utf-8", "replace"), value.decode("cp1252", "replace")]
    return out if out[0] != out[1] else out[:1]
