"""simscan stats, run as an admin runs it: on a multilog dir that the real
simscan's stderr went through (Debian's multilog, with a rotation), on
one of its files, on stdin, on the C program's lines, and with
--prometheus, whose file prometheus_client's own parser reads back."""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from daemons import EICAR, GTUBE, Clamd, Spamd
from harness import Site, envelope, simscan_command
from prometheus_client.parser import text_string_to_metric_families

ENV = envelope(b"Sender@Example.COM", b"rcpt@example.net")
VERDICT = re.compile(rb"simscan:\[\d+\]:[A-Z]")


def message(subject: bytes, body: bytes = b"Nothing to see here.\n") -> bytes:
    return b"From: sender@example.com\nTo: rcpt@example.net\nSubject: " + subject + b"\n\n" + body


def attached(name: str, data: bytes) -> bytes:
    return (
        b"From: sender@example.com\nTo: rcpt@example.net\nSubject: the files\n"
        b'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b1"\n\n'
        b"--b1\nContent-Type: text/plain\n\nSee attached.\n"
        b"--b1\nContent-Type: application/octet-stream\n"
        b"Content-Transfer-Encoding: base64\n"
        b'Content-Disposition: attachment; filename="'
        + name.encode()
        + b'"\n\n'
        + base64.encodebytes(data)
        + b"--b1--\n"
    )


def stats(
    *args: str | Path, stdin: bytes = b"", tz: str = "UTC"
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*simscan_command(), "stats", *map(str, args)],
        input=stdin.decode(),
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TZ": tz},
    )


def section(out: str, title: str) -> list[str]:
    """The lines under a title, up to the blank line."""
    block = out.split("\n\n")
    found = [b for b in block if b.startswith(title)]
    assert found, (title, out)
    return found[0].splitlines()[1:]


def counts(out: str, title: str) -> dict[str, int]:
    """A section's `  NAME   COUNT ...` lines as {NAME: COUNT}."""
    rows = {}
    for line in section(out, title):
        m = re.match(r"  (.+?)\s+(\d+)(?:\s+[\d.]+%)?$", line)
        assert m, line
        rows[m.group(1)] = int(m.group(2))
    return rows


@pytest.fixture(scope="module")
def logdir(tmp_path_factory: pytest.TempPathFactory, clamd: Clamd, spamd: Spamd) -> Path:
    """Messages of every kind through the installed simscan, its stderr
    through `multilog t` into a log dir, rotated once (SIGALRM) midway."""
    root = tmp_path_factory.mktemp("stats")
    site = Site(root / "site")
    (site.control / "ssattach").write_text(".exe\n")
    site.configure(
        clamav=True,
        clamd=str(clamd.socket),
        clamavdb_path=str(clamd.db),
        spam=True,
        spamd=str(spamd.socket),
        attach=True,
        quarantinedir=str(root / "no-such-dir"),
    )
    runs = [
        (message(b"Lunch: Thursday?"), ENV, "192.0.2.10"),
        (message(b"Minutes"), ENV, "2001:db8::1"),
        (message(b"Cheap watches", GTUBE + b"\n"), ENV, "198.51.100.7"),
        (attached("eicar.com", EICAR), ENV, "198.51.100.7"),
        (attached("setup.exe", b"MZ fake program"), ENV, "198.51.100.7"),
        (message(b"Broken"), b"Fa@b\0\0", "192.0.2.10"),  # no recipient: ERROR 91
    ]
    log = root / "log"
    multilog = subprocess.Popen(["multilog", "t", str(log)], stdin=subprocess.PIPE)
    assert multilog.stdin is not None
    for i, (msg, env, ip) in enumerate(runs):
        if i == 3:  # rotate: what came so far goes to an @*.s file
            multilog.stdin.flush()
            time.sleep(0.3)
            multilog.send_signal(signal.SIGALRM)
            time.sleep(0.3)
        out = site.run(msg, env, env=site.env(TCPREMOTEIP=ip))
        multilog.stdin.write(b"tcpserver: status: 1/40\n" + out.stderr)
        multilog.stdin.flush()
    multilog.stdin.close()
    assert multilog.wait(10) == 0
    return log


def verdict_lines(path: Path) -> list[bytes]:
    return [ln for ln in path.read_bytes().splitlines() if VERDICT.search(ln)]


def test_the_log_dir_was_rotated(logdir: Path) -> None:
    rotated = sorted(logdir.glob("@*.s"))
    assert rotated, sorted(logdir.iterdir())
    assert verdict_lines(rotated[0]) and verdict_lines(logdir / "current")
    every = [ln for f in [*rotated, logdir / "current"] for ln in verdict_lines(f)]
    assert len(every) == 6
    assert all(ln.startswith(b"@4000") for ln in every)


