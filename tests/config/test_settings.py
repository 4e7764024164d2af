"""Settings: C defaults, qmaildir, spam_hits, and a ConfigError for every bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from simscan.config import settings
from simscan.config.settings import Settings, from_text
from simscan.errors import EXIT_TEMPFAIL, ConfigError, exit_code_for

# SPEC section 3: the C program's defaults.
C_DEFAULTS: dict[str, object] = {
    "clamav": True,
    "workdir": "/var/qmail/simscan",
    "controldir": "/var/qmail/control",
    "qmail_queue": "/var/qmail/bin/qmail-queue",
    "qmaildir": "/var/qmail",
    "size_limit": 250000,
    "custom_smtp_reject": False,
    "dropmsg": False,
    "spam_passthru": False,
    "attach": False,
    "spam": False,
    "per_domain": False,
    "custom_error_fd": 4,
    "spam_hits": None,
}


@pytest.mark.parametrize("name,value", C_DEFAULTS.items())
def test_defaults(name: str, value: object) -> None:
    assert getattr(Settings(), name) == value
    assert getattr(from_text("", "p"), name) == value


def test_empty_file_and_comment_only_file_are_all_defaults() -> None:
    assert from_text("", "p") == Settings()
    assert from_text("# nothing here\n\n", "p") == Settings()


def test_every_setting_can_be_set() -> None:
    """names() lists every key, and every default survives a round trip."""
    default = Settings()
    for name in settings.names():
        value = getattr(default, name)
        if value is None:
            continue  # spam_hits: None is written as false
        literal = (
            ("true" if value else "false") if isinstance(value, bool)
            else f'"{value}"' if isinstance(value, str)
            else "[" + ", ".join(f'"{v}"' for v in value) + "]" if isinstance(value, tuple)
            else repr(value)
        )  # fmt: skip
        got = from_text(f"{name} = {literal}\n", "p")
        assert getattr(got, name) == value, name
    assert from_text("spam_hits = false\n", "p").spam_hits is None


def test_option_names_of_the_c_program() -> None:
    """Every --enable-* option of SPEC section 3 is a setting."""
    options = [
        "user", "clamav", "clamdscan", "custom-smtp-reject", "per-domain", "attach",
        "spam", "spam-passthru", "spamc-user", "spam-hits", "spamc", "spamc-args",
        "dropmsg", "quarantinedir", "qmaildir", "workdir", "controldir", "qmail-queue",
        "trophie-path", "trophie-socket", "ripmime", "received", "spamassassin-path",
        "clamavdb-path", "sigtool-path", "regex", "spam-auth-user",
    ]  # fmt: skip
    assert {o.replace("-", "_") for o in options} <= set(settings.names())


# --- qmaildir -----------------------------------------------------------------


def test_qmaildir_moves_the_paths_under_it() -> None:
    got = from_text('qmaildir = "/opt/qmail"\n', "p")
    assert got.qmaildir == "/opt/qmail"
    assert got.workdir == "/opt/qmail/simscan"
    assert got.controldir == "/opt/qmail/control"
    assert got.qmail_queue == "/opt/qmail/bin/qmail-queue"


@pytest.mark.parametrize("order", ["qmaildir first", "qmaildir last"])
def test_qmaildir_does_not_move_paths_that_are_set(order: str) -> None:
    lines = ['workdir = "/scratch/simscan"', 'qmail_queue = "/usr/sbin/qmail-queue"']
    qmaildir = 'qmaildir = "/opt/qmail"'
    lines = [qmaildir, *lines] if order == "qmaildir first" else [*lines, qmaildir]
    got = from_text("\n".join(lines) + "\n", "p")
    assert got.workdir == "/scratch/simscan"
    assert got.qmail_queue == "/usr/sbin/qmail-queue"
    assert got.controldir == "/opt/qmail/control"


def test_paths_without_qmaildir_stay_under_var_qmail() -> None:
    got = from_text('controldir = "/etc/qmail"\n', "p")
    assert got.controldir == "/etc/qmail"
    assert got.workdir == "/var/qmail/simscan"


# --- spam_hits ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text,expected",
    [
        ("true", 10.0),
        ("false", None),
        ("7", 7.0),
        ("7.5", 7.5),
        ("0", 0.0),
        ("20.1", 20.1),
        ("1e1", 10.0),  # read by the tomllib fallback
    ],
)
def test_spam_hits(text: str, expected: float | None) -> None:
    got = from_text(f"spam_hits = {text}\n", "p").spam_hits
    assert got == expected
    if expected is not None:
        assert type(got) is float


# --- looking inside attachments, policy_merge (issue 13) ----------------------

# New settings, not C options: the defaults keep the C behaviour but for the
# archive limits, which only matter once something looks inside.
NEW_DEFAULTS: dict[str, object] = {
    "block_types": (),
    "block_encrypted": False,
    "archive_depth": 3,
    "archive_max_bytes": 100 * 1024 * 1024,
    "archive_max_members": 10000,
    "archive_max_ratio": 1000,
    "archive_over_limit": "refuse",
    "policy_merge": "last",
    "scanner_balance": "failover",
    "scanner_retry": 30.0,
}


@pytest.mark.parametrize("name,value", NEW_DEFAULTS.items())
def test_new_defaults(name: str, value: object) -> None:
    assert getattr(Settings(), name) == value
    assert getattr(from_text("", "p"), name) == value


def test_type_categories_are_the_ones_the_mail_room_knows() -> None:
    from simscan.mail import content

    assert settings.TYPE_CATEGORIES == content.CATEGORIES
    assert settings.ENCRYPTED in settings.TYPE_CATEGORIES


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[]", ()),
        ('["executable"]', ("executable",)),
        (
            '["executable", "disk-image", "shortcut", "macro", "archive-encrypted"]',
            ("executable", "disk-image", "shortcut", "macro", "archive-encrypted"),
        ),
        ('["shortcut", "executable", "shortcut"]', ("shortcut", "executable")),  # once each
        ("['macro']", ("macro",)),
    ],
)
def test_block_types(text: str, expected: tuple[str, ...]) -> None:
    assert from_text(f"block_types = {text}\n", "p").block_types == expected


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        ("block_encrypted", "true", True),
        ("archive_depth", "0", 0),  # archives are not opened, as in C
        ("archive_depth", "100", 100),
        ("archive_max_bytes", "1", 1),
        ("archive_max_bytes", "8_589_934_592", 8 << 30),
        ("archive_max_members", "1", 1),
        ("archive_max_ratio", "1", 1),
        ("archive_over_limit", '"pass"', "pass"),
        ("policy_merge", '"strictest"', "strictest"),
        ("policy_merge", '"last"', "last"),
        ("scanner_balance", '"spread"', "spread"),
        ("scanner_balance", '"failover"', "failover"),
        ("scanner_retry", "0", 0.0),  # remember nothing
        ("scanner_retry", "1", 1.0),
        ("scanner_retry", "0.5", 0.5),
        ("scanner_retry", "3600", 3600.0),
    ],
)
def test_new_values(key: str, text: str, expected: object) -> None:
    assert getattr(from_text(f"{key} = {text}\n", "p"), key) == expected


RETRY = "expected a number of seconds from 0 (remember nothing) to 3600"
KNOWN = "(known: executable, disk-image, shortcut, macro, archive-encrypted)"


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("block_types", '["exe"]', f"unknown file type category 'exe' {KNOWN}, got ['exe']"),
        (
            "block_types",
            '["executable", "Shortcut"]',
            f"unknown file type category 'Shortcut' {KNOWN}, got ['executable', 'Shortcut']",
        ),
        (
            "block_types",
            '"executable"',
            'expected an array of categories, like ["executable", "shortcut"], got \'executable\'',
        ),
        (
            "block_types",
            "[1]",
            'expected an array of categories, like ["executable", "shortcut"], got [1]',
        ),
        ("block_encrypted", '"yes"', "expected true or false, got 'yes'"),
        ("archive_depth", "-1", "expected a whole number from 0 to 100, got -1"),
        ("archive_depth", "101", "expected a whole number from 0 to 100, got 101"),
        ("archive_depth", "true", "expected a whole number from 0 to 100, got True"),
        ("archive_depth", "2.5", "expected a whole number from 0 to 100, got 2.5"),
        (
            "archive_max_bytes",
            "0",
            "expected a whole number of bytes, 1 or more (there is no 0 for no limit), got 0",
        ),
        (
            "archive_max_bytes",
            '"100M"',
            "expected a whole number of bytes, 1 or more (there is no 0 for no limit), got '100M'",
        ),
        ("archive_max_members", "0", "expected a whole number from 1 to 1000000000, got 0"),
        ("archive_max_ratio", "0", "expected a whole number from 1 to 1000000000, got 0"),
        ("archive_max_ratio", "-5", "expected a whole number from 1 to 1000000000, got -5"),
        ("archive_over_limit", '"tempfail"', 'expected one of "refuse", "pass", got \'tempfail\''),
        ("policy_merge", '"first"', 'expected one of "last", "strictest", got \'first\''),
        ("policy_merge", "true", 'expected one of "last", "strictest", got True'),
        (
            "scanner_balance",
            '"round-robin"',
            'expected one of "failover", "spread", got \'round-robin\'',
        ),
        ("scanner_balance", "true", 'expected one of "failover", "spread", got True'),
        ("scanner_retry", "-1", f"{RETRY}, got -1"),
        ("scanner_retry", "3601", f"{RETRY}, got 3601"),
        ("scanner_retry", "true", f"{RETRY}, got True"),
        ("scanner_retry", '"30s"', f"{RETRY}, got '30s'"),
    ],
)
def test_a_bad_new_value_names_file_line_and_setting(key: str, value: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        from_text(f"{PREFIX}{key} = {value}\n", "/etc/simscan.toml")
    err = info.value
    assert (err.path, err.line, err.key, err.problem) == ("/etc/simscan.toml", 3, key, problem)
    assert str(err) == f"config /etc/simscan.toml line 3 setting {key} {problem}"
    assert exit_code_for(err) == EXIT_TEMPFAIL


# --- bad values ---------------------------------------------------------------

PREFIX = "# simscan.toml\nclamav = true\n"  # the bad line is line 3

BAD: dict[str, tuple[str, str]] = {
    "bool as string": ("clamav", '"yes"'),
    "bool as int": ("spam", "1"),
    "bool as array": ("attach", "[true]"),
    "string as int": ("user", "5"),
    "string as bool": ("spamc_args", "true"),
    "relative path": ("workdir", '"tmp/simscan"'),
    "dot path": ("controldir", '"./control"'),
    "path as int": ("qmail_queue", "0"),
    "relative qmaildir": ("qmaildir", '"var/qmail"'),
    "fd 2": ("custom_error_fd", "2"),
    "fd 0": ("custom_error_fd", "0"),
    "fd 256": ("custom_error_fd", "256"),
    "fd negative": ("custom_error_fd", "-4"),
    "fd bool": ("custom_error_fd", "true"),
    "fd float": ("custom_error_fd", "4.0"),
    "negative size": ("size_limit", "-1"),
    "float size": ("size_limit", "1000.5"),
    "bool size": ("size_limit", "true"),
    "string size": ("size_limit", '"250000"'),
    "negative spam_hits": ("spam_hits", "-1.0"),
    "string spam_hits": ("spam_hits", '"10"'),
    "nan spam_hits": ("spam_hits", "nan"),
    "array spam_hits": ("spam_hits", "[10]"),
    "negative size via tomllib": ("size_limit", "-1_000"),
    "relative path via tomllib": ("spamc", '"bin\\tspamc"'),
    "table value": ("clamav", "{ on = true }"),
    "clamd relative path": ("clamd", '"run/clamd.ctl"'),
    "clamd no port": ("clamd", '"10.0.0.5:"'),
    "clamd port 0": ("clamd", '"10.0.0.5:0"'),
    "clamd port too big": ("clamd", '"10.0.0.5:65536"'),
    "clamd bare v6": ("clamd", '"::1:3310"'),
    "clamd int": ("clamd", "3310"),
    "clamd array of int": ("clamd", "[3310]"),
    "clamd one bad in array": ("clamd", '["/run/clamd.ctl", "host:port"]'),
    "clamav_client other": ("clamav_client", '"clamscan"'),
    "zero timeout": ("clamd_timeout", "0"),
    "negative timeout": ("clamd_connect_timeout", "-1"),
    "hour-plus timeout": ("trophie_timeout", "3601"),
    "bool timeout": ("clamd_timeout", "true"),
    "over_limit other": ("clamd_over_limit", '"tempfail"'),
    "spam_client other": ("spam_client", '"spamassassin"'),
    "spamd host name": ("spamd", '"spamd.example.com:783"'),
    "rspamd host name": ("rspamd", '"rspamd.example.com:11333"'),
    "rspamd_outbound string": ("rspamd_outbound", '"yes"'),
    "rspamd_timeout zero": ("rspamd_timeout", "0"),
    "spamc_args unclosed quote": ("spamc_args", """'-U "/tmp/spamd.sock'"""),
    "spamc_args -U without a value": ("spamc_args", '"-U"'),
    "spamc_args bad port": ("spamc_args", '"-d 127.0.0.1 -p http"'),
    "spam_fail_tempfail string": ("spam_fail_tempfail", '"yes"'),
}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"/run/clamav/clamd.ctl"', ("/run/clamav/clamd.ctl",)),
        ('"127.0.0.1:3310"', ("127.0.0.1:3310",)),
        ('"localhost"', ("localhost",)),
        ('"[::1]:3310"', ("[::1]:3310",)),
        ('"/a.sock, 10.0.0.5:3310"', ("/a.sock", "10.0.0.5:3310")),
        ('["/a.sock", "10.0.0.5:3310"]', ("/a.sock", "10.0.0.5:3310")),
        ('""', ()),
        ("[]", ()),
    ],
)
def test_clamd_endpoints(value: str, expected: tuple[str, ...]) -> None:
    assert from_text(f"clamd = {value}\n", "p").clamd == expected


def test_timeouts_are_seconds() -> None:
    got = from_text("clamd_timeout = 2\nclamd_connect_timeout = 0.5\n", "p")
    assert (got.clamd_timeout, got.clamd_connect_timeout) == (2.0, 0.5)


@pytest.mark.parametrize("key,value", BAD.values(), ids=BAD.keys())
def test_bad_value(key: str, value: str) -> None:
    prefix = PREFIX.replace("clamav = true", "spam = false") if key == "clamav" else PREFIX
    text = f"{prefix}{key} = {value}\nreceived = true\n"
    with pytest.raises(ConfigError) as info:
        from_text(text, "/etc/simscan.toml")
    err = info.value
    assert (err.path, err.line, err.key) == ("/etc/simscan.toml", 3, key)
    assert exit_code_for(err) == EXIT_TEMPFAIL
    assert f"line 3 setting {key}" in str(err)


def test_bad_value_in_a_table_header() -> None:
    with pytest.raises(ConfigError) as info:
        from_text("spam = true\n\n[clamav]\nsocket = '/run/clamd'\n", "p")
    assert (info.value.line, info.value.key) == (3, "clamav")


@pytest.mark.parametrize(
    "text,line,key",
    [
        ("clamav = true\nclamv = true\n", 2, "clamv"),
        ("custom-smtp-reject = true\n", 1, "custom-smtp-reject"),  # '-' is not '_'
        ("CLAMAV = true\n", 1, "CLAMAV"),
        ("spam_hits = 1e1\nspam = true\nbogus = 1\n", 3, "bogus"),  # fallback path
        ("spam = true\n[scanners]\nclamav = true\n", 2, "scanners"),
    ],
)
def test_unknown_key(text: str, line: int, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        from_text(text, "p")
    assert (info.value.line, info.value.key) == (line, key)
    assert "unknown" in info.value.problem


def test_duplicate_key() -> None:
    with pytest.raises(ConfigError) as info:
        from_text("spam = true\nclamav = true\nspam = false\n", "p")
    assert (info.value.line, info.value.key) == (3, "spam")


def test_syntax_error_has_its_line() -> None:
    with pytest.raises(ConfigError) as info:
        from_text("spam = true\nclamav = yes please\n", "p")
    assert info.value.line == 2


# --- the frozen value ---------------------------------------------------------


def test_settings_are_frozen() -> None:
    s = Settings()
    with pytest.raises(AttributeError):
        s.clamav = False
    with pytest.raises(AttributeError):
        s.new_thing = 1
    assert s.clamav is True


def test_settings_attributes_cannot_be_deleted() -> None:
    s = Settings()
    with pytest.raises(AttributeError):
        del s.clamav


def test_replace() -> None:
    s = Settings()
    t = s.replace(spam=True, size_limit=1000)
    assert (t.spam, t.size_limit) == (True, 1000)
    assert (s.spam, s.size_limit) == (False, 250000)
    assert t.clamav is s.clamav and t.workdir == s.workdir
    assert s.replace() == s and s.replace() is not s
    assert t != s


def test_replace_unknown_name() -> None:
    with pytest.raises(TypeError):
        Settings().replace(clam=True)


def test_settings_are_not_hashable() -> None:
    with pytest.raises(TypeError):
        hash(Settings())


# --- load ---------------------------------------------------------------------


def test_load_from_simscan_config(tmp_path: Path) -> None:
    path = tmp_path / "simscan.toml"
    path.write_text("spam = true\nsize_limit = 1000\n")
    got = settings.load({"SIMSCAN_CONFIG": str(path)})
    assert got == Settings(spam=True, size_limit=1000)


def test_load_missing_simscan_config_is_an_error(tmp_path: Path) -> None:
    path = str(tmp_path / "missing.toml")
    with pytest.raises(ConfigError) as info:
        settings.load({"SIMSCAN_CONFIG": path})
    assert info.value.path == path


def test_load_missing_default_file_gives_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "DEFAULT_CONFIG", str(tmp_path / "simscan.toml"))
    assert settings.load({}) == Settings()
    assert settings.load({"SIMSCAN_CONFIG": ""}) == Settings()


def test_load_default_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "simscan.toml"
    path.write_text("dropmsg = true\n")
    monkeypatch.setattr(settings, "DEFAULT_CONFIG", str(path))
    assert settings.load({}).dropmsg is True


def test_load_bad_value_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "simscan.toml"
    path.write_text("spam = true\n\nsize_limit = -5\n")
    with pytest.raises(ConfigError) as info:
        settings.load({"SIMSCAN_CONFIG": str(path)})
    assert (info.value.path, info.value.line, info.value.key) == (str(path), 3, "size_limit")


def test_load_non_utf8(tmp_path: Path) -> None:
    path = tmp_path / "simscan.toml"
    path.write_bytes(b'user = "simscan"\nclamav = true\nspamc_args = "-x \xff"\n')
    with pytest.raises(ConfigError) as info:
        settings.load({"SIMSCAN_CONFIG": str(path)})
    assert (info.value.path, info.value.line) == (str(path), 3)


def test_load_a_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        settings.load({"SIMSCAN_CONFIG": str(tmp_path)})


@pytest.mark.parametrize(
    "args", ["-U /tmp/spamd.sock", '-U "/tmp/spam d.sock" -x', "-d spamd.example.com -p 7830", ""]
)
def test_spamc_args_as_the_c_readme_quotes_them(args: str) -> None:
    text = "spamc_args = '" + args + "'\n"
    assert from_text(text, "p").spamc_args == args


def test_the_attachment_inspection_settings() -> None:
    default = Settings()
    assert default.block_types == ()
    assert default.block_encrypted is False
    assert default.archive_depth == 3
    assert default.archive_max_bytes == 100 * 1024 * 1024
    assert default.archive_max_members == 10000
    assert default.archive_max_ratio == 1000
    assert default.archive_over_limit == "refuse"
    assert default.policy_merge == "last"
    got = from_text('block_types = ["executable", "macro", "executable"]\n', "p")
    assert got.block_types == ("executable", "macro")


def test_the_categories_are_those_the_mail_room_knows() -> None:
    from simscan.mail.content import CATEGORIES

    assert settings.TYPE_CATEGORIES == CATEGORIES


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            'block_types = ["exe"]',
            "setting block_types unknown file type category 'exe' (known: "
            "executable, disk-image, shortcut, macro, archive-encrypted)",
        ),
        ('block_types = "executable"', "setting block_types expected an array of categories"),
        ("archive_depth = -1", "setting archive_depth expected a whole number from 0 to 100"),
        ("archive_max_ratio = 0", "setting archive_max_ratio expected a whole number from 1"),
        ("archive_max_members = 0", "setting archive_max_members expected a whole number from 1"),
        ('archive_over_limit = "drop"', 'setting archive_over_limit expected one of "refuse"'),
        ('policy_merge = "first"', 'setting policy_merge expected one of "last", "strictest"'),
    ],
)
def test_bad_inspection_settings(text: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        from_text(text + "\n", "/etc/simscan.toml")
    assert f"config /etc/simscan.toml line 1 {problem}" in str(info.value)


def test_rspamd_settings() -> None:
    default = Settings()
    assert default.rspamd == ("127.0.0.1:11333",)
    assert (default.rspamd_connect_timeout, default.rspamd_timeout) == (5.0, 120.0)
    assert default.rspamd_outbound is False
    got = from_text(
        'spam_client = "rspamd"\nrspamd = ["/run/rspamd/normal.sock", "[::1]:11333"]\n'
        "rspamd_outbound = true\n",
        "p",
    )
    assert got.spam_client == "rspamd"
    assert got.rspamd == ("/run/rspamd/normal.sock", "[::1]:11333")
    assert got.rspamd_outbound is True
