"""What no message shows: settings that silently do nothing, and where each
setting came from.  `simscan config` and `simscanmk` report these; the
per-message path never imports this module.

Every warning names the setting and says what to change, in the words of
simscan.toml and simcontrol.
"""

import os

from ..errors import ConfigError
from .policy import ATTACH_NAME, CDB_NAME
from .settings import DEFAULT_CONFIG, Settings, names
from .simcontrol import Rule

SOURCE_NAME = "simcontrol"


def sources(path: str, found: bool, qmaildir_set: bool) -> dict[str, str]:
    """name -> where its value comes from: `PATH:LINE`, `default`, or
    `default (qmaildir)` for the paths under qmaildir."""
    from . import tomlflat

    lines: dict[str, tuple[object, int]] = {}
    if found:
        try:
            with open(path, encoding="utf-8") as f:
                lines = tomlflat.parse(f.read(), path)
        except (OSError, ValueError, ConfigError):
            lines = {}  # (config says why, from settings.load)
    out = {}
    for name in names():
        if name in lines:
            out[name] = f"{path}:{lines[name][1]}"
        elif name in ("workdir", "controldir", "qmail_queue") and qmaildir_set:
            out[name] = "default (under qmaildir)"
        else:
            out[name] = "default"
    return out


def silent_settings(
    config: Settings, path: str, found: bool, entries: list[tuple[bytes, Rule]] | None
) -> list[str]:
    """Settings that do nothing as things stand.  `entries` are simcontrol's
    (key, rule) pairs, when there is a simcontrol to read."""
    out: list[str] = []
    control = config.controldir
    if not found and path == DEFAULT_CONFIG:
        out.append(f"no {path}: every setting is its default (clamav on, spam off, per_domain off)")
    has_cdb = os.path.exists(f"{control}/{CDB_NAME}")
    if not config.per_domain and (has_cdb or entries):
        what = f"{control}/{CDB_NAME}" if has_cdb else f"{control}/{SOURCE_NAME}"
        out.append(f"per_domain = false, so {what} is never read; set per_domain = true to use it")
    if config.per_domain and not has_cdb:
        out.append(
            f"per_domain = true but {control}/{CDB_NAME} does not exist: every message "
            "fails with exit 71 until simscanmk builds it"
        )
    if config.attach and not config.per_domain and not os.path.exists(f"{control}/{ATTACH_NAME}"):
        out.append(f"attach = true but {control}/{ATTACH_NAME} does not exist: no name is blocked")
    spam_only = {
        "spam_passthru": config.spam_passthru,
        "spamc_user": config.spamc_user,
        "spam_hits": config.spam_hits is not None,
        "spam_auth_user": config.spam_auth_user,
    }
    if not config.spam:
        for name, set_ in spam_only.items():
            if set_:
                out.append(f"{name} is set but spam = false: it does nothing")
    if config.spam_client != "rspamd" and config.rspamd_outbound:
        out.append(f'rspamd_outbound = true does nothing with spam_client = "{config.spam_client}"')
    if config.scanner_balance == "spread" and not _several_endpoints(config):
        out.append(
            'scanner_balance = "spread" does nothing: no scanner that is on has more'
            " than one endpoint"
        )
    if config.trophie_path and not config.trophie_socket:
        out.append("trophie_path is set but trophie_socket is not: Trophie is never asked")
    if config.per_domain and entries:
        out += _entries(config, entries)
    return out


def _several_endpoints(config: Settings) -> bool:
    """Has a scanner that is on more than one endpoint to spread over?"""
    from ..wire import clamd, spamd

    counts = []
    if config.clamav and config.clamav_client == "clamd":
        try:
            counts.append(len(clamd.where(config.clamd, config.clamd_conf).endpoints))
        except (OSError, ValueError):
            pass
    if config.spam:
        if config.spam_client == "rspamd":
            counts.append(len(config.rspamd))
        elif config.spam_client == "spamd" and config.spamd:
            counts.append(len(config.spamd))
        else:
            try:
                counts.append(len(spamd.spamc_options(config.spamc_args).endpoints))
            except ValueError:
                pass
    return any(n > 1 for n in counts)


def _entries(config: Settings, entries: list[tuple[bytes, Rule]]) -> list[str]:
    """simcontrol entries that name a check whose global switch is off (the
    global settings are the master switches, as the C configure options
    were)."""
    switches = (
        ("clam", "clamav = false", lambda r: r.clam, config.clamav),
        ("spam", "spam = false", lambda r: r.spam, config.spam),
        ("trophie", "trophie_socket is not set", lambda r: r.trophie, bool(config.trophie_socket)),
        ("attach", "attach = false", lambda r: r.attach, config.attach),
        ("regex", "regex = false", lambda r: r.regex, config.regex),
        ("spam_passthru", "spam_passthru = false", lambda r: r.spam_passthru, config.spam_passthru),
        (
            "types",
            "attach = false and no block_types or block_encrypted",
            lambda r: r.types is not None,
            config.attach or bool(config.block_types) or config.block_encrypted,
        ),
        (
            "rspamd_settings",
            f'spam_client = "{config.spam_client}"',
            lambda r: r.rspamd_settings is not None,
            config.spam_client == "rspamd",
        ),
    )
    out = []
    for name, why, says, on in switches:
        if on:
            continue
        keys = [key for key, rule in entries if says(rule)]
        if keys:
            shown = ", ".join(repr(k.decode(errors="replace")) for k in keys[:5])
            more = f" and {len(keys) - 5} more" if len(keys) > 5 else ""
            out.append(f"simcontrol {name}= does nothing while {why} (in {shown}{more})")
    return out
