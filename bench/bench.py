"""simscan benchmark: prints figures, asserts nothing.

Run with `make bench` (the installed simscan, the system /usr/bin/python3).
  1. fixed cost of one small clean message with no scanners, next to the
     floors: a bare `python3 -c pass`, and `cat` as the $QMAILQUEUE program;
     plus simscan's import time.
  4. peak memory (RSS) of simscan for 1 KB, 1 MB, 10 MB and 50 MB messages,
     with and without the Received line, and the time they take.
(Sections 2 and 3, scanner overhead and messages per second through clamd
and spamd, come with the scanners.)
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
SIMSCAN = str(Path(sys.executable).parent / "simscan")
PYTHON = "/usr/bin/python3"
ENVELOPE = b"Fsender@example.com\0Trcpt@example.net\0\0"
RUNS = int(os.environ.get("BENCH_RUNS", "40"))


def spawn(argv: list[str], message: Path, envelope: Path, env: dict[str, str]) -> float:
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
    if code != 0:
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
    tmp: Path, received: bool, policy: bool = False, regex: bool = True
) -> dict[str, str]:
    """A site; with `policy`, per-domain rules (compiled by simscanmk) that
    turn on attachment blocking and (with `regex`) two regexes for every
    message."""
    work = tmp / "work"
    work.mkdir(exist_ok=True)
    config = tmp / f"simscan-{received}-{policy}-{regex}.toml"
    text = (
        f'user = ""\nworkdir = "{work}"\nqmail_queue = "/bin/true"\n'
        f"received = {'true' if received else 'false'}\n"
    )
    if policy:
        control = tmp / f"control-{regex}"
        control.mkdir(exist_ok=True)
        (control / "simcontrol").write_text(
            ":attach=.exe:.scr:.com:.bat:.vbs:.js,regex=verify.your.account:^Subject.*viagra\n"
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


def import_time() -> str:
    out = subprocess.run(
        [str(Path(sys.executable)), "-X", "importtime", "-c", "import simscan.cli"],
        capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    total = 0
    for line in out.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[2].strip() == "simscan.cli":
            total = int(parts[1])
    heavy = sorted(
        (int(p[0].split(":")[1]), p[2].strip())
        for p in (ln.split("|") for ln in out.splitlines()[1:]) if len(p) == 3
    )[-5:]  # fmt: skip
    own = ", ".join(f"{name.strip()} {us} us" for us, name in reversed(heavy))
    return f"{total} us cumulative (largest self times: {own})"


def peak_rss(message: Path, envelope: Path, env: dict[str, str]) -> tuple[int, float]:
    with tempfile.NamedTemporaryFile() as report:
        argv = ["/usr/bin/time", "-f", "%M", "-o", report.name, SIMSCAN]
        elapsed = spawn(argv, message, envelope, env)
        return int(Path(report.name).read_text().split()[-1]), elapsed


def main() -> int:
    interpreter = f"python {sys.version.split()[0]} ({os.path.realpath(sys.executable)})"
    print(f"simscan benchmark: {SIMSCAN}")
    print(f"  {interpreter}, {os.cpu_count()} cpus, {RUNS} runs each\n")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        envelope = tmp / "envelope"
        envelope.write_bytes(ENVELOPE)
        small = message_file(tmp, 1024)
        plain, received = make_site(tmp, False), make_site(tmp, True)

        print("1. fixed cost of one 1 KB clean message, no scanners")
        py = show("python3 -c pass (interpreter floor)",
                  series([PYTHON, "-c", "pass"], small, envelope, plain))  # fmt: skip
        show("cat as $QMAILQUEUE (any filter's floor)",
             series(["/bin/cat"], small, Path("/dev/null"), plain))  # fmt: skip
        show("/bin/true (the qmail-queue used below)",
             series(["/bin/true"], small, envelope, plain))  # fmt: skip
        s1 = show("simscan -> qmail-queue", series([SIMSCAN], small, envelope, plain))
        s2 = show("simscan -> qmail-queue, Received line on",
                  series([SIMSCAN], small, envelope, received))  # fmt: skip
        print(f"  simscan over the interpreter floor: {(s1 - py) * 1000:.2f} ms "
              f"({(s2 - py) * 1000:.2f} ms with Received)")  # fmt: skip
        policy = make_site(tmp, False, policy=True)
        attach_only = make_site(tmp, False, policy=True, regex=False)
        small_mime = message_file(tmp, 1024, mime=True)
        s3 = show("simscan, per-domain cdb + attachments",
                  series([SIMSCAN], small_mime, envelope, attach_only))  # fmt: skip
        s4 = show("simscan, per-domain cdb + attachments + regex",
                  series([SIMSCAN], small_mime, envelope, policy))  # fmt: skip
        print(f"  on a 1 KB MIME message the cdb and attachment check add "
              f"{(s3 - s1) * 1000:.2f} ms, regexes {(s4 - s3) * 1000:.2f} ms more "
              f"(mostly importing re)")  # fmt: skip
        print(f"  import simscan.cli: {import_time()}\n")

        print("4. peak memory (max RSS of simscan) and time by message size")
        for size, label in ((1024, "1 KB"), (1 << 20, "1 MB"), (10 << 20, "10 MB"),
                            (50 << 20, "50 MB")):  # fmt: skip
            msg = message_file(tmp, size)
            mime = message_file(tmp, size, mime=True)
            for name, env, path in (("plain", plain, msg), ("Received", received, msg),
                                    ("policy", policy, mime)):  # fmt: skip
                rss, elapsed = peak_rss(path, envelope, env)
                print(f"  {label:>6} {name:<9} max RSS {rss / 1024:6.1f} MB   "
                      f"{elapsed * 1000:8.1f} ms   {size / elapsed / 1e6:8.1f} MB/s")  # fmt: skip
            msg.unlink()
            mime.unlink()
        print("  (policy: per-domain cdb, attachment names and two regexes over a MIME")
        print("   message whose size is one base64 attachment)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
