"""The fabric layer on the real engine: whole-fabric runs, parallelism, safe deletion, PR previews, embedding."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from clusterfabric import Fabric
from clusterfabric.gitops.comment import MARKER, changed_stacks, pr_comment
from clusterfabric.toolchain import PROJECT_DIR
from clusterfabric.components.model import InputError
from tests.example_fabric import unchanged
from tests.pulumi_project import copy_program, point_at_venv

pytestmark = pytest.mark.slow  # the real engine, API servers or ClusterLink's binaries

CLUSTERLINK = ["east", "west", "central"]


def git(directory: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=directory, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Fabric, object]:
    """A copy of the project under git, its whole fabric brought up once, serially."""
    directory = copy_program(tmp_path_factory.mktemp("fabric") / "project")
    git(directory, "init", "-q", "-b", "main")
    git(directory, "-c", "user.email=t@example.com", "-c", "user.name=t", "add", "-A")
    git(directory, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "-m", "fabric")
    fabric = Fabric("config", project_dir=directory)
    return fabric, fabric.up()


def rendered(directory: Path) -> dict[str, dict]:
    """Every rendered object but the Secrets (their certificates differ between fabrics by design)."""
    objects = {}
    for path in sorted((directory / "rendered").rglob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        if doc["kind"] != "Secret":
            objects[str(path.relative_to(directory))] = doc
    return objects


def test_whole_fabric_comes_up_in_dependency_order(deployed):
    _, result = deployed
    assert [s.stack for s in result.stacks] == ["east", "cluster1", "west", "cluster2", "central", "cluster3"]
    assert {s.stack: s.result for s in result.stacks} == {
        "east": "succeeded", "west": "succeeded", "central": "succeeded",
        "cluster1": "planned offline", "cluster2": "planned offline", "cluster3": "planned offline"}
    assert result.stack("central").changes["create"] == 36  # 29 resources and 7 components: 3 Imports, 2 Peers, 2 AccessPolicies


def test_second_up_of_the_whole_fabric_changes_nothing(deployed):
    fabric, _ = deployed
    again = fabric.up(CLUSTERLINK)
    assert [(s.stack, s.result, set(s.changes)) for s in again.stacks] == [
        (stack, "succeeded", unchanged(stack)) for stack in CLUSTERLINK]


def test_embedding_example_runs_in_parallel_and_gives_the_serial_result(deployed, tmp_path: Path):
    serial_dir = deployed[0].project_dir
    directory = copy_program(tmp_path / "parallel")
    done = subprocess.run([sys.executable, str(PROJECT_DIR / "examples" / "embed_fabric.py"), str(directory)],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "central: succeeded, 36 created in" in done.stdout
    assert rendered(directory).keys() == rendered(serial_dir).keys()
    assert rendered(directory) == rendered(serial_dir)


def test_removing_an_export_that_another_cluster_imports_is_refused_and_nothing_changes(deployed):
    fabric, _ = deployed
    sharing = fabric.project_dir / "config" / "east" / "sharing.yaml"
    original = sharing.read_text()
    export_file = fabric.project_dir / "rendered" / "east" / "1-manifest" / "clusterlink.net_v1alpha1-export-bookinfo-reviews.yaml"
    before = export_file.read_text()
    sharing.write_text(original.replace("  name: reviews\n  namespace: bookinfo\nspec:\n  port: 9080\n",
                                        "  name: ratings\n  namespace: bookinfo\nspec:\n  port: 9080\n  host: reviews.bookinfo.svc.cluster.local\n"))
    try:
        with pytest.raises(InputError) as err:
            fabric.up(["east"])
        assert [str(p).replace(f"{fabric.project_dir}/", "") for p in err.value.problems] == [
            "config/central/sharing.yaml: Import/bookinfo/reviews: spec.sources[0].exportName: peer 'east' exports no "
            "bookinfo/reviews (its exports: bookinfo/ratings, default/iperf3-server)"]
    finally:
        sharing.write_text(original)
    assert export_file.read_text() == before
    assert fabric.preview(["east"]).stack("east").changes == {"same": 36}


def test_destroying_a_stack_others_read_is_refused_naming_them(deployed):
    fabric, _ = deployed
    result = fabric.destroy(["east"])
    [east] = result.stacks
    assert east.result == "refused"
    assert east.message.startswith("refusing to destroy 'east': central, west still read it")
    assert (fabric.project_dir / "rendered" / "east").is_dir()


def test_a_changed_manifest_previews_exactly_its_stack_and_the_stacks_that_read_it(deployed):
    fabric, _ = deployed
    model = fabric.load()
    central = fabric.project_dir / "config" / "central" / "sharing.yaml"
    east = fabric.project_dir / "config" / "east" / "services.yaml"
    for path, expected in ((central, {"central"}), (east, {"east", "west", "central"})):
        original = path.read_text()
        path.write_text(original + "\n# touched\n")
        try:
            changed = changed_stacks(model, fabric.project_dir, fabric.fabric_dir, "main")
            assert fabric.graph().dependents(changed) == expected
        finally:
            path.write_text(original)


def test_pr_comment_renders_its_sections_and_marks_the_change_in_the_graph(deployed):
    fabric, _ = deployed
    sharing = fabric.project_dir / "config" / "central" / "sharing.yaml"
    original = sharing.read_text()
    sharing.write_text(original.replace("lbScheme: round-robin", "lbScheme: static"))
    try:
        text, result = pr_comment("config", "main", project_dir=fabric.project_dir)
    finally:
        sharing.write_text(original)
    assert [s.stack for s in result.stacks] == ["central"]
    assert text.startswith(MARKER + "\n## clusterfabric preview")
    assert "| `central` | succeeded | 0 | 1 | 0 | 0 |" in text
    assert ("~ kubernetes:clusterlink.net/v1alpha1:Import central-clusterlink-import-bookinfo-reviews\n"
            "    spec.lbScheme: round-robin -> static") in text
    assert "Policy packs: `policy`." in text and "No policy violations." in text
    for section in ("### Policy results", "### Warnings", "### Fabric", "```mermaid"):
        assert section in text
    assert "class n_central changed" in text and 'n_central["central (changed)"]' in text


def test_fabric_preview_applies_the_policy_pack_and_reports_its_results(deployed):
    fabric, _ = deployed
    result = fabric.preview(["central", "west"])
    central, west = result.stack("central"), result.stack("west")
    assert central.result == west.result == "succeeded"
    assert [(p["policy"], p["level"]) for p in west.policy] == [("clusterlink-namespaced-sharing", "advisory")]


def test_a_mandatory_policy_violation_fails_the_stacks_preview_naming_the_policy(deployed, tmp_path: Path):
    # Input that breaks a mandatory rule is refused by validate first; so the rule west breaks as advisory
    # (its PrivilegedAccessPolicy) is made mandatory in a copy of the pack.
    fabric, _ = deployed
    pack = tmp_path / "policy"
    shutil.copytree(PROJECT_DIR / "policy", pack, ignore=shutil.ignore_patterns("__pycache__"))
    point_at_venv(pack / "PulumiPolicy.yaml")
    main = pack / "__main__.py"
    text, made_mandatory = re.subn(r'(sharing stays namespaced\.",\s*)ADVISORY', r"\1MANDATORY", main.read_text())
    assert made_mandatory == 1
    main.write_text(text)
    strict = Fabric("config", project_dir=fabric.project_dir, policy_packs=[str(pack)])
    west = strict.preview(["west"]).stack("west")
    assert west.result == "failed"
    assert west.message.startswith("[mandatory] clusterlink-namespaced-sharing: No PrivilegedAccessPolicy")


def test_refresh_compares_rendered_manifests_with_the_state(deployed):
    fabric, _ = deployed
    result = fabric.refresh()
    assert result.ok
    assert {s.stack: (s.result, s.drift) for s in result.stacks if s.stack in CLUSTERLINK} == {
        s: ("succeeded", []) for s in CLUSTERLINK}
    assert result.stack("east").message == "renders its manifests: compared them with the state, no drift"
    assert result.stack("cluster1").result == "not applicable"  # no AWS plugin here


def test_hand_edited_and_deleted_manifests_are_found_and_restored_by_up(deployed):
    fabric, _ = deployed
    manifests = fabric.project_dir / "rendered" / "central" / "1-manifest"
    edited = manifests / "clusterlink.net_v1alpha1-import-bookinfo-reviews.yaml"
    deleted = manifests / "clusterlink.net_v1alpha1-peer-clusterlink-system-east.yaml"
    original_edited, original_deleted = edited.read_text(), deleted.read_text()
    edited.write_text(original_edited.replace("lbScheme: round-robin", "lbScheme: static"))
    deleted.unlink()

    [refreshed] = fabric.refresh(["central"]).stacks
    assert sorted(refreshed.drift) == [
        f"rendered manifest (missing) (Peer/clusterlink-system/east) was deleted by hand; `up` restores it",
        f"rendered manifest {edited} (Import/bookinfo/reviews) was edited by hand; `up` restores it",
    ]
    [previewed] = fabric.preview(["central"]).stacks
    assert len(previewed.drift) == 2 and any("was edited by hand" in w for w in previewed.warnings)

    [restored] = fabric.up(["central"]).stacks
    assert restored.result == "succeeded" and restored.message == "restored 2 hand-changed manifests"
    assert edited.read_text() == original_edited and deleted.read_text() == original_deleted
    assert fabric.refresh(["central"]).stacks[0].drift == []
