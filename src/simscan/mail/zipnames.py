"""Every name a zip's headers give, however a reader finds them.

libarchive reads a zip from its central directory, taking an Info-ZIP
Unicode Path field (0x7075) over the header's name.  Windows Explorer and
.NET read the central directory and ignore that field; 7-Zip and unzip
streamed read the local headers; p7zip opens two zips written one after
the other from the first, libarchive from the last.  So the names of
every local header and every central directory entry found anywhere in
the body count, as their bytes read as UTF-8 and as code page 437 (what
Windows takes a name without the UTF-8 flag for).  A header that is not
one (the four signature bytes by chance in other data) gives a name of
random bytes: it refuses nothing unless it ends with a blocked extension.

This is no reader of archives: names only, from fixed header fields.
"""

# typing costs ~8 ms to import; mypy reads TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from mmap import mmap

MAX_HEADERS = 100000  # headers of each kind looked at in one body
_LOCAL = b"PK\x03\x04"  # local header: name length at 26, extra at 28, name at 30
_CENTRAL = b"PK\x01\x02"  # central entry: name length at 28, name at 46


def names(data: "bytes | mmap") -> list[str]:
    """The names, each reading once, in order found (`data`: the body, or
    the spool file mapped)."""
    found: dict[str, None] = {}
    for signature, length_at, name_at in ((_LOCAL, 26, 30), (_CENTRAL, 28, 46)):
        at = data.find(signature)
        count = 0
        while at >= 0 and count < MAX_HEADERS:
            count += 1
            length = int.from_bytes(data[at + length_at : at + length_at + 2], "little")
            raw = bytes(data[at + name_at : at + name_at + length])
            if raw:
                found[raw.decode("utf-8", "replace")] = None
                found[raw.decode("cp437")] = None
            at = data.find(signature, at + 4)
    return list(found)


def names_in(source: "str | bytes") -> list[str]:
    """names() of a body in memory or in a file (mapped, not read)."""
    if isinstance(source, bytes):
        return names(source)
    import mmap

    with open(source, "rb") as f:
        if not f.seek(0, 2):
            return []
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            return names(mapped)
