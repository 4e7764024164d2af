"""`make deb`: simscan as a Debian package, with its own venv in /opt/simscan.

dh-virtualenv's model, with dpkg-deb alone: a venv made by the system
python3 (the one bin/simscan's `#!/usr/bin/python3 -IS` names) holding
simscan and the wheels it needs from PyPI (cdbx, oletools, ...), so the
package needs no pip at install time and nothing outside Debian's own
packages at run time.

    /usr/bin/python3 packaging/build_deb.py [--version V] [--out DIR]

The steps, and what each one guards against:

- The source is copied first (tracked and untracked files, not .git or
  what .gitignore names): setuptools writes build/ and *.egg-info where it
  builds, and the checkout stays clean.  `git describe` of the checkout
  and the package version reach `simscan -v` through $SIMSCAN_BUILD
  (setup.py).
- The venv is made at STAGE/opt/simscan and then made to believe it was
  made at /opt/simscan: pip writes the full staging path into script
  shebangs, pyvenv.cfg and the activate scripts; those are rewritten, and
  the build fails if the staging path is still in any file.
- pip and setuptools are removed from the venv: simscan needs neither at
  run time, and setuptools' .pth file would cost every start ~0.8 ms.
- No .pyc is shipped: the postinst compiles them (see packaging/deb/postinst
  for why), so every file must compile; the few a dependency ships for
  Python 2 only (olefile's olefile2.py), which Python 3 cannot import
  anyway, are left out, and said so.
- Depends: dpkg-shlibdeps on the venv's compiled modules (libc6, ...),
  plus what simscan loads through ctypes (libarchive13, libmagic1) and the
  python3 the venv is bound to (3.11: lib/python3.11, cp311 modules).
"""

from __future__ import annotations

import argparse
import email.message
import email.parser
import gzip
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEB = Path(__file__).resolve().parent / "deb"
PYTHON = "/usr/bin/python3"
PREFIX = "/opt/simscan"
PACKAGE = "simscan"
SCRIPTS = ("postinst", "prerm", "postrm")
KEEP_BIN = ("simscan", "simscanmk")  # and the venv's own python* and activate*
# libarchive13 and libmagic1: loaded through ctypes (mail/archive.py,
# mail/filetype.py), which dpkg-shlibdeps cannot see; adduser: the postinst.
DEPENDS = ["libarchive13", "libmagic1", "adduser"]
RECOMMENDS = ["clamav-daemon", "spamd | rspamd"]
SUGGESTS = ["clamdscan", "spamc", "ucspi-tcp", "daemontools"]
DESCRIPTION = "content scanner for qmail (simscan rebuilt in Python)"
# Debian versions this build makes: native (no revision), so no "-".
VERSION_RE = re.compile(r"[0-9][A-Za-z0-9.+~]*")


def say(text: str) -> None:
    print(f"build_deb: {text}", flush=True)


def run(argv: list[str | Path], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], check=True, text=True, **kw)  # type: ignore[call-overload, no-any-return]


def git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


# --- versions ------------------------------------------------------------------


def upstream_version() -> str:
    text = (ROOT / "src" / "simscan" / "__init__.py").read_text()
    m = re.search(r'^__version__ = "([^"]+)"', text, re.M)
    if not m:
        raise SystemExit("build_deb: no __version__ in src/simscan/__init__.py")
    return m.group(1)


def default_version(upstream: str) -> str:
    """UPSTREAM at its own tag; a snapshot otherwise: UPSTREAM~gitN.SHA
    before UPSTREAM's tag exists (it sorts below the release),
    UPSTREAM+gitN.SHA after it (above).  N is the commit count, so later
    snapshots sort later; `.dirty` for uncommitted changes."""
    sha = git("rev-parse", "--short", "HEAD")
    if sha is None:
        return upstream
    dirty = ".dirty" if git("status", "--porcelain", "--untracked-files=no") else ""
    for tag in (f"v{upstream}", upstream):
        if git("rev-parse", "-q", "--verify", f"refs/tags/{tag}") is not None:
            if git("describe", "--tags", "--exact-match", "--match", tag) and not dirty:
                return upstream
            return f"{upstream}+git{git('rev-list', '--count', 'HEAD')}.{sha}{dirty}"
    return f"{upstream}~git{git('rev-list', '--count', 'HEAD')}.{sha}{dirty}"


