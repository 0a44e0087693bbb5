"""`clusterfabric validate` on broken copies of the example fabric: one exact line per problem."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from clusterfabric.runner.cli import validate
from clusterfabric.toolchain import PROJECT_DIR
from tests.unit.edited_fabric import edit, lines, warning_lines

CASES = {
    "import from a peer outside the fabric": (
        "central/sharing.yaml", "peer:             east", "peer:             north",
        "central/sharing.yaml: Import/default/iperf3-server: spec.sources[0].peer: "
        "no ClusterLink peer 'north' in the fabric (peers: central, east, west)"),
    "import of an export the peer does not have": (
        "central/sharing.yaml", "exportName:       iperf3-server", "exportName:       iperf3",
        "central/sharing.yaml: Import/default/iperf3-server: spec.sources[0].exportName: "
        "peer 'east' exports no default/iperf3 (its exports: bookinfo/reviews, default/iperf3-server)"),
    "export of a Service that does not exist": (
        "east/sharing.yaml", "  name: reviews\n  namespace: bookinfo\nspec:\n  port: 9080",
        "  name: reviews\n  namespace: bookinfo\nspec:\n  port: 9080\n---\napiVersion: clusterlink.net/v1alpha1\n"
        "kind: Export\nmetadata:\n  name: ratings\n  namespace: bookinfo\nspec:\n  port: 9080",
        "east/sharing.yaml: Export/bookinfo/ratings: metadata.name: no Service bookinfo/ratings in this cluster's "
        "manifests; an Export without spec.host shares the Service of its name in its namespace"),
    "import of the name of a Service the cluster declares": (
        "central/services.yaml", "      port: 9080",
        "      port: 9080\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: reviews\n  namespace: bookinfo\n"
        "spec:\n  ports:\n    - port: 9080",
        "central/sharing.yaml: Import/bookinfo/reviews: metadata.name: ClusterLink creates the Service "
        "bookinfo/reviews for this import and refuses one it does not manage, as this cluster declares: label the "
        "import import.clusterlink.net/merge: \"true\" to join that Service, or rename one"),
    "export host that the data plane resolves in its own namespace": (
        "east/sharing.yaml", "  name: reviews\n  namespace: bookinfo\nspec:\n  port: 9080",
        "  name: reviews\n  namespace: bookinfo\nspec:\n  host: reviews\n  port: 9080",
        "east/sharing.yaml: Export/bookinfo/reviews: spec.host: ClusterLink's data plane resolves 'reviews' in its "
        "own namespace 'clusterlink-system', not in 'bookinfo': leave host out to share the Service bookinfo/reviews "
        "(ClusterLink then dials reviews.bookinfo.svc.cluster.local), or give a fully qualified name"),
    "export of a port the Service does not have": (
        "east/sharing.yaml", "port:  5000", "port:  5001",
        "east/sharing.yaml: Export/default/iperf3-server: spec.port: Service default/iperf3-server has no port "
        "5001 (its ports: 5000)"),
    "merge import without its Service": (
        "central/services.yaml", "name: details", "name: detail",
        "central/sharing.yaml: Import/bookinfo/details: metadata.labels: a merge import needs the Service "
        "bookinfo/details to exist in this cluster's manifests"),
    "two imports asking for the same targetPort": (
        "central/sharing.yaml", "  port: 9080\n  lbScheme: round-robin", "  port: 9080\n  targetPort: 7000\n  lbScheme: round-robin",
        None),
    "unknown lbScheme": (
        "central/sharing.yaml", "lbScheme: round-robin", "lbScheme: least-conn",
        "central/sharing.yaml: Import/bookinfo/reviews: spec.lbScheme: Input should be 'random', 'round-robin' "
        "or 'static'"),
    "import name longer than 63 characters": (
        "central/sharing.yaml", "name: iperf3-server\n  namespace: default", f"name: {'i' * 64}\n  namespace: default",
        f"central/sharing.yaml: Import/default/{'i' * 64}: metadata.name: '{'i' * 64}' is not a DNS-1035 label: "
        "at most 63 characters of a-z, 0-9 and '-', starting with a letter and ending with a letter or digit"),
    "exporter without a gateway": (
        "fabric.yaml", "      gateway: {host: clusterlink.east.example.com, port: 443}\n", "",
        "fabric.yaml: Cluster/-/east: clusterlink.gateway: required: central import from 'east' and need the "
        "host and port where its gateway is reachable"),
    "cluster listed twice": (
        "fabric.yaml", "  - name: central", "  - name: west",
        "fabric.yaml: Fabric: -: cluster 'west' is listed twice; each cluster is one stack"),
    "out-of-range data plane replicas": (
        "fabric.yaml", "replicas: 2", "replicas: 11",
        "fabric.yaml: Fabric: clusters[1].clusterlink.dataplane.replicas: Input should be less than or equal to 10"),
    "privileged policy with a namespace": (
        "west/sharing.yaml", "  name: deny-non-prod\n", "  name: deny-non-prod\n  namespace: bookinfo\n",
        "west/sharing.yaml: PrivilegedAccessPolicy/-/deny-non-prod: metadata.namespace: PrivilegedAccessPolicy is "
        "cluster-scoped: remove metadata.namespace"),
    "policy with an unknown action": (
        "east/sharing.yaml", "action: allow", "action: permit",
        "east/sharing.yaml: AccessPolicy/default/allow-all: spec.action: Input should be 'allow' or 'deny'"),
    "import with no sources": (
        "central/sharing.yaml",
        "  sources:\n    - exportName:       iperf3-server\n      exportNamespace:  default\n      peer:             east\n",
        "  sources: []\n",
        "central/sharing.yaml: Import/default/iperf3-server: spec.sources: List should have at least 1 item after "
        "validation, not 0"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_fabric_is_rejected_with_the_right_line(fabric: Path, case: str):
    file, old, new, expected = CASES[case]
    edit(fabric, file, old, new)
    if expected is None:  # the second explicit port of the same value
        edit(fabric, "central/sharing.yaml", "  port: 9080\n  sources:\n    - exportName: details",
             "  port: 9080\n  targetPort: 7000\n  sources:\n    - exportName: details")
        expected = ("central/sharing.yaml: Import/bookinfo/details: spec.targetPort: targetPort 7000 is already used "
                    "by Import/bookinfo/reviews; each Import needs its own data plane port (or leave it out to have "
                    "one chosen)")
    assert lines(fabric) == [expected]


def test_import_no_policy_can_allow_is_a_warning_not_an_error(fabric: Path):
    edit(fabric, "central/sharing.yaml", "  name: allow-all\n  namespace: bookinfo\nspec:\n  action: allow",
         "  name: allow-all\n  namespace: bookinfo\nspec:\n  action: deny")
    problems, warnings = validate(fabric)
    assert problems == []
    assert [w.replace(f"{fabric}/", "") for w in warnings] == [
        f"central/sharing.yaml: Import/bookinfo/{name}: spec.sources[{i}]: no policy can allow it on the egress side "
        "(cluster 'central', namespace 'bookinfo'); add an AccessPolicy with action allow"
        for name, i in (("reviews", 0), ("reviews", 1), ("details", 0))
    ]


def test_exporter_policy_that_blocks_the_importer_is_reported_on_the_ingress_side(fabric: Path):
    edit(fabric, "east/sharing.yaml", "peer.clusterlink.net/name: central", "peer.clusterlink.net/name: west")
    _, warnings = validate(fabric)
    assert [w.replace(f"{fabric}/", "") for w in warnings] == [
        "central/sharing.yaml: Import/bookinfo/reviews: spec.sources[0]: no policy can allow it on the ingress side "
        "(cluster 'east', namespace 'bookinfo'); the exporter needs an AccessPolicy with action allow"
    ]


def test_cli_exits_1_with_one_line_per_problem_and_no_traceback(fabric: Path):
    edit(fabric, "east/sharing.yaml", "port:  5000", "port:  70000")
    edit(fabric, "west/services.yaml", "port: 9080", "port: x")
    result = subprocess.run([sys.executable, "-m", "clusterfabric", "validate", "--fabric", str(fabric)],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert [line.split(": ")[1:3] for line in result.stderr.splitlines()] == [
        ["Export/default/iperf3-server", "spec.port"],
        ["Service/bookinfo/reviews", "spec.ports[0].port"],
    ]


def test_cli_exits_0_on_the_example_fabric():
    result = subprocess.run([sys.executable, "-m", "clusterfabric", "validate", "--fabric", str(PROJECT_DIR / "config")],
                            capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (0, "")


LATTICE_CASES = {
    "import naming a target group and an export at once": (
        "cluster3/imports.yaml", '    application-networking.k8s.aws/aws-eks-cluster-name: "cluster1"\n',
        '    application-networking.k8s.aws/aws-eks-cluster-name: "cluster1"\n    application-networking.k8s.aws/'
        'target-group-arn: "arn:aws:vpc-lattice:us-west-2:111122223333:targetgroup/tg-0abc123def4567890"\n',
        "cluster3/imports.yaml: ServiceImport/default/checkout-import-1: metadata.annotations: "
        "application-networking.k8s.aws/target-group-arn names the target group directly and conflicts with "
        "application-networking.k8s.aws/export-name, application-networking.k8s.aws/aws-eks-cluster-name: keep one mode"),
    "import matching no export": (
        "cluster3/imports.yaml", 'aws-eks-cluster-name: "cluster1"', 'aws-eks-cluster-name: "cluster9"',
        "cluster3/routes.yaml: HTTPRoute/default/checkout: spec.rules[0].backendRefs[0]: ServiceImport "
        "default/checkout-import-1: no exported service matches export-name=checkout-cluster1, namespace=default, "
        "routeType=HTTP, aws-eks-cluster-name=cluster9; exports seen: default/checkout:80/HTTP in cluster1 "
        "(vpc-0a1b2c3d4e5f60001), default/checkout-cluster1:80/HTTP in cluster1 (vpc-0a1b2c3d4e5f60001), "
        "default/payments:443/TLS in cluster1 (vpc-0a1b2c3d4e5f60001), default/checkout:80/HTTP in cluster2 "
        "(vpc-0a1b2c3d4e5f60002), default/inventory:50051/GRPC in cluster2 (vpc-0a1b2c3d4e5f60002)"),
    "import of an export of another route type": (
        "cluster3/routes.yaml", "        - name: inventory\n          kind: ServiceImport",
        "        - name: payments\n          kind: ServiceImport",
        "cluster3/routes.yaml: GRPCRoute/default/inventory: spec.rules[0].backendRefs[0]: ServiceImport "
        "default/payments: no exported service matches export-name=payments, namespace=default, routeType=GRPC; "
        "exports seen: default/checkout:80/HTTP in cluster1 (vpc-0a1b2c3d4e5f60001), default/checkout-cluster1:80/"
        "HTTP in cluster1 (vpc-0a1b2c3d4e5f60001), default/payments:443/TLS in cluster1 (vpc-0a1b2c3d4e5f60001), "
        "default/checkout:80/HTTP in cluster2 (vpc-0a1b2c3d4e5f60002), default/inventory:50051/GRPC in cluster2 "
        "(vpc-0a1b2c3d4e5f60002)"),
    "regular-expression path": (
        "cluster3/routes.yaml", "path: {type: PathPrefix, value: /legacy}", "path: {type: RegularExpression, value: /legacy.*}",
        "cluster3/routes.yaml: HTTPRoute/default/checkout: spec.rules[0].matches[0].path.type: Input should be "
        "'Exact' or 'PathPrefix'"),
    "two matches in one rule": (
        "cluster3/routes.yaml", "        - path: {type: PathPrefix, value: /legacy}\n",
        "        - path: {type: PathPrefix, value: /legacy}\n        - path: {type: PathPrefix, value: /old}\n",
        "cluster3/routes.yaml: HTTPRoute/default/checkout: spec.rules[0]: VPC Lattice rules take one match each: "
        "split this rule into one rule per match"),
    "unknown gateway listener": (
        "cluster3/routes.yaml", "sectionName: https", "sectionName: grpc",
        "cluster3/routes.yaml: GRPCRoute/default/inventory: spec.parentRefs[0].sectionName: Gateway 'fabric-network' "
        "has no listener 'grpc' (listeners: http, https, tls)"),
    "Service backend without its port": (
        "cluster3/routes.yaml", "        - name: checkout\n          port: 80\n", "        - name: checkout\n",
        "cluster3/routes.yaml: HTTPRoute/default/checkout: spec.rules[2].backendRefs[0].port: a Service backend "
        "needs its port"),
    "route whose Lattice service name is reserved": (
        "cluster3/routes.yaml", "  name: checkout\n  namespace: default\nspec:\n  parentRefs:",
        "  name: svc-checkout\n  namespace: default\nspec:\n  parentRefs:",
        "cluster3/routes.yaml: HTTPRoute/default/svc-checkout: metadata.name: service name 'svc-checkout-default' "
        "must not start with 'svc-' (reserved by VPC Lattice); set the annotation "
        "application-networking.k8s.aws/service-name-override"),
    "exported port the Service does not have": (
        "cluster1/exports.yaml", "    - port: 443\n      routeType: TLS", "    - port: 8443\n      routeType: TLS",
        "cluster1/exports.yaml: ServiceExport/default/payments: spec.exportedPorts[0].port: Service default/payments "
        "has no port 8443 (its ports: 443)"),
    "ip targets without addresses": (
        "fabric.yaml", "targets: {mode: ip, ips: [10.2.1.10, 10.2.2.10]}", "targets: {mode: ip}",
        "fabric.yaml: Fabric: clusters[4].lattice.targets: targets mode ip needs targets.ips"),
    "malformed VPC id": (
        "fabric.yaml", "vpcId: vpc-0a1b2c3d4e5f60001", "vpcId: vpc-main",
        "fabric.yaml: Fabric: clusters[3].lattice.vpcId: String should match pattern '^vpc-([0-9a-f]{8}|[0-9a-f]{17})$'"),
    "service network owned twice": (
        "fabric.yaml", "      securityGroupIds: [sg-0a1b2c3d4e5f60002]\n",
        "      securityGroupIds: [sg-0a1b2c3d4e5f60002]\n      serviceNetworks: [fabric-network]\n",
        "fabric.yaml: Cluster/-/cluster2: lattice.serviceNetworks: service network 'fabric-network' is already created "
        "by 'cluster1' in 111122223333/us-west-2; one stack creates it"),
}


@pytest.mark.parametrize("case", sorted(LATTICE_CASES))
def test_broken_lattice_fabric_is_rejected_with_the_right_line(fabric: Path, case: str):
    file, old, new, expected = LATTICE_CASES[case]
    edit(fabric, file, old, new)
    assert lines(fabric) == [expected]


def test_a_lattice_object_in_a_clusterlink_cluster_is_ignored_with_a_warning(fabric: Path):
    shutil.copy(fabric / "cluster1" / "gateway.yaml", fabric / "east" / "gateway.yaml")
    assert warning_lines(fabric) == [
        "east/gateway.yaml: Gateway/default/fabric-network: kind: ignored: cluster 'east' uses dataplane clusterlink, "
        "and VPC Lattice objects take effect in clusters with dataplane lattice only"]


def test_an_export_without_the_federation_annotation_is_ignored_with_a_warning_as_by_the_controller(fabric: Path):
    edit(fabric, "cluster2/exports.yaml", '  name: inventory\n  namespace: default\n  annotations:\n'
         '    application-networking.k8s.aws/federation: "amazon-vpc-lattice"\n', "  name: inventory\n  namespace: default\n")
    problems, warnings = validate(fabric)
    assert [w.replace(f"{fabric}/", "") for w in warnings] == [
        "cluster2/exports.yaml: ServiceExport/default/inventory: metadata.annotations: ignored: without the "
        "annotation application-networking.k8s.aws/federation: amazon-vpc-lattice the controller does not export "
        "it, and neither does the program"]
    assert [p.replace(f"{fabric}/", "").split(": no exported service matches")[0] for p in problems] == [
        "cluster3/routes.yaml: GRPCRoute/default/inventory: spec.rules[0].backendRefs[0]: ServiceImport "
        "default/inventory"]


def test_unused_service_import_and_ignored_backend_port_are_warnings(fabric: Path):
    edit(fabric, "cluster3/routes.yaml", "        - name: inventory\n          kind: ServiceImport",
         "        - name: inventory\n          kind: ServiceImport\n          port: 50051")
    imports = fabric / "cluster3" / "imports.yaml"
    imports.write_text(imports.read_text() + "---\napiVersion: application-networking.k8s.aws/v1alpha1\n"
                       "kind: ServiceImport\nmetadata: {name: orders, namespace: default}\n"
                       "spec: {type: ClusterSetIP, ports: [{port: 80}]}\n")
    assert warning_lines(fabric) == [
        "cluster3/routes.yaml: GRPCRoute/default/inventory: spec.rules[0].backendRefs[0].port: the port of a "
        "ServiceImport backend is ignored (the exported port is used, as with the AWS controller)",
        "cluster3/imports.yaml: ServiceImport/default/orders: metadata.name: no route uses this ServiceImport: a "
        "ServiceImport only takes effect as a route's backendRef",
    ]
