"""A stack's refusals as plain functions of the model, its graph and the outputs read: no engine, no stack."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from clusterfabric.runner.refusals import (destroy_refusal, emptied_refusal, input_refusal, problems_by_stack,
                                           removal_refusal)
from clusterfabric.toolchain import PROJECT_DIR
from clusterfabric.components.model import dependencies, load_fabric
from clusterfabric.components.model.errors import Problem

CONFIG = PROJECT_DIR / "config"


@pytest.fixture(scope="module")
def example():
    return load_fabric(CONFIG)


def test_destroying_a_stack_others_read_is_refused_unless_they_go_with_it(example):
    graph = dependencies(example)
    assert destroy_refusal(graph, "east", frozenset({"east"})).startswith(
        "refusing to destroy 'east': central, west still read it")
    assert destroy_refusal(graph, "east", frozenset({"east", "central", "west"})) is None


def test_a_refusal_naming_one_reader_says_it_reads(example):
    assert destroy_refusal(dependencies(example), "west", frozenset({"west"})).startswith(
        "refusing to destroy 'west': central still reads it")


def test_an_export_published_that_the_manifests_dropped_is_refused_naming_its_importers(tmp_path: Path):
    shutil.copytree(CONFIG, tmp_path / "config")
    sharing = tmp_path / "config" / "east" / "sharing.yaml"
    sharing.write_text(sharing.read_text().replace("  name: reviews\n  namespace: bookinfo\nspec:\n  port: 9080\n",
                                                   "  name: ratings\n  namespace: bookinfo\nspec:\n  port: 9080\n"))
    renamed = load_fabric(tmp_path / "config")
    published = {"clusterlink": {"exports": [{"name": "reviews", "namespace": "bookinfo", "port": 9080}]}}
    assert removal_refusal(renamed, "east", published).splitlines() == [
        "refusing to remove what 'east' exports while others import it (use --force to do it anyway):",
        f"  export bookinfo/reviews: imported by central ({tmp_path}/config/central/sharing.yaml: "
        "Import/bookinfo/reviews)"]


def test_a_stack_publishing_what_its_manifests_export_is_not_refused(example):
    assert removal_refusal(example, "east", {}) is None  # not deployed yet: nothing to remove
    assert removal_refusal(example, "cluster1", {}) is None


def emptied(tmp_path: Path, cluster: str):
    """The example fabric with `cluster`'s folder emptied of manifests."""
    shutil.copytree(CONFIG, tmp_path / "config")
    for manifest in (tmp_path / "config" / cluster).glob("*.yaml"):
        manifest.unlink()
    return load_fabric(tmp_path / "config")


def test_an_up_removing_everything_a_clusterlink_stack_shares_is_refused(tmp_path: Path):
    published = {"clusterlink": {"exports": [{"name": "details", "namespace": "bookinfo", "port": 9080}]},
                 "importTargetPorts": {"default/iperf3": 5000}}
    assert emptied_refusal(emptied(tmp_path, "west"), "west", published) == (
        "refusing to remove everything 'west' shares (export bookinfo/details, import default/iperf3): its folder "
        "declares no export or import any more (a renamed or emptied folder?); use --force to do it anyway")


def test_an_up_removing_everything_a_lattice_stack_shares_is_refused(tmp_path: Path, example):
    from clusterfabric.offline.plan import plan

    published = plan(PROJECT_DIR, CONFIG, ["cluster2"])["stacks"]["cluster2"]["outputs"]
    refusal = emptied_refusal(emptied(tmp_path, "cluster2"), "cluster2", published)
    assert refusal.startswith("refusing to remove everything 'cluster2' shares (export ")


def test_a_stack_that_still_shares_something_or_never_did_is_not_refused(tmp_path: Path, example):
    published = {"clusterlink": {"exports": [{"name": "details", "namespace": "bookinfo", "port": 9080}]}}
    assert emptied_refusal(example, "west", published) is None  # it still exports (removal_refusal's case)
    imports = {"importTargetPorts": {"bookinfo/reviews": 9080}}
    assert emptied_refusal(example, "central", imports) is None  # it exports nothing, but still imports
    assert emptied_refusal(emptied(tmp_path, "west"), "west", {}) is None  # never deployed: nothing to remove


def test_each_stack_refuses_the_problems_in_its_own_folder_and_none_refuses_the_fabrics():
    folders = {"east": CONFIG / "east", "west": CONFIG / "west"}
    east = Problem(str(CONFIG / "east" / "sharing.yaml"), "Export/bookinfo/reviews", "spec.port", "bad")
    fabric_file = Problem(str(CONFIG / "fabric.yaml"), "Fabric", "clusters", "bad")
    assert problems_by_stack([east], folders) == {"east": [east]}
    assert problems_by_stack([east, fabric_file], folders) is None
    assert problems_by_stack([], folders) == {}


def test_a_stacks_own_problems_refuse_it_before_its_peers_are_read(example):
    problem = Problem(str(CONFIG / "central" / "sharing.yaml"), "Import/bookinfo/reviews", "spec", "bad")

    def unread(peer: str):
        raise AssertionError(f"read {peer}")

    assert input_refusal(example, "central", [problem], unread, frozenset()) == f"invalid fabric input:\n{problem}"
    assert input_refusal(example, "cluster1", [], unread, frozenset()) is None  # Lattice: no peers to read here


def test_an_importer_of_peers_not_deployed_is_checked_against_their_manifests(example):
    read: list[str] = []
    assert input_refusal(example, "central", [], lambda peer: read.append(peer), frozenset()) is None
    assert read == example.import_peers("central")
    read.clear()
    assert input_refusal(example, "central", [], lambda peer: read.append(peer), frozenset({"east", "west"})) is None
    assert read == []  # planned peers are read from their manifests


def removed_stacks_fabric(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reads: dict[str, set[str]]):
    """A fabric of `east` alone whose backend holds the stacks of `reads` (stack -> the stacks its state reads)."""
    from clusterfabric.runner import fabric as runner
    from clusterfabric.runner.init import init_fabric

    init_fabric(tmp_path)
    fabric = runner.Fabric(tmp_path)
    monkeypatch.setattr(runner, "check_backend", lambda env: None)
    monkeypatch.setattr(fabric, "_backend_stacks", lambda: sorted(reads))
    monkeypatch.setattr(fabric, "_referenced", lambda stack: reads[stack])
    destroyed: list[str] = []
    monkeypatch.setattr(fabric, "_destroy_removed_stack",
                        lambda stack, refusal: refusal or destroyed.append(stack) or "destroyed")
    return fabric, destroyed


def test_a_removed_cluster_is_not_destroyed_while_a_cluster_of_the_fabric_still_reads_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    fabric, destroyed = removed_stacks_fabric(tmp_path, monkeypatch, {"east": {"gone"}, "gone": set()})
    assert fabric.destroy_removed().stacks == [
        "refusing to destroy 'gone': east still reads it (imports, certificates or service networks); destroy them "
        "too, change them first, or use --force"]
    assert destroyed == []


def test_removed_clusters_that_read_each_other_are_destroyed_readers_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    fabric, destroyed = removed_stacks_fabric(tmp_path, monkeypatch,
                                              {"east": set(), "a": {"b"}, "b": set(), "c": {"a"}})
    fabric.destroy_removed()
    assert destroyed == ["c", "a", "b"]
