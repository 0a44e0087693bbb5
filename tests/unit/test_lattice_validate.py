"""Every VPC Lattice limit is refused by `validate`, one exact line naming file, object and field; what neither
AWS nor the controller refuses is a warning.

Each case edits a copy of the example fabric in one or more places. The limits are the Lattice API's (botocore's
model), the controller's, and Kubernetes' own for integer fields (a quoted number is refused everywhere alike).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from clusterfabric.components.model.lattice import ServiceExport
from clusterfabric.components.model.validation import parse
from tests.unit.edited_fabric import edit, edit_all, lines, warning_lines

ROUTES = "cluster3/routes.yaml"
CHECKOUT_ROUTE = "cluster3/routes.yaml: HTTPRoute/default/checkout"
QUOTED = "is a string: write the number without quotes (Kubernetes refuses a quoted value where its schema says integer)"
ROUTE_META = "  name: checkout\n  namespace: default\nspec:\n  parentRefs:"


def annotated(*annotations: str) -> tuple[str, str, str]:
    """The checkout route with these annotations."""
    text = "".join(f"\n    {a}" for a in annotations)
    return ROUTES, ROUTE_META, f"  name: checkout\n  namespace: default\n  annotations:{text}\nspec:\n  parentRefs:"


CASES: dict[str, tuple[list[tuple[str, str, str]], str]] = {
    "weight above 999": (
        [(ROUTES, "          port: 80\n          weight: 50", "          port: 80\n          weight: 1000")],
        f"{CHECKOUT_ROUTE}: spec.rules[2].backendRefs[0].weight: 1000 is above 999, the largest weight VPC Lattice "
        "takes for a target group"),
    "Gateway name of 2 characters": (
        [("cluster1/gateway.yaml", "  name: fabric-network", "  name: ab")],
        "cluster1/gateway.yaml: Gateway/default/ab: metadata.name: service network name 'ab' must be 3-63 "
        "characters (has 2): a Gateway is the VPC Lattice service network of its name"),
    "Gateway name of 64 characters": (
        [("cluster1/gateway.yaml", "  name: fabric-network", f"  name: {'n' * 64}")],
        f"cluster1/gateway.yaml: Gateway/default/{'n' * 64}: metadata.name: service network name '{'n' * 64}' must "
        "be 3-63 characters (has 64): a Gateway is the VPC Lattice service network of its name"),
    "ServiceExport name with a '.'": (
        [("cluster2/exports.yaml", "  name: inventory\n", "  name: inventory.v1\n")],
        "cluster2/exports.yaml: ServiceExport/default/inventory.v1: metadata.name: 'inventory.v1' holds a '.': the "
        "controller names the export's target groups after it, and VPC Lattice names take only a-z, 0-9 and '-'"),
    "TLSRoute rule without backends": (
        [(ROUTES, "    - backendRefs:\n        - name: payments\n          kind: ServiceImport\n", "    - {}\n")],
        "cluster3/routes.yaml: TLSRoute/default/payments: spec.rules[0].backendRefs: a TLSRoute's rule needs a "
        "backend: its TLS passthrough listener can only forward, and the controller refuses it without one"),
    "TLSRoute without hostnames": (
        [(ROUTES, "  hostnames:\n    - payments.example.com\n", "")],
        "cluster3/routes.yaml: TLSRoute/default/payments: spec.hostnames: a TLSRoute needs a hostname: VPC Lattice "
        "requires a custom domain name (the first hostname) for a TLS passthrough service, and the controller "
        "refuses it too"),
    "quoted weight": (
        [(ROUTES, "          port: 80\n          weight: 50", '          port: 80\n          weight: "50"')],
        f"{CHECKOUT_ROUTE}: spec.rules[2].backendRefs[0].weight: '50' {QUOTED}"),
    "quoted exported port": (
        [("cluster2/exports.yaml", "    - port: 50051", '    - port: "50051"')],
        f"cluster2/exports.yaml: ServiceExport/default/inventory: spec.exportedPorts[0].port: '50051' {QUOTED}"),
    "quoted ServiceImport port": (
        [("cluster3/imports.yaml", "  - port: 50051", '  - port: "50051"')],
        f"cluster3/imports.yaml: ServiceImport/default/inventory: spec.ports[0].port: '50051' {QUOTED}"),
    "quoted health check interval": (
        [("cluster2/exports.yaml", "intervalSeconds: 10", 'intervalSeconds: "10"')],
        f"cluster2/exports.yaml: TargetGroupPolicy/default/checkout-health: spec.healthCheck.intervalSeconds: "
        f"'10' {QUOTED}"),
    "quoted Gateway listener port": (
        [("cluster3/gateway.yaml", "port: 8443", 'port: "8443"')],
        f"cluster3/gateway.yaml: Gateway/default/fabric-network: spec.listeners[2].port: '8443' {QUOTED}"),
    "quoted node port": (
        [("cluster1/services.yaml", "    - port: 80\n      targetPort: 8080",
          '    - port: 80\n      targetPort: 8080\n      nodePort: "30080"')],
        f"cluster1/services.yaml: Service/default/checkout: spec.ports[0].nodePort: '30080' {QUOTED}"),
    "header name over 100 characters": (
        [(ROUTES, "{name: x-canary,", f"{{name: x{'c' * 100},")],
        f"{CHECKOUT_ROUTE}: spec.rules[1].matches[0].headers[0].name: String should have at most 100 characters"),
    "path character Lattice does not take": (
        [(ROUTES, "value: /legacy}", "value: /legacy$}")],
        f"{CHECKOUT_ROUTE}: spec.rules[0].matches[0].path.value: '/legacy$': VPC Lattice takes only a-z, A-Z, "
        "0-9 and @:%_+.~#?&/=- in a path match"),
    "certificate-arn that is no ACM certificate": (
        [("cluster3/gateway.yaml", "      protocol: HTTPS\n      port: 443",
          "      protocol: HTTPS\n      port: 443\n      tls:\n        options:\n"
          "          application-networking.k8s.aws/certificate-arn: arn:aws:iam::111122223333:server-certificate/x")],
        "cluster3/gateway.yaml: Gateway/default/fabric-network: spec.listeners[1].tls.options: "
        "application-networking.k8s.aws/certificate-arn: 'arn:aws:iam::111122223333:server-certificate/x' is not "
        "an ACM certificate ARN (arn:aws:acm:REGION:ACCOUNT:certificate/ID)"),
    "two rules of one priority": (
        [annotated('application-networking.k8s.aws/rule-0-priority: "2"',
                   'application-networking.k8s.aws/rule-1-priority: "2"')],
        f"{CHECKOUT_ROUTE}: metadata.annotations: rules 0 and 1 both get priority 2; a Lattice listener takes each "
        "priority once (set application-networking.k8s.aws/rule-1-priority)"),
    "rule priority out of range": (
        [annotated('application-networking.k8s.aws/rule-0-priority: "0"')],
        f"{CHECKOUT_ROUTE}: metadata.annotations: rule 0 gets priority 0, outside 1-100 (the controller's range; "
        "set application-networking.k8s.aws/rule-0-priority)"),
    "TCP policy with a protocol version": (
        [("cluster2/exports.yaml", "    name: checkout\n  healthCheck:",
          "    name: checkout\n  protocol: TCP\n  protocolVersion: HTTP1\n  healthCheck:")],
        "cluster2/exports.yaml: TargetGroupPolicy/default/checkout-health: spec.protocolVersion: a TCP target group "
        "has no protocol version (the controller refuses this policy too): remove it"),
    "security group id of neither 8 nor 17 characters": (
        [("fabric.yaml", "securityGroupIds: [sg-0a1b2c3d4e5f60002]", "securityGroupIds: [sg-0a1b2c3d4]")],
        "fabric.yaml: Fabric: clusters[4].lattice.securityGroupIds[0]: String should match pattern "
        "'^sg-([0-9a-f]{8}|[0-9a-f]{17})$'"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_lattice_limit_is_refused_with_the_right_line(fabric: Path, case: str):
    edits, expected = CASES[case]
    edit_all(fabric, edits)
    assert lines(fabric) == [expected]


def test_a_health_check_policy_for_alb_targets_is_a_warning_that_it_is_ignored(fabric: Path):
    edit(fabric, "fabric.yaml", "targets: {mode: ip, ips: [10.2.1.10, 10.2.2.10]}",
         "targets: {mode: alb, albArn: arn:aws:elasticloadbalancing:us-west-2:111122223333:loadbalancer/app/"
         "cluster2-internal/0123456789abcdef}")
    assert warning_lines(fabric) == [
        "cluster2/exports.yaml: TargetGroupPolicy/default/checkout-health: spec.healthCheck: ignored: this cluster's "
        "targets are an ALB (targets mode alb), and VPC Lattice does not health-check ALB target groups; the ALB's "
        "own target groups do"]


WARNINGS: dict[str, tuple[list[tuple[str, str, str]], str]] = {
    "every weight 0": (
        [(ROUTES, "        - name: checkout-import-1\n          kind: ServiceImport",
          "        - name: checkout-import-1\n          kind: ServiceImport\n          weight: 0")],
        f"{CHECKOUT_ROUTE}: spec.rules[0].backendRefs: every backend has weight 0: the Gateway API answers such a rule "
        "with 500, but the controller sends its forward action with these weights, as the program does, and VPC "
        "Lattice documents neither a refusal nor where it then forwards"),
    "health check timeout above its interval": (
        [("cluster2/exports.yaml", "intervalSeconds: 10", "intervalSeconds: 10\n    timeoutSeconds: 11")],
        "cluster2/exports.yaml: TargetGroupPolicy/default/checkout-health: spec.healthCheck.timeoutSeconds: a health "
        "check waits 11s for an answer but runs every 10s (intervalSeconds): Elastic Load Balancing requires the "
        "timeout to be below the interval; VPC Lattice and the controller take it as written"),
    "health check timeout above the default interval": (
        [("cluster2/exports.yaml", "intervalSeconds: 10", "timeoutSeconds: 31")],
        "cluster2/exports.yaml: TargetGroupPolicy/default/checkout-health: spec.healthCheck.timeoutSeconds: a health "
        "check waits 31s for an answer but runs every 30s (intervalSeconds, the default): Elastic Load Balancing "
        "requires the timeout to be below the interval; VPC Lattice and the controller take it as written"),
    "rule priority that is no number": (
        [annotated('application-networking.k8s.aws/rule-0-priority: "first"')],
        f"{CHECKOUT_ROUTE}: metadata.annotations: application-networking.k8s.aws/rule-0-priority: 'first' is not a "
        "whole number: the rule gets its position, 1, as the controller gives it"),
    "tag key AWS keeps for itself": (
        [("cluster1/exports.yaml", '"team=payments,cost-center=42"', '"aws:team=payments,cost-center=42"')],
        "cluster1/exports.yaml: ServiceExport/default/payments: metadata.annotations: application-networking.k8s.aws/"
        "tags: 'aws:team=payments': dropped, as the controller drops them: ports are 1-65535; tags are key=value, "
        "keys up to 128 and values up to 256 characters of letters, digits, spaces and _.:/=+-@, the first of each "
        "key, at most 50, none starting with aws: or application-networking.k8s.aws/"),
    "rule without backends": (
        [(ROUTES, "          kind: ServiceImport\n          weight: 50\n",
          "          kind: ServiceImport\n          weight: 50\n    - matches:\n        - path: {type: Exact, value: /gone}\n")],
        f"{CHECKOUT_ROUTE}: spec.rules[3].backendRefs: no backend: the rule answers 500, as the Gateway API says and "
        "the controller builds it"),
    "rule filters": (
        [(ROUTES, "    - backendRefs:\n        - name: checkout\n          port: 80",
          "    - filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: x-from, value: c3}]}}]\n"
          "      backendRefs:\n        - name: checkout\n          port: 80")],
        f"{CHECKOUT_ROUTE}: spec.rules[2].filters: ignored: VPC Lattice has no request or response filters (header "
        "modifiers, redirects, rewrites, mirrors), and the controller builds the rule without it"),
}


@pytest.mark.parametrize("case", sorted(WARNINGS))
def test_what_neither_aws_nor_the_controller_refuses_is_a_warning_with_the_right_line(fabric: Path, case: str):
    edits, expected = WARNINGS[case]
    edit_all(fabric, edits)
    assert warning_lines(fabric) == [expected]


def test_a_port_annotation_entry_that_is_no_port_is_skipped_as_by_the_controller():
    export = parse(ServiceExport, {
        "apiVersion": "application-networking.k8s.aws/v1alpha1", "kind": "ServiceExport",
        "metadata": {"name": "checkout", "annotations": {"application-networking.k8s.aws/federation": "amazon-vpc-lattice",
                                                         "application-networking.k8s.aws/port": "80,http"}}},
        "exports.yaml", "ServiceExport/default/checkout")
    assert [p.port for p in export.exported_ports([80, 443])] == [80]
    assert export.dropped_annotations() == ["application-networking.k8s.aws/port: 'http'"]

