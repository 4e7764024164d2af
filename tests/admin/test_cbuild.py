"""The C simscan's configure options: the one table (held against the
README's), config.log's command line as autoconf quotes it, and what
configure made of each option."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from simscan.admin import cbuild
from simscan.admin.cbuild import ConfigLog, MigrateError, Recovery
from simscan.config import settings

ROOT = Path(__file__).resolve().parents[2]
HEAD = "It was created by simscan configure 1.4.6.2, which was\n"


def log(command: str, defines: str = "", head: str = HEAD) -> ConfigLog:
    text = f"{head}\n  $ {command}\n\n## confdefs.h. ##\n\n{defines}"
    return ConfigLog("config.log", text)


def recover(command: str, defines: str = "") -> Recovery:
    recovery = Recovery()
    cbuild.from_config_log(log(command, defines), recovery)
    return recovery


def values(recovery: Recovery) -> dict[str, object]:
    return {name: value.value for name, value in recovery.values.items()}


def readme_mapping() -> dict[str, str]:
    """C option -> setting, from the README's Configuration table."""
    rows = re.findall(
        r"^\| `(\w+)` \| [^|]* \| `(--enable-[a-z-]+)`", (ROOT / "README.md").read_text(), re.M
    )
    return {flag: setting for setting, flag in rows}


def test_the_table_and_the_readme_map_the_same_options() -> None:
    table = {
        o.flag: o.setting for o in cbuild.OPTIONS if o.flag.startswith("--enable-") and o.setting
    }
    assert readme_mapping() == table


# Every AC_ARG_ENABLE and AC_ARG_WITH of simscan 1.4.6.2's configure.ac
# (1.4.1's are the same).
C_CONFIGURE = {
    "user", "clamav", "clamdscan", "custom-smtp-reject", "per-domain", "attach", "dropmsg",
    "dspam", "spam-passthru", "dspam-user", "dspam-path", "dspam-args", "spam", "spamc-user",
    "spam-auth-user", "spam-hits", "spamc", "spamc-args", "qmaildir", "workdir", "controldir",
    "quarantinedir", "qmail-queue", "trophie-socket", "trophie-path", "ripmime", "received",
    "spamassassin-path", "clamavdb-path", "sigtool-path", "regex",
}  # fmt: skip
C_WITH = {"pcre-include", "pcre-lib"}


def test_every_option_of_the_c_configure_is_in_the_table() -> None:
    flags = {f"--enable-{n}" for n in C_CONFIGURE} | {f"--with-{n}" for n in C_WITH}
    assert set(cbuild.BY_FLAG) == flags


def test_every_setting_named_is_a_setting() -> None:
    assert {o.setting for o in cbuild.OPTIONS if o.setting} <= set(settings.names())


def test_the_command_line_as_autoconf_quotes_it() -> None:
    found = log(
        "./configure --enable-user=clamav '--enable-spamc-args=-U /tmp/spamd.sock' 'x'\\''y'"
    )
    assert found.words == ["--enable-user=clamav", "--enable-spamc-args=-U /tmp/spamd.sock", "x'y"]
    assert found.version == "1.4.6.2"


def test_double_quotes_as_a_shell_reads_them() -> None:
    recovery = recover(
        '../simscan-1.4.0/configure --enable-spam=y --enable-spamc-args="-d 10.0.0.5 -p 7830"'
    )
    assert values(recovery)["spamc_args"] == "-d 10.0.0.5 -p 7830"
    assert recovery.values["spamc_args"].origin == "'--enable-spamc-args=-d 10.0.0.5 -p 7830'"


def test_no_configure_line_is_an_error() -> None:
    with pytest.raises(MigrateError) as err:
        ConfigLog(
            "/tmp/config.log",
            "It was created by simscan configure 1.4.0\n\nconfigure:1: checking\n",
        )
    assert str(err.value) == (
        "/tmp/config.log has no configure command line (a line like"
        " '  $ ./configure --enable-...'): is it the config.log of simscan's build?"
    )


