"""The qmail-queue contract: the envelope, the custom error text, the hand-off.

qmail-smtpd (or anything that speaks qmail-queue) gives us the message on
fd 0 and the envelope on fd 1: `F<sender>\\0`, one or more `T<rcpt>\\0`, and
a final `\\0`.  We hand both on, unchanged, to the real qmail-queue and
return its exit status.
"""

from __future__ import annotations

import os

from .errors import (
    EnvelopeFormatError,
    EnvelopeTruncated,
    InputError,
    Interrupted,
    QueueError,
)

# _signal rather than signal: see cli.py
TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal as _signal
else:
    import _signal

# An envelope this large is not from qmail-smtpd; refuse it as malformed
# rather than grow without bound.  (10,000 recipients of 500 bytes fit.)
MAX_ENVELOPE = 32 * 1024 * 1024
# qmail-smtpd's custom-error patch reads at most this many bytes.
MAX_CUSTOM_ERROR = 255
_CHUNK = 1 << 16


class Envelope:
    """Sender and recipients as given (raw) and lower-cased (for policy)."""

    __slots__ = ("raw", "recipients", "sender")

    def __init__(self, raw: bytes, sender: bytes, recipients: list[bytes]) -> None:
        self.raw = raw
        self.sender = sender
        self.recipients = recipients

    @property
    def sender_lower(self) -> bytes:
        return self.sender.lower()

    @property
    def recipients_lower(self) -> list[bytes]:
        return [r.lower() for r in self.recipients]


def parse_envelope(data: bytes, complete: bool) -> Envelope | None:
    """Parse envelope bytes read so far.

    Returns the Envelope once its terminating NUL has been seen, None when
    more input is needed (complete=False), and raises when the bytes can
    never become a valid envelope.  `complete` means no more input will
    come (EOF).  Problems are reported in the order they occur in the
    input, as qmail-queue itself would meet them.
    """
    sender: bytes | None = None
    recipients: list[bytes] = []
    pos = 0
    while True:
        end = data.find(b"\0", pos)
        if end < 0:
            # An unterminated field: only its first byte can be judged yet.
            if pos < len(data):
                _check_field(data[pos : pos + 1], sender is not None)
            if complete:
                raise EnvelopeTruncated("envelope ended before its terminating NUL")
            return None
        field = data[pos:end]
        if not field:
            if sender is None:
                raise EnvelopeFormatError("envelope has no sender (F) line")
            if not recipients:
                raise EnvelopeFormatError("envelope has no recipient")
            return Envelope(data[: end + 1], sender, recipients)
        _check_field(field, sender is not None)
        if sender is None:
            sender = field[1:]
        else:
            recipients.append(field[1:])
        pos = end + 1


def _check_field(field: bytes, have_sender: bool) -> None:
    kind = field[:1]
    if kind == b"F":
        if have_sender:
            raise EnvelopeFormatError("envelope has two sender (F) lines")
    elif kind == b"T":
        if not have_sender:
            raise EnvelopeFormatError("envelope does not start with a sender (F) line")
    else:
        raise EnvelopeFormatError(f"envelope line starts with {kind!r}, not F or T")


def read_envelope(fd: int) -> Envelope:
    """Read fd until the envelope's terminating NUL (never beyond a read)."""
    data = b""
    while True:
        try:
            chunk = os.read(fd, _CHUNK)
        except OSError as err:
            raise InputError(f"cannot read the envelope ({err.strerror})") from err
        data += chunk
        if len(data) > MAX_ENVELOPE:
            raise EnvelopeFormatError(f"envelope larger than {MAX_ENVELOPE} bytes")
        if chunk and b"\0" not in chunk:
            continue
        envelope = parse_envelope(data, complete=not chunk)
        if envelope is not None:
            return envelope


def write_custom_error(fd: int, text: bytes) -> bool:
    """Write a custom-error text (`D...` or `Z...`) for qmail-smtpd's patch.

    No trailing newline, at most 255 bytes.  Returns False when the fd is
    not open (an unpatched qmail-smtpd): the caller then refuses with the
    plain permanent code rather than an 82 that would read as temporary.
    """
    try:
        os.write(fd, text[:MAX_CUSTOM_ERROR])
    except OSError:
        return False
    return True


def hand_off(
    program: str,
    message_path: str,
    envelope_path: str,
    prefix: bytes,
    stop_signals: tuple[int, ...] = (),
) -> int:
    """Run qmail-queue on the message (after `prefix`) and the envelope.

    Returns its exit code, or -N when signal N killed it.  With no prefix
    the message file itself is its fd 0; with one (the Received line) a
    pipe is, fed by sendfile so the message never passes through Python.
    The envelope is a file on fd 1.  fd 2 and the custom-error fd are
    inherited, so a chained filter can still write its own text.

    While qmail-queue runs, `stop_signals` (SIGTERM, ...) stop it and raise
    Interrupted, unless it had already finished with 0: the message is
    then queued, and reporting a failure would only make a duplicate.
    """
    try:
        msg_fd = os.open(message_path, os.O_RDONLY)
        env_fd = os.open(envelope_path, os.O_RDONLY)
    except OSError as err:
        raise QueueError(f"cannot open the work files ({err.strerror})") from err
    read_end = write_end = -1
    try:
        if prefix:
            read_end, write_end = os.pipe()
        stdin = read_end if prefix else msg_fd
        try:
            pid = os.posix_spawn(
                program,
                [program],
                os.environ,
                file_actions=[
                    (os.POSIX_SPAWN_DUP2, stdin, 0),
                    (os.POSIX_SPAWN_DUP2, env_fd, 1),
                ],
                # Python ignores these; qmail-queue must get the defaults.
                setsigdef=(_signal.SIGPIPE, _signal.SIGXFSZ),
            )
        except OSError as err:
            raise QueueError(f"cannot run {program} ({err.strerror})") from err
        if prefix:
            os.close(read_end)
            read_end = -1
        try:
            if prefix:
                _feed(write_end, prefix, msg_fd)
                os.close(write_end)
                write_end = -1
        except Interrupted:
            if _stop(pid) != 0:
                raise
            return 0
        return _wait(pid, stop_signals)
    finally:
        for fd in (msg_fd, env_fd, read_end, write_end):
            if fd >= 0:
                _close_quietly(fd)


def _feed(pipe_fd: int, prefix: bytes, msg_fd: int) -> None:
    try:
        _write_all(pipe_fd, prefix)
        _sendfile_all(pipe_fd, msg_fd)
    except BrokenPipeError:
        pass  # qmail-queue quit early; its exit status says why


def _wait(pid: int, stop_signals: tuple[int, ...]) -> int:
    """Wait for qmail-queue with the stop signals blocked and taken in turn,
    so that no signal handler can run between its exit and our return."""
    waitset = {_signal.SIGCHLD, *stop_signals}
    try:
        _signal.pthread_sigmask(_signal.SIG_BLOCK, waitset)
        signum = 0
    except Interrupted as err:  # a signal that came just before the block
        signum = err.signum
    while not signum:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        signum = _signal.sigwaitinfo(waitset).si_signo
        if signum == _signal.SIGCHLD:
            signum = 0
    if _stop(pid) != 0:
        raise Interrupted(signum)
    return 0


def _stop(pid: int) -> int:
    """Terminate qmail-queue and reap it; its raw wait status."""
    try:
        os.kill(pid, _signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return -1
    return status


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _sendfile_all(out_fd: int, in_fd: int) -> None:
    offset = 0
    while True:
        sent = os.sendfile(out_fd, in_fd, offset, 1 << 20)
        if sent == 0:
            return
        offset += sent


def _close_quietly(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass
