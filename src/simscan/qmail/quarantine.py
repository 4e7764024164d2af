"""Quarantine: keep a copy of every refused or dropped message.

Each message gets its own directory `QUARANTINEDIR/<sec>.<usec>.<pid>` (the
work dir's unique name) holding

    message   the message as it would have been queued
    envelope  the envelope as qmail-queue reads it on fd 1
    verdict   one line: the log line simscan wrote for it

so that `qmail-queue < message 1< envelope` delivers it after all.  The
directory is built under a dot-name and renamed into place, so anyone
reading the quarantine sees whole entries only.  The message is hard-linked
from the work dir when both are on one file system, else copied.  The three
files are 0640 and the directory 0750 whatever the umask, so one `chgrp`
gives a group of admins read access to every entry.

The reading half (Entry, entries(), read(), discard()) is for `simscan
quarantine`; it reads kept work dirs (SIMSCAN_DEBUG_FILES) too, which have
the same names and `msg` and `addr` for the message and the envelope.
"""

import posix  # os's own core: `import os` costs ~0.9 ms per message (see cli.py)

from ..errors import QuarantineError, SimscanError
from . import workdir
from .queue import Envelope, parse_envelope

FILE_MODE = 0o640
DIR_MODE = 0o750
MESSAGE, ENVELOPE, VERDICT = "message", "envelope", "verdict"


def store(directory: str, name: str, message_path: str, envelope: bytes, verdict: bytes) -> str:
    """Quarantine one message; returns the entry's path.  Raises OSError
    or WorkDirError (and leaves nothing behind) when it cannot."""
    final = f"{directory}/{name}"
    temp = temp_name(directory, name)
    posix.mkdir(temp, DIR_MODE)
    try:
        posix.chmod(temp, DIR_MODE)
        _link_or_copy(message_path, f"{temp}/{MESSAGE}")
        workdir.write_file(f"{temp}/{ENVELOPE}", envelope, FILE_MODE)
        workdir.write_file(f"{temp}/{VERDICT}", verdict, FILE_MODE)
        posix.rename(temp, final)
    except BaseException:
        workdir.remove(temp)
        raise
    return final


def temp_name(directory: str, name: str) -> str:
    return f"{directory}/.{name}.tmp"


def _link_or_copy(source: str, target: str) -> None:
    """The link shares the work file's inode: its mode changes too, which
    is harmless (the work dir is removed right after, or kept for debug)."""
    try:
        posix.link(source, target)
    except OSError:
        pass
    else:
        fd = posix.open(target, posix.O_RDONLY | posix.O_NOFOLLOW)
        try:
            posix.fchmod(fd, FILE_MODE)
        finally:
            posix.close(fd)
        return
    with open(source, "rb") as src, open(target, "xb") as dst:
        posix.fchmod(dst.fileno(), FILE_MODE)
        offset = 0
        while sent := posix.sendfile(dst.fileno(), src.fileno(), offset, 1 << 20):
            offset += sent


# --- reading entries (simscan quarantine) -------------------------------------


def is_entry_name(name: str) -> bool:
    """`<sec>.<usec>.<pid>`, as workdir.create makes them."""
    parts = name.split(".")
    return len(parts) == 3 and all(p.isascii() and p.isdigit() for p in parts)


def is_temp_name(name: str) -> bool:
    return name.startswith(".") and name.endswith(".tmp") and is_entry_name(name[1:-4])


class Entry:
    """One quarantine entry or kept work dir, as read from its directory.

    What cannot be read is left empty (size -1, envelope None, verdict
    b"") and said in `problems`: a damaged entry is still listed."""

    __slots__ = ("envelope", "message_path", "mtime", "name", "path", "problems", "size", "verdict")

    def __init__(self, path: str, mtime: float, message_path: str) -> None:
        self.path = path
        self.name = path.rpartition("/")[2]
        self.mtime = mtime
        self.message_path = message_path
        self.size = -1
        self.envelope: Envelope | None = None
        self.verdict = b""
        self.problems: list[str] = []

    def fields(self) -> "tuple[str, bytes, bytes] | None":
        """(state, detail, ip) of the verdict line, or None."""
        return parse_verdict(self.verdict)


