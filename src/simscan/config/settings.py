"""Run-time settings: one flat TOML file, one frozen value.

Every `--enable-*` option of the C simscan is a key here, named as the option
without `--enable-` and with `_` for `-`, with the C program's default.  The
file is `simscan.toml` in the control dir, or whatever `$SIMSCAN_CONFIG`
names.  A missing default file means all defaults; a bad value is a
ConfigError naming the file, line and key (simscan then exits 71 so the
message is retried once the file is fixed).

Settings is a plain slotted class rather than a dataclass: importing
dataclasses costs ~10 ms per message (it imports inspect).
"""

from ..errors import ConfigError
from . import tomlflat

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_QMAILDIR = "/var/qmail"
DEFAULT_CONFIG = DEFAULT_QMAILDIR + "/control/simscan.toml"


def _bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError("expected true or false")


def _str(value: object) -> str:
    if isinstance(value, str):
        return value
    raise ValueError("expected a string")


def _path(value: object) -> str:
    text = _str(value)
    if text and not text.startswith("/"):
        raise ValueError("expected an absolute path")
    return text


def _size(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise ValueError("expected a whole number of bytes, 0 or more")


def _fd(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 3 <= value <= 255:
        return value
    raise ValueError("expected a file descriptor number from 3 to 255 (4 or 6)")


def _hits(value: object) -> float | None:
    """spam_hits: a number, true (the C default of 10.0) or false (none)."""
    if value is True:
        return 10.0
    if value is False:
        return None
    if isinstance(value, int | float) and value >= 0:
        return float(value)
    raise ValueError("expected a score (like 10.0), true or false")


def _seconds(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 3600:
        return float(value)
    raise ValueError("expected a number of seconds, more than 0 and at most 3600")


def _retry(value: object) -> float:
    """scanner_retry: 0 turns the memory of dead endpoints off."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 3600:
        return float(value)
    raise ValueError("expected a number of seconds from 0 (remember nothing) to 3600")


def _choice(*choices: str) -> object:
    def check(value: object) -> str:
        if value in choices:
            return str(value)
        raise ValueError("expected one of " + ", ".join(f'"{c}"' for c in choices))

    return check


def _endpoints(default_port: int) -> object:
    """A unix socket path or host:port, or an array of them (tried in order)."""

    def check(value: object) -> tuple[str, ...]:
        from ..wire.netio import parse_endpoints

        if isinstance(value, str):
            items = tuple(value.replace(",", " ").split())
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            items = tuple(value)
        else:
            raise ValueError('expected "/path/to/socket", "host:port" or an array of them')
        parse_endpoints(items, default_port)  # ValueError names the bad one
        return items

    return check


def _count(low: int, high: int) -> object:
    def check(value: object) -> int:
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return value
        raise ValueError(f"expected a whole number from {low} to {high}")

    return check


def _cap(value: object) -> int:
    """archive_max_bytes: 0 is not "no limit" (as in clamd.conf) but would
    refuse every archive, so it is refused here rather than misread."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise ValueError("expected a whole number of bytes, 1 or more (there is no 0 for no limit)")


# block_types' categories (simscan.mail.content.CATEGORIES: a test keeps
# the two the same; the mail room may not import this one).
TYPE_CATEGORIES = ("executable", "disk-image", "shortcut", "macro", "archive-encrypted")
ENCRYPTED = "archive-encrypted"  # the category that means block_encrypted


def check_types(items: list[str]) -> tuple[str, ...]:
    """block_types and simcontrol's types=: known categories only, each once."""
    for item in items:
        if item not in TYPE_CATEGORIES:
            known = ", ".join(TYPE_CATEGORIES)
            raise ValueError(f"unknown file type category {item!r} (known: {known})")
    return tuple(dict.fromkeys(items))


def _types(value: object) -> tuple[str, ...]:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return check_types(value)
    raise ValueError('expected an array of categories, like ["executable", "shortcut"]')


def _spamc_args(value: object) -> str:
    """spamc's arguments, one string quoted as for a shell (the C README's
    `--enable-spamc-args="-U /tmp/spamd.sock"`)."""
    text = _str(value)
    if text:
        from ..wire.spamd import spamc_options

        spamc_options(text)  # ValueError names the problem
    return text


# name -> (check/convert, default).  Paths that follow qmaildir are None here
# and filled in by _derive().
_SCHEMA: dict[str, tuple[object, object]] = {
    "user": (_str, "simscan"),
    "clamav": (_bool, True),
    "clamdscan": (_path, "/usr/bin/clamdscan"),
    "clamav_client": (_choice("clamd", "clamdscan"), "clamd"),
    "clamd": (_endpoints(3310), ()),
    "clamd_conf": (_path, "/etc/clamav/clamd.conf"),
    "clamd_connect_timeout": (_seconds, 5.0),
    "clamd_timeout": (_seconds, 120.0),
    "clamd_over_limit": (_choice("fildes", "pass"), "fildes"),
    "custom_smtp_reject": (_bool, False),
    "custom_error_fd": (_fd, 4),
    "per_domain": (_bool, False),
    "attach": (_bool, False),
    "mime_over_limit": (_choice("refuse", "pass"), "refuse"),
    "block_types": (_types, ()),
    "block_encrypted": (_bool, False),
    "archive_depth": (_count(0, 100), 3),
    "archive_max_bytes": (_cap, 100 << 20),
    "archive_max_members": (_count(1, 10**9), 10000),
    "archive_max_ratio": (_count(1, 10**9), 1000),
    "archive_over_limit": (_choice("refuse", "pass"), "refuse"),
    "policy_merge": (_choice("last", "strictest"), "last"),
    "spam": (_bool, False),
    "spam_passthru": (_bool, False),
    "spamc_user": (_bool, False),
    "spam_hits": (_hits, None),
    "spamc": (_path, "/usr/bin/spamc"),
    "spamc_args": (_spamc_args, ""),
    "spam_client": (_choice("spamd", "spamc", "rspamd"), "spamd"),
    "spamd": (_endpoints(783), ()),
    "spamd_connect_timeout": (_seconds, 5.0),
    "spamd_timeout": (_seconds, 120.0),
    "rspamd": (_endpoints(11333), ("127.0.0.1:11333",)),
    "rspamd_connect_timeout": (_seconds, 5.0),
    "rspamd_timeout": (_seconds, 120.0),
    "rspamd_outbound": (_bool, False),
    "spam_fail_tempfail": (_bool, False),
    "dropmsg": (_bool, False),
    "quarantinedir": (_path, ""),
    "qmaildir": (_path, DEFAULT_QMAILDIR),
    "workdir": (_path, None),
    "controldir": (_path, None),
    "qmail_queue": (_path, None),
    "trophie_path": (_path, ""),
    "trophie_socket": (_path, ""),
    "trophie_timeout": (_seconds, 60.0),
    "scan_timeout": (_seconds, 300.0),
    "scanner_balance": (_choice("failover", "spread"), "failover"),
    "scanner_retry": (_retry, 30.0),
    "ripmime": (_path, ""),
    "received": (_bool, False),
    "spamassassin_path": (_path, "/usr/bin/spamassassin"),
    "clamavdb_path": (_path, "/var/lib/clamav"),
    "sigtool_path": (_path, "/usr/bin/sigtool"),
    "regex": (_bool, False),
    "spam_auth_user": (_bool, False),
    "size_limit": (_size, 250000),
}

_UNDER_QMAILDIR = {
    "workdir": "/simscan",
    "controldir": "/control",
    "qmail_queue": "/bin/qmail-queue",
}


class Settings:
    """The settings of one run.  Frozen: build a new one with replace()."""

    __slots__ = tuple(_SCHEMA)

    user: str
    clamav: bool
    clamdscan: str
    clamav_client: str
    clamd: tuple[str, ...]
    clamd_conf: str
    clamd_connect_timeout: float
    clamd_timeout: float
    clamd_over_limit: str
    custom_smtp_reject: bool
    custom_error_fd: int
    per_domain: bool
    attach: bool
    mime_over_limit: str
    block_types: tuple[str, ...]
    block_encrypted: bool
    archive_depth: int
    archive_max_bytes: int
    archive_max_members: int
    archive_max_ratio: int
    archive_over_limit: str
    policy_merge: str
    spam: bool
    spam_passthru: bool
    spamc_user: bool
    spam_hits: float | None
    spamc: str
    spamc_args: str
    spam_client: str
    spamd: tuple[str, ...]
    spamd_connect_timeout: float
    spamd_timeout: float
    rspamd: tuple[str, ...]
    rspamd_connect_timeout: float
    rspamd_timeout: float
    rspamd_outbound: bool
    spam_fail_tempfail: bool
    dropmsg: bool
    quarantinedir: str
    qmaildir: str
    workdir: str
    controldir: str
    qmail_queue: str
    trophie_path: str
    trophie_socket: str
    trophie_timeout: float
    scan_timeout: float
    scanner_balance: str
    scanner_retry: float
    ripmime: str
    received: bool
    spamassassin_path: str
    clamavdb_path: str
    sigtool_path: str
    regex: bool
    spam_auth_user: bool
    size_limit: int

    def __init__(self, **values: object) -> None:
        unknown = set(values) - set(_SCHEMA)
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        qmaildir = values.get("qmaildir", DEFAULT_QMAILDIR)
        for name, (_check, default) in _SCHEMA.items():
            if name in values:
                value = values[name]
            elif name in _UNDER_QMAILDIR:
                value = f"{qmaildir}{_UNDER_QMAILDIR[name]}"
            else:
                value = default
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Settings are frozen; use replace()")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Settings are frozen")

    def replace(self, **changes: object) -> "Settings":
        values: dict[str, object] = {name: getattr(self, name) for name in _SCHEMA}
        values.update(changes)
        return Settings(**values)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Settings):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in _SCHEMA)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in _SCHEMA)
        return f"Settings({fields})"


