"""scan/health.py: the order a message tries a scanner's endpoints in, and
the memory of endpoints marked down, on real files (a tmp dir standing in
for WORKDIR/.health), with many real processes at once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

import pytest

from simscan.config.policy import Policy
from simscan.config.settings import Settings
from simscan.errors import ScannerError, ScannerUnreachable
from simscan.qmail.queue import Envelope
from simscan.qmail.workdir import Message
from simscan.scan import base, health
from simscan.scan.base import Debug, Job, Trace
from simscan.wire.netio import ConnectFailed, Endpoint

if TYPE_CHECKING:
    from collections.abc import Callable

A = Endpoint(host="127.0.0.2", port=3310)
B = Endpoint(host="127.0.0.3", port=3310)
C = Endpoint(path="/run/clamav/clamd.ctl")

REFUSED = ConnectFailed(ConnectionRefusedError(111, "Connection refused"), 5.0)
TIMED_OUT = ConnectFailed(TimeoutError("timed out"), 5.0)


def pool(
    directory: Path,
    endpoints: list[Endpoint],
    retry: float = 30.0,
    lines: list[bytes] | None = None,
    trace: list[str] | None = None,
) -> health.Pool:
    write = (lines if lines is not None else []).append
    return health.Pool("clamd", "clamd", endpoints, str(directory), retry, 5.0,
                       Debug(1, write), trace)  # fmt: skip


def mark_of(directory: Path, endpoint: Endpoint) -> Path:
    return directory / health.file_name("clamd", endpoint)


def order(p: health.Pool) -> list[Endpoint]:
    return list(p)


# --- names ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "name"),
    [
        (Endpoint(host="127.0.0.2", port=3310), "clamd-127.0.0.2-3310"),
        (Endpoint(host="localhost", port=783), "clamd-localhost-783"),
        (Endpoint(host="::1", port=3310), "clamd-__1-3310"),
        (Endpoint(host="2001:db8::7", port=11333), "clamd-2001_db8__7-11333"),
    ],
)
def test_file_names_of_tcp_endpoints(endpoint: Endpoint, name: str) -> None:
    assert health.file_name("clamd", endpoint) == name


def test_file_names_are_safe_short_and_one_per_endpoint() -> None:
    paths = ["/run/clamav/clamd.ctl", "/a_b", "/a/b", "/a b", "/" + "x/" * 60 + "sock",
             "/tmp/../etc/passwd", "/run/ü.sock", "/run/.hidden"]  # fmt: skip
    endpoints = [Endpoint(path=p) for p in paths]
    endpoints += [Endpoint(host="fe80::1%eth0", port=1), Endpoint(host="fe80::1%eth1", port=1)]
    names = [health.file_name("spamd", e) for e in endpoints]
    assert len(set(names)) == len(names)
    for name in names:
        assert name.startswith("spamd-")
        assert len(name) <= 64
        assert set(name) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")
    assert names[0].startswith("spamd-clamd.ctl-")


# --- spread -----------------------------------------------------------------------


def test_spread_starts_from_the_work_dir_name() -> None:
    endpoints = [A, B, C]
    assert health.spread(endpoints, "/w/1700000000.000000.3") == [A, B, C]
    assert health.spread(endpoints, "/w/1700000000.000001.3") == [B, C, A]
    assert health.spread(endpoints, "/w/1700000000.000004.4") == [C, A, B]
    # (not a work dir name: the order given)
    assert health.spread(endpoints, "/w/check") == [A, B, C]
    assert health.spread(endpoints, "") == [A, B, C]


def test_spread_shares_the_first_try_among_all() -> None:
    firsts = [
        health.spread([A, B, C], f"/w/1700000000.{usec:06d}.{pid}")[0]
        for usec, pid in zip(range(0, 900000, 7919), range(4000, 5000, 3), strict=False)
    ]
    counts = [sum(1 for e in firsts if e == x) for x in (A, B, C)]
    assert min(counts) > len(firsts) / 5, counts


def job(tmp_path: Path, workdir: str, **settings: object) -> Job:
    return Job(
        Message("/nonexistent/msg", 10, b""),
        Envelope(b"", b"a@b", [b"c@d"]),
        Settings(workdir=str(tmp_path), **settings),
        Policy(),
        f"{tmp_path}/{workdir}",
        b"",
        Debug(0, lambda data: None),
    )


def test_pool_orders_by_the_setting(tmp_path: Path) -> None:
    message = "1700000000.000001.2"  # usec + pid = 3: starts at the second of two
    assert list(base.pool(job(tmp_path, message), "clamd", [A, B])) == [A, B]
    spread = job(tmp_path, message, scanner_balance="spread")
    assert list(base.pool(spread, "clamd", [A, B])) == [B, A]
    assert list(base.pool(spread, "clamd", [A, B, C])) == [A, B, C]
    # No memory, still spread
    no_memory = job(tmp_path, message, scanner_balance="spread", scanner_retry=0)
    tried = base.pool(no_memory, "clamd", [A, B])
    assert isinstance(tried, base.Pool)
    assert list(tried) == [B, A]
    tried.failed(B, REFUSED)
    assert not (tmp_path / health.DIR_NAME).exists()


def test_one_endpoint_touches_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one = job(tmp_path, "1700000000.000001.2", scanner_balance="spread")
    calls: list[str] = []

    def counted(name: str) -> object:
        real = getattr(os, name)

        def call(*args: object, **kwargs: object) -> object:
            calls.append(name)
            return real(*args, **kwargs)

        return call

    for name in ("stat", "open", "mkdir", "rename", "unlink", "listdir", "utime", "lstat"):
        monkeypatch.setattr(os, name, counted(name))
    tried = base.pool(one, "clamd", [A])
    got = list(tried)
    tried.failed(A, REFUSED)
    tried.failed(A, TIMED_OUT)
    tried.answered(A)
    monkeypatch.undo()
    assert got == [A]
    assert isinstance(tried, base.Pool)
    assert calls == []
    assert not (tmp_path / health.DIR_NAME).exists()


def test_one_endpoint_does_not_import_the_module(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from simscan.scan import base\n"
        "from simscan.wire.netio import Endpoint\n"
        "from simscan.config.settings import Settings\n"
        "class J:\n"
        f"    settings = Settings(workdir={str(tmp_path)!r})\n"
        f"    workdir = {str(tmp_path / '1.2.3')!r}\n"
        "list(base.pool(J(), 'clamd', [Endpoint(path='/x')]))\n"
        "print('simscan.scan.health' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "False\n"


# --- marks ----------------------------------------------------------------------------


def test_nothing_marked_keeps_the_order_and_writes_nothing(tmp_path: Path) -> None:
    directory = tmp_path / ".health"
    p = pool(directory, [A, B, C])
    assert order(p) == [A, B, C]
    p.answered(A)
    assert not directory.exists()


def test_a_connect_failure_marks_and_later_messages_try_it_last(tmp_path: Path) -> None:
    directory = tmp_path / ".health"
    first = pool(directory, [A, B, C])
    assert next(iter(first)) == A
    before = time.time()
    lines: list[bytes] = []
    first = pool(directory, [A, B, C], lines=lines)
    first.failed(A, TIMED_OUT)
    st = os.stat(mark_of(directory, A))
    assert before + 29 < st.st_mtime <= time.time() + 30
    assert mark_of(directory, A).read_bytes() == b"127.0.0.2:3310 timed out\n"
    assert b"clamd 127.0.0.2 port 3310: marked down for 30 s" in b"".join(lines)
    assert [p.name for p in directory.iterdir()] == [mark_of(directory, A).name]

    lines.clear()
    trace: list[str] = []
    assert order(pool(directory, [A, B, C], lines=lines, trace=trace)) == [B, C, A]
    assert b"clamd 127.0.0.2 port 3310: marked down, 30 s until it is tried again; tried last" in (
        b"".join(lines)
    )
    assert trace == ["clamd 127.0.0.2 port 3310: marked down, 30 s until it is tried again"]
    # (the mark is where it was)
    assert os.stat(mark_of(directory, A)).st_mtime == st.st_mtime


@pytest.mark.parametrize(
    "err",
    [
        ValueError("reply longer than 10 bytes"),
        TimeoutError("timed out"),  # (after connecting: a slow scan)
        ConnectionResetError(104, "Connection reset by peer"),
        ScannerError("spamc", "exited 74"),
        ConnectFailed(TimeoutError("timed out"), 0.2),  # cut short by scan_timeout
    ],
)
def test_other_failures_do_not_mark(tmp_path: Path, err: BaseException) -> None:
    directory = tmp_path / ".health"
    pool(directory, [A, B]).failed(A, err)
    assert not directory.exists()


@pytest.mark.parametrize(
    "err",
    [
        REFUSED,
        TIMED_OUT,
        ConnectFailed(FileNotFoundError(2, "No such file or directory"), 5),
        ConnectFailed(TimeoutError("timed out"), 1.0),
        ScannerUnreachable("spamc", "exited 69"),
    ],
)
def test_connect_failures_mark(tmp_path: Path, err: BaseException) -> None:
    directory = tmp_path / ".health"
    pool(directory, [A, B]).failed(A, err)
    assert mark_of(directory, A).exists()


def test_all_marked_are_tried_anyway_in_order(tmp_path: Path) -> None:
    directory = tmp_path / ".health"
    for endpoint in (A, B, C):
        pool(directory, [A, B, C]).failed(endpoint, REFUSED)
    assert order(pool(directory, [A, B, C])) == [A, B, C]
    assert order(pool(directory, [C, A, B])) == [C, A, B]
    # Two marked: the one left first, the marked ones after it, in order
    os.unlink(mark_of(directory, B))
    assert order(pool(directory, [A, B, C])) == [B, A, C]


def test_an_answer_clears_a_mark_it_saw(tmp_path: Path) -> None:
    directory = tmp_path / ".health"
    pool(directory, [A, B]).failed(A, REFUSED)
    lines: list[bytes] = []
    p = pool(directory, [A, B], lines=lines)
    assert order(p) == [B, A]
    p.failed(B, REFUSED)  # B down too: A, tried last, answers
    p.answered(A)
    assert not mark_of(directory, A).exists()
    assert b"clamd 127.0.0.2 port 3310: answered, no longer marked down" in b"".join(lines)
    assert order(pool(directory, [A, B])) == [A, B]


def expire(path: Path, ago: float = 1.0) -> None:
    then = time.time() - ago
    os.utime(path, (then, then))


def test_an_expired_mark_is_tried_again_by_one_message(tmp_path: Path) -> None:
    directory = tmp_path / ".health"
    pool(directory, [A, B]).failed(A, TIMED_OUT)
    expire(mark_of(directory, A))
    lines: list[bytes] = []
    prober = pool(directory, [A, B], lines=lines)
    assert order(prober) == [A, B]  # in its place again
    assert b"127.0.0.2 port 3310: marked down; this message tries it again" in b"".join(lines)
    # renewed before the try: the next messages go on skipping it
    assert time.time() + 29 < os.stat(mark_of(directory, A)).st_mtime
    assert order(pool(directory, [A, B])) == [B, A]
    prober.answered(A)
    assert not directory.joinpath(mark_of(directory, A).name).exists()
    assert order(pool(directory, [A, B])) == [A, B]


def test_a_failed_probe_marks_again(tmp_path: Path) -> None:
    directory = tmp_path / ".health"
    pool(directory, [A, B], retry=0.2).failed(A, TIMED_OUT)
    time.sleep(0.3)
    prober = pool(directory, [A, B], retry=0.2)
    assert order(prober)[0] == A
    prober.failed(A, TIMED_OUT)
    assert order(pool(directory, [A, B], retry=0.2)) == [B, A]


def test_a_mark_far_in_the_future_is_taken_as_expired(tmp_path: Path) -> None:
    # (a clock set back, or a file not written by simscan: never a mark for ever)
    directory = tmp_path / ".health"
    directory.mkdir()
    mark_of(directory, A).write_bytes(b"")
    then = time.time() + 86400 * 365
    os.utime(mark_of(directory, A), (then, then))
    assert order(pool(directory, [A, B])) == [A, B]
    assert os.stat(mark_of(directory, A)).st_mtime <= time.time() + 30


def test_corrupt_marks_are_ignored(tmp_path: Path) -> None:
    directory = tmp_path / ".health"
    directory.mkdir()
    # garbage content (never read), a directory, a dangling symlink where marks would be
    garbage = mark_of(directory, A)
    garbage.write_bytes(b"\x00\xff garbage " * 100)
    expire(garbage, 10)
    mark_of(directory, B).mkdir()
    os.symlink(tmp_path / "nowhere", mark_of(directory, C))
    assert order(pool(directory, [A, B, C])) == [A, B, C]
    p = pool(directory, [B, C])
    p.failed(B, REFUSED)  # (cannot replace a directory: ignored)
    p.answered(B)
    assert order(pool(directory, [B, C])) == [B, C]


def test_an_unwritable_or_missing_directory_is_ignored(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    directory = blocker / ".health"  # (ENOTDIR, whoever runs the test)
    p = pool(directory, [A, B])
    assert order(p) == [A, B]
    p.failed(A, REFUSED)
    p.answered(A)
    assert health.mark(str(directory), "x", time.time() + 30, b"") is False
    assert health.claim(str(directory), "x", (0, 0), time.time() + 30) is None
    assert blocker.read_text() == "not a directory"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a process as nobody")
def test_a_directory_of_another_user_is_ignored(tmp_path: Path) -> None:
    # simscan as nobody, .health root's and 0700: nothing can be read or written there
    tmp_path.chmod(0o755)
    directory = tmp_path / ".health"
    directory.mkdir(mode=0o700)
    pool(directory, [A, B]).failed(B, REFUSED)
    code = (
        "from simscan.scan import health\n"
        "from simscan.scan.base import Debug\n"
        "from simscan.wire.netio import ConnectFailed, Endpoint\n"
        "A = Endpoint(host='127.0.0.2', port=3310)\n"
        "B = Endpoint(host='127.0.0.3', port=3310)\n"
        f"p = health.Pool('clamd', 'clamd', [B, A], {str(directory)!r}, 30.0, 5.0,"
        " Debug(0, print))\n"
        "print([str(e) for e in p])\n"
        "p.failed(A, ConnectFailed(ConnectionRefusedError(111, 'refused'), 5.0))\n"
        "p.answered(B)\n"
    )
    done = subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable,
         "-c", code],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == "['127.0.0.3:3310', '127.0.0.2:3310']\n"
    assert sorted(p.name for p in directory.iterdir()) == [mark_of(directory, B).name]


# --- many processes at once ----------------------------------------------------------

WRITER = """
import os, random, sys, time
from simscan.scan import health
from simscan.scan.base import Debug
from simscan.wire.netio import ConnectFailed, Endpoint
directory, retry, until = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
endpoints = [Endpoint(host="127.0.0.%d" % i, port=3310) for i in (2, 3, 4)]
down = ConnectFailed(TimeoutError("timed out"), 5.0)
rng = random.Random(os.getpid())
while time.time() < until:
    p = health.Pool("clamd", "clamd", endpoints, directory, retry, 5.0, Debug(0, print))
    for endpoint in p:
        if rng.random() < 0.5:
            p.failed(endpoint, down)
        else:
            p.answered(endpoint)
            break
