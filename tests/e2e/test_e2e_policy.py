"""End to end: attachment blocking, regex filters, per-domain policy and
quarantine, through the installed simscan and simscanmk."""

from __future__ import annotations

import base64
import tomllib
from pathlib import Path

import pytest
from harness import HERE, Outcome, Site, envelope, tinycdb
from test_e2e_basic import parse_log

from simscan import __version__

CORPUS = HERE / "data" / "attachments"
EXPECTED = tomllib.loads((CORPUS / "expected.toml").read_text())
ENV = envelope(b"Sender@Example.COM", b"joe-list@example.com")


def with_attachment(name: str, body: bytes = b"MZ fake program") -> bytes:
    quoted = name.replace('"', '\\"')
    return (
        b"From: sender@example.com\n"
        b"To: joe@example.com\n"
        b"Subject: the files\n"
        b"MIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="b1"\n'
        b"\n"
        b"--b1\n"
        b"Content-Type: text/plain\n"
        b"\n"
        b"See attached.\n"
        b"--b1\n"
        b"Content-Type: application/octet-stream\n"
        b"Content-Transfer-Encoding: base64\n"
        b'Content-Disposition: attachment; filename="' + quoted.encode() + b'"\n'
        b"\n" + base64.encodebytes(body) + b"--b1--\n"
    )


def only(out: Outcome) -> dict[str, bytes]:
    (line,) = out.log_lines
    return parse_log(line)


def refused(out: Outcome, state: bytes, detail: bytes) -> None:
    assert out.exit_code == 31, out.stderr
    assert out.records == []
    assert out.workdirs_left == []
    fields = only(out)
    assert fields["state"] == state
    assert fields["detail"] == detail


def test_blocked_attachment_from_ssattach(site: Site) -> None:
    (site.control / "ssattach").write_text(".exe\n.scr\n")
    site.configure(attach=True)
    refused(site.run(with_attachment("Invoice.EXE"), ENV), b"ATTACH", b"Invoice.EXE")


def test_allowed_attachment_is_queued_with_received_line(site: Site) -> None:
    (site.control / "ssattach").write_text(".exe\n")
    site.configure(attach=True, received=True, clamav=False)
    message = with_attachment("report.pdf")
    out = site.run(message, ENV)
    assert out.exit_code == 0, out.stderr
    (record,) = out.records
    assert record.message.endswith(message)
    assert f"(scanners: attach: {__version__})".encode() in record.message.split(b"\n")[1]
    assert only(out)["state"] == b"CLEAN"


def test_custom_reject_names_the_attachment(site: Site) -> None:
    (site.control / "ssattach").write_text(".exe\n")
    site.configure(attach=True, custom_smtp_reject=True)
    out = site.run(with_attachment("r\u00e9sum\u00e9.exe"), ENV)
    assert out.exit_code == 82
    expected = "DYour email was rejected because it contains a bad attachment: r\u00e9sum\u00e9.exe"
    assert out.custom_text == expected.encode()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_message_blocked_by_its_last_name_or_passed(site: Site, name: str) -> None:
    """Every corpus message, malformed ones included, gets a verdict: the
    last name it carries blocks it; one with no name is queued intact."""
    names = EXPECTED[name]["names"]
    ending = names[-1].rstrip(". ").rsplit(".", 1)[-1].lower() if names else "exe"
    (site.control / "ssattach").write_text(f".{ending}\n")
    site.configure(attach=True)
    out = site.run(CORPUS / name, ENV)
    assert out.workdirs_left == []
    if names:
        assert out.exit_code == 31, out.stderr
        assert only(out)["state"] == b"ATTACH"
    else:
        assert out.exit_code == 0, out.stderr
        assert out.records[0].message == (CORPUS / name).read_bytes()


REGEX_MESSAGE = (
    b"From: sender@example.com\n"
    b"Subject: cheap pills\n"
    b"\n"
    b"Buy Viagra now\n" + b"x" * 600 + b" hidden-after-500\n"
)


def test_regex_match_refuses_with_its_index(site: Site) -> None:
    site.configure(per_domain=True, regex=True, clamav=False)
    site.simcontrol(":regex=nomatch:Viagra\n")
    refused(site.run(REGEX_MESSAGE, ENV), b"REGEX", b"#1")


def test_regex_sees_only_the_first_500_bytes_of_a_line(site: Site) -> None:
    site.configure(per_domain=True, regex=True, clamav=False)
    site.simcontrol(":regex=hidden-after-500\n")
    out = site.run(REGEX_MESSAGE, ENV)
    assert out.exit_code == 0
    assert only(out)["state"] == b"CLEAN"


def test_regex_custom_text(site: Site) -> None:
    site.configure(per_domain=True, regex=True, clamav=False, custom_smtp_reject=True)
    site.simcontrol(":regex=^Subject.*pills\n")
    out = site.run(REGEX_MESSAGE, ENV)
    assert out.exit_code == 82
    assert out.custom_text == b"DYour email was rejected because it matches a filter (#0)"


