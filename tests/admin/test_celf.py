"""A C simscan binary read by its strings: ELF data sections (or the
whole file), the paths configure compiled in, the traces of the switches,
and what no string tells."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from cfake import MK_COMMON, build, junk_elf, setuid, simscan_strings, tiny_elf

from simscan.admin import celf, cstrings
from simscan.admin.cbuild import MigrateError, Recovery

PATHS = [
    "/var/qmail/simscan",
    "/var/qmail/control",
    "/var/qmail/bin/qmail-queue",
    "/usr/bin/clamdscan",
    "/usr/bin/spamc",
    "-U /tmp/spamd.sock",
    "/var/qmail/quarantine",
    "/usr/bin/ripmime",
]
OPTIONS = [
    "clamav", "attach", "per_domain", "custom_smtp_reject", "spam", "no_spam_auth_user",
    "spam_hits", "size_limit", "received", "quarantine",
]  # fmt: skip
MK_PATHS = ["/usr/bin/spamassassin", "/usr/bin/clamdscan", "/var/lib/clamav", "/usr/bin/sigtool",
            "/var/qmail/control"]  # fmt: skip

needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc (scripts/install-deps)")


def install(tmp_path: Path, paths: list[str] = PATHS, options: list[str] = OPTIONS,
            version: str = "1.4.6.2", mk: bool = True) -> Path:  # fmt: skip
    """A C install: bin/simscan (setuid) and, with `mk`, bin/simscanmk."""
    (tmp_path / "bin").mkdir(exist_ok=True)
    binary = build(tmp_path / "bin" / "simscan", simscan_strings(version, paths, options))
    setuid(binary)
    if mk:
        build(tmp_path / "bin" / "simscanmk", [*MK_COMMON, *MK_PATHS])
    return binary


def recover(binary: Path) -> Recovery:
    recovery = Recovery()
    mk = binary.with_name("simscanmk")
    read_mk = celf.read(str(mk), "simscanmk") if mk.exists() else None
    cstrings.from_binary(celf.read(str(binary)), read_mk, recovery)
    return recovery


def values(recovery: Recovery) -> dict[str, object]:
    return {name: value.value for name, value in recovery.values.items()}


@needs_gcc
def test_strings_are_read_from_the_data_sections(tmp_path: Path) -> None:
    binary = build(tmp_path / "simscan", ["/var/qmail/simscan", "simscan version: %s"])
    found = celf.read(str(binary)).strings
    assert "/var/qmail/simscan" in found and "simscan version: %s" in found
    assert not any(s.startswith("/lib") for s in found)  # .interp is left out
    assert "GCC: (" not in " ".join(found)  # .comment: not loaded, not read


def test_strings_of_a_file_without_sections(tmp_path: Path) -> None:
    texts = celf.strings(junk_elf(["/var/qmail/simscan", "abc", "simscan version: %s"]))
    assert [t.text for t in texts] == ["/var/qmail/simscan", "simscan version: %s"]
    assert all(t.nul for t in texts)
    assert texts[0].address == 32  # its offset in the file
    texts = celf.strings(b"\x7fELF\x02\x01\x01\x80simscan\x80" + b"\x80" * 32 + b"/var/qmail")
    assert [(t.text, t.address, t.nul) for t in texts] == [
        ("simscan", 8, False), ("/var/qmail", 48, False)
    ]  # fmt: skip


SECTIONS = [
    (".rodata", 1, 2, b"\0simscan version: %s\0/var/qmail/simscan\0"),
    (".text", 1, 6, b"\0a string in code\0"),
    (".data", 1, 3, b"\0a writable string\0"),
    (".wonly", 1, 1, b"\0not loaded\0"),
    (".interp", 1, 2, b"/lib64/ld-linux-x86-64.so.2\0"),
    (".note.x", 7, 2, b"\0a note string\0"),
]


@pytest.mark.parametrize("wide", [True, False], ids=["64-bit", "32-bit"])
@pytest.mark.parametrize("big", [False, True], ids=["little-endian", "big-endian"])
def test_the_sections_of_any_elf(wide: bool, big: bool) -> None:
    data = tiny_elf(SECTIONS, wide, big)
    start = 0x40 if wide else 0x34
    assert [(t.text, t.address) for t in celf.strings(data)] == [
        ("simscan version: %s", 0x1000 + start + 1),
        ("/var/qmail/simscan", 0x1000 + start + 21),
        ("a writable string", 0x1000 + start + 40 + 18 + 1),
    ]


def test_section_headers_past_the_end_mean_no_sections() -> None:
    data = bytearray(tiny_elf(SECTIONS[:1], True, False))
    data[0x28:0x30] = (len(data) - 10).to_bytes(8, "little")
    assert "a writable string" not in [t.text for t in celf.strings(bytes(data))]
    assert "simscan version: %s" in [t.text for t in celf.strings(bytes(data))]  # whole file


def test_a_vector_constant_is_a_cut_string() -> None:
    assert celf.cut(celf.Text("-U /tmp/spamd.socdb_seek error 1", 0x70F0, True))
    assert celf.cut(celf.Text("-U /var/run/spamd/spamd.sock -x ", 0x7100, True))
    assert celf.cut(celf.Text("-U /tmp/spamd.so", 0x7100, False))
    assert not celf.cut(celf.Text("-U /tmp/spamd.sock", 0x7100, True))  # NUL at 18
    assert not celf.cut(celf.Text("-U /tmp/spamd.so", 0x7101, False))  # not aligned
    assert not celf.cut(celf.Text("-d 10.0.0.1", 0x7100, True))


@pytest.mark.parametrize(
    ("strings", "version"),
    [(["1.4.6.2", "simscan version: %s"], "1.4.6.2"),
     (["simscan version 1.4.0"], "1.4.0"),
     (["1.4.1", "2.2.5", "simscan version: %s"], ""),
     (["simscan version: %s"], "")],
)  # fmt: skip
def test_version(tmp_path: Path, strings: list[str], version: str) -> None:
    path = tmp_path / "simscan"
    path.write_bytes(junk_elf(strings))
    assert celf.version(celf.read(str(path))) == version


def test_a_string_that_ends_another() -> None:
    binary = celf.Binary("simscan", [celf.Text("STATE ATTACH", 0, True)], os.stat("/"))
    assert binary.has("ATTACH") and binary.has("STATE ATTACH") and not binary.has("STATE")
    assert binary.starts("STATE") and not binary.starts("ATTACH")


@pytest.mark.parametrize("gcc", [True, False], ids=["gcc", "junk"])
def test_everything_the_strings_tell(tmp_path: Path, gcc: bool) -> None:
    if gcc and shutil.which("gcc") is None:
        pytest.skip("gcc (scripts/install-deps)")
    (tmp_path / "bin").mkdir()
    binary = build(tmp_path / "bin" / "simscan", simscan_strings("1.4.6.2", PATHS, OPTIONS), gcc)
    setuid(binary)
    build(tmp_path / "bin" / "simscanmk", [*MK_COMMON, *MK_PATHS], gcc)
    recovery = recover(binary)
    assert values(recovery) == {
        "user": "nobody" if os.geteuid() == 0 else setuid(binary),
        "clamav": True,
        "per_domain": True,
        "attach": True,
        "regex": False,
        "custom_smtp_reject": True,
        "dropmsg": False,
        "spam": True,
        "received": True,
        "spam_passthru": False,
        "clamdscan": "/usr/bin/clamdscan",
        "spamc": "/usr/bin/spamc",
        "qmail_queue": "/var/qmail/bin/qmail-queue",
        "workdir": "/var/qmail/simscan",
        "controldir": "/var/qmail/control",
        "quarantinedir": "/var/qmail/quarantine",
        "spamassassin_path": "/usr/bin/spamassassin",
        "sigtool_path": "/usr/bin/sigtool",
        "clamavdb_path": "/var/lib/clamav",
        "spam_auth_user": False,
        "spamc_args": "-U /tmp/spamd.sock",
    }
    assert recovery.version == "1.4.6.2"
    assert recovery.hits_compiled and recovery.size_rule == "builtin"
    origin = {name: value.origin for name, value in recovery.values.items()}
    user = values(recovery)["user"]
    has = "the binary has"
    assert origin == {
        "user": f"--enable-user (the binary is setuid {user})",
        "clamav": f"--enable-clamav ({has} a clamdscan path)",
        "per_domain": f"--enable-per-domain ({has} '%s/simcontrol.cdb')",
        "attach": f"--enable-attach ({has} 'ATTACH')",
        "regex": "--enable-regex (not compiled in: no 'REGEX' in the binary)",
        "custom_smtp_reject": f"--enable-custom-smtp-reject ({has} 'DYour email')",
        "dropmsg": "--enable-dropmsg (not compiled in: no 'VIRUS DROPPED' in the binary)",
        "spam": f"--enable-spam ({has} 'X-Spam-Flag: YES')",
        "received": f"--enable-received ({has} 'Received: (simscan')",
        "spam_passthru": "--enable-spam-passthru (not compiled in: no 'PASSTHRU' in the binary)",
        "clamdscan": f"--enable-clamdscan ({has} '/usr/bin/clamdscan')",
        "spamc": f"--enable-spamc ({has} '/usr/bin/spamc')",
        "qmail_queue": f"--enable-qmail-queue ({has} '/var/qmail/bin/qmail-queue')",
        "workdir": f"--enable-workdir ({has} '/var/qmail/simscan')",
        "controldir": f"--enable-controldir ({has} '/var/qmail/control')",
        "quarantinedir": f"--enable-quarantinedir ({has} '/var/qmail/quarantine')",
        "spamassassin_path": f"--enable-spamassassin-path ({has} '/usr/bin/spamassassin')",
        "sigtool_path": f"--enable-sigtool-path ({has} '/usr/bin/sigtool')",
        "clamavdb_path": f"--enable-clamavdb-path ({has} '/var/lib/clamav')",
        "spam_auth_user": "--enable-spam-auth-user (off: the binary checks RELAYCLIENT)",
        "spamc_args": f"--enable-spamc-args ({has} '-U /tmp/spamd.sock')",
    }
    assert recovery.sources == [
        f"{binary} (simscan 1.4.6.2, its strings)",
        f"{tmp_path}/bin/simscanmk (its strings)",
    ]
    assert recovery.gaps == [
        "--enable-spam-hits: compiled in (the binary has the SPAM PASS state), but its number"
        " is in no string; set spam_hits: with SIMSCAN_DEBUG=1 (in tcp.smtp, for one client)"
        " the C simscan logs it as 'tmpHits: N' for each spam-scanned message",
        "--enable-spamc-user: compiled in or not, no string tells; with it on, spamc got -u"
        " with the first recipient, so spamd's log named recipients as users"
        " ('for joe@example.com')",
    ]
    assert recovery.notes == [
        "--enable-ripmime (/usr/bin/ripmime): not needed, simscan reads MIME itself",
        "--enable-spamc-args: read from the binary as '-U /tmp/spamd.sock'; gcc may keep a"
        " compiled-in string in pieces, so check it against where spamd listens",
    ]


@needs_gcc
def test_a_lean_build_and_no_simscanmk(tmp_path: Path) -> None:
    paths = ["/opt/qmail/simscan", "/opt/qmail/control", "/opt/qmail/bin/qmail-queue",
             "/usr/local/bin/clamdscan", "/usr/local/bin/trophie.sock"]  # fmt: skip
    binary = install(
        tmp_path, paths, ["clamav", "dropmsg", "received", "trophie"], "1.3.1", mk=False
    )
    recovery = recover(binary)
    got = values(recovery)
    assert (got["clamav"], got["dropmsg"], got["spam"], got["attach"]) == (True, True, False, False)
    assert got["qmaildir"] == "/opt/qmail"
    assert got["trophie_socket"] == "/usr/local/bin/trophie.sock"
    assert "spam_passthru" not in got and "spam_auth_user" not in got
    mk = tmp_path / "bin" / "simscanmk"
    assert recovery.gaps == [
        "--enable-spamassassin-path, --enable-clamavdb-path, --enable-sigtool-path: only in"
        f" simscanmk, and there is none at {mk}; simscanmk -g uses spamassassin_path,"
        " clamavdb_path and sigtool_path (Debian's paths by default)",
        f"--enable-trophie-path: only in simscanmk, and there is none at {mk}; set"
        " trophie_path for simscanmk -g",
    ]
    assert recovery.notes == [
        "simscan 1.3.1: the switches were read from traces of simscan 1.4's code; check them"
    ]


@needs_gcc
def test_spam_auth_user_dspam_and_the_size_limit_file(tmp_path: Path) -> None:
    options = ["spam", "simsizelimit", "dspam", "spam_passthru"]
    recovery = recover(install(tmp_path, [*PATHS[:5]], options, "1.4.3"))
    got = values(recovery)
    assert (got["spam_passthru"], got["spam_auth_user"]) == (True, False)  # dspam has RELAYCLIENT
    assert recovery.size_rule == "file" and not recovery.hits_compiled
    assert recovery.gaps[0] == (
        "--enable-dspam: simscan has no DSPAM scanner; spam = true scans with SpamAssassin"
        ' (or spam_client = "rspamd")'
    )
    recovery = recover(install(tmp_path, [*PATHS[:5]], ["spam"], "1.4.1"))
    assert values(recovery)["spam_auth_user"] is True  # no RELAYCLIENT check
    assert recovery.values["spam_auth_user"].origin == (
        "--enable-spam-auth-user (no RELAYCLIENT check in the binary)"
    )
    assert recovery.size_rule == "spamc"


@needs_gcc
def test_spamc_args_that_are_not_there(tmp_path: Path) -> None:
    recovery = recover(install(tmp_path, PATHS[:5], ["spam", "no_spam_auth_user"]))
    assert "spamc_args" not in recovery.values
    assert recovery.gaps[-1] == (
        "--enable-spamc-args: none in the binary: none were given, or gcc built short ones"
        " with inline code; check where spamd listens (its --socketpath, or -d and -p)"
        " (ps -o args -C spamd)"
    )


def test_spamc_args_cut_by_the_compiler() -> None:
    binary = celf.Binary(
        "simscan", [celf.Text("-U /tmp/spamd.socdb_seek error 1", 0x70F0, True)], os.stat("/")
    )
    recovery = Recovery()
    cstrings._spamc_args(binary, recovery)
    assert recovery.gaps == [
        "--enable-spamc-args: only their start is in the binary, '-U /tmp/spamd.so' (gcc keeps"
        " a long constant string as 16-byte pieces and copies the rest with inline code);"
        " check where spamd listens (ps -o args -C spamd)"
    ]


@needs_gcc
def test_the_work_dir_by_elimination(tmp_path: Path) -> None:
    work = tmp_path / "scanning"
    work.mkdir()
    paths = [str(work), "/var/qmail/control", "/var/qmail/bin/qmail-queue", "/bin/true"]
    recovery = recover(install(tmp_path, paths, [], mk=False))
    assert values(recovery)["workdir"] == str(work)
    assert recovery.values["workdir"].origin.endswith("(the one existing dir among its paths)")
    assert recovery.notes == [
        "the binary also has the path '/bin/true', which is none simscanmk knows"
    ]


@needs_gcc
def test_nothing_looks_like_the_work_dir(tmp_path: Path) -> None:
    recovery = recover(install(tmp_path, ["/var/qmail/bin/qmail-queue"], [], mk=False))
    assert recovery.gaps == [
        "--enable-workdir: no path in the binary looks like it (where the C simscan made a"
        " dir per message)",
        "--enable-controldir: no path in the binary looks like it (where simcontrol and"
        " ssattach are)",
    ]


@needs_gcc
def test_a_binary_that_is_not_setuid(tmp_path: Path) -> None:
    binary = install(tmp_path, PATHS[:3], [], mk=False)
    binary.chmod(0o755)
    recovery = recover(binary)
    assert "user" not in recovery.values
    assert recovery.gaps == [
        "--enable-user: the binary is not setuid (mode 0755), so the user it ran as is not"
        " known; the C install made it setuid to that user (mode 4711), and the work dir is"
        " that user's (ls -ld the work dir)"
    ]


def test_errors_an_admin_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def error(path: Path | str, what: str = "") -> str:
        with pytest.raises(MigrateError) as err:
            celf.read(str(path), what) if what else celf.read(str(path))
        return str(err.value)

    assert error(tmp_path / "nope") == f"{tmp_path}/nope: no such file (give the C simscan binary)"
    script = tmp_path / "script"
    script.write_text("#!/usr/bin/python3 -IS\nimport time\n")
    assert error(script) == (
        f"{script} is not an ELF binary (it starts with '#!/usr/bin/python3 -IS': a script);"
        " give the C simscan binary"
    )
    other = tmp_path / "ls"
    other.write_bytes(junk_elf(["/usr/share/locale", "GNU coreutils"]))
    assert error(other) == f"{other} is an ELF binary but not simscan (no 'simscan' in its strings)"
    mk = tmp_path / "simscanmk"
    mk.write_bytes(junk_elf(MK_COMMON))
    assert error(mk) == f"{mk} is simscanmk; give the simscan binary beside it"
    for lines in (MK_COMMON[:1], MK_COMMON[1:2]):
        mk.write_bytes(junk_elf(lines))
        assert error(mk) == f"{mk} is simscanmk; give the simscan binary beside it"
        assert celf.read(str(mk), "simscanmk").path == str(mk)
    simscan = tmp_path / "simscan"
    simscan.write_bytes(junk_elf(["simscan version: %s"]))
    assert error(simscan, "simscanmk") == f"{simscan} is not simscanmk"
    assert error(tmp_path) == f"{tmp_path} is not a file"
    script.write_bytes(b"#!/opt/py\xc3\xa9/python3\n")
    assert error(script) == (
        f"{script} is not an ELF binary (it starts with '#!/opt/py\ufffd\ufffd/python3': a"
        " script); give the C simscan binary"
    )
    text = tmp_path / "notes"
    text.write_bytes(b"hello\n")
    assert error(text) == f"{text} is not an ELF binary; give the C simscan binary"
    assert error("/proc/self/mem") == "cannot read /proc/self/mem (Input/output error)"
    monkeypatch.setattr(celf, "MAX_SIZE", 2 << 20)
    big = tmp_path / "big"
    big.write_bytes(junk_elf(["simscan version: %s"]).ljust((2 << 20) + 1, b"\0"))
    assert error(big) == f"{big} is over 2 MB: not simscan"
    big.write_bytes(junk_elf(["simscan version: %s"]).ljust(2 << 20, b"\0"))
    assert celf.read(str(big)).strings == ["simscan version: %s"]


def junk(tmp_path: Path, strings: list[str], mk: list[str] | None = None) -> Recovery:
    """What the strings of a (junk) simscan, and simscanmk, tell."""
    (tmp_path / "bin").mkdir(exist_ok=True)
    binary = build(
        tmp_path / "bin" / "simscan", ["simscan version: %s", "1.4.6.2", *strings], False
    )
    setuid(binary)
    if mk is not None:
        build(tmp_path / "bin" / "simscanmk", [*MK_COMMON, *mk], False)
    return recover(binary)


@pytest.mark.parametrize("trace", ["VIRUS DROPPED", "SPAM DROPPED"])
def test_either_dropped_state_is_dropmsg(tmp_path: Path, trace: str) -> None:
    assert junk(tmp_path, [trace]).get("dropmsg") is True


def test_clamav_by_its_trace_and_trophie_without_a_socket(tmp_path: Path) -> None:
    recovery = junk(tmp_path, ["simscan:[%d]: clamdscan detected a virus",
                               "simscan:[%d]: trophie found virus"])  # fmt: skip
    assert recovery.get("clamav") is True and "clamdscan" not in recovery.values
    assert "--enable-trophie-socket: compiled in, but no socket path in the binary" in recovery.gaps


def test_spamc_arguments_among_the_c_sources_dashes(tmp_path: Path) -> None:
    dashes = ["--disable-qmail-bounce", "--stdout", "--client", "--debug", "--user",
              "--feature=chained,noise", "--deliver=innocent,spam"]  # fmt: skip
    recovery = junk(tmp_path, ["X-Spam-Flag: YES", "/usr/bin/spamc", *dashes, "-d 10.0.0.5"])
    assert recovery.get("spamc_args") == "-d 10.0.0.5"
    recovery = junk(tmp_path, ["X-Spam-Flag: YES", "/usr/bin/spamc", "-d 10.0.0.5", "-x -t 60"])
    assert "spamc_args" not in recovery.values
    assert (
        "--enable-spamc-args: several strings could be them: '-d 10.0.0.5', '-x -t 60'; check"
        " where spamd listens"
    ) in recovery.gaps


def test_spam_without_spamc(tmp_path: Path) -> None:
    recovery = junk(tmp_path, ["X-Spam-Flag: YES", "/var/qmail/simscan", "/var/qmail/control"])
    assert "--enable-spamc: no spamc path in the binary" in recovery.gaps
    assert (
        "--enable-qmail-queue: no path in the binary looks like it (the program it handed"
        " messages to)"
    ) in recovery.gaps


def test_paths_that_are_no_settings(tmp_path: Path) -> None:
    recovery = junk(tmp_path, [
        "/var/qmail/simscan", "/var/qmail/control", "/var/qmail/bin/qmail-queue",
        "/usr/bin/dspam", "/lib64/ld-linux-x86-64.so.2", "/lib/x.so", "/usr/lib/y.so",
        "/usr/lib64/z.so", "/", "/var/qmail/control/", "/opt/X11/thing",
    ])  # fmt: skip
    assert recovery.notes == [
        "the binary also has the path '/opt/X11/thing', which is none simscanmk knows"
    ]


@pytest.mark.parametrize(
    ("path", "setting"),
    [("/var/run/sophie", "trophie_socket"), ("/var/run/trophie.sock", "trophie_socket")],
)
def test_trophie_and_sophie(tmp_path: Path, path: str, setting: str) -> None:
    assert junk(tmp_path, [path]).get(setting) == path


def test_trophie_binary_in_simscanmk(tmp_path: Path) -> None:
    recovery = junk(tmp_path, ["/var/run/trophie.sock"], ["/usr/local/bin/trophie"])
    assert recovery.get("trophie_path") == "/usr/local/bin/trophie"
    assert recovery.get("trophie_socket") == "/var/run/trophie.sock"
    assert recovery.values["trophie_socket"].origin == (
        "--enable-trophie-socket (the binary has '/var/run/trophie.sock')"
    )
    assert recovery.values["trophie_path"].origin == (
        "--enable-trophie-path (the binary has '/usr/local/bin/trophie')"
    )


def test_a_work_dir_by_name_wins_over_an_existing_dir(tmp_path: Path) -> None:
    other = tmp_path / "scan"
    other.mkdir()
    recovery = junk(tmp_path, ["/var/qmail/simscan", str(other)])
    assert recovery.get("workdir") == "/var/qmail/simscan"


def test_a_work_dir_by_elimination_under_a_simscan_dir(tmp_path: Path) -> None:
    work = tmp_path / "simscan-old" / "work"
    work.mkdir(parents=True)
    recovery = junk(tmp_path, [str(work)])
    assert recovery.values["workdir"].origin == (
        f"--enable-workdir (the binary has '{work}') (the one existing dir among its paths)"
    )


@pytest.mark.parametrize(
    ("paths", "qmaildir"),
    [(["/opt/qmail/quarantine"], "/opt/qmail"), (["/opt/qmail/bin/qmail-queue"], "/opt/qmail"),
     (["/opt/qmail/control"], "/opt/qmail"),
     (["/etc/qmail/control", "/opt/q/quarantine"], "/opt/q"),
     (["/control"], None), (["/var/qmail/control"], None), (["/opt/qmail/bin/qq"], None)],
)  # fmt: skip
def test_qmaildir_from_the_paths_under_it(
    tmp_path: Path, paths: list[str], qmaildir: str | None
) -> None:
    recovery = junk(tmp_path, paths)
    assert recovery.get("qmaildir") == qmaildir
    if qmaildir:
        assert recovery.values["qmaildir"].origin.startswith("--enable-qmaildir (from '")


@pytest.mark.parametrize(
    ("strings", "clamav"),
    [(["/usr/bin/clamdscan"], True), (["simscan:[%d]: clamdscan detected a virus"], True),
     (["clamdscan", "--stdout"], False)],
)  # fmt: skip
def test_clamav_by_path_or_trace(tmp_path: Path, strings: list[str], clamav: bool) -> None:
    assert junk(tmp_path, strings).get("clamav") is clamav


def test_a_binary_without_a_version(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    binary = build(
        tmp_path / "bin" / "simscan", ["simscan version: %s", "/var/qmail/simscan"], False
    )
    recovery = recover(binary)
    assert recovery.version == ""
    assert recovery.sources == [f"{binary} (version unknown, its strings)"]
