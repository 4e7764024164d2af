"""How mail readers read a part's Content-* headers: every reading of the
names, types, boundaries and transfer encodings in them.

Where two readers read a header differently (Thunderbird, Outlook, Apple
Mail, MimeKit, Python's email package in both policies, or ripmime for the
C simscan), each reading is returned; mime.py checks the union.

- Headers.  Content-Type, Content-Disposition, Content-Name and
  X-Sun-Data-Name (Thunderbird's fallbacks), Content-Location (ripmime takes
  its last path segment), every one of them if repeated; a header counts
  when its name contains one of these (ripmime matches substrings).
- Parameters.  Every `key=value` anywhere in a header value, whatever the
  separator (`;`, `,`, none) and whether a disposition type comes first.  An
  unquoted value is read up to the first space, up to an RFC 2045 special
  (Python's default policy), up to `;` and up to `;` or `,`; a quoted one
  with and without its backslashes undone, and as compat32 cuts it.
- RFC 2231 continuations are joined from *0 up to a gap, across gaps, as
  they come (ripmime), without leading pieces a reader took for something
  else, and as compat32 sorts and joins them; of duplicates the first and
  the last.  RFC 2047 words are decoded one by one, joined before decoding,
  and as Python's default policy decodes them.

Header text is Latin-1 (every byte one character, so boundaries stay
exact); names become real text (UTF-8 when they are, else Latin-1) in
as_text.  Malformed input never raises.  The work is bounded (a Meter per
message, and per header value): past a bound the reading raises OverLimit,
which mime.py turns into a limit (the walk fails closed), never a slow
walk.  Every search of a header value runs in C and resumes where the last
one stopped, so reading a value costs time in proportion to its length.
"""

import binascii

MAX_PARAMS = 1000  # key=value pairs with a wanted key in one header value
MAX_PAIRS = 20000  # ... and in one message
MAX_WORDS = 200000  # `=?` and `%` (RFC 2047 and 2231 escapes) decoded in one message
READING_FACTOR = 16  # the readings of a header value: at most this times its length


class OverLimit(Exception):
    """A header asks for more reading than the bounds allow; str() says
    which bound, for the log.  mime.py catches it: it never leaves mail."""


class Meter:
    """The reading left for one message's Content-* headers."""

    __slots__ = ("pairs", "words")

    def __init__(self) -> None:
        self.pairs = MAX_PAIRS
        self.words = MAX_WORDS

    def spend(self, texts: "list[str] | tuple[str, ...]") -> None:
        """Texts about to be decoded: their `=?` and `%` (the decoders'
        steps) are taken from what is left."""
        for text in texts:
            self.words -= text.count("=?") + text.count("%")
        if self.words < 0:
            raise OverLimit(f"more than {MAX_WORDS} encoded words in Content-* headers")


class _Finder:
    """Where `sub` next occurs in `text` at or after a point (-1: nowhere).
    It remembers the last answer, so asking at points that only move
    forward reads the text once."""

    __slots__ = ("found", "since", "sub", "text")

    def __init__(self, text: str, sub: str) -> None:
        self.text, self.sub = text, sub
        self.since = len(text) + 1  # no answer yet
        self.found = -1

    def __call__(self, i: int) -> int:
        # Known: no `sub` in [since, found) (or after since at all, if -1).
        if not (self.since <= i and (self.found < 0 or self.found >= i)):
            self.found = self.text.find(self.sub, i)
            self.since = i
        return self.found


_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_NOT_B64 = bytes(c for c in range(256) if c not in _B64_ALPHABET)
_HEX = b"0123456789abcdefABCDEF"
# Headers that name a part, and the one that says how the body is encoded.
NAMED = ("content-disposition", "content-type", "content-name", "x-sun-data-name",
         "content-location")  # fmt: skip
_WHOLE = ("content-name", "x-sun-data-name", "content-location")  # the value is the name
_KEPT = (*(k.encode() for k in NAMED), b"content-transfer-encoding")


def names(fields: dict[str, list[str]], meter: "Meter | None" = None) -> list[str]:
    """Every reading of every name the headers give (from fields())."""
    meter = meter or Meter()
    found: list[str] = []
    for key in NAMED:
        for value in fields.get(key, ()):
            if key in _WHOLE:
                found += whole_value_readings(value, meter)
            for param in ("filename", "name"):
                found += param_readings(value, param, meter)
    return found


