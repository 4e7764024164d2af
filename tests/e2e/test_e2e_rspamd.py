"""End to end: rspamd as the spam engine, through a real rspamd (Debian's
rspamd, started once per session with an offline configuration by
tests/daemons.py), and fakes only for what rspamd will not do on demand
(a hang, garbage, a reset mid-answer).

rspamd's own GTUBE variants give reject, add header, rewrite subject and
no action; the test rules give a chosen score (`score=N` in the Subject),
soft reject and greylist (force_actions), and say in rspamd's log what
rspamd was told (SIMSCAN_ECHO).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from daemons import (
    DKIM_DOMAIN,
    DKIM_SELECTOR,
    RSPAMD_GTUBE,
    STRICT_SETTINGS,
    HttpReplyServer,
    HungServer,
    ReplyServer,
    ResetServer,
    Rspamd,
    refused_socket,
)
from harness import Site, envelope
from test_e2e_basic import parse_log

ENV = envelope(b"sender@example.com", b"rcpt@example.net")
TRIPLE = re.compile(rb"^([A-Z ]+) \((-?\d+\.\d\d)/(\d+\.\d\d)/(\d+\.\d\d)\)$")
CLIENT = {"TCPREMOTEIP": "192.0.2.7", "TCPREMOTEHOST": "mail.example.net"}


def message(subject: str = "Lunch", body: bytes = b"Shall we meet at noon?\n") -> bytes:
    return (
        b"Received: from mail.example.net (192.0.2.7) by mx.example.net\n"
        b"From: Sender <sender@example.com>\n"
        b"To: rcpt@example.net\n"
        b"Subject: " + subject.encode() + b"\n"
        b"Date: Sat, 05 Dec 2026 13:00:00 +0000\n"
        b"Message-ID: <m1@example.com>\n"
        b"X-Spam-Status: No, score=-100 (the sender's own)\n"
        b"X-Spam-Flag: NO\n"
        b"X-Spamd-Bar: (the sender's own)\n"
        b"\n" + body
    )


def gtube(action: str) -> bytes:
    return message("Cheap: watches", RSPAMD_GTUBE[action] + b"\n")


def scanning(site: Site, daemon: Rspamd, /, **values: object) -> None:
    values.setdefault("rspamd", str(daemon.socket))
    site.configure(spam=True, spam_client="rspamd", **values)


def run(site: Site, msg: bytes, env: bytes = ENV, **extra: str):  # type: ignore[no-untyped-def]
    site.clear_queue()
    return site.run(msg, env, env=site.env(**{**CLIENT, **extra}))


def triple(out) -> tuple[bytes, float, float, float]:  # type: ignore[no-untyped-def]
    (line,) = out.log_lines
    m = TRIPLE.match(parse_log(line)["state"])
    assert m, line
    return m.group(1), float(m.group(2)), float(m.group(3)), float(m.group(4))


def header_block(record_message: bytes) -> list[bytes]:
    return record_message.partition(b"\n\n")[0].split(b"\n")


def told(daemon: Rspamd, queue_id: bytes) -> str:
    """What rspamd's log says it was told for this queue id (SIMSCAN_ECHO)."""
    needle = f"qid: <{queue_id.decode()}>"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for line in daemon.log.read_text(errors="replace").splitlines():
            if needle in line and "SIMSCAN_ECHO" in line:
                return line
        time.sleep(0.05)
    raise AssertionError(f"no rspamd log line for {needle}")


def queue_id(record_message: bytes) -> bytes:
    m = re.search(rb"\nX-Rspamd-Queue-Id: (\S+)\n", record_message)
    assert m, record_message
    return m.group(1)


# --- actions -------------------------------------------------------------------


def test_no_action_is_clean_with_rspamds_header_changes(site: Site, rspamd: Rspamd) -> None:
    scanning(site, rspamd)
    msg = message()
    out = run(site, msg)
    assert out.exit_code == 0, out.stderr
    state, score, required, threshold = triple(out)
    assert state == b"CLEAN" and required == threshold == 15.0 and score < 6
    (record,) = out.records
    head = header_block(record.message)
    # The sender's X-Spam-* lines are gone; ours says No; rspamd's milter
    # block removed the sender's X-Spamd-Bar and added its own.
    assert [h for h in head if h.startswith(b"X-Spam-Flag")] == []
    (status,) = [h for h in head if h.startswith(b"X-Spam-Status")]
    assert status.startswith(b"X-Spam-Status: No, score=")
    assert b"required=15.0" in status
    (bar,) = [h for h in head if h.startswith(b"X-Spamd-Bar")]
    assert b"sender's own" not in bar
    # Only the header block changed: the body is the file's, byte for byte.
    assert record.message.endswith(b"\n\nShall we meet at noon?\n")
    assert head[0].startswith(b"Received: from mail.example.net")
    assert out.workdirs_left == []


