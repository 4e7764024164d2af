"""`simscanmk --from-c BINARY`: write the simscan.toml that does what a C
simscan install did.

It reads the C build's configure options from its config.log
(`--config-log`, cbuild.py), or else what the binary's strings say
(celf.py reads them, cstrings.py reads them as simscan's), and the
control files (ccontrol.py).  The file goes to stdout, or to `-o FILE`
(atomically, never over an existing file without --force), each setting
under a comment naming the C option it came from; what could not be
carried over is printed on stderr and listed at the file's end.  The file
is loaded with simscan's own settings loader before it is written.

bin/simscanmk sends `--from-c` here; nothing of this runs per message.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from ..config import settings
from ..errors import ConfigError
from . import cbuild, ccontrol, celf, cstrings
from .cbuild import MigrateError, Recovery

if TYPE_CHECKING:
    from ..config.simcontrol import Rule

DEFAULT_BINARY = "/var/qmail/bin/simscan"
_EXISTS = "{} exists; nothing written (--force replaces it)"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="simscanmk --from-c",
        usage="simscanmk --from-c BINARY [--config-log FILE] [--control-dir DIR]"
        " [-o FILE [--force]]",
        description="Write a simscan.toml equivalent to a C simscan install: its configure"
        " options (from config.log, else the binary's strings) and its control files.",
    )
    top.add_argument(
        "--from-c",
        dest="binary",
        metavar="BINARY",
        required=True,
        help=f"the C simscan binary (usually {DEFAULT_BINARY}); simscanmk beside it is read too",
    )
    top.add_argument(
        "--config-log",
        metavar="FILE",
        help="the config.log of its build: its configure options are then read from there",
    )
    top.add_argument(
        "--control-dir",
        metavar="DIR",
        help="where simcontrol and ssattach are (default: the C build's control dir)",
    )
    top.add_argument("-o", dest="output", metavar="FILE", help="write to FILE (default: stdout)")
    top.add_argument("--force", action="store_true", help="replace FILE if it exists")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.output and os.path.lexists(args.output) and not args.force:
            raise MigrateError(_EXISTS.format(args.output))
        recovery = recover(args.binary, args.config_log)
        controldir = args.control_dir or _controldir(recovery)
        entries = ccontrol.check(controldir, recovery)
        text = toml_text(recovery)
        config = _load(text, recovery)
        if config.controldir != controldir:
            recovery.note(
                f"the control files were read in {controldir}; controldir stays"
                f" {config.controldir}, the C build's"
            )
            config = config.replace(controldir=controldir)
        _advice(config, recovery, entries)
        if args.output:
            write(args.output, text, args.force)
        else:
            sys.stdout.write(text)
    except MigrateError as err:
        sys.stderr.write(f"simscanmk: {err}\n")
        return 1
    _report(recovery, args.output)
    return 0


def recover(binary_path: str, config_log: str | None) -> Recovery:
    """What the old install says: config.log's options when given (checked
    against the binary), else the binary's strings."""
    recovery = Recovery()
    binary = celf.read(binary_path)
    recovery.setuid = celf.setuid_owner(binary)
    if config_log:
        log = cbuild.ConfigLog(config_log, _read_text(config_log))
        cbuild.from_config_log(log, recovery)
        recovery.sources.append(f"{binary.path} (checked against config.log)")
        _cross_check(binary, recovery)
    else:
        beside = os.path.join(os.path.dirname(binary_path), "simscanmk")
        mk = celf.read(beside, "simscanmk") if os.path.exists(beside) else None
        cstrings.from_binary(binary, mk, recovery)
    return recovery


def _controldir(recovery: Recovery) -> str:
    """The C build's control dir (configure put it under qmaildir)."""
    qmaildir = recovery.get("qmaildir", cbuild.DEFAULT_QMAILDIR)
    return str(recovery.get("controldir", f"{qmaildir}/control"))


def _read_text(path: str) -> str:
    try:
        with open(path, "rb") as f:
            return f.read(64 << 20).decode("utf-8", "replace")
    except FileNotFoundError:
        raise MigrateError(f"{path}: no such file") from None
    except OSError as err:
        raise MigrateError(f"cannot read {path} ({err.strerror})") from None


def _cross_check(binary: celf.Binary, recovery: Recovery) -> None:
    """Was the binary built from this config.log?  Its paths say."""
    found = celf.version(binary)
    if found and recovery.version and found != recovery.version:
        recovery.note(
            f"config.log is of simscan {recovery.version}, {binary.path} is simscan {found}:"
            " was it built from this config.log?"
        )
    user = recovery.get("user", "simscan")
    if recovery.setuid and recovery.setuid != user:
        recovery.note(
            f"config.log gives user {user!r}, but {binary.path} is setuid {recovery.setuid}"
        )
    for setting in ("workdir", "controldir", "qmail_queue", "clamdscan", "spamc", "quarantinedir"):
        value = recovery.values.get(setting)
        if value is not None and not binary.has(str(value.value)):
            recovery.note(
                f"config.log gives {setting} {value.value!r}, which {binary.path} does not"
                " have: was it built from this config.log?"
            )


