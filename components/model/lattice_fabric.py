"""The fabric's VPC Lattice objects as plain data: every Lattice cluster's desired state.

An AWS account and Region is one space for Lattice names, VPC associations and target groups, whichever stack
creates the objects, and each stack sees only itself at `pulumi up`. So the desired state of every Lattice
cluster is built here from the fabric's manifests, as the controller's model builders build one cluster's; the
rules between stacks are checked on it (components.model.lattice_rules), by `validate` and by each stack's
program before it declares anything. The components then declare what this says (components/lattice).

What is decided here for the whole fabric:
- one target group per exported port and per Lattice service that forwards to it (a target group serves the
  listeners of one service only), made by the exporting stack; an exported port nobody forwards to has one;
- one target group per route and Service backend, as the controller makes it;
- who creates each service network, and who associates a VPC with it: the first cluster in fabric.yaml of that
  VPC that declares the Gateway, with the security groups every cluster sharing the VPC asks for (a VPC
  association exists once).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from math import lcm
from typing import Any, Iterable, Sequence

from .errors import Problem
from .fabric_yaml import ClusterSpec, FabricSpec
from .gateway import ROUTE_TYPE, Gateway, Listener
from .lattice import ServiceExport, ServiceImport, TargetGroupPolicy, VpcAssociationPolicy
from .lattice_imports import (DeclaredExport, ExportIndex, ExportKey, LatticeExport, Scope, declared_exports,
                              resolve_imports, scope_of)
from .lattice_names import listener_name, route_service_name, target_group_name
from .limits import WEIGHT
from .load import ClusterManifests, ref
from .routes import BackendKey, gateway_listeners, routes, rule_priorities, rules, service_imports

PROTOCOL_BY_ROUTE_TYPE = {"HTTP": ("HTTP", "HTTP1"), "GRPC": ("HTTP", "GRPC"), "TLS": ("TCP", None)}


@dataclass(frozen=True)
class Where:
    """Where a Lattice object comes from: the file, object and field a problem with it names."""

    file: str
    object: str
    field: str

    def problem(self, message: str) -> Problem:
        return Problem(self.file, self.object, self.field, message)

    def __str__(self) -> str:
        return f"{self.object} ({self.file})"


def where(manifests: ClusterManifests, obj: Any, field_path: str) -> Where:
    return Where(manifests.file_of(obj), ref(obj), field_path)


def target_group_protocol(source_kind: str, route_type: str,
                          policy: TargetGroupPolicy | None) -> tuple[str, str | None]:
    """(protocol, protocol version) as the controller sets them. An exported port: by its route type, then the
    policy's. A route's Service backend: the policy's (default HTTP, HTTP1), with GRPC forced for a GRPCRoute's
    and TCP for a TLSRoute's."""
    spec = policy.spec if policy else None
    if source_kind == "ServiceExport":
        protocol, version = PROTOCOL_BY_ROUTE_TYPE[route_type]
    else:
        protocol, version = "HTTP", "HTTP1"
    protocol = (spec.protocol if spec and spec.protocol else None) or protocol
    version = (spec.protocolVersion if spec and spec.protocolVersion else None) or version
    if source_kind == "GRPCRoute":
        version = "GRPC"
    if source_kind == "TLSRoute":
        protocol = "TCP"
    return protocol, None if protocol == "TCP" else version


@dataclass(frozen=True)
class ExportTargetGroupKey:
    """The target group of an exported port for one Lattice service forwarding to it (`consumer`; None: the one of
    a port nobody forwards to yet)."""

    export: ExportKey
    consumer: str | None


@dataclass(frozen=True)
class RouteTargetGroupKey:
    """The target group of a route's Service backend: one per route and Service port, as the controller makes it."""

    cluster: str
    route_kind: str
    route_namespace: str
    route_name: str
    namespace: str
    service: str
    port: int


TargetGroupKey = ExportTargetGroupKey | RouteTargetGroupKey
"""What a target group is: the components find it by this."""


