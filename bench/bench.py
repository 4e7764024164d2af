"""simscan benchmark: prints figures, asserts nothing.

Run with `make bench` (the installed simscan, the system /usr/bin/python3);
`bench.py 1 3` runs only those sections.
  1. fixed cost of one 1 KB clean message with no scanners, paired against
     both interpreter floors (`python3 -c pass`, `python3 -I -S -c pass`,
     bin/simscan's own start); pyperf's figure beside it when pyperf is
     installed; the modules imported (-X importtime) and system calls.
  2. ClamAV and SpamAssassin: what simscan adds over asking clamd / spamd
     directly for the same message (local daemons started here), and the
     clamdscan / spamc compatibility modes next to a bare client run.
     rspamd (when installed): simscan + rspamd against one raw /checkv2
     request, for 1 KB and 100 KB, and CPU per message (simscan and the
     daemon's processes together) for spamd and rspamd.
  4. peak memory (RSS) of simscan for 1 KB, 1 MB, 10 MB and 50 MB messages,
     with and without the Received line, and the time they take.
  3. messages per second through clamd and spamd at concurrency 1, 2 and
     8, with a mixed corpus (clean, spam, virus, blocked attachment), and
     the CPU each kind of message costs: simscan, clamd, spamd, the total.
  5. looking inside attachments: time and peak RSS for a 5 MB zip with
     1,000 members, a 10-deep nested zip, a zip bomb expanding to 1 GB, a
     PDF with block_types on (no library loaded), and the same zip of
     1,000 members with types on (each member's first bytes read).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from daemons import EICAR, GTUBE, Clamd, Spamd, start_clamd, start_spamd  # noqa: E402

SIMSCAN = str(Path(sys.executable).parent / "simscan")
PYTHON = "/usr/bin/python3"
ENVELOPE = b"Fsender@example.com\0Trcpt@example.net\0\0"
ENVELOPE_FILE = Path("/nonexistent")  # set by main(): the envelope, in its temp dir
RUNS = int(os.environ.get("BENCH_RUNS", "40"))


def spawn(
    argv: list[str],
    message: Path,
    envelope: Path,
    env: dict[str, str],
    expect: tuple[int, ...] = (0,),
) -> float:
    """Run argv as qmail-smtpd would (fd 0 message, fd 1 envelope); seconds.

    (fd 1 is opened read-write so that `cat` can stand in as a filter that
    copies the message to /dev/null.)"""
    with message.open("rb") as m, envelope.open("r+b") as e:
        start = time.perf_counter()
        pid = os.posix_spawn(
            argv[0], argv, env,
            file_actions=[(os.POSIX_SPAWN_DUP2, m.fileno(), 0),
                          (os.POSIX_SPAWN_DUP2, e.fileno(), 1),
                          (os.POSIX_SPAWN_OPEN, 2, "/dev/null", os.O_WRONLY, 0)],
        )  # fmt: skip
        _, status = os.waitpid(pid, 0)
        elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in expect:
        raise SystemExit(f"{argv[0]} exited {code}")
    return elapsed


def series(argv: list[str], message: Path, envelope: Path, env: dict[str, str]) -> list[float]:
    for _ in range(3):
        spawn(argv, message, envelope, env)
    return [spawn(argv, message, envelope, env) for _ in range(RUNS)]


def show(label: str, samples: list[float]) -> float:
    med = statistics.median(samples)
    q = statistics.quantiles(samples, n=4)
    print(f"  {label:<44} median {med * 1000:7.2f} ms   "
          f"IQR {q[0] * 1000:6.2f}-{q[2] * 1000:6.2f}   "
          f"min {min(samples) * 1000:6.2f}  max {max(samples) * 1000:6.2f}")  # fmt: skip
    return med


def make_site(
    tmp: Path,
    received: bool,
    policy: bool = False,
    regex: bool = True,
    clamav: str = "",
    spam: str = "",
    literal: bool = False,
) -> dict[str, str]:
    """A site; with `policy`, per-domain rules (compiled by simscanmk) that
    turn on attachment blocking and (with `regex`) two regexes for every
    message, plain strings with `literal` (what most sites write: no `re`
    needed); `clamav` is extra settings that turn ClamAV on (else it is
    off)."""
    work = tmp / "work"
    work.mkdir(exist_ok=True)
    config = tmp / f"simscan-{received}-{policy}-{regex}-{literal}-{len(clamav)}-{len(spam)}.toml"
    text = (
        f'user = ""\nworkdir = "{work}"\nqmail_queue = "/bin/true"\n'
        f"received = {'true' if received else 'false'}\n"
        + (f"clamav = true\n{clamav}" if clamav else "clamav = false\n")
        + (f"spam = true\n{spam}" if spam else "")
    )
    if policy:
        control = tmp / f"control-{regex}-{literal}"
        control.mkdir(exist_ok=True)
        patterns = (
            "verify-your-account:cheap-pills-here"
            if literal
            else ("verify.your.account:^Subject.*viagra")
        )
        (control / "simcontrol").write_text(
            f":clam=yes,spam=yes,attach=.exe:.scr:.com:.bat:.vbs:.js,regex={patterns}\n"
        )
        text += f'controldir = "{control}"\nper_domain = true\nattach = true\n'
        text += f"regex = {'true' if regex else 'false'}\n"
    config.write_text(text)
    env = {"PATH": "/usr/bin:/bin", "SIMSCAN_CONFIG": str(config)}
    if policy:
        subprocess.run([SIMSCAN + "mk"], env=env, check=True, capture_output=True)
    return env


def message_file(tmp: Path, size: int, mime: bool = False) -> Path:
    """A text message of `size` bytes; with `mime`, a short text part and a
    base64 attachment (report.pdf) making up the size."""
    path = tmp / f"msg-{size}-{mime}"
    head = b"From: a@example.com\nTo: b@example.net\nSubject: bench\n\n"
    if mime:
        head = (
            b"From: a@example.com\nTo: b@example.net\nSubject: bench\nMIME-Version: 1.0\n"
            b'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\n'
            b"See the report.\n--b\nContent-Type: application/pdf\n"
            b'Content-Disposition: attachment; filename="report.pdf"\n'
            b"Content-Transfer-Encoding: base64\n\n"
        )
        line = b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\n"
        with path.open("wb") as f:
            f.write(head)
            f.write(line * ((size - len(head) - 5) // len(line)))
            f.write(b"--b--\n")
        return path
    line = b"The quick brown fox jumps over the lazy dog 0123456789.\n"
    with path.open("wb") as f:
        f.write(head)
        left = size - len(head)
        block = line * (65536 // len(line))
        while left > 0:
            f.write(block[:left])
            left -= min(left, len(block))
    return path


def paired(arms: dict[str, tuple[list[str], Path, dict[str, str]]]) -> dict[str, list[float]]:
    """Each arm run in turn (A B C A B C ...), RUNS rounds after 3 warm-up
    rounds: the machine's drift touches every arm alike."""
    samples: dict[str, list[float]] = {label: [] for label in arms}
    for round_ in range(RUNS + 3):
        for label, (argv, message, env) in arms.items():
            took = spawn(argv, message, ENVELOPE_FILE, env)
            if round_ >= 3:
                samples[label].append(took)
    return samples


