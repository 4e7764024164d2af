"""The Debian package: `make deb`, what is in it, lintian, and the real
thing: installed on this machine with apt-get, run as qmail-smtpd runs it,
upgraded, removed and purged.

Two packages are built once per session (`make deb` with DEB_VERSION
UPSTREAM~debtest1 and ~debtest2, for the upgrade); each build makes a
venv with cdbx, oletools and the rest, so it takes a while.

The install tests need root and change the machine (CI runs on a fresh
one): they leave it as they found it, but for the qmaild user and the
nofiles group, made when missing (as a qmail install has them), and the
simscan user, which the package makes and, as Debian does with system
users, never removes.  A simscan package installed by someone else is
never replaced: the install tests skip.
"""

from __future__ import annotations

import grp
import gzip
import importlib.util
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from daemons import EICAR, GTUBE, Clamd, Spamd
from harness import Site, envelope

from simscan import __version__
from simscan.config import settings
from simscan.mail import archive, filetype

ROOT = Path(__file__).resolve().parents[2]
PREFIX = Path("/opt/simscan")
WORKDIR = Path("/var/qmail/simscan")
CONTROL = Path("/var/qmail/control")
SETPRIV = shutil.which("setpriv") or "/usr/bin/setpriv"
SITE_PACKAGES = f"lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages"

pytestmark = [
    pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb missing: not Debian"),
    pytest.mark.skipif(
        shutil.which("dpkg-shlibdeps") is None, reason="dpkg-dev missing (scripts/install-deps)"
    ),
    pytest.mark.skipif(not Path("/usr/bin/python3").exists(), reason="no /usr/bin/python3"),
]

CLEAN = b"From: alice@example.com\nTo: bob@example.net\nSubject: packaged\n\nhello\n"
VIRUS = b"From: alice@example.com\nSubject: eicar\n\n" + EICAR + b"\n"
SPAM = b"From: alice@example.com\nSubject: gtube\n\n" + GTUBE + b"\n"
ENV = envelope(b"alice@example.com", b"bob@example.net")
ADMINS_CONFIG = b"# the admin's own settings: the package never touches them\nreceived = true\n"


@dataclass
class Built:
    path: Path
    version: str
    staging: str  # where build_deb.py staged the venv
    log: str


@dataclass
class Debs:
    old: Built
    new: Built


def arch() -> str:
    return subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()


def make_deb(out: Path, version: str) -> Built:
    done = subprocess.run(
        ["make", "-C", str(ROOT), "deb", f"DEB_OUT={out}", f"DEB_VERSION={version}"],
        capture_output=True,
        text=True,
        check=False,
    )
    print(done.stdout[-3000:], done.stderr[-3000:])
    assert done.returncode == 0, done.stderr[-3000:]
    m = re.search(r"staged in (\S+)", done.stdout)
    assert m, done.stdout
    (path,) = out.glob("*.deb")
    return Built(path, version, m.group(1), done.stdout)


@pytest.fixture(scope="session")
def debs(tmp_path_factory: pytest.TempPathFactory) -> Debs:
    out = tmp_path_factory.mktemp("deb")
    return Debs(
        make_deb(out / "old", f"{__version__}~debtest1"),
        make_deb(out / "new", f"{__version__}~debtest2"),
    )


