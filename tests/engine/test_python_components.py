"""The plain-Python example (examples/python-components): an existing stack gains one VPC Lattice ServiceExport
and one ClusterLink Import, on the real engine. The stack is first brought up with the program as it was before
(its text above the `ADDED` line), then with the two components: the preview creates exactly the components and
their resources and touches nothing the stack had. AWS is the fake provider plugin (tests/fake_aws), its
Kubernetes provider renders manifests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from clusterfabric.toolchain import PROJECT_DIR
from tests.fake_aws.project import lattice_program
from tests.pulumi_project import PulumiProject

pytestmark = pytest.mark.slow  # the real engine, API servers or ClusterLink's binaries

EXAMPLE = PROJECT_DIR / "examples" / "python-components"
STACK = "shop"
# The controller's target group name (cluster, namespace, export, port, protocols, consumer, a hash of them: unique in
# the account and Region).
TARGET_GROUP = "k8s-shop-shop-checkout-8080-http-http1-checkout-shop-a97384ec"
CONFIG = {"accountId": "111122223333", "region": "us-west-2", "vpcId": "vpc-0a1b2c3d4e5f60001", "nodeGroup": "shop-nodes"}


def before_the_additions(program: str) -> str:
    """The example's program as the stack had it: everything above the `ADDED` line."""
    return program.split("\n# ADDED", 1)[0] + "\n"


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[PulumiProject, list[dict], Path]:
    """The existing stack up, then the preview and the up of the example with its two components."""
    directory = tmp_path_factory.mktemp("python-components")
    state = directory / "aws.json"
    proj = lattice_program(directory / "project", state, STACK, EXAMPLE, **CONFIG)
    main = proj.directory / "__main__.py"
    program = main.read_text()
    main.write_text(before_the_additions(program))
    proj.up(STACK)
    main.write_text(program)
    preview = json.loads(proj.pulumi("preview", "--json", "--stack", STACK).stdout)
    proj.up(STACK)
    return proj, preview.get("steps", []), state


def kind_and_name(urn: str) -> tuple[str, str]:
    return urn.split("::")[2].split("$")[-1], urn.rsplit("::", 1)[1]


def test_adding_the_two_components_creates_them_and_their_resources_and_changes_nothing_else(example):
    _, steps, _ = example
    assert sorted((s["op"], *kind_and_name(s["urn"])) for s in steps if s["op"] != "same") == [
        ("create", "aws:autoscaling/trafficSourceAttachment:TrafficSourceAttachment",
         f"checkout-{TARGET_GROUP}-asg"),
        ("create", "aws:vpclattice/targetGroup:TargetGroup", f"checkout-{TARGET_GROUP}"),
        ("create", "clusterfabric:clusterlink:Import", "reviews"),
        ("create", "clusterfabric:lattice:ServiceExport", "checkout"),
        ("create", "kubernetes:clusterlink.net/v1alpha1:Import", "reviews"),
    ]


def test_the_import_is_rendered_as_clusterlink_reads_it(example):
    proj, _, _ = example
    [manifest] = (proj.directory / "rendered" / "1-manifest").glob("*import*reviews*")
    assert yaml.safe_load(manifest.read_text()) == {
        "apiVersion": "clusterlink.net/v1alpha1", "kind": "Import",
        "metadata": {"name": "reviews", "namespace": "shop"},
        "spec": {"port": 9080, "lbScheme": "random",
                 "sources": [{"exportName": "reviews", "exportNamespace": "bookinfo", "peer": "east"}]}}


def test_the_target_group_is_in_the_account_and_in_the_stack_outputs(example):
    proj, _, state = example
    outputs = proj.outputs(STACK)
    [group] = outputs["checkoutTargetGroups"]
    assert {k: v for k, v in group.items() if k != "arn"} == {
        "port": 8080, "consumer": "checkout-shop", "name": TARGET_GROUP}
    assert group["arn"].startswith("arn:aws:vpc-lattice:us-west-2:111122223333:targetgroup/tg-")
    assert outputs["reviews"] == "reviews.shop.svc.cluster.local"
    held = [r for region in json.loads(state.read_text())["regions"] for r in region["records"]]
    # The target group, and its targets: the node group attached as its traffic source.
    assert sorted((r["kind"], r["name"] or "") for r in held) == [("Target", ""), ("TargetGroup", TARGET_GROUP)]
