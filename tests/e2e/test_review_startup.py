"""Review findings on bin/simscan's start (4de0220, 3cb77cb): each test
fails on 510d56d and shows the problem."""

import re
from pathlib import Path

from daemons import Rspamd
from harness import Site, simscan_command
from test_e2e_basic import ENV, MESSAGE

IMPORT = re.compile(rb"^import time:\s+\d+ \|\s+\d+ \|( *)(\S+)$", re.M)


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


def test_rspamd_path_does_not_import_os(site: Site, rspamd: Rspamd) -> None:
    """design.md: "`os` is never imported per message"; scan/rspamd.py
    imports os for one os.path.basename (Queue-Id), ~0.9 ms on every
    message of an rspamd site.  (Also: wire/proc.py for spamc and
    clamdscan modes, qmail/quarantine.py for every quarantined message.)"""
    site.configure(spam=True, spam_client="rspamd", rspamd=[rspamd.tcp], received=True)
    (script,) = simscan_command()
    command = ["/usr/bin/python3", "-I", "-S", "-X", "importtime", script]
    out = site.run(MESSAGE, ENV, command=command)
    assert out.exit_code in (0, 31, 71), out.stderr
    modules = {m.group(2).decode() for m in IMPORT.finditer(out.stderr)}
    assert "simscan.scan.rspamd" in modules
    assert not modules & {"os", "posixpath", "_collections_abc"}, sorted(modules)
