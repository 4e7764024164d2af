"""`simscan quarantine list|show|release|expire`, on entries made by real
simscan runs (a blocked attachment), through the installed command."""

from __future__ import annotations

import base64
import fcntl
import os
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import RECORDER, Record, Site, envelope, simscan_command

ENV = envelope(b"Sender@Example.COM", b"joe-list@example.com", b"ann@example.net")
ADDRESSES = "<Sender@Example.COM> -> joe-list@example.com,ann@example.net"
DAY = 86400


def attachment(name: str = "x.exe") -> bytes:
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
        b'Content-Disposition: attachment; filename="' + name.encode() + b'"\n'
        b"\n" + base64.encodebytes(b"MZ fake program") + b"--b1--\n"
    )


MESSAGE = attachment()


@pytest.fixture
def quarantine(site: Site, tmp_path: Path) -> Path:
    """The site quarantines refused messages in tmp_path/quarantine."""
    where = tmp_path / "quarantine"
    where.mkdir()
    (site.control / "ssattach").write_text(".exe\n")
    site.configure(attach=True, quarantinedir=str(where))
    return where


def refuse(site: Site, message: bytes = MESSAGE, env: bytes = ENV, **extra: str) -> str:
    """Run the real simscan on a message it refuses; the new entry's name."""
    where = _qdir(site)
    before = set(os.listdir(where))
    out = site.run(message, env, env=site.env(TCPREMOTEIP="192.0.2.7", **extra))
    assert out.exit_code == 31, out.stderr
    (name,) = set(os.listdir(where)) - before
    return name


def _qdir(site: Site) -> Path:
    for line in site.config.read_text().splitlines():
        if line.startswith("quarantinedir = "):
            return Path(line.split('"')[1])
    raise AssertionError("no quarantinedir")


def admin(site: Site, *args: str, **extra: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*simscan_command(), "quarantine", *args],
        env=site.env(**extra),
        capture_output=True,
        check=False,
        timeout=60,
    )


def age(path: Path, days: float) -> float:
    when = time.time() - days * DAY
    os.utime(path, (when, when))
    return when


def date(when: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(when))


def error(done: subprocess.CompletedProcess[bytes], text: str) -> None:
    assert done.returncode == 1, done
    assert done.stderr.decode() == f"simscan quarantine: {text}\n"


# --- list ---------------------------------------------------------------------


def test_list_shows_each_entry_oldest_first(site: Site, quarantine: Path) -> None:
    first = refuse(site)
    second = refuse(site, attachment("Setup.EXE"), envelope(b"", b"bob@example.org"))
    older = age(quarantine / second, 2)
    newer = age(quarantine / first, 1)
    done = admin(site, "list")
    assert done.returncode == 0, done.stderr
    size = len(MESSAGE)
    other = len(attachment("Setup.EXE"))
    assert done.stdout.decode().splitlines() == [
        f"quarantine {quarantine}: 2 entries, {size + other}B",
        f"{second}  {date(older)}  2d  {other}B  ATTACH Setup.EXE  <> -> bob@example.org",
        f"{first}  {date(newer)}  1d  {size}B  ATTACH x.exe"
        "  <Sender@Example.COM> -> joe-list@example.com,ann@example.net",
    ]


def test_list_an_empty_quarantine(site: Site, quarantine: Path) -> None:
    (quarantine / ".1.000002.3.tmp").mkdir()  # an entry being made: not listed
    done = admin(site, "list")
    assert done.stdout.decode() == f"quarantine {quarantine}: no entries\n"


def test_list_a_damaged_entry_says_what_is_wrong(site: Site, quarantine: Path) -> None:
    name = refuse(site)
    (quarantine / name / "envelope").unlink()
    (quarantine / name / "verdict").write_text("garbage\n")
    (line,) = admin(site, "list").stdout.decode().splitlines()[1:]
    assert line.endswith("? garbage  <?> -> ?  (no envelope (No such file or directory))")


def test_list_without_quarantinedir_says_so(site: Site) -> None:
    error(
        admin(site, "list"),
        f"quarantinedir is not set in {site.config}: simscan quarantines nothing",
    )


def test_list_a_missing_quarantinedir(site: Site, tmp_path: Path) -> None:
    site.configure(quarantinedir=str(tmp_path / "nowhere"))
    error(admin(site, "list"), f"cannot read {tmp_path / 'nowhere'} (No such file or directory)")


