"""Which stacks a change affects, for a fabric in the program's checkout or in a repository of its own."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from clusterfabric.gitops.comment import GitError, changed_stacks
from clusterfabric.toolchain import PROJECT_DIR
from clusterfabric.components.model import dependencies, load_fabric


def git(directory: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args], cwd=directory, check=True,
                   capture_output=True)


@pytest.fixture(params=[".", "fabrics/prod"], ids=["fabric-is-the-repository", "fabric-in-a-folder"])
def config_repository(request, tmp_path: Path) -> Path:
    """The example fabric in a configuration repository of its own, outside the program's checkout."""
    repo = tmp_path / "config-repo"
    fabric_dir = repo / request.param
    shutil.copytree(PROJECT_DIR / "config", fabric_dir)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "fabric")
    return fabric_dir


def test_a_fabric_outside_the_checkout_reports_the_stacks_its_change_affects(config_repository: Path):
    with (config_repository / "central" / "sharing.yaml").open("a") as f:
        f.write("\n# touched\n")
    fabric = load_fabric(config_repository)
    assert changed_stacks(fabric, PROJECT_DIR, config_repository, "main") == {"central"}


def test_a_changed_cluster_entry_of_an_outside_fabric_marks_that_stack(config_repository: Path):
    path = config_repository / "fabric.yaml"
    path.write_text(path.read_text().replace("labels: {region: us-west, env: prod}",
                                             "labels: {region: us-west, env: staging}"))
    fabric = load_fabric(config_repository)
    assert changed_stacks(fabric, PROJECT_DIR, config_repository, "main") == {"west"}


def test_an_unchanged_outside_fabric_affects_no_stack(config_repository: Path):
    fabric = load_fabric(config_repository)
    assert changed_stacks(fabric, PROJECT_DIR, config_repository, "main") == set()


def test_a_comment_over_githubs_limit_is_cut_at_a_line_with_its_blocks_closed():
    from clusterfabric.gitops.comment import LIMIT, capped

    body = "\n".join(["<details><summary>east</summary>", "", "```diff"] + [f"+ resource {i}" for i in range(9000)])
    text = capped(body)
    assert len(text) <= LIMIT
    assert text.count("```") % 2 == 0 and text.count("<details") == text.count("</details>")
    assert "reached GitHub's limit of 65,536 characters" in text
    assert capped("short") == "short"


def test_a_comment_with_nothing_changed_says_so_instead_of_an_empty_table():
    from clusterfabric.gitops.comment import render
    from clusterfabric.runner.results import FabricResult

    text = render(FabricResult("preview", []), load_fabric(PROJECT_DIR / "config"), set(), "origin/main")
    assert "No stack's inputs changed since `origin/main`: nothing to preview." in text
    assert "| stack |" not in text


def test_advisories_on_objects_the_change_leaves_alone_are_counted_not_listed():
    from clusterfabric.gitops.comment import render
    from clusterfabric.runner.results import FabricResult, StackResult

    central = StackResult("central", "preview", "succeeded", changes={"update": 1}, steps=[
        {"op": "update", "urn": "urn:pulumi:central::p::t::central-import", "type": "t", "diffs": []}], policy=[
        {"policy": "p1", "level": "advisory", "resource": "central-import", "message": "about the change"},
        {"policy": "p2", "level": "advisory", "resource": "central-peer-east", "message": "about an old object"}])
    text = render(FabricResult("preview", [central]), load_fabric(PROJECT_DIR / "config"), {"central"}, "main")
    assert "about the change" in text and "about an old object" not in text
    assert "and 1 advisories on objects this change leaves as they are" in text


def test_a_base_that_is_no_commit_of_the_repository_is_named_with_how_to_fetch_it(config_repository: Path):
    repository = config_repository if config_repository.name == "config-repo" else config_repository.parents[1]
    with pytest.raises(GitError) as refused:
        changed_stacks(load_fabric(config_repository), PROJECT_DIR, config_repository, "origin/main")
    assert str(refused.value) == (
        f"--base origin/main: no such commit in the repository at {repository.resolve()} (a branch of the remote may "
        "need `git fetch` first, e.g. `git fetch origin main` for --base origin/main)")


def test_a_clusterlink_peer_added_changes_the_ca_owner_that_issues_its_certificate(config_repository: Path):
    path = config_repository / "fabric.yaml"
    path.write_text(path.read_text().replace("  # VPC Lattice:", "  - name: north\n    dataplane: clusterlink\n"
                                             "  # VPC Lattice:"))
    (config_repository / "north").mkdir()
    fabric = load_fabric(config_repository)
    assert changed_stacks(fabric, PROJECT_DIR, config_repository, "main") == {"north", "east"}


def test_a_lattice_cluster_added_leaves_the_ca_owner_alone(config_repository: Path):
    path = config_repository / "fabric.yaml"
    text = path.read_text()
    cluster3 = text[text.index("  - name: cluster3"):]
    path.write_text(text + cluster3.replace("cluster3", "cluster4"))
    (config_repository / "cluster4").mkdir()
    fabric = load_fabric(config_repository)
    assert changed_stacks(fabric, PROJECT_DIR, config_repository, "main") == {"cluster4"}


@pytest.fixture(scope="module")
def ring(tmp_path_factory: pytest.TempPathFactory):
    """A ClusterLink fabric where each cluster imports from the three after it: c003 from c004, c005 and c000."""
    from bench.generate import Shape, generate

    return load_fabric(generate(tmp_path_factory.mktemp("ring") / "fabric", Shape(6, 2, 3, "clusterlink")))


def test_a_clusterlink_change_reaches_the_clusters_importing_from_it_not_their_importers(ring):
    assert dependencies(ring).affected({"c003"}) == {"c000", "c001", "c002", "c003"}


def test_a_change_of_the_ca_owner_reaches_every_clusterlink_stack_its_certificates_go_to(ring):
    assert dependencies(ring).affected({"c000"}) == {"c000", "c001", "c002", "c003", "c004", "c005"}
