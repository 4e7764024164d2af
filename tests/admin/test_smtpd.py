"""Who qmail-smtpd runs as, read from its run script (tcpserver -u/-g, -U
with envdir or envuidgid) or xinetd's service file; and whether that
identity can create entries in a directory."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from simscan.admin import smtpd


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A directory others can reach (pytest's own are root's, mode 0700)."""
    path = Path(tempfile.mkdtemp(prefix="simscan-config-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


def script(tmp_path: Path, text: str, name: str = "run") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_an_lwq_run_script(tmp_path: Path) -> None:
    run = script(
        tmp_path,
        "#!/bin/sh\nQMAILDUID=`id -u nobody`\nNOFILESGID=`id -g nobody`\n"
        "exec /usr/local/bin/softlimit -m 2000000 \\\n"
        '    /usr/local/bin/tcpserver -v -R -l "$LOCAL" -x /etc/tcp.smtp.cdb -c "$MAX" \\\n'
        '        -u "$QMAILDUID" -g "$NOFILESGID" 0 smtp /var/qmail/bin/qmail-smtpd 2>&1\n',
    )
    who = smtpd.identity(None, (str(tmp_path / "none"), run), ())
    assert who is not None
    assert (who.uid, who.gid, who.groups) == (65534, 65534, (65534,))
    assert who.source == f"{run}: tcpserver -u -g"


def test_run_scripts_with_numbers_envdir_and_root(tmp_path: Path) -> None:
    run = script(tmp_path, "exec tcpserver -u1004 -g 2108 0 smtp qmail-smtpd\n")
    who = smtpd.identity(None, (run,), ())
    assert who is not None and (who.uid, who.gid, who.groups) == (1004, 2108, (2108,))
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "UID").write_text("1005\n")
    (tmp_path / "env" / "GID").write_text("2109\n")
    run = script(tmp_path, "exec envdir ./env tcpserver -U 0 smtp qmail-smtpd\n", "run2")
    who = smtpd.identity(None, (run,), ())
    assert who is not None and (who.uid, who.gid) == (1005, 2109)
    run = script(tmp_path, "exec envuidgid nobody tcpserver -U 0 smtp qmail-smtpd\n", "run3")
    who = smtpd.identity(None, (run,), ())
    assert who is not None and (who.uid, who.gid) == (65534, 65534)
    run = script(tmp_path, "exec tcpserver -v 0 smtp qmail-smtpd\n", "run4")
    who = smtpd.identity(None, (run,), ())
    assert who is not None and who.uid == 0
    assert who.source.endswith("tcpserver without -u, so root")
    assert smtpd.identity(None, (str(tmp_path / "missing"),), ()) is None


def test_xinetd(tmp_path: Path) -> None:
    service = script(
        tmp_path, "service smtp\n{\n  user = nobody\n  group = nogroup\n  server = x\n}\n", "smtp"
    )
    who = smtpd.identity(None, (), (service,))
    assert who is not None and (who.uid, who.gid, who.groups) == (65534, 65534, (65534,))
    service = script(tmp_path, "service smtp\n{\n  user = root\n  groups = yes\n}\n", "smtp2")
    who = smtpd.identity(None, (), (service,))
    assert who is not None and who.uid == 0 and set(who.groups) == set(os.getgrouplist("root", 0))


def test_can_create(open_dir: Path) -> None:
    nobody = smtpd.Identity(65534, 65534, (65534,), "test")
    d = open_dir / "d"
    d.mkdir(mode=0o777)
    d.chmod(0o777)
    assert smtpd.can_create(str(d), nobody) == (True, "")
    d.chmod(0o775)
    ok, why = smtpd.can_create(str(d), nobody)
    assert (
        not ok
        and why
        == f"{d} is mode 0775, owned by root:root, neither nobody nor one of its groups: no write"
    )
    d.chmod(0o770)
    ok, why = smtpd.can_create(str(d), nobody)
    assert not ok and why.endswith(": no write and search")
    d.chmod(0o777)
    inner = d / "inner"
    inner.mkdir()
    d.chmod(0o776)
    ok, why = smtpd.can_create(str(inner), nobody)
    assert (
        not ok
        and why
        == f"{d} is mode 0776, owned by root:root, neither nobody nor one of its groups: no search"
    )
    assert smtpd.can_create(str(d), smtpd.Identity(0, 0, (0,), "root")) == (True, "")
    d.chmod(0o777)
    assert smtpd.can_create(str(d / "missing"), nobody) == (
        False,
        f"{d / 'missing'}: No such file or directory",
    )


def test_identity_given_on_the_command_line() -> None:
    who = smtpd.identity("nobody:nogroup")
    assert who is not None and (who.uid, who.gid, who.groups, who.source) == (
        65534, 65534, (65534,), "as given"
    )  # fmt: skip
    who = smtpd.identity("daemon")  # the group from the passwd entry
    assert who is not None and (who.uid, who.gid, who.groups) == (1, 1, (1,))
    who = smtpd.identity("4242:4343")
    assert who is not None and (who.uid, who.gid) == (4242, 4343)
    who = smtpd.identity("4242")  # unknown uid, no group: the gid is the uid
    assert who is not None and (who.uid, who.gid) == (4242, 4242)
    with pytest.raises(ValueError, match=r"^no such user 'nosuchuser'$"):
        smtpd.identity("nosuchuser")
    with pytest.raises(ValueError, match=r"^no such group 'nosuchgroup'$"):
        smtpd.identity("nobody:nosuchgroup")


def test_describe_and_names() -> None:
    who = smtpd.Identity(65534, 65534, (65534, 1, 4242), "x")
    assert who.describe() == ("uid 65534 (nobody) gid 65534 (nogroup), other groups daemon,4242")
    assert smtpd.Identity(4242, 4343, (4343,), "x").describe() == (
        "uid 4242 (4242) gid 4343 (4343), no other groups"
    )


def test_simscan_runs_as_user_only_under_root() -> None:
    root = smtpd.Identity(0, 0, (0,), "x")
    nobody = smtpd.Identity(65534, 65534, (65534,), "x")
    daemon = smtpd.simscan_identity(root, "daemon")
    assert (daemon.uid, daemon.gid) == (1, 1)
    assert set(daemon.groups) == set(os.getgrouplist("daemon", 1))
    assert daemon.source == "the `user` setting, daemon"
    assert smtpd.simscan_identity(nobody, "daemon") is nobody
    assert smtpd.simscan_identity(root, "") is root
    assert smtpd.simscan_identity(root, "nosuchuser") is root


def test_can_create_by_owner_group_and_other(open_dir: Path) -> None:
    d = open_dir / "d"
    d.mkdir()
    os.chown(d, 65534, 0)
    nobody = smtpd.Identity(65534, 65534, (65534,), "x")
    d.chmod(0o300)  # owner: write and search is enough
    assert smtpd.can_create(str(d), nobody) == (True, "")
    d.chmod(0o577)
    assert smtpd.can_create(str(d), nobody) == (
        False,
        f"{d} is mode 0577, owned by nobody: no write",
    )
    os.chown(d, 0, 1)
    d.chmod(0o730)  # group daemon, as a supplementary group only
    member = smtpd.Identity(65534, 65534, (65534, 1), "x")
    assert smtpd.can_create(str(d), member) == (True, "")
    d.chmod(0o750)
    assert smtpd.can_create(str(d), member) == (
        False,
        f"{d} is mode 0750, group daemon, which nobody has: no write",
    )
    assert smtpd.can_create(str(d), smtpd.Identity(1, 1, (1,), "x"))[0] is False
    d.chmod(0o000)
    assert smtpd.can_create(str(d), smtpd.Identity(0, 0, (0,), "x")) == (True, "")


@pytest.mark.parametrize(
    ("line", "uid", "gid"),
    [
        ("tcpserver -vRu1004 -g2108 0 smtp qmail-smtpd", 1004, 2108),
        (
            "tcpserver -v -B '220 hi' -x /etc/tcp.smtp.cdb -c 20 -u 1004 -g 2108 0 smtp x",
            1004,
            2108,
        ),
        ("tcpserver -l host -t 5 -b 10 -u 7 -g 8 0 smtp x", 7, 8),
        ('tcpserver -u "$QUID" -g ${QGID} 0 smtp x', 1004, 2108),
        ("tcpserver -u `id -u nobody` -g $(id -g nobody) 0 smtp x", 65534, 65534),
        ("/usr/local/bin/tcpserver -Ru 1 -g 1 0 smtp x", 1, 1),
    ],
)
def test_tcpserver_options(tmp_path: Path, line: str, uid: int, gid: int) -> None:
    run = script(tmp_path, f"#!/bin/sh\nQUID='1004'\nexport QGID=\"2108\"\nexec {line}\n")
    who = smtpd.identity(None, (run,), ())
    assert who is not None and (who.uid, who.gid, who.groups) == (uid, gid, (gid,))


@pytest.mark.parametrize(
    "line",
    [
        "tcpserver -u 1004 0 smtp x",  # no -g: cannot tell
        "tcpserver -u `id -u nosuchuser` -g 1 0 smtp x",
        "tcpserver -g 1 -u",  # -u with nothing after it
        "echo no server here",
    ],
)
def test_run_scripts_that_cannot_be_read(tmp_path: Path, line: str) -> None:
    run = script(tmp_path, f"#!/bin/sh\nexec {line}\n")
    who = smtpd.identity(None, (run,), ())
    assert who is None


def test_xinetd_without_a_user_or_with_unknown_names(tmp_path: Path) -> None:
    for body in ("server = x\n", "user = nosuchuser\n", "user = nobody\ngroup = nosuchgroup\n"):
        service = script(tmp_path, "service smtp\n{\n" + body + "}\n", "smtp")
        assert smtpd.identity(None, (), (service,)) is None
    service = script(tmp_path, "service smtp\n{\n  user = daemon\n}\n", "smtp")
    who = smtpd.identity(None, (), (service,))
    assert who is not None and (who.uid, who.gid, who.groups) == (1, 1, (1,))
    assert who.source == f"{service}: xinetd user/group"


@pytest.mark.parametrize(
    "body",
    [
        # a test of the server's file is not a server run without -u (root)
        "if [ ! -x /usr/local/bin/tcpserver ]; then\n    echo 'no tcpserver'; exit 1\nfi\n"
        "exec /usr/local/bin/softlimit -m 30000000 \\\n"
        "    /usr/local/bin/tcpserver -v -R -u 65534 -g 65534 0 smtp qmail-smtpd 2>&1\n",
        "[ -x /usr/bin/tcpserver ] || exit 1\nexec tcpserver -u 65534 -g 65534 0 smtp x\n",
        "test -x /usr/bin/tcpserver && exec tcpserver -u 65534 -g 65534 0 smtp x\n",
        # the server named by a variable, in command position
        "TCPSERVER=/usr/local/bin/tcpserver\nexec $TCPSERVER -v -u 65534 -g 65534 0 smtp x\n",
        "exec ${TCPSERVER} -u 65534 -g 65534 0 smtp x\n",
        # a line without -u only counts when none names the user
        "tcpserver -h 2>/dev/null\nexec tcpserver -u 65534 -g 65534 0 smtp x\n",
        # s6: -G takes a value; s6-envuidgid's -D takes one before the account
        "exec s6-tcpserver4 -G 65534 -u 65534 -g 65534 0 25 x\n",
        "exec s6-envuidgid -D 1:1:1 nobody s6-tcpserver4 -U 0 25 qmail-smtpd\n",
        "exec envuidgid nobody tcpserver -U 0 smtp qmail-smtpd\n",
    ],
)
def test_the_line_that_runs_the_server(tmp_path: Path, body: str) -> None:
    run = script(tmp_path, "#!/bin/sh\nTCPSERVER=tcpserver\n" + body)
    who = smtpd.identity(None, (run,), ())
    assert who is not None and (who.uid, who.gid) == (65534, 65534), who and who.source


def test_a_server_without_u_anywhere_is_root(tmp_path: Path) -> None:
    run = script(tmp_path, "#!/bin/sh\n[ -x /usr/bin/tcpserver ] || exit\nexec tcpserver 0 25 x\n")
    who = smtpd.identity(None, (run,), ())
    assert who is not None and who.uid == 0
    assert who.source == f"{run}: tcpserver without -u, so root"
