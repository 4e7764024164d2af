"""Print the effective settings, each with where it came from, the control
files, the recorded scanner versions, whether qmail-smtpd's user can use
the work dir, and the settings that silently do nothing.  With --check,
also ask every scanner endpoint for its version and scan EICAR and GTUBE
through it.

The exit status is 0 only when all is well: the settings load, the work
dir can be used, and (with --check) every scanner answered rightly.
Warnings about settings that do nothing do not change it.
"""

import argparse
import os
import time

from ..config import audit, settings
from ..config.policy import ATTACH_NAME, CDB_NAME, VERSIONS_NAME
from ..errors import ConfigError
from ..qmail.queue import parse_envelope
from .check import Check

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from ..config.simcontrol import Rule
    from ..qmail.queue import Envelope
    from ..scan.base import Scanner
    from ..wire import netio
    from .smtpd import Identity


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--check",
        action="store_true",
        help="ask every scanner endpoint for its version and scan EICAR and GTUBE through it",
    )
    parser.add_argument(
        "--smtpd-user",
        metavar="USER[:GROUP]",
        help="who qmail-smtpd runs as (default: read from the usual run scripts)",
    )


def run(args: argparse.Namespace) -> int:
    report = Report()
    path = settings.config_path(os.environ)
    found = os.path.exists(path)
    report.head(f"settings file: {path}" + ("" if found else " (not found)"))
    try:
        config = settings.load(os.environ)
    except ConfigError as err:
        report.problem(f"the settings do not load: {err}; every message gets exit 71")
        return report.end()
    _settings(report, config, path, found)
    _environment(report)
    entries = _control_files(report, config)
    _versions(report, config)
    _marks(report, config, _workdir(report, config, args.smtpd_user))
    for text in audit.silent_settings(config, path, found, entries):
        report.warn(text)
    if args.check:
        Probes(report, config).run()
    return report.end()


class Report:
    """What is printed, and whether anything is wrong."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.warnings: list[str] = []

    def head(self, text: str) -> None:
        print(text)

    def line(self, text: str) -> None:
        print(f"  {text}")

    def problem(self, text: str) -> None:
        self.problems.append(text)
        print(f"  PROBLEM: {text}")

    def warn(self, text: str) -> None:
        self.warnings.append(text)

    def end(self) -> int:
        if self.warnings:
            print("warnings (settings that do nothing):")
            for text in self.warnings:
                print(f"  warning: {text}")
        if self.problems:
            print(f"{len(self.problems)} problem{'s' * (len(self.problems) > 1)}:")
            for text in self.problems:
                print(f"  {text}")
            return 1
        print("all well")
        return 0


def _settings(report: Report, config: settings.Settings, path: str, found: bool) -> None:
    where = audit.sources(path, found, config.qmaildir != settings.DEFAULT_QMAILDIR)
    report.head("settings:")
    shown = {name: _toml(getattr(config, name)) for name in settings.names()}
    width = max(len(f"{n} = {v}") for n, v in shown.items())
    for name, value in shown.items():
        report.line(f"{f'{name} = {value}':{width}}  # {where[name]}")


def _toml(value: object) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _environment(report: Report) -> None:
    report.head("environment:")
    for name in ("SIMSCAN_CONFIG", "SIMSCAN_DEBUG", "SIMSCAN_DEBUG_FILES"):
        value = os.environ.get(name)
        report.line(f"{name}={value}" if value is not None else f"{name} is not set")


def _control_files(report: Report, config: settings.Settings) -> "list[tuple[bytes, Rule]]":
    """The control files, and simcontrol's entries when it can be read."""
    from ..config.simcontrol import SourceError, parse_rule, records

    control = config.controldir
    report.head(f"control files in {control}:")
    stamps = {}
    for name in ("simcontrol", CDB_NAME, ATTACH_NAME, VERSIONS_NAME):
        try:
            st = os.stat(f"{control}/{name}")
        except OSError as err:
            report.line(f"{name}: {err.strerror.lower() if err.strerror else err}")
            continue
        stamps[name] = st.st_mtime
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(st.st_mtime))
        report.line(f"{name}: {st.st_size} bytes, changed {when}")
    if "simcontrol" in stamps and stamps["simcontrol"] > stamps.get(CDB_NAME, 0):
        if CDB_NAME in stamps:
            report.problem(f"{control}/simcontrol is newer than {CDB_NAME}: run simscanmk")
        elif config.per_domain:
            report.problem(f"{control}/{CDB_NAME} does not exist: run simscanmk")
    if config.per_domain and "simcontrol" not in stamps and CDB_NAME not in stamps:
        report.problem(f"per_domain = true but {control} has no simcontrol: run simscanmk")
    try:
        with open(f"{control}/simcontrol", "rb") as f:
            return [(key, parse_rule(value)) for key, value in records(f.read())]
    except SourceError as err:
        report.problem(f"{control}/simcontrol {err}")
    except OSError:
        pass
    return []