def difference(label: str, a: list[float], b: list[float]) -> float:
    """The median of the paired differences a - b, with their IQR."""
    diffs = [x - y for x, y in zip(a, b, strict=True)]
    med = statistics.median(diffs)
    q = statistics.quantiles(diffs, n=4)
    print(f"  {label:<58} {med * 1000:+6.2f} ms  "
          f"(IQR {q[0] * 1000:+.2f} to {q[2] * 1000:+.2f})")  # fmt: skip
    return med


def pyperf_agrees(tmp: Path, message: Path, env: dict[str, str]) -> None:
    """The headline figure again by pyperf (the tool CPython's benchmarks
    use), when it is installed: `pyperf command`, with its own worker
    processes and loops, not paired; both arms go through one /bin/sh for
    the redirections, which adds the same to each."""
    try:
        import pyperf  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        print("  (pyperf is not installed: `pip install pyperf` to check these with it)")
        return
    wrapper = tmp / "pyperf-run.sh"
    wrapper.write_text(
        "#!/bin/sh\n"
        + "".join(f"{k}='{v}'; export {k}\n" for k, v in env.items())
        + f'exec "$@" < {message} 1<>{ENVELOPE_FILE} 2>/dev/null\n'
    )
    wrapper.chmod(0o755)
    medians = []
    for label, argv in (("python3 -I -S -c pass", [PYTHON, "-I", "-S", "-c", "pass"]),
                        ("simscan", [SIMSCAN])):  # fmt: skip
        out = tmp / "pyperf.json"
        out.unlink(missing_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pyperf", "command", "--quiet", "-o", str(out), "--",
             str(wrapper), *argv],
            check=True, capture_output=True,
        )  # fmt: skip
        bench = pyperf.Benchmark.load(str(out))
        medians.append(bench.median())
        print(f"  pyperf {pyperf.__version__} command, {label:<30} median "
              f"{bench.median() * 1000:6.2f} ms   stdev {bench.stdev() * 1000:5.2f}   "
              f"({bench.get_nvalue()} values)")  # fmt: skip
    print(f"  pyperf: simscan over python3 -I -S -c pass {(medians[1] - medians[0]) * 1000:+.2f} ms"
          " (to set beside the paired figure above)")  # fmt: skip


