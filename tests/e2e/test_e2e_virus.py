"""End to end: virus scanning through a real clamd (and a fake Trophie).

The session's clamd (tests/daemons.py) has a generated database that knows
the EICAR string and the clamav-testfiles clam.exe, and a StreamMaxLength
of 1 MiB.  Faults clamd will not produce on demand (a daemon that accepts
and never answers, garbage) come from small socket servers.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest
from daemons import (
    CLAM_MAIL,
    CLAM_NAME,
    EICAR,
    EICAR_NAME,
    STREAM_MAX,
    Clamd,
    HungServer,
    ReplyServer,
    TrophieServer,
    refused_socket,
)
from harness import Site, envelope
from test_e2e_basic import parse_log

ENV = envelope(b"sender@example.com", b"rcpt@example.net")
CLEAN = (
    b"From: sender@example.com\n"
    b"To: rcpt@example.net\n"
    b"Subject: Quarterly figures\n"
    b"\n"
    b"Nothing to see here.\n"
)


def with_attachment(
    data: bytes, name: str = "eicar.com", text: bytes = b"See attached.\n"
) -> bytes:
    encoded = base64.encodebytes(data)
    return (
        b"From: sender@example.com\n"
        b"To: rcpt@example.net\n"
        b"Subject: Your invoice\n"
        b"MIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="b1"\n'
        b"\n"
        b"--b1\n"
        b"Content-Type: text/plain\n"
        b"\n" + text + b"--b1\n"
        b"Content-Type: application/octet-stream; name=" + name.encode() + b"\n"
        b"Content-Transfer-Encoding: base64\n"
        b"Content-Disposition: attachment; filename=" + name.encode() + b"\n"
        b"\n" + encoded + b"--b1--\n"
    )


EICAR_MAIL = with_attachment(EICAR)
# Over the test clamd's StreamMaxLength, the virus at the very end.
LONG_TEXT = b"".join(
    b"line %07d of a long report, nothing in it at all\n" % i for i in range(30000)
)
assert len(LONG_TEXT) > STREAM_MAX
LONG_EICAR_MAIL = with_attachment(EICAR, text=LONG_TEXT)


def scanning(site: Site, daemon: Clamd, /, **values: object) -> None:
    values.setdefault("clamd", str(daemon.socket))
    site.configure(clamav=True, clamavdb_path=str(daemon.db), **values)


def only_log(out) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    (line,) = out.log_lines
    return parse_log(line)


# --- verdicts from a real clamd ----------------------------------------------


def test_eicar_attachment_is_refused_with_its_name(site: Site, clamd: Clamd) -> None:
    scanning(site, clamd)
    out = site.run(EICAR_MAIL, ENV)
    assert out.exit_code == 31
    assert out.records == []
    fields = only_log(out)
    assert fields["state"] == b"VIRUS"
    assert fields["detail"] == EICAR_NAME.encode()
    assert out.workdirs_left == []


def test_eicar_custom_reject_text(site: Site, clamd: Clamd) -> None:
    scanning(site, clamd, custom_smtp_reject=True)
    out = site.run(EICAR_MAIL, ENV)
    assert out.exit_code == 82
    text = f"DYour email was rejected because it contains the {EICAR_NAME} virus"
    assert out.custom_text == text.encode()


def test_clam_mail_test_message_is_refused(site: Site, clamd: Clamd) -> None:
    scanning(site, clamd)
    out = site.run(CLAM_MAIL.read_bytes(), ENV)
    assert out.exit_code == 31
    assert only_log(out)["detail"] == CLAM_NAME.encode()


def test_clean_message_is_queued_unchanged(site: Site, clamd: Clamd) -> None:
    scanning(site, clamd)
    out = site.run(CLEAN, ENV)
    assert out.exit_code == 0
    assert [r.message for r in out.records] == [CLEAN]
    fields = only_log(out)
    assert fields["state"] == b"CLEAN"
    assert fields["detail"] == b"Quarterly figures"
    assert out.workdirs_left == []


def test_tcp_endpoint(site: Site, clamd: Clamd) -> None:
    scanning(site, clamd, clamd=clamd.tcp)
    assert site.run(EICAR_MAIL, ENV).exit_code == 31
    assert site.run(CLEAN, ENV).exit_code == 0


def test_endpoint_from_clamd_conf(site: Site, clamd: Clamd) -> None:
    """No `clamd` setting: LocalSocket from clamd.conf, as clamdscan does."""
    site.configure(clamav=True, clamd_conf=str(clamd.conf))
    out = site.run(EICAR_MAIL, ENV)
    assert out.exit_code == 31
    assert only_log(out)["detail"] == EICAR_NAME.encode()


def test_dropmsg_accepts_and_drops_and_quarantines(
    site: Site, clamd: Clamd, tmp_path: Path
) -> None:
    quarantine = tmp_path / "quarantine"
    quarantine.mkdir()
    scanning(site, clamd, dropmsg=True, custom_smtp_reject=True, quarantinedir=str(quarantine))
    out = site.run(EICAR_MAIL, ENV)
    assert out.exit_code == 0
    assert out.records == []
    assert out.custom_text == b""
    assert only_log(out)["state"] == b"VIRUS DROPPED"
    (entry,) = quarantine.iterdir()
    assert (entry / "message").read_bytes() == EICAR_MAIL
    assert b"VIRUS DROPPED" in (entry / "verdict").read_bytes()


def test_per_domain_clam_switch(site: Site, clamd: Clamd) -> None:
    scanning(site, clamd, per_domain=True)
    site.simcontrol(":clam=yes\nexample.net:clam=no\n")
    assert site.run(EICAR_MAIL, ENV).exit_code == 0  # example.net: clam=no
    out = site.run(EICAR_MAIL, envelope(b"sender@example.com", b"rcpt@example.org"))
    assert out.exit_code == 31


def test_received_line_names_clamav_with_its_recorded_version(site: Site, clamd: Clamd) -> None:
    scanning(site, clamd, received=True)
    done = site.simscanmk("-g")
    assert done.returncode == 0, done.stderr
    engine = clamd.ask(b"VERSION").decode().split()[1].split("/")[0]
    out = site.run(CLEAN, ENV)
    (record,) = out.records
    first = record.message.split(b"\n")[1]
    assert f"(scanners: clamav: {engine});".encode() in first
    assert record.message.endswith(CLEAN)


# --- clamd down, hung, failing: temporary failure; failover ------------------


def test_clamd_down_is_temporary_and_queues_nothing(
    site: Site, clamd: Clamd, tmp_path: Path
) -> None:
    down = refused_socket(tmp_path / "down.sock")
    scanning(site, clamd, clamd=str(down))
    out = site.run(EICAR_MAIL, ENV)
    assert out.exit_code == 71
    assert out.records == []
    fields = only_log(out)
    assert fields["state"] == b"ERROR 71"
    assert f"clamd {down} connection refused".encode() in fields["detail"]
    assert out.workdirs_left == []


def test_missing_socket_is_temporary(site: Site, clamd: Clamd, tmp_path: Path) -> None:
    scanning(site, clamd, clamd=str(tmp_path / "nothing-here.sock"))
    out = site.run(CLEAN, ENV)
    assert out.exit_code == 71
    assert b"no such socket" in only_log(out)["detail"]


def test_hung_clamd_times_out_as_configured(site: Site, clamd: Clamd, tmp_path: Path) -> None:
    hung = HungServer(tmp_path / "hung.sock")
    try:
        scanning(site, clamd, clamd=str(hung.path), clamd_timeout=1)
        began = time.monotonic()
        out = site.run(EICAR_MAIL, ENV)
        took = time.monotonic() - began
    finally:
        hung.close()
    assert out.exit_code == 71
    assert out.records == []
    assert f"clamd {hung.path} timed out".encode() in only_log(out)["detail"]
    assert took < 10  # the 1 s budget, plus start-up; not the 120 s default


@pytest.mark.parametrize(
    "reply", [b"stream: Can't allocate memory ERROR\0", b"HTTP/1.0 400 Bad Request\r\n\r\n", b""]
)
def test_error_or_garbage_reply_is_temporary(
    site: Site, clamd: Clamd, tmp_path: Path, reply: bytes
) -> None:
    server = ReplyServer(tmp_path / "odd.sock", reply)
    try:
        scanning(site, clamd, clamd=str(server.path))
        out = site.run(EICAR_MAIL, ENV)
    finally:
        server.close()
    assert out.exit_code == 71
    assert out.records == []
    assert f"clamd {server.path} ".encode() in only_log(out)["detail"]


def test_failover_to_the_second_endpoint(site: Site, clamd: Clamd, tmp_path: Path) -> None:
    down = refused_socket(tmp_path / "down.sock")
    scanning(site, clamd, clamd=[str(down), str(clamd.socket)])
    out = site.run(EICAR_MAIL, ENV)
    assert out.exit_code == 31
    assert only_log(out)["detail"] == EICAR_NAME.encode()
    assert site.run(CLEAN, ENV).exit_code == 0


def test_failover_past_a_hung_endpoint(site: Site, clamd: Clamd, tmp_path: Path) -> None:
    hung = HungServer(tmp_path / "hung.sock")
    try:
        scanning(site, clamd, clamd=[str(hung.path), clamd.tcp], clamd_timeout=1)
        out = site.run(EICAR_MAIL, ENV, env=site.env(SIMSCAN_DEBUG="1"))
    finally:
        hung.close()
    assert out.exit_code == 31
    assert f"clamd {hung.path}: timed out".encode() in out.stderr


def test_all_endpoints_failing_lists_each(site: Site, clamd: Clamd, tmp_path: Path) -> None:
    a = refused_socket(tmp_path / "a.sock")
    b = tmp_path / "b.sock"
    scanning(site, clamd, clamd=f"{a}, {b}")
    detail = only_log(site.run(CLEAN, ENV))["detail"]
    assert f"clamd {a} connection refused; {b} no such socket".encode() in detail


def test_unreadable_clamd_conf_is_temporary(site: Site, tmp_path: Path) -> None:
    site.configure(clamav=True, clamd_conf=str(tmp_path / "no-clamd.conf"))
    out = site.run(CLEAN, ENV)
    assert out.exit_code == 71
    detail = only_log(out)["detail"]
    assert (
        f"clamd cannot read {tmp_path}/no-clamd.conf (No such file or directory)".encode() in detail
    )


# --- over clamd's StreamMaxLength --------------------------------------------


@pytest.mark.parametrize("how", ["clamd setting", "clamd.conf"])
def test_over_stream_max_is_scanned_by_passing_the_file(site: Site, clamd: Clamd, how: str) -> None:
    """clamd refuses the stream; the open file is passed (FILDES) instead,
    and the virus at the end of the 1.5 MB message is found.  (With the
    endpoint from clamd.conf simscan knows the limit and goes straight to
    FILDES; with the setting it learns it from clamd's answer.)"""
    if how == "clamd.conf":
        site.configure(clamav=True, clamd_conf=str(clamd.conf))
    else:
        scanning(site, clamd)
    out = site.run(LONG_EICAR_MAIL, ENV)
    assert out.exit_code == 31
    assert only_log(out)["detail"] == EICAR_NAME.encode()
    assert out.warnings == []


def test_over_stream_max_pass_setting_queues_with_a_warning(site: Site, clamd: Clamd) -> None:
    scanning(site, clamd, clamd_over_limit="pass", received=True)
    out = site.run(LONG_EICAR_MAIL, ENV)
    assert out.exit_code == 0
    (record,) = out.records
    assert record.message.endswith(LONG_EICAR_MAIL)
    assert b"(scanners: none)" in record.message.split(b"\n")[1]  # not scanned: not listed
    (warning,) = out.warnings
    assert b"over clamd's StreamMaxLength; not virus-scanned" in warning
    assert only_log(out)["state"] == b"CLEAN"


def test_over_stream_max_on_tcp_cannot_pass_the_file(site: Site, clamd: Clamd) -> None:
    scanning(site, clamd, clamd=clamd.tcp)
    out = site.run(LONG_EICAR_MAIL, ENV)
    assert out.exit_code == 0
    (warning,) = out.warnings
    assert b"FILDES needs a unix socket" in warning


def test_under_the_limit_long_message_is_streamed(site: Site, clamd: Clamd) -> None:
    half = LONG_TEXT[: LONG_TEXT.rfind(b"\n", 0, STREAM_MAX // 2) + 1]
    message = with_attachment(EICAR, text=half)
    scanning(site, clamd, clamd_over_limit="pass")
    out = site.run(message, ENV)
    assert out.exit_code == 31
    assert out.warnings == []


# --- clamdscan compatibility mode ---------------------------------------------


def test_clamdscan_mode_finds_the_virus(site: Site, clamd: Clamd) -> None:
    site.configure(clamav=True, clamav_client="clamdscan", clamd_conf=str(clamd.conf))
    out = site.run(EICAR_MAIL, ENV)
    assert out.exit_code == 31
    assert only_log(out)["detail"] == EICAR_NAME.encode()


def test_clamdscan_mode_clean(site: Site, clamd: Clamd) -> None:
    site.configure(clamav=True, clamav_client="clamdscan", clamd_conf=str(clamd.conf))
    out = site.run(CLEAN, ENV)
    assert out.exit_code == 0
    assert [r.message for r in out.records] == [CLEAN]


def test_clamdscan_mode_clamd_down_is_temporary(site: Site, tmp_path: Path) -> None:
    conf = tmp_path / "down.conf"
    conf.write_text(f"LocalSocket {refused_socket(tmp_path / 'down.sock')}\n")
    site.configure(clamav=True, clamav_client="clamdscan", clamd_conf=str(conf))
    out = site.run(CLEAN, ENV)
    assert out.exit_code == 71
    assert out.records == []
    assert b"clamdscan exited 2" in only_log(out)["detail"]


def test_clamdscan_missing_is_temporary(site: Site, tmp_path: Path) -> None:
    site.configure(clamav=True, clamav_client="clamdscan", clamdscan=str(tmp_path / "nope"))
    out = site.run(CLEAN, ENV)
    assert out.exit_code == 71
    assert b"cannot run" in only_log(out)["detail"]


# --- Trophie / Sophie (fake server: the real ones cannot be installed) ---------


@pytest.fixture
def trophie(tmp_path: Path):  # type: ignore[no-untyped-def]
    server = TrophieServer(tmp_path / "trophie.sock")
    yield server
    server.close()


def test_trophie_virus_in_a_decoded_part(site: Site, trophie: TrophieServer) -> None:
    site.configure(trophie_socket=str(trophie.path))
    message = with_attachment(b"MZ...TROPHIE-TEST-VIRUS...", name="setup.bin")
    out = site.run(message, ENV)
    assert out.exit_code == 31
    assert only_log(out)["detail"] == b"Trophie.Test.Virus"
    (request,) = trophie.requests
    # The daemon saw the work dir with the decoded parts as files; the
    # marker is only in the base64 part, so it was decoded.
    assert b"MZ...TROPHIE-TEST-VIRUS..." in request.files.values()
    assert b"See attached.\n" in request.files.values()
    assert out.workdirs_left == []


def test_trophie_clean(site: Site, trophie: TrophieServer) -> None:
    site.configure(trophie_socket=str(trophie.path))
    out = site.run(CLEAN, ENV)
    assert out.exit_code == 0
    assert [r.message for r in out.records] == [CLEAN]


def test_trophie_error_answer_is_temporary(site: Site, trophie: TrophieServer) -> None:
    site.configure(trophie_socket=str(trophie.path))
    out = site.run(with_attachment(b"TROPHIE-TEST-ERROR"), ENV)
    assert out.exit_code == 71
    assert out.records == []
    assert f"trophie {trophie.path} answered -1".encode() in only_log(out)["detail"]


def test_trophie_down_is_temporary(site: Site, tmp_path: Path) -> None:
    site.configure(trophie_socket=str(refused_socket(tmp_path / "t.sock")))
    out = site.run(CLEAN, ENV)
    assert out.exit_code == 71
    assert b"connection refused" in only_log(out)["detail"]


def test_trophie_hung_times_out(site: Site, tmp_path: Path) -> None:
    hung = HungServer(tmp_path / "t.sock")
    try:
        site.configure(trophie_socket=str(hung.path), trophie_timeout=1)
        out = site.run(CLEAN, ENV)
    finally:
        hung.close()
    assert out.exit_code == 71
    assert b"timed out" in only_log(out)["detail"]


def test_trophie_per_domain_switch(site: Site, trophie: TrophieServer) -> None:
    site.configure(trophie_socket=str(trophie.path), per_domain=True)
    site.simcontrol(":trophie=yes\nexample.net:trophie=no\n")
    virus = with_attachment(b"TROPHIE-TEST-VIRUS")
    assert site.run(virus, ENV).exit_code == 0
    assert site.run(virus, envelope(b"s@example.com", b"r@example.org")).exit_code == 31


def test_clamav_first_then_trophie(site: Site, clamd: Clamd, trophie: TrophieServer) -> None:
    scanning(site, clamd, trophie_socket=str(trophie.path))
    out = site.run(EICAR_MAIL, ENV)
    assert only_log(out)["detail"] == EICAR_NAME.encode()
    assert trophie.requests == []  # clamd's refusal ended the scan
    out = site.run(with_attachment(b"TROPHIE-TEST-VIRUS"), ENV)
    assert only_log(out)["detail"] == b"Trophie.Test.Virus"


def test_over_stream_max_with_the_unix_clamd_down_is_temporary(
    site: Site, clamd: Clamd, tmp_path: Path
) -> None:
    """The TCP clamd cannot take the file; the unix one could, but is down:
    passing the message unscanned would depend on an outage."""
    down = refused_socket(tmp_path / "down.sock")
    scanning(site, clamd, clamd=[str(down), clamd.tcp])
    out = site.run(LONG_EICAR_MAIL, ENV)
    assert out.exit_code == 71
    assert out.records == []
    detail = only_log(out)["detail"]
    assert f"clamd {down} connection refused; 127.0.0.1 port {clamd.port} over".encode() in detail


def test_over_stream_max_with_tcp_clamd_down_is_temporary(site: Site, tmp_path: Path) -> None:
    conf = tmp_path / "tcp.conf"
    conf.write_text("TCPSocket 1\nTCPAddr 127.0.0.1\nStreamMaxLength 1M\n")
    site.configure(clamav=True, clamd_conf=str(conf))
    out = site.run(LONG_EICAR_MAIL, ENV)
    assert out.exit_code == 71
    assert b"clamd 127.0.0.1 port 1 connection refused" in only_log(out)["detail"]


def test_clamdscan_mode_time_limit(site: Site, tmp_path: Path) -> None:
    """A clamdscan that hangs, and one that leaves a child holding its
    output, are both killed (the whole process group) at clamd_timeout;
    neither gets qmail-smtpd's fd 4."""
    fds = tmp_path / "fds"
    slow = tmp_path / "clamdscan"
    slow.write_text(f"#!/bin/sh\nls /proc/$$/fd > {fds}\nsleep 30 &\nexit 0\n")
    slow.chmod(0o755)
    site.configure(clamav=True, clamav_client="clamdscan", clamdscan=str(slow), clamd_timeout=1)
    began = time.monotonic()
    out = site.run(CLEAN, ENV)
    assert time.monotonic() - began < 10
    assert out.exit_code == 71
    assert b"clamdscan did not finish in 1 s (killed)" in only_log(out)["detail"]
    assert "4" not in fds.read_text().split()


def nested_part(depth: int) -> bytes:
    part = b"Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
    part += base64.encodebytes(b"TROPHIE-TEST-VIRUS")
    for level in range(depth):
        part = (
            b'Content-Type: multipart/mixed; boundary="d%05d"\n\n--d%05d\n' % (level, level)
            + part
            + b"\n--d%05d--\n" % level
        )
    return b"MIME-Version: 1.0\n" + part


def test_trophie_sees_parts_nested_deep(site: Site, trophie: TrophieServer) -> None:
    site.configure(trophie_socket=str(trophie.path))
    out = site.run(nested_part(120), ENV)
    assert out.exit_code == 31
    assert only_log(out)["detail"] == b"Trophie.Test.Virus"


def test_trophie_refuses_to_guess_past_the_extraction_limits(
    site: Site, trophie: TrophieServer
) -> None:
    """Parts past the walker's limits would reach the daemon undecoded: no
    verdict (71) rather than a wrong one."""
    site.configure(trophie_socket=str(trophie.path))
    out = site.run(nested_part(1001), ENV)
    assert out.exit_code == 71
    assert (
        b"trophie cannot write the MIME parts (more than 1000 multipart boundaries)"
        in (only_log(out)["detail"])
    )
