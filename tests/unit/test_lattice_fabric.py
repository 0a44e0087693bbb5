"""The fabric's VPC Lattice desired state, and the AWS rules across its stacks.

Each stack sees only itself at `pulumi up`; what AWS refuses between stacks of one account and Region (a name
taken twice, a target group used by two services, a VPC associated twice or with two networks, a quota) is
refused by `validate` first: one line naming file, object and field, and what collides with what.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from clusterfabric.offline.plan import plan
from clusterfabric.toolchain import PROJECT_DIR
from clusterfabric.components.model import load_fabric
from clusterfabric.components.model.graph import dependencies
from clusterfabric.components.model.lattice_rules import violations
from clusterfabric.components.model.routes import rule_priorities
from clusterfabric.components.model.limits import name_problem
from clusterfabric.components.model.validation import parse
from clusterfabric.components.model.gateway import HTTPRoute
from tests.unit.edited_fabric import edit, lines, warning_lines

ROUTE = """---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {name}, namespace: default}}
spec:
  parentRefs: [{{name: fabric-network, sectionName: http}}]
  rules:
    - backendRefs: [{{name: {backend}, kind: ServiceImport}}]
"""
IMPORT = """---
apiVersion: application-networking.k8s.aws/v1alpha1
kind: ServiceImport
metadata:
  name: {name}
  namespace: default
  annotations: {{{annotations}}}
spec: {{}}
"""
LEGACY_ARN = "arn:aws:vpc-lattice:us-west-2:111122223333:targetgroup/tg-0abc123def4567890"
QUOTA = """lattice:
  quotas:
    - {{accountId: "111122223333", region: us-west-2, {quota}}}
