"""One line of a qmail-smtpd log in, one Record out (or None): pure, no I/O.

Lines come as sites keep them: multilog's `@tai64n ` prefix, syslog
(`Dec  5 17:01:02 host qmail-smtpd[123]: ...`, RFC 5424, ISO or
tai64nlocal stamps), or nothing.  After the stamp, the first `simscan:[`
starts simscan's part; anything else is not simscan's.

Both programs' verdict lines are read: `simscan:[PPID]:STATE (triple):
T.TTTTs:DETAIL:IP:FROM:RCPT,RCPT`.  The C program wrote a triple of two
numbers (before 1.4, and its DSPAM build) or three, and did not escape `:`
in the IP (IPv6) or in a virus or file name, so the fields are taken
from both ends: state and time from the left, recipients and sender from
the right, and the IP as the longest tail of what is left that is an IP
address.  This program writes `_` for `:` (`2001_db8__1`); such an IP is
read back as the address it stands for, so both count as one sender.
"""

from __future__ import annotations

import ipaddress
import re
import time
from dataclasses import dataclass

# What is only ever in one program's lines; the rest could be either's.
C, OURS, EITHER = "c", "ours", "either"
VERDICT, WARNING, NOTE, DEBUG, MESSAGE = "verdict", "warning", "note", "debug", "message"


@dataclass(frozen=True, slots=True)
class Record:
    """One simscan line.  `kind` is verdict, warning, note, debug, or
    message (the C program's own `simscan:[PPID]: TEXT` lines); for all
    but verdicts `detail` is the text.  `stamp` is Unix seconds (UTC)."""

    stamp: float | None
    ppid: int
    kind: str
    format: str
    state: str = ""
    triple: tuple[float, ...] | None = None
    seconds: float | None = None
    detail: str = ""
    ip: str | None = None
    sender: str = ""
    recipients: tuple[str, ...] = ()

    @property
    def score(self) -> float | None:
        return self.triple[0] if self.triple else None


_TAI64N = re.compile(r"@([0-9a-fA-F]{16})([0-9a-fA-F]{8}) ")
_TAI_OFFSET = (1 << 62) + 10  # daemontools' label: 2^62 + TAI (UTC + 10 s)
_PRI = re.compile(r"<\d{1,3}>(?:1 )?")
_ISO = re.compile(r"(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:[.,](\d+))?(Z|[+-]\d\d:?\d\d)?(?=\s)")
_BSD = re.compile(r"([A-Z][a-z]{2}) +(\d{1,2}) (\d\d):(\d\d):(\d\d)(?=\s)")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
    )
}

_LINE = re.compile(r"simscan:\[(\d+)\]:")
_VERDICT = re.compile(
    r"([A-Z]+(?: [A-Z]+)*(?: \d+)?)"  # state: CLEAN, SPAM REJECT, ERROR 71
    r"(?: \((-?\d+(?:\.\d+)?(?:/-?\d+(?:\.\d+)?){1,2})\))?"  # (score/required[/ours])
    r":(\d+(?:\.\d+)?)s:(.*)"
)
_NOTICE = re.compile(r" (warning|note|debug): ?(.*)")
_OURS_ONLY = re.compile(r"ERROR \d+|SPAM DEFER")


def parse_line(line: str, now: float | None = None) -> Record | None:
    """The Record of one log line, or None when it is not simscan's.
    `now` places syslog's year-less stamps (default: the clock)."""
    stamp, rest = split_stamp(line.rstrip("\r\n"), now)
    at = rest.find("simscan:[")
    if at < 0:
        return None
    m = _LINE.match(rest, at)
    if m is None:
        return None
    ppid, body = int(m.group(1)), rest[m.end() :]
    if body.startswith(" "):
        n = _NOTICE.match(body)
        if n:
            return Record(stamp, ppid, n.group(1), OURS, detail=n.group(2))
        return Record(stamp, ppid, MESSAGE, C, detail=body.strip())
    v = _VERDICT.fullmatch(body)
    return None if v is None else _verdict(stamp, ppid, v)


def _verdict(stamp: float | None, ppid: int, m: re.Match[str]) -> Record:
    state, triple_text, seconds, rest = m.groups()
    triple = tuple(float(x) for x in triple_text.split("/")) if triple_text else None
    fields = rest.split(":")
    recipients = fields.pop() if len(fields) > 1 else ""
    sender = fields.pop() if len(fields) > 1 else ""
    detail, ip_text = _detail_and_ip(fields)
    ip, ip_format = _ip(ip_text)
    return Record(
        stamp,
        ppid,
        VERDICT,
        _format_of(state, triple, detail, ip_format),
        state=state,
        triple=triple,
        seconds=float(seconds),
        detail=detail,
        ip=ip,
        sender=sender,
        recipients=tuple(r for r in recipients.split(",") if r),
    )


