"""What the C simscan's build says: its ./configure options, each mapped
to a simscan.toml setting, read from the build's config.log.

`OPTIONS` is the one table from C option to setting (the README's
"Configuration" table says the same; a test holds them together).  A
`Recovery` collects what `simscanmk --from-c` found, from config.log here
or from the binary (celf.py): each setting with the C option it came from,
what could not be carried over, and notes.

config.log is autoconf's: its head has the command line as the shell got
it (`  $ ./configure --enable-user=clamav '--enable-spamc-args=-U /x'`),
and, when configure ran to its end, the `confdefs.h` section has the
`#define`s it compiled in (the paths it found by itself, and what it made
of each option: `--enable-quarantinedir=DIR` defines QMAILDIR/quarantine
whatever DIR says).  The #defines win where they differ: they are what the
binary was built with.
"""

from __future__ import annotations

import re
import shlex

# Kinds of option, by what configure did with the value.
SWITCH = "switch"  # `case $X in 1*|y*|Y*) on;; *) off`
PATH = "path"  # the value, as given (a path)
TEXT = "text"  # the value, as given (user, spamc arguments)
HITS = "hits"  # a number; `yes` is 10.0; 0*, n*, N* is no threshold
QUARANTINE = "quarantine"  # 0*, n*, N* off; anything else QMAILDIR/quarantine
NOT_NEEDED = "not needed"  # ripmime, pcre: simscan reads MIME and regexes itself
UNSUPPORTED = "unsupported"  # dspam: simscan has no DSPAM scanner


class Option:
    """One ./configure option of the C simscan and the setting it became."""

    __slots__ = ("default", "flag", "kind", "macro", "needs", "setting")

    def __init__(
        self,
        flag: str,
        setting: str,
        kind: str,
        macro: str = "",
        needs: str = "",
        default: bool = False,
    ) -> None:
        self.flag = flag  # `--enable-spam-hits`
        self.setting = setting  # `spam_hits` ("" for none)
        self.kind = kind
        self.macro = macro  # the #define that holds its value (confdefs.h)
        self.needs = needs  # the switch configure read it under (`spam`)
        self.default = default  # a switch's C default


OPTIONS: tuple[Option, ...] = (
    Option("--enable-user", "user", TEXT),
    Option("--enable-clamav", "clamav", SWITCH, default=True),
    Option("--enable-clamdscan", "clamdscan", PATH, "CLAMDSCAN"),
    Option("--enable-custom-smtp-reject", "custom_smtp_reject", SWITCH),
    Option("--enable-per-domain", "per_domain", SWITCH),
    Option("--enable-attach", "attach", SWITCH),
    Option("--enable-dropmsg", "dropmsg", SWITCH),
    Option("--enable-spam", "spam", SWITCH),
    Option("--enable-spam-passthru", "spam_passthru", SWITCH, needs="spam"),
    Option("--enable-spamc-user", "spamc_user", SWITCH, needs="spam"),
    Option("--enable-spam-auth-user", "spam_auth_user", SWITCH, needs="spam"),
    Option("--enable-spam-hits", "spam_hits", HITS, needs="spam"),
    Option("--enable-spamc", "spamc", PATH, "SPAMC"),
    Option("--enable-spamc-args", "spamc_args", TEXT, "SPAMC_ARGS"),
    Option("--enable-qmaildir", "qmaildir", PATH, "QMAILDIR"),
    Option("--enable-workdir", "workdir", PATH, "WORKDIR"),
    Option("--enable-controldir", "controldir", PATH, "CONTROLDIR"),
    Option("--enable-quarantinedir", "quarantinedir", QUARANTINE, "QUARANTINEDIR"),
    Option("--enable-qmail-queue", "qmail_queue", PATH, "QMAILQUEUE"),
    Option("--enable-trophie-path", "trophie_path", PATH, "TROPHIEBINARY"),
    Option("--enable-trophie-socket", "trophie_socket", PATH, "TROPHIESOCKET"),
    Option("--enable-ripmime", "ripmime", NOT_NEEDED),
    Option("--enable-received", "received", SWITCH),
    Option("--enable-spamassassin-path", "spamassassin_path", PATH, "SPAMASSASSINPATH"),
    Option("--enable-clamavdb-path", "clamavdb_path", PATH, "CLAMAVDBPATH"),
    Option("--enable-sigtool-path", "sigtool_path", PATH, "SIGTOOLPATH"),
    Option("--enable-regex", "regex", SWITCH),
    Option("--with-pcre-include", "", NOT_NEEDED),
    Option("--with-pcre-lib", "", NOT_NEEDED),
    Option("--enable-dspam", "", UNSUPPORTED),
    Option("--enable-dspam-user", "", UNSUPPORTED),
    Option("--enable-dspam-path", "", UNSUPPORTED),
    Option("--enable-dspam-args", "", UNSUPPORTED),
)
BY_FLAG = {option.flag: option for option in OPTIONS}
BY_SETTING = {option.setting: option for option in OPTIONS if option.setting}

