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
from tests.pulumi_project import PulumiProject, point_at_venv, project


@pytest.fixture()
def reader(tmp_path: Path, backend: Path) -> PulumiProject:
    directory = tmp_path / "reader"
    shutil.copytree(PROJECT_DIR / "tests" / "engine" / "projects" / "reader", directory)
    point_at_venv(directory / "Pulumi.yaml")
    return project(directory, backend)


@contextmanager
def local_control_planes(directory: Path, clusters=EXAMPLE_STACKS,
                         crds: Path | None = None) -> Iterator[dict[str, ControlPlane]]:
    """A running API server (and etcd) per cluster, with the upstream CRDs (or those under `crds`); stopped on
    leaving, also on failure."""
    planes = control_planes(list(clusters), directory)
    try:
        start_all(planes, crds or default_crds(), progress=lambda line: None)
        yield planes
    finally:
        for plane in planes.values():
            plane.stop()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ControlPlane]]:
    """An API server per cluster of the example, for the module that asks (each module its own)."""
    with local_control_planes(tmp_path_factory.mktemp("apiservers")) as planes:
        yield planes
