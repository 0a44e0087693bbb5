"""A stack's rendered folder stays what Argo CD or Flux can build at every step, on the engine: the example's
`east` rendered, then applied to an API server instead (`--apiservers`: its objects leave the files), then rendered
again (`--render`). After each `up`, the folder's kustomization.yaml names exactly the manifest files there (a
listed file missing fails `kubectl kustomize` and a GitOps sync)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
import yaml

from clusterfabric import Fabric
from clusterfabric.components.contract import ClusterTarget
from clusterfabric.local.apiserver import control_planes, default_crds, start_all
from tests.pulumi_project import copy_program

pytestmark = pytest.mark.slow  # the real engine and an API server


def folder(rendered: Path) -> tuple[list[str], list[str]]:
    """(what its kustomization.yaml lists, the manifest files there)."""
    listed = yaml.safe_load((rendered / "kustomization.yaml").read_text())["resources"]
    return sorted(listed), sorted(str(p.relative_to(rendered)) for p in rendered.rglob("*.yaml")
                                  if p.name != "kustomization.yaml")


@pytest.fixture(scope="module")
def switched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("switch")
    directory = copy_program(root / "project")
    rendered = directory / "rendered" / "east"
    planes = control_planes(["east"], root / "apiservers")
    try:
        start_all(planes, default_crds(), progress=lambda line: None)
        steps = {}
        for step, targets in (("rendered", {}), ("applied", {"east": ClusterTarget(planes["east"].kubeconfig,
                                                                                     controllers=False)}),
                              ("rendered again", {"east": None})):
            [result] = Fabric("config", project_dir=directory, targets=targets).up(["east"]).stacks
            assert result.result == "succeeded", (step, result.message)
            steps[step] = folder(rendered)
        yield steps
    finally:
        for plane in planes.values():
            plane.stop()


def test_a_rendered_stack_lists_every_file_it_wrote(switched):
    listed, present = switched["rendered"]
    assert listed == present and any(p.startswith("1-manifest/") for p in present)


def test_once_applied_to_a_cluster_its_folder_lists_no_file_it_no_longer_has(switched):
    assert switched["applied"] == ([], [])


def test_rendered_again_the_folder_is_whole_again(switched):
    assert switched["rendered again"] == switched["rendered"]
