"""What every test session has: the check that nothing it started outlives it (tests/leftover_processes.py), and
the example fabric deployed once on the real engine, for the tests that only read it (engine and reliability)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.example_fabric import EXAMPLE_STACKS
from tests.pulumi_project import PulumiProject, copy_program, project

pytest_plugins = ["tests.leftover_processes"]


@pytest.fixture(scope="session")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One file backend for the example fabric, so stack references resolve."""
    return tmp_path_factory.mktemp("backend")


@pytest.fixture(scope="session")
def example(tmp_path_factory: pytest.TempPathFactory, backend: Path) -> PulumiProject:
    """The example fabric, every stack deployed once for the session."""
    proj = project(copy_program(tmp_path_factory.mktemp("example")), backend)
    for stack in EXAMPLE_STACKS:
        proj.init_stack(stack)
        proj.up(stack)
    return proj


@pytest.fixture()
def example_copy(tmp_path: Path, backend: Path, example: PulumiProject) -> PulumiProject:
    """Another checkout of the program on the example's backend: change its files, preview against real state."""
    checkout = project(copy_program(tmp_path / "checkout"), backend)
    checkout.env["PULUMI_CONFIG_PASSPHRASE_FILE"] = example.env["PULUMI_CONFIG_PASSPHRASE_FILE"]
    return checkout
