"""The fabric's VPC Lattice objects as plain data, and the AWS rules across the stacks that create them.

An AWS account and Region is one space for Lattice names, VPC associations and target groups, whichever stack
creates the objects, and each stack sees only itself at `pulumi up`. So the desired state of every Lattice
cluster is built here from the fabric's manifests, as the controller's model builders build one cluster's, and
the rules between stacks are checked on it: by `validate`, and by each stack's program before it declares
anything. The components then declare what this says (components/lattice).

What is decided here for the whole fabric:
- one target group per exported port and per Lattice service that forwards to it (a target group serves the
  listeners of one service only), made by the exporting stack; an exported port nobody forwards to has one;
- one target group per route and Service backend, as the controller makes it;
- who associates a VPC with a service network: the first cluster in fabric.yaml of that VPC that declares the
  Gateway, with the security groups every cluster sharing the VPC asks for (a VPC association exists once).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable

from .errors import Problem
from .fabric_yaml import ClusterSpec, FabricSpec
from .gateway import ROUTE_TYPE, Gateway, Listener
from .lattice import ServiceExport, ServiceImport, TargetGroupPolicy, VpcAssociationPolicy
from .lattice_checks import (ExportIndex, ExportKey, LatticeExport, Scope, exports_of,
                             gateway_listeners, network_owners, resolve_imports, route_service_name, rule_priorities,
                             scope_of, split_weights)
from .lattice_names import listener_name, target_group_name
from .limits import FORWARD_TARGET_GROUPS
from .load import ClusterManifests, ref
from .routes import BackendKey, routes, rules, service_imports

# The controller's target group protocol by the route type a port is exported for.
PROTOCOL_BY_ROUTE_TYPE = {"HTTP": ("HTTP", "HTTP1"), "GRPC": ("HTTP", "GRPC"), "TLS": ("TCP", None)}
DEFAULT_QUOTAS = {"listenersPerService": 2, "rulesPerListener": 5}
SECURITY_GROUPS_PER_ASSOCIATION = 5  # a Lattice quota that cannot be raised


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


# --- the desired state ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetGroupSpec:
    """A target group a stack creates."""

    key: tuple
    """What it is: `export_key(...)` or `route_key(...)`; the components find it by this."""
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


def export_key(export: LatticeExport, consumer: str | None) -> tuple:
    return ("ServiceExport", *export.key, consumer)


def route_key(cluster: str, route: Any, namespace: str, service: str, port: int) -> tuple:
    return (route.kind, cluster, route.metadata.namespace, route.metadata.name, namespace, service, port)


@dataclass(frozen=True)
class ForwardTarget:
    """One entry of a forward action, before its ARN is known: a target group this cluster creates (`local`), an
    exported port's target group for this service (`export`, in this stack or another), or an ARN the manifests
    name (`arn`)."""

    weight: int
    local: tuple | None = None
    export: LatticeExport | None = None
    arn: str | None = None

    def identity(self, service: str) -> tuple:
        """The target group itself, whatever names it."""
        if self.export is not None:
            return export_key(self.export, service)
        return ("arn", self.arn) if self.arn else self.local  # type: ignore[return-value]


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


@dataclass(frozen=True)
class Violation:
    """A problem of the fabric as a whole, and the clusters whose stacks it concerns."""

    problem: Problem
    clusters: frozenset[str]


@dataclass
class LatticeFabric:
    """Every Lattice cluster's desired state, and what holds between them."""

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

    def target_groups_of(self, cluster: str) -> dict[tuple, TargetGroupSpec]:
        return {tg.key: tg for tg in self.target_groups if tg.cluster == cluster}

    def services_of(self, cluster: str) -> list[ServiceSpec]:
        return [s for s in self.services if s.cluster == cluster]

    def associations_of(self, cluster: str) -> list[AssociationSpec]:
        return [a for a in self.associations if a.owner == cluster]

    def quota(self, scope: Scope, name: str) -> int:
        raised = next((q for q in self.spec.lattice.quotas if (q.accountId, q.region) == scope), None)
        return getattr(raised, name) if raised else DEFAULT_QUOTAS[name]

    def violations(self) -> list[Violation]:
        return [*_unique_names(self), *_network_claims(self), *_one_service_per_target_group(self),
                *_target_groups_in_region(self), *_vpc_associations(self), *_quotas(self), *_listener_ports(self),
                *_certificates(self)]

    def problems(self) -> list[Problem]:
        """Every problem across the fabric's Lattice clusters."""
        return [p for found in self.resolution.values() for p in found] + [v.problem for v in self.violations()]

    def problems_of(self, cluster: str) -> list[Problem]:
        """What stops `cluster`'s stack: its backends matching nothing, and the fabric's rules that concern it."""
        return self.resolution.get(cluster, []) + [v.problem for v in self.violations() if cluster in v.clusters]


