"""The `simscan` command: the only layer that touches fds, the environment,
signals and exec.

qmail-smtpd runs it as $QMAILQUEUE: message on fd 0, envelope on fd 1,
the custom-error pipe on fd 4 (or 6), log on fd 2.  Whatever happens,
exactly one log line is written and the work dir is removed.
"""

# posix, not os: it is os's own C core, already loaded at start-up, where
# `import os` costs ~0.9 ms per message (it builds os.environ, importing
# _collections_abc, and posixpath).  The per-message path never imports
# os; tests/e2e/test_e2e_imports.py pins that.
import posix
import sys
import time

from . import __version__, report
from .config import policy, settings
from .errors import (
    EXIT_OK,
    EXIT_REJECT,
    EXIT_TEMPFAIL,
    ConfigError,
    InputError,
    Interrupted,
    ScanTimeout,
    SimscanError,
    exit_code_for,
)
from .qmail import handoff, workdir
from .qmail.queue import Envelope, read_envelope, write_custom_error
from .scan.base import Client, Debug, Job, Result, Scanner, Trace
from .scan.pipeline import run, scanners_for
from .verdict import QUARANTINED, outcome

# _signal, not signal: the signal module imports enum (~3 ms per message)
# only to wrap these same functions.  mypy reads any name TYPE_CHECKING as
# true, so it checks these calls against signal's stubs, at no import cost.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal as _signal
    from collections.abc import Mapping
else:
    import _signal

_SIGNALS = (_signal.SIGTERM, _signal.SIGALRM, _signal.SIGHUP, _signal.SIGINT)
ALARM_GRACE = 1.0  # seconds past scan_timeout: the scanners' own limits go first


