"""Stable port choices: a hash of a name into a range, moving up past ports already taken.

Used where Kubernetes or ClusterLink would pick a random port and so rewrite
the object on every apply: an Import's targetPort (1024-49151), and the
NodePort of a Service that a Lattice target group reaches in instance mode
(30000-32767). The choice is stable across runs and machines, and distinct.
"""

from __future__ import annotations

import hashlib
from typing import Hashable, Mapping, Sequence

from .model.clusterlink import TARGET_PORT_RANGE, Import  # noqa: F401 (re-exported)
from .model import ClusterSpec
from .model.lattice import ServiceExport
from .model.load import ClusterManifests
from .model.routes import backends

NODE_PORT_RANGE = (30000, 32767)


def preferred_port(key: str, bounds: tuple[int, int]) -> int:
    low, high = bounds
    digest = hashlib.sha256(key.encode()).digest()
    return low + int.from_bytes(digest[:8], "big") % (high - low + 1)


def stable_ports(wanted: Sequence[tuple[Hashable, str]], bounds: tuple[int, int],
                 fixed: Mapping[Hashable, int]) -> dict[Hashable, int]:
    """A port for each (id, hash key) in `wanted`, plus the `fixed` ones kept as they are."""
    low, high = bounds
    if len(wanted) + len(fixed) > high - low + 1:
        raise ValueError(f"{len(wanted) + len(fixed)} ports cannot be distinct in {low}-{high}")
    ports = dict(fixed)
    taken = set(fixed.values())
    for ident, key in sorted(wanted, key=lambda w: w[1]):
        port = preferred_port(key, bounds)
        while port in taken:
            port = low if port == high else port + 1
        taken.add(port)
        ports[ident] = port
    return ports


def assign_target_ports(imports: list[Import]) -> dict[tuple[str, str], int]:
    """targetPort of every Import, keyed by (namespace, name). Explicit ports must already be distinct."""
    key = lambda i: (i.metadata.namespace, i.metadata.name)  # noqa: E731
    fixed = {key(i): i.spec.targetPort for i in imports if i.spec.targetPort}
    wanted = [(key(i), "/".join(key(i))) for i in imports if not i.spec.targetPort]
    return stable_ports(wanted, TARGET_PORT_RANGE, fixed)  # type: ignore[return-value]


def backing_services(manifests: ClusterManifests) -> set[tuple[str, str]]:
    """The Services Lattice target groups reach: exported ones and routes' Service backends."""
    found = {(e.metadata.namespace, e.service) for e in manifests.of_kind(ServiceExport) if e.federated}
    found.update((b.namespace, b.ref.name) for b in backends(manifests) if b.ref.kind == "Service")
    return found


def node_ports(spec: ClusterSpec, manifests: ClusterManifests) -> dict[tuple[str, str, int], int]:
    """(namespace, service, port) -> NodePort, for Lattice's instance mode: explicit ones kept, others stable."""
    if spec.lattice is None or spec.lattice.targets.mode != "instance":
        return {}
    fixed, wanted = {}, []
    for ns, name in sorted(backing_services(manifests)):
        service = manifests.service(ns, name)
        for port in service.spec.ports if service else []:
            key = (ns, name, port.port)
            if port.nodePort:
                fixed[key] = port.nodePort
            else:
                wanted.append((key, f"{ns}/{name}/{port.port}"))
    return stable_ports(wanted, NODE_PORT_RANGE, fixed)  # type: ignore[return-value]
