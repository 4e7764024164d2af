from __future__ import annotations

from pathlib import Path

import pytest
from harness import Site


@pytest.fixture
def site(tmp_path: Path) -> Site:
    """A fresh qmail site: control dir with simscan.toml, work dir, queue."""
    return Site(tmp_path)
