"""A C simscan binary read as `strings` reads it: runs of 4 or more
printable ASCII bytes, from the ELF's data sections when it has section
headers, else from the whole file; in Python, no binutils needed.
cstrings.py says what the strings mean.

gcc copies a constant string it only strcpy()s with inline code: a short
one leaves no string, a long one its first 16 (or 32...) bytes as a
vector constant, 16-byte aligned, with no NUL of its own (`cut()`).
"""

from __future__ import annotations

import os
import re
import stat
import struct

from .cbuild import MigrateError

MAX_SIZE = 64 << 20  # a simscan binary is ~100 KB
_PRINTABLE = re.compile(rb"[\x20-\x7e\t]{4,}")
_VERSION = re.compile(r"^\d+\.\d+(?:\.\d+){1,2}$")
_VERSION_TEXT = re.compile(r"simscan version:? (\d+\.\d+(?:\.\d+){0,2})$")


class Text:
    """One printable run: its text, its address (for the alignment a
    vector constant has) and whether a NUL ends it."""

    __slots__ = ("address", "nul", "text")

    def __init__(self, text: str, address: int, nul: bool) -> None:
        self.text = text
        self.address = address
        self.nul = nul


class Binary:
    """A C simscan (or simscanmk) binary: its strings and its file mode."""

    def __init__(self, path: str, texts: list[Text], st: os.stat_result) -> None:
        self.path = path
        self.texts = texts
        self.strings = [t.text for t in texts]
        self.known = set(self.strings)
        self.st = st

    def has(self, text: str) -> bool:
        """Is `text` one of its strings (or the tail of one: the linker
        keeps one copy of a string that ends another)?"""
        return text in self.known or any(s.endswith(text) for s in self.strings)

    def starts(self, prefix: str) -> bool:
        return any(s.startswith(prefix) for s in self.strings)


def read(path: str, what: str = "simscan") -> Binary:
    """Read a binary; MigrateError for a missing file, a file that is no
    ELF, or an ELF that is not `what` (simscan, or simscanmk)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # (a FIFO would hang open())
            raise MigrateError(f"{path} is not a file")
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            data = f.read(MAX_SIZE + 1)
    except FileNotFoundError:
        raise MigrateError(f"{path}: no such file (give the C simscan binary)") from None
    except OSError as err:
        raise MigrateError(f"cannot read {path} ({err.strerror})") from None
    if data[:4] != b"\x7fELF":
        start = data[:40].split(b"\n")[0].decode("ascii", "replace")
        hint = f" (it starts with {start!r}: a script)" if data[:2] == b"#!" else ""
        raise MigrateError(f"{path} is not an ELF binary{hint}; give the C simscan binary")
    if len(data) > MAX_SIZE:
        raise MigrateError(f"{path} is over {MAX_SIZE >> 20} MB: not simscan")
    binary = Binary(path, strings(data), st)
    _check_what(binary, what)
    return binary


def _check_what(binary: Binary, what: str) -> None:
    path = binary.path
    if not any("simscan" in s for s in binary.strings):
        raise MigrateError(f"{path} is an ELF binary but not simscan (no 'simscan' in its strings)")
    is_mk = binary.starts("usage: simscanmk") or binary.starts("simscan versions cdb file built")
    if what == "simscan" and is_mk:
        raise MigrateError(f"{path} is simscanmk; give the simscan binary beside it")
    if what == "simscanmk" and not is_mk:
        raise MigrateError(f"{path} is not simscanmk")


def strings(data: bytes) -> list[Text]:
    """The printable runs of the ELF's data sections (every allocated,
    non-code section with contents), or of the whole file when it has no
    section headers."""
    found = []
    for start, end, address in _data_sections(data) or [(0, len(data), 0)]:
        for match in _PRINTABLE.finditer(data, start, end):
            nul = match.end() < len(data) and data[match.end()] == 0
            text = match.group().decode("ascii")
            found.append(Text(text, address + match.start() - start, nul))
    return found


def _data_sections(data: bytes) -> list[tuple[int, int, int]]:
    """(file start, file end, address) of each section worth reading."""
    try:
        wide, order = {1: False, 2: True}[data[4]], {1: "<", 2: ">"}[data[5]]
        if wide:
            shoff, = struct.unpack_from(order + "Q", data, 0x28)  # fmt: skip
            size, count, names = struct.unpack_from(order + "HHH", data, 0x3A)
            layout = order + "IIQQQQ"
        else:
            shoff, = struct.unpack_from(order + "I", data, 0x20)  # fmt: skip
            size, count, names = struct.unpack_from(order + "HHH", data, 0x2E)
            layout = order + "IIIIII"
        if not count or shoff + count * size > len(data) or size < struct.calcsize(layout):
            return []
        headers = [struct.unpack_from(layout, data, shoff + i * size) for i in range(count)]
        strtab = headers[names]
    except (KeyError, IndexError, struct.error):
        return []
    out = []
    for name, kind, flags, address, offset, length in headers:
        label = data[strtab[4] + name : data.find(b"\0", strtab[4] + name)]
        progbits, alloc, code = kind == 1, flags & 2, flags & 4
        if progbits and alloc and not code and label != b".interp":
            out.append((offset, min(offset + length, len(data)), address))
    return out


def version(binary: Binary) -> str:
    """simscan's version: `simscan version 1.4.0`, or the bare `1.4.6.2`
    that `simscan version: %s` prints; "" when not one is clear."""
    for text in binary.strings:
        match = _VERSION_TEXT.match(text)
        if match:
            return match.group(1)
    found = {t for t in binary.strings if _VERSION.match(t)}
    return found.pop() if len(found) == 1 else ""


def setuid_owner(binary: Binary) -> str:
    """The user the binary is setuid to ("" when it is not)."""
    st = binary.st
    if not st.st_mode & stat.S_ISUID:
        return ""
    import pwd

    try:
        return pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        return str(st.st_uid)


def cut(text: Text) -> bool:
    """Is this run a vector constant (16-byte aligned, no NUL of its own
    at a 16-byte end), so that the string it starts goes on elsewhere?"""
    length = len(text.text)
    return text.address % 16 == 0 and length >= 16 and (length % 16 == 0 or not text.nul)
