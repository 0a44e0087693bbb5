"""Every provider resource releases 0.1 and 0.2 declared is found again by this release, by URN or by alias.

The engine tests of upgrading cover the ClusterLink stacks (tests/reliability/test_upgrade.py) and the Lattice
stacks as far as AWS takes release 0.1's (tests/reliability/test_upgrade_lattice.py, against the fake AWS plugin).
Here both releases run every stack of the example fabric under mocks (the URNs are computed by the SDK, as the
engine would see them), in dependency order, including release 0.1's Lattice stacks AWS refuses."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from clusterfabric.toolchain import PROJECT_DIR
from clusterfabric.components.model import load_fabric
from clusterfabric.components.model.graph import dependencies, run_order

RELEASES = PROJECT_DIR / "tests" / "fixtures" / "releases"
FABRIC = PROJECT_DIR / "config"
CHILD = PROJECT_DIR / "tests" / "urns_child.py"


CLUSTERLINK = ("east", "west", "central")


def declared(program_dir: Path) -> dict[str, dict[str, list[str]]]:
    """Stack -> {URN: alias URNs} of each provider resource, every stack of the example, the program at
    `program_dir` under mocks (a stack's references answered by the outputs of the stacks it reads, evaluated
    before it; independent stacks two at a time, as the offline plan runs them)."""
    fabric = load_fabric(FABRIC)
    graph = dependencies(fabric)
    published: dict[str, object] = {}
    found: dict[str, dict[str, list[str]]] = {}

    def evaluate(stack: str, outputs: str) -> dict:
        done = subprocess.run([sys.executable, str(CHILD), str(program_dir), str(FABRIC), stack],
                              input=outputs, capture_output=True, text=True, cwd=program_dir)
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout)

    pending = run_order(fabric, graph=graph)
    with ThreadPoolExecutor(max_workers=2) as pool:
        while pending:
            ready = [s for s in pending if graph.needs(s) <= set(found)]
            outputs = json.dumps(published)  # what this wave reads, taken before any of it is done
            for stack, result in zip(ready, pool.map(evaluate, ready, [outputs] * len(ready))):
                published[stack], found[stack] = result["outputs"], result["urns"]
            pending = [s for s in pending if s not in found]
    return found


def release(tmp_path_factory: pytest.TempPathFactory, version: str) -> Path:
    """The program of release `version`, as released."""
    directory = tmp_path_factory.mktemp(version)
    with tarfile.open(RELEASES / f"{version}.tar.gz") as archive:
        archive.extractall(directory, filter="data")
    return directory


@pytest.fixture(scope="module")
def this_release() -> dict:
    return declared(PROJECT_DIR)


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory, this_release: dict) -> tuple[dict, dict]:
    """Release 0.1's resources and this release's."""
    return declared(release(tmp_path_factory, "v0.1.0")), this_release


@pytest.fixture(scope="module")
def release_0_2(tmp_path_factory: pytest.TempPathFactory, this_release: dict) -> tuple[dict, dict]:
    """Release 0.2's resources and this release's."""
    return declared(release(tmp_path_factory, "v0.2.0")), this_release


def kinds(urns) -> set[str]:
    return {urn.split("::")[2].split("$")[-1] for urn in urns}


def lost(old: dict, new: dict, stack: str) -> set[str]:
    """URNs of the previous release's resources this release neither declares nor aliases."""
    return set(old[stack]) - {u for urn, aliases in new[stack].items() for u in (urn, *aliases)}


def added(old: dict, new: dict, stack: str) -> list[str]:
    """Names of the resources this release adds, neither declared nor aliased by the previous one."""
    return sorted(urn.rsplit("::", 1)[1] for urn in set(new[stack]) - {u for urn, aliases in old[stack].items()
                                                                       for u in (urn, *aliases)}
                  if not any(a in old[stack] for a in new[stack][urn]))


# Replaced by design (issue 16): a target group's name is now unique in its account and Region across the fabric
# and says which service it serves, so each target group is a new one with its targets; and the VPC cluster2 and
# cluster3 share is associated once, by cluster2.
TARGETS = {"aws:vpclattice/targetGroup:TargetGroup", "aws:vpclattice/targetGroupAttachment:TargetGroupAttachment",
           "aws:autoscaling/trafficSourceAttachment:TrafficSourceAttachment"}
ASSOCIATION = "aws:vpclattice/serviceNetworkVpcAssociation:ServiceNetworkVpcAssociation"


def test_every_resource_of_the_previous_release_keeps_its_urn_or_is_aliased_but_replaced_target_groups(releases):
    old, new = releases
    assert {stack: kinds(lost(old, new, stack)) for stack in old if lost(old, new, stack)} == {
        "cluster1": TARGETS - {"aws:vpclattice/targetGroupAttachment:TargetGroupAttachment"},
        "cluster2": TARGETS - {"aws:autoscaling/trafficSourceAttachment:TrafficSourceAttachment"},
        "cluster3": TARGETS - {"aws:autoscaling/trafficSourceAttachment:TrafficSourceAttachment"} | {ASSOCIATION},
    }
    [association] = [urn for urn in lost(old, new, "cluster3") if ASSOCIATION in urn]
    assert association.endswith("::cluster3-lattice-fabric-network-vpc")


