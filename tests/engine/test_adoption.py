"""A team adopts clusterfabric as a tool, not a checkout: the wheel built from this repository, installed into a
fresh virtualenv (its pinned dependencies from the wheels `scripts/setup test` downloaded, no network), used in a
git repository of the team's own outside the checkout, nothing of the checkout on `sys.path`.

The run, once for the module (each test reads what it did): `clusterfabric init`, validate, up (the template's
ClusterLink cluster `east`); a pull request adding the seeds' iperf3 Export and Import (clusters `server` and
`client`), its comment, up; `pulumi preview --stack server` there, the "pulumi up per cluster" way; a second
fabric also with a cluster `east`, up and destroyed beside the first; destroy. The Pulumi CLI and the Kubernetes
provider are the ones scripts/setup built, as a team installs them (PATH, PULUMI_HOME).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from clusterfabric.toolchain import PROJECT_DIR, TOOLS

pytestmark = pytest.mark.slow  # the real engine

SEEDS = PROJECT_DIR / "examples" / "iperf3"
"""The seeds' iperf3 example: server exports iperf3-server, client imports it (ClusterLink's documentation)."""


def run(args: list[str], cwd: Path, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def git(repo: Path, *args: str) -> str:
    return run(["git", "-c", "user.email=team@example.com", "-c", "user.name=team", *args], repo,
               dict(os.environ)).stdout


def rendered_folder(folder: Path) -> tuple[list[str], list[str]]:
    """(what its kustomization.yaml lists, the manifest files there): what Argo CD or Flux builds it from."""
    listed = yaml.safe_load((folder / "kustomization.yaml").read_text())["resources"]
    return sorted(listed), sorted(str(p.relative_to(folder)) for p in folder.rglob("*.yaml")
                                  if p.name != "kustomization.yaml")


@pytest.fixture(scope="module")
def adopted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("adoption")
    wheels = TOOLS / "wheels"
    assert wheels.is_dir(), "scripts/setup test downloads the pinned packages' wheels into .tools/wheels"
    built = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--disable-pip-version-check",
                 "-w", str(work / "dist"), str(PROJECT_DIR)], work, dict(os.environ))
    shutil.rmtree(PROJECT_DIR / "build", ignore_errors=True)  # setuptools' scratch copy, not the checkout's
    [wheel] = (work / "dist").glob("clusterfabric-*.whl")
    venv = work / "venv"
    run([sys.executable, "-m", "venv", str(venv)], work, dict(os.environ))
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "--no-index",
         "--no-compile", "--find-links", str(wheels), str(wheel)], work, dict(os.environ))
    # The team's machine: the venv and the Pulumi CLI on PATH, the Kubernetes provider in PULUMI_HOME.
    env = {"PATH": os.pathsep.join([str(venv / "bin"), str(TOOLS / "bin"), "/usr/bin", "/bin"]),
           "HOME": str(work / "home"), "PULUMI_HOME": os.environ.get("PULUMI_HOME", str(PROJECT_DIR / ".pulumi" / "home")),
           "PULUMI_SKIP_UPDATE_CHECK": "true", "LANG": "C.UTF-8"}
    repo = work / "platform-fabric"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    result: dict[str, Any] = {"wheel": wheel, "venv": venv, "repo": repo, "built": built}
    cli = str(venv / "bin" / "clusterfabric")
    result["init"] = run([cli, "init"], repo, env)
    result["validate"] = run([cli, "validate"], repo, env)
    result["first up"] = run([cli, "up"], repo, env)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "clusterfabric init, east up")
    result["committed"] = git(repo, "ls-files").split()

    # The pull request: the seeds' iperf3 Export and Import, in two new clusters.
    git(repo, "checkout", "-q", "-b", "iperf3")
    spec = yaml.safe_load((repo / "fabric.yaml").read_text())
    spec["clusters"] += yaml.safe_load((SEEDS / "fabric.yaml").read_text())["clusters"]
    (repo / "fabric.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    for cluster in ("server", "client"):
        shutil.copytree(SEEDS / cluster, repo / cluster)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "share iperf3-server from server to client")
    result["comment"] = run([cli, "comment", "--base", "main"], repo, env)
    result["second up"] = run([cli, "up"], repo, env)
    result["client rendered"] = sorted(p.name for p in (repo / "rendered" / "client").rglob("*.yaml"))
    passphrase = {**env, "PULUMI_CONFIG_PASSPHRASE_FILE": str(repo / ".pulumi" / "passphrase")}
    result["pulumi preview"] = run(["pulumi", "preview", "--stack", "server", "--non-interactive"], repo, passphrase)
    result["imports"] = run([str(venv / "bin" / "python"), "-c", "import sys, clusterfabric, importlib.util; "
                             "print(clusterfabric.__file__); print(importlib.util.find_spec('components')); "
                             "print([p for p in sys.path if p.startswith(sys.argv[1])])", str(PROJECT_DIR)], repo, env)

    # A second fabric of the team, also with a cluster east: its own stacks, beside the first's.
    other = work / "lab-fabric"
    result["other"] = other
    result["other up"] = run([cli, "init", str(other)], work, env) and run([cli, "up"], other, env)
    result["other destroy"] = run([cli, "destroy", "--yes"], other, env)
    result["preview after the other's destroy"] = run([cli, "preview", "--stack", "east"], repo, env)

    result["destroy"] = run([cli, "destroy", "--yes"], repo, env)
    result["rendered after destroy"] = {s: rendered_folder(repo / "rendered" / s) for s in ("east", "server", "client")}
    result["stacks after destroy"] = json.loads(run(["pulumi", "stack", "ls", "--json"], repo, passphrase).stdout)
    result["resources after destroy"] = {
        s: json.loads(run(["pulumi", "stack", "export", "--stack", s], repo, passphrase).stdout)["deployment"]
        .get("resources") or [] for s in ("east", "server", "client")}
    return result


def test_the_wheel_installs_the_program_without_a_top_level_components_module(adopted):
    installed, components, from_checkout = adopted["imports"].stdout.splitlines()
    assert installed == str(adopted["venv"] / "lib" / "python3.11" / "site-packages" / "clusterfabric" / "__init__.py")
    assert components == "None"  # `components` belongs to everyone: not installed
    assert from_checkout == "[]"


def test_init_makes_a_repository_that_validates_and_comes_up(adopted):
    assert adopted["validate"].stdout.strip() == ".: valid"
    assert "east   succeeded" in adopted["first up"].stdout
    committed = set(adopted["committed"])
    assert {"fabric.yaml", "Pulumi.yaml", "__main__.py", ".gitignore", "east/README.md",
            ".github/workflows/deploy.yml", ".github/workflows/pr-preview.yml", ".github/workflows/pr-comment.yml",
            ".github/actions/toolchain/action.yml", ".github/actions/comment-artifact/action.yml"} <= committed
    # The rendered manifests are committed, their Secrets, the stacks' settings and the local state are not.
    assert any(p.startswith("rendered/east/1-manifest/") for p in committed)
    assert [p for p in committed if "v1-secret-" in p or p.startswith(".pulumi/") or p.startswith("Pulumi.east")] == []


def test_the_pull_requests_comment_previews_the_clusters_it_adds_and_the_ca_that_certifies_them(adopted):
    comment = adopted["comment"].stdout
    # east, the fabric CA's owner, issues the new peers' certificates: its inputs changed too.
    assert "Changed since `main`: `client`, `east`, `server`" in comment
    rows = {line.split("|")[1].strip(): [cell.strip() for cell in line.split("|")[2:-1]]
            for line in comment.splitlines() if line.startswith("| `")}
    assert set(rows) == {"`east`", "`server`", "`client`"}
    assert all(cells[0] == "succeeded" for cells in rows.values()), rows


def test_the_second_up_brings_up_the_share(adopted):
    lines = {line.split()[0]: line.split() for line in adopted["second up"].stdout.splitlines()
             if line.split() and line.split()[0] in ("east", "server", "client")}
    assert lines["east"][1:3] == ["succeeded", "2"]  # a certificate for each new peer, from the fabric CA
    assert lines["server"][1] == lines["client"][1] == "succeeded"
    assert int(lines["server"][2]) > 0 and int(lines["client"][2]) > 0
    assert "clusterlink.net_v1alpha1-import-default-iperf3-server.yaml" in adopted["client rendered"]


def test_pulumi_up_per_cluster_runs_the_installed_program_in_the_repository(adopted):
    assert "unchanged" in adopted["pulumi preview"].stdout and "to create" not in adopted["pulumi preview"].stdout


def test_two_fabrics_with_a_cluster_of_the_same_name_keep_their_own_stacks(adopted):
    assert "east   succeeded" in adopted["other up"].stdout
    for repo in (adopted["repo"], adopted["other"]):
        assert (repo / "Pulumi.east.yaml").is_file() and (repo / ".pulumi" / "state").is_dir()
    # The other fabric's east was destroyed; this fabric's east still has everything it had.
    preview = adopted["preview after the other's destroy"].stdout
    assert [line.split()[:3] for line in preview.splitlines() if line.startswith("east ")] == [["east", "succeeded", "0"]]


def test_destroy_leaves_no_resource_in_any_stack(adopted):
    assert {s["name"] for s in adopted["stacks after destroy"]} == {"east", "server", "client"}
    assert adopted["resources after destroy"] == {"east": [], "server": [], "client": []}


def test_a_destroyed_stacks_rendered_folder_stays_a_valid_kustomization(adopted):
    # Every file it listed was deleted: it lists none (a listed file missing fails `kubectl kustomize`), and the
    # upstream CRDs it carried for objects now gone went with them.
    assert adopted["rendered after destroy"] == {s: ([], []) for s in ("east", "server", "client")}
