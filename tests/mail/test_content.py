"""Looking inside attachments (simscan.mail.content), with the real
libraries: libarchive, libmagic, tnefparse, oletools; real files from
zipfile, tarfile, p7zip, xorriso and Debian's clamav-testfiles."""

import io
import os
from pathlib import Path
from struct import pack as struct_pack

import pytest
import samples as s

from simscan.mail.content import ENCRYPTED, LIMIT, NAME, TYPE, Finding, Rules, Spool
from simscan.mail.mime import walk

EXE = (b".exe",)


def inspect(
    tmp_path: Path, *attachments: tuple[str, bytes], **rules: object
) -> tuple[Finding | None, list[str]]:
    """(the finding, the warnings) for a message carrying the attachments."""
    rules.setdefault("endings", EXE)
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    spool = Spool(Rules(workdir=str(work), **rules))  # type: ignore[arg-type]
    names = walk(io.BytesIO(s.message(*attachments)), (), leaves=spool)
    assert os.listdir(work) == []  # every spool file is gone
    finding = names.finding
    assert finding is None or isinstance(finding, Finding)
    return finding, spool.warnings


def found(tmp_path: Path, *attachments: tuple[str, bytes], **rules: object) -> tuple[str, str]:
    finding, _ = inspect(tmp_path, *attachments, **rules)
    assert finding is not None
    return finding.kind, finding.text


# --- names inside archives -------------------------------------------------------


def test_a_member_name_is_blocked_and_the_path_shown(tmp_path: Path) -> None:
    zipped = s.zip_of([("docs/readme.txt", b"hi"), ("docs/x.exe", s.PE)])
    assert found(tmp_path, ("invoice.zip", zipped)) == (NAME, "invoice.zip/docs/x.exe")


def test_a_harmless_archive_passes(tmp_path: Path) -> None:
    zipped = s.zip_of([("docs/readme.txt", b"hi"), ("a.pdf", s.PDF)])
    assert inspect(tmp_path, ("invoice.zip", zipped)) == (None, [])


@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("clam.zip", "clam.zip/clam.exe"),
        ("clam.7z", "clam.7z/clam.exe"),
        ("clam.cab", "clam.cab/clam.exe"),
        ("clam.tar.gz", "clam.tar.gz/clam.exe"),
        ("clam.newc.cpio", "clam.newc.cpio/clam.exe"),
        ("clam.odc.cpio", "clam.odc.cpio/clam.exe"),
        ("clam.bin-le.cpio", "clam.bin-le.cpio/clam.exe"),
        ("clam.bin-be.cpio", "clam.bin-be.cpio/clam.exe"),
        ("clam.tnef", "clam.tnef/clam.exe"),
        ("clam.exe.bz2", "clam.exe.bz2/clam.exe"),
        ("clam.bz2.zip", "clam.bz2.zip/clam.exe"),  # bzip2 as the zip method
        ("clam.impl.zip", "clam.impl.zip/CLAM.EXE"),
    ],
)
def test_clamav_testfiles(tmp_path: Path, name: str, want: str) -> None:
    data = (s.TESTFILES / name).read_bytes()
    assert found(tmp_path, (name, data)) == (NAME, want)


@pytest.mark.parametrize("mode", ["w", "w:gz", "w:bz2", "w:xz"])
def test_tar_under_each_filter(tmp_path: Path, mode: str) -> None:
    tarred = s.tar_of([("a/b.txt", b"hi"), ("a/run.exe", s.PE)], mode)
    assert found(tmp_path, ("files.tar", tarred)) == (NAME, "files.tar/a/run.exe")


def test_tar_zstd(tmp_path: Path) -> None:
    plain = tmp_path / "in.tar"
    plain.write_bytes(s.tar_of([("run.exe", s.PE)]))
    s.tool("zstd", "-q", plain, "-o", tmp_path / "in.tar.zst", cwd=tmp_path)
    data = (tmp_path / "in.tar.zst").read_bytes()
    assert found(tmp_path, ("in.tar.zst", data)) == (NAME, "in.tar.zst/run.exe")


def test_seven_zip_made_here(tmp_path: Path) -> None:
    data = s.seven_zip(tmp_path, [("dir/x.exe", s.PE)])
    assert found(tmp_path, ("a.7z", data)) == (NAME, "a.7z/dir/x.exe")


def test_iso_made_by_xorriso(tmp_path: Path) -> None:
    data = s.iso_of(tmp_path, [("setup.exe", s.PE)])
    kind, text = found(tmp_path, ("image.iso", data))
    assert kind == NAME
    assert text.lower() == "image.iso/setup.exe"


@pytest.mark.parametrize(
    ("label", "want"),
    [
        ("x.exe.gz", "x.exe.gz/x.exe"),
        ("X.EXE.GZ", "X.EXE.GZ/X.EXE"),
        ("x.exe.xz", "x.exe.xz/x.exe"),
    ],
)
def test_a_lone_compressed_file_is_named_without_its_suffix(
    tmp_path: Path, label: str, want: str
) -> None:
    import lzma

    data = lzma.compress(s.PE) if label.lower().endswith(".xz") else s.gz(s.PE)
    assert found(tmp_path, (label, data)) == (NAME, want)


def test_the_name_in_a_gzip_header_counts(tmp_path: Path) -> None:
    # gunzip -N and 7-Zip save it as the name the header carries.
    data = s.gz(s.TEXT, name="evil.exe")
    assert found(tmp_path, ("data.gz", data)) == (NAME, "data.gz/evil.exe")


