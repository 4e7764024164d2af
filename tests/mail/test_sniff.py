"""The gate (simscan.mail.sniff): each kind it knows, from files the real
tools make, and what it lets go."""

import bz2
import gzip
import lzma
import subprocess
from pathlib import Path

import pytest
import samples as s

from simscan.mail import sniff


def made(tmp_path: Path, command: str, data: bytes = s.TEXT) -> bytes:
    """The output of `command` (a shell line: IN is a file holding
    `data`, OUT the file it must write) run in tmp_path."""
    (tmp_path / "IN").write_bytes(data)
    subprocess.run(
        command.replace("IN", "IN").replace("OUT", "OUT"), shell=True, cwd=tmp_path, check=True,
        capture_output=True,
    )  # fmt: skip
    return (tmp_path / "OUT").read_bytes()


TOOLS = {
    "zip": ("zip -q OUT.zip IN && mv OUT.zip OUT", sniff.ARCHIVE),
    "7z": ("7z a -bd OUT.7z IN >/dev/null && mv OUT.7z OUT", sniff.ARCHIVE),
    "cab": ("gcab -c OUT IN", sniff.ARCHIVE),
    "cpio-newc": ("echo IN | cpio -o -H newc > OUT", sniff.ARCHIVE),
    "cpio-crc": ("echo IN | cpio -o -H crc > OUT", sniff.ARCHIVE),
    "cpio-odc": ("echo IN | cpio -o -H odc > OUT", sniff.ARCHIVE),
    "cpio-bin": ("echo IN | cpio -o -H bin > OUT", sniff.ARCHIVE),
    "ar": ("ar qc OUT IN", sniff.ARCHIVE),
    "arj": ("arj a -y OUT.arj IN >/dev/null && mv OUT.arj OUT", sniff.ARCHIVE),
    "tar-ustar": ("tar --format=ustar -cf OUT IN", sniff.ARCHIVE),
    "tar-v7": ("tar --format=v7 -cf OUT IN", sniff.ARCHIVE),
    "gzip": ("gzip -c IN > OUT", sniff.COMPRESSED),
    "bzip2": ("bzip2 -c IN > OUT", sniff.COMPRESSED),
    "xz": ("xz -c IN > OUT", sniff.COMPRESSED),
    "lzma": ("xz --format=lzma -c IN > OUT", sniff.COMPRESSED),
    "zstd": ("zstd -q -c IN > OUT", sniff.COMPRESSED),
    "lz4": ("lz4 -q -c IN > OUT", sniff.COMPRESSED),
    "lzip": ("lzip -c IN > OUT", sniff.COMPRESSED),
    "lzop": ("lzop -c IN > OUT", sniff.COMPRESSED),
    "compress": ("compress -c IN > OUT", sniff.COMPRESSED),
}


@pytest.mark.parametrize(("command", "kind"), TOOLS.values(), ids=TOOLS.keys())
def test_what_the_tools_make(tmp_path: Path, command: str, kind: str) -> None:
    data = made(tmp_path, command)
    assert sniff.kind(data[: sniff.HEAD]) == kind


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (gzip.compress(b"x"), sniff.COMPRESSED),
        (bz2.compress(b"x"), sniff.COMPRESSED),
        (lzma.compress(b"x"), sniff.COMPRESSED),
        (lzma.compress(b"x", format=lzma.FORMAT_ALONE), sniff.COMPRESSED),
        (s.zip_of([]), sniff.ARCHIVE),  # an empty zip: its end record alone
        (s.PE, sniff.PROGRAM),
        (s.ELF, sniff.PROGRAM),
        (s.MACHO, sniff.PROGRAM),
        (b"\xfe\xed\xfa\xce" + bytes(28), sniff.PROGRAM),  # Mach-O 32, big-endian
        (b"\xfe\xed\xfa\xcf" + bytes(28), sniff.PROGRAM),
        (b"\xce\xfa\xed\xfe" + bytes(28), sniff.PROGRAM),
        (s.JAVA_CLASS, sniff.PROGRAM),
        (b"\xca\xfe\xba\xbf" + bytes(28), sniff.PROGRAM),  # a 64-bit fat binary
        (s.LNK, sniff.SHORTCUT),
        (s.VHDX, sniff.DISK),
        (s.VHD_DYNAMIC, sniff.DISK),
        (s.DOC_PLAIN, sniff.OLE),
        ((s.TESTFILES / "clam.tnef").read_bytes(), sniff.TNEF),
        ((s.TESTFILES / "clam.7z").read_bytes(), sniff.ARCHIVE),
        ((s.TESTFILES / "clam.cab").read_bytes(), sniff.ARCHIVE),
        ((s.TESTFILES / "clam.bin-be.cpio").read_bytes(), sniff.ARCHIVE),
        ((s.TESTFILES / "clam.arj").read_bytes(), sniff.ARCHIVE),
        (b"Rar!\x1a\x07\x00" + bytes(20), sniff.ARCHIVE),  # rar 4
        (b"Rar!\x1a\x07\x01\x00" + bytes(20), sniff.ARCHIVE),  # rar 5
        (b"xar!" + bytes(24), sniff.ARCHIVE),
        (b"ISc(" + bytes(24), sniff.ARCHIVE),
        (b"PK00PK\x03\x04" + bytes(24), sniff.ARCHIVE),
        (b"PK\x07\x08" + bytes(24), sniff.ARCHIVE),
        (b"\x89LZO\x00\r\n\x1a\n", sniff.COMPRESSED),
        (b"\x00\x00-lh5-" + bytes(20), sniff.ARCHIVE),  # lha
        (b"\x00\x00-lz4-" + bytes(20), sniff.ARCHIVE),
        (b"{\\rtf1\\ansi hello}", sniff.RTF),
        (b"{\\rtx", sniff.RTF),  # (Word reads it whatever follows)
    ],
)
def test_signatures(data: bytes, kind: str) -> None:
    assert sniff.kind(data[: sniff.HEAD]) == kind