def fields(lines: list[bytes]) -> dict[str, list[str]]:
    """The kept headers, unfolded, as Latin-1 text, each with every value it
    has in the order given.  A folded line is joined as it is (its leading
    blank stays); a line that is no header is joined after a space."""
    fields: dict[str, list[list[bytes]]] = {}
    current: list[bytes] | None = None
    cut = ""  # the header that no line that is no header has followed yet
    for piece in lines:
        if piece.startswith(b"\0"):  # the rest of a long line
            if current is not None:
                current.append(piece[1:].rstrip(b"\r\n"))
            continue
        name, colon, value = piece.partition(b":")
        key = kept(name.rstrip(b" \t").lower()) if colon else None
        if key is not None and piece[:1] not in (b" ", b"\t"):
            current = [value.rstrip(b"\r\n")]
            fields.setdefault(key, []).append(current)
            cut = key
        elif current is not None:
            line = piece.rstrip(b"\r\n")
            if line[:1] not in (b" ", b"\t") and cut:
                # The header as it stands is one reading (the line ended it),
                # with this line the other (only LF ends a line).
                fields[cut].append(list(current))
                cut = ""
            current.append(line if line[:1] in (b" ", b"\t") else b" " + line)
    # Latin-1 keeps every byte as one character: boundaries stay exact, and
    # names become real text (UTF-8 or Latin-1) in as_text.
    return {k: [b"".join(v).decode("latin-1") for v in vs] for k, vs in fields.items()}


def kept(name: bytes) -> str | None:
    """The kept header a (lower-case) header name is, if any."""
    for key in _KEPT:
        if key in name:
            return key.decode()
    return None


_TOKEN_END = " \t;,"
_TSPECIALS = ' \t()<>@,;:\\"/[]?='  # RFC 2045: where a token ends (Python's default policy)
# Python's str.strip() and split() blanks (compat32 strips keys and values).
_BLANKS = " \t\x0b\x0c\x1c\x1d\x1e\x1f"
_KEY_STOPS = _BLANKS + ';,:"()='  # a key starts after one of these
MAX_KEY = 64  # a longer key is no key anyone wants (filename*NN* is short)


def pairs(value: str, wanted: str, meter: "Meter | None" = None) -> list[tuple[str, list[str]]]:
    """Every `key=value` in a header value whose key starts with `wanted`,
    wherever it is: (lower-case key, the readings of its value).  A key
    starts after a space, `;`, `,`, `:`, `"`, `(`, `)` or `=`, and is at
    most MAX_KEY long.  Quoted: unquoted with and without undoing
    backslashes.  Unquoted: up to the first space, up to an RFC 2045
    special, up to `;`, and up to `;` or `,`.  Past MAX_PARAMS such pairs,
    or readings READING_FACTOR times as long as the value, OverLimit."""
    out: list[tuple[str, list[str]]] = []
    lower = value.lower()
    at = lower.find(wanted)
    if at < 0:
        return out
    n = len(value)
    budget = READING_FACTOR * n + 4096
    token_end = [_Finder(value, c) for c in _TOKEN_END]
    specials = [_Finder(value, c) for c in _TSPECIALS if c not in _TOKEN_END]
    semicolon, comma = token_end[2], token_end[3]
    quote, backslash = _Finder(value, '"'), _Finder(value, "\\")
    after_quote = _Finder(value, ";")  # compat32's cut after a quoted value
    equals = _Finder(value, "=")
    last_eq = k = -1
    while at >= 0:
        here, at = at, lower.find(wanted, at + 1)
        if here and value[here - 1] not in _KEY_STOPS:
            continue  # inside a word: no key starts here
        i = here + len(wanted)
        while i < n and value[i] in " \t":
            i += 1
        if i > here + len(wanted) and i < n and value[i] != "=":
            key = wanted  # ripmime: `filename x.exe`, the `=` left out
        else:
            eq = equals(here + len(wanted))
            if eq < 0:
                continue
            if eq != last_eq:  # where the key ends: before the blanks before `=`
                last_eq = k = eq
                while value[k - 1] in _BLANKS:
                    k -= 1
            if k - here > MAX_KEY:
                continue  # a key too long
            key = lower[here:k]
            if any(c in key for c in _KEY_STOPS):
                continue  # the key for this `=` starts later
            at = lower.find(wanted, eq + 1)
            i = eq + 1
            while i < n and value[i] in _BLANKS:
                i += 1
        if len(out) >= MAX_PARAMS:
            raise OverLimit(f"more than {MAX_PARAMS} parameters in a Content-* header")
        readings: list[str] = []
        if i < n and value[i] == '"':
            unescaped, plain, after = _quoted(value, i, quote, backslash)
            readings += (unescaped, plain)
            # compat32: up to the next `;`, then one pair of quotes off.
            cut = after_quote(after)
            segment = value[i : cut if cut >= 0 else n].strip(_BLANKS)
            if len(segment) >= 2 and segment.endswith('"'):
                segment = segment[1:-1].replace("\\\\", "\\").replace('\\"', '"')
            readings.append(segment)
        else:
            end = _first(token_end, i, n)
            readings.append(value[i:end])
            token = _first(specials, i, end)
            readings.append(value[i:token])
            star = value.find("*", i, token)
            if star >= 0:  # RFC 2231: "*" is no attribute-char either
                readings.append(value[i:star])
            upto = semicolon(i)
            upto = n if upto < 0 else upto
            readings.append(value[i:upto].strip(_BLANKS))
            either = _first((comma,), i, upto)
            readings.append(value[i:either].strip(_BLANKS))
            if '"' in readings[-2]:
                readings.append(readings[-2].replace('"', ""))  # a stray quote dropped
        budget -= sum(len(r) for r in readings)
        if budget < 0:
            raise OverLimit("Content-* header parameters too entangled to read")
        out.append((key, readings))
    if meter is not None:
        meter.pairs -= len(out)
        if meter.pairs < 0:
            raise OverLimit(f"more than {MAX_PAIRS} parameters in Content-* headers")
    return out


