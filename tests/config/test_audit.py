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


def test_what_does_not_warn_and_what_adds_up(tmp_path: Path) -> None:
    # the default file found, its defaults are the admin's own choice
    assert silent(tmp_path, found=True) == []
    path = settings.DEFAULT_CONFIG
    assert audit.silent_settings(settings.Settings(controldir=str(tmp_path)), path, True, []) == []
    # a simcontrol with no cdb, per_domain off: the text file is named
    assert silent(tmp_path, ":clam=no\n") == [
        f"per_domain = false, so {tmp_path}/simcontrol is never read;"
        " set per_domain = true to use it"
    ]
    # rspamd_outbound is what rspamd does
    assert silent(tmp_path, spam=True, spam_client="rspamd", rspamd_outbound=True) == []
    # types= works with only block_types, or only block_encrypted, on
    assert silent(tmp_path, ":types=executable\n", per_domain=True, block_types=("macro",)) == [
        f"per_domain = true but {tmp_path}/simcontrol.cdb does not exist: every message"
        " fails with exit 71 until simscanmk builds it"
    ]
    (tmp_path / "simcontrol.cdb").write_bytes(b"")
    assert silent(tmp_path, ":types=executable\n", per_domain=True, block_encrypted=True) == []
    # a switch that is on does not stop the ones after it being checked,
    # and warnings about the settings come with those about the entries
    got = silent(tmp_path, ":spam=yes\nb:spam=yes\n", per_domain=True, spam_hits=5.0)
    assert got == [
        "spam_hits is set but spam = false: it does nothing",
        "simcontrol spam= does nothing while spam = false (in '', 'b')",
    ]
    many = "".join(f"d{n}.example:regex=x\n" for n in range(7))
    (got,) = silent(tmp_path, many, per_domain=True, regex=False)
    assert got == (
        "simcontrol regex= does nothing while regex = false (in 'd0.example', 'd1.example',"
        " 'd2.example', 'd3.example', 'd4.example' and 2 more)"
    )
    six = "".join(f"d{n}.example:regex=x\n" for n in range(6))
    (got,) = silent(tmp_path, six, per_domain=True, regex=False)
    assert got.endswith("'d4.example' and 1 more)")
    five = "".join(f"d{n}.example:regex=x\n" for n in range(5))
    (got,) = silent(tmp_path, five, per_domain=True, regex=False)
    assert got.endswith("'d4.example')")
    # per_domain off: the entries are not read, so not judged either
    (got,) = silent(tmp_path, ":regex=x\n", per_domain=False, regex=False)
    assert got.startswith("per_domain = false")


def test_spread_with_nothing_to_spread_over(tmp_path: Path) -> None:
    nothing = [
        'scanner_balance = "spread" does nothing: no scanner that is on has more than one endpoint'
    ]
    conf = tmp_path / "clamd.conf"
    conf.write_text("LocalSocket /run/clamav/clamd.ctl\n")
    one = {"clamd_conf": str(conf), "scanner_balance": "spread"}
    assert silent(tmp_path, **one) == nothing
    assert silent(tmp_path, **one, clamd=("10.0.0.1:3310", "10.0.0.2:3310")) == []
    conf.write_text("LocalSocket /run/clamav/clamd.ctl\nTCPSocket 3310\nTCPAddr 127.0.0.1\n")
    assert silent(tmp_path, **one) == []  # (clamd.conf's two endpoints)
    conf.write_text("LocalSocket /run/clamav/clamd.ctl\n")
    assert silent(tmp_path, **one, clamav=False, spam=True) == nothing
    assert silent(tmp_path, **one, spam=True, spamd=("/a", "/b")) == []
    assert silent(tmp_path, **one, spam=True, spamc_args="-d 10.0.0.1,10.0.0.2") == []
    assert silent(tmp_path, **one, spam=True, spam_client="spamc", spamc_args="-d 10.0.0.1") == (
        nothing
    )
    assert silent(tmp_path, **one, spam=True, spam_client="rspamd", rspamd=("/a", "/b")) == []
    # (spam off: its endpoints do not count)
    assert silent(tmp_path, **one, spamd=("/a", "/b")) == nothing
    assert silent(tmp_path, clamd_conf=str(conf)) == []  # failover: nothing to say