# --- the file ----------------------------------------------------------------


def toml_text(recovery: Recovery) -> str:
    """The simscan.toml: a head saying what was read, each setting under
    the C option it came from, and what could not be carried over."""
    out = [
        "# simscan.toml for the Python simscan, written by `simscanmk --from-c`",
        "# from the C simscan's build.  Read:",
        *(f"#   {_comment(source)}" for source in recovery.sources),
        "# Each setting is under the C option it came from.",
        "",
    ]
    for name in settings.names():
        value = recovery.values.get(name)
        if value is None:
            continue
        literal = _literal(value.value)
        problem = _refused(name, literal)
        if problem:
            refused = f"{value.value!r}: simscan refuses it ({problem})"
            recovery.gap(_flag(name, value.origin), refused)
            del recovery.values[name]
            continue
        out += [f"# {_comment(value.origin)}", f"{name} = {literal}"]
    if recovery.gaps:
        out += ["", "# Not carried over (simscanmk --from-c said so on stderr too):"]
        out += [f"# {_comment(gap)}" for gap in recovery.gaps]
    return "\n".join(out) + "\n"


def _comment(text: str) -> str:
    """A comment's text on one line (a configure word may hold a newline)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    escaped = "".join(
        "\\\\" if c == "\\" else '\\"' if c == '"' else f"\\u{ord(c):04x}" if ord(c) < 32 else c
        for c in text
    )
    return f'"{escaped}"'


def _refused(name: str, literal: str) -> str:
    try:
        settings.from_text(f"{name} = {literal}\n", "-")
    except ConfigError as err:
        return err.problem
    return ""


def _flag(name: str, origin: str) -> str:
    option = cbuild.BY_SETTING.get(name)
    return option.flag if option else origin


def _load(text: str, recovery: Recovery) -> settings.Settings:
    try:
        return settings.from_text(text, "the simscan.toml written")
    except ConfigError as err:  # every value was checked alone: a bug
        raise MigrateError(f"the file made does not load ({err}); nothing written") from None


def write(path: str, text: str, force: bool = False) -> None:
    """Write atomically: a temp file beside it, fsync, mode 0644, then
    renamed over the old file (force), or linked to a name that must not
    exist yet."""
    directory = os.path.dirname(os.path.abspath(path))
    temp = os.path.join(directory, f".{os.path.basename(path)}.tmp.{os.getpid()}")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            data = text.encode()
            while data:
                data = data[os.write(fd, data) :]
            os.fchmod(fd, 0o644)
            os.fsync(fd)
        finally:
            os.close(fd)
        if force:
            os.rename(temp, path)
        else:
            os.link(temp, path)
            os.unlink(temp)
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as err:
        try:
            os.unlink(temp)
        except OSError:
            pass
        if isinstance(err, FileExistsError) and not force:
            raise MigrateError(_EXISTS.format(path)) from None
        raise MigrateError(f"cannot write {path} ({err.strerror})") from None


# --- what to tell the admin --------------------------------------------------


def _advice(
    config: settings.Settings, recovery: Recovery, entries: list[tuple[bytes, Rule]]
) -> None:
    from ..config import audit

    for text in audit.silent_settings(config, "simscan.toml", True, entries):
        recovery.note(text)
    if recovery.setuid:
        recovery.note(
            f"the C simscan ran setuid {recovery.setuid} in {config.workdir}; simscan runs as"
            " qmail-smtpd's user: if `simscan config` says that user cannot create work dirs"
            " there, give simscan a work dir of its own while both run (README, 'Migrating"
            " from the C simscan')"
        )
    _quarantined(config.quarantinedir, recovery)
    if config.received:
        recovery.note(
            "received = true: run simscanmk -g from this install (and from freshclam's"
            " OnUpdateExecute) so that the Received line has the scanners' versions"
        )


def _quarantined(directory: str, recovery: Recovery) -> None:
    try:
        names = os.listdir(directory) if directory else []
    except OSError:
        return
    old = [n for n in names if n.startswith(("msg.", "spamc.msg."))]
    if old:
        recovery.note(
            f"{directory} has {len(old)} messages the C simscan quarantined (msg.*, the"
            " message alone); they stay, and `simscan quarantine` lists only its own entries"
        )


def _report(recovery: Recovery, output: str | None) -> None:
    err = sys.stderr
    for source in recovery.sources:
        err.write(f"simscanmk: read {source}\n")
    for gap in recovery.gaps:
        err.write(f"simscanmk: not carried over: {gap}\n")
    for note in recovery.notes:
        err.write(f"simscanmk: note: {note}\n")
    if output:
        err.write(f"simscanmk: wrote {output}\n")