def test_stats_of_the_log_dir(logdir: Path) -> None:
    done = stats(logdir)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("6 messages (verdict lines), 3 warning, note and debug lines; 6 other")
    verdicts = counts(out, "Messages per verdict")
    assert verdicts == {"CLEAN": 2, "SPAM REJECT": 1, "VIRUS": 1, "ATTACH": 1, "ERROR 91": 1}
    assert counts(out, "Top virus names") == {"Eicar-Test-Signature.UNOFFICIAL": 1}
    assert counts(out, "Top blocked attachments") == {"setup.exe": 1}
    assert counts(out, "Top blocked extensions") == {".exe": 1}
    assert counts(out, "Top sender IPs") == {"198.51.100.7": 3, "192.0.2.10": 2, "2001:db8::1": 1}
    # the three refusals could not be quarantined: one kind of warning
    assert section(out, "Warnings and notes by kind") == [
        "         3 warning: cannot quarantine in PATH (…)"
    ]
    scores = dict(
        re.fullmatch(r"\s*(.+?)\s+(\d+) #*", ln).groups()  # type: ignore[union-attr]
        for ln in section(out, "Spam scores")
    )
    assert scores["> 100"] == "1"  # GTUBE: 1000 points
    times = section(out, "  Scan time (s)")
    assert [t.split()[0] for t in times] == ["CLEAN", "SPAM", "VIRUS", "ATTACH", "ERROR"]
    assert re.match(r"  CLEAN\s+2\s+\d+\.\d{4}\s+\d+\.\d{4}\s+\d+\.\d{4}$", times[0])
    hours = section(out, "Messages per hour, UTC")
    assert sum(int(h.split()[2]) for h in hours) == 6
    assert hours[-1].startswith("  " + time.strftime("%Y-%m-%d", time.gmtime()))
    assert "lines only this simscan writes: " in out
    assert "only the C simscan: 0," in out


def test_stats_of_one_file_and_of_stdin(logdir: Path) -> None:
    current = logdir / "current"
    expected = len(verdict_lines(current))
    assert 0 < expected < 6
    done = stats(current)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{expected} messages (verdict lines)")
    piped = stats(stdin=current.read_bytes())
    assert piped.stdout == done.stdout