def names() -> list[str]:
    """Every setting name, in documentation order."""
    return list(_SCHEMA)


def from_text(text: str, path: str) -> Settings:
    """Build Settings from the text of a simscan.toml."""
    values: dict[str, object] = {}
    for key, (value, line) in tomlflat.parse(text, path).items():
        if key not in _SCHEMA:
            raise ConfigError(path, line, key, "unknown setting")
        check = _SCHEMA[key][0]
        try:
            values[key] = check(value)  # type: ignore[operator]
        except ValueError as err:
            raise ConfigError(path, line, key, f"{err}, got {value!r}") from None
    return Settings(**values)


def config_path(environ: "Mapping[str, str]") -> str:
    return environ.get("SIMSCAN_CONFIG") or DEFAULT_CONFIG


def load(environ: "Mapping[str, str]") -> Settings:
    """Read the settings file named by $SIMSCAN_CONFIG, or the default one.

    Only the default file may be missing (all defaults then); a file named
    in $SIMSCAN_CONFIG that is missing is an error, since a typo there would
    otherwise silently turn every scanner back to its default.
    """
    path = config_path(environ)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        if path == DEFAULT_CONFIG:
            return Settings()
        raise ConfigError(path, 0, "", "file not found (named by SIMSCAN_CONFIG)") from None
    except OSError as err:
        raise ConfigError(path, 0, "", f"cannot read ({err.strerror})") from err
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(path, data.count(b"\n", 0, err.start) + 1, "", "not UTF-8") from None
    return from_text(text, path)