"""


def append(fabric: Path, file: str, text: str) -> None:
    path = fabric / file
    path.write_text(path.read_text() + text)


def export_groups(fabric: Path, export: str) -> list[tuple[str, str | None]]:
    """(cluster, consuming service) of each target group made for `export`."""
    return sorted((tg.cluster, tg.consumer) for tg in load_fabric(fabric).lattice.target_groups
                  if tg.source_kind == "ServiceExport" and tg.source_name == export)


# --- the desired state ----------------------------------------------------------------------------------


def test_an_exported_port_gets_a_target_group_for_each_service_forwarding_to_it(fabric: Path):
    append(fabric, "cluster3/routes.yaml", ROUTE.format(name="checkout-canary", backend="checkout"))
    assert export_groups(fabric, "checkout") == [("cluster1", "checkout-canary-default"),
                                                 ("cluster1", "checkout-default"),
                                                 ("cluster2", "checkout-canary-default"),
                                                 ("cluster2", "checkout-default")]


def test_an_exported_port_nobody_forwards_to_gets_one_target_group_serving_no_service_yet(fabric: Path):
    routes = fabric / "cluster3" / "routes.yaml"
    routes.write_text("---".join(d for d in routes.read_text().split("---") if "kind: GRPCRoute" not in d))
    assert export_groups(fabric, "inventory") == [("cluster2", None)]


def test_a_target_group_names_the_exported_port_it_serves_among_those_of_one_port(fabric: Path):
    # The same port exported for two route types: each target group points at its own entry.
    edit(fabric, "cluster2/exports.yaml", "    - port: 50051\n      routeType: GRPC\n",
         "    - port: 50051\n      routeType: GRPC\n    - port: 50051\n      routeType: HTTP\n")
    fields = {tg.route_type: tg.where.field for tg in load_fabric(fabric).lattice.target_groups
              if tg.source_kind == "ServiceExport" and tg.source_name == "inventory"}
    assert fields == {"GRPC": "spec.exportedPorts[0]", "HTTP": "spec.exportedPorts[1]"}


def test_an_export_of_another_region_is_no_candidate(fabric: Path):
    edit(fabric, "fabric.yaml", "      region: us-west-2\n      vpcId: vpc-0a1b2c3d4e5f60002\n      targets: {mode: ip",
         "      region: us-east-1\n      vpcId: vpc-0a1b2c3d4e5f60002\n      targets: {mode: ip")
    assert export_groups(fabric, "checkout") == [("cluster1", "checkout-default"), ("cluster2", None)]


def test_two_services_forwarding_to_one_export_forward_to_different_target_groups(fabric: Path):
    append(fabric, "cluster3/routes.yaml", ROUTE.format(name="checkout-canary", backend="checkout"))
    stacks = plan(PROJECT_DIR, fabric, ["cluster1", "cluster3"])["stacks"]
    assert {s: e.get("errors") for s, e in stacks.items()} == {"cluster1": None, "cluster3": None}
    [checkout] = [e for e in stacks["cluster1"]["outputs"]["lattice"]["exports"] if e["name"] == "checkout"]
    made = {g["service"]: g["arn"] for g in checkout["targetGroups"]}
    forwarded = {r["inputs"]["name"]: {g["targetGroupIdentifier"]
                                       for g in r["inputs"]["action"]["forward"]["targetGroups"]}
                 for r in stacks["cluster3"]["resources"] if r["type"].endswith("listenerRule:ListenerRule")}
    assert made["checkout-default"] in forwarded["checkout-r2"]
    assert made["checkout-canary-default"] in forwarded["checkout-canary-r1"]
    assert made["checkout-default"] != made["checkout-canary-default"]
    assert made["checkout-default"] not in forwarded["checkout-canary-r1"]


def test_a_change_to_an_importers_routes_reaches_the_exporters_that_make_its_target_groups(fabric: Path):
    # A pull request touching only cluster3's routes previews cluster1 and cluster2 too: they make a target group
    # for each of its services.
    assert dependencies(load_fabric(fabric)).affected({"cluster3"}) == {"cluster1", "cluster2", "cluster3"}


def test_target_group_names_are_valid_distinct_repeatable_and_name_cluster_export_and_service(fabric: Path):
    names = [tg.name for tg in load_fabric(fabric).lattice.target_groups]
    assert names == [tg.name for tg in load_fabric(fabric).lattice.target_groups]
    assert [n for n in names if name_problem("target group", n)] == [] and len(set(names)) == len(names)
    assert any(n.startswith("k8s-cluster2-default-checkout-80-http-http1-checkout-default-") for n in names)


def test_rules_without_a_priority_annotation_follow_the_last_one_given_as_the_controller_numbers_them():
    route = parse(HTTPRoute, {
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "r", "annotations": {"application-networking.k8s.aws/rule-1-priority": "10"}},
        "spec": {"parentRefs": [{"name": "g"}], "rules": [{"backendRefs": [{"name": "s", "port": 80}]}] * 3}},
        "routes.yaml", "HTTPRoute/default/r")
    assert rule_priorities(route) == ([11, 10, 12], [])


# --- the rules across stacks ------------------------------------------------------------------------------


def test_two_routes_whose_services_share_a_name_in_one_account_and_region_are_refused(fabric: Path):
    append(fabric, "cluster2/gateway.yaml", ROUTE.format(name="checkout", backend="checkout").replace(
        "kind: ServiceImport", "kind: Service, port: 80"))
    assert lines(fabric) == [
        "cluster3/routes.yaml: HTTPRoute/default/checkout: metadata.name: its Lattice service 'checkout-default' has "
        "the name of the service of HTTPRoute/default/checkout (cluster2/gateway.yaml) in cluster 'cluster2': service "
        "names are unique in 111122223333/us-west-2; set the annotation "
        "application-networking.k8s.aws/service-name-override on one of them"]


def test_two_target_groups_of_one_name_in_one_account_and_region_are_refused(fabric: Path):
    desired = load_fabric(fabric).lattice
    first, second = [tg for tg in desired.target_groups if tg.source_name == "checkout" and tg.source_kind ==
                     "ServiceExport"]
    desired.target_groups[desired.target_groups.index(second)] = dataclasses.replace(second, name=first.name)
    assert [str(v.problem).replace(f"{fabric}/", "") for v in violations(desired)] == [
        f"cluster2/exports.yaml: ServiceExport/default/checkout: spec.exportedPorts[0]: its target group "
        f"{first.name!r} has the name of a target group of ServiceExport/default/checkout (cluster1/exports.yaml) in "
        "cluster 'cluster1': target group names are unique in 111122223333/us-west-2"]


def test_two_services_forwarding_to_one_target_group_named_by_arn_are_refused(fabric: Path):
    append(fabric, "cluster3/imports.yaml", IMPORT.format(
        name="legacy", annotations=f'application-networking.k8s.aws/target-group-arn: "{LEGACY_ARN}"'))
    append(fabric, "cluster3/routes.yaml", ROUTE.format(name="legacy-a", backend="legacy")
           + ROUTE.format(name="legacy-b", backend="legacy"))
    assert lines(fabric) == [
        f"cluster3/routes.yaml: HTTPRoute/default/legacy-b: metadata.name: its Lattice service 'legacy-b-default' "
        f"forwards to target group {LEGACY_ARN}, which the service 'legacy-a-default' of HTTPRoute/default/legacy-a "
        "(cluster3/routes.yaml) in cluster 'cluster3' forwards to already: a target group serves the listeners of "
        "one service only"]


def test_a_target_group_named_by_arn_in_another_region_is_refused(fabric: Path):
    arn = LEGACY_ARN.replace("us-west-2", "us-east-2")
    append(fabric, "cluster3/imports.yaml", IMPORT.format(
        name="legacy", annotations=f'application-networking.k8s.aws/target-group-arn: "{arn}"'))
    append(fabric, "cluster3/routes.yaml", ROUTE.format(name="legacy", backend="legacy"))
    assert lines(fabric) == [
        f"cluster3/routes.yaml: HTTPRoute/default/legacy: spec.rules[0].backendRefs: it forwards to target group "
        f"{arn} of Region us-east-2, but its Lattice service is in 111122223333/us-west-2: a service forwards only "
        "to target groups of its Region"]


def test_a_vpc_joining_a_second_service_network_is_refused(fabric: Path):
    append(fabric, "cluster3/gateway.yaml", "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\n"
           "metadata: {name: other-network, namespace: default}\n"
           "spec: {gatewayClassName: amazon-vpc-lattice, listeners: [{name: http, protocol: HTTP, port: 80}]}\n")
    assert lines(fabric) == [
        "cluster3/gateway.yaml: Gateway/default/other-network: metadata.name: vpc-0a1b2c3d4e5f60002 would join "
        "service network 'other-network', but Gateway/default/fabric-network (cluster2/gateway.yaml) in cluster "
        "'cluster2' joins it to 'fabric-network': a VPC is associated with one service network only"]


def test_a_stack_breaking_a_rule_fails_its_preview_naming_the_collision_before_declaring_anything(fabric: Path):
    append(fabric, "cluster3/gateway.yaml", "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\n"
           "metadata: {name: other-network, namespace: default}\n"
           "spec: {gatewayClassName: amazon-vpc-lattice, listeners: [{name: http, protocol: HTTP, port: 80}]}\n")
    stacks = plan(PROJECT_DIR, fabric, ["cluster2", "cluster3"])["stacks"]
    for stack in ("cluster2", "cluster3"):  # the collision concerns both stacks
        [error] = stacks[stack]["errors"]
        assert ("Gateway/default/other-network: metadata.name: vpc-0a1b2c3d4e5f60002 would join service network "
                "'other-network', but Gateway/default/fabric-network") in error
        assert stacks[stack]["resources"] == []


def test_a_cluster_opting_out_of_the_association_its_vpc_has_from_another_cluster_is_a_warning(fabric: Path):
    edit(fabric, "cluster3/imports.yaml", "  securityGroupIds: [sg-0a1b2c3d4e5f6aaaa]", "  associateWithVpc: false")
    assert warning_lines(fabric) == [
        "cluster3/imports.yaml: VpcAssociationPolicy/default/fabric-network-sg: spec.associateWithVpc: "
        "associateWithVpc is false, but Gateway/default/fabric-network (cluster2/gateway.yaml) in cluster 'cluster2' "
        "associates the same VPC vpc-0a1b2c3d4e5f60002 with 'fabric-network', and clusters sharing a VPC share its "
        "association: it stays"]


def test_more_security_groups_on_a_shared_association_than_lattice_takes_are_refused(fabric: Path):
    groups = [f"sg-0a1b2c3d4e5f7{i:04x}" for i in range(5)]
    edit(fabric, "cluster3/imports.yaml", "[sg-0a1b2c3d4e5f6aaaa]", f"[{', '.join(groups)}]")
    assert lines(fabric) == [
        "cluster3/imports.yaml: VpcAssociationPolicy/default/fabric-network-sg: spec.securityGroupIds: the "
        "association of vpc-0a1b2c3d4e5f60002 with service network 'fabric-network' would have 6 security groups "
        f"(sg-0a1b2c3d4e5f60002, {', '.join(groups)}: every cluster of that VPC's) and VPC Lattice takes 5"]


THIRD_LISTENER = ("    - name: https\n      protocol: HTTPS\n      port: 443\n",
                  "    - name: https\n      protocol: HTTPS\n      port: 443\n"
                  "    - name: http-alt\n      protocol: HTTP\n      port: 8080\n")
ALL_LISTENERS = ("    - name: fabric-network\n      sectionName: http\n  rules:\n    - matches:\n        - path: "
                 "{type: PathPrefix, value: /legacy}",
                 "    - name: fabric-network\n  rules:\n    - matches:\n        - path: {type: PathPrefix, value: /legacy}")


def test_a_service_with_more_listeners_than_the_quota_is_refused(fabric: Path):
    edit(fabric, "cluster3/gateway.yaml", *THIRD_LISTENER)
    edit(fabric, "cluster3/routes.yaml", *ALL_LISTENERS)
    assert lines(fabric) == [
        "cluster3/routes.yaml: HTTPRoute/default/checkout: spec.parentRefs: its Lattice service 'checkout-default' "
        "would have 3 listeners (Gateway 'fabric-network': http (80), https (443), http-alt (8080)); the quota in "
        "111122223333/us-west-2 is 2 per service: attach it to fewer with sectionName, or declare a raised quota "
        "under lattice.quotas in fabric.yaml"]


def test_a_raised_listener_quota_declared_in_fabric_yaml_is_respected(fabric: Path):
    edit(fabric, "cluster3/gateway.yaml", *THIRD_LISTENER)
    edit(fabric, "cluster3/routes.yaml", *ALL_LISTENERS)
    append(fabric, "fabric.yaml", QUOTA.format(quota="listenersPerService: 3"))
    assert lines(fabric) == []


ELEVEN_RULES = ("    - backendRefs:\n        - name: checkout\n          port: 80\n          weight: 50",
                "".join(f"    - matches:\n        - path: {{type: PathPrefix, value: /v{i}}}\n      backendRefs:\n"
                        "        - {name: checkout, port: 80}\n" for i in range(8))
                + "    - backendRefs:\n        - name: checkout\n          port: 80\n          weight: 50")


def test_a_route_with_more_rules_than_the_quota_per_listener_is_refused(fabric: Path):
    edit(fabric, "cluster3/routes.yaml", *ELEVEN_RULES)
    assert lines(fabric) == [
        "cluster3/routes.yaml: HTTPRoute/default/checkout: spec.rules: 11 rules on each listener of its Lattice "
        "service 'checkout-default'; the quota in 111122223333/us-west-2 is 10 per listener: split the route, or "
        "declare a raised quota under lattice.quotas in fabric.yaml"]


def test_a_raised_rule_quota_declared_in_fabric_yaml_is_respected(fabric: Path):
    edit(fabric, "cluster3/routes.yaml", *ELEVEN_RULES)
    append(fabric, "fabric.yaml", QUOTA.format(quota="rulesPerListener: 12"))
    assert lines(fabric) == []


def test_a_forward_action_to_more_than_10_target_groups_is_refused(fabric: Path):
    for cluster in ("cluster1", "cluster2"):
        append(fabric, f"{cluster}/exports.yaml", "".join(
            f"---\napiVersion: application-networking.k8s.aws/v1alpha1\nkind: ServiceExport\nmetadata:\n"
            f"  name: checkout-v{i}\n  namespace: default\n  annotations:\n"
            "    application-networking.k8s.aws/federation: amazon-vpc-lattice\n"
            "    application-networking.k8s.aws/service-name: checkout\n"
            "spec: {exportedPorts: [{port: 80, routeType: HTTP}]}\n" for i in range(6)))
    append(fabric, "cluster3/imports.yaml", "".join(IMPORT.format(name=f"checkout-v{i}", annotations="")
                                                   for i in range(6)))
    append(fabric, "cluster3/routes.yaml", ROUTE.format(name="spread", backend="checkout-v0").replace(
        "    - backendRefs: [{name: checkout-v0, kind: ServiceImport}]\n",
        "    - backendRefs: [" + ", ".join(f"{{name: checkout-v{i}, kind: ServiceImport}}" for i in range(6)) + "]\n"))
    assert lines(fabric) == [
        "cluster3/routes.yaml: HTTPRoute/default/spread: spec.rules[0].backendRefs: its forward action would have "
        "12 target groups (a ServiceImport matching several clusters counts each); VPC Lattice takes 1-10 per action"]


def test_two_listeners_of_one_port_on_one_service_are_refused(fabric: Path):
    edit(fabric, "cluster3/gateway.yaml", "      protocol: HTTPS\n      port: 443",
         "      protocol: HTTPS\n      port: 80")
    edit(fabric, "cluster3/routes.yaml", *ALL_LISTENERS)
    assert lines(fabric) == [
        "cluster3/routes.yaml: HTTPRoute/default/checkout: spec.parentRefs: Gateway 'fabric-network' listeners "
        "'http' and 'https' both use port 80, and a Lattice service has one listener per port: attach the route to "
        "one of them with sectionName"]


CERTIFICATE = "arn:aws:acm:us-west-2:111122223333:certificate/0a1b2c3d-4e5f-6789-0abc-def012345678"
HTTPS_CERTIFICATE = ("      protocol: HTTPS\n      port: 443", "      protocol: HTTPS\n      port: 443\n      tls:\n"
                     f"        options:\n          application-networking.k8s.aws/certificate-arn: {CERTIFICATE}")


def test_a_gateway_listeners_certificate_is_the_certificate_of_the_services_attached_to_it(fabric: Path):
    edit(fabric, "cluster3/gateway.yaml", *HTTPS_CERTIFICATE)
    edit(fabric, "cluster3/routes.yaml", "      sectionName: https\n", "      sectionName: https\n  hostnames:\n"
         "    - inventory.example.com\n")
    cluster3 = plan(PROJECT_DIR, fabric, ["cluster3"])["stacks"]["cluster3"]
    [inventory] = [r["inputs"] for r in cluster3["resources"] if r["type"] == "aws:vpclattice/service:Service"
                   and r["inputs"]["name"] == "inventory-default"]
    assert (inventory["certificateArn"], inventory["customDomainName"]) == (CERTIFICATE, "inventory.example.com")


UNSERVED_CERTIFICATE = (
    f"cluster3/routes.yaml: GRPCRoute/default/inventory: spec.hostnames: its Gateway listener gives the certificate "
    f"{CERTIFICATE} (certificate-arn), which VPC Lattice serves only for a custom domain name, and the route has no "
    "hostname: its Lattice service gets the certificate, as with the controller, but clients get the one of its "
    "generated domain; add the hostname the certificate is for")


def test_a_listener_certificate_for_a_route_without_hostname_is_a_warning(fabric: Path):
    edit(fabric, "cluster3/gateway.yaml", *HTTPS_CERTIFICATE)
    assert warning_lines(fabric) == [UNSERVED_CERTIFICATE]


def test_a_route_without_hostname_gets_its_listeners_certificate_and_no_custom_domain_as_from_the_controller(
        fabric: Path):
    edit(fabric, "cluster3/gateway.yaml", *HTTPS_CERTIFICATE)
    cluster3 = plan(PROJECT_DIR, fabric, ["cluster3"])["stacks"]["cluster3"]
    [inventory] = [r["inputs"] for r in cluster3["resources"] if r["type"] == "aws:vpclattice/service:Service"
                   and r["inputs"]["name"] == "inventory-default"]
    assert (inventory["certificateArn"], "customDomainName" in inventory) == (CERTIFICATE, False)
    assert [w.replace(f"{fabric}/", "") for w in cluster3["warnings"]] == [UNSERVED_CERTIFICATE]


def test_a_weight_shared_among_clusters_that_cannot_keep_the_rules_proportions_is_a_warning(fabric: Path):
    edit(fabric, "cluster3/routes.yaml", "          port: 80\n          weight: 50", "          port: 80\n          weight: 999")
    edit(fabric, "cluster3/routes.yaml", "          kind: ServiceImport\n          weight: 50",
         "          kind: ServiceImport\n          weight: 1")
    assert warning_lines(fabric) == [
        "cluster3/routes.yaml: HTTPRoute/default/checkout: spec.rules[2].backendRefs: weights 999:1 are sent as "
        "backendRefs[0] Service default/checkout 999, backendRefs[1] cluster1 1, backendRefs[1] cluster2 1: VPC "
        "Lattice takes whole weights up to 999, a ServiceImport's weight is shared among the clusters it matches, "
        "and none gets 0 (it would get no traffic); the backends get 999:2 of the traffic"]


def controller_lookup(fabric: Path, export: str) -> list[str]:
    """The target groups of cluster1 and cluster2 a controller resolving a ServiceImport of `export` (namespace
    default, in this account) may take: those tagged as findSvcExportTG of controller v2.1.3 looks for them."""
    tag = "application-networking.k8s.aws/"
    stacks = plan(PROJECT_DIR, fabric, ["cluster1", "cluster2"])["stacks"]
    return sorted(r["inputs"]["name"] for stack in stacks.values() for r in stack["resources"]
                  if r["type"] == "aws:vpclattice/targetGroup:TargetGroup"
                  and r["inputs"]["tags"].get(f"{tag}SourceTypeKey") == "ServiceExport"
                  and r["inputs"]["tags"][f"{tag}ServiceName"] == export
                  and r["inputs"]["tags"][f"{tag}ServiceNamespace"] == "default")


def test_a_controller_managed_importer_finds_no_target_group_a_fabric_service_forwards_to(fabric: Path):
    assert export_groups(fabric, "checkout") == [("cluster1", "checkout-default"), ("cluster2", "checkout-default")]
    assert controller_lookup(fabric, "checkout") == []


def test_a_controller_managed_importer_finds_the_target_group_of_an_export_no_fabric_service_uses(fabric: Path):
    routes = fabric / "cluster3" / "routes.yaml"
    routes.write_text("---".join(d for d in routes.read_text().split("---") if "kind: GRPCRoute" not in d))
    [group] = [tg for tg in load_fabric(fabric).lattice.target_groups if tg.source_name == "inventory"]
    assert group.consumer is None
    assert controller_lookup(fabric, "inventory") == [group.name]


def test_a_rule_without_backends_is_a_fixed_500_as_the_controller_builds_it(fabric: Path):
    edit(fabric, "cluster3/routes.yaml", "          kind: ServiceImport\n          weight: 50\n",
         "          kind: ServiceImport\n          weight: 50\n    - matches:\n        - path: {type: Exact, value: /gone}\n")
    cluster3 = plan(PROJECT_DIR, fabric, ["cluster3"])["stacks"]["cluster3"]
    [gone] = [r["inputs"] for r in cluster3["resources"] if r["type"] == "aws:vpclattice/listenerRule:ListenerRule"
              and r["inputs"]["name"] == "checkout-r4"]
    assert (gone["match"]["httpMatch"]["pathMatch"]["match"], gone["action"]) == (
        {"exact": "/gone"}, {"fixedResponse": {"statusCode": 500}})