def _versions(report: Report, config: settings.Settings) -> None:
    path = f"{config.controldir}/{VERSIONS_NAME}"
    try:
        import cdbx

        db = cdbx.CDB(path, mmap=False)
    except OSError:
        report.head(f"{VERSIONS_NAME}: none (the Received line says `unknown`; run simscanmk -g)")
        return
    try:
        pairs = [(k, db.get(k)) for k in db]
    finally:
        db.close()
    report.head(f"{VERSIONS_NAME} (simscanmk -g):")
    for key, value in pairs:
        report.line(f"{key.decode(errors='replace')} = {(value or b'').decode(errors='replace')}")


def _workdir(report: Report, config: settings.Settings, given: str | None) -> "Identity | None":
    """The work dir, and who simscan runs as (None when not known)."""
    from . import smtpd

    st = _stat(config.workdir)
    report.head(f"work dir: {config.workdir}")
    if st is None:
        report.problem(f"{config.workdir} does not exist")
        return None
    report.line(
        f"owner {smtpd.user_name(st.st_uid)}:{smtpd.group_name(st.st_gid)}, "
        f"mode {st.st_mode & 0o7777:04o}"
    )
    try:
        who = smtpd.identity(given)
    except ValueError as err:
        report.problem(str(err))
        return None
    if who is None:
        report.line(
            "who qmail-smtpd runs as: not found in the usual run scripts (give --smtpd-user)"
        )
        return None
    report.line(f"qmail-smtpd runs as {who.describe()} ({who.source})")
    runs = smtpd.simscan_identity(who, config.user)
    if runs is not who:
        report.line(f"simscan drops to `user` {config.user!r}: {runs.describe()}")
    elif config.user and who.uid != 0:
        report.line(f"`user = {config.user!r}` does nothing: simscan is not started as root")
    for path, what in ((config.workdir, "work dirs"), (config.quarantinedir, "quarantine entries")):
        if not path:
            continue
        ok, why = smtpd.can_create(path, runs)
        if ok:
            report.line(f"{what} in {path}: {runs.name} can create them")
        else:
            report.problem(
                f"{runs.name} cannot create {what} in {path} ({why}); see the README, "
                "'The work dir, and who simscan runs as'"
            )
    return runs


def _marks(report: Report, config: settings.Settings, runs: "Identity | None") -> None:
    """The scanner endpoints marked down (WORKDIR/.health), and whether
    simscan (`runs`, when known) can write there: if not, the memory is
    silently ignored."""
    from ..scan.health import DIR_NAME
    from . import smtpd

    directory = f"{config.workdir}/{DIR_NAME}"
    try:
        names = sorted(n for n in os.listdir(directory) if not n.startswith("."))
    except OSError:
        return  # (made at the first endpoint marked down)
    ok, why = smtpd.can_create(directory, runs) if runs is not None else (True, "")
    if not ok:
        assert runs is not None
        report.problem(
            f"{runs.name} cannot write in {directory} ({why}): scanner endpoints that are"
            " down are not remembered; remove the dir (simscan makes it again)"
        )
    now = time.time()
    for name in names:
        try:
            until = os.stat(f"{directory}/{name}").st_mtime
        except OSError:
            continue
        when = f"in {until - now:.0f} s" if until > now else "by the next message"
        report.line(f"marked down: {name}, tried again {when}")


