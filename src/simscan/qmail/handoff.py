"""Handing the message and the envelope to the real qmail-queue, so that
it queues a whole copy or nothing, whenever and however simscan stops.

See docs/design.md, "What a kill leaves behind".
"""

import posix  # os's own core: `import os` costs ~0.9 ms per message (see cli.py)
import time

from ..errors import Interrupted, QueueError

# _signal rather than signal: see cli.py
TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal as _signal
    from collections.abc import Mapping
else:
    import _signal


def hand_off(
    program: str,
    message_path: str,
    envelope: bytes,
    prefix: bytes,
    stop_signals: tuple[int, ...] = (),
    offset: int = 0,
    environ: "Mapping[bytes, bytes] | None" = None,
) -> int:
    """Run qmail-queue on the message (after `prefix`) and the envelope.

    `offset`: the message file is sent from there on (a rebuilt header
    block is `prefix`, the body comes from the file).  `environ`:
    qmail-queue's environment (simscan's run passes the one it started
    with); None is this process's os.environ as it is now.

    Returns its exit code, or -N when signal N killed it.  With no prefix
    the message file itself is its fd 0; with one (the Received line) a
    pipe is, fed by sendfile so the message never passes through Python.
    fd 2 and the custom-error fd are inherited, so a chained filter can
    still write its own text.

    The envelope goes through a pipe on fd 1, written only once the last
    byte of the message is in qmail-queue's pipe.  qmail-queue reads fd 0
    to EOF, then the envelope, and commits only a complete one: if we die
    at any instant before that (SIGKILL, the OOM killer) it finds a cut or
    empty envelope, exits 54 and queues nothing.  A copy is queued only
    when qmail-queue had all of it.

    `stop_signals` (SIGTERM, ...) stop qmail-queue and raise Interrupted
    while it cannot have queued the message (the envelope not all read);
    once it may have, it gets STOP_GRACE seconds to finish, and its own
    status is the answer: reporting a failure for a queued message would
    only make a duplicate.  The pipes are written without blocking, so a
    qmail-queue that stops reading, or quits while a child of its holds
    its input, cannot hold us.
    """
    try:
        msg_fd = posix.open(message_path, posix.O_RDONLY)
    except OSError as err:
        raise QueueError(f"cannot open the message file ({err.strerror})") from err
    fds = [msg_fd]
    try:
        # Our ends are close-on-exec (posix.pipe's default): qmail-queue must
        # never hold a write end, or our death would not be its EOF.
        env_read, env_write = posix.pipe()
        fds += (env_read, env_write)
        msg_read = msg_write = -1
        piped = bool(prefix) or offset > 0
        if piped:
            msg_read, msg_write = posix.pipe()
            fds += (msg_read, msg_write)
        # From here on the stop signals are blocked and only polled, so no
        # signal handler can run between qmail-queue's start and its end:
        # it is always either stopped and reaped, or waited for.  (A signal
        # that came before the block raises here, before anything started.)
        waitset = {_signal.SIGCHLD, *stop_signals}
        _signal.pthread_sigmask(_signal.SIG_BLOCK, waitset)
        if environ is None:
            import os

            environ = os.environb
        spawned = _spawn(program, msg_read if piped else msg_fd, env_read, environ)
        queue = _Queue(spawned, stop_signals)
        if piped:
            # Only qmail-queue may hold the message pipe's read end: so a
            # qmail-queue that closed it is our EPIPE.  (We keep the
            # envelope pipe's, to see whether qmail-queue has read it all.)
            _close_now(fds, msg_read)
        try:
            # The order is the whole point: the message, its EOF, and only
            # then the envelope.  If qmail-queue closed its input before
            # reading it all, it gets no envelope: it must not commit.
            fed = True
            if piped:
                fed = queue.feed(msg_write, prefix, msg_fd, offset)
                _close_now(fds, msg_write)  # the message's EOF
            if fed:
                queue.feed(env_write, envelope, -1)
            _close_now(fds, env_write)
        except _Exited as exited:
            return exited.code
        except BaseException:
            # Never let qmail-queue read on after a feed we failed: stop it
            # first (it queues nothing unless it had already finished with 0).
            if queue.stop() != 0:
                raise
            return 0
        return queue.wait(env_read)
    finally:
        for fd in fds:
            _close_quietly(fd)


def _spawn(program: str, stdin: int, envelope: int, environ: "Mapping[bytes, bytes]") -> int:
    try:
        return posix.posix_spawn(
            program,
            [program],
            environ,
            file_actions=[
                (posix.POSIX_SPAWN_DUP2, stdin, 0),
                (posix.POSIX_SPAWN_DUP2, envelope, 1),
            ],
            # Python ignores these; qmail-queue must get the defaults, and
            # none of the signals we block.
            setsigdef=(_signal.SIGPIPE, _signal.SIGXFSZ),
            setsigmask=(),
        )
    except OSError as err:
        raise QueueError(f"cannot run {program} ({err.strerror})") from err


# How long qmail-queue may take to finish after a stop signal once it may
# have the whole envelope (the real one commits in milliseconds), and to
# die after SIGTERM before it gets SIGKILL.
STOP_GRACE = 5.0
_POLL = 0.25  # seconds: how soon a stop signal is seen while qmail-queue does not read
_NO_SENDFILE = (22, 38)  # EINVAL, ENOSYS (no errno import per message)