def main(argv: list[str] | None = None, started: float | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["-v"]:
        print(f"simscan version: {__version__}{build_id()}")
        return EXIT_OK
    if args in (["-h"], ["--help"]):
        sys.stdout.write(HELP)
        return EXIT_OK
    if args:
        # Exit 71: if qmail-smtpd ever ran us with arguments, the mail waits.
        _write_err(USAGE)
        return EXIT_TEMPFAIL
    return Run(posix.environ, started=started).execute()


USAGE = (
    b"usage: simscan [-v | --help | check | config | stats | quarantine]"
    b"  (run by qmail-smtpd as $QMAILQUEUE)\n"
)

HELP = """\
usage: simscan            (as $QMAILQUEUE: qmail-smtpd runs it for each message)
       simscan -v         the version and build
       simscan --help     this text
       simscan check [--from ADDR] [--to ADDR]... [--ip IP] [--relayclient] [--json] [FILE...]
                          scan messages as qmail-smtpd would; queue nothing
       simscan config [--check]
                          the effective settings and their sources; test the scanners
       simscan stats [--since TIME] [--prometheus FILE] [LOG...]
                          summarise simscan's log lines
       simscan quarantine list|show|release|expire
                          look after quarantined messages and kept work dirs
       simscan COMMAND --help   each command's own help

With no arguments simscan reads a message on fd 0 and its envelope on fd 1,
as qmail-queue does, scans it as simscan.toml and simcontrol say, and then
runs the real qmail-queue, or refuses the message: exit 31 (or 82 with a
text on fd 4 with custom_smtp_reject), 71 for a temporary failure.  One
log line per message goes to fd 2.

Settings: /var/qmail/control/simscan.toml, or the file $SIMSCAN_CONFIG
names.  Per-domain rules: CONTROLDIR/simcontrol, compiled by simscanmk.
Environment: SIMSCAN_DEBUG=1|2 (debug lines), SIMSCAN_DEBUG_FILES=1|2
(keep work dirs), and qmail-smtpd's own TCPREMOTEIP, TCPREMOTEHOST,
RELAYCLIENT, SMTPAUTHUSER.

Wiring it in: QMAILQUEUE=/var/qmail/bin/simscan in tcp.smtp (tcprules).
See the README for every setting.
"""


def build_id() -> str:
    """` (build v0.1.0-12-gabc1234)` when installed from a git checkout
    (setup.py writes simscan/_build.py into the built package), else ""."""
    try:
        from ._build import BUILD  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except ImportError:
        return ""
    return f" (build {BUILD})" if BUILD else ""


class Run:
    """One message, from fd 0 and 1 to an exit code."""

    def __init__(
        self,
        environ: "Mapping[bytes, bytes]",
        scanners: list[Scanner] | None = None,
        started: float | None = None,
    ) -> None:
        self.start = time.time()
        self.started = time.monotonic() if started is None else started
        self.environ = environ
        self.scanners = scanners
        self.debug = Debug(_int(environ.get(b"SIMSCAN_DEBUG")), _write_err, posix.getppid())
        self.keep_files = _int(environ.get(b"SIMSCAN_DEBUG_FILES"))
        self.interruptible = False
        self.alarm = ""  # "armed" while the scanners run, then "spent"
        self._scan_timeout = 0.0
        self.workdir: str | None = None
        self.envelope: Envelope | None = None
        self.warnings: list[str] = []
        self.notes: list[str] = []
        self.trace: Trace | None = None  # `simscan check` sets one
        self.lookups: list[tuple[bytes, bytes | None]] | None = None
        self.chosen: list[Scanner] = []  # the scanners this message's policy runs
        self.job: Job | None = None

    def execute(self) -> int:
        for signum in _SIGNALS:
            _signal.signal(signum, self._on_signal)
        # An inherited SIG_IGN would make the kernel reap qmail-queue itself.
        _signal.signal(_signal.SIGCHLD, _signal.SIG_DFL)
        queued = False
        # Signals raise Interrupted only while `interruptible` is set, and
        # that is only ever inside this try: an interruption can never
        # escape it, nor hit the cleanup and the log line below.
        try:
            self.interruptible = True
            code, state, detail, spam, queued = self._process()
            self.interruptible = False
        except Exception as err:
            self.interruptible = False
            code = exit_code_for(err)
            state, detail, spam = f"ERROR {code}", _reason(err).encode(errors="replace"), None
            if not isinstance(err, SimscanError) and self.debug.level:
                import traceback

                self.debug(1, "".join(traceback.format_exception(err)).rstrip())
        self._cleanup(queued)
        self._log(state, spam, detail)
        return code

    def _process(self) -> tuple[int, str, bytes, report.SpamScore | None, bool]:
        _check_input_fds()
        config = self._settings()
        path = workdir.create(config.workdir, self._remember_workdir)
        self.debug(1, f"work dir {path}")
        message = workdir.receive(0, f"{path}/{workdir.MESSAGE_NAME}")
        self.envelope = envelope = read_envelope(1)
        if self.keep_files:  # for whoever reads a kept work dir; qmail-queue gets it from memory
            workdir.write_file(f"{path}/{workdir.ENVELOPE_NAME}", envelope.raw)
        self.debug(1, f"message {message.size} bytes, {len(envelope.recipients)} recipients")
        job, result = self._scan(config, path, message, envelope)
        out = outcome(result.verdict, config.dropmsg, config.custom_smtp_reject)
        if not out.queue and config.quarantinedir and result.verdict.kind in QUARANTINED:
            self._quarantine(config.quarantinedir, result, out.log_state)
        code = out.exit_code
        if out.custom_text is not None and not write_custom_error(
            config.custom_error_fd, out.custom_text
        ):
            # (a temporary refusal stays temporary: 71, never 31)
            code = EXIT_TEMPFAIL if out.custom_text.startswith(b"Z") else EXIT_REJECT
            self.debug(1, f"fd {config.custom_error_fd} is not open: refusing with {code}")
        if not out.queue:
            return code, out.log_state, result.verdict.detail, result.spam, False
        prefix = self._prefix(job, result)
        queue = job.policy.qmail_queue
        status = handoff.hand_off(
            queue,
            result.message_path,
            envelope.raw,
            prefix,
            _SIGNALS,
            result.body_offset,
            self.environ,
        )
        self.debug(1, f"{queue} exited {status}")
        if status == 0:
            return EXIT_OK, out.log_state, result.verdict.detail, result.spam, True
        if status < 0:
            why = f"{queue} killed by signal {-status}"
            return EXIT_TEMPFAIL, f"ERROR {EXIT_TEMPFAIL}", why.encode(), None, False
        why = f"{queue} exited {status}"
        return status, f"ERROR {status}", why.encode(), None, False

    def _settings(self) -> settings.Settings:
        names = _text_environ(self.environ, b"SIMSCAN_CONFIG")
        config = settings.load(names)
        where = settings.config_path(names)
        if self.debug.level >= 2:
            self.debug(2, f"settings from {where}")
        _drop_privileges(config.user, where)
        return config

    def _scan(
        self, config: settings.Settings, path: str, message: workdir.Message, envelope: Envelope
    ) -> tuple[Job, Result]:
        """The policy, then the scanners, under scan_timeout's alarm."""
        lookups: list[tuple[bytes, bytes | None]] | None = None
        if self.debug.level >= 2 or self.trace is not None:
            lookups = []
        rules = policy.resolve(config, envelope, lookups)
        self.lookups = lookups
        if self.debug.level >= 2:  # (not built per message otherwise)
            for key, value in lookups or ():
                if value is not None:
                    shown = key.decode(errors="replace")
                    self.debug(2, f"simcontrol {shown!r} matched: {value.decode(errors='replace')}")
            self.debug(2, f"policy {rules.describe()}")
        relayclient = b"RELAYCLIENT" in self.environ
        if self.scanners is None:
            scanners = scanners_for(rules, config, relayclient)
        else:
            scanners = self.scanners
        self.chosen = scanners
        subject = report.subject(message.head)
        environ = self.environ
        client = Client(
            environ.get(b"TCPREMOTEIP"),
            environ.get(b"TCPREMOTEHOST"),
            environ.get(b"SMTPAUTHUSER"),
            environ.get(b"TCPREMOTEINFO"),
        )
        # scan_timeout counts from here: the sender's wait starts at its final dot.
        job = Job(
            message, envelope, config, rules, path, subject, self.debug, relayclient, client=client
        )
        job.trace = self.trace
        self.job = job
        self.warnings = job.warnings
        self.notes = job.notes
        # The scanners' own time limits are cut to scan_timeout; this alarm
        # is the net for simscan's own work (a regex that backtracks for
        # minutes): a little later, it ends the scan with the same error.
        self._scan_timeout = config.scan_timeout
        self.alarm = "armed"
        _signal.setitimer(_signal.ITIMER_REAL, config.scan_timeout + ALARM_GRACE)
        try:
            result = run(job, scanners)
        finally:
            self.alarm = "spent"
            _signal.setitimer(_signal.ITIMER_REAL, 0)
        return job, result

    def _prefix(self, job: Job, result: Result) -> bytes:
        """What goes before the message file's bytes when it is queued: the
        Received line, and rspamd's rebuilt header block."""
        prefix = b""
        if job.settings.received:
            prefix = report.received_line(
                __version__,
                posix.getppid(),
                posix.getpid(),
                self._elapsed(),
                [(s.name, s.version(job)) for s in result.scanners],
                self.start,
            )
        if result.head is not None:
            prefix += result.head  # rspamd's header changes; the body follows from the file
        return prefix

    def _quarantine(self, directory: str, result: Result, state: str) -> None:
        """Keep a copy; a failure is a warning, never a change of verdict."""
        from .qmail import quarantine

        assert self.workdir is not None and self.envelope is not None
        line = self._line(state, result.spam, result.verdict.detail)
        name = self.workdir.rpartition("/")[2]
        try:
            where = quarantine.store(directory, name, result.message_path, self.envelope.raw, line)
        except Interrupted:
            raise  # a stop signal is not a quarantine problem
        except (OSError, SimscanError) as err:
            why = err.strerror if isinstance(err, OSError) and err.strerror else _reason(err)
            self.warnings.append(f"cannot quarantine in {directory} ({why})")
        else:
            self.debug(1, f"quarantined in {where}")

    def _remember_workdir(self, path: str) -> None:
        """Called before the mkdir, so a signal cannot orphan the dir."""
        self.workdir = path

    def _on_signal(self, signum: int, frame: object) -> None:
        if signum == _signal.SIGALRM and self.alarm:
            # Ours from the moment it was set: a late one is ignored.
            if self.alarm == "armed" and self.interruptible:
                self.alarm = "spent"
                raise ScanTimeout(self._scan_timeout)
            return
        if self.interruptible:
            self.interruptible = False
            raise Interrupted(signum)

    def _cleanup(self, queued: bool) -> None:
        if self.workdir is None:
            return
        if self.keep_files >= 2 or (self.keep_files == 1 and not queued):
            self.debug(1, f"keeping work dir {self.workdir}")
            return
        if not workdir.remove(self.workdir):
            self.debug(1, f"could not remove work dir {self.workdir}")

    def _elapsed(self) -> float:
        return time.monotonic() - self.started

    def _log(self, state: str, spam: report.SpamScore | None, detail: bytes) -> None:
        ppid = posix.getppid()
        for text in self.warnings:
            _write_err(report.warning_line(ppid, text))
        for text in self.notes:
            _write_err(report.warning_line(ppid, text, "note"))
        _write_err(self._line(state, spam, detail))

    def _line(self, state: str, spam: report.SpamScore | None, detail: bytes) -> bytes:
        env = self.envelope
        return report.log_line(
            posix.getppid(),
            state,
            spam,
            self._elapsed(),
            detail,
            self.environ.get(b"TCPREMOTEIP"),
            env.sender_lower if env else b"",
            env.recipients_lower if env else [],
        )


def _check_input_fds() -> None:
    """fd 0 and 1 must be open before we open anything, or our own files
    would take their numbers and be read as the message or envelope."""
    for fd, what in ((0, "message"), (1, "envelope")):
        try:
            posix.fstat(fd)
        except OSError:
            raise InputError(f"fd {fd} (the {what}) is not open") from None


def _drop_privileges(user: str, config_path: str) -> None:
    """Run as `user` when started as root (the C program was setuid)."""
    if not user or posix.geteuid() != 0:
        return
    import pwd

    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        raise ConfigError(config_path, 0, "user", f"no such user {user!r}") from None
    if pw.pw_uid == 0:
        return
    posix.initgroups(user, pw.pw_gid)
    posix.setgid(pw.pw_gid)
    posix.setuid(pw.pw_uid)


def _text_environ(environ: "Mapping[bytes, bytes]", *names: bytes) -> dict[str, str]:
    """Those variables as os.environ would give them (decoded as file names
    are, undecodable bytes kept as surrogates)."""
    encoding = sys.getfilesystemencoding()
    return {
        name.decode(): value.decode(encoding, "surrogateescape")
        for name in names
        if (value := environ.get(name)) is not None
    }


def _reason(err: BaseException) -> str:
    if isinstance(err, SimscanError):
        return str(err)
    return f"internal error {type(err).__name__} ({err})"


def _int(value: bytes | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def _write_err(data: bytes) -> None:
    try:
        posix.write(2, data)
    except OSError:
        pass
