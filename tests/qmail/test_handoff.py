"""Handing off to qmail-queue, with the stand-in qmail-queue run from the
test process (end to end, inside the installed simscan: tests/e2e/
test_e2e_kill.py and test_e2e_failures.py)."""

from __future__ import annotations

import errno
import os
import posix
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from simscan.errors import Interrupted, QueueError, exit_code_for
from simscan.qmail import handoff

RECORDER = Path(__file__).parent.parent / "bin" / "recording-qmail-queue"
STOP = (signal.SIGTERM, signal.SIGHUP)
MESSAGE = b"Subject: hand-off\n\n" + b"0123456789abcdef" * 40_000  # 640 KB: fills a pipe
ENVELOPE = b"Fa@b\0Tc@d\0Te@f\0\0"


@pytest.fixture
def queue_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A record dir for the stand-in qmail-queue; hand_off blocks signals in
    the calling process, so the test process's mask is put back after."""
    record = tmp_path / "queue"
    record.mkdir()
    monkeypatch.setenv("QQ_RECORD_DIR", str(record))
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    yield record
    while signal.sigtimedwait(STOP, 0):  # a stop signal a test sent itself
        pass
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def recorded(record: Path) -> list[tuple[bytes, bytes]]:
    return [
        ((d / "message").read_bytes(), (d / "envelope").read_bytes())
        for d in sorted(record.iterdir())
        if not d.name.startswith(".")
    ]


@pytest.mark.parametrize("prefix", [b"", b"Received: (simscan test)\n"])
def test_hand_off(queue_dir: Path, tmp_path: Path, prefix: bytes) -> None:
    path = tmp_path / "msg"
    path.write_bytes(MESSAGE)
    status = handoff.hand_off(str(RECORDER), str(path), ENVELOPE, prefix, (signal.SIGTERM,))
    assert status == 0
    assert recorded(queue_dir) == [(prefix + MESSAGE, ENVELOPE)]


@pytest.mark.parametrize("errno_", [errno.EINVAL, errno.ENOSYS])
def test_hand_off_where_sendfile_cannot_read_the_file(
    queue_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, errno_: int
) -> None:
    """Some file systems' files cannot be sendfile's source: copied by hand."""
    path = tmp_path / "msg"
    path.write_bytes(MESSAGE)

    def no_sendfile(*args: object) -> int:
        raise OSError(errno_, os.strerror(errno_))

    monkeypatch.setattr(posix, "sendfile", no_sendfile)
    status = handoff.hand_off(str(RECORDER), str(path), ENVELOPE, b"Received: x\n")
    assert status == 0
    assert recorded(queue_dir) == [(b"Received: x\n" + MESSAGE, ENVELOPE)]


