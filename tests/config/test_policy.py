"""Policy lookup (SPEC section 4): cdbs from simscanmk and from tinycdb."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import tinycdb

from simscan.config import policy as policy_module
from simscan.config.policy import Policy, read_attach_list, resolve
from simscan.config.settings import Settings
from simscan.errors import ConfigError
from simscan.mk import build_control, write_cdb
from simscan.qmail.queue import Envelope


@pytest.fixture(params=["simscanmk", "tinycdb"])
def make(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A function that writes control/simcontrol.cdb with the records given,
    through our writer or through tinycdb, and returns per-domain Settings."""

    def build(pairs: list[tuple[bytes, bytes]], **values: object) -> Settings:
        target = tmp_path / "simcontrol.cdb"
        if request.param == "tinycdb":
            tinycdb(target, pairs)
        else:
            write_cdb(str(target), pairs)
        values.setdefault("attach", True)
        values.setdefault("regex", True)
        values.setdefault("spam", True)
        values.setdefault("trophie_socket", "/run/trophie")
        return Settings(controldir=str(tmp_path), per_domain=True, **values)

    return build


def env(sender: bytes, *recipients: bytes) -> Envelope:
    return Envelope(b"", sender, list(recipients))


ONE = env(b"someone@sender.example", b"joe-list-x@example.com")


def test_no_entry_means_no_scanning(make) -> None:  # type: ignore[no-untyped-def]
    settings = make([(b"other.example", b"clam=yes,spam=yes,attach=.exe")])
    policy = resolve(settings, ONE)
    assert (policy.clam, policy.spam, policy.trophie) == (False, False, False)
    assert policy.attach == () and policy.regex == ()


def test_default_entry_applies(make) -> None:  # type: ignore[no-untyped-def]
    settings = make([(b"", b"clam=yes,spam=yes,trophie=yes,spam_hits=20.1")])
    policy = resolve(settings, ONE)
    assert (policy.clam, policy.spam, policy.trophie) == (True, True, True)
    assert policy.spam_hits == 20.1


def test_order_default_sender_recipient_domain_then_extensions(make) -> None:  # type: ignore[no-untyped-def]
    settings = make(
        [
            (b"", b"spam_hits=1,size_limit=1"),
            (b"sender.example", b"spam_hits=2,size_limit=2"),
            (b"someone@sender.example", b"spam_hits=3"),
            (b"example.com", b"spam_hits=4,size_limit=4"),
            (b"joe@example.com", b"spam_hits=5"),
            (b"joe-list@example.com", b"spam_hits=6"),
        ]
    )
    policy = resolve(settings, ONE)
    assert policy.spam_hits == 6  # the most specific recipient key is last
    assert policy.size_limit == 4  # the last entry naming it
    assert policy.qmail_queue == settings.qmail_queue


def test_recipient_beats_sender_and_later_recipient_beats_earlier(make) -> None:  # type: ignore[no-untyped-def]
    settings = make(
        [
            (b"a.example", b"clam=yes,spam=yes"),
            (b"b.example", b"spam=no"),
            (b"c.example", b"clam=no"),
        ]
    )
    assert resolve(settings, env(b"x@a.example", b"y@b.example")).spam is False
    assert resolve(settings, env(b"x@b.example", b"y@a.example")).spam is True
    policy = resolve(settings, env(b"x@a.example", b"y@b.example", b"z@c.example"))
    assert (policy.clam, policy.spam) == (False, False)


def test_attach_lists_are_replaced_and_regexes_add_up(make) -> None:  # type: ignore[no-untyped-def]
    settings = make(
        [
            (b"", b"attach=.exe:.com,regex=one"),
            (b"example.com", b"attach=.mp3,regex=two:three"),
            (b"joe@example.com", b"regex=four"),
        ]
    )
    policy = resolve(settings, ONE)
    assert policy.attach == (b".mp3",)
    assert policy.regex == (b"one", b"two", b"three", b"four")


def test_an_address_without_a_domain(make) -> None:  # type: ignore[no-untyped-def]
    settings = make([(b"postmaster@", b"clam=yes")])
    assert resolve(settings, env(b"", b"postmaster")).clam is True


