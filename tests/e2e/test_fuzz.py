"""Fuzz the installed simscan: random and mutated envelopes and messages.

Whatever comes in, a run must end in one of the documented exit codes,
never with a traceback or an internal error, write exactly one verdict
line, queue the message exactly as sent when it exits 0 (nothing here
drops or rewrites), queue nothing otherwise, and leave no work dir.

The policy is on (per-domain cdb, attachment names, regexes), so the
parsers that read sender-controlled bytes all run.  Bounded for CI: a few
hundred examples, each one simscan process.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from daemons import Clamd, Spamd
from harness import Site, envelope
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CORPUS = sorted((Path(__file__).parent.parent / "data" / "attachments").glob("*.eml"))
# 11: qmail-queue's own "address too long" (1003 bytes or more), passed on.
EXIT_CODES = {0, 11, 31, 54, 71, 82, 91}
EXAMPLES = int(os.environ.get("SIMSCAN_FUZZ_EXAMPLES", "150"))


def configure(site: Site) -> None:
    site.configure(per_domain=True, attach=True, regex=True, custom_smtp_reject=True)
    site.simcontrol(
        ":attach=.exe:.scr:.com,regex=^Subject:.*viagra:verify.your.account\n"
        "example.net:attach=.zip\n"
        "joe-lists@example.org:regex=unsubscribe\n"
    )


def check(site: Site, message: bytes, env: bytes) -> None:
    site.clear_queue()
    out = site.run(message, env, timeout=60)
    assert out.exit_code in EXIT_CODES, out
    assert b"Traceback" not in out.stderr, out.stderr
    assert b"internal error" not in out.stderr, out.stderr
    assert len(out.log_lines) == 1, out.stderr
    if out.exit_code == 0:
        assert [r.message for r in out.records] == [message]
        assert [r.envelope for r in out.records] == [through_terminator(env)]
    else:
        assert out.records == []
    assert out.workdirs_left == []


def through_terminator(env: bytes) -> bytes:
    """The envelope qmail-queue is given: up to its terminating NUL (what
    follows is ignored, as qmail-queue ignores it)."""
    at = env.index(b"\0") + 1  # the sender field
    while env[at : at + 1] != b"\0":
        at = env.index(b"\0", at) + 1
    return env[: at + 1]


# --- envelopes -------------------------------------------------------------------

addresses = st.one_of(
    st.binary(max_size=40).map(lambda b: b.replace(b"\0", b"")),
    st.sampled_from([b"joe-lists@example.org", b"a@example.net", b"", b"@", b"x@y@z"]),
    st.integers(1000, 20000).map(lambda n: b"a" * n + b"@example.com"),
)


@st.composite
def envelopes(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["good", "mutated", "random", "many"]))
    if kind == "random":
        return draw(st.binary(max_size=300))
    rcpts = draw(st.lists(addresses, min_size=0, max_size=5))
    if kind == "many":
        rcpts = [b"r%d@example.net" % i for i in range(10000)]
    raw = envelope(draw(addresses), *rcpts) if rcpts else b"F" + draw(addresses) + b"\0\0"
    if kind == "mutated":
        raw = mutate(draw, raw)
    return raw


def mutate(draw: st.DrawFn, data: bytes) -> bytes:
    """Cut, flip, insert NULs, duplicate a piece: a few edits."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["cut", "flip", "nul", "dup", "drop"]))
        at = draw(st.integers(0, max(len(out) - 1, 0)))
        if op == "cut":
            del out[at:]
        elif op == "flip" and out:
            out[at] ^= draw(st.integers(1, 255))
        elif op == "nul":
            out[at:at] = b"\0"
        elif op == "dup":
            out[at:at] = out[at : at + draw(st.integers(1, 200))]
        elif op == "drop":
            del out[at : at + draw(st.integers(1, 50))]
    return bytes(out)


# --- messages --------------------------------------------------------------------


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["corpus", "mutated", "random", "huge header", "nested"]))
    if kind == "random":
        return draw(st.binary(max_size=2000))
    base = CORPUS[draw(st.integers(0, len(CORPUS) - 1))].read_bytes()
    if kind == "corpus":
        return base
    if kind == "mutated":
        return mutate(draw, base)
    if kind == "huge header":
        value = draw(st.sampled_from([b"x", b"; name*0=a", b"=?utf-8?b?YWJj?= "]))
        return (
            b"Content-Type: multipart/mixed; boundary=b\nSubject: "
            + value * ((1 << 20) // len(value))
            + b"\n\n--b\n"
            + base
        )
    depth = draw(st.integers(1, 150))
    body = b"".join(b'Content-Type: multipart/mixed; boundary="n%d"\n\n--n%d\n' % (d, d)
                    for d in range(depth))  # fmt: skip
    tail = base64.encodebytes(draw(st.binary(max_size=300)))
    return body + b"Content-Type: application/octet-stream; name=a.exe\n\n" + tail


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large],
)  # fmt: skip
@given(message=messages(), env=envelopes())
def test_anything_in_gets_a_documented_outcome(site: Site, message: bytes, env: bytes) -> None:
    if not (site.control / "simcontrol.cdb").exists():
        configure(site)
    check(site, message, env)


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_every_corpus_message_cut_at_every_tenth(site: Site, path: Path) -> None:
    """Truncated messages: the message cut short anywhere."""
    configure(site)
    data = path.read_bytes()
    for cut in range(0, len(data), max(1, len(data) // 10)):
        check(site, data[:cut], envelope(b"s@example.com", b"joe-lists@example.org"))


@settings(
    max_examples=max(20, EXAMPLES // 5),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large],
)  # fmt: skip
@given(message=messages())
def test_garbage_through_clamd_and_spamd(
    site: Site, clamd: Clamd, spamd: Spamd, message: bytes
) -> None:
    """The same inputs with the real daemons in the loop.  Their verdicts
    may refuse (31/82) or rewrite (SpamAssassin's headers), so only the
    outcome's shape is checked here."""
    site.configure(
        clamav=True, clamd=str(clamd.socket), spam=True, spamd=str(spamd.socket),
        spam_fail_tempfail=True,
    )  # fmt: skip
    site.clear_queue()
    out = site.run(message, envelope(b"s@example.com", b"r@example.net"), timeout=120)
    assert out.exit_code in EXIT_CODES, out
    assert b"Traceback" not in out.stderr and b"internal error" not in out.stderr, out.stderr
    assert len(out.log_lines) == 1, out.stderr
    assert len(out.records) == (1 if out.exit_code == 0 else 0)
    assert out.workdirs_left == []
