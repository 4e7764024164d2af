"""End to end: looking inside attachments (archives, TNEF, file types,
macros, encryption, bombs) and policy_merge, through the installed simscan
and simscanmk, with the C texts' wording for each refusal."""

from pathlib import Path

import pytest
import samples as s
from harness import Outcome, Site, envelope
from test_e2e_basic import parse_log

ENV = envelope(b"sender@example.org", b"joe@example.com")
BAD = b"DYour email was rejected because it contains a bad attachment: "
ENCRYPTED = b"DYour email was rejected because it contains an encrypted attachment: "
TOO_BIG = (
    b"DYour email was rejected because an attachment is too large or too deeply nested to check: "
)


@pytest.fixture
def blocking(site: Site) -> Site:
    (site.control / "ssattach").write_text(".exe\n.scr\n.lnk\n")
    site.configure(attach=True, custom_smtp_reject=True)
    return site


def refused(out: Outcome, text: bytes) -> dict[str, bytes]:
    """The refusal: exit 82 with `text` on fd 4, nothing queued, no work
    dir left, one log line with state ATTACH and the text's argument."""
    assert out.exit_code == 82, out.stderr
    assert out.custom_text == text
    assert out.records == []
    assert out.workdirs_left == []
    (line,) = out.log_lines
    fields = parse_log(line)
    assert fields["state"] == b"ATTACH"
    assert fields["detail"] == text.split(b": ", 1)[1]
    return fields


def queued(out: Outcome, raw: bytes) -> None:
    assert out.exit_code == 0, out.stderr
    assert [r.message for r in out.records] == [raw]
    assert out.workdirs_left == []


def test_an_exe_inside_a_zip(blocking: Site) -> None:
    raw = s.message(("invoice.zip", s.zip_of([("docs/x.exe", s.PE)])))
    refused(blocking.run(raw, ENV), BAD + b"invoice.zip/docs/x.exe")


def test_a_harmless_zip_passes_unchanged(blocking: Site) -> None:
    raw = s.message(("invoice.zip", s.zip_of([("docs/a.pdf", s.PDF), ("b.txt", s.TEXT)])))
    queued(blocking.run(raw, ENV), raw)


@pytest.mark.parametrize(
    ("name", "inside"),
    [
        ("clam.7z", "clam.exe"),
        ("clam.cab", "clam.exe"),
        ("clam.tar.gz", "clam.exe"),
        ("clam.newc.cpio", "clam.exe"),
        ("clam.tnef", "clam.exe"),
        ("clam.exe.bz2", "clam.exe"),
    ],
)
def test_clamav_testfiles(blocking: Site, name: str, inside: str) -> None:
    raw = s.message((name, (s.TESTFILES / name).read_bytes()))
    refused(blocking.run(raw, ENV), BAD + f"{name}/{inside}".encode())


def test_a_renamed_program(blocking: Site) -> None:
    blocking.configure(attach=True, custom_smtp_reject=True, block_types=["executable"])
    raw = s.message(("report.pdf", s.PE))
    refused(blocking.run(raw, ENV), BAD + b"report.pdf (executable)")
    raw = s.message(("invoice.zip", s.zip_of([("readme.txt", s.ELF)])))
    refused(blocking.run(raw, ENV), BAD + b"invoice.zip/readme.txt (executable)")


def test_types_are_off_by_default(blocking: Site) -> None:
    iso = s.iso_of(blocking.root, [("a.txt", b"hi")])
    raw = s.message(("report.pdf", s.PE), ("photos.iso", iso))
    queued(blocking.run(raw, ENV), raw)


@pytest.mark.parametrize(
    ("label", "data", "category"),
    [
        ("a.pdf", s.LNK, "shortcut"),
        ("a.pdf", s.VHD_FIXED, "disk-image"),
        ("a.doc", s.DOC_WITH_MACROS, "macro"),
        ("a.docm", s.DOCM, "macro"),
    ],
)
def test_each_category(site: Site, label: str, data: bytes, category: str) -> None:
    site.configure(attach=True, custom_smtp_reject=True, block_types=[category])
    refused(site.run(s.message((label, data)), ENV), BAD + f"{label} ({category})".encode())


