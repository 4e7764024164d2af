"""simscan quarantine: list, show, release or expire quarantined messages
and the work dirs kept by SIMSCAN_DEBUG_FILES.

Entries are QUARANTINEDIR/<sec>.<usec>.<pid> (message, envelope, verdict);
kept work dirs are WORKDIR/<sec>.<usec>.<pid> (msg, and addr, the envelope).
`release` gives an entry to qmail-queue as it is, without scanning it
again, and removes it only when qmail-queue exits 0.  `expire` removes old
entries (and old kept work dirs with --kept); it prints only what it
removed, so it can run from cron.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..config.settings import Settings
    from ..qmail.quarantine import Entry

DEFAULT_DAYS = 30.0  # quarantine entries
DEFAULT_KEPT_DAYS = 7.0  # kept work dirs (debugging, or left by a killed simscan)
# `.NAME.tmp` entries and work dirs younger than this may belong to a
# running simscan: never removed, whatever --older-than says.
BUSY_DAYS = 1.0
MAX_ADDRESS = 1002  # qmail-queue refuses an address this long or longer (exit 11)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    ls = actions.add_parser(
        "list", help="one line per entry, oldest first", description="One line per entry."
    )
    ls.add_argument("--kept", action="store_true", help="also the kept work dirs")
    show = actions.add_parser(
        "show",
        help="an entry's verdict, envelope and header block",
        description="An entry's verdict line, envelope and header block.",
    )
    show.add_argument("name", metavar="NAME")
    show.add_argument("--full", action="store_true", help="the whole message, raw, nothing else")
    show.add_argument("--kept", action="store_true", help="NAME is a kept work dir")
    release = actions.add_parser(
        "release",
        help="hand entries to qmail-queue (not scanned again); remove them once queued",
        description="Hand entries to qmail-queue as they are, without scanning them "
        "again; each is removed once qmail-queue exits 0, and kept otherwise.",
    )
    release.add_argument("names", nargs="+", metavar="NAME")
    release.add_argument(
        "--to",
        action="append",
        metavar="ADDR",
        help="deliver to ADDR instead of the original recipients (repeatable)",
    )
    expire = actions.add_parser(
        "expire",
        help="remove old entries (for cron)",
        description="Remove entries older than DAYS (default 30), with --kept also "
        "kept work dirs older than DAYS (default 7), and `.NAME.tmp` dirs older than "
        "a day.  Work dirs and temp dirs younger than a day are never removed.",
    )
    expire.add_argument("--older-than", type=_days, metavar="DAYS", help="age in days")
    expire.add_argument("--kept", action="store_true", help="also kept work dirs")
    expire.add_argument("--dry-run", action="store_true", help="say what would go; remove nothing")


def _days(text: str) -> float:
    try:
        days = float(text)
    except ValueError:
        days = -1.0
    if not days >= 0 or days == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of days, got {text!r}")
    return days


def run(args: argparse.Namespace) -> int:
    from ..config import settings
    from ..errors import SimscanError

    action = {"list": _list, "show": _show, "release": _release, "expire": _expire}[args.action]
    try:
        config = settings.load(os.environ)
        code: int = action(args, config, settings.config_path(os.environ))
    except SimscanError as err:
        return _fail(str(err))
    except BrokenPipeError:  # `simscan quarantine list | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as err:
        return _fail(f"{err.filename or 'error'}: {err.strerror}")
    return code


def _fail(text: str) -> int:
    sys.stderr.write(f"simscan quarantine: {text}\n")
    return 1


def _no_quarantine(config_path: str) -> str:
    return f"quarantinedir is not set in {config_path}: simscan quarantines nothing"


# --- list ---------------------------------------------------------------------


def _list(args: argparse.Namespace, config: Settings, config_path: str) -> int:
    from ..qmail import quarantine

    out = sys.stdout
    if config.quarantinedir:
        found = quarantine.entries(config.quarantinedir)
        out.write(f"quarantine {config.quarantinedir}: {_count(found, 'entry', 'entries')}\n")
        for entry in found:
            out.write(_line(entry) + "\n")
    elif not args.kept:
        return _fail(_no_quarantine(config_path))
    else:
        out.write(_no_quarantine(config_path) + "\n")
    if args.kept:
        found = quarantine.entries(config.workdir, kept=True)
        out.write(f"kept work dirs in {config.workdir}: {_count(found, 'dir', 'dirs')}\n")
        for entry in found:
            out.write(_line(entry, kept=True) + "\n")
    return 0


def _count(found: list[Entry], one: str, many: str) -> str:
    if not found:
        return f"no {many}"
    size = sum(max(e.size, 0) for e in found)
    return f"{len(found)} {one if len(found) == 1 else many}, {_size(size)}"


def _line(entry: Entry, kept: bool = False, label: str = "") -> str:
    """NAME  DATE  AGE  SIZE  STATE DETAIL  <FROM> -> TO,TO  (a work dir has no verdict)"""
    parts = [label or entry.name, _date(entry.mtime), _age(entry.mtime), _size(entry.size)]
    if not kept:
        fields = entry.fields()
        if fields is not None:
            parts.append(f"{fields[0]} {_text(fields[1])}")
        else:
            parts.append("? " + _text(entry.verdict) if entry.verdict else "?")
    parts.append(_addresses(entry))
    if entry.problems:
        parts.append("(" + "; ".join(entry.problems) + ")")
    return "  ".join(parts)


def _addresses(entry: Entry) -> str:
    env = entry.envelope
    if env is None:
        return "<?> -> ?"
    return f"<{_text(env.sender)}> -> " + ",".join(_text(r) for r in env.recipients)


# --- show ---------------------------------------------------------------------


def _show(args: argparse.Namespace, config: Settings, config_path: str) -> int:
    from ..qmail import quarantine

    directory = _directory(args.kept, config, config_path)
    entry = quarantine.read(directory, args.name, kept=args.kept)
    if args.full:
        return _cat(entry.message_path)
    out = sys.stdout
    rows = [("entry", entry.path), ("date", f"{_date(entry.mtime, 19)} ({_age(entry.mtime)} ago)")]
    rows.append(("size", f"{entry.size} bytes" if entry.size >= 0 else "?"))
    if entry.verdict:
        rows.append(("verdict", _text(entry.verdict)))
    fields = entry.fields()
    if fields is not None:
        rows += [("state", fields[0]), ("detail", _text(fields[1])), ("ip", _text(fields[2]))]
    if entry.envelope is not None:
        rows.append(("from", f"<{_text(entry.envelope.sender)}>"))
        rows += [
            ("to" if i == 0 else "", _text(r)) for i, r in enumerate(entry.envelope.recipients)
        ]
    rows += [("problem", p) for p in entry.problems]
    for key, value in rows:
        out.write(f"{key:<9}{value}\n")
    head = _head(entry.message_path)
    if head is not None:
        out.write("\n" + head)
    return 0


def _directory(kept: bool, config: Settings, config_path: str) -> str:
    from ..errors import QuarantineError

    if kept:
        return config.workdir
    if not config.quarantinedir:
        raise QuarantineError(_no_quarantine(config_path))
    return config.quarantinedir


def _head(path: str) -> str | None:
    """The message's header block, control bytes shown as `?`."""
    from ..mail.headedit import MAX_HEAD, fields_end

    try:
        with open(path, "rb") as f:
            data = f.read(MAX_HEAD + 1)
    except OSError:
        return None
    end = fields_end(data, complete=len(data) <= MAX_HEAD)
    cut = end < 0
    head = data[:MAX_HEAD] if cut else data[:end]
    text = _text(head.replace(b"\r\n", b"\n"), keep="\t\n")
    if text and not text.endswith("\n"):
        text += "\n"
    return text + (f"(the header block goes on past {MAX_HEAD} bytes)\n" if cut else "")


