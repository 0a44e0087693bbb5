"""Every provider resource release 0.1 declared is found again by this release, by URN or by alias.

The engine test of upgrading (tests/reliability/test_upgrade.py) covers the ClusterLink stacks; the Lattice
stacks need the AWS plugin, which this machine lacks. Here both releases run every stack of the example
fabric under mocks (the URNs are computed by the SDK, as the engine would see them), in dependency order.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from clusterfabric.toolchain import PROJECT_DIR
from components.model.checks import load_fabric
from components.model.graph import run_order

PREVIOUS = PROJECT_DIR / "tests" / "fixtures" / "releases" / "v0.1.0.tar.gz"
FABRIC = PROJECT_DIR / "config"
CHILD = PROJECT_DIR / "tests" / "urns_child.py"


def declared(program_dir: Path) -> dict[str, dict[str, list[str]]]:
    """Stack -> {URN: alias URNs} of each provider resource, every stack of the example, the program at
    `program_dir` under mocks (a stack's references answered by the earlier stacks' outputs)."""
    published: dict[str, object] = {}
    found = {}
    for stack in run_order(load_fabric(FABRIC)):
        done = subprocess.run([sys.executable, str(CHILD), str(program_dir), str(FABRIC), stack],
                              input=json.dumps(published), capture_output=True, text=True, cwd=program_dir)
        assert done.returncode == 0, done.stderr[-2000:]
        result = json.loads(done.stdout)
        published[stack] = result["outputs"]
        found[stack] = result["urns"]
    return found


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    previous = tmp_path_factory.mktemp("v0.1.0")
    with tarfile.open(PREVIOUS) as archive:
        archive.extractall(previous, filter="data")
    return declared(previous), declared(PROJECT_DIR)


def test_every_resource_of_the_previous_release_keeps_its_urn_or_is_aliased(releases):
    old, new = releases
    lost = {stack: sorted(set(urns) - {u for urn, aliases in new[stack].items() for u in (urn, *aliases)})
            for stack, urns in old.items()}
    assert {stack: urns for stack, urns in lost.items() if urns} == {}


# What this release adds to a ClusterLink stack: the cluster's own CA and the control plane's and data plane's
# certificates it signs (ClusterLink's second trust root, which release 0.1 lacked).
CLUSTER_CERTIFICATES = ("cl-ca", "cl-controlplane-certificate", "cl-dataplane-certificate")


def test_this_release_adds_only_each_clusterlink_clusters_own_certificates(releases):
    old, new = releases
    added = {stack: sorted(urn.rsplit("::", 1)[1] for urn in set(urns) - {u for urn, aliases in old[stack].items()
                                                                          for u in (urn, *aliases)}
                           if not any(a in old[stack] for a in new[stack][urn]))
             for stack, urns in new.items()}
    expected = {stack: sorted(f"{stack}-clusterlink-platform-{c}" for c in CLUSTER_CERTIFICATES)
                if stack in ("east", "west", "central") else [] for stack in new}
    assert added == expected
    assert {s: len(u) for s, u in new.items()} == {s: len(u) + len(expected[s]) for s, u in old.items()}


def test_lattice_target_groups_listeners_and_rules_moved_by_alias(releases):
    _, new = releases
    moved = [urn for urn, aliases in new["cluster3"].items() if any("clusterfabric:lattice:" in a.split("::")[2].split("$")[-2]
                                                                      for a in aliases)]
    kinds = {urn.split("::")[2].split("$")[-1] for urn in moved}
    assert {"aws:vpclattice/targetGroup:TargetGroup", "aws:vpclattice/listener:Listener",
            "aws:vpclattice/listenerRule:ListenerRule", "aws:vpclattice/service:Service"} <= kinds