@pytest.fixture(scope="session")
def extracted(debs: Debs, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The newer package unpacked (dpkg-deb -x), control files in DEBIAN/."""
    root = tmp_path_factory.mktemp("extracted")
    subprocess.run(["dpkg-deb", "-x", str(debs.new.path), str(root)], check=True)
    subprocess.run(["dpkg-deb", "-e", str(debs.new.path), str(root / "DEBIAN")], check=True)
    return root


def fields(deb: Path) -> dict[str, str]:
    text = subprocess.run(
        ["dpkg-deb", "-f", str(deb)], capture_output=True, text=True, check=True
    ).stdout
    return dict(re.findall(r"^([\w-]+): (.*(?:\n .*)*)", text, re.M))


# --- the package, built ------------------------------------------------------------


def test_make_deb_writes_the_package(debs: Debs) -> None:
    for built in (debs.old, debs.new):
        assert built.path.name == f"simscan_{built.version}_{arch()}.deb"
        assert built.path.stat().st_size > 1 << 20
        assert f"wrote {built.path}" in built.log


def test_control_fields(debs: Debs) -> None:
    info = subprocess.run(["dpkg-deb", "-I", str(debs.new.path)], capture_output=True, text=True)
    print(info.stdout)
    got = fields(debs.new.path)
    assert got["Package"] == "simscan"
    assert got["Version"] == debs.new.version
    assert got["Architecture"] == arch()
    assert got["Section"] == "mail"
    assert got["Maintainer"]
    assert int(got["Installed-Size"]) > 1000
    depends = [d.strip() for d in got["Depends"].split(",")]
    major, minor = sys.version_info[:2]
    for needed in (f"python3 (>= {major}.{minor})", f"python3 (<< {major}.{minor + 1})", "adduser"):
        assert needed in depends
    assert any(re.fullmatch(r"libc6 \(>= [\d.]+\)", d) for d in depends), depends
    assert [d.strip() for d in got["Recommends"].split(",")] == ["clamav-daemon", "spamd | rspamd"]
    assert got["Description"].startswith("content scanner for qmail")


@pytest.mark.parametrize("soname", [archive.LIBRARY, filetype.LIBRARY])
def test_depends_on_what_simscan_loads_with_ctypes(debs: Debs, soname: str) -> None:
    """The package that holds each library simscan opens by soname is a
    dependency (libarchive13, libmagic1 on Debian 12)."""
    found = re.search(
        rf"\s{re.escape(soname)} \(.*x86-64.*\) => (\S+)",
        subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout,
    )
    if found is None:
        pytest.skip(f"{soname} is not installed here")
    owner = subprocess.run(
        ["dpkg", "-S", os.path.realpath(found.group(1))], capture_output=True, text=True
    ).stdout.split(":")[0]
    assert owner in [d.strip() for d in fields(debs.new.path)["Depends"].split(",")]


def test_lintian_finds_no_errors(debs: Debs) -> None:
    if shutil.which("lintian") is None:
        pytest.skip("lintian missing (scripts/install-deps installs it)")
    done = subprocess.run(
        ["lintian", "--info", str(debs.new.path)], capture_output=True, text=True, check=False
    )
    print(done.stdout, done.stderr)
    tags = re.findall(r"^([EWIPX]): simscan[^:]*: (\S+)", done.stdout, re.M)
    print("lintian:", {kind: sum(1 for k, _ in tags if k == kind) for kind in "EWI"})
    assert [tag for kind, tag in tags if kind == "E"] == []
    assert done.returncode == 0, done.stdout


def test_package_layout(extracted: Path) -> None:
    assert sorted(p.name for p in extracted.iterdir()) == ["DEBIAN", "opt", "usr"]
    venv = extracted / "opt/simscan"
    for name in ("simscan", "simscanmk"):
        assert (venv / "bin" / name).stat().st_mode & 0o777 == 0o755
        assert os.readlink(extracted / "usr/sbin" / name) == f"/opt/simscan/bin/{name}"
    site = venv / SITE_PACKAGES
    assert (site / "simscan" / "cli.py").exists()
    assert (site / "cdbx").is_dir()
    gone = ["pip", "setuptools", "_distutils_hack", "distutils-precedence.pth"]
    assert [n for n in gone if (site / n).exists()] == []
    assert sorted(p.name for p in (venv / "bin").glob("pip*")) == []
    assert [str(p) for p in extracted.rglob("*.pyc")] == []
    assert [str(p) for p in extracted.rglob("__pycache__")] == []
    doc = extracted / "usr/share/doc/simscan"
    for name in ("copyright", "changelog.gz", "README.md.gz", "examples/simscan.toml"):
        assert (doc / name).is_file(), name
    for page in ("man8/simscan.8.gz", "man8/simscanmk.8.gz", "man5/simscan.toml.5.gz"):
        assert (extracted / "usr/share/man" / page).is_file(), page
    assert (extracted / "DEBIAN/md5sums").read_text().count("\n") > 100
    for script in ("postinst", "prerm", "postrm"):
        assert (extracted / "DEBIAN" / script).stat().st_mode & 0o111


def test_no_file_names_the_staging_dir(debs: Debs, extracted: Path) -> None:
    """The venv was made in a temp dir: pip wrote that path into shebangs,
    pyvenv.cfg and the activate scripts; none of it may be left."""
    needles = [b.staging.encode() for b in (debs.old, debs.new)] + [b"simscan-deb."]
    found = []
    for path in extracted.rglob("*"):
        if path.is_symlink():
            data = os.readlink(path).encode()
        elif path.is_file():
            data = path.read_bytes()
        else:
            continue
        found += [f"{path}: {n!r}" for n in needles if n in data]
    assert found == []
    venv = extracted / "opt/simscan"
    assert "command = /usr/bin/python3 -m venv /opt/simscan" in (venv / "pyvenv.cfg").read_text()
    assert (venv / "bin/simscanmk").read_text().startswith("#!/opt/simscan/bin/python3\n")
    assert (venv / "bin/simscan").read_text().startswith("#!/usr/bin/python3 -IS\n")


def test_unpacked_simscan_shows_the_package_version(debs: Debs, extracted: Path) -> None:
    """bin/simscan finds its package beside itself, wherever the tree is."""
    out = subprocess.run(
        [str(extracted / "opt/simscan/bin/simscan"), "-v"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert re.fullmatch(
        rf"simscan version: {re.escape(__version__)} \(build ([\w.-]+, )?deb "
        rf"{re.escape(debs.new.version)}\)\n",
        out.stdout,
    ), out.stdout


# --- man pages and the sample ------------------------------------------------------


def man_pages(extracted: Path) -> list[Path]:
    return sorted((extracted / "usr/share/man").rglob("*.gz"))


def test_man_pages_render_without_warnings(extracted: Path) -> None:
    if shutil.which("man") is None or shutil.which("groff") is None:
        pytest.skip("man-db or groff missing (scripts/install-deps installs them)")
    env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80")
    assert len(man_pages(extracted)) == 3
    for page in man_pages(extracted):
        # as lintian checks them
        done = subprocess.run(
            ["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", str(page)],
            capture_output=True,
            env=env,
        )
        assert done.returncode == 0
        assert done.stderr == b"", (page, done.stderr)
        done = subprocess.run(
            ["groff", "-man", "-Tutf8", "-ww", "-z"],
            input=gzip.decompress(page.read_bytes()),
            capture_output=True,
        )
        assert done.stderr == b"", (page, done.stderr)


def rendered(page: Path) -> str:
    env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="100")
    return subprocess.run(
        ["man", "-l", str(page)], capture_output=True, text=True, env=env, check=True
    ).stdout


def test_simscan_toml_5_lists_every_setting(extracted: Path) -> None:
    if shutil.which("man") is None:
        pytest.skip("man-db missing")
    text = rendered(extracted / "usr/share/man/man5/simscan.toml.5.gz")
    tags = re.findall(r"^ {7}(\w+)(?: |$)", text, re.M)
    missing = [n for n in settings.names() if n not in tags]
    assert missing == []
    assert "/usr/share/doc/simscan/examples/simscan.toml" in text


def test_simscan_8_has_the_sections_an_admin_needs(extracted: Path) -> None:
    if shutil.which("man") is None:
        pytest.skip("man-db missing")
    text = rendered(extracted / "usr/share/man/man8/simscan.8.gz")
    headings = re.findall(r"^([A-Z][A-Z ,/:-]+)$", text, re.M)
    for needed in ("NAME", "SYNOPSIS", "DESCRIPTION", "WIRING IT INTO QMAIL", "THE LOG LINE"):
        assert needed in headings
    assert "THE WORK DIR, AND WHO SIMSCAN RUNS AS" in headings
    assert "DEVELOPMENT" not in headings and "INSTALLING" not in headings
    assert "simscan check [--from ADDR]" in text
    mk = rendered(extracted / "usr/share/man/man8/simscanmk.8.gz")
    assert "simscanmk [-g]" in mk and "simcontrol.cdb" in mk


def test_sample_simscan_toml_is_every_default(extracted: Path) -> None:
    """Each setting is there as `#name = DEFAULT`: as shipped the file sets
    nothing, and with every line uncommented it sets the defaults."""
    path = extracted / "usr/share/doc/simscan/examples/simscan.toml"
    text = path.read_text()
    assert settings.from_text(text, str(path)) == settings.Settings()
    commented = re.findall(r"^#(\w+) = ", text, re.M)
    assert sorted(commented) == sorted(settings.names())  # each once
    uncommented = re.sub(r"^#(\w+ = )", r"\1", text, flags=re.M)
    assert settings.from_text(uncommented, str(path)) == settings.Settings()
    # each carries the C option it replaces, or says it is new
    for name in settings.names():
        comment = text.split(f"\n#{name} = ")[0].rsplit("\n\n", 1)[-1]
        assert comment.startswith(("# --enable-", "# new:", "# (", "# messages")), name


def test_readme_settings_table_matches_the_code() -> None:
    """The man page and the sample come from README.md's table; its
    defaults are the code's (packaging/docgen.py refuses to build else)."""
    spec = importlib.util.spec_from_file_location("docgen", ROOT / "packaging" / "docgen.py")
    assert spec and spec.loader
    docgen = importlib.util.module_from_spec(spec)
    sys.modules["docgen"] = docgen  # (its dataclasses look themselves up there)
    spec.loader.exec_module(docgen)
    assert docgen.check_table((ROOT / "README.md").read_text()) == []


# --- installed on this machine -------------------------------------------------------


def dpkg_state() -> tuple[str, str]:
    done = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}\t${Version}", "simscan"], capture_output=True, text=True
    )
    if done.returncode != 0:
        return "", ""
    status, _, version = done.stdout.partition("\t")
    return status, version