def _first(finders: "list[_Finder] | tuple[_Finder, ...]", i: int, limit: int) -> int:
    """The first place at or after i, before limit, that any finder finds
    (else limit)."""
    for find in finders:
        at = find(i)
        if 0 <= at < limit:
            limit = at
    return limit


def _variants(value: str, meter: "Meter", words: bool = True) -> list[str]:
    """A header value as readers see it before reading its parameters: as
    it is, without comments, and (ripmime) with RFC 2047 words decoded."""
    out = [value]
    if "(" in value:
        out.append(_no_comments(value))
    if words and "=?" in value:
        meter.spend((value,))
        out.append(rfc2047(value))
    return out


def _quoted(
    value: str, i: int, quote: "_Finder | None" = None, backslash: "_Finder | None" = None
) -> tuple[str, str, int]:
    """The quoted string at value[i] == '"': (backslashes undone, as
    written, index after it).  An unclosed one runs to the end.  (Finders
    of value's quotes and backslashes may be given, to share.)"""
    quote = quote or _Finder(value, '"')
    backslash = backslash or _Finder(value, "\\")
    out = []
    j, n = i + 1, len(value)
    while j < n:
        closing = quote(j)
        slash = backslash(j)
        if 0 <= slash < (closing if closing >= 0 else n):
            out.append(value[j:slash] + value[slash + 1 : slash + 2])
            j = slash + 2
            continue
        if closing < 0:
            break
        out.append(value[j:closing])
        return "".join(out), value[i + 1 : closing], closing + 1
    out.append(value[j:])
    return "".join(out), value[i + 1 :], n


