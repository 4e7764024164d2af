"""What a file's first (and last) bytes say it may be: the cheap gate in
front of libarchive, libmagic, TNEF and oletools.

Each kind is named by a signature at a fixed offset, the ones libmagic and
libarchive themselves key on.  A body that matches none of them is never
handed to those libraries, so a message with only text, PDFs and pictures
imports none of them.  The gate errs wide: a kind here is "worth a look",
and libmagic or libarchive has the last word.
"""

HEAD = 65536  # bytes of a body looked at before it is spooled or let go
# Last bytes kept: VHD's and DMG's trailers are the last 512; a zip's end
# record is in the last 64 KiB + 22 (its comment may be up to 64 KiB).
TAIL = 65536 + 22

# Kinds
ARCHIVE = "archive"  # zip, 7z, rar, cab, tar, cpio, ar, arj, lha, xar, iso ...
COMPRESSED = "compressed"  # gzip, bzip2, xz, zstd, lzip, lzma, compress: a filter
OLE = "ole"  # OLE2 compound file: .doc/.xls/.ppt, MSI, encrypted OOXML
TNEF = "tnef"  # winmail.dat
PROGRAM = "program"  # MZ, ELF, Mach-O, Java class
SHORTCUT = "shortcut"  # Windows .lnk
DISK = "disk"  # VHD, VHDX, DMG (ISO and UDF are ARCHIVE: libarchive reads them)
EMBEDDED = "embedded"  # an archive's signature after other data (a picture, say)
RTF = "rtf"  # RTF: may carry OLE objects and packages (Word opens it by content)

# A file written into text (uuencode, yEnc; inline.py) starts a line so.
INLINE_MARKS = (b"begin ", b"Begin ", b"BEGIN ", b"=ybegin ")

# Signatures found anywhere in the first bytes: a zip, rar or 7z after other
# data is still read by libarchive, 7-Zip and unzip (from its end record).
_ANYWHERE = (b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06", b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c")

_AT_START: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", ARCHIVE),
    (b"PK\x05\x06", ARCHIVE),  # an empty zip
    (b"PK\x07\x08", ARCHIVE),  # a split zip's first part
    (b"PK00PK", ARCHIVE),
    (b"7z\xbc\xaf\x27\x1c", ARCHIVE),
    (b"Rar!\x1a\x07", ARCHIVE),
    (b"MSCF", ARCHIVE),
    (b"ISc(", ARCHIVE),  # InstallShield cab
    (b"070707", ARCHIVE),
    (b"070701", ARCHIVE),
    (b"070702", ARCHIVE),
    (b"\xc7\x71", ARCHIVE),  # binary cpio
    (b"\x71\xc7", ARCHIVE),
    (b"!<arch>\n", ARCHIVE),
    (b"\x60\xea", ARCHIVE),  # arj
    (b"xar!", ARCHIVE),
    (b"\x1f\x8b", COMPRESSED),
    (b"BZh", COMPRESSED),
    (b"\xfd7zXZ\x00", COMPRESSED),
    (b"\x28\xb5\x2f\xfd", COMPRESSED),  # zstd
    (b"LZIP", COMPRESSED),
    (b"\x5d\x00\x00", COMPRESSED),  # lzma alone
    (b"\x1f\x9d", COMPRESSED),  # compress (.Z)
    (b"\x89LZO", COMPRESSED),
    (b"\x04\x22\x4d\x18", COMPRESSED),  # lz4
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", OLE),
    (b"\x78\x9f\x3e\x22", TNEF),
    (b"{\\rt", RTF),
    (b"MZ", PROGRAM),
    (b"\x7fELF", PROGRAM),
    (b"\xfe\xed\xfa\xce", PROGRAM),
    (b"\xfe\xed\xfa\xcf", PROGRAM),
    (b"\xce\xfa\xed\xfe", PROGRAM),
    (b"\xcf\xfa\xed\xfe", PROGRAM),
    (b"\xca\xfe\xba\xbe", PROGRAM),  # Mach-O fat binary, or a Java class
    (b"\xca\xfe\xba\xbf", PROGRAM),
    (b"L\x00\x00\x00\x01\x14\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00F", SHORTCUT),
    (b"conectix", DISK),  # a dynamic VHD's copy of its footer
    (b"vhdxfile", DISK),
)
_FIRST = {sig[:1] for sig, _ in _AT_START}


def kind(head: bytes, tail: bytes = b"") -> str | None:
    """The kind the bytes may be, or None for a body no check looks into."""
    if head[:1] in _FIRST:
        for signature, found in _AT_START:
            if head.startswith(signature):
                return found
    if head[257:262] == b"ustar" or _tar_header(head):
        return ARCHIVE
    # ISO 9660 and UDF volume descriptors start at 32 KiB.
    for at in (0x8001, 0x8801, 0x9001):
        if head[at : at + 5] in (b"CD001", b"BEA01", b"NSR02", b"NSR03", b"TEA01"):
            return ARCHIVE
    if head[2:5] == b"-lh" or head[2:5] == b"-lz":  # lha
        return ARCHIVE
    if any(signature in head for signature in _ANYWHERE):
        return EMBEDDED
    trailer = tail[-512:]
    if trailer[:8] == b"conectix" or tail[-511:-503] == b"conectix":  # fixed VHD
        return DISK
    if trailer[:4] == b"koly":  # DMG
        return DISK
    return None


def _tar_header(head: bytes) -> bool:
    """An old (v7) tar header: its checksum field adds up.  (libarchive
    reads these without `ustar`.)"""
    if len(head) < 512 or head[:1] in (b"\0", b""):
        return False
    field = head[148:156].strip(b" \0")
    if not field or field.strip(b"01234567"):
        return False
    total = sum(head[:148]) + 8 * 32 + sum(head[156:512])
    return int(field, 8) == total


def zip_end(tail: bytes) -> bool:
    """Is there a zip end record in the body's last bytes?  Readers look
    for one from the end, whatever comes before it (and some whatever
    comes after).  One counts when its disk numbers are 0 and its entry
    counts agree (zip64 puts 0xFFFF there), so that four bytes by chance in
    other data do not."""
    at = tail.rfind(b"PK\x05\x06")
    while at >= 0:
        record = tail[at : at + 22]
        if len(record) == 22 and record[4:8] in (b"\0\0\0\0", b"\xff\xff\xff\xff"):
            here, total = record[8:10], record[10:12]
            comment = int.from_bytes(record[20:22], "little")
            if here == total and at + 22 + comment <= len(tail) + 0x10000:
                return True
        at = tail.rfind(b"PK\x05\x06", 0, at)
    return False