def test_a_tgz_is_a_tar(tmp_path: Path) -> None:
    data = s.tar_of([("in/x.exe", s.PE)], "w:gz")
    assert found(tmp_path, ("files.tgz", data)) == (NAME, "files.tgz/in/x.exe")


def test_a_self_extracting_zip_is_opened(tmp_path: Path) -> None:
    sfx = s.PE + s.zip_of([("payload/x.exe", s.PE)])
    kind, text = found(tmp_path, ("setup.bin", sfx))
    assert (kind, text) == (NAME, "setup.bin/payload/x.exe")


def test_a_plain_program_is_no_archive(tmp_path: Path) -> None:
    assert inspect(tmp_path, ("tool.bin", s.PE)) == (None, [])


def test_directories_are_not_names(tmp_path: Path) -> None:
    data = s.zip_of([("evil.exe/", b""), ("evil.exe/readme.txt", b"hi")])
    assert inspect(tmp_path, ("a.zip", data)) == (None, [])


# --- depth ---------------------------------------------------------------------------


def test_three_layers_are_read_whole(tmp_path: Path) -> None:
    kind, text = found(tmp_path, ("n.zip", s.nested_zip(3)))
    assert (kind, text) == (NAME, "n.zip/layer1.zip/layer2.zip/x.exe")


def test_a_fourth_layer_is_over_the_limit(tmp_path: Path) -> None:
    finding, _ = inspect(tmp_path, ("n.zip", s.nested_zip(4, "x.txt", b"hi")))
    assert finding is not None
    assert (finding.kind, finding.text) == (LIMIT, "n.zip/layer1.zip/layer2.zip/layer3.zip")
    assert finding.why == "archives nested deeper than 3"


def test_the_depth_is_a_setting(tmp_path: Path) -> None:
    assert found(tmp_path, ("n.zip", s.nested_zip(5)), depth=5)[0] == NAME
    assert found(tmp_path, ("n.zip", s.nested_zip(2)), depth=1) == (LIMIT, "n.zip/layer1.zip")


def test_depth_0_is_the_c_behaviour(tmp_path: Path) -> None:
    assert inspect(tmp_path, ("n.zip", s.nested_zip(1)), depth=0) == (None, [])
    assert inspect(tmp_path, ("n.zip", s.nested_zip(9)), depth=0) == (None, [])


def test_over_the_depth_with_pass_warns(tmp_path: Path) -> None:
    finding, warnings = inspect(tmp_path, ("n.zip", s.nested_zip(5)), refuse=False)
    assert finding is None
    assert warnings == [
        "n.zip/layer1.zip/layer2.zip/layer3.zip: archives nested deeper than 3; not checked further"
    ]


# --- bombs -----------------------------------------------------------------------


def test_too_many_members(tmp_path: Path) -> None:
    data = s.zip_of([(f"f{i}.txt", b"x") for i in range(12)])
    assert inspect(tmp_path, ("many.zip", data), max_members=12) == (None, [])
    finding, _ = inspect(tmp_path, ("many.zip", data), max_members=11)
    assert finding is not None
    assert (finding.kind, finding.text, finding.why) == (LIMIT, "many.zip", "more than 11 members")


def test_declared_bytes_past_the_cap(tmp_path: Path) -> None:
    # 3 MB of zeros: under the ratio, over a 2 MB cap by its declared size.
    data = s.zip_bomb(3 << 20)
    finding, _ = inspect(tmp_path, ("z.zip", data), max_bytes=2 << 20, max_ratio=10**6)
    assert finding is not None
    assert (finding.kind, finding.text) == (LIMIT, "z.zip/zeros.bin")
    assert finding.why == f"archives hold more than {2 << 20} bytes"


def test_decompressed_bytes_past_the_cap(tmp_path: Path) -> None:
    # bzip2 declares no size: the bytes read out show it.  (A member is read
    # on only when its first bytes are worth a look: here, a program.)
    import bz2

    data = bz2.compress(s.PE + b"\0" * (3 << 20))
    rules = {"max_bytes": 2 << 20, "max_ratio": 10**6, "types": ("executable",), "endings": ()}
    finding, _ = inspect(tmp_path, ("z.exe.bz2", data), **rules)
    assert finding is not None
    assert (finding.kind, finding.text) == (LIMIT, "z.exe.bz2/z.exe")
    assert finding.why == f"archives hold more than {2 << 20} bytes"


def test_a_gzip_declares_its_size_in_its_trailer(tmp_path: Path) -> None:
    data = s.gz(b"\0" * (3 << 20))
    finding, _ = inspect(tmp_path, ("z.bin.gz", data), max_bytes=2 << 20, max_ratio=10**6)
    assert finding is not None
    assert (finding.kind, finding.text) == (LIMIT, "z.bin.gz/z.bin")
    assert finding.why == f"archives hold more than {2 << 20} bytes"


def test_the_ratio(tmp_path: Path) -> None:
    data = s.zip_bomb(4 << 20)  # about 4 KB expanding to 4 MB
    assert s.deflate_ratio(b"\0" * (4 << 20)) > 900
    finding, _ = inspect(tmp_path, ("z.zip", data), max_ratio=100)
    assert finding is not None
    assert (finding.kind, finding.why) == (LIMIT, "compression ratio over 100")
    assert inspect(tmp_path, ("z.zip", data), max_ratio=10**5) == (None, [])


def test_the_ratio_of_what_is_read_when_nothing_is_declared(tmp_path: Path) -> None:
    data = s.gz(b"\0" * (4 << 20))
    finding, _ = inspect(tmp_path, ("z.gz", data), max_ratio=100)
    assert finding is not None
    assert (finding.kind, finding.text, finding.why) == (
        LIMIT,
        "z.gz/z",
        "compression ratio over 100",
    )


