"""rspamd as the spam engine: /checkv2 to its normal worker, its action
turned into a verdict, and its header changes (milter block, rewritten
Subject, DKIM signature) made to the copy that is queued.

What rspamd's actions mean next to simscan's spam settings (`decide`):
- a score at or over spam_hits refuses, whatever the action;
- soft reject and greylist are a temporary refusal (SPAM DEFER);
- reject (and a rule's discard or quarantine) refuses as spam; under a
  spam_hits it is delivered flagged (SPAM PASS), as SpamAssassin's flag
  is, and spam_passthru delivers it tagged (PASSTHRU);
- add header and rewrite subject deliver flagged (SPAM PASS);
- no action is CLEAN.
Outgoing mail (RELAYCLIENT, `rspamd_outbound`) is sent as authenticated
so rspamd signs it; spam_hits and passthru (the local recipients'
settings) do not apply to it, rspamd's actions do.

When rspamd cannot be asked (down, hung, garbage, an HTTP error) the
message is queued unscanned with a warning, or with spam_fail_tempfail
it is a temporary failure, as for spamd.
"""

from ..errors import ScannerError
from ..mail import headedit
from ..report import SpamScore
from ..verdict import (
    CLEAN,
    PASSTHRU,
    RELAYCLIENT,
    SPAM,
    SPAM_DEFER,
    SPAM_PASS,
    Verdict,
)
from ..wire import netio, rspamd
from .base import SKIPPED, Job, RecordedScanner, Result, Skipped, first_answer

DEFER_TEXT = b"Try again later"  # rspamd's own default for a soft reject
_REFUSE = ("reject", "discard", "quarantine")
_DEFER = ("soft reject", "greylist")
_FLAG = ("add header", "rewrite subject")


def decide(
    reply: rspamd.Reply,
    threshold: float | None,
    passthru: bool,
    outbound: bool,
    subject: bytes,
) -> Verdict:
    """The verdict table of the module docstring."""
    score = b"%.2f" % reply.score
    text = reply.message.strip().encode("utf-8", "replace") or None
    if outbound:
        threshold, passthru = None, False
    elif threshold is not None and reply.score >= threshold:
        refused_by_rspamd = reply.action in _REFUSE
        return Verdict(SPAM, subject, score, text if refused_by_rspamd else None)
    if reply.action in _DEFER:
        return Verdict(SPAM_DEFER, subject, text or DEFER_TEXT)
    if reply.action in _REFUSE:
        if threshold is not None:
            return Verdict(SPAM_PASS, subject)
        if passthru:
            return Verdict(PASSTHRU, subject)
        return Verdict(SPAM, subject, score, text)
    if outbound:
        return Verdict(RELAYCLIENT, subject)
    return Verdict(SPAM_PASS if reply.action in _FLAG else CLEAN, subject)


