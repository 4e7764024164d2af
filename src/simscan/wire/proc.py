"""Run a helper program (clamdscan, later spamc) with a time limit.

posix_spawn and a poll loop rather than subprocess: subprocess costs
several milliseconds to import per message.  The child gets /dev/null on
fd 0, one pipe for fds 1 and 2, default SIGPIPE/SIGXFSZ, an empty signal
mask and its own process group.  On a timeout, or on anything raised while
it runs (a stop signal), the group is killed and the child reaped before
the error goes on.
"""

import posix  # os's own core: `import os` costs ~0.9 ms per message (see cli.py)
import select
import time

from .netio import Deadline

TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal as _signal
    from collections.abc import Callable
else:
    import _signal

MAX_OUTPUT = 1 << 20  # output kept; the rest is read and dropped


def run(
    argv: list[str],
    timeout: float,
    stdin: int = -1,
    out: "Callable[[bytes], object] | None" = None,
    close: int = -1,
) -> tuple[int, bytes]:
    """(exit code or -signal, stdout and stderr).  OSError if it cannot be
    started; TimeoutError (after killing it) if it runs past `timeout`.
    With `out`, stdout goes through a pipe of its own to `out` (spamc's
    processed message, written to a file by simscan itself, so a full disk
    is simscan's error and not a helper's silently short file) and only
    stderr is returned.

    `close` is an inherited fd the child must not get (qmail-smtpd's
    custom-error pipe: a helper holding it would keep qmail-smtpd waiting).
    The child leads its own process group, and the whole group is killed,
    so a grandchild holding the output pipe cannot outlive the time limit.
    """
    deadline = Deadline(timeout)
    pipes = [posix.pipe()] if out is None else [posix.pipe(), posix.pipe()]
    err_read, err_write = pipes[0]
    out_read, out_write = pipes[-1]
    null = -1
    pid = 0
    # No signal handler may run between the spawn and `pid` being known,
    # or an Interrupted could leave the child running: hold them all.
    held = _signal.pthread_sigmask(_signal.SIG_BLOCK, _signal.valid_signals())
    try:
        try:
            if stdin < 0:
                null = stdin = posix.open("/dev/null", posix.O_RDONLY)
            actions: list[tuple[int, ...]] = [
                (posix.POSIX_SPAWN_DUP2, stdin, 0),
                (posix.POSIX_SPAWN_DUP2, out_write, 1),
                (posix.POSIX_SPAWN_DUP2, err_write, 2),
            ]
            if close > 2:
                actions.append((posix.POSIX_SPAWN_CLOSE, close))
            pid = posix.posix_spawn(
                argv[0],
                argv,
                posix.environ,  # as simscan was started: qmail-smtpd's
                file_actions=actions,
                setpgroup=0,
                setsigdef=(_signal.SIGPIPE, _signal.SIGXFSZ),
                setsigmask=(),
            )
        finally:
            for _, write_end in pipes:
                posix.close(write_end)
            if null >= 0:
                posix.close(null)
            _signal.pthread_sigmask(_signal.SIG_SETMASK, held)
        output = _collect(err_read, deadline, out_read if out is not None else -1, out)
        return _reap(pid, deadline), output
    except BaseException:
        if pid:
            _kill(pid)
        raise
    finally:
        for read_end, _ in pipes:
            posix.close(read_end)


def _kill(pid: int) -> None:
    """Kill the child's process group and reap the child."""
    try:
        posix.killpg(pid, _signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        posix.waitpid(pid, 0)
    except ChildProcessError:
        pass  # reaped already


def _collect(
    fd: int, deadline: Deadline, out_fd: int = -1, out: "Callable[[bytes], object] | None" = None
) -> bytes:
    """Read the pipes to their ends: `fd` kept (up to MAX_OUTPUT), `out_fd`
    handed to `out`."""
    poller = select.poll()
    open_fds = {fd, out_fd} - {-1}
    for each in open_fds:
        poller.register(each, select.POLLIN)
    chunks: list[bytes] = []
    kept = 0
    while open_fds:
        ready = poller.poll(deadline.left() * 1000 + 1)
        # (nothing ready: the next left() raises TimeoutError once it is time)
        for each, _ in ready:
            data = posix.read(each, 65536)
            if not data:
                poller.unregister(each)
                open_fds.discard(each)
            elif each == out_fd and out is not None:
                out(data)
            elif kept < MAX_OUTPUT:
                data = data[: MAX_OUTPUT - kept]
                chunks.append(data)
                kept += len(data)
    return b"".join(chunks)


def _reap(pid: int, deadline: Deadline) -> int:
    """Wait for the child (it closed its output, so it is about done)."""
    delay = 0.001
    while True:
        done, status = posix.waitpid(pid, posix.WNOHANG)
        if done:
            return posix.waitstatus_to_exitcode(status)
        time.sleep(min(delay, deadline.left()))
        delay = min(delay * 2, 0.05)