def _cat(path: str) -> int:
    from ..errors import QuarantineError

    sys.stdout.flush()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 16):
                sys.stdout.buffer.write(chunk)
    except OSError as err:
        raise QuarantineError(f"cannot read {path} ({err.strerror})") from err
    sys.stdout.buffer.flush()
    return 0


# --- release ------------------------------------------------------------------


def _release(args: argparse.Namespace, config: Settings, config_path: str) -> int:
    """The stop signals (SIGTERM, SIGINT, SIGHUP) are blocked for the whole
    loop and looked at between entries, so an entry is removed exactly
    when qmail-queue queued it: never a release without its removal.
    While qmail-queue runs, handoff.py decides as for a message: a signal
    before it can have the whole envelope stops it (the entry is kept); one
    after waits for its answer (and is then spent: the next entry goes on)."""
    import signal

    from ..errors import QuarantineError
    from ..qmail import quarantine

    directory = _directory(False, config, config_path)
    for name in args.names:  # refuse a bad name before anything is released
        quarantine.check_name(name)
    recipients = [_address(a) for a in args.to or ()]
    stops = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    old = signal.pthread_sigmask(signal.SIG_BLOCK, stops)
    code = 0
    try:
        for name in args.names:
            pending = signal.sigpending() & set(stops)
            if pending:
                return _fail(f"stopped by signal {min(pending)}")
            try:
                _release_one(directory, name, recipients, config.qmail_queue, stops)
            except QuarantineError as err:
                code = _fail(str(err))
            except _Stopped as stopped:
                return _fail(str(stopped))
    finally:
        while signal.sigtimedwait(stops, 0):
            pass
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    return code


def _address(text: str) -> bytes:
    from ..errors import QuarantineError

    addr = os.fsencode(text)
    if not addr or b"\0" in addr or b"\n" in addr or len(addr) >= MAX_ADDRESS:
        raise QuarantineError(f"bad address for --to: {text!r}")
    return addr


class _Stopped(Exception):
    """A stop signal stopped qmail-queue: release no more entries."""


