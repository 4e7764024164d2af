"""scan.rspamd: decide() (what rspamd's action means next to simscan's
spam settings: the table of the module docstring), the X-Spam-Status line
written for rspamd (`_status`, in SpamAssassin's shape and folding), and
the request headers sent to /checkv2 (`request_fields`)."""

from __future__ import annotations

import pytest

from simscan.config.policy import Policy
from simscan.config.settings import Settings
from simscan.qmail.queue import Envelope
from simscan.qmail.workdir import Message
from simscan.scan.base import Client, Debug, Job
from simscan.scan.rspamd import DEFER_TEXT, _status, decide, request_fields
from simscan.verdict import (
    CLEAN,
    PASSTHRU,
    RELAYCLIENT,
    SPAM,
    SPAM_DEFER,
    SPAM_PASS,
    outcome,
)
from simscan.wire.rspamd import ACTIONS, Reply

SUBJECT = b"Buy now: cheap \xe2\x82\xac"


def reply(action: str, score: float, message: str = "", required: float = 15.0) -> Reply:
    found = Reply(action, score, required)
    found.message = message
    return found


def test_defer_text() -> None:
    assert DEFER_TEXT == b"Try again later"


# (action, score, threshold, passthru, outbound) -> kind
@pytest.mark.parametrize(
    ("action", "score", "threshold", "passthru", "outbound", "kind"),
    [
        # no spam_hits: rspamd's action decides
        ("no action", 1.0, None, False, False, CLEAN),
        ("no action", 99.0, None, False, False, CLEAN),
        ("greylist", 4.5, None, False, False, SPAM_DEFER),
        ("add header", 7.0, None, False, False, SPAM_PASS),
        ("rewrite subject", 9.0, None, False, False, SPAM_PASS),
        ("soft reject", 11.0, None, False, False, SPAM_DEFER),
        ("reject", 16.0, None, False, False, SPAM),
        ("reject", -1.0, None, False, False, SPAM),  # whatever the score
        ("discard", 0.0, None, False, False, SPAM),
        ("quarantine", 3.0, None, False, False, SPAM),
        # ... and spam_passthru delivers what rspamd refuses, tagged
        ("reject", 16.0, None, True, False, PASSTHRU),
        ("discard", 16.0, None, True, False, PASSTHRU),
        ("quarantine", 16.0, None, True, False, PASSTHRU),
        ("no action", 1.0, None, True, False, CLEAN),
        ("add header", 7.0, None, True, False, SPAM_PASS),
        ("rewrite subject", 7.0, None, True, False, SPAM_PASS),
        ("soft reject", 11.0, None, True, False, SPAM_DEFER),  # a deferral is no spam
        ("greylist", 4.5, None, True, False, SPAM_DEFER),
        # spam_hits: at or over it refuses, whatever the action
        ("no action", 12.0, 10.0, False, False, SPAM),
        ("no action", 10.0, 10.0, False, False, SPAM),
        ("no action", 9.99, 10.0, False, False, CLEAN),
        ("add header", 12.0, 10.0, False, False, SPAM),
        ("add header", 9.99, 10.0, False, False, SPAM_PASS),
        ("rewrite subject", 10.0, 10.0, False, False, SPAM),
        ("rewrite subject", 5.0, 10.0, False, False, SPAM_PASS),
        ("greylist", 12.0, 10.0, False, False, SPAM),
        ("greylist", 5.0, 10.0, False, False, SPAM_DEFER),
        ("soft reject", 10.0, 10.0, False, False, SPAM),
        ("soft reject", 9.0, 10.0, False, False, SPAM_DEFER),
        ("reject", 16.0, 10.0, False, False, SPAM),
        # ... under it, rspamd's refusal is delivered flagged
        ("reject", 9.0, 10.0, False, False, SPAM_PASS),
        ("discard", 9.0, 10.0, False, False, SPAM_PASS),
        ("quarantine", 9.0, 10.0, False, False, SPAM_PASS),
        # ... and spam_hits disables passthru
        ("reject", 9.0, 10.0, True, False, SPAM_PASS),
        ("reject", 12.0, 10.0, True, False, SPAM),
        ("no action", 12.0, 10.0, True, False, SPAM),
        ("no action", 1.0, 10.0, True, False, CLEAN),
        # thresholds of zero and below
        ("no action", 0.0, 0.0, False, False, SPAM),
        ("no action", -0.1, 0.0, False, False, CLEAN),
        ("no action", -2.0, -3.0, False, False, SPAM),
        ("reject", -4.0, -3.0, False, False, SPAM_PASS),
        # outgoing mail: spam_hits and passthru do not apply, rspamd's actions do
        ("no action", 50.0, 10.0, False, True, RELAYCLIENT),
        ("no action", 1.0, None, True, True, RELAYCLIENT),
        ("add header", 50.0, 10.0, True, True, RELAYCLIENT),
        ("rewrite subject", 7.0, None, False, True, RELAYCLIENT),
        ("greylist", 50.0, 10.0, False, True, SPAM_DEFER),
        ("soft reject", 11.0, None, True, True, SPAM_DEFER),
        ("reject", 16.0, 10.0, True, True, SPAM),
        ("reject", 5.0, 10.0, False, True, SPAM),
        ("reject", 16.0, None, True, True, SPAM),
        ("discard", 16.0, 20.0, True, True, SPAM),
        ("quarantine", 1.0, None, False, True, SPAM),
    ],
)
def test_decide_table(
    action: str,
    score: float,
    threshold: float | None,
    passthru: bool,
    outbound: bool,
    kind: str,
) -> None:
    verdict = decide(reply(action, score), threshold, passthru, outbound, SUBJECT)
    assert verdict.kind == kind
    assert verdict.detail == SUBJECT
    assert verdict.text is None  # rspamd said no smtp_message
    if kind == SPAM:
        assert verdict.reject_arg == b"%.2f" % score
    elif kind == SPAM_DEFER:
        assert verdict.reject_arg == b"Try again later"
    else:
        assert verdict.reject_arg == SUBJECT


