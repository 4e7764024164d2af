"""The verdict table of SPEC section 2, every row."""

from __future__ import annotations

import pytest

from simscan import verdict
from simscan.verdict import Verdict, outcome

# kind -> the Verdict a scanner would give
VERDICTS = {
    verdict.CLEAN: Verdict(verdict.CLEAN, b"Hello"),
    verdict.PASSTHRU: Verdict(verdict.PASSTHRU, b"Cheap pills"),
    verdict.SPAM_PASS: Verdict(verdict.SPAM_PASS, b"Almost spam"),
    verdict.RELAYCLIENT: Verdict(verdict.RELAYCLIENT, b"From a local user"),
    verdict.VIRUS: Verdict(verdict.VIRUS, b"Eicar-Test-Signature"),
    verdict.SPAM: Verdict(verdict.SPAM, b"Cheap pills", reject_arg=b"%.2f" % 12.3),
    verdict.ATTACH: Verdict(verdict.ATTACH, b"evil.exe"),
    verdict.REGEX: Verdict(verdict.REGEX, b"#2"),
    verdict.SPAM_DEFER: Verdict(verdict.SPAM_DEFER, b"Hello", reject_arg=b"Try again later"),
}

QUEUED = (True, 0)
REFUSED = (False, 31)
CUSTOM = (False, 82)
DROPPED = (False, 0)

VIRUS_TEXT = b"DYour email was rejected because it contains the Eicar-Test-Signature virus"
SPAM_TEXT = b"DYour email is considered spam (12.30 spam-hits)"
ATTACH_TEXT = b"DYour email was rejected because it contains a bad attachment: evil.exe"
REGEX_TEXT = b"DYour email was rejected because it matches a filter (#2)"
DEFER_TEXT = b"ZTry again later"
TEMPFAIL = (False, 71)

# (kind, dropmsg, custom_reject) -> (queue, exit code, log state, custom text)
TABLE: dict[tuple[str, bool, bool], tuple[bool, int, str, bytes | None]] = {}
for _kind, _state in [
    (verdict.CLEAN, "CLEAN"),
    (verdict.PASSTHRU, "PASSTHRU"),
    (verdict.SPAM_PASS, "SPAM PASS"),
    (verdict.RELAYCLIENT, "RELAYCLIENT"),
]:
    for _drop in (False, True):
        for _custom in (False, True):
            TABLE[_kind, _drop, _custom] = (*QUEUED, _state, None)
TABLE.update(
    {
        (verdict.VIRUS, False, False): (*REFUSED, "VIRUS", None),
        (verdict.VIRUS, False, True): (*CUSTOM, "VIRUS", VIRUS_TEXT),
        (verdict.VIRUS, True, False): (*DROPPED, "VIRUS DROPPED", None),
        (verdict.VIRUS, True, True): (*DROPPED, "VIRUS DROPPED", None),
        (verdict.SPAM, False, False): (*REFUSED, "SPAM REJECT", None),
        (verdict.SPAM, False, True): (*CUSTOM, "SPAM REJECT", SPAM_TEXT),
        (verdict.SPAM, True, False): (*DROPPED, "SPAM DROPPED", None),
        (verdict.SPAM, True, True): (*DROPPED, "SPAM DROPPED", None),
        # dropmsg only drops virus and spam
        (verdict.ATTACH, False, False): (*REFUSED, "ATTACH", None),
        (verdict.ATTACH, False, True): (*CUSTOM, "ATTACH", ATTACH_TEXT),
        (verdict.ATTACH, True, False): (*REFUSED, "ATTACH", None),
        (verdict.ATTACH, True, True): (*CUSTOM, "ATTACH", ATTACH_TEXT),
        (verdict.REGEX, False, False): (*REFUSED, "REGEX", None),
        (verdict.REGEX, False, True): (*CUSTOM, "REGEX", REGEX_TEXT),
        (verdict.REGEX, True, False): (*REFUSED, "REGEX", None),
        (verdict.REGEX, True, True): (*CUSTOM, "REGEX", REGEX_TEXT),
        # rspamd's soft reject and greylist: temporary, never dropped
        (verdict.SPAM_DEFER, False, False): (*TEMPFAIL, "SPAM DEFER", None),
        (verdict.SPAM_DEFER, False, True): (*CUSTOM, "SPAM DEFER", DEFER_TEXT),
        (verdict.SPAM_DEFER, True, False): (*TEMPFAIL, "SPAM DEFER", None),
        (verdict.SPAM_DEFER, True, True): (*CUSTOM, "SPAM DEFER", DEFER_TEXT),
    }
)


def test_table_covers_every_kind() -> None:
    assert len(TABLE) == len(VERDICTS) * 4


@pytest.mark.parametrize(
    "kind,dropmsg,custom_reject",
    TABLE.keys(),
    ids=[f"{k}-drop={d}-custom={c}" for k, d, c in TABLE],
)
def test_outcome(kind: str, dropmsg: bool, custom_reject: bool) -> None:
    got = outcome(VERDICTS[kind], dropmsg=dropmsg, custom_reject=custom_reject)
    assert (got.queue, got.exit_code, got.log_state, got.custom_text) == TABLE[
        kind, dropmsg, custom_reject
    ]


def test_custom_texts_start_with_d_or_z_and_fit() -> None:
    for (kind, _drop, _custom), (_q, _code, _state, text) in TABLE.items():
        if text is not None:
            assert text[:1] == (b"Z" if kind == verdict.SPAM_DEFER else b"D")
            assert not text.endswith(b"\n")


def test_rspamds_own_text_replaces_the_template() -> None:
    v = Verdict(verdict.SPAM, b"Hi", reject_arg=b"15.00", text=b"Gtube pattern\r\nX: y")
    assert outcome(v, dropmsg=False, custom_reject=True).custom_text == b"DGtube pattern  X: y"
    v = Verdict(verdict.SPAM_DEFER, b"Hi", reject_arg=b"Slow down")
    assert outcome(v, dropmsg=False, custom_reject=True).custom_text == b"ZSlow down"
    with pytest.raises(ValueError, match="a spam defer verdict needs its score or text"):
        Verdict(verdict.SPAM_DEFER, b"Hi")


def test_spam_text_uses_reject_arg_not_detail() -> None:
    v = Verdict(verdict.SPAM, b"Subject with 99.99 in it", reject_arg=b"7.00")
    assert outcome(v, dropmsg=False, custom_reject=True).custom_text == (
        b"DYour email is considered spam (7.00 spam-hits)"
    )


def test_reject_arg_defaults_to_detail() -> None:
    v = Verdict(verdict.VIRUS, b"Win.Test.EICAR_HDB-1")
    assert v.reject_arg == b"Win.Test.EICAR_HDB-1"


def test_percent_in_name_is_not_a_format() -> None:
    v = Verdict(verdict.ATTACH, b"100%s.exe")
    assert outcome(v, dropmsg=False, custom_reject=True).custom_text == (
        b"DYour email was rejected because it contains a bad attachment: 100%s.exe"
    )


def test_unknown_kind() -> None:
    with pytest.raises(ValueError):
        Verdict("malware")