DEFAULT_QMAILDIR = "/var/qmail"
# spamc's own cap (`-s`, 500 KB): the only one before simscan 1.4.2.
SPAMC_MAX_SIZE = 500 * 1024

DSPAM_GAP = (
    'simscan has no DSPAM scanner; spam = true scans with SpamAssassin (or spam_client = "rspamd")'
)


class MigrateError(Exception):
    """Something `simscanmk --from-c` cannot get past: it exits 1, writes nothing."""


class Value:
    """One setting's value recovered, with where it came from (for its comment)."""

    __slots__ = ("origin", "value")

    def __init__(self, value: object, origin: str) -> None:
        self.value = value
        self.origin = origin


class Recovery:
    """What the old build says, gathered from config.log or the binary."""

    def __init__(self) -> None:
        self.values: dict[str, Value] = {}
        self.gaps: list[str] = []  # "--enable-x: why, and what to check"
        self.notes: list[str] = []
        self.sources: list[str] = []  # what was read, for the file's head
        self.version = ""
        # How the C program capped the size of what it spam-scanned:
        # "builtin" (250000, simcontrol size_limit=), "file" (1.4.2-1.4.3:
        # CONTROLDIR/simsizelimit), "spamc" (before 1.4.2: spamc's -s).
        self.size_rule = ""
        # Was --enable-spam-hits compiled in?  Without it the C simscan
        # ignored simcontrol's spam_hits= (simscan applies it).
        self.hits_compiled = False
        self.setuid = ""  # the user the C binary is setuid to

    def set(self, setting: str, value: object, origin: str) -> None:
        self.values[setting] = Value(value, origin)

    def get(self, setting: str, default: object = None) -> object:
        found = self.values.get(setting)
        return default if found is None else found.value

    def gap(self, flag: str, text: str) -> None:
        self.gaps.append(f"{flag}: {text}")

    def note(self, text: str) -> None:
        self.notes.append(text)


def version_tuple(version: str) -> tuple[int, ...]:
    """`1.4.6.2` -> (1, 4, 6, 2); () when it is no version."""
    parts = version.split(".")
    if not all(p.isdigit() for p in parts):
        return ()
    return tuple(int(p) for p in parts)


def size_rule(version: str) -> str:
    """How a C simscan of this version capped what it spam-scanned."""
    found = version_tuple(version)
    if not found or found >= (1, 4, 4):
        return "builtin"
    return "file" if found >= (1, 4, 2) else "spamc"


# --- config.log --------------------------------------------------------------

_COMMAND = re.compile(r"^  \$ (\S*configure)(?:[ \t](.*))?$", re.M)
_CREATED = re.compile(r"^It was created by (\S+) configure (\S+),", re.M)
_DEFINE = re.compile(r"^#define ([A-Z_][A-Z0-9_]*) (.*)$", re.M)
_OUTPUT_VAR = re.compile(r"^([A-Za-z_]\w*)='(.*)'$", re.M)


