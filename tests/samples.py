"""Files to attach, made here: archives of every kind the tests can write
(zipfile, tarfile, Debian's p7zip and xorriso), programs, disk images and
shortcuts, and the messages that carry them.  Real files, not mocks: the
programs are Debian's own (/bin/true) and ClamAV's test files."""

import base64
import gzip
import io
import shutil
import subprocess
import tarfile
import zipfile
import zlib
from pathlib import Path

TESTFILES = Path("/usr/share/clamav-testfiles")
PE = (TESTFILES / "clam.exe").read_bytes()  # a real PE (ClamAV's test program)
ELF = Path("/bin/true").read_bytes()

# A Windows shortcut: the 76-byte ShellLinkHeader ([MS-SHLLINK] 2.1).
LNK = (
    b"L\x00\x00\x00\x01\x14\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00F"
    + b"\x00" * 56
    + b"\x00" * 64
)
MACHO = b"\xcf\xfa\xed\xfe\x07\x00\x00\x01\x03\x00\x00\x00\x02\x00\x00\x00" + b"\x00" * 1024
JAVA_CLASS = b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + b"\x00\x10" + b"\x00" * 256
VHDX = b"vhdxfile" + b"\x00" * 4096
VHD_DYNAMIC = b"conectix" + b"\x00\x00\x00\x02\x00\x01\x00\x00" + b"\x00" * 496 + b"\x00" * 4096
VHD_FIXED = b"\x00" * 65536 + b"conectix" + b"\x00\x00\x00\x02\x00\x01\x00\x00" + b"\x00" * 496
DMG = b"\x00" * 70000 + b"koly" + b"\x00\x00\x00\x04\x00\x00\x02\x00" + b"\x00" * 500
TEXT = b"Just some words, nothing to see here.\n" * 50
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def zip_of(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as z:
        for name, data in members:
            z.writestr(name, data)
    return out.getvalue()


def nested_zip(layers: int, name: str = "x.exe", data: bytes = PE) -> bytes:
    """A zip holding `name`, in a zip, ... `layers` zips in all."""
    body = zip_of([(name, data)])
    for level in range(layers - 1, 0, -1):
        body = zip_of([(f"layer{level}.zip", body)])
    return body


def tar_of(members: list[tuple[str, bytes]], mode: str = "w") -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=mode) as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return out.getvalue()


def gz(data: bytes, name: str | None = None) -> bytes:
    if name is None:
        return gzip.compress(data, mtime=0)
    out = io.BytesIO()
    with gzip.GzipFile(filename=name, mode="wb", fileobj=out, mtime=0) as f:
        f.write(data)
    return out.getvalue()


