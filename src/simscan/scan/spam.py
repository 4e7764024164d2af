"""SpamAssassin: spamd spoken to directly (PROCESS), or spamc run as the C
simscan ran it; and the one decision table for what a score means.

The processed message (SpamAssassin's X-Spam-* headers, maybe a report
wrapped around the original) is written to the work dir and is what gets
queued, as in C.  When spamd cannot be asked (down, timed out, garbage),
the default is spamc's "safe fallback": the original message is queued
unscanned, with a warning line saying why; `spam_fail_tempfail = true`
(or `-x` in spamc_args) makes it a temporary failure instead.
"""

from .. import report
from ..errors import ScannerError, ScannerUnreachable, WorkDirError
from ..report import SpamScore
from ..verdict import CLEAN, PASSTHRU, RELAYCLIENT, SPAM, SPAM_PASS, Verdict
from ..wire import netio, spamd
from .base import SKIPPED, Job, RecordedScanner, Result, Skipped, first_answer

PROCESSED_NAME = "msg.spam"  # the processed message, in the work dir


def decide(
    flagged: bool, score: float, threshold: float | None, passthru: bool, subject: bytes
) -> Verdict:
    """SPEC sections 2 and 5, and the C README's four ways:

    - no threshold: spam when SpamAssassin flags it;
    - a threshold (spam_hits, global or per-domain): spam when the score
      is at or above it; flagged but below is SPAM PASS (delivered);
    - passthru delivers spam tagged (PASSTHRU), unless a threshold is set.
    Refusing, dropping (dropmsg) or custom texts are verdict.outcome's.
    """
    is_spam = flagged if threshold is None else score >= threshold
    if is_spam:
        if passthru and threshold is None:
            return Verdict(PASSTHRU, subject)
        return Verdict(SPAM, subject, b"%.2f" % score)
    return Verdict(SPAM_PASS if flagged else CLEAN, subject)


class _SpamScanner(RecordedScanner):
    name = "spam"

    def scan(self, job: Job, result: Result) -> Verdict | Skipped | None:
        settings, policy = job.settings, job.policy
        if job.relayclient and not settings.spam_auth_user:
            # An authenticated or trusted sender: delivered unscanned, and
            # the log line says why (state RELAYCLIENT, as in C).
            result.verdict = Verdict(RELAYCLIENT, result.verdict.detail)
            return SKIPPED
        size, limit = job.message.size, policy.size_limit
        if size >= limit:
            job.note(f"spam not scanned: {size} bytes is at or above size_limit {limit}")
            return SKIPPED
        processed = f"{job.workdir}/{PROCESSED_NAME}"
        try:
            flagged, score, required = self.ask(job, processed)
        except ScannerError as err:
            if settings.spam_fail_tempfail or _spamc_strict(settings.spamc_args):
                raise
            job.warn(f"{err}; queued without a spam scan (spam_fail_tempfail is off)")
            return SKIPPED
        result.message_path = processed
        with open(processed, "rb") as f:
            subject = report.subject(f.read(1 << 16))
        threshold = policy.spam_hits
        if threshold is not None and policy.spam_flag_counts:
            # (policy_merge "strictest": a recipient without spam_hits
            # refuses what SpamAssassin flags, whatever the others' score.)
            threshold = min(threshold, required)
        score += 0.0  # SpamAssassin's -0.0 is logged as 0.00
        result.spam = SpamScore(score, required, required if threshold is None else threshold)
        return decide(flagged, score, threshold, policy.spam_passthru, subject)

    def ask(self, job: Job, processed: str) -> "Found":
        """(flagged, score, required), the processed message written to
        `processed`; ScannerError when SpamAssassin could not say."""
        raise NotImplementedError


def _spamc_strict(args: str) -> bool:
    try:
        return bool(args) and spamd.spamc_options(args).strict
    except ValueError:
        return False