@dataclass(frozen=True)
class TargetGroupSpec:
    """A target group a stack creates."""

    cluster: str
    scope: Scope
    name: str
    source_kind: str
    """ServiceExport, or the kind of the route whose Service backend it is."""
    source_namespace: str
    source_name: str
    """The export's namespace and name, or the route's."""
    namespace: str
    service: str
    """The Kubernetes Service whose pods it reaches, and its port."""
    port: int
    route_type: str
    protocol: str
    version: str | None
    consumer: str | None
    """The Lattice service whose listeners forward to it (None: an exported port nobody forwards to yet)."""
    policy: TargetGroupPolicy | None
    user_tags: dict[str, str]
    where: Where

    @property
    def export(self) -> ExportKey | None:
        """The exported port it serves (None: it is a route's Service backend's)."""
        if self.source_kind != "ServiceExport":
            return None
        return ExportKey(self.cluster, self.source_namespace, self.source_name, self.port, self.route_type)

    @property
    def key(self) -> TargetGroupKey:
        if self.export is not None:
            return ExportTargetGroupKey(self.export, self.consumer)
        return RouteTargetGroupKey(self.cluster, self.source_kind, self.source_namespace, self.source_name,
                                   self.namespace, self.service, self.port)


@dataclass(frozen=True)
class ForwardTarget:
    """One entry of a forward action, before its ARN is known: a target group this cluster creates (`local`), an
    exported port's target group for this service (`export`, in this stack or another), or an ARN the manifests
    name (`arn`)."""

    weight: int
    local: RouteTargetGroupKey | None = None
    export: LatticeExport | None = None
    arn: str | None = None
    backend: int = 0
    """The index of the rule's backendRef it comes from (a ServiceImport's matches share its weight)."""

    def identity(self, service: str) -> TargetGroupKey | str:
        """The target group itself, whatever names it: its key, or its ARN."""
        if self.export is not None:
            return ExportTargetGroupKey(self.export.key, service)
        return self.arn or self.local  # type: ignore[return-value]


@dataclass(frozen=True)
class RuleSpec:
    index: int
    priority: int
    targets: tuple[ForwardTarget, ...]


@dataclass(frozen=True)
class ListenerSpec:
    gateway: str
    listener: Listener
    name: str
    protocol: str
    """HTTP, HTTPS or TLS_PASSTHROUGH."""

    @property
    def port(self) -> int:
        return self.listener.port


@dataclass(frozen=True)
class ServiceSpec:
    """The Lattice service of one route, as the controller builds it."""

    cluster: str
    scope: Scope
    name: str
    route: Any
    networks: tuple[str, ...]
    """Every Gateway the route attaches to: the service is associated with each of those networks."""
    listeners: tuple[ListenerSpec, ...]
    """The matched listeners of its first Gateway only: a service has one set of listeners, whatever networks it
    is in (the controller's rule)."""
    rules: tuple[RuleSpec, ...]
    certificate_arn: str | None
    domain: str | None
    where: Where


@dataclass(frozen=True)
class Claim:
    """A cluster asking for its VPC's association with a service network."""

    cluster: str
    security_groups: tuple[str, ...]
    where: Where


@dataclass(frozen=True)
class OptOut:
    """A Gateway whose VpcAssociationPolicy says associateWithVpc: false."""

    cluster: str
    scope: Scope
    vpc: str
    network: str
    where: Where


@dataclass(frozen=True)
class AssociationSpec:
    """A VPC's association with a service network: created once, by `owner`, with every claimant's groups."""

    scope: Scope
    vpc: str
    network: str
    claims: tuple[Claim, ...]

    @property
    def owner(self) -> str:
        return self.claims[0].cluster

    @property
    def security_groups(self) -> list[str]:
        return list(dict.fromkeys(g for c in self.claims for g in c.security_groups))