def test_decide_table_covers_every_action() -> None:
    for action in ACTIONS:
        for outbound in (False, True):
            for threshold in (None, 10.0):
                for passthru in (False, True):
                    decide(reply(action, 5.0), threshold, passthru, outbound, b"s")


MESSAGE = "Spam message rejected"


@pytest.mark.parametrize(
    ("action", "score", "threshold", "passthru", "outbound", "kind", "text"),
    [
        # rspamd's own refusals carry its smtp_message as the reject text
        ("reject", 16.0, None, False, False, SPAM, b"Spam message rejected"),
        ("discard", 16.0, None, False, False, SPAM, b"Spam message rejected"),
        ("quarantine", 16.0, None, False, False, SPAM, b"Spam message rejected"),
        ("reject", 16.0, 10.0, False, False, SPAM, b"Spam message rejected"),
        ("reject", 16.0, 10.0, True, False, SPAM, b"Spam message rejected"),
        ("discard", 10.0, 10.0, False, False, SPAM, b"Spam message rejected"),
        ("reject", 16.0, 10.0, False, True, SPAM, b"Spam message rejected"),
        ("reject", 1.0, None, False, True, SPAM, b"Spam message rejected"),
        # simscan's refusal over spam_hits is its own: the spam-hits text
        ("no action", 16.0, 10.0, False, False, SPAM, None),
        ("add header", 16.0, 10.0, False, False, SPAM, None),
        ("rewrite subject", 16.0, 10.0, False, False, SPAM, None),
        ("greylist", 16.0, 10.0, False, False, SPAM, None),
        ("soft reject", 16.0, 10.0, False, False, SPAM, None),
        # delivered: no text at all
        ("reject", 9.0, 10.0, False, False, SPAM_PASS, None),
        ("reject", 16.0, None, True, False, PASSTHRU, None),
        ("add header", 7.0, None, False, False, SPAM_PASS, None),
        ("no action", 1.0, None, False, False, CLEAN, None),
        ("no action", 1.0, None, False, True, RELAYCLIENT, None),
    ],
)
def test_decide_smtp_message(
    action: str,
    score: float,
    threshold: float | None,
    passthru: bool,
    outbound: bool,
    kind: str,
    text: bytes | None,
) -> None:
    verdict = decide(reply(action, score, MESSAGE), threshold, passthru, outbound, SUBJECT)
    assert (verdict.kind, verdict.text) == (kind, text)
    assert verdict.detail == SUBJECT
    assert verdict.reject_arg == (b"%.2f" % score if kind == SPAM else SUBJECT)


