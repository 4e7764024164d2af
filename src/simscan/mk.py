"""The `simscanmk` command: compile simcontrol into simcontrol.cdb, or (-g)
record the scanners' versions in simversions.cdb for the Received line.

Both files are written to a temporary file in the control dir, flushed to
disk and renamed over the old one, so a running simscan sees either the old
file or the new one, never half of one.  On any error the old file stays.
"""

from __future__ import annotations

import os
import sys

from . import __version__, settings
from .errors import ConfigError
from .policy import CDB_NAME
from .simcontrol import SourceError, parse_rule, records

SOURCE_NAME = "simcontrol"
VERSIONS_NAME = "simversions.cdb"

USAGE = """\
usage: simscanmk [-g]
       no options: builds CONTROLDIR/simcontrol.cdb from CONTROLDIR/simcontrol
       -g: builds CONTROLDIR/simversions.cdb from the enabled scanners
The control dir comes from simscan.toml ($SIMSCAN_CONFIG names another file).
"""


class MkError(Exception):
    """Something simscanmk reports and exits 1 for."""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args not in ([], ["-g"]):
        sys.stderr.write(USAGE)
        return 1
    try:
        config = settings.load(os.environ)
        if args == ["-g"]:
            path = build_versions(config)
            print(f"simscan versions cdb file built. {path}")
        else:
            path = build_control(config.controldir)
            print(f"simscan cdb file built. {path}")
    except (MkError, ConfigError) as err:
        sys.stderr.write(f"simscanmk: {err}\n")
        return 1
    return 0


def build_control(controldir: str) -> str:
    """simcontrol -> simcontrol.cdb; returns the cdb's path."""
    source = f"{controldir}/{SOURCE_NAME}"
    try:
        with open(source, "rb") as f:
            text = f.read()
    except FileNotFoundError:
        raise MkError(f"not building {CDB_NAME}: no {source} text file") from None
    except OSError as err:
        raise MkError(f"cannot read {source}: {err.strerror}") from None
    try:
        pairs = records(text)
    except SourceError as err:
        raise MkError(f"{source} {err}; {CDB_NAME} not changed") from None
    seen: set[bytes] = set()
    for key, value in pairs:
        queue = parse_rule(value).qmailqueue
        if queue is not None and not os.access(queue, os.X_OK):
            shown = queue.decode(errors="replace")
            sys.stderr.write(f"simscanmk: warning: qmailqueue {shown} is not executable\n")
        if key in seen:
            # cdb keeps both; lookups (C and ours) see only the first.
            shown = key.decode(errors="replace") or "(default)"
            sys.stderr.write(f"simscanmk: warning: {shown} has several lines; the first wins\n")
        seen.add(key)
    target = f"{controldir}/{CDB_NAME}"
    write_cdb(target, pairs)
    return target


def scanner_versions(config: settings.Settings) -> list[tuple[bytes, bytes]]:
    """simversions.cdb records for the scanners the settings enable.

    attach and regex are part of simscan and carry its version; the virus
    and spam scanners add their own keys here.
    """
    out = []
    if config.attach:
        out.append((b"attach", __version__.encode()))
    if config.regex:
        out.append((b"regex", __version__.encode()))
    return out


def build_versions(config: settings.Settings) -> str:
    target = f"{config.controldir}/{VERSIONS_NAME}"
    write_cdb(target, scanner_versions(config))
    return target


def write_cdb(target: str, pairs: list[tuple[bytes, bytes]]) -> None:
    """Write a cdb atomically: temp file, fsync, chmod 0644, rename."""
    import cdbx

    directory = os.path.dirname(target) or "."
    temp = f"{directory}/ss.cdb.tmp.{os.getpid()}"
    try:
        with open(temp, "wb") as f:
            maker = cdbx.CDB.make(f)
            for key, value in pairs:
                maker.add(key, value)
            maker.commit()
            f.flush()
            os.fchmod(f.fileno(), 0o644)
            os.fsync(f.fileno())
        os.rename(temp, target)
    except BaseException as err:
        try:
            os.unlink(temp)
        except OSError:
            pass
        if isinstance(err, OSError):
            raise MkError(f"cannot write {target}: {err.strerror or err}") from None
        raise
    # Make the rename itself survive a crash.
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
