"""Scan messages as qmail-smtpd's simscan would, with the live settings and
the real scanners, and queue nothing: print what happened and why.

Each message goes through the same code as a real run (simscan.cli.Run:
the settings, the `user` drop when started as root, a work dir under
`workdir`, the policy, the scanners, the verdict table), but nothing is
queued, quarantined or dropped, and nothing is written to a custom-error
fd.  The exit status is the exit code qmail-smtpd would get: 0 when every
message would be queued, else that of the first one that would not.

The envelope is `--from` and `--to`; without them it is read from the
message's own header: Return-Path (else From) for the sender,
Delivered-To (else To and Cc) for the recipients, as a message saved
from a mailbox carries them.
"""

import argparse
import os
import signal
import sys

from ..cli import _SIGNALS as STOP_SIGNALS
from ..cli import Run
from ..config import policy, settings
from ..errors import EXIT_OK, EnvelopeFormatError, SimscanError
from ..qmail import workdir
from ..qmail.queue import Envelope, parse_envelope
from ..qmail.smtpreply import reply
from ..report import SpamScore
from ..scan.base import SKIPPED, Result, Trace
from ..verdict import QUARANTINED, RELAYCLIENT, Verdict, outcome

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from", dest="sender", metavar="ADDR", help="the envelope sender ('' for a bounce)"
    )
    parser.add_argument(
        "--to", dest="recipients", metavar="ADDR", action="append", help="a recipient (repeat)"
    )
    parser.add_argument("--ip", metavar="IP", help="the client's address (TCPREMOTEIP)")
    parser.add_argument(
        "--relayclient",
        action="store_true",
        help="as from a client with RELAYCLIENT set (authenticated or trusted)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per message")
    parser.add_argument("files", nargs="*", metavar="FILE", help="messages (default: stdin)")


def run(args: argparse.Namespace) -> int:
    environ = os.environb.copy()
    for var, value in ((b"TCPREMOTEIP", args.ip), (b"RELAYCLIENT", args.relayclient or None)):
        environ.pop(var, None)
        if value is not None:
            environ[var] = b"" if value is True else os.fsencode(value)
    # Every file is opened first: a real run drops to `user` when started
    # as root, and so does this one, after which they may not be readable.
    sources: list[tuple[str, int]] = []
    if (args.files or []).count("-") > 1:
        print("simscan check: - (stdin) given more than once", file=sys.stderr)
        return 2
    for name in args.files or ["-"]:
        if name == "-":
            sources.append(("(stdin)", 0))
            continue
        try:
            sources.append((name, os.open(name, os.O_RDONLY)))
        except OSError as err:
            print(f"simscan check: cannot open {name} ({err.strerror})", file=sys.stderr)
            return 2
    envelope = None
    if args.sender is not None or args.recipients:
        given = _envelope(args.sender or "", args.recipients or [])
        if isinstance(given, str):
            print(f"simscan check: {given}; give --to ADDR", file=sys.stderr)
            return 2
        envelope = given
    code = EXIT_OK
    for name, fd in sources:
        check = Check(environ, name, fd, envelope)
        got = check.execute()
        for signum in STOP_SIGNALS:  # (a real run's handlers: between messages, ^C stops)
            signal.signal(signum, signal.SIG_DFL)
        if fd:
            os.close(fd)
        if args.json:
            import json

            print(json.dumps(check.summary(got)))
        else:
            sys.stdout.write(check.text(got))
        if code == EXIT_OK:
            code = got
        if check.stopped:
            print(f"simscan check: stopped by signal {check.stopped}", file=sys.stderr)
            break
    return code


def _envelope(sender: str, recipients: list[str]) -> "Envelope | str":
    """The envelope qmail-smtpd would write, or what is wrong with it."""
    if not recipients:
        return "no recipient"
    if "" in recipients:
        return "an empty recipient"
    raw = b"F" + os.fsencode(sender) + b"\0"
    raw += b"".join(b"T" + os.fsencode(r) + b"\0" for r in recipients) + b"\0"
    try:
        found = parse_envelope(raw, True)
    except SimscanError as err:
        return f"bad envelope ({err})"
    assert found is not None  # (complete: an envelope or an error)
    return found