def imported_modules(message: Path, env: dict[str, str]) -> list[tuple[int, int, str]]:
    """(self us, cumulative us, name) of each module one run of bin/simscan
    imports, from -X importtime under bin/simscan's own -I -S."""
    with message.open("rb") as m, ENVELOPE_FILE.open("rb") as e:
        out = subprocess.run(
            [PYTHON, "-I", "-S", "-X", "importtime", SIMSCAN], stdin=m, stdout=e.fileno(),
            stderr=subprocess.PIPE, check=False, env=env,
        ).stderr.decode()  # fmt: skip
    found = []
    for line in out.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[0].strip().isdigit():
            found.append((int(parts[0]), int(parts[1]), parts[2].strip()))
    return found


def syscalls(argv: list[str], message: Path, env: dict[str, str]) -> dict[str, int]:
    """How many file-lookup system calls one run makes (strace -c), when
    strace is installed; else nothing."""
    import shutil

    if not shutil.which("strace"):
        return {}
    with (
        tempfile.NamedTemporaryFile() as report,
        message.open("rb") as m,
        ENVELOPE_FILE.open("rb") as e,
    ):
        subprocess.run(
            ["strace", "-f", "-c", "-o", report.name, *argv], stdin=m, stdout=e.fileno(),
            stderr=subprocess.DEVNULL, check=False, env=env,
        )  # fmt: skip
        counts = {}
        for line in Path(report.name).read_text().splitlines():
            words = line.split()
            if len(words) >= 5 and words[-1] in ("openat", "newfstatat", "read"):
                counts[words[-1]] = int(words[3])
        return counts


