"""Building a Lattice cluster from manifest files for tests, and the importer of the docs' ServiceImport examples
(tests/fixtures/lattice): what it declares under mocks, service-1 published by its owner cluster outside the fabric."""

from __future__ import annotations

import shutil
from pathlib import Path

import pulumi

from clusterfabric.offline.lattice_fake import LatticeFake
from clusterfabric.components.lattice.cluster import LatticeArgs, LatticeCluster
from clusterfabric.components.model import FabricManifests, load_fabric
from clusterfabric.components.model import lattice_rules
from clusterfabric.components.model.lattice_imports import LatticeExport, scope_of
from clusterfabric.components.model.lattice_fabric import build
from tests.mocks import SCOPE, Declared, declare

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lattice"
ROUTES = ["httproute-my-route.yaml", "grpcroute-my-grpc-route.yaml", "tlsroute-my-tls-route.yaml"]
OWNER_TG = "arn:aws:vpc-lattice:us-west-2:111122223333:targetgroup/tg-{}0000000000000000"
# The Lattice service of each route example: the one the owner's target group for that route type serves.
CONSUMERS = {"HTTP": "my-route-default", "GRPC": "my-grpc-route-default", "TLS": "my-tls-route-default"}

MY_GATEWAY = (FIXTURES / "consumer" / "gateway.yaml").read_text()
"""The Gateway the docs' routes name (the seeds' consumer cluster has it): HTTP, HTTPS and TLS passthrough listeners."""

LATTICE = """    lattice:
      accountId: "{account}"
      region: {region}
      vpcId: vpc-0a1b2c3d4e5f60009
      targets: {{mode: ip, ips: [10.0.0.1]}}
"""


def fabric_with(tmp_path: Path, files: dict[str, str], fixtures: list[str] = (), account: str = "111122223333",
                region: str = "us-west-2") -> FabricManifests:
    """A one-cluster Lattice fabric (cluster `importer`) with these manifests and fixture files."""
    (tmp_path / "fabric.yaml").write_text("clusters:\n  - name: importer\n    dataplane: lattice\n"
                                          + LATTICE.format(account=account, region=region))
    folder = tmp_path / "importer"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    for name in fixtures:
        shutil.copy(FIXTURES / name, folder / name)
    return load_fabric(tmp_path)


def owner_exports() -> list[LatticeExport]:
    """service-1 as its owner cluster (outside the fabric) would publish it: one port per route type, each with
    the target group it made for the service of the route example of that type."""
    return [LatticeExport("service-1-owner-cluster", "service-1-owner-vpc-id", "service-1", "default", 80, kind, SCOPE,
                          ((CONSUMERS[kind], OWNER_TG.format(i)),)) for i, kind in enumerate(("HTTP", "GRPC", "TLS"))]


def declare_importer(fabric: FabricManifests, outside: list[LatticeExport], existing: list[str],
                     watch=None) -> Declared:
    """What cluster `importer` declares, its ServiceImports resolving to the `outside` exports, in an account where
    the target groups `existing` (ARNs) exist: the Lattice fake refuses what AWS would. `watch`: a stack
    transformation that sees each resource's options."""
    desired = build(fabric.spec, fabric.manifests, "fabric.yaml", outside)
    assert lattice_rules.problems(desired) == []
    lattice = LatticeFake()
    for arn in existing:
        lattice.existing_target_group(arn)
    spec = fabric.spec.cluster("importer")

    def program() -> None:
        if watch:
            pulumi.runtime.register_stack_transformation(watch)
        LatticeCluster("importer", LatticeArgs(
            spec=spec, manifests=fabric.manifests["importer"], fabric=desired, networks={},
            published={e.key: e for e in outside}, node_ports={}))

    return declare(program, lattice, scope_of(spec))
