"""Settings that silently do nothing, and where each setting came from
(config.audit, for `simscan config` and simscanmk)."""

from __future__ import annotations

from pathlib import Path

from simscan.config import audit, settings
from simscan.config.simcontrol import parse_rule


def silent(tmp_path: Path, entries: str = "", found: bool = True, **values: object) -> list[str]:
    values.setdefault("controldir", str(tmp_path))
    config = settings.Settings(**values)
    rules = [
        (key.encode(), parse_rule(value.encode()))
        for key, _, value in (ln.partition(":") for ln in entries.splitlines())
    ]
    path = settings.DEFAULT_CONFIG if not found else str(tmp_path / "simscan.toml")
    return audit.silent_settings(config, path, found, rules)


def test_each_silent_setting_is_named(tmp_path: Path) -> None:
    assert silent(tmp_path, found=False)[0] == (
        f"no {settings.DEFAULT_CONFIG}: every setting is its default"
        " (clamav on, spam off, per_domain off)"
    )
    (tmp_path / "simcontrol.cdb").write_bytes(b"")
    assert silent(tmp_path) == [
        f"per_domain = false, so {tmp_path}/simcontrol.cdb is never read;"
        " set per_domain = true to use it"
    ]
    (tmp_path / "simcontrol.cdb").unlink()
    assert silent(tmp_path, per_domain=True) == [
        f"per_domain = true but {tmp_path}/simcontrol.cdb does not exist: every message"
        " fails with exit 71 until simscanmk builds it"
    ]
    assert silent(tmp_path, attach=True) == [
        f"attach = true but {tmp_path}/ssattach does not exist: no name is blocked"
    ]
    assert silent(
        tmp_path, spam_passthru=True, spamc_user=True, spam_hits=5.0, spam_auth_user=True
    ) == [
        "spam_passthru is set but spam = false: it does nothing",
        "spamc_user is set but spam = false: it does nothing",
        "spam_hits is set but spam = false: it does nothing",
        "spam_auth_user is set but spam = false: it does nothing",
    ]
    assert silent(tmp_path, spam=True, rspamd_outbound=True) == [
        'rspamd_outbound = true does nothing with spam_client = "spamd"'
    ]
    assert silent(tmp_path, trophie_path="/usr/sbin/trophie") == [
        "trophie_path is set but trophie_socket is not: Trophie is never asked"
    ]


def test_each_simcontrol_switch_without_its_global_one(tmp_path: Path) -> None:
    (tmp_path / "simcontrol.cdb").write_bytes(b"")
    entries = (
        ":clam=yes,spam=yes,trophie=yes,attach=.exe,regex=x,spam_passthru=yes,types=executable\n"
        "a.example:rspamd_settings=strict\n"
        "b.example:clam=no,spam=no\n"
    )
    got = silent(tmp_path, entries, per_domain=True, clamav=False)
    assert got == [
        "simcontrol clam= does nothing while clamav = false (in '')",
        "simcontrol spam= does nothing while spam = false (in '')",
        "simcontrol trophie= does nothing while trophie_socket is not set (in '')",
        "simcontrol attach= does nothing while attach = false (in '')",
        "simcontrol regex= does nothing while regex = false (in '')",
        "simcontrol spam_passthru= does nothing while spam_passthru = false (in '')",
        "simcontrol types= does nothing while attach = false and no block_types or"
        " block_encrypted (in '')",
        "simcontrol rspamd_settings= does nothing while spam_client = \"spamd\" (in 'a.example')",
    ]
    on = silent(
        tmp_path,
        entries,
        per_domain=True,
        spam=True,
        trophie_socket="/x",
        attach=True,
        regex=True,
        spam_passthru=True,
        spam_client="rspamd",
    )
    assert on == []


def test_audit_sources(tmp_path: Path) -> None:
    path = tmp_path / "simscan.toml"
    path.write_text("# comment\nspam = true\n\nqmaildir = '/srv/qmail'\n")
    where = audit.sources(str(path), True, True)
    assert where["spam"] == f"{path}:2"
    assert where["qmaildir"] == f"{path}:4"
    assert where["workdir"] == where["controldir"] == where["qmail_queue"]
    assert where["workdir"] == "default (under qmaildir)"
    assert where["size_limit"] == "default"
    assert list(where) == settings.names()
    # qmaildir not set: the paths under it are plain defaults
    assert audit.sources(str(path), True, False)["workdir"] == "default"
    # not found, or unreadable as TOML: everything is a default
    assert set(audit.sources(str(path), False, False).values()) == {"default"}
    path.write_text("spam = [\n")
    assert set(audit.sources(str(path), True, False).values()) == {"default"}