def test_reject_is_refused_as_spam(site: Site, rspamd: Rspamd) -> None:
    scanning(site, rspamd)
    out = run(site, gtube("reject"))
    assert out.exit_code == 31
    assert out.records == []
    assert triple(out) == (b"SPAM REJECT", 15.0, 15.0, 15.0)
    assert parse_log(out.log_lines[0])["detail"] == b"Cheap_ watches"


def test_reject_uses_rspamds_own_text(site: Site, rspamd: Rspamd) -> None:
    scanning(site, rspamd, custom_smtp_reject=True)
    out = run(site, gtube("reject"))
    assert (out.exit_code, out.custom_text) == (82, b"DGtube pattern")


def test_reject_by_score_has_the_spec_text(site: Site, rspamd: Rspamd) -> None:
    scanning(site, rspamd, custom_smtp_reject=True)
    out = run(site, message("score=30"))
    state, score, _, _ = triple(out)
    assert state == b"SPAM REJECT" and score >= 30
    assert out.custom_text == b"DYour email is considered spam (%.2f spam-hits)" % score


def test_add_header_delivers_flagged(site: Site, rspamd: Rspamd) -> None:
    scanning(site, rspamd)
    out = run(site, gtube("add header"))
    assert out.exit_code == 0
    assert triple(out)[0] == b"SPAM PASS"
    (record,) = out.records
    head = header_block(record.message)
    assert b"X-Spam-Flag: YES" in head
    assert any(h.startswith(b"X-Spam-Status: Yes, score=6.0 required=15.0") for h in head)


def test_rewrite_subject_takes_rspamds_subject(site: Site, rspamd: Rspamd) -> None:
    scanning(site, rspamd)
    out = run(site, gtube("rewrite subject"))
    assert out.exit_code == 0
    assert triple(out)[0] == b"SPAM PASS"
    (record,) = out.records
    head = header_block(record.message)
    assert b"Subject: *** SPAM *** Cheap: watches" in head
    assert b"Subject: Cheap: watches" not in head
    assert b"X-Spam-Flag: YES" in head


@pytest.mark.parametrize(
    ("subject", "text"),
    [("soft-reject-me", b"ZSlow down, try later"), ("greylist-me", b"ZTry again later")],
)
def test_soft_reject_and_greylist_are_temporary(
    site: Site, rspamd: Rspamd, subject: str, text: bytes
) -> None:
    scanning(site, rspamd, custom_smtp_reject=True)
    out = run(site, message(subject))
    assert (out.exit_code, out.custom_text) == (82, text)
    assert triple(out)[0] == b"SPAM DEFER"
    assert out.records == []
    scanning(site, rspamd)
    out = run(site, message(subject))
    assert out.exit_code == 71
    assert out.records == []


def test_a_deferral_without_the_custom_error_fd_stays_temporary(site: Site, rspamd: Rspamd) -> None:
    scanning(site, rspamd, custom_smtp_reject=True, custom_error_fd=5)
    out = run(site, message("greylist-me"))
    assert out.exit_code == 71
    assert triple(out)[0] == b"SPAM DEFER"


def test_our_flag_is_above_what_ends_the_header_for_some_readers(
    site: Site, rspamd: Rspamd
) -> None:
    """A line that is no field (or a lone CR, a blank line to Python's
    email) ends the header for some readers: simscan's X-Spam lines go
    above it, after the trace fields, and rspamd's additions too."""
    import email

    scanning(site, rspamd)
    for junk in (b"This is not a header\n", b"X-Junk: a\r\r\n"):
        msg = message("score=7").replace(b"Message-ID:", junk + b"Message-ID:")
        out = run(site, msg)
        (record,) = out.records
        parsed = email.message_from_bytes(record.message)
        assert parsed["X-Spam-Flag"] == "YES", record.message
        assert parsed["X-Spam-Status"].startswith("Yes, score=")
        assert parsed["X-Rspamd-Queue-Id"]
        head = header_block(record.message)
        assert head[1] == b"X-Spam-Flag: YES"  # right after the Received line


