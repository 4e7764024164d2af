"""`simscan config [--check]`: the effective settings and where each came
from, the control files, the work dir for qmail-smtpd's user, the settings
that do nothing; --check against the real clamd, spamd and rspamd."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemons import Clamd, Rspamd, Spamd, refused_socket
from harness import Site, simscan_command


def config(site: Site, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*simscan_command(), "config", *args],
        env=site.env(**env),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def lines(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [ln.strip() for ln in done.stdout.splitlines()]


def test_each_setting_with_its_source(site: Site) -> None:
    site.configure(spam=True, spam_hits=7.5)
    done = config(site, "--smtpd-user", "root")
    assert done.returncode == 0, done.stdout
    out = lines(done)
    assert out[0] == f"settings file: {site.config}"
    text = site.config.read_text().splitlines()
    line = text.index("spam_hits = 7.5") + 1
    assert f"spam_hits = 7.5 # {site.config}:{line}" in [" ".join(x.split()) for x in out]
    assert any(x.startswith("size_limit = 250000") and x.endswith("# default") for x in out)
    assert any(x.startswith('clamd_conf = "/etc/clamav/clamd.conf"') for x in out)
    assert "SIMSCAN_DEBUG is not set" in out
    assert out[-1] == "all well"


def test_a_settings_file_that_does_not_load_is_a_problem(site: Site) -> None:
    site.configure(spam_hits="lots")
    done = config(site)
    assert done.returncode == 1
    assert "PROBLEM: the settings do not load: " in done.stdout
    assert "spam_hits" in done.stdout and "every message gets exit 71" in done.stdout
    missing = site.root / "nope.toml"
    done = config(site, SIMSCAN_CONFIG=str(missing))
    assert done.returncode == 1
    assert f"settings file: {missing} (not found)" in done.stdout
    assert "file not found (named by SIMSCAN_CONFIG)" in done.stdout


def test_simcontrol_newer_than_its_cdb(site: Site) -> None:
    site.configure(per_domain=True)
    site.simcontrol(":clam=no\n")
    cdb = site.control / "simcontrol.cdb"
    os.utime(cdb, (cdb.stat().st_mtime - 60,) * 2)
    done = config(site, "--smtpd-user", "root")
    assert done.returncode == 1
    assert f"PROBLEM: {site.control}/simcontrol is newer than simcontrol.cdb: run simscanmk" in (
        done.stdout
    )
    assert site.simscanmk().returncode == 0
    assert config(site, "--smtpd-user", "root").returncode == 0


def test_simversions_contents(site: Site) -> None:
    site.configure(regex=True)
    assert config(site).stdout.count("simversions.cdb: none (the Received line says `unknown`")
    assert site.simscanmk("-g").returncode == 0
    out = lines(config(site))
    at = out.index("simversions.cdb (simscanmk -g):")
    assert out[at + 1].startswith("regex = ")


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A directory others can reach (pytest's own are root's, mode 0700)."""
    path = Path(tempfile.mkdtemp(prefix="simscan-config-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


def test_the_work_dir_for_qmail_smtpds_user(site: Site, open_dir: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to own the work dir as another user")
    site.work = open_dir / "work"
    site.work.mkdir()
    site.configure(workdir=str(site.work))
    os.chown(site.work, 0, 0)
    site.work.chmod(0o2770)
    done = config(site, "--smtpd-user", "nobody:nogroup")
    assert done.returncode == 1
    assert "qmail-smtpd runs as uid 65534 (nobody) gid 65534 (nogroup), no other groups" in (
        done.stdout
    )
    assert (
        f"PROBLEM: nobody cannot create work dirs in {site.work} ({site.work} is mode 2770, "
        "owned by root:root, neither nobody nor one of its groups: no write and search)"
    ) in done.stdout
    os.chown(site.work, 65534, 65534)
    site.work.chmod(0o700)
    done = config(site, "--smtpd-user", "nobody:nogroup")
    assert done.returncode == 0, done.stdout
    assert f"work dirs in {site.work}: nobody can create them" in done.stdout
    done = config(site, "--smtpd-user", "no-such-user-here")
    assert "PROBLEM: no such user 'no-such-user-here'" in done.stdout


def test_the_marks_of_scanner_endpoints(site: Site, open_dir: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to own the work dir as another user")
    site.work = open_dir / "work"
    site.work.mkdir()
    os.chown(site.work, 65534, 65534)
    site.work.chmod(0o700)
    site.configure(workdir=str(site.work))
    marks = site.work / ".health"
    marks.mkdir()  # (root's, 0755: as a `simscan check` run as root with user = "" leaves it)
    (marks / "clamd-127.0.0.2-3310").write_text("")
    later = time.time() + 20
    os.utime(marks / "clamd-127.0.0.2-3310", (later, later))
    (marks / "spamd-10.0.0.7-783").write_text("")
    (marks / ".spamd-10.0.0.7-783.123").write_text("")  # (a temp file: not shown)
    done = config(site, "--smtpd-user", "nobody:nogroup")
    assert done.returncode == 1
    found = lines(done)
    assert re.fullmatch(
        r"marked down: clamd-127.0.0.2-3310, tried again in (19|20) s",
        found[found.index("marked down: spamd-10.0.0.7-783, tried again by the next message") - 1],
    )
    assert (
        f"PROBLEM: nobody cannot write in {marks} ({marks} is mode 0755, owned by root:root,"
        " neither nobody nor one of its groups: no write): scanner endpoints that are down are"
        " not remembered; remove the dir (simscan makes it again)"
    ) in done.stdout
    os.chown(marks, 65534, 65534)
    done = config(site, "--smtpd-user", "nobody:nogroup")
    assert done.returncode == 0, done.stdout
    shutil.rmtree(marks)
    assert "marked down" not in config(site, "--smtpd-user", "nobody:nogroup").stdout


def test_user_does_nothing_unless_started_as_root(site: Site) -> None:
    site.configure(user="daemon")
    done = config(site, "--smtpd-user", "nobody")
    assert "`user = 'daemon'` does nothing: simscan is not started as root" in done.stdout
    done = config(site, "--smtpd-user", "root")
    assert "simscan drops to `user` 'daemon': uid 1 (daemon)" in done.stdout


def test_config_prints_the_warnings(site: Site) -> None:
    site.configure(per_domain=True, regex=False)
    site.simcontrol(":regex=viagra\n")
    done = config(site, "--smtpd-user", "root")
    assert done.returncode == 0  # warnings alone: still well
    assert "warnings (settings that do nothing):" in done.stdout
    assert "  warning: simcontrol regex= does nothing while regex = false (in '')\n" in (
        done.stdout
    )


# --- --check: the real daemons ------------------------------------------------------


def test_check_with_every_scanner_up(site: Site, clamd: Clamd, spamd: Spamd) -> None:
    site.configure(
        clamav=True, clamd=[str(clamd.socket), clamd.tcp], spam=True, spamd=str(spamd.socket)
    )
    done = config(site, "--check", "--smtpd-user", "root")
    assert done.returncode == 0, done.stdout
    out = lines(done)
    at = out.index("scanners (--check):")
    assert out[at + 1].startswith(f"clamd {clamd.socket}: ClamAV ")
    assert out[at + 2].startswith("EICAR: VIRUS Eicar-Test-Signature")
    assert out[at + 3].startswith("clamd 127.0.0.1 port ")
    assert out[at + 4].startswith("EICAR: VIRUS Eicar-Test-Signature")
    assert out[at + 5] == f"spamd {spamd.socket}: SPAMD/1.5 0 PONG"
    assert out[at + 6].startswith("GTUBE: SPAM REJECT (100")
    assert out[-1] == "all well"
    assert list(site.work.iterdir()) == []
    assert site.records() == []


def test_check_with_a_scanner_down_names_it(
    site: Site, clamd: Clamd, spamd: Spamd, tmp_path: Path
) -> None:
    dead = refused_socket(tmp_path / "dead.sock")
    site.configure(
        clamav=True, clamd=[str(dead), str(clamd.socket)], spam=True, spamd=str(spamd.socket)
    )
    done = config(site, "--check", "--smtpd-user", "root")
    assert done.returncode == 1
    assert (
        f"PROBLEM: clamd {dead}: cannot be asked for its version (connection refused)"
        in done.stdout
    ), done.stdout
    assert "1 problem:" in done.stdout
    site.configure(spam=True, spamd=str(dead))
    done = config(site, "--check", "--smtpd-user", "root")
    assert done.returncode == 1
    assert f"PROBLEM: spamd {dead}: cannot be asked for its version" in done.stdout


def test_check_spamc_with_its_spamd_down(site: Site, spamd: Spamd, tmp_path: Path) -> None:
    dead = refused_socket(tmp_path / "dead.sock")
    site.configure(spam=True, spam_client="spamc", spamc_args=f"-U {dead}")
    done = config(site, "--check", "--smtpd-user", "root")
    assert done.returncode == 1
    assert (
        f"PROBLEM: spamd {dead} (spamc's, from spamc_args): does not answer PING"
        " (connection refused)\n"
    ) in done.stdout, done.stdout
    site.configure(spam=True, spam_client="spamc", spamc_args=f"-U {spamd.socket}")
    done = config(site, "--check", "--smtpd-user", "root")
    assert done.returncode == 0, done.stdout
    assert "  GTUBE: SPAM" in done.stdout


def test_check_a_scanner_that_answers_wrongly(site: Site, spamd: Spamd, clamd: Clamd) -> None:
    # clamd's socket given as spamd's: it answers, but not as spamd
    site.configure(spam=True, spamd=str(clamd.socket))
    done = config(site, "--check", "--smtpd-user", "root")
    assert done.returncode == 1
    assert f"PROBLEM: spamd {clamd.socket}: cannot be asked for its version (" in done.stdout


def test_check_rspamd(site: Site, rspamd: Rspamd, tmp_path: Path) -> None:
    site.configure(spam=True, spam_client="rspamd", rspamd=[str(rspamd.socket), rspamd.tcp])
    done = config(site, "--check", "--smtpd-user", "root")
    assert done.returncode == 0, done.stdout
    out = lines(done)
    at = out.index("scanners (--check):")
    assert out[at + 1].startswith(f"rspamd {rspamd.socket}: rspamd 3.")
    assert out[at + 2].startswith("GTUBE: SPAM REJECT")
    dead = refused_socket(tmp_path / "dead.sock")
    site.configure(spam=True, spam_client="rspamd", rspamd=str(dead))
    done = config(site, "--check", "--smtpd-user", "root")
    assert done.returncode == 1
    assert f"PROBLEM: rspamd {dead}: cannot be asked for its version" in done.stdout
