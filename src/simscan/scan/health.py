"""A scanner's endpoints, in the order one message tries them, and the
memory all simscan processes share of the endpoints that could not be
connected to.

Only for a scanner with more than one endpoint: base.pool gives a single
endpoint a plain list, and no file is read or written for it (a mark
could not change its order, and would only cost a write per failure).

- `scanner_balance = "spread"`: each message starts at another endpoint
  (from its work dir's name, `<sec>.<usec>.<pid>`: usec + pid, modulo the
  count), and goes on from there in order, so N hosts share the load.
- The memory: a connect that fails (refused, no such socket, no answer in
  the connect timeout) writes `WORKDIR/.health/KIND-ENDPOINT`, "down until
  now + scanner_retry".  Later messages try a marked endpoint last, after
  every other one: while another answers it is skipped, so a dead host
  costs one connect timeout per interval, not one per message.  Once the
  mark has expired, the first message to claim it (under a lock held for
  a few system calls, never across a scan) renews it and tries the
  endpoint in its place; the others go on skipping it.  An answer clears
  the mark.  Only connecting counts: a daemon that answered with an error
  or garbage, or a slow scan, neither marks nor clears.  A refused
  connection marks too, over TCP as over a unix socket (missing, or
  nobody listening): it costs little by itself, but it is as sure a sign
  of a daemon that is not there as a timeout, and marking it spares every
  message the try and its warning line while the daemon restarts.

The memory only ever changes the order: every endpoint is still tried
before a message gives up, so no message fails (or passes unscanned) on
memory alone, and a health file that is damaged, unreadable or cannot be
written changes nothing but the order.

The mark's "until" is the file's mtime: the one stat that says whether an
endpoint is marked also says until when, there is nothing to parse (so no
content can be half written or corrupt: the text in the file, the endpoint
and why, is for the admin and is never read), and the time is set on the
temp file before the rename that puts the mark in place whole.
"""

import posix  # os's own core: `import os` costs ~0.9 ms per message (see cli.py)
import time

from ..errors import ScannerUnreachable
from ..wire.netio import ConnectFailed, Endpoint

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

DIR_NAME = ".health"  # under WORKDIR; the cron line spares it (README)
_REGULAR = 0o100000
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")


def spread(endpoints: list[Endpoint], workdir: str) -> list[Endpoint]:
    """The endpoints rotated to start where this message's work dir name
    says: cheap, and different from one message to the next."""
    _sec, _, rest = workdir.rpartition("/")[2].partition(".")
    usec, _, pid = rest.partition(".")
    try:
        start = (int(usec) + int(pid)) % len(endpoints)
    except ValueError:
        start = 0
    return endpoints[start:] + endpoints[:start]


def file_name(kind: str, endpoint: Endpoint) -> str:
    """`clamd-127.0.0.2-3310`, `spamd-__1-783` ([::1]:783), and for a unix
    socket its last part and a hash of the whole path
    (`clamd-clamd.ctl-77fb3d71` for /run/clamav/clamd.ctl): short, safe,
    one per endpoint."""
    if endpoint.path:
        last = _safe(endpoint.path.rpartition("/")[2])[:32]
        return f"{kind}-{last}-{_hash(endpoint.path)}"
    host = endpoint.host.replace(":", "_")
    safe = _safe(host)
    name = f"{kind}-{safe}-{endpoint.port}"
    return name if safe == host else f"{name}-{_hash(endpoint.host)}"


def _safe(text: str) -> str:
    return "".join(c if c in _SAFE else "_" for c in text)


