"""Names that lie (simscan.mail.names): what is compared, and what is shown."""

import pytest

from simscan.mail.names import Matcher, plain, ripmime_name, shown


@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("x.EXE", "x.exe"),
        ("x.exe. . ", "x.exe"),
        ("x.exe\t", "x.exe"),
        ("x\x00.exe", "x.exe"),
        ("x\x7f\x85.exe", "x.exe"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("x.e\u200bx\u200ce\u200d", "x.exe"),
        ("x.e\u2060xe\ufeff", "x.exe"),
        ("x.ex\u00ade", "x.exe"),  # a soft hyphen
        ("x.\uff45\uff58\uff45", "x.exe"),  # full-width letters
        ("x\uff0eexe", "x.exe"),  # a full-width full stop
        ("x.\u2168", "x.ix"),  # a Roman numeral: NFKC splits it
        ("x.exe\u3000", "x.exe"),  # an ideographic space is a space
        ("x.exe\u2028", "x.exe"),  # a line separator
        ("\u0130.exe", "i\u0307.exe"),
        ("ok.pdf", "ok.pdf"),
        ("", ""),
    ],
)
def test_plain(name: str, want: str) -> None:
    assert plain(name) == want


@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("a.exe", "a.exe"),
        ("r\u00e9sum\u00e9.pdf", "r\u00e9sum\u00e9.pdf"),
        ("a\u202eb", "a<U+202E>b"),
        ("a\x00b\x1fc\x7f", "a<U+0000>b<U+001F>c<U+007F>"),
        ("a\u200bb\ufeff", "a<U+200B>b<U+FEFF>"),
        ("a\u2028b\u2029", "a<U+2028>b<U+2029>"),
        ("a\udcffb", "a<U+DCFF>b"),  # a byte a decoder escaped
        ("a\ue000b", "a<U+E000>b"),  # private use
        ("x\tz", "x<U+0009>z"),
    ],
)
def test_shown(name: str, want: str) -> None:
    assert shown(name) == want


def test_matcher_endings_are_compared_plain_too() -> None:
    match = Matcher((b".EXE", "\uff45\uff58\uff45".encode(), b"", b"."))
    assert match("a.exe") == "a.exe"
    assert match("a.txt") is None
    assert match("exe") == "exe"  # (an ending without a dot matches a whole name)
    assert Matcher(())("x.exe") is None
    assert Matcher((b"",))("x.exe") is None


def test_matcher_reports_the_reading_that_matched() -> None:
    match = Matcher((b".exe",))
    assert match("x.exe\x00.txt") == "x.exe"
    assert match("dir/evil.exe?x") == "evil.exe"  # (ripmime's reading)
    assert match('"x.exe"') == "x.exe"
    assert match("x.e\x00xe") == "x.exe"
    assert match("x\u202e.exe") == "x\u202e.exe"


@pytest.mark.parametrize(
    ("name", "want"),
    [
        ('"a.exe"', "a.exe"),
        ("'a.exe'", "a.exe"),
        ('""a.exe""', "a.exe"),
        ("dir/a.exe", "a.exe"),
        ("dir\\a.exe", "a.exe"),
        ('dir\\"a.exe', 'dir\\"a.exe'),
        ("a.exe?x", "a.exe"),
        ("a=?b", "a=?b"),
        ("?a", "?a"),
        ('"', '"'),
        ("a/b/c.exe", "c.exe"),
        ("a\\b\\c.exe", "c.exe"),
        ('a\\b\\"c', 'a\\b\\"c'),
        ("a?b", "a"),
        ('""', ""),
        ("''", ""),
        ('"x"', "x"),
        ('"""', '"'),
        ('"a""', 'a"'),
        ('""x""', "x"),
    ],
)
def test_ripmime_name(name: str, want: str) -> None:
    assert ripmime_name(name) == want


def test_endings_without_a_dot_and_with_one() -> None:
    match = Matcher((b"exe", b".scr", "\u00e9".encode("latin-1")))
    assert match("a.EXE") == "a.EXE"
    assert match("exe") == "exe"
    assert match("a.exe.txt") is None
    assert match("annexe") is None
    assert match("x.scr") == "x.scr"
    assert match("scr") is None  # (a dotted ending is no whole name)
    assert match("x.\ufffd") == "x.\ufffd"  # (an ending that is not UTF-8: replaced)
