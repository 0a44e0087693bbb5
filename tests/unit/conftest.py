"""Fixtures of the unit tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from clusterfabric.toolchain import PROJECT_DIR


@pytest.fixture()
def fabric(tmp_path: Path) -> Path:
    """A copy of the example fabric (config/) to edit."""
    return Path(shutil.copytree(PROJECT_DIR / "config", tmp_path / "fabric"))
