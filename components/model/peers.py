"""A ClusterLink peer as the clusters importing from it see it, and what an importer reads of its peers.

A peer is described by its manifests offline (`peer_info`) and by its stack's `clusterlink` output at preview
(written by `clusterlink_output`, read back by `peer_from_output`: the same code both ways); either way an
importer's Imports are then checked against it (`check_import_sources`). `read_peers` does both for one importer.
The program calls it at `pulumi up`, the fabric layer before it runs the engine: it is pure, so the fabric layer
imports it without the program (and pulumi_kubernetes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from .access import PeerAccess, Policies
from .clusterlink import AccessPolicy, Export, GatewayEndpoint, Import, Peer, PrivilegedAccessPolicy
from .errors import Problem
from .fabric_yaml import ClusterSpec
from .load import ClusterManifests, ref
from .validation import parse, whole_numbers

if TYPE_CHECKING:  # fabric.py builds its catalog from this module
    from .fabric import FabricManifests


@dataclass(frozen=True)
class ExportInfo:
    """An export as a peer publishes it."""

    name: str
    namespace: str
    port: int


@dataclass(frozen=True)
class PeerInfo:
    """What an importing cluster knows of a peer: from its manifests offline, its outputs at preview."""

    name: str
    exports: tuple[ExportInfo, ...] = ()
    gateways: tuple[GatewayEndpoint, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)

    def export(self, namespace: str, name: str) -> ExportInfo | None:
        return next((e for e in self.exports if e.namespace == namespace and e.name == name), None)


def exports_of(manifests: ClusterManifests) -> tuple[ExportInfo, ...]:
    return tuple(
        ExportInfo(e.metadata.name, e.metadata.namespace, e.spec.port)
        for e in sorted(manifests.of_kind(Export), key=lambda e: (e.metadata.namespace, e.metadata.name))
    )


def peer_info(spec: ClusterSpec, manifests: ClusterManifests) -> PeerInfo:
    """A ClusterLink cluster as its peers see it, from fabric.yaml and its manifests."""
    settings = spec.clusterlink
    assert settings is not None, "peer_info is for ClusterLink clusters"
    gateways = (settings.gateway,) if settings.gateway else ()
    return PeerInfo(spec.name, exports_of(manifests), gateways, dict(settings.labels))


# --- the `clusterlink` stack output ----------------------------------------------------------------------------


def clusterlink_output(peer: PeerInfo, policies: Policies, namespace: str) -> dict[str, Any]:
    """The `clusterlink` stack output: all an importer and the access analysis need, nothing secret."""
    dump = lambda p: p.model_dump(by_alias=True, exclude_defaults=True)  # noqa: E731
    return {
        "peer": peer.name,
        "namespace": namespace,
        "gateways": [g.model_dump() for g in peer.gateways],
        "labels": dict(peer.labels),
        "exports": [{"name": e.name, "namespace": e.namespace, "port": e.port} for e in peer.exports],
        "policies": {"privileged": [dump(p) for p in policies.privileged],
                     "namespaced": [dump(p) for p in policies.namespaced]},
    }


def peer_from_output(data: Mapping[str, Any]) -> tuple[PeerInfo, PeerAccess]:
    """Read a peer's `clusterlink` output back into the model (the same checks then apply)."""
    source = f"stack {data['peer']}"
    peer = PeerInfo(
        name=data["peer"],
        exports=clusterlink_exports(data),
        gateways=tuple(parse(GatewayEndpoint, whole_numbers(g), source, f"gateways[{i}]")  # ports come as floats
                       for i, g in enumerate(data.get("gateways", []))),
        labels=dict(data.get("labels", {})),
    )
    policies = data.get("policies", {})
    peer_policies = Policies(
        tuple(parse(PrivilegedAccessPolicy, p, source, "PrivilegedAccessPolicy")
              for p in policies.get("privileged", [])),
        tuple(parse(AccessPolicy, p, source, "AccessPolicy") for p in policies.get("namespaced", [])),
    )
    return peer, PeerAccess(peer.name, peer.labels, peer_policies)


def clusterlink_exports(data: Mapping[str, Any] | None) -> tuple[ExportInfo, ...]:
    """The exports of a `clusterlink` output (none when the stack has not published one)."""
    return tuple(ExportInfo(e["name"], e["namespace"], int(e["port"])) for e in (data or {}).get("exports", []))


# --- an importer's Imports against its peers -------------------------------------------------------------------


