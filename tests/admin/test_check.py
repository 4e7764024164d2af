"""`simscan check`: the same verdict, exit code and SMTP reply as the
qmail-queue path, for every corpus message, with the real clamd and spamd;
and nothing queued, quarantined or left behind."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from daemons import EICAR, GTUBE, TESTFILES, Clamd, Spamd
from harness import Site, envelope, simscan_command
from samples import message as with_attachments

from simscan.qmail.smtpreply import reply

DATA = Path(__file__).parent.parent / "data" / "attachments"
SENDER, RCPT = "alice@example.com", "bob@example.net"


def corpus() -> dict[str, bytes]:
    out = {p.name: p.read_bytes() for p in sorted(DATA.glob("*.eml"))}
    out["eicar"] = with_attachments(("eicar.com.txt", EICAR))
    out["clam.exe.zip"] = with_attachments(("clam.zip", (TESTFILES / "clam.zip").read_bytes()))
    out["gtube"] = b"Subject: buy now\nFrom: " + SENDER.encode() + b"\n\n" + GTUBE + b"\n"
    out["regex"] = b"Subject: hello\n\nplease wire the money today\n"
    return out


def check(site: Site, data: bytes, *args: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*simscan_command(), "check", *args],
        input=data,
        env=site.env(**env),
        capture_output=True,
        check=False,
        timeout=120,
    )


def configure_all(site: Site, clamd: Clamd, spamd: Spamd, **values: object) -> None:
    site.configure(
        clamav=True,
        clamd_conf=str(clamd.conf),
        clamavdb_path=str(clamd.db),
        spam=True,
        spamd=str(spamd.socket),
        attach=True,
        per_domain=True,
        regex=True,
        **values,
    )
    site.simcontrol(
        ":clam=yes,spam=yes,attach=.exe:.com:.scr:.bat:.pif,regex=wire.the.money\n"
        "example.org:spam=no\n"
    )


@pytest.mark.parametrize("custom", [False, True], ids=["plain", "custom-reject"])
def test_check_agrees_with_the_queue_path_on_every_corpus_message(
    site: Site, clamd: Clamd, spamd: Spamd, custom: bool
) -> None:
    configure_all(site, clamd, spamd, custom_smtp_reject=custom)
    env = envelope(SENDER.encode(), RCPT.encode())
    seen = set()
    for name, data in corpus().items():
        real = site.run(data, env)
        done = check(site, data, "--json", "--from", SENDER, "--to", RCPT)
        got = json.loads(done.stdout)
        assert done.returncode == real.exit_code == got["exit_code"], (name, done.stderr)
        assert got["smtp_reply"] == reply(real.exit_code, real.custom_text or None), name
        (line,) = real.log_lines
        state = line.split(b":")[2].decode()
        assert got["log_line"].split(":")[2] == state, name
        seen.add(state.split(" (")[0])
    # the corpus reaches every kind of verdict
    assert {"CLEAN", "SPAM PASS", "VIRUS", "ATTACH", "REGEX", "SPAM REJECT"} <= seen or {
        "CLEAN",
        "VIRUS",
        "ATTACH",
        "REGEX",
        "SPAM REJECT",
    } <= seen, seen


def test_check_queues_quarantines_and_leaves_nothing(site: Site, tmp_path: Path) -> None:
    quarantine = tmp_path / "quarantine"
    quarantine.mkdir()
    site.configure(attach=True, quarantinedir=str(quarantine))
    (site.control / "ssattach").write_text(".exe\n")
    data = with_attachments(("setup.exe", b"MZ" + b"\0" * 100))
    done = check(site, data, "--to", RCPT)
    assert done.returncode == 31, done.stderr
    text = done.stdout.decode()
    assert f"quarantine: a real run keeps a copy in {quarantine}" in text
    assert "exit: 31; qmail-smtpd replies: 554 mail server permanently rejected message" in text
    assert list(quarantine.iterdir()) == []
    assert site.records() == []
    assert list(site.work.iterdir()) == []
    # a clean one: exit 0, "250 ok", the Received line it would carry, nothing queued
    site.configure(attach=True, received=True)
    done = check(site, b"Subject: hi\n\nhello\n", "--to", RCPT)
    assert done.returncode == 0
    text = done.stdout.decode()
    assert "exit: 0; qmail-smtpd replies: 250 ok" in text
    assert "received: Received: (simscan " in text and "(scanners: attach: " in text
    assert site.records() == []


def test_the_trace_names_each_step(site: Site) -> None:
    site.configure(per_domain=True, attach=True, regex=True)
    site.simcontrol(":attach=.exe\nexample.net:attach=.scr:.pif,regex=free.money\n")
    data = with_attachments(
        ("report.pdf", b"%PDF-1.4\n"), ("pics.zip", _zip([("a/holiday.scr", b"x")]))
    )
    done = check(site, data, "--from", SENDER, "--to", RCPT, "--ip", "192.0.2.7")
    assert done.returncode == 31, done.stderr
    text = done.stdout.decode()
    assert f"settings: {site.config}\n" in text
    assert f"envelope: from <{SENDER}> to <{RCPT}> (the command line)" in text
    assert "client: 192.0.2.7\n" in text
    # every key tried, in the C order; the ones that matched with their entry
    keys = [ln.split()[0] for ln in text.splitlines() if ln.startswith("  '")]
    assert keys == ["''", "'example.com'", f"'{SENDER}'", "'example.net'", f"'{RCPT}'"]
    assert "matched: attach=.exe\n" in text
    assert "matched: attach=.scr:.pif,regex=free.money\n" in text
    assert (
        "  result: clam=no,spam=no,trophie=no,spam_passthru=no,attach=.scr:.pif,regex=1 pattern,"
        in text
    )
    assert "  header block 3: report.pdf\n" in text  # (1: the message, 2: its text part)
    assert "  header block 4: pics.zip\n" in text
    assert "  inside: pics.zip/a/holiday.scr\n" in text
    assert "  regex    ran: nothing found in " in text
    assert "  attach   ran: ATTACH pics.zip/a/holiday.scr in " in text
    assert "  clamav   off: clamav = false\n" in text
    assert "  spam     off: spam = false\n" in text
    assert ":ATTACH:" in text and ":192.0.2.7:alice@example.com:bob@example.net" in text


def test_a_scanner_after_the_deciding_one_is_not_run(site: Site, clamd: Clamd) -> None:
    site.configure(attach=True, clamav=True, clamd_conf=str(clamd.conf))
    (site.control / "ssattach").write_text(".exe\n")
    done = check(site, with_attachments(("x.exe", EICAR)), "--to", RCPT, "--json")
    steps = {s["scanner"]: s for s in json.loads(done.stdout)["scanners"]}
    assert steps["attach"]["said"] == "ran: ATTACH x.exe"
    assert steps["clamav"] == {
        "scanner": "clamav",
        "ran": False,
        "said": "not run: an earlier check decided",
    }


def test_a_scanner_that_fails_is_named(site: Site, tmp_path: Path) -> None:
    site.configure(clamav=True, clamd=str(tmp_path / "no-such.sock"))
    done = check(site, b"Subject: x\n\nhi\n", "--to", RCPT, "--json")
    got = json.loads(done.stdout)
    assert done.returncode == 71
    assert got["smtp_reply"] == "451 mail server temporarily rejected message (#4.3.0)"
    steps = {s["scanner"]: s for s in got["scanners"]}
    assert steps["clamav"]["said"] == "failed (see the log line)"
    assert ":ERROR 71:" in got["log_line"] and "no-such.sock" in got["log_line"]


def test_the_envelope_comes_from_the_header_when_not_given(site: Site) -> None:
    data = (
        b"Return-Path: <bounce@lists.example.com>\nFrom: Alice <alice@example.com>\n"
        b"Delivered-To: carol@example.org\nTo: list@example.com\nSubject: hi\n\nhello\n"
    )
    got = json.loads(check(site, data, "--json").stdout)
    assert got["envelope"] == {
        "from": "bounce@lists.example.com",
        "to": ["carol@example.org"],
        "source": "the message's Return-Path and Delivered-To",
    }
    got = json.loads(check(site, b"From: a@example.com\nTo: b@x.example\n\nhi\n", "--json").stdout)
    assert got["envelope"]["from"] == "a@example.com"
    assert got["envelope"]["to"] == ["b@x.example"]
    # nothing to go on: an envelope error, exit 91 as qmail-queue's
    done = check(site, b"Subject: hi\n\nhi\n")
    assert done.returncode == 91
    assert (
        "no recipient in the message's header (Delivered-To, To, Cc)_ give --to"
        in done.stdout.decode()
    )


def test_files_and_the_exit_status_of_several(site: Site, tmp_path: Path) -> None:
    site.configure(attach=True)
    (site.control / "ssattach").write_text(".exe\n")
    clean = tmp_path / "clean.eml"
    clean.write_bytes(b"To: b@example.net\n\nhi\n")
    bad = tmp_path / "bad.eml"
    bad.write_bytes(b"To: b@example.net\n" + with_attachments(("x.exe", b"MZ")))
    done = subprocess.run(
        [*simscan_command(), "check", "--json", str(clean), str(bad), str(clean)],
        env=site.env(),
        capture_output=True,
        check=False,
    )
    codes = [json.loads(line)["exit_code"] for line in done.stdout.splitlines()]
    assert codes == [0, 31, 0]
    assert done.returncode == 31  # the first message that would not be queued
    done = subprocess.run(
        [*simscan_command(), "check", str(tmp_path / "missing.eml")],
        env=site.env(),
        capture_output=True,
        check=False,
    )
    assert done.returncode == 2
    assert b"simscan check: cannot open " in done.stderr and b"No such file" in done.stderr
    done = check(site, b"hi\n", "--from", "a@b")
    assert done.returncode == 2
    assert done.stderr == b"simscan check: no recipient; give --to ADDR\n"


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    from samples import zip_of

    return zip_of(members)


CLEAN = b"Subject: hello\nFrom: alice@example.com\n\nhi\n"
REGEX = b"Subject: hello\n\nplease wire the money today\n"
GIVEN = ("--from", SENDER, "--to", RCPT)


def test_debug_files_1_keeps_only_what_a_real_run_keeps(site: Site) -> None:
    # SIMSCAN_DEBUG_FILES=1 keeps the work dirs of messages not queued:
    # check leaves none for a message a real run would queue, one for a refusal
    site.configure(regex=True, per_domain=True)
    site.simcontrol(":regex=wire.the.money\n")
    env = site.env(SIMSCAN_DEBUG_FILES="1")
    real = site.run(CLEAN, envelope(SENDER.encode(), RCPT.encode()), env=env)
    assert real.exit_code == 0 and real.workdirs_left == []
    done = check(site, CLEAN, *GIVEN, SIMSCAN_DEBUG_FILES="1")
    assert done.returncode == 0, done.stderr
    assert os.listdir(site.work) == []
    done = check(site, REGEX, *GIVEN, SIMSCAN_DEBUG_FILES="1")
    assert done.returncode == 31 and len(os.listdir(site.work)) == 1


def test_a_custom_reject_states_its_assumption_about_fd_4(site: Site) -> None:
    site.configure(regex=True, custom_smtp_reject=True, per_domain=True)
    site.simcontrol(":regex=wire.the.money\n")
    real = site.run(REGEX, envelope(SENDER.encode(), RCPT.encode()))
    done = check(site, REGEX, *GIVEN)
    assert real.exit_code == done.returncode == 82
    assert (
        "  (assumes qmail-smtpd has the custom-error patch; without it, fd 4 is"
        " closed and simscan exits 31, 71 for a temporary refusal)\n"
    ) in done.stdout.decode()
    got = json.loads(check(site, REGEX, *GIVEN, "--json").stdout)
    assert got["assumes"] == "the custom-error patch (fd 4)"
    site.configure(regex=True, per_domain=True)
    got = json.loads(check(site, REGEX, *GIVEN, "--json").stdout)
    assert got["exit_code"] == 31 and got["assumes"] is None


def test_return_path_null_is_the_null_sender(site: Site) -> None:
    site.configure()
    data = (
        b"Return-Path: <>\nDelivered-To: bob@example.net\nSubject: bounce\n"
        b"From: MAILER-DAEMON@example.com\nTo: bob@example.net\n\nhello\n"
    )
    got = json.loads(check(site, data, "--json").stdout)
    assert got["envelope"] == {
        "from": "",
        "to": ["bob@example.net"],
        "source": "the message's Return-Path and Delivered-To",
    }


def test_relayclient_skip_of_spam_says_why(site: Site) -> None:
    site.configure(spam=True, spamd=str(site.root / "nosock"))
    got = json.loads(check(site, CLEAN, *GIVEN, "--relayclient", "--json").stdout)
    (spam,) = [s for s in got["scanners"] if s["scanner"] == "spam"]
    assert spam["said"] == "skipped: RELAYCLIENT is set (spam_auth_user off)"
    assert got["exit_code"] == 0


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--to", ""), "simscan check: an empty recipient; give --to ADDR"),
        (("--to", RCPT, "--to", ""), "simscan check: an empty recipient; give --to ADDR"),
        (("--to", RCPT, "-", "-"), "simscan check: - (stdin) given more than once"),
    ],
)
def test_command_lines_refused(site: Site, args: tuple[str, ...], said: str) -> None:
    site.configure()
    done = check(site, CLEAN, *args)
    assert done.returncode == 2 and done.stdout == b""
    assert done.stderr.decode().startswith(said), done.stderr


def test_a_stop_signal_ends_the_run_after_that_message(site: Site, tmp_path: Path) -> None:
    import signal
    import socket
    import time

    hung = socket.socket(socket.AF_UNIX)  # spamd that never answers
    hung.bind(str(tmp_path / "spamd"))
    hung.listen(5)
    site.configure(spam=True, spamd=str(tmp_path / "spamd"), scan_timeout=60)
    files = [tmp_path / "a.eml", tmp_path / "b.eml"]
    for f in files:
        f.write_bytes(CLEAN)
    with (
        hung,
        subprocess.Popen(
            [*simscan_command(), "check", *GIVEN, *map(str, files)],
            env=site.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        ) as proc,
    ):
        time.sleep(1.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert out.decode().count("message: ") == 1, out
    assert b"simscan check: stopped by signal 2\n" in err
    assert proc.returncode == 71
    assert os.listdir(site.work) == []
