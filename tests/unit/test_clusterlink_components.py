"""ClusterLink's components used alone, in a program with no fabric.yaml (under mocks), and the package serving them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clusterfabric.components.clusterlink import AccessPolicy, Export, Import, Peer, Platform
from clusterfabric.components.model.errors import InputError
from clusterfabric.components.plugin.package import package
from clusterfabric.components.plugin.provider import Package
from tests.mocks import declare

CA, CERT, KEY = "-----CA-----\n", "-----PEER-----\n", "-----KEY-----\n"


def refusal(make) -> str:
    with pytest.raises(InputError) as refused:
        make()
    return str(refused.value)


def test_export_declares_its_cr_with_only_the_fields_given():
    declared = declare(lambda: Export("checkout", {"name": "checkout", "namespace": "shop", "port": 8080}))
    assert [(r["type"], r["name"]) for r in declared.resources] == [
        ("clusterfabric:clusterlink:Export", "checkout"), ("kubernetes:clusterlink.net/v1alpha1:Export", "checkout")]
    cr = declared.one("v1alpha1:Export", "checkout")["inputs"]
    assert (cr["metadata"], cr["spec"]) == ({"name": "checkout", "namespace": "shop"}, {"port": 8080})


def test_export_of_a_host_writes_the_host_and_the_labels_given():
    declared = declare(lambda: Export("db", {"name": "db", "namespace": "shop", "port": 5432, "host": "10.0.0.7",
                                             "labels": {"tier": "data"}}))
    cr = declared.one("v1alpha1:Export")["inputs"]
    assert cr["metadata"] == {"name": "db", "namespace": "shop", "labels": {"tier": "data"}}
    assert cr["spec"] == {"host": "10.0.0.7", "port": 5432}


def test_export_port_0_is_refused_with_validates_message():
    assert refusal(lambda: Export("checkout", {"name": "checkout", "namespace": "shop", "port": 0})) == (
        "clusterfabric:clusterlink:Export checkout: Export/shop/checkout: spec.port: "
        "Input should be greater than or equal to 1")


def test_whole_numbers_pulumi_sends_as_floats_are_integers_and_others_are_refused():
    declared = declare(lambda: Peer("east", {"name": "east", "gateways": [{"host": "east.example.com", "port": 443.0}]}))
    assert declared.one("v1alpha1:Peer")["inputs"]["spec"]["gateways"][0]["port"] == 443
    assert refusal(lambda: Export("checkout", {"name": "checkout", "namespace": "shop", "port": 80.5})) == (
        "clusterfabric:clusterlink:Export checkout: Export/shop/checkout: spec.port: Input should be a valid integer")


def test_import_writes_lb_scheme_explicitly_and_sources_in_the_crs_field_names():
    declared = declare(lambda: Import("reviews", {
        "name": "reviews", "namespace": "shop", "port": 9080,
        "sources": [{"export_name": "reviews", "export_namespace": "books", "peer": "east"}]}))
    assert declared.one("v1alpha1:Import", "reviews")["inputs"]["spec"] == {
        "port": 9080, "lbScheme": "random",
        "sources": [{"exportName": "reviews", "exportNamespace": "books", "peer": "east"}]}


def test_import_outputs_its_service_and_the_target_port_given():
    imports = []
    declared = declare(lambda: imports.append(Import("reviews", {
        "name": "reviews", "namespace": "shop", "port": 9080, "target_port": 20080, "lb_scheme": "static",
        "labels": {"import.clusterlink.net/merge": "true"},
        "sources": [{"export_name": "reviews", "export_namespace": "books", "peer": "east"}]})))
    cr = declared.one("v1alpha1:Import")["inputs"]
    assert (cr["spec"]["targetPort"], cr["spec"]["lbScheme"]) == (20080, "static")
    assert cr["metadata"]["labels"] == {"import.clusterlink.net/merge": "true"}
    assert (imports[0].service, imports[0].target_port) == ("reviews.shop.svc.cluster.local", 20080)


def test_import_named_as_no_service_can_be_is_refused():
    assert refusal(lambda: Import("reviews", {
        "name": "9reviews", "namespace": "shop", "port": 9080,
        "sources": [{"export_name": "reviews", "export_namespace": "books", "peer": "east"}]})) == (
        "clusterfabric:clusterlink:Import reviews: Import/shop/9reviews: metadata.name: '9reviews' is not a DNS-1035 "
        "label: at most 63 characters of a-z, 0-9 and '-', starting with a letter and ending with a letter or digit")


def test_import_target_port_outside_the_data_plane_range_is_refused():
    assert refusal(lambda: Import("reviews", {
        "name": "reviews", "namespace": "shop", "port": 9080, "target_port": 80,
        "sources": [{"export_name": "reviews", "export_namespace": "books", "peer": "east"}]})) == (
        "clusterfabric:clusterlink:Import reviews: Import/shop/reviews: spec.targetPort: targetPort 80, outside "
        "1024-49151 where data plane ports are chosen; remove targetPort to have one chosen, or pick one in the range")


def test_peer_goes_in_clusterlinks_namespace_unless_told():
    declared = declare(lambda: Peer("east", {"name": "east", "gateways": [{"host": "east.example.com", "port": 443}]}))
    cr = declared.one("v1alpha1:Peer", "east")["inputs"]
    assert cr["metadata"] == {"name": "east", "namespace": "clusterlink-system"}
    assert cr["spec"] == {"gateways": [{"host": "east.example.com", "port": 443}]}


def test_peer_without_a_gateway_is_refused():
    assert refusal(lambda: Peer("east", {"name": "east", "gateways": []})) == (
        "clusterfabric:clusterlink:Peer east: Peer/clusterlink-system/east: spec.gateways: "
        "List should have at least 1 item after validation, not 0")


ALLOW_CENTRAL = {"workload_selector": {"match_labels": {"peer.clusterlink.net/name": "central"}}}
EVERYTHING = {"workload_selector": {}}


def test_access_policy_writes_from_and_to_as_clusterlink_names_them():
    declared = declare(lambda: AccessPolicy("allow-central", {
        "name": "allow-central", "namespace": "shop", "action": "allow", "from_": [ALLOW_CENTRAL],
        "to": [{"workload_selector": {"match_expressions": [
            {"key": "export.clusterlink.net/name", "operator": "In", "values": ["checkout"]}]}}]}))
    cr = declared.one("v1alpha1:AccessPolicy")["inputs"]
    assert cr["metadata"] == {"name": "allow-central", "namespace": "shop"}
    assert cr["spec"] == {
        "action": "allow", "from": [{"workloadSelector": {"matchLabels": {"peer.clusterlink.net/name": "central"}}}],
        "to": [{"workloadSelector": {"matchExpressions": [
            {"key": "export.clusterlink.net/name", "operator": "In", "values": ["checkout"]}]}}]}


def test_privileged_access_policy_is_cluster_wide():
    declared = declare(lambda: AccessPolicy("deny-all", {
        "name": "deny-all", "privileged": True, "action": "deny", "from_": [EVERYTHING], "to": [EVERYTHING]}))
    [component, cr] = declared.resources
    assert (component["type"], cr["type"]) == ("clusterfabric:clusterlink:AccessPolicy",
                                               "kubernetes:clusterlink.net/v1alpha1:PrivilegedAccessPolicy")
    assert cr["inputs"]["metadata"] == {"name": "deny-all"}
    assert cr["inputs"]["spec"] == {"action": "deny", "from": [{"workloadSelector": {}}],
                                    "to": [{"workloadSelector": {}}]}


def test_privileged_access_policy_in_a_namespace_is_refused():
    assert refusal(lambda: AccessPolicy("deny-all", {
        "name": "deny-all", "namespace": "shop", "privileged": True, "action": "deny", "from_": [EVERYTHING],
        "to": [EVERYTHING]})) == (
        "clusterfabric:clusterlink:AccessPolicy deny-all: PrivilegedAccessPolicy/shop/deny-all: metadata.namespace: "
        "PrivilegedAccessPolicy is cluster-scoped: remove metadata.namespace")


def test_access_policy_action_other_than_allow_or_deny_is_refused():
    assert refusal(lambda: AccessPolicy("p", {"name": "p", "namespace": "shop", "action": "permit",
                                              "from_": [EVERYTHING], "to": [EVERYTHING]})) == (
        "clusterfabric:clusterlink:AccessPolicy p: AccessPolicy/shop/p: spec.action: Input should be 'allow' or 'deny'")


def test_platform_alone_deploys_clusterlink_in_its_namespace_with_the_images_and_labels_given():
    declared = declare(lambda: Platform("east", {
        "peer": "east", "namespace": "cl", "ingress": {"type": "NodePort", "port": 30443}, "labels": {"env": "prod"},
        "registry": "registry.example.com/cl", "image_tag": "v0.4.0", "dataplane": {"type": "go", "replicas": 2},
        "fabric_ca_cert": CA, "peer_cert": CERT, "peer_key": KEY}))
    assert declared.resources[0]["type"] == "clusterfabric:clusterlink:Platform"
    controlplane = declared.one("apps/v1:Deployment", "east-cl-controlplane")["inputs"]
    assert controlplane["metadata"]["namespace"] == "cl"
    [container] = controlplane["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "registry.example.com/cl/cl-controlplane:v0.4.0"
    assert container["args"] == ["--log-level", "info", "--peer-label", "env=prod"]
    dataplane = declared.one("apps/v1:Deployment", "east-cl-dataplane")["inputs"]["spec"]
    assert dataplane["replicas"] == 2
    assert dataplane["template"]["spec"]["containers"][0]["image"] == "registry.example.com/cl/cl-go-dataplane:v0.4.0"
    ingress = declared.one("core/v1:Service", "east-clusterlink")["inputs"]["spec"]
    assert (ingress["type"], ingress["ports"]) == ("NodePort", [
        {"name": "dataplane", "port": 443, "targetPort": 4443, "nodePort": 30443}])
    peer_secret = declared.one("core/v1:Secret", "east-cl-peer")["inputs"]["stringData"]
    assert peer_secret["value"] == {"cert.pem": CERT + CA, "key.pem": KEY, "ca.pem": CA}  # sent as a secret


def test_platform_node_port_outside_the_node_port_range_is_refused():
    assert refusal(lambda: Platform("east", {"peer": "east", "ingress": {"type": "NodePort", "port": 443},
                                             "fabric_ca_cert": CA, "peer_cert": CERT, "peer_key": KEY})) == (
        "clusterfabric:clusterlink:Platform east: Platform/east: ingress.port: a NodePort ingress's port is the node "
        "port, 30000-32767 (got 443); the Service itself listens on 443")


def test_package_schema_puts_the_clusterlink_components_and_their_types_in_the_clusterlink_module():
    schema = json.loads(package().schema)
    assert [r for r in sorted(schema["resources"]) if ":clusterlink:" in r] == [
        f"clusterfabric:clusterlink:{c}" for c in ("AccessPolicy", "Export", "Import", "Peer", "Platform")]
    assert [t for t in sorted(schema["types"]) if ":clusterlink:" in t] == [f"clusterfabric:clusterlink:{t}" for t in (
        "AccessPolicyWorkloads", "ImportSource", "PeerGateway", "PlatformDataplane", "PlatformIngress",
        "WorkloadSelector", "WorkloadSelectorRequirement")]
    policy = schema["resources"]["clusterfabric:clusterlink:AccessPolicy"]
    assert policy["inputProperties"]["from"]["items"]["$ref"] == "#/types/clusterfabric:clusterlink:AccessPolicyWorkloads"
    assert sorted(policy["requiredInputs"]) == ["action", "from", "name", "to"]


def test_package_gives_each_module_its_components_and_the_types_they_use():
    schema = json.loads(Package("clusterfabric", {"clusterlink": [Export, Import], "other": [Peer]}).schema)
    assert sorted(schema["resources"]) == ["clusterfabric:clusterlink:Export", "clusterfabric:clusterlink:Import",
                                           "clusterfabric:other:Peer"]
    assert sorted(schema["types"]) == ["clusterfabric:clusterlink:ImportSource", "clusterfabric:other:PeerGateway"]
    gateways = schema["resources"]["clusterfabric:other:Peer"]["inputProperties"]["gateways"]
    assert gateways["items"]["$ref"] == "#/types/clusterfabric:other:PeerGateway"


def test_package_schema_keeps_list_arguments_plain_and_asks_go_for_their_items_input_types():
    schema = json.loads(package().schema)
    sources = schema["resources"]["clusterfabric:clusterlink:Import"]["inputProperties"]["sources"]
    assert sources["plain"] is True and sources["items"]["plain"] is True
    assert schema["language"]["go"] == {"respectSchemaVersion": True, "generateExtraInputTypes": True}


def test_package_serves_a_component_only_under_its_own_module():
    served = package()
    served.validate_resource_type("clusterfabric", "clusterfabric:clusterlink:Export")
    with pytest.raises(ValueError, match="not a component of package clusterfabric"):
        served.validate_resource_type("clusterfabric", "clusterfabric:lattice:Export")


def test_the_python_example_of_the_docs_declares_the_four_crs():
    docs = (Path(__file__).resolve().parents[2] / "docs" / "components.md").read_text()
    section = docs.split("\n## ClusterLink\n", 1)[1].split("\n## ", 1)[0]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    declared = declare(lambda: exec(example, {}))
    assert sorted((r["type"].rsplit(":", 1)[1], r["name"]) for r in declared.of_type("")
                  if r["type"].startswith("kubernetes:clusterlink.net/")) == [
        ("AccessPolicy", "allow-east"), ("Export", "checkout"), ("Import", "reviews"), ("Peer", "east")]
