"""Looking inside attachments: archive members, TNEF, file types, macros.

The MIME walk hands every reading of every leaf part's body to a Spool
(walk(leaves=)).  A body is kept in memory up to its first 64 KiB; when
those bytes say it is worth a look (sniff.kind: an archive, a program, an
OLE file, TNEF ...), the rest is spooled to a file in the work dir, and
when they do not, the walk stops decoding it.  At the end of the body it is
inspected, and so is every member of an archive in it, up to the depth:

- names: each archive member's path and each TNEF attachment's names are
  checked against the blocked extensions, as a part's name is;
- types: libmagic says what the body is (`executable`, `disk-image`,
  `shortcut`), oletools whether an Office file carries macros (`macro`);
- encryption: an encrypted archive member, an archive whose names are
  encrypted, an encrypted Office file.

Bombs are bounded per message: bytes (declared and decompressed), members
per archive, each member's ratio to its whole archive, and the depth.
Past a bound the body could not be checked: a Finding of kind LIMIT,
refused by default (fail closed); with `refuse` off, a warning and the rest
of that archive unread.  Memory stays bounded: members are streamed, and
only one body per nesting level is held (64 KiB, the rest in a file).
"""

import posix  # os's own core: `import os` costs ~0.9 ms per message (see cli.py)

from . import sniff
from .names import Matcher, shown

# typing costs ~8 ms to import; mypy reads TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import BinaryIO

    from .mime import Names

# Finding kinds
NAME = "name"  # a blocked name: the path
TYPE = "type"  # a blocked type: "path (category)"
ENCRYPTED = "encrypted"  # an encrypted archive or document: its name
LIMIT = "limit"  # could not be checked whole: its name

CATEGORIES = ("executable", "disk-image", "shortcut", "macro", "archive-encrypted")
MAX_LEVEL = 32  # containers in containers (TNEF ones too), whatever the depth
UNNAMED = "(unnamed part)"
_SUFFIXES = (".gz", ".gzip", ".tgz", ".taz", ".bz2", ".bzip2", ".tbz", ".tbz2", ".xz", ".txz",
             ".zst", ".zstd", ".tzst", ".lz", ".tlz", ".lzma", ".z", ".tz", ".lz4", ".lzo",
             ".tpz")  # fmt: skip


class Rules:
    """What to look for and how far (from the policy and the settings)."""

    __slots__ = (
        "depth",
        "encrypted",
        "match",
        "max_bytes",
        "max_members",
        "max_ratio",
        "refuse",
        "types",
        "workdir",
    )

    def __init__(
        self,
        *,
        endings: tuple[bytes, ...] = (),
        types: tuple[str, ...] = (),
        encrypted: bool = False,
        depth: int = 3,
        max_bytes: int = 100 << 20,
        max_members: int = 10000,
        max_ratio: int = 1000,
        refuse: bool = True,
        workdir: str = "",
    ) -> None:
        self.match = Matcher(endings)
        self.types = frozenset(types)
        self.encrypted = encrypted or "archive-encrypted" in self.types
        self.depth = depth
        self.max_bytes = max_bytes
        self.max_members = max_members
        self.max_ratio = max_ratio
        self.refuse = refuse
        self.workdir = workdir

    def wants(self, kind: str | None) -> bool:
        """Is a body of this kind worth keeping whole?"""
        if kind is None:
            return False
        if kind == sniff.TNEF:
            return True
        if kind in (sniff.ARCHIVE, sniff.COMPRESSED, sniff.EMBEDDED):
            return self.depth > 0 or bool(self.types) or self.encrypted
        if kind in (sniff.OLE, sniff.RTF):
            return self.depth > 0 or bool(self.types) or self.encrypted
        if kind == sniff.PROGRAM:
            return bool(self.types) or self.depth > 0  # self-extracting
        return bool(self.types)

    def tail(self, member: bool) -> bool:
        """Are the last bytes of every body wanted: VHD and DMG trailers,
        and a zip's end record after other data (in an attachment, and in
        an archive member: a zip after a picture inside a zip)?"""
        return "disk-image" in self.types or self.depth > 0 or (self.inline and not member)

    @property
    def inline(self) -> bool:
        """Are files written into text bodies (uuencode, yEnc) looked at?"""
        return self.depth > 0 or bool(self.types)


