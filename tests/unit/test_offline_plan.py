"""`clusterfabric plan --offline`: every stack evaluated under mocks, StackReferences answered in dependency order."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from clusterfabric.offline.plan import plan
from clusterfabric.toolchain import PROJECT_DIR
from tests.schemas import errors

EXAMPLE = PROJECT_DIR / "config"


def named(stack: dict, suffix: str) -> dict[str, dict]:
    return {r["inputs"].get("name", r["name"]): r["inputs"] for r in stack["resources"] if r["type"].endswith(suffix)}


@pytest.fixture(scope="module")
def cli_json() -> str:
    result = subprocess.run([sys.executable, "-m", "clusterfabric", "plan", "--offline", "--stack", "cluster3", "--json"],
                            capture_output=True, text=True, cwd=PROJECT_DIR)
    assert result.returncode == 0, result.stderr
    return result.stdout


def numbers(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from numbers(v)
    elif isinstance(value, list):
        for v in value:
            yield from numbers(v)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield value


def test_cli_prints_the_documented_json_shape(cli_json):
    stacks = json.loads(cli_json)["stacks"]
    assert list(stacks) == ["cluster3"]  # the stacks it reads are evaluated, only the asked one is shown
    assert set(stacks["cluster3"]) == {"resources", "outputs", "warnings"}
    assert all(set(r) == {"type", "name", "inputs"} for r in stacks["cluster3"]["resources"])


def test_cli_json_prints_whole_numbers_as_integers(cli_json):
    found = list(numbers(json.loads(cli_json)))
    assert 8080 in found and 443 in found  # the Service's targetPort, a listener's port
    assert [n for n in found if isinstance(n, float)] == []
    assert '"targetPort": 8080.0' not in cli_json  # as the issue saw it


def test_every_stack_of_both_dataplanes_plans_without_errors_or_warnings(example_plan):
    assert list(example_plan) == ["east", "cluster1", "west", "cluster2", "central", "cluster3"]
    assert {s: (e.get("errors"), e["warnings"]) for s, e in example_plan.items()} == {s: (None, []) for s in example_plan}


def published(plan: dict, stack: str, export: str, service: str) -> str:
    """The ARN of the target group `stack` made of `export` for Lattice service `service`."""
    [entry] = [e for e in plan[stack]["outputs"]["lattice"]["exports"] if e["name"] == export]
    [arn] = [g["arn"] for g in entry["targetGroups"] if g["service"] == service]
    return arn


def test_route_spreads_over_the_local_service_and_the_import_of_two_clusters(example_plan):
    [local] = named(example_plan["cluster3"], "targetGroup:TargetGroup").values()
    rules = named(example_plan["cluster3"], "listenerRule:ListenerRule")
    assert local["type"] == "ALB" and local["tags"]["application-networking.k8s.aws/RouteName"] == "checkout"
    targets = [(g["targetGroupIdentifier"], g["weight"]) for g in rules["checkout-r3"]["action"]["forward"]["targetGroups"]]
    assert targets[1:] == [(published(example_plan, "cluster1", "checkout", "checkout-default"), 50),
                           (published(example_plan, "cluster2", "checkout", "checkout-default"), 50)]
    assert targets[0][1] == 100 and targets[0][0].startswith("arn:aws:vpc-lattice:us-west-2:111122223333:targetgroup/")


def test_export_name_import_resolves_to_checkout_cluster1_of_cluster1(example_plan):
    rule = named(example_plan["cluster3"], "listenerRule:ListenerRule")["checkout-r1"]
    assert rule["match"]["httpMatch"]["pathMatch"]["match"] == {"prefix": "/legacy"}
    assert rule["action"]["forward"]["targetGroups"] == [
        {"targetGroupIdentifier": published(example_plan, "cluster1", "checkout-cluster1", "checkout-default"),
         "weight": 1}]


def test_two_exports_of_one_service_are_two_target_groups_tagged_with_their_export_names(example_plan):
    groups = named(example_plan["cluster1"], "targetGroup:TargetGroup")
    exported = sorted((g["tags"]["application-networking.k8s.aws/ServiceName"], g["config"]["port"])
                      for g in groups.values() if "checkout" in g["tags"]["application-networking.k8s.aws/ServiceName"])
    node_port = exported[0][1]
    assert exported == [("checkout", node_port), ("checkout-cluster1", node_port)]


def test_header_matches_are_sent_case_insensitive_as_the_controller_sends_them(example_plan):
    rule = named(example_plan["cluster3"], "listenerRule:ListenerRule")["checkout-r2"]
    assert rule["match"]["httpMatch"]["headerMatches"] == [
        {"name": "x-canary", "caseSensitive": False, "match": {"exact": "true"}}]


def test_services_carry_the_route_tags_the_controller_writes_and_reads_when_it_adopts_one(example_plan):
    service = named(example_plan["cluster3"], "vpclattice/service:Service")["inventory-default"]
    assert service["tags"] == {"application-networking.k8s.aws/ManagedBy": "111122223333/cluster3/vpc-0a1b2c3d4e5f60002",
                               "application-networking.k8s.aws/RouteName": "inventory",
                               "application-networking.k8s.aws/RouteNamespace": "default",
                               "application-networking.k8s.aws/RouteType": "grpc"}


def test_listeners_take_the_controllers_names(example_plan):
    listeners = named(example_plan["cluster3"], "listener:Listener")
    assert {name: (listener["protocol"], listener["port"]) for name, listener in listeners.items()} == {
        "checkout-default-80-http": ("HTTP", 80), "inventory-default-443-https": ("HTTPS", 443),
        "payments-default-8443-tls": ("TLS_PASSTHROUGH", 8443)}


def test_service_network_is_created_by_its_owner_and_joined_by_the_others(example_plan):
    network = named(example_plan["cluster1"], "serviceNetwork:ServiceNetwork")["fabric-network"]
    assert network["authType"] == "AWS_IAM"
    assert len(example_plan["cluster1"]["resources"]) and named(example_plan["cluster1"], "authPolicy:AuthPolicy")
    network_id = example_plan["cluster1"]["outputs"]["lattice"]["serviceNetworks"]["fabric-network"]["id"]
    for stack in ("cluster2", "cluster3"):
        assert named(example_plan[stack], "serviceNetwork:ServiceNetwork") == {}
    [association] = named(example_plan["cluster2"], "ServiceNetworkVpcAssociation").values()
    assert association["serviceNetworkIdentifier"] == network_id


def test_the_vpc_two_clusters_share_is_associated_once_with_the_security_groups_of_both(example_plan):
    [association] = named(example_plan["cluster2"], "ServiceNetworkVpcAssociation").values()
    assert association["vpcIdentifier"] == "vpc-0a1b2c3d4e5f60002"
    # cluster2's own groups, then those cluster3's VpcAssociationPolicy asks for (cluster3 comes later in fabric.yaml)
    assert association["securityGroupIds"] == ["sg-0a1b2c3d4e5f60002", "sg-0a1b2c3d4e5f6aaaa"]
    assert named(example_plan["cluster3"], "ServiceNetworkVpcAssociation") == {}


def test_owner_subscribes_the_network_access_logs(example_plan):
    [subscription] = named(example_plan["cluster1"], "accessLogSubscription:AccessLogSubscription").values()
    assert subscription["destinationArn"] == "arn:aws:logs:us-west-2:111122223333:log-group:/vpc-lattice/fabric-network"
    assert subscription["resourceIdentifier"].startswith("arn:aws:vpc-lattice:us-west-2:111122223333:servicenetwork/sn-")


def test_instance_mode_makes_the_exported_service_a_pinned_node_port(example_plan):
    [checkout] = [r["inputs"] for r in example_plan["cluster1"]["resources"]
                  if r["type"] == "kubernetes:core/v1:Service" and r["inputs"]["metadata"]["name"] == "checkout"]
    [port] = checkout["spec"]["ports"]
    assert checkout["spec"]["type"] == "NodePort" and 30000 <= port["nodePort"] <= 32767
    for tg in named(example_plan["cluster1"], "targetGroup:TargetGroup").values():
        if tg["tags"]["application-networking.k8s.aws/ServiceName"].startswith("checkout"):
            assert tg["config"]["port"] == port["nodePort"]


def test_every_kubernetes_object_of_the_plan_validates_against_its_schema(example_plan):
    checked = 0
    for stack in example_plan.values():
        for r in stack["resources"]:
            if r["type"].startswith("kubernetes:") and not r["type"].startswith("kubernetes:apiextensions"):
                _, group_version, kind = r["type"].split(":")
                api = group_version.removeprefix("core/")
                obj = {"apiVersion": api, "kind": kind, **{k: v for k, v in r["inputs"].items()
                                                              if k in ("metadata", "spec", "rules", "roleRef",
                                                                       "subjects", "type", "stringData")}}
                if kind == "Secret":
                    assert obj.pop("stringData") == "[secret]"  # certificate material is never shown in a plan
                assert errors(obj) == [], r["name"]
                checked += 1
    assert checked > 20


def test_import_matching_nothing_fails_the_plan_naming_the_filters(tmp_path: Path):
    fabric = Path(shutil.copytree(EXAMPLE, tmp_path / "fabric"))
    imports = fabric / "cluster3" / "imports.yaml"
    imports.write_text(imports.read_text().replace('aws-eks-cluster-name: "cluster1"', 'aws-eks-cluster-name: "cluster2"'))
    result = plan(PROJECT_DIR, fabric, ["cluster3"])["stacks"]["cluster3"]
    [error] = result["errors"]
    assert ("routes.yaml: HTTPRoute/default/checkout: spec.rules[0].backendRefs[0]: ServiceImport default/"
            "checkout-import-1: no exported service matches export-name=checkout-cluster1, namespace=default, "
            "routeType=HTTP, aws-eks-cluster-name=cluster2; exports seen: ") in error
    assert result["resources"] == []  # nothing declared before the check


def test_an_importer_plans_when_its_exporter_has_an_export_nobody_consumes(tmp_path: Path):
    fabric = Path(shutil.copytree(EXAMPLE, tmp_path / "fabric"))
    exports = fabric / "cluster1" / "exports.yaml"
    exports.write_text(exports.read_text() + """---
