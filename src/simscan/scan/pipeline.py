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

import time

from ..config.policy import Policy
from ..config.settings import Settings
from ..verdict import CLEAN, Verdict, outcome
from .base import Job, Result, Scanner, Skipped


def scanners_for(policy: Policy, settings: Settings, relayclient: bool = False) -> list[Scanner]:
    """The scanners the policy turns on, in precedence order: regex,
    attachments, ClamAV, Trophie, the spam engine.  Each module is
    imported only when its scanner runs.  Outgoing mail (RELAYCLIENT) goes
    to rspamd for its DKIM signature with `rspamd_outbound`, whatever the
    recipients' per-domain spam switch: they are not local users."""
    scanners: list[Scanner] = []
    if policy.regex:
        from .checks import RegexFilter

        scanners.append(RegexFilter())
    if policy.inspects_attachments:
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
    outbound = relayclient and settings.rspamd_outbound and settings.spam
    if settings.spam_client == "rspamd" and (policy.spam or outbound):
        from .rspamd import RspamdScanner

        scanners.append(RspamdScanner())
    elif policy.spam:
        from . import spam

        if settings.spam_client == "spamc":
            scanners.append(spam.SpamcScanner())
        else:
            scanners.append(spam.SpamdScanner())
    return scanners


def run(job: Job, scanners: list[Scanner]) -> Result:
    """Run the scanners in order; the first refusal ends the scan."""
    result = Result(Verdict(CLEAN, job.subject), job.message.path)
    trace = job.trace
    for scanner in scanners:
        if trace is None:
            verdict = scanner.scan(job, result)
        else:
            began = time.monotonic()
            verdict = scanner.scan(job, result)
            trace.steps.append((scanner.name, verdict, time.monotonic() - began))
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