"""


def run_all(code: str, *args: str, n: int = 50) -> list[str]:
    processes = [
        subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True)
        for _ in range(n)
    ]
    out = []
    for process in processes:
        stdout, _ = process.communicate(timeout=120)
        assert process.returncode == 0
        out.append(stdout)
    return out


def test_fifty_processes_marking_and_clearing(tmp_path: Path) -> None:
    directory = tmp_path / ".health"
    until = time.time() + 3  # (the processes' start-up included)
    run_all(WRITER, str(directory), "0.05", str(until))
    endpoints = [Endpoint(host=f"127.0.0.{i}", port=3310) for i in (2, 3, 4)]
    names = {health.file_name("clamd", e): e for e in endpoints}
    left = os.listdir(directory)
    assert set(left) <= set(names), left  # no temp file left behind, nothing else
    for name in left:
        st = os.lstat(directory / name)
        assert st.st_mode & 0o170000 == 0o100000
        assert st.st_mtime <= time.time() + 0.05
        assert (directory / name).read_bytes() == f"{names[name]} timed out\n".encode()
    # No mark kept for ever: once expired, one probe that answers clears it
    time.sleep(0.1)
    for endpoint in endpoints:
        p = pool(directory, endpoints, retry=0.05)
        assert endpoint in list(p)
        p.answered(endpoint)
    assert os.listdir(directory) == []


PROBER = """
import sys
from simscan.scan import health
from simscan.scan.base import Debug
from simscan.wire.netio import Endpoint
A = Endpoint(host="127.0.0.2", port=3310)
B = Endpoint(host="127.0.0.3", port=3310)
p = health.Pool("clamd", "clamd", [A, B], sys.argv[1], 30.0, 5.0, Debug(0, print))
print("probe" if next(iter(p)) == A else "skip")
"""


def test_fifty_processes_one_probe(tmp_path: Path) -> None:
    directory = tmp_path / ".health"
    pool(directory, [A, B]).failed(A, TIMED_OUT)
    expire(mark_of(directory, A))
    said = run_all(PROBER, str(directory))
    assert sorted(said) == ["probe\n"] + ["skip\n"] * 49
    assert os.listdir(directory) == [mark_of(directory, A).name]


def test_the_trace_of_a_check(tmp_path: Path) -> None:
    trace = Trace()
    checked = job(tmp_path, "1700000000.000001.2")
    checked.trace = trace
    directory = tmp_path / health.DIR_NAME
    pool(directory, [A, B]).failed(A, REFUSED)
    assert list(base.pool(checked, "clamd", [A, B])) == [B, A]
    assert trace.marked == ["clamd 127.0.0.2 port 3310: marked down, 30 s until it is tried again"]


def test_a_health_dir_others_can_write_is_not_used(tmp_path: Path) -> None:
    """Whoever can write in .health could plant marks (or, before its
    files are opened relative to it, links): group- or world-writable, the
    memory is not used at all, neither read nor written."""
    directory = tmp_path / health.DIR_NAME
    directory.mkdir(mode=0o750)
    pool(directory, [A, B]).failed(A, REFUSED)
    (mark_file,) = directory.iterdir()
    for mode in (0o770, 0o757):
        directory.chmod(mode)
        assert order(pool(directory, [A, B])) == [A, B]  # A's mark not read
        p = pool(directory, [A, B])
        p.failed(B, REFUSED)
        assert sorted(directory.iterdir()) == [mark_file]  # nor B's written
    directory.chmod(0o750)
    assert order(pool(directory, [A, B])) == [B, A]


# --- what a hostile review found: races, and what others can plant -----------


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


# --- what mutation testing found unpinned (mutmut on scan/health.py) ---------------
#
# The exact texts an admin reads (debug lines, `simscan check`'s trace, a
# mark's content, file names and modes), and each guard of the marks' dir.

NOW = 1700000000.0  # health's clock in the tests that need exact times


def debug_lines(lines: list[bytes]) -> list[str]:
    return b"".join(lines).decode().splitlines()


def clock(monkeypatch: pytest.MonkeyPatch, now: float = NOW) -> None:
    monkeypatch.setattr(health, "time", SimpleNamespace(time=lambda: now))


def plant_mark(directory: Path, endpoint: Endpoint, until_ns: int, mode: int = 0o640) -> Path:
    directory.mkdir(mode=0o750, exist_ok=True)
    path = mark_of(directory, endpoint)
    path.write_bytes(b"")
    path.chmod(mode)
    os.utime(path, ns=(until_ns, until_ns))
    return path


class Umask:
    def __init__(self, mask: int) -> None:
        self.mask = mask

    def __enter__(self) -> None:
        self.old = os.umask(self.mask)

    def __exit__(self, *exc: object) -> None:
        os.umask(self.old)


def test_the_marks_dir_is_named_dot_health(tmp_path: Path) -> None:
    """The README's cron line spares it by name, `simscan config` and the
    admin look there: WORKDIR/.health, whatever DIR_NAME says."""
    spread = job(tmp_path, "1700000000.000001.2", scanner_balance="spread")
    tried = base.pool(spread, "clamd", [A, B])
    assert isinstance(tried, health.Pool)
    tried.failed(B, REFUSED)
    assert os.listdir(tmp_path) == [".health"]
    assert os.listdir(tmp_path / ".health") == ["clamd-127.0.0.3-3310"]


def test_spread_reads_only_the_last_part_of_the_work_dir() -> None:
    # (dots in the path above it: usec 123456 + pid 4243 = 127699, 1 mod 3)
    workdir = "/var/qmail/sim.scan/1733450000.123456.4243"
    assert health.spread([A, B, C], workdir) == [B, C, A]
    assert health.spread([A, B, C], "1733450000.123456.4243") == [B, C, A]


@pytest.mark.parametrize(
    ("data", "hashed"),
    [
        # FNV-1a 32 bits, the published test vectors
        (b"", "811c9dc5"),
        (b"a", "e40c292c"),
        (b"foobar", "bf9cf968"),
    ],
)
def test_the_hash_is_fnv1a_32(data: bytes, hashed: str) -> None:
    assert health._hash(data.decode()) == hashed


@pytest.mark.parametrize(
    ("endpoint", "name"),
    [
        (C, "clamd-clamd.ctl-77fb3d71"),
        # a long last part: its first 32 characters
        (Endpoint(path="/run/" + "s" * 40), "clamd-" + "s" * 32 + "-cc702680"),
        # unsafe characters: each an underscore
        (Endpoint(path="/run/a b.sock"), "clamd-a_b.sock-1e48d115"),
        (Endpoint(path="/run/ü.sock"), "clamd-_.sock-c412b50b"),
        # a byte that is not UTF-8 (surrogate-escaped in the path): hashed as the byte
        (Endpoint(path="/run/\udcff.sock"), "clamd-_.sock-90026fd9"),
        # a host with unsafe characters: the hash of the host tells them apart
        (Endpoint(host="fe80::1%eth0", port=1), "clamd-fe80__1_eth0-1-28acf14b"),
    ],
)
def test_exact_file_names(endpoint: Endpoint, name: str) -> None:
    assert health.file_name("clamd", endpoint) == name


def test_the_debug_lines_and_trace_an_admin_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / ".health"
    clock(monkeypatch)
    lines: list[bytes] = []
    trace: list[str] = []
    p = pool(directory, [A, B], retry=30.5, lines=lines, trace=trace)
    p.failed(A, REFUSED)
    assert debug_lines(lines) == [
        "simscan:[0]: debug: clamd 127.0.0.2 port 3310: marked down for 30.5 s"
    ]
    assert mark_of(directory, A).read_bytes() == b"127.0.0.2:3310 [Errno 111] Connection refused\n"
    assert os.stat(mark_of(directory, A)).st_mtime_ns == 1700000030_500000000

    lines.clear()
    clock(monkeypatch, NOW + 10)
    p = pool(directory, [A, B], retry=30.5, lines=lines, trace=trace)
    assert order(p) == [B, A]
    assert debug_lines(lines) == [
        "simscan:[0]: debug: clamd 127.0.0.2 port 3310: marked down,"
        " 20 s until it is tried again; tried last"
    ]
    assert trace == ["clamd 127.0.0.2 port 3310: marked down, 20 s until it is tried again"]
    p.answered(B)  # (not marked: nothing to say)
    p.failed(B, REFUSED)
    p.answered(A)
    assert debug_lines(lines)[1:] == [
        "simscan:[0]: debug: clamd 127.0.0.3 port 3310: marked down for 30.5 s",
        "simscan:[0]: debug: clamd 127.0.0.2 port 3310: answered, no longer marked down",
    ]

    lines.clear()
    trace.clear()
    clock(monkeypatch, NOW + 41)  # B's mark (until NOW + 40.5) expired
    p = pool(directory, [B, A], retry=30.5, lines=lines, trace=trace)
    assert order(p) == [B, A]
    assert debug_lines(lines) == [
        "simscan:[0]: debug: clamd 127.0.0.3 port 3310: marked down; this message tries it again"
    ]
    assert trace == []
    assert os.stat(mark_of(directory, B)).st_mtime_ns == 1700000071_500000000


def test_a_mark_another_message_is_claiming_is_skipped(tmp_path: Path) -> None:
    """The lock on an expired mark is held by another process (another
    message renewing it): this one tries the endpoint last."""
    directory = tmp_path / ".health"
    pool(directory, [A, B]).failed(A, REFUSED)
    expire(mark_of(directory, A))
    before = os.stat(mark_of(directory, A)).st_mtime_ns
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl, sys\n"
         "f = open(sys.argv[1], 'r+b')\n"
         "fcntl.lockf(f, fcntl.LOCK_EX)\n"
         "print('locked', flush=True)\n"
         "sys.stdin.read()\n",
         str(mark_of(directory, A))],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        lines: list[bytes] = []
        trace: list[str] = []
        assert order(pool(directory, [A, B], lines=lines, trace=trace)) == [B, A]
        assert debug_lines(lines) == [
            "simscan:[0]: debug: clamd 127.0.0.2 port 3310: marked down,"
            " another message is trying it again; tried last"
        ]
        assert trace == [
            "clamd 127.0.0.2 port 3310: marked down, another message is trying it again"
        ]
        st = os.stat(mark_of(directory, A))
        assert health.claim(str(directory), mark_of(directory, A).name,
                            (st.st_ino, st.st_mtime_ns), time.time() + 30) is False  # fmt: skip
        assert os.stat(mark_of(directory, A)).st_mtime_ns == before
    finally:
        holder.communicate("", timeout=10)
    # the holder gone, its lock with it
    assert order(pool(directory, [A, B])) == [A, B]


@pytest.mark.parametrize(
    ("until_ns", "skipped"),
    [
        (1700000000_000000000, False),  # left == 0: expired
        (1700000000_500000000, True),  # half a second left
        (1700000001_000000000, True),
        (1700000030_000000000, True),  # left == retry exactly: still marked
        (1700000030_000001000, False),  # beyond now + retry: no mark of ours (a clock set back)
        (1699999999_000000000, False),
    ],
)
def test_marked_down_is_0_lt_left_le_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, until_ns: int, skipped: bool
) -> None:
    directory = tmp_path / ".health"
    plant_mark(directory, A, until_ns)
    clock(monkeypatch)
    assert order(pool(directory, [A, B])) == ([B, A] if skipped else [A, B])
    renewed = 1700000030_000000000
    assert os.stat(mark_of(directory, A)).st_mtime_ns == (until_ns if skipped else renewed)


def test_any_regular_file_under_a_marks_name_is_a_mark(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (whatever its permission bits: an admin's `touch` or chmod counts)
    directory = tmp_path / ".health"
    plant_mark(directory, A, 1700000010_000000000, mode=0o755)
    plant_mark(directory, B, 1699999990_000000000, mode=0o7777)
    clock(monkeypatch)
    lines: list[bytes] = []
    assert order(pool(directory, [A, B, C], lines=lines)) == [B, C, A]
    assert os.stat(mark_of(directory, B)).st_mtime_ns == 1700000030_000000000  # claimed
    assert debug_lines(lines) == [
        "simscan:[0]: debug: clamd 127.0.0.2 port 3310: marked down,"
        " 10 s until it is tried again; tried last",
        "simscan:[0]: debug: clamd 127.0.0.3 port 3310: marked down; this message tries it again",
    ]


def test_a_symlink_under_a_marks_name_is_not_a_mark(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A link to a regular file with an mtime that would say "down":
    neither read (stat follows no link) nor claimed nor touched."""
    directory = tmp_path / ".health"
    directory.mkdir(mode=0o750)
    target = tmp_path / "target"
    target.write_bytes(b"not a mark\n")
    os.utime(target, ns=(1700000010_000000000, 1700000010_000000000))
    mark_of(directory, A).symlink_to(target)
    clock(monkeypatch)
    lines: list[bytes] = []
    assert order(pool(directory, [A, B], lines=lines)) == [A, B]
    assert lines == []
    assert os.stat(target).st_mtime_ns == 1700000010_000000000
    assert target.read_bytes() == b"not a mark\n"


