"""VPC Lattice checks across objects and clusters, and ServiceImport resolution.

As for ClusterLink, the same functions serve offline (exports described by the
fabric's manifests) and at preview (exports as the exporting stacks publish
them, with their target group ARNs).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import lcm
from typing import Iterable, Sequence

from .errors import Problem
from .fabric_yaml import ClusterSpec, FabricSpec
from .gateway import LISTENER_PROTOCOLS, ROUTE_KINDS, Gateway, Listener
from .lattice import (SERVICE_NAME_OVERRIDE, IAMAuthPolicy, ServiceExport, ServiceImport, TargetGroupPolicy,
                      VpcAssociationPolicy)
from .limits import RULE_PRIORITY, WEIGHT, service_name_problem
from .load import ClusterManifests, ref
from .routes import Backend, BackendKey, backends, routes, rules, service_imports
ExportKey = tuple[str, str, str, int, str]
"""One exported port: (cluster, namespace, export name, port, route type)."""
Scope = tuple[str, str]
"""An AWS account and Region: where Lattice names are unique and a service finds its target groups."""

LATTICE_KINDS = (ServiceExport, ServiceImport, TargetGroupPolicy, IAMAuthPolicy, VpcAssociationPolicy, Gateway,
                 *ROUTE_KINDS)


def scope_of(spec: ClusterSpec) -> Scope:
    assert spec.lattice is not None
    return spec.lattice.accountId, spec.lattice.region


@dataclass(frozen=True)
class LatticeExport:
    """One exported port, as a cluster publishes it."""

    cluster: str
    vpc: str
    name: str
    namespace: str
    port: int
    route_type: str
    scope: Scope
    target_groups: tuple[tuple[str | None, str], ...] = ()
    """(consuming Lattice service, target group ARN) of each of its target groups, once the exporting stack is
    deployed (or mocked): one per service that forwards to it (None: the one of an export nobody uses yet)."""

    @property
    def key(self) -> ExportKey:
        return self.cluster, self.namespace, self.name, self.port, self.route_type

    def target_group_for(self, service: str) -> str | None:
        return next((arn for consumer, arn in self.target_groups if consumer == service), None)


def exports_of(spec: ClusterSpec, manifests: ClusterManifests) -> list[LatticeExport]:
    settings = spec.lattice
    assert settings is not None
    found = []
    for export in manifests.of_kind(ServiceExport):
        service = manifests.service(export.metadata.namespace, export.service)
        ports = [p.port for p in service.spec.ports] if service else []
        for exported in export.exported_ports(ports):
            found.append(LatticeExport(spec.name, settings.vpcId, export.metadata.name, export.metadata.namespace,
                                       exported.port, exported.routeType, scope_of(spec)))
    return found


def truncate(text: str, length: int) -> str:
    """The controller's `utils.Truncate`: at most `length` characters, '-' trimmed from both ends."""
    return text[:length].strip("-")


def route_service_name(route) -> str:
    """The Lattice service of a route: `<route[:20]>-<ns[:18]>`, or the override annotation."""
    override = route.metadata.annotations.get(SERVICE_NAME_OVERRIDE)
    return override or f"{truncate(route.metadata.name, 20)}-{truncate(route.metadata.namespace, 18)}"


PRIORITY_ANNOTATION = "application-networking.k8s.aws/rule-{}-priority"


def rule_priorities(route) -> tuple[list[int], list[tuple[str, str]]]:
    """Each rule's Lattice priority as the controller assigns it, and (field, message) for each bad one.

    A rule with the annotation `rule-<i>-priority` keeps it; the others follow in order, each one above the
    priority assigned last (the controller's queue), starting at 1. The controller warns about an annotation
    that is no number and uses the rule's position instead; a typo there would reorder the routing, so it is
    refused here.
    """
    annotations = route.metadata.annotations
    assigned: dict[int, int] = {}
    problems: list[tuple[str, str]] = []
    for i in range(len(route.spec.rules)):
        key = PRIORITY_ANNOTATION.format(i)
        if key in annotations:
            value = annotations[key].strip()
            if not value.lstrip("-").isdigit():
                problems.append(("metadata.annotations", f"{key}: {annotations[key]!r} is not a whole number"))
            assigned[i] = int(value) if value.lstrip("-").isdigit() else i + 1
    last = list(assigned.values())[-1] if assigned else 0
    for i in range(len(route.spec.rules)):
        if i not in assigned:
            last = assigned[i] = last + 1
    low, high = RULE_PRIORITY
    by_priority: dict[int, int] = {}
    for i, priority in sorted(assigned.items()):
        if not low <= priority <= high:
            problems.append(("metadata.annotations", f"rule {i} gets priority {priority}, outside {low}-{high} "
                             f"(the controller's range; set {PRIORITY_ANNOTATION.format(i)})"))
        if priority in by_priority:
            problems.append(("metadata.annotations", f"rules {by_priority[priority]} and {i} both get priority "
                             f"{priority}; a Lattice listener takes each priority once (set "
                             f"{PRIORITY_ANNOTATION.format(i)})"))
        by_priority.setdefault(priority, i)
    return [assigned[i] for i in range(len(route.spec.rules))], problems