@dataclass
class LatticeFabric:
    """Every Lattice cluster's desired state."""

    spec: FabricSpec
    fabric_file: str
    owners: dict[tuple[Scope, str], str]
    services: list[ServiceSpec] = field(default_factory=list)
    target_groups: list[TargetGroupSpec] = field(default_factory=list)
    associations: list[AssociationSpec] = field(default_factory=list)
    opt_outs: list[OptOut] = field(default_factory=list)
    resolution: dict[str, list[Problem]] = field(default_factory=dict)
    """Each cluster's ServiceImport backends that match no export."""
    resolved: dict[str, dict[BackendKey, list[LatticeExport]]] = field(default_factory=dict)
    """Each cluster's ServiceImport backends and the exports they match."""

    def target_groups_of(self, cluster: str) -> dict[TargetGroupKey, TargetGroupSpec]:
        return {tg.key: tg for tg in self.target_groups if tg.cluster == cluster}

    def services_of(self, cluster: str) -> list[ServiceSpec]:
        return [s for s in self.services if s.cluster == cluster]

    def associations_of(self, cluster: str) -> list[AssociationSpec]:
        return [a for a in self.associations if a.owner == cluster]


def build(spec: FabricSpec, manifests: dict[str, ClusterManifests], fabric_file: str,
          outside: Iterable[LatticeExport] = ()) -> LatticeFabric:
    """The desired state of every Lattice cluster of the fabric, from the manifests. `outside`: exports of
    clusters that are not in the fabric, which its ServiceImports may resolve to too."""
    clusters = [c for c in spec.clusters if c.dataplane == "lattice"]
    declared = [d for c in clusters for d in declared_exports(c, manifests[c.name])]
    exports = ExportIndex([*(d.export for d in declared), *outside])
    fabric = LatticeFabric(spec, fabric_file, network_owners(spec, manifests))
    route_groups: list[TargetGroupSpec] = []
    for cluster in clusters:
        m = manifests[cluster.name]
        resolved, fabric.resolution[cluster.name] = resolve_imports(m, exports, scope_of(cluster))
        fabric.resolved[cluster.name] = resolved
        imports = service_imports(m)
        for route in routes(m):
            service, groups = _service(cluster, m, route, imports, resolved)
            fabric.services.append(service)
            route_groups += groups
    fabric.target_groups = _export_target_groups(clusters, manifests, declared, fabric.services) + route_groups
    fabric.associations, fabric.opt_outs = _associations(clusters, manifests)
    return fabric


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


def _policies(m: ClusterManifests) -> dict[tuple[str, str, str], TargetGroupPolicy]:
    return {(p.spec.targetRef.kind, p.spec.targetRef.namespace or p.metadata.namespace, p.spec.targetRef.name): p
            for p in m.of_kind(TargetGroupPolicy)}


def _hashed(cluster: ClusterSpec, *parts: Any) -> tuple:
    """What a target group's name is a hash of: what it is, and what Lattice cannot change in place. The parts and
    their order are in every target group's name: another order renames (replaces) them all."""
    settings = cluster.lattice
    assert settings is not None
    return (cluster.name, settings.vpcId, settings.targets.mode, *parts)


def _export_target_groups(clusters: list[ClusterSpec], manifests: dict[str, ClusterManifests],
                          declared: list[DeclaredExport], services: list[ServiceSpec]) -> list[TargetGroupSpec]:
    """One target group per exported port and consuming service; one for an exported port nobody consumes."""
    consumers = _consumers(services)
    by_name = {c.name: c for c in clusters}
    policies_of = {c.name: _policies(manifests[c.name]) for c in clusters}
    found = []
    for d in declared:
        export, obj, policies = d.export, d.obj, policies_of[d.export.cluster]
        policy = (policies.get(("ServiceExport", export.namespace, export.name))
                  or policies.get(("Service", export.namespace, obj.service)))
        at = where(manifests[export.cluster], obj, d.field)
        found += export_target_groups(by_name[export.cluster], export, obj, policy, consumers.get(export.key, []), at)
    return found


def _consumers(services: list[ServiceSpec]) -> dict[ExportKey, list[str]]:
    """Each exported port's consuming Lattice services: those forwarding to it, in the order they are met."""
    consumers: dict[ExportKey, list[str]] = defaultdict(list)
    for service in services:
        for rule in service.rules:
            for target in rule.targets:
                if target.export is not None and service.name not in consumers[target.export.key]:
                    consumers[target.export.key].append(service.name)
    return consumers


