"""The simcontrol rule language: rules, source lines, lookup keys."""

from __future__ import annotations

import re

import pytest

from simscan.config.simcontrol import (
    MAX_ADDRESS,
    MAX_EXTENSIONS,
    RuleError,
    SourceError,
    lookup_keys,
    parse_rule,
    records,
)


def test_rule_names_and_values() -> None:
    rule = parse_rule(
        b"clam=yes,spam=no,trophie=yes,spam_passthru=no,spam_hits=20.1,"
        b"attach=.TXT:.com,regex=^foo:bar$,spamuser=joe,size_limit=1000,qmailqueue=/bin/qq,"
        b"types=executable:macro"
    )
    assert rule.clam is True
    assert rule.spam is False
    assert rule.trophie is True
    assert rule.spam_passthru is False
    assert rule.spam_hits == 20.1
    assert rule.attach == (b".txt", b".com")
    assert rule.regex == (b"^foo", b"bar$")
    assert rule.spamuser == b"joe"
    assert rule.size_limit == 1000
    assert rule.qmailqueue == b"/bin/qq"
    assert rule.types == ("executable", "macro")


def test_unmentioned_names_stay_none() -> None:
    rule = parse_rule(b"clam=yes")
    assert rule.spam is None
    assert rule.attach is None
    assert rule.types is None
    assert rule.regex == ()
    assert rule.spam_hits is None


@pytest.mark.parametrize(
    "text",
    [
        b"clam=yes,spam=yes",
        b"clam=yes, spam=yes",  # the C parser loses the pairing here
        b"clam = yes , spam = yes",
        b"\"clam\"=\"yes\",'spam'='yes'",
        b"clam=yes\tspam=yes\r\n",
        b",,clam==yes,,,spam=yes,,",
        b"CLAM=YES,Spam=Yes",  # the default line is not lower-cased
    ],
)
def test_separators_like_c_but_runs_count_once(text: bytes) -> None:
    rule = parse_rule(text)
    assert (rule.clam, rule.spam) == (True, True)


def test_empty_attach_entries_are_dropped() -> None:
    # In C an empty entry matched every file name.
    assert parse_rule(b"attach=.exe::.com:").attach == (b".exe", b".com")
    assert parse_rule(b"attach=:").attach == ()


KNOWN = "(known: executable, disk-image, shortcut, macro, archive-encrypted)"


@pytest.mark.parametrize(
    ("text", "types"),
    [
        (b"types=executable:shortcut", ("executable", "shortcut")),
        (b"types=Executable:DISK-IMAGE", ("executable", "disk-image")),  # the default line
        (b"types=macro::archive-encrypted:", ("macro", "archive-encrypted")),
        (b"types=shortcut:shortcut", ("shortcut",)),
        (b"types=:", ()),  # an empty list: no type checks for that entry
        (b"clam=yes", None),  # not mentioned
    ],
)
def test_types(text: bytes, types: tuple[str, ...] | None) -> None:
    assert parse_rule(text).types == types


def test_a_later_types_in_one_rule_replaces_the_earlier() -> None:
    rule = parse_rule(b"types=executable:macro,attach=.exe,types=shortcut")
    assert rule.types == ("shortcut",)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (b"types=exe", f"types has an unknown file type category 'exe' {KNOWN}"),
        (
            b"types=executable:iso",
            f"types has an unknown file type category 'iso' {KNOWN}",
        ),
        (b"types=caf\xc3\xa9", f"types has an unknown file type category 'caf\u00e9' {KNOWN}"),
    ],
)
def test_an_unknown_type_is_a_bad_pair(text: bytes, problem: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse_rule(text)
    assert str(caught.value) == problem
    problems: list[str] = []
    rule = parse_rule(b"clam=yes," + text, problems)
    assert problems == [problem]
    assert (rule.clam, rule.types) == (True, None)  # the pair is skipped, the rest applies


def test_regexes_add_up_within_a_rule() -> None:
    assert parse_rule(b"regex=a:b,regex=c").regex == (b"a", b"b", b"c")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (b"clam=maybe", "clam must be yes or no"),
        (b"spam_hits=lots", "spam_hits must be a score"),
        (b"spam_hits=-1", "spam_hits must be a score"),
        (b"spam_hits=nan", "spam_hits must be a score"),
        (b"size_limit=10k", "size_limit must be a number"),
        (b"qmailqueue=bin/qq", "qmailqueue must be an absolute path"),
        (b"rspamd_settings=a/b", "rspamd_settings must be a settings id"),
        (b"rspamd_settings=" + b"x" * 101, "rspamd_settings must be a settings id"),
        (b"avira=yes", "unknown name 'avira'"),
        (b"clam=yes,spam", "'spam' has no value"),
    ],
)
def test_bad_pairs_strict_and_lenient(text: bytes, problem: str) -> None:
    with pytest.raises(RuleError, match=problem):
        parse_rule(text)
    problems: list[str] = []
    rule = parse_rule(text, problems)
    assert len(problems) == 1
    assert problem in problems[0]
    # The good pairs still apply.
    if text.startswith(b"clam=yes"):
        assert rule.clam is True