@pytest.mark.parametrize(
    ("message", "text"),
    [
        ("", b"Try again later"),
        (" \t\r\n ", b"Try again later"),  # a blank message is no text
        ("Try again later", b"Try again later"),
        ("  Greylisted \n", b"Greylisted"),
        ("Greylisted, try again in 5 minutes", b"Greylisted, try again in 5 minutes"),
        ("caf\u00e9", b"caf\xc3\xa9"),
        ("bad \udcff half", b"bad ? half"),  # a lone surrogate (JSON lets one through)
    ],
)
@pytest.mark.parametrize("action", ["soft reject", "greylist"])
@pytest.mark.parametrize("outbound", [False, True])
def test_decide_defer_text(action: str, message: str, text: bytes, outbound: bool) -> None:
    """A deferral's text is rspamd's message, or rspamd's own default."""
    verdict = decide(reply(action, 5.0, message), 10.0, True, outbound, SUBJECT)
    assert (verdict.kind, verdict.reject_arg, verdict.text) == (SPAM_DEFER, text, None)
    assert verdict.detail == SUBJECT


@pytest.mark.parametrize(
    ("message", "text"),
    [
        ("caf\u00e9", b"caf\xc3\xa9"),
        ("bad \udcff half", b"bad ? half"),
        ("", None),
        ("   ", None),
        (" Spam \r\n", b"Spam"),
    ],
)
def test_decide_reject_text_encoded(message: str, text: bytes | None) -> None:
    verdict = decide(reply("reject", 16.0, message), None, False, False, SUBJECT)
    assert (verdict.kind, verdict.text) == (SPAM, text)


@pytest.mark.parametrize(
    ("score", "shown"),
    [
        (7.1, b"7.10"),
        (1002.7, b"1002.70"),
        (10.0, b"10.00"),
        (12.345, b"12.35"),
        (0.004, b"0.00"),
        (-1.2, b"-1.20"),
        (123456.789, b"123456.79"),
    ],
)
def test_decide_reject_arg(score: float, shown: bytes) -> None:
    assert decide(reply("reject", score), None, False, False, b"s").reject_arg == shown
    assert decide(reply("no action", score), score, False, False, b"s").reject_arg == shown


def test_decide_outcomes() -> None:
    """What qmail sees: rspamd's text, the spam-hits text, a deferral."""
    refused = decide(reply("reject", 16.0, MESSAGE), None, False, False, SUBJECT)
    assert outcome(refused, False, True).custom_text == b"DSpam message rejected"
    assert outcome(refused, False, True).exit_code == 82
    assert outcome(refused, True, True).log_state == "SPAM DROPPED"
    over = decide(reply("add header", 16.0, MESSAGE), 10.0, False, False, SUBJECT)
    assert outcome(over, False, True).custom_text == (
        b"DYour email is considered spam (16.00 spam-hits)"
    )
    deferred = decide(reply("soft reject", 11.0), None, False, False, SUBJECT)
    assert outcome(deferred, False, True).custom_text == b"ZTry again later"
    assert outcome(deferred, True, True).log_state == "SPAM DEFER"
    greylisted = decide(reply("greylist", 5.0, "Greylisted"), None, False, False, SUBJECT)
    assert outcome(greylisted, False, True).custom_text == b"ZGreylisted"


# --- _status -------------------------------------------------------------------------


