"""The checks simscan makes itself: regex filters and attachment blocking.

Both read the message from the work dir as a stream and decide from the
Policy alone; neither knows about fds, sockets or the log.
"""

from __future__ import annotations

from . import __version__
from .lines import LineReader
from .mime import walk
from .pipeline import Job, Result, Scanner
from .verdict import ATTACH, REGEX, Verdict

REGEX_LINE = 500  # bytes of each line the patterns see, as in C simscan


class RegexFilter(Scanner):
    """Each line of the raw message (its first 500 bytes) against each
    pattern; the first match refuses the message with `#N`, N being the
    pattern's 0-based index.  A pattern that does not compile is skipped
    with a warning and keeps its index."""

    name = "regex"

    def version(self, job: Job) -> str:
        return __version__

    def scan(self, job: Job, result: Result) -> Verdict | None:
        import re

        compiled = []
        for index, pattern in enumerate(job.policy.regex):
            try:
                compiled.append((index, re.compile(pattern)))
            except re.error as err:
                shown = pattern.decode(errors="replace")
                job.warn(f"regex #{index} {shown!r} does not compile ({err}), skipped")
        if not compiled:
            return None
        with open(job.message.path, "rb") as f:
            reader = LineReader(f)
            while (got := reader.piece()) is not None:
                piece, start = got
                if not start:
                    continue
                line = piece[:REGEX_LINE]
                for index, regex in compiled:
                    if regex.search(line):
                        job.debug(1, f"regex #{index} matches {line!r}")
                        return Verdict(REGEX, b"#%d" % index)
        return None


class AttachmentBlocker(Scanner):
    """Refuses a message carrying a file whose name ends with a listed
    extension (see simscan.mime for where names are found)."""

    name = "attach"

    def version(self, job: Job) -> str:
        return __version__

    def scan(self, job: Job, result: Result) -> Verdict | None:
        with open(job.message.path, "rb") as f:
            names = walk(f, job.policy.attach)
        job.debug(2, f"attachment names {names.found!r}")
        if names.blocked is not None:
            return Verdict(ATTACH, names.blocked.encode("utf-8", "replace"))
        for what in names.truncated:
            # Deeper than any mail client goes: say so, the message passes.
            job.warn(f"attachment check stopped at a limit ({what}); names there not checked")
        return None
