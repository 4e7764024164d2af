"""What a message costs in imports: every module is one more file found,
read and run per message, so the per-message set is pinned here, and the
expensive ones simscan keeps off that path are named."""

import re

import pytest
from harness import Site
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
    site.configure(**settings)
    out = site.run(MESSAGE, ENV, env=site.env(PYTHONPROFILEIMPORTTIME="1"))
    assert out.exit_code == 0, out.stderr
    return {m.group(2).decode() for m in IMPORT.finditer(out.stderr)}


def test_a_clean_message_imports_only_its_path(site: Site) -> None:
    modules = imported(site, received=True)
    assert {m for m in modules if m.startswith("simscan")} == CLEAN_PATH
    assert modules & NEVER == set()


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
