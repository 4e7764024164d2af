"""What a message costs in imports: every module is one more file found,
read and run per message, so the per-message set is pinned here, and the
expensive ones simscan keeps off that path are named."""

import os
import re
from pathlib import Path

import pytest
from daemons import Clamd, CountingProxy, Rspamd, Spamd
from harness import Site, simscan_command, tinycdb
from test_e2e_basic import ENV, MESSAGE
from test_e2e_virus import EICAR_MAIL

IMPORT = re.compile(rb"^import time:\s+\d+ \|\s+\d+ \|( *)(\S+)$", re.M)

# A clean message, the Received line on, no scanners: cli and the rooms it
# needs (each room's empty __init__ counts).
CLEAN_PATH = {
    "simscan", "simscan.cli", "simscan.errors", "simscan.report", "simscan.verdict",
    "simscan.config", "simscan.config.settings", "simscan.config.tomlflat",
    "simscan.config.policy",
    "simscan.qmail", "simscan.qmail.queue", "simscan.qmail.handoff", "simscan.qmail.workdir",
    "simscan.scan", "simscan.scan.base", "simscan.scan.pipeline",
}  # fmt: skip

# Each costs milliseconds, or is a whole module for a one-line use.
NEVER = {
    "__future__", "typing", "re", "enum", "socket", "subprocess", "dataclasses",
    "email", "tomllib", "signal", "json", "argparse", "shlex", "select", "fcntl",
    "termios", "struct", "collections", "functools", "contextlib", "pathlib",
    "prometheus_client",
    # os builds os.environ (importing _collections_abc) and posixpath:
    # ~0.9 ms; the per-message path uses posix, os's own C core.
    "os", "posixpath", "_collections_abc",
}  # fmt: skip


def imported(site: Site, **settings: object) -> set[str]:
    """The modules a run imports: bin/simscan run as its first line runs
    it (-I -S), with -X importtime (PYTHONPROFILEIMPORTTIME is ignored
    under -I)."""
    site.configure(**settings)
    (script,) = simscan_command()
    with open(script) as f:
        assert f.readline() == "#!/usr/bin/python3 -IS\n"
    command = ["/usr/bin/python3", "-I", "-S", "-X", "importtime", script]
    out = site.run(MESSAGE, ENV, command=command)
    assert out.exit_code == 0, out.stderr
    return {m.group(2).decode() for m in IMPORT.finditer(out.stderr)}


def test_a_clean_message_imports_only_its_path(site: Site) -> None:
    modules = imported(site, received=True)
    assert {m for m in modules if m.startswith("simscan")} == CLEAN_PATH
    assert modules & NEVER == set()
    # (so nothing of the admin's commands, simscanmk --from-c's included)
    assert not any(m.startswith("simscan.admin") for m in modules)


PER_DOMAIN = {"cdbx", "simscan.config.simcontrol"}
ATTACH = {
    "simscan.scan.checks",
    "simscan.mail",
    "simscan.mail.mime",
    "simscan.mail.headers",
    "simscan.mail.lines",
    # Looking inside attachments: the names, the gate (sniff) and the spool.
    # libarchive, libmagic, oletools and tnefparse only for a body the gate
    # lets through (tests/mail/test_content.py).
    "simscan.mail.names",
    "simscan.mail.sniff",
    "simscan.mail.content",
}


@pytest.mark.parametrize(
    ("settings", "control", "more"),
    [
        ({"per_domain": True}, {"simcontrol": ":clam=no\n"}, PER_DOMAIN),
        ({"attach": True}, {"ssattach": ".exe\n"}, ATTACH),
        (
            {"per_domain": True, "attach": True},
            {"simcontrol": ":attach=.exe\n"},
            PER_DOMAIN | ATTACH,
        ),
    ],
    ids=["per_domain", "attach", "both"],
)
def test_a_feature_imports_what_it_needs_only_when_on(
    site: Site, settings: dict[str, object], control: dict[str, str], more: set[str]
) -> None:
    for name, text in control.items():
        if name == "simcontrol":
            site.simcontrol(text)
        else:
            (site.control / name).write_text(text)
    modules = imported(site, received=True, **settings)
    assert {m for m in modules if m.startswith("simscan") or m == "cdbx"} == CLEAN_PATH | more
    assert modules & NEVER == set()


REGEX = {"simscan.scan.checks", "simscan.mail", "simscan.mail.lines", "simscan.mail.mime",
         "simscan.mail.headers", "simscan.mail.names"}  # fmt: skip


