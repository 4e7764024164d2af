"""A C simscan binary read by its strings: ELF data sections (or the
whole file), the paths configure compiled in, the traces of the switches,
and what no string tells."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from cfake import MK_COMMON, build, junk_elf, setuid, simscan_strings

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


@needs_gcc
def test_everything_the_strings_tell(tmp_path: Path) -> None:
    binary = install(tmp_path)
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
    assert origin["attach"] == "--enable-attach (the binary has 'ATTACH')"
    assert origin["regex"] == "--enable-regex (not compiled in: no 'REGEX' in the binary)"
    assert origin["workdir"] == "--enable-workdir (the binary has '/var/qmail/simscan')"
    assert (
        origin["spam_auth_user"] == "--enable-spam-auth-user (off: the binary checks RELAYCLIENT)"
    )
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


def test_errors_an_admin_reads(tmp_path: Path) -> None:
    def error(path: Path, what: str = "simscan") -> str:
        with pytest.raises(MigrateError) as err:
            celf.read(str(path), what)
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
    assert error(tmp_path, "simscan") == f"{tmp_path} is not a file"
