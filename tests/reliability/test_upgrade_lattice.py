"""Upgrading the example fabric's Lattice stacks (cluster1..cluster3) on the real engine, against the fake AWS
provider plugin (tests/fake_aws), which refuses what AWS's documented Lattice rules refuse: each release's program
brings them up, this release's program takes its place (tests/reliability/test_upgrade.py's `upgrade`), and the
preview and `up` that follow are what docs/upgrading.md says."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from clusterfabric.offline import lattice_api
from clusterfabric.toolchain import PROJECT_DIR
from components.model import load_fabric
from tests.fake_aws import point_at_fake_aws, use_fake_aws
from tests.pulumi_project import PulumiProject
from tests.reliability.test_upgrade import (MIGRATION, is_component, preview_steps, provider_changes, released,
                                            resource_type, upgrade)

STACKS = ("cluster1", "cluster2", "cluster3")  # in run order: cluster2 and cluster3 read cluster1's network


def fake_account(directory: Path) -> tuple[Path, Callable[[PulumiProject], None]]:
    """The fake AWS account's state file beside the project at `directory`, starting as the offline plan's does (the
    quotas fabric.yaml says AWS raised, the target groups outside the fabric), and what points a project at it."""
    state = directory.parent / "aws.json"
    state.write_text(json.dumps(lattice_api(load_fabric(PROJECT_DIR / "config")).to_json()))

    def fake_aws(proj: PulumiProject) -> None:
        point_at_fake_aws(proj.directory / "Pulumi.yaml")
        use_fake_aws(proj.env, state)

    return state, fake_aws


def lattice_upgrade(directory: Path, release: str, migration: tuple[str, str] | None = None,
                    stacks: tuple[str, ...] = STACKS) -> tuple[PulumiProject, Path]:
    """The project upgraded from `release` (its Lattice `stacks` up against the fake), and the fake's state file."""
    state, fake_aws = fake_account(directory)
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


# Release 0.1 named a target group after its Service and port alone: cluster2's checkout group took the name of
# cluster1's, which AWS refuses (issue 16; and cluster3 associated the VPC cluster2 had associated already). So on
# AWS release 0.1's example fabric stops at cluster1: that is the state a user upgrades from.


def test_release_0_1s_example_fabric_cannot_come_up_beyond_cluster1_on_aws(tmp_path: Path):
    _state, fake_aws = fake_account(tmp_path / "project")
    proj = released(tmp_path / "project", "v0.1.0", ("cluster1",), fake_aws)
    proj.init_stack("cluster2")
    result = proj.pulumi("up", "--yes", "--skip-preview", "--stack", "cluster2", check=False)
    assert result.returncode != 0
    assert ("ConflictException: a TargetGroup named 'k8s-checkout-default-80-http-http1' already exists in this "
            "account and Region: cluster1-lattice-default-checkout-80-http of stack cluster1") in result.stdout


# Replaced by design (docs/upgrading.md): a target group's name is now unique in its account and Region across the
# fabric and says which service it serves (issue 16), so each of cluster1's is a new one with its targets (the
# attachment of its Auto Scaling group), and checkout's second export has one of its own. The network, its VPC
# association, auth policy and access logs are kept, by URN or alias.
TARGET_GROUP = "aws:vpclattice/targetGroup:TargetGroup"
ASG_ATTACHMENT = "aws:autoscaling/trafficSourceAttachment:TrafficSourceAttachment"
TARGETS = {"TargetGroup", "Target"}  # their kinds in the fake account


def name(urn: str) -> str:
    return urn.rsplit("::", 1)[1]


def test_upgrading_cluster1_from_0_1_replaces_its_target_groups_with_their_attachments_and_nothing_else(from_0_1):
    proj, _state = from_0_1
    changes = provider_changes(preview_steps(proj, "cluster1"))
    assert Counter((s["op"], resource_type(s["urn"])) for s in changes) == {
        ("create", TARGET_GROUP): 3, ("create", ASG_ATTACHMENT): 3, ("delete", TARGET_GROUP): 2,
        ("delete", ASG_ATTACHMENT): 2}
    assert sorted(name(s["urn"]) for s in changes if s["op"] == "delete") == [
        "cluster1-lattice-default-checkout-80-http", "cluster1-lattice-default-checkout-80-http-asg",
        "cluster1-lattice-default-payments-443-tls", "cluster1-lattice-default-payments-443-tls-asg"]


def test_the_lattice_upgrade_from_0_1_is_accepted_keeps_the_network_and_brings_up_the_stacks_0_1_could_not(from_0_1):
    proj, state = from_0_1
    before = aws_resources(state)
    proj.up("cluster1")
    after = aws_resources(state)
    assert [r for r in after if r["kind"] not in TARGETS] == [r for r in before if r["kind"] not in TARGETS]
    assert sorted(r["name"] for r in after if r["kind"] == "TargetGroup" and r["stack"] == "cluster1") == [
        "k8s-cluster1-default-checkout-80-http-http1-checkout-default-b79f2996",
        "k8s-cluster1-default-checkout-cluster1-80-http-http1-checkout-default-cb5663ec",
        "k8s-cluster1-default-payments-443-tcp-payments-default-cbddf1a5"]
    assert {r["id"] for r in before if r["kind"] in TARGETS} & {r["id"] for r in after} == set()
    for stack in STACKS[1:]:
        proj.init_stack(stack)
        proj.up(stack)
    for stack in STACKS:
        assert {s["op"] for s in preview_steps(proj, stack)} <= {"same", "read"}


@pytest.fixture(scope="module")
def from_0_1(tmp_path_factory: pytest.TempPathFactory) -> tuple[PulumiProject, Path]:
    return lattice_upgrade(tmp_path_factory.mktemp("lattice-0.1") / "project", "v0.1.0", MIGRATION, ("cluster1",))


@pytest.fixture(scope="module")
def from_0_2(tmp_path_factory: pytest.TempPathFactory) -> tuple[PulumiProject, Path]:
    return lattice_upgrade(tmp_path_factory.mktemp("lattice-0.2") / "project", "v0.2.0")