@pytest.mark.parametrize("at", [0x8001, 0x8801, 0x9001])
@pytest.mark.parametrize("mark", [b"CD001", b"BEA01", b"NSR02", b"NSR03", b"TEA01"])
def test_disc_images(at: int, mark: bytes) -> None:
    image = bytearray(0xA000)
    image[at : at + 5] = mark
    assert sniff.kind(bytes(image)) == sniff.ARCHIVE
    image[at : at + 5] = b"CD002"
    assert sniff.kind(bytes(image)) is None


def test_trailers() -> None:
    assert sniff.kind(b"\0" * 4096, s.VHD_FIXED[-1024:]) == sniff.DISK
    old_vhd = b"\0" * 600 + b"conectix" + b"\0" * 503  # (an old one: 511 bytes)
    assert sniff.kind(b"\0" * 4096, old_vhd) == sniff.DISK
    assert sniff.kind(b"\0" * 4096, s.DMG[-1024:]) == sniff.DISK
    assert sniff.kind(b"\0" * 4096, b"\0" * 1024) is None
    assert sniff.kind(b"\0" * 4096, b"koly" + b"\0" * 1020) is None  # not in its place


@pytest.mark.parametrize(
    "data",
    [s.TEXT, s.PDF, b"\x89PNG\r\n\x1a\n" + bytes(100), b"\xff\xd8\xff\xe0" + bytes(100), b"", b"M",
     b"\x1f", b"BZ", b"7z", b"PK"],
)  # fmt: skip
def test_what_the_gate_lets_go(data: bytes) -> None:
    assert sniff.kind(data) is None


@pytest.mark.parametrize(
    "signature",
    [b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06", b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c"],
)
def test_an_archive_after_other_data(signature: bytes) -> None:
    head = b"GIF89a" + bytes(1000) + signature + bytes(100)
    assert sniff.kind(head) == sniff.EMBEDDED


def test_a_v7_tar_header_must_add_up() -> None:
    header = bytearray(s.tar_of([("a.txt", b"hi")])[:512])
    header[257:263] = bytes(6)  # no "ustar": the checksum decides
    total = sum(header[:148]) + 8 * 32 + sum(header[156:512])
    header[148:156] = b"%06o\0 " % total
    assert sniff.kind(bytes(header)) == sniff.ARCHIVE
    header[0] ^= 1
    assert sniff.kind(bytes(header)) is None
    assert sniff.kind(bytes(511)) is None


@pytest.mark.parametrize(
    ("tail", "want"),
    [
        (b"x" * 100 + b"PK\x05\x06" + bytes(18), True),
        (b"x" * 100 + b"PK\x05\x06" + bytes(16) + b"\x03\x00abc", True),  # a comment
        (b"x" * 100 + b"PK\x05\x06" + bytes(16) + b"\x04\x00abc", True),  # (cut short)
        (b"x" * 100 + b"PK\x05\x06" + bytes(18) + b"trailing bytes", True),
        (b"PK\x05\x06" + b"\xff" * 4 + b"\xff\xff\xff\xff" + bytes(10), True),  # zip64
        (b"x" * 100 + b"PK\x05\x06" + bytes(17), False),  # no whole record
        (b"x" * 100 + b"PK\x05\x06" + b"\x01\x00" + bytes(16), False),  # disk 1
        (b"x" * 100 + b"PK\x05\x06" + bytes(4) + b"\x01\x00\x02\x00" + bytes(10), False),
        (
            b"PK\x05\x06" + bytes(4) + b"\x01\x00\x02\x00" + bytes(10) + b"PK\x05\x06" + bytes(18),
            True,
        ),
        (b"", False),
    ],
)
def test_zip_end(tail: bytes, want: bool) -> None:
    assert sniff.zip_end(tail) is want


def test_ustar_alone_is_enough() -> None:
    header = bytearray(s.tar_of([("a.txt", b"hi")])[:512])
    header[148:156] = b"0000000\0"  # a checksum that does not add up
    assert sniff.kind(bytes(header)) == sniff.ARCHIVE
    header[257:262] = b"ustaR"
    assert sniff.kind(bytes(header)) is None


def test_a_v7_header_with_a_nul_first_or_a_long_checksum() -> None:
    header = bytearray(s.tar_of([("a.txt", b"hi")])[:512])
    header[257:263] = bytes(6)
    total = sum(header[:148]) + 8 * 32 + sum(header[156:512])
    header[148:156] = b"%07o\0" % total  # seven digits
    assert sniff.kind(bytes(header)) == sniff.ARCHIVE
    header[148:156] = b"1%06o\0" % total  # a digit more: no longer adds up
    assert sniff.kind(bytes(header)) is None
    header[0] = 0  # no name: no header
    total = sum(header[:148]) + 8 * 32 + sum(header[156:512])
    header[148:156] = b"%07o\0" % total
    assert sniff.kind(bytes(header)) is None


@pytest.mark.parametrize("size", [512, 600, 2048])
def test_trailers_in_tails_of_any_length(size: int) -> None:
    tail = (b"\0" * 4096 + s.VHD_FIXED[-512:])[-size:]
    assert sniff.kind(b"\0" * 4096, tail) == sniff.DISK