def test_hand_off_write_error_stops_qmail_queue(
    queue_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "msg"
    path.write_bytes(MESSAGE)
    real = os.sendfile
    calls: list[int] = []

    def failing(out: int, src: int, offset: int, count: int) -> int:
        calls.append(offset)
        if offset:  # the second chunk fails
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real(out, src, offset, min(count, 1000))

    monkeypatch.setattr(posix, "sendfile", failing)
    with pytest.raises(QueueError) as info:
        handoff.hand_off(str(RECORDER), str(path), ENVELOPE, b"Received: x\n")
    assert str(info.value) == "cannot write the message to qmail-queue (Input/output error)"
    assert exit_code_for(info.value) == 71
    assert len(calls) == 2
    assert recorded(queue_dir) == []  # stopped (SIGTERM) before it read on
    assert list(queue_dir.glob(".done.*")) == []


@pytest.mark.parametrize("prefix", [b"", b"Received: x\n"])
def test_hand_off_to_a_qmail_queue_that_quits_early(
    queue_dir: Path, tmp_path: Path, prefix: bytes
) -> None:
    """Its status is the answer; we neither hang on a full pipe nor fail."""
    quitter = tmp_path / "quitter"
    quitter.write_text("#!/bin/sh\nexit 81\n")
    quitter.chmod(0o755)
    path = tmp_path / "msg"
    path.write_bytes(MESSAGE)
    assert handoff.hand_off(str(quitter), str(path), ENVELOPE, prefix) == 81


def test_hand_off_cannot_run_qmail_queue(queue_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "msg"
    path.write_bytes(MESSAGE)
    with pytest.raises(QueueError) as info:
        handoff.hand_off(str(tmp_path / "missing"), str(path), ENVELOPE, b"")
    assert str(info.value) == f"cannot run {tmp_path / 'missing'} (No such file or directory)"


def test_hand_off_cannot_open_the_message(queue_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(QueueError) as info:
        handoff.hand_off(str(RECORDER), str(tmp_path / "gone"), ENVELOPE, b"")
    assert str(info.value) == "cannot open the message file (No such file or directory)"


def script(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + text)
    path.chmod(0o755)
    return str(path)


@pytest.mark.parametrize("prefix", [b"", b"Received: x\n"])
def test_hand_off_stop_signal_after_qmail_queue_finished_with_0(
    queue_dir: Path, tmp_path: Path, prefix: bytes
) -> None:
    """A stop signal that comes once qmail-queue has queued the message
    must not turn it into a failure (the retry would be a duplicate):
    qmail-queue is told to stop, finishes with 0, and 0 is the answer.
    With the Received line the signal is seen while feeding (this one
    does not read), without it while waiting."""
    path = tmp_path / "msg"
    path.write_bytes(MESSAGE)
    done = script(tmp_path, "done", "trap '' TERM\nkill -TERM $PPID\nsleep 0.5\nexit 0\n")
    assert handoff.hand_off(done, str(path), ENVELOPE, prefix, STOP) == 0


def test_hand_off_stop_signal_stops_qmail_queue(queue_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "msg"
    path.write_bytes(MESSAGE)
    busy = script(tmp_path, "busy", "kill -HUP $PPID\nexec sleep 30\n")
    with pytest.raises(Interrupted) as info:
        handoff.hand_off(busy, str(path), ENVELOPE, b"Received: x\n", STOP)
    assert str(info.value) == f"interrupted by signal {signal.SIGHUP}"


def test_hand_off_no_envelope_for_a_qmail_queue_that_stopped_reading_the_message(
    queue_dir: Path, tmp_path: Path
) -> None:
    """A qmail-queue (or a chained filter) that closes fd 0 early and then
    reads fd 1 gets no envelope: it must never commit part of a message."""
    seen = tmp_path / "envelope-seen"
    early = script(
        tmp_path, "early", f"head -c 100 >/dev/null\nexec 0<&-\ncat <&1 >{seen}\nexit 54\n"
    )
    path = tmp_path / "msg"
    path.write_bytes(MESSAGE)
    assert handoff.hand_off(early, str(path), ENVELOPE, b"Received: x\n") == 54
    assert seen.read_bytes() == b""


def test_hand_off_envelope_write_error(
    queue_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "msg"
    path.write_bytes(MESSAGE)
    real = os.write

    def failing(fd: int, data: bytes) -> int:
        if bytes(data[:1]) == b"F":
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real(fd, data)

    monkeypatch.setattr(posix, "write", failing)
    with pytest.raises(QueueError) as info:
        handoff.hand_off(str(RECORDER), str(path), ENVELOPE, b"")
    assert str(info.value) == "cannot write the envelope to qmail-queue (Input/output error)"
    assert recorded(queue_dir) == []


def test_hand_off_qmail_queue_quits_while_a_child_holds_its_input(
    queue_dir: Path, tmp_path: Path
) -> None:
    """No EPIPE comes (the child holds the pipe), but qmail-queue's exit is
    seen: its status is the answer, and we do not wait for the child."""
    pid_file = tmp_path / "child"
    quitter = script(tmp_path, "quitter", f"sleep 30 &\necho $! >{pid_file}\nexit 81\n")
    path = tmp_path / "msg"
    path.write_bytes(MESSAGE)
    big_envelope = b"Fa@b\0" + b"".join(b"Tr%06d@example.net\0" % i for i in range(8000)) + b"\0"
    try:
        for prefix, envelope in ((b"Received: x\n", ENVELOPE), (b"", big_envelope)):
            started = time.monotonic()
            assert handoff.hand_off(quitter, str(path), envelope, prefix, STOP) == 81
            assert time.monotonic() - started < 5
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
    finally:
        if pid_file.exists():
            try:
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_hand_off_stop_escalates_to_sigkill(
    queue_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A qmail-queue that ignores SIGTERM is killed after STOP_GRACE."""
    monkeypatch.setattr(handoff, "STOP_GRACE", 0.3)
    stubborn = script(tmp_path, "stubborn", "trap '' TERM\nkill -TERM $PPID\nexec sleep 30\n")
    path = tmp_path / "msg"
    path.write_bytes(MESSAGE)
    started = time.monotonic()
    with pytest.raises(Interrupted) as info:
        handoff.hand_off(stubborn, str(path), ENVELOPE, b"Received: x\n", STOP)
    assert 0.3 <= time.monotonic() - started < 3
    assert str(info.value) == f"interrupted by signal {signal.SIGTERM}"


@pytest.mark.parametrize("status", [0, 31])
def test_hand_off_stop_signal_once_qmail_queue_has_everything(
    queue_dir: Path, tmp_path: Path, status: int
) -> None:
    """It may be committing: it is given time to finish, and its status
    stands (a 0 is queued; a 31 stays a refusal, not a 71)."""
    path = tmp_path / "msg"
    path.write_bytes(MESSAGE)
    late = script(
        tmp_path, "late", f"cat >/dev/null\ncat <&1 >/dev/null\nkill -TERM $PPID\n"
        f"sleep 0.3\nexit {status}\n",
    )  # fmt: skip
    assert handoff.hand_off(late, str(path), ENVELOPE, b"Received: x\n", STOP) == status


def test_hand_off_stop_signal_before_qmail_queue_read_the_envelope(
    queue_dir: Path, tmp_path: Path
) -> None:
    """Without the whole envelope it cannot have queued: stopped at once."""
    path = tmp_path / "msg"
    path.write_bytes(b"Subject: small\n\nhi\n")
    reader = script(tmp_path, "reader", "cat >/dev/null\nkill -TERM $PPID\nexec sleep 30\n")
    started = time.monotonic()
    with pytest.raises(Interrupted):
        handoff.hand_off(reader, str(path), ENVELOPE, b"", STOP)
    assert time.monotonic() - started < handoff.STOP_GRACE


def test_hand_off_stop_grace_is_five_seconds() -> None:
    """As README and design.md say."""
    assert handoff.STOP_GRACE == 5.0


def test_hand_off_stop_signal_once_qmail_queue_has_everything_but_hangs(
    queue_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The grace is a bound: still running after it, qmail-queue is stopped."""
    monkeypatch.setattr(handoff, "STOP_GRACE", 0.3)
    path = tmp_path / "msg"
    path.write_bytes(MESSAGE)
    hung = script(
        tmp_path, "hung", "cat >/dev/null\ncat <&1 >/dev/null\nkill -HUP $PPID\nexec sleep 30\n"
    )
    started = time.monotonic()
    with pytest.raises(Interrupted) as info:
        handoff.hand_off(hung, str(path), ENVELOPE, b"Received: x\n", STOP)
    assert 0.3 <= time.monotonic() - started < 3
    assert str(info.value) == f"interrupted by signal {signal.SIGHUP}"