class _Exited(Exception):
    """qmail-queue ended while we were still feeding it."""

    def __init__(self, code: int) -> None:
        self.code = code


class _Queue:
    """The running qmail-queue: feeding it, watching it, stopping it.

    The stop signals and SIGCHLD are blocked while it lives; they are
    looked at with sigpending/sigtimedwait, never handled."""

    __slots__ = ("pid", "stop_signals")

    def __init__(self, pid: int, stop_signals: tuple[int, ...]) -> None:
        self.pid = pid
        self.stop_signals = set(stop_signals)

    def feed(self, pipe_fd: int, data: bytes, msg_fd: int, offset: int = 0) -> bool:
        """Write `data`, then the file `msg_fd` from `offset` if it is not
        -1, into the pipe; False when qmail-queue closed its end first.

        The pipe is non-blocking: while it is full we poll it, and look at
        the pending signals between polls and between 1 MiB chunks.
        """
        posix.set_blocking(pipe_fd, False)
        try:
            view = memoryview(data)
            while view:
                try:
                    view = view[posix.write(pipe_fd, view) :]
                except BlockingIOError:
                    self._writable(pipe_fd)
            copy = _sendfile
            while msg_fd >= 0:
                try:
                    sent = copy(pipe_fd, msg_fd, offset)
                except BlockingIOError:
                    self._writable(pipe_fd)
                    continue
                except OSError as err:
                    # A file system whose files sendfile cannot read: copy by hand.
                    if copy is _copy or err.errno not in _NO_SENDFILE:
                        raise
                    copy = _copy
                    continue
                if not sent:
                    break
                offset += sent
                self._check()
        except BrokenPipeError:
            return False
        except OSError as err:
            what = "message" if msg_fd >= 0 else "envelope"
            raise QueueError(f"cannot write the {what} to qmail-queue ({err.strerror})") from err
        return True

    def _writable(self, fd: int) -> None:
        """Wait until the pipe takes more (or its reader is gone); raise
        Interrupted for a pending stop signal, _Exited when qmail-queue
        ended (a child of its may still hold the pipe: no EPIPE then)."""
        import select  # only when qmail-queue reads slower than we write

        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        while True:
            self._check()
            if poller.poll(_POLL * 1000):
                return

    def _check(self) -> None:
        pending = _signal.sigpending()
        stop = self.stop_signals & pending
        if stop:
            raise Interrupted(min(stop))
        if _signal.SIGCHLD in pending:
            _signal.sigtimedwait({_signal.SIGCHLD}, 0)
            done, status = posix.waitpid(self.pid, posix.WNOHANG)
            if done:
                self.pid = 0  # reaped
                raise _Exited(posix.waitstatus_to_exitcode(status))

    def wait(self, env_read: int) -> int:
        """Wait for qmail-queue to finish, now that it has everything."""
        waitset = {_signal.SIGCHLD, *self.stop_signals}
        signum = 0
        deadline = 0.0
        while True:
            done, status = posix.waitpid(self.pid, posix.WNOHANG)
            if done:
                # Even after a stop signal: it finished, its status is the answer.
                return posix.waitstatus_to_exitcode(status)
            timeout = _POLL * 4
            if signum:
                timeout = deadline - time.monotonic()
                if timeout <= 0:
                    break
            got = _signal.sigtimedwait(waitset, timeout)
            if got is None or got.si_signo == _signal.SIGCHLD or signum:
                continue
            signum = got.si_signo
            if _unread(env_read):
                break  # it has not read the whole envelope: it cannot have queued
            deadline = time.monotonic() + STOP_GRACE
        if self.stop() != 0:
            raise Interrupted(signum)
        return 0

    def stop(self) -> int:
        """SIGTERM qmail-queue, SIGKILL it after STOP_GRACE s, reap it;
        its raw wait status (0: it had finished with 0)."""
        if not self.pid:
            return -1
        try:
            posix.kill(self.pid, _signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + STOP_GRACE
        while True:
            try:
                done, status = posix.waitpid(self.pid, posix.WNOHANG)
            except ChildProcessError:
                return -1
            if done:
                return status
            left = deadline - time.monotonic()
            if left <= 0:
                posix.kill(self.pid, _signal.SIGKILL)
                _, status = posix.waitpid(self.pid, 0)
                return status
            _signal.sigtimedwait({_signal.SIGCHLD}, min(left, _POLL))


def _unread(fd: int) -> int:
    """Bytes written into a pipe and not yet read (a stop signal's path only)."""
    import fcntl
    import sys
    import termios

    return int.from_bytes(fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"), sys.byteorder)


def _sendfile(pipe_fd: int, msg_fd: int, offset: int) -> int:
    return posix.sendfile(pipe_fd, msg_fd, offset, 1 << 20)


def _copy(pipe_fd: int, msg_fd: int, offset: int) -> int:
    data = posix.pread(msg_fd, 1 << 16, offset)
    return posix.write(pipe_fd, data) if data else 0


def _close_now(fds: list[int], *which: int) -> None:
    """Close these fds now (not in the final cleanup)."""
    for fd in which:
        fds.remove(fd)
        posix.close(fd)


def _close_quietly(fd: int) -> None:
    try:
        posix.close(fd)
    except OSError:
        pass
