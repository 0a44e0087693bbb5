"""Every YAML example of the ServiceImport reference is accepted as written and maps to the documented Lattice objects."""

from __future__ import annotations

import shutil
from pathlib import Path

import pulumi
import pytest

from clusterfabric.offline.plan import plan
from clusterfabric.toolchain import PROJECT_DIR
from clusterfabric.components.model import check_fabric
from clusterfabric.components.model.lattice import ServiceExport, ServiceImport
from clusterfabric.components.model.lattice_imports import resolve_imports
from clusterfabric.components.model.load import read_yaml_documents
from clusterfabric.components.model.validation import parse
from tests.mocks import SCOPE
from tests.unit.edited_fabric import edit
from tests.unit.lattice_helpers import (FIXTURES, MY_GATEWAY, OWNER_TG, ROUTES, declare_importer, fabric_with,
                                        owner_exports)

LEGACY_TG = "arn:aws:vpc-lattice:us-east-2:123456789012:targetgroup/tg-0abc123def4567890"
SERVICE_1 = """apiVersion: v1
kind: Service
metadata: {name: service-1, namespace: default}
spec:
  ports: [{port: 9200}]
"""


def load(name: str, model):
    [doc] = list(read_yaml_documents(FIXTURES / name))
    return parse(model, doc, name, model.__name__)


def test_service_import_example_filters_on_cluster_its_vpc_being_a_placeholder():
    imp = load("service-import-1.yaml", ServiceImport)
    assert (imp.export_name, imp.cluster_filter, imp.vpc_filter) == ("service-1", "service-1-owner-cluster", None)
    assert imp.vpc_placeholder == "service-1-owner-vpc-id"  # no VPC id: taken as no filter, with a warning
    assert imp.metadata.namespace == "default"


def test_service_import_example_with_an_empty_spec_is_a_cluster_set_ip_import_of_the_same_export():
    imp = load("service-import-1-empty-spec.yaml", ServiceImport)
    assert (imp.spec.type, imp.spec.ports) == ("ClusterSetIP", [])  # ports: the resolved export's
    assert (imp.export_name, imp.cluster_filter, imp.vpc_placeholder) == ("service-1", "service-1-owner-cluster",
                                                                          "service-1-owner-vpc-id")


def test_an_aws_vpc_filter_that_is_a_vpc_id_is_kept():
    imp = load("service-import-1.yaml", ServiceImport)
    imp.metadata.annotations["application-networking.k8s.aws/aws-vpc"] = "vpc-0a1b2c3d4e5f60010"
    assert (imp.vpc_filter, imp.vpc_placeholder) == ("vpc-0a1b2c3d4e5f60010", None)


def test_export_name_example_imports_checkout_cluster1_of_cluster1():
    imp = load("service-import-checkout.yaml", ServiceImport)
    assert (imp.metadata.name, imp.export_name, imp.cluster_filter) == ("checkout-import-1", "checkout-cluster1",
                                                                       "cluster1")


def test_target_group_arn_example_names_the_target_group_directly():
    imp = load("service-import-orders-legacy-tg.yaml", ServiceImport)
    assert imp.target_group_arn == "arn:aws:vpc-lattice:us-east-2:123456789012:targetgroup/tg-0abc123def4567890"


def test_service_export_example_without_the_federation_annotation_is_ignored_with_a_warning(tmp_path: Path):
    fabric = fabric_with(tmp_path, {"gateway.yaml": MY_GATEWAY, "service-1.yaml": SERVICE_1},
                         ["service-export-service-1.yaml"])
    problems, warnings = check_fabric(fabric)
    assert problems == [] and fabric.lattice_exports() == []
    assert [(w.object, w.field, w.message) for w in warnings] == [(
        "ServiceExport/default/service-1", "metadata.annotations", "ignored: without the annotation "
        "application-networking.k8s.aws/federation: amazon-vpc-lattice the controller does not export it, and "
        "neither does the program")]


@pytest.mark.parametrize("service_import", ["service-import-1.yaml", "service-import-1-empty-spec.yaml"])
def test_each_route_example_resolves_to_the_export_of_its_route_type(tmp_path: Path, service_import: str):
    fabric = fabric_with(tmp_path, {"gateway.yaml": MY_GATEWAY}, [service_import, *ROUTES])
    resolved, problems = resolve_imports(fabric.manifests["importer"], owner_exports(), SCOPE)
    assert problems == []
    assert {key.route_kind: [e.route_type for e in matches] for key, matches in resolved.items()} == {
        "HTTPRoute": ["HTTP"], "GRPCRoute": ["GRPC"], "TLSRoute": ["TLS"]}