def status_reply(score: float, symbols: list[tuple[str, float]]) -> Reply:
    found = Reply("add header", score, 15.0)
    found.symbols = symbols
    return found


def test_status_flagged() -> None:
    found = status_reply(7.1, [("BAYES_SPAM", 5.0), ("ARC_NA", 0.0), ("MIME_GOOD", -0.1)])
    assert _status(found, True, 5.0) == (b"Yes, score=7.1 required=5.0 tests=BAYES_SPAM,MIME_GOOD")


def test_status_not_flagged_no_tests() -> None:
    assert _status(status_reply(1.2, []), False, 15.0) == b"No, score=1.2 required=15.0 tests=none"
    zeros = status_reply(0.0, [("ARC_NA", 0.0), ("DMARC_NA", -0.0)])
    assert _status(zeros, False, 15.0) == b"No, score=0.0 required=15.0 tests=none"


def test_status_sorted_and_rounded() -> None:
    found = status_reply(-0.55, [("Z", 1.0), ("A", -1.0), ("M", 0.5), ("B", 0.0)])
    assert _status(found, False, 6.25) == b"No, score=-0.6 required=6.2 tests=A,M,Z"


def test_status_names_as_ascii() -> None:
    found = status_reply(3.0, [("CAF\u00c9", 1.0), ("B\nC", 1.0)])
    assert _status(found, True, 5.0) == b"Yes, score=3.0 required=5.0 tests=B\nC,CAF?"


def test_status_folds_long_lists() -> None:
    found = status_reply(
        7.12,
        [("BAYES_SPAM", 5.0), ("R_DKIM_ALLOW", -0.2), ("MIME_GOOD", -0.1)]
        + [(f"SYMBOL_{i:02d}", 1.0) for i in range(12)],
    )
    assert _status(found, True, 5.0) == (
        b"Yes, score=7.1 required=5.0 tests=BAYES_SPAM,MIME_GOOD,R_DKIM_ALLOW,\n"
        b"\tSYMBOL_00,SYMBOL_01,SYMBOL_02,SYMBOL_03,SYMBOL_04,SYMBOL_05,SYMBOL_06,\n"
        b"\tSYMBOL_07,SYMBOL_08,SYMBOL_09,SYMBOL_10,SYMBOL_11"
    )


def test_status_fold_at_70() -> None:
    """A line may be 70 bytes long; a piece that would make it longer
    starts the next one."""
    start = b"Yes, score=7.1 required=5.0 tests="
    assert len(start) == 34
    fits = status_reply(7.1, [("A" * 36, 1.0)])
    assert _status(fits, True, 5.0) == start + b"A" * 36
    over = status_reply(7.1, [("A" * 37, 1.0)])
    assert _status(over, True, 5.0) == start + b"\n\t" + b"A" * 37
    comma = status_reply(7.1, [("A" * 35, 1.0), ("B", 1.0)])
    assert _status(comma, True, 5.0) == start + b"A" * 35 + b",\n\tB"
    comma = status_reply(7.1, [("A" * 34, 1.0), ("B", 1.0)])
    assert _status(comma, True, 5.0) == start + b"A" * 34 + b",B"


def test_status_fold_strips_the_space_before_it() -> None:
    assert _status(status_reply(1e60, []), True, 5.0) == (
        b"Yes,\n\tscore=999999999999999949387135297074018866963645011013410073083904.0\n"
        b"\trequired=5.0 tests=none"
    )


def test_status_very_long_name() -> None:
    found = status_reply(7.1, [("L" * 80, 1.0), ("S", 1.0)])
    assert _status(found, True, 5.0) == (
        b"Yes, score=7.1 required=5.0 tests=\n\t" + b"L" * 80 + b",\n\tS"
    )


# --- request_fields -----------------------------------------------------------------