def test_the_byte_cap_counts_every_archive_in_the_message(tmp_path: Path) -> None:
    one = s.gz(b"\0" * (600 << 10))
    rules = {"max_bytes": 1 << 20, "max_ratio": 10**6}
    assert inspect(tmp_path, ("a.gz", one), **rules) == (None, [])
    finding, _ = inspect(tmp_path, ("a.gz", one), ("b.gz", one), **rules)
    assert finding is not None and finding.kind == LIMIT


# --- encryption ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "options"),
    [
        ("zipcrypto.zip", {"kind": "zip"}),
        ("aes.zip", {"kind": "zip", "aes": True}),
        ("data.7z", {}),
    ],
)
def test_encrypted_members(tmp_path: Path, label: str, options: dict[str, object]) -> None:
    data = s.seven_zip(tmp_path, [("notes.txt", s.TEXT)], "secret", **options)  # type: ignore[arg-type]
    finding, _ = inspect(tmp_path, (label, data), encrypted=True)
    assert finding is not None
    assert (finding.kind, finding.text, finding.why) == (
        ENCRYPTED,
        label,
        f"{label}/notes.txt is encrypted",
    )
    # Allowed (the default): passed, with a word in the log.
    assert inspect(tmp_path, (label, data)) == (
        None,
        [f"{label}/notes.txt: encrypted, its content not checked"],
    )


def test_an_encrypted_members_name_is_still_checked(tmp_path: Path) -> None:
    data = s.seven_zip(tmp_path, [("x.exe", s.PE)], "secret", kind="zip")
    assert found(tmp_path, ("a.zip", data)) == (NAME, "a.zip/x.exe")


def test_encrypted_names(tmp_path: Path) -> None:
    data = s.seven_zip(tmp_path, [("x.exe", s.PE)], "secret", encrypt_names=True)
    finding, _ = inspect(tmp_path, ("h.7z", data), encrypted=True)
    assert finding is not None
    assert (finding.kind, finding.text) == (ENCRYPTED, "h.7z")
    assert "encrypted" in finding.why
    finding, warnings = inspect(tmp_path, ("h.7z", data))
    assert finding is None
    assert warnings == [
        "h.7z: encrypted, names not seen (The archive header is encrypted,"
        " but currently not supported)"
    ]


def test_archive_encrypted_as_a_type_means_block_encrypted(tmp_path: Path) -> None:
    data = s.seven_zip(tmp_path, [("a.txt", s.TEXT)], "pw", kind="zip")
    assert found(tmp_path, ("a.zip", data), types=("archive-encrypted",))[0] == ENCRYPTED


def test_an_encrypted_office_document(tmp_path: Path) -> None:
    finding, _ = inspect(tmp_path, ("q.docx", s.OOXML_ENCRYPTED), encrypted=True)
    assert finding is not None
    assert (finding.kind, finding.text) == (ENCRYPTED, "q.docx")
    assert finding.why == "an encrypted Office document"
    assert inspect(tmp_path, ("q.docx", s.DOC_PLAIN), encrypted=True) == (None, [])


# --- types ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "category"),
    [
        (s.PE, "executable"),
        (s.ELF, "executable"),
        (s.MACHO, "executable"),
        (s.JAVA_CLASS, "executable"),
        (s.LNK, "shortcut"),
        (s.VHDX, "disk-image"),
        (s.VHD_DYNAMIC, "disk-image"),
        (s.VHD_FIXED, "disk-image"),
        (s.DMG, "disk-image"),
    ],
    ids=["pe", "elf", "macho", "java", "lnk", "vhdx", "vhd", "vhd-fixed", "dmg"],
)
def test_types_by_content(tmp_path: Path, data: bytes, category: str) -> None:
    types = ("executable", "disk-image", "shortcut")
    assert found(tmp_path, ("report.pdf", data), types=types) == (TYPE, f"report.pdf ({category})")
    others = tuple(t for t in types if t != category)
    assert inspect(tmp_path, ("report.pdf", data), types=others) == (None, [])


def test_an_iso_is_a_disk_image(tmp_path: Path) -> None:
    data = s.iso_of(tmp_path, [("a.txt", b"hi")])
    assert found(tmp_path, ("photos.zip", data), types=("disk-image",)) == (
        TYPE,
        "photos.zip (disk-image)",
    )


@pytest.mark.parametrize("data", [s.PDF, s.TEXT, s.DOC_PLAIN, s.DOCX, s.zip_of([("a", b"b")])])
def test_what_is_no_listed_type_passes(tmp_path: Path, data: bytes) -> None:
    types = ("executable", "disk-image", "shortcut", "macro")
    assert inspect(tmp_path, ("file.bin", data), types=types) == (None, [])


def test_a_renamed_program_inside_an_archive(tmp_path: Path) -> None:
    data = s.zip_of([("readme.txt", s.ELF)])
    assert found(tmp_path, ("invoice.zip", data), types=("executable",)) == (
        TYPE,
        "invoice.zip/readme.txt (executable)",
    )


@pytest.mark.parametrize(
    ("label", "data", "want"),
    [
        ("a.doc", s.DOC_WITH_MACROS, "VBA macros"),
        ("a.bin", s.VBA_PROJECT, "VBA macros"),
        ("a.docm", s.DOCM, "VBA macros (declared in [Content_Types].xml)"),
    ],
)
def test_macros(tmp_path: Path, label: str, data: bytes, want: str) -> None:
    finding, _ = inspect(tmp_path, (label, data), types=("macro",))
    assert finding is not None
    assert (finding.kind, finding.text) == (TYPE, f"{label} (macro)")
    assert finding.why in (want, "VBA macros")