def section_fixed(tmp: Path, small: Path, plain: dict[str, str], received: dict[str, str]) -> None:
    print("1. fixed cost of one 1 KB clean message, no scanners, /bin/true as qmail-queue")
    print("   (timed here by hand: each run posix_spawn + waitpid, the arms paired")
    print("   A B C ... A B C ..., medians; then pyperf, when installed, as a check)")
    literal = make_site(tmp, False, policy=True, regex=True, literal=True)
    regex = make_site(tmp, False, policy=True, regex=True)
    mime = message_file(tmp, 1024, mime=True)
    site = "simscan, per-domain cdb + attachments + literal regex"
    arms = {
        "python3 -c pass": ([PYTHON, "-c", "pass"], small, plain),
        "python3 -I -S -c pass": ([PYTHON, "-I", "-S", "-c", "pass"], small, plain),
        "/bin/true (the qmail-queue used below)": (["/bin/true"], small, plain),
        "simscan, defaults": ([SIMSCAN], small, plain),
        "simscan, Received line on": ([SIMSCAN], small, received),
        site: ([SIMSCAN], small, literal),
        "  the same, a MIME message with a PDF attached": ([SIMSCAN], mime, literal),
        "  the same, text, a regex with metacharacters": ([SIMSCAN], small, regex),
    }
    samples = paired(arms)
    for label, values in samples.items():
        show(label, values)
    mine = samples[site]
    print("  the fixed cost (per-domain cdb + attachments + literal regex, 1 KB text), paired:")
    difference("over python3 -I -S -c pass (bin/simscan's own start)",
               mine, samples["python3 -I -S -c pass"])  # fmt: skip
    difference("over python3 -c pass", mine, samples["python3 -c pass"])
    difference("a regex with metacharacters adds (it imports re)",
               samples["  the same, text, a regex with metacharacters"], mine)  # fmt: skip
    difference("a MIME message with an attachment adds",
               samples["  the same, a MIME message with a PDF attached"], mine)  # fmt: skip
    difference("the Received line adds (defaults)", samples["simscan, Received line on"],
               samples["simscan, defaults"])  # fmt: skip
    pyperf_agrees(tmp, small, literal)
    modules = imported_modules(small, literal)
    ours = [m for m in modules if m[2].startswith("simscan")]
    top = sorted(ours, reverse=True)[:5]
    print(f"  -X importtime of that run: {len(modules)} modules ({len(ours)} of simscan), "
          f"{sum(m[0] for m in modules) / 1000:.1f} ms self time under the profiler;\n"
          "   largest of simscan's: "
          + ", ".join(f"{name} {us} us" for us, _, name in top))  # fmt: skip
    never = sorted({m[2] for m in modules} & {"simscan.admin", "argparse", "json", "re", "typing"})
    print(f"  of simscan.admin, argparse, json, re, typing: {', '.join(never) or 'none loaded'}")
    floor = syscalls([PYTHON, "-I", "-S", "-c", "pass"], small, plain)
    run = syscalls([SIMSCAN], small, literal)
    if run:
        print("  system calls of one run (strace -f -c, with qmail-queue): "
              + ", ".join(f"{k} {run.get(k, 0)} (python3 -I -S -c pass: {floor.get(k, 0)})"
                          for k in sorted(run)))  # fmt: skip
    no_argument_path(small, literal)
    mime.unlink()


def no_argument_path(message: Path, env: dict[str, str]) -> None:
    """bin/simscan sends `check`, `config`, `stats` and `quarantine` to
    simscan.admin: the no-argument run pays one test of argv for it; it
    also keeps the collector off while loading and ends in _exit, which a
    script calling simscan.cli.main and exiting as usual does not.  Paired,
    under the same -I -S."""
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    site = str(Path(SIMSCAN).resolve().parent.parent / "lib" / version / "site-packages")
    direct = [
        PYTHON, "-I", "-S", "-c",
        f"import time; s = time.monotonic(); import sys; sys.path.insert(0, {site!r}); "
        "from simscan.cli import main; sys.exit(main(started=s))",
    ]  # fmt: skip
    samples = paired({"script": ([SIMSCAN], message, env), "direct": (direct, message, env)})
    difference("bin/simscan (admin dispatch, gc, _exit) over calling cli.main",
               samples["script"], samples["direct"])  # fmt: skip


def peak_rss(
    message: Path, envelope: Path, env: dict[str, str], expect: tuple[int, ...] = (0,)
) -> tuple[int, float]:
    with tempfile.NamedTemporaryFile() as report:
        argv = ["/usr/bin/time", "-f", "%M", "-o", report.name, SIMSCAN]
        elapsed = spawn(argv, message, envelope, env, expect)
        return int(Path(report.name).read_text().split()[-1]), elapsed


def instream_direct(clamd: Clamd, message: Path) -> float:
    """One INSTREAM of the message from this process: clamd's own cost
    plus a socket round trip, no process start."""
    import socket

    data = message.read_bytes()
    start = time.perf_counter()
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(clamd.socket))
        s.sendall(b"zINSTREAM\0")
        for i in range(0, len(data), 1 << 18):
            piece = data[i : i + (1 << 18)]
            s.sendall(len(piece).to_bytes(4, "big") + piece)
        s.sendall(b"\0\0\0\0")
        reply = b""
        while not reply.endswith(b"\0"):
            reply += s.recv(4096)
    assert reply == b"stream: OK\0", reply
    return time.perf_counter() - start


