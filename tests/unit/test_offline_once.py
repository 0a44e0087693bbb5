"""Each stack is evaluated under mocks once: a plan reuses the outputs of stacks evaluated earlier, and a fabric run
hands its plans the outputs of the stacks its earlier plans evaluated."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bench.generate import Shape, generate
from clusterfabric import Fabric
from clusterfabric.components.contract import CERTIFICATE_EXPIRY_OUTPUT, CERTIFICATES_OUTPUT
from clusterfabric.offline import plan as offline
from clusterfabric.offline.lattice_fake import LatticeFake
from clusterfabric.offline.plan import lattice_api, plan
from clusterfabric.runner.fabric import _Run
from clusterfabric.components.model import dependencies, load_fabric
from clusterfabric.runner.init import init_fabric
from clusterfabric.toolchain import PROJECT_DIR, project_plugins


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Lattice fabric where each cluster imports from every cluster before it: c001 reads c000, c002 both; a
    fabric repository of its own (its stacks are its project's)."""
    fabric = generate(tmp_path_factory.mktemp("chain") / "fabric", Shape(clusters=3, exports=1, imports=2,
                                                                         dataplane="lattice"))
    init_fabric(fabric)
    return fabric


@pytest.fixture(scope="module")
def alone(chain: Path) -> dict[str, Any]:
    """Each stack's plan made on its own, evaluating every stack it reads."""
    return {s: plan(PROJECT_DIR, chain, [s])["stacks"][s] for s in ("c000", "c001", "c002")}


def by_name(entry: dict[str, Any]) -> dict[str, Any]:
    """A stack's plan with its resources by type and name (the order they register in varies from run to run)."""
    return {**entry, "resources": sorted(entry["resources"], key=lambda r: (r["type"], r["name"]))}


@pytest.fixture
def evaluations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The stacks evaluated under mocks from now on, in order."""
    seen: list[str] = []
    evaluate = offline._evaluate

    def counted(root: Path, fabric_dir: Path, stack: str, *args: Any) -> dict[str, Any]:
        seen.append(stack)
        return evaluate(root, fabric_dir, stack, *args)

    monkeypatch.setattr(offline, "_evaluate", counted)
    return seen


def test_plan_hands_over_the_outputs_of_every_stack_it_evaluates_not_only_the_reported_one(chain, alone, evaluations):
    handed: dict[str, Any] = {}
    result = plan(PROJECT_DIR, chain, ["c001"], on_evaluated=handed.__setitem__)
    assert list(result["stacks"]) == ["c001"]
    assert evaluations == ["c000", "c001"]
    assert handed == {"c000": alone["c000"]["outputs"], "c001": alone["c001"]["outputs"]}


@pytest.fixture(scope="module")
def created_c000_c001(chain: Path) -> LatticeFake:
    """The Lattice API after an earlier plan of the same run created c000 and c001 in it."""
    lattice = lattice_api(load_fabric(chain))
    plan(PROJECT_DIR, chain, ["c001"], lattice=lattice)
    return lattice


def test_plan_given_known_outputs_evaluates_only_the_stacks_not_known_and_plans_the_same(chain, alone, evaluations,
                                                                                         created_c000_c001):
    known = {s: alone[s]["outputs"] for s in ("c000", "c001")}
    result = plan(PROJECT_DIR, chain, ["c002"], known=known, lattice=created_c000_c001)["stacks"]
    assert evaluations == ["c002"]
    assert list(result) == ["c002"] and by_name(result["c002"]) == by_name(alone["c002"])
    [arn] = [g["arn"] for g in alone["c000"]["outputs"]["lattice"]["exports"][0]["targetGroups"]
             if g["service"].startswith("c002-")]  # c000 made a target group for c002's route
    assert any(arn in str(r["inputs"]) for r in result["c002"]["resources"])  # it came from the known outputs


def test_a_reported_stack_is_evaluated_even_when_its_outputs_are_known(chain, alone, evaluations):
    result = plan(PROJECT_DIR, chain, ["c000"], known={"c000": alone["c000"]["outputs"]})["stacks"]
    assert evaluations == ["c000"]
    assert list(result) == ["c000"] and by_name(result["c000"]) == by_name(alone["c000"])


def test_fabric_run_evaluates_each_stack_offline_exactly_once(chain, alone, evaluations,
                                                              monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(Fabric, "_installed_plugins", lambda self: set())  # no AWS provider: Lattice goes offline
    result = Fabric(chain, parallel=2).preview()
    assert Counter(evaluations) == {"c000": 1, "c001": 1, "c002": 1}
    assert [(s.stack, s.result, s.changes) for s in result.stacks] == [
        (s, "planned offline", {"create": len(alone[s]["resources"])}) for s in ("c000", "c001", "c002")]


def test_a_second_fabric_run_evaluates_its_stacks_again(chain, evaluations, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(Fabric, "_installed_plugins", lambda self: set())
    fabric = Fabric(chain)
    fabric.preview(["c001"])
    fabric.preview(["c001"])
    assert evaluations == ["c000", "c001", "c000", "c001"]  # nothing offline is kept from one run to the next


def test_a_lattice_importer_is_previewed_on_the_engine_once_its_undeployed_exporters_were_previewed_in_the_run(
        monkeypatch: pytest.MonkeyPatch):
    """It reads them as planned, their ARNs unknown (components/stack.py): not deployed is no reason to plan it
    under mocks any more."""
    monkeypatch.setattr(Fabric, "deployed_outputs", lambda self, stack, run: None)  # nothing deployed yet
    fabric = Fabric(PROJECT_DIR / "config")
    model = fabric.load()
    run = _Run("preview", model, dependencies(model), frozenset({"cluster3"}), {})
    assert fabric._unpublished_reads(run, "cluster3") == "cluster1, cluster2 not deployed yet"
    run.previewed |= {"cluster1", "cluster2"}
    assert fabric._unpublished_reads(run, "cluster3") is None


def test_a_provider_plugin_the_projects_pulumi_yaml_names_by_path_counts_as_installed(tmp_path: Path):
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\nplugins:\n  providers:\n"
                                          "    - {name: aws, path: /opt/aws-plugin}\n")
    assert project_plugins(tmp_path) == {"aws"}
    assert project_plugins(PROJECT_DIR) == set()  # the project's own runs plan Lattice offline here



@pytest.fixture(scope="module")
def ring(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ClusterLink fabric where each cluster imports from the three after it (c004 from c005, c000 and c001)."""
    return generate(tmp_path_factory.mktemp("ring") / "fabric", Shape(clusters=6, exports=2, imports=3,
                                                                      dataplane="clusterlink"))


