"""The members of an archive, as libarchive reads them.

libarchive (Debian's libarchive13) reads zip (from its central directory),
7z, rar 4 and 5, tar under any compression filter, cab (also one inside an
installer), ISO 9660 (and UDF through an ISO bridge), cpio, ar, lha, xar,
and a lone compressed file ("raw").  This module only walks its entries:
names, declared sizes, whether an entry is encrypted, and the data in
blocks; what to make of them is content.py's.

It calls the library through ctypes itself rather than through libarchive-c:
that binding imports ctypes.util and logging (~20 ms per message that has
an archive, against ~4 ms here), writes libarchive's warnings to stderr
(simscan's log), and on a warning while reading data yields stale buffer
bytes as data (a zip whose member is longer than it says, say).  Here every
error and warning from reading data raises ArchiveError.
"""

import ctypes
from ctypes import POINTER, byref, c_char_p, c_int, c_int64, c_size_t, c_uint, c_void_p

# typing costs ~8 ms to import; mypy reads TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

LIBRARY = "libarchive.so.13"  # Debian's soname (bookworm and trixie)
_EOF, _OK, _WARN = 1, 0, -20
_DIRECTORY = 0o040000

_lib: "Any" = None


def _library() -> "Any":
    global _lib
    if _lib is None:
        lib = ctypes.CDLL(LIBRARY)
        for name, args, result in (
            ("archive_read_new", [], c_void_p),
            ("archive_read_support_filter_all", [c_void_p], c_int),
            ("archive_read_support_format_all", [c_void_p], c_int),
            ("archive_read_support_format_raw", [c_void_p], c_int),
            ("archive_read_set_options", [c_void_p, c_char_p], c_int),
            ("archive_read_open_memory", [c_void_p, c_void_p, c_size_t], c_int),
            ("archive_read_next_header", [c_void_p, POINTER(c_void_p)], c_int),
            (
                "archive_read_data_block",
                [c_void_p, POINTER(c_void_p), POINTER(c_size_t), POINTER(c_int64)],
                c_int,
            ),
            ("archive_read_free", [c_void_p], c_int),
            ("archive_error_string", [c_void_p], c_char_p),
            ("archive_filter_count", [c_void_p], c_int),
            ("archive_entry_pathname", [c_void_p], c_char_p),
            ("archive_entry_pathname_utf8", [c_void_p], c_char_p),
            ("archive_entry_size", [c_void_p], c_int64),
            ("archive_entry_size_is_set", [c_void_p], c_int),
            ("archive_entry_filetype", [c_void_p], c_uint),
            ("archive_entry_is_encrypted", [c_void_p], c_int),
        ):
            function = getattr(lib, name)
            function.argtypes = args
            function.restype = result
        _lib = lib
    return _lib


class ArchiveError(Exception):
    """libarchive could not read on (the text is its own)."""


class Member:
    """One entry, while it is the current one."""

    __slots__ = ("_archive", "encrypted", "isdir", "name", "names", "size")

    def __init__(self, archive: int, entry: int) -> None:
        lib = _lib
        self._archive = archive
        raw = lib.archive_entry_pathname(entry) or b""
        utf8 = lib.archive_entry_pathname_utf8(entry)
        # Every reading of the name: as libarchive converts it, its bytes as
        # UTF-8, and as the OEM code page Windows reads a zip name in.
        readings = [utf8.decode("utf-8", "replace")] if utf8 else []
        readings += [raw.decode("utf-8", "replace"), raw.decode("cp437")]
        self.names: list[str] = list(dict.fromkeys(readings))
        self.name = self.names[0]
        size_set = lib.archive_entry_size_is_set(entry)
        self.size: int | None = lib.archive_entry_size(entry) if size_set else None
        self.isdir = lib.archive_entry_filetype(entry) == _DIRECTORY
        self.encrypted = bool(lib.archive_entry_is_encrypted(entry))

    def blocks(self) -> "Iterator[bytes]":
        """The data, as libarchive hands it out; ArchiveError on any error
        or warning (a member longer than it says, a bad checksum)."""
        lib = _lib
        pointer, size, offset = c_void_p(), c_size_t(), c_int64()
        while True:
            status = lib.archive_read_data_block(
                self._archive, byref(pointer), byref(size), byref(offset)
            )
            if status == _EOF:
                return
            if status < _OK:
                raise ArchiveError(_error(self._archive))
            if size.value:
                yield ctypes.string_at(pointer, size.value)


def members(source: "str | bytes", raw: bool = False, options: str = "") -> "Iterator[Member]":
    """The entries of the archive in the file at `source` (a path) or in
    `source` (bytes); `raw`: a lone compressed file, one entry (only when
    a compression filter reads it: anything else is no lone file);
    `options` as libarchive takes them (`iso9660:!rockridge`).
    ArchiveError when libarchive cannot go on."""
    lib = _library()
    if isinstance(source, str):
        import mmap

        # Mapped, not read: libarchive sees the whole file at once (it looks
        # further for a cab inside an installer), and nothing is copied.
        with open(source, "rb") as f:
            size = f.seek(0, 2)
            if not size:
                return
            mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
        try:
            view = (ctypes.c_char * size).from_buffer(mapped)
            try:
                yield from _entries(lib, ctypes.addressof(view), size, raw, options)
            finally:
                del view
        finally:
            mapped.close()
        return
    buffer = ctypes.create_string_buffer(source, len(source))
    yield from _entries(lib, ctypes.addressof(buffer), len(source), raw, options)


def _entries(lib: "Any", address: int, size: int, raw: bool, options: str) -> "Iterator[Member]":
    archive = lib.archive_read_new()
    if not archive:
        raise MemoryError("archive_read_new")
    try:
        lib.archive_read_support_filter_all(archive)
        if raw:
            lib.archive_read_support_format_raw(archive)
        else:
            lib.archive_read_support_format_all(archive)
        if options and lib.archive_read_set_options(archive, options.encode()) < _WARN:
            raise ArchiveError(_error(archive))
        if lib.archive_read_open_memory(archive, address, size) < _OK:
            raise ArchiveError(_error(archive))
        if raw and lib.archive_filter_count(archive) < 2:
            raise ArchiveError("not a compressed file")  # (only "none" read it)
        entry = c_void_p()
        while True:
            status = lib.archive_read_next_header(archive, byref(entry))
            if status == _EOF:
                return
            if status < _WARN:  # (a warning still gives the entry)
                raise ArchiveError(_error(archive))
            yield Member(archive, entry.value or 0)
    finally:
        lib.archive_read_free(archive)


def _error(archive: int) -> str:
    text = _lib.archive_error_string(archive) or b"unknown error"
    return " ".join(text.decode("utf-8", "replace").split())