def test_dropmsg_does_not_drop_a_deferral(site: Site, rspamd: Rspamd) -> None:
    scanning(site, rspamd, dropmsg=True)
    assert run(site, message("soft-reject-me")).exit_code == 71
    out = run(site, gtube("reject"))
    assert out.exit_code == 0 and out.records == []
    assert triple(out)[0] == b"SPAM DROPPED"


# --- simscan's own spam settings -------------------------------------------------


def test_spam_hits_refuses_at_its_score_whatever_the_action(site: Site, rspamd: Rspamd) -> None:
    scanning(site, rspamd, spam_hits=5.0)
    out = run(site, message("score=7"))
    state, score, required, threshold = triple(out)
    assert (state, required, threshold) == (b"SPAM REJECT", 15.0, 5.0)
    assert score >= 7
    assert out.exit_code == 31


def test_spam_hits_over_rspamds_reject_delivers_flagged(site: Site, rspamd: Rspamd) -> None:
    scanning(site, rspamd, spam_hits=50.0)
    out = run(site, gtube("reject"))
    assert out.exit_code == 0
    assert triple(out) == (b"SPAM PASS", 15.0, 15.0, 50.0)
    (record,) = out.records
    assert b"X-Spam-Flag: YES" in record.message
    assert b"required=50.0" in record.message


def test_passthru_delivers_rejected_mail_tagged(site: Site, rspamd: Rspamd) -> None:
    scanning(site, rspamd, spam_passthru=True)
    out = run(site, gtube("reject"))
    assert out.exit_code == 0
    assert triple(out)[0] == b"PASSTHRU"
    (record,) = out.records
    assert b"\nX-Spam-Flag: YES\n" in record.message


def test_size_limit_skips_the_scan_with_a_note(site: Site, rspamd: Rspamd) -> None:
    scanning(site, rspamd, size_limit=100)
    out = run(site, gtube("reject"))
    assert out.exit_code == 0
    assert out.notes and b"size_limit 100" in out.notes[0]
    (record,) = out.records
    assert record.message == gtube("reject")


# --- what rspamd is told ---------------------------------------------------------


def test_request_headers_reach_rspamd(site: Site, rspamd: Rspamd) -> None:
    scanning(site, rspamd, spamc_user=True)
    env = envelope(b"sender@example.com", b"rcpt@example.net", b"other@example.net")
    out = run(site, message(), env, SMTPAUTHUSER="alice")
    (record,) = out.records
    qid = queue_id(record.message)
    line = told(rspamd, qid)
    assert "from=sender@example.com;" in line
    assert "rcpt=rcpt@example.net,other@example.net;" in line
    assert "ip=192.0.2.7;" in line
    assert "hostname=mail.example.net;" in line
    assert "user=alice;" in line
    assert "deliver_to=rcpt@example.net;" in line
    assert "settings_id=-;" in line
    assert qid.count(b".") == 2  # the work dir's name: sec.usec.pid


def test_tcpremoteinfo_is_the_user_only_for_relayclient(site: Site, rspamd: Rspamd) -> None:
    scanning(site, rspamd, spam_auth_user=True)
    out = run(site, message(), TCPREMOTEINFO="bob", RELAYCLIENT="")
    assert "user=bob;" in told(rspamd, queue_id(out.records[0].message))
    out = run(site, message(), TCPREMOTEINFO="bob")
    assert "user=-;" in told(rspamd, queue_id(out.records[0].message))


