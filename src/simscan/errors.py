"""The one error tree, and the one place that turns an error into an exit code.

Every failure that is not a verdict on the message is a temporary failure:
the sending MTA keeps the message and retries.  The only exceptions are the
two that qmail-queue itself defines for its input: an envelope it cannot
read (54) and an envelope that is not an envelope (91).
"""

# qmail-queue exit codes (see qmail-queue(8) and SPEC section 1).
EXIT_OK = 0
EXIT_REJECT = 31
EXIT_TEMPFAIL = 71
EXIT_CUSTOM = 82
EXIT_READ = 54
EXIT_ENVELOPE_FORMAT = 91


class SimscanError(Exception):
    """Root of every error simscan raises on purpose."""

    exit_code = EXIT_TEMPFAIL


class ConfigError(SimscanError):
    """The configuration file cannot be read or holds a bad value."""

    def __init__(self, path: str, line: int, key: str, problem: str) -> None:
        self.path = path
        self.line = line
        self.key = key
        self.problem = problem
        # No ':' in the text: it ends up as one field of the log line.
        where = f"config {path}" + (f" line {line}" if line else "")
        what = f"setting {key} {problem}" if key else problem
        super().__init__(f"{where} {what}")


class InputError(SimscanError):
    """The message or envelope could not be read from qmail-smtpd."""

    exit_code = EXIT_READ


class EnvelopeTruncated(InputError):
    """The envelope ended (or failed) before its terminating NUL."""


class EnvelopeFormatError(SimscanError):
    """The envelope is not in qmail-queue's format."""

    exit_code = EXIT_ENVELOPE_FORMAT


class WorkDirError(SimscanError):
    """The work dir or a file in it could not be created or written."""


class QuarantineError(SimscanError):
    """A quarantine entry (or kept work dir) is missing, unreadable or not one."""


class QueueError(SimscanError):
    """qmail-queue could not be started or fed."""


class Interrupted(SimscanError):
    """A signal (SIGTERM, SIGALRM, SIGHUP, SIGINT) ended the run early."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"interrupted by signal {signum}")


def exit_code_for(err: BaseException) -> int:
    """Map any exception to qmail-queue's exit code.

    Anything not ours (a bug, MemoryError, an OSError that escaped) is a
    temporary failure too: the message must never be lost.
    """
    if isinstance(err, SimscanError):
        return err.exit_code
    return EXIT_TEMPFAIL


class ScannerError(SimscanError):
    """A scanner gave no verdict: down, timed out, or an answer that cannot
    be read.  A temporary failure unless a setting says otherwise (the
    scanner that catches it decides, e.g. spamd's safe fallback)."""

    def __init__(self, scanner: str, problem: str) -> None:
        self.scanner = scanner
        self.problem = problem
        super().__init__(f"{scanner} {problem}")


class ScannerUnreachable(ScannerError):
    """A scanner's endpoint could not be connected to, where no
    netio.ConnectFailed can say so (spamc's exit 69): it marks the
    endpoint down (scan/health.py)."""


class ScanTimeout(ScannerError):
    """scan_timeout is spent: what Job.budget() raises, and what the alarm
    raises when simscan's own checks run past it."""

    def __init__(self, seconds: float) -> None:
        super().__init__("scan_timeout", f"({seconds:g} s) spent before the scanners answered")
