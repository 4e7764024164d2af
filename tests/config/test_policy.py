"""Policy lookup (SPEC section 4): cdbs from simscanmk and from tinycdb."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import tinycdb

from simscan.config.policy import Policy, read_attach_list, resolve
from simscan.config.settings import Settings
from simscan.errors import ConfigError
from simscan.mk import write_cdb
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


# --- file types, encryption, and one policy for all recipients --------------------

TWO = env(b"someone@sender.example", b"ann@strict.example", b"bob@lax.example")
TWO_PAIRS = [
    (b"", b"clam=yes,attach=.exe:.scr,spam_hits=9"),
    (b"strict.example", b"spam=yes,attach=.exe:.com,types=executable,regex=evil,spam_hits=5"),
    (b"lax.example", b"spam=no,attach=.txt,types=none,spam_passthru=yes,size_limit=9000"),
]


def test_types_per_domain(make) -> None:  # type: ignore[no-untyped-def]
    settings = make(
        [(b"", b"types=macro"), (b"example.com", b"types=executable:shortcut")],
        block_types=("disk-image",),
        block_encrypted=True,
    )
    policy = resolve(settings, ONE)
    assert policy.block_types == ("executable", "shortcut")
    assert policy.block_encrypted is True
    assert policy.inspects_attachments
    other = resolve(settings, env(b"a@b.example", b"c@d.example"))
    assert other.block_types == ("macro",)


def test_types_from_the_settings_when_no_entry_says(make) -> None:  # type: ignore[no-untyped-def]
    settings = make([(b"", b"clam=yes")], block_types=("disk-image",))
    assert resolve(settings, ONE).block_types == ("disk-image",)
    off = make([(b"", b"types=executable")], block_types=("disk-image",), attach=False)
    policy = resolve(off, ONE)
    assert (policy.block_types, policy.block_encrypted) == ((), False)
    assert not policy.inspects_attachments


def test_global_types_need_attach(tmp_path: Path) -> None:
    on = Settings(controldir=str(tmp_path), attach=True, block_types=("macro",))
    assert resolve(on, ONE).block_types == ("macro",)
    assert resolve(on, ONE).inspects_attachments
    off = Settings(controldir=str(tmp_path), block_types=("macro",), block_encrypted=True)
    assert (resolve(off, ONE).block_types, resolve(off, ONE).block_encrypted) == ((), False)


def test_last_lets_the_last_recipient_decide(make) -> None:  # type: ignore[no-untyped-def]
    policy = resolve(make(TWO_PAIRS, spam_hits=10.0), TWO)
    assert policy.attach == (b".txt",)
    assert policy.block_types == ()
    assert (policy.clam, policy.spam, policy.spam_passthru) == (True, False, False)
    assert policy.spam_hits == 5.0  # (not mentioned by lax: strict's stays)
    assert policy.regex == (b"evil",)
    assert policy.size_limit == 9000


def test_strictest_keeps_every_recipients_protection(make) -> None:  # type: ignore[no-untyped-def]
    settings = make(TWO_PAIRS, spam_hits=10.0, spam_passthru=True, policy_merge="strictest")
    policy = resolve(settings, TWO)
    assert policy.attach == (b".exe", b".com", b".txt")
    assert policy.block_types == ("executable",)
    assert (policy.clam, policy.spam) == (True, True)
    assert policy.spam_passthru is False  # strict wants refusals
    assert policy.spam_hits == 5.0
    assert policy.regex == (b"evil",)
    assert policy.size_limit == 250000  # the larger: clamd sees more
    # Each recipient on its own: lax's list does not include the default's
    # .scr (its entry replaced it), strict's does not either.
    assert b".scr" not in policy.attach


def test_strictest_with_the_recipients_the_other_way(make) -> None:  # type: ignore[no-untyped-def]
    settings = make(TWO_PAIRS, policy_merge="strictest")
    back = env(b"someone@sender.example", b"bob@lax.example", b"ann@strict.example")
    assert resolve(settings, back).attach == (b".txt", b".exe", b".com")
    assert resolve(settings, back).spam is True


def test_strictest_with_one_recipient_is_last(make) -> None:  # type: ignore[no-untyped-def]
    strict = resolve(make(TWO_PAIRS, policy_merge="strictest"), ONE)
    last = resolve(make(TWO_PAIRS), ONE)
    assert repr(strict) == repr(last)


def test_strictest_passthru_when_every_recipient_has_it(make) -> None:  # type: ignore[no-untyped-def]
    pairs = [(b"", b"spam=yes,spam_passthru=yes")]
    settings = make(pairs, spam_passthru=True, policy_merge="strictest")
    assert resolve(settings, TWO).spam_passthru is True