def test_another_packages_config_log_is_an_error() -> None:
    with pytest.raises(MigrateError) as err:
        log(
            "./configure --prefix=/usr", head="It was created by ripmime configure 1.4, which was\n"
        )
    assert str(err.value) == "config.log is the config.log of ripmime, not of simscan"


def test_switches_as_configure_reads_them() -> None:
    recovery = recover(
        "./configure --enable-attach --disable-clamav --enable-dropmsg=Yes"
        " --enable-per_domain=1 --enable-regex=true --enable-received=no"
    )
    got = values(recovery)
    assert (got["attach"], got["clamav"], got["dropmsg"]) == (True, False, True)
    assert got["per_domain"] is True  # `_` and `-` are one to autoconf
    assert got["regex"] is False  # only 1*, y* and Y* turn a switch on
    assert got["received"] is False
    assert got["custom_smtp_reject"] is False
    assert recovery.values["custom_smtp_reject"].origin == (
        "--enable-custom-smtp-reject not given: off, the C default"
    )
    assert recovery.notes == ["--enable-regex=true: configure read 'true' as off"]
    assert "spam_passthru" not in got  # read only under --enable-spam
    assert recovery.values["clamav"].origin == "--disable-clamav"


def test_switches_not_given_are_the_c_defaults() -> None:
    recovery = recover("./configure")
    assert values(recovery) == {
        "clamav": True, "custom_smtp_reject": False, "per_domain": False, "attach": False,
        "dropmsg": False, "spam": False, "received": False, "regex": False,
    }  # fmt: skip
    assert recovery.values["clamav"].origin == "--enable-clamav not given: on, the C default"
    assert recovery.sources == ["config.log: ./configure"]
    assert (recovery.version, recovery.size_rule) == ("1.4.6.2", "")


@pytest.mark.parametrize("value", ["y", "Y", "yes", "YES", "n", "No", "1", "0"])
def test_switch_values_configure_knows(value: str) -> None:
    recovery = recover(f"./configure --enable-attach={value}")
    assert recovery.notes == []
    assert recovery.get("attach") is (value[:1] in "1yY")


@pytest.mark.parametrize(("value", "on"), [("yep", "on"), ("true", "off"), ("", "off")])
def test_switch_values_read_as_configure_reads_them(value: str, on: str) -> None:
    recovery = recover(f"./configure --enable-attach={value}")
    assert recovery.notes == [f"--enable-attach={value}: configure read {value!r} as {on}"]


@pytest.mark.parametrize("spam", ["y", "Y", "yes", "1"])
def test_spam_on_reads_its_options(spam: str) -> None:
    recovery = recover(f"./configure --enable-spam={spam} --enable-spam-hits=5")
    assert recovery.get("spam_hits") == 5.0
    assert recovery.size_rule == "builtin"


def test_words_around_the_options() -> None:
    recovery = recover("./configure --prefix=/usr --enable-frob --enable-attach CFLAGS=-O2")
    assert recovery.get("attach") is True
    assert recovery.notes == ["--enable-frob is no option of simscan's configure (it ignored it)"]
    recovery = recover(
        "./configure --enable-ripmime=no --without-pcre-lib --disable-dspam --with-pcre-include=N"
    )
    assert (recovery.notes, recovery.gaps) == ([], [])
    assert recover("./configure --enable-ripmime=0").notes == []


@pytest.mark.parametrize("dspam", ["y", "Y", "yes", "1"])
def test_dspam_on(dspam: str) -> None:
    assert recover(f"./configure --enable-dspam={dspam}").gaps[0].startswith("--enable-dspam: ")


def test_spam_options_need_spam() -> None:
    recovery = recover("./configure --enable-spam-hits=5 --enable-spamc-user=y")
    assert "spam_hits" not in recovery.values and "spamc_user" not in recovery.values
    assert recovery.notes == [
        "--enable-spamc-user=y did nothing: the C configure reads it only with --enable-spam",
        "--enable-spam-hits=5 did nothing: the C configure reads it only with --enable-spam",
    ]