def test_macros_in_an_office_file_in_a_zip(tmp_path: Path) -> None:
    data = s.zip_of([("q3/report.doc", s.DOC_WITH_MACROS)])
    assert found(tmp_path, ("reports.zip", data), types=("macro",)) == (
        TYPE,
        "reports.zip/q3/report.doc (macro)",
    )


def test_a_docm_whose_content_types_come_last(tmp_path: Path) -> None:
    # olevba is not asked (no [Content_Types].xml in the first bytes); the
    # member walk sees the vbaProject part, and the declared types.
    filler = os.urandom(80000)
    data = s.zip_of([("word/media/a.bin", filler), *reversed(_docm_parts())], 0)
    assert found(tmp_path, ("a.docm", data), types=("macro",))[0] == TYPE


def _docm_parts() -> list[tuple[str, bytes]]:
    return [
        ("[Content_Types].xml", s.CONTENT_TYPES),
        ("word/document.xml", b"<w:document/>"),
        ("word/vbaProject.bin", s.VBA_PROJECT),
    ]


# --- TNEF ------------------------------------------------------------------------------


def test_tnef_names(tmp_path: Path) -> None:
    data = (s.TESTFILES / "clam.tnef").read_bytes()
    assert found(tmp_path, ("winmail.dat", data)) == (NAME, "winmail.dat/clam.exe")


def test_tnef_contents_are_typed(tmp_path: Path) -> None:
    data = (s.TESTFILES / "clam.tnef").read_bytes()
    assert found(tmp_path, ("winmail.dat", data), endings=(), types=("executable",)) == (
        TYPE,
        "winmail.dat/clam.exe (executable)",
    )


def test_tnef_is_read_with_depth_0(tmp_path: Path) -> None:
    data = (s.TESTFILES / "clam.tnef").read_bytes()
    assert found(tmp_path, ("winmail.dat", data), depth=0)[0] == NAME


# --- names that lie ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("member", "shown"),
    [
        ("invoice\u202egpj.exe", "invoice<U+202E>gpj.exe"),
        ("x.e\u200bxe", "x.e<U+200B>xe"),
        ("x.\uff45\uff58\uff45", "x.\uff45\uff58\uff45"),
        ("x.exe. . ", "x.exe. . "),
        ("x.ex\u00ade", "x.ex<U+00AD>e"),
    ],
)
def test_member_names_that_lie(tmp_path: Path, member: str, shown: str) -> None:
    data = s.zip_of([(member, s.PE)])
    assert found(tmp_path, ("a.zip", data)) == (NAME, f"a.zip/{shown}")


@pytest.mark.parametrize(
    "data",
    [b"PK\x03\x04" + bytes(range(256)) * 4, b"7z\xbc\xaf\x27\x1c" + b"\xff" * 200],
    ids=["zip", "7z"],
)
def test_an_archive_that_cannot_be_read_fails_closed(tmp_path: Path, data: bytes) -> None:
    finding, _ = inspect(tmp_path, ("broken.zip", data))
    assert finding is not None
    assert (finding.kind, finding.text) == (LIMIT, "broken.zip")
    assert finding.why.startswith("unreadable archive (")
    finding, warnings = inspect(tmp_path, ("broken.zip", data), refuse=False)
    assert finding is None
    assert warnings[0].startswith("broken.zip: unreadable archive (")