class ConfigLog:
    """The parts of a config.log that say how simscan was configured."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        found = _COMMAND.search(text)
        if found is None:
            raise MigrateError(
                f"{path} has no configure command line (a line like"
                " '  $ ./configure --enable-...'): is it the config.log of simscan's build?"
            )
        self.command = found.group(0)[4:]
        try:
            self.words = shlex.split(found.group(2) or "")
        except ValueError as err:
            raise MigrateError(f"{path}: cannot split the configure command line ({err})") from None
        created = _CREATED.search(text)
        self.package, self.version = created.groups() if created else ("", "")
        if self.package and self.package != "simscan":
            raise MigrateError(f"{path} is the config.log of {self.package}, not of simscan")
        self.defines = _confdefs(text)
        self.version = self.version or self.defines.get("VERSION", "")
        self.output = dict(_OUTPUT_VAR.findall(text))


def _confdefs(text: str) -> dict[str, str]:
    """The #defines of the last `confdefs.h` section (what config.h got)."""
    at = text.rfind("## confdefs.h. ##")
    if at < 0:
        return {}
    out = {}
    for name, value in _DEFINE.findall(text, at):
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        out[name] = value
    return out


_WORD = re.compile(r"--(enable|disable|with|without)-([A-Za-z0-9_-]+)(?:=(.*))?$", re.S)


def given_options(words: list[str], recovery: Recovery) -> dict[str, tuple[str, str]]:
    """flag -> (value, the word as given), as autoconf reads them:
    `--enable-x` is `yes`, `--disable-x` is `no`, the last one wins, and
    `_` and `-` in a name are the same."""
    out: dict[str, tuple[str, str]] = {}
    for word in words:
        match = _WORD.match(word)
        if match is None:
            continue  # --prefix, CFLAGS=..., and the like: not simscan's
        how, name, value = match.groups()
        kind = "enable" if how in ("enable", "disable") else "with"
        flag = f"--{kind}-{name.replace('_', '-')}"
        if value is None:
            value = "no" if how in ("disable", "without") else "yes"
        if flag not in BY_FLAG:
            shown = shlex.quote(word)
            recovery.note(f"{shown} is no option of simscan's configure (it ignored it)")
            continue
        out[flag] = (value, shlex.quote(word))
    return out


def from_config_log(log: ConfigLog, recovery: Recovery) -> None:
    """Fill `recovery` from the configure line (and its #defines)."""
    recovery.sources.append(f"{log.path}: {log.command}")
    recovery.version = log.version
    given = given_options(log.words, recovery)
    on = {o.setting: _switch_on(o, given) for o in OPTIONS if o.kind == SWITCH}
    qmaildir = given.get("--enable-qmaildir", (DEFAULT_QMAILDIR, ""))[0]
    for option in OPTIONS:
        if option.needs and not on[option.needs]:
            if option.flag in given:
                recovery.note(
                    f"{given[option.flag][1]} did nothing: the C configure reads it only"
                    f" with {BY_SETTING[option.needs].flag}"
                )
            continue
        _apply(option, given.get(option.flag), log.defines, recovery, qmaildir)
    if "--enable-user" not in given and log.output.get("ENABLE_USER", "simscan") != "simscan":
        recovery.set("user", log.output["ENABLE_USER"], "--enable-user (config.log: ENABLE_USER)")
    if on["spam"]:
        recovery.size_rule = size_rule(log.version)


def _default(setting: str, qmaildir: str) -> object:
    from ..config.settings import Settings

    return getattr(Settings(qmaildir=qmaildir), setting)


def _switch_on(option: Option, given: dict[str, tuple[str, str]]) -> bool:
    if option.flag not in given:
        return option.default
    return given[option.flag][0][:1] in ("1", "y", "Y")