def test_an_invalid_regex_is_skipped_with_a_warning(site: Site) -> None:
    # simscanmk refuses it, so the cdb is made as the C simscanmk would.
    tinycdb(site.control / "simcontrol.cdb", [(b"", b"regex=(unclosed:Viagra")])
    site.configure(per_domain=True, regex=True, clamav=False)
    out = site.run(REGEX_MESSAGE, ENV)
    refused(out, b"REGEX", b"#1")  # the bad pattern keeps its index
    (warning,) = out.warnings
    assert warning.startswith(b"regex #0 '(unclosed' does not compile")


def test_regex_needs_the_global_switch(site: Site) -> None:
    site.configure(per_domain=True, clamav=False)
    site.simcontrol(":regex=Viagra\n")
    assert site.run(REGEX_MESSAGE, ENV).exit_code == 0


def test_per_domain_extension_rule(site: Site) -> None:
    site.configure(per_domain=True, attach=True, clamav=False)
    site.simcontrol(
        ":attach=.zip\n"
        "example.com:attach=.exe\n"
        "joe-list@example.com:attach=.pdf\n"  # the most specific entry wins
    )
    message = with_attachment("report.pdf")
    refused(site.run(message, ENV), b"ATTACH", b"report.pdf")
    out = site.run(message, envelope(b"s@example.com", b"joe@example.com"))
    assert out.exit_code == 0
    out = site.run(with_attachment("x.exe"), envelope(b"s@example.com", b"joe@example.com"))
    assert out.exit_code == 31


def test_per_domain_no_entry_scans_nothing(site: Site) -> None:
    site.configure(per_domain=True, attach=True, clamav=False)
    site.simcontrol("other.example:attach=.exe\n")
    assert site.run(with_attachment("x.exe"), ENV).exit_code == 0


def test_per_domain_qmailqueue(site: Site) -> None:
    script = site.root / "other-queue"
    marker = site.root / "marker"
    script.write_text(f"#!/bin/sh\ncat >/dev/null\necho used > {marker}\n")
    script.chmod(0o755)
    site.configure(per_domain=True, clamav=False)
    site.simcontrol(f"example.com:qmailqueue={script}\n")
    out = site.run(b"Subject: hi\n\nbody\n", ENV)
    assert out.exit_code == 0
    assert marker.read_text() == "used\n"
    assert out.records == []  # the site's recorder was not used


def test_per_domain_without_a_cdb_is_a_temporary_failure(site: Site) -> None:
    site.configure(per_domain=True)
    out = site.run(b"Subject: hi\n\nbody\n", ENV)
    assert out.exit_code == 71
    fields = only(out)
    assert fields["state"] == b"ERROR 71"
    assert b"simcontrol.cdb not found (per_domain is on; run simscanmk)" in fields["detail"]
    assert out.workdirs_left == []


def test_bad_pairs_in_a_foreign_cdb_are_warned_about(site: Site) -> None:
    tinycdb(site.control / "simcontrol.cdb", [(b"", b"avira=yes,attach=.exe")])
    site.configure(per_domain=True, attach=True, clamav=False)
    out = site.run(with_attachment("x.exe"), ENV)
    assert out.exit_code == 31
    (warning,) = out.warnings
    assert b"simcontrol.cdb entry '': unknown name 'avira'" in warning


def test_quarantine_keeps_message_envelope_and_verdict(site: Site, tmp_path: Path) -> None:
    quarantine = tmp_path / "quarantine"
    quarantine.mkdir()
    (site.control / "ssattach").write_text(".exe\n")
    site.configure(attach=True, quarantinedir=str(quarantine))
    message = with_attachment("x.exe")
    out = site.run(message, ENV, env=site.env(TCPREMOTEIP="192.0.2.7"))
    refused(out, b"ATTACH", b"x.exe")
    (entry,) = quarantine.iterdir()
    assert sorted(p.name for p in entry.iterdir()) == ["envelope", "message", "verdict"]
    assert (entry / "message").read_bytes() == message
    assert (entry / "envelope").read_bytes() == ENV
    verdict = parse_log((entry / "verdict").read_bytes().rstrip(b"\n"))
    assert (verdict["state"], verdict["detail"], verdict["ip"]) == (
        b"ATTACH",
        b"x.exe",
        b"192.0.2.7",
    )
    assert out.warnings == []


def test_quarantine_regex_refusals_too(site: Site, tmp_path: Path) -> None:
    quarantine = tmp_path / "quarantine"
    quarantine.mkdir()
    site.configure(per_domain=True, regex=True, clamav=False, quarantinedir=str(quarantine))
    site.simcontrol(":regex=Viagra\n")
    assert site.run(REGEX_MESSAGE, ENV).exit_code == 31
    (entry,) = quarantine.iterdir()
    assert (entry / "message").read_bytes() == REGEX_MESSAGE


def test_clean_messages_are_not_quarantined(site: Site, tmp_path: Path) -> None:
    quarantine = tmp_path / "quarantine"
    quarantine.mkdir()
    site.configure(quarantinedir=str(quarantine), clamav=False)
    assert site.run(b"Subject: hi\n\nbody\n", ENV).exit_code == 0
    assert list(quarantine.iterdir()) == []


