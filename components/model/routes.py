"""A Lattice cluster's routes walked once: route -> rule -> backend, each backend with the ServiceImport it names;
and what else the controller reads of a route: the Gateway listeners it attaches to, its rules' priorities.

Validation, the desired Lattice state, the stable NodePorts and the fabric layer's safe-deletion query all read
routes through this walk (as the AWS controller reads every route kind through one `Route` interface).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from .gateway import LISTENER_PROTOCOLS, ROUTE_KINDS, ROUTE_TYPE, BackendRef, Gateway, Listener, Route
from .lattice import ServiceImport
from .limits import RULE_PRIORITY
from .load import ClusterManifests


@dataclass(frozen=True)
class BackendKey:
    """A backend of a route, by where it is written: what its ServiceImport resolution is found by."""

    route_kind: str
    namespace: str
    route: str
    rule: int
    index: int


@dataclass(frozen=True)
class Backend:
    """One backendRef of one rule of a route."""

    route: Route
    rule: int
    index: int
    ref: BackendRef
    service_import: ServiceImport | None
    """The ServiceImport this backend names, when it names one the cluster declares."""

    @property
    def namespace(self) -> str:
        """Where the backend is: its own namespace, else the route's."""
        return self.ref.namespace or self.route.metadata.namespace

    @property
    def key(self) -> BackendKey:
        route = self.route
        return BackendKey(route.kind, route.metadata.namespace, route.metadata.name, self.rule, self.index)

    @property
    def field(self) -> str:
        return f"spec.rules[{self.rule}].backendRefs[{self.index}]"

    @property
    def route_type(self) -> str:
        """The ServiceExport routeType the route's kind consumes."""
        return ROUTE_TYPE[self.route.kind]


def routes(manifests: ClusterManifests) -> list[Route]:
    """Every route of the cluster, of every kind, in manifest order."""
    return [o for o in manifests.objects if isinstance(o, ROUTE_KINDS)]


def service_imports(manifests: ClusterManifests) -> dict[tuple[str, str], ServiceImport]:
    """The cluster's ServiceImports by (namespace, name)."""
    return {(i.metadata.namespace, i.metadata.name): i for i in manifests.of_kind(ServiceImport)}


def rules(route: Route, imports: dict[tuple[str, str], ServiceImport]) -> list[list[Backend]]:
    """Each rule's backends, in order. `imports`: the cluster's `service_imports`."""
    found = []
    for r, rule in enumerate(route.spec.rules):
        backends = []
        for b, ref in enumerate(rule.backendRefs):
            imp = imports.get((ref.namespace or route.metadata.namespace, ref.name)) if ref.kind != "Service" else None
            backends.append(Backend(route, r, b, ref, imp))
        found.append(backends)
    return found


def backends(manifests: ClusterManifests) -> Iterator[Backend]:
    """Every backend of every rule of every route of the cluster."""
    imports = service_imports(manifests)
    for route in routes(manifests):
        for rule in rules(route, imports):
            yield from rule


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


PRIORITY_ANNOTATION = "application-networking.k8s.aws/rule-{}-priority"


def rule_priorities(route) -> tuple[list[int], list[tuple[str, str]]]:
    """Each rule's Lattice priority as the controller assigns it, and (field, message) for each bad one.

    A rule with the annotation `rule-<i>-priority` keeps it; the others follow in order, each one above the
    priority assigned last (the controller's queue), starting at 1. An annotation that is no number gives the
    rule its position, as the controller does (`priority_typos` warns of it).
    """
    annotations = route.metadata.annotations
    assigned: dict[int, int] = {}
    problems: list[tuple[str, str]] = []
    for i in range(len(route.spec.rules)):
        key = PRIORITY_ANNOTATION.format(i)
        if key in annotations:
            value = annotations[key].strip()
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


def priority_typos(route) -> list[tuple[str, str]]:
    """(field, message) for each rule-priority annotation that is no number: the controller warns and gives the
    rule its position, which may reorder the routing."""
    annotations = route.metadata.annotations
    keys = [PRIORITY_ANNOTATION.format(i) for i in range(len(route.spec.rules))]
    return [("metadata.annotations", f"{key}: {annotations[key]!r} is not a whole number: the rule gets its "
             f"position, {i + 1}, as the controller gives it")
            for i, key in enumerate(keys) if key in annotations and not annotations[key].strip().lstrip("-").isdigit()]