ZERO = (
    "--enable-spam-hits=0.5: the C configure read a value starting with 0 as 'no threshold',"
    " so none is set here either"
)


@pytest.mark.parametrize(
    ("option", "hits", "compiled", "notes"),
    [("--enable-spam-hits", 10.0, True, []), ("--enable-spam-hits=7", 7.0, True, []),
     ("--enable-spam-hits=no", None, False, []), ("--enable-spam-hits=N", None, False, []),
     ("--enable-spam-hits=n", None, False, []), ("--enable-spam-hits=0", None, False, []),
     ("--enable-spam-hits=0.5", None, False, [ZERO]), ("", None, False, [])],
)  # fmt: skip
def test_spam_hits(option: str, hits: float | None, compiled: bool, notes: list[str]) -> None:
    recovery = recover(f"./configure --enable-spam=y {option}")
    assert recovery.get("spam_hits") == hits
    assert recovery.hits_compiled is compiled
    assert (recovery.notes, recovery.gaps) == (notes, [])
    if hits == 10.0:
        assert recovery.values["spam_hits"].origin == "--enable-spam-hits (no number: 10.0)"


def test_spam_hits_that_is_no_number_is_a_gap() -> None:
    recovery = recover("./configure --enable-spam=y --enable-spam-hits=lots")
    assert recovery.gaps == ["--enable-spam-hits: 'lots' is no number"]


def test_the_quarantine_dir_is_always_under_qmaildir() -> None:
    recovery = recover("./configure --enable-qmaildir=/opt/qmail --enable-quarantinedir=/var/q")
    assert values(recovery)["quarantinedir"] == "/opt/qmail/quarantine"
    assert recovery.notes == [
        "--enable-quarantinedir=/var/q: the C configure ignores the dir given and"
        " quarantines in /opt/qmail/quarantine; quarantinedir keeps /opt/qmail/quarantine"
    ]
    for off in ("no", "N", "0"):
        assert "quarantinedir" not in recover(f"./configure --enable-quarantinedir={off}").values
    recovery = recover("./configure --enable-quarantinedir")
    assert (values(recovery)["quarantinedir"], recovery.notes) == ("/var/qmail/quarantine", [])
    recovery = recover(
        "./configure --enable-quarantinedir=yes", '#define QUARANTINEDIR "/var/qmail/q"\n'
    )
    assert values(recovery)["quarantinedir"] == "/var/qmail/q"


def test_defines_say_what_was_compiled_in() -> None:
    recovery = recover(
        "./configure --enable-spam=y --enable-spamc=/opt/bin/spamc",
        '#define CLAMDSCAN "/usr/local/bin/clamdscan"\n#define SPAMC "/usr/bin/spamc"\n'
        '#define WORKDIR "/var/qmail/simscan"\n#define QMAILDIR "/var/qmail"\n',
    )
    got = values(recovery)
    assert got["clamdscan"] == "/usr/local/bin/clamdscan"
    assert recovery.values["clamdscan"].origin == (
        "--enable-clamdscan not given: configure found it (#define CLAMDSCAN)"
    )
    assert got["spamc"] == "/usr/bin/spamc"
    assert (
        "--enable-spamc=/opt/bin/spamc: configure compiled in '/usr/bin/spamc' instead"
        " (#define SPAMC)" in recovery.notes
    )
    # Found by configure and simscan's default as well: nothing to say.
    assert "workdir" not in got and "qmaildir" not in got


def test_options_simscan_does_without() -> None:
    recovery = recover(
        "./configure --enable-dspam=y --enable-dspam-path=/usr/bin/dspam --with-pcre-lib=/usr/lib"
        " --enable-ripmime=/usr/bin/ripmime --enable-frobnicate=y --prefix=/usr CFLAGS=-O2"
    )
    assert recovery.gaps == [
        "--enable-dspam: simscan has no DSPAM scanner; spam = true scans with SpamAssassin"
        ' (or spam_client = "rspamd")'
    ]
    assert recovery.notes == [
        "--enable-frobnicate=y is no option of simscan's configure (it ignored it)",
        "--enable-ripmime=/usr/bin/ripmime: not needed, simscan reads MIME itself",
        "--with-pcre-lib=/usr/lib: not needed, simscan reads regexes with Python's re",
    ]