def export_target_groups(cluster: ClusterSpec, export: LatticeExport, obj: ServiceExport,
                         policy: TargetGroupPolicy | None, consumers: Iterable[str],
                         at: Where) -> list[TargetGroupSpec]:
    """The target groups of one exported port: one per consuming Lattice service, one with no consumer if none."""
    protocol, version = target_group_protocol("ServiceExport", export.route_type, policy)
    found = []
    for consumer in sorted(consumers) or [None]:
        hashed = _hashed(cluster, "ServiceExport", export.cluster, export.namespace, export.name, export.port,
                         export.route_type, protocol, version, consumer)
        found.append(TargetGroupSpec(
            cluster=export.cluster, scope=export.scope,
            name=target_group_name(export.cluster, export.namespace, export.name, export.port, protocol, version,
                                   consumer, hashed),
            source_kind="ServiceExport", source_namespace=export.namespace, source_name=export.name,
            namespace=export.namespace, service=obj.service, port=export.port, route_type=export.route_type,
            protocol=protocol, version=version, consumer=consumer, policy=policy, user_tags=obj.user_tags, where=at))
    return found


def _service(cluster: ClusterSpec, m: ClusterManifests, route: Any, imports: dict[tuple[str, str], ServiceImport],
             resolved: dict[BackendKey, list[LatticeExport]]) -> tuple[ServiceSpec, list[TargetGroupSpec]]:
    """The route's Lattice service, and the target groups of its Service backends. `imports`: the cluster's
    ServiceImports (`routes.service_imports`); `resolved`: what each of its ServiceImport backends matches."""
    name = route_service_name(route)
    networks, listeners = _listeners(route, {g.metadata.name: g for g in m.of_kind(Gateway)})
    certificate = next((spec.listener.certificate_arn for spec in listeners if spec.listener.certificate_arn), None)
    rule_specs, groups = _rules(cluster, m, route, name, imports, resolved)
    service = ServiceSpec(cluster.name, scope_of(cluster), name, route, networks, listeners, rule_specs, certificate,
                          route.spec.hostnames[0] if route.spec.hostnames else None, where(m, route, "metadata.name"))
    return service, groups


def _listeners(route: Any, gateways: dict[str, Gateway]) -> tuple[tuple[str, ...], tuple[ListenerSpec, ...]]:
    """The networks of a route's service (every Gateway it attaches to), and its listeners: the matched ones of
    its first Gateway."""
    pairs = gateway_listeners(route, gateways)
    first = pairs[0][0] if pairs else None
    listeners: dict[str, ListenerSpec] = {}
    for gateway, listener in pairs:
        if gateway == first and listener.name not in listeners:
            protocol = "TLS_PASSTHROUGH" if listener.protocol == "TLS" else listener.protocol
            listeners[listener.name] = ListenerSpec(gateway, listener, listener_name(
                route.metadata.name, route.metadata.namespace, listener.port, protocol), protocol)
    return tuple(dict.fromkeys(g for g, _ in pairs)), tuple(listeners.values())


def _rules(cluster: ClusterSpec, m: ClusterManifests, route: Any, service: str,
           imports: dict[tuple[str, str], ServiceImport],
           resolved: dict[BackendKey, list[LatticeExport]]) -> tuple[tuple[RuleSpec, ...], list[TargetGroupSpec]]:
    """Each rule with its weighted forward targets, and the target groups of the route's Service backends (one
    per route and Service port, whichever rules name it)."""
    policies = _policies(m)
    groups: dict[TargetGroupKey, TargetGroupSpec] = {}
    rule_specs = []
    priorities = rule_priorities(route)[0]
    for r, backends in enumerate(rules(route, imports)):
        per_backend: list[list[dict[str, Any]]] = []
        for backend in backends:
            if backend.ref.kind == "Service":
                group = _route_target_group(cluster, route, service, backend.namespace, backend.ref, policies,
                                            where(m, route, backend.field))
                groups.setdefault(group.key, group)
                per_backend.append([{"local": group.key}])
            elif backend.service_import is not None and backend.service_import.target_group_arn:
                per_backend.append([{"arn": backend.service_import.target_group_arn}])
            else:
                per_backend.append([{"export": e} for e in resolved.get(backend.key, [])])
        weights = split_weights([b.ref.weight for b in backends], [len(t) for t in per_backend])
        targets = tuple(ForwardTarget(w, backend=b, **t) for b, (found, ws) in enumerate(zip(per_backend, weights))
                        for t, w in zip(found, ws))
        rule_specs.append(RuleSpec(r, priorities[r], targets))
    return tuple(rule_specs), list(groups.values())


