"""The virus scanners: ClamAV (clamd directly, or clamdscan as the C
simscan ran it) and Trophie/Sophie.

Each turns its daemon's answer into a Verdict (VIRUS with the name) or no
opinion.  A daemon that cannot give an answer (down, timed out, an error
reply, garbage) is a ScannerError: a temporary failure, so the sender
retries; nothing here ever passes a message it could not scan, except a
message over clamd's StreamMaxLength with `clamd_over_limit = "pass"`
(logged as a warning line).
"""

from __future__ import annotations

from . import clamd, netio
from .errors import ScannerError, WorkDirError
from .pipeline import SKIPPED, Job, Result, Scanner, Skipped
from .policy import recorded_version
from .verdict import VIRUS, Verdict


class _Recorded(Scanner):
    """A scanner whose version `simscanmk -g` recorded in simversions.cdb."""

    def version(self, job: Job) -> str:
        return recorded_version(job.settings.controldir, self.name)


class ClamdScanner(_Recorded):
    """INSTREAM to clamd: the endpoints of the `clamd` setting, or else
    those of clamd.conf, tried in order until one answers."""

    name = "clamav"

    def scan(self, job: Job, result: Result) -> Verdict | Skipped | None:
        settings = job.settings
        stream_max = 0  # unknown: clamd will say if the message is too long
        if settings.clamd:
            endpoints = netio.parse_endpoints(settings.clamd, clamd.DEFAULT_PORT)
        else:
            try:
                conf = clamd.read_conf(settings.clamd_conf)
            except OSError as err:
                problem = f"cannot read {settings.clamd_conf} ({err.strerror}); set clamd"
                raise ScannerError("clamd", problem) from None
            except ValueError as err:
                raise ScannerError("clamd", f"{settings.clamd_conf} {err}") from None
            if not conf.endpoints:
                raise ScannerError(
                    "clamd", f"{settings.clamd_conf} names no LocalSocket or TCPSocket"
                )
            endpoints, stream_max = conf.endpoints, conf.stream_max
        failures = []
        for endpoint in endpoints:
            try:
                reply = self._ask(job, endpoint, stream_max)
            except (OSError, ValueError, clamd.ProtocolError) as err:
                failures.append(f"{endpoint} {netio.describe(err)}")
                job.debug(1, f"clamd {endpoint}: {netio.describe(err)}")
                continue
            if reply is None:
                return SKIPPED
            if reply.kind == clamd.FOUND:
                return Verdict(VIRUS, reply.text)
            if reply.kind == clamd.OK:
                return None
            failures.append(f"{endpoint} error {reply.text.decode('ascii', 'replace')}")
        raise ScannerError("clamd", "; ".join(failures))

    def _ask(self, job: Job, endpoint: netio.Endpoint, stream_max: int) -> clamd.Reply | None:
        """clamd's reply about the message; None when it was too long to
        scan and the settings say to pass it."""
        settings = job.settings
        deadline = netio.Deadline(settings.clamd_timeout)
        with open(job.message.path, "rb", buffering=0) as f:
            reply = clamd.Reply(clamd.TOO_LONG)
            if not stream_max or job.message.size <= stream_max:
                sock = netio.connect(endpoint, min(settings.clamd_connect_timeout, deadline.left()))
                try:
                    reply = clamd.parse_reply(clamd.instream(sock, f, deadline))
                finally:
                    sock.close()
            if reply.kind != clamd.TOO_LONG:
                return reply
            size = f"the message ({job.message.size} bytes) is over clamd's StreamMaxLength"
            if settings.clamd_over_limit == "fildes" and endpoint.path:
                job.debug(1, f"clamd {endpoint}: {size}; passing the file itself (FILDES)")
                sock = netio.connect(endpoint, min(settings.clamd_connect_timeout, deadline.left()))
                try:
                    return clamd.parse_reply(clamd.fildes(sock, f.fileno(), deadline))
                finally:
                    sock.close()
        if settings.clamd_over_limit == "pass":
            why = 'clamd_over_limit = "pass"'
        else:
            why = "FILDES needs a unix socket"
        job.warn(f"clamd {endpoint}: {size}; not virus-scanned ({why})")
        return None


class ClamdscanScanner(_Recorded):
    """`clamdscan --stdout` over the work dir, as the C simscan ran it:
    exit 1 and `PATH: NAME FOUND` is a virus, 0 clean, anything else (2, a
    signal, a time-out) a temporary failure.  clamd reads the files by
    path, so it needs read access to the work dir."""

    name = "clamav"

    def scan(self, job: Job, result: Result) -> Verdict | None:
        from . import proc

        settings = job.settings
        argv = [
            settings.clamdscan,
            "--stdout",
            "--no-summary",
            f"--config-file={settings.clamd_conf}",
            job.workdir,
        ]
        try:
            status, output = proc.run(argv, settings.clamd_timeout)
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


class TrophieScanner(_Recorded):
    """Trophie/Sophie on the work dir, once the MIME parts are written
    there as files (the daemon scans files, not messages)."""

    name = "trophie"

    def scan(self, job: Job, result: Result) -> Verdict | None:
        from . import mime, trophie

        try:
            with open(job.message.path, "rb") as f:
                parts = mime.extract(f, job.workdir)
        except OSError as err:
            raise WorkDirError(f"cannot write the MIME parts ({netio.describe(err)})") from None
        job.debug(1, f"trophie: {parts.parts.count if parts.parts else 0} parts written")
        for what in parts.truncated:
            job.warn(f"MIME parts for trophie stopped at a limit ({what})")
        settings = job.settings
        try:
            raw = trophie.ask(
                settings.trophie_socket, job.workdir, netio.Deadline(settings.trophie_timeout)
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
