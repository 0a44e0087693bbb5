"""The bad-input corpus: each case is refused by `validate` and by the stack's own program, clearly, changing nothing.

Every case edits a copy of the example fabric. `validate` must report a line
`FILE: KIND/NAMESPACE/NAME: FIELD: message` naming the expected place, and the
program of the affected stack must refuse with that line (a `RunError`, which
the engine shows without a traceback) before it declares any resource. Those
two are the judges of a case's message; the program runs under mocks for it.

What only the engine can show, that a refused `pulumi preview` exits non-zero,
prints the line and no traceback, declares nothing and leaves the stack's state
byte for byte, is shown on the real engine for one case of each way a program
can refuse (ENGINE_CASES): a file that does not parse, a file the loader
refuses, fabric.yaml missing or wrong, a field, a reference across objects or
clusters, a Lattice limit, an import resolving to nothing, and a cycle.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import pulumi

from clusterfabric.runner.cli import validate
from clusterfabric.components.contract import FABRIC, PROJECT, config_key
from clusterfabric.components.program import run
from tests.mocks import Declared, declare
from clusterfabric.toolchain import PROJECT_DIR
from tests.pulumi_project import PulumiProject, copy_program, project

CLUSTERLINK = ("east", "west", "central")
LATTICE = ("cluster1", "cluster2", "cluster3")

Edit = tuple[str, str, str]  # file, old text, new text ("" old text: append; None new: replace the file;
                             # "=> NAME" new: rename it, "-> TARGET": a symbolic link in its place)

IMPORT = ("apiVersion: clusterlink.net/v1alpha1\nkind: Import\nmetadata:\n  name: cart\n  namespace: default\n"
          "spec:\n  port: 80\n  sources:\n    - {peer: east, exportName: iperf3-server, exportNamespace: default}\n")
SERVICE = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: default\nspec:\n  ports: [{port: 80}]\n"


def add(file: str, text: str) -> Edit:
    return (file, "", "---\n" + text)


# name: (edits, expected "FILE: OBJECT: FIELD" start of a problem line)
CASES: dict[str, tuple[list[Edit], str]] = {
    # --- YAML and files
    "yaml syntax error": ([("central/sharing.yaml", "lbScheme: round-robin", "lbScheme: [round-robin")],
                          "central/sharing.yaml: -: -: YAML syntax error at line"),
    "tab indentation": ([("east/services.yaml", "  name: reviews", "\tname: reviews")],
                        "east/services.yaml: -: -: YAML syntax error"),
    "empty manifest file": ([("west/empty.yaml", "", None)], "west/empty.yaml: -: -: the file holds no object"),
    "only comments": ([("west/notes.yaml", "", "# nothing here yet\n")], "west/notes.yaml: -: -: the file holds no object"),
    "huge file": ([("east/huge.yaml", "", "# " + "x" * (5 * 1024 * 1024) + "\n")],
                  "east/huge.yaml: -: -: the file has"),
    "document that is a list": ([add("east/services.yaml", "- a\n- b\n")],
                                "east/services.yaml: -: -: expected a Kubernetes object (a mapping), got list"),
    "fabric.yaml missing": ([("fabric.yaml", "", "")], "fabric.yaml: -: -: no fabric.yaml"),
    "fabric.yaml two documents": ([add("fabric.yaml", "clusters: []\n")], "fabric.yaml: -: -: expected one YAML document"),
    "not UTF-8": ([("east/latin1.yaml", "", "\xff\xfe")], "east/latin1.yaml: -: -: cannot read the file"),
    # --- kinds and apiVersions
    "unknown kind": ([add("east/services.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")],
                     "east/services.yaml: ConfigMap/default/c: kind: unknown apiVersion/kind v1/ConfigMap"),
    "unknown apiVersion": ([("east/sharing.yaml", "apiVersion: clusterlink.net/v1alpha1\nkind: Export",
                             "apiVersion: clusterlink.net/v1beta1\nkind: Export")],
                           "east/sharing.yaml: Export/default/iperf3-server: kind: unknown apiVersion/kind "
                           "clusterlink.net/v1beta1/Export"),
    "kind missing": ([add("east/services.yaml", "apiVersion: v1\nmetadata: {name: c}\n")],
                     "east/services.yaml: ?/default/c: kind: unknown apiVersion/kind v1/None"),
    # --- wrong types and missing fields
    "port is a string": ([("east/sharing.yaml", "port:  5000", "port:  five")],
                         "east/sharing.yaml: Export/default/iperf3-server: spec.port:"),
    "sources not a list": ([("central/sharing.yaml", "  sources:\n    - exportName: details",
                             "  sources:\n    exportName: details\n  x:\n    - exportName: details")],
                           "central/sharing.yaml: Import/bookinfo/details: spec."),
    "metadata not a mapping": ([add("east/services.yaml", "apiVersion: v1\nkind: Service\nmetadata: web\nspec: {ports: [{port: 1}]}\n")],
                               "east/services.yaml: Service/default/?: metadata:"),
    "import without port": ([("central/sharing.yaml", "spec:\n  port:       5000\n", "spec:\n")],
                            "central/sharing.yaml: Import/default/iperf3-server: spec.port: required field is missing"),
    "export without port": ([("east/sharing.yaml", "spec:\n  port:  5000\n", "spec: {}\n")],
                            "east/sharing.yaml: Export/default/iperf3-server: spec.port: required field is missing"),
    "source without exportNamespace": ([("central/sharing.yaml", "      exportNamespace:  default\n", "")],
                                       "central/sharing.yaml: Import/default/iperf3-server: spec.sources[0]."
                                       "exportNamespace: required field is missing"),
    "service without ports": ([("east/services.yaml", "  ports:\n    - name: http\n      port: 9080\n", "  ports: []\n")],
                              "east/services.yaml: Service/bookinfo/reviews: spec.ports:"),
    "unknown field": ([("central/sharing.yaml", "  lbScheme: round-robin", "  lbScheme: round-robin\n  loadBalancing: yes")],
                      "central/sharing.yaml: Import/bookinfo/reviews: spec.loadBalancing: unknown field"),
    # --- ranges and names
    "port 0": ([("east/sharing.yaml", "port:  5000", "port:  0")], "east/sharing.yaml: Export/default/iperf3-server: spec.port:"),
    "port 65536": ([("central/sharing.yaml", "port:       5000", "port:       65536")],
                   "central/sharing.yaml: Import/default/iperf3-server: spec.port:"),
    "negative targetPort": ([("central/sharing.yaml", "  port: 9080\n  lbScheme", "  port: 9080\n  targetPort: -1\n  lbScheme")],
                            "central/sharing.yaml: Import/bookinfo/reviews: spec.targetPort:"),
    "uppercase name": ([add("east/services.yaml", SERVICE.replace("name: web", "name: Web"))],
                       "east/services.yaml: Service/default/Web: metadata.name:"),
    "underscore in namespace": ([add("east/services.yaml", SERVICE.replace("namespace: default", "namespace: my_ns"))],
                                "east/services.yaml: Service/my_ns/web: metadata.namespace:"),
    "service name over 63 characters": ([add("east/services.yaml", SERVICE.replace("name: web", "name: " + "w" * 64))],
                                        f"east/services.yaml: Service/default/{'w' * 64}: metadata.name:"),
    "replicas 0": ([("fabric.yaml", "replicas: 2", "replicas: 0")], "fabric.yaml: Fabric: clusters[1].clusterlink.dataplane.replicas:"),
    "ingress type": ([("fabric.yaml", "type: NodePort, port: 30443", "type: Ingress, port: 30443")],
                     "fabric.yaml: Fabric: clusters[1].clusterlink.ingress.type:"),
    "NodePort ingress on a port no node opens": ([("fabric.yaml", "type: NodePort, port: 30443", "type: NodePort, port: 443")],
                                                "fabric.yaml: Fabric: clusters[1].clusterlink.ingress.port: a NodePort "
                                                "ingress's port is the node port, 30000-32767 (got 443)"),
    "dataplane type": ([("fabric.yaml", "dataplane: {type: go, replicas: 2}", "dataplane: {type: rust, replicas: 2}")],
                       "fabric.yaml: Fabric: clusters[1].clusterlink.dataplane.type:"),
    "invalid cluster name": ([("fabric.yaml", "  - name: central", "  - name: Central_1")], "fabric.yaml: Fabric: clusters[2].name:"),
    "dataplane missing": ([("fabric.yaml", "  - name: central\n    dataplane: clusterlink\n", "  - name: central\n")],
                          "fabric.yaml: Fabric: clusters[2].dataplane: required field is missing"),
    "unknown fabric field": ([("fabric.yaml", "name: example", "name: example\nversion: 2")], "fabric.yaml: Fabric: version: unknown field"),
    "account id": ([("fabric.yaml", 'accountId: "111122223333"', 'accountId: "1111"')], "fabric.yaml: Fabric: clusters[3].lattice.accountId:"),
    "region": ([("fabric.yaml", "region: us-west-2", "region: oregon")], "fabric.yaml: Fabric: clusters[3].lattice.region:"),
    "security group id": ([("fabric.yaml", "[sg-0a1b2c3d4e5f60001]", "[group-1]")],
                          "fabric.yaml: Fabric: clusters[3].lattice.securityGroupIds[0]:"),
    "alb arn": ([("fabric.yaml", "loadbalancer/app/cluster3-internal", "loadbalancer/net/cluster3-internal")],
                "fabric.yaml: Fabric: clusters[5].lattice.targets.albArn:"),
    "lattice settings missing": ([("fabric.yaml", "  - name: cluster2\n    dataplane: lattice\n    lattice:",
                                   "  - name: cluster2\n    dataplane: lattice\n    latticeX:")],
                                 "fabric.yaml: Fabric: clusters[4]"),
    # --- duplicates and references
    "duplicate object": ([add("east/sharing.yaml", "apiVersion: clusterlink.net/v1alpha1\nkind: Export\nmetadata:\n"
                              "  name: reviews\n  namespace: bookinfo\nspec:\n  port: 9080\n")],
                         "east/sharing.yaml: Export/bookinfo/reviews: metadata.name: defined twice"),
    "import of a missing peer": ([add("central/sharing.yaml", IMPORT.replace("peer: east", "peer: north"))],
                                 "central/sharing.yaml: Import/default/cart: spec.sources[0].peer: no ClusterLink peer 'north'"),
    "import of a missing export": ([add("central/sharing.yaml", IMPORT.replace("exportName: iperf3-server", "exportName: iperf"))],
                                   "central/sharing.yaml: Import/default/cart: spec.sources[0].exportName: peer 'east' exports no"),
    "conflicting targetPorts": ([("central/sharing.yaml", "  port: 9080\n  lbScheme", "  port: 9080\n  targetPort: 7000\n  lbScheme"),
                                 add("central/sharing.yaml", IMPORT.replace("port: 80\n", "port: 80\n  targetPort: 7000\n"))],
                                "central/sharing.yaml: Import/default/cart: spec.targetPort: targetPort 7000 is already used"),
    "import from itself": ([add("east/sharing.yaml", IMPORT)], "east/sharing.yaml: Import/default/cart: spec.sources[0].peer: "
                           "a cluster cannot import from itself"),
    "merge import without its Service": ([add("west/sharing.yaml", IMPORT.replace("namespace: default\n",
                                          "namespace: default\n  labels: {import.clusterlink.net/merge: 'true'}\n"))],
                                         "west/sharing.yaml: Import/default/cart: metadata.labels: a merge import needs"),
    "export of a missing Service": ([("west/sharing.yaml", "  name: details\n  namespace: bookinfo\nspec:\n  port: 9080",
                                      "  name: detail\n  namespace: bookinfo\nspec:\n  port: 9080")],
                                    "west/sharing.yaml: Export/bookinfo/detail: metadata.name: no Service bookinfo/detail"),
    "export host resolved in the data plane's namespace": (
        [("west/sharing.yaml", "  name: details\n  namespace: bookinfo\nspec:\n  port: 9080",
          "  name: details\n  namespace: bookinfo\nspec:\n  host: details\n  port: 9080")],
        "west/sharing.yaml: Export/bookinfo/details: spec.host: ClusterLink's data plane resolves 'details' in its own "
        "namespace"),
    "peer outside its namespace": ([add("central/sharing.yaml", "apiVersion: clusterlink.net/v1alpha1\nkind: Peer\n"
                                        "metadata: {name: far, namespace: default}\nspec: {gateways: [{host: a, port: 1}]}\n")],
                                   "central/sharing.yaml: Peer/default/far: metadata.namespace:"),
    "policy with workload sets": ([("east/sharing.yaml", "    from:\n    - workloadSelector: {}", "    from:\n    - workloadSets: [a]")],
                                  "east/sharing.yaml: AccessPolicy/default/allow-all: spec.from[0]:"),
    "In without values": ([("west/sharing.yaml", "            values: [prod]\n", "            values: []\n")],
                          "west/sharing.yaml: PrivilegedAccessPolicy/-/deny-non-prod: spec.from[0].workloadSelector."
                          "matchExpressions[0]:"),
    # --- VPC Lattice
    "export without federation": ([("cluster2/exports.yaml", '    application-networking.k8s.aws/federation: "amazon-vpc-lattice"\nspec:\n'
                                    "  exportedPorts:\n    - port: 80", "spec:\n  exportedPorts:\n    - port: 80")],
                                  "cluster2/exports.yaml: ServiceExport/default/checkout: metadata.annotations:"),
    "route type unknown": ([("cluster1/exports.yaml", "routeType: TLS", "routeType: UDP")],
                           "cluster1/exports.yaml: ServiceExport/default/payments: spec.exportedPorts[0].routeType:"),
    "conflicting ServiceImport annotations": ([("cluster3/imports.yaml", 'aws-eks-cluster-name: "cluster1"',
                                                'aws-eks-cluster-name: "cluster1"\n    application-networking.k8s.aws/'
                                                'target-group-arn: "arn:aws:vpc-lattice:us-west-2:111122223333:'
                                                'targetgroup/tg-0abc123def4567890"')],
                                              "cluster3/imports.yaml: ServiceImport/default/checkout-import-1: metadata.annotations:"),
    "bad target group arn": ([add("cluster3/imports.yaml", "apiVersion: application-networking.k8s.aws/v1alpha1\n"
                                  "kind: ServiceImport\nmetadata:\n  name: legacy\n  annotations:\n    application-"
                                  'networking.k8s.aws/target-group-arn: "tg-123"\nspec: {type: ClusterSetIP, ports: [{port: 80}]}\n')],
                             "cluster3/imports.yaml: ServiceImport/default/legacy: metadata.annotations:"),
    "ServiceImport matching nothing": ([("cluster3/imports.yaml", 'export-name: "checkout-cluster1"', 'export-name: "checkout-cluster9"')],
                                       "cluster3/routes.yaml: HTTPRoute/default/checkout: spec.rules[0].backendRefs[0]: "
                                       "ServiceImport default/checkout-import-1: no exported service matches"),
    "iam policy not json": ([("cluster1/exports.yaml", '"Version": "2012-10-17",', '"Version": 2012-10-17,')],
                            "cluster1/exports.yaml: IAMAuthPolicy/default/fabric-network-iam: spec.policy:"),
    "policy target missing": ([("cluster2/exports.yaml", "    kind: Service\n    name: checkout", "    kind: Service\n    name: cart")],
                              "cluster2/exports.yaml: TargetGroupPolicy/default/checkout-health: spec.targetRef:"),
    "vpc association on a route": ([("cluster3/imports.yaml", "    kind: Gateway\n    name: fabric-network",
                                     "    kind: HTTPRoute\n    name: checkout")],
                                   "cluster3/imports.yaml: VpcAssociationPolicy/default/fabric-network-sg: spec.targetRef:"),
    "health check interval": ([("cluster2/exports.yaml", "intervalSeconds: 10", "intervalSeconds: 3")],
                              "cluster2/exports.yaml: TargetGroupPolicy/default/checkout-health: spec.healthCheck.intervalSeconds:"),
    "six header matches": ([("cluster3/routes.yaml", '            - {name: x-canary, value: "true"}',
                             "\n".join(f'            - {{name: x-h{i}, value: "v"}}' for i in range(6)))],
                           "cluster3/routes.yaml: HTTPRoute/default/checkout: spec.rules[1].matches[0].headers:"),
    "path without slash": ([("cluster3/routes.yaml", "value: /legacy", "value: legacy")],
                           "cluster3/routes.yaml: HTTPRoute/default/checkout: spec.rules[0].matches[0].path.value:"),
    "grpc method without service": ([("cluster3/routes.yaml", "method: {service: inventory.v1.Inventory, method: GetStock}",
                                      "method: {method: GetStock}")],
                                    "cluster3/routes.yaml: GRPCRoute/default/inventory: spec.rules[0].matches[0].method:"),
    "tls route with two rules": ([("cluster3/routes.yaml", "  rules:\n    - backendRefs:\n        - name: payments",
                                   "  rules:\n    - backendRefs:\n        - name: checkout\n          kind: ServiceImport\n"
                                   "    - backendRefs:\n        - name: payments")],
                                 "cluster3/routes.yaml: TLSRoute/default/payments: spec:"),
    "invalid hostname": ([("cluster3/routes.yaml", "payments.example.com", "Payments!.example.com")],
                         "cluster3/routes.yaml: TLSRoute/default/payments: spec.hostnames[0]:"),
    "duplicate gateway listeners": ([("cluster2/gateway.yaml", "    - name: https\n", "    - name: http\n")],
                                    "cluster2/gateway.yaml: Gateway/default/fabric-network: spec:"),
    "unknown backend kind": ([("cluster3/routes.yaml", "        - name: inventory\n          kind: ServiceImport",
                               "        - name: inventory\n          kind: Deployment")],
                             "cluster3/routes.yaml: GRPCRoute/default/inventory: spec.rules[0].backendRefs[0].kind:"),
    # --- issue 19: strict YAML, values that become arguments, hosts and images, checks only the plan or policy made
    "kind is a list": ([add("east/services.yaml", "apiVersion: v1\nkind: [Export]\nmetadata: {name: x}\n")],
                       "east/services.yaml: ?/default/x: kind: must be a string, got list"),
    "apiVersion is a mapping": ([add("east/services.yaml", "apiVersion: {group: v1}\nkind: Service\nmetadata: {name: x}\n")],
                                "east/services.yaml: Service/default/x: apiVersion: must be a string, got dict"),
    "fabric.yaml is a list": ([("fabric.yaml", "", None), ("fabric.yaml", "", "- east\n- west\n")], "fabric.yaml: Fabric: -:"),
    "duplicate key": ([("east/sharing.yaml", "port:  5000", "port:  5000\n  port:  5001")],
                      "east/sharing.yaml: Export/default/iperf3-server: spec.port: line 9: written twice in one mapping "
                      "(first at line 8)"),
    "clusters written twice": ([("fabric.yaml", "name: example", "name: example\nclusters: []")],
                               "fabric.yaml: Fabric: clusters: line 5: written twice in one mapping (first at line 4)"),
    "metadata written twice": ([("central/sharing.yaml", "spec:\n  port:       5000", "metadata: {name: renamed}\n"
                                 "spec:\n  port:       5000")],
                               "central/sharing.yaml: Import/default/renamed: metadata: line 6: written twice in one mapping (first at line 3)"),
    "nesting 20,000 deep": ([add("east/services.yaml", SERVICE + "x: " + "[" * 20000 + "]" * 20000 + "\n")],
                            "east/services.yaml: -: -: refused at line 32, column 67: nested deeper than 64 levels"),
    "alias bomb": ([add("east/services.yaml", SERVICE.replace("ports: [{port: 80}]", "ports: [{port: 80}]\n  a0: &a0 "
                        "[x, x, x, x, x, x, x, x, x, x]\n" + "".join(f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n"
                                                                    for i in range(1, 8))))],
                   "east/services.yaml: -: -: refused at line 35, column 47: aliases expand to more than 10000 values"),
    "alias inside the node it names": ([add("east/services.yaml", SERVICE.replace("ports: [{port: 80}]", "ports: &p [{port: 80, "
                                                                                   "x: *p}]"))],
                                       "east/services.yaml: -: -: refused at line 31, column 28: alias *p inside the node it names"),
    "symbolic links in a loop": ([("east/one.yaml", "", "-> two.yaml"), ("east/two.yaml", "", "-> one.yaml")],
                                 "east/one.yaml: -: -: a symbolic link that loops"),
    "cluster folder linked to itself": ([("central", "", "-> central")], "central: -: -: a symbolic link that loops"),
    "folder linked inside itself": ([("east/again", "", "-> .")], "east/again: -: -: a symbolic link to a folder it is in"),
    "symbolic link out of the fabric": ([("east/host.yaml", "", "-> /etc/hostname")],
                                        "east/host.yaml: -: -: a symbolic link out of the fabric directory"),
    "symbolic link to nothing": ([("east/gone.yaml", "", "-> missing.yaml")], "east/gone.yaml: -: -: a symbolic link that leads nowhere"),
    "Import name with a trailing newline": ([("central/sharing.yaml", "  name: iperf3-server\n", '  name: "iperf3-server\\n"\n')],
                                            "central/sharing.yaml: Import/default/'iperf3-server\\n': metadata.name:"),
    "Service name with a trailing newline": ([("east/services.yaml", "  name: reviews\n", '  name: "reviews\\n"\n')],
                                             "east/services.yaml: Service/bookinfo/'reviews\\n': metadata.name:"),
    "cluster name with a trailing newline": ([("fabric.yaml", "  - name: central\n", '  - name: "central\\n"\n')],
                                             "fabric.yaml: Fabric: clusters[2].name:"),
    "control character in a name": ([add("east/services.yaml", SERVICE.replace("name: web", 'name: "we\\x07b"'))],
                                     "east/services.yaml: Service/default/'we\\x07b': metadata.name:"),
    "Lattice service name with a trailing newline": ([("cluster1/exports.yaml", '/service-name: "checkout"', '/service-name: "checkout\\n"')],
                                                     "cluster1/exports.yaml: ServiceExport/default/checkout-cluster1: metadata.annotations: "
                                                     "application-networking.k8s.aws/service-name: 'checkout\\n' is not"),
    "image registry with a space": ([("fabric.yaml", "dataplane: {type: go}", "dataplane: {type: go}\n      registry: ghcr.io/cluster link")],
                                    "fabric.yaml: Fabric: clusters[2].clusterlink.registry: 'ghcr.io/cluster link' is not an image registry"),
    "gateway host with a shell character": ([("fabric.yaml", "host: clusterlink.east.example.com", 'host: "server fabric;example"')],
                                            "fabric.yaml: Fabric: clusters[0].clusterlink.gateway.host:"),
    "gateway host with a trailing newline": ([("fabric.yaml", "host: clusterlink.east.example.com", 'host: "clusterlink.east.example.com\\n"')],
                                             "fabric.yaml: Fabric: clusters[0].clusterlink.gateway.host:"),
    "peer label with a space": ([("fabric.yaml", "labels: {region: us-east, env: prod}", 'labels: {region: "us east", env: prod}')],
                                "fabric.yaml: Fabric: clusters[0].clusterlink.labels.region: 'us east' is not a label value"),
    "image tag with a non-ASCII letter": ([("fabric.yaml", "dataplane: {type: go}", "dataplane: {type: go}\n      imageTag: v0.4.1\u00e9")],
                                          "fabric.yaml: Fabric: clusters[2].clusterlink.imageTag:"),
    "hand-written Peer shadowing a fabric peer": ([add("central/sharing.yaml", "apiVersion: clusterlink.net/v1alpha1\nkind: Peer\n"
                                                       "metadata: {name: east, namespace: clusterlink-system}\n"
                                                       "spec:\n  gateways: [{host: elsewhere.example.com, port: 443}]\n")],
                                                  "central/sharing.yaml: Peer/clusterlink-system/east: metadata.name: 'east' is a "
                                                  "cluster of the fabric"),
    "targetPort 80": ([("central/sharing.yaml", "  port: 9080\n  lbScheme", "  port: 9080\n  targetPort: 80\n  lbScheme")],
                      "central/sharing.yaml: Import/bookinfo/reviews: spec.targetPort: targetPort 80, outside 1024-49151"),
    "targetPort 60000": ([("central/sharing.yaml", "  port: 9080\n  lbScheme", "  port: 9080\n  targetPort: 60000\n  lbScheme")],
                         "central/sharing.yaml: Import/bookinfo/reviews: spec.targetPort: targetPort 60000, outside 1024-49151"),
    "query parameter match": ([("cluster3/routes.yaml", "path: {type: PathPrefix, value: /legacy}",
                                "path: {type: PathPrefix, value: /legacy}\n          queryParams: [{name: v, value: \"2\"}]")],
                              "cluster3/routes.yaml: HTTPRoute/default/checkout: spec.rules[0].matches[0].queryParams: VPC Lattice "
                              "has no query-parameter match"),
    "auth policy over 10 KiB in UTF-8": ([("cluster1/exports.yaml", '"Version": "2012-10-17",',
                                           '"Version": "2012-10-17", "Id": "' + "\u00e9" * 6000 + '",')],
                                         "cluster1/exports.yaml: IAMAuthPolicy/default/fabric-network-iam: spec.policy: policy has "
                                         "12208 bytes"),
    "cycle of deployed dependencies": ([add("cluster3/services.yaml",
                                            "apiVersion: application-networking.k8s.aws/v1alpha1\nkind: ServiceExport\n"
                                            "metadata:\n  name: checkout-c3\n  annotations:\n    application-networking"
                                            '.k8s.aws/federation: "amazon-vpc-lattice"\n    application-networking.k8s'
                                            '.aws/service-name: "checkout"\nspec:\n  exportedPorts: [{port: 80, routeType: HTTP}]\n'),
                                        add("cluster1/exports.yaml", "apiVersion: application-networking.k8s.aws/v1alpha1\n"
                                            "kind: ServiceImport\nmetadata: {name: checkout-c3}\nspec: {type: ClusterSetIP, "
                                            "ports: [{port: 80}]}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: "
                                            "HTTPRoute\nmetadata: {name: back}\nspec:\n  parentRefs: [{name: fabric-network, "
                                            "sectionName: http}]\n  rules:\n    - backendRefs: [{name: checkout-c3, kind: ServiceImport}]\n")],
                                       "fabric.yaml: Fabric: clusters: the clusters need each other's deployed resources in a cycle"),
    # --- the fabric's layout: a renamed folder leaves a cluster without one, and manifests nothing reads
    "renamed cluster folder": ([("west", "", "=> wests")],
                               "fabric.yaml: Fabric: clusters[1]: cluster 'west' has no folder"),
    "folder that is no cluster": ([add("north/sharing.yaml", IMPORT)],
                                  "north: -: -: a folder of manifests that is no cluster of fabric.yaml"),
}


# What AWS and the controller take, and so a warning rather than a refusal (docs/lattice.md: what is a warning):
# validate names file, object and field, and the stack goes on.
WARNED: dict[str, tuple[list[Edit], str]] = {
    "192 tags on an export": ([("cluster1/exports.yaml", 'tags: "team=payments,cost-center=42"',
                                'tags: "' + ",".join(f"k{i}=v" for i in range(192)) + '"')],
                              "cluster1/exports.yaml: ServiceExport/default/payments: metadata.annotations: "
                              "application-networking.k8s.aws/tags:"),
    "filters on a route rule": ([("cluster3/routes.yaml", "  rules:\n    - matches:", "  rules:\n    - filters: [{type: "
                                  "RequestHeaderModifier, requestHeaderModifier: {add: [{name: x, value: y}]}}]\n      matches:")],
                                "cluster3/routes.yaml: HTTPRoute/default/checkout: spec.rules[0].filters: ignored: VPC "
                                "Lattice has no request or response filters"),
    "lattice object in a ClusterLink cluster": ([("east/gateway.yaml", "", None)],
                                                "east/gateway.yaml: Gateway/default/fabric-network: kind: ignored: "
                                                "cluster 'east' uses dataplane clusterlink"),
    "malformed port annotation": ([("cluster1/exports.yaml", 'service-name: "checkout"', 'service-name: "checkout"\n'
                                    '    application-networking.k8s.aws/port: "80,http"')],
                                  "cluster1/exports.yaml: ServiceExport/default/checkout-cluster1: metadata.annotations: "
                                  "application-networking.k8s.aws/port: 'http': dropped, as the controller drops them"),
    "malformed tags annotation": ([("cluster1/exports.yaml", '"team=payments,cost-center=42"', '"team"')],
                                  "cluster1/exports.yaml: ServiceExport/default/payments: metadata.annotations: "
                                  "application-networking.k8s.aws/tags: 'team': dropped, as the controller drops them"),
}


# One case of each way a stack's program can refuse its input, for the real engine (see the module's docstring).
ENGINE_CASES = (
    "yaml syntax error",                  # a file that does not parse
    "symbolic link out of the fabric",    # a file the loader refuses
    "fabric.yaml missing",
    "replicas 0",                         # a field of fabric.yaml
    "port is a string",                   # a field of a manifest
    "import of a missing export",         # a reference across clusters
    "hand-written Peer shadowing a fabric peer",  # a reference across objects
    "six header matches",                 # a Lattice limit
    "ServiceImport matching nothing",     # an import that resolves to nothing
    "cycle of deployed dependencies",     # stacks that need each other
)


def apply(fabric: Path, edits: list[Edit]) -> None:
    for file, old, new in edits:
        path = fabric / file
        if file == "fabric.yaml" and old == "" and new == "":
            path.unlink()
        elif new is not None and new.startswith("=> "):  # the file or folder renamed
            path.rename(fabric / new.removeprefix("=> "))
        elif new is not None and new.startswith("-> "):  # a symbolic link, in place of what was there
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            path.symlink_to(new.removeprefix("-> "))
        elif file.endswith("gateway.yaml") and new is None:
            shutil.copy(fabric / "cluster1" / "gateway.yaml", path)
        elif new is None:
            path.write_text("")
        elif new.startswith("\xff"):
            path.write_bytes(new.encode("latin-1"))
        elif old == "":
            path.parent.mkdir(exist_ok=True)
            path.write_text((path.read_text() if path.exists() else "") + new)
        else:
            text = path.read_text()
            assert old in text, f"{old!r} not in {file}"
            path.write_text(text.replace(old, new, 1))


def stack_of(edits: list[Edit]) -> str:
    first = edits[0][0].split("/")[0]
    return first if first in CLUSTERLINK + LATTICE else "east"


def edited_fabric(root: Path, case: str) -> Path:
    """A copy of the example fabric at `root`/config with the case's edits."""
    fabric = root / "config"
    shutil.copytree(PROJECT_DIR / "config", fabric)
    apply(fabric, CASES[case][0])
    return fabric


