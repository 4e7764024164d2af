"""End to end: every class of evasion (tests/evasion.py) through the
installed simscan with `.exe` blocked: refused with the C text, and the
same message with a harmless name queued as it came."""

import pytest
from evasion import BLOCKED, CASES, HARMLESS, Case
from harness import Site
from test_e2e_basic import ENV, parse_log

TEXT = b"DYour email was rejected because it contains a bad attachment: "


@pytest.fixture
def blocking(site: Site) -> Site:
    (site.control / "ssattach").write_text(".exe\n")
    site.configure(attach=True, custom_smtp_reject=True)
    return site


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_refused(blocking: Site, case: Case) -> None:
    out = blocking.run(case(BLOCKED), ENV)
    assert out.exit_code == 82, out.stderr
    assert out.custom_text.startswith(TEXT)
    assert out.custom_text.rstrip(b" .").lower().endswith(b".exe")
    (line,) = out.log_lines
    assert parse_log(line)["state"] == b"ATTACH"
    assert out.records == []
    assert out.workdirs_left == []


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_harmless_look_alike_passes(blocking: Site, case: Case) -> None:
    raw = case(HARMLESS)
    out = blocking.run(raw, ENV)
    assert out.exit_code == 0, out.stderr
    assert [r.message for r in out.records] == [raw]