def param_readings(value: str, param: str, meter: "Meter | None" = None) -> list[str]:
    """Every reading of parameter `param` in a header value, decoded."""
    meter = meter or Meter()
    found = [pair for variant in _variants(value, meter) for pair in pairs(variant, param, meter)]
    out: list[str] = []
    plain: list[str] = []
    whole: list[list[str]] = []
    pieces: list[tuple[int, bool, list[str]]] = []
    for key, readings in found:
        if key == param:
            plain += readings
        elif key.startswith(param + "*"):
            rest = key[len(param) + 1 :]
            encoded = rest.endswith("*")
            number = rest.rstrip("*")
            if not number:
                whole.append(readings)  # param*=charset'lang'value
            elif number.isascii() and number.isdigit() and int(number) < 1000:
                pieces.append((int(number), encoded, readings))
    for readings in whole:
        meter.spend(readings)
        for reading in readings:
            out += rfc2231_readings([(reading, True)])
    for joined in _joins(pieces, value, meter):
        out += rfc2231_readings(joined)
    if len(whole) + len(pieces) > 1:
        # compat32 sorts every `param*...` it has (repeats too) by number
        # and value, undoes %XX in each, joins them, then reads the charset.
        every = [(0, True, readings) for readings in whole] + pieces
        meter.spend([r for _, _, readings in every for r in readings])
        for index in range(max(len(readings) for _, _, readings in every)):
            chosen = sorted(
                (number, readings[min(index, len(readings) - 1)], encoded)
                for number, encoded, readings in every
            )
            text = "".join(
                _percent(v).decode("latin-1") if encoded else v for _, v, encoded in chosen
            )
            if any(encoded for _, _, encoded in chosen):
                out += rfc2231_readings([(text, True)])
            else:
                out.append(as_text(_raw(text)))
    plain = _distinct(plain)
    meter.spend(plain)
    for reading in plain:
        out += _word_readings(reading)
        if reading.count("'") >= 2:  # Python's default policy: charset'lang'value
            out += rfc2231_readings([(reading, True)])
    return _distinct(out)


def _joins(
    pieces: list[tuple[int, bool, list[str]]], value: str, meter: "Meter"
) -> list[list[tuple[str, bool]]]:
    """The distinct joins of RFC 2231 continuations (_continuations), paid
    for: together at most READING_FACTOR times as long as the value."""
    if not pieces:
        return []
    budget = READING_FACTOR * len(value) + 4096
    seen = set()
    out = []
    for joined in _continuations(pieces):
        key = tuple(joined)
        if key in seen:
            continue
        seen.add(key)
        texts = [text for text, _ in joined]
        budget -= sum(len(text) for text in texts)
        if budget < 0:
            raise OverLimit("RFC 2231 continuations in a Content-* header too entangled to read")
        meter.spend(texts)
        out.append(joined)
    return out


def _continuations(pieces: list[tuple[int, bool, list[str]]]) -> list[list[tuple[str, bool]]]:
    """RFC 2231 continuations joined as readers join them: from *0 up to a
    gap, and every number there is in order; of duplicates the first and
    the last; of each piece each of its readings."""
    out = []
    widest = max(len(readings) for _, _, readings in pieces)
    for pick in (0, -1):
        for reading in range(widest):
            chosen: dict[int, tuple[str, bool]] = {}
            for number, encoded, readings in pieces if pick == 0 else reversed(pieces):
                chosen.setdefault(number, (readings[min(reading, len(readings) - 1)], encoded))
            upto_gap = []
            for number in range(len(chosen)):
                if number not in chosen:
                    break
                upto_gap.append(chosen[number])
            if upto_gap:
                out.append(upto_gap)
            ordered = [chosen[number] for number in sorted(chosen)]
            out.append(ordered)
            if pick == 0 and reading == 0:
                # A reader that took the first of them for something else
                # (the type, after a `,`) has the rest.
                out += (ordered[k:] for k in range(1, min(len(ordered), 32)))
    out.append([(readings[0], encoded) for _, encoded, readings in pieces])  # ripmime: as they come
    for k in range(1, min(len(pieces), 32)):
        # The first k as written taken for something else (the type).
        rest: dict[int, tuple[str, bool]] = {}
        for number, encoded, readings in pieces[k:]:
            rest.setdefault(number, (readings[0], encoded))
        out.append([rest[number] for number in sorted(rest)])
    return out


def whole_value_readings(value: str, meter: "Meter | None" = None) -> list[str]:
    """A header whose whole value is a name (Content-Name, X-Sun-Data-Name)."""
    value = value.strip(" \t")
    readings = [value]
    if value.startswith('"'):
        unescaped, plain, _ = _quoted(value, 0)
        readings += (unescaped, plain)
    readings.append(value.split(";")[0].strip(" \t"))
    for reading in list(readings):  # Content-Location: the last path segment
        readings.append(reading.replace("\\", "/").rstrip(" ").rsplit("/", 1)[-1])
    readings = _distinct(readings)
    (meter or Meter()).spend(readings)
    out = []
    for reading in readings:
        out += _word_readings(reading)
    return _distinct(out)


