"""A whole fabric as read from its directory: `fabric.yaml` and every cluster's manifests."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from . import lattice_fabric, lattice_imports
from .access import Policies, PeerAccess
from .clusterlink_checks import imported_peers
from .errors import InputError, Problem
from .fabric_yaml import FABRIC_FILE, ClusterSpec, FabricSpec
from .lattice_imports import LatticeExport
from .load import ClusterManifests, display, layout_problems, load_cluster_manifests, load_fabric_spec
from .peers import PeerInfo, peer_info


@dataclass
class FabricManifests:
    """`fabric.yaml` and every cluster's manifests, keyed by cluster name."""

    spec: FabricSpec
    manifests: dict[str, ClusterManifests]
    fabric_file: str

    def clusterlink_clusters(self) -> list[tuple[ClusterSpec, ClusterManifests]]:
        return [(c, self.manifests[c.name]) for c in self.spec.clusters if c.dataplane == "clusterlink"]

    def ca_owner(self) -> str | None:
        """The ClusterLink cluster whose stack holds the fabric CA and issues every peer's certificate: the first
        in fabric.yaml (None without ClusterLink clusters)."""
        return next((c.name for c in self.spec.clusters if c.dataplane == "clusterlink"), None)

    def import_peers(self, name: str) -> list[str]:
        """The fabric's ClusterLink peers that cluster `name` imports from, sorted: the stacks it reads (a
        hand-written Peer outside the fabric has no stack)."""
        return [p for p in imported_peers(self.manifests[name]) if p in self.clusterlink_names and p != name]

    @cached_property
    def clusterlink_names(self) -> frozenset[str]:
        """The ClusterLink clusters' names, found once: `import_peers` runs for every cluster of the fabric (the
        dependency graph), and finding them again each time made the graph quadratic in the fabric's size."""
        return frozenset(c.name for c in self.spec.clusters if c.dataplane == "clusterlink")

    def catalog(self) -> dict[str, PeerInfo]:
        return {spec.name: peer_info(spec, m) for spec, m in self.clusterlink_clusters()}

    def lattice_exports(self) -> list[LatticeExport]:
        """Every exported port of the fabric's Lattice clusters, as their manifests declare them."""
        return [e for c in self.spec.clusters if c.dataplane == "lattice"
                for e in lattice_imports.exports_of(c, self.manifests[c.name])]

    @cached_property
    def lattice(self) -> lattice_fabric.LatticeFabric:
        """The desired state of every Lattice cluster (components.model.lattice_rules checks it). Built once: call
        it when every cluster's own checks passed."""
        return lattice_fabric.build(self.spec, self.manifests, self.fabric_file)

    def peer_access(self, name: str) -> PeerAccess:
        spec = self.spec.cluster(name)
        labels = spec.clusterlink.labels if spec.clusterlink else {}
        return PeerAccess(name, labels, Policies.of(self.manifests[name].objects))


def load_fabric(fabric_dir: Path) -> FabricManifests:
    """Read fabric.yaml and every cluster's manifests, reporting the problems of all files at once."""
    spec = load_fabric_spec(fabric_dir)
    manifests: dict[str, ClusterManifests] = {}
    problems: list[Problem] = layout_problems(fabric_dir, spec)
    for cluster in spec.clusters:
        try:
            manifests[cluster.name] = load_cluster_manifests(fabric_dir, cluster.name)
        except InputError as err:
            problems += err.problems
    if problems:
        raise InputError(problems)
    return FabricManifests(spec, manifests, display(fabric_dir / FABRIC_FILE))
