"""The attachments inside TNEF (winmail.dat, application/ms-tnef), read
with tnefparse: each with every name Outlook could show for it (its title,
its MAPI file name and long file name, its display name) and its data.
Attachments of messages embedded in it count too."""

# typing costs ~8 ms to import; mypy reads TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_EMBEDDED = 8  # messages in messages
# tnefparse copies the rest of the data for every object it reads (time
# quadratic in their number: 50,000 tiny objects take half a second, a few
# MB of them minutes).  Real winmail.dat files hold tens to hundreds.
MAX_OBJECTS = 5000


class TNEFError(Exception):
    """tnefparse could not read it (the text says why)."""


def attachments(source: "str | bytes") -> list[tuple[list[str], bytes]]:
    """(names, data) for each attachment.  TNEFError if unreadable."""
    if isinstance(source, str):
        with open(source, "rb") as f:
            source = f.read()
    _count_objects(source)
    import logging

    logging.getLogger("tnefparse").setLevel(logging.CRITICAL)  # (it warns on stderr)
    from tnefparse import TNEF

    try:
        found: list[tuple[list[str], bytes]] = []
        _collect(TNEF(source, do_checksum=False), found, 0)
        return found
    except Exception as err:  # a parser of hostile input: any failure is "unreadable"
        raise TNEFError(f"{type(err).__name__}: {err}") from None


def _collect(tnef: "Any", found: list[tuple[list[str], bytes]], depth: int) -> None:
    if depth > MAX_EMBEDDED:
        raise TNEFError(f"messages embedded over {MAX_EMBEDDED} deep")
    from tnefparse import properties

    for attachment in tnef.attachments:
        names: list[str] = []
        raw = [attachment._name]
        raw += [
            a.data
            for a in attachment.mapi_attrs
            if a.name in (properties.MAPI_ATTACH_LONG_FILENAME, properties.MAPI_DISPLAY_NAME)
        ]
        for value in raw:
            for name in _readings(value):
                if name and name not in names:
                    names.append(name)
        data = attachment.data
        found.append((names, data if isinstance(data, bytes) else b""))
        embedded = getattr(attachment, "embed", None)
        if embedded is not None:
            _collect(embedded, found, depth + 1)


def _readings(value: object) -> list[str]:
    """A name as text, each way it could be read (UTF-8, or the ANSI code
    page Outlook wrote it in)."""
    if isinstance(value, str):
        return [value.strip("\0")]
    if isinstance(value, list):
        return [n for v in value for n in _readings(v)]
    if not isinstance(value, bytes):
        return []
    value = value.strip(b"\0")
    out = [value.decode("utf-8", "replace"), value.decode("cp1252", "replace")]
    return out if out[0] != out[1] else out[:1]


def _count_objects(data: bytes) -> None:
    """Walk the object headers (level 1 byte, name and type 2 bytes each,
    length 4, then the data and a 2-byte checksum) and refuse too many."""
    offset, count = 6, 0
    while offset + 9 <= len(data):
        count += 1
        if count > MAX_OBJECTS:
            raise TNEFError(f"more than {MAX_OBJECTS} TNEF objects")
        offset += 11 + int.from_bytes(data[offset + 5 : offset + 9], "little")
