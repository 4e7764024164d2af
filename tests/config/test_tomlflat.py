"""tomlflat must give exactly what tomllib gives, plus the right line numbers.

The fast path reads simple flat documents itself and hands everything else
to tomllib; either way the values must be tomllib's, and a document tomllib
rejects must be rejected (ConfigError) with the line tomllib names.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simscan.config import tomlflat
from simscan.errors import ConfigError

# --- helpers -----------------------------------------------------------------


def same(a: object, b: object) -> bool:
    """Deep equality that also insists on equal types (1 != 1.0 != True)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        assert isinstance(b, list)
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float):
        assert isinstance(b, float)
        if math.isnan(a):
            return math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return a == b


def tomllib_line(err: tomllib.TOMLDecodeError) -> int:
    """The line tomllib reports, 0 for "at end of document"."""
    found = re.search(r"\(at line (\d+), column \d+\)", str(err))
    return int(found.group(1)) if found else 0


def assert_agrees(text: str) -> None:
    """tomlflat.parse(text) gives tomllib's values, or both reject it."""
    try:
        expected = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        with pytest.raises(ConfigError) as info:
            tomlflat.parse(text, "p")
        assert info.value.path == "p"
        line = tomllib_line(err)
        if line:
            assert info.value.line == line, (text, str(err))
        else:
            # "at end of document": no line, or (better) the last one.
            assert info.value.line in (0, text.count("\n") + 1), (text, str(err))
        return
    got = tomlflat.parse(text, "p")
    values = {key: value for key, (value, _line) in got.items()}
    assert same(values, expected), (text, values, expected)


