"""The virus scanners: ClamAV (clamd directly, or clamdscan as the C
simscan ran it) and Trophie/Sophie.

Each turns its daemon's answer into a Verdict (VIRUS with the name) or no
opinion.  A daemon that cannot give an answer (down, timed out, an error
reply, garbage) is a ScannerError: a temporary failure, so the sender
retries; nothing here ever passes a message it could not scan, except a
message over clamd's StreamMaxLength that clamd cannot be handed as a file
(TCP only, or `clamd_over_limit = "pass"`), on the word of a clamd that
answered, with a warning line.
"""

from ..errors import ScannerError, WorkDirError
from ..verdict import VIRUS, Verdict
from ..wire import clamd, netio
from .base import SKIPPED, Job, RecordedScanner, Result, Skipped, pool


class ClamdScanner(RecordedScanner):
    """INSTREAM to clamd: the endpoints of the `clamd` setting, or else
    those of clamd.conf, tried in base.pool's order until one answers."""

    name = "clamav"

    def scan(self, job: Job, result: Result) -> Verdict | Skipped | None:
        settings = job.settings
        try:
            # (stream_max 0: unknown, clamd will say if the message is too long)
            conf = clamd.where(settings.clamd, settings.clamd_conf)
        except OSError as err:
            problem = f"cannot read {settings.clamd_conf} ({err.strerror}); set clamd"
            raise ScannerError("clamd", problem) from None
        except ValueError as err:
            raise ScannerError("clamd", f"{settings.clamd_conf} {err}") from None
        endpoints, stream_max = conf.endpoints, conf.stream_max
        failures: list[str] = []
        too_long_at: netio.Endpoint | None = None
        unix_failed = False
        tried = pool(job, "clamd", endpoints)
        for endpoint in tried:
            try:
                reply = self._ask(job, endpoint, stream_max)
            except ScannerError as err:  # scan_timeout spent: say what came before
                raise ScannerError("clamd", "; ".join([*failures, str(err)])) from None
            except (OSError, ValueError, clamd.ProtocolError) as err:
                unix_failed = unix_failed or bool(endpoint.path)
                failures.append(f"{endpoint.shown} {netio.describe(err)}")
                job.debug(1, f"clamd {endpoint.shown}: {netio.describe(err)}")
                tried.failed(endpoint, err)
                continue
            tried.answered(endpoint)  # (any reply: it could be connected to)
            if reply.kind in (clamd.FOUND, clamd.OK) and failures:
                job.warn(f"clamd {'; '.join(failures)}; {endpoint.shown} answered instead")
            if reply.kind == clamd.FOUND:
                return Verdict(VIRUS, reply.text)
            if reply.kind == clamd.OK:
                return None
            if reply.kind == clamd.TOO_LONG:
                # A clamd that was reached said the message is too long to
                # stream, and it cannot take the file itself: another
                # endpoint may (a unix socket), so go on looking.
                too_long_at = too_long_at or endpoint
                if settings.clamd_over_limit == "pass":
                    break
                continue
            unix_failed = unix_failed or bool(endpoint.path)
            failures.append(f"{endpoint.shown} error {reply.text.decode('ascii', 'replace')}")
        if too_long_at is None or (unix_failed and settings.clamd_over_limit == "fildes"):
            # (A unix clamd that failed could have taken the file: passing
            # it unscanned would depend on an outage.  Retry later.)
            if too_long_at is not None:
                failures.append(f"{too_long_at.shown} over StreamMaxLength")
            raise ScannerError("clamd", "; ".join(failures))
        # Passing it unscanned beats a temporary failure that would repeat
        # at every retry; only ever on the word of a clamd that answered.
        if settings.clamd_over_limit == "pass":
            why = 'clamd_over_limit = "pass"'
        else:
            why = "FILDES needs a unix socket"
        size = f"the message ({job.message.size} bytes) is over clamd's StreamMaxLength"
        also = f"; {'; '.join(failures)}" if failures else ""
        job.warn(f"clamd {too_long_at.shown}: {size}; not virus-scanned ({why}){also}")
        return SKIPPED

    def _ask(self, job: Job, endpoint: netio.Endpoint, stream_max: int) -> clamd.Reply:
        """clamd's reply about the message.  Over StreamMaxLength on a unix
        socket (with clamd_over_limit = "fildes") the open file is passed
        instead; TOO_LONG when that cannot be done."""
        settings = job.settings
        deadline = netio.Deadline(job.budget(settings.clamd_timeout))
        fildes = settings.clamd_over_limit == "fildes" and bool(endpoint.path)
        with open(job.message.path, "rb", buffering=0) as f:
            # The limit from clamd.conf saves streaming what clamd would
            # refuse; elsewhere (and over TCP, where only an answer proves
            # clamd is there) clamd's own answer tells.
            if not (fildes and stream_max and job.message.size > stream_max):
                sock = netio.connect(endpoint, min(settings.clamd_connect_timeout, deadline.left()))
                try:
                    reply = clamd.parse_reply(clamd.instream(sock, f, deadline))
                finally:
                    sock.close()
                if reply.kind != clamd.TOO_LONG or not fildes:
                    return reply
            job.debug(1, f"clamd {endpoint.shown}: over StreamMaxLength; passing the file (FILDES)")
            sock = netio.connect(endpoint, min(settings.clamd_connect_timeout, deadline.left()))
            try:
                reply = clamd.parse_reply(clamd.fildes(sock, f.fileno(), deadline))
            finally:
                sock.close()
        if reply.kind == clamd.TOO_LONG:  # not from FILDES: garbage
            raise clamd.ProtocolError("size limit answer to FILDES")
        return reply