def build(spec: FabricSpec, manifests: dict[str, ClusterManifests], fabric_file: str,
          outside: Iterable[LatticeExport] = ()) -> LatticeFabric:
    """The desired state of every Lattice cluster of the fabric, from the manifests. `outside`: exports of
    clusters that are not in the fabric, which its ServiceImports may resolve to too."""
    clusters = [c for c in spec.clusters if c.dataplane == "lattice"]
    exports = ExportIndex([*(e for c in clusters for e in exports_of(c, manifests[c.name])), *outside])
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
    fabric.target_groups = _export_target_groups(clusters, manifests, exports, fabric.services) + route_groups
    fabric.associations, fabric.opt_outs = _associations(clusters, manifests)
    return fabric


def _policies(m: ClusterManifests) -> dict[tuple[str, str, str], TargetGroupPolicy]:
    return {(p.spec.targetRef.kind, p.spec.targetRef.namespace or p.metadata.namespace, p.spec.targetRef.name): p
            for p in m.of_kind(TargetGroupPolicy)}


def _identity(cluster: ClusterSpec, *parts: Any) -> tuple:
    """What a target group's name is a hash of: what it is, and what Lattice cannot change in place."""
    settings = cluster.lattice
    assert settings is not None
    return (cluster.name, settings.vpcId, settings.targets.mode, *parts)


def _export_target_groups(clusters: list[ClusterSpec], manifests: dict[str, ClusterManifests],
                          exports: ExportIndex, services: list[ServiceSpec]) -> list[TargetGroupSpec]:
    """One target group per exported port and consuming service; one for an exported port nobody consumes."""
    consumers: dict[ExportKey, list[str]] = defaultdict(list)
    for service in services:
        for rule in service.rules:
            for target in rule.targets:
                if target.export is not None and service.name not in consumers[target.export.key]:
                    consumers[target.export.key].append(service.name)
    found = []
    by_name = {c.name: c for c in clusters}
    objects = {(c.name, e.metadata.namespace, e.metadata.name): e for c in clusters
               for e in manifests[c.name].of_kind(ServiceExport)}
    policies_of = {c.name: _policies(manifests[c.name]) for c in clusters}
    for export in (e for e in exports.exports if e.cluster in by_name):
        cluster, m = by_name[export.cluster], manifests[export.cluster]
        obj, policies = objects[(export.cluster, export.namespace, export.name)], policies_of[export.cluster]
        policy = (policies.get(("ServiceExport", export.namespace, export.name))
                  or policies.get(("Service", export.namespace, obj.service)))
        index = next(i for i, p in enumerate(obj.exported_ports([export.port])) if p.port == export.port)
        at = where(m, obj, f"spec.exportedPorts[{index}]" if obj.spec.exportedPorts else "metadata.name")
        found += export_target_groups(cluster, export, obj, policy, consumers.get(export.key, []), at)
    return found


def export_target_groups(cluster: ClusterSpec, export: LatticeExport, obj: ServiceExport,
                         policy: TargetGroupPolicy | None, consumers: Iterable[str],
                         at: Where) -> list[TargetGroupSpec]:
    """The target groups of one exported port: one per consuming Lattice service, one with no consumer if none."""
    protocol, version = target_group_protocol("ServiceExport", export.route_type, policy)
    found = []
    for consumer in sorted(consumers) or [None]:
        identity = _identity(cluster, "ServiceExport", *export.key, protocol, version, consumer)
        found.append(TargetGroupSpec(
            export_key(export, consumer), export.cluster, export.scope,
            target_group_name(export.cluster, export.namespace, export.name, export.port, protocol, version,
                              consumer, identity),
            "ServiceExport", export.namespace, export.name, export.namespace, obj.service, export.port,
            export.route_type, protocol, version, consumer, policy, obj.user_tags, at))
    return found


