"""Policy: which checks apply to one message, and with what parameters.

`resolve()` turns the settings and the envelope into a Policy.  With
per_domain on, it looks the envelope up in `CONTROLDIR/simcontrol.cdb`
exactly as the C simscan did (SPEC section 4): everything starts off, the
default entry (key "") applies, then the sender's and then each recipient's
entries, domain first and then each qmail-extension prefix of the local
part; every entry found overrides what it names, attach and types lists are
replaced and regexes add up.  The global settings stay the master switches
(they were compile-time options in C): per-domain `clam=yes` scans only when
`clamav` is on.  Without per_domain the global settings apply, and the
attachment list comes from `CONTROLDIR/ssattach`.

That is `policy_merge = "last"`, the C rule, under which the last
recipient's entries win over the others'.  `"strictest"` resolves each
recipient on its own (default, sender, that recipient) and merges the
results so that no recipient's checks are lost (`_strictest`); the cdb is
still read once.

The scanners read the Policy, never the cdb or the settings' switches.
"""

import posix  # os's own core: `import os` costs ~0.9 ms per message (see cli.py)

from ..errors import ConfigError
from ..qmail.queue import Envelope
from .settings import ENCRYPTED, Settings

# simcontrol is imported where per_domain needs it: sites without per-domain
# rules do not load it for every message.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import TypeVar

    import cdbx

    from .simcontrol import Rule

    T = TypeVar("T")

CDB_NAME = "simcontrol.cdb"
_SWITCHES = ("clam", "spam", "trophie", "spam_passthru")
ATTACH_NAME = "ssattach"
_MAX_ATTACH = 1000


class Policy:
    """The checks for one message.  Built by resolve(); read-only by habit."""

    __slots__ = (
        "attach",
        "block_encrypted",
        "block_types",
        "clam",
        "notes",
        "qmail_queue",
        "regex",
        "rspamd_settings",
        "size_limit",
        "spam",
        "spam_flag_counts",
        "spam_hits",
        "spam_passthru",
        "spam_user",
        "trophie",
    )

    def __init__(
        self,
        *,
        clam: bool = False,
        spam: bool = False,
        trophie: bool = False,
        attach: tuple[bytes, ...] = (),
        block_types: tuple[str, ...] = (),
        block_encrypted: bool = False,
        regex: tuple[bytes, ...] = (),
        spam_hits: float | None = None,
        spam_flag_counts: bool = False,
        spam_passthru: bool = False,
        spam_user: bytes | None = None,
        rspamd_settings: bytes | None = None,
        size_limit: int = 250000,
        qmail_queue: str = "",
        notes: tuple[str, ...] = (),
    ) -> None:
        self.clam = clam
        self.spam = spam
        self.trophie = trophie
        # Lower-case file name endings that are refused (".exe").
        self.attach = attach
        # File type categories refused by what the content is ("executable",
        # "disk-image", "shortcut", "macro"; never "archive-encrypted",
        # which is block_encrypted: encrypted archives and documents).
        self.block_types = block_types
        self.block_encrypted = block_encrypted
        # Patterns matched against each line of the raw message, in order.
        self.regex = regex
        # None: spam is what SpamAssassin flags.  A score: spam from there.
        self.spam_hits = spam_hits
        # With spam_hits: what SpamAssassin flags is spam too, below it (a
        # recipient without spam_hits in a "strictest" merge).
        self.spam_flag_counts = spam_flag_counts
        self.spam_passthru = spam_passthru
        # The SpamAssassin user for per-user preferences, if any.
        self.spam_user = spam_user
        # rspamd's Settings-Id for this message (simcontrol rspamd_settings=).
        self.rspamd_settings = rspamd_settings
        self.size_limit = size_limit
        self.qmail_queue = qmail_queue
        # What the lookup found odd (bad pairs in a cdb the C simscanmk
        # made, say): skipped, and reported as warnings.
        self.notes = notes

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"Policy({fields})"

    def describe(self) -> str:
        """The policy as an admin reads it, in simcontrol's words:
        `clam=yes,spam=no,...,attach=.exe:.com,size_limit=250000`."""
        parts = [f"{name}={'yes' if getattr(self, name) else 'no'}" for name in _SWITCHES]
        if self.attach:
            parts.append("attach=" + ":".join(e.decode(errors="replace") for e in self.attach))
        if self.block_types:
            parts.append("types=" + ":".join(self.block_types))
        if self.block_encrypted:
            parts.append("block_encrypted=yes")
        if self.regex:
            parts.append(f"regex={len(self.regex)} pattern{'s' * (len(self.regex) != 1)}")
        if self.spam_hits is not None:
            parts.append(f"spam_hits={self.spam_hits:g}")
            if self.spam_flag_counts:
                parts.append("spam_flag_counts=yes")
        if self.spam_user is not None:
            parts.append(f"spamuser={self.spam_user.decode(errors='replace')}")
        if self.rspamd_settings is not None:
            parts.append(f"rspamd_settings={self.rspamd_settings.decode(errors='replace')}")
        parts.append(f"size_limit={self.size_limit}")
        parts.append(f"qmailqueue={self.qmail_queue}")
        return ",".join(parts)

    @property
    def inspects_attachments(self) -> bool:
        """Does the attachment scanner run?  Not only for names to block:
        types or encryption to refuse need it too, with no attach list."""
        return bool(self.attach or self.block_types or self.block_encrypted)


