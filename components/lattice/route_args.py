"""The arguments of a route component used alone, in the Gateway API's words, and the Lattice service they make.

A program without fabric.yaml gives the route (hostnames, rules with their matches), the Gateway it attaches to
(its service network and listeners) and, for each backend, the target group it forwards to (a ServiceExport's
`target_groups`, or any target group's ARN). These are checked as `clusterfabric validate` checks a cluster: the
Gateway and the route by their models, then the cluster's and the fabric's rules over a one-cluster fabric
holding just them, each backend a ServiceImport naming a stand-in target group ARN. So the messages are
validate's, and the Lattice service, listeners and rules are the fabric's (components.model.lattice_fabric).
No `from __future__ import annotations`: kept readable by the component provider host.
"""

from typing import Any, NotRequired, TypedDict

import pulumi

from ..model.errors import InputError
from ..model.fabric_yaml import FabricSpec
from ..model.gateway import GRPCRoute, HTTPRoute, TLSRoute
from ..model.gateway import Gateway
from ..model.lattice import API_VERSION, CERTIFICATE_ARN, SERVICE_NAME_OVERRIDE, TARGET_GROUP_ARN, ServiceImport
from ..model.lattice_checks import check_cluster
from ..model.lattice_fabric import ServiceSpec, build
from ..model.lattice_rules import problems as fabric_problems, warnings as fabric_warnings
from ..model.load import ClusterManifests
from ..model.validation import parse

MODELS: dict[str, Any] = {"HTTPRoute": HTTPRoute, "GRPCRoute": GRPCRoute, "TLSRoute": TLSRoute}
GATEWAY_API = "gateway.networking.k8s.io/v1"
CLUSTER = "program"  # the one cluster of the stand-in fabric: it names nothing the route declares


class ListenerArgs(TypedDict):
    name: str
    """The listener's name (Gateway API sectionName: a DNS-1123 subdomain, 1-253 characters)."""
    protocol: str
    """HTTP, HTTPS or TLS (TLS passthrough: a TLSRoute's)."""
    port: int
    """1-65535; one listener per port on a Lattice service."""
    certificate_arn: NotRequired[str]
    """HTTPS: the ACM certificate of the route's custom domain name (its first hostname)."""


class GatewayArgs(TypedDict):
    name: str
    """The service network's name (3-63 characters of a-z, 0-9 and '-'): a Gateway is the network of its name."""
    network_id: pulumi.Input[str]
    """The service network's id (a ServiceNetwork's `id`)."""
    listeners: list[ListenerArgs]
    """The Gateway's listeners, 1-64; the route takes those its kind can use (or `section_names`)."""


class PathMatchArgs(TypedDict):
    type: NotRequired[str]
    """Exact or PathPrefix (the default)."""
    value: str
    """1-200 characters, starting with '/', of a-z, A-Z, 0-9 and @:%_+.~#?&/=-."""


class HeaderMatchArgs(TypedDict):
    name: str
    """The header's name, 1-100 characters (matched case-insensitively)."""
    value: str
    """The exact value, 1-200 characters."""


class GRPCMethodArgs(TypedDict):
    service: str
    """The gRPC service (package.Service), 1-200 characters."""
    method: NotRequired[str]
    """The method; absent: every method of the service."""


class MatchArgs(TypedDict):
    path: NotRequired[PathMatchArgs]
    """HTTPRoute: the path."""
    method: NotRequired[str]
    """HTTPRoute: the HTTP method (GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE or PATCH)."""
    grpc_method: NotRequired[GRPCMethodArgs]
    """GRPCRoute: the gRPC method."""
    headers: NotRequired[list[HeaderMatchArgs]]
    """HTTPRoute, GRPCRoute: exact header matches, at most 5."""


class BackendArgs(TypedDict):
    target_group: pulumi.Input[str]
    """The target group's ARN (or id): e.g. a ServiceExport's, the one it made for this route's service."""
    weight: NotRequired[int]
    """0-999 (default 1)."""


class RuleArgs(TypedDict):
    matches: NotRequired[list[MatchArgs]]
    """At most one (a Lattice rule has one match); none: every request (a TLSRoute's only rule has none)."""
    backends: list[BackendArgs]
    """0-10 target groups, the traffic split by weight (none: the rule answers 500; a TLSRoute needs one)."""