def zip_bomb(size: int, name: str = "zeros.bin", declared: bool = True) -> bytes:
    """A zip with one member of `size` zero bytes (a ratio of about 1000),
    written in pieces.  `declared=False`: the sizes sit in a data
    descriptor after the data, not in the local header."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo(name)
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w", force_zip64=size > 0x7FFFFFFF) as f:
            block = b"\0" * (1 << 20)
            left = size
            while left:
                f.write(block[: min(left, len(block))])
                left -= min(left, len(block))
    return out.getvalue()


def tool(*args: str | Path, cwd: Path) -> None:
    subprocess.run([str(a) for a in args], cwd=cwd, check=True, capture_output=True)


def seven_zip(
    tmp: Path,
    members: list[tuple[str, bytes]],
    password: str | None = None,
    *,
    kind: str = "7z",
    encrypt_names: bool = False,
    aes: bool = False,
) -> bytes:
    """An archive made by p7zip (7z, or zip with ZipCrypto or AES)."""
    assert shutil.which("7z"), "p7zip-full is needed (scripts/install-deps)"
    work = tmp / f"7z-{len(list(tmp.glob('7z-*')))}"
    (work / "in").mkdir(parents=True)
    for name, data in members:
        (work / "in" / name).parent.mkdir(parents=True, exist_ok=True)
        (work / "in" / name).write_bytes(data)
    out = work / f"out.{kind}"
    args: list[str | Path] = ["7z", "a", f"-t{kind}", out]
    if password:
        args.append(f"-p{password}")
    if encrypt_names:
        args.append("-mhe=on")
    if aes:
        args.append("-mem=AES256")
    tool(*args, *[name for name, _ in members], cwd=work / "in")
    return out.read_bytes()


def iso_of(tmp: Path, members: list[tuple[str, bytes]]) -> bytes:
    """An ISO 9660 image (Joliet and Rock Ridge too) made by xorriso."""
    assert shutil.which("xorriso"), "xorriso is needed (scripts/install-deps)"
    work = tmp / f"iso-{len(list(tmp.glob('iso-*')))}"
    (work / "in").mkdir(parents=True)
    for name, data in members:
        (work / "in" / name).write_bytes(data)
    out = work / "out.iso"
    tool("xorriso", "-as", "mkisofs", "-quiet", "-J", "-R", "-o", out, work / "in", cwd=work)
    return out.read_bytes()


def message(*attachments: tuple[str, bytes], body: bytes = b"hello\n") -> bytes:
    """A multipart message with a text part and each (name, data) as a
    base64 attachment."""
    parts = [
        b"From: a@example.org\nTo: b@example.com\nSubject: files\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="XyZ"\n\n'
        b"--XyZ\nContent-Type: text/plain\n\n" + body
    ]
    for name, data in attachments:
        parts.append(
            b"--XyZ\nContent-Type: application/octet-stream\n"
            b"Content-Transfer-Encoding: base64\n"
            b'Content-Disposition: attachment; filename="'
            + name.encode()
            + b'"\n\n'
            + base64.encodebytes(data)
        )
    return b"".join(parts) + b"--XyZ--\n"


def deflate_ratio(data: bytes) -> float:
    return len(data) / max(1, len(zlib.compress(data)))


# --- OLE2 (compound file) ------------------------------------------------------

_FREE, _END, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def ole_file(tree: dict[str, object]) -> bytes:
    """A compound file (MS-CFB version 3) holding `tree`: name -> bytes (a
    stream) or name -> dict (a storage).  Streams are padded to 4096 bytes
    so that none goes to the mini stream.  olefile, olevba and libmagic
    read it as Office would."""
    import struct

    entries: list[dict[str, object]] = [{"name": "Root Entry", "type": 5, "kids": []}]

    def add(node: dict[str, object], parent: int) -> None:
        for name, value in node.items():
            index = len(entries)
            entry: dict[str, object] = {"name": name, "kids": []}
            entries.append(entry)
            kids = entries[parent]["kids"]
            assert isinstance(kids, list)
            kids.append(index)
            if isinstance(value, dict):
                entry["type"] = 1
                add(value, index)
            else:
                assert isinstance(value, bytes)
                entry["type"] = 2
                entry["data"] = value.ljust(4096, b"\0")

    add(tree, 0)
    dir_sectors = (len(entries) + 3) // 4
    data_sectors = sum((len(e["data"]) + 511) // 512 for e in entries if "data" in e)  # type: ignore[arg-type]
    fats = 1
    while 128 * fats < fats + dir_sectors + data_sectors:
        fats += 1
    assert fats <= 109
    sectors: list[bytes] = []
    fat: list[int] = [_FATSECT] * fats  # the first sectors are the FAT
    first_dir = fats
    fat += [fats + i + 1 for i in range(dir_sectors - 1)] + [_END]
    next_sector = fats + dir_sectors
    for entry in entries:
        data = entry.get("data")
        if isinstance(data, bytes):
            count = (len(data) + 511) // 512
            entry["start"] = next_sector
            fat += [next_sector + i + 1 for i in range(count - 1)] + [_END]
            sectors.append(data.ljust(count * 512, b"\0"))
            next_sector += count
    fat_sectors = struct.pack(f"<{128 * fats}I", *(fat + [_FREE] * (128 * fats - len(fat))))
    directory = b""
    for entry in entries:
        kids = entry["kids"]
        assert isinstance(kids, list)
        name = str(entry["name"]).encode("utf-16-le") + b"\0\0"
        siblings = dict(zip(kids, [*kids[1:], _NOSTREAM], strict=False))
        entry["child"] = kids[0] if kids else _NOSTREAM
        for kid in kids:
            entries[kid]["right"] = siblings[kid]
        data = entry.get("data")
        directory += struct.pack(
            "<64sHBBIII16sIQQIQ",
            name,
            len(name),
            entry["type"],
            1,
            _NOSTREAM,
            entry.get("right", _NOSTREAM),
            entry["child"],
            b"\0" * 16,
            0,
            0,
            0,
            entry.get("start", _END) if isinstance(data, bytes) else _END,
            len(data) if isinstance(data, bytes) else 0,
        )
    directory = directory.ljust(dir_sectors * 512, b"\0")
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        b"\0" * 16,
        0x3E,
        3,
        0xFFFE,
        9,
        6,
        b"\0" * 6,
        0,
        fats,
        first_dir,
        0,
        4096,
        _END,
        0,
        _END,
        0,
    )
    header += struct.pack("<109I", *range(fats), *([_FREE] * (109 - fats)))
    return header + fat_sectors + directory + b"".join(sectors)


VBA_PROJECT = ole_file(
    {
        "PROJECT": b'ID="{00000000-0000-0000-0000-000000000000}"\r\n'
        b"Document=ThisDocument/&H00000000\r\n",
        "VBA": {"_VBA_PROJECT": b"\xcc\x61\xff\xff\x00\x00\x00", "dir": b"\x01\x00\x00"},
    }
)
DOC_WITH_MACROS = ole_file(
    {
        "WordDocument": b"\xec\xa5\xc1\x00",
        "Macros": {
            "PROJECT": b'ID="{00000000-0000-0000-0000-000000000000}"\r\n',
            "VBA": {"_VBA_PROJECT": b"\xcc\x61\xff\xff\x00\x00\x00", "dir": b"\x01\x00\x00"},
        },
    }
)
DOC_PLAIN = ole_file({"WordDocument": b"\xec\xa5\xc1\x00", "1Table": b"\0"})
# An encrypted OOXML document: an OLE file with these two streams ([MS-OFFCRYPTO]).
OOXML_ENCRYPTED = ole_file(
    {"EncryptionInfo": b"\x04\x00\x04\x00\x40\x00\x00\x00", "EncryptedPackage": b"\x10" + b"\0" * 7}
)

CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/word/document.xml" ContentType="application/'
    b'vnd.ms-word.document.macroEnabled.main+xml"/>'
    b'<Override PartName="/word/vbaProject.bin" ContentType="application/'
    b'vnd.ms-office.vbaProject"/></Types>'
)
DOCM = zip_of(
    [
        ("[Content_Types].xml", CONTENT_TYPES),
        ("word/document.xml", b"<w:document/>"),
        ("word/vbaProject.bin", VBA_PROJECT),
    ]
)
DOCX = zip_of(
    [
        ("[Content_Types].xml", CONTENT_TYPES.split(b"<Override")[0] + b"</Types>"),
        ("word/document.xml", b"<w:document/>"),
    ]
)


def ole_package(filename: str, data: bytes) -> bytes:
    """An `\\x01Ole10Native` stream ([MS-OLEDS] 2.3.6): what Office keeps
    for a file embedded as an OLE package."""
    import struct

    name = filename.encode("latin-1")
    body = (
        struct.pack("<H", 2) + name + b"\0" + b"C:\\Users\\a\\" + name + b"\0"
        + struct.pack("<II", 0x00030000, len(name) + 1) + b"C:\\Temp\\" + name + b"\0"
        + struct.pack("<I", len(data)) + data
    )  # fmt: skip
    return struct.pack("<I", len(body)) + body


def doc_with_package(filename: str, data: bytes) -> bytes:
    """A Word document carrying `data` as an embedded OLE package."""
    return ole_file(
        {
            "WordDocument": b"\xec\xa5\xc1\x00",
            "ObjectPool": {"_1234567890": {"\x01Ole10Native": ole_package(filename, data)}},
        }
    )


# --- TNEF ([MS-OXTNEF]) -----------------------------------------------------------


def tnef_object(level: int, ident: int, kind: int, value: bytes) -> bytes:
    import struct

    checksum = sum(value) & 0xFFFF
    header = struct.pack("<BHHI", level, ident, kind, len(value))
    return header + value + struct.pack("<H", checksum)


def mapi_string(ident: int, text: str, unicode: bool = True) -> bytes:
    """One MAPI property: PT_UNICODE (or PT_STRING8) `ident` = text."""
    import struct

    raw = text.encode("utf-16-le" if unicode else "latin-1") + (b"\0\0" if unicode else b"\0")
    pad = b"\0" * (-len(raw) % 4)
    kind = 0x001F if unicode else 0x001E
    return struct.pack("<HHII", kind, ident, 1, len(raw)) + raw + pad


def mapi_binary(ident: int, data: bytes) -> bytes:
    import struct

    return struct.pack("<HHII", 0x0102, ident, 1, len(data)) + data + b"\0" * (-len(data) % 4)


def tnef(*attachments: tuple[str, bytes, list[bytes]]) -> bytes:
    """A TNEF stream with each (title, data, MAPI properties) attachment."""
    import struct

    out = b"\x78\x9f\x3e\x22\x01\x00"
    out += tnef_object(1, 0x9006, 0x0008, b"\x00\x00\x01\x00")  # attTnefVersion
    for title, data, props in attachments:
        out += tnef_object(2, 0x9002, 0x0006, b"\x01\x00\xff\xff\xff\xff" + bytes(8))
        out += tnef_object(2, 0x8010, 0x0001, title.encode("latin-1") + b"\0")
        out += tnef_object(2, 0x800F, 0x0006, data)
        if props:
            out += tnef_object(2, 0x9005, 0x0006, struct.pack("<I", len(props)) + b"".join(props))
    return out


def outlook_item(attachments: list[tuple[str, bytes]]) -> bytes:
    """An Outlook item (.msg, [MS-OXMSG]) with each (long file name, data)
    as an attachment storage."""
    storages: dict[str, object] = {"__substg1.0_0037001F": "files".encode("utf-16-le")}
    for index, (name, data) in enumerate(attachments):
        storages[f"__attach_version1.0_#{index:08X}"] = {
            "__substg1.0_3707001F": name.encode("utf-16-le"),
            "__substg1.0_37010102": data,
        }
    return ole_file(storages)


def rtf_with_package(filename: str, data: bytes) -> bytes:
    """An RTF document carrying `data` as an embedded OLE package (an
    OLE 1.0 object of class Package, [MS-OLEDS] 2.2)."""
    import struct

    native = ole_package(filename, data)[4:]  # (a Package's has no size field)
    clas = b"Package\0"
    ole1 = (
        struct.pack("<III", 0x0501, 2, len(clas)) + clas + struct.pack("<II", 0, 0)
        + struct.pack("<I", len(native)) + native
    )  # fmt: skip
    return (
        b"{\\rtf1\\ansi{\\object\\objemb{\\*\\objclass Package}{\\*\\objdata "
        + ole1.hex().encode()
        + b"}}}"
    )


def binhex(name: str, data: bytes) -> bytes:
    """BinHex 4.0 text for a file: header, data fork and an empty resource
    fork, with their CRCs (CCITT, as the format has them)."""
    import binascii
    import struct

    def crc(block: bytes) -> bytes:
        return struct.pack(">H", binascii.crc_hqx(block + b"\0\0", 0))

    raw_name = name.encode("mac-roman")
    header = bytes([len(raw_name)]) + raw_name + b"\0" + b"APPL????" + b"\0\0"
    header += struct.pack(">II", len(data), 0)
    stream = header + crc(header) + data + crc(data) + crc(b"")
    stream = stream.replace(b"\x90", b"\x90\x00")  # (a literal 0x90, for the run coding)
    alphabet = b"!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr"
    bits = "".join(f"{b:08b}" for b in stream)
    bits += "0" * (-len(bits) % 6)
    chars = bytes(alphabet[int(bits[i : i + 6], 2)] for i in range(0, len(bits), 6))
    text = b":" + chars + b":"
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    return b"(This file must be converted with BinHex 4.0)\n" + b"\n".join(lines) + b"\n"