@pytest.mark.parametrize(
    ("patterns", "needs_re"),
    [
        ("verify-your-account:wiretransfer:lottery", False),
        ("verify.your.account", True),
        ("wiretransfer:^Subject.*viagra", True),
        ("a\\b", True),
    ],
)
def test_literal_regexes_need_no_re(site: Site, patterns: str, needs_re: bool) -> None:
    site.simcontrol(f":regex={patterns}\n")
    modules = imported(site, received=True, per_domain=True, regex=True)
    assert {m for m in modules if m.startswith("simscan") or m == "cdbx"} == (
        CLEAN_PATH | PER_DOMAIN | REGEX
    )
    assert ("re" in modules) is needs_re
    brought_by_re = {"re", "enum", "functools", "collections", "_collections_abc"}
    assert modules & (NEVER - brought_by_re) == set()


def test_python_variables_in_qmail_smtpds_environment_are_ignored(site: Site, tmp_path) -> None:
    # -I: PYTHONPATH, PYTHONSTARTUP, PYTHONINSPECT, PYTHONHOME... do nothing
    evil = tmp_path / "evil"
    evil.mkdir()
    for name in ("sitecustomize.py", "usercustomize.py", "os.py", "cdbx.py"):
        (evil / name).write_text(f"open({str(tmp_path / 'ran')!r}, 'a').write({name!r})\n")
    (evil / "simscan").mkdir()
    (evil / "simscan" / "__init__.py").write_text("raise SystemExit(99)\n")
    env = site.env(
        PYTHONPATH=str(evil),
        PYTHONSTARTUP=str(evil / "os.py"),
        PYTHONINSPECT="1",
        PYTHONPROFILEIMPORTTIME="1",
        PYTHONUSERBASE=str(evil),
        PYTHONWARNINGS="error",
    )
    site.simcontrol(":attach=.exe\n")
    site.configure(per_domain=True, attach=True)
    out = site.run(MESSAGE, ENV, env=env)
    assert out.exit_code == 0, out.stderr
    assert not (tmp_path / "ran").exists()
    assert b"import time" not in out.stderr
    assert len(out.records) == 1


def test_bin_simscan_finds_its_package_through_links(site: Site, tmp_path) -> None:
    """qmail's QMAILQUEUE names /var/qmail/bin/simscan, often a link to the
    venv's script, or a link to a link, relative or not, or the venv's bin
    directory itself is linked: each finds the venv's package (and not by
    loading site: that is the -S start's whole point)."""
    (script,) = simscan_command()
    venv_bin = Path(script).parent
    links = tmp_path / "links"
    links.mkdir()
    (links / "absolute").symlink_to(script)
    (links / "chain").symlink_to("absolute")  # relative, to a link
    (links / "bin").symlink_to(venv_bin)  # a linked bin directory
    deep = tmp_path / "var" / "qmail" / "bin"
    deep.mkdir(parents=True)
    (deep / "simscan").symlink_to(os.path.relpath(links / "chain", deep))
    site.configure(received=True)
    commands = [links / "absolute", links / "chain", links / "bin" / "simscan", deep / "simscan"]
    for runs, command in enumerate(commands, 1):
        argv = ["/usr/bin/python3", "-I", "-S", "-X", "importtime", str(command)]
        out = site.run(MESSAGE, ENV, command=argv)
        assert out.exit_code == 0, (command, out.stderr)
        assert len(out.records) == runs
        modules = {m.group(2).decode() for m in IMPORT.finditer(out.stderr)}
        assert "site" not in modules, command
        assert modules >= CLEAN_PATH


def test_bin_simscan_run_from_its_own_directory(site: Site) -> None:
    (script,) = simscan_command()
    site.configure(received=True)
    here = Path(script).parent
    out = site.run(MESSAGE, ENV, command=["/bin/sh", "-c", f"cd '{here}' && exec ./simscan"])
    assert out.exit_code == 0, out.stderr


SCANNERS = {
    "simscan.scan.virus", "simscan.scan.spam", "simscan.wire", "simscan.wire.netio",
    "simscan.wire.clamd", "simscan.wire.spamd", "_socket",
    "cdbx",  # the Received line names the versions simscanmk -g recorded
}  # fmt: skip


def test_clamd_and_spamd_spoken_to_directly_import_only_their_path(
    site: Site, clamd: Clamd, spamd: Spamd
) -> None:
    """What most sites run: clamd and spamd on unix sockets, per message,
    with the versions `simscanmk -g` recorded for the Received line."""
    tinycdb(site.control / "simversions.cdb", [(b"clamav", b"1.0.9"), (b"spam", b"4.0.1")])
    modules = imported(
        site,
        received=True,
        clamav=True,
        clamd=str(clamd.socket),
        clamavdb_path=str(clamd.db),
        spam=True,
        spamd=str(spamd.socket),
    )
    ours = {m for m in modules if m.startswith("simscan") or m in ("_socket", "cdbx")}
    assert ours == CLEAN_PATH | SCANNERS
    assert modules & NEVER == set()