class RspamdScanner(RecordedScanner):
    name = "spam"

    def scan(self, job: Job, result: Result) -> Verdict | Skipped | None:
        settings, policy = job.settings, job.policy
        outbound = job.relayclient and settings.rspamd_outbound
        if job.relayclient and not (outbound or settings.spam_auth_user):
            result.verdict = Verdict(RELAYCLIENT, result.verdict.detail)
            return SKIPPED
        size, limit = job.message.size, policy.size_limit
        if size >= limit and not outbound:
            job.note(f"spam not scanned: {size} bytes is at or above size_limit {limit}")
            return SKIPPED
        try:
            reply = self.ask(job, outbound)
        except ScannerError as err:
            if settings.spam_fail_tempfail:
                raise
            job.warn(f"{err}; queued without a spam scan (spam_fail_tempfail is off)")
            return SKIPPED
        threshold = policy.spam_hits
        if threshold is not None and policy.spam_flag_counts:
            threshold = min(threshold, reply.required)  # ("strictest": see spam.py)
        verdict = decide(reply, threshold, policy.spam_passthru, outbound, job.subject)
        shown = reply.required if threshold is None or outbound else threshold
        result.spam = SpamScore(reply.score + 0.0, reply.required, shown)
        if verdict.kind not in (SPAM, SPAM_DEFER):
            self._rewrite(job, result, reply, verdict, outbound, shown)
        return verdict

    def ask(self, job: Job, outbound: bool) -> rspamd.Reply:
        endpoints = netio.parse_endpoints(job.settings.rspamd or ("127.0.0.1:11333",), 11333)
        fields = request_fields(job, outbound)

        def check(endpoint: netio.Endpoint) -> rspamd.Reply:
            reply = self._check(job, endpoint, fields)
            job.debug(1, f"rspamd {endpoint.shown}: {reply!r}")
            return reply

        return first_answer(job, "rspamd", endpoints, check, rspamd.ProtocolError)

    def _check(
        self, job: Job, endpoint: netio.Endpoint, fields: list[tuple[bytes, bytes]]
    ) -> rspamd.Reply:
        settings = job.settings
        deadline = netio.Deadline(job.budget(settings.rspamd_timeout))
        sock = netio.connect(endpoint, min(settings.rspamd_connect_timeout, deadline.left()))
        try:
            with open(job.message.path, "rb", buffering=0) as f:
                return rspamd.check(sock, f, job.message.size, fields, deadline)
        finally:
            sock.close()

    def _rewrite(
        self,
        job: Job,
        result: Result,
        reply: rspamd.Reply,
        verdict: Verdict,
        outbound: bool,
        threshold: float,
    ) -> None:
        """The header block that is queued: rspamd's removals, the
        sender's X-Spam-Flag/Status replaced by ours (not on outgoing
        mail), the new Subject, rspamd's additions, the DKIM signature
        first."""
        block, end = _header_block(job)
        head = headedit.Head(block)
        if end < 0:
            # Fields past MAX_HEAD: nothing in the block can be changed,
            # so only additions are made, on top of the message.
            job.warn(
                f"header block over {headedit.MAX_HEAD} bytes: rspamd's header changes"
                " other than additions were not made"
            )
            head, end = headedit.Head(b""), 0
        for name, which in reply.remove:
            head.remove(name.encode("utf-8", "replace"), which)
        if not outbound:
            head.remove(b"X-Spam-Flag")
            head.remove(b"X-Spam-Status")
        if reply.subject is not None and reply.action == "rewrite subject":
            head.replace(b"Subject", reply.subject.encode("utf-8", "replace"))
        if not outbound:
            # Near the top (after the trace fields), where every reader
            # sees them, whatever the sender put further down.
            flagged = verdict.kind in (SPAM_PASS, PASSTHRU)
            at = head.top()
            head.add(b"X-Spam-Status", _status(reply, flagged, threshold), at)
            if flagged:
                head.add(b"X-Spam-Flag", b"YES", at)
        for name, value, order in reply.add:
            raw = name.encode("utf-8", "replace")
            if not headedit.is_name(raw):
                job.warn(f"rspamd asked to add a header named {name[:60]!r}: not added")
                continue
            head.add(raw, value.encode("utf-8", "replace"), order)
        for n, signature in enumerate(reply.dkim):
            head.add(b"DKIM-Signature", signature.encode("utf-8", "replace"), n)
        result.head = bytes(head)
        result.body_offset = end


def request_fields(job: Job, outbound: bool) -> list[tuple[bytes, bytes]]:
    """The request headers: the envelope, the client, the policy's user
    and settings id."""
    envelope, client, policy = job.envelope, job.client, job.policy
    fields = [(b"From", envelope.sender or b"<>")]
    fields += [(b"Rcpt", r) for r in envelope.recipients]
    if client.ip:
        fields.append((b"IP", client.ip))
    if client.host:
        fields.append((b"Hostname", client.host))
    user = client.auth_user or (client.info if job.relayclient else None)
    if user:
        fields.append((b"User", user))
    elif outbound:
        job.debug(1, "rspamd: outgoing mail with no user: signed if rspamd takes the IP as local")
    fields.append((b"Queue-Id", job.workdir.rpartition("/")[2].encode()))
    if policy.spam_user:
        fields.append((b"Deliver-To", policy.spam_user))
    if policy.rspamd_settings:
        fields.append((b"Settings-Id", policy.rspamd_settings))
    return fields


def _header_block(job: Job) -> tuple[bytes, int]:
    """The message's header fields and where they end; (b"", -1) when they
    run on past MAX_HEAD."""
    data = job.message.head
    end = headedit.fields_end(data, complete=job.message.size <= len(data))
    if end < 0 and len(data) < headedit.MAX_HEAD:
        with open(job.message.path, "rb") as f:
            data = f.read(headedit.MAX_HEAD)
        end = headedit.fields_end(data, complete=job.message.size <= len(data))
    return (data[:end], end) if end >= 0 else (b"", -1)


def _status(reply: rspamd.Reply, flagged: bool, threshold: float) -> bytes:
    """X-Spam-Status in SpamAssassin's shape (`Yes, score=7.1 required=5.0
    tests=A,B`), folded where SpamAssassin folds it (after a space or a
    comma), so users' existing filters keep working."""
    tests = sorted(name for name, score in reply.symbols if score) or ["none"]
    pieces = [
        b"Yes, " if flagged else b"No, ",
        b"score=%.1f " % reply.score,
        b"required=%.1f " % threshold,
        b"tests=",
    ]
    pieces += [name.encode("ascii", "replace") + b"," for name in tests]
    pieces[-1] = pieces[-1][:-1]
    lines = [b""]
    for piece in pieces:
        if len(lines[-1]) + len(piece) > 70 and lines[-1]:
            lines.append(b"")
        lines[-1] += piece
    return b"\n\t".join(line.rstrip() for line in lines)