def test_the_corpus_has_at_least_60_cases():
    assert len(CASES) >= 60


def test_each_way_a_program_refuses_is_shown_on_the_engine():
    assert set(ENGINE_CASES) <= set(CASES)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_refused_by_validate_naming_file_object_and_field(tmp_path: Path, case: str):
    fabric = edited_fabric(tmp_path, case)
    problems, _ = validate(fabric)
    lines = [p.replace(f"{fabric}/", "") for p in problems]
    assert any(line.startswith(CASES[case][1]) for line in lines), lines


@pytest.mark.parametrize("case", sorted(WARNED))
def test_input_aws_and_the_controller_take_is_warned_of_by_validate_naming_file_object_and_field(tmp_path: Path,
                                                                                               case: str):
    edits, expected = WARNED[case]
    fabric = tmp_path / "config"
    shutil.copytree(PROJECT_DIR / "config", fabric)
    apply(fabric, edits)
    problems, warnings = validate(fabric)
    assert problems == []
    assert any(w.replace(f"{fabric}/", "").startswith(expected) for w in warnings), warnings


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_refused_by_the_stacks_program_before_it_declares_anything(tmp_path: Path, case: str):
    edits, expected = CASES[case]
    edited_fabric(tmp_path, case)
    stack, declared = stack_of(edits), Declared()
    pulumi.runtime.set_all_config({config_key(FABRIC): "config"}, [])
    try:
        with pytest.raises(pulumi.RunError) as refusal:  # what the engine prints without a traceback
            declare(lambda: run(tmp_path, stack, pulumi.Config(PROJECT)), stack=stack, into=declared)
    finally:
        pulumi.runtime.set_all_config({}, [])
    assert expected.split(": ", 1)[1] in str(refusal.value).replace(f"{tmp_path}/config/", ""), str(refusal.value)
    assert declared.resources == []


