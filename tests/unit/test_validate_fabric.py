"""`clusterfabric validate` on broken copies of the example fabric: one exact line per problem."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from clusterfabric.cli import validate
from clusterfabric.toolchain import PROJECT_DIR


@pytest.fixture()
def fabric(tmp_path: Path) -> Path:
    return Path(shutil.copytree(PROJECT_DIR / "config", tmp_path / "fabric"))


def edit(fabric: Path, file: str, old: str, new: str) -> None:
    path = fabric / file
    text = path.read_text()
    assert old in text, f"{old!r} not in {file}"
    path.write_text(text.replace(old, new, 1))


def lines(fabric: Path) -> list[str]:
    """Problems without the fabric directory prefix."""
    problems, _ = validate(fabric)
    return [p.replace(f"{fabric}/", "") for p in problems]


CASES = {
    "import from a peer outside the fabric": (
        "central/sharing.yaml", "peer:             east", "peer:             north",
        "central/sharing.yaml: Import/default/iperf3-server: spec.sources[0].peer: "
        "no ClusterLink peer 'north' in the fabric (peers: central, east, west)"),
    "import of an export the peer does not have": (
        "central/sharing.yaml", "exportName:       iperf3-server", "exportName:       iperf3",
        "central/sharing.yaml: Import/default/iperf3-server: spec.sources[0].exportName: "
        "peer 'east' exports no default/iperf3 (its exports: bookinfo/reviews, default/iperf3-server)"),
    "export of a Service that does not exist": (
        "east/sharing.yaml", "  name: reviews\n  namespace: bookinfo\nspec:\n  port: 9080",
        "  name: reviews\n  namespace: bookinfo\nspec:\n  host: ratings\n  port: 9080",
        "east/sharing.yaml: Export/bookinfo/reviews: spec.host: no Service bookinfo/ratings in this cluster's "
        "manifests; an Export shares a Service of its own namespace"),
    "export of a port the Service does not have": (
        "east/sharing.yaml", "port:  5000", "port:  5001",
        "east/sharing.yaml: Export/default/iperf3-server: spec.port: Service default/iperf3-server has no port "
        "5001 (its ports: 5000)"),
    "merge import without its Service": (
        "central/services.yaml", "name: details", "name: detail",
        "central/sharing.yaml: Import/bookinfo/details: metadata.labels: a merge import needs the Service "
        "bookinfo/details to exist in this cluster's manifests"),
    "two imports asking for the same targetPort": (
        "central/sharing.yaml", "  port: 9080\n  lbScheme: round-robin", "  port: 9080\n  targetPort: 7000\n  lbScheme: round-robin",
        None),
    "unknown lbScheme": (
        "central/sharing.yaml", "lbScheme: round-robin", "lbScheme: least-conn",
        "central/sharing.yaml: Import/bookinfo/reviews: spec.lbScheme: Input should be 'random', 'round-robin' "
        "or 'static'"),
    "import name longer than 63 characters": (
        "central/sharing.yaml", "name: iperf3-server\n  namespace: default", f"name: {'i' * 64}\n  namespace: default",
        f"central/sharing.yaml: Import/default/{'i' * 64}: metadata.name: '{'i' * 64}' is not a DNS-1035 label: "
        "at most 63 characters of a-z, 0-9 and '-', starting with a letter and ending with a letter or digit"),
    "exporter without a gateway": (
        "fabric.yaml", "      gateway: {host: clusterlink.east.example.com, port: 443}\n", "",
        "fabric.yaml: Cluster/-/east: clusterlink.gateway: required: central import from 'east' and need the "
        "host and port where its gateway is reachable"),
    "cluster listed twice": (
        "fabric.yaml", "  - name: central", "  - name: west",
        "fabric.yaml: Fabric: -: cluster 'west' is listed twice; each cluster is one stack"),
    "out-of-range data plane replicas": (
        "fabric.yaml", "replicas: 2", "replicas: 11",
        "fabric.yaml: Fabric: clusters[1].clusterlink.dataplane.replicas: Input should be less than or equal to 10"),
    "privileged policy with a namespace": (
        "west/sharing.yaml", "  name: deny-non-prod\n", "  name: deny-non-prod\n  namespace: bookinfo\n",
        "west/sharing.yaml: PrivilegedAccessPolicy/-/deny-non-prod: metadata.namespace: PrivilegedAccessPolicy is "
        "cluster-scoped: remove metadata.namespace"),
    "policy with an unknown action": (
        "east/sharing.yaml", "action: allow", "action: permit",
        "east/sharing.yaml: AccessPolicy/default/allow-all: spec.action: Input should be 'allow' or 'deny'"),
    "import with no sources": (
        "central/sharing.yaml",
        "  sources:\n    - exportName:       iperf3-server\n      exportNamespace:  default\n      peer:             east\n",
        "  sources: []\n",
        "central/sharing.yaml: Import/default/iperf3-server: spec.sources: List should have at least 1 item after "
        "validation, not 0"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_fabric_is_rejected_with_the_right_line(fabric: Path, case: str):
    file, old, new, expected = CASES[case]
    edit(fabric, file, old, new)
    if expected is None:  # the second explicit port of the same value
        edit(fabric, "central/sharing.yaml", "  port: 9080\n  sources:\n    - exportName: details",
             "  port: 9080\n  targetPort: 7000\n  sources:\n    - exportName: details")
        expected = ("central/sharing.yaml: Import/bookinfo/details: spec.targetPort: targetPort 7000 is already used "
                    "by Import/bookinfo/reviews; each Import needs its own data plane port (or leave it out to have "
                    "one chosen)")
    assert lines(fabric) == [expected]


def test_import_no_policy_can_allow_is_a_warning_not_an_error(fabric: Path):
    edit(fabric, "central/sharing.yaml", "  name: allow-all\n  namespace: bookinfo\nspec:\n  action: allow",
         "  name: allow-all\n  namespace: bookinfo\nspec:\n  action: deny")
    problems, warnings = validate(fabric)
    assert problems == []
    assert [w.replace(f"{fabric}/", "") for w in warnings] == [
        f"central/sharing.yaml: Import/bookinfo/{name}: spec.sources[{i}]: no policy can allow it on the egress side "
        "(cluster 'central', namespace 'bookinfo'); add an AccessPolicy with action allow"
        for name, i in (("reviews", 0), ("reviews", 1), ("details", 0))
    ]


def test_exporter_policy_that_blocks_the_importer_is_reported_on_the_ingress_side(fabric: Path):
    edit(fabric, "east/sharing.yaml", "peer.clusterlink.net/name: central", "peer.clusterlink.net/name: west")
    _, warnings = validate(fabric)
    assert [w.replace(f"{fabric}/", "") for w in warnings] == [
        "central/sharing.yaml: Import/bookinfo/reviews: spec.sources[0]: no policy can allow it on the ingress side "
        "(cluster 'east', namespace 'bookinfo'); the exporter needs an AccessPolicy with action allow"
    ]


def test_cli_exits_1_with_one_line_per_problem_and_no_traceback(fabric: Path):
    edit(fabric, "east/sharing.yaml", "port:  5000", "port:  70000")
    edit(fabric, "west/services.yaml", "port: 9080", "port: x")
    result = subprocess.run([sys.executable, "-m", "clusterfabric", "validate", "--fabric", str(fabric)],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert [line.split(": ")[1:3] for line in result.stderr.splitlines()] == [
        ["Export/default/iperf3-server", "spec.port"],
        ["Service/bookinfo/reviews", "spec.ports[0].port"],
    ]


def test_cli_exits_0_on_the_example_fabric():
    result = subprocess.run([sys.executable, "-m", "clusterfabric", "validate", "--fabric", str(PROJECT_DIR / "config")],
                            capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (0, "")
