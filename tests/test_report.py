"""The log line and the Received line, byte for byte, and the Subject."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

import pytest

from simscan.report import SpamScore, field, log_line, received_line, subject

# --- log_line -----------------------------------------------------------------


def test_clean_with_spam_triple_and_two_recipients() -> None:
    line = log_line(
        4321, "CLEAN", SpamScore(0.0, 5.0, 10.0), 0.0715, b"Hello there",
        b"192.0.2.1", b"a@b.c", [b"x@y.z", b"u@v.w"],
    )  # fmt: skip
    assert line == (
        b"simscan:[4321]:CLEAN (0.00/5.00/10.00):0.0715s:Hello there:192.0.2.1:a@b.c:x@y.z,u@v.w\n"
    )


def test_spam_reject() -> None:
    line = log_line(
        77, "SPAM REJECT", SpamScore(1000.0, 5.0, 10.0), 0.0322, b"Buy now",
        b"198.51.100.7", b"spammer@bad.example", [b"victim@example.com"],
    )  # fmt: skip
    assert line == (
        b"simscan:[77]:SPAM REJECT (1000.00/5.00/10.00):0.0322s:Buy now:198.51.100.7:"
        b"spammer@bad.example:victim@example.com\n"
    )


def test_negative_score_and_rounding() -> None:
    line = log_line(1, "CLEAN", SpamScore(-1.234, 4.999, 20.1), 1.23456, b"s", b"ip", b"f",
                    [b"r"])  # fmt: skip
    assert line == b"simscan:[1]:CLEAN (-1.23/5.00/20.10):1.2346s:s:ip:f:r\n"


def test_virus_without_triple() -> None:
    line = log_line(
        99, "VIRUS", None, 0.0356, b"Eicar-Test-Signature", b"10.0.0.1",
        b"a@b.c", [b"x@y.z"],
    )  # fmt: skip
    assert line == b"simscan:[99]:VIRUS:0.0356s:Eicar-Test-Signature:10.0.0.1:a@b.c:x@y.z\n"


def test_attach_with_null_ip() -> None:
    line = log_line(5, "ATTACH", None, 0.01, b"evil.exe", None, b"a@b", [b"c@d", b"e@f", b"g@h"])
    assert line == b"simscan:[5]:ATTACH:0.0100s:evil.exe:(null):a@b:c@d,e@f,g@h\n"


def test_empty_sender_and_long_time() -> None:
    line = log_line(5, "CLEAN", None, 12.5, b"", b"::1", b"", [b"c@d"])
    assert line == b"simscan:[5]:CLEAN:12.5000s::__1::c@d\n"


def test_colons_and_control_bytes_in_fields() -> None:
    line = log_line(
        1, "REGEX", None, 0.0, b"Re: Fwd: a\tb\x00c\x1fd\x7fe\rf\ng", b"1.2.3.4",
        b"we:ird@b", [b"x:y@z", b"p@q"],
    )  # fmt: skip
    assert line == b"simscan:[1]:REGEX:0.0000s:Re_ Fwd_ a b c d e f g:1.2.3.4:we_ird@b:x_y@z,p@q\n"
    assert line.count(b"\n") == 1
    assert line.count(b":") == 7


def test_eight_bit_bytes_are_kept() -> None:
    line = log_line(1, "CLEAN", None, 0.0, b"caf\xc3\xa9 \xff", None, b"\xe9@b", [b"c@d"])
    assert line == b"simscan:[1]:CLEAN:0.0000s:caf\xc3\xa9 \xff:(null):\xe9@b:c@d\n"


def test_field_table() -> None:
    every = bytes(range(256))
    out = field(every)
    assert len(out) == 256
    for c in range(256):
        expected = 0x5F if c == 0x3A else 0x20 if c < 0x20 or c == 0x7F else c
        assert out[c] == expected, c


# --- received_line ------------------------------------------------------------

WHEN = 1795536346.0  # 24 Nov 2026 16:05:46 UTC


def test_received_line_with_scanners() -> None:
    line = received_line("1.4.6.2", 100, 200, 0.12344, [("attach", "1.0"), ("clamav", "0.9")], WHEN)
    assert line == (
        b"Received: (simscan 1.4.6.2 ppid 100 pid 200 t 0.1234s)\n"
        b" (scanners: attach: 1.0 clamav: 0.9); 24 Nov 2026 16:05:46 -0000\n"
    )


def test_received_line_no_scanners() -> None:
    line = received_line("2.0.0", 1, 2, 0.0, [], WHEN)
    assert line == (
        b"Received: (simscan 2.0.0 ppid 1 pid 2 t 0.0000s)\n"
        b" (scanners: none); 24 Nov 2026 16:05:46 -0000\n"
    )


def test_received_line_all_scanners() -> None:
    scanners = [("attach", "1.4.6.2"), ("clamav", "1.0.3/m:62/d:27000"), ("spam", "4.0.0")]
    line = received_line("1.4.6.2", 1, 2, 1.5, scanners, WHEN)
    assert b" (scanners: attach: 1.4.6.2 clamav: 1.0.3/m:62/d:27000 spam: 4.0.0); " in line


def date_of(line: bytes) -> bytes:
    return line.rstrip(b"\n").rsplit(b"; ", 1)[1]


def test_received_date_matches_gmtime() -> None:
    t = time.gmtime(WHEN)
    date = date_of(received_line("v", 1, 2, 0.0, [], WHEN))
    day, month, year, hms, zone = date.split(b" ")
    assert int(day) == t.tm_mday
    assert month == time.strftime("%b", t).encode()
    assert int(year) == t.tm_year
    assert hms == b"%02d:%02d:%02d" % (t.tm_hour, t.tm_min, t.tm_sec)
    assert zone == b"-0000"


@pytest.mark.parametrize(
    "when",
    [
        0.0,  # 1 Jan 1970
        951782400.0,  # 29 Feb 2000
        1709164800.5,  # 29 Feb 2024, half a second in
        1767225599.0,  # 31 Dec 2025 23:59:59
        1767225600.0,  # 1 Jan 2026
        WHEN,
        2147483648.0,  # past 2038
        4102444800.0,  # 1 Jan 2100
    ],
)
def test_received_date_is_rfc5322_with_four_digit_year(when: float) -> None:
    date = date_of(received_line("v", 1, 2, 0.0, [], when))
    year = date.split(b" ")[2]
    assert len(year) == 4 and year == str(time.gmtime(when).tm_year).encode()
    parsed = parsedate_to_datetime(date.decode())
    assert parsed.timestamp() == int(when)


def test_received_line_is_one_folded_header() -> None:
    line = received_line("1.0", 1, 2, 0.5, [("clamav", "1")], WHEN)
    first, second, rest = line.split(b"\n")
    assert first.startswith(b"Received: ")
    assert second.startswith(b" ")  # continuation line
    assert rest == b""


# --- subject ------------------------------------------------------------------

SUBJECTS: dict[str, tuple[bytes, bytes]] = {
    "plain": (b"From: a@b\nSubject: Hello world\nTo: c@d\n\nbody\n", b"Hello world"),
    "first header": (b"Subject: first\nFrom: a@b\n\nbody\n", b"first"),
    "folded": (b"From: a@b\nSubject: a long\n subject line\nTo: c@d\n\n", b"a long subject line"),
    "folded with tab": (b"Subject: one\n\ttwo\n\tthree\nX: y\n\n", b"one\ttwo\tthree"),
    "folded at end of head": (b"Subject: one\n two", b"one two"),
    "missing": (b"From: a@b\nTo: c@d\n\nSubject: not a header\n", b""),
    "no header at all": (b"\nSubject: body only\n", b""),
    "empty message": (b"", b""),
    "empty subject": (b"Subject:\nFrom: a@b\n\n", b""),
    "upper case name": (b"SUBJECT: shout\n\n", b"shout"),
    "lower case name": (b"subject: quiet\n\n", b"quiet"),
    "mixed case name": (b"sUbJeCt: odd\n\n", b"odd"),
    "only in body": (b"From: a@b\nTo: c@d\n\nSubject: in the body\n", b""),
    "only in body after crlf blank": (b"From: a@b\r\n\r\nSubject: in the body\r\n", b""),
    "crlf": (b"From: a@b\r\nSubject: Hi there\r\nTo: c@d\r\n\r\nbody\r\n", b"Hi there"),
    "crlf folded": (b"Subject: Hi\r\n there\r\nTo: c@d\r\n\r\n", b"Hi there"),
    "first of two": (b"Subject: one\nSubject: two\n\n", b"one"),
    "similar names": (b"X-Subject: no\nSubjects: no\nSubject: yes\n\n", b"yes"),
    "no space after colon": (b"Subject:tight\n\n", b"tight"),
    "spaces trimmed": (b"Subject:    padded   \n\n", b"padded"),
    "colon kept": (b"Subject: Re: hi\n\n", b"Re: hi"),
    "eight-bit": (b"Subject: caf\xc3\xa9\n\n", b"caf\xc3\xa9"),
    "encoded word not decoded": (b"Subject: =?utf-8?q?caf=C3=A9?=\n\n", b"=?utf-8?q?caf=C3=A9?="),
    "cut head": (b"From: a@b\nSubject: cut off in the mid", b"cut off in the mid"),
}


@pytest.mark.parametrize("head,expected", SUBJECTS.values(), ids=SUBJECTS.keys())
def test_subject(head: bytes, expected: bytes) -> None:
    assert subject(head) == expected