@pytest.fixture(scope="module")
def deployed(example: PulumiProject) -> PulumiProject:
    """The example fabric's ClusterLink stacks deployed (the session's, only read here); its Lattice stacks exist
    (no AWS plugin to deploy them)."""
    existing = {s["name"] for s in json.loads(example.pulumi("stack", "ls", "--json").stdout)}
    for stack in LATTICE:
        if stack not in existing:
            example.init_stack(stack)
    return example


@pytest.mark.slow
@pytest.mark.parametrize("case", ENGINE_CASES)
def test_bad_input_fails_the_engines_preview_clearly_changing_nothing(deployed: PulumiProject, tmp_path: Path,
                                                                       case: str):
    edits, expected = CASES[case]
    checkout = copy_program(tmp_path / "checkout")
    apply(checkout / "config", edits)
    stack = stack_of(edits)
    state = Path(deployed.env["PULUMI_BACKEND_URL"].removeprefix("file://")) / ".pulumi" / "stacks" / "clusterfabric" / f"{stack}.json"
    before = state.read_bytes()
    engine = project(checkout, Path(deployed.env["PULUMI_BACKEND_URL"].removeprefix("file://")))
    engine.env["PULUMI_CONFIG_PASSPHRASE_FILE"] = deployed.env["PULUMI_CONFIG_PASSPHRASE_FILE"]
    result = engine.pulumi("preview", "--stack", stack, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert expected.split(": ", 1)[1] in output.replace(f"{checkout}/", ""), output
    assert "Traceback" not in output
    assert not [line for line in result.stdout.splitlines() if line.lstrip().startswith("+  ") and "pulumi:pulumi:Stack" not in line]
    assert state.read_bytes() == before
