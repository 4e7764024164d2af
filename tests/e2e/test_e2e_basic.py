"""End to end: the installed simscan, run as qmail-smtpd runs it."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

from harness import Site, envelope, simscan_command

MESSAGE = (
    b"Received: from client (1.2.3.4)\n"
    b"From: Alice <Alice@Example.COM>\n"
    b"To: bob@example.net\n"
    b"Subject: Hello: world\n"
    b"\n"
    b"A body\n"
)
ENV = envelope(b"Alice@Example.COM", b"Bob@Example.NET", b"carol-x@example.org")

LOG = re.compile(
    rb"^simscan:\[(\d+)\]:([A-Z ]+[A-Z0-9]*(?: \([\d./]+\))?):(\d+\.\d{4})s:(.*?):(.*?):(.*?):(.*)$"
)


def parse_log(line: bytes) -> dict[str, bytes]:
    m = LOG.match(line)
    assert m, line
    keys = ("ppid", "state", "time", "detail", "ip", "from", "rcpts")
    return dict(zip(keys, m.groups(), strict=True))


def test_version() -> None:
    out = subprocess.run([*simscan_command(), "-v"], capture_output=True, check=True)
    # the version, and the build (git describe) when built from a checkout
    assert re.fullmatch(rb"simscan version: \d+\.\d+\.\d+( \(build [\w.-]+\))?\n", out.stdout)
    if (Path(__file__).parents[2] / ".git").exists():
        assert b"(build " in out.stdout


def test_help_exits_0_and_other_arguments_71() -> None:
    for flag in ("--help", "-h"):
        out = subprocess.run([*simscan_command(), flag], capture_output=True, check=False)
        assert out.returncode == 0
        assert out.stdout.startswith(b"usage: simscan ")
        assert b"$SIMSCAN_CONFIG" in out.stdout
    out = subprocess.run([*simscan_command(), "--frobnicate"], capture_output=True, check=False)
    assert out.returncode == 71
    assert out.stderr == (
        b"usage: simscan [-v | --help | check | config | stats | quarantine]"
        b"  (run by qmail-smtpd as $QMAILQUEUE)\n"
    )


def test_each_command_has_help_that_exits_0() -> None:
    for command in ("check", "config", "stats", "quarantine"):
        out = subprocess.run(
            [*simscan_command(), command, "--help"], capture_output=True, check=False
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.startswith(f"usage: simscan {command} ".encode()), out.stdout


def test_the_script_and_the_admin_package_name_the_same_commands() -> None:
    from simscan.admin.main import COMMANDS

    script = Path(simscan_command()[0]).read_text()
    assert f"in {tuple(COMMANDS)!r}" in script.replace('"', "'")


def test_clean_message_passes_byte_identical(site: Site) -> None:
    # Binary bytes, NULs, CR, 8-bit and no final newline: all must survive.
    message = MESSAGE + bytes(range(256)) + b"\r\n\0tail without newline"
    out = site.run(message, ENV, env=site.env(TCPREMOTEIP="192.0.2.7"))
    assert out.exit_code == 0
    assert [r.message for r in out.records] == [message]
    assert [r.envelope for r in out.records] == [ENV]  # case kept
    (line,) = out.log_lines
    fields = parse_log(line)
    assert fields["state"] == b"CLEAN"
    assert fields["detail"] == b"Hello_ world"
    assert fields["ip"] == b"192.0.2.7"
    assert fields["from"] == b"alice@example.com"
    assert fields["rcpts"] == b"bob@example.net,carol-x@example.org"
    assert out.workdirs_left == []


def test_one_log_line_unset_ip_is_null(site: Site) -> None:
    out = site.run(MESSAGE, envelope(b"", b"postmaster@example.net"))
    assert out.exit_code == 0
    (line,) = out.log_lines
    assert line.endswith(b":(null)::postmaster@example.net")
    assert out.stderr.count(b"\n") == 1


def test_empty_message(site: Site) -> None:
    out = site.run(b"", ENV)
    assert out.exit_code == 0
    assert [r.message for r in out.records] == [b""]


def test_received_line(site: Site) -> None:
    site.configure(received=True)
    before = time.time()
    out = site.run(MESSAGE, ENV)
    assert out.exit_code == 0
    (rec,) = out.records
    first, second, rest = rec.message.split(b"\n", 2)
    m = re.fullmatch(
        rb"Received: \(simscan (\d+\.\d+\.\d+) ppid (\d+) pid (\d+) t (\d+\.\d{4})s\)", first
    )
    assert m, first
    m2 = re.fullmatch(
        rb" \(scanners: none\); (\d\d) (\w{3}) (\d{4}) (\d\d):(\d\d):(\d\d) -0000", second
    )
    assert m2, second
    stamp = time.strptime(b" ".join(m2.groups()).decode(), "%d %b %Y %H %M %S")
    assert abs(time.mktime(stamp) - time.mktime(time.gmtime(before))) < 5
    assert rest == MESSAGE
    assert rec.envelope == ENV


def test_qmail_queue_exit_status_is_passed_on(site: Site) -> None:
    for status in (31, 81, 71):
        out = site.run(MESSAGE, ENV, env=site.env(QQ_EXIT=str(status)))
        assert out.exit_code == status
        (line,) = out.log_lines
        assert parse_log(line)["state"] == f"ERROR {status}".encode()
        assert out.workdirs_left == []