def _word_readings(text: str) -> list[str]:
    """A plain value as text: as it is, and with RFC 2047 words decoded one
    by one and joined before decoding (a word may end mid base64 group)."""
    if "=?" not in text:
        return [as_text(_raw(text))]
    return _distinct(
        [
            rfc2047(text),
            rfc2047(text, "join"),
            rfc2047(text, "python"),
            rfc2047(text, "raw"),
            as_text(_raw(text)),
        ]
    )


def _distinct(values: list[str]) -> list[str]:
    seen = set()
    out = []
    for value in values:
        if value and value not in seen:
            seen.add(value)
            out.append(value)
    return out


def type_readings(value: str, meter: "Meter | None" = None) -> set[str]:
    """The media types a reader may take from a Content-Type value: as
    written, and (Python's default policy) with RFC 2047 words decoded."""
    value = value.replace("\t", " ")
    values = [value]
    if "=?" in value:
        (meter or Meter()).spend((value,))
        values.append(rfc2047(value, "python"))
    heads = {h for v in values for h in (v.split(";")[0], v.split(";")[0].split(",")[0])}
    heads |= {h.strip(" ").split(" ")[0] for h in list(heads) if h.strip(" ")}
    out = set()
    for head in heads:
        head = _no_comments(head).strip(" ").lower()
        if not head:
            continue
        out.add(head)
        if "/" in head:  # MimeKit: blanks around the `/` go
            out.add("/".join(side.strip(" ") for side in head.split("/", 1)))
        if "?" in head:
            out.add(head.rsplit("?", 1)[1])  # Thunderbird: what follows the last "?"
        if "/" not in head:
            out.add("text/plain")  # not a type: read as plain text
    return out


_UUENCODE = ("x-uuencode", "uuencode", "x-uue", "uue")  # TB's and Python's names
# ripmime's reading: the first of these found anywhere before a `;`.
_RIPMIME_ENCODINGS = (("base64", "base64"), ("7bit", "7bit"), ("8bit", "8bit"),
                      ("quoted-printable", "quoted-printable"), ("binary", "binary"),
                      ("uu", "x-uuencode"), ("x-u", "x-uuencode"))  # fmt: skip


def encoding_readings(value: str) -> set[str]:
    """The transfer encodings a reader may take (lower-case; "" = none);
    uuencode under any of its names is "x-uuencode"."""
    written = value.split(";")[0].lower()
    value = _no_comments(value.replace("\t", " ")).strip(" ").lower()
    out = {value, value.split(";")[0].strip(" ")}
    if value:
        out.add(value.split()[0])
    if out & set(_UUENCODE):
        out.add("x-uuencode")
    for part, encoding in _RIPMIME_ENCODINGS:
        if part in written:
            out.add(encoding)
            break
    else:
        if written.strip() == "u":
            out.add("x-uuencode")
    return out


def _no_comments(text: str) -> str:
    if "(" not in text:
        return text
    out = []
    depth = 0
    for c in text:
        if c == "(":
            depth += 1
        elif c == ")" and depth:
            depth -= 1
        elif not depth:
            out.append(c)
    return "".join(out)


def boundary_readings(value: str, meter: "Meter | None" = None) -> list[bytes]:
    """Every boundary a reader may take from a Content-Type value, as the
    bytes that delimit the parts (no RFC 2047: `=` and `?` are boundary
    characters)."""
    meter = meter or Meter()
    out = []
    pieces: list[tuple[int, bool, list[str]]] = []
    variants = _variants(value, meter, words=False)
    for key, readings in (p for v in variants for p in pairs(v, "boundary", meter)):
        if key == "boundary":
            for reading in readings:
                out.append(_raw(reading))
                out.append(_raw(reading.rstrip(_BLANKS)))
            # Python's default policy decodes RFC 2047 words even in quotes.
            words = _distinct([r for r in readings if "=?" in r])
            meter.spend(words)
            for reading in words:
                out += (_utf8(rfc2047(reading, mode)) for mode in ("python", "words"))
        elif key.startswith("boundary*"):
            rest = key[len("boundary*") :]
            number = rest.rstrip("*")
            if not number:
                meter.spend(readings[:1])
                out += map(_utf8, rfc2231_readings([(readings[0], True)]))
            elif number.isascii() and number.isdigit() and int(number) < 1000:
                pieces.append((int(number), rest.endswith("*"), readings))
    for joined in _joins(pieces, value, meter):
        out += map(_utf8, rfc2231_readings(joined))
    return list(dict.fromkeys(b for b in out if b))


# --- RFC 2231 and RFC 2047 --------------------------------------------------------