def test_global_switches_are_the_master_switches(make) -> None:  # type: ignore[no-untyped-def]
    pairs = [
        (b"", b"clam=yes,spam=yes,trophie=yes,spam_passthru=yes,attach=.exe,regex=x"),
    ]
    on = resolve(make(pairs, spam_passthru=True), ONE)
    assert (on.clam, on.spam, on.trophie, on.spam_passthru) == (True, True, True, True)
    assert on.attach == (b".exe",) and on.regex == (b"x",)
    off = resolve(
        make(
            pairs,
            clamav=False,
            spam=False,
            trophie_socket="",
            spam_passthru=False,
            attach=False,
            regex=False,
        ),
        ONE,
    )
    assert (off.clam, off.spam, off.trophie, off.spam_passthru) == (False,) * 4
    assert off.attach == () and off.regex == ()


def test_spam_hits_falls_back_to_the_global_threshold(make) -> None:  # type: ignore[no-untyped-def]
    settings = make([(b"", b"spam=yes")], spam_hits=12.5)
    assert resolve(settings, ONE).spam_hits == 12.5
    settings = make([(b"", b"spam=yes,spam_hits=3")], spam_hits=12.5)
    assert resolve(settings, ONE).spam_hits == 3.0


def test_qmailqueue_and_size_limit_per_domain(make) -> None:  # type: ignore[no-untyped-def]
    settings = make([(b"example.com", b"qmailqueue=/opt/qq,size_limit=99")])
    policy = resolve(settings, ONE)
    assert policy.qmail_queue == "/opt/qq"
    assert policy.size_limit == 99


def test_spam_user(make) -> None:  # type: ignore[no-untyped-def]
    settings = make([(b"example.com", b"spamuser=shared")])
    assert resolve(settings, ONE).spam_user == b"shared"
    two = env(b"s@x", b"Joe@Example.com", b"ann@example.com")
    assert resolve(settings, two).spam_user is None  # spamuser needs one recipient
    with_spamc_user = make([(b"example.com", b"spamuser=shared")], spamc_user=True)
    assert resolve(with_spamc_user, two).spam_user == b"joe@example.com"


def test_bad_pairs_in_a_foreign_cdb_are_skipped_with_a_note(tmp_path: Path) -> None:
    # A cdb the C simscanmk made may hold what ours refuses to write.
    tinycdb(
        tmp_path / "simcontrol.cdb",
        [(b"", b"clam=yes,avira=yes,spam_hits=lots,spam=yes")],
    )
    settings = Settings(controldir=str(tmp_path), per_domain=True, spam=True)
    policy = resolve(settings, ONE)
    assert (policy.clam, policy.spam) == (True, True)
    assert policy.spam_hits is None
    assert len(policy.notes) == 2
    assert "unknown name 'avira'" in policy.notes[0]
    assert "spam_hits" in policy.notes[1]


def test_duplicate_keys_the_first_wins(tmp_path: Path) -> None:
    tinycdb(tmp_path / "simcontrol.cdb", [(b"", b"clam=yes"), (b"", b"clam=no")])
    assert resolve(Settings(controldir=str(tmp_path), per_domain=True), ONE).clam is True


def test_missing_cdb_is_a_config_error(tmp_path: Path) -> None:
    settings = Settings(controldir=str(tmp_path), per_domain=True)
    with pytest.raises(ConfigError, match="run simscanmk"):
        resolve(settings, ONE)


def test_garbage_cdb_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "simcontrol.cdb").write_bytes(b"not a cdb at all")
    settings = Settings(controldir=str(tmp_path), per_domain=True)
    with pytest.raises(ConfigError, match=r"simcontrol\.cdb corrupt"):
        resolve(settings, ONE)