def section_clamav(tmp: Path, clamd: Clamd, envelope: Path) -> None:
    print(f"2. ClamAV ({clamd.ask(b'VERSION').decode()}, local unix socket)")
    plain = make_site(tmp, False)
    direct = make_site(tmp, False, clamav=f'clamd = "{clamd.socket}"\n')
    compat = make_site(
        tmp, False, clamav=f'clamav_client = "clamdscan"\nclamd_conf = "{clamd.conf}"\n'
    )
    for size, label in ((1024, "1 KB"), (1 << 20, "1 MB"), (10 << 20, "10 MB")):
        msg = message_file(tmp, size, mime=True)
        runs = RUNS if size < (10 << 20) else max(5, RUNS // 4)
        ask = [instream_direct(clamd, msg) for _ in range(runs)]
        d = show(f"{label}: INSTREAM from a running process", ask)
        b = show(f"{label}: simscan, no scanners", series([SIMSCAN], msg, envelope, plain))
        s = show(f"{label}: simscan, clamd direct", series([SIMSCAN], msg, envelope, direct))
        print(f"  {label}: ClamAV adds {(s - b) * 1000:.2f} ms to simscan; clamd's own "
              f"scan {d * 1000:.2f} ms, simscan's client {(s - b - d) * 1000:.2f} ms")  # fmt: skip
        if size <= (1 << 20):
            c = show(f"{label}: bare `clamdscan -` (one process)",
                     series(["/usr/bin/clamdscan", "--no-summary",
                             f"--config-file={clamd.conf}", "-"], msg, Path("/dev/null"),
                            {"PATH": "/usr/bin:/bin"}))  # fmt: skip
            k = show(f"{label}: simscan, clamdscan mode (as C)",
                     series([SIMSCAN], msg, envelope, compat))  # fmt: skip
            print(f"  {label}: clamdscan mode costs {(k - s) * 1000:.2f} ms more than direct "
                  f"(a clamdscan process alone: {c * 1000:.2f} ms)")  # fmt: skip
        msg.unlink()
    print()


def process_direct(spamd: Spamd, message: Path) -> float:
    """One PROCESS of the message from this process, the answer read whole."""
    import socket

    data = message.read_bytes()
    start = time.perf_counter()
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(spamd.socket))
        s.sendall(b"PROCESS SPAMC/1.5\r\nContent-length: %d\r\n\r\n" % len(data) + data)
        s.shutdown(socket.SHUT_WR)  # as spamc does: spamd reads by lines
        answer = b""
        while got := s.recv(65536):
            answer += got
    assert answer.startswith(b"SPAMD/1.1 0 EX_OK"), answer[:100]
    return time.perf_counter() - start


def section_spam(tmp: Path, spamd: Spamd, envelope: Path) -> None:
    print("2b. SpamAssassin (spamd, local unix socket, local tests only)")
    plain = make_site(tmp, False)
    direct = make_site(tmp, False, spam=f'spamd = "{spamd.socket}"\n')
    compat = make_site(
        tmp, False,
        spam=f'spam_client = "spamc"\nspamc_args = "-U {spamd.socket}"\n',
    )  # fmt: skip
    for size, label in ((1024, "1 KB"), (100 << 10, "100 KB")):
        msg = message_file(tmp, size)
        d = show(f"{label}: PROCESS from a running process",
                 [process_direct(spamd, msg) for _ in range(RUNS)])  # fmt: skip
        b = show(f"{label}: simscan, no scanners", series([SIMSCAN], msg, envelope, plain))
        s = show(f"{label}: simscan, spamd direct", series([SIMSCAN], msg, envelope, direct))
        print(f"  {label}: SpamAssassin adds {(s - b) * 1000:.2f} ms to simscan; spamd "
              f"{d * 1000:.2f} ms, simscan's client {(s - b - d) * 1000:.2f} ms")  # fmt: skip
        c = show(f"{label}: bare `spamc -U` (one process)",
                 series(["/usr/bin/spamc", "-U", str(spamd.socket)], msg, Path("/dev/null"),
                        {"PATH": "/usr/bin:/bin"}))  # fmt: skip
        k = show(f"{label}: simscan, spamc mode (as C)", series([SIMSCAN], msg, envelope, compat))
        print(f"  {label}: spamc mode costs {(k - s) * 1000:.2f} ms more than direct "
              f"(a spamc run alone: {c * 1000:.2f} ms)")  # fmt: skip
        msg.unlink()
    print()


