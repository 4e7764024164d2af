"""Every class of evasion (tests/evasion.py): the blocked name is found,
whatever the read size, and the same message with a harmless name is not
refused."""

import io

import pytest
from evasion import BLOCKED, CASES, HARMLESS, Case

from simscan.mail.mime import attachment_names, walk

ENDINGS = (b".exe",)


def blocked(raw: bytes, chunk: int = 1 << 20) -> str | None:
    return walk(io.BytesIO(raw), ENDINGS, chunk).blocked


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_the_blocked_name_is_found(case: Case) -> None:
    raw = case(BLOCKED)
    assert blocked(raw) is not None
    # The reading that hides it is among those taken, not only a look-alike.
    assert any(BLOCKED in name for name in attachment_names(io.BytesIO(raw)))


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_harmless_name_is_not_blocked(case: Case) -> None:
    raw = case(HARMLESS)
    assert blocked(raw) is None
    assert any(HARMLESS in name for name in attachment_names(io.BytesIO(raw)))


@pytest.mark.parametrize("chunk", [1, 2, 7, 64, 4093])
@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_read_size_does_not_matter(case: Case, chunk: int) -> None:
    assert blocked(case(BLOCKED), chunk) is not None
