"""End to end: the work dir and quarantine recipes of the README, with
simscan started as qmail-smtpd really leaves it.

tcpserver's `-u UID -g GID` (and `-U` with $UID/$GID) calls setgroups()
with the one GID and then setgid/setuid: whatever groups the user has in
/etc/group are gone.  xinetd (without `groups = yes`) leaves no
supplementary groups at all.  setpriv reproduces both exactly, so simscan
is started here through it, as root's child, with `nobody`/`nogroup`
standing in for qmaild/nofiles.  The README recipe (the work dir owned by
the user simscan runs as) queues the message; the old recipe (a group
qmaild "is in", mode 2770) fails every message with 71 and says why.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from daemons import Clamd, free_port, signature_database
from harness import Site, simscan_command
from test_e2e_basic import ENV, MESSAGE

SETPRIV = shutil.which("setpriv") or "/usr/bin/setpriv"

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root to start simscan as another user"),
    pytest.mark.skipif(not Path(SETPRIV).exists(), reason="setpriv (util-linux) missing"),
]

# A group the old recipe gives the work dir to, and of which "qmaild" is a
# member in /etc/group: any gid other than simscan's own will do.
OTHER_GID = 8

Starter = Callable[[int, int], list[str]]

ATTACHMENT = (
    b"From: sender@example.com\n"
    b"To: joe@example.com\n"
    b"Subject: the files\n"
    b"MIME-Version: 1.0\n"
    b'Content-Type: multipart/mixed; boundary="b1"\n'
    b"\n"
    b"--b1\n"
    b"Content-Type: text/plain\n"
    b"\n"
    b"See attached.\n"
    b"--b1\n"
    b'Content-Type: application/octet-stream; name="x.exe"\n'
    b"Content-Transfer-Encoding: base64\n"
    b"\n"
    b"TVogZmFrZQ==\n"
    b"--b1--\n"
)


def ids() -> tuple[int, int]:
    try:
        uid = pwd.getpwnam("nobody").pw_uid
        gid = grp.getgrnam("nogroup").gr_gid
    except KeyError:
        pytest.skip("no nobody/nogroup")
    return uid, gid


def as_tcpserver(uid: int, gid: int, *, groups: str | None = None) -> list[str]:
    """simscan as `tcpserver -u UID -g GID` starts it: one uid, one gid,
    the supplementary list exactly [gid] (`groups` to give it others)."""
    return [
        SETPRIV,
        f"--reuid={uid}",
        f"--regid={gid}",
        f"--groups={groups or gid}",
        *simscan_command(),
    ]


def as_xinetd(uid: int, gid: int) -> list[str]:
    """xinetd's `user =`/`group =` without `groups = yes`: no supplementary groups."""
    return [SETPRIV, f"--reuid={uid}", f"--regid={gid}", "--clear-groups", *simscan_command()]


CREDENTIALS = ["/bin/grep", "-E", "^(Uid|Gid|Groups):", "/proc/self/status"]


