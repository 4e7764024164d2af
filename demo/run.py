"""The demo: messages through the installed simscan into a recording qmail-queue.

Sets up a throw-away qmail site under demo-out/ (control dir with
simscan.toml and a per-domain simcontrol compiled by simscanmk, work dir,
queue, quarantine), runs each sample through `simscan` exactly as
qmail-smtpd would (message on fd 0, envelope on fd 1, custom-error pipe on
fd 4) and prints the verdict, the log line and what was queued.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from harness import Site, envelope  # noqa: E402

MESSAGES = Path(__file__).parent / "messages"
MEANING = {
    0: "accepted",
    31: "refused permanently (554)",
    82: "refused with a custom text",
    71: "temporary failure (451, sender retries)",
    54: "could not read message or envelope (451)",
    91: "envelope format error (451)",
}

SIMCONTROL = """\
# Everyone: refuse Windows programs and one phishing phrase.
:attach=.exe:.scr:.com:.bat:.vbs:.js,regex=verify.your.account
# bob's "-archive" extension also refuses zip files (lists are replaced).
bob-archive@example.net:attach=.exe:.scr:.zip
"""

TO_BOB = envelope(b"sender@example.org", b"bob@example.net")

# (title, message file, envelope, extra environment)
CASES = [
    ("clean message", "clean.eml",
     envelope(b"alice@example.com", b"Bob@Example.NET"), {"TCPREMOTEIP": "192.0.2.10"}),
    ("a PDF attachment", "report.eml", TO_BOB, {}),
    ("a program behind an RFC 2231 name (.PDF.exe)", "invoice.eml", TO_BOB,
     {"TCPREMOTEIP": "198.51.100.23"}),
    ("a .scr inside a forwarded message, RFC 2047 name", "forwarded.eml", TO_BOB, {}),
    ("a regex filter match", "phish.eml", TO_BOB, {}),
    ("bounce (empty sender), two recipients", "bounce.eml",
     envelope(b"", b"alice@example.com", b"alice-lists@example.com"), {}),
    ("envelope without recipients", "clean.eml", b"Falice@example.com\0\0", {}),
    ("envelope cut short", "clean.eml", b"Falice@example.com\0Tbob@exa", {}),
    ("qmail-queue itself fails (exit 81)", "clean.eml",
     envelope(b"alice@example.com", b"bob@example.net"), {"QQ_EXIT": "81"}),
]  # fmt: skip


def main() -> int:
    out_dir = ROOT / "demo-out"
    shutil.rmtree(out_dir, ignore_errors=True)
    site = Site(out_dir)
    quarantine = out_dir / "quarantine"
    quarantine.mkdir()
    site.configure(
        received=True,
        custom_smtp_reject=True,
        per_domain=True,
        attach=True,
        regex=True,
        quarantinedir=str(quarantine),
    )
    print(f"site: {out_dir}\nconfig ({site.config}):")
    print("".join(f"    {line}\n" for line in site.config.read_text().splitlines()))
    built = site.simcontrol(SIMCONTROL)
    print(f"simcontrol ({site.control / 'simcontrol'}):")
    print("".join(f"    {line}\n" for line in SIMCONTROL.splitlines()))
    print(f"simscanmk: {built.stdout.decode().strip()}\n")
    for title, name, env_bytes, extra in CASES:
        seen = len(site.records())
        out = site.run((MESSAGES / name).read_bytes(), env_bytes, env=site.env(**extra))
        queued = site.records()[seen:]
        print(f"== {title}")
        print(f"   exit {out.exit_code}: {MEANING.get(out.exit_code, 'from qmail-queue')}")
        for text in out.warnings:
            print(f"   warning: {text.decode(errors='replace')}")
        for line in out.log_lines:
            print(f"   log: {line.decode(errors='replace')}")
        if out.custom_text:
            print(f"   fd 4: {out.custom_text.decode(errors='replace')}")
        for rec in queued:
            first = rec.message.split(b"\n", 2)
            print(f"   qmail-queue was given {len(rec.message)} bytes; first lines:")
            for line in first[:2]:
                print(f"      {line.decode(errors='replace')}")
        if not queued:
            print("   qmail-queue was not run")
        if out.workdirs_left:
            print(f"   work dirs left behind: {out.workdirs_left}")
        print()
    entries = sorted(quarantine.iterdir())
    print(f"== quarantine ({quarantine}): {len(entries)} entries")
    for entry in entries:
        files = ", ".join(sorted(p.name for p in entry.iterdir()))
        verdict = (entry / "verdict").read_bytes().decode(errors="replace").strip()
        print(f"   {entry.name}: {files}\n      {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