def rfc2231(pieces: list[tuple[str, bool]]) -> str:
    """Join RFC 2231 pieces; the first encoded one names the charset."""
    return _decode(*_rfc2231_bytes(pieces))


def rfc2231_readings(pieces: list[tuple[str, bool]]) -> list[str]:
    """The joined pieces in their charset, and with it ignored: the bytes
    as they are (Thunderbird and MimeKit where the charset is unknown to
    them or maps ASCII elsewhere, ripmime always)."""
    data, charset = _rfc2231_bytes(pieces)
    return _distinct([_decode(data, charset), as_text(data)])


def _rfc2231_bytes(pieces: list[tuple[str, bool]]) -> tuple[bytes, str]:
    charset = "us-ascii"
    data = bytearray()
    for index, (value, encoded) in enumerate(pieces):
        if not encoded:
            data += _raw(value)
            continue
        if index == 0 and value.count("'") >= 2:
            charset, _lang, value = value.split("'", 2)
        data += _percent(value)
    return bytes(data), charset or "us-ascii"


def _percent(value: str) -> bytes:
    parts = _raw(value).split(b"%")
    out = bytearray(parts[0])
    for part in parts[1:]:
        if len(part) >= 2 and part[0] in _HEX and part[1] in _HEX:
            out.append(int(part[:2], 16))
            out += part[2:]
        else:
            out += b"%" + part
    return bytes(out)


def rfc2047(value: str, mode: str = "words") -> str:
    """Decode `=?charset?B|Q?text?=` words (value is Latin-1 text);
    whitespace between two encoded words goes, as RFC 2047 says.  Anything
    that is not a well-formed word stays as it is.  Modes, for the readers
    that differ: "words", each word on its own; "join", adjacent words of
    one charset and encoding joined before decoding (a word may end inside
    a base64 group or a =XX escape); "python", as Python's default policy:
    a =XX that is no escape stays as written, a word that does not decode
    is its encoded text, and the bytes of adjacent words of one charset are
    joined before the charset decodes them; "raw", as "words" with the
    charset ignored (ripmime; Thunderbird when the bytes are ASCII)."""
    out: list[str] = []
    pos = 0  # everything before pos is in out
    search = 0
    after_word = -1  # where the last word ended
    # The run of adjacent words being gathered: (charset, kind, encoded text
    # or decoded bytes, the words as written).
    run: tuple[str, str, bytes, str] | None = None
    # Each search resumes where the last one of its kind stopped.
    opening, question, closing = _Finder(value, "=?"), _Finder(value, "?"), _Finder(value, "?=")
    more = _Finder(value, "?=")  # Python's: the `?=` after one followed by =XX
    while True:
        start = opening(search)
        if start < 0:
            break
        search = start + 2
        if mode == "python":
            word = _python_word(value, start, closing, more)
            if word is None:
                continue
            charset, kind, encoded, end = word
        else:
            q1 = question(start + 2)
            if q1 < 0:
                break  # no word can start here or later
            if q1 + 2 >= len(value) or value[q1 + 2] != "?":
                continue
            end = closing(q1 + 3)
            if end < 0:
                break  # nothing later can close a word either
            charset = value[start + 2 : q1]
            kind = value[q1 + 1].upper()
            encoded = value[q1 + 3 : end]
        charset = charset.partition("*")[0]
        if not charset or any(c in charset for c in " \t=") or kind not in "BQ":
            continue
        if mode == "raw":
            charset = ""  # _decode: the bytes as they are
        text = _raw(encoded)
        written = value[start : end + 2]
        if mode == "python":
            if kind == "B" and text and not text.strip(b"="):
                continue  # Python keeps a word of padding alone as written
            data = _word_bytes(kind, text, python=True)
            text = text if data is None else data
            kind = "-"  # bytes now: any two words of one charset join
        elif mode in ("words", "raw"):
            data = _word_bytes(kind, text)
            if data is None:
                continue  # not a word after all
            text, kind = data, "-"
        between = value[pos:start]
        adjacent = after_word == pos and not between.strip()
        if (
            run is not None
            and adjacent
            and run[:2] == (charset.lower(), kind)
            and mode in ("join", "python")
        ):
            run = (run[0], kind, run[2] + text, run[3] + value[pos : end + 2])
        else:
            if run is not None:
                out.append(_run_text(run))
            if not adjacent:
                out.append(as_text(_raw(between)))
            run = (charset.lower(), kind, text, written)
        pos = search = after_word = end + 2
    if run is not None:
        out.append(_run_text(run))
    out.append(as_text(_raw(value[pos:])))
    return "".join(out)