def _apply(
    option: Option,
    given: tuple[str, str] | None,
    defines: dict[str, str],
    recovery: Recovery,
    qmaildir: str,
) -> None:
    value, word = given if given else ("", "")
    if option.kind == SWITCH:
        on = value[:1] in ("1", "y", "Y") if given else option.default
        if given and value.lower() not in ("y", "yes", "n", "no", "1", "0"):
            recovery.note(f"{word}: configure read {value!r} as {'on' if on else 'off'}")
        shown = word or f"{option.flag} not given: {'on' if on else 'off'}, the C default"
        recovery.set(option.setting, on, shown)
    elif option.kind in (PATH, TEXT):
        _apply_value(option, given, defines, recovery, qmaildir)
    elif option.kind == HITS:
        _apply_hits(option, given, recovery)
    elif option.kind == QUARANTINE:
        _apply_quarantine(option, given, defines, recovery, qmaildir)
    elif option.kind == NOT_NEEDED and given and value[:1] not in ("0", "n", "N"):
        what = "regexes with Python's re" if "pcre" in option.flag else "MIME itself"
        recovery.note(f"{word}: not needed, simscan reads {what}")
    elif option.flag == "--enable-dspam" and value[:1] in ("1", "y", "Y"):
        recovery.gap(option.flag, DSPAM_GAP)


def _apply_value(
    option: Option,
    given: tuple[str, str] | None,
    defines: dict[str, str],
    recovery: Recovery,
    qmaildir: str,
) -> None:
    """A value given, or else one configure found by itself (only when it
    is not simscan's default too: that says nothing)."""
    defined = defines.get(option.macro) if option.macro else None
    if given:
        value, word = given
        if defined is not None and defined != value:
            recovery.note(
                f"{word}: configure compiled in {defined!r} instead (#define {option.macro})"
            )
            value = defined
        if option.kind == PATH and value == "yes":
            recovery.gap(option.flag, "given without a path (configure took 'yes' for one)")
            return
        recovery.set(option.setting, value, word)
    elif defined is not None and defined != _default(option.setting, qmaildir):
        recovery.set(
            option.setting,
            defined,
            f"{option.flag} not given: configure found it (#define {option.macro})",
        )


def _apply_hits(option: Option, given: tuple[str, str] | None, recovery: Recovery) -> None:
    if not given:
        return  # no threshold: refuse what SpamAssassin flags, as here
    value, word = given
    if value == "yes":
        recovery.hits_compiled = True
        recovery.set(option.setting, 10.0, f"{word} (no number: 10.0)")
    elif value[:1] in ("0", "n", "N"):
        if value[:1] == "0" and value != "0":
            recovery.note(
                f"{word}: the C configure read a value starting with 0 as 'no threshold',"
                " so none is set here either"
            )
    else:
        try:
            hits = float(value)
        except ValueError:
            recovery.gap(option.flag, f"{value!r} is no number")
            return
        recovery.hits_compiled = True
        recovery.set(option.setting, hits, word)


def _apply_quarantine(
    option: Option,
    given: tuple[str, str] | None,
    defines: dict[str, str],
    recovery: Recovery,
    qmaildir: str,
) -> None:
    value, word = given if given else ("no", "")
    if value[:1] in ("0", "n", "N"):
        return
    used = defines.get(option.macro, f"{qmaildir}/quarantine")
    if value not in ("yes", used):
        recovery.note(
            f"{word}: the C configure ignores the dir given and quarantines in"
            f" {used}; quarantinedir keeps {used}"
        )
    recovery.set(option.setting, used, word)


def spamc_max_size(args: str) -> int:
    """spamc's -s (--max-size) in spamc_args, else its default."""
    words = args.split()
    for i, word in enumerate(words):
        if word in ("-s", "--max-size") and i + 1 < len(words) and words[i + 1].isdigit():
            return int(words[i + 1])
        for prefix in ("-s", "--max-size="):
            if word.startswith(prefix) and word[len(prefix) :].isdigit():
                return int(word[len(prefix) :])
    return SPAMC_MAX_SIZE