def source_date() -> int:
    """SOURCE_DATE_EPOCH, else the last commit's time: the man pages' date,
    the changelog's, and every file's mtime in the package."""
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return int(os.environ["SOURCE_DATE_EPOCH"])
    stamp = git("log", "-1", "--format=%ct")
    return int(stamp) if stamp else int(time.time())


def maintainer() -> str:
    """$DEB_MAINTAINER, else the author of the commit built."""
    return (
        os.environ.get("DEB_MAINTAINER")
        or git("log", "-1", "--format=%an <%ae>")
        or "simscan builder <root@localhost.localdomain>"
    )


# --- the venv --------------------------------------------------------------------


def copy_source(dest: Path) -> None:
    listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard")
    if listed is None:
        ignore = shutil.ignore_patterns(
            ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__"
        )
        shutil.copytree(ROOT, dest, ignore=ignore, symlinks=True)
        return
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the work tree, not yet in git
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)


def make_venv(src: Path, venv: Path, build_id: str) -> None:
    run([PYTHON, "-m", "venv", venv])
    env = dict(os.environ, SIMSCAN_BUILD=build_id, PIP_DISABLE_PIP_VERSION_CHECK="1")
    run([venv / "bin" / "python3", "-m", "pip", "install", "-q", "--no-compile", src], env=env)
    run([venv / "bin" / "python3", "-m", "pip", "uninstall", "-q", "-y", "pip", "setuptools"])
    for path in sorted(venv.rglob("__pycache__"), reverse=True):
        shutil.rmtree(path)
    # Nothing builds against this venv; and where a wheel came from
    # (file:///tmp/...) is this build's business.
    shutil.rmtree(venv / "include", ignore_errors=True)
    (venv / "bin" / "Activate.ps1").unlink(missing_ok=True)
    for found in venv.glob("lib/python3*/site-packages/*.dist-info/direct_url.json"):
        found.unlink()


def trim(venv: Path) -> None:
    """What a qmail host does not run: the console scripts of simscan's
    dependencies (oletools' olevba & co. stay importable: `python3 -m
    oletools.olevba`), and #! lines of modules that are not programs
    (turned into empty comments, so line numbers stay).  Compiled modules
    are stripped as dh_strip would."""
    for path in (venv / "bin").iterdir():
        if path.name not in KEEP_BIN and not path.name.startswith(("python", "activate")):
            path.unlink()
    site = next(venv.glob("lib/python3*/site-packages"))
    for path in site.rglob("*.py"):
        if path.stat().st_mode & 0o111:
            continue
        with open(path, "rb") as f:
            first = f.readline()
        if first.startswith(b"#!"):
            data = path.read_bytes()
            path.write_bytes(b"#" + b"\n" * first.endswith(b"\n") + data[len(first) :])
    for path in elf_files(venv):
        run(["strip", "--strip-unneeded", "--remove-section=.comment", "--remove-section=.note",
             path])  # fmt: skip


def elf_files(root: Path) -> list[Path]:
    found = []
    for path in root.rglob("*.so*"):
        if path.is_file() and not path.is_symlink():
            with open(path, "rb") as f:
                if f.read(4) == b"\x7fELF":
                    found.append(path)
    return found


def relocate(stage: Path, venv: Path) -> None:
    """Rewrite STAGE/opt/simscan to /opt/simscan where pip and venv wrote
    it; then no file may still name the staging dir."""
    old = str(venv).encode()
    new = PREFIX.encode()
    rewritten = [venv / "pyvenv.cfg", *(venv / "bin").iterdir()]
    for path in rewritten:
        if path.is_symlink() or not path.is_file():
            continue
        data = path.read_bytes()
        if old in data:
            path.write_bytes(data.replace(old, new))
    left = staging_path_in(stage, str(stage))
    if left:
        raise SystemExit(f"build_deb: the staging path is still in {', '.join(left)}")