def apt(*args: str) -> str:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    done = subprocess.run(
        ["apt-get", "-y", "-o", "DPkg::Lock::Timeout=300", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    print(done.stdout[-4000:], done.stderr[-4000:])
    assert done.returncode == 0, done.stderr
    return done.stdout


def install(built: Built) -> str:
    return apt("install", "--no-install-recommends", "--allow-downgrades", str(built.path))


def stamp(path: Path) -> tuple[bytes, int, int]:
    st = path.stat()
    return path.read_bytes(), st.st_mtime_ns, st.st_ino


def tree(root: Path) -> dict[str, tuple[int, int, int, int]]:
    """Every entry under root: mode, owner, size, mtime."""
    out = {}
    for path in [root, *root.rglob("*")]:
        st = path.lstat()
        out[str(path)] = (st.st_mode, st.st_uid, st.st_size, st.st_mtime_ns)
    return out


def simscan_version() -> str:
    return subprocess.run(
        ["/usr/sbin/simscan", "-v"], capture_output=True, text=True, check=True
    ).stdout


def missing_bytecode() -> list[str]:
    """Modules of the installed venv without their unchecked-hash .pyc
    (the postinst's; flags 1 in the header: hash-based, never checked)."""
    missing = []
    for source in (PREFIX / SITE_PACKAGES).rglob("*.py"):
        compiled = Path(importlib.util.cache_from_source(str(source)))
        if not compiled.exists():
            missing.append(str(source))
        elif compiled.read_bytes()[4:8] != b"\x01\x00\x00\x00":
            missing.append(f"{compiled} (not unchecked-hash)")
    return missing


@dataclass
class Machine:
    """What the install tests made, to be undone."""

    qmaild: tuple[int, int]
    made: list[Path] = field(default_factory=list)  # files and dirs, in order made
    workdir_was_there: bool = False
    bin_was_there: bool = False

    def config(self) -> Path:
        return CONTROL / "simscan.toml"

    def ensure_installed(self, built: Built | None = None) -> None:
        status, version = dpkg_state()
        if status == "install ok installed" and (built is None or version == built.version):
            return
        assert built is not None
        install(built)

    def purge(self) -> None:
        if dpkg_state()[0]:
            apt("purge", "simscan")


def _account(kind: str, name: str) -> bool:
    try:
        (pwd.getpwnam if kind == "user" else grp.getgrnam)(name)
    except KeyError:
        return False
    return True


@pytest.fixture(scope="module")
def machine(debs: Debs) -> Iterator[Machine]:
    if os.geteuid() != 0:
        pytest.skip("installing a package needs root")
    if not Path(SETPRIV).exists() or shutil.which("apt-get") is None:
        pytest.skip("setpriv or apt-get missing")
    status, version = dpkg_state()
    if status and version not in (debs.old.version, debs.new.version):
        pytest.skip(f"simscan {version} is installed here: not replaced by the tests")
    # qmail's own ids, as a qmail install makes them (left in place)
    if not _account("group", "nofiles"):
        subprocess.run(["groupadd", "--system", "nofiles"], check=True)
    if not _account("user", "qmaild"):
        subprocess.run(
            ["useradd", "--system", "--gid", "nofiles", "--home-dir", "/var/qmail",
             "--no-create-home", "--shell", "/usr/sbin/nologin", "qmaild"],
            check=True,
        )  # fmt: skip
    m = Machine((pwd.getpwnam("qmaild").pw_uid, grp.getgrnam("nofiles").gr_gid))
    m.purge()  # a previous run's, killed before it cleaned up
    m.workdir_was_there = WORKDIR.exists()
    m.bin_was_there = Path("/var/qmail/bin").exists()
    for d in (CONTROL.parent, CONTROL):
        if not d.exists():
            d.mkdir(mode=0o755)
            m.made.append(d)
    if not m.config().exists():
        m.config().write_bytes(ADMINS_CONFIG)
        m.made.append(m.config())
    yield m
    m.purge()
    if not m.workdir_was_there and WORKDIR.is_dir() and not any(WORKDIR.iterdir()):
        WORKDIR.rmdir()
    for path in reversed(m.made):
        if path.is_dir():
            if path.exists() and not any(path.iterdir()):
                path.rmdir()
        else:
            path.unlink(missing_ok=True)


def test_install_runs_the_postinst(machine: Machine, debs: Debs) -> None:
    before = stamp(machine.config())
    machine.purge()
    out = install(debs.old)
    assert dpkg_state() == ("install ok installed", debs.old.version)
    # the simscan user (the `user` setting's default), a system user
    user = pwd.getpwnam("simscan")
    assert user.pw_uid < 1000
    assert grp.getgrgid(user.pw_gid).gr_name == "simscan"
    # the work dir, for qmail-smtpd's user: qmaild:nofiles when no run
    # script says otherwise (as `simscan config` reads them)
    from simscan.admin import smtpd

    if not machine.workdir_was_there and smtpd.identity(None) is None:
        st = WORKDIR.stat()
        assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (*machine.qmaild, 0o700)
        assert f"created {WORKDIR} for qmaild:nofiles (mode 0700)" in out
    # the links, the version, the byte-code
    assert os.readlink("/usr/sbin/simscan") == "/opt/simscan/bin/simscan"
    assert f"deb {debs.old.version})" in simscan_version()
    assert missing_bytecode() == []
    # the admin's files: untouched; /var/qmail/bin: not made
    assert stamp(machine.config()) == before
    assert Path("/var/qmail/bin").exists() == machine.bin_was_there


def workdir_for_qmaild(machine: Machine, tmp: Path) -> Path:
    """The postinst's work dir when it made it, else one like it."""
    if not machine.workdir_was_there and WORKDIR.exists():
        return WORKDIR
    work = tmp / "work"
    subprocess.run(
        ["install", "-d", "-o", "qmaild", "-g", "nofiles", "-m", "0700", str(work)], check=True
    )
    return work


def test_installed_simscan_scans_as_qmaild(
    machine: Machine, debs: Debs, clamd: Clamd, spamd: Spamd
) -> None:
    """/usr/sbin/simscan started as `tcpserver -u qmaild -g nofiles`
    starts it, against the real clamd and spamd, with a settings file in a
    temp dir: a clean message is queued, EICAR and GTUBE refused, and
    nothing is written under /opt/simscan, not even by a run as root (the
    postinst's .pyc are used as they are)."""
    machine.ensure_installed(debs.new)
    root = Path(tempfile.mkdtemp(prefix="simscan-deb-site-"))
    try:
        root.chmod(0o755)
        site = Site(root)
        site.control.chmod(0o755)
        site.queue.chmod(0o1777)  # the recording qmail-queue runs as qmaild
        site.work = workdir_for_qmaild(machine, root)
        site.configure(clamav=True, clamd=clamd.tcp, spam=True, spamd=spamd.tcp)
        site.config.chmod(0o644)
        as_qmaild = [SETPRIV, "--reuid=qmaild", "--regid=nofiles", "--clear-groups"]
        command = [*as_qmaild, "/usr/sbin/simscan"]
        before = tree(PREFIX)

        clean = site.run(CLEAN, ENV, command=command)
        assert clean.exit_code == 0, clean.stderr
        assert len(clean.records) == 1
        assert b":CLEAN" in clean.log_lines[0]
        site.clear_queue()

        virus = site.run(VIRUS, ENV, command=command)
        assert virus.exit_code == 31, virus.stderr
        assert b":VIRUS:" in virus.log_lines[0]
        assert virus.records == []

        spam = site.run(SPAM, ENV, command=command)
        assert spam.exit_code == 31, spam.stderr
        assert b":SPAM REJECT" in spam.log_lines[0]

        # root could write .pyc, and would if those there did not do
        as_root = site.run(CLEAN, ENV, command=["/usr/sbin/simscan"])
        assert as_root.exit_code == 0, as_root.stderr
        config = subprocess.run(
            ["/usr/sbin/simscan", "config"], env=site.env(), capture_output=True, text=True
        )
        assert "simscan.toml" in config.stdout, config.stderr

        for out in (clean, virus, spam, as_root):
            assert out.workdirs_left == []
        assert tree(PREFIX) == before  # no .pyc written, nothing else either
    finally:
        shutil.rmtree(root)


def test_postinst_without_qmail_gives_the_work_dir_to_simscan(
    machine: Machine, debs: Debs, extracted: Path, tmp_path: Path
) -> None:
    """The packaged postinst, pointed at a work dir in a temp dir, on a
    host where getent knows no qmaild and no nofiles: the dir is made for
    the simscan user (what works when qmail-smtpd starts as root), 0750,
    and the output says how to give it to qmaild.  A configure after an
    earlier version (an upgrade) makes no work dir at all."""
    machine.ensure_installed(debs.new)
    from simscan.admin import smtpd

    if smtpd.identity(None) is not None:
        pytest.skip("a qmail-smtpd run script here names the user")
    work = tmp_path / "simscan"
    script = tmp_path / "postinst"
    text = (extracted / "DEBIAN/postinst").read_text()
    assert "\nWORKDIR=/var/qmail/simscan\n" in text
    script.write_text(text.replace("\nWORKDIR=/var/qmail/simscan\n", f"\nWORKDIR={work}\n"))
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "getent").write_text(
        '#!/bin/sh\ncase "$2" in qmaild|nofiles) exit 2;; esac\nexec /usr/bin/getent "$@"\n'
    )
    (fake / "getent").chmod(0o755)
    env = {"PATH": f"{fake}:/usr/sbin:/usr/bin:/sbin:/bin"}

    done = subprocess.run(
        ["sh", str(script), "configure", debs.old.version], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert not work.exists()

    done = subprocess.run(
        ["sh", str(script), "configure", ""], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    print(done.stdout)
    simscan = pwd.getpwnam("simscan")
    st = work.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (simscan.pw_uid, simscan.pw_gid, 0o750)
    assert f"install -d -o qmaild -g nofiles -m 0700 {work}" in done.stdout
    assert missing_bytecode() == []


def test_postinst_gives_the_work_dir_to_the_user_a_run_script_names(
    machine: Machine, debs: Debs, extracted: Path, tmp_path: Path
) -> None:
    """The packaged postinst reads qmail-smtpd's user as `simscan config`
    does; here from a daemontools run script in a temp dir (the postinst
    reads the usual places), which says `tcpserver -u nobody -g nogroup`."""
    machine.ensure_installed(debs.new)
    run = tmp_path / "run"
    run.write_text(
        "#!/bin/sh\nQMAILDUID=`id -u nobody`\nNOFILESGID=`id -g nobody`\n"
        'exec tcpserver -v -R -u "$QMAILDUID" -g "$NOFILESGID" 0 smtp qmail-smtpd 2>&1\n'
    )
    work = tmp_path / "simscan"
    text = (extracted / "DEBIAN/postinst").read_text()
    for old, new in (
        ("\nWORKDIR=/var/qmail/simscan\n", f"\nWORKDIR={work}\n"),
        ("smtpd.identity(None)", f'smtpd.identity(None, scripts=("{run}",))'),  # ('...' in sh)
    ):
        assert old in text
        text = text.replace(old, new)
    script = tmp_path / "postinst"
    script.write_text(text)
    done = subprocess.run(["sh", str(script), "configure", ""], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    nobody = pwd.getpwnam("nobody")
    st = work.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (nobody.pw_uid, nobody.pw_gid, 0o700)
    assert f"created {work}, owned by uid {nobody.pw_uid} gid {nobody.pw_gid}" in done.stdout
    assert f"({run}: tcpserver -u -g)" in done.stdout


def test_upgrade_keeps_configuration_and_work_dir(machine: Machine, debs: Debs) -> None:
    machine.ensure_installed(debs.old)
    assert f"deb {debs.old.version})" in simscan_version()
    config = stamp(machine.config())
    WORKDIR.mkdir(exist_ok=True)
    work = WORKDIR.stat()
    marker = WORKDIR / "kept-by-the-upgrade"
    marker.write_text("a message dir would be here\n")
    try:
        out = install(debs.new)
        assert f"Unpacking simscan ({debs.new.version}) over ({debs.old.version})" in out
        assert "created" not in out  # the postinst left the work dir alone
        assert dpkg_state() == ("install ok installed", debs.new.version)
        assert f"deb {debs.new.version})" in simscan_version()
        assert stamp(machine.config()) == config
        after = WORKDIR.stat()
        assert (after.st_uid, after.st_gid, after.st_mode) == (
            work.st_uid,
            work.st_gid,
            work.st_mode,
        )
        assert marker.exists()
        assert missing_bytecode() == []  # the old prerm removed them, the new postinst made them
    finally:
        marker.unlink()


def test_remove_and_purge_leave_the_control_dir_alone(machine: Machine, debs: Debs) -> None:
    machine.ensure_installed(debs.new)
    control = tree(CONTROL)
    apt("remove", "simscan")
    assert dpkg_state()[0].startswith("deinstall ok config-files")
    assert not PREFIX.exists()  # prerm took the byte-code, so dpkg could take the dirs
    assert not Path("/usr/sbin/simscan").exists()
    assert WORKDIR.is_dir()  # remove keeps it
    assert tree(CONTROL) == control

    mail = WORKDIR / "1700000000.123456.42"
    mail.mkdir()
    try:
        apt("purge", "simscan")
        assert dpkg_state()[0] == ""
        assert mail.is_dir()  # somebody's mail: the work dir stays
        assert tree(CONTROL) == control
    finally:
        mail.rmdir()
    assert _account("user", "simscan")  # Debian leaves system users

    # The dir the package made stays with the mail in it; once the admin
    # has dealt with that, it is a dir that was there before the next
    # install, which leaves it and whose purge leaves it too.
    assert WORKDIR.is_dir()
    install(debs.new)
    apt("purge", "simscan")
    assert WORKDIR.is_dir()
    if not machine.workdir_was_there:
        shutil.rmtree(WORKDIR)
        install(debs.new)  # made by the package this time
        assert WORKDIR.is_dir()
        (WORKDIR / ".health").mkdir(exist_ok=True)  # simscan's own marks are no mail
        (WORKDIR / ".health" / "127.0.0.1:783").write_text("")
        apt("purge", "simscan")
        assert not WORKDIR.exists()  # nothing but simscan's own: purged
    assert tree(CONTROL) == control


def test_purge_leaves_a_work_dir_it_did_not_make(machine: Machine, debs: Debs) -> None:
    """The C simscan's /var/qmail/simscan (simscan:simscan 0750), there
    before the package: the postinst leaves it and says so, and a purge
    (an admin going back to the C program) must not take it, empty or not."""
    machine.purge()
    made_here = not WORKDIR.exists()
    if made_here:
        WORKDIR.mkdir(parents=True, mode=0o750)
    try:
        out = install(debs.new)
        assert f"simscan: {WORKDIR} is there already and is left as it is;" in out
        (WORKDIR / ".health").mkdir(exist_ok=True)
        apt("purge", "simscan")
        assert WORKDIR.is_dir()
        assert not Path("/var/lib/simscan").exists()
    finally:
        if made_here:
            shutil.rmtree(WORKDIR)
        else:
            shutil.rmtree(WORKDIR / ".health")


def test_postinst_under_umask_077_leaves_byte_code_others_can_read(
    machine: Machine, debs: Debs
) -> None:
    """qmail-smtpd's user must read the .pyc the postinst makes as root."""
    machine.purge()
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    done = subprocess.run(
        ["sh", "-c", f"umask 077 && apt-get -y install --no-install-recommends {debs.new.path}"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    caches = list(PREFIX.rglob("__pycache__"))
    assert caches
    for cache in caches:
        assert cache.stat().st_mode & 0o005 == 0o005, cache
        for pyc in cache.iterdir():
            assert pyc.stat().st_mode & 0o004, pyc