def job(
    *,
    sender: bytes = b"a@example.com",
    recipients: tuple[bytes, ...] = (b"b@example.com",),
    client: Client | None = None,
    relayclient: bool = False,
    policy: Policy | None = None,
    workdir: str = "/var/qmail/simscan/1700000000.123456.789",
    debug: list[bytes] | None = None,
) -> Job:
    lines = [] if debug is None else debug
    return Job(
        Message("/nonexistent/msg", 10, b"Subject: x\n\nbody\n"),
        Envelope(b"", sender, list(recipients)),
        Settings(),
        policy or Policy(spam=True),
        workdir,
        b"x",
        Debug(1, lines.append),
        relayclient=relayclient,
        client=client,
    )


def test_request_fields_envelope_only() -> None:
    assert request_fields(job(), False) == [
        (b"From", b"a@example.com"),
        (b"Rcpt", b"b@example.com"),
        (b"Queue-Id", b"1700000000.123456.789"),
    ]


def test_request_fields_everything() -> None:
    found = request_fields(
        job(
            recipients=(b"b@example.com", b"C@Example.COM"),
            client=Client(b"192.0.2.1", b"mx.example.net", b"joe", b"ident"),
            policy=Policy(spam=True, spam_user=b"b@example.com", rspamd_settings=b"strict"),
        ),
        False,
    )
    assert found == [
        (b"From", b"a@example.com"),
        (b"Rcpt", b"b@example.com"),
        (b"Rcpt", b"C@Example.COM"),
        (b"IP", b"192.0.2.1"),
        (b"Hostname", b"mx.example.net"),
        (b"User", b"joe"),
        (b"Queue-Id", b"1700000000.123456.789"),
        (b"Deliver-To", b"b@example.com"),
        (b"Settings-Id", b"strict"),
    ]


def test_request_fields_null_sender_and_no_recipients() -> None:
    assert request_fields(job(sender=b"", recipients=()), False) == [
        (b"From", b"<>"),
        (b"Queue-Id", b"1700000000.123456.789"),
    ]


@pytest.mark.parametrize(
    ("client", "relayclient", "user"),
    [
        (Client(auth_user=b"joe"), False, b"joe"),
        (Client(auth_user=b"joe", info=b"ident"), True, b"joe"),
        (Client(info=b"ident"), True, b"ident"),  # TCPREMOTEINFO, for a relay client
        (Client(info=b"ident"), False, None),  # ... and only for one
        (Client(auth_user=b"", info=b"ident"), True, b"ident"),
        (Client(), True, None),
        (Client(auth_user=b"", info=b""), True, None),
    ],
)
def test_request_fields_user(client: Client, relayclient: bool, user: bytes | None) -> None:
    found = dict(request_fields(job(client=client, relayclient=relayclient), False))
    assert found.get(b"User") == user


@pytest.mark.parametrize(
    ("client", "outbound", "said"),
    [
        (Client(), True, True),
        (Client(info=b"ident"), True, True),  # not a relay client: no user
        (Client(auth_user=b"joe"), True, False),
        (Client(), False, False),
    ],
)
def test_request_fields_outgoing_without_user(client: Client, outbound: bool, said: bool) -> None:
    lines: list[bytes] = []
    request_fields(job(client=client, debug=lines), outbound)
    expected = (
        b"simscan:[0]: debug: rspamd: outgoing mail with no user: signed if rspamd takes"
        b" the IP as local\n"
    )
    assert lines == ([expected] if said else [])


def test_request_fields_empty_client_parts_left_out() -> None:
    found = request_fields(
        job(
            client=Client(ip=b"", host=b""),
            policy=Policy(spam=True, spam_user=b"", rspamd_settings=b""),
        ),
        False,
    )
    assert [name for name, _ in found] == [b"From", b"Rcpt", b"Queue-Id"]


@pytest.mark.parametrize(
    ("workdir", "queue_id"),
    [
        ("/var/qmail/simscan/1700000000.1.2", b"1700000000.1.2"),
        ("relative/dir", b"dir"),
        ("caf\u00e9", b"caf\xc3\xa9"),
    ],
)
def test_request_fields_queue_id(workdir: str, queue_id: bytes) -> None:
    assert dict(request_fields(job(workdir=workdir), False))[b"Queue-Id"] == queue_id