def test_list_kept_work_dirs(site: Site, quarantine: Path) -> None:
    name = refuse(site, SIMSCAN_DEBUG_FILES="1")
    when = age(site.work / name, 3)
    done = admin(site, "list", "--kept")
    lines = done.stdout.decode().splitlines()
    assert lines[0] == f"quarantine {quarantine}: 1 entry, {len(MESSAGE)}B"
    assert lines[2:] == [
        f"kept work dirs in {site.work}: 1 dir, {len(MESSAGE)}B",
        f"{name}  {date(when)}  3d  {len(MESSAGE)}B"
        "  <Sender@Example.COM> -> joe-list@example.com,ann@example.net",
    ]


def test_list_kept_without_quarantinedir(site: Site) -> None:
    done = admin(site, "list", "--kept")
    assert done.returncode == 0
    assert done.stdout.decode().splitlines() == [
        f"quarantinedir is not set in {site.config}: simscan quarantines nothing",
        f"kept work dirs in {site.work}: no dirs",
    ]


def test_a_config_error_is_one_line(site: Site, tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    error(
        admin(site, "list", SIMSCAN_CONFIG=str(missing)),
        f"config {missing} file not found (named by SIMSCAN_CONFIG)",
    )


# --- show ---------------------------------------------------------------------


def test_show_verdict_envelope_and_header_block(site: Site, quarantine: Path) -> None:
    name = refuse(site)
    verdict = (quarantine / name / "verdict").read_text().rstrip("\n")
    done = admin(site, "show", name)
    assert done.returncode == 0, done.stderr
    text = done.stdout.decode()
    summary, head = text.split("\n\n")
    assert summary.splitlines()[0] == f"entry    {quarantine / name}"
    assert summary.splitlines()[2:] == [
        f"size     {len(MESSAGE)} bytes",
        f"verdict  {verdict}",
        "state    ATTACH",
        "detail   x.exe",
        "ip       192.0.2.7",
        "from     <Sender@Example.COM>",
        "to       joe-list@example.com",
        "         ann@example.net",
    ]
    assert head.encode() == MESSAGE.split(b"\n\n")[0] + b"\n"


def test_show_full_is_the_raw_message(site: Site, quarantine: Path) -> None:
    message = MESSAGE.replace(b"the files", b"caf\xe9 \x1b[31m").replace(b"\n", b"\r\n")
    name = refuse(site, message)
    done = admin(site, "show", "--full", name)
    assert done.stdout == message
    # without --full, control bytes are not sent to the terminal
    shown = admin(site, "show", name).stdout
    assert b"\x1b" not in shown
    assert b"Subject: caf\\xe9 ?[31m\n" in shown


def test_show_a_kept_work_dir(site: Site, quarantine: Path) -> None:
    name = refuse(site, SIMSCAN_DEBUG_FILES="1")
    lines = admin(site, "show", "--kept", name).stdout.decode().splitlines()
    assert lines[0] == f"entry    {site.work / name}"
    assert "from     <Sender@Example.COM>" in lines
    assert "From: sender@example.com" in lines
    assert admin(site, "show", "--kept", "--full", name).stdout == MESSAGE


def test_show_a_missing_entry(site: Site, quarantine: Path) -> None:
    error(admin(site, "show", "1.000001.1"), f"no entry 1.000001.1 in {quarantine}")


# --- release ------------------------------------------------------------------


def test_release_hands_message_and_envelope_to_qmail_queue(site: Site, quarantine: Path) -> None:
    name = refuse(site, env=ENV)
    assert site.records() == []
    done = admin(site, "release", name)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == f"released {name} to joe-list@example.com, ann@example.net\n"
    assert site.records() == [Record(MESSAGE, ENV)]
    assert os.listdir(quarantine) == []


def test_release_to_another_address(site: Site, quarantine: Path) -> None:
    name = refuse(site)
    done = admin(site, "release", name, "--to", "postmaster@example.com")
    assert done.returncode == 0, done.stderr
    assert site.records() == [
        Record(MESSAGE, envelope(b"Sender@Example.COM", b"postmaster@example.com"))
    ]
    assert done.stdout.decode() == f"released {name} to postmaster@example.com\n"


def test_release_several_and_one_fails(site: Site, quarantine: Path) -> None:
    first = refuse(site)
    done = admin(site, "release", "1.000001.1", first)
    error(done, f"no entry 1.000001.1 in {quarantine}")
    assert done.stdout.decode() == f"released {first} to joe-list@example.com, ann@example.net\n"
    assert len(site.records()) == 1


def test_a_failing_qmail_queue_keeps_the_entry(site: Site, quarantine: Path) -> None:
    name = refuse(site)
    done = admin(site, "release", name, QQ_EXIT="81")
    error(done, f"cannot release {name}: {RECORDER} exited 81; the entry is kept")
    assert os.listdir(quarantine) == [name]
    assert sorted(os.listdir(quarantine / name)) == ["envelope", "message", "verdict"]


def test_a_missing_qmail_queue_keeps_the_entry(site: Site, quarantine: Path) -> None:
    name = refuse(site)
    site.configure(quarantinedir=str(quarantine), qmail_queue="/nonexistent/qmail-queue")
    error(
        admin(site, "release", name),
        f"cannot release {name}: cannot run /nonexistent/qmail-queue"
        " (No such file or directory); the entry is kept",
    )
    assert os.listdir(quarantine) == [name]


def test_an_entry_being_released_is_not_released_twice(site: Site, quarantine: Path) -> None:
    name = refuse(site)
    fd = os.open(quarantine / name, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        error(admin(site, "release", name), f"{name} is being released or expired just now")
        assert admin(site, "expire", "--older-than", "0").stdout == b""
    finally:
        os.close(fd)
    assert site.records() == []
    assert os.listdir(quarantine) == [name]


@pytest.mark.parametrize("bad", ["../x", "a/b", ".", "..", ".1.000002.3.tmp", ""])
def test_bad_names_are_refused(site: Site, quarantine: Path, bad: str) -> None:
    good = refuse(site)
    (quarantine / ".1.000002.3.tmp").mkdir()
    text = f"bad entry name {bad!r}: use a name as 'list' shows it"
    error(admin(site, "release", good, bad), text)
    error(admin(site, "show", bad), text)
    assert site.records() == []  # not even the good one
    assert good in os.listdir(quarantine)


def test_a_bad_to_address_is_refused(site: Site, quarantine: Path) -> None:
    name = refuse(site)
    error(admin(site, "release", name, "--to", ""), "bad address for --to: ''")
    error(admin(site, "release", name, "--to", "x" * 1002), f"bad address for --to: {'x' * 1002!r}")
    assert site.records() == []


# --- expire -------------------------------------------------------------------


@pytest.fixture
def aged(site: Site, quarantine: Path) -> dict[str, str]:
    """Entries 40, 10 and 0 days old, stale and fresh temp entries."""
    names = {"old": refuse(site), "mid": refuse(site), "new": refuse(site)}
    age(quarantine / names["old"], 40)
    age(quarantine / names["mid"], 10)
    for temp, days in ((".1.000001.1.tmp", 2), (".1.000002.1.tmp", 0.5)):
        (quarantine / temp).mkdir()
        (quarantine / temp / "message").write_bytes(b"cut")
        age(quarantine / temp, days)
    return names


def test_expire_removes_entries_older_than_30_days(
    site: Site, quarantine: Path, aged: dict[str, str]
) -> None:
    done = admin(site, "expire")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.decode().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"removed {quarantine / aged['old']}  ")
    assert lines[0].endswith(f"  40d  {len(MESSAGE)}B  ATTACH x.exe  {ADDRESSES}")
    assert lines[1].startswith(f"removed {quarantine / '.1.000001.1.tmp'}  ")
    assert sorted(os.listdir(quarantine)) == sorted([".1.000002.1.tmp", aged["mid"], aged["new"]])
    assert admin(site, "expire").stdout == b""  # quiet when nothing is old: cron mails nothing


def test_expire_older_than_and_dry_run(site: Site, quarantine: Path, aged: dict[str, str]) -> None:
    before = sorted(os.listdir(quarantine))
    done = admin(site, "expire", "--older-than", "5", "--dry-run")
    lines = done.stdout.decode().splitlines()
    assert [ln.split("  ")[0] for ln in lines] == [
        f"would remove {quarantine / aged['old']}",
        f"would remove {quarantine / aged['mid']}",
        f"would remove {quarantine / '.1.000001.1.tmp'}",
    ]
    assert sorted(os.listdir(quarantine)) == before
    done = admin(site, "expire", "--older-than", "5")
    assert [ln.replace("would remove", "removed") for ln in lines] == done.stdout.decode().split(
        "\n"
    )[:-1]
    assert sorted(os.listdir(quarantine)) == sorted([".1.000002.1.tmp", aged["new"]])


def test_expire_older_than_0_spares_fresh_temp_entries(
    site: Site, quarantine: Path, aged: dict[str, str]
) -> None:
    assert admin(site, "expire", "--older-than", "0").returncode == 0
    assert os.listdir(quarantine) == [".1.000002.1.tmp"]


def test_expire_kept_work_dirs(site: Site, quarantine: Path) -> None:
    old = refuse(site, SIMSCAN_DEBUG_FILES="1")
    young = refuse(site, SIMSCAN_DEBUG_FILES="1")
    fresh = refuse(site, SIMSCAN_DEBUG_FILES="1")
    age(site.work / old, 8)
    age(site.work / young, 3)
    (site.work / "not-ours").mkdir()
    age(site.work / "not-ours", 100)
    done = admin(site, "expire")  # without --kept: work dirs are left alone
    assert done.stdout == b""
    assert len(os.listdir(site.work)) == 4
    done = admin(site, "expire", "--kept")
    assert done.returncode == 0, done.stderr
    assert len(os.listdir(quarantine)) == 3  # not 30 days old
    (line,) = done.stdout.decode().splitlines()
    assert line.startswith(f"removed {site.work / old}  ")
    assert line.endswith(f"  8d  {len(MESSAGE)}B  {ADDRESSES}")
    # never a work dir younger than a day: it may be a running simscan's
    assert admin(site, "expire", "--kept", "--older-than", "0").returncode == 0
    assert sorted(os.listdir(site.work)) == sorted([fresh, "not-ours"])
    assert os.listdir(quarantine) == []  # --older-than is for both


def test_the_health_dir_is_not_a_work_dir(site: Site) -> None:
    # WORKDIR/.health: the marks of scanner endpoints that are down
    marks = site.work / ".health"
    marks.mkdir()
    (marks / "clamd-127.0.0.2-3310").write_bytes(b"127.0.0.2:3310 timed out\n")
    age(marks / "clamd-127.0.0.2-3310", 100)
    age(marks, 100)
    done = admin(site, "list", "--kept")
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().splitlines()[-1] == f"kept work dirs in {site.work}: no dirs"
    done = admin(site, "expire", "--kept")
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    assert os.listdir(marks) == ["clamd-127.0.0.2-3310"]
    error(admin(site, "show", "--kept", ".health"), "bad entry name '.health': use a name as"
          " 'list' shows it")  # fmt: skip


def test_expire_without_quarantinedir(site: Site) -> None:
    text = f"quarantinedir is not set in {site.config}: simscan quarantines nothing"
    error(admin(site, "expire"), text)
    done = admin(site, "expire", "--kept")
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")


def test_expire_refuses_a_bad_age(site: Site, quarantine: Path) -> None:
    done = admin(site, "expire", "--older-than", "soon")
    assert done.returncode == 2
    assert b"--older-than: expected a number of days, got 'soon'" in done.stderr


# --- the entry's modes --------------------------------------------------------


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.parametrize("mask", [0o077, 0o000, 0o027])
def test_entry_modes_whatever_the_umask(
    site: Site, quarantine: Path, umask: None, mask: int
) -> None:
    os.umask(mask)
    name = refuse(site)
    entry = quarantine / name
    assert stat.S_IMODE(entry.stat().st_mode) == 0o750
    for part in ("message", "envelope", "verdict"):
        assert stat.S_IMODE((entry / part).stat().st_mode) == 0o640, part


# --- a stop signal during release ---------------------------------------------


def _release_paused(
    site: Site, tmp_path: Path, name: str, point: str
) -> tuple[subprocess.Popen[bytes], Path]:
    pause = tmp_path / "pause"
    pause.mkdir()
    env = site.env(QQ_PAUSE_AT=point, QQ_PAUSE_DIR=str(pause))
    proc = subprocess.Popen(
        [*simscan_command(), "quarantine", "release", name, "1.000001.1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while not (pause / "paused").exists():
        assert time.monotonic() < deadline, "qmail-queue never paused"
        time.sleep(0.01)
    return proc, pause


def test_sigterm_before_qmail_queue_has_the_envelope_keeps_the_entry(
    site: Site, quarantine: Path, tmp_path: Path
) -> None:
    name = refuse(site)
    proc, _ = _release_paused(site, tmp_path, name, "eof")
    proc.terminate()
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert stdout == b""
    assert stderr.decode() == (
        f"simscan quarantine: cannot release {name}: interrupted by signal 15; the entry is kept\n"
    )
    assert site.records() == []
    assert os.listdir(quarantine) == [name]


def test_sigterm_once_qmail_queue_has_the_envelope_waits_for_it(
    site: Site, quarantine: Path, tmp_path: Path
) -> None:
    name = refuse(site)
    proc, pause = _release_paused(site, tmp_path, name, "envelope")
    proc.terminate()
    time.sleep(0.3)
    (pause / "go").touch()  # qmail-queue commits after the signal: the entry is gone
    stdout, stderr = proc.communicate(timeout=30)
    assert stdout.decode() == f"released {name} to joe-list@example.com, ann@example.net\n"
    assert stderr.decode() == f"simscan quarantine: no entry 1.000001.1 in {quarantine}\n"
    assert proc.returncode == 1
    assert site.records() == [Record(MESSAGE, ENV)]
    assert os.listdir(quarantine) == []
