"""End to end: faults around the scanners and the control files.

Each one must end in a temporary failure (71) with a log line that says
why, nothing queued and no work dir left; except a spamd fault, which by
default queues the message unscanned with a warning (spamc's safe
fallback; SPEC section 5).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from daemons import Clamd, ResetServer, Spamd
from harness import Site, envelope
from test_e2e_basic import parse_log

ENV = envelope(b"sender@example.com", b"rcpt@example.net")
MESSAGE = b"From: sender@example.com\nTo: rcpt@example.net\nSubject: hi\n\nhello\n"


def only_log(out) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    (line,) = out.log_lines
    return parse_log(line)


def assert_temporary(out, words: bytes) -> None:  # type: ignore[no-untyped-def]
    assert out.exit_code == 71, out.stderr
    assert out.records == []
    assert out.workdirs_left == []
    fields = only_log(out)
    assert fields["state"] == b"ERROR 71"
    assert words in fields["detail"], fields["detail"]


@pytest.mark.parametrize("partial", [b"", b"stream: Eic", b"stream: OK"])
def test_clamd_reset_mid_reply(site: Site, tmp_path: Path, partial: bytes) -> None:
    server = ResetServer(tmp_path / "clamd.sock", partial)
    try:
        site.configure(clamav=True, clamd=str(server.path))
        out = site.run(MESSAGE, ENV)
    finally:
        server.close()
    assert_temporary(out, f"clamd {server.path} ".encode())


@pytest.mark.parametrize(
    "partial",
    [b"", b"SPAMD/1.1 0 EX_OK\r\nContent-le", b"SPAMD/1.1 0 EX_OK\r\nContent-length: 100\r\n"
     b"Spam: False ; 0.0 / 5.0\r\n\r\nX-Spam-"],
)  # fmt: skip
@pytest.mark.parametrize("strict", [False, True])
def test_spamd_reset_mid_reply(site: Site, tmp_path: Path, partial: bytes, strict: bool) -> None:
    server = ResetServer(tmp_path / "spamd.sock", partial)
    try:
        site.configure(spam=True, spamd=str(server.path), spam_fail_tempfail=strict)
        out = site.run(MESSAGE, ENV)
    finally:
        server.close()
    if strict:
        assert_temporary(out, f"spamd {server.path} ".encode())
    else:
        assert out.exit_code == 0
        assert [r.message for r in out.records] == [MESSAGE]  # the original
        (warning,) = out.warnings
        assert f"spamd {server.path} ".encode() in warning


def test_unreadable_simcontrol_cdb(site: Site) -> None:
    site.configure(per_domain=True)
    (site.control / "simcontrol.cdb").mkdir()
    assert_temporary(site.run(MESSAGE, ENV), b"simcontrol.cdb cannot read")


def test_corrupt_simcontrol_cdb(site: Site) -> None:
    site.configure(per_domain=True)
    (site.control / "simcontrol.cdb").write_bytes(b"\xff" * 3000)
    # Garbage must not read as "no entries" (no scanning at all).
    assert_temporary(site.run(MESSAGE, ENV), b"simcontrol.cdb corrupt (not a cdb")
    (site.control / "simcontrol.cdb").write_bytes(b"\0" * 100)
    assert_temporary(site.run(MESSAGE, ENV), b"simcontrol.cdb corrupt (shorter")


def test_unreadable_ssattach(site: Site) -> None:
    site.configure(attach=True)
    (site.control / "ssattach").mkdir()
    assert_temporary(site.run(MESSAGE, ENV), b"ssattach cannot read")


def test_unreadable_simversions_cdb_only_costs_the_version(site: Site) -> None:
    (site.control / "ssattach").write_text(".exe\n")
    site.configure(attach=True, received=True)
    (site.control / "simversions.cdb").mkdir()
    out = site.run(MESSAGE, ENV)
    assert out.exit_code == 0
    (record,) = out.records
    assert b"(scanners: attach: " in record.message.split(b"\n")[1]


def test_one_budget_for_all_scanners(site: Site, tmp_path: Path) -> None:
    """Two hung clamds with their own 120 s each: scan_timeout (1 s) ends
    the scan; and spamd, hung after that, gets no time at all (queued
    unscanned by default, with the reason)."""
    import time

    from daemons import HungServer

    a, b = HungServer(tmp_path / "a.sock"), HungServer(tmp_path / "b.sock")
    try:
        site.configure(clamav=True, clamd=[str(a.path), str(b.path)], scan_timeout=1)
        began = time.monotonic()
        out = site.run(MESSAGE, ENV)
        took = time.monotonic() - began
        site.configure(spam=True, spamd=str(a.path), scan_timeout=1)
        spam = site.run(MESSAGE, ENV)
    finally:
        a.close()
        b.close()
    assert took < 10  # not 2 x 120 s
    assert_temporary(out, b"scan_timeout (1 s) spent before the scanners answered")
    assert spam.exit_code == 0
    assert [r.message for r in spam.records] == [MESSAGE]
    (warning,) = spam.warnings
    assert f"spamd {a.path} timed out".encode() in warning


@pytest.fixture
def small_tmpfs(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A 1 MB tmpfs: a real full filesystem (ENOSPC), when we may mount."""
    import subprocess

    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


@pytest.mark.parametrize("size", [2 << 20, 900 << 10])
def test_work_dir_on_a_full_filesystem(
    site: Site, small_tmpfs: Path, clamd: Clamd, spamd: Spamd, size: int
) -> None:
    """2 MB cannot even be received; 900 KB is received but spamd's
    processed copy does not fit.  Both are 71, nothing queued, and the work
    dir is gone (the filesystem is empty again)."""
    body = b"a line of a long message that fills the small filesystem\n"
    message = MESSAGE + body * (size // len(body))
    site.configure(
        workdir=str(small_tmpfs), clamav=True, clamd=str(clamd.socket), spam=True,
        spamd=str(spamd.socket), size_limit=10 << 20, spamd_timeout=60,
    )  # fmt: skip
    out = site.run(message, ENV)
    assert out.exit_code == 71, out.stderr
    assert out.records == []
    detail = only_log(out)["detail"]
    assert b"No space left on device" in detail
    if size < (1 << 20):
        assert b"msg.spam" in detail  # received, then spamd's copy did not fit
    assert list(small_tmpfs.iterdir()) == []


def test_a_backtracking_regex_is_stopped_by_scan_timeout(site: Site) -> None:
    """Python's re has no backtracking limit (PCRE's match_limit stopped
    the C program): the scan_timeout alarm ends it, 71, and the work dir
    is cleaned up."""
    import time

    site.configure(per_domain=True, regex=True, scan_timeout=1)
    site.simcontrol(":regex=(a|aa)+$\n")
    message = MESSAGE + b"a" * 80 + b"b\n"
    began = time.monotonic()
    out = site.run(message, ENV)
    assert time.monotonic() - began < 20
    assert_temporary(out, b"scan_timeout (1 s) spent before the scanners answered")


def test_the_alarm_is_off_once_the_scan_is_over(site: Site) -> None:
    """A qmail-queue slower than scan_timeout is not cut short by it."""
    site.configure(scan_timeout=1)
    out = site.run(MESSAGE, ENV, env=site.env(QQ_SLEEP="3"))
    assert out.exit_code == 0
    assert [r.message for r in out.records] == [MESSAGE]