def test_a_body_with_no_signature_imports_nothing(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        f"import io, sys; sys.path[:0] = {[str(Path(s.__file__).parent)]!r}\n"
        "import samples as s\n"
        "from simscan.mail.content import Rules, Spool\n"
        "from simscan.mail.mime import walk\n"
        "raw = s.message(('a.pdf', s.PDF), ('b.txt', s.TEXT), ('c.png', b'\\x89PNG' + bytes(99)))\n"
        "spool = Spool(Rules(endings=(b'.exe',), types=('executable', 'macro'), encrypted=True,"
        f" workdir={str(tmp_path)!r}))\n"
        "walk(io.BytesIO(raw), (), leaves=spool)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('libarchive', 'magic', 'oletools', 'olefile', 'tnefparse', 'ctypes')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_tnef_of_too_many_objects_is_over_the_limit(tmp_path: Path) -> None:
    from simscan.mail.tnef import MAX_OBJECTS

    obj = s.tnef_object(1, 0x0001, 0x0006, b"x")
    data = b"\x78\x9f\x3e\x22\x01\x00" + obj * (MAX_OBJECTS + 1)
    finding, _ = inspect(tmp_path, ("winmail.dat", data))
    assert finding is not None
    assert (finding.kind, finding.text) == (LIMIT, "winmail.dat")
    assert finding.why == f"unreadable TNEF (more than {MAX_OBJECTS} TNEF objects)"
    assert inspect(tmp_path, ("winmail.dat", data[: 6 + len(obj) * 100])) == (None, [])


@pytest.mark.parametrize(
    ("props", "why"),
    [
        # A count of 2^32 values: checked against the bytes left, not run.
        (b"\xff\xff\xff\xff", "a MAPI count (4294967295) larger than its block"),
        (struct_pack("<IHHI", 1, 0x1002, 0x1234, 0xFFFFFFFF), "a MAPI count (4294967295)"),
        (struct_pack("<IHHII", 1, 0x001F, 0x3707, 1, 0x7FFFFFFF), "longer than its block"),
        (struct_pack("<IHH", 1, 0x0999, 0x1234), "a MAPI property of unknown type 0x0999"),
    ],
    ids=["count", "multi-valued", "length", "type"],
)
def test_tnef_counts_are_checked(tmp_path: Path, props: bytes, why: str) -> None:
    data = s.tnef(("a.txt", b"hi", []))
    data += s.tnef_object(2, 0x9005, 0x0006, props)
    finding, _ = inspect(tmp_path, ("winmail.dat", data))
    assert finding is not None
    assert (finding.kind, finding.text) == (LIMIT, "winmail.dat")
    assert finding.why.startswith("unreadable TNEF (") and why in finding.why


@pytest.mark.parametrize(
    "props",
    [
        [s.mapi_string(0x3704, "x.txt")],  # a later file name: the title still counts
        [s.mapi_string(0x3707, "x.txt"), s.mapi_string(0x3001, "y.txt", unicode=False)],
    ],
)
def test_every_tnef_name_counts(tmp_path: Path, props: list[bytes]) -> None:
    data = s.tnef(("x.exe", b"hi", props))
    assert found(tmp_path, ("winmail.dat", data)) == (NAME, "winmail.dat/x.exe")
    props = [s.mapi_string(0x3707, "Invoice 2026.pdf.exe")]
    data = s.tnef(("INVOIC~1.PDF", b"hi", props))
    assert found(tmp_path, ("winmail.dat", data)) == (NAME, "winmail.dat/Invoice 2026.pdf.exe")


def test_every_tnef_data_blob_counts(tmp_path: Path) -> None:
    zipped = s.zip_of([("x.exe", s.PE)])
    data = s.tnef(("a.zip", zipped, [s.mapi_binary(0x3701, b"harmless")]))
    assert found(tmp_path, ("winmail.dat", data)) == (NAME, "winmail.dat/a.zip/x.exe")
    data = s.tnef(("a.zip", b"harmless", [s.mapi_binary(0x3701, zipped)]))
    assert found(tmp_path, ("winmail.dat", data)) == (NAME, "winmail.dat/a.zip/x.exe")


def test_a_member_longer_than_it_says_is_unreadable(tmp_path: Path) -> None:
    # libarchive reads on past the declared size and then warns: a warning
    # while reading data is an error (not stale bytes taken for data).
    import struct

    data = bytearray(s.zip_of([("a.bin", s.PE + bytes(100000))]))
    real = len(s.PE) + 100000
    local = data.index(b"PK\x03\x04")
    central = data.index(b"PK\x01\x02")
    assert struct.unpack_from("<I", data, local + 22)[0] == real
    struct.pack_into("<I", data, local + 22, 1000)
    struct.pack_into("<I", data, central + 24, 1000)
    finding, _ = inspect(tmp_path, ("liar.zip", bytes(data)), types=("executable",))
    assert finding is not None
    assert (finding.kind, finding.text) == (LIMIT, "liar.zip")
    assert finding.why == (
        f"unreadable archive (ZIP uncompressed data is wrong size (read {real}, expected 1000))"
    )


def test_a_file_embedded_in_an_office_document(tmp_path: Path) -> None:
    doc = s.doc_with_package("invoice.exe", s.PE)
    assert found(tmp_path, ("report.doc", doc)) == (NAME, "report.doc/invoice.exe")
    renamed = s.doc_with_package("readme.txt", s.PE)
    assert inspect(tmp_path, ("report.doc", renamed)) == (None, [])
    assert found(tmp_path, ("report.doc", renamed), types=("executable",)) == (
        TYPE,
        "report.doc/readme.txt (executable)",
    )
    # In an OOXML document, the package is an OLE part of the zip.
    docx = s.zip_of([("[Content_Types].xml", b"<Types/>"), ("word/embeddings/oleObject1.bin", doc)])
    assert found(tmp_path, ("report.docx", docx)) == (
        NAME,
        "report.docx/word/embeddings/oleObject1.bin/invoice.exe",
    )


# --- what the hostile review found (each was a way past the check) -------------------


def _patch_zip_name(data: bytes, old: bytes, new: bytes, where: bytes) -> bytes:
    """The name in the local header (where=PK\\3\\4) or the central
    directory (PK\\1\\2) replaced by one of the same length."""
    at = data.index(where)
    start = at + (30 if where == b"PK\x03\x04" else 46)
    assert data[start : start + len(old)] == old
    return data[:start] + new + data[start + len(old) :]


@pytest.mark.parametrize("where", [b"PK\x03\x04", b"PK\x01\x02"])
def test_local_and_central_names_both_count(tmp_path: Path, where: bytes) -> None:
    data = _patch_zip_name(s.zip_of([("x.txt", s.TEXT)]), b"x.txt", b"x.exe", where)
    kind, text = found(tmp_path, ("a.zip", data))
    assert (kind, text) == (NAME, "a.zip/x.exe")


def test_two_zips_one_after_the_other(tmp_path: Path) -> None:
    data = s.zip_of([("x.exe", s.PE)]) + s.zip_of([("readme.txt", s.TEXT)])
    assert found(tmp_path, ("a.zip", data)) == (NAME, "a.zip/x.exe")


def test_a_unicode_path_field_does_not_hide_the_header_name(tmp_path: Path) -> None:
    import struct
    import zlib

    name = b"x.exe"
    field = struct.pack("<HHB", 0x7075, 5 + len(b"x.txt"), 1) + struct.pack("<I", zlib.crc32(name))
    field += b"x.txt"
    import zipfile

    info = zipfile.ZipInfo("x.exe")
    info.extra = field
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(info, b"hello")
    assert found(tmp_path, ("a.zip", out.getvalue())) == (NAME, "a.zip/x.exe")


def test_an_entry_marked_as_a_directory(tmp_path: Path) -> None:
    import zipfile

    info = zipfile.ZipInfo("x.exe")
    info.external_attr = (0o040755 << 16) | 0x10
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(info, s.PE)
    assert found(tmp_path, ("a.zip", out.getvalue())) == (NAME, "a.zip/x.exe")


def test_a_name_that_is_not_utf8(tmp_path: Path) -> None:
    data = _patch_zip_name(s.zip_of([("x_.exe", s.TEXT)]), b"x_.exe", b"x\xff.exe", b"PK\x01\x02")
    data = _patch_zip_name(data, b"x_.exe", b"x\xff.exe", b"PK\x03\x04")
    assert found(tmp_path, ("a.zip", data))[0] == NAME


@pytest.mark.parametrize("prefix", [b"GIF89a" + bytes(100), b"%PDF-1.4\n" + b"%" * 2000])
def test_a_zip_after_a_little_other_data(tmp_path: Path, prefix: bytes) -> None:
    data = prefix + s.zip_of([("x.exe", s.PE)])
    assert found(tmp_path, ("photo.gif", data)) == (NAME, "photo.gif/x.exe")


def test_a_zip_after_much_other_data_fails_closed(tmp_path: Path) -> None:
    data = b"%PDF-1.4\n" + b"%" * 200000 + s.zip_of([("readme.txt", s.TEXT)])
    finding, _ = inspect(tmp_path, ("report.pdf", data))
    assert finding is not None
    assert (finding.kind, finding.text) == (LIMIT, "report.pdf")
    assert finding.why == "a zip after other data, not kept to be read"
    # Not with archives off (archive_depth 0), nor for a PDF as it is.
    assert inspect(tmp_path, ("report.pdf", data), depth=0) == (None, [])
    assert inspect(tmp_path, ("report.pdf", s.PDF + b"%" * 200000)) == (None, [])


def test_a_picture_with_a_zip_signature_by_chance_passes(tmp_path: Path) -> None:
    data = b"\xff\xd8\xff\xe0" + os.urandom(1000) + b"PK\x03\x04" + os.urandom(3000)
    assert inspect(tmp_path, ("photo.jpg", data)) == (None, [])


@pytest.mark.parametrize(
    "headers",
    [
        b'Content-Type: application/zip; name="invoice.zip"\n'
        b'Content-Disposition: attachment; filename="invoice.eml"\n',
        b'Content-Type: message/rfc822; name="invoice.zip"\n',
        b'Content-Type: application/zip; name="invoice.mht.zip"\n',
    ],
)
def test_a_part_some_reader_takes_for_a_message_is_looked_inside(
    tmp_path: Path, headers: bytes
) -> None:
    import base64

    raw = (
        b'Content-Type: multipart/mixed; boundary="b"\n\n--b\n' + headers
        + b"Content-Transfer-Encoding: base64\n\n"
        + base64.encodebytes(s.zip_of([("x.exe", s.PE)])) + b"--b--\n"
    )  # fmt: skip
    spool = Spool(Rules(endings=EXE, workdir=str(tmp_path)))
    names = walk(io.BytesIO(raw), (), leaves=spool)
    assert isinstance(names.finding, Finding)
    assert names.finding.kind == NAME and names.finding.text.endswith("/x.exe")


def test_members_are_counted_across_the_message(tmp_path: Path) -> None:
    inner = s.zip_of([(f"f{i}.txt", b"x") for i in range(8)])
    outer = s.zip_of([(f"in{i}.zip", inner) for i in range(3)])
    assert inspect(tmp_path, ("a.zip", outer), max_members=20) == (None, [])
    finding, _ = inspect(tmp_path, ("a.zip", outer), max_members=12)
    assert finding is not None
    assert (finding.kind, finding.why) == (LIMIT, "more than 24 members in all")


def test_a_joliet_name_counts(tmp_path: Path) -> None:
    iso = bytearray(s.iso_of(tmp_path, [("x.exe", s.PE)]))
    # Rock Ridge says x.txt; Windows and 7-Zip read Joliet (UTF-16BE).
    at = iso.index(b"NM")  # the Rock Ridge alternate name of x.exe
    while iso[at + 5 : at + 10] != b"x.exe":
        at = iso.index(b"NM", at + 2)
    iso[at + 5 : at + 10] = b"x.txt"
    assert found(tmp_path, ("cd.iso", bytes(iso))) == (NAME, "cd.iso/x.exe")


@pytest.mark.parametrize("encoding", ["uuencode", "yenc"])
def test_a_file_written_into_the_text(tmp_path: Path, encoding: str) -> None:
    import binascii

    zipped = s.zip_of([("x.exe", s.PE)])
    if encoding == "uuencode":
        lines = [binascii.b2a_uu(zipped[i : i + 45]) for i in range(0, len(zipped), 45)]
        text = b"begin 644 invoice.zip\n" + b"".join(lines) + b"`\nend\n"
    else:
        body = bytes((c + 42) & 255 for c in zipped)
        for special in (b"=", b"\0", b"\n", b"\r"):
            body = body.replace(special, b"=" + bytes([(special[0] + 64) & 255]))
        text = b"=ybegin line=128 size=%d name=invoice.zip\n" % len(zipped) + body + b"\n=yend\n"
    raw = b"Subject: x\n\nHello,\n" + s.TEXT * 2000 + text + b"bye\n"
    spool = Spool(Rules(endings=EXE, workdir=str(tmp_path)))
    names = walk(io.BytesIO(raw), (), leaves=spool)
    assert isinstance(names.finding, Finding)
    assert (names.finding.kind, names.finding.text) == (NAME, "invoice.zip/x.exe")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "command",
    ["lz4 -q -c", "lzip -c", "lzop -c", "compress -c", "xz --format=lzma -c", "zstd -q -c"],
)
def test_each_compression_libarchive_reads(tmp_path: Path, command: str) -> None:
    import subprocess

    (tmp_path / "x.exe").write_bytes(s.PE)
    packed = subprocess.run(
        f"{command} x.exe", shell=True, cwd=tmp_path, check=True, capture_output=True
    ).stdout
    assert found(tmp_path, ("x.exe.pack", packed)) == (NAME, "x.exe.pack/x.exe")
    assert found(tmp_path, ("data.bin", packed), types=("executable",)) == (
        TYPE,
        "data.bin/data.bin (executable)",
    )