def test_an_iso(blocking: Site) -> None:
    iso = s.iso_of(blocking.root, [("setup.exe", s.PE)])
    fields = refused(blocking.run(s.message(("cd.iso", iso)), ENV), BAD + b"cd.iso/setup.exe")
    assert fields["rcpts"] == b"joe@example.com"
    blocking.configure(attach=True, custom_smtp_reject=True, block_types=["disk-image"])
    iso = s.iso_of(blocking.root, [("a.txt", b"hi")])
    refused(blocking.run(s.message(("cd.zip", iso)), ENV), BAD + b"cd.zip (disk-image)")


def test_nested_at_and_past_the_depth(blocking: Site) -> None:
    raw = s.message(("n.zip", s.nested_zip(3)))
    refused(blocking.run(raw, ENV), BAD + b"n.zip/layer1.zip/layer2.zip/x.exe")
    raw = s.message(("n.zip", s.nested_zip(4, "a.txt", b"hi")))
    out = blocking.run(raw, ENV)
    refused(out, TOO_BIG + b"n.zip/layer1.zip/layer2.zip/layer3.zip")
    assert out.warnings == [
        b"attachment check: n.zip/layer1.zip/layer2.zip/layer3.zip: archives nested deeper"
        b" than 3; refused (archive_over_limit)"
    ]


def test_depth_0_is_the_c_behaviour(blocking: Site) -> None:
    blocking.configure(attach=True, custom_smtp_reject=True, archive_depth=0)
    raw = s.message(("invoice.zip", s.zip_of([("x.exe", s.PE)])))
    queued(blocking.run(raw, ENV), raw)


def test_a_bomb(blocking: Site) -> None:
    bomb = s.zip_bomb(120 << 20)  # past 100 MB, and a ratio of about 1000
    out = blocking.run(s.message(("bomb.zip", bomb)), ENV)
    refused(out, TOO_BIG + b"bomb.zip/zeros.bin")
    (warning,) = out.warnings
    assert warning.startswith(b"attachment check: bomb.zip/zeros.bin: ")


def test_too_many_members_and_pass(blocking: Site) -> None:
    blocking.configure(attach=True, custom_smtp_reject=True, archive_max_members=5)
    many = s.zip_of([(f"f{i}.txt", b"x") for i in range(6)])
    raw = s.message(("many.zip", many))
    refused(blocking.run(raw, ENV), TOO_BIG + b"many.zip")
    blocking.configure(
        attach=True, custom_smtp_reject=True, archive_max_members=5, archive_over_limit="pass"
    )
    out = blocking.run(raw, ENV)
    queued(out, raw)
    assert out.warnings == [b"attachment check: many.zip: more than 5 members; not checked further"]


def test_encrypted(blocking: Site, tmp_path: Path) -> None:
    data = s.seven_zip(tmp_path, [("notes.txt", s.TEXT)], "secret", kind="zip")
    raw = s.message(("secret.zip", data), body=b"The password is secret.\n")
    out = blocking.run(raw, ENV)
    queued(out, raw)
    assert out.warnings == [
        b"attachment check: secret.zip/notes.txt: encrypted, its content not checked"
    ]
    blocking.clear_queue()
    blocking.configure(attach=True, custom_smtp_reject=True, block_encrypted=True)
    refused(blocking.run(raw, ENV), ENCRYPTED + b"secret.zip")
    hidden = s.seven_zip(tmp_path, [("x.txt", s.TEXT)], "pw", encrypt_names=True)
    refused(blocking.run(s.message(("h.7z", hidden)), ENV), ENCRYPTED + b"h.7z")


def test_block_encrypted_alone_runs_the_check(site: Site, tmp_path: Path) -> None:
    site.configure(attach=True, custom_smtp_reject=True, block_encrypted=True)
    data = s.seven_zip(tmp_path, [("notes.txt", s.TEXT)], "secret")
    refused(site.run(s.message(("s.7z", data)), ENV), ENCRYPTED + b"s.7z")


def test_a_bidi_name_is_shown_safely(blocking: Site) -> None:
    raw = s.message(("invoice.zip", s.zip_of([("photo\u202egpj.exe", s.PE)])))
    refused(blocking.run(raw, ENV), BAD + b"invoice.zip/photo<U+202E>gpj.exe")
    raw = s.message(("bill\u200b.e\u200bxe", s.TEXT))
    refused(blocking.run(raw, ENV), BAD + b"bill<U+200B>.e<U+200B>xe")