@pytest.mark.parametrize("kind", ["fifo", "dir"])
def test_a_fifo_or_dir_under_a_marks_name_is_not_a_mark(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    directory = tmp_path / ".health"
    directory.mkdir(mode=0o750)
    path = mark_of(directory, A)
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()
    os.utime(path, ns=(1700000010_000000000, 1700000010_000000000))
    clock(monkeypatch)
    lines: list[bytes] = []
    assert order(pool(directory, [A, B], lines=lines)) == [A, B]
    assert lines == []
    assert os.lstat(path).st_mtime_ns == 1700000010_000000000


def test_a_fifo_under_a_marks_name_does_not_hang_a_claim(tmp_path: Path) -> None:
    """(Put there between the look and the claim.)  open(O_WRONLY) of a
    FIFO with no reader would block until one comes."""
    directory = tmp_path / ".health"
    directory.mkdir(mode=0o750)
    os.mkfifo(mark_of(directory, A))
    code = (
        "import sys, time\n"
        "from simscan.scan import health\n"
        "print(health.claim(sys.argv[1], sys.argv[2], (0, 0), time.time() + 30))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(directory), mark_of(directory, A).name],
        capture_output=True, text=True, timeout=5, check=True,
    )  # fmt: skip
    assert done.stdout == "None\n"


def test_the_memory_is_read_each_time_a_next_endpoint_is_wanted(tmp_path: Path) -> None:
    """No .health (yet) says "usable" for the endpoint at hand: a mark
    another message writes meanwhile still counts for the ones after it."""
    directory = tmp_path / ".health"
    lines: list[bytes] = []
    tried = iter(pool(directory, [A, B, C], lines=lines))
    assert next(tried) == A
    assert lines == []
    pool(directory, [A, B, C]).failed(B, REFUSED)  # (another message)
    assert list(tried) == [C, B]


def test_a_mark_and_its_dir_are_made_0640_and_0750(tmp_path: Path) -> None:
    directory = tmp_path / ".health"
    with Umask(0):
        pool(directory, [A, B]).failed(A, REFUSED)
    assert os.stat(directory).st_mode == 0o040750
    assert os.stat(mark_of(directory, A)).st_mode == 0o100640


def test_a_stale_temp_file_is_replaced_and_none_left(tmp_path: Path) -> None:
    """`.NAME.PID` (a killed run's, or planted): removed first, never
    written through; the mark is a new file."""
    directory = tmp_path / ".health"
    directory.mkdir(mode=0o750)
    name = health.file_name("clamd", A)
    stale = directory / f".{name}.{os.getpid()}"
    stale.write_bytes(b"stale\n")
    inode = os.stat(stale).st_ino
    keep = tmp_path / "keep"
    os.link(stale, keep)  # (so its inode cannot be reused by the new one)
    pool(directory, [A, B]).failed(A, TIMED_OUT)
    assert os.listdir(directory) == [name]
    assert mark_of(directory, A).read_bytes() == b"127.0.0.2:3310 timed out\n"
    assert os.stat(mark_of(directory, A)).st_ino != inode
    assert keep.read_bytes() == b"stale\n"


def planted_after_unlink(
    monkeypatch: pytest.MonkeyPatch, temp: str, plant: Callable[[], None]
) -> None:
    """Whoever can write in .health puts `plant` under the temp name
    between mark()'s unlink of a stale one and its open."""
    import posix

    real = posix.unlink

    def unlink(path: str, *args: object, **kwargs: object) -> None:
        try:
            real(path, *args, **kwargs)  # type: ignore[arg-type]
        finally:
            if path == temp:
                monkeypatch.setattr(posix, "unlink", real)
                plant()

    monkeypatch.setattr(posix, "unlink", unlink)


def test_a_temp_name_planted_after_the_unlink_is_never_written_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / ".health"
    directory.mkdir(mode=0o750)
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious data\n")
    os.utime(victim, ns=(1600000000_000000000, 1600000000_000000000))
    name = health.file_name("clamd", A)
    temp = f".{name}.{os.getpid()}"
    for plant in (
        lambda: os.link(victim, directory / temp),
        lambda: os.symlink(victim, directory / temp),
        lambda: os.symlink(tmp_path / "created", directory / temp),
    ):
        lines: list[bytes] = []
        planted_after_unlink(monkeypatch, temp, plant)
        pool(directory, [A, B], lines=lines).failed(A, REFUSED)
        monkeypatch.undo()
        assert lines == []  # (not marked)
        assert os.listdir(directory) == []  # (the planted name removed)
        assert victim.read_bytes() == b"precious data\n"
        assert os.stat(victim).st_mtime_ns == 1600000000_000000000
        assert not (tmp_path / "created").exists()


_FIFO_AFTER_UNLINK = """
import os, posix, sys, time
from simscan.scan import health
directory, name = sys.argv[1], sys.argv[2]
temp = f".{name}.{os.getpid()}"
real = posix.unlink
def unlink(path, *args, **kwargs):
    try:
        real(path, *args, **kwargs)
    finally:
        if path == temp:
            posix.unlink = real
            os.mkfifo(f"{directory}/{temp}")
posix.unlink = unlink
print(health.mark(directory, name, time.time() + 30, b"x"), os.listdir(directory))
"""


def test_a_fifo_planted_after_the_unlink_does_not_hang_a_message(tmp_path: Path) -> None:
    directory = tmp_path / ".health"
    directory.mkdir(mode=0o750)
    name = health.file_name("clamd", A)
    done = subprocess.run(
        [sys.executable, "-c", _FIFO_AFTER_UNLINK, str(directory), name],
        capture_output=True, text=True, timeout=5, check=True,
    )  # fmt: skip
    assert done.stdout == "False []\n"


def test_a_mark_that_cannot_be_written_says_nothing(tmp_path: Path) -> None:
    directory = tmp_path / ".health"
    directory.mkdir(mode=0o750)
    mark_of(directory, A).mkdir()  # (a mark cannot be renamed over it)
    lines: list[bytes] = []
    p = pool(directory, [A, B], lines=lines)
    p.failed(A, REFUSED)
    assert lines == []
    assert os.listdir(directory) == [mark_of(directory, A).name]  # no temp file left
    assert health.mark(str(directory), mark_of(directory, A).name, time.time() + 30, b"") is False
    assert os.listdir(directory) == [mark_of(directory, A).name]
    p.answered(A)  # (never seen as a mark: nothing cleared)
    assert mark_of(directory, A).is_dir()


def test_a_mark_removed_meanwhile_is_not_said_cleared(tmp_path: Path) -> None:
    directory = tmp_path / ".health"
    pool(directory, [A, B, C]).failed(A, REFUSED)
    pool(directory, [A, B, C]).failed(B, REFUSED)
    lines: list[bytes] = []
    p = pool(directory, [A, B, C], lines=lines)
    assert order(p) == [C, A, B]
    lines.clear()
    os.unlink(mark_of(directory, A))  # (the admin, or another message's answer)
    p.answered(A)
    assert health.clear(str(directory), mark_of(directory, A).name) is False
    os.unlink(mark_of(directory, B))
    os.rmdir(directory)  # (the admin, or the cron line)
    p.answered(B)
    assert health.clear(str(directory), mark_of(directory, B).name) is False
    assert lines == []


def test_a_text_that_is_not_utf8_still_marks(tmp_path: Path) -> None:
    """The mark's content is for the admin: an endpoint or error with a
    character UTF-8 cannot encode (a surrogate-escaped byte) is written
    with a '?', and the mark is made."""
    directory = tmp_path / ".health"
    odd = Endpoint(path="/run/\udcff.sock")
    lines: list[bytes] = []
    p = pool(directory, [odd, A], lines=lines)
    p.failed(odd, ConnectFailed(FileNotFoundError(2, "No such file \udcfe"), 5.0))
    assert mark_of(directory, odd).read_bytes() == b"/run/?.sock [Errno 2] No such file ?\n"
    assert debug_lines(lines) == ["simscan:[0]: debug: clamd /run/?.sock: marked down for 30 s"]


def open_fds() -> list[str]:
    return sorted(os.listdir("/proc/self/fd"))


def test_a_health_that_is_a_regular_file_is_not_opened(tmp_path: Path) -> None:
    directory = tmp_path / ".health"
    directory.write_bytes(b"")
    directory.chmod(0o700)
    fds = open_fds()
    assert health._open_dir(str(directory)) is None
    assert health._open_dir(str(directory), create=True) is None
    assert open_fds() == fds
    pool(directory, [A, B]).failed(A, REFUSED)
    assert directory.read_bytes() == b""


def test_a_symlink_to_a_health_dir_is_not_opened(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir(mode=0o750)
    pool(real, [A, B]).failed(A, REFUSED)
    link = tmp_path / ".health"
    link.symlink_to(real)
    assert health._open_dir(str(link)) is None
    assert health._open_dir(str(link), create=True) is None
    assert order(pool(link, [A, B])) == [A, B]  # A's mark not read
    assert order(pool(real, [A, B])) == [B, A]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to chown")
def test_a_health_dir_of_another_user_is_not_used(tmp_path: Path) -> None:
    """(simscan as root, .health nobody's: root could read and write in
    it, but whoever owns it could plant marks or links.)"""
    directory = tmp_path / ".health"
    pool(directory, [A, B]).failed(A, REFUSED)
    os.chown(directory, 65534, 65534)
    fds = open_fds()
    assert health._open_dir(str(directory)) is None
    assert open_fds() == fds
    assert order(pool(directory, [A, B])) == [A, B]  # A's mark not read
    pool(directory, [A, B]).failed(B, REFUSED)  # nor B's written
    assert os.listdir(directory) == [mark_of(directory, A).name]
    os.chown(directory, 0, 0)
    assert order(pool(directory, [A, B])) == [B, A]


def test_a_health_dir_that_cannot_be_fstat_ed_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import posix

    directory = tmp_path / ".health"
    pool(directory, [A, B]).failed(A, REFUSED)

    def fstat(fd: int) -> os.stat_result:
        raise OSError(5, "Input/output error")

    fds = open_fds()
    monkeypatch.setattr(posix, "fstat", fstat)
    assert health._open_dir(str(directory)) is None
    assert order(pool(directory, [A, B])) == [A, B]
    monkeypatch.undo()
    assert open_fds() == fds
    assert order(pool(directory, [A, B])) == [B, A]


def test_a_symlink_swapped_in_for_a_mark_is_not_claimed(tmp_path: Path) -> None:
    """(Put there between the look and the claim, even to a file that is
    the very inode and mtime looked at.)  Neither locked nor renewed."""
    directory = tmp_path / ".health"
    directory.mkdir(mode=0o750)
    target = tmp_path / "target"
    target.write_bytes(b"")
    os.utime(target, ns=(1600000000_000000000, 1600000000_000000000))
    mark_of(directory, A).symlink_to(target)
    st = os.stat(target)
    seen = (st.st_ino, st.st_mtime_ns)
    assert health.claim(str(directory), mark_of(directory, A).name, seen, NOW + 30) is None
    assert os.stat(target).st_mtime_ns == 1600000000_000000000


def test_a_fifo_swapped_in_for_a_mark_is_not_claimed_even_with_a_reader(tmp_path: Path) -> None:
    """A reader lets open(O_WRONLY) of a FIFO succeed: the claim still
    renews only a regular file."""
    directory = tmp_path / ".health"
    directory.mkdir(mode=0o750)
    path = mark_of(directory, A)
    os.mkfifo(path)
    os.utime(path, ns=(1600000000_000000000, 1600000000_000000000))
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        st = os.lstat(path)
        seen = (st.st_ino, st.st_mtime_ns)
        assert health.claim(str(directory), path.name, seen, NOW + 30) is None
    finally:
        os.close(reader)
    assert os.lstat(path).st_mtime_ns == 1600000000_000000000


# --- Equivalent mutants ----------------------------------------------------------------
#
# What mutmut (2.x) changes in scan/health.py that no test can tell apart,
# and why (the other mutants are each failed by a test above):
#
# - `TYPE_CHECKING = False` -> True / None: the guard only keeps mypy's
#   imports (Callable, Iterator) from running; run, they import fine.
# - `_SAFE = frozenset("XXabc...XX")`: X is in the set already.
# - mark()'s `O_EXCL | O_NOFOLLOW & O_NONBLOCK` (no O_NOFOLLOW, no
#   O_NONBLOCK): with O_CREAT|O_EXCL, open fails (EEXIST) on anything
#   under the temp name, a symlink or a FIFO included, before either flag
#   could matter; both stay as a second guard.
# - claim()'s `lockf(fd, F_TLOCK, 0)` -> 1: every claimer locks from
#   offset 0 of a fresh fd, so "byte 0" and "byte 0 to EOF and beyond"
#   conflict alike (a lock held with length 0 by another process, as
#   test_a_mark_another_message_is_claiming_is_skipped holds it, covers
#   byte 0 too).
# - `__slots__ = None`: not equivalent but killed: the class cannot be
#   made, so collecting this file fails; mutmut 2 counts only pytest's exit
#   status 1 as killed, not a collection error's 2, and shows it survived.