def staging_path_in(root: Path, needle: str) -> list[str]:
    """Files under root whose bytes (or link targets) contain needle."""
    found = []
    for path in root.rglob("*"):
        if path.is_symlink():
            if needle in os.readlink(path):
                found.append(str(path.relative_to(root)))
        elif path.is_file() and needle.encode() in path.read_bytes():
            found.append(str(path.relative_to(root)))
    return found


def drop_python2_files(venv: Path) -> None:
    """compileall as the postinst runs it; a file that does not compile
    cannot be imported either, so it goes (and the postinst stays quiet)."""
    site = next(venv.glob("lib/python3*/site-packages"))
    argv = [venv / "bin" / "python3", "-I", "-m", "compileall", "-q", "-f", site]
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True)
    for name in re.findall(r"\*\*\* Error compiling '([^']+)'", done.stdout):
        say(f"left out {Path(name).relative_to(site)}: not Python 3 (it cannot be imported)")
        Path(name).unlink()
    run(argv, capture_output=True)  # now it must compile whole
    for path in sorted(venv.rglob("__pycache__"), reverse=True):
        shutil.rmtree(path)


# --- the package around it ----------------------------------------------------------


def gzip_to(data: bytes, target: Path) -> None:
    """gzip -9n: no name, no time stamp (lintian and reproducible builds)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as raw, gzip.GzipFile("", "wb", 9, raw, mtime=0) as f:
        f.write(data)


def docs(stage: Path, version: str, date: int, build_id: str) -> None:
    day = time.strftime("%Y-%m-%d", time.gmtime(date))
    with tempfile.TemporaryDirectory() as tmp:
        # -B: docgen imports simscan from src/; no __pycache__ in the checkout
        docgen = [PYTHON, "-B", ROOT / "packaging" / "docgen.py", tmp]
        run([*docgen, "--version", version, "--date", day])
        out = Path(tmp)
        for name, section in (("simscan.8", 8), ("simscanmk.8", 8), ("simscan.toml.5", 5)):
            gzip_to((out / name).read_bytes(), stage / f"usr/share/man/man{section}/{name}.gz")
        doc = stage / "usr/share/doc" / PACKAGE
        (doc / "examples").mkdir(parents=True)
        shutil.copy(out / "simscan.toml", doc / "examples" / "simscan.toml")
    gzip_to((ROOT / "README.md").read_bytes(), doc / "README.md.gz")
    gzip_to((ROOT / "docs" / "design.md").read_bytes(), doc / "design.md.gz")
    gzip_to(changelog(version, date, build_id).encode(), doc / "changelog.gz")
    (doc / "copyright").write_text(copyright_file(stage))
    overrides = stage / "usr/share/lintian/overrides" / PACKAGE
    overrides.parent.mkdir(parents=True)
    shutil.copy(DEB / "lintian-overrides", overrides)


def changelog(version: str, date: int, build_id: str) -> str:
    stamp = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(date))
    built = f"simscan {upstream_version()}" + (
        f", git {build_id.split(',')[0]}" if build_id else ""
    )
    return (
        f"{PACKAGE} ({version}) unstable; urgency=medium\n\n"
        f"  * Built from {built}.\n"
        "    The changes are in the project's git history.\n\n"
        f" -- {maintainer()}  {stamp}\n"
    )


def copyright_file(stage: Path) -> str:
    """DEP-5: simscan, then each distribution bundled in the venv (the
    files its RECORD lists), with the license its metadata names and
    where its license text is."""
    out = [(DEB / "copyright").read_text().rstrip("\n").replace("@YEARS@", years())]
    site = next((stage / PREFIX.lstrip("/")).glob("lib/python3*/site-packages"))
    for info in sorted(site.glob("*.dist-info"), key=lambda p: p.name.lower()):
        meta = email.parser.Parser().parsestr((info / "METADATA").read_text(errors="replace"))
        if meta["Name"] == PACKAGE:
            continue
        files = sorted({f"{info.name}/*", *installed_tops(site, info)})
        texts = sorted(
            p.relative_to(stage)
            for p in info.rglob("*")
            if p.is_file() and re.match(r"(LICEN[CS]E|COPYING|NOTICE)", p.name, re.I)
        )
        out += [
            "",
            "Files: " + "\n ".join(f"{site.relative_to(stage)}/{f}" for f in files),
            "Copyright: its authors, as its license files say",
            f"License: {license_name(meta)}",
            " The license text:" + ("".join(f"\n /{t}" for t in texts) or " see its METADATA"),
            f"Comment: {meta['Name']} {meta['Version']}, from PyPI",
        ]
    return "\n".join(out) + "\n"


def installed_tops(site: Path, info: Path) -> set[str]:
    """What a distribution put in site-packages, by its RECORD: each
    top-level file, and each top-level dir as `dir/*`."""
    tops = set()
    for line in (info / "RECORD").read_text().splitlines():
        name = line.rsplit(",", 2)[0]
        if not name or name.startswith("..") or name.startswith(info.name):
            continue
        first = name.split("/")[0]
        if "/" in name:
            tops.add(f"{first}/*")
        elif (site / first).exists():
            tops.add(first)
    return tops


def years() -> str:
    """The years of the project's commits, for its copyright line."""
    stamps = (git("log", "--format=%ad", "--date=format:%Y") or "").split()
    if not stamps:
        return time.strftime("%Y", time.gmtime(source_date()))
    first, last = min(stamps), max(stamps)
    return first if first == last else f"{first}-{last}"