def split_weights(weights: Sequence[int], shares: Sequence[int]) -> list[list[int]]:
    """Split each backend's weight evenly over its `shares` matches, keeping the rule's proportions.

    All weights are scaled by the least common multiple of the shares, so each
    share is whole; when that would pass Lattice's maximum weight (999), each
    weight is split with the remainder going to the first matches, and a match
    of a backend with a weight gets at least 1: at 0, Lattice would send it
    nothing (the rule's proportions then change: lattice_rules warns).
    """
    matched = [n for n in shares if n]  # a backend matching nothing is a problem reported on its own
    scale = lcm(*matched) if matched else 1
    if max((w * scale for w in weights), default=0) <= WEIGHT[1]:
        return [[w * scale // n] * n if n else [] for w, n in zip(weights, shares)]
    return [[max(w // n + (1 if i < w % n else 0), min(w, 1)) for i in range(n)] for w, n in zip(weights, shares)]


def _route_target_group(cluster: ClusterSpec, route: Any, service: str, namespace: str, backend: Any,
                        policies: dict, at: Where) -> TargetGroupSpec:
    """The target group of a route's Service backend: one per route, as the controller makes it."""
    policy = policies.get(("Service", namespace, backend.name))
    protocol, version = target_group_protocol(route.kind, ROUTE_TYPE[route.kind], policy)
    hashed = _hashed(cluster, route.kind, route.metadata.namespace, route.metadata.name, namespace, backend.name,
                     backend.port, protocol, version)
    return TargetGroupSpec(
        cluster=cluster.name, scope=scope_of(cluster),
        name=target_group_name(cluster.name, namespace, backend.name, backend.port, protocol, version, service,
                               hashed),
        source_kind=route.kind, source_namespace=route.metadata.namespace, source_name=route.metadata.name,
        namespace=namespace, service=backend.name, port=backend.port, route_type=ROUTE_TYPE[route.kind],
        protocol=protocol, version=version, consumer=service, policy=policy, user_tags={}, where=at)


def _associations(clusters: list[ClusterSpec],
                  manifests: dict[str, ClusterManifests]) -> tuple[list[AssociationSpec], list[OptOut]]:
    """Each (VPC, service network) association once, owned by the first cluster in fabric.yaml that asks for it."""
    claims: dict[tuple, list[Claim]] = defaultdict(list)
    opt_outs = []
    for cluster in clusters:
        m, settings = manifests[cluster.name], cluster.lattice
        assert settings is not None
        policies = {p.spec.targetRef.name: p for p in m.of_kind(VpcAssociationPolicy)}
        for gateway in m.of_kind(Gateway):
            policy = policies.get(gateway.metadata.name)
            if policy and policy.spec.associateWithVpc is False:
                opt_outs.append(OptOut(cluster.name, scope_of(cluster), settings.vpcId, gateway.metadata.name,
                                       where(m, policy, "spec.associateWithVpc")))
                continue
            if policy and policy.spec.securityGroupIds:
                claim = Claim(cluster.name, tuple(policy.spec.securityGroupIds),
                              where(m, policy, "spec.securityGroupIds"))
            else:
                claim = Claim(cluster.name, tuple(settings.securityGroupIds), where(m, gateway, "metadata.name"))
            claims[(scope_of(cluster), settings.vpcId, gateway.metadata.name)].append(claim)
    return [AssociationSpec(scope, vpc, network, tuple(found))
            for (scope, vpc, network), found in claims.items()], opt_outs