def test_a_zero_width_name_on_a_part(blocking: Site) -> None:
    raw = s.message(("x.\uff45\uff58\uff45", s.TEXT))  # full-width "exe"
    refused(blocking.run(raw, ENV), BAD + "x.\uff45\uff58\uff45".encode())


def test_the_spool_files_are_gone_after_a_refusal(blocking: Site) -> None:
    big = s.zip_of([("filler.bin", bytes(200000)), ("in.zip", s.zip_of([("x.exe", s.PE)]))])
    out = blocking.run(s.message(("big.zip", big)), ENV)
    refused(out, BAD + b"big.zip/in.zip/x.exe")


# --- per domain: types= and policy_merge ---------------------------------------------


def test_types_per_domain(site: Site) -> None:
    site.configure(attach=True, per_domain=True, custom_smtp_reject=True)
    made = site.simcontrol(":attach=.scr\nexample.com:types=executable\n")
    assert made.returncode == 0, made.stderr
    raw = s.message(("report.pdf", s.PE))
    refused(site.run(raw, ENV), BAD + b"report.pdf (executable)")
    queued(site.run(raw, envelope(b"a@example.org", b"b@elsewhere.example")), raw)


def test_simscanmk_checks_types(site: Site) -> None:
    (site.control / "simcontrol").write_text("example.com:types=executable:programs\n")
    made = site.simscanmk()
    assert made.returncode != 0
    assert b"line 1: types has an unknown file type category 'programs'" in made.stderr


TWO = envelope(b"sender@example.org", b"ann@strict.example", b"bob@lax.example")


@pytest.mark.parametrize(("merge", "refuses"), [("last", False), ("strictest", True)])
def test_policy_merge(site: Site, merge: str, refuses: bool) -> None:
    site.configure(attach=True, per_domain=True, custom_smtp_reject=True, policy_merge=merge)
    made = site.simcontrol("strict.example:attach=.exe\nlax.example:attach=.txt\n")
    assert made.returncode == 0, made.stderr
    raw = s.message(("x.exe", s.TEXT))
    out = site.run(raw, TWO)
    if refuses:
        refused(out, BAD + b"x.exe")
    else:
        queued(out, raw)


# --- ways past the check a hostile review found -----------------------------------


def test_a_zip_behind_a_picture(blocking: Site) -> None:
    data = b"GIF89a" + bytes(200) + s.zip_of([("x.exe", s.PE)])
    refused(blocking.run(s.message(("photo.gif", data)), ENV), BAD + b"photo.gif/x.exe")
    data = b"%PDF-1.4\n" + b"%" * 100000 + s.zip_of([("a.txt", s.TEXT)])
    out = blocking.run(s.message(("report.pdf", data)), ENV)
    refused(out, TOO_BIG + b"report.pdf")
    assert out.warnings == [
        b"attachment check: report.pdf: a zip after other data, not kept to be read;"
        b" refused (archive_over_limit)"
    ]


def test_a_zip_uuencoded_into_the_text(blocking: Site) -> None:
    import binascii

    zipped = s.zip_of([("x.exe", s.PE)])
    lines = b"".join(binascii.b2a_uu(zipped[i : i + 45]) for i in range(0, len(zipped), 45))
    raw = (
        b"From: a@example.org\nSubject: see below\n\nHi,\n\n"
        b"begin 644 invoice.zip\n" + lines + b"`\nend\n\nBye\n"
    )
    refused(blocking.run(raw, ENV), BAD + b"invoice.zip/x.exe")


def test_every_tnef_name(blocking: Site) -> None:
    data = s.tnef(("x.exe", b"hi", [s.mapi_string(0x3704, "x.txt")]))
    refused(blocking.run(s.message(("winmail.dat", data)), ENV), BAD + b"winmail.dat/x.exe")
    data = s.tnef(("a.txt", b"hi", [])) + s.tnef_object(2, 0x9005, 6, b"\xff\xff\xff\xff")
    out = blocking.run(s.message(("winmail.dat", data)), ENV)
    refused(out, TOO_BIG + b"winmail.dat")


def test_a_file_embedded_in_a_document(blocking: Site) -> None:
    doc = s.doc_with_package("setup.exe", s.PE)
    refused(blocking.run(s.message(("report.doc", doc)), ENV), BAD + b"report.doc/setup.exe")