def test_arj_cannot_be_read_and_fails_closed(tmp_path: Path) -> None:
    finding, _ = inspect(tmp_path, ("c.arj", (s.TESTFILES / "clam.arj").read_bytes()))
    assert finding is not None
    assert (finding.kind, finding.text) == (LIMIT, "c.arj")
    assert finding.why == "unreadable archive (Unrecognized archive format)"


# --- the second hostile review ---------------------------------------------------


def test_a_big_document_is_looked_into_with_archives_on(tmp_path: Path) -> None:
    doc = s.ole_file(
        {
            "WordDocument": os.urandom(100000),
            "ObjectPool": {"_1": {"\x01Ole10Native": s.ole_package("invoice.exe", s.PE)}},
        }
    )
    assert len(doc) > 65536
    assert found(tmp_path, ("report.doc", doc)) == (NAME, "report.doc/invoice.exe")


def test_a_document_olefile_cannot_read_fails_closed(tmp_path: Path) -> None:
    doc = bytearray(s.DOC_PLAIN)
    doc[48:52] = (9999).to_bytes(4, "little")  # the directory: past the end
    finding, _ = inspect(tmp_path, ("report.doc", bytes(doc)))
    assert finding is not None
    assert (finding.kind, finding.text) == (LIMIT, "report.doc")
    assert finding.why.startswith("unreadable Office document (")


