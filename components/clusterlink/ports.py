"""Choosing each Import's targetPort: the data plane's listening port for it.

ClusterLink picks a random port when targetPort is absent and writes it back,
so every apply would see a diff. The program picks instead, and writes it:
a hash of `namespace/name` into 1024-49151 (stable across runs and machines),
moving up past ports already taken in the cluster, explicit ones first.
"""

from __future__ import annotations

import hashlib

from ..model.clusterlink import TARGET_PORT_RANGE, Import

LOW, HIGH = TARGET_PORT_RANGE


def preferred_port(namespace: str, name: str) -> int:
    digest = hashlib.sha256(f"{namespace}/{name}".encode()).digest()
    return LOW + int.from_bytes(digest[:8], "big") % (HIGH - LOW + 1)


def assign_target_ports(imports: list[Import]) -> dict[tuple[str, str], int]:
    """targetPort of every Import, keyed by (namespace, name). Explicit ports must already be distinct."""
    ports = {(i.metadata.namespace, i.metadata.name): i.spec.targetPort for i in imports if i.spec.targetPort}
    taken = set(ports.values())
    if len(imports) > HIGH - LOW + 1:
        raise ValueError(f"{len(imports)} Imports cannot have distinct targetPorts in {LOW}-{HIGH}")
    for imp in sorted((i for i in imports if not i.spec.targetPort), key=lambda i: (i.metadata.namespace, i.metadata.name)):
        port = preferred_port(imp.metadata.namespace, imp.metadata.name)
        while port in taken:
            port = LOW if port == HIGH else port + 1
        taken.add(port)
        ports[(imp.metadata.namespace, imp.metadata.name)] = port
    return ports