def _stat(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


# --- --check: every endpoint asked, EICAR and GTUBE scanned --------------------

# Kept in two halves, so that no virus scanner takes this file for EICAR.
_EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR" + "-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
_GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE" + "-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"


class Probes:
    """Each scanner the settings turn on, each of its endpoints: its
    version, then a test message through simscan's own scanner."""

    def __init__(self, report: Report, config: settings.Settings) -> None:
        self.report = report
        self.config = config

    def run(self) -> None:
        config = self.config
        self.report.head("scanners (--check):")
        if config.clamav:
            self._clamav()
        if config.trophie_socket:
            self._trophie()
        if config.spam:
            self._spam()
        if not (config.clamav or config.trophie_socket or config.spam):
            self.report.line("no scanner is on (clamav, trophie_socket, spam)")

    def _clamav(self) -> None:
        from .. import mk
        from ..scan import virus
        from ..wire import clamd

        config = self.config
        if config.clamav_client == "clamdscan":
            version = mk.clamav_version(config)
            self._probe(f"clamdscan {config.clamdscan}", version, virus.ClamdscanScanner(), {})
            return
        try:
            endpoints = clamd.where(config.clamd, config.clamd_conf).endpoints
        except (OSError, ValueError) as err:
            why = err.strerror if isinstance(err, OSError) else err
            self.report.problem(f"clamd: cannot tell where it is ({config.clamd_conf}: {why})")
            return
        for endpoint in endpoints:
            version = self._ask(endpoint, clamd.version)
            self._probe(
                f"clamd {endpoint.shown}",
                version,
                virus.ClamdScanner(),
                {"clamd": (str(endpoint),)},
            )

    def _trophie(self) -> None:
        from .. import mk
        from ..scan import virus

        config = self.config
        version = mk.trophie_version(config.trophie_path) if config.trophie_path else ""
        self._probe(f"trophie {config.trophie_socket}", version, virus.TrophieScanner(), {})

    def _spam(self) -> None:
        from .. import mk
        from ..wire import netio

        config = self.config
        if config.spam_client == "rspamd":
            from ..scan.rspamd import RspamdScanner
            from ..wire import rspamd

            for endpoint in netio.parse_endpoints(config.rspamd, 11333):
                version = self._ask(endpoint, rspamd.ping)
                self._probe(
                    f"rspamd {endpoint.shown}",
                    f"rspamd {version}" if version else "",
                    RspamdScanner(),
                    {"rspamd": (str(endpoint),)},
                    spam=True,
                    must_flag=False,
                )
            return
        from ..scan import spam
        from ..wire import spamd

        if config.spam_client == "spamc":
            # spamc hands back the message unscanned when spamd is down (the
            # scan then only says "not flagged"): ask spamd itself first
            try:
                endpoints = spamd.spamc_options(config.spamc_args).endpoints
            except ValueError:
                endpoints = []  # (the scan below names what is wrong with spamc_args)
            for endpoint in endpoints:
                if not self._ask(endpoint, spamd.ping):
                    why, self.failure = self.failure or "no answer", ""
                    self.report.problem(
                        f"spamd {endpoint.shown} (spamc's, from spamc_args): does not"
                        f" answer PING ({why})"
                    )
            version = mk.spamassassin_version(config.spamassassin_path)
            self._probe(f"spamc {config.spamc}", version, spam.SpamcScanner(), {}, spam=True)
            return
        if config.spamd:
            endpoints = netio.parse_endpoints(config.spamd, spamd.DEFAULT_PORT)
        else:
            endpoints = spamd.spamc_options(config.spamc_args).endpoints
        for endpoint in endpoints:
            pong = self._ask(endpoint, spamd.ping)
            self._probe(
                f"spamd {endpoint.shown}",
                pong,
                spam.SpamdScanner(),
                {"spamd": (str(endpoint),)},
                spam=True,
            )

    def _ask(self, endpoint: "netio.Endpoint", ask: "Callable[..., object]") -> str:
        """The endpoint's answer to its version question, "" when none."""
        from ..wire import netio as net

        try:
            sock = net.connect(endpoint, self.config.clamd_connect_timeout)
        except OSError as err:
            self.failure = net.describe(err)
            return ""
        try:
            answer = ask(sock, net.Deadline(10))
        except Exception as err:
            self.failure = net.describe(err) if isinstance(err, OSError) else str(err)
            return ""
        finally:
            sock.close()
        return answer.decode(errors="replace") if isinstance(answer, bytes) else str(answer)

    failure = ""

    def _probe(
        self,
        name: str,
        version: str,
        scanner: "Scanner",
        overrides: dict[str, object],
        spam: bool = False,
        must_flag: bool = True,
    ) -> None:
        report = self.report
        if not version:
            why = self.failure or "no version answer"
            self.failure = ""
            report.problem(f"{name}: cannot be asked for its version ({why})")
            return
        report.line(f"{name}: {version}")
        sample = "GTUBE" if spam else "EICAR"
        check = _scan(self.config.replace(**overrides), scanner, _GTUBE if spam else _EICAR)
        state = check.log_line.split(b":", 4)[2].decode(errors="replace") if check.log_line else ""
        took = check.log_line.split(b":", 4)[3].decode(errors="replace") if check.log_line else ""
        wanted = ("SPAM",) if spam else ("VIRUS",)
        if state.startswith(wanted) or (spam and state.startswith("PASSTHRU")):
            detail = "" if spam else f" {check.result.verdict.detail.decode(errors='replace')}"  # type: ignore[union-attr]
            report.line(f"  {sample}: {state}{detail} in {took}")
        elif state.startswith("ERROR"):
            report.problem(f"{name}: scanning {sample} failed: {_detail(check)}")
        elif not must_flag:
            report.line(
                f"  {sample}: {state} in {took}: it answered, but did not flag the test pattern "
                "(rspamd flags GTUBE only with enable_test_patterns = true in its options)"
            )
        else:
            report.problem(f"{name}: {sample} came back {state}, not flagged")


def _detail(check: "Check") -> str:
    parts = check.log_line.decode(errors="replace").split(":")
    return ":".join(parts[4:-3]) if len(parts) > 7 else check.log_line.decode(errors="replace")


def _scan(config: settings.Settings, scanner: "Scanner", pattern: str) -> Check:
    """One test message through one scanner, as a real run would scan it."""
    message = (
        "From: simscan config --check <postmaster@localhost>\n"
        "To: postmaster@localhost\nSubject: simscan config --check\n\n" + pattern + "\n"
    ).encode()
    envelope = parse_envelope(b"Fpostmaster@localhost\0Tpostmaster@localhost\0\0", True)
    fd = os.memfd_create("simscan-check")
    try:
        os.write(fd, message)
        os.lseek(fd, 0, os.SEEK_SET)
        probe = Probe(os.environb, fd, envelope, config, scanner)
        probe.execute()
    finally:
        os.close(fd)
    return probe


class Probe(Check):
    """A Check with the settings and the one scanner given."""

    def __init__(
        self,
        environ: "Mapping[bytes, bytes]",
        fd: int,
        envelope: "Envelope | None",
        config: settings.Settings,
        scanner: "Scanner",
    ) -> None:
        super().__init__(environ, "test message", fd, envelope)
        self.forced = config
        self.scanners = [scanner]

    def _settings(self) -> settings.Settings:
        super()._settings()  # (drops to `user` when started as root, as a real run does)
        return self.forced
