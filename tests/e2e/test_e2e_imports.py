"""What a message costs in imports: every module is one more file found,
read and run per message, so the per-message set is pinned here, and the
expensive ones simscan keeps off that path are named."""

import re

import pytest
from harness import Site, simscan_command
from test_e2e_basic import ENV, MESSAGE

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
    assert modules & (NEVER - {"re", "enum", "functools", "collections"}) == set()


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
