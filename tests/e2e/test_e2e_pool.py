"""End to end: a pool of scanner hosts (README "A pool of scanner hosts").

A dead host is a real one here: a listener on 127.0.0.2 whose accept
queue is full, so Linux drops the SYNs and a connect times out as to a
host that is down.  Which endpoint a message reached is counted by TCP
proxies (tests/daemons.CountingProxy) in front of the real clamd, spamd
and rspamd.  Every run is the installed simscan, as qmail-smtpd runs it.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from daemons import (
    EICAR,
    EICAR_NAME,
    GTUBE,
    RSPAMD_GTUBE,
    Clamd,
    CountingProxy,
    Rspamd,
    Spamd,
    black_hole,
)
from harness import Outcome, Site, envelope, simscan_command, smtpd_run
from test_e2e_basic import ENV, MESSAGE, parse_log

from simscan.scan import health
from simscan.wire.netio import Endpoint

TIMEOUT = 2.0  # clamd_connect_timeout in the dead host tests
README = Path(__file__).parents[2] / "README.md"


def message(i: int, virus: bool) -> bytes:
    body = EICAR if virus else b"The minutes of meeting %d." % i
    return b"From: a@example.com\nTo: r%d@example.net\nSubject: m %d\n\n%s\n" % (i, i, body)


def rcpt_envelope(i: int) -> bytes:
    return envelope(b"a@example.com", b"r%d@example.net" % i)


def run_many(
    site: Site, n: int, workers: int, env: dict[str, str], virus_every: int = 3
) -> list[tuple[int, bool, Outcome, float]]:
    """n messages, `workers` simscans at a time; every `virus_every`th
    carries EICAR.  (i, virus, outcome, seconds) for each."""

    def one(i: int) -> tuple[int, bool, Outcome, float]:
        virus = i % virus_every == 0
        start = time.monotonic()
        out = smtpd_run(simscan_command(), message(i, virus), rcpt_envelope(i), env=env)
        return i, virus, out, time.monotonic() - start

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, range(n)))


def assert_verdicts(site: Site, runs: list[tuple[int, bool, Outcome, float]]) -> None:
    """Clean ones queued as sent, EICAR refused: each its own verdict."""
    queued = {r.envelope: r.message for r in site.records()}
    for i, virus, out, _ in runs:
        (line,) = out.log_lines
        fields = parse_log(line)
        if virus:
            assert out.exit_code == 31, (i, out.stderr)
            assert (fields["state"], fields["detail"]) == (b"VIRUS", EICAR_NAME.encode())
            assert rcpt_envelope(i) not in queued
        else:
            assert out.exit_code == 0, (i, out.stderr)
            assert fields["state"] == b"CLEAN", line
            assert queued[rcpt_envelope(i)] == message(i, False)


@pytest.fixture
def dead_host() -> Iterator[Endpoint]:
    """127.0.0.2:PORT, a host that never answers a SYN."""
    listener, fill = black_hole("127.0.0.2")
    yield Endpoint(host="127.0.0.2", port=listener.getsockname()[1])
    for s in [listener, *fill]:
        s.close()


def mark_path(site: Site, kind: str, endpoint: Endpoint) -> Path:
    return site.work / health.DIR_NAME / health.file_name(kind, endpoint)


def test_a_dead_host_costs_one_connect_timeout_not_one_per_message(
    site: Site, clamd: Clamd, dead_host: Endpoint
) -> None:
    site.configure(
        clamav=True,
        clamd=[str(dead_host), clamd.tcp],
        clamd_connect_timeout=TIMEOUT,
        scanner_retry=300,
    )
    failover = (
        f"clamd 127.0.0.2 port {dead_host.port} timed out; "
        f"127.0.0.1 port {clamd.port} answered instead"
    ).encode()
    # 50 at once, none knowing yet: those that try the dead host first
    # wait one connect timeout (not one each for all the messages before)
    start = time.monotonic()
    first = run_many(site, 50, 50, site.env())
    wall = time.monotonic() - start
    assert_verdicts(site, first)
    assert wall < 0.5 * 50 * TIMEOUT, wall
    waited = [seconds for _, _, out, seconds in first if out.warnings]
    assert waited, "no message tried the dead host"
    for _, _, out, seconds in first:
        assert out.warnings in ([], [failover]), out.stderr
        if out.warnings:
            assert TIMEOUT <= seconds < 3 * TIMEOUT + 10
    assert mark_path(site, "clamd", dead_host).is_file()

    # Now known: the next 50 skip it, and none waits for it
    site.clear_queue()
    start = time.monotonic()
    second = run_many(site, 50, 50, site.env(SIMSCAN_DEBUG="1"))
    wall = time.monotonic() - start
    assert_verdicts(site, second)
    skipped = re.compile(
        rb"debug: clamd 127.0.0.2 port %d: marked down, \d+ s until it is tried again; tried last"
        % dead_host.port
    )
    for _, _, out, _ in second:
        assert out.warnings == [], out.stderr
        assert skipped.search(out.stderr), out.stderr
    assert sum(seconds for *_, seconds in second) < 0.5 * 50 * TIMEOUT
    assert wall < 0.5 * 50 * TIMEOUT, wall
    assert sorted(os.listdir(site.work)) == [health.DIR_NAME]  # (no work dir left)


def test_a_host_that_comes_back_is_used_again(site: Site, clamd: Clamd) -> None:
    listener, fill = black_hole("127.0.0.2")
    port = listener.getsockname()[1]
    dead = Endpoint(host="127.0.0.2", port=port)
    retry = 2.0
    site.configure(
        clamav=True, clamd=[str(dead), clamd.tcp], clamd_connect_timeout=1, scanner_retry=retry
    )
    try:
        out = site.run(MESSAGE, ENV)
        assert out.exit_code == 0, out.stderr
        assert out.warnings == [
            f"clamd 127.0.0.2 port {port} timed out; 127.0.0.1 port {clamd.port} answered "
            "instead".encode()
        ]
        mark = mark_path(site, "clamd", dead)
        until = mark.stat().st_mtime
    finally:
        for s in [listener, *fill]:
            s.close()
    # The host is back (a proxy to the real clamd, counting what reaches it)
    proxy = CountingProxy(clamd.socket, host="127.0.0.2", port=port)
    back = time.monotonic()
    try:
        out = site.run(MESSAGE, ENV)
        assert out.exit_code == 0, out.stderr
        assert out.warnings == []
        if time.time() < until:  # (within the interval: still skipped)
            assert proxy.count == 0
        time.sleep(max(0.0, until - time.time()) + 0.05)
        out = site.run(MESSAGE, ENV, env=site.env(SIMSCAN_DEBUG="1"))
        assert out.exit_code == 0, out.stderr
        assert out.warnings == []
        assert proxy.count == 1  # tried again, by this message
        assert time.monotonic() - back < retry + 5
        assert b"127.0.0.2 port %d: marked down; this message tries it again" % port in out.stderr
        assert b"127.0.0.2 port %d: answered, no longer marked down" % port in out.stderr
        assert not mark.exists()
        # and first again, as the settings order it
        virus = b"Subject: v\n\n" + EICAR + b"\n"
        out = site.run(virus, ENV)
        assert out.exit_code == 31, out.stderr
        assert parse_log(out.log_lines[0])["detail"] == EICAR_NAME.encode()
        assert proxy.count == 2
    finally:
        proxy.close()
        assert not proxy.errors


def test_a_missing_unix_socket_is_remembered(site: Site, clamd: Clamd, tmp_path: Path) -> None:
    missing = tmp_path / "gone.sock"
    site.configure(clamav=True, clamd=[str(missing), str(clamd.socket)])
    warning = f"clamd {missing} no such socket; {clamd.socket} answered instead".encode()
    out = site.run(MESSAGE, ENV)
    assert (out.warnings, out.workdirs_left) == ([warning], [])
    out = site.run(MESSAGE, ENV)
    assert out.exit_code == 0, out.stderr
    assert out.warnings == []
    assert [p.name for p in (site.work / health.DIR_NAME).iterdir()] == [
        health.file_name("clamd", Endpoint(path=str(missing)))
    ]
    # scanner_retry = 0: nothing remembered, every message tries it first again
    other = Site(tmp_path / "other")
    other.configure(clamav=True, clamd=[str(missing), str(clamd.socket)], scanner_retry=0)
    assert other.run(MESSAGE, ENV).warnings == [warning]
    assert other.run(MESSAGE, ENV).warnings == [warning]
    assert not (other.work / health.DIR_NAME).exists()


def test_all_marked_are_tried_anyway(site: Site, clamd: Clamd, tmp_path: Path) -> None:
    missing = Endpoint(path=str(tmp_path / "gone.sock"))
    good = Endpoint(path=str(clamd.socket))
    site.configure(clamav=True, clamd=[str(missing), str(good)])
    directory = str(site.work / health.DIR_NAME)
    for endpoint in (missing, good):
        assert health.mark(directory, health.file_name("clamd", endpoint), time.time() + 60, b"")
    virus = b"Subject: v\n\n" + EICAR + b"\n"
    out = site.run(virus, ENV)
    assert out.exit_code == 31, out.stderr  # scanned: never failed on memory alone
    assert out.warnings == [f"clamd {missing.path} no such socket; {good.path} answered instead"
                            .encode()]  # fmt: skip
    assert not mark_path(site, "clamd", good).exists()  # it answered: cleared
    assert mark_path(site, "clamd", missing).exists()


def test_a_health_dir_that_cannot_be_used_changes_nothing(
    site: Site, clamd: Clamd, tmp_path: Path
) -> None:
    (site.work / health.DIR_NAME).write_text("not a directory\n")
    missing = tmp_path / "gone.sock"
    site.configure(clamav=True, clamd=[str(missing), str(clamd.socket)])
    warning = f"clamd {missing} no such socket; {clamd.socket} answered instead".encode()
    for _ in range(2):
        out = site.run(MESSAGE, ENV)
        assert out.exit_code == 0, out.stderr
        assert out.warnings == [warning]
        assert out.records[-1].message.endswith(b"A body\n")
    assert (site.work / health.DIR_NAME).read_text() == "not a directory\n"


def test_spamc_that_cannot_connect_marks_the_host(site: Site, spamd: Spamd) -> None:
    # spamc exits 69 when it cannot connect (after its own retries)
    site.configure(
        spam=True, spam_client="spamc", spamc_args=f"-d 127.0.0.2,127.0.0.1 -p {spamd.port}"
    )
    out = site.run(MESSAGE, ENV)
    assert out.exit_code == 0, out.stderr
    assert out.warnings == [
        b"spamc 127.0.0.2 port %d exited 69; 127.0.0.1 port %d answered instead"
        % (spamd.port, spamd.port)
    ]
    assert mark_path(site, "spamd", Endpoint(host="127.0.0.2", port=spamd.port)).is_file()
    start = time.monotonic()
    out = site.run(MESSAGE, ENV)
    assert out.exit_code == 0, out.stderr
    assert out.warnings == []
    assert time.monotonic() - start < 1.5  # (spamc's retries take 2 s)


# --- spreading ----------------------------------------------------------------------------


def counted(site: Site, proxies: list[CountingProxy], n: int, message: bytes) -> list[int]:
    def one(i: int) -> Outcome:
        return smtpd_run(simscan_command(), message, rcpt_envelope(i), env=site.env())

    with ThreadPoolExecutor(max_workers=4) as pool:
        outs = list(pool.map(one, range(n)))
    for out in outs:
        assert out.exit_code in (0, 31), out.stderr
        assert out.warnings == [], out.stderr
    for proxy in proxies:
        assert not proxy.errors
    return [p.count for p in proxies]


@pytest.fixture
def proxies() -> Iterator[list[CountingProxy]]:
    """The counting proxies a test starts, closed after it."""
    made: list[CountingProxy] = []
    yield made
    for proxy in made:
        proxy.close()


def test_spread_shares_clamd_hosts(site: Site, clamd: Clamd, proxies: list[CountingProxy]) -> None:
    proxies += [CountingProxy(clamd.socket), CountingProxy(clamd.socket)]
    hosts = [p.address for p in proxies]
    site.configure(clamav=True, clamd=hosts)
    assert counted(site, proxies, 8, MESSAGE) == [8, 0]  # failover: all to the first
    site.configure(clamav=True, clamd=hosts, scanner_balance="spread")
    a, b = counted(site, proxies, 24, MESSAGE)
    assert a + b == 8 + 24
    assert a - 8 > 0 and b > 0, (a, b)


def test_spread_shares_spamd_hosts(site: Site, spamd: Spamd, proxies: list[CountingProxy]) -> None:
    proxies += [CountingProxy(spamd.socket), CountingProxy(spamd.socket)]
    spam = b"Subject: s\n\n" + GTUBE + b"\n"
    site.configure(spam=True, spamd=[p.address for p in proxies], scanner_balance="spread")
    a, b = counted(site, proxies, 16, spam)
    assert a + b == 16 and a > 0 and b > 0, (a, b)


def test_spread_shares_spamcs_hosts(site: Site, spamd: Spamd, proxies: list[CountingProxy]) -> None:
    # spamc's -d takes one port for its hosts: 127.0.0.1 and 127.0.0.2 on one port
    proxies.append(CountingProxy(spamd.socket))
    proxies.append(CountingProxy(spamd.socket, host="127.0.0.2", port=proxies[0].port))
    site.configure(
        spam=True,
        spam_client="spamc",
        spamc_args=f"-d 127.0.0.1,127.0.0.2 -p {proxies[0].port}",
        scanner_balance="spread",
    )
    a, b = counted(site, proxies, 16, MESSAGE)
    assert a + b == 16 and a > 0 and b > 0, (a, b)


def test_spread_shares_rspamd_hosts(
    site: Site, rspamd: Rspamd, proxies: list[CountingProxy]
) -> None:
    proxies += [CountingProxy(rspamd.socket), CountingProxy(rspamd.socket)]
    site.configure(
        spam=True,
        spam_client="rspamd",
        rspamd=[p.address for p in proxies],
        scanner_balance="spread",
    )
    quiet = b"Subject: quiet\n\n" + RSPAMD_GTUBE["no action"] + b"\n"  # (no score to defer)
    a, b = counted(site, proxies, 16, quiet)
    assert a + b == 16 and a > 0 and b > 0, (a, b)


def test_spread_with_a_dead_host(site: Site, clamd: Clamd, dead_host: Endpoint) -> None:
    proxy = CountingProxy(clamd.socket)
    try:
        site.configure(
            clamav=True,
            clamd=[str(dead_host), proxy.address],
            clamd_connect_timeout=1,
            scanner_balance="spread",
        )
        # Until one message has found it dead, half start there; then none
        runs = run_many(site, 12, 1, site.env())
        assert_verdicts(site, runs)
        assert proxy.count == 12
        waited = [i for i, _, out, _ in runs if out.warnings]
        assert len(waited) <= 1, waited
        assert mark_path(site, "clamd", dead_host).exists() or not waited
    finally:
        proxy.close()


# --- the admin's side -------------------------------------------------------------------


def test_check_shows_endpoints_tried_last(site: Site, clamd: Clamd, tmp_path: Path) -> None:
    missing = tmp_path / "gone.sock"
    site.configure(clamav=True, clamd=[str(missing), str(clamd.socket)])
    site.run(MESSAGE, ENV)
    done = subprocess.run(
        [*simscan_command(), "check", "--to", "b@example.net", "-"],
        input=MESSAGE, env=site.env(), capture_output=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"  tried last: clamd {missing}: marked down, ".encode() in done.stdout
    config = subprocess.run(
        [*simscan_command(), "config"], env=site.env(), capture_output=True, text=True
    )
    name = health.file_name("clamd", Endpoint(path=str(missing)))
    assert re.search(rf"marked down: {re.escape(name)}, tried again in \d+ s", config.stdout)


def test_the_readme_cron_line_spares_the_health_dir(site: Site) -> None:
    (line,) = set(re.findall(r"(find /var/qmail/simscan [^`\n]*)", README.read_text()))
    assert "-name '[0-9]*'" in line
    old = site.work / "1700000000.123456.42"
    old.mkdir()
    (old / "msg").write_text("left by a kill")
    marks = site.work / health.DIR_NAME
    marks.mkdir()
    (marks / "clamd-127.0.0.2-3310").write_text("")
    then = time.time() - 3 * 86400
    for path in (old / "msg", old, marks / "clamd-127.0.0.2-3310", marks):
        os.utime(path, (then, then))
    subprocess.run(["sh", "-c", line.replace("/var/qmail/simscan", str(site.work))], check=True)
    assert sorted(os.listdir(site.work)) == [health.DIR_NAME]
    assert os.listdir(marks) == ["clamd-127.0.0.2-3310"]