def _service(cluster: ClusterSpec, m: ClusterManifests, route: Any, imports: dict[tuple[str, str], ServiceImport],
             resolved: dict[BackendKey, list[LatticeExport]]) -> tuple[ServiceSpec, list[TargetGroupSpec]]:
    """The route's Lattice service, and the target groups of its Service backends. `imports`: the cluster's
    ServiceImports (`routes.service_imports`); `resolved`: what each of its ServiceImport backends matches."""
    name = route_service_name(route)
    gateways = {g.metadata.name: g for g in m.of_kind(Gateway)}
    pairs = gateway_listeners(route, gateways)
    first = pairs[0][0] if pairs else None
    listeners: dict[str, ListenerSpec] = {}
    for gateway, listener in pairs:
        if gateway == first and listener.name not in listeners:
            protocol = "TLS_PASSTHROUGH" if listener.protocol == "TLS" else listener.protocol
            listeners[listener.name] = ListenerSpec(gateway, listener, listener_name(
                route.metadata.name, route.metadata.namespace, listener.port, protocol), protocol)
    certificate = next((spec.listener.certificate_arn for spec in listeners.values()
                        if spec.listener.certificate_arn), None)
    policies = _policies(m)
    groups: dict[tuple, TargetGroupSpec] = {}
    rule_specs = []
    priorities = rule_priorities(route)[0]
    for r, backends in enumerate(rules(route, imports)):
        per_backend: list[list[dict[str, Any]]] = []
        for backend in backends:
            if backend.ref.kind == "Service":
                group = _route_target_group(cluster, route, name, backend.namespace, backend.ref, policies,
                                            where(m, route, backend.field))
                groups.setdefault(group.key, group)
                per_backend.append([{"local": group.key}])
            elif backend.service_import is not None and backend.service_import.target_group_arn:
                per_backend.append([{"arn": backend.service_import.target_group_arn}])
            else:
                per_backend.append([{"export": e} for e in resolved.get(backend.key, [])])
        weights = split_weights([b.ref.weight for b in backends], [len(t) for t in per_backend])
        targets = tuple(ForwardTarget(w, **t) for found, ws in zip(per_backend, weights) for t, w in zip(found, ws))
        rule_specs.append(RuleSpec(r, priorities[r], targets))
    service = ServiceSpec(cluster.name, scope_of(cluster), name, route,
                          tuple(dict.fromkeys(g for g, _ in pairs)), tuple(listeners.values()), tuple(rule_specs),
                          certificate, route.spec.hostnames[0] if route.spec.hostnames else None,
                          where(m, route, "metadata.name"))
    return service, list(groups.values())


def _route_target_group(cluster: ClusterSpec, route: Any, service: str, namespace: str, backend: Any,
                        policies: dict, at: Where) -> TargetGroupSpec:
    """The target group of a route's Service backend: one per route, as the controller makes it."""
    policy = policies.get(("Service", namespace, backend.name))
    protocol, version = target_group_protocol(route.kind, ROUTE_TYPE[route.kind], policy)
    identity = _identity(cluster, route.kind, route.metadata.namespace, route.metadata.name, namespace,
                         backend.name, backend.port, protocol, version)
    return TargetGroupSpec(
        route_key(cluster.name, route, namespace, backend.name, backend.port), cluster.name, scope_of(cluster),
        target_group_name(cluster.name, namespace, backend.name, backend.port, protocol, version, service, identity),
        route.kind, route.metadata.namespace, route.metadata.name, namespace, backend.name, backend.port,
        ROUTE_TYPE[route.kind], protocol, version, service, policy, {}, at)


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


# --- the rules ------------------------------------------------------------------------------------------


def _region(scope: Scope) -> str:
    return f"{scope[0]}/{scope[1]}"


def _duplicates(items: Iterable[Any], key) -> Iterable[tuple[Any, Any]]:
    """(first, later) for each item whose key an earlier item has."""
    first: dict[Any, Any] = {}
    for item in items:
        k = key(item)
        if k in first:
            yield first[k], item
        else:
            first[k] = item