def _hash(text: str) -> str:
    """FNV-1a, 32 bits: no hashlib import for a file name."""
    h = 0x811C9DC5
    for byte in text.encode("utf-8", "surrogateescape"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return f"{h:08x}"


def connect_failed(err: BaseException, connect_timeout: float) -> bool:
    """Does this failure say the endpoint is down?  A connect that failed
    (netio's ConnectFailed; spamc's exit 69), but not a connect timeout
    cut short by what was left of scan_timeout (less than a second and
    less than its own connect timeout)."""
    if isinstance(err, ScannerUnreachable):
        return True
    if not isinstance(err, ConnectFailed):
        return False
    return not err.timed_out or err.timeout >= min(connect_timeout, 1.0)


class Pool:
    """One scanner's endpoints for one message, with the shared memory:
    iterate for the order to try them in, and report each outcome with
    failed() or answered()."""

    __slots__ = (
        "connect_timeout",
        "debug",
        "directory",
        "endpoints",
        "kind",
        "name",
        "retry",
        "seen",
        "trace",
    )

    def __init__(
        self,
        name: str,
        kind: str,
        endpoints: list[Endpoint],
        directory: str,
        retry: float,
        connect_timeout: float,
        debug: "Callable[[int, str], None]",
        trace: list[str] | None = None,
    ) -> None:
        self.name = name  # for the log: clamd, spamd, spamc, rspamd
        self.kind = kind  # for the file: the daemon (spamc's hosts are spamd's)
        self.endpoints = endpoints
        self.directory = directory
        self.retry = retry
        self.connect_timeout = connect_timeout
        self.debug = debug
        self.trace = trace  # `simscan check`: the endpoints tried last, and why
        self.seen: set[str] = set()  # marks found: an answer clears them

    def __iter__(self) -> "Iterator[Endpoint]":
        last = []
        for endpoint in self.endpoints:
            if self._usable(endpoint):
                yield endpoint
            else:
                last.append(endpoint)
        yield from last  # (all marked, or all the others failed: tried anyway)

    def failed(self, endpoint: Endpoint, err: BaseException) -> None:
        """A try that failed: marks the endpoint down if it could not be
        connected to."""
        if not connect_failed(err, self.connect_timeout):
            return
        name = file_name(self.kind, endpoint)
        until = time.time() + self.retry
        text = f"{endpoint} {err}\n".encode("utf-8", "replace")
        if mark(self.directory, name, until, text):
            self.seen.add(name)
            self.debug(1, f"{self.name} {endpoint.shown}: marked down for {self.retry:g} s")

    def answered(self, endpoint: Endpoint) -> None:
        """An endpoint answered: a mark this message saw is cleared."""
        name = file_name(self.kind, endpoint)
        if name in self.seen:
            self.seen.discard(name)
            if clear(self.directory, name):
                self.debug(1, f"{self.name} {endpoint.shown}: answered, no longer marked down")

    def _usable(self, endpoint: Endpoint) -> bool:
        """Not marked down (or the mark cannot be read), or this message
        is the one that tries it again."""
        name = file_name(self.kind, endpoint)
        dir_fd = _open_dir(self.directory)
        if dir_fd is None:
            return True
        try:
            st = posix.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except OSError:
            return True
        finally:
            posix.close(dir_fd)
        if st.st_mode & 0o170000 != _REGULAR:
            return True  # not a mark of ours
        self.seen.add(name)
        now = time.time()
        left = st.st_mtime - now
        shown = f"{self.name} {endpoint.shown}"
        if 0 < left <= self.retry:
            self._skipped(f"{shown}: marked down, {left:.0f} s until it is tried again")
            return False
        # Expired (or an "until" no mark of ours has: a clock set back).
        claimed = claim(self.directory, name, (st.st_ino, st.st_mtime_ns), now + self.retry)
        if claimed is False:
            self._skipped(f"{shown}: marked down, another message is trying it again")
            return False
        if claimed:
            self.debug(1, f"{shown}: marked down; this message tries it again")
        return True

    def _skipped(self, text: str) -> None:
        self.debug(1, f"{text}; tried last")
        if self.trace is not None:
            self.trace.append(text)


def _open_dir(directory: str, create: bool = False) -> int | None:
    """The marks' directory, opened (an fd), if it is simscan's own: a
    real directory (not a link), owned by this user, writable by no one
    else.  None otherwise, and the memory is then not used: whoever could
    write in it could point simscan's writes elsewhere, or plant a mark."""
    flags = posix.O_RDONLY | posix.O_DIRECTORY | posix.O_NOFOLLOW | posix.O_CLOEXEC
    try:
        fd = posix.open(directory, flags)
    except FileNotFoundError:
        if not create:
            return None
        try:
            posix.mkdir(directory, 0o750)
        except FileExistsError:
            pass
        except OSError:
            return None
        try:
            fd = posix.open(directory, flags)
        except OSError:
            return None
    except OSError:
        return None
    try:
        st = posix.fstat(fd)
    except OSError:
        st = None
    if st is None or st.st_uid != posix.geteuid() or st.st_mode & 0o022:
        posix.close(fd)
        return None
    return fd


def mark(directory: str, name: str, until: float, text: bytes) -> bool:
    """Write (or replace) the mark `name`, down until `until`: a new temp
    file (any file already under its name is removed first, never written
    through), its mtime set, renamed into place.  False when it cannot be
    written (never an error: the memory is only a help)."""
    dir_fd = _open_dir(directory, create=True)
    if dir_fd is None:
        return False
    temp = f".{name}.{posix.getpid()}"
    flags = posix.O_WRONLY | posix.O_CREAT | posix.O_EXCL | posix.O_NOFOLLOW | posix.O_NONBLOCK
    stamp = int(until * 1e9)
    try:
        try:
            posix.unlink(temp, dir_fd=dir_fd)  # a stale one (a killed run's)
        except FileNotFoundError:
            pass
        fd = posix.open(temp, flags | posix.O_CLOEXEC, 0o640, dir_fd=dir_fd)
        try:
            posix.write(fd, text)
            posix.utime(fd, ns=(stamp, stamp))
        finally:
            posix.close(fd)
        posix.rename(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except OSError:
        try:
            posix.unlink(temp, dir_fd=dir_fd)
        except OSError:
            pass
        return False
    finally:
        posix.close(dir_fd)
    return True


def clear(directory: str, name: str) -> bool:
    """Remove the mark `name`; True if this call removed it."""
    dir_fd = _open_dir(directory)
    if dir_fd is None:
        return False
    try:
        posix.unlink(name, dir_fd=dir_fd)
    except OSError:
        return False
    finally:
        posix.close(dir_fd)
    return True


def claim(directory: str, name: str, seen: tuple[int, int], until: float) -> bool | None:
    """An expired mark, as this message saw it (`seen`: its inode and
    mtime in ns): renew it to `until` if it is still that mark, and say so
    (True: this message tries the endpoint again; False: another one does,
    or marked it again, since this message looked).  None when the mark is
    gone or cannot be written: it is then ignored.

    A lock (lockf, on the mark itself) makes the look and the renewal one
    step; it is held for those few calls only, and a killed holder's lock
    goes with it."""
    dir_fd = _open_dir(directory)
    if dir_fd is None:
        return None
    try:
        flags = posix.O_WRONLY | posix.O_NOFOLLOW | posix.O_NONBLOCK | posix.O_CLOEXEC
        fd = posix.open(name, flags, dir_fd=dir_fd)
    except OSError:
        return None
    finally:
        posix.close(dir_fd)
    try:
        try:
            posix.lockf(fd, posix.F_TLOCK, 0)
        except (BlockingIOError, PermissionError):
            return False  # another message is renewing it right now
        st = posix.fstat(fd)
        if st.st_mode & 0o170000 != _REGULAR:
            return None
        if (st.st_ino, st.st_mtime_ns) != seen:
            return False  # renewed, or replaced by a new mark, since we looked
        stamp = int(until * 1e9)
        posix.utime(fd, ns=(stamp, stamp))
        return True
    except OSError:
        return None
    finally:
        posix.close(fd)
