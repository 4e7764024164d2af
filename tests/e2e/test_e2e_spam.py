"""End to end: spam scanning through a real spamd (Debian's spamd, started
once per session by tests/daemons.py), spoken to directly and through
spamc as the C simscan did.

GTUBE is SpamAssassin's real test rule (1000 points).  The clean sample
scores a few points from header rules, under the default 5.0.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from daemons import GTUBE, STRICT_USER, HungServer, ReplyServer, Spamd, refused_socket
from harness import Site, envelope
from test_e2e_basic import parse_log

ENV = envelope(b"sender@example.com", b"rcpt@example.net")
SPAM = (
    b"From: sender@example.com\n"
    b"To: rcpt@example.net\n"
    b"Subject: Cheap: watches\n"
    b"Message-ID: <gtube@example.com>\n"
    b"\n" + GTUBE + b"\n"
)
CLEAN = (
    b"From: sender@example.com\n"
    b"To: rcpt@example.net\n"
    b"Subject: Lunch: Thursday?\n"
    b"Message-ID: <lunch@example.com>\n"
    b"\n"
    b"Shall we meet at noon?\n"
)
TRIPLE = re.compile(rb"^([A-Z ]+) \((\d+\.\d\d)/(\d+\.\d\d)/(\d+\.\d\d)\)$")
CLIENTS = ["spamd", "spamc"]


def scanning(site: Site, daemon: Spamd, /, client: str = "spamd", **values: object) -> None:
    """Spam scanning on, through spamd directly or through spamc -U."""
    if client == "spamc":
        values.setdefault("spamc_args", f"-U {daemon.socket}")
        values["spam_client"] = "spamc"
    else:
        values.setdefault("spamd", str(daemon.socket))
    site.configure(spam=True, **values)


def only_log(out) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    (line,) = out.log_lines
    return parse_log(line)


def triple(out) -> tuple[bytes, float, float, float]:  # type: ignore[no-untyped-def]
    m = TRIPLE.match(only_log(out)["state"])
    assert m, only_log(out)
    return m.group(1), float(m.group(2)), float(m.group(3)), float(m.group(4))


# --- verdicts, in both modes -----------------------------------------------------


@pytest.mark.parametrize("client", CLIENTS)
def test_gtube_is_refused(site: Site, spamd: Spamd, client: str) -> None:
    scanning(site, spamd, client)
    out = site.run(SPAM, ENV)
    assert out.exit_code == 31
    assert out.records == []
    state, score, required, threshold = triple(out)
    assert state == b"SPAM REJECT"
    assert score >= 1000 and required == 5.0 and threshold == 5.0
    assert only_log(out)["detail"] == b"Cheap_ watches"
    assert out.workdirs_left == []


@pytest.mark.parametrize("client", CLIENTS)
def test_gtube_custom_reject_text(site: Site, spamd: Spamd, client: str) -> None:
    scanning(site, spamd, client, custom_smtp_reject=True)
    out = site.run(SPAM, ENV)
    assert out.exit_code == 82
    _, score, _, _ = triple(out)
    assert out.custom_text == b"DYour email is considered spam (%.2f spam-hits)" % score


@pytest.mark.parametrize("client", CLIENTS)
def test_clean_message_is_queued_with_spamassassins_headers(
    site: Site, spamd: Spamd, client: str
) -> None:
    scanning(site, spamd, client)
    out = site.run(CLEAN, ENV)
    assert out.exit_code == 0
    (record,) = out.records
    assert b"X-Spam-Checker-Version: SpamAssassin" in record.message
    assert b"X-Spam-Status: No, score=" in record.message
    assert record.message.endswith(b"\n\nShall we meet at noon?\n")
    state, score, required, threshold = triple(out)
    assert state == b"CLEAN"
    assert score < required == threshold == 5.0
    assert only_log(out)["detail"] == b"Lunch_ Thursday?"


@pytest.mark.parametrize("client", CLIENTS)
def test_threshold_above_the_score_passes_flagged_spam(
    site: Site, spamd: Spamd, client: str
) -> None:
    scanning(site, spamd, client, spam_hits=5000.0)
    out = site.run(SPAM, ENV)
    assert out.exit_code == 0
    state, score, _, threshold = triple(out)
    assert (state, threshold) == (b"SPAM PASS", 5000.0)
    assert score >= 1000
    (record,) = out.records
    assert b"X-Spam-Flag: YES" in record.message


@pytest.mark.parametrize("client", CLIENTS)
def test_threshold_below_the_score_refuses_what_spamassassin_passes(
    site: Site, spamd: Spamd, client: str
) -> None:
    scanning(site, spamd, client, spam_hits=0.1)
    out = site.run(CLEAN, ENV)
    state, score, _, threshold = triple(out)
    assert score >= 0.1, "the clean sample must score something for this test"
    assert (state, threshold) == (b"SPAM REJECT", 0.1)
    assert out.exit_code == 31


@pytest.mark.parametrize("client", CLIENTS)
def test_passthru_delivers_spam_tagged(site: Site, spamd: Spamd, client: str) -> None:
    scanning(site, spamd, client, spam_passthru=True)
    out = site.run(SPAM, ENV)
    assert out.exit_code == 0
    assert triple(out)[0] == b"PASSTHRU"
    (record,) = out.records
    assert b"X-Spam-Flag: YES" in record.message


def test_a_threshold_disables_passthru(site: Site, spamd: Spamd) -> None:
    scanning(site, spamd, spam_passthru=True, spam_hits=10.0)
    out = site.run(SPAM, ENV)
    assert out.exit_code == 31
    assert triple(out)[0] == b"SPAM REJECT"


@pytest.mark.parametrize("client", CLIENTS)
def test_dropmsg(site: Site, spamd: Spamd, client: str, tmp_path: Path) -> None:
    quarantine = tmp_path / "quarantine"
    quarantine.mkdir()
    scanning(site, spamd, client, dropmsg=True, quarantinedir=str(quarantine))
    out = site.run(SPAM, ENV)
    assert out.exit_code == 0
    assert out.records == []
    assert triple(out)[0] == b"SPAM DROPPED"
    (entry,) = quarantine.iterdir()
    assert b"X-Spam-Flag: YES" in (entry / "message").read_bytes()  # the processed one


def test_dropmsg_with_passthru_delivers(site: Site, spamd: Spamd) -> None:
    scanning(site, spamd, dropmsg=True, spam_passthru=True)
    out = site.run(SPAM, ENV)
    assert out.exit_code == 0
    assert len(out.records) == 1
    assert triple(out)[0] == b"PASSTHRU"


def test_refused_spam_is_quarantined(site: Site, spamd: Spamd, tmp_path: Path) -> None:
    quarantine = tmp_path / "quarantine"
    quarantine.mkdir()
    scanning(site, spamd, quarantinedir=str(quarantine))
    assert site.run(SPAM, ENV).exit_code == 31
    (entry,) = quarantine.iterdir()
    assert b"SPAM REJECT" in (entry / "verdict").read_bytes()


def test_per_domain_spam_switch_and_hits(site: Site, spamd: Spamd) -> None:
    scanning(site, spamd, per_domain=True)
    site.simcontrol(":spam=yes\nexample.net:spam=no\nexample.org:spam_hits=5000\n")
    assert site.run(SPAM, ENV).exit_code == 0  # example.net: spam=no
    assert only_log(site.run(SPAM, ENV))["state"] == b"CLEAN"  # no triple: not scanned
    out = site.run(SPAM, envelope(b"s@example.com", b"r@example.org"))
    assert triple(out)[0] == b"SPAM PASS"  # per-domain threshold
    out = site.run(SPAM, envelope(b"s@example.com", b"r@example.info"))
    assert out.exit_code == 31


# --- skips --------------------------------------------------------------------------


def test_size_limit_skips_spam_scanning(site: Site, spamd: Spamd) -> None:
    scanning(site, spamd, size_limit=len(SPAM))
    out = site.run(SPAM, ENV)
    assert out.exit_code == 0
    assert [r.message for r in out.records] == [SPAM]  # unscanned, as sent
    assert only_log(out)["state"] == b"CLEAN"
    assert out.notes == [
        f"spam not scanned: {len(SPAM)} bytes is at or above size_limit {len(SPAM)}".encode()
    ]
    scanning(site, spamd, size_limit=len(SPAM) + 1)
    assert site.run(SPAM, ENV).exit_code == 31


def test_per_domain_size_limit(site: Site, spamd: Spamd) -> None:
    scanning(site, spamd, per_domain=True)
    site.simcontrol(f":spam=yes\nexample.net:size_limit={len(SPAM)}\n")
    assert site.run(SPAM, ENV).exit_code == 0
    assert site.run(SPAM, envelope(b"s@example.com", b"r@example.org")).exit_code == 31


def test_relayclient_skips_spam_scanning(site: Site, spamd: Spamd) -> None:
    scanning(site, spamd)
    out = site.run(SPAM, ENV, env=site.env(RELAYCLIENT=""))
    assert out.exit_code == 0
    assert [r.message for r in out.records] == [SPAM]
    fields = only_log(out)
    assert fields["state"] == b"RELAYCLIENT"
    assert fields["detail"] == b"Cheap_ watches"


def test_spam_auth_user_scans_relayclients_too(site: Site, spamd: Spamd) -> None:
    scanning(site, spamd, spam_auth_user=True)
    out = site.run(SPAM, ENV, env=site.env(RELAYCLIENT=""))
    assert out.exit_code == 31


# --- per-user preferences ------------------------------------------------------------


def test_spamuser_reaches_spamd(site: Site, spamd: Spamd) -> None:
    """Per-domain spamuser, with one recipient: spamd applies that user's
    preferences (required_score 1.0), so the clean sample is flagged."""
    if not spamd.per_user:
        pytest.skip("per-user preferences need spamd started as root")
    scanning(site, spamd, per_domain=True)
    site.simcontrol(f":spam=yes\nexample.net:spamuser={STRICT_USER}\n")
    out = site.run(CLEAN, ENV)
    assert out.exit_code == 31
    _, score, required, _ = triple(out)
    assert required == 1.0 and score >= 1.0
    # Two recipients: spamuser does not apply (and spamc_user is off).
    out = site.run(CLEAN, envelope(b"s@example.com", b"a@example.net", b"b@example.net"))
    assert out.exit_code == 0


@pytest.mark.parametrize("client", CLIENTS)
def test_spamc_user_sends_the_first_recipient(site: Site, spamd: Spamd, client: str) -> None:
    scanning(site, spamd, client, spamc_user=True)
    rcpt = f"first-{client}@example.net"
    out = site.run(CLEAN, envelope(b"s@example.com", rcpt.encode(), b"second@example.net"))
    assert out.exit_code == 0
    deadline = time.monotonic() + 10
    while f"for {rcpt}:" not in spamd.log_text() and time.monotonic() < deadline:
        time.sleep(0.1)  # spamd's children write their log lines as they go
    assert f"processing message <lunch@example.com> for {rcpt}:" in spamd.log_text()


# --- spamd down, hung, garbage: safe fallback or strict ---------------------------


@pytest.mark.parametrize("client", CLIENTS)
def test_spamd_down_queues_unscanned_by_default(
    site: Site, spamd: Spamd, client: str, tmp_path: Path
) -> None:
    down = refused_socket(tmp_path / "down.sock")
    scanning(site, spamd, client, spamd=str(down), spamc_args=f"-U {down}")
    out = site.run(SPAM, ENV)
    assert out.exit_code == 0
    assert [r.message for r in out.records] == [SPAM]  # the original, unscanned
    assert only_log(out)["state"] == b"CLEAN"
    (warning,) = out.warnings
    assert b"queued without a spam scan" in warning
    if client == "spamd":
        assert f"spamd {down} connection refused".encode() in warning


@pytest.mark.parametrize(
    ("client", "strict"),
    [("spamd", {"spam_fail_tempfail": True}), ("spamc", {"spam_fail_tempfail": True}),
     ("spamd", "-x"), ("spamc", "-x")],
)  # fmt: skip
def test_spamd_down_strict_is_temporary(
    site: Site, spamd: Spamd, client: str, strict: object, tmp_path: Path
) -> None:
    down = refused_socket(tmp_path / "down.sock")
    values: dict[str, object] = {"spamd": str(down), "spamc_args": f"-U {down}"}
    if strict == "-x":
        values["spamc_args"] = f"-x -U {down}"
    else:
        assert isinstance(strict, dict)
        values.update(strict)
    scanning(site, spamd, client, **values)
    out = site.run(SPAM, ENV)
    assert out.exit_code == 71
    assert out.records == []
    assert only_log(out)["state"] == b"ERROR 71"


def test_hung_spamd_times_out(site: Site, spamd: Spamd, tmp_path: Path) -> None:
    hung = HungServer(tmp_path / "hung.sock")
    try:
        scanning(site, spamd, spamd=str(hung.path), spamd_timeout=1)
        began = time.monotonic()
        out = site.run(SPAM, ENV)
        took = time.monotonic() - began
        scanning(site, spamd, spamd=str(hung.path), spamd_timeout=1, spam_fail_tempfail=True)
        strict = site.run(SPAM, ENV)
    finally:
        hung.close()
    assert took < 10  # the 1 s budget, not the 120 s default
    assert out.exit_code == 0
    assert [r.message for r in out.records] == [SPAM]
    assert f"spamd {hung.path} timed out".encode() in out.warnings[0]
    assert strict.exit_code == 71
    assert f"spamd {hung.path} timed out".encode() in only_log(strict)["detail"]


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.0 400 Bad Request\r\n\r\n",
        b"SPAMD/1.1 76 Bad header line: (Content-Length mismatch)\r\n\r\n",
        b"SPAMD/1.1 0 EX_OK\r\nContent-length: 500\r\nSpam: False ; 0.0 / 5.0\r\n\r\nshort",
        b"SPAMD/1.1 0 EX_OK\r\nContent-length: 2\r\n\r\nok",
        b"",
    ],
)
def test_garbage_from_spamd(site: Site, spamd: Spamd, tmp_path: Path, reply: bytes) -> None:
    server = ReplyServer(tmp_path / "odd.sock", reply)
    try:
        scanning(site, spamd, spamd=str(server.path), spam_fail_tempfail=True)
        out = site.run(SPAM, ENV)
    finally:
        server.close()
    assert out.exit_code == 71
    assert out.records == []
    assert f"spamd {server.path} ".encode() in only_log(out)["detail"]


def test_failover_to_the_second_spamd(site: Site, spamd: Spamd, tmp_path: Path) -> None:
    down = refused_socket(tmp_path / "down.sock")
    scanning(site, spamd, spamd=[str(down), spamd.tcp])
    assert site.run(SPAM, ENV).exit_code == 31


def test_endpoint_from_spamc_args(site: Site, spamd: Spamd) -> None:
    """No `spamd` setting: the C configuration's spamc_args say where."""
    site.configure(spam=True, spamc_args=f'-U "{spamd.socket}"')
    assert site.run(SPAM, ENV).exit_code == 31
    site.configure(spam=True, spamc_args=f"-d 127.0.0.1 -p {spamd.port}")
    assert site.run(SPAM, ENV).exit_code == 31


