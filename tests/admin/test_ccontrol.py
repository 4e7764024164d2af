"""The C simscan's control files as `simscanmk --from-c` reads them: each
simcontrol line as the C simscanmk compiled it (the cases below were run
through simscanmk 1.4.6.2) against simscanmk's reading, ssattach, and the
spam size cap (simsizelimit, spamc's -s)."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import tinycdb

from simscan.admin import ccontrol
from simscan.admin.cbuild import Recovery
from simscan.admin.ccontrol import CrashesC, c_record


@pytest.mark.parametrize(
    ("line", "record"),
    [
        (b"Me@Example.com:clam=yes,attach=.TXT", (b"me@example.com", b"clam=yes,attach=.txt")),
        (b":clam=yes,spam=yes,regex=Viagra", (b"", b"clam=yes,spam=yes,regex=Viagra")),
        (b":Clam=YES\r", (b"", b"Clam=YES")),
        (b":", (b"", b"")),
        (b"# site policy", (b"site", b"policy")),
        (b"# example.com: spam=no", (b"example.com", b" spam=no")),
        (b"#commented.org:clam=no", (b"commented.org", b"clam=no")),
        (b"foo.com clam=yes", (b"foo.com", b"clam=yes")),
        (b"example.net :clam=no", (b"example.net", b":clam=no")),
        (b"\tfoo.org:spam=yes\r", (b"foo.org", b"spam=yes")),
        (b"x.com: ", (b"x.com", b" ")),
        (b"q.com:a\rb", (b"q.com", b"a")),
        (b"MX.Example.com:clam=no", (b"mx.example.com", b"clam=no")),
        (b":\r\rXclam=yes", (b"", b"Xclam=yes")),
        (b"a.com:\rXyz", (b"a.com", b"xyz")),
        (b"", None),
        (b"   ", None),
        (b"#", None),
    ],
)  # fmt: skip
def test_lines_as_the_c_simscanmk_compiled_them(
    line: bytes, record: tuple[bytes, bytes] | None
) -> None:
    assert c_record(line) == record


@pytest.mark.parametrize("line", [b"B.com", b"a.com:", b"  # x.org", b"a.com:\r"])
def test_lines_the_c_simscanmk_crashed_on(line: bytes) -> None:
    with pytest.raises(CrashesC):
        c_record(line)


def control(tmp_path: Path, simcontrol: bytes | None = None, ssattach: bytes | None = None) -> Path:
    for name, data in (("simcontrol", simcontrol), ("ssattach", ssattach)):
        if data is not None:
            (tmp_path / name).write_bytes(data)
    return tmp_path


def check(directory: Path, **values: object) -> Recovery:
    recovery = Recovery()
    for name, value in values.items():
        recovery.set(name, value, "test")
    ccontrol.check(str(directory), recovery)
    return recovery


SIMCONTROL = (
    b"# our policy\n"
    b":clam=yes,spam=yes,attach=.exe:pif:\xe9xe\n"
    b"# lists.example.net:spam=no\n"
    b"example.net :spam=no\n"
    b"a.example.com:\n"
    b"bob@example.com:spam_hits=20,size_limit=100000\n"
    b"# joe@localhost: clam=no\n"
    b"# /var/qmail/doc/simcontrol.txt: read it\n"
    b"# caf\xe9.example: clam=no\n"
)


def test_what_simscanmk_reads_otherwise(tmp_path: Path) -> None:
    recovery = check(control(tmp_path, SIMCONTROL), spam=True, per_domain=True)
    path = tmp_path / "simcontrol"
    assert recovery.gaps == []
    assert recovery.notes == [
        f"{path} line 2: 'pif' has no dot: the C simscan blocked every name ending in 'pif',"
        " with a dot before it or not; simscan blocks only 'pif' and names ending in '.pif'",
        f"{path} line 2: '\ufffdxe' has no dot: the C simscan blocked every name ending in"
        " '\ufffdxe', with a dot before it or not; simscan blocks only '\ufffdxe' and names"
        " ending in '.\ufffdxe'",
        f"{path} line 3 is a comment to simscanmk, but the C simscanmk compiled it into the"
        " rule key 'lists.example.net', value 'spam=no': if the C simscan was to apply it,"
        " make it a rule line",
        f"{path} line 4: the C simscanmk read it as key 'example.net', value ':spam=no',"
        " simscanmk as key 'example.net', value 'spam=no'",
        f"{path} line 5: the C simscanmk crashes on it (a key with nothing after it), so the"
        " simcontrol.cdb in use was built before the line was there",
        f"{path} line 6: spam_hits=20: the C simscan, built without --enable-spam-hits,"
        " ignored it; simscan refuses spam at that score",
        f"{path} line 7 is a comment to simscanmk, but the C simscanmk compiled it into the"
        " rule key 'joe@localhost', value ' clam=no': if the C simscan was to apply it, make"
        " it a rule line",
        f"{path} line 9 is a comment to simscanmk, but the C simscanmk compiled it into the"
        " rule key 'caf\ufffd.example', value ' clam=no': if the C simscan was to apply it,"
        " make it a rule line",
        f"{path}: 4 rules, which simscanmk compiles as they are",
    ]


def test_size_limit_in_simcontrol_before_144(tmp_path: Path) -> None:
    recovery = Recovery()
    recovery.set("spam", True, "test")
    recovery.size_rule, recovery.hits_compiled = "spamc", True
    ccontrol.check(str(control(tmp_path, b"bob@example.com:size_limit=100000\n")), recovery)
    assert recovery.notes[0] == (
        f"{tmp_path}/simcontrol line 1: size_limit=100000: the C simscan before 1.4.4 ignored"
        " it; simscan applies it"
    )


def test_size_limit_in_simcontrol_from_144(tmp_path: Path) -> None:
    recovery = Recovery()
    recovery.set("spam", True, "test")
    recovery.size_rule, recovery.hits_compiled = "builtin", True
    ccontrol.check(str(control(tmp_path, b"bob@example.com:size_limit=100000\n")), recovery)
    assert recovery.notes == [
        f"{tmp_path}/simcontrol: 1 rule, which simscanmk compiles as they are"
    ]


def test_control_files_that_cannot_be_read(tmp_path: Path) -> None:
    (tmp_path / "simcontrol").mkdir()
    (tmp_path / "simcontrol.cdb").write_bytes(b"not a cdb at all")
    assert check(tmp_path).notes == [
        f"cannot read {tmp_path}/simcontrol (Is a directory)",
        f"{tmp_path}/simcontrol.cdb is there but not {tmp_path}/simcontrol: simscan reads the"
        " cdb as it is; keep a simcontrol beside it to change it with simscanmk",
    ]
    (tmp_path / "simcontrol").rmdir()
    control(tmp_path, b":clam=yes\n")
    assert check(tmp_path).notes[-1] == f"cannot read {tmp_path}/simcontrol.cdb (Format Error)"


def test_lines_simscanmk_refuses(tmp_path: Path) -> None:
    text = b":clam=yes\nexample.com clam=no\nexample.org:clam=maybe,foo=bar\n"
    recovery = check(control(tmp_path, text))
    path = tmp_path / "simcontrol"
    assert recovery.gaps == [
        f"{path} line 2: simscanmk refuses it (no ':' after the address or domain), where the"
        " C simscanmk took it; fix it before simscanmk builds simcontrol.cdb",
        f"{path} line 3: simscanmk refuses it (clam must be yes or no, not 'maybe'), where the"
        " C simscanmk took it; fix it before simscanmk builds simcontrol.cdb",
    ]


@pytest.mark.parametrize(
    ("made_by", "stale"),
    [("c", False), ("ours", False), ("other", True)],
)
def test_is_the_cdb_what_simcontrol_compiles_to(tmp_path: Path, made_by: str, stale: bool) -> None:
    text = b"# site policy\n:clam=yes\nexample.com:spam=no\nexample.com:clam=no\n"
    control(tmp_path, text)
    ours = [(b"", b"clam=yes"), (b"example.com", b"spam=no"), (b"example.com", b"clam=no")]
    records = {
        "c": [(b"site", b"policy"), *ours],
        "ours": ours,
        "other": ours[:2],
    }[made_by]
    tinycdb(tmp_path / "simcontrol.cdb", records)
    notes = check(tmp_path).notes
    assert (
        f"{tmp_path}/simcontrol.cdb is not what simcontrol compiles to (simcontrol edited since"
        " the last simscanmk?): the C simscan used the cdb; run simscanmk to build it from"
        " simcontrol"
    ) in notes or not stale
    assert len(notes) == 1 + stale


def test_a_cdb_without_simcontrol(tmp_path: Path) -> None:
    tinycdb(tmp_path / "simcontrol.cdb", [(b"", b"clam=yes")])
    assert check(tmp_path).notes == [
        f"{tmp_path}/simcontrol.cdb is there but not {tmp_path}/simcontrol: simscan reads the"
        " cdb as it is; keep a simcontrol beside it to change it with simscanmk"
    ]


@pytest.mark.parametrize(
    ("values", "use"),
    [({"attach": True}, "read as the C simscan read them (attach = true, per_domain = false)"),
     ({"attach": True, "per_domain": True},
      "not read with per_domain = true (nor was it by the C simscan): simcontrol's attach= apply"),
     ({}, "not read: attach = false (nor was it by the C simscan)")],
)  # fmt: skip
def test_ssattach(tmp_path: Path, values: dict[str, object], use: str) -> None:
    text = b".exe\n#comment\nSCR\n.pif junk\nlnk:x\n#caf\xe9\n"
    recovery = check(control(tmp_path, ssattach=text), **values)
    path = tmp_path / "ssattach"
    assert recovery.notes == [
        f"{path}: 4 extensions, {use}",
        f"{path} line 2: '#comment' is a comment to simscan; the C simscan blocked names"
        " ending in it",
        f"{path} line 3: 'scr' has no dot: the C simscan blocked every name ending in 'scr',"
        " with a dot before it or not; simscan blocks only 'scr' and names ending in '.scr'",
        f"{path} line 5: 'lnk' has no dot: the C simscan blocked every name ending in 'lnk',"
        " with a dot before it or not; simscan blocks only 'lnk' and names ending in '.lnk'",
        f"{path} line 6: '#caf\ufffd' is a comment to simscan; the C simscan blocked names"
        " ending in it",
    ]


@pytest.mark.parametrize(
    ("text", "limit"),
    [(b"300000\n", 300000), (b"300000abc", 300000), (b" 300000\n", None), (b"abc", None),
     (b"0\n", None), (b"-5", None), (None, None), (b"1", 1), (b"+300000", 300000),
     (b"999999", 999999), (b"300:1", 300), (b"", None)],
)  # fmt: skip
def test_simsizelimit(tmp_path: Path, text: bytes | None, limit: int | None) -> None:
    if text is not None:
        (tmp_path / "simsizelimit").write_bytes(text)
    recovery = Recovery()
    recovery.set("spam", True, "test")
    recovery.size_rule = "file"
    ccontrol.check(str(tmp_path), recovery)
    assert recovery.get("size_limit") == limit
    if limit:
        assert recovery.values["size_limit"].origin == (
            f"{tmp_path}/simsizelimit (simscan 1.4.2 and 1.4.3 read it)"
        )
    note = f"{tmp_path}/simsizelimit is not read by simscan: size_limit says it"
    assert recovery.notes == ([] if text is None else [note])


@pytest.mark.parametrize(("args", "limit"), [("", 512001), ("-U /x -s 1000000", 1000001)])
def test_before_142_spamc_capped_it(tmp_path: Path, args: str, limit: int) -> None:
    recovery = Recovery()
    recovery.set("spam", True, "test")
    recovery.set("spamc_args", args, "test")
    recovery.size_rule, recovery.version = "spamc", "1.4.0"
    ccontrol.check(str(tmp_path), recovery)
    assert recovery.get("size_limit") == limit
    assert recovery.values["size_limit"].origin == (
        "simscan 1.4.0 had no size limit of its own: spamc scanned up to its -s"
        f" ({limit - 1} bytes)"
    )


def test_spamc_capped_a_version_unknown(tmp_path: Path) -> None:
    recovery = Recovery()
    recovery.set("spam", True, "test")
    recovery.size_rule = "spamc"
    ccontrol.check(str(tmp_path), recovery)
    assert recovery.values["size_limit"].origin == (
        "this C simscan had no size limit of its own: spamc scanned up to its -s (512000 bytes)"
    )


def test_no_spam_no_size_limit(tmp_path: Path) -> None:
    recovery = Recovery()
    recovery.size_rule = "spamc"
    ccontrol.check(str(tmp_path), recovery)
    assert "size_limit" not in recovery.values
