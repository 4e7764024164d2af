"""End to end: every exit code that is not a clean pass, and cleanup."""

from __future__ import annotations

import os
import re
import signal

import pytest
from harness import Site, envelope, simscan_command
from test_e2e_basic import ENV, MESSAGE, parse_log


def only_log(out) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    (line,) = out.log_lines
    return parse_log(line)


@pytest.mark.parametrize(
    ("raw", "code", "why"),
    [
        (b"Fa@b\0\0", 91, b"no recipient"),
        (b"Fa@b\0Fc@d\0Te@f\0\0", 91, b"two sender"),
        (b"Xa@b\0Te@f\0\0", 91, b"starts with"),
        (b"Fa@b\0Te@f\0Qjunk\0\0", 91, b"starts with"),
        (b"Ta@b\0\0", 91, b"does not start"),
        (b"\0", 91, b"no sender"),
        (b"", 54, b"ended before"),
        (b"Fa@b\0Te@f\0", 54, b"ended before"),
        (b"Fa@b\0Te@", 54, b"ended before"),
        (b"Fa@b", 54, b"ended before"),
    ],
)
def test_bad_envelope(site: Site, raw: bytes, code: int, why: bytes) -> None:
    out = site.run(MESSAGE, raw)
    assert out.exit_code == code
    assert out.records == []
    fields = only_log(out)
    assert fields["state"] == f"ERROR {code}".encode()
    assert why in fields["detail"]
    assert out.workdirs_left == []


def test_bytes_after_the_envelope_are_ignored(site: Site) -> None:
    out = site.run(MESSAGE, ENV + b"trailing junk")
    assert out.exit_code == 0
    assert [r.envelope for r in out.records] == [ENV]


def test_many_recipients_and_long_addresses(site: Site) -> None:
    # 1002 bytes is the longest address qmail-queue takes (its ADDR is 1003).
    longest = b"x" * 990 + b"@example.net"
    rcpts = [b"user%d@example.net" % i for i in range(10000)] + [longest]
    raw = envelope(b"S" * 990 + b"@example.com", *rcpts)
    out = site.run(MESSAGE, raw)
    assert out.exit_code == 0
    assert [r.envelope for r in out.records] == [raw]
    assert only_log(out)["rcpts"].count(b",") == len(rcpts) - 1


def test_an_address_too_long_for_qmail_queue_gets_its_11(site: Site) -> None:
    """simscan hands long addresses on unchanged; qmail-queue's own 11
    ("address too long") is what qmail-smtpd gets, as with the C simscan."""
    raw = envelope(b"a@example.com", b"x" * 5000 + b"@example.net")
    out = site.run(MESSAGE, raw)
    assert out.exit_code == 11
    assert only_log(out)["state"] == b"ERROR 11"
    assert out.records == []
    assert out.workdirs_left == []


def test_unreadable_message_is_54(site: Site) -> None:
    # fd 0 open for writing only: read() fails with EBADF.
    out = site.run(
        MESSAGE, ENV, command=["/bin/bash", "-c", 'exec "$0" 0>/dev/null', *simscan_command()]
    )
    assert out.exit_code == 54
    assert b"cannot read the message" in only_log(out)["detail"]
    assert out.workdirs_left == []


@pytest.mark.parametrize("fd", [0, 1])
def test_closed_input_fd_is_54(site: Site, fd: int) -> None:
    out = site.run(
        MESSAGE, ENV, command=["/bin/bash", "-c", f'exec "$0" {fd}<&-', *simscan_command()]
    )
    assert out.exit_code == 54
    assert b"not open" in only_log(out)["detail"]
    assert out.records == []
    assert out.workdirs_left == []


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('spam_hits = "lots"\n', 6, b"setting spam_hits expected a score"),
        ("received = yes\n", 6, b"Invalid value"),
        ("no_such_thing = 1\n", 6, b"setting no_such_thing unknown setting"),
        ("custom_error_fd = 2\n", 6, b"setting custom_error_fd expected a file descriptor"),
        ('workdir = "relative"\n', 1, b"setting workdir expected an absolute path"),
    ],
)
def test_bad_config_is_temporary_and_names_file_line_key(
    site: Site, text: str, line: int, words: bytes
) -> None:
    if text.startswith("workdir"):
        site.config.write_text(text)
    else:
        site.configure(text)
    out = site.run(MESSAGE, ENV)
    assert out.exit_code == 71
    assert out.records == []
    detail = only_log(out)["detail"]
    assert str(site.config).encode() in detail
    assert f"line {line}".encode() in detail
    assert words in detail


def test_missing_named_config_is_temporary(site: Site) -> None:
    out = site.run(MESSAGE, ENV, env=site.env(SIMSCAN_CONFIG=str(site.root / "nope.toml")))
    assert out.exit_code == 71
    assert b"file not found" in only_log(out)["detail"]


def test_unreadable_config_is_temporary(site: Site) -> None:
    site.config.unlink()
    site.config.mkdir()
    out = site.run(MESSAGE, ENV)
    assert out.exit_code == 71
    assert b"cannot read" in only_log(out)["detail"]


