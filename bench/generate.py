"""Synthetic fabrics: N clusters, M exports and K imports per cluster, for either dataplane.

The benchmarks need fabrics of any size that `clusterfabric validate` accepts,
built the same way every time (no randomness: a run is reproducible and two
runs compare). Sources spread over the other clusters before any is drawn twice,
and no (cluster, export) pair repeats:

- ClusterLink: import k of cluster i draws from cluster (i + 1 + k mod (N-1)) mod N,
  export (k div (N-1)) mod M. Importing from each other is fine there (what a
  peer shares is known from its manifests).
- Lattice: a ServiceImport needs the exporting stack deployed first, so a cycle
  could never deploy: cluster i draws only from the clusters before it,
  (i - 1 - k mod i), export (k div i) mod M, and has at most i*M imports
  (cluster 0 imports nothing).

    python -m bench.generate DIR --clusters 4 --exports 10 --imports 3 --dataplane lattice
"""

from __future__ import annotations

import argparse
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

DATAPLANES = ("clusterlink", "lattice")
SHARED = "shared"  # namespace of the exported Services (and, for Lattice, of the imports and routes)
CONSUMERS = "consumers"  # namespace of ClusterLink Imports
NETWORK = "bench-network"  # the Lattice service network every importing cluster joins
LATTICE = "application-networking.k8s.aws/"
ACCOUNT = "111122223333"


@dataclass(frozen=True)
class Shape:
    """What to generate: the fabric's size in clusters, and each cluster's exports and imports."""

    clusters: int
    exports: int
    imports: int
    dataplane: str

    def __post_init__(self) -> None:
        if self.dataplane not in DATAPLANES:
            raise ValueError(f"dataplane must be one of {', '.join(DATAPLANES)}")
        if self.clusters < 1 or self.exports < 0 or self.imports < 0:
            raise ValueError("clusters must be at least 1; exports and imports at least 0")
        if self.imports and self.imports > (self.clusters - 1) * self.exports:
            raise ValueError(f"{self.imports} imports need as many distinct exports of other clusters; there are "
                             f"{(self.clusters - 1) * self.exports}")


def cluster_name(index: int) -> str:
    return f"c{index:03d}"


def service_name(index: int) -> str:
    return f"svc-{index:04d}"


