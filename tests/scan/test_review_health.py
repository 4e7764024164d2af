"""Review findings on scan/health.py (ec644dd..40cac87): each test fails
on 510d56d and shows the problem."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from simscan.scan import health
from simscan.scan.base import Debug
from simscan.wire.netio import ConnectFailed, Endpoint

A = Endpoint(host="127.0.0.2", port=3310)
B = Endpoint(host="127.0.0.3", port=3310)
REFUSED = ConnectFailed(ConnectionRefusedError(111, "Connection refused"), 5.0)


def pool(directory: Path, endpoints: list[Endpoint]) -> health.Pool:
    return health.Pool("clamd", "clamd", endpoints, str(directory), 30.0, 5.0, Debug(0, print))


def test_an_expired_mark_is_claimed_once_whatever_order_the_claims_come_in(
    tmp_path: Path,
) -> None:
    """Two messages find A's mark expired; the one that looked *later*
    claims first (the other was preempted between its stat and its lockf).
    claim() then compares the renewed mtime with the earlier looker's own
    `until` (its now + retry): the renewed mark is later than that, so it
    is taken for "expired" and claimed a second time: two messages pay
    the dead host's connect timeout, not one per interval."""
    directory = tmp_path / ".health"
    pool(directory, [A, B]).failed(A, REFUSED)
    name = health.file_name("clamd", A)
    path = str(directory / name)
    then = time.time() - 1
    os.utime(path, (then, then))
    st = os.stat(path)
    seen = (st.st_ino, st.st_mtime_ns)
    early = time.time()  # message 1 looks (stat: expired) ...
    time.sleep(0.01)
    late = time.time()  # ... message 2 looks, then claims first
    assert health.claim(str(directory), name, seen, late + 30.0) is True
    assert health.claim(str(directory), name, seen, early + 30.0) is False  # message 1 skips


def test_a_symlinked_health_dir_is_not_followed(tmp_path: Path) -> None:
    """Whoever can write WORKDIR can replace .health by a link: simscan
    then creates (mkdir is skipped), renames over, utimes and unlinks
    files named `clamd-...`/`spamd-...` in any directory its user (root
    with user = "") can write.  The work dir code never needs .health to
    be anything but simscan's own directory."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    (work / ".health").symlink_to(elsewhere)
    pool(work / ".health", [A, B]).failed(A, REFUSED)
    assert list(elsewhere.iterdir()) == []


def test_a_planted_temp_name_cannot_truncate_another_file(tmp_path: Path) -> None:
    """mark() opens `.NAME.PID` with O_CREAT|O_TRUNC (no O_EXCL): a hard
    link planted under that name (pids are guessable) is truncated and
    overwritten through, then renamed away; the victim's data is gone."""
    directory = tmp_path / ".health"
    directory.mkdir()
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious data\n")
    name = health.file_name("clamd", A)
    os.link(victim, directory / f".{name}.{os.getpid()}")
    pool(directory, [A, B]).failed(A, REFUSED)
    assert victim.read_bytes() == b"precious data\n"


_FIFO = """
import os, sys, time
from simscan.scan import health
directory, name = sys.argv[1], sys.argv[2]
os.mkfifo(f"{directory}/.{name}.{os.getpid()}")  # (planted: the pid guessed)
health.mark(directory, name, time.time() + 30, b"x")
"""


def test_a_planted_fifo_does_not_hang_a_message(tmp_path: Path) -> None:
    """A FIFO under the temp name: open(O_WRONLY) blocks until a reader
    comes; the message hangs until scan_timeout's alarm (71)."""
    directory = tmp_path / ".health"
    directory.mkdir()
    name = health.file_name("clamd", A)
    child = subprocess.Popen([sys.executable, "-c", _FIFO, str(directory), name])
    try:
        assert child.wait(timeout=5) == 0
    finally:
        child.kill()
        child.wait()
