"""Run simscan the way qmail-smtpd does.

qmail-smtpd forks the $QMAILQUEUE program with the message on a pipe at
fd 0, the envelope on a pipe at fd 1, its log on fd 2 and (with the
custom-error patch) a pipe at fd 4 for the reject text; it writes the whole
message, closes fd 0's pipe, writes the envelope, closes that, and waits.
This module does exactly that with posix_spawn, and collects what the
recording qmail-queue stored.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).parent
RECORDER = HERE / "bin" / "recording-qmail-queue"
FORCED = HERE / "bin" / "simscan-forced-verdict"
_VERDICT_LINE = re.compile(rb"simscan:\[\d+\]:[A-Z]")
_WARNING = re.compile(rb"simscan:\[\d+\]: warning: (.*)")
_NOTE = re.compile(rb"simscan:\[\d+\]: note: (.*)")


def simscan_command() -> list[str]:
    """The installed simscan: next to the interpreter running the tests."""
    found = Path(sys.executable).parent / "simscan"
    if not found.exists():
        which = shutil.which("simscan")
        assert which, "simscan is not installed"
        found = Path(which)
    return [str(found)]


def simscanmk_command() -> list[str]:
    return [str(Path(simscan_command()[0]).parent / "simscanmk")]


def forced_command() -> list[str]:
    return [sys.executable, str(FORCED)]


def measured(command: list[str], report: Path) -> list[str]:
    """Wrap command in GNU time, which writes its peak RSS (KB) to report.

    (posix_spawn's child inherits the test process's memory high-water
    mark, so its own rusage would measure pytest, not simscan.)
    """
    return ["/usr/bin/time", "-f", "%M", "-o", str(report), *command]


@dataclass
class Record:
    message: bytes
    envelope: bytes


@dataclass
class Outcome:
    exit_code: int
    stderr: bytes
    custom_text: bytes
    records: list[Record]
    workdirs_left: list[str] = field(default_factory=list)

    @property
    def log_lines(self) -> list[bytes]:
        """The verdict lines: `simscan:[PPID]:STATE...`."""
        return [ln for ln in self.stderr.splitlines() if _VERDICT_LINE.match(ln)]

    @property
    def warnings(self) -> list[bytes]:
        """The text of the `simscan:[PPID]: warning: TEXT` lines."""
        return [m.group(1) for ln in self.stderr.splitlines() if (m := _WARNING.match(ln))]

    @property
    def notes(self) -> list[bytes]:
        """The text of the `simscan:[PPID]: note: TEXT` lines."""
        return [m.group(1) for ln in self.stderr.splitlines() if (m := _NOTE.match(ln))]


class Site:
    """A qmail site in a temp dir: control dir, work dir, recorder dir."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.control = root / "control"
        self.work = root / "work"
        self.queue = root / "queue"
        for d in (self.control, self.work, self.queue):
            d.mkdir(parents=True, exist_ok=True)
        self.config = self.control / "simscan.toml"
        self.configure()

    def configure(self, text: str = "", **values: object) -> None:
        """Write simscan.toml: the site's paths, then `values`, then `text`."""
        base = {
            "user": "",
            "workdir": str(self.work),
            "controldir": str(self.control),
            "qmail_queue": str(RECORDER),
            # ClamAV is on by default (as in C); tests that want it say so.
            "clamav": False,
        }
        base.update(values)
        lines = [f"{k} = {_toml(v)}" for k, v in base.items()]
        self.config.write_text("\n".join(lines) + "\n" + text)

    def simcontrol(self, text: str | bytes) -> subprocess.CompletedProcess[bytes]:
        """Write control/simcontrol and compile it with the installed
        simscanmk; fails the test if simscanmk does."""
        data = text.encode() if isinstance(text, str) else text
        (self.control / "simcontrol").write_bytes(data)
        done = self.simscanmk()
        assert done.returncode == 0, done.stderr
        return done

    def simscanmk(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [*simscanmk_command(), *args], env=self.env(), capture_output=True, check=False
        )

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "SIMSCAN_CONFIG": str(self.config),
            "QQ_RECORD_DIR": str(self.queue),
        }
        env.update(extra)
        return env

    def clear_queue(self) -> None:
        """Forget what the recorder stored (records and its .done files)."""
        shutil.rmtree(self.queue)
        self.queue.mkdir()

    def records(self) -> list[Record]:
        out = []
        for d in sorted(self.queue.iterdir()):
            if d.name.startswith("."):  # .tmp.PID (not whole), .done.PID
                continue
            out.append(Record((d / "message").read_bytes(), (d / "envelope").read_bytes()))
        return out

    def run(
        self,
        message: bytes | Path,
        envelope: bytes,
        *,
        env: dict[str, str] | None = None,
        error_fd: int = 4,
        command: list[str] | None = None,
        hold_input: bool = False,
        kill_after: float | None = None,
        kill_signal: int = signal.SIGTERM,
        during: Callable[[int], None] | None = None,
        timeout: float = 120,
    ) -> Outcome:
        """Run simscan on one message; hold_input keeps fd 0 open (a slow
        client) so a signal can be sent while simscan reads; `during` is
        called with simscan's pid once it runs."""
        before = set(os.listdir(self.work))
        result = smtpd_run(
            command or simscan_command(),
            message,
            envelope,
            env=env if env is not None else self.env(),
            error_fd=error_fd,
            hold_input=hold_input,
            kill_after=kill_after,
            kill_signal=kill_signal,
            during=during,
            timeout=timeout,
        )
        result.records = self.records()
        # (.health, the marks of scanner endpoints that are down, is no work dir)
        result.workdirs_left = sorted(set(os.listdir(self.work)) - before - {".health"})
        return result


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def smtpd_run(
    command: list[str],
    message: bytes | Path,
    envelope: bytes,
    *,
    env: dict[str, str],
    error_fd: int = 4,
    hold_input: bool = False,
    kill_after: float | None = None,
    kill_signal: int = signal.SIGTERM,
    during: Callable[[int], None] | None = None,
    timeout: float = 120,
) -> Outcome:
    msg_r, msg_w = os.pipe()
    env_r, env_w = os.pipe()
    err_r, err_w = os.pipe()
    log_r, log_w = os.pipe()
    pid = os.posix_spawn(
        command[0],
        command,
        env,
        file_actions=[
            (os.POSIX_SPAWN_DUP2, msg_r, 0),
            (os.POSIX_SPAWN_DUP2, env_r, 1),
            (os.POSIX_SPAWN_DUP2, log_w, 2),
            (os.POSIX_SPAWN_DUP2, err_w, error_fd),
        ],
    )
    for fd in (msg_r, env_r, log_w, err_w):
        os.close(fd)

    log = bytearray()
    reader = threading.Thread(target=_drain, args=(log_r, log), daemon=True)
    reader.start()
    release = threading.Event()
    writer = threading.Thread(
        target=_feed, args=(msg_w, env_w, message, envelope, hold_input, release), daemon=True
    )
    writer.start()

    if kill_after is not None:
        time.sleep(kill_after)
        os.kill(pid, kill_signal)
    if during is not None:
        during(pid)
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            raise AssertionError("simscan did not finish in time")
        time.sleep(0.005)
    release.set()
    reader.join(10)
    writer.join(10)
    custom = os.read(err_r, 4096)
    os.close(err_r)
    return Outcome(
        exit_code=os.waitstatus_to_exitcode(status),
        stderr=bytes(log),
        custom_text=custom,
        records=[],
    )