def test_global_mode(tmp_path: Path) -> None:
    (tmp_path / "ssattach").write_bytes(b".EXE\n# a comment\n\n.com  trailing words\n:.scr:\n")
    settings = Settings(controldir=str(tmp_path), attach=True, spam=True, spam_hits=7.0)
    policy = resolve(settings, ONE)
    assert isinstance(policy, Policy)
    assert (policy.clam, policy.spam, policy.trophie) == (True, True, False)
    assert policy.attach == (b".exe", b".com", b".scr")
    assert policy.regex == ()  # regexes come from simcontrol only, as in C
    assert policy.spam_hits == 7.0
    assert policy.qmail_queue == settings.qmail_queue
    assert resolve(Settings(controldir=str(tmp_path)), ONE).attach == ()


def test_missing_ssattach_is_an_empty_list(tmp_path: Path) -> None:
    assert read_attach_list(str(tmp_path / "ssattach")) == ()


def test_unreadable_ssattach_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "ssattach").mkdir()  # a directory cannot be read as a file
    with pytest.raises(ConfigError, match="ssattach cannot read"):
        read_attach_list(str(tmp_path / "ssattach"))


# --- file types and encryption (issue 13) --------------------------------------------


def test_no_types_and_no_encryption_by_default(tmp_path: Path) -> None:
    policy = resolve(Settings(controldir=str(tmp_path)), ONE)
    assert (policy.block_types, policy.block_encrypted) == ((), False)
    assert policy.inspects_attachments is False


def test_block_types_apply_without_the_attach_switch(tmp_path: Path) -> None:
    """Listing types is the opt-in: no `attach = true` needed (nor ssattach)."""
    settings = Settings(controldir=str(tmp_path), block_types=("executable", "shortcut"))
    policy = resolve(settings, ONE)
    assert policy.attach == ()
    assert policy.block_types == ("executable", "shortcut")
    assert policy.block_encrypted is False
    assert policy.inspects_attachments is True


def test_block_encrypted_alone_runs_the_attachment_check(tmp_path: Path) -> None:
    policy = resolve(Settings(controldir=str(tmp_path), block_encrypted=True), ONE)
    assert (policy.attach, policy.block_types, policy.block_encrypted) == ((), (), True)
    assert policy.inspects_attachments is True


def test_archive_encrypted_as_a_type_is_block_encrypted(tmp_path: Path) -> None:
    settings = Settings(controldir=str(tmp_path), block_types=("archive-encrypted", "macro"))
    policy = resolve(settings, ONE)
    assert (policy.block_types, policy.block_encrypted) == (("macro",), True)


def test_types_with_the_attach_list(tmp_path: Path) -> None:
    (tmp_path / "ssattach").write_bytes(b".exe\n")
    settings = Settings(controldir=str(tmp_path), attach=True, block_types=("disk-image",))
    policy = resolve(settings, ONE)
    assert (policy.attach, policy.block_types) == ((b".exe",), ("disk-image",))
    # An attach check with nothing to look for does not run (as before).
    (tmp_path / "ssattach").unlink()
    assert (
        resolve(Settings(controldir=str(tmp_path), attach=True), ONE).inspects_attachments is False
    )


def simscanmk(tmp_path: Path, text: str, **values: object) -> Settings:
    """Compile `text` as CONTROLDIR/simcontrol with simscanmk's own code;
    per-domain Settings for that control dir."""
    (tmp_path / "simcontrol").write_text(text)
    build_control(str(tmp_path))
    return Settings(controldir=str(tmp_path), per_domain=True, **values)


def test_per_domain_block_types_are_every_recipients_default(tmp_path: Path) -> None:
    settings = simscanmk(tmp_path, "other.example:clam=yes\n", block_types=("executable",))
    policy = resolve(settings, ONE)  # no entry at all: still the site's types
    assert (policy.clam, policy.block_types) == (False, ("executable",))


def test_a_later_types_entry_replaces_the_list(tmp_path: Path) -> None:
    settings = simscanmk(
        tmp_path,
        ":types=executable:macro\n"
        "example.com:types=shortcut:disk-image\n"
        "joe@example.com:clam=yes\n",  # says nothing of types: the list stands
        attach=True,
        block_types=("macro",),
    )
    assert resolve(settings, ONE).block_types == ("shortcut", "disk-image")
    other = env(b"s@sender.example", b"ann@other.example")
    assert resolve(settings, other).block_types == ("executable", "macro")


