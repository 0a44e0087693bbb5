"""The public Lattice components (components.lattice) used alone in a program with no fabric.yaml, under mocks and
the Lattice fake; and ServiceExport served by the component package (components/plugin) as the host constructs it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.errors import InputPropertiesError
from pulumi.runtime.sync_await import _sync_await

from clusterfabric.components.lattice import GRPCRoute, HTTPRoute, ServiceExport, ServiceImport, ServiceNetwork, TLSRoute
from clusterfabric.components.model.errors import InputError
from clusterfabric.components.plugin.package import package
from tests.mocks import declare
from tests.unit.lattice_helpers import MY_GATEWAY, OWNER_TG, ROUTES, declare_importer, fabric_with, owner_exports

CHECKOUT: dict[str, Any] = {
    "name": "checkout", "namespace": "shop",
    "exported_ports": [{"port": 80, "route_type": "HTTP", "target_port": 8080}],
    "cluster": "cluster1", "account_id": "111122223333", "region": "us-west-2", "vpc_id": "vpc-0a1b2c3d4e5f60001",
    "targets": {"mode": "ip", "ips": ["10.0.0.1", "10.0.0.2"]}}
GROUP = "k8s-cluster1-shop-checkout-80-http-http1-checkout-shop-9398b180"
PREFIX = "application-networking.k8s.aws/"


def exported(args: dict[str, Any]) -> tuple[Any, list]:
    found: list = []

    def program() -> None:
        ServiceExport("checkout", args).target_groups.apply(found.extend)

    return declare(program), found


def test_service_export_alone_declares_a_target_group_per_consumer_with_its_targets():
    declared, groups = exported({**CHECKOUT, "consumers": ["checkout-shop"]})
    assert sorted((r["type"], r["name"]) for r in declared.resources) == [
        ("aws:vpclattice/targetGroup:TargetGroup", f"checkout-{GROUP}"),
        ("aws:vpclattice/targetGroupAttachment:TargetGroupAttachment", f"checkout-{GROUP}-10-0-0-1"),
        ("aws:vpclattice/targetGroupAttachment:TargetGroupAttachment", f"checkout-{GROUP}-10-0-0-2"),
        ("clusterfabric:lattice:ServiceExport", "checkout"),
    ]
    tg = declared.one("targetGroup:TargetGroup")["inputs"]
    assert (tg["name"], tg["type"], tg["config"]["port"], tg["config"]["protocolVersion"]) == (GROUP, "IP", 80, "HTTP1")
    assert tg["tags"] == {
        f"{PREFIX}ManagedBy": "111122223333/cluster1/vpc-0a1b2c3d4e5f60001", f"{PREFIX}ClusterName": "cluster1",
        f"{PREFIX}ServiceName": "checkout", f"{PREFIX}ServiceNamespace": "shop",
        f"{PREFIX}ProtocolVersion": "HTTP1", "clusterfabric.io/consumer-service": "checkout-shop"}
    assert sorted((a["inputs"]["target"] for a in declared.of_type("TargetGroupAttachment")), key=str) == [
        {"id": "10.0.0.1", "port": 8080}, {"id": "10.0.0.2", "port": 8080}]
    assert groups == [{"port": 80, "consumer": "checkout-shop", "name": GROUP,
                       "arn": "arn:aws:vpc-lattice:us-west-2:111122223333:targetgroup/" + tg_id(declared)}]


def tg_id(declared: Any) -> str:
    return declared.one("targetGroupAttachment:TargetGroupAttachment", f"checkout-{GROUP}-10-0-0-1")[
        "inputs"]["targetGroupIdentifier"]


def test_service_export_gives_each_consumer_its_own_target_group_and_one_without_consumers():
    _, two = exported({**CHECKOUT, "consumers": ["checkout-shop", "cart-shop"]})
    assert [g.get("consumer") for g in two] == ["cart-shop", "checkout-shop"]
    _, none = exported(CHECKOUT)
    assert [(g["port"], g.get("consumer")) for g in none] == [(80, None)]


@pytest.mark.parametrize("change, message", [
    ({"exported_ports": [{"port": 70000, "route_type": "HTTP"}]},
     "spec.exportedPorts[0].port: Input should be less than or equal to 65535"),
    ({"exported_ports": [{"port": 80, "route_type": "TCP"}]},
     "spec.exportedPorts[0].routeType: Input should be 'HTTP', 'GRPC' or 'TLS'"),
    ({"exported_ports": []},
     "spec.exportedPorts: at least one exported port: there is no Service here to take them from"),
    ({"name": "checkout.v2"},
     "metadata.name: 'checkout.v2' holds a '.': the controller names the export's target groups after it, and VPC "
     "Lattice names take only a-z, 0-9 and '-'"),
    ({"targets": {"mode": "ip"}}, "lattice.targets: targets mode ip needs targets.ips"),
])
def test_service_export_refuses_bad_input_with_validates_message_naming_the_field(change, message):
    with pytest.raises(InputError) as refused:
        ServiceExport("checkout", {**CHECKOUT, **change})
    obj = f"ServiceExport/shop/{change.get('name', 'checkout')}"
    assert str(refused.value) == f"clusterfabric:lattice:ServiceExport checkout: {obj}: {message}"


def test_two_exports_making_the_same_target_group_are_refused_by_the_lattice_api():
    declared = declare(lambda: [ServiceExport(name, CHECKOUT) for name in ("one", "two")], refusals_allowed=True)
    assert len(declared.refusals) == 1 and "ConflictException" in declared.refusals[0]


def test_service_network_alone_declares_its_policy_access_logs_and_vpc_association():
    policy = '{"Version": "2012-10-17", "Statement": []}'
    logs = "arn:aws:logs:us-west-2:111122223333:log-group:lattice"
    declared = declare(lambda: ServiceNetwork("shop", {
        "name": "shop-network", "auth_policy": policy, "access_logs": logs, "tags": {"team": "shop"},
        "vpc_associations": [{"vpc_id": "vpc-0a1b2c3d4e5f60001", "security_group_ids": ["sg-0123456789abcdef0"]}]}))
    assert sorted((r["type"], r["name"]) for r in declared.resources) == [
        ("aws:vpclattice/accessLogSubscription:AccessLogSubscription", "shop-access-logs"),
        ("aws:vpclattice/authPolicy:AuthPolicy", "shop-auth"),
        ("aws:vpclattice/serviceNetwork:ServiceNetwork", "shop"),
        ("aws:vpclattice/serviceNetworkVpcAssociation:ServiceNetworkVpcAssociation", "shop-vpc-0a1b2c3d4e5f60001"),
        ("clusterfabric:lattice:ServiceNetwork", "shop"),
    ]
    network = declared.one("serviceNetwork:ServiceNetwork")["inputs"]
    assert (network["name"], network["authType"], network["tags"]) == ("shop-network", "AWS_IAM", {"team": "shop"})
    association = declared.one("ServiceNetworkVpcAssociation")["inputs"]
    assert (association["vpcIdentifier"], association["securityGroupIds"]) == (
        "vpc-0a1b2c3d4e5f60001", ["sg-0123456789abcdef0"])
    assert association["serviceNetworkIdentifier"] == declared.one("authPolicy:AuthPolicy")["inputs"][
        "resourceIdentifier"].replace("arn:aws:vpc-lattice:us-west-2:111122223333:servicenetwork/", "")


@pytest.mark.parametrize("change, message", [
    ({"auth_policy": "{}"}, "spec.policy: policy must be an IAM policy document with a Statement"),
    ({"vpc_associations": [{"vpc_id": "vpc-0a1b2c3d4e5f60001", "security_group_ids": ["sg-1"]}]},
     "spec.securityGroupIds[0]: String should match pattern '^sg-([0-9a-f]{8}|[0-9a-f]{17})$'"),
])
def test_service_network_refuses_bad_input_with_validates_message_naming_the_field(change, message):
    with pytest.raises(InputError) as refused:
        ServiceNetwork("shop", {"name": "shop-network", **change})
    assert str(refused.value) == f"clusterfabric:lattice:ServiceNetwork shop: ServiceNetwork/shop-network: {message}"


def test_two_networks_of_one_name_are_refused_by_the_lattice_api():
    declared = declare(lambda: [ServiceNetwork(name, {"name": "shop-network"}) for name in ("one", "two")],
                       refusals_allowed=True)
    assert len(declared.refusals) == 1 and "ConflictException" in declared.refusals[0]


# --- served by the component package -----------------------------------------------------------------------

PACKAGE = package()
ENGINE_INPUTS = {  # as the engine hands them to the provider: the schema's names, numbers as floats
    "name": "checkout", "namespace": "shop", "exportedPorts": [{"port": 80.0, "routeType": "HTTP"}],
    "cluster": "cluster1", "accountId": "111122223333", "region": "us-west-2", "vpcId": "vpc-0a1b2c3d4e5f60001",
    "targets": {"mode": "instance", "autoScalingGroup": "nodes"}, "consumers": ["checkout-shop"]}


def test_the_package_constructs_service_export_from_the_engines_inputs():
    declared = declare(lambda: PACKAGE.construct("checkout", "clusterfabric:lattice:ServiceExport", ENGINE_INPUTS))
    tg = declared.one("targetGroup:TargetGroup")["inputs"]
    assert (tg["type"], tg["config"]["port"]) == ("INSTANCE", 80)
    source = declared.one("trafficSourceAttachment:TrafficSourceAttachment")["inputs"]
    assert (source["autoscalingGroupName"], source["trafficSource"]["type"]) == ("nodes", "vpc-lattice")


def test_the_package_reports_a_refused_service_export_argument_as_a_bad_input_property():
    bad = {**ENGINE_INPUTS, "exportedPorts": [{"port": 70000.0, "routeType": "HTTP"}]}
    with pytest.raises(InputPropertiesError) as refused:
        PACKAGE.construct("checkout", "clusterfabric:lattice:ServiceExport", bad)
    assert refused.value.errors == [{"property_path": "exportedPorts[0].port",
                                     "reason": "Input should be less than or equal to 65535"}]


def test_the_package_reports_a_refused_lattice_setting_as_the_service_export_argument_it_comes_from():
    with pytest.raises(InputPropertiesError) as refused:
        PACKAGE.construct("checkout", "clusterfabric:lattice:ServiceExport", {**ENGINE_INPUTS, "vpcId": "vpc-shop"})
    assert refused.value.errors == [{"property_path": "vpcId",
                                     "reason": "String should match pattern '^vpc-([0-9a-f]{8}|[0-9a-f]{17})$'"}]


def test_package_schema_puts_the_served_lattice_components_and_their_types_in_the_lattice_module():
    schema = json.loads(PACKAGE.schema)
    lattice = "clusterfabric:lattice:"
    assert [r for r in sorted(schema["resources"]) if r.startswith(lattice)] == [f"{lattice}{c}" for c in (
        "GRPCRoute", "HTTPRoute", "ServiceExport", "ServiceImport", "ServiceNetwork", "TLSRoute")]
    assert [t for t in sorted(schema["types"]) if t.startswith(lattice)] == [f"{lattice}{t}" for t in (
        "BackendArgs", "ExportTargetGroupArgs", "ExportedPortArgs", "ExportedTargetGroup", "GRPCMethodArgs",
        "GatewayArgs", "HeaderMatchArgs", "ListenerArgs", "MatchArgs", "PathMatchArgs", "PublishedExportArgs",
        "ResolvedExport", "RuleArgs", "ShareArgs", "TargetsArgs", "VpcAssociationArgs")]


def test_the_documented_standalone_program_declares_a_network_an_export_and_a_route():
    text = (Path(__file__).resolve().parents[2] / "docs" / "components.md").read_text()
    program = re.search(r"## VPC Lattice.*?```python\n(.*?)```", text, re.S).group(1)  # type: ignore[union-attr]
    declared = declare(lambda: exec(program, {}))
    assert sorted({r["type"] for r in declared.resources}) == [
        "aws:vpclattice/listener:Listener", "aws:vpclattice/listenerRule:ListenerRule",
        "aws:vpclattice/service:Service", "aws:vpclattice/serviceNetwork:ServiceNetwork",
        "aws:vpclattice/serviceNetworkServiceAssociation:ServiceNetworkServiceAssociation",
        "aws:vpclattice/serviceNetworkVpcAssociation:ServiceNetworkVpcAssociation",
        "aws:vpclattice/targetGroup:TargetGroup", "aws:vpclattice/targetGroupAttachment:TargetGroupAttachment",
        "clusterfabric:lattice:HTTPRoute", "clusterfabric:lattice:ServiceExport",
        "clusterfabric:lattice:ServiceNetwork", "pulumi:providers:aws"]


# --- routes ---------------------------------------------------------------------------------------------------

SCOPE_ARGS = {"account_id": "111122223333", "region": "us-west-2"}
HTTP_GATEWAY = {"name": "shop-network", "listeners": [{"name": "http", "protocol": "HTTP", "port": 80}]}


def routed(route: type, args: dict[str, Any], refusals_allowed: bool = False) -> Any:
    """`route` alone with a network and the target group of export shop/checkout it forwards to."""

    def program() -> None:
        network = ServiceNetwork("shop", {"name": "shop-network"})
        consumer = args.get("service_name", f"{args['name']}-{args['namespace']}")
        route_type = {HTTPRoute: "HTTP", GRPCRoute: "GRPC", TLSRoute: "TLS"}[route]
        export = ServiceExport("checkout", {**CHECKOUT, "consumers": [consumer],
                                            "exported_ports": [{"port": 80, "route_type": route_type}]})
        arn = export.target_groups.apply(lambda groups: groups[0]["arn"])
        route(args["name"], {**SCOPE_ARGS, **args, "gateway": {**args["gateway"], "network_id": network.network_id},
                             "rules": [{**rule, "backends": [{"target_group": arn, **b} for b in rule["backends"]]}
                                       for rule in args["rules"]]})

    return declare(program, refusals_allowed=refusals_allowed)


def test_http_route_alone_declares_its_service_association_listener_and_a_rule_per_route_rule():
    declared = routed(HTTPRoute, {"name": "cart", "namespace": "shop", "gateway": HTTP_GATEWAY, "rules": [
        {"matches": [{"path": {"type": "Exact", "value": "/cart"}, "method": "POST",
                      "headers": [{"name": "x-env", "value": "prod"}]}], "backends": [{"weight": 3}]},
        {"backends": [{}]}]})
    assert sorted((r["type"], r["name"]) for r in declared.resources if "targetGroup" not in r["type"]
                  and "ServiceExport" not in r["type"] and "Network" not in r["type"].split(":")[-1]) == [
        ("aws:vpclattice/listener:Listener", "cart-shop-network-http"),
        ("aws:vpclattice/listenerRule:ListenerRule", "cart-shop-network-http-1"),
        ("aws:vpclattice/listenerRule:ListenerRule", "cart-shop-network-http-2"),
        ("aws:vpclattice/service:Service", "cart"),
        ("clusterfabric:lattice:HTTPRoute", "cart"),
    ]
    service = declared.one("service:Service")["inputs"]
    assert (service["name"], service["authType"]) == ("cart-shop", "NONE")
    assert declared.one("ServiceNetworkServiceAssociation", "cart-shop-network")["inputs"][
        "serviceNetworkIdentifier"].startswith("sn-")
    listener = declared.one("listener:Listener")["inputs"]
    assert (listener["name"], listener["protocol"], listener["port"]) == ("cart-shop-80-http", "HTTP", 80)
    first, second = (declared.one("ListenerRule", f"cart-shop-network-http-{i}")["inputs"] for i in (1, 2))
    assert (first["name"], first["priority"], first["match"]["httpMatch"]) == ("cart-r1", 1, {
        "method": "POST", "pathMatch": {"caseSensitive": True, "match": {"exact": "/cart"}},
        "headerMatches": [{"name": "x-env", "caseSensitive": False, "match": {"exact": "prod"}}]})
    assert [t["weight"] for t in first["action"]["forward"]["targetGroups"]] == [3]
    assert (second["priority"], second["match"]["httpMatch"]["pathMatch"]["match"]) == (2, {"prefix": "/"})


def test_grpc_route_alone_matches_its_method_as_a_post_to_its_path():
    declared = routed(GRPCRoute, {"name": "inventory", "namespace": "shop", "gateway": {**HTTP_GATEWAY},
                                  "rules": [{"matches": [{"grpc_method": {"service": "shop.Inventory",
                                                                          "method": "Get"}}], "backends": [{}]}]})
    match = declared.one("listenerRule:ListenerRule")["inputs"]["match"]["httpMatch"]
    assert (match["method"], match["pathMatch"]["match"]) == ("POST", {"exact": "/shop.Inventory/Get"})


def test_tls_route_alone_is_a_passthrough_listener_forwarding_by_default_with_no_rules():
    declared = routed(TLSRoute, {
        "name": "payments", "namespace": "shop", "hostnames": ["payments.example.com"],
        "gateway": {"name": "shop-network", "listeners": [{"name": "tls", "protocol": "TLS", "port": 443}]},
        "rules": [{"backends": [{}]}]})
    listener = declared.one("listener:Listener")["inputs"]
    assert (listener["protocol"], listener["port"]) == ("TLS_PASSTHROUGH", 443)
    assert listener["defaultAction"]["forwards"][0]["targetGroups"][0]["targetGroupIdentifier"].startswith(
        "arn:aws:vpc-lattice:us-west-2:111122223333:targetgroup/tg-")
    assert declared.one("service:Service")["inputs"]["customDomainName"] == (
        "payments.example.com")
    assert declared.of_type("listenerRule:ListenerRule") == []


def test_http_route_alone_with_a_certificate_and_no_hostname_gets_the_certificate_and_a_warning(monkeypatch):
    said: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: said.append(message))
    certificate = "arn:aws:acm:us-west-2:111122223333:certificate/0a1b2c3d"
    declared = routed(HTTPRoute, {"name": "cart", "namespace": "shop", "rules": [{"backends": [{}]}], "gateway": {
        "name": "shop-network", "listeners": [{"name": "https", "protocol": "HTTPS", "port": 443,
                                               "certificate_arn": certificate}]}})
    service = declared.one("service:Service")["inputs"]
    assert (service["certificateArn"], "customDomainName" in service) == (certificate, False)
    assert said == [f"clusterfabric:lattice:HTTPRoute cart: HTTPRoute/shop/cart: spec.hostnames: its Gateway listener "
                    f"gives the certificate {certificate} (certificate-arn), which VPC Lattice serves only for a "
                    "custom domain name, and the route has no hostname: its Lattice service gets the certificate, as "
                    "with the controller, but clients get the one of its generated domain; add the hostname the "
                    "certificate is for"]


ROUTE = {"name": "cart", "namespace": "shop", "gateway": {**HTTP_GATEWAY, "network_id": "sn-0123456789abcdef0"},
         "rules": [{"backends": [{"target_group": "tg-0123456789abcdef0"}]}], **SCOPE_ARGS}


@pytest.mark.parametrize("change, message", [
    ({"rules": [{"backends": [{"target_group": "tg-0123456789abcdef0", "weight": 1000}]}]},
     "HTTPRoute/shop/cart: spec.rules[0].backendRefs[0].weight: 1000 is above 999, the largest weight VPC Lattice "
     "takes for a target group"),
    ({"rules": [{"matches": [{"path": {"value": "cart"}}], "backends": [{"target_group": "tg-0123456789abcdef0"}]}]},
     "HTTPRoute/shop/cart: spec.rules[0].matches[0].path.value: String should match pattern '^/'"),
    ({"gateway": {**HTTP_GATEWAY, "network_id": "sn-1", "listeners": [
        {"name": "a", "protocol": "HTTP", "port": 80}, {"name": "b", "protocol": "HTTP", "port": 81},
        {"name": "c", "protocol": "HTTP", "port": 82}]}},
     "HTTPRoute/shop/cart: spec.parentRefs: its Lattice service 'cart-shop' would have 3 listeners (Gateway "
     "'shop-network': a (80), b (81), c (82)); the quota in 111122223333/us-west-2 is 2 per service: attach it to "
     "fewer with sectionName, or declare a raised quota under lattice.quotas in fabric.yaml"),
    ({"section_names": ["https"]},
     "HTTPRoute/shop/cart: spec.parentRefs[0].sectionName: Gateway 'shop-network' has no listener 'https' "
     "(listeners: http)"),
    ({"service_name": "svc-cart"},
     "HTTPRoute/shop/cart: metadata.name: service name 'svc-cart' must not start with 'svc-' (reserved by VPC "
     "Lattice); set the annotation application-networking.k8s.aws/service-name-override"),
    ({"auth_policy": "not json"},
     "HTTPRoute/shop/cart: spec.policy: policy is not a JSON document: Expecting value at line 1"),
])
def test_http_route_refuses_bad_input_with_validates_message_naming_the_field(change, message):
    with pytest.raises(InputError) as refused:
        HTTPRoute("cart", {**ROUTE, **change})
    assert str(refused.value) == f"clusterfabric:lattice:HTTPRoute cart: {message}"


def test_tls_route_without_a_hostname_is_refused_with_validates_message():
    with pytest.raises(InputError) as refused:
        TLSRoute("payments", {**ROUTE, "name": "payments", "gateway": {
            "name": "shop-network", "network_id": "sn-1",
            "listeners": [{"name": "tls", "protocol": "TLS", "port": 443}]}})
    assert str(refused.value) == (
        "clusterfabric:lattice:TLSRoute payments: TLSRoute/shop/payments: spec.hostnames: a TLSRoute needs a hostname: "
        "VPC Lattice requires a custom domain name (the first hostname) for a TLS passthrough service, and the "
        "controller refuses it too")


def test_a_route_forwarding_to_a_target_group_that_does_not_exist_is_refused_by_the_lattice_api():
    def program() -> None:
        network = ServiceNetwork("shop", {"name": "shop-network"})
        HTTPRoute("cart", {**ROUTE, "gateway": {**HTTP_GATEWAY, "network_id": network.network_id}})

    declared = declare(program, refusals_allowed=True)
    assert declared.refusals == [
        "test: cart-shop-network-http-1 (ListenerRule): ResourceNotFoundException: CreateRule: TargetGroup "
        "tg-0123456789abcdef0 was not found in this account and Region"]


# --- ServiceImport ---------------------------------------------------------------------------------------------

PUBLISHED = {"name": "checkout", "namespace": "shop", "port": 80, "route_type": "HTTP", "account_id": "111122223333",
             "region": "us-west-2", "vpc_id": "vpc-0a1b2c3d4e5f60001"}
EXPORTS = [
    {**PUBLISHED, "cluster": "cluster1", "target_groups": [{"consumer": "cart-shop", "arn": "arn:tg/1-cart"},
                                                           {"consumer": "web-shop", "arn": "arn:tg/1-web"}]},
    {**PUBLISHED, "cluster": "cluster2", "vpc_id": "vpc-0a1b2c3d4e5f60002",
     "target_groups": [{"consumer": "cart-shop", "arn": "arn:tg/2-cart"}]},
    {**PUBLISHED, "cluster": "cluster3", "route_type": "GRPC"},
    {**PUBLISHED, "cluster": "cluster4", "region": "eu-west-1"},
]
IMPORT = {"name": "checkout", "namespace": "shop", "route_type": "HTTP", "account_id": "111122223333",
          "region": "us-west-2", "exports": EXPORTS}


def imported(args: dict[str, Any]) -> tuple[Any, list]:
    found: list = []
    declared = declare(lambda: ServiceImport("checkout", args).exports.apply(found.extend))
    return declared, found


def test_service_import_alone_resolves_to_the_exports_of_its_route_type_account_and_region_and_declares_nothing():
    declared, found = imported({**IMPORT, "consumer": "cart-shop"})
    assert [(r["type"], r["name"]) for r in declared.resources] == [("clusterfabric:lattice:ServiceImport", "checkout")]
    assert found == [
        {"cluster": "cluster1", "namespace": "shop", "name": "checkout", "port": 80, "route_type": "HTTP",
         "target_group": "arn:tg/1-cart"},
        {"cluster": "cluster2", "namespace": "shop", "name": "checkout", "port": 80, "route_type": "HTTP",
         "target_group": "arn:tg/2-cart"}]


def test_service_import_alone_keeps_to_the_cluster_and_vpc_it_names():
    assert [e["cluster"] for e in imported({**IMPORT, "cluster": "cluster2"})[1]] == ["cluster2"]
    assert [e["cluster"] for e in imported({**IMPORT, "vpc_id": "vpc-0a1b2c3d4e5f60001"})[1]] == ["cluster1"]


def test_service_import_matching_no_export_is_refused_with_validates_message():
    with pytest.raises(InputError) as refused:
        ServiceImport("checkout", {**IMPORT, "exports": EXPORTS[2:]})
    assert str(refused.value) == (
        "clusterfabric:lattice:ServiceImport checkout: ServiceImport/shop/checkout: metadata.name: no exported service "
        "matches export-name=checkout, namespace=shop, routeType=HTTP; exports seen: shop/checkout:80/GRPC in cluster3 "
        "(vpc-0a1b2c3d4e5f60001), shop/checkout:80/HTTP in cluster4 (vpc-0a1b2c3d4e5f60001, another account or "
        "Region: 111122223333/eu-west-1)")


def test_service_import_whose_cluster_filter_names_no_cluster_matches_no_export():
    with pytest.raises(InputError) as refused:
        ServiceImport("checkout", {**IMPORT, "cluster": "cluster 1"})
    assert str(refused.value).startswith(
        "clusterfabric:lattice:ServiceImport checkout: ServiceImport/shop/checkout: metadata.name: no exported service "
        "matches export-name=checkout, namespace=shop, routeType=HTTP, aws-eks-cluster-name=cluster 1; exports seen: ")


def test_in_the_fabric_each_service_import_outputs_the_exports_its_routes_backends_reach(tmp_path: Path):
    fabric = fabric_with(tmp_path, {"gateway.yaml": MY_GATEWAY}, ["service-import-1.yaml", *ROUTES])
    components: list[Any] = []

    def watch(args: Any) -> None:
        if args.type_ == "clusterfabric:lattice:ServiceImport":
            components.append(args.resource)

    declare_importer(fabric, owner_exports(), [OWNER_TG.format(i) for i in range(3)], watch)
    [component] = components
    assert _sync_await(component.exports.future()) == [
        {"cluster": "service-1-owner-cluster", "namespace": "default", "name": "service-1", "port": 80,
         "route_type": route_type} for route_type in ("GRPC", "HTTP", "TLS")]


def test_the_package_constructs_a_service_network_with_its_vpc_association_from_the_engines_inputs():
    declared = declare(lambda: PACKAGE.construct("shop", "clusterfabric:lattice:ServiceNetwork", {
        "name": "shop-network", "vpcAssociations": [{"vpcId": "vpc-0a1b2c3d4e5f60001",
                                                     "securityGroupIds": ["sg-0123456789abcdef0"]}]}))
    assert sorted((r["type"], r["name"]) for r in declared.resources) == [
        ("aws:vpclattice/serviceNetwork:ServiceNetwork", "shop"),
        ("aws:vpclattice/serviceNetworkVpcAssociation:ServiceNetworkVpcAssociation", "shop-vpc-0a1b2c3d4e5f60001"),
        ("clusterfabric:lattice:ServiceNetwork", "shop")]
    assert declared.one("serviceNetwork:ServiceNetwork")["inputs"]["authType"] == "NONE"


def test_the_package_constructs_a_service_import_resolving_the_exports_it_is_given():
    engine = {"name": "checkout", "namespace": "shop", "routeType": "HTTP", "accountId": "111122223333",
              "region": "us-west-2", "consumer": "cart-shop", "exports": [
                  {"cluster": "cluster1", "name": "checkout", "namespace": "shop", "port": 80.0, "routeType": "HTTP",
                   "accountId": "111122223333", "region": "us-west-2", "vpcId": "vpc-0a1b2c3d4e5f60001",
                   "targetGroups": [{"consumer": "cart-shop", "arn": "arn:tg/1-cart"}]}]}
    result = declare(lambda: PACKAGE.construct("checkout", "clusterfabric:lattice:ServiceImport", engine))
    assert [(r["type"], r["name"]) for r in result.resources] == [("clusterfabric:lattice:ServiceImport", "checkout")]


def test_the_package_reports_a_refused_service_network_argument_as_a_bad_input_property():
    with pytest.raises(InputPropertiesError) as refused:
        PACKAGE.construct("shop", "clusterfabric:lattice:ServiceNetwork", {"name": "shop--network"})
    [problem] = refused.value.errors
    assert problem["property_path"] == "name"
