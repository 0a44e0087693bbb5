"""Fixtures of the unit tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from clusterfabric.offline.plan import plan
from clusterfabric.toolchain import PROJECT_DIR


@pytest.fixture()
def fabric(tmp_path: Path) -> Path:
    """A copy of the example fabric (config/) to edit."""
    return Path(shutil.copytree(PROJECT_DIR / "config", tmp_path / "fabric"))


@pytest.fixture(scope="session")
def example_plan() -> dict:
    """The example fabric's offline plan, every stack (evaluated once for the tests that read it)."""
    return plan(PROJECT_DIR, PROJECT_DIR / "config")["stacks"]