class Finding:
    """What refuses the message: `text` is the log detail and the reject
    text's argument; `why` says more, for the log."""

    __slots__ = ("kind", "text", "why")

    def __init__(self, kind: str, text: str, why: str = "") -> None:
        self.kind = kind
        self.text = text
        self.why = why

    def __repr__(self) -> str:
        return f"Finding({self.kind!r}, {self.text!r}, {self.why!r})"


class Item:
    """One body: the whole of it in `data` or in the file at `path`, its
    first bytes in `head` and its last in `tail`."""

    __slots__ = ("data", "head", "label", "path", "size", "tail")

    def __init__(
        self, label: str, head: bytes, tail: bytes, size: int, path: str | None = None
    ) -> None:
        self.label = label
        self.head = head
        self.tail = tail
        self.size = size
        self.path = path
        self.data = head if path is None and size == len(head) else None

    @property
    def whole(self) -> "str | bytes | None":
        """A path or the bytes, or None when only head and tail were kept."""
        return self.path if self.path is not None else self.data


class Spool:
    """The walk's Leaves: collects each body and inspects it at its end."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self.warnings: list[str] = []
        self.declared = 0  # bytes archive members say they hold
        self.decompressed = 0  # bytes read out of archives
        self.files = 0  # spool files made, for their names
        self.members = 0  # archive members read, in all
        self.carried: set[tuple[int, int]] = set()  # files containers carry, seen
        self.over = False  # past a bound with refuse off: no more looking inside
        self.seen: list[str] | None = None  # `simscan check`: each member's path

    # --- the walk's side ---------------------------------------------------------

    def open(self, names: "Names", part_names: list[str], text: bool = True) -> "_Body":
        label = shown(part_names[0]) if part_names else UNNAMED
        return _Body(self, names, label, text)

    def spill(self) -> "tuple[str, BinaryIO]":
        self.files += 1
        path = f"{self.rules.workdir}/inspect{self.files:04d}"
        return path, open(path, "xb")

    # --- inspection ----------------------------------------------------------------

    def inspect(self, item: Item, depth: int = 0, level: int = 0) -> Finding | None:
        """What, if anything, in this body refuses the message.  `depth`
        counts the archives it is in, `level` every container."""
        if self.over:
            return None
        kind = sniff.kind(item.head, item.tail)
        rules = self.rules
        if item.whole is None and rules.depth > 0 and sniff.zip_end(item.tail):
            # A zip after more than the first bytes of other data: readers
            # open it from its end; it was let go before that showed.
            return self.limit(item.label, "a zip after other data, not kept to be read")
        if kind is None and item.whole is not None and sniff.zip_end(item.tail):
            kind = sniff.EMBEDDED  # (a zip's end record, after other data)
        if kind is None:
            return None
        if level >= MAX_LEVEL:
            return self.limit(item.label, f"containers nested over {MAX_LEVEL}")
        if kind == sniff.TNEF:
            return self._tnef(item, depth, level)
        if rules.types:
            found = self._type(item, kind)
            if found is not None:
                return found
        if kind == sniff.OLE and rules.encrypted and item.whole is not None:
            from . import office

            if office.encrypted(item.whole):
                return Finding(ENCRYPTED, item.label, "an encrypted Office document")
        if kind in (sniff.OLE, sniff.RTF) and item.whole is not None:
            found = self._office(item, kind, depth, level)
            if found is not None:
                return found
        if rules.depth > 0 and kind in (
            sniff.ARCHIVE,
            sniff.COMPRESSED,
            sniff.PROGRAM,
            sniff.EMBEDDED,
        ):
            return self._archive(item, kind, depth, level)
        return None

    def limit(self, where: str, why: str) -> Finding | None:
        """Past a bound: a Finding, or (refuse off) a warning and None; then
        nothing more is looked into (names are still checked by the walk),
        so that one bound gives one warning, not one per member."""
        if self.rules.refuse:
            return Finding(LIMIT, where, why)
        if not self.over:
            self.over = True
            self.warnings.append(f"{where}: {why}; not checked further")
        return None

    def _type(self, item: Item, kind: str) -> Finding | None:
        from . import filetype

        types = self.rules.types
        whole = item.whole
        category = filetype.category(item.head if whole is None else whole, kind)
        if category is not None and category in types:
            return Finding(TYPE, f"{item.label} ({category})", f"libmagic: {category}")
        office_zip = item.head.startswith(b"PK") and b"[Content_Types].xml" in item.head
        if "macro" in types and (kind == sniff.OLE or office_zip) and item.whole is not None:
            from . import office

            what = office.macros(item.whole)
            if what:
                return Finding(TYPE, f"{item.label} (macro)", what)
        return None

    def _archive(self, item: Item, kind: str, depth: int, level: int) -> Finding | None:
        from .archive import ArchiveError

        rules = self.rules
        source = item.whole
        if source is None:
            return None
        # (A program, or other data holding an archive's signature, is an
        # archive only if libarchive reads it as one.)
        maybe = kind in (sniff.PROGRAM, sniff.EMBEDDED)
        if depth >= rules.depth:
            if maybe:
                return None
            return self.limit(item.label, f"archives nested deeper than {rules.depth}")
        if b"PK" in item.head or kind != sniff.COMPRESSED:
            from .zipnames import names_in

            for name in names_in(source):
                if self.seen is not None:
                    self.seen.append(f"{item.label}/{shown(name)}")
                if rules.match(name):
                    return Finding(NAME, f"{item.label}/{shown(name)}", "a zip header's name")
        recognition = {item.head[at : at + 5] for at in range(0x8001, sniff.HEAD, 0x800)}
        if recognition & {b"NSR02", b"NSR03"}:
            # Windows mounts a disc image by its UDF tree where it has one;
            # libarchive reads only the ISO 9660 side.
            return self.limit(item.label, "a UDF disc image (its UDF names cannot be read)")
        if b"CD001" in recognition:
            # An ISO's Joliet names (Windows, 7-Zip) besides the Rock Ridge
            # ones libarchive prefers.
            from .archive import ArchiveError, members

            try:
                for member in members(source, options="iso9660:!rockridge"):
                    for name in member.names:
                        if rules.match(name):
                            return Finding(NAME, f"{item.label}/{shown(name)}", "a Joliet name")
            except ArchiveError:
                pass  # (the main pass below says so)
        raw = False
        while True:
            seen = [0]
            try:
                found = self._members(item, source, raw, depth, level, seen)
                if seen[0] or raw or kind != sniff.COMPRESSED:
                    return found
                raw = True  # (zeros read as an empty tar: a lone file after all)
                continue
            except ArchiveError as err:
                if seen[0]:
                    why = f"unreadable archive ({err})"
                elif kind == sniff.COMPRESSED and not raw:
                    raw = True  # a lone compressed file, no archive in it
                    continue
                elif maybe:
                    return None  # a program or picture, not an archive after all
                elif "ncrypt" in str(err):
                    if rules.encrypted:
                        return Finding(ENCRYPTED, item.label, f"libarchive: {err}")
                    self.warnings.append(f"{item.label}: encrypted, names not seen ({err})")
                    return None
                else:
                    why = f"unreadable archive ({err})"
                return self.limit(item.label, why)

    def _members(
        self, item: Item, source: "str | bytes", raw: bool, depth: int, level: int, seen: list[int]
    ) -> Finding | None:
        from .archive import members

        rules = self.rules
        for member in members(source, raw):
            if self.over:
                return None
            seen[0] += 1
            self.members += 1
            if seen[0] > rules.max_members:
                return self.limit(item.label, f"more than {rules.max_members} members")
            if self.members > 2 * rules.max_members:
                return self.limit(item.label, f"more than {2 * rules.max_members} members in all")
            if not raw and not any(member.names):
                return self.limit(item.label, "a member whose name cannot be read")
            name = _inner_name(item.label, item.head) if raw else member.name
            path = f"{item.label}/{shown(name)}"
            if self.seen is not None:
                self.seen.append(path)
            if raw and member.name:
                # Also as 7-Zip names it: the last suffix off, whatever it is.
                dropped = item.label.rsplit(".", 1)[0] if "." in item.label else ""
                for reading in (name, _gzip_name(item.head), dropped):
                    if reading and rules.match(reading):
                        return Finding(NAME, f"{item.label}/{shown(reading)}")
            else:
                # (A directory's name too: an entry marked as one may hold
                # data that some readers write out as a file.)
                for reading in member.names:
                    if rules.match(reading):
                        return Finding(NAME, f"{item.label}/{shown(reading)}")
            if member.isdir:
                continue
            if member.encrypted:
                if rules.encrypted:
                    return Finding(ENCRYPTED, item.label, f"{path} is encrypted")
                self.warnings.append(f"{path}: encrypted, its content not checked")
                continue
            size = member.size
            if raw and size is None and item.head.startswith(b"\x1f\x8b") and len(item.tail) >= 4:
                size = int.from_bytes(item.tail[-4:], "little")  # gzip's ISIZE
            if size is not None:
                found = self._declared(size, item, path)
                if found is not None or (not rules.refuse and self.declared > rules.max_bytes):
                    return found
            if "macro" in rules.types and name.lower().endswith("[content_types].xml"):
                found = self._content_types(member, item)
                if found is not None:
                    return found
                continue
            found = self._member(member, item, path, depth, level)
            if found is not None:
                return found
        return None

    def _declared(self, size: int, item: Item, path: str) -> Finding | None:
        rules = self.rules
        self.declared += size
        if self.declared > rules.max_bytes:
            return self.limit(path, f"archives hold more than {rules.max_bytes} bytes")
        if size > rules.max_ratio * max(item.size, 1) and size > sniff.HEAD:
            return self.limit(path, f"compression ratio over {rules.max_ratio}")
        return None

    def _member(
        self, member: "object", item: Item, path: str, depth: int, level: int
    ) -> Finding | None:
        from .archive import Member

        assert isinstance(member, Member)
        rules = self.rules
        body = _Collector(self, path)
        try:
            for block in member.blocks():
                self.decompressed += len(block)
                body.write(block)
                if self.decompressed > rules.max_bytes:
                    return self.limit(path, f"archives hold more than {rules.max_bytes} bytes")
                if body.size > rules.max_ratio * max(item.size, 1) and body.size > sniff.HEAD:
                    return self.limit(path, f"compression ratio over {rules.max_ratio}")
                if body.dead:
                    break
            return self.inspect(body.finish(), depth + 1, level + 1)
        finally:
            body.discard()

    def _content_types(self, member: "object", item: Item) -> Finding | None:
        """An OOXML package's part list: does it declare a VBA project or
        an Excel 4 macro sheet?  (Office follows it, whatever the parts'
        names; olevba looks at the OLE parts.)"""
        from . import office
        from .archive import Member

        assert isinstance(member, Member)
        data = b""
        for block in member.blocks():
            self.decompressed += len(block)
            data += block
            if len(data) > sniff.HEAD * 16:
                break
        what = office.declared_macros(data)
        if what:
            return Finding(TYPE, f"{item.label} (macro)", what)
        return None

    def _carried(
        self, item: Item, files: "Iterator[tuple[list[str], bytes]]", depth: int, level: int
    ) -> Finding | None:
        """Files a container carries (OLE packages, an Outlook item's or
        TNEF's attachments, RTF objects): their names and contents, like
        attachments'.  Each counts against the members and bytes of the
        message, so that no container can multiply the work."""
        rules = self.rules
        for names, data in files:
            if self.over:
                return None
            self.members += 1
            self.decompressed += len(data)
            if self.members > 2 * rules.max_members:
                return self.limit(item.label, f"more than {2 * rules.max_members} members in all")
            if self.decompressed > rules.max_bytes:
                return self.limit(item.label, f"archives hold more than {rules.max_bytes} bytes")
            label = f"{item.label}/{shown(names[0])}" if names else f"{item.label}/{UNNAMED}"
            for name in names:
                if rules.match(name):
                    return Finding(NAME, f"{item.label}/{shown(name)}")
            # The same data twice (an OLE file may point many entries at one
            # stream) is looked into once: else nesting multiplies the work.
            key = (len(data), hash(data))
            if key in self.carried:
                continue
            self.carried.add(key)
            inner = Item(label, data[: sniff.HEAD], data[-sniff.TAIL :], len(data))
            inner.data = data
            found = self.inspect(inner, depth, level + 1)
            if found is not None:
                return found
        return None

    def _office(self, item: Item, kind: str, depth: int, level: int) -> Finding | None:
        from . import office

        assert item.whole is not None
        try:
            if kind == sniff.RTF:
                return self._carried(item, office.rtf_objects(item.whole), depth, level)
            return self._carried(item, office.embedded(item.whole), depth, level)
        except office.OfficeError as err:
            return self.limit(item.label, f"unreadable Office document ({err})")

    def _tnef(self, item: Item, depth: int, level: int) -> Finding | None:
        from . import tnef

        if item.whole is None:
            return None
        if item.size > self.rules.max_bytes:
            return self.limit(item.label, f"TNEF over {self.rules.max_bytes} bytes")
        try:
            attachments = tnef.attachments(item.whole)
        except tnef.TNEFError as err:
            return self.limit(item.label, f"unreadable TNEF ({err})")
        return self._carried(item, iter(attachments), depth, level)


class _Collector:
    """Takes a body in pieces: its head in memory, and the whole in a spool
    file once the head says it is worth a look (else only the tail, if
    wanted, or nothing: `dead`)."""

    dead = False

    def __init__(self, spool: Spool, label: str, member: bool = True) -> None:
        self.spool = spool
        self.label = label
        self.keep_tail = spool.rules.tail(member)
        self.head = bytearray()
        self.tail = bytearray()
        self.size = 0
        self.decided = False
        self.tail_only = False
        self.path: str | None = None
        self.file: BinaryIO | None = None

    def write(self, data: bytes) -> None:
        if self.dead or not data:
            return
        self.size += len(data)
        if self.file is not None:
            self.file.write(data)
        elif not self.decided:
            self.head += data
            if len(self.head) >= sniff.HEAD:
                self._decide()
            return
        if self.tail_only or self.file is not None:
            tail = self.tail
            tail += data[-sniff.TAIL :]
            if len(tail) > 2 * sniff.TAIL:
                del tail[: -sniff.TAIL]

    def _decide(self) -> None:
        self.decided = True
        rules = self.spool.rules
        head = bytes(self.head)
        if rules.wants(sniff.kind(head[: sniff.HEAD])):  # (what inspect() will see)
            self.path, self.file = self.spool.spill()
            self.file.write(head)
            self.tail = bytearray(head[-sniff.TAIL :])
        elif self.keep_tail:
            self.tail_only = True
            self.tail = bytearray(head[-sniff.TAIL :])
        else:
            self.dead = True
        del self.head[sniff.HEAD :]

    def finish(self) -> Item:
        if self.file is not None:
            self.file.close()
            self.file = None
        head = bytes(self.head)
        tail = bytes(self.tail[-sniff.TAIL :]) if self.decided else head[-sniff.TAIL :]
        return Item(self.label, head, tail, self.size, self.path)

    def discard(self) -> None:
        _remove(self.file, self.path)
        self.file, self.path = None, None


class _Body(_Collector):
    """A leaf part's body, as the walk decodes it (a mime.Leaf).  It also
    watches for files written into it (sniff.INLINE_MARKS at a line start) and
    keeps the text from the first one on, in a file of its own."""

    def __init__(self, spool: Spool, names: "Names", label: str, text: bool) -> None:
        super().__init__(spool, label, member=False)
        self.names = names
        # Readers look for files written into text parts only.
        self.watch = spool.rules.inline and text
        self.carry = b"\n"  # (the body starts a line)
        self.inline: BinaryIO | None = None
        self.inline_path: str | None = None
        self.inline_size = 0

    def write(self, data: bytes) -> None:
        if self.inline is not None:
            if self.inline_size <= self.spool.rules.max_bytes:
                self.inline.write(data)
                self.inline_size += len(data)
        elif self.watch and data:
            at = self._mark(data)
            if at is not None:
                self.inline_path, self.inline = self.spool.spill()
                self.inline.write((self.carry + data)[at:])
            self.carry = (self.carry + data[-9:])[-9:]
        super().write(data)

    def _mark(self, data: bytes) -> int | None:
        """Where in carry + data a line starting with one of
        sniff.INLINE_MARKS begins, if one does."""
        lines = self.carry + data[:16]
        at = (self.carry[-1:] + data).find(b"\n(This file must be converted with BinHex")
        if at >= 0:
            return at + len(self.carry)  # (the line after the LF, in carry + data)
        for text, shift in ((lines, 0), (data, len(self.carry))):
            for core in (b"egin ", b"EGIN "):
                at = text.find(core)
                while at >= 0:
                    window = max(0, at - 4)
                    start = max(text.rfind(b"\n", window, at), text.rfind(b"\r", window, at)) + 1
                    if start and text[start : at + 5] in sniff.INLINE_MARKS:
                        return start + shift
                    at = text.find(core, at + 1)
        return None

    def close(self) -> None:
        if self.names.done:
            self.discard()
            return
        try:
            found = self.spool.inspect(self.finish())
            if found is None and self.inline_path is not None:
                found = self._inline()
        finally:
            self.discard()
        if found is not None:
            self.names.finding = found
            self.names.done = True

    def _inline(self) -> Finding | None:
        from .inline import files

        assert self.inline is not None and self.inline_path is not None
        self.inline.close()
        with open(self.inline_path, "rb") as f:
            for name, data in files(f, self.spool.rules.max_bytes):
                item = Item(shown(name) if name else UNNAMED, data[: sniff.HEAD],
                            data[-sniff.TAIL :], len(data))  # fmt: skip
                item.data = data
                found = self.spool.inspect(item)
                if found is not None:
                    return found
        return None

    def discard(self) -> None:
        super().discard()
        _remove(self.inline, self.inline_path)
        self.inline, self.inline_path = None, None


def _remove(file: "BinaryIO | None", path: str | None) -> None:
    """Close a spool file and remove it (the work dir goes anyway)."""
    if file is not None:
        file.close()
    if path is not None:
        try:
            posix.unlink(path)
        except OSError:
            pass


def _inner_name(label: str, head: bytes) -> str:
    """A lone compressed file's name: its own without the suffix."""
    low = label.lower()
    for suffix in _SUFFIXES:
        if low.endswith(suffix) and len(label) > len(suffix):
            inner = label[: -len(suffix)]
            if suffix.startswith(".t"):  # .tgz: x.tar
                inner += ".tar"
            return inner
    return _gzip_name(head) or label


def _gzip_name(head: bytes) -> str:
    """The original name a gzip header carries (FNAME), if any: gunzip -N
    and 7-Zip show it."""
    if len(head) < 10 or head[:2] != b"\x1f\x8b" or not head[3] & 0x08:
        return ""
    at = 10
    if head[3] & 0x04:  # FEXTRA
        at += 2 + int.from_bytes(head[10:12], "little")
    end = head.find(b"\0", at, at + 4096)
    if end < 0:
        return ""
    return head[at:end].decode("latin-1")