class Check(Run):
    """A Run that reads its message from `fd`, takes its envelope from the
    command line or the message, and ends where the real one would queue."""

    def __init__(
        self, environ: "Mapping[bytes, bytes]", name: str, fd: int, envelope: Envelope | None
    ) -> None:
        super().__init__(environ)
        self.trace = self.seen = Trace()
        self.name = name
        self.fd = fd
        self.given = envelope
        self.envelope_from = "the command line" if envelope is not None else ""
        self.config: settings.Settings | None = None
        self.size = 0
        self.result: Result | None = None
        self.custom_text: bytes | None = None
        self.received = b""
        self.head = b""
        self.quarantine = ""
        self.lines: list[bytes] = []
        self.log_line = b""
        self.stopped = 0  # the stop signal that ended this message's run

    def _on_signal(self, signum: int, frame: object) -> None:
        if signum != signal.SIGALRM:  # (ignored outside the scan, but it ends the loop)
            self.stopped = signum
        super()._on_signal(signum, frame)

    def _process(self) -> tuple[int, str, bytes, SpamScore | None, bool]:
        config = self.config = self._settings()
        path = workdir.create(config.workdir, self._remember_workdir)
        message = workdir.receive(self.fd, f"{path}/{workdir.MESSAGE_NAME}")
        self.size = message.size
        envelope = self.given
        if envelope is None:
            envelope, self.envelope_from = _from_header(message.head)
        self.envelope = envelope
        job, result = self._scan(config, path, message, envelope)
        self.result = result
        out = outcome(result.verdict, config.dropmsg, config.custom_smtp_reject)
        self.custom_text = out.custom_text
        if not out.queue and config.quarantinedir and result.verdict.kind in QUARANTINED:
            self.quarantine = config.quarantinedir
        if out.queue:
            prefix = self._prefix(job, result)
            self.head = result.head or b""
            self.received = prefix[: len(prefix) - len(self.head)]
        # (queued as a real run would be: SIMSCAN_DEBUG_FILES=1 keeps the same work dirs)
        return out.exit_code, out.log_state, result.verdict.detail, result.spam, out.queue

    def _log(self, state: str, spam: SpamScore | None, detail: bytes) -> None:
        from .. import report

        ppid = os.getppid()
        self.lines = [report.warning_line(ppid, t) for t in self.warnings]
        self.lines += [report.warning_line(ppid, t, "note") for t in self.notes]
        self.log_line = self._line(state, spam, detail)

    # --- what is shown ----------------------------------------------------------

    def steps(self) -> list[dict[str, object]]:
        """Every scanner simscan has: ran (what it said, in how long),
        skipped, or not run, and why."""
        config, job, trace = self.config, self.job, self.seen
        if config is None or job is None:
            return []
        rules = job.policy
        ran = {name: (verdict, seconds) for name, verdict, seconds in trace.steps}
        chosen = [s.name for s in self.chosen]
        failed = self.result is None  # an error ended the scan
        out: list[dict[str, object]] = []
        for name in ("regex", "attach", "clamav", "trophie", "spam"):
            step: dict[str, object] = {"scanner": name}
            if name in ran:
                verdict, seconds = ran[name]
                step["seconds"] = round(seconds, 4)
                if verdict is SKIPPED and name == "spam" and _kind(self.result) == RELAYCLIENT:
                    step.update(ran=False, said="skipped: RELAYCLIENT is set (spam_auth_user off)")
                elif verdict is SKIPPED:
                    step.update(ran=False, said="skipped (see the notes)")
                else:
                    step.update(ran=True, said=_said(verdict))
            elif name in chosen:
                if failed and not any(n in chosen[chosen.index(name) + 1 :] for n in ran):
                    failed = False  # the first chosen one not run is the one that failed
                    step.update(ran=True, said="failed (see the log line)")
                else:
                    step.update(ran=False, said="not run: an earlier check decided")
            else:
                step.update(ran=False, said=f"off: {_why_off(name, config, rules, self)}")
            out.append(step)
        return out

    def summary(self, code: int) -> dict[str, object]:
        config, job = self.config, self.job
        env = self.envelope
        lookups = [{"key": _text(k), "entry": _text(v)} for k, v in self.lookups or ()]
        return {
            "file": self.name,
            "bytes": self.size,
            "config": settings.config_path(os.environ),
            "config_found": os.path.exists(settings.config_path(os.environ)),
            "envelope": {
                "from": env.sender.decode(errors="replace") if env else None,
                "to": [r.decode(errors="replace") for r in env.recipients] if env else [],
                "source": self.envelope_from,
            },
            "client": {
                "ip": _text(self.environ.get(b"TCPREMOTEIP")),
                "relayclient": b"RELAYCLIENT" in self.environ,
            },
            "per_domain": bool(config and config.per_domain),
            "lookups": lookups,
            "policy": job.policy.describe() if job else None,
            "attachments": [{"name": n, "part": p} for n, p in self.seen.names],
            "inside": list(dict.fromkeys(self.seen.members)),
            "scanners": self.steps(),
            "marked_down": list(self.seen.marked),
            "exit_code": code,
            "smtp_reply": reply(code, self.custom_text),
            # (without the patch qmail-smtpd closes fd 4: 31 and its own reply)
            "assumes": "the custom-error patch (fd 4)" if self.custom_text else None,
            "quarantine": self.quarantine or None,
            "warnings": [ln.decode(errors="replace").rstrip("\n") for ln in self.lines],
            "log_line": self.log_line.decode(errors="replace").rstrip("\n"),
            "received": self.received.decode(errors="replace") or None,
            "header_changes": self.head.decode(errors="replace") or None,
        }

    def text(self, code: int) -> str:
        s = self.summary(code)
        env = s["envelope"]
        assert isinstance(env, dict)
        out = [f"message: {s['file']} ({s['bytes']} bytes)"]
        found = "" if s["config_found"] else " (not found: every setting is its default)"
        out.append(f"settings: {s['config']}{found}")
        if env["from"] is not None:
            rcpts = " ".join(f"<{r}>" for r in env["to"])
            out.append(f"envelope: from <{env['from']}> to {rcpts} ({env['source']})")
        client = s["client"]
        assert isinstance(client, dict)
        relay = ", RELAYCLIENT" if client["relayclient"] else ""
        out.append(f"client: {client['ip'] or '(no TCPREMOTEIP)'}{relay}")
        config = self.config
        if config is not None and self.job is not None:
            if config.per_domain:
                out.append(
                    f"policy: per_domain, {config.controldir}/{policy.CDB_NAME}, "
                    f"policy_merge = {config.policy_merge!r}; keys tried in order:"
                )
                for item in s["lookups"]:  # type: ignore[attr-defined]
                    entry = item["entry"]
                    shown = "-" if entry is None else f"matched: {entry}"
                    out.append(f"  {item['key']!r:40} {shown}")
            else:
                where = f"{config.controldir}/{policy.ATTACH_NAME}"
                extra = f"; attachments from {where}" if config.attach else ""
                out.append(f"policy: per_domain off, the global settings apply{extra}")
            out.append(f"  result: {s['policy']}")
        names = self.seen.names
        if names or self.seen.members:
            out.append("attachment names seen:")
            out += [f"  header block {part}: {name}" for name, part in names]
            out += [f"  inside: {path}" for path in dict.fromkeys(self.seen.members)]
        if s["scanners"]:
            out.append("scanners:")
            for step in s["scanners"]:  # type: ignore[attr-defined]
                took = f" in {step['seconds'] * 1000:.1f} ms" if "seconds" in step else ""
                out.append(f"  {step['scanner']:8} {step['said']}{took}")
        for text in self.seen.marked:
            out.append(f"  tried last: {text}")
        out += [f"  {w}" for w in s["warnings"]]  # type: ignore[attr-defined]
        if s["quarantine"]:
            out.append(f"quarantine: a real run keeps a copy in {s['quarantine']}")
        out.append(f"exit: {code}; qmail-smtpd replies: {s['smtp_reply']}")
        if s["assumes"]:
            out.append(
                "  (assumes qmail-smtpd has the custom-error patch; without it, fd 4 is"
                " closed and simscan exits 31, 71 for a temporary refusal)"
            )
        out.append(f"log: {s['log_line']}")
        if s["received"]:
            out.append(f"received: {str(s['received']).rstrip()}")
        if s["header_changes"]:
            out.append("header changes (rspamd), above the message's own header:")
            out += [f"  {ln}" for ln in str(s["header_changes"]).splitlines()]
        return "\n".join(out) + "\n\n"


