"""Building a Lattice cluster from manifest files for tests."""

from __future__ import annotations

import shutil
from pathlib import Path

from components.model import FabricManifests, load_fabric

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lattice"

MY_GATEWAY = """apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: my-gateway
spec:
  gatewayClassName: amazon-vpc-lattice
  listeners:
    - {name: http, protocol: HTTP, port: 80}
    - {name: https, protocol: HTTPS, port: 443}
    - {name: tls, protocol: TLS, port: 443, tls: {mode: Passthrough}}
"""

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