def gateway_listeners(route, gateways: dict[str, Gateway]) -> list[tuple[str, Listener]]:
    """(gateway name, listener) pairs a route attaches to: the named section, else every compatible listener."""
    found = []
    for parent in route.spec.parentRefs:
        gateway = gateways.get(parent.name)
        if gateway is None:
            continue
        for listener in gateway.spec.listeners:
            if parent.sectionName and listener.name != parent.sectionName:
                continue
            if listener.protocol in LISTENER_PROTOCOLS[route.kind] and (parent.port in (None, listener.port)):
                found.append((gateway.metadata.name, listener))
    return found


def check_cluster(spec: ClusterSpec, manifests: ClusterManifests) -> tuple[list[Problem], list[Problem]]:
    """(problems, warnings) inside one Lattice cluster."""
    problems: list[Problem] = []
    warnings: list[Problem] = []

    def say(into: list[Problem], obj, field: str, message: str) -> None:
        into.append(Problem(manifests.file_of(obj), ref(obj), field, message))

    if spec.dataplane != "lattice":
        for obj in manifests.objects:
            if isinstance(obj, LATTICE_KINDS):
                say(problems, obj, "kind", f"cluster {spec.name!r} uses dataplane {spec.dataplane}; VPC Lattice "
                    "objects belong to clusters with dataplane lattice")
        return problems, warnings

    for export in manifests.of_kind(ServiceExport):
        ns = export.metadata.namespace
        service = manifests.service(ns, export.service)
        if service is None:
            say(problems, export, "metadata.name", f"no Service {ns}/{export.service} in this cluster's manifests "
                "to export (the service-name annotation names another one)")
            continue
        ports = {p.port for p in service.spec.ports}
        for i, exported in enumerate(export.exported_ports(sorted(ports))):
            if exported.port not in ports:
                say(problems, export, f"spec.exportedPorts[{i}].port",
                    f"Service {ns}/{export.service} has no port {exported.port} (its ports: "
                    f"{', '.join(map(str, sorted(ports)))})")

    gateways = {g.metadata.name: g for g in manifests.of_kind(Gateway)}
    imports = service_imports(manifests)
    used_imports: set[tuple[str, str]] = set()
    declared_routes = routes(manifests)
    route_names = {(r.kind, r.metadata.namespace, r.metadata.name) for r in declared_routes}
    for route in declared_routes:
        problem = service_name_problem(route_service_name(route))
        if problem:
            say(problems, route, "metadata.name", f"{problem}; set the annotation {SERVICE_NAME_OVERRIDE}")
        for field, message in rule_priorities(route)[1]:
            say(problems, route, field, message)
        for i, parent in enumerate(route.spec.parentRefs):
            gateway = gateways.get(parent.name)
            if gateway is None:
                say(problems, route, f"spec.parentRefs[{i}].name", f"no Gateway {parent.name!r} in this cluster's "
                    f"manifests (Gateways: {', '.join(sorted(gateways)) or 'none'})")
                continue
            names = [listener.name for listener in gateway.spec.listeners]
            if parent.sectionName and parent.sectionName not in names:
                say(problems, route, f"spec.parentRefs[{i}].sectionName", f"Gateway {parent.name!r} has no listener "
                    f"{parent.sectionName!r} (listeners: {', '.join(names)})")
        if not problems and not gateway_listeners(route, gateways):
            say(problems, route, "spec.parentRefs", f"no listener of its Gateways accepts a {route.kind} (protocols "
                f"{' or '.join(LISTENER_PROTOCOLS[route.kind])})")
        for backend in (b for rule in rules(route, imports) for b in rule):
            where, ns, name, port = backend.field, backend.namespace, backend.ref.name, backend.ref.port
            if backend.ref.kind == "Service":
                service = manifests.service(ns, name)
                if service is None:
                    say(problems, route, f"{where}.name", f"no Service {ns}/{name} in this cluster's manifests")
                elif port is None:
                    say(problems, route, f"{where}.port", "a Service backend needs its port")
                elif port not in {p.port for p in service.spec.ports}:
                    say(problems, route, f"{where}.port", f"Service {ns}/{name} has no port {port}")
                continue
            if backend.service_import is None:
                say(problems, route, f"{where}.name", f"no ServiceImport {ns}/{name} in this cluster's manifests")
                continue
            used_imports.add((ns, name))
            if port is not None:
                say(warnings, route, f"{where}.port", "the port of a ServiceImport backend is ignored (the "
                    "exported port is used, as with the AWS controller)")

    for (ns, name), imp in sorted(imports.items()):
        if (ns, name) not in used_imports:
            say(warnings, imp, "metadata.name", "no route uses this ServiceImport: a ServiceImport only takes effect "
                "as a route's backendRef")

    for policy in manifests.of_kind(TargetGroupPolicy):
        target = policy.spec.targetRef
        ns = target.namespace or policy.metadata.namespace
        found = (manifests.service(ns, target.name) if target.kind == "Service" else
                 any(e.metadata.namespace == ns and e.metadata.name == target.name
                     for e in manifests.of_kind(ServiceExport)))
        if not found:
            say(problems, policy, "spec.targetRef", f"no {target.kind} {ns}/{target.name} in this cluster's manifests")
        if policy.spec.healthCheck and spec.lattice and spec.lattice.targets.mode == "alb":
            say(warnings, policy, "spec.healthCheck", "ignored: this cluster's targets are an ALB (targets mode alb), "
                "and VPC Lattice does not health-check ALB target groups; the ALB's own target groups do")
    for policy in (*manifests.of_kind(IAMAuthPolicy), *manifests.of_kind(VpcAssociationPolicy)):
        target = policy.spec.targetRef
        ns = target.namespace or policy.metadata.namespace
        found = target.name in gateways if target.kind == "Gateway" else (target.kind, ns, target.name) in route_names
        if not found:
            say(problems, policy, "spec.targetRef", f"no {target.kind} {target.name!r} in this cluster's manifests")
    return problems, warnings