def test_work_dir_cannot_be_created(site: Site) -> None:
    site.configure(workdir=str(site.root / "missing" / "dir"))
    out = site.run(MESSAGE, ENV)
    assert out.exit_code == 71
    detail = only_log(out)["detail"]
    assert b"cannot create work dir" in detail
    # who simscan ran as, for the admin fixing the permissions (':' is '_' in the log)
    uid, gid = os.geteuid(), os.getegid()
    assert b"(No such file or directory; simscan runs as uid %d gid %d, " % (uid, gid) in detail
    assert out.records == []


def test_qmail_queue_missing(site: Site) -> None:
    site.configure(qmail_queue=str(site.root / "no-qmail-queue"))
    out = site.run(MESSAGE, ENV)
    assert out.exit_code == 71
    assert b"cannot run" in only_log(out)["detail"]
    assert out.workdirs_left == []


def stand_in_queue(site: Site, name: str, body: str, **values: object) -> None:
    """Make a shell script the site's qmail-queue."""
    script = site.root / name
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    site.configure(qmail_queue=str(script), **values)


def test_qmail_queue_killed(site: Site) -> None:
    stand_in_queue(site, "dying-queue", "cat >/dev/null\nkill -9 $$")
    out = site.run(MESSAGE, ENV)
    assert out.exit_code == 71
    assert b"killed by signal 9" in only_log(out)["detail"]
    assert out.workdirs_left == []


def test_qmail_queue_quits_without_reading(site: Site) -> None:
    stand_in_queue(site, "lazy-queue", "exit 81", received=True)
    big = MESSAGE + b"x" * (4 << 20)
    out = site.run(big, ENV)
    assert out.exit_code == 81
    assert out.workdirs_left == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGALRM, signal.SIGHUP])
def test_signal_while_reading_cleans_up(site: Site, signum: int) -> None:
    out = site.run(MESSAGE, ENV, hold_input=True, kill_after=0.5, kill_signal=signum)
    assert out.exit_code == 71
    assert f"interrupted by signal {signum}".encode() in only_log(out)["detail"]
    assert out.workdirs_left == []
    assert out.records == []


def test_sigterm_while_qmail_queue_runs_stops_it(site: Site) -> None:
    """It has read everything and sleeps (committing, as far as we know):
    it gets STOP_GRACE (5 s) to finish, then it is stopped, before its
    record is made whole."""
    out = site.run(
        MESSAGE, ENV, env=site.env(QQ_SLEEP="30"), kill_after=1.0, kill_signal=signal.SIGTERM
    )
    assert out.exit_code == 71
    assert out.records == []  # qmail-queue was stopped before it finished
    assert out.workdirs_left == []


def test_debug_files_keep_the_work_dir(site: Site) -> None:
    out = site.run(MESSAGE, ENV, env=site.env(SIMSCAN_DEBUG_FILES="2"))
    assert out.exit_code == 0
    (kept,) = out.workdirs_left
    path = site.work / kept
    assert (path / "msg").read_bytes() == MESSAGE
    assert (path / "addr").read_bytes() == ENV
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o750)
    # =1 keeps it only when the message was not queued.
    out = site.run(MESSAGE, ENV, env=site.env(SIMSCAN_DEBUG_FILES="1"))
    assert out.workdirs_left == []


def test_debug_lines(site: Site) -> None:
    out = site.run(MESSAGE, ENV, env=site.env(SIMSCAN_DEBUG="2"))
    assert out.exit_code == 0
    assert re.search(rb"^simscan:\[\d+\]: debug: work dir ", out.stderr, re.M)
    assert re.search(rb"^simscan:\[\d+\]: debug: settings from .*simscan.toml$", out.stderr, re.M)
    assert b"Settings(" not in out.stderr and b"Policy(" not in out.stderr  # no reprs
    # every stderr line is a debug, warning, note or the one verdict line
    assert all(line.startswith(b"simscan:[") for line in out.stderr.splitlines())
    assert len(out.log_lines) == 1


def test_debug_2_shows_the_simcontrol_entries_that_matched(site: Site) -> None:
    site.configure(per_domain=True, attach=True)
    site.simcontrol(":clam=no,spam=no,attach=.exe\nexample.net:attach=.com:.bat,size_limit=9\n")
    out = site.run(MESSAGE, ENV, env=site.env(SIMSCAN_DEBUG="2"))
    assert out.exit_code == 0
    debug = [ln.split(b": debug: ", 1)[1] for ln in out.stderr.splitlines() if b": debug: " in ln]
    assert b"simcontrol '' matched: clam=no,spam=no,attach=.exe" in debug
    assert b"simcontrol 'example.net' matched: attach=.com:.bat,size_limit=9" in debug
    (policy,) = [ln for ln in debug if ln.startswith(b"policy ")]
    assert policy.startswith(
        b"policy clam=no,spam=no,trophie=no,spam_passthru=no,attach=.com:.bat,size_limit=9,"
    )
    # keys tried that matched nothing are not debug lines
    assert not [ln for ln in debug if ln.startswith(b"simcontrol") and b"matched" not in ln]