def test_an_outlook_items_attachments(tmp_path: Path) -> None:
    item = s.outlook_item([("notes.txt", s.TEXT), ("x.exe", s.PE)])
    assert found(tmp_path, ("mail.msg", item)) == (NAME, "mail.msg/x.exe")
    zipped = s.outlook_item([("a.zip", s.zip_of([("run.exe", s.PE)]))])
    assert found(tmp_path, ("mail.msg", zipped)) == (NAME, "mail.msg/a.zip/run.exe")


def test_an_rtf_documents_package(tmp_path: Path) -> None:
    rtf = s.rtf_with_package("invoice.exe", s.PE)
    assert found(tmp_path, ("letter.doc", rtf)) == (NAME, "letter.doc/invoice.exe")
    renamed = s.rtf_with_package("readme.txt", s.PE)
    assert found(tmp_path, ("letter.rtf", renamed), types=("executable",)) == (
        TYPE,
        "letter.rtf/readme.txt (executable)",
    )


@pytest.mark.parametrize("after", [b"", b"\0" * 100], ids=["comment", "trailing"])
def test_a_zip_whose_end_record_is_not_last(tmp_path: Path, after: bytes) -> None:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("a.txt", s.TEXT)
        z.comment = b"c" * 2000 if not after else b""
    data = b"%PDF-1.4\n" + b"%" * 100000 + out.getvalue() + after
    finding, _ = inspect(tmp_path, ("report.pdf", data))
    assert finding is not None
    assert (finding.kind, finding.text) == (LIMIT, "report.pdf")


def test_the_same_file_carried_many_times_is_looked_into_once(tmp_path: Path) -> None:
    doc = s.doc_with_package("a.txt", s.TEXT)
    for _ in range(2):  # each document carries the one below it 20 times
        doc = s.ole_file(
            {"WordDocument": b"\xec\xa5", **{f"P{i}": {"\x01Ole10Native": s.ole_package(
                "doc.doc", doc)} for i in range(20)}}
        )  # fmt: skip
    spool = Spool(Rules(endings=EXE, workdir=str(tmp_path)))
    walk(io.BytesIO(s.message(("deep.doc", doc))), (), leaves=spool)
    assert spool.members == 2 * 20 + 1  # not 20 + 20 * 20 + 20 * 20


@pytest.mark.parametrize("end", [b"\n", b"\r\n", b"\r"], ids=["lf", "crlf", "cr"])
def test_inline_files_in_a_text_part_whatever_its_bytes(tmp_path: Path, end: bytes) -> None:
    import binascii

    zipped = s.zip_of([("x.exe", s.PE)])
    lines = [binascii.b2a_uu(zipped[i : i + 45]).rstrip(b"\n") for i in range(0, len(zipped), 45)]
    body = end.join([b"Hi,\0 see below", b"begin 644 invoice.zip", *lines, b"`", b"end", b""])
    raw = b"Subject: x\nContent-Transfer-Encoding: 8bit\n\n" + body
    spool = Spool(Rules(endings=EXE, workdir=str(tmp_path)))
    names = walk(io.BytesIO(raw), (), leaves=spool)
    assert isinstance(names.finding, Finding)
    assert names.finding.text == "invoice.zip/x.exe"


def test_containers_nested_over_32_whatever_the_depth(tmp_path: Path) -> None:
    finding, _ = inspect(tmp_path, ("n.zip", s.nested_zip(40, "a.txt", b"x")), depth=100)
    assert finding is not None
    assert (finding.kind, finding.why) == (LIMIT, "containers nested over 32")
    assert finding.text.count("/") == 32


