"""A fabric repository of a team's own: which Pulumi project a fabric's stacks live in, what `clusterfabric init`
writes, and how a move from the checkout's project rewrites a stack's state (the engine runs of these are
tests/engine/test_adoption.py and test_stack_move.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from clusterfabric.runner import cli
from clusterfabric.runner.init import init_fabric
from clusterfabric.runner.project import NoProjectError, project_of
from clusterfabric.runner.stack_move import moved_state, stacks_elsewhere
from clusterfabric.toolchain import PROJECT_DIR


def clusterfabric(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "clusterfabric", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_a_config_folder_is_deployed_by_the_project_beside_it():
    assert project_of(PROJECT_DIR / "config") == PROJECT_DIR


def test_a_fabric_repository_is_its_own_project(tmp_path: Path):
    init_fabric(tmp_path)
    assert project_of(tmp_path) == tmp_path


def test_a_fabric_without_a_project_is_refused_with_the_command_that_makes_one(tmp_path: Path):
    fabric = tmp_path / "iperf3"
    subprocess.run(["cp", "-r", str(PROJECT_DIR / "examples" / "iperf3"), str(fabric)], check=True)
    done = clusterfabric("preview", "--fabric", "iperf3", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith(f"clusterfabric: {fabric}: no Pulumi project deploys this fabric")
    assert f"`clusterfabric init {fabric}` makes it one" in done.stderr
    with pytest.raises(NoProjectError):
        project_of(PROJECT_DIR / "examples" / "iperf3")  # never the checkout's: another fabric's stacks live there


def test_init_writes_a_fabric_repository_that_validates(tmp_path: Path):
    repository = tmp_path / "Platform Fabric"
    done = clusterfabric("init", str(repository), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "wrote fabric.yaml"
    written = sorted(str(p.relative_to(repository)) for p in repository.rglob("*") if p.is_file())
    assert written == [".github/actions/comment-artifact/action.yml", ".github/actions/publish/action.yml",
                       ".github/actions/toolchain/action.yml", ".github/workflows/deploy.yml",
                       ".github/workflows/drift.yml", ".github/workflows/fabric-stacks.yml",
                       ".github/workflows/pr-comment.yml", ".github/workflows/pr-preview.yml", ".gitignore",
                       "Pulumi.yaml", "__main__.py", "east/README.md", "fabric.yaml"]
    project = yaml.safe_load((repository / "Pulumi.yaml").read_text())
    assert (project["name"], project["runtime"], project["backend"]) == (
        "platform-fabric", {"name": "python", "options": {"toolchain": "pip"}}, {"url": "file://./.pulumi/state"})
    assert yaml.safe_load((repository / "fabric.yaml").read_text())["name"] == "platform-fabric"
    assert clusterfabric("validate", cwd=repository).stdout == ".: valid\n"


def test_the_readmes_quick_start_runs_the_commands_the_cli_takes():
    readme = (PROJECT_DIR / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    [block] = re.findall(r"```sh\n(.*?)```", quick_start, re.S)
    commands = [line.split("#", 1)[0].split()[1:] for line in block.splitlines() if line.startswith("clusterfabric ")]
    assert commands == [["init"], ["validate"], ["up"]]
    for args in commands:
        cli._parser().parse_args(args)


def test_init_keeps_every_file_already_there(tmp_path: Path):
    (tmp_path / "fabric.yaml").write_text("name: ours\nclusters:\n  - name: a\n    dataplane: clusterlink\n")
    (tmp_path / ".gitignore").write_text("/secrets/\n")
    written = {str(w.path.relative_to(tmp_path)): w.kept for w in init_fabric(tmp_path)}
    assert written["fabric.yaml"] and written[".gitignore"] and not written["a/README.md"]
    assert (tmp_path / "fabric.yaml").read_text().startswith("name: ours\n")
    assert (tmp_path / ".gitignore").read_text() == "/secrets/\n"
    again = init_fabric(tmp_path)
    assert all(w.kept for w in again)


def test_the_workflows_init_writes_are_this_repositorys_own(tmp_path: Path):
    init_fabric(tmp_path)
    github = PROJECT_DIR / ".github"
    shipped = [p for p in [*github.glob("workflows/*.yml"), *github.glob("actions/*/action.yml")]
               if p.parent.name != "toolchain" and p.name != "fabric-stacks.yml"]
    assert len(shipped) == 6  # four workflows, two actions
    for path in shipped:
        assert (tmp_path / path.relative_to(PROJECT_DIR)).read_text() == path.read_text()


def test_the_stack_workflow_init_writes_is_the_new_fabrics_own_graph(tmp_path: Path):
    init_fabric(tmp_path)
    done = clusterfabric("graph", "--format", "github-actions", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / ".github" / "workflows" / "fabric-stacks.yml").read_text() == done.stdout
    assert list(yaml.safe_load(done.stdout)["jobs"]) == ["east"]


def test_the_toolchain_action_installs_this_version_and_the_versions_it_pins(tmp_path: Path):
    init_fabric(tmp_path)
    steps = yaml.safe_load((tmp_path / ".github" / "actions" / "toolchain" / "action.yml").read_text())["runs"]["steps"]
    script = "\n".join(step.get("run", "") for step in steps)
    assert f"clusterfabric=={metadata.version('clusterfabric')}" in script
    assert f"pulumi plugin install resource kubernetes {metadata.version('pulumi-kubernetes')}" in script
    assert f"pulumi plugin install resource aws {metadata.version('pulumi-aws')}" in script
    assert [s["with"]["pulumi-version"] for s in steps if s.get("uses", "").startswith("pulumi/actions@")] == [
        metadata.version("pulumi")]


def test_the_gitignore_keeps_local_state_settings_and_rendered_secrets_out_of_git(tmp_path: Path):
    init_fabric(tmp_path)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    paths = [".pulumi/passphrase", ".pulumi/state/.pulumi/stacks/f/east.json", ".apiservers/east/kubeconfig",
             "Pulumi.east.yaml",
             "rendered/east/1-manifest/v1-secret-clusterlink-system-cl-ca.yaml",
             "rendered/east/1-manifest/v1-service-default-iperf3-server.yaml", "east/export.yaml", "Pulumi.yaml"]
    ignored = subprocess.run(["git", "check-ignore", "--no-index", *paths], cwd=tmp_path, capture_output=True,
                             text=True).stdout.split()
    assert ignored == paths[:5]


def test_the_default_fabric_of_a_command_is_the_current_directory_when_it_holds_a_fabric_yaml(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    init_fabric(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert cli._parser().parse_args(["validate"]).fabric == Path(".")
    monkeypatch.chdir(PROJECT_DIR)
    assert cli._parser().parse_args(["validate"]).fabric == Path("config")


STATE = {
    "deployment": {"resources": [
        {"urn": "urn:pulumi:client::clusterfabric::pulumi:pulumi:Stack::clusterfabric-client",
         "type": "pulumi:pulumi:Stack"},
        {"urn": "urn:pulumi:client::clusterfabric::pulumi:pulumi:StackReference::organization/clusterfabric/server",
         "type": "pulumi:pulumi:StackReference", "id": "organization/clusterfabric/server",
         "parent": "urn:pulumi:client::clusterfabric::pulumi:pulumi:Stack::clusterfabric-client",
         "inputs": {"name": "organization/clusterfabric/server"},
         "outputs": {"name": "organization/clusterfabric/server", "outputs": {"x": "clusterfabric"}}},
        {"urn": "urn:pulumi:client::clusterfabric::clusterfabric:index:Cluster$pulumi:providers:kubernetes::client-k",
         "type": "pulumi:providers:kubernetes", "id": "0a",
         "inputs": {"renderYamlToDirectory": "/old/rendered/client"},
         "outputs": {"renderYamlToDirectory": "/old/rendered/client"}},
        {"urn": "urn:pulumi:client::clusterfabric::clusterfabric:index:Cluster$kubernetes:core/v1:Service::client-s",
         "type": "kubernetes:core/v1:Service", "id": "default/s", "inputs": {"metadata": {"name": "clusterfabric"}},
         "provider": "urn:pulumi:client::clusterfabric::clusterfabric:index:Cluster$pulumi:providers:kubernetes"
                     "::client-k::0a"},
    ]}}


def test_a_moved_state_names_the_new_project_in_every_urn_and_stack_reference():
    moved = moved_state(STATE, "client", ("clusterfabric", "team"), (Path("/old/rendered/client"),
                                                                    Path("/new/rendered/client")))
    stack, reference, provider, service = moved["deployment"]["resources"]
    assert stack["urn"] == "urn:pulumi:client::team::pulumi:pulumi:Stack::team-client"
    assert reference["urn"] == "urn:pulumi:client::team::pulumi:pulumi:StackReference::organization/team/server"
    assert (reference["id"], reference["inputs"]["name"], reference["outputs"]["name"], reference["parent"]) == (
        "organization/team/server", "organization/team/server", "organization/team/server", stack["urn"])
    assert reference["outputs"]["outputs"] == {"x": "clusterfabric"}  # what the stack read is its own
    assert provider["inputs"] == provider["outputs"] == {"renderYamlToDirectory": "/new/rendered/client"}
    assert service["provider"] == ("urn:pulumi:client::team::clusterfabric:index:Cluster$pulumi:providers:"
                                   "kubernetes::client-k::0a")
    assert service["inputs"] == {"metadata": {"name": "clusterfabric"}}  # a value that is no URN stays


def test_the_stacks_elsewhere_are_those_whose_settings_name_the_fabric(tmp_path: Path):
    old, fabric = tmp_path / "checkout", tmp_path / "team"
    (old / "stacks").mkdir(parents=True)
    fabric.mkdir()
    (old / "Pulumi.yaml").write_text("name: clusterfabric\nruntime: python\nstackConfigDir: stacks\n")
    for stack, named in (("server", "../team"), ("client", str(fabric)), ("east", "config"), ("other", "../team")):
        (old / "stacks" / f"Pulumi.{stack}.yaml").write_text(f"config:\n  clusterfabric:fabric: {named}\n")
    assert stacks_elsewhere(old, fabric, {"server", "client", "east"}) == ["client", "server"]
