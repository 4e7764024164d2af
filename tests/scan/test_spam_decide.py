"""spam.decide(): what a SpamAssassin score means (SPEC sections 2 and 5).

No threshold: spam when SpamAssassin flags it.  A threshold (spam_hits):
spam when the score is at or above it, whatever the flag; flagged but
below is SPAM PASS.  Passthru delivers spam tagged, unless a threshold is
set.  A spam verdict carries the score as `%.2f` for the reject text; the
detail (the log line's field) is the subject."""

from __future__ import annotations

import pytest

from simscan.scan.spam import decide
from simscan.verdict import CLEAN, PASSTHRU, SPAM, SPAM_PASS, outcome

SUBJECT = b"Buy now: cheap \xe2\x82\xac"


@pytest.mark.parametrize(
    ("flagged", "score", "threshold", "passthru", "kind"),
    [
        # no threshold: SpamAssassin's flag decides, whatever the score
        (True, 7.1, None, False, SPAM),
        (True, -3.0, None, False, SPAM),
        (False, 1.2, None, False, CLEAN),
        (False, 1002.7, None, False, CLEAN),
        # ... and passthru delivers the spam (tagged)
        (True, 7.1, None, True, PASSTHRU),
        (True, 1002.7, None, True, PASSTHRU),
        (False, 1.2, None, True, CLEAN),
        (False, 99.0, None, True, CLEAN),
        # a threshold: the score decides
        (True, 12.0, 10.0, False, SPAM),
        (False, 12.0, 10.0, False, SPAM),  # unflagged but above: spam
        (True, 10.0, 10.0, False, SPAM),  # at the threshold is spam
        (False, 10.0, 10.0, False, SPAM),
        (True, 9.99, 10.0, False, SPAM_PASS),  # flagged but below: delivered
        (True, 5.0, 10.0, False, SPAM_PASS),
        (False, 9.99, 10.0, False, CLEAN),
        (False, -1.0, 10.0, False, CLEAN),
        # ... and a threshold disables passthru
        (True, 12.0, 10.0, True, SPAM),
        (False, 12.0, 10.0, True, SPAM),
        (True, 10.0, 10.0, True, SPAM),
        (True, 9.99, 10.0, True, SPAM_PASS),
        (False, 9.99, 10.0, True, CLEAN),
        # thresholds of zero and below
        (False, 0.0, 0.0, False, SPAM),
        (False, -0.1, 0.0, False, CLEAN),
        (True, -0.1, 0.0, False, SPAM_PASS),
        (False, -2.0, -3.0, False, SPAM),
        (True, -4.0, -3.0, False, SPAM_PASS),
    ],
)
def test_decide_table(
    flagged: bool, score: float, threshold: float | None, passthru: bool, kind: str
) -> None:
    verdict = decide(flagged, score, threshold, passthru, SUBJECT)
    assert verdict.kind == kind
    assert verdict.detail == SUBJECT
    if kind == SPAM:
        assert verdict.reject_arg == b"%.2f" % score
    else:
        assert verdict.reject_arg == SUBJECT


@pytest.mark.parametrize(
    ("score", "shown"),
    [
        (7.1, b"7.10"),
        (1002.7, b"1002.70"),
        (5.0, b"5.00"),
        (10.0, b"10.00"),
        (12.345, b"12.35"),  # 12.345 is a little above, as a double
        (0.004, b"0.00"),
        (-1.2, b"-1.20"),
        (123456.789, b"123456.79"),
    ],
)
def test_decide_reject_arg(score: float, shown: bytes) -> None:
    assert decide(True, score, None, False, b"s").reject_arg == shown
    assert decide(False, score, score, False, b"s").reject_arg == shown


def test_decide_reject_text() -> None:
    """The custom reject text of SPEC section 2, byte for byte."""
    verdict = decide(True, 1002.7, None, False, SUBJECT)
    assert outcome(verdict, False, True).custom_text == (
        b"DYour email is considered spam (1002.70 spam-hits)"
    )
    verdict = decide(False, 20.1, 20.1, True, SUBJECT)
    assert outcome(verdict, False, True).custom_text == (
        b"DYour email is considered spam (20.10 spam-hits)"
    )


@pytest.mark.parametrize("subject", [b"", b"hello", b"a:b", b"\xff\xfe", SUBJECT])
def test_decide_detail_is_subject(subject: bytes) -> None:
    for flagged, score, threshold, passthru in [
        (True, 9.0, None, False),
        (True, 9.0, None, True),
        (False, 1.0, None, False),
        (True, 1.0, 5.0, False),
        (False, 9.0, 5.0, True),
    ]:
        assert decide(flagged, score, threshold, passthru, subject).detail == subject


def test_decide_outcomes() -> None:
    """What qmail sees for each kind (the verdict table's part)."""
    assert outcome(decide(True, 9.0, None, False, b"s"), False, False).exit_code == 31
    assert outcome(decide(True, 9.0, None, False, b"s"), False, False).log_state == "SPAM REJECT"
    assert outcome(decide(True, 9.0, None, False, b"s"), True, False).log_state == "SPAM DROPPED"
    for verdict, state in [
        (decide(True, 9.0, None, True, b"s"), "PASSTHRU"),
        (decide(True, 1.0, 5.0, False, b"s"), "SPAM PASS"),
        (decide(False, 1.0, 5.0, False, b"s"), "CLEAN"),
        (decide(False, 1.0, None, False, b"s"), "CLEAN"),
    ]:
        result = outcome(verdict, True, True)  # delivered even with dropmsg
        assert (result.queue, result.exit_code, result.log_state) == (True, 0, state)
        assert result.custom_text is None
