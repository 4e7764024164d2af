"""End to end: simscan killed (SIGKILL, as the OOM killer does) or stopped
at any instant of the hand-off never leaves a cut copy in the queue.

qmail-smtpd answers 451 when its qmail-queue (simscan) dies, so the sender
retries.  The stand-in qmail-queue reads exactly as qmail-queue.c does: the
message to EOF, then the envelope, committing only a complete one.  So
the promise checked here is: whatever is recorded is the whole message,
and a copy is recorded only when simscan had handed qmail-queue all of it
(message and envelope) before it died.  The recorder pauses at a chosen
point of its reading (QQ_PAUSE_AT) and the kill lands there.
"""

from __future__ import annotations

import fcntl
import os
import random
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from daemons import Spamd
from harness import Outcome, Site
from test_e2e_basic import ENV
from test_e2e_spam import CLEAN


def pipe_size() -> int:
    """What a new pipe holds here (64 KiB with 4 KiB pages): simscan never
    resizes its pipes, so while qmail-queue has read less than SIZE - PIPE
    bytes, simscan cannot have written the message's end, nor the envelope."""
    r, w = os.pipe()
    try:
        return fcntl.fcntl(w, fcntl.F_GETPIPE_SZ)
    finally:
        os.close(r)
        os.close(w)


PIPE = pipe_size()
# 3 MiB and a bit: many times a pipe's buffer.
BIG = b"Subject: big\n\n" + b"".join(
    b"line %07d of a large message, with some text to make it long enough\n" % i
    for i in range(45_000)
)
SIZE = len(BIG)
RECEIVED = re.compile(rb"Received: \(simscan [^\n]*\n [^\n]*\n\Z")


def wait_for(path: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.002)


def wait_exit(pid: int, seconds: float) -> bool:
    """Wait until pid has exited, without reaping it (the harness does)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
            return True
        time.sleep(0.005)
    return False


def queue_exits(site: Site) -> list[int]:
    """The stand-in qmail-queue's exit code for each run that read input."""
    return [int(p.read_text()) for p in site.queue.glob(".done.*")]


def assert_whole(out: Outcome, received: bool, message: bytes = BIG) -> None:
    """Every recorded copy is the whole message and the whole envelope."""
    for rec in out.records:
        assert rec.envelope == ENV
        assert rec.message.endswith(message), (
            f"cut copy queued: {len(rec.message)} of {len(message)} bytes"
        )
        prefix = rec.message[: len(rec.message) - len(message)]
        if received:
            assert RECEIVED.match(prefix), prefix
        else:
            assert prefix == b""


def paused_run(
    site: Site,
    point: str,
    received: bool,
    act: Callable[[int], None],
    message: bytes = BIG,
    envelope: bytes = ENV,
    **settings: object,
) -> Outcome:
    """Run simscan on `message`; when qmail-queue reaches `point`, call
    act(pid), then let qmail-queue go on."""
    site.configure(received=received, **settings)
    site.clear_queue()
    pause = site.root / f"pause-{point}-{received}"
    pause.mkdir()

    def during(pid: int) -> None:
        try:
            wait_for(pause / "paused")
            act(pid)
        finally:
            (pause / "go").touch()

    return site.run(
        message, envelope, env=site.env(QQ_PAUSE_AT=point, QQ_PAUSE_DIR=str(pause)), during=during
    )


def sigkill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    assert wait_exit(pid, 10)  # dead before qmail-queue reads on


FEEDING = ["0", "1", "65535", "65536", "1048576", str(SIZE - PIPE - 1)]


@pytest.mark.parametrize("point", FEEDING)
def test_sigkill_while_feeding_the_received_line_and_message(site: Site, point: str) -> None:
    """The message goes through a pipe: a kill here must leave nothing."""
    out = paused_run(site, point, True, sigkill)
    assert out.exit_code == -signal.SIGKILL
    assert out.records == [], f"queued after a kill at {point} bytes"
    # qmail-queue saw the cut message end, then an empty envelope: 54.
    assert queue_exits(site) == [54]
    assert out.log_lines == []


