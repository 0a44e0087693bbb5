"""Removals in a safe order, on the engine: a pull request, replayed as CI runs it, that removes west's export
bookinfo/details and central's Import of it. Merged and deployed as the deploy workflow does (the stacks the change
affects, `python -m clusterfabric.gitops.changed`, brought up together), central, the importer, goes first, then
west, so at no moment does a deployed Import name a missing export; west alone is refused while central's
deployed Import still names it.

Once for the module: the example's ClusterLink stacks up from a checkout (rendered), the change committed, a fresh
clone where the next runner checks out.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from clusterfabric import Fabric
from clusterfabric.components.model import load_fabric
from clusterfabric.gitops.comment import changed_stacks
from clusterfabric.toolchain import pulumi_env
from tests.example_fabric import EXAMPLE_STACKS, keep_clusters
from tests.pull_request_replay import fresh_clone, git, origin_repository, shared_backend

pytestmark = pytest.mark.slow  # the real engine

DETAILS_EXPORT = "apiVersion: clusterlink.net/v1alpha1\nkind: Export\nmetadata:\n  name: details\n  namespace: bookinfo\n" \
                 "spec:\n  port: 9080\n---\n"
DETAILS_IMPORT = ("apiVersion: clusterlink.net/v1alpha1\nkind: Import\nmetadata:\n  name: details\n  namespace: bookinfo\n"
                  "  labels:\n    import.clusterlink.net/merge: true\nspec:\n  port: 9080\n  sources:\n"
                  "    - exportName: details\n      exportNamespace: bookinfo\n      peer: west\n---\n")


def without(path: Path, text: str) -> None:
    content = path.read_text()
    assert text in content, f"{path} no longer holds the text this test removes"
    path.write_text(content.replace(text, ""))


@pytest.fixture(scope="module")
def removal(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("removal")
    origin, base = origin_repository(root, lambda program: keep_clusters(program / "config", EXAMPLE_STACKS))
    env = {**pulumi_env(origin), **shared_backend(root)}
    checkout = fresh_clone(root, origin)
    up = Fabric("config", project_dir=checkout, env=env).up()
    assert up.ok, [(s.stack, s.message) for s in up.stacks]

    without(origin / "config" / "west" / "sharing.yaml", DETAILS_EXPORT)
    without(origin / "config" / "central" / "sharing.yaml", DETAILS_IMPORT)
    git(origin, "commit", "-q", "-am", "stop sharing details")
    git(checkout, "pull", "-q")
    events: list[tuple[float, str, str]] = []

    def fabric() -> Fabric:
        return Fabric("config", project_dir=checkout, env=env,
                      on_event=lambda e: events.append((time.monotonic(), e.stack, e.kind)) if e.kind in (
                          "started", "finished") else None)

    affected = sorted(changed_stacks(load_fabric(checkout / "config"), checkout, checkout / "config", base))
    result: dict[str, Any] = {"affected": affected, "west alone": fabric().up(["west"]).stack("west")}
    events.clear()
    result["preview"] = fabric().preview(affected)
    result["preview events"] = list(events)
    events.clear()
    result["up"] = fabric().up(affected)  # what deploy.yml runs: `clusterfabric up --stack ...` of the changed
    result["up events"] = list(events)
    result["west after"] = Fabric("config", project_dir=checkout, env=env).deployed_outputs("west")
    return result


def moments(events: list[tuple[float, str, str]]) -> list[tuple[str, str]]:
    return [(stack, kind) for _, stack, kind in sorted(events)]


def test_an_exporter_alone_is_refused_while_a_deployed_import_still_names_what_it_removes(removal):
    west = removal["west alone"]
    assert west.result == "refused"
    assert west.message.splitlines() == [
        "refusing to remove what 'west' exports while a deployed import still names it: up the importer first, or "
        "both in one run (importers go first); --force to do it anyway:",
        "  central still imports bookinfo/details (deployed)"]


def test_the_importer_comes_up_before_the_exporter_removes_what_it_imported(removal):
    assert removal["affected"] == ["central", "west"]
    up = removal["up"]
    assert [(s.stack, s.result) for s in up.stacks] == [("central", "succeeded"), ("west", "succeeded")]
    # central's up, which deletes its Import, ends before west's, which deletes the export, begins.
    assert moments(removal["up events"]) == [("central", "started"), ("central", "finished"), ("west", "started"),
                                             ("west", "finished")]
    assert {e["name"] for e in removal["west after"]["clusterlink"]["exports"]} == {"reviews"}
    assert removal["west after"]["importedExports"] == {}


def test_the_preview_of_the_change_runs_in_the_same_order_and_refuses_nothing(removal):
    preview = removal["preview"]
    assert [(s.stack, s.result) for s in preview.stacks] == [("central", "succeeded"), ("west", "succeeded")]
    assert moments(removal["preview events"])[:2] == [("central", "started"), ("central", "finished")]
