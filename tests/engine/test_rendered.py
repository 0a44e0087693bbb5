"""Rendered output for Argo CD and Flux, on the real engine: the example's `east` brought up through the fabric."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from clusterfabric import Fabric
from tests.pulumi_project import copy_program

pytestmark = pytest.mark.slow  # the real engine, API servers or ClusterLink's binaries


@pytest.fixture(scope="module")
def east(tmp_path_factory: pytest.TempPathFactory) -> tuple[Fabric, Path]:
    directory = copy_program(tmp_path_factory.mktemp("rendered") / "project")
    fabric = Fabric("config", project_dir=directory)
    [result] = fabric.up(["east"]).stacks
    assert result.result == "succeeded", result.message
    return fabric, directory / "rendered" / "east"


def test_kustomization_lists_exactly_the_files_rendered(east):
    _, rendered = east
    present = sorted(str(p.relative_to(rendered)) for p in rendered.rglob("*") if p.is_file())
    listed = yaml.safe_load((rendered / "kustomization.yaml").read_text())["resources"]
    # Beside the manifests: the kustomization itself, and the mark of the backend whose `up` wrote them.
    assert sorted(listed) == [p for p in present if p not in ("kustomization.yaml", ".clusterfabric-rendered")]


def test_crds_of_the_clusterlink_objects_rendered_are_in_0_crd(east):
    _, rendered = east
    kinds = {yaml.safe_load(p.read_text())["kind"] for p in (rendered / "1-manifest").glob("clusterlink.net_*")}
    defined = {yaml.safe_load(p.read_text())["spec"]["names"]["kind"] for p in (rendered / "0-crd").glob("*.yaml")}
    assert kinds == defined == {"Export", "AccessPolicy"}


def test_only_secrets_stay_owner_only(east):
    _, rendered = east
    modes = {(yaml.safe_load(p.read_text())["kind"] == "Secret", p.stat().st_mode & 0o777)
             for p in rendered.rglob("*.yaml")}
    assert modes == {(True, 0o600), (False, 0o644)}


def test_finished_output_is_no_drift(east):
    fabric, _ = east
    [refreshed] = fabric.refresh(["east"]).stacks
    assert (refreshed.result, refreshed.drift) == ("succeeded", [])