@pytest.fixture
def fallback_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the documents the fast path handed to tomllib."""
    calls: list[str] = []
    real: Callable[[str, str], dict[str, tuple[object, int]]] = tomlflat._parse_full

    def spy(text: str, path: str) -> dict[str, tuple[object, int]]:
        calls.append(text)
        return real(text, path)

    monkeypatch.setattr(tomlflat, "_parse_full", spy)
    return calls


# --- (a) a table of literal documents ----------------------------------------

DOCUMENTS: dict[str, str] = {
    # simple documents the fast path should read itself
    "empty": "",
    "blank lines": "\n\n   \n\t\n",
    "only comments": "# a comment\n   # indented comment\n#\n",
    "booleans": "a = true\nb = false\n",
    "ints": "n = 0\nm = -17\np = +42\nz = -0\nq = +0\n",
    "big int": "big = 123456789012345678901234567890\n",
    "floats": "x = 1.5\ny = -0.25\nz = +3.0\nw = 0.0001\nv = -0.0\n",
    "basic string": 's = "hello world"\n',
    "empty strings": "s = \"\"\nt = ''\n",
    "string with tab": 's = "tab\there"\n',
    "literal string keeps backslashes": "s = 'C:\\path\\n'\n",
    "literal string with double quote": "s = 'say \"hi\"'\n",
    "basic string with single quote": 's = "it\'s"\n',
    "hash inside string": 's = "a # not a comment" # a comment\n',
    "unicode string": 's = "é ü 日本"\n',
    "arrays": "a = [1, 2, 3]\nb = ['x', \"y\"]\n",
    "mixed array": "a = [true, 1, 1.5, 'm', \"n\"]\n",
    "empty arrays": "a = []\nb = [ ]\nc = [\t]\n",
    "array trailing comma": "a = [1, 2,]\nb = [ 'x' , ]\n",
    "array of strings with brackets": "a = ['x]', \"[y\", ',']\n",
    "comments after values": "a = 1 # one\nb = 'x'# tight\nc = [1]  #\nd = true\t# tab\n",
    "no spaces": "a=1\nb='x'\nc=[1,2]\n",
    "indented keys": "  a = 1\n\tb = 2\n",
    "no final newline": "a = 1",
    "crlf": "a = 1\r\nb = 'x'\r\n\r\n# c\r\nc = [1, 2]\r\n",
    "odd bare keys": "key_with-dash = 1\n1234 = 5\n_ = 6\n- = 7\ntrue = 8\n",
    "comment with unicode": "a = 1 # ünïcode ✓\n",
    # documents the fast path must hand to tomllib
    "escapes": 's = "a\\tb\\n\\u00e9\\"q\\\\"\n',
    "escape with plain keys": 'a = 1\ns = "x\\ty"\nb = true\n',
    "table": "a = 1\n[t]\nb = 2\n",
    "nested tables": "[t]\na = 1\n[u.v]\nb = 2\n",
    "array of tables": "[[arr]]\nx = 1\n[[arr]]\nx = 2\n",
    "dotted keys": "a.b = 1\na.c = 'x'\n",
    "quoted keys": '"quoted key" = 1\n\'lit key\' = 2\n"" = 3\n',
    "multi-line basic string": 's = """\nline1\nline2"""\n',
    "multi-line literal string": "s = '''\nraw \\n\n'''\n",
    "multi-line string with =": 's = """\nb = 2\n"""\nb = 3\n',
    "offset date-time": "dt = 1979-05-27T07:32:00Z\n",
    "local date": "d = 1979-05-27\n",
    "local time": "t = 07:32:00\n",
    "local date-time": "ldt = 1979-05-27 07:32:00\n",
    "exponents": "a = 1e5\nb = 1E-3\nc = 1.5e+2\nd = -2e0\n",
    "inf": "a = inf\nb = -inf\nc = +inf\n",
    "nan": "a = nan\nb = -nan\n",
    "underscores": "a = 1_000\nb = 1_0.5_0\n",
    "hex octal binary": "a = 0x1F\nb = 0o17\nc = 0b101\n",
    "multi-line array": "a = [\n  1,\n  2,\n]\n",
    # a pool of scanner hosts, as an admin writes it (the fast path reads it)
    "hosts over lines": 'clamd = [\n  "10.0.0.1:3310",\n  "10.0.0.2:3310",\n]\nb = 1\n',
    "hosts with comments": (
        'clamd = [  # the pool\n  "10.0.0.1:3310",  # rack 1\n\n  # rack 2:\n'
        '  "10.0.0.2:3310"\n]  # end\nb = 1\n'
    ),
    "array comma on the next line": "a = [ 'x'\n , 'y'\n ]\n",
    "array opened, items later": "a = [\n\n'x']\n",
    "empty array over lines": "a = [\n]\n",
    "array over crlf lines": "a = [\r\n  'x',\r\n]\r\nb = 2\r\n",
    "array, string with bracket and hash": "a = [\n  ']# not the end',\n]\n",
    # and what it must leave to tomllib (or refuse with it)
    "array unclosed at eof over lines": "a = [\n  'x',\n",
    "array, key inside": "a = [\n  'x',\nb = 2\n]\n",
    "array, nested over lines": "a = [\n  [1],\n]\n",
    "array, control char in its comment": "a = [ # \x01\n 1]\n",
    "array, comment before the bracket": "a = # c\n[1]\n",
    "array, missing comma over lines": "a = [\n 1\n 2\n]\n",
    "array, lone cr inside": "a = [\r 1]\n",
    "array with comment": "a = [1, # one\n 2]\n",
    "nested arrays": "a = [[1, 2], ['x']]\nb = [ [] ]\n",
    "inline table": "t = { x = 1, y = 'z' }\n",
    "array of inline tables": "a = [{x = 1}]\n",
    # documents both must reject
    "leading zero": "a = 01\n",
    "leading zeros": "a = 007\n",
    "negative leading zero": "a = -01\n",
    "double zero": "a = 00\n",
    "leading zero float": "a = 01.5\n",
    "trailing dot": "a = 1.\n",
    "leading dot": "a = .5\n",
    "dot exponent": "a = 1.e5\n",
    "double underscore": "a = 1__0\n",
    "leading underscore": "a = _1\n",
    "trailing underscore": "a = 1_\n",
    "bare sign": "a = +\n",
    "bare minus": "a = -\n",
    "True capitalised": "a = True\n",
    "tru": "a = tru\n",
    "yes": "a = yes\n",
    "duplicate key": "a = 1\na = 2\n",
    "duplicate key later": "a = 1\nb = 2\n# c\n  a = 'x'\n",
    "duplicate key then non-simple": "a = 1\na = 2\nb = 1e5\n",
    "non-simple then duplicate": "b = 1e5\na = 1\na = 2\n",
    "unterminated basic string": 'a = "unterminated\n',
    "unterminated literal string": "a = 'unterminated\n",
    "unterminated at eof": 'a = "x',
    "no value": "a = \n",
    "no value at eof": "a =",
    "no equals": "a\n",
    "no key": "= 1\n",
    "space in key": "a b = 1\n",
    "two values": "a = 1 2\n",
    "two strings": "a = 'x' 'y'\n",
    "doubled single quote": "s = 'it''s'\n",
    "value then junk": "a = true false\n",
    "trailing comma after value": "a = 1,\n",
    "stray bracket": "a = 1 ]\n",
    "extra bracket": "a = [1]]\n",
    "unclosed array": "a = [1, 2\n",
    "unclosed array at eof": "a = [1,",
    "double comma": "a = [1,,2]\n",
    "lone comma": "a = [,]\n",
    "missing comma": "a = [1 2]\n",
    "bad escape": 'a = "x\\q"\n',
    "control char in string": "a = 'x\x01y'\n",
    "control char in basic string": 'a = "x\x1fy"\n',
    "del in string": "a = 'x\x7fy'\n",
    "control char in comment": "a = 1 # bad \x01 comment\n",
    "del in comment line": "# \x7f\n",
    "form feed after value": "a = 'x'\x0c\n",
    "form feed line": "\x0c\n",
    "unclosed table header": "[t\na = 1\n",
    "duplicate table": "[t]\n[t]\n",
    "key then table of same name": "a = 1\n[a]\n",
    "byte order mark": "\ufeffa = 1\n",
    "hash in key": "a#b = 1\n",
    "bad line after good ones": "a = 1\nb = 2\nc = 01\n",
    # A carriage return not followed by a newline is an error for tomllib.
    "cr at eof": "a = 1\r",
    "cr cr lf": "a = 1\r\r\nb = 2\n",
    "cr before spaces": "a = 1\r \nb = 2\n",
    "cr at line start": "\ra = 1\n",
    "cr ends comment at eof": "# comment\r",
    "cr only line": "a = 1\n\r\r\n",
}


@pytest.mark.parametrize("text", DOCUMENTS.values(), ids=DOCUMENTS.keys())
def test_agrees_with_tomllib(text: str) -> None:
    assert_agrees(text)


SIMPLE = [
    "empty", "blank lines", "only comments", "booleans", "ints", "big int", "floats",
    "basic string", "empty strings", "string with tab",
    "literal string keeps backslashes", "literal string with double quote",
    "hash inside string", "unicode string", "arrays", "mixed array", "empty arrays",
    "array trailing comma", "array of strings with brackets", "comments after values",
    "no spaces", "indented keys", "no final newline", "crlf", "odd bare keys",
    "multi-line array", "hosts over lines", "hosts with comments",
    "array comma on the next line", "array opened, items later", "empty array over lines",
    "array over crlf lines", "array, string with bracket and hash",
]  # fmt: skip


@pytest.mark.parametrize("name", SIMPLE)
def test_simple_documents_take_the_fast_path(name: str, fallback_calls: list[str]) -> None:
    tomlflat.parse(DOCUMENTS[name], "p")
    assert fallback_calls == []


# --- (b) generated flat documents ---------------------------------------------

BARE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
# '\r' and '\n' are left out: a line end inside a line is not a junk line,
# and a lone '\r' is covered by DOCUMENTS above.
JUNK = "ab1 0=#'\"[]{}.,\\-+_eE\tx:é\x01\x7f"
COMMENT = "ab #'\"=[]\\\té✓"

keys = st.one_of(
    st.text(BARE, min_size=1, max_size=6),
    st.text(BARE, min_size=1, max_size=6),
    st.sampled_from(["a", "b", "clamav", "size_limit", "1", "-", "true"]),
)
ws = st.sampled_from(["", " ", "  ", "\t", " \t "])


def signed(body: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(st.sampled_from(["", "+", "-"]), body).map("".join)


ints = signed(st.integers(0, 10**25).map(str))
decimals = signed(
    st.tuples(st.integers(0, 10**6), st.text("0123456789", min_size=1, max_size=5)).map(
        lambda t: f"{t[0]}.{t[1]}"
    )
)
odd_values = st.one_of(
    st.floats(allow_nan=False).map(repr),  # 1e-05, inf, 1e+16, ...
    st.sampled_from(
        ["01", "-01", "00", "1.", ".5", "1_000", "1__0", "0x1f", "0o7", "0b1", "1e5",
         "1E5", "+inf", "nan", "-0", "+0", "-0.0", "1979-05-27", "07:32:00", "+", "-",
         '"bad \\q escape"', "{x = 1}"]
    ),
)  # fmt: skip
printable = st.characters(blacklist_categories=("Cs", "Cc"))
control = st.sampled_from("\t\x00\x01\x1f\x7f")  # only the tab is allowed


def basic_string(chars: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    escapes = st.sampled_from(["\\n", "\\t", '\\"', "\\\\", "\\u00e9", "'"])
    parts = st.lists(chars.filter(lambda c: c not in '"\\') | escapes, max_size=8)
    return parts.map(lambda p: '"' + "".join(p) + '"')


def literal_string(chars: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    parts = st.lists(chars.filter(lambda c: c != "'") | st.sampled_from('"\\'), max_size=8)
    return parts.map(lambda p: "'" + "".join(p) + "'")


# Mostly clean strings; now and then one with a control character, which
# TOML rejects.
strings = st.one_of(
    basic_string(printable),
    basic_string(printable),
    literal_string(printable),
    literal_string(printable),
    basic_string(printable | control),
    literal_string(printable | control),
)
scalars = st.one_of(
    st.sampled_from(["true", "false"]), ints, ints, decimals, decimals, strings, strings,
    odd_values,
)  # fmt: skip
arrays = st.tuples(
    st.lists(st.tuples(ws, scalars, ws), max_size=4),
    st.booleans(),
).map(
    lambda t: (
        "[" + ",".join(f"{a}{v}{b}" for a, v, b in t[0]) + ("," if t[1] and t[0] else "") + "]"
    )
)
values = st.one_of(scalars, arrays)
comments = st.one_of(
    st.just(""),
    st.just(""),
    st.text(COMMENT, max_size=10).map(lambda c: "#" + c),
    st.text(COMMENT + "\x00\x7f", max_size=10).map(lambda c: "#" + c),
)


@st.composite
def documents(draw: st.DrawFn, junk: bool) -> tuple[str, dict[str, int]]:
    """A flat document, and the line each generated key is set on."""
    lines: list[str] = []
    key_lines: dict[str, int] = {}
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["kv"] * 6 + ["blank", "comment", "junk"]))
        if kind == "kv":
            key = draw(keys)
            if key in key_lines and draw(st.integers(0, 4)) != 4:
                key = f"{key}_{len(lines)}"  # mostly avoid duplicates
            line = "".join(
                (draw(ws), key, draw(ws), "=", draw(ws), draw(values), draw(ws), draw(comments))
            )
            key_lines.setdefault(key, len(lines) + 1)
        elif kind == "blank":
            line = draw(ws)
        elif kind == "comment":
            line = draw(ws) + draw(comments)
        elif junk:
            line = draw(st.text(JUNK, max_size=12))
        else:
            line = ""
        lines.append(line)
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(lines) + (newline if draw(st.booleans()) else "")
    return text, key_lines


@settings(max_examples=400, deadline=None)
@given(documents(junk=True))
def test_generated_documents_agree_with_tomllib(doc: tuple[str, dict[str, int]]) -> None:
    assert_agrees(doc[0])


@settings(max_examples=300, deadline=None)
@given(documents(junk=False))
def test_generated_documents_have_right_lines(doc: tuple[str, dict[str, int]]) -> None:
    text, key_lines = doc
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return  # rejections are checked above
    got = tomlflat.parse(text, "p")
    assert {key: line for key, (_value, line) in got.items()} == key_lines


# --- (c) line numbers on both paths -------------------------------------------

FLAT = (
    "# header comment\n"  # 1
    "\n"  # 2
    "clamav = true\n"  # 3
    "  spam=false   # off\n"  # 4
    "\n"  # 5
    "size_limit = 1000\n"  # 6
    "arr = [1, 2]\n"  # 7
    "s = 'x'\n"  # 8
)
FLAT_LINES = {"clamav": 3, "spam": 4, "size_limit": 6, "arr": 7, "s": 8}


def lines_of(text: str) -> dict[str, int]:
    return {key: line for key, (_value, line) in tomlflat.parse(text, "p").items()}


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_fast_path_lines(newline: str, fallback_calls: list[str]) -> None:
    assert lines_of(FLAT.replace("\n", newline)) == FLAT_LINES
    assert fallback_calls == []


@pytest.mark.parametrize(
    "forcing",
    ['esc = "tab\\there"', "exp = 1e5", "num = 1_000", "when = 1979-05-27", "'q' = 1"],
)
@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_fallback_lines(forcing: str, newline: str, fallback_calls: list[str]) -> None:
    text = (FLAT + forcing + "\n").replace("\n", newline)
    got = lines_of(text)
    assert fallback_calls, "the document should have gone to tomllib"
    forced_key = forcing.split("=")[0].strip().strip("'")
    assert got == {**FLAT_LINES, forced_key: 9}


FALLBACK_LINES: dict[str, tuple[str, dict[str, int]]] = {
    "key is a prefix of another": ("ab = 1\nx = 1e5\na = 2\n", {"ab": 1, "x": 2, "a": 3}),
    "table header": ("a = 1e5\n\n[t]\nx = 1\n", {"a": 1, "t": 3}),
    "quoted keys": ("\"q\" = 1\n  'r' = 2\nx = 1e5\n", {"q": 1, "r": 2, "x": 3}),
    "after a multi-line string": ('s = """\none\ntwo"""\nb = 2\n', {"s": 1, "b": 4}),
    "after a multi-line array": ("a = [\n1,\n2,\n]\nb = 2\n", {"a": 1, "b": 5}),
    "tight equals": ("a=1e5\nb= 'x'\n", {"a": 1, "b": 2}),
}


@pytest.mark.parametrize("text,expected", FALLBACK_LINES.values(), ids=FALLBACK_LINES.keys())
def test_more_fallback_lines(text: str, expected: dict[str, int]) -> None:
    assert lines_of(text) == expected


# _line_of is documented as "best effort", but these give a wrong line (0 or
# an earlier line), so a bad value there is reported without its real line.
WRONG_FALLBACK_LINES: dict[str, tuple[str, dict[str, int]]] = {
    "dotted key": ("x = 1\nspam.hits = 5\n", {"x": 1, "spam": 2}),
    "dotted table header": ("x = 1\n[t.u]\nv = 1\n", {"x": 1, "t": 2}),
    "array of tables": ("x = 1\n[[arr]]\nv = 1\n", {"x": 1, "arr": 2}),
    "spaced table header": ("x = 1\n[ t ]\nv = 1\n", {"x": 1, "t": 2}),
    "key text inside an earlier string": (
        's = """\nb = 2\n"""\nb = 3\n',
        {"s": 1, "b": 4},
    ),
}


@pytest.mark.parametrize(
    "text,expected", WRONG_FALLBACK_LINES.values(), ids=WRONG_FALLBACK_LINES.keys()
)
def test_fallback_lines_for_other_key_forms(text: str, expected: dict[str, int]) -> None:
    assert lines_of(text) == expected


# --- (d) syntax errors carry tomllib's line -----------------------------------

ERRORS: dict[str, tuple[str, int]] = {
    "duplicate on fast path": ("a = 1\nb = 2\n\na = 3\n", 4),
    "duplicate with crlf": ("a = 1\r\nb = 2\r\na = 3\r\n", 3),
    "leading zero": ("a = 1\n\nb = 01\n", 3),
    "bad value": ("a = 1\nb = \n", 2),
    "junk line": ("a = 1\nb = 2\nthis is not toml\n", 3),
    "bad escape": ('a = 1\n\n\nb = "\\q"\n', 4),
    "duplicate table": ("a = 1\n[t]\nx = 1\n[t]\n", 4),
    "control char in comment": ("a = 1\n# \x01\n", 2),
    "value then junk": ("a = 1\n  b = true false\n", 2),
    "bad line in crlf file": ("a = 1\r\nb = 2\r\nc = [1 2]\r\n", 3),
}


@pytest.mark.parametrize("text,line", ERRORS.values(), ids=ERRORS.keys())
def test_syntax_error_line(text: str, line: int) -> None:
    with pytest.raises(tomllib.TOMLDecodeError) as toml_err:
        tomllib.loads(text)
    assert tomllib_line(toml_err.value) == line
    with pytest.raises(ConfigError) as info:
        tomlflat.parse(text, "/etc/simscan.toml")
    assert info.value.line == line
    assert info.value.path == "/etc/simscan.toml"
    assert ":" not in str(info.value).replace("/etc/simscan.toml", "")


def test_duplicate_on_fast_path_names_the_key() -> None:
    with pytest.raises(ConfigError) as info:
        tomlflat.parse("clamav = true\nclamav = false\n", "p")
    assert (info.value.line, info.value.key) == (2, "clamav")


def test_error_at_end_of_document_has_no_line() -> None:
    with pytest.raises(ConfigError) as info:
        tomlflat.parse('a = 1\nb = "open', "p")
    assert info.value.line == 0


def test_fast_path_lines_after_an_array_over_lines(fallback_calls: list[str]) -> None:
    text = 'a = 1\nclamd = [\n  "10.0.0.1",  # one\n  "10.0.0.2",\n]\nb = 2\n\nc = [1,\n2]\n'
    assert lines_of(text) == {"a": 1, "clamd": 2, "b": 6, "c": 8}
    assert fallback_calls == []