def resolve(
    settings: Settings,
    envelope: Envelope,
    lookups: "list[tuple[bytes, bytes | None]] | None" = None,
) -> Policy:
    """The Policy for this message (reads the cdb or ssattach).  With
    `lookups`, each simcontrol key tried is added to it in order, with the
    entry found for it or None (SIMSCAN_DEBUG=2 and `simscan check`)."""
    if settings.per_domain:
        return _per_domain(settings, envelope, lookups)
    attach: tuple[bytes, ...] = ()
    if settings.attach:
        attach = read_attach_list(f"{settings.controldir}/{ATTACH_NAME}")
    types = _default_types(settings)
    return Policy(
        clam=settings.clamav,
        spam=settings.spam,
        trophie=bool(settings.trophie_socket),
        attach=attach,
        block_types=_by_content(types),
        block_encrypted=ENCRYPTED in types,
        spam_hits=settings.spam_hits,
        spam_passthru=settings.spam_passthru,
        spam_user=_spam_user(settings, envelope, None),
        size_limit=settings.size_limit,
        qmail_queue=settings.qmail_queue,
    )


def _default_types(settings: Settings) -> tuple[str, ...]:
    """block_types, with block_encrypted as its category.  These need no
    `attach = true`: they are new, off by default, and listing them is the
    site's opt-in.  Per domain they are each recipient's default list."""
    if settings.block_encrypted:
        return (*settings.block_types, ENCRYPTED)
    return settings.block_types