def test_received_line_names_spam_with_its_version(site: Site, spamd: Spamd) -> None:
    scanning(site, spamd, received=True)
    done = site.simscanmk("-g")
    assert done.returncode == 0, done.stderr
    out = site.run(CLEAN, ENV)
    (record,) = out.records
    assert re.search(rb"\(scanners: spam: \d+\.\d+\.\d+\);", record.message.split(b"\n")[1])


def test_virus_beats_spam(site: Site, spamd: Spamd, clamd) -> None:  # type: ignore[no-untyped-def]
    from test_e2e_virus import EICAR_MAIL

    scanning(site, spamd, clamav=True, clamd=str(clamd.socket))
    out = site.run(EICAR_MAIL.replace(b"See attached.", GTUBE), ENV)
    assert out.exit_code == 31
    assert only_log(out)["state"] == b"VIRUS"  # one line, no spam triple


@pytest.mark.parametrize("client", CLIENTS)
def test_no_final_newline_and_a_long_answer(site: Site, spamd: Spamd, client: str) -> None:
    """spamd reads by lines: a message without a final newline must still be
    answered at once (the request's end is signalled), and answers far
    longer than one read come back whole."""
    scanning(site, spamd, client, spamd_timeout=20)
    out = site.run(SPAM.rstrip(b"\n"), ENV)
    assert out.exit_code == 31
    assert out.warnings == []
    body = b"".join(b"paragraph %05d of the minutes, nothing to see\n" % i for i in range(4000))
    long = CLEAN + body
    out = site.run(long, ENV, env=site.env())
    (record,) = out.records
    assert record.message.endswith(body)
    assert b"X-Spam-Status: " in record.message
    assert out.warnings == []