def test_an_empty_types_list_turns_type_checks_off(tmp_path: Path) -> None:
    settings = simscanmk(
        tmp_path, "example.com:types=:\n", block_types=("executable",), block_encrypted=True
    )
    policy = resolve(settings, ONE)
    # A global block_encrypted stays on whatever types= says.
    assert (policy.block_types, policy.block_encrypted) == ((), True)
    settings = simscanmk(tmp_path, "example.com:types=:\n", block_types=("executable",))
    policy = resolve(settings, ONE)
    assert (policy.block_types, policy.block_encrypted) == ((), False)
    assert policy.inspects_attachments is False


def test_types_per_domain_and_encryption(tmp_path: Path) -> None:
    settings = simscanmk(
        tmp_path,
        "example.com:types=executable\n"
        "example.net:types=archive-encrypted\n"
        "example.org:types=executable:archive-encrypted\n",
        block_encrypted=True,
    )

    def got(domain: bytes) -> tuple[tuple[str, ...], bool]:
        policy = resolve(settings, env(b"s@x.example", b"joe@" + domain))
        return policy.block_types, policy.block_encrypted

    assert got(b"example.com") == (("executable",), True)  # the list replaced
    assert got(b"example.net") == ((), True)
    assert got(b"example.org") == (("executable",), True)
    assert got(b"elsewhere.example") == ((), True)  # block_encrypted, the default
    settings = simscanmk(tmp_path, "example.net:types=archive-encrypted\n")
    assert got(b"example.net") == ((), False)  # (types= needs the check on)
    settings = simscanmk(tmp_path, "example.net:types=archive-encrypted\n", attach=True)
    assert got(b"example.net") == ((), True)  # the category adds it
    assert got(b"example.com") == ((), False)


@pytest.mark.parametrize(
    ("values", "applies"),
    [
        ({}, False),
        ({"attach": True}, True),
        ({"block_types": ("macro",)}, True),
        ({"block_encrypted": True}, True),
    ],
    ids=["check off", "attach", "block_types", "block_encrypted"],
)
def test_types_entries_need_the_attachment_check_on(
    tmp_path: Path, values: dict[str, object], applies: bool
) -> None:
    settings = simscanmk(tmp_path, ":types=shortcut,attach=.exe\n", **values)
    policy = resolve(settings, ONE)
    assert (policy.block_types == ("shortcut",)) is applies
    # attach= still needs attach = true, as in C.
    assert policy.attach == ((b".exe",) if values.get("attach") else ())


# --- policy_merge ---------------------------------------------------------------------

# The case: a lax domain among the recipients.
LAX = ":clam=yes,attach=.exe:.scr,types=executable:macro\nlax.example:attach=.zip,types=:\n"
TO_BOTH = env(b"s@sender.example", b"joe@example.com", b"bob@lax.example")
LAX_FIRST = env(b"s@sender.example", b"bob@lax.example", b"joe@example.com")


@pytest.mark.parametrize("envelope", [TO_BOTH, LAX_FIRST], ids=["lax last", "lax first"])
def test_last_lets_a_lax_recipient_take_protection_away(tmp_path: Path, envelope: Envelope) -> None:
    # Even with the lax recipient first: the other has no entry of its own.
    policy = resolve(simscanmk(tmp_path, LAX, attach=True), envelope)
    assert (policy.attach, policy.block_types) == ((b".zip",), ())


@pytest.mark.parametrize("envelope", [TO_BOTH, LAX_FIRST], ids=["lax last", "lax first"])
def test_strictest_keeps_every_recipients_protection(tmp_path: Path, envelope: Envelope) -> None:
    policy = resolve(simscanmk(tmp_path, LAX, attach=True, policy_merge="strictest"), envelope)
    expected = (b".exe", b".scr", b".zip") if envelope is TO_BOTH else (b".zip", b".exe", b".scr")
    assert policy.attach == expected  # united, in recipient order
    assert policy.block_types == ("executable", "macro")
    assert policy.clam is True


