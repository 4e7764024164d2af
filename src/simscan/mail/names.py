"""Is a file name blocked, and how to show one safely.

A name is compared as Windows and the mail clients would save it, not as
it is written (`Matcher`):

- up to a NUL (a C program, like ripmime, ends a name there), and also with
  its NULs left out (Python's email shows them);
- as ripmime writes it (quotes off, the last path segment, cut at a `?`);
- without control characters (Windows refuses them in file names), without
  format characters: bidi controls (U+202E shows `x<U+202E>gpj.exe` as
  `xexe.jpg`) and zero-width ones (U+200B, U+FEFF, ...), every character of
  Unicode category Cf;
- NFKC-normalised (`.exe` in full-width letters is `.exe`);
- without trailing dots and spaces (Windows drops them when it saves);
- case-insensitively.

`shown()` renders a name for the log and the reject text: no control or
format character gets through; each is written `<U+202E>`.  unicodedata is
imported only for names that are not plain ASCII.
"""

# Control characters: C0, DEL and C1.
_CONTROLS = {c: None for c in (*range(0x20), *range(0x7F, 0xA0))}
# Categories shown as <U+XXXX>: controls, format (bidi, zero-width), line
# and paragraph separators, surrogates (bytes a decoder escaped), private use.
_HIDDEN = ("Cc", "Cf", "Zl", "Zp", "Cs", "Co")


class Matcher:
    """Is a name blocked by one of `endings` (lower-case, like ".exe")?

    An ending without a leading dot matches a whole name or a name ending
    in "." + ending, so `exe` blocks `x.exe` but not `annexe`.
    """

    def __init__(self, endings: tuple[bytes, ...]) -> None:
        texts = [plain(e.decode("utf-8", "replace")) for e in endings if e]
        self.suffixes = tuple(e if e.startswith(".") else "." + e for e in texts if e)
        self.whole = frozenset(e for e in texts if e and not e.startswith("."))

    def __call__(self, name: str) -> str | None:
        """The reading of the name that is blocked (the one to report), or
        None."""
        if not self.suffixes:
            return None
        c_string = name.partition("\0")[0]
        readings = [c_string, ripmime_name(c_string)]
        if "\0" in name:
            readings.append(name.replace("\0", ""))
        for reading in readings:
            text = plain(reading)
            if text.endswith(self.suffixes) or text in self.whole:
                return reading
        return None


def plain(name: str) -> str:
    """The name as it is compared: controls and format characters out,
    NFKC, no trailing dots or spaces, lower case."""
    text = name.translate(_CONTROLS)
    if not text.isascii():
        from unicodedata import category, normalize

        # Before and after NFKC: it may split a character into a format one.
        text = "".join(c for c in text if category(c) not in _HIDDEN)
        text = normalize("NFKC", text)
        text = "".join(c for c in text if category(c) not in _HIDDEN)
    return text.rstrip(" .\t").lower()


def shown(name: str) -> str:
    """The name for the log and the reject text: every control, format,
    separator, surrogate or private-use character as `<U+XXXX>`."""
    if name.isascii() and name.isprintable():
        return name
    from unicodedata import category

    return "".join(f"<U+{ord(c):04X}>" if category(c) in _HIDDEN else c for c in name)


def ripmime_name(name: str) -> str:
    """The file name ripmime writes for a name it read (its header parser
    takes quotes off, then FNFILTER_filter)."""
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "'\"":
        name = name[1:-1]
    if len(name) > 2 and name[0] == name[-1] == '"':
        name = name[1:-1]
    if "/" in name:
        name = name.rsplit("/", 1)[1]
    elif "\\" in name and not name.rsplit("\\", 1)[1].startswith('"'):
        name = name.rsplit("\\", 1)[1]
    cut = name.find("?")
    if cut > 0 and name[cut - 1] != "=":
        name = name[:cut]
    return name
