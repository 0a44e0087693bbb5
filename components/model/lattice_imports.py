"""ServiceImport resolution: the exported ports of the fabric's Lattice clusters (`LatticeExport`, with its
`ExportKey` and its account and Region, a `Scope`) and which of them each ServiceImport backend reaches.

The same functions serve offline (exports described by the fabric's manifests) and at preview (exports as the
exporting stacks publish them, with their target group ARNs; components.contract reads those back).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from .errors import Problem
from .fabric_yaml import ClusterSpec
from .lattice import ServiceExport, ServiceImport
from .load import ClusterManifests, ref
from .routes import Backend, BackendKey, backends

Scope = tuple[str, str]
"""An AWS account and Region: where Lattice names are unique and a service finds its target groups."""


def scope_of(spec: ClusterSpec) -> Scope:
    assert spec.lattice is not None
    return spec.lattice.accountId, spec.lattice.region


@dataclass(frozen=True, order=True)
class ExportKey:
    """One exported port, whoever describes it: what an importer matches and a target group serves."""

    cluster: str
    namespace: str
    name: str
    port: int
    route_type: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}:{self.port}/{self.route_type}"


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
    target_groups: tuple[tuple[str | None, Any], ...] = ()
    """(consuming Lattice service, target group ARN) of each of its target groups, once the exporting stack is
    deployed (or mocked; unknown in a preview against the exporter as planned): one per service that forwards to
    it (None: the one of an export nobody uses yet)."""

    @property
    def key(self) -> ExportKey:
        return ExportKey(self.cluster, self.namespace, self.name, self.port, self.route_type)

    def target_group_for(self, service: str) -> Any:
        return next((arn for consumer, arn in self.target_groups if consumer == service), None)


@dataclass(frozen=True)
class DeclaredExport:
    """An exported port as its cluster's manifests declare it: the export, and where it is written (its
    ServiceExport and its index there), which the desired state builds on and its problems name."""

    export: LatticeExport
    obj: ServiceExport
    index: int

    @property
    def field(self) -> str:
        """The exported port's field, or the object's name when its ports come from the Service."""
        return f"spec.exportedPorts[{self.index}]" if self.obj.spec.exportedPorts else "metadata.name"


def declared_exports(spec: ClusterSpec, manifests: ClusterManifests) -> list[DeclaredExport]:
    """Every exported port of a Lattice cluster's manifests, in their order."""
    settings = spec.lattice
    assert settings is not None
    found = []
    for obj in (o for o in manifests.of_kind(ServiceExport) if o.federated):  # the controller ignores the others
        service = manifests.service(obj.metadata.namespace, obj.service)
        ports = [p.port for p in service.spec.ports] if service else []
        for index, exported in enumerate(obj.exported_ports(ports)):
            export = LatticeExport(spec.name, settings.vpcId, obj.metadata.name, obj.metadata.namespace,
                                   exported.port, exported.routeType, scope_of(spec))
            found.append(DeclaredExport(export, obj, index))
    return found


def exports_of(spec: ClusterSpec, manifests: ClusterManifests) -> list[LatticeExport]:
    """The exported ports of a Lattice cluster's manifests, as its stack will publish them."""
    return [declared.export for declared in declared_exports(spec, manifests)]


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
    seen = ", ".join(f"{e.key} in {e.cluster} ({e.vpc}"
                     + (")" if e.scope == scope else f", another account or Region: {'/'.join(e.scope)})")
                     for e in exports)
    return f"no exported service matches {', '.join(filters)}; exports seen: {seen or 'none'}"


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