@pytest.fixture(scope="module")
def whole_ring(ring: Path) -> dict[str, Any]:
    """The plan of every stack of the ring: each evaluated, each reading the evaluated outputs of the others."""
    return plan(PROJECT_DIR, ring)["stacks"]


def test_one_clusterlink_stacks_plan_evaluates_that_stack_only(ring, evaluations):
    plan(PROJECT_DIR, ring, ["c004"])
    assert evaluations == ["c004"]  # not the peers it reads (c005, c000 the CA's owner, c001), nor theirs


def test_one_clusterlink_stacks_plan_equals_its_plan_with_the_whole_fabric(ring, whole_ring):
    alone = plan(PROJECT_DIR, ring, ["c004"])["stacks"]["c004"]
    assert by_name(alone) == by_name(whole_ring["c004"])
    assert alone["warnings"] == [  # c005 comes after c004 in the run order: not deployed when c004 reads it
        "stack 'c005' has published no ClusterLink outputs yet; 'c004' is checked against 'c005''s manifests instead"]


@pytest.mark.parametrize("peer", ["c000", "c001", "c005"])
def test_a_peers_outputs_from_its_manifests_equal_what_its_own_evaluation_outputs(ring, whole_ring, peer):
    evaluated = dict(whole_ring[peer]["outputs"])
    del evaluated[CERTIFICATE_EXPIRY_OUTPUT]  # no stack reads another's certificate dates
    if CERTIFICATES_OUTPUT in evaluated:  # the CA owner's bundle: c004 reads its own certificate of it
        bundle = evaluated[CERTIFICATES_OUTPUT]
        evaluated[CERTIFICATES_OUTPUT] = {"ca": bundle["ca"], "peers": {"c004": bundle["peers"]["c004"]}}
    assert offline.peer_outputs(load_fabric(ring), peer, "c004") == evaluated