# --- resolution -------------------------------------------------------------------


class ExportIndex:
    """A fabric's exports by (name, namespace), so resolving a ServiceImport looks at its few candidates
    instead of every export of the fabric (that scan, per import per cluster, was quadratic in the fabric)."""

    def __init__(self, exports: Iterable[LatticeExport]):
        self.exports = list(exports)
        self.by_name: dict[tuple[str, str], list[LatticeExport]] = {}
        for e in self.exports:
            self.by_name.setdefault((e.name, e.namespace), []).append(e)

    @classmethod
    def of(cls, exports: "Sequence[LatticeExport] | ExportIndex") -> "ExportIndex":
        return exports if isinstance(exports, ExportIndex) else cls(exports)


def candidates(imp: ServiceImport, namespace: str, route_type: str, exports: Iterable[LatticeExport],
               scope: Scope) -> list[LatticeExport]:
    """The exports a ServiceImport backend resolves to, sorted by cluster (deterministic). Only those of the
    importer's account and Region: a Lattice service forwards only to target groups there, and the controller
    looks for them there only."""
    name, cluster, vpc = imp.export_name, imp.cluster_filter, imp.vpc_filter
    if isinstance(exports, ExportIndex):
        exports = exports.by_name.get((name, namespace), [])
    return sorted(
        (e for e in exports
         if e.name == name and e.namespace == namespace and e.route_type == route_type and e.scope == scope
         and cluster in (None, e.cluster) and vpc in (None, e.vpc)),
        key=lambda e: (e.cluster, e.port),
    )


