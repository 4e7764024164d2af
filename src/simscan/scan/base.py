"""What every scanner is written against: the Job it is given, the Result
it adds to, the Scanner interface, SKIPPED, and the debug writer.

Scanner modules (checks, virus, spam) import only this module; only
pipeline.py knows the concrete scanners, so the scan room has no cycles.
"""

import time

from ..config.policy import Policy, recorded_version
from ..config.settings import Settings
from ..errors import ScannerError, ScanTimeout
from ..qmail.queue import Envelope
from ..qmail.workdir import Message
from ..report import SpamScore
from ..verdict import Verdict

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import TypeVar

    from ..wire import netio
    from . import health

    T = TypeVar("T")


class Client:
    """Who sent the message, as qmail-smtpd's environment says (tcpserver's
    TCPREMOTE*, an AUTH patch's SMTPAUTHUSER): raw bytes, None when unset."""

    __slots__ = ("auth_user", "host", "info", "ip")

    def __init__(
        self,
        ip: bytes | None = None,
        host: bytes | None = None,
        auth_user: bytes | None = None,
        info: bytes | None = None,
    ) -> None:
        self.ip = ip
        self.host = host
        self.auth_user = auth_user
        self.info = info  # TCPREMOTEINFO (ident, or the user some AUTH patches set)


class Job:
    """One message on its way through the scanners."""

    __slots__ = (
        "client",
        "debug",
        "end",
        "envelope",
        "message",
        "notes",
        "policy",
        "relayclient",
        "settings",
        "subject",
        "trace",
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
        debug: "Debug",
        relayclient: bool = False,
        started: float | None = None,
        client: Client | None = None,
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
        self.client = client or Client()
        # What was done differently for this message, by design (spam not
        # scanned over size_limit): logged as note lines.
        self.notes: list[str] = []
        # Things worth an admin's attention that do not change the verdict
        # (a regex that does not compile, say); logged as warning lines.
        self.warnings: list[str] = list(policy.notes)
        # `simscan check` only: what the scanners saw and did.
        self.trace: Trace | None = None

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

    __slots__ = ("body_offset", "head", "message_path", "scanners", "spam", "verdict")

    def __init__(self, verdict: Verdict, message_path: str) -> None:
        self.verdict = verdict
        self.message_path = message_path
        # A rebuilt header block (rspamd's changes): what is queued is
        # `head`, then the message file from `body_offset` on.
        self.head: bytes | None = None
        self.body_offset = 0
        # The scanners that looked at the message, for the Received line.
        self.scanners: list[Scanner] = []
        # Set when spam scanning ran: the log line then carries the triple.
        self.spam: SpamScore | None = None


class Trace:
    """What `simscan check` shows of a scan; a real run has none (Job.trace
    is None) and pays nothing for it."""

    __slots__ = ("marked", "members", "names", "steps")

    def __init__(self) -> None:
        # The attachment check's names, each with its header block's number.
        self.names: list[tuple[str, int]] = []
        # What it opened inside attachments: archive members' paths.
        self.members: list[str] = []
        # Each scanner that ran: (name, what it said, seconds).
        self.steps: list[tuple[str, Verdict | Skipped | None, float]] = []
        # Endpoints tried last because an earlier message marked them down.
        self.marked: list[str] = []


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
    """SIMSCAN_DEBUG: N > 0 writes debug lines of level <= N on stderr,
    `simscan:[PPID]: debug: TEXT` (a line each for text of several), so
    they are matched to qmail-smtpd's session in multilog as the log line
    is, and never mistaken for a verdict line."""

    __slots__ = ("level", "ppid", "write")

    def __init__(self, level: int, write: object, ppid: int = 0) -> None:
        self.level = level
        self.write = write
        self.ppid = ppid

    def __call__(self, level: int, text: str) -> None:
        if level <= self.level:
            lines = "".join(
                f"simscan:[{self.ppid}]: debug: {line}\n" for line in text.splitlines() or [""]
            )
            self.write(lines.encode(errors="replace"))  # type: ignore[operator]


class Pool:
    """A scanner's endpoints in the order given, with nothing remembered:
    what a single endpoint gets (no file read or written for it), and
    several with `scanner_retry = 0`.  health.Pool is the same with the
    shared memory of endpoints marked down."""

    __slots__ = ("endpoints",)

    def __init__(self, endpoints: "list[netio.Endpoint]") -> None:
        self.endpoints = endpoints

    def __iter__(self) -> "Iterator[netio.Endpoint]":
        return iter(self.endpoints)

    def failed(self, endpoint: "netio.Endpoint", err: BaseException) -> None:
        pass

    def answered(self, endpoint: "netio.Endpoint") -> None:
        pass


def pool(
    job: Job, name: str, endpoints: "list[netio.Endpoint]", kind: str = ""
) -> "Pool | health.Pool":
    """The endpoints of the scanner `name` (clamd, spamd, spamc, rspamd)
    for this message, in the order to try them (scanner_balance, and the
    marks of scan/health.py under `kind`'s name: the daemon, `name` by
    default).  The caller reports each try with failed() or answered()."""
    settings = job.settings
    if len(endpoints) < 2 or (not settings.scanner_retry and settings.scanner_balance != "spread"):
        return Pool(endpoints)
    from . import health

    if settings.scanner_balance == "spread":
        endpoints = health.spread(endpoints, job.workdir)
    if not settings.scanner_retry:
        return Pool(endpoints)
    kind = kind or name
    connect_timeout = {
        "clamd": settings.clamd_connect_timeout,
        "spamd": settings.spamd_connect_timeout,
        "rspamd": settings.rspamd_connect_timeout,
    }.get(kind, 0.0)
    return health.Pool(
        name,
        kind,
        endpoints,
        f"{settings.workdir}/{health.DIR_NAME}",
        settings.scanner_retry,
        connect_timeout,
        job.debug,
        job.trace.marked if job.trace is not None else None,
    )


def first_answer(
    job: Job,
    name: str,
    endpoints: "list[netio.Endpoint]",
    ask: "Callable[[netio.Endpoint], T]",
    protocol_error: type[Exception],
    kind: str = "",
) -> "T":
    """The first endpoint's answer that comes (spamd, spamc per host,
    rspamd), in pool()'s order; each one that fails is logged (a warning
    when a later one answered), and all failing is a ScannerError naming
    each.  A spent scan_timeout ends the search."""
    from ..wire import netio

    failures: list[str] = []
    tried = pool(job, name, endpoints, kind)
    for endpoint in tried:
        try:
            found = ask(endpoint)
        except ScanTimeout as err:
            raise ScannerError(name, "; ".join([*failures, str(err)])) from None
        except (OSError, ValueError, protocol_error, ScannerError) as err:
            why = err.problem if isinstance(err, ScannerError) else netio.describe(err)
            failures.append(f"{endpoint.shown} {why}")
            job.debug(1, f"{name} {endpoint.shown}: {why}")
            tried.failed(endpoint, err)
            continue
        tried.answered(endpoint)
        if failures:
            job.warn(f"{name} {'; '.join(failures)}; {endpoint.shown} answered instead")
        return found
    raise ScannerError(name, "; ".join(failures))
