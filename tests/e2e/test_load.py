"""Load: 50 simscans at once through the real clamd and spamd.

A mixed corpus (clean, spam, virus, blocked attachment), every message with
its own recipient; each must get its own verdict, each queued message must
be exactly what was sent plus SpamAssassin's X-Spam-* headers, and no work
dir may be left behind.
"""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor

from daemons import EICAR, EICAR_NAME, GTUBE, Clamd, Spamd
from harness import Outcome, Site, envelope, simscan_command, smtpd_run
from test_e2e_basic import parse_log

N = 50
KINDS = ("clean", "spam", "virus", "attach")


def message(i: int, kind: str) -> bytes:
    head = (
        b"From: sender@example.com\nTo: r%d@example.net\nSubject: message %d\n"
        b"Message-ID: <load-%d@example.com>\n" % (i, i, i)
    )
    if kind == "clean":
        return head + b"\nThe minutes of meeting %d are attached below.\n" % i
    if kind == "spam":
        return head + b"\n" + GTUBE + b"\n"
    name, data = (b"notes.txt", EICAR) if kind == "virus" else (b"setup.exe", b"MZ program")
    return head + (
        b'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain\n\nsee attached\n"
        b"--b\nContent-Type: application/octet-stream; name=" + name + b"\n"
        b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(data) + b"--b--\n"
    )


def without_spam_headers(processed: bytes) -> bytes:
    """The processed message minus the X-Spam-* header lines SpamAssassin
    put at its top."""
    lines = processed.split(b"\n")
    i = 0
    while i < len(lines) and (
        lines[i].startswith(b"X-Spam-") or (i and lines[i][:1] in (b" ", b"\t"))
    ):
        i += 1
    return b"\n".join(lines[i:])


def test_fifty_at_once(site: Site, clamd: Clamd, spamd: Spamd) -> None:
    (site.control / "ssattach").write_text(".exe\n")
    site.configure(
        clamav=True,
        clamd=str(clamd.socket),
        spam=True,
        spamd=str(spamd.socket),
        attach=True,
        custom_smtp_reject=True,
    )
    cases = [(i, KINDS[i % len(KINDS)]) for i in range(N)]

    def one(case: tuple[int, str]) -> Outcome:
        i, kind = case
        rcpt = b"r%d@example.net" % i
        return smtpd_run(
            simscan_command(), message(i, kind), envelope(b"sender@example.com", rcpt),
            env=site.env(),
        )  # fmt: skip

    with ThreadPoolExecutor(max_workers=N) as pool:
        outcomes = list(pool.map(one, cases))

    queued = {r.envelope: r.message for r in site.records()}
    for (i, kind), out in zip(cases, outcomes, strict=True):
        sent = message(i, kind)
        env = envelope(b"sender@example.com", b"r%d@example.net" % i)
        (line,) = out.log_lines
        fields = parse_log(line)
        assert out.warnings == [], (i, out.stderr)
        if kind == "clean":
            assert out.exit_code == 0, (i, out.stderr)
            assert fields["state"].startswith(b"CLEAN ("), line
            assert without_spam_headers(queued.pop(env)) == sent
        else:
            assert out.exit_code == 82, (i, out.stderr)
            assert env not in queued
        if kind == "spam":
            assert fields["state"].startswith(b"SPAM REJECT ("), line
            assert out.custom_text.startswith(b"DYour email is considered spam (")
        elif kind == "virus":
            assert (fields["state"], fields["detail"]) == (b"VIRUS", EICAR_NAME.encode())
        elif kind == "attach":
            assert (fields["state"], fields["detail"]) == (b"ATTACH", b"setup.exe")
    assert queued == {}  # nothing queued that was not accounted for
    assert list(site.work.iterdir()) == []
