"""The qmail-queue contract on our input side: the envelope on fd 1 and
the custom error text on fd 4 (or 6).

qmail-smtpd (or anything that speaks qmail-queue) gives us the message on
fd 0 and the envelope on fd 1: `F<sender>\\0`, one or more `T<rcpt>\\0`, and
a final `\\0`.  handoff.py gives both, unchanged, to the real qmail-queue.
"""

import posix  # os's own core: `import os` costs ~0.9 ms per message (see cli.py)

from ..errors import EnvelopeFormatError, EnvelopeTruncated, InputError

# An envelope this large is not from qmail-smtpd; refuse it as malformed
# rather than grow without bound.  (10,000 recipients of 500 bytes fit.)
MAX_ENVELOPE = 32 * 1024 * 1024
# qmail-smtpd's custom-error patch reads at most this many bytes.
MAX_CUSTOM_ERROR = 255
_CHUNK = 1 << 16


class Envelope:
    """Sender and recipients as given (raw) and lower-cased (for policy)."""

    __slots__ = ("raw", "recipients", "sender")

    def __init__(self, raw: bytes, sender: bytes, recipients: list[bytes]) -> None:
        self.raw = raw
        self.sender = sender
        self.recipients = recipients

    @property
    def sender_lower(self) -> bytes:
        return self.sender.lower()

    @property
    def recipients_lower(self) -> list[bytes]:
        return [r.lower() for r in self.recipients]


def parse_envelope(data: bytes, complete: bool) -> Envelope | None:
    """Parse envelope bytes read so far.

    Returns the Envelope once its terminating NUL has been seen, None when
    more input is needed (complete=False), and raises when the bytes can
    never become a valid envelope.  `complete` means no more input will
    come (EOF).  Problems are reported in the order they occur in the
    input, as qmail-queue itself would meet them.
    """
    return _Parser().parse(data, complete)


class _Parser:
    """parse_envelope, resumable: fed the same growing buffer again, it
    starts at the first field it has not yet seen whole, so reading an
    envelope in pieces costs one pass however it arrives, and an error is
    found in the piece that shows it, not at EOF."""

    __slots__ = ("pos", "recipients", "searched", "sender")

    def __init__(self) -> None:
        self.sender: bytes | None = None
        self.recipients: list[bytes] = []
        self.pos = 0  # where the first field not yet parsed starts
        self.searched = 0  # no NUL from pos up to here: a long field is searched once

    def parse(self, data: bytes | bytearray, complete: bool) -> Envelope | None:
        pos = self.pos
        while True:
            end = data.find(b"\0", max(pos, self.searched))
            if end < 0:
                # An unterminated field: only its first byte can be judged yet.
                if pos < len(data):
                    _check_field(data[pos : pos + 1], self.sender is not None)
                if complete:
                    raise EnvelopeTruncated("envelope ended before its terminating NUL")
                self.pos = pos
                self.searched = len(data)
                return None
            field = bytes(data[pos:end])
            if not field:
                if self.sender is None:
                    raise EnvelopeFormatError("envelope has no sender (F) line")
                if not self.recipients:
                    raise EnvelopeFormatError("envelope has no recipient")
                return Envelope(bytes(data[: end + 1]), self.sender, self.recipients)
            _check_field(field, self.sender is not None)
            if self.sender is None:
                self.sender = field[1:]
            else:
                self.recipients.append(field[1:])
            pos = end + 1


def _check_field(field: bytes | bytearray, have_sender: bool) -> None:
    kind = bytes(field[:1])
    if kind == b"F":
        if have_sender:
            raise EnvelopeFormatError("envelope has two sender (F) lines")
    elif kind == b"T":
        if not have_sender:
            raise EnvelopeFormatError("envelope does not start with a sender (F) line")
    else:
        raise EnvelopeFormatError(f"envelope line starts with {kind!r}, not F or T")


def read_envelope(fd: int) -> Envelope:
    """Read fd until the envelope's terminating NUL (never waiting for EOF
    once it is there), and refuse a bad one as soon as a read shows it."""
    data = bytearray()
    parser = _Parser()
    while True:
        try:
            chunk = posix.read(fd, _CHUNK)
        except OSError as err:
            raise InputError(f"cannot read the envelope ({err.strerror})") from err
        data += chunk
        envelope = parser.parse(data, complete=not chunk)
        if len(data) > MAX_ENVELOPE and (envelope is None or len(envelope.raw) > MAX_ENVELOPE):
            raise EnvelopeFormatError(f"envelope larger than {MAX_ENVELOPE} bytes")
        if envelope is not None:
            return envelope


def write_custom_error(fd: int, text: bytes) -> bool:
    """Write a custom-error text (`D...` or `Z...`) for qmail-smtpd's patch.

    No trailing newline, at most 255 bytes.  Returns False when the fd is
    not open (an unpatched qmail-smtpd): the caller then refuses with the
    plain permanent code rather than an 82 that would read as temporary.
    """
    try:
        posix.write(fd, text[:MAX_CUSTOM_ERROR])
    except OSError:
        return False
    return True
