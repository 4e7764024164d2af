"""End to end: refusals and drops through the real fds.

No scanner exists yet, so tests/bin/simscan-forced-verdict runs simscan's
real command-line layer with a scanner that returns the verdict the test
asks for; everything from the fds to the log line is the real code.
"""

from __future__ import annotations

import pytest
from harness import Site, forced_command
from test_e2e_basic import ENV, MESSAGE, parse_log

TEXTS = {
    "virus:EICAR-Test-File": (
        b"DYour email was rejected because it contains the EICAR-Test-File virus"
    ),
    "spam:Buy now:1000.00": b"DYour email is considered spam (1000.00 spam-hits)",
    "attach:trojan.exe": (
        b"DYour email was rejected because it contains a bad attachment: trojan.exe"
    ),
    "regex:#2": b"DYour email was rejected because it matches a filter (#2)",
}
STATES = {"virus": b"VIRUS", "spam": b"SPAM REJECT", "attach": b"ATTACH", "regex": b"REGEX"}


def run(site: Site, verdict: str, error_fd: int = 4):  # type: ignore[no-untyped-def]
    return site.run(
        MESSAGE,
        ENV,
        env=site.env(FORCED_VERDICT=verdict),
        command=forced_command(),
        error_fd=error_fd,
    )


@pytest.mark.parametrize("verdict", list(TEXTS))
def test_refusal_without_custom_reject_is_31(site: Site, verdict: str) -> None:
    out = run(site, verdict)
    assert out.exit_code == 31
    assert out.custom_text == b""
    assert out.records == []
    assert out.workdirs_left == []
    (line,) = out.log_lines
    fields = parse_log(line)
    assert fields["state"] == STATES[verdict.split(":")[0]]
    assert fields["detail"] == verdict.split(":")[1].encode()


@pytest.mark.parametrize("fd", [4, 6])
@pytest.mark.parametrize("verdict", list(TEXTS))
def test_custom_reject_text_on_the_configured_fd(site: Site, verdict: str, fd: int) -> None:
    site.configure(custom_smtp_reject=True, custom_error_fd=fd)
    out = run(site, verdict, error_fd=fd)
    assert out.exit_code == 82
    assert out.custom_text == TEXTS[verdict]  # no newline
    assert out.records == []
    assert out.workdirs_left == []


def test_custom_text_is_cut_at_255_bytes(site: Site) -> None:
    site.configure(custom_smtp_reject=True)
    out = run(site, "virus:" + "W" * 400)
    assert out.exit_code == 82
    assert len(out.custom_text) == 255
    assert out.custom_text.startswith(b"DYour email was rejected because it contains the WWW")


def test_unpatched_qmail_smtpd_gets_a_permanent_31(site: Site) -> None:
    # custom reject on fd 6, but this qmail-smtpd only opened fd 4.
    site.configure(custom_smtp_reject=True, custom_error_fd=6)
    out = run(site, "virus:EICAR", error_fd=4)
    assert out.exit_code == 31
    assert out.custom_text == b""


@pytest.mark.parametrize("kind", ["virus", "spam"])
def test_dropmsg_accepts_and_does_not_queue(site: Site, kind: str) -> None:
    site.configure(dropmsg=True, custom_smtp_reject=True)  # dropmsg wins
    out = run(site, f"{kind}:X:12.00")
    assert out.exit_code == 0
    assert out.custom_text == b""
    assert out.records == []
    assert out.workdirs_left == []
    (line,) = out.log_lines
    assert parse_log(line)["state"] == {"virus": b"VIRUS DROPPED", "spam": b"SPAM DROPPED"}[kind]


def test_dropmsg_does_not_drop_attachments(site: Site) -> None:
    site.configure(dropmsg=True)
    out = run(site, "attach:x.exe")
    assert out.exit_code == 31


def test_refusal_keeps_work_dir_with_debug_files(site: Site) -> None:
    out = site.run(
        MESSAGE,
        ENV,
        env=site.env(FORCED_VERDICT="virus:X", SIMSCAN_DEBUG_FILES="1"),
        command=forced_command(),
    )
    assert out.exit_code == 31
    assert len(out.workdirs_left) == 1


def test_delivering_verdicts_queue(site: Site) -> None:
    out = run(site, "passthru:Buy now")
    assert out.exit_code == 0
    assert [r.message for r in out.records] == [MESSAGE]
    (line,) = out.log_lines
    assert parse_log(line)["state"] == b"PASSTHRU"


def test_custom_text_carries_no_line_breaks(site: Site) -> None:
    site.configure(custom_smtp_reject=True)
    out = run(site, "attach:evil\r\n250 ok.exe")
    assert out.exit_code == 82
    assert out.custom_text == (
        b"DYour email was rejected because it contains a bad attachment: evil  250 ok.exe"
    )