def sources(shape: Shape, cluster: int) -> list[tuple[str, int]]:
    """(source cluster, export index) of each import of `cluster`."""
    if shape.dataplane == "lattice":
        count = min(shape.imports, cluster * shape.exports)
        return [(cluster_name(cluster - 1 - k % cluster), (k // cluster) % shape.exports) for k in range(count)]
    others = shape.clusters - 1
    return [(cluster_name((cluster + 1 + k % others) % shape.clusters), (k // others) % shape.exports)
            for k in range(shape.imports)]


def source_stacks(shape: Shape, cluster: int) -> set[str]:
    """The other clusters `cluster` imports from (the stacks it must read)."""
    return {source for source, _ in sources(shape, cluster)}


def _meta(name: str, namespace: str | None = None, annotations: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    if annotations:
        meta["annotations"] = annotations
    return meta


def _service(name: str, port: int) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(name, SHARED),
            "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": port, "targetPort": 8080}]}}


# --- ClusterLink ---------------------------------------------------------------


def _clusterlink_settings(index: int) -> dict[str, Any]:
    name = cluster_name(index)
    return {"ingress": {"type": "ClusterIP", "port": 443}, "gateway": {"host": f"{name}.bench.example.com", "port": 443},
            "labels": {"env": "bench"}}


def _allow_all(namespace: str) -> dict[str, Any]:
    return {"apiVersion": "clusterlink.net/v1alpha1", "kind": "AccessPolicy", "metadata": _meta("allow-all", namespace),
            "spec": {"action": "allow", "from": [{"workloadSelector": {}}], "to": [{"workloadSelector": {}}]}}


def _clusterlink_objects(shape: Shape, index: int) -> dict[str, list[dict[str, Any]]]:
    exports = [{"apiVersion": "clusterlink.net/v1alpha1", "kind": "Export", "metadata": _meta(service_name(j), SHARED),
                "spec": {"port": 80}} for j in range(shape.exports)]
    imports = [{"apiVersion": "clusterlink.net/v1alpha1", "kind": "Import",
                "metadata": _meta(f"{source}-{service_name(j)}", CONSUMERS),
                "spec": {"port": 80, "sources": [{"peer": source, "exportName": service_name(j),
                                                  "exportNamespace": SHARED}]}}
               for source, j in sources(shape, index)]
    policies = [_allow_all(SHARED)] + ([_allow_all(CONSUMERS)] if imports else [])
    return {"services.yaml": [_service(service_name(j), 80) for j in range(shape.exports)],
            "sharing.yaml": exports + imports + policies}


# --- VPC Lattice ---------------------------------------------------------------


def _lattice_settings(index: int) -> dict[str, Any]:
    return {"accountId": ACCOUNT, "region": "us-west-2", "vpcId": f"vpc-{index + 1:017x}",
            "targets": {"mode": "instance", "autoScalingGroup": f"{cluster_name(index)}-nodes"},
            "securityGroupIds": [f"sg-{index + 1:017x}"]}


def _lattice_objects(shape: Shape, index: int) -> dict[str, list[dict[str, Any]]]:
    exports = [{"apiVersion": f"{LATTICE}v1alpha1", "kind": "ServiceExport", "metadata": _meta(
        service_name(j), SHARED, {f"{LATTICE}federation": "amazon-vpc-lattice"}),
        "spec": {"exportedPorts": [{"port": 80, "routeType": "HTTP"}]}} for j in range(shape.exports)]
    files = {"services.yaml": [_service(service_name(j), 80) for j in range(shape.exports)], "exports.yaml": exports}
    pairs = sources(shape, index)
    if not pairs:
        return files
    files["gateway.yaml"] = [{"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": _meta(
        NETWORK, SHARED), "spec": {"gatewayClassName": "amazon-vpc-lattice",
                                   "listeners": [{"name": "http", "protocol": "HTTP", "port": 80}]}}]
    files["imports.yaml"] = [{"apiVersion": f"{LATTICE}v1alpha1", "kind": "ServiceImport", "metadata": _meta(
        f"{source}-{service_name(j)}", SHARED, {f"{LATTICE}export-name": service_name(j),
                                               f"{LATTICE}aws-eks-cluster-name": source}),
        "spec": {"type": "ClusterSetIP", "ports": [{"port": 80, "protocol": "TCP"}]}} for source, j in pairs]
    # Named for the importing cluster too: a route's Lattice service is named after the route, and service names
    # are unique in the account and Region all these clusters share.
    files["routes.yaml"] = [{"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": _meta(
        f"{cluster_name(index)}-{source}-{service_name(j)}", SHARED), "spec": {
        "parentRefs": [{"name": NETWORK, "sectionName": "http"}],
        "rules": [{"backendRefs": [{"name": f"{source}-{service_name(j)}", "kind": "ServiceImport"}]}]}}
        for source, j in pairs]
    return files


# --- writing -------------------------------------------------------------------


def _write_documents(path: Path, documents: Iterable[dict[str, Any]]) -> None:
    # JSON is YAML: the generator stays fast at 10,000 objects and needs no YAML emitter.
    path.write_text("---\n".join(json.dumps(doc) + "\n" for doc in documents))


def generate(directory: Path, shape: Shape) -> Path:
    """Write the fabric of `shape` into `directory` (replacing what is there); returns `directory`."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    settings = _clusterlink_settings if shape.dataplane == "clusterlink" else _lattice_settings
    objects = _clusterlink_objects if shape.dataplane == "clusterlink" else _lattice_objects
    clusters = [{"name": cluster_name(i), "dataplane": shape.dataplane, shape.dataplane: settings(i)}
                for i in range(shape.clusters)]
    (directory / "fabric.yaml").write_text(json.dumps({"name": "bench", "clusters": clusters}, indent=1) + "\n")
    for i in range(shape.clusters):
        folder = directory / cluster_name(i)
        folder.mkdir()
        for file, documents in objects(shape, i).items():
            if documents:
                _write_documents(folder / file, documents)
    return directory


def object_count(shape: Shape) -> int:
    """How many manifests the whole fabric holds (the `validate` benchmark reports it)."""
    objects = _clusterlink_objects if shape.dataplane == "clusterlink" else _lattice_objects
    return sum(len(docs) for i in range(shape.clusters) for docs in objects(shape, i).values())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--clusters", type=int, default=4)
    parser.add_argument("--exports", type=int, default=10)
    parser.add_argument("--imports", type=int, default=3)
    parser.add_argument("--dataplane", choices=DATAPLANES, default="clusterlink")
    args = parser.parse_args(argv)
    shape = Shape(args.clusters, args.exports, args.imports, args.dataplane)
    generate(args.directory, shape)
    print(f"{args.directory}: {shape.clusters} {shape.dataplane} clusters, {object_count(shape)} objects")


if __name__ == "__main__":
    main()
