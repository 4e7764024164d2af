"""The build id, and bin/simscan's own first line; everything else is in
pyproject.toml.

`simscan -v` tells builds apart.  When simscan is built from a git
checkout, `git describe` of the checkout is written into the built
package as simscan/_build.py (never into the source tree); built from
anywhere else, there is no build id.  $SIMSCAN_BUILD, when set, is the
build id instead: packaging/build_deb.py builds from a copy of the tree
(no .git there) and passes the checkout's describe and the package
version that way.

bin/simscan starts `#!/usr/bin/python3 -IS`: setuptools would rewrite that
line to `#!python -IS` and pip, installing, to the venv's python without
the flags (see bin/simscan for why they matter); it is copied as written.
"""

import os
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py

try:
    from setuptools.command.build_scripts import build_scripts
except ImportError:  # (older setuptools: distutils' own, which setuptools provides)
    from distutils.command.build_scripts import build_scripts


def describe() -> str:
    if "SIMSCAN_BUILD" in os.environ:
        return os.environ["SIMSCAN_BUILD"]
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        done = subprocess.run(
            ["git", "-C", here, "describe", "--always", "--dirty", "--tags"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


class BuildWithId(build_py):
    def run(self) -> None:
        super().run()
        target = os.path.join(self.build_lib, "simscan", "_build.py")
        with open(target, "w", encoding="utf-8") as f:
            f.write(f'"""Written at build time (setup.py)."""\n\nBUILD = {describe()!r}\n')


class ScriptsAsWritten(build_scripts):
    def run(self) -> None:
        super().run()
        source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin", "simscan")
        target = os.path.join(self.build_dir, "simscan")
        with open(source, "rb") as f:
            text = f.read()
        with open(target, "wb") as f:
            f.write(text)
        os.chmod(target, 0o755)


setup(cmdclass={"build_py": BuildWithId, "build_scripts": ScriptsAsWritten})
