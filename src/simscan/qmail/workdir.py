"""The per-message work dir: created fresh, filled by streaming, always removed."""

import posix  # os's own core: `import os` costs ~0.9 ms per message (see cli.py)
import time

from ..errors import InputError, WorkDirError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

CHUNK = 1 << 16
# The start of the message kept in memory for header checks (Subject, ...).
HEAD_LIMIT = 1 << 16
MESSAGE_NAME = "msg"
ENVELOPE_NAME = "addr"


def running_as() -> str:
    """Who simscan runs as, for an error about the work dir: tcpserver's
    -u/-g set one uid and one gid and drop every other group, which the
    usual `chgrp qmail; chmod 2770` recipe forgets."""
    uid, gid = posix.geteuid(), posix.getegid()
    others = sorted(set(posix.getgroups()) - {gid})
    groups = "groups " + ",".join(map(str, others)) if others else "no other groups"
    return f"simscan runs as uid {uid} gid {gid}, {groups}"


def create(base: str, remember: "Callable[[str], None] | None" = None) -> str:
    """Make WORKDIR/<seconds>.<microseconds>.<pid>, mode 0750.

    `remember` gets each path before it is made, so whoever cleans up knows
    it even if the mkdir is interrupted (removing a missing dir is fine).
    """
    pid = posix.getpid()
    for _ in range(5):
        now = time.time_ns() // 1000
        path = f"{base}/{now // 1_000_000}.{now % 1_000_000:06d}.{pid}"
        if remember is not None:
            remember(path)
        try:
            posix.mkdir(path, 0o750)
        except FileExistsError:
            continue
        except OSError as err:
            raise WorkDirError(
                f"cannot create work dir {path} ({err.strerror}; {running_as()})"
            ) from err
        posix.chmod(path, 0o750)
        return path
    raise WorkDirError(f"cannot create a unique work dir under {base}")


class Message:
    """The message as stored in the work dir."""

    __slots__ = ("head", "path", "size")

    def __init__(self, path: str, size: int, head: bytes) -> None:
        self.path = path
        self.size = size
        self.head = head


def receive(fd: int, path: str) -> Message:
    """Stream fd (the message from qmail-smtpd) into a new file at path.

    The message is never held whole in memory: fixed-size chunks go
    straight to the file; only the first HEAD_LIMIT bytes are kept.
    """
    try:
        out = posix.open(path, posix.O_WRONLY | posix.O_CREAT | posix.O_EXCL, 0o640)
    except OSError as err:
        raise WorkDirError(f"cannot create {path} ({err.strerror})") from err
    size = 0
    head = b""
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    try:
        while True:
            try:
                n = posix.readv(fd, [buf])
            except OSError as err:
                raise InputError(f"cannot read the message ({err.strerror})") from err
            if n == 0:
                break
            if size < HEAD_LIMIT:
                head += view[: min(n, HEAD_LIMIT - size)]
            size += n
            _write_all(out, view[:n], path)
    finally:
        posix.close(out)
    return Message(path, size, head)


def write_file(path: str, data: bytes, mode: int | None = None) -> None:
    """Create path with data; `mode` is set whatever the umask."""
    try:
        fd = posix.open(path, posix.O_WRONLY | posix.O_CREAT | posix.O_EXCL, 0o640)
    except OSError as err:
        raise WorkDirError(f"cannot create {path} ({err.strerror})") from err
    try:
        if mode is not None:
            posix.fchmod(fd, mode)
        _write_all(fd, memoryview(data), path)
    finally:
        posix.close(fd)


def _write_all(fd: int, view: memoryview, path: str) -> None:
    try:
        while view:
            view = view[posix.write(fd, view) :]
    except OSError as err:
        raise WorkDirError(f"cannot write {path} ({err.strerror})") from err


def remove(path: str) -> bool:
    """Remove the work dir and everything under it; True if it is gone.

    Errors are swallowed: a leftover dir must never turn a delivered
    message into a failure.  The caller logs a False.
    """
    try:
        entries = list(posix.scandir(path))
    except FileNotFoundError:
        return True
    except OSError:
        entries = []
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                remove(entry.path)
            else:
                posix.unlink(entry.path)
        except OSError:
            pass
    try:
        posix.rmdir(path)
    except FileNotFoundError:
        pass
    except OSError:
        return False
    return True
