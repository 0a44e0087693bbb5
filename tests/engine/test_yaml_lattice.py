"""A Pulumi YAML program declaring a Lattice ServiceExport through the component package, on the real engine.

The program is examples/yaml-lattice, as a user runs it with AWS credentials; here its `aws` provider is the fake
AWS plugin (tests/fake_aws), which refuses what the Lattice API refuses and keeps the account's state in a JSON
file. The ServiceExport runs in the package's Python plugin; its children (target groups, traffic source
attachments) go to the provider the YAML program passes in the component's `providers`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from clusterfabric.toolchain import PROJECT_DIR
from tests.component_package import yaml_program
from tests.fake_aws import use_fake_aws, with_fake_aws
from tests.pulumi_project import PulumiProject

pytestmark = pytest.mark.slow  # the real engine, API servers or ClusterLink's binaries

EXAMPLE = PROJECT_DIR / "examples" / "yaml-lattice"
ACCOUNT = ("111122223333", "us-west-2")
"""The account and Region of the example's provider (`allowedAccountIds`, `region`)."""
CART = "k8s-eks-shop-shop-checkout-80-http-http1-cart-shop-ae278665"
ORDERS = "k8s-eks-shop-shop-checkout-80-http-http1-orders-shop-ff390308"
"""The target groups' names, as the AWS Gateway API Controller names them: one per consuming Lattice service."""
TARGET_GROUP = "aws:vpclattice/targetGroup:TargetGroup"
TRAFFIC_SOURCE = "aws:autoscaling/trafficSourceAttachment:TrafficSourceAttachment"


def lattice_program(directory: Path, state: Path, change: Any = None) -> PulumiProject:
    """The example in `directory`, its `aws` provider the fake keeping the account's state in `state`."""
    def on_fake_aws(program: dict[str, Any]) -> None:
        with_fake_aws(program)
        if change:
            change(program)

    proj = yaml_program(directory, on_fake_aws, EXAMPLE)
    use_fake_aws(proj.env, state)
    return proj


def held(state: Path) -> dict[tuple[str, str], list[tuple[str, str | None, str, dict[str, Any]]]]:
    """What the fake holds, per (account, Region): (kind, name, stack, fields) of each resource."""
    if not state.exists():
        return {}
    return {tuple(region["scope"]): sorted(((r["kind"], r["name"], r["stack"], r["fields"]) for r in region["records"]),
                                           key=json.dumps)
            for region in json.loads(state.read_text())["regions"] if region["records"]}


def resources(proj: PulumiProject, typ: str) -> list[dict[str, Any]]:
    """The stack's resources of type `typ` as the engine holds them, by name."""
    deployed = json.loads(proj.pulumi("stack", "export", "--stack", "dev").stdout)["deployment"]["resources"]
    return sorted((r for r in deployed if r["type"] == typ), key=lambda r: r["urn"])


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> tuple[PulumiProject, Path]:
    directory = tmp_path_factory.mktemp("yaml-lattice")
    proj = lattice_program(directory / "program", directory / "aws.json")
    proj.up("dev")
    return proj, directory / "aws.json"


def test_up_creates_a_target_group_per_consumer_and_its_traffic_source_in_the_providers_account(deployed):
    proj, state = deployed
    ids = {r["outputs"]["name"]: r["id"] for r in resources(proj, TARGET_GROUP)}
    assert held(state) == {ACCOUNT: sorted([
        ("Target", None, "dev", {"group": ids[CART]}),
        ("Target", None, "dev", {"group": ids[ORDERS]}),
        ("TargetGroup", CART, "dev", {"type": "INSTANCE", "protocol": "HTTP"}),
        ("TargetGroup", ORDERS, "dev", {"type": "INSTANCE", "protocol": "HTTP"}),
    ], key=json.dumps)}


