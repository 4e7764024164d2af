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