def test_strictest_with_one_recipient_is_last(tmp_path: Path) -> None:
    text = LAX + "example.com:spam=yes,spam_hits=4,regex=a:b\nsender.example:size_limit=9\n"
    last = resolve(simscanmk(tmp_path, text, attach=True, spam=True, regex=True), ONE)
    strictest = resolve(
        simscanmk(tmp_path, text, attach=True, spam=True, regex=True, policy_merge="strictest"),
        ONE,
    )
    assert repr(strictest) == repr(last)


def test_strictest_a_check_is_on_if_any_recipient_turns_it_on(tmp_path: Path) -> None:
    text = "a.example:clam=yes,spam=no,trophie=no\nb.example:clam=no,spam=yes,trophie=yes\n"
    two = env(b"s@x.example", b"y@a.example", b"z@b.example")
    last = resolve(simscanmk(tmp_path, text, spam=True, trophie_socket="/t"), two)
    assert (last.clam, last.spam, last.trophie) == (False, True, True)
    two = env(b"s@x.example", b"z@b.example", b"y@a.example")
    last = resolve(simscanmk(tmp_path, text, spam=True, trophie_socket="/t"), two)
    assert (last.clam, last.spam, last.trophie) == (True, False, False)
    strictest = resolve(
        simscanmk(tmp_path, text, spam=True, trophie_socket="/t", policy_merge="strictest"), two
    )
    assert (strictest.clam, strictest.spam, strictest.trophie) == (True, True, True)
    # ... but the global switches still decide.
    off = resolve(simscanmk(tmp_path, text, clamav=False, policy_merge="strictest"), two)
    assert (off.clam, off.spam, off.trophie) == (False, False, False)


def test_strictest_each_recipient_gets_the_sender_entries_too(tmp_path: Path) -> None:
    text = ":clam=yes\nsender.example:clam=no\nsafe.example:clam=yes\n"
    two = env(b"x@sender.example", b"a@safe.example", b"b@other.example")
    settings = simscanmk(tmp_path, text, policy_merge="strictest")
    assert resolve(settings, two).clam is True  # safe.example's own entry
    two = env(b"x@sender.example", b"a@other.example", b"b@more.example")
    assert resolve(settings, two).clam is False  # the sender's entry, for both


def test_strictest_unites_regexes_once_each_in_order(tmp_path: Path) -> None:
    text = ":regex=one\na.example:regex=two:three\nb.example:regex=three:four\n"
    two = env(b"s@x.example", b"y@a.example", b"z@b.example")
    last = resolve(simscanmk(tmp_path, text, regex=True), two)
    assert last.regex == (b"one", b"two", b"three", b"three", b"four")
    strictest = resolve(simscanmk(tmp_path, text, regex=True, policy_merge="strictest"), two)
    assert strictest.regex == (b"one", b"two", b"three", b"four")


def strictest_spam(tmp_path: Path, text: str, *domains: bytes, **values: object) -> Policy:
    values.setdefault("spam", True)
    settings = simscanmk(tmp_path, text, policy_merge="strictest", **values)
    return resolve(settings, env(b"s@x.example", *(b"u@" + d for d in domains)))


def test_strictest_the_lowest_spam_hits_of_those_that_scan_spam(tmp_path: Path) -> None:
    text = (
        ":spam=yes\n"
        "a.example:spam_hits=8\n"
        "b.example:spam_hits=5.5\n"
        "c.example:spam=no,spam_hits=1\n"  # does not scan spam: its threshold is moot
    )
    policy = strictest_spam(tmp_path, text, b"a.example", b"b.example", b"c.example")
    assert (policy.spam, policy.spam_hits, policy.spam_flag_counts) == (True, 5.5, False)
    # The global threshold is each recipient's default.
    policy = strictest_spam(tmp_path, text, b"a.example", b"d.example", spam_hits=12.0)
    assert (policy.spam_hits, policy.spam_flag_counts) == (8.0, False)