def checkv2_direct(socket_path: Path, message: Path) -> float:
    """One /checkv2 of the message from this process, the answer read whole."""
    import socket

    data = message.read_bytes()
    start = time.perf_counter()
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(socket_path))
        s.sendall(
            b"POST /checkv2 HTTP/1.0\r\nContent-Length: %d\r\nIP: 192.0.2.1\r\n"
            b"Hostname: mail.example.com\r\n\r\n" % len(data) + data
        )
        answer = b""
        while got := s.recv(65536):
            answer += got
    assert answer.startswith(b"HTTP/1.1 200"), answer[:100]
    return time.perf_counter() - start


def tree_cpu(pid: int) -> float:
    """CPU seconds of a daemon: its process and all below it, with the
    children it has reaped (spamd's)."""
    ticks = os.sysconf("SC_CLK_TCK")
    stats: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                text = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            stats[int(entry)] = text.rpartition(")")[2].split()
    total, todo = 0.0, [pid]
    while todo:
        here = todo.pop()
        fields = stats.get(here)
        if fields is None:
            continue
        # after the name: state ppid ... utime(12) stime(13) cutime(14) cstime(15)
        total += sum(int(f) for f in fields[11:15]) / ticks
        todo += [p for p, f in stats.items() if int(f[1]) == here]
    return total


def cpu_per_message(argv: list[str], message: Path, envelope: Path, env: dict[str, str],
                    daemon_pid: int, runs: int) -> tuple[float, float]:  # fmt: skip
    """(simscan's CPU, the daemon's CPU) per message, in ms."""
    mine, (theirs,) = cpu_split(argv, message, envelope, env, [daemon_pid], runs)
    return mine, theirs


def cpu_split(argv: list[str], message: Path, envelope: Path, env: dict[str, str],
              daemon_pids: list[int], runs: int) -> tuple[float, list[float]]:  # fmt: skip
    """simscan's CPU per message (with the qmail-queue it runs: the
    children's rusage counts every waited-for descendant), and each
    daemon's (its process tree, from /proc), in ms."""
    import resource

    before_self = resource.getrusage(resource.RUSAGE_CHILDREN)
    before = [tree_cpu(pid) for pid in daemon_pids]
    for _ in range(runs):
        spawn(argv, message, envelope, env, expect=(0, 31))
    after_self = resource.getrusage(resource.RUSAGE_CHILDREN)
    mine = (after_self.ru_utime + after_self.ru_stime) - (
        before_self.ru_utime + before_self.ru_stime
    )
    theirs = [(tree_cpu(pid) - b) / runs * 1000 for pid, b in zip(daemon_pids, before, strict=True)]
    return mine / runs * 1000, theirs


def section_rspamd(tmp: Path, spamd: Spamd, envelope: Path) -> None:
    import shutil

    from daemons import start_rspamd

    if not shutil.which("rspamd"):
        print("2c. rspamd: not installed (Debian package rspamd), skipped\n")
        return
    print("2c. rspamd (normal worker, local unix socket, offline test configuration)")
    rspamd = start_rspamd()
    try:
        plain = make_site(tmp, False)
        engines = {
            "spamd": make_site(tmp, False, spam=f'spamd = "{spamd.socket}"\n'),
            "rspamd": make_site(
                tmp, False, spam=f'spam_client = "rspamd"\nrspamd = "{rspamd.socket}"\n'
            ),
        }
        env = {k: dict(v, TCPREMOTEIP="192.0.2.1", TCPREMOTEHOST="mail.example.com")
               for k, v in engines.items()}  # fmt: skip
        for size, label in ((1024, "1 KB"), (100 << 10, "100 KB")):
            msg = message_file(tmp, size)
            d = show(f"{label}: /checkv2 from a running process",
                     [checkv2_direct(rspamd.socket, msg) for _ in range(RUNS)])  # fmt: skip
            b = show(f"{label}: simscan, no scanners", series([SIMSCAN], msg, envelope, plain))
            r = show(f"{label}: simscan, rspamd", series([SIMSCAN], msg, envelope, env["rspamd"]))
            print(f"  {label}: rspamd adds {(r - b) * 1000:.2f} ms to simscan; rspamd "
                  f"{d * 1000:.2f} ms, simscan's client {(r - b - d) * 1000:.2f} ms")  # fmt: skip
            for name, pid in (("spamd", spamd.process.pid), ("rspamd", rspamd.process.pid)):  # type: ignore[union-attr]
                mine, theirs = cpu_per_message([SIMSCAN], msg, envelope, env[name], pid, RUNS)
                print(f"  {label}: CPU per message with {name:<6}: simscan {mine:6.2f} ms + "
                      f"{name} {theirs:6.2f} ms = {mine + theirs:6.2f} ms")  # fmt: skip
            msg.unlink()
    finally:
        rspamd.stop()
    print()


