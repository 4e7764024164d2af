"""The simcontrol rule language: parsing only, no files, no policy.

`CONTROLDIR/simcontrol` holds one rule per line, `KEY:name=value,...`, where
KEY is an address, a domain, or empty (the default).  simscanmk turns the
lines into cdb records (`records()`); simscan reads a record's value back
into a Rule (`parse_rule()`).  Both sides share this one parser, so a rule
simscanmk accepts is a rule simscan understands.

The records are the C simscanmk's, byte for byte: key and value lower-cased
except on the default line, the value being the rest of the line after the
first `:`.  The value is split as the C simscan splits it, on space, tab,
`=`, `,` and quotes, except that runs of separators count as one (the C
parser loses its pairing on `clam=yes, spam=yes`).
"""

_SEPARATORS = b" =\t\n\r,\"'"
# Every separator becomes a space, so bytes.split() does the tokenising.
_TO_SPACE = bytes(0x20 if c in _SEPARATORS else c for c in range(256))

_SWITCHES = ("clam", "spam", "trophie", "spam_passthru")
NAMES = (
    *_SWITCHES,
    "spam_hits",
    "attach",
    "types",
    "regex",
    "spamuser",
    "size_limit",
    "qmailqueue",
    "rspamd_settings",
)


_SETTINGS_ID = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


class RuleError(ValueError):
    """A rule that cannot be understood, with the reason."""


class Rule:
    """What one simcontrol entry says.  None means "not mentioned"."""

    __slots__ = (
        "attach",
        "clam",
        "qmailqueue",
        "regex",
        "rspamd_settings",
        "size_limit",
        "spam",
        "spam_hits",
        "spam_passthru",
        "spamuser",
        "trophie",
        "types",
    )

    def __init__(self) -> None:
        self.clam: bool | None = None
        self.spam: bool | None = None
        self.trophie: bool | None = None
        self.spam_passthru: bool | None = None
        self.spam_hits: float | None = None
        self.attach: tuple[bytes, ...] | None = None
        self.types: tuple[str, ...] | None = None
        self.regex: tuple[bytes, ...] = ()
        self.spamuser: bytes | None = None
        self.size_limit: int | None = None
        self.qmailqueue: bytes | None = None
        self.rspamd_settings: bytes | None = None

    def __repr__(self) -> str:
        said = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in self.__slots__
            if getattr(self, name) not in (None, ())
        )
        return f"Rule({said})"


def parse_rule(value: bytes, problems: list[str] | None = None) -> Rule:
    """Parse a rule's `name=value,...` text.

    With `problems` None (simscanmk), the first bad pair raises RuleError.
    Otherwise (simscan reading a cdb, perhaps one the C simscanmk made) a bad
    pair is described in `problems` and skipped, as the C simscan skipped
    names it did not know; the rest of the rule still applies.
    """
    rule = Rule()
    tokens = value.translate(_TO_SPACE).split()
    if len(tokens) % 2:
        _problem(problems, f"{tokens[-1].decode(errors='replace')!r} has no value")
        del tokens[-1]
    for i in range(0, len(tokens), 2):
        name = tokens[i].lower().decode("latin-1")
        text = tokens[i + 1]
        try:
            _apply(rule, name, text)
        except RuleError as err:
            _problem(problems, str(err))
    return rule


def _problem(problems: list[str] | None, text: str) -> None:
    if problems is None:
        raise RuleError(text)
    problems.append(text)