def test_per_domain_spamuser_and_settings_id(site: Site, rspamd: Rspamd) -> None:
    scanning(site, rspamd, per_domain=True)
    site.simcontrol(
        f"example.net:spam=yes,spamuser=postmaster,rspamd_settings={STRICT_SETTINGS}\n"
        "example.org:spam=yes\n"
        "example.info:spam=no\n"
    )
    out = run(site, message("score=6"))
    # The strict settings' reject threshold is 5.0: refused there.
    state, _, required, _ = triple(out)
    assert (state, required, out.exit_code) == (b"SPAM REJECT", 5.0, 31)
    out = run(site, message("score=1"))
    line = told(rspamd, queue_id(out.records[0].message))
    assert f"settings_id={STRICT_SETTINGS};" in line
    assert "deliver_to=postmaster;" in line
    out = run(site, message("score=6"), envelope(b"s@example.com", b"r@example.org"))
    assert triple(out)[0] == b"SPAM PASS"  # add header at 6 without the settings id
    out = run(site, gtube("reject"), envelope(b"s@example.com", b"r@example.info"))
    assert out.exit_code == 0
    assert parse_log(out.log_lines[0])["state"] == b"CLEAN"  # not scanned


# --- rspamd not answering --------------------------------------------------------


def test_failover_past_a_dead_endpoint(site: Site, rspamd: Rspamd, tmp_path: Path) -> None:
    dead = refused_socket(tmp_path / "dead.sock")
    scanning(site, rspamd, rspamd=[str(dead), rspamd.tcp])
    out = run(site, gtube("reject"))
    assert out.exit_code == 31
    (warning,) = out.warnings
    assert warning == (
        b"rspamd %s connection refused; 127.0.0.1 port %d answered instead"
        % (str(dead).encode(), rspamd.port)
    )


def test_down_is_queued_unscanned_or_temporary(site: Site, tmp_path: Path) -> None:
    dead = refused_socket(tmp_path / "dead.sock")
    site.configure(spam=True, spam_client="rspamd", rspamd=str(dead))
    out = run(site, gtube("reject"))
    assert out.exit_code == 0
    (warning,) = out.warnings
    assert warning == (
        b"rspamd %s connection refused; queued without a spam scan"
        b" (spam_fail_tempfail is off)" % str(dead).encode()
    )
    assert out.records[0].message == gtube("reject")
    site.configure(spam=True, spam_client="rspamd", rspamd=str(dead), spam_fail_tempfail=True)
    out = run(site, gtube("reject"))
    assert out.exit_code == 71 and out.records == []
    assert parse_log(out.log_lines[0])["state"] == b"ERROR 71"


def test_hung_rspamd_times_out(site: Site, tmp_path: Path) -> None:
    hung = HungServer(tmp_path / "hung.sock")
    try:
        site.configure(spam=True, spam_client="rspamd", rspamd=str(hung.path), rspamd_timeout=0.5)
        started = time.monotonic()
        out = run(site, message())
        assert time.monotonic() - started < 10
        assert out.exit_code == 0
        assert out.warnings[0].startswith(b"rspamd %s timed out" % str(hung.path).encode())
    finally:
        hung.close()


@pytest.mark.parametrize(
    ("reply", "said"),
    [
        (b"garbage\r\n\r\n", b"unexpected answer b'garbage'"),
        (
            b"HTTP/1.1 500 Internal\r\nContent-Length: 59\r\n\r\n"
            b'{"error":"invalid command","error_domain":"protocol-error"}',
            b"answered HTTP 500 (invalid command)",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nnot json",
            b"answer is not JSON b'not json'",
        ),
        (
            b'HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n{"action":"panic","score":1.0}',
            b"unknown action 'panic'",
        ),
    ],
)
def test_garbage_is_queued_unscanned_with_a_warning(
    site: Site, tmp_path: Path, reply: bytes, said: bytes
) -> None:
    server = HttpReplyServer(tmp_path / "bad.sock", reply)
    try:
        site.configure(spam=True, spam_client="rspamd", rspamd=str(server.path))
        out = run(site, message())
        assert out.exit_code == 0
        (warning,) = out.warnings
        assert said in warning, warning
        assert out.records[0].message == message()
    finally:
        server.close()