def _detail_and_ip(fields: list[str]) -> tuple[str, str]:
    """DETAIL:IP with `:` maybe in both (C): the longest tail that is an
    IP address is the IP; failing that, the last field."""
    if len(fields) < 2:
        return (fields[0] if fields else ""), ""
    for k in range(1, len(fields) - 1):
        tail = ":".join(fields[k:])
        if _is_ip(tail):
            return ":".join(fields[:k]), tail
    return ":".join(fields[:-1]), fields[-1]


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _ip(text: str) -> tuple[str | None, str]:
    """The IP as an address, and whose format it shows (`_` for `:` is
    ours, a raw `:` the C program's)."""
    if text in ("", "(null)"):
        return None, EITHER
    if "_" in text and _is_ip(text.replace("_", ":")):
        return text.replace("_", ":"), OURS
    return text, C if ":" in text else EITHER


def _format_of(state: str, triple: tuple[float, ...] | None, detail: str, ip_format: str) -> str:
    if _OURS_ONLY.fullmatch(state) or (state == "CLEAN" and triple is None):
        return OURS  # C wrote CLEAN only after a spam scan, with its triple
    if state == "RELAYCLIENT" and detail != "-":
        return OURS  # C's detail here was always "-"
    if triple is not None and len(triple) == 2:
        return C
    if state == "RELAYCLIENT":
        return C
    return ip_format


def split_stamp(line: str, now: float | None = None) -> tuple[float | None, str]:
    """(Unix time or None, the rest of the line) for a line that may start
    with a tai64n, ISO / RFC 5424 / tai64nlocal or BSD syslog stamp."""
    m = _TAI64N.match(line)
    if m:
        return int(m.group(1), 16) - _TAI_OFFSET + int(m.group(2), 16) / 1e9, line[m.end() :]
    p = _PRI.match(line)
    start = p.end() if p else 0
    m = _ISO.match(line, start)
    if m:
        return _iso_stamp(m), line[m.end() :]
    m = _BSD.match(line, start)
    if m and m.group(1) in _MONTHS:
        return _bsd_stamp(m, now), line[m.end() :]
    return None, line


def _iso_stamp(m: re.Match[str]) -> float | None:
    from datetime import datetime

    date, clock, fraction, zone = m.groups()
    zone = "" if zone is None else "+00:00" if zone == "Z" else zone
    try:
        when = datetime.fromisoformat(f"{date}T{clock}{zone}")
    except ValueError:
        return None
    fraction_s = float("0." + fraction) if fraction else 0.0
    if when.tzinfo is None:  # a local time, as tai64nlocal and syslog write
        return time.mktime(when.timetuple()) + fraction_s
    return when.timestamp() + fraction_s


def _bsd_stamp(m: re.Match[str], now: float | None) -> float:
    """Local time with no year: this year's, or last year's if that would
    put it more than a day in the future (a December log read in January)."""
    now = time.time() if now is None else now
    month, day, hh, mm, ss = _MONTHS[m.group(1)], *(int(g) for g in m.groups()[1:])
    year = time.localtime(now).tm_year
    for y in (year, year - 1):
        stamp = time.mktime((y, month, day, hh, mm, ss, 0, 0, -1))
        if stamp <= now + 86400:
            return stamp
    return stamp


# A warning's variable parts, in this order: quoted text, text in
# parentheses, addresses, paths, other file names, numbers.
_GROUPING = (
    (re.compile(r"(?<!\w)'[^']*'(?!\w)|\"[^\"]*\""), "'…'"),
    (re.compile(r"\([^()]*\)"), "(…)"),
    (re.compile(r"[^\s@<>(),;:]*@[^\s@<>(),;:]+|<>"), "ADDR"),
    (re.compile(r"\[[0-9a-fA-F:.]+\](?::\d+)?|\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"), "ADDR"),
    (re.compile(r"\b[A-Za-z0-9][\w.-]*:\d+\b"), "ADDR"),
    (re.compile(r"(?<![\w./])/[^\s;,()]*[^\s;,():.]"), "PATH"),
    (re.compile(r"(?<![\w./-])[^\s:;,()'\"/]*[A-Za-z][^\s:;,()'\"]*[./][^\s:;,()'\"]*\w"), "NAME"),
    (re.compile(r"(?<![A-Za-z_])\d+(?:\.\d+)?"), "N"),
)


def kind_of(text: str) -> str:
    """A warning's (or note's, or C message's) group: the text with its
    variable parts as placeholders, so `cannot quarantine in /a (x)` and
    `cannot quarantine in /b (y)` are one kind: `cannot quarantine in
    PATH (…)`."""
    for pattern, placeholder in _GROUPING:
        before = None
        while text != before:  # nested: (a (b)) -> (a X) -> X, innermost first
            before, text = text, pattern.sub(placeholder.replace("(…)", "\x01"), text)
        text = text.replace("\x01", "(…)")
    return " ".join(text.split())[:120]