# --- what the review of the spam change found -------------------------------------


@pytest.mark.parametrize("client", CLIENTS)
def test_full_disk_while_writing_the_processed_message_is_temporary(
    site: Site, spamd: Spamd, client: str
) -> None:
    """RLIMIT_FSIZE (50 KB) stands in for a full work dir: the message fits,
    spamd's processed version (the report around it) does not.  That must be
    71, never the message queued cut short or unscanned."""
    from harness import simscan_command

    scanning(site, spamd, client)
    big = SPAM + b"x" * 70 + b"\n" + b"filler line of the spam message\n" * 1570
    assert 50_000 < len(big) < 50 * 1024
    command = ["/bin/bash", "-c", 'ulimit -f 50; exec "$0"', *simscan_command()]
    out = site.run(big, ENV, command=command)
    assert out.exit_code == 71, out.stderr
    assert out.records == []
    assert b"cannot write" in only_log(out)["detail"]
    assert out.workdirs_left == []


@pytest.mark.parametrize("strict", [False, True])
def test_spamc_mode_never_takes_the_senders_x_spam_headers(
    site: Site, spamd: Spamd, tmp_path: Path, strict: bool
) -> None:
    """spamd down: spamc's safe fallback would hand back the message as it
    came, X-Spam-* headers and all; those are not a verdict."""
    down = refused_socket(tmp_path / "down.sock")
    forged = b"X-Spam-Flag: YES\nX-Spam-Status: Yes, score=12.0 required=5.0\n" + CLEAN
    scanning(site, spamd, "spamc", spamc_args=f"-U {down}", spam_fail_tempfail=strict)
    out = site.run(forged, ENV)
    if strict:
        assert out.exit_code == 71
        assert out.records == []
    else:
        assert out.exit_code == 0
        assert [r.message for r in out.records] == [forged]
        assert only_log(out)["state"] == b"CLEAN"  # no triple: not scanned
        assert b"queued without a spam scan" in out.warnings[0]


