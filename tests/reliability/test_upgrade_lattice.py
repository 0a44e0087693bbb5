"""Upgrading the example fabric's Lattice stacks (cluster1..cluster3) on the real engine, against the fake AWS
provider plugin (tests/fake_aws), which refuses what AWS's documented Lattice rules refuse: each release's program
brings them up, this release's program takes its place (tests/releases.py's `upgrade`), and the
preview and `up` that follow are what docs/upgrading.md says."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from clusterfabric.offline.plan import lattice_api
from clusterfabric.toolchain import PROJECT_DIR
from clusterfabric.components.contract import IMPORTED_EXPORTS_OUTPUT
from clusterfabric.components.model import load_fabric
from clusterfabric.components.model.removal import imported_exports
from tests.fake_aws import point_at_fake_aws, use_fake_aws
from tests.pulumi_project import PulumiProject
from tests.releases import (MIGRATION, is_component, preview_steps, previews, provider_changes, released, resource_type,
                            swap_in_this_release, upgrade)

pytestmark = pytest.mark.slow  # the real engine, API servers or ClusterLink's binaries

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
    outputs, resources = {s: proj.outputs(s) for s in STACKS}, aws_resources(state)
    for stack in STACKS:
        proj.up(stack)
    # Every output stays; this release adds what each stack imports from whom (importedExports).
    after = {s: proj.outputs(s) for s in STACKS}
    assert {s: after[s].pop(IMPORTED_EXPORTS_OUTPUT) for s in STACKS} == {
        s: imported_exports(load_fabric(proj.directory / "config"), s) for s in STACKS}
    assert after == outputs
    after = aws_resources(state)  # the same ids and ARNs, made with the same fields: (changed or new, gone)
    assert ([r for r in after if r not in resources], [r for r in resources if r not in after]) == ([], [])
    for stack in STACKS:
        assert {s["op"] for s in preview_steps(proj, stack)} <= {"same", "read"}  # read: stack references


# Release 0.1 named a target group after its Service and port alone: cluster2's checkout group took the name of
# cluster1's, which AWS refuses (issue 16; and cluster3 associated the VPC cluster2 had associated already). So on
# AWS release 0.1's example fabric stops at cluster1: that is the state a user upgrades from.


@pytest.fixture(scope="module")
def from_0_1(tmp_path_factory: pytest.TempPathFactory) -> tuple[PulumiProject, Path, str]:
    """Release 0.1's example as far as AWS takes it, cluster1 up and cluster2's up refused, then this release's
    program in place; and the output of the refused up. The refused up keeps all AWS accepted of cluster2, as a
    user's state would (`--continue-on-error`: the same state every run, not what parallel creates had done when
    the refusal stopped them)."""
    directory = tmp_path_factory.mktemp("lattice-0.1") / "project"
    state, fake_aws = fake_account(directory)
    proj = released(directory, "v0.1.0", ("cluster1",), fake_aws)
    proj.init_stack("cluster2")
    refused = proj.pulumi("up", "--yes", "--skip-preview", "--continue-on-error", "--stack", "cluster2", check=False)
    assert refused.returncode != 0
    return swap_in_this_release(proj, MIGRATION, fake_aws), state, refused.stdout


@pytest.fixture(scope="module")
def upgrade_preview_0_1(from_0_1) -> Callable[[str], list[dict]]:
    """Each stack's preview of the upgrade from release 0.1, before anything is brought up."""
    return previews(from_0_1[0])


def test_release_0_1s_cluster2_is_refused_by_aws_its_target_group_has_the_name_of_cluster1s(from_0_1):
    _proj, _state, refused = from_0_1
    assert ("ConflictException: a TargetGroup named 'k8s-checkout-default-80-http-http1' already exists in this "
            "account and Region: cluster1-lattice-default-checkout-80-http of stack cluster1") in refused


