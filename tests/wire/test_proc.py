"""proc.run: exit codes, merged output, time limits, and that every child
is reaped and every descriptor closed, whatever happens."""

from __future__ import annotations

import os
import posix
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simscan.wire import proc
from simscan.wire.proc import MAX_OUTPUT, run

SH = "/bin/sh"


def open_fds() -> set[int]:
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


@pytest.fixture
def pids(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The pids run() spawns; after the test none may be left unreaped,
    and no descriptor may be left open."""
    spawned: list[int] = []
    real_spawn = posix.posix_spawn

    def spawn(*args: Any, **kwargs: Any) -> int:
        pid = real_spawn(*args, **kwargs)
        spawned.append(pid)
        return pid

    monkeypatch.setattr(posix, "posix_spawn", spawn)
    before = open_fds()
    yield spawned
    for pid in spawned:
        assert_reaped(pid)
    assert open_fds() == before


def assert_reaped(pid: int) -> None:
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_exit_code_and_merged_output(pids: list[int]) -> None:
    status, output = run([SH, "-c", "echo out; echo err >&2; echo out2; exit 3"], 5)
    assert status == 3
    assert output == b"out\nerr\nout2\n"
    assert len(pids) == 1


def test_success_and_silence(pids: list[int]) -> None:
    assert run(["/bin/true"], 5) == (0, b"")


def test_killed_by_a_signal(pids: list[int]) -> None:
    status, output = run([SH, "-c", "echo before; kill -TERM $$; echo after"], 5)
    assert status == -signal.SIGTERM
    assert output == b"before\n"
    status, _ = run([SH, "-c", "kill -KILL $$"], 5)
    assert status == -signal.SIGKILL


def test_timeout_kills_and_reaps(pids: list[int]) -> None:
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        run(["/bin/sleep", "30"], 0.5)
    assert time.monotonic() - start < 10
    assert len(pids) == 1
    assert_reaped(pids[0])


def test_timeout_after_closing_output(pids: list[int]) -> None:
    """A child that closes its output but goes on running still times out."""
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        run([SH, "-c", "echo hi; exec >/dev/null 2>&1; exec /bin/sleep 30"], 0.5)
    assert time.monotonic() - start < 10
    assert_reaped(pids[0])


def test_timeout_while_talking(pids: list[int]) -> None:
    """A child that never stops writing is stopped at the time limit."""
    with pytest.raises(TimeoutError):
        run([SH, "-c", "while :; do echo spam; done"], 0.5)
    assert_reaped(pids[0])


def test_interrupted_kills_and_reaps(pids: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever is raised while the child runs (a stop signal's exception)
    goes on, after the child is killed and reaped."""

    class Interrupted(BaseException):
        pass

    def collect(*args: object) -> bytes:
        raise Interrupted

    monkeypatch.setattr(proc, "_collect", collect)
    with pytest.raises(Interrupted):
        run(["/bin/sleep", "30"], 5)
    assert_reaped(pids[0])


@pytest.mark.parametrize("program", ["/nonexistent/clamdscan", "relative-name"])
def test_missing_program(pids: list[int], program: str) -> None:
    with pytest.raises(OSError):
        run([program, "--version"], 5)
    assert pids == []


def test_not_executable(pids: list[int], tmp_path: Path) -> None:
    script = tmp_path / "script"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    with pytest.raises(PermissionError):
        run([str(script)], 5)


def test_output_over_the_limit(pids: list[int]) -> None:
    """What is over MAX_OUTPUT is read and dropped: the child is not
    blocked on a full pipe, and finishes with its own status."""
    size = MAX_OUTPUT * 3 + 12345
    status, output = run([SH, "-c", f"head -c {size} /dev/zero; echo done >&2; exit 5"], 10)
    assert status == 5
    assert len(output) == MAX_OUTPUT
    assert output == bytes(MAX_OUTPUT)


def test_output_limit_is_exact(pids: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    """No more than MAX_OUTPUT bytes are kept, however the reads fall."""
    monkeypatch.setattr(proc, "MAX_OUTPUT", 1000)
    status, output = run([SH, "-c", "head -c 5000 /dev/zero | tr '\\0' x"], 5)
    assert status == 0
    assert output == b"x" * 1000


def test_stdin(pids: list[int], tmp_path: Path) -> None:
    path = tmp_path / "in"
    path.write_bytes(b"line one\nline two\n")
    fd = os.open(path, os.O_RDONLY)
    try:
        assert run(["/bin/cat"], 5, stdin=fd) == (0, b"line one\nline two\n")
        os.fstat(fd)  # still open: the caller's to close
    finally:
        os.close(fd)


def test_stdin_defaults_to_dev_null(pids: list[int]) -> None:
    assert run(["/bin/cat"], 5) == (0, b"")


def test_child_signal_state(pids: list[int]) -> None:
    """Default SIGPIPE (the interpreter ignores it), nothing blocked."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    try:
        status, output = run(["/bin/grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"], 5)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    assert status == 0
    fields = dict(line.split(b":\t") for line in output.splitlines())
    assert int(fields[b"SigBlk"], 16) == 0
    ignored = int(fields[b"SigIgn"], 16)
    assert not ignored & (1 << (signal.SIGPIPE - 1))
    assert not ignored & (1 << (signal.SIGXFSZ - 1))


def test_environment_is_passed(pids: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    # (the environment simscan was started with: qmail-smtpd's)
    monkeypatch.setitem(posix.environ, b"SIMSCAN_TEST_VALUE", b"hello there")
    assert run([SH, "-c", 'echo "$SIMSCAN_TEST_VALUE"'], 5) == (0, b"hello there\n")


def test_no_descriptors_leak_to_the_child(pids: list[int]) -> None:
    """The child gets fds 0, 1 and 2 and what the parent has marked
    inheritable (not run()'s own pipe ends, nor /dev/null's)."""
    inheritable = {fd for fd in open_fds() if fd > 2 and inheritable_fd(fd)}
    status, output = run(["/bin/ls", "/proc/self/fd"], 5)
    assert status == 0
    fds = {int(x) for x in output.split()}
    assert {0, 1, 2} <= fds
    extra = fds - {0, 1, 2} - inheritable
    assert len(extra) <= 1  # the directory ls has open to list it


def inheritable_fd(fd: int) -> bool:
    try:
        return os.get_inheritable(fd)
    except OSError:
        return False