def _unique_names(fabric: LatticeFabric) -> Iterable[Violation]:
    """A target group's and a service's name is unique in its account and Region (CreateTargetGroup and
    CreateService answer ConflictException)."""
    for first, later in _duplicates(fabric.target_groups, lambda tg: (tg.scope, tg.name)):
        yield Violation(later.where.problem(
            f"its target group {later.name!r} has the name of a target group of {first.where} in cluster "
            f"{first.cluster!r}: target group names are unique in {_region(later.scope)}"),
            frozenset({first.cluster, later.cluster}))
    for first, later in _duplicates(fabric.services, lambda s: (s.scope, s.name)):
        yield Violation(later.where.problem(
            f"its Lattice service {later.name!r} has the name of the service of {first.where} in cluster "
            f"{first.cluster!r}: service names are unique in {_region(later.scope)}; set the annotation "
            "application-networking.k8s.aws/service-name-override on one of them"),
            frozenset({first.cluster, later.cluster}))


def _network_claims(fabric: LatticeFabric) -> Iterable[Violation]:
    """A service network's name is unique in its account and Region: one stack creates it."""
    claims = [(cluster, scope_of(cluster), network) for cluster in fabric.spec.clusters if cluster.lattice
              for network in cluster.lattice.serviceNetworks]
    for (first, _, _), (later, scope, network) in _duplicates(claims, lambda c: (c[1], c[2])):
        yield Violation(Problem(fabric.fabric_file, f"Cluster/-/{later.name}", "lattice.serviceNetworks",
                                f"service network {network!r} is already created by {first.name!r} in "
                                f"{_region(scope)}; one stack creates it"), frozenset({first.name, later.name}))


def _one_service_per_target_group(fabric: LatticeFabric) -> Iterable[Violation]:
    """A target group serves the listeners of one service only ("these listeners must belong to the same
    service"). The fabric gives each consuming service its own; what the manifests name by ARN is checked."""
    users: dict[tuple, ServiceSpec] = {}
    for service in fabric.services:
        for rule in service.rules:
            for target in rule.targets:
                identity = target.identity(service.name)
                first = users.setdefault(identity, service)
                if first.name != service.name or first.scope != service.scope:
                    yield Violation(service.where.problem(
                        f"its Lattice service {service.name!r} forwards to target group {_described(identity)}, "
                        "which the "
                        f"service {first.name!r} of {first.where} in cluster {first.cluster!r} forwards to already: "
                        "a target group serves the listeners of one service only"),
                        frozenset({first.cluster, service.cluster}))
                    users[identity] = service  # one line per pair


def _target_groups_in_region(fabric: LatticeFabric) -> Iterable[Violation]:
    """A service forwards only to target groups of its own Region (and account, unless shared through AWS RAM)."""
    for service in fabric.services:
        for rule in service.rules:
            for target in rule.targets:
                region = target.arn.split(":")[3] if target.arn else service.scope[1]
                if region != service.scope[1]:
                    yield Violation(Where(service.where.file, service.where.object,
                                          f"spec.rules[{rule.index}].backendRefs").problem(
                        f"it forwards to target group {target.arn} of Region {region}, but its Lattice service is "
                        f"in {_region(service.scope)}: a service forwards only to target groups of its Region"),
                        frozenset({service.cluster}))


def _described(identity: tuple) -> str:
    if identity[0] == "arn":
        return identity[1]
    if identity[0] == "ServiceExport":
        return "of export {1}/{2}:{3} of cluster {0}".format(*identity[1:])
    return "of Service {4}/{5}:{6} of cluster {1}".format(*identity)


