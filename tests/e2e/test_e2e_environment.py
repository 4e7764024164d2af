"""End to end: the process environment simscan runs in (user, limits, bugs)."""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import Site, forced_command, simscan_command
from test_e2e_basic import ENV, MESSAGE, parse_log


def test_full_disk_is_temporary(site: Site) -> None:
    # RLIMIT_FSIZE stands in for a full work dir filesystem (EFBIG/ENOSPC
    # both reach the same write error path).
    big = MESSAGE + b"x" * 200_000
    out = site.run(
        big, ENV, command=["/bin/bash", "-c", 'ulimit -f 50; exec "$0"', *simscan_command()]
    )
    assert out.exit_code == 71
    (line,) = out.log_lines
    assert b"cannot write" in parse_log(line)["detail"]
    assert out.records == []
    assert out.workdirs_left == []


def test_internal_error_is_temporary_and_cleaned_up(site: Site) -> None:
    # A scanner bug (here: an unknown verdict kind) must not lose the mail.
    out = site.run(MESSAGE, ENV, env=site.env(FORCED_VERDICT="bogus:x"), command=forced_command())
    assert out.exit_code == 71
    (line,) = out.log_lines
    fields = parse_log(line)
    assert fields["state"] == b"ERROR 71"
    assert fields["detail"].startswith(b"internal error ValueError")
    assert b"Traceback" not in out.stderr
    assert out.workdirs_left == []


@pytest.fixture
def open_site() -> Iterator[Site]:
    """A site that an unprivileged user can reach (pytest's tmp is 0700)."""
    root = Path(tempfile.mkdtemp(prefix="simscan-user-"))
    root.chmod(0o755)
    site = Site(root)
    site.work.chmod(0o777)
    site.queue.chmod(0o777)
    yield site
    shutil.rmtree(root)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to switch user")
def test_started_as_root_switches_to_user(open_site: Site) -> None:
    open_site.configure(user="nobody")
    out = open_site.run(MESSAGE, ENV)
    assert out.exit_code == 0, out.stderr
    (queued,) = [d for d in open_site.queue.iterdir() if not d.name.startswith(".")]
    assert queued.stat().st_uid == pwd.getpwnam("nobody").pw_uid
    assert out.workdirs_left == []


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to switch user")
def test_unknown_user_is_temporary(site: Site) -> None:
    site.configure(user="no-such-user-here")
    out = site.run(MESSAGE, ENV)
    assert out.exit_code == 71
    assert b"no such user" in out.stderr


def test_inherited_ignored_sigchld_does_not_hang(site: Site) -> None:
    # With SIGCHLD ignored the kernel would reap qmail-queue by itself.
    out = site.run(
        MESSAGE,
        ENV,
        command=["/usr/bin/perl", "-e", '$SIG{CHLD}="IGNORE"; exec @ARGV', *simscan_command()],
        timeout=20,
    )
    assert out.exit_code == 0
    assert [r.message for r in out.records] == [MESSAGE]