def test_quarantine_failure_is_a_warning_not_a_change(site: Site, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir"
    (site.control / "ssattach").write_text(".exe\n")
    site.configure(attach=True, quarantinedir=str(missing), custom_smtp_reject=True)
    out = site.run(with_attachment("x.exe"), ENV)
    assert out.exit_code == 82
    (warning,) = out.warnings
    assert warning == f"cannot quarantine in {missing} (No such file or directory)".encode()
    assert out.workdirs_left == []


def too_many_boundaries() -> bytes:
    depth = 1001  # one more boundary than simscan keeps
    head = b"".join(
        b'Content-Type: multipart/mixed; boundary="n%05d"\n\n--n%05d\n' % (i, i)
        for i in range(depth)
    )
    tail = b"".join(b"\n--n%05d--\n" % i for i in reversed(range(depth)))
    return head + b"Content-Type: a/b; name=deep.txt\n\nx" + tail


def test_a_limit_reached_in_the_walk_refuses_the_message(site: Site) -> None:
    """Fail closed: what could not be looked at may hold a blocked name."""
    (site.control / "ssattach").write_text(".exe\n")
    site.configure(attach=True, custom_smtp_reject=True)
    out = site.run(too_many_boundaries(), ENV)
    assert out.exit_code == 82
    assert out.custom_text == (
        b"DYour email was rejected because its MIME structure is too complex to check"
    )
    log = only(out)
    assert log["state"] == b"ATTACH"
    assert (
        log["detail"]
        == b"MIME structure too complex to check (more than 1000 multipart boundaries)"
    )
    assert out.records == []


def test_a_limit_reached_in_the_walk_with_pass_is_a_warning(site: Site) -> None:
    (site.control / "ssattach").write_text(".exe\n")
    site.configure(attach=True, mime_over_limit="pass")
    out = site.run(too_many_boundaries(), ENV)
    assert out.exit_code == 0
    (warning,) = out.warnings
    assert warning == (
        b"attachment check stopped at a limit (more than 1000 multipart boundaries); "
        b"names there not checked"
    )
    assert len(out.records) == 1


# --- policy_merge and file types (issue 13) ------------------------------------------

# example.com has no entry of its own: the default's list is its protection.
LAX_SIMCONTROL = ":attach=.exe:.scr\nlax.example:attach=.zip\n"
TO_BOTH = envelope(b"s@sender.example", b"joe@example.com", b"bob@lax.example")


@pytest.mark.parametrize(
    ("merge", "env"),
    [
        ("last", TO_BOTH),
        ("last", envelope(b"s@sender.example", b"bob@lax.example", b"joe@example.com")),
    ],
    ids=["lax last", "lax first"],
)
def test_policy_merge_last_a_lax_recipient_lets_it_through(
    site: Site, merge: str, env: bytes
) -> None:
    site.configure(per_domain=True, attach=True, policy_merge=merge)
    site.simcontrol(LAX_SIMCONTROL)
    out = site.run(with_attachment("x.exe"), env)
    assert out.exit_code == 0, out.stderr
    assert len(out.records) == 1
    assert only(out)["state"] == b"CLEAN"


def test_policy_merge_strictest_keeps_the_others_protection(site: Site) -> None:
    site.configure(per_domain=True, attach=True, policy_merge="strictest")
    site.simcontrol(LAX_SIMCONTROL)
    refused(site.run(with_attachment("x.exe"), TO_BOTH), b"ATTACH", b"x.exe")
    # The lax domain's own list applies too, and alone it is what it was.
    refused(site.run(with_attachment("y.zip"), TO_BOTH), b"ATTACH", b"y.zip")
    alone = envelope(b"s@sender.example", b"bob@lax.example")
    assert site.run(with_attachment("x.exe"), alone).exit_code == 0


def test_block_types_need_no_attach_switch(site: Site) -> None:
    """A program named report.pdf, refused by what it is."""
    from samples import PE

    site.configure(block_types=["executable"], custom_smtp_reject=True)
    out = site.run(with_attachment("report.pdf", PE), ENV)
    assert out.exit_code == 82, out.stderr
    assert out.custom_text == (
        b"DYour email was rejected because it contains a bad attachment: report.pdf (executable)"
    )
    assert only(out)["detail"] == b"report.pdf (executable)"


def test_types_per_domain_and_strictest(site: Site) -> None:
    from samples import PE

    site.configure(per_domain=True, block_types=["executable"], policy_merge="strictest")
    site.simcontrol("lax.example:types=:\n")
    message = with_attachment("report.pdf", PE)
    alone = envelope(b"s@sender.example", b"bob@lax.example")
    assert site.run(message, alone).exit_code == 0  # types=: turns them off there
    site.clear_queue()
    refused(site.run(message, TO_BOTH), b"ATTACH", b"report.pdf (executable)")
    site.configure(per_domain=True, block_types=["executable"], policy_merge="last")
    assert site.run(message, TO_BOTH).exit_code == 0