apiVersion: application-networking.k8s.aws/v1alpha1
kind: ServiceExport
metadata:
  name: spare
  namespace: default
  annotations:
    application-networking.k8s.aws/federation: "amazon-vpc-lattice"
    application-networking.k8s.aws/service-name: "checkout"
spec:
  exportedPorts:
    - port: 80
      routeType: HTTP
""")
    result = plan(PROJECT_DIR, fabric, ["cluster3"])["stacks"]["cluster3"]  # it reads cluster1's exports
    assert result.get("errors") is None
    assert result["resources"]


def test_a_hand_written_peer_is_written_at_the_gateways_its_manifest_gives(tmp_path: Path):
    fabric = Path(shutil.copytree(EXAMPLE, tmp_path / "fabric"))
    sharing = fabric / "central" / "sharing.yaml"
    sharing.write_text(sharing.read_text() + """---
apiVersion: clusterlink.net/v1alpha1
kind: Peer
metadata:
  name: far
  namespace: clusterlink-system
spec:
  gateways: ["far.example.com:30443"]
""")
    result = plan(PROJECT_DIR, fabric, ["central"])["stacks"]["central"]
    peers = {r["inputs"]["metadata"]["name"]: r["inputs"]["spec"] for r in result["resources"]
             if r["type"] == "kubernetes:clusterlink.net/v1alpha1:Peer"}
    assert peers == {"east": {"gateways": [{"host": "clusterlink.east.example.com", "port": 443}]},
                     "west": {"gateways": [{"host": "clusterlink.west.example.com", "port": 30443}]},
                     "far": {"gateways": [{"host": "far.example.com", "port": 30443}]}}