def license_name(meta: email.message.Message) -> str:
    if meta.get("License-Expression"):
        return str(meta["License-Expression"])
    classifiers = [c.rsplit(" :: ", 1)[-1] for c in meta.get_all("Classifier") or []
                   if c.startswith("License ::")]  # fmt: skip
    short = (meta.get("License") or "").strip()
    if short and "\n" not in short and len(short) < 60:
        return short
    return " or ".join(classifiers) or "see its license file"


def symlinks(stage: Path) -> None:
    sbin = stage / "usr/sbin"
    sbin.mkdir(parents=True)
    for name in ("simscan", "simscanmk"):
        (sbin / name).symlink_to(f"{PREFIX}/bin/{name}")


def shlib_depends(work: Path, stage: Path) -> list[str]:
    """dpkg-shlibdeps over the venv's ELF files (it wants debian/control)."""
    elves = elf_files(stage)
    if not elves:
        return []
    if shutil.which("dpkg-shlibdeps") is None:
        raise SystemExit("build_deb: dpkg-shlibdeps missing: apt-get install dpkg-dev")
    (work / "debian").mkdir(exist_ok=True)
    (work / "debian" / "control").write_text(
        f"Source: {PACKAGE}\n\nPackage: {PACKAGE}\nArchitecture: any\n"
    )
    done = run(
        ["dpkg-shlibdeps", "-O", *(f"-e{p}" for p in elves)],
        cwd=work, capture_output=True,
    )  # fmt: skip
    m = re.search(r"^shlibs:Depends=(.*)$", done.stdout, re.M)
    return [d.strip() for d in m.group(1).split(",")] if m else []


def python_depends(venv: Path) -> list[str]:
    site = next(venv.glob("lib/python3.*/site-packages"))
    major, minor = site.parent.name.removeprefix("python").split(".")
    return [f"python3 (>= {major}.{minor})", f"python3 (<< {major}.{int(minor) + 1})"]


def normalize(stage: Path, date: int) -> None:
    """Modes as Debian wants them (0755 dirs and programs, 0644 the rest)
    and one mtime for all (SOURCE_DATE_EPOCH)."""
    for path in [stage, *stage.rglob("*")]:
        if path.is_symlink():
            os.utime(path, (date, date), follow_symlinks=False)
            continue
        if path.is_dir():
            path.chmod(0o755)
        else:
            path.chmod(0o755 if path.stat().st_mode & 0o111 else 0o644)
        os.utime(path, (date, date))