def check_import_sources(importer: str, manifests: ClusterManifests, catalog: Mapping[str, PeerInfo]) -> list[Problem]:
    """Every Import source names a known peer and an export that peer publishes.

    `catalog` holds the fabric's ClusterLink peers; Peers declared by hand in
    the cluster's manifests (outside the fabric) are accepted unchecked, unless
    one takes the name of a fabric peer, whose Peer the program writes.
    """
    problems: list[Problem] = []
    external = {p.metadata.name for p in manifests.of_kind(Peer)}
    for peer in manifests.of_kind(Peer):
        if peer.metadata.name in catalog:
            problems.append(Problem(manifests.file_of(peer), ref(peer), "metadata.name",
                                    f"{peer.metadata.name!r} is a cluster of the fabric, whose Peer the program "
                                    "writes from fabric.yaml; a hand-written Peer would shadow it: remove it, or "
                                    "name a peer outside the fabric"))
    for imp in manifests.of_kind(Import):
        for i, source in enumerate(imp.spec.sources):
            where = f"spec.sources[{i}]"
            peer = catalog.get(source.peer)
            if peer is None:
                if source.peer not in external and source.peer != importer:
                    known = ", ".join(sorted(catalog)) or "none"
                    problems.append(Problem(manifests.file_of(imp), ref(imp), f"{where}.peer",
                                            f"no ClusterLink peer {source.peer!r} in the fabric (peers: {known})"))
                continue
            if peer.export(source.exportNamespace, source.exportName) is None:
                seen = ", ".join(f"{e.namespace}/{e.name}" for e in peer.exports) or "none"
                problems.append(Problem(manifests.file_of(imp), ref(imp), f"{where}.exportName",
                                        f"peer {peer.name!r} exports no {source.exportNamespace}/{source.exportName} "
                                        f"(its exports: {seen})"))
    return problems


@dataclass
class PeersRead:
    """What an importing ClusterLink stack knows of the peers it imports from, and what that says of its Imports."""

    catalog: dict[str, PeerInfo]
    exporters: dict[str, PeerAccess]
    notes: list[str]
    problems: list[Any]
    deployed: list[str]
    """The peers read from their deployed outputs (not planned, not from their manifests)."""

    def refusal(self) -> str:
        names = " and ".join(map(repr, self.deployed))
        hint = (f"\n(checked against what {names} published at {'their' if len(self.deployed) > 1 else 'its'} last "
                "`up`; if this change adds the export there too, preview the whole fabric, `clusterfabric preview`, "
                "which checks against what each exporter will publish)") if self.deployed else ""
        return "invalid fabric input:\n" + "\n".join(map(str, self.problems)) + hint


def read_peers(fabric: FabricManifests, cluster: str, published: Mapping[str, Any],
               planned: frozenset[str] = frozenset(), offline: Mapping[str, PeerInfo] | None = None) -> PeersRead:
    """The peers `cluster` imports from, each read from its `clusterlink` output in `published` (None: not deployed),
    or from its manifests when it is planned (see contract.PLANNED_PEERS_ENV) or not deployed yet; then the
    cluster's Imports checked against them. The program does this at `pulumi up`; the fabric layer does it first,
    before a refused run could touch the stack."""
    manifests = fabric.manifests[cluster]
    offline = offline if offline is not None else fabric.catalog()
    sources = fabric.import_peers(cluster)
    catalog: dict[str, PeerInfo] = {}
    exporters: dict[str, PeerAccess] = {}
    notes: list[str] = []
    for peer in sources:
        if peer in planned:
            notes.append(f"{cluster!r} is checked against what {peer!r} will publish after this change "
                         f"(planned: {peer!r}'s manifests, previewed in the same run), not its deployed outputs")
        elif published.get(peer) is None:
            # Not deployed yet (two clusters may import from each other): what a ClusterLink peer
            # publishes is what its manifests say, so check against those.
            notes.append(f"stack {peer!r} has published no ClusterLink outputs yet; {cluster!r} is checked "
                         f"against {peer!r}'s manifests instead")
        else:
            catalog[peer], exporters[peer] = peer_from_output(published[peer])
            continue
        catalog[peer], exporters[peer] = offline[peer], fabric.peer_access(peer)
    # Peers of the fabric this cluster does not import from still count as known names.
    for peer in (c.name for c, _ in fabric.clusterlink_clusters()):
        catalog.setdefault(peer, PeerInfo(peer))
    deployed = sorted(p for p in sources if p not in planned and published.get(p) is not None)
    return PeersRead(catalog, exporters, notes, check_import_sources(cluster, manifests, catalog), deployed)