def test_route_examples_map_to_lattice_services_listeners_and_forwards(tmp_path: Path):
    fabric = fabric_with(tmp_path, {"gateway.yaml": MY_GATEWAY}, ["service-import-1.yaml", *ROUTES])
    declared = declare_importer(fabric, owner_exports(), [OWNER_TG.format(i) for i in range(3)])
    services = sorted(r["inputs"]["name"] for r in declared.of_type("vpclattice/service:Service"))
    assert services == ["my-grpc-route-default", "my-route-default", "my-tls-route-default"]
    listeners = {r["inputs"]["name"]: r["inputs"] for r in declared.of_type("vpclattice/listener:Listener")}
    assert {n: (l["protocol"], l["port"]) for n, l in listeners.items()} == {
        "my-route-default-80-http": ("HTTP", 80), "my-grpc-route-default-443-https": ("HTTPS", 443),
        "my-tls-route-default-443-tls": ("TLS_PASSTHROUGH", 443)}
    assert listeners["my-route-default-80-http"]["defaultAction"] == {"fixedResponse": {"statusCode": 404}}
    assert listeners["my-tls-route-default-443-tls"]["defaultAction"] == {
        "forwards": [{"targetGroups": [{"targetGroupIdentifier": OWNER_TG.format(2), "weight": 1}]}]}
    rules = {r["inputs"]["name"]: r["inputs"] for r in declared.of_type("listenerRule:ListenerRule")}
    assert rules["my-route-r1"]["action"] == {"forward": {"targetGroups": [
        {"targetGroupIdentifier": OWNER_TG.format(0), "weight": 1}]}}
    assert rules["my-grpc-route-r1"]["match"] == {"httpMatch": {"method": "POST", "pathMatch": {
        "caseSensitive": True, "match": {"prefix": "/"}}}}
    assert rules["my-grpc-route-r1"]["action"]["forward"]["targetGroups"][0]["targetGroupIdentifier"] == OWNER_TG.format(1)
    tls = next(r for r in declared.of_type("vpclattice/service:Service") if r["inputs"]["name"] == "my-tls-route-default")
    assert tls["inputs"]["customDomainName"] == "my-service.example.com"


def test_route_to_the_target_group_arn_import_forwards_to_that_arn(tmp_path: Path):
    route = (FIXTURES / "httproute-my-route.yaml").read_text().replace("service-1", "orders-legacy-tg") \
        .replace("name: my-route", "name: my-route\n  namespace: production")
    fabric = fabric_with(tmp_path, {"gateway.yaml": MY_GATEWAY.replace("name: my-gateway", "name: my-gateway\n  namespace: production"),
                                    "route.yaml": route}, ["service-import-orders-legacy-tg.yaml"],
                         account="123456789012", region="us-east-2")  # the example's target group is there
    declared = declare_importer(fabric, [], [LEGACY_TG])
    [rule] = declared.of_type("listenerRule:ListenerRule")
    assert rule["inputs"]["action"]["forward"]["targetGroups"] == [
        {"targetGroupIdentifier": LEGACY_TG, "weight": 1}]
    assert declared.of_type("targetGroup:TargetGroup") == []  # reference only: never created or tagged


def test_the_seeds_examples_declared_in_an_account_without_their_target_groups_are_refused(tmp_path: Path):
    fabric = fabric_with(tmp_path, {"gateway.yaml": MY_GATEWAY}, ["service-import-1-empty-spec.yaml", *ROUTES])
    with pytest.raises(AssertionError, match="ResourceNotFoundException: CreateRule: TargetGroup "
                       + OWNER_TG.format(0) + " was not found in this account and Region"):
        declare_importer(fabric, owner_exports(), existing=[])  # the owner's target groups were never made