def test_the_target_groups_listen_on_the_nodeport_with_the_controllers_tags(deployed):
    proj, _state = deployed
    groups = resources(proj, TARGET_GROUP)
    assert [g["inputs"]["name"] for g in groups] == [CART, ORDERS]
    for group, consumer in zip(groups, ["cart-shop", "orders-shop"]):
        assert group["inputs"]["type"] == "INSTANCE"
        assert {k: v for k, v in group["inputs"]["config"].items() if k != "healthCheck"} == {
            "port": 30080, "protocol": "HTTP", "protocolVersion": "HTTP1", "vpcIdentifier": "vpc-0a1b2c3d4e5f60001"}
        assert group["inputs"]["tags"] == {
            "application-networking.k8s.aws/ClusterName": "eks-shop",
            "application-networking.k8s.aws/ManagedBy": "111122223333/eks-shop/vpc-0a1b2c3d4e5f60001",
            "application-networking.k8s.aws/ProtocolVersion": "HTTP1",
            "application-networking.k8s.aws/ServiceName": "checkout",
            "application-networking.k8s.aws/ServiceNamespace": "shop",
            "clusterfabric.io/consumer-service": consumer,
            "team": "payments",
        }


def test_each_target_group_has_the_node_groups_auto_scaling_group_as_traffic_source(deployed):
    proj, _state = deployed
    arns = [g["outputs"]["arn"] for g in resources(proj, TARGET_GROUP)]
    assert [a["inputs"] for a in resources(proj, TRAFFIC_SOURCE)] == [
        {"autoscalingGroupName": "eks-shop-nodes", "trafficSource": {"identifier": arn, "type": "vpc-lattice"}}
        for arn in arns]


def test_the_children_are_the_components_and_use_the_provider_the_program_passes(deployed):
    proj, _state = deployed
    for child in resources(proj, TARGET_GROUP):
        assert child["parent"].endswith("::clusterfabric:lattice:ServiceExport::checkout")
        assert "::pulumi:providers:aws::aws-shop::" in child["provider"]


def test_the_stack_output_lists_each_target_group_with_its_port_consumer_and_arn(deployed):
    proj, _state = deployed
    arn = {g["outputs"]["name"]: g["outputs"]["arn"] for g in resources(proj, TARGET_GROUP)}
    assert proj.outputs("dev") == {"targetGroups": [
        {"port": 80, "consumer": "cart-shop", "name": CART, "arn": arn[CART]},
        {"port": 80, "consumer": "orders-shop", "name": ORDERS, "arn": arn[ORDERS]},
    ]}
    assert arn[CART].startswith("arn:aws:vpc-lattice:us-west-2:111122223333:targetgroup/tg-")


def refused(tmp_path: Path, change: Any) -> str:
    """The output of an `up` of the example changed by `change`, which must fail having created nothing."""
    proj = lattice_program(tmp_path / "program", tmp_path / "aws.json", change)
    result = proj.pulumi("up", "--yes", "--skip-preview", "--stack", "dev", check=False)
    assert result.returncode != 0
    assert held(tmp_path / "aws.json") == {}
    return result.stdout


def checkout(program: dict[str, Any]) -> dict[str, Any]:
    return program["resources"]["checkout"]["properties"]


def test_port_70000_is_refused_through_the_package_with_validates_message(tmp_path):
    output = refused(tmp_path, lambda program: checkout(program)["exportedPorts"][0].update(port=70000))
    assert ("clusterfabric:lattice:ServiceExport checkout: ServiceExport/shop/checkout: "
            "spec.exportedPorts[0].port: Input should be less than or equal to 65535") in output
    assert ("property exportedPorts[0].port with value '{70000}' has a problem: "
            "Input should be less than or equal to 65535") in output


def test_a_bad_vpc_id_is_refused_through_the_package_naming_the_field(tmp_path):
    output = refused(tmp_path, lambda program: checkout(program).update(vpcId="vpc-shop"))
    pattern = "String should match pattern '^vpc-([0-9a-f]{8}|[0-9a-f]{17})$'"
    assert f"clusterfabric:lattice:ServiceExport checkout: ServiceExport/shop/checkout: lattice.vpcId: {pattern}" in output
    assert f"property vpcId with value '{{vpc-shop}}' has a problem: {pattern}" in output