def test_every_value_configure_found_by_itself() -> None:
    names = ["CLAMDSCAN", "SPAMC", "SPAMC_ARGS", "QMAILDIR", "WORKDIR", "CONTROLDIR",
             "QMAILQUEUE", "TROPHIEBINARY", "TROPHIESOCKET", "SPAMASSASSINPATH",
             "CLAMAVDBPATH", "SIGTOOLPATH"]  # fmt: skip
    defines = "".join(f'#define {n} "/x/{n.lower()}"\n' for n in names)
    got = values(recover("./configure", defines))
    for name in names:
        option = next(o for o in cbuild.OPTIONS if o.macro == name)
        assert got[option.setting] == f"/x/{name.lower()}"


def test_the_defines_as_read() -> None:
    found = log("./configure", '#define ENABLE_CLAMAV /**/\n#define X ""\n#define Y "a\\\\b\\"c"\n')
    assert found.defines == {"ENABLE_CLAMAV": "/**/", "X": "", "Y": 'a\\b"c'}
    assert "spamc_args" not in recover("./configure", '#define SPAMC_ARGS ""\n').values


def test_a_config_log_without_its_head() -> None:
    found = ConfigLog("config.log", '  $ ./configure\n## confdefs.h. ##\n#define VERSION "1.4.1"\n')
    assert (found.package, found.version) == ("", "1.4.1")
    found = ConfigLog("config.log", "  $ ./configure\n")
    assert (found.package, found.version, found.words) == ("", "", [])


def test_a_command_line_a_shell_could_not_split() -> None:
    with pytest.raises(MigrateError) as err:
        log("./configure '--enable-user=x")
    assert (
        str(err.value)
        == "config.log: cannot split the configure command line (No closing quotation)"
    )


def test_the_user_given_and_in_the_output_variables() -> None:
    text = f"{HEAD}\n  $ ./configure --enable-user=clamav\n\n## Output variables. ##\n"
    text += "\nENABLE_USER='x'\n"
    recovery = Recovery()
    cbuild.from_config_log(ConfigLog("config.log", text), recovery)
    assert (recovery.get("user"), recovery.values["user"].origin) == (
        "clamav",
        "--enable-user=clamav",
    )


def test_a_path_given_without_a_value() -> None:
    recovery = recover("./configure --enable-workdir")
    assert recovery.gaps == [
        "--enable-workdir: given without a path (configure took 'yes' for one)"
    ]


def test_the_user_from_the_output_variables() -> None:
    text = f"{HEAD}\n  $ ./configure\n\n## Output variables. ##\n\nENABLE_USER='vpopmail'\n"
    recovery = Recovery()
    cbuild.from_config_log(ConfigLog("config.log", text), recovery)
    assert values(recovery)["user"] == "vpopmail"
    assert recovery.values["user"].origin == "--enable-user (config.log: ENABLE_USER)"


@pytest.mark.parametrize(
    ("version", "rule"),
    [("1.4.0", "spamc"), ("1.4.1", "spamc"), ("1.4.2", "file"), ("1.4.3", "file"),
     ("1.4.4", "builtin"), ("1.4.6.2", "builtin"), ("", "builtin"), ("1.10", "builtin")],
)  # fmt: skip
def test_size_rule_by_version(version: str, rule: str) -> None:
    assert cbuild.size_rule(version) == rule


@pytest.mark.parametrize(
    ("args", "size"),
    [("", 512000), ("-U /x -s 300000", 300000), ("-s300000", 300000),
     ("--max-size=1000", 1000), ("--max-size 2000", 2000), ("-s x", 512000),
     ("-U /x -s", 512000), ("-U /x --max-size", 512000)],
)  # fmt: skip
def test_spamc_max_size(args: str, size: int) -> None:
    assert cbuild.spamc_max_size(args) == size