def test_what_holds_a_place_only_one_can_hold_is_deleted_before_its_replacement_is_created(tmp_path: Path):
    fabric = fabric_with(tmp_path, {"gateway.yaml": MY_GATEWAY}, ["service-import-1.yaml", *ROUTES])
    first: dict[str, set[bool]] = {}

    def watch(args: pulumi.ResourceTransformationArgs) -> None:
        first.setdefault(args.type_.rsplit(":", 1)[1], set()).add(bool(args.opts.delete_before_replace))

    declare_importer(fabric, owner_exports(), [OWNER_TG.format(i) for i in range(3)], watch)
    # a listener holds its port, a rule its priority, an association its pair: Lattice refuses a second one
    assert {kind: first[kind] for kind in ("Listener", "ListenerRule", "ServiceNetworkServiceAssociation",
                                           "ServiceNetworkVpcAssociation")} == {
        "Listener": {True}, "ListenerRule": {True}, "ServiceNetworkServiceAssociation": {True},
        "ServiceNetworkVpcAssociation": {True}}
    assert first["Service"] == {False}  # a new name: created first, as Pulumi does by default


# --- the seeds' consumer cluster, verbatim, with the owner its filters name (the folder is a fabric) --------------


def test_the_seeds_consumer_cluster_holds_the_docs_examples_as_written():
    consumer = FIXTURES / "consumer"
    linked = sorted(f.name for f in consumer.iterdir() if f.is_symlink())
    assert linked == ["grpcroute-my-grpc-route.yaml", "httproute-my-route.yaml", "service-import-1.yaml",
                      "service-import-checkout.yaml", "service-import-orders-legacy-tg.yaml",
                      "tlsroute-my-tls-route.yaml"]
    assert all((consumer / name).resolve() == FIXTURES / name for name in linked)


@pytest.fixture(scope="module")
def seeds() -> dict[str, dict]:
    """The seeds' fabric, planned once behind the fake (the tests only read it)."""
    stacks = plan(PROJECT_DIR, FIXTURES)["stacks"]
    assert {s: e.get("errors") for s, e in stacks.items()} == {"service-1-owner-cluster": None, "consumer": None}
    return stacks


def test_the_seeds_consumer_plans_cleanly_warning_of_the_placeholder_vpc_and_the_imports_no_route_uses(seeds):
    assert [w.split(": ", 2)[1:] for w in seeds["consumer"]["warnings"]] == [
        ["ServiceImport/default/checkout-import-1", "metadata.name: no route uses this ServiceImport: a ServiceImport "
         "only takes effect as a route's backendRef"],
        ["ServiceImport/default/service-1", "metadata.annotations: application-networking.k8s.aws/aws-vpc: "
         "'service-1-owner-vpc-id' is no VPC id (vpc- and 8 or 17 characters), so no target group's VPC equals it: "
         "taken as no VPC filter (the AWS controller would find no target group)"],
        ["ServiceImport/production/orders-legacy-tg", "metadata.name: no route uses this ServiceImport: a "
         "ServiceImport only takes effect as a route's backendRef"]]


def test_the_seeds_routes_services_are_declared_in_the_owners_account_on_the_network_it_shares(seeds):
    owner, consumer = seeds["service-1-owner-cluster"], seeds["consumer"]
    services = {r["inputs"]["name"] for r in owner["resources"] if r["type"] == "aws:vpclattice/service:Service"}
    assert services == {"my-route-default", "my-grpc-route-default", "my-tls-route-default"}
    assert sorted(consumer["outputs"]["lattice"]["routeServices"]) == [
        "GRPCRoute/default/my-grpc-route", "HTTPRoute/default/my-route", "TLSRoute/default/my-tls-route"]
    [accepted] = [r for r in consumer["resources"] if r["type"].endswith("ResourceShareAccepter")]
    assert accepted["inputs"]["shareArn"] == owner["outputs"]["lattice"]["serviceNetworks"]["my-gateway"]["share"]


def test_the_seeds_consumer_plans_cleanly_with_the_owner_in_its_own_account_too(tmp_path: Path):
    fabric = Path(shutil.copytree(FIXTURES, tmp_path / "seeds", symlinks=True))
    edit(fabric, "fabric.yaml", '"444455556666"', '"111122223333"')  # no sharing needed: one account
    edit(fabric, "fabric.yaml", "  serviceNetworks:\n    - name: my-gateway\n      owner: service-1-owner-cluster\n",
         "  serviceNetworks: []\n")
    stacks = plan(PROJECT_DIR, fabric)["stacks"]
    assert {s: e.get("errors") for s, e in stacks.items()} == {"service-1-owner-cluster": None, "consumer": None}
    services = {r["inputs"]["name"] for r in stacks["consumer"]["resources"]
                if r["type"] == "aws:vpclattice/service:Service"}
    assert services == {"my-route-default", "my-grpc-route-default", "my-tls-route-default"}
