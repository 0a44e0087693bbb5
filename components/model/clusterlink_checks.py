"""ClusterLink's checks across objects and across clusters, beyond what one manifest can say about itself.

An importer's Imports against what its peers publish are checked with the peers (components.model.peers).
"""

from __future__ import annotations

from .clusterlink import MERGE_LABEL, AccessPolicy, Export, Import, Peer, PrivilegedAccessPolicy
from .errors import Problem, they
from .fabric_yaml import ClusterSpec
from .load import ClusterManifests, ref

CLUSTERLINK_KINDS = (Export, Import, Peer, AccessPolicy, PrivilegedAccessPolicy)


def check_cluster(spec: ClusterSpec, manifests: ClusterManifests) -> list[Problem]:
    """Problems inside one cluster: references to its own Services, ports, kinds and namespaces."""
    problems: list[Problem] = []

    def problem(obj: object, field_path: str, message: str) -> None:
        problems.append(Problem(manifests.file_of(obj), ref(obj), field_path, message))  # type: ignore[arg-type]

    if spec.dataplane != "clusterlink":
        for obj in manifests.objects:
            if isinstance(obj, CLUSTERLINK_KINDS):
                problem(obj, "kind", f"cluster {spec.name!r} uses dataplane {spec.dataplane}; "
                        "ClusterLink objects belong to clusters with dataplane clusterlink")
        return problems
    settings = spec.clusterlink
    assert settings is not None

    for export in manifests.of_kind(Export):
        ns = export.metadata.namespace
        if export.service is None:
            host = export.spec.host or ""
            if "." not in host and ":" not in host and ns != settings.namespace:
                # The data plane resolves the host from its own namespace: a bare name is a Service there.
                problem(export, "spec.host", f"ClusterLink's data plane resolves {host!r} in its own namespace "
                        f"{settings.namespace!r}, not in {ns!r}: leave host out to share the Service "
                        f"{ns}/{export.metadata.name} (ClusterLink then dials "
                        f"{export.metadata.name}.{ns}.svc.cluster.local), or give a fully qualified name")
            continue
        service = manifests.service(ns, export.service)
        if service is None:
            problem(export, "metadata.name", f"no Service {ns}/{export.service} in this cluster's manifests; an "
                    "Export without spec.host shares the Service of its name in its namespace")
        elif export.spec.port not in {p.port for p in service.spec.ports}:
            ports = ", ".join(str(p.port) for p in service.spec.ports)
            problem(export, "spec.port", f"Service {ns}/{export.service} has no port {export.spec.port} "
                    f"(its ports: {ports})")

    taken: dict[int, Import] = {}
    for imp in manifests.of_kind(Import):
        declared = manifests.service(imp.metadata.namespace, imp.metadata.name)
        if imp.merge and declared is None:
            problem(imp, "metadata.labels", f"a merge import needs the Service {imp.metadata.namespace}/"
                    f"{imp.metadata.name} to exist in this cluster's manifests")
        elif not imp.merge and declared is not None:
            problem(imp, "metadata.name", f"ClusterLink creates the Service {imp.metadata.namespace}/"
                    f"{imp.metadata.name} for this import and refuses one it does not manage, as this cluster "
                    f"declares: label the import {MERGE_LABEL}: \"true\" to join that Service, or rename one")
        port = imp.spec.targetPort
        if port is not None:
            if port in taken:
                problem(imp, "spec.targetPort", f"targetPort {port} is already used by {ref(taken[port])}; "
                        "each Import needs its own data plane port (or leave it out to have one chosen)")
            else:
                taken[port] = imp
        for i, source in enumerate(imp.spec.sources):
            if source.peer == spec.name:
                problem(imp, f"spec.sources[{i}].peer", "a cluster cannot import from itself")

    for peer in manifests.of_kind(Peer):
        if peer.metadata.namespace != settings.namespace:
            problem(peer, "metadata.namespace", f"ClusterLink reads Peers from its own namespace "
                    f"{settings.namespace!r} only")
    return problems


def imported_peers(manifests: ClusterManifests) -> list[str]:
    """The peers this cluster imports from, sorted."""
    return sorted({s.peer for imp in manifests.of_kind(Import) for s in imp.spec.sources})


def check_gateways(clusters: list[tuple[ClusterSpec, ClusterManifests]], fabric_file: str) -> list[Problem]:
    """A cluster others import from must say where its gateway is."""
    specs = {spec.name: spec for spec, _ in clusters}
    problems = []
    for name in sorted({p for _, m in clusters for p in imported_peers(m)}):
        spec = specs.get(name)
        if spec and spec.clusterlink and spec.clusterlink.gateway is None:
            importers = sorted(s.name for s, m in clusters if name in imported_peers(m))
            problems.append(Problem(fabric_file, f"Cluster/-/{name}", "clusterlink.gateway",
                                    f"required: {they(importers, 'imports', 'import')} from {name!r}: give the "
                                    "host and port where its gateway is reachable"))
    return problems


def gateway_warnings(clusters: list[tuple[ClusterSpec, ClusterManifests]], fabric_file: str) -> list[Problem]:
    """A gateway published on another port than the one its cluster's ingress opens (a LoadBalancer's port,
    a NodePort's node port) is most likely a typo: peers would dial a port nothing listens on."""
    warnings = []
    for spec, _ in clusters:
        settings = spec.clusterlink
        if settings is None or settings.gateway is None or settings.ingress.type == "ClusterIP":
            continue
        ingress = settings.ingress
        opened = ingress.node_port if ingress.type == "NodePort" else ingress.service_port
        if opened is not None and opened != settings.gateway.port:
            what = "node port" if ingress.type == "NodePort" else "port"
            warnings.append(Problem(fabric_file, f"Cluster/-/{spec.name}", "clusterlink.gateway.port",
                                    f"{settings.gateway.port} is not the {what} its {ingress.type} ingress opens "
                                    f"({opened}); peers dial the gateway's port"))
    return warnings