def test_no_simversions_cdb_no_cdbx(site: Site, clamd: Clamd) -> None:
    """Without simversions.cdb (no `simscanmk -g` yet) the Received line
    says `unknown` and cdbx is not loaded to find that out."""
    modules = imported(site, received=True, clamav=True, clamd=str(clamd.socket))
    assert "cdbx" not in modules


# The clamd path: its scanner and protocol; with several endpoints, also
# the pool's memory (scan/health.py), never with one.
CLAMD = {"simscan.scan.virus", "simscan.wire", "simscan.wire.netio", "simscan.wire.clamd"}


@pytest.mark.parametrize("several", [False, True], ids=["one endpoint", "several"])
def test_the_clamd_path(site: Site, clamd: Clamd, tmp_path: Path, several: bool) -> None:
    endpoints = [str(tmp_path / "gone.sock"), str(clamd.socket)] if several else [str(clamd.socket)]
    modules = imported(site, received=True, clamav=True, clamd=endpoints)
    more = CLAMD | ({"simscan.scan.health"} if several else set())
    assert {m for m in modules if m.startswith("simscan")} == CLEAN_PATH | more
    assert modules & NEVER == set()


def test_a_tcp_endpoint_needs_no_re(site: Site, clamd: Clamd) -> None:
    """getaddrinfo given a str host encodes it with the idna codec, which
    imports re, unicodedata and stringprep; an address is ASCII bytes."""
    proxy = CountingProxy(clamd.socket)
    try:
        modules = imported(site, received=True, clamav=True, clamd=[proxy.address])
    finally:
        proxy.close()
    assert proxy.count == 1
    assert {m for m in modules if m.startswith("simscan")} == CLEAN_PATH | CLAMD
    assert modules & (NEVER | {"unicodedata", "stringprep", "encodings.idna"}) == set()


def test_a_doubled_slash_before_the_script_name_still_finds_the_venv(
    site: Site, tmp_path: Path
) -> None:
    """QMAILQUEUE=/opt/simscan/bin//simscan, or a link whose target is
    written so (`ln -s $PREFIX/bin//simscan`): _prefix takes
    "/opt/simscan/bin/" for the bin dir, its string parent "/opt/simscan/bin"
    for PREFIX, finds no package, and every message exits 1 with a
    traceback (qmail-smtpd: 451 "qq temporary problem") -- an outage.
    realpath (before 4de0220) handled both."""
    (script,) = simscan_command()
    bin_dir, name = script.rsplit("/", 1)
    doubled = f"{bin_dir}//{name}"
    link = tmp_path / "simscan"
    link.symlink_to(doubled)
    for command in (doubled, str(link)):
        out = site.run(MESSAGE, ENV, command=[command])
        assert out.exit_code == 0, (command, out.stderr[-300:])
        assert len(out.log_lines) == 1


@pytest.mark.parametrize("mode", ["rspamd", "spamc", "clamdscan", "quarantine"])
def test_other_scanner_modes_do_not_import_os(
    site: Site, clamd: Clamd, spamd: Spamd, rspamd: Rspamd, mode: str, tmp_path: Path
) -> None:
    """rspamd, the spamc and clamdscan modes (as C), and a quarantined
    message: none needs os either (posix does)."""
    settings: dict[str, object] = {
        "rspamd": {"spam": True, "spam_client": "rspamd", "rspamd": [rspamd.tcp]},
        "spamc": {"spam": True, "spam_client": "spamc", "spamc_args": f"-U {spamd.socket}"},
        "clamdscan": {"clamav": True, "clamav_client": "clamdscan", "clamd_conf": str(clamd.conf)},
        "quarantine": {
            "clamav": True,
            "clamd": str(clamd.socket),
            "quarantinedir": str(tmp_path / "quarantine"),
        },
    }[mode]
    (tmp_path / "quarantine").mkdir()
    message = EICAR_MAIL if mode == "quarantine" else MESSAGE
    site.configure(received=True, **settings)
    (script,) = simscan_command()
    command = ["/usr/bin/python3", "-I", "-S", "-X", "importtime", script]
    out = site.run(message, ENV, command=command)
    # (rspamd's verdict on this message from a test address: a greylisting
    # DEFER, 71, or none; the path to it is what is looked at here)
    expected = {"quarantine": (31,), "rspamd": (0, 71)}.get(mode, (0,))
    assert out.exit_code in expected, out.stderr
    modules = {m.group(2).decode() for m in IMPORT.finditer(out.stderr)}
    assert modules & {"os", "posixpath", "_collections_abc", "re", "typing"} == set(), mode
    if mode == "quarantine":
        assert "simscan.qmail.quarantine" in modules
        assert len(list((tmp_path / "quarantine").iterdir())) == 1
