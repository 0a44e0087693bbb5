"""A cluster removed from fabric.yaml is destroyed by `destroy --removed` (Fabric.destroy_removed): its stack's
resources go from its state alone (no program runs for it), then the stack itself."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from clusterfabric import Fabric
from tests.pulumi_project import copy_program

pytestmark = pytest.mark.slow  # the real engine

FABRIC = """name: removal
clusters:
  - name: east
    dataplane: clusterlink
    clusterlink: {gateway: {host: clusterlink.east.example.com, port: 443}}
  - name: west
    dataplane: clusterlink
    clusterlink: {gateway: {host: clusterlink.west.example.com, port: 443}}
"""


def test_a_cluster_removed_from_the_fabric_is_destroyed_with_its_stack(tmp_path: Path):
    directory = copy_program(tmp_path / "project")
    config = directory / "config"
    shutil.rmtree(config)
    for cluster in ("east", "west"):
        (config / cluster).mkdir(parents=True)
    (config / "fabric.yaml").write_text(FABRIC)
    fabric = Fabric("config", project_dir=directory, parallel=2)
    assert [s.result for s in fabric.up().stacks] == ["succeeded", "succeeded"]
    rendered = directory / "rendered" / "west"
    assert list((rendered / "1-manifest").glob("*.yaml"))

    spec = yaml.safe_load(FABRIC)
    spec["clusters"] = spec["clusters"][:1]
    (config / "fabric.yaml").write_text(yaml.safe_dump(spec))
    shutil.rmtree(config / "west")
    (directory / "stacks" / "Pulumi.west.yaml").unlink()  # a deploy job's fresh checkout has no stack settings
    [west] = fabric.destroy_removed().stacks

    assert (west.stack, west.result) == ("west", "succeeded"), west.message
    assert west.changes["delete"] > 10
    assert fabric._backend_stacks() == ["east"]
    assert list(rendered.rglob("*.yaml")) == [rendered / "kustomization.yaml"]
    assert yaml.safe_load((rendered / "kustomization.yaml").read_text())["resources"] == []