def _vpc_associations(fabric: LatticeFabric) -> Iterable[Violation]:
    """A VPC is associated with one service network, each association exists once, and it has at most 5
    security groups."""
    by_vpc: dict[tuple, list[AssociationSpec]] = defaultdict(list)
    for association in fabric.associations:
        by_vpc[(association.scope, association.vpc)].append(association)
        groups = association.security_groups
        if len(groups) > SECURITY_GROUPS_PER_ASSOCIATION:
            last = association.claims[-1]
            yield Violation(last.where.problem(
                f"the association of {association.vpc} with service network {association.network!r} would have "
                f"{len(groups)} security groups ({', '.join(groups)}: every cluster of that VPC's) and VPC Lattice "
                f"takes {SECURITY_GROUPS_PER_ASSOCIATION}"), frozenset(c.cluster for c in association.claims))
    for associations in by_vpc.values():
        for first, later in zip(associations, associations[1:]):
            claim, other = later.claims[0], first.claims[0]
            yield Violation(claim.where.problem(
                f"{later.vpc} would join service network {later.network!r}, but {other.where} in cluster "
                f"{other.cluster!r} joins it to {first.network!r}: a VPC is associated with one service network "
                "only"), frozenset({claim.cluster, other.cluster}))
    for opt_out in fabric.opt_outs:
        for association in by_vpc.get((opt_out.scope, opt_out.vpc), []):
            if association.network == opt_out.network:
                owner = association.claims[0]
                yield Violation(opt_out.where.problem(
                    f"associateWithVpc is false, but {owner.where} in cluster {owner.cluster!r} associates the same "
                    f"VPC {association.vpc} with {association.network!r}: clusters sharing a VPC share its "
                    "association"), frozenset({opt_out.cluster, owner.cluster}))


def _quotas(fabric: LatticeFabric) -> Iterable[Violation]:
    """Lattice's quotas: listeners per service and rules per listener (raised ones declared in fabric.yaml), and
    1-10 target groups per forward action."""
    for service in fabric.services:
        listeners = fabric.quota(service.scope, "listenersPerService")
        at = Where(service.where.file, service.where.object, "spec.parentRefs")
        if len(service.listeners) > listeners:
            names = ", ".join(f"{spec.listener.name} ({spec.port})" for spec in service.listeners)
            yield Violation(at.problem(
                f"its Lattice service {service.name!r} would have {len(service.listeners)} listeners (Gateway "
                f"{service.listeners[0].gateway!r}: {names}); the quota in {_region(service.scope)} is {listeners} "
                "per service: attach it to fewer with sectionName, or declare a raised quota under lattice.quotas "
                "in fabric.yaml"), frozenset({service.cluster}))
        rules = fabric.quota(service.scope, "rulesPerListener")
        if any(spec.protocol != "TLS_PASSTHROUGH" for spec in service.listeners) and len(service.rules) > rules:
            yield Violation(Where(service.where.file, service.where.object, "spec.rules").problem(
                f"{len(service.rules)} rules on each listener of its Lattice service {service.name!r}; the quota in "
                f"{_region(service.scope)} is {rules} per listener: split the route, or declare a raised quota under "
                "lattice.quotas in fabric.yaml"), frozenset({service.cluster}))
        low, high = FORWARD_TARGET_GROUPS
        for rule in service.rules:
            if len(rule.targets) > high:
                yield Violation(Where(service.where.file, service.where.object,
                                      f"spec.rules[{rule.index}].backendRefs").problem(
                    f"its forward action would have {len(rule.targets)} target groups (a ServiceImport matching "
                    f"several clusters counts each); VPC Lattice takes {low}-{high} per action"),
                    frozenset({service.cluster}))


def _listener_ports(fabric: LatticeFabric) -> Iterable[Violation]:
    """A service's listeners have distinct ports (CreateListener answers ConflictException)."""
    for service in fabric.services:
        for first, later in _duplicates(service.listeners, lambda spec: spec.port):
            yield Violation(Where(service.where.file, service.where.object, "spec.parentRefs").problem(
                f"Gateway {later.gateway!r} listeners {first.listener.name!r} and {later.listener.name!r} both use "
                f"port {later.port}, and a Lattice service has one listener per port: attach the route to one of "
                "them with sectionName"), frozenset({service.cluster}))


def _certificates(fabric: LatticeFabric) -> Iterable[Violation]:
    """A custom certificate needs a custom domain name (CreateService)."""
    for service in fabric.services:
        if service.certificate_arn and not service.domain:
            yield Violation(Where(service.where.file, service.where.object, "spec.hostnames").problem(
                f"its Gateway listener gives the certificate {service.certificate_arn} (certificate-arn), which "
                "VPC Lattice uses for a custom domain name: add the hostname it is for"),
                frozenset({service.cluster}))


