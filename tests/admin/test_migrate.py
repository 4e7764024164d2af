"""`simscanmk --from-c`, run as an admin runs it: on a C install with the
config.log of its build (tests/data/c-simscan), on the binary alone, and
the errors an admin reads.  The file written loads with simscan's own
settings loader."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from cfake import MK_COMMON, build, setuid, simscan_strings
from harness import simscanmk_command, tinycdb

from simscan.config import settings

DATA = Path(__file__).resolve().parents[1] / "data" / "c-simscan"
CONFIG_LOG = DATA / "config.log"

# The simscan 1.4.0 that config.log configured: its paths and traces.
PATHS_140 = [
    "/var/qmail/simscan", "/var/qmail/control", "/var/qmail/bin/qmail-queue",
    "/usr/local/bin/clamdscan", "/usr/bin/spamc", "-U /tmp/spamd.sock", "/var/qmail/quarantine",
    "/usr/local/bin/ripmime",
]  # fmt: skip
OPTIONS_140 = [
    "clamav", "attach", "per_domain", "custom_smtp_reject", "spam", "no_spam_auth_user",
    "spam_hits", "spam_passthru", "received", "quarantine",
]  # fmt: skip
# What the C simscanmk made of tests/data/c-simscan/simcontrol.
C_RECORDS = [
    (b"/var/qmail/control/simcontrol", b"of the c simscan"),
    (b"", b"clam=yes,spam=yes,attach=.exe:.scr:.com:pif"),
    (b"example.com", b"spam=no,attach=.exe:.zip"),
    (b"postmaster@example.com", b"clam=no"),
    (b"lists.example.net", b"spam=no"),
    (b"bob-lists@example.net", b"spam_hits=20"),
]

needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc (scripts/install-deps)")


def simscanmk(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*simscanmk_command(), *args], capture_output=True, text=True, check=False, cwd=cwd,
        env={"PATH": os.environ["PATH"]}, timeout=60,
    )  # fmt: skip


def c_install(tmp_path: Path, paths: list[str], options: list[str], version: str) -> Path:
    (tmp_path / "bin").mkdir()
    binary = build(tmp_path / "bin" / "simscan", simscan_strings(version, paths, options))
    setuid(binary, "clamav")
    return binary


def c_control(tmp_path: Path) -> Path:
    """The C install's control dir: simcontrol, its cdb as the C
    simscanmk made it, ssattach."""
    control = tmp_path / "control"
    control.mkdir()
    for name in ("simcontrol", "ssattach"):
        shutil.copy(DATA / name, control / name)
    tinycdb(control / "simcontrol.cdb", C_RECORDS)
    return control


def loaded(path: Path) -> dict[str, object]:
    """The settings the file gives, through simscan's own loader, where
    they are not the defaults."""
    config = settings.load({"SIMSCAN_CONFIG": str(path)})
    default = settings.Settings()
    return {
        n: getattr(config, n) for n in settings.names() if getattr(config, n) != getattr(default, n)
    }


@needs_gcc
def test_from_the_config_log(tmp_path: Path) -> None:
    binary = c_install(tmp_path, PATHS_140, OPTIONS_140, "1.4.0")
    control = c_control(tmp_path)
    out = tmp_path / "simscan.toml"
    done = simscanmk("--from-c", str(binary), "--config-log", str(CONFIG_LOG),
                     "--control-dir", str(control), "-o", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert loaded(out) == {
        "user": "clamav",
        "clamdscan": "/usr/local/bin/clamdscan",
        "custom_smtp_reject": True,
        "per_domain": True,
        "attach": True,
        "spam": True,
        "spam_passthru": True,
        "spam_hits": 12.5,
        "spamc_args": "-U /tmp/spamd.sock",
        "quarantinedir": "/var/qmail/quarantine",
        "received": True,
        "size_limit": 512001,
    }
    text = out.read_text()
    assert (
        "# '--enable-spamc-args=-U /tmp/spamd.sock'\nspamc_args = \"-U /tmp/spamd.sock\"\n" in text
    )
    assert "# --enable-spam-hits=12.5\nspam_hits = 12.5\n" in text
    assert '# --enable-user=clamav\nuser = "clamav"\n' in text
    assert (
        "# --enable-clamdscan not given: configure found it (#define CLAMDSCAN)\n"
        'clamdscan = "/usr/local/bin/clamdscan"\n'
    ) in text
    assert "Not carried over" not in text
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    user = "clamav" if os.geteuid() == 0 else setuid(binary)
    setuid_note = [] if user == "clamav" else [
        f"config.log gives user 'clamav', but {binary} is setuid {user}"
    ]  # fmt: skip
    assert done.stderr.splitlines() == [
        f"simscanmk: read {CONFIG_LOG}: ./configure --enable-user=clamav --enable-clamav=y"
        " --enable-custom-smtp-reject=y --enable-per-domain=y --enable-attach --enable-spam=y"
        " --enable-spam-hits=12.5 --enable-spam-passthru=y '--enable-spamc-args=-U"
        " /tmp/spamd.sock' --enable-received=yes --enable-quarantinedir=/var/spool/quarantine"
        " --enable-ripmime=/usr/local/bin/ripmime --enable-regex=n --enable-dropmsg=no"
        " --prefix=/usr",
        f"simscanmk: read {binary} (checked against config.log)",
        "simscanmk: note: --enable-quarantinedir=/var/spool/quarantine: the C configure ignores"
        " the dir given and quarantines in /var/qmail/quarantine; quarantinedir keeps"
        " /var/qmail/quarantine",
        "simscanmk: note: --enable-ripmime=/usr/local/bin/ripmime: not needed, simscan reads"
        " MIME itself",
        *(f"simscanmk: note: {n}" for n in setuid_note),
        f"simscanmk: note: {control}/simcontrol line 2: 'pif' has no dot: the C simscan blocked"
        " every name ending in 'pif', with a dot before it or not; simscan blocks only 'pif'"
        " and names ending in '.pif'",
        f"simscanmk: note: {control}/simcontrol line 5 is a comment to simscanmk, but the C"
        " simscanmk compiled it into the rule key 'lists.example.net', value 'spam=no': if the"
        " C simscan was to apply it, make it a rule line",
        f"simscanmk: note: {control}/simcontrol: 4 rules, which simscanmk compiles as they are",
        f"simscanmk: note: {control}/ssattach: 2 extensions, not read with per_domain = true"
        " (nor was it by the C simscan): simcontrol's attach= apply",
        f"simscanmk: note: the control files were read in {control}; controldir stays"
        " /var/qmail/control, the C build's",
        f"simscanmk: note: the C simscan ran setuid {user} in /var/qmail/simscan; simscan runs"
        " as qmail-smtpd's user: if `simscan config` says that user cannot create work dirs"
        " there, give simscan a work dir of its own while both run (README, 'Migrating from"
        " the C simscan')",
        "simscanmk: note: received = true: run simscanmk -g from this install (and from"
        " freshclam's OnUpdateExecute) so that the Received line has the scanners' versions",
        f"simscanmk: wrote {out}",
    ]


@needs_gcc
def test_from_the_binary_alone(tmp_path: Path) -> None:
    qmail = tmp_path / "qmail"
    paths = [f"{qmail}/simscan", f"{qmail}/control", f"{qmail}/bin/qmail-queue",
             "/usr/bin/clamdscan", "/usr/bin/spamc", "-U /tmp/spamd.sock",
             f"{qmail}/quarantine"]  # fmt: skip
    options = ["clamav", "attach", "custom_smtp_reject", "spam", "no_spam_auth_user", "spam_hits",
               "size_limit", "quarantine", "ssattach", "dropmsg"]  # fmt: skip
    binary = c_install(tmp_path, paths, options, "1.4.6.2")
    build(tmp_path / "bin" / "simscanmk", [*MK_COMMON, f"{qmail}/control"])
    (qmail / "control").mkdir(parents=True)
    (qmail / "control" / "ssattach").write_text(".exe\n.com\n")
    (qmail / "quarantine").mkdir()
    for name in ("msg.1733400000.123456.4242", "msg.1733400001.5.4243"):
        (qmail / "quarantine" / name).write_text("Subject: a virus\n\n")
    done = simscanmk("--from-c", str(binary))
    assert done.returncode == 0, done.stderr
    out = tmp_path / "simscan.toml"
    out.write_text(done.stdout)
    user = "clamav" if os.geteuid() == 0 else setuid(binary)
    assert loaded(out) == {
        "user": user,
        "custom_smtp_reject": True,
        "attach": True,
        "dropmsg": True,
        "spam": True,
        "spamc_args": "-U /tmp/spamd.sock",
        "quarantinedir": f"{qmail}/quarantine",
        "qmaildir": str(qmail),
        "workdir": f"{qmail}/simscan",
        "controldir": f"{qmail}/control",
        "qmail_queue": f"{qmail}/bin/qmail-queue",
    }
    spam_hits_gap = (
        "--enable-spam-hits: compiled in (the binary has the SPAM PASS state), but its number is"
        " in no string; set spam_hits: with SIMSCAN_DEBUG=1 (in tcp.smtp, for one client) the"
        " C simscan logs it as 'tmpHits: N' for each spam-scanned message"
    )
    spamc_user_gap = (
        "--enable-spamc-user: compiled in or not, no string tells; with it on, spamc got -u with"
        " the first recipient, so spamd's log named recipients as users ('for joe@example.com')"
    )
    assert done.stdout.endswith(
        "\n# Not carried over (simscanmk --from-c said so on stderr too):\n"
        f"# {spam_hits_gap}\n# {spamc_user_gap}\n"
    )
    assert "# --enable-attach (the binary has 'ATTACH')\nattach = true\n" in done.stdout
    assert done.stderr.splitlines() == [
        f"simscanmk: read {binary} (simscan 1.4.6.2, its strings)",
        f"simscanmk: read {tmp_path}/bin/simscanmk (its strings)",
        f"simscanmk: not carried over: {spam_hits_gap}",
        f"simscanmk: not carried over: {spamc_user_gap}",
        "simscanmk: note: --enable-spamc-args: read from the binary as '-U /tmp/spamd.sock'; gcc"
        " may keep a compiled-in string in pieces, so check it against where spamd listens",
        f"simscanmk: note: {qmail}/control/ssattach: 2 extensions, read as the C simscan read"
        " them (attach = true, per_domain = false)",
        f"simscanmk: note: the C simscan ran setuid {user} in {qmail}/simscan; simscan runs as"
        " qmail-smtpd's user: if `simscan config` says that user cannot create work dirs there,"
        " give simscan a work dir of its own while both run (README, 'Migrating from the C"
        " simscan')",
        f"simscanmk: note: {qmail}/quarantine has 2 messages the C simscan quarantined (msg.*,"
        " the message alone); they stay, and `simscan quarantine` lists only its own entries",
    ]


@needs_gcc
def test_never_over_a_file_without_force(tmp_path: Path) -> None:
    binary = c_install(tmp_path, PATHS_140, OPTIONS_140, "1.4.0")
    out = tmp_path / "simscan.toml"
    out.write_text("spam = true\n")
    args = ["--from-c", str(binary), "-o", str(out)]
    done = simscanmk(*args)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == f"simscanmk: {out} exists; nothing written (--force replaces it)\n"
    assert out.read_text() == "spam = true\n"
    done = simscanmk(*args, "--force")
    assert done.returncode == 0, done.stderr
    assert loaded(out)["spamc_args"] == "-U /tmp/spamd.sock"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin", "simscan.toml"]  # no temp left


@needs_gcc
def test_the_equals_form_and_a_relative_output(tmp_path: Path) -> None:
    binary = c_install(tmp_path, PATHS_140, OPTIONS_140, "1.4.0")
    done = simscanmk(f"--from-c={binary}", "-o", "new.toml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert loaded(tmp_path / "new.toml")["spam"] is True


def test_errors_an_admin_reads(tmp_path: Path) -> None:
    def run(*args: str) -> tuple[int, str, str]:
        done = simscanmk(*args)
        return done.returncode, done.stdout, done.stderr

    missing = tmp_path / "simscan"
    assert run("--from-c", str(missing)) == (
        1, "", f"simscanmk: {missing}: no such file (give the C simscan binary)\n"
    )  # fmt: skip
    script = Path(simscanmk_command()[0]).with_name("simscan")
    assert run("--from-c", str(script)) == (
        1, "", f"simscanmk: {script} is not an ELF binary (it starts with '#!/usr/bin/python3"
        " -IS': a script); give the C simscan binary\n",
    )  # fmt: skip
    true = Path(shutil.which("true") or "/bin/true")
    assert run("--from-c", str(true)) == (
        1, "", f"simscanmk: {true} is an ELF binary but not simscan (no 'simscan' in its strings)\n"
    )  # fmt: skip
    binary = tmp_path / "bin" / "simscan"
    binary.parent.mkdir()
    build(binary, simscan_strings("1.4.6.2", PATHS_140[:3], []))
    nolog = tmp_path / "config.log"
    assert run("--from-c", str(binary), "--config-log", str(nolog)) == (
        1, "", f"simscanmk: {nolog}: no such file\n"
    )  # fmt: skip
    nolog.write_text("It was created by simscan configure 1.4.0, which was\n\n## Platform. ##\n")
    assert run("--from-c", str(binary), "--config-log", str(nolog)) == (
        1, "", f"simscanmk: {nolog} has no configure command line (a line like '  $ ./configure"
        " --enable-...'): is it the config.log of simscan's build?\n",
    )  # fmt: skip
    code, out, err = run("--from-c")
    assert (code, out) == (2, "")
    assert err.endswith("simscanmk --from-c: error: argument --from-c: expected one argument\n")


def test_the_usage_names_from_c() -> None:
    done = simscanmk("--help")
    assert done.returncode == 1
    assert (
        "       simscanmk --from-c BINARY [--config-log FILE] [--control-dir DIR]"
        " [-o FILE [--force]]\n"
    ) in done.stderr


def test_the_control_dir_follows_qmaildir() -> None:
    from simscan.admin import migrate
    from simscan.admin.cbuild import Recovery

    recovery = Recovery()
    assert migrate._controldir(recovery) == "/var/qmail/control"
    recovery.set("qmaildir", "/opt/qmail", "test")
    assert migrate._controldir(recovery) == "/opt/qmail/control"
    recovery.set("controldir", "/etc/qmail", "test")
    assert migrate._controldir(recovery) == "/etc/qmail"


def test_a_comment_stays_on_its_line() -> None:
    from simscan.admin import migrate
    from simscan.admin.cbuild import Recovery

    recovery = Recovery()
    recovery.sources.append("config.log: ./configure '--enable-user=a\nb'")
    recovery.set("spamc_args", "-U /tmp/a b", "'--enable-spamc-args=-U /tmp/a\tb'\nspam = true")
    recovery.gap("--enable-x", "one\ntwo")
    text = migrate.toml_text(recovery)
    assert settings.from_text(text, "-").spamc_args == "-U /tmp/a b"
    assert settings.from_text(text, "-").spam is False
    assert "# '--enable-spamc-args=-U /tmp/a\\tb'\\nspam = true\n" in text


def test_a_value_simscan_refuses_is_not_carried_over() -> None:
    from simscan.admin import migrate
    from simscan.admin.cbuild import Recovery

    recovery = Recovery()
    recovery.set("spamc_args", "-c -U /x", "'--enable-spamc-args=-c -U /x'")
    recovery.set("workdir", "tmp/work", "--enable-workdir=tmp/work")
    text = migrate.toml_text(recovery)
    assert settings.from_text(text, "-") == settings.Settings()
    assert recovery.gaps == [
        "--enable-spamc-args: '-c -U /x': simscan refuses it (-c in spamc_args changes what"
        " spamc prints, got '-c -U /x')",
        "--enable-workdir: 'tmp/work': simscan refuses it (expected an absolute path, got"
        " 'tmp/work')",
    ]