def test_spamc_mode_scans_past_spamcs_own_size_cap(site: Site, spamd: Spamd) -> None:
    """spamc passes anything over its -s (500 KB) unscanned; size_limit is
    the one cap, so a 600 KB message under it is scanned."""
    body = b"line of a long but innocent report\n" * 18000
    message = CLEAN + body
    assert 600_000 < len(message) < 700_000
    scanning(site, spamd, "spamc", size_limit=2_000_000, spamd_timeout=60)
    out = site.run(message, ENV)
    assert out.exit_code == 0, out.stderr
    (record,) = out.records
    assert b"X-Spam-Status: " in record.message
    assert record.message.endswith(body)


def test_user_from_spamc_args_and_its_order(site: Site, spamd: Spamd) -> None:
    """As in C: spamc_args' -u is the user unless spamc_user gives the
    recipient (spamc takes the last -u); the direct mode does the same."""
    for client in CLIENTS:
        scanning(site, spamd, client, spamc_args=f"-u vpop-{client} -U {spamd.socket}")
        site.run(CLEAN, ENV)
        scanning(
            site, spamd, client, spamc_args=f"-u vpop-{client} -U {spamd.socket}", spamc_user=True
        )
        site.run(CLEAN, envelope(b"s@example.com", f"rcpt-{client}@example.net".encode()))
    deadline = time.monotonic() + 10
    wanted = [f"for {who}:" for c in CLIENTS for who in (f"vpop-{c}", f"rcpt-{c}@example.net")]
    while not all(w in spamd.log_text() for w in wanted) and time.monotonic() < deadline:
        time.sleep(0.1)
    log = spamd.log_text()
    assert all(w in log for w in wanted), [w for w in wanted if w not in log]


