"""The `simscanmk` command: compile simcontrol into simcontrol.cdb, or (-g)
record the scanners' versions in simversions.cdb for the Received line.

Both files are written to a temporary file in the control dir, flushed to
disk and renamed over the old one, so a running simscan sees either the old
file or the new one, never half of one.  On any error the old file stays.
"""

import os
import sys

from . import __version__
from .config import settings
from .config.policy import CDB_NAME, VERSIONS_NAME
from .config.simcontrol import SourceError, parse_rule, records
from .errors import ConfigError

SOURCE_NAME = "simcontrol"

USAGE = """\
usage: simscanmk [-g]
       simscanmk --from-c BINARY [--config-log FILE] [--control-dir DIR] [-o FILE [--force]]
       no options: builds CONTROLDIR/simcontrol.cdb from CONTROLDIR/simcontrol
       -g: builds CONTROLDIR/simversions.cdb from the enabled scanners
       --from-c: writes a simscan.toml equivalent to a C simscan install
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
            _audit(config)
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
            _warn(f"qmailqueue {shown} is not executable")
        _check_settings_id(text, key, value)
        if key in seen:
            # cdb keeps both; lookups (C and ours) see only the first.
            shown = key.decode(errors="replace") or "(default)"
            _warn(f"{shown} has several lines; the first wins")
        seen.add(key)
    target = f"{controldir}/{CDB_NAME}"
    write_cdb(target, pairs)
    return target


def _audit(config: settings.Settings) -> None:
    """Warn about what the new rules (with the settings) silently do not do."""
    from .config import audit

    path = settings.config_path(os.environ)
    try:
        with open(f"{config.controldir}/{SOURCE_NAME}", "rb") as f:
            entries = [(key, parse_rule(value)) for key, value in records(f.read())]
    except (OSError, SourceError):
        entries = []
    for text in audit.silent_settings(config, path, os.path.exists(path), entries):
        _warn(text)


def _check_settings_id(text: bytes, key: bytes, value: bytes) -> None:
    """rspamd's settings ids are case-sensitive, and simscanmk lower-cases
    every line but the default one (as the C simscanmk does): an id
    written with capitals would never match rspamd's."""
    settings_id = parse_rule(value).rspamd_settings
    if settings_id is None or not key:
        return
    for line in text.split(b"\n"):
        lower = line.lower()
        named = lower.rfind(b"rspamd_settings")
        if lower.strip().startswith(key + b":") and named >= 0:
            at = lower.find(settings_id, named + len(b"rspamd_settings"))
            written = line[at : at + len(settings_id)]
            if at >= 0 and written != settings_id:
                shown = written.decode(errors="replace")
                _warn(
                    f"rspamd_settings {shown} is sent as {settings_id.decode()}: simscanmk"
                    " lower-cases rules, so name rspamd's settings id in lower case"
                )
            return


def scanner_versions(config: settings.Settings) -> list[tuple[bytes, bytes]]:
    """simversions.cdb records for the scanners the settings enable.

    attach and regex are part of simscan and carry its version (attach
    also when only block_types or block_encrypted turn that check on); clamav is
    `ENGINE/m:MAIN/d:DAILY`, spam SpamAssassin's (or rspamd's) version,
    trophie what `trophie -v` says.  A version that cannot be found is an
    MkError naming each scanner that could not be asked: the Received line
    would otherwise say `unknown` for a scanner that may well be down.
    """
    out = []
    problems = []
    if config.attach or config.block_types or config.block_encrypted:
        out.append((b"attach", __version__.encode()))
    if config.regex:
        out.append((b"regex", __version__.encode()))
    if config.clamav:
        found = clamav_version(config)
        if found:
            out.append((b"clamav", found.encode()))
        else:
            problems.append("no ClamAV version found (clamd, clamdscan -V and sigtool all failed)")
    if config.spam and config.spam_client == "rspamd":
        found = rspamd_version(config)
        if found:
            out.append((b"spam", f"rspamd {found}".encode()))
        else:
            problems.append(
                "no rspamd version found (no endpoint of the rspamd setting answered a ping)"
            )
    elif config.spam:
        found = spamassassin_version(config.spamassassin_path)
        answered = "" if found else _spamd_answers(config)
        if answered:
            # spamd on another host: it answers, only its version is unknown here
            _warn(
                f"{config.spamassassin_path} -V failed, but spamd at {answered} answers PING;"
                " the spam version is recorded as 'unknown' (set spamassassin_path"
                " to a SpamAssassin of the same version to record it)"
            )
            found = "unknown"
        if found:
            out.append((b"spam", found.encode()))
        else:
            problems.append(
                f"no SpamAssassin version found ({config.spamassassin_path} -V failed,"
                " and no spamd endpoint answered PING)"
            )
    if config.trophie_socket:
        found = trophie_version(config.trophie_path)
        if found:
            out.append((b"trophie", found.encode()))
        else:
            problems.append("no Trophie version found (set trophie_path to the trophie program)")
    if problems:
        raise MkError("; ".join(problems) + f"; {VERSIONS_NAME} not changed")
    return out


