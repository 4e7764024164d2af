"""The members of an archive, as libarchive reads them (libarchive-c).

libarchive reads zip (from its central directory when it can seek), 7z,
rar 4 and 5, tar under any compression filter, cab, ISO 9660 and UDF,
cpio, ar, lha, xar, and a lone compressed file ("raw").  This module only
walks its entries: names, declared sizes, whether the entry is encrypted,
and the data in blocks; what to make of them is content.py's.
"""

import os

# typing costs ~8 ms to import; mypy reads TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

BLOCK = 65536

_lib: "Any" = None


def _libarchive() -> "Any":
    """libarchive-c, loaded once.  Its own loader asks ctypes.util to find
    the library, which runs ldconfig in a subprocess (~10 ms): name the
    library Debian ships instead when it is there."""
    global _lib
    if _lib is None:
        if "LIBARCHIVE" not in os.environ:
            import ctypes

            try:
                ctypes.CDLL("libarchive.so.13")
                os.environ["LIBARCHIVE"] = "libarchive.so.13"
            except OSError:
                pass
        import libarchive
        import libarchive.ffi

        lib = libarchive.ffi.libarchive
        import ctypes

        for name in ("archive_entry_is_encrypted", "archive_entry_is_data_encrypted"):
            getattr(lib, name).argtypes = [ctypes.c_void_p]
            getattr(lib, name).restype = ctypes.c_int
        _lib = libarchive
    return _lib


class ArchiveError(Exception):
    """libarchive could not read on (the text is its own)."""


class Member:
    """One entry, while it is the current one."""

    __slots__ = ("_entry", "_reader", "encrypted", "isdir", "name", "size")

    def __init__(self, reader: "Any", entry: "Any") -> None:
        lib = _lib
        self._reader = reader
        self._entry = entry
        path = entry.pathname
        if isinstance(path, bytes):  # not in the header's charset
            path = path.decode("utf-8", "surrogateescape")
        self.name: str = path or ""
        pointer = entry._entry_p
        self.size: int | None = entry.size if lib.ffi.entry_size_is_set(pointer) else None
        self.isdir: bool = entry.isdir
        self.encrypted = bool(lib.ffi.libarchive.archive_entry_is_encrypted(pointer))

    def consumed(self) -> int:
        """Bytes of the archive read so far (for the ratio)."""
        return int(self._reader.bytes_read)

    def blocks(self) -> "Iterator[bytes]":
        try:
            yield from self._entry.get_blocks(BLOCK)
        except _lib.exception.ArchiveError as err:
            raise ArchiveError(_text(err)) from None


def members(source: "str | bytes", raw: bool = False) -> "Iterator[Member]":
    """The entries of the archive in the file at `source` (a path) or in
    `source` (bytes); `raw`: a lone compressed file, one entry.
    ArchiveError when libarchive cannot go on."""
    lib = _libarchive()
    fmt = "raw" if raw else "all"
    try:
        if isinstance(source, bytes):
            opened = lib.memory_reader(source, format_name=fmt)
        else:
            opened = lib.file_reader(source, format_name=fmt, block_size=BLOCK)
        with opened as reader:
            for entry in reader:
                yield Member(reader, entry)
    except lib.exception.ArchiveError as err:
        raise ArchiveError(_text(err)) from None


def _text(err: Exception) -> str:
    msg = getattr(err, "msg", None) or str(err)
    if isinstance(msg, bytes):
        msg = msg.decode("utf-8", "replace")
    return " ".join(str(msg).split())