def without_provider(program: dict[str, Any]) -> None:
    del program["resources"]["aws-shop"], program["resources"]["checkout"]["options"]
    program["config"] = {"aws:region": "eu-west-1"}


def test_without_a_provider_the_children_use_the_default_one_configured_by_aws_region(tmp_path):
    proj = lattice_program(tmp_path / "program", tmp_path / "aws.json", without_provider)
    proj.up("dev")
    ((account, region),) = held(tmp_path / "aws.json")
    assert region == "eu-west-1"
    assert all(":pulumi:providers:aws::default_" in g["provider"] for g in resources(proj, TARGET_GROUP))


def with_network_and_route(program: dict[str, Any]) -> None:
    """The example, plus the service network and the HTTPRoute whose Lattice service `cart-shop` forwards to the
    export's target group made for it."""
    def on_account() -> dict[str, Any]:  # one dict each: YAML programs refuse the anchors a shared one would make
        return {"providers": ["${aws-shop}"]}

    program["resources"]["shop-network"] = {
        "type": "clusterfabric:lattice:ServiceNetwork", "options": on_account(),
        "properties": {"name": "shop-network", "vpcAssociations": [{"vpcId": "vpc-0a1b2c3d4e5f60001"}]}}
    program["resources"]["cart"] = {
        "type": "clusterfabric:lattice:HTTPRoute", "options": on_account(), "properties": {
            "name": "cart", "namespace": "shop", "accountId": ACCOUNT[0], "region": ACCOUNT[1],
            "gateway": {"name": "shop-network", "networkId": "${shop-network.networkId}",
                        "listeners": [{"name": "http", "protocol": "HTTP", "port": 80}]},
            "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/cart"}}],
                       "backends": [{"targetGroup": "${checkout.targetGroups[0].arn}"}]}]}}
    program["outputs"]["networkArn"] = "${shop-network.arn}"


def test_a_network_an_export_and_a_route_forwarding_to_it_are_declared_through_the_package(tmp_path):
    proj = lattice_program(tmp_path / "program", tmp_path / "aws.json", with_network_and_route)
    proj.up("dev")
    kinds = sorted({kind for kind, _name, _stack, _fields in held(tmp_path / "aws.json")[ACCOUNT]})
    assert kinds == ["Listener", "Rule", "Service", "ServiceAssociation", "ServiceNetwork", "Target", "TargetGroup",
                     "VpcAssociation"]
    [rule] = resources(proj, "aws:vpclattice/listenerRule:ListenerRule")
    [forward] = rule["inputs"]["action"]["forward"]["targetGroups"]
    [cart] = [g for g in proj.outputs("dev")["targetGroups"] if g["consumer"] == "cart-shop"]
    assert forward == {"targetGroupIdentifier": cart["arn"], "weight": 1}
    assert proj.outputs("dev")["networkArn"].startswith("arn:aws:vpc-lattice:us-west-2:111122223333:servicenetwork/sn-")


# These two run last, in this order: they take the module's stack down.

def test_a_second_stack_of_the_program_in_the_same_account_is_refused_its_target_group_names(deployed):
    proj, state = deployed
    proj.pulumi("stack", "init", "prod")
    result = proj.pulumi("up", "--yes", "--skip-preview", "--stack", "prod", check=False)
    assert result.returncode != 0
    assert (f"creating TargetGroup (checkout-{CART}): operation error VPC Lattice: CreateTargetGroup, https response "
            f"error StatusCode: 409") in result.stdout
    assert f"ConflictException: a TargetGroup named '{CART}' already exists" in result.stdout
    assert {stack for _kind, _name, stack, _fields in held(state)[ACCOUNT]} == {"dev"}


def test_destroy_empties_the_fake_account(deployed):
    proj, state = deployed
    proj.pulumi("destroy", "--yes", "--stack", "dev")
    assert held(state) == {}