class ClamdscanScanner(RecordedScanner):
    """`clamdscan --stdout` over the work dir, as the C simscan ran it:
    exit 1 and `PATH: NAME FOUND` is a virus, 0 clean, anything else (2, a
    signal, a time-out) a temporary failure.  clamd reads the files by
    path, so it needs read access to the work dir."""

    name = "clamav"

    def scan(self, job: Job, result: Result) -> Verdict | None:
        from ..wire import proc

        settings = job.settings
        argv = [
            settings.clamdscan,
            "--stdout",
            "--no-summary",
            f"--config-file={settings.clamd_conf}",
            job.workdir,
        ]
        try:
            limit = job.budget(settings.clamd_timeout)
            status, output = proc.run(argv, limit, close=settings.custom_error_fd)
        except TimeoutError:
            problem = f"did not finish in {limit:g} s (killed)"
            raise ScannerError("clamdscan", problem) from None
        except OSError as err:
            raise ScannerError(
                "clamdscan", f"cannot run {argv[0]} ({netio.describe(err)})"
            ) from None
        if status == 0:
            return None
        if status == 1:
            for line in output.splitlines():
                if line.endswith(b" FOUND"):
                    return Verdict(VIRUS, line[:-6].rpartition(b": ")[2])
            return Verdict(VIRUS, b"unknown")
        last = output.strip().splitlines()[-1:] or [b""]
        why = f"killed by signal {-status}" if status < 0 else f"exited {status}"
        raise ScannerError("clamdscan", f"{why} {last[0][:200].decode('utf-8', 'replace')}".strip())


class TrophieScanner(RecordedScanner):
    """Trophie/Sophie on the work dir, once the MIME parts are written
    there as files (the daemon scans files, not messages)."""

    name = "trophie"

    def scan(self, job: Job, result: Result) -> Verdict | None:
        from ..mail import mime
        from ..wire import trophie

        try:
            with open(job.message.path, "rb") as f:
                parts = mime.extract(f, job.workdir)
        except OSError as err:
            raise WorkDirError(f"cannot write the MIME parts ({netio.describe(err)})") from None
        job.debug(1, f"trophie: {parts.parts.count if parts.parts else 0} parts written")
        if parts.truncated:
            # Parts past the limit would reach the daemon undecoded, if at
            # all: no verdict rather than a wrong one.
            problem = f"cannot write the MIME parts ({'; '.join(parts.truncated)})"
            raise ScannerError("trophie", problem)
        settings = job.settings
        try:
            raw = trophie.ask(
                settings.trophie_socket,
                job.workdir,
                netio.Deadline(job.budget(settings.trophie_timeout)),
            )
        except (OSError, ValueError) as err:
            raise ScannerError(
                "trophie", f"{settings.trophie_socket} {netio.describe(err)}"
            ) from None
        kind, text = trophie.parse_answer(raw)
        if kind == trophie.FOUND:
            return Verdict(VIRUS, text)
        if kind == trophie.ERROR:
            shown = text[:200].decode("utf-8", "replace")
            raise ScannerError("trophie", f"{settings.trophie_socket} answered {shown}")
        return None
