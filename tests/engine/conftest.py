"""Engine tests: the real Pulumi CLI, language host and Kubernetes provider on a local file backend."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from clusterfabric.toolchain import PROJECT_DIR
from tests.pulumi_project import PulumiProject, copy_program, point_at_venv, project

EXAMPLE_STACK = "cluster-east"


@pytest.fixture(scope="session")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One file backend shared by every project of the session, so stack references resolve."""
    return tmp_path_factory.mktemp("backend")


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory, backend: Path) -> PulumiProject:
    """The example fabric's cluster-east stack, deployed once for the module."""
    proj = project(copy_program(tmp_path_factory.mktemp("example")), backend)
    proj.init_stack(EXAMPLE_STACK)
    proj.deployed = proj.up(EXAMPLE_STACK)  # type: ignore[attr-defined]
    return proj


@pytest.fixture()
def reader(tmp_path: Path, backend: Path) -> PulumiProject:
    directory = tmp_path / "reader"
    shutil.copytree(PROJECT_DIR / "tests" / "engine" / "projects" / "reader", directory)
    point_at_venv(directory / "Pulumi.yaml")
    return project(directory, backend)