def _apply(rule: Rule, name: str, text: bytes) -> None:
    shown = text.decode(errors="replace")
    if name in _SWITCHES:
        word = text.lower()
        if word not in (b"yes", b"no"):
            raise RuleError(f"{name} must be yes or no, not {shown!r}")
        setattr(rule, name, word == b"yes")
    elif name == "spam_hits":
        try:
            hits = float(text)
        except ValueError:
            hits = -1.0
        if not hits >= 0:  # also refuses nan
            raise RuleError(f"spam_hits must be a score like 10.0, not {shown!r}")
        rule.spam_hits = hits
    elif name == "size_limit":
        if not text.isdigit():
            raise RuleError(f"size_limit must be a number of bytes, not {shown!r}")
        rule.size_limit = int(text)
    elif name == "attach":
        # An empty entry would match every file name (a C quirk): dropped.
        rule.attach = tuple(ext.lower() for ext in text.split(b":") if ext)
    elif name == "types":
        # As attach=: a list that replaces, empty entries dropped (`types=:`
        # or `types=none` is an empty list: no type checks for that entry).
        from .settings import check_types

        names = text.lower().decode("utf-8", "replace").split(":")
        try:
            words = [t for t in names if t]
            rule.types = () if words == ["none"] else check_types(words)
        except ValueError as err:
            raise RuleError(f"types has an {err}") from None
    elif name == "regex":
        rule.regex = rule.regex + tuple(p for p in text.split(b":") if p)
    elif name == "spamuser":
        rule.spamuser = text
    elif name == "rspamd_settings":
        # rspamd's Settings-Id: the name of a settings entry (`id = "..."`
        # in rspamd's settings.conf), sent as a header.
        if len(text) > 100 or not all(c in _SETTINGS_ID for c in text):
            raise RuleError(
                f"rspamd_settings must be a settings id (letters, digits, _ - .), not {shown!r}"
            )
        rule.rspamd_settings = text
    elif name == "qmailqueue":
        if not text.startswith(b"/"):
            raise RuleError(f"qmailqueue must be an absolute path, not {shown!r}")
        rule.qmailqueue = text
    else:
        raise RuleError(f"unknown name {name!r} (known: {', '.join(NAMES)})")


class SourceError(ValueError):
    """A line of simcontrol that simscanmk refuses to compile."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(f"line {line}: {problem}")
        self.line = line
        self.problem = problem


def records(text: bytes) -> list[tuple[bytes, bytes]]:
    """The cdb records for the text of a simcontrol file, in file order.

    Raises SourceError for the first line that is not a rule, not blank
    and not a `#` comment; rules are checked with parse_rule, and regexes
    compiled, so simscan never meets a rule it cannot use.
    """
    out: list[tuple[bytes, bytes]] = []
    for number, raw in enumerate(text.split(b"\n"), 1):
        line = raw.rstrip(b"\r")
        stripped = line.strip()
        if not stripped or stripped.startswith(b"#"):
            continue
        if line.startswith(b":"):
            # The default entry, kept as written (the C simscanmk does not
            # lower-case it either).
            key, value = b"", line[1:]
        else:
            key, colon, value = line.partition(b":")
            if not colon:
                raise SourceError(number, "no ':' after the address or domain")
            key = key.strip()
            if not key or any(c in key for c in b" \t#"):
                raise SourceError(number, f"bad address or domain {_show(key)}")
            key, value = key.lower(), value.lower()
        try:
            rule = parse_rule(value)
        except RuleError as err:
            raise SourceError(number, str(err)) from None
        for pattern in rule.regex:
            problem = regex_problem(pattern)
            if problem:
                raise SourceError(number, f"regex {_show(pattern)} is invalid ({problem})")
        out.append((key, value))
    return out


def regex_problem(pattern: bytes) -> str | None:
    """Why a regex does not compile, or None when it does."""
    import re

    try:
        re.compile(pattern)
    except re.error as err:
        return str(err)
    return None


# The C simscan read 499 bytes of an address; a local part cut into more
# than 32 extensions is taken as one for the rest (a bound on the lookups
# a sender can cause: 34 per address).
MAX_ADDRESS = 499
MAX_EXTENSIONS = 32


def lookup_keys(address: bytes) -> list[bytes]:
    """The cdb keys one envelope address is looked up under, in order.

    `a-b-c@d` gives `d`, `a@d`, `a-b@d`, `a-b-c@d` (qmail extensions, each
    more specific than the last); an address without `@` gives only the
    local-part keys, `local@` as the C simscan built them.
    """
    local, at, domain = address[:MAX_ADDRESS].lower().partition(b"@")
    keys = [domain] if at else []
    prefix = b""
    for n, part in enumerate(local.split(b"-", MAX_EXTENSIONS)):
        prefix = prefix + b"-" + part if n else part
        keys.append(prefix + b"@" + domain)
    return keys


def _show(text: bytes) -> str:
    return repr(text.decode(errors="replace"))