def _python_word(
    value: str, start: int, closing: "_Finder", more: "_Finder"
) -> tuple[str, str, str, int] | None:
    """The encoded word at value[start:] as Python's header parser cuts it
    (at the first `?=`, unless =XX follows): (charset, kind, text, where
    its `?=` is), or None.  (closing and more find `?=` in value.)"""
    cut = closing(start + 2)
    if cut < 0:
        return None
    if (
        cut + 3 < len(value)
        and value[cut + 2] in _HEXTEXT
        and value[cut + 3] in _HEXTEXT
        and _count(value, "?", start + 2, cut, 2) < 2
    ):
        cut = more(cut + 2)
        if cut < 0:
            return None
    if _count(value, "?", start + 2, cut, 3) != 2:
        return None
    q1 = value.find("?", start + 2, cut)
    q2 = value.find("?", q1 + 1, cut)
    return value[start + 2 : q1], value[q1 + 1 : q2].upper(), value[q2 + 1 : cut], cut


def _count(value: str, sub: str, lo: int, hi: int, most: int) -> int:
    """How many `sub` there are in value[lo:hi], counting up to `most`:
    the search stops there, so it reads only as far as it must."""
    n = 0
    at = value.find(sub, lo, hi)
    while at >= 0 and n < most:
        n += 1
        at = value.find(sub, at + 1, hi)
    return n


_HEXTEXT = "0123456789abcdefABCDEF"


def _run_text(run: tuple[str, str, bytes, str]) -> str:
    charset, kind, data, written = run
    if kind != "-":
        decoded = _word_bytes(kind, data)
        if decoded is None:
            return as_text(_raw(written))
        data = decoded
    return _decode(data, charset)


def _word_bytes(kind: str, text: bytes, python: bool = False) -> bytes | None:
    """An encoded word's text as bytes, or None when it cannot be decoded."""
    try:
        if kind == "B":
            chars = text.translate(None, _NOT_B64).replace(b"=", b"")
            if len(chars) % 4 == 1:
                return text if python else None  # not base64 of anything
            return binascii.a2b_base64(chars + b"=" * (-len(chars) % 4))
        if python:
            return _q_escapes(text.replace(b"_", b" "))
        return binascii.a2b_qp(text.replace(b"_", b" "))
    except (binascii.Error, ValueError):
        return None


def _q_escapes(text: bytes) -> bytes:
    """Undo =XX escapes; any other `=` stays."""
    parts = text.split(b"=")
    out = bytearray(parts[0])
    for part in parts[1:]:
        if len(part) >= 2 and part[0] in _HEX and part[1] in _HEX:
            out.append(int(part[:2], 16))
            out += part[2:]
        else:
            out += b"=" + part
    return bytes(out)


# Charsets Python has no codec for under these names, as MimeKit maps them
# (.NET code pages); Python's own names for the rest.
_CODE_PAGES = {"1200": "utf-16-le", "1201": "utf-16-be", "12000": "utf-32-le",
               "12001": "utf-32-be", "65000": "utf-7", "65001": "utf-8"}  # fmt: skip
_CHARSETS = {"unicode": "utf-16-le", "iso-10646-ucs-2": "utf-16-be", "ucs-2": "utf-16-le"}


def _decode(data: bytes, charset: str) -> str:
    """Bytes in a charset as text; "" for none: as_text."""
    charset = charset.strip().lower()
    if not charset:
        return as_text(data)
    number = charset.removeprefix("cp").removeprefix("windows-")
    charset = _CODE_PAGES.get(number, _CHARSETS.get(charset, charset))
    try:
        return data.decode(charset, "replace")
    except (LookupError, UnicodeError, ValueError, TypeError):
        # Unknown, or a codec that is not for text (idna, punycode...).
        return as_text(data)


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _raw(text: str) -> bytes:
    """The bytes behind header text from fields (Latin-1); text from
    elsewhere that is not Latin-1 is taken as UTF-8."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def as_text(data: bytes) -> str:
    """Header bytes as text: UTF-8 (RFC 6532) when it is, else Latin-1."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")
