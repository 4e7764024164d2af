"""simscan.admin.logparse: one log line in, one Record out.

Our lines are made by simscan.report (the code that writes them); the C
program's are written out by hand from its log_message() formats:
`simscan:[%d]:%s (%.2f/%.2f/%.2f):%3.4fs:%s:%s:%s:%s` (1.4 and later),
`(%.2f/%.2f)` before 1.4, `(%.4f/%.4f)` in its DSPAM build, and
`simscan:[%d]:%s:%3.4fs:%s:%s:%s:%s` with no spam scan.
"""

from __future__ import annotations

import calendar
import os
import time
from collections.abc import Iterator

import pytest

from simscan.admin.logparse import Record, kind_of, parse_line, split_stamp
from simscan.report import SpamScore, log_line, warning_line


@pytest.fixture(autouse=True)
def utc() -> Iterator[None]:
    """syslog and tai64nlocal stamps are local time: make that UTC."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


def ours(state: str, triple: tuple[float, float, float] | None = None, **kw: bytes) -> str:
    line = log_line(
        4321,
        state,
        SpamScore(*triple) if triple else None,
        0.0715,
        kw.get("detail", b"Hello there"),
        kw.get("ip", b"192.0.2.1"),
        b"a@b.example",
        [b"x@y.example", b"u@v.example"],
    )
    return line.decode()


def parsed(line: str) -> Record:
    record = parse_line(line)
    assert record is not None, line
    return record


# --- our lines, every state ------------------------------------------------------

OUR_STATES = [
    ("CLEAN", None, b"Lunch on Thursday?"),
    ("CLEAN", (1.2, 5.0, 10.0), b"Lunch on Thursday?"),
    ("SPAM PASS", (6.5, 5.0, 10.0), b"Cheap"),
    ("PASSTHRU", (12.0, 5.0, 10.0), b"Cheap"),
    ("RELAYCLIENT", None, b"Outgoing"),
    ("SPAM REJECT", (1000.0, 5.0, 10.0), b"Buy now"),
    ("SPAM DROPPED", (1000.0, 5.0, 10.0), b"Buy now"),
    ("SPAM DEFER", (0.0, 15.0, 15.0), b"Later"),
    ("VIRUS", None, b"Eicar-Test-Signature"),
    ("VIRUS DROPPED", None, b"Eicar-Test-Signature"),
    ("ATTACH", None, b"invoice.zip/docs/setup.exe"),
    ("ATTACH", None, b"report.pdf (executable)"),
    ("REGEX", None, b"#2"),
    ("ERROR 71", None, b"cannot create work dir /var/qmail/simscan/x (Permission denied)"),
    ("ERROR 91", None, b"the envelope has no recipient"),
]


@pytest.mark.parametrize(("state", "triple", "detail"), OUR_STATES)
def test_every_state_of_ours(
    state: str, triple: tuple[float, float, float] | None, detail: bytes
) -> None:
    r = parsed(ours(state, triple, detail=detail))
    assert (r.kind, r.ppid, r.state, r.seconds) == ("verdict", 4321, state, 0.0715)
    assert r.triple == triple
    assert r.detail == detail.decode()
    assert (r.ip, r.sender, r.recipients) == (
        "192.0.2.1",
        "a@b.example",
        ("x@y.example", "u@v.example"),
    )
    assert r.stamp is None


def test_which_lines_only_we_write() -> None:
    assert parsed(ours("ERROR 71")).format == "ours"
    assert parsed(ours("SPAM DEFER", (0, 15, 15))).format == "ours"
    assert parsed(ours("CLEAN")).format == "ours"  # C: CLEAN only after a spam scan
    assert parsed(ours("RELAYCLIENT", detail=b"Outgoing")).format == "ours"
    assert parsed(ours("CLEAN", (1, 5, 10))).format == "either"
    assert parsed(ours("VIRUS", detail=b"Eicar")).format == "either"


def test_our_ipv6_is_read_back_as_the_address() -> None:
    r = parsed(ours("CLEAN", ip=b"2001:db8::1"))
    assert "2001_db8__1" in ours("CLEAN", ip=b"2001:db8::1")
    assert (r.ip, r.format, r.detail) == ("2001:db8::1", "ours", "Hello there")


def test_escaped_colons_stay_as_logged() -> None:
    r = parsed(ours("CLEAN", detail=b"Re: lunch"))
    assert r.detail == "Re_ lunch"


def test_unset_ip_and_empty_sender() -> None:
    r = parsed("simscan:[9]:ERROR 54:0.0003s:message: ended before its end:(null)::")
    # (a C-style unescaped detail: still split from the right)
    assert (r.state, r.ip, r.sender, r.recipients) == ("ERROR 54", None, "", ())
    assert r.detail == "message: ended before its end"


def test_warning_note_and_debug_lines() -> None:
    w = parsed(warning_line(12, "cannot quarantine in /q (No such file or directory)").decode())
    assert (w.kind, w.ppid, w.detail, w.format) == (
        "warning",
        12,
        "cannot quarantine in /q (No such file or directory)",
        "ours",
    )
    n = parsed(warning_line(12, "spam not scanned: 300000 bytes", "note").decode())
    assert (n.kind, n.detail) == ("note", "spam not scanned: 300000 bytes")
    d = parsed("simscan:[12]: debug: attachment names ['a.txt']")
    assert (d.kind, d.detail) == ("debug", "attachment names ['a.txt']")


# --- the C program's lines ---------------------------------------------------------

C_LINES = [
    ("simscan:[301]:CLEAN (1.20/5.00/10.00):0.9121s:Lunch_ Thursday?:192.0.2.9:a@b:c@d",
     "CLEAN", (1.2, 5.0, 10.0), "Lunch_ Thursday?"),
    ("simscan:[301]:SPAM PASS (6.50/5.00/10.00):0.9121s:Cheap:192.0.2.9:a@b:c@d",
     "SPAM PASS", (6.5, 5.0, 10.0), "Cheap"),
    ("simscan:[301]:PASSTHRU (12.00/5.00/10.00):0.9s:Cheap:192.0.2.9:a@b:c@d",
     "PASSTHRU", (12.0, 5.0, 10.0), "Cheap"),
    ("simscan:[301]:SPAM REJECT (1000.00/5.00/10.00):1.0001s:Buy:192.0.2.9:a@b:c@d",
     "SPAM REJECT", (1000.0, 5.0, 10.0), "Buy"),
    ("simscan:[301]:SPAM DROPPED (1000.00/5.00/10.00):1.0001s:Buy:192.0.2.9:a@b:c@d",
     "SPAM DROPPED", (1000.0, 5.0, 10.0), "Buy"),
    ("simscan:[301]:VIRUS:0.2000s:Worm.Bagle.AU:192.0.2.9:a@b:c@d",
     "VIRUS", None, "Worm.Bagle.AU"),
    ("simscan:[301]:VIRUS DROPPED:0.2000s:Worm.Bagle.AU:192.0.2.9:a@b:c@d",
     "VIRUS DROPPED", None, "Worm.Bagle.AU"),
    ("simscan:[301]:ATTACH:0.0100s:trojan.exe:192.0.2.9:a@b:c@d",
     "ATTACH", None, "trojan.exe"),
    ("simscan:[301]:REGEX:0.0100s:#0:192.0.2.9:a@b:c@d", "REGEX", None, "#0"),
    ("simscan:[301]:RELAYCLIENT:0.0001s:-:192.0.2.9:a@b:c@d", "RELAYCLIENT", None, "-"),
    # before 1.4: score/required only; the DSPAM build: probability/confidence
    ("simscan:[301]:SPAM REJECT (15.30/5.00):1.0001s:Buy:192.0.2.9:a@b:c@d",
     "SPAM REJECT", (15.3, 5.0), "Buy"),
    ("simscan:[301]:CLEAN (0.0100/0.9900):0.0500s:Hi:192.0.2.9:a@b:c@d",
     "CLEAN", (0.01, 0.99), "Hi"),
]  # fmt: skip


@pytest.mark.parametrize(("line", "state", "triple", "detail"), C_LINES)
def test_every_state_of_the_c_program(
    line: str, state: str, triple: tuple[float, ...] | None, detail: str
) -> None:
    r = parsed(line)
    assert (r.kind, r.ppid, r.state, r.triple, r.detail) == ("verdict", 301, state, triple, detail)
    assert (r.ip, r.sender, r.recipients) == ("192.0.2.9", "a@b", ("c@d",))


def test_which_lines_only_c_wrote() -> None:
    assert parsed(C_LINES[-1][0]).format == "c"  # a triple of two
    assert parsed("simscan:[1]:RELAYCLIENT:0.0001s:-:192.0.2.9:a@b:c@d").format == "c"
    assert parsed("simscan:[1]:VIRUS:0.2s:Eicar:2001:db8::1:a@b:c@d").format == "c"


@pytest.mark.parametrize(
    ("ip", "detail"),
    [
        ("2001:db8::1", "Eicar-Test-Signature"),
        ("::1", "Eicar-Test-Signature"),
        ("::ffff:192.0.2.1", "Eicar-Test-Signature"),
        ("fe80::1%eth0", "Eicar-Test-Signature"),
        ("2001:db8::1", "Re: cheap: watches"),
        ("192.0.2.1", "Re: cheap: watches"),
        ("2001:db8::1", ""),
        ("::1", ""),
    ],
)
def test_c_lines_with_raw_colons_in_ip_and_detail(ip: str, detail: str) -> None:
    r = parsed(f"simscan:[5]:VIRUS:0.2000s:{detail}:{ip}:a@b:c@d,e@f")
    assert (r.detail, r.ip, r.sender, r.recipients) == (detail, ip, "a@b", ("c@d", "e@f"))


def test_a_detail_ending_in_hex_takes_the_longest_address() -> None:
    """Ambiguous in C's format: `beef:2001:db8::1` could be detail `beef`;
    the longest tail that is an address wins."""
    r = parsed("simscan:[5]:VIRUS:0.2s:Name:beef:2001:db8::1:a@b:c@d")
    assert (r.detail, r.ip) == ("Name", "beef:2001:db8::1")


def test_an_ip_that_is_no_address_is_the_last_field() -> None:
    r = parsed("simscan:[5]:CLEAN:0.2s:Subj: more:mail.example.com:a@b:c@d")
    assert (r.detail, r.ip) == ("Subj: more", "mail.example.com")


def test_c_messages_are_kept_as_messages() -> None:
    r = parsed("simscan:[77]: error making work dir, exit 400, errno: 13")
    assert (r.kind, r.format, r.detail) == (
        "message",
        "c",
        "error making work dir, exit 400, errno: 13",
    )


# --- stamps --------------------------------------------------------------------------

LINE = "simscan:[7]:VIRUS:0.2000s:Eicar:192.0.2.9:a@b:c@d"
WHEN = calendar.timegm((2026, 12, 5, 17, 1, 2))


def tai64n(t: float) -> str:
    return f"@{(1 << 62) + 10 + int(t):016x}{round((t % 1) * 1e9):08x}"


@pytest.mark.parametrize(
    ("line", "stamp"),
    [
        (f"{tai64n(WHEN + 0.25)} {LINE}", WHEN + 0.25),
        (f"Dec  5 17:01:02 mx qmail-smtpd[7]: {LINE}", WHEN),
        (f"<22>Dec  5 17:01:02 mx qmail-smtpd[7]: {LINE}", WHEN),
        (f"<22>1 2026-12-05T17:01:02.5Z mx qmail-smtpd 7 - - {LINE}", WHEN + 0.5),
        (f"2026-12-05T18:01:02+01:00 mx qmail-smtpd[7]: {LINE}", WHEN),
        (f"2026-12-05T17:01:02+0000 mx qmail-smtpd[7]: {LINE}", WHEN),
        (f"2026-12-05 17:01:02.250000000 {LINE}", WHEN + 0.25),  # tai64nlocal
        (LINE, None),
        (f"qmail-smtpd: pid 7 from 192.0.2.9 {LINE}", None),
    ],
)
def test_stamps(line: str, stamp: float | None) -> None:
    r = parsed(line)
    assert r.state == "VIRUS" and r.detail == "Eicar"
    assert r.stamp == pytest.approx(stamp) if stamp is not None else r.stamp is None


def test_syslog_without_a_year_is_never_far_in_the_future() -> None:
    january = calendar.timegm((2027, 1, 2, 0, 0, 0))
    stamp, rest = split_stamp(f"Dec 31 23:59:00 mx x: {LINE}", now=january)
    assert stamp == calendar.timegm((2026, 12, 31, 23, 59, 0))
    assert rest.endswith(LINE)


@pytest.mark.parametrize(
    "line",
    [
        "",
        "garbage",
        "@4000000069321b2e0a1b2c3d tcpserver: status: 1/40",
        "@4000000069321b2e0a1b2c3d tcpserver: pid 1234 from 192.0.2.9",
        "simscan:[x]:CLEAN:0.1s:a:b:c:d",
        "simscan:[12]:clean:0.1s:a:b:c:d",
        "simscan:[12]:CLEAN:fast:a:b:c:d",
        "simscan:[12]CLEAN:0.1s:a:b:c:d",
        "simscan: no ppid",
        "\x00\xff binary",
    ],
)
def test_lines_that_are_not_simscans(line: str) -> None:
    assert parse_line(line) is None


# --- grouping warnings ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("cannot quarantine in /var/qmail/quarantine (No such file or directory)",
         "cannot quarantine in PATH (…)"),
        ("cannot quarantine in /srv/q (Permission denied)", "cannot quarantine in PATH (…)"),
        ("spam not scanned: 300000 bytes is at or above size_limit 250000",
         "spam not scanned: N bytes is at or above size_limit N"),
        ("regex #3 '[a-' does not compile (unterminated character set), skipped",
         "regex #N '…' does not compile (…), skipped"),
        ("attachment check: invoice.zip/docs/setup.exe: encrypted, names not seen (x)",
         "attachment check: NAME: encrypted, names not seen (…)"),
        ("clamd /run/clamav/clamd.ctl connection refused; 127.0.0.1:3310 answered instead",
         "clamd PATH connection refused; ADDR answered instead"),
        ("spamd mail.example.com:783 timed out; [2001:db8::1]:783 answered instead",
         "spamd ADDR timed out; ADDR answered instead"),
        ("F envelope is alice@example.com", "F envelope is ADDR"),
        ("error making work dir, exit 400, errno: 13", "error making work dir, exit N, errno: N"),
    ],
)  # fmt: skip
def test_kind_of_a_warning(text: str, kind: str) -> None:
    assert kind_of(text) == kind


def test_kind_of_nested_parentheses() -> None:
    text = (
        "cannot quarantine in /q (internal error FileNotFoundError ([Errno 2] No such file "
        "or directory: '/q/.1796490885.779171.1005.tmp'))"
    )
    assert kind_of(text) == "cannot quarantine in PATH (…)"
