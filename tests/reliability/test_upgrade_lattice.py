"""Upgrading the example fabric's Lattice stacks (cluster1..cluster3) on the real engine, against the fake AWS
provider plugin (tests/fake_aws), which refuses what AWS's documented Lattice rules refuse: each release's program
brings them up, this release's program takes its place (tests/reliability/test_upgrade.py's `upgrade`), and the
preview and `up` that follow are what docs/upgrading.md says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clusterfabric.offline import lattice_api
from clusterfabric.toolchain import PROJECT_DIR
from components.model import load_fabric
from tests.fake_aws import point_at_fake_aws, use_fake_aws
from tests.pulumi_project import PulumiProject
from tests.reliability.test_upgrade import (MIGRATION, is_component, preview_steps, provider_changes, resource_type,
                                            upgrade)

STACKS = ("cluster1", "cluster2", "cluster3")  # in run order: cluster2 and cluster3 read cluster1's network


def lattice_upgrade(directory: Path, release: str, migration: tuple[str, str] | None = None,
                    stacks: tuple[str, ...] = STACKS) -> tuple[PulumiProject, Path]:
    """The project upgraded from `release`, and the fake AWS account's state file, which starts as the offline
    plan's does (the quotas fabric.yaml says AWS raised, the target groups outside the fabric)."""
    state = directory.parent / "aws.json"
    state.write_text(json.dumps(lattice_api(load_fabric(PROJECT_DIR / "config")).to_json()))

    def fake_aws(proj: PulumiProject) -> None:
        point_at_fake_aws(proj.directory / "Pulumi.yaml")
        use_fake_aws(proj.env, state)

    return upgrade(directory, release, migration, stacks, fake_aws), state


def aws_resources(state: Path) -> list[dict]:
    """What the fake account holds: each resource with its id, ARN and what it was made with."""
    regions = json.loads(state.read_text())["regions"]
    return sorted((r for region in regions for r in region["records"]), key=lambda r: r["id"])


# Release 0.2 declared each Lattice resource directly under the cluster's `clusterfabric:lattice:Cluster`; this
# release wraps them in the public components (ServiceNetwork, ServiceExport, HTTPRoute...), which own nothing of
# their own: the resources move into them by alias (components/moved.py).


@pytest.mark.parametrize("stack", STACKS)
def test_upgrading_a_lattice_stack_from_0_2_creates_replaces_or_deletes_no_aws_resource_only_components(from_0_2,
                                                                                                       stack: str):
    proj, _state = from_0_2
    steps = preview_steps(proj, stack)
    assert provider_changes(steps) == []
    assert {s["op"] for s in steps if is_component(s["urn"])} <= {"create", "same"}


def test_the_lattice_upgrade_from_0_2_is_accepted_keeps_every_aws_resource_and_output_then_changes_nothing(from_0_2):
    proj, state = from_0_2
    before = {s: proj.outputs(s) for s in STACKS}, aws_resources(state)
    for stack in STACKS:
        proj.up(stack)
    assert ({s: proj.outputs(s) for s in STACKS}, aws_resources(state)) == before  # the same ids and ARNs
    for stack in STACKS:
        assert {s["op"] for s in preview_steps(proj, stack)} <= {"same", "read"}  # read: stack references


@pytest.fixture(scope="module")
def from_0_1(tmp_path_factory: pytest.TempPathFactory) -> tuple[PulumiProject, Path]:
    return lattice_upgrade(tmp_path_factory.mktemp("lattice-0.1") / "project", "v0.1.0", MIGRATION, ("cluster1",))


@pytest.fixture(scope="module")
def from_0_2(tmp_path_factory: pytest.TempPathFactory) -> tuple[PulumiProject, Path]:
    return lattice_upgrade(tmp_path_factory.mktemp("lattice-0.2") / "project", "v0.2.0")