# Replaced by design (docs/upgrading.md): a target group's name is now unique in its account and Region across the
# fabric and says which service it serves (issue 16), so each is a new one with its targets (cluster1's Auto Scaling
# group's attachment, cluster2's IP targets), and checkout's second export in cluster1 has one of its own. Release
# 0.1's target groups go; its network, VPC associations, auth policy and access logs are kept, by URN or alias.
TARGET_GROUP = "aws:vpclattice/targetGroup:TargetGroup"
ASG_ATTACHMENT = "aws:autoscaling/trafficSourceAttachment:TrafficSourceAttachment"
IP_ATTACHMENT = "aws:vpclattice/targetGroupAttachment:TargetGroupAttachment"
REPLACED_FROM_0_1 = {  # stack: (what is created, by type; what of release 0.1 is deleted)
    "cluster1": ({TARGET_GROUP: 3, ASG_ATTACHMENT: 3},
                 ["cluster1-lattice-default-checkout-80-http", "cluster1-lattice-default-checkout-80-http-asg",
                  "cluster1-lattice-default-payments-443-tls", "cluster1-lattice-default-payments-443-tls-asg"]),
    # of cluster2, release 0.1 made all but the checkout target group AWS refused: inventory's and its two targets
    "cluster2": ({TARGET_GROUP: 2, IP_ATTACHMENT: 4},
                 ["cluster2-lattice-default-inventory-50051-grpc",
                  "cluster2-lattice-default-inventory-50051-grpc-10-2-1-10",
                  "cluster2-lattice-default-inventory-50051-grpc-10-2-2-10"]),
}
TARGETS = {"TargetGroup", "Target"}  # their kinds in the fake account


def name(urn: str) -> str:
    return urn.rsplit("::", 1)[1]


@pytest.mark.parametrize("stack", REPLACED_FROM_0_1)
def test_upgrading_from_0_1_replaces_the_target_groups_with_their_targets_and_nothing_else(upgrade_preview_0_1,
                                                                                          stack: str):
    changes = provider_changes(upgrade_preview_0_1(stack))
    created, deleted = REPLACED_FROM_0_1[stack]
    assert Counter(resource_type(s["urn"]) for s in changes if s["op"] == "create") == created
    assert sorted(name(s["urn"]) for s in changes if s["op"] == "delete") == deleted
    assert [s for s in changes if s["op"] not in ("create", "delete")] == []  # no replacement


def test_upgrading_from_0_1_updates_only_cluster2s_vpc_association_which_takes_cluster3s_security_groups(
        upgrade_preview_0_1):
    """cluster2 and cluster3 share a VPC, which AWS associates with a network once: cluster2's association holds the
    security groups both ask for (release 0.1's cluster3 association is refused by AWS and never existed)."""
    updated = {stack: [name(s["urn"]) for s in upgrade_preview_0_1(stack) if s["op"] == "update"]
               for stack in REPLACED_FROM_0_1}
    assert updated == {"cluster1": [], "cluster2": ["cluster2-lattice-fabric-network-vpc"]}


def identity(record: dict) -> tuple:
    return record["kind"], record["id"], record["arn"], record["stack"], record["resource"], record["name"]


def test_the_lattice_upgrade_from_0_1_is_accepted_keeps_the_network_and_brings_up_the_stacks_0_1_could_not(from_0_1):
    proj, state, _refused = from_0_1
    before = aws_resources(state)
    for stack in STACKS[:2]:
        proj.up(stack)
    proj.init_stack("cluster3")
    proj.up("cluster3")
    after = aws_resources(state)
    assert ([identity(r) for r in after if r["kind"] not in TARGETS and r["stack"] != "cluster3"]
            == [identity(r) for r in before if r["kind"] not in TARGETS])
    assert sorted(r["name"] for r in after if r["kind"] == "TargetGroup" and r["stack"] != "cluster3") == [
        "k8s-cluster1-default-checkout-80-http-http1-checkout-default-b79f2996",
        "k8s-cluster1-default-checkout-cluster1-80-http-http1-checkout-default-cb5663ec",
        "k8s-cluster1-default-payments-443-tcp-payments-default-cbddf1a5",
        "k8s-cluster2-default-checkout-80-http-http1-checkout-default-c02101f3",
        "k8s-cluster2-default-inventory-50051-http-grpc-inventory-default-81ffdfbc"]
    assert {r["id"] for r in before if r["kind"] in TARGETS} & {r["id"] for r in after} == set()
    for stack in STACKS:
        assert {s["op"] for s in preview_steps(proj, stack)} <= {"same", "read"}


@pytest.fixture(scope="module")
def from_0_2(tmp_path_factory: pytest.TempPathFactory) -> tuple[PulumiProject, Path]:
    """The example's Lattice stacks up with release 0.2, then this release's program in place; and the fake's state."""
    directory = tmp_path_factory.mktemp("lattice-0.2") / "project"
    state, fake_aws = fake_account(directory)
    return upgrade(directory, "v0.2.0", stacks=STACKS, providers=fake_aws), state