def parse_verdict(line: bytes) -> "tuple[str, bytes, bytes] | None":
    """`simscan:[PPID]:STATE:TIME:DETAIL:IP:FROM:RCPTS` -> (STATE, DETAIL, IP).

    The log line replaces `:` inside its fields, so it splits cleanly."""
    parts = line.rstrip(b"\n").split(b":")
    if len(parts) != 8 or parts[0] != b"simscan" or not parts[1].startswith(b"["):
        return None
    return parts[2].decode("ascii", "replace"), parts[4], parts[5]


def read_dir(path: str, message: str = MESSAGE, envelope: str = ENVELOPE) -> Entry:
    """Read one entry (or, with msg/addr, a kept work dir) at path."""
    try:
        st = posix.stat(path)
    except OSError as err:
        raise QuarantineError(f"cannot read {path} ({err.strerror})") from err
    entry = Entry(path, st.st_mtime, f"{path}/{message}")
    try:
        entry.size = posix.stat(entry.message_path).st_size
    except OSError as err:
        entry.problems.append(f"no message ({err.strerror})")
    raw = _read_small(entry, f"{path}/{envelope}", "envelope")
    if raw is not None:
        try:
            entry.envelope = parse_envelope(raw, complete=True)
        except SimscanError as err:
            entry.problems.append(f"bad envelope ({err})")
    if message == MESSAGE:
        entry.verdict = (_read_small(entry, f"{path}/{VERDICT}", "verdict") or b"").rstrip(b"\n")
    return entry


def _read_small(entry: Entry, path: str, what: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as err:
        entry.problems.append(f"no {what} ({err.strerror})")
        return None


def entries(directory: str, kept: bool = False) -> list[Entry]:
    """Every whole entry in a quarantine dir (kept=True: every work dir
    under a work dir), oldest first.  Other names are not ours: skipped."""
    found = []
    for name in _names(directory):
        if is_entry_name(name):
            try:
                found.append(_read(directory, name, kept))
            except QuarantineError:
                if _lexists(f"{directory}/{name}"):
                    raise  # not just removed while we looked
    found.sort(key=lambda e: (e.mtime, e.name))
    return found


def temps(directory: str) -> list[tuple[str, float]]:
    """The `.NAME.tmp` dirs (entries being built, or left by a kill): (path, mtime)."""
    found = []
    for name in _names(directory):
        if is_temp_name(name):
            path = f"{directory}/{name}"
            try:
                found.append((path, posix.stat(path).st_mtime))
            except OSError:
                pass
    return sorted(found, key=lambda t: t[1])


def check_name(name: str) -> None:
    """Refuse what could name something else than an entry: a path, `..`,
    or a dot-name (an entry being made or removed)."""
    if not name or "/" in name or name.startswith(".") or "\0" in name:
        raise QuarantineError(f"bad entry name {name!r}: use a name as 'list' shows it")


def read(directory: str, name: str, kept: bool = False) -> Entry:
    """The entry NAME; QuarantineError for a name that is not one."""
    check_name(name)
    if not _isdir(f"{directory}/{name}"):
        where = "work dir" if kept else "entry"
        raise QuarantineError(f"no {where} {name} in {directory}")
    return _read(directory, name, kept)


def _read(directory: str, name: str, kept: bool) -> Entry:
    path = f"{directory}/{name}"
    if kept:
        return read_dir(path, workdir.MESSAGE_NAME, workdir.ENVELOPE_NAME)
    return read_dir(path)


def _names(directory: str) -> list[str]:
    try:
        return posix.listdir(directory)
    except OSError as err:
        raise QuarantineError(f"cannot read {directory} ({err.strerror})") from err


def discard(directory: str, name: str) -> bool:
    """Remove an entry; True when it is gone.  It is first renamed to its
    temp name, so a removal cut short never leaves something that looks
    like a whole entry (and the next `expire` finishes it)."""
    temp = temp_name(directory, name)
    try:
        posix.rename(f"{directory}/{name}", temp)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return workdir.remove(temp)


def _lexists(path: str) -> bool:
    try:
        posix.lstat(path)
    except OSError:
        return False
    return True


def _isdir(path: str) -> bool:
    try:
        return posix.stat(path).st_mode & 0o170000 == 0o040000
    except OSError:
        return False