def _drain(fd: int, into: bytearray) -> None:
    while chunk := os.read(fd, 65536):
        into += chunk
    os.close(fd)


def _feed(
    msg_w: int,
    env_w: int,
    message: bytes | Path,
    envelope: bytes,
    hold: bool,
    release: threading.Event,
) -> None:
    try:
        if isinstance(message, Path):
            with message.open("rb") as f:
                while chunk := f.read(1 << 16):
                    os.write(msg_w, chunk)
        else:
            _write_all(msg_w, message)
        if hold:
            release.wait(60)
            return
        os.close(msg_w)
        msg_w = -1
        _write_all(env_w, envelope)
    except BrokenPipeError:
        pass  # simscan stopped reading: its exit code tells why
    finally:
        for fd in (msg_w, env_w):
            if fd >= 0:
                os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def tinycdb(path: Path, pairs: list[tuple[bytes, bytes]]) -> None:
    """Build a cdb with Debian's tinycdb (`cdb -c`), not with our code."""
    text = b"".join(b"+%d,%d:%s->%s\n" % (len(k), len(v), k, v) for k, v in pairs) + b"\n"
    subprocess.run(["cdb", "-c", str(path)], input=text, check=True)


def envelope(sender: bytes, *recipients: bytes) -> bytes:
    return b"F" + sender + b"\0" + b"".join(b"T" + r + b"\0" for r in recipients) + b"\0"