@pytest.mark.skipif(shutil.which("tcpserver") is None, reason="ucspi-tcp not installed")
def test_starters_match_real_tcpserver() -> None:
    """What as_tcpserver() gives is what a child of `tcpserver -u -g` has,
    even when tcpserver itself had other groups."""
    uid, gid = ids()
    port = free_port()
    tcpserver = ["tcpserver", "-u", str(uid), "-g", str(gid), "127.0.0.1", str(port)]
    server = subprocess.Popen(
        [SETPRIV, "--groups=4,27", *tcpserver, *CREDENTIALS],
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
                    served = conn.makefile("rb").read()
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline, "tcpserver did not listen"
                time.sleep(0.05)
    finally:
        server.terminate()
        server.wait()
    emulated = as_tcpserver(uid, gid)[: -len(simscan_command())] + CREDENTIALS
    assert subprocess.run(emulated, capture_output=True, check=True).stdout == served
    assert f"Groups:\t{gid} \n".encode() in served


@pytest.fixture
def open_site() -> Iterator[Site]:
    """A site an unprivileged simscan can reach (pytest's tmp is 0700);
    the work dir is left to each test's recipe."""
    root = Path(tempfile.mkdtemp(prefix="simscan-perm-"))
    root.chmod(0o755)
    site = Site(root)
    site.control.chmod(0o755)
    site.queue.chmod(0o1777)  # the recording qmail-queue runs as simscan's user
    site.work.rmdir()
    yield site
    shutil.rmtree(root)


def install_dir(path: Path, uid: int, gid: int, mode: int) -> None:
    """`install -d -o UID -g GID -m MODE PATH`, as the README has it."""
    subprocess.run(
        ["install", "-d", "-o", str(uid), "-g", str(gid), "-m", f"{mode:o}", str(path)], check=True
    )


def configure(site: Site, **values: object) -> None:
    site.configure(**values)
    site.config.chmod(0o644)


def kept_workdir(site: Site) -> Path:
    kept: list[Path] = list(site.work.iterdir())
    assert len(kept) == 1, kept
    return kept[0]


# --- tcpserver -u/-g and xinetd: the work dir owned by that user ---------------


@pytest.mark.parametrize("start", [as_tcpserver, as_xinetd])
def test_readme_recipe_queues(open_site: Site, start: Starter) -> None:
    uid, gid = ids()
    install_dir(open_site.work, uid, gid, 0o700)
    configure(open_site, user="simscan")  # not root: `user` does nothing
    out = open_site.run(MESSAGE, ENV, command=start(uid, gid))
    assert out.exit_code == 0, out.stderr
    assert [r.message for r in out.records] == [MESSAGE]
    assert out.workdirs_left == []


def test_workdir_entries_belong_to_the_smtpd_user(open_site: Site) -> None:
    uid, gid = ids()
    install_dir(open_site.work, uid, gid, 0o700)
    configure(open_site)
    env = open_site.env(SIMSCAN_DEBUG_FILES="2")
    assert open_site.run(MESSAGE, ENV, env=env, command=as_tcpserver(uid, gid)).exit_code == 0
    kept = kept_workdir(open_site)
    for path in (kept, *kept.iterdir()):
        st = path.stat()
        assert (st.st_uid, st.st_gid) == (uid, gid), path


@pytest.mark.parametrize("start", [as_tcpserver, as_xinetd])
def test_old_group_recipe_fails_every_message(open_site: Site, start: Starter) -> None:
    uid, gid = ids()
    # chgrp qmail /var/qmail/simscan && chmod 2770, qmaild "in group qmail"
    install_dir(open_site.work, 0, OTHER_GID, 0o2770)
    configure(open_site)
    out = open_site.run(MESSAGE, ENV, command=start(uid, gid))
    assert out.exit_code == 71
    (line,) = out.log_lines
    text = (
        rf"cannot create work dir {re.escape(str(open_site.work))}/\d+\.\d{{6}}\.\d+ "
        rf"\(Permission denied; simscan runs as uid {uid} gid {gid}, no other groups\)"
    )
    assert re.search(text.encode(), line), line
    assert out.records == []
    assert out.workdirs_left == []


def test_old_group_recipe_needs_the_group_tcpserver_drops(open_site: Site) -> None:
    """The same dir works when the group is really there: what breaks it
    is only the supplementary group that tcpserver -g took away."""
    uid, gid = ids()
    install_dir(open_site.work, 0, OTHER_GID, 0o2770)
    configure(open_site)
    command = as_tcpserver(uid, gid, groups=f"{gid},{OTHER_GID}")
    out = open_site.run(MESSAGE, ENV, command=command)
    assert out.exit_code == 0, out.stderr


# --- quarantine ---------------------------------------------------------------


def test_quarantine_dir_recipe(open_site: Site) -> None:
    uid, gid = ids()
    install_dir(open_site.work, uid, gid, 0o700)
    quarantine = open_site.root / "quarantine"
    install_dir(quarantine, uid, gid, 0o700)
    (open_site.control / "ssattach").write_text(".exe\n")
    (open_site.control / "ssattach").chmod(0o644)
    configure(open_site, attach=True, quarantinedir=str(quarantine))
    out = open_site.run(ATTACHMENT, ENV, command=as_tcpserver(uid, gid))
    assert out.exit_code == 31, out.stderr
    assert out.warnings == []
    (entry,) = quarantine.iterdir()
    assert (entry / "message").read_bytes() == ATTACHMENT
    assert entry.stat().st_uid == uid


def test_quarantine_old_group_recipe_is_a_warning(open_site: Site) -> None:
    uid, gid = ids()
    install_dir(open_site.work, uid, gid, 0o700)
    quarantine = open_site.root / "quarantine"
    install_dir(quarantine, 0, OTHER_GID, 0o2770)
    (open_site.control / "ssattach").write_text(".exe\n")
    (open_site.control / "ssattach").chmod(0o644)
    configure(open_site, attach=True, quarantinedir=str(quarantine))
    out = open_site.run(ATTACHMENT, ENV, command=as_tcpserver(uid, gid))
    assert out.exit_code == 31
    (warning,) = out.warnings
    assert warning.startswith(f"cannot quarantine in {quarantine} (".encode()), warning
    assert b"Permission denied" in warning


# --- started as root: the `user` setting ----------------------------------------


def test_started_as_root_works_as_user(open_site: Site) -> None:
    uid, gid = ids()
    install_dir(open_site.work, uid, gid, 0o700)
    configure(open_site, user="nobody")
    env = open_site.env(SIMSCAN_DEBUG_FILES="2")
    out = open_site.run(MESSAGE, ENV, env=env)  # as root, with root's groups
    assert out.exit_code == 0, out.stderr
    assert [r.message for r in out.records] == [MESSAGE]
    kept = kept_workdir(open_site)
    for path in (kept, *kept.iterdir()):
        st = path.stat()
        assert (st.st_uid, st.st_gid) == (uid, pwd.getpwnam("nobody").pw_gid), path


def test_started_as_root_the_user_needs_the_dir(open_site: Site) -> None:
    """A root-owned work dir is no use to the `user` simscan switches to."""
    uid, _ = ids()
    install_dir(open_site.work, 0, 0, 0o755)
    configure(open_site, user="nobody")
    out = open_site.run(MESSAGE, ENV)  # as root
    assert out.exit_code == 71
    # initgroups("nobody"): its primary group, and none other in /etc/group
    gid = pwd.getpwnam("nobody").pw_gid
    assert f"(Permission denied; simscan runs as uid {uid} gid {gid}, ".encode() in out.stderr


def test_not_root_user_setting_is_ignored(open_site: Site) -> None:
    """`user` acts only when started as root: a user that does not exist
    is no error for a simscan that cannot switch anyway."""
    uid, gid = ids()
    install_dir(open_site.work, uid, gid, 0o700)
    configure(open_site, user="no-such-user-here")
    out = open_site.run(MESSAGE, ENV, command=as_tcpserver(uid, gid))
    assert out.exit_code == 0, out.stderr


# --- clamd: who opens the work files -------------------------------------------


EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
VIRUS = b"From: a@example.com\nSubject: eicar\n\n" + EICAR + b"\n"
# Over the clamd below's 1 KiB StreamMaxLength: goes by FILDES.
BIG_VIRUS = b"From: a@example.com\nSubject: big\n\n" + b"x" * 4000 + b"\n" + EICAR + b"\n"


@pytest.fixture(scope="module")
def clamd_as_clamav() -> Iterator[Clamd]:
    """clamd started by root with `User clamav`, as Debian runs it: it
    opens files by path with clamav's uid and groups, unlike the suite's
    clamd (which stays root)."""
    try:
        clamav = pwd.getpwnam("clamav")
    except KeyError:
        pytest.skip("no clamav user")
    program = shutil.which("clamd") or "/usr/sbin/clamd"
    if not Path(program).exists():
        pytest.skip("clamd missing")
    root = Path(tempfile.mkdtemp(prefix="simscan-perm-clamd-"))
    root.chmod(0o755)
    db = root / "db"
    signature_database(db, root)
    for path in (db, *db.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)
    run = root / "run"
    install_dir(run, clamav.pw_uid, clamav.pw_gid, 0o755)
    clamd = Clamd(root, run / "clamd.sock", free_port(), root / "clamd.conf", db)
    clamd.conf.write_text(
        f"LocalSocket {clamd.socket}\n"
        "LocalSocketMode 666\n"
        f"DatabaseDirectory {db}\n"
        "Foreground yes\n"
        "User clamav\n"
        f"LogFile {run / 'clamd.log'}\n"
        "StreamMaxLength 1K\n"
    )
    clamd.conf.chmod(0o644)
    with open(root / "clamd.out", "wb") as log:
        clamd.process = subprocess.Popen(
            [program, f"--config-file={clamd.conf}"], stdout=log, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 60
    while not _pong(clamd):
        if clamd.process.poll() is not None or time.monotonic() > deadline:
            clamd.stop()
            shutil.rmtree(root)
            pytest.skip(f"clamd did not start: {(root / 'clamd.out').read_text()[-500:]}")
        time.sleep(0.1)
    yield clamd
    clamd.stop()
    shutil.rmtree(root)


def _pong(clamd: Clamd) -> bool:
    try:
        return bool(clamd.ask(b"PING") == b"PONG")
    except OSError:
        return False


def clamav_gid() -> int:
    return pwd.getpwnam("clamav").pw_gid


@pytest.mark.parametrize("message", [VIRUS, BIG_VIRUS], ids=["instream", "fildes"])
def test_clamd_never_needs_the_work_dir(
    open_site: Site, clamd_as_clamav: Clamd, message: bytes
) -> None:
    """INSTREAM sends the bytes, FILDES the open file: a 0700 work dir
    clamd cannot enter is fine."""
    uid, gid = ids()
    install_dir(open_site.work, uid, gid, 0o700)
    configure(open_site, clamav=True, clamd=str(clamd_as_clamav.socket))
    env = open_site.env(SIMSCAN_DEBUG="1")
    out = open_site.run(message, ENV, env=env, command=as_tcpserver(uid, gid))
    assert out.exit_code == 31, out.stderr
    assert b":VIRUS:" in out.stderr
    if message is BIG_VIRUS:
        assert b"passing the file (FILDES)" in out.stderr


def test_clamdscan_needs_clamd_in_simscans_group(open_site: Site, clamd_as_clamav: Clamd) -> None:
    """clamdscan has clamd open the work files by path: with the 0700
    recipe that is a 71 (never a pass); with 0750 and clamd in simscan's
    group (here simscan's gid *is* clamav's group) it scans."""
    uid, gid = ids()
    configure(
        open_site,
        clamav=True,
        clamav_client="clamdscan",
        clamd_conf=str(clamd_as_clamav.conf),
    )
    install_dir(open_site.work, uid, gid, 0o700)
    out = open_site.run(VIRUS, ENV, command=as_tcpserver(uid, gid))
    assert out.exit_code == 71, out.stderr
    assert b"clamdscan exited 2" in out.stderr
    assert b"Permission denied" in out.stderr  # clamd's own words
    open_site.work.rmdir()

    install_dir(open_site.work, uid, clamav_gid(), 0o750)
    out = open_site.run(VIRUS, ENV, command=as_tcpserver(uid, clamav_gid()))
    assert out.exit_code == 31, out.stderr
    clean = open_site.run(MESSAGE, ENV, command=as_tcpserver(uid, clamav_gid()))
    assert clean.exit_code == 0, clean.stderr


def test_clamdscan_setgid_dir_does_not_hand_down_the_group(
    open_site: Site, clamd_as_clamav: Clamd
) -> None:
    """`install -d -g clamav -m 2750` is not enough: each message's dir
    gets group clamav but is made 0750 (no setgid), so the files in it
    get simscan's own gid, which clamd is not in."""
    uid, gid = ids()
    configure(
        open_site,
        clamav=True,
        clamav_client="clamdscan",
        clamd_conf=str(clamd_as_clamav.conf),
    )
    install_dir(open_site.work, uid, clamav_gid(), 0o2750)
    env = open_site.env(SIMSCAN_DEBUG_FILES="1")
    out = open_site.run(VIRUS, ENV, env=env, command=as_tcpserver(uid, gid))
    assert out.exit_code == 71, out.stderr
    assert b"clamdscan exited 2" in out.stderr
    assert b"Access denied" in out.stderr  # clamd's own words
    kept = kept_workdir(open_site)
    assert kept.stat().st_gid == clamav_gid()
    assert oct(kept.stat().st_mode & 0o7777) == oct(0o750)
    assert {p.stat().st_gid for p in kept.iterdir()} == {gid}