def installed_size(stage: Path) -> int:
    """As dpkg-gencontrol counts it: KiB per file, rounded up, and 1 per
    directory and symlink."""
    total = 0
    for path in stage.rglob("*"):
        if path.is_relative_to(stage / "DEBIAN"):
            continue
        if path.is_symlink() or path.is_dir():
            total += 1
        else:
            total += (path.stat().st_size + 1023) // 1024
    return total


def control(stage: Path, version: str, arch: str, depends: list[str]) -> str:
    intro = (ROOT / "README.md").read_text().split("\n\n")[1]  # what simscan is
    long = "\n".join(" " + ln for ln in textwrap.wrap(" ".join(intro.split()), 72))
    fields = {
        "Package": PACKAGE,
        "Version": version,
        "Architecture": arch,
        "Maintainer": maintainer(),
        "Installed-Size": str(installed_size(stage)),
        "Depends": ", ".join(dict.fromkeys(depends)),
        "Recommends": ", ".join(RECOMMENDS),
        "Suggests": ", ".join(SUGGESTS),
        "Section": "mail",
        "Priority": "optional",
        "Description": DESCRIPTION + "\n" + long + "\n .\n"
        f" The package is a Python venv in {PREFIX} with the PyPI packages simscan\n"
        " needs (cdbx, oletools, prometheus_client), and /usr/sbin/simscan and\n"
        " /usr/sbin/simscanmk.",
    }
    return "".join(f"{k}: {v}\n" for k, v in fields.items())


def md5sums(stage: Path) -> str:
    lines = []
    for path in sorted(stage.rglob("*")):
        if (
            path.is_file()
            and not path.is_symlink()
            and "DEBIAN" not in path.relative_to(stage).parts
        ):
            digest = hashlib.md5(path.read_bytes()).hexdigest()  # (dpkg's md5sums format)
            lines.append(f"{digest}  {path.relative_to(stage)}\n")
    return "".join(lines)


def build(version: str, out: Path) -> Path:
    if not VERSION_RE.fullmatch(version):
        raise SystemExit(f"build_deb: {version!r} is no version for a native Debian package")
    arch = run(["dpkg", "--print-architecture"], capture_output=True).stdout.strip()
    date = source_date()
    describe = git("describe", "--always", "--dirty", "--tags") or ""
    build_id = f"{describe}, deb {version}" if describe else f"deb {version}"
    say(f"simscan {version} ({arch}), build id {build_id!r}")
    with tempfile.TemporaryDirectory(prefix="simscan-deb.") as tmp:
        work = Path(tmp)
        src = work / "src"
        stage = work / "debian" / PACKAGE
        venv = stage / PREFIX.lstrip("/")
        copy_source(src)
        say(f"venv in {PREFIX}, staged in {venv}")
        make_venv(src, venv, build_id)
        trim(venv)
        relocate(stage, venv)
        drop_python2_files(venv)
        symlinks(stage)
        docs(stage, version, date, build_id)
        depends = python_depends(venv) + DEPENDS + shlib_depends(work, stage)
        normalize(stage, date)
        debian = stage / "DEBIAN"
        debian.mkdir()
        (debian / "control").write_text(control(stage, version, arch, depends))
        (debian / "md5sums").write_text(md5sums(stage))
        for name in SCRIPTS:
            shutil.copy(DEB / name, debian / name)
            (debian / name).chmod(0o755)
        normalize(debian, date)
        out.mkdir(parents=True, exist_ok=True)
        target = out / f"{PACKAGE}_{version}_{arch}.deb"
        env = dict(os.environ, SOURCE_DATE_EPOCH=str(date))
        run(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", stage, target], env=env,
            stdout=subprocess.DEVNULL)  # fmt: skip
    say(f"wrote {target}")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", default="", help="the package version (default: from git)")
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="where the .deb goes")
    args = parser.parse_args(argv)
    build(args.version or default_version(upstream_version()), args.out.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