def corpus(tmp: Path) -> list[Path]:
    """Clean, spam (GTUBE), virus (EICAR attached), blocked attachment."""
    import base64

    head = b"From: a@example.com\nTo: b@example.net\nSubject: bench %s\n"
    mime = (
        b'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain\n\nattached\n--b\n"
        b"Content-Type: application/octet-stream; name=%s\n"
        b"Content-Transfer-Encoding: base64\n\n%s--b--\n"
    )
    bodies = {
        "clean": head % b"clean" + b"\nThe minutes of the meeting, as promised.\n" * 20,
        "spam": head % b"spam" + b"\n" + GTUBE + b"\n",
        "virus": head % b"virus" + mime % (b"notes.txt", base64.encodebytes(EICAR)),
        "attach": head % b"attach" + mime % (b"setup.exe", base64.encodebytes(b"MZ" * 100)),
    }
    paths = []
    for name, data in bodies.items():
        path = tmp / f"corpus-{name}"
        path.write_bytes(data)
        paths.append(path)
    return paths


def section_throughput(tmp: Path, clamd: Clamd, spamd: Spamd, envelope: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    print("3. messages per second, mixed corpus (clean, spam, virus, attachment),")
    print("   per-domain policy + attachments + regexes + clamd + spamd, all local")
    env = make_site(
        tmp, False, policy=True,
        clamav=f'clamd = "{clamd.socket}"\n', spam=f'spamd = "{spamd.socket}"\n',
    )  # fmt: skip
    files = corpus(tmp) * 10  # 40 messages a batch

    def one(path: Path) -> float:
        return spawn([SIMSCAN], path, envelope, env, expect=(0, 31))

    batches = max(3, RUNS // 10)
    for concurrency in (1, 2, 8):
        rates = []
        for _ in range(batches):
            start = time.perf_counter()
            with ThreadPoolExecutor(concurrency) as pool:
                list(pool.map(one, files))
            rates.append(len(files) / (time.perf_counter() - start))
        print(f"  concurrency {concurrency}: median {statistics.median(rates):6.1f} msgs/s   "
              f"min {min(rates):6.1f}  max {max(rates):6.1f}  ({batches} batches of "
              f"{len(files)})")  # fmt: skip
    # On a small host the rate is bound by total CPU per message: simscan
    # (with its qmail-queue), clamd and spamd together.
    print("  CPU per message by kind (ms; simscan with its qmail-queue from the children's")
    print("  rusage, clamd and spamd from their process trees in /proc; clock ticks, so")
    print(f"  averaged over {RUNS} messages each):")
    pids = [clamd.process.pid, spamd.process.pid]  # type: ignore[union-attr]
    totals = []
    for path in corpus(tmp):
        mine, (av, sa) = cpu_split([SIMSCAN], path, envelope, env, pids, RUNS)
        totals.append(mine + av + sa)
        print(f"    {path.name.removeprefix('corpus-'):<7} simscan {mine:6.2f}   clamd {av:6.2f}   "
              f"spamd {sa:6.2f}   total {mine + av + sa:6.2f}")  # fmt: skip
    print(f"    mixed   (the four alike) total {statistics.mean(totals):6.2f} ms per message")
    print()


def main() -> int:
    wanted = set(sys.argv[1:]) or {"1", "2", "3", "4", "5"}
    interpreter = f"python {sys.version.split()[0]} ({os.path.realpath(sys.executable)})"
    print(f"simscan benchmark: {SIMSCAN}")
    print(f"  {interpreter}, {os.cpu_count()} cpus, {RUNS} runs each\n")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        global ENVELOPE_FILE
        envelope = ENVELOPE_FILE = tmp / "envelope"
        envelope.write_bytes(ENVELOPE)
        small = message_file(tmp, 1024)
        plain, received = make_site(tmp, False), make_site(tmp, True)

        policy = make_site(tmp, False, policy=True)
        if "1" in wanted:
            section_fixed(tmp, small, plain, received)
            print()

        if wanted & {"2", "3"}:
            clamd = start_clamd(tmp / "clamd", stream_max=100 << 20)
            try:
                if "2" in wanted:
                    section_clamav(tmp, clamd, envelope)
                spamd = start_spamd()
                try:
                    if "2" in wanted:
                        section_spam(tmp, spamd, envelope)
                        section_rspamd(tmp, spamd, envelope)
                    if "3" in wanted:
                        section_throughput(tmp, clamd, spamd, envelope)
                finally:
                    spamd.stop()
            finally:
                clamd.stop()

        if "4" in wanted:
            print("4. peak memory (max RSS of simscan) and time by message size")
            for size, label in ((1024, "1 KB"), (1 << 20, "1 MB"), (10 << 20, "10 MB"),
                                (50 << 20, "50 MB")):  # fmt: skip
                msg = message_file(tmp, size)
                mime = message_file(tmp, size, mime=True)
                for name, env, path in (("plain", plain, msg), ("Received", received, msg),
                                        ("policy", policy, mime)):  # fmt: skip
                    rss, elapsed = peak_rss(path, envelope, env)
                    rate = size / elapsed / 1e6
                    print(f"  {label:>6} {name:<9} max RSS {rss / 1024:6.1f} MB   "
                          f"{elapsed * 1000:8.1f} ms   {rate:8.1f} MB/s")  # fmt: skip
                msg.unlink()
                mime.unlink()
            print("  (policy: per-domain cdb, attachment names and two regexes over a MIME")
            print("   message whose size is one base64 attachment)")

        if "5" in wanted:
            section_archives(tmp, envelope)
    return 0


def section_archives(tmp: Path, envelope: Path) -> None:
    """Inside attachments, through the installed simscan (defaults:
    archive_depth 3, 100 MB, 10,000 members, ratio 1000)."""
    import samples

    print("5. looking inside attachments (attach = true, .exe blocked): time and max RSS")
    control = tmp / "control-archives"
    control.mkdir(exist_ok=True)
    (control / "ssattach").write_text(".exe\n.scr\n")
    sites = {}
    for name, extra in (("names", ""), ("types", 'block_types = ["executable", "macro"]\n')):
        config = tmp / f"simscan-archives-{name}.toml"
        config.write_text(
            f'user = ""\nworkdir = "{tmp / "work"}"\nqmail_queue = "/bin/true"\n'
            f'clamav = false\nattach = true\ncontroldir = "{control}"\n{extra}'
        )
        sites[name] = {"PATH": "/usr/bin:/bin", "SIMSCAN_CONFIG": str(config)}
    members = [(f"dir{i // 100}/file{i}.bin", os.urandom(5000)) for i in range(1000)]
    cases = [
        ("5 MB zip, 1,000 members", "names", samples.zip_of(members, 0)),
        ("  the same, block_types on", "types", samples.zip_of(members, 0)),
        ("10-deep nested zip (over the depth)", "names", samples.nested_zip(10, "a.txt", b"x")),
        ("zip bomb, 1 GB of zeros", "names", samples.zip_bomb(1 << 30)),
        ("  the same, block_types on", "types", samples.zip_bomb(1 << 30)),
        ("a 1 MB PDF, block_types on", "types", samples.PDF + os.urandom(1 << 20)),
    ]
    for label, site, data in cases:
        path = tmp / "archive-msg"
        path.write_bytes(samples.message(("attachment.bin", data)))
        env = sites[site]
        times, rss = [], []
        for _ in range(max(3, RUNS // 8)):
            peak, elapsed = peak_rss(path, envelope, env, expect=(0, 31))
            times.append(elapsed)
            rss.append(peak)
        print(f"  {label:<40} median {statistics.median(times) * 1000:8.1f} ms   "
              f"max RSS {max(rss) / 1024:6.1f} MB")  # fmt: skip
    print("  (the bomb is refused by its declared size before it is read; members are")
    print("   read to their end, their first 64 KB and last 64 KB kept)")


if __name__ == "__main__":
    sys.exit(main())