def _kind(result: Result | None) -> str:
    return result.verdict.kind if result is not None else ""


def _said(verdict: "Verdict | object | None") -> str:
    if verdict is None:
        return "ran: nothing found"
    assert isinstance(verdict, Verdict)
    state = outcome(verdict, False, False).log_state
    detail = verdict.detail.decode("utf-8", "replace")
    return f"ran: {state} {detail}".rstrip()


def _why_off(name: str, config: settings.Settings, rules: policy.Policy, run: Run) -> str:
    """Why a scanner did not run for this message, in the settings' words."""
    switch = {
        "regex": config.regex,
        "attach": config.attach or bool(config.block_types) or config.block_encrypted,
        "clamav": config.clamav,
        "trophie": bool(config.trophie_socket),
        "spam": config.spam,
    }[name]
    if not switch:
        return {
            "regex": "regex = false",
            "attach": "attach = false and no block_types or block_encrypted",
            "clamav": "clamav = false",
            "trophie": "trophie_socket is not set",
            "spam": "spam = false",
        }[name]
    if name == "spam" and b"RELAYCLIENT" in run.environ and rules.spam:
        return "RELAYCLIENT is set: not scanned for spam"
    per = "for these recipients" if config.per_domain else ""
    return {
        "regex": f"no regex {per}",
        "attach": f"no attach list or types {per}",
        "clamav": f"clam=no {per}",
        "trophie": f"trophie=no {per}",
        "spam": f"spam=no {per}",
    }[name].rstrip()


def _from_header(head: bytes) -> tuple[Envelope, str]:
    """The envelope a saved message's header gives: Return-Path (or From),
    and Delivered-To (or To and Cc)."""
    from email.parser import BytesHeaderParser
    from email.utils import getaddresses

    end = head.find(b"\n\n")
    fields = BytesHeaderParser().parsebytes(head if end < 0 else head[: end + 1])

    def addresses(name: str) -> list[str]:
        return [a for _, a in getaddresses([str(v) for v in fields.get_all(name, [])]) if a]

    null = fields.get("Return-Path") is not None and not addresses("Return-Path")
    senders = [""] if null else addresses("Return-Path") or addresses("From")
    recipients = addresses("Delivered-To") or addresses("To") + addresses("Cc")
    source = "the message's " + ("Return-Path" if null or addresses("Return-Path") else "From")
    source += " and " + ("Delivered-To" if addresses("Delivered-To") else "To/Cc")
    found = _envelope(senders[0] if senders else "", recipients)
    if isinstance(found, str):
        why = "no recipient in the message's header (Delivered-To, To, Cc): give --to"
        raise EnvelopeFormatError(why if found == "no recipient" else f"{found}: give --to")
    return found, source


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode(errors="replace")
