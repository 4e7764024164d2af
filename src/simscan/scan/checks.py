"""The checks simscan makes itself: regex filters and attachment blocking.

Both read the message from the work dir as a stream and decide from the
Policy alone; neither knows about fds, sockets or the log.
"""

from .. import __version__
from ..errors import ScannerError
from ..mail.lines import CHUNK
from ..mail.mime import walk
from ..mail.names import shown
from ..verdict import ARCHIVE_LIMIT, ATTACH, ENCRYPTED, MIME_LIMIT, REGEX, Verdict
from .base import Job, Result, Scanner

# typing costs ~8 ms to import; mypy reads TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from collections.abc import Callable, Iterator
    from typing import BinaryIO

    from ..mail.content import Spool

    _Pattern = re.Pattern[bytes]

REGEX_LINE = 500  # bytes of each line the patterns see, as in C simscan


class _Builtin(Scanner):
    """A check that is part of simscan: its version is simscan's."""

    def version(self, job: Job) -> str:
        return __version__


class RegexFilter(_Builtin):
    """Each line of the raw message (its first 500 bytes) against each
    pattern; the first match refuses the message with `#N`, N being the
    pattern's 0-based index.  A pattern that does not compile is skipped
    with a warning and keeps its index."""

    name = "regex"

    def scan(self, job: Job, result: Result) -> Verdict | None:
        compiled: list[tuple[int, _Literal | _Pattern]] = []
        for index, pattern in enumerate(job.policy.regex):
            if not _META.intersection(pattern):
                # a plain literal, what most sites write: `in` finds the same
                # lines as re would, and `re` (~4 ms to import) is not needed
                compiled.append((index, _Literal(pattern)))
                continue
            import re

            try:
                compiled.append((index, re.compile(pattern)))
            except re.error as err:
                shown = pattern.decode(errors="replace")
                job.warn(f"regex #{index} {shown!r} does not compile ({err}), skipped")
        if not compiled:
            return None
        from itertools import compress, count

        with open(job.message.path, "rb") as f:
            for lines in _line_blocks(f, _split_after_newline):
                # Per pattern, the first line it matches, found at C speed;
                # the earliest line wins, then the lowest pattern index.
                best: tuple[int, int] | None = None
                for index, regex in compiled:
                    scope = lines if best is None else lines[: best[0]]
                    hit = next(compress(count(), map(regex.search, scope)), None)
                    if hit is not None:
                        best = (hit, index)
                if best is not None:
                    job.debug(1, f"regex #{best[1]} matches {lines[best[0]]!r}")
                    return Verdict(REGEX, b"#%d" % best[1])
        return None


# The bytes that make a pattern more than a literal (a bytes pattern has no
# other; `#` and spaces only count under (?x), which needs `(`).
_META = frozenset(b"\\.^$*+?{}[]|()")


class _Literal:
    """A pattern without metacharacters: re.search's answer, by `in`."""

    __slots__ = ("needle",)

    def __init__(self, needle: bytes) -> None:
        self.needle = needle

    def search(self, line: bytes) -> bool:
        return self.needle in line


def _split_after_newline(data: bytes) -> list[bytes]:
    """re.split(rb"(?<=\n)", data): each line with its LF, then the rest."""
    parts = data.split(b"\n")
    last = parts.pop()
    return [*(p + b"\n" for p in parts), last]


def _line_blocks(f: "BinaryIO", split: "Callable[[bytes], list[bytes]]") -> "Iterator[list[bytes]]":
    """The message's lines, newline kept, each cut to its first REGEX_LINE
    bytes, in lists of about a chunk's worth."""
    tail = b""
    skipping = False  # in the rest of a line whose start was given already
    while data := f.read(CHUNK):
        if skipping:
            newline = data.find(b"\n")
            if newline < 0:
                continue
            data, skipping = data[newline + 1 :], False
        data = tail + data
        cut = data.rfind(b"\n") + 1
        block = data[:cut]
        if not cut:
            lines = []
        elif b"\r" in block:
            lines = split(block)[:-1]  # only \n ends a line, as for fgets
        else:
            lines = block.splitlines(keepends=True)  # same here, 16x faster
        tail = data[cut:]
        if len(tail) >= REGEX_LINE:
            lines.append(tail[:REGEX_LINE])
            tail, skipping = b"", True
        if lines and max(map(len, lines)) > REGEX_LINE:
            lines = [line[:REGEX_LINE] for line in lines]
        if lines:
            yield lines
    if tail:
        yield [tail]


class AttachmentBlocker(_Builtin):
    """Refuses a message carrying a file whose name ends with a listed
    extension, under any reading a mail client could take of it (see
    simscan.mail.mime for where names are found), and looks inside the
    attachments (simscan.mail.content): archive members' and TNEF names,
    file types, encryption.  Past a structural limit of the walk the
    message is refused too (fail closed), unless `mime_over_limit = "pass"`
    (`archive_over_limit` for archives): then it passes with a warning."""

    name = "attach"

    def scan(self, job: Job, result: Result) -> Verdict | None:
        settings = job.settings
        refuse = settings.mime_over_limit == "refuse"
        spool = _spool(job)
        trace = job.trace
        if trace is not None and spool is not None:
            spool.seen = trace.members
        with open(job.message.path, "rb") as f:
            try:
                names = walk(
                    f,
                    job.policy.attach,
                    stop_at_limit=refuse,
                    leaves=spool,
                    where=None if trace is None else trace.names,
                )
            except ImportError as err:
                raise ScannerError(
                    "attach", f"cannot look inside attachments ({err}; see README, Installing)"
                ) from None
        if job.debug.level >= 2:  # the repr is not free; skip it per message
            job.debug(2, f"attachment names {names.found!r}")
        if spool is not None:
            for warning in spool.warnings:
                job.warn(f"attachment check: {warning}")
        if names.blocked is not None:
            return Verdict(ATTACH, shown(names.blocked).encode("utf-8", "replace"))
        if names.finding is not None:
            return _verdict(job, names.finding)
        if names.truncated and refuse:
            why = "MIME structure too complex to check (" + "; ".join(names.truncated) + ")"
            return Verdict(MIME_LIMIT, why.encode())
        for what in names.truncated:
            job.warn(f"attachment check stopped at a limit ({what}); names there not checked")
        return None


def _spool(job: Job) -> "Spool | None":
    """What looks inside the attachments, if anything is to be looked for."""
    policy, settings = job.policy, job.settings
    types = policy.block_types
    encrypted = policy.block_encrypted
    if not (policy.attach or types or encrypted):
        return None
    from ..mail.content import Rules, Spool

    return Spool(
        Rules(
            endings=policy.attach,
            types=types,
            encrypted=encrypted,
            depth=settings.archive_depth,
            max_bytes=settings.archive_max_bytes,
            max_members=settings.archive_max_members,
            max_ratio=settings.archive_max_ratio,
            refuse=settings.archive_over_limit == "refuse",
            workdir=job.workdir,
        )
    )


def _verdict(job: Job, finding: object) -> Verdict:
    from ..mail import content

    assert isinstance(finding, content.Finding)
    text = finding.text.encode("utf-8", "replace")
    if finding.kind == content.ENCRYPTED:
        job.warn(f"attachment check: {finding.text}: {finding.why}")
        return Verdict(ENCRYPTED, text)
    if finding.kind == content.LIMIT:
        job.warn(f"attachment check: {finding.text}: {finding.why}; refused (archive_over_limit)")
        return Verdict(ARCHIVE_LIMIT, text)
    if finding.why:
        job.debug(1, f"attachment check: {finding.text}: {finding.why}")
    return Verdict(ATTACH, text)
