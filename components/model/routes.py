"""A Lattice cluster's routes walked once: route -> rule -> backend, each backend with the ServiceImport it names.

Validation, the desired Lattice state, the stable NodePorts and the fabric layer's safe-deletion query all read
routes through this walk (as the AWS controller reads every route kind through one `Route` interface).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from .gateway import ROUTE_KINDS, ROUTE_TYPE, BackendRef, Route
from .lattice import ServiceImport
from .load import ClusterManifests

BackendKey = tuple[str, str, str, int, int]
"""A ServiceImport backend of a route: (route kind, namespace, route name, rule index, backend index)."""


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
        return route.kind, route.metadata.namespace, route.metadata.name, self.rule, self.index

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