@pytest.mark.parametrize("args", ["-c", "-R -U /tmp/s.sock", "-e /bin/cat"])
def test_spamc_args_that_change_what_spamc_prints_are_a_config_error(site: Site, args: str) -> None:
    site.configure(spam=True, spamc_args=args)
    out = site.run(CLEAN, ENV)
    assert out.exit_code == 71
    assert b"setting spamc_args" in only_log(out)["detail"]


def test_failover_is_reported(site: Site, spamd: Spamd, tmp_path: Path) -> None:
    down = refused_socket(tmp_path / "down.sock")
    scanning(site, spamd, spamd=[str(down), str(spamd.socket)])
    out = site.run(SPAM, ENV)
    assert out.exit_code == 31
    (warning,) = out.warnings
    assert warning == f"spamd {down} connection refused; {spamd.socket} answered instead".encode()


def test_spamc_mode_fails_over_between_d_hosts(site: Site, spamd: Spamd) -> None:
    """-x turns off spamc's own failover, so simscan runs spamc per host."""
    hosts = f"-d 127.0.0.2,127.0.0.1 -p {spamd.port}"  # spamd is on 127.0.0.1 only
    scanning(site, spamd, "spamc", spamc_args=hosts)
    out = site.run(SPAM, ENV)
    assert out.exit_code == 31
    (warning,) = out.warnings
    assert warning.startswith(f"spamc 127.0.0.2 port {spamd.port} exited ".encode())
    assert warning.endswith(f"127.0.0.1 port {spamd.port} answered instead".encode())