# What this release adds to a ClusterLink stack: the cluster's own CA and the control plane's and data plane's
# certificates it signs (ClusterLink's second trust root, which release 0.1 lacked); and to the CA owner's (east), a
# StackReference to itself, to read back the certificate rotation state it records (issue 28; a read, no object).
CLUSTER_CERTIFICATES = ("cl-ca", "cl-controlplane-certificate", "cl-dataplane-certificate")
OWN_RECORD = {"east": ["organization/clusterfabric/east"]}


def test_this_release_adds_each_clusterlink_clusters_own_certificates_and_the_new_target_groups(releases):
    old, new = releases
    clusterlink = {stack: added(old, new, stack) for stack in ("east", "west", "central")}
    assert clusterlink == {stack: sorted([f"{stack}-clusterlink-platform-{c}" for c in CLUSTER_CERTIFICATES]
                                         + OWN_RECORD.get(stack, [])) for stack in clusterlink}
    for stack in ("cluster1", "cluster2", "cluster3"):
        new_urns = [urn for urn in new[stack] if urn.rsplit("::", 1)[1] in added(old, new, stack)]
        assert kinds(new_urns) <= TARGETS
    assert {s: len(u) for s, u in new.items()} == {
        s: len(u) + len(added(old, new, s)) - len(lost(old, new, s)) for s, u in old.items()}


def test_lattice_services_listeners_and_rules_moved_by_alias(releases):
    _, new = releases
    moved = [urn for urn, aliases in new["cluster3"].items() if any("clusterfabric:lattice:" in a.split("::")[2].split("$")[-2]
                                                                      for a in aliases)]
    assert {"aws:vpclattice/listener:Listener", "aws:vpclattice/listenerRule:ListenerRule",
            "aws:vpclattice/service:Service"} <= kinds(moved)


def test_every_clusterlink_resource_of_release_0_2_is_found_again_and_none_is_added_but_the_owners_own_record(
        release_0_2):
    old, new = release_0_2
    assert {stack: (lost(old, new, stack), added(old, new, stack)) for stack in CLUSTERLINK} == {
        stack: (set(), OWN_RECORD.get(stack, [])) for stack in CLUSTERLINK}


def moved_in(old: dict, new: dict, stack: str) -> dict[str, str]:
    """Resource name -> the component type it moved into, of the resources whose URN in `old` is now an alias."""
    return {urn.rsplit("::", 1)[1]: urn.split("::")[2].split("$")[-2] for urn, aliases in new[stack].items()
            if urn not in old[stack] and any(a in old[stack] for a in aliases)}


def test_release_0_2s_clusterlink_crs_moved_into_the_component_of_their_kind_by_alias(release_0_2):
    old, new = release_0_2
    moved = {stack: moved_in(old, new, stack) for stack in CLUSTERLINK}
    assert moved["west"] == {"west-clusterlink-export-bookinfo-details": "clusterfabric:clusterlink:Export",
                             "west-clusterlink-export-bookinfo-reviews": "clusterfabric:clusterlink:Export",
                             "west-clusterlink-policy-bookinfo-allow-prod": "clusterfabric:clusterlink:AccessPolicy",
                             "west-clusterlink-policy-cluster-deny-non-prod": "clusterfabric:clusterlink:AccessPolicy"}
    assert sorted(moved["central"].values()) == ["clusterfabric:clusterlink:AccessPolicy"] * 2 + [
        "clusterfabric:clusterlink:Import"] * 3 + ["clusterfabric:clusterlink:Peer"] * 2
    assert sorted(moved["east"].values()) == ["clusterfabric:clusterlink:AccessPolicy"] * 2 + [
        "clusterfabric:clusterlink:Export"] * 2


def test_release_0_1s_clusterlink_crs_keep_their_component_and_take_its_name(releases):
    old, new = releases
    moved = moved_in(old, new, "central")
    assert moved["central-clusterlink-peer-east"] == "clusterfabric:clusterlink:Peer"
    [former] = [a for a in new["central"][next(u for u in new["central"] if u.endswith("::central-clusterlink-peer-east"))]
                if a in old["central"]]
    assert former.endswith("clusterfabric:clusterlink:Cluster$clusterfabric:clusterlink:Peer$"
                           "kubernetes:clusterlink.net/v1alpha1:Peer::central-clusterlink-peer-east-cr")


# --- release 0.2's Lattice stacks: the public components (ServiceNetwork, ServiceExport, HTTPRoute...) hold what
# the Lattice cluster component declared directly; each moved resource is aliased, none is new.

LATTICE_STACKS = ("cluster1", "cluster2", "cluster3")


def test_lattice_stacks_of_release_0_2_keep_every_resource(release_0_2):
    old, new = release_0_2
    assert {stack: (lost(old, new, stack), added(old, new, stack)) for stack in LATTICE_STACKS} == {
        stack: (set(), []) for stack in LATTICE_STACKS}


def test_lattice_resources_moved_into_the_public_components_are_aliased_to_release_0_2(release_0_2):
    old, new = release_0_2
    moved = {urn.split("::")[2].split("$")[2] for stack in LATTICE_STACKS for urn in new[stack]
             if urn not in old[stack]}
    assert moved == {"clusterfabric:lattice:ServiceNetwork", "clusterfabric:lattice:ServiceExport",
                     "clusterfabric:lattice:HTTPRoute", "clusterfabric:lattice:GRPCRoute",
                     "clusterfabric:lattice:TLSRoute"}
