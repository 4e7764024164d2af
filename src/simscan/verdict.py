"""Verdicts, and the one table that turns a verdict into what qmail sees.

A scanner (or policy check) produces a Verdict; `outcome()` decides, from
the settings, whether the message is queued, refused (31, or 82 with the
custom text) or dropped (0, not queued), and what state is logged.  The
reject texts are those of the C simscan, byte for byte (SPEC section 2).
"""

from .errors import EXIT_CUSTOM, EXIT_OK, EXIT_REJECT, EXIT_TEMPFAIL
from .report import NO_CONTROLS

CLEAN = "clean"
PASSTHRU = "passthru"
SPAM_PASS = "spam pass"
RELAYCLIENT = "relayclient"
VIRUS = "virus"
SPAM = "spam"
SPAM_DEFER = "spam defer"  # rspamd's soft reject or greylist: try again later
ATTACH = "attach"
MIME_LIMIT = "mime limit"  # the attachment check could not see it all
ENCRYPTED = "encrypted"  # an encrypted archive or document (block_encrypted)
ARCHIVE_LIMIT = "archive limit"  # an attachment too large or deep to check
REGEX = "regex"

# kind -> (log state, log state when dropped or None if never dropped,
#          custom reject text or None when the message is delivered; a
#          text starting with Z is a temporary refusal: 82 with it, else 71)
_TABLE: dict[str, tuple[str, str | None, bytes | None]] = {
    CLEAN: ("CLEAN", None, None),
    PASSTHRU: ("PASSTHRU", None, None),
    SPAM_PASS: ("SPAM PASS", None, None),
    RELAYCLIENT: ("RELAYCLIENT", None, None),
    VIRUS: ("VIRUS", "VIRUS DROPPED", b"DYour email was rejected because it contains the %s virus"),
    SPAM: ("SPAM REJECT", "SPAM DROPPED", b"DYour email is considered spam (%s spam-hits)"),
    SPAM_DEFER: ("SPAM DEFER", None, b"Z%s"),
    ATTACH: ("ATTACH", None, b"DYour email was rejected because it contains a bad attachment: %s"),
    MIME_LIMIT: (
        "ATTACH",
        None,
        b"DYour email was rejected because its MIME structure is too complex to check",
    ),
    ENCRYPTED: (
        "ATTACH",
        None,
        b"DYour email was rejected because it contains an encrypted attachment: %s",
    ),
    ARCHIVE_LIMIT: (
        "ATTACH",
        None,
        b"DYour email was rejected because an attachment is too large or too deeply nested"
        b" to check: %s",
    ),
    REGEX: ("REGEX", None, b"DYour email was rejected because it matches a filter (%s)"),
}


# The verdicts whose refused or dropped messages a quarantine keeps.
QUARANTINED = (ARCHIVE_LIMIT, ATTACH, ENCRYPTED, MIME_LIMIT, REGEX, SPAM, VIRUS)


class Verdict:
    """What the checks concluded about one message.

    `detail` is the log line's fourth field (virus name, file name, `#N`;
    the subject for clean and spam); `reject_arg` fills the custom text
    (for spam, the hits as `%.2f`; for spam defer, rspamd's message).
    `text`, when given, is the custom text after its D (rspamd's own
    smtp_message for a reject).
    """

    __slots__ = ("detail", "kind", "reject_arg", "text")

    def __init__(
        self,
        kind: str,
        detail: bytes = b"",
        reject_arg: bytes | None = None,
        text: bytes | None = None,
    ) -> None:
        if kind not in _TABLE:
            raise ValueError(f"unknown verdict {kind!r}")
        if kind in (SPAM, SPAM_DEFER) and reject_arg is None:
            raise ValueError(f"a {kind} verdict needs its score or text as reject_arg")
        self.kind = kind
        self.detail = detail
        self.reject_arg = detail if reject_arg is None else reject_arg
        self.text = text

    def __repr__(self) -> str:
        return f"Verdict({self.kind!r}, {self.detail!r})"


class Outcome:
    """What to do: queue it or not, exit code, fd text, log state."""

    __slots__ = ("custom_text", "exit_code", "log_state", "queue")

    def __init__(
        self, queue: bool, exit_code: int, log_state: str, custom_text: bytes | None
    ) -> None:
        self.queue = queue
        self.exit_code = exit_code
        self.log_state = log_state
        self.custom_text = custom_text


def outcome(verdict: Verdict, dropmsg: bool, custom_reject: bool) -> Outcome:
    """The verdict table: dropmsg beats custom reject beats plain 31."""
    state, dropped_state, template = _TABLE[verdict.kind]
    if template is None:
        return Outcome(True, EXIT_OK, state, None)
    if dropmsg and dropped_state is not None:
        return Outcome(False, EXIT_OK, dropped_state, None)
    temporary = template.startswith(b"Z")
    if custom_reject:
        # Names come from the message: no line breaks into the SMTP reply.
        if verdict.text:
            text = template[:1] + verdict.text.translate(NO_CONTROLS)
        else:
            arg = verdict.reject_arg.translate(NO_CONTROLS)
            text = template % arg if b"%s" in template else template
        return Outcome(False, EXIT_CUSTOM, state, text)
    return Outcome(False, EXIT_TEMPFAIL if temporary else EXIT_REJECT, state, None)