def test_an_error_line_has_no_spam_triple(site: Site, spamd: Spamd) -> None:
    """qmail-queue failing after a spam scan: `ERROR 81`, not a spam state."""
    scanning(site, spamd)
    out = site.run(CLEAN, ENV, env=site.env(QQ_EXIT="81"))
    assert out.exit_code == 81
    assert only_log(out)["state"] == b"ERROR 81"


@pytest.mark.parametrize(("merge", "refused"), [("last", False), ("strictest", True)])
def test_policy_merge_and_a_recipient_without_spam_hits(
    site: Site, spamd: Spamd, merge: str, refused: bool
) -> None:
    # strict.example refuses what SpamAssassin flags (no spam_hits); lax
    # refuses at 2000 points only.  GTUBE (1000 points) is flagged.
    scanning(site, spamd, per_domain=True, policy_merge=merge)
    site.simcontrol(":spam=yes\nlax.example:spam_hits=2000\n")
    two = envelope(b"sender@example.com", b"ann@strict.example", b"bob@lax.example")
    out = site.run(SPAM, two)
    assert out.exit_code == (31 if refused else 0), out.stderr
    state, score, _required, threshold = triple(out)
    assert state == (b"SPAM REJECT" if refused else b"SPAM PASS")
    assert score >= 1000
    assert threshold == (5.0 if refused else 2000.0)