class RouteArgs(TypedDict):
    name: str
    """The route's name; its Lattice service is `<name>-<namespace>` (3-40 characters, or `service_name`)."""
    namespace: str
    """The route's namespace (a DNS label)."""
    gateway: GatewayArgs
    """The Gateway (service network) it attaches to."""
    rules: list[RuleArgs]
    """HTTPRoute and GRPCRoute: 1-16 rules (at most the rules-per-listener quota, 10 by default), priorities in
    order; TLSRoute: exactly one."""
    account_id: str
    """The AWS account (12 digits) of the service and its target groups."""
    region: str
    """Their Region, e.g. us-west-2 (a service forwards only to target groups of its Region)."""
    section_names: NotRequired[list[str]]
    """The Gateway's listeners it attaches to, at most 2 (the listeners-per-service quota); default: every
    listener of a protocol its kind uses."""
    hostnames: NotRequired[list[str]]
    """At most 16; the first is the service's custom domain name (a TLSRoute needs one)."""
    service_name: NotRequired[str]
    """The Lattice service's name instead of `<name>-<namespace>`: 3-40 characters, not starting with `svc-`."""
    auth_policy: NotRequired[str]
    """An IAM policy document of the service (JSON with a Statement, at most 10 KiB): auth type AWS_IAM."""
    tags: NotRequired[dict[str, str]]
    """Tags of everything it declares."""


def planned_service(token: str, name: str, kind: str, args: RouteArgs) -> tuple[ServiceSpec, list[list[Any]]]:
    """The route's Lattice service as the fabric would build it, and each rule's target groups (Inputs), or
    InputError naming the component, the object and the field, with validate's messages."""
    where, namespace = f"{token} {name}", args["namespace"]
    stand_ins: dict[str, Any] = {}
    imports, rules = [], []
    for r, rule in enumerate(args["rules"]):
        refs = []
        for b, backend in enumerate(rule["backends"]):
            stand_in = f"arn:aws:vpc-lattice:{args['region']}:{args['account_id']}:targetgroup/tg-{r:08d}{b:09d}"
            stand_ins[stand_in] = backend["target_group"]
            imports.append({"apiVersion": API_VERSION, "kind": "ServiceImport", "metadata": {
                "name": f"target-group-{r}-{b}", "namespace": namespace, "annotations": {TARGET_GROUP_ARN: stand_in}}})
            refs.append({"group": "application-networking.k8s.aws", "kind": "ServiceImport",
                         "name": f"target-group-{r}-{b}", "weight": backend.get("weight", 1)})
        rules.append({"backendRefs": refs, **({"matches": [_match(m) for m in rule["matches"]]}
                                              if rule.get("matches") else {})})
    gateway = args["gateway"]
    parents = [{"name": gateway["name"], **({"sectionName": s} if s else {})}
               for s in args.get("section_names") or [None]]
    route = {"apiVersion": GATEWAY_API, "kind": kind,
             "metadata": {"name": args["name"], "namespace": namespace, "annotations": (
                 {SERVICE_NAME_OVERRIDE: args["service_name"]} if "service_name" in args else {})},
             "spec": {"parentRefs": parents, "rules": rules,
                      **({"hostnames": args["hostnames"]} if args.get("hostnames") else {})}}
    objects = [
        parse(Gateway, {"apiVersion": GATEWAY_API, "kind": "Gateway",
                        "metadata": {"name": gateway["name"], "namespace": namespace},
                        "spec": {"gatewayClassName": "amazon-vpc-lattice",
                                 "listeners": [_listener(listener) for listener in gateway["listeners"]]}},
              where, f"Gateway/{namespace}/{gateway['name']}"),
        parse(MODELS[kind], route, where, f"{kind}/{namespace}/{args['name']}"),
        *(parse(ServiceImport, i, where, f"ServiceImport/{namespace}/{i['metadata']['name']}") for i in imports),
    ]
    manifests = ClusterManifests(CLUSTER, objects, {id(o): where for o in objects})
    spec = parse(FabricSpec, {"clusters": [{"name": CLUSTER, "dataplane": "lattice", "lattice": {
        "accountId": args["account_id"], "region": args["region"], "vpcId": "vpc-00000000",
        "targets": {"mode": "ip", "ips": ["10.0.0.1"]}}}]}, where, f"{kind}/{namespace}/{args['name']}")
    problems, warnings = check_cluster(spec.clusters[0], manifests)
    if not problems:
        fabric = build(spec, {CLUSTER: manifests}, where)
        problems, warnings = fabric_problems(fabric), warnings + fabric_warnings(fabric)
    if problems:
        raise InputError(problems)
    for warning in warnings:
        pulumi.log.warn(str(warning))
    [service] = fabric.services
    return service, [[stand_ins[t.arn] for t in rule.targets] for rule in service.rules]


def _match(match: MatchArgs) -> dict[str, Any]:
    found: dict[str, Any] = {k: v for k, v in match.items() if k in ("path", "method", "headers")}
    if "grpc_method" in match:
        found["method"] = dict(match["grpc_method"])
    return found


def _listener(listener: ListenerArgs) -> dict[str, Any]:
    found: dict[str, Any] = {"name": listener["name"], "protocol": listener["protocol"], "port": listener["port"]}
    if listener["protocol"] == "TLS":
        found["tls"] = {"mode": "Passthrough"}
    elif "certificate_arn" in listener:
        found["tls"] = {"mode": "Terminate", "options": {CERTIFICATE_ARN: listener["certificate_arn"]}}
    return found
