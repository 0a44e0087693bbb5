"""What removing an export would break: the objects of other clusters that import it.

The fabric layer asks before a stack changes (safe deletion), with the exports the stack published last
(parsed from its outputs by components.contract).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence

from .clusterlink import Import
from .fabric import FabricManifests
from .lattice_imports import LatticeExport, matching_exports, scope_of
from .load import ref
from .peers import ExportInfo
from .routes import backends


def removed_exports(fabric: FabricManifests, name: str,
                    published: Sequence[ExportInfo] | Sequence[LatticeExport]) -> list[Any]:
    """The exports stack `name` published that its manifests no longer declare: (namespace, name) of a ClusterLink
    export, the `LatticeExport` (without target groups) of a Lattice one."""
    if fabric.spec.cluster(name).dataplane == "clusterlink":
        old = {(e.namespace, e.name) for e in published}
        new = {(e.namespace, e.name) for e in fabric.catalog()[name].exports}
        return sorted(old - new)
    old_exports = {replace(e, target_groups=()) for e in published}
    new_exports = {e for e in fabric.lattice_exports() if e.cluster == name}
    return sorted(old_exports - new_exports, key=lambda e: (e.namespace, e.name, e.port))


def export_id(export: Any) -> str:
    """How an export is named between stacks: `namespace/name` for ClusterLink (the pair removed_exports gives),
    `namespace/name:port/ROUTE` for a Lattice exported port (a LatticeExport)."""
    return f"{export[0]}/{export[1]}" if isinstance(export, tuple) else str(export.key)


def imported_exports(fabric: FabricManifests, name: str) -> dict[str, list[str]]:
    """Exporting stack -> the ids (export_id) of its exports that cluster `name`'s manifests import: what its
    stack publishes (`importedExports`), so that a later removal of one of them is checked against what the
    importer has deployed, not only against what its manifests say now."""
    found: dict[str, set[str]] = {}
    spec, manifests = fabric.spec.cluster(name), fabric.manifests[name]
    if spec.dataplane == "clusterlink":
        peers = {c.name for c, _ in fabric.clusterlink_clusters()} - {name}
        for imp in manifests.of_kind(Import):
            for source in imp.spec.sources:
                if source.peer in peers:
                    found.setdefault(source.peer, set()).add(f"{source.exportNamespace}/{source.exportName}")
    else:
        exports = fabric.lattice_exports()
        for backend in backends(manifests):
            if backend.service_import is not None:
                for e in matching_exports(backend, exports, scope_of(spec)):
                    if e.cluster != name:
                        found.setdefault(e.cluster, set()).add(export_id(e))
    return {stack: sorted(ids) for stack, ids in sorted(found.items())}


def shares_nothing(fabric: FabricManifests, name: str) -> bool:
    """Whether cluster `name`'s manifests declare no export and no import (ClusterLink Exports and Imports; Lattice
    exports and routes to a ServiceImport)."""
    manifests = fabric.manifests[name]
    if fabric.spec.cluster(name).dataplane == "clusterlink":
        return not fabric.catalog()[name].exports and not manifests.of_kind(Import)
    return (not any(e.cluster == name for e in fabric.lattice_exports())
            and not any(b.service_import is not None for b in backends(manifests)))


def importers(fabric: FabricManifests, name: str, removed: list[Any]) -> dict[str, list[str]]:
    """Removed export of stack `name` -> the objects in other clusters that import it."""
    found: dict[str, list[str]] = {}
    if not removed:
        return found
    if fabric.spec.cluster(name).dataplane == "clusterlink":
        for spec, manifests in fabric.clusterlink_clusters():
            for imp in manifests.of_kind(Import):
                for source in imp.spec.sources:
                    if source.peer == name and (source.exportNamespace, source.exportName) in removed:
                        key = f"export {source.exportNamespace}/{source.exportName}"
                        found.setdefault(key, []).append(f"{spec.name} ({manifests.file_of(imp)}: {ref(imp)})")
        return found
    exports = fabric.lattice_exports() + list(removed)
    for spec in fabric.spec.clusters:
        manifests = fabric.manifests[spec.name]
        if spec.dataplane != "lattice" or spec.name == name:
            continue
        for backend in backends(manifests):
            if backend.service_import is None:
                continue
            for e in matching_exports(backend, exports, scope_of(spec)):
                if e in removed:
                    key = f"export {e.key}"
                    found.setdefault(key, []).append(f"{spec.name} ({manifests.file_of(backend.route)}: "
                                                     f"{ref(backend.route)})")
    return found