def _by_content(types: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(t for t in types if t != ENCRYPTED) if ENCRYPTED in types else types


def _per_domain(
    settings: Settings,
    envelope: Envelope,
    lookups: "list[tuple[bytes, bytes | None]] | None",
) -> Policy:
    from .simcontrol import lookup_keys

    path = f"{settings.controldir}/{CDB_NAME}"
    common = [b"", *lookup_keys(envelope.sender)]
    own = [lookup_keys(r) for r in envelope.recipients]
    keys = common + [k for mine in own for k in mine]
    found = dict(read_rules(path, keys))  # the one pass over the cdb
    if lookups is not None:
        lookups += [(key, found.get(key)) for key in keys]
    parsed: dict[bytes, tuple[Rule, list[str]]] = {}
    notes: list[str] = []
    whole = _policy(settings, envelope, _rules(keys, found, parsed, notes), tuple(notes))
    if settings.policy_merge == "last" or len(own) < 2:
        return whole
    # "strictest": each recipient's policy on its own (default, sender,
    # that recipient), then the strictest of them.
    policies = [
        _policy(settings, envelope, _rules(common + mine, found, parsed, [])) for mine in own
    ]
    return _strictest(policies, whole)


def _rules(
    keys: list[bytes],
    found: dict[bytes, bytes],
    parsed: "dict[bytes, tuple[Rule, list[str]]]",
    notes: list[str],
) -> "Rule":
    """The entries found for these keys, merged in order (the C rule).
    Each entry is parsed once, however many recipients share it; its notes
    come with each use, as they did before entries were shared."""
    from .simcontrol import Rule, parse_rule

    merged = Rule()
    for key in keys:
        value = found.get(key)
        if value is None:
            continue
        entry = parsed.get(key)
        if entry is None:
            problems: list[str] = []
            rule = parse_rule(value, problems)
            shown = key.decode(errors="replace")
            entry = parsed[key] = (rule, [f"{CDB_NAME} entry {shown!r}: {p}" for p in problems])
        notes += entry[1]
        _merge(merged, entry[0])
    return merged


def _policy(
    settings: Settings, envelope: Envelope, merged: "Rule", notes: tuple[str, ...] = ()
) -> Policy:
    types = _default_types(settings)
    if merged.types is not None and (settings.attach or types):
        # types= needs the attachment check on, as attach= does; here that
        # is attach = true or a global block_types / block_encrypted.
        types = merged.types
    return Policy(
        clam=settings.clamav and bool(merged.clam),
        spam=settings.spam and bool(merged.spam),
        trophie=bool(settings.trophie_socket) and bool(merged.trophie),
        attach=(merged.attach or ()) if settings.attach else (),
        block_types=_by_content(types),
        # A global block_encrypted stays on whatever types= says; the
        # category adds it for an entry's recipients.
        block_encrypted=settings.block_encrypted or ENCRYPTED in types,
        regex=merged.regex if settings.regex else (),
        spam_hits=settings.spam_hits if merged.spam_hits is None else merged.spam_hits,
        spam_passthru=settings.spam_passthru and bool(merged.spam_passthru),
        spam_user=_spam_user(settings, envelope, merged.spamuser),
        rspamd_settings=merged.rspamd_settings,
        size_limit=settings.size_limit if merged.size_limit is None else merged.size_limit,
        qmail_queue=(
            settings.qmail_queue
            if merged.qmailqueue is None
            else merged.qmailqueue.decode("utf-8", "surrogateescape")
        ),
        notes=notes,
    )


def _strictest(policies: list[Policy], whole: Policy) -> Policy:
    """policy_merge = "strictest": what any recipient's policy refuses is
    refused.  A check is on if any policy turns it on; lists are united
    (regex #N counts in the united list).  The spam parameters come from
    the policies that scan for spam: the lowest spam_hits (and, when some
    of them have none and do not pass spam through, SpamAssassin's flag
    counts too), the largest size_limit (more is scanned), passthru only
    if all pass spam through.  Where mail goes (qmail_queue) and the
    SpamAssassin user and rspamd's settings id are no matter of strictness: as under "last"
    (`whole`, the C merge of every entry)."""
    scanning = [p for p in policies if p.spam] or policies
    hits = [p.spam_hits for p in scanning if p.spam_hits is not None]
    return Policy(
        clam=any(p.clam for p in policies),
        spam=any(p.spam for p in policies),
        trophie=any(p.trophie for p in policies),
        attach=_united(p.attach for p in policies),
        block_types=_united(p.block_types for p in policies),
        block_encrypted=any(p.block_encrypted for p in policies),
        regex=_united(p.regex for p in policies),
        spam_hits=min(hits) if hits else None,
        spam_flag_counts=bool(hits)
        and any(p.spam_hits is None and not p.spam_passthru for p in scanning),
        spam_passthru=all(p.spam_passthru for p in scanning),
        spam_user=whole.spam_user,
        rspamd_settings=whole.rspamd_settings,
        size_limit=max(p.size_limit for p in scanning),
        qmail_queue=whole.qmail_queue,
        notes=tuple(dict.fromkeys(whole.notes)),
    )


def _united(lists: "Iterable[tuple[T, ...]]") -> "tuple[T, ...]":
    return tuple(dict.fromkeys(item for items in lists for item in items))


def _merge(into: "Rule", rule: "Rule") -> None:
    """Apply a later (more specific) entry over what came before."""
    for name in into.__slots__:
        value = getattr(rule, name)
        if name == "regex":
            into.regex = into.regex + value
        elif value is not None:
            setattr(into, name, value)


def _spam_user(settings: Settings, envelope: Envelope, spamuser: bytes | None) -> bytes | None:
    """spamuser (per-domain) with exactly one recipient, else with
    spamc_user on the first recipient (SPEC section 5)."""
    if spamuser and len(envelope.recipients) == 1:
        return spamuser
    if settings.spamc_user and envelope.recipients:
        return envelope.recipients_lower[0]
    return None


def read_rules(path: str, keys: list[bytes]) -> list[tuple[bytes, bytes]]:
    """(key, value) for each key found in the cdb, in the order asked.

    A missing or unreadable cdb is a ConfigError (a temporary failure):
    with per_domain on, a missing cdb would otherwise mean no scanning at
    all, silently, as in the C simscan.
    """
    try:
        db = _cdb(_open_checked(path))
    except FileNotFoundError:
        raise ConfigError(path, 0, "", "not found (per_domain is on; run simscanmk)") from None
    except OSError as err:
        raise ConfigError(path, 0, "", f"cannot read ({err.strerror or err})") from None
    try:
        seen: dict[bytes, bytes | None] = {}  # many recipients share keys
        found = []
        for key in keys:
            if key in seen:
                value = seen[key]
            else:
                value = seen[key] = db.get(key)
            if value is not None:
                found.append((key, value))
        return found
    except OSError as err:
        raise ConfigError(path, 0, "", f"cannot read ({err.strerror or err})") from None
    finally:
        db.close()


def _open_checked(path: str) -> int:
    """The cdb, opened (an fd).  A cdb has no checksum, and garbage can
    read as "no entries", which would mean no scanning at all: its 256
    hash-table pointers must at least point inside the file.  (ConfigError
    if they do not.)"""
    from _struct import unpack

    fd = posix.open(path, posix.O_RDONLY | posix.O_CLOEXEC)
    try:
        head = posix.pread(fd, 2048, 0)
        size = posix.fstat(fd).st_size
        if len(head) < 2048:
            raise ConfigError(path, 0, "", "corrupt (shorter than a cdb header; run simscanmk)")
        table = unpack("<512I", head)
        for at, slots in zip(table[0::2], table[1::2], strict=True):
            if at < 2048 or at + 8 * slots > size:
                raise ConfigError(path, 0, "", "corrupt (not a cdb; run simscanmk)")
    except BaseException:
        posix.close(fd)
        raise
    return fd


def _cdb(fd: int) -> "cdbx.CDB":
    """cdbx on an open fd, closed with it (or here, if cdbx cannot take
    it).  An fd, not the path: given a path, cdbx imports os (~0.9 ms)."""
    import cdbx

    try:
        return cdbx.CDB(fd, close=True, mmap=False)
    except BaseException:
        try:
            posix.close(fd)
        except OSError:
            pass
        raise


def read_attach_list(path: str) -> tuple[bytes, ...]:
    """The extensions in ssattach: first word of each line, lower-cased.

    A missing file is an empty list (attachment blocking with nothing to
    block), as in the C simscan; an unreadable one is a ConfigError.
    """
    try:
        with open(path, "rb") as f:
            data = f.read(1 << 20)
    except FileNotFoundError:
        return ()
    except OSError as err:
        raise ConfigError(path, 0, "", f"cannot read ({err.strerror})") from None
    out = []
    for line in data.splitlines():
        words = line.replace(b":", b" ").split()
        if words and not words[0].startswith(b"#"):
            out.append(words[0].lower())
    return tuple(out[:_MAX_ATTACH])


VERSIONS_NAME = "simversions.cdb"


def recorded_version(controldir: str, key: str) -> str:
    """A scanner's version as `simscanmk -g` recorded it in simversions.cdb
    (for the Received line); `unknown` when the file or key is missing."""
    try:
        db = _cdb(posix.open(f"{controldir}/{VERSIONS_NAME}", posix.O_RDONLY | posix.O_CLOEXEC))
    except OSError:
        return "unknown"
    try:
        value = db.get(key.encode())
    except OSError:
        value = None
    finally:
        db.close()
    return "unknown" if value is None else value.decode("utf-8", "replace")