def test_reset_mid_answer(site: Site, tmp_path: Path) -> None:
    server = ResetServer(tmp_path / "reset.sock", b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n")
    try:
        site.configure(
            spam=True, spam_client="rspamd", rspamd=str(server.path), spam_fail_tempfail=True
        )
        out = run(site, message())
        assert out.exit_code == 71
        assert b"rspamd" in parse_log(out.log_lines[0])["detail"]
    finally:
        server.close()


# --- outgoing mail: DKIM ---------------------------------------------------------


def verify_dkim(daemon: Rspamd, signed: bytes) -> bool:
    import dkim

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == f"{DKIM_SELECTOR}._domainkey.{DKIM_DOMAIN}.".encode(), name
        return daemon.dkim_txt

    return bool(dkim.verify(signed.replace(b"\n", b"\r\n"), dnsfunc=dns))


def test_outbound_mail_is_signed(site: Site, rspamd: Rspamd) -> None:
    scanning(site, rspamd, rspamd_outbound=True, received=True)
    out = run(site, message(), RELAYCLIENT="", SMTPAUTHUSER="sender@example.com")
    assert out.exit_code == 0, out.stderr
    state, _, _, _ = triple(out)
    assert state == b"RELAYCLIENT"
    (record,) = out.records
    head = header_block(record.message)
    assert head[0].startswith(b"Received: (simscan ")
    assert head[2].startswith(b"DKIM-Signature: v=1; a=rsa-sha256;")
    assert f"d={DKIM_DOMAIN}; s={DKIM_SELECTOR};".encode() in head[2]
    # No X-Spam-* of ours on outgoing mail; the sender's stay (not ours to judge).
    assert b"X-Spam-Status: No, score=-100 (the sender's own)" in head
    assert verify_dkim(rspamd, record.message)
    tampered = record.message.replace(b"Shall we meet", b"Shall we not meet")
    assert not verify_dkim(rspamd, tampered)


def test_outbound_is_signed_whatever_the_per_domain_spam_switch(site: Site, rspamd: Rspamd) -> None:
    scanning(site, rspamd, rspamd_outbound=True, per_domain=True, size_limit=10)
    site.simcontrol(":spam=no\n")
    out = run(site, message(), RELAYCLIENT="", SMTPAUTHUSER="sender@example.com")
    (record,) = out.records
    assert record.message.startswith(b"DKIM-Signature: ")
    assert verify_dkim(rspamd, record.message)


def test_relayclient_without_outbound_is_not_scanned(site: Site, rspamd: Rspamd) -> None:
    scanning(site, rspamd)
    out = run(site, gtube("reject"), RELAYCLIENT="", SMTPAUTHUSER="sender@example.com")
    assert out.exit_code == 0
    assert parse_log(out.log_lines[0])["state"] == b"RELAYCLIENT"
    assert out.records[0].message == gtube("reject")


def test_outbound_spam_is_still_refused_by_rspamds_action(site: Site, rspamd: Rspamd) -> None:
    scanning(site, rspamd, rspamd_outbound=True, spam_hits=100.0, spam_passthru=True)
    out = run(site, gtube("reject"), RELAYCLIENT="", SMTPAUTHUSER="sender@example.com")
    assert out.exit_code == 31
    assert triple(out) == (b"SPAM REJECT", 15.0, 15.0, 15.0)


# --- versions --------------------------------------------------------------------


def test_simscanmk_records_rspamds_version_for_the_received_line(
    site: Site, rspamd: Rspamd
) -> None:
    scanning(site, rspamd, received=True)
    done = site.simscanmk("-g")
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    out = run(site, message())
    received = out.records[0].message.split(b"\n")[1]
    assert re.match(rb" \(scanners: spam: rspamd \d+\.\d+\)", received), received


def test_simscanmk_warns_when_rspamd_does_not_answer(site: Site, tmp_path: Path) -> None:
    dead = refused_socket(tmp_path / "dead.sock")
    site.configure(spam=True, spam_client="rspamd", rspamd=str(dead))
    done = site.simscanmk("-g")
    assert done.returncode == 1
    assert done.stderr.startswith(b"simscanmk: no rspamd version found (no endpoint")


def test_an_early_answer_is_read(site: Site, tmp_path: Path) -> None:
    """rspamd answering an error before it read the whole message (the
    fake reads a little and answers): its words, not a broken pipe."""
    reply = b"HTTP/1.1 413 Too Large\r\nContent-Length: 2\r\n\r\n{}"
    server = ReplyServer(tmp_path / "early.sock", reply)
    try:
        site.configure(
            spam=True, spam_client="rspamd", rspamd=str(server.path), size_limit=10_000_000
        )
        out = run(site, message(body=b"x" * 4_000_000 + b"\n"))
        assert out.exit_code == 0
        (warning,) = out.warnings
        assert b"answered HTTP 413 before it had the whole message" in warning, warning
    finally:
        server.close()