def clamav_version(config: settings.Settings) -> str:
    """`ENGINE/m:MAIN/d:DAILY` as the C simscanmk wrote it: the engine from
    clamd's VERSION (or `clamdscan -V`, or `sigtool --version`), the
    database versions from `sigtool --info` on main and daily in
    clamavdb_path (or the daily number clamd gave).  Parts not found are
    left out; "" when not even the engine is known."""
    line = _clamd_version(config)
    for argv in ([config.clamdscan, "-V", f"--config-file={config.clamd_conf}"],
                 [config.sigtool_path, "--version"]):  # fmt: skip
        if line:
            break
        out = _output(argv)
        line = next((x for x in out.splitlines() if x.startswith("ClamAV ")), "")
    if not line:
        return ""
    fields = line[len("ClamAV ") :].split("/")
    engine, daily = fields[0].strip(), fields[1].strip() if len(fields) > 1 else ""
    main = _db_version(config, "main")
    daily = _db_version(config, "daily") or daily
    return engine + (f"/m:{main}" if main else "") + (f"/d:{daily}" if daily else "")


def _clamd_version(config: settings.Settings) -> str:
    from .wire import clamd, netio

    try:
        endpoints = clamd.where(config.clamd, config.clamd_conf).endpoints
    except (OSError, ValueError):
        return ""
    for endpoint in endpoints:
        try:
            sock = netio.connect(endpoint, config.clamd_connect_timeout)
            try:
                return clamd.version(sock, netio.Deadline(10)).decode("utf-8", "replace")
            finally:
                sock.close()
        except (OSError, clamd.ProtocolError):
            continue
    return ""


def rspamd_version(config: settings.Settings) -> str:
    """rspamd's version from its answer to `GET /ping` (the Server header,
    `rspamd/3.4`: the JSON answers carry none), from the first endpoint
    that answers."""
    from .wire import netio, rspamd

    for endpoint in netio.parse_endpoints(config.rspamd or ("127.0.0.1:11333",), 11333):
        try:
            sock = netio.connect(endpoint, config.rspamd_connect_timeout)
            try:
                found = rspamd.ping(sock, netio.Deadline(10))
            finally:
                sock.close()
        except (OSError, rspamd.ProtocolError):
            continue
        if found:
            return found
    return ""


def _spamd_answers(config: settings.Settings) -> str:
    """The first spamd endpoint (the `spamd` setting's, else spamc_args')
    that answers PING, as shown in logs; "" when none does."""
    from .wire import netio, spamd

    try:
        endpoints = (
            netio.parse_endpoints(config.spamd, spamd.DEFAULT_PORT)
            if config.spamd
            else spamd.spamc_options(config.spamc_args).endpoints
        )
    except ValueError:
        return ""
    for endpoint in endpoints:
        try:
            sock = netio.connect(endpoint, config.spamd_connect_timeout)
            try:
                spamd.ping(sock, netio.Deadline(10))
            finally:
                sock.close()
        except (OSError, spamd.ProtocolError):
            continue
        return endpoint.shown
    return ""


def _db_version(config: settings.Settings, name: str) -> str:
    for suffix in (".cvd", ".cld"):
        path = f"{config.clamavdb_path}/{name}{suffix}"
        if os.path.exists(path):
            for line in _output([config.sigtool_path, f"--info={path}"]).splitlines():
                if line.startswith("Version:"):
                    return line.partition(":")[2].strip()
    return ""


def spamassassin_version(program: str) -> str:
    """`SpamAssassin version 4.0.1` (what `spamassassin -V` prints) -> 4.0.1."""
    for line in _output([program, "-V"]).splitlines():
        words = line.split()
        if words[:2] == ["SpamAssassin", "version"] and len(words) > 2:
            return words[2]
    return ""


def trophie_version(program: str) -> str:
    """The version numbers `trophie -v` prints, joined by `/` (the C
    README shows `7.000-1011/218/74141`: program, engine, pattern)."""
    if not program:
        return ""
    words = _output([program, "-v"]).replace(",", " ").split()
    numbers = [w.strip("().:;") for w in words if w[:1].isdigit()]
    return "/".join(n for n in numbers if n)


def _output(argv: list[str]) -> str:
    """What a program prints (stdout and stderr), "" if it cannot run."""
    from .wire import proc

    try:
        _status, out = proc.run(argv, 30)
    except TimeoutError:  # (an OSError too: first)
        _warn(f"{argv[0]} did not finish in 30 s")
        return ""
    except OSError:
        return ""
    return out.decode("utf-8", "replace")


def _warn(text: str) -> None:
    sys.stderr.write(f"simscanmk: warning: {text}\n")


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