def test_prometheus_file(logdir: Path, tmp_path: Path) -> None:
    target = tmp_path / "textfile" / "simscan.prom"
    target.parent.mkdir()
    done = stats("--prometheus", target, logdir)
    assert done.returncode == 0, done.stderr
    assert os.listdir(target.parent) == ["simscan.prom"]  # the temp file was renamed
    families = {f.name: f for f in text_string_to_metric_families(target.read_text())}

    def samples(family: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
        return {
            tuple(sorted(s.labels.items())): s.value
            for s in families[family].samples
            if s.name == name
        }

    assert samples("simscan_messages", "simscan_messages_total") == {
        (("verdict", "CLEAN"),): 2,
        (("verdict", "SPAM REJECT"),): 1,
        (("verdict", "VIRUS"),): 1,
        (("verdict", "ATTACH"),): 1,
        (("verdict", "ERROR 91"),): 1,
    }
    assert samples("simscan_viruses", "simscan_viruses_total") == {
        (("name", "Eicar-Test-Signature.UNOFFICIAL"),): 1
    }
    assert samples("simscan_attachments", "simscan_attachments_total") == {
        (("extension", ".exe"),): 1
    }
    assert samples("simscan_warnings", "simscan_warnings_total") == {
        (("kind", "cannot quarantine in PATH (…)"), ("level", "warning")): 3
    }
    counted = samples("simscan_scan_seconds", "simscan_scan_seconds_count")
    assert counted[(("verdict", "CLEAN"),)] == 2
    assert sum(counted.values()) == 6
    scored = [ln for f in logdir.iterdir() for ln in verdict_lines(f) if b" (" in ln.split(b":")[2]]
    assert samples("simscan_spam_score", "simscan_spam_score_count") == {(): len(scored)}
    buckets = samples("simscan_spam_score", "simscan_spam_score_bucket")
    assert buckets[(("le", "100.0"),)] == len(scored) - 1  # all but GTUBE
    (last,) = samples(
        "simscan_log_last_timestamp_seconds", "simscan_log_last_timestamp_seconds"
    ).values()
    assert time.time() - 600 < last <= time.time()


def test_prometheus_file_replaces_the_old_one(tmp_path: Path) -> None:
    target = tmp_path / "simscan.prom"
    target.write_text("old\n")
    log = tmp_path / "log"
    log.write_text("simscan:[1]:VIRUS:0.2000s:Eicar:192.0.2.9:a@b:c@d\n")
    assert stats("--prometheus", target, log).returncode == 0
    text = target.read_text()
    assert 'simscan_messages_total{verdict="VIRUS"} 1.0' in text
    assert "simscan_log_last_timestamp_seconds" not in text  # no stamps, no time
    assert sorted(os.listdir(tmp_path)) == ["log", "simscan.prom"]


def test_prometheus_file_in_a_missing_dir(tmp_path: Path) -> None:
    done = stats("--prometheus", tmp_path / "nope" / "simscan.prom", stdin=b"")
    assert done.returncode == 1
    assert done.stderr.startswith(f"simscan stats: cannot write {tmp_path}/nope/simscan.prom (")


# --- the C program's lines, counted the same way ---------------------------------

C_LOG = """\
@4000000069331a4e00000000 simscan:[301]:CLEAN (1.20/5.00/10.00):0.9121s:Lunch_ Thursday?:192.0.2.10:sender@example.com:rcpt@example.net
@4000000069331a4f00000000 simscan:[302]:SPAM REJECT (1000.00/5.00/10.00):1.0001s:Cheap watches:198.51.100.7:sender@example.com:rcpt@example.net
@4000000069331a5000000000 simscan:[303]:CLEAN (0.50/5.00/10.00):0.8000s:the files:198.51.100.7:sender@example.com:rcpt@example.net
@4000000069331a5000000000 simscan:[303]:VIRUS:0.9000s:Eicar-Test-Signature:198.51.100.7:sender@example.com:rcpt@example.net
@4000000069331a5100000000 simscan:[304]:ATTACH:0.0100s:setup.exe:2001:db8::1:sender@example.com:rcpt@example.net
@4000000069331a5100000000 simscan:[305]: error making work dir, exit 400, errno: 13
@4000000069331a5200000000 simscan:[306]:SPAM REJECT (15.30/5.00):1.0001s:Old: format:192.0.2.10:sender@example.com:rcpt@example.net
"""  # noqa: E501
OUR_LOG = """\
@4000000069331a4e00000000 simscan:[301]:CLEAN (1.20/5.00/10.00):0.9121s:Lunch_ Thursday?:192.0.2.10:sender@example.com:rcpt@example.net
@4000000069331a4f00000000 simscan:[302]:SPAM REJECT (1000.00/5.00/10.00):1.0001s:Cheap watches:198.51.100.7:sender@example.com:rcpt@example.net
@4000000069331a5000000000 simscan:[303]:VIRUS:0.9000s:Eicar-Test-Signature:198.51.100.7:sender@example.com:rcpt@example.net
@4000000069331a5100000000 simscan:[304]:ATTACH:0.0100s:setup.exe:2001_db8__1:sender@example.com:rcpt@example.net
@4000000069331a5100000000 simscan:[305]: warning: cannot quarantine in /var/qmail/quarantine (No such file or directory)
@4000000069331a5200000000 simscan:[306]:SPAM REJECT (15.30/5.00/10.00):1.0001s:Old_ format:192.0.2.10:sender@example.com:rcpt@example.net
"""  # noqa: E501


def test_c_lines_count_as_ours_do(tmp_path: Path) -> None:
    (tmp_path / "c").write_text(C_LOG)
    (tmp_path / "ours").write_text(OUR_LOG)
    c, ours = stats(tmp_path / "c").stdout, stats(tmp_path / "ours").stdout
    for title in ("Top virus names", "Top blocked extensions"):
        assert counts(c, title) == counts(ours, title)
    assert counts(ours, "Top sender IPs") == {"192.0.2.10": 2, "198.51.100.7": 2, "2001:db8::1": 1}
    # (C's extra CLEAN line for the virus message counts its IP once more)
    assert counts(c, "Top sender IPs") == {"192.0.2.10": 2, "198.51.100.7": 3, "2001:db8::1": 1}
    # C's two lines for a virus found after a spam scan: counted as lines
    assert counts(c, "Messages per verdict") == {
        "CLEAN": 2, "SPAM REJECT": 2, "VIRUS": 1, "ATTACH": 1,
    }  # fmt: skip
    assert "only the C simscan: 3," in c
    assert "such a message counts under both" in c
    assert section(c, "Warnings and notes by kind") == [
        "         1 message: error making work dir, exit N, errno: N"
    ]
    assert "from 2025-12-05 17:45:40 UTC to 2025-12-05 17:45:44 UTC" in c


# --- --since ---------------------------------------------------------------------------


def iso_log(tmp_path: Path) -> Path:
    log = tmp_path / "syslog"
    log.write_text(
        "2026-12-04T23:59:59Z mx qmail-smtpd[1]: "
        "simscan:[1]:CLEAN:0.1000s:old:192.0.2.1:a@b:c@d\n"
        "2026-12-05T12:00:00Z mx qmail-smtpd[2]: "
        "simscan:[2]:VIRUS:0.2000s:Eicar:192.0.2.2:a@b:c@d\n"
        "2026-12-05T13:30:00+01:00 mx qmail-smtpd[3]: "
        "simscan:[3]:ATTACH:0.3000s:a.exe:192.0.2.3:a@b:c@d\n"
        "simscan:[4]:REGEX:0.0100s:#1:192.0.2.4:a@b:c@d\n"
        "2026-12-05T13:00:00Z mx sshd[9]: Accepted publickey for root\n"
    )
    return log


def test_since_an_iso_time(tmp_path: Path) -> None:
    out = stats("--since", "2026-12-05T12:00Z", iso_log(tmp_path)).stdout
    assert counts(out, "Messages per verdict") == {"VIRUS": 1, "ATTACH": 1}
    assert "since 2026-12-05 12:00:00 UTC: left out 1 older lines and 1 without a time stamp" in out
    assert "from 2026-12-05 12:00:00 UTC to 2026-12-05 12:30:00 UTC" in out
    assert section(out, "Messages per hour, UTC") == [
        "  2026-12-05 12:00        2 ########################################"
    ]


def test_since_a_date_is_local_midnight(tmp_path: Path) -> None:
    out = stats("--since", "2026-12-05", iso_log(tmp_path), tz="Europe/Berlin").stdout
    assert "since 2026-12-04 23:00:00 UTC: left out 0 older lines" in out
    assert counts(out, "Messages per verdict") == {"CLEAN": 1, "VIRUS": 1, "ATTACH": 1}


def test_since_an_age(tmp_path: Path) -> None:
    now = time.time()
    log = tmp_path / "current"
    log.write_text(
        "".join(
            f"@{(1 << 62) + 10 + int(now - age):016x}{0:08x} "
            "simscan:[1]:CLEAN:0.1000s:s:192.0.2.1:a@b:c@d\n"
            for age in (3 * 86400, 2 * 3600, 600)
        )
    )
    for since, n in (("30m", 1), ("3h", 2), ("1d", 2), ("7d", 3)):
        out = stats("--since", since, log).stdout
        assert counts(out, "Messages per verdict") == {"CLEAN": n}, since


def test_without_stamps_there_is_no_volume(tmp_path: Path) -> None:
    out = stats(stdin=b"simscan:[4]:REGEX:0.0100s:#1:192.0.2.4:a@b:c@d\n").stdout
    assert "Volume per hour: the lines have no time stamps" in out
    assert "1 simscan lines have no time stamp" in out
    assert counts(out, "Messages per verdict") == {"REGEX": 1}


def test_bad_since_and_missing_file(tmp_path: Path) -> None:
    done = stats("--since", "yesterday", stdin=b"")
    assert done.returncode == 2
    assert done.stderr.startswith("simscan stats: --since 'yesterday': expected an ISO date")
    done = stats(tmp_path / "nope")
    assert done.returncode == 1
    assert (
        done.stderr == f"simscan stats: cannot read {tmp_path}/nope (No such file or directory)\n"
    )


def test_empty_input() -> None:
    done = stats(stdin=b"")
    assert done.returncode == 0
    assert done.stdout.startswith("0 messages (verdict lines), 0 warning, note and debug lines")
    assert "Messages per verdict: none" in done.stdout


def test_help_exits_0() -> None:
    done = stats("--help")
    assert done.returncode == 0
    assert done.stdout.startswith("usage: simscan stats [-h] [--since TIME] [--prometheus FILE]")
    for word in ("multilog", "--since", "--prometheus", "without a stamp are then left out"):
        assert word in " ".join(done.stdout.split()), word


def test_syslog_local_time(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    year = time.gmtime().tm_year
    log.write_text("Jan  2 10:00:00 mx qmail-smtpd[1]: simscan:[1]:CLEAN:0.1s:s:(null):a@b:c@d\n")
    out = stats(log, tz="Europe/Berlin").stdout
    # 10:00 in Berlin in January is 09:00 UTC, this year or last
    assert re.search(rf"from ({year}|{year - 1})-01-02 09:00:00 UTC", out), out
