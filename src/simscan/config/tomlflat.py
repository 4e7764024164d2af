"""A fast reader for the flat TOML that simscan.toml is.

simscan starts once per message, and importing tomllib costs about 10 ms
(it pulls in re, typing and more), more than the rest of a clean run.  The
configuration is flat: `key = value` lines with booleans, numbers, simple
strings and arrays of them (over several lines too, with comments, as a
list of scanner hosts is written).  This module reads exactly that with
plain string operations and hands anything else (tables, escapes, multi-line
strings, dates, odd numbers) to tomllib, so the result is always what
tomllib would give; the fast path only decides when it is sure.

Every value comes back with the line it was set on, so a bad value can be
reported by file, line and key.
"""

from ..errors import ConfigError

_BARE_KEY = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_DIGITS = frozenset("0123456789")


class _NotSimple(Exception):
    """Raised inside the fast path: let tomllib decide this file."""


def parse(text: str, path: str) -> dict[str, tuple[object, int]]:
    """Return {key: (value, line number)} for a flat TOML document."""
    try:
        return _parse_simple(text, path)
    except _NotSimple:
        return _parse_full(text, path)


def _parse_simple(text: str, path: str) -> dict[str, tuple[object, int]]:
    result: dict[str, tuple[object, int]] = {}
    lines = _Lines(text)
    for lineno, line in lines:
        if not line or line[0] == "#":
            _check_comment(line)
            continue
        key, sep, rest = line.partition("=")
        key = key.rstrip(" \t")
        if not sep or not key or not _BARE_KEY.issuperset(key):
            raise _NotSimple
        value, rest = _value(rest.lstrip(" \t"), lines)
        rest = rest.lstrip(" \t")
        if rest and rest[0] != "#":
            raise _NotSimple
        _check_comment(rest)
        if key in result:
            raise ConfigError(path, lineno, key, "set twice")
        result[key] = (value, lineno)
    return result


class _Lines:
    """The document's lines, stripped, with their numbers; an array that
    goes on past its line takes the next ones from here."""

    __slots__ = ("lines", "number")

    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        self.number = 0

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> tuple[int, str]:
        if self.number >= len(self.lines):
            raise StopIteration
        raw = self.lines[self.number]
        self.number += 1
        if raw.endswith("\r") and self.number < len(self.lines):
            raw = raw[:-1]  # CRLF line end; any other CR is tomllib's to judge
        if "\r" in raw:
            raise _NotSimple
        return self.number, raw.strip(" \t")


def _check_comment(text: str) -> None:
    if any((c < " " and c != "\t") or c == "\x7f" for c in text):
        raise _NotSimple


def _value(text: str, lines: _Lines | None = None) -> tuple[object, str]:
    """Parse one value at the start of text; return it and what follows.
    An array may go on over the following `lines`."""
    if not text:
        raise _NotSimple
    first = text[0]
    if first in "\"'":
        return _string(text)
    if first == "[" and lines is not None:
        return _array(text[1:], lines)
    end = 0
    while end < len(text) and text[end] not in " \t#,]":
        end += 1
    return _scalar(text[:end]), text[end:]


def _string(text: str) -> tuple[str, str]:
    quote = text[0]
    if text.startswith(quote * 3):
        raise _NotSimple
    end = text.find(quote, 1)
    if end < 0:
        raise _NotSimple
    body = text[1:end]
    if quote == '"' and "\\" in body:
        raise _NotSimple
    _check_comment(body)
    return body, text[end + 1 :]


def _array(text: str, lines: _Lines) -> tuple[list[object], str]:
    items: list[object] = []
    while True:
        text = _more(text, lines)
        if text.startswith("]"):
            return items, text[1:]
        if text.startswith("["):
            raise _NotSimple
        item, text = _value(text)
        items.append(item)
        text = _more(text, lines)
        if text.startswith(","):
            text = text[1:]
        elif not text.startswith("]"):
            raise _NotSimple


def _more(text: str, lines: _Lines) -> str:
    """The rest of an array from here: past blanks, and past a line's end
    or a comment to the next line (an array may span lines)."""
    text = text.lstrip(" \t")
    while not text or text[0] == "#":
        _check_comment(text)
        try:
            _, text = next(lines)
        except StopIteration:
            raise _NotSimple from None
    return text


def _scalar(token: str) -> object:
    if token == "true":
        return True
    if token == "false":
        return False
    body = token[1:] if token[:1] in "+-" else token
    whole, dot, frac = body.partition(".")
    if not whole or not _DIGITS.issuperset(whole) or (len(whole) > 1 and whole[0] == "0"):
        raise _NotSimple
    if not dot:
        return int(token)
    if not frac or not _DIGITS.issuperset(frac):
        raise _NotSimple
    return float(token)


def _parse_full(text: str, path: str) -> dict[str, tuple[object, int]]:
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(path, _error_line(str(err)), "", str(err)) from err
    lines = text.split("\n")
    return {key: (value, _line_of(key, lines)) for key, value in data.items()}


def _error_line(message: str) -> int:
    marker = "(at line "
    at = message.rfind(marker)
    if at < 0:
        return 0
    digits = message[at + len(marker) :].split(",")[0]
    return int(digits) if digits.isdigit() else 0


def _line_of(key: str, lines: list[str]) -> int:
    """Best effort: the first line that sets `key`, as `key = `, a dotted
    `key.x = `, or a table header `[key]`, `[key.x]`, `[[key]]`; lines inside
    multi-line strings are skipped."""
    in_string = ""
    for lineno, line in enumerate(lines, 1):
        text = line.strip(" \t\r")
        if in_string:
            if text.count(in_string) % 2:
                in_string = ""
            continue
        header = text.startswith("[")
        name = text.strip("[] \t").split("]")[0] if header else text.partition("=")[0]
        if name.split(".")[0].strip(" \t\"'") == key:
            return lineno
        value = text.partition("=")[2].lstrip(" \t")
        for quotes in ('"""', "'''"):
            if value.startswith(quotes) and value.count(quotes) % 2:
                in_string = quotes
    return 0