def test_a_tnef_over_the_byte_cap(tmp_path: Path) -> None:
    data = s.tnef(("a.txt", bytes(300000), []))
    finding, _ = inspect(tmp_path, ("winmail.dat", data), max_bytes=200000)
    assert finding is not None
    assert (finding.kind, finding.why) == (LIMIT, "TNEF over 200000 bytes")
    assert inspect(tmp_path, ("winmail.dat", data), max_bytes=400000) == (None, [])


@pytest.mark.parametrize(
    ("rules", "kept"),
    [
        ({"depth": 0}, False),  # names only, no archives: a program is let go
        ({"depth": 0, "types": ("shortcut",)}, True),
        ({"depth": 1}, True),  # (a self-extracting archive?)
    ],
)
def test_what_is_kept_of_a_big_program(
    tmp_path: Path, rules: dict[str, object], kept: bool
) -> None:
    big = s.PE + os.urandom(200000)
    spool = Spool(Rules(workdir=str(tmp_path), **rules))  # type: ignore[arg-type]
    body = spool.open(walk(io.BytesIO(b""), ()), ["a.bin"], False)
    body.write(big)
    assert (body.path is not None) is kept
    body.close()
    assert os.listdir(tmp_path) == []


def test_past_a_bound_with_pass_one_warning_and_nothing_more(tmp_path: Path) -> None:
    many = s.zip_of([(f"f{i}.bin", bytes(1000)) for i in range(50)])
    later = s.zip_of([("x.exe", s.PE)])
    finding, warnings = inspect(
        tmp_path, ("many.zip", many), ("later.zip", later), max_bytes=5000, refuse=False
    )
    assert finding is None
    assert warnings == ["many.zip/f5.bin: archives hold more than 5000 bytes; not checked further"]


def test_a_binhex_file_in_the_text(tmp_path: Path) -> None:
    zipped = s.zip_of([("x.exe", s.PE)])
    raw = b"Subject: x\n\nHello,\n" + s.TEXT * 100 + s.binhex("invoice.zip", zipped) + b"bye\n"
    spool = Spool(Rules(endings=EXE, workdir=str(tmp_path)))
    names = walk(io.BytesIO(raw), (), leaves=spool)
    assert isinstance(names.finding, Finding)
    assert (names.finding.kind, names.finding.text) == (NAME, "invoice.zip/x.exe")
    from simscan.mail.inline import files

    assert list(files(s.binhex("r\u00e9sum\u00e9.bin", b"\x90\x90xyz").splitlines(), 1000)) == [
        ("r\u00e9sum\u00e9.bin", b"\x90\x90xyz")
    ]


def test_a_zip_behind_other_data_inside_a_zip(tmp_path: Path) -> None:
    inner = b"%PDF-1.4\n" + b"%" * 100000 + s.zip_of([("x.exe", s.PE)])
    outer = s.zip_of([("docs/invoice.pdf", inner)])
    finding, _ = inspect(tmp_path, ("docs.zip", outer))
    assert finding is not None
    assert (finding.kind, finding.text) == (LIMIT, "docs.zip/docs/invoice.pdf")
    assert finding.why == "a zip after other data, not kept to be read"


@pytest.mark.parametrize(
    ("rules", "want"),
    [
        ({}, (NAME, "big.zip/z/x.exe")),
        ({"depth": 0}, None),  # (archives are not opened: as C)
        ({"depth": 0, "types": ("executable",)}, None),  # (the zip itself is typed)
        ({"depth": 1, "types": ("executable",)}, (NAME, "big.zip/z/x.exe")),
    ],
)
def test_a_big_archive_is_kept_when_anything_looks_inside(
    tmp_path: Path, rules: dict[str, object], want: tuple[str, str] | None
) -> None:
    data = s.zip_of([("a/filler.bin", os.urandom(100000)), ("z/x.exe", s.PE)], 0)
    assert len(data) > 65536
    finding, _ = inspect(tmp_path, ("big.zip", data), **rules)
    got = None if finding is None else (finding.kind, finding.text)
    assert got == want


def test_a_udf_disc_image_fails_closed(tmp_path: Path) -> None:
    image = bytearray(s.iso_of(tmp_path, [("a.txt", b"hi")]))
    at = image.index(b"CD001", 0x8000)
    image[at + 0x800 : at + 0x805] = b"NSR02"  # a UDF descriptor after the ISO one
    finding, _ = inspect(tmp_path, ("cd.iso", bytes(image)))
    assert finding is not None
    assert (finding.kind, finding.text) == (LIMIT, "cd.iso")
    assert finding.why == "a UDF disc image (its UDF names cannot be read)"


def test_which_reading_found_a_name(tmp_path: Path) -> None:
    data = _patch_zip_name(s.zip_of([("x.txt", s.TEXT)]), b"x.txt", b"x.exe", b"PK\x01\x02")
    finding, _ = inspect(tmp_path, ("a.zip", data))
    assert finding is not None and finding.why == "a zip header's name"


def test_inline_files_are_watched_with_types_alone(tmp_path: Path) -> None:
    import binascii

    lines = b"".join(binascii.b2a_uu(s.PE[i : i + 45]) for i in range(0, len(s.PE), 45))
    raw = b"Subject: x\n\n" + b"begin 644 notes.txt\n" + lines + b"`\nend\n"
    for rules, want in (({"depth": 0, "types": ("executable",)}, TYPE), ({"depth": 0}, None)):
        spool = Spool(Rules(workdir=str(tmp_path), **rules))  # type: ignore[arg-type]
        names = walk(io.BytesIO(raw), (), leaves=spool)
        got = names.finding.kind if isinstance(names.finding, Finding) else None
        assert got == want