def test_strictest_a_recipient_without_spam_hits_keeps_spamassassins_flag(
    tmp_path: Path,
) -> None:
    """No spam_hits: spam is what SpamAssassin flags (its required score).
    That cannot be compared with a score before the scan, so both count."""
    text = ":spam=yes\nlax.example:spam_hits=20\n"
    policy = strictest_spam(tmp_path, text, b"lax.example", b"d.example")
    assert (policy.spam_hits, policy.spam_flag_counts) == (20.0, True)
    # All without: SpamAssassin's flag alone, as before.
    policy = strictest_spam(tmp_path, text, b"d.example", b"e.example")
    assert (policy.spam_hits, policy.spam_flag_counts) == (None, False)
    # One that passes spam through does not refuse what is flagged.
    text = ":spam=yes\nlax.example:spam_hits=20\npass.example:spam_passthru=yes\n"
    policy = strictest_spam(tmp_path, text, b"lax.example", b"pass.example", spam_passthru=True)
    assert (policy.spam_hits, policy.spam_flag_counts) == (20.0, False)
    # "last" never sets it.
    settings = simscanmk(tmp_path, text, spam=True)
    last = resolve(settings, env(b"s@x.example", b"u@d.example", b"u@lax.example"))
    assert (last.spam_hits, last.spam_flag_counts) == (20.0, False)


def test_strictest_passthru_only_if_every_spam_scanning_recipient_has_it(
    tmp_path: Path,
) -> None:
    text = ":spam=yes,spam_passthru=yes\nstrict.example:spam_passthru=no\nnone.example:spam=no\n"
    policy = strictest_spam(tmp_path, text, b"a.example", b"strict.example", spam_passthru=True)
    assert policy.spam_passthru is False
    policy = strictest_spam(tmp_path, text, b"a.example", b"none.example", spam_passthru=True)
    assert policy.spam_passthru is True  # none.example does not scan spam


def test_strictest_the_largest_size_limit_of_those_that_scan_spam(tmp_path: Path) -> None:
    text = (
        ":spam=yes\n"
        "a.example:size_limit=1000\n"
        "b.example:size_limit=500000\n"
        "c.example:spam=no,size_limit=9000000\n"
    )
    policy = strictest_spam(tmp_path, text, b"b.example", b"a.example", b"c.example")
    assert policy.size_limit == 500000


def test_strictest_qmailqueue_and_spamuser_are_chosen_as_under_last(tmp_path: Path) -> None:
    text = "a.example:qmailqueue=/opt/a-queue,spamuser=a\nb.example:spam=yes\n"
    settings = simscanmk(tmp_path, text, spamc_user=True, policy_merge="strictest")
    policy = resolve(settings, env(b"s@x.example", b"Joe@A.example", b"u@b.example"))
    # b.example says nothing of qmailqueue: a.example's entry stands, as in C.
    assert policy.qmail_queue == "/opt/a-queue"
    assert policy.spam_user == b"joe@a.example"  # spamuser needs one recipient


def test_strictest_reads_the_cdb_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = simscanmk(tmp_path, LAX, attach=True, policy_merge="strictest")
    calls: list[list[bytes]] = []
    real = policy_module.read_rules

    def counting(path: str, keys: list[bytes]) -> list[tuple[bytes, bytes]]:
        calls.append(keys)
        return real(path, keys)

    monkeypatch.setattr(policy_module, "read_rules", counting)
    resolve(settings, TO_BOTH)
    assert len(calls) == 1


def test_notes_once_under_strictest_and_per_use_under_last(tmp_path: Path) -> None:
    # A cdb the C simscanmk made: ours refuses to write a bad pair.
    tinycdb(tmp_path / "simcontrol.cdb", [(b"example.com", b"clam=yes,avira=yes")])
    two = env(b"s@x.example", b"a@example.com", b"b@example.com")
    note = "simcontrol.cdb entry 'example.com': unknown name 'avira'"
    settings = Settings(controldir=str(tmp_path), per_domain=True)
    assert [n.partition(" (known")[0] for n in resolve(settings, two).notes] == [note, note]
    strictest = resolve(settings.replace(policy_merge="strictest"), two)
    assert [n.partition(" (known")[0] for n in strictest.notes] == [note]
    assert strictest.clam is True
