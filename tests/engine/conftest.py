"""Engine tests: the real Pulumi CLI, language host and Kubernetes provider on a local file backend."""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from clusterfabric.local.apiserver import ControlPlane, control_planes, default_crds, start_all
from clusterfabric.toolchain import PROJECT_DIR
from tests.example_fabric import EXAMPLE_STACKS
from tests.pulumi_project import PulumiProject, copy_program, point_at_venv, project


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


@pytest.fixture()
def reader(tmp_path: Path, backend: Path) -> PulumiProject:
    directory = tmp_path / "reader"
    shutil.copytree(PROJECT_DIR / "tests" / "engine" / "projects" / "reader", directory)
    point_at_venv(directory / "Pulumi.yaml")
    return project(directory, backend)


@contextmanager
def local_control_planes(directory: Path, clusters=EXAMPLE_STACKS) -> Iterator[dict[str, ControlPlane]]:
    """A running API server (and etcd) per cluster, with the upstream CRDs; stopped on leaving, also on failure."""
    planes = control_planes(list(clusters), directory)
    try:
        start_all(planes, default_crds(), progress=lambda line: None)
        yield planes
    finally:
        for plane in planes.values():
            plane.stop()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ControlPlane]]:
    """An API server per cluster of the example, for the module that asks (each module its own)."""
    with local_control_planes(tmp_path_factory.mktemp("apiservers")) as planes:
        yield planes
