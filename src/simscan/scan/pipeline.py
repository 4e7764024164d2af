"""The pipeline decides: (message, envelope, settings, scanners) -> Result.

It knows nothing of sockets or file descriptors.  Scanners are small
objects with a `scan(job, result)` method; they run in precedence order
(cheap checks first: regex, attachment, virus, spam) and the first one that
refuses the message decides.  A scanner that delivers with a note
(spam passthru) records its verdict and lets the rest run.  A scanner that
could not look at this message on purpose (too long for clamd, with
`clamd_over_limit = "pass"`) returns SKIPPED and is left out of the
Received line.
"""

from __future__ import annotations

import time

from ..config.policy import Policy, recorded_version
from ..config.settings import Settings
from ..errors import ScanTimeout
from ..qmail.queue import Envelope
from ..qmail.workdir import Message
from ..report import SpamScore
from ..verdict import CLEAN, Verdict, outcome


class Job:
    """One message on its way through the scanners."""

    __slots__ = (
        "debug",
        "end",
        "envelope",
        "message",
        "notes",
        "policy",
        "relayclient",
        "settings",
        "subject",
        "warnings",
        "workdir",
    )

    def __init__(
        self,
        message: Message,
        envelope: Envelope,
        settings: Settings,
        policy: Policy,
        workdir: str,
        subject: bytes,
        debug: Debug,
        relayclient: bool = False,
        started: float | None = None,
    ) -> None:
        self.message = message
        self.envelope = envelope
        self.settings = settings
        self.policy = policy
        self.workdir = workdir
        self.subject = subject
        self.debug = debug
        # scan_timeout counts from `started` (monotonic; default now: the
        # message is in, and the sending server has begun to wait).
        self.end = (time.monotonic() if started is None else started) + settings.scan_timeout
        # RELAYCLIENT was set: an authenticated or trusted sender.
        self.relayclient = relayclient
        # What was done differently for this message, by design (spam not
        # scanned over size_limit): logged as note lines.
        self.notes: list[str] = []
        # Things worth an admin's attention that do not change the verdict
        # (a regex that does not compile, say); logged as warning lines.
        self.warnings: list[str] = list(policy.notes)

    def warn(self, text: str) -> None:
        self.warnings.append(text)
        self.debug(1, f"warning: {text}")

    def budget(self, seconds: float) -> float:
        """A scanner's own time limit, cut to what is left of scan_timeout
        (one budget for all scanners: the sending server waits about 10
        minutes for its answer).  ScannerError when nothing is left."""
        left = self.end - time.monotonic()
        if left <= 0:
            raise ScanTimeout(self.settings.scan_timeout)
        return min(seconds, left)

    def note(self, text: str) -> None:
        self.notes.append(text)
        self.debug(1, f"note: {text}")


class Result:
    """What the scanners concluded, and what to queue."""

    __slots__ = ("message_path", "scanners", "spam", "verdict")

    def __init__(self, verdict: Verdict, message_path: str) -> None:
        self.verdict = verdict
        self.message_path = message_path
        # The scanners that looked at the message, for the Received line.
        self.scanners: list[Scanner] = []
        # Set when spam scanning ran: the log line then carries the triple.
        self.spam: SpamScore | None = None


class Skipped:
    """The type of SKIPPED."""

    def __repr__(self) -> str:
        return "SKIPPED"


SKIPPED = Skipped()


class Scanner:
    """A check on the message: returns a Verdict, None for no opinion, or
    SKIPPED when it did not look at the message."""

    name = "scanner"

    def version(self, job: Job) -> str:
        return ""

    def scan(self, job: Job, result: Result) -> Verdict | Skipped | None:
        raise NotImplementedError


class RecordedScanner(Scanner):
    """A scanner whose version `simscanmk -g` recorded in simversions.cdb
    under its name (clamav, trophie, spam)."""

    def version(self, job: Job) -> str:
        return recorded_version(job.settings.controldir, self.name)


class Debug:
    """SIMSCAN_DEBUG: N > 0 writes debug lines of level <= N on stderr."""

    __slots__ = ("level", "write")

    def __init__(self, level: int, write: object) -> None:
        self.level = level
        self.write = write

    def __call__(self, level: int, text: str) -> None:
        if level <= self.level:
            self.write(f"simscan: {text}\n".encode(errors="replace"))  # type: ignore[operator]


def scanners_for(policy: Policy, settings: Settings) -> list[Scanner]:
    """The scanners the policy turns on, in precedence order: regex,
    attachments, ClamAV, Trophie, SpamAssassin.  Each module is imported
    only when its scanner runs."""
    scanners: list[Scanner] = []
    if policy.regex:
        from .checks import RegexFilter

        scanners.append(RegexFilter())
    if policy.attach:
        from .checks import AttachmentBlocker

        scanners.append(AttachmentBlocker())
    if policy.clam:
        from . import virus

        if settings.clamav_client == "clamdscan":
            scanners.append(virus.ClamdscanScanner())
        else:
            scanners.append(virus.ClamdScanner())
    if policy.trophie:
        from .virus import TrophieScanner

        scanners.append(TrophieScanner())
    if policy.spam:
        from . import spam

        if settings.spam_client == "spamc":
            scanners.append(spam.SpamcScanner())
        else:
            scanners.append(spam.SpamdScanner())
    return scanners


def run(job: Job, scanners: list[Scanner]) -> Result:
    """Run the scanners in order; the first refusal ends the scan."""
    result = Result(Verdict(CLEAN, job.subject), job.message.path)
    for scanner in scanners:
        verdict = scanner.scan(job, result)
        job.debug(1, f"{scanner.name}: {verdict!r}")
        if isinstance(verdict, Skipped):
            continue
        result.scanners.append(scanner)
        if verdict is None:
            continue
        result.verdict = verdict
        if not outcome(verdict, dropmsg=False, custom_reject=False).queue:
            break
    return result