class _Processed:
    """The file the processed message is written to.  A write that fails
    (a full disk) is a WorkDirError, a temporary failure: not a spamd
    failure, which would queue the message unscanned."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self.f = open(path, "wb", buffering=0)  # noqa: SIM115 (closed by the with)
        except OSError as err:
            raise WorkDirError(f"cannot write {path} ({err.strerror})") from None

    def write(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        try:
            while view:
                view = view[self.f.write(view) :]
        except OSError as err:
            raise WorkDirError(f"cannot write {self.path} ({err.strerror})") from None

    def __enter__(self) -> "_Processed":
        return self

    def __exit__(self, *exc: object) -> None:
        self.f.close()


Found = tuple[bool, float, float]  # SpamAssassin's flag, score, required


class SpamdScanner(_SpamScanner):
    """PROCESS to spamd: the endpoints of the `spamd` setting, else those
    spamc_args names (-U, -d, -p), else spamc's default 127.0.0.1:783.  The
    user is the policy's (spamuser, spamc_user), else spamc_args' -u."""

    def ask(self, job: Job, processed: str) -> Found:
        settings = job.settings
        try:
            options = spamd.spamc_options(settings.spamc_args)
        except ValueError as err:
            raise ScannerError("spamd", f"spamc_args {err}") from None
        if settings.spamd:
            endpoints = netio.parse_endpoints(settings.spamd, spamd.DEFAULT_PORT)
        else:
            endpoints = options.endpoints
        user = job.policy.spam_user or options.user.encode("utf-8", "surrogateescape") or None

        def process(endpoint: netio.Endpoint) -> Found:
            answer = self._process(job, endpoint, processed, user)
            job.debug(1, f"spamd {endpoint.shown}: {answer!r}")
            return answer.spam, answer.score, answer.required

        return first_answer(job, "spamd", endpoints, process, spamd.ProtocolError)

    def _process(
        self, job: Job, endpoint: netio.Endpoint, processed: str, user: bytes | None
    ) -> spamd.Answer:
        settings = job.settings
        deadline = netio.Deadline(job.budget(settings.spamd_timeout))
        sock = netio.connect(endpoint, min(settings.spamd_connect_timeout, deadline.left()))
        try:
            with open(job.message.path, "rb", buffering=0) as f, _Processed(processed) as out:
                size = job.message.size
                return spamd.process(sock, f, size, user, out.write, deadline)
        finally:
            sock.close()


# spamc refuses -s above this (SPAMC_MAX_MESSAGE_LEN).
SPAMC_MAX_SIZE = 256 * 1024 * 1024
# spamc's exit when it could not connect to spamd (sysexits' EX_UNAVAILABLE).
EX_UNAVAILABLE = 69


class SpamcScanner(_SpamScanner):
    """`spamc SPAMC_ARGS -x -s SIZE [-u USER] < message`, as the C simscan
    ran it (plus -x and -s); the scores are read from the X-Spam-* headers
    of what it prints, which simscan writes to the work dir itself.

    -x: without it, spamc's safe fallback gives the message back unscanned
    with exit 0, and headers the sender put there could pass for a verdict;
    with it a failure is an exit code, and simscan's own fallback setting
    decides.  -x also turns off spamc's own failover between `-d` hosts, so
    with several hosts simscan runs spamc once per host (`-d HOST` last),
    in base.pool's order, as the direct mode does (an exit 69, spamc could
    not connect, marks the host down).  -s: spamc's own size cap (500 KB)
    must not pass bigger messages through unscanned; size_limit is the one
    cap."""

    def ask(self, job: Job, processed: str) -> Found:
        settings = job.settings
        try:
            argv = [settings.spamc, *spamd.split_args(settings.spamc_args)]
            hosts = spamd.spamc_options(settings.spamc_args).endpoints
        except ValueError as err:
            raise ScannerError("spamc", str(err)) from None
        if job.message.size >= SPAMC_MAX_SIZE:
            raise ScannerError("spamc", f"cannot take {job.message.size} bytes")
        argv += ["-x", "-s", str(job.message.size + 1)]
        if job.policy.spam_user:
            # Last, as in C: spamc takes the last -u.  (spamc_args may not
            # hold an -e command, which would take these as its own.)
            argv += ["-u", job.policy.spam_user.decode("utf-8", "surrogateescape")]
        if len(hosts) < 2:
            return self._run(job, argv, processed)
        return first_answer(
            job,
            "spamc",
            hosts,
            lambda host: self._run(job, [*argv, "-d", host.host, "-p", str(host.port)], processed),
            spamd.ProtocolError,
            kind="spamd",
        )

    def _run(self, job: Job, argv: list[str], processed: str) -> Found:
        from ..wire import proc

        settings = job.settings
        limit = job.budget(settings.spamd_timeout)
        with open(job.message.path, "rb") as f, _Processed(processed) as out:
            try:
                status, errors = proc.run(
                    argv,
                    limit,
                    stdin=f.fileno(),
                    out=out.write,
                    close=settings.custom_error_fd,
                )
            except TimeoutError:
                problem = f"did not finish in {limit:g} s (killed)"
                raise ScannerError("spamc", problem) from None
            except OSError as err:
                problem = f"cannot run {argv[0]} ({netio.describe(err)})"
                raise ScannerError("spamc", problem) from None
        last = errors.strip().splitlines()[-1:] or [b""]
        said = last[0][:200].decode("utf-8", "replace")
        if status not in (0, 1):  # 1: spam, with -E
            why = f"killed by signal {-status}" if status < 0 else f"exited {status}"
            if status == EX_UNAVAILABLE:
                raise ScannerUnreachable("spamc", f"{why} {said}".strip())
            raise ScannerError("spamc", f"{why} {said}".strip())
        with open(processed, "rb") as f:
            found = spamd.status_from_headers(f.read(1 << 16))
        if found is None:
            problem = "printed a message without X-Spam-Status"
            raise ScannerError("spamc", f"{problem} {said}".strip())
        return found
