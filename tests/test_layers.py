"""The rooms' layers and the no-cycles rule (pyproject.toml's import-linter
contracts) hold for the source tree, and they bite: a wrong import fails
the check with a message that names it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).parent / "lint-imports"


def lint(src: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT), str(ROOT / "pyproject.toml"), "--no-cache"],
        env={**os.environ, "PYTHONPATH": str(src)},
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of src/ to break."""
    src = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "simscan", src / "simscan")
    return src


def add_import(tree: Path, module: str, line: str) -> None:
    path = tree / "simscan" / module
    path.write_text(path.read_text() + f"\n{line}  # noqa\n")


def test_the_tree_keeps_its_contracts(tree: Path, tmp_path: Path) -> None:
    done = lint(tree, tmp_path)
    assert done.returncode == 0, done.stdout
    assert "Contracts: 2 kept, 0 broken." in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "named"),
    [
        ("wire/netio.py", "from ..scan import base", "simscan.wire.netio -> simscan.scan.base"),
        ("mail/mime.py", "from ..config import settings",
         "simscan.mail.mime -> simscan.config.settings"),
        ("config/policy.py", "from ..scan import pipeline",
         "simscan.config.policy -> simscan.scan.pipeline"),
        ("report.py", "from . import verdict", "simscan.report -> simscan.verdict"),
        ("wire/spamd.py", "from ..mail import lines", "simscan.wire.spamd -> simscan.mail.lines"),
        ("scan/virus.py", "from .. import cli", "simscan.scan.virus -> simscan.cli"),
    ],
)  # fmt: skip
def test_an_import_against_the_layers_is_named(
    tree: Path, tmp_path: Path, module: str, line: str, named: str
) -> None:
    add_import(tree, module, line)
    done = lint(tree, tmp_path)
    assert done.returncode != 0
    assert "is not allowed to import" in done.stdout
    assert named in done.stdout


def test_a_cycle_inside_a_room_is_found(tree: Path, tmp_path: Path) -> None:
    # The scanners import scan.base; base importing one of them closes a circle.
    add_import(tree, "scan/base.py", "from . import virus")
    done = lint(tree, tmp_path)
    assert done.returncode != 0
    assert "No import cycles, at any depth" in done.stdout
    report = done.stdout.split("No cycles are allowed in simscan.scan.")[1]
    assert ".virus -> .base" in report or ".base -> .virus" in report