def test_records_are_the_c_layout() -> None:
    text = (
        b"# a comment\n"
        b"\n"
        b"   \n"
        b"  # indented comment\n"
        b"Postmaster@Example.COM:clam=yes,spam=no,attach=.TXT:.com\n"
        b"example.com:clam=no,spam=yes,attach=.mp3\r\n"
        b":Clam=Yes,spam=yes,trophie=yes,spam_hits=20.1\n"
        b"  lead.example :clam=yes\n"
        b"bare.example:\n"
        b"last.example:spam=yes"
    )
    assert records(text) == [
        (b"postmaster@example.com", b"clam=yes,spam=no,attach=.txt:.com"),
        (b"example.com", b"clam=no,spam=yes,attach=.mp3"),
        (b"", b"Clam=Yes,spam=yes,trophie=yes,spam_hits=20.1"),
        (b"lead.example", b"clam=yes"),
        (b"bare.example", b""),
        (b"last.example", b"spam=yes"),
    ]


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        (b"example.com clam=yes\n", 1, "no ':'"),
        (b"# ok\n\nexample.com\n", 3, "no ':'"),
        (b"ok.example:clam=yes\nbad example:clam=yes\n", 2, "bad address or domain"),
        (b"a#b:clam=yes\n", 1, "bad address or domain"),
        (b"x.example:clam=perhaps\n", 1, "clam must be yes or no"),
        (b":regex=(unclosed\n", 1, "regex '(unclosed' is invalid"),
        (b"x.example:bogus=1\n", 1, "unknown name"),
        (
            b":types=executable\nx.example:clam=yes,types=executable:Exe\n",
            2,
            f"types has an unknown file type category 'exe' {KNOWN}",
        ),
    ],
)
def test_a_bad_line_is_named_by_number(text: bytes, line: int, problem: str) -> None:
    with pytest.raises(SourceError, match=re.escape(problem)) as caught:
        records(text)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"line {line}: ")


@pytest.mark.parametrize(
    ("address", "keys"),
    [
        (b"joe@example.com", [b"example.com", b"joe@example.com"]),
        (
            b"a-b-c@d.org",
            [b"d.org", b"a@d.org", b"a-b@d.org", b"a-b-c@d.org"],
        ),
        (b"Joe-List@Example.COM", [b"example.com", b"joe@example.com", b"joe-list@example.com"]),
        (b"a--b@d", [b"d", b"a@d", b"a-@d", b"a--b@d"]),
        (b"local", [b"local@"]),  # no domain: as the C simscan built it
        (b"", [b"@"]),  # the bounce sender
        (b"a@b@c", [b"b@c", b"a@b@c"]),  # the first '@' splits, as in C
    ],
)
def test_lookup_keys(address: bytes, keys: list[bytes]) -> None:
    assert lookup_keys(address) == keys


def test_lookup_keys_are_bounded() -> None:
    many = b"-".join(b"p%d" % i for i in range(100)) + b"@d"
    keys = lookup_keys(many)
    assert len(keys) == 1 + MAX_EXTENSIONS + 1
    assert keys[1] == b"p0@d"
    assert keys[-1].startswith(b"p0-p1-") and keys[-1].endswith(b"@d")
    long = b"x" * 1000 + b"@example.com"
    assert lookup_keys(long) == [b"x" * MAX_ADDRESS + b"@"]  # cut as C cut it


def test_types_none_is_an_empty_list() -> None:
    assert parse_rule(b"types=none").types == ()
    assert parse_rule(b"types=:").types == ()


def test_rspamd_settings_is_kept_as_written() -> None:
    assert parse_rule(b"spam=yes,rspamd_settings=Outbound_1.x-y").rspamd_settings == (
        b"Outbound_1.x-y"
    )
    assert parse_rule(b"spam=yes").rspamd_settings is None