@pytest.mark.parametrize("point", [*FEEDING, str(SIZE - PIPE // 2), str(SIZE - 1000), "eof"])
@pytest.mark.parametrize("received", [True, False], ids=["received", "plain"])
def test_sigkill_anywhere_never_queues_a_cut_copy(site: Site, point: str, received: bool) -> None:
    """Near the end (the rest may sit in the pipe) or with the message file
    itself as fd 0, a whole copy may be queued; a cut one never."""
    out = paused_run(site, point, received, sigkill)
    assert out.exit_code == -signal.SIGKILL
    assert_whole(out, received)
    exits = queue_exits(site)
    assert exits == ([0] if out.records else [54])
    # SIGKILL gives simscan no chance to clean up: its work dir stays.
    assert len(out.workdirs_left) == 1


@pytest.mark.parametrize("received", [True, False], ids=["received", "plain"])
def test_sigkill_after_qmail_queue_had_everything_queues_one_whole_copy(
    site: Site, received: bool
) -> None:
    """qmail-queue had all of it: it commits, as the real one would (qmail-smtpd
    says 451 and the retry is a duplicate, as with any qmail-queue)."""
    out = paused_run(site, "envelope", received, sigkill)
    assert out.exit_code == -signal.SIGKILL
    assert len(out.records) == 1
    assert_whole(out, received)
    assert queue_exits(site) == [0]


def test_sigkill_at_random_moments(site: Site) -> None:
    """Kills spread over the whole hand-off of a slowly read message, so
    some land between the message's last byte and the envelope."""
    rng = random.Random(1800)
    site.configure(received=True)
    outcomes = {"none": 0, "whole": 0}
    for _ in range(30):
        site.clear_queue()
        pause = site.root / "pause-random"
        pause.mkdir(exist_ok=True)
        for f in pause.iterdir():
            f.unlink()
        delay = rng.uniform(0, 0.12)

        def during(pid: int, delay: float = delay, pause: Path = pause) -> None:
            wait_for(pause / "paused")
            (pause / "go").touch()
            time.sleep(delay)
            os.kill(pid, signal.SIGKILL)

        env = site.env(QQ_PAUSE_AT="0", QQ_PAUSE_DIR=str(pause), QQ_READ_DELAY="0.0015")
        out = site.run(BIG, ENV, env=env, during=during)
        assert_whole(out, True)
        exits = queue_exits(site)
        if out.exit_code == 0:  # finished before the kill
            assert exits == [0] and len(out.records) == 1
            continue
        assert out.exit_code == -signal.SIGKILL
        assert exits == ([0] if out.records else [54])
        outcomes["whole" if out.records else "none"] += 1
    assert outcomes["none"] > 0  # the kills did land mid-feed


@pytest.mark.parametrize("point", ["0", "1048576", "eof"])
@pytest.mark.parametrize("received", [True, False], ids=["received", "plain"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_stop_signal_while_qmail_queue_stalls(
    site: Site, point: str, received: bool, signum: int
) -> None:
    """A qmail-queue that stops reading does not hold simscan past a stop
    signal: qmail-queue is stopped (nothing queued) and the sender gets 71."""
    stopped: list[bool] = []

    def stop(pid: int) -> None:
        os.kill(pid, signum)
        stopped.append(wait_exit(pid, 10))

    out = paused_run(site, point, received, stop)
    assert stopped == [True], "simscan waited for a stalled qmail-queue"
    assert out.exit_code == 71
    (line,) = out.log_lines
    assert f"interrupted by signal {signum}".encode() in line
    assert out.records == []
    assert out.workdirs_left == []


SPAM_BODY = b"line of a long but innocent report\n" * 6000  # 210 KB


@pytest.mark.parametrize("point", ["0", "envelope"])
def test_sigkill_while_queueing_spamassassins_copy(site: Site, spamd: Spamd, point: str) -> None:
    """The copy spamd returned (msg.spam in the work dir) goes the same way."""
    message = CLEAN + SPAM_BODY
    out = paused_run(
        site, point, True, sigkill, message,
        spam=True, spamd=str(spamd.socket), size_limit=2_000_000, spamd_timeout=60,
    )  # fmt: skip
    assert out.exit_code == -signal.SIGKILL
    for rec in out.records:
        assert rec.envelope == ENV
        assert b"X-Spam-Status: " in rec.message
        assert rec.message.endswith(SPAM_BODY)
    if point == "envelope":
        assert len(out.records) == 1
    elif len(SPAM_BODY) > PIPE:
        assert out.records == []
        assert queue_exits(site) == [54]


# An envelope bigger than a pipe: while qmail-queue waits, simscan cannot
# have written all of it.
LONG_ENV = (
    b"Fs@example.com\0" + b"".join(b"Trecipient%05d@example.net\0" % i for i in range(6000)) + b"\0"
)


@pytest.mark.parametrize(
    ("received", "point"), [(True, "eof"), (False, "0"), (False, "eof")], ids=str
)
def test_sigkill_while_the_envelope_is_half_written(site: Site, received: bool, point: str) -> None:
    """The message is all in, its EOF too; the envelope is not: 54, nothing."""
    assert len(LONG_ENV) > PIPE
    message = b"Subject: many recipients\n\nhello\n"
    out = paused_run(site, point, received, sigkill, message, LONG_ENV)
    assert out.exit_code == -signal.SIGKILL
    assert out.records == []
    assert queue_exits(site) == [54]