def no_match_message(imp: ServiceImport, namespace: str, route_type: str, exports: Sequence[LatticeExport],
                     scope: Scope) -> str:
    filters = [f"export-name={imp.export_name}", f"namespace={namespace}", f"routeType={route_type}"]
    if imp.cluster_filter:
        filters.append(f"aws-eks-cluster-name={imp.cluster_filter}")
    if imp.vpc_filter:
        filters.append(f"aws-vpc={imp.vpc_filter}")
    seen = ", ".join(f"{e.namespace}/{e.name}:{e.port}/{e.route_type} in {e.cluster} ({e.vpc}"
                     + (")" if e.scope == scope else f", another account or Region: {'/'.join(e.scope)})")
                     for e in exports)
    return f"no exported service matches {', '.join(filters)}; exports seen: {seen or 'none'}"


def split_weights(weights: Sequence[int], shares: Sequence[int]) -> list[list[int]]:
    """Split each backend's weight evenly over its `shares` matches, keeping the rule's proportions.

    All weights are scaled by the least common multiple of the shares, so each
    share is whole; when that would pass Lattice's maximum weight (999), each
    weight is split with the remainder going to the first matches.
    """
    matched = [n for n in shares if n]  # a backend matching nothing is a problem reported on its own
    scale = lcm(*matched) if matched else 1
    if max((w * scale for w in weights), default=0) <= WEIGHT[1]:
        return [[w * scale // n] * n if n else [] for w, n in zip(weights, shares)]
    return [[w // n + (1 if i < w % n else 0) for i in range(n)] for w, n in zip(weights, shares)]


def network_owners(fabric: FabricSpec, manifests: dict[str, ClusterManifests]) -> dict[tuple[Scope, str], str]:
    """(account and Region, service network) -> the cluster whose stack creates it there: the one that lists it
    in `lattice.serviceNetworks`, else the first in fabric.yaml that declares its Gateway. Each account and
    Region has its own network of a name: a VPC can only join a network of its Region (another account's only
    through AWS RAM, which the program does not manage)."""
    owners: dict[tuple[Scope, str], str] = {}
    lattice = [c for c in fabric.clusters if c.dataplane == "lattice"]
    for cluster in lattice:
        for network in cluster.lattice.serviceNetworks:
            owners.setdefault((scope_of(cluster), network), cluster.name)
    for cluster in lattice:
        for gateway in manifests[cluster.name].of_kind(Gateway):
            owners.setdefault((scope_of(cluster), gateway.metadata.name), cluster.name)
    return owners


def resolve_imports(manifests: ClusterManifests, exports: Sequence[LatticeExport] | ExportIndex,
                    scope: Scope) -> tuple[dict[BackendKey, list[LatticeExport]], list[Problem]]:
    """Each ServiceImport backend's matching exports, keyed by its `BackendKey`, and a problem for each backend
    that matches none."""
    index = ExportIndex.of(exports)
    resolved, problems = {}, []
    for backend in backends(manifests):
        imp = backend.service_import
        if imp is None or imp.target_group_arn:
            continue
        matches = matching_exports(backend, index, scope)
        if not matches:
            route = backend.route
            problems.append(Problem(manifests.file_of(route), ref(route), backend.field,
                                    f"ServiceImport {backend.namespace}/{backend.ref.name}: "
                                    + no_match_message(imp, backend.namespace, backend.route_type, index.exports,
                                                       scope)))
        resolved[backend.key] = matches
    return resolved, problems


def matching_exports(backend: Backend, exports: Iterable[LatticeExport], scope: Scope) -> list[LatticeExport]:
    """The exports a ServiceImport backend resolves to (`candidates` of its ServiceImport)."""
    assert backend.service_import is not None
    return candidates(backend.service_import, backend.namespace, backend.route_type, exports, scope)


def import_sources(manifests: ClusterManifests, exports: Sequence[LatticeExport] | ExportIndex,
                   spec: ClusterSpec) -> list[str]:
    """The clusters whose exports this cluster's ServiceImports may resolve to (its stack references)."""
    return sources_of(resolve_imports(manifests, exports, scope_of(spec))[0], spec.name)


def sources_of(resolved: dict, self_name: str) -> list[str]:
    """The clusters other than `self_name` that resolved imports point at."""
    return sorted({e.cluster for matches in resolved.values() for e in matches} - {self_name})
