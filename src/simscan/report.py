"""What simscan writes about a message: the log line and the Received line.

Both are byte strings: addresses and subjects are logged as the bytes the
client sent, as the C program does, never decoded and re-encoded.
"""

import time

_MONTHS = (b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun",
           b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec")  # fmt: skip
# ':' separates log fields; control bytes would break the line.
_FIELD_TABLE = bytes(
    0x5F if c == 0x3A else 0x20 if c < 0x20 or c == 0x7F else c for c in range(256)
)


class SpamScore:
    """The triple of the log line: score / SpamAssassin's required / ours."""

    __slots__ = ("required", "score", "threshold")

    def __init__(self, score: float, required: float, threshold: float) -> None:
        self.score = score
        self.required = required
        self.threshold = threshold


def field(text: bytes) -> bytes:
    """Make text safe as one log field: ':' -> '_', control bytes -> ' '."""
    return text.translate(_FIELD_TABLE)


def log_line(
    ppid: int,
    state: str,
    spam: SpamScore | None,
    elapsed: float,
    detail: bytes,
    ip: bytes | None,
    sender: bytes,
    recipients: list[bytes],
) -> bytes:
    """The one line per message, in the C program's format.

    `simscan:[PPID]:STATE (s/r/t):T.TTTTs:DETAIL:IP:FROM:RCPT,RCPT`, the
    triple only when spam scanning ran, `(null)` for an unset IP.
    """
    if spam is not None:
        state = f"{state} ({spam.score:.2f}/{spam.required:.2f}/{spam.threshold:.2f})"
    head = f"simscan:[{ppid}]:{state}:{elapsed:3.4f}s:".encode()
    return (
        b":".join(
            (
                head + field(detail),
                b"(null)" if ip is None else field(ip),
                field(sender),
                b",".join(field(r) for r in recipients),
            )
        )
        + b"\n"
    )


def received_line(
    version: str,
    ppid: int,
    pid: int,
    elapsed: float,
    scanners: list[tuple[str, str]],
    when: float,
) -> bytes:
    """The Received line simscan puts on top of a queued message.

    The date is `when` in UTC with a real four-digit year (the C program
    printed tm_year, 0126 for 2026).
    """
    listed = " ".join(f"{name}: {ver}" for name, ver in scanners) or "none"
    t = time.gmtime(when)
    date = b"%02d %s %04d %02d:%02d:%02d -0000" % (
        t.tm_mday,
        _MONTHS[t.tm_mon - 1],
        t.tm_year,
        t.tm_hour,
        t.tm_min,
        t.tm_sec,
    )
    return (
        f"Received: (simscan {version} ppid {ppid} pid {pid} t {elapsed:.4f}s)\n"
        f" (scanners: {listed}); ".encode()
        + date
        + b"\n"
    )


def subject(head: bytes) -> bytes:
    """The Subject of a message from its first bytes, unfolded; b"" if none."""
    lines = head.split(b"\n")
    for i, line in enumerate(lines):
        if not line.rstrip(b"\r"):
            break  # end of the header
        if line[:8].lower() == b"subject:":
            parts = [line[8:]]
            for more in lines[i + 1 :]:
                if more[:1] not in (b" ", b"\t"):
                    break
                parts.append(more)
            return b"".join(p.rstrip(b"\r") for p in parts).strip()
    return b""


def warning_line(ppid: int, text: str, kind: str = "warning") -> bytes:
    """A line beside the log line: `warning` for something an admin should
    fix that did not change the verdict, `note` for something done
    differently by design (spam not scanned over size_limit).
    `simscan:[PPID]: ` then text, the form of the C program's own
    non-verdict lines, so log parsers that split the verdict line on `:`
    never mistake it for one."""
    return (
        f"simscan:[{ppid}]: {kind}: {text}".encode(errors="replace").translate(NO_CONTROLS) + b"\n"
    )


# Control bytes -> spaces, for text that must stay on one line.
NO_CONTROLS = bytes(0x20 if c < 0x20 or c == 0x7F else c for c in range(256))