def _release_one(
    directory: str, name: str, recipients: list[bytes], queue: str, stops: tuple[int, ...]
) -> None:
    from ..errors import Interrupted, QuarantineError, QueueError
    from ..qmail import handoff, quarantine

    entry = quarantine.read(directory, name)
    if entry.envelope is None or entry.size < 0:
        problems = "; ".join(entry.problems)
        raise QuarantineError(f"cannot release {name}: {problems}; the entry is kept")
    envelope = entry.envelope.raw
    to = entry.envelope.recipients
    if recipients:
        sender = b"F" + entry.envelope.sender + b"\0"
        envelope = sender + b"".join(b"T" + r + b"\0" for r in recipients) + b"\0"
        to = recipients
    with _Locked(entry.path, name):
        try:
            status = handoff.hand_off(queue, entry.message_path, envelope, b"", stops)
        except Interrupted as err:
            raise _Stopped(
                f"cannot release {name}: interrupted by signal {err.signum}; the entry is kept"
            ) from err
        except QueueError as err:
            raise QuarantineError(f"cannot release {name}: {err}; the entry is kept") from err
        if status != 0:
            why = f"killed by signal {-status}" if status < 0 else f"exited {status}"
            raise QuarantineError(f"cannot release {name}: {queue} {why}; the entry is kept")
        gone = quarantine.discard(directory, name)
    sys.stdout.write(f"released {name} to {', '.join(_text(r) for r in to)}\n")
    sys.stdout.flush()
    if not gone:
        raise QuarantineError(
            f"released {name} but cannot remove it from {directory}: remove it by hand"
        )


class _Locked:
    """flock on the entry's dir, so two releases (or a release and an
    expire) never hand one entry to qmail-queue twice."""

    def __init__(self, path: str, name: str) -> None:
        self.path = path
        self.name = name
        self.fd = -1

    def __enter__(self) -> None:
        import fcntl

        from ..errors import QuarantineError

        try:
            self.fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as err:
            raise QuarantineError(f"cannot open {self.path} ({err.strerror})") from err
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            raise QuarantineError(f"{self.name} is being released or expired just now") from None
        try:
            same = os.stat(self.path).st_ino == os.fstat(self.fd).st_ino
        except FileNotFoundError:
            same = False
        if not same:  # released by another while we took the lock
            os.close(self.fd)
            raise QuarantineError(f"{self.name} is no longer in {os.path.dirname(self.path)}")

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)


# --- expire -------------------------------------------------------------------


def _expire(args: argparse.Namespace, config: Settings, config_path: str) -> int:
    from ..errors import QuarantineError
    from ..qmail import quarantine, workdir

    now = time.time()
    verb = "would remove" if args.dry_run else "removed"
    failed = []
    if config.quarantinedir:
        directory = config.quarantinedir
        days = DEFAULT_DAYS if args.older_than is None else args.older_than
        for entry in quarantine.entries(directory):
            if now - entry.mtime <= days * 86400:
                continue
            if not args.dry_run:
                try:
                    with _Locked(entry.path, entry.name):
                        gone = quarantine.discard(directory, entry.name)
                except QuarantineError:
                    continue  # being released: not ours to remove
                if not gone:
                    failed.append(entry.path)
                    continue
            sys.stdout.write(f"{verb} {_line(entry, label=entry.path)}\n")
        for path, mtime in quarantine.temps(directory):
            if now - mtime > BUSY_DAYS * 86400:
                if args.dry_run or workdir.remove(path):
                    sys.stdout.write(f"{verb} {path}  {_date(mtime)}  {_age(mtime)}\n")
                else:
                    failed.append(path)
    elif not args.kept:
        return _fail(_no_quarantine(config_path))
    if args.kept:
        days = DEFAULT_KEPT_DAYS if args.older_than is None else args.older_than
        days = max(days, BUSY_DAYS)
        for entry in quarantine.entries(config.workdir, kept=True):
            if now - entry.mtime <= days * 86400:
                continue
            if args.dry_run or workdir.remove(entry.path):
                sys.stdout.write(f"{verb} {_line(entry, kept=True, label=entry.path)}\n")
            else:
                failed.append(entry.path)
    for path in failed:
        _fail(f"cannot remove {path}")
    return 1 if failed else 0


# --- formatting ---------------------------------------------------------------


def _text(data: bytes, keep: str = "") -> str:
    """Bytes from a sender, made safe for a terminal: UTF-8 or \\x escapes,
    control characters as `?`."""
    table = {c: "?" for c in (*range(32), 127) if chr(c) not in keep}
    return data.decode("utf-8", "backslashreplace").translate(table)


def _date(mtime: float, width: int = 16) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(mtime))[:width]


def _age(mtime: float) -> str:
    seconds = max(0, int(time.time() - mtime))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _size(size: int) -> str:
    if size < 0:
        return "?"
    if size < 1024:
        return f"{size}B"
    value = size / 1024
    for unit in "KMG":
        if value < 1024:
            return f"{value:.1f}{unit}"
        value /= 1024
    return f"{value:.1f}T"
