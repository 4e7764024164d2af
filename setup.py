"""Only for the build id: `simscan -v` tells builds apart.

Everything else is in pyproject.toml.  When simscan is built from a git
checkout, `git describe` of the checkout is written into the built
package as simscan/_build.py (never into the source tree); built from
anywhere else, there is no build id.
"""

import os
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py


def describe() -> str:
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


setup(cmdclass={"build_py": BuildWithId})
